import { test, expect, openHydrated, scheduleInBrowser, timelineVersions, uniquePlace } from './helpers';

test('a dispatcher takes a shipment through its whole lifecycle', async ({ page }) => {
  const origin = uniquePlace('Rotterdam');
  const id = await scheduleInBrowser(page, origin, 'Milan');
  await expect(page.getByTestId('state').locator('[data-status]')).toHaveAttribute('data-status', 'Scheduled');

  await page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(page.getByTestId('version')).toHaveText('2');
  await expect(page.getByTestId('state').locator('[data-status]')).toHaveAttribute('data-status', 'InTransit');

  const record = page.getByTestId('record-location-form');
  await record.getByLabel('Location').fill('Basel');
  await record.getByLabel('Latitude').fill('47.56');
  await record.getByLabel('Longitude').fill('7.59');
  await record.getByRole('button', { name: 'Record location' }).click();
  await expect(page.getByTestId('version')).toHaveText('3');
  await expect(record.getByLabel('Location')).toHaveValue('');

  await page.getByTestId('deliver-form').getByRole('button', { name: 'Deliver' }).click();
  await expect(page.getByTestId('version')).toHaveText('4');
  await expect(page.getByTestId('state').locator('[data-status]')).toHaveAttribute('data-status', 'Delivered');
  await expect(page.getByTestId('no-actions')).toBeVisible();
  await expect(page.getByTestId('pick-up-form')).toHaveCount(0);

  await expect.poll(() => timelineVersions(page)).toEqual(['1', '2', '3', '4']);
  const types = await page.getByTestId('timeline').locator('tbody tr td:nth-child(3)').allTextContents();
  expect(types).toEqual(['Scheduled', 'Picked up', 'Location recorded', 'Delivered']);
  await expect(page.getByTestId('timeline')).toContainText('At Basel (47.5600, 7.5900)');
  await expect(page.getByTestId('timeline')).toContainText('dan');

  // The board (a projection, so give it a moment) finds it by origin and says who served it.
  await expect(async () => {
    await page.goto(`/?q=${encodeURIComponent(origin)}`);
    await expect(page.locator(`tr[data-shipment="${id}"]`)).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 10_000 });
  // A dispatcher reads the count; the version that answered stays in an attribute.
  await expect(page.getByTestId('served-by')).toHaveAttribute('data-served-by', 'shipment_board@1');
  await expect(page.getByTestId('served-by')).not.toContainText('shipment_board');
  await expect(page.locator(`tr[data-shipment="${id}"] [data-status]`)).toHaveAttribute('data-status', 'Delivered');
  await page.locator(`tr[data-shipment="${id}"] a`).click();
  await expect(page).toHaveURL(new RegExp(`/shipments/${id}$`));
});

test('the schedule form shows what is wrong next to each field', async ({ page }) => {
  await openHydrated(page, '/');
  const form = page.getByTestId('schedule-form');
  await form.getByLabel('Destination').fill('x'.repeat(5));
  await form.getByRole('button', { name: 'Schedule' }).click();
  await expect(form.locator('[data-field="origin"]')).toHaveText('is required');
  await expect(form.locator('[data-field="pickup_at"]')).toHaveText('is required');
  await expect(form.getByLabel('Destination')).toHaveValue('xxxxx');
  await expect(page).toHaveURL(/\/$/);
});

