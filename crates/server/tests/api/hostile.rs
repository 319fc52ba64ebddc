//! The API under attack: parallel guesses, a stolen session used as a password oracle, old reset
//! links, passwords typed full-width or taken from a breach list, floods of logins, half-sent
//! requests, spoofed forwarding headers, and answers kept out of caches.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use unipos_protocol::{ErrorCode, PolicyRule};

use crate::common::*;

fn change_body(current: &str, new: &str) -> Value {
    json!({ "current_password": current, "new_password": new, "new_password_confirmation": new })
}

/// `PUT /me/password` to `good_password(1)`, giving `current` as the current password.
async fn change_from(s: &TestServer, current: &str, session: &str) -> Reply {
    s.put_as(
        "/me/password",
        change_body(current, &good_password(1)),
        session,
    )
    .await
}

fn reset_body(token: &str, password: &str) -> Value {
    json!({ "token": token, "new_password": password, "new_password_confirmation": password })
}

/// Sends every login at once and answers each reply.
async fn logins_at_once(s: &TestServer, bodies: Vec<Value>) -> Vec<Reply> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (http, url) = (s.http.clone(), format!("{}/sessions", s.api));
            tokio::spawn(async move {
                let res = http.post(url).json(&body).send().await.unwrap();
                Reply {
                    status: res.status(),
                    headers: res.headers().clone(),
                    body: res.bytes().await.unwrap().to_vec(),
                }
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

async fn in_parallel(s: &TestServer, bodies: Vec<Value>) -> Vec<u16> {
    logins_at_once(s, bodies)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}

#[tokio::test]
async fn a_hundred_parallel_wrong_passwords_get_at_most_ten_checks_and_the_rest_423() {
    let s = TestServer::start_with(|c| {
        c.hash_queue = 100;
        c.max_connections_per_client = 200;
    })
    .await;
    let before = s.server().password_hash_runs();
    let guesses = (0..100)
        .map(|n| json!({ "email": DEMO_EMAIL, "password": format!("Guess-number-{n}") }))
        .collect();
    let statuses = in_parallel(&s, guesses).await;
    let checks = s.server().password_hash_runs() - before;
    assert!(checks <= 10, "{checks} passwords were checked");
    assert!(count(&statuses, 401) <= 10, "{statuses:?}");
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 423),
        100,
        "{statuses:?}"
    );
    // The lock holds against the right password too, and checks nothing.
    s.login(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::AccountLocked);
    assert_eq!(s.server().password_hash_runs() - before, checks);
}

