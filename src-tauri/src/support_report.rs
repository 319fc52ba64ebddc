//! The support report (Settings > Support, reachable without logging in): facts about the app
//! and the device, the last API calls, links and error. Its shape, and what it must never hold,
//! is `unipos_client::support`.

use serde::Deserialize;
use specta::Type;
use unipos_client::support::{
    self, ApiFacts, AppFacts, KeychainFacts, SupportReport, REPORT_FORMAT,
};

use crate::state::AppState;

/// The commit and profile the app was built from (`build.rs`).
pub const BUILD: &str = env!("UNIPOS_BUILD");

/// What only the web view knows: how it presents the app.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct ReportView {
    /// `phone` or `desktop`.
    pub presentation: String,
    /// Whether Settings > Support forced it.
    pub forced: bool,
    pub width: u32,
    pub height: u32,
    /// The interface language shown (`en`, `ja`).
    pub language: String,
}

/// The report as it is now.
pub async fn report(state: &AppState, view: ReportView) -> SupportReport {
    let flows = state.flows();
    let keychain = match flows.has_session().await {
        Ok(holds_session) => KeychainFacts {
            answers: true,
            holds_session,
            error_code: None,
        },
        Err(e) => KeychainFacts {
            answers: false,
            holds_session: false,
            error_code: Some(e.code().to_owned()),
        },
    };
    SupportReport {
        format: REPORT_FORMAT.to_owned(),
        made_at: support::now(),
        app: AppFacts {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            build: BUILD.to_owned(),
            platform: std::env::consts::OS.to_owned(),
            os: os_info::get().to_string(),
            presentation: if view.forced {
                format!("{} (forced)", view.presentation)
            } else {
                view.presentation
            },
            window: format!("{}×{}", view.width, view.height),
            language: view.language,
        },
        api: ApiFacts {
            api_url: flows.config().api_base.as_str().to_owned(),
            web_base: flows.config().web_base.as_str().to_owned(),
        },
        keychain,
        api_calls: state.calls().calls(),
        link_events: state.links.recent(),
        last_error: state.last_error(),
    }
    .fitted()
}
