//! The two languages Unipos speaks to members — in the app, in its mails and on the reset page —
//! and how a request says which one it wants.
//!
//! A mail is in the language of the request that causes it: the request's `lang` field when it
//! has one, else its `Accept-Language` header (Japanese or English, by preference), else English.
//! ([`Language::for_request`] is that rule.) The app sends the language it shows.

use serde::{Deserialize, Serialize};

/// English or Japanese (`"en"`, `"ja"` on the wire and in the app's store file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Language {
    /// English, also for a request that says nothing.
    #[default]
    En,
    Ja,
}

/// Subject of the reset mail in English, exactly as the help centre tells members to look for it.
pub const RESET_MAIL_SUBJECT: &str = "【Unipos】Password reset";
/// Subject of the reset mail in Japanese.
pub const RESET_MAIL_SUBJECT_JA: &str = "【Unipos】パスワード再設定";
/// Subject of the notice sent after a password was reset or changed, in English.
pub const PASSWORD_CHANGED_MAIL_SUBJECT: &str = "【Unipos】Your password was changed";
/// Subject of the notice sent after a password was reset or changed, in Japanese.
pub const PASSWORD_CHANGED_MAIL_SUBJECT_JA: &str = "【Unipos】パスワード変更のお知らせ";

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Ja];

    /// `en` or `ja`: the BCP 47 tag, for `lang` attributes and the wire.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Ja => "ja",
        }
    }

    /// The other one (the reset page's language switch).
    pub fn other(self) -> Language {
        match self {
            Language::En => Language::Ja,
            Language::Ja => Language::En,
        }
    }

    /// `en` or `ja` exactly; anything else is `None`.
    pub fn parse(value: &str) -> Option<Language> {
        match value {
            "en" => Some(Language::En),
            "ja" => Some(Language::Ja),
            _ => None,
        }
    }

    /// The first of Japanese and English an `Accept-Language` header wants, by preference:
    /// `ja-JP,ja;q=0.9,en;q=0.8` → Japanese. A language with `q=0` is refused, not wanted; a
    /// header that names neither is `None`.
    pub fn from_accept_language(header: &str) -> Option<Language> {
        let mut wanted: Vec<(f32, usize, Language)> = header
            .split(',')
            .enumerate()
            .filter_map(|(order, item)| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim();
                let primary = tag.split('-').next()?.to_ascii_lowercase();
                let lang = Language::parse(&primary)?;
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .filter_map(|q| q.trim().parse::<f32>().ok())
                    .next()
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, order, lang))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        wanted.first().map(|w| w.2)
    }

    /// The language an OS locale (`ja-JP`, `ja_JP.UTF-8`, `en-US`) asks for: Japanese for a
    /// Japanese one, English for any other.
    pub fn of_locale(locale: &str) -> Language {
        let primary = locale.split(['-', '_', '.']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("ja") {
            Language::Ja
        } else {
            Language::En
        }
    }

    /// The language of a request: the one it asks for (a `lang` field or parameter), else the
    /// one its `Accept-Language` header prefers, else English.
    pub fn for_request(asked: Option<Language>, accept_language: &str) -> Language {
        asked
            .or_else(|| Language::from_accept_language(accept_language))
            .unwrap_or_default()
    }

    /// The reset mail's subject in this language (an admin's reset sends the same subject).
    pub fn reset_mail_subject(self) -> &'static str {
        match self {
            Language::En => RESET_MAIL_SUBJECT,
            Language::Ja => RESET_MAIL_SUBJECT_JA,
        }
    }

    /// The password-changed notice's subject in this language.
    pub fn password_changed_mail_subject(self) -> &'static str {
        match self {
            Language::En => PASSWORD_CHANGED_MAIL_SUBJECT,
            Language::Ja => PASSWORD_CHANGED_MAIL_SUBJECT_JA,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_japanese_locale_asks_for_japanese_and_any_other_for_english() {
        for ja in ["ja", "ja-JP", "JA-jp", "ja_JP.UTF-8"] {
            assert_eq!(Language::of_locale(ja), Language::Ja, "{ja}");
        }
        for en in ["en-US", "en_GB", "fr-FR", "jav", "", "C"] {
            assert_eq!(Language::of_locale(en), Language::En, "{en}");
        }
    }

    #[test]
    fn codes_round_trip_and_travel_as_their_codes() {
        for lang in Language::ALL {
            assert_eq!(Language::parse(lang.code()), Some(lang));
            assert_eq!(
                serde_json::to_string(&lang).unwrap(),
                format!("\"{}\"", lang.code())
            );
            assert_eq!(lang.other().other(), lang);
        }
        assert_eq!(Language::parse("JA"), None);
        assert_eq!(Language::parse("ja-JP"), None);
        assert_eq!(Language::default(), Language::En);
    }

    #[test]
    fn accept_language_is_read_by_preference() {
        let cases = [
            ("ja-JP,ja;q=0.9,en;q=0.8", Some(Language::Ja)),
            ("en-US,en;q=0.9,ja;q=0.8", Some(Language::En)),
            ("fr,ja;q=0.5,en;q=0.4", Some(Language::Ja)),
            ("en;q=0.2, JA-jp;q=0.7", Some(Language::Ja)),
            ("ja;q=0,en;q=0.1", Some(Language::En)),
            ("fr-FR,de", None),
            ("", None),
        ];
        for (header, want) in cases {
            assert_eq!(Language::from_accept_language(header), want, "{header}");
        }
        assert_eq!(Language::for_request(None, "fr"), Language::En);
        assert_eq!(Language::for_request(None, "ja"), Language::Ja);
        assert_eq!(
            Language::for_request(Some(Language::En), "ja"),
            Language::En
        );
    }

    #[test]
    fn each_language_has_its_own_subjects_and_english_keeps_the_help_centre_s() {
        assert_eq!(
            Language::En.reset_mail_subject(),
            "【Unipos】Password reset"
        );
        assert_eq!(
            Language::Ja.reset_mail_subject(),
            "【Unipos】パスワード再設定"
        );
        assert_eq!(
            Language::Ja.password_changed_mail_subject(),
            "【Unipos】パスワード変更のお知らせ"
        );
        assert_ne!(
            Language::En.password_changed_mail_subject(),
            Language::Ja.password_changed_mail_subject()
        );
    }
}
