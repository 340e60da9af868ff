import { test, expect, openHydrated, scheduleInBrowser, uniquePlace, addSubscriptionByApi } from './helpers';
import { actionsOutOfLook, brokenTokens } from './readable';

// A dispatcher in the yard: at 390 px no page is wider than the screen (tables scroll inside
// their own box, the header folds away, long words wrap), and at 390 and 1400 px every page
// reads: no id, status, time, number or header is broken letter by letter.
test.use({ user: 'ada', viewport: { width: 390, height: 844 } });

async function pageWidth(page: import('@playwright/test').Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth);
}

/** A shipment in transit with a long note, and a subscription with a failing delivery. */
async function somethingOnEveryPage(page: import('@playwright/test').Page, baseURL: string) {
  const longWord = 'x'.repeat(300);
  const id = await scheduleInBrowser(page, uniquePlace('Yard'), 'Quay');
  await page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(page.getByTestId('version')).toHaveText('2');
  const record = page.getByTestId('record-location-form');
  await record.getByLabel('Location').fill('Gate 4');
  await record.getByLabel('Notes').fill(longWord);
  await record.getByRole('button', { name: 'Record location' }).click();
  await expect(page.getByTestId('version')).toHaveText('3');
  const subscription = await addSubscriptionByApi(page, baseURL, uniquePlace('Yard hook'));
  return ['/', `/shipments/${id}`, '/projections', '/projections/shipment_board', '/users', '/account', '/events', '/subscriptions', `/subscriptions/${subscription}`, '/no/such/page'];
}

test('no page is wider than a phone', async ({ page, baseURL }) => {
  for (const url of await somethingOnEveryPage(page, baseURL!)) {
    await openHydrated(page, url);
    expect(await pageWidth(page), url).toBeLessThanOrEqual(390);
  }
});

test('no short token is broken across lines, on a phone and on a desk', async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const pages = await somethingOnEveryPage(page, baseURL!);
  const anonymous = await (await browser.newContext({ baseURL })).newPage();
  for (const width of [390, 1400]) {
    await page.setViewportSize({ width, height: 900 });
    for (const url of pages) {
      await openHydrated(page, url);
      expect.soft(await brokenTokens(page), `${url} at ${width} px`).toEqual([]);
    }
    await anonymous.setViewportSize({ width, height: 900 });
    await openHydrated(anonymous, '/login');
    expect.soft(await brokenTokens(anonymous), `/login at ${width} px`).toEqual([]);
  }
  await anonymous.context().close();
});

test('every action wears one of three looks, on every page', async ({ page, baseURL }) => {
  const pages = await somethingOnEveryPage(page, baseURL!);
  await page.setViewportSize({ width: 1400, height: 900 });
  for (const url of pages) {
    await openHydrated(page, url);
    // Closed confirmations show only their summary; open them so their buttons count too.
    await page.locator('details.confirm').evaluateAll((all) => all.forEach((d) => d.setAttribute('open', '')));
    expect.soft(await actionsOutOfLook(page), url).toEqual([]);
  }
});

test('on a phone the header is one row and the menu folds out', async ({ page }) => {
  await openHydrated(page, '/');
  const header = page.locator('header.topbar');
  const nav = header.getByRole('link', { name: 'Events' });
  await expect(nav).toBeHidden();
  const height = await header.evaluate((h) => h.getBoundingClientRect().height);
  expect(height).toBeLessThan(64);
  await header.getByText('Menu').click();
  await expect(nav).toBeVisible();
  await nav.click();
  await expect(page).toHaveURL(/\/events$/);
});

test('the board reads as cards on a phone', async ({ page }) => {
  const origin = uniquePlace('Card');
  const id = await scheduleInBrowser(page, origin, 'Deck');
  await expect(async () => {
    await page.goto(`/?q=${encodeURIComponent(origin)}`);
    await expect(page.locator(`tr[data-shipment="${id}"]`)).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 10_000 });
  const card = page.locator(`tr[data-shipment="${id}"]`);
  // One card as wide as the screen allows, every cell on its own line under its column's name.
  const box = (await card.boundingBox())!;
  expect(box.width).toBeGreaterThan(300);
  const origins = card.locator('td[data-label="Origin"]');
  await expect(origins).toHaveText(origin);
  const label = await origins.evaluate((td) => getComputedStyle(td, '::before').content);
  expect(label).toBe('"Origin"');
});
