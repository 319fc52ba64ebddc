//! Drives the real, built app through WebDriver (WebKitWebDriver) against
//! the real reference server, the way a member would: by the labels and button texts on screen.
//! A [`Browser`] (headless chromium through chromedriver) speaks the same [`Session`] to the
//! pages the server shows in a browser.
//!
//! Needs a display, a D-Bus session with an unlocked Secret Service, `WebKitWebDriver`, and the app built with production assets; for the browser, `chromium` and
//! `chromedriver`. `scripts/test.sh` provides all of them (`scripts/e2e.sh` runs just these
//! tests); outside them every test fails and says why.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::time::Duration;

pub use unipos_server::dev::{
    DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_DISPLAY_NAME, DEMO_EMAIL, DEMO_LOGIN_ID,
    DEMO_LOGIN_ID_DISPLAY_NAME, DEMO_LOGIN_ID_PASSWORD, DEMO_PASSWORD, DEMO_TEAM,
};

/// A PDF's page as pixels (poppler) and the QR codes in its quarters (zbarimg), as a phone's
/// camera reads a printed Account Information sheet.
#[path = "../../../crates/server/src/account_sheet/pdf_tools.rs"]
pub mod pdf_tools;

mod app;
mod axe;
mod backend;
mod browser;
mod paths;
mod texts;
mod webdriver;

pub use app::{apps, App, Size};
pub use axe::{AxeReport, AxeViolation};
pub use backend::{app_env, Backend};
pub use browser::{Browser, ForeignSite};
pub(crate) use paths::driver_log;
pub use paths::{app_binary, cli_binary, repo_root, screenshot_path};
pub use texts::Texts;
pub use unipos_testsupport::HeldPort;
pub(crate) use webdriver::http_client;
pub use webdriver::{Element, Session};

/// The performance mark the UI sets once its script has taken the page over and its controls
/// answer (`UI_READY_MARK` in ui/src/lib/app.svelte.ts).
pub const UI_READY_MARK: &str = "ui-ready";

/// How long a screen may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(15);
