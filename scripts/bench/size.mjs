// Size benchmark (npm run bench, section 1): gzip -9 of the package as scripts/build-pkg.sh
// ships it (wasm-pack's release build, then binaryen's wasm-opt) plus its JS glue, against issue
// 11's 100 KiB target; wasm-opt (the npm package `binaryen`, a devDependency) tried with other
// flag sets on wasm-pack's output; respoke.js 1.56 bundled and minified in the same run (when
// tests/compat's packages are installed); with twiggy installed, a per-crate and per-function
// breakdown of the same code with function names kept.
//
// node scripts/bench/size.mjs --pkg DIR --wasm-pack-pkg DIR [--names-pkg DIR] [--json out.json]
//   --pkg            the package as shipped (scripts/build-pkg.sh)
//   --wasm-pack-pkg  the same before wasm-opt (plain wasm-pack build --target web --release)
//   --names-pkg      the same before wasm-opt, built with CARGO_PROFILE_RELEASE_STRIP=false
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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
const wasmPackPkg = arg("wasm-pack-pkg") ? resolve(arg("wasm-pack-pkg")) : null;
const namesPkg = arg("names-pkg") ? resolve(arg("names-pkg")) : null;
// Issue 11: the package (wasm + JS glue, gzip -9) at most 100 KiB.
const TARGET = 100 * 1024;

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
// binaryen from node_modules (npm ci), else one on the PATH.
const wasmOpt = [join(root, "node_modules/.bin/wasm-opt"), "wasm-opt"].find(have);

// The flags scripts/build-pkg.sh ships with (one source of truth: its WASM_OPT_FLAGS).
const buildPkg = readFileSync(join(root, "scripts/build-pkg.sh"), "utf8");
const shippedFlags = (buildPkg.match(/WASM_OPT_FLAGS=\(([^)]*)\)/)?.[1] ?? "").split(/\s+/).filter((f) => f.startsWith("-"));
const isFeature = (f) => f.startsWith("--enable-") || f.startsWith("--disable-");
const isStrip = (f) => f.startsWith("--strip-");
const features = shippedFlags.filter(isFeature);
const strip = shippedFlags.filter(isStrip);
const optimize = shippedFlags.filter((f) => !isFeature(f) && !isStrip(f));

const work = mkdtempSync(join(tmpdir(), "respoke-size-"));
try {
  const wasm = join(pkg, "respoke_client_bg.wasm");
  const glue = join(pkg, "respoke_client.js");
  const result = { pkg, targetBytes: TARGET, asBuilt: sizes(wasm), glue: sizes(glue) };
  result.totalGzip = result.asBuilt.gzip + result.glue.gzip;
  result.overTargetBytes = result.totalGzip - TARGET;
  result.ratioToTarget = result.totalGzip / TARGET;

  if (wasmPackPkg) {
    const before = { wasm: sizes(join(wasmPackPkg, "respoke_client_bg.wasm")), glue: sizes(join(wasmPackPkg, "respoke_client.js")) };
    result.wasmPack = { ...before, totalGzip: before.wasm.gzip + before.glue.gzip };
  }
  if (wasmOpt && wasmPackPkg) {
    result.wasmOpt = {
      version: execFileSync(wasmOpt, ["--version"]).toString().trim(),
      features: features.join(" "),
      strip: strip.join(" "),
      shipped: optimize.join(" "),
      variants: [],
    };
    const variants = [
      { flags: optimize, input: "wasm-pack", shipped: true },
      { flags: ["-Oz"], input: "wasm-pack" },
      { flags: ["-Os"], input: "wasm-pack" },
      { flags: ["-Oz", "--converge"], input: "wasm-pack" },
      { flags: ["-Oz", "--one-caller-inline-max-function-size=0"], input: "wasm-pack" },
      { flags: ["-O2", "--one-caller-inline-max-function-size=0"], input: "wasm-pack" },
      { flags: optimize, input: "unstripped" },
    ];
    for (const [i, variant] of variants.entries()) {
      if (variant.input === "unstripped" && !namesPkg) continue;
      const dir = variant.input === "unstripped" ? namesPkg : wasmPackPkg;
      // Same file name as the package's: gzip stores it in its header.
      const out = join(work, `opt${i}`, "respoke_client_bg.wasm");
      mkdirSync(dirname(out));
      const row = { ...variant, flags: variant.flags.join(" ") };
      try {
        execFileSync(wasmOpt, [...features, ...variant.flags, ...strip, join(dir, "respoke_client_bg.wasm"), "-o", out], {
          stdio: ["ignore", "ignore", "pipe"],
        });
      } catch (error) {
        result.wasmOpt.variants.push({ ...row, error: String(error.stderr ?? error).slice(0, 300) });
        continue;
      }
      const s = sizes(out);
      const totalGzip = s.gzip + gzipBytes(join(dir, "respoke_client.js"));
      result.wasmOpt.variants.push({ ...row, raw: s.raw, gzip: s.gzip, totalGzip, deltaTotalGzip: totalGzip - result.wasmPack.totalGzip });
    }
  }

  // Per crate: the same code with its function names (wasm-opt with the shipped flags and -g).
  if (have("twiggy")) {
    let named = namesPkg ? join(namesPkg, "respoke_client_bg.wasm") : wasm;
    let of = namesPkg ? "the release build with names kept, before wasm-opt" : "the package as shipped (names stripped: rows unreliable)";
    if (wasmOpt && namesPkg) {
      const out = join(work, "named.wasm");
      execFileSync(wasmOpt, [...features, ...optimize, "-g", named, "-o", out]);
      named = out;
      of = `the same code as shipped (release build with names kept, then \`wasm-opt ${optimize.join(" ")} -g\`)`;
    }
    const { total, rows, top } = attribute(named);
    const names = rows.filter((r) => r.crate.startsWith("(name section")).reduce((a, r) => a + r.bytes, 0);
    result.breakdown = {
      of: `${of}, bytes before gzip, name section excluded`,
      total: total - names,
      rows: rows.filter((r) => !r.crate.startsWith("(name section")),
      top,
    };
  }

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
    `size: wasm ${kib(result.asBuilt.raw)} raw / ${kib(result.asBuilt.gzip)} gz + JS glue ${kib(result.glue.gzip)} gz = ` +
      `${kib(result.totalGzip)} gz vs target ${kib(TARGET)} (${result.overTargetBytes > 0 ? `${kib(result.overTargetBytes)} over` : "within"})` +
      (result.wasmPack ? `; before wasm-opt ${kib(result.wasmPack.totalGzip)} gz` : "") +
      (result.respokeJs ? `; respoke.js 1.56 min+gz ${kib(result.respokeJs.gzip)} (ours x${result.ratioToRespokeJs.toFixed(2)})` : ""),
  );
  for (const v of result.wasmOpt?.variants ?? []) {
    console.log(`  wasm-opt ${v.flags}${v.input === "unstripped" ? " (unstripped input)" : ""}: ${v.gzip ? `${kib(v.totalGzip)} gz with glue` : `failed: ${v.error}`}`);
  }
  if (result.breakdown) {
    for (const { crate, bytes } of result.breakdown.rows.slice(0, 14)) {
      console.log(`  ${String(bytes).padStart(7)} B  ${((100 * bytes) / result.breakdown.total).toFixed(1).padStart(5)} %  ${crate}`);
    }
  }
  const out = arg("json");
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
} finally {
  rmSync(work, { recursive: true, force: true });
}
