// The public types of the respoke-client npm package (its entry, index.js). The packager
// (scripts/package.mjs) ships this file as index.d.ts. Every code is a string-literal union.

/** Connection states. See README "States". */
export type State = "idle" | "connecting" | "connected" | "waiting" | "failed" | "closed";

/** Phase of an attempt while `state` is `"connecting"`. */
export type Phase = "token" | "session" | "handshake" | "socket" | "register";

/**
 * Exponential backoff with jitter. After n consecutive failures the window is
 * w = min(maxDelayMs, initialDelayMs * multiplier^n); the delay is uniform(0, w) while the window
 * grows (full jitter) and uniform(w/2, w) once it is at maxDelayMs (equal jitter; never for the
 * first retry). A Retry-After is a floor, with uniform(0, min(w, Retry-After)) on top.
 */
export interface BackoffOptions {
  /** Default 1000. */
  initialDelayMs?: number;
  /** Default 10000. */
  maxDelayMs?: number;
  /** Default 3. */
  multiplier?: number;
}

/** Context handed to a custom `getToken`. */
export interface GetTokenContext {
  /** 1-based attempt number since the last successful connect (or since `connect`). */
  attempt: number;
  /** Aborted when the attempt is abandoned (timeout, `disconnect()`, `reconnect()`). */
  signal: AbortSignal;
}

/** What a token source gives: a tokenId, or `{token: tokenId}`. */
export type TokenAnswer = string | { token: string };

/**
 * A custom token source, called once per attempt. It may return the answer or a promise of it;
 * throwing (or rejecting with) an {@link UnauthorizedError} means the user must log in again.
 */
export type GetToken = (context: GetTokenContext) => TokenAnswer | PromiseLike<TokenAnswer>;

/** Options of {@link connect} common to both token sources. */
export interface CommonOptions {
  /** Respoke API base URL, scheme://host:port with no path (the dev server: "http://127.0.0.1:3001"). Required. */
  baseUrl: string;
  /** Sent to `tokenUrl` as {"endpointId"}; optional when the app server knows the user from its session. */
  endpointId?: string;
  backoff?: BackoffOptions;
  /** The backoff counter resets only after a connection stayed up this long. Default 10000. */
  stableAfterMs?: number;
  /** Timeout of one token fetch. Default 10000. */
  tokenTimeoutMs?: number;
  /** Timeout of a whole attempt (token, session, handshake, socket, register). Default 15000. */
  attemptTimeoutMs?: number;
  /** Upper bound applied to a server's Retry-After. Default 300000. */
  maxRetryAfterMs?: number;
  /** Value of the Respoke-SDK header/query. Default "respoke-client-wasm/<version>". */
  sdk?: string;
  /** Aborting it is the same as calling `disconnect()`. */
  signal?: AbortSignal;
  /** While the page is hidden, defer reconnect attempts until it is shown again. Default true. */
  pauseWhenHidden?: boolean;
  /**
   * After a wake (page shown, back online, resumed, or a wall-clock jump after sleep) a live socket
   * is probed and must show a sign of life within this long, or it is replaced. Capped by the
   * server's heartbeat timeout. Default 5000.
   */
  verifyTimeoutMs?: number;
  /** How long a request over the socket waits for its answer before rejecting with REQUEST_TIMEOUT. Default 10000. */
  requestTimeoutMs?: number;
  /**
   * How many requests may wait while the client is not connected; they are sent in order after the next
   * connect. Past it they reject with QUEUE_FULL. 0 rejects requests made while disconnected at once
   * with DISCONNECTED. Default 50.
   */
  queueSize?: number;
  /** How long a request may wait for a connection before rejecting with QUEUE_TIMEOUT. Default 15000. */
  queueMaxAgeMs?: number;
}

/** Tokens from your app server's token endpoint. */
export interface TokenUrlOptions extends CommonOptions {
  /** App-server URL that answers POST {"endpointId"} with {"token": tokenId}. */
  tokenUrl: string;
  getToken?: undefined;
  /** fetch credentials mode for `tokenUrl`. Default "include" (cookies are sent). */
  credentials?: "include" | "same-origin" | "omit";
  /** Extra headers for the `tokenUrl` request (e.g. a CSRF token). */
  tokenHeaders?: Record<string, string>;
}

