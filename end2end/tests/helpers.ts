import { Page, expect } from '@playwright/test';

/** Opens a page and waits until the WebAssembly bundle has hydrated it. */
export async function openHydrated(page: Page, url: string) {
  const response = await page.goto(url);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  return response;
}
