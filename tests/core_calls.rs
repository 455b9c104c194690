//! Requests over the socket, the queue while disconnected, restore after reconnect, and
//! pushed events, in virtual time.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use respoke_client::connection::{CallId, Event, Method, State};
use respoke_protocol::event::EventData;
use respoke_protocol::packet::Packet;
use respoke_protocol::sails::Request;
use serde_json::{json, Value};
use support::*;

fn connected(seed: u64) -> World {
    let mut world = World::new(url_config(), seed);
    world.start();
    world.connect_fully();
    world
}

/// The requests sent on the current socket since frame `from`, decoded.
fn sent_requests(world: &World, from: usize) -> Vec<(u64, Request)> {
    world.sent[&world.socket()][from..]
        .iter()
        .filter_map(|text| match Packet::decode(text) {
            Ok(Packet::Event {
                id: Some(id), data, ..
            }) => {
                let event = EventData::parse(&data).ok()?;
                Some((id, Request::from_event(&event).ok()?))
            }
            _ => None,
        })
        .collect()
}

fn frames(world: &World) -> usize {
    world.sent[&world.socket()].len()
}

fn ack(world: &mut World, id: u64, status: u16, body: Value) {
    let args = json!([{ "body": body, "headers": {}, "statusCode": status }]);
    world.frame(&format!("6:::{id}+{args}"));
}

fn replies(world: &World, id: CallId) -> Vec<Result<Value, (String, Option<u16>)>> {
    world
        .events
        .iter()
        .filter_map(|(_, event)| match event {
            Event::Reply { id: reply, result } if *reply == id => Some(
                result
                    .clone()
                    .map_err(|e| (e.code.as_str().to_owned(), e.status)),
            ),
            _ => None,
        })
        .collect()
}

fn error_code(world: &World, id: CallId) -> String {
    match replies(world, id).as_slice() {
        [Err((code, _))] => code.clone(),
        other => panic!("expected one error reply, got {other:?}"),
    }
}

#[test]
fn request_is_answered_through_its_ack() {
    let mut world = connected(1);
    let from = frames(&world);
    let id = world.step_call(AppCall::Request {
        method: Method::Get,
        url: "/v1/endpoints/kirk".into(),
        data: json!({}),
    });
    let sent = sent_requests(&world, from);
    assert_eq!(sent.len(), 1);
    let (ack_id, request) = &sent[0];
    assert_eq!(request.url, "/v1/endpoints/kirk");
    assert!(request.header("App-Token").is_some());
    ack(&mut world, *ack_id, 200, json!({"id": "kirk"}));
    assert_eq!(replies(&world, id), vec![Ok(json!({"id": "kirk"}))]);
    // A duplicate ack settles nothing twice.
    ack(&mut world, *ack_id, 200, json!({}));
    assert_eq!(replies(&world, id).len(), 1);
}

#[test]
fn error_answers_reject_with_status() {
    let mut world = connected(2);
    let from = frames(&world);
    let id = world.step_call(AppCall::SendMessage {
        to: "".into(),
        message: "hi".into(),
    });
    let (ack_id, request) = sent_requests(&world, from).remove(0);
    assert_eq!(request.url, "/v1/messages");
    assert_eq!(request.data, json!({"to": "", "message": "hi"}));
    ack(
        &mut world,
        ack_id,
        400,
        json!({"error": "Validation Error."}),
    );
    assert_eq!(
        replies(&world, id),
        vec![Err(("REQUEST_FAILED".into(), Some(400)))]
    );
}

#[test]
fn unanswered_request_times_out_and_a_late_ack_is_ignored() {
    let mut world = connected(3);
    let from = frames(&world);
    let id = world.step_call(AppCall::Request {
        method: Method::Post,
        url: "/v1/slow".into(),
        data: json!({}),
    });
    let (ack_id, _) = sent_requests(&world, from).remove(0);
    world.advance(9_999);
    assert!(replies(&world, id).is_empty());
    world.advance(1);
    assert_eq!(error_code(&world, id), "REQUEST_TIMEOUT");
    ack(&mut world, ack_id, 200, json!({}));
    assert_eq!(replies(&world, id).len(), 1, "settled exactly once");
    assert_eq!(
        world.machine.state(),
        State::Connected,
        "a slow answer does not end the socket"
    );
}

