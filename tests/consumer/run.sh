#!/usr/bin/env bash
# The consumer check (a stage of scripts/test.sh; needs the dev server running on the test ports):
#  1. wasm-pack build --target bundler into tests/consumer/pkg-bundler (an npm package);
#  2. install it in this minimal app as a file: dependency, as a user would install ours;
#  3. vite build (vite-plugin-wasm loads the .wasm the bundler target imports);
#  4. tsc --noEmit --strict of typecheck.ts against pkg/respoke_client.d.ts;
#  5. serve dist/ with vite preview and check in headless Chromium that it connects.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="$ROOT/node_modules/.bin"
cd "$ROOT"

echo "[consumer] wasm-pack build --target bundler --release --out-dir tests/consumer/pkg-bundler"
wasm-pack build --target bundler --release --out-dir tests/consumer/pkg-bundler

echo "[consumer] npm install (respoke-client as file:./pkg-bundler)"
(cd "$HERE" && npm install --no-package-lock --no-audit --no-fund --loglevel=error)

echo "[consumer] vite build"
(cd "$HERE" && "$BIN/vite" build --config vite.config.js)
ls -l "$HERE"/dist/assets

echo "[consumer] tsc --noEmit --strict against pkg/respoke_client.d.ts ($("$BIN/tsc" --version))"
[[ -f "$ROOT/pkg/respoke_client.d.ts" ]] || { echo "pkg/respoke_client.d.ts is missing: run wasm-pack build --target web first" >&2; exit 1; }
"$BIN/tsc" --noEmit --strict -p "$HERE/tsconfig.json"

echo "[consumer] vite preview + headless Chromium"
node "$HERE/check.mjs"
