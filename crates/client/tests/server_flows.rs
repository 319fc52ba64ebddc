//! Every flow, and every error code the client can meet, against the real `unipos-server`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::*;
use unipos_client::unipos_protocol::{LoginMethod, PolicyRule};
use unipos_client::{ApiClient, ClientConfig, ClientError, Flows, OpenedLink, SessionVault};

const NEW_PASSWORD: &str = "Fresh-pass-42";

fn code<T: std::fmt::Debug>(result: Result<T, ClientError>) -> &'static str {
    result.unwrap_err().code()
}

#[tokio::test]
async fn forgot_password_by_email_ends_logged_in_on_the_timeline() {
    let t = TestServer::start().await;
    let (flows, vault) = t.flows();

    let sent = flows.request_reset(DEMO_EMAIL).await.unwrap();
    assert_eq!(sent.status, 202);
    assert_eq!(sent.email_hint, "t***@example.com");
    assert_eq!(sent.resend_after_s, 60);
    assert_eq!(sent.request_id.len(), 36);

    let link = t.reset_link(DEMO_EMAIL, 1).await;
    assert!(
        !t.eml_files().is_empty(),
        "the mail was written as an .eml file"
    );
    let OpenedLink::Reset(pending) = flows.open_link(&link).unwrap() else {
        panic!("a reset link opens the Reset screen")
    };

    // Checking the link twice does not use it up (mail scanners open links first).
    for _ in 0..2 {
        let checked = flows.check_reset(&pending).await.unwrap();
        assert_eq!(checked.status, 200);
        assert_eq!(checked.email_hint.as_deref(), Some("t***@example.com"));
        assert_eq!(checked.policy.min_length, 8);
        assert!(checked.token_hint.ends_with('…') && checked.token_hint.chars().count() == 7);
    }
    let (_, checked) = flows.check_link(&link).await.unwrap();
    let checklist = checked.policy.checklist(NEW_PASSWORD);
    assert!(checklist.iter().all(|c| c.met), "{checklist:?}");

    let logged_in = flows
        .set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();
    assert_eq!(logged_in.status, 200);
    assert_eq!(logged_in.user.display_name, DEMO_DISPLAY_NAME);
    assert_eq!(logged_in.user.login_method, LoginMethod::Email);
    let stored = vault
        .load(&t.api_base())
        .unwrap()
        .expect("the session is in the vault");
    assert_eq!(stored.expires_at, logged_in.expires_at);
    assert!(!serde_json::to_string(&logged_in)
        .unwrap()
        .contains(&stored.token));

    let me = flows.me().await.unwrap();
    assert_eq!(me.value.email.as_deref(), Some(DEMO_EMAIL));
    let timeline = flows.timeline().await.unwrap();
    assert!(!timeline.value.posts.is_empty());

    // The link is used up; the old password is gone; the new one works.
    assert_eq!(code(flows.check_link(&link).await), "token_used");
    assert_eq!(
        code(
            flows
                .set_password_and_login(&pending, "Other-pass-1", "Other-pass-1")
                .await
        ),
        "token_used"
    );
    let (other, _) = t.flows();
    assert_eq!(
        code(other.login_with_email(DEMO_EMAIL, DEMO_PASSWORD).await),
        "invalid_credentials"
    );
    other
        .login_with_email(DEMO_EMAIL, NEW_PASSWORD)
        .await
        .unwrap();
    let mails = t.wait_for_mails(DEMO_EMAIL, 2).await;
    assert_eq!(mails[1].subject, PASSWORD_CHANGED_MAIL_SUBJECT);
}

