import { spawn } from 'child_process';
import { test, expect, openHydrated, scheduleInBrowser, uniquePlace } from './helpers';

// Projection actions are for admins.
test.use({ user: 'ada' });

// A forgotten transaction (here: psql with an open BEGIN that wrote a row) no longer holds
// anything back on PostgreSQL: only an event's own transaction can delay it. A shipment scheduled
// after it is on the board at once, and the projections page raises no banner. (A session
// holding a lock freightdesk waits for is named: tests/api/stall.rs.)
// Runs only in the postgres-stall project (playwright.config.ts).
test('a forgotten transaction holds nothing back', async ({ page }) => {
  const url = process.env.E2E_PG_URL;
  expect(url, 'scripts/e2e.sh passes the PostgreSQL URL').toBeTruthy();
  const psql = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url!], { stdio: ['pipe', 'pipe', 'pipe'] });
  psql.stdin.write("SET application_name = 'forgotten-psql';\nBEGIN;\n");
  psql.stdin.write(
    "INSERT INTO streams (id, kind, version) VALUES (gen_random_uuid(), 'FreightShipment', 1);\n",
  );
  try {
    const origin = uniquePlace('Never');
    await scheduleInBrowser(page, origin, uniquePlace('Held'));
    await openHydrated(page, '/');
    await expect(page.getByText(origin).first()).toBeVisible({ timeout: 10_000 });
    await openHydrated(page, '/projections');
    await expect(page.getByRole('heading', { name: 'Projections' }).first()).toBeVisible();
    await expect(page.getByTestId('held-back')).toHaveCount(0);
  } finally {
    psql.stdin.write('ROLLBACK;\n');
    psql.stdin.end();
    await new Promise((resolve) => psql.on('close', resolve));
  }
});
