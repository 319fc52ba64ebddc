//! Email address rules: what Unipos accepts, and a precise, fixable verdict on what it does not.
//!
//! Unipos's format: half-width letters, digits and ``.!#$%&'*+=?^_`{|}~-`` before a half-width
//! `@`, a domain of half-width labels, and no whitespace anywhere. Members on phones type addresses
//! with IMEs that insert full-width letters and the ideographic space (U+3000), and paste addresses
//! that drag invisible characters along; each of those gets its own code and, where one exists, the
//! corrected address so the UI can offer a one-tap fix. [`Email::parse`] never alters the input.

use serde::{Serialize, Serializer};
use thiserror::Error;
use unicode_normalization::UnicodeNormalization;

use crate::ErrorCode;

pub const MAX_EMAIL_OCTETS: usize = 254;
pub const MAX_LOCAL_OCTETS: usize = 64;
const MAX_LABEL_OCTETS: usize = 63;

/// A well-formed address, exactly as the member typed it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// A character that made the address unacceptable, located for the member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CharReport {
    /// The character itself.
    pub char: String,
    /// `U+3000`
    pub code_point: String,
    /// `IDEOGRAPHIC SPACE`
    pub name: String,
    /// What kind of character it is, for the UI to name it in the member's language.
    pub kind: CharKind,
    /// 1-based position among the input's characters.
    pub position: u32,
}

/// The kinds of character an address is refused for, as a member would name them: the UI has a
/// text for each (全角スペース, ゼロ幅スペース, 全角英数字, ...); `other` is named by its Unicode
/// name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum CharKind {
    /// U+3000, the space Japanese IMEs type.
    IdeographicSpace,
    /// U+0020.
    Space,
    /// Any other Unicode space (no-break, en, thin, ...).
    OtherSpace,
    /// Zero-width characters: invisible, and dragged along by pasted text.
    ZeroWidth,
    /// U+0009.
    Tab,
    /// Line and paragraph breaks.
    LineBreak,
    /// Full-width letters and digits (U+FF10–U+FF19, U+FF21–U+FF3A, U+FF41–U+FF5A).
    FullwidthAlphanumeric,
    /// U+FF20, the full-width at sign.
    FullwidthAt,
    /// Any other full-width form of ASCII (U+FF01–U+FF5E).
    FullwidthSymbol,
    /// Anything else that is not allowed in an address.
    Other,
}

impl CharKind {
    /// The kind of `c`.
    pub fn of(c: char) -> CharKind {
        match c {
            '\u{3000}' => CharKind::IdeographicSpace,
            ' ' => CharKind::Space,
            '\t' => CharKind::Tab,
            '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                CharKind::LineBreak
            }
            c if INVISIBLE.contains(&c) => CharKind::ZeroWidth,
            c if c.is_whitespace() => CharKind::OtherSpace,
            '\u{FF20}' => CharKind::FullwidthAt,
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                CharKind::FullwidthAlphanumeric
            }
            c if is_fullwidth(c) => CharKind::FullwidthSymbol,
            _ => CharKind::Other,
        }
    }
}

impl std::fmt::Display for CharReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} at {}", self.code_point, self.name, self.position)
    }
}

/// Why an address was refused, what to type instead (when that is clear), and which characters
/// are at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}", self.message())]
pub struct EmailError {
    rule: EmailRule,
    fix: Option<String>,
    chars: Vec<CharReport>,
}

/// The rules an address can break, most actionable first: each has its `email_*` code and its
/// English sentence. A new rule is a new variant, and the compiler asks for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailRule {
    Empty,
    LeadingWhitespace,
    TrailingWhitespace,
    InnerWhitespace,
    Fullwidth,
    TooLong,
    Invalid,
}

impl EmailRule {
    /// Every rule, in the order they are tried.
    pub const ALL: [EmailRule; 7] = [
        EmailRule::Empty,
        EmailRule::LeadingWhitespace,
        EmailRule::TrailingWhitespace,
        EmailRule::InnerWhitespace,
        EmailRule::Fullwidth,
        EmailRule::TooLong,
        EmailRule::Invalid,
    ];

