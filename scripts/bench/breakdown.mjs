// Where a connect's time goes (issue 16): the package and the hand-written baseline, alternating
// in one page (www/bench/trace.html), with every step timestamped where it enters or leaves the
// browser (www/bench/trace.js). "client" steps are JS/wasm work between an answer and the next
// request; "browser" the fetch()/WebSocket calls themselves; "wait" the network and the server.
// Not part of `npm run bench` (it wraps fetch and WebSocket, so its totals are not the latency
// figures); run it against a dev server started as scripts/bench/run.sh starts it:
//
//   node scripts/bench/breakdown.mjs --app http://127.0.0.1:8331 [--connects 200] [--json out.json]
//
// The page is made cross-origin isolated (COOP/COEP on the document only, by interception
// removed once it loaded), so performance.now() has 5 us steps instead of 100 us; Chromium then
// treats it as a public page, hence the local-network checks turned off for this run.
import { writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1]]);
    return pairs;
  }, []),
);
const APP = args.app ?? "http://127.0.0.1:8331";
const CONNECTS = Number(args.connects ?? 200);
if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(APP)) throw new Error(`refusing ${APP}: loopback only`);

const STEPS = [
  ["client", "connect() -> first fetch() called", [["t0", "fetch:token"]]],
  ["browser", "fetch() call, token", [["fetch:token", "sent:token"]]],
  ["wait", "token: request out -> body read", [["sent:token", "body:token"]]],
  ["client", "token body -> session fetch() called", [["body:token", "fetch:session"]]],
  ["browser", "fetch() call, session", [["fetch:session", "sent:session"]]],
  ["wait", "session: request out -> body read", [["sent:session", "body:session"]]],
  ["client", "session body -> handshake fetch() called", [["body:session", "fetch:handshake"]]],
  ["browser", "fetch() call, handshake", [["fetch:handshake", "sent:handshake"]]],
  ["wait", "handshake: request out -> body read", [["sent:handshake", "body:handshake"]]],
  ["client", "handshake body -> new WebSocket()", [["body:handshake", "ws:new"]]],
  ["browser", "new WebSocket() call", [["ws:new", "ws:created"]]],
  ["wait", "socket: created -> 1::", [["ws:created", "ws:msg:1::"]]],
  ["client", "1:: -> register frame sent", [["ws:msg:1::", "ws:sent:5:1+"]]],
  ["wait", "register: sent -> ack", [["ws:sent:5:1+", "ws:msg:6:::"]]],
  ["client", "ack -> ready() resolved (presence frame sent)", [["ws:msg:6:::", "end"]]],
];

const trimmedMean = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * 0.1);
  const kept = sorted.slice(cut, sorted.length - cut);
  return kept.reduce((a, b) => a + b, 0) / kept.length;
};
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** The first time of `kind` in a connect's trace, at or after `from`. */
const at = (trace, kind, from = -Infinity) => trace.find(([k, t]) => k === kind && t >= from)?.[1];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessRespectPreflightResults,PrivateNetworkAccessSendPreflights",
  ],
});
const guard = setTimeout(() => {
  console.error("breakdown: over the 10-minute limit, stopping");
  process.exit(1);
}, 10 * 60_000);
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[page] ${error.message}`));
  await page.route(/\/bench\/trace\.html\?/, async (route) => {
    const response = await route.fetch();
    await route.fulfill({
      response,
      headers: { ...response.headers(), "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "credentialless" },
    });
  });
  await page.goto(`${APP}/bench/trace.html?mode=ours&user=${encodeURIComponent("test2@example.com")}`);
  await page.waitForFunction(() => window.bench !== undefined);
  await page.unrouteAll();
  const isolated = await page.evaluate(() => crossOriginIsolated);
  await page.evaluate(() => window.bench.setup());
  await page.evaluate(() => window.bench.loadPackage());
  const steps = { ours: STEPS.map(() => []), baseline: STEPS.map(() => []) };
  const totals = { ours: [], baseline: [] };
  const warmup = 5;
  for (let i = 0; i < CONNECTS + warmup; i += 1) {
    for (const which of i % 2 ? ["ours", "baseline"] : ["baseline", "ours"]) {
      const run = await page.evaluate((w) => (w === "ours" ? window.bench.oursOnce() : window.bench.baselineOnce()), which);
      if (i >= warmup) {
        totals[which].push(run.ms);
        STEPS.forEach(([, , spans], index) => {
          let sum = 0;
          for (const [from, to] of spans) {
            const start = at(run.trace, from);
            const stop = at(run.trace, to, start);
            sum += stop - start;
          }
          if (Number.isFinite(sum)) steps[which][index].push(sum);
        });
      }
      await page.waitForTimeout(20);
    }
  }
  await context.close();
  const rows = STEPS.map(([kind, step], index) => ({
    kind,
    step,
    oursMs: Math.round(trimmedMean(steps.ours[index]) * 1000) / 1000,
    baselineMs: Math.round(trimmedMean(steps.baseline[index]) * 1000) / 1000,
  }));
  const sums = Object.fromEntries(
    ["client", "browser", "wait"].map((kind) => [
      kind,
      Object.fromEntries(["oursMs", "baselineMs"].map((side) => [side, rows.filter((r) => r.kind === kind).reduce((a, r) => a + r[side], 0)])),
    ]),
  );
  console.log(`breakdown of ${CONNECTS} connects each (trimmed means, ms; performance.now() ${isolated ? "5 us" : "100 us"} steps):`);
  console.log(`${"step".padEnd(56)}${"ours".padStart(9)}${"baseline".padStart(10)}`);
  for (const r of rows) console.log(`${`${r.kind}: ${r.step}`.padEnd(56)}${r.oursMs.toFixed(3).padStart(9)}${r.baselineMs.toFixed(3).padStart(10)}`);
  for (const [kind, s] of Object.entries(sums)) console.log(`${`sum of ${kind}`.padEnd(56)}${s.oursMs.toFixed(3).padStart(9)}${s.baselineMs.toFixed(3).padStart(10)}`);
  const ratio = median(totals.ours) / median(totals.baseline);
  console.log(`total (wrapped, not the latency figure): median ours ${median(totals.ours).toFixed(2)} ms, baseline ${median(totals.baseline).toFixed(2)} ms, x${ratio.toFixed(3)}`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ connects: CONNECTS, crossOriginIsolated: isolated, rows, sums, ratio }, null, 2));
} finally {
  clearTimeout(guard);
  await browser.close();
}
