//! The admin routes `respoke-admin` 1.9.0 (the Node SDK app servers minted tokens with)
//! calls, and the credentials they take.
//!
//! | route                            | body / query                          | answer                     |
//! |----------------------------------|---------------------------------------|----------------------------|
//! | `POST /v1/adminsessions`         | `{"username", "password"}`            | `{"token"}`: an Admin-Token |
//! | `GET /v1/apps`                   |                                       | the apps the caller may see |
//! | `GET /v1/apps/{appId}`           |                                       | `{"id", "name", "developmentMode"}` |
//! | `GET /v1/roles`                  | `?appId=`                             | the app's roles            |
//! | `POST /v1/roles`                 | a role document with `appId`, `name`  | the role, with its `id`    |
//! | `GET /v1/roles/{roleId}`         | `?appId=` optional                    | the role                   |
//! | `PUT /v1/roles/{roleId}`         | the fields to change                  | the role                   |
//! | `DELETE /v1/roles/{roleId}`      |                                       | `{}`                       |
//!
//! Every route takes `Admin-Token` (every app) or `App-Secret` (that app); the SDK sends
//! whatever it does not hold as the literal text `null`, which counts as absent. Role
//! documents and what their permissions allow: [`crate::respoke::roles`].

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::Json;
use respoke_protocol::query::parse_query;
use respoke_protocol::rest::HEADER_APP_SECRET;
use serde_json::{json, Map, Value};
use subtle::ConstantTimeEq;

use crate::config::AppConfig;
use crate::error::ApiError;
use crate::http::JsonBody;
use crate::login_gate::Peer;
use crate::respoke::role_store::RoleError;
use crate::respoke::roles::RoleFields;
use crate::respoke::state::RespokeState;

/// The header carrying an admin session's token.
pub const HEADER_ADMIN_TOKEN: &str = "Admin-Token";
pub use crate::respoke::admin_sessions::{AdminSessions, ADMIN_SESSION_TTL, MAX_ADMIN_SESSIONS};
/// The longest username or password accepted by `POST /v1/adminsessions`.
pub const MAX_CREDENTIAL_LEN: usize = 1024;

/// The error text of a refused App-Secret (as `POST /v1/tokens` has always answered).
const BAD_APP_SECRET: &str = "Invalid appId or App-Secret.";

/// A credential header's value: trimmed, and absent when empty or the literal `null` /
/// `undefined` a JavaScript SDK writes for a token it does not hold.
pub fn credential_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "null" && *v != "undefined")
}

/// Compares secrets without leaking where they differ.
fn secrets_match(given: &str, expected: &str) -> bool {
    bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// Who is calling an admin route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A valid Admin-Token: every app.
    Admin,
    /// A valid App-Secret: the apps (ids) that have it.
    Apps(Vec<String>),
}

impl Caller {
    /// Whether the caller may administer `app_id`.
    pub fn may(&self, app_id: &str) -> bool {
        match self {
            Caller::Admin => true,
            Caller::Apps(ids) => ids.iter().any(|id| id.eq_ignore_ascii_case(app_id)),
        }
    }

    /// The error for an app the caller may not see: an admin asked for an app that does not
    /// exist (404), an App-Secret for another app (401, as `POST /v1/tokens`).
    fn no_such_app(&self) -> ApiError {
        match self {
            Caller::Admin => ApiError::not_found("Object 'Apps' not found."),
            Caller::Apps(_) => ApiError::unauthorized(BAD_APP_SECRET),
        }
    }
}

/// The caller's credential: `Admin-Token` first, then `App-Secret`; `None` without either.
/// A credential that is present but wrong is a 401 (never a fallback to the other one).
pub fn caller(state: &RespokeState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    if let Some(token) = credential_header(headers, HEADER_ADMIN_TOKEN) {
        return if state.admin_sessions.is_valid(token) {
            Ok(Some(Caller::Admin))
        } else {
            Err(ApiError::unauthorized("Invalid or expired Admin-Token."))
        };
    }
    if let Some(secret) = credential_header(headers, HEADER_APP_SECRET) {
        // Every app's secret is compared, so the time taken says nothing about which matched.
        let ids: Vec<String> = state
            .config
            .apps
            .iter()
            .filter(|app| secrets_match(secret, &app.secret))
            .map(|app| app.id.clone())
            .collect();
        return if ids.is_empty() {
            Err(ApiError::unauthorized(BAD_APP_SECRET))
        } else {
            Ok(Some(Caller::Apps(ids)))
        };
    }
    Ok(None)
}

