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

  // Rebuilding a live version is confirmed, and says that readers keep being served.
  const daily = versions.locator('tr[data-version="daily_shipments@1"]');
  await daily.getByText('Rebuild (live)…').click();
  await expect(daily.getByTestId('rebuild-live')).toContainText('keeps serving readers');
  await daily.getByRole('button', { name: 'Confirm: rebuild' }).click();
  await expect(page.getByTestId('action-ok')).toHaveText('Rebuild of daily_shipments@1 started');
  await expect(page.getByTestId('audit')).toContainText('rebuild requested');
  // It finishes on its own and says so.
  await expect(page.getByTestId('audit')).toContainText('rebuild finished', { timeout: 15_000 });
});

test('every version row charts its lag and rate over the last hour', async ({ page }) => {
  await openHydrated(page, '/projections');
  const versions = page.getByTestId('versions');
  for (const key of ['shipment_board@1', 'shipment_board@2', 'daily_shipments@1']) {
    const row = versions.locator(`tr[data-version="${key}"]`);
    // The daemon samples each version as soon as it runs it: a named chart, in words, with units.
    await expect(row.getByRole('img', { name: /^lag: .* events over the last hour, now [\d,]+$/ })).toBeVisible();
    await expect(row.getByRole('img', { name: /^rate: .* events\/s over the last hour, now [\d,.]+$/ })).toBeVisible();
  }
  await expect(versions.locator('tr[data-version="shipment_board@1"] [data-series="lag"] polyline')).toHaveCount(1);
});

test('the rate chart moves live when events arrive', async ({ page, baseURL }) => {
  await openHydrated(page, '/projections');
  for (let i = 0; i < 6; i++) {
    const r = await page.request.post('/api/shipments/schedule', {
      headers: { Accept: 'application/json', Origin: baseURL! },
      form: { origin: 'Chartville', destination: `Stop ${i}`, pickup_at: '2026-12-01T08:00' },
    });
    expect(r.status()).toBe(200);
  }
  // Without a reload: the next sample (every 5 s) counts the applied events in its
  // rate (six a minute: 0.1 events/s).
  const rate = page.getByTestId('versions').locator('tr[data-version="shipment_board@1"]')
    .getByRole('img', { name: /^rate: / });
  await expect(rate).toHaveAccessibleName(/now (?!0\.0$)[\d,.]+$/, { timeout: 15_000 });
});
