//! The reference implementation of the Unipos password-reset API.
//!
//! [`spawn`] starts the server in-process (tests of the client and the CLI use it on an ephemeral
//! port); the `unipos-server` binary is a thin command-line front to it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use unipos_protocol::{BaseUrl, ErrorCode, LinkRules, API_PREFIX};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub mod account_sheet;
mod admin;
mod api;
mod client_addr;
pub mod clock;
mod config;
pub mod db;
pub mod dev;
mod error;
mod extract;
mod hashing;
mod health;
mod html;
mod limits;
mod lockout;
mod mail;
mod metrics;
mod outbox;
mod request_log;
mod reset_page;
mod reset_tokens;
mod schema;
mod secrets;
mod serve;
mod sessions;
pub mod sql;
mod state;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod web;
mod when;

pub use clock::Clock;
pub use config::{defaults, Config};
pub use db::{Db, DbLocation, PoolSize};
pub use extract::MAX_BODY_BYTES;
pub use outbox::SentMail;

use error::ApiError;
use limits::{Limiter, Rule};
use mail::Mailer;
use metrics::Metrics;
use outbox::Deliverer;
use state::{AppState, Shared};

/// How long [`RunningServer::shutdown`] may take: requests in flight, and the mail deliverer's
/// grace, end within it (under the 10 s an orchestrator usually waits after SIGTERM).
const SHUTDOWN_WITHIN: Duration = Duration::from_secs(9);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Unipos password-reset API",
        version = "1.0.0",
        description = "The hosted API behind the Unipos account app: password reset by email, \
            sessions, password change. Every response carries `X-Request-Id`; every \
            error is `{\"error\": {\"code\", \"message\", \"retry_after_s\"?, \"details\"?}}` with a \
            stable snake_case code."
    ),
    modifiers(&BearerAuth),
    components(schemas(
        unipos_protocol::ErrorCode,
        unipos_protocol::PolicyRule,
        unipos_protocol::LoginMethod,
        unipos_protocol::Role
    )),
    tags(
        (name = "password", description = "Forgot and reset password"),
        (name = "sessions", description = "Log in and out"),
        (name = "me", description = "The logged-in member"),
        (name = "admin", description = "Team Admin: the members of the admin's own team, their password resets and Account Information sheets")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The opaque session token from `session.token`"))
                    .build(),
            ),
        );
    }
}

/// The API routes, each registered from its documented handler so routes and document agree.
fn documented_routes() -> OpenApiRouter<AppState> {
    let api = OpenApiRouter::new()
        .routes(routes!(api::forgot))
        .routes(routes!(api::reset_check))
        .routes(routes!(api::reset))
        .routes(routes!(api::login))
        .routes(routes!(api::logout))
        .routes(routes!(api::me))
        .routes(routes!(api::password_policy))
        .routes(routes!(api::change_password))
        .routes(routes!(api::timeline))
        .routes(routes!(admin::members, admin::add_member))
        .routes(routes!(admin::password_reset))
        .routes(routes!(admin::account_sheet));
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(API_PREFIX, api)
}

/// The OpenAPI 3.1 document of the API, generated from the handlers: what a server serves in
/// production (the `/dev` endpoints are in [`dev::openapi`]).
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented_routes().into_openapi()
}

/// [`openapi`] as the pretty JSON committed in `crates/server/openapi.json`.
pub fn openapi_json() -> String {
    pretty_json(&openapi())
}

/// [`dev::openapi`] as the pretty JSON committed in `crates/server/openapi-dev.json`.
pub fn dev_openapi_json() -> String {
    pretty_json(&dev::openapi())
}

#[allow(
    clippy::expect_used,
    reason = "the document is made of strings and maps, and the openapi test writes it"
)]
fn pretty_json(doc: &utoipa::openapi::OpenApi) -> String {
    let mut json = doc
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed)
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    ApiError::new(ErrorCode::Internal).into_response()
}

/// The routes and their layers; with `--dev`, only loopback names reach them (see
/// [`dev::only_loopback_host`]).
fn router(state: AppState) -> Router {
    let (mut api, _) = documented_routes().split_for_parts();
    if state.config.dev {
        api = api.merge(dev::routes().split_for_parts().0);
    }
    // A handler that panics, for the test that a panic is answered as a JSON 500.
    #[cfg(test)]
    let api = api.route("/api/v1/test-panic", get(tests::panics));
    let page = get(reset_page::page).post(reset_page::submit);
    let routes = api
        .route("/reset_password", page)
        .route("/password_set", get(reset_page::password_set))
        .route("/.well-known/assetlinks.json", get(web::assetlinks))
        .route(
            "/.well-known/apple-app-site-association",
            get(web::apple_app_site_association),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .layer(CatchPanicLayer::custom(panicked));
    let routes = if state.config.dev {
        routes.layer(axum::middleware::from_fn(dev::only_loopback_host))
    } else {
        routes
    };
    routes.layer(axum::middleware::from_fn_with_state(
        state,
        request_log::request_context,
    ))
}

/// The log of `--log-format json`, written to `writer`: one JSON object per line, the event's
/// fields at the top and its span's (the request's `request_id`) under `span`.
pub fn json_log<W>(filter: tracing_subscriber::EnvFilter, writer: W) -> impl tracing::Subscriber
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .finish()
}

