//! The shape of reset tokens: URL-safe base64 without padding, 32–128 characters.

use thiserror::Error;

use crate::ErrorCode;

pub const TOKEN_MIN_LEN: usize = 32;
pub const TOKEN_MAX_LEN: usize = 128;

/// A reset token of the right shape. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct ResetToken(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TokenError {
    #[error("the token must be {TOKEN_MIN_LEN}–{TOKEN_MAX_LEN} characters of URL-safe base64")]
    Malformed,
}

impl TokenError {
    pub fn code(self) -> ErrorCode {
        ErrorCode::LinkTokenMalformed
    }
}

impl ResetToken {
    pub fn parse(s: &str) -> Result<ResetToken, TokenError> {
        let ok = (TOKEN_MIN_LEN..=TOKEN_MAX_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(ResetToken(s.to_owned()))
        } else {
            Err(TokenError::Malformed)
        }
    }

    /// The token itself, for the request body and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short prefix that is safe to show and log.
    pub fn redacted(&self) -> String {
        redact_token(&self.0)
    }
}

impl std::fmt::Debug for ResetToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResetToken({})", self.redacted())
    }
}

/// The first six characters and an ellipsis: enough to tell two links apart, far too little to
/// use one (a token carries at least 192 bits; six characters are 36 of them).
pub fn redact_token(token: &str) -> String {
    let prefix: String = token.chars().take(6).collect();
    format!("{prefix}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_safe_base64_of_the_right_length_is_a_token() {
        assert!(ResetToken::parse(&"a".repeat(32)).is_ok());
        assert!(ResetToken::parse(&"Az09-_".repeat(21)).is_ok());
        assert!(ResetToken::parse(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn wrong_length_or_alphabet_is_refused() {
        for bad in [
            "a".repeat(31),
            "a".repeat(129),
            format!("{}=", "a".repeat(40)),
            format!("{}+/", "a".repeat(40)),
            format!("{}%41", "a".repeat(40)),
            format!("{}é", "a".repeat(40)),
        ] {
            assert_eq!(ResetToken::parse(&bad), Err(TokenError::Malformed), "{bad}");
        }
    }

    #[test]
    fn debug_and_redaction_show_only_a_prefix() {
        let t = ResetToken::parse("abcdefSECRETSECRETSECRETSECRETSECRET").unwrap();
        assert_eq!(format!("{t:?}"), "ResetToken(abcdef…)");
        assert_eq!(t.redacted(), "abcdef…");
    }
}
