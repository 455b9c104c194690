//! REST over the socket, Sails 0.10 style: request events and their ack responses.
//!
//! A request is an event named after the lower-case HTTP verb whose one argument is a JSON
//! *string* `{"url": "/v1/...", "data": {...}, "headers": {...}}`, sent with an ack id.
//! The answer is the ack: `[{"body": {...}, "headers": {...}, "statusCode": 200}]` in the 0.10
//! shape, or `["<body as JSON text>"]` in the legacy shape.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::error::ProtocolError;
use crate::event::{encode_ack_args, json_text, parse_raw_ack_args, EventData};
use crate::packet::{excerpt, Packet};

/// The HTTP verb of a Sails request; it is also the event name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `get`
    Get,
    /// `post`
    Post,
    /// `put`
    Put,
    /// `delete`
    Delete,
}

impl Method {
    /// The event name (lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Delete => "delete",
        }
    }

    /// The method for an event name, case-insensitively; `None` for other events.
    pub fn from_event_name(name: &str) -> Option<Method> {
        match name.to_ascii_lowercase().as_str() {
            "get" => Some(Method::Get),
            "post" => Some(Method::Post),
            "put" => Some(Method::Put),
            "delete" => Some(Method::Delete),
            _ => None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Header names and values, kept sorted by name with each name once (as a `BTreeMap` would),
/// in a `Vec`: a request carries two or three, and the wasm client then needs no second map
/// type beside `serde_json`'s (a whole B-tree instantiation). Serialized as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// No headers.
    pub fn new() -> Headers {
        Headers(Vec::new())
    }

    /// Sets `name` to `value`, replacing a header of the same (exact) name.
    pub fn insert(&mut self, name: String, value: String) {
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(&name)) {
            Ok(index) => self.0[index].1 = value,
            Err(index) => self.0.insert(index, (name, value)),
        }
    }

    /// The value of `name` (exact name).
    pub fn get(&self, name: &str) -> Option<&str> {
        let index = self
            .0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()?;
        Some(&self.0[index].1)
    }

    /// `(name, value)` in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `(name, value)` pairs in name order.
    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

impl FromIterator<(String, String)> for Headers {
    /// Later pairs win over earlier ones of the same name, as with a map.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Headers {
        let mut headers = Headers::new();
        for (name, value) in pairs {
            headers.insert(name, value);
        }
        headers
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Headers {
    /// From an object of strings (e.g. the client's `tokenHeaders` option).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Headers, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Headers;
            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an object of header names to strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Headers, A::Error> {
                let mut headers = Headers::new();
                while let Some((name, value)) = map.next_entry()? {
                    headers.insert(name, value);
                }
                Ok(headers)
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// One Sails request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The verb.
    pub method: Method,
    /// The URL as given: usually a path like `/v1/connections`, possibly a full URL.
    pub url: String,
    /// The request body (`data`, or `params` from older clients); `{}` when absent.
    pub data: Value,
    /// Request headers (`App-Token`, `Respoke-SDK`, ...).
    pub headers: Headers,
}

/// The JSON envelope, field order as respoke.js writes it.
#[derive(serde::Serialize)]
struct Envelope<'a> {
    url: &'a str,
    data: &'a Value,
    headers: &'a Headers,
}

impl Request {
    /// A request with an empty body and no headers.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            data: Value::Object(Map::new()),
            headers: Headers::new(),
        }
    }

    /// Sets the body.
    pub fn with_data(mut self, data: Value) -> Request {
        self.data = data;
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// The JSON text of the envelope `{"url","data","headers"}`: the event's one argument.
    pub fn envelope_json(&self) -> String {
        serde_json::to_string(&Envelope {
            url: &self.url,
            data: &self.data,
            headers: &self.headers,
        })
        .unwrap_or_default()
    }

    /// The event data `{"name":"<verb>","args":["<envelope as a JSON string>"]}`.
    pub fn to_event_data(&self) -> EventData {
        EventData::new(
            self.method.as_str(),
            vec![Value::String(self.envelope_json())],
        )
    }

    /// The event packet asking for an ack with data: `5:<ack_id>+::{"name":"post","args":["..."]}`.
    pub fn to_packet(&self, ack_id: u64) -> Packet {
        Packet::event_raw(Some(ack_id), self.to_event_data().encode())
    }

    /// Reads a request from an event (server side). Accepts the envelope as a JSON string or
    /// an object, `params` instead of `data`, and header values of any JSON type.
    pub fn from_event(event: &EventData) -> Result<Request, ProtocolError> {
        let method = Method::from_event_name(&event.name).ok_or_else(|| {
            ProtocolError::MalformedRequest(format!("{:?} is not a verb", excerpt(&event.name)))
        })?;
        let envelope = match event.args.first() {
            Some(Value::String(text)) => serde_json::from_str::<Value>(text).map_err(|e| {
                ProtocolError::MalformedRequest(format!("envelope is not JSON: {e}"))
            })?,
            Some(value @ Value::Object(_)) => value.clone(),
            Some(_) => {
                return Err(ProtocolError::MalformedRequest(
                    "envelope is neither a string nor an object".into(),
                ))
            }
            None => return Err(ProtocolError::MalformedRequest("no envelope".into())),
        };
        let Value::Object(mut envelope) = envelope else {
            return Err(ProtocolError::MalformedRequest(
                "envelope is not an object".into(),
            ));
        };
        let url = match envelope.remove("url") {
            Some(Value::String(url)) if !url.is_empty() => url,
            _ => return Err(ProtocolError::MalformedRequest("missing url".into())),
        };
        let data = match (envelope.remove("data"), envelope.remove("params")) {
            (Some(data), _) if !data.is_null() => data,
            (_, Some(params)) if !params.is_null() => params,
            _ => Value::Object(Map::new()),
        };
        let headers = match envelope.remove("headers") {
            Some(Value::Object(map)) => map
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s,
                        other => json_text(&other),
                    };
                    (k, v)
                })
                .collect(),
            _ => Headers::new(),
        };
        Ok(Request {
            method,
            url,
            data,
            headers,
        })
    }

    /// The route path: scheme and host removed, query and fragment removed, trailing slashes
    /// removed (the root stays `/`). `https://h:1/v1/connections/x/?a=1` -> `/v1/connections/x`.
    pub fn path(&self) -> String {
        normalize_path(&self.url)
    }

    /// A header by name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// See [`Request::path`].
