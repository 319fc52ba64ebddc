//! The client against servers that misbehave: each fault must give its own stable code, carry the
//! request id that was sent, and never panic or hang.
//!
//! The servers are started here on 127.0.0.1:0 and write raw HTTP by hand. A port where
//! connections must be refused is held bound but not listening ([`HeldPort`]), never released
//! and bound again, so no other process can take it meanwhile.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use unipos_client::unipos_protocol::{Email, ErrorCode, LoginRequest, ResetToken};
use unipos_client::{ApiClient, ClientConfig, ClientError};
use unipos_testsupport::HeldPort;

/// What the fake server saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    /// When each connection was accepted, by tokio's clock (paused in the retry tests).
    accepted_at: Mutex<Vec<tokio::time::Instant>>,
    heads: Mutex<Vec<String>>,
}

impl Seen {
    fn last_head(&self) -> String {
        self.heads
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }

    fn header(&self, name: &str) -> Option<String> {
        let head = self.last_head();
        head.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// How the fake server behaves after reading a request.
#[derive(Clone)]
enum Behaviour {
    /// Writes these bytes and closes.
    Respond(Vec<u8>),
    /// Reads the request, then says nothing and keeps the connection open.
    Silent,
    /// Closes the connection without a word.
    Hangup,
    /// A 200 whose body never ends (bounded at 64 MiB so the test cannot run away).
    Endless,
}

async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            return head;
        }
    }
    String::from_utf8_lossy(&buf).to_string()
}

