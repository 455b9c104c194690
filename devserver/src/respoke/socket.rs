//! One live socket.io 0.9 WebSocket: `1::` first, heartbeats, Sails requests and their acks,
//! pushed events, and the dev controls' drop, stall and ack delay.
//!
//! Order on one socket: the acks of the requests in a frame are written before any event that
//! handling them caused for the same socket (a `join` to the joining connection, the `presence`
//! events after `post /v1/presenceobservers`), because those travel through the socket's
//! command queue. Under `/dev/ack-delay` the acks are held back (in order) and events overtake
//! them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use respoke_protocol::event::EventData;
use respoke_protocol::packet::decode_payload;
use respoke_protocol::push::{
    parse_body, ConnectionInfo, GroupList, Presence, PresenceObservers, Publish, SendMessage,
    SendSignal, SetPresence,
};
use respoke_protocol::query::decode_path_segment;
use respoke_protocol::rest::ErrorBody;
use respoke_protocol::sails::{Method, Request, Response};
use respoke_protocol::Packet;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

use crate::respoke::hub::{PublishError, SocketId};
use crate::respoke::roles::GroupAction;
use crate::respoke::state::{unix_now, unix_now_ms, PendingSocket, RespokeState, SocketCommand};
use crate::respoke::turn;

/// Answers a WebSocket whose sid is unknown: `7:::1+0` (client not handshaken), then close.
pub async fn refuse_socket(mut socket: WebSocket) {
    let _ = socket.send(Message::Text("7:::1+0".into())).await;
    let _ = socket.send(Message::Close(None)).await;
}

/// What the socket task knows about its client.
struct SocketContext {
    state: Arc<RespokeState>,
    socket_id: SocketId,
    endpoint_id: String,
    connection_id: String,
    /// The session's role: what it may do with groups (`None`: everything).
    role_id: Option<String>,
    legacy: bool,
}

