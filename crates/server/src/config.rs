//! Everything the server is told at start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use unipos_protocol::{app_links, BaseUrl};

use crate::clock::Clock;
use crate::db::{DbLocation, PoolSize};

/// The defaults of the command line, in one place: `unipos-server`'s flags (`default_value_t`)
/// and [`Config::default`] take them from here, and a test holds the table of flags in
/// crates/server/README.md to `unipos-server --help`.
pub mod defaults {
    use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
    use std::time::Duration;

    /// `--listen`
    pub const LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8787));
    /// `--db`
    pub const DB: &str = ".data/unipos-server.sqlite3";
    /// `--db-connections`
    pub const DB_CONNECTIONS: u32 = 16;
    /// How long a request waits for a PostgreSQL connection before 503 `server_busy`.
    pub const DB_WAIT: Duration = Duration::from_secs(5);
    /// `--outbox` with `--dev`.
    pub const DEV_OUTBOX: &str = ".data/outbox";
    /// `--reset-token-ttl`, seconds.
    pub const RESET_TOKEN_TTL_S: u64 = 3600;
    /// `--account-sheet-ttl`, seconds (7 days).
    pub const ACCOUNT_SHEET_TTL_S: u64 = 7 * 24 * 3600;
    /// `--mail-lease`, seconds.
    pub const MAIL_LEASE_S: u64 = 10;
    /// `--forgot-interval`, seconds.
    pub const FORGOT_INTERVAL_S: u64 = 60;
    /// `--forgot-max-per-hour`
    pub const FORGOT_MAX_PER_HOUR: u32 = 5;
    /// `--client-rate-limit`
    pub const CLIENT_RATE_LIMIT: u32 = 300;
    /// `--client-rate-window`, seconds.
    pub const CLIENT_RATE_WINDOW_S: u64 = 300;
    /// `--hash-queue`: this many per core.
    pub const HASH_QUEUE_PER_CORE: usize = 64;
    /// How long a password check waits for a hashing worker before 503 `server_busy`.
    pub const HASH_WAIT: Duration = Duration::from_secs(2);
    /// `--max-connections`
    pub const MAX_CONNECTIONS: usize = 4096;
    /// `--max-connections-per-client`
    pub const MAX_CONNECTIONS_PER_CLIENT: usize = 32;
    /// `--read-timeout`, seconds.
    pub const READ_TIMEOUT_S: u64 = 10;
    /// `--request-timeout`, seconds.
    pub const REQUEST_TIMEOUT_S: u64 = 30;
}

