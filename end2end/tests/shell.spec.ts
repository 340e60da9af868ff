import { test, expect, openHydrated } from './helpers';

test('the shell renders with navigation and hydrates', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await openHydrated(page, '/');
  await expect(page.getByRole('heading', { name: 'Dispatch' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Dispatch' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Events' })).toBeVisible();
  // Versions are an admin's business: a dispatcher's header does not offer them.
  await expect(page.getByRole('link', { name: 'Projections' })).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('navigation is client-side after hydration', async ({ page }) => {
  await openHydrated(page, '/');
  // A full page load would wipe this marker; client-side routing keeps it.
  await page.evaluate(() => ((window as any).__noReload = true));
  await page.getByRole('link', { name: 'Events' }).click();
  await expect(page).toHaveURL(/\/events$/);
  await expect(page.getByRole('heading', { name: 'Event log' })).toBeVisible();
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  await page.getByRole('link', { name: 'Dispatch' }).click();
  await expect(page.getByRole('heading', { name: 'Dispatch' })).toBeVisible();
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});

test('/healthz answers when the database does', async ({ request }) => {
  const response = await request.get('/healthz');
  expect(response.status()).toBe(200);
  expect(await response.text()).toContain('ok');
});

test('an unknown path shows the 404 page', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expect(page).toHaveTitle('Page not found · freightdesk');
});

test('a skip link leads past the header, / focuses the search and ? lists the shortcuts', async ({ page }) => {
  await openHydrated(page, '/');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();

  await page.keyboard.press('/');
  await expect(page.getByTestId('board-filter').getByLabel('Search')).toBeFocused();
  // Typed into a field, the keys are text.
  await page.keyboard.type('a/b?');
  await expect(page.getByTestId('board-filter').getByLabel('Search')).toHaveValue('a/b?');
  await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toHaveCount(0);

  await page.locator('h1').click();
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help).toContainText('Focus the search');
  await page.keyboard.press('Escape');
  await expect(help).toHaveCount(0);
});
