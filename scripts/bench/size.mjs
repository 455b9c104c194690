// Size benchmark (npm run bench): gzip -9 of the release wasm, as built and after Debian's
// `wasm-opt -Oz` (stripped), plus its JS glue; against the 22 KiB budget and respoke.js 1.56
// bundled and minified in the same run (when tests/compat's packages are installed). With twiggy
// installed, a per-crate and per-function breakdown of the optimized wasm.
//
// node scripts/bench/size.mjs --pkg DIR [--names-pkg DIR] [--json out.json]
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { attribute } from "./attribute.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const pkg = resolve(arg("pkg", join(root, "pkg")));
// An unstripped build of the same code, for the per-crate breakdown (names needed).
const namesPkg = arg("names-pkg") ? resolve(arg("names-pkg")) : null;
const BUDGET = 22 * 1024;

const gzipBytes = (file) => execFileSync("gzip", ["-9c", file], { maxBuffer: 64 << 20 }).length;
const sizes = (file) => ({ raw: statSync(file).size, gzip: gzipBytes(file) });
const have = (tool) => {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

const work = mkdtempSync(join(tmpdir(), "respoke-size-"));
try {
  const wasm = join(pkg, "respoke_client_bg.wasm");
  const glue = join(pkg, "respoke_client.js");
  const result = { pkg, budgetBytes: BUDGET, asBuilt: sizes(wasm), glue: sizes(glue) };

  // The name section alone (what `strip` or wasm-opt drop).
  if (have("wasm-opt")) {
    result.wasmOptVersion = execFileSync("wasm-opt", ["--version"]).toString().trim();
    const stripped = join(work, "stripped.wasm");
    // rustc enables these wasm features by default; a stripped build no longer says so in its
    // target_features section, and wasm-opt would then reject it as plain MVP.
    const features = [
      "--enable-bulk-memory",
      "--enable-sign-ext",
      "--enable-nontrapping-float-to-int",
      "--enable-mutable-globals",
      "--enable-reference-types",
      "--enable-multivalue",
    ];
    execFileSync("wasm-opt", [...features, "--strip-debug", "--strip-producers", wasm, "-o", stripped]);
    result.strippedOnly = sizes(stripped);
    const optimized = join(work, "oz.wasm");
    execFileSync("wasm-opt", [...features, "-Oz", "--strip-debug", "--strip-producers", wasm, "-o", optimized]);
    result.optimized = sizes(optimized);
    // Keep names (-g) for the breakdown; the code is the same as the stripped build's.
    const named = join(work, "oz-named.wasm");
    const withNames = namesPkg ? join(namesPkg, "respoke_client_bg.wasm") : wasm;
    execFileSync("wasm-opt", [...features, "-Oz", "-g", withNames, "-o", named]);
    if (have("twiggy")) {
      const { total, rows, top } = attribute(named);
      const names = rows.find((r) => r.crate.startsWith("(name section"))?.bytes ?? 0;
      result.breakdown = {
        of: "wasm-opt -Oz output, bytes before gzip, name section excluded",
        total: total - names,
        rows: rows.filter((r) => !r.crate.startsWith("(name section")),
        top,
      };
    }
  }
  // What users get: the release build as wasm-pack writes it (the profile strips names).
  const shipped = result.asBuilt;
  result.totalGzip = shipped.gzip + result.glue.gzip;
  result.overBudgetBytes = result.totalGzip - BUDGET;
  result.ratioToBudget = result.totalGzip / BUDGET;

  // respoke.js 1.56, bundled (with its socket.io-client 0.9) and minified here and now.
  const compat = join(root, "tests/compat");
  if (existsSync(join(compat, "node_modules/respoke")) && existsSync(join(compat, "node_modules/esbuild"))) {
    try {
      const require = createRequire(join(compat, "package.json"));
      const esbuild = await import(require.resolve("esbuild"));
      const built = await esbuild.build({
        stdin: { contents: "window.respoke = require('respoke');", resolveDir: compat, sourcefile: "entry.js" },
        bundle: true,
        minify: true,
        write: false,
        format: "iife",
        platform: "browser",
        logLevel: "silent",
        alias: { "socket.io-client": require.resolve("socket.io-client/dist/socket.io.js") },
        define: { global: "window" },
      });
      const file = join(work, "respoke.min.js");
      writeFileSync(file, built.outputFiles[0].contents);
      result.respokeJs = { ...sizes(file), how: "respoke 1.56.0 + socket.io-client 0.9 bundled by esbuild --minify" };
      result.ratioToRespokeJs = result.totalGzip / result.respokeJs.gzip;
    } catch (error) {
      result.respokeJsError = String(error.message ?? error);
    }
  }

  const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
  console.log(
    `size: wasm as built ${kib(result.asBuilt.raw)} raw / ${kib(result.asBuilt.gzip)} gz; ` +
      (result.optimized ? `wasm-opt -Oz ${kib(result.optimized.raw)} raw / ${kib(result.optimized.gzip)} gz; ` : "") +
      `JS glue ${kib(result.glue.gzip)} gz; total ${kib(result.totalGzip)} gz vs budget ${kib(BUDGET)} ` +
      `(x${result.ratioToBudget.toFixed(2)}, ${result.overBudgetBytes > 0 ? `${kib(result.overBudgetBytes)} over` : "within"})` +
      (result.respokeJs ? `; respoke.js 1.56 min+gz ${kib(result.respokeJs.gzip)} (ours x${result.ratioToRespokeJs.toFixed(2)})` : ""),
  );
  if (result.breakdown) {
    for (const { crate, bytes } of result.breakdown.rows.slice(0, 12)) {
      console.log(`  ${String(bytes).padStart(7)} B  ${((100 * bytes) / result.breakdown.total).toFixed(1).padStart(5)} %  ${crate}`);
    }
  }
  const out = arg("json");
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
} finally {
  rmSync(work, { recursive: true, force: true });
}
