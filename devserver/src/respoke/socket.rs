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
use futures_util::stream::SplitSink;
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
use tokio::sync::{mpsc, oneshot};
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

use crate::respoke::hub::{PublishError, SocketId};
use crate::respoke::outbox::{Budget, CloseReason, Outgoing, SocketReceiver};
use crate::respoke::roles::GroupAction;
use crate::respoke::state::{unix_now, unix_now_ms, PendingSocket, RespokeState};
use crate::respoke::turn;
use crate::untrusted::Untrusted;

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

/// How long a closing socket's writer may take to write what is left (`0::`, the close
/// frame, and on a graceful close the packets still queued) before it is abandoned.
const FINISH_GRACE: Duration = Duration::from_secs(1);

/// How the writer ends.
#[derive(Debug)]
struct Finish {
    /// Write the packets still queued first (not for a slow consumer: it does not read).
    drain: bool,
    /// The last packet (`0::`), unless the client closed first.
    last: Option<String>,
}

/// The socket loop's side of the writer: packets to write, reserved against the socket's
/// budget (shared with the hub's inbox), never awaited.
struct Outbox {
    writer: mpsc::UnboundedSender<Outgoing>,
    budget: Arc<Budget>,
}

impl Outbox {
    /// Queues one of the loop's own packets (ack, heartbeat, `1::`); false when the budget is
    /// spent (the client is a slow consumer).
    fn push(&self, packet: Outgoing) -> bool {
        if !self.budget.try_reserve(packet.text().len()) {
            return false;
        }
        self.forward(packet);
        true
    }

    /// Queues a packet whose room is already reserved.
    fn forward(&self, packet: Outgoing) {
        let size = packet.text().len();
        if self.writer.send(packet).is_err() {
            self.budget.release(size);
        }
    }
}

