//! Roles: what a session minted for a role may do with groups, and how a role document is
//! read and written. The in-memory store behind `/v1/roles` is
//! [`crate::respoke::role_store`].
//!
//! A role document, as `respoke-admin` 1.9.0's tests create them and Respoke stored them:
//!
//! ```json
//! {"appId": "...", "name": "agents", "mediaRelay": false,
//!  "events": {"subscribe": false, "unsubscribe": false},
//!  "groups": {"list": true,
//!             "*":       {"create": true, "destroy": true, "subscribe": true,
//!                         "unsubscribe": true, "publish": true, "getsubscribers": true},
//!             "lobby":   {"subscribe": true, "publish": false}}}
//! ```
//!
//! `groups` maps a group name, or `*` for every group without an entry of its own, to the
//! permissions below; a permission left out is denied, and a group with no entry and no `*` is
//! denied everything. How each permission maps to the socket routes:
//!
//! | permission       | allows                                                                  |
//! |------------------|-------------------------------------------------------------------------|
//! | `subscribe`      | joining the group (`post /v1/groups/`)                                   |
//! | `create`         | joining a group that has no members yet, `post /v1/channels/`           |
//! | `unsubscribe`    | leaving it (`delete /v1/groups/`)                                        |
//! | `publish`        | `post /v1/channels/<group>/publish/`                                    |
//! | `getsubscribers` | `get /v1/channels/<group>/subscribers/` (respoke.js `group.getMembers`) |
//! | `destroy`        | stored and echoed; the dev server has no route that destroys a group    |
//!
//! A denied request gets a `403` ack. `groups.list`, `mediaRelay` and `events` are stored and
//! echoed only. A role created through `POST /v1/roles` without `groups` may do nothing with
//! groups (Respoke's "blank role"); a config role without `groups` may do everything (config
//! files written before roles had permissions keep working). A session without a role
//! (development mode) may do everything. A session whose role was deleted may only leave
//! groups: leaving takes nothing, a session can always end its memberships by disconnecting,
//! and respoke.js's `client.disconnect()` leaves every group first and throws an uncaught
//! error in the page when that is refused.

use std::collections::BTreeMap;

use respoke_protocol::push::MAX_GROUP_ID_LEN;
use serde_json::{json, Map, Value};

/// The longest role name, and role id, accepted (the config's app names share it:
/// [`crate::config::MAX_NAME_LEN`]).
pub const MAX_NAME_LEN: usize = 128;
/// The most entries in a role's `groups` (`list` included).
pub const MAX_GROUP_RULES: usize = 64;

/// Something a session may be allowed to do with a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupAction {
    /// Join a group that has no members yet (or `post /v1/channels/`).
    Create,
    /// Join.
    Subscribe,
    /// Leave.
    Unsubscribe,
    /// Publish to it.
    Publish,
    /// List its members.
    GetSubscribers,
}

impl GroupAction {
    /// The permission's key in a role document.
    pub fn key(self) -> &'static str {
        match self {
            GroupAction::Create => "create",
            GroupAction::Subscribe => "subscribe",
            GroupAction::Unsubscribe => "unsubscribe",
            GroupAction::Publish => "publish",
            GroupAction::GetSubscribers => "getsubscribers",
        }
    }
}

/// The permission keys of a group entry, in the order they are echoed.
const PERMISSION_KEYS: [&str; 6] = [
    "create",
    "destroy",
    "subscribe",
    "unsubscribe",
    "publish",
    "getsubscribers",
];

/// The permissions of one group entry (`create`, `destroy`, `subscribe`, `unsubscribe`,
/// `publish`, `getsubscribers`): those that are `true`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupPermissions {
    /// One bit per [`PERMISSION_KEYS`] entry.
    bits: u8,
}

impl GroupPermissions {
    /// Every permission.
    pub fn all() -> GroupPermissions {
        GroupPermissions {
            bits: (1 << PERMISSION_KEYS.len()) - 1,
        }
    }

    fn bit(key: &str) -> Option<u8> {
        PERMISSION_KEYS
            .iter()
            .position(|k| *k == key)
            .map(|index| 1 << index)
    }

    /// Whether `action` is allowed.
    pub fn allows(self, action: GroupAction) -> bool {
        GroupPermissions::bit(action.key()).is_some_and(|bit| self.bits & bit != 0)
    }

