//! Admin-Tokens: live admin sessions (`POST /v1/adminsessions`), and the admins' password
//! hashes. Apart from the routes (`admin.rs`) so that the state holds it without depending on
//! them.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::ids::guid;
use crate::passwords::verify_password;
use crate::sync::lock;

/// How long an Admin-Token lasts.
pub const ADMIN_SESSION_TTL: Duration = Duration::from_secs(24 * 3600);
/// The most live admin sessions; a new one beyond replaces the one closest to its end.
pub const MAX_ADMIN_SESSIONS: usize = 1000;

/// Live admin sessions, and the admins' password hashes (computed on first use).
#[derive(Debug, Default)]
pub struct AdminSessions {
    /// Admin-Token -> when it ends.
    sessions: Mutex<HashMap<String, Instant>>,
    /// Admin name -> PHC hash.
    hashes: OnceLock<HashMap<String, String>>,
}

impl AdminSessions {
    /// Checks an admin's password and opens a session; `None` for a wrong name or password.
    /// CPU-heavy (argon2, and hashing the config's plain passwords the first time): call it
    /// from a blocking task.
    pub fn login(&self, config: &Config, username: &str, password: &str) -> Option<String> {
        let hashes = self.hashes.get_or_init(|| {
            config.admin_password_hashes().unwrap_or_else(|error| {
                tracing::error!(%error, "admin passwords unusable; admin login disabled");
                HashMap::new()
            })
        });
        let Some(hash) = hashes.get(username) else {
            // As slow as a wrong password, so the time taken does not tell which names exist.
            if let Some(any) = hashes.values().next() {
                let _ = verify_password(any, password);
            }
            return None;
        };
        if !verify_password(hash, password) {
            return None;
        }
        let token = guid();
        let now = Instant::now();
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, ends| *ends > now);
        while sessions.len() >= MAX_ADMIN_SESSIONS {
            let soonest = sessions
                .iter()
                .min_by_key(|(_, ends)| **ends)
                .map(|(token, _)| token.clone());
            let Some(soonest) = soonest else { break };
            sessions.remove(&soonest);
        }
        sessions.insert(token.clone(), now + ADMIN_SESSION_TTL);
        Some(token)
    }

    /// Whether `token` is a live Admin-Token.
    pub fn is_valid(&self, token: &str) -> bool {
        lock(&self.sessions)
            .get(token)
            .is_some_and(|ends| *ends > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_sessions_log_in_and_stay_bounded() {
        let config = Config::demo();
        let sessions = AdminSessions::default();
        let (name, password) = crate::config::DEMO_ADMIN;
        assert_eq!(sessions.login(&config, name, "wrong"), None);
        assert_eq!(sessions.login(&config, "nobody", password), None);
        let token = sessions.login(&config, name, password).unwrap();
        assert!(sessions.is_valid(&token));
        assert!(!sessions.is_valid("nope"));
        // Fill the table: the oldest session makes room for the newest.
        {
            let mut live = lock(&sessions.sessions);
            for n in 1..MAX_ADMIN_SESSIONS {
                live.insert(format!("t{n}"), Instant::now() + Duration::from_secs(60));
            }
        }
        let newest = sessions.login(&config, name, password).unwrap();
        assert_eq!(lock(&sessions.sessions).len(), MAX_ADMIN_SESSIONS);
        assert!(sessions.is_valid(&newest));
        assert!(
            sessions.is_valid(&token),
            "the 24 h session outlives the 60 s ones"
        );
    }
}
