//! JSON the client builds and reads itself (request bodies, `{"token": ...}` answers) and the
//! WebSocket URL. Frames are `respoke_protocol`'s; this is the little around them.

use serde_json::{Map, Value};

use super::token::Token;

/// A JSON object of `fields`. Built directly: `json!` serializes every value through
/// `serde_json::to_value`, which compiles a `Value` serializer into the wasm for what is only
/// a tree of strings.
pub(crate) fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    let mut map = Map::new();
    for (key, value) in fields {
        map.insert(key.to_owned(), value);
    }
    Value::Object(map)
}

/// A JSON array of strings.
pub(crate) fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Value {
    let items = items.into_iter();
    Value::Array(items.map(|item| Value::from(item.as_ref())).collect())
}

/// `http://h:p` -> `ws://h:p`, `https://h:p` -> `wss://h:p`.
pub(crate) fn websocket_base(base_url: &str) -> String {
    if let Some(rest) = base_url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base_url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base_url.to_owned()
    }
}

/// Reads `{"token": "..."}` (the app server's and `/v1/session-tokens`' answer).
pub(crate) fn token_from_body(body: &str) -> Result<Token, String> {
    // No preview of the body in the message: a misconfigured server may answer with the bare
    // token, and errors reach logs.
    let value: Value = serde_json::from_str(body).map_err(|_| {
        format!(
            "expected JSON {{\"token\": ...}}, got {} bytes that are not JSON",
            body.len()
        )
    })?;
    match value.get("token").and_then(Value::as_str) {
        Some(token) if !token.trim().is_empty() => Ok(Token::new(token)),
        _ => Err("no \"token\" string in the JSON answer".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use respoke_protocol::push::SendMessage;

    #[test]
    fn the_message_body_is_send_message_as_serde_writes_it() {
        let built = super::object([("to", "kirk".into()), ("message", "hi".into())]);
        let derived = serde_json::to_value(SendMessage::new("kirk", "hi")).unwrap();
        assert_eq!(built, derived);
    }
}
