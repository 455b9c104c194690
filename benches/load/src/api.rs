//! The Respoke calls every measurement starts with: minting a tokenId as an app server does,
//! and trading it for an App-Token, against the dev server's built-in development app.

use serde_json::{json, Value};

/// The dev server's built-in development app (printed by the server at start-up).
pub const APP_ID: &str = "7C5B1A0E-3F2D-4B8A-9E61-2D4C8F0A1B35";
/// Its App-Secret.
pub const APP_SECRET: &str = "demo-secret-do-not-use-in-production";
/// The `Respoke-SDK` the load generator sends.
pub const SDK: &str = "respoke-bench-load/0";

/// Why a measurement could not be made.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

/// Mints a tokenId on the Respoke side with the App-Secret, as an app server does.
pub async fn mint(http: &reqwest::Client, api: &str, endpoint_id: &str) -> Result<String, Failure> {
    let reply = http
        .post(format!("{api}/v1/tokens"))
        .header("App-Secret", APP_SECRET)
        .json(&json!({ "appId": APP_ID, "endpointId": endpoint_id, "ttl": 3600 }))
        .send()
        .await?;
    if !reply.status().is_success() {
        return Err(Failure(format!("POST /v1/tokens -> {}", reply.status())));
    }
    let body: Value = reply.json().await?;
    body["tokenId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure("no tokenId".into()))
}

/// Trades a tokenId for an App-Token.
pub async fn exchange(
    http: &reqwest::Client,
    api: &str,
    token_id: &str,
) -> Result<String, Failure> {
    let reply = http
        .post(format!("{api}/v1/session-tokens"))
        .header("Respoke-SDK", SDK)
        .json(&json!({ "tokenId": token_id }))
        .send()
        .await?;
    if !reply.status().is_success() {
        return Err(Failure(format!(
            "POST /v1/session-tokens -> {}",
            reply.status()
        )));
    }
    let body: Value = reply.json().await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure("no token".into()))
}
