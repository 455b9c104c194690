//! Secrets that must never reach a log or an event.

use core::fmt;

/// A secret string (a single-use tokenId or an App-Token). `Debug` and `Display` print
/// `Token(***)`, so no log line or event can leak it by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Token(value.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Remembers the tokenIds this client has sent, so that none is ever sent twice even when an
/// app's `getToken` hands the same one back.
///
/// Stores 64-bit FNV-1a fingerprints, not the tokens, in a ring allocated once: memory stays
/// flat over any number of reconnects. Past `CAPACITY` tokens the oldest are forgotten; a token
/// source that repeats a token after that many fresh ones is not a realistic failure.
#[derive(Debug)]
pub struct TokenLedger {
    ring: Box<[u64; TokenLedger::CAPACITY]>,
    len: usize,
    next: usize,
}

impl Default for TokenLedger {
    fn default() -> Self {
        TokenLedger {
            ring: Box::new([0; TokenLedger::CAPACITY]),
            len: 0,
            next: 0,
        }
    }
}

impl TokenLedger {
    /// How many fingerprints are kept.
    pub const CAPACITY: usize = 512;

    /// Records `token` and returns true if it was never recorded before.
    pub fn record(&mut self, token: &Token) -> bool {
        let fingerprint = fnv1a(token.expose().as_bytes());
        if self.ring[..self.len].contains(&fingerprint) {
            return false;
        }
        self.ring[self.next] = fingerprint;
        self.next = (self.next + 1) % Self::CAPACITY;
        self.len = (self.len + 1).min(Self::CAPACITY);
        true
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_secret() {
        let token = Token::new("ABCD-1234");
        assert_eq!(format!("{token:?}"), "Token(***)");
        assert_eq!(format!("{token}"), "Token(***)");
        assert_eq!(token.expose(), "ABCD-1234");
    }

    #[test]
    fn ledger_refuses_a_second_use() {
        let mut ledger = TokenLedger::default();
        assert!(ledger.record(&Token::new("a")));
        assert!(ledger.record(&Token::new("b")));
        assert!(!ledger.record(&Token::new("a")));
    }

    #[test]
    fn ledger_is_bounded() {
        let mut ledger = TokenLedger::default();
        for i in 0..(TokenLedger::CAPACITY + 10) {
            assert!(ledger.record(&Token::new(i.to_string())));
        }
        assert_eq!(ledger.len, TokenLedger::CAPACITY);
        // The oldest were forgotten, the newest are still refused.
        assert!(ledger.record(&Token::new("0")));
        assert!(!ledger.record(&Token::new((TokenLedger::CAPACITY + 9).to_string())));
    }
}
