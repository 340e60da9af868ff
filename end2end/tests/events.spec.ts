import { test, expect, openHydrated, scheduleInBrowser, uniquePlace } from './helpers';

// The event explorer: the whole log, newest first, filtered in the URL, each row leading to its shipment.

test('the event log lists the newest events first, filters them and links to the shipment', async ({ page, baseURL }) => {
  const origin = uniquePlace('Explorer');
  const id = await scheduleInBrowser(page, origin, 'Log');
  await page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(page.getByTestId('version')).toHaveText('2');

  await page.getByRole('link', { name: 'Events', exact: true }).click();
  await expect(page).toHaveURL(/\/events$/);
  await expect(page).toHaveTitle('Event log · freightdesk');
  const log = page.getByTestId('log');
  await expect(log.locator('tbody tr').first()).toBeVisible();
  const seqs = await log.locator('tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
  expect(seqs.length).toBeGreaterThanOrEqual(2);
  expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);

  // Only this shipment's events, newest first, typed into the form and kept in the URL.
  const filter = page.getByTestId('log-filter');
  await filter.getByLabel('Shipment id').fill(id);
  await filter.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(new RegExp(`stream=${id}`));
  await expect(log.locator('tbody tr')).toHaveCount(2);
  await expect(log.locator('tbody tr').first()).toContainText('Picked up');
  await expect(log.locator('tbody tr').first()).toContainText('dan');

  await filter.getByLabel('Event type').selectOption('ShipmentScheduled');
  await filter.getByRole('button', { name: 'Filter' }).click();
  await expect(log.locator('tbody tr')).toHaveCount(1);
  // Each row says what happened in a line, as the timeline does.
  await expect(log.locator('tbody tr td[data-label="Summary"]')).toContainText(`Scheduled ${origin} → Log, pickup planned`);
  await log.getByRole('link', { name: `Shipment ${id.slice(0, 8)}, version 1` }).click();
  await expect(page).toHaveURL(new RegExp(`/shipments/${id}$`));

  // A bad shipment id is refused by name.
  await openHydrated(page, '/events?stream=nope');
  await expect(page.getByTestId('log-error')).toContainText('stream: is not a shipment id');
});

test('the event log pages through the whole log from a position', async ({ page, baseURL }) => {
  for (let i = 0; i < 51; i++) {
    const r = await page.request.post('/api/shipments/schedule', {
      headers: { Accept: 'application/json', Origin: baseURL! },
      form: { origin: uniquePlace('Paged'), destination: 'Log', pickup_at: '2026-12-01T08:00' },
    });
    expect(r.status()).toBe(200);
  }
  await openHydrated(page, '/events?event_type=ShipmentScheduled');
  const rows = page.getByTestId('log').locator('tbody tr');
  await expect(rows).toHaveCount(50);
  const first = await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-seq')));
  await page.getByRole('link', { name: 'Older →' }).click();
  await expect(page).toHaveURL(/before=\d+/);
  await expect(page).toHaveURL(/event_type=ShipmentScheduled/);
  // The next page starts below the last row of this one (polled: the table follows the URL).
  await expect
    .poll(async () => Number(await rows.first().getAttribute('data-seq')))
    .toBeLessThan(Number(first[first.length - 1]));
  await page.getByRole('link', { name: '← Newer' }).click();
  await expect.poll(() => rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-seq')))).toEqual(first);
});
