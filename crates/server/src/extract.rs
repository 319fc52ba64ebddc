//! Extractors and middleware that answer in the API's own error shape.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::Instrument;
use unipos_protocol::{Email, ErrorCode, Language, REQUEST_ID_HEADER};

use crate::error::ApiError;
use crate::secrets::token_hash;
use crate::store::{self, UserRow};
use crate::AppState;

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

/// The request's id (as `X-Request-Id` answers it), for work done later on its behalf.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId("-".to_owned())))
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

fn acceptable_request_id(v: &HeaderValue) -> Option<String> {
    let bytes = v.as_bytes();
    let ok = (1..=128).contains(&bytes.len()) && bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    ok.then(|| String::from_utf8_lossy(bytes).into_owned())
}

tokio::task_local! {
    /// The hint of the address a request is about, for its log line.
    static EMAIL_HINT: std::cell::RefCell<Option<String>>;
}

/// Puts the address's hint (`t***@example.com`, never the address) on the request's log line.
pub fn note_email_hint(email: &Email) {
    note_hint(&email.hint());
}

/// The same, for a hint already made.
pub fn note_hint(hint: &str) {
    let _ = EMAIL_HINT.try_with(|slot| *slot.borrow_mut() = Some(hint.to_owned()));
}

/// Gives every request an id (the client's when acceptable, else a new UUID), runs it inside a
/// span carrying the id with a deadline, sets `X-Request-Id` and `Cache-Control: no-store` on the
/// response (answers carry sessions, and the reset page a token in its address), and logs one
/// line per request. The line has the path without the query: a query may carry a reset token.
pub async fn request_context(
    State(state): State<AppState>,
    mut req: Request<Body>,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path: String = req.uri().path().chars().take(200).collect();
    // The route's pattern (`/api/v1/password/forgot`); a path no route matches is `-`.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "-".to_owned(), |m| m.as_str().to_owned());
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let cacheable = path.starts_with("/.well-known/");
    let (email, answer) = EMAIL_HINT
        .scope(std::cell::RefCell::new(None), async {
            let answer = tokio::time::timeout(
                state.config.request_timeout,
                next.run(req).instrument(span.clone()),
            )
            .await;
            (EMAIL_HINT.with(|slot| slot.borrow_mut().take()), answer)
        })
        .await;
    let mut response =
        answer.unwrap_or_else(|_| ApiError::new(ErrorCode::RequestTimeout).into_response());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    if !cacheable {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_millis() as u64;
    let error_code = response
        .extensions()
        .get::<ErrorCode>()
        .map_or("-", |code| code.as_str());
    state.metrics.request(
        &route,
        method.as_str(),
        status,
        error_code,
        started.elapsed().as_secs_f64(),
    );
    let email = email.as_deref().unwrap_or("-");
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(%method, path, route, status, error_code, latency_ms, email, "request");
        } else {
            tracing::info!(%method, path, route, status, error_code, latency_ms, email, "request");
        }
    });
    response
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

    #[test]
    fn request_ids_are_visible_ascii_up_to_128() {
        let ok = |s: &str| acceptable_request_id(&HeaderValue::from_str(s).unwrap());
        assert_eq!(ok("abc-123").as_deref(), Some("abc-123"));
        assert!(ok(&"x".repeat(128)).is_some());
        assert!(ok(&"x".repeat(129)).is_none());
        assert!(ok("has space").is_none());
        assert!(ok("").is_none());
    }
}
