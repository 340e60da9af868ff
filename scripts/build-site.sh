#!/usr/bin/env bash
# Builds what the browser downloads into target/site: the WebAssembly bundle (cargo profile
# $WASM_PROFILE, by default `wasm-release`: opt-level "z", LTO, one codegen unit), its JavaScript
# glue (wasm-bindgen), without duplicate functions (wasm-opt) and stripped of its names, the
# stylesheet and the public assets, and a precompressed .br and .gz beside each file, which the
# server sends to browsers that accept them.
# WASM_PROFILE=dev builds the unoptimised bundle (quicker to build, about 7 times larger).
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${WASM_PROFILE:-wasm-release}"
target_dir="${WASM_TARGET:-target/wasm}"
site="${LEPTOS_SITE_ROOT:-target/site}"
pkg="$site/${LEPTOS_SITE_PKG_DIR:-pkg}"
case "$profile" in
  dev) profile_dir=debug ;;
  *) profile_dir="$profile" ;;
esac

echo "==> browser bundle: cargo build --profile $profile (wasm32-unknown-unknown)"
CARGO_TARGET_DIR="$target_dir" cargo build --lib --target wasm32-unknown-unknown \
  --no-default-features --features hydrate --profile "$profile"

mkdir -p "$pkg"
# Variants of an earlier build must not outlive it: every compressed file is written anew below.
find "$site" -type f \( -name '*.br' -o -name '*.gz' \) -delete
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name freightdesk \
  "$target_dir/wasm32-unknown-unknown/$profile_dir/freightdesk.wasm"
# The server is built with LEPTOS_OUTPUT_NAME set, so it links `freightdesk.wasm` (as cargo-leptos names it).
mv "$pkg/freightdesk_bg.wasm" "$pkg/freightdesk.wasm"

# wasm-opt (binaryen from npm, installed by scripts/install-tools.sh into .tools/binaryen) drops
# duplicate and unused functions. Only those passes: its -Oz/-Os pipelines make the file about
# 10% smaller but compress 13% worse (gzip and brotli), and Debian's wasm-opt (binaryen 108)
# writes the export of wasm-bindgen's externref table with the wrong index, so the bundle fails
# to start.
wasm_opt="${WASM_OPT:-.tools/binaryen/node_modules/binaryen/bin/wasm-opt}"
if [ "$profile" = dev ]; then
  echo "==> wasm-opt: skipped for the dev profile"
elif [ -f "$wasm_opt" ] && command -v node >/dev/null; then
  echo "==> wasm-opt (duplicate and unused functions)"
  if node "$wasm_opt" --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-reference-types --enable-mutable-globals --enable-multivalue \
    --duplicate-function-elimination --remove-unused-module-elements --vacuum \
    "$pkg/freightdesk.wasm" -o "$pkg/freightdesk.opt.wasm"; then
    mv "$pkg/freightdesk.opt.wasm" "$pkg/freightdesk.wasm"
  else
    rm -f "$pkg/freightdesk.opt.wasm"
    echo "==> wasm-opt failed: the bundle is used as wasm-bindgen wrote it (about 1% larger)"
  fi
else
  echo "==> wasm-opt not found ($wasm_opt, run by node): the bundle is about 1% larger." \
    "Install it with: make tools"
fi

# The name section (function names for stack traces) is more than half of the file and no
# browser needs it.
if [ "$profile" = dev ]; then
  echo "==> wasm-strip: skipped for the dev profile"
elif command -v wasm-strip >/dev/null; then
  echo "==> wasm-strip (names and other custom sections)"
  wasm-strip "$pkg/freightdesk.wasm"
else
  echo "==> wasm-strip not found: the bundle keeps its name section (about twice as large)." \
    "Install it with: apt-get install wabt"
fi

cp style/main.css "$pkg/freightdesk.css"
cp -r public/. "$site/"

# The .gz variants are written by pigz's zopfli mode (-11) where it is installed: the same
# gzip format, about 5% smaller than gzip -9 (some 30 seconds more for the bundle on 2 cores).
if command -v pigz >/dev/null; then
  gzip_cmd=(pigz -11 -I 5 -n -k -f)
else
  gzip_cmd=(gzip -9 -n -k -f)
  echo "==> pigz not found: gzip -9 writes the .gz variants (about 5% larger; apt-get install pigz)"
fi
if command -v brotli >/dev/null; then
  encoders=("${gzip_cmd[0]}" brotli)
else
  encoders=("${gzip_cmd[0]}")
  echo "==> brotli not found: only gzip variants are written (apt-get install brotli)"
fi
echo "==> precompressing the site: ${encoders[*]}"
find "$site" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.svg' \) -print0 |
  while IFS= read -r -d '' file; do
    "${gzip_cmd[@]}" "$file"
    if [ ${#encoders[@]} -gt 1 ]; then brotli -q 11 -k -f "$file"; fi
  done

wasm="$pkg/freightdesk.wasm"
sizes="$(stat -c %s "$wasm") bytes, $(stat -c %s "$wasm.gz") gzipped"
[ ! -f "$wasm.br" ] || sizes+=", $(stat -c %s "$wasm.br") brotli"
echo "==> $wasm: $sizes"
