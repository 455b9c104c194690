//! Configuration: apps, roles, users, admins and TURN (TOML), and the server's tunables.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::Deserialize;

use crate::ids::random_bytes;

/// The demo app's id.
pub const DEMO_APP_ID: &str = "7C5B1A0E-3F2D-4B8A-9E61-2D4C8F0A1B35";
/// The demo app's secret. Only the app server ever sends it (to the Respoke side).
pub const DEMO_APP_SECRET: &str = "demo-secret-do-not-use-in-production";
/// The demo app's one role.
pub const DEMO_ROLE_ID: &str = "2E9D4F1A-6B3C-4D5E-8F70-1A2B3C4D5E6F";
/// The demo users and their plain passwords.
pub const DEMO_USERS: [(&str, &str); 3] = [
    ("spock@enterprise.com", "spock"),
    ("kirk@enterprise.com", "kirk"),
    ("uhura@enterprise.com", "uhura"),
];
/// The demo admin (`POST /v1/adminsessions`, then `Admin-Token`) and its plain password.
pub const DEMO_ADMIN: (&str, &str) = ("admin@example.com", "admin");
/// The demo app's name (`GET /v1/apps/{appId}`).
pub const DEMO_APP_NAME: &str = "respoke-devserver demo";
/// The longest app or role name accepted.
pub const MAX_NAME_LEN: usize = 128;
/// The most `[turn] uris`.
pub const MAX_TURN_URIS: usize = 16;
/// The longest `[turn] ttl` (seconds): 30 days.
pub const MAX_TURN_TTL_SECS: u64 = 30 * 86_400;
/// How many `testN@example.com` users (password [`TEST_PASSWORD`]) the demo config has.
pub const TEST_USER_COUNT: usize = 40;
/// The password of every `testN@example.com` user.
pub const TEST_PASSWORD: &str = "test";

/// Problems with a configuration file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("invalid config: {0}")]
    Parse(#[from] toml::de::Error),
    /// The content makes no sense (no app, a user without password, a bad hash...).
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Respoke apps; the first one is the app the example app server brokers tokens for.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// Users of the example app server.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Respoke account administrators: `POST /v1/adminsessions {"username","password"}` gives
    /// an `Admin-Token` good for every app's admin routes. Hashed like `users`.
    #[serde(default)]
    pub admins: Vec<UserConfig>,
    /// The TURN relay `GET /v1/turn` hands out time-limited credentials for; none: `{"uris":
    /// []}`.
    #[serde(default)]
    pub turn: Option<TurnConfig>,
    /// Whether this is the built-in demo config ([`Config::demo`]): then `GET /api/config`
    /// lists the [`DEMO_USERS`] with their (public) passwords for the demo page. Never read
    /// from a file.
    #[serde(skip)]
    pub builtin_demo: bool,
}

/// One Respoke app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The app id (a GUID).
    pub id: String,
    /// A human name (`GET /v1/apps/{appId}`); the id when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// The App-Secret the app server authenticates with.
    pub secret: String,
    /// Whether `/v1/tokens` without App-Secret is allowed (respoke.js development mode).
    #[serde(default)]
    pub development_mode: bool,
    /// Roles tokens may be minted for (the seed of the role store: `/v1/roles` changes it in
    /// memory).
    #[serde(default)]
    pub roles: Vec<RoleConfig>,
}

impl AppConfig {
    /// The app's name, or its id when it has none.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// One role of an app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// The role id (a GUID).
    pub id: String,
    /// A human name.
    pub name: String,
    /// Group permissions, as `POST /v1/roles` takes them (`{"*": {"subscribe": true, ...}}`,
    /// see [`crate::respoke::roles`]). Absent: every group permission (a config role written
    /// before roles had permissions keeps working).
    #[serde(default)]
    pub groups: Option<toml::Table>,
}

