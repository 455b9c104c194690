// The demo app: logs in to the example app server, then uses the client exactly as any app would.
import init, { connect, eventNames } from "/pkg/index.js";
import { Timeline, formatDuration } from "./timeline.js";
import {
  chatNewClient,
  chatShowFor,
  configureChat,
  onChatConnect,
  onChatMessage,
  onPeerPresence,
  peer,
  renderEmptyChat,
  renderPeerSuggestions,
  renderQueueNote,
  resetPeerPresence,
  sendChat,
  setPeer,
  stopChatTimers,
} from "./chat.js";

const $ = (id) => document.getElementById(id);
const LOG_LIMIT = 300;

/** The dev server's built-in demo users (it prints them at start-up; a --config file has others). */
const BUILTIN_DEMO_USERS = [
  { name: "spock@enterprise.com", password: "spock" },
  { name: "kirk@enterprise.com", password: "kirk" },
  { name: "uhura@enterprise.com", password: "uhura" },
];

/**
 * What this tab remembers in sessionStorage (per tab, kept across reloads): which signed-in user
 * the tab is, the chat peer and the queue behaviour. That is what lets two tabs be two users:
 * the app server keeps one session cookie per signed-in user.
 */
const TAB_USER = "respoke-demo.endpointId";
const TAB_PEER = "respoke-demo.peer";
const TAB_QUEUE = "respoke-demo.queueMode";

/** What the app server tells us (GET /api/config); the Respoke API base URL in particular. */
let config = { respokeBaseUrl: "http://127.0.0.1:3001", tokenUrl: "/api/tokens" };
/** This tab's user: { endpointId }. */
let me = null;
/** The current client, or null. */
let client = null;
/** The endpointId the current client was created for. */
let lastEndpoint = null;
/** performance.now() at which the next attempt starts, while waiting. */
let waitUntil = null;
let waitTotal = 0;

const timeline = new Timeline($("timeline"));

configureChat({
  client: () => client,
  me: () => me,
  log: (type, body) => log(type, body),
  tabStorage: (key, value) => tabStorage(key, value),
  demoUsers: () => demoUsers(),
  endpointOf: (user) => endpointOf(user),
  TAB_PEER,
});

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
  renderPeerSuggestions();
}

function demoUsers() {
  return (config.demoUsers ?? BUILTIN_DEMO_USERS).map((user) => user.name ?? user.username);
}

function tabStorage(key, value) {
  try {
    if (value === undefined) return sessionStorage.getItem(key);
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // Storage may be disabled; the tab then forgets on reload.
  }
  return null;
}

/** GET /api/me: the users signed in in this browser (every tab's), oldest first. */
async function signedInUsers() {
  const { ok, json } = await api("/api/me");
  if (!ok) return [];
  return json.endpointIds ?? (json.endpointId ? [json.endpointId] : []);
}

/** The login view's "signed in in this browser" list: one click makes this tab that user. */
function renderAccounts(users) {
  const list = $("account-list");
  list.replaceChildren();
  for (const user of users) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "account";
    button.dataset.endpointId = user;
    button.innerHTML = `<span></span><em>use in this tab</em>`;
    button.querySelector("span").textContent = user;
    button.addEventListener("click", () => becomeUser(user));
    li.append(button);
    list.append(li);
  }
  $("accounts").hidden = users.length === 0;
}

/** This tab is now `endpointId` (signed in on the app server): remember it and connect. */
function becomeUser(endpointId) {
  me = { endpointId };
  tabStorage(TAB_USER, endpointId);
  log("app", `this tab is ${endpointId}`);
  showClient();
  startClient();
}

// ---- views -------------------------------------------------------------------------------------

