#!/usr/bin/env bash
# Builds the npm package respoke-client into pkg/ (or $1): wasm-pack (--target web, release
# unless BUILD_PKG_DEV=1), then scripts/package.mjs (entry, types, README, package.json).
# Used by npm start, npm test and npm run bench.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-pkg}"
profile=(--release)
[[ "${BUILD_PKG_DEV:-0}" == 1 ]] && profile=(--dev)
wasm-pack build --target web "${profile[@]}" --out-dir "$OUT"
node scripts/package.mjs "$OUT"
