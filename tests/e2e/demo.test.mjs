// End-to-end test of the demo page (www/) in Debian's headless Chromium, against the running dev
// server (scripts/test.sh starts it on the test ports). Run: node --test tests/e2e/
//
// It walks the page the way a person would: log in, connect, drop -> reconnect with a new
// tokenId, outage -> countdown -> connected, log out -> failed with no further token requests,
// log in again. Screenshots go to tests/e2e/artifacts/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { APP, devControl, endpointStats, eventually, launchChromium } from "./browser.mjs";

const USER = process.env.E2E_USER ?? "uhura@enterprise.com";
const PASSWORD = process.env.E2E_PASSWORD ?? "uhura";
const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));

let browser;
let page;
const pageErrors = [];
/** Counters of USER before this test, so earlier runs against the same server do not matter. */
let baseline;

/** The counters that grew since `baseline` (maxLiveSockets and liveSockets as they are). */
async function statsDelta() {
  const now = await endpointStats(USER);
  const delta = { ...now };
  for (const key of ["tokensIssued", "exchangesAccepted", "exchangesRejectedUsed", "socketsOpened", "appTokenRequests", "appTokenRequestsUnauthorized"]) {
    delta[key] = now[key] - baseline[key];
  }
  return delta;
}

const stateText = () => page.locator("#state").textContent();
const clientStats = () => page.evaluate(() => window.respokeClient.stats());

async function waitForState(state, timeout = 20_000) {
  await page.waitForFunction((s) => document.querySelector("#state")?.textContent === s, state, { timeout });
}

async function logIn() {
  await page.locator("#login-view").waitFor({ state: "visible" });
  await page.fill("#login-name", USER);
  await page.fill("#login-password", PASSWORD);
  await page.click("#login-submit");
  await page.locator("#client-view").waitFor({ state: "visible" });
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await devControl("reset");
  baseline = await endpointStats(USER);
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !/Failed to load resource/.test(message.text())) {
      pageErrors.push(`console: ${message.text()}`);
    }
  });
});

after(async () => {
  await browser?.close();
});

test("the demo page", async (t) => {
  await t.test("logs in and connects", async () => {
    await page.goto(`${APP}/`);
    await logIn();
    await waitForState("connected");
    assert.equal(await page.locator("#endpoint-id").textContent(), USER);
    assert.match(await page.locator("#connection-id").textContent(), /\S{8,}/);
    const stats = await clientStats();
    assert.equal(stats.connects, 1);
    assert.equal(stats.tokensFetched, 1);
    const server = await eventually("the socket to be counted", async () => {
      const delta = await statsDelta();
      return delta.liveSockets === 1 && delta;
    });
    assert.equal(server.exchangesAccepted, 1);
    assert.equal(server.exchangesRejectedUsed, 0);
  });

  await t.test("reconnects after a drop with a new tokenId", async () => {
    const before = await endpointStats(USER);
    await page.click("#ctl-drop");
    await eventually("a second connect", async () => (await clientStats()).connects === 2);
    await waitForState("connected");
    const delta = await eventually("one live socket again", async () => {
      const d = await statsDelta();
      return d.liveSockets === 1 && d;
    });
    assert.equal(delta.exchangesAccepted, 2, "two tokenIds exchanged: one per connection");
    assert.equal(delta.exchangesRejectedUsed, 0, "no spent tokenId was offered again");
    assert.equal(delta.maxLiveSockets, 1, "never two sockets at once");
    const now = await endpointStats(USER);
    const newTokens = now.lastTokenIds.filter((id) => !before.lastTokenIds.includes(id));
    assert.equal(newTokens.length, 1, "the reconnect exchanged a tokenId never used before");
    const clientSide = await clientStats();
    assert.equal(clientSide.disconnects, 1);
    assert.equal(clientSide.tokensFetched, 2);
  });

  await t.test("waits out an outage with a countdown, then connects", async () => {
    const connectsBefore = (await clientStats()).connects;
    await page.fill("#outage-seconds", "4");
    await page.click("#ctl-outage button");
    await page.waitForFunction(
      () =>
        document.querySelector("#state")?.textContent === "waiting" &&
        !document.querySelector("#countdown").hidden &&
        /^\d+\.\d s$/.test(document.querySelector("#countdown-value").textContent) &&
        document.querySelector("#countdown-value").textContent !== "0.0 s",
      null,
      { timeout: 15_000 },
    );
    await page.screenshot({ path: `${ARTIFACTS}outage-countdown.png`, fullPage: true });
    await eventually("a connect after the outage", async () => (await clientStats()).connects > connectsBefore, 30_000);
    await waitForState("connected");
    assert.equal(await page.locator("#countdown").isHidden(), true);
    const delta = await statsDelta();
    assert.equal(delta.exchangesRejectedUsed, 0);
    assert.equal(delta.maxLiveSockets, 1);
  });

  await t.test("draws the attempts on the timeline", async () => {
    const rows = await page.locator("#timeline svg g.row").count();
    assert.ok(rows >= 3, `at least three attempts drawn, got ${rows}`);
    await page.screenshot({ path: `${ARTIFACTS}demo.png`, fullPage: true });
  });

  await t.test("log out: failed with 'log in again' and no further token requests", async () => {
    await page.click("#ctl-logout");
    await waitForState("failed");
    await page.locator("#btn-login-again").waitFor({ state: "visible" });
    assert.match(await page.locator("#detail").textContent(), /log in again/i);
    const atFailure = await statsDelta();
    assert.ok(atFailure.appTokenRequestsUnauthorized >= 1, "the token endpoint answered 401");
    const clientAtFailure = await clientStats();
    await page.waitForTimeout(3_000);
    const later = await statsDelta();
    assert.equal(later.appTokenRequests, atFailure.appTokenRequests, "no token request after failed");
    assert.equal(later.liveSockets, 0);
    assert.deepEqual(await clientStats(), clientAtFailure);
    assert.equal(await stateText(), "failed");
    await page.screenshot({ path: `${ARTIFACTS}failed.png`, fullPage: true });
  });

  await t.test("log in again: the failed client reconnects", async () => {
    const connectsBefore = (await clientStats()).connects;
    await page.click("#btn-login-again");
    await logIn();
    await waitForState("connected");
    const stats = await clientStats();
    assert.equal(stats.connects, connectsBefore + 1, "the same client, started again by reconnect()");
    const delta = await statsDelta();
    assert.equal(delta.exchangesRejectedUsed, 0);
    assert.equal(delta.maxLiveSockets, 1);
  });

  await t.test("fits a phone screen (375 px)", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 375 px (overflow ${overflow} px)`);
    await page.screenshot({ path: `${ARTIFACTS}demo-375.png`, fullPage: true });
    await page.evaluate(() => window.respokeClient.disconnect());
    await waitForState("closed");
  });

  assert.deepEqual(pageErrors, [], "no errors on the page");
});
