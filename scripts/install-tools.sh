#!/usr/bin/env bash
# Installs what the build and the tests need and is not on the machine yet. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
wasm_bindgen_version="$1"

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=()
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
command -v node >/dev/null || apt_packages+=(nodejs)
command -v npm >/dev/null || apt_packages+=(npm)
command -v psql >/dev/null || apt_packages+=(postgresql-client)
command -v cc >/dev/null || apt_packages+=(build-essential)
if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "==> apt-get install ${apt_packages[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}"
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "==> rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(.tools/bin/wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wasm_bindgen_version" ]; then
  echo "==> cargo install wasm-bindgen-cli $wasm_bindgen_version (into .tools/)"
  cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --root .tools --force
fi

if [ ! -x end2end/node_modules/.bin/playwright ]; then
  echo "==> npm ci (end2end)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
