// The demo app: logs in to the example app server, then uses the client exactly as any app would.
import init, { connect } from "/pkg/respoke_client.js";
import { Timeline, formatDuration } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const EVENTS = ["state", "connect", "disconnect", "reconnecting", "failed", "error", "message", "presence", "join", "leave", "pubsub"];
const LOG_LIMIT = 300;

/** The dev server's built-in demo users (it prints them at start-up; a --config file has others). */
const BUILTIN_DEMO_USERS = [
  { name: "spock@enterprise.com", password: "spock" },
  { name: "kirk@enterprise.com", password: "kirk" },
  { name: "uhura@enterprise.com", password: "uhura" },
];

/** What the app server tells us (GET /api/config); the Respoke API base URL in particular. */
let config = { respokeBaseUrl: "http://127.0.0.1:3001", tokenUrl: "/api/tokens" };
/** The logged-in user, as /api/me describes them. */
let me = null;
/** The current client, or null. */
let client = null;
/** The endpointId the current client was created for. */
let lastEndpoint = null;
/** performance.now() at which the next attempt starts, while waiting. */
let waitUntil = null;
let waitTotal = 0;

const timeline = new Timeline($("timeline"));

// ---- app server ------------------------------------------------------------------------------------

async function api(path, { method = "GET", body } = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { error: text };
  }
  return { ok: response.ok, status: response.status, json };
}

async function loadConfig() {
  const { ok, json } = await api("/api/config");
  if (ok) config = { ...config, ...json };
  $("footer-config").textContent = `Respoke API: ${config.respokeBaseUrl}`;
  renderDemoUsers();
}

function endpointOf(user) {
  return user?.endpointId ?? user?.name ?? user?.username ?? null;
}

function renderDemoUsers() {
  const list = $("demo-users");
  list.replaceChildren();
  const users = config.demoUsers ?? BUILTIN_DEMO_USERS;
  for (const user of users) {
    const name = user.name ?? user.username;
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.innerHTML = `<span></span><code></code>`;
    button.querySelector("span").textContent = name;
    button.querySelector("code").textContent = `password: ${user.password}`;
    button.addEventListener("click", () => {
      $("login-name").value = name;
      $("login-password").value = user.password ?? "";
      $("login-submit").focus();
    });
    li.append(button);
    list.append(li);
  }
}

// ---- views -------------------------------------------------------------------------------------

function showLogin(reason) {
  $("login-view").hidden = false;
  $("client-view").hidden = true;
  $("who").hidden = true;
  $("login-title").textContent = reason ? "Log in again" : "Log in to the example app";
  $("login-reason").textContent =
    reason ?? "The app server checks your password, then brokers Respoke tokens for you.";
  $("login-error").textContent = "";
  $("login-name").focus();
}

function showClient() {
  $("login-view").hidden = true;
  $("client-view").hidden = false;
  $("who").hidden = false;
  $("who-name").textContent = `logged in as ${endpointOf(me)}`;
}

// ---- the client --------------------------------------------------------------------------------

function startClient() {
  if (client) {
    // free() only releases the handle: the old client must be stopped first.
    client.disconnect();
    client.free();
    client = null;
  }
  timeline.newClient();
  waitUntil = null;
  log("app", `connect({ baseUrl: "${config.respokeBaseUrl}", tokenUrl: "${config.tokenUrl}", endpointId: "${endpointOf(me)}" })`);
  try {
    client = connect({
      baseUrl: config.respokeBaseUrl,
      tokenUrl: config.tokenUrl,
      endpointId: endpointOf(me),
    });
  } catch (error) {
    log("error", `${error.code ?? error.name}: ${error.message}`);
    renderState({ state: "failed" });
    return;
  }
  lastEndpoint = endpointOf(me);
  // Exposed for the end-to-end tests and for poking at it from the console.
  window.respokeClient = client;
  for (const type of EVENTS) client.listen(type, onClientEvent);
  renderState({ state: client.state });
  renderCounters();
  $("btn-login-again").hidden = true;
  $("btn-connect-again").hidden = true;
  $("detail").textContent = "";
}

