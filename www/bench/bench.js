// Benchmark page (npm run bench): connect latency of respoke-client against hand-written JS
// doing the same round trips, cold start, and the memory/listener soak. Everything is exposed
// on `window.bench`; scripts/bench/browser.mjs drives it with Playwright.

const mode = new URLSearchParams(location.search).get("mode") ?? "ours";
const USER = new URLSearchParams(location.search).get("user") ?? "test1@example.com";
const SDK = "respoke-client-wasm/bench";

let pkg = null; // the package module, once loaded
let wasm = null; // init()'s output: the wasm exports, `memory` among them
let config = null; // GET /api/config

/** Logs in on the app server (session cookie) and reads the Respoke URL. */
async function setup() {
  if (config) return config;
  const login = await fetch("/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: USER, password: "test" }),
  });
  if (!login.ok) throw new Error(`login -> ${login.status}`);
  config = await (await fetch("/api/config")).json();
  return config;
}

/** Loads and instantiates the package; returns the ms it took. */
async function loadPackage() {
  const t0 = performance.now();
  pkg = await import("/pkg/respoke_client.js");
  wasm = await pkg.default();
  return performance.now() - t0;
}

function options(extra = {}) {
  return {
    baseUrl: config.respokeBaseUrl,
    tokenUrl: config.tokenUrl ?? "/api/tokens",
    endpointId: USER,
    sdk: SDK,
    ...extra,
  };
}

const PHASES = ["token", "session", "handshake", "socket", "register"];

/** Durations of the phases from the times each one ended. */
function phaseDurations(t0, ends) {
  const out = {};
  let previous = t0;
  for (const phase of PHASES) {
    if (ends[phase] === undefined) continue;
    out[phase] = ends[phase] - previous;
    previous = ends[phase];
  }
  return out;
}

/** One connect with the package: connect() to the `connect` event, and when each phase ended. */
async function oursOnce() {
  const ends = {};
  let current = null;
  if (window.__trace) window.__trace = []; // trace.html: the steps of this connect
  const t0 = performance.now();
  window.__mark?.("t0");
  const client = pkg.connect(options());
  client.listen("state", (event) => {
    const now = performance.now();
    if (current) ends[current] = now;
    current = event.state === "connecting" ? event.phase : null;
  });
  await client.ready();
  const ms = performance.now() - t0;
  window.__mark?.("end");
  if (current) ends[current] = t0 + ms;
  client.disconnect();
  client.free?.();
  return { ms, phases: phaseDurations(t0, ends), trace: window.__trace };
}

// ----- the baseline: the same round trips by hand ---------------------------------------------

function query(appToken) {
  return (
    `__sails_io_sdk_version=0.10.0&app-token=${encodeURIComponent(appToken)}` +
    `&Respoke-SDK=${encodeURIComponent(SDK)}&t=${Date.now()}`
  );
}

const respokeHeaders = { "Content-Type": "application/json", "Respoke-SDK": SDK };

/**
 * POST token, POST /v1/session-tokens, GET handshake, WebSocket, `1::`, register, ack, and the
 * presence `unavailable` the client announces on every connect (respoke.js does too).
 *
 * Each phase ends, as the client's `state` event reports it, once the next phase's request is
 * out (the fetch called, the WebSocket created, the register frame sent): both sides count the
 * work of issuing a request in the phase before it.
 */
async function baselineConnect(ends = {}) {
  const token = await fetch(config.tokenUrl ?? "/api/tokens", {
    method: "POST",
    credentials: "include",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ endpointId: USER }),
  });
  if (!token.ok) throw new Error(`token -> ${token.status}`);
  const { token: tokenId } = await token.json();
  const sessionSent = fetch(`${config.respokeBaseUrl}/v1/session-tokens`, {
    method: "POST",
    credentials: "omit",
    headers: respokeHeaders,
    body: JSON.stringify({ tokenId }),
  });
  ends.token = performance.now();
  const session = await sessionSent;
  if (!session.ok) throw new Error(`session -> ${session.status}`);
  const { token: appToken } = await session.json();
  const handshakeSent = fetch(`${config.respokeBaseUrl}/socket.io/1/?${query(appToken)}`, {
    credentials: "omit",
  });
  ends.session = performance.now();
  const handshake = await handshakeSent;
  if (!handshake.ok) throw new Error(`handshake -> ${handshake.status}`);
  const sid = (await handshake.text()).split(":")[0];
  const wsBase = config.respokeBaseUrl.replace(/^http/, "ws");
  const socket = new WebSocket(`${wsBase}/socket.io/1/websocket/${encodeURIComponent(sid)}?${query(appToken)}`);
  ends.handshake = performance.now();
  const headers = { "App-Token": appToken, "Respoke-SDK": SDK };
  const post = (ack, url, data) =>
    socket.send(`5:${ack}+::${JSON.stringify({ name: "post", args: [JSON.stringify({ url, data, headers })] })}`);
  await new Promise((resolve, reject) => {
    socket.onerror = () => reject(new Error("socket error"));
    socket.onclose = () => reject(new Error("socket closed"));
    socket.onmessage = ({ data }) => {
      if (data === "1::") {
        post(1, "/v1/connections", { capabilities: { iceFinalCandidates: true } });
        ends.socket = performance.now();
      } else if (data === "2::") {
        socket.send("2::");
      } else if (data.startsWith("6:::1+")) {
        const [answer] = JSON.parse(data.slice(6));
        if (answer?.body?.id) {
          post(2, "/v1/presence", { presence: { type: "unavailable" } });
          ends.register = performance.now();
          resolve();
        } else reject(new Error("register failed"));
      }
    };
  });
  socket.onclose = socket.onerror = socket.onmessage = null;
  return { socket, appToken };
}

