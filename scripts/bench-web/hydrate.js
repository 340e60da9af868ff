// Times how long a page takes to hydrate in Chromium: from navigation start to the moment the
// app sets `data-hydrated` on <body>, each run in a fresh browser context (nothing cached).
// usage: node hydrate.js URL SESSION_COOKIE RUNS   prints a JSON array of milliseconds
const path = require('path');
const { chromium } = require(path.join(__dirname, '../../end2end/node_modules/@playwright/test'));

async function main() {
  const [url, session, runs] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  const times = [];
  try {
    for (let i = 0; i < Number(runs); i++) {
      const context = await browser.newContext();
      await context.addCookies([{ name: 'freightdesk_session', value: session, url }]);
      await context.addInitScript(() => {
        new MutationObserver((_, observer) => {
          if (document.body && document.body.dataset.hydrated === 'true') {
            window.__hydratedAt = performance.now();
            observer.disconnect();
          }
        }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
      });
      const page = await context.newPage();
      const response = await page.goto(url);
      if (!response || response.status() !== 200 || new URL(page.url()).pathname !== new URL(url).pathname) {
        throw new Error(`${url} answered ${response && response.status()} at ${page.url()}`);
      }
      await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 30000 });
      times.push(await page.evaluate(() => window.__hydratedAt));
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(times));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
