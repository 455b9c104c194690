// Shared helpers of the Playwright tests: Debian's Chromium, the dev server's URLs and counters.
import { chromium } from "playwright-core";

/** The example app server (serves the demo) and the Respoke side of the running dev server. */
export const APP = process.env.RESPOKE_TEST_APP ?? "http://127.0.0.1:8180";
export const API = process.env.RESPOKE_TEST_API ?? "http://127.0.0.1:3101";

/** Flags for Chromium as root in a sandbox with no network but loopback. */
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Launches Debian's Chromium (never a downloaded one), with extra flags if given. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/** GET /dev/stats?endpointId=...: that endpoint's counters on the Respoke side. */
export async function endpointStats(endpointId) {
  const response = await fetch(`${API}/dev/stats?endpointId=${encodeURIComponent(endpointId)}`);
  if (!response.ok) throw new Error(`GET /dev/stats -> ${response.status}`);
  return response.json();
}

/** POST /dev/<control> on the Respoke side. */
export async function devControl(control, body = {}) {
  const response = await fetch(`${API}/dev/${control}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST /dev/${control} -> ${response.status}: ${await response.text()}`);
  return response.json();
}

/** Polls `check` (async, returns truthy when done) every 100 ms until `timeoutMs`. */
export async function eventually(what, check, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** CDP sessions by page, kept open: Chromium ends a session's network emulation with it. */
const cdpSessions = new WeakMap();

/** Takes one page (tab) offline or online with Chromium's network emulation (the page sees offline/online events). */
export async function setOffline(context, page, offline) {
  let cdp = cdpSessions.get(page);
  if (!cdp) {
    cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    cdpSessions.set(page, cdp);
  }
  await cdp.send("Network.emulateNetworkConditions", {
    offline,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
}
