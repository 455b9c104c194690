//! The core's behaviour, scenario by scenario, in virtual time.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use respoke_client::connection::{Command, Event, HttpError, Phase, State, TokenCallbackError};
use respoke_protocol::packet::Packet;
use respoke_protocol::sails::Request;
use support::*;

fn delay_of_last_reconnecting(world: &World) -> u64 {
    match world.last_event("reconnecting") {
        Some(Event::Reconnecting { delay_ms, .. }) => *delay_ms,
        other => panic!("no reconnecting event: {other:?}"),
    }
}

#[test]
fn first_attempt_runs_the_whole_brokered_flow() {
    let mut world = World::new(url_config(), 1);
    world.start();
    assert_eq!(world.machine.state(), State::Connecting);
    assert_eq!(world.machine.phase(), Some(Phase::Token));
    let (_, token_request) = world.pending_http[0].clone();
    assert_eq!(
        token_request.body.as_deref(),
        Some(r#"{"endpointId":"spock@enterprise.com"}"#)
    );

    world.give_token();
    assert_eq!(world.machine.phase(), Some(Phase::Session));
    let session = world.pending_http[0].1.clone();
    assert_eq!(session.url, "http://127.0.0.1:3001/v1/session-tokens");
    assert_eq!(
        session.body.as_deref(),
        Some(r#"{"tokenId":"TOKEN-00000001"}"#)
    );

    world.give_session();
    let handshake = world.pending_http[0].1.clone();
    assert!(handshake.url.starts_with(
        "http://127.0.0.1:3001/socket.io/1/?__sails_io_sdk_version=0.10.0&app-token=APP-TOKEN-2&Respoke-SDK="
    ));
    world.give_handshake(60);
    assert_eq!(world.machine.phase(), Some(Phase::Socket));
    world.open_socket();
    world.frame("1::");
    assert_eq!(world.machine.phase(), Some(Phase::Register));
    let register = &world.sent[&world.socket()][0];
    let Packet::Event {
        id: Some(1),
        ack_with_data: true,
        data,
        ..
    } = Packet::decode(register).unwrap()
    else {
        panic!("register must be an event with ack 1: {register}");
    };
    let event = respoke_protocol::event::EventData::parse(&data).unwrap();
    let request = Request::from_event(&event).unwrap();
    assert_eq!(request.url, "/v1/connections");
    assert_eq!(request.header("App-Token"), Some("APP-TOKEN-2"));

    world.ack_register();
    assert_eq!(world.machine.state(), State::Connected);
    assert_eq!(world.machine.connection_id(), Some("CONN-1"));
    assert_eq!(world.machine.endpoint_id(), Some("spock@enterprise.com"));
    match world.last_event("connect") {
        Some(Event::Connect {
            attempt: 1,
            endpoint_id,
            ..
        }) => assert_eq!(endpoint_id, "spock@enterprise.com"),
        other => panic!("{other:?}"),
    }
    // Presence follows every connect, with the next ack id.
    let presence = world.sent[&world.socket()].last().unwrap();
    assert!(
        presence.starts_with("5:2+::") && presence.contains("/v1/presence"),
        "{presence}"
    );
    let phases: Vec<Option<Phase>> = world
        .events_of("state")
        .iter()
        .map(|e| match e {
            Event::State { phase, .. } => *phase,
            _ => None,
        })
        .collect();
    assert_eq!(
        phases,
        vec![
            Some(Phase::Token),
            Some(Phase::Session),
            Some(Phase::Handshake),
            Some(Phase::Socket),
            Some(Phase::Register),
            None
        ]
    );
}

#[test]
fn heartbeats_are_echoed_and_keep_the_socket_alive() {
    let mut world = World::new(url_config(), 2);
    world.start();
    world.connect_fully();
    for _ in 0..5 {
        world.advance(25_000);
        world.frame("2::");
        assert_eq!(world.sent[&world.socket()].last().unwrap(), "2::");
    }
    assert_eq!(world.machine.state(), State::Connected);
}

#[test]
fn silence_past_the_heartbeat_timeout_reconnects_with_a_new_token() {
    let mut world = World::new(url_config(), 3);
    world.start();
    world.reach_register(3);
    world.ack_register();
    world.advance(2_999);
    assert_eq!(world.machine.state(), State::Connected);
    world.advance(1);
    assert_eq!(world.machine.state(), State::Waiting);
    match world.last_event("disconnect") {
        Some(Event::Disconnect {
            code: Code::HeartbeatTimeout,
            will_reconnect: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(world.open_sockets.is_empty());
    world.advance_to_deadline();
    assert!(world.pending(Kind::Token).is_some());
    world.connect_fully();
    assert_eq!(world.exchanged_tokens.len(), 2);
}

#[test]
fn server_drop_reconnects_with_a_fresh_token_after_a_jittered_delay() {
    let mut world = World::new(url_config(), 4);
    world.start();
    world.connect_fully();
    world.frame("0::");
    assert_eq!(world.machine.state(), State::Waiting);
    let delay = delay_of_last_reconnecting(&world);
    assert!(
        delay <= 1_000,
        "first retry within the initial window, got {delay}"
    );
    match world.last_event("disconnect") {
        Some(Event::Disconnect {
            code: Code::ServerDisconnect,
            will_reconnect: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    world.advance(delay);
    assert!(world.pending(Kind::Token).is_some());
    world.connect_fully();
    assert_eq!(
        world.exchanged_tokens,
        vec!["TOKEN-00000001", "TOKEN-00000003"]
    );
    assert_eq!(world.sockets_ever.len(), 2);
    assert_eq!(world.machine.stats().connects, 2);
    assert_eq!(world.machine.stats().disconnects, 1);
}

#[test]
fn unauthorized_token_endpoint_fails_for_good() {
    for status in [401, 403, 404] {
        let mut world = World::new(url_config(), 5);
        world.start();
        world.respond(Kind::Token, status, r#"{"error":"not logged in"}"#, None);
        assert_eq!(world.machine.state(), State::Failed);
        match world.last_event("failed") {
            Some(Event::Failed {
                status: Some(s),
                reauthenticate,
                ..
            }) => {
                assert_eq!(*s, status);
                assert_eq!(*reauthenticate, status != 404);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(world.deadline, None);
        world.advance(3_600_000);
        assert_eq!(
            world.token_requests, 1,
            "no further token requests after failed"
        );
    }
}

#[test]
fn failed_client_starts_again_on_reconnect() {
    let mut world = World::new(url_config(), 6);
    world.start();
    world.respond(Kind::Token, 401, "{}", None);
    assert_eq!(world.machine.state(), State::Failed);
    world.reconnect();
    assert_eq!(world.machine.state(), State::Connecting);
    world.connect_fully();
}

#[test]
fn retryable_token_errors_back_off_with_growing_windows() {
    let mut world = World::new(url_config(), 7);
    world.start();
    let mut windows = vec![];
    for round in 0..8u32 {
        world.respond(Kind::Token, 503, "<html>Bad gateway</html>", None);
        assert_eq!(world.machine.state(), State::Waiting);
        let delay = delay_of_last_reconnecting(&world);
        // 1 s x3 to 10 s: full jitter below the cap, at least half the cap at it.
        let window = (1_000u64 * 3u64.pow(round)).min(10_000);
        let floor = if window == 10_000 { 5_000 } else { 0 };
        assert!(
            (floor..=window).contains(&delay),
            "round {round}: {delay} not in [{floor}, {window}]"
        );
        windows.push(window);
        world.advance(delay);
        assert_eq!(world.machine.state(), State::Connecting);
    }
    match world.last_event("reconnecting") {
        Some(Event::Reconnecting {
            attempt: 9,
            cause: Code::TokenHttp,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn network_errors_and_garbage_bodies_are_retried() {
    let mut world = World::new(url_config(), 8);
    world.start();
    world.respond_error(Kind::Token, HttpError::Network("Failed to fetch".into()));
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.respond(Kind::Token, 200, "<html>login</html>", None);
    assert_eq!(world.machine.state(), State::Waiting);
    match world.last_event("error") {
        Some(Event::Error {
            code: Code::TokenInvalidResponse,
            retry: true,
            message,
            ..
        }) => {
            assert!(!message.contains("login"), "no body preview in errors");
        }
        other => panic!("{other:?}"),
    }
    world.advance_to_deadline();
    world.respond_error(Kind::Token, HttpError::BodyTooLarge { limit: 65536 });
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.give_token();
    world.respond(Kind::Session, 200, "null", None);
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.give_token();
    world.give_session();
    world.respond(Kind::Handshake, 200, "garbage", None);
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.give_token();
    world.give_session();
    world.respond(Kind::Handshake, 200, "sid:60:60:xhr-polling", None);
    assert_eq!(world.machine.state(), State::Waiting);
}

#[test]
fn spent_token_and_bad_handshake_retry_with_new_tokens() {
    let mut world = World::new(url_config(), 9);
    world.start();
    world.give_token();
    world.respond(
        Kind::Session,
        401,
        r#"{"error":"Token has already been used"}"#,
        None,
    );
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.give_token();
    world.give_session();
    world.respond(Kind::Handshake, 403, "", None);
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.connect_fully();
    assert_eq!(world.exchanged_tokens.len(), 3);
}

#[test]
fn retry_after_is_honoured_and_clamped() {
    let mut world = World::new(url_config(), 10);
    world.start();
    world.give_token();
    world.respond(Kind::Session, 503, r#"{"error":"outage"}"#, Some("5"));
    let delay = delay_of_last_reconnecting(&world);
    assert!(
        (5_000..=6_000).contains(&delay),
        "Retry-After 5 s plus jitter, got {delay}"
    );
    world.advance(4_999);
    assert_eq!(
        world.machine.state(),
        State::Waiting,
        "not before Retry-After"
    );
    world.advance(delay - 4_999);
    assert_eq!(world.machine.state(), State::Connecting);

    // An HTTP date counts from the response's wall-clock time.
    world.give_token();
    let wall = world.wall_ms / 1000 + 8;
    let date = http_date(wall);
    world.respond(Kind::Session, 429, "{}", Some(&date));
    let delay = delay_of_last_reconnecting(&world);
    // Second failure: a window of 3 s (below the Retry-After, so all of it).
    assert!((8_000..=8_000 + 3_000).contains(&delay), "{delay}");

    // A huge Retry-After is clamped to maxRetryAfterMs (5 min) plus jitter (third failure:
    // a window of 9 s).
    world.advance(delay);
    world.respond(Kind::Token, 503, "", Some("999999"));
    let delay = delay_of_last_reconnecting(&world);
    assert!((300_000..=300_000 + 9_000).contains(&delay), "{delay}");
}

fn http_date(unix_secs: u64) -> String {
    // Only what the test needs: 30 Nov 2026 + offset within the day.
    let base = 1_796_065_200 - 19 * 3600; // 2026-11-30T00:00:00Z
    let secs = unix_secs - base;
    format!(
        "Mon, 30 Nov 2026 {:02}:{:02}:{:02} GMT",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[test]
fn token_timeout_aborts_the_fetch_and_retries() {
    let mut world = World::new(url_config(), 11);
    world.start();
    let first = world.pending(Kind::Token).unwrap();
    world.advance(10_000);
    assert_eq!(world.machine.state(), State::Waiting);
    assert!(world.pending_http.is_empty(), "the fetch was aborted");
    assert!(world
        .commands
        .iter()
        .any(|(_, c)| matches!(c, Command::Abort { id } if *id == first)));
    // Its late answer changes nothing.
    let before = world.events.len();
    let late = respoke_client::connection::HttpResponse {
        status: 200,
        retry_after: None,
        body: r#"{"token":"LATE"}"#.into(),
        wall_clock_ms: 0,
    };
    let (commands, events) = world.step(Input::Http {
        id: first,
        result: Ok(late),
    });
    assert_eq!((commands, events), (0, 0));
    assert_eq!(world.events.len(), before);
}

#[test]
fn attempt_timeout_closes_a_socket_that_never_says_hello() {
    let mut world = World::new(url_config(), 12);
    world.start();
    world.give_token();
    world.give_session();
    world.give_handshake(60);
    world.open_socket();
    world.advance(15_000);
    assert_eq!(world.machine.state(), State::Waiting);
    assert!(world.open_sockets.is_empty());
    match world.last_event("error") {
        Some(Event::Error {
            code: Code::AttemptTimeout,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn stale_socket_callbacks_change_nothing() {
    let mut world = World::new(url_config(), 13);
    world.start();
    world.connect_fully();
    let old = world.socket();
    world.frame("0::");
    world.advance_to_deadline();
    world.connect_fully();
    let before = world.events.len();
    for input in 0..4 {
        let (commands, events) = world.step(match input {
            0 => Input::SocketClose {
                id: old,
                code: 1006,
            },
            1 => Input::SocketMessage {
                id: old,
                text: "0::".into(),
            },
            2 => Input::SocketOpen { id: old },
            _ => Input::SocketMessage {
                id: old,
                text: "7:::2+0".into(),
            },
        });
        assert_eq!((commands, events), (0, 0));
    }
    assert_eq!(world.events.len(), before);
    assert_eq!(world.machine.state(), State::Connected);
}

#[test]
fn disconnect_tears_down_and_stops_everything() {
    let mut world = World::new(url_config(), 14);
    world.start();
    world.connect_fully();
    let socket = world.socket();
    world.step(Input::Disconnect);
    assert_eq!(world.machine.state(), State::Closed);
    let frames = &world.sent[&socket];
    let n = frames.len();
    assert!(
        frames[n - 2].contains("delete")
            && frames[n - 2].contains("/v1/connections/spock@enterprise.com/")
    );
    assert_eq!(frames[n - 1], "0::");
    assert!(world.open_sockets.is_empty());
    assert!(
        world.pending(Kind::EndSession).is_some(),
        "DELETE /v1/session-tokens sent"
    );
    let end = world
        .pending_http
        .iter()
        .find(|(_, r)| kind_of(r) == Kind::EndSession)
        .unwrap();
    assert!(end.1.keepalive, "the teardown must survive a page unload");
    assert!(end
        .1
        .headers
        .iter()
        .any(|(k, v)| k == "App-Token" && v.starts_with("APP-TOKEN-")));
    match world.last_event("disconnect") {
        Some(Event::Disconnect {
            code: Code::ClientDisconnect,
            will_reconnect: false,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // Idempotent, and nothing more ever happens.
    assert_eq!(world.step(Input::Disconnect), (0, 0));
    assert_eq!(world.step(Input::Reconnect), (0, 0));
    assert!(!world.advance_to_deadline());
}

#[test]
fn disconnect_while_connecting_aborts_and_ends_the_session() {
    let mut world = World::new(url_config(), 15);
    world.start();
    world.give_token();
    world.give_session();
    world.step(Input::Disconnect);
    assert_eq!(world.machine.state(), State::Closed);
    assert!(
        world.pending(Kind::Handshake).is_none(),
        "handshake aborted"
    );
    assert!(
        world.pending(Kind::EndSession).is_some(),
        "session released"
    );
}

#[test]
fn reconnect_while_waiting_tries_now_with_fresh_backoff() {
    let mut world = World::new(url_config(), 16);
    world.start();
    for _ in 0..6 {
        world.respond(Kind::Token, 500, "", None);
        world.advance_to_deadline();
    }
    world.respond(Kind::Token, 500, "", None);
    assert_eq!(world.machine.state(), State::Waiting);
    world.step(Input::Reconnect);
    assert_eq!(world.machine.state(), State::Connecting);
    world.respond(Kind::Token, 500, "", None);
    assert!(
        delay_of_last_reconnecting(&world) <= 1_000,
        "backoff counter was reset"
    );
}

#[test]
fn backoff_resets_only_after_the_connection_stayed_up() {
    let mut world = World::new(url_config(), 17);
    world.start();
    for _ in 0..5 {
        world.respond(Kind::Token, 500, "", None);
        world.advance_to_deadline();
    }
    world.connect_fully();
    // Dropped before stableAfterMs: the window keeps growing (at the cap: 5 to 10 s).
    world.advance(9_000);
    world.frame("0::");
    let delay = delay_of_last_reconnecting(&world);
    assert!(
        (5_000..=10_000).contains(&delay),
        "no reset yet, got {delay}"
    );
    world.advance(delay);
    world.connect_fully();
    world.advance(10_000);
    world.frame("0::");
    assert!(
        delay_of_last_reconnecting(&world) <= 1_000,
        "reset after a stable connection"
    );
}

#[test]
fn get_token_callback_paths() {
    let mut world = World::new(callback_config(), 18);
    world.start();
    assert_eq!(world.pending_tokens.len(), 1);
    world.give_callback_token(Err(TokenCallbackError::Failed("boom".into())));
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.give_callback_token(Ok("T1".into()));
    world.respond(Kind::Session, 401, "{}", None);
    world.advance_to_deadline();
    // The app hands back the spent token: it is not sent again.
    world.give_callback_token(Ok("T1".into()));
    assert_eq!(world.machine.state(), State::Waiting);
    match world.last_event("error") {
        Some(Event::Error {
            code: Code::TokenReused,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    world.advance_to_deadline();
    world.give_callback_token(Err(TokenCallbackError::Unauthorized("logged out".into())));
    assert_eq!(world.machine.state(), State::Failed);
    assert_eq!(world.exchanged_tokens, vec!["T1"]);
}

#[test]
fn register_errors_and_server_errors_retry() {
    let mut world = World::new(url_config(), 19);
    world.start();
    world.reach_register(60);
    let ack = world.last_ack_id();
    world.frame(&format!(
        r#"6:::{ack}+[{{"body":{{"error":"no"}},"headers":{{}},"statusCode":403}}]"#
    ));
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.connect_fully();
    world.frame("7:::2+0");
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.connect_fully();
    world.frame("\u{0}garbage");
    assert_eq!(world.machine.state(), State::Waiting);
    match world.last_event("disconnect") {
        Some(Event::Disconnect {
            code: Code::ProtocolError,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn legacy_ack_shape_is_understood() {
    let mut world = World::new(url_config(), 20);
    world.start();
    world.reach_register(60);
    let ack = world.last_ack_id();
    world.frame(&format!(
        r#"6:::{ack}+["{{\"id\":\"C1\",\"endpointId\":\"spock@enterprise.com\"}}"]"#
    ));
    assert_eq!(world.machine.state(), State::Connected);
    assert_eq!(world.machine.connection_id(), Some("C1"));
}

#[test]
fn socket_closed_before_open_is_a_failed_attempt() {
    let mut world = World::new(url_config(), 21);
    world.start();
    world.give_token();
    world.give_session();
    world.give_handshake(60);
    world.close_socket(1006);
    assert_eq!(world.machine.state(), State::Waiting);
    assert_eq!(world.machine.stats().disconnects, 0);
    match world.last_event("error") {
        Some(Event::Error {
            code: Code::SocketClosed,
            retry: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn waiting_state_reports_retry_in() {
    let mut world = World::new(url_config(), 22);
    world.start();
    world.respond(Kind::Token, 502, "", None);
    match world.last_event("state") {
        Some(Event::State {
            state: State::Waiting,
            retry_in: Some(ms),
            attempt: Some(2),
            ..
        }) => {
            assert_eq!(*ms, delay_of_last_reconnecting(&world))
        }
        other => panic!("{other:?}"),
    }
}
