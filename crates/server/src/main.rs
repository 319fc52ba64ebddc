//! `unipos-server`: runs the reference API. Every flag can also be set through its environment
//! variable; see `unipos-server --help` and crates/server/README.md.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::Parser;
use ipnet::IpNet;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;
use unipos_protocol::{app_links, BaseUrl};
use unipos_server::{defaults, dev, spawn, Config, DbLocation, PoolSize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// The reference implementation of the Unipos password-reset API.
#[derive(Debug, Parser)]
#[command(name = "unipos-server", version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free one. The first line on stdout is
    /// `listening on http://ADDR`.
    #[arg(long, env = "UNIPOS_LISTEN", default_value_t = defaults::LISTEN)]
    listen: SocketAddr,

    /// Where the data lives: a SQLite file (created and migrated at start; `:memory:` for a
    /// throw-away one), or a PostgreSQL database, `postgres://user:password@host:port/db` (it
    /// must exist; migrated at start). Several instances may share one database of either kind.
    #[arg(
        long,
        env = "UNIPOS_DB",
        default_value = defaults::DB,
        value_name = "FILE|URL",
        hide_env_values = true
    )]
    db: DbLocation,

    /// How the log on stderr is written: `text` for people, or `json`, one object per line (a
    /// request's line has time, request_id, method, route, status, error_code, latency_ms and
    /// the address's hint as `email`). RUST_LOG sets the level (default `info`).
    #[arg(long, env = "UNIPOS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    /// PostgreSQL only: connections to the database server this instance opens at most.
    #[arg(long, env = "UNIPOS_DB_CONNECTIONS", default_value_t = defaults::DB_CONNECTIONS)]
    db_connections: u32,

    /// Folder where each mail is written as an .eml file (when no --smtp-url is given). Mail
    /// carries live reset links, so outside --dev it goes to disk only when this is given;
    /// with --dev it defaults to .data/outbox.
    #[arg(long, env = "UNIPOS_OUTBOX")]
    outbox: Option<PathBuf>,

    /// Base URL of the links in reset mails ({web}/reset_password?token=…). Default: this
    /// server's own address, which serves the reset page.
    #[arg(long, env = "UNIPOS_WEB_BASE")]
    web_base: Option<BaseUrl>,

    /// How long a reset link works, in seconds.
    #[arg(
        long,
        env = "UNIPOS_RESET_TOKEN_TTL",
        value_name = "SECONDS",
        default_value_t = defaults::RESET_TOKEN_TTL_S
    )]
    reset_token_ttl: u64,

    /// How long the QR code of an Account Information sheet works, in seconds (the sheet is
    /// printed and handed over by hand; default 7 days).
    #[arg(
        long,
        env = "UNIPOS_ACCOUNT_SHEET_TTL",
        value_name = "SECONDS",
        default_value_t = defaults::ACCOUNT_SHEET_TTL_S
    )]
    account_sheet_ttl: u64,

    /// The font Account Information sheets are set in: a TrueType/OpenType file or collection
    /// with Latin and Japanese glyphs. Default: Noto Sans CJK (Debian's fonts-noto-cjk) or
    /// Hiragino where installed; without one, sheets are answered account_sheet_unavailable.
    #[arg(long, env = "UNIPOS_SHEET_FONT", value_name = "FILE")]
    sheet_font: Option<PathBuf>,

    /// SMTP relay to send mail through: smtps://user:pass@host:465, or
    /// smtp://host:587?tls=required. Mail carries live reset links: plain smtp:// (no TLS, or
    /// STARTTLS that can be stripped) is refused unless the host is this machine (127.0.0.1,
    /// [::1], localhost). Without it mail goes to --outbox.
    #[arg(long, env = "UNIPOS_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,

    /// Seconds an instance holds the mail it is sending before another instance (or this one,
    /// restarted) may take it over; renewed every third of it while the delivery runs, so a
    /// mail held by an instance that died goes out about this long later. Mail waits in the
    /// database until it is sent.
    #[arg(
        long,
        env = "UNIPOS_MAIL_LEASE",
        value_name = "SECONDS",
        default_value_t = defaults::MAIL_LEASE_S
    )]
    mail_lease: u64,

    /// Serve GET /metrics (Prometheus text format) on this address, e.g. 127.0.0.1:9187. Off
    /// when not given. Keep it off the public network: it is for the operator's scraper.
    #[arg(long, env = "UNIPOS_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,

    /// Seed the demo organisation (credentials are printed) and serve the /api/v1/dev endpoints.
    /// Refused unless --listen is a loopback address.
    #[arg(long, env = "UNIPOS_DEV", value_parser = BoolishValueParser::new(), default_value_t = false)]
    dev: bool,

    /// At most one reset mail per address per this many seconds (also the resend countdown).
    #[arg(
        long,
        env = "UNIPOS_FORGOT_INTERVAL",
        value_name = "SECONDS",
        default_value_t = defaults::FORGOT_INTERVAL_S
    )]
    forgot_interval: u64,

    /// At most this many reset mails per address per hour.
    #[arg(
        long,
        env = "UNIPOS_FORGOT_MAX_PER_HOUR",
        default_value_t = defaults::FORGOT_MAX_PER_HOUR
    )]
    forgot_max_per_hour: u32,

    /// Requests one client address may make to the login and reset endpoints per
    /// --client-rate-window.
    #[arg(long, env = "UNIPOS_CLIENT_RATE_LIMIT", default_value_t = defaults::CLIENT_RATE_LIMIT)]
    client_rate_limit: u32,

    /// The window of --client-rate-limit, in seconds.
    #[arg(
        long,
        env = "UNIPOS_CLIENT_RATE_WINDOW",
        value_name = "SECONDS",
        default_value_t = defaults::CLIENT_RATE_WINDOW_S
    )]
    client_rate_window: u64,

    /// A proxy whose X-Forwarded-For is believed (CIDR or address; repeatable, or
    /// comma-separated in the variable). Behind it, the client is the right-most address of
    /// X-Forwarded-For that is not a trusted proxy. Without any, forwarding headers are ignored.
    #[arg(
        long = "trusted-proxy",
        env = "UNIPOS_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ',',
        value_parser = parse_net
    )]
    trusted_proxies: Vec<IpNet>,

    /// Password hashes computed at once (each takes 19 MiB and a core). Default: the number
    /// of cores. Checks past these and --hash-queue are answered 503 server_busy.
    #[arg(long, env = "UNIPOS_HASH_WORKERS")]
    hash_workers: Option<usize>,

    /// Password checks that may wait for a hashing worker (for at most 2 s). Default: 64 per
    /// core.
    #[arg(long, env = "UNIPOS_HASH_QUEUE")]
    hash_queue: Option<usize>,

    /// Open connections at most; more are closed at once.
    #[arg(long, env = "UNIPOS_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    max_connections: usize,

    /// Open connections from one client address (an IPv6 /64) at most; trusted proxies are
    /// exempt.
    #[arg(
        long,
        env = "UNIPOS_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = defaults::MAX_CONNECTIONS_PER_CLIENT
    )]
    max_connections_per_client: usize,

    /// Seconds a client has to send a request's head (also: to start the next request on a
    /// kept-alive connection) and, separately, its body.
    #[arg(
        long,
        env = "UNIPOS_READ_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = defaults::READ_TIMEOUT_S
    )]
    read_timeout: u64,

    /// Seconds a request may take in all before it is answered 408 request_timeout.
    #[arg(
        long,
        env = "UNIPOS_REQUEST_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = defaults::REQUEST_TIMEOUT_S
    )]
    request_timeout: u64,

    /// Android package name in /.well-known/assetlinks.json.
    #[arg(
        long,
        env = "UNIPOS_ANDROID_PACKAGE",
        default_value = app_links::ANDROID_PACKAGE
    )]
    android_package: String,

    /// SHA-256 fingerprints of the Android signing certificate (comma-separated; default: the
    /// ones in unipos_protocol::app_links).
    #[arg(long, env = "UNIPOS_ANDROID_CERT_SHA256", value_delimiter = ',')]
    android_cert_sha256: Vec<String>,

    /// iOS app ID (TEAMID.bundle.id) in /.well-known/apple-app-site-association.
    #[arg(
        long,
        env = "UNIPOS_APPLE_APP_ID",
        default_value_t = app_links::apple_app_id()
    )]
    apple_app_id: String,
}

