//! The reference API tried as an attacker would, on loopback only: each row starts its own
//! `unipos-server` (the binary given with `--server`) on 127.0.0.1 with a throw-away database,
//! attacks it within a bounded count and time, and prints what it measured. Run it through
//! `scripts/abuse-bench.sh`, which builds the release binaries first.
//!
//! Attacking clients use source addresses 127.0.0.2–127.0.0.21 (all of 127.0.0.0/8 is this
//! machine), the "normal request" that measures latency comes from 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: a failure stops it, with its reason"
)]

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const MEMBER_PASSWORD: &str = "Quiet-harbor-42";

struct Server {
    child: Child,
    base: String,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(bin: &Path, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let mut child = Command::new(bin)
            .args(["--dev", "--listen", "127.0.0.1:0"])
            .arg("--db")
            .arg(dir.path().join("db.sqlite3"))
            .arg("--outbox")
            .arg(dir.path().join("outbox"))
            .args(extra)
            .env("RUST_LOG", "info,unipos_server::hashing=debug")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the server starts");
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        // Keep reading: the server writes its banner after the first line.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let base = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_owned();
        let addr = base.trim_start_matches("http://").parse().unwrap();
        Server {
            child,
            base,
            addr,
            log,
            _dir: dir,
        }
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// argon2 runs so far (the hasher logs each at debug level).
    fn hash_runs(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches("password hashing ran")
            .count()
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    fn peak_rss_mib(&self) -> f64 {
        self.status_kib("VmHWM:") as f64 / 1024.0
    }

    fn rss_mib(&self) -> f64 {
        self.status_kib("VmRSS:") as f64 / 1024.0
    }

    /// Starts the peak-RSS count afresh (Linux: `5` to clear_refs).
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Adds an email member and answers their address.
    async fn member(&self, http: &reqwest::Client, local: &str) -> String {
        let email = format!("{local}@bench.example");
        let status = http
            .post(self.api("/dev/users"))
            .json(&json!({
                "email": email, "password": MEMBER_PASSWORD,
                "display_name": "Bench Member", "login_method": "email"
            }))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 201, "adding {email}");
        email
    }

    async fn session(&self, http: &reqwest::Client, email: &str, password: &str) -> String {
        let reply: Value = http
            .post(self.api("/sessions"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reply["session"]["token"].as_str().unwrap().to_owned()
    }

    /// Asks for a reset mail and answers the token of its link.
    async fn reset_token(&self, http: &reqwest::Client, email: &str) -> String {
        let status = http
            .post(self.api("/password/forgot"))
            .json(&json!({ "email": email }))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 202);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let outbox: Value = http
                .get(self.api(&format!("/dev/outbox?to={email}")))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(link) = outbox["messages"]
                .as_array()
                .and_then(|m| m.last())
                .and_then(|m| m["links"][0].as_str())
            {
                return link.split_once("token=").unwrap().1.to_owned();
            }
            assert!(Instant::now() < deadline, "no mail to {email}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client whose connections come from `source`.
fn client_from(source: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(source))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn attacker(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + (n % 20) as u8)
}

/// Status of each reply, 0 for a request that got no answer (connection refused or reset).
async fn all_at_once(clients: &[reqwest::Client], url: &str, bodies: Vec<Value>) -> Vec<u16> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let (http, url) = (clients[i % clients.len()].clone(), url.to_owned());
            tokio::spawn(async move {
                match http.post(url).json(&body).send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                }
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

fn tally(statuses: &[u16]) -> String {
    let mut counts: Vec<(u16, usize)> = Vec::new();
    for &s in statuses {
        match counts.iter_mut().find(|(k, _)| *k == s) {
            Some((_, n)) => *n += 1,
            None => counts.push((s, 1)),
        }
    }
    counts.sort();
    counts
        .iter()
        .map(|(s, n)| match s {
            0 => format!("{n} failed to connect"),
            s => format!("{n}×{s}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The status of one request (0 when it got no answer).
async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// A login's status.
async fn login(s: &Server, http: &reqwest::Client, email: &str, password: &str) -> u16 {
    status_of(
        http.post(s.api("/sessions"))
            .json(&json!({ "email": email, "password": password })),
    )
    .await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}

/// `GET /me` every 50 ms from 127.0.0.1 while an attack runs: the latencies of a normal request.
struct Probe {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Option<Duration>>>,
}

impl Probe {
    fn start(server: &Server, token: &str) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, token, flag) = (server.api("/me"), token.to_owned(), stop.clone());
        let http = client_from(Ipv4Addr::LOCALHOST);
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                let t = Instant::now();
                let ok = http
                    .get(&url)
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
                seen.push(ok.then(|| t.elapsed()));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            seen
        });
        Probe { stop, task }
    }

    async fn finish(self) -> String {
        self.stop.store(true, Ordering::SeqCst);
        let seen = self.task.await.unwrap();
        let mut ok: Vec<Duration> = seen.iter().flatten().copied().collect();
        ok.sort();
        let failed = seen.len() - ok.len();
        let median = ok.get(ok.len() / 2).copied().unwrap_or_default();
        let max = ok.last().copied().unwrap_or_default();
        format!(
            "{} probes, median {}, max {}{}",
            seen.len(),
            ms(median),
            ms(max),
            if failed > 0 {
                format!(", {failed} failed")
            } else {
                String::new()
            }
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One normal request right now: its latency.
async fn normal_request(server: &Server, token: &str) -> String {
    let http = client_from(Ipv4Addr::LOCALHOST);
    let t = Instant::now();
    let status = http
        .get(server.api("/me"))
        .bearer_auth(token)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    format!("{} in {}", status, ms(t.elapsed()))
}

struct Row {
    tried: &'static str,
    measured: String,
    met: bool,
}

async fn parallel_wrong_passwords(bin: &Path) -> Row {
    let s = Server::start(bin, &["--client-rate-limit", "100000"]).await;
    let http = client_from(Ipv4Addr::LOCALHOST);
    let email = s.member(&http, "lock").await;
    let clients: Vec<_> = (0..20).map(|n| client_from(attacker(n))).collect();
    let before = s.hash_runs();
    let guesses = (0..100)
        .map(|n| json!({ "email": email, "password": format!("Guess-number-{n}") }))
        .collect();
    let t = Instant::now();
    let statuses = all_at_once(&clients, &s.api("/sessions"), guesses).await;
    let took = t.elapsed();
    let checks = s.hash_runs() - before;
    let right = login(&s, &http, &email, MEMBER_PASSWORD).await;
    Row {
        tried: "100 wrong passwords for one account, sent at once",
        measured: format!(
            "{} in {}; argon2 ran {checks} times; then the right password: {right}",
            tally(&statuses),
            ms(took)
        ),
        met: checks <= 10 && count(&statuses, 401) + count(&statuses, 423) == 100 && right == 423,
    }
}

async fn wrong_current_passwords(bin: &Path) -> Row {
    let s = Server::start(bin, &[]).await;
    let http = client_from(Ipv4Addr::LOCALHOST);
    let email = s.member(&http, "oracle").await;
    let token = s.session(&http, &email, MEMBER_PASSWORD).await;
    let mut statuses = Vec::new();
    for n in 0..30 {
        let status = status_of(http.put(s.api("/me/password")).bearer_auth(&token).json(&json!({
            "current_password": format!("Wrong-current-{n}"),
            "new_password": "Brand-new-secret-7", "new_password_confirmation": "Brand-new-secret-7"
        })))
        .await;
        statuses.push(status);
    }
    let login = login(&s, &http, &email, MEMBER_PASSWORD).await;
    Row {
        tried: "30 wrong current passwords on PUT /me/password with one session",
        measured: format!(
            "{} (the 10th locks); then a login with the right password: {login}",
            tally(&statuses)
        ),
        met: count(&statuses, 422) == 9 && count(&statuses, 423) == 21 && login == 423,
    }
}

async fn reset_link_after_change(bin: &Path) -> Row {
    let s = Server::start(bin, &[]).await;
    let http = client_from(Ipv4Addr::LOCALHOST);
    let email = s.member(&http, "oldlink").await;
    let link_token = s.reset_token(&http, &email).await;
    let session = s.session(&http, &email, MEMBER_PASSWORD).await;
    let changed = status_of(http.put(s.api("/me/password")).bearer_auth(&session).json(&json!({
        "current_password": MEMBER_PASSWORD,
        "new_password": "Brand-new-secret-7", "new_password_confirmation": "Brand-new-secret-7"
    })))
    .await;
    let reset = http
        .post(s.api("/password/reset"))
        .json(&json!({
            "token": link_token, "new_password": "Attacker-choice-9",
            "new_password_confirmation": "Attacker-choice-9"
        }))
        .send()
        .await
        .unwrap();
    let status = reset.status().as_u16();
    let body: Value = reset.json().await.unwrap_or_default();
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    Row {
        tried: "a reset link mailed before the member changed the password in Settings",
        measured: format!("change {changed}; then the old link: {status} {code}"),
        met: changed == 200 && status == 410 && code == "token_expired",
    }
}

async fn full_width_password(bin: &Path) -> Row {
    let s = Server::start(bin, &[]).await;
    let http = client_from(Ipv4Addr::LOCALHOST);
    let email = s.member(&http, "ime-user").await;
    let token = s.reset_token(&http, &email).await;
    // "Ｎｅｗ－ｗｉｄｅ－ｐａｓｓ１" from an IME in full-width mode.
    let full: String = "New-wide-pass1"
        .chars()
        .map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap())
        .collect();
    let set =
        status_of(http.post(s.api("/password/reset")).json(
            &json!({ "token": token, "new_password": full, "new_password_confirmation": full }),
        ))
        .await;
    let login = login(&s, &http, &email, "New-wide-pass1").await;
    Row {
        tried: "a password set full-width, then login typed half-width",
        measured: format!("set {set}; login half-width {login}"),
        met: set == 200 && login == 201,
    }
}

async fn common_passwords(bin: &Path) -> Row {
    let s = Server::start(bin, &[]).await;
    let http = client_from(Ipv4Addr::LOCALHOST);
    let email = s.member(&http, "kenji.tanaka").await;
    let token = s.reset_token(&http, &email).await;
    let mut seen = Vec::new();
    let mut met = true;
    for password in ["password123", "Qwerty123!", "iloveyou1", "kenji.tanaka2024"] {
        let reply = http
            .post(s.api("/password/reset"))
            .json(&json!({ "token": token, "new_password": password, "new_password_confirmation": password }))
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        let body: Value = reply.json().await.unwrap_or_default();
        let failed = body["error"]["details"]["failed"].to_string();
        met &= status == 422 && failed == r#"["common_password"]"#;
        seen.push(format!("{password}: {status} {failed}"));
    }
    Row {
        tried: "the most common passwords, and one made from the member's address",
        measured: seen.join("; "),
        met,
    }
}

async fn login_flood(bin: &Path) -> Row {
    let s = Server::start(bin, &["--client-rate-limit", "100000"]).await;
    let http = client_from(Ipv4Addr::LOCALHOST);
    let email = s.member(&http, "probe").await;
    let token = s.session(&http, &email, MEMBER_PASSWORD).await;
    let clients: Vec<_> = (0..20).map(|n| client_from(attacker(n))).collect();
    let idle_rss = s.rss_mib();
    s.reset_peak();
    let probe = Probe::start(&s, &token);
    let logins = (0..200)
        .map(|n| json!({ "email": format!("nobody{n}@bench.example"), "password": "Any-password-1" }))
        .collect();
    let t = Instant::now();
    let statuses = all_at_once(&clients, &s.api("/sessions"), logins).await;
    let took = t.elapsed();
    let during = probe.finish().await;
    let after = normal_request(&s, &token).await;
    let peak = s.peak_rss_mib();
    Row {
        tried: "200 logins at once for unknown addresses",
        measured: format!(
            "{} in {}; peak RSS {peak:.0} MiB (idle {idle_rss:.0}); normal request during: {during}; right after: {after}",
            tally(&statuses),
            ms(took)
        ),
        met: peak < 400.0
            && count(&statuses, 0) == 0
            && count(&statuses, 401) + count(&statuses, 503) == 200
            && after.starts_with("200"),
    }
}

async fn half_requests(bin: &Path) -> Row {
    let s = Server::start(bin, &[]).await;
    let http = client_from(Ipv4Addr::LOCALHOST);
    let email = s.member(&http, "slow").await;
    let token = s.session(&http, &email, MEMBER_PASSWORD).await;
    let fds_before = s.open_fds();
    let probe = Probe::start(&s, &token);
    let mut streams = Vec::new();
    for n in 0..1000 {
        let socket = TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::new(IpAddr::V4(attacker(n)), 0))
            .unwrap();
        if let Ok(mut stream) = socket.connect(s.addr).await {
            let _ = stream
                .write_all(b"POST /api/v1/sessions HTTP/1.1\r\nHost: bench\r\nContent-Type: app")
                .await;
            streams.push(stream);
        }
    }
    let opened = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fds_peak = s.open_fds();
    let new_during = normal_request(&s, &token).await;
    // Wait (at most 40 s) until the server has closed every one of them.
    let closes: Vec<_> = streams
        .into_iter()
        .map(|stream| tokio::spawn(closed_after(stream, opened)))
        .collect();
    let mut times = Vec::new();
    for c in closes {
        times.push(c.await.unwrap());
    }
    let during = probe.finish().await;
    let at_once = times
        .iter()
        .flatten()
        .filter(|t| **t < Duration::from_secs(1))
        .count();
    let still_open = times.iter().filter(|t| t.is_none()).count();
    let last = times.iter().flatten().max().copied().unwrap_or_default();
    let fds_after = s.open_fds();
    Row {
        tried: "1,000 connections that send half a request and wait (from 20 addresses)",
        measured: format!(
            "{at_once} closed at once (connection caps), the rest dropped by {:.1} s, {still_open} still open; \
             server fds {fds_before} → {fds_peak} → {fds_after}; a new connection during: {new_during}; \
             kept-alive normal requests during: {during}",
            last.as_secs_f64()
        ),
        met: still_open == 0 && last < Duration::from_secs(30),
    }
}

/// When the server closed the connection (`None`: still open after 40 s).
async fn closed_after(mut stream: TcpStream, since: Instant) -> Option<Duration> {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::from_std(since + Duration::from_secs(40));
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(since.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return None,
        }
    }
}

async fn forwarded(bin: &Path, trusted: bool) -> (Vec<u16>, Vec<u16>) {
    let mut args = vec!["--client-rate-limit", "5"];
    if trusted {
        args.extend(["--trusted-proxy", "127.0.0.1/32"]);
    }
    let s = Server::start(bin, &args).await;
    let http = client_from(Ipv4Addr::LOCALHOST);
    let from = |xff: &'static str, n: usize| {
        let (http, url) = (http.clone(), s.api("/password/forgot"));
        async move {
            let mut statuses = Vec::new();
            for i in 0..n {
                let status = status_of(
                    http.post(&url)
                        .header("x-forwarded-for", xff)
                        .json(&json!({ "email": format!("m{i}.{}@bench.example", xff.len()) })),
                )
                .await;
                statuses.push(status);
            }
            statuses
        }
    };
    let a = from("6.6.6.6, 198.51.100.1", 6).await;
    let b = from("198.51.100.22", 2).await;
    (a, b)
}

async fn trusted_proxy(bin: &Path) -> Row {
    let (a, b) = forwarded(bin, true).await;
    let (x, y) = forwarded(bin, false).await;
    Row {
        tried: "a TLS proxy in front (client limit 5 per window)",
        measured: format!(
            "--trusted-proxy 127.0.0.1/32: client A {}, client B {}; without the flag (headers ignored): A {}, B {}",
            tally(&a),
            tally(&b),
            tally(&x),
            tally(&y)
        ),
        met: count(&a, 429) == 1 && count(&b, 202) == 2 && count(&y, 429) == 2,
    }
}

fn refused_start(bin: &Path, tried: &'static str, args: &[&str], must_say: &str) -> Row {
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir.path())
        .env_remove("UNIPOS_OUTBOX")
        .env_remove("UNIPOS_DEV")
        .env_remove("UNIPOS_SMTP_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or("").to_owned();
    Row {
        tried,
        measured: format!(
            "exit {} in {}: {first}",
            out.status.code().unwrap_or(-1),
            ms(t.elapsed())
        ),
        met: !out.status.success()
            && first.contains(must_say)
            && !dir.path().join(".data").exists(),
    }
}

async fn cache_control(bin: &Path) -> Row {
    let s = Server::start(bin, &[]).await;
    let http = client_from(Ipv4Addr::LOCALHOST);
    let email = s.member(&http, "cache").await;
    let token = s.session(&http, &email, MEMBER_PASSWORD).await;
    let replies = vec![
        http.post(s.api("/sessions"))
            .json(&json!({ "email": email, "password": MEMBER_PASSWORD })),
        http.post(s.api("/sessions"))
            .json(&json!({ "email": email, "password": "Wrong-password-1" })),
        http.get(s.api("/me")).bearer_auth(&token),
        http.get(s.api("/timeline")).bearer_auth(&token),
        http.post(s.api("/password/forgot"))
            .json(&json!({ "email": email })),
        http.get(format!("{}/reset_password?token=x", s.base)),
    ];
    let mut no_store = 0;
    let total = replies.len();
    for r in replies {
        let reply = r.send().await.unwrap();
        if reply
            .headers()
            .get("cache-control")
            .is_some_and(|v| v == "no-store")
        {
            no_store += 1;
        }
    }
    Row {
        tried: "responses that carry a session (and every other answer)",
        measured: format!("{no_store} of {total} answers say Cache-Control: no-store"),
        met: no_store == total,
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bin = match (args.next().as_deref(), args.next()) {
        (Some("--server"), Some(bin)) => {
            std::fs::canonicalize(&bin).unwrap_or_else(|e| panic!("{bin}: {e}"))
        }
        _ => {
            eprintln!("usage: abuse_bench --server PATH/TO/unipos-server");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let mut rows = vec![
        parallel_wrong_passwords(&bin).await,
        wrong_current_passwords(&bin).await,
        reset_link_after_change(&bin).await,
        full_width_password(&bin).await,
        common_passwords(&bin).await,
        login_flood(&bin).await,
        half_requests(&bin).await,
        trusted_proxy(&bin).await,
    ];
    rows.push(refused_start(
        &bin,
        "--dev --listen 0.0.0.0:8787",
        &["--dev", "--listen", "0.0.0.0:0", "--db", ":memory:"],
        "loopback",
    ));
    rows.push(refused_start(
        &bin,
        "no --smtp-url outside --dev",
        &["--listen", "127.0.0.1:0", "--db", ":memory:"],
        "--outbox",
    ));
    rows.push(cache_control(&bin).await);
    println!("| tried | measured | as promised |");
    println!("|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} | {} |",
            row.tried,
            row.measured,
            if row.met { "yes" } else { "NO" }
        );
    }
    let met = rows.iter().filter(|r| r.met).count();
    println!(
        "abuse-bench: {met} of {} rows as promised, in {:.0} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    if met != rows.len() {
        std::process::exit(1);
    }
}
