//! POST /sessions, DELETE /sessions/current, GET /me, PUT /me/password, GET /timeline.

use std::time::Duration;

use serde_json::json;
use unipos_protocol::{
    ErrorCode, LoginMethod, PasswordPolicy, PasswordPolicyResponse, Timeline, User,
    PASSWORD_CHANGED_MAIL_SUBJECT,
};

use crate::common::*;

fn change_body(current: &str, new: &str) -> serde_json::Value {
    json!({ "current_password": current, "new_password": new, "new_password_confirmation": new })
}

#[tokio::test]
async fn login_by_email_answers_201_with_session_and_user() {
    let s = TestServer::start().await;
    let reply = s.login(DEMO_EMAIL, DEMO_PASSWORD).await;
    reply.assert_status(201);
    let session = reply.session();
    assert_eq!(session.session.token.len(), 43);
    assert_eq!(session.user.display_name, "Taro Yamada");
    assert_eq!(session.user.login_method, LoginMethod::Email);
    assert_eq!(session.user.team, DEMO_TEAM);
    // Addresses compare without case.
    s.login("TARO@example.COM", DEMO_PASSWORD)
        .await
        .assert_status(201);
}

#[tokio::test]
async fn sessions_last_thirty_days() {
    let s = TestServer::start().await;
    let reply = s.login(DEMO_EMAIL, DEMO_PASSWORD).await;
    let session = reply.session().session;
    let days = seconds_from_now(&session.expires_at) as f64 / 86_400.0;
    assert!((29.9..=30.0).contains(&days), "{days}");
    advance(&s.clock, 29 * 24 * 3600);
    s.get_as("/me", &session.token).await.assert_status(200);
    advance(&s.clock, 24 * 3600 + 1);
    s.get_as("/me", &session.token)
        .await
        .assert_error(ErrorCode::SessionExpired);
}

#[tokio::test]
async fn login_by_team_and_login_id_answers_201() {
    let s = TestServer::start().await;
    let reply = s
        .post(
            "/sessions",
            json!({ "team": DEMO_TEAM, "login_id": DEMO_LOGIN_ID, "password": DEMO_LOGIN_ID_PASSWORD }),
        )
        .await;
    reply.assert_status(201);
    let user = reply.session().user;
    assert_eq!(user.login_method, LoginMethod::LoginId);
    assert_eq!(user.email, None);
    assert_eq!(user.login_id.as_deref(), Some(DEMO_LOGIN_ID));
}

#[tokio::test]
async fn wrong_password_and_unknown_account_answer_the_same_401() {
    let s = TestServer::start().await;
    let wrong = s.login(DEMO_EMAIL, "Wrong-password-1").await;
    wrong.assert_error(ErrorCode::InvalidCredentials);
    let unknown = s.login("nobody@example.com", "Wrong-password-1").await;
    unknown.assert_error(ErrorCode::InvalidCredentials);
    assert_eq!(wrong.body, unknown.body);
    let by_id = s
        .post(
            "/sessions",
            json!({ "team": DEMO_TEAM, "login_id": "nobody", "password": "x" }),
        )
        .await;
    assert_eq!(by_id.body, wrong.body);
    let wrong_team = s
        .post(
            "/sessions",
            json!({ "team": "other", "login_id": DEMO_LOGIN_ID, "password": DEMO_LOGIN_ID_PASSWORD }),
        )
        .await;
    assert_eq!(wrong_team.body, wrong.body);
}

/// A different answer for a member's address would tell who is a member: an SSO member whose
/// address is in no SSO domain gets exactly what a stranger and a wrong password get.
#[tokio::test]
async fn a_wrong_login_answers_the_same_whoever_the_address_belongs_to() {
    let s = TestServer::start().await;
    s.store()
        .add_member(
            json!({ "email": "kana@example.com", "display_name": "Kana", "login_method": "sso" }),
        )
        .unwrap();
    let sso_member = s.login("kana@example.com", "Wrong-password-1").await;
    let stranger = s.login("nobody@example.com", "Wrong-password-1").await;
    let wrong = s.login(DEMO_EMAIL, "Wrong-password-1").await;
    sso_member.assert_error(ErrorCode::InvalidCredentials);
    assert_eq!(sso_member.text(), stranger.text());
    assert_eq!(sso_member.text(), wrong.text());
}

