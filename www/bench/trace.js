// Loaded by trace.html only (scripts/bench/breakdown.mjs): timestamps every step of a connect
// where it enters or leaves the browser, for the package and the baseline alike: fetch called and
// returned, its answer, the body read, WebSocket created, frames sent and received. Each wrapper
// only records; the page's own code runs as in index.html.
window.__trace = [];
const mark = (kind) => window.__trace.push([kind, performance.now()]);
window.__mark = mark;

const kinds = new WeakMap();
const kindOf = (url) =>
  url.includes("/api/tokens") ? "token" : url.includes("session-tokens") ? "session" : url.includes("socket.io/1/?") ? "handshake" : "other";

const originalFetch = window.fetch;
window.fetch = function (input, init) {
  const kind = kindOf(typeof input === "string" ? input : String(input?.url ?? input));
  mark(`fetch:${kind}`);
  const answer = originalFetch.call(this, input, init);
  mark(`sent:${kind}`);
  answer.then((response) => { kinds.set(response, kind); mark(`resp:${kind}`); }, () => {});
  return answer;
};
for (const method of ["text", "json"]) {
  const original = Response.prototype[method];
  Response.prototype[method] = function () {
    const kind = kinds.get(this) ?? "other";
    const body = original.call(this);
    body.then(() => mark(`body:${kind}`), () => {});
    return body;
  };
}
const OriginalWebSocket = window.WebSocket;
window.WebSocket = class extends OriginalWebSocket {
  constructor(url, protocols) {
    mark("ws:new");
    super(url, protocols);
    mark("ws:created");
    // Registered before the page's own handler: it runs first.
    this.addEventListener("message", ({ data }) => mark(`ws:msg:${String(data).slice(0, 4)}`));
  }
  send(data) {
    mark(`ws:send:${String(data).slice(0, 4)}`);
    const sent = super.send(data);
    mark(`ws:sent:${String(data).slice(0, 4)}`);
    return sent;
  }
};
