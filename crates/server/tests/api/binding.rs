//! A reset link bound to the app that asked for it (RFC 7636's S256, `unipos_protocol::binding`):
//! the app sends the challenge with "Send" and keeps the verifier; the mailed link sets a
//! password only with that verifier. An impostor app that catches the link, or another device,
//! cannot use it.

use serde_json::{json, Value};
use unipos_protocol::binding::code_challenge;
use unipos_protocol::ErrorCode;

use crate::common::*;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const ANOTHER: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// "Send" from the app: the address and the challenge of its verifier; answers the link's token.
async fn bound_token(s: &TestServer) -> String {
    let before = s.outbox(Some(DEMO_EMAIL)).await.len();
    s.post(
        "/password/forgot",
        json!({ "email": DEMO_EMAIL, "code_challenge": code_challenge(VERIFIER) }),
    )
    .await
    .assert_status(202);
    let mails = s.wait_for_mails(DEMO_EMAIL, before + 1).await;
    token_of(&mails.last().unwrap().links[0])
}

fn check(token: &str, verifier: Option<&str>) -> Value {
    json!({ "token": token, "code_verifier": verifier })
}

fn reset(token: &str, verifier: Option<&str>, password: &str) -> Value {
    json!({ "token": token, "code_verifier": verifier, "new_password": password,
            "new_password_confirmation": password })
}

#[tokio::test]
async fn a_bound_link_sets_a_password_only_with_the_verifier_of_the_app_that_asked() {
    let s = TestServer::start().await;
    let token = bound_token(&s).await;
    // Another app (or device) holds no verifier, or another one: refused, nothing used up.
    for verifier in [None, Some(ANOTHER)] {
        s.post("/password/reset/check", check(&token, verifier))
            .await
            .assert_error(ErrorCode::ResetLinkOtherDevice);
        s.post(
            "/password/reset",
            reset(&token, verifier, &good_password(1)),
        )
        .await
        .assert_error(ErrorCode::ResetLinkOtherDevice);
    }
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
    // The app that asked.
    s.post("/password/reset/check", check(&token, Some(VERIFIER)))
        .await
        .assert_status(200);
    s.post(
        "/password/reset",
        reset(&token, Some(VERIFIER), &good_password(1)),
    )
    .await
    .assert_status(200);
    s.login(DEMO_EMAIL, &good_password(1))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn a_link_asked_for_without_a_challenge_works_without_a_verifier() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    s.post("/password/reset/check", check(&token, None))
        .await
        .assert_status(200);
    // A verifier sent along is harmless: there is nothing to match.
    s.post(
        "/password/reset",
        reset(&token, Some(ANOTHER), &good_password(2)),
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn a_dead_bound_link_says_it_is_dead_whoever_opens_it() {
    let s = TestServer::start().await;
    let token = bound_token(&s).await;
    advance(&s.clock, 3601);
    s.post("/password/reset/check", check(&token, None))
        .await
        .assert_error(ErrorCode::TokenExpired);
}

#[tokio::test]
async fn a_challenge_of_another_shape_is_refused_and_nothing_is_sent() {
    let s = TestServer::start().await;
    for bad in ["short", &"A".repeat(44), &format!("{}=", "A".repeat(42))] {
        s.post(
            "/password/forgot",
            json!({ "email": DEMO_EMAIL, "code_challenge": bad }),
        )
        .await
        .assert_error(ErrorCode::BadRequest);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(s.outbox(Some(DEMO_EMAIL)).await.is_empty());
}
