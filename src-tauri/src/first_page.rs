//! The page the window loads, as the web view asks for it.
//!
//! When the first screen is Log in and everything it shows is known before the page's script
//! runs, the page comes with Log in already in it, in the member's language and presentation:
//! rendered at build time for each language, Log in tab and kind of device
//! (`ui/scripts/prerender.mjs`, from [`prerendered_logins`]), with the start-up facts `startup`
//! would answer written into it. Log in then shows as soon as the page is painted, and the UI's
//! script takes over the markup (Svelte's hydration) without asking Rust anything.
//!
//! Otherwise the page is served as built and the UI asks `startup`: a session is stored, a link
//! waits to be opened, the keychain failed or has not answered yet, Support forced a
//! presentation or chose another API (Log in then says "Connected to HOST"), or the window is as
//! narrow as a phone's on a desktop.

use std::borrow::Cow;
use std::time::Duration;

use serde::Serialize;
use specta::Type;
use unipos_client::ClientError;

use crate::state::AppState;
use crate::ui_values::{AppInfo, Language, LoginTab, Preferences, Startup, PHONE_MAX_WIDTH};

/// The folder of the prerendered pages in the UI's build.
pub const FIRST_SCREEN_DIR: &str = "first-screen";

/// How long the page waits for the keychain's first answer before it is served as built.
/// The answer usually comes before the web view asks for the page.
const KEYCHAIN_PATIENCE: Duration = Duration::from_millis(300);

/// One prerendered Log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginPage {
    pub language: Language,
    pub tab: LoginTab,
    /// The iOS or Android app (the phone presentation, and the Login ID tab's camera); else a
    /// desktop window wider than a phone's.
    pub mobile: bool,
}

impl LoginPage {
    /// Every Log in the build prerenders.
    pub fn all() -> Vec<LoginPage> {
        let mut pages = Vec::new();
        for language in Language::ALL {
            for tab in [LoginTab::Email, LoginTab::LoginId] {
                for mobile in [false, true] {
                    pages.push(LoginPage {
                        language,
                        tab,
                        mobile,
                    });
                }
            }
        }
        pages
    }

    /// Its file in the UI's build.
    pub fn file(self) -> String {
        let tab = match self.tab {
            LoginTab::Email => "email",
            LoginTab::LoginId => "login_id",
        };
        let device = if self.mobile { "mobile" } else { "desktop" };
        format!(
            "{FIRST_SCREEN_DIR}/login.{}.{tab}.{device}.html",
            self.language.code()
        )
    }

    /// The Log in that `facts` make the first screen, when nothing else shows on it; `width`
    /// is the window's, in CSS pixels.
    pub fn for_facts(facts: &Startup, width: f64) -> Option<LoginPage> {
        let plain = !facts.has_session
            && facts.incoming_link.is_none()
            && facts.keychain_error.is_none()
            && facts.info.chosen_api_host.is_none()
            && facts.preferences.presentation.is_none()
            && (facts.info.mobile || width > PHONE_MAX_WIDTH);
        plain.then(|| LoginPage {
            language: facts.preferences.language_shown(facts.info.device_language),
            tab: facts
                .preferences
                .last_login_method
                .unwrap_or(LoginTab::Email),
            mobile: facts.info.mobile,
        })
    }

    /// Facts that make this Log in the first screen, for the build to render it from.
    fn facts(self) -> Startup {
        let base = unipos_client::DEFAULT_BASE;
        Startup {
            info: AppInfo {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                platform: if self.mobile { "android" } else { "linux" }.to_owned(),
                mobile: self.mobile,
                locale: Some(self.language.code().to_owned()),
                device_language: self.language,
                api_url: format!("{base}/api/v1"),
                web_base: base.to_owned(),
                chosen_api_host: None,
                trace_startup: false,
            },
            preferences: Preferences {
                last_login_method: Some(self.tab),
                ..Preferences::default()
            },
            has_session: false,
            incoming_link: None,
            keychain_error: None,
        }
    }
}

/// A page for the build to render: its file, and the facts to render it from.
#[derive(Debug, Serialize, Type)]
pub struct PrerenderedLogin {
    pub file: String,
    pub facts: Startup,
}

/// Every page the build renders (a constant of the bindings).
pub fn prerendered_logins() -> Vec<PrerenderedLogin> {
    LoginPage::all()
        .into_iter()
        .map(|page| PrerenderedLogin {
            file: page.file(),
            facts: page.facts(),
        })
        .collect()
}

/// The start-up facts as the page carries them: JSON in a data block (never run), with every
/// `<` escaped so that nothing in them (an API URL from Support) can end the block.
pub fn facts_block(facts: &Startup) -> Result<String, serde_json::Error> {
    let json = serde_json::to_string(facts)?.replace('<', "\\u003c");
    Ok(format!(
        r#"<script type="application/json" id="startup-facts">{json}</script>"#
    ))
}

/// `page` (a prerendered Log in) with the facts block before `</body>`.
pub fn with_facts(page: &[u8], block: &str) -> Option<Vec<u8>> {
    let page = std::str::from_utf8(page).ok()?;
    let at = page.rfind("</body>")?;
    Some([&page[..at], block, &page[at..]].concat().into_bytes())
}

/// Whether `path` is the app's page (`/` or `/index.html`).
pub fn is_app_page(path: &str) -> bool {
    matches!(path, "/" | "/index.html")
}