    /// The rule's `email_*` code.
    pub fn code(self) -> ErrorCode {
        match self {
            EmailRule::Empty => ErrorCode::EmailEmpty,
            EmailRule::LeadingWhitespace => ErrorCode::EmailLeadingWhitespace,
            EmailRule::TrailingWhitespace => ErrorCode::EmailTrailingWhitespace,
            EmailRule::InnerWhitespace => ErrorCode::EmailInnerWhitespace,
            EmailRule::Fullwidth => ErrorCode::EmailFullwidth,
            EmailRule::TooLong => ErrorCode::EmailTooLong,
            EmailRule::Invalid => ErrorCode::EmailInvalid,
        }
    }

    /// An English sentence saying what to do.
    pub fn message(self) -> &'static str {
        match self {
            EmailRule::Empty => "Enter your email address.",
            EmailRule::LeadingWhitespace => "Remove the space at the start of the email address.",
            EmailRule::TrailingWhitespace => "Remove the space at the end of the email address.",
            EmailRule::InnerWhitespace => "Remove the space inside the email address.",
            EmailRule::Fullwidth => "Use half-width (single-byte) characters in the email address.",
            EmailRule::TooLong => "The email address is too long.",
            EmailRule::Invalid => "Enter a valid email address, such as taro@example.com.",
        }
    }

    /// Whether removing characters or folding their width can mend the address (a fix is then
    /// offered when the result is acceptable).
    fn fixable(self) -> bool {
        match self {
            EmailRule::LeadingWhitespace
            | EmailRule::TrailingWhitespace
            | EmailRule::InnerWhitespace
            | EmailRule::Fullwidth => true,
            EmailRule::Empty | EmailRule::TooLong | EmailRule::Invalid => false,
        }
    }
}

impl EmailError {
    /// One of the `email_*` codes.
    pub fn code(&self) -> ErrorCode {
        self.rule.code()
    }

    /// The rule the address broke.
    pub fn rule(&self) -> EmailRule {
        self.rule
    }

    /// The corrected address, offered to the member as a one-tap fix; never applied silently.
    pub fn fix(&self) -> Option<&str> {
        self.fix.as_deref()
    }

    /// The offending characters, in input order.
    pub fn chars(&self) -> &[CharReport] {
        &self.chars
    }

    /// An English sentence saying what to do.
    pub fn message(&self) -> &'static str {
        self.rule.message()
    }
}

/// An [`EmailError`] as it travels: `{code, message, fix?, chars}`.
#[derive(Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
// The name TypeScript knows it by (JSON does not carry a struct's name).
#[serde(rename = "EmailError")]
struct EmailErrorJson<'a> {
    /// One of the `email_*` codes.
    code: ErrorCode,
    /// English, for logs; the UI shows its own text for `code`.
    message: &'static str,
    /// The corrected address, offered as a one-tap fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a str>,
    chars: &'a [CharReport],
}

impl Serialize for EmailError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EmailErrorJson {
            code: self.code(),
            message: self.message(),
            fix: self.fix(),
            chars: &self.chars,
        }
        .serialize(s)
    }
}

/// The TypeScript type of an [`EmailError`] is that of the form it travels in.
#[cfg(feature = "specta")]
impl specta::Type for EmailError {
    fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
        <EmailErrorJson<'static> as specta::Type>::definition(types)
    }
}

/// Zero-width characters that are not Unicode White_Space but arrive with pasted text and are
/// just as invisible.
const INVISIBLE: [char; 5] = ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

fn is_blank(c: char) -> bool {
    c.is_whitespace() || INVISIBLE.contains(&c)
}

/// The full-width forms of ASCII (U+FF01–U+FF5E), which Japanese IMEs produce.
fn is_fullwidth(c: char) -> bool {
    ('\u{FF01}'..='\u{FF5E}').contains(&c)
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".!#$%&'*+=?^_`{|}~-".contains(c)
}

fn char_name(c: char) -> String {
    if let Some(name) = unicode_names2::name(c) {
        return name.to_string();
    }
    // Control characters have no name in UnicodeData; these are their formal aliases.
    match c {
        '\t' => "CHARACTER TABULATION",
        '\n' => "LINE FEED",
        '\u{0B}' => "LINE TABULATION",
        '\u{0C}' => "FORM FEED",
        '\r' => "CARRIAGE RETURN",
        '\u{85}' => "NEXT LINE",
        _ => "UNNAMED CHARACTER",
    }
    .to_owned()
}

