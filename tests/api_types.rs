//! `src/api.d.ts` against the Rust lists it must mirror: every code union against
//! [`Code::ALL`] by group, the event map against [`EventName::ALL`], and the state, phase and
//! waiting-for unions against what serde writes for the Rust enums. The Rust side is the single
//! source; a code or event added there and not here (or the other way round) fails this test.

use std::collections::BTreeSet;

use respoke_client::connection::{Code, CodeGroup, EventName, Phase, State, WaitingFor};

const API: &str = include_str!("../src/api.d.ts");

/// The string literals of `export type NAME = ...;`, and the names of other types it unions.
fn union(name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let start = format!("export type {name} =");
    let at = API
        .find(&start)
        .unwrap_or_else(|| panic!("api.d.ts declares no type {name}"));
    let body = &API[at + start.len()..];
    let body = &body[..body.find(';').expect("the type ends with ;")];
    let mut literals = BTreeSet::new();
    let mut others = BTreeSet::new();
    for part in body.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        match part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
            Some(literal) => literals.insert(literal.to_owned()),
            None => others.insert(part.to_owned()),
        };
    }
    (literals, others)
}

fn codes(group: CodeGroup) -> BTreeSet<String> {
    Code::ALL
        .iter()
        .filter(|code| code.group() == group)
        .map(|code| code.as_str().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

#[test]
fn code_unions_match_the_rust_codes() {
    let (attempt, none) = union("AttemptErrorCode");
    assert!(none.is_empty());
    assert_eq!(attempt, codes(CodeGroup::Attempt), "AttemptErrorCode");

    let (disconnect, none) = union("DisconnectCode");
    assert!(none.is_empty());
    assert_eq!(disconnect, codes(CodeGroup::Disconnect), "DisconnectCode");

    let (wake, rest) = union("ReconnectCause");
    assert_eq!(wake, codes(CodeGroup::Wake), "ReconnectCause");
    assert_eq!(rest, set(&["AttemptErrorCode", "DisconnectCode"]));

    let (extra, rest) = union("ErrorEventCode");
    assert_eq!(extra, codes(CodeGroup::ErrorEvent), "ErrorEventCode");
    assert_eq!(rest, set(&["AttemptErrorCode", "DisconnectCode"]));

    let (request, none) = union("RequestErrorCode");
    assert!(none.is_empty());
    assert_eq!(request, codes(CodeGroup::Request), "RequestErrorCode");

    let (package, rest) = union("RespokeErrorCode");
    assert_eq!(package, codes(CodeGroup::Package), "RespokeErrorCode");
    assert_eq!(
        rest,
        set(&["AttemptErrorCode", "DisconnectCode", "RequestErrorCode"])
    );
}

#[test]
fn the_event_map_matches_the_rust_event_names() {
    let start = API
        .find("export interface ClientEventMap {")
        .expect("api.d.ts declares ClientEventMap");
    let body = &API[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find('}').unwrap()];
    let declared: Vec<&str> = body
        .lines()
        .filter_map(|line| line.trim().split_once(':').map(|(name, _)| name.trim()))
        .collect();
    let rust: Vec<&str> = EventName::ALL.iter().map(|name| name.as_str()).collect();
    assert_eq!(declared, rust, "ClientEventMap keys, in order");
}

fn serde_names<T: serde::Serialize>(values: &[T]) -> BTreeSet<String> {
    values
        .iter()
        .map(|value| match serde_json::to_value(value).unwrap() {
            serde_json::Value::String(name) => name,
            other => panic!("not a string: {other}"),
        })
        .collect()
}

#[test]
fn state_phase_and_waiting_for_unions_match_serde() {
    use State::*;
    let states = [Idle, Connecting, Connected, Waiting, Failed, Closed];
    assert_eq!(union("State").0, serde_names(&states));
    let phases = [
        Phase::Token,
        Phase::Session,
        Phase::Handshake,
        Phase::Socket,
        Phase::Register,
    ];
    assert_eq!(union("Phase").0, serde_names(&phases));
    let waiting = [WaitingFor::Online, WaitingFor::Visible, WaitingFor::Resume];
    assert_eq!(union("WaitingFor").0, serde_names(&waiting));
}
