#!/usr/bin/env bash
# Throwaway size variants (issue 6, item 1): builds the committed client (git HEAD) in /tmp
# with one dependency swapped out at a time, and records what each removal saves in
# benches/size/variants.json. Never touches the work tree's src/. Several minutes on 2 cores.
#
#   base    HEAD as it is
#   lol     the global allocator swapped: dlmalloc -> lol_alloc (AssumeSingleThreaded<FreeListAllocator>)
#   noswb   serde-wasm-bindgen dropped: events/stats go out as serde_json text + JSON.parse
#   nogloo  gloo-net dropped: fetch through web-sys directly (RequestInit, Headers, Response)
#   all     the three together
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${SIZE_VARIANTS_DIR:-/tmp/respoke-size-variants}"
export CARGO_TARGET_DIR="$WORK/target"
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p "$WORK"
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD)"

fresh() { rm -rf "$WORK/$1"; mkdir -p "$WORK/$1"; git -C "$ROOT" archive HEAD | tar -x -C "$WORK/$1"; }

patch_lol() { python3 - "$1" <<'EOF'
import sys; d = sys.argv[1]
p = d + '/Cargo.toml'; s = open(p).read()
s = s.replace('futures-channel = "0.3"\n', 'futures-channel = "0.3"\nlol_alloc = "0.4"\n', 1); open(p, 'w').write(s)
p = d + '/src/lib.rs'; s = open(p).read()
s += '''
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
'''
open(p, 'w').write(s)
EOF
}

patch_noswb() { python3 - "$1" <<'EOF'
import re, sys; d = sys.argv[1]
via_json = lambda expr: f'serde_json::to_string({expr}).ok().and_then(|t| js_sys::JSON::parse(&t).ok()).unwrap_or(JsValue::UNDEFINED)'
for name in ['/src/browser/js.rs', '/src/browser/mod.rs']:
    p = d + name; s = open(p).read()
    s = re.sub(r'serde_wasm_bindgen::to_value\(&self\.shared\.state\(\)\)\s*\.ok\(\)\s*\.and_then\(\|v\| v\.as_string\(\)\)',
               'serde_json::to_value(self.shared.state()).ok().and_then(|v| v.as_str().map(str::to_owned))', s)
    s = re.sub(r'serde_wasm_bindgen::to_value\(([^()]*(?:\([^()]*\))*[^()]*)\)\.unwrap_or\(JsValue::UNDEFINED\)',
               lambda m: via_json(m.group(1)), s)
    open(p, 'w').write(s)
p = d + '/Cargo.toml'; s = open(p).read()
s = s.replace('serde-wasm-bindgen = "0.6"\n', ''); open(p, 'w').write(s)
EOF
  if grep -rq serde_wasm_bindgen "$1/src"; then echo "noswb: serde_wasm_bindgen still used" >&2; return 1; fi
}

patch_nogloo() {
  cat >"$1/src/browser/http.rs" <<'EOF'
//! fetch for the core's HTTP commands (raw web-sys), each with its own AbortController.
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, RequestCredentials, RequestInit, Response};

use crate::core::{Credentials, HttpError, HttpRequest, HttpResponse};

/// Bodies above this are refused.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn network(error: wasm_bindgen::JsValue) -> HttpError {
    HttpError::Network(
        js_sys::Reflect::get(&error, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "fetch failed".into()),
    )
}

/// Performs `request`; never panics.
pub async fn perform(request: HttpRequest, signal: AbortSignal) -> Result<HttpResponse, HttpError> {
    let init = RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_credentials(match request.credentials {
        Credentials::Include => RequestCredentials::Include,
        Credentials::SameOrigin => RequestCredentials::SameOrigin,
        Credentials::Omit => RequestCredentials::Omit,
    });
    init.set_signal(Some(&signal));
    let headers = web_sys::Headers::new().map_err(network)?;
    for (name, value) in &request.headers {
        headers.set(name, value).map_err(network)?;
    }
    init.set_headers(&headers);
    if let Some(body) = &request.body {
        init.set_body(&wasm_bindgen::JsValue::from_str(body));
    }
    let global: web_sys::Window = js_sys::global().unchecked_into();
    let response: Response = JsFuture::from(global.fetch_with_str_and_init(&request.url, &init))
        .await
        .map_err(network)?
        .unchecked_into();
    let declared = response.headers().get("content-length").ok().flatten()
        .and_then(|length| length.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(HttpError::BodyTooLarge { limit: MAX_BODY_BYTES });
    }
    let status = response.status();
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let body = JsFuture::from(response.text().map_err(network)?).await.map_err(network)?
        .as_string().unwrap_or_default();
    if body.len() > MAX_BODY_BYTES {
        return Err(HttpError::BodyTooLarge { limit: MAX_BODY_BYTES });
    }
    Ok(HttpResponse { status, retry_after, body, wall_clock_ms: js_sys::Date::now() as u64 })
}
EOF
  python3 - "$1" <<'EOF'
import sys; d = sys.argv[1]
p = d + '/Cargo.toml'; s = open(p).read()
s = s.replace('gloo-net = { version = "0.6", default-features = false, features = ["http"] }\n', '')
s = s.replace('"Headers", "RequestCredentials",', '"Headers", "RequestCredentials", "RequestInit", "Response",')
open(p, 'w').write(s)
EOF
}

measure() { # name dir
  local name="$1" dir="$2" out="$WORK/out/$1"
  mkdir -p "$out"
  (cd "$dir" && nice cargo build -q --release --target wasm32-unknown-unknown --lib 2>"$out/build.log") ||
    { tail -20 "$out/build.log" >&2; return 1; }
  wasm-bindgen --target web --out-dir "$out" "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/respoke_client.wasm"
  wasm-opt -Oz --strip-debug --strip-producers "$out/respoke_client_bg.wasm" -o "$out/opt.wasm"
  local raw gz js
  raw=$(stat -c %s "$out/opt.wasm"); gz=$(gzip -9c "$out/opt.wasm" | wc -c); js=$(gzip -9c "$out/respoke_client.js" | wc -c)
  echo "{\"name\":\"$name\",\"wasmRaw\":$raw,\"wasmGzip\":$gz,\"glueGzip\":$js,\"totalGzip\":$((gz + js))}"
}

apply() { # variant dir: applies the variant's patches; fails if one no longer applies
  case "$1" in
    base) ;;
    lol) patch_lol "$2" ;;
    noswb) patch_noswb "$2" ;;
    nogloo) patch_nogloo "$2" ;;
    all) patch_lol "$2" && patch_noswb "$2" && patch_nogloo "$2" ;;
  esac
}

# A variant whose patch no longer fits the code (the client moved on) is skipped, not fatal.
RESULTS=()
for variant in base lol noswb nogloo all; do
  echo "[size-variants] $variant" >&2
  fresh "$variant"
  if apply "$variant" "$WORK/$variant" && result="$(measure "$variant" "$WORK/$variant")"; then
    RESULTS+=("$result")
  else
    echo "[size-variants] $variant: skipped (patch or build failed)" >&2
    [[ "$variant" == base ]] && exit 1
  fi
done
{
  printf '{"commit":"%s","date":"%s","wasmBindgen":"%s","wasmOpt":"%s","variants":[' \
    "$COMMIT" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(wasm-bindgen --version)" "$(wasm-opt --version)"
  (IFS=,; printf '%s' "${RESULTS[*]}")
  printf ']}\n'
} >"$ROOT/benches/size/variants.json"
echo "[size-variants] wrote benches/size/variants.json" >&2