function showLogin(reason, name) {
  stopChatTimers();
  signedInUsers().then(renderAccounts, () => renderAccounts([]));
  if (name) $("login-name").value = name;
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
  if (chatShowFor(endpointOf(me))) {
    // Another user in this tab: their conversation starts empty.
    $("chat-messages").replaceChildren();
    renderEmptyChat();
  }
  renderPeerSuggestions();
  if (!$("chat-peer").value) {
    const saved = tabStorage(TAB_PEER);
    const fallback = demoUsers().find((user) => user !== endpointOf(me));
    setPeer(saved && saved !== endpointOf(me) ? saved : fallback ?? "");
  }
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
  const queueMode = $("queue-mode").value;
  const options = {
    baseUrl: config.respokeBaseUrl,
    tokenUrl: config.tokenUrl,
    endpointId: endpointOf(me),
  };
  // The queue behaviour is a connect() option: it applies to the client created here.
  if (queueMode === "fail") options.queueSize = 0;
  log("app", `connect(${JSON.stringify(options)})`);
  chatNewClient(queueMode);
  try {
    client = connect(options);
  } catch (error) {
    log("error", `${error.code ?? error.name}: ${error.message}`);
    renderState({ state: "failed" });
    return;
  }
  lastEndpoint = endpointOf(me);
  // Exposed for the end-to-end tests and for poking at it from the console.
  window.respokeClient = client;
  // Events of a client this page already replaced (its last "closed" comes after the new one
  // started) are not this page's business any more.
  const owner = client;
  const handler = (event) => {
    if (owner === client) onClientEvent(event);
  };
  for (const type of eventNames()) client.listen(type, handler);
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
      onChatConnect();
      break;
    case "disconnect":
      $("detail").textContent = `disconnected: ${event.reason} (${event.code})`;
      resetPeerPresence("unknown");
      break;
    case "message":
      onChatMessage(event);
      break;
    case "presence":
      onPeerPresence(event);
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
    // Any "attempt N in ..." shown earlier no longer holds: nothing is scheduled now.
    $("detail").textContent = "no attempt until then";
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
  else if (state !== "failed") $("btn-connect-again").hidden = true;
  document.title = `${state} \u00b7 ${endpointOf(me) ?? "respoke-client"} \u00b7 respoke-client demo`;
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
      // The app server answers with the user it signed in; the others signed in in this
      // browser (other tabs) stay signed in. This tab is that user from now on.
      me = { endpointId: result.json.endpointId ?? name };
      tabStorage(TAB_USER, endpointOf(me));
      log("app", `logged in as ${endpointOf(me)} (signed in in this browser: ${(result.json.endpointIds ?? [endpointOf(me)]).join(", ")})`);
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
    const endpointId = endpointOf(me);
    const result = await api("/api/logout", { method: "POST", body: { endpointId } });
    log("app", `POST /api/logout {"endpointId":"${endpointId}"} -> ${result.status}; client.reconnect(): its next token request is refused`);
    $("ctl-result").textContent = `${endpointId} is logged out. The next token request answers 401 (403 while other users are signed in in this browser).`;
    client?.reconnect();
  }),
);

/** Stops this tab's client and forgets which user the tab is (it stays signed in). */
function leaveTab() {
  client?.disconnect();
  me = null;
  tabStorage(TAB_USER, null);
  $("chat-peer").value = "";
  setPeer("");
}

$("switch-user").addEventListener(
  "click",
  guarded(async () => {
    leaveTab();
    showLogin();
  }),
);
$("sign-out").addEventListener(
  "click",
  guarded(async () => {
    const endpointId = endpointOf(me);
    leaveTab();
    await api("/api/logout", { method: "POST", body: { endpointId } });
    log("app", `signed ${endpointId} out`);
    showLogin();
  }),
);
$("log-clear").addEventListener("click", () => $("log").replaceChildren());

$("chat-peer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setPeer($("chat-peer").value);
  $("chat-input").focus();
});
$("chat-peer").addEventListener("change", () => setPeer($("chat-peer").value));
$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if ($("chat-peer").value.trim() !== peer()) setPeer($("chat-peer").value);
  const text = $("chat-input").value.trim();
  if (!text || !peer()) return;
  sendChat(text);
  $("chat-input").value = "";
  $("chat-input").focus();
});
$("queue-mode").addEventListener("change", () => {
  tabStorage(TAB_QUEUE, $("queue-mode").value);
  renderQueueNote();
});
$("queue-apply").addEventListener("click", () => {
  log("app", `restarting the client with queueSize ${$("queue-mode").value === "fail" ? 0 : "default"}`);
  startClient();
});

async function main() {
  await init();
  await loadConfig();
  if (tabStorage(TAB_QUEUE) === "fail") $("queue-mode").value = "fail";
  renderQueueNote();
  renderEmptyChat();
  const signedIn = await signedInUsers();
  const tabUser = tabStorage(TAB_USER);
  if (tabUser && signedIn.includes(tabUser)) {
    // A reload: this tab goes on as the user it was.
    becomeUser(tabUser);
  } else if (tabUser) {
    showLogin(`${tabUser} is no longer signed in on the app server.`, tabUser);
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
