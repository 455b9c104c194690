//! The session's rules in virtual time: `now` is a base instant plus whatever the test says.

use super::*;

const INTERVAL: Duration = Duration::from_secs(25);
const TIMEOUT: Duration = Duration::from_secs(60);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// A session opened at `t0`, its token valid for an hour, with room for `packets` packets.
fn session_with(t0: Instant, packets: usize, controls: Controls) -> (Session, Arc<Budget>) {
    let budget = Arc::new(Budget::new(packets, 1 << 20));
    let timing = Timing {
        heartbeat_interval: INTERVAL,
        heartbeat_timeout: TIMEOUT,
        expires_at: t0 + secs(3600),
    };
    (Session::open(t0, timing, budget.clone(), controls), budget)
}

fn session(t0: Instant) -> (Session, Arc<Budget>) {
    session_with(t0, 100, Controls::default())
}

/// Drains the actions: the texts written, and the ending if one came.
fn drain(session: &mut Session) -> (Vec<String>, Option<Ending>) {
    let mut written = Vec::new();
    let mut ending = None;
    while let Some(action) = session.poll_action() {
        assert!(ending.is_none(), "nothing after Close");
        match action {
            Action::Write(packet) => written.push(packet.text().to_owned()),
            Action::Close(end) => ending = Some(end),
        }
    }
    (written, ending)
}

fn replies(texts: &[&str]) -> impl FnOnce(&str) -> Answer {
    let texts: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
    move |_| Answer::Replies(texts)
}

fn stalled() -> Controls {
    Controls {
        stalled: true,
        ack_delay: None,
    }
}

fn ack_delay(delay: Duration) -> Controls {
    Controls {
        stalled: false,
        ack_delay: Some(delay),
    }
}

#[test]
fn connect_is_the_first_packet_unless_stalled() {
    let t0 = Instant::now();
    let (mut open, budget) = session(t0);
    assert_eq!(drain(&mut open), (vec!["1::".to_owned()], None));
    assert_eq!(budget.bytes(), 3, "reserved until written");
    let (mut quiet, budget) = session_with(t0, 100, stalled());
    assert_eq!(drain(&mut quiet), (vec![], None));
    assert_eq!(budget.bytes(), 0);
}

#[test]
fn a_heartbeat_every_interval_and_early_timeouts_do_nothing() {
    let t0 = Instant::now();
    let (mut s, _) = session(t0);
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(t0 + INTERVAL));
    s.handle_timeout(t0 + INTERVAL - ms(1), Controls::default());
    assert_eq!(drain(&mut s), (vec![], None), "early");
    assert_eq!(s.poll_timeout(), Some(t0 + INTERVAL));
    // The client answers every heartbeat, so it is never silent for long.
    for beat in 1..=5u32 {
        let at = t0 + INTERVAL * beat;
        s.handle_timeout(at, Controls::default());
        assert_eq!(drain(&mut s), (vec!["2::".to_owned()], None), "beat {beat}");
        assert_eq!(s.poll_timeout(), Some(at + INTERVAL));
        s.handle_frame(at + ms(10), Controls::default(), "2::", |_| Answer::Nothing);
    }
    // A late tick is not made up for: the next one is an interval after it.
    let late = t0 + INTERVAL * 6 + secs(7);
    s.handle_timeout(late, Controls::default());
    assert_eq!(drain(&mut s).0, ["2::"]);
    assert_eq!(s.poll_timeout(), Some(late + INTERVAL));
}

#[test]
fn silence_past_the_timeout_plus_an_interval_ends_it() {
    let t0 = Instant::now();
    let (mut s, _) = session(t0);
    drain(&mut s);
    // Heard at 10 s; the limit is 60 + 25 s of silence, checked at each heartbeat.
    s.handle_frame(t0 + secs(10), Controls::default(), "8::", |_| {
        Answer::Nothing
    });
    for beat in 1..=3u32 {
        s.handle_timeout(t0 + INTERVAL * beat, Controls::default());
        assert_eq!(drain(&mut s), (vec!["2::".to_owned()], None), "beat {beat}");
    }
    // 100 s - 10 s = 90 s > 85 s.
    s.handle_timeout(t0 + INTERVAL * 4, Controls::default());
    assert_eq!(drain(&mut s), (vec![], Some(Ending::HeartbeatTimeout)));
    assert_eq!(s.ending(), Some(Ending::HeartbeatTimeout));
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(Ending::HeartbeatTimeout.farewell().as_deref(), Some("0::"));
    assert!(Ending::HeartbeatTimeout.drains());
}