/// The flows send their language with every request that causes a mail: the reset mail, the
/// password-changed notices and an admin's reset come in it, and "Send" says which subject to
/// look for.
#[tokio::test]
async fn mail_comes_in_the_language_the_flows_are_set_to() {
    let t = TestServer::start().await;
    let (flows, _) = t.flows();
    let ja = flows.clone().with_language(Language::Ja);

    let sent = ja.request_reset(DEMO_EMAIL).await.unwrap();
    assert_eq!(sent.mail_language, Language::Ja);
    assert_eq!(sent.mail_subject, RESET_MAIL_SUBJECT_JA);
    let link = t.reset_link(DEMO_EMAIL, 1).await;
    assert_eq!(t.mails_to(DEMO_EMAIL)[0].subject, sent.mail_subject);
    let pending = ja.reset_link(&link).unwrap();
    ja.set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();
    let mails = t.wait_for_mails(DEMO_EMAIL, 2).await;
    assert_eq!(mails[1].subject, PASSWORD_CHANGED_MAIL_SUBJECT_JA);

    // The same session, the app switched to English: Settings > Account > Save.
    let en = ja.clone().with_language(Language::En);
    en.change_password(NEW_PASSWORD, "Fresh-pass-43", "Fresh-pass-43")
        .await
        .unwrap();
    let mails = t.wait_for_mails(DEMO_EMAIL, 3).await;
    assert_eq!(mails[2].subject, PASSWORD_CHANGED_MAIL_SUBJECT);

    // Flows never told a language write English, as before.
    let (plain, _) = t.flows();
    t.clock.advance(Duration::from_secs(61));
    let sent = plain.request_reset(DEMO_EMAIL).await.unwrap();
    assert_eq!(sent.mail_language, Language::En);
    assert_eq!(sent.mail_subject, RESET_MAIL_SUBJECT);
    let mails = t.wait_for_mails(DEMO_EMAIL, 4).await;
    assert_eq!(mails[3].subject, RESET_MAIL_SUBJECT);

    // An admin's reset (a request without a body) carries the admin's language too.
    let (admin, _) = t.flows();
    let admin = admin.with_language(Language::Ja);
    admin
        .login_with_email(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
        .await
        .unwrap();
    let members = admin.admin_members(DEMO_EMAIL).await.unwrap().value.members;
    admin.admin_reset_password(&members[0].id).await.unwrap();
    let mails = t.wait_for_mails(DEMO_EMAIL, 5).await;
    assert_eq!(mails[4].subject, RESET_MAIL_SUBJECT_JA);
}

#[tokio::test]
async fn an_address_the_rules_refuse_is_never_sent_and_the_fix_is_offered() {
    let t = TestServer::start().await;
    let (flows, _) = t.flows();
    let cases = [
        ("", "email_empty", None),
        (
            " taro@example.com",
            "email_leading_whitespace",
            Some("taro@example.com"),
        ),
        (
            "taro@example.com\u{3000}",
            "email_trailing_whitespace",
            Some("taro@example.com"),
        ),
        (
            "taro @example.com",
            "email_inner_whitespace",
            Some("taro@example.com"),
        ),
        (
            "ｔａｒｏ@example.com",
            "email_fullwidth",
            Some("taro@example.com"),
        ),
        ("taro@example", "email_invalid", None),
    ];
    for (input, expected, fix) in cases {
        let err = flows.request_reset(input).await.unwrap_err();
        assert_eq!(err.code(), expected, "{input:?}");
        assert_eq!(err.request_id(), None, "{input:?} was sent");
        let details = err.details().unwrap();
        assert_eq!(details["fix"].as_str(), fix, "{input:?}");
    }
    let long = format!("{}@example.com", "a".repeat(65));
    assert_eq!(code(flows.request_reset(&long).await), "email_too_long");
    assert_eq!(
        code(flows.login_with_email("taro@example.com ", "x").await),
        "email_trailing_whitespace"
    );
    // Nothing reached the server: the next request for the demo address is not rate limited
    // and is the first mail.
    flows.request_reset(DEMO_EMAIL).await.unwrap();
    assert_eq!(t.wait_for_mails(DEMO_EMAIL, 1).await.len(), 1);
}

#[tokio::test]
async fn forgot_answers_alike_for_every_well_formed_address_but_mails_only_email_members() {
    let t = TestServer::start().await;
    let (flows, _) = t.flows();
    let unknown = flows.request_reset("nobody@example.com").await.unwrap();
    let sso = flows.request_reset(DEMO_SSO_EMAIL).await.unwrap();
    let member = flows.request_reset(DEMO_EMAIL).await.unwrap();
    for r in [&unknown, &sso] {
        assert_eq!(
            (r.status, r.resend_after_s),
            (member.status, member.resend_after_s)
        );
    }
    // The worker handles mail in order: once the member's mail is out, the others were decided.
    t.wait_for_mails(DEMO_EMAIL, 1).await;
    assert!(t.mails_to("nobody@example.com").is_empty());
    assert!(t.mails_to(DEMO_SSO_EMAIL).is_empty());
}

#[tokio::test]
async fn asking_again_too_soon_is_rate_limited_with_the_seconds_to_wait() {
    let t = TestServer::start().await;
    let (flows, _) = t.flows();
    flows.request_reset(DEMO_EMAIL).await.unwrap();
    let err = flows.request_reset(DEMO_EMAIL).await.unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    assert_eq!(err.status(), Some(429));
    let wait = err.retry_after_s().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(err.request_id().is_some());
}

#[tokio::test]
async fn a_newer_mail_supersedes_the_older_link() {
    let t = TestServer::start().await;
    let (flows, _) = t.flows();
    flows.request_reset(DEMO_EMAIL).await.unwrap();
    let first = t.reset_link(DEMO_EMAIL, 1).await;
    t.clock.advance(Duration::from_secs(61));
    flows.request_reset(DEMO_EMAIL).await.unwrap();
    let second = t.reset_link(DEMO_EMAIL, 2).await;
    assert_ne!(first, second);
    let err = flows.check_link(&first).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("token_superseded", Some(410)));
    flows.check_link(&second).await.unwrap();
}