/** Tokens from your own function. */
export interface GetTokenOptions extends CommonOptions {
  getToken: GetToken;
  tokenUrl?: undefined;
  credentials?: undefined;
  tokenHeaders?: undefined;
}

/** Options of {@link connect}: `baseUrl` and exactly one of `tokenUrl` / `getToken` are required. */
export type ConnectOptions = TokenUrlOptions | GetTokenOptions;

/** Codes of errors in the attempt pipeline (`error` and `failed` events, `reconnecting.cause`). */
export type AttemptErrorCode =
  | "TOKEN_UNAUTHORIZED" | "TOKEN_REJECTED" | "TOKEN_HTTP" | "TOKEN_NETWORK" | "TOKEN_TIMEOUT"
  | "TOKEN_INVALID_RESPONSE" | "TOKEN_CALLBACK" | "TOKEN_REUSED"
  | "SESSION_REJECTED" | "SESSION_HTTP" | "SESSION_NETWORK" | "SESSION_INVALID_RESPONSE"
  | "HANDSHAKE_REJECTED" | "HANDSHAKE_HTTP" | "HANDSHAKE_NETWORK" | "HANDSHAKE_INVALID_RESPONSE"
  | "REGISTER_REJECTED" | "ATTEMPT_TIMEOUT";

/** Codes of `disconnect` events. */
export type DisconnectCode =
  | "SERVER_DISCONNECT" | "SOCKET_CLOSED" | "HEARTBEAT_TIMEOUT" | "SERVER_ERROR" | "PROTOCOL_ERROR"
  | "CLIENT_DISCONNECT" | "CLIENT_RECONNECT" | "OFFLINE" | "PAGE_HIDDEN" | "PAGE_FROZEN"
  | "SOCKET_UNRESPONSIVE";

/** What started a retry (`reconnecting.cause`): an error or disconnect code, or a wake. */
export type ReconnectCause = AttemptErrorCode | DisconnectCode | "ONLINE" | "VISIBLE" | "RESUME" | "WAKE";

/** Codes of `error` events. */
export type ErrorEventCode = AttemptErrorCode | DisconnectCode | "LISTENER_ERROR" | "RESTORE_FAILED";

/** Codes a request (`request`, `sendMessage`, ...) rejects with. */
export type RequestErrorCode =
  | "REQUEST_FAILED" | "REQUEST_TIMEOUT" | "DISCONNECTED" | "QUEUE_FULL" | "QUEUE_TIMEOUT"
  | "CLOSED" | "FAILED" | "INVALID_ARGUMENT";

/** Every code a {@link RespokeError} carries. */
export type RespokeErrorCode =
  | AttemptErrorCode | DisconnectCode | RequestErrorCode
  | "INVALID_OPTIONS" | "UNSUPPORTED_ENVIRONMENT" | "NOT_INITIALIZED" | "READY_TIMEOUT" | "ABORTED";

/** What a `waiting` client with no attempt scheduled waits for. */
export type WaitingFor = "online" | "visible" | "resume";

export interface ConnectEvent {
  type: "connect";
  endpointId: string;
  connectionId: string;
  /** Which attempt (1-based) since the previous connection succeeded. */
  attempt: number;
}

export interface DisconnectEvent {
  type: "disconnect";
  /** Human-readable reason. */
  reason: string;
  /** Stable code. */
  code: DisconnectCode;
  willReconnect: boolean;
}

export interface ReconnectingEvent {
  type: "reconnecting";
  /** The attempt that will start after the delay (1-based). */
  attempt: number;
  delayMs: number;
  /** Code of what caused the retry: an error or disconnect code, or "ONLINE", "VISIBLE", "RESUME", "WAKE". */
  cause: ReconnectCause;
}

export interface FailedEvent {
  type: "failed";
  reason: string;
  /** HTTP status that made the failure terminal, when there was one. */
  status?: number;
  code: AttemptErrorCode;
  /** True when the user must authenticate again (401/403 from the token endpoint). */
  reauthenticate: boolean;
}