/// How the server runs. [`Config::default`] matches the command line's defaults (tests that start
/// the server in-process use `Config::for_tests`, of the `testing` feature).
#[derive(Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free one (see [`RunningServer::addr`](crate::RunningServer::addr)).
    pub listen: SocketAddr,
    /// The SQLite file (created if missing, or `:memory:`), or a PostgreSQL database.
    pub db: DbLocation,
    /// PostgreSQL only: connections kept at most, and how long a request waits for one.
    pub db_pool: PoolSize,
    /// Where each mail is written as an `.eml` file when no SMTP relay is set; `None` writes none
    /// (the dev outbox still lists them).
    pub outbox_dir: Option<PathBuf>,
    /// An SMTP relay (`smtps://user:pass@host`, `smtp://host:587?tls=required`, or plain
    /// `smtp://` to a relay on this machine); when set, mail goes there instead of the outbox
    /// folder.
    pub smtp_url: Option<String>,
    /// Base of the links in reset mails (`{web}/reset_password?token=…`). `None`: this server's
    /// own address, which serves the reset page.
    pub web_base: Option<BaseUrl>,
    /// How long a reset link works.
    pub reset_token_ttl: Duration,
    /// How long the QR code of an Account Information sheet works (longer than a mail's link:
    /// the sheet is printed and handed over by hand).
    pub account_sheet_ttl: Duration,
    /// The font Account Information sheets are set in (Latin and Japanese); `None` looks in the
    /// usual places for Noto Sans CJK (`fonts-noto-cjk`) or Hiragino.
    pub sheet_font: Option<PathBuf>,
    /// How long an instance holds the mail it is sending before another (or itself, restarted)
    /// may take it over. Renewed every third of it while the delivery runs, so it need not
    /// cover a slow relay: a mail held by an instance that died goes out a lease later.
    pub mail_lease: Duration,
    /// Where `GET /metrics` is served (Prometheus text format); `None`: nowhere.
    pub metrics_listen: Option<SocketAddr>,
    /// How long a session works.
    pub session_ttl: Duration,
    /// At most one reset mail per address per this interval (also the `resend_after_s` answered).
    pub forgot_interval: Duration,
    /// At most this many reset mails per address per hour.
    pub forgot_max_per_hour: u32,
    /// Requests one client address may make to the unauthenticated endpoints per `client_window`
    /// (generous: an office shares one address).
    pub client_limit: u32,
    pub client_window: Duration,
    /// Failed logins per login key within `lockout_window` that lock it, for `lockout_window`
    /// after the last of them.
    pub lockout_threshold: u32,
    pub lockout_window: Duration,
    /// Password hashes (argon2id, 19 MiB each) computed at once; default: the number of cores.
    pub hash_workers: usize,
    /// Password checks that may wait for a worker (default: 64 per core; a waiting check holds
    /// no hashing memory); past them, and after `hash_wait`, the answer is 503 `server_busy`.
    pub hash_queue: usize,
    pub hash_wait: Duration,
    /// A connection that has not sent a whole request head within this time (also between
    /// requests on a kept-alive connection) is closed.
    pub header_read_timeout: Duration,
    /// A request body not received whole within this time is answered 408 `request_timeout`.
    pub body_read_timeout: Duration,
    /// A request not answered within this time is answered 408 `request_timeout`.
    pub request_timeout: Duration,
    /// Open connections at most; further ones are closed at once.
    pub max_connections: usize,
    /// Open connections from one client address (an IPv6 /64) at most; trusted proxies are
    /// exempt.
    pub max_connections_per_client: usize,
    /// Proxies (a TLS terminator) whose `X-Forwarded-For` is believed. Without any, forwarding
    /// headers are ignored and the peer address is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// Seed the demo organisation and serve the `/dev` endpoints (loopback addresses only).
    pub dev: bool,
    /// `/.well-known/assetlinks.json`
    pub android_package: String,
    pub android_cert_sha256: Vec<String>,
    /// `/.well-known/apple-app-site-association`
    pub apple_app_id: String,
    /// The clock every expiry, lockout and rate limit reads; tests may advance it.
    pub clock: Clock,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: defaults::LISTEN,
            db: DbLocation::Sqlite(PathBuf::from(defaults::DB)),
            db_pool: PoolSize::default(),
            outbox_dir: Some(PathBuf::from(defaults::DEV_OUTBOX)),
            smtp_url: None,
            web_base: None,
            reset_token_ttl: Duration::from_secs(defaults::RESET_TOKEN_TTL_S),
            account_sheet_ttl: Duration::from_secs(defaults::ACCOUNT_SHEET_TTL_S),
            sheet_font: None,
            mail_lease: Duration::from_secs(defaults::MAIL_LEASE_S),
            metrics_listen: None,
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            forgot_interval: Duration::from_secs(defaults::FORGOT_INTERVAL_S),
            forgot_max_per_hour: defaults::FORGOT_MAX_PER_HOUR,
            client_limit: defaults::CLIENT_RATE_LIMIT,
            client_window: Duration::from_secs(defaults::CLIENT_RATE_WINDOW_S),
            lockout_threshold: 10,
            lockout_window: Duration::from_secs(15 * 60),
            hash_workers: cores(),
            hash_queue: defaults::HASH_QUEUE_PER_CORE * cores(),
            hash_wait: defaults::HASH_WAIT,
            header_read_timeout: Duration::from_secs(defaults::READ_TIMEOUT_S),
            body_read_timeout: Duration::from_secs(defaults::READ_TIMEOUT_S),
            request_timeout: Duration::from_secs(defaults::REQUEST_TIMEOUT_S),
            max_connections: defaults::MAX_CONNECTIONS,
            max_connections_per_client: defaults::MAX_CONNECTIONS_PER_CLIENT,
            trusted_proxies: Vec::new(),
            dev: false,
            android_package: app_links::ANDROID_PACKAGE.to_owned(),
            android_cert_sha256: app_links::ANDROID_CERT_SHA256
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            apple_app_id: app_links::apple_app_id(),
            clock: Clock::system(),
        }
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Config {
    /// Refuses settings that would expose the service: the password-less dev endpoints on a
    /// network address, live reset links sent unencrypted over the network, or written to disk
    /// without being asked to.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.dev && !self.listen.ip().is_loopback() {
            anyhow::bail!(
                "--dev serves password-less sessions (/api/v1/dev/sessions) and demo data, so it \
                 listens on loopback only: use --listen 127.0.0.1:PORT (or [::1]:PORT), or leave \
                 out --dev to serve {}",
                self.listen
            );
        }
        if let Some(url) = &self.smtp_url {
            check_smtp_url(url)?;
        }
        if !self.dev && self.smtp_url.is_none() && self.outbox_dir.is_none() {
            anyhow::bail!(
                "mail has nowhere to go: give --smtp-url to send it, or --outbox DIR to write \
                 each mail (with its live reset link) to DIR as an .eml file"
            );
        }
        for fingerprint in &self.android_cert_sha256 {
            anyhow::ensure!(
                app_links::is_cert_fingerprint(fingerprint),
                "--android-cert-sha256: {fingerprint:?} is not a SHA-256 fingerprint (32 \
                 upper-case hex bytes joined by colons, as keytool -list -v prints them)"
            );
        }
        anyhow::ensure!(
            app_links::team_of_app_id(&self.apple_app_id)
                .is_some_and(|team| team == app_links::APPLE_TEAM_ID || app_links::is_team_id(team)),
            "--apple-app-id: {:?} is not TEAMID.bundle.id with a ten-character Apple team ID",
            self.apple_app_id
        );
        anyhow::ensure!(
            self.mail_lease >= std::time::Duration::from_secs(1),
            "--mail-lease must be at least 1 second"
        );
        anyhow::ensure!(
            self.hash_workers > 0
                && self.max_connections > 0
                && self.max_connections_per_client > 0,
            "--hash-workers, --max-connections and --max-connections-per-client must be at least 1"
        );
        Ok(())
    }
}