#[test]
fn socket_loss_rejects_requests_in_flight_and_does_not_resend_them() {
    let mut world = connected(4);
    let id = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "are you there?".into(),
    });
    world.frame("0::");
    assert_eq!(error_code(&world, id), "DISCONNECTED");
    world.advance_to_deadline();
    world.connect_fully();
    let resent = sent_requests(&world, 0)
        .iter()
        .any(|(_, r)| r.url == "/v1/messages");
    assert!(
        !resent,
        "at most once: a request that may have been processed is not re-sent"
    );
}

#[test]
fn requests_made_while_disconnected_wait_and_go_out_in_order_after_connect() {
    let mut world = connected(5);
    world.frame("0::");
    let first = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "one".into(),
    });
    let second = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "two".into(),
    });
    assert!(replies(&world, first).is_empty(), "queued, not rejected");
    world.advance_to_deadline();
    world.connect_fully();
    let sent = sent_requests(&world, 0);
    let urls: Vec<&str> = sent.iter().map(|(_, r)| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "/v1/connections",
            "/v1/presence",
            "/v1/messages",
            "/v1/messages"
        ]
    );
    assert_eq!(sent[2].1.data["message"], "one");
    assert_eq!(sent[3].1.data["message"], "two");
    ack(&mut world, sent[3].0, 200, json!({}));
    ack(&mut world, sent[2].0, 200, json!({}));
    assert_eq!(replies(&world, first), vec![Ok(json!({}))]);
    assert_eq!(replies(&world, second), vec![Ok(json!({}))]);
}

#[test]
fn the_queue_is_bounded_in_count_and_age() {
    let mut config = url_config();
    config.queue_size = 2;
    config.queue_max_age_ms = 5_000;
    let mut world = World::new(config, 6);
    world.start();
    let a = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "a".into(),
    });
    let b = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "b".into(),
    });
    let c = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "c".into(),
    });
    assert_eq!(error_code(&world, c), "QUEUE_FULL");
    world.advance(4_999);
    assert!(replies(&world, a).is_empty());
    world.advance(1);
    assert_eq!(error_code(&world, a), "QUEUE_TIMEOUT");
    assert_eq!(error_code(&world, b), "QUEUE_TIMEOUT");
}

#[test]
fn queue_size_zero_rejects_at_once() {
    let mut config = url_config();
    config.queue_size = 0;
    let mut world = World::new(config, 7);
    world.start();
    let id = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "now or never".into(),
    });
    assert_eq!(error_code(&world, id), "DISCONNECTED");
}

#[test]
fn disconnect_and_failure_reject_everything_pending() {
    let mut world = connected(8);
    let flying = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "x".into(),
    });
    world.step(Input::Disconnect);
    assert_eq!(error_code(&world, flying), "CLOSED");
    let late = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "y".into(),
    });
    assert_eq!(error_code(&world, late), "CLOSED");

    let mut world = World::new(url_config(), 9);
    world.start();
    let queued = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "x".into(),
    });
    world.respond(Kind::Token, 401, "{}", None);
    assert_eq!(error_code(&world, queued), "FAILED");
    let after = world.step_call(AppCall::SendMessage {
        to: "kirk".into(),
        message: "y".into(),
    });
    assert_eq!(error_code(&world, after), "FAILED");
}

