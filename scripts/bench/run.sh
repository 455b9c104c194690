#!/usr/bin/env bash
# npm run bench: builds what it needs, runs every benchmark of issue 6, prints a table and
# writes BENCHMARKS.md. Loopback only; every step is bounded in time and stops by itself.
#
#   1. size       release wasm + JS glue, gzip -9, against issue 11's 100 KiB; binaryen's wasm-opt
#                 tried; per-crate breakdown (twiggy); serde_json vs JSON.parse (benches/json)
#   2. herd       10,000 real cores in virtual time vs respoke.js / socket.io-client schedules,
#                 against the dev server's own admission (load shedding) model
#   3. browser    connect latency vs hand-written JS, cold start, 1,000 drop/reconnect cycles
#   4. load       dev server: concurrent sockets held, brokered exchanges per second
#   5. bad input  dev server (fresh): login flood, 1,100 idle connections, exchanges/s at
#                 0 / 10k / 50k live sessions, a consumer that stops reading
#   6. server     dev server (fresh) beside socket.io 0.9.19 (node, benches/socketio09): sockets
#                 held and RSS per socket, handshakes per second, same generator, same run
#
# Environment (all optional):
#   RESPOKE_BENCH_API_ADDR / RESPOKE_BENCH_APP_ADDR  dev server ports (default 127.0.0.1:3231 / :8331)
#   BENCH_SOCKETS (5000), BENCH_CONNECTS (60), BENCH_CYCLES (1000), BENCH_CLIENTS (10000)
#   BENCH_SKIP_SETUP=1     do not run scripts/setup.sh
#   BENCH_ONLY_BAD=1       run only section 5 (build, bad input, report)
#   BENCH_ONLY_SERVER=1    run only section 6 (build, server comparison, report)
#   RESPOKE_BENCH_SOCKETIO_ADDR  socket.io 0.9.19's address (default 127.0.0.1:3232)
#   BENCH_SERVER_SOCKETS (18000)  sockets held per server in section 6 (see run_server_compare)
#   BENCH_SERVER_HOLD_SECS (30), BENCH_SERVER_HANDSHAKE_SECS (5), BENCH_SERVER_ROUNDS (3)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-bench}"
OUT="$CARGO_TARGET_DIR/bench"
API_ADDR="${RESPOKE_BENCH_API_ADDR:-127.0.0.1:3231}"
APP_ADDR="${RESPOKE_BENCH_APP_ADDR:-127.0.0.1:8331}"
SOCKETIO_ADDR="${RESPOKE_BENCH_SOCKETIO_ADDR:-127.0.0.1:3232}"
DEVSERVER_PID=""
SOCKETIO_PID=""
T0=$SECONDS

note() { printf '\033[1;34m[bench]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[bench] FAILED: %s\033[0m\n' "$*" >&2; exit 1; }

# stop_pid PID: TERM, up to 5 s to exit, then KILL.
stop_pid() {
  local pid="$1"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
}
stop_devserver() {
  stop_pid "$DEVSERVER_PID"
  DEVSERVER_PID=""
}
start_devserver() {
  # Extra flags (section 6) come as arguments.
  note "dev server on $API_ADDR / $APP_ADDR (open files limit $(ulimit -n)) $*"
  RUST_LOG=warn "$CARGO_TARGET_DIR/release/respoke-devserver" --api-addr "$API_ADDR" --app-addr "$APP_ADDR" \
    --www www --pkg "$OUT/pkg" "$@" >>"$OUT/devserver.log" 2>&1 &
  DEVSERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://$API_ADDR/dev/state" >/dev/null 2>&1 && break
    kill -0 "$DEVSERVER_PID" 2>/dev/null || { tail -20 "$OUT/devserver.log"; die "dev server exited"; }
    sleep 0.1
  done
  curl -fsS "http://$API_ADDR/dev/state" >/dev/null || die "dev server not answering"
}

run_bad_input() {
  # A fresh server: the exchange rates are measured from 0 live sessions.
  start_devserver
  note "5. bad input and load: login flood, idle connections, exchanges at 0/10k/50k sessions, slow consumer"
  timeout 300 "$CARGO_TARGET_DIR/release/load" --bad-input --api "http://$API_ADDR" --app "http://$APP_ADDR" \
    --flood-secs 10 --max-secs 240 --server-pid "$DEVSERVER_PID" --json "$OUT/bad.json" ||
    note "bad-input measurements failed (see above); continuing"
  stop_devserver
}

stop_socketio() {
  stop_pid "$SOCKETIO_PID"
  SOCKETIO_PID=""
}

# socket.io 0.9.19 into benches/socketio09/node_modules (its own package.json and lock, not
# the root's). --ignore-scripts: the only install script in its tree is ws 0.4's node-gyp
# build of optional native helpers (bufferutil, validation); ws belongs to socket.io-client,
# which the server requires only to serve the browser client file (turned off). The server's
# WebSocket is socket.io's own (lib/transports/websocket/hybi-16.js), pure JS.
install_socketio() {
  if [[ ! -f benches/socketio09/node_modules/socket.io/package.json ]]; then
    note "npm ci --ignore-scripts in benches/socketio09 (socket.io 0.9.19)"
    (cd benches/socketio09 && timeout 300 npm ci --ignore-scripts --no-audit --no-fund) >>"$OUT/setup.log" 2>&1 ||
      { tail -20 "$OUT/setup.log"; return 1; }
  fi
}

