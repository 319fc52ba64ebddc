//! `unipos-server`: runs the reference API. Every flag can also be set through its environment
//! variable; see `unipos-server --help` and crates/server/README.md.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::Parser;
use tracing_subscriber::EnvFilter;
use unipos_protocol::BaseUrl;
use unipos_server::{dev, spawn, Config};

/// The reference implementation of the Unipos password-reset API.
#[derive(Debug, Parser)]
#[command(name = "unipos-server", version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free one. The first line on stdout is
    /// `listening on http://ADDR`.
    #[arg(long, env = "UNIPOS_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,

    /// SQLite database file (created and migrated at start), or `:memory:`.
    #[arg(long, env = "UNIPOS_DB", default_value = ".data/unipos-server.sqlite3")]
    db: PathBuf,

    /// Folder where each mail is written as an .eml file (when no --smtp-url is given).
    #[arg(long, env = "UNIPOS_OUTBOX", default_value = ".data/outbox")]
    outbox: PathBuf,

    /// Base URL of the links in reset mails ({web}/reset_password?token=…). Default: this
    /// server's own address, which serves the reset page.
    #[arg(long, env = "UNIPOS_WEB_BASE")]
    web_base: Option<BaseUrl>,

    /// How long a reset link works, in seconds.
    #[arg(
        long,
        env = "UNIPOS_RESET_TOKEN_TTL",
        value_name = "SECONDS",
        default_value_t = 3600
    )]
    reset_token_ttl: u64,

    /// SMTP relay to send mail through (smtp://host:25, smtps://user:pass@host:465,
    /// smtp://host:587?tls=required). Without it mail goes to --outbox.
    #[arg(long, env = "UNIPOS_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,

    /// Seed the demo organisation (credentials are printed) and serve the /api/v1/dev endpoints.
    #[arg(long, env = "UNIPOS_DEV", value_parser = BoolishValueParser::new(), default_value_t = false)]
    dev: bool,

    /// At most one reset mail per address per this many seconds (also the resend countdown).
    #[arg(
        long,
        env = "UNIPOS_FORGOT_INTERVAL",
        value_name = "SECONDS",
        default_value_t = 60
    )]
    forgot_interval: u64,

    /// At most this many reset mails per address per hour.
    #[arg(long, env = "UNIPOS_FORGOT_MAX_PER_HOUR", default_value_t = 5)]
    forgot_max_per_hour: u32,

    /// Requests one client address may make to the login and reset endpoints per
    /// --client-rate-window.
    #[arg(long, env = "UNIPOS_CLIENT_RATE_LIMIT", default_value_t = 300)]
    client_rate_limit: u32,

    /// The window of --client-rate-limit, in seconds.
    #[arg(
        long,
        env = "UNIPOS_CLIENT_RATE_WINDOW",
        value_name = "SECONDS",
        default_value_t = 300
    )]
    client_rate_window: u64,

    /// Android package name in /.well-known/assetlinks.json.
    #[arg(
        long,
        env = "UNIPOS_ANDROID_PACKAGE",
        default_value = "me.unipos.account"
    )]
    android_package: String,

    /// SHA-256 fingerprints of the Android signing certificate (comma-separated).
    #[arg(long, env = "UNIPOS_ANDROID_CERT_SHA256", value_delimiter = ',')]
    android_cert_sha256: Vec<String>,

    /// iOS app ID (TEAMID.bundle.id) in /.well-known/apple-app-site-association.
    #[arg(
        long,
        env = "UNIPOS_APPLE_APP_ID",
        default_value = "TEAMID.me.unipos.account"
    )]
    apple_app_id: String,
}

impl Args {
    fn into_config(self) -> Config {
        Config {
            listen: self.listen,
            db: self.db,
            outbox_dir: Some(self.outbox),
            smtp_url: self.smtp_url,
            web_base: self.web_base,
            reset_token_ttl: Duration::from_secs(self.reset_token_ttl),
            forgot_interval: Duration::from_secs(self.forgot_interval),
            forgot_max_per_hour: self.forgot_max_per_hour,
            client_limit: self.client_rate_limit,
            client_window: Duration::from_secs(self.client_rate_window),
            dev: self.dev,
            android_package: self.android_package,
            android_cert_sha256: self
                .android_cert_sha256
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            apple_app_id: self.apple_app_id,
            ..Config::default()
        }
    }
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
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = Args::parse().into_config();
    let dev = config.dev;
    let server = spawn(config).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", server.addr())?;
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
