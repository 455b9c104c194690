// Serves the built consumer app (tests/consumer/dist) with `vite preview`, which proxies /api to
// the dev server's app server, opens it in Debian's headless Chromium and checks that the
// package, imported by name through the bundler, connects to the dev server.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { preview } from "vite";
import { endpointStats, launchChromium } from "../e2e/browser.mjs";

const USER = process.env.CONSUMER_USER ?? "test40@example.com";
const PASSWORD = process.env.CONSUMER_PASSWORD ?? "test";
const root = fileURLToPath(new URL(".", import.meta.url));

const server = await preview({ root, configFile: `${root}vite.config.js` });
const url = server.resolvedUrls.local[0];
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const before = await endpointStats(USER);
  await page.goto(`${url}?user=${encodeURIComponent(USER)}&password=${encodeURIComponent(PASSWORD)}`);
  await page.waitForFunction(() => ["connected", "error", "failed"].includes(document.body.dataset.state), null, {
    timeout: 20_000,
  });
  const text = await page.locator("#result").textContent();
  console.log(`consumer app at ${url}: ${text}`);
  assert.equal(await page.evaluate(() => document.body.dataset.state), "connected", text);
  assert.match(text, new RegExp(`connected as ${USER.replace(/[.@]/g, "\\$&")}`));
  const after = await endpointStats(USER);
  assert.equal(after.exchangesAccepted - before.exchangesAccepted, 1);
  assert.equal(after.liveSockets, 1);
  await page.evaluate(() => window.client.disconnect());
  await page.waitForFunction(() => document.body.dataset.state === "closed", null, { timeout: 10_000 });
  assert.deepEqual(errors, []);
  console.log("consumer check passed: the bundled package connected and disconnected");
} finally {
  await browser.close();
  await new Promise((resolve) => server.httpServer.close(resolve));
}
