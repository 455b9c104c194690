// What an app built with a bundler writes: import the package by name, no init() call (the
// bundler target instantiates the wasm when the module loads).
import { connect } from "respoke-client";

const result = document.getElementById("result");
const show = (state, text) => {
  document.body.dataset.state = state;
  result.textContent = text;
};

async function main() {
  // The app server (proxied by `vite preview`) logs the user in and tells where Respoke is.
  const params = new URLSearchParams(location.search);
  const login = await fetch("/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: params.get("user"), password: params.get("password") }),
  });
  if (!login.ok) throw new Error(`login: HTTP ${login.status}`);
  const config = await (await fetch("/api/config")).json();

  const client = connect({ baseUrl: config.respokeBaseUrl, tokenUrl: config.tokenUrl });
  window.client = client;
  client.listen("state", (event) => show(event.state, `state ${event.state}`));
  const connected = await client.ready();
  show("connected", `connected as ${connected.endpointId} (${connected.connectionId})`);
}

main().catch((error) => show("error", `error: ${error.message}`));
