import { test, expect, openHydrated, scheduleInBrowser, uniquePlace, addSubscriptionByApi } from './helpers';

// A dispatcher in the yard: at 390 px no page is wider than the screen (tables scroll inside
// their own box, the header wraps, long words wrap).
test.use({ user: 'ada', viewport: { width: 390, height: 844 } });

async function pageWidth(page: import('@playwright/test').Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth);
}

test('no page is wider than a phone', async ({ page, baseURL }) => {
  const longWord = 'x'.repeat(300);
  const id = await scheduleInBrowser(page, uniquePlace('Yard'), 'Quay');
  await page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(page.getByTestId('version')).toHaveText('2');
  const record = page.getByTestId('record-location-form');
  await record.getByLabel('Location').fill('Gate 4');
  await record.getByLabel('Notes').fill(longWord);
  await record.getByRole('button', { name: 'Record location' }).click();
  await expect(page.getByTestId('version')).toHaveText('3');
  const subscription = await addSubscriptionByApi(page, baseURL!, uniquePlace('Yard hook'));
  for (const url of ['/', `/shipments/${id}`, '/projections', '/projections/shipment_board', '/users', '/account', '/events', '/subscriptions', `/subscriptions/${subscription}`]) {
    await openHydrated(page, url);
    expect(await pageWidth(page), url).toBeLessThanOrEqual(390);
  }
});
