// Issue 11's JSON question (npm run bench, section 1): on the client, either serde_json decodes a
// socket frame from its text, or the browser's JSON.parse does and serde-wasm-bindgen converts the
// parsed object. benches/json decodes the same real frames into the same respoke-protocol types
// both ways; run.sh builds it three times (serde_json only, JSON.parse only, both).
//
// Size: what each decoder alone adds to a wasm that decodes these frames (wasm-bindgen output,
// custom sections dropped as `strip = true` does, gzip -9). Speed: headless Chromium, each frame
// handed over as the JS string a WebSocket gives, median of many samples.
//
// node scripts/bench/json-decode.mjs --dir DIR [--json out.json]
//   DIR/{text,parsed,both}/respoke_bench_json{.js,_bg.wasm}
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { chromium } from "playwright-core";

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const dir = resolve(arg("dir", "target-bench/bench/json"));
const CHROMIUM_ARGS = [
  "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
];

// The frames, as the dev server writes them (respoke-protocol's encoders; the shapes of
// protocol/src/push.rs and sails.rs).
const FRAMES = {
  "Sails ack (post /v1/connections)":
    '6:::1+[{"body":{"id":"6f1c2e0a-5b7d-4e8f-9a31-0c2d4b6e8f10","endpointId":"spock@enterprise.example"},"headers":{"Request-Id":"3b2f7d0e-1c4a-4b9e-8f6d-2a5c7e9b0d13"},"statusCode":200}]',
  "message push":
    '5:::{"name":"message","args":[{"header":{"type":"message","from":"kirk@enterprise.example","fromConnection":"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b","timestamp":1700000000123},"body":"Beam me up, Scotty. There is no intelligent life down here."}]}',
  "presence push":
    '5:::{"name":"presence","args":[{"header":{"from":"uhura@enterprise.example","fromConnection":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","type":"presence","channel":"presence:uhura@enterprise.example"},"type":"available","status":"on the bridge"}]}',
  "small event (join)":
    '5:::{"name":"join","args":[{"header":{"type":"join","channel":"bridge"},"endpointId":"sulu","connectionId":"C7"}]}',
};

const strip = (bytes) => {
  // Drops custom sections (name, producers, target_features), as the release profile's strip.
  const parts = [bytes.subarray(0, 8)];
  let i = 8;
  const leb = () => {
    let r = 0, s = 0, x;
    do { x = bytes[i++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80);
    return r >>> 0;
  };
  while (i < bytes.length) {
    const start = i, id = bytes[i++], len = leb();
    i += len;
    if (id !== 0) parts.push(bytes.subarray(start, i));
  }
  return Buffer.concat(parts);
};
const gzip = (bytes) => execFileSync("gzip", ["-9c"], { input: bytes, maxBuffer: 64 << 20 }).length;
const sizeOf = (variant) => {
  const wasm = strip(readFileSync(join(dir, variant, "respoke_bench_json_bg.wasm")));
  const glue = readFileSync(join(dir, variant, "respoke_bench_json.js"));
  return { wasmRaw: wasm.length, wasmGzip: gzip(wasm), glueGzip: gzip(glue), totalGzip: gzip(wasm) + gzip(glue) };
};

const result = { frames: FRAMES, size: { text: sizeOf("text"), parsed: sizeOf("parsed") } };
result.size.parsedMinusTextGzip = result.size.parsed.totalGzip - result.size.text.totalGzip;

// A static server for the page and the "both" build.
const page = `<!doctype html><meta charset="utf-8"><script type="module">
import init, { decodeOneText, decodeOneParsed } from "./both/respoke_bench_json.js";
window.bench = async (frames, samples, rounds) => {
  await init();
  const decoders = { text: decodeOneText, parsed: decodeOneParsed };
  const out = {};
  for (const [label, frame] of Object.entries(frames)) {
    out[label] = {};
    for (const [name, decode] of Object.entries(decoders)) {
      if (!(decode(frame) > 0)) throw new Error(name + " could not decode " + label);
    }
    // Interleaved samples, order flipped every sample, after a warm-up of each.
    for (const decode of Object.values(decoders)) for (let i = 0; i < rounds * 5; i++) decode(frame);
    const times = { text: [], parsed: [] };
    for (let s = 0; s < samples; s++) {
      const order = s % 2 ? ["parsed", "text"] : ["text", "parsed"];
      for (const name of order) {
        const decode = decoders[name];
        let sink = 0;
        const t0 = performance.now();
        for (let i = 0; i < rounds; i++) sink += decode(frame);
        const t1 = performance.now();
        if (sink === 0) throw new Error("nothing decoded");
        times[name].push(((t1 - t0) * 1000) / rounds);
      }
    }
    for (const name of Object.keys(times)) {
      const sorted = times[name].sort((a, b) => a - b);
      out[label][name + "MedianUs"] = +sorted[Math.floor(sorted.length / 2)].toFixed(3);
      out[label][name + "P90Us"] = +sorted[Math.floor(sorted.length * 0.9)].toFixed(3);
    }
  }
  return out;
};
window.ready = true;
</script>`;
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  if (path === "/") {
    res.writeHead(200, { "content-type": "text/html" });
    return res.end(page);
  }
  const file = normalize(join(dir, path));
  if (!file.startsWith(dir)) return res.writeHead(403).end();
  try {
    const body = readFileSync(file);
    const type = { ".js": "text/javascript", ".wasm": "application/wasm" }[extname(file)] ?? "application/octet-stream";
    res.writeHead(200, { "content-type": type });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
try {
  const tab = await browser.newPage();
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  await tab.waitForFunction(() => window.ready === true);
  const samples = Number(arg("samples", 41));
  const rounds = Number(arg("rounds", 2000));
  result.speed = { samples, rounds, perFrame: await tab.evaluate(([f, s, r]) => window.bench(f, s, r), [FRAMES, samples, rounds]) };
  result.chromium = browser.version();
} finally {
  await browser.close();
  server.close();
}
const rows = Object.entries(result.speed.perFrame);
result.speed.ratioParsedToText = rows.map(([, r]) => r.parsedMedianUs / r.textMedianUs);
result.speed.allFramesTextUs = +rows.reduce((a, [, r]) => a + r.textMedianUs, 0).toFixed(3);
result.speed.allFramesParsedUs = +rows.reduce((a, [, r]) => a + r.parsedMedianUs, 0).toFixed(3);
result.decision = result.speed.allFramesTextUs <= result.speed.allFramesParsedUs && result.size.parsedMinusTextGzip >= 0 ? "serde_json" : "review";

const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
console.log(`json decode: size serde_json ${kib(result.size.text.totalGzip)} vs JSON.parse ${kib(result.size.parsed.totalGzip)} gz`);
for (const [label, r] of rows) console.log(`  ${label}: serde_json ${r.textMedianUs} us, JSON.parse + serde-wasm-bindgen ${r.parsedMedianUs} us`);
const out = arg("json");
if (out) writeFileSync(out, JSON.stringify(result, null, 2));
