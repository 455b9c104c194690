// Each line below is a mistake a newcomer makes; the package's types must reject every one:
// `tsc --noEmit --strict` fails on an `@ts-expect-error` that is not an error.
import init, { connect, RespokeError, UnauthorizedError } from "respoke-client";
import type { ClientEvent } from "respoke-client";

export async function mistakes(client: ReturnType<typeof connect>, event: ClientEvent): Promise<void> {
  // @ts-expect-error init() resolves to nothing: the wasm-bindgen internals are not offered
  (await init()).__wbindgen_start;

  // @ts-expect-error baseUrl is required
  connect({ tokenUrl: "/api/tokens" });
  // @ts-expect-error one of tokenUrl and getToken is required
  connect({ baseUrl: "http://127.0.0.1:3001" });
  // @ts-expect-error not both: getToken would silently override tokenUrl
  connect({ baseUrl: "http://127.0.0.1:3001", tokenUrl: "/t", getToken: () => "tokenId" });
  // @ts-expect-error respoke.js spells it baseURL; this client does not
  connect({ baseURL: "http://127.0.0.1:3001", tokenUrl: "/t" });
  // @ts-expect-error getToken answers a string or {token}
  connect({ baseUrl: "http://x:1", getToken: () => 42 });

  try {
    await client.ready();
  } catch (e) {
    if (e instanceof RespokeError) {
      // @ts-expect-error a misspelled code: codes are a union of literals
      if (e.code === "TOKEN_UNAUTHORISED") return;
    }
  }
  // @ts-expect-error UnauthorizedError's code is fixed
  const wrong: "FORBIDDEN" = new UnauthorizedError().code;
  void wrong;

  // @ts-expect-error a disconnect code is not an error code of requests
  if (event.type === "disconnect" && event.code === "QUEUE_FULL") return;
  // @ts-expect-error our message event does not shadow the DOM's MessageEvent (no .data)
  if (event.type === "message") void event.data;
}