/// [`caller`], required.
fn require(state: &RespokeState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    caller(state, headers)?
        .ok_or_else(|| ApiError::unauthorized("App-Secret or Admin-Token required."))
}

type AppState = State<Arc<RespokeState>>;

/// The `{appId}` / `{roleId}` path segment; a segment that does not decode (bad
/// percent-encoding, not UTF-8) is a JSON 400 like every other error.
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(Id(id)),
            Err(rejection) => Err(ApiError::bad_request(rejection.body_text())),
        }
    }
}

/// A string field of a JSON body, or its validation error.
fn string_field<'a>(
    body: &'a Value,
    field: &str,
    max_len: usize,
    errors: &mut Map<String, Value>,
) -> Option<&'a str> {
    match body.get(field) {
        Some(Value::String(value)) if !value.is_empty() && value.len() <= max_len => {
            Some(value.as_str())
        }
        Some(Value::String(value)) if !value.is_empty() => {
            errors.insert(
                field.into(),
                json!(format!("{field} is longer than {max_len} bytes")),
            );
            None
        }
        _ => {
            errors.insert(field.into(), json!(format!("{field} is required")));
            None
        }
    }
}

/// `POST /v1/adminsessions {"username", "password"}`: an Admin-Token.
///
/// Bounded work, as the app server's login: the throttle and the verification bound
/// ([`crate::login_gate::LoginGate`]) are passed first (429 with `Retry-After` otherwise), then argon2 runs.
pub async fn post_admin_sessions(
    State(state): AppState,
    Peer(peer): Peer,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let mut errors = Map::new();
    let username = string_field(&body, "username", MAX_CREDENTIAL_LEN, &mut errors);
    let password = string_field(&body, "password", MAX_CREDENTIAL_LEN, &mut errors);
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ApiError::validation(Value::Object(errors)));
    };
    let (username, password) = (username.to_owned(), password.to_owned());
    let known = state
        .config
        .admins
        .iter()
        .any(|admin| admin.name == username);
    let attempt = state
        .admin_gate
        .enter(&username, known, peer)
        .await
        .map_err(|throttled| {
            ApiError::too_many_requests(
                "Too many login attempts; retry after the Retry-After delay.",
                throttled.retry_after_secs,
            )
        })?;
    let worker = state.clone();
    let token = tokio::task::spawn_blocking(move || {
        worker
            .admin_sessions
            .login(&worker.config, &username, &password)
    })
    .await
    .map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "Login failed.",
        )
    })?
    .ok_or_else(|| ApiError::unauthorized("Invalid username or password."))?;
    state.admin_gate.succeeded(attempt);
    tracing::info!("admin session opened");
    Ok(Json(json!({"token": token})))
}

fn app_json(app: &AppConfig) -> Value {
    json!({
        "id": app.id,
        "name": app.display_name(),
        "developmentMode": app.development_mode,
    })
}

/// `GET /v1/apps`: the apps the caller may administer.
pub async fn get_apps(State(state): AppState, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let caller = require(&state, &headers)?;
    let apps: Vec<Value> = state
        .config
        .apps
        .iter()
        .filter(|app| caller.may(&app.id))
        .map(app_json)
        .collect();
    Ok(Json(Value::Array(apps)))
}

/// `GET /v1/apps/{appId}`.
pub async fn get_app(
    State(state): AppState,
    Id(app_id): Id,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&state, &headers)?;
    let app = state
        .config
        .app(&app_id)
        .filter(|app| caller.may(&app.id))
        .ok_or_else(|| caller.no_such_app())?;
    Ok(Json(app_json(app)))
}

/// The `appId` of a query string, if given.
fn query_app_id(query: Option<&str>) -> Option<String> {
    parse_query(query.unwrap_or(""))
        .into_iter()
        .find(|(key, _)| key == "appId")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The app `app_id` if the caller may administer it.
fn visible_app<'a>(
    state: &'a RespokeState,
    caller: &Caller,
    app_id: &str,
) -> Result<&'a AppConfig, ApiError> {
    state
        .config
        .app(app_id)
        .filter(|app| caller.may(&app.id))
        .ok_or_else(|| caller.no_such_app())
}

