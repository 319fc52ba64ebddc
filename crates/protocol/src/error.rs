//! Error codes: the one list of stable snake_case codes the server sends and the UI translates.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal => $status:literal, )*) => {
        /// Every error code of the API and of the protocol rules, with its stable wire string.
        ///
        /// The strings never change once shipped: support staff search by them and the UI keys its
        /// translations on them. Unknown codes from a newer server deserialize as [`ErrorCode::Unknown`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
            /// A code this build does not know (sent by a newer server).
            Unknown,
        }

        impl ErrorCode {
            /// Every known code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable wire string, e.g. `"email_trailing_whitespace"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Unknown => "unknown",
                }
            }

            /// The HTTP status the API answers with for this code (400 for codes that never
            /// travel over HTTP, such as link refusals).
            pub fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                    ErrorCode::Unknown => 500,
                }
            }
        }
    };
}

error_codes! {
    // Email address rules (422 from the API; the same verdict locally).
    /// Nothing was typed.
    EmailEmpty = "email_empty" => 422,
    /// Whitespace (or an invisible character) before the address.
    EmailLeadingWhitespace = "email_leading_whitespace" => 422,
    /// Whitespace (or an invisible character) after the address.
    EmailTrailingWhitespace = "email_trailing_whitespace" => 422,
    /// Whitespace inside the address.
    EmailInnerWhitespace = "email_inner_whitespace" => 422,
    /// Full-width characters, as typed by a Japanese IME.
    EmailFullwidth = "email_fullwidth" => 422,
    /// Longer than 254 octets, or a local part over 64.
    EmailTooLong = "email_too_long" => 422,
    /// Anything else outside the format rules.
    EmailInvalid = "email_invalid" => 422,

    // Reset tokens.
    /// No such token (never issued, or mistyped).
    TokenInvalid = "token_invalid" => 404,
    /// The token's time ran out.
    TokenExpired = "token_expired" => 410,
    /// The token was already used to set a password.
    TokenUsed = "token_used" => 410,
    /// A newer reset email was requested; only the newest link works.
    TokenSuperseded = "token_superseded" => 410,
    /// The link was asked for in the Unipos app on another device (it is bound to that app):
    /// open it there, or send a new email from this device.
    ResetLinkOtherDevice = "reset_link_other_device" => 403,

    // Passwords.
    /// The new password and its confirmation differ.
    PasswordMismatch = "password_mismatch" => 422,
    /// The new password breaks the organisation's policy (`details.failed` lists the rules).
    PasswordPolicy = "password_policy" => 422,
    /// The current password given to a change is wrong.
    CurrentPasswordIncorrect = "current_password_incorrect" => 422,

    // Sessions and accounts.
    /// Unknown account or wrong password (never says which).
    InvalidCredentials = "invalid_credentials" => 401,
    /// Too many failed logins; the account is locked for a while.
    AccountLocked = "account_locked" => 423,
    /// The address is in an organisation's SSO domain: it logs in with SSO (answered whether or
    /// not the address belongs to a member).
    SsoRequired = "sso_required" => 403,
    /// The password is managed by the organisation's SSO and cannot be changed here.
    SsoManaged = "sso_managed" => 403,
    /// The session is missing, expired or revoked.
    SessionExpired = "session_expired" => 401,
    /// The company's Unipos admin reset the member's password: the session was ended, or the
    /// password given is the one the reset ended. The way on is the Account Information form's
    /// QR code (Login ID members) or the reset mail (email members).
    PasswordResetByAdmin = "password_reset_by_admin" => 401,

    // Team admin (`/admin/...`).
    /// The member behind the session is not an admin of the team the request is about.
    AdminRequired = "admin_required" => 403,
    /// No such member in the admin's team (also the answer for another team's member).
    MemberNotFound = "member_not_found" => 404,
    /// The member logs in with SSO: the company's identity provider keeps the password.
    MemberUsesSso = "member_uses_sso" => 409,
    /// The member logs in with an email address, and gets a reset mail instead of a sheet.
    MemberUsesEmail = "member_uses_email" => 409,
    /// A member of the team already has this Login ID.
    LoginIdTaken = "login_id_taken" => 409,
    /// The Login ID is empty, too long, or holds a character Login IDs cannot have.
    LoginIdInvalid = "login_id_invalid" => 422,
    /// The display name is empty or too long.
    DisplayNameInvalid = "display_name_invalid" => 422,
    /// The server cannot make Account Information sheets now (no font for them is installed).
    AccountSheetUnavailable = "account_sheet_unavailable" => 503,

    // Transport-level refusals.
    /// Too many requests; `retry_after_s` says when to try again.
    RateLimited = "rate_limited" => 429,
    /// The body is not the JSON this endpoint expects.
    BadRequest = "bad_request" => 400,
    /// The body is larger than the server accepts.
    PayloadTooLarge = "payload_too_large" => 413,
    /// The body is not `application/json`.
    UnsupportedMediaType = "unsupported_media_type" => 415,
    /// The request (its head or its body) did not arrive in time, or took too long to answer.
    RequestTimeout = "request_timeout" => 408,
    /// No such endpoint.
    NotFound = "not_found" => 404,
    /// The endpoint does not take this method.
    MethodNotAllowed = "method_not_allowed" => 405,
    /// The server failed; the request id finds it in the log.
    Internal = "internal" => 500,
    /// A part the server needs is down (its database cannot be reached, or its disk is full):
    /// nothing was changed; `retry_after_s` says when to try again.
    Unavailable = "unavailable" => 503,
    /// The client's address (often a whole office behind one NAT) has as many connections open
    /// as the server allows one address; `retry_after_s` says when to try again.
    TooManyConnections = "too_many_connections" => 503,
    /// Too many password checks at once: the server is at its bound; `retry_after_s` says when
    /// to try again. Nothing was checked or changed.
    ServerBusy = "server_busy" => 503,
    /// A development server (`--dev`) answers only requests addressed to a loopback name: a web
    /// page that re-pointed its own name at 127.0.0.1 (DNS rebinding) is refused.
    HostNotAllowed = "host_not_allowed" => 421,

    // Link rules (local only: they decide whether a URL may open the app).
    /// Not a URL at all.
    LinkUnparseable = "link_unparseable" => 400,
    /// Neither the web scheme nor `unipos:`, or `http:` where only `https:` is allowed.
    LinkScheme = "link_scheme" => 400,
    /// The URL carries a user name or password (`https://unipos.me@evil.example/`).
    LinkUserinfo = "link_userinfo" => 400,
    /// Another host than the configured one.
    LinkHost = "link_host" => 400,
    /// Another port than the configured one.
    LinkPort = "link_port" => 400,
    /// Not the reset path (including `..` and `.` segments).
    LinkPath = "link_path" => 400,
    /// Query parameters besides the token, or a fragment.
    LinkExtraParts = "link_extra_parts" => 400,
    /// No token in the link.
    LinkTokenMissing = "link_token_missing" => 400,
    /// The token appears more than once.
    LinkTokenDuplicate = "link_token_duplicate" => 400,
    /// The token is not 32–128 characters of URL-safe base64.
    LinkTokenMalformed = "link_token_malformed" => 400,
    /// Longer than any link the service sends.
    LinkTooLong = "link_too_long" => 400,

    // Configuration of the API and web base URLs (local only).
    /// Not an absolute http(s) URL without user-info, query or fragment.
    BaseUrlInvalid = "base_url_invalid" => 400,
    /// `http:` for a host that is not a loopback address.
    BaseUrlInsecure = "base_url_insecure" => 400,
}

