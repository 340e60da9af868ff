#!/usr/bin/env bash
# Installs what is not on the machine yet, for one purpose. Idempotent.
#   install-tools.sh run   WASM_BINDGEN_VERSION   building and serving (`make run`)
#   install-tools.sh test  WASM_BINDGEN_VERSION   the above, plus Chromium, Playwright, psql (`make test`)
#   install-tools.sh bench                        wrk, psql, Chromium and Playwright (`make bench`)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:?usage: install-tools.sh run|test|bench [WASM_BINDGEN_VERSION]}"
wasm_bindgen_version="${2:-}"

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=false
apt_install() {
  echo "==> apt-get install $*"
  if ! $apt_updated; then
    sudo_if_needed apt-get update -qq
    apt_updated=true
  fi
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

install_build_tools() {
  command -v cc >/dev/null || apt_install build-essential
  # wasm-strip (wabt), brotli and pigz (zopfli gzip) make the browser bundle smaller; the build
  # works without them.
  local optional=()
  command -v wasm-strip >/dev/null || optional+=(wabt)
  command -v brotli >/dev/null || optional+=(brotli)
  command -v pigz >/dev/null || optional+=(pigz)
  if [ ${#optional[@]} -gt 0 ]; then
    apt_install "${optional[@]}" ||
      echo "==> could not install ${optional[*]}: the bundle is built without them (larger, gzip only)"
  fi

  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "==> rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(.tools/bin/wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wasm_bindgen_version" ]; then
    echo "==> cargo install wasm-bindgen-cli $wasm_bindgen_version (into .tools/, about 2 minutes)"
    cargo install wasm-bindgen-cli --version "$wasm_bindgen_version" --root .tools --force
  fi

  install_wasm_opt
}

# wasm-opt from npm's binaryen (JavaScript and WebAssembly, run by node; Debian's binaryen 108
# breaks the bundle), into .tools/binaryen. Optional: scripts/build-site.sh does without it.
binaryen_version=132.0.0
install_wasm_opt() {
  local dir=.tools/binaryen
  local installed
  installed="$(node -p "require('./$dir/node_modules/binaryen/package.json').version" 2>/dev/null || true)"
  [ "$installed" != "$binaryen_version" ] || return 0
  if ! command -v npm >/dev/null; then
    echo "==> npm not found: the bundle is built without wasm-opt (about 1% larger; apt-get install npm)"
    return 0
  fi
  echo "==> npm install binaryen@$binaryen_version (wasm-opt, into $dir/)"
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{ "private": true }' >"$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --no-save --no-package-lock \
    "binaryen@$binaryen_version" ||
    echo "==> could not install binaryen: the bundle is built without wasm-opt (about 1% larger)"
}

install_browser_tools() {
  local packages=()
  command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || packages+=(chromium)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
  command -v psql >/dev/null || packages+=(postgresql-client)
  if [ ${#packages[@]} -gt 0 ]; then apt_install "${packages[@]}"; fi
  if [ ! -x end2end/node_modules/.bin/playwright ]; then
    echo "==> npm ci (end2end)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

install_bench_tools() {
  local packages=()
  command -v wrk >/dev/null || packages+=(wrk)
  command -v python3 >/dev/null || packages+=(python3)
  if [ ${#packages[@]} -gt 0 ]; then apt_install "${packages[@]}"; fi
}

case "$mode" in
  run) install_build_tools ;;
  # npm may arrive only with the browser tools; wasm-opt is installed once it is there.
  test) install_build_tools && install_browser_tools && install_wasm_opt ;;
  bench) install_browser_tools && install_bench_tools ;;
  *) echo "install-tools.sh: unknown purpose '$mode' (run, test or bench)" >&2; exit 2 ;;
esac
