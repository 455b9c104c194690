//! The Respoke side's HTTP routes: `/v1/tokens`, `/v1/session-tokens`, the socket.io handshake
//! and the WebSocket upgrade.

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use respoke_protocol::handshake::HandshakeQuery;
use respoke_protocol::rest::{
    SessionTokenRequest, SessionTokenResponse, TokenRequest, TokenResponse, HEADER_APP_TOKEN,
    SESSION_TOKEN_MESSAGE,
};
use respoke_protocol::Handshake;

use crate::error::ApiError;
use crate::http::{parse_json, JsonBody, RawBody};
use crate::respoke::admin;
use crate::respoke::socket::{refuse_socket, run_socket};
use crate::respoke::state::{ExchangeError, RespokeState};

type AppState = State<Arc<RespokeState>>;

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `POST /v1/tokens`: mint a tokenId (App-Secret or Admin-Token, or neither for
/// development-mode apps). The role may be one created a moment ago through `/v1/roles`.
pub async fn post_tokens(
    State(state): AppState,
    headers: HeaderMap,
    JsonBody(request): JsonBody<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    if let Some(errors) = request.validation_errors() {
        return Err(ApiError::validation(errors));
    }
    let caller = admin::caller(&state, &headers)?;
    let app = state
        .config
        .app(&request.app_id)
        .ok_or_else(|| ApiError::unauthorized("Invalid appId or App-Secret."))?;
    match caller {
        Some(caller) => {
            if !caller.may(&app.id) {
                return Err(ApiError::unauthorized("Invalid appId or App-Secret."));
            }
        }
        None if app.development_mode => {}
        None => {
            return Err(ApiError::unauthorized(
                "App-Secret required: the app is not in development mode.",
            ))
        }
    }
    if let Some(role_id) = &request.role_id {
        let in_app = state
            .roles
            .get(role_id)
            .is_some_and(|role| role.app_id.eq_ignore_ascii_case(&app.id));
        if !in_app {
            return Err(ApiError::not_found("Object 'Roles' not found."));
        }
    }
    let ttl = request.ttl.unwrap_or(state.settings.default_ttl_secs);
    let minted = state.mint_token(&app.id, &request.endpoint_id, request.role_id.clone(), ttl);
    tracing::info!(endpoint = %request.endpoint_id, ttl, "token minted");
    Ok(Json(TokenResponse {
        app_id: app.id.clone(),
        endpoint_id: request.endpoint_id,
        role_id: request.role_id,
        create_time: minted.create_time,
        expiry_time: minted.expiry_time,
        id: minted.token_id.clone(),
        token_id: minted.token_id,
    }))
}

/// `POST /v1/session-tokens`: exchange a tokenId for an App-Token. Any `App-Token` header is
/// ignored (respoke.js sends the previous session's one).
///
/// Refusals that come before the tokenId is looked at leave it unspent, in this order: an
/// outage, an injected failure, then load shedding (`503` with the load-derived
/// `Retry-After`, when a rate is set).
pub async fn post_session_tokens(
    State(state): AppState,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<SessionTokenResponse>, ApiError> {
    if let Some(secs) = state.outage_remaining_secs() {
        state.stats.exchange_rejected_other();
        return Err(ApiError::unavailable("Service outage (dev control).", secs));
    }
    if let Some(plan) = state.take_injected_failure() {
        state.stats.exchange_rejected_other();
        let status = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut error = ApiError::new(status, "Injected failure (dev control).");
        if let Some(secs) = plan.retry_after_secs {
            error = error.with_retry_after(secs);
        }
        return Err(error);
    }
    if let Err(refused) = state.admit_exchange() {
        state.stats.exchange_shed();
        return Err(ApiError::unavailable(
            "Server busy: too many session-token exchanges; retry after the Retry-After delay.",
            refused.retry_after_secs,
        ));
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("Body is not UTF-8."))?;
    let content_type = header_str(&headers, header::CONTENT_TYPE.as_str());
    let request = if content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("json"))
        || content_type.is_none()
    {
        // Validate as JSON first so malformed JSON is a 400 like everywhere else.
        let value: serde_json::Value = parse_json(text.as_bytes())?;
        serde_json::from_value::<SessionTokenRequest>(value).map_err(|_| {
            ApiError::validation(serde_json::json!({"tokenId": "tokenId is required"}))
        })?
    } else {
        SessionTokenRequest::parse(content_type, text).map_err(|_| {
            ApiError::validation(serde_json::json!({"tokenId": "tokenId is required"}))
        })?
    };
    match state.exchange(request.token_id.trim()) {
        Ok((app_token, session)) => {
            tracing::info!(endpoint = %session.endpoint_id, "token exchanged");
            Ok(Json(SessionTokenResponse {
                message: SESSION_TOKEN_MESSAGE.to_owned(),
                token: app_token,
            }))
        }
        Err(ExchangeError::Used) => Err(ApiError::unauthorized("Token has already been used.")),
        Err(ExchangeError::Expired) => Err(ApiError::unauthorized("Token has expired.")),
        Err(ExchangeError::Unknown) => Err(ApiError::unauthorized("Invalid token.")),
    }
}

/// `DELETE /v1/session-tokens` with `App-Token`: end the session and close its sockets.
pub async fn delete_session_tokens(
    State(state): AppState,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let app_token = admin::credential_header(&headers, HEADER_APP_TOKEN)
        .ok_or_else(|| ApiError::unauthorized("App-Token required."))?;
    let session = state
        .end_session(app_token)
        .ok_or_else(|| ApiError::unauthorized("Invalid App-Token."))?;
    state.stats.session_token_deleted(&session.endpoint_id);
    tracing::info!(endpoint = %session.endpoint_id, "session ended");
    Ok(Json(
        serde_json::json!({"message": "Session token deleted."}),
    ))
}

/// `GET /socket.io/1/`: the socket.io 0.9 handshake.
pub async fn handshake(State(state): AppState, RawQuery(query): RawQuery) -> Response {
    if let Some(secs) = state.outage_remaining_secs() {
        state.stats.handshake(false);
        return ApiError::unavailable("Service outage (dev control).", secs).into_response();
    }
    let query = HandshakeQuery::parse(query.as_deref().unwrap_or(""));
    let Some(session) = state.session(&query.app_token) else {
        state.stats.handshake(false);
        return ApiError::forbidden("Invalid or expired App-Token.").into_response();
    };
    let sid = state.begin_socket(&query.app_token, session, !query.wants_sails_010());
    state.stats.handshake(true);
    let line = Handshake {
        sid,
        heartbeat_timeout_secs: Some(state.settings.heartbeat_timeout_secs),
        close_timeout_secs: Some(state.settings.close_timeout_secs),
        transports: vec!["websocket".to_owned()],
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        line.to_string(),
    )
        .into_response()
}

/// `GET /socket.io/1/websocket/<sid>`: the WebSocket of a handshaken session.
pub async fn websocket(
    State(state): AppState,
    Path(sid): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Some(secs) = state.outage_remaining_secs() {
        return ApiError::unavailable("Service outage (dev control).", secs).into_response();
    }
    // chan_respoke asks for the `socket.io` subprotocol; browsers ask for none.
    let upgrade = upgrade.protocols(["socket.io"]);
    match state.take_pending(&sid) {
        Some(pending) => upgrade.on_upgrade(move |socket| run_socket(state, socket, pending)),
        None => upgrade.on_upgrade(refuse_socket),
    }
}

/// Other socket.io transports are not offered.
pub async fn other_transport() -> ApiError {
    ApiError::not_found("Only the websocket transport is supported.")
}

/// Any other path.
pub async fn not_found() -> ApiError {
    ApiError::not_found("Not found.")
}

/// A known path with another method: 405 as JSON like every other error.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.")
}
