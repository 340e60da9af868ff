import { defineConfig } from '@playwright/test';
import * as path from 'path';

// scripts/e2e.sh picks free ports and fresh databases and passes them in here.
const repoRoot = path.resolve(__dirname, '..');
const serverBin = process.env.SERVER_BIN ?? path.join(repoRoot, 'target/server/debug/freightdesk');
const sqlitePort = Number(process.env.E2E_SQLITE_PORT ?? 3101);
const pgPort = Number(process.env.E2E_PG_PORT ?? 3102);
const rolloutPort = Number(process.env.E2E_ROLLOUT_PORT ?? 3103);

function server(port: number, databaseUrl: string, extraEnv: Record<string, string> = {}) {
  return {
    command: `${serverBin} serve`,
    cwd: repoRoot,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    env: {
      DATABASE_URL: databaseUrl,
      FREIGHTDESK_ADDR: `127.0.0.1:${port}`,
      LEPTOS_OUTPUT_NAME: 'freightdesk',
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_SITE_PKG_DIR: 'pkg',
      RUST_LOG: 'warn',
      // The subscriptions spec's receivers listen on loopback; retries come quickly.
      FREIGHTDESK_WEBHOOK_ALLOW_PRIVATE: '1',
      FREIGHTDESK_WEBHOOK_RETRY_BASE_MS: '200',
      ...extraEnv,
    },
  };
}

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [['list']],
  use: {
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    },
    trace: 'off',
  },
  projects: [
    { name: 'sqlite', testIgnore: /cutover|stall|rollout/, use: { baseURL: `http://127.0.0.1:${sqlitePort}` } },
    { name: 'postgres', testIgnore: /cutover|stall|rollout/, use: { baseURL: `http://127.0.0.1:${pgPort}` } },
    // The cutover changes every board page of its server, so it runs once the rest is done.
    {
      name: 'sqlite-cutover',
      testMatch: /cutover/,
      dependencies: ['sqlite'],
      use: { baseURL: `http://127.0.0.1:${sqlitePort}` },
    },
    {
      name: 'postgres-cutover',
      testMatch: /cutover/,
      dependencies: ['postgres'],
      use: { baseURL: `http://127.0.0.1:${pgPort}` },
    },
    // Holding a transaction open freezes every projection of that database: nothing else may
    // run against the PostgreSQL server meanwhile.
    {
      name: 'postgres-stall',
      testMatch: /stall/,
      dependencies: ['postgres-cutover'],
      use: { baseURL: `http://127.0.0.1:${pgPort}` },
    },
    // Two nodes share one database; after the stall spec, whose open transaction would hold
    // every database of the server back.
    {
      name: 'rollout',
      testMatch: /rollout/,
      dependencies: ['postgres-stall'],
      use: { baseURL: `http://127.0.0.1:${rolloutPort}` },
    },
  ],
  webServer: [
    server(sqlitePort, process.env.E2E_SQLITE_URL ?? 'sqlite:data/e2e.db'),
    server(pgPort, process.env.E2E_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
    // The "blue" node of the rollout: it knows only v1 of the board (and the daily counts).
    server(rolloutPort, process.env.E2E_ROLLOUT_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', {
      FREIGHTDESK_NODE: 'blue-node',
      FREIGHTDESK_PROJECTIONS: 'shipment_board@1,daily_shipments@1',
    }),
  ],
});
