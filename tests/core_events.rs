//! The event objects the app's listeners get (`Event` as serde serializes it, handed to JS
//! through serde-wasm-bindgen): one per variant, field for field as `src/api.d.ts` declares them.

use respoke_client::connection::{CallId, Code, Event, Phase, State, Stats, WaitingFor};
use serde_json::{json, Value};

fn shape(event: Event) -> serde_json::Value {
    serde_json::to_value(&event).unwrap()
}

#[test]
fn connection_events() {
    let connect = Event::Connect {
        endpoint_id: "spock".into(),
        connection_id: "C1".into(),
        attempt: 2,
    };
    assert_eq!(
        shape(connect),
        json!({"type": "connect", "endpointId": "spock", "connectionId": "C1", "attempt": 2})
    );
    let disconnect = Event::Disconnect {
        reason: "socket closed".into(),
        code: Code::SocketClosed,
        will_reconnect: true,
    };
    assert_eq!(
        shape(disconnect),
        json!({"type": "disconnect", "reason": "socket closed", "code": "SOCKET_CLOSED",
               "willReconnect": true})
    );
    let reconnecting = Event::Reconnecting {
        attempt: 3,
        delay_ms: 1234,
        cause: Code::SessionHttp,
    };
    assert_eq!(
        shape(reconnecting),
        json!({"type": "reconnecting", "attempt": 3, "delayMs": 1234, "cause": "SESSION_HTTP"})
    );
    for (status, expected) in [
        (
            None,
            json!({"type": "failed", "reason": "log in", "code": "TOKEN_UNAUTHORIZED",
                      "reauthenticate": true}),
        ),
        (
            Some(401),
            json!({"type": "failed", "reason": "log in", "code": "TOKEN_UNAUTHORIZED",
                           "reauthenticate": true, "status": 401}),
        ),
    ] {
        let failed = Event::Failed {
            reason: "log in".into(),
            status,
            code: Code::TokenUnauthorized,
            reauthenticate: true,
        };
        assert_eq!(shape(failed), expected);
    }
}

#[test]
fn state_events_leave_absent_options_out() {
    let waiting = Event::State {
        state: State::Waiting,
        previous: State::Connecting,
        phase: None,
        attempt: Some(2),
        retry_in: Some(900),
        waiting_for: None,
        at: 17,
    };
    assert_eq!(
        shape(waiting),
        json!({"type": "state", "state": "waiting", "previous": "connecting", "attempt": 2,
               "retryIn": 900, "at": 17})
    );
    let connecting = Event::State {
        state: State::Connecting,
        previous: State::Idle,
        phase: Some(Phase::Handshake),
        attempt: Some(1),
        retry_in: None,
        waiting_for: Some(WaitingFor::Online),
        at: 0,
    };
    assert_eq!(
        shape(connecting),
        json!({"type": "state", "state": "connecting", "previous": "idle", "phase": "handshake",
               "attempt": 1, "waitingFor": "online", "at": 0})
    );
    for (state, name) in [
        (State::Idle, "idle"),
        (State::Connecting, "connecting"),
        (State::Connected, "connected"),
        (State::Waiting, "waiting"),
        (State::Failed, "failed"),
        (State::Closed, "closed"),
    ] {
        assert_eq!(state.as_str(), name);
        assert_eq!(serde_json::to_value(state).unwrap(), json!(name));
    }
}

#[test]
fn session_events() {
    let message = Event::Message {
        from: "kirk".into(),
        from_connection: "C2".into(),
        timestamp: 1_700_000_000_123,
        message: "hi \"there\"\n".into(),
    };
    assert_eq!(
        shape(message),
        json!({"type": "message", "from": "kirk", "fromConnection": "C2",
               "timestamp": 1_700_000_000_123_u64, "message": "hi \"there\"\n"})
    );
    let presence = Event::Presence {
        from: "kirk".into(),
        from_connection: "C2".into(),
        presence: Value::from("away"),
        show: None,
        status: Some(Value::from("on the bridge")),
    };
    assert_eq!(
        shape(presence),
        json!({"type": "presence", "from": "kirk", "fromConnection": "C2", "presence": "away",
               "status": "on the bridge"})
    );
    let join = Event::Join {
        group: "bridge".into(),
        endpoint_id: "kirk".into(),
        connection_id: "C2".into(),
    };
    assert_eq!(
        shape(join),
        json!({"type": "join", "group": "bridge", "endpointId": "kirk", "connectionId": "C2"})
    );
    let leave = Event::Leave {
        group: "bridge".into(),
        endpoint_id: "kirk".into(),
        connection_id: "C2".into(),
    };
    assert_eq!(shape(leave)["type"], "leave");
    let pubsub = Event::Pubsub {
        group: "bridge".into(),
        from: "kirk".into(),
        from_connection: "C2".into(),
        timestamp: 5,
        message: "engage".into(),
    };
    assert_eq!(
        shape(pubsub),
        json!({"type": "pubsub", "group": "bridge", "from": "kirk", "fromConnection": "C2",
               "timestamp": 5, "message": "engage"})
    );
    let error = Event::Error {
        code: Code::ListenerError,
        message: "a message listener threw".into(),
        status: None,
        retry: true,
    };
    assert_eq!(
        shape(error),
        json!({"type": "error", "code": "LISTENER_ERROR", "message": "a message listener threw",
               "retry": true})
    );
    let reply = Event::Reply {
        id: CallId(7),
        result: Ok(Value::Null),
    };
    assert_eq!(shape(reply), json!({"type": "reply", "id": 7}));
}

#[test]
fn stats() {
    let stats = Stats {
        attempts: 3,
        tokens_fetched: 2,
        connects: 1,
        disconnects: 0,
    };
    let shape: serde_json::Value = serde_json::to_value(stats).unwrap();
    assert_eq!(
        shape,
        json!({"attempts": 3, "tokensFetched": 2, "connects": 1, "disconnects": 0})
    );
}
