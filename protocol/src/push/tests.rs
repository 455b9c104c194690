//! The bodies' and the pushed events' wire shapes, and their validation.

use super::*;
use crate::event::EventData;
use crate::packet::Packet;
use serde_json::json;

#[test]
fn message_wire_shape() {
    let event = PushEvent::Message(MessageEvent::new("spock", "C1", 1_700_000_000_123, "hi"));
    assert_eq!(
        event.payload(),
        json!({"header": {"type": "message", "from": "spock", "fromConnection": "C1",
                          "timestamp": 1_700_000_000_123_u64}, "body": "hi"})
    );
    assert_eq!(
        event.to_packet().encode(),
        r#"5:::{"name":"message","args":[{"header":{"type":"message","from":"spock","fromConnection":"C1","timestamp":1700000000123},"body":"hi"}]}"#
    );
    let back = PushEvent::from_packet(&event.to_packet()).unwrap().unwrap();
    assert_eq!(back, event);
}

#[test]
fn presence_join_leave_pubsub_shapes() {
    let presence = PresenceEvent::new("kirk", "C2", Presence::new("away"));
    assert_eq!(
        serde_json::to_value(&presence).unwrap(),
        json!({"header": {"from": "kirk", "fromConnection": "C2", "type": "presence",
                          "channel": "presence:kirk"}, "type": "away"})
    );
    // The minimal shape of PROTOCOL.md reads too.
    let minimal: PresenceEvent = serde_json::from_value(
        json!({"header": {"from": "kirk", "fromConnection": "C2"}, "type": {"busy": 1}}),
    )
    .unwrap();
    assert_eq!(minimal.presence, json!({"busy": 1}));
    assert_eq!(minimal.header.kind, None);

    assert_eq!(
        PushEvent::Join(MembershipEvent::join("bridge", "kirk", "C2")).payload(),
        json!({"header": {"type": "join", "channel": "bridge"}, "endpointId": "kirk",
               "connectionId": "C2"})
    );
    let leave = PushEvent::Leave(MembershipEvent::leave("bridge", "kirk", "C2"));
    assert_eq!(leave.name(), "leave");
    assert_eq!(leave.payload()["header"]["type"], "leave");

    assert_eq!(
        PushEvent::PubSub(PubSubEvent::new("bridge", "kirk", "C2", 5, "engage")).payload(),
        json!({"header": {"type": "pubsub", "channel": "bridge", "from": "kirk",
                          "fromConnection": "C2", "timestamp": 5}, "message": "engage"})
    );
}

#[test]
fn unknown_and_malformed_events() {
    let other = EventData::new("ping", vec![json!({})]);
    assert_eq!(PushEvent::from_event_data(&other).unwrap(), None);
    let bad = EventData::new("join", vec![json!({"header": 3})]);
    assert_eq!(
        PushEvent::from_event_data(&bad).unwrap_err().code(),
        "MALFORMED_EVENT"
    );
    assert_eq!(PushEvent::from_packet(&Packet::Heartbeat).unwrap(), None);
    // Lenient timestamps and missing optional fields.
    let message: MessageEvent = serde_json::from_value(
        json!({"header": {"from": "a", "timestamp": "17", "fromConnection": null}}),
    )
    .unwrap();
    assert_eq!(message.header.timestamp, 17);
    assert_eq!(message.header.kind, "message");
    assert_eq!(message.body, "");
}

