#!/usr/bin/env bash
# Runs every check of the project, in order, and stops at the first failure.
# `npm test` runs this script; `.ci/run` runs `npm test`.
#
# Stages: setup, format, lint (import cycles, clippy), native tests, the reconnect herd check, dev server build, wasm package build, dev server start
# (test ports), wasm browser tests in Chrome and Firefox, end-to-end tests of the demo (Playwright),
# the Vite consumer check, the respoke.js and respoke-admin compatibility checks. The dev server
# started here is always stopped on exit.
#
# Environment (all optional):
#   RESPOKE_TEST_API_ADDR  Respoke side of the test dev server   (default 127.0.0.1:3101)
#   RESPOKE_TEST_APP_ADDR  app server side of the test dev server (default 127.0.0.1:8180)
#   CHROMEDRIVER, GECKODRIVER, CHROMIUM  browser driver and binary paths
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-always}"

API_ADDR="${RESPOKE_TEST_API_ADDR:-127.0.0.1:3101}"
APP_ADDR="${RESPOKE_TEST_APP_ADDR:-127.0.0.1:8180}"
export RESPOKE_TEST_API="http://$API_ADDR"
export RESPOKE_TEST_APP="http://$APP_ADDR"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export GECKODRIVER="${GECKODRIVER:-$HOME/.cargo/bin/geckodriver}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
DEVSERVER_BIN="$TARGET_DIR/debug/respoke-devserver"
DEVSERVER_LOG="$TARGET_DIR/devserver-test.log"
DEVSERVER_PID=""
export DEVSERVER_BIN

PASSED=0
FAILED=0
T0=$SECONDS

banner() { printf '\n\033[1;36m==== %s ====\033[0m\n' "$*"; }
note() { printf '\033[1;34m[test]\033[0m %s\n' "$*"; }

summary() {
  printf '\n'
  note "total time $((SECONDS - T0)) s"
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
}

stop_devserver() {
  if [[ -n "$DEVSERVER_PID" ]] && kill -0 "$DEVSERVER_PID" 2>/dev/null; then
    note "stopping dev server (pid $DEVSERVER_PID)"
    kill "$DEVSERVER_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$DEVSERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$DEVSERVER_PID" 2>/dev/null
    wait "$DEVSERVER_PID" 2>/dev/null
  fi
  DEVSERVER_PID=""
}
STAGE_PID=""
on_exit() {
  if [[ -n "$STAGE_PID" ]]; then kill -TERM "$STAGE_PID" 2>/dev/null; wait "$STAGE_PID" 2>/dev/null; fi
  stop_devserver
}
trap on_exit EXIT
trap 'note "interrupted"; exit 130' INT TERM

# stage NAME TIMEOUT_SECS COMMAND... : runs one stage; on failure prints why and exits.
# COMMAND may be a function of this script (exported below) or a program. A limit of 0 runs a
# function in this shell itself, without a time limit (for the one that starts the dev server).
stage() {
  local name="$1" limit="$2"
  shift 2
  banner "$name"
  local start=$SECONDS rc
  if ((limit == 0)); then
    "$@"
    rc=$?
  else
    # timeout puts the command in its own process group and kills all of it (browsers included).
    if declare -F "$1" >/dev/null; then
      timeout -k 15 "$limit" bash -c '"$@"' stage "$@" &
    else
      timeout -k 15 "$limit" "$@" &
    fi
    STAGE_PID=$!
    wait "$STAGE_PID"
    rc=$?
    STAGE_PID=""
  fi
  if ((rc == 0)); then
    PASSED=$((PASSED + 1))
    note "PASSED: $name ($((SECONDS - start)) s)"
    return 0
  fi
  FAILED=$((FAILED + 1))
  if ((rc == 124 || rc == 137)); then
    printf '\033[1;31m[test] FAILED: %s timed out after %s s\033[0m\n' "$name" "$limit"
  else
    printf '\033[1;31m[test] FAILED: %s (exit code %d)\033[0m\n' "$name" "$rc"
  fi
  if [[ -n "$DEVSERVER_PID" && -f "$DEVSERVER_LOG" ]]; then
    note "last lines of the dev server log ($DEVSERVER_LOG):"
    tail -n 30 "$DEVSERVER_LOG"
  fi
  summary
  exit 1
}

# Forgets whatever the previous stage did to the dev server (outages, stalls, counters).
reset_devserver() {
  curl -fsS -X POST "$RESPOKE_TEST_API/dev/reset" >/dev/null 2>&1 || true
}

start_devserver() {
  if curl -s -o /dev/null --max-time 2 "$RESPOKE_TEST_API/" || curl -s -o /dev/null --max-time 2 "$RESPOKE_TEST_APP/"; then
    echo "something already listens on $API_ADDR or $APP_ADDR (a dev server left over from another run?)" >&2
    return 1
  fi
  note "starting $DEVSERVER_BIN on api $API_ADDR, app $APP_ADDR (log: $DEVSERVER_LOG)"
  RUST_LOG="${RUST_LOG:-info}" "$DEVSERVER_BIN" \
    --api-addr "$API_ADDR" --app-addr "$APP_ADDR" \
    --heartbeat-interval-secs 1 --heartbeat-timeout-secs 3 \
    >"$DEVSERVER_LOG" 2>&1 &
  DEVSERVER_PID=$!
  for _ in $(seq 1 100); do
    if ! kill -0 "$DEVSERVER_PID" 2>/dev/null; then
      echo "the dev server exited at start:" >&2
      cat "$DEVSERVER_LOG" >&2
      DEVSERVER_PID=""
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 2 "$RESPOKE_TEST_API/dev/stats" \
       && curl -fsS -o /dev/null --max-time 2 "$RESPOKE_TEST_APP/"; then
      note "dev server answers on $RESPOKE_TEST_API and $RESPOKE_TEST_APP"
      return 0
    fi
    sleep 0.2
  done
  echo "the dev server did not answer within 20 s" >&2
  return 1
}

