import { test, expect, scheduleInBrowser, timelineVersions, uniquePlace } from './helpers';

// Time travel: choosing a version in the timeline shows the shipment as it was then (folded in
// the browser), with a banner and a way back; the timeline reads either way and filters by type.

test('the timeline travels in time, turns around and filters by event type', async ({ page }) => {
  await scheduleInBrowser(page, uniquePlace('Antwerp'), 'Ghent');
  await page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(page.getByTestId('version')).toHaveText('2');
  const record = page.getByTestId('record-location-form');
  await record.getByLabel('Location').fill('Mechelen');
  await record.getByRole('button', { name: 'Record location' }).click();
  await expect(page.getByTestId('version')).toHaveText('3');
  await page.getByTestId('deliver-form').getByRole('button', { name: 'Deliver' }).click();
  await expect(page.getByTestId('version')).toHaveText('4');
  await expect.poll(() => timelineVersions(page)).toEqual(['1', '2', '3', '4']);

  const timeline = page.getByTestId('timeline');
  await timeline.getByRole('button', { name: '2: show the shipment as it was at version 2' }).click();
  const banner = page.getByTestId('time-travel');
  await expect(banner).toContainText('Viewing version 2 of 4');
  await expect(banner.locator('[data-status]')).toHaveAttribute('data-status', 'InTransit');
  await expect(banner.getByTestId('past-location')).toHaveText('—');

  await timeline.getByRole('button', { name: '3: show the shipment as it was at version 3' }).click();
  await expect(banner).toContainText('Viewing version 3 of 4');
  await expect(banner.getByTestId('past-location')).toHaveText('Mechelen');
  // The page's own state is untouched: it is still the latest.
  await expect(page.getByTestId('state').locator('[data-status]')).toHaveAttribute('data-status', 'Delivered');

  await banner.getByRole('button', { name: 'Back to the latest' }).click();
  await expect(page.getByTestId('time-travel')).toHaveCount(0);

  const controls = page.getByTestId('timeline-controls');
  await controls.getByLabel('Order').selectOption('newest');
  await expect.poll(() => timelineVersions(page)).toEqual(['4', '3', '2', '1']);
  await controls.getByLabel('Event type').selectOption('LocationRecorded');
  await expect.poll(() => timelineVersions(page)).toEqual(['3']);
  await controls.getByLabel('Event type').selectOption('');
  await controls.getByLabel('Order').selectOption('oldest');
  await expect.poll(() => timelineVersions(page)).toEqual(['1', '2', '3', '4']);
});
