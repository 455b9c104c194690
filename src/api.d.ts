/** Connection states. See README "States". */
export type State = "idle" | "connecting" | "connected" | "waiting" | "failed" | "closed";

/** Phase of an attempt while `state` is `"connecting"`. */
export type Phase = "token" | "session" | "handshake" | "socket" | "register";

/** Full-jitter exponential backoff: attempt n waits uniform(0, min(maxDelayMs, initialDelayMs * multiplier^n)). */
export interface BackoffOptions {
  /** Default 1000. */
  initialDelayMs?: number;
  /** Default 30000. */
  maxDelayMs?: number;
  /** Default 2. */
  multiplier?: number;
}

/** Context handed to a custom `getToken`. */
export interface GetTokenContext {
  /** 1-based attempt number since the last successful connect (or since `connect`). */
  attempt: number;
  /** Aborted when the attempt is abandoned (timeout, `disconnect()`, `reconnect()`). */
  signal: AbortSignal;
}

/** Options of {@link connect}. Either `tokenUrl` or `getToken` is required. */
export interface ConnectOptions {
  /** Respoke API base URL, scheme://host:port with no path. Default "https://api.respoke.io". */
  baseUrl?: string;
  /** App-server URL that answers POST {"endpointId"} with {"token": tokenId}. */
  tokenUrl?: string;
  /** Sent to `tokenUrl` as {"endpointId"}; optional when the app server knows the user from its session. */
  endpointId?: string;
  /** Custom token source, called once per attempt; resolves to a tokenId string or {token}. Overrides `tokenUrl`. */
  getToken?: (context: GetTokenContext) => Promise<string | { token: string }>;
  /** fetch credentials mode for `tokenUrl`. Default "include" (cookies are sent). */
  credentials?: "include" | "same-origin" | "omit";
  /** Extra headers for the `tokenUrl` request (e.g. a CSRF token). */
  tokenHeaders?: Record<string, string>;
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
  /**
   * Stable code, e.g. "SERVER_DISCONNECT", "SOCKET_CLOSED", "HEARTBEAT_TIMEOUT", "CLIENT_DISCONNECT",
   * "CLIENT_RECONNECT", "OFFLINE", "PAGE_HIDDEN", "PAGE_FROZEN", "SOCKET_UNRESPONSIVE", "PROTOCOL_ERROR".
   */
  code: string;
  willReconnect: boolean;
}

export interface ReconnectingEvent {
  type: "reconnecting";
  /** The attempt that will start after the delay (1-based). */
  attempt: number;
  delayMs: number;
  /** Code of what caused the retry: an error or disconnect code, or "ONLINE", "VISIBLE", "RESUME", "WAKE". */
  cause: string;
}

export interface FailedEvent {
  type: "failed";
  reason: string;
  /** HTTP status that made the failure terminal, when there was one. */
  status?: number;
  code: string;
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

export interface ErrorEvent {
  type: "error";
  /** Stable machine-readable code, e.g. "TOKEN_HTTP", "TOKEN_TIMEOUT", "SESSION_REJECTED", "HANDSHAKE_HTTP". */
  code: string;
  message: string;
  /** HTTP status, when the error came from an HTTP response. */
  status?: number;
  /** Whether the client will retry after this error. */
  retry: boolean;
}

/** A 1:1 text message (`sendMessage` from another endpoint). */
export interface MessageEvent {
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
  error: ErrorEvent;
  message: MessageEvent;
  presence: PresenceEvent;
  join: JoinEvent;
  leave: LeaveEvent;
  pubsub: PubsubEvent;
}

export type ClientEventName = keyof ClientEventMap;

/** Counters since `connect`. */
export interface ClientStats {
  attempts: number;
  tokensFetched: number;
  connects: number;
  disconnects: number;
}

/** Error thrown or rejected by the client's methods. */
export interface RespokeError extends Error {
  name: "RespokeError";
  code: string;
  status?: number;
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
  /** Resolves with the next `connect` event (at once if connected); rejects with a RespokeError if the client fails or is closed first. */
  ready(): Promise<ConnectEvent>;
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
   * Releases this JS handle. It does not disconnect: call `disconnect()` first, or the connection
   * keeps running without a handle to stop it.
   */
  free(): void;
}

/** Creates a client and starts connecting at once. Throws a RespokeError (code "INVALID_OPTIONS") on bad options. */
export function connect(options: ConnectOptions): Client;

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
