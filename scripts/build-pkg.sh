#!/usr/bin/env bash
# Builds the npm package respoke-client the way it ships:
#  1. `wasm-pack build --target web --release` (wasm-pack's own wasm-opt is off: it would
#     download one);
#  2. binaryen's wasm-opt from node_modules (the npm package `binaryen`, a devDependency; `npm ci`
#     installs it) with the flags measured best in BENCHMARKS.md, section 1;
#  3. scripts/package.mjs: the entry (index.js), its types, the users' README, package.json.
# npm test, npm start and npm run bench all build the package here.
#
#   bash scripts/build-pkg.sh [--out-dir DIR] [other wasm-pack build options]   (default pkg/)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT_DIR="pkg"
args=("$@")
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --out-dir) OUT_DIR="${args[$((i + 1))]:-$OUT_DIR}" ;;
    --out-dir=*) OUT_DIR="${args[$i]#--out-dir=}" ;;
  esac
done
wasm-pack build --target web --release "$@"
[[ "$OUT_DIR" = /* ]] || OUT_DIR="$ROOT/$OUT_DIR"
WASM="$OUT_DIR/respoke_client_bg.wasm"

WASM_OPT="$ROOT/node_modules/.bin/wasm-opt"
if [[ -x "$WASM_OPT" ]]; then
  # rustc's default wasm features, stated: the release profile's `strip = true` removed the
  # target_features section that would tell wasm-opt. -O2 at shrink level 1, without inlining
  # functions into their only caller: binaryen's -Oz and -Os inline those, and the result
  # compresses worse than LLVM's own output (section 1 lists each variant measured).
  WASM_OPT_FLAGS=(
    --enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int
    --enable-sign-ext --enable-reference-types --enable-multivalue
    -O2 --shrink-level=1 --one-caller-inline-max-function-size=0
    --strip-debug --strip-producers --strip-target-features
  )
  "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$WASM" -o "$WASM.opt"
  mv "$WASM.opt" "$WASM"
else
  echo "build-pkg: $WASM_OPT not found (npm ci installs it): the wasm is left as wasm-pack built it, ~5 KiB larger" >&2
fi
node scripts/package.mjs "$OUT_DIR"