#[test]
fn presence_groups_and_observers_are_restored_after_every_reconnect() {
    let mut world = connected(10);
    let from = frames(&world);
    world.step_call(AppCall::SetPresence(json!("available")));
    world.step_call(AppCall::Join("bridge".into()));
    world.step_call(AppCall::Join("engineering".into()));
    world.step_call(AppCall::ObservePresence(vec!["kirk@enterprise.com".into()]));
    for (ack_id, _) in sent_requests(&world, from) {
        ack(&mut world, ack_id, 200, json!({}));
    }
    world.step_call(AppCall::Leave("engineering".into()));
    world.frame("0::");
    world.advance_to_deadline();
    world.connect_fully();
    let restored: Vec<(String, Value)> = sent_requests(&world, 0)
        .into_iter()
        .skip(1)
        .map(|(_, r)| (r.url, r.data))
        .collect();
    assert_eq!(
        restored,
        vec![
            (
                "/v1/presence".into(),
                json!({"presence": {"type": "available"}})
            ),
            ("/v1/groups/".into(), json!({"groups": ["bridge"]})),
            (
                "/v1/presenceobservers".into(),
                json!({"endpointList": ["kirk@enterprise.com"]})
            ),
        ]
    );
}

#[test]
fn a_join_that_failed_is_not_restored() {
    let mut world = connected(11);
    let from = frames(&world);
    let id = world.step_call(AppCall::Join("secret".into()));
    let (ack_id, _) = sent_requests(&world, from).remove(0);
    ack(&mut world, ack_id, 403, json!({"error": "no"}));
    assert_eq!(error_code(&world, id), "REQUEST_FAILED");
    world.frame("0::");
    world.advance_to_deadline();
    world.connect_fully();
    assert!(sent_requests(&world, 0)
        .iter()
        .all(|(_, r)| r.url != "/v1/groups/"));
}

#[test]
fn invalid_presence_is_rejected_without_traffic() {
    let mut world = connected(12);
    let from = frames(&world);
    let id = world.step_call(AppCall::SetPresence(json!(42)));
    assert_eq!(error_code(&world, id), "INVALID_ARGUMENT");
    assert_eq!(frames(&world), from);
}

#[test]
fn pushed_events_become_typed_events() {
    let mut world = connected(13);
    world.frame(r#"5:::{"name":"message","args":[{"header":{"type":"message","from":"kirk","fromConnection":"C9","timestamp":1700000000000},"body":"hello"}]}"#);
    world.frame(r#"5:::{"name":"presence","args":[{"header":{"from":"kirk","fromConnection":"C9"},"type":"available"}]}"#);
    world.frame(r#"5:::{"name":"join","args":[{"header":{"type":"join","channel":"bridge"},"endpointId":"kirk","connectionId":"C9"}]}"#);
    world.frame(r#"5:::{"name":"leave","args":[{"header":{"type":"leave","channel":"bridge"},"endpointId":"kirk","connectionId":"C9"}]}"#);
    world.frame(r#"5:::{"name":"pubsub","args":[{"header":{"type":"pubsub","channel":"bridge","from":"kirk","fromConnection":"C9","timestamp":1},"message":"all hands"}]}"#);
    world.frame(r#"5:::{"name":"signal","args":[{"header":{"from":"kirk"},"body":"{}"}]}"#);
    let names: Vec<&str> = world
        .events
        .iter()
        .map(|(_, e)| event_name(e))
        .filter(|n| !matches!(*n, "state" | "connect"))
        .collect();
    assert_eq!(names, ["message", "presence", "join", "leave", "pubsub"]);
    match world.last_event("message") {
        Some(Event::Message {
            from,
            from_connection,
            timestamp,
            message,
        }) => {
            assert_eq!(
                (
                    from.as_str(),
                    from_connection.as_str(),
                    *timestamp,
                    message.as_str()
                ),
                ("kirk", "C9", 1_700_000_000_000, "hello")
            );
        }
        other => panic!("{other:?}"),
    }
    match world.last_event("pubsub") {
        Some(Event::Pubsub { group, message, .. }) => {
            assert_eq!((group.as_str(), message.as_str()), ("bridge", "all hands"))
        }
        other => panic!("{other:?}"),
    }
    // A malformed push is reported; the connection goes on.
    world.frame(r#"5:::{"name":"message","args":[{"body":"no header"}]}"#);
    match world.last_event("error") {
        Some(Event::Error {
            code: Code::ProtocolError,
            retry: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(world.machine.state(), State::Connected);
}
