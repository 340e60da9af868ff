import { spawn } from 'child_process';
import { test, expect, openHydrated, scheduleInBrowser, uniquePlace } from './helpers';

// Projection actions are for admins.
test.use({ user: 'ada' });

// A forgotten transaction (here: psql with an open BEGIN that wrote an event) holds every
// projection back on PostgreSQL. The page names it, and the banner goes once it commits.
// Runs only in the postgres-stall project (playwright.config.ts): SQLite cannot be held back.
test('the projections page names an open transaction that holds projections back', async ({ page }) => {
  const url = process.env.E2E_PG_URL;
  expect(url, 'scripts/e2e.sh passes the PostgreSQL URL').toBeTruthy();
  const psql = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url!], { stdio: ['pipe', 'pipe', 'pipe'] });
  psql.stdin.write("SET application_name = 'forgotten-psql';\nBEGIN;\n");
  psql.stdin.write(
    "INSERT INTO streams (id, kind, version) VALUES (gen_random_uuid(), 'FreightShipment', 1);\n",
  );
  try {
    // An append after the open transaction: committed, but not readable until it ends.
    await scheduleInBrowser(page, uniquePlace('Held'), uniquePlace('Back'));
    await openHydrated(page, '/projections');
    const banner = page.getByTestId('held-back');
    await expect(banner).toBeVisible({ timeout: 20_000 });
    await expect(banner.getByTestId('holder')).toContainText('forgotten-psql');
    await expect(banner.getByTestId('holder')).toContainText('idle in transaction');
    await expect(banner).toContainText('waits instead');
  } finally {
    psql.stdin.write('COMMIT;\n');
    psql.stdin.end();
    await new Promise((resolve) => psql.on('close', resolve));
  }
  await expect(page.getByTestId('held-back')).toHaveCount(0, { timeout: 15_000 });
});
