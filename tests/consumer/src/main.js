// What an app writes: import the package by name, init() once, connect.
import init, { connect, RespokeError } from "respoke-client";

const result = document.getElementById("result");
const show = (state, text) => {
  document.body.dataset.state = state;
  result.textContent = text;
};

async function main() {
  // The app server (proxied by the dev/preview server, as the README says) logs the user in and
  // tells where Respoke is.
  const params = new URLSearchParams(location.search);
  const login = await fetch("/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: params.get("user"), password: params.get("password") }),
  });
  if (!login.ok) throw new Error(`login: HTTP ${login.status}`);
  const config = await (await fetch("/api/config")).json();

  await init();
  const client = connect({ baseUrl: config.respokeBaseUrl, tokenUrl: config.tokenUrl });
  window.client = client;
  client.listen("state", (event) => show(event.state, `state ${event.state}`));
  const connected = await client.ready({ timeoutMs: 15_000 });
  show("connected", `connected as ${connected.endpointId} (${connected.connectionId})`);
}

main().catch((error) =>
  show("error", `error: ${error instanceof RespokeError ? error.code : ""} ${error.message}`),
);
