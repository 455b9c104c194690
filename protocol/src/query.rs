//! Percent-encoding for query strings and form bodies, as browsers do it.

/// Encodes `text` like JavaScript's `encodeURIComponent`: everything but
/// `A-Z a-z 0-9 - _ . ! ~ * ' ( )` becomes `%XX` of its UTF-8 bytes.
pub fn encode_component(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        }
    }
    out
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte.
/// Malformed escapes are kept as they are; invalid UTF-8 is replaced (never fails).
pub fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes one URL path segment: `%XX` is a byte, `+` stays a `+` (unlike
/// [`decode_component`]). Malformed escapes are kept; invalid UTF-8 is replaced.
pub fn decode_path_segment(text: &str) -> String {
    if !text.contains('+') {
        return decode_component(text);
    }
    text.split('+')
        .map(decode_component)
        .collect::<Vec<_>>()
        .join("+")
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Parses `a=1&b=x%20y` (a leading `?` is ignored) into decoded pairs, in order.
/// A key without `=` has an empty value; empty pieces are skipped.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| match piece.split_once('=') {
            Some((key, value)) => (decode_component(key), decode_component(value)),
            None => (decode_component(piece), String::new()),
        })
        .collect()
}

/// The first value of `key` in `query`, decoded.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    parse_query(query)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Builds `k1=v1&k2=v2` with both sides encoded by [`encode_component`].
pub fn build_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_component(key));
        out.push('=');
        out.push_str(&encode_component(value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_encode_uri_component() {
        assert_eq!(encode_component("abc-_.!~*'()"), "abc-_.!~*'()");
        assert_eq!(
            encode_component("Respoke-JS/1.56.0 (x; y)"),
            "Respoke-JS%2F1.56.0%20(x%3B%20y)"
        );
        assert_eq!(encode_component("a+b=c&d"), "a%2Bb%3Dc%26d");
        assert_eq!(encode_component("é"), "%C3%A9");
    }

    #[test]
    fn decodes_leniently() {
        assert_eq!(decode_component("a+b%20c"), "a b c");
        assert_eq!(decode_component("%C3%A9"), "é");
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%zz%4"), "%zz%4");
        assert_eq!(decode_component("%FF"), "\u{fffd}");
    }

    #[test]
    fn queries() {
        let q = build_query([("app-token", "A B"), ("t", "1")]);
        assert_eq!(q, "app-token=A%20B&t=1");
        assert_eq!(query_value(&q, "app-token").as_deref(), Some("A B"));
        assert_eq!(query_value("?x&y=2", "x").as_deref(), Some(""));
        assert_eq!(query_value("?x&y=2", "z"), None);
        assert_eq!(parse_query("&&a=1&"), vec![("a".into(), "1".into())]);
    }
}
