import { test, expect, openHydrated, scheduleInBrowser, tomorrow } from './helpers';
import * as path from 'path';

// Retakes the README's screenshots (docs/*.png) at 390 and 1400 px, light and dark. Not part
// of the suite: README_SCREENSHOTS=1 ./scripts/e2e.sh readme-screenshots --project sqlite
test.skip(!process.env.README_SCREENSHOTS, 'only when retaking the README screenshots');
test.use({ user: 'ada' });

const docs = path.resolve(__dirname, '../../docs');
const places: [string, string][] = [
  ['Rotterdam', 'Milan'], ['Hamburg', 'Lyon'], ['Antwerp', 'Basel'], ['Gdansk', 'Vienna'],
  ['Le Havre', 'Zurich'], ['Genoa', 'Munich'], ['Valencia', 'Turin'], ['Bremen', 'Prague'],
];

test('README screenshots', async ({ page, baseURL }) => {
  test.setTimeout(180_000);
  for (const [origin, destination] of places) {
    await page.request.post(`${baseURL}/api/shipments/schedule`, {
      headers: { Accept: 'application/json', Origin: baseURL! },
      form: { origin, destination, pickup_at: tomorrow() },
    });
  }
  const id = await scheduleInBrowser(page, 'Rotterdam Europoort', 'Milano Smistamento');
  await page.getByTestId('pick-up-form').getByRole('button', { name: 'Pick up' }).click();
  await expect(page.getByTestId('version')).toHaveText('2');
  const record = page.getByTestId('record-location-form');
  await record.getByLabel('Location').fill('Basel SBB');
  await record.getByLabel('Latitude').fill('47,5476');
  await record.getByLabel('Longitude').fill('7,5896');
  await record.getByRole('button', { name: 'Record location' }).click();
  await expect(page.getByTestId('version')).toHaveText('3');

  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const suffix = scheme === 'dark' ? '-dark' : '';
    await page.setViewportSize({ width: 1400, height: 900 });
    await openHydrated(page, '/');
    await page.screenshot({ path: `${docs}/board-desktop${suffix}.png` });
    await openHydrated(page, '/projections/shipment_board');
    await page.screenshot({ path: `${docs}/rollout${suffix}.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    await openHydrated(page, '/');
    await page.screenshot({ path: `${docs}/board-phone${suffix}.png` });
    await openHydrated(page, `/shipments/${id}`);
    await page.screenshot({ path: `${docs}/shipment-phone${suffix}.png` });
  }
});
