//! API errors: one type, always answered as an [`ErrorEnvelope`] with the status its code has.

use std::borrow::Cow;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use unipos_protocol::{EmailError, EmailRule, ErrorCode, ErrorEnvelope, PolicyRule};

/// The wait answered with `unavailable` (the database is down or its disk full): about how
/// often a load balancer's probe looks, so a retry finds it back soon after it is.
pub const UNAVAILABLE_RETRY_S: u64 = 5;

/// An error answer. Build it from a code; unexpected failures become `internal` and are logged
/// (with the request id, through the request's span), never shown.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: Cow<'static, str>,
    retry_after_s: Option<u64>,
    details: Option<serde_json::Value>,
    source: Option<anyhow::Error>,
}

impl ApiError {
    /// An error with the code's standard English message.
    pub fn new(code: ErrorCode) -> ApiError {
        ApiError::with_message(code, default_message(code))
    }

    pub fn with_message(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            retry_after_s: None,
            details: None,
            source: None,
        }
    }

    pub fn details(mut self, details: serde_json::Value) -> ApiError {
        self.details = Some(details);
        self
    }

    /// Adds `retry_after_s` to the body and a `Retry-After` header.
    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after_s = Some(secs.max(1));
        self
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> ApiError {
        ApiError {
            source: Some(err.into()),
            ..ApiError::new(ErrorCode::Internal)
        }
    }

    pub fn rate_limited(secs: u64) -> ApiError {
        ApiError::new(ErrorCode::RateLimited).retry_after(secs)
    }

    /// 422 with the protocol's verdict: its code and message, and `details.fix` / `details.chars`.
    pub fn email(err: &EmailError) -> ApiError {
        let mut details = serde_json::to_value(err).unwrap_or_else(|_| json!({}));
        if let Some(map) = details.as_object_mut() {
            map.remove("code");
            map.remove("message");
        }
        ApiError::with_message(err.code(), err.message()).details(details)
    }

    /// 422 `password_policy`, `details.failed` listing the broken rules.
    pub fn policy(failed: &[PolicyRule]) -> ApiError {
        ApiError::new(ErrorCode::PasswordPolicy).details(json!({ "failed": failed }))
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// Seconds until a retry may work (`rate_limited`, `server_busy`, `account_locked`).
    pub fn retry_after_s(&self) -> Option<u64> {
        self.retry_after_s
    }

    /// Whether a dead link's error is for a Login ID member (`details.account = "login_id"`).
    pub fn is_for_login_id(&self) -> bool {
        self.details
            .as_ref()
            .and_then(|d| d.get("account"))
            .and_then(serde_json::Value::as_str)
            == Some(unipos_protocol::LoginMethod::LoginId.as_str())
    }

    /// The rules a `password_policy` refusal names (`details.failed`).
    pub fn failed_rules(&self) -> Vec<PolicyRule> {
        self.details
            .as_ref()
            .and_then(|d| d.get("failed"))
            .and_then(|f| serde_json::from_value(f.clone()).ok())
            .unwrap_or_default()
    }
}

