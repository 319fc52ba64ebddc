//! `ResetToken::parse` on any text. Beyond "does not panic":
//! - it accepts exactly 32–128 characters of URL-safe base64 (`A–Z a–z 0–9 - _`), checked
//!   against an independent oracle;
//! - an accepted token is kept unchanged, and neither `Debug` nor `redacted` shows it whole;
//! - the links built around an accepted token are accepted and carry it unchanged.
//!
//! Shared by the fuzz target (`fuzz/fuzz_targets/token.rs`) and the replay of the committed
//! seeds in the test command (`crates/protocol/tests/fuzz_seeds.rs`).

use unipos_protocol::token::{TOKEN_MAX_LEN, TOKEN_MIN_LEN};
use unipos_protocol::{AppLink, BaseUrl, LinkRules, ResetToken};

/// Checks one input; panics when an oracle above does not hold.
pub fn check(input: &str) {
    let oracle = (32..=128).contains(&input.chars().count())
        && input
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    assert_eq!((TOKEN_MIN_LEN, TOKEN_MAX_LEN), (32, 128));
    let token = match ResetToken::parse(input) {
        Ok(token) => token,
        Err(err) => {
            assert!(!oracle, "refused a well-formed token {input:?}");
            let _ = (err.code(), err.to_string());
            return;
        }
    };
    assert!(oracle, "accepted a malformed token {input:?}");
    assert_eq!(token.expose(), input);
    assert_eq!(ResetToken::parse(token.expose()), Ok(token.clone()));
    let redacted = token.redacted();
    assert_eq!(redacted, format!("{}…", &input[..6]));
    assert!(
        !format!("{token:?}").contains(input),
        "Debug shows the token"
    );

    let rules = LinkRules::new(BaseUrl::parse("https://unipos.me").unwrap());
    for link in [rules.reset_url(input), LinkRules::app_reset_url(input)] {
        match rules.parse(&link) {
            Ok(AppLink::Reset(reset)) => assert_eq!(reset.token, token),
            other => panic!("{link:?} refused: {other:?}"),
        }
    }
}
