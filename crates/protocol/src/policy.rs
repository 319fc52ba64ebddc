//! The organisation's password policy: set by admins, sent by the server, checked by both sides.
//!
//! The client never hard-codes password rules: it renders the policy the server returns as a
//! checklist, evaluating each rule with [`PasswordPolicy::check`].

use serde::{Deserialize, Serialize};

/// One organisation's password rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
pub enum PolicyRule {
    MinLength,
    MaxLength,
    RequireLower,
    RequireUpper,
    RequireDigit,
    RequireSymbol,
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
        }
    }
}

/// One line of the checklist: a rule the policy has, and whether the password meets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleCheck {
    pub rule: PolicyRule,
    pub met: bool,
}

impl PasswordPolicy {
    /// Every rule this policy enforces, with whether `password` meets it, in checklist order.
    /// Length counts characters (what a member sees), not bytes.
    pub fn checklist(&self, password: &str) -> Vec<RuleCheck> {
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
        out
    }

    /// The rules `password` breaks; empty when it is acceptable.
    pub fn check(&self, password: &str) -> Vec<PolicyRule> {
        self.checklist(password)
            .into_iter()
            .filter(|c| !c.met)
            .map(|c| c.rule)
            .collect()
    }
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
                PolicyRule::RequireDigit
            ]
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let p = PasswordPolicy {
            min_length: 4,
            ..PasswordPolicy::default()
        };
        // Four characters, twelve bytes.
        assert!(!p.check("パスワ1").contains(&PolicyRule::MinLength));
    }
}
