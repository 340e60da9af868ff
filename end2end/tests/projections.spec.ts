import { test, expect, openHydrated } from './helpers';

// Projection actions are for admins.
test.use({ user: 'ada' });

test('the projections page shows every version and audits a rebuild', async ({ page }, info) => {
  await openHydrated(page, '/projections');
  // SQLite has one writer at a time: the page says it cannot be held back instead of an empty section.
  await expect(page.getByTestId('hold-sqlite')).toHaveCount(info.project.name === 'sqlite' ? 1 : 0);
  const versions = page.getByTestId('versions');
  for (const key of ['shipment_board@1', 'shipment_board@2', 'daily_shipments@1']) {
    await expect(versions.locator(`tr[data-version="${key}"]`)).toBeVisible();
  }
  await expect(versions.locator('tr[data-version="shipment_board@1"] [data-testid="state"]')).toHaveText('live');
  await expect(page.getByTestId('nodes').locator('tbody tr')).not.toHaveCount(0);

  await versions.locator('tr[data-version="daily_shipments@1"]').getByRole('button', { name: 'Rebuild' }).click();
  await expect(page.getByTestId('action-ok')).toHaveText('Rebuild of daily_shipments@1 started');
  await expect(page.getByTestId('audit')).toContainText('rebuild requested');
  // It finishes on its own and says so.
  await expect(page.getByTestId('audit')).toContainText('rebuild finished', { timeout: 15_000 });
});
