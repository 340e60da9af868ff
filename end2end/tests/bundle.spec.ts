import { test, expect, openHydrated } from './helpers';

// How long hydration takes is measured by `make bench` (scripts/bench-web.sh), not asserted here.
test('the page hydrates from the compressed, revalidated bundle', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const wasm = page.waitForResponse((r) => new URL(r.url()).pathname === '/pkg/freightdesk.wasm');
  await openHydrated(page, '/');
  const response = await wasm;
  expect(response.status()).toBe(200);
  // Chromium offers br only over HTTPS on some versions; gzip is the answer over plain HTTP then.
  expect(['br', 'gzip']).toContain(await response.headerValue('content-encoding'));
  expect(await response.headerValue('cache-control')).toBe('no-cache');
  expect(await response.headerValue('content-type')).toBe('application/wasm');
  expect(errors).toEqual([]);
});