/// Refuses a relay that mail would reach unencrypted: `smtp://` without `tls=required` (no TLS,
/// or STARTTLS that anyone on the way can strip) to a host off this machine. Reset mails carry
/// live links. Never repeats the URL: it may carry the relay's password.
fn check_smtp_url(url: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).map_err(|_| {
        anyhow::anyhow!(
            "--smtp-url is not a URL: give smtps://USER:PASSWORD@HOST:465, or \
             smtp://HOST:587?tls=required"
        )
    })?;
    if parsed.scheme() != "smtp" {
        // smtps:// is TLS from the start; anything else the mailer refuses itself.
        return Ok(());
    }
    let tls_required = parsed
        .query_pairs()
        .any(|(key, value)| key == "tls" && value == "required");
    let on_this_machine = match parsed.host() {
        // smtp: is no special scheme to the URL standard, so an IPv4 address comes as a name.
        Some(url::Host::Domain(name)) => match name.parse::<std::net::Ipv4Addr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => name.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        },
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if tls_required || on_this_machine {
        return Ok(());
    }
    let host = parsed.host_str().unwrap_or("the relay");
    anyhow::bail!(
        "--smtp-url smtp:// without tls=required would send mail, with its live reset links, \
         unencrypted to {host}: give smtps://{host}:465 (TLS from the start) or \
         smtp://{host}:587?tls=required (STARTTLS, refused when the relay does not offer it). \
         Plain smtp:// is for a relay on this machine only (127.0.0.1, [::1] or localhost)"
    )
}

impl Config {
    /// Whether Android can verify the reset links as the app's: a signing-certificate
    /// fingerprint is configured. Until then `assetlinks.json` is answered 404.
    pub fn android_app_links_verifiable(&self) -> bool {
        !self.android_cert_sha256.is_empty()
    }

    /// Whether iOS can verify the reset links as the app's: the app ID names a real team, not
    /// the placeholder. Until then `apple-app-site-association` is answered 404.
    pub fn apple_app_links_verifiable(&self) -> bool {
        app_links::team_of_app_id(&self.apple_app_id).is_some_and(app_links::is_team_id)
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("db", &self.db)
            .field("db_pool", &self.db_pool)
            .field("outbox_dir", &self.outbox_dir)
            // The relay URL may carry a password.
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("web_base", &self.web_base.as_ref().map(BaseUrl::as_str))
            .field("reset_token_ttl", &self.reset_token_ttl)
            .field("account_sheet_ttl", &self.account_sheet_ttl)
            .field("sheet_font", &self.sheet_font)
            .field("mail_lease", &self.mail_lease)
            .field("metrics_listen", &self.metrics_listen)
            .field("session_ttl", &self.session_ttl)
            .field("forgot_interval", &self.forgot_interval)
            .field("forgot_max_per_hour", &self.forgot_max_per_hour)
            .field("client_limit", &self.client_limit)
            .field("client_window", &self.client_window)
            .field("lockout_threshold", &self.lockout_threshold)
            .field("lockout_window", &self.lockout_window)
            .field("hash_workers", &self.hash_workers)
            .field("hash_queue", &self.hash_queue)
            .field("hash_wait", &self.hash_wait)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_client",
                &self.max_connections_per_client,
            )
            .field("trusted_proxies", &self.trusted_proxies)
            .field("dev", &self.dev)
            .field("android_package", &self.android_package)
            .field("android_cert_sha256", &self.android_cert_sha256)
            .field("apple_app_id", &self.apple_app_id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_goes_over_tls_or_to_a_relay_on_this_machine() {
        for url in [
            "smtps://user:pass@mail.example.com:465",
            "smtp://mail.example.com:587?tls=required",
            "smtp://user:pass@mail.example.com?tls=required",
            "smtp://127.0.0.1:2525",
            "smtp://127.0.0.2",
            "smtp://[::1]:25",
            "smtp://localhost:25",
            "smtp://LOCALHOST.",
        ] {
            assert!(check_smtp_url(url).is_ok(), "{url}");
        }
        for url in [
            "smtp://mail.example.com:25",
            "smtp://mail.example.com?tls=opportunistic",
            "smtp://mail.example.com?tls=none",
            "smtp://10.0.0.5",
            "smtp://localhost.example.com",
            "smtp://user:secret@[2001:db8::1]",
        ] {
            let refused = check_smtp_url(url).unwrap_err().to_string();
            assert!(refused.contains("smtps://"), "{refused}");
            assert!(refused.contains("tls=required"), "{refused}");
            assert!(!refused.contains("secret"), "{refused}");
        }
        assert!(check_smtp_url("not a url").is_err());
    }
}
