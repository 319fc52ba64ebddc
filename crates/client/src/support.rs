//! The support report: what a member hands support staff when something went wrong, logged in
//! or not, and what `unipos report explain` reads back.
//!
//! It holds facts about the app and the device, the last [`MAX_API_CALLS`] API calls, the last
//! [`MAX_LINK_EVENTS`] links and the last error shown; never a token, a password or a whole
//! email address. Calls are recorded by route (no query, no body), links by the token's hint,
//! errors by code and request id.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{ClientError, ClientErrorCode};

/// The first field of every report, so a reader knows what it holds.
pub const REPORT_FORMAT: &str = "unipos-support-report/1";
/// API calls kept for the report.
pub const MAX_API_CALLS: usize = 20;
/// Link events kept for the report.
pub const MAX_LINK_EVENTS: usize = 10;
/// A report is pasted into a chat or a ticket: it stays under this size.
pub const MAX_REPORT_BYTES: usize = 20 * 1024;

/// What the member hands support staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportReport {
    /// [`REPORT_FORMAT`].
    pub format: String,
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
    pub app: AppFacts,
    pub api: ApiFacts,
    pub keychain: KeychainFacts,
    /// Oldest first.
    pub api_calls: Vec<ApiCall>,
    /// Oldest first.
    pub link_events: Vec<LinkEvent>,
    pub last_error: Option<ShownError>,
}

/// The app and the device it runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppFacts {
    pub version: String,
    /// The commit and profile it was built from.
    pub build: String,
    /// `linux`, `macos`, `windows`, `ios`, `android`.
    pub platform: String,
    /// The OS and its version, as the OS names them.
    pub os: String,
    /// `phone` or `desktop`, and whether it was forced in Settings > Support.
    pub presentation: String,
    /// The window's size in CSS pixels, `1280×800`.
    pub window: String,
    /// The interface language (`en`, `ja`).
    pub language: String,
}

/// Where the app sends its calls and what its links must look like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiFacts {
    pub api_url: String,
    pub web_base: String,
}

/// Whether the OS keychain answers and holds a session for this API (never the session).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeychainFacts {
    pub answers: bool,
    pub holds_session: bool,
    /// Why it does not answer.
    pub error_code: Option<String>,
}

/// One exchange with the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub method: String,
    /// The endpoint's path under the API prefix, `/password/forgot`.
    pub route: String,
    /// `None` when no answer came (offline, refused, timeout).
    pub status: Option<u16>,
    pub error_code: Option<String>,
    pub request_id: String,
    pub duration_ms: u32,
}

/// How a link reached the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkArrival {
    /// The app was started with it.
    ColdStart,
    /// Handed over while the app ran.
    Warm,
    /// Pasted on Check your email (or Log in).
    Paste,
    /// Read by the phone's camera off an Account Information sheet's QR code, in the app.
    Scan,
}

/// A link, as the app judged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub came: LinkArrival,
    /// [`LINK_OPENED_RESET`], [`LINK_OPENED_FORGOT`], [`LINK_OPENED_LOGIN`], or the refusal's
    /// error code.
    pub verdict: String,
    /// The first characters of an accepted reset link's token.
    pub token_hint: Option<String>,
    /// What the server said of an accepted reset link when Reset asked: [`LINK_VALID`] or the
    /// error code (`token_expired`, `offline`, …).
    pub checked: Option<String>,
}

/// [`LinkEvent::verdict`] of a reset link the rules accepted.
pub const LINK_OPENED_RESET: &str = "opened_reset";
/// [`LinkEvent::verdict`] of a forgot-password link.
pub const LINK_OPENED_FORGOT: &str = "opened_forgot";
/// [`LinkEvent::verdict`] of a link to Log in.
pub const LINK_OPENED_LOGIN: &str = "opened_login";
/// [`LinkEvent::checked`] of a link the server said works.
pub const LINK_VALID: &str = "valid";

/// The app's log line when a reset link arrives, followed by ` (HINT…)`: support, the
/// end-to-end tests and `scripts/package-test.sh` look for it.
pub const LOG_RESET_LINK_RECEIVED: &str = "reset link received";
/// The app's log line once the server said the link works and Reset shows, followed by
/// ` (HINT…), Reset shows`.
pub const LOG_RESET_LINK_VALID: &str = "reset link checked: valid";

/// The last error the app showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownError {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub code: String,
    pub status: Option<u16>,
    pub request_id: Option<String>,
}

