//! What the app keeps in Rust between commands: the client's flows, the links (`links.rs`: the
//! one waiting for the UI and the held reset link, whose token never leaves Rust), the
//! preferences, and what the support report tells of the last calls and the last error.

use std::sync::{Arc, Mutex, MutexGuard};

use unipos_client::support::{CallLog, ShownError};
use unipos_client::{ClientConfig, ClientError, Flows, SessionVault};

use crate::links::Links;
use crate::wire::Preferences;

/// Name and version sent in the `User-Agent`.
pub const APP_NAME: &str = "UniposAccount";

/// Persists the preferences (the store plugin in the app, nothing in tests).
pub trait PreferenceFile: Send + Sync {
    fn save(&self, preferences: &Preferences);
}

/// Opens pages in the system browser (the opener plugin in the app, a recorder in tests).
pub trait Browser: Send + Sync {
    fn open(&self, url: &str) -> Result<(), String>;
}

/// The app's state, managed by Tauri.
pub struct AppState {
    vault: Arc<dyn SessionVault>,
    flows: Mutex<Flows>,
    /// The link waiting for the UI, and the held reset link.
    pub links: Links,
    preferences: Mutex<Preferences>,
    /// The last API calls, kept across changes of the API URL (the support report).
    calls: CallLog,
    last_error: Mutex<Option<ShownError>>,
    /// Whether a session is stored, being read from the keychain since the app started.
    early_session_check: Mutex<Option<tauri::async_runtime::JoinHandle<Result<bool, ClientError>>>>,
    file: Box<dyn PreferenceFile>,
    browser: Box<dyn Browser>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The client configuration: the preference's API URL first, then `UNIPOS_API_URL`, then the
/// default; the web base from `UNIPOS_WEB_BASE` or the default.
pub fn client_config(preferences: &Preferences) -> Result<ClientConfig, ClientError> {
    Ok(ClientConfig::resolve(preferences.api_url.as_deref(), None)?
        .app(APP_NAME, env!("CARGO_PKG_VERSION")))
}

impl AppState {
    /// The state for `preferences`. A stored API URL the client's rules now refuse is dropped
    /// (the app then uses the environment or the default) rather than keeping the app from
    /// starting.
    pub fn new(
        mut preferences: Preferences,
        vault: Arc<dyn SessionVault>,
        file: Box<dyn PreferenceFile>,
        browser: Box<dyn Browser>,
    ) -> Result<AppState, ClientError> {
        let config = match client_config(&preferences) {
            Ok(config) => config,
            Err(e) if preferences.api_url.is_some() => {
                log::warn!("ignoring the stored API URL: {}", e.code());
                preferences.api_url = None;
                client_config(&preferences)?
            }
            Err(e) => return Err(e),
        };
        AppState::with_config(config, preferences, vault, file, browser)
    }

    /// The state over a given client configuration (tests point it at their own server).
    pub fn with_config(
        config: ClientConfig,
        preferences: Preferences,
        vault: Arc<dyn SessionVault>,
        file: Box<dyn PreferenceFile>,
        browser: Box<dyn Browser>,
    ) -> Result<AppState, ClientError> {
        let calls = CallLog::default();
        Ok(AppState {
            flows: Mutex::new(Flows::new(config, vault.clone())?.with_call_log(calls.clone())),
            vault,
            links: Links::default(),
            preferences: Mutex::new(preferences),
            calls,
            last_error: Mutex::new(None),
            early_session_check: Mutex::new(None),
            file,
            browser,
        })
    }

    /// The flows for the current configuration (cheap to clone; clones share a connection pool).
    pub fn flows(&self) -> Flows {
        lock(&self.flows).clone()
    }

    /// Starts reading whether a session is stored, so that the first screen finds the answer
    /// ready instead of waiting for the keychain after the page has loaded.
    pub fn check_session_early(&self) {
        let flows = self.flows();
        let check = tauri::async_runtime::spawn(async move {
            let answer = flows.has_session().await;
            crate::startup_trace::reached(crate::startup_trace::Phase::KeychainAnswered);
            answer
        });
        *lock(&self.early_session_check) = Some(check);
    }

    /// Whether a session is stored: the early answer the first time, a fresh read after that.
    pub async fn has_session(&self) -> Result<bool, ClientError> {
        let early = lock(&self.early_session_check).take();
        if let Some(Ok(answer)) = match early {
            Some(check) => Some(check.await),
            None => None,
        } {
            return answer;
        }
        self.flows().has_session().await
    }

    /// Records the error the UI is about to show (for the support report) and hands it on.
    pub fn fail(&self, e: ClientError) -> ClientError {
        log::info!(
            "command failed: {} request_id={}",
            e.code(),
            e.request_id().unwrap_or("-")
        );
        self.shown(&e);
        e
    }

    /// Records an error the UI shows without a failed command (a refused link's screen).
    pub fn shown(&self, e: &ClientError) {
        *lock(&self.last_error) = Some(ShownError::of(e));
    }

    /// The last error shown, and its request id when the call reached the network.
    pub fn last_error(&self) -> Option<ShownError> {
        lock(&self.last_error).clone()
    }

    /// The last API calls, oldest first.
    pub fn calls(&self) -> &CallLog {
        &self.calls
    }

    pub fn preferences(&self) -> Preferences {
        lock(&self.preferences).clone()
    }

    /// Changes the preferences and saves them.
    pub fn update_preferences(&self, change: impl FnOnce(&mut Preferences)) -> Preferences {
        let mut preferences = lock(&self.preferences);
        change(&mut preferences);
        self.file.save(&preferences);
        preferences.clone()
    }

    /// Points the app at another API (or back at the configured one with `None`). The new base
    /// must pass the client's rules; the session of the other API stays in the keychain.
    pub fn set_api_url(&self, api_url: Option<String>) -> Result<(), ClientError> {
        let api_url = api_url.filter(|u| !u.trim().is_empty());
        let api_base = client_config(&Preferences {
            api_url: api_url.clone(),
            ..Preferences::default()
        })?
        .api_base;
        let config = ClientConfig {
            api_base,
            ..self.flows().config().clone()
        };
        let flows = Flows::new(config, self.vault.clone())?.with_call_log(self.calls.clone());
        *lock(&self.flows) = flows;
        // A link that arrived for the old API must not send its token to the new one.
        self.links.forget_all();
        self.update_preferences(|p| p.api_url = api_url);
        Ok(())
    }

    pub fn open_in_browser(&self, url: &str) -> Result<(), String> {
        self.browser.open(url)
    }
}