impl SocketContext {
    /// `None` if the session's role permits `action` on every group named, else the 403
    /// answer naming the first one it does not.
    fn denied<'a>(
        &self,
        action: GroupAction,
        groups: impl IntoIterator<Item = &'a str>,
    ) -> Option<Response> {
        let role = self.role_id.as_deref();
        let group = groups
            .into_iter()
            .find(|group| !self.state.roles.permits(role, group, action))?;
        Some(Response::error(
            403,
            format!(
                "Permission denied: the role may not {} group \"{}\".",
                match action {
                    GroupAction::Create => "create",
                    GroupAction::Subscribe => "join",
                    GroupAction::Unsubscribe => "leave",
                    GroupAction::Publish => "publish to",
                    GroupAction::GetSubscribers => "list the members of",
                },
                excerpt(group)
            ),
        ))
    }
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
    let registered = state.register_socket(&endpoint_id, &pending.app_token);
    let socket_id = registered.id;
    let mut commands = registered.commands;
    tracing::info!(endpoint = %endpoint_id, socket_id, "socket opened");
    let mut context = SocketContext {
        state: state.clone(),
        socket_id,
        endpoint_id: endpoint_id.clone(),
        connection_id: registered.connection_id,
        role_id: pending.session.role_id.clone(),
        legacy: pending.legacy,
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
    // Acks held back by `/dev/ack-delay`, due in order.
    let mut delayed: VecDeque<(Instant, String)> = VecDeque::new();

    let mut reason = "client closed";
    if !state.is_stalled(&endpoint_id) && sink.send(Message::Text("1::".into())).await.is_err() {
        reason = "send failed";
    } else {
        loop {
            let next_due = delayed.front().map(|(due, _)| *due);
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
                            if let Some(delay) = state.ack_delay(&endpoint_id) {
                                let now = Instant::now();
                                for reply in replies {
                                    let due = delayed
                                        .back()
                                        .map_or(now + delay, |(last, _)| (*last).max(now + delay));
                                    delayed.push_back((due, reply));
                                }
                                continue;
                            }
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
                _ = sleep_until(next_due.unwrap_or_else(Instant::now)), if next_due.is_some() => {
                    let now = Instant::now();
                    let mut failed = false;
                    while delayed.front().is_some_and(|(due, _)| *due <= now) {
                        let Some((_, reply)) = delayed.pop_front() else { break };
                        if state.is_stalled(&endpoint_id) {
                            continue;
                        }
                        if sink.send(Message::Text(reply.into())).await.is_err() {
                            failed = true;
                            break;
                        }
                    }
                    if failed { reason = "send failed"; break; }
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
                    Some(SocketCommand::Deliver(text)) => {
                        if state.is_stalled(&endpoint_id) {
                            continue;
                        }
                        if sink.send(Message::Text(text.into())).await.is_err() {
                            reason = "send failed";
                            break;
                        }
                        state.stats.message_delivered(&endpoint_id);
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
    tracing::info!(
        endpoint = %endpoint_id,
        socket_id,
        reason,
        acks_dropped = delayed.len(),
        "socket closed"
    );
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
                context.state.stats.request_handled(&context.endpoint_id);
                let response = match EventData::parse(&data) {
                    Ok(event) => handle_event(context, &event),
                    Err(error) => Response::error(400, error.to_string()),
                };
                if let Some(id) = id {
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

/// Answers one event: a Sails request, or a 404 for any other event name.
fn handle_event(context: &mut SocketContext, event: &EventData) -> Response {
    if Method::from_event_name(&event.name).is_none() {
        return Response::error(
            404,
            format!(
                "Unknown event {:?}.",
                event.name.chars().take(40).collect::<String>()
            ),
        );
    }
    match Request::from_event(event) {
        Ok(request) => route(context, &request),
        Err(error) => Response::error(400, error.to_string()),
    }
}

/// The 400 answer to a body that did not validate.
fn invalid(body: ErrorBody) -> Response {
    Response::new(
        400,
        serde_json::to_value(body).unwrap_or_else(|_| json!({"error": "Validation Error."})),
    )
}

/// Parses a request body, or the 400 answer.
fn body<T: DeserializeOwned + respoke_protocol::push::Validate>(
    request: &Request,
) -> Result<T, Response> {
    parse_body(&request.data).map_err(invalid)
}

/// The Sails routes.
fn route(context: &mut SocketContext, request: &Request) -> Response {
    let path = request.path();
    // Group names arrive percent-encoded (respoke.js expands `{id}` with url-template).
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(decode_path_segment)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let result = match (request.method, segments.as_slice()) {
        (Method::Post, ["v1", "connections"]) => Ok(connection(context)),
        (Method::Delete, ["v1", "connections", ..]) => {
            context.state.stats.connection_deleted(&context.endpoint_id);
            Ok(Response::ok(json!({})))
        }
        (Method::Post, ["v1", "presence"]) => body(request).map(|b| set_presence(context, b)),
        (Method::Post, ["v1", "messages"]) => body(request).map(|b| send_message(context, &b)),
        (Method::Post, ["v1", "groups"]) => body(request).map(|b| join(context, &b)),
        (Method::Delete, ["v1", "groups"]) => body(request).map(|b| leave(context, &b)),
        (Method::Post, ["v1", "channels"]) => Ok(create_group(context, request)),
        (Method::Post, ["v1", "channels", group, "publish"]) => {
            body(request).map(|b| publish(context, group, &b))
        }
        (Method::Get, ["v1", "channels", group, "subscribers"]) => Ok(context
            .denied(GroupAction::GetSubscribers, [*group])
            .unwrap_or_else(|| {
                let (members, _) = context
                    .state
                    .route(|hub| (hub.subscribers(group), Vec::new()));
                Response::ok(json!(members))
            })),
        (Method::Get, ["v1", "turn"]) => Ok(Response::ok(turn::credentials(
            context.state.config.turn.as_ref(),
            &context.endpoint_id,
            unix_now(),
        ))),
        (Method::Post, ["v1", "presenceobservers"]) => body(request).map(|b| observe(context, &b)),
        (Method::Delete, ["v1", "presenceobservers"]) => {
            body(request).map(|b| unobserve(context, &b))
        }
        (Method::Post, ["v1", "signaling"]) => body(request).map(|b| signal(context, &b)),
        (
            _,
            ["v1", "groups" | "channels" | "presenceobservers" | "signaling" | "turn" | "call-debugs"
            | "endpoints" | "conferences", ..],
        ) => Ok(Response::ok(json!({}))),
        _ => Ok(Response::error(
            404,
            format!("No route for {} {path}.", request.method),
        )),
    };
    result.unwrap_or_else(|error| error)
}

/// `post /v1/connections`: the socket's connection id and the App-Token's endpoint.
fn connection(context: &SocketContext) -> Response {
    let info = ConnectionInfo {
        id: context.connection_id.clone(),
        endpoint_id: context.endpoint_id.clone(),
    };
    Response::ok(serde_json::to_value(info).unwrap_or_else(|_| json!({})))
}

/// `post /v1/presence {"presence":{"type",...}}`: the connection's presence, pushed to the
/// endpoint's observers.
fn set_presence(context: &SocketContext, body: SetPresence) -> Response {
    let socket = context.socket_id;
    let presence: Presence = body.presence;
    let ((), notified) = context
        .state
        .route(|hub| ((), hub.set_presence(socket, presence)));
    tracing::debug!(endpoint = %context.endpoint_id, notified, "presence");
    Response::ok(json!({}))
}

/// `post /v1/messages`: a `message` event to every socket of `to` (and the sender's other
/// sockets with `ccSelf`). Sending to an endpoint that is offline succeeds and reaches nobody,
/// as on Respoke.
fn send_message(context: &SocketContext, message: &SendMessage) -> Response {
    let socket = context.socket_id;
    let now = unix_now_ms();
    let ((), delivered) = context
        .state
        .route(|hub| ((), hub.send_message(socket, message, now)));
    context.state.stats.message_sent(&context.endpoint_id);
    tracing::debug!(from = %context.endpoint_id, to = %message.to, delivered, "message");
    Response::ok(json!({}))
}

/// `post /v1/groups/ {"groups"}`: join; a `join` event to the members of each group joined.
/// The role must permit `subscribe` on every group, and `create` on those without members;
/// otherwise a 403 and no group is joined.
fn join(context: &SocketContext, list: &GroupList) -> Response {
    let socket = context.socket_id;
    let names = || list.groups.iter().map(String::as_str);
    if let Some(denied) = context.denied(GroupAction::Subscribe, names()) {
        return denied;
    }
    let role = context.role_id.as_deref();
    let state = &context.state;
    let (refused, _) = state.route(|hub| {
        // Checked and joined under the hub's lock: a group cannot empty out in between.
        let refused = names().find(|group| {
            hub.subscribers(group).is_empty()
                && !state.roles.permits(role, group, GroupAction::Create)
        });
        match refused {
            Some(group) => (Some(group.to_owned()), Vec::new()),
            None => (None, hub.join(socket, &list.groups)),
        }
    });
    match refused {
        Some(group) => context
            .denied(GroupAction::Create, [group.as_str()])
            .unwrap_or_else(|| Response::error(403, "Permission denied.")),
        None => Response::ok(json!({})),
    }
}

/// `delete /v1/groups/ {"groups"}`: leave (the role must permit `unsubscribe`); a `leave`
/// event to the remaining members.
fn leave(context: &SocketContext, list: &GroupList) -> Response {
    if let Some(denied) = context.denied(
        GroupAction::Unsubscribe,
        list.groups.iter().map(String::as_str),
    ) {
        return denied;
    }
    let socket = context.socket_id;
    context
        .state
        .route(|hub| ((), hub.leave(socket, &list.groups)));
    Response::ok(json!({}))
}

/// `post /v1/channels/ {"name"}` (respoke.js's `getGroup`): groups exist while they have
/// members, so this only echoes the id (if the role permits `create`).
fn create_group(context: &SocketContext, request: &Request) -> Response {
    match request.data.get("name").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() => context
            .denied(GroupAction::Create, [name])
            .unwrap_or_else(|| Response::ok(json!({"id": name}))),
        _ => invalid(ErrorBody {
            error: respoke_protocol::push::VALIDATION_ERROR.into(),
            validation_errors: Some(json!({"name": "name is required"})),
        }),
    }
}

/// `post /v1/channels/<group>/publish/`: a `pubsub` event to the other members. 404 when the
/// group has no members, 403 when the publishing connection is not one of them.
fn publish(context: &SocketContext, group: &str, body: &Publish) -> Response {
    if let Some(denied) = context.denied(GroupAction::Publish, [group]) {
        return denied;
    }
    let socket = context.socket_id;
    let now = unix_now_ms();
    let (result, delivered) =
        context
            .state
            .route(|hub| match hub.publish(socket, group, &body.message, now) {
                Ok(deliveries) => (Ok(()), deliveries),
                Err(error) => (Err(error), Vec::new()),
            });
    match result {
        Ok(()) => {
            context.state.stats.message_sent(&context.endpoint_id);
            tracing::debug!(from = %context.endpoint_id, group, delivered, "publish");
            Response::ok(json!({}))
        }
        Err(PublishError::UnknownGroup) => {
            Response::error(404, format!("Group {:?} not found.", excerpt(group)))
        }
        Err(PublishError::NotMember) => {
            Response::error(403, format!("Not a member of group {:?}.", excerpt(group)))
        }
    }
}

fn excerpt(text: &str) -> String {
    text.chars().take(64).collect()
}

/// `post /v1/presenceobservers {"endpointList"}`: observe; the reply lists each endpoint's
/// connection presences, and a `presence` event follows the ack for each live connection
/// whose presence is not `unavailable` (see [`crate::respoke::hub`]).
fn observe(context: &SocketContext, list: &PresenceObservers) -> Response {
    let socket = context.socket_id;
    let (reply, _) = context
        .state
        .route(|hub| hub.observe(socket, &list.endpoint_list));
    Response::ok(serde_json::to_value(reply).unwrap_or_else(|_| json!([])))
}

/// `delete /v1/presenceobservers {"endpointList"}`: stop observing.
fn unobserve(context: &SocketContext, list: &PresenceObservers) -> Response {
    let socket = context.socket_id;
    context.state.route(|hub| {
        hub.unobserve(socket, &list.endpoint_list);
        ((), Vec::new())
    });
    Response::ok(json!({}))
}

/// `post /v1/signaling`: a `signal` event to the recipient's sockets, passed through.
fn signal(context: &SocketContext, signal: &SendSignal) -> Response {
    let socket = context.socket_id;
    let now = unix_now_ms();
    context
        .state
        .route(|hub| ((), hub.send_signal(socket, signal, now)));
    Response::ok(json!({}))
}
