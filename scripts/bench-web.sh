#!/usr/bin/env bash
# The web part of `make bench` (issue 14, items 5–7): writes {"part": "web", "figures": [...]}
# to OUT_JSON. On PostgreSQL and on SQLite, against a real `serve` process on seeded data:
#   - requests/s, p50 and p99 of the server-rendered board page (50 rows), of the pick-up server
#     function (a real command, signed in) and of a static file as the baseline, 32 clients;
#   - a static file on one kept-alive connection (p50: about 1 ms unless a TCP timer interferes);
#   - the time until the board page has hydrated in Chromium (fresh browser context each run);
#   - resident memory of `serve` at rest and under the load;
# and the size of freightdesk.wasm as sent with gzip and brotli. Each figure is the median of 3
# runs, with the spread.
#
# usage: scripts/bench-web.sh OUT_JSON
#   SERVER_BIN         the server binary (default target/server/release/freightdesk)
#   BENCH_DATABASE_URL PostgreSQL where a database of its own is created and dropped
#                      (default postgres://postgres@127.0.0.1:5432/postgres)
#   QUICK=1            1,000 shipments and 1 s runs instead of 100,000 and 10 s
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/bench-web.sh OUT_JSON}"
out="$(realpath -m "$out")"
server_bin="$(realpath -m "${SERVER_BIN:-target/server/release/freightdesk}")"
pg_admin_url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if [ "${QUICK:-0}" = 1 ]; then
  shipments=1000 seconds=1 hydrations=3
else
  shipments=100000 seconds=10 hydrations=5
fi
runs=3 clients=32 threads=2
# What a browser sends; the static file and the board page are both asked for with it.
browser_encodings="gzip, br"
site=target/site

[ -x "$server_bin" ] || { echo "bench-web: no server binary at $server_bin (make build, or set SERVER_BIN)" >&2; exit 1; }
[ -f "$site/pkg/freightdesk.wasm.gz" ] || { echo "bench-web: no built site under $site (make build-site)" >&2; exit 1; }
if ! command -v wrk >/dev/null || [ ! -x end2end/node_modules/.bin/playwright ]; then
  ./scripts/install-tools.sh bench
fi

work="$(mktemp -d)"
raw="$work/raw.jsonl"
pg_db="fd_bench_web_$$"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  psql -X -q "$pg_admin_url" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "bench-web: [${SECONDS}s] $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
record() { echo "$1" >>"$raw"; }
rss_kib() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }

# wrk_run BACKEND MEASURE CONNECTIONS THREADS SECONDS [VAR=VALUE...]: one wrk run, recorded.
wrk_run() {
  local backend=$1 measure=$2 connections=$3 wrk_threads=$4 secs=$5
  shift 5
  local result
  result=$(env "$@" wrk -t "$wrk_threads" -c "$connections" -d "${secs}s" --timeout 10s \
    -s scripts/bench-web/wrk.lua "$origin" | tail -n 1)
  record "{\"kind\": \"wrk\", \"backend\": \"$backend\", \"measure\": \"$measure\", \"clients\": $connections, \"result\": $result}"
  say "  $measure: $result"
  echo "$result"
}

# wait_caught_up URL: until every projection version has applied every event.
wait_caught_up() {
  local deadline=$((SECONDS + 600))
  until "$server_bin" projections status --database-url "$1" 2>/dev/null |
    python3 scripts/bench-web/caught_up.py; do
    [ $SECONDS -lt $deadline ] || { say "projections did not catch up within 10 minutes"; return 1; }
    sleep 0.5
  done
}