/// `[turn]`: a TURN server sharing `secret` with this server (coturn's `use-auth-secret` /
/// `static-auth-secret`, the "TURN REST API").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnConfig {
    /// `turn:` / `turns:` / `stun:` URIs, e.g. `turn:127.0.0.1:3478?transport=udp`.
    pub uris: Vec<String>,
    /// The shared secret credentials are signed with.
    pub secret: String,
    /// How long credentials stay valid, in seconds. Default 86400.
    #[serde(default = "default_turn_ttl")]
    pub ttl: u64,
}

fn default_turn_ttl() -> u64 {
    86_400
}

/// One user of the example app server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The user name, also the Respoke endpointId.
    pub name: String,
    /// An argon2 PHC string (`$argon2id$v=19$...`).
    #[serde(default)]
    pub password_hash: Option<String>,
    /// A plain demo password, hashed at start-up.
    #[serde(default)]
    pub password: Option<String>,
}

impl Config {
    /// The built-in demo configuration: one development-mode app with one role, the
    /// [`DEMO_USERS`], `test1@example.com`..`test40@example.com` (password `test`), the
    /// [`DEMO_ADMIN`] and no TURN server.
    pub fn demo() -> Config {
        let mut users: Vec<UserConfig> = DEMO_USERS
            .iter()
            .map(|(name, password)| UserConfig {
                name: (*name).to_owned(),
                password_hash: None,
                password: Some((*password).to_owned()),
            })
            .collect();
        users.extend((1..=TEST_USER_COUNT).map(|n| UserConfig {
            name: format!("test{n}@example.com"),
            password_hash: None,
            password: Some(TEST_PASSWORD.to_owned()),
        }));
        Config {
            apps: vec![AppConfig {
                id: DEMO_APP_ID.to_owned(),
                name: Some(DEMO_APP_NAME.to_owned()),
                secret: DEMO_APP_SECRET.to_owned(),
                development_mode: true,
                roles: vec![RoleConfig {
                    id: DEMO_ROLE_ID.to_owned(),
                    name: "demo".to_owned(),
                    groups: None,
                }],
            }],
            users,
            admins: vec![UserConfig {
                name: DEMO_ADMIN.0.to_owned(),
                password_hash: None,
                password: Some(DEMO_ADMIN.1.to_owned()),
            }],
            turn: None,
            builtin_demo: true,
        }
    }

    /// Parses TOML text and validates it.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml(&text)
    }

    /// Checks that the configuration is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.apps.is_empty() {
            return Err(ConfigError::Invalid(
                "at least one [[apps]] is needed".into(),
            ));
        }
        for app in &self.apps {
            if app.id.trim().is_empty() || app.secret.is_empty() {
                return Err(ConfigError::Invalid(
                    "every app needs an id and a secret".into(),
                ));
            }
            if app
                .name
                .as_ref()
                .is_some_and(|n| n.chars().count() > MAX_NAME_LEN)
            {
                return Err(ConfigError::Invalid(format!(
                    "the name of app {} is longer than {MAX_NAME_LEN} characters",
                    app.id
                )));
            }
            for role in &app.roles {
                crate::respoke::roles::Role::from_config(&app.id, role)
                    .map_err(|e| ConfigError::Invalid(format!("role {}: {e}", role.id)))?;
            }
        }
        let mut role_ids = std::collections::HashSet::new();
        for role in self.apps.iter().flat_map(|app| &app.roles) {
            if !role_ids.insert(role.id.trim().to_ascii_uppercase()) {
                return Err(ConfigError::Invalid(format!(
                    "role id {} appears more than once (role ids are unique across apps)",
                    role.id
                )));
            }
        }
        if let Some(turn) = &self.turn {
            turn.validate()?;
        }
        for user in self.users.iter().chain(&self.admins) {
            match (&user.password_hash, &user.password) {
                (Some(hash), _) => {
                    PasswordHash::new(hash).map_err(|e| {
                        ConfigError::Invalid(format!("password_hash of {}: {e}", user.name))
                    })?;
                }
                (None, Some(_)) => {}
                (None, None) => {
                    return Err(ConfigError::Invalid(format!(
                        "user {} needs password_hash or password",
                        user.name
                    )))
                }
            }
        }
        Ok(())
    }

    /// The app with `id`.
    pub fn app(&self, id: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|app| app.id.eq_ignore_ascii_case(id))
    }

    /// User name -> PHC hash; plain passwords are hashed here with light argon2id parameters
    /// (they are demo passwords; real hashes keep the parameters their PHC string names).
    pub fn password_hashes(&self) -> Result<HashMap<String, String>, ConfigError> {
        hash_passwords(&self.users)
    }

    /// Admin name -> PHC hash, as [`Config::password_hashes`] does for users.
    pub fn admin_password_hashes(&self) -> Result<HashMap<String, String>, ConfigError> {
        hash_passwords(&self.admins)
    }
}