    /// Reads `{"publish": true, ...}`; `field` names the entry in errors.
    fn from_json(field: &str, value: &Value) -> Result<GroupPermissions, (String, String)> {
        let Value::Object(entries) = value else {
            return Err((field.to_owned(), format!("{field} must be an object")));
        };
        let mut permissions = GroupPermissions::default();
        for (key, allowed) in entries {
            let Some(bit) = GroupPermissions::bit(key) else {
                return Err((
                    format!("{field}.{}", excerpt(key)),
                    format!("unknown permission; known: {}", PERMISSION_KEYS.join(", ")),
                ));
            };
            match allowed {
                Value::Bool(true) => permissions.bits |= bit,
                Value::Bool(false) => {}
                _ => {
                    return Err((
                        format!("{field}.{key}"),
                        format!("{field}.{key} must be true or false"),
                    ))
                }
            }
        }
        Ok(permissions)
    }

    fn to_json(self) -> Value {
        let map: Map<String, Value> = PERMISSION_KEYS
            .iter()
            .map(|key| {
                let allowed = GroupPermissions::bit(key).is_some_and(|bit| self.bits & bit != 0);
                ((*key).to_owned(), Value::Bool(allowed))
            })
            .collect();
        Value::Object(map)
    }
}

/// One role.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    /// The role id (an upper-case GUID for roles created at run time).
    pub id: String,
    /// The app it belongs to.
    pub app_id: String,
    /// A human name.
    pub name: String,
    /// Group name (or `*`) -> permissions.
    pub groups: BTreeMap<String, GroupPermissions>,
    /// `groups.list`.
    pub list_groups: bool,
    /// `mediaRelay`, echoed.
    pub media_relay: bool,
    /// `events` (`{"subscribe", "unsubscribe"}`), echoed.
    pub events: BTreeMap<String, bool>,
}

/// The fields of a role document a `POST` or `PUT` body sets (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleFields {
    /// `appId`.
    pub app_id: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `groups`: the entries and `list`.
    pub groups: Option<(BTreeMap<String, GroupPermissions>, bool)>,
    /// `mediaRelay`.
    pub media_relay: Option<bool>,
    /// `events`.
    pub events: Option<BTreeMap<String, bool>>,
}

/// The keys `events` may have.
const EVENT_KEYS: [&str; 2] = ["subscribe", "unsubscribe"];

impl RoleFields {
    /// Reads a role body. Unknown top-level keys (`id`, timestamps an SDK echoes back) are
    /// ignored; known ones of the wrong shape are validation errors (`field -> message`).
    pub fn from_json(body: &Value) -> Result<RoleFields, Map<String, Value>> {
        let mut errors = Map::new();
        let mut fields = RoleFields::default();
        let Value::Object(body) = body else {
            errors.insert("body".into(), json!("the body must be a JSON object"));
            return Err(errors);
        };
        let mut fail = |field: String, message: String| {
            errors.insert(field, Value::String(message));
        };
        match body.get("appId") {
            None | Some(Value::Null) => {}
            Some(Value::String(id)) if !id.trim().is_empty() && id.len() <= MAX_NAME_LEN => {
                fields.app_id = Some(id.trim().to_owned());
            }
            Some(_) => fail("appId".into(), "appId must be an app id".into()),
        }
        match body.get("name") {
            None | Some(Value::Null) => {}
            Some(Value::String(name)) => match check_name(name) {
                Ok(name) => fields.name = Some(name),
                Err(message) => fail("name".into(), message),
            },
            Some(_) => fail("name".into(), "name must be a string".into()),
        }
        match body.get("mediaRelay") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(relay)) => fields.media_relay = Some(*relay),
            Some(_) => fail(
                "mediaRelay".into(),
                "mediaRelay must be true or false".into(),
            ),
        }
        match body.get("events") {
            None | Some(Value::Null) => {}
            Some(Value::Object(events)) => {
                let mut parsed = BTreeMap::new();
                for (key, value) in events {
                    match (EVENT_KEYS.contains(&key.as_str()), value) {
                        (true, Value::Bool(allowed)) => {
                            parsed.insert(key.clone(), *allowed);
                        }
                        _ => fail(
                            format!("events.{}", excerpt(key)),
                            "events takes subscribe and unsubscribe, true or false".into(),
                        ),
                    }
                }
                fields.events = Some(parsed);
            }
            Some(_) => fail("events".into(), "events must be an object".into()),
        }
        match body.get("groups") {
            None | Some(Value::Null) => {}
            Some(groups) => match parse_groups(groups) {
                Ok(parsed) => fields.groups = Some(parsed),
                Err((field, message)) => fail(field, message),
            },
        }
        if errors.is_empty() {
            Ok(fields)
        } else {
            Err(errors)
        }
    }
}

fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("name is required".into());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("name is longer than {MAX_NAME_LEN} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".into());
    }
    Ok(name.to_owned())
}

fn excerpt(text: &str) -> String {
    text.chars().take(64).collect()
}

/// Reads `groups`: `{"list"?: bool, "<group>" | "*": {permissions}}`.
fn parse_groups(
    groups: &Value,
) -> Result<(BTreeMap<String, GroupPermissions>, bool), (String, String)> {
    let Value::Object(entries) = groups else {
        return Err(("groups".into(), "groups must be an object".into()));
    };
    if entries.len() > MAX_GROUP_RULES {
        return Err((
            "groups".into(),
            format!("groups has more than {MAX_GROUP_RULES} entries"),
        ));
    }
    let mut rules = BTreeMap::new();
    let mut list = false;
    for (group, value) in entries {
        if group == "list" {
            match value {
                Value::Bool(allowed) => list = *allowed,
                _ => {
                    return Err((
                        "groups.list".into(),
                        "groups.list must be true or false".into(),
                    ))
                }
            }
            continue;
        }
        if group.is_empty() || group.len() > MAX_GROUP_ID_LEN {
            return Err((
                "groups".into(),
                format!("group names are 1 to {MAX_GROUP_ID_LEN} bytes"),
            ));
        }
        let field = format!("groups.{}", excerpt(group));
        rules.insert(group.clone(), GroupPermissions::from_json(&field, value)?);
    }
    Ok((rules, list))
}

impl Role {
    /// A config role (`[[apps.roles]]` of app `app_id`): its `groups` table if it has one (the
    /// same shape as the JSON body), every group permission otherwise.
    pub fn configured(
        app_id: &str,
        id: &str,
        name: &str,
        groups: Option<&toml::Table>,
    ) -> Result<Role, String> {
        let name = check_name(name)?;
        if id.trim().is_empty() || id.len() > MAX_NAME_LEN {
            return Err(format!("a role id is 1 to {MAX_NAME_LEN} bytes"));
        }
        let (groups, list_groups) = match groups {
            Some(table) => {
                let value = serde_json::to_value(table).map_err(|e| e.to_string())?;
                parse_groups(&value).map_err(|(field, message)| format!("{field}: {message}"))?
            }
            None => (
                BTreeMap::from([("*".to_owned(), GroupPermissions::all())]),
                true,
            ),
        };
        Ok(Role {
            id: id.to_owned(),
            app_id: app_id.to_owned(),
            name,
            groups,
            list_groups,
            media_relay: false,
            events: BTreeMap::new(),
        })
    }

    /// Whether a session of this role may do `action` with `group`: the group's own entry
    /// if it has one, else `*`'s, else nothing.
    pub fn permits(&self, group: &str, action: GroupAction) -> bool {
        self.groups
            .get(group)
            .or_else(|| self.groups.get("*"))
            .is_some_and(|permissions| permissions.allows(action))
    }

    /// The role document as the admin routes answer it.
    pub fn to_json(&self) -> Value {
        let mut groups: Map<String, Value> = self
            .groups
            .iter()
            .map(|(group, permissions)| (group.clone(), permissions.to_json()))
            .collect();
        groups.insert("list".into(), Value::Bool(self.list_groups));
        json!({
            "id": self.id,
            "appId": self.app_id,
            "name": self.name,
            "mediaRelay": self.media_relay,
            "events": self.events,
            "groups": groups,
        })
    }

