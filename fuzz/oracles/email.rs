//! `Email::parse` on any text. Beyond "does not panic":
//! - an accepted address is the input unchanged: one half-width `@`, ASCII only, no whitespace,
//!   no invisible characters, no full-width forms, within the length limits;
//! - a refusal's one-tap fix differs from the input and is itself accepted, and is offered only
//!   for whitespace and full-width refusals;
//! - every reported character is really at the reported 1-based position, in input order;
//! - an input that is all whitespace is `email_empty`, and only such an input is.
//!
//! Shared by the fuzz target (`fuzz/fuzz_targets/email.rs`) and the replay of the committed
//! seeds in the test command (`crates/protocol/tests/fuzz_seeds.rs`).

use unipos_protocol::email::{MAX_EMAIL_OCTETS, MAX_LOCAL_OCTETS};
use unipos_protocol::{Email, ErrorCode};

const INVISIBLE: [char; 5] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

fn is_blank(c: char) -> bool {
    c.is_whitespace() || INVISIBLE.contains(&c)
}

fn is_fullwidth(c: char) -> bool {
    ('\u{FF01}'..='\u{FF5E}').contains(&c)
}

/// Checks one input; panics when an oracle above does not hold.
pub fn check(input: &str) {
    let verdict = Email::parse(input);
    assert_eq!(Email::parse(input), verdict, "the verdict is deterministic");
    match verdict {
        Ok(email) => {
            assert_eq!(
                email.as_str(),
                input,
                "accepted addresses are kept as typed"
            );
            assert!(
                !input.chars().any(is_blank),
                "accepted with whitespace: {input:?}"
            );
            assert!(
                !input.chars().any(is_fullwidth),
                "accepted full-width: {input:?}"
            );
            assert!(input.is_ascii(), "accepted non-ASCII: {input:?}");
            assert_eq!(input.matches('@').count(), 1, "not one @: {input:?}");
            assert!(input.len() <= MAX_EMAIL_OCTETS);
            let (local, domain) = (email.local_part(), email.domain());
            assert!(!local.is_empty() && local.len() <= MAX_LOCAL_OCTETS);
            assert_eq!(format!("{local}@{domain}"), input);
            assert!(domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
            assert!(!domain.contains(".."));
            // Lookups lowercase the address; the lowercased form must still be an address.
            let normalized = email.normalized();
            assert_eq!(normalized, input.to_ascii_lowercase());
            assert!(Email::parse(&normalized).is_ok(), "{normalized:?}");
            assert!(email.hint().ends_with(&format!("***@{domain}")));
        }
        Err(err) => {
            let code = err.code();
            assert!(!err.message().is_empty());
            let all_blank = input.chars().all(is_blank);
            assert_eq!(
                code == ErrorCode::EmailEmpty,
                all_blank,
                "{input:?}: {code:?}"
            );
            if let Some(fix) = err.fix() {
                assert!(
                    matches!(
                        code,
                        ErrorCode::EmailLeadingWhitespace
                            | ErrorCode::EmailTrailingWhitespace
                            | ErrorCode::EmailInnerWhitespace
                            | ErrorCode::EmailFullwidth
                    ),
                    "a fix offered for {code:?}"
                );
                assert_ne!(fix, input, "the fix changes nothing");
                if let Err(again) = Email::parse(fix) {
                    panic!("fix {fix:?} for {input:?} is refused: {:?}", again.code());
                }
            }
            let chars: Vec<char> = input.chars().collect();
            let mut last = 0;
            for report in err.chars() {
                assert!(report.position > last, "positions out of order");
                last = report.position;
                let c = chars[report.position as usize - 1];
                assert_eq!(report.char, c.to_string());
                assert_eq!(report.code_point, format!("U+{:04X}", c as u32));
                assert!(!report.name.is_empty());
            }
            let json = serde_json::to_value(&err).expect("serializes");
            assert_eq!(json["message"], err.message());
        }
    }
}
