//! The routing table of the socket side: live connections, group membership, connection
//! presence and presence observers.
//!
//! Plain data, no IO: every operation returns the [`Delivery`]s it causes, and
//! [`Hub::dispatch`] hands them to the sockets' tasks. [`crate::RespokeState`] keeps the hub
//! under one lock and dispatches while holding it, so every socket sees the events of
//! concurrent operations in one order.
//!
//! Semantics (what respoke.js 1.56.0 expects, see `respoke_protocol::push`):
//!
//! * Apps are isolated: every socket belongs to the app of its App-Token, and endpoints,
//!   groups and observations are per app. A socket reaches, sees and joins only what is in its
//!   own app.
//! * One connection per socket; its id is minted when the socket opens and returned by
//!   `post /v1/connections`.
//! * A message goes to every live connection of `to` (or only `toConnection`); with `ccSelf`
//!   a copy (header `toOriginal`) goes to the sender's other connections.
//! * Membership is per connection. A `join` event goes to every member, the joining
//!   connection included; a `leave` event to the remaining members. Membership ends when the
//!   socket does.
//! * `pubsub` goes to every member connection except the publishing one; only members may
//!   publish.
//! * Each connection has a presence (`unavailable` until it sets one). Observers of an endpoint
//!   get a `presence` event for each change of any of its connections, and `unavailable` for a
//!   connection whose socket ends. Observation is per socket and ends with it.
//! * Starting to observe pushes the presence of each live connection of the endpoint that is
//!   not `unavailable`, and nothing for the others: respoke.js reads an `unavailable` push as
//!   "that connection left" (it drops it from its groups and fires presence listeners), so a
//!   live connection that set no presence yet, or set `unavailable` (as respoke.js does on
//!   every connect), is only listed in the reply.
//! * A `connected` signal (the caller telling the callee which of its connections won the
//!   call) goes to the addressed connection and to every other connection of the callee, so
//!   the losers hang up; every other signal goes to the addressed connection only.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::respoke::outbox::{CloseReason, Outgoing, SocketSender};
use respoke_protocol::push::{
    MembershipEvent, ObservedPresence, Presence, PresenceEvent, PubSubEvent, Subscriber,
    UNAVAILABLE,
};
use respoke_protocol::PushEvent;

mod messaging;

/// A live socket's id (per server run).
pub type SocketId = u64;

/// One event for one socket.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The receiving socket.
    pub socket: SocketId,
    /// What it receives.
    pub event: PushEvent,
}

impl Delivery {
    /// Whether this is a text message (`message` or `pubsub`): counted in `messagesDelivered`.
    pub fn is_message(&self) -> bool {
        matches!(self.event, PushEvent::Message(_) | PushEvent::PubSub(_))
    }
}

/// Why a publish was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishError {
    /// Nobody is in the group.
    UnknownGroup,
    /// The publishing connection is not a member.
    NotMember,
}

/// A live socket as the hub sees it.
#[derive(Debug)]
struct Connection {
    app_id: String,
    endpoint_id: String,
    app_token: String,
    connection_id: String,
    sender: SocketSender,
    /// `None` until the connection sets one: reported as `unavailable`.
    presence: Option<Presence>,
    groups: BTreeSet<String>,
    observing: BTreeSet<String>,
}

impl Connection {
    fn presence(&self) -> Presence {
        self.presence.clone().unwrap_or_else(Presence::unavailable)
    }
}

/// Whether a presence is `{"type": "unavailable"}` (whatever `show` and `status` say).
fn is_unavailable(presence: &Presence) -> bool {
    presence.kind.as_str() == Some(UNAVAILABLE)
}

/// `(appId, name)`: endpoints and groups are per app.
type AppKey = (String, String);

fn key(app_id: &str, name: &str) -> AppKey {
    (app_id.to_owned(), name.to_owned())
}

/// The routing table, with an index for every lookup a request makes (no scan of all
/// sockets on any path).
#[derive(Debug, Default)]
pub struct Hub {
    connections: BTreeMap<SocketId, Connection>,
    /// endpointId -> its sockets, all apps (the dev controls name endpoints only).
    by_endpoint: HashMap<String, BTreeSet<SocketId>>,
    /// App-Token -> its sockets.
    by_app_token: HashMap<String, BTreeSet<SocketId>>,
    /// (app, group) -> member sockets.
    groups: BTreeMap<AppKey, BTreeSet<SocketId>>,
    /// (app, observed endpoint) -> observing sockets.
    observers: HashMap<AppKey, BTreeSet<SocketId>>,
}