pub fn normalize_path(url: &str) -> String {
    let mut rest = url.trim();
    if let Some(scheme_end) = rest.find("://") {
        let after = &rest[scheme_end + 3..];
        rest = match after.find('/') {
            Some(slash) => &after[slash..],
            None => "/",
        };
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let path = rest[..end].trim_end_matches('/');
    if path.is_empty() {
        "/".to_owned()
    } else if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

/// A Sails response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The body; never `null` on the wire (`{}` instead).
    pub body: Value,
    /// Response headers.
    pub headers: Headers,
    /// The HTTP status. Legacy responses carry none: parsing reports 200, or 500 when
    /// `body.error` is set.
    pub status_code: u16,
}

/// The 0.10 ack argument, field order as Sails writes it.
#[derive(serde::Serialize)]
struct WireResponse<'a> {
    body: &'a Value,
    headers: &'a Headers,
    #[serde(rename = "statusCode")]
    status_code: u16,
}

impl Response {
    /// A response with `status_code` and `body` (`null` becomes `{}`), no headers.
    pub fn new(status_code: u16, body: Value) -> Response {
        Response {
            body: if body.is_null() {
                Value::Object(Map::new())
            } else {
                body
            },
            headers: Headers::new(),
            status_code,
        }
    }

    /// 200 with `body`.
    pub fn ok(body: Value) -> Response {
        Response::new(200, body)
    }

    /// `status_code` with `{"error": message}`.
    pub fn error(status_code: u16, message: impl Into<String>) -> Response {
        let mut body = Map::new();
        body.insert("error".into(), Value::String(message.into()));
        Response::new(status_code, Value::Object(body))
    }

    /// Whether the request failed: `body.error` is set (not `null`/absent).
    pub fn is_error(&self) -> bool {
        self.body.get("error").is_some_and(|e| !e.is_null())
    }

