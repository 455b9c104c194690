// The demo's chat: sendMessage, message and presence events, the queue across reconnects. Its
// state lives here; app.js hands it the current client and user (configureChat) and calls the
// exported functions from its event handlers and buttons.
import { formatDuration } from "./timeline.js";

const $ = (id) => document.getElementById(id);

/** What the chat needs from the page: the current client and user, the log, tab storage. */
let ctx = null;

/**
 * @param {{ client: () => any, me: () => any, log: (type: string, body: string) => void,
 *   tabStorage: (key: string, value?: string | null) => any, demoUsers: () => string[],
 *   endpointOf: (user: any) => string, TAB_PEER: string }} context
 */
export function configureChat(context) {
  ctx = context;
}

/**
 * On the wire a chat message is JSON: {"type":"chat","id","text"}; the receiving demo answers
 * {"type":"receipt","id"}. Respoke acknowledges a message when it accepted it ("sent"), not when
 * it reached anyone: it delivers only to connections that are live at that moment and keeps
 * nothing, so the receipt is what tells "delivered". Text that is not such JSON (e.g. from
 * respoke.js) is shown as it is.
 */
const CHAT_LIMIT = 200;
/** How long a sent message waits for its receipt before the page says it may not have arrived. */
const RECEIPT_WAIT_MS = 5000;
/** After a (re)connect, how long to wait for presence events before calling the peer offline. */
const PRESENCE_SETTLE_MS = 1500;

/** The queue behaviour the current ctx.client() was created with ("queue" or "fail"). */
let clientQueueMode = "queue";
/** Whether setPresence("available") was called on the current ctx.client() (it restores it itself). */
let presenceSet = false;
/** Endpoints observePresence() was called for on the current ctx.client() (it restores them itself). */
let observed = new Set();
/** The peer's connections we know of: connectionId -> presence type. */
const peerConnections = new Map();
/** "unknown" (we are not connected), "checking" (just (re)connected) or "known". */
let peerPresenceState = "unknown";
let presenceSettleTimer = null;
/** The user whose conversation the chat panel shows. */
let chatOwner = null;
/** Outgoing messages by id: { id, to, li, statusEl, status, queuedAt, receiptTimer, error }. */
const outgoing = new Map();
let messageSeq = 0;

export function peer() {
  return $("chat-peer").dataset.peer ?? "";
}

export function setPeer(endpointId) {
  const next = endpointId.trim();
  $("chat-peer").value = next;
  $("chat-send").disabled = !next;
  if (next === peer()) return;
  $("chat-peer").dataset.peer = next;
  ctx.tabStorage(ctx.TAB_PEER, next || null);
  for (const chip of $("peer-suggest").querySelectorAll("button")) {
    chip.setAttribute("aria-pressed", String(chip.dataset.endpointId === next));
  }
  resetPeerPresence(ctx.client()?.state === "connected" ? "checking" : "unknown");
  if (next && ctx.client()?.state === "connected") observePeer({ again: true });
}

export function renderPeerSuggestions() {
  const others = ctx.demoUsers().filter((user) => user !== ctx.endpointOf(ctx.me()));
  const list = $("chat-peers");
  list.replaceChildren(...others.map((user) => Object.assign(document.createElement("option"), { value: user })));
  const chips = $("peer-suggest");
  chips.replaceChildren();
  for (const user of others) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip";
    chip.dataset.endpointId = user;
    chip.textContent = user;
    chip.setAttribute("aria-pressed", String(user === peer()));
    chip.addEventListener("click", () => setPeer(user));
    chips.append(chip);
  }
}

/**
 * observePresence([peer]). The ctx.client() restores what it observes after every reconnect, so on a
 * connect this is needed only for a peer it does not observe yet; a peer picked again is asked
 * again, since only an observePresence call makes the server report the current presence.
 */
function observePeer({ again = false } = {}) {
  const target = peer();
  if (!ctx.client() || !target) return;
  if (observed.has(target) && !again) {
    settlePresenceSoon();
    return;
  }
  observed.add(target);
  const current = ctx.client();
  ctx.log("app", `ctx.client().observePresence(["${target}"])`);
  current
    .observePresence([target])
    .then(() => {
      if (current === ctx.client()) settlePresenceSoon();
    })
    .catch((error) => {
      ctx.log("error", `observePresence: ${error.code ?? error.name}: ${error.message}`);
      if (current === ctx.client()) observed.delete(target);
    });
}

