//! What the app keeps in Rust between commands: the client's flows, the links (`links.rs`: the
//! one waiting for the UI and the held reset link, whose token never leaves Rust), the
//! preferences, and what the support report tells of the last calls and the last error.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use unipos_client::support::{CallLog, ShownError};
use unipos_client::unipos_protocol::PasswordPolicy;
use unipos_client::{ClientConfig, ClientError, Flows, SessionVault};

use crate::links::Links;
use crate::ui_values::Preferences;

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
    /// The logged-in member's organisation's policy, from Settings > Account, for its checklist.
    account_policy: Mutex<Option<PasswordPolicy>>,
    preferences: Mutex<Preferences>,
    /// The last API calls, kept across changes of the API URL (the support report).
    calls: CallLog,
    last_error: Mutex<Option<ShownError>>,
    /// Whether a session is stored, being read from the keychain since the app started.
    early_session_check: Mutex<EarlyCheck>,
    file: Box<dyn PreferenceFile>,
    browser: Box<dyn Browser>,
}

/// The keychain's first answer: read from the start, for the first of the first page and
/// `startup` to take.
#[derive(Default)]
enum EarlyCheck {
    #[default]
    Taken,
    Reading(tauri::async_runtime::JoinHandle<Result<bool, ClientError>>),
    Answered(Result<bool, ClientError>),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The client configuration: the API base and the links' web base from `UNIPOS_API_URL` and
/// `UNIPOS_WEB_BASE`, or the defaults; an API URL chosen in Settings > Support replaces BOTH.
/// A reset link then opens the app only when it points at the server the app talks to: a
/// genuine mail's link can never send its token (or a password) to another API.
pub fn client_config(preferences: &Preferences) -> Result<ClientConfig, ClientError> {
    let chosen = preferences.api_url.as_deref();
    Ok(ClientConfig::resolve(chosen, chosen)?.app(APP_NAME, env!("CARGO_PKG_VERSION")))
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
            account_policy: Mutex::new(None),
            preferences: Mutex::new(preferences),
            calls,
            last_error: Mutex::new(None),
            early_session_check: Mutex::new(EarlyCheck::Taken),
            file,
            browser,
        })
    }

    /// The flows for the current configuration (cheap to clone; clones share a connection pool).
    pub fn flows(&self) -> Flows {
        lock(&self.flows).clone()
    }

    /// Keeps the member's organisation's policy for the checklist of Settings > Account.
    pub fn set_account_policy(&self, policy: PasswordPolicy) {
        *lock(&self.account_policy) = Some(policy);
    }

    /// The policy Settings > Account last fetched, if it did.
    pub fn account_policy(&self) -> Option<PasswordPolicy> {
        lock(&self.account_policy).clone()
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
        *lock(&self.early_session_check) = EarlyCheck::Reading(check);
    }

    /// Whether a session is stored: the early answer the first time, a fresh read after that.
    pub async fn has_session(&self) -> Result<bool, ClientError> {
        let early = std::mem::take(&mut *lock(&self.early_session_check));
        match early {
            EarlyCheck::Reading(check) => {
                if let Ok(answer) = check.await {
                    return answer;
                }
            }
            EarlyCheck::Answered(answer) => return answer,
            EarlyCheck::Taken => {}
        }
        self.flows().has_session().await
    }

    /// The early answer, for the first page: waited for on this thread for up to `patience`
    /// (it has usually come by the time the web view asks for the page). `None` when it did not
    /// come in time or was taken already; then `startup` reads it as before.
    pub fn take_early_answer(&self, patience: Duration) -> Option<Result<bool, ClientError>> {
        let deadline = Instant::now() + patience;
        loop {
            let mut early = lock(&self.early_session_check);
            match std::mem::take(&mut *early) {
                EarlyCheck::Answered(answer) => return Some(answer),
                EarlyCheck::Reading(check) if check.inner().is_finished() => {
                    // Finished: one poll yields its answer, without a runtime.
                    let mut check = std::pin::pin!(check);
                    let mut cx = Context::from_waker(Waker::noop());
                    return match check.as_mut().poll(&mut cx) {
                        Poll::Ready(Ok(answer)) => Some(answer),
                        _ => None,
                    };
                }
                EarlyCheck::Reading(check) if Instant::now() < deadline => {
                    *early = EarlyCheck::Reading(check);
                }
                other => {
                    *early = other;
                    return None;
                }
            }
            drop(early);
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Gives the early answer back, for `startup` (the first page did not use it).
    pub fn put_back_early_answer(&self, answer: Result<bool, ClientError>) {
        *lock(&self.early_session_check) = EarlyCheck::Answered(answer);
    }

    /// The error the UI is about to show, recorded for the support report and handed on
    /// (`.map_err(|e| state.recorded(e))`).
    pub fn recorded(&self, e: ClientError) -> ClientError {
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

    /// Points the app at another API, links included (or back at the configured one with
    /// `None`). The new base must pass the client's rules; the session of the other API stays
    /// in the keychain. When `ask` and the host is not the configured API's, nothing changes
    /// until `confirmed_host` names it: the answer is then the host to confirm.
    pub fn set_api_url(
        &self,
        api_url: Option<String>,
        confirmed_host: Option<&str>,
        ask: bool,
    ) -> Result<Option<String>, ClientError> {
        let api_url = api_url.filter(|u| !u.trim().is_empty());
        let config = client_config(&Preferences {
            api_url: api_url.clone(),
            ..Preferences::default()
        })?;
        let host = config
            .api_base
            .url()
            .host_str()
            .unwrap_or_default()
            .to_owned();
        let configured = client_config(&Preferences::default())?;
        let another = configured.api_base.url().host_str() != Some(host.as_str());
        if ask && another && confirmed_host != Some(host.as_str()) {
            return Ok(Some(host));
        }
        let config = ClientConfig {
            api_base: config.api_base,
            web_base: config.web_base,
            ..self.flows().config().clone()
        };
        let flows = Flows::new(config, self.vault.clone())?.with_call_log(self.calls.clone());
        *lock(&self.flows) = flows;
        // A link that arrived for the old API must not send its token to the new one.
        self.links.forget_all();
        self.update_preferences(|p| p.api_url = api_url);
        Ok(None)
    }

    /// The host of the API chosen in Settings > Support, while one is.
    pub fn chosen_api_host(&self) -> Option<String> {
        self.preferences().api_url.as_ref()?;
        self.flows()
            .config()
            .api_base
            .url()
            .host_str()
            .map(str::to_owned)
    }

    pub fn open_in_browser(&self, url: &str) -> Result<(), String> {
        self.browser.open(url)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use unipos_client::testing::MemoryVault;

    use super::*;

    struct NoFile;
    impl PreferenceFile for NoFile {
        fn save(&self, _: &Preferences) {}
    }
    struct NoBrowser;
    impl Browser for NoBrowser {
        fn open(&self, _: &str) -> Result<(), String> {
            Ok(())
        }
    }

    fn state() -> AppState {
        let config = ClientConfig::with_bases("https://unipos.me", "https://unipos.me").unwrap();
        AppState::with_config(
            config,
            Preferences::default(),
            Arc::new(MemoryVault::new()),
            Box::new(NoFile),
            Box::new(NoBrowser),
        )
        .unwrap()
    }

    /// What a release build does: another API's host must be confirmed by name first.
    #[test]
    fn another_api_needs_its_host_confirmed_before_anything_changes() {
        let s = state();
        let asked = s
            .set_api_url(Some("https://evil.example".into()), None, true)
            .unwrap();
        assert_eq!(asked.as_deref(), Some("evil.example"));
        assert_eq!(s.flows().config().api_base.as_str(), "https://unipos.me");
        assert_eq!(s.chosen_api_host(), None);
        // Confirming another host is no confirmation.
        let asked = s
            .set_api_url(Some("https://evil.example".into()), Some("unipos.me"), true)
            .unwrap();
        assert_eq!(asked.as_deref(), Some("evil.example"));
        let applied = s
            .set_api_url(
                Some("https://evil.example".into()),
                Some("evil.example"),
                true,
            )
            .unwrap();
        assert_eq!(applied, None);
        assert_eq!(s.flows().config().api_base.as_str(), "https://evil.example");
        assert_eq!(s.flows().config().web_base.as_str(), "https://evil.example");
        assert_eq!(s.chosen_api_host().as_deref(), Some("evil.example"));
        // Back to the configured API needs nothing.
        assert_eq!(s.set_api_url(None, None, true).unwrap(), None);
        assert_eq!(s.chosen_api_host(), None);
    }
}
