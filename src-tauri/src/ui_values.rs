//! The app's own values that the commands send to the web view: preferences, facts for the
//! Support settings, what the first screen needs, where a link leads. The client's and the
//! protocol's values travel as those crates define them (their `specta` feature types them for
//! the bindings).
//!
//! Nothing here carries a session token or a reset token.

use serde::{Deserialize, Serialize};
use specta::Type;
use unipos_client::ClientError;

/// The interface language (the protocol's: the mails and the reset page speak the same two),
/// when the member chose one (otherwise the OS language is used).
pub use unipos_client::unipos_protocol::Language;

/// The Log in tab used last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum LoginTab {
    Email,
    LoginId,
}

/// A presentation forced from Settings > Support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Presentation {
    Phone,
    Desktop,
}

/// Windows at most this many CSS pixels wide get the phone presentation (the UI follows it as
/// the window is resized; the first page is chosen by it).
pub const PHONE_MAX_WIDTH: f64 = 599.0;

/// The non-secret preferences kept in the app's store file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct Preferences {
    pub language: Option<Language>,
    pub last_login_method: Option<LoginTab>,
    pub presentation: Option<Presentation>,
    /// An API base chosen in Settings > Support (https, or http on a loopback address).
    pub api_url: Option<String>,
}

impl Preferences {
    /// The language the screens are shown in: the member's choice, else the device's.
    pub fn language_shown(&self, device: Language) -> Language {
        self.language.unwrap_or(device)
    }
}

/// Facts about the app: for the first screen (the presentation and the language), and where it
/// sends its calls (what `set_api_url` answers).
#[derive(Debug, Clone, Serialize, Type)]
pub struct AppInfo {
    pub version: String,
    /// `linux`, `macos`, `windows`, `ios`, `android`.
    pub platform: String,
    /// Whether this is the iOS or Android app.
    pub mobile: bool,
    /// The OS language as a BCP 47 tag (`ja-JP`), when the OS tells.
    pub locale: Option<String>,
    /// The language the app speaks that the OS asks for (English when it asks for neither):
    /// shown unless the member chose one in Settings > Language.
    pub device_language: Language,
    pub api_url: String,
    pub web_base: String,
    /// The host of an API chosen in Settings > Support, while one is: Log in, Forgot and Reset
    /// then say "Connected to HOST" at all times (passwords and reset links go there).
    pub chosen_api_host: Option<String>,
    /// `UNIPOS_TRACE_STARTUP=1`: the UI reports its start-up phases. Without it the UI sends
    /// nothing, so no call to Rust runs beside the first screen for the trace's sake.
    pub trace_startup: bool,
}

/// What `set_api_url` did.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ApiUrlChange {
    /// The app talks to it now.
    Applied { info: AppInfo },
    /// Nothing changed yet: a release build asks the member to confirm `host` first (a
    /// "support" person may be trying to get their password sent to their own server), then
    /// `set_api_url` again with `confirmed_host`.
    Confirm { host: String },
}

/// Everything the first screen needs, read locally (no network): what `startup` answers, or
/// what the first page carries (first_page.rs).
#[derive(Debug, Serialize, Type)]
pub struct Startup {
    pub info: AppInfo,
    pub preferences: Preferences,
    /// Whether the keychain holds a session for this API (the server may have ended it).
    pub has_session: bool,
    /// A link the app was opened with, not yet shown.
    pub incoming_link: Option<IncomingLink>,
    /// Set when the keychain could not be read.
    pub keychain_error: Option<ClientError>,
}

/// Help-centre pages the app opens in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum HelpTopic {
    /// "I forgot / want to reset my password (with Login ID)"
    LoginIdPassword,
    /// "How to sign up / log in / log out (with SSO)"
    SsoLogin,
    /// "I can't receive a password reset email"
    CantReceiveEmail,
}

/// Where an accepted link leads. The reset token stays in Rust.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkTarget {
    /// The Reset screen; `token_hint` is the token's first characters, for support.
    Reset { token_hint: String },
    /// The Forgot screen, or the Timeline with a note when a session exists.
    Forgot { logged_in: bool },
    /// Log in, or the Timeline when a session exists.
    Login { logged_in: bool },
}

/// A link the OS handed to the app (cold or warm start), as the UI learns of it.
#[derive(Debug, Serialize, Type)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IncomingLink {
    Opened { target: LinkTarget },
    Refused { error: ClientError },
}

/// Sent when the OS hands the app a link; the UI then calls `take_incoming_link`. It travels on
/// the channel the UI gave `watch_links`, not as an event: the web view may listen to no event
/// at all, so neither can a script that got into it, nor hear the deep-link plugin's own
/// `deep-link://new-url` event, which carries the raw URL with its token.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
pub struct LinkWaiting {}
