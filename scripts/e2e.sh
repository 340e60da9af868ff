#!/usr/bin/env bash
# Runs the Playwright suite against two real server processes: one on a fresh SQLite file,
# one on a fresh PostgreSQL database, each on a free port.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TEST_DATABASE_URL:=postgres://postgres@127.0.0.1:5432/postgres}"

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

tmp=$(mktemp -d)
db="fd_test_e2e_$$"
cleanup() {
  rm -rf "$tmp"
  psql -X -q "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql -X -q "$TEST_DATABASE_URL" -c "CREATE DATABASE $db" >/dev/null
export E2E_SQLITE_PORT=$(free_port)
export E2E_PG_PORT=$(free_port)
export E2E_SQLITE_URL="sqlite:$tmp/e2e.db"
export E2E_PG_URL="${TEST_DATABASE_URL%/*}/$db"
export SERVER_BIN="$PWD/target/server/debug/freightdesk"
cd end2end
npx playwright test "$@"