impl TurnConfig {
    /// Checks the URIs, the secret and the ttl.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |what: String| Err(ConfigError::Invalid(format!("[turn] {what}")));
        if self.uris.len() > MAX_TURN_URIS {
            return invalid(format!("has more than {MAX_TURN_URIS} uris"));
        }
        for uri in &self.uris {
            let scheme_ok = ["turn:", "turns:", "stun:", "stuns:"]
                .iter()
                .any(|scheme| uri.starts_with(scheme) && uri.len() > scheme.len());
            if !scheme_ok || uri.len() > 512 || uri.chars().any(char::is_whitespace) {
                return invalid(format!(
                    "uri {uri:?} is not a turn:, turns:, stun: or stuns: URI"
                ));
            }
        }
        if self.secret.is_empty() {
            return invalid("secret must not be empty".into());
        }
        if self.ttl == 0 || self.ttl > MAX_TURN_TTL_SECS {
            return invalid(format!("ttl must be 1..={MAX_TURN_TTL_SECS} seconds"));
        }
        Ok(())
    }
}

fn hash_passwords(users: &[UserConfig]) -> Result<HashMap<String, String>, ConfigError> {
    let mut hashes = HashMap::new();
    let mut plain_cache: HashMap<&str, String> = HashMap::new();
    for user in users {
        let hash = match (&user.password_hash, &user.password) {
            (Some(hash), _) => hash.clone(),
            (None, Some(password)) => match plain_cache.get(password.as_str()) {
                Some(hash) => hash.clone(),
                None => {
                    let hash = hash_demo_password(password)?;
                    plain_cache.insert(password, hash.clone());
                    hash
                }
            },
            (None, None) => {
                return Err(ConfigError::Invalid(format!(
                    "user {} needs password_hash or password",
                    user.name
                )))
            }
        };
        hashes.insert(user.name.clone(), hash);
    }
    Ok(hashes)
}

/// Hashes a demo password with argon2id (8 MiB, 1 pass): cheap enough for a debug build to
/// hash every demo user at start-up.
pub fn hash_demo_password(password: &str) -> Result<String, ConfigError> {
    let params = Params::new(8 * 1024, 1, 1, None)
        .map_err(|e| ConfigError::Invalid(format!("argon2 parameters: {e}")))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| ConfigError::Invalid(format!("salt: {e}")))?;
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ConfigError::Invalid(format!("hashing: {e}")))
}

/// Whether `password` matches the PHC string `hash` (CPU-heavy: call from a blocking task).
pub fn verify_password(hash: &str, password: &str) -> bool {
    verify_password_in(hash, password, &mut Vec::new())
}

/// [`verify_password`] with argon2's working memory in `memory` (grown to the hash's `m`
/// KiB if smaller, and kept): a caller that reuses its buffers allocates nothing per
/// verification, so a login flood cannot fragment the heap or grow the process. Only
/// argon2 PHC strings verify; anything else (or a malformed hash) is `false`.
pub fn verify_password_in(hash: &str, password: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version {
        Some(version) => match Version::try_from(version) {
            Ok(version) => version,
            Err(_) => return false,
        },
        None => Version::V0x13,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut output = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut output,
            &mut memory[..blocks],
        )
        .is_ok()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            output.as_slice(),
            expected.as_bytes(),
        ))
}

