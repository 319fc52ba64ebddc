//! Requests that overlap: a login or a change in flight while a reset commits, a check abandoned
//! half-way, a resend whose mail never goes out.

use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use unipos_protocol::ErrorCode;

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
    let mut logins: Vec<_> = (0..8).map(|_| login()).collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let p = good_password(7);
    let reset = tokio::spawn(post_raw(
        s.http.clone(),
        format!("{}/password/reset", s.api),
        json!({"token": token, "new_password": p, "new_password_confirmation": p}),
        None,
    ));
    tokio::time::sleep(Duration::from_millis(30)).await;
    logins.extend((0..8).map(|_| login()));
    assert_eq!(reset.await.unwrap().0, 200);
    for l in logins {
        let (status, body) = l.await.unwrap();
        if status == 201 {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let session = v["session"]["token"].as_str().unwrap();
            s.get_as("/me", session)
                .await
                .assert_error(ErrorCode::SessionExpired);
        }
    }
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

#[tokio::test]
async fn a_check_the_client_abandons_is_not_counted_as_a_guess() {
    let s = one_hashing_worker().await;
    for _ in 0..9 {
        s.login(DEMO_EMAIL, "Wrong-password-1")
            .await
            .assert_error(ErrorCode::InvalidCredentials);
    }
    let busy = keep_the_worker_busy(&s, 15);
    tokio::time::sleep(Duration::from_millis(50)).await;
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
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);
    for b in busy {
        b.await.unwrap();
    }
    // Until the abandoned check is given back (or, should it still run, checked), the right
    // password may be asked to wait a moment for it; kept as a guess, it would wait 15 minutes.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let reply = s.login(DEMO_EMAIL, DEMO_PASSWORD).await;
        if reply.status == 201 {
            break;
        }
        let envelope = reply.assert_error(ErrorCode::AccountLocked);
        assert!(envelope.error.retry_after_s <= Some(2), "{}", reply.text());
        assert!(std::time::Instant::now() < deadline, "{}", reply.text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_resend_that_never_goes_out_leaves_the_delivered_link_working() {
    let s = TestServer::start().await;
    let first = s.reset_token_for(DEMO_EMAIL).await;
    // Mail stops going out: the outbox folder becomes a file.
    let dir = s.dir.path().join("outbox");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a folder").unwrap();
    advance(&s.clock, 61);
    s.forgot(DEMO_EMAIL).await.assert_status(202);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        s.outbox(Some(DEMO_EMAIL)).await.len(),
        1,
        "nothing new went out"
    );
    s.post("/password/reset/check", json!({ "token": first }))
        .await
        .assert_status(200);
}