#[tokio::test]
async fn a_link_past_its_time_is_expired() {
    let t = TestServer::start().await;
    let (flows, vault) = t.flows();
    flows.request_reset(DEMO_EMAIL).await.unwrap();
    let link = t.reset_link(DEMO_EMAIL, 1).await;
    t.clock.advance(Duration::from_secs(61 * 60));
    let err = flows.check_link(&link).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("token_expired", Some(410)));
    let pending = flows.reset_link(&link).unwrap();
    assert_eq!(
        code(
            flows
                .set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
                .await
        ),
        "token_expired"
    );
    assert_eq!(vault.load(&t.api_base()).unwrap(), None);
}

#[tokio::test]
async fn a_well_formed_link_that_was_never_sent_is_invalid() {
    let t = TestServer::start().await;
    let (flows, _) = t.flows();
    let link = format!(
        "{}/reset_password?token={}",
        t.server().web_base(),
        unknown_token()
    );
    let err = flows.check_link(&link).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("token_invalid", Some(404)));
    // The app link form leads to the same check.
    let app_link = format!("unipos://reset_password?token={}", unknown_token());
    assert_eq!(code(flows.check_link(&app_link).await), "token_invalid");
    // A link to another host never reaches the server.
    let port = t.server().addr().port();
    let evil = format!(
        "http://127.0.0.2:{port}/reset_password?token={}",
        unknown_token()
    );
    let err = flows.check_link(&evil).await.unwrap_err();
    assert_eq!((err.code(), err.request_id()), ("link_host", None));
}

#[tokio::test]
async fn reset_refuses_a_mismatch_and_a_password_against_the_policy() {
    let t = TestServer::start().await;
    let (flows, vault) = t.flows();
    flows.request_reset(DEMO_EMAIL).await.unwrap();
    let (pending, _) = flows
        .check_link(&t.reset_link(DEMO_EMAIL, 1).await)
        .await
        .unwrap();

    let err = flows
        .set_password_and_login(&pending, NEW_PASSWORD, "Fresh-pass-43")
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status()), ("password_mismatch", Some(422)));

    let err = flows
        .set_password_and_login(&pending, "short", "short")
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status()), ("password_policy", Some(422)));
    let failed = &err.details().unwrap()["failed"];
    assert_eq!(
        failed,
        &serde_json::json!([PolicyRule::MinLength, PolicyRule::RequireDigit])
    );

    // Refusals do not use the token up.
    assert_eq!(vault.load(&t.api_base()).unwrap(), None);
    flows
        .set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();
}

#[tokio::test]
async fn login_by_email_and_by_team_and_login_id() {
    let t = TestServer::start().await;
    let (flows, vault) = t.flows();
    let by_email = flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    assert_eq!(by_email.status, 201);
    assert_eq!(by_email.user.login_method, LoginMethod::Email);

    let (flows2, vault2) = t.flows();
    let by_id = flows2
        .login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, DEMO_LOGIN_ID_PASSWORD)
        .await
        .unwrap();
    assert_eq!(by_id.user.login_method, LoginMethod::LoginId);
    assert_eq!(by_id.user.display_name, DEMO_LOGIN_ID_DISPLAY_NAME);
    assert_eq!(flows2.me().await.unwrap().value.email, None);

    let a = vault.load(&t.api_base()).unwrap().unwrap();
    let b = vault2.load(&t.api_base()).unwrap().unwrap();
    assert_ne!(a.token, b.token);
}

#[tokio::test]
async fn login_refusals_have_their_own_codes() {
    let t = TestServer::start_with(|c| c.lockout_threshold = 3).await;
    let (flows, vault) = t.flows();
    let err = flows
        .login_with_email(DEMO_EMAIL, "wrong-password-1")
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.status()),
        ("invalid_credentials", Some(401))
    );
    assert_eq!(
        code(
            flows
                .login_with_email("nobody@example.com", DEMO_PASSWORD)
                .await
        ),
        "invalid_credentials"
    );
    assert_eq!(
        code(
            flows
                .login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, "nope-nope-1")
                .await
        ),
        "invalid_credentials"
    );

    let err = flows
        .login_with_email(DEMO_SSO_EMAIL, "anything-1")
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status()), ("sso_required", Some(403)));

    // The third failure locks the account, even for the right password.
    flows
        .login_with_email(DEMO_EMAIL, "wrong-password-2")
        .await
        .unwrap_err();
    let err = flows
        .login_with_email(DEMO_EMAIL, "wrong-password-3")
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status()), ("account_locked", Some(423)));
    let err = flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "account_locked");
    let wait = err.retry_after_s().unwrap();
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    assert!(err.to_string().contains("locked"));
    assert_eq!(vault.load(&t.api_base()).unwrap(), None);
}