function onClientEvent(event) {
  const { type, ...fields } = event;
  if (type !== "state" || fields.state !== "connecting" || fields.previous !== "connecting") {
    log(type, JSON.stringify(fields, (_, v) => (typeof v === "number" && !Number.isInteger(v) ? Math.round(v) : v)));
  } else {
    log(type, `phase ${fields.phase}`);
  }
  timeline.add(event);
  switch (type) {
    case "state":
      renderState(event);
      break;
    case "connect":
      $("detail").textContent = `connected after ${event.attempt} attempt${event.attempt === 1 ? "" : "s"}`;
      break;
    case "disconnect":
      $("detail").textContent = `disconnected: ${event.reason} (${event.code})`;
      break;
    case "reconnecting":
      $("detail").textContent = `attempt ${event.attempt} in ${formatDuration(event.delayMs)}, because ${event.cause}`;
      break;
    case "error":
      $("detail").textContent = `${event.code}: ${event.message}`;
      break;
    case "failed":
      $("detail").textContent = event.reauthenticate
        ? /log in again/i.test(event.reason)
          ? event.reason
          : `${event.reason}: log in again`
        : `${event.reason} (${event.code}${event.status ? `, HTTP ${event.status}` : ""})`;
      $("btn-login-again").hidden = !event.reauthenticate;
      $("btn-connect-again").hidden = event.reauthenticate;
      break;
  }
  renderIds();
  renderCounters();
  if (type === "connect" || type === "disconnect" || type === "failed") {
    // The server's counters change with these; show them without waiting for the next poll.
    setTimeout(pollServerStats, 150);
  }
}

function renderState(event) {
  const state = event.state ?? "idle";
  $("status").dataset.state = state;
  $("state").textContent = state;
  $("phase").textContent = state === "connecting" && event.phase ? `${event.phase}${event.attempt ? ` \u00b7 attempt ${event.attempt}` : ""}` : "";
  if (state === "waiting" && event.waitingFor) {
    // No attempt scheduled: the client waits for the browser, not for a timer.
    const why = { online: "the network to come back", visible: "the page to be shown", resume: "the page to resume" };
    waitUntil = null;
    $("countdown").hidden = true;
    $("phase").textContent = `waiting for ${why[event.waitingFor] ?? event.waitingFor}`;
  } else if (state === "waiting" && typeof event.retryIn === "number") {
    const at = typeof event.at === "number" ? event.at : performance.now();
    waitUntil = at + event.retryIn;
    waitTotal = event.retryIn;
    $("countdown").hidden = false;
    requestAnimationFrame(tickCountdown);
  } else {
    waitUntil = null;
    $("countdown").hidden = true;
  }
  const ended = state === "failed" || state === "closed";
  $("btn-reconnect").disabled = ended;
  $("btn-disconnect").disabled = ended;
  if (state === "closed") $("btn-connect-again").hidden = false;
  document.title = `${state} \u00b7 respoke-client demo`;
}

function tickCountdown() {
  if (waitUntil === null) return;
  const left = Math.max(0, waitUntil - performance.now());
  $("countdown-value").textContent = `${(left / 1000).toFixed(1)} s`;
  $("countdown-fill").style.width = `${waitTotal > 0 ? (100 * (waitTotal - left)) / waitTotal : 100}%`;
  requestAnimationFrame(tickCountdown);
}

function renderIds() {
  $("endpoint-id").textContent = client?.endpointId ?? "\u2013";
  $("connection-id").textContent = client?.connectionId ?? "\u2013";
}

function renderCounters() {
  if (!client) return;
  let stats;
  try {
    stats = client.stats();
  } catch {
    return; // freed
  }
  $("c-attempts").textContent = stats.attempts;
  $("c-tokens").textContent = stats.tokensFetched;
  $("c-connects").textContent = stats.connects;
  $("c-disconnects").textContent = stats.disconnects;
}

// ---- the Respoke side's /dev/ controls ---------------------------------------------------------

async function dev(path, body = {}) {
  const url = `${config.respokeBaseUrl}/dev/${path}`;
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const message = `POST /dev/${path} ${JSON.stringify(body)} -> ${response.status}`;
  log("app", message);
  $("ctl-result").textContent = message;
  if (!response.ok) throw new Error(`${message}: ${text}`);
}

async function pollServerStats() {
  const endpointId = endpointOf(me);
  if (!endpointId || $("client-view").hidden) return;
  try {
    const response = await fetch(`${config.respokeBaseUrl}/dev/stats?endpointId=${encodeURIComponent(endpointId)}`);
    if (!response.ok) return;
    const body = await response.json();
    const stats = body.endpoints?.[endpointId] ?? body.endpoint ?? body;
    for (const dd of $("server-stats").querySelectorAll("dd[data-key]")) {
      const key = dd.dataset.key;
      if (key === "liveSockets") {
        dd.textContent = `${stats.liveSockets ?? "\u2013"} (${stats.maxLiveSockets ?? "\u2013"})`;
      } else {
        dd.textContent = stats[key] ?? "\u2013";
      }
    }
  } catch {
    // The dev server may be restarting; the next poll will tell.
  }
}

