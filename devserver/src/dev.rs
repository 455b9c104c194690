//! Development controls under `/dev/` (loopback peers only): drop, outage, injected exchange
//! failures, stall, ack delay, load shedding of exchanges, reset, and the counters.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::http::{dev_cors, dev_guard, JsonBody};
use crate::respoke::controls::{FailPlan, MAX_CONTROLLED_ENDPOINTS};
use crate::respoke::RespokeState;
use crate::untrusted::untrusted_opt;

type DevState = State<Arc<RespokeState>>;

/// Longest outage or stall a control accepts (seconds).
pub const MAX_CONTROL_SECS: u64 = 3_600;

/// The `/dev/` routes: loopback peers, loopback `Host`, loopback `Origin` only (see
/// [`dev_guard`]), with their own CORS (loopback origins only).
pub fn router(state: Arc<RespokeState>) -> Router {
    Router::new()
        .route("/dev/stats", get(stats))
        .route("/dev/drop", post(drop_sockets))
        .route("/dev/outage", post(outage))
        .route("/dev/fail-session-tokens", post(fail_session_tokens))
        .route("/dev/stall", post(stall))
        .route("/dev/ack-delay", post(ack_delay))
        .route("/dev/admission", post(admission))
        .route("/dev/reset", post(reset))
        .route("/dev/state", get(controls))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .route_layer(middleware::from_fn(dev_guard))
        .with_state(state)
        .layer(dev_cors())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct EndpointFilter {
    endpoint_id: Option<String>,
}

/// `GET /dev/stats` (everything) or `GET /dev/stats?endpointId=X` (one endpoint; zeros if
/// unknown). The whole document leaves out each endpoint's `lastTokenIds`: the spent
/// tokenIds of an endpoint are shown only to whoever names it.
async fn stats(
    State(state): DevState,
    Query(query): Query<HashMap<String, String>>,
) -> Json<Value> {
    match query.get("endpointId") {
        Some(endpoint) => Json(json!(state.stats.endpoint(endpoint))),
        None => {
            let mut all = json!(state.stats.snapshot());
            if let Some(endpoints) = all.get_mut("endpoints").and_then(Value::as_object_mut) {
                for counters in endpoints.values_mut() {
                    if let Some(counters) = counters.as_object_mut() {
                        counters.remove("lastTokenIds");
                    }
                }
            }
            if let Some(all) = all.as_object_mut() {
                all.insert("liveSessions".into(), json!(state.live_sessions()));
            }
            Json(all)
        }
    }
}

/// `POST /dev/drop` `{}` or `{"endpointId"}`: `0::` and close.
async fn drop_sockets(
    State(state): DevState,
    JsonBody(filter): JsonBody<EndpointFilter>,
) -> Json<Value> {
    let dropped = state.drop_sockets(filter.endpoint_id.as_deref());
    tracing::info!(dropped, endpoint = %untrusted_opt(filter.endpoint_id.as_deref()), "dev: drop");
    Json(json!({"dropped": dropped}))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Seconds {
    seconds: f64,
    #[serde(default)]
    endpoint_id: Option<String>,
}

/// A 400 when a control names an endpointId over the id bound.
fn check_endpoint(state: &RespokeState, endpoint_id: Option<&str>) -> Result<(), ApiError> {
    let max = state.settings.limits.max_id_bytes;
    match endpoint_id {
        Some(id) if id.len() > max => Err(ApiError::bad_request(format!(
            "endpointId is longer than {max} bytes"
        ))),
        _ => Ok(()),
    }
}

fn whole_seconds(seconds: f64) -> Result<u64, ApiError> {
    if !seconds.is_finite() || seconds < 0.0 || seconds > MAX_CONTROL_SECS as f64 {
        return Err(ApiError::bad_request(format!(
            "seconds must be between 0 and {MAX_CONTROL_SECS}"
        )));
    }
    Ok(seconds.ceil() as u64)
}

/// `POST /dev/outage {"seconds"}`: close every socket; handshakes, WebSocket upgrades and
/// session-token exchanges answer 503 with `Retry-After` until it ends. `/v1/tokens` keeps
/// working, so app servers can still mint.
async fn outage(
    State(state): DevState,
    JsonBody(body): JsonBody<Seconds>,
) -> Result<Json<Value>, ApiError> {
    let secs = whole_seconds(body.seconds)?;
    let dropped = state.start_outage(secs);
    tracing::info!(secs, dropped, "dev: outage");
    Ok(Json(json!({"dropped": dropped, "seconds": secs})))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FailBody {
    count: u32,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    retry_after: Option<u64>,
}

/// `POST /dev/fail-session-tokens {"count","status"?,"retryAfter"?}`: the next `count`
/// exchanges answer `status` (default 503), with `Retry-After` if given. The tokenIds offered
/// meanwhile are not spent.
async fn fail_session_tokens(
    State(state): DevState,
    JsonBody(body): JsonBody<FailBody>,
) -> Result<Json<Value>, ApiError> {
    let status = body.status.unwrap_or(503);
    if StatusCode::from_u16(status).is_err() || !(400..=599).contains(&status) {
        return Err(ApiError::bad_request("status must be 400-599"));
    }
    state.fail_session_tokens(FailPlan {
        remaining: body.count,
        status,
        retry_after_secs: body.retry_after,
    });
    tracing::info!(count = body.count, status, "dev: fail-session-tokens");
    Ok(Json(
        json!({"count": body.count, "status": status, "retryAfter": body.retry_after}),
    ))
}

/// `POST /dev/stall {"seconds","endpointId"?}`: sockets (all, or one endpoint's) receive
/// nothing, heartbeats included, and what they send is ignored.
async fn stall(
    State(state): DevState,
    JsonBody(body): JsonBody<Seconds>,
) -> Result<Json<Value>, ApiError> {
    let secs = whole_seconds(body.seconds)?;
    check_endpoint(&state, body.endpoint_id.as_deref())?;
    state.stall(body.endpoint_id.as_deref(), secs);
    tracing::info!(secs, endpoint = %untrusted_opt(body.endpoint_id.as_deref()), "dev: stall");
    Ok(Json(
        json!({"seconds": secs, "endpointId": body.endpoint_id}),
    ))
}

/// `POST /dev/ack-delay {"seconds","endpointId"?}`: the acks of socket requests (all sockets,
/// or one endpoint's) are held back `seconds` (fractions allowed; 0 removes the delay). The
/// requests themselves take effect at once - messages are delivered, groups joined - only
/// the answer is late, and it is lost if the socket closes first. Pushed events and
/// heartbeats are not delayed. An endpoint's own delay wins over the global one.
async fn ack_delay(
    State(state): DevState,
    JsonBody(body): JsonBody<Seconds>,
) -> Result<Json<Value>, ApiError> {
    // Validated like every other control; fractions are kept.
    whole_seconds(body.seconds)?;
    check_endpoint(&state, body.endpoint_id.as_deref())?;
    let delay = std::time::Duration::from_secs_f64(body.seconds);
    if !state.set_ack_delay(body.endpoint_id.as_deref(), delay) {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_CONTROLLED_ENDPOINTS} endpoints may have an ack delay of their own"
        )));
    }
    tracing::info!(
        seconds = body.seconds,
        endpoint = %untrusted_opt(body.endpoint_id.as_deref()),
        "dev: ack-delay"
    );
    Ok(Json(
        json!({"seconds": body.seconds, "endpointId": body.endpoint_id}),
    ))
}

