//! The Respoke side: REST, the socket.io 0.9 WebSocket and Sails over it.

pub mod hub;
pub mod routes;
pub mod socket;
pub mod state;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use state::RespokeState;

/// The Respoke routes (without `/dev/`, CORS or tracing: see [`crate::api_router`]).
pub fn router(state: Arc<RespokeState>) -> Router {
    let limit = state.settings.body_limit;
    Router::new()
        .route("/v1/tokens", post(routes::post_tokens))
        .route(
            "/v1/session-tokens",
            post(routes::post_session_tokens).delete(routes::delete_session_tokens),
        )
        .route("/socket.io/1/", get(routes::handshake))
        .route("/socket.io/1", get(routes::handshake))
        .route("/socket.io/1/websocket/{sid}", get(routes::websocket))
        .route(
            "/socket.io/1/{transport}/{sid}",
            get(routes::other_transport).post(routes::other_transport),
        )
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
