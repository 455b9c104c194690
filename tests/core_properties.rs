//! Property tests of the core's invariants across random event sequences. The harness in
//! `support` asserts after every step: no tokenId sent twice, never two sockets, nothing sent
//! after `failed`/`closed`, no timer armed in a terminal state, no token in any event. Here we
//! add: stale input changes nothing, every delay is within its bounds, the machine never hangs.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use proptest::prelude::*;
use respoke_client::connection::{
    Environment, Event, HttpError, HttpResponse, State, TokenCallbackError,
};
use support::*;

#[derive(Debug, Clone)]
enum Outcome {
    Ok,
    Status(u16, Option<u32>),
    Network,
    TooLarge,
    Garbage(String),
}

#[derive(Debug, Clone)]
enum Frame {
    Hello,
    Heartbeat,
    AckLast { ok: bool },
    ServerDisconnect,
    ServerError,
    Noop,
    Event,
    Raw(String),
}

#[derive(Debug, Clone)]
enum Action {
    /// Whatever moves the attempt forward: answer the pending request well, open the socket,
    /// say hello, ack the registration.
    Progress,
    AnswerHttp(usize, Outcome),
    AnswerCallback(Option<String>, bool),
    SocketOpen,
    SocketFrame(Frame),
    SocketClose(u16),
    Advance(u32),
    ToDeadline,
    Disconnect,
    Reconnect,
    StaleHttp(usize),
    StaleSocket(usize, Frame),
    Wake(Environment),
    /// The app makes a request (0 message, 1 presence, 2 join, 3 leave, 4 publish, 5 raw).
    Call(u8),
    /// The server answers the oldest request in flight (or a random ack id).
    AckRequest(bool),
    /// The device sleeps this long: the wall clock jumps, the monotonic clock does not.
    Sleep(u32),
}

fn wake() -> impl Strategy<Value = Environment> {
    prop_oneof![
        Just(Environment::Online),
        Just(Environment::Offline),
        Just(Environment::Visible),
        Just(Environment::Hidden),
        any::<bool>().prop_map(|persisted| Environment::PageShow { persisted }),
        any::<bool>().prop_map(|persisted| Environment::PageHide { persisted }),
        Just(Environment::Freeze),
        Just(Environment::Resume),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        6 => Just(Outcome::Ok),
        3 => (
            prop::sample::select(vec![400u16, 401, 403, 404, 408, 425, 429, 500, 502, 503, 504]),
            prop::option::of(0u32..1_000),
        )
            .prop_map(|(s, r)| Outcome::Status(s, r)),
        1 => Just(Outcome::Network),
        1 => Just(Outcome::TooLarge),
        1 => ".{0,20}".prop_map(Outcome::Garbage),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        3 => Just(Frame::Hello),
        3 => Just(Frame::Heartbeat),
        3 => any::<bool>().prop_map(|ok| Frame::AckLast { ok }),
        1 => Just(Frame::ServerDisconnect),
        1 => Just(Frame::ServerError),
        1 => Just(Frame::Noop),
        1 => Just(Frame::Event),
        1 => ".{0,12}".prop_map(Frame::Raw),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        12 => Just(Action::Progress),
        8 => (0usize..4, outcome()).prop_map(|(i, o)| Action::AnswerHttp(i, o)),
        3 => (prop::option::of("[A-D]{1,2}"), any::<bool>()).prop_map(|(t, u)| Action::AnswerCallback(t, u)),
        3 => Just(Action::SocketOpen),
        6 => frame().prop_map(Action::SocketFrame),
        1 => prop::sample::select(vec![1000u16, 1001, 1006, 4000]).prop_map(Action::SocketClose),
        3 => (0u32..40_000).prop_map(Action::Advance),
        3 => Just(Action::ToDeadline),
        1 => Just(Action::Disconnect),
        1 => Just(Action::Reconnect),
        2 => (0usize..64).prop_map(Action::StaleHttp),
        2 => (0usize..8, frame()).prop_map(|(i, f)| Action::StaleSocket(i, f)),
        3 => wake().prop_map(Action::Wake),
        3 => (0u8..6).prop_map(Action::Call),
        2 => any::<bool>().prop_map(Action::AckRequest),
        1 => (0u32..1_200_000).prop_map(Action::Sleep),
    ]
}

fn frame_text(world: &World, frame: &Frame) -> String {
    match frame {
        Frame::Hello => "1::".into(),
        Frame::Heartbeat => "2::".into(),
        Frame::AckLast { ok } => {
            let ack = world.try_last_ack_id().unwrap_or(1);
            if *ok {
                format!(
                    r#"6:::{ack}+[{{"body":{{"id":"C{ack}","endpointId":"e"}},"headers":{{}},"statusCode":200}}]"#
                )
            } else {
                format!(
                    r#"6:::{ack}+[{{"body":{{"error":"nope"}},"headers":{{}},"statusCode":401}}]"#
                )
            }
        }
        Frame::ServerDisconnect => "0::".into(),
        Frame::ServerError => "7:::2+0".into(),
        Frame::Noop => "8::".into(),
        Frame::Event => r#"5:::{"name":"message","args":[{"body":"hi"}]}"#.into(),
        Frame::Raw(text) => text.clone(),
    }
}

