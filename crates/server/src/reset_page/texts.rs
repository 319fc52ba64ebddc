//! The page's words: the app's own catalogues (`ui/src/i18n/en.json`, `ja.json`, embedded, so
//! that the page and the app say the same thing in one copy) and the few sentences only the page
//! has (`en.json`, `ja.json` beside this file, keys starting with `page.`).

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::http::HeaderMap;

/// The two languages the page speaks: the protocol's.
pub use unipos_protocol::Language as Lang;

/// The member's language: the one asked for by the language switch, else the first of Japanese
/// and English in `Accept-Language` by preference, else English.
pub fn lang_for_request(asked: Option<&str>, headers: &HeaderMap) -> Lang {
    crate::extract::request_language(asked.and_then(Lang::parse), headers)
}

const APP_EN: &str = include_str!("../../../../ui/src/i18n/en.json");
const APP_JA: &str = include_str!("../../../../ui/src/i18n/ja.json");
const PAGE_EN: &str = include_str!("en.json");
const PAGE_JA: &str = include_str!("ja.json");

#[allow(
    clippy::expect_used,
    reason = "the catalogues are compiled in, and the page's tests read every one"
)]
fn catalogue(app: &str, page: &str) -> HashMap<String, String> {
    let mut all: HashMap<String, String> =
        serde_json::from_str(app).expect("the app's catalogue is a flat object of strings");
    let own: HashMap<String, String> =
        serde_json::from_str(page).expect("the page's catalogue is a flat object of strings");
    all.extend(own);
    all
}

static EN: LazyLock<HashMap<String, String>> = LazyLock::new(|| catalogue(APP_EN, PAGE_EN));
static JA: LazyLock<HashMap<String, String>> = LazyLock::new(|| catalogue(APP_JA, PAGE_JA));

/// The text of `key` in `lang`. A key neither catalogue has comes back as itself (the tests
/// render every state of the page in both languages and look for such leftovers).
pub fn text(lang: Lang, key: &str) -> &str {
    let catalogue = match lang {
        Lang::En => &*EN,
        Lang::Ja => &*JA,
    };
    catalogue.get(key).map_or(key, String::as_str)
}

/// [`text`] with its `{placeholders}` filled, as the app's `t()` fills them.
pub fn fill(lang: Lang, key: &str, vars: &[(&str, &str)]) -> String {
    let mut out = text(lang, key).to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Items joined as the app's `listOf` joins them (`Intl.ListFormat`, narrow conjunction).
pub fn list(lang: Lang, items: &[String]) -> String {
    items.join(match lang {
        Lang::En => ", ",
        Lang::Ja => "、",
    })
}

/// Sentences joined as the app's `sentences` joins them: a space in English, nothing after 。.
pub fn sentences(lang: Lang, parts: &[String]) -> String {
    let parts: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    parts.join(match lang {
        Lang::En => " ",
        Lang::Ja => "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_of_japanese_and_english() {
        for (header, lang) in [
            ("ja", Lang::Ja),
            ("ja-JP,ja;q=0.9,en-US;q=0.8,en;q=0.7", Lang::Ja),
            ("en-US,en;q=0.9,ja;q=0.8", Lang::En),
            ("fr-FR,fr;q=0.9,ja;q=0.5", Lang::Ja),
            ("en;q=0.4,ja;q=0.6", Lang::Ja),
            ("ja;q=0,en;q=0.1", Lang::En),
            ("JA-jp", Lang::Ja),
            ("fr", Lang::En),
            ("", Lang::En),
            ("*", Lang::En),
        ] {
            assert_eq!(Lang::for_request(None, header), lang, "{header}");
        }
    }

    #[test]
    fn the_language_switch_wins_over_the_browser() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            "ja-JP".parse().unwrap(),
        );
        assert_eq!(lang_for_request(Some("en"), &headers), Lang::En);
        assert_eq!(lang_for_request(None, &headers), Lang::Ja);
        assert_eq!(lang_for_request(Some("fr"), &headers), Lang::Ja);
    }

    #[test]
    fn the_pages_own_catalogues_have_the_same_keys_and_placeholders() {
        let en: HashMap<String, String> = serde_json::from_str(PAGE_EN).unwrap();
        let ja: HashMap<String, String> = serde_json::from_str(PAGE_JA).unwrap();
        let mut keys: Vec<&String> = en.keys().collect();
        keys.sort();
        let mut ja_keys: Vec<&String> = ja.keys().collect();
        ja_keys.sort();
        assert_eq!(keys, ja_keys);
        let placeholders = |s: &str| {
            let mut names: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                .collect();
            names.sort();
            names
        };
        for key in keys {
            assert!(key.starts_with("page."), "{key}");
            assert_eq!(placeholders(&en[key]), placeholders(&ja[key]), "{key}");
        }
    }

    /// The conventions of the app's Japanese texts (`ui/src/i18n/japanese.test.ts`), for the
    /// page's own.
    #[test]
    fn the_pages_japanese_follows_the_apps_conventions() {
        let ja: HashMap<String, String> = serde_json::from_str(PAGE_JA).unwrap();
        let japanese = |c: char| {
            ('\u{3040}'..='\u{30ff}').contains(&c)
                || ('\u{4e00}'..='\u{9fff}').contains(&c)
                || ('\u{3000}'..='\u{303f}').contains(&c)
                || ('\u{ff00}'..='\u{ffef}').contains(&c)
        };
        for (key, text) in &ja {
            let chars: Vec<char> = text.chars().collect();
            for (i, pair) in chars.windows(3).enumerate() {
                if pair[1] == ' ' {
                    assert!(
                        !(japanese(pair[0]) || japanese(pair[2])),
                        "{key}: a half-width space beside Japanese at {i}: {text}"
                    );
                }
            }
            for c in [',', '.', '(', ')', '?', '!', ':', '"'] {
                assert!(!text.contains(c), "{key}: half-width {c:?} in {text}");
            }
            assert!(!text.contains("..."), "{key}: use one …");
            for avoid in ["組織", "サーバ ", "デバイス", "新しいメール", "Eメール"]
            {
                assert!(!text.contains(avoid), "{key}: {avoid} in {text}");
            }
        }
    }

    #[test]
    fn lists_and_sentences_are_joined_as_the_app_joins_them() {
        let items = vec!["a digit".to_owned(), "a symbol".to_owned()];
        assert_eq!(list(Lang::En, &items), "a digit, a symbol");
        assert_eq!(
            list(Lang::Ja, &["数字".to_owned(), "記号".to_owned()]),
            "数字、記号"
        );
        let parts = vec!["One.".to_owned(), String::new(), "Two.".to_owned()];
        assert_eq!(sentences(Lang::En, &parts), "One. Two.");
        assert_eq!(
            sentences(Lang::Ja, &["一。".to_owned(), "二。".to_owned()]),
            "一。二。"
        );
    }

    #[test]
    fn a_key_neither_catalogue_has_comes_back_as_itself() {
        assert_eq!(text(Lang::En, "reset.submit"), "Set password and login");
        assert_eq!(
            text(Lang::Ja, "reset.submit"),
            "パスワードを設定してログイン"
        );
        assert_eq!(text(Lang::Ja, "page.no_such_key"), "page.no_such_key");
    }
}