#[tokio::test]
async fn many_right_logins_at_once_wait_a_moment_but_never_lock_the_account() {
    let s = TestServer::start().await;
    let logins = (0..25)
        .map(|_| json!({ "email": DEMO_EMAIL, "password": DEMO_PASSWORD }))
        .collect();
    let replies = logins_at_once(&s, logins).await;
    for reply in &replies {
        if reply.status.as_u16() == 423 {
            // Only the attempts still being checked are in the way: seconds, not the lock.
            let envelope = reply.assert_error(ErrorCode::AccountLocked);
            assert!(
                envelope.error.retry_after_s.unwrap() <= 2,
                "{}",
                reply.text()
            );
        } else {
            reply.assert_status(201);
        }
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn wrong_current_passwords_on_a_change_count_toward_the_accounts_lock() {
    let s = TestServer::start().await;
    let token = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    // Four failed logins and six wrong current passwords make the ten that lock.
    for _ in 0..4 {
        s.login(DEMO_EMAIL, "Wrong-password-1")
            .await
            .assert_error(ErrorCode::InvalidCredentials);
    }
    for _ in 0..5 {
        change_from(&s, "Wrong-current-1", &token)
            .await
            .assert_error(ErrorCode::CurrentPasswordIncorrect);
    }
    let tenth = change_from(&s, "Wrong-current-1", &token).await;
    let locked = tenth.assert_error(ErrorCode::AccountLocked);
    assert!(locked.error.retry_after_s.unwrap() > 800);
    // Locked: neither the right current password nor a login gets checked.
    change_from(&s, DEMO_PASSWORD, &token)
        .await
        .assert_error(ErrorCode::AccountLocked);
    s.login(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::AccountLocked);
    // The lock ends with its window.
    advance(&s.clock, 15 * 60 + 1);
    change_from(&s, DEMO_PASSWORD, &token)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_right_current_password_forgets_earlier_failures() {
    let s = TestServer::start().await;
    let token = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    for _ in 0..9 {
        change_from(&s, "Wrong-current-1", &token)
            .await
            .assert_error(ErrorCode::CurrentPasswordIncorrect);
    }
    change_from(&s, DEMO_PASSWORD, &token)
        .await
        .assert_status(200);
    s.login(DEMO_EMAIL, "Wrong-password-1")
        .await
        .assert_error(ErrorCode::InvalidCredentials);
}

#[tokio::test]
async fn a_reset_link_mailed_before_a_change_in_settings_is_dead() {
    let s = TestServer::start().await;
    let link_token = s.reset_token_for(DEMO_EMAIL).await;
    let session = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    s.put_as(
        "/me/password",
        change_body(DEMO_PASSWORD, &good_password(1)),
        &session,
    )
    .await
    .assert_status(200);
    s.post("/password/reset/check", json!({ "token": link_token }))
        .await
        .assert_error(ErrorCode::TokenExpired);
    s.post(
        "/password/reset",
        reset_body(&link_token, &good_password(2)),
    )
    .await
    .assert_error(ErrorCode::TokenExpired);
    // The password set in Settings still stands; a new mail works again.
    s.login(DEMO_EMAIL, &good_password(1))
        .await
        .assert_status(201);
    advance(&s.clock, 61);
    let fresh = s.reset_token_for(DEMO_EMAIL).await;
    s.post("/password/reset", reset_body(&fresh, &good_password(3)))
        .await
        .assert_status(200);
}

/// "Ｎｅｗ－ｗｉｄｅ－ｐａｓｓ１" as a Japanese IME types it in full-width mode.
const FULL_WIDTH: &str = "\u{FF2E}\u{FF45}\u{FF57}\u{FF0D}\u{FF57}\u{FF49}\u{FF44}\u{FF45}\u{FF0D}\u{FF50}\u{FF41}\u{FF53}\u{FF53}\u{FF11}";
const HALF_WIDTH: &str = "New-wide-pass1";

#[tokio::test]
async fn a_password_set_full_width_logs_in_typed_half_width() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    // The confirmation typed half-width matches too: they are one password.
    s.post(
        "/password/reset",
        json!({ "token": token, "new_password": FULL_WIDTH, "new_password_confirmation": HALF_WIDTH }),
    )
    .await
    .assert_status(200);
    s.login(DEMO_EMAIL, HALF_WIDTH).await.assert_status(201);
    s.login(DEMO_EMAIL, FULL_WIDTH).await.assert_status(201);
}

#[tokio::test]
async fn a_hash_made_before_normalization_still_logs_in_and_is_replaced() {
    use argon2::password_hash::{PasswordHasher, SaltString};

    let s = TestServer::start().await;
    // A member whose hash is of the full-width password as typed, as an older server stored it.
    let salt = SaltString::generate(&mut rand_core::OsRng);
    let legacy = argon2::Argon2::default()
        .hash_password(FULL_WIDTH.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let db = open_database(s.dir.path());
    let form = || -> String {
        query_value(
            s.dir.path(),
            "SELECT password_form FROM users WHERE email_normalized = ?1",
            &[Arg::Text(DEMO_EMAIL)],
        )
    };
    db.with(|c| {
        c.execute(
            "UPDATE users SET password_hash = ?1, password_form = 'as_typed' \
             WHERE email_normalized = ?2",
            &[Arg::Text(&legacy), Arg::Text(DEMO_EMAIL)],
        )
    })
    .unwrap();
    s.login(DEMO_EMAIL, HALF_WIDTH)
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    s.login(DEMO_EMAIL, FULL_WIDTH).await.assert_status(201);
    assert_eq!(form(), "nfkc");
    s.login(DEMO_EMAIL, HALF_WIDTH).await.assert_status(201);
}

fn failed_rules(reply: &Reply) -> Vec<PolicyRule> {
    let envelope = reply.assert_error(ErrorCode::PasswordPolicy);
    serde_json::from_value(envelope.error.details.unwrap()["failed"].clone()).unwrap()
}

#[tokio::test]
async fn common_passwords_and_ones_built_from_the_members_name_are_refused() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    for refused in [
        "password123",
        "Password123!",
        "qwerty123",
        "Taro-yamada-7",
        "yamada2024",
    ] {
        let reply = s.post("/password/reset", reset_body(&token, refused)).await;
        assert_eq!(
            failed_rules(&reply),
            vec![PolicyRule::CommonPassword],
            "{refused}"
        );
    }
    // The same rule guards a change in Settings.
    let session = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let reply = s
        .put_as(
            "/me/password",
            change_body(DEMO_PASSWORD, "iloveyou1"),
            &session,
        )
        .await;
    assert_eq!(failed_rules(&reply), vec![PolicyRule::CommonPassword]);
    // The token was not used up by the refusals.
    s.post("/password/reset", reset_body(&token, &good_password(1)))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn past_the_hashing_bound_logins_are_answered_503_server_busy_at_once() {
    let s = TestServer::start_with(|c| {
        c.hash_workers = 1;
        c.hash_queue = 1;
        c.hash_wait = Duration::from_millis(200);
        c.client_limit = 1000;
        c.max_connections_per_client = 100;
    })
    .await;
    let logins = (0..40)
        .map(|n| json!({ "email": format!("nobody{n}@example.com"), "password": "Any-password-1" }))
        .collect();
    let started = Instant::now();
    let statuses = in_parallel(&s, logins).await;
    assert!(count(&statuses, 503) > 0, "{statuses:?}");
    assert_eq!(
        count(&statuses, 401) + count(&statuses, 503),
        40,
        "{statuses:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // Right after the burst the server answers at once.
    let t = Instant::now();
    s.login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, DEMO_LOGIN_ID_PASSWORD)
        .await
        .assert_status(201);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // Wrong passwords for one member, eight at once: the one worker and the one place in
    // the queue take two, the others are answered busy.
    let bodies = (0..8)
        .map(|_| json!({ "email": DEMO_EMAIL, "password": "Wrong-password-1" }))
        .collect::<Vec<_>>();
    let replies = logins_at_once(&s, bodies).await;
    let checked = replies.iter().filter(|r| r.status.as_u16() == 401).count();
    let busy: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status.as_u16() == 503)
        .collect();
    assert_eq!(checked + busy.len(), 8, "{replies:?}");
    assert!(!busy.is_empty(), "{replies:?}");
    // The answer names its code and when to try again.
    busy[0].assert_error(ErrorCode::ServerBusy);
    assert!(busy[0].header("retry-after").is_some());
    // A busy login counts nothing: only the checked ones are failures, so the lock comes at
    // the tenth checked failure, not before.
    let failures = || -> i64 {
        query_value(
            s.dir.path(),
            "SELECT COUNT(*) FROM login_failures WHERE login_key = ?1",
            &[Arg::Text(&format!("email:{DEMO_EMAIL}"))],
        )
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while failures() != checked as i64 {
        assert!(
            Instant::now() < deadline,
            "{} failures counted for {checked} checked logins",
            failures()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in checked..9 {
        s.login(DEMO_EMAIL, "Wrong-password-1")
            .await
            .assert_error(ErrorCode::InvalidCredentials);
    }
    s.login(DEMO_EMAIL, "Wrong-password-1")
        .await
        .assert_error(ErrorCode::AccountLocked);
}

/// Reads until the server closes the connection or `limit` passes; answers what was read and
/// whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
        }
    }
}

#[tokio::test]
async fn a_connection_that_sends_half_a_request_head_is_closed_after_the_read_timeout() {
    let s = TestServer::start_with(|c| c.header_read_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(s.server().addr()).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/v1/sessions HTTP/1.1\r\nHost: {}\r\n",
                s.server().addr()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(closed, "still open after 5 s");
    assert!(started.elapsed() < Duration::from_secs(3));
    // An idle kept-alive connection goes the same way.
    let mut idle = TcpStream::connect(s.server().addr()).await.unwrap();
    idle.write_all(
        format!(
            "GET /api/v1/me HTTP/1.1\r\nHost: {}\r\n\r\n",
            s.server().addr()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let (answer, closed) = read_until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(closed, "an idle kept-alive connection stayed open");
}

#[tokio::test]
async fn a_body_that_never_arrives_is_answered_408_request_timeout() {
    let s = TestServer::start_with(|c| c.body_read_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(s.server().addr()).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/v1/sessions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{{\"email\":",
                s.server().addr()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert!(closed);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once_and_served_again_after() {
    let s = TestServer::start_with(|c| c.max_connections = 4).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut stream = TcpStream::connect(s.server().addr()).await.unwrap();
        stream
            .write_all(b"GET /api/v1/me HTTP/1.1\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut over = TcpStream::connect(s.server().addr()).await.unwrap();
    let _ = over
        .write_all(
            format!(
                "GET /api/v1/me HTTP/1.1\r\nHost: {}\r\n\r\n",
                s.server().addr()
            )
            .as_bytes(),
        )
        .await;
    let (answer, closed) = read_until_closed(&mut over, Duration::from_secs(2)).await;
    assert!(closed && answer.is_empty(), "{answer:?} closed={closed}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
}

/// A connection to the server from another loopback address (all of 127.0.0.0/8 is this machine).
async fn connect_from(s: &TestServer, source: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket.connect(s.server().addr()).await.unwrap()
}

#[tokio::test]
async fn one_client_cannot_hold_every_connection() {
    let s = TestServer::start_with(|c| c.max_connections_per_client = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect_from(&s, "127.0.0.2").await;
        stream
            .write_all(b"GET /api/v1/me HTTP/1.1\r\n")
            .await
            .unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fourth = connect_from(&s, "127.0.0.2").await;
    let _ = fourth
        .write_all(
            format!(
                "GET /api/v1/me HTTP/1.1\r\nHost: {}\r\n\r\n",
                s.server().addr()
            )
            .as_bytes(),
        )
        .await;
    // Answered, as nginx's limit_conn answers, then closed: the app can say what happened.
    let (answer, closed) = read_until_closed(&mut fourth, Duration::from_secs(2)).await;
    assert!(closed, "{answer:?}");
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer:?}");
    assert!(
        answer.contains("\"code\":\"too_many_connections\""),
        "{answer:?}"
    );
    assert!(answer.contains("retry-after: "), "{answer:?}");
    // Everyone else is served meanwhile.
    let mut other = connect_from(&s, "127.0.0.3").await;
    other
        .write_all(
            format!(
                "GET /api/v1/me HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                s.server().addr()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut other, Duration::from_secs(2)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    drop(held);
}

async fn forgot_from(s: &TestServer, email: &str, forwarded_for: &str) -> u16 {
    s.send(
        Method::POST,
        &format!("{}/password/forgot", s.api),
        Some(json!({ "email": email })),
        None,
        &[("x-forwarded-for", forwarded_for)],
    )
    .await
    .status
    .as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let s = TestServer::start_with(|c| {
        c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        c.client_limit = 2;
    })
    .await;
    // The left-most entry is what the client wrote; the proxy appended the address it saw.
    // IPv6 clients share their /64.
    for (email, forwarded_for, status) in [
        ("a1@example.com", "6.6.6.6, 198.51.100.1", 202),
        ("a2@example.com", "7.7.7.7, 198.51.100.1", 202),
        ("a3@example.com", "8.8.8.8, 198.51.100.1", 429),
        ("b1@example.com", "198.51.100.2", 202),
        ("c1@example.com", "2001:db8:1:2::1", 202),
        ("c2@example.com", "2001:db8:1:2::ff", 202),
        ("c3@example.com", "2001:db8:1:2:3::9", 429),
    ] {
        assert_eq!(
            forgot_from(&s, email, forwarded_for).await,
            status,
            "{forwarded_for}"
        );
    }
}

#[tokio::test]
async fn without_trusted_proxies_forwarding_headers_are_ignored() {
    let s = TestServer::start_with(|c| c.client_limit = 2).await;
    assert_eq!(forgot_from(&s, "a1@example.com", "198.51.100.1").await, 202);
    assert_eq!(forgot_from(&s, "a2@example.com", "198.51.100.2").await, 202);
    assert_eq!(forgot_from(&s, "a3@example.com", "198.51.100.3").await, 429);
}

#[tokio::test]
async fn dev_mode_refuses_to_listen_on_a_network_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = unipos_server::Config::for_tests(dir.path());
    config.dev = true;
    config.listen = "0.0.0.0:0".parse().unwrap();
    let err = unipos_server::spawn(config).await.unwrap_err();
    assert!(format!("{err:#}").contains("loopback"), "{err:#}");
}

#[tokio::test]
async fn every_answer_but_the_well_known_files_says_no_store() {
    let s = TestServer::start().await;
    let token = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let replies = [
        s.login(DEMO_EMAIL, DEMO_PASSWORD).await,
        s.login(DEMO_EMAIL, "Wrong-password-1").await,
        s.get_as("/me", &token).await,
        s.get("/nowhere").await,
        s.get_page("/reset_password?token=abc").await,
    ];
    for reply in &replies {
        assert_eq!(
            reply.header("cache-control").as_deref(),
            Some("no-store"),
            "{} {}",
            reply.status,
            reply.text()
        );
    }
    let well_known = s.get_page("/.well-known/assetlinks.json").await;
    assert_eq!(well_known.header("cache-control"), None);
}