# Section 6: fresh servers, the same generator against both in one run. The dev server's
# connection bound is raised to fit the held sockets, and its app listener (unused here) is
# bounded to 256 so that the API listener gets the rest of the open-file limit (20,000 on
# this machine, hard); node takes the shell's limit. Each held socket is a descriptor in the
# generator too: 18,000 fit.
run_server_compare() {
  install_socketio || { note "socket.io 0.9.19 could not be installed: no server comparison"; return 0; }
  local sockets="${BENCH_SERVER_SOCKETS:-18000}"
  start_devserver --max-connections $((sockets + 500)) --max-app-connections 256
  note "socket.io 0.9.19 on $SOCKETIO_ADDR"
  node benches/socketio09/server.js --port "${SOCKETIO_ADDR##*:}" --max-secs 900 >>"$OUT/socketio09.log" 2>&1 &
  SOCKETIO_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://$SOCKETIO_ADDR/socket.io/1/?t=0" >/dev/null 2>&1 && break
    kill -0 "$SOCKETIO_PID" 2>/dev/null || break
    sleep 0.1
  done
  if curl -fsS "http://$SOCKETIO_ADDR/socket.io/1/?t=0" >/dev/null 2>&1; then
    note "6. server: dev server beside socket.io 0.9.19 ($sockets sockets held each, then handshakes/s)"
    timeout 900 "$CARGO_TARGET_DIR/release/load" --compare \
      --devserver "http://$API_ADDR" --devserver-pid "$DEVSERVER_PID" \
      --socketio "http://$SOCKETIO_ADDR" --socketio-pid "$SOCKETIO_PID" \
      --sources 8 --hold-sockets "$sockets" --hold-secs "${BENCH_SERVER_HOLD_SECS:-30}" --open-concurrency 64 \
      --handshake-secs "${BENCH_SERVER_HANDSHAKE_SECS:-5}" --handshake-concurrency 64 --rounds "${BENCH_SERVER_ROUNDS:-3}" \
      --max-secs 800 --json "$OUT/server.json" ||
      note "server comparison failed (see above); continuing"
  else
    tail -20 "$OUT/socketio09.log"
    note "socket.io 0.9.19 did not answer: no server comparison"
  fi
  stop_socketio
  stop_devserver
}

trap 'stop_devserver; stop_socketio' EXIT
trap 'note "interrupted"; exit 130' INT TERM

mkdir -p "$OUT"

# only_section NAME FUNCTION: build the dev server and the load generator, run FUNCTION alone
# (it writes $OUT/NAME.json), report it to $OUT/BENCHMARKS-NAME.md and exit (BENCHMARKS.md and
# the other JSON are left alone).
only_section() {
  local name="$1" run="$2"
  timeout 1200 cargo build --release -q -p respoke-devserver -p respoke-bench-load || die "cargo build"
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  rm -f "$OUT/$name.json"
  "$run"
  mkdir -p "$OUT/only-$name"
  cp "$OUT/$name.json" "$OUT/only-$name/" 2>/dev/null || die "no $name.json"
  node scripts/bench/report.mjs --dir "$OUT/only-$name" --out "$OUT/BENCHMARKS-$name.md" --seconds $((SECONDS - T0)) || die "report"
  exit 0
}
# BENCH_ONLY_BAD=1: section 5 alone, reported to $OUT/BENCHMARKS-bad.md.
if [[ "${BENCH_ONLY_BAD:-0}" == 1 ]]; then
  note "BENCH_ONLY_BAD=1: section 5 only"
  only_section bad run_bad_input
fi
# BENCH_ONLY_SERVER=1: section 6 alone, reported to $OUT/BENCHMARKS-server.md.
if [[ "${BENCH_ONLY_SERVER:-0}" == 1 ]]; then
  note "BENCH_ONLY_SERVER=1: section 6 only"
  only_section server run_server_compare
