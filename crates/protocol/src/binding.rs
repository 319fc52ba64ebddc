//! Binding a reset link to the app that asked for it, as PKCE (RFC 7636) binds an authorization
//! code: the app keeps a random verifier in its keychain and sends only its hash, the challenge,
//! with "Send"; the link mailed for that request sets a password only together with the
//! verifier. A link caught by another app (an impostor that also claims `unipos:`), or opened on
//! another device, is useless there.

use sha2::{Digest, Sha256};

use crate::ErrorCode;

/// A verifier and a challenge are 32 bytes as URL-safe base64 without padding.
pub const BINDING_LEN: usize = 43;

/// The challenge of `verifier`: base64url(SHA-256(verifier)), RFC 7636's `S256`.
pub fn code_challenge(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// A verifier or challenge as sent: 43 characters of URL-safe base64 (a verifier made from
/// 32 random bytes, or a SHA-256).
pub fn check_binding_value(value: &str) -> Result<(), ErrorCode> {
    let ok = value.len() == BINDING_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ErrorCode::BadRequest)
    }
}

/// Whether `verifier` is the one `challenge` was made from. Compares the hashes in constant
/// time: how long the comparison took says nothing about how close a guess was.
pub fn verifier_matches(challenge: &str, verifier: &str) -> bool {
    let expected = code_challenge(verifier);
    expected.len() == challenge.len()
        && expected
            .bytes()
            .zip(challenge.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// URL-safe base64 without padding (RFC 4648 §5).
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636_s256() {
        // RFC 7636, Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            code_challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(verifier_matches(&code_challenge(verifier), verifier));
        assert!(!verifier_matches(
            &code_challenge(verifier),
            &verifier.replace('d', "e")
        ));
        assert!(!verifier_matches("", verifier));
    }

    #[test]
    fn base64url_has_no_padding_and_the_url_safe_alphabet() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(&[0u8; 32]).len(), BINDING_LEN);
    }

    #[test]
    fn only_43_url_safe_characters_are_a_binding_value() {
        assert_eq!(check_binding_value(&"A".repeat(43)), Ok(()));
        for bad in [
            "A".repeat(42),
            "A".repeat(44),
            format!("{}=", "A".repeat(42)),
            "+".repeat(43),
        ] {
            assert_eq!(
                check_binding_value(&bad),
                Err(ErrorCode::BadRequest),
                "{bad}"
            );
        }
    }
}