# Keeps the package from growing back: gzip -9 of what wasm-pack built (wasm + JS glue), against
# a ceiling 3 KiB above the size measured by `npm run bench` (BENCHMARKS.md, section 1).
size_ratchet() {
  local ceiling=$((SIZE_CEILING_KIB * 1024)) wasm glue total
  wasm=$(gzip -9c pkg/respoke_client_bg.wasm | wc -c)
  glue=$(gzip -9c pkg/respoke_client.js | wc -c)
  total=$((wasm + glue))
  echo "wasm $wasm B + glue $glue B = $total B gzip -9 (ceiling $ceiling B)"
  if ((total > ceiling)); then
    echo "the package grew past the ceiling: see what changed with npm run bench (size breakdown)" >&2
    return 1
  fi
}

wasm_browser_tests() { # chrome|firefox
  reset_devserver
  # wasm-bindgen-test-runner gives the whole suite 20 s by default; ours talks to a real server
  # (drop cycles, outages, heartbeat timeouts) and needs minutes.
  export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-600}"
  # wasm-bindgen-test-runner picks the browser from whichever *DRIVER variable is set
  # (GECKODRIVER first), so each run sees only its own.
  if [[ "$1" == chrome ]]; then
    env -u GECKODRIVER wasm-pack test --headless --chrome --chromedriver "$CHROMEDRIVER"
  else
    env -u CHROMEDRIVER wasm-pack test --headless --firefox --geckodriver "$GECKODRIVER"
  fi
}

e2e_tests() {
  reset_devserver
  node --test --test-concurrency=1 --test-reporter=spec tests/e2e/
}

consumer_check() {
  reset_devserver
  bash tests/consumer/run.sh
}

# respoke.js spawns its own dev server (same binary, free ports, default heartbeats), as a real
# deployment's settings would be. Then the fidelity check: respoke-admin 1.9.0 (Node and page),
# presence on observe, a call to two connections, TURN credentials (its own two servers).
compat_check() {
  node tests/compat/respoke-js.mjs --server "$DEVSERVER_BIN" &&
    node tests/compat/respoke-fidelity.mjs --server "$DEVSERVER_BIN"
}

pack() {
  rm -f "$TARGET_DIR"/respoke-client-*.tgz
  (cd pkg && npm pack --pack-destination "$TARGET_DIR" --loglevel=warn)
  tar -tzf "$TARGET_DIR"/respoke-client-*.tgz
}

export SIZE_CEILING_KIB=127
export TARGET_DIR
export -f note reset_devserver size_ratchet pack wasm_browser_tests e2e_tests consumer_check compat_check

# ---------------------------------------------------------------------------------------------------
stage "setup: toolchains, browsers, drivers, npm packages" 3000 bash scripts/setup.sh
stage "format: cargo fmt --check" 300 cargo fmt --all -- --check
# Import cycles between modules, in every crate of the workspace: any cycle fails.
stage "lint: the cycle checker's own tests (node --test scripts/check-cycles.test.mjs)" 120 \
  node --test scripts/check-cycles.test.mjs
stage "lint: no import cycles between modules (scripts/check-cycles.mjs)" 120 \
  node scripts/check-cycles.mjs
stage "lint: cargo clippy -D warnings (native)" 1800 cargo clippy --workspace --all-targets -- -D warnings
# The browser shell and the browser tests only exist on wasm32: lint them there too.
stage "lint: cargo clippy -D warnings (wasm32: client, browser tests, Rust consumer)" 1800 \
  cargo clippy -p respoke-client -p respoke-rust-consumer --target wasm32-unknown-unknown --all-targets -- -D warnings
stage "native tests: cargo test --workspace" 1800 cargo test --workspace
# The reconnect herd (virtual time, seconds): the real core against respoke.js's and
# socket.io-client's schedules. `--check-honouring`: fewer attempts than both everywhere, sooner
# than both against a plain 503 and the load-derived Retry-After, and against a fixed
# Retry-After within 30 % of the bound any client honouring it is held to (benches/herd/src/main.rs).
stage "herd: benches/herd --check-honouring (the default backoff against a herd)" 900 \
  cargo run -q -p respoke-bench-herd -- --check-honouring
stage "build the dev server" 1200 cargo build -p respoke-devserver
# A front-end crate depending on respoke-client (default features) must build and link its own wasm.
stage "Rust consumer: tests/rust-consumer builds and links for wasm32" 1200 \
  cargo build -p respoke-rust-consumer --target wasm32-unknown-unknown
stage "build the npm package: scripts/build-pkg.sh (wasm-pack --release, wasm-opt, package.mjs; pkg/)" 1200 \
  bash scripts/build-pkg.sh
# The tarball users install (npm pack); the consumer check installs it, not a link.
stage "npm pack: target/respoke-client-*.tgz" 120 pack
stage "size ratchet: pkg/ wasm + glue, gzip -9 <= $SIZE_CEILING_KIB KiB" 60 size_ratchet
stage "start the dev server on test ports" 0 start_devserver

stage "wasm browser tests: headless Chrome" 1200 wasm_browser_tests chrome
stage "wasm browser tests: headless Firefox" 1200 wasm_browser_tests firefox
stage "end-to-end tests of the demo (Playwright, Chromium)" 900 e2e_tests
stage "consumer check: the packed tarball in Vite dev and build, webpack 5, Node; tsc --strict" 1200 consumer_check
stage "respoke.js 1.56 / respoke-admin 1.9.0 compatibility checks" 900 compat_check

stop_devserver
summary
((FAILED == 0))
