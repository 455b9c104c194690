//! One live socket.io 0.9 WebSocket: `1::` first, heartbeats, Sails requests and their acks,
//! pushed events, and the dev controls' drop and stall.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use respoke_protocol::event::EventData;
use respoke_protocol::packet::decode_payload;
use respoke_protocol::sails::{Method, Request, Response};
use respoke_protocol::Packet;
use serde_json::{json, Value};
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

use crate::ids::guid;
use crate::respoke::state::{unix_now_ms, PendingSocket, RespokeState, SocketCommand};

/// Answers a WebSocket whose sid is unknown: `7:::1+0` (client not handshaken), then close.
pub async fn refuse_socket(mut socket: WebSocket) {
    let _ = socket.send(Message::Text("7:::1+0".into())).await;
    let _ = socket.send(Message::Close(None)).await;
}

/// What the socket task knows about its client.
struct SocketContext {
    state: Arc<RespokeState>,
    endpoint_id: String,
    legacy: bool,
    connection_id: Option<String>,
}

/// What handling one packet asks the loop to do.
enum Next {
    Continue,
    Reply(Vec<String>),
    Close,
}

/// Runs one socket until it closes, for whatever reason.
pub async fn run_socket(state: Arc<RespokeState>, socket: WebSocket, pending: PendingSocket) {
    let endpoint_id = pending.session.endpoint_id.clone();
    let (socket_id, mut commands) = state.register_socket(&endpoint_id, &pending.app_token);
    tracing::info!(endpoint = %endpoint_id, socket_id, "socket opened");
    let mut context = SocketContext {
        state: state.clone(),
        endpoint_id: endpoint_id.clone(),
        legacy: pending.legacy,
        connection_id: None,
    };
    let (mut sink, mut stream) = socket.split();

    let interval = state
        .settings
        .heartbeat_interval
        .max(Duration::from_millis(50));
    // The client answers every heartbeat; after the advertised timeout (plus one interval of
    // slack) of silence it is gone.
    let silence_limit =
        Duration::from_secs(u64::from(state.settings.heartbeat_timeout_secs)) + interval;
    let mut heartbeat = interval_at(Instant::now() + interval, interval);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let expiry = sleep_until(Instant::from_std(pending.session.expires_at));
    tokio::pin!(expiry);
    let mut last_heard = Instant::now();

    let mut reason = "client closed";
    if !state.is_stalled(&endpoint_id) && sink.send(Message::Text("1::".into())).await.is_err() {
        reason = "send failed";
    } else {
        loop {
            tokio::select! {
                incoming = stream.next() => {
                    let text = match incoming {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | None => break,
                        Some(Ok(_)) => continue,
                        Some(Err(_)) => { reason = "receive failed"; break; }
                    };
                    if state.is_stalled(&endpoint_id) {
                        // A stalled server ignores what it is sent.
                        continue;
                    }
                    last_heard = Instant::now();
                    match handle_frame(&mut context, text.as_str()) {
                        Next::Continue => {}
                        Next::Reply(replies) => {
                            let mut failed = false;
                            for reply in replies {
                                if sink.send(Message::Text(reply.into())).await.is_err() {
                                    failed = true;
                                    break;
                                }
                            }
                            if failed { reason = "send failed"; break; }
                        }
                        Next::Close => { reason = "client sent 0::"; break; }
                    }
                }
                command = commands.recv() => match command {
                    Some(SocketCommand::Send(text)) => {
                        if !state.is_stalled(&endpoint_id)
                            && sink.send(Message::Text(text.into())).await.is_err()
                        {
                            reason = "send failed";
                            break;
                        }
                    }
                    Some(SocketCommand::Close) | None => {
                        let _ = sink.send(Message::Text(Packet::disconnect().encode().into())).await;
                        reason = "dropped by the server";
                        break;
                    }
                },
                _ = heartbeat.tick() => {
                    if state.is_stalled(&endpoint_id) {
                        last_heard = Instant::now();
                        continue;
                    }
                    if last_heard.elapsed() > silence_limit {
                        let _ = sink.send(Message::Text(Packet::disconnect().encode().into())).await;
                        reason = "heartbeat timeout";
                        break;
                    }
                    if sink.send(Message::Text(Packet::heartbeat().encode().into())).await.is_err() {
                        reason = "send failed";
                        break;
                    }
                }
                _ = &mut expiry => {
                    let _ = sink.send(Message::Text(Packet::disconnect().encode().into())).await;
                    reason = "App-Token expired";
                    break;
                }
            }
        }
    }
    let _ = sink.send(Message::Close(None)).await;
    state.unregister_socket(socket_id);
    tracing::info!(endpoint = %endpoint_id, socket_id, reason, "socket closed");
}