#[tokio::test]
async fn an_oversized_request_is_payload_too_large() {
    let t = TestServer::start().await;
    let (flows, _) = t.flows();
    let huge = "x".repeat(unipos_server::MAX_BODY_BYTES + 1);
    let err = flows.login_with_email(DEMO_EMAIL, &huge).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("payload_too_large", Some(413)));
}

#[tokio::test]
async fn an_api_base_with_a_wrong_path_meets_not_found() {
    let t = TestServer::start().await;
    let config = ClientConfig::with_bases(
        &format!("{}/wrong", t.api_base()),
        t.server().web_base().as_str(),
    )
    .unwrap();
    let flows = Flows::new(config, Arc::new(MemoryVault::new())).unwrap();
    let err = flows.request_reset(DEMO_EMAIL).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("not_found", Some(404)));
}

#[tokio::test]
async fn the_unauthenticated_endpoints_rate_limit_a_busy_client() {
    let t = TestServer::start_with(|c| c.client_limit = 2).await;
    let (flows, _) = t.flows();
    let link = format!(
        "{}/reset_password?token={}",
        t.server().web_base(),
        unknown_token()
    );
    assert_eq!(code(flows.check_link(&link).await), "token_invalid");
    assert_eq!(code(flows.check_link(&link).await), "token_invalid");
    let err = flows.check_link(&link).await.unwrap_err();
    assert_eq!(err.code(), "rate_limited");
    assert!(err.retry_after_s().unwrap() > 0);
}

#[tokio::test]
async fn logout_revokes_the_session_on_the_server_and_clears_it_locally() {
    let t = TestServer::start().await;
    let (flows, vault) = t.flows();
    flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    let token = vault.load(&t.api_base()).unwrap().unwrap().token;

    let out = flows.logout().await.unwrap();
    assert!(out.remote_revoked);
    assert_eq!(out.status, Some(204));
    assert!(out.request_id.is_some());
    assert_eq!(vault.load(&t.api_base()).unwrap(), None);

    // The old token is dead on the server.
    let api = ApiClient::new(t.client_config()).unwrap();
    let err = api.me(&token).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("session_expired", Some(401)));
    assert_eq!(code(api.timeline(&token).await), "session_expired");
    assert_eq!(code(api.logout(&token).await), "session_expired");
    assert_eq!(code(flows.me().await), "not_logged_in");
    assert_eq!(code(flows.logout().await), "not_logged_in");
}

#[tokio::test]
async fn logout_while_the_server_is_gone_still_clears_the_local_session() {
    let t = TestServer::start().await;
    let (flows, vault) = t.flows();
    flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    let mut t = t;
    let api_base = t.api_base();
    t.shutdown().await;

    let out = flows.logout().await.unwrap();
    assert!(!out.remote_revoked);
    let remote = out.remote_error.as_ref().unwrap();
    assert_eq!(remote.code(), "connection_refused");
    assert!(out.request_id.is_some());
    assert_eq!(vault.load(&api_base).unwrap(), None);
}

#[tokio::test]
async fn an_expired_session_is_forgotten_so_the_app_shows_log_in() {
    let t = TestServer::start().await;
    let (flows, vault) = t.flows();
    flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    t.clock.advance(Duration::from_secs(31 * 24 * 3600));
    let err = flows.timeline().await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("session_expired", Some(401)));
    assert!(err.request_id().is_some());
    assert_eq!(vault.load(&t.api_base()).unwrap(), None);
    assert_eq!(code(flows.me().await), "not_logged_in");
}

#[tokio::test]
async fn change_password_refusals_and_success_revoke_the_other_sessions() {
    let t = TestServer::start().await;
    let (phone, _) = t.flows();
    let (laptop, laptop_vault) = t.flows();
    phone
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    laptop
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();

    let err = phone
        .change_password("not-the-password-1", NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.status()),
        ("current_password_incorrect", Some(422))
    );
    assert_eq!(
        code(
            phone
                .change_password(DEMO_PASSWORD, NEW_PASSWORD, "Fresh-pass-43")
                .await
        ),
        "password_mismatch"
    );
    let err = phone
        .change_password(DEMO_PASSWORD, "alllowercase", "alllowercase")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "password_policy");
    assert_eq!(
        err.details().unwrap()["failed"],
        serde_json::json!(["require_digit"])
    );

    let changed = phone
        .change_password(DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();
    assert_eq!(changed.status, 200);
    assert_eq!(changed.request_id.len(), 36);
    // This device goes on with its new session; the laptop's is revoked (and then forgotten
    // locally).
    phone.me().await.unwrap();
    assert_eq!(code(laptop.me().await), "session_expired");
    assert_eq!(laptop_vault.load(&t.api_base()).unwrap(), None);
    assert_eq!(
        code(laptop.login_with_email(DEMO_EMAIL, DEMO_PASSWORD).await),
        "invalid_credentials"
    );
    laptop
        .login_with_email(DEMO_EMAIL, NEW_PASSWORD)
        .await
        .unwrap();
}

