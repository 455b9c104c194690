//! What the app set up over the socket and the client restores after every connect: its
//! presence (or `unavailable`, as respoke.js announces), the groups it joined and the endpoints
//! whose presence it observes.

use respoke_protocol::sails::Method;
use serde_json::Value;

use super::calls::{Call, Effect};
use super::wire::{object, strings};

#[derive(Debug, Default)]
pub(crate) struct Restore {
    /// The presence the app set (`{type, show?, status?}`).
    presence: Option<Value>,
    joined: NameSet,
    observed: NameSet,
}

impl Restore {
    /// A request was made: presence, leaving and observing count at once, whatever the answer
    /// (the app's intent is what is restored).
    pub fn made(&mut self, effect: &Effect) {
        match effect {
            Effect::Presence(presence) => self.presence = Some(presence.clone()),
            Effect::Left(group) => self.joined.remove(group),
            Effect::Observed(endpoint_ids) => self.observed.extend(endpoint_ids),
            Effect::None | Effect::Joined(_) => {}
        }
    }

    /// A request succeeded: a group counts as joined only once the server said yes.
    pub fn succeeded(&mut self, effect: &Effect) {
        if let Effect::Joined(groups) = effect {
            self.joined.extend(groups);
        }
    }

    /// The requests that restore everything, in order (no promise waits on them).
    pub fn calls(&self) -> Vec<Call> {
        let presence = self
            .presence
            .clone()
            .unwrap_or_else(|| object([("type", "unavailable".into())]));
        let mut restore = vec![(
            Method::Post,
            "/v1/presence",
            object([("presence", presence)]),
        )];
        if !self.joined.is_empty() {
            let data = object([("groups", strings(&self.joined.0))]);
            restore.push((Method::Post, "/v1/groups/", data));
        }
        if !self.observed.is_empty() {
            let data = object([("endpointList", strings(&self.observed.0))]);
            restore.push((Method::Post, "/v1/presenceobservers", data));
        }
        restore
            .into_iter()
            .map(|(method, url, data)| Call {
                id: None,
                method,
                url: url.to_owned(),
                data,
                effect: Effect::None,
            })
            .collect()
    }
}

/// Names (groups, endpoints) kept sorted and unique in a `Vec`, as a `BTreeSet` would keep them:
/// an app joins a few, and the wasm then carries no B-tree type beside `serde_json`'s map.
#[derive(Debug, Default)]
struct NameSet(Vec<String>);

impl NameSet {
    fn extend<'a>(&mut self, names: impl IntoIterator<Item = &'a String>) {
        for name in names {
            if let Err(index) = self.0.binary_search(name) {
                self.0.insert(index, name.clone());
            }
        }
    }

    fn remove(&mut self, name: &str) {
        if let Ok(index) = self.0.binary_search_by(|n| n.as_str().cmp(name)) {
            self.0.remove(index);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
