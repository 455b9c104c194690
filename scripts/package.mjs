// Turns wasm-pack's output (pkg/, --target web) into the npm package respoke-client: the entry
// js/index.js (init guard, RespokeError / UnauthorizedError classes, free() and GC disconnect),
// its types src/api.d.ts as index.d.ts, the users' README (npm/README.md), and a package.json
// with `exports`, `files` and `sideEffects`. One build for every consumer: Vite (dev and build),
// webpack 5 and a plain <script type="module"> load the wasm through
// `new URL("respoke_client_bg.wasm", import.meta.url)`; importing it in Node does not crash.
// Usage: node scripts/package.mjs [PKG_DIR]
import { copyFileSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = process.argv[2] ?? join(root, "pkg");
// wasm-pack writes a package.json unless --no-pack; the version comes from Cargo.toml either way.
const cargoVersion = readFileSync(join(root, "Cargo.toml"), "utf8").match(
  /\[package\][^[]*?\nversion = "([^"]+)"/,
)?.[1];
const generated = existsSync(join(pkg, "package.json"))
  ? JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"))
  : { version: cargoVersion, license: "MIT" };

copyFileSync(join(root, "js/index.js"), join(pkg, "index.js"));
copyFileSync(join(root, "src/api.d.ts"), join(pkg, "index.d.ts"));
copyFileSync(join(root, "npm/README.md"), join(pkg, "README.md"));
// wasm-pack writes a `*` .gitignore into its output; a package someone vendors must not hide itself.
rmSync(join(pkg, ".gitignore"), { force: true });

const files = ["index.js", "index.d.ts", "respoke_client.js", "respoke_client.d.ts",
  "respoke_client_bg.wasm", "README.md", "LICENSE"];
if (existsSync(join(pkg, "snippets"))) files.push("snippets/");
const manifest = {
  name: "respoke-client",
  version: generated.version,
  description:
    "Reconnecting Respoke client for the browser: brokered single-use tokens fetched before every " +
    "attempt, jittered backoff, heartbeats, wakes. Rust compiled to WebAssembly; works in pages and Workers.",
  license: generated.license ?? "MIT",
  keywords: ["respoke", "realtime", "websocket", "socket.io", "reconnect", "webassembly", "wasm"],
  type: "module",
  main: "./index.js",
  module: "./index.js",
  types: "./index.d.ts",
  exports: {
    ".": { types: "./index.d.ts", import: "./index.js", default: "./index.js" },
    "./respoke_client_bg.wasm": "./respoke_client_bg.wasm",
    "./package.json": "./package.json",
  },
  files,
  sideEffects: false,
};
writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`[package] ${pkg}: respoke-client@${manifest.version} (${files.join(", ")})`);
