import { test, expect, openHydrated } from './helpers';

// Projection actions are for admins.
test.use({ user: 'ada' });

// Runs after the other specs of its backend (see playwright.config.ts): a cutover changes what
// every board page says, and other specs' appends would make the candidate lag for a moment.
test('an admin compares v2 with the live v1, cuts over, and rolls back', async ({ page }) => {
  const row = (key: string) => page.getByTestId('versions').locator(`tr[data-version="${key}"]`);
  await openHydrated(page, '/projections');
  // v2 builds beside v1 and goes on standby once caught up (the page refreshes itself).
  await expect(row('shipment_board@2').getByTestId('state')).toHaveText('standby', { timeout: 15_000 });
  const comparison = page.locator('[data-testid="comparison"][data-candidate="shipment_board@2"]');
  await expect(comparison.getByTestId('verdict')).toHaveText('Identical in every compared column.', { timeout: 15_000 });

  // A dangerous action asks first, saying what will happen.
  await row('shipment_board@2').getByText('Cut over…').click();
  await expect(row('shipment_board@2')).toContainText('Readers switch to shipment_board@2 at once');
  await row('shipment_board@2').getByRole('button', { name: 'Confirm: cut over' }).click();
  await expect(page.getByTestId('action-ok')).toContainText('shipment_board@1 → shipment_board@2');
  await expect(row('shipment_board@2').getByTestId('state')).toHaveText('live');
  await expect(row('shipment_board@1').getByTestId('state')).toHaveText('standby');
  await expect(page.getByTestId('audit')).toContainText('cut over');
  await expect(page.getByTestId('audit').locator('tr', { hasText: 'cut over' }).first()).toContainText('ada');

  await page.getByRole('link', { name: 'Dispatch' }).click();
  await expect(page.getByTestId('served-by')).toContainText('shipment_board@2');
  await expect(page.getByTestId('board').locator('th', { hasText: 'Last location' })).toBeVisible();

  await page.getByRole('link', { name: 'Projections' }).click();
  await row('shipment_board@1').getByText('Roll back to this version…').click();
  await row('shipment_board@1').getByRole('button', { name: 'Confirm: roll back to this version' }).click();
  await expect(row('shipment_board@1').getByTestId('state')).toHaveText('live');
  await expect(page.getByTestId('audit')).toContainText('rolled back');
  await page.getByRole('link', { name: 'Dispatch' }).click();
  await expect(page.getByTestId('served-by')).toContainText('shipment_board@1');
});
