//! Using the session between real sockets: messages, groups, presence and observers, error
//! acks for bad shapes, the ack delay, and the counters.

use std::time::{Duration, Instant};

use respoke_protocol::push::{
    publish_path, subscribers_path, MembershipEvent, ObservedPresence, Subscriber,
};
use respoke_protocol::sails::{Method, Request, Response};
use respoke_protocol::{Packet, PushEvent};
use serde_json::{json, Value};

use crate::common::*;

const WAIT: Duration = Duration::from_secs(3);

/// Fast heartbeats, but a long silence limit: these peers do not echo heartbeats.
fn settings() -> respoke_devserver::Settings {
    respoke_devserver::Settings {
        heartbeat_timeout_secs: 30,
        ..fast_settings()
    }
}

/// A socket with its connection.
struct Peer {
    ws: Ws,
    endpoint: String,
    connection: String,
}

impl Peer {
    async fn open(h: &Harness, endpoint: &str) -> Peer {
        let mut ws = h.open_socket(&h.app_token(endpoint).await).await;
        let r = ws
            .request(
                Method::Post,
                "/v1/connections",
                json!({"capabilities": {"iceFinalCandidates": true}}),
            )
            .await;
        assert_eq!(r.body["endpointId"], endpoint);
        let connection = r.body["id"].as_str().unwrap().to_owned();
        // Again: one connection per socket.
        let again = ws.request(Method::Post, "/v1/connections", json!({})).await;
        assert_eq!(again.body["id"], connection.as_str());
        Peer {
            ws,
            endpoint: endpoint.to_owned(),
            connection,
        }
    }

    async fn request(&mut self, method: Method, url: &str, data: Value) -> Response {
        self.ws.request(method, url, data).await
    }

    async fn ok(&mut self, method: Method, url: &str, data: Value) -> Value {
        let r = self.request(method, url, data).await;
        assert_eq!(r.status_code, 200, "{method} {url}: {:?}", r.body);
        assert!(!r.is_error());
        r.body
    }

    /// The next pushed event (heartbeats skipped); panics on anything else.
    async fn event(&mut self) -> PushEvent {
        match self.ws.next_non_heartbeat(WAIT).await {
            Received::Packet(packet) => {
                assert_eq!(packet.id(), None, "pushed events ask for no ack");
                PushEvent::from_packet(&packet)
                    .unwrap()
                    .unwrap_or_else(|| panic!("not a push event: {packet:?}"))
            }
            other => panic!("{} expected an event, got {other:?}", self.endpoint),
        }
    }

    /// Asserts that nothing but heartbeats arrives for a while.
    async fn quiet(&mut self) {
        assert_eq!(
            self.ws.next_non_heartbeat(Duration::from_millis(300)).await,
            Received::TimedOut,
            "{} should have received nothing",
            self.endpoint
        );
    }

    async fn close(mut self) {
        self.ws.send(&Packet::disconnect()).await;
        while !matches!(
            self.ws.receive(Duration::from_secs(2)).await,
            Received::Closed | Received::TimedOut
        ) {}
    }
}

