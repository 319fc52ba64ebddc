//! Random tokens, their stored hashes, and password hashing (argon2id).
//!
//! Everything here that hashes a password is slow on purpose: call it from a blocking task.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

/// 32 random bytes as URL-safe base64 without padding: 43 characters, 256 bits.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps instead of a token: its SHA-256. Tokens carry 256 random bits, so a
/// fast hash is enough (nothing to brute-force), and lookups stay a simple index search.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// An argon2id PHC string (`$argon2id$v=19$...`) with a fresh random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// Whether `password` matches the stored PHC string; a damaged hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time of a real verification, for logins to accounts that do not exist, so the
/// answer's timing does not tell whether an account exists.
pub fn dummy_verify(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash_password(&new_token()).unwrap_or_default());
    let _ = verify_password(password, phc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use unipos_protocol::ResetToken;

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert!(ResetToken::parse(&a).is_ok());
        assert_ne!(a, new_token());
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("Unipos-demo-1").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(!phc.contains("Unipos-demo-1"));
        assert!(verify_password("Unipos-demo-1", &phc));
        assert!(!verify_password("Unipos-demo-2", &phc));
        assert!(!verify_password("Unipos-demo-1", "not a hash"));
    }

    #[test]
    fn token_hashes_are_sha256() {
        assert_eq!(token_hash("x").len(), 32);
        assert_ne!(token_hash("x"), token_hash("y"));
    }
}
