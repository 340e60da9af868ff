import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test, expect, openHydrated, scheduleInBrowser, signIn, uniquePlace, USERS, freePort } from './helpers';

test.describe('signed out', () => {
  test.use({ user: null });

  test('a page sends a signed-out person to the login page and back', async ({ page }) => {
    await page.goto('/projections');
    await expect(page).toHaveURL(/\/login\?next=%2Fprojections$/);
    // Act on the hydrated page (a click before hydration is a plain form post, also fine, but
    // then the page reloads under the test).
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const form = page.getByTestId('login-form');
    await form.getByLabel('Name').fill('dan');
    await form.getByLabel('Password').fill('not the password');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('login-error')).toHaveText('name or password is wrong');

    await form.getByLabel('Password').fill(USERS.dan.password);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/projections$/);
    await expect(page.getByTestId('user-name')).toHaveText('dan');
    await expect(page.getByTestId('user-role')).toHaveText('Dispatcher');
  });

  test('an API call without a session is refused with 401', async ({ request, baseURL }) => {
    const r = await request.post('/api/shipments/board', {
      headers: { Accept: 'application/json', Origin: baseURL! },
    });
    expect(r.status()).toBe(401);
    expect((await r.json()).kind).toBe('unauthorized');
  });
});

test('a dispatcher sees no projection actions, and a direct request for one is refused', async ({ page, baseURL }) => {
  await openHydrated(page, '/projections');
  await expect(page.getByTestId('versions').locator('tr[data-version="shipment_board@1"]')).toBeVisible();
  await expect(page.getByTestId('versions').getByRole('button')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  const r = await page.request.post('/api/projections/cut-over', {
    headers: { Accept: 'application/json', Origin: baseURL! },
    form: { key: 'shipment_board@2' },
  });
  expect(r.status()).toBe(403);
  expect((await r.json()).kind).toBe('forbidden');
  const users = await page.goto('/users');
  expect(users?.status()).toBe(403);
  // Refused inside the console's own shell: a title, the header, a way back.
  await expect(page).toHaveTitle('Not allowed · freightdesk');
  await expect(page.getByTestId('forbidden')).toContainText('This page is for the admin role');
  await expect(page.getByTestId('signed-in')).toBeVisible();
  await page.getByRole('link', { name: 'Back to the dispatch board' }).click();
  await expect(page.getByTestId('served-by')).toBeVisible();
});

test('signing out ends the session', async ({ page }) => {
  await openHydrated(page, '/');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
});

test('a session ended elsewhere sends the person to the login page and back', async ({ browser, baseURL }) => {
  // Two browsers share one session (the same cookie); signing out in one ends it for both.
  const first = await browser.newContext({ baseURL });
  await signIn(first, baseURL!, 'dee');
  const second = await browser.newContext({ baseURL, storageState: await first.storageState() });
  const page = await second.newPage();
  await openHydrated(page, '/projections');
  const out = await first.request.post('/api/auth/logout', {
    headers: { Accept: 'application/json', Origin: baseURL! },
  });
  expect(out.ok()).toBeTruthy();
  await page.goto('/projections');
  await expect(page).toHaveURL(/\/login\?next=%2Fprojections$/);
  await page.getByLabel('Name').fill('dee');
  await page.getByLabel('Password').fill(USERS.dee.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/projections$/);
  await first.close();
  await second.close();
});

test('text with HTML or script is stored as typed and shown as text, never run', async ({ page, browser, baseURL }) => {
  const payload = `<img src=x onerror="window.__xss=1">${uniquePlace('<script>window.__xss=1</script>')}`;
  await page.addInitScript(() => ((window as any).__xss = 0));
  const id = await scheduleInBrowser(page, payload, 'Lyon');
  await expect(page.getByRole('heading', { level: 1 })).toContainText('<img src=x onerror=');
  await expect(page.getByTestId('timeline')).toContainText('<script>window.__xss=1</script>');

  await expect(async () => {
    await page.goto(`/?q=${encodeURIComponent(payload)}`);
    await expect(page.locator(`tr[data-shipment="${id}"]`)).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await expect(page.locator(`tr[data-shipment="${id}"]`)).toContainText('<img src=x');

  // The conflict panel shows it too: someone else changes the shipment first (and the news of it
  // does not reach this page, which would otherwise disable Pick up before the click).
  await page.context().route('**/live/**', (route) => route.abort());
  await openHydrated(page, `/shipments/${id}`);
  const other = await browser.newContext({ baseURL });
  await signIn(other, baseURL!, 'dee');
  const r = await other.request.post('/api/shipments/pick-up', {
    headers: { Accept: 'application/json', Origin: baseURL! },
    form: { shipment_id: id, expected_version: '1' },
  });
  expect(r.ok()).toBeTruthy();
  await page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(page.getByTestId('conflict')).toBeVisible();
  expect(await page.evaluate(() => (window as any).__xss)).toBe(0);
  await other.close();
});


test.describe('first run', () => {
  test.use({ user: null });

  test('the set-up link from the log creates the first admin', async ({ page }, info) => {
    test.skip(info.project.name !== 'sqlite', 'one fresh server is enough');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-first-run-'));
    const port = await freePort();
    const repoRoot = path.resolve(__dirname, '..', '..');
    const server = spawn(process.env.SERVER_BIN ?? path.join(repoRoot, 'target/server/debug/freightdesk'), ['serve'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        DATABASE_URL: `sqlite:${dir}/first.db`,
        FREIGHTDESK_ADDR: `127.0.0.1:${port}`,
        LEPTOS_OUTPUT_NAME: 'freightdesk',
        LEPTOS_SITE_ROOT: 'target/site',
        LEPTOS_SITE_PKG_DIR: 'pkg',
        RUST_LOG: 'warn',
      },
    });
    try {
      const link = await new Promise<string>((resolve, reject) => {
        let seen = '';
        const timer = setTimeout(() => reject(new Error(`no set-up link in: ${seen}`)), 30_000);
        server.stderr.on('data', (chunk) => {
          seen += chunk.toString();
          const match = seen.match(/http:\/\/\S+\/setup\?token=[A-Za-z0-9_-]+/);
          if (match) {
            clearTimeout(timer);
            resolve(match[0]);
          }
        });
      });
      await openHydrated(page, link);
      const form = page.getByTestId('setup-form');
      await form.getByLabel('Name', { exact: true }).fill('root-admin');
      await form.getByLabel('Display name').fill('Rhea Root');
      await form.getByLabel('Password').fill('the very first password');
      await form.getByRole('button', { name: 'Create admin and sign in' }).click();
      await expect(page.getByTestId('user-name')).toHaveText('Rhea Root');
      await expect(page.getByTestId('user-role')).toHaveText('Admin');
      // Used once: the same link no longer works.
      const again = await page.request.post(`http://127.0.0.1:${port}/api/auth/setup`, {
        headers: { Accept: 'application/json', Origin: `http://127.0.0.1:${port}` },
        form: { token: link.split('token=')[1], name: 'second', display_name: 'Second', password: 'another password' },
      });
      expect(again.status()).toBe(403);
    } finally {
      server.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
