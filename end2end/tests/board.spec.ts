import { test, expect, openHydrated } from './helpers';

// Board conventions: sortable columns (server side, paging intact), filters that apply on change
// and live in the URL, "Clear filters", and a clear word for a shipment address that leads nowhere.

test('columns sort on the server, both ways, and paging keeps the order', async ({ page, baseURL }) => {
  // 53 shipments sharing a tag, so the sorted list spans two pages of 50.
  const tag = `Sort${Date.now().toString(36)}`;
  const origins: string[] = [];
  for (let i = 0; i < 53; i++) {
    const origin = `${tag} ${String.fromCharCode(97 + (i * 7) % 26)}${String(i).padStart(2, '0')}`;
    origins.push(origin);
    const r = await page.request.post('/api/shipments/schedule', {
      headers: { Accept: 'application/json', Origin: baseURL! },
      form: { origin, destination: 'Sorted', pickup_at: `2026-12-01T${String(i % 24).padStart(2, '0')}:00` },
    });
    expect(r.status()).toBe(200);
  }
  const ascending = [...origins].sort();
  const originsShown = () => page.getByTestId('board').locator('tbody tr td:nth-child(3)').allTextContents();

  await expect(async () => {
    await page.goto(`/?q=${encodeURIComponent(tag)}`);
    await expect(page.getByTestId('served-by')).toContainText('53 shipments', { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await openHydrated(page, `/?q=${encodeURIComponent(tag)}`);
  const header = page.getByTestId('board').locator('th[data-sort="origin"]');
  await expect(header).toHaveAttribute('aria-sort', 'none');
  await header.getByRole('link').click();
  await expect(page).toHaveURL(/sort=origin/);
  await expect(header).toHaveAttribute('aria-sort', 'ascending');
  await expect.poll(originsShown).toEqual(ascending.slice(0, 50));
  await page.getByRole('link', { name: 'Next →' }).click();
  await expect(page).toHaveURL(/after=.*sort=origin|sort=origin.*after=/);
  await expect.poll(originsShown).toEqual(ascending.slice(50));
  await page.getByRole('link', { name: '← Previous' }).click();
  await expect.poll(originsShown).toEqual(ascending.slice(0, 50));

  // The second click turns it around.
  await header.getByRole('link').click();
  await expect(page).toHaveURL(/sort=-origin/);
  await expect(header).toHaveAttribute('aria-sort', 'descending');
  const descending = [...ascending].reverse();
  await expect.poll(originsShown).toEqual(descending.slice(0, 50));
  await page.getByRole('link', { name: 'Next →' }).click();
  await expect.poll(originsShown).toEqual(descending.slice(50));

  // An unknown order is refused by name, not ignored.
  const bad = await page.request.post('/api/shipments/board', {
    headers: { Accept: 'application/json', Origin: baseURL! },
    form: { sort: 'weight' },
  });
  expect(bad.status()).toBe(400);
  expect((await bad.json()).errors[0].field).toBe('sort');
});

test('filters apply on change, live in the URL and clear in one click', async ({ page }) => {
  await openHydrated(page, '/?sort=origin');
  const filter = page.getByTestId('board-filter');
  await filter.getByLabel('Status').selectOption('Delivered');
  await expect(page).toHaveURL(/status=Delivered/);
  await expect(page).toHaveURL(/sort=origin/);
  await filter.getByLabel('Search').fill('Nowhere-at-all');
  await filter.getByLabel('Search').press('Enter');
  await expect(page).toHaveURL(/q=Nowhere-at-all/);
  await expect(page).toHaveURL(/status=Delivered/);
  await expect(page.getByTestId('board-empty')).toHaveText('No shipments match.');

  await page.getByTestId('clear-filters').click();
  await expect(page).toHaveURL(/\/\?page=1&sort=origin$/);
  await expect(filter.getByLabel('Status')).toHaveValue('');
  await expect(filter.getByLabel('Search')).toHaveValue('');
  await expect(page.getByTestId('clear-filters')).toHaveCount(0);
});

test('without JavaScript the filter form still works', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false });
  const { signIn } = await import('./helpers');
  await signIn(context, baseURL!, 'dan');
  const page = await context.newPage();
  await page.goto('/');
  const filter = page.getByTestId('board-filter');
  await filter.getByLabel('Status').selectOption('Cancelled');
  await filter.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=Cancelled/);
  await expect(page.getByTestId('clear-filters')).toBeVisible();
  await context.close();
});

test('a malformed or unknown shipment id gets its own message', async ({ page }) => {
  const malformed = await page.goto('/shipments/not-an-id');
  expect(malformed!.status()).toBe(404);
  await expect(page.getByTestId('no-such-shipment')).toContainText('“not-an-id” is not a shipment id');
  await expect(page).toHaveTitle('No such shipment · freightdesk');

  const unknown = '00000000-0000-4000-8000-000000000000';
  const missing = await page.goto(`/shipments/${unknown}`);
  expect(missing!.status()).toBe(404);
  await expect(page.getByTestId('no-such-shipment')).toContainText(`No shipment has the id ${unknown}`);
});