fn unindex(index: &mut HashMap<String, BTreeSet<SocketId>>, name: &str, socket: SocketId) {
    if let Some(sockets) = index.get_mut(name) {
        sockets.remove(&socket);
        if sockets.is_empty() {
            index.remove(name);
        }
    }
}

impl Hub {
    /// Adds a live socket of `app_id` with its connection id.
    pub fn register(
        &mut self,
        socket: SocketId,
        app_id: &str,
        endpoint_id: &str,
        app_token: &str,
        connection_id: &str,
        sender: SocketSender,
    ) {
        self.by_endpoint
            .entry(endpoint_id.to_owned())
            .or_default()
            .insert(socket);
        self.by_app_token
            .entry(app_token.to_owned())
            .or_default()
            .insert(socket);
        self.connections.insert(
            socket,
            Connection {
                app_id: app_id.to_owned(),
                endpoint_id: endpoint_id.to_owned(),
                app_token: app_token.to_owned(),
                connection_id: connection_id.to_owned(),
                sender,
                presence: None,
                groups: BTreeSet::new(),
                observing: BTreeSet::new(),
            },
        );
    }

    /// Removes a socket that ended: it leaves its groups (a `leave` to the remaining members),
    /// stops observing, and its observers learn that the connection is `unavailable`.
    /// Returns its endpoint and the deliveries; `None` if it was not registered.
    pub fn unregister(&mut self, socket: SocketId) -> Option<(String, Vec<Delivery>)> {
        let groups: Vec<String> = self
            .connections
            .get(&socket)?
            .groups
            .iter()
            .cloned()
            .collect();
        let mut deliveries = self.leave(socket, &groups);
        let connection = self.connections.remove(&socket)?;
        unindex(&mut self.by_endpoint, &connection.endpoint_id, socket);
        unindex(&mut self.by_app_token, &connection.app_token, socket);
        for endpoint in &connection.observing {
            self.remove_observer(&key(&connection.app_id, endpoint), socket);
        }
        let event = PresenceEvent::new(
            &connection.endpoint_id,
            &connection.connection_id,
            Presence::unavailable(),
        );
        deliveries.extend(self.to_observers(
            &key(&connection.app_id, &connection.endpoint_id),
            PushEvent::Presence(event),
        ));
        Some((connection.endpoint_id, deliveries))
    }

    /// The connection id of a socket.
    pub fn connection_id(&self, socket: SocketId) -> Option<&str> {
        self.connections
            .get(&socket)
            .map(|c| c.connection_id.as_str())
    }

    /// Live sockets now.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// Whether no socket is live.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Asks every socket (or those of one endpoint, in any app) to close; returns how many.
    pub fn close_endpoint(&self, endpoint_id: Option<&str>, reason: CloseReason) -> usize {
        let close = |connection: &Connection| connection.sender.close(reason);
        match endpoint_id {
            None => {
                self.connections.values().for_each(close);
                self.connections.len()
            }
            Some(endpoint_id) => self.close_all(self.by_endpoint.get(endpoint_id), reason),
        }
    }

    /// Asks the sockets of an App-Token to close; returns how many.
    pub fn close_app_token(&self, app_token: &str, reason: CloseReason) -> usize {
        self.close_all(self.by_app_token.get(app_token), reason)
    }

    fn close_all(&self, sockets: Option<&BTreeSet<SocketId>>, reason: CloseReason) -> usize {
        sockets
            .into_iter()
            .flatten()
            .filter_map(|socket| self.connections.get(socket))
            .map(|connection| connection.sender.close(reason))
            .count()
    }

    /// Queues each delivery for its socket; returns how many were queued. A socket that just
    /// ended is skipped; one whose queue is full is told to close (a slow consumer) and skipped.
    pub fn dispatch(&self, deliveries: &[Delivery]) -> usize {
        deliveries
            .iter()
            .filter(|d| {
                let Some(connection) = self.connections.get(&d.socket) else {
                    return false;
                };
                let text = d.event.to_packet().encode();
                let packet = if d.is_message() {
                    Outgoing::Deliver(text)
                } else {
                    Outgoing::Send(text)
                };
                connection.sender.push(packet).is_ok()
            })
            .count()
    }

