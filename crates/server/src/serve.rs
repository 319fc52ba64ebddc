//! The HTTP/1.1 accept loop, with the limits a public endpoint needs: a cap on open connections
//! in all and per client address (so one client cannot take every slot), and a deadline for
//! every request head (also while a kept-alive connection sits idle), so
//! clients that send half a request and wait cannot hold sockets for ever. Body and whole-request
//! deadlines are enforced per request (see `extract.rs`).

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
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

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
    let per_client = Arc::new(PerClient::default());
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(64);
    let mut last_refusal_log: Option<Instant> = None;
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
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
    graceful.shutdown().await;
    Ok(())
}

/// Logs a refused connection, at most once every five seconds (a flood must not flood the log).
fn refused(last: &mut Option<Instant>, why: &'static str) {
    if last.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
        tracing::warn!(why, "connection refused");
        *last = Some(Instant::now());
    }
}
