//! Untrusted text in logs: escaped and cut.
//!
//! Every value a client chose (endpointIds, group names, user names, error details) reaches a
//! log only through [`Untrusted`]: control characters (ESC, newline, NUL...) are escaped the
//! way Rust's `Debug` escapes them, so no client can forge a log line or drive a terminal, and
//! anything longer than [`LOG_CHARS`] characters is cut with an ellipsis.

use std::fmt;

/// How many characters of an untrusted value a log line shows.
pub const LOG_CHARS: usize = 64;

/// Shows untrusted text escaped (as a quoted `Debug` string) and cut to [`LOG_CHARS`]
/// characters, followed by `…(N chars)` when it was cut.
#[derive(Clone, Copy)]
pub struct Untrusted<'a>(pub &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0;
        match text.char_indices().nth(LOG_CHARS) {
            None => write!(f, "{text:?}"),
            Some((cut, _)) => {
                write!(f, "{:?}…({} chars)", &text[..cut], text.chars().count())
            }
        }
    }
}

impl fmt::Debug for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// [`Untrusted`] of an optional value (`-` when absent).
pub fn untrusted_opt(text: Option<&str>) -> String {
    text.map_or_else(|| "-".to_owned(), |t| Untrusted(t).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_cuts() {
        let shown = Untrusted("a\u{1b}[31m\nFAKE\0").to_string();
        assert_eq!(shown, r#""a\u{1b}[31m\nFAKE\0""#);
        assert!(!shown.contains('\n') && !shown.contains('\u{1b}') && !shown.contains('\0'));
        let long = "é".repeat(100);
        let shown = Untrusted(&long).to_string();
        assert!(shown.ends_with("…(100 chars)"), "{shown}");
        assert_eq!(shown.matches('é').count(), LOG_CHARS);
        assert_eq!(untrusted_opt(None), "-");
    }
}