bench_backend() { # BACKEND DATABASE_URL
  local backend=$1 url=$2
  say "$backend: seeding $shipments shipments"
  "$server_bin" seed --shipments "$shipments" --database-url "$url" >"$work/seed-$backend.log" 2>&1 ||
    { cat "$work/seed-$backend.log" >&2; return 1; }
  local password="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  printf '%s\n' "$password" | "$server_bin" users add bench --role dispatcher --database-url "$url" >/dev/null

  local port
  port=$(free_port)
  origin="http://127.0.0.1:$port"
  DATABASE_URL="$url" FREIGHTDESK_ADDR="127.0.0.1:$port" RUST_LOG=warn \
    LEPTOS_OUTPUT_NAME=freightdesk LEPTOS_SITE_ROOT="$site" LEPTOS_SITE_PKG_DIR=pkg \
    "$server_bin" serve >"$work/serve-$backend.log" 2>&1 &
  server_pid=$!
  until curl -sf "$origin/healthz" >/dev/null; do
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve-$backend.log" >&2; return 1; }
    sleep 0.2
  done
  say "$backend: waiting for the projections to catch up"
  wait_caught_up "$url"
  curl -sf -c "$work/jar" -H "Origin: $origin" --data-urlencode name=bench \
    --data-urlencode "password=$password" "$origin/api/auth/login" >/dev/null
  local session
  session=$(awk '$6 == "freightdesk_session" {print $7}' "$work/jar")
  local cookie="freightdesk_session=$session"
  local rows
  rows=$(curl -sf -H "Cookie: $cookie" "$origin/" | grep -o '<tr' | wc -l)
  [ "$rows" -ge 50 ] || { say "$backend: the board page shows $rows rows, expected 50"; return 1; }

  local kib
  for _ in $(seq $runs); do
    kib=$(rss_kib "$server_pid" VmRSS)
    record "{\"kind\": \"rss\", \"backend\": \"$backend\", \"measure\": \"rest\", \"kib\": $kib}"
    sleep 0.3
  done

  say "$backend: the board page's bytes on the wire"
  for encoding in identity gzip br; do
    bytes=$(curl -sf -o /dev/null -H "Cookie: $cookie" -H "Accept-Encoding: $encoding" \
      -w '%{size_download}' "$origin/")
    record "{\"kind\": \"page_bytes\", \"backend\": \"$backend\", \"encoding\": \"$encoding\", \"bytes\": $bytes}"
  done

  say "$backend: static file, one connection and $clients"
  for _ in $(seq $runs); do
    wrk_run "$backend" static-1conn 1 1 "$seconds" FD_PATH=/pkg/freightdesk.css >/dev/null
    wrk_run "$backend" static "$clients" "$threads" "$seconds" FD_PATH=/pkg/freightdesk.css \
      "FD_ACCEPT_ENCODING=$browser_encodings" >/dev/null
  done

  say "$backend: board page, $clients clients"
  for _ in $(seq $runs); do
    local sampler
    (while kill -0 "$server_pid" 2>/dev/null; do rss_kib "$server_pid" VmRSS; sleep 0.2; done) >"$work/rss" &
    sampler=$!
    wrk_run "$backend" board "$clients" "$threads" "$seconds" FD_PATH=/ "FD_COOKIE=$cookie" \
      "FD_ACCEPT_ENCODING=$browser_encodings" >/dev/null
    kill "$sampler"
    wait "$sampler" 2>/dev/null || true
    kib=$(sort -n "$work/rss" | tail -n 1)
    record "{\"kind\": \"rss\", \"backend\": \"$backend\", \"measure\": \"load\", \"kib\": $kib}"
    kib=$(rss_kib "$server_pid" VmHWM)
    record "{\"kind\": \"rss\", \"backend\": \"$backend\", \"measure\": \"hwm\", \"kib\": $kib}"
  done

  say "$backend: pick-up, $clients clients (each run on shipments scheduled for it)"
  for run in $(seq $runs); do
    local scheduled pool
    # A longer scheduling run than the pick-up run, so the pick-ups never run out of shipments.
    scheduled=$(wrk_run "$backend" schedule "$clients" "$threads" $((seconds * 3 / 2 + 1)) \
      FD_MODE=schedule FD_PATH=/api/shipments/schedule "FD_COOKIE=$cookie" "FD_ORIGIN=$origin" "FD_RUN=$run")
    pool=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["fewest_sent"] - int(sys.argv[2]))' \
      "$scheduled" "$clients")
    wrk_run "$backend" pick-up "$clients" "$threads" "$seconds" FD_MODE=pick-up FD_PATH=/api/shipments/pick-up \
      "FD_COOKIE=$cookie" "FD_ORIGIN=$origin" "FD_RUN=$run" "FD_POOL=$pool" >/dev/null
  done

  say "$backend: hydration in Chromium"
  local hydration
  hydration=$(node scripts/bench-web/hydrate.js "$origin/" "$session" "$hydrations")
  record "{\"kind\": \"hydration\", \"backend\": \"$backend\", \"ms\": $hydration}"

  if [ "$backend" = sqlite ]; then
    say "bundle size on the wire"
    local bytes
    for encoding in identity gzip br; do
      for _ in $(seq $runs); do
        bytes=$(curl -sf -o /dev/null -H "Accept-Encoding: $encoding" -w '%{size_download}' \
          "$origin/pkg/freightdesk.wasm")
        record "{\"kind\": \"bundle\", \"encoding\": \"$encoding\", \"bytes\": $bytes}"
      done
    done
  fi
  stop_server
}

psql -X -q "$pg_admin_url" -c "CREATE DATABASE $pg_db" >/dev/null
bench_backend postgres "${pg_admin_url%/*}/$pg_db"
bench_backend sqlite "sqlite:$work/bench.db"
mkdir -p "$(dirname "$out")"
python3 scripts/bench-web/figures.py "$raw" "$out"
say "wrote $out"
