//! Every way a call can fail, each with a stable snake_case code.
//!
//! The app sends these to its UI exactly as they serialize:
//! `{code, message, status?, request_id?, retry_after_s?, details?}`. The UI translates `code`;
//! support staff search by `code` and match `request_id` to the server's log.

use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;
use thiserror::Error;
use unipos_protocol::{BaseUrlError, EmailError, ErrorCode, LinkError};

/// A failed call. Variants that come from an HTTP exchange carry the request id that was sent
/// (or the one the server answered with), so a support ticket can be matched to the server log.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The API refused the request with one of its codes (`token_expired`, `invalid_credentials`,
    /// `password_policy`, …). `retry_after_s` comes with `account_locked`.
    #[error("{message}")]
    Api {
        code: ErrorCode,
        message: String,
        status: u16,
        request_id: String,
        retry_after_s: Option<u64>,
        details: Option<Value>,
    },
    /// HTTP 429: wait `retry_after_s` seconds (from the body, else the `Retry-After` header).
    #[error("Too many attempts. Try again in {retry_after_s} seconds.")]
    RateLimited {
        retry_after_s: u64,
        status: u16,
        request_id: String,
        details: Option<Value>,
    },
    /// No network, or the API's host name does not resolve.
    #[error("No connection to {host}. Check that the device is online.")]
    Offline {
        host: String,
        request_id: String,
        cause: String,
    },
    /// The host answered but nothing listens on the port (a local server not started?).
    #[error("{host} refused the connection. Is the server running?")]
    ConnectionRefused {
        host: String,
        request_id: String,
        cause: String,
    },
    /// No (complete) answer within the configured time.
    #[error("The server did not answer within {} seconds. Try again.", .after.as_secs_f32())]
    Timeout {
        after: Duration,
        request_id: String,
        cause: String,
    },
    /// The TLS handshake failed: an untrusted or wrong certificate (a captive portal or an
    /// intercepting proxy), or no common protocol.
    #[error("The secure connection to {host} could not be verified.")]
    Tls {
        host: String,
        request_id: String,
        cause: String,
    },
    /// HTTP 5xx: the server failed; the request id finds it in the server's log.
    #[error("The server failed (HTTP {status}). Try again later.")]
    ServerError {
        status: u16,
        request_id: String,
        /// The server's own code when the body was an error envelope (e.g. `internal`).
        server_code: Option<ErrorCode>,
    },
    /// An answer that is not what the API sends: not JSON, unexpected JSON, too large, cut off.
    #[error("The server sent an answer the app does not understand ({reason}).")]
    BadResponse {
        status: Option<u16>,
        request_id: String,
        reason: String,
    },
    /// The OS keychain (Secret Service, Keychain, Credential Manager, Android store) cannot be
    /// used. The session token is then kept nowhere.
    #[error("{message}")]
    KeychainUnavailable { message: String, cause: String },
    /// No session in the keychain for this API.
    #[error("You are not logged in.")]
    NotLoggedIn,
    /// The address was refused by the protocol's rules before anything was sent.
    #[error(transparent)]
    Email(EmailError),
    /// The link was refused by the protocol's link rules before anything was sent.
    #[error("{0}")]
    Link(LinkError),
    /// A base URL in the configuration was refused.
    #[error("{0}")]
    Config(#[from] BaseUrlError),
}

/// Every code the client can produce besides the API's [`ErrorCode`]s.
pub const CLIENT_ONLY_CODES: &[&str] = &[
    "offline",
    "connection_refused",
    "timeout",
    "tls",
    "server_error",
    "bad_response",
    "keychain_unavailable",
    "not_logged_in",
];

