// Compiled with `tsc --noEmit --strict` against the installed package's index.d.ts: every line
// that uses the API must type-check, and every `@ts-expect-error` line must be an error (an
// unused one fails the build), which is what proves the types are exact rather than `any`.
// typecheck-errors.ts holds the mistakes a newcomer makes.
import init, { connect, Client, RespokeError, UnauthorizedError } from "respoke-client";
import type {
  ClientEventMap,
  ClientStats,
  ConnectEvent,
  ConnectOptions,
  DisconnectEvent,
  FailedEvent,
  ClientEvent,
  DisconnectCode,
  Phase,
  RespokeErrorCode,
  State,
  StateEvent,
  WaitingFor,
} from "respoke-client";

export async function demo(signal: AbortSignal): Promise<void> {
  await init();

  const options: ConnectOptions = {
    baseUrl: "http://127.0.0.1:3001",
    tokenUrl: "/api/tokens",
    endpointId: "spock@enterprise.com",
    credentials: "include",
    tokenHeaders: { "X-CSRF-Token": "abc" },
    backoff: { initialDelayMs: 500, maxDelayMs: 20_000, multiplier: 1.5 },
    stableAfterMs: 10_000,
    tokenTimeoutMs: 5_000,
    attemptTimeoutMs: 15_000,
    maxRetryAfterMs: 60_000,
    sdk: "my-app/1.0",
    signal,
    pauseWhenHidden: true,
    verifyTimeoutMs: 5_000,
    requestTimeoutMs: 10_000,
    queueSize: 50,
    queueMaxAgeMs: 15_000,
  };
  const client: Client = connect(options);

  // A custom token source: string or {token}, with the attempt and an AbortSignal.
  connect({
    baseUrl: "http://127.0.0.1:3001",
    getToken: async ({ attempt, signal }) => {
      if (attempt > 3) throw new UnauthorizedError("log in again");
      const response = await fetch(`/token?attempt=${attempt}`, { signal });
      return attempt % 2 === 0 ? { token: await response.text() } : response.text();
    },
  });

  client.listen("connect", (event) => {
    const endpointId: string = event.endpointId;
    const connectionId: string = event.connectionId;
    const attempt: number = event.attempt;
    const type: "connect" = event.type;
    void [endpointId, connectionId, attempt, type];
    // @ts-expect-error a connect event has no retryIn
    void event.retryIn;
  });
  client.listen("disconnect", (event: DisconnectEvent) => {
    const again: boolean = event.willReconnect;
    const why: string = `${event.code}: ${event.reason}`;
    void [again, why];
  });
  client.listen("reconnecting", (event) => {
    const delay: number = event.delayMs;
    const cause: string = event.cause;
    const disconnectCode: DisconnectCode | undefined =
      event.cause === "SOCKET_CLOSED" ? event.cause : undefined;
    void disconnectCode;
    void [delay, cause, event.attempt];
  });
  client.listen("failed", (event: FailedEvent) => {
    const status: number | undefined = event.status;
    const reauthenticate: boolean = event.reauthenticate;
    void [status, reauthenticate, event.code, event.reason];
  });
  client.listen("error", (event) => {
    const retry: boolean = event.retry;
    void [retry, event.code, event.message, event.status];
  });
  const onState = (event: StateEvent) => {
    const phase: Phase | undefined = event.phase;
    const retryIn: number | undefined = event.retryIn;
    const at: number = event.at;
    const previous: State = event.previous;
    const waitingFor: WaitingFor | undefined = event.waitingFor;
    void [phase, retryIn, at, previous, waitingFor];
  };
  client.listen("state", onState);
  client.ignore("state", onState);
  client.ignore("error");

  // @ts-expect-error unknown event name
  client.listen("connected", () => {});
  // @ts-expect-error the handler of "connect" does not get a DisconnectEvent
  client.listen("connect", (event: DisconnectEvent) => void event);
  // A synchronous getToken works too.
  connect({ baseUrl: "http://127.0.0.1:3001", getToken: () => "tokenId" });
  // @ts-expect-error baseUrl is a string
  connect({ baseUrl: 3001, tokenUrl: "/t" });
  // @ts-expect-error credentials is a fetch credentials mode
  connect({ baseUrl: "http://x:1", tokenUrl: "/t", credentials: "always" });
  // @ts-expect-error backoff delays are numbers
  connect({ baseUrl: "http://x:1", tokenUrl: "/t", backoff: { initialDelayMs: "1s" } });

  const state: State = client.state;
  switch (state) {
    case "idle":
    case "connecting":
    case "connected":
    case "waiting":
    case "failed":
    case "closed":
      break;
    default: {
      const impossible: never = state;
      void impossible;
    }
  }
  // @ts-expect-error state is read-only
  client.state = "connected";
  const endpointId: string | undefined = client.endpointId;
  const connectionId: string | undefined = client.connectionId;
  void [endpointId, connectionId];

  // The session API over the socket.
  client.listen("message", (event) => {
    const text: string = event.message;
    const from: string = event.from;
    const timestamp: number = event.timestamp;
    void [text, from, timestamp, event.fromConnection];
  });
  client.listen("presence", (event) => void [event.presence, event.show, event.status]);
  client.listen("join", (event) => void [event.group, event.endpointId, event.connectionId]);
  client.listen("leave", (event) => void [event.group, event.endpointId]);
  client.listen("pubsub", (event) => void [event.group, event.message, event.from]);
  const turn = await client.request<{ username: string }>("get", "/v1/turn");
  const username: string = turn.username;
  void username;
  // @ts-expect-error request methods are the lowercase HTTP verbs
  void client.request("patch", "/v1/x");
  const sent: Promise<void> = client.sendMessage({ to: "kirk@enterprise.com", message: "hello" });
  // @ts-expect-error sendMessage needs a recipient
  void client.sendMessage({ message: "hello" });
  await sent;
  await client.setPresence("available");
  await client.setPresence({ type: "away", status: "lunch" });
  await client.join("bridge");
  await client.publish({ group: "bridge", message: "red alert" });
  await client.leave("bridge");
  await client.observePresence(["kirk@enterprise.com"]);

  const stats: ClientStats = client.stats();
  const counts: number[] = [stats.attempts, stats.tokensFetched, stats.connects, stats.disconnects];
  void counts;

  try {
    const ready: ConnectEvent = await client.ready({ signal, timeoutMs: 10_000 });
    void ready.connectionId;
  } catch (error) {
    if (error instanceof RespokeError) {
      const name: "RespokeError" = error.name;
      const code: RespokeErrorCode = error.code;
      const status: number | undefined = error.status;
      void [name, code, status];
    }
  }

  const all: ClientEvent[] = [];
  for (const event of all) {
    if (event.type === "message") void event.fromConnection;
    if (event.type === "failed") void event.reauthenticate;
  }

  const handlers: { [K in keyof ClientEventMap]?: (event: ClientEventMap[K]) => void } = {};
  void handlers;

  client.reconnect();
  client.disconnect();
  client.free();
}