#[test]
fn request_bodies_as_respoke_js_sends_them() {
    // endpoint.sendMessage({message}) -> TextMessage with ccSelf true, push false.
    let data = json!({"to": "kirk", "ccSelf": true, "requestConnectionReply": false,
                      "push": false, "message": "hi"});
    let m: SendMessage = parse_body(&data).unwrap();
    assert_eq!(m.cc_self, Some(true));
    assert_eq!(m.to_connection, None);
    assert_eq!(serde_json::to_value(&m).unwrap(), data);

    let g: GroupList = parse_body(&json!({"groups": ["a", "b"]})).unwrap();
    assert_eq!(g.groups, ["a", "b"]);

    let p: Publish = parse_body(
        &json!({"to": "g", "requestConnectionReply": false, "push": false,
                           "message": "m"}),
    )
    .unwrap();
    assert_eq!(p, Publish::new("g", "m"));

    // client.setPresence({presence: 'away'}): show/status undefined are left out.
    let s: SetPresence = parse_body(&json!({"presence": {"type": "away"}})).unwrap();
    assert_eq!(s.presence, Presence::new("away"));
    let s: SetPresence =
        parse_body(&json!({"presence": {"type": [1], "status": "on the bridge"}})).unwrap();
    assert_eq!(s.presence.status, Some(json!("on the bridge")));

    let o: PresenceObservers = parse_body(&json!({"endpointList": ["kirk"]})).unwrap();
    assert_eq!(o.endpoint_list, ["kirk"]);

    let sig: SendSignal = parse_body(&json!({"signal": "{}", "to": "kirk",
                                              "toType": "web"}))
    .unwrap();
    assert_eq!(sig.to_type.as_deref(), Some("web"));
}

#[test]
fn validation_errors_name_the_field() {
    let err = parse_body::<SendMessage>(&json!({"to": "", "message": "x"})).unwrap_err();
    assert_eq!(err.error, VALIDATION_ERROR);
    assert!(err.validation_errors.unwrap().get("to").is_some());
    let err = parse_body::<SendMessage>(&json!({"to": "x"})).unwrap_err();
    assert!(err.validation_errors.unwrap().get("body").is_some());
    let err = parse_body::<SendMessage>(&json!({"to": "x", "message": 5})).unwrap_err();
    assert!(err.validation_errors.unwrap().get("body").is_some());
    assert!(parse_body::<GroupList>(&json!({"groups": []})).is_err());
    assert!(parse_body::<GroupList>(&json!({"groups": [""]})).is_err());
    assert!(parse_body::<GroupList>(&json!({"groups": "a"})).is_err());
    let many: Vec<String> = (0..=MAX_GROUPS_PER_REQUEST)
        .map(|n| n.to_string())
        .collect();
    assert!(parse_body::<GroupList>(&json!({ "groups": many })).is_err());
    assert!(parse_body::<GroupList>(&json!({"groups": ["x".repeat(300)]})).is_err());
    assert!(parse_body::<SetPresence>(&json!({"presence": "away"})).is_err());
    assert!(parse_body::<SetPresence>(&json!({"presence": {"type": null}})).is_err());
    assert!(parse_body::<SetPresence>(&json!({})).is_err());
    assert!(parse_body::<PresenceObservers>(&json!({"endpointList": [1]})).is_err());
    assert!(parse_body::<PresenceObservers>(&json!({"endpointList": []})).is_ok());
    assert!(parse_body::<Publish>(&json!(null)).is_err());
    assert!(parse_body::<SendSignal>(&json!({"to": "a", "signal": ""})).is_err());
}

#[test]
fn presence_resolution_follows_respoke_js() {
    let v = |s: &str| json!(s);
    assert_eq!(resolve_presence([]), v("unavailable"));
    assert_eq!(
        resolve_presence(&[v("unavailable"), v("away"), v("available")]),
        v("available")
    );
    assert_eq!(resolve_presence(&[v("xa"), v("chat")]), v("chat"));
    assert_eq!(resolve_presence(&[json!({"x": 1}), v("dnd")]), v("dnd"));
    assert_eq!(resolve_presence(&[json!(3), json!(4)]), json!(3));
    let observed: ObservedPresence = serde_json::from_value(json!({
        "endpointId": "kirk",
        "connectionStates": {"C1": {"type": "away"}, "C2": {"type": "available"}}
    }))
    .unwrap();
    assert_eq!(observed.resolved(), v("available"));
    let empty: ObservedPresence =
        serde_json::from_value(json!({"endpointId": "kirk", "connectionStates": null})).unwrap();
    assert_eq!(empty.resolved(), v("unavailable"));
}

#[test]
fn channel_paths_are_encoded() {
    assert_eq!(publish_path("bridge"), "/v1/channels/bridge/publish/");
    assert_eq!(
        subscribers_path("a b/c@d"),
        "/v1/channels/a%20b%2Fc%40d/subscribers/"
    );
    assert_eq!(
        crate::query::decode_path_segment("a%20b%2Fc%40d+e"),
        "a b/c@d+e"
    );
}