/// Plays one action; returns the Retry-After it handed out (ms), if any.
fn play(world: &mut World, action: &Action) -> Option<u64> {
    match action {
        Action::Progress => {
            if !world.pending_tokens.is_empty() {
                let token = world.fresh_token();
                world.give_callback_token(Ok(token));
            } else if let Some(index) = world
                .pending_http
                .iter()
                .position(|(_, r)| kind_of(r) != Kind::EndSession)
            {
                return play(world, &Action::AnswerHttp(index, Outcome::Ok));
            } else if let Some(&id) = world.open_sockets.iter().next() {
                let frame = if !world.opened.contains(&id) {
                    return play(world, &Action::SocketOpen);
                } else if world.try_last_ack_id().is_none() {
                    Frame::Hello
                } else {
                    Frame::AckLast { ok: true }
                };
                return play(world, &Action::SocketFrame(frame));
            } else {
                world.advance_to_deadline();
            }
            None
        }
        Action::AnswerHttp(pick, outcome) => {
            if world.pending_http.is_empty() {
                return None;
            }
            let (id, request) = world.pending_http.remove(pick % world.pending_http.len());
            let kind = kind_of(&request);
            let ok_body = match kind {
                Kind::Token => format!(r#"{{"token":"{}"}}"#, world.fresh_token()),
                Kind::Session => {
                    world.token_counter += 1;
                    format!(r#"{{"token":"APP-TOKEN-{}"}}"#, world.token_counter)
                }
                Kind::Handshake => "SID:60:60:websocket".into(),
                Kind::EndSession => "{}".into(),
            };
            let wall = world.wall_ms;
            let response = |status, retry_after: Option<u32>, body: String| {
                Ok(HttpResponse {
                    status,
                    retry_after: retry_after.map(|s| s.to_string()),
                    body,
                    wall_clock_ms: wall,
                })
            };
            let (result, retry_after) = match outcome {
                Outcome::Ok => (response(200, None, ok_body), None),
                Outcome::Status(status, retry_after) => (
                    response(*status, *retry_after, r#"{"error":"x"}"#.into()),
                    retry_after
                        .filter(|_| matches!(status, 429 | 503))
                        .map(|s| u64::from(s) * 1000),
                ),
                Outcome::Network => (Err(HttpError::Network("Failed to fetch".into())), None),
                Outcome::TooLarge => (Err(HttpError::BodyTooLarge { limit: 65536 }), None),
                Outcome::Garbage(text) => (response(200, None, text.clone()), None),
            };
            world.step(Input::Http { id, result });
            retry_after
        }
        Action::AnswerCallback(token, unauthorized) => {
            if world.pending_tokens.is_empty() {
                return None;
            }
            let result = match (token, unauthorized) {
                (Some(t), _) => Ok(t.clone()),
                (None, true) => Err(TokenCallbackError::Unauthorized("401".into())),
                (None, false) => Err(TokenCallbackError::Failed("boom".into())),
            };
            world.give_callback_token(result);
            None
        }
        Action::SocketOpen => {
            if let Some(&id) = world.open_sockets.iter().next() {
                if world.opened.insert(id) {
                    world.step(Input::SocketOpen { id });
                }
            }
            None
        }
        Action::SocketFrame(frame) => {
            if let Some(&id) = world.open_sockets.iter().next() {
                if world.opened.contains(&id) {
                    let text = frame_text(world, frame);
                    world.step(Input::SocketMessage {
                        id,
                        text: text.clone(),
                    });
                }
            }
            None
        }
        Action::SocketClose(code) => {
            if let Some(&id) = world.open_sockets.iter().next() {
                world.step(Input::SocketClose { id, code: *code });
            }
            None
        }
        Action::Advance(ms) => {
            world.advance(u64::from(*ms));
            None
        }
        Action::ToDeadline => {
            world.advance_to_deadline();
            None
        }
        Action::Disconnect => {
            world.step(Input::Disconnect);
            None
        }
        Action::Reconnect => {
            world.reconnect();
            None
        }
        Action::StaleHttp(pick) => {
            // Requests no longer pending (answered or aborted) and fire-and-forget ones.
            let stale: Vec<_> = world
                .old_requests
                .iter()
                .copied()
                .filter(|id| {
                    world
                        .pending_http
                        .iter()
                        .all(|(p, r)| p != id || kind_of(r) == Kind::EndSession)
                        && !world.pending_tokens.contains(id)
                })
                .collect();
            if let Some(&id) = stale.get(pick % stale.len().max(1)) {
                let state = world.machine.state();
                let late = HttpResponse {
                    status: 200,
                    retry_after: None,
                    body: r#"{"token":"STALE"}"#.into(),
                    wall_clock_ms: 0,
                };
                let out = world.step(Input::Http {
                    id,
                    result: Ok(late),
                });
                assert_eq!(out, (0, 0), "stale HTTP answer produced output");
                let out = world.step(Input::Token {
                    id,
                    result: Ok("STALE".into()),
                });
                assert_eq!(out, (0, 0), "stale getToken answer produced output");
                assert_eq!(world.machine.state(), state);
            }
            None
        }
        Action::Wake(wake) => {
            let wake = *wake;
            world.step(Input::Environment(wake));
            None
        }
        Action::Call(kind) => {
            let kind = *kind;
            let id = world.step_call(match kind {
                0 => AppCall::SendMessage {
                    to: "kirk".into(),
                    message: "hi".into(),
                },
                1 => AppCall::SetPresence(serde_json::json!("available")),
                2 => AppCall::Join("bridge".into()),
                3 => AppCall::Leave("bridge".into()),
                4 => AppCall::Publish {
                    group: "bridge".into(),
                    message: "all".into(),
                },
                _ => AppCall::Request {
                    method: respoke_client::connection::Method::Get,
                    url: "/v1/x".into(),
                    data: serde_json::json!({}),
                },
            });
            world.calls.push(id);
            None
        }
        Action::AckRequest(ok) => {
            if let (Some(&id), Some(ack)) =
                (world.open_sockets.iter().next(), world.try_last_ack_id())
            {
                if world.opened.contains(&id) {
                    let status = if *ok { 200 } else { 500 };
                    let text = format!(
                        r#"6:::{ack}+[{{"body":{{}},"headers":{{}},"statusCode":{status}}}]"#
                    );
                    world.step(Input::SocketMessage {
                        id,
                        text: text.clone(),
                    });
                }
            }
            None
        }
        Action::Sleep(ms) => {
            world.sleep_device(u64::from(*ms));
            None
        }
        Action::StaleSocket(pick, frame) => {
            let stale: Vec<_> = world
                .sockets_ever
                .iter()
                .copied()
                .filter(|id| !world.open_sockets.contains(id))
                .collect();
            if let Some(&id) = stale.get(pick % stale.len().max(1)) {
                let state = world.machine.state();
                let text = frame_text(world, frame);
                assert_eq!(
                    world.step(Input::SocketMessage {
                        id,
                        text: text.clone()
                    }),
                    (0, 0)
                );
                assert_eq!(world.step(Input::SocketClose { id, code: 1006 }), (0, 0));
                assert_eq!(world.step(Input::SocketOpen { id }), (0, 0));
                assert_eq!(world.machine.state(), state);
            }
            None
        }
    }
}

fn check_delays(world: &World, from: usize, retry_after: Option<u64>, blocked: bool) {
    let config = world.machine.config();
    let max =
        config.backoff.max_delay_ms + retry_after.map_or(0, |ms| ms.min(config.max_retry_after_ms));
    for (_, event) in &world.events[from..] {
        if let Event::Reconnecting {
            delay_ms, attempt, ..
        } = event
        {
            assert!(*delay_ms <= max, "delay {delay_ms} > {max}");
            assert!(*attempt >= 1);
        }
    }
    if world.machine.state() == State::Waiting && !blocked {
        assert!(
            world.deadline.is_some(),
            "waiting with no timer and nothing to wait for"
        );
    }
}

fn run(config: respoke_client::connection::Config, seed: u64, actions: &[Action]) {
    let mut world = World::new(config, seed);
    world.start();
    // What the harness told the machine: (offline, hidden, suspended).
    let mut page = (false, false, false);
    let mut largest_retry_after: Option<u64> = None;
    for action in actions {
        let from = world.events.len();
        let blocked_before = page.0 || page.1 || page.2;
        if let Action::Wake(wake) = action {
            match wake {
                Environment::Offline => page.0 = true,
                Environment::Online => page.0 = false,
                Environment::Hidden => page.1 = true,
                Environment::Visible => page.1 = false,
                Environment::PageHide { .. } | Environment::Freeze => page.2 = true,
                Environment::PageShow { persisted: true } | Environment::Resume => page.2 = false,
                Environment::PageShow { persisted: false } => {}
            }
        }
        let blocked_after = page.0 || page.1 || page.2;
        let token_requests = world.token_requests;
        let retry_after = play(&mut world, action);
        // A Retry-After stays a floor across wakes, so bound by the largest one handed out.
        largest_retry_after = largest_retry_after.max(retry_after);
        let retry_after = largest_retry_after;
        if blocked_before && blocked_after && !matches!(action, Action::Reconnect) {
            // Offline, hidden (pauseWhenHidden) or suspended: no new attempt starts, except
            // one the app asks for, or a retry of an attempt the app's reconnect() started.
            let explicit = world.events[from..]
                .iter()
                .all(|(_, e)| !matches!(e, Event::Reconnecting { .. }));
            assert!(
                world.token_requests == token_requests || !explicit,
                "a token was requested while offline/hidden/suspended after {action:?}"
            );
        }
        check_delays(&world, from, retry_after, blocked_after);
        let state = world.machine.state();
        let may_idle = state == State::Waiting && blocked_after;
        if matches!(state, State::Connecting | State::Waiting | State::Connected) && !may_idle {
            assert!(
                world.deadline.is_some(),
                "{state:?} with no timer: it could hang"
            );
        }
    }
    // Closed is closed for good: nothing ever leaves it.
    world.step(Input::Disconnect);
    assert_eq!(world.machine.state(), State::Closed);
    // Every request the app made settled exactly once, and nothing else settled.
    let mut settled: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for (_, event) in &world.events {
        if let Event::Reply { id, .. } = event {
            *settled.entry(*id).or_default() += 1;
        }
    }
    for id in &world.calls {
        assert_eq!(
            settled.remove(id),
            Some(1),
            "request {id:?} settled other than once"
        );
    }
    assert!(
        settled.is_empty(),
        "replies for requests never made: {settled:?}"
    );
    for _ in 0..3 {
        assert_eq!(world.step(Input::Reconnect), (0, 0));
        world.advance(60_000);
    }
    assert!(world.open_sockets.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_with_a_token_url(seed in any::<u64>(), actions in prop::collection::vec(action(), 1..120)) {
        run(url_config(), seed, &actions);
    }

    #[test]
    fn invariants_hold_with_get_token(seed in any::<u64>(), actions in prop::collection::vec(action(), 1..120)) {
        run(callback_config(), seed, &actions);
    }

    #[test]
    fn backoff_delays_stay_in_their_window(seed in any::<u64>(), failures in 0u32..64) {
        let config = url_config();
        let mut rng = respoke_client::connection::Rng::new(seed);
        let window = config.backoff.window_ms(failures);
        prop_assert!(window <= config.backoff.max_delay_ms);
        let floor = config.backoff.floor_ms(failures);
        prop_assert!(floor <= window / 2);
        let delay = config.backoff.delay_ms(failures, &mut rng);
        prop_assert!((floor..=window).contains(&delay), "{delay} not in [{floor}, {window}]");
    }

    /// Any valid backoff: every delay within [floor, cap], the first retry within the initial
    /// window, and a Retry-After a floor with at most one window (and itself) on top.
    #[test]
    fn backoff_bounds_hold_for_any_valid_config(
        seed in any::<u64>(),
        failures in 0u32..2_000,
        initial in 0u64..=60_000,
        extra in 0u64..=600_000,
        multiplier in 1.0f64..=100.0,
        retry_after in prop::option::of(0u64..=300_000),
    ) {
        let mut config = url_config();
        config.backoff = respoke_client::connection::BackoffConfig {
            initial_delay_ms: initial,
            max_delay_ms: initial + extra,
            multiplier,
        };
        let config = config.validate().expect("in range");
        let backoff = config.backoff;
        let mut rng = respoke_client::connection::Rng::new(seed);
        let window = backoff.window_ms(failures);
        prop_assert!(window <= backoff.max_delay_ms);
        if failures == 0 {
            prop_assert!(window <= backoff.initial_delay_ms);
            prop_assert_eq!(backoff.floor_ms(0), 0);
        }
        let delay = backoff.retry_delay_ms(failures, retry_after, &mut rng);
        match retry_after {
            None => prop_assert!((backoff.floor_ms(failures)..=window).contains(&delay)),
            Some(floor) => {
                let spread = window.min(floor.max(backoff.initial_delay_ms));
                prop_assert!((floor..=floor + spread).contains(&delay), "{delay}");
            }
        }
    }
}

/// Drives the machine through many drop/reconnect cycles; every cycle uses a new token and
/// a new socket, and the connection always comes back.
#[test]
fn two_hundred_drop_cycles_always_come_back() {
    let mut world = World::new(url_config(), 99);
    world.start();
    world.connect_fully();
    for cycle in 0..200 {
        world.frame(if cycle % 2 == 0 { "0::" } else { "7:::2+0" });
        assert_eq!(world.machine.state(), State::Waiting);
        world.advance_to_deadline();
        world.connect_fully();
        world.advance(10_000); // stable
        world.frame("2::");
    }
    assert_eq!(world.exchanged_tokens.len(), 201);
    assert_eq!(world.sockets_ever.len(), 201);
    assert_eq!(world.machine.stats().connects, 201);
}
