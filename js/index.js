// The entry of the respoke-client npm package: the wasm-bindgen module (./respoke_client.js)
// behind a guard that turns misuse into RespokeErrors: connect() before init() resolved
// (NOT_INITIALIZED), any use of a client after free() (CLOSED). Types: index.d.ts.
import initWasm, * as wasm from "./respoke_client.js";

/** Error thrown or rejected by the client (a stable `code`, and `status` for HTTP answers). */
export class RespokeError extends Error {
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RespokeError";
    this.code = code;
    if (options.status !== undefined) this.status = options.status;
  }
}

/** Thrown by an app's `getToken` when the user must log in again. */
export class UnauthorizedError extends Error {
  constructor(message = "the user must log in again", options = undefined) {
    super(message, options);
    this.name = "UnauthorizedError";
    this.code = "UNAUTHORIZED";
  }
}

let initialized = false;
let initializing;

/** Loads the wasm module once; every later call returns the same promise. */
export default function init(options) {
  initializing ??= initWasm(options).then(() => {
    wasm.__registerErrorClass(RespokeError);
    initialized = true;
  });
  return initializing;
}

const closed = () => new RespokeError("CLOSED", "this client was freed");

/** A reconnecting Respoke client; see index.d.ts. */
export class Client {
  #inner;

  constructor(inner) {
    this.#inner = inner;
  }

  #live() {
    if (this.#inner === undefined) throw closed();
    return this.#inner;
  }

  listen(event, handler) {
    this.#live().listen(event, handler);
  }
  ignore(event, handler) {
    this.#live().ignore(event, handler);
  }
  disconnect() {
    this.#live().disconnect();
  }
  reconnect() {
    this.#live().reconnect();
  }
  /** The inner client's promise-returning method, or a CLOSED rejection after free(). */
  #promise(call) {
    return this.#inner === undefined ? Promise.reject(closed()) : call(this.#inner);
  }
  request(method, url, data) {
    return this.#promise((inner) => inner.request(method, url, data));
  }
  sendMessage(options) {
    return this.#promise((inner) => inner.sendMessage(options));
  }
  setPresence(presence) {
    return this.#promise((inner) => inner.setPresence(presence));
  }
  join(group) {
    return this.#promise((inner) => inner.join(group));
  }
  leave(group) {
    return this.#promise((inner) => inner.leave(group));
  }
  publish(options) {
    return this.#promise((inner) => inner.publish(options));
  }
  observePresence(endpointIds) {
    return this.#promise((inner) => inner.observePresence(endpointIds));
  }
  stats() {
    return this.#live().stats();
  }
  get state() {
    return this.#inner ? this.#inner.state : "closed";
  }
  get endpointId() {
    return this.#inner?.endpointId;
  }
  get connectionId() {
    return this.#inner?.connectionId;
  }

  /** The next `connect`; with `signal` (ABORTED) and `timeoutMs` (READY_TIMEOUT). */
  ready({ signal, timeoutMs } = {}) {
    const next = this.#promise((inner) => inner.ready());
    if (this.#inner === undefined || (signal == null && timeoutMs == null)) return next;
    return new Promise((resolve, reject) => {
      let timer;
      const onAbort = () =>
        settle(reject, new RespokeError("ABORTED", "ready() was aborted", { cause: signal.reason }));
      const settle = (how, value) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        how(value);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort);
      if (timeoutMs != null) {
        timer = setTimeout(
          () => settle(reject, new RespokeError("READY_TIMEOUT", `not connected within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }
      next.then((event) => settle(resolve, event), (error) => settle(reject, error));
    });
  }

  /** Disconnects and frees the client; any use afterwards throws CLOSED. */
  free() {
    const inner = this.#inner;
    this.#inner = undefined;
    inner?.free(); // the Rust handle's Drop disconnects
  }
}

/** Creates a client and starts connecting at once. */
export function connect(options) {
  if (!initialized) {
    throw new RespokeError("NOT_INITIALIZED", "call (and await) init() before connect()");
  }
  // A handle dropped without free() is collected with its wasm-bindgen object, whose
  // finalizer frees the Rust handle: its Drop disconnects.
  return new Client(wasm.connect(options));
}

/** The names `listen` accepts (the client's own list, in the order `index.d.ts` declares them). */
export function eventNames() {
  if (!initialized) throw new RespokeError("NOT_INITIALIZED", "call (and await) init() first");
  return wasm.eventNames();
}

/** Counts of live objects across all clients (sockets, drivers, requests, timers, listeners). */
export function debugCounters() {
  if (!initialized) throw new RespokeError("NOT_INITIALIZED", "call (and await) init() first");
  return wasm.debugCounters();
}
