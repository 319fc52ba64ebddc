//! What the tests of every layer share (the server's API tests, the client's, the app's commands,
//! the end-to-end tests): the reference server started in-process as in production (no `--dev`)
//! on a database seeded with the demo organisation, its mail waited for and its reset links
//! taken, and loopback ports held closed. A dev-dependency only: nothing here ships.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failure is the test's"
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use unipos_server::{Clock, Config, RunningServer, SentMail};

pub use unipos_server::dev::{
    DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_DISPLAY_NAME, DEMO_EMAIL, DEMO_LOGIN_ID,
    DEMO_LOGIN_ID_DISPLAY_NAME, DEMO_LOGIN_ID_PASSWORD, DEMO_PASSWORD, DEMO_SSO_EMAIL, DEMO_TEAM,
};

/// How long a test waits for mail the background deliverer sends.
pub const MAIL_PATIENCE: Duration = Duration::from_secs(10);

/// The reference server of one test, in a folder of its own: its database (a SQLite file, or a
/// PostgreSQL database under `UNIPOS_TEST_POSTGRES`) and its mail, as `.eml` files.
pub struct TestBackend {
    server: Option<RunningServer>,
    /// The server's clock: tests move it forward instead of sleeping.
    pub clock: Clock,
    pub dir: tempfile::TempDir,
}

impl TestBackend {
    pub async fn start() -> TestBackend {
        TestBackend::start_with(|_| {}).await
    }

    /// A server as in production (no `--dev`, unless `configure` says so), on a database seeded
    /// with the demo organisation, with its mail written to `dir/outbox`.
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> TestBackend {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(dir.path());
        configure(&mut config);
        let clock = config.clock.clone();
        let server = unipos_server::testing::spawn_with_demo(config)
            .await
            .expect("the server starts");
        TestBackend {
            server: Some(server),
            clock,
            dir,
        }
    }

    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("the server is running")
    }

    /// The server, unless [`TestBackend::shutdown`] stopped it.
    pub fn running(&self) -> Option<&RunningServer> {
        self.server.as_ref()
    }

    /// Stops the server as SIGTERM would; the folder (database, mail) stays.
    pub async fn shutdown(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
    }

    /// The mail to `to` so far, oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<SentMail> {
        self.server()
            .outbox()
            .into_iter()
            .filter(|m| m.to.eq_ignore_ascii_case(to))
            .collect()
    }

    /// Waits until `to` has received `count` mails and the deliverer is done with them (a
    /// mail's file appears before its link is recorded), and answers all of them.
    pub async fn wait_for_mails(&self, to: &str, count: usize) -> Vec<SentMail> {
        let deadline = Instant::now() + MAIL_PATIENCE;
        loop {
            let mails = self.mails_to(to);
            if mails.len() >= count && !self.server().delivering_mail() {
                return mails;
            }
            assert!(
                Instant::now() < deadline,
                "no mail #{count} to {to} within {MAIL_PATIENCE:?}: {mails:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The reset links mailed to `to` so far, oldest first: one per reset mail, in whichever
    /// language it was written (a "password changed" notice has none).
    pub fn reset_links(&self, to: &str) -> Vec<String> {
        let prefix = format!(
            "{}/reset_password?token=",
            self.server().web_base().as_str()
        );
        self.mails_to(to)
            .into_iter()
            .filter_map(|m| m.links.into_iter().find(|l| l.starts_with(&prefix)))
            .collect()
    }

    /// The link of reset mail #`nth` to `to` (counting from 1), once it is there and the
    /// deliverer is done with it.
    pub async fn reset_link(&self, to: &str, nth: usize) -> String {
        let deadline = Instant::now() + MAIL_PATIENCE;
        loop {
            let links = self.reset_links(to);
            if links.len() >= nth && !self.server().delivering_mail() {
                return links[nth - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "no reset mail #{nth} to {to} within {MAIL_PATIENCE:?}: {:?}",
                self.mails_to(to)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The `.eml` files the server wrote.
    pub fn eml_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path().join("outbox"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The token of a reset link (`…?token=TOKEN`).
pub fn token_of(link: &str) -> String {
    link.split_once("token=")
        .map(|(_, token)| token.to_owned())
        .unwrap_or_else(|| panic!("no token in {link}"))
}

/// A loopback port held bound but not listening: connections to it are refused (a server that
/// is down), and nothing else can take it, unlike a port that was free a moment ago. A listener
/// that sets `SO_REUSEADDR` (tokio's, GLib's) can still bind it later, or
/// [`HeldPort::listen`] turns the hold itself into the listener (a server that comes back).
/// Close-on-exec: a process the test starts does not inherit the hold. Dropping it frees the
/// port.
pub struct HeldPort {
    socket: socket2::Socket,
    addr: SocketAddr,
}

impl HeldPort {
    pub fn new() -> HeldPort {
        use socket2::{Domain, Protocol, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        socket.set_reuse_address(true).unwrap();
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .unwrap();
        let addr = socket.local_addr().unwrap().as_socket().unwrap();
        HeldPort { socket, addr }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A server appears on the port: from now on connections are accepted (on a tokio runtime).
    pub fn listen(self) -> tokio::net::TcpListener {
        self.socket.listen(16).unwrap();
        self.socket.set_nonblocking(true).unwrap();
        tokio::net::TcpListener::from_std(self.socket.into()).unwrap()
    }
}

impl Default for HeldPort {
    fn default() -> HeldPort {
        HeldPort::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_held_port_refuses_connections_until_it_listens() {
        let port = HeldPort::new();
        let addr = port.addr();
        let refused = tokio::net::TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        let listener = port.listen();
        let (connected, accepted) =
            tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
        connected.unwrap();
        accepted.unwrap();
    }

    #[test]
    fn the_token_is_what_follows_token_in_the_link() {
        assert_eq!(
            token_of("https://unipos.me/reset_password?token=abc-DEF_1"),
            "abc-DEF_1"
        );
    }
}