impl ClientError {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ClientError::Api { code, .. } => code.as_str(),
            ClientError::RateLimited { .. } => ErrorCode::RateLimited.as_str(),
            ClientError::Offline { .. } => "offline",
            ClientError::ConnectionRefused { .. } => "connection_refused",
            ClientError::Timeout { .. } => "timeout",
            ClientError::Tls { .. } => "tls",
            ClientError::ServerError { .. } => "server_error",
            ClientError::BadResponse { .. } => "bad_response",
            ClientError::KeychainUnavailable { .. } => "keychain_unavailable",
            ClientError::NotLoggedIn => "not_logged_in",
            ClientError::Email(e) => e.code().as_str(),
            ClientError::Link(e) => e.code().as_str(),
            ClientError::Config(e) => e.code().as_str(),
        }
    }

    /// The protocol's code, for errors that have one (API answers and local rule checks).
    pub fn protocol_code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { code, .. } => Some(*code),
            ClientError::RateLimited { .. } => Some(ErrorCode::RateLimited),
            ClientError::Email(e) => Some(e.code()),
            ClientError::Link(e) => Some(e.code()),
            ClientError::Config(e) => Some(e.code()),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. }
            | ClientError::RateLimited { status, .. }
            | ClientError::ServerError { status, .. } => Some(*status),
            ClientError::BadResponse { status, .. } => *status,
            _ => None,
        }
    }

    /// The `X-Request-Id` of the call, for every error that came from an HTTP call.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            ClientError::Api { request_id, .. }
            | ClientError::RateLimited { request_id, .. }
            | ClientError::Offline { request_id, .. }
            | ClientError::ConnectionRefused { request_id, .. }
            | ClientError::Timeout { request_id, .. }
            | ClientError::Tls { request_id, .. }
            | ClientError::ServerError { request_id, .. }
            | ClientError::BadResponse { request_id, .. } => {
                Some(request_id.as_str()).filter(|id| !id.is_empty())
            }
            _ => None,
        }
    }

    /// Seconds to wait before trying again (`rate_limited`, `account_locked`).
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            ClientError::Api { retry_after_s, .. } => *retry_after_s,
            ClientError::RateLimited { retry_after_s, .. } => Some(*retry_after_s),
            _ => None,
        }
    }

    /// Extra facts for the UI and for support: the API's `details`, the corrected address and
    /// offending characters of a refused email, the technical cause of a network fault.
    pub fn details(&self) -> Option<Value> {
        match self {
            ClientError::Api { details, .. } | ClientError::RateLimited { details, .. } => {
                details.clone()
            }
            ClientError::Offline { cause, .. }
            | ClientError::ConnectionRefused { cause, .. }
            | ClientError::Timeout { cause, .. }
            | ClientError::Tls { cause, .. }
            | ClientError::KeychainUnavailable { cause, .. } => {
                Some(serde_json::json!({ "cause": cause }))
            }
            ClientError::ServerError {
                server_code: Some(code),
                ..
            } => Some(serde_json::json!({ "server_code": code })),
            ClientError::BadResponse { reason, .. } => {
                Some(serde_json::json!({ "reason": reason }))
            }
            ClientError::Email(e) => {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut v {
                    map.remove("code");
                    map.remove("message");
                }
                Some(v)
            }
            _ => None,
        }
    }

    /// Whether the failure happened before the server could answer (network faults).
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            ClientError::Offline { .. }
                | ClientError::ConnectionRefused { .. }
                | ClientError::Timeout { .. }
                | ClientError::Tls { .. }
        )
    }

    pub(crate) fn bad_response(
        status: Option<u16>,
        request_id: &str,
        reason: impl Into<String>,
    ) -> ClientError {
        ClientError::BadResponse {
            status,
            request_id: request_id.to_owned(),
            reason: reason.into(),
        }
    }
}

impl From<EmailError> for ClientError {
    fn from(e: EmailError) -> Self {
        ClientError::Email(e)
    }
}

impl From<LinkError> for ClientError {
    fn from(e: LinkError) -> Self {
        ClientError::Link(e)
    }
}

/// `{code, message, status?, request_id?, retry_after_s?, details?}`
impl Serialize for ClientError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("code", self.code())?;
        map.serialize_entry("message", &self.to_string())?;
        if let Some(status) = self.status() {
            map.serialize_entry("status", &status)?;
        }
        if let Some(id) = self.request_id() {
            map.serialize_entry("request_id", id)?;
        }
        if let Some(secs) = self.retry_after_s() {
            map.serialize_entry("retry_after_s", &secs)?;
        }
        if let Some(details) = self.details() {
            map.serialize_entry("details", &details)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unipos_protocol::Email;

    #[test]
    fn an_api_error_serializes_with_every_fact_the_ui_needs() {
        let err = ClientError::Api {
            code: ErrorCode::AccountLocked,
            message: "Your Unipos account is locked".into(),
            status: 423,
            request_id: "req-1".into(),
            retry_after_s: Some(900),
            details: None,
        };
        let v = serde_json::to_value(&err).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "code": "account_locked",
                "message": "Your Unipos account is locked",
                "status": 423,
                "request_id": "req-1",
                "retry_after_s": 900
            })
        );
    }

    #[test]
    fn a_refused_email_carries_its_fix_and_characters() {
        let err = ClientError::from(Email::parse("taro@example.com\u{3000}").unwrap_err());
        assert_eq!(err.code(), "email_trailing_whitespace");
        let v = serde_json::to_value(&err).unwrap();
        assert_eq!(v["details"]["fix"], "taro@example.com");
        assert_eq!(v["details"]["chars"][0]["code_point"], "U+3000");
        assert!(v.get("request_id").is_none());
    }

    #[test]
    fn client_only_codes_are_not_api_codes() {
        for code in CLIENT_ONLY_CODES {
            assert!(
                code.parse::<ErrorCode>().is_err(),
                "{code} clashes with an API code"
            );
        }
    }

    #[test]
    fn rate_limited_always_says_how_long_to_wait() {
        let err = ClientError::RateLimited {
            retry_after_s: 42,
            status: 429,
            request_id: "r".into(),
            details: None,
        };
        assert_eq!(err.code(), "rate_limited");
        assert_eq!(err.retry_after_s(), Some(42));
        assert!(err.to_string().contains("42"));
    }
}