/// The facts for the first page when its first screen can be prerendered Log in; the keychain's
/// answer is given back to `startup` when it cannot.
pub fn facts_for_login(state: &AppState, width: f64) -> Option<(LoginPage, Startup)> {
    if state.links.is_waiting() {
        return None;
    }
    let answer = state.take_early_answer(KEYCHAIN_PATIENCE)?;
    let has_session = match &answer {
        Ok(false) => false,
        _ => {
            state.put_back_early_answer(answer);
            return None;
        }
    };
    let facts = Startup {
        info: crate::commands::info_of(state),
        preferences: state.preferences(),
        has_session,
        incoming_link: None,
        keychain_error: None::<ClientError>,
    };
    match LoginPage::for_facts(&facts, width) {
        Some(page) => Some((page, facts)),
        None => {
            state.put_back_early_answer(Ok(false));
            None
        }
    }
}

/// The response for the app's page: the prerendered Log in with its facts when
/// [`facts_for_login`] finds one, else the page as built. `asset` reads a file of the UI's build.
pub fn serve(
    state: &AppState,
    width: f64,
    asset: impl Fn(&str) -> Option<Vec<u8>>,
    body: &mut Cow<'static, [u8]>,
) -> Option<LoginPage> {
    let (page, facts) = facts_for_login(state, width)?;
    let served = asset(&page.file())
        .zip(facts_block(&facts).ok())
        .and_then(|(html, block)| with_facts(&html, &block));
    match served {
        Some(html) => {
            *body = Cow::Owned(html);
            Some(page)
        }
        None => {
            // A build without its prerendered pages: the UI asks `startup`, which needs the
            // answer the page took.
            log::warn!("no prerendered {} in the build", page.file());
            state.put_back_early_answer(Ok(facts.has_session));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Startup {
        LoginPage {
            language: Language::En,
            tab: LoginTab::Email,
            mobile: false,
        }
        .facts()
    }

    #[test]
    fn every_page_has_a_file_of_its_own_and_its_facts_lead_back_to_it() {
        let pages = LoginPage::all();
        assert_eq!(pages.len(), 8);
        let files: std::collections::BTreeSet<String> = pages.iter().map(|p| p.file()).collect();
        assert_eq!(files.len(), pages.len());
        for page in pages {
            assert_eq!(LoginPage::for_facts(&page.facts(), 1280.0), Some(page));
        }
    }

    #[test]
    fn log_in_is_prerendered_in_the_language_shown_and_on_the_tab_used_last() {
        let mut f = facts();
        f.info.device_language = Language::Ja;
        f.preferences.last_login_method = Some(LoginTab::LoginId);
        let page = LoginPage::for_facts(&f, 1280.0).unwrap();
        assert_eq!(page.file(), "first-screen/login.ja.login_id.desktop.html");
        // The member's own choice wins over the device's.
        f.preferences.language = Some(Language::En);
        let page = LoginPage::for_facts(&f, 1280.0).unwrap();
        assert_eq!(page.language, Language::En);
    }

    #[test]
    fn anything_beside_log_in_leaves_the_page_as_built() {
        type Change = fn(&mut Startup);
        let cases: [(&str, Change); 5] = [
            ("a stored session", |f| f.has_session = true),
            ("a keychain error", |f| {
                f.keychain_error = Some(ClientError::KeychainUnavailable {
                    message: "no Secret Service".into(),
                    cause: "test".into(),
                })
            }),
            ("an API chosen in Support", |f| {
                f.info.chosen_api_host = Some("staging.example".into())
            }),
            ("a forced presentation", |f| {
                f.preferences.presentation = Some(crate::ui_values::Presentation::Phone)
            }),
            ("a link to open", |f| {
                f.incoming_link = Some(crate::ui_values::IncomingLink::Opened {
                    target: crate::ui_values::LinkTarget::Forgot { logged_in: false },
                })
            }),
        ];
        for (what, change) in cases {
            let mut f = facts();
            change(&mut f);
            assert_eq!(LoginPage::for_facts(&f, 1280.0), None, "{what}");
        }
        // A desktop window as narrow as a phone shows the phone presentation, never prerendered
        // on a desktop.
        assert_eq!(LoginPage::for_facts(&facts(), PHONE_MAX_WIDTH), None);
        assert!(LoginPage::for_facts(&facts(), PHONE_MAX_WIDTH + 1.0).is_some());
    }

    #[test]
    fn the_facts_block_cannot_be_ended_by_what_it_carries() {
        let mut f = facts();
        f.preferences.api_url = Some("https://x.example/</script><script>alert(1)</script>".into());
        let block = facts_block(&f).unwrap();
        assert_eq!(block.matches("</script>").count(), 1, "{block}");
        assert!(block.ends_with("</script>"));
        let json = block
            .trim_start_matches(r#"<script type="application/json" id="startup-facts">"#)
            .trim_end_matches("</script>");
        let back: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(
            back["preferences"]["api_url"],
            "https://x.example/</script><script>alert(1)</script>"
        );
    }

    #[test]
    fn the_facts_go_at_the_end_of_the_body() {
        let page = b"<html><body><div id=\"app\"><h1>Log in</h1></div></body></html>";
        let out = with_facts(page, "<script id=\"f\"></script>").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<html><body><div id=\"app\"><h1>Log in</h1></div><script id=\"f\"></script></body></html>"
        );
        assert_eq!(with_facts(b"<html>no body</html>", "x"), None);
    }

    #[test]
    fn only_the_app_page_is_served_this_way() {
        assert!(is_app_page("/"));
        assert!(is_app_page("/index.html"));
        assert!(!is_app_page("/assets/index.js"));
        assert!(!is_app_page("/first-screen/login.en.email.desktop.html"));
    }
}
