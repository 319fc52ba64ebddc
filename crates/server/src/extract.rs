//! Extractors that answer in the API's own error shape: a JSON body, a session; and the
//! language a request's mail is written in.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::json;
use unipos_protocol::{ErrorCode, Language};

use crate::error::ApiError;
use crate::secrets::token_hash;
use crate::state::AppState;
use crate::store::{self, UserRow};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A JSON body: 415 unless `application/json`, 413 over [`MAX_BODY_BYTES`], 400 when it is not
/// JSON or not the expected shape.
pub struct ApiJson<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T> FromRequest<AppState> for ApiJson<T>
where
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        if !json {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }
        // A client that sends the head and then trickles (or withholds) the body is cut off.
        let collected = tokio::time::timeout(
            state.config.body_read_timeout,
            Limited::new(req.into_body(), MAX_BODY_BYTES).collect(),
        )
        .await
        .map_err(|_| ApiError::new(ErrorCode::RequestTimeout))?;
        let bytes = collected
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    too_large()
                } else {
                    ApiError::with_message(
                        ErrorCode::BadRequest,
                        "The request body could not be read.",
                    )
                }
            })?
            .to_bytes();
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| bad_json(&e))
    }
}

fn too_large() -> ApiError {
    ApiError::with_message(
        ErrorCode::PayloadTooLarge,
        format!(
            "The request body is larger than {} KiB.",
            MAX_BODY_BYTES / 1024
        ),
    )
}

/// Never echoes serde's full message: for a wrongly typed field it quotes the value, which may be
/// a password.
fn bad_json(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = match e.classify() {
        Category::Data => {
            let text = e.to_string();
            match text.strip_prefix("missing field ") {
                Some(rest) => format!(
                    "The request body lacks the field {}.",
                    rest.split(' ').next().unwrap_or_default()
                ),
                None => {
                    "The request body does not have the fields this endpoint expects.".to_owned()
                }
            }
        }
        _ => "The request body is not valid JSON.".to_owned(),
    };
    ApiError::with_message(ErrorCode::BadRequest, message)
        .details(json!({ "line": e.line(), "column": e.column() }))
}

/// The member behind `Authorization: Bearer …`; 401 `session_expired` when there is none, or
/// `password_reset_by_admin` when the team's admin ended it by resetting the password.
pub struct Auth {
    pub session_id: i64,
    pub user: UserRow,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::new(ErrorCode::SessionExpired))?;
        let hash = token_hash(token);
        let now = state.clock.now_ms();
        let found = state
            .db
            .call(move |c| {
                Ok(match store::session_user(c, &hash, now)? {
                    Some(live) => Ok(live),
                    // Only the holder of the session learns why it ended.
                    None if store::revoked_by_admin_reset(c, &hash, now)? => {
                        Err(ErrorCode::PasswordResetByAdmin)
                    }
                    None => Err(ErrorCode::SessionExpired),
                })
            })
            .await?;
        let (session_id, user) = found.map_err(ApiError::new)?;
        Ok(Auth { session_id, user })
    }
}

/// The language of a request's mail: the one it asks for (a body's `lang`), else its
/// `Accept-Language` header's, else English ([`unipos_protocol::Language::for_request`]).
pub fn request_language(asked: Option<Language>, headers: &axum::http::HeaderMap) -> Language {
    let header = headers
        .get_all(header::ACCEPT_LANGUAGE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    Language::for_request(asked, &header)
}

/// A request's `Accept-Language`, for [`AcceptLanguage::or`] with what its body asks for.
#[derive(Debug, Clone)]
pub struct AcceptLanguage(axum::http::HeaderMap);

impl AcceptLanguage {
    /// The mail's language: `asked` (the body's `lang`) when given, else the header's.
    pub fn or(&self, asked: Option<Language>) -> Language {
        request_language(asked, &self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AcceptLanguage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut headers = axum::http::HeaderMap::new();
        for value in parts.headers.get_all(header::ACCEPT_LANGUAGE) {
            headers.append(header::ACCEPT_LANGUAGE, value.clone());
        }
        Ok(AcceptLanguage(headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/problem+json",
        ] {
            assert!(is_json(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "json",
            "",
            "text/json+json",
        ] {
            assert!(!is_json(bad), "{bad}");
        }
    }
}