/// A password change renews this device's session: the keychain holds the new one at once, and
/// a copy of the old one (someone the member changes the password to get rid of) is dead.
#[tokio::test]
async fn change_password_puts_a_new_session_in_the_keychain_and_ends_the_old_one() {
    let t = TestServer::start().await;
    let (flows, vault) = t.flows();
    flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    let before = vault.load(&t.api_base()).unwrap().unwrap();

    flows
        .change_password(DEMO_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();
    let after = vault
        .load(&t.api_base())
        .unwrap()
        .expect("a session is in the vault");
    assert_ne!(
        after.token, before.token,
        "the keychain holds a new session"
    );
    assert_eq!(code(t.api().me(&before.token).await), "session_expired");
    let me = flows.me().await.unwrap();
    assert_eq!(me.value.email.as_deref(), Some(DEMO_EMAIL));
}

#[tokio::test]
async fn without_a_keychain_nothing_is_sent_and_the_error_says_so() {
    let t = TestServer::start().await;
    let flows = t.flows_with(Arc::new(MemoryVault::unavailable()));
    let err = flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "keychain_unavailable");
    assert!(err.to_string().to_lowercase().contains("keychain"));
    // The reset link is still usable afterwards: the keychain was checked before the token.
    let (ok, _) = t.flows();
    ok.request_reset(DEMO_EMAIL).await.unwrap();
    let link = t.reset_link(DEMO_EMAIL, 1).await;
    let pending = flows.reset_link(&link).unwrap();
    assert_eq!(
        code(
            flows
                .set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
                .await
        ),
        "keychain_unavailable"
    );
    ok.check_link(&link).await.unwrap();
}

// When the keychain fails only after the server has answered, the new session exists on the
// server but nowhere on the device: the flow revokes it (`keep_session`) and reports the keychain.
// `FlakyVault` passes `check_ready`, so these flows really reach the server.

/// The session `vault` was asked to keep: issued and live on the server when the flow tried to
/// save it, revoked on the server now, and kept nowhere.
async fn assert_issued_then_revoked(t: &TestServer, vault: &FlakyVault) {
    let saves = vault.saves();
    assert_eq!(saves.len(), 1, "one session to keep: {saves:?}");
    assert_eq!(
        vault.liveness(),
        vec![(VaultOp::Save, "live")],
        "the session was live on the server when the flow tried to save it"
    );
    let err = t.api().me(&saves[0].token).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("session_expired", Some(401)));
    assert_eq!(
        code(t.api().logout(&saves[0].token).await),
        "session_expired"
    );
    assert_eq!(vault.load(&t.api_base()).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keychain_that_refuses_the_session_after_a_reset_gets_it_revoked_on_the_server() {
    let t = TestServer::start().await;
    let vault = Arc::new(FlakyVault::refusing(VaultOp::Save).watching(t.api()));
    let flows = t.flows_with(vault.clone());
    flows.request_reset(DEMO_EMAIL).await.unwrap();
    let link = t.reset_link(DEMO_EMAIL, 1).await;
    let pending = flows.reset_link(&link).unwrap();

    let err = flows
        .set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "keychain_unavailable", "{err:?}");
    assert_eq!(
        err.to_string(),
        "The keychain refused the Save (test vault)."
    );
    assert_issued_then_revoked(&t, &vault).await;
    assert!(!flows.has_session().await.unwrap());

    // The reset itself went through: the link is used up and the new password is the password.
    assert_eq!(code(flows.check_link(&link).await), "token_used");
    let (other, _) = t.flows();
    assert_eq!(
        code(other.login_with_email(DEMO_EMAIL, DEMO_PASSWORD).await),
        "invalid_credentials"
    );
    other
        .login_with_email(DEMO_EMAIL, NEW_PASSWORD)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keychain_that_refuses_the_session_after_a_login_gets_it_revoked_on_the_server() {
    let t = TestServer::start().await;
    let by_email = Arc::new(FlakyVault::refusing(VaultOp::Save).watching(t.api()));
    let err = t
        .flows_with(by_email.clone())
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "keychain_unavailable", "{err:?}");
    assert_issued_then_revoked(&t, &by_email).await;

    let by_id = Arc::new(FlakyVault::refusing(VaultOp::Save).watching(t.api()));
    let err = t
        .flows_with(by_id.clone())
        .login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, DEMO_LOGIN_ID_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "keychain_unavailable", "{err:?}");
    assert_issued_then_revoked(&t, &by_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_with_a_keychain_that_will_not_clear_still_revokes_the_session_on_the_server() {
    let t = TestServer::start().await;
    let vault = Arc::new(FlakyVault::refusing(VaultOp::Clear).watching(t.api()));
    let flows = t.flows_with(vault.clone());
    flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    let token = vault.saves()[0].token.clone();

    // `logout` clears locally first, revokes on the server whatever the keychain said, and then
    // reports the keychain's failure.
    let err = flows.logout().await.unwrap_err();
    assert_eq!(err.code(), "keychain_unavailable", "{err:?}");
    assert_eq!(vault.clears(), 1);
    assert_eq!(
        vault.liveness(),
        vec![(VaultOp::Save, "live"), (VaultOp::Clear, "live")],
        "the local clear came first, while the session was still live on the server"
    );
    let err = t.api().me(&token).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("session_expired", Some(401)));

    // The keychain kept the item, but it holds a dead session: the next call says so.
    assert!(flows.has_session().await.unwrap());
    let err = flows.me().await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("session_expired", Some(401)));
}

