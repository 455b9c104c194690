// The npm package's entry (pkg/index.js) in Debian's headless Chromium, as an app uses it: every
// misuse fails fast with a RespokeError (instanceof works), and a client that is freed or
// garbage-collected leaves no live socket on the dev server. Chromium runs with
// --js-flags=--expose-gc so the test can collect a dropped handle.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { APP, API, devControl, endpointStats, eventually, launchChromium } from "./browser.mjs";

let browser;
let context;

before(async () => {
  browser = await launchChromium(["--js-flags=--expose-gc"]);
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
});

/** A same-origin page (no demo client) with the package imported as `window.pkg`, before init(). */
async function blankPage() {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(`${APP}/api/config`);
  await page.evaluate(async () => {
    window.pkg = await import("/pkg/index.js");
  });
  return { page, errors };
}

async function login(page, user) {
  await page.evaluate(async (user) => {
    const login = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: user, password: "test" }),
    });
    if (!login.ok) throw new Error(`login ${login.status}`);
  }, user);
}

/** What a thrown or rejected error looks like from the app. */
const describe = `(error) => ({
  isRespokeError: error instanceof window.pkg.RespokeError,
  isError: error instanceof Error,
  name: error.name, code: error.code, status: error.status, message: error.message,
})`;

test("connect() before init() throws NOT_INITIALIZED; bad options throw INVALID_OPTIONS by name", async () => {
  const { page, errors } = await blankPage();
  const before = await page.evaluate(`(() => {
    try { window.pkg.connect({ baseUrl: "${API}", tokenUrl: "/api/tokens" }); return null; }
    catch (error) { return (${describe})(error); }
  })()`);
  assert.deepEqual(
    { ...before, message: undefined },
    { isRespokeError: true, isError: true, name: "RespokeError", code: "NOT_INITIALIZED", status: undefined, message: undefined },
  );
  await page.evaluate(() => window.pkg.default());
  const cases = await page.evaluate(`(async () => {
    const attempt = (options) => {
      try { window.pkg.connect(options); return null; } catch (error) { return (${describe})(error); }
    };
    return {
      noBaseUrl: attempt({ tokenUrl: "/api/tokens" }),
      noTokenSource: attempt({ baseUrl: "${API}" }),
      misspelled: attempt({ baseURL: "${API}", tokenUrl: "/api/tokens" }),
      wrongType: attempt({ baseUrl: "${API}", tokenUrl: "/api/tokens", queueSize: "many" }),
    };
  })()`);
  for (const [name, error] of Object.entries(cases)) {
    assert.equal(error?.isRespokeError, true, name);
    assert.equal(error.code, "INVALID_OPTIONS", name);
  }
  assert.match(cases.noBaseUrl.message, /baseUrl is required/);
  assert.match(cases.noTokenSource.message, /tokenUrl or getToken/);
  assert.equal(cases.misspelled.message, 'unknown option "baseURL"; did you mean "baseUrl"?');
  assert.match(cases.wrongType.message, /queueSize/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("ready() rejects with the HTTP status, on a timeout, and on an aborted signal", async () => {
  const { page } = await blankPage();
  await page.evaluate(() => window.pkg.default());
  // Nobody is logged in in this context's cookie jar for test35: the token endpoint answers 401.
  const unauthorized = await page.evaluate(`(async () => {
    const client = window.pkg.connect({ baseUrl: "${API}", tokenUrl: "/api/tokens", endpointId: "test35@example.com" });
    try { await client.ready(); return null; }
    catch (error) { return (${describe})(error); }
    finally { client.free(); }
  })()`);
  assert.equal(unauthorized.isRespokeError, true);
  assert.equal(unauthorized.code, "TOKEN_UNAUTHORIZED");
  assert.equal(unauthorized.status, 401);

  await login(page, "test36@example.com");
  await devControl("outage", { seconds: 3 });
  try {
    const waited = await page.evaluate(`(async () => {
      const client = window.pkg.connect({ baseUrl: "${API}", tokenUrl: "/api/tokens", endpointId: "test36@example.com" });
      const controller = new AbortController();
      const timeout = client.ready({ timeoutMs: 300 }).then(() => null, ${describe});
      const aborted = client.ready({ signal: controller.signal }).then(() => null, ${describe});
      controller.abort();
      const result = { timeout: await timeout, aborted: await aborted };
      client.free();
      return result;
    })()`);
    assert.equal(waited.timeout.code, "READY_TIMEOUT");
    assert.equal(waited.timeout.isRespokeError, true);
    assert.equal(waited.aborted.code, "ABORTED");
  } finally {
    await devControl("reset");
  }
  await page.close();
});

test("free() disconnects, any use after it throws CLOSED, and state follows disconnect()/reconnect() at once", async () => {
  const { page } = await blankPage();
  await page.evaluate(() => window.pkg.default());
  const user = "test37@example.com";
  await login(page, user);
  const result = await page.evaluate(`(async () => {
    const client = window.pkg.connect({ baseUrl: "${API}", tokenUrl: "/api/tokens", endpointId: "${user}",
      backoff: { initialDelayMs: 100, maxDelayMs: 500 } });
    await client.ready();
    client.reconnect();
    const afterReconnect = client.state;
    await client.ready();
    window.freed = client;
    client.free();
    const afterFree = client.state;
    let thrown = null;
    try { client.listen("connect", () => {}); } catch (error) { thrown = (${describe})(error); }
    const rejected = await client.sendMessage({ to: "x", message: "y" }).then(() => null, ${describe});
    const other = window.pkg.connect({ baseUrl: "${API}", tokenUrl: "/api/tokens", endpointId: "${user}" });
    await other.ready();
    other.disconnect();
    const afterDisconnect = other.state;
    return { afterReconnect, afterFree, thrown, rejected, afterDisconnect };
  })()`);
  assert.equal(result.afterReconnect, "connecting");
  assert.equal(result.afterFree, "closed");
  assert.equal(result.thrown.code, "CLOSED");
  assert.equal(result.thrown.isRespokeError, true);
  assert.equal(result.rejected.code, "CLOSED");
  assert.equal(result.afterDisconnect, "closed");
  await eventually("no live socket after free() and disconnect()", async () => (await endpointStats(user)).liveSockets === 0);
  await page.close();
});

test("a client dropped without free() is disconnected when garbage-collected", async () => {
  const { page } = await blankPage();
  await page.evaluate(() => window.pkg.default());
  const user = "test38@example.com";
  await login(page, user);
  await page.evaluate(`(async () => {
    // The handle lives only in this function: nothing refers to it once it returns.
    const client = window.pkg.connect({ baseUrl: "${API}", tokenUrl: "/api/tokens", endpointId: "${user}" });
    await client.ready();
  })()`);
  assert.equal((await endpointStats(user)).liveSockets, 1);
  await eventually(
    "the collected client's socket to close",
    async () => {
      await page.evaluate(async () => {
        window.gc();
        await new Promise((resolve) => setTimeout(resolve, 50));
      });
      return (await endpointStats(user)).liveSockets === 0;
    },
    15_000,
  );
  const counters = await page.evaluate(() => window.pkg.debugCounters());
  assert.equal(counters.sockets, 0);
  assert.equal(counters.drivers, 0);
  await page.close();
});

test("getToken may be synchronous, and UnauthorizedError from it means: log in again", async () => {
  const { page } = await blankPage();
  await page.evaluate(() => window.pkg.default());
  const result = await page.evaluate(`(async () => {
    const failed = new Promise((resolve) => {
      const client = window.pkg.connect({
        baseUrl: "${API}",
        getToken: () => { throw new window.pkg.UnauthorizedError("session expired"); },
      });
      client.listen("failed", (event) => { resolve(event); client.free(); });
    });
    return await failed;
  })()`);
  assert.equal(result.code, "TOKEN_UNAUTHORIZED");
  assert.equal(result.reauthenticate, true);
  await page.close();
});