function guarded(action) {
  return async (event) => {
    event?.preventDefault?.();
    try {
      await action();
    } catch (error) {
      log("error", String(error.message ?? error));
      $("ctl-result").textContent = String(error.message ?? error);
    }
  };
}

// ---- event log ---------------------------------------------------------------------------------

function log(type, body) {
  const li = document.createElement("li");
  li.className = `t-${type}`;
  const time = document.createElement("time");
  const now = new Date();
  time.textContent = `${now.toLocaleTimeString([], { hour12: false })}.${String(now.getMilliseconds()).padStart(3, "0")}`;
  const name = document.createElement("span");
  name.className = "type";
  name.textContent = type;
  const text = document.createElement("span");
  text.className = "body";
  text.textContent = body;
  li.append(time, name, text);
  const list = $("log");
  list.prepend(li);
  while (list.childElementCount > LOG_LIMIT) list.lastElementChild.remove();
}

// ---- wiring ------------------------------------------------------------------------------------

$("login-form").addEventListener(
  "submit",
  guarded(async () => {
    $("login-error").textContent = "";
    $("login-submit").disabled = true;
    try {
      const name = $("login-name").value.trim();
      const password = $("login-password").value;
      const result = await api("/api/login", { method: "POST", body: { username: name, password } });
      if (!result.ok) {
        $("login-error").textContent = result.json.error ?? `login failed (HTTP ${result.status})`;
        return;
      }
      const who = await api("/api/me");
      me = who.ok ? who.json : result.json;
      log("app", `logged in as ${endpointOf(me)}`);
      showClient();
      if (client?.state === "failed" && lastEndpoint === endpointOf(me)) {
        // The same user logged in again: the failed client starts again with a fresh backoff.
        log("app", "client.reconnect()");
        $("btn-login-again").hidden = true;
        $("detail").textContent = "";
        client.reconnect();
      } else {
        startClient();
      }
    } finally {
      $("login-submit").disabled = false;
    }
  }),
);

$("btn-reconnect").addEventListener("click", () => {
  log("app", "client.reconnect()");
  client?.reconnect();
});
$("btn-disconnect").addEventListener("click", () => {
  log("app", "client.disconnect()");
  client?.disconnect();
});
$("btn-connect-again").addEventListener("click", () => startClient());
$("btn-login-again").addEventListener("click", () => showLogin("Your session on the app server ended. Log in again to get new tokens."));

$("ctl-drop").addEventListener("click", guarded(() => dev("drop", { endpointId: endpointOf(me) })));
$("ctl-outage").addEventListener("submit", guarded(() => dev("outage", { seconds: Number($("outage-seconds").value) })));
$("ctl-fail").addEventListener(
  "submit",
  guarded(() => dev("fail-session-tokens", { count: Number($("fail-count").value), status: 401 })),
);
$("ctl-stall").addEventListener("submit", guarded(() => dev("stall", { seconds: Number($("stall-seconds").value) })));
$("ctl-logout").addEventListener(
  "click",
  guarded(async () => {
    const result = await api("/api/logout", { method: "POST" });
    log("app", `POST /api/logout -> ${result.status}; client.reconnect(): its next token request is refused`);
    $("ctl-result").textContent = "Logged out. The next token request answers 401.";
    client?.reconnect();
  }),
);
$("switch-user").addEventListener(
  "click",
  guarded(async () => {
    client?.disconnect();
    await api("/api/logout", { method: "POST" });
    me = null;
    showLogin();
  }),
);
$("log-clear").addEventListener("click", () => $("log").replaceChildren());

async function main() {
  await init();
  await loadConfig();
  const who = await api("/api/me");
  if (who.ok && endpointOf(who.json)) {
    me = who.json;
    showClient();
    startClient();
  } else {
    showLogin();
  }
  setInterval(() => {
    pollServerStats();
    renderCounters();
  }, 1000);
}

main().catch((error) => {
  document.body.insertAdjacentHTML("afterbegin", '<p class="card" style="margin:1rem;color:#dc2626"></p>');
  document.body.firstElementChild.textContent = `The demo could not start: ${error.message ?? error}`;
});