/// `http://ADDR` for a bound address, with an unspecified address (`0.0.0.0`, `::`) replaced by
/// loopback, so it can be used as a base URL on this machine.
fn local_base(addr: SocketAddr) -> anyhow::Result<BaseUrl> {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let url = format!("http://{}", SocketAddr::new(ip, addr.port()));
    BaseUrl::parse(&url).with_context(|| format!("{url} is not a usable base URL"))
}

/// A server started by [`spawn`]. Dropping it stops the server; [`RunningServer::shutdown`]
/// stops it and waits until it has.
pub struct RunningServer {
    addr: SocketAddr,
    base_url: BaseUrl,
    web_base: BaseUrl,
    state: Option<AppState>,
    db: db::Db,
    stop: Option<oneshot::Sender<()>>,
    serve: Option<JoinHandle<std::io::Result<()>>>,
    /// Where mail is written as `.eml` files, if it is.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    outbox_dir: Option<std::path::PathBuf>,
    stop_mail: watch::Sender<bool>,
    deliverer: Option<JoinHandle<()>>,
    sweeper: JoinHandle<()>,
    metrics_addr: Option<SocketAddr>,
    metrics_server: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    /// The address the server listens on (the real port when the config said 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (loopback when listening on all interfaces), without the API prefix.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base_url
    }

    /// `http://ADDR/api/v1`.
    pub fn api_url(&self) -> String {
        self.base_url.join(API_PREFIX)
    }

    /// Where `/metrics` is served (`--metrics-listen`), when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The base of the links in reset mails.
    pub fn web_base(&self) -> &BaseUrl {
        &self.web_base
    }

    /// Stops accepting requests and answers those in flight; the mail deliverer takes no more
    /// mail and finishes the delivery under way (or, if the relay does not answer within
    /// [`outbox::STOP_GRACE`], releases it for another instance at once). Then checkpoints the
    /// database so everything is in its main file. Within about 9 s in all.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        // Both at once: the deliverer's grace runs while requests finish.
        let _ = self.stop_mail.send(true);
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let deadline = tokio::time::Instant::now() + SHUTDOWN_WITHIN;
        if let Some(serve) = self.serve.take() {
            tokio::time::timeout_at(deadline, serve)
                .await
                .context("requests in flight were not answered in time")???;
        }
        self.state.take();
        if let Some(deliverer) = self.deliverer.take() {
            tokio::time::timeout_at(deadline, deliverer)
                .await
                .context("the mail deliverer did not stop in time")??;
        }
        if let Some(metrics) = self.metrics_server.take() {
            metrics.abort();
        }
        self.sweeper.abort();
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.checkpoint()).await??;
        Ok(())
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.stop_mail.send(true);
        self.sweeper.abort();
        if let Some(metrics) = &self.metrics_server {
            metrics.abort();
        }
    }
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .field("web_base", &self.web_base.as_str())
            .finish_non_exhaustive()
    }
}