/// SSO guidance comes from the address's domain, so it says nothing about the account.
#[tokio::test]
async fn an_address_in_an_sso_domain_is_told_to_use_sso_whether_or_not_it_is_a_member() {
    let s = TestServer::start().await;
    let member = s.login(DEMO_SSO_EMAIL, "anything").await;
    let stranger = s.login("nobody@sso.example.com", "anything").await;
    member.assert_error(ErrorCode::SsoRequired);
    assert_eq!(member.text(), stranger.text());
    s.login("Someone@SSO.Example.COM", "anything")
        .await
        .assert_error(ErrorCode::SsoRequired);
}

#[tokio::test]
async fn tries_at_an_sso_domain_count_toward_the_lock_like_any_other() {
    let s = TestServer::start().await;
    let mut member = Vec::new();
    let mut stranger = Vec::new();
    for _ in 0..10 {
        member.push(s.login(DEMO_SSO_EMAIL, "anything").await);
        stranger.push(s.login("nobody@sso.example.com", "anything").await);
    }
    for (m, st) in member.iter().zip(&stranger) {
        assert_eq!((m.status, m.text()), (st.status, st.text()));
    }
    member[8].assert_error(ErrorCode::SsoRequired);
    member[9].assert_error(ErrorCode::AccountLocked);
}

