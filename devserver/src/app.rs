//! The example app server: the "server-side script" of brokered authentication, done right.
//!
//! It logs users in (argon2 hashes, HttpOnly SameSite=Strict session cookies), and on
//! `POST /api/tokens` asks the Respoke side for a tokenId on a signed-in user's behalf, with
//! the App-Secret, over real HTTP. The App-Secret never reaches a browser. It also serves
//! `www/` and the wasm package under `/pkg/`.
//!
//! Several users may be signed in at once in one browser, the way multi-account sites do it
//! (two tabs, two users): every signed-in user has a cookie of their own, named after the user
//! ([`session_cookie_name`]), whose value is a random session id. A token request names the
//! endpointId it wants and is served only if that user is signed in in the same browser.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use respoke_protocol::rest::{ErrorBody, TokenRequest, TokenResponse, HEADER_APP_SECRET};
use serde::Deserialize;
use serde_json::json;
use tower_http::services::ServeDir;

use crate::config::{AppConfig, Config, ConfigError, Settings, DEMO_USERS};
use crate::error::ApiError;
use crate::http::JsonBody;
use crate::ids::opaque;
use crate::login_gate::{LoginGate, Peer};
use crate::passwords::verify_password_in;
use crate::stats::Stats;
use crate::sync::lock;
use crate::untrusted::{untrusted_opt, Untrusted};

/// The longest password accepted (bytes): 400 beyond, before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1_024;

/// What every session cookie's name starts with; [`session_cookie_name`] adds the user's part.
pub const SESSION_COOKIE_PREFIX: &str = "demo_session_";

/// The name of `user`'s session cookie: [`SESSION_COOKIE_PREFIX`] and 12 hex digits of a hash
/// of the user name (FNV-1a). The name only picks the user's slot in the cookie jar, so that
/// signing in as another user adds a cookie instead of replacing one; the value (a random
/// session id, checked server-side) is what authenticates.
pub fn session_cookie_name(user: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in user.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{SESSION_COOKIE_PREFIX}{:012x}", hash >> 16)
}

/// One signed-in session.
#[derive(Debug)]
struct Session {
    user: String,
    /// Sign-in order (higher is more recent).
    seq: u64,
    /// When it ends (the cookie's `Max-Age` runs out then too).
    expires: Instant,
}

/// Session id -> session, the ids in sign-in order (every session lives equally long, so they
/// expire from the front), and the next sign-in number. At most `max` sessions.
#[derive(Debug)]
struct Sessions {
    by_id: HashMap<String, Session>,
    order: VecDeque<String>,
    next_seq: u64,
    max: usize,
    max_age: Duration,
}

impl Sessions {
    fn new(max: usize, max_age: Duration) -> Sessions {
        Sessions {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            next_seq: 0,
            max: max.max(1),
            max_age,
        }
    }

    /// Forgets expired sessions (and ids of ended ones) from the front; returns how many
    /// sessions expired.
    fn expire(&mut self, now: Instant) -> u64 {
        let mut expired = 0;
        while let Some(id) = self.order.front() {
            match self.by_id.get(id) {
                Some(session) if session.expires > now => break,
                Some(_) => {
                    self.by_id.remove(id);
                    expired += 1;
                }
                None => {}
            }
            self.order.pop_front();
        }
        expired
    }

