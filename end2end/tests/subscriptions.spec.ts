import { Page } from '@playwright/test';
import { test, expect, openHydrated } from './helpers';
import * as http from 'http';
import { AddressInfo } from 'net';

// Subscriptions are for admins.
test.use({ user: 'ada' });

type Receiver = {
  url: string;
  requests: { headers: http.IncomingHttpHeaders; body: string }[];
  answer: (status: number) => void;
  close: () => Promise<void>;
};

/** A partner system on a free loopback port: records every POST and answers `status`. */
async function startReceiver(status: number): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  let answer = status;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      res.writeHead(answer, { 'Content-Type': 'text/plain' }).end(answer < 300 ? 'ok' : 'down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/freight-hooks`,
    requests,
    answer: (s) => (answer = s),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function addSubscription(page: Page, name: string, url: string, maxAttempts = '') {
  await openHydrated(page, '/subscriptions');
  const form = page.getByTestId('add-subscription-form');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Target URL').fill(url);
  await form.getByLabel('ShipmentDelivered').check();
  // Other specs deliver shipments on the same server meanwhile: a place no shipment has keeps
  // this receiver to the test events (which no filter holds back).
  await form.getByLabel('Only shipments whose origin or destination contains').fill(`nowhere ${Date.now().toString(36)}`);
  if (maxAttempts) await form.getByLabel('Attempts per delivery').fill(maxAttempts);
  await form.getByRole('button', { name: 'Add subscription' }).click();
  await expect(page.getByTestId('subscription-secret')).toContainText('whsec_');
  const secret = (await page.getByTestId('subscription-secret').textContent())!.trim();
  await page.getByRole('link', { name: `Open ${name}` }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  return secret;
}

test('an admin subscribes a partner, sends a test event and sees it delivered, signed', async ({ page }) => {
  const receiver = await startReceiver(200);
  const name = `Partner ${Date.now().toString(36)}`;
  const secret = await addSubscription(page, name, receiver.url);
  await expect(page.getByTestId('subscription-summary')).toContainText('ShipmentDelivered');
  await expect(page.locator('body')).not.toContainText(secret);

  await page.getByRole('button', { name: 'Send test event' }).click();
  await expect(page.getByTestId('subscription-ok')).toContainText('Test event queued');
  const delivered = page.getByTestId('recent-deliveries').locator('tr[data-status="delivered"]');
  await expect(delivered).toHaveCount(1, { timeout: 15_000 });
  await expect(delivered).toContainText('WebhookTest');
  // Its verdict is shown beside the button; test events count in none of the health figures.
  await expect(page.getByTestId('test-verdict')).toHaveText('Latest test event: delivered (HTTP 200).');
  await expect(page.getByTestId('delivery-counts')).toContainText('0 delivered');
  await expect(page.getByTestId('subscription-state')).toHaveText('Active');

  expect(receiver.requests).toHaveLength(1);
  const [request] = receiver.requests;
  expect(request.headers['freightdesk-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
  expect(request.headers['freightdesk-delivery']).toBe(JSON.parse(request.body).delivery_id);
  expect(JSON.parse(request.body).test).toBe(true);

  // The list shows it too, and the secret is never shown again.
  await openHydrated(page, '/subscriptions');
  const row = page.locator(`tr[data-subscription="${name}"]`);
  await expect(row.getByTestId('delivered')).toHaveText('0');
  await expect(page.locator('body')).not.toContainText('whsec_');
  await receiver.close();
});

test("a failing target's delivery becomes a dead letter, retried once the partner recovers", async ({ page }) => {
  const receiver = await startReceiver(503);
  const name = `Flaky ${Date.now().toString(36)}`;
  await addSubscription(page, name, receiver.url, '2');

  await page.getByRole('button', { name: 'Send test event' }).click();
  const dead = page.getByTestId('dead-letters').locator('tr[data-status="dead"]');
  await expect(dead).toHaveCount(1, { timeout: 15_000 });
  await expect(dead).toContainText('503');
  await expect(dead.getByTestId('response-excerpt')).toHaveText('Answer: down');
  await expect(page.getByTestId('test-verdict')).toContainText('not delivered: HTTP 503');
  await expect(page.getByTestId('subscription-state')).toHaveText('Active');
  expect(receiver.requests).toHaveLength(2);

  receiver.answer(200);
  await dead.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('subscription-ok')).toContainText('will be sent again');
  await expect(page.getByTestId('dead-letters')).toContainText('None', { timeout: 15_000 });
  await expect(page.getByTestId('recent-deliveries').locator('tr[data-status="delivered"]')).toHaveCount(1);
  await expect(page.getByTestId('subscription-audit')).toContainText('retried delivery');
  expect(receiver.requests).toHaveLength(3);
  await receiver.close();
});

test('a dispatcher has no subscriptions page', async ({ browser, baseURL }) => {
  const context = await browser.newContext();
  const { signIn } = await import('./helpers');
  await signIn(context, baseURL!, 'dan');
  const page = await context.newPage();
  const response = await page.goto('/subscriptions');
  expect(response!.status()).toBe(403);
  await context.close();
});
