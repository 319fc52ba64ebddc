//! Probes for load balancers and orchestrators, outside the API: `GET /healthz` (the process is
//! up and serving) and `GET /readyz` (it can do its work: the database answers and its schema is
//! this server's). Neither says anything secret; both are `no-store`. The outbox backlog is
//! reported by readiness but does not fail it: mail waits safely in the database, and taking
//! instances out of rotation would not send it sooner.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::UNAVAILABLE_RETRY_S;
use crate::schema;
use crate::state::AppState;

/// `GET /healthz`: 200 while the process serves requests (a liveness probe: restart it if not).
pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: 200 when the database answers with the current schema, else 503 with
/// `Retry-After` (a readiness probe: send it no traffic meanwhile). Also 503 once the server is
/// stopping, so a balancer stops sending before it closes.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let now = state.clock.now_ms();
    let checked = state
        .db
        .call(|c| {
            let version: i64 = if c.is_postgres() {
                c.value("SELECT version FROM unipos_schema", &[])?
            } else {
                c.value("SELECT user_version FROM pragma_user_version", &[])?
            };
            let (backlog, oldest) = crate::store::outbox_backlog(c)?;
            Ok((version, backlog, oldest))
        })
        .await;
    let expected = if state.db.is_postgres() {
        schema::POSTGRES.len()
    } else {
        schema::SQLITE.len()
    } as i64;
    let stopping = *state.stopping.borrow();
    let (status, body) = match checked {
        Ok((version, backlog, oldest)) => {
            let current = version >= expected;
            let ready = current && !stopping;
            let why = if stopping {
                "stopping"
            } else if current {
                "ready"
            } else {
                "the database schema is older than this server's"
            };
            (
                if ready {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                },
                json!({
                    "status": if ready { "ready" } else { "not_ready" },
                    "reason": why,
                    "database": "ok",
                    "schema_version": version,
                    "outbox": {
                        "backlog": backlog,
                        "oldest_age_s": oldest.map_or(0, |at| (now - at).max(0) / 1000),
                    },
                }),
            )
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({
                "status": "not_ready",
                "reason": "the database does not answer",
                "database": e.code().as_str(),
            }),
        ),
    };
    let mut response = (status, Json(body)).into_response();
    if status != StatusCode::OK {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(UNAVAILABLE_RETRY_S),
        );
    }
    response
}