impl ShownError {
    pub fn of(error: &ClientError) -> ShownError {
        ShownError {
            at: now(),
            code: error.code().to_owned(),
            status: error.status(),
            request_id: error.request_id().map(str::to_owned),
        }
    }
}

/// The longest a single fact is kept (an API URL typed in Settings > Support can be long).
const MAX_FACT_CHARS: usize = 200;

impl SupportReport {
    /// The report as the member copies it: indented JSON.
    #[allow(
        clippy::expect_used,
        reason = "a report of strings and numbers always serializes"
    )]
    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The report cut to fit [`MAX_REPORT_BYTES`]: each fact at most [`MAX_FACT_CHARS`]
    /// characters, then the oldest calls and links dropped while it is still too large.
    pub fn fitted(mut self) -> SupportReport {
        let app = &mut self.app;
        for fact in [
            &mut app.version,
            &mut app.build,
            &mut app.platform,
            &mut app.os,
            &mut app.presentation,
            &mut app.window,
            &mut app.language,
            &mut self.api.api_url,
            &mut self.api.web_base,
        ] {
            if fact.chars().count() > MAX_FACT_CHARS {
                *fact = fact.chars().take(MAX_FACT_CHARS - 1).chain(['…']).collect();
            }
        }
        while self.to_text().len() >= MAX_REPORT_BYTES {
            if self.api_calls.len() >= self.link_events.len() && !self.api_calls.is_empty() {
                self.api_calls.remove(0);
            } else if !self.link_events.is_empty() {
                self.link_events.remove(0);
            } else {
                break;
            }
        }
        self
    }

    /// Reads a report copied from the app (surrounding text from a chat is ignored).
    pub fn from_text(text: &str) -> Result<SupportReport, ReportError> {
        let start = text.find('{').ok_or(ReportError::NotAReport)?;
        let end = text.rfind('}').ok_or(ReportError::NotAReport)?;
        let json = text.get(start..=end).ok_or(ReportError::NotAReport)?;
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| ReportError::Damaged(e.to_string()))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(REPORT_FORMAT) => {}
            Some(other) => return Err(ReportError::UnknownFormat(other.to_owned())),
            None => return Err(ReportError::NotAReport),
        }
        serde_json::from_value(value).map_err(|e| ReportError::Damaged(e.to_string()))
    }
}

/// Why a text could not be read as a report.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReportError {
    #[error("this is not a Unipos support report (no \"format\": \"{REPORT_FORMAT}\")")]
    NotAReport,
    #[error("the report is damaged (copied in part?): {0}")]
    Damaged(String),
    #[error("the report's format {0} is newer than this tool's ({REPORT_FORMAT}): update unipos")]
    UnknownFormat(String),
}

impl ReportError {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ReportError::NotAReport => "report_not_a_report",
            ReportError::Damaged(_) => "report_damaged",
            ReportError::UnknownFormat(_) => "report_unknown_format",
        }
    }
}

/// The last [`MAX_API_CALLS`] calls of every client that shares it. Cheap to clone; clones share
/// the list.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<VecDeque<ApiCall>>>);

impl CallLog {
    fn lock(&self) -> MutexGuard<'_, VecDeque<ApiCall>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn record(&self, call: ApiCall) {
        push_bounded(&mut self.lock(), call, MAX_API_CALLS);
    }

    /// Oldest first.
    pub fn calls(&self) -> Vec<ApiCall> {
        self.lock().iter().cloned().collect()
    }
}

/// Appends `item`, dropping the oldest beyond `max`.
pub fn push_bounded<T>(list: &mut VecDeque<T>, item: T, max: usize) {
    list.push_back(item);
    while list.len() > max {
        list.pop_front();
    }
}