#[test]
fn the_app_token_expiry_ends_it() {
    let t0 = Instant::now();
    let budget = Arc::new(Budget::new(100, 1 << 20));
    let timing = Timing {
        heartbeat_interval: INTERVAL,
        heartbeat_timeout: TIMEOUT,
        expires_at: t0 + secs(30),
    };
    let mut s = Session::open(t0, timing, budget, Controls::default());
    drain(&mut s);
    s.handle_timeout(t0 + INTERVAL, Controls::default());
    assert_eq!(drain(&mut s), (vec!["2::".to_owned()], None));
    assert_eq!(
        s.poll_timeout(),
        Some(t0 + secs(30)),
        "the expiry comes first"
    );
    s.handle_timeout(t0 + secs(30), Controls::default());
    assert_eq!(drain(&mut s), (vec![], Some(Ending::TokenExpired)));
}

#[test]
fn acks_are_written_at_once_and_0_ends_it_without_a_farewell() {
    let t0 = Instant::now();
    let (mut s, _) = session(t0);
    drain(&mut s);
    s.handle_frame(
        t0 + secs(1),
        Controls::default(),
        "frame",
        replies(&["6:::1+[]", "6:::2+[]"]),
    );
    assert_eq!(
        drain(&mut s),
        (vec!["6:::1+[]".into(), "6:::2+[]".into()], None)
    );
    s.handle_frame(t0 + secs(2), Controls::default(), "0::", |_| {
        Answer::Disconnect
    });
    assert_eq!(drain(&mut s), (vec![], Some(Ending::ClientDisconnected)));
    assert_eq!(Ending::ClientDisconnected.farewell(), None);
    // Over: nothing is answered any more.
    s.handle_frame(t0 + secs(3), Controls::default(), "frame", |_| {
        panic!("no request is handled after the end")
    });
    s.handle_timeout(t0 + secs(3600), Controls::default());
    assert_eq!(drain(&mut s), (vec![], None));
}

#[test]
fn ack_delay_holds_acks_in_order_while_pushed_events_overtake_them() {
    let t0 = Instant::now();
    let (mut s, budget) = session(t0);
    drain(&mut s);
    s.handle_frame(
        t0 + secs(1),
        ack_delay(secs(5)),
        "frame",
        replies(&["6:::1+[]"]),
    );
    assert_eq!(drain(&mut s), (vec![], None), "held back");
    assert_eq!(s.held_acks(), 1);
    assert_eq!(budget.bytes(), 3 + 8, "held acks count against the budget");
    assert_eq!(s.poll_timeout(), Some(t0 + secs(6)));
    // A shorter delay later never lets an ack overtake an earlier one.
    s.handle_frame(
        t0 + secs(2),
        ack_delay(secs(1)),
        "frame",
        replies(&["6:::2+[]"]),
    );
    assert!(budget.try_reserve(5));
    s.handle_pushed(Controls::default(), Outgoing::Deliver("5:::x".into()));
    assert_eq!(drain(&mut s).0, ["5:::x"], "the event overtakes");
    s.handle_timeout(t0 + secs(6) - ms(1), Controls::default());
    assert_eq!(drain(&mut s), (vec![], None), "not due yet");
    s.handle_timeout(t0 + secs(6), Controls::default());
    assert_eq!(drain(&mut s).0, ["6:::1+[]", "6:::2+[]"]);
    assert_eq!(s.held_acks(), 0);
}

#[test]
fn a_stalled_server_reads_nothing_writes_nothing_and_times_nobody_out() {
    let t0 = Instant::now();
    let (mut s, budget) = session(t0);
    drain(&mut s);
    let before = budget.bytes();
    s.handle_frame(t0 + secs(1), stalled(), "frame", |_| {
        panic!("a stalled server handles no request")
    });
    assert!(budget.try_reserve(5));
    s.handle_pushed(stalled(), Outgoing::Deliver("5:::x".into()));
    assert_eq!(
        budget.bytes(),
        before,
        "a discarded packet gives its room back"
    );
    // Stalled far past the silence limit: no heartbeat, no timeout.
    for beat in 1..=8u32 {
        s.handle_timeout(t0 + INTERVAL * beat, stalled());
        assert_eq!(drain(&mut s), (vec![], None), "beat {beat}");
    }
    // Unstalled, the client has a full timeout again (the stall counted as heard).
    s.handle_timeout(t0 + INTERVAL * 9, Controls::default());
    assert_eq!(drain(&mut s), (vec!["2::".to_owned()], None));
    // Acks held before a stall that fall due during it are dropped, their room given back.
    let at = t0 + INTERVAL * 9;
    s.handle_frame(at, ack_delay(secs(1)), "frame", replies(&["6:::1+[]"]));
    let held = budget.bytes();
    s.handle_timeout(at + secs(1), stalled());
    assert_eq!(drain(&mut s), (vec![], None));
    assert_eq!(budget.bytes(), held - 8);
}

