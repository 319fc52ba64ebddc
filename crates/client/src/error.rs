//! Every way a call can fail, each with a stable snake_case code.
//!
//! The app sends these to its UI exactly as they serialize:
//! `{code, message, status?, request_id?, retry_after_s?, details?}`. The UI translates `code`;
//! support staff search by `code` and match `request_id` to the server's log.

use std::time::Duration;

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
        retry_after_s: Option<u32>,
        details: Option<Value>,
    },
    /// HTTP 429: wait `retry_after_s` seconds (from the body, else the `Retry-After` header).
    #[error("Too many attempts. Try again in {retry_after_s} seconds.")]
    RateLimited {
        retry_after_s: u32,
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ClientOnlyCode {
    Offline,
    ConnectionRefused,
    Timeout,
    Tls,
    ServerError,
    BadResponse,
    KeychainUnavailable,
    NotLoggedIn,
}

impl ClientOnlyCode {
    /// Every client-only code, in declaration order.
    pub const ALL: &'static [ClientOnlyCode] = &[
        ClientOnlyCode::Offline,
        ClientOnlyCode::ConnectionRefused,
        ClientOnlyCode::Timeout,
        ClientOnlyCode::Tls,
        ClientOnlyCode::ServerError,
        ClientOnlyCode::BadResponse,
        ClientOnlyCode::KeychainUnavailable,
        ClientOnlyCode::NotLoggedIn,
    ];

    /// The stable wire string, e.g. `"offline"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientOnlyCode::Offline => "offline",
            ClientOnlyCode::ConnectionRefused => "connection_refused",
            ClientOnlyCode::Timeout => "timeout",
            ClientOnlyCode::Tls => "tls",
            ClientOnlyCode::ServerError => "server_error",
            ClientOnlyCode::BadResponse => "bad_response",
            ClientOnlyCode::KeychainUnavailable => "keychain_unavailable",
            ClientOnlyCode::NotLoggedIn => "not_logged_in",
        }
    }
}

/// The code of a [`ClientError`]: one of the protocol's, or one of the client's own. In
/// TypeScript, the union of both (the UI's texts are keyed on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(untagged)]
pub enum ClientErrorCode {
    Protocol(ErrorCode),
    Client(ClientOnlyCode),
}

impl ClientErrorCode {
    /// Every code a [`ClientError`] can carry, `unknown` (a newer server's code) last.
    pub fn all() -> impl Iterator<Item = ClientErrorCode> {
        let protocol = ErrorCode::ALL
            .iter()
            .copied()
            .map(ClientErrorCode::Protocol);
        let client = ClientOnlyCode::ALL
            .iter()
            .copied()
            .map(ClientErrorCode::Client);
        protocol
            .chain(client)
            .chain([ClientErrorCode::Protocol(ErrorCode::Unknown)])
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClientErrorCode::Protocol(code) => code.as_str(),
            ClientErrorCode::Client(code) => code.as_str(),
        }
    }
}

impl ClientError {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The stable code, typed.
    pub fn error_code(&self) -> ClientErrorCode {
        use ClientOnlyCode as Only;
        let only = match self {
            ClientError::Offline { .. } => Only::Offline,
            ClientError::ConnectionRefused { .. } => Only::ConnectionRefused,
            ClientError::Timeout { .. } => Only::Timeout,
            ClientError::Tls { .. } => Only::Tls,
            ClientError::ServerError { .. } => Only::ServerError,
            ClientError::BadResponse { .. } => Only::BadResponse,
            ClientError::KeychainUnavailable { .. } => Only::KeychainUnavailable,
            ClientError::NotLoggedIn => Only::NotLoggedIn,
            ClientError::Api { .. }
            | ClientError::RateLimited { .. }
            | ClientError::Email(_)
            | ClientError::Link(_)
            | ClientError::Config(_) => {
                let protocol = self.protocol_code().unwrap_or(ErrorCode::Unknown);
                return ClientErrorCode::Protocol(protocol);
            }
        };
        ClientErrorCode::Client(only)
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
    pub fn retry_after_s(&self) -> Option<u32> {
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

/// A [`ClientError`] as it travels to the UI and out of the CLI.
#[derive(Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
// The name TypeScript knows it by (JSON does not carry a struct's name).
#[serde(rename = "ClientError")]
struct ClientErrorJson {
    /// A stable snake_case code; the UI shows its own text for it.
    code: ClientErrorCode,
    /// English, for logs.
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_s: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "specta", specta(type = Option<ErrorDetails>))]
    details: Option<Value>,
}

/// `{code, message, status?, request_id?, retry_after_s?, details?}`
impl Serialize for ClientError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ClientErrorJson {
            code: self.error_code(),
            message: self.to_string(),
            status: self.status(),
            request_id: self.request_id().map(str::to_owned),
            retry_after_s: self.retry_after_s(),
            details: self.details(),
        }
        .serialize(s)
    }
}

/// The TypeScript type of a [`ClientError`] is that of the form it travels in.
#[cfg(feature = "specta")]
impl specta::Type for ClientError {
    fn definition(types: &mut specta::Types) -> specta::datatype::DataType {
        <ClientErrorJson as specta::Type>::definition(types)
    }
}

/// What `details` of a [`ClientError`] may hold, for TypeScript: the keys [`ClientError::details`]
/// writes and the ones the API sends (it may add others).
#[cfg(feature = "specta")]
#[derive(specta::Type)]
#[allow(dead_code)]
struct ErrorDetails {
    #[specta(optional)]
    /// `password_policy`: the rules the new password breaks.
    failed: Option<Vec<unipos_protocol::PolicyRule>>,
    #[specta(optional)]
    /// An email refusal: the corrected address, when there is one.
    fix: Option<String>,
    #[specta(optional)]
    /// An email refusal: the offending characters.
    chars: Option<Vec<unipos_protocol::CharReport>>,
    #[specta(optional)]
    /// Network and keychain faults: the technical cause.
    cause: Option<String>,
    #[specta(optional)]
    /// `bad_response`: what was wrong with the answer.
    reason: Option<String>,
    #[specta(optional)]
    /// `server_error`: the server's own code.
    server_code: Option<ErrorCode>,
    #[specta(optional)]
    /// A dead reset link (`token_*`) of a Login ID member: `login_id` (their way on is a new
    /// Account Information sheet from their admin, not a new mail).
    account: Option<unipos_protocol::LoginMethod>,
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
        for code in ClientOnlyCode::ALL.iter().map(|c| c.as_str()) {
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