export interface StateEvent {
  type: "state";
  state: State;
  previous: State;
  /** Set while state is "connecting". */
  phase?: Phase;
  /** Attempt number, while connecting or waiting. */
  attempt?: number;
  /** Milliseconds until the next attempt, while state is "waiting" with an attempt scheduled. */
  retryIn?: number;
  /** While "waiting" with no attempt scheduled: the browser to go online, the page to be shown, or to come back from the back/forward cache or a freeze. */
  waitingFor?: WaitingFor;
  /** performance.now() of the change. */
  at: number;
}

/** Something went wrong (named so as not to shadow the DOM's `ErrorEvent`). */
export interface ClientErrorEvent {
  type: "error";
  /** Stable machine-readable code. */
  code: ErrorEventCode;
  message: string;
  /** HTTP status, when the error came from an HTTP response. */
  status?: number;
  /** Whether the client will retry after this error. */
  retry: boolean;
}

/** A 1:1 text message (`sendMessage` from another endpoint); named so as not to shadow the DOM's `MessageEvent`. */
export interface TextMessageEvent {
  type: "message";
  /** Sender's endpointId. */
  from: string;
  /** Sender's connectionId. */
  fromConnection: string;
  /** Server time, Unix ms. */
  timestamp: number;
  message: string;
}

/** A presence change of an endpoint passed to `observePresence`. */
export interface PresenceEvent {
  type: "presence";
  from: string;
  fromConnection: string;
  /** e.g. "available", "away", "unavailable". */
  presence: string;
  show?: string;
  status?: string;
}

/** A connection joined a group this client is in. */
export interface JoinEvent {
  type: "join";
  group: string;
  endpointId: string;
  connectionId: string;
}

/** A connection left a group this client is in. */
export interface LeaveEvent {
  type: "leave";
  group: string;
  endpointId: string;
  connectionId: string;
}

/** A message published to a group this client is in. */
export interface PubsubEvent {
  type: "pubsub";
  group: string;
  from: string;
  fromConnection: string;
  /** Server time, Unix ms. */
  timestamp: number;
  message: string;
}

/** A presence value: a type such as "available", or an object with it. */
export type PresenceValue = string | { type: string; show?: string; status?: string };

/** HTTP verbs of `request`. */
export type RequestMethod = "get" | "post" | "put" | "delete";

export interface ClientEventMap {
  connect: ConnectEvent;
  disconnect: DisconnectEvent;
  reconnecting: ReconnectingEvent;
  failed: FailedEvent;
  state: StateEvent;
  error: ClientErrorEvent;
  message: TextMessageEvent;
  presence: PresenceEvent;
  join: JoinEvent;
  leave: LeaveEvent;
  pubsub: PubsubEvent;
}

export type ClientEventName = keyof ClientEventMap;

/** Every event a client emits (a union discriminated by `type`). */
export type ClientEvent = ClientEventMap[ClientEventName];

/** Counters since `connect`. */
export interface ClientStats {
  attempts: number;
  tokensFetched: number;
  connects: number;
  disconnects: number;
}

/** Error thrown or rejected by the client's methods: `e instanceof RespokeError` narrows it. */
export class RespokeError extends Error {
  constructor(code: RespokeErrorCode, message: string, options?: { status?: number; cause?: unknown });
  readonly name: "RespokeError";
  /** Stable code. */
  readonly code: RespokeErrorCode;
  /** The HTTP status, when an HTTP answer caused it. */
  readonly status?: number;
}

/** Throw (or reject with) this from `getToken` when the user must log in again: the client stops with `failed`, `reauthenticate: true`. */
export class UnauthorizedError extends Error {
  constructor(message?: string, options?: { cause?: unknown });
  readonly name: "UnauthorizedError";
  readonly code: "UNAUTHORIZED";
}

/** Options of `ready()`. */
export interface ReadyOptions {
  /** Rejects with code "ABORTED" when it aborts. */
  signal?: AbortSignal;
  /** Rejects with code "READY_TIMEOUT" if not connected within this long. */
  timeoutMs?: number;
}

/**
 * A reconnecting Respoke client. Created by {@link connect}; it starts the first attempt at once
 * and keeps itself connected until `disconnect()`, `signal` abort, or a terminal failure.
 */
