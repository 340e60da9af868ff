#!/usr/bin/env bash
# Runs the Playwright suite against real server processes, each on a free port: one on a fresh
# SQLite file, one on a fresh PostgreSQL database, and a node of a two-node rollout on a third
# database (the rollout spec starts the second node itself).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TEST_DATABASE_URL:=postgres://postgres@127.0.0.1:5432/postgres}"

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

tmp=$(mktemp -d)
db="fd_test_e2e_$$"
rollout_db="fd_test_e2e_rollout_$$"
cleanup() {
  rm -rf "$tmp"
  for d in "$db" "$rollout_db"; do
    psql -X -q "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

psql -X -q "$TEST_DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
psql -X -q "$TEST_DATABASE_URL" -c "CREATE DATABASE $rollout_db" >/dev/null
export E2E_ROLLOUT_PORT=$(free_port)
export E2E_ROLLOUT_URL="${TEST_DATABASE_URL%/*}/$rollout_db"
export E2E_SQLITE_PORT=$(free_port)
export E2E_PG_PORT=$(free_port)
export E2E_SQLITE_URL="sqlite:$tmp/e2e.db"
export E2E_PG_URL="${TEST_DATABASE_URL%/*}/$db"
# A copy, so a build that runs meanwhile cannot swap the binary under the servers.
cp target/server/debug/freightdesk "$tmp/freightdesk"
export SERVER_BIN="$tmp/freightdesk"

# The people the specs sign in as (end2end/tests/helpers.ts knows the same passwords), added
# through the real CLI, password on standard input.
add_user() { # url name role password
  echo "$4" | "$SERVER_BIN" users add "$2" --role "$3" --database-url "$1" >/dev/null
}
for url in "$E2E_SQLITE_URL" "$E2E_PG_URL" "$E2E_ROLLOUT_URL"; do
  add_user "$url" ada admin 'ada-e2e-password'
  add_user "$url" dan dispatcher 'dan-e2e-password'
  add_user "$url" dee dispatcher 'dee-e2e-password'
done
cd end2end
# A checkout whose packages predate a new dev dependency (the axe check) gets it here.
if [ ! -d node_modules/@axe-core/playwright ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
npx playwright test "$@"