async fn behave<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    behaviour: Behaviour,
    seen: &Seen,
) {
    let head = read_request(&mut stream).await;
    seen.heads.lock().unwrap().push(head);
    match behaviour {
        Behaviour::Respond(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
        Behaviour::Hangup => {}
        Behaviour::Endless => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                        Transfer-Encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let piece = format!("{:x}\r\n{}\r\n", 64 * 1024, "[".repeat(64 * 1024));
            for _ in 0..1024 {
                if stream.write_all(piece.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Starts a plain-HTTP fake server; returns its base URL and what it saw.
async fn fake_server(behaviour: Behaviour) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (base, serve(listener, behaviour))
}

/// Answers every connection on `listener` with `behaviour`.
fn serve(listener: TcpListener, behaviour: Behaviour) -> Arc<Seen> {
    let seen = Arc::new(Seen::default());
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen2.connections.fetch_add(1, Ordering::SeqCst);
            seen2
                .accepted_at
                .lock()
                .unwrap()
                .push(tokio::time::Instant::now());
            let (b, s) = (behaviour.clone(), seen2.clone());
            tokio::spawn(async move { behave(stream, b, &s).await });
        }
    });
    seen
}

/// A server appears on the port held closed: from now on connections are accepted and answered.
fn listen(port: HeldPort, behaviour: Behaviour) -> Arc<Seen> {
    serve(port.listen(), behaviour)
}

fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Behaviour {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    out.push_str(body);
    Behaviour::Respond(out.into_bytes())
}

/// A client with time to spare: these tests run beside each other (and beside a 64 MiB body),
/// so only the timeout test gets a short limit ([`client_with_timeout`]).
fn client(base: &str) -> ApiClient {
    client_with_timeout(base, Duration::from_secs(30))
}

fn client_with_timeout(base: &str, timeout: Duration) -> ApiClient {
    let config = ClientConfig::with_bases(base, "https://unipos.me")
        .unwrap()
        .app("UniposTest", "9.9.9")
        .request_timeout(timeout)
        .connect_timeout(timeout);
    ApiClient::new(config).unwrap()
}

fn email() -> Email {
    Email::parse("taro@example.com").unwrap()
}

fn token() -> ResetToken {
    ResetToken::parse(&"t".repeat(43)).unwrap()
}

/// The error's request id is the one the server received.
fn assert_request_id_matches(err: &ClientError, seen: &Seen) {
    let sent = seen
        .header("x-request-id")
        .expect("an X-Request-Id was sent");
    assert_eq!(err.request_id(), Some(sent.as_str()), "{err:?}");
    let json = serde_json::to_value(err).unwrap();
    assert_eq!(json["request_id"], sent.as_str());
    assert_eq!(json["code"], err.code());
}

#[tokio::test]
async fn every_request_carries_a_request_id_a_user_agent_and_json_headers() {
    let (base, seen) = fake_server(response(
        "202 Accepted",
        &[("Content-Type", "application/json")],
        r#"{"status":"accepted","resend_after_s":60}"#,
    ))
    .await;
    let reply = client(&base).forgot(&email(), None).await.unwrap();
    assert_eq!(reply.status, 202);
    assert_eq!(reply.value.resend_after_s, 60);
    // The server did not echo the id, so the reply keeps the one that was sent.
    assert_eq!(Some(reply.request_id.clone()), seen.header("x-request-id"));
    assert_eq!(reply.request_id.len(), 36, "a UUID: {}", reply.request_id);
    let ua = seen.header("user-agent").unwrap();
    assert!(ua.starts_with("UniposTest/9.9.9 ("), "{ua}");
    assert!(ua.contains(std::env::consts::OS), "{ua}");
    assert_eq!(
        seen.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(seen
        .last_head()
        .starts_with("POST /api/v1/password/forgot HTTP/1.1"));
}

#[tokio::test]
async fn the_servers_request_id_is_kept_when_it_sends_one() {
    let (base, _) = fake_server(response(
        "410 Gone",
        &[("X-Request-Id", "srv-123")],
        r#"{"error":{"code":"token_expired","message":"This link has expired."}}"#,
    ))
    .await;
    let err = client(&base).reset_check(&token(), None).await.unwrap_err();
    assert_eq!(err.code(), "token_expired");
    assert_eq!(err.status(), Some(410));
    assert_eq!(err.request_id(), Some("srv-123"));
    assert_eq!(err.to_string(), "This link has expired.");
}

#[tokio::test]
async fn connection_refused_is_its_own_code() {
    let port = HeldPort::new();
    let err = client(&port.base())
        .forgot(&email(), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "connection_refused", "{err:?}");
    assert!(err.request_id().is_some_and(uuid_like), "{err:?}");
    assert_eq!(err.status(), None);
    assert_eq!(
        err.to_string(),
        "127.0.0.1 refused the connection. Is the server running?"
    );
    drop(port);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_at_the_configured_limit() {
    let (base, seen) = fake_server(Behaviour::Silent).await;
    let started = Instant::now();
    let err = client_with_timeout(&base, Duration::from_millis(300))
        .forgot(&email(), None)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), "timeout", "{err:?}");
    assert_eq!(
        err.to_string(),
        "The server did not answer within 0.3 seconds. Try again."
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_request_id_matches(&err, &seen);
}

#[tokio::test]
async fn a_500_with_an_html_body_is_a_server_error() {
    let (base, seen) = fake_server(response(
        "500 Internal Server Error",
        &[("Content-Type", "text/html")],
        "<html><body><h1>Internal Server Error</h1></body></html>",
    ))
    .await;
    let err = client(&base).forgot(&email(), None).await.unwrap_err();
    assert_eq!(err.code(), "server_error");
    assert_eq!(err.status(), Some(500));
    assert_request_id_matches(&err, &seen);
}

#[tokio::test]
async fn a_503_with_an_error_envelope_is_a_server_error_that_keeps_the_servers_code() {
    let (base, _) = fake_server(response(
        "503 Service Unavailable",
        &[],
        r#"{"error":{"code":"internal","message":"down"}}"#,
    ))
    .await;
    let err = client(&base).forgot(&email(), None).await.unwrap_err();
    assert_eq!(err.code(), "server_error");
    assert_eq!(err.details().unwrap()["server_code"], "internal");
}

#[tokio::test]
async fn a_200_with_malformed_json_is_a_bad_response() {
    let (base, seen) = fake_server(response(
        "200 OK",
        &[("Content-Type", "application/json")],
        r#"{"email_hint":"t***@example.com","expires_"#,
    ))
    .await;
    let err = client(&base).reset_check(&token(), None).await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
    assert_eq!(err.status(), Some(200));
    assert_request_id_matches(&err, &seen);
}

#[tokio::test]
async fn a_200_with_unexpected_json_is_a_bad_response() {
    let (base, _) = fake_server(response("200 OK", &[], r#"{"hello":"world"}"#)).await;
    let err = client(&base).reset_check(&token(), None).await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
    assert!(err.details().unwrap()["reason"]
        .as_str()
        .unwrap()
        .contains("unexpected JSON"));
}

#[tokio::test]
async fn a_malformed_answer_is_described_without_quoting_its_values() {
    // A broken server that puts a token where a number belongs: the error (which the app shows)
    // says where the answer is wrong, never what it held.
    let body = r#"{"email_hint":"t***@example.com","expires_at":"SECRET-VALUE-1","policy":"SECRET-VALUE-2"}"#;
    let (base, _) = fake_server(response("200 OK", &[], body)).await;
    let err = client(&base).reset_check(&token(), None).await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
    let shown = serde_json::to_string(&err).unwrap() + &err.to_string();
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("a field of the wrong shape"), "{shown}");
}

#[tokio::test]
async fn a_4xx_that_is_not_an_error_envelope_is_a_bad_response() {
    let (base, _) = fake_server(response("404 Not Found", &[], "Not Found")).await;
    let err = client(&base).forgot(&email(), None).await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn an_endless_body_stops_at_the_cap() {
    let (base, seen) = fake_server(Behaviour::Endless).await;
    let config = ClientConfig::with_bases(&base, "https://unipos.me")
        .unwrap()
        .request_timeout(Duration::from_secs(10));
    let started = Instant::now();
    let err = ApiClient::new(config)
        .unwrap()
        .reset_check(&token(), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bad_response", "{err:?}");
    assert!(err.details().unwrap()["reason"]
        .as_str()
        .unwrap()
        .contains("larger than 1048576 bytes"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_request_id_matches(&err, &seen);
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_without_reading_it() {
    let (base, _) = fake_server(Behaviour::Respond(
        b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n{".to_vec(),
    ))
    .await;
    let err = client(&base).reset_check(&token(), None).await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
}

#[tokio::test]
async fn a_429_says_how_long_to_wait_from_the_retry_after_header() {
    let (base, seen) = fake_server(response(
        "429 Too Many Requests",
        &[("Retry-After", "7")],
        "slow down",
    ))
    .await;
    let err = client(&base).forgot(&email(), None).await.unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    assert_eq!(err.retry_after_s(), Some(7));
    assert_eq!(err.status(), Some(429));
    assert_request_id_matches(&err, &seen);
    assert_eq!(serde_json::to_value(&err).unwrap()["retry_after_s"], 7);
}

#[tokio::test]
async fn a_429_prefers_the_bodys_retry_after_s() {
    let (base, _) = fake_server(response(
        "429 Too Many Requests",
        &[("Retry-After", "7")],
        r#"{"error":{"code":"rate_limited","message":"Too many requests.","retry_after_s":31}}"#,
    ))
    .await;
    let err = client(&base).forgot(&email(), None).await.unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    assert_eq!(err.retry_after_s(), Some(31));
}

#[tokio::test]
async fn a_busy_server_is_server_busy_with_the_wait_from_retry_after() {
    let (base, seen) = fake_server(response(
        "503 Service Unavailable",
        &[("Retry-After", "2")],
        r#"{"error":{"code":"server_busy","message":"Busy."}}"#,
    ))
    .await;
    let err = client(&base).forgot(&email(), None).await.unwrap_err();
    assert_eq!(err.code(), "server_busy");
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.retry_after_s(), Some(2));
    assert_request_id_matches(&err, &seen);
}

#[tokio::test]
async fn a_server_that_hangs_up_without_answering_is_a_bad_response() {
    let (base, seen) = fake_server(Behaviour::Hangup).await;
    let err = client(&base).forgot(&email(), None).await.unwrap_err();
    assert_eq!(err.code(), "bad_response", "{err:?}");
    assert_eq!(err.status(), None);
    // A state-changing request is sent once, never repeated.
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let (base, seen) = fake_server(response(
        "302 Found",
        &[("Location", "http://127.0.0.1:9/elsewhere")],
        "",
    ))
    .await;
    let err = client(&base).forgot(&email(), None).await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
    assert_eq!(err.status(), Some(302));
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unresolvable_host_is_offline() {
    // How a member hits a DNS failure: an https API base whose name does not resolve.
    let config = ClientConfig::with_bases(
        "https://api.unipos-offline-test.invalid",
        "https://unipos.me",
    )
    .unwrap()
    .connect_timeout(Duration::from_secs(3));
    let err = ApiClient::new(config)
        .unwrap()
        .forgot(&email(), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "offline", "{err:?}");
    assert!(err.request_id().is_some_and(uuid_like), "{err:?}");
    assert_eq!(err.status(), None);
    // The message is the client's own; the resolver's wording stays in `details.cause`.
    assert_eq!(
        err.to_string(),
        "No connection to api.unipos-offline-test.invalid. Check that the device is online."
    );
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let (base, seen) = tls_server().await;
    let err = client(&base).forgot(&email(), None).await.unwrap_err();
    assert_eq!(err.code(), "tls", "{err:?}");
    assert!(err.request_id().is_some());
    // The handshake failed: no request reached the server.
    assert!(seen.heads.lock().unwrap().is_empty());
}

// The retry tests run on a paused clock that only `tokio::time::advance` moves (`HoldClock`):
// the client's pause before its one retry (250 ms) then cannot end on its own, so whether a
// request was sent again is decided by the test's own steps, not by a race against real time.

/// Keeps a paused clock from moving on its own: tokio does not auto-advance while a blocking
/// task runs. Also keeps the client's timeouts from firing while the test waits.
struct HoldClock(#[allow(dead_code)] std::sync::mpsc::Sender<()>);

fn hold_clock() -> HoldClock {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    tokio::task::spawn_blocking(move || {
        let _ = rx.recv();
    });
    HoldClock(tx)
}

/// Waits `limit` of real time for `fut` (the paused clock stands still meanwhile); `None` when
/// it did not finish in time.
async fn within_real<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let timer = tokio::task::spawn_blocking(move || {
        let _ = rx.recv_timeout(limit);
    });
    let out = tokio::select! {
        out = fut => Some(out),
        _ = timer => None,
    };
    drop(tx);
    out
}

/// Longer than the client's pause before a retry (250 ms).
const PAST_THE_RETRY_PAUSE: Duration = Duration::from_secs(1);

const CHECK_OK: &str = r#"{"email_hint":"t***@example.com","expires_at":"2030-01-01T00:00:00Z","policy":{"min_length":8,"max_length":128,"require_lower":true,"require_upper":false,"require_digit":true,"require_symbol":false}}"#;

#[tokio::test(start_paused = true)]
async fn a_read_whose_connection_is_refused_is_sent_once_more_after_a_pause() {
    let _hold = hold_clock();
    let port = HeldPort::new();
    let c = client(&port.base());
    let mut read = tokio::spawn(async move { c.reset_check(&token(), None).await });
    // The first attempt is refused; then the read waits out its pause, on a clock that does
    // not move, so it cannot finish. (A second of real time for the first attempt to be made.)
    if let Some(early) = within_real(Duration::from_secs(1), &mut read).await {
        panic!("the read came back without trying again: {early:?}");
    }

    // A server appears on the port, and the pause ends.
    let seen = listen(port, response("200 OK", &[], CHECK_OK));
    let paused_at = tokio::time::Instant::now();
    tokio::time::advance(PAST_THE_RETRY_PAUSE).await;
    let reply = within_real(Duration::from_secs(30), read)
        .await
        .expect("the retried read finishes")
        .unwrap()
        .unwrap();
    assert_eq!(reply.value.email_hint.as_deref(), Some("t***@example.com"));
    // One connection reached the server, after the pause: the retry. (Had the first attempt
    // come only after the server appeared, it would be stamped `paused_at`.)
    assert_eq!(
        *seen.accepted_at.lock().unwrap(),
        vec![paused_at + PAST_THE_RETRY_PAUSE]
    );
}

#[tokio::test(start_paused = true)]
async fn a_read_is_retried_only_once() {
    let _hold = hold_clock();
    let port = HeldPort::new();
    let c = client(&port.base());
    let mut read = tokio::spawn(async move { c.reset_check(&token(), None).await });
    if let Some(early) = within_real(Duration::from_secs(1), &mut read).await {
        panic!("the read came back without trying again: {early:?}");
    }
    // One pause, then the read gives up: with the clock held, a second pause would never end.
    tokio::time::advance(PAST_THE_RETRY_PAUSE).await;
    let err = within_real(Duration::from_secs(30), read)
        .await
        .expect("the read came back after one retry, without a second pause")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), "connection_refused", "{err:?}");
    drop(port);
}

#[tokio::test(start_paused = true)]
async fn a_write_whose_connection_is_refused_is_never_sent_again() {
    let _hold = hold_clock();
    for write in ["forgot", "reset", "login", "change_password", "logout"] {
        let port = HeldPort::new();
        let c = client(&port.base());
        let mut call = tokio::spawn(async move {
            match write {
                "forgot" => c.forgot(&email(), None).await.map(|_| ()),
                "reset" => c
                    .reset(&token(), "Pw-123456", "Pw-123456", None)
                    .await
                    .map(|_| ()),
                "login" => c
                    .login(&LoginRequest::Email {
                        email: "taro@example.com".into(),
                        password: "Pw-123456".into(),
                    })
                    .await
                    .map(|_| ()),
                "change_password" => c
                    .change_password("tok", "Pw-123456", "Pw-654321", "Pw-654321")
                    .await
                    .map(|_| ()),
                _ => c.logout("tok").await.map(|_| ()),
            }
        });
        // Refused, the write comes back at once (the clock held, no pause can end)...
        let early = within_real(Duration::from_secs(10), &mut call).await;
        // ...and a write that was waiting to be sent again would now reach this server.
        let seen = listen(port, response("204 No Content", &[], ""));
        tokio::time::advance(PAST_THE_RETRY_PAUSE).await;
        let result = match early {
            Some(result) => result,
            None => within_real(Duration::from_secs(30), call)
                .await
                .unwrap_or_else(|| panic!("{write}: never came back")),
        };
        tokio::task::yield_now().await;
        assert_eq!(
            seen.connections.load(Ordering::SeqCst),
            0,
            "{write} was sent again"
        );
        let err = result.unwrap().unwrap_err();
        assert_eq!(err.code(), "connection_refused", "{write}: {err:?}");
    }
}

#[tokio::test]
async fn garbage_from_the_server_is_an_error_with_its_own_code() {
    // Per answer: what forgot, reset_check and me (which decode a body) and logout (which
    // takes any 2xx: `DELETE /sessions/current` has no body to decode) each come back with.
    // `Ok(status)` for a success, `Err((code, status))` for an error.
    type Outcome = Result<u16, (&'static str, Option<u16>)>;
    let bad = |status| Err(("bad_response", status));
    let answers: Vec<(&str, Behaviour, [Outcome; 4])> = vec![
        (
            "not HTTP",
            Behaviour::Respond(b"NOT HTTP AT ALL\r\n\r\n".to_vec()),
            [bad(None), bad(None), bad(None), bad(None)],
        ),
        (
            "a 200 with a binary body",
            Behaviour::Respond(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n\xff\xfe\x00\x01\x02".to_vec(),
            ),
            [bad(Some(200)), bad(Some(200)), bad(Some(200)), Ok(200)],
        ),
        (
            "a 200 whose body ends before its Content-Length",
            Behaviour::Respond(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}".to_vec()),
            [
                bad(Some(200)),
                bad(Some(200)),
                bad(Some(200)),
                bad(Some(200)),
            ],
        ),
        (
            "a 401 with a code the API does not have",
            response(
                "401 Unauthorized",
                &[],
                r#"{"error":{"code":"quantum_flux","message":"?"}}"#,
            ),
            // A code from a newer server: passed on as `unknown` (the protocol's rule).
            [Err(("unknown", Some(401))); 4],
        ),
        (
            "a 423 with a control character in its X-Request-Id",
            response(
                "423 Locked",
                &[("X-Request-Id", "\u{1}bad")],
                r#"{"error":{"code":"account_locked","message":"Your Unipos account is locked","retry_after_s":900}}"#,
            ),
            [bad(None), bad(None), bad(None), bad(None)],
        ),
        (
            "a 429 whose Retry-After date is past",
            response(
                "429 Too Many Requests",
                &[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")],
                "",
            ),
            [Err(("rate_limited", Some(429))); 4],
        ),
        (
            "a 200 with null",
            response("200 OK", &[], "null"),
            [bad(Some(200)), bad(Some(200)), bad(Some(200)), Ok(200)],
        ),
        (
            "a 204 where a body is due",
            response("204 No Content", &[], ""),
            [bad(Some(204)), bad(Some(204)), bad(Some(204)), Ok(204)],
        ),
    ];
    for (what, behaviour, expected) in answers {
        let (base, seen) = fake_server(behaviour).await;
        let c = client(&base);
        let mut got: Vec<Outcome> = Vec::new();
        for call in ["forgot", "reset_check", "me", "logout"] {
            let result = match call {
                "forgot" => c.forgot(&email(), None).await.map(|r| r.status),
                "reset_check" => c.reset_check(&token(), None).await.map(|r| r.status),
                "me" => c.me("tok").await.map(|r| r.status),
                _ => c.logout("tok").await.map(|r| r.status),
            };
            got.push(match result {
                Ok(status) => Ok(status),
                Err(e) => {
                    // Every error, however broken the answer, names the request that was sent.
                    assert_request_id_matches(&e, &seen);
                    Err((e.code(), e.status()))
                }
            });
        }
        assert_eq!(got, expected, "{what} (forgot, reset_check, me, logout)");
    }
}

#[tokio::test]
async fn every_api_error_code_reaches_the_caller_with_its_status_and_details() {
    for &api_code in ErrorCode::ALL {
        let status = api_code.http_status();
        let body = format!(
            r#"{{"error":{{"code":"{}","message":"m","details":{{"k":1}}}}}}"#,
            api_code.as_str()
        );
        let (base, seen) = fake_server(response(&format!("{status} X"), &[], &body)).await;
        let err = client(&base).forgot(&email(), None).await.unwrap_err();
        // 5xx is the server's failure, except a code that says what it cannot do right now
        // (`server_busy`, `account_sheet_unavailable`).
        let passed_on = status < 500 || api_code.is_unavailable();
        assert!(
            status < 500 || passed_on || api_code == ErrorCode::Internal,
            "{api_code}"
        );
        let expected = if passed_on {
            api_code.as_str()
        } else {
            "server_error"
        };
        assert_eq!(err.code(), expected, "{api_code}");
        assert_eq!(err.status(), Some(status));
        assert_request_id_matches(&err, &seen);
        if passed_on {
            assert_eq!(err.protocol_code(), Some(api_code));
            assert_eq!(err.details().unwrap()["k"], 1, "{api_code}");
        }
    }
}

/// An https server whose certificate no one trusts (self-signed, made now).
async fn tls_server() -> (String, Arc<Seen>) {
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::{crypto::ring, ServerConfig};

    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let chain = vec![CertificateDer::from(cert.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Seen::default());
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen2.connections.fetch_add(1, Ordering::SeqCst);
            let (acceptor, s) = (acceptor.clone(), seen2.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    behave(tls, response("200 OK", &[], "{}"), &s).await;
                }
            });
        }
    });
    (format!("https://localhost:{port}"), seen)
}
