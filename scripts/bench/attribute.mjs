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
  if (/^<(char|str|bool|\[u8\]|[iuf](8|16|32|64|128|size))>::/.test(name)) return "core (fmt, str, num, panics)";
  if (/^(client_|connect$|debugCounters|listenerCount|__wbindgen|__wbg)/.test(name)) return "wasm-bindgen (+ js-sys, web-sys, futures)";
  if (/^(__multi3|__powidf2|fmax|fmin|memchr|__[a-z0-9]+[23])$/.test(name)) return "compiler builtins (memcpy, memset, ...)";
  if (/^(type|import|export|elem|table|memory|global|code section|wasm magic|header|start)/i.test(name)) return "(wasm structure: types, imports, exports, tables)";
  if (/shim|^__wbg|^__wbindgen|(^|[^a-z_])wasm_bindgen|^closure|externref/i.test(name)) return "wasm-bindgen (+ js-sys, web-sys, futures)";
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
  const aliases = {
    core: "core (fmt, str, num, panics)", alloc: "alloc (String, Vec, collections)", std: "std",
    __rustc: "alloc (String, Vec, collections)", __rdl_alloc: "dlmalloc", __rdl_realloc: "dlmalloc",
    __rdl_dealloc: "dlmalloc", __rust_alloc: "dlmalloc", __rust_realloc: "dlmalloc", __rust_dealloc: "dlmalloc",
    serde_core: "serde", serde: "serde", serde_derive: "serde", zmij: "serde_json", ryu: "serde_json", itoa: "serde_json",
    hashbrown: "hashbrown (HashMap)", js_sys: "wasm-bindgen (+ js-sys, web-sys, futures)",
    web_sys: "wasm-bindgen (+ js-sys, web-sys, futures)", wasm_bindgen: "wasm-bindgen (+ js-sys, web-sys, futures)",
    wasm_bindgen_futures: "wasm-bindgen (+ js-sys, web-sys, futures)", futures_util: "futures (channel, util)",
    futures_channel: "futures (channel, util)", futures_core: "futures (channel, util)",
    gloo_net: "gloo-net (+ gloo-utils)", gloo_utils: "gloo-net (+ gloo-utils)", gloo_timers: "gloo-timers",
    serde_wasm_bindgen: "serde-wasm-bindgen", respoke_client: "respoke-client (ours: core + browser)",
    respoke_protocol: "respoke-protocol (ours)", thiserror: "thiserror", dlmalloc: "dlmalloc",
    T: "(generic impls)", str: "core (fmt, str, num, panics)", char: "core (fmt, str, num, panics)",
    f64: "core (fmt, str, num, panics)", u64: "core (fmt, str, num, panics)", usize: "core (fmt, str, num, panics)",
    i32: "core (fmt, str, num, panics)", u32: "core (fmt, str, num, panics)", u8: "core (fmt, str, num, panics)",
    bool: "core (fmt, str, num, panics)", memcpy: "compiler builtins (memcpy, memset, ...)",
    memset: "compiler builtins (memcpy, memset, ...)", memmove: "compiler builtins (memcpy, memset, ...)",
    memcmp: "compiler builtins (memcpy, memset, ...)", compiler_builtins: "compiler builtins (memcpy, memset, ...)",
  };
  if (aliases[crate]) return aliases[crate];
  if (/^(dlmalloc|malloc|free|realloc)/.test(crate)) return "dlmalloc";
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
