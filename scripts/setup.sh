#!/usr/bin/env bash
# Installs what building and testing this project needs, skipping whatever is already there,
# so a second run takes seconds. Safe to run any number of times.
#
#   bash scripts/setup.sh            everything (npm test runs this)
#   bash scripts/setup.sh --minimal  only what `npm start` needs: wasm target, wasm-pack, wasm-bindgen
#
# Runs as root on Debian (apt-get); elsewhere install chromium, chromedriver and firefox yourself.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive

MINIMAL=0
[[ "${1:-}" == "--minimal" ]] && MINIMAL=1

step() { printf '\n\033[1;34m[setup]\033[0m %s\n' "$*"; }
ok() { printf '\033[1;32m[setup]\033[0m   ok: %s\n' "$*"; }
die() { printf '\033[1;31m[setup] FAILED: %s\033[0m\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# -- Rust toolchain: wasm32 target ---------------------------------------------------------------
have cargo || die "cargo not found: install Rust with rustup first"
if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  ok "rust target wasm32-unknown-unknown"
else
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown || die "could not add the wasm32-unknown-unknown target"
fi

# -- wasm-pack ---------------------------------------------------------------------------------------
if have wasm-pack; then
  ok "$(wasm-pack --version)"
else
  step "cargo install wasm-pack (a few minutes on 2 cores)"
  cargo install wasm-pack --locked || cargo install wasm-pack
fi

# -- wasm-bindgen-cli, exactly the version in Cargo.lock ---------------------------------------------
# wasm-pack would otherwise try to download a prebuilt binary (no such network here) and then fall
# back to building it in its cache; installing it once ourselves is explicit and reusable.
# It also provides wasm-bindgen-test-runner for `wasm-pack test`.
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
[[ -n "$WB_VERSION" ]] || die "no wasm-bindgen in Cargo.lock"
if have wasm-bindgen && [[ "$(wasm-bindgen --version 2>/dev/null)" == "wasm-bindgen $WB_VERSION" ]] \
   && have wasm-bindgen-test-runner; then
  ok "wasm-bindgen $WB_VERSION"
else
  step "cargo install wasm-bindgen-cli --version $WB_VERSION (a few minutes on 2 cores)"
  # --locked is tried first; its lock file can name a since-yanked crate, then resolve afresh.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --locked --force \
    || cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
fi

if [[ "$MINIMAL" == 1 ]]; then
  ok "minimal setup done"
  exit 0
fi

# -- Browsers and drivers (Debian packages) ----------------------------------------------------------
missing_apt=()
[[ -x /usr/bin/chromium ]] || missing_apt+=(chromium)
[[ -x /usr/bin/chromedriver ]] || missing_apt+=(chromium-driver)
[[ -x /usr/bin/firefox-esr ]] || missing_apt+=(firefox-esr)
if ((${#missing_apt[@]} == 0)); then
  ok "chromium, chromium-driver, firefox-esr"
else
  have apt-get || die "missing ${missing_apt[*]} and no apt-get: install them by hand"
  step "apt-get install ${missing_apt[*]}"
  apt-get update -q
  apt-get install -y -q "${missing_apt[@]}"
fi

# -- geckodriver (Firefox's WebDriver) from crates.io -------------------------------------------------
if have geckodriver; then
  ok "$(geckodriver --version | head -n1)"
else
  step "cargo install geckodriver (a few minutes on 2 cores)"
  cargo install geckodriver --locked || cargo install geckodriver
fi

# -- npm packages ------------------------------------------------------------------------------------
have npm || die "npm not found (apt-get install nodejs npm)"
# Vite 8's lock file installs with npm 11; npm 10 fails on it.
if (( $(npm --version | cut -d. -f1) < 11 )); then
  step "npm $(npm --version) is too old for vite 8: npm install -g npm@11"
  npm install -g npm@11 --no-audit --no-fund
  hash -r
else
  ok "npm $(npm --version)"
fi
label() { [[ "$1" == "$ROOT" ]] && echo "." || echo "${1#"$ROOT"/}"; }
npm_install() { # dir
  local dir="$1"
  [[ -f "$dir/package.json" ]] || return 0
  # Skip when node_modules is newer than the lock file (npm writes node_modules/.package-lock.json).
  if [[ -f "$dir/package-lock.json" && -f "$dir/node_modules/.package-lock.json" \
        && ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" \
        && ! "$dir/package.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    ok "npm packages in $(label "$dir")"
    return 0
  fi
  if [[ -f "$dir/package-lock.json" ]]; then
    step "npm ci in $(label "$dir")"
    (cd "$dir" && npm ci --no-audit --no-fund)
  else
    step "npm install in $(label "$dir") (no package-lock.json)"
    (cd "$dir" && npm install --no-audit --no-fund)
  fi
}
npm_install "$ROOT"
npm_install "$ROOT/tests/compat"

ok "setup done"
