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
use crate::http::{is_blank, is_json_content_type, media_type, parse_json, JsonBody, RawBody};
use crate::respoke::admin;
use crate::respoke::socket::{refuse_socket, run_socket};
use crate::respoke::state::{ExchangeError, RespokeState};
use crate::untrusted::Untrusted;

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
    let max = state.settings.limits.max_id_bytes;
    let mut too_long = serde_json::Map::new();
    for (field, value) in [
        ("appId", Some(request.app_id.as_str())),
        ("endpointId", Some(request.endpoint_id.as_str())),
        ("roleId", request.role_id.as_deref()),
    ] {
        if value.is_some_and(|v| v.len() > max) {
            too_long.insert(
                field.into(),
                format!("{field} is longer than {max} bytes").into(),
            );
        }
    }
    if !too_long.is_empty() {
        return Err(ApiError::validation(serde_json::Value::Object(too_long)));
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
    tracing::info!(endpoint = %Untrusted(&request.endpoint_id), ttl, "token minted");
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
/// Outages, injected failures and load shedding are refused before this handler runs, by
/// [`crate::respoke::gate`], leaving the tokenId unspent.
pub async fn post_session_tokens(
    State(state): AppState,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<SessionTokenResponse>, ApiError> {
    let (token_id, app_id) = exchange_request(&headers, &body)?;
    let max = state.settings.limits.max_id_bytes;
    if token_id.len() > max || app_id.as_ref().is_some_and(|a| a.len() > max) {
        return Err(ApiError::validation(
            serde_json::json!({"tokenId": format!("tokenId and appId are at most {max} bytes")}),
        ));
    }
    match state.exchange(token_id.trim(), app_id.as_deref().map(str::trim)) {
        Ok((app_token, session)) => {
            tracing::info!(endpoint = %Untrusted(&session.endpoint_id), "token exchanged");
            Ok(Json(SessionTokenResponse {
                message: SESSION_TOKEN_MESSAGE.to_owned(),
                token: app_token,
            }))
        }
        Err(ExchangeError::Used) => Err(ApiError::unauthorized("Token has already been used.")),
        Err(ExchangeError::Expired) => Err(ApiError::unauthorized("Token has expired.")),
        Err(ExchangeError::Unknown) => Err(ApiError::unauthorized("Invalid token.")),
        Err(ExchangeError::WrongApp) => Err(ApiError::unauthorized(
            "Invalid token: it was not issued for this appId.",
        )),
        Err(ExchangeError::Full) => Err(ApiError::unavailable(
            "Too many live sessions; retry later.",
            5,
        )),
    }
}

/// The tokenId (and `appId`, if sent) of an exchange: JSON, or form-encoded as the Android
/// SDK sent it. Other content types are 415 (a page on another site may send `text/plain` and
/// forms without a preflight: forms are read here because the exchange spends nothing the
/// sender did not already hold).
fn exchange_request(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, Option<String>), ApiError> {
    let required = || ApiError::validation(serde_json::json!({"tokenId": "tokenId is required"}));
    let content_type = header_str(headers, header::CONTENT_TYPE.as_str()).unwrap_or_default();
    if is_blank(body) {
        return Err(required());
    }
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::bad_request("Body is not UTF-8."))?;
    if is_json_content_type(content_type) {
        // Validate as JSON first so malformed JSON is a 400 like everywhere else.
        let value: serde_json::Value = parse_json(text.as_bytes())?;
        let app_id = value
            .get("appId")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let request =
            serde_json::from_value::<SessionTokenRequest>(value).map_err(|_| required())?;
        Ok((request.token_id, app_id))
    } else if media_type(content_type) == "application/x-www-form-urlencoded" {
        let request =
            SessionTokenRequest::parse(Some(content_type), text).map_err(|_| required())?;
        let app_id = respoke_protocol::query::parse_query(text)
            .into_iter()
            .find(|(key, _)| key == "appId")
            .map(|(_, value)| value);
        Ok((request.token_id, app_id))
    } else {
        Err(ApiError::unsupported_media_type(
            "Send the tokenId as application/json (or application/x-www-form-urlencoded).",
        ))
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
    tracing::info!(endpoint = %Untrusted(&session.endpoint_id), "session ended");
    Ok(Json(
        serde_json::json!({"message": "Session token deleted."}),
    ))
}

/// `GET /socket.io/1/`: the socket.io 0.9 handshake (behind [`crate::respoke::gate`]).
pub async fn handshake(State(state): AppState, RawQuery(query): RawQuery) -> Response {
    let query = HandshakeQuery::parse(query.as_deref().unwrap_or(""));
    let Some(session) = state.session(&query.app_token) else {
        state.stats.handshake(false);
        return ApiError::forbidden("Invalid or expired App-Token.").into_response();
    };
    let Some(sid) = state.begin_socket(&query.app_token, session, !query.wants_sails_010()) else {
        let message = "Too many handshakes wait for their socket; try again shortly.";
        return ApiError::unavailable(message, 1).into_response();
    };
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

/// `GET /socket.io/1/websocket/<sid>`: the WebSocket of a handshaken session (behind
/// [`crate::respoke::gate`]).
pub async fn websocket(
    State(state): AppState,
    Path(sid): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // chan_respoke asks for the `socket.io` subprotocol; browsers ask for none. Frames and
    // messages over the bound close the socket before they are buffered whole. The read
    // buffer is small (tungstenite zero-fills all of it on the first read: 128 KiB per socket
    // by default); a bigger frame grows it to the frame's size, up to the bound.
    let limits = &state.settings.limits;
    let max = limits.max_socket_message_bytes;
    let upgrade = upgrade
        .protocols(["socket.io"])
        .max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(limits.socket_read_buffer_bytes);
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