/// Opens the database (migrating it), seeds the demo data in dev mode, binds `config.listen` and
/// serves until the returned [`RunningServer`] is shut down or dropped.
pub async fn spawn(config: Config) -> anyhow::Result<RunningServer> {
    config.validate()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let base_url = local_base(addr)?;
    let web_base = config.web_base.clone().unwrap_or_else(|| base_url.clone());
    let clock = config.clock.clone();

    let (location, pool, dev, now) = (
        config.db.clone(),
        config.db_pool,
        config.dev,
        clock.now_ms(),
    );
    let db = tokio::task::spawn_blocking(move || -> anyhow::Result<db::Db> {
        let db = db::Db::open(&location, pool)?;
        if dev {
            dev::seed(&db, now).context("seeding the demo organisation")?;
        }
        Ok(db)
    })
    .await??;

    let mailer = Mailer::new(config.smtp_url.as_deref(), config.outbox_dir.as_ref())?;
    let outbox_dir = match &config.smtp_url {
        Some(_) => None,
        None => config.outbox_dir.clone(),
    };
    let sheet_font = match (
        &config.sheet_font,
        account_sheet::SheetFont::locate(config.sheet_font.as_deref()),
    ) {
        (_, Ok(font)) => Some(Arc::new(font)),
        // Asked for by name: a wrong path is a mistake to fix before serving.
        (Some(_), Err(e)) => return Err(e.context("--sheet-font")),
        (None, Err(e)) => {
            tracing::warn!(
                error = format!("{e:#}"),
                "no font for Account Information sheets: they are answered account_sheet_unavailable"
            );
            None
        }
    };
    if !config.android_app_links_verifiable() {
        tracing::warn!(
            "no --android-cert-sha256: /.well-known/assetlinks.json is answered 404, so Android \
             cannot verify the reset links as the app's"
        );
    }
    if !config.apple_app_links_verifiable() {
        tracing::warn!(
            apple_app_id = config.apple_app_id,
            "--apple-app-id has the placeholder team ID: /.well-known/apple-app-site-association \
             is answered 404, so iOS cannot verify the reset links as the app's"
        );
    }
    let links = LinkRules::new(web_base.clone());
    let mail_due = Arc::new(Notify::new());
    let (stop_mail, stop_mail_rx) = watch::channel(false);
    let metrics = Arc::new(Metrics::default());
    let deliverer = tokio::spawn(
        Deliverer {
            db: db.clone(),
            clock: clock.clone(),
            links: links.clone(),
            reset_ttl: config.reset_token_ttl,
            mailer,
            keep_sent: config.dev,
            lease: config.mail_lease,
            due: mail_due.clone(),
            stop: stop_mail_rx.clone(),
            metrics: metrics.clone(),
        }
        .run(),
    );

    let ms = |d: Duration| d.as_millis() as i64;
    let forgot_limiter = Limiter::new(
        "forgot",
        vec![
            Rule {
                limit: 1,
                window_ms: ms(config.forgot_interval),
            },
            Rule {
                limit: config.forgot_max_per_hour,
                window_ms: 3_600_000,
            },
        ],
    );
    let client_limiter = Limiter::new(
        "client",
        vec![Rule {
            limit: config.client_limit,
            window_ms: ms(config.client_window),
        }],
    );
    let longest_window = [
        ms(config.forgot_interval),
        3_600_000,
        ms(config.client_window),
        ms(config.lockout_window),
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    let sweeper = tokio::spawn(limits::sweep(db.clone(), clock.clone(), longest_window));
    let hasher = hashing::Hasher::new(config.hash_workers, config.hash_queue, config.hash_wait);
    let limits = serve::Limits {
        max_connections: config.max_connections,
        max_connections_per_client: config.max_connections_per_client,
        trusted_proxies: config.trusted_proxies.clone(),
        header_read_timeout: config.header_read_timeout,
    };
    let metrics_listener = match config.metrics_listen {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .with_context(|| format!("--metrics-listen {at}"))?,
        ),
        None => None,
    };
    let state = AppState(Arc::new(Shared {
        config,
        db: db.clone(),
        clock,
        links: links.clone(),
        forgot_limiter,
        client_limiter,
        hasher,
        mail_due,
        sheet_font,
        metrics,
        stopping: stop_mail_rx.clone(),
    }));
    let (metrics_addr, metrics_server) = match metrics_listener {
        Some(listener) => {
            let at = listener.local_addr()?;
            let mut stopping = stop_mail_rx;
            let stop = async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            tracing::info!(%at, "serving /metrics");
            (
                Some(at),
                Some(tokio::spawn(metrics::serve(listener, state.clone(), stop))),
            )
        }
        None => (None, None),
    };

    let app = router(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let serve = tokio::spawn(serve::serve(listener, app, limits, async move {
        let _ = stopped.await;
    }));
    tracing::info!(%addr, web_base = web_base.as_str(), "serving");
    Ok(RunningServer {
        addr,
        base_url,
        web_base,
        state: Some(state),
        db,
        stop: Some(stop),
        serve: Some(serve),
        outbox_dir,
        stop_mail,
        deliverer: Some(deliverer),
        sweeper,
        metrics_addr,
        metrics_server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) async fn panics() -> &'static str {
        panic!("a handler panicked on purpose")
    }

    /// Through the server as it runs: the router with its layers, on a real connection.
    #[tokio::test]
    async fn a_panicking_handler_answers_a_json_500() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let dir = tempfile::tempdir().unwrap();
        // As in production, on the store the tests run against.
        let server = spawn(Config::for_tests(dir.path())).await.unwrap();
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        stream
            .write_all(
                b"GET /api/v1/test-panic HTTP/1.1\r\nHost: x\r\nX-Request-Id: boom-1\r\n\
                  Connection: close\r\n\r\n",
            )
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no answer, the connection closed: {answer:?}"));
        assert!(head.starts_with("HTTP/1.1 500"), "{answer}");
        let head = head.to_ascii_lowercase();
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(head.contains("x-request-id: boom-1"), "{head}");
        let envelope: unipos_protocol::ErrorEnvelope = serde_json::from_str(body).unwrap();
        assert_eq!(envelope.error.code, ErrorCode::Internal);
        assert!(
            !body.contains("on purpose"),
            "the panic's text stays inside: {body}"
        );
        server.shutdown().await.unwrap();
    }

    #[test]
    fn unspecified_listen_addresses_become_loopback_base_urls() {
        let v4 = local_base("0.0.0.0:8787".parse().unwrap()).unwrap();
        assert_eq!(v4.as_str(), "http://127.0.0.1:8787");
        let v6 = local_base("[::]:1".parse().unwrap()).unwrap();
        assert_eq!(v6.as_str(), "http://[::1]:1");
    }
}
