// Browser benchmarks (npm run bench): connect latency against a hand-written baseline, cold
// start, and 1,000 drop/reconnect cycles for memory and listeners. Debian's Chromium, headless,
// loopback only; the page is www/bench/ served by the dev server's app listener.
//
// node scripts/bench/browser.mjs --app http://127.0.0.1:8331 --api http://127.0.0.1:3231
//   [--connects 60] [--cold 8] [--cycles 1000] [--json out.json]
//
// Where the connect time goes, step by step (client work, browser calls, waits):
// scripts/bench/breakdown.mjs, on the same page with fetch and WebSocket wrapped.
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const APP = args.app ?? "http://127.0.0.1:8331";
const API = args.api ?? "http://127.0.0.1:3231";
const CONNECTS = Number(args.connects ?? 60);
const COLD = Number(args.cold ?? 8);
const CYCLES = Number(args.cycles ?? 1000);
const CHECKPOINT = Math.min(100, CYCLES);

for (const url of [APP, API]) {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(url)) {
    throw new Error(`refusing ${url}: benchmarks target loopback only`);
  }
}

const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--js-flags=--expose-gc",
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function openPage(browser, mode, user) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[page ${mode}] ${error.message}`));
  await page.goto(`${APP}/bench/?mode=${mode}&user=${encodeURIComponent(user)}`);
  await page.waitForFunction(() => window.bench !== undefined);
  return { context, page };
}

/** Warm connects, ours and baseline alternating in one page (same caches, same preflights). */
async function connectLatency(browser) {
  const { context, page } = await openPage(browser, "ours", "test2@example.com");
  await page.evaluate(() => window.bench.setup());
  const initMs = await page.evaluate(() => window.bench.loadPackage());
  const ours = [];
  const baseline = [];
  const phases = { ours: {}, baseline: {} };
  const warmup = 5;
  for (let i = 0; i < CONNECTS + warmup; i += 1) {
    // Alternate which goes first, so neither always follows the other's teardown.
    const order = i % 2 ? ["ours", "baseline"] : ["baseline", "ours"];
    for (const which of order) {
      const run = await page.evaluate((w) => (w === "ours" ? window.bench.oursOnce() : window.bench.baselineOnce()), which);
      if (i >= warmup) {
        (which === "ours" ? ours : baseline).push(run.ms);
        for (const [phase, ms] of Object.entries(run.phases)) (phases[which][phase] ??= []).push(ms);
      }
      await page.waitForTimeout(20);
    }
  }
  await context.close();
  const result = {
    runs: CONNECTS,
    warmup,
    oursMedianMs: round(median(ours)),
    baselineMedianMs: round(median(baseline)),
    oursP90Ms: round(quantile(ours, 0.9)),
    baselineP90Ms: round(quantile(baseline, 0.9)),
    ratio: round(median(ours) / median(baseline), 3),
    goal: 1.2,
    warmPageInitMs: round(initMs),
    phaseMedianMs: Object.fromEntries(
      Object.entries(phases).map(([which, byPhase]) => [
        which,
        Object.fromEntries(Object.entries(byPhase).map(([phase, values]) => [phase, round(median(values))])),
      ]),
    ),
  };
  console.log(
    `connect (warm, median of ${CONNECTS}): ours ${result.oursMedianMs} ms, baseline ${result.baselineMedianMs} ms, ratio ${result.ratio} (goal <= 1.2)`,
  );
  console.log(`  phase medians (ms): ours ${JSON.stringify(result.phaseMedianMs.ours)}; baseline ${JSON.stringify(result.phaseMedianMs.baseline)}`);
  return result;
}

/** Fresh context (empty cache) per run: import + init() + first connect, vs the baseline's first connect. */
async function coldStart(browser) {
  const ours = [];
  const init = [];
  const baseline = [];
  for (let i = 0; i < COLD; i += 1) {
    for (const mode of i % 2 ? ["ours", "baseline"] : ["baseline", "ours"]) {
      const { context, page } = await openPage(browser, mode, "test3@example.com");
      const { initMs, totalMs } = await page.evaluate(() => window.bench.cold());
      if (mode === "ours") {
        ours.push(totalMs);
        init.push(initMs);
      } else baseline.push(totalMs);
      await context.close();
    }
  }
  const result = {
    runs: COLD,
    oursMedianMs: round(median(ours)),
    oursInitMedianMs: round(median(init)),
    baselineMedianMs: round(median(baseline)),
    ratio: round(median(ours) / median(baseline), 3),
  };
  console.log(
    `cold start (median of ${COLD} fresh contexts): ours init+connect ${result.oursMedianMs} ms (init ${result.oursInitMedianMs} ms), baseline first connect ${result.baselineMedianMs} ms, ratio ${result.ratio}`,
  );
  return result;
}

async function liveSockets(endpointId) {
  const reply = await fetch(`${API}/dev/stats?endpointId=${encodeURIComponent(endpointId)}`);
  return reply.ok ? (await reply.json()).liveSockets ?? null : null;
}

/** Least-squares slope of y over x. */
function slope(points, key) {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.cycle, 0) / n;
  const my = points.reduce((a, p) => a + p[key], 0) / n;
  const num = points.reduce((a, p) => a + (p.cycle - mx) * (p[key] - my), 0);
  const den = points.reduce((a, p) => a + (p.cycle - mx) ** 2, 0);
  return den ? num / den : 0;
}

/**
 * A census of the V8 heap by node type, from a heap snapshot: `values` are live JS values
 * (objects, closures, arrays, strings, numbers, symbols, shapes: what a leak would be made of),
 * `code` is compiled code and its metadata (JIT tier-up grows it as functions get hot), and
 * `native` is memory V8 only points at (Blink, DevTools' network records, wasm modules).
 */
async function heapCensus(cdp) {
  const chunks = [];
  const onChunk = (event) => chunks.push(event.chunk);
  cdp.on("HeapProfiler.addHeapSnapshotChunk", onChunk);
  await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  cdp.off("HeapProfiler.addHeapSnapshotChunk", onChunk);
  const snapshot = JSON.parse(chunks.join(""));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, sizeAt, stride] = [fields.indexOf("type"), fields.indexOf("self_size"), fields.length];
  const census = { values: { bytes: 0, count: 0 }, code: { bytes: 0, count: 0 }, native: { bytes: 0, count: 0 } };
  for (let i = 0; i < snapshot.nodes.length; i += stride) {
    const type = types[snapshot.nodes[i + typeAt]];
    const group = type === "code" ? "code" : type === "native" || type === "synthetic" ? "native" : "values";
    census[group].bytes += snapshot.nodes[i + sizeAt];
    census[group].count += 1;
  }
  return census;
}

/**
 * Connect once, then CYCLES drop/reconnect cycles, measuring at 0, 100 and every further
 * tenth. `mode` "ours" uses the package; "baseline" the hand-written connect in a page that
 * never loads it, as the yardstick for what V8 itself does over as many connects.
 */
async function soak(browser, mode) {
  const user = mode === "ours" ? "test4@example.com" : "test5@example.com";
  const { context, page } = await openPage(browser, mode, user);
  const cdp = await context.newCDPSession(page);
  await page.evaluate(() => window.bench.setup());
  if (mode === "ours") {
    await page.evaluate(() => window.bench.loadPackage());
    await page.evaluate(() => window.bench.soakStart());
  } else {
    await page.evaluate(() => window.bench.baselineSoakStart());
  }
  const measure = async (cycle, cycleMs) => {
    // Let the last teardown settle, then collect garbage three times and keep the smallest.
    await page.waitForTimeout(300);
    const heaps = [];
    for (let i = 0; i < 3; i += 1) {
      await cdp.send("HeapProfiler.collectGarbage");
      await page.evaluate(() => window.gc?.());
      heaps.push((await cdp.send("Runtime.getHeapUsage")).usedSize);
    }
    const snap = await page.evaluate(() => window.bench.snapshot());
    const point = {
      cycle,
      jsHeapBytes: Math.min(...heaps),
      wasmMemoryBytes: snap.wasmMemoryBytes,
      counters: snap.counters,
      clientStats: snap.stats,
      state: snap.state,
      serverLiveSockets: await liveSockets(user),
      msPerCycle: cycleMs === undefined ? null : round(cycleMs, 2),
    };
    console.log(
      `soak ${mode} cycle ${cycle}: heap ${point.jsHeapBytes} B` +
        (mode === "ours" ? `, wasm ${point.wasmMemoryBytes} B, counters ${JSON.stringify(point.counters)}` : "") +
        `, server live ${point.serverLiveSockets}`,
    );
    return point;
  };
  const checkpoints = [...new Set([CHECKPOINT, ...Array.from({ length: 10 }, (_, i) => Math.round(((i + 1) * CYCLES) / 10))])]
    .filter((c) => c >= CHECKPOINT)
    .sort((a, b) => a - b);
  const points = [await measure(0)];
  const censuses = {};
  let done = 0;
  for (const target of checkpoints) {
    if (target <= done) continue;
    const ms =
      mode === "ours"
        ? await page.evaluate(([n, start]) => window.bench.soakCycles(n, start), [target - done, done])
        : await page.evaluate((n) => window.bench.baselineSoakCycles(n), target - done);
    const perCycle = ms / (target - done);
    done = target;
    points.push(await measure(done, perCycle));
    if (done === CHECKPOINT || done === checkpoints.at(-1)) censuses[done] = await heapCensus(cdp);
  }
  await context.close();
  const steadyPoints = points.filter((p) => p.cycle >= CHECKPOINT);
  const first = steadyPoints[0];
  const last = steadyPoints.at(-1);
  const [censusFirst, censusLast] = [censuses[first.cycle], censuses[last.cycle]];
  const growth = (group) =>
    censusFirst && censusLast
      ? { bytes: censusLast[group].bytes - censusFirst[group].bytes, count: censusLast[group].count - censusFirst[group].count }
      : null;
  return {
    mode,
    cycles: CYCLES,
    points,
    census: { from: first.cycle, to: last.cycle, values: growth("values"), code: growth("code"), native: growth("native") },
    jsHeapGrowthBytes: last.jsHeapBytes - first.jsHeapBytes,
    jsHeapBytesPerCycle: round(slope(steadyPoints, "jsHeapBytes"), 1),
    wasmMemoryGrowthBytes: mode === "ours" ? last.wasmMemoryBytes - first.wasmMemoryBytes : null,
    steady: steadyPoints.every(
      (p) =>
        p.serverLiveSockets === 1 &&
        (mode !== "ours" || (p.counters && p.counters.sockets === 1 && p.counters.drivers === 1 && p.counters.requests === 0)),
    ),
  };
}

async function memory(browser) {
  const ours = await soak(browser, "ours");
  const baseline = await soak(browser, "baseline");
  // The verdict is on live JS values (heap snapshot census): a leak is objects, closures,
  // arrays or strings that pile up. Noise: whatever the baseline page's values grew by, plus
  // 1 KiB. Compiled code is reported, not judged: V8 compiles hot functions as cycles go by
  // (the package's glue has more of them), and that stops when they are all optimized.
  const valuesAllowance = Math.max(0, baseline.census.values?.bytes ?? 0) + 1024;
  const result = {
    cycles: CYCLES,
    ours,
    baseline,
    valuesNoiseAllowanceBytes: valuesAllowance,
    pass:
      ours.census.values !== null &&
      ours.census.values.bytes <= valuesAllowance &&
      ours.wasmMemoryGrowthBytes === 0 &&
      ours.steady,
  };
  console.log(
    `soak ${CHECKPOINT}->${CYCLES}: ours JS heap ${ours.jsHeapGrowthBytes >= 0 ? "+" : ""}${ours.jsHeapGrowthBytes} B ` +
      `(${ours.jsHeapBytesPerCycle} B/cycle), baseline ${baseline.jsHeapGrowthBytes >= 0 ? "+" : ""}${baseline.jsHeapGrowthBytes} B ` +
      `(${baseline.jsHeapBytesPerCycle} B/cycle); live JS values ours ${JSON.stringify(ours.census.values)}, baseline ` +
      `${JSON.stringify(baseline.census.values)}, allowance ${valuesAllowance} B; compiled code ours ${JSON.stringify(ours.census.code)}, ` +
      `baseline ${JSON.stringify(baseline.census.code)}; wasm memory ${ours.wasmMemoryGrowthBytes >= 0 ? "+" : ""}${ours.wasmMemoryGrowthBytes} B; ` +
      `steady counters: ${ours.steady} -> ${result.pass ? "PASS" : "FAIL"}`,
  );
  return result;
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
// Stops by itself: the whole run is bounded.
const guard = setTimeout(() => {
  console.error("browser benchmarks: over the 6-minute limit, stopping");
  process.exit(1);
}, 6 * 60_000);
try {
  const version = browser.version();
  const connect = await connectLatency(browser);
  const cold = await coldStart(browser);
  const soaks = await memory(browser);
  const report = { chromium: version, connect, cold, memory: soaks };
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
} finally {
  clearTimeout(guard);
  await browser.close();
}
