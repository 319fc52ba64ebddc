//! The client against servers that misbehave: each fault must give its own stable code, carry the
//! request id that was sent, and never panic or hang.
//!
//! The servers are started here on 127.0.0.1:0 and write raw HTTP by hand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use unipos_client::unipos_protocol::{Email, ErrorCode, ResetToken};
use unipos_client::{ApiClient, ClientConfig, ClientError};

/// What the fake server saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
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
    let seen = Arc::new(Seen::default());
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            seen2.connections.fetch_add(1, Ordering::SeqCst);
            let (b, s) = (behaviour.clone(), seen2.clone());
            tokio::spawn(async move { behave(stream, b, &s).await });
        }
    });
    (base, seen)
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

fn client(base: &str) -> ApiClient {
    let config = ClientConfig::with_bases(base, "https://unipos.me")
        .unwrap()
        .app("UniposTest", "9.9.9")
        .request_timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300));
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
    let reply = client(&base).forgot(&email()).await.unwrap();
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
    let err = client(&base).reset_check(&token()).await.unwrap_err();
    assert_eq!(err.code(), "token_expired");
    assert_eq!(err.status(), Some(410));
    assert_eq!(err.request_id(), Some("srv-123"));
    assert_eq!(err.to_string(), "This link has expired.");
}

#[tokio::test]
async fn connection_refused_is_its_own_code() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = client(&base).forgot(&email()).await.unwrap_err();
    assert_eq!(err.code(), "connection_refused", "{err:?}");
    assert!(err.request_id().is_some());
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_at_the_configured_limit() {
    let (base, seen) = fake_server(Behaviour::Silent).await;
    let started = Instant::now();
    let err = client(&base).forgot(&email()).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), "timeout", "{err:?}");
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
    let err = client(&base).forgot(&email()).await.unwrap_err();
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
    let err = client(&base).forgot(&email()).await.unwrap_err();
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
    let err = client(&base).reset_check(&token()).await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
    assert_eq!(err.status(), Some(200));
    assert_request_id_matches(&err, &seen);
}

#[tokio::test]
async fn a_200_with_unexpected_json_is_a_bad_response() {
    let (base, _) = fake_server(response("200 OK", &[], r#"{"hello":"world"}"#)).await;
    let err = client(&base).reset_check(&token()).await.unwrap_err();
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
    let err = client(&base).reset_check(&token()).await.unwrap_err();
    assert_eq!(err.code(), "bad_response");
    let shown = serde_json::to_string(&err).unwrap() + &err.to_string();
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("a field of the wrong shape"), "{shown}");
}

#[tokio::test]
async fn a_4xx_that_is_not_an_error_envelope_is_a_bad_response() {
    let (base, _) = fake_server(response("404 Not Found", &[], "Not Found")).await;
    let err = client(&base).forgot(&email()).await.unwrap_err();
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
        .reset_check(&token())
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
    let err = client(&base).reset_check(&token()).await.unwrap_err();
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
    let err = client(&base).forgot(&email()).await.unwrap_err();
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
    let err = client(&base).forgot(&email()).await.unwrap_err();
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
    let err = client(&base).forgot(&email()).await.unwrap_err();
    assert_eq!(err.code(), "server_busy");
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.retry_after_s(), Some(2));
    assert_request_id_matches(&err, &seen);
}

#[tokio::test]
async fn a_server_that_hangs_up_without_answering_is_a_bad_response() {
    let (base, seen) = fake_server(Behaviour::Hangup).await;
    let err = client(&base).forgot(&email()).await.unwrap_err();
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
    let err = client(&base).forgot(&email()).await.unwrap_err();
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
        .forgot(&email())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "offline", "{err:?}");
    assert!(err.request_id().is_some());
    assert!(err.to_string().contains("api.unipos-offline-test.invalid"));
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_error() {
    let (base, seen) = tls_server().await;
    let err = client(&base).forgot(&email()).await.unwrap_err();
    assert_eq!(err.code(), "tls", "{err:?}");
    assert!(err.request_id().is_some());
    // The handshake failed: no request reached the server.
    assert!(seen.heads.lock().unwrap().is_empty());
}

#[tokio::test]
async fn reads_retry_once_when_the_connection_fails_and_writes_never_do() {
    // Nothing listens on the port at first; a server appears there 100 ms later.
    async fn late_server() -> (String, Arc<Seen>) {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let seen = Arc::new(Seen::default());
        let seen2 = seen.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let listener = TcpListener::bind(addr).await.unwrap();
            while let Ok((stream, _)) = listener.accept().await {
                seen2.connections.fetch_add(1, Ordering::SeqCst);
                let s = seen2.clone();
                let ok = response(
                    "200 OK",
                    &[],
                    r#"{"email_hint":"t***@example.com","expires_at":"2030-01-01T00:00:00Z","policy":{"min_length":8,"max_length":128,"require_lower":true,"require_upper":false,"require_digit":true,"require_symbol":false}}"#,
                );
                tokio::spawn(async move { behave(stream, ok, &s).await });
            }
        });
        (format!("http://{addr}"), seen)
    }

    let (base, seen) = late_server().await;
    let reply = client(&base).reset_check(&token()).await.unwrap();
    assert_eq!(reply.value.email_hint, "t***@example.com");
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);

    let (base, seen) = late_server().await;
    let err = client(&base).forgot(&email()).await.unwrap_err();
    assert_eq!(err.code(), "connection_refused");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        seen.connections.load(Ordering::SeqCst),
        0,
        "a write was retried"
    );
}

#[tokio::test]
async fn garbage_from_the_server_never_panics() {
    let answers: Vec<Behaviour> = vec![
        Behaviour::Respond(b"NOT HTTP AT ALL\r\n\r\n".to_vec()),
        Behaviour::Respond(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n\xff\xfe\x00\x01\x02".to_vec(),
        ),
        Behaviour::Respond(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}".to_vec()),
        response(
            "401 Unauthorized",
            &[],
            r#"{"error":{"code":"quantum_flux","message":"?"}}"#,
        ),
        response(
            "423 Locked",
            &[("X-Request-Id", "\u{1}bad")],
            r#"{"error":{"code":"account_locked","message":"Your Unipos account is locked","retry_after_s":900}}"#,
        ),
        response(
            "429 Too Many Requests",
            &[("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")],
            "",
        ),
        response("200 OK", &[], "null"),
        response("204 No Content", &[], ""),
    ];
    for behaviour in answers {
        let (base, _) = fake_server(behaviour).await;
        let c = client(&base);
        for result in [
            c.forgot(&email()).await.map(|_| ()),
            c.reset_check(&token()).await.map(|_| ()),
            c.me("tok").await.map(|_| ()),
            c.logout("tok").await.map(|_| ()),
        ] {
            if let Err(e) = result {
                let json = serde_json::to_value(&e).unwrap();
                assert!(json["code"].is_string());
                assert!(!e.code().is_empty());
            }
        }
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
        let err = client(&base).forgot(&email()).await.unwrap_err();
        // 5xx is the server's failure, except `server_busy`, which says when to try again.
        let passed_on = status < 500 || api_code == ErrorCode::ServerBusy;
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
