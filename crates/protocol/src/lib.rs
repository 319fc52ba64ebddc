//! The contract of the Unipos password-reset API, shared by the reference server, the client,
//! the support CLI and (through commands) the app's UI.
//!
//! Everything here is pure: no I/O, no clocks, no randomness. One rule, one place — if the server
//! and the app must agree on something (an error code, what a valid email address is, which links
//! open the app), it lives in this crate.

pub mod app_links;
pub mod base_url;
pub mod binding;
pub mod email;
pub mod error;
pub mod language;
pub mod link;
pub mod member;
pub mod policy;
pub mod routes;
pub mod token;
pub mod wire;

pub use app_links::APP_IDENTIFIER;
pub use base_url::{BaseUrl, BaseUrlError};
pub use email::{CharKind, CharReport, Email, EmailError, EmailRule};
pub use error::{ErrorBody, ErrorCode, ErrorEnvelope};
pub use language::{
    Language, PASSWORD_CHANGED_MAIL_SUBJECT, PASSWORD_CHANGED_MAIL_SUBJECT_JA, RESET_MAIL_SUBJECT,
    RESET_MAIL_SUBJECT_JA,
};
pub use link::{AppLink, LinkError, LinkRules, ResetLink};
pub use member::{check_display_name, check_login_id, login_id_hint, Role};
pub use policy::{normalize_password, PasswordOwner, PasswordPolicy, PolicyRule};
pub use token::{redact_token, ResetToken, TokenError};
pub use wire::*;

/// The path prefix of every API route, relative to the API base URL.
pub const API_PREFIX: &str = "/api/v1";
/// The media type of an Account Information sheet.
pub const PDF_MEDIA_TYPE: &str = "application/pdf";
/// Sender of every mail the service sends.
pub const MAIL_SENDER: &str = "no-reply@mail.unipos.me";
/// The request header that ties a client's call to the server's log line.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The custom URL scheme the app registers.
pub const APP_SCHEME: &str = "unipos";
