//! The HTTP/1.1 accept loop, with the limits a public endpoint needs: a cap on open connections
//! in all and per client address (so one client cannot take every slot), and a deadline for
//! every request head (also while a kept-alive connection sits idle), so
//! clients that send half a request and wait cannot hold sockets for ever. Body and whole-request
//! deadlines are enforced per request (see `extract.rs`).
//!
//! A client address past its cap is answered, as nginx's `limit_conn` does, rather than cut off:
//! its request head is read, then a 503 `too_many_connections` with `Retry-After` is sent and
//! the connection closed, so an app shows what happened instead of a network failure.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use ipnet::IpNet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;
use unipos_protocol::{ErrorCode, ErrorEnvelope};

use crate::client_addr::{bucket, is_trusted};

/// Connection limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    /// Per client address (an IPv6 /64); trusted proxies, which carry everyone, are exempt.
    pub max_connections_per_client: usize,
    pub trusted_proxies: Vec<IpNet>,
    pub header_read_timeout: Duration,
}

/// Open connections per client.
#[derive(Default)]
struct PerClient(Mutex<HashMap<String, usize>>);

impl PerClient {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let key = bucket(ip.to_canonical());
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key.clone()).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            key,
            all: self.clone(),
        })
    }
}

/// A client's open connection; dropping it gives the slot back.
struct ClientSlot {
    key: String,
    all: Arc<PerClient>,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.all.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// Serves `app` on `listener` until `stop` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Refusals answered at once; past these, a refused connection is only closed.
    let answering = Arc::new(Semaphore::new(REFUSALS_ANSWERED_AT_ONCE));
    let per_client = Arc::new(PerClient::default());
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(64);
    let mut last_refusal_log: Option<Instant> = None;
    tokio::pin!(stop);
    let mut stopping = false;
    loop {
        let accepted = if stopping {
            // Connections the kernel completed but nobody accepted yet would be reset when the
            // listener closes, their requests cut: take them too, then close.
            match tokio::time::timeout(Duration::ZERO, listener.accept()).await {
                Ok(accepted) => accepted,
                Err(_) => break,
            }
        } else {
            tokio::select! {
                accepted = listener.accept() => accepted,
                () = &mut stop => {
                    stopping = true;
                    continue;
                }
            }
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(_) if stopping => break,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let client_slot = if is_trusted(peer.ip(), &limits.trusted_proxies) {
            None
        } else {
            match per_client.take(peer.ip(), limits.max_connections_per_client) {
                Some(slot) => Some(slot),
                None => {
                    refused(
                        &mut last_refusal_log,
                        "too many open connections from one client",
                    );
                    if let Ok(permit) = answering.clone().try_acquire_owned() {
                        tokio::spawn(async move {
                            answer_too_many_connections(stream).await;
                            drop(permit);
                        });
                    }
                    continue;
                }
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // At the cap: close at once rather than queue a socket nobody will serve soon.
            refused(&mut last_refusal_log, "too many open connections");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection closed with an error");
            }
            drop((slot, client_slot));
        });
    }
    drop(listener);
    // A connection told to close while idle closes at once, and one accepted a moment ago is
    // idle until its request is read: give those requests a moment to be read (they are then in
    // flight and answered), then close what is idle and wait for what is not.
    tokio::time::sleep(READ_WHAT_WAS_SENT).await;
    graceful.shutdown().await;
    Ok(())
}

/// How long, once told to stop, connections may still start a request before idle ones close.
const READ_WHAT_WAS_SENT: Duration = Duration::from_millis(300);

/// How many refused connections are answered at the same time (each for at most
/// [`REFUSAL_DEADLINE`]); more are closed without an answer.
const REFUSALS_ANSWERED_AT_ONCE: usize = 256;
/// How long a refused connection may take to send its request head and take the answer.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(2);
/// The wait a client past its connection cap is told.
pub const TOO_MANY_CONNECTIONS_RETRY_S: u32 = 2;

/// Reads the refused connection's request head (so that closing does not reset the answer
/// away), answers 503 `too_many_connections` with `Retry-After`, and closes.
async fn answer_too_many_connections(mut stream: TcpStream) {
    let answer = async {
        let mut head = Vec::with_capacity(1024);
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            head.extend_from_slice(&buf[..n]);
        }
        let mut envelope = ErrorEnvelope::new(
            ErrorCode::TooManyConnections,
            crate::error::default_message(ErrorCode::TooManyConnections),
        );
        envelope.error.retry_after_s = Some(TOO_MANY_CONNECTIONS_RETRY_S);
        let body = serde_json::to_string(&envelope).unwrap_or_default();
        let response = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
             retry-after: {TOO_MANY_CONNECTIONS_RETRY_S}\r\ncache-control: no-store\r\n\
             x-request-id: {}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            uuid::Uuid::new_v4(),
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(REFUSAL_DEADLINE, answer).await;
}

/// Logs a refused connection, at most once every five seconds (a flood must not flood the log).
fn refused(last: &mut Option<Instant>, why: &'static str) {
    if last.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
        tracing::warn!(why, "connection refused");
        *last = Some(Instant::now());
    }
}
