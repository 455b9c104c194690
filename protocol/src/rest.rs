//! JSON bodies of the REST routes `/v1/tokens` and `/v1/session-tokens`, and the error body.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::error::ProtocolError;
use crate::packet::excerpt;
use crate::query::parse_query;

/// Header carrying the app's secret (app server -> Respoke only).
pub const HEADER_APP_SECRET: &str = "App-Secret";
/// Header carrying the session's App-Token.
pub const HEADER_APP_TOKEN: &str = "App-Token";
/// Header describing the SDK.
pub const HEADER_RESPOKE_SDK: &str = "Respoke-SDK";
/// Header identifying a response for support.
pub const HEADER_REQUEST_ID: &str = "Request-Id";
/// The message of a successful `POST /v1/session-tokens`.
pub const SESSION_TOKEN_MESSAGE: &str = "Authorization successful";

/// `POST /v1/tokens` body: ask for a tokenId on behalf of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequest {
    /// The app (GUID).
    #[serde(default)]
    pub app_id: String,
    /// The endpoint (user name) the token is for.
    #[serde(default)]
    pub endpoint_id: String,
    /// The role; optional in development mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// Lifetime of the resulting session in seconds; sent as a number or a string.
    #[serde(
        default,
        deserialize_with = "number_or_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttl: Option<u64>,
}

impl TokenRequest {
    /// Field problems as Respoke reports them in `validationErrors`, or `None` when valid.
    pub fn validation_errors(&self) -> Option<Value> {
        let mut errors = serde_json::Map::new();
        if self.app_id.trim().is_empty() {
            errors.insert("appId".into(), Value::String("appId is required".into()));
        }
        if self.endpoint_id.trim().is_empty() {
            errors.insert(
                "endpointId".into(),
                Value::String("endpointId is required".into()),
            );
        }
        if self.ttl == Some(0) {
            errors.insert("ttl".into(), Value::String("ttl must be positive".into()));
        }
        (!errors.is_empty()).then_some(Value::Object(errors))
    }
}

fn number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ttl {
        Number(u64),
        Float(f64),
        Text(String),
    }
    match Option::<Ttl>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Ttl::Number(n)) => Ok(Some(n)),
        Some(Ttl::Float(f)) if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 1e15 => {
            Ok(Some(f as u64))
        }
        Some(Ttl::Float(f)) => Err(serde::de::Error::custom(format!("invalid ttl {f}"))),
        Some(Ttl::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(Ttl::Text(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("invalid ttl {:?}", excerpt(&text)))),
    }
}

/// `POST /v1/tokens` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    /// The app.
    pub app_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The role, if any.
    #[serde(default)]
    pub role_id: Option<String>,
    /// Unix seconds when minted.
    pub create_time: u64,
    /// Unix seconds when the session would end: `create_time + ttl`.
    pub expiry_time: u64,
    /// The tokenId (same as `token_id`).
    pub id: String,
    /// The single-use tokenId, an upper-case GUID.
    pub token_id: String,
}

/// `POST /v1/session-tokens` body: exchange a tokenId for an App-Token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionTokenRequest {
    /// The tokenId from `/v1/tokens`.
    pub token_id: String,
}

impl SessionTokenRequest {
    /// Parses a JSON body `{"tokenId": "..."}` (other keys such as `appId` are ignored).
    pub fn parse_json(body: &str) -> Result<SessionTokenRequest, ProtocolError> {
        serde_json::from_str(body).map_err(|e| ProtocolError::MalformedBody(e.to_string()))
    }

    /// Parses a form body `tokenId=...` (other keys ignored).
    pub fn parse_form(body: &str) -> Result<SessionTokenRequest, ProtocolError> {
        parse_query(body)
            .into_iter()
            .find(|(k, _)| k == "tokenId")
            .map(|(_, token_id)| SessionTokenRequest { token_id })
            .ok_or_else(|| ProtocolError::MalformedBody("missing tokenId".into()))
    }

