import AxeBuilder from '@axe-core/playwright';
import { Page } from '@playwright/test';
import { test, expect, openHydrated, scheduleInBrowser, uniquePlace, addSubscriptionByApi } from './helpers';

// Every page passes axe with no serious or critical violation, on a desktop and on a phone, in
// light and dark mode; and forms tell assistive technology what went wrong, and where.

async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

const SCREENS = [
  { name: 'desktop', width: 1400, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];

for (const scheme of ['light', 'dark'] as const) {
  test.describe(`axe, ${scheme}`, () => {
    test.use({ user: 'ada', colorScheme: scheme });

    test(`every page, ${scheme}`, async ({ page, browser, baseURL }) => {
      test.setTimeout(300_000);
      const id = await scheduleInBrowser(page, uniquePlace('Axe'), 'Contrast');
      const subscription = await addSubscriptionByApi(page, baseURL!, uniquePlace('Axe hook'));
      // A field error and a conflict-free result on the pages, so their styles are checked too.
      const pages = ['/', `/shipments/${id}`, '/projections', '/projections/shipment_board', '/users', '/account', '/events', '/subscriptions', `/subscriptions/${subscription}`, '/no/such/page'];
      for (const screen of SCREENS) {
        await page.setViewportSize({ width: screen.width, height: screen.height });
        for (const url of pages) {
          await openHydrated(page, url);
          expect(await seriousViolations(page), `${url} at ${screen.name}`).toEqual([]);
        }
        await openHydrated(page, '/');
        await page.getByTestId('schedule-form').getByRole('button', { name: 'Schedule' }).click();
        await expect(page.getByTestId('schedule-form').locator('[data-field="origin"]')).toBeVisible();
        expect(await seriousViolations(page), `refused form at ${screen.name}`).toEqual([]);
      }
      // Signed out: the sign-in page.
      const context = await browser.newContext({ baseURL, colorScheme: scheme });
      const anonymous = await context.newPage();
      for (const screen of SCREENS) {
        await anonymous.setViewportSize({ width: screen.width, height: screen.height });
        await openHydrated(anonymous, '/login');
        expect(await seriousViolations(anonymous), `/login at ${screen.name}`).toEqual([]);
      }
      await context.close();
    });
  });
}

test('a refused field is marked invalid, described by its message, and focused', async ({ page }) => {
  await openHydrated(page, '/');
  const form = page.getByTestId('schedule-form');
  await form.getByLabel('Destination').fill('Oslo');
  await form.getByRole('button', { name: 'Schedule' }).click();
  const origin = form.getByLabel('Origin');
  await expect(origin).toHaveAttribute('aria-invalid', 'true');
  await expect(origin).toHaveAttribute('aria-describedby', 'origin-error');
  await expect(page.locator('#origin-error')).toHaveText('is required');
  await expect(origin).toBeFocused();
  await expect(form.getByLabel('Destination')).not.toHaveAttribute('aria-invalid', 'true');
});

test('the result of an action is announced and takes the focus', async ({ page }) => {
  await scheduleInBrowser(page, uniquePlace('Focus'), 'Result');
  await page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(page.getByTestId('version')).toHaveText('2');
  const result = page.getByTestId('action-result');
  await expect(result).toHaveText('Pick up: done, the shipment is now at version 2.');
  await expect(result).toHaveAttribute('role', 'status');
  await expect(result).toBeFocused();
});

test('board rows are read as the shipment they are', async ({ page }) => {
  const origin = uniquePlace('Named');
  const id = await scheduleInBrowser(page, origin, 'Row');
  await expect(async () => {
    await page.goto(`/?q=${encodeURIComponent(origin)}`);
    await expect(page.locator(`tr[data-shipment="${id}"]`)).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await expect(page.getByRole('link', { name: `Shipment ${id.slice(0, 8)}: ${origin} to Row, Scheduled` })).toBeVisible();
});
