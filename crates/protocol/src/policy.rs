//! The organisation's password policy: set by admins, sent by the server, checked by both sides.
//!
//! The client never hard-codes password rules: it renders the policy the server returns as a
//! checklist, evaluating each rule with [`PasswordPolicy::check`].
//!
//! Passwords are compared in one form: [`normalize_password`] (NFKC, NIST SP 800-63B §3.1.1.2),
//! so a password typed with a Japanese IME in full-width mode is the same password typed
//! half-width. The policy counts the normalized form, and the server hashes and verifies it.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// One organisation's password rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub max_length: u32,
    pub require_lower: bool,
    pub require_upper: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 128,
            require_lower: true,
            require_upper: false,
            require_digit: true,
            require_symbol: false,
        }
    }
}

/// A single rule of a policy, as the checklist shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum PolicyRule {
    MinLength,
    MaxLength,
    RequireLower,
    RequireUpper,
    RequireDigit,
    RequireSymbol,
    /// Not one of the most common (breached) passwords, nor built from the member's own email
    /// address, name or Login ID. Every policy has it.
    CommonPassword,
}

impl PolicyRule {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyRule::MinLength => "min_length",
            PolicyRule::MaxLength => "max_length",
            PolicyRule::RequireLower => "require_lower",
            PolicyRule::RequireUpper => "require_upper",
            PolicyRule::RequireDigit => "require_digit",
            PolicyRule::RequireSymbol => "require_symbol",
            PolicyRule::CommonPassword => "common_password",
        }
    }
}

/// One line of the checklist: a rule the policy has, and whether the password meets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RuleCheck {
    pub rule: PolicyRule,
    pub met: bool,
}

/// Whose password it is: what a password must not be built from. Parts that are not known (the
/// app's Reset screen knows only a hint of the address) are left `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordOwner<'a> {
    pub email: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub login_id: Option<&'a str>,
}

/// The one form a password is counted, hashed and verified in: Unicode NFKC, which folds
/// full-width letters, digits and symbols (and U+3000) into their half-width forms.
pub fn normalize_password(password: &str) -> String {
    password.nfkc().collect()
}

impl PasswordPolicy {
    /// Every rule this policy enforces, with whether `password` meets it, in checklist order.
    /// Length counts characters (what a member sees), not bytes, of the normalized password.
    pub fn checklist(&self, password: &str) -> Vec<RuleCheck> {
        self.checklist_for(password, &PasswordOwner::default())
    }

    /// [`checklist`](Self::checklist), also refusing passwords built from what `owner` knows of
    /// the member.
    pub fn checklist_for(&self, password: &str, owner: &PasswordOwner<'_>) -> Vec<RuleCheck> {
        let password = normalize_password(password);
        let len = password.chars().count() as u32;
        let has = |f: fn(char) -> bool| password.chars().any(f);
        let mut out = vec![
            RuleCheck {
                rule: PolicyRule::MinLength,
                met: len >= self.min_length,
            },
            RuleCheck {
                rule: PolicyRule::MaxLength,
                met: len <= self.max_length,
            },
        ];
        let optional = [
            (
                self.require_lower,
                PolicyRule::RequireLower,
                has(|c| c.is_lowercase()),
            ),
            (
                self.require_upper,
                PolicyRule::RequireUpper,
                has(|c| c.is_uppercase()),
            ),
            (
                self.require_digit,
                PolicyRule::RequireDigit,
                has(|c| c.is_ascii_digit()),
            ),
            (
                self.require_symbol,
                PolicyRule::RequireSymbol,
                has(is_symbol),
            ),
        ];
        out.extend(
            optional
                .into_iter()
                .filter(|(required, _, _)| *required)
                .map(|(_, rule, met)| RuleCheck { rule, met }),
        );
        out.push(RuleCheck {
            rule: PolicyRule::CommonPassword,
            met: !is_common(&password) && !built_from_owner(&password, owner),
        });
        out
    }

