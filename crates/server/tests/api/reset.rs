//! POST /password/reset/check and POST /password/reset: tokens single use, short-lived, superseded
//! by newer mail; the password rules; sessions revoked; the "password changed" mail.

use serde_json::json;
use unipos_protocol::{
    ErrorCode, PasswordPolicy, PolicyRule, ResetCheckResponse, PASSWORD_CHANGED_MAIL_SUBJECT,
};

use crate::common::*;

fn reset_body(token: &str, password: &str) -> serde_json::Value {
    json!({ "token": token, "new_password": password, "new_password_confirmation": password })
}

#[tokio::test]
async fn check_answers_the_hint_expiry_and_policy_and_never_uses_the_token_up() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    for _ in 0..3 {
        let reply = s
            .post("/password/reset/check", json!({ "token": token }))
            .await;
        reply.assert_status(200);
        let check: ResetCheckResponse = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(check.email_hint.as_deref(), Some("t***@example.com"));
        assert_eq!(check.login_id, None);
        assert_eq!(check.policy, PasswordPolicy::default());
        assert!(check.expires_at.ends_with('Z'), "{}", check.expires_at);
    }
    s.post("/password/reset", reset_body(&token, &good_password(1)))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn check_expires_at_is_the_configured_ttl_away() {
    let s =
        TestServer::start_with(|c| c.reset_token_ttl = std::time::Duration::from_secs(600)).await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let reply = s
        .post("/password/reset/check", json!({ "token": token }))
        .await;
    let expires_at = reply.json()["expires_at"].as_str().unwrap().to_owned();
    let left = seconds_from_now(&expires_at);
    assert!((590..=600).contains(&left), "{left}");
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_token_invalid() {
    let s = TestServer::start().await;
    for token in [
        "A".repeat(43),
        "short".to_owned(),
        "<script>".to_owned(),
        String::new(),
    ] {
        s.post("/password/reset/check", json!({ "token": token }))
            .await
            .assert_error(ErrorCode::TokenInvalid);
        s.post("/password/reset", reset_body(&token, &good_password(1)))
            .await
            .assert_error(ErrorCode::TokenInvalid);
    }
}

#[tokio::test]
async fn a_token_works_once() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    s.post("/password/reset", reset_body(&token, &good_password(1)))
        .await
        .assert_status(200);
    s.post("/password/reset", reset_body(&token, &good_password(2)))
        .await
        .assert_error(ErrorCode::TokenUsed);
    s.post("/password/reset/check", json!({ "token": token }))
        .await
        .assert_error(ErrorCode::TokenUsed);
    // The first new password is the one that holds.
    s.login(DEMO_EMAIL, &good_password(2))
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    s.login(DEMO_EMAIL, &good_password(1))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn a_token_expires_after_the_ttl() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    advance(&s.clock, 3599);
    s.post("/password/reset/check", json!({ "token": token }))
        .await
        .assert_status(200);
    advance(&s.clock, 2);
    s.post("/password/reset/check", json!({ "token": token }))
        .await
        .assert_error(ErrorCode::TokenExpired);
    s.post("/password/reset", reset_body(&token, &good_password(1)))
        .await
        .assert_error(ErrorCode::TokenExpired);
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn a_one_second_ttl_expires_in_real_time() {
    let s = TestServer::start_with(|c| c.reset_token_ttl = std::time::Duration::from_secs(1)).await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    s.post("/password/reset/check", json!({ "token": token }))
        .await
        .assert_error(ErrorCode::TokenExpired);
}

#[tokio::test]
async fn a_newer_mail_supersedes_the_older_link() {
    let s = TestServer::start().await;
    let older = s.reset_token_for(DEMO_EMAIL).await;
    advance(&s.clock, 60);
    let newer = s.reset_token_for(DEMO_EMAIL).await;
    assert_ne!(older, newer);
    s.post("/password/reset/check", json!({ "token": older }))
        .await
        .assert_error(ErrorCode::TokenSuperseded);
    s.post("/password/reset", reset_body(&older, &good_password(1)))
        .await
        .assert_error(ErrorCode::TokenSuperseded);
    s.post("/password/reset", reset_body(&newer, &good_password(1)))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn reset_checks_the_token_before_the_passwords() {
    let s = TestServer::start().await;
    s.post(
        "/password/reset",
        json!({ "token": "A".repeat(43), "new_password": "a", "new_password_confirmation": "b" }),
    )
    .await
    .assert_error(ErrorCode::TokenInvalid);
}

#[tokio::test]
async fn reset_refuses_a_mismatch_then_the_policy_and_keeps_the_token() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    s.post(
        "/password/reset",
        json!({ "token": token, "new_password": "short", "new_password_confirmation": "shorter" }),
    )
    .await
    .assert_error(ErrorCode::PasswordMismatch);
    let reply = s.post("/password/reset", reset_body(&token, "short")).await;
    let envelope = reply.assert_error(ErrorCode::PasswordPolicy);
    let failed: Vec<PolicyRule> =
        serde_json::from_value(envelope.error.details.unwrap()["failed"].clone()).unwrap();
    assert_eq!(failed, PasswordPolicy::default().check("short"));
    assert_eq!(
        failed,
        vec![PolicyRule::MinLength, PolicyRule::RequireDigit]
    );
    // Neither refusal used the token up.
    s.post("/password/reset", reset_body(&token, &good_password(1)))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn reset_follows_the_organisations_own_policy() {
    let s = TestServer::start().await;
    let strict = PasswordPolicy {
        min_length: 12,
        max_length: 64,
        require_lower: true,
        require_upper: true,
        require_digit: true,
        require_symbol: true,
    };
    s.store()
        .set_team(json!({ "slug": "strict", "policy": strict }))
        .unwrap();
    s.store()
        .add_member(json!({"email": "ken@strict.example", "team": "strict", "password": "Strict-pass-123", "display_name": "Ken", "login_method": "email"}))
        .unwrap();
    let token = s.reset_token_for("ken@strict.example").await;
    let check = s
        .post("/password/reset/check", json!({ "token": token }))
        .await;
    assert_eq!(
        check.json()["policy"],
        serde_json::to_value(&strict).unwrap()
    );
    let reply = s
        .post("/password/reset", reset_body(&token, "lowercase1"))
        .await;
    let failed = reply
        .assert_error(ErrorCode::PasswordPolicy)
        .error
        .details
        .unwrap();
    assert_eq!(
        failed,
        json!({"failed": ["min_length", "require_upper", "require_symbol"]})
    );
    s.post("/password/reset", reset_body(&token, "Upper-lower-123"))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn reset_logs_in_revokes_every_other_session_and_mails_a_notice() {
    let s = TestServer::start().await;
    let phone = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let laptop = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let reply = s
        .post("/password/reset", reset_body(&token, &good_password(7)))
        .await;
    reply.assert_status(200);
    let session = reply.session();
    assert_eq!(session.user.email.as_deref(), Some(DEMO_EMAIL));
    assert_eq!(session.user.team, DEMO_TEAM);
    assert_eq!(session.session.token.len(), 43);
    for old in [&phone, &laptop] {
        s.get_as("/me", old)
            .await
            .assert_error(ErrorCode::SessionExpired);
    }
    s.get_as("/me", &session.session.token)
        .await
        .assert_status(200);
    s.login(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    s.login(DEMO_EMAIL, &good_password(7))
        .await
        .assert_status(201);
    let mails = s.wait_for_mails(DEMO_EMAIL, 2).await;
    assert_eq!(mails[1].subject, PASSWORD_CHANGED_MAIL_SUBJECT);
    assert!(mails[1].links.is_empty());
}

#[tokio::test]
async fn a_password_reset_lifts_a_lockout() {
    let s = TestServer::start().await;
    for _ in 0..10 {
        s.login(DEMO_EMAIL, "wrong-password-1").await;
    }
    s.login(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::AccountLocked);
    let token = s.reset_token_for(DEMO_EMAIL).await;
    s.post("/password/reset", reset_body(&token, &good_password(3)))
        .await
        .assert_status(200);
    s.login(DEMO_EMAIL, &good_password(3))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn two_resets_racing_with_one_token_let_exactly_one_through() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let (a, b) = tokio::join!(
        s.post("/password/reset", reset_body(&token, &good_password(1))),
        s.post("/password/reset", reset_body(&token, &good_password(2))),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 410], "{} / {}", a.text(), b.text());
    let loser = if a.status.as_u16() == 410 { a } else { b };
    loser.assert_error(ErrorCode::TokenUsed);
}
