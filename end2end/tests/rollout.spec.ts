import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as path from 'path';
import { APIRequestContext, Page } from '@playwright/test';
import { test, expect, openHydrated, signIn, uniquePlace, freePort } from './helpers';

// The whole blue/green rollout across two nodes on one PostgreSQL database: the blue node (a
// Playwright web server) runs only shipment_board@1 and daily_shipments@1; the green node,
// started here, runs every version. Runs in the `rollout` project only.
test.use({ user: 'ada' });
test.describe.configure({ mode: 'serial' });

const repoRoot = path.resolve(__dirname, '..', '..');
const databaseUrl = process.env.E2E_ROLLOUT_URL!;
let green: ChildProcess | null = null;
let greenPort = 0;


/** Starts the green node (every version, small batches) and waits until it answers. */
async function startGreen(request: APIRequestContext) {
  greenPort = greenPort || (await freePort());
  green = spawn(process.env.SERVER_BIN ?? path.join(repoRoot, 'target/server/debug/freightdesk'), ['serve'], {
    cwd: repoRoot,
    stdio: 'ignore',
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      FREIGHTDESK_ADDR: `127.0.0.1:${greenPort}`,
      FREIGHTDESK_NODE: 'green-node',
      FREIGHTDESK_BATCH_SIZE: '5',
      LEPTOS_OUTPUT_NAME: 'freightdesk',
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_SITE_PKG_DIR: 'pkg',
      RUST_LOG: 'warn',
    },
  });
  await expect
    .poll(async () => (await request.get(`http://127.0.0.1:${greenPort}/healthz`).catch(() => null))?.status(), {
      timeout: 30_000,
    })
    .toBe(200);
}

function killGreen() {
  green?.kill('SIGKILL');
  green = null;
}