    /// Parses either form, chosen by the `Content-Type` (JSON unless it says form-encoded).
    pub fn parse(
        content_type: Option<&str>,
        body: &str,
    ) -> Result<SessionTokenRequest, ProtocolError> {
        let is_form = content_type.is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        if is_form {
            SessionTokenRequest::parse_form(body)
        } else {
            SessionTokenRequest::parse_json(body)
        }
    }
}

/// `POST /v1/session-tokens` reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionTokenResponse {
    /// `Authorization successful`.
    pub message: String,
    /// The App-Token for the socket and REST calls.
    pub token: String,
}

/// The body of every failed REST call: `{"error": "...", "validationErrors": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
    /// Per-field problems (400 "Validation Error.").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_errors: Option<Value>,
}

impl ErrorBody {
    /// An error body with just a message.
    pub fn new(error: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: error.into(),
            validation_errors: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_request_ttl_number_or_string() {
        let r: TokenRequest = serde_json::from_value(
            json!({"appId": "A", "endpointId": "E", "roleId": "R", "ttl": 60}),
        )
        .unwrap();
        assert_eq!(r.ttl, Some(60));
        assert_eq!(r.role_id.as_deref(), Some("R"));
        let r: TokenRequest =
            serde_json::from_value(json!({"appId": "A", "endpointId": "E", "ttl": "21600"}))
                .unwrap();
        assert_eq!(r.ttl, Some(21600));
        assert!(r.validation_errors().is_none());
        let r: TokenRequest =
            serde_json::from_value(json!({"appId": "A", "endpointId": "E", "ttl": 30.0})).unwrap();
        assert_eq!(r.ttl, Some(30));
        assert!(serde_json::from_value::<TokenRequest>(json!({"ttl": "x"})).is_err());
        assert!(serde_json::from_value::<TokenRequest>(json!({"ttl": -1})).is_err());
        let r: TokenRequest = serde_json::from_value(json!({})).unwrap();
        let errors = r.validation_errors().unwrap();
        assert!(errors.get("appId").is_some() && errors.get("endpointId").is_some());
        assert_eq!(
            serde_json::to_value(TokenRequest {
                app_id: "A".into(),
                endpoint_id: "E".into(),
                role_id: None,
                ttl: Some(5)
            })
            .unwrap(),
            json!({"appId": "A", "endpointId": "E", "ttl": 5})
        );
    }

    #[test]
    fn session_token_request_json_and_form() {
        assert_eq!(
            SessionTokenRequest::parse(None, r#"{"tokenId":"T","appId":"x"}"#)
                .unwrap()
                .token_id,
            "T"
        );
        assert_eq!(
            SessionTokenRequest::parse(
                Some("application/x-www-form-urlencoded; charset=UTF-8"),
                "appId=x&tokenId=A%2DB"
            )
            .unwrap()
            .token_id,
            "A-B"
        );
        assert!(SessionTokenRequest::parse(None, "tokenId=x").is_err());
        assert!(SessionTokenRequest::parse_form("x=1").is_err());
    }

    #[test]
    fn bodies_are_camel_case() {
        let body = serde_json::to_value(SessionTokenResponse {
            message: SESSION_TOKEN_MESSAGE.into(),
            token: "X".into(),
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"message": "Authorization successful", "token": "X"})
        );
        let err = ErrorBody {
            error: "Validation Error.".into(),
            validation_errors: Some(json!({"a": "b"})),
        };
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"error": "Validation Error.", "validationErrors": {"a": "b"}})
        );
        assert_eq!(
            serde_json::to_value(ErrorBody::new("x")).unwrap(),
            json!({"error": "x"})
        );
        let t: TokenResponse = serde_json::from_value(json!({"appId":"A","endpointId":"E","createTime":1,"expiryTime":2,"id":"I","tokenId":"I"})).unwrap();
        assert_eq!(t.role_id, None);
    }
}