impl From<crate::sql::DbError> for ApiError {
    fn from(err: crate::sql::DbError) -> ApiError {
        match err {
            // Every database connection is in use: like a full hashing queue, a busy server.
            crate::sql::DbError::PoolTimeout(_) => {
                tracing::warn!(error = %err, "no database connection free");
                ApiError::with_message(
                    ErrorCode::ServerBusy,
                    "The server is busy. Try again in a moment.",
                )
                .retry_after(1)
            }
            // The database server is down or unreachable, or SQLite's disk is full: nothing
            // was written, and the same request works once it is back.
            err if err.is_outage() => {
                tracing::warn!(error = %err, "the database is unavailable");
                ApiError::new(ErrorCode::Unavailable).retry_after(UNAVAILABLE_RETRY_S)
            }
            err => ApiError::internal(err),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> ApiError {
        ApiError::internal(err)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> ApiError {
        ApiError::internal(err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(error = format!("{source:#}"), "request failed");
        }
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut envelope = ErrorEnvelope::new(self.code, self.message);
        // Seconds travel as u32 (136 years); a longer wait is as good as forever.
        envelope.error.retry_after_s = self
            .retry_after_s
            .map(|secs| u32::try_from(secs).unwrap_or(u32::MAX));
        envelope.error.details = self.details;
        let mut response = (status, Json(envelope)).into_response();
        // For the request's log line.
        response.extensions_mut().insert(self.code);
        if let Some(secs) = self.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The English sentence for each code the server answers with.
pub fn default_message(code: ErrorCode) -> &'static str {
    use ErrorCode::*;
    match code {
        TokenInvalid => "This reset link is not valid. Request a new email.",
        TokenExpired => "This reset link has expired. Request a new email.",
        TokenUsed => "This reset link was already used. Request a new email.",
        TokenSuperseded => {
            "A newer reset email was sent; only its link works. Use the newest email or request a new one."
        }
        ResetLinkOtherDevice => {
            "This link was asked for in the Unipos app on another device. Open it on that device, or send a new email from this one."
        }
        PasswordMismatch => "The two passwords do not match.",
        PasswordPolicy => "The new password does not meet your organisation's password rules.",
        CurrentPasswordIncorrect => "The current password is not correct.",
        InvalidCredentials => "The email address, Login ID or password is not correct.",
        AccountLocked => {
            "Your Unipos account is locked after too many failed logins. Try again later or reset your password."
        }
        SsoRequired => "Your organisation signs in with SSO. Use \"Log in with SSO\".",
        SsoManaged => "Your password is managed by your organisation's SSO and cannot be changed here.",
        SessionExpired => "Your session has ended. Log in again.",
        PasswordResetByAdmin => {
            "Your company's Unipos admin reset your password, so you were logged out. Set a new password with the QR code on the Account Information form your admin gives you (Login ID), or with the link in the reset email (email address)."
        }
        AdminRequired => "Only an admin of this team can do this. Log in as the team's admin.",
        MemberNotFound => "Your team has no such member. List the members to find the right one.",
        MemberUsesSso => {
            "This member logs in with SSO: the company's identity provider manages the password."
        }
        MemberUsesEmail => {
            "This member logs in with an email address: reset the password, and a reset email is sent to them."
        }
        LoginIdTaken => "A member of this team already has this Login ID. Choose another.",
        LoginIdInvalid => {
            "A Login ID is 1–64 half-width letters, digits and . _ - @. Change it and try again."
        }
        DisplayNameInvalid => "A display name is 1–100 characters. Change it and try again.",
        AccountSheetUnavailable => {
            "Account Information forms cannot be made now: the server has no font for them. Tell the server's operator."
        }
        RateLimited => "Too many requests. Wait a moment and try again.",
        BadRequest => "The request body is not the JSON this endpoint expects.",
        PayloadTooLarge => "The request body is too large.",
        UnsupportedMediaType => "Send the request body as application/json.",
        NotFound => "There is no such endpoint.",
        RequestTimeout => "The request did not arrive in time. Send it again.",
        ServerBusy => "The server is busy checking other passwords. Try again in a moment.",
        Unavailable => {
            "Unipos is not available right now: a part it depends on is down. Nothing was changed. Try again in a moment."
        }
        TooManyConnections => {
            "Too many connections from your network are open at once. Try again in a moment."
        }
        MethodNotAllowed => "This endpoint does not take this method.",
        HostNotAllowed => {
            "This development server answers only at a loopback address. Open it as http://127.0.0.1:PORT or http://localhost:PORT."
        }
        Internal => "Something went wrong on our side. Quote the request id to support.",
        // The API answers an address with the protocol's verdict (`ApiError::email`); these
        // are the same sentences, for a code given without one.
        EmailEmpty => EmailRule::Empty.message(),
        EmailLeadingWhitespace => EmailRule::LeadingWhitespace.message(),
        EmailTrailingWhitespace => EmailRule::TrailingWhitespace.message(),
        EmailInnerWhitespace => EmailRule::InnerWhitespace.message(),
        EmailFullwidth => EmailRule::Fullwidth.message(),
        EmailTooLong => EmailRule::TooLong.message(),
        EmailInvalid => EmailRule::Invalid.message(),
        // Decided by the app about a link or its own configuration; the API never sends them.
        LinkUnparseable | LinkScheme | LinkUserinfo | LinkHost | LinkPort | LinkPath
        | LinkExtraParts | LinkTokenMissing | LinkTokenDuplicate | LinkTokenMalformed
        | LinkTooLong | BaseUrlInvalid | BaseUrlInsecure => {
            "The app refused this link or address by its own rules."
        }
        Unknown => "The request was refused.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the API answers has a sentence of its own: none falls back on another's.
    #[test]
    fn no_two_codes_the_api_answers_share_a_sentence() {
        let mut seen = std::collections::HashMap::new();
        for &code in ErrorCode::ALL {
            if code.as_str().starts_with("link_") || code.as_str().starts_with("base_url_") {
                continue;
            }
            if let Some(other) = seen.insert(default_message(code), code) {
                panic!("{code} and {other} say the same");
            }
        }
    }
}