impl ErrorCode {
    /// The answers about a reset link that worked once and no longer does (or never did): each
    /// has its own screen in the app (`LinkProblem.svelte`, through the bindings' `DEAD_LINK_CODES`),
    /// its own explanation in `unipos report explain`, and its line in DEEPLINKS.md.
    pub const DEAD_LINK: [ErrorCode; 4] = [
        ErrorCode::TokenExpired,
        ErrorCode::TokenUsed,
        ErrorCode::TokenSuperseded,
        ErrorCode::TokenInvalid,
    ];

    /// Whether this is one of [`ErrorCode::DEAD_LINK`].
    pub fn is_dead_link(self) -> bool {
        ErrorCode::DEAD_LINK.contains(&self)
    }

    /// A 5xx code that says what the server cannot do right now (it is at its bound, or lacks a
    /// part), not that it failed: a client passes it on as it is, with when to try again.
    pub fn is_unavailable(self) -> bool {
        matches!(
            self,
            ErrorCode::ServerBusy
                | ErrorCode::AccountSheetUnavailable
                | ErrorCode::Unavailable
                | ErrorCode::TooManyConnections
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code this build does not know reads as [`ErrorCode::Unknown`] (a newer server's code). By
/// hand rather than `#[serde(other)]`, which would make the TypeScript type a plain `string`.
impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Ok(code.parse().unwrap_or(ErrorCode::Unknown))
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or(())
    }
}

/// The body of every error response: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// What went wrong, for machines (`code`) and for people (`message`, English).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds to wait before trying again (with `rate_limited`, `account_locked`,
    /// `server_busy`, `unavailable` and `too_many_connections`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u32>,
    /// Extra facts, e.g. `{"failed": ["min_length"]}` for `password_policy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
}

impl ErrorEnvelope {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorEnvelope {
            error: ErrorBody {
                code,
                message: message.into(),
                retry_after_s: None,
                details: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_string() {
        for &code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
        }
    }

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{s} is not snake_case"
            );
        }
    }

    /// DEEPLINKS.md names the dead links' codes, each with its own screen: the same list.
    #[test]
    fn deeplinks_md_names_the_dead_link_codes() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../DEEPLINKS.md");
        let text = std::fs::read_to_string(&path).unwrap().replace('\n', " ");
        let sentence = text
            .split("each has its own screen:")
            .nth(1)
            .and_then(|rest| rest.split('.').next())
            .expect("DEEPLINKS.md says which dead links have their own screen");
        let named: Vec<&str> = sentence.split('`').skip(1).step_by(2).collect();
        let listed: Vec<&str> = ErrorCode::DEAD_LINK.iter().map(|c| c.as_str()).collect();
        assert_eq!(named, listed);
    }

    #[test]
    fn a_code_from_a_newer_server_is_unknown_not_an_error() {
        let body: ErrorEnvelope =
            serde_json::from_str(r#"{"error":{"code":"quantum_flux","message":"?"}}"#).unwrap();
        assert_eq!(body.error.code, ErrorCode::Unknown);
    }
}
