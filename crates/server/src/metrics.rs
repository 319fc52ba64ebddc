//! What operators watch: the server's series in the Prometheus (OpenMetrics) text format, served
//! on a listen address of their own (`--metrics-listen`, off by default) so they never reach the
//! public endpoint. Labels are routes (patterns, never paths), statuses, error codes and mail
//! kinds: never an address, a token or a member id.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::state::AppState;
use crate::store::MailKind;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route's pattern (`/api/v1/admin/members/{id}`), `-` when none matched.
    pub route: String,
    pub method: String,
    pub status: u16,
    /// The error code answered, `-` for a success.
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum Kind {
    reset_request,
    admin_reset,
    password_changed,
}

impl From<MailKind> for Kind {
    fn from(kind: MailKind) -> Kind {
        match kind {
            MailKind::ResetRequest => Kind::reset_request,
            MailKind::AdminReset => Kind::admin_reset,
            MailKind::PasswordChanged => Kind::password_changed,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MailLabels {
    pub kind: Kind,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum DbErrorKind {
    /// The database could not be reached, or its disk was full.
    unavailable,
    other,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DbErrorLabels {
    pub kind: DbErrorKind,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Every series of one server.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Histograms<RouteLabels>,
    hash_queue_depth: Gauge,
    hash_busy: Counter,
    pub lockouts: Counter,
    outbox_backlog: Gauge,
    outbox_oldest_age: Gauge<f64, AtomicU64>,
    /// 1 while this instance's deliverer is handling a mail (composing, sending, recording).
    pub mail_delivering: Gauge,
    pub mail_sent: Family<MailLabels, Counter>,
    pub mail_retried: Family<MailLabels, Counter>,
    pub mail_given_up: Family<MailLabels, Counter>,
    db_pool_waits: Counter,
    db_pool_wait_seconds: Counter<f64, AtomicU64>,
    db_errors: Family<DbErrorLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("unipos");
        let m = Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            hash_queue_depth: Gauge::default(),
            hash_busy: Counter::default(),
            lockouts: Counter::default(),
            outbox_backlog: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
            mail_delivering: Gauge::default(),
            mail_sent: Family::default(),
            mail_retried: Family::default(),
            mail_given_up: Family::default(),
            db_pool_waits: Counter::default(),
            db_pool_wait_seconds: Counter::default(),
            db_errors: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "Requests answered, by route pattern, method, status and error code",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route pattern",
            m.latency.clone(),
        );
        registry.register(
            "hash_queue_depth",
            "Password checks waiting for a hashing worker",
            m.hash_queue_depth.clone(),
        );
        registry.register(
            "hash_busy",
            "Password checks refused 503 server_busy (workers and queue full, or the wait ran out)",
            m.hash_busy.clone(),
        );
        registry.register(
            "lockouts",
            "Login keys locked after too many failed passwords",
            m.lockouts.clone(),
        );
        registry.register(
            "outbox_backlog",
            "Mails waiting in the outbox (due or waiting for a retry)",
            m.outbox_backlog.clone(),
        );
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest mail waiting in the outbox (0 when none)",
            m.outbox_oldest_age.clone(),
        );
        registry.register(
            "mail_delivering",
            "1 while this instance is delivering a mail (its link made, sent, recorded)",
            m.mail_delivering.clone(),
        );
        registry.register("mail_sent", "Mails the relay accepted", m.mail_sent.clone());
        registry.register(
            "mail_retried",
            "Mail deliveries that failed and were scheduled again",
            m.mail_retried.clone(),
        );
        registry.register(
            "mail_given_up",
            "Mails given up: not delivered before their link (or notice) stopped mattering",
            m.mail_given_up.clone(),
        );
        registry.register(
            "db_pool_waits",
            "Database connection checkouts that found none free and waited",
            m.db_pool_waits.clone(),
        );
        registry.register(
            "db_pool_wait_seconds",
            "Time spent waiting for a database connection",
            m.db_pool_wait_seconds.clone(),
        );
        registry.register(
            "db_errors",
            "Requests that failed on the database, by kind",
            m.db_errors.clone(),
        );
        // Every kind from the start, at 0: a series that appears only once it moves cannot be
        // told apart from one that is not exported.
        for kind in [
            Kind::reset_request,
            Kind::admin_reset,
            Kind::password_changed,
        ] {
            let labels = MailLabels { kind };
            drop(m.mail_sent.get_or_create(&labels));
            drop(m.mail_retried.get_or_create(&labels));
            drop(m.mail_given_up.get_or_create(&labels));
        }
        for kind in [DbErrorKind::unavailable, DbErrorKind::other] {
            drop(m.db_errors.get_or_create(&DbErrorLabels { kind }));
        }
        Metrics { registry, ..m }
    }
}

/// Moves a counter up to a running total kept elsewhere (an atomic the counted code owns).
fn catch_up(counter: &Counter, total: u64) {
    let seen = counter.get();
    if total > seen {
        counter.inc_by(total - seen);
    }
}

impl Metrics {
    /// The series as text, after reading the gauges that are looked up rather than counted.
    async fn render(&self, state: &AppState) -> Result<String, crate::error::ApiError> {
        self.hash_queue_depth.set(state.hasher.queued() as i64);
        catch_up(&self.hash_busy, state.hasher.refused());
        let now = state.clock.now_ms();
        // Served while the database is down too (that is when it is looked at): the outbox's
        // gauges then keep their last values, and db_errors says why.
        if let Ok((backlog, oldest)) = state
            .db
            .call(|c| Ok(crate::store::outbox_backlog(c)?))
            .await
        {
            self.outbox_backlog.set(backlog as i64);
            self.outbox_oldest_age
                .set(oldest.map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0));
        }
        let db = state.db.stats();
        catch_up(&self.db_pool_waits, db.pool_waits.load(Ordering::Relaxed));
        let waited = db.pool_wait_us.load(Ordering::Relaxed) as f64 / 1e6;
        let seen = self.db_pool_wait_seconds.get();
        if waited > seen {
            self.db_pool_wait_seconds.inc_by(waited - seen);
        }
        for (kind, total) in [
            (DbErrorKind::unavailable, &db.outage_errors),
            (DbErrorKind::other, &db.other_errors),
        ] {
            catch_up(
                &self.db_errors.get_or_create(&DbErrorLabels { kind }),
                total.load(Ordering::Relaxed),
            );
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|e| crate::error::ApiError::internal(anyhow::anyhow!("{e}")))?;
        Ok(text)
    }

    /// Counts one answered request.
    pub fn request(&self, route: &str, method: &str, status: u16, code: &str, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
                code: code.to_owned(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render(&state).await {
        Ok(text) => {
            let mut response = (StatusCode::OK, text).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => e.into_response(),
    }
}

/// Serves `GET /metrics` on `listener` until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
}
