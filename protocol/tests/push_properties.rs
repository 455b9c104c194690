//! Property tests of the messaging shapes: pushed events and request bodies round-trip through
//! their wire text, and reading arbitrary JSON never panics.

use proptest::prelude::*;
use respoke_protocol::event::EventData;
use respoke_protocol::push::{
    parse_body, publish_path, subscribers_path, GroupList, MembershipEvent, MessageEvent,
    ObservedPresence, Presence, PresenceEvent, PresenceObservers, PubSubEvent, Publish,
    SendMessage, SendSignal, SetPresence, SignalEvent, SignalHeader, Subscriber,
};
use respoke_protocol::query::decode_path_segment;
use respoke_protocol::{Packet, PushEvent, Request, Response};
use serde_json::Value;

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".*".prop_map(Value::String),
    ]
}

/// Any JSON without floats (which need not round-trip bit for bit) and not `null` at the top.
fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(prop_oneof![Just(Value::Null), inner.clone()], 0..4)
                .prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn presence() -> impl Strategy<Value = Presence> {
    (
        json_value(),
        proptest::option::of(json_value()),
        proptest::option::of(json_value()),
    )
        .prop_map(|(kind, show, status)| Presence { kind, show, status })
}

fn push_event() -> impl Strategy<Value = PushEvent> {
    let id = ".{0,12}";
    prop_oneof![
        (id, id, any::<u64>(), ".*", proptest::option::of(id)).prop_map(
            |(from, conn, ts, body, to_original)| {
                let mut event = MessageEvent::new(from, conn, ts, body);
                event.header.to_original = to_original;
                PushEvent::Message(event)
            }
        ),
        (id, id, presence())
            .prop_map(|(from, conn, p)| PushEvent::Presence(PresenceEvent::new(from, conn, p))),
        (id, id, id).prop_map(|(g, e, c)| PushEvent::Join(MembershipEvent::join(g, e, c))),
        (id, id, id).prop_map(|(g, e, c)| PushEvent::Leave(MembershipEvent::leave(g, e, c))),
        (id, id, id, any::<u64>(), ".*").prop_map(|(g, from, conn, ts, message)| {
            PushEvent::PubSub(PubSubEvent::new(g, from, conn, ts, message))
        }),
        (
            id,
            proptest::option::of(id),
            id,
            any::<u64>(),
            proptest::option::of(id),
            ".*"
        )
            .prop_map(|(from, from_type, conn, timestamp, to_original, body)| {
                PushEvent::Signal(SignalEvent {
                    header: SignalHeader {
                        from,
                        from_type,
                        from_connection: conn,
                        timestamp,
                        to_original,
                    },
                    body,
                })
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn push_events_round_trip_through_packets(event in push_event()) {
        let text = event.to_packet().encode();
        let packet = Packet::decode(&text).unwrap();
        prop_assert_eq!(packet.id(), None);
        prop_assert_eq!(PushEvent::from_packet(&packet).unwrap(), Some(event.clone()));
        // The sorted-keys form reads the same.
        prop_assert_eq!(PushEvent::from_event_data(&event.to_event_data()).unwrap(), Some(event));
    }

    #[test]
    fn reading_arbitrary_events_never_panics(
        name in prop_oneof![
            prop::sample::select(vec!["message", "presence", "join", "leave", "pubsub", "signal"])
                .prop_map(str::to_owned),
            ".{0,8}",
        ],
        args in prop::collection::vec(prop_oneof![Just(Value::Null), json_value()], 0..3),
    ) {
        let _ = PushEvent::from_event_data(&EventData::new(name, args));
    }

    #[test]
    fn parsing_arbitrary_bodies_never_panics(data in prop_oneof![Just(Value::Null), json_value()]) {
        let _ = parse_body::<SendMessage>(&data);
        let _ = parse_body::<GroupList>(&data);
        let _ = parse_body::<Publish>(&data);
        let _ = parse_body::<SetPresence>(&data);
        let _ = parse_body::<PresenceObservers>(&data);
        let _ = parse_body::<SendSignal>(&data);
        let _ = serde_json::from_value::<Vec<Subscriber>>(data.clone());
        let _ = serde_json::from_value::<Vec<ObservedPresence>>(data);
    }

    #[test]
    fn message_requests_round_trip_through_sails(
        to in "[^\\s]{1,20}", message in ".*", cc_self in proptest::option::of(any::<bool>()),
        to_connection in proptest::option::of("[A-F0-9-]{1,36}"), ack_id in any::<u64>(),
    ) {
        let body = SendMessage { cc_self, to_connection, ..SendMessage::new(to, message) };
        let request = Request::new(respoke_protocol::Method::Post, "/v1/messages")
            .with_data(serde_json::to_value(&body).unwrap());
        let packet = Packet::decode(&request.to_packet(ack_id).encode()).unwrap();
        let back = Request::from_event(&packet.event_data().unwrap().unwrap()).unwrap();
        prop_assert_eq!(parse_body::<SendMessage>(&back.data).unwrap(), body);
    }

    #[test]
    fn group_and_observer_bodies_round_trip(
        groups in prop::collection::vec("[^\\s]{1,30}", 1..10),
        presence in presence(),
    ) {
        let list = GroupList { groups: groups.clone() };
        prop_assert_eq!(parse_body::<GroupList>(&serde_json::to_value(&list).unwrap()).unwrap(), list);
        let observers = PresenceObservers { endpoint_list: groups.clone() };
        prop_assert_eq!(
            parse_body::<PresenceObservers>(&serde_json::to_value(&observers).unwrap()).unwrap(),
            observers
        );
        let set = SetPresence { presence: presence.clone() };
        prop_assert_eq!(parse_body::<SetPresence>(&serde_json::to_value(&set).unwrap()).unwrap(), set);
        // Reply bodies inside a Sails response.
        let observed: Vec<ObservedPresence> = groups
            .iter()
            .map(|endpoint_id| ObservedPresence {
                endpoint_id: endpoint_id.clone(),
                connection_states: [("C".to_owned(), presence.clone())].into_iter().collect(),
            })
            .collect();
        let response = Response::ok(serde_json::to_value(&observed).unwrap());
        let back = Response::parse_ack_args(&response.to_ack_args(false)).unwrap();
        prop_assert_eq!(serde_json::from_value::<Vec<ObservedPresence>>(back.body).unwrap(), observed);
    }

    #[test]
    fn channel_paths_round_trip(group in ".{1,30}") {
        for path in [publish_path(&group), subscribers_path(&group)] {
            let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
            prop_assert_eq!(segments.len(), 4);
            prop_assert_eq!(decode_path_segment(segments[2]), group.clone());
        }
    }
}
