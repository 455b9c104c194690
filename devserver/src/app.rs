//! The example app server: the "server-side script" of brokered authentication, done right.
//!
//! It logs users in (argon2 hashes, HttpOnly SameSite=Strict session cookie), and on
//! `POST /api/tokens` asks the Respoke side for a tokenId on the logged-in user's behalf, with
//! the App-Secret, over real HTTP. The App-Secret never reaches a browser. It also serves
//! `www/` and the wasm package under `/pkg/`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use respoke_protocol::rest::{ErrorBody, TokenRequest, TokenResponse, HEADER_APP_SECRET};
use serde::Deserialize;
use serde_json::json;
use tower_http::services::ServeDir;

use crate::config::{verify_password, AppConfig, Config, ConfigError, Settings};
use crate::error::ApiError;
use crate::http::JsonBody;
use crate::ids::opaque;
use crate::lock;
use crate::stats::Stats;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "respoke_demo_session";

/// The app server's state.
#[derive(Debug)]
pub struct AppServerState {
    /// User name -> argon2 PHC hash.
    users: HashMap<String, String>,
    /// Session id -> user name.
    sessions: Mutex<HashMap<String, String>>,
    /// The app tokens are brokered for (the config's first).
    app: AppConfig,
    /// Base URL of the Respoke side, e.g. `http://127.0.0.1:3001`.
    respoke_base_url: String,
    /// The `ttl` asked of `/v1/tokens`.
    ttl_secs: u64,
    http: reqwest::Client,
    stats: Arc<Stats>,
}

impl AppServerState {
    /// Builds the state; hashes demo passwords (CPU work: call once at start-up).
    pub fn new(
        config: &Config,
        settings: &Settings,
        respoke_base_url: String,
        stats: Arc<Stats>,
    ) -> Result<AppServerState, ConfigError> {
        let app = config
            .apps
            .first()
            .cloned()
            .ok_or_else(|| ConfigError::Invalid("no app configured".into()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| ConfigError::Invalid(format!("HTTP client: {e}")))?;
        Ok(AppServerState {
            users: config.password_hashes()?,
            sessions: Mutex::default(),
            app,
            respoke_base_url: respoke_base_url.trim_end_matches('/').to_owned(),
            ttl_secs: settings.app_server_ttl_secs,
            http,
            stats,
        })
    }

    fn session_user(&self, headers: &HeaderMap) -> Option<String> {
        let session_id = session_cookie(headers)?;
        lock(&self.sessions).get(&session_id).cloned()
    }
}

/// The app server's router: `/api/*`, `/pkg/` and `www/`.
pub fn router(state: Arc<AppServerState>, www: PathBuf, pkg: PathBuf) -> Router {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/tokens", post(tokens))
        .route("/api/config", get(public_config))
        .route("/api/{*rest}", any(api_not_found))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .with_state(state)
        .nest_service("/pkg", ServeDir::new(pkg))
        .fallback_service(ServeDir::new(www))
}

/// The session id from the `Cookie` header.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Debug, Deserialize)]
struct LoginBody {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /api/login {"username","password"}` -> `{"endpointId"}` and the session cookie.
async fn login(
    State(state): State<Arc<AppServerState>>,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Response, ApiError> {
    let hash = state.users.get(&body.username).cloned();
    let password = body.password;
    // Verify even for unknown users, so timing does not tell which names exist.
    let hash_for_check = hash
        .clone()
        .or_else(|| state.users.values().next().cloned())
        .unwrap_or_default();
    let matches = tokio::task::spawn_blocking(move || verify_password(&hash_for_check, &password))
        .await
        .unwrap_or(false);
    if hash.is_none() || !matches {
        return Err(ApiError::unauthorized("Invalid username or password."));
    }
    let session_id = opaque::<32>();
    lock(&state.sessions).insert(session_id.clone(), body.username.clone());
    tracing::info!(user = %body.username, "login");
    let cookie = format!("{SESSION_COOKIE}={session_id}; HttpOnly; SameSite=Strict; Path=/");
    let mut response = Json(json!({"endpointId": body.username})).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(no_store(response))
}

/// `POST /api/logout`: ends the session server-side and clears the cookie.
async fn logout(State(state): State<Arc<AppServerState>>, headers: HeaderMap) -> Response {
    if let Some(session_id) = session_cookie(&headers) {
        lock(&state.sessions).remove(&session_id);
    }
    let mut response = Json(json!({})).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "respoke_demo_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        ),
    );
    no_store(response)
}

/// `GET /api/me` -> `{"endpointId"}` or 401.
async fn me(
    State(state): State<Arc<AppServerState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = state
        .session_user(&headers)
        .ok_or_else(|| ApiError::unauthorized("Not logged in."))?;
    Ok(no_store(Json(json!({"endpointId": user})).into_response()))
}

/// `GET /api/config`: what a page needs to know (never the secret).
async fn public_config(State(state): State<Arc<AppServerState>>) -> Json<serde_json::Value> {
    Json(json!({
        "respokeBaseUrl": state.respoke_base_url,
        "appId": state.app.id,
        "tokenUrl": "/api/tokens",
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TokenAsk {
    endpoint_id: Option<String>,
}

/// `POST /api/tokens {"endpointId"?}` -> `{"token": tokenId}`.
async fn tokens(
    State(state): State<Arc<AppServerState>>,
    headers: HeaderMap,
    JsonBody(ask): JsonBody<TokenAsk>,
) -> Result<Response, ApiError> {
    let user = state.session_user(&headers);
    let asked = ask.endpoint_id.filter(|e| !e.is_empty());
    let Some(user) = user else {
        state.stats.app_token_request(asked.as_deref(), true);
        return Err(ApiError::unauthorized("Not logged in."));
    };
    if asked.as_deref().is_some_and(|asked| asked != user) {
        state.stats.app_token_request(Some(&user), true);
        return Err(ApiError::forbidden(
            "You may only ask for your own endpoint's token.",
        ));
    }
    state.stats.app_token_request(Some(&user), false);

    let request = TokenRequest {
        app_id: state.app.id.clone(),
        endpoint_id: user.clone(),
        role_id: state.app.roles.first().map(|r| r.id.clone()),
        ttl: Some(state.ttl_secs),
    };
    let url = format!("{}/v1/tokens", state.respoke_base_url);
    let bad_gateway = |detail: String| {
        tracing::warn!(%detail, "Respoke token request failed");
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("Respoke token request failed: {detail}"),
        )
    };
    let reply = state
        .http
        .post(&url)
        .header(HEADER_APP_SECRET, &state.app.secret)
        .json(&request)
        .send()
        .await
        .map_err(|e| bad_gateway(e.to_string()))?;
    let status = reply.status();
    if !status.is_success() {
        let detail = reply
            .json::<ErrorBody>()
            .await
            .map(|b| b.error)
            .unwrap_or_default();
        return Err(bad_gateway(format!("{status} {detail}")));
    }
    let minted: TokenResponse = reply.json().await.map_err(|e| bad_gateway(e.to_string()))?;
    Ok(no_store(
        Json(json!({"token": minted.token_id})).into_response(),
    ))
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("Not found.")
}
