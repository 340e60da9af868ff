#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use answers: starts the machine's cluster if it does not,
# and fails loudly if it still does not. Also drops databases left by earlier test runs.
set -euo pipefail
url="$1"
if ! pg_isready -q -d "$url"; then
  echo "==> PostgreSQL is not answering at $url; starting the local cluster"
  version=$(ls /etc/postgresql 2>/dev/null | head -n1 || true)
  if [ -z "$version" ]; then
    echo "ERROR: PostgreSQL is not running and no local cluster is installed (/etc/postgresql)." >&2
    exit 1
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -d "$url" && break; sleep 1; done
fi
if ! pg_isready -q -d "$url"; then
  echo "ERROR: PostgreSQL at $url does not answer; the PostgreSQL tests cannot run." >&2
  exit 1
fi
psql -X -q -t -A "$url" -c "SELECT datname FROM pg_database WHERE datname LIKE 'fd_test_%'" |
  while read -r db; do
    [ -n "$db" ] && psql -X -q "$url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done
echo "==> PostgreSQL answers at $url"