    /// The policy as the `passwordrules` attribute of a new-password field
    /// (<https://developer.apple.com/password-rules/>), so a password manager that reads it
    /// (Safari's, iCloud Keychain) suggests a password this policy accepts: the lengths, a
    /// `required:` class per required kind of character, and the other kinds `allowed:`, so
    /// suggestions are not made of the required kinds alone. For the default policy:
    /// `minlength: 8; maxlength: 128; required: lower; required: digit; allowed: upper, special;`.
    pub fn passwordrules(&self) -> String {
        let mut rules = format!(
            "minlength: {}; maxlength: {};",
            self.min_length, self.max_length
        );
        let classes = [
            (self.require_lower, "lower"),
            (self.require_upper, "upper"),
            (self.require_digit, "digit"),
            (self.require_symbol, "special"),
        ];
        for (_, class) in classes.iter().filter(|(required, _)| *required) {
            rules.push_str(&format!(" required: {class};"));
        }
        let allowed: Vec<&str> = classes
            .iter()
            .filter(|(required, _)| !*required)
            .map(|(_, class)| *class)
            .collect();
        if !allowed.is_empty() {
            rules.push_str(&format!(" allowed: {};", allowed.join(", ")));
        }
        rules
    }

    /// The rules `password` breaks; empty when it is acceptable.
    pub fn check(&self, password: &str) -> Vec<PolicyRule> {
        self.check_for(password, &PasswordOwner::default())
    }

    /// The rules `password` breaks for this member; empty when it is acceptable.
    pub fn check_for(&self, password: &str, owner: &PasswordOwner<'_>) -> Vec<PolicyRule> {
        self.checklist_for(password, owner)
            .into_iter()
            .filter(|c| !c.met)
            .map(|c| c.rule)
            .collect()
    }
}

/// How many passwords the common-password list holds (see `data/README.md` for its source).
pub fn common_password_count() -> usize {
    common_passwords().len()
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/common-passwords.txt")
            .lines()
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Whether the (normalized) password is on the list, ignoring case and trailing symbols
/// (`Password123!` is `password123`).
fn is_common(normalized: &str) -> bool {
    let lower = normalized.to_lowercase();
    let trimmed = lower.trim_end_matches(|c: char| !c.is_alphanumeric());
    let list = common_passwords();
    list.contains(lower.as_str()) || list.contains(trimmed)
}

/// Whether the password contains the member's email local part, Login ID or a part of either or
/// of the display name (four characters or more), or is such a part of three characters with
/// only digits and symbols around it (`ken2024!`).
fn built_from_owner(normalized: &str, owner: &PasswordOwner<'_>) -> bool {
    let password = normalized.to_lowercase();
    let letters: String = password.chars().filter(|c| c.is_alphabetic()).collect();
    let local = owner
        .email
        .map(|e| e.rsplit_once('@').map_or(e, |(l, _)| l));
    let mut parts: Vec<String> = Vec::new();
    for whole in [local, owner.login_id].into_iter().flatten() {
        let whole = normalize_password(whole).to_lowercase();
        parts.extend(
            whole
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_owned),
        );
        parts.push(whole);
    }
    if let Some(name) = owner.display_name {
        let name = normalize_password(name).to_lowercase();
        parts.extend(
            name.split(|c: char| !c.is_alphanumeric())
                .map(str::to_owned),
        );
    }
    parts.iter().any(|part| {
        let n = part.chars().count();
        (n >= 4 && password.contains(part.as_str())) || (n == 3 && letters == *part)
    })
}