fn report(position: usize, c: char) -> CharReport {
    CharReport {
        char: c.to_string(),
        code_point: format!("U+{:04X}", c as u32),
        name: char_name(c),
        kind: CharKind::of(c),
        // An address longer than `u32::MAX` characters is not typed by a person.
        position: u32::try_from(position).unwrap_or(u32::MAX),
    }
}

impl Email {
    /// Checks `input` against Unipos's rules. On success the address is kept exactly as typed.
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let rule = match verdict(input) {
            None => return Ok(Email(input.to_owned())),
            Some(rule) => rule,
        };
        let chars = input
            .chars()
            .enumerate()
            .filter(|&(_, c)| !(c == '@' || is_local_char(c)))
            .map(|(i, c)| report(i + 1, c))
            .collect();
        let fix = rule.fixable().then(|| corrected(input)).flatten();
        Err(EmailError { rule, fix, chars })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used to look accounts up: ASCII-lowercased (addresses are compared without case).
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map(|(l, _)| l).unwrap_or_default()
    }

    pub fn domain(&self) -> &str {
        self.0.split_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// The address redacted for display and logs: `t***@example.com`.
    pub fn hint(&self) -> String {
        let first: String = self.local_part().chars().take(1).collect();
        format!("{first}***@{}", self.domain())
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The first rule `input` breaks, most actionable first.
fn verdict(input: &str) -> Option<EmailRule> {
    if input.chars().all(is_blank) {
        return Some(EmailRule::Empty);
    }
    if input.starts_with(is_blank) {
        return Some(EmailRule::LeadingWhitespace);
    }
    if input.ends_with(is_blank) {
        return Some(EmailRule::TrailingWhitespace);
    }
    if input.contains(is_blank) {
        return Some(EmailRule::InnerWhitespace);
    }
    if input.contains(is_fullwidth) {
        return Some(EmailRule::Fullwidth);
    }
    let local_len = input.find('@').unwrap_or(input.len());
    if input.len() > MAX_EMAIL_OCTETS || local_len > MAX_LOCAL_OCTETS {
        return Some(EmailRule::TooLong);
    }
    let well_formed = input
        .split_once('@')
        .is_some_and(|(local, domain)| valid_local(local) && valid_domain(domain));
    (!well_formed).then_some(EmailRule::Invalid)
}

// Dots are allowed anywhere in the local part, consecutive ones included: older Japanese mobile
// carrier addresses (`taro..x.@docomo.ne.jp`) break RFC 5322 but are real, working addresses.
fn valid_local(local: &str) -> bool {
    !local.is_empty() && local.chars().all(is_local_char)
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= MAX_LABEL_OCTETS
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()));
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

/// The address with full-width forms folded (NFKC) and whitespace and invisible characters
/// removed, if that is an acceptable address.
fn corrected(input: &str) -> Option<String> {
    let candidate: String = input.nfkc().filter(|&c| !is_blank(c)).collect();
    (candidate != input && verdict(&candidate).is_none()).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_email_code_is_one_rule_with_its_own_sentence() {
        let email_codes: Vec<ErrorCode> = ErrorCode::ALL
            .iter()
            .copied()
            .filter(|c| c.as_str().starts_with("email_"))
            .collect();
        let rule_codes: Vec<ErrorCode> = EmailRule::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(rule_codes, email_codes);
        let sentences: std::collections::HashSet<&str> =
            EmailRule::ALL.iter().map(|r| r.message()).collect();
        assert_eq!(sentences.len(), EmailRule::ALL.len(), "a sentence shared");
    }

    #[test]
    fn a_refusal_says_the_sentence_of_the_rule_it_broke() {
        let err = Email::parse("taro@example").unwrap_err();
        assert_eq!(err.rule(), EmailRule::Invalid);
        assert_eq!(
            err.message(),
            "Enter a valid email address, such as taro@example.com."
        );
        let err = Email::parse("taro@example.com ").unwrap_err();
        assert_eq!(err.code(), ErrorCode::EmailTrailingWhitespace);
        assert_eq!(
            err.to_string(),
            "Remove the space at the end of the email address."
        );
    }
}
