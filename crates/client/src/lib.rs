//! The Unipos account app's client side, without any UI: the HTTP client of the hosted API,
//! the session vault (the OS keychain), the configuration, and the flows the app's commands and
//! the `unipos` CLI both call.
//!
//! - [`ClientConfig`]: API and web base (https, or http on loopback), timeouts, body cap, app
//!   name for the `User-Agent`; `UNIPOS_API_URL` / `UNIPOS_WEB_BASE` override the defaults.
//! - [`ApiClient`]: one method per endpoint; every call carries an `X-Request-Id` that comes
//!   back in the [`Reply`] and in every [`ClientError`].
//! - [`SessionVault`]: [`KeyringVault`] (the OS keychain); tests have an in-memory one
//!   (`testing::MemoryVault`, of the `testing` feature).
//! - [`Flows`]: request a reset, check a link, set password and login, log in, log out, change
//!   password, me, timeline.
//!
//! - [`support`]: the support report and the log of recent API calls it holds.
//!
//! Errors have stable snake_case codes ([`ClientError::code`]): the API's
//! [`unipos_protocol::ErrorCode`]s, plus [`ClientOnlyCode`]s.

mod api;
mod config;
mod error;
pub mod flows;
pub mod support;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod vault;

pub use api::{install_tls_provider, AccountSheet, ApiClient, NoContent, Reply};
pub use config::{
    ClientConfig, DEFAULT_BASE, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_REQUEST_TIMEOUT, ENV_API_URL, ENV_WEB_BASE,
};
pub use error::{ClientError, ClientErrorCode, ClientOnlyCode};
pub use flows::{
    open_link, Flows, LinkChecked, LoggedIn, LoggedOut, OpenedLink, PasswordChanged, PendingReset,
    ResetRequested,
};
pub use unipos_protocol;
pub use vault::{
    KeyringVault, PendingRevokes, ResetBinding, SessionVault, StoredSession, VAULT_SERVICE,
};