#[tokio::test]
async fn an_organisations_sso_domains_are_set_with_dev_teams() {
    let s = TestServer::start_dev().await;
    s.login("mika@acme.example", "anything")
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    let reply = s
        .post(
            "/dev/teams",
            json!({ "slug": "acme", "sso_domains": ["Acme.example", "corp.acme.example"] }),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(
        reply.json()["sso_domains"],
        json!(["acme.example", "corp.acme.example"])
    );
    s.login("mika@acme.example", "anything")
        .await
        .assert_error(ErrorCode::SsoRequired);
    // Left out, the list stays; given, it replaces it.
    let reply = s.post("/dev/teams", json!({ "slug": "acme" })).await;
    assert_eq!(reply.json()["sso_domains"].as_array().unwrap().len(), 2);
    s.post(
        "/dev/teams",
        json!({ "slug": "acme", "sso_domains": ["corp.acme.example"] }),
    )
    .await
    .assert_status(200);
    s.login("yui@acme.example", "anything")
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    s.post(
        "/dev/teams",
        json!({ "slug": "acme", "sso_domains": ["not a domain"] }),
    )
    .await
    .assert_error(ErrorCode::BadRequest);
}

#[tokio::test]
async fn a_malformed_login_email_gets_the_protocol_code() {
    let s = TestServer::start().await;
    s.login("taro@example.com ", DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::EmailTrailingWhitespace);
    s.login("ｔａｒｏ@example.com", DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::EmailFullwidth);
}

#[tokio::test]
async fn ten_failed_logins_in_fifteen_minutes_lock_the_account_for_fifteen_minutes() {
    let s = TestServer::start().await;
    for attempt in 1..=9 {
        s.login(DEMO_EMAIL, "Wrong-password-1")
            .await
            .assert_error(ErrorCode::InvalidCredentials);
        if attempt == 5 {
            advance(&s.clock, 10 * 60);
        }
    }
    // The tenth failure locks, and says for how long.
    let tenth = s.login(DEMO_EMAIL, "Wrong-password-1").await;
    let envelope = tenth.assert_error(ErrorCode::AccountLocked);
    assert_eq!(envelope.error.retry_after_s, Some(900));
    assert_eq!(tenth.header("retry-after").as_deref(), Some("900"));
    // Locked even with the right password.
    advance(&s.clock, 14 * 60);
    let locked = s.login(DEMO_EMAIL, DEMO_PASSWORD).await;
    let wait = locked
        .assert_error(ErrorCode::AccountLocked)
        .error
        .retry_after_s
        .unwrap();
    assert!((59..=60).contains(&wait), "{wait}");
    advance(&s.clock, 61);
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn failures_spread_over_more_than_fifteen_minutes_do_not_lock() {
    let s = TestServer::start().await;
    for _ in 0..9 {
        s.login(DEMO_EMAIL, "Wrong-password-1").await;
    }
    advance(&s.clock, 15 * 60 + 1);
    s.login(DEMO_EMAIL, "Wrong-password-1")
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn unknown_accounts_lock_too_so_a_lock_tells_nothing() {
    let s = TestServer::start().await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..11 {
        known.push(s.login(DEMO_EMAIL, "Wrong-password-1").await);
        unknown.push(s.login("nobody@example.com", "Wrong-password-1").await);
    }
    for (k, u) in known.iter().zip(&unknown) {
        assert_eq!(k.status, u.status);
        assert_eq!(k.body, u.body);
    }
    unknown[10].assert_error(ErrorCode::AccountLocked);
}

#[tokio::test]
async fn login_id_members_lock_per_team_and_login_id() {
    let s = TestServer::start().await;
    let attempt = |password: &'static str| {
        s.post(
            "/sessions",
            json!({ "team": DEMO_TEAM, "login_id": DEMO_LOGIN_ID, "password": password }),
        )
    };
    for _ in 0..10 {
        attempt("Wrong-password-1").await;
    }
    attempt(DEMO_LOGIN_ID_PASSWORD)
        .await
        .assert_error(ErrorCode::AccountLocked);
    // Another member is not affected.
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn logout_revokes_only_this_session() {
    let s = TestServer::start().await;
    let a = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let b = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let reply = s.delete_as("/sessions/current", &a).await;
    reply.assert_status(204);
    assert!(reply.body.is_empty());
    s.get_as("/me", &a)
        .await
        .assert_error(ErrorCode::SessionExpired);
    s.delete_as("/sessions/current", &a)
        .await
        .assert_error(ErrorCode::SessionExpired);
    s.get_as("/me", &b).await.assert_status(200);
}

#[tokio::test]
async fn me_answers_the_member_or_401_session_expired() {
    let s = TestServer::start().await;
    let token = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let reply = s.get_as("/me", &token).await;
    reply.assert_status(200);
    let me: User = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(me.email.as_deref(), Some(DEMO_EMAIL));
    assert_eq!(me.display_name, "Taro Yamada");
    assert!(!me.id.is_empty());
    s.get("/me").await.assert_error(ErrorCode::SessionExpired);
    s.get_as("/me", "not-a-session")
        .await
        .assert_error(ErrorCode::SessionExpired);
    let basic = s
        .send(
            reqwest::Method::GET,
            &format!("{}/me", s.api),
            None,
            None,
            &[("authorization", "Basic dGFybzpwdw==")],
        )
        .await;
    basic.assert_error(ErrorCode::SessionExpired);
}

/// OWASP's session management: a password change renews the session. A copy of the session
/// that made the change (the reason to change it, often) must stop working too.
#[tokio::test]
async fn changing_the_password_ends_every_session_and_answers_a_new_one() {
    let s = TestServer::start().await;
    let here = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let elsewhere = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let reply = s
        .put_as(
            "/me/password",
            change_body(DEMO_PASSWORD, &good_password(5)),
            &here,
        )
        .await;
    reply.assert_status(200);
    let renewed = reply.session();
    assert_eq!(renewed.user.email.as_deref(), Some(DEMO_EMAIL));
    assert_ne!(renewed.session.token, here);
    let days = seconds_from_now(&renewed.session.expires_at) as f64 / 86_400.0;
    assert!((29.9..=30.0).contains(&days), "{days}");
    for old in [&here, &elsewhere] {
        s.get_as("/me", old)
            .await
            .assert_error(ErrorCode::SessionExpired);
    }
    s.get_as("/me", &renewed.session.token)
        .await
        .assert_status(200);
    s.login(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    s.login(DEMO_EMAIL, &good_password(5))
        .await
        .assert_status(201);
    let mails = s.wait_for_mails(DEMO_EMAIL, 1).await;
    assert_eq!(mails[0].subject, PASSWORD_CHANGED_MAIL_SUBJECT);
}

#[tokio::test]
async fn changing_the_password_checks_current_then_confirmation_then_policy() {
    let s = TestServer::start().await;
    let token = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    s.put_as(
        "/me/password",
        change_body("Wrong-password-1", &good_password(1)),
        &token,
    )
    .await
    .assert_error(ErrorCode::CurrentPasswordIncorrect);
    s.put_as(
        "/me/password",
        json!({ "current_password": DEMO_PASSWORD, "new_password": good_password(1), "new_password_confirmation": good_password(2) }),
        &token,
    )
    .await
    .assert_error(ErrorCode::PasswordMismatch);
    let reply = s
        .put_as(
            "/me/password",
            change_body(DEMO_PASSWORD, "NODIGITS"),
            &token,
        )
        .await;
    let details = reply
        .assert_error(ErrorCode::PasswordPolicy)
        .error
        .details
        .unwrap();
    assert_eq!(
        details,
        json!({ "failed": ["require_lower", "require_digit"] })
    );
    s.put_as(
        "/me/password",
        change_body(DEMO_PASSWORD, &good_password(1)),
        "not-a-session",
    )
    .await
    .assert_error(ErrorCode::SessionExpired);
    // Nothing changed.
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn sso_members_cannot_change_a_password() {
    let s = TestServer::start().await;
    // Signed in by the organisation's identity provider.
    let token = s.store().sign_in(DEMO_SSO_EMAIL).unwrap().session.token;
    s.put_as(
        "/me/password",
        change_body("anything", &good_password(1)),
        &token,
    )
    .await
    .assert_error(ErrorCode::SsoManaged);
}

#[tokio::test]
async fn the_password_policy_is_the_members_organisations_or_401() {
    let s = TestServer::start().await;
    let token = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let reply = s.get_as("/me/password_policy", &token).await;
    reply.assert_status(200);
    let answered: PasswordPolicyResponse = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(answered.policy, PasswordPolicy::default());
    assert_eq!(
        answered.passwordrules,
        "minlength: 8; maxlength: 128; required: lower; required: digit; allowed: upper, special;"
    );

    // Another organisation's member gets that organisation's rules.
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
    let ken = s
        .session_token("ken@strict.example", "Strict-pass-123")
        .await;
    let answered: PasswordPolicyResponse =
        serde_json::from_slice(&s.get_as("/me/password_policy", &ken).await.body).unwrap();
    assert_eq!(answered.policy, strict);
    assert_eq!(
        answered.passwordrules,
        "minlength: 12; maxlength: 64; required: lower; required: upper; required: digit; required: special;"
    );
    // What it answers is what a change is held to.
    s.put_as(
        "/me/password",
        change_body("Strict-pass-123", "lowercase-only-1"),
        &ken,
    )
    .await
    .assert_error(ErrorCode::PasswordPolicy);

    s.get("/me/password_policy")
        .await
        .assert_error(ErrorCode::SessionExpired);
    s.get_as("/me/password_policy", "not-a-session")
        .await
        .assert_error(ErrorCode::SessionExpired);
}

/// An admin's change of the policy (here through `/dev/teams`) is answered at once, to members
/// who logged in before it, Login ID members included.
#[tokio::test]
async fn a_changed_policy_is_answered_to_members_already_logged_in() {
    let s = TestServer::start_dev().await;
    let taro = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let jiro = s
        .post(
            "/sessions",
            json!({ "team": DEMO_TEAM, "login_id": DEMO_LOGIN_ID, "password": DEMO_LOGIN_ID_PASSWORD }),
        )
        .await
        .session()
        .session
        .token;
    let longer = PasswordPolicy {
        min_length: 14,
        require_upper: true,
        ..PasswordPolicy::default()
    };
    s.post(
        "/dev/teams",
        json!({ "slug": DEMO_TEAM, "name": "Unipos Demo", "policy": longer }),
    )
    .await
    .assert_status(200);
    for token in [&taro, &jiro] {
        let reply = s.get_as("/me/password_policy", token).await;
        reply.assert_status(200);
        let answered: PasswordPolicyResponse = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(answered.policy, longer);
        assert_eq!(
            answered.passwordrules,
            "minlength: 14; maxlength: 128; required: lower; required: upper; required: digit; allowed: special;"
        );
    }
}

/// SSO members have no password here: they are told so, as a change would tell them.
#[tokio::test]
async fn sso_members_are_answered_that_sso_manages_their_password() {
    let s = TestServer::start().await;
    let token = s.store().sign_in(DEMO_SSO_EMAIL).unwrap().session.token;
    s.get_as("/me/password_policy", &token)
        .await
        .assert_error(ErrorCode::SsoManaged);
}

#[tokio::test]
async fn login_id_members_can_change_their_password() {
    let s = TestServer::start().await;
    let reply = s
        .post(
            "/sessions",
            json!({ "team": DEMO_TEAM, "login_id": DEMO_LOGIN_ID, "password": DEMO_LOGIN_ID_PASSWORD }),
        )
        .await;
    let token = reply.session().session.token;
    s.put_as(
        "/me/password",
        change_body(DEMO_LOGIN_ID_PASSWORD, &good_password(9)),
        &token,
    )
    .await
    .assert_status(200);
    s.post(
        "/sessions",
        json!({ "team": DEMO_TEAM, "login_id": DEMO_LOGIN_ID, "password": good_password(9) }),
    )
    .await
    .assert_status(201);
}

#[tokio::test]
async fn the_timeline_lists_the_teams_posts_newest_first() {
    let s = TestServer::start().await;
    // Another organisation, with a member and posts of its own, some newer than the demo's.
    s.store()
        .add_member(json!({"email": "ken@acme.example", "team": "acme", "password": "Acme-pass-123", "display_name": "Ken", "login_method": "email"}))
        .unwrap();
    for (message, minutes) in [("Acme: thanks for the launch", 1), ("Acme: great demo", 90)] {
        s.store()
            .add_post(
                "acme",
                "Ken",
                "Mika",
                message,
                Duration::from_secs(minutes * 60),
            )
            .unwrap();
    }
    let timeline_of = |token: String| {
        let s = &s;
        async move {
            let reply = s.get_as("/timeline", &token).await;
            reply.assert_status(200);
            serde_json::from_slice::<Timeline>(&reply.body).unwrap()
        }
    };

    let demo = timeline_of(s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await).await;
    assert_eq!(demo.posts.len(), 5, "the demo team's five posts");
    assert!(
        demo.posts.iter().all(|p| !p.message.starts_with("Acme")),
        "another team's post: {:?}",
        demo.posts
    );
    let times: Vec<_> = demo.posts.iter().map(|p| p.created_at.clone()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    assert!(
        demo.posts.iter().any(|p| !p.message.is_ascii()),
        "a Japanese message"
    );
    assert!(
        demo.posts.iter().any(|p| p.message.is_ascii()),
        "an English message"
    );

    let acme = timeline_of(s.session_token("ken@acme.example", "Acme-pass-123").await).await;
    let messages: Vec<&str> = acme.posts.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        ["Acme: thanks for the launch", "Acme: great demo"]
    );

    s.get("/timeline")
        .await
        .assert_error(ErrorCode::SessionExpired);
}