impl Args {
    fn into_config(self) -> Config {
        let defaults = Config::default();
        Config {
            listen: self.listen,
            db: self.db,
            db_pool: PoolSize {
                max: self.db_connections.max(1),
                ..defaults.db_pool
            },
            outbox_dir: self
                .outbox
                .or_else(|| self.dev.then(|| PathBuf::from(defaults::DEV_OUTBOX))),
            smtp_url: self.smtp_url,
            web_base: self.web_base,
            reset_token_ttl: Duration::from_secs(self.reset_token_ttl),
            account_sheet_ttl: Duration::from_secs(self.account_sheet_ttl),
            sheet_font: self.sheet_font,
            mail_lease: Duration::from_secs(self.mail_lease),
            metrics_listen: self.metrics_listen,
            forgot_interval: Duration::from_secs(self.forgot_interval),
            forgot_max_per_hour: self.forgot_max_per_hour,
            client_limit: self.client_rate_limit,
            client_window: Duration::from_secs(self.client_rate_window),
            dev: self.dev,
            trusted_proxies: self.trusted_proxies,
            hash_workers: self.hash_workers.unwrap_or(defaults.hash_workers),
            hash_queue: self.hash_queue.unwrap_or(defaults.hash_queue),
            max_connections: self.max_connections,
            max_connections_per_client: self.max_connections_per_client,
            header_read_timeout: Duration::from_secs(self.read_timeout),
            body_read_timeout: Duration::from_secs(self.read_timeout),
            request_timeout: Duration::from_secs(self.request_timeout),
            android_package: self.android_package,
            android_cert_sha256: match self
                .android_cert_sha256
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
            {
                given if given.is_empty() => defaults.android_cert_sha256.clone(),
                given => given,
            },
            apple_app_id: self.apple_app_id,
            ..defaults
        }
    }
}