#[test]
fn a_full_budget_ends_it_as_a_slow_consumer_without_draining() {
    let t0 = Instant::now();
    // Room for `1::` and two more packets.
    let (mut s, _) = session_with(t0, 3, Controls::default());
    drain(&mut s);
    s.handle_frame(
        t0 + secs(1),
        Controls::default(),
        "f",
        replies(&["a", "b", "c", "d"]),
    );
    assert_eq!(
        drain(&mut s),
        (vec!["a".into(), "b".into()], Some(Ending::SlowConsumer))
    );
    assert!(!Ending::SlowConsumer.drains());
    assert_eq!(Ending::SlowConsumer.farewell().as_deref(), Some("0::"));
    // A heartbeat that finds no room does the same.
    let (mut s, budget) = session_with(t0, 2, Controls::default());
    drain(&mut s);
    assert!(budget.try_reserve(1), "another producer's packet");
    s.handle_timeout(t0 + INTERVAL, Controls::default());
    assert_eq!(drain(&mut s), (vec![], Some(Ending::SlowConsumer)));
    // And `1::` itself.
    let budget = Arc::new(Budget::new(1, 1 << 20));
    assert!(budget.try_reserve(1));
    let timing = Timing {
        heartbeat_interval: INTERVAL,
        heartbeat_timeout: TIMEOUT,
        expires_at: t0 + secs(3600),
    };
    let mut s = Session::open(t0, timing, budget, Controls::default());
    assert_eq!(drain(&mut s), (vec![], Some(Ending::SlowConsumer)));
}

#[test]
fn held_acks_that_find_no_room_end_it_as_a_slow_consumer() {
    let t0 = Instant::now();
    let (mut s, _) = session_with(t0, 3, Controls::default());
    drain(&mut s);
    s.handle_frame(t0, ack_delay(secs(1)), "f", replies(&["a", "b", "c"]));
    assert_eq!(drain(&mut s), (vec![], Some(Ending::SlowConsumer)));
}

#[test]
fn reading_pauses_while_half_the_budget_waits() {
    let t0 = Instant::now();
    let (mut s, budget) = session_with(t0, 4, Controls::default());
    drain(&mut s);
    assert!(!s.reading_paused(), "1 of 4 packets waiting");
    s.handle_frame(t0, Controls::default(), "f", replies(&["a"]));
    drain(&mut s);
    assert!(s.reading_paused(), "2 of 4");
    budget.release(1);
    assert!(!s.reading_paused());
}

#[test]
fn the_first_ending_wins_and_close_requests_map_to_endings() {
    let t0 = Instant::now();
    for (request, ending) in [
        (Some(CloseReason::Dropped), Ending::Dropped),
        (Some(CloseReason::SessionEnded), Ending::SessionEnded),
        (Some(CloseReason::SlowConsumer), Ending::SlowConsumer),
        (None, Ending::Dropped),
    ] {
        let (mut s, _) = session(t0);
        drain(&mut s);
        s.handle_close_request(request);
        s.handle_read_end(ReadEnd::Closed);
        assert_eq!(drain(&mut s), (vec![], Some(ending)));
        assert!(
            ending.farewell().is_some(),
            "{ending:?}: the server says 0::"
        );
    }
    for (end, ending) in [
        (ReadEnd::Closed, Ending::ClientClosed),
        (ReadEnd::TooBig, Ending::MessageTooBig),
        (ReadEnd::Failed, Ending::ReceiveFailed),
    ] {
        let (mut s, _) = session(t0);
        drain(&mut s);
        s.handle_read_end(end);
        assert_eq!(drain(&mut s), (vec![], Some(ending)));
        assert_eq!(ending.farewell(), None, "{ending:?}: the client is gone");
        assert!(ending.drains());
    }
}