/// The server's tunables, with documented defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long after minting a tokenId may be exchanged. Default 30 s.
    pub activation: Duration,
    /// How often the server sends `2::`. Default 25 s.
    pub heartbeat_interval: Duration,
    /// The heartbeat timeout advertised in the handshake (seconds). Default 60.
    pub heartbeat_timeout_secs: u32,
    /// The close timeout advertised in the handshake (seconds). Default 60.
    pub close_timeout_secs: u32,
    /// Request body cap in bytes (413 beyond). Default 64 KiB.
    pub body_limit: usize,
    /// Session lifetime when `/v1/tokens` gives no `ttl` (seconds). Default 21600.
    pub default_ttl_secs: u64,
    /// The `ttl` the example app server asks for (seconds). Default 3600.
    pub app_server_ttl_secs: u64,
    /// Whether `/dev/` routes exist. Default true.
    pub dev_controls: bool,
    /// Load shedding: admit at most this many `POST /v1/session-tokens` a second and answer
    /// the rest `503` with a `Retry-After` derived from the load (see [`crate::admission`]).
    /// Default `None`: unlimited. `POST /dev/admission` changes it at run time; `/dev/reset`
    /// restores this value.
    pub admission_per_second: Option<NonZeroU32>,
    /// The bounds on input, memory and work (see [`Limits`]).
    pub limits: Limits,
}