/// Runs one socket until it closes, for whatever reason.
///
/// Two tasks: this loop reads frames, answers them, runs the heartbeat, the expiry and the
/// dev controls, and never waits on a write; a writer task owns the sink. Everything to write
/// goes through one queue bounded by the socket's [`Budget`] (packets and bytes, shared with
/// the inbox the hub fills): a client that does not read fills it and is disconnected as a
/// slow consumer, and its heartbeat timeout, `/dev/drop` and session end act on time however
/// stuck its writes are.
pub async fn run_socket(state: Arc<RespokeState>, socket: WebSocket, pending: PendingSocket) {
    let endpoint_id = pending.session.endpoint_id.clone();
    let registered = state.register_socket(&pending.session, &pending.app_token);
    let socket_id = registered.id;
    let SocketReceiver {
        queue: mut inbox,
        close: mut close_requests,
        budget,
    } = registered.inbox;
    tracing::info!(endpoint = %Untrusted(&endpoint_id), socket_id, "socket opened");
    let mut context = SocketContext {
        state: state.clone(),
        socket_id,
        endpoint_id: endpoint_id.clone(),
        connection_id: registered.connection_id,
        role_id: pending.session.role_id.clone(),
        legacy: pending.legacy,
    };
    let (sink, mut stream) = socket.split();
    let (writer_tx, writer_rx) = mpsc::unbounded_channel();
    let (finish_tx, finish_rx) = oneshot::channel();
    let mut writer = tokio::spawn(write_loop(
        sink,
        writer_rx,
        finish_rx,
        budget.clone(),
        state.clone(),
        endpoint_id.clone(),
    ));
    let outbox = Outbox {
        writer: writer_tx,
        budget: budget.clone(),
    };

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
    // Acks held back by `/dev/ack-delay`, due in order (reserved against the budget).
    let mut delayed: VecDeque<(Instant, String)> = VecDeque::new();

    let slow = "slow consumer: outgoing queue full";
    let mut reason = "client closed";
    let mut farewell = true;
    let mut drain = true;
    if !state.is_stalled(&endpoint_id) && !outbox.push(Outgoing::Send("1::".into())) {
        reason = slow;
    } else {
        loop {
            let next_due = delayed.front().map(|(due, _)| *due);
            // Backpressure: while half the budget waits to be written, the client's own
            // requests are not read (TCP slows it down); others' events still count in full.
            let paused = budget.half_full();
            tokio::select! {
                _ = budget.released(), if paused => {}
                incoming = stream.next(), if !paused => {
                    let text = match incoming {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | None => { farewell = false; break }
                        Some(Ok(_)) => continue,
                        Some(Err(error)) => {
                            farewell = false;
                            reason = if is_too_big(&error) {
                                state.stats.count(|s| &mut s.oversized_messages);
                                "message over --max-socket-message-bytes"
                            } else {
                                "receive failed"
                            };
                            break;
                        }
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
                                let mut full = false;
                                for reply in replies {
                                    if !budget.try_reserve(reply.len()) {
                                        full = true;
                                        break;
                                    }
                                    let due = delayed
                                        .back()
                                        .map_or(now + delay, |(last, _)| (*last).max(now + delay));
                                    delayed.push_back((due, reply));
                                }
                                if full { reason = slow; drain = false; break; }
                                continue;
                            }
                            if !replies.into_iter().all(|reply| outbox.push(Outgoing::Send(reply))) {
                                reason = slow;
                                drain = false;
                                break;
                            }
                        }
                        Next::Close => { reason = "client sent 0::"; farewell = false; break; }
                    }
                }
                _ = sleep_until(next_due.unwrap_or_else(Instant::now)), if next_due.is_some() => {
                    let now = Instant::now();
                    while delayed.front().is_some_and(|(due, _)| *due <= now) {
                        let Some((_, reply)) = delayed.pop_front() else { break };
                        if state.is_stalled(&endpoint_id) {
                            budget.release(reply.len());
                        } else {
                            outbox.forward(Outgoing::Send(reply));
                        }
                    }
                }
                packet = inbox.recv() => match packet {
                    Some(packet) if state.is_stalled(&endpoint_id) => {
                        budget.release(packet.text().len());
                    }
                    Some(packet) => outbox.forward(packet),
                    None => { reason = "dropped by the server"; break; }
                },
                changed = close_requests.changed() => {
                    let requested = *close_requests.borrow();
                    match (changed, requested) {
                        (Ok(()), Some(CloseReason::SlowConsumer)) => { reason = slow; drain = false; }
                        (Ok(()), Some(close)) => reason = close.as_str(),
                        (Ok(()), None) => continue,
                        (Err(_), _) => reason = "dropped by the server",
                    }
                    break;
                }
                _ = heartbeat.tick() => {
                    if state.is_stalled(&endpoint_id) {
                        last_heard = Instant::now();
                        continue;
                    }
                    if last_heard.elapsed() > silence_limit {
                        reason = "heartbeat timeout";
                        break;
                    }
                    if !outbox.push(Outgoing::Send(Packet::heartbeat().encode())) {
                        reason = slow;
                        drain = false;
                        break;
                    }
                }
                _ = &mut expiry => {
                    reason = "App-Token expired";
                    break;
                }
            }
        }
    }
    // Gone from routing, counters and `/dev/drop` at once, however long the writer takes.
    state.unregister_socket(socket_id);
    if reason == slow {
        state.stats.count(|s| &mut s.slow_consumers_dropped);
        drain = false;
    }
    // Logged now: the writer may take up to its grace period to give up.
    if reason == slow || reason.starts_with("message over") {
        tracing::warn!(
            endpoint = %Untrusted(&endpoint_id),
            socket_id,
            reason,
            queued_bytes = budget.bytes(),
            "socket disconnected"
        );
    } else {
        tracing::info!(
            endpoint = %Untrusted(&endpoint_id),
            socket_id,
            reason,
            acks_dropped = delayed.len(),
            "socket closed"
        );
    }
    let _ = finish_tx.send(Finish {
        drain,
        last: farewell.then(|| Packet::disconnect().encode()),
    });
    if tokio::time::timeout(FINISH_GRACE * 3, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// Whether a receive error is tungstenite's `Capacity` error (a frame or message over the
/// configured size), found by its message: tungstenite is not a direct dependency.
fn is_too_big(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.to_string().contains("Space limit exceeded") {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The writer: owns the sink, writes what the loop queues, releases each packet's room once
/// written, counts delivered messages, and ends as [`Finish`] says, within [`FINISH_GRACE`].
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::UnboundedReceiver<Outgoing>,
    mut finish: oneshot::Receiver<Finish>,
    budget: Arc<Budget>,
    state: Arc<RespokeState>,
    endpoint_id: String,
) {
    let mut finishing: Option<Finish> = None;
    while finishing.is_none() {
        tokio::select! {
            biased;
            done = &mut finish => finishing = Some(done.unwrap_or(Finish { drain: false, last: None })),
            packet = queue.recv() => {
                let Some(packet) = packet else { return };
                let size = packet.text().len();
                let delivered = matches!(packet, Outgoing::Deliver(_));
                let write = sink.send(Message::Text(packet.text().to_owned().into()));
                tokio::pin!(write);
                let written = tokio::select! {
                    biased;
                    result = &mut write => result.is_ok(),
                    done = &mut finish => {
                        // Closing while a write is stuck: give it the grace period, no more.
                        finishing = Some(done.unwrap_or(Finish { drain: false, last: None }));
                        matches!(tokio::time::timeout(FINISH_GRACE, &mut write).await, Ok(Ok(())))
                    }
                };
                budget.release(size);
                if !written {
                    // The peer is gone (or never read): the reading side notices; nothing
                    // more can be written.
                    return;
                }
                if delivered {
                    state.stats.message_delivered(&endpoint_id);
                }
            }
        }
    }
    let Some(Finish { drain, last }) = finishing else {
        return;
    };
    let _ = tokio::time::timeout(FINISH_GRACE, async {
        if drain {
            while let Ok(packet) = queue.try_recv() {
                budget.release(packet.text().len());
                if sink
                    .send(Message::Text(packet.text().to_owned().into()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        if let Some(last) = last {
            let _ = sink.send(Message::Text(last.into())).await;
        }
        let _ = sink.send(Message::Close(None)).await;
    })
    .await;
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
                let response = if data.len() > MAX_EVENT_BYTES {
                    // respoke.js's own bound, checked before the JSON is parsed.
                    Response::error(
                        413,
                        format!(
                            "Request body exceeds maximum size of {MAX_REQUEST_BODY_BYTES} bytes."
                        ),
                    )
                } else {
                    match EventData::parse(&data) {
                        Ok(event) => handle_event(context, &event),
                        Err(error) => Response::error(400, error.to_string()),
                    }
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

/// respoke.js's own bound on a request body (`bodySizeLimit`, "enforced server side"): text
/// messages, publications and signals fit in it.
pub const MAX_REQUEST_BODY_BYTES: usize = 20_000;

/// The bound on one event packet's data: the body plus room for its envelope (url, headers,
/// JSON string escaping). Checked before the JSON is parsed.
pub const MAX_EVENT_BYTES: usize = 2 * MAX_REQUEST_BODY_BYTES + 4 * 1024;

/// A 400 when `value` is longer than the id bound.
fn too_long(context: &SocketContext, field: &str, value: Option<&str>) -> Option<Response> {
    let max = context.state.settings.limits.max_id_bytes;
    value.filter(|v| v.len() > max).map(|_| {
        invalid(ErrorBody {
            error: respoke_protocol::push::VALIDATION_ERROR.into(),
            validation_errors: Some(
                json!({ field: format!("{field} is longer than {max} bytes") }),
            ),
        })
    })
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
                    .route(|hub| (hub.subscribers(context.socket_id, group), Vec::new()));
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
    tracing::debug!(endpoint = %Untrusted(&context.endpoint_id), notified, "presence");
    Response::ok(json!({}))
}

/// `post /v1/messages`: a `message` event to every socket of `to` (and the sender's other
/// sockets with `ccSelf`). Sending to an endpoint that is offline succeeds and reaches nobody,
/// as on Respoke.
fn send_message(context: &SocketContext, message: &SendMessage) -> Response {
    if let Some(refusal) = too_long(context, "toConnection", message.to_connection.as_deref()) {
        return refusal;
    }
    let socket = context.socket_id;
    let now = unix_now_ms();
    let ((), delivered) = context
        .state
        .route(|hub| ((), hub.send_message(socket, message, now)));
    context.state.stats.message_sent(&context.endpoint_id);
    tracing::debug!(
        from = %Untrusted(&context.endpoint_id),
        to = %Untrusted(&message.to),
        delivered,
        "message"
    );
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
    let max = context.state.settings.limits.max_groups_per_connection;
    let role = context.role_id.as_deref();
    let state = &context.state;
    let (outcome, _) = state.route(|hub| {
        let (groups, _) = hub.memberships(socket);
        if groups.saturating_add(list.groups.len()) > max {
            return (Err(None), Vec::new());
        }
        // Checked and joined under the hub's lock: a group cannot empty out in between.
        let refused = names().find(|group| {
            hub.subscribers(socket, group).is_empty()
                && !state.roles.permits(role, group, GroupAction::Create)
        });
        match refused {
            Some(group) => (Err(Some(group.to_owned())), Vec::new()),
            None => (Ok(()), hub.join(socket, &list.groups)),
        }
    });
    match outcome {
        Ok(()) => Response::ok(json!({})),
        Err(Some(group)) => context
            .denied(GroupAction::Create, [group.as_str()])
            .unwrap_or_else(|| Response::error(403, "Permission denied.")),
        Err(None) => Response::error(
            400,
            format!("A connection may be in at most {max} groups (--max-groups-per-connection)."),
        ),
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
    if let Some(refusal) = too_long(context, "group", Some(group)) {
        return refusal;
    }
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
            tracing::debug!(
                from = %Untrusted(&context.endpoint_id),
                group = %Untrusted(group),
                delivered,
                "publish"
            );
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
    let max = context.state.settings.limits.max_groups_per_connection;
    let (reply, _) = context.state.route(|hub| {
        let (_, observing) = hub.memberships(socket);
        if observing.saturating_add(list.endpoint_list.len()) > max {
            return (None, Vec::new());
        }
        let (reply, deliveries) = hub.observe(socket, &list.endpoint_list);
        (Some(reply), deliveries)
    });
    match reply {
        Some(reply) => Response::ok(serde_json::to_value(reply).unwrap_or_else(|_| json!([]))),
        None => Response::error(
            400,
            format!(
                "A connection may observe at most {max} endpoints (--max-groups-per-connection)."
            ),
        ),
    }
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
    if let Some(refusal) = too_long(context, "toConnection", signal.to_connection.as_deref()) {
        return refusal;
    }
    let socket = context.socket_id;
    let now = unix_now_ms();
    context
        .state
        .route(|hub| ((), hub.send_signal(socket, signal, now)));
    Response::ok(json!({}))
}