/// Handles one text frame (one packet, or several in 0.9's payload form).
fn handle_frame(context: &mut SocketContext, frame: &str) -> Next {
    let Ok(texts) = decode_payload(frame) else {
        tracing::debug!("undecodable frame ignored");
        return Next::Continue;
    };
    let mut replies = Vec::new();
    for text in texts {
        let packet = match Packet::decode(text) {
            Ok(packet) => packet,
            Err(error) => {
                tracing::debug!(code = error.code(), "bad packet ignored");
                continue;
            }
        };
        match packet {
            Packet::Disconnect { .. } => return Next::Close,
            Packet::Event { id, data, .. } => {
                let response = match EventData::parse(&data) {
                    Ok(event) => handle_event(context, &event),
                    Err(error) => Some(Response::error(400, error.to_string())),
                };
                if let (Some(id), Some(response)) = (id, response) {
                    replies.push(response.to_packet(id, context.legacy).encode());
                }
            }
            Packet::Message { id: Some(id), .. } | Packet::Json { id: Some(id), .. } => {
                replies.push(Packet::ack_raw(id, "").encode());
            }
            // Heartbeat echoes, acks, noops and the rest need no answer.
            _ => {}
        }
    }
    if replies.is_empty() {
        Next::Continue
    } else {
        Next::Reply(replies)
    }
}

/// Answers one event; `None` for events that are not requests and need no ack.
fn handle_event(context: &mut SocketContext, event: &EventData) -> Option<Response> {
    if Method::from_event_name(&event.name).is_none() {
        return Some(Response::error(
            404,
            format!(
                "Unknown event {:?}.",
                event.name.chars().take(40).collect::<String>()
            ),
        ));
    }
    Some(match Request::from_event(event) {
        Ok(request) => route(context, &request),
        Err(error) => Response::error(400, error.to_string()),
    })
}

/// The Sails routes.
fn route(context: &mut SocketContext, request: &Request) -> Response {
    let path = request.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (request.method, segments.as_slice()) {
        (Method::Post, ["v1", "connections"]) => {
            let id = guid();
            context.connection_id = Some(id.clone());
            Response::ok(json!({"id": id, "endpointId": context.endpoint_id}))
        }
        (Method::Delete, ["v1", "connections", ..]) => {
            context.state.stats.connection_deleted(&context.endpoint_id);
            Response::ok(json!({}))
        }
        (Method::Post, ["v1", "presence"]) => Response::ok(json!({})),
        (Method::Post, ["v1", "messages"]) => send_message(context, &request.data),
        (
            _,
            ["v1", "groups" | "channels" | "presenceobservers" | "signaling" | "turn" | "call-debugs"
            | "endpoints", ..],
        ) => Response::ok(json!({})),
        _ => Response::error(404, format!("No route for {} {path}.", request.method)),
    }
}

/// `post /v1/messages {"to","message"}`: a `message` event to every socket of `to`.
fn send_message(context: &SocketContext, data: &Value) -> Response {
    let Some(to) = data
        .get("to")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Response::error(400, "Validation Error: 'to' is required.");
    };
    let message = match data.get("message") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let payload = json!({
        "header": {
            "type": "message",
            "from": context.endpoint_id,
            "fromConnection": context.connection_id.clone().unwrap_or_default(),
            "timestamp": unix_now_ms(),
        },
        "body": message,
    });
    let packet = Packet::event(None, "message", vec![payload]).encode();
    let delivered = context.state.send_to_endpoint(to, &packet);
    tracing::debug!(from = %context.endpoint_id, to, delivered, "message");
    Response::ok(json!({}))
}
