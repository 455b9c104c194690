//! Client configuration: a plain struct with documented defaults, validated once.

use super::backoff::BackoffConfig;
use super::error::ConfigError;

/// Default Respoke API (the hosted service this protocol comes from).
pub const DEFAULT_BASE_URL: &str = "https://api.respoke.io";

/// fetch `credentials` mode for the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Credentials {
    /// Send cookies also cross-origin (the default: the app server knows the user by cookie).
    #[default]
    Include,
    /// Send cookies only to the page's own origin.
    SameOrigin,
    /// Never send cookies.
    Omit,
}

/// Where tokenIds come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `POST url` with JSON `{"endpointId"}`; the answer is `{"token": tokenId}`.
    Url {
        /// The app server's token URL (relative URLs resolve against the page).
        url: String,
        /// Extra request headers, e.g. a CSRF token.
        headers: Vec<(String, String)>,
        /// fetch credentials mode.
        credentials: Credentials,
    },
    /// The app's own `getToken({attempt, signal})`, called by the shell.
    Callback,
}

/// Everything the core needs to know. Build with [`Config::new`], adjust fields, then
/// [`Config::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Respoke API base URL, `scheme://host[:port]` without a path.
    pub base_url: String,
    /// Sent to the token endpoint; the server's answer to `post /v1/connections` is what counts.
    pub endpoint_id: Option<String>,
    /// Where tokenIds come from.
    pub token_source: TokenSource,
    /// Retry delays.
    pub backoff: BackoffConfig,
    /// A connection must stay up this long before the backoff counter resets. Default 10 s.
    pub stable_after_ms: u64,
    /// Timeout of one token fetch. Default 10 s.
    pub token_timeout_ms: u64,
    /// Timeout of a whole attempt, token to registered connection. Default 15 s.
    pub attempt_timeout_ms: u64,
    /// Ceiling applied to any `Retry-After`. Default 5 min.
    pub max_retry_after_ms: u64,
    /// `Respoke-SDK` header and query value.
    pub sdk: String,
    /// While the page is hidden, defer reconnect attempts until it is shown. Default true.
    pub pause_when_hidden: bool,
    /// After a wake (page shown, back online, clock jump), a live socket must show a sign of
    /// life within this long or it is replaced. Capped by the heartbeat timeout. Default 5 s.
    pub verify_timeout_ms: u64,
    /// How long a request sent over the socket may wait for its ack. Default 10 s.
    pub request_timeout_ms: u64,
    /// How many requests may wait while disconnected; 0 rejects them at once. Default 50.
    pub queue_size: usize,
    /// How long a request may wait while disconnected. Default 15 s.
    pub queue_max_age_ms: u64,
}

impl Config {
    /// Defaults for everything but the token source.
    pub fn new(token_source: TokenSource) -> Self {
        Config {
            base_url: DEFAULT_BASE_URL.to_owned(),
            endpoint_id: None,
            token_source,
            backoff: BackoffConfig::default(),
            stable_after_ms: 10_000,
            token_timeout_ms: 10_000,
            attempt_timeout_ms: 15_000,
            max_retry_after_ms: 300_000,
            sdk: concat!("respoke-client-wasm/", env!("CARGO_PKG_VERSION")).to_owned(),
            pause_when_hidden: true,
            verify_timeout_ms: 5_000,
            request_timeout_ms: 10_000,
            queue_size: 50,
            queue_max_age_ms: 15_000,
        }
    }

    /// Checks every field and normalizes `base_url` (drops one trailing `/`).
    pub fn validate(mut self) -> Result<Self, ConfigError> {
        self.base_url = normalize_base_url(&self.base_url)?;
        if let TokenSource::Url { url, .. } = &self.token_source {
            if url.trim().is_empty() {
                return Err(ConfigError::NoTokenSource);
            }
        }
        const HOUR_MS: u64 = 3_600_000;
        let b = &self.backoff;
        check(
            b.initial_delay_ms <= HOUR_MS,
            "backoff.initialDelayMs",
            "0 to 3600000",
        )?;
        check(
            b.max_delay_ms >= b.initial_delay_ms && b.max_delay_ms <= HOUR_MS,
            "backoff.maxDelayMs",
            "initialDelayMs to 3600000",
        )?;
        check(
            b.multiplier.is_finite() && (1.0..=100.0).contains(&b.multiplier),
            "backoff.multiplier",
            "1 to 100",
        )?;
        check(
            self.stable_after_ms <= HOUR_MS,
            "stableAfterMs",
            "0 to 3600000",
        )?;
        check(
            (1..=HOUR_MS).contains(&self.token_timeout_ms),
            "tokenTimeoutMs",
            "1 to 3600000",
        )?;
        check(
            (1..=HOUR_MS).contains(&self.attempt_timeout_ms),
            "attemptTimeoutMs",
            "1 to 3600000",
        )?;
        check(
            (1..=HOUR_MS).contains(&self.request_timeout_ms),
            "requestTimeoutMs",
            "1 to 3600000",
        )?;
        check(self.queue_size <= 10_000, "queueSize", "0 to 10000")?;
        check(
            (1..=HOUR_MS).contains(&self.queue_max_age_ms),
            "queueMaxAgeMs",
            "1 to 3600000",
        )?;
        check(
            (1..=HOUR_MS).contains(&self.verify_timeout_ms),
            "verifyTimeoutMs",
            "1 to 3600000",
        )?;
        check(
            self.max_retry_after_ms <= 24 * HOUR_MS,
            "maxRetryAfterMs",
            "0 to 86400000",
        )?;
        Ok(self)
    }
}

fn check(ok: bool, name: &'static str, reason: &'static str) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::OutOfRange { name, reason })
    }
}

fn normalize_base_url(raw: &str) -> Result<String, ConfigError> {
    let bad = || ConfigError::BaseUrl(raw.to_owned());
    let trimmed = raw.strip_suffix('/').unwrap_or(raw);
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    if host_ok {
        Ok(trimmed.to_owned())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new(TokenSource::Callback)
    }

    #[test]
    fn defaults_validate() {
        let c = config().validate().unwrap();
        assert_eq!(c.base_url, "https://api.respoke.io");
        assert_eq!(c.backoff, BackoffConfig::default());
    }

    #[test]
    fn base_url_must_be_scheme_host_port() {
        for good in [
            "http://127.0.0.1:3001",
            "https://api.respoke.io/",
            "http://[::1]:3001",
        ] {
            let mut c = config();
            c.base_url = good.into();
            assert!(c.validate().is_ok(), "{good}");
        }
        for bad in [
            "127.0.0.1:3001",
            "ftp://x",
            "http://",
            "http://host/v1",
            "https://a b",
        ] {
            let mut c = config();
            c.base_url = bad.into();
            assert!(
                matches!(c.validate(), Err(ConfigError::BaseUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn ranges_are_checked() {
        let mut c = config();
        c.backoff.multiplier = 0.5;
        assert!(c.validate().is_err());
        let mut c = config();
        c.backoff.max_delay_ms = 10;
        assert!(c.validate().is_err());
        let mut c = config();
        c.token_timeout_ms = 0;
        assert!(c.validate().is_err());
        let mut c = config();
        c.backoff.multiplier = f64::NAN;
        assert!(c.validate().is_err());
    }

    #[test]
    fn empty_token_url_is_refused() {
        let c = Config::new(TokenSource::Url {
            url: " ".into(),
            headers: vec![],
            credentials: Credentials::Include,
        });
        assert_eq!(c.validate(), Err(ConfigError::NoTokenSource));
    }
}