#[tokio::test]
async fn every_answer_and_error_carries_the_request_id_the_server_logged() {
    // The server's log as `--log-format json` writes it, where support looks the id up.
    let log = unipos_server::testing::json_log();
    let t = TestServer::start().await;
    let (flows, _) = t.flows();
    let ok = flows.request_reset(DEMO_EMAIL).await.unwrap();
    let err = flows.request_reset(DEMO_EMAIL).await.unwrap_err();
    let ids = [ok.request_id.clone(), err.request_id().unwrap().to_owned()];
    for id in &ids {
        assert!(uuid_like(id), "{id}");
    }
    assert_ne!(ids[0], ids[1], "each call has its own id");
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["request_id"], ids[1].as_str());
    assert_eq!(json["status"], 429);
    for (id, status, code) in [(&ids[0], 202, "-"), (&ids[1], 429, "rate_limited")] {
        let lines = log.requests(id);
        assert_eq!(lines.len(), 1, "the server logged {id} once: {lines:?}");
        assert_eq!(lines[0]["route"], "/api/v1/password/forgot");
        assert_eq!(
            (&lines[0]["status"], &lines[0]["error_code"]),
            (&status.into(), &code.into())
        );
    }
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

#[tokio::test]
async fn an_sso_member_cannot_change_a_password_the_organisation_manages() {
    let t = TestServer::start().await;
    // SSO members get a session from their identity provider.
    let signed_in = t.server().store().sign_in(DEMO_SSO_EMAIL).unwrap();
    let (flows, vault) = t.flows();
    let session = unipos_client::StoredSession {
        token: signed_in.session.token,
        expires_at: signed_in.session.expires_at,
    };
    vault.save(&t.api_base(), &session).unwrap();
    assert_eq!(
        flows.me().await.unwrap().value.login_method,
        LoginMethod::Sso
    );

    let err = flows
        .change_password("anything-1", NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status()), ("sso_managed", Some(403)));
}

#[tokio::test]
async fn settings_account_gets_the_organisations_policy_and_sso_members_are_told_sso_manages_it() {
    let t = TestServer::start().await;
    let (flows, _vault) = t.flows();
    assert_eq!(code(flows.password_policy().await), "not_logged_in");
    t.server()
        .store()
        .set_team(
            serde_json::json!({ "slug": DEMO_TEAM, "name": "Unipos Demo", "policy": {
            "min_length": 10, "max_length": 64, "require_lower": true, "require_upper": true,
            "require_digit": true, "require_symbol": false
        } }),
        )
        .unwrap();
    flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    let reply = flows.password_policy().await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.value.policy.min_length, 10);
    assert!(reply.value.policy.require_upper);
    assert_eq!(
        reply.value.passwordrules,
        "minlength: 10; maxlength: 64; required: lower; required: upper; required: digit; allowed: special;"
    );
    // The same rules hold the change itself to them.
    let err = flows
        .change_password(DEMO_PASSWORD, "short-1A", "short-1A")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "password_policy");

    let signed_in = t.server().store().sign_in(DEMO_SSO_EMAIL).unwrap();
    let (sso, sso_vault) = t.flows();
    let session = unipos_client::StoredSession {
        token: signed_in.session.token,
        expires_at: signed_in.session.expires_at,
    };
    sso_vault.save(&t.api_base(), &session).unwrap();
    let err = sso.password_policy().await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("sso_managed", Some(403)));
}

