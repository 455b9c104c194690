//! What a socket's Sails requests do: the routes of REST over the socket (`post
//! /v1/connections`, messages, groups, presence, signaling, TURN), answered through their acks.
//!
//! Called by the socket task for each frame ([`handle_frame`]); everything a request causes
//! for other sockets goes through the routing hub ([`RespokeState::route`]).

use std::sync::Arc;

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

use crate::respoke::hub::{PublishError, SocketId};
use crate::respoke::roles::GroupAction;
use crate::respoke::session::Answer;
use crate::respoke::state::{unix_now, unix_now_ms, RespokeState};
use crate::respoke::turn;
use crate::untrusted::Untrusted;

/// What the requests of one socket need to know about its client.
pub struct SocketContext {
    /// The server's state (routing hub, roles, limits, stats).
    pub state: Arc<RespokeState>,
    /// The socket's id in the hub.
    pub socket_id: SocketId,
    /// The App-Token's endpoint.
    pub endpoint_id: String,
    /// The socket's connection id.
    pub connection_id: String,
    /// The session's role: what it may do with groups (`None`: everything).
    pub role_id: Option<String>,
    /// The handshake did not ask for Sails 0.10: acks carry the legacy form (the body alone).
    pub legacy: bool,
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

/// Handles one text frame (one packet, or several in 0.9's payload form).
pub fn handle_frame(context: &mut SocketContext, frame: &str) -> Answer {
    let Ok(texts) = decode_payload(frame) else {
        tracing::debug!("undecodable frame ignored");
        return Answer::Nothing;
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
            Packet::Disconnect { .. } => return Answer::Disconnect,
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
        Answer::Nothing
    } else {
        Answer::Replies(replies)
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