async function baselineOnce() {
  const ends = {};
  if (window.__trace) window.__trace = [];
  const t0 = performance.now();
  window.__mark?.("t0");
  const { socket, appToken } = await baselineConnect(ends);
  const ms = performance.now() - t0;
  window.__mark?.("end");
  // The same teardown as disconnect(): 0::, close, end the session (with keepalive, as the
  // client sends it so that it outlives the page).
  socket.send("0::");
  socket.close();
  fetch(`${config.respokeBaseUrl}/v1/session-tokens`, {
    method: "DELETE",
    credentials: "omit",
    keepalive: true,
    headers: { ...respokeHeaders, "App-Token": appToken },
  }).catch(() => {});
  return { ms, phases: phaseDurations(t0, ends), trace: window.__trace };
}

/** Cold start in a fresh page: (ours) import + init() + first connect; (baseline) first connect. */
async function cold() {
  await setup();
  const t0 = performance.now();
  let initMs = 0;
  if (mode === "ours") {
    initMs = await loadPackage();
    const client = pkg.connect(options());
    await client.ready();
    const totalMs = performance.now() - t0;
    client.disconnect();
    return { initMs, totalMs };
  }
  const { socket } = await baselineConnect();
  const totalMs = performance.now() - t0;
  socket.close();
  return { initMs, totalMs };
}

// ----- soak: drop/reconnect cycles -------------------------------------------------------------

let soakClient = null;
let connects = 0;
let waiters = [];

async function soakStart() {
  soakClient = pkg.connect(
    options({ stableAfterMs: 0, backoff: { initialDelayMs: 5, maxDelayMs: 5, multiplier: 1 } }),
  );
  soakClient.listen("connect", () => {
    connects += 1;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  });
  await soakClient.ready();
}

function nextConnect() {
  return new Promise((resolve) => waiters.push(resolve));
}

/**
 * `count` cycles; even ones are a server-side drop (`/dev/drop`: `0::` and close), odd ones
 * `client.reconnect()`. Each cycle waits for the next `connect`.
 */
async function soakCycles(count, startIndex) {
  const t0 = performance.now();
  for (let i = 0; i < count; i += 1) {
    const next = nextConnect();
    if ((startIndex + i) % 2 === 0) {
      const drop = await fetch(`${config.respokeBaseUrl}/dev/drop`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ endpointId: USER }),
      });
      if (!drop.ok) throw new Error(`drop -> ${drop.status}`);
    } else {
      soakClient.reconnect();
    }
    // The guard timer is cleared at once: a pending timer per cycle would itself look like a
    // leak at the next heap reading.
    let guard;
    try {
      await Promise.race([
        next,
        new Promise((_, reject) => {
          guard = setTimeout(() => reject(new Error(`cycle ${startIndex + i}: no reconnect in 10 s`)), 10_000);
        }),
      ]);
    } finally {
      clearTimeout(guard);
    }
  }
  return performance.now() - t0;
}

// The baseline soak: the same cycles with the hand-written connect (no package loaded).
let baselineLink = null;

async function baselineSoakStart() {
  baselineLink = await baselineConnect();
  connects += 1;
}

/** `count` cycles of: `0::`, close, DELETE the session, connect again by hand. */
async function baselineSoakCycles(count) {
  const t0 = performance.now();
  for (let i = 0; i < count; i += 1) {
    const { socket, appToken } = baselineLink;
    socket.send("0::");
    socket.close();
    fetch(`${config.respokeBaseUrl}/v1/session-tokens`, {
      method: "DELETE",
      credentials: "omit",
      headers: { ...respokeHeaders, "App-Token": appToken },
    }).catch(() => {});
    baselineLink = await baselineConnect();
    connects += 1;
  }
  return performance.now() - t0;
}

function snapshot() {
  return {
    wasmMemoryBytes: wasm?.memory?.buffer?.byteLength ?? null,
    counters: pkg?.debugCounters?.() ?? null,
    stats: soakClient?.stats() ?? null,
    state: soakClient?.state ?? null,
    connects,
  };
}

window.bench = {
  mode,
  setup,
  loadPackage,
  oursOnce,
  baselineOnce,
  cold,
  soakStart,
  soakCycles,
  baselineSoakStart,
  baselineSoakCycles,
  snapshot,
};
document.getElementById("log").textContent = `benchmark page ready (mode ${mode})`;
