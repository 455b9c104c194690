// Opens the consumer app in Debian's headless Chromium, served three ways, and checks each time
// that the package, installed from the packed tarball and imported by name, connects to the dev
// server and disconnects: Vite's dev server, `vite build` + `vite preview`, and a webpack 5 build.
// Every server proxies /api to the dev server's app server.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build, createServer, preview } from "vite";
import webpack from "webpack";
import { endpointStats, launchChromium } from "../e2e/browser.mjs";

const USER = process.env.CONSUMER_USER ?? "test40@example.com";
const PASSWORD = process.env.CONSUMER_PASSWORD ?? "test";
const root = fileURLToPath(new URL(".", import.meta.url));
const configFile = `${root}vite.config.js`;

async function check(browser, url, how) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  const before = await endpointStats(USER);
  await page.goto(`${url}?user=${encodeURIComponent(USER)}&password=${encodeURIComponent(PASSWORD)}`);
  await page.waitForFunction(() => ["connected", "error", "failed"].includes(document.body.dataset.state), null, {
    timeout: 30_000,
  });
  const text = await page.locator("#result").textContent();
  console.log(`[consumer] ${how} at ${url}: ${text}`);
  assert.equal(await page.evaluate(() => document.body.dataset.state), "connected", `${how}: ${text}`);
  assert.match(text, new RegExp(`connected as ${USER.replace(/[.@]/g, "\\$&")}`));
  const after = await endpointStats(USER);
  assert.equal(after.exchangesAccepted - before.exchangesAccepted, 1, how);
  assert.equal(after.liveSockets, 1, how);
  await page.evaluate(() => window.client.disconnect());
  await page.waitForFunction(() => document.body.dataset.state === "closed", null, { timeout: 10_000 });
  assert.deepEqual(errors, [], how);
  await page.close();
}

const browser = await launchChromium();
try {
  // 1. Vite's dev server.
  const dev = await createServer({ configFile });
  await dev.listen();
  try {
    await check(browser, dev.resolvedUrls.local[0], "vite dev");
  } finally {
    await dev.close();
  }

  // 2. vite build, served by vite preview.
  await build({ configFile });
  const built = await preview({ configFile });
  try {
    await check(browser, built.resolvedUrls.local[0], "vite build");
  } finally {
    await new Promise((resolve) => built.httpServer.close(resolve));
  }

  // 3. webpack 5, served by vite preview from its output folder.
  const { default: config } = await import(`${root}webpack.config.js`);
  const stats = await new Promise((resolve, reject) =>
    webpack(config, (error, stats) => (error ? reject(error) : resolve(stats))),
  );
  assert.ok(!stats.hasErrors(), stats.toString({ all: false, errors: true }));
  writeFileSync(
    `${config.output.path}/index.html`,
    '<!doctype html><meta charset="utf-8"><title>webpack</title><script defer src="main.js"></script>' +
      '<body data-state="loading"><p id="result">loading</p></body>',
  );
  const packed = await preview({ configFile, build: { outDir: "dist-webpack" } });
  try {
    await check(browser, packed.resolvedUrls.local[0], "webpack 5");
  } finally {
    await new Promise((resolve) => packed.httpServer.close(resolve));
  }
  console.log("consumer check passed: the packed package connected in Vite dev, Vite build and webpack 5");
} finally {
  await browser.close();
}