    /// Sets the fields given (not `appId`: a role stays in its app).
    pub(crate) fn apply(&mut self, fields: RoleFields) {
        if let Some(name) = fields.name {
            self.name = name;
        }
        if let Some((groups, list)) = fields.groups {
            self.groups = groups;
            self.list_groups = list;
        }
        if let Some(relay) = fields.media_relay {
            self.media_relay = relay;
        }
        if let Some(events) = fields.events {
            self.events = events;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::respoke::role_store::RoleStore;

    fn fields(body: Value) -> RoleFields {
        RoleFields::from_json(&body).unwrap()
    }

    #[test]
    fn permissions_by_group_then_star() {
        let store = RoleStore::default();
        let role = store
            .create(
                "A",
                fields(json!({"name": "agents", "groups": {
                    "*": {"subscribe": true, "publish": true},
                    "lobby": {"subscribe": true, "getsubscribers": true},
                    "list": true}})),
            )
            .unwrap();
        assert_eq!(role.id.len(), 36);
        let id = Some(role.id.as_str());
        assert!(store.permits(id, "bridge", GroupAction::Publish));
        assert!(store.permits(id, "bridge", GroupAction::Subscribe));
        assert!(!store.permits(id, "bridge", GroupAction::Create));
        // The group's own entry replaces `*` entirely.
        assert!(!store.permits(id, "lobby", GroupAction::Publish));
        assert!(store.permits(id, "lobby", GroupAction::GetSubscribers));
        assert!(store.permits(None, "anything", GroupAction::Create));
        assert!(!store.permits(Some("gone"), "bridge", GroupAction::Subscribe));
        assert!(store.permits(Some("gone"), "bridge", GroupAction::Unsubscribe));
        // Lower-case ids find the role too.
        assert!(store.permits(
            Some(&role.id.to_ascii_lowercase()),
            "x",
            GroupAction::Publish
        ));
        let doc = role.to_json();
        assert_eq!(doc["groups"]["list"], true);
        assert_eq!(doc["groups"]["*"]["publish"], true);
        assert_eq!(doc["groups"]["*"]["create"], false);
        assert_eq!(doc["appId"], "A");
    }

    #[test]
    fn config_roles_may_do_everything_unless_they_say_otherwise() {
        let role = Role::configured("A", "R", "r", None).unwrap();
        for action in [
            GroupAction::Create,
            GroupAction::Subscribe,
            GroupAction::Unsubscribe,
            GroupAction::Publish,
            GroupAction::GetSubscribers,
        ] {
            assert!(role.permits("g", action));
        }
        let limited: toml::Table = toml::from_str("[\"*\"]\nsubscribe = true\n").unwrap();
        let role = Role::configured("A", "R", "r", Some(&limited)).unwrap();
        assert!(role.permits("g", GroupAction::Subscribe));
        assert!(!role.permits("g", GroupAction::Publish));
        let bad: toml::Table = toml::from_str("[\"*\"]\npublsh = true\n").unwrap();
        assert!(Role::configured("A", "R", "r", Some(&bad)).is_err());
    }

    #[test]
    fn bodies_are_validated() {
        for (body, field) in [
            (json!([]), "body"),
            (json!({"name": 5}), "name"),
            (json!({"name": "  "}), "name"),
            (json!({"name": "x".repeat(MAX_NAME_LEN + 1)}), "name"),
            (json!({"name": "a\nb"}), "name"),
            (json!({"appId": 3}), "appId"),
            (json!({"groups": []}), "groups"),
            (
                json!({"groups": {"*": {"publish": "yes"}}}),
                "groups.*.publish",
            ),
            (json!({"groups": {"*": {"fly": true}}}), "groups.*.fly"),
            (json!({"groups": {"*": true}}), "groups.*"),
            (json!({"groups": {"list": 1}}), "groups.list"),
            (json!({"groups": {"": {}}}), "groups"),
            (json!({"mediaRelay": "no"}), "mediaRelay"),
            (json!({"events": {"fly": true}}), "events.fly"),
        ] {
            let errors = RoleFields::from_json(&body).unwrap_err();
            assert!(errors.contains_key(field), "{body}: {errors:?}");
        }
        let many: Map<String, Value> = (0..=MAX_GROUP_RULES)
            .map(|n| (format!("g{n}"), json!({})))
            .collect();
        let errors = RoleFields::from_json(&json!({"groups": many})).unwrap_err();
        assert!(errors.contains_key("groups"));
        // Unknown top-level keys are ignored.
        let parsed = fields(json!({"name": " n ", "id": "X", "createdAt": 1}));
        assert_eq!(parsed.name.as_deref(), Some("n"));
    }
}
