//! What every endpoint shares: JSON error envelopes for every refusal, body limits, request ids,
//! the per-client rate limit.

use reqwest::Method;
use serde_json::{json, Value};
use unipos_protocol::{ErrorCode, LoginMethod, PasswordPolicy, API_PREFIX};

use crate::common::*;

async fn raw_post(s: &TestServer, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
    let mut req = s.http.post(format!("{}{path}", s.api)).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    Reply {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.bytes().await.unwrap().to_vec(),
    }
}

#[tokio::test]
async fn unknown_routes_answer_404_not_found_as_json() {
    let s = TestServer::start().await;
    s.get("/nope").await.assert_error(ErrorCode::NotFound);
    s.get_page("/").await.assert_error(ErrorCode::NotFound);
    s.get_page("/api/v2/me")
        .await
        .assert_error(ErrorCode::NotFound);
}

#[tokio::test]
async fn wrong_methods_answer_405_method_not_allowed_as_json() {
    let s = TestServer::start().await;
    for (method, path) in [
        (Method::GET, "/password/forgot"),
        (Method::DELETE, "/sessions"),
        (Method::POST, "/me"),
        (Method::GET, "/me/password"),
        (Method::POST, "/sessions/current"),
    ] {
        let reply = s
            .send(method.clone(), &format!("{}{path}", s.api), None, None, &[])
            .await;
        reply.assert_error(ErrorCode::MethodNotAllowed);
        assert!(reply.header("x-request-id").is_some());
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_answers_415() {
    let s = TestServer::start().await;
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        raw_post(
            &s,
            "/password/forgot",
            ct,
            br#"{"email":"taro@example.com"}"#.to_vec(),
        )
        .await
        .assert_error(ErrorCode::UnsupportedMediaType);
    }
    raw_post(
        &s,
        "/password/forgot",
        Some("application/json; charset=utf-8"),
        br#"{"email":"taro@example.com"}"#.to_vec(),
    )
    .await
    .assert_status(202);
}

#[tokio::test]
async fn malformed_or_ill_typed_json_answers_400_bad_request_never_500() {
    let s = TestServer::start().await;
    let malformed = [
        "{",
        "",
        "null",
        "[]",
        "\"x\"",
        "\u{FEFF}{}",
        "{\"email\": \"\\ud800\"}",
        "{}",
    ];
    let ill_typed = [
        ("/password/forgot", r#"{"email": 12345678}"#),
        ("/password/reset/check", r#"{"token": ["12345678"]}"#),
        (
            "/password/reset",
            r#"{"token": "x", "new_password": 12345678, "new_password_confirmation": "x"}"#,
        ),
        (
            "/sessions",
            r#"{"email": "taro@example.com", "password": 12345678}"#,
        ),
        ("/sessions", r#"{"team": "demo", "password": "12345678"}"#),
    ];
    let paths = [
        "/password/forgot",
        "/password/reset/check",
        "/password/reset",
        "/sessions",
    ];
    let cases = paths
        .iter()
        .flat_map(|p| malformed.iter().map(move |b| (*p, *b)))
        .chain(ill_typed);
    for (path, body) in cases {
        let reply = raw_post(&s, path, Some("application/json"), body.as_bytes().to_vec()).await;
        let envelope = reply.assert_error(ErrorCode::BadRequest);
        assert!(
            !reply.text().contains("12345678"),
            "serde's text must not echo values: {}",
            reply.text()
        );
        assert!(envelope.error.details.is_some());
    }
    let reply = raw_post(
        &s,
        "/password/forgot",
        Some("application/json"),
        b"{}".to_vec(),
    )
    .await;
    assert!(
        reply.text().contains("email"),
        "names the missing field: {}",
        reply.text()
    );
}

#[tokio::test]
async fn bodies_over_16_kib_answer_413() {
    let s = TestServer::start().await;
    let big = json!({ "email": "taro@example.com", "pad": "x".repeat(17 * 1024) }).to_string();
    raw_post(
        &s,
        "/password/forgot",
        Some("application/json"),
        big.into_bytes(),
    )
    .await
    .assert_error(ErrorCode::PayloadTooLarge);
    // Without a Content-Length (chunked), the limit holds while reading.
    let mut request = format!(
        "POST /api/v1/sessions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        s.server().addr()
    )
    .into_bytes();
    for _ in 0..40 {
        request.extend_from_slice(b"400\r\n");
        request.extend_from_slice(&[b' '; 1024]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let response = raw_http(s.server().addr(), &request).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("\"payload_too_large\""), "{response}");
    // Just under the limit is fine.
    let fits = format!(
        "{{\"email\": \"taro@example.com\"}}{}",
        " ".repeat(16 * 1024 - 40)
    );
    raw_post(
        &s,
        "/password/forgot",
        Some("application/json"),
        fits.into_bytes(),
    )
    .await
    .assert_status(202);
}

/// Sends raw bytes and reads the whole answer (the server may answer before it read them all).
pub async fn raw_http(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(request).await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn x_request_id_is_echoed_or_generated_on_every_response() {
    let s = TestServer::start().await;
    let mine = "support-case-42_abc.DEF";
    let url = format!("{}/password/forgot", s.api);
    let ok = s
        .send(
            Method::POST,
            &url,
            Some(json!({ "email": DEMO_EMAIL })),
            None,
            &[("x-request-id", mine)],
        )
        .await;
    assert_eq!(ok.header("x-request-id").as_deref(), Some(mine));
    let err = s
        .send(
            Method::POST,
            &url,
            Some(json!({ "email": " x" })),
            None,
            &[("x-request-id", mine)],
        )
        .await;
    err.assert_status(422);
    assert_eq!(err.header("x-request-id").as_deref(), Some(mine));
    let not_found = s
        .send(
            Method::GET,
            &format!("{}/nope", s.api),
            None,
            None,
            &[("x-request-id", mine)],
        )
        .await;
    assert_eq!(not_found.header("x-request-id").as_deref(), Some(mine));
    let too_long = "x".repeat(129);
    for bad in [too_long.as_str(), "has space", "ünï"] {
        let Ok(value) = reqwest::header::HeaderValue::from_bytes(bad.as_bytes()) else {
            continue;
        };
        let res = s
            .http
            .get(format!("{}/me", s.api))
            .header("x-request-id", value)
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    }
    let generated = s.get("/me").await;
    let a = generated.header("x-request-id").unwrap();
    let b = s.get("/me").await.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(&a).is_ok());
    assert_ne!(a, b);
    let page = s.get_page("/.well-known/assetlinks.json").await;
    assert!(page.header("x-request-id").is_some());
}

#[tokio::test]
async fn one_client_address_has_a_generous_limit_across_the_unauthenticated_endpoints() {
    let s = TestServer::start_with(|c| c.client_limit = 6).await;
    s.forgot("a@example.com").await.assert_status(202);
    s.forgot("b@example.com").await.assert_status(202);
    s.post("/password/reset/check", json!({ "token": "A".repeat(43) }))
        .await
        .assert_error(ErrorCode::TokenInvalid);
    s.post(
        "/password/reset",
        json!({ "token": "A".repeat(43), "new_password": "x", "new_password_confirmation": "x" }),
    )
    .await
    .assert_error(ErrorCode::TokenInvalid);
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
    s.forgot("c@example.com").await.assert_status(202);
    for reply in [
        s.forgot("d@example.com").await,
        s.login(DEMO_EMAIL, DEMO_PASSWORD).await,
        s.post("/password/reset/check", json!({ "token": "A".repeat(43) }))
            .await,
        s.post(
            "/password/reset",
            json!({ "token": "A".repeat(43), "new_password": "x", "new_password_confirmation": "x" }),
        )
        .await,
    ] {
        let envelope = reply.assert_error(ErrorCode::RateLimited);
        let wait = envelope.error.retry_after_s.unwrap();
        assert!((1..=300).contains(&wait), "{wait}");
        assert_eq!(reply.header("retry-after"), Some(wait.to_string()));
    }
    advance(&s.clock, 300);
    s.forgot("d@example.com").await.assert_status(202);
}

/// Every `/dev` operation, with a request a `--dev` server takes.
fn dev_requests() -> Vec<(Method, &'static str, Option<Value>)> {
    let strict = PasswordPolicy {
        min_length: 20,
        ..PasswordPolicy::default()
    };
    vec![
        (
            Method::POST,
            "/dev/users",
            Some(
                json!({"email": "ken@example.com", "password": "Ken-password-1", "display_name": "Ken", "login_method": "email"}),
            ),
        ),
        (
            Method::POST,
            "/dev/teams",
            Some(json!({ "slug": DEMO_TEAM, "policy": strict })),
        ),
        (
            Method::POST,
            "/dev/suppressed",
            Some(json!({ "email": DEMO_EMAIL })),
        ),
        (
            Method::POST,
            "/dev/sessions",
            Some(json!({ "email": DEMO_EMAIL })),
        ),
        (Method::GET, "/dev/outbox", None),
    ]
}

#[tokio::test]
async fn dev_endpoints_do_not_exist_without_dev_mode() {
    // The requests below are every operation the dev endpoints have.
    let dev_doc = serde_json::to_value(unipos_server::dev::openapi()).unwrap();
    let mut documented: Vec<String> = dev_doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            let path = path.trim_start_matches(API_PREFIX).to_owned();
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {path}", m.to_uppercase()))
        })
        .collect();
    let mut tried: Vec<String> = dev_requests()
        .iter()
        .map(|(m, path, _)| format!("{m} {path}"))
        .collect();
    documented.sort();
    tried.sort();
    assert_eq!(tried, documented);

    let production = TestServer::start().await;
    let dev = TestServer::start_dev().await;
    for (method, path, body) in dev_requests() {
        let at = |s: &TestServer| format!("{}{path}", s.api);
        let refused = production
            .send(method.clone(), &at(&production), body.clone(), None, &[])
            .await;
        refused.assert_error(ErrorCode::NotFound);
        let served = dev.send(method, &at(&dev), body, None, &[]).await;
        assert!(
            served.status.is_success(),
            "{path} with --dev: {} {}",
            served.status,
            served.text()
        );
    }
    // Nothing they ask for happened: the demo team's policy is the default, Ken was not
    // added, and Taro's address still gets mail.
    let token = production.reset_token_for(DEMO_EMAIL).await;
    let check = production
        .post("/password/reset/check", json!({ "token": token }))
        .await;
    assert_eq!(
        check.json()["policy"],
        serde_json::to_value(PasswordPolicy::default()).unwrap()
    );
    production
        .login("ken@example.com", "Ken-password-1")
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    // And the production document does not name them.
    let doc = serde_json::to_value(unipos_server::openapi()).unwrap();
    let dev_paths: Vec<&String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|p| p.contains("/dev"))
        .collect();
    assert!(dev_paths.is_empty(), "{dev_paths:?}");
}

#[tokio::test]
async fn without_dev_mode_nobody_is_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let server = unipos_server::spawn(unipos_server::Config::for_tests(dir.path()))
        .await
        .unwrap();
    let login = http_client()
        .build()
        .unwrap()
        .post(format!("{}/sessions", server.api_url()))
        .json(&json!({ "email": DEMO_EMAIL, "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 401);
}

#[tokio::test]
async fn dev_users_adds_email_sso_and_login_id_members() {
    let s = TestServer::start_dev().await;
    let reply = s
        .post("/dev/users", json!({"email": "ken@example.com", "password": "Ken-password-1", "display_name": "Ken", "login_method": "email"}))
        .await;
    reply.assert_status(201);
    assert_eq!(reply.json()["team"], DEMO_TEAM);
    s.login("ken@example.com", "Ken-password-1")
        .await
        .assert_status(201);
    s.post("/dev/users", json!({"email": "sso@example.com", "password": "ignored", "display_name": "S", "login_method": "sso"}))
        .await
        .assert_status(201);
    // No password logs an SSO member in; SSO (here its dev stand-in) does.
    s.login("sso@example.com", "ignored")
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    let signed_in = s
        .post("/dev/sessions", json!({"email": "sso@example.com"}))
        .await;
    signed_in.assert_status(201);
    assert_eq!(signed_in.session().user.login_method, LoginMethod::Sso);
    s.post("/dev/users", json!({"team": "acme", "login_id": "t001", "password": "Acme-pass-1", "display_name": "T", "login_method": "login_id"}))
        .await
        .assert_status(201);
    s.post(
        "/sessions",
        json!({"team": "acme", "login_id": "t001", "password": "Acme-pass-1"}),
    )
    .await
    .assert_status(201);
    // Refusals.
    s.post("/dev/users", json!({"email": "ken@example.com", "password": "Ken-password-1", "display_name": "Ken", "login_method": "email"}))
        .await
        .assert_error(ErrorCode::BadRequest);
    s.post("/dev/users", json!({"email": "x@example.com", "password": "short", "display_name": "X", "login_method": "email"}))
        .await
        .assert_error(ErrorCode::PasswordPolicy);
    s.post("/dev/users", json!({"email": " x@example.com", "password": "Long-enough-1", "display_name": "X", "login_method": "email"}))
        .await
        .assert_error(ErrorCode::EmailLeadingWhitespace);
}

/// `GET path` with this Host header, over raw TCP (a browser sends the name it resolved).
async fn get_with_host(s: &TestServer, path: &str, host: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    raw_http(s.server().addr(), request.as_bytes()).await
}

/// DNS rebinding: a web page on attacker.example whose name now resolves to 127.0.0.1 reaches a
/// dev server as its own origin, and would read the outbox's live links. Its requests carry its
/// own name as the Host. A proxy on this machine passes its own loopback Host and port.
#[tokio::test]
async fn in_dev_mode_a_request_for_a_host_that_is_not_this_machine_is_refused() {
    let s = TestServer::start_dev().await;
    let port = s.server().addr().port();
    for host in [
        format!("attacker.example:{port}"),
        "attacker.example".to_owned(),
        format!("127.0.0.1.attacker.example:{port}"),
        format!("localhost.attacker.example:{port}"),
    ] {
        for path in ["/api/v1/dev/outbox", "/reset_password?token=x"] {
            let answer = get_with_host(&s, path, &host).await;
            assert!(
                answer.starts_with("HTTP/1.1 421"),
                "{host} {path}: {answer}"
            );
            assert!(answer.contains("\"host_not_allowed\""), "{answer}");
            assert!(
                answer.to_ascii_lowercase().contains("x-request-id"),
                "{answer}"
            );
        }
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
        // nginx or a TLS terminator on this machine, in front of the server.
        format!("127.0.0.1:{}", port % 65535 + 1),
        "localhost".to_owned(),
    ] {
        let answer = get_with_host(&s, "/api/v1/dev/outbox", &host).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
    }
}

#[tokio::test]
async fn outside_dev_mode_any_host_is_served() {
    let s = TestServer::start().await;
    // Reaches the handler: 401 for the missing session, not 421.
    let answer = get_with_host(&s, "/api/v1/me", "unipos.example").await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("\"session_expired\""), "{answer}");
}