    /// The error text, when `body.error` is set (non-strings are rendered as JSON).
    pub fn error_message(&self) -> Option<String> {
        match self.body.get("error")? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(json_text(other)),
        }
    }

    /// The ack arguments, as raw JSON array text: 0.10 shape `[{"body","headers","statusCode"}]`,
    /// or with `legacy` the body alone as a JSON string `["{...}"]`.
    pub fn to_ack_args(&self, legacy: bool) -> String {
        let body = if self.body.is_null() {
            &Value::Object(Map::new())
        } else {
            &self.body
        };
        if legacy {
            encode_ack_args(&[Value::String(body.to_string())])
        } else {
            let wire = WireResponse {
                body,
                headers: &self.headers,
                status_code: self.status_code,
            };
            match serde_json::to_value(&wire) {
                Ok(value) => encode_ack_args(&[value]),
                Err(_) => String::new(),
            }
        }
    }

    /// The ack packet answering request `ack_id`.
    pub fn to_packet(&self, ack_id: u64, legacy: bool) -> Packet {
        Packet::ack_raw(ack_id, self.to_ack_args(legacy))
    }

    /// Reads a response from raw ack arguments (client side), in either shape: an object with
    /// a numeric `statusCode` is the 0.10 shape; anything else is a legacy body (a JSON string
    /// is parsed; text that is not JSON becomes a string body).
    pub fn parse_ack_args(args: &str) -> Result<Response, ProtocolError> {
        // Only the first argument counts: it is read straight from its text, the rest skipped.
        let args = parse_raw_ack_args(args)
            .map_err(|e| ProtocolError::MalformedResponse(e.to_string()))?;
        let Some(first) = args.first() else {
            return Response::from_ack_values(&[]);
        };
        let first: Value = serde_json::from_str(first.get())
            .map_err(|e| ProtocolError::MalformedResponse(e.to_string()))?;
        Response::from_ack_values(std::slice::from_ref(&first))
    }

    /// Like [`Response::parse_ack_args`] on already-decoded arguments.
    pub fn from_ack_values(args: &[Value]) -> Result<Response, ProtocolError> {
        let first = args
            .first()
            .ok_or_else(|| ProtocolError::MalformedResponse("ack has no arguments".into()))?;
        if let Value::Object(map) = first {
            if let Some(status) = map.get("statusCode").and_then(Value::as_u64) {
                let status_code = u16::try_from(status).map_err(|_| {
                    ProtocolError::MalformedResponse(format!("statusCode {status} out of range"))
                })?;
                let body = map.get("body").cloned().unwrap_or(Value::Null);
                let headers = match map.get("headers") {
                    Some(Value::Object(h)) => h
                        .iter()
                        .map(|(k, v)| {
                            let v = match v {
                                Value::String(s) => s.clone(),
                                other => json_text(other),
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                    _ => Headers::new(),
                };
                let mut response = Response::new(status_code, body);
                response.headers = headers;
                return Ok(response);
            }
        }
        let body = match first {
            Value::String(text) => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
            }
            other => other.clone(),
        };
        let mut response = Response::new(200, body);
        if response.is_error() {
            response.status_code = 500;
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_the_string_argument_event() {
        let request = Request::new(Method::Post, "/v1/connections")
            .with_data(json!({"capabilities": {"iceFinalCandidates": true}}))
            .with_header("App-Token", "T");
        let packet = request.to_packet(1);
        assert_eq!(
            packet.encode(),
            r#"5:1+::{"name":"post","args":["{\"url\":\"/v1/connections\",\"data\":{\"capabilities\":{\"iceFinalCandidates\":true}},\"headers\":{\"App-Token\":\"T\"}}"]}"#
        );
        let event = packet.event_data().unwrap().unwrap();
        assert_eq!(Request::from_event(&event).unwrap(), request);
    }

    #[test]
    fn accepts_object_params_and_full_urls() {
        let event = EventData::new(
            "DELETE",
            vec![
                json!({"url": "https://api.respoke.io:443/v1/connections/abc/?x=1",
                        "params": {"a": 1}, "headers": {"n": 5, "z": null}}),
            ],
        );
        let request = Request::from_event(&event).unwrap();
        assert_eq!(request.method, Method::Delete);
        assert_eq!(request.path(), "/v1/connections/abc");
        assert_eq!(request.data, json!({"a": 1}));
        assert_eq!(request.header("N"), Some("5"));
        assert_eq!(request.header("z"), None);
    }

    #[test]
    fn rejects_bad_envelopes() {
        for event in [
            EventData::new("post", vec![]),
            EventData::new("post", vec![json!(3)]),
            EventData::new("post", vec![json!("not json")]),
            EventData::new("post", vec![json!("[1]")]),
            EventData::new("post", vec![json!({"data": {}})]),
            EventData::new("patch", vec![json!({"url": "/"})]),
        ] {
            assert_eq!(
                Request::from_event(&event).unwrap_err().code(),
                "MALFORMED_REQUEST"
            );
        }
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize_path("/v1/presence/"), "/v1/presence");
        assert_eq!(normalize_path("v1/presence"), "/v1/presence");
        assert_eq!(normalize_path("http://h"), "/");
        assert_eq!(normalize_path("http://h/"), "/");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(normalize_path("/a#f"), "/a");
    }

    #[test]
    fn responses_in_both_shapes() {
        let ok = Response::ok(json!({"id": "X"}));
        let args = ok.to_ack_args(false);
        assert_eq!(
            args,
            r#"[{"body":{"id":"X"},"headers":{},"statusCode":200}]"#
        );
        assert_eq!(Response::parse_ack_args(&args).unwrap(), ok);

        let legacy = ok.to_ack_args(true);
        assert_eq!(legacy, r#"["{\"id\":\"X\"}"]"#);
        assert_eq!(Response::parse_ack_args(&legacy).unwrap(), ok);

        let err = Response::error(404, "Not found");
        assert!(err.is_error());
        assert_eq!(err.error_message().as_deref(), Some("Not found"));
        let back = Response::parse_ack_args(&err.to_ack_args(true)).unwrap();
        assert!(back.is_error());
        assert_eq!(back.status_code, 500);

        assert_eq!(Response::new(200, Value::Null).body, json!({}));
        assert!(!Response::ok(json!({"error": null})).is_error());
        assert!(Response::parse_ack_args("").is_err());
        assert!(Response::parse_ack_args("[{\"statusCode\":70000}]").is_err());
        assert_eq!(
            Response::parse_ack_args(r#"["plain text"]"#).unwrap().body,
            json!("plain text")
        );
    }
}
