//! The Respoke side: REST (tokens, sessions, the admin routes), the socket.io 0.9 WebSocket
//! and Sails over it.

pub mod admin;
pub mod admin_sessions;
pub mod controls;
pub mod gate;
pub mod hub;
pub mod outbox;
pub mod requests;
pub mod role_store;
pub mod roles;
pub mod routes;
pub mod session;
pub mod socket;
pub mod state;
pub mod turn;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;

use crate::http::{respoke_cors, CREDENTIALED_PATHS};
use crate::respoke::gate::Guarded;

pub use state::RespokeState;

/// The Respoke routes (without `/dev/` or tracing: see [`crate::api_router`]), with their
/// CORS: [`CREDENTIALED_PATHS`] with credentials, the rest without.
pub fn router(state: Arc<RespokeState>) -> Router {
    let limit = state.settings.body_limit;
    // The dev controls and load shedding, on exactly the three routes that start a session.
    let gate = |guarded| from_fn_with_state((state.clone(), guarded), gate::control_gate);
    let handshake = routes::handshake.layer(gate(Guarded::Handshake));
    let credentialed = Router::new()
        .route(CREDENTIALED_PATHS[0], get(handshake.clone()))
        .route(CREDENTIALED_PATHS[1], get(handshake))
        .route(CREDENTIALED_PATHS[2], post(routes::post_tokens))
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(respoke_cors(true));
    Router::new()
        .route(
            "/v1/session-tokens",
            post(routes::post_session_tokens.layer(gate(Guarded::Exchange)))
                .delete(routes::delete_session_tokens),
        )
        .route("/v1/adminsessions", post(admin::post_admin_sessions))
        .route("/v1/apps", get(admin::get_apps))
        .route("/v1/apps/{app_id}", get(admin::get_app))
        .route("/v1/roles", get(admin::get_roles).post(admin::post_roles))
        .route(
            "/v1/roles/{role_id}",
            get(admin::get_role)
                .put(admin::put_role)
                .delete(admin::delete_role),
        )
        .route(
            "/socket.io/1/websocket/{sid}",
            get(routes::websocket.layer(gate(Guarded::Upgrade))),
        )
        .route(
            "/socket.io/1/{transport}/{sid}",
            get(routes::other_transport).post(routes::other_transport),
        )
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(respoke_cors(false))
        .merge(credentialed)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