export function onChatConnect() {
  if (!presenceSet && ctx.client()) {
    presenceSet = true;
    ctx.log("app", 'ctx.client().setPresence("available")');
    ctx.client().setPresence("available").catch((error) => {
      presenceSet = false;
      ctx.log("error", `setPresence: ${error.code ?? error.name}: ${error.message}`);
    });
  }
  resetPeerPresence(peer() ? "checking" : "unknown");
  if (peer()) observePeer();
  // Messages queued while disconnected are sent now, in order, after the restore.
  for (const record of outgoing.values()) {
    if (record.status === "queued") setOutgoingStatus(record, "sending");
  }
}

export function resetPeerPresence(state) {
  peerConnections.clear();
  peerPresenceState = state;
  clearTimeout(presenceSettleTimer);
  presenceSettleTimer = null;
  if (state === "checking") settlePresenceSoon();
  renderPeerPresence();
}

function settlePresenceSoon() {
  clearTimeout(presenceSettleTimer);
  presenceSettleTimer = setTimeout(() => {
    if (peerPresenceState === "checking") peerPresenceState = "known";
    renderPeerPresence();
  }, PRESENCE_SETTLE_MS);
}

export function onPeerPresence(event) {
  if (event.from !== peer()) return;
  if (event.presence === "unavailable") peerConnections.delete(event.fromConnection);
  else peerConnections.set(event.fromConnection, event.presence);
  peerPresenceState = "known";
  renderPeerPresence();
}

function renderPeerPresence() {
  const badge = $("peer-presence");
  const target = peer();
  let presence;
  if (!target) presence = "none";
  else if (peerPresenceState === "unknown") presence = "unknown";
  else if (peerConnections.size > 0) {
    const values = [...peerConnections.values()];
    presence = values.includes("available") ? "available" : values[0];
  } else presence = peerPresenceState === "checking" ? "checking" : "offline";
  const text = {
    none: "pick someone to chat with",
    unknown: "presence unknown while disconnected",
    checking: "checking presence\u2026",
    offline: "not connected",
  };
  badge.dataset.presence = presence;
  badge.textContent = target ? `${target}: ${text[presence] ?? presence}` : text.none;
  if (presence === "available" && peerConnections.size > 1) badge.textContent += ` (${peerConnections.size} tabs)`;
}

function clockTime(ms = Date.now()) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

function addChatItem(direction, who, text, at) {
  const list = $("chat-messages");
  list.querySelector(".empty")?.remove();
  const li = document.createElement("li");
  li.className = `msg ${direction}`;
  const bubble = document.createElement("p");
  bubble.className = "bubble";
  bubble.textContent = text;
  const meta = document.createElement("p");
  meta.className = "meta";
  const label = document.createElement("span");
  label.textContent = `${direction === "in" ? "from" : "to"} ${who} \u00b7 ${clockTime(at)}`;
  meta.append(label);
  li.append(bubble, meta);
  list.append(li);
  while (list.childElementCount > CHAT_LIMIT) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
  return li;
}

export function renderEmptyChat() {
  const list = $("chat-messages");
  if (list.childElementCount > 0) return;
  const li = document.createElement("li");
  li.className = "empty muted small";
  li.textContent = "No messages yet. Open this page in a second tab, log in there as another user, and chat; then try an outage.";
  list.append(li);
}

const STATUS_TEXT = {
  sending: "sending\u2026",
  queued: "queued: waits for the connection",
  sent: "sent",
  delivered: "delivered",
  failed: "failed",
};

function setOutgoingStatus(record, status, detail = "") {
  if (record.status === "delivered" && status === "sent") return; // the receipt came first
  record.status = status;
  record.li.dataset.status = status;
  let text = STATUS_TEXT[status];
  if (status === "failed") text = `failed: ${detail}`;
  else if ((status === "sent" || status === "delivered") && record.queuedAt !== undefined) {
    const when = record.firstConnect ? "once connected" : "after the reconnect";
    text += ` ${when} (queued ${formatDuration(performance.now() - record.queuedAt)})`;
  }
  if (detail && status !== "failed") text += ` \u00b7 ${detail}`;
  record.statusEl.textContent = text;
  record.statusEl.title = status === "failed" ? record.error ?? "" : "";
}