fn message_of(event: PushEvent) -> respoke_protocol::push::MessageEvent {
    match event {
        PushEvent::Message(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn message_round_trip_reaches_every_socket_and_cc_self_copies() {
    let h = start_with(settings()).await;
    let mut spock1 = Peer::open(&h, "spock@x").await;
    let mut spock2 = Peer::open(&h, "spock@x").await;
    let mut kirk1 = Peer::open(&h, "kirk@x").await;
    let mut kirk2 = Peer::open(&h, "kirk@x").await;

    // Exactly as respoke.js's endpoint.sendMessage({message}) sends it.
    spock1
        .ok(
            Method::Post,
            "/v1/messages",
            json!({"to": "kirk@x", "ccSelf": true, "requestConnectionReply": false,
                   "push": false, "message": "Fascinating."}),
        )
        .await;
    for kirk in [&mut kirk1, &mut kirk2] {
        let m = message_of(kirk.event().await);
        assert_eq!(m.body, "Fascinating.");
        assert_eq!(m.header.kind, "message");
        assert_eq!(m.header.from, "spock@x");
        assert_eq!(m.header.from_connection, spock1.connection);
        assert_eq!(m.header.to_original, None);
        assert!(m.header.timestamp > 1_600_000_000_000);
    }
    // The sender's other socket gets a copy that names the original recipient.
    let copy = message_of(spock2.event().await);
    assert_eq!(copy.header.to_original.as_deref(), Some("kirk@x"));
    assert_eq!(copy.body, "Fascinating.");
    spock1.quiet().await;

    // A reply to one connection only, no copy.
    let to_connection = spock2.connection.clone();
    kirk2
        .ok(
            Method::Post,
            "/v1/messages",
            json!({"to": "spock@x", "toConnection": to_connection, "message": "Logical."}),
        )
        .await;
    let m = message_of(spock2.event().await);
    assert_eq!(
        (m.body.as_str(), m.header.from_connection.as_str()),
        ("Logical.", kirk2.connection.as_str())
    );
    spock1.quiet().await;
    kirk1.quiet().await;

    // An offline recipient: accepted, delivered nowhere.
    kirk1
        .ok(
            Method::Post,
            "/v1/messages",
            json!({"to": "nobody@x", "message": "?"}),
        )
        .await;

    let spock = h.endpoint_stats("spock@x").await;
    assert_eq!(spock["messagesSent"], 1);
    assert_eq!(spock["messagesDelivered"], 2); // the copy and the reply
    assert_eq!(spock["requests"], 5); // 2 sockets x 2 connection requests, 1 message
    let kirk = h.endpoint_stats("kirk@x").await;
    assert_eq!(kirk["messagesSent"], 2);
    assert_eq!(kirk["messagesDelivered"], 2);
    let all = h.stats().await;
    assert_eq!(all["messagesSent"], 3);
    assert_eq!(all["messagesDelivered"], 4);
    assert_eq!(all["requests"], 11);
}

#[tokio::test]
async fn groups_join_publish_subscribers_and_leave() {
    let h = start_with(settings()).await;
    let mut a = Peer::open(&h, "a@x").await;
    let mut b = Peer::open(&h, "b@x").await;
    let mut outsider = Peer::open(&h, "c@x").await;
    let group = "bridge crew/1"; // percent-encoded in the URLs

    // The join event reaches the joining connection too, after its ack.
    a.ok(Method::Post, "/v1/groups/", json!({"groups": [group]}))
        .await;
    assert_eq!(
        a.event().await,
        PushEvent::Join(MembershipEvent::join(group, "a@x", a.connection.as_str()))
    );
    b.ok(
        Method::Post,
        "/v1/groups/",
        json!({"groups": [group, "other"]}),
    )
    .await;
    let b_joined = PushEvent::Join(MembershipEvent::join(group, "b@x", b.connection.as_str()));
    assert_eq!(a.event().await, b_joined);
    // Groups are joined in the order named.
    assert_eq!(b.event().await, b_joined);
    assert_eq!(
        b.event().await,
        PushEvent::Join(MembershipEvent::join("other", "b@x", b.connection.as_str()))
    );
    // Joining again is silent.
    a.ok(Method::Post, "/v1/groups/", json!({"groups": [group]}))
        .await;
    a.quiet().await;

    let members = outsider
        .ok(Method::Get, &subscribers_path(group), json!({}))
        .await;
    let mut expected = vec![
        Subscriber {
            endpoint_id: "a@x".into(),
            connection_id: a.connection.clone(),
        },
        Subscriber {
            endpoint_id: "b@x".into(),
            connection_id: b.connection.clone(),
        },
    ];
    expected.sort();
    assert_eq!(
        serde_json::from_value::<Vec<Subscriber>>(members).unwrap(),
        expected
    );
    assert_eq!(
        outsider
            .ok(Method::Get, &subscribers_path("empty"), json!({}))
            .await,
        json!([])
    );

    // Publish as respoke.js's group.sendMessage does: every other member gets it.
    b.ok(
        Method::Post,
        &publish_path(group),
        json!({"to": group, "requestConnectionReply": false, "push": false, "message": "Red alert"}),
    )
    .await;
    match a.event().await {
        PushEvent::PubSub(p) => {
            assert_eq!(p.header.channel, group);
            assert_eq!(p.header.from, "b@x");
            assert_eq!(p.header.from_connection, b.connection);
            assert_eq!(p.message, "Red alert");
            assert!(p.header.timestamp > 1_600_000_000_000);
        }
        other => panic!("{other:?}"),
    }
    b.quiet().await;
    outsider.quiet().await;

    // Non-members may not publish; nobody publishes to an empty group.
    let r = outsider
        .request(Method::Post, &publish_path(group), json!({"message": "x"}))
        .await;
    assert_eq!((r.status_code, r.is_error()), (403, true));
    let r = outsider
        .request(
            Method::Post,
            &publish_path("ghost"),
            json!({"message": "x"}),
        )
        .await;
    assert_eq!((r.status_code, r.is_error()), (404, true));

    // Leaving: the remaining members are told, the leaver is not.
    b.ok(Method::Delete, "/v1/groups/", json!({"groups": [group]}))
        .await;
    assert_eq!(
        a.event().await,
        PushEvent::Leave(MembershipEvent::leave(group, "b@x", b.connection.as_str()))
    );
    b.quiet().await;
    let r = b
        .request(Method::Post, &publish_path(group), json!({"message": "x"}))
        .await;
    assert_eq!(r.status_code, 403);
    // Leaving again is fine and silent.
    b.ok(Method::Delete, "/v1/groups/", json!({"groups": [group]}))
        .await;
    a.quiet().await;

    assert_eq!(h.endpoint_stats("b@x").await["messagesSent"], 1);
    assert_eq!(h.endpoint_stats("a@x").await["messagesDelivered"], 1);
}

#[tokio::test]
async fn membership_ends_with_the_socket() {
    let h = start_with(settings()).await;
    let mut a = Peer::open(&h, "a@x").await;
    let mut b1 = Peer::open(&h, "b@x").await;
    let b2 = Peer::open(&h, "b@x").await;
    let b2_connection = b2.connection.clone();
    a.ok(Method::Post, "/v1/groups/", json!({"groups": ["g"]}))
        .await;
    a.event().await;
    let mut b2 = b2;
    b2.ok(Method::Post, "/v1/groups/", json!({"groups": ["g"]}))
        .await;
    a.event().await;
    b2.event().await;
    b1.quiet().await; // not a member: the endpoint's other socket is not told

    b2.close().await;
    assert_eq!(
        a.event().await,
        PushEvent::Leave(MembershipEvent::leave("g", "b@x", b2_connection.as_str()))
    );
    let members = a.ok(Method::Get, &subscribers_path("g"), json!({})).await;
    assert_eq!(members.as_array().unwrap().len(), 1);
    assert_eq!(members[0]["connectionId"], a.connection.as_str());

    // A dropped socket (server side) leaves too.
    b1.ok(Method::Post, "/v1/groups/", json!({"groups": ["g"]}))
        .await;
    a.event().await;
    h.dev("drop", json!({"endpointId": "b@x"})).await;
    assert!(matches!(a.event().await, PushEvent::Leave(_)));
    let members = a.ok(Method::Get, &subscribers_path("g"), json!({})).await;
    assert_eq!(members.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn presence_reaches_observers_and_unavailable_on_disconnect() {
    let h = start_with(settings()).await;
    let mut watcher = Peer::open(&h, "watcher@x").await;

    // Observing an endpoint that is offline: its entry has no connection states.
    let reply = watcher
        .ok(
            Method::Post,
            "/v1/presenceobservers",
            json!({"endpointList": ["kirk@x"]}),
        )
        .await;
    let observed: Vec<ObservedPresence> = serde_json::from_value(reply).unwrap();
    assert_eq!(observed.len(), 1);
    assert!(observed[0].connection_states.is_empty());
    assert_eq!(observed[0].resolved(), "unavailable");
    watcher.quiet().await;

    // respoke.js announces `unavailable` on connect, then the app sets its presence.
    let mut kirk1 = Peer::open(&h, "kirk@x").await;
    kirk1
        .ok(
            Method::Post,
            "/v1/presence",
            json!({"presence": {"type": "unavailable"}}),
        )
        .await;
    let presence = |event: PushEvent| match event {
        PushEvent::Presence(p) => p,
        other => panic!("expected presence, got {other:?}"),
    };
    let p = presence(watcher.event().await);
    assert_eq!(
        (p.header.from.as_str(), p.header.from_connection.as_str()),
        ("kirk@x", kirk1.connection.as_str())
    );
    assert_eq!(p.presence, "unavailable");
    kirk1
        .ok(
            Method::Post,
            "/v1/presence",
            json!({"presence": {"type": "available", "status": "On the bridge"}}),
        )
        .await;
    let p = presence(watcher.event().await);
    assert_eq!(p.presence, "available");
    assert_eq!(p.status, Some(json!("On the bridge")));
    assert_eq!(p.header.channel.as_deref(), Some("presence:kirk@x"));
    kirk1.quiet().await; // presence goes to observers only

    let mut kirk2 = Peer::open(&h, "kirk@x").await;
    kirk2
        .ok(
            Method::Post,
            "/v1/presence",
            json!({"presence": {"type": "away"}}),
        )
        .await;
    let p = presence(watcher.event().await);
    assert_eq!(
        (p.header.from_connection.as_str(), &p.presence),
        (kirk2.connection.as_str(), &json!("away"))
    );

    // A second observer gets the current state in the reply, then one event per connection.
    let mut late = Peer::open(&h, "late@x").await;
    let reply = late
        .ok(
            Method::Post,
            "/v1/presenceobservers",
            json!({"endpointList": ["kirk@x", "nobody@x"]}),
        )
        .await;
    let observed: Vec<ObservedPresence> = serde_json::from_value(reply).unwrap();
    assert_eq!(observed[0].endpoint_id, "kirk@x");
    assert_eq!(observed[0].connection_states.len(), 2);
    assert_eq!(
        observed[0].connection_states[&kirk1.connection].kind,
        "available"
    );
    assert_eq!(observed[0].resolved(), "available");
    assert_eq!(observed[1].resolved(), "unavailable");
    let mut initial: Vec<(String, Value)> = Vec::new();
    for _ in 0..2 {
        let p = presence(late.event().await);
        initial.push((p.header.from_connection, p.presence));
    }
    initial.sort_by_key(|(connection, _)| connection.clone());
    let mut expected = vec![
        (kirk1.connection.clone(), json!("available")),
        (kirk2.connection.clone(), json!("away")),
    ];
    expected.sort_by_key(|(connection, _)| connection.clone());
    assert_eq!(initial, expected);

    // Connections going away: each is reported unavailable, so the endpoint resolves to
    // unavailable once the last one is gone.
    let (k1, k2) = (kirk1.connection.clone(), kirk2.connection.clone());
    kirk1.close().await;
    for observer in [&mut watcher, &mut late] {
        let p = presence(observer.event().await);
        assert_eq!(
            (p.header.from_connection.as_str(), &p.presence),
            (k1.as_str(), &json!("unavailable"))
        );
    }
    h.dev("drop", json!({"endpointId": "kirk@x"})).await;
    let p = presence(watcher.event().await);
    assert_eq!(
        (p.header.from_connection.as_str(), &p.presence),
        (k2.as_str(), &json!("unavailable"))
    );
    let reply = watcher
        .ok(
            Method::Post,
            "/v1/presenceobservers",
            json!({"endpointList": ["kirk@x"]}),
        )
        .await;
    assert_eq!(
        reply,
        json!([{"endpointId": "kirk@x", "connectionStates": {}}])
    );

    // Unobserving stops the events; an observer's own end removes its registrations.
    late.ok(
        Method::Delete,
        "/v1/presenceobservers",
        json!({"endpointList": ["kirk@x"]}),
    )
    .await;
    let mut kirk3 = Peer::open(&h, "kirk@x").await;
    kirk3
        .ok(
            Method::Post,
            "/v1/presence",
            json!({"presence": {"type": "chat"}}),
        )
        .await;
    assert_eq!(presence(watcher.event().await).presence, "chat");
    // `late` was still told about kirk2's drop, before it stopped observing; nothing after.
    assert!(matches!(late.event().await, PushEvent::Presence(_)));
    late.quiet().await;
}

#[tokio::test]
async fn bad_shapes_get_400_error_acks() {
    let h = start_with(settings()).await;
    let mut p = Peer::open(&h, "bad@x").await;
    let cases: Vec<(Method, String, Value)> = vec![
        (
            Method::Post,
            "/v1/messages".into(),
            json!({"message": "no to"}),
        ),
        (
            Method::Post,
            "/v1/messages".into(),
            json!({"to": "", "message": "x"}),
        ),
        (
            Method::Post,
            "/v1/messages".into(),
            json!({"to": "x", "message": {"a": 1}}),
        ),
        (
            Method::Post,
            "/v1/messages".into(),
            json!({"to": 5, "message": "x"}),
        ),
        (Method::Post, "/v1/messages".into(), json!("just text")),
        (Method::Post, "/v1/groups/".into(), json!({"groups": []})),
        (Method::Post, "/v1/groups/".into(), json!({"groups": "g"})),
        (Method::Post, "/v1/groups/".into(), json!({"groups": [""]})),
        (Method::Delete, "/v1/groups/".into(), json!({"groups": [1]})),
        (
            Method::Post,
            "/v1/groups/".into(),
            json!({"groups": ["x".repeat(300)]}),
        ),
        (
            Method::Post,
            publish_path("g"),
            json!({"text": "wrong key"}),
        ),
        (
            Method::Post,
            "/v1/presence".into(),
            json!({"presence": "available"}),
        ),
        (Method::Post, "/v1/presence".into(), json!({"presence": {}})),
        (
            Method::Post,
            "/v1/presenceobservers".into(),
            json!({"endpointList": "kirk"}),
        ),
        (
            Method::Post,
            "/v1/presenceobservers".into(),
            json!({"endpointList": [null]}),
        ),
        (Method::Post, "/v1/signaling".into(), json!({"to": "x"})),
        (Method::Post, "/v1/channels/".into(), json!({})),
    ];
    for (method, url, data) in cases {
        let r = p.request(method, &url, data.clone()).await;
        assert_eq!(r.status_code, 400, "{method} {url} {data}");
        assert_eq!(
            r.body["error"], "Validation Error.",
            "{method} {url} {data}"
        );
        assert!(r.body["validationErrors"].is_object(), "{method} {url}");
    }
    // A `null` data is an absent body: still a 400, never a crash, and the socket lives on.
    let request = json!({"url": "/v1/messages", "data": null, "headers": {}});
    p.ws.send(&Packet::event(
        Some(99),
        "post",
        vec![json!(request.to_string())],
    ))
    .await;
    let args = p.ws.ack(99, WAIT).await;
    assert_eq!(Response::parse_ack_args(&args).unwrap().status_code, 400);
    let r = p
        .request(Method::Post, "/v1/channels/", json!({"name": "g"}))
        .await;
    assert_eq!(r.body, json!({"id": "g"}));
    assert!(
        h.endpoint_stats("bad@x").await["requests"]
            .as_u64()
            .unwrap()
            >= 19
    );
    assert_eq!(h.endpoint_stats("bad@x").await["messagesSent"], 0);
}

#[tokio::test]
async fn ack_delay_holds_answers_back_not_effects() {
    let h = start_with(settings()).await;
    let mut slow = Peer::open(&h, "slow@x").await;
    let mut other = Peer::open(&h, "other@x").await;

    let r = h
        .http
        .post(format!("{}/dev/ack-delay", h.api))
        .json(&json!({"seconds": -1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let reply = h
        .dev("ack-delay", json!({"seconds": 1.2, "endpointId": "slow@x"}))
        .await;
    assert_eq!(reply["seconds"], 1.2);
    let state: Value = h.get_json(&format!("{}/dev/state", h.api)).await;
    assert_eq!(state["ackDelayEndpoints"]["slow@x"], 1.2);

    // The message is delivered at once; the sender's ack comes after the delay, in order.
    let started = Instant::now();
    let first = slow
        .ws
        .send_request(
            &Request::new(Method::Post, "/v1/messages")
                .with_data(json!({"to": "other@x", "message": "now"})),
        )
        .await;
    let second = slow
        .ws
        .send_request(&Request::new(Method::Get, "/v1/turn"))
        .await;
    assert!(matches!(other.event().await, PushEvent::Message(_)));
    assert!(started.elapsed() < Duration::from_millis(900));
    assert_eq!(
        slow.ws.next_non_heartbeat(Duration::from_millis(800)).await,
        Received::TimedOut
    );
    let args = slow.ws.ack(first, WAIT).await;
    assert!(started.elapsed() >= Duration::from_millis(1200));
    assert_eq!(Response::parse_ack_args(&args).unwrap().body, json!({}));
    let _ = slow.ws.ack(second, Duration::from_millis(200)).await;
    // Other endpoints are not delayed.
    let quick = Instant::now();
    other.ok(Method::Get, "/v1/turn", json!({})).await;
    assert!(quick.elapsed() < Duration::from_millis(500));

    // A global delay; an endpoint's own delay wins; reset clears both.
    h.dev("ack-delay", json!({"seconds": 0.6})).await;
    let quick = Instant::now();
    other.ok(Method::Get, "/v1/turn", json!({})).await;
    assert!(quick.elapsed() >= Duration::from_millis(600));
    h.dev("reset", json!({})).await;
    let quick = Instant::now();
    slow.ok(Method::Get, "/v1/turn", json!({})).await;
    other.ok(Method::Get, "/v1/turn", json!({})).await;
    assert!(quick.elapsed() < Duration::from_millis(500));

    // Acks still held when the socket closes are lost (the client sees a disconnect).
    h.dev("ack-delay", json!({"seconds": 5, "endpointId": "slow@x"}))
        .await;
    slow.ws
        .send_request(&Request::new(Method::Get, "/v1/turn"))
        .await;
    h.dev("drop", json!({"endpointId": "slow@x"})).await;
    slow.ws.expect_dropped(WAIT).await;
    h.dev("ack-delay", json!({"seconds": 0, "endpointId": "slow@x"}))
        .await;
    let state: Value = h.get_json(&format!("{}/dev/state", h.api)).await;
    assert_eq!(state["ackDelayEndpoints"], json!({}));
    assert_eq!(state["ackDelaySecs"], Value::Null);
}

#[tokio::test]
async fn observing_pushes_no_unavailable_for_a_live_connection() {
    let h = start_with(settings()).await;
    let mut kirk = Peer::open(&h, "kirk@x").await;
    // respoke.js announces `unavailable` on every connect.
    kirk.ok(
        Method::Post,
        "/v1/presence",
        json!({"presence": {"type": "unavailable"}}),
    )
    .await;
    let mut watcher = Peer::open(&h, "watcher@x").await;
    let reply = watcher
        .ok(
            Method::Post,
            "/v1/presenceobservers",
            json!({"endpointList": ["kirk@x"]}),
        )
        .await;
    // The reply lists the live connection...
    let observed: Vec<ObservedPresence> = serde_json::from_value(reply).unwrap();
    assert_eq!(
        observed[0].connection_states[&kirk.connection].kind,
        "unavailable"
    );
    // ...but no `unavailable` is pushed for it (respoke.js would drop kirk from its groups).
    watcher.quiet().await;
    kirk.ok(
        Method::Post,
        "/v1/presence",
        json!({"presence": {"type": "available"}}),
    )
    .await;
    match watcher.event().await {
        PushEvent::Presence(p) => {
            assert_eq!(p.header.from_connection, kirk.connection);
            assert_eq!(p.presence, "available");
        }
        other => panic!("expected presence, got {other:?}"),
    }
    // A connection with a presence is pushed on observe.
    let mut late = Peer::open(&h, "late@x").await;
    late.ok(
        Method::Post,
        "/v1/presenceobservers",
        json!({"endpointList": ["kirk@x"]}),
    )
    .await;
    match late.event().await {
        PushEvent::Presence(p) => assert_eq!(p.presence, "available"),
        other => panic!("expected presence, got {other:?}"),
    }
    late.quiet().await;
}

#[tokio::test]
async fn connected_signal_reaches_the_callees_other_connections() {
    let h = start_with(settings()).await;
    let mut caller = Peer::open(&h, "spock@x").await;
    let mut winner = Peer::open(&h, "kirk@x").await;
    let mut loser = Peer::open(&h, "kirk@x").await;
    let winning = winner.connection.clone();
    let signal = |kind: &str| {
        json!({"signalType": kind, "sessionId": "S1", "target": "call",
               "connectionId": winning, "signalId": "X"})
        .to_string()
    };
    // The answer's follow-ups go to the winner only...
    caller
        .ok(
            Method::Post,
            "/v1/signaling",
            json!({"to": "kirk@x", "toConnection": winning, "toType": "web",
                   "signal": signal("iceCandidates")}),
        )
        .await;
    assert!(matches!(winner.event().await, PushEvent::Signal(_)));
    loser.quiet().await;
    // ...but `connected` reaches the loser too, so it hangs up.
    caller
        .ok(
            Method::Post,
            "/v1/signaling",
            json!({"to": "kirk@x", "toConnection": winning, "toType": "web",
                   "signal": signal("connected")}),
        )
        .await;
    for peer in [&mut winner, &mut loser] {
        match peer.event().await {
            PushEvent::Signal(s) => {
                assert_eq!(s.header.from_connection, caller.connection);
                assert_eq!(s.header.to_original, None);
                let body: Value = serde_json::from_str(&s.body).unwrap();
                assert_eq!(body["signalType"], "connected");
            }
            other => panic!("expected a signal, got {other:?}"),
        }
    }
    caller.quiet().await;
}