/// Every bound the server enforces, each checked before the work it guards is done. The
/// README's "Limits" table lists them with their flags.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest endpointId, appId, roleId, tokenId, group name or connection id (bytes): 400
    /// beyond. Default 256. `--max-id-bytes`.
    pub max_id_bytes: usize,
    /// Largest socket.io text frame / WebSocket message (bytes); a bigger one closes the
    /// socket (1009). Default 1 MiB, as engine.io's `maxHttpBufferSize`.
    /// `--max-socket-message-bytes`.
    pub max_socket_message_bytes: usize,
    /// Most entries in one list of a socket request (`groups`, `endpointList`): 400 beyond.
    /// Default 1,000.
    pub max_list_entries: usize,
    /// Most groups one connection may be in, and most endpoints it may observe: 400 beyond.
    /// Default 1,000.
    pub max_groups_per_connection: usize,
    /// Read buffer of one WebSocket (bytes): what one read from the socket takes at most. A
    /// frame larger than this grows it to the frame's size (up to
    /// `max_socket_message_bytes`). Default 4 KiB: tungstenite's own default, 128 KiB, is
    /// zero-filled on the first read and made 137 KB of the dev server's ~140 KB per idle
    /// socket. `--socket-read-buffer-bytes`.
    pub socket_read_buffer_bytes: usize,
    /// Packets waiting to be written to one socket; a consumer that falls further behind is
    /// disconnected (`0::`, logged). Default 1,024. `--socket-queue-packets`.
    pub socket_queue_packets: usize,
    /// Bytes waiting to be written to one socket (same rule). Default 4 MiB.
    /// `--socket-queue-bytes`.
    pub socket_queue_bytes: usize,
    /// Endpoints `/dev/stats` keeps counters for; the least recently active are evicted
    /// beyond (counted in `endpointsEvicted`). Default 10,000. `--stats-max-endpoints`.
    pub stats_max_endpoints: usize,
    /// Minted but unexchanged tokenIds remembered; the oldest are forgotten beyond (counted in
    /// `tokensEvicted`). Default 100,000. `--max-pending-tokens`.
    pub max_pending_tokens: usize,
    /// Live App-Token sessions; exchanges beyond answer 503. Default 200,000.
    /// `--max-sessions`.
    pub max_sessions: usize,
    /// Open TCP connections per listener; new ones beyond are answered 503 and closed at
    /// once. Default 10,000 (lowered to the open-file limit minus a reserve).
    /// `--max-connections`.
    pub max_connections: usize,
    /// Open TCP connections on the app server's listener; `None`: `max_connections`. The
    /// open-file limit is split between the listeners: the app server's bound first (at most
    /// half), the API listener the rest. `--max-app-connections`.
    pub max_app_connections: Option<usize>,
    /// Time a connection has to send a complete request head, the longest a keep-alive
    /// connection may sit idle between requests, and the longest pause inside a request body
    /// (408). Default 10 s. `--header-read-timeout-secs`.
    pub header_read_timeout: Duration,
    /// Password verifications (argon2) running at once; default: one per core.
    /// `--login-concurrency`.
    pub login_concurrency: usize,
    /// Logins waiting for a verification slot (they hold no argon2 memory); 429 beyond.
    /// Default 64: a test harness signing in many users at once is not refused.
    pub login_queue: usize,
    /// Failed logins allowed per user name in a burst, then one per `login_refill`; 429 with
    /// `Retry-After` beyond. Default 5.
    pub login_burst_per_user: u32,
    /// Failed logins allowed per peer address in a burst (same refill). Default 20.
    pub login_burst_per_peer: u32,
    /// One failed-login allowance comes back every this long. Default 2 s.
    pub login_refill: Duration,
    /// Lifetime of an app-server session cookie (its `Max-Age`, and the server forgets the
    /// session then). Default 24 h. `--session-max-age-secs`.
    pub session_max_age: Duration,
    /// Signed-in app-server sessions kept; the oldest are ended beyond. Default 10,000.
    /// `--max-app-sessions`.
    pub max_app_sessions: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_id_bytes: 256,
            max_socket_message_bytes: 1024 * 1024,
            socket_read_buffer_bytes: 4 * 1024,
            max_list_entries: 1_000,
            max_groups_per_connection: 1_000,
            socket_queue_packets: 1_024,
            socket_queue_bytes: 4 * 1024 * 1024,
            stats_max_endpoints: 10_000,
            max_pending_tokens: 100_000,
            max_sessions: 200_000,
            max_connections: 10_000,
            max_app_connections: None,
            header_read_timeout: Duration::from_secs(10),
            login_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            login_queue: 64,
            login_burst_per_user: 5,
            login_burst_per_peer: 20,
            login_refill: Duration::from_secs(2),
            session_max_age: Duration::from_secs(24 * 3600),
            max_app_sessions: 10_000,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            activation: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(25),
            heartbeat_timeout_secs: 60,
            close_timeout_secs: 60,
            body_limit: 64 * 1024,
            default_ttl_secs: 21_600,
            app_server_ttl_secs: 3_600,
            dev_controls: true,
            admission_per_second: None,
            limits: Limits::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_is_valid() {
        let config = Config::demo();
        config.validate().unwrap();
        assert_eq!(config.users.len(), 3 + TEST_USER_COUNT);
        assert!(config.app(DEMO_APP_ID).is_some());
        assert!(config.builtin_demo);
    }

    #[test]
    fn parses_toml_and_hashes() {
        let hash = hash_demo_password("pw").unwrap();
        let text = format!(
            r#"
[[apps]]
id = "A"
secret = "S"
development_mode = false
[[apps.roles]]
id = "R"
name = "r"

[[users]]
name = "a@x"
password_hash = "{hash}"
[[users]]
name = "b@x"
password = "pw2"
"#
        );
        let config = Config::from_toml(&text).unwrap();
        assert!(!config.builtin_demo);
        let hashes = config.password_hashes().unwrap();
        assert!(verify_password(&hashes["a@x"], "pw"));
        assert!(verify_password(&hashes["b@x"], "pw2"));
        assert!(!verify_password(&hashes["b@x"], "nope"));
        assert!(!verify_password("garbage", "pw"));
        // One buffer serves hashes of different sizes.
        let mut memory = Vec::new();
        assert!(verify_password_in(&hashes["a@x"], "pw", &mut memory));
        assert_eq!(memory.len(), 8 * 1024);
        assert!(!verify_password_in(&hashes["a@x"], "px", &mut memory));
        // A hash made by the argon2 crate's defaults (19 MiB) verifies too.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let default_hash = Argon2::default()
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password_in(&default_hash, "pw", &mut memory));
        assert!(memory.len() >= 19 * 1024);
    }

    #[test]
    fn rejects_bad_configs() {
        assert!(Config::from_toml("").is_err());
        assert!(Config::from_toml("[[apps]]\nid='A'\nsecret='S'\n[[users]]\nname='x'\n").is_err());
        assert!(Config::from_toml(
            "[[apps]]\nid='A'\nsecret='S'\n[[users]]\nname='x'\npassword_hash='nope'\n"
        )
        .is_err());
        assert!(Config::from_toml("[[apps]]\nid='A'\nsecret='S'\nbogus=1\n").is_err());
        // TURN: URIs, secret and ttl are checked.
        let app = "[[apps]]\nid='A'\nsecret='S'\n";
        for turn in [
            "[turn]\nuris=['http://x']\nsecret='s'\n",
            "[turn]\nuris=['turn:']\nsecret='s'\n",
            "[turn]\nuris=['turn:a b']\nsecret='s'\n",
            "[turn]\nuris=['turn:x']\nsecret=''\n",
            "[turn]\nuris=['turn:x']\nsecret='s'\nttl=0\n",
            "[turn]\nuris=['turn:x']\nsecret='s'\nttl=99999999\n",
            "[turn]\nuris=['turn:x']\n",
        ] {
            assert!(
                Config::from_toml(&format!("{app}{turn}")).is_err(),
                "{turn}"
            );
        }
        let config =
            Config::from_toml(&format!("{app}[turn]\nuris=['turn:x:3478']\nsecret='s'\n")).unwrap();
        assert_eq!(config.turn.unwrap().ttl, 86_400);
        // Role ids are unique across apps (they key one role store).
        assert!(Config::from_toml(
            "[[apps]]\nid='A'\nsecret='S'\n[[apps.roles]]\nid='r1'\nname='r'\n\
             [[apps]]\nid='B'\nsecret='T'\n[[apps.roles]]\nid='R1'\nname='r'\n"
        )
        .is_err());
        // Admins need a password like users; roles' group permissions are checked.
        assert!(Config::from_toml(&format!("{app}[[admins]]\nname='root'\n")).is_err());
        assert!(Config::from_toml(&format!(
            "{app}[[apps.roles]]\nid='R'\nname='r'\n[apps.roles.groups.'*']\nfly=true\n"
        ))
        .is_err());
        let config = Config::from_toml(&format!(
            "{app}[[apps.roles]]\nid='R'\nname='r'\n[apps.roles.groups.'*']\npublish=true\n\
             [[admins]]\nname='root'\npassword='pw'\n"
        ))
        .unwrap();
        assert!(verify_password(
            &config.admin_password_hashes().unwrap()["root"],
            "pw"
        ));
        // A file cannot claim to be the built-in demo config.
        assert!(Config::from_toml("builtin_demo=true\n[[apps]]\nid='A'\nsecret='S'\n").is_err());
    }
}

#[cfg(test)]
mod example_tests {
    use super::*;

    #[test]
    fn the_example_config_parses_and_its_hash_matches() {
        let config = Config::from_toml(include_str!("../config.example.toml")).unwrap();
        assert!(!config.apps[0].development_mode);
        let hashes = config.password_hashes().unwrap();
        assert!(verify_password(&hashes["spock@enterprise.com"], "spock"));
        assert!(verify_password(&hashes["kirk@enterprise.com"], "kirk"));
        let admins = config.admin_password_hashes().unwrap();
        assert!(verify_password(
            &admins["admin@example.com"],
            "change-me-too"
        ));
        assert_eq!(config.apps[0].display_name(), "example");
        assert_eq!(config.apps[0].roles[1].name, "listener");
        assert!(
            config.turn.is_none(),
            "the example's [turn] is commented out"
        );
    }
}