test('the board filters by status and pages through results', async ({ page, baseURL }) => {
  const origin = uniquePlace('Pager');
  for (let i = 0; i < 3; i++) {
    const r = await page.request.post('/api/shipments/schedule', {
      headers: { Accept: 'application/json', Origin: baseURL! },
      form: { origin, destination: `Stop ${i}`, pickup_at: '2026-12-01T08:00' },
    });
    expect(r.status()).toBe(200);
  }
  await expect(async () => {
    await page.goto(`/?q=${encodeURIComponent(origin)}&status=Scheduled`);
    await expect(page.getByTestId('board').locator('tbody tr')).toHaveCount(3, { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await page.goto(`/?q=${encodeURIComponent(origin)}&status=Delivered`);
  await expect(page.getByTestId('board-empty')).toBeVisible();
});

test('next and previous walk the board 50 at a time', async ({ page, baseURL }) => {
  const origin = uniquePlace('Pages');
  for (let i = 0; i < 53; i++) {
    const r = await page.request.post('/api/shipments/schedule', {
      headers: { Accept: 'application/json', Origin: baseURL! },
      form: { origin, destination: `Stop ${i}`, pickup_at: `2026-12-0${1 + (i % 9)}T08:${String(i).padStart(2, '0')}` },
    });
    expect(r.status()).toBe(200);
  }
  const rows = page.getByTestId('board').locator('tbody tr');
  await expect(async () => {
    await openHydrated(page, `/?q=${encodeURIComponent(origin)}`);
    await expect(page.getByTestId('served-by')).toContainText('53 shipments', { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await expect(rows).toHaveCount(50);
  await expect(page.getByTestId('page-info')).toHaveText('Page 1 of 2');
  const firstPage = await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-shipment')));

  await page.getByRole('link', { name: 'Next →' }).click();
  await expect(page.getByTestId('page-info')).toHaveText('Page 2 of 2');
  await expect(rows).toHaveCount(3);
  const secondPage = await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-shipment')));
  expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
  await expect(page.getByRole('link', { name: 'Next →' })).toHaveCount(0);

  await page.getByRole('link', { name: '← Previous' }).click();
  await expect(page.getByTestId('page-info')).toHaveText('Page 1 of 2');
  expect(await rows.evaluateAll((r) => r.map((x) => x.getAttribute('data-shipment')))).toEqual(firstPage);
});

test('unknown and malformed shipment ids get a 404 that says there is no such shipment', async ({ page }) => {
  for (const id of ['not-a-shipment', '3f2b8c1e-0000-4000-8000-000000000000']) {
    const response = await page.goto(`/shipments/${id}`);
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'No such shipment' })).toBeVisible();
  }
});

test('the board shows my own new shipment on the next page load, without retrying', async ({ page }) => {
  const origin = uniquePlace('Own write');
  await openHydrated(page, '/');
  const form = page.getByTestId('schedule-form');
  await form.getByLabel('Origin').fill(origin);
  await form.getByLabel('Destination').fill('Milan');
  // The latest planned pickup of any spec: the board lists it first on page 1.
  await form.getByLabel('Planned pickup (UTC)').fill('2099-12-31T23:59');
  await form.getByRole('button', { name: 'Schedule' }).click();
  // So far ahead is questioned once; confirmed, it is scheduled.
  await expect(form.locator('[data-field="pickup_at"]')).toHaveText('is more than six months ahead');
  await form.getByLabel('This date is right').check();
  await form.getByRole('button', { name: 'Schedule' }).click();
  await expect(page).toHaveURL(/\/shipments\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('version')).toHaveText('1');
  const id = (await page.getByTestId('shipment-id').textContent())!.trim();

  // One load of the board, no reload loop: it waited for the projection to reach the command.
  await page.getByRole('link', { name: 'Dispatch', exact: true }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator(`tr[data-shipment="${id}"]`)).toBeVisible({ timeout: 3_000 });
  await expect(page.locator(`tr[data-shipment="${id}"]`)).toContainText(origin);
  await expect(page.getByTestId('catching-up')).toHaveCount(0);
});

test('the board page charts the last 30 days of shipments', async ({ page }) => {
  await openHydrated(page, '/');
  const chart = page.getByTestId('daily-chart');
  await expect(chart.getByRole('heading', { name: 'Shipments per day, last 30 days (UTC)' })).toBeVisible();
  await expect(chart.getByRole('img', { name: /^Shipments per day over the last 30 days/ })).toBeVisible();
  await expect(chart.getByTestId('daily-legend').getByRole('listitem')).toHaveText(['Scheduled', 'Picked up', 'Delivered', 'Cancelled']);
  // The same numbers as a table for screen readers and keyboards: one row per day.
  await chart.getByText('The same counts as a table').click();
  await expect(chart.getByTestId('daily-chart-table').locator('tbody tr')).toHaveCount(30);
});
