//! The routing rules, on hubs of a few sockets with real inboxes.

use super::messaging::is_connected_signal;
use super::*;
use respoke_protocol::push::{SendMessage, SendSignal};
use serde_json::json;

fn sender() -> SocketSender {
    crate::respoke::outbox::socket_queue(16, 1 << 20).0
}

fn hub_with(sockets: &[(SocketId, &str)]) -> Hub {
    let mut hub = Hub::default();
    for (id, endpoint) in sockets {
        hub.register(*id, "A", endpoint, "T", &format!("C{id}"), sender());
    }
    hub
}

fn to(deliveries: &[Delivery]) -> Vec<SocketId> {
    deliveries.iter().map(|d| d.socket).collect()
}

#[test]
fn messages_reach_every_connection_and_cc_self_copies() {
    let hub = hub_with(&[
        (1, "spock"),
        (2, "kirk"),
        (3, "kirk"),
        (4, "spock"),
        (5, "uhura"),
    ]);
    let mut message = SendMessage::new("kirk", "hi");
    assert_eq!(to(&hub.send_message(1, &message, 7)), [2, 3]);
    message.cc_self = Some(true);
    let deliveries = hub.send_message(1, &message, 7);
    assert_eq!(to(&deliveries), [2, 3, 4]);
    let PushEvent::Message(copy) = &deliveries[2].event else {
        panic!()
    };
    assert_eq!(copy.header.to_original.as_deref(), Some("kirk"));
    assert_eq!(copy.header.from_connection, "C1");
    message.to_connection = Some("C3".into());
    message.cc_self = None;
    assert_eq!(to(&hub.send_message(1, &message, 7)), [3]);
    // To oneself: every own connection, the sending one included, no duplicate copies.
    let mut selfish = SendMessage::new("spock", "me");
    selfish.cc_self = Some(true);
    assert_eq!(to(&hub.send_message(1, &selfish, 7)), [1, 4]);
    assert!(hub
        .send_message(1, &SendMessage::new("nobody", "x"), 7)
        .is_empty());
}