#[tokio::test]
async fn the_call_log_keeps_route_status_code_and_request_id_and_nothing_that_was_sent() {
    const WRONG_PASSWORD: &str = "Wrong-password-1";
    let t = TestServer::start().await;
    let calls = unipos_client::support::CallLog::default();
    let flows = t.flows().0.with_call_log(calls.clone());
    let sent = flows.request_reset(DEMO_EMAIL).await.unwrap();
    let dead = format!(
        "{}/reset_password?token={}",
        t.server().web_base(),
        unknown_token()
    );
    let refused = flows.check_link(&dead).await.unwrap_err();
    flows
        .login_with_email(DEMO_EMAIL, WRONG_PASSWORD)
        .await
        .unwrap_err();
    let mut t = t;
    t.shutdown().await;
    let down = flows.request_reset("hanako@example.com").await.unwrap_err();

    let log = calls.calls();
    let seen: Vec<_> = log
        .iter()
        .map(|c| {
            let code = c.error_code.as_deref();
            (c.method.as_str(), c.route.as_str(), c.status, code)
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("POST", "/password/forgot", Some(202), None),
            (
                "POST",
                "/password/reset/check",
                Some(404),
                Some("token_invalid")
            ),
            ("POST", "/sessions", Some(401), Some("invalid_credentials")),
            ("POST", "/password/forgot", None, Some("connection_refused")),
        ]
    );
    assert_eq!(log[0].request_id, sent.request_id);
    assert_eq!(Some(log[1].request_id.as_str()), refused.request_id());
    assert_eq!(Some(log[3].request_id.as_str()), down.request_id());
    let text = serde_json::to_string(&log).unwrap();
    for secret in [DEMO_EMAIL, WRONG_PASSWORD, &unknown_token(), "hanako"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[path = "../../server/src/account_sheet/pdf_tools.rs"]
mod pdf_tools;

#[tokio::test]
async fn an_admins_reset_logs_a_login_id_member_out_and_their_sheet_logs_them_back_in() {
    let t = TestServer::start().await;
    // Two devices, each with its own keychain: the admin's computer and Jiro's phone.
    let (admin, _) = t.flows();
    admin
        .login_with_email(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
        .await
        .unwrap();
    let (jiro, jiro_vault) = t.flows();
    jiro.login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, DEMO_LOGIN_ID_PASSWORD)
        .await
        .unwrap();

    let found = admin
        .admin_members(DEMO_LOGIN_ID)
        .await
        .unwrap()
        .value
        .members;
    assert_eq!(found.len(), 1);
    let reset = admin.admin_reset_password(&found[0].id).await.unwrap();
    assert_eq!(reset.value.sessions_revoked, 1);

    // Jiro's device learns at its next call why it was logged out, and forgets the session.
    assert_eq!(code(jiro.timeline().await), "password_reset_by_admin");
    assert!(jiro_vault.load(&t.api_base()).unwrap().is_none());

    let sheet = admin.admin_account_sheet(&found[0].id, "ja").await.unwrap();
    assert!(sheet.value.pdf.starts_with(b"%PDF-"));
    assert!(
        !format!("{:?}", sheet.value).contains("PDF-"),
        "Debug shows only the size"
    );
    let png = pdf_tools::render_page_png(&sheet.value.pdf, 150);
    let link = pdf_tools::decode_qr_in_quarter(&png, pdf_tools::Quarter::LowerRight)
        .expect("the sheet's QR code");

    // The camera's text goes through the same link rules as a pasted link.
    let (pending, checked) = jiro.check_link(&link).await.unwrap();
    assert_eq!(checked.email_hint, None);
    let account = checked.login_id.expect("a Login ID member's link");
    assert_eq!(
        (account.team.as_str(), account.login_id_hint.as_str()),
        (DEMO_TEAM, "j***")
    );
    let back = jiro
        .set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();
    assert_eq!(back.user.login_id.as_deref(), Some(DEMO_LOGIN_ID));
    assert!(jiro_vault.load(&t.api_base()).unwrap().is_some());
    jiro.timeline().await.unwrap();
}

#[tokio::test]
async fn admin_calls_by_someone_who_is_not_an_admin_are_refused_and_keep_their_session() {
    let t = TestServer::start().await;
    let (taro, vault) = t.flows();
    taro.login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    assert_eq!(code(taro.admin_members("").await), "admin_required");
    assert_eq!(
        code(taro.admin_account_sheet("x", "en").await),
        "admin_required"
    );
    // A refusal is not a lost session.
    assert!(vault.load(&t.api_base()).unwrap().is_some());
    // The call log keeps the route's pattern, never the member id that was asked for.
    let routes: Vec<String> = taro
        .api()
        .call_log()
        .calls()
        .into_iter()
        .map(|c| c.route)
        .collect();
    assert!(
        routes.contains(&"/admin/members/{member_id}/account_sheet".to_owned()),
        "{routes:?}"
    );
}

#[tokio::test]
async fn a_link_asked_for_in_this_app_is_bound_to_it_and_another_device_cannot_use_it() {
    let t = TestServer::start().await;
    let (phone, phone_vault) = t.flows();
    phone.request_reset(DEMO_EMAIL).await.unwrap();
    let binding = phone_vault.load_binding(&t.api_base()).unwrap().unwrap();
    assert_eq!(binding.email_hint, "t***@example.com");
    let link = t.reset_link(DEMO_EMAIL, 1).await;

    // Another device (a keychain of its own) cannot use it, and it is not used up.
    let (laptop, _) = t.flows();
    assert_eq!(
        code(laptop.check_link(&link).await),
        "reset_link_other_device"
    );
    let pending = laptop.reset_link(&link).unwrap();
    assert_eq!(
        code(
            laptop
                .set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
                .await
        ),
        "reset_link_other_device"
    );

    let (pending, checked) = phone.check_link(&link).await.unwrap();
    assert!(checked.asked_here, "the address this device asked about");
    phone
        .set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();
    // Used: the next request binds anew.
    assert!(phone_vault.load_binding(&t.api_base()).unwrap().is_none());
}

#[tokio::test]
async fn two_requests_from_one_device_share_its_binding_so_either_link_works_there() {
    let t = TestServer::start_with(|c| c.forgot_interval = Duration::from_secs(1)).await;
    let (phone, vault) = t.flows();
    phone.request_reset(DEMO_EMAIL).await.unwrap();
    let first = vault.load_binding(&t.api_base()).unwrap().unwrap();
    t.reset_link(DEMO_EMAIL, 1).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    phone.request_reset(DEMO_EMAIL).await.unwrap();
    let second = vault.load_binding(&t.api_base()).unwrap().unwrap();
    assert_eq!(first.verifier, second.verifier);
    let link = t.reset_link(DEMO_EMAIL, 2).await;
    let (_, checked) = phone.check_link(&link).await.unwrap();
    assert!(checked.asked_here);
}

#[tokio::test]
async fn a_link_this_device_did_not_ask_for_asks_the_member_to_confirm() {
    let t = TestServer::start().await;
    // Asked for elsewhere (a browser, another app): not bound, and not asked here.
    t.api()
        .forgot(
            &unipos_client::unipos_protocol::Email::parse(DEMO_EMAIL).unwrap(),
            None,
        )
        .await
        .unwrap();
    let link = t.reset_link(DEMO_EMAIL, 1).await;
    let (device, _) = t.flows();
    let (_, checked) = device.check_link(&link).await.unwrap();
    assert!(!checked.asked_here, "no request is pending on this device");

    // This device asked about another address: a link for Taro is someone else's.
    let (other, _) = t.flows();
    other.request_reset("someone@example.com").await.unwrap();
    let (_, checked) = other.check_link(&link).await.unwrap();
    assert!(
        !checked.asked_here,
        "the link is for t***@example.com, not s***@example.com"
    );
}

#[tokio::test]
async fn without_a_keychain_the_request_goes_out_unbound_and_its_link_works_anywhere() {
    let t = TestServer::start().await;
    let no_keychain = t.flows_with(Arc::new(MemoryVault::unavailable()));
    no_keychain.request_reset(DEMO_EMAIL).await.unwrap();
    let link = t.reset_link(DEMO_EMAIL, 1).await;
    let (elsewhere, _) = t.flows();
    let (pending, _) = elsewhere.check_link(&link).await.unwrap();
    elsewhere
        .set_password_and_login(&pending, NEW_PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();
}

/// A logout while the server cannot be reached must not leave the session alive there for weeks:
/// the revocation is kept in the keychain and sent at the next start.
#[tokio::test]
async fn a_logout_the_server_could_not_hear_is_sent_again_at_the_next_start() {
    let t = TestServer::start().await;
    let (flows, vault) = t.flows();
    flows
        .login_with_email(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .unwrap();
    let token = vault.load(&t.api_base()).unwrap().unwrap().token;
    let mut t = t;
    let (addr, api_base) = (t.server().addr(), t.api_base());
    t.shutdown().await;

    let out = flows.logout().await.unwrap();
    assert!(!out.remote_revoked);
    assert!(out.revoke_pending, "kept for later");
    assert_eq!(
        vault.load(&api_base).unwrap(),
        None,
        "gone from the device at once"
    );
    assert_eq!(
        vault.pending_revokes(&api_base).unwrap().tokens,
        vec![token.clone()]
    );

    // Still offline at the next start: kept again.
    assert_eq!(flows.revoke_pending().await.unwrap(), 0);
    assert_eq!(vault.pending_revokes(&api_base).unwrap().tokens.len(), 1);

    // Back online, the same server and database.
    let mut config = unipos_server::Config::for_tests(t.dir.path());
    config.listen = addr;
    let server = unipos_server::spawn(config).await.unwrap();
    assert_eq!(flows.revoke_pending().await.unwrap(), 1);
    assert!(vault.pending_revokes(&api_base).unwrap().tokens.is_empty());
    assert_eq!(code(flows.api().me(&token).await), "session_expired");
    drop(server);
}
