//! Property tests: codecs round-trip, and decoding arbitrary input never panics.

use proptest::prelude::*;
use respoke_protocol::event::EventData;
use respoke_protocol::packet::{decode_payload, encode_payload};
use respoke_protocol::query::{decode_component, encode_component, parse_query};
use respoke_protocol::rest::SessionTokenRequest;
use respoke_protocol::{Handshake, HandshakeQuery, Method, Packet, Request, Response};
use serde_json::Value;

fn endpoint() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[^:]{1,8}"]
}

fn id_and_ack() -> impl Strategy<Value = (Option<u64>, bool)> {
    prop_oneof![
        Just((None, false)),
        (any::<u64>(), any::<bool>()).prop_map(|(id, plus)| (Some(id), plus)),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    let data = ".*";
    prop_oneof![
        endpoint().prop_map(|endpoint| Packet::Disconnect { endpoint }),
        (endpoint(), data).prop_map(|(endpoint, query)| Packet::Connect { endpoint, query }),
        Just(Packet::Heartbeat),
        (id_and_ack(), endpoint(), data).prop_map(|((id, ack_with_data), endpoint, data)| {
            Packet::Message {
                id,
                ack_with_data,
                endpoint,
                data,
            }
        }),
        (id_and_ack(), endpoint(), data).prop_map(|((id, ack_with_data), endpoint, data)| {
            Packet::Json {
                id,
                ack_with_data,
                endpoint,
                data,
            }
        }),
        (id_and_ack(), endpoint(), data).prop_map(|((id, ack_with_data), endpoint, data)| {
            Packet::Event {
                id,
                ack_with_data,
                endpoint,
                data,
            }
        }),
        // Ack args never start with a digit once the `+` is gone, else they would merge with
        // the id: real args are JSON arrays.
        (
            endpoint(),
            any::<u64>(),
            prop_oneof![Just(String::new()), "\\[.*"]
        )
            .prop_map(|(endpoint, ack_id, args)| Packet::Ack {
                endpoint,
                ack_id,
                args
            }),
        (endpoint(), "[^+]*", ".*").prop_map(|(endpoint, reason, advice)| Packet::Error {
            endpoint,
            reason,
            advice
        }),
        Just(Packet::Noop),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".*".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(".{0,6}", json_value(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn packets_round_trip(p in packet()) {
        let text = p.encode();
        let back = Packet::decode(&text);
        // `+` only counts with an id; the encoder drops it otherwise, so compare normalized.
        let expected = match p {
            Packet::Message { id: None, endpoint, data, .. } =>
                Packet::Message { id: None, ack_with_data: false, endpoint, data },
            Packet::Json { id: None, endpoint, data, .. } =>
                Packet::Json { id: None, ack_with_data: false, endpoint, data },
            Packet::Event { id: None, endpoint, data, .. } =>
                Packet::Event { id: None, ack_with_data: false, endpoint, data },
            other => other,
        };
        prop_assert_eq!(back, Ok(expected));
    }

    #[test]
    fn decoding_arbitrary_strings_never_panics(text in ".*") {
        let _ = Packet::decode(&text);
        let _ = decode_payload(&text);
        let _ = Handshake::parse(&text);
        let _ = HandshakeQuery::parse(&text);
        let _ = EventData::parse(&text);
        let _ = Response::parse_ack_args(&text);
        let _ = SessionTokenRequest::parse(None, &text);
        let _ = SessionTokenRequest::parse_form(&text);
        let _ = parse_query(&text);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Packet::decode(&text);
        let _ = decode_payload(&text);
        let _ = Handshake::parse(&text);
        let _ = Response::parse_ack_args(&text);
        if let Ok(Packet::Event { data, .. }) = Packet::decode(&text) {
            if let Ok(event) = EventData::parse(&data) {
                let _ = Request::from_event(&event);
            }
        }
    }

    #[test]
    fn packet_like_strings_never_panic(
        ty in "[0-9x]{0,2}", id in "[0-9+]{0,25}", ep in "[^:]{0,3}", data in ".{0,40}"
    ) {
        let _ = Packet::decode(&format!("{ty}:{id}:{ep}:{data}"));
        let _ = Packet::decode(&format!("{ty}:{id}:{ep}"));
        let _ = Packet::decode(&format!("6:::{id}{data}"));
        let _ = decode_payload(&format!("\u{fffd}{id}\u{fffd}{data}"));
    }

    #[test]
    fn payloads_round_trip(packets in prop::collection::vec(packet(), 1..5)) {
        let frame = encode_payload(&packets);
        let texts = decode_payload(&frame).unwrap();
        prop_assert_eq!(texts.len(), packets.len());
        for (text, p) in texts.iter().zip(&packets) {
            prop_assert_eq!(*text, p.encode());
        }
    }

    #[test]
    fn handshakes_round_trip(
        sid in "[A-Za-z0-9_-]{1,24}",
        hb in proptest::option::of(1u32..),
        close in proptest::option::of(1u32..),
        transports in prop::collection::vec("[a-z-]{1,12}", 0..3),
    ) {
        let h = Handshake { sid, heartbeat_timeout_secs: hb, close_timeout_secs: close, transports };
        prop_assert_eq!(Handshake::parse(&h.to_string()), Ok(h));
    }

    #[test]
    fn handshake_queries_round_trip(token in ".*", sdk in ".*", t in any::<u64>()) {
        let q = HandshakeQuery::new(token, sdk, t);
        prop_assert_eq!(HandshakeQuery::parse(&q.to_query_string()), q);
    }

    #[test]
    fn components_round_trip(text in ".*") {
        prop_assert_eq!(decode_component(&encode_component(&text)), text);
    }

    #[test]
    fn sails_requests_round_trip(
        method in prop_oneof![Just(Method::Get), Just(Method::Post), Just(Method::Put), Just(Method::Delete)],
        url in "/[a-z0-9/]{0,20}",
        data in json_object(),
        headers in prop::collection::btree_map(".{1,8}", ".*", 0..4),
        ack_id in any::<u64>(),
    ) {
        let request = Request { method, url, data, headers: headers.into_iter().collect() };
        let packet = Packet::decode(&request.to_packet(ack_id).encode()).unwrap();
        prop_assert_eq!(packet.id(), Some(ack_id));
        let event = packet.event_data().unwrap().unwrap();
        prop_assert_eq!(Request::from_event(&event).unwrap(), request);
    }

    #[test]
    fn sails_responses_round_trip(status in 100u16..600, body in json_object(), ack_id in any::<u64>()) {
        let response = Response::new(status, body);
        let packet = Packet::decode(&response.to_packet(ack_id, false).encode()).unwrap();
        let Packet::Ack { ack_id: got, args, .. } = packet else { panic!("not an ack") };
        prop_assert_eq!(got, ack_id);
        prop_assert_eq!(Response::parse_ack_args(&args).unwrap(), response.clone());
        // The legacy shape keeps the body.
        let legacy = Response::parse_ack_args(&response.to_ack_args(true)).unwrap();
        prop_assert_eq!(legacy.body, response.body);
    }
}