#[test]
fn connected_signals_reach_every_connection_of_the_callee() {
    let hub = hub_with(&[(1, "caller"), (2, "callee"), (3, "callee"), (4, "caller")]);
    let signal = |kind: &str, to_connection: Option<&str>| SendSignal {
        to: "callee".into(),
        signal: json!({"signalType": kind, "sessionId": "S", "connectionId": "C3"}).to_string(),
        to_connection: to_connection.map(str::to_owned),
        to_type: Some("web".into()),
        cc_self: None,
    };
    // Offers go to every connection; answers' follow-ups only to the addressed one.
    assert_eq!(to(&hub.send_signal(1, &signal("offer", None), 5)), [2, 3]);
    assert_eq!(
        to(&hub.send_signal(1, &signal("iceCandidates", Some("C3")), 5)),
        [3]
    );
    // `connected` names the winner: it and the losers get it, the caller's own don't.
    let deliveries = hub.send_signal(1, &signal("connected", Some("C3")), 5);
    assert_eq!(to(&deliveries), [3, 2]);
    for delivery in &deliveries {
        let payload = delivery.event.payload();
        assert_eq!(payload["header"]["fromConnection"], "C1");
        assert!(payload["header"].get("toOriginal").is_none());
    }
    // `bye` with ccSelf: the addressed connection plus the sender's other connections.
    let mut bye = signal("bye", Some("C3"));
    bye.cc_self = Some(true);
    assert_eq!(to(&hub.send_signal(1, &bye, 5)), [3, 4]);
    // A signal text that is not JSON is passed through to the addressed connection only.
    let mut garbage = signal("connected", Some("C2"));
    garbage.signal = "{not json".into();
    assert_eq!(to(&hub.send_signal(1, &garbage, 5)), [2]);
    assert!(is_connected_signal(r#"{"signalType":"connected"}"#));
    assert!(!is_connected_signal(r#"{"signalType":"answer"}"#));
    assert!(!is_connected_signal(r#"["connected"]"#));
    assert!(!is_connected_signal(r#"{"signalType":7}"#));
}

#[test]
fn join_leave_publish_and_membership_end() {
    let mut hub = hub_with(&[(1, "a"), (2, "b"), (3, "b")]);
    let g = vec!["bridge".to_owned()];
    assert_eq!(to(&hub.join(1, &g)), [1]);
    assert!(hub.join(1, &g).is_empty(), "joining again is silent");
    let deliveries = hub.join(2, &g);
    assert_eq!(to(&deliveries), [1, 2]);
    assert_eq!(
        deliveries[0].event.payload(),
        json!({"header": {"type": "join", "channel": "bridge"}, "endpointId": "b",
               "connectionId": "C2"})
    );
    hub.join(3, &g);
    assert_eq!(hub.subscribers(1, "bridge").len(), 3);
    assert_eq!(to(&hub.publish(2, "bridge", "m", 1).unwrap()), [1, 3]);
    assert_eq!(
        hub.publish(2, "nowhere", "m", 1),
        Err(PublishError::UnknownGroup)
    );
    assert_eq!(to(&hub.leave(3, &g)), [1, 2]);
    assert_eq!(
        hub.publish(3, "bridge", "m", 1),
        Err(PublishError::NotMember)
    );
    assert!(hub.leave(3, &g).is_empty(), "leaving again is silent");
    // A socket that ends leaves its groups.
    let (endpoint, deliveries) = hub.unregister(1).unwrap();
    assert_eq!(endpoint, "a");
    assert_eq!(to(&deliveries), [2]);
    assert!(matches!(deliveries[0].event, PushEvent::Leave(_)));
    hub.unregister(2);
    assert!(hub.subscribers(3, "bridge").is_empty());
    assert!(hub.groups.is_empty(), "empty groups are forgotten");
    assert!(hub.unregister(2).is_none());
}

#[test]
fn presence_reaches_observers_until_the_last_connection_ends() {
    let mut hub = hub_with(&[(1, "watcher"), (2, "kirk"), (3, "kirk")]);
    hub.set_presence(2, Presence::new("away"));
    let (reply, initial) = hub.observe(1, &["kirk".into(), "nobody".into(), "kirk".into()]);
    assert_eq!(reply.len(), 2);
    assert_eq!(reply[0].connection_states.len(), 2);
    assert_eq!(reply[0].resolved(), json!("away"));
    assert!(reply[1].connection_states.is_empty());
    assert_eq!(reply[1].resolved(), json!("unavailable"));
    // Only the connection with a presence is pushed; kirk's other one (none set yet) is
    // listed in the reply but not pushed as `unavailable`.
    assert_eq!(to(&initial), [1]);
    assert_eq!(initial[0].event.payload()["header"]["fromConnection"], "C2");
    assert_eq!(initial[0].event.payload()["type"], "away");
    // Set to `unavailable` explicitly (respoke.js does on connect): not pushed either.
    hub.set_presence(2, Presence::unavailable());
    let (reply, initial) = hub.observe(1, &["kirk".into()]);
    assert_eq!(reply[0].connection_states.len(), 2);
    assert!(initial.is_empty());
    hub.set_presence(2, Presence::new("away"));
    let changed = hub.set_presence(3, Presence::new("available"));
    assert_eq!(to(&changed), [1]);
    assert_eq!(changed[0].event.payload()["type"], "available");
    assert_eq!(changed[0].event.payload()["header"]["fromConnection"], "C3");
    let (_, gone) = hub.unregister(3).unwrap();
    assert_eq!(gone[0].event.payload()["type"], "unavailable");
    let (_, gone) = hub.unregister(2).unwrap();
    assert_eq!(to(&gone), [1]);
    assert_eq!(hub.observed("A", "kirk").resolved(), json!("unavailable"));
    hub.unobserve(1, &["kirk".into()]);
    hub.register(4, "A", "kirk", "T", "C4", sender());
    assert!(hub.set_presence(4, Presence::new("available")).is_empty());
    // The observer's own end removes its registrations.
    hub.observe(1, &["kirk".into()]);
    hub.unregister(1);
    assert!(hub.observers.is_empty());
}

#[test]
fn apps_are_isolated() {
    let mut hub = Hub::default();
    hub.register(1, "A", "spock", "T1", "C1", sender());
    hub.register(2, "B", "kirk", "T2", "C2", sender());
    hub.register(3, "B", "spock", "T3", "C3", sender());
    // Messages reach only the recipient's sockets in the sender's app.
    assert!(hub
        .send_message(1, &SendMessage::new("kirk", "x"), 1)
        .is_empty());
    assert_eq!(
        to(&hub.send_message(2, &SendMessage::new("spock", "x"), 1)),
        [3]
    );
    // Groups of the same name are different groups in different apps.
    let g = vec!["bridge".to_owned()];
    assert_eq!(to(&hub.join(2, &g)), [2]);
    assert_eq!(to(&hub.join(1, &g)), [1]);
    assert_eq!(hub.subscribers(1, "bridge").len(), 1);
    assert!(hub.publish(1, "bridge", "m", 1).unwrap().is_empty());
    // Presence: observing "kirk" from app A sees nothing of B's kirk.
    let (reply, initial) = hub.observe(1, &["kirk".into()]);
    assert!(reply[0].connection_states.is_empty() && initial.is_empty());
    assert!(hub.set_presence(2, Presence::new("available")).is_empty());
    // The dev controls still reach an endpoint in every app.
    assert_eq!(hub.close_endpoint(Some("spock"), CloseReason::Dropped), 2);
    assert_eq!(hub.close_app_token("T2", CloseReason::SessionEnded), 1);
}
