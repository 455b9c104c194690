// Shared by the compatibility scripts: PASS/FAIL bookkeeping, spawning respoke-devserver,
// HTTP, bundling respoke.js 1.56.0 (and respoke-admin 1.9.0) for the page, a static page
// server on its own loopback port, Chromium, and the clean-up.

import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const WAIT_MS = 10_000;
export const results = [];
const cleanups = [];

/** Runs `fn` at clean-up time (last registered, first run). */
export function onCleanUp(fn) {
  cleanups.push(fn);
}

export function record(name, ok, detail = '') {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
}

export async function check(name, fn) {
  try {
    const detail = await fn();
    record(name, true, typeof detail === 'string' ? detail : '');
    return true;
  } catch (error) {
    record(name, false, error && error.message ? error.message : String(error));
    return false;
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(what, predicate, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// The server

/**
 * Spawns a respoke-devserver on free ports (`extraArgs`, e.g. `['--config', file]`); resolves
 * with the app server's URL and the start-up text once it printed its addresses.
 */
export async function spawnServer(bin, { extraArgs = [], verbose = false } = {}) {
  const child = spawn(
    bin,
    ['--api-addr', '127.0.0.1:0', '--app-addr', '127.0.0.1:0', '--www', here, '--pkg', here, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  onCleanUp(() => stopProcess(child));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (verbose) process.stderr.write(chunk);
  });
  const appUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devserver did not start:\n${stdout}\n${stderr}`)), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devserver exited with ${code}:\n${stderr}`));
    });
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = stdout.match(/example app:\s+(http:\/\/[0-9.:]+)\//);
      if (match && /heartbeats every/.test(stdout)) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return { appUrl, stdout: () => stdout };
}

function stopProcess(child) {
  if (child.exitCode !== null) return Promise.resolve();
  child.kill('SIGTERM');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 5000);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function http(method, url, { body, headers = {} } = {}) {
  const response = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, json, text };
}

// ---------------------------------------------------------------------------------------------
// The page

/**
 * respoke.js 1.56.0 for the page. The npm package ships sources only (no prebuilt bundle), so
 * this bundles them with esbuild, using socket.io-client's own browser build
 * (dist/socket.io.js), as respoke's webpack build did.
 */
export async function bundleRespoke() {
  const esbuild = await import('esbuild');
  const socketIoBrowserBuild = require.resolve('socket.io-client/dist/socket.io.js');
  const result = await esbuild.build({
    stdin: {
      contents: "window.respoke = require('respoke');",
      resolveDir: here,
      sourcefile: 'entry.js',
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    logLevel: 'silent',
    alias: { 'socket.io-client': socketIoBrowserBuild },
    define: { global: 'window' },
  });
  // respoke's grunt dist build stamped the version into `buildNumber` (it becomes
  // `respoke.version` and the `Respoke-SDK` header); do the same.
  const { version } = require('respoke/package.json');
  const text = result.outputFiles[0].text;
  assert(text.includes("buildNumber: 'NO BUILD NUMBER'") || text.includes('buildNumber: "NO BUILD NUMBER"'),
    'respoke.js buildNumber placeholder not found');
  return text.replace(/buildNumber: (['"])NO BUILD NUMBER\1/, `buildNumber: "${version}"`);
}

/**
 * respoke-admin 1.9.0 for the page, as `window.RespokeAdmin`.
 *
 * The package is Node-only as shipped: no browser build and no `browser` field; its HTTP goes
 * through `request` (Node's http/https/net/tls), it reads `os`, `os-name` and
 * `process.version` for its `Respoke-SDK` header, and it builds on Node's `events`, `util` and
 * `url`. Its own code (lib/client.js: the paths, bodies, headers and answers) runs unchanged
 * here; only those Node modules are replaced by the small browser shims in
 * admin-browser-shims/ (`request` by a fetch adapter).
 */
export async function bundleRespokeAdmin() {
  const esbuild = await import('esbuild');
  const shims = join(here, 'admin-browser-shims');
  const result = await esbuild.build({
    stdin: {
      contents: "window.RespokeAdmin = require('respoke-admin');",
      resolveDir: here,
      sourcefile: 'admin-entry.js',
    },
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    logLevel: 'silent',
    alias: {
      request: join(shims, 'request.cjs'),
      os: join(shims, 'os.cjs'),
      'os-name': join(shims, 'os-name.cjs'),
      events: join(shims, 'events.cjs'),
      util: join(shims, 'util.cjs'),
      url: join(shims, 'url.cjs'),
      'socket.io-client': require.resolve('socket.io-client/dist/socket.io.js'),
    },
    inject: [join(shims, 'process.mjs')],
    define: { global: 'window' },
  });
  return result.outputFiles[0].text;
}

/** Serves `files` (`{'/path': [contentType, body]}`) on a free loopback port; resolves with its URL. */
export function startStaticServer(files) {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      const path = req.url === '/index.html' ? '/' : req.url;
      const file = files[path];
      if (file) {
        res.writeHead(200, { 'Content-Type': file[0] });
        res.end(file[1]);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    server.listen(0, '127.0.0.1', () => {
      onCleanUp(() => new Promise((done) => server.close(() => done())));
      resolve(`http://127.0.0.1:${server.address().port}/`);
    });
  });
}

/** Chromium as the project runs it (see tests/compat/README.md), plus `extraArgs`. */
export async function launchChromium(opts, extraArgs = []) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: !opts.headed,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', ...extraArgs,
    ],
  });
  onCleanUp(() => browser.close().catch(() => {}));
  return browser;
}

/** Runs `main`, cleans up, prints the summary and exits 1 on any failure. */
export async function run(title, main) {
  let crashed = null;
  try {
    await main();
  } catch (error) {
    crashed = error;
    record('harness', false, error && error.stack ? error.stack : String(error));
  }
  for (const fn of cleanups.reverse()) {
    await fn();
  }
  const passed = results.filter((r) => r.ok).length;
  const failedCount = results.length - passed;
  console.log(`\n${title}: ${failedCount === 0 && !crashed ? 'PASS' : 'FAIL'}`);
  console.log(`${passed} passed, ${failedCount} failed`);
  process.exit(failedCount === 0 && !crashed ? 0 : 1);
}