    /// Adds a session, ending the oldest ones beyond `max`; returns how many ended so.
    fn insert(&mut self, id: String, user: String, now: Instant) -> u64 {
        let mut ended = self.expire(now);
        while self.by_id.len() >= self.max {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if self.by_id.remove(&oldest).is_some() {
                ended += 1;
            }
        }
        // Ids of sessions ended by a logout linger in `order` until they reach the front:
        // compact when they are the majority, so `order` stays O(max).
        if self.order.len() > 2 * self.max {
            let by_id = &self.by_id;
            self.order.retain(|id| by_id.contains_key(id));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.push_back(id.clone());
        self.by_id.insert(
            id,
            Session {
                user,
                seq,
                expires: now + self.max_age,
            },
        );
        ended
    }

    /// The live session `id`.
    fn get(&self, id: &str, now: Instant) -> Option<&Session> {
        self.by_id.get(id).filter(|s| s.expires > now)
    }
}

/// A user signed in in the browser that sent a request.
#[derive(Debug, Clone)]
struct SignedIn {
    user: String,
    seq: u64,
}

/// The app server's state.
#[derive(Debug)]
pub struct AppServerState {
    /// User name -> argon2 PHC hash.
    users: HashMap<String, String>,
    /// The server-side sessions.
    sessions: Mutex<Sessions>,
    /// The login throttle and the bound on password verifications.
    gate: LoginGate,
    /// argon2 working memory, one buffer per verification slot, reused (see
    /// [`verify_password_in`]).
    argon2_memory: Mutex<Vec<Vec<argon2::Block>>>,
    /// The cookies' `Max-Age`.
    session_max_age: Duration,
    /// Longest user name accepted.
    max_user_bytes: usize,
    /// The app tokens are brokered for (the config's first).
    app: AppConfig,
    /// Base URL of the Respoke side, e.g. `http://127.0.0.1:3001`.
    respoke_base_url: String,
    /// The `ttl` asked of `/v1/tokens`.
    ttl_secs: u64,
    /// Whether `GET /api/config` lists the built-in demo users.
    builtin_demo: bool,
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
            sessions: Mutex::new(Sessions::new(
                settings.limits.max_app_sessions,
                settings.limits.session_max_age,
            )),
            gate: LoginGate::new(&settings.limits),
            argon2_memory: Mutex::default(),
            session_max_age: settings.limits.session_max_age,
            max_user_bytes: settings.limits.max_id_bytes,
            app,
            respoke_base_url: respoke_base_url.trim_end_matches('/').to_owned(),
            ttl_secs: settings.app_server_ttl_secs,
            builtin_demo: config.builtin_demo,
            http,
            stats,
        })
    }

    /// The users signed in in the browser that sent `headers`, in sign-in order (the most
    /// recent last). Cookies of ended or unknown sessions, and a session presented under
    /// another user's cookie name, are ignored.
    fn signed_in(&self, headers: &HeaderMap) -> Vec<SignedIn> {
        let now = Instant::now();
        let mut sessions = lock(&self.sessions);
        let expired = sessions.expire(now);
        self.session_gauges(&sessions, expired);
        let mut found: Vec<SignedIn> = Vec::new();
        for (name, session_id) in session_cookies(headers) {
            let Some(session) = sessions.get(&session_id, now) else {
                continue;
            };
            if session_cookie_name(&session.user) != name {
                continue;
            }
            match found.iter_mut().find(|s| s.user == session.user) {
                Some(existing) if existing.seq >= session.seq => {}
                Some(existing) => existing.seq = session.seq,
                None => found.push(SignedIn {
                    user: session.user.clone(),
                    seq: session.seq,
                }),
            }
        }
        found.sort_by_key(|s| s.seq);
        found
    }

    /// Publishes the session count (and adds `expired` to the expired counter).
    fn session_gauges(&self, sessions: &Sessions, expired: u64) {
        self.stats.add(|s| &mut s.app_sessions_expired, expired);
        self.stats
            .set(|s| &mut s.app_sessions, sessions.by_id.len() as u64);
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

/// Every `(name, value)` of the `Cookie` headers whose name starts with
/// [`SESSION_COOKIE_PREFIX`].
fn session_cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| name.starts_with(SESSION_COOKIE_PREFIX))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// `Set-Cookie` for a new session of `user`, living `max_age` (as the session does).
fn set_session_cookie(response: &mut Response, user: &str, session_id: &str, max_age: Duration) {
    let name = session_cookie_name(user);
    let cookie = format!(
        "{name}={session_id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        max_age.as_secs()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// `Set-Cookie` that removes the cookie `name`.
fn clear_cookie(response: &mut Response, name: &str) {
    let cookie = format!("{name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
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

/// `POST /api/login {"username","password"}` -> `{"endpointId","endpointIds"}` and that
/// user's session cookie. Users already signed in in this browser stay signed in; signing in
/// again as the same user replaces (and ends) that user's previous session.
///
/// Bounded work: the user name and password are checked for length first, then the login
/// throttle and the verification bound ([`LoginGate`]) are passed (429 with `Retry-After`
/// otherwise), and only then is the password hashed.
async fn login(
    State(state): State<Arc<AppServerState>>,
    Peer(peer): Peer,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Response, ApiError> {
    if body.username.len() > state.max_user_bytes || body.password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::bad_request(format!(
            "username is at most {} bytes, password at most {MAX_PASSWORD_BYTES}",
            state.max_user_bytes
        )));
    }
    let hash = state.users.get(&body.username).cloned();
    let attempt = match state.gate.enter(&body.username, hash.is_some(), peer).await {
        Ok(attempt) => attempt,
        Err(throttled) => {
            state.stats.count(|s| &mut s.logins_throttled);
            tracing::info!(
                user = %Untrusted(&body.username),
                retry_after = throttled.retry_after_secs,
                "login throttled"
            );
            return Err(ApiError::too_many_requests(
                "Too many login attempts; retry after the Retry-After delay.",
                throttled.retry_after_secs,
            ));
        }
    };
    let password = body.password;
    // Verify even for unknown users, so timing does not tell which names exist.
    let hash_for_check = hash
        .clone()
        .or_else(|| state.users.values().next().cloned())
        .unwrap_or_default();
    state.stats.count(|s| &mut s.password_verifies);
    // At most one buffer per slot exists: one is taken only with a slot's permit held.
    let mut memory = lock(&state.argon2_memory).pop().unwrap_or_default();
    let verified = tokio::task::spawn_blocking(move || {
        let matches = verify_password_in(&hash_for_check, &password, &mut memory);
        (matches, memory)
    })
    .await;
    let matches = match verified {
        Ok((matches, memory)) => {
            lock(&state.argon2_memory).push(memory);
            matches
        }
        Err(_) => false,
    };
    if hash.is_none() || !matches {
        drop(attempt);
        return Err(ApiError::unauthorized("Invalid username or password."));
    }
    state.gate.succeeded(attempt);
    let user = body.username;
    let session_id = opaque::<32>();
    let cookie_name = session_cookie_name(&user);
    {
        let mut sessions = lock(&state.sessions);
        // The session this browser had for the same user, if any, ends: its cookie is replaced.
        for (name, old_id) in session_cookies(&headers) {
            if name == cookie_name && sessions.by_id.get(&old_id).is_some_and(|s| s.user == user) {
                sessions.by_id.remove(&old_id);
            }
        }
        let ended = sessions.insert(session_id.clone(), user.clone(), Instant::now());
        state.session_gauges(&sessions, ended);
    }
    tracing::info!(user = %Untrusted(&user), "login");
    let mut signed_in: Vec<String> = state
        .signed_in(&headers)
        .into_iter()
        .map(|s| s.user)
        .filter(|u| *u != user)
        .collect();
    signed_in.push(user.clone());
    let mut response = Json(json!({"endpointId": user, "endpointIds": signed_in})).into_response();
    set_session_cookie(&mut response, &user, &session_id, state.session_max_age);
    Ok(no_store(response))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct LogoutBody {
    endpoint_id: Option<String>,
}

/// `POST /api/logout {"endpointId"?}`: signs that user out of this browser (ends the session
/// server-side and clears its cookie), or every user signed in here when the body names none.
/// Answers `{"endpointIds"}`: who is still signed in. Signing out a user who is not signed in
/// is not an error.
async fn logout(
    State(state): State<Arc<AppServerState>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LogoutBody>,
) -> Response {
    let only = body.endpoint_id.filter(|e| !e.is_empty());
    let only_cookie = only.as_deref().map(session_cookie_name);
    let mut cleared: Vec<String> = Vec::new();
    {
        let mut sessions = lock(&state.sessions);
        for (name, session_id) in session_cookies(&headers) {
            if only_cookie.as_ref().is_some_and(|only| *only != name) {
                continue;
            }
            if let Some(session) = sessions.by_id.get(&session_id) {
                if only.is_none() || only.as_deref() == Some(session.user.as_str()) {
                    sessions.by_id.remove(&session_id);
                }
            }
            if !cleared.contains(&name) {
                cleared.push(name);
            }
        }
        state.session_gauges(&sessions, 0);
    }
    let remaining: Vec<String> = state
        .signed_in(&headers)
        .into_iter()
        .map(|s| s.user)
        .collect();
    tracing::info!(user = %untrusted_opt(only.as_deref()), "logout");
    let mut response = Json(json!({"endpointIds": remaining})).into_response();
    for name in &cleared {
        clear_cookie(&mut response, name);
    }
    no_store(response)
}

/// `GET /api/me` -> `{"endpointId","endpointIds"}`: every user signed in in this browser, in
/// sign-in order, and the most recent one (whom a token request naming no endpointId gets);
/// 401 when nobody is.
async fn me(
    State(state): State<Arc<AppServerState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let users: Vec<String> = state
        .signed_in(&headers)
        .into_iter()
        .map(|s| s.user)
        .collect();
    let latest = users
        .last()
        .cloned()
        .ok_or_else(|| ApiError::unauthorized("Not logged in."))?;
    Ok(no_store(
        Json(json!({"endpointId": latest, "endpointIds": users})).into_response(),
    ))
}

/// `GET /api/config`: what a page needs to know (never the secret). With the built-in demo
/// config it also lists the demo users and their public demo passwords (`demoUsers`).
async fn public_config(State(state): State<Arc<AppServerState>>) -> Json<serde_json::Value> {
    let mut config = json!({
        "respokeBaseUrl": state.respoke_base_url,
        "appId": state.app.id,
        "tokenUrl": "/api/tokens",
    });
    if state.builtin_demo {
        config["demoUsers"] = DEMO_USERS
            .iter()
            .map(|(name, password)| json!({"name": name, "password": password}))
            .collect();
    }
    Json(config)
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct TokenAsk {
    endpoint_id: Option<String>,
}

/// `POST /api/tokens {"endpointId"?}` -> `{"token": tokenId}` for that user, who must be signed
/// in in this browser (403 otherwise; 401 when nobody is). Without an endpointId: for the most
/// recently signed-in user.
async fn tokens(
    State(state): State<Arc<AppServerState>>,
    headers: HeaderMap,
    JsonBody(ask): JsonBody<TokenAsk>,
) -> Result<Response, ApiError> {
    let signed_in = state.signed_in(&headers);
    let asked = ask.endpoint_id.filter(|e| !e.is_empty());
    let Some(latest) = signed_in.last() else {
        state.stats.app_token_request(asked.as_deref(), true);
        return Err(ApiError::unauthorized("Not logged in."));
    };
    let user = match asked {
        None => latest.user.clone(),
        Some(asked) if signed_in.iter().any(|s| s.user == asked) => asked,
        Some(asked) => {
            state
                .stats
                .app_token_request_forbidden(&asked, &latest.user);
            return Err(ApiError::forbidden(format!(
                "{} is not signed in in this browser: you may only ask for the token of a \
                 user signed in here.",
                Untrusted(&asked)
            )));
        }
    };
    state.stats.app_token_request(Some(&user), false);

    let request = TokenRequest {
        app_id: state.app.id.clone(),
        endpoint_id: user.clone(),
        role_id: state.app.roles.first().map(|r| r.id.clone()),
        ttl: Some(state.ttl_secs),
    };
    let url = format!("{}/v1/tokens", state.respoke_base_url);
    let bad_gateway = |detail: String| {
        tracing::warn!(detail = %Untrusted(&detail), "Respoke token request failed");
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
