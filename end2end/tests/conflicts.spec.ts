import { Browser, Page } from '@playwright/test';
import { test, expect, openHydrated, scheduleInBrowser, signIn, timelineVersions, uniquePlace } from './helpers';

/**
 * Another dispatcher (dee) in a browser of her own. The live feed does not reach her (as when the
 * news is still on its way), so she acts on the version she saw: that is how conflicts happen.
 */
async function secondDispatcher(browser: Browser, baseURL: string, url: string): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  await context.route('**/live/**', (route) => route.abort());
  await signIn(context, baseURL, 'dee');
  const page = await context.newPage();
  await openHydrated(page, url);
  return page;
}

test('a stale pick-up shows who changed what, and the panel knows re-applying cannot work', async ({ page: a, browser, baseURL }) => {
  await scheduleInBrowser(a, uniquePlace('Hamburg'), 'Vienna');
  const b = await secondDispatcher(browser, baseURL!, a.url());
  await expect(b.getByTestId('version')).toHaveText('1');

  await a.getByText('Cancel shipment…').click();
  const cancel = a.getByTestId('cancel-form');
  await cancel.getByLabel('Reason').fill('customer withdrew the order');
  await cancel.getByRole('button', { name: 'Cancel shipment' }).click();
  await expect(a.getByTestId('version')).toHaveText('2');

  // B still shows version 1 and acts on it.
  await expect(b.getByTestId('version')).toHaveText('1');
  await b.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  const panel = b.getByTestId('conflict');
  await expect(panel).toContainText('This shipment changed since you opened it');
  await expect(panel.getByTestId('conflict-event')).toHaveCount(1);
  await expect(panel.getByTestId('conflict-event')).toContainText('Cancelled');
  await expect(panel.getByTestId('conflict-event')).toContainText('dan');
  await expect(panel.getByTestId('conflict-event')).toContainText('Cancelled: customer withdrew the order');
  await expect(panel.getByTestId('conflict-current').locator('[data-status]')).toHaveAttribute('data-status', 'Cancelled');

  // Decided in the browser by the shared rules, before any click: only what can work is offered.
  await expect(panel.getByTestId('prediction')).toHaveText(
    'Re-applying pick up on version 2 would be refused: the shipment is Cancelled. It is not offered.',
  );
  await expect(panel.getByTestId('reapply')).toHaveCount(0);
  await panel.getByTestId('discard').click();
  await expect(b.getByTestId('conflict')).toHaveCount(0);
  await expect(b.getByTestId('version')).toHaveText('2');
  await expect.poll(() => timelineVersions(b)).toEqual(['1', '2']);
});

test('a stale location report keeps its input and succeeds when re-applied', async ({ page: a, browser, baseURL }) => {
  await scheduleInBrowser(a, uniquePlace('Lyon'), 'Porto');
  await a.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(a.getByTestId('version')).toHaveText('2');
  const b = await secondDispatcher(browser, baseURL!, a.url());

  const recordA = a.getByTestId('record-location-form');
  await recordA.getByLabel('Location').fill('Bordeaux');
  await recordA.getByRole('button', { name: 'Record location' }).click();
  await expect(a.getByTestId('version')).toHaveText('3');

  const recordB = b.getByTestId('record-location-form');
  await recordB.getByLabel('Location').fill('Toulouse');
  await recordB.getByLabel('Notes').fill('driver called in');
  await recordB.getByRole('button', { name: 'Record location' }).click();
  const panel = b.getByTestId('conflict');
  await expect(panel.getByTestId('conflict-event')).toContainText('At Bordeaux');
  // Nothing B typed is lost.
  await expect(recordB.getByLabel('Location')).toHaveValue('Toulouse');
  await expect(recordB.getByLabel('Notes')).toHaveValue('driver called in');

  await expect(panel.getByTestId('prediction')).toHaveText(
    'Re-applying record location on version 3 will succeed: the rules allow it on the shipment as it is now.',
  );
  await panel.getByTestId('reapply').click();
  await expect(b.getByTestId('conflict')).toHaveCount(0);
  await expect(b.getByTestId('version')).toHaveText('4');
  await expect.poll(() => timelineVersions(b)).toEqual(['1', '2', '3', '4']);
  await expect(b.getByTestId('timeline')).toContainText('At Toulouse — driver called in');
});