export class Client {
  private constructor();
  /** Registers `handler` for `event` (as respoke.js `listen`). Listener exceptions become `error` events. */
  listen<K extends ClientEventName>(event: K, handler: (event: ClientEventMap[K]) => void): void;
  /** Removes `handler`, or every handler of `event` when `handler` is omitted. */
  ignore<K extends ClientEventName>(event: K, handler?: (event: ClientEventMap[K]) => void): void;
  /** Ends everything for good: aborts any attempt, deletes the connection and session, closes the socket. Idempotent. */
  disconnect(): void;
  /**
   * Tries now with a fresh token and a fresh backoff, dropping the current socket or wait.
   * From `failed` it starts again (call it after the user logged in again). No effect once closed.
   */
  reconnect(): void;
  /**
   * Resolves with the next `connect` event (at once if connected); rejects with a RespokeError if the
   * client fails (its code and `status`) or is closed (CLOSED) first, the signal aborts (ABORTED) or
   * `timeoutMs` passes (READY_TIMEOUT).
   */
  ready(options?: ReadyOptions): Promise<ConnectEvent>;
  /**
   * Any Respoke REST call over the socket (Sails over socket.io), e.g. `request("get", "/v1/turn")`.
   * Resolves with the answer body. Rejects with a RespokeError: REQUEST_FAILED (the server answered an
   * error; `status` set), REQUEST_TIMEOUT, DISCONNECTED (the socket went away before the answer: the
   * server may or may not have acted, and the request is not re-sent), QUEUE_FULL, QUEUE_TIMEOUT,
   * CLOSED, FAILED or INVALID_ARGUMENT. Never hangs.
   */
  request<T = unknown>(method: RequestMethod, url: string, data?: Record<string, unknown>): Promise<T>;
  /** Sends a text message to every connection of endpoint `to`. Settles like `request`. */
  sendMessage(options: { to: string; message: string }): Promise<void>;
  /** Sets this connection's presence; restored after every reconnect. Settles like `request`. */
  setPresence(presence: PresenceValue): Promise<void>;
  /** Joins a group (its `join`/`leave`/`pubsub` events start); rejoined after every reconnect. */
  join(group: string): Promise<void>;
  /** Leaves a group and stops rejoining it. */
  leave(group: string): Promise<void>;
  /** Publishes a message to every member of a group (`pubsub` events). */
  publish(options: { group: string; message: string }): Promise<void>;
  /** Receives `presence` events of these endpoints (the current one first); restored after every reconnect. */
  observePresence(endpointIds: string[]): Promise<void>;
  /** Counters since `connect`. */
  stats(): ClientStats;
  /** Current state. */
  readonly state: State;
  /** endpointId of the current connection, if connected. */
  readonly endpointId: string | undefined;
  /** connectionId of the current connection, if connected. */
  readonly connectionId: string | undefined;
  /**
   * Disconnects and releases the client's memory; any use afterwards throws CLOSED. A client that
   * is garbage-collected without it is disconnected as well.
   */
  free(): void;
}

/**
 * Creates a client and starts connecting at once. Throws a RespokeError: INVALID_OPTIONS (bad or
 * unknown options, naming the nearest known one), NOT_INITIALIZED (before `init()` resolved),
 * UNSUPPORTED_ENVIRONMENT (no fetch, WebSocket or timers in this global scope).
 */
export function connect(options: ConnectOptions): Client;

/** Where `init()` finds the wasm module; by default next to this file (`new URL(..., import.meta.url)`). */
export interface InitOptions {
  module_or_path?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module | Promise<RequestInfo | URL | Response | BufferSource | WebAssembly.Module>;
}

/** Loads the wasm module; call (and await) it once before `connect`. Later calls return the same promise. */
export default function init(options?: InitOptions): Promise<void>;

/** Live objects the library holds across all clients; for leak checks, not needed by apps. */
export interface DebugCounters {
  /** Open WebSocket wrappers (each with four handlers). */
  sockets: number;
  /** Clients not yet closed. */
  drivers: number;
  /** fetch or getToken calls in flight. */
  requests: number;
  /** Armed timers. */
  timers: number;
  /** Listeners registered on app objects (an AbortSignal). */
  domListeners: number;
}

/** Counts of live objects, for leak checks. */
export function debugCounters(): DebugCounters;

/** The names `listen` accepts, in the order {@link ClientEventMap} declares them. */
export function eventNames(): ClientEventName[];
