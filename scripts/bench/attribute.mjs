// Attributes the code and data of a wasm file (with its "name" section) to crates, from
// `twiggy top -f json`. A function is charged to the crate of the first path segment of its
// demangled name; for `<Type as Trait>::method` the crate of Type (monomorphized generic code is
// charged to where the generic lives, e.g. serde_json::de::from_str::<T> to serde_json).
// Usage: node scripts/bench/attribute.mjs FILE.wasm [--json]
import { execFileSync } from "node:child_process";

export function crateOf(name) {
  if (name.startsWith("data segment")) return "(data segments: strings, tables)";
  if (name.startsWith('"') || name.startsWith("custom section")) return "(name section, custom sections)";
  name = name.replace(/^byn\$mgfn-shared\$/, "");
  if (/section headers$/.test(name)) return "(wasm structure: types, imports, exports, tables)";
  if (/^<(char|str|bool|\[u8\]|[iuf](8|16|32|64|128|size))>::/.test(name)) return "Rust core library (fmt, str, num, panics, drop glue)";
  if (/^(client_|connect$|debugCounters|listenerCount|__wbindgen|__wbg)/.test(name)) return "wasm-bindgen, js-sys, web-sys";
  if (/^(__multi3|__powidf2|fmax|fmin|memchr|__[a-z0-9]+[23])$/.test(name)) return "compiler builtins (memcpy, memset, ...)";
  if (/^(type|import|export|elem|table|memory|global|code section|wasm magic|header|start)/i.test(name)) return "(wasm structure: types, imports, exports, tables)";
  if (/shim|^__wbg|^__wbindgen|(^|[^a-z_])wasm_bindgen|^closure|externref/i.test(name)) return "wasm-bindgen, js-sys, web-sys";
  let n = name;
  // `<A as B>::f`: charge A's crate, or B's when A is a bare generic or a primitive.
  const cast = n.match(/^<[&*\s]*(?:mut |dyn |const )*([^\s<>]+?)(?:<.*?>)? as (?:[&*\s]*)([A-Za-z_][A-Za-z0-9_]*)/);
  if (cast) {
    const own = cast[1].split("::")[0].replace(/\[[0-9a-f]+\]$/, "");
    const primitive = /^(T|F|S|E|A|B|K|V|\(\)|\[.*|str|char|bool|[iuf](8|16|32|64|128|size))$/.test(own);
    n = (primitive ? cast[2] : own) + "::";
  }
  n = n.replace(/^[<&*\s]+/, "").replace(/^(mut |dyn |const )+/, "").replace(/^[<&*\s]+/, "");
  if (n.startsWith("_<impl ")) n = n.slice(7);
  if (n.startsWith("impl ")) n = n.slice(5);
  const m = n.match(/^([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?(::|$)/);
  let crate = m ? m[1] : "(other)";
  // Rows are the crates the client is built on (README, Architecture), Rust's own library, and
  // what the wasm file itself is made of.
  const CORE = "Rust core library (fmt, str, num, panics, drop glue)";
  const ALLOC = "Rust alloc library (String, Vec, collections)";
  const BINDGEN = "wasm-bindgen, js-sys, web-sys";
  const FUTURES = "futures-channel (+ futures-util, futures-core)";
  const BUILTINS = "compiler builtins (memcpy, memset, ...)";
  const aliases = {
    core: CORE, alloc: ALLOC, std: "Rust std library (thread-locals, panic runtime)",
    __rustc: ALLOC, __rdl_alloc: "dlmalloc (std's allocator)", __rdl_realloc: "dlmalloc (std's allocator)",
    __rdl_dealloc: "dlmalloc (std's allocator)", __rust_alloc: "dlmalloc (std's allocator)",
    __rust_realloc: "dlmalloc (std's allocator)", __rust_dealloc: "dlmalloc (std's allocator)",
    dlmalloc: "dlmalloc (std's allocator)",
    serde_core: "serde", serde: "serde", serde_derive: "serde",
    serde_json: "serde_json", zmij: "serde_json", ryu: "serde_json", itoa: "serde_json",
    serde_path_to_error: "serde_path_to_error",
    hashbrown: "hashbrown (serde-wasm-bindgen's key cache)",
    js_sys: BINDGEN, web_sys: BINDGEN, wasm_bindgen: BINDGEN,
    wasm_bindgen_futures: "wasm-bindgen-futures",
    futures_util: FUTURES, futures_channel: FUTURES, futures_core: FUTURES,
    gloo_net: "gloo-net (+ gloo-utils, http)", gloo_utils: "gloo-net (+ gloo-utils, http)", http: "gloo-net (+ gloo-utils, http)",
    gloo_timers: "gloo-timers",
    serde_wasm_bindgen: "serde-wasm-bindgen", respoke_client: "respoke-client (ours: core + browser)",
    respoke_protocol: "respoke-protocol (ours)", thiserror: "thiserror",
    T: "(generic impls)", str: CORE, char: CORE, f64: CORE, u64: CORE, usize: CORE, i32: CORE, u32: CORE, u8: CORE,
    bool: CORE, memcpy: BUILTINS, memset: BUILTINS, memmove: BUILTINS, memcmp: BUILTINS, compiler_builtins: BUILTINS,
    memchr: CORE,
  };
  // wasm-bindgen-futures 0.4 re-exports its executor and JsFuture from js-sys's `futures` module.
  if (/^(js_sys(\[[0-9a-f]+\])?::futures|wasm_bindgen_futures)/.test(n)) return "wasm-bindgen-futures";
  if (aliases[crate]) return aliases[crate];
  if (/^(dlmalloc|malloc|free|realloc)/.test(crate)) return "dlmalloc (std's allocator)";
  if (/^code\[\d+\]$|^func\[?\d+/.test(n)) return "(unnamed functions)";
  return crate;
}

export function attribute(file) {
  const out = execFileSync("twiggy", ["top", "-n", "1000000", "-f", "json", file], {
    maxBuffer: 64 << 20,
  });
  const items = JSON.parse(out);
  const byCrate = new Map();
  let total = 0;
  for (const { name, shallow_size: size } of items) {
    total += size;
    const crate = crateOf(name);
    byCrate.set(crate, (byCrate.get(crate) || 0) + size);
  }
  const rows = [...byCrate.entries()].sort((a, b) => b[1] - a[1]).map(([crate, bytes]) => ({ crate, bytes }));
  const top = items
    .filter((i) => !i.name.startsWith('"') && !i.name.startsWith("data segment"))
    .slice(0, 15)
    .map((i) => ({ name: i.name.replace(/::h[0-9a-f]{16}$/, "").replace(/\[[0-9a-f]{16}\]/g, ""), bytes: i.shallow_size }));
  return { total, rows, top };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = attribute(process.argv[2]);
  if (process.argv.includes("--json")) console.log(JSON.stringify(result, null, 2));
  else {
    for (const { crate, bytes } of result.rows) console.log(String(bytes).padStart(8), (100 * bytes / result.total).toFixed(1).padStart(5) + "%", crate);
    console.log(String(result.total).padStart(8), "total");
  }
}
