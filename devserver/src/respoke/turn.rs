//! `get /v1/turn`: time-limited TURN credentials, as coturn's "TURN REST API"
//! (`use-auth-secret`) checks them.
//!
//! `username = "<expiry unix seconds>:<endpointId>"`, `password = base64(HMAC-SHA1(secret,
//! username))`. The reply has the shape respoke.js 1.56's `getTurnCredentials` reads:
//! `{"username", "password", "ttl", "uris"}` (it builds one ICE server per URI from `uris`,
//! `username` and `password`). Without a `[turn]` config the reply is `{"uris": []}`:
//! respoke.js then places its calls with the browser's default ICE servers (none: host
//! candidates, enough on one machine), rejecting its internal TURN promise with "Got no TURN
//! credentials." at debug level, where `{}` reads as the malformed "Turn credentials empty.".

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;

use crate::config::TurnConfig;

/// The reply of `get /v1/turn` for `endpoint_id` at `now_unix`.
pub fn credentials(turn: Option<&TurnConfig>, endpoint_id: &str, now_unix: u64) -> Value {
    let Some(turn) = turn else {
        return json!({"uris": []});
    };
    let username = format!("{}:{endpoint_id}", now_unix.saturating_add(turn.ttl));
    json!({
        "username": username,
        "password": password(&turn.secret, &username),
        "ttl": turn.ttl,
        "uris": turn.uris,
    })
}

/// `base64(HMAC-SHA1(secret, username))`.
pub fn password(secret: &str, username: &str) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2202_hmac_sha1_vector() {
        // RFC 2202, test case 2: key "Jefe", data "what do ya want for nothing?",
        // HMAC-SHA1 = effcdf6ae5eb2fa2d27416d5f184df9c259a7c79.
        assert_eq!(
            password("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
    }

    #[test]
    fn coturn_rest_api_credentials() {
        let turn = TurnConfig {
            uris: vec!["turn:127.0.0.1:3478?transport=udp".into()],
            secret: "north".into(),
            ttl: 600,
        };
        let reply = credentials(Some(&turn), "spock@enterprise.com", 1_000);
        assert_eq!(reply["username"], "1600:spock@enterprise.com");
        // python3: base64.b64encode(hmac.new(b"north", b"1600:spock@enterprise.com",
        // hashlib.sha1).digest())
        assert_eq!(reply["password"], "fZF2RnWjIkxHryIGE56UNGgP3NU=");
        assert_eq!(reply["ttl"], 600);
        assert_eq!(reply["uris"], json!(["turn:127.0.0.1:3478?transport=udp"]));
        assert_eq!(credentials(None, "x", 1), json!({"uris": []}));
    }
}