/// A symbol is any visible character that is neither a letter nor a digit.
fn is_symbol(c: char) -> bool {
    !c.is_alphanumeric() && !c.is_whitespace() && !c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> PasswordPolicy {
        PasswordPolicy {
            min_length: 10,
            max_length: 20,
            require_lower: true,
            require_upper: true,
            require_digit: true,
            require_symbol: true,
        }
    }

    #[test]
    fn a_password_meeting_every_rule_passes() {
        assert!(strict().check("Abcdefg1!x").is_empty());
    }

    #[test]
    fn each_broken_rule_is_named() {
        assert_eq!(
            strict().check("abc"),
            vec![
                PolicyRule::MinLength,
                PolicyRule::RequireUpper,
                PolicyRule::RequireDigit,
                PolicyRule::RequireSymbol
            ]
        );
        assert_eq!(
            strict().check("Abcdefg1!xAbcdefg1!x1"),
            vec![PolicyRule::MaxLength]
        );
    }

    #[test]
    fn the_checklist_lists_only_rules_the_policy_has() {
        let rules: Vec<_> = PasswordPolicy::default()
            .checklist("")
            .into_iter()
            .map(|c| c.rule)
            .collect();
        assert_eq!(
            rules,
            vec![
                PolicyRule::MinLength,
                PolicyRule::MaxLength,
                PolicyRule::RequireLower,
                PolicyRule::RequireDigit,
                PolicyRule::CommonPassword
            ]
        );
    }

    #[test]
    fn full_width_passwords_count_as_their_half_width_form() {
        // What a Japanese IME types in full-width mode: "Ｍｙｎｅｗｐａｓｓ１２".
        let full_width = "\u{FF2D}\u{FF59}\u{FF4E}\u{FF45}\u{FF57}\u{FF50}\u{FF41}\u{FF53}\u{FF53}\u{FF11}\u{FF12}";
        assert_eq!(normalize_password(full_width), "Mynewpass12");
        assert!(PasswordPolicy::default().check(full_width).is_empty());
        assert_eq!(normalize_password("pass\u{3000}word"), "pass word");
    }

    #[test]
    fn the_list_holds_thirty_thousand_common_passwords() {
        assert_eq!(common_password_count(), 30_000);
    }

    #[test]
    fn common_passwords_are_refused_in_any_case_width_or_with_a_trailing_symbol() {
        let p = PasswordPolicy::default();
        for common in [
            "password123",
            "Password123",
            "pASSWORD123!",
            "qwerty123",
            "\u{FF50}\u{FF41}\u{FF53}\u{FF53}\u{FF57}\u{FF4F}\u{FF52}\u{FF44}\u{FF11}",
            "iloveyou1",
        ] {
            assert_eq!(
                p.check(common),
                vec![PolicyRule::CommonPassword],
                "{common}"
            );
        }
        assert!(p.check("New-password-1").is_empty());
        assert!(p.check("Unipos-demo-1").is_empty());
    }

    #[test]
    fn passwords_built_from_the_members_own_address_or_name_are_refused() {
        let p = PasswordPolicy::default();
        let taro = PasswordOwner {
            email: Some("taro.yamada@example.com"),
            display_name: Some("Taro Yamada"),
            login_id: None,
        };
        for own in ["taro.yamada1", "Yamada2024", "mytaro-pass9", "tARO1234"] {
            assert_eq!(
                p.check_for(own, &taro),
                vec![PolicyRule::CommonPassword],
                "{own}"
            );
            assert!(p.check(own).is_empty(), "{own} is fine for someone else");
        }
        assert!(p.check_for("Blue-river-88", &taro).is_empty());
        let ken = PasswordOwner {
            email: Some("ken@example.com"),
            display_name: Some("Ken Sato"),
            login_id: Some("ks01"),
        };
        assert_eq!(
            p.check_for("ken2024!", &ken),
            vec![PolicyRule::CommonPassword]
        );
        // A three-letter name inside a longer word is a coincidence, not the name.
        assert!(p.check_for("kennel-house-7", &ken).is_empty());
    }

    #[test]
    fn passwordrules_name_the_lengths_and_each_required_kind_and_allow_the_others() {
        assert_eq!(
            PasswordPolicy::default().passwordrules(),
            "minlength: 8; maxlength: 128; required: lower; required: digit; allowed: upper, special;"
        );
        assert_eq!(
            strict().passwordrules(),
            "minlength: 10; maxlength: 20; required: lower; required: upper; required: digit; required: special;"
        );
        let lengths_only = PasswordPolicy {
            min_length: 12,
            max_length: 64,
            require_lower: false,
            require_upper: false,
            require_digit: false,
            require_symbol: true,
        };
        assert_eq!(
            lengths_only.passwordrules(),
            "minlength: 12; maxlength: 64; required: special; allowed: lower, upper, digit;"
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // Four characters, ten bytes in UTF-8: counted in bytes, it would be long enough for a
        // minimum of five and too long for a maximum of four.
        let password = "パスワ1";
        assert_eq!((password.chars().count(), password.len()), (4, 10));
        let at_least_five = PasswordPolicy {
            min_length: 5,
            ..PasswordPolicy::default()
        };
        assert!(at_least_five
            .check(password)
            .contains(&PolicyRule::MinLength));
        let four_at_most = PasswordPolicy {
            min_length: 4,
            max_length: 4,
            ..PasswordPolicy::default()
        };
        let failed = four_at_most.check(password);
        assert!(!failed.contains(&PolicyRule::MinLength), "{failed:?}");
        assert!(!failed.contains(&PolicyRule::MaxLength), "{failed:?}");
    }
}