/// `POST /dev/admission {"perSecond"}`: admit at most `perSecond` session-token exchanges a
/// second and answer the rest `503` with a `Retry-After` derived from the load (see
/// [`crate::admission`]); `null` or `0` lifts the limit. Each call starts a fresh, full bucket.
async fn admission(
    State(state): DevState,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let per_second = match body.get("perSecond") {
        Some(Value::Null) => None,
        Some(value) => {
            let n = value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "perSecond must be null or an integer from 0 to {}",
                        u32::MAX
                    ))
                })?;
            NonZeroU32::new(n)
        }
        None => {
            return Err(ApiError::bad_request(
                "perSecond is required (null or 0 lifts the limit)",
            ))
        }
    };
    state.set_admission(per_second);
    tracing::info!(per_second = ?per_second, "dev: admission");
    Ok(Json(json!({"perSecond": per_second})))
}

/// `POST /dev/reset`: end outage, stalls, injected failures and ack delays, and put the
/// exchange rate limit back to `--admission-per-second` (counters stay).
async fn reset(State(state): DevState) -> Json<Value> {
    state.reset_controls();
    tracing::info!("dev: reset");
    Json(json!({"reset": true}))
}

/// `GET /dev/state`: the controls now.
async fn controls(State(state): DevState) -> Json<Value> {
    let mut value = state.controls_snapshot();
    if let Some(map) = value.as_object_mut() {
        map.insert("liveSockets".into(), json!(state.live_sockets()));
    }
    Json(value)
}
