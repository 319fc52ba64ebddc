//! A small SMTP relay stand-in over real TCP on loopback, for the fault tests: it speaks enough
//! of RFC 5321 for lettre (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps what it accepted, and
//! can be taken down (connections refused), made to answer 451, or made to stall (accept and
//! never say a word).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A message the stand-in accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    /// Connections made to it (while up), in order.
    connections: Vec<Instant>,
    /// Answer `451` to this many more `MAIL FROM`s.
    fail_next: u32,
    /// Accept connections and never answer them.
    stall: bool,
}

pub struct SmtpStandIn {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl SmtpStandIn {
    /// Listening on a free loopback port.
    pub async fn start() -> SmtpStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = SmtpStandIn {
            addr: listener.local_addr().unwrap(),
            state: Arc::default(),
            accept: Mutex::new(None),
        };
        relay.serve(listener);
        relay
    }

    /// `smtp://127.0.0.1:PORT`, for `Config::smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    fn serve(&self, listener: TcpListener) {
        let state = self.state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let stall = {
                        let mut s = state.lock().unwrap();
                        s.connections.push(Instant::now());
                        s.stall
                    };
                    if stall {
                        // Silent until the stand-in comes to; then the connection is closed.
                        while state.lock().unwrap().stall {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        drop(stream);
                    } else {
                        let _ = session(stream, state).await;
                    }
                });
            }
        });
        *self.accept.lock().unwrap() = Some(task);
    }

    /// Down: the port refuses connections (and open sessions are left to end).
    pub fn down(&self) {
        if let Some(task) = self.accept.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Back up on the same port.
    pub async fn up(&self) {
        self.down();
        // The aborted task drops its listener; the port is free again at once (SO_REUSEADDR).
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        self.serve(listener);
    }

    pub fn fail_next(&self, n: u32) {
        self.state.lock().unwrap().fail_next = n;
    }

    pub fn stall(&self, stall: bool) {
        self.state.lock().unwrap().stall = stall;
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections.len()
    }

    /// Waits up to `within` for at least `n` accepted messages; answers all of them.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} mails at the relay within {within:?}, have {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits up to `within` for at least `n` connections in all.
    pub async fn wait_for_connections(&self, n: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.connections() < n {
            assert!(
                Instant::now() < deadline,
                "expected {n} connections at the relay within {within:?}, have {}",
                self.connections()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpStandIn {
    fn drop(&mut self) {
        self.down();
    }
}

async fn session(stream: tokio::net::TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 relay.test ESMTP stand-in\r\n")
        .await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let answer: &[u8] = match verb.as_str() {
            "EHLO" => b"250-relay.test\r\n250 8BITMIME\r\n",
            "HELO" => b"250 relay.test\r\n",
            "MAIL" => {
                let mut s = state.lock().unwrap();
                if s.fail_next > 0 {
                    s.fail_next -= 1;
                    b"451 4.3.0 try again later\r\n"
                } else {
                    to.clear();
                    b"250 OK\r\n"
                }
            }
            "RCPT" => {
                let addr = line
                    .split_once('<')
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map(|(addr, _)| addr.to_owned())
                    .unwrap_or_default();
                to.push(addr);
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if lines.read_line(&mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    data.push_str(&l);
                }
                state.lock().unwrap().received.push(Received {
                    to: std::mem::take(&mut to),
                    data,
                    at: Instant::now(),
                });
                b"250 OK queued\r\n"
            }
            "RSET" | "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(answer).await?;
    }
}