fi
rm -f "$OUT"/*.json

# -- setup -------------------------------------------------------------------------------------
if [[ "${BENCH_SKIP_SETUP:-0}" != 1 ]]; then
  note "setup (scripts/setup.sh)"
  bash scripts/setup.sh >"$OUT/setup.log" 2>&1 || { tail -20 "$OUT/setup.log"; die "setup"; }
fi
if [[ ! -x node_modules/.bin/wasm-opt ]]; then
  note "npm ci (binaryen's wasm-opt is a devDependency)"
  npm ci --no-audit --no-fund >>"$OUT/setup.log" 2>&1 || note "npm ci failed: no wasm-opt figures"
fi
if ! command -v twiggy >/dev/null; then
  note "cargo install twiggy (for the size breakdown; ~1 min)"
  cargo install twiggy --locked >>"$OUT/setup.log" 2>&1 || note "twiggy unavailable: no breakdown"
fi

# -- build -------------------------------------------------------------------------------------
note "cargo build --release (dev server, herd, load generator) into $CARGO_TARGET_DIR"
timeout 1200 cargo build --release -q -p respoke-devserver -p respoke-bench-herd -p respoke-bench-load ||
  die "cargo build"
note "scripts/build-pkg.sh (wasm-pack build --target web --release, then wasm-opt) -> $OUT/pkg"
timeout 900 bash scripts/build-pkg.sh --out-dir "$OUT/pkg" --no-pack >"$OUT/wasm-pack.log" 2>&1 ||
  { tail -30 "$OUT/wasm-pack.log"; die "scripts/build-pkg.sh"; }
# The same build before wasm-opt (cargo has nothing to do: only wasm-bindgen runs again), for the
# wasm-opt comparison of the size benchmark.
note "wasm-pack build --target web --release, no wasm-opt -> $OUT/pkg-wasm-pack"
timeout 900 wasm-pack --quiet build --target web --release --out-dir "$OUT/pkg-wasm-pack" --no-pack >>"$OUT/wasm-pack.log" 2>&1 ||
  { tail -30 "$OUT/wasm-pack.log"; die "wasm-pack build"; }
# The release profile strips the name section (as shipped); the per-crate breakdown needs the
# names, so a second copy is built with them kept. Only the size benchmark reads it.
note "wasm-pack build --release with function names (for the size breakdown) -> $OUT/pkg-names"
CARGO_PROFILE_RELEASE_STRIP=false timeout 900 wasm-pack --quiet build --target web --release \
  --out-dir "$OUT/pkg-names" --no-pack >"$OUT/wasm-pack-names.log" 2>&1 ||
  { tail -30 "$OUT/wasm-pack-names.log"; die "wasm-pack build (names)"; }

# -- 1. size -----------------------------------------------------------------------------------
note "1. size"
timeout 600 node scripts/bench/size.mjs --pkg "$OUT/pkg" --wasm-pack-pkg "$OUT/pkg-wasm-pack" --names-pkg "$OUT/pkg-names" \
  --json "$OUT/size.json" || die "size"
# Issue 11's JSON question: benches/json built with each decoder alone (their sizes) and with both
# (timed against each other in headless Chromium).
note "1b. JSON decode: serde_json vs JSON.parse + serde-wasm-bindgen (benches/json)"
for variant in text:serde-json parsed:js-parse both:serde-json,js-parse; do
  timeout 900 wasm-pack --quiet build benches/json --target web --release --out-dir "$OUT/json/${variant%%:*}" \
    --no-pack -- --no-default-features --features "${variant#*:}" >>"$OUT/wasm-pack-json.log" 2>&1 ||
    { tail -30 "$OUT/wasm-pack-json.log"; die "wasm-pack build benches/json (${variant%%:*})"; }
done
timeout 300 node scripts/bench/json-decode.mjs --dir "$OUT/json" --json "$OUT/json-decode.json" ||
  note "JSON decode benchmark failed (see above); continuing"

# -- 2. herd -----------------------------------------------------------------------------------
note "2. reconnect herd (virtual time)"
timeout 300 "$CARGO_TARGET_DIR/release/herd" --clients "${BENCH_CLIENTS:-10000}" --capacity 500 \
  --variant 2000:10000:2 --variant 1000:5000:2 --json "$OUT/herd.json" || die "herd"

# -- dev server --------------------------------------------------------------------------------
# 5,000 sockets need more descriptors than the usual 1024, in the server and the generator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
start_devserver

# -- 3. browser --------------------------------------------------------------------------------
note "3. browser: connect latency, cold start, drop/reconnect soak (headless Chromium)"
timeout 420 node scripts/bench/browser.mjs --app "http://$APP_ADDR" --api "http://$API_ADDR" \
  --connects "${BENCH_CONNECTS:-60}" --cold 8 --cycles "${BENCH_CYCLES:-1000}" --json "$OUT/browser.json" ||
  note "browser benchmarks failed (see above); continuing"

# -- 4. load -----------------------------------------------------------------------------------
note "4. dev server load: exchanges/s, concurrent sockets"
timeout 300 "$CARGO_TARGET_DIR/release/load" --api "http://$API_ADDR" --sockets "${BENCH_SOCKETS:-5000}" \
  --exchange-secs 5 --workers 32 --hold-secs 5 --max-secs 240 --server-pid "$DEVSERVER_PID" \
  --json "$OUT/load.json" || note "load generator failed (see above); continuing"
stop_devserver

# -- 5. bad input and load -----------------------------------------------------------------------
run_bad_input

# -- 6. server: the dev server beside socket.io 0.9.19 ----------------------------------------------
run_server_compare

# -- report ------------------------------------------------------------------------------------
note "report -> BENCHMARKS.md"
node scripts/bench/report.mjs --dir "$OUT" --out BENCHMARKS.md --seconds $((SECONDS - T0)) || die "report"