test('discarding a conflicting change shows the latest state', async ({ page: a, browser, baseURL }) => {
  await scheduleInBrowser(a, uniquePlace('Gdansk'), 'Prague');
  const b = await secondDispatcher(browser, baseURL!, a.url());
  await a.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(a.getByTestId('version')).toHaveText('2');
  await b.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(b.getByTestId('conflict')).toBeVisible();
  await b.getByTestId('discard').click();
  await expect(b.getByTestId('conflict')).toHaveCount(0);
  await expect(b.getByTestId('version')).toHaveText('2');
  await expect.poll(() => timelineVersions(b)).toEqual(['1', '2']);
});

test('events from another dispatcher appear in an open timeline without a reload', async ({ page, baseURL }) => {
  const id = await scheduleInBrowser(page, uniquePlace('Madrid'), 'Marseille');
  await page.evaluate(() => ((window as any).__noReload = true));
  const r = await page.request.post('/api/shipments/pick-up', {
    headers: { Accept: 'application/json', Origin: baseURL! },
    form: { shipment_id: id, expected_version: '1' },
  });
  expect(r.status()).toBe(200);
  await expect(page.getByTestId('timeline').locator('tr[data-version="2"]')).toBeVisible({ timeout: 2_000 });
  await expect(page.getByTestId('changed-notice')).toContainText('1 new event');
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  // The actions still target the version this page showed until the user asks for the latest.
  await expect(page.getByTestId('version')).toHaveText('1');
  await page.getByTestId('changed-notice').getByRole('button', { name: 'show the latest' }).click();
  await expect(page.getByTestId('version')).toHaveText('2');
});

test('without JavaScript a conflict keeps the typed reason and re-applies it', async ({ page: a, browser, baseURL }) => {
  await scheduleInBrowser(a, uniquePlace('Porto'), 'Lyon');
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false });
  await signIn(context, baseURL!, 'dee');
  const b = await context.newPage();
  await b.goto(a.url());
  await expect(b.getByTestId('version')).toHaveText('1');

  await a.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(a.getByTestId('version')).toHaveText('2');

  await b.getByText('Cancel shipment…').click();
  const cancel = b.getByTestId('cancel-form');
  await cancel.getByLabel('Reason').fill('storm warning at the port');
  await cancel.getByRole('button', { name: 'Cancel shipment' }).click();
  const panel = b.getByTestId('conflict');
  await expect(panel).toContainText('This shipment changed since you opened it');
  await expect(panel.getByTestId('conflict-event')).toContainText('Picked up');
  await expect(b.getByTestId('cancel-form').getByLabel('Reason')).toHaveValue('storm warning at the port');
  await expect(panel.getByTestId('prediction')).toContainText('Re-applying cancel shipment on version 2 will succeed');

  await panel.getByTestId('reapply').click();
  await expect(b.getByTestId('version')).toHaveText('3');
  await expect(b.getByTestId('state').locator('[data-status]')).toHaveAttribute('data-status', 'Cancelled');
  await expect(b.getByTestId('timeline')).toContainText('Cancelled: storm warning at the port');
  await context.close();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('commands and their errors work as plain form posts', async ({ page }) => {
    await page.goto('/');
    const form = page.getByTestId('schedule-form');
    await form.getByLabel('Destination').fill('Bern');
    await form.getByLabel('Planned pickup (UTC)').fill('2026-12-01T08:00');
    await form.getByRole('button', { name: 'Schedule' }).click();
    await expect(page.getByTestId('schedule-form').locator('[data-field="origin"]')).toHaveText('is required');
    // What was typed is still there, next to the error.
    await expect(page.getByTestId('schedule-form').getByLabel('Destination')).toHaveValue('Bern');
    await expect(page.getByTestId('schedule-form').getByLabel('Planned pickup (UTC)')).toHaveValue('2026-12-01T08:00');

    const r = await page.request.post('/api/shipments/schedule', {
      headers: { Accept: 'application/json', Origin: new URL(page.url()).origin },
      form: { origin: uniquePlace('Oslo'), destination: 'Bern', pickup_at: '2026-12-01T08:00' },
    });
    const { shipment_id } = await r.json();
    await page.goto(`/shipments/${shipment_id}`);
    await page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
    await expect(page.getByTestId('version')).toHaveText('2');
    await page.getByText('Cancel shipment…').click();
    await page.getByTestId('cancel-form').getByRole('button', { name: 'Cancel shipment' }).click();
    await expect(page.locator('[data-field="reason"]')).toHaveText('is required');
  });
});
