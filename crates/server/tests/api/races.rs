//! Requests that overlap: a login or a change in flight while a reset commits, a check abandoned
//! half-way, a resend whose mail never goes out.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::AsyncWriteExt;
use unipos_protocol::{ErrorCode, ErrorEnvelope};

use crate::common::*;

/// One hashing worker and room to wait: requests queue for it, so they overlap for sure.
async fn one_hashing_worker() -> TestServer {
    TestServer::start_with(|c| {
        c.hash_workers = 1;
        c.hash_queue = 1000;
        c.hash_wait = Duration::from_secs(20);
        c.client_limit = 100_000;
        c.max_connections_per_client = 1000;
    })
    .await
}

async fn post_raw(
    http: reqwest::Client,
    url: String,
    body: serde_json::Value,
    bearer: Option<String>,
) -> (u16, String) {
    let mut req = http.post(url).json(&body);
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Logins for unknown addresses that keep the one hashing worker busy for a while.
fn keep_the_worker_busy(s: &TestServer, n: usize) -> Vec<tokio::task::JoinHandle<(u16, String)>> {
    (0..n)
        .map(|i| {
            tokio::spawn(post_raw(
                s.http.clone(),
                format!("{}/sessions", s.api),
                json!({"email": format!("x{i}@example.com"), "password": "Wrong-password-1"}),
                None,
            ))
        })
        .collect()
}

/// Waits until the server has admitted `n` password checks since start (to run or to wait):
/// the one hashing worker takes them in that order.
async fn until_admitted(s: &TestServer, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.server().password_checks_admitted() < n {
        assert!(
            Instant::now() < deadline,
            "{} password checks admitted, not {n}",
            s.server().password_checks_admitted()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn no_session_made_with_the_old_password_outlives_a_reset() {
    let s = one_hashing_worker().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let login = || {
        tokio::spawn(post_raw(
            s.http.clone(),
            format!("{}/sessions", s.api),
            json!({"email": DEMO_EMAIL, "password": DEMO_PASSWORD}),
            None,
        ))
    };
    // Eight logins with the old password queue for the worker, then the reset's new hash, then
    // eight more logins: these read the old password before the reset commits and check it
    // after.
    let start = s.server().password_checks_admitted();
    let before: Vec<_> = (0..8).map(|_| login()).collect();
    until_admitted(&s, start + 8).await;
    let p = good_password(7);
    let reset = tokio::spawn(post_raw(
        s.http.clone(),
        format!("{}/password/reset", s.api),
        json!({"token": token, "new_password": p, "new_password_confirmation": p}),
        None,
    ));
    until_admitted(&s, start + 9).await;
    let during: Vec<_> = (0..8).map(|_| login()).collect();
    assert_eq!(reset.await.unwrap().0, 200);

    // Checked before the reset: a session, unless the reset committed before it was stored.
    let mut sessions = Vec::new();
    for l in before {
        let (status, body) = l.await.unwrap();
        match status {
            201 => sessions.push(body),
            401 => assert!(body.contains("\"invalid_credentials\""), "{body}"),
            _ => panic!("{status} {body}"),
        }
    }
    assert!(!sessions.is_empty(), "no session was made before the reset");
    let mut checked_after_the_reset = 0;
    for l in during {
        let (status, body) = l.await.unwrap();
        let envelope: ErrorEnvelope = serde_json::from_str(&body)
            .unwrap_or_else(|_| panic!("a session from the old password: {status} {body}"));
        match (status, envelope.error.code) {
            (401, ErrorCode::InvalidCredentials) => checked_after_the_reset += 1,
            // Other checks of the same key in flight: asked to wait a moment, not locked.
            (423, ErrorCode::AccountLocked) => {
                assert!(envelope.error.retry_after_s <= Some(2), "{body}")
            }
            _ => panic!("{status} {body}"),
        }
    }
    assert!(
        checked_after_the_reset > 0,
        "no login read the old password before the reset and checked it after"
    );
    for body in sessions {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let session = v["session"]["token"].as_str().unwrap();
        s.get_as("/me", session)
            .await
            .assert_error(ErrorCode::SessionExpired);
    }
    s.login(DEMO_EMAIL, &p).await.assert_status(201);
}

#[tokio::test]
async fn a_change_on_a_stolen_session_cannot_undo_the_owners_reset() {
    let s = one_hashing_worker().await;
    let stolen = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let busy = keep_the_worker_busy(&s, 6);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let attacker = good_password(66);
    let (http, url) = (s.http.clone(), format!("{}/me/password", s.api));
    let body = json!({"current_password": DEMO_PASSWORD, "new_password": attacker, "new_password_confirmation": attacker});
    let change = tokio::spawn(async move {
        let r = http.put(url).bearer_auth(stolen).json(&body).send().await;
        r.unwrap().status().as_u16()
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    let owner = good_password(5);
    let reset = post_raw(
        s.http.clone(),
        format!("{}/password/reset", s.api),
        json!({"token": token, "new_password": owner, "new_password_confirmation": owner}),
        None,
    )
    .await;
    assert_eq!(reset.0, 200);
    change.await.unwrap();
    for b in busy {
        b.await.unwrap();
    }
    s.login(DEMO_EMAIL, &owner).await.assert_status(201);
    s.login(DEMO_EMAIL, &attacker)
        .await
        .assert_error(ErrorCode::InvalidCredentials);
}

/// Failed logins the database holds for Taro's address, pending checks included.
fn failures_of_taro(s: &TestServer) -> i64 {
    query_value(
        s.dir.path(),
        "SELECT COUNT(*) FROM login_failures WHERE login_key = ?1",
        &[Arg::Text(&format!("email:{DEMO_EMAIL}"))],
    )
}

/// Waits until `what` holds.
async fn until(what: &str, mut holds: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !holds() {
        assert!(Instant::now() < deadline, "{what} within 5 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_check_the_client_abandons_is_not_counted_as_a_guess() {
    let s = one_hashing_worker().await;
    for _ in 0..9 {
        s.login(DEMO_EMAIL, "Wrong-password-1")
            .await
            .assert_error(ErrorCode::InvalidCredentials);
    }
    assert_eq!(failures_of_taro(&s), 9);
    let start = s.server().password_checks_admitted();
    let busy = keep_the_worker_busy(&s, 15);
    until_admitted(&s, start + 15).await;
    // The right password, from an app that gives up while the check waits for the worker.
    let body = json!({"email": DEMO_EMAIL, "password": DEMO_PASSWORD}).to_string();
    let mut stream = tokio::net::TcpStream::connect(s.server().addr())
        .await
        .unwrap();
    stream
        .write_all(
            format!(
                "POST /api/v1/sessions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                s.server().addr(),
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // The server read it: the check is counted, as a failure until its password is judged,
    // and waits behind the others.
    until("the check counted", || failures_of_taro(&s) == 10).await;
    until_admitted(&s, start + 16).await;
    drop(stream);
    // Abandoned, it is given back unjudged.
    until("the abandoned check given back", || {
        failures_of_taro(&s) == 9
    })
    .await;
    for b in busy {
        b.await.unwrap();
    }
    assert_eq!(failures_of_taro(&s), 9);
    // Nine failures: the right password logs in, at once.
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn a_resend_that_never_goes_out_leaves_the_delivered_link_working() {
    // A long lease: a mail being sent is due again in an hour, a mail that failed in seconds.
    let s = TestServer::start_with(|c| c.mail_lease = Duration::from_secs(3600)).await;
    let first = s.reset_token_for(DEMO_EMAIL).await;
    // Mail stops going out: the outbox folder becomes a file.
    let dir = s.dir.path().join("outbox");
    let delivered = std::fs::read_dir(&dir).unwrap().count();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a folder").unwrap();
    advance(&s.clock, 61);
    s.forgot(DEMO_EMAIL).await.assert_status(202);
    // The deliverer tried to send it and could not: the mail waits for another attempt in a
    // few seconds, and the link it would have carried is gone with it.
    let failed_attempts = || -> i64 {
        let soon = s.clock.now_ms() + 60_000;
        query_value(
            s.dir.path(),
            "SELECT COUNT(*) FROM mail_outbox WHERE to_addr = ?1 AND sent_at IS NULL \
             AND attempts >= 1 AND not_before < ?2",
            &[Arg::Text(DEMO_EMAIL), Arg::Int(soon)],
        )
    };
    until("a failed delivery", || failed_attempts() == 1).await;
    let links: i64 = query_value(s.dir.path(), "SELECT COUNT(*) FROM reset_tokens", &[]);
    assert_eq!(links, 1, "only the delivered link exists");
    s.post("/password/reset/check", json!({ "token": first }))
        .await
        .assert_status(200);

    // Once mail goes out again, the retry carries a new link, and only then the old one ends.
    std::fs::remove_file(&dir).unwrap();
    std::fs::create_dir(&dir).unwrap();
    advance(&s.clock, 10);
    let mails = s.wait_for_mails(DEMO_EMAIL, 1).await;
    assert_eq!(delivered, 1);
    let second = token_of(&mails[0].links[0]);
    assert_ne!(second, first);
    s.post("/password/reset/check", json!({ "token": first }))
        .await
        .assert_error(ErrorCode::TokenSuperseded);
    s.post("/password/reset/check", json!({ "token": second }))
        .await
        .assert_status(200);
}
