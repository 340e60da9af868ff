import { test, expect, openHydrated, scheduleInBrowser, uniquePlace } from './helpers';

// Live everywhere: the board and the shipment page follow what others do, without a reload.

async function schedule(page: import('@playwright/test').Page, baseURL: string, origin: string, destination: string) {
  const r = await page.request.post('/api/shipments/schedule', {
    headers: { Accept: 'application/json', Origin: baseURL },
    form: { origin, destination, pickup_at: '2026-12-01T08:00' },
  });
  expect(r.status()).toBe(200);
  return (await r.json()).shipment_id as string;
}

test('the board shows new shipments and changed rows live, within its filters', async ({ page, baseURL }) => {
  const origin = uniquePlace('Livorno');
  await openHydrated(page, `/?q=${encodeURIComponent(origin)}&status=Scheduled`);
  await expect(page.getByTestId('board-empty')).toBeVisible();
  await page.evaluate(() => ((window as any).__noReload = true));

  // Someone else schedules one that matches the filter, and one that does not.
  const id = await schedule(page, baseURL!, origin, 'Genoa');
  await schedule(page, baseURL!, uniquePlace('Elsewhere'), 'Genoa');
  const row = page.locator(`tr[data-shipment="${id}"]`);
  await expect(row).toBeVisible();
  await expect(page.getByTestId('board').locator('tbody tr')).toHaveCount(1);

  // It is picked up: it leaves the Scheduled filter.
  const r = await page.request.post('/api/shipments/pick-up', {
    headers: { Accept: 'application/json', Origin: baseURL! },
    form: { shipment_id: id, expected_version: '1' },
  });
  expect(r.status()).toBe(200);
  await expect(row).toHaveCount(0);

  // Unfiltered by status, the same row shows its new state.
  await openHydrated(page, `/?q=${encodeURIComponent(origin)}`);
  await page.evaluate(() => ((window as any).__noReload = true));
  await expect(row.locator('[data-status]')).toHaveAttribute('data-status', 'InTransit');
  const deliver = await page.request.post('/api/shipments/deliver', {
    headers: { Accept: 'application/json', Origin: baseURL! },
    form: { shipment_id: id, expected_version: '2' },
  });
  expect(deliver.status()).toBe(200);
  await expect(row.locator('[data-status]')).toHaveAttribute('data-status', 'Delivered');
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});

test('a change by someone else is announced next to the actions, which say what no longer works', async ({ page, baseURL }) => {
  const id = await scheduleInBrowser(page, uniquePlace('Bilbao'), 'Seville');
  const r = await page.request.post('/api/shipments/pick-up', {
    headers: { Accept: 'application/json', Origin: baseURL! },
    form: { shipment_id: id, expected_version: '1' },
  });
  expect(r.status()).toBe(200);
  const notice = page.getByTestId('changed-notice');
  await expect(notice).toContainText('1 new event since you opened this page: the shipment is now In transit (version 2)');
  // The notice sits in the actions card, inside a live region.
  await expect(page.locator('section.card', { has: page.getByRole('heading', { name: 'Actions' }) }).getByTestId('changed-notice')).toBeVisible();
  await expect(page.locator('[aria-live="polite"]', { has: notice })).toHaveCount(1);

  // Pick up no longer works; cancelling still does.
  const pickUp = page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' });
  await expect(pickUp).toBeDisabled();
  await expect(page.getByText('Pick up is no longer possible: the shipment is now In transit.')).toBeVisible();
  await page.getByText('Cancel shipment…').click();
  await expect(page.getByTestId('cancel-form').getByRole('button', { name: 'Cancel shipment' })).toBeEnabled();

  await notice.getByRole('button', { name: 'show the latest' }).click();
  await expect(page.getByTestId('version')).toHaveText('2');
  await expect(page.getByTestId('changed-notice')).toHaveCount(0);
  await expect(page.getByTestId('deliver-form').getByRole('button', { name: 'Deliver' })).toBeEnabled();
});
