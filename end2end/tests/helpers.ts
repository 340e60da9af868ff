import { test as base, BrowserContext, Page, expect } from '@playwright/test';
import * as net from 'net';

/** The people scripts/e2e.sh adds to every test database. */
export const USERS = {
  ada: { password: 'ada-e2e-password', role: 'admin' },
  dan: { password: 'dan-e2e-password', role: 'dispatcher' },
  dee: { password: 'dee-e2e-password', role: 'dispatcher' },
} as const;
export type UserName = keyof typeof USERS;

/** Signs a browser context in through the real login endpoint (its cookie jar keeps the session). */
export async function signIn(context: BrowserContext, baseURL: string, name: UserName) {
  const response = await context.request.post(`${baseURL}/api/auth/login`, {
    headers: { Accept: 'application/json', Origin: baseURL },
    form: { name, password: USERS[name].password },
  });
  expect(response.ok(), `sign-in of ${name}: ${response.status()}`).toBeTruthy();
}

/**
 * Every spec's `page` belongs to a signed-in person: `dan` (a dispatcher) unless the spec says
 * `test.use({ user: 'ada' })`. Nothing switches security off.
 */
export const test = base.extend<{ user: UserName | null }>({
  user: ['dan', { option: true }],
  context: async ({ context, baseURL, user }, use) => {
    if (user) await signIn(context, baseURL!, user);
    await use(context);
  },
});
export { expect };

/** Opens a page and waits until the WebAssembly bundle has hydrated it. */
export async function openHydrated(page: Page, url: string) {
  const response = await page.goto(url);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  return response;
}

/** Tomorrow at this time (UTC), as a datetime-local field takes it: a pickup nobody is asked to confirm. */
export function tomorrow(): string {
  return new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
}

let counter = 0;
/** A place name unique to this test run, so searches find exactly our shipment. */
export function uniquePlace(prefix: string): string {
  counter += 1;
  return `${prefix} ${Date.now().toString(36)}${counter}`;
}

/** Schedules a shipment through the browser form and returns its id (from the shipment page). */
export async function scheduleInBrowser(page: Page, origin: string, destination: string): Promise<string> {
  await openHydrated(page, '/');
  const form = page.getByTestId('schedule-form');
  await form.getByLabel('Origin').fill(origin);
  await form.getByLabel('Destination').fill(destination);
  await form.getByLabel('Planned pickup (UTC)').fill(tomorrow());
  await form.getByRole('button', { name: 'Schedule' }).click();
  await expect(page).toHaveURL(/\/shipments\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('version')).toHaveText('1');
  return (await page.getByTestId('shipment-id').textContent())!.trim();
}

/** The versions shown in the timeline, top to bottom. */
export async function timelineVersions(page: Page): Promise<string[]> {
  return page.getByTestId('timeline').locator('tbody tr').evaluateAll((rows) =>
    rows.map((r) => r.getAttribute('data-version') ?? ''),
  );
}

/** A TCP port nothing listens on right now, for a server a spec starts itself. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Adds a webhook subscription through the real server function (as an admin) and returns its id. */
export async function addSubscriptionByApi(page: Page, baseURL: string, name: string): Promise<number> {
  const response = await page.request.post(`${baseURL}/api/subscriptions/create`, {
    headers: { Accept: 'application/json', Origin: baseURL },
    form: { name, target_url: 'http://127.0.0.1:9/nobody-listens', 'event_types[1]': 'ShipmentPickedUp' },
  });
  expect(response.ok(), `create subscription: ${response.status()}`).toBeTruthy();
  const id = (await response.json()).id as number;
  // A delivery that will fail, so the pages show delivery rows and, soon, a dead letter.
  await page.request.post(`${baseURL}/api/subscriptions/test`, {
    headers: { Accept: 'application/json', Origin: baseURL },
    form: { id: String(id) },
  });
  return id;
}
