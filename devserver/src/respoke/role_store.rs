//! The in-memory store of every app's roles behind `/v1/roles`, seeded from the config's
//! `[[apps.roles]]`; what a role permits is [`crate::respoke::roles`].

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::config::{AppConfig, Config};
use crate::ids::guid;
use crate::respoke::roles::{GroupAction, Role, RoleFields};
use crate::sync::lock;

/// The most roles one app may have (config roles included).
pub const MAX_ROLES_PER_APP: usize = 100;

/// Why the store refused a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// No role with that id (or not in the app asked about).
    #[error("Object 'Roles' not found.")]
    NotFound,
    /// The app has [`MAX_ROLES_PER_APP`] roles already.
    #[error("An app has at most {MAX_ROLES_PER_APP} roles.")]
    TooMany,
    /// `POST` without `name`.
    #[error("name is required")]
    NameRequired,
}

/// Every app's roles, by upper-case role id.
#[derive(Debug, Default)]
pub struct RoleStore {
    roles: Mutex<BTreeMap<String, Role>>,
}

fn key(role_id: &str) -> String {
    role_id.trim().to_ascii_uppercase()
}

impl RoleStore {
    /// The config's roles (a config that failed [`Config::validate`] contributes the roles
    /// that are valid).
    pub fn from_config(config: &Config) -> RoleStore {
        let roles = config
            .apps
            .iter()
            .flat_map(|app: &AppConfig| {
                app.roles.iter().filter_map(|role| {
                    Role::configured(&app.id, &role.id, &role.name, role.groups.as_ref())
                        .inspect_err(
                            |error| tracing::warn!(role = %role.id, %error, "role skipped"),
                        )
                        .ok()
                })
            })
            .map(|role| (key(&role.id), role))
            .collect();
        RoleStore {
            roles: Mutex::new(roles),
        }
    }

    /// The role with `role_id`.
    pub fn get(&self, role_id: &str) -> Option<Role> {
        lock(&self.roles).get(&key(role_id)).cloned()
    }

    /// The roles of `app_id`, by id.
    pub fn list(&self, app_id: &str) -> Vec<Role> {
        lock(&self.roles)
            .values()
            .filter(|role| role.app_id.eq_ignore_ascii_case(app_id))
            .cloned()
            .collect()
    }

    /// Creates a role of `app_id` with a fresh id.
    pub fn create(&self, app_id: &str, fields: RoleFields) -> Result<Role, RoleError> {
        let name = fields.name.clone().ok_or(RoleError::NameRequired)?;
        let mut roles = lock(&self.roles);
        let count = roles
            .values()
            .filter(|role| role.app_id.eq_ignore_ascii_case(app_id))
            .count();
        if count >= MAX_ROLES_PER_APP {
            return Err(RoleError::TooMany);
        }
        let mut role = Role {
            id: guid(),
            app_id: app_id.to_owned(),
            name,
            groups: BTreeMap::new(),
            list_groups: false,
            media_relay: false,
            events: BTreeMap::new(),
        };
        role.apply(fields);
        roles.insert(key(&role.id), role.clone());
        Ok(role)
    }

    /// Changes the fields given of role `role_id`, if `may(app_id)` allows its app.
    pub fn update(
        &self,
        role_id: &str,
        may: impl Fn(&str) -> bool,
        fields: RoleFields,
    ) -> Result<Role, RoleError> {
        let mut roles = lock(&self.roles);
        let role = roles
            .get_mut(&key(role_id))
            .filter(|role| may(&role.app_id))
            .ok_or(RoleError::NotFound)?;
        role.apply(fields);
        Ok(role.clone())
    }

    /// Deletes role `role_id`, if `may(app_id)` allows its app.
    pub fn delete(&self, role_id: &str, may: impl Fn(&str) -> bool) -> Result<Role, RoleError> {
        let mut roles = lock(&self.roles);
        let id = key(role_id);
        if !roles.get(&id).is_some_and(|role| may(&role.app_id)) {
            return Err(RoleError::NotFound);
        }
        roles.remove(&id).ok_or(RoleError::NotFound)
    }

    /// Whether a session of `role_id` may do `action` with `group`. No role (development
    /// mode): yes; a role that no longer exists: only [`GroupAction::Unsubscribe`].
    pub fn permits(&self, role_id: Option<&str>, group: &str, action: GroupAction) -> bool {
        match role_id {
            None => true,
            Some(id) => lock(&self.roles)
                .get(&key(id))
                .map_or(action == GroupAction::Unsubscribe, |role| {
                    role.permits(group, action)
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn fields(body: Value) -> RoleFields {
        RoleFields::from_json(&body).unwrap()
    }

    #[test]
    fn blank_roles_may_do_nothing_with_groups() {
        let store = RoleStore::default();
        let blank = store.create("A", fields(json!({"name": "blank"}))).unwrap();
        assert!(!store.permits(Some(&blank.id), "g", GroupAction::Subscribe));
    }

    #[test]
    fn store_limits_update_and_delete() {
        let store = RoleStore::default();
        for n in 0..MAX_ROLES_PER_APP {
            store
                .create("A", fields(json!({"name": format!("r{n}")})))
                .unwrap();
        }
        assert_eq!(
            store.create("A", fields(json!({"name": "one too many"}))),
            Err(RoleError::TooMany)
        );
        let other = store.create("B", fields(json!({"name": "b"}))).unwrap();
        assert_eq!(
            store.create("B", RoleFields::default()),
            Err(RoleError::NameRequired)
        );
        assert_eq!(store.list("A").len(), MAX_ROLES_PER_APP);
        assert_eq!(store.list("b").len(), 1);
        // Another app's credentials see no such role.
        let only_a = |app: &str| app == "A";
        assert_eq!(
            store.update(&other.id, only_a, fields(json!({"name": "x"}))),
            Err(RoleError::NotFound)
        );
        assert_eq!(store.delete(&other.id, only_a), Err(RoleError::NotFound));
        let updated = store
            .update(
                &other.id,
                |_| true,
                fields(json!({"name": "renamed", "groups": {"*": {"publish": true}}})),
            )
            .unwrap();
        assert_eq!(updated.name, "renamed");
        assert!(store.permits(Some(&other.id), "g", GroupAction::Publish));
        assert_eq!(store.delete(&other.id, |_| true).unwrap().name, "renamed");
        assert_eq!(store.get(&other.id), None);
        assert!(!store.permits(Some(&other.id), "g", GroupAction::Publish));
    }
}
