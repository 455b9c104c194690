// The chat of the demo page (www/) end to end in Debian's headless Chromium: two tabs of ONE
// browser (one context, one cookie jar) logged in as two demo users, chatting through the dev
// server; messages sent during an outage are queued and arrive after the reconnect, or fail
// visibly (QUEUE_TIMEOUT, or DISCONNECTED with the fail-at-once setting).
// Run: node --test tests/e2e/ (scripts/test.sh starts the dev server and sets the URLs).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { APP, devControl, eventually, launchChromium, setOffline as setOfflineIn } from "./browser.mjs";

const SPOCK = { name: "spock@enterprise.com", password: "spock" };
const KIRK = { name: "kirk@enterprise.com", password: "kirk" };
const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));

let browser;
let context;
/** Tab A (spock) and tab B (kirk). */
let a;
let b;
const pageErrors = [];

function watch(page, label) {
  page.on("pageerror", (error) => pageErrors.push(`${label}: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !/Failed to load resource/.test(message.text())) {
      pageErrors.push(`${label} console: ${message.text()}`);
    }
  });
}

const state = (page) => page.locator("#state").textContent();

async function waitForState(page, wanted, timeout = 20_000) {
  await page.waitForFunction((s) => document.querySelector("#state")?.textContent === s, wanted, { timeout });
}

async function waitForNotConnected(page, timeout = 10_000) {
  await page.waitForFunction(() => document.querySelector("#state")?.textContent !== "connected", null, { timeout });
}

async function logIn(page, user) {
  await page.goto(`${APP}/`);
  await page.locator("#login-view").waitFor({ state: "visible" });
  await page.fill("#login-name", user.name);
  await page.fill("#login-password", user.password);
  await page.click("#login-submit");
  await page.locator("#client-view").waitFor({ state: "visible" });
  await waitForState(page, "connected");
}

async function chatWith(page, peer) {
  await page.fill("#chat-peer", peer);
  await page.press("#chat-peer", "Enter");
}

async function send(page, text) {
  await page.fill("#chat-input", text);
  await page.click("#chat-send");
}

/** The data-status of the outgoing message with this text ("sending", "queued", "sent", "delivered", "failed"). */
function outgoingStatus(page, text) {
  return page.evaluate((text) => {
    const item = [...document.querySelectorAll("#chat-messages li.msg.out")].find(
      (li) => li.querySelector(".bubble")?.textContent === text,
    );
    return item ? { status: item.dataset.status, line: item.querySelector(".fate")?.textContent ?? "" } : null;
  }, text);
}

async function waitForOutgoing(page, text, status, timeout = 20_000) {
  await page.waitForFunction(
    ({ text, status }) =>
      [...document.querySelectorAll("#chat-messages li.msg.out")].some(
        (li) => li.querySelector(".bubble")?.textContent === text && li.dataset.status === status,
      ),
    { text, status },
    { timeout },
  );
  return outgoingStatus(page, text);
}

/** Texts of the received messages shown in the tab, with their sender line. */
function incoming(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("#chat-messages li.msg.in")].map((li) => ({
      text: li.querySelector(".bubble").textContent,
      meta: li.querySelector(".meta").textContent,
    })),
  );
}

async function waitForIncoming(page, text, timeout = 20_000) {
  await page.waitForFunction(
    (text) => [...document.querySelectorAll("#chat-messages li.msg.in .bubble")].some((b) => b.textContent === text),
    text,
    { timeout },
  );
}

async function waitForPeerPresence(page, presence, timeout = 15_000) {
  await page.waitForFunction(
    (presence) => document.querySelector("#peer-presence")?.dataset.presence === presence,
    presence,
    { timeout },
  );
}

const clientStats = (page) => page.evaluate(() => window.respokeClient.stats());

/** Network emulation for one tab: offline keeps that tab's client from reconnecting. */
const setOffline = (page, offline) => setOfflineIn(context, page, offline);

/** Both tabs side by side in one picture (a third page lays the two screenshots out). */
async function screenshotBothTabs(path) {
  const shots = [];
  for (const page of [a, b]) {
    shots.push((await page.screenshot({ fullPage: false })).toString("base64"));
  }
  const board = await context.newPage();
  await board.setViewportSize({ width: 1560, height: 1060 });
  await board.setContent(
    `<body style="margin:0;padding:20px;background:#374151;display:flex;gap:20px;font:14px system-ui;color:#fff">` +
      shots
        .map(
          (shot, i) =>
            `<figure style="margin:0"><figcaption style="margin-bottom:6px">tab ${i === 0 ? "A: spock" : "B: kirk"}</figcaption>` +
            `<img style="display:block;width:750px;border-radius:6px" src="data:image/png;base64,${shot}"></figure>`,
        )
        .join("") +
      `</body>`,
  );
  await board.screenshot({ path });
  await board.close();
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await devControl("reset");
  browser = await launchChromium();
  // One context = one browser profile: the two pages share the cookie jar, as two tabs do.
  context = await browser.newContext({ viewport: { width: 760, height: 1000 } });
  a = await context.newPage();
  b = await context.newPage();
  watch(a, "tab A");
  watch(b, "tab B");
});

after(async () => {
  await devControl("reset").catch(() => {});
  await browser?.close();
});

test("chat between two tabs of one browser", async (t) => {
  await t.test("two tabs are two users, both signed in at once", async () => {
    await logIn(a, SPOCK);
    await logIn(b, KIRK);
    assert.equal(await a.locator("#endpoint-id").textContent(), SPOCK.name);
    assert.equal(await b.locator("#endpoint-id").textContent(), KIRK.name);
    const me = await a.evaluate(async () => (await fetch("/api/me")).json());
    assert.deepEqual(me.endpointIds, [SPOCK.name, KIRK.name]);
    // Kirk's login did not sign spock out: tab A still gets tokens for spock (a reload starts
    // a new client that needs one, and the tab remembers it is spock).
    await a.reload();
    await a.locator("#client-view").waitFor({ state: "visible" });
    await waitForState(a, "connected");
    assert.equal(await a.locator("#endpoint-id").textContent(), SPOCK.name);
    assert.equal(await a.evaluate(() => sessionStorage.getItem("respoke-demo.endpointId")), SPOCK.name);
    assert.equal(await b.evaluate(() => sessionStorage.getItem("respoke-demo.endpointId")), KIRK.name);
  });

  await t.test("each sees the other available; A's message reaches B and B's reply reaches A", async () => {
    await chatWith(a, KIRK.name);
    await chatWith(b, SPOCK.name);
    await waitForPeerPresence(a, "available");
    await waitForPeerPresence(b, "available");
    assert.match(await a.locator("#peer-presence").textContent(), /kirk@enterprise\.com: available/);

    await send(a, "Hello from spock");
    await waitForIncoming(b, "Hello from spock");
    const got = (await incoming(b)).find((m) => m.text === "Hello from spock");
    assert.match(got.meta, /from spock@enterprise\.com/);
    // Respoke acknowledged it, and kirk's tab sent a receipt.
    await waitForOutgoing(a, "Hello from spock", "delivered");

    await send(b, "Hello from kirk");
    await waitForIncoming(a, "Hello from kirk");
    await waitForOutgoing(b, "Hello from kirk", "delivered");
  });

  await t.test("outage: a message sent meanwhile is queued and arrives after both reconnect", async () => {
    const connectsA = (await clientStats(a)).connects;
    const connectsB = (await clientStats(b)).connects;
    await devControl("outage", { seconds: 4 });
    await waitForNotConnected(a);
    await waitForNotConnected(b);
    // Respoke delivers a message only to connections live when it arrives and keeps nothing, so
    // tab A is also kept offline until B is back: otherwise A's queue could flush before kirk
    // reconnected, and Respoke would accept the message with no one to give it to.
    await setOffline(a, true);
    await send(a, "Sent during the outage");
    const queued = await outgoingStatus(a, "Sent during the outage");
    assert.equal(queued.status, "queued");
    assert.match(queued.line, /queued/);
    await a.screenshot({ path: `${ARTIFACTS}chat-queued.png` });

    await eventually("tab B to reconnect after the outage", async () => (await clientStats(b)).connects > connectsB, 30_000);
    await waitForState(b, "connected");
    assert.equal((await outgoingStatus(a, "Sent during the outage")).status, "queued", "still waiting in A's queue");
    await setOffline(a, false);
    await eventually("tab A to reconnect", async () => (await clientStats(a)).connects > connectsA, 15_000);
    await waitForIncoming(b, "Sent during the outage");
    const delivered = await waitForOutgoing(a, "Sent during the outage", "delivered");
    assert.match(delivered.line, /after the reconnect/);
    // Both see each other again.
    await waitForPeerPresence(a, "available");
    await waitForPeerPresence(b, "available");
    await screenshotBothTabs(`${ARTIFACTS}chat-two-tabs.png`);
  });

  await t.test("a message queued longer than queueMaxAgeMs fails with QUEUE_TIMEOUT", async () => {
    const connectsA = (await clientStats(a)).connects;
    await setOffline(a, true);
    await waitForNotConnected(a);
    await send(a, "Nobody will carry this");
    assert.equal((await outgoingStatus(a, "Nobody will carry this")).status, "queued");
    // queueMaxAgeMs is 15 s by default.
    const failed = await waitForOutgoing(a, "Nobody will carry this", "failed", 25_000);
    assert.match(failed.line, /QUEUE_TIMEOUT/);
    await setOffline(a, false);
    await eventually("tab A to reconnect", async () => (await clientStats(a)).connects > connectsA, 15_000);
    await waitForState(a, "connected");
  });

  await t.test("fail at once (queueSize 0): a message sent during an outage fails with DISCONNECTED", async () => {
    await a.selectOption("#queue-mode", "fail");
    // The setting applies when the client is created: the page offers to restart it.
    await a.locator("#queue-apply").waitFor({ state: "visible" });
    await a.click("#queue-apply");
    await waitForState(a, "connected");
    assert.equal(await a.locator("#queue-apply").isHidden(), true);
    await waitForPeerPresence(a, "available");

    await devControl("outage", { seconds: 3 });
    await waitForNotConnected(a);
    await send(a, "Fails at once");
    const failed = await waitForOutgoing(a, "Fails at once", "failed", 2_000);
    assert.match(failed.line, /DISCONNECTED/);
    await a.screenshot({ path: `${ARTIFACTS}chat-failed.png` });
    await waitForState(a, "connected", 30_000);
    await waitForState(b, "connected", 30_000);
    // Once connected again, messages go through as before.
    await send(a, "Back again");
    await waitForIncoming(b, "Back again");
    assert.equal((await incoming(b)).some((m) => m.text === "Fails at once"), false, "the failed message was never sent");
    assert.equal((await incoming(b)).some((m) => m.text === "Nobody will carry this"), false);
    // The setting is remembered by the tab.
    assert.equal(await a.evaluate(() => sessionStorage.getItem("respoke-demo.queueMode")), "fail");
  });

  await t.test("fits a phone screen (375 px)", async () => {
    await b.setViewportSize({ width: 375, height: 900 });
    await b.waitForTimeout(300);
    const overflow = await b.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 375 px (overflow ${overflow} px)`);
    await b.locator("#chat").screenshot({ path: `${ARTIFACTS}chat-375.png` });
    assert.ok(readFileSync(`${ARTIFACTS}chat-two-tabs.png`).length > 10_000);
  });

  await t.test("signing one user out leaves the other tab's user signed in", async () => {
    await a.click("#sign-out");
    await a.locator("#login-view").waitFor({ state: "visible" });
    const me = await b.evaluate(async () => (await fetch("/api/me")).json());
    assert.deepEqual(me.endpointIds, [KIRK.name]);
    // Tab B's client still gets tokens: a forced drop reconnects it.
    const connectsB = (await clientStats(b)).connects;
    await devControl("drop", { endpointId: KIRK.name });
    await eventually("tab B to reconnect after a drop", async () => (await clientStats(b)).connects > connectsB, 15_000);
    await waitForState(b, "connected");
    // Tab A's login view offers kirk (signed in in this browser) for this tab.
    await a.locator("#accounts").waitFor({ state: "visible" });
    assert.deepEqual(await a.locator("#account-list button").evaluateAll((els) => els.map((e) => e.dataset.endpointId)), [KIRK.name]);
    await b.evaluate(() => window.respokeClient.disconnect());
    await waitForState(b, "closed");
  });

  assert.equal(await state(b), "closed");
  assert.deepEqual(pageErrors, [], "no errors on the pages");
});