export function sendChat(text) {
  const to = peer();
  if (!to || !text) return;
  const id = `${ctx.endpointOf(ctx.me())}#${Date.now().toString(36)}-${(messageSeq += 1)}`;
  const li = addChatItem("out", to, text);
  li.dataset.id = id;
  const statusEl = document.createElement("span");
  statusEl.className = "fate";
  statusEl.dataset.testid = "message-status";
  li.querySelector(".meta").append(statusEl);
  const record = { id, to, li, statusEl, status: "sending" };
  outgoing.set(id, record);
  while (outgoing.size > CHAT_LIMIT) outgoing.delete(outgoing.keys().next().value);
  if (!ctx.client()) {
    record.error = "no client";
    setOutgoingStatus(record, "failed", "no client");
    return;
  }
  const current = ctx.client();
  const connected = current.state === "connected";
  if (!connected && clientQueueMode === "queue" && current.state !== "failed" && current.state !== "closed") {
    record.queuedAt = performance.now();
    record.firstConnect = current.stats().connects === 0;
    setOutgoingStatus(record, "queued");
  } else {
    setOutgoingStatus(record, "sending");
  }
  const message = JSON.stringify({ type: "chat", id, text });
  ctx.log("app", `ctx.client().sendMessage({ to: "${to}", message: ${JSON.stringify(text)} })${connected ? "" : ` while ${current.state}`}`);
  current.sendMessage({ to, message }).then(
    () => {
      setOutgoingStatus(record, "sent");
      record.receiptTimer = setTimeout(() => {
        if (record.status === "sent") {
          record.statusEl.textContent += ` \u00b7 no receipt: ${to} may not have been connected (Respoke keeps no messages)`;
        }
      }, RECEIPT_WAIT_MS);
    },
    (error) => {
      record.error = error.message;
      record.code = error.code ?? error.name;
      setOutgoingStatus(record, "failed", record.code);
      ctx.log("error", `sendMessage: ${error.code ?? error.name}: ${error.message}`);
    },
  );
}

export function onChatMessage(event) {
  let parsed = null;
  try {
    parsed = JSON.parse(event.message);
  } catch {
    // plain text
  }
  if (parsed?.type === "receipt" && typeof parsed.id === "string") {
    const record = outgoing.get(parsed.id);
    if (record) {
      clearTimeout(record.receiptTimer);
      // DISCONNECTED means the answer was lost, not that Respoke did not act: the receipt wins.
      const lost = record.status === "failed" ? `though sendMessage failed with ${record.code}` : "";
      setOutgoingStatus(record, "delivered", lost);
    }
    return;
  }
  const text = parsed?.type === "chat" && typeof parsed.text === "string" ? parsed.text : event.message;
  addChatItem("in", event.from, text, event.timestamp);
  if (parsed?.type === "chat" && typeof parsed.id === "string" && ctx.client()) {
    // Best effort: a receipt lost to a disconnect only leaves the sender without its tick.
    ctx.client().sendMessage({ to: event.from, message: JSON.stringify({ type: "receipt", id: parsed.id }) }).catch(() => {});
  }
}

export function renderQueueNote() {
  const chosen = $("queue-mode").value;
  const describe = { queue: "queued (sent after the reconnect, or QUEUE_TIMEOUT after 15 s)", fail: "rejected at once with DISCONNECTED" };
  const pending = ctx.client() && chosen !== clientQueueMode;
  $("queue-note").textContent = pending
    ? `This client was created with: ${describe[clientQueueMode]}. The choice applies when the ctx.client() is created.`
    : `Messages sent while disconnected are ${describe[chosen]}.`;
  $("queue-apply").hidden = !pending;
}

export function stopChatTimers() {
  clearTimeout(presenceSettleTimer);
  presenceSettleTimer = null;
}

/** A new client was created with this queue behaviour: it restores nothing the old one set. */
export function chatNewClient(queueMode) {
  clientQueueMode = queueMode;
  presenceSet = false;
  observed = new Set();
  resetPeerPresence("unknown");
  renderQueueNote();
}

/** Shows the conversation of `owner`, forgetting another user's (a switch of user in this tab). */
export function chatShowFor(owner) {
  if (chatOwner === owner) return false;
  chatOwner = owner;
  for (const record of outgoing.values()) clearTimeout(record.receiptTimer);
  outgoing.clear();
  return true;
}