    /// The sockets of `endpoint_id` in `app_id`.
    fn sockets_of<'a>(
        &'a self,
        app_id: &'a str,
        endpoint_id: &'a str,
    ) -> impl Iterator<Item = SocketId> + 'a {
        self.by_endpoint
            .get(endpoint_id)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |id| self.connections.get(id).is_some_and(|c| c.app_id == app_id))
    }

    /// The app of a socket.
    fn app_of(&self, socket: SocketId) -> Option<&str> {
        self.connections.get(&socket).map(|c| c.app_id.as_str())
    }

    /// Joins `socket` to `groups`. For each group it was not in yet, a `join` event goes to
    /// every member, itself included. Joining again changes nothing.
    pub fn join(&mut self, socket: SocketId, groups: &[String]) -> Vec<Delivery> {
        let mut deliveries = Vec::new();
        let Some(connection) = self.connections.get_mut(&socket) else {
            return deliveries;
        };
        let (app_id, endpoint_id, connection_id) = (
            connection.app_id.clone(),
            connection.endpoint_id.clone(),
            connection.connection_id.clone(),
        );
        let mut joined = Vec::new();
        for group in groups {
            if connection.groups.insert(group.clone()) {
                joined.push(group);
            }
        }
        for group in joined {
            let members = self.groups.entry(key(&app_id, group)).or_default();
            members.insert(socket);
            let event = MembershipEvent::join(group.as_str(), &endpoint_id, &connection_id);
            deliveries.extend(members.iter().map(|member| Delivery {
                socket: *member,
                event: PushEvent::Join(event.clone()),
            }));
        }
        deliveries
    }

    /// Removes `socket` from `groups`; a `leave` event goes to the remaining members of each
    /// group it was in. Leaving a group it is not in changes nothing.
    pub fn leave(&mut self, socket: SocketId, groups: &[String]) -> Vec<Delivery> {
        let mut deliveries = Vec::new();
        let Some(connection) = self.connections.get_mut(&socket) else {
            return deliveries;
        };
        let (app_id, endpoint_id, connection_id) = (
            connection.app_id.clone(),
            connection.endpoint_id.clone(),
            connection.connection_id.clone(),
        );
        let mut left = Vec::new();
        for group in groups {
            if connection.groups.remove(group) {
                left.push(group);
            }
        }
        for group in left {
            let group_key = key(&app_id, group);
            let Some(members) = self.groups.get_mut(&group_key) else {
                continue;
            };
            members.remove(&socket);
            let event = MembershipEvent::leave(group.as_str(), &endpoint_id, &connection_id);
            deliveries.extend(members.iter().map(|member| Delivery {
                socket: *member,
                event: PushEvent::Leave(event.clone()),
            }));
            if members.is_empty() {
                self.groups.remove(&group_key);
            }
        }
        deliveries
    }

    /// `post /v1/channels/<group>/publish/` from `socket`: a `pubsub` event to every other
    /// member connection.
    pub fn publish(
        &self,
        socket: SocketId,
        group: &str,
        message: &str,
        now_ms: u64,
    ) -> Result<Vec<Delivery>, PublishError> {
        let app_id = self.app_of(socket).ok_or(PublishError::NotMember)?;
        let members = self
            .groups
            .get(&key(app_id, group))
            .ok_or(PublishError::UnknownGroup)?;
        if !members.contains(&socket) {
            return Err(PublishError::NotMember);
        }
        let Some(from) = self.connections.get(&socket) else {
            return Err(PublishError::NotMember);
        };
        let event = PubSubEvent::new(
            group,
            &from.endpoint_id,
            &from.connection_id,
            now_ms,
            message,
        );
        Ok(members
            .iter()
            .filter(|member| **member != socket)
            .map(|member| Delivery {
                socket: *member,
                event: PushEvent::PubSub(event.clone()),
            })
            .collect())
    }

    /// The members of `group` in the app of `socket` (none for an unknown group), ordered by
    /// endpoint then connection.
    pub fn subscribers(&self, socket: SocketId, group: &str) -> Vec<Subscriber> {
        let Some(app_id) = self.app_of(socket) else {
            return Vec::new();
        };
        let mut list: Vec<Subscriber> = self
            .groups
            .get(&key(app_id, group))
            .into_iter()
            .flatten()
            .filter_map(|socket| self.connections.get(socket))
            .map(|c| Subscriber {
                endpoint_id: c.endpoint_id.clone(),
                connection_id: c.connection_id.clone(),
            })
            .collect();
        list.sort();
        list
    }

    /// The groups `socket` is in.
    pub fn groups_of(&self, socket: SocketId) -> Vec<String> {
        self.connections
            .get(&socket)
            .map(|c| c.groups.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// `post /v1/presence` from `socket`: its connection's presence, and a `presence` event to
    /// every observer of its endpoint.
    pub fn set_presence(&mut self, socket: SocketId, presence: Presence) -> Vec<Delivery> {
        let Some(connection) = self.connections.get_mut(&socket) else {
            return Vec::new();
        };
        connection.presence = Some(presence.clone());
        let event =
            PresenceEvent::new(&connection.endpoint_id, &connection.connection_id, presence);
        let observed = key(&connection.app_id, &connection.endpoint_id);
        self.to_observers(&observed, PushEvent::Presence(event))
    }

    fn to_observers(&self, observed: &AppKey, event: PushEvent) -> Vec<Delivery> {
        self.observers
            .get(observed)
            .into_iter()
            .flatten()
            .map(|socket| Delivery {
                socket: *socket,
                event: event.clone(),
            })
            .collect()
    }

    fn remove_observer(&mut self, observed: &AppKey, socket: SocketId) {
        if let Some(sockets) = self.observers.get_mut(observed) {
            sockets.remove(&socket);
            if sockets.is_empty() {
                self.observers.remove(observed);
            }
        }
    }

    /// The presence of each live connection of `endpoint_id` in `app_id`.
    pub fn observed(&self, app_id: &str, endpoint_id: &str) -> ObservedPresence {
        ObservedPresence {
            endpoint_id: endpoint_id.to_owned(),
            connection_states: self
                .sockets_of(app_id, endpoint_id)
                .filter_map(|id| self.connections.get(&id))
                .map(|c| (c.connection_id.clone(), c.presence()))
                .collect(),
        }
    }

    /// How many groups `socket` is in, and how many endpoints it observes.
    pub fn memberships(&self, socket: SocketId) -> (usize, usize) {
        self.connections
            .get(&socket)
            .map_or((0, 0), |c| (c.groups.len(), c.observing.len()))
    }

    /// `post /v1/presenceobservers` from `socket`: it observes `endpoints` from now on. Returns
    /// the reply (the current presence of each endpoint named, in order, duplicates removed)
    /// and a `presence` event to `socket` for each live connection of those endpoints whose
    /// presence is not `unavailable` (see the module docs).
    pub fn observe(
        &mut self,
        socket: SocketId,
        endpoints: &[String],
    ) -> (Vec<ObservedPresence>, Vec<Delivery>) {
        let mut reply = Vec::new();
        let mut deliveries = Vec::new();
        let Some(connection) = self.connections.get_mut(&socket) else {
            return (reply, deliveries);
        };
        let app_id = connection.app_id.clone();
        let mut seen = BTreeSet::new();
        let named: Vec<&String> = endpoints.iter().filter(|e| seen.insert(*e)).collect();
        for endpoint in &named {
            connection.observing.insert((*endpoint).clone());
        }
        for endpoint in named {
            self.observers
                .entry(key(&app_id, endpoint))
                .or_default()
                .insert(socket);
            let observed = self.observed(&app_id, endpoint);
            deliveries.extend(
                observed
                    .connection_states
                    .iter()
                    .filter(|(_, presence)| !is_unavailable(presence))
                    .map(|(conn, presence)| Delivery {
                        socket,
                        event: PushEvent::Presence(PresenceEvent::new(
                            endpoint.as_str(),
                            conn.as_str(),
                            presence.clone(),
                        )),
                    }),
            );
            reply.push(observed);
        }
        (reply, deliveries)
    }

    /// `delete /v1/presenceobservers` from `socket`: it stops observing `endpoints`.
    pub fn unobserve(&mut self, socket: SocketId, endpoints: &[String]) {
        let Some(connection) = self.connections.get_mut(&socket) else {
            return;
        };
        let app_id = connection.app_id.clone();
        for endpoint in endpoints {
            connection.observing.remove(endpoint);
        }
        for endpoint in endpoints {
            self.remove_observer(&key(&app_id, endpoint), socket);
        }
    }
}

#[cfg(test)]
mod tests;
