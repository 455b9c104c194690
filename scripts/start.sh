#!/usr/bin/env bash
# `npm start`: installs the minimum (wasm target, wasm-pack, wasm-bindgen), builds the wasm
# package into pkg/, and runs the dev server (Respoke side on 127.0.0.1:3001, example app server
# with the demo on 127.0.0.1:8080; heartbeats every 2 s, 6 s heartbeat timeout). Extra arguments
# go to the dev server, e.g.
#   npm start -- --heartbeat-interval-secs 25 --heartbeat-timeout-secs 60
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1;34m[start]\033[0m %s\n' "$*"; }

step "setup (minimal)"
bash scripts/setup.sh --minimal

step "scripts/build-pkg.sh (wasm-pack build --target web --release, wasm-opt, the npm package; pkg/)"
bash scripts/build-pkg.sh

step "building the dev server"
cargo build -p respoke-devserver

APP_ADDR="127.0.0.1:8080"
args=("$@")
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --app-addr) APP_ADDR="${args[$((i + 1))]:-$APP_ADDR}" ;;
    --app-addr=*) APP_ADDR="${args[$i]#--app-addr=}" ;;
  esac
done
# Short heartbeats, so that the demo's "stall" shows the client's liveness check within seconds
# (a real Respoke server advertised 60 s). Flags given to npm start win.
defaults=()
[[ " $* " == *" --heartbeat-interval-secs"* ]] || defaults+=(--heartbeat-interval-secs 2)
[[ " $* " == *" --heartbeat-timeout-secs"* ]] || defaults+=(--heartbeat-timeout-secs 6)

printf '\n\033[1;32m[start] Open http://%s/\033[0m  (Ctrl-C stops the server)\n\n' "$APP_ADDR"
exec "${CARGO_TARGET_DIR:-$ROOT/target}/debug/respoke-devserver" "${defaults[@]}" "$@"
