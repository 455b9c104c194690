//! The wake model in virtual time: network changes, visibility, back/forward cache, freeze,
//! and sleep detected from a wall-clock jump.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use respoke_client::connection::{Command, Environment, Event, State, WaitingFor, PROBE_PATH};
use support::*;

fn waiting_for(world: &World) -> Option<WaitingFor> {
    match world.last_event("state") {
        Some(Event::State { waiting_for, .. }) => *waiting_for,
        _ => None,
    }
}

fn last_delay(world: &World) -> (u64, &'static str) {
    match world.last_event("reconnecting") {
        Some(Event::Reconnecting {
            delay_ms, cause, ..
        }) => (*delay_ms, cause.as_str()),
        other => panic!("{other:?}"),
    }
}

fn connected_world(seed: u64) -> World {
    let mut world = World::new(url_config(), seed);
    world.start();
    world.connect_fully();
    world.tick_clock();
    world
}

fn probe_sent(world: &World) -> bool {
    world.sent[&world.socket()]
        .last()
        .is_some_and(|frame| frame.contains(PROBE_PATH) && frame.contains("\"name\":\"get\""))
}

#[test]
fn offline_drops_the_socket_and_waits_for_online() {
    let mut world = connected_world(1);
    world.wake(Environment::Offline);
    assert_eq!(world.machine.state(), State::Waiting);
    assert!(
        world.open_sockets.is_empty(),
        "a socket that cannot work is dropped"
    );
    match world.last_event("disconnect") {
        Some(Event::Disconnect {
            code: Code::Offline,
            will_reconnect: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(waiting_for(&world), Some(WaitingFor::Online));
    assert_eq!(world.deadline, None, "no attempts while offline");
    let requests = world.token_requests;
    world.advance(3_600_000);
    assert_eq!(world.token_requests, requests);

    world.wake(Environment::Online);
    let (delay, cause) = last_delay(&world);
    assert!(delay <= 1_000, "soon after online, with jitter: {delay}");
    assert_eq!(cause, "ONLINE");
    world.advance(delay);
    world.connect_fully();
    assert_eq!(
        world.exchanged_tokens.len(),
        2,
        "a fresh token after coming back"
    );
}

#[test]
fn offline_while_connecting_abandons_the_attempt() {
    let mut world = World::new(url_config(), 2);
    world.start();
    world.give_token();
    assert!(world.pending(Kind::Session).is_some());
    world.wake(Environment::Offline);
    assert!(world.pending_http.is_empty(), "the exchange was aborted");
    assert_eq!(world.machine.state(), State::Waiting);
    assert_eq!(world.deadline, None);
    world.wake(Environment::Online);
    world.advance_to_deadline();
    world.connect_fully();
}

#[test]
fn offline_while_waiting_cancels_the_backoff() {
    let mut world = World::new(url_config(), 3);
    world.start();
    world.respond(Kind::Token, 503, "", None);
    assert!(world.deadline.is_some());
    world.wake(Environment::Offline);
    assert_eq!(world.deadline, None);
    assert_eq!(waiting_for(&world), Some(WaitingFor::Online));
    world.wake(Environment::Online);
    assert!(last_delay(&world).0 <= 1_000);
}

#[test]
fn online_when_already_online_verifies_the_socket() {
    let mut world = connected_world(4);
    world.wake(Environment::Online);
    assert!(probe_sent(&world));
    world.advance(1_000);
    world.frame("2::");
    world.advance(10_000);
    assert_eq!(
        world.machine.state(),
        State::Connected,
        "a socket that answers stays"
    );
}

#[test]
fn hidden_page_defers_attempts_until_shown() {
    let mut world = connected_world(5);
    world.wake(Environment::Hidden);
    assert_eq!(
        world.machine.state(),
        State::Connected,
        "hiding alone changes nothing"
    );
    world.frame("0::");
    let requests = world.token_requests;
    world.advance_to_deadline();
    assert_eq!(world.machine.state(), State::Waiting);
    assert_eq!(waiting_for(&world), Some(WaitingFor::Visible));
    assert_eq!(world.deadline, None);
    world.advance(600_000);
    assert_eq!(world.token_requests, requests, "no attempt while hidden");
    world.wake(Environment::Visible);
    let (delay, cause) = last_delay(&world);
    assert!(delay <= 1_000);
    assert_eq!(cause, "VISIBLE");
    world.advance(delay);
    world.connect_fully();
}

#[test]
fn pause_when_hidden_can_be_turned_off() {
    let mut config = url_config();
    config.pause_when_hidden = false;
    let mut world = World::new(config, 6);
    world.start();
    world.connect_fully();
    world.wake(Environment::Hidden);
    world.frame("0::");
    world.advance_to_deadline();
    assert_eq!(world.machine.state(), State::Connecting);
}

#[test]
fn shown_page_verifies_a_socket_that_may_be_dead() {
    let mut world = connected_world(7);
    world.wake(Environment::Hidden);
    world.advance(20_000);
    world.frame("2::");
    world.wake(Environment::Visible);
    assert!(probe_sent(&world), "a probe right away");
    // Silence: the socket is dead without a close event.
    world.advance(4_999);
    assert_eq!(world.machine.state(), State::Connected);
    world.advance(1);
    assert_eq!(world.machine.state(), State::Waiting);
    match world.last_event("disconnect") {
        Some(Event::Disconnect {
            code: Code::SocketUnresponsive,
            will_reconnect: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    world.advance_to_deadline();
    world.connect_fully();
}

#[test]
fn back_forward_cache_leaves_and_returns_cleanly() {
    let mut world = connected_world(8);
    let socket = world.socket();
    world.wake(Environment::PageHide { persisted: true });
    let frames = &world.sent[&socket];
    assert_eq!(
        frames.last().map(String::as_str),
        Some("0::"),
        "left with 0::"
    );
    assert!(world.open_sockets.is_empty());
    assert!(
        world.pending(Kind::EndSession).is_some(),
        "the session was ended"
    );
    match world.last_event("disconnect") {
        Some(Event::Disconnect {
            code: Code::PageHidden,
            will_reconnect: true,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(waiting_for(&world), Some(WaitingFor::Resume));
    assert_eq!(world.deadline, None, "nothing runs in the cache");
    world.advance(3_600_000);
    world.wake(Environment::PageShow { persisted: false });
    assert_eq!(
        world.machine.state(),
        State::Waiting,
        "a fresh page load is not a return"
    );
    world.wake(Environment::PageShow { persisted: true });
    let (delay, cause) = last_delay(&world);
    assert!(delay <= 1_000);
    assert_eq!(cause, "RESUME");
    world.advance(delay);
    world.connect_fully();
    assert_eq!(world.exchanged_tokens.len(), 2);
}

#[test]
fn freeze_and_resume() {
    let mut world = connected_world(9);
    world.wake(Environment::Freeze);
    assert!(world.open_sockets.is_empty());
    match world.last_event("disconnect") {
        Some(Event::Disconnect {
            code: Code::PageFrozen,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    world.wake(Environment::Resume);
    world.advance_to_deadline();
    world.connect_fully();
    // Resume without a freeze (or a duplicate) only verifies.
    world.wake(Environment::Resume);
    assert!(probe_sent(&world));
}

#[test]
fn ten_minute_clock_jump_while_connected_verifies_then_replaces_the_socket() {
    let mut world = connected_world(10);
    world.sleep_device(600_000);
    assert!(probe_sent(&world), "a wall-clock jump is a wake");
    world.advance(5_000);
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.connect_fully();
}

#[test]
fn ten_minute_clock_jump_cuts_a_long_wait_short() {
    let mut world = World::new(url_config(), 11);
    world.start();
    world.tick_clock();
    // Fail until the backoff wait is long.
    let mut long_wait = 0;
    for _ in 0..30 {
        world.respond(Kind::Token, 500, "", None);
        long_wait = world.deadline.unwrap().millis_since(world.now);
        if long_wait > 5_000 {
            break;
        }
        world.advance(long_wait);
    }
    assert!(long_wait > 5_000);
    world.sleep_device(600_000);
    let after = world.deadline.unwrap().millis_since(world.now);
    assert!(
        after <= 1_000,
        "attempt soon after waking, not in {long_wait} ms: {after}"
    );
}

#[test]
fn ten_minute_clock_jump_restarts_an_attempt_under_way() {
    let mut world = World::new(url_config(), 12);
    world.start();
    world.tick_clock();
    world.give_token();
    let stuck = world.pending(Kind::Session).unwrap();
    world.sleep_device(600_000);
    assert!(world
        .commands
        .iter()
        .any(|(_, c)| matches!(c, Command::Abort { id } if *id == stuck)));
    assert_eq!(world.machine.state(), State::Waiting);
    world.advance_to_deadline();
    world.connect_fully();
}

#[test]
fn small_clock_drift_is_not_a_wake() {
    let mut world = connected_world(13);
    world.wall_ms += 9_000;
    world.tick_clock();
    assert!(!probe_sent(&world));
}

#[test]
fn retry_after_still_holds_after_a_wake() {
    let mut world = World::new(url_config(), 14);
    world.start();
    world.give_token();
    world.respond(Kind::Session, 503, "{}", Some("20"));
    world.wake(Environment::Offline);
    world.wake(Environment::Online);
    let (delay, _) = last_delay(&world);
    assert!(
        delay >= 20_000,
        "a wake does not override Retry-After: {delay}"
    );
}

#[test]
fn clients_woken_together_spread_out() {
    let delays: Vec<u64> = (0..200)
        .map(|seed| {
            let mut world = connected_world(100 + seed);
            world.wake(Environment::Offline);
            world.wake(Environment::Online);
            last_delay(&world).0
        })
        .collect();
    assert!(delays.iter().all(|&d| d <= 1_000));
    let distinct: std::collections::BTreeSet<u64> = delays.iter().copied().collect();
    assert!(
        distinct.len() > 150,
        "online must not bring every client back at once"
    );
}

#[test]
fn explicit_reconnect_works_even_while_offline() {
    let mut world = connected_world(15);
    world.wake(Environment::Offline);
    world.reconnect();
    assert_eq!(world.machine.state(), State::Connecting);
}

#[test]
fn start_while_offline_waits() {
    let mut world = World::new(url_config(), 16);
    world.wake(Environment::Offline);
    world.start();
    assert_eq!(world.machine.state(), State::Waiting);
    assert_eq!(world.token_requests, 0);
    world.wake(Environment::Online);
    world.advance_to_deadline();
    assert_eq!(world.machine.state(), State::Connecting);
}

#[test]
fn online_while_hidden_reports_waiting_for_visible() {
    let mut world = connected_world(17);
    world.wake(Environment::Hidden);
    world.wake(Environment::Offline);
    assert_eq!(waiting_for(&world), Some(WaitingFor::Online));
    world.wake(Environment::Online);
    assert_eq!(waiting_for(&world), Some(WaitingFor::Visible));
    assert_eq!(world.deadline, None);
    world.wake(Environment::Visible);
    assert_eq!(last_delay(&world).1, "VISIBLE");
}
