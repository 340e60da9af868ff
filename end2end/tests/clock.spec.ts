import { test, expect, openHydrated, uniquePlace } from './helpers';

// One clock: a dispatcher in Amsterdam sees every time with its zone, chooses UTC or local in the
// header, and the choice holds before and after hydration; the schedule form takes the zone it names.
test.use({ timezoneId: 'Europe/Amsterdam' });

test('times carry their zone; local time is chosen in the header and typed in forms', async ({ page }) => {
  // Nothing chosen yet: UTC, and the form says so.
  await openHydrated(page, '/');
  const clock = page.getByTestId('clock-choice');
  await expect(clock.getByRole('button', { name: 'UTC' })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('schedule-form').getByLabel('Planned pickup (UTC)')).toBeVisible();

  await clock.getByRole('button', { name: 'Local' }).click();
  await expect(clock.getByRole('button', { name: 'Local' })).toHaveAttribute('aria-pressed', 'true');
  const form = page.getByTestId('schedule-form');
  const pickup = form.getByLabel('Planned pickup (Europe/Amsterdam)');
  await expect(pickup).toBeVisible();

  // 09:00 in Amsterdam on 1 December is 08:00 UTC.
  await form.getByLabel('Origin').fill(uniquePlace('Clock'));
  await form.getByLabel('Destination').fill('Utrecht');
  await pickup.fill('2025-12-01T09:00');
  await form.getByRole('button', { name: 'Schedule' }).click();
  // A pickup in the past is questioned once, beside the date; confirmed, it is scheduled.
  await expect(form.locator('[data-field="pickup_at"]')).toHaveText('is in the past');
  await expect(pickup).toHaveValue('2025-12-01T09:00');
  await form.getByLabel('This date is right').check();
  await form.getByRole('button', { name: 'Schedule' }).click();
  await expect(page).toHaveURL(/\/shipments\/[0-9a-f-]{36}$/);
  const url = page.url();
  const planned = page.getByTestId('state').locator('time').first();
  await expect(planned).toHaveText('2025-12-01 09:00 CET');
  await expect(planned).toHaveAttribute('datetime', '2025-12-01T08:00:00.000Z');
  await expect(planned).toHaveAttribute('title', '2025-12-01 09:00:00 CET (2025-12-01 08:00:00 UTC)');

  // The timeline says how long ago, the exact instant on hover, and its summary uses the same clock.
  const recorded = page.getByTestId('timeline').locator('tbody tr').first().locator('time');
  await expect(recorded).toHaveText(/^(just now|\d+ min ago)$/);
  await expect(recorded).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CET \(.* UTC\)$/);
  await expect(page.getByTestId('timeline')).toContainText('pickup planned 2025-12-01 09:00 CET');

  // The server renders the same text the hydrated page shows: no flip on hydration.
  const html = await (await page.request.get(url)).text();
  expect(html).toContain('2025-12-01 09:00 CET');
  expect(html).not.toContain('2025-12-01 08:00 UTC<');
  await openHydrated(page, url);
  await expect(planned).toHaveText('2025-12-01 09:00 CET');

  // Back to UTC: the same instant, written in UTC, everywhere and on the next load.
  await page.getByTestId('clock-choice').getByRole('button', { name: 'UTC' }).click();
  await expect(planned).toHaveText('2025-12-01 08:00 UTC');
  const utcHtml = await (await page.request.get(url)).text();
  expect(utcHtml).toContain('2025-12-01 08:00 UTC');
  await openHydrated(page, url);
  await expect(planned).toHaveText('2025-12-01 08:00 UTC');
});

test('a time that does not exist in the chosen zone is refused by name', async ({ page, baseURL }) => {
  const response = await page.request.post(`${baseURL}/api/shipments/schedule`, {
    headers: { Accept: 'application/json', Origin: baseURL! },
    form: { origin: uniquePlace('Gap'), destination: 'Hour', pickup_at: '2026-03-29T02:30', zone: 'Europe/Amsterdam' },
  });
  expect(response.status()).toBe(400);
  const body = await response.json();
  expect(body.kind).toBe('validation');
  expect(body.errors[0].field).toBe('pickup_at');
  expect(body.errors[0].message).toContain('does not exist in Europe/Amsterdam');
});
