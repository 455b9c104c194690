// The wake model end to end in Debian's headless Chromium: real network emulation over CDP
// (Network.emulateNetworkConditions offline, then online), and a hidden page that must not
// reconnect until it is shown again.
// The client is imported from /pkg/ exactly as an app would; the dev server's counters prove a
// fresh tokenId per reconnect. Run: node --test tests/e2e/
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { APP, API, endpointStats, eventually, launchChromium } from "./browser.mjs";

let browser;
let context;

before(async () => {
  browser = await launchChromium();
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
});

/** Opens a page on the app server, logs `user` in and connects a client; returns the page. */
async function connectedPage(user) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  // A same-origin page without the demo (which would start a client of its own).
  await page.goto(`${APP}/api/config`);
  await page.evaluate(
    async ({ user, api }) => {
      const login = await fetch("/api/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: user, password: "test" }),
      });
      if (!login.ok) throw new Error(`login ${login.status}`);
      const { default: init, connect } = await import("/pkg/index.js");
      await init();
      const events = [];
      const client = connect({
        baseUrl: api,
        tokenUrl: "/api/tokens",
        endpointId: user,
        backoff: { initialDelayMs: 200, maxDelayMs: 1000 },
        verifyTimeoutMs: 1000,
      });
      for (const name of ["connect", "disconnect", "reconnecting", "state", "error"]) {
        client.listen(name, (event) => events.push({ ...event, t: performance.now() }));
      }
      window.client = client;
      window.events = events;
      await client.ready();
    },
    { user, api: API },
  );
  return { page, errors };
}

const count = (page, type) => page.evaluate((type) => window.events.filter((e) => e.type === type).length, type);
const last = (page, type) => page.evaluate((type) => window.events.filter((e) => e.type === type).at(-1), type);

test("network offline then online: the socket is dropped and a fresh token reconnects soon", async () => {
  const user = "test30@example.com";
  const before = await endpointStats(user);
  const { page, errors } = await connectedPage(user);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: true,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  await eventually("disconnect on offline", async () => (await count(page, "disconnect")) >= 1, 5_000);
  assert.equal((await last(page, "disconnect")).code, "OFFLINE");
  assert.equal(await page.evaluate(() => window.client.state), "waiting");
  assert.equal((await last(page, "state")).waitingFor, "online");
  // While offline nothing is attempted.
  const tokenRequests = (await endpointStats(user)).appTokenRequests;
  await page.waitForTimeout(1_500);
  assert.equal((await endpointStats(user)).appTokenRequests, tokenRequests);

  const onlineAt = await page.evaluate(() => performance.now());
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  await eventually("reconnect after online", async () => (await count(page, "connect")) >= 2, 5_000);
  const connect = await last(page, "connect");
  assert.ok(connect.t - onlineAt < 2_000, `back ${Math.round(connect.t - onlineAt)} ms after online`);
  assert.equal((await last(page, "reconnecting")).cause, "ONLINE");
  const stats = await endpointStats(user);
  assert.equal(stats.exchangesAccepted - (before.exchangesAccepted ?? 0), 2, "a new tokenId for the reconnect");
  assert.equal(stats.exchangesRejectedUsed - (before.exchangesRejectedUsed ?? 0), 0);
  assert.equal(stats.maxLiveSockets, 1);
  await page.evaluate(() => window.client.disconnect());
  assert.deepEqual(errors, []);
  await page.close();
});

// Headless Chromium under Playwright keeps every page visible (Playwright emulates focus;
// minimizing, switching tabs and CDP freezing leave document.visibilityState "visible", also
// headed under Xvfb), so the visibility change is made at the DOM level: document.hidden is
// overridden and a real visibilitychange event is dispatched; the network part is real CDP
// emulation.
async function setHidden(page, hidden) {
  await page.evaluate((hidden) => {
    if (hidden) Object.defineProperty(document, "hidden", { get: () => true, configurable: true });
    else delete document.hidden;
    document.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
}

test("hidden page: real network loss is not retried until the page is visible again", async () => {
  const user = "test31@example.com";
  const before = await endpointStats(user);
  const { page, errors } = await connectedPage(user);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const conditions = { latency: 0, downloadThroughput: -1, uploadThroughput: -1 };
  await setHidden(page, true);
  assert.equal(await page.evaluate(() => window.client.state), "connected", "hiding keeps the socket");
  await cdp.send("Network.emulateNetworkConditions", { offline: true, ...conditions });
  await eventually("disconnect", async () => (await count(page, "disconnect")) >= 1, 5_000);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, ...conditions });
  // Online again, but hidden: no attempt.
  await page.waitForTimeout(1_500);
  assert.equal(await count(page, "connect"), 1, "no reconnect while hidden");
  assert.equal((await last(page, "state")).waitingFor, "visible");
  assert.equal((await endpointStats(user)).appTokenRequests - (before.appTokenRequests ?? 0), 1);
  const shownAt = await page.evaluate(() => performance.now());
  await setHidden(page, false);
  await eventually("reconnect when shown", async () => (await count(page, "connect")) >= 2, 5_000);
  const connect = await last(page, "connect");
  assert.ok(connect.t - shownAt < 2_000, `back ${Math.round(connect.t - shownAt)} ms after shown`);
  assert.equal((await last(page, "reconnecting")).cause, "VISIBLE");
  const stats = await endpointStats(user);
  assert.equal(stats.exchangesAccepted - (before.exchangesAccepted ?? 0), 2);
  assert.equal(stats.exchangesRejectedUsed - (before.exchangesRejectedUsed ?? 0), 0);
  await page.evaluate(() => window.client.disconnect());
  assert.deepEqual(errors, []);
  await page.close();
});

test("leaving the page (a real navigation) ends the session cleanly", async () => {
  const user = "test33@example.com";
  const before = await endpointStats(user);
  const { page, errors } = await connectedPage(user);
  // pagehide during a real unload: the client says 0:: and ends its session; the DELETE must
  // survive the navigation (fetch keepalive).
  await page.goto(`${APP}/api/me`);
  await eventually(
    "session ended after navigation",
    async () => {
      const stats = await endpointStats(user);
      return stats.liveSockets === 0 && stats.sessionTokensDeleted - (before.sessionTokensDeleted ?? 0) === 1;
    },
    5_000,
  );
  assert.deepEqual(errors, []);
  await page.close();
});
