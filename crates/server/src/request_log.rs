//! Every request's id, deadline and log line: the middleware around the routes, and what a
//! handler adds to the line (the address's hint, never the address).

use std::time::Instant;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;
use unipos_protocol::{Email, ErrorCode, REQUEST_ID_HEADER};

use crate::error::ApiError;
use crate::state::AppState;

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
    fn request_ids_are_visible_ascii_up_to_128() {
        let ok = |s: &str| acceptable_request_id(&HeaderValue::from_str(s).unwrap());
        assert_eq!(ok("abc-123").as_deref(), Some("abc-123"));
        assert!(ok(&"x".repeat(128)).is_some());
        assert!(ok(&"x".repeat(129)).is_none());
        assert!(ok("has space").is_none());
        assert!(ok("").is_none());
    }
}
