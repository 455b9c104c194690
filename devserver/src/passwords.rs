//! Password hashes: argon2id PHC strings, made cheap for the demo users and verified in
//! constant time with reusable working memory (the login routes and the admin sessions).

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::ids::random_bytes;

/// Hashing a password failed (argon2 refused its parameters, the salt or the input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PasswordError(String);

/// Hashes a demo password with argon2id (8 MiB, 1 pass): cheap enough for a debug build to
/// hash every demo user at start-up.
pub fn hash_demo_password(password: &str) -> Result<String, PasswordError> {
    let params = Params::new(8 * 1024, 1, 1, None)
        .map_err(|e| PasswordError(format!("argon2 parameters: {e}")))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| PasswordError(format!("salt: {e}")))?;
    argon2
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PasswordError(format!("hashing: {e}")))
}

/// Whether `hash` is a well-formed PHC string (what a config's `password_hash` must be).
pub fn check_hash(hash: &str) -> Result<(), PasswordError> {
    PasswordHash::new(hash)
        .map(|_| ())
        .map_err(|e| PasswordError(e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_with_one_reusable_buffer() {
        let hash = hash_demo_password("pw").unwrap();
        assert!(verify_password(&hash, "pw"));
        assert!(!verify_password(&hash, "nope"));
        assert!(!verify_password("garbage", "pw"));
        // One buffer serves hashes of different sizes.
        let mut memory = Vec::new();
        assert!(verify_password_in(&hash, "pw", &mut memory));
        assert_eq!(memory.len(), 8 * 1024);
        assert!(!verify_password_in(&hash, "px", &mut memory));
        // A hash made by the argon2 crate's defaults (19 MiB) verifies too.
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let default_hash = Argon2::default()
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string();
        assert!(verify_password_in(&default_hash, "pw", &mut memory));
        assert!(memory.len() >= 19 * 1024);
    }
}