/// Makes room for `--max-connections` sockets besides the database, log and mail files: raises the
/// soft limit on open files as far as the hard limit allows, and serves fewer connections when
/// even that is too low (so the cap, not the accept loop, is what turns clients away).
fn fit_connections_to_file_limit(config: &mut Config) {
    const SPARE: u64 = 64;
    let wanted = config.max_connections as u64 + SPARE;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) if limit < wanted => {
            let fits = limit.saturating_sub(SPARE).max(1) as usize;
            tracing::warn!(
                limit,
                max_connections = fits,
                "the open-file limit is lower than --max-connections needs: serving fewer connections"
            );
            config.max_connections = fits;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
}

/// A CIDR (`10.0.0.0/8`) or a single address (`10.0.0.2`).
fn parse_net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is neither a CIDR (10.0.0.0/8) nor an IP address"))
}

async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let term = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match args.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
        LogFormat::Json => unipos_server::json_log(filter, std::io::stderr).init(),
    }
    let mut config = args.into_config();
    fit_connections_to_file_limit(&mut config);
    let dev = config.dev;
    let server = spawn(config).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", server.addr())?;
        if let Some(at) = server.metrics_addr() {
            writeln!(out, "metrics on http://{at}/metrics")?;
        }
        if dev {
            for line in dev::banner() {
                writeln!(out, "{line}")?;
            }
        }
        out.flush()?;
    }
    stop_signal().await;
    tracing::info!("stopping");
    server.shutdown().await
}