function psql(sql: string): string {
  return execFileSync('psql', ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', databaseUrl, '-c', sql]).toString().trim();
}

/** Schedules (and picks up) shipments through the API of the blue node, as the signed-in admin. */
async function schedule(page: Page, baseURL: string, n: number, location?: string) {
  const post = (endpoint: string, form: Record<string, string>) =>
    page.request.post(`/api/shipments/${endpoint}`, { headers: { Accept: 'application/json', Origin: baseURL }, form });
  for (let i = 0; i < n; i++) {
    const r = await post('schedule', { origin: uniquePlace('Blue'), destination: `Green ${i}`, pickup_at: '2026-12-01T08:00' });
    expect(r.ok()).toBeTruthy();
    const { shipment_id } = await r.json();
    const p = await post('pick-up', { shipment_id, expected_version: '1' });
    expect(p.ok()).toBeTruthy();
    if (location) {
      const l = await post('record-location', { shipment_id, expected_version: '2', location });
      expect(l.ok()).toBeTruthy();
    }
  }
}

test.afterAll(() => killGreen());

test('an admin rolls shipment_board@2 out across two nodes, guided by the checklist, and rolls back', async ({ page, request, baseURL, browser }) => {
  test.setTimeout(150_000);
  await schedule(page, baseURL!, 25);
  await startGreen(request);

  await openHydrated(page, '/projections/shipment_board');
  const greenCard = page.getByTestId('green');
  await expect(greenCard).toHaveAttribute('data-version', 'shipment_board@2', { timeout: 20_000 });
  // It builds beside the live version; once it has caught up it waits on standby.
  await expect(greenCard.getByTestId('state')).toHaveText('standby', { timeout: 30_000 });
  await expect(page.getByTestId('blue').getByTestId('state')).toHaveText('live');
  // Both tables hold one row per shipment.
  await expect(greenCard.getByTestId('rows')).toHaveText(await page.getByTestId('blue').getByTestId('rows').innerText());

  // The green node dies and the log moves on: green lags, the checklist is red, and the server
  // refuses a cutover however it is asked.
  killGreen();
  await schedule(page, baseURL!, 3);
  const checklist = page.getByTestId('checklist');
  await expect(checklist).toHaveAttribute('data-ready', 'false', { timeout: 15_000 });
  await expect(checklist.getByTestId('check-caughtup')).toHaveAttribute('data-ok', 'false');
  await page.getByTestId('cut-over').locator('summary').click();
  await expect(page.getByTestId('cut-over').getByRole('button', { name: /Confirm/ })).toBeDisabled();
  const refused = await page.request.post('/api/projections/cut-over', {
    headers: { Accept: 'application/json', Origin: baseURL! },
    form: { key: 'shipment_board@2' },
  });
  expect(refused.status()).toBe(422);
  expect((await refused.json()).message).toContain('behind');

  // The green node comes back, catches up, and the page compares again: every item green.
  await startGreen(request);
  await expect(checklist).toHaveAttribute('data-ready', 'true', { timeout: 45_000 });
  for (const item of ['caughtup', 'healthy', 'compared', 'running']) {
    await expect(checklist.getByTestId(`check-${item}`)).toHaveAttribute('data-ok', 'true');
  }
  const confirm = page.getByTestId('cut-over').getByRole('button', { name: /Confirm: cut over/ });
  await expect(confirm).toBeEnabled();
  await confirm.click();
  await expect(page.getByTestId('rollout-ok')).toContainText('shipment_board@1 → shipment_board@2');
  await expect(page.getByTestId('blue')).toHaveAttribute('data-version', 'shipment_board@2');

  // Both nodes now serve the board from v2, with v2's columns.
  await openHydrated(page, '/');
  await expect(page.getByTestId('served-by')).toContainText('shipment_board@2');
  await expect(page.getByTestId('board').locator('th', { hasText: 'Last location' })).toBeVisible();
  const greenURL = `http://127.0.0.1:${greenPort}`;
  const other = await browser.newContext({ baseURL: greenURL });
  await signIn(other, greenURL, 'ada');
  const greenPage = await other.newPage();
  await greenPage.goto('/');
  await expect(greenPage.getByTestId('served-by')).toContainText('shipment_board@2');
  await other.close();

  // The rollback window: v1 stayed current on standby; one confirmed click brings it back.
  await openHydrated(page, '/projections/shipment_board');
  await expect(page.getByTestId('green')).toHaveAttribute('data-version', 'shipment_board@1');
  await page.getByTestId('cut-over').locator('summary').click();
  await page.getByTestId('cut-over').getByRole('button', { name: /Confirm: roll back/ }).click();
  await expect(page.getByTestId('blue')).toHaveAttribute('data-version', 'shipment_board@1');
  const audit = page.getByTestId('rollout-audit');
  await expect(audit.locator('tr', { hasText: 'rolled back' }).first()).toContainText('ada');
  await expect(audit.locator('tr', { hasText: 'cut over' }).first()).toContainText('ada');
});

test('a live version that fails rolls back by itself, and its poison event is skipped with a reason', async ({ page, request, baseURL }) => {
  test.setTimeout(120_000);
  if (!green) await startGreen(request);
  await openHydrated(page, '/projections/shipment_board');
  const checklist = page.getByTestId('checklist');
  await expect(checklist).toHaveAttribute('data-ready', 'true', { timeout: 45_000 });
  await page.getByTestId('cut-over').locator('summary').click();
  await page.getByTestId('cut-over').getByRole('button', { name: /Confirm: cut over/ }).click();
  await expect(page.getByTestId('blue')).toHaveAttribute('data-version', 'shipment_board@2');

  // v2's table refuses one crafted value: v2 cannot apply that event, v1 can.
  const table = psql("SELECT physical_table FROM projection_versions WHERE name = 'shipment_board' AND version = 2");
  psql(`ALTER TABLE ${table} ADD CONSTRAINT no_poison CHECK (last_location IS DISTINCT FROM 'POISON')`);
  await schedule(page, baseURL!, 1, 'POISON');

  const alert = page.getByTestId('alert');
  await expect(alert).toContainText('Rolled back automatically', { timeout: 15_000 });
  await expect(alert).toContainText('automatic: shipment_board@2 failed');
  await expect(page.getByTestId('blue')).toHaveAttribute('data-version', 'shipment_board@1');
  await expect(page.getByTestId('green').getByTestId('version-error')).toContainText('LocationRecorded');

  const skip = page.getByTestId('skip-form');
  await skip.getByRole('textbox').fill('the location feed sent a test value');
  await skip.getByRole('button', { name: 'Skip this event' }).click();
  await expect(page.getByTestId('rollout-ok')).toContainText('goes on past event');
  await expect(page.getByTestId('skipped')).toContainText('the location feed sent a test value');
  await expect(page.getByTestId('green').getByTestId('state')).toHaveText('standby', { timeout: 15_000 });

  await alert.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(page.getByTestId('alert')).toHaveCount(0, { timeout: 10_000 });
  psql(`ALTER TABLE ${table} DROP CONSTRAINT no_poison`);
});
