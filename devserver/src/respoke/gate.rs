//! The dev controls and load shedding in front of the routes that start a session: one axum
//! middleware ([`control_gate`]), applied to exactly the session-token exchange, the
//! socket.io handshake and the WebSocket upgrade (see [`crate::respoke::router`]).
//!
//! A refusal here comes before the route reads anything, so an exchange refused by it leaves
//! its tokenId unspent. The checks, in order:
//!
//! 1. an outage (`/dev/outage`): `503` with `Retry-After` on all three routes;
//! 2. an injected failure (`/dev/fail-session-tokens`): the exchange only, the planned status
//!    (and `Retry-After`, if planned);
//! 3. load shedding (`--max-exchanges-per-sec`): the exchange only, `503` with the
//!    load-derived `Retry-After`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::respoke::state::RespokeState;

/// Which of the guarded routes a request is for: the checks and the counters differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    /// `POST /v1/session-tokens`.
    Exchange,
    /// `GET /socket.io/1/`.
    Handshake,
    /// `GET /socket.io/1/websocket/<sid>`.
    Upgrade,
}

/// The middleware's state: the server's, and which route it guards.
pub type GateState = (Arc<RespokeState>, Guarded);

/// Refuses the request as the dev controls and the admission controller say, or passes it on.
pub async fn control_gate(
    State((state, guarded)): State<GateState>,
    request: Request,
    next: Next,
) -> Response {
    match refusal(&state, guarded) {
        Some(error) => error.into_response(),
        None => next.run(request).await,
    }
}

/// Why `guarded` is refused right now, counted in the stats; `None` to go ahead.
fn refusal(state: &RespokeState, guarded: Guarded) -> Option<ApiError> {
    if let Some(secs) = state.outage_remaining_secs() {
        match guarded {
            Guarded::Exchange => state.stats.exchange_rejected_other(),
            Guarded::Handshake => state.stats.handshake(false),
            Guarded::Upgrade => {}
        }
        return Some(ApiError::unavailable("Service outage (dev control).", secs));
    }
    if guarded != Guarded::Exchange {
        return None;
    }
    if let Some(plan) = state.take_injected_failure() {
        state.stats.exchange_rejected_other();
        let status = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut error = ApiError::new(status, "Injected failure (dev control).");
        if let Some(secs) = plan.retry_after_secs {
            error = error.with_retry_after(secs);
        }
        return Some(error);
    }
    if let Err(refused) = state.admit_exchange() {
        state.stats.exchange_shed();
        return Some(ApiError::unavailable(
            "Server busy: too many session-token exchanges; retry after the Retry-After delay.",
            refused.retry_after_secs,
        ));
    }
    None
}