fn role_error(error: RoleError) -> ApiError {
    match error {
        RoleError::NotFound => ApiError::not_found(error.to_string()),
        RoleError::TooMany => ApiError::forbidden(error.to_string()),
        RoleError::NameRequired => ApiError::validation(json!({"name": "name is required"})),
    }
}

/// `GET /v1/roles?appId=`: the app's roles.
pub async fn get_roles(
    State(state): AppState,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&state, &headers)?;
    let app_id = query_app_id(query.as_deref())
        .ok_or_else(|| ApiError::validation(json!({"appId": "appId is required"})))?;
    let app = visible_app(&state, &caller, &app_id)?;
    let roles: Vec<Value> = state
        .roles
        .list(&app.id)
        .iter()
        .map(|role| role.to_json())
        .collect();
    Ok(Json(Value::Array(roles)))
}

/// `POST /v1/roles`: a new role of `appId`, usable by `POST /v1/tokens` at once.
pub async fn post_roles(
    State(state): AppState,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&state, &headers)?;
    let mut fields = RoleFields::from_json(&body).map_err(|e| ApiError::validation(e.into()))?;
    let mut missing = Map::new();
    if fields.app_id.is_none() {
        missing.insert("appId".into(), json!("appId is required"));
    }
    if fields.name.is_none() {
        missing.insert("name".into(), json!("name is required"));
    }
    if !missing.is_empty() {
        return Err(ApiError::validation(Value::Object(missing)));
    }
    let app_id = fields.app_id.take().unwrap_or_default();
    let app = visible_app(&state, &caller, &app_id)?;
    let role = state.roles.create(&app.id, fields).map_err(role_error)?;
    tracing::info!(app = %app.id, role = %role.id, "role created");
    Ok(Json(role.to_json()))
}

/// `GET /v1/roles/{roleId}` (`?appId=` optional: then the role must be that app's).
pub async fn get_role(
    State(state): AppState,
    Id(role_id): Id,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&state, &headers)?;
    let wanted_app = query_app_id(query.as_deref());
    let role = state
        .roles
        .get(&role_id)
        .filter(|role| caller.may(&role.app_id))
        .filter(|role| {
            wanted_app
                .as_deref()
                .map_or(true, |app| app.eq_ignore_ascii_case(&role.app_id))
        })
        .ok_or_else(|| role_error(RoleError::NotFound))?;
    Ok(Json(role.to_json()))
}

/// `PUT /v1/roles/{roleId}`: changes the fields given; sessions of the role see the new
/// permissions from their next request.
pub async fn put_role(
    State(state): AppState,
    Id(role_id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&state, &headers)?;
    let mut fields = RoleFields::from_json(&body).map_err(|e| ApiError::validation(e.into()))?;
    let moving_to = fields.app_id.take();
    let may = |app_id: &str| {
        caller.may(app_id)
            && moving_to
                .as_deref()
                .map_or(true, |to| to.eq_ignore_ascii_case(app_id))
    };
    match state.roles.update(&role_id, may, fields) {
        Ok(role) => Ok(Json(role.to_json())),
        // Tell a visible role that was asked to change apps apart from a missing one.
        Err(RoleError::NotFound)
            if moving_to.is_some()
                && state
                    .roles
                    .get(&role_id)
                    .is_some_and(|role| caller.may(&role.app_id)) =>
        {
            Err(ApiError::validation(
                json!({"appId": "a role cannot move to another app"}),
            ))
        }
        Err(error) => Err(role_error(error)),
    }
}

/// `DELETE /v1/roles/{roleId}`: sessions of the role may only leave groups from then on.
pub async fn delete_role(
    State(state): AppState,
    Id(role_id): Id,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let caller = require(&state, &headers)?;
    let role = state
        .roles
        .delete(&role_id, |app_id| caller.may(app_id))
        .map_err(role_error)?;
    tracing::info!(app = %role.app_id, role = %role.id, "role deleted");
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn literal_null_credentials_are_absent() {
        let mut headers = HeaderMap::new();
        for absent in ["null", "undefined", "", "  "] {
            headers.insert("Admin-Token", HeaderValue::from_str(absent).unwrap());
            assert_eq!(
                credential_header(&headers, "Admin-Token"),
                None,
                "{absent:?}"
            );
        }
        headers.insert("Admin-Token", HeaderValue::from_static(" T "));
        assert_eq!(credential_header(&headers, "admin-token"), Some("T"));
    }
}
