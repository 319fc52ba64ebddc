//! Members as a team admin manages them: roles, the form of a Login ID and of a display name,
//! and the hint of a Login ID that a reset link may show.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// The longest Login ID, in characters.
pub const MAX_LOGIN_ID_CHARS: usize = 64;
/// The longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

/// A member's role in their team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Member,
    /// Team Admin: adds members, resets their passwords, prints their Account Information.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }

    /// The stored form back; anything unknown is the least privileged role.
    pub fn parse(s: &str) -> Role {
        match s {
            "admin" => Role::Admin,
            _ => Role::Member,
        }
    }
}

/// A Login ID an admin may give a member: 1–64 half-width letters, digits and `.`, `_`, `-`, `@`
/// (what a member can type on any phone keyboard, and nothing a look-alike could imitate).
/// Compared without regard to case, as logins compare it.
pub fn check_login_id(login_id: &str) -> Result<(), ErrorCode> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    let chars = login_id.chars().count();
    if (1..=MAX_LOGIN_ID_CHARS).contains(&chars) && login_id.chars().all(allowed) {
        Ok(())
    } else {
        Err(ErrorCode::LoginIdInvalid)
    }
}

/// A display name: 1–100 characters after trimming, no control characters.
pub fn check_display_name(name: &str) -> Result<(), ErrorCode> {
    let trimmed = name.trim();
    let chars = trimmed.chars().count();
    if (1..=MAX_DISPLAY_NAME_CHARS).contains(&chars) && !trimmed.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(ErrorCode::DisplayNameInvalid)
    }
}

/// A Login ID with most of it hidden, for a screen that confirms whose link this is: the first
/// character (two when it has more than six) and `***`. `jiro` → `j***`, `t00123` → `t***`,
/// `suzuki.jiro` → `su***`.
pub fn login_id_hint(login_id: &str) -> String {
    let shown = if login_id.chars().count() > 6 { 2 } else { 1 };
    let prefix: String = login_id.chars().take(shown).collect();
    format!("{prefix}***")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_ids_are_half_width_letters_digits_and_a_few_marks() {
        for ok in ["jiro", "T001", "suzuki.jiro", "a_b-c@d", &"x".repeat(64)] {
            assert_eq!(check_login_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            " jiro",
            "jiro ",
            "ji ro",
            "ｊｉｒｏ",
            "次郎",
            "a/b",
            &"x".repeat(65),
        ] {
            assert_eq!(check_login_id(bad), Err(ErrorCode::LoginIdInvalid), "{bad}");
        }
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(check_display_name("鈴木 次郎"), Ok(()));
        assert_eq!(check_display_name(&"名".repeat(100)), Ok(()));
        for bad in ["", "   ", "a\u{0}b", &"名".repeat(101)] {
            assert_eq!(
                check_display_name(bad),
                Err(ErrorCode::DisplayNameInvalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_login_id_hint_shows_one_or_two_characters_only() {
        assert_eq!(login_id_hint("jiro"), "j***");
        assert_eq!(login_id_hint("t00123"), "t***");
        assert_eq!(login_id_hint("suzuki.jiro"), "su***");
        assert_eq!(login_id_hint(""), "***");
    }

    #[test]
    fn roles_use_the_contract_strings_and_unknown_means_member() {
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
        assert_eq!(Role::parse(Role::Admin.as_str()), Role::Admin);
        assert_eq!(Role::parse("owner"), Role::Member);
    }
}
