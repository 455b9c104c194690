// Browser benchmarks (npm run bench): connect latency against a hand-written baseline, cold
// start, and 1,000 drop/reconnect cycles for memory and listeners. Debian's Chromium, headless,
// loopback only; the page is www/bench/ served by the dev server's app listener.
//
// node scripts/bench/browser.mjs --app http://127.0.0.1:8331 --api http://127.0.0.1:3231
//   [--connects 60] [--cold 8] [--cycles 1000] [--json out.json]
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

/** Connect once, then drop/reconnect CYCLES times; measure at 0, 100 and CYCLES. */
async function soak(browser) {
  const user = "test4@example.com";
  const { context, page } = await openPage(browser, "ours", user);
  const cdp = await context.newCDPSession(page);
  await page.evaluate(() => window.bench.setup());
  await page.evaluate(() => window.bench.loadPackage());
  await page.evaluate(() => window.bench.soakStart());
  const measure = async (cycle, cycleMs) => {
    // Let the last teardown settle, then collect garbage twice and take the smaller reading.
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
      `soak cycle ${cycle}: heap ${point.jsHeapBytes} B, wasm ${point.wasmMemoryBytes} B, counters ${JSON.stringify(point.counters)}, server live ${point.serverLiveSockets}`,
    );
    return point;
  };
  const points = [await measure(0)];
  let done = 0;
  for (const target of [CHECKPOINT, CYCLES]) {
    if (target <= done) continue;
    const ms = await page.evaluate(([n, start]) => window.bench.soakCycles(n, start), [target - done, done]);
    const perCycle = ms / (target - done);
    done = target;
    points.push(await measure(done, perCycle));
  }
  await page.evaluate(() => window.bench.snapshot());
  await context.close();
  const at = (cycle) => points.find((p) => p.cycle === cycle);
  const first = at(CHECKPOINT);
  const last = at(CYCLES);
  const heapGrowth = last.jsHeapBytes - first.jsHeapBytes;
  const wasmGrowth = last.wasmMemoryBytes - first.wasmMemoryBytes;
  // Noise allowance for the JS heap: 64 KiB or 2 %, whichever is larger; wasm memory only
  // ever grows in 64 KiB pages, so any growth counts.
  const heapNoise = Math.max(64 * 1024, 0.02 * first.jsHeapBytes);
  const steady = (p) =>
    p.counters && p.counters.sockets === 1 && p.counters.drivers === 1 && p.counters.requests === 0 && p.serverLiveSockets === 1;
  const result = {
    cycles: CYCLES,
    points,
    jsHeapGrowthBytes: heapGrowth,
    jsHeapNoiseAllowanceBytes: Math.round(heapNoise),
    wasmMemoryGrowthBytes: wasmGrowth,
    countersSteady: steady(first) && steady(last),
    pass: heapGrowth <= heapNoise && wasmGrowth === 0 && steady(first) && steady(last),
  };
  console.log(
    `soak ${CHECKPOINT}->${CYCLES}: JS heap ${heapGrowth >= 0 ? "+" : ""}${heapGrowth} B (noise allowance ${result.jsHeapNoiseAllowanceBytes}), wasm memory ${wasmGrowth >= 0 ? "+" : ""}${wasmGrowth} B, counters steady: ${result.countersSteady} -> ${result.pass ? "PASS" : "FAIL"}`,
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
  const memory = await soak(browser);
  const report = { chromium: version, connect, cold, memory };
  if (args.json) writeFileSync(args.json, JSON.stringify(report, null, 2));
} finally {
  clearTimeout(guard);
  await browser.close();
}
