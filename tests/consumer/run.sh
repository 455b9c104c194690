#!/usr/bin/env bash
# The consumer check (a stage of scripts/test.sh; needs the dev server running on the test ports
# and the tarball from the npm pack stage):
#  1. install target/respoke-client-*.tgz into this minimal app (a copy, not a link), as a user
#     installs it;
#  2. tsc --noEmit --strict: typecheck.ts must compile, typecheck-errors.ts must fail exactly at
#     its `@ts-expect-error` lines (each is a mistake the types must catch);
#  3. import the package in Node: it must not crash (server-side rendering imports it);
#  4. the app in headless Chromium from Vite's dev server, a Vite build and a webpack 5 build.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="$ROOT/node_modules/.bin"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$HERE"

tarball=$(ls "$TARGET_DIR"/respoke-client-*.tgz 2>/dev/null | head -n1)
[[ -n "$tarball" ]] || { echo "no target/respoke-client-*.tgz: run the npm pack stage first" >&2; exit 1; }
echo "[consumer] npm install $tarball"
rm -rf node_modules/respoke-client
npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$tarball"
[[ ! -L node_modules/respoke-client ]] || { echo "installed as a link" >&2; exit 1; }

echo "[consumer] tsc --noEmit --strict ($("$BIN/tsc" --version))"
"$BIN/tsc" --noEmit --strict -p tsconfig.json

echo "[consumer] import in Node"
node --input-type=module -e '
  const pkg = await import("respoke-client");
  for (const name of ["default", "connect", "Client", "RespokeError", "UnauthorizedError"]) {
    if (typeof pkg[name] !== "function") throw new Error(`missing export ${name}`);
  }
  try { pkg.connect({ baseUrl: "http://127.0.0.1:1", tokenUrl: "/t" }); throw new Error("connect before init did not throw"); }
  catch (e) { if (!(e instanceof pkg.RespokeError) || e.code !== "NOT_INITIALIZED") throw e; }
  console.log("[consumer] Node import: ok (connect before init: NOT_INITIALIZED)");
'

echo "[consumer] Vite dev, Vite build, webpack 5 in headless Chromium"
node check.mjs