/// Now, in UTC.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The code a report's string names, if this build knows it.
pub fn known_code(code: &str) -> Option<ClientErrorCode> {
    ClientErrorCode::all().find(|c| c.as_str() == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The installed-package test waits for the app's log lines by their text: the same text.
    #[test]
    fn the_package_test_waits_for_the_log_lines_the_app_writes() {
        let script = include_str!("../../../scripts/package-test.sh");
        for line in [LOG_RESET_LINK_RECEIVED, LOG_RESET_LINK_VALID] {
            assert!(
                script.contains(&format!("wait_for_log \"{line} (")),
                "package-test.sh does not wait for {line:?}"
            );
        }
    }

    fn call(i: usize) -> ApiCall {
        ApiCall {
            at: now(),
            method: "POST".into(),
            route: "/password/forgot".into(),
            status: Some(503),
            error_code: Some("server_busy".into()),
            request_id: format!("{i:08}-7d2c-4a55-9a53-2b1f0f3c9e11"),
            duration_ms: 12_345,
        }
    }

    fn full_report() -> SupportReport {
        let log = CallLog::default();
        for i in 0..MAX_API_CALLS + 5 {
            log.record(call(i));
        }
        SupportReport {
            format: REPORT_FORMAT.into(),
            made_at: now(),
            app: AppFacts {
                version: "0.1.0".into(),
                build: "0123456789ab release".into(),
                platform: "linux".into(),
                os: "Debian GNU/Linux 12 (bookworm) 64-bit".into(),
                presentation: "desktop (forced)".into(),
                window: "1280×800".into(),
                language: "ja".into(),
            },
            api: ApiFacts {
                api_url: format!("https://{}.example.com/", "a".repeat(150)),
                web_base: "https://unipos.me/".into(),
            },
            keychain: KeychainFacts {
                answers: false,
                holds_session: false,
                error_code: Some("keychain_unavailable".into()),
            },
            api_calls: log.calls(),
            link_events: (0..MAX_LINK_EVENTS)
                .map(|_| LinkEvent {
                    at: now(),
                    came: LinkArrival::ColdStart,
                    verdict: "link_extra_parts".into(),
                    token_hint: Some("PKrgHS…".into()),
                    checked: Some("token_superseded".into()),
                })
                .collect(),
            last_error: Some(ShownError {
                at: now(),
                code: "connection_refused".into(),
                status: None,
                request_id: Some("0b0d6f7e-7d2c-4a55-9a53-2b1f0f3c9e11".into()),
            }),
        }
    }

    #[test]
    fn the_call_log_keeps_the_last_twenty_oldest_first() {
        let log = CallLog::default();
        for i in 0..25 {
            log.record(call(i));
        }
        let calls = log.calls();
        assert_eq!(calls.len(), MAX_API_CALLS);
        assert!(calls[0].request_id.starts_with("00000005"));
        assert!(calls[19].request_id.starts_with("00000024"));
    }

    #[test]
    fn a_full_report_stays_under_twenty_kilobytes() {
        let text = full_report().to_text();
        assert!(
            text.len() < MAX_REPORT_BYTES,
            "{} bytes with every list full",
            text.len()
        );
    }

    #[test]
    fn a_report_with_overlong_facts_is_cut_to_fit_keeping_the_newest_events() {
        let mut report = full_report();
        report.api.api_url = format!("https://{}.example/", "x".repeat(30_000));
        report.app.os = "y".repeat(5_000);
        for call in &mut report.api_calls {
            call.request_id = "z".repeat(2_000);
        }
        let newest = report.api_calls.last().unwrap().at;
        let fitted = report.fitted();
        assert!(fitted.to_text().len() < MAX_REPORT_BYTES);
        assert_eq!(fitted.api.api_url.chars().count(), MAX_FACT_CHARS);
        assert!(fitted.api.api_url.ends_with('…'));
        assert_eq!(fitted.api_calls.last().unwrap().at, newest);
        assert!(fitted.api_calls.len() < MAX_API_CALLS);
        assert_eq!(fitted.format, REPORT_FORMAT);
    }

    #[test]
    fn a_report_that_fits_is_left_as_it_is() {
        let report = full_report();
        assert_eq!(report.clone().fitted(), report);
    }

    #[test]
    fn a_report_reads_back_from_a_chat_message_around_it() {
        let report = full_report();
        let pasted = format!(
            "Hi, here is what the app says:\n{}\nThanks!",
            report.to_text()
        );
        assert_eq!(SupportReport::from_text(&pasted).unwrap(), report);
    }

    #[test]
    fn other_text_is_not_a_report() {
        assert_eq!(
            SupportReport::from_text("request id 0b0d6f7e").unwrap_err(),
            ReportError::NotAReport
        );
        assert_eq!(
            SupportReport::from_text(r#"{"format": "unipos-support-report/9"}"#)
                .unwrap_err()
                .code(),
            "report_unknown_format"
        );
        let cut = &full_report().to_text()[..2000];
        assert!(SupportReport::from_text(&format!("{cut}}}"))
            .unwrap_err()
            .code()
            .starts_with("report_"));
    }

    #[test]
    fn every_code_a_client_error_carries_is_known() {
        for code in ClientErrorCode::all() {
            assert_eq!(known_code(code.as_str()), Some(code));
        }
        assert_eq!(known_code("no_such_code"), None);
    }
}
