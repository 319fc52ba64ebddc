//! Team Admin: the members of the admin's own team, resetting a member's password, and the
//! Account Information sheet whose QR code is a Login ID member's way back in.

use reqwest::Method;
use serde_json::{json, Value};
use unipos_protocol::{
    AdminMember, AdminPasswordReset, ContinueWith, ErrorCode, ResetCheckResponse,
};

use crate::common::*;
use crate::pdf_tools::{self, Quarter};

const ACME_ADMIN: &str = "boss@acme.example";
const ACME_MEMBER: &str = "worker@acme.example";

/// Another team, `acme`, with an admin and an email member of its own.
async fn add_acme(s: &TestServer) {
    for (email, role) in [(ACME_ADMIN, "admin"), (ACME_MEMBER, "member")] {
        s.store()
            .add_member(
                json!({ "email": email, "team": "acme", "password": "Kiwi-Orange-77",
                                "display_name": email, "login_method": "email", "role": role }),
            )
            .unwrap();
    }
}

async fn members(s: &TestServer, token: &str, query: &str) -> Vec<AdminMember> {
    let reply = s
        .get_as(&format!("/admin/members?query={query}"), token)
        .await;
    reply.assert_status(200);
    serde_json::from_value(reply.json()["members"].clone()).unwrap()
}

async fn member_id(s: &TestServer, admin: &str, query: &str) -> String {
    let found = members(s, admin, query).await;
    assert_eq!(found.len(), 1, "{query}: {found:?}");
    found[0].id.clone()
}

async fn reset(s: &TestServer, admin: &str, id: &str) -> Reply {
    s.post_as(
        &format!("/admin/members/{id}/password_reset"),
        json!({}),
        admin,
    )
    .await
}

async fn sheet(s: &TestServer, admin: &str, id: &str, lang: &str) -> Reply {
    s.get_as(
        &format!("/admin/members/{id}/account_sheet?lang={lang}"),
        admin,
    )
    .await
}

/// The link in the QR code of a sheet, as a phone's camera reads it off the printed page: the
/// page rendered by poppler, the code found in its lower right quarter.
fn link_on(sheet: &Reply) -> String {
    assert_eq!(
        sheet.header("content-type").as_deref(),
        Some("application/pdf")
    );
    let png = pdf_tools::render_page_png(&sheet.body, 150);
    for quarter in [Quarter::UpperLeft, Quarter::UpperRight, Quarter::LowerLeft] {
        assert_eq!(
            pdf_tools::decode_qr_in_quarter(&png, quarter),
            None,
            "{quarter:?}"
        );
    }
    pdf_tools::decode_qr_in_quarter(&png, Quarter::LowerRight)
        .expect("a QR code in the lower right quarter")
}

fn check(token: &str) -> Value {
    json!({ "token": token })
}

fn new_password(token: &str, password: &str) -> Value {
    json!({ "token": token, "new_password": password, "new_password_confirmation": password })
}

#[tokio::test]
async fn only_a_team_admin_may_list_add_reset_or_print() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let jiro = member_id(&s, &admin, DEMO_LOGIN_ID).await;
    let member = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let add = json!({ "team": DEMO_TEAM, "login_id": "newbie", "display_name": "New" });
    for token in [Some(member.as_str()), None] {
        let replies = [
            s.send(
                Method::GET,
                &format!("{}/admin/members", s.api),
                None,
                token,
                &[],
            )
            .await,
            s.send(
                Method::POST,
                &format!("{}/admin/members", s.api),
                Some(add.clone()),
                token,
                &[],
            )
            .await,
            s.send(
                Method::POST,
                &format!("{}/admin/members/{jiro}/password_reset", s.api),
                None,
                token,
                &[],
            )
            .await,
            s.send(
                Method::GET,
                &format!("{}/admin/members/{jiro}/account_sheet", s.api),
                None,
                token,
                &[],
            )
            .await,
        ];
        let code = match token {
            Some(_) => ErrorCode::AdminRequired,
            None => ErrorCode::SessionExpired,
        };
        for reply in replies {
            reply.assert_error(code);
        }
    }
    // Nothing happened to Jiro.
    s.login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, DEMO_LOGIN_ID_PASSWORD)
        .await
        .assert_status(201);
}

#[tokio::test]
async fn another_teams_member_is_answered_as_one_who_does_not_exist() {
    let s = TestServer::start().await;
    add_acme(&s).await;
    let admin = s.admin_token().await;
    let listed = members(&s, &admin, "").await;
    let emails: Vec<_> = listed.iter().filter_map(|m| m.email.clone()).collect();
    assert!(emails.contains(&DEMO_EMAIL.to_owned()), "{emails:?}");
    assert!(
        !emails.iter().any(|e| e.ends_with("acme.example")),
        "{emails:?}"
    );
    assert!(listed
        .iter()
        .any(|m| m.login_id.as_deref() == Some(DEMO_LOGIN_ID)));

    let acme_admin = s.session_token(ACME_ADMIN, "Kiwi-Orange-77").await;
    let worker = member_id(&s, &acme_admin, "worker").await;
    for id in [
        worker.as_str(),
        "00000000-0000-4000-8000-000000000000",
        "not-an-id",
    ] {
        reset(&s, &admin, id)
            .await
            .assert_error(ErrorCode::MemberNotFound);
        sheet(&s, &admin, id, "en")
            .await
            .assert_error(ErrorCode::MemberNotFound);
    }
    // Adding to another team is not this admin's to do.
    s.post_as(
        "/admin/members",
        json!({ "team": "acme", "login_id": "x1", "display_name": "X" }),
        &admin,
    )
    .await
    .assert_error(ErrorCode::AdminRequired);
    // The other team's member still logs in.
    s.login(ACME_MEMBER, "Kiwi-Orange-77")
        .await
        .assert_status(201);
}

#[tokio::test]
async fn the_member_list_finds_by_name_address_or_login_id_and_shows_roles() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let by_name = members(&s, &admin, "suzuki").await;
    assert_eq!(by_name.len(), 1);
    assert_eq!(by_name[0].login_id.as_deref(), Some(DEMO_LOGIN_ID));
    assert!(by_name[0].has_password);
    assert_eq!(members(&s, &admin, "TARO%40EXAMPLE").await.len(), 1);
    // LIKE's wildcards are only themselves.
    assert!(members(&s, &admin, "%25").await.is_empty());
    let me = members(&s, &admin, "admin%40").await;
    assert_eq!(me[0].role, unipos_protocol::Role::Admin);
    let sso = members(&s, &admin, "hanako").await;
    assert!(!sso[0].has_password, "SSO members have none");
}

#[tokio::test]
async fn an_admins_reset_logs_out_every_session_ends_every_link_and_the_old_password() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let taro = member_id(&s, &admin, "taro").await;
    let (phone, laptop) = (
        s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await,
        s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await,
    );
    let mailed = s.reset_token_for(DEMO_EMAIL).await;

    let reply = reset(&s, &admin, &taro).await;
    reply.assert_status(200);
    let done: AdminPasswordReset = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(done.continue_with, ContinueWith::Email);
    assert_eq!(done.sessions_revoked, 2);
    assert_eq!(done.links_ended, 1);
    assert!(!done.member.has_password);

    // Both devices are logged out, and are told why.
    for session in [&phone, &laptop] {
        s.get_as("/me", session)
            .await
            .assert_error(ErrorCode::PasswordResetByAdmin);
    }
    // The link mailed before the reset ended.
    s.post("/password/reset/check", check(&mailed))
        .await
        .assert_error(ErrorCode::TokenExpired);
    // The old password no longer logs in, and its owner learns what happened; anyone else
    // learns nothing.
    s.login(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::PasswordResetByAdmin);
    s.login(DEMO_EMAIL, "Not-the-password-9")
        .await
        .assert_error(ErrorCode::InvalidCredentials);

    // The member gets a reset mail (the one that says the admin reset it), and its link works.
    let mails = s.wait_for_mails(DEMO_EMAIL, 2).await;
    let link = &mails.last().unwrap().links[0];
    let token = token_of(link);
    let checked: ResetCheckResponse =
        serde_json::from_slice(&s.post("/password/reset/check", check(&token)).await.body).unwrap();
    assert_eq!(checked.email_hint.as_deref(), Some("t***@example.com"));
    s.post("/password/reset", new_password(&token, &good_password(7)))
        .await
        .assert_status(200);
    s.login(DEMO_EMAIL, &good_password(7))
        .await
        .assert_status(201);
    // Once a new password is set, the old one is only wrong.
    s.login(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    let text = std::fs::read_dir(s.dir.path().join("outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .filter_map(|eml| unipos_server::testing::eml_part(&eml, "text/plain"))
        .find(|text| text.contains(&token))
        .expect("the admin's reset mail is an .eml in the outbox");
    assert!(
        text.contains("Your company's Unipos admin reset the password"),
        "{text}"
    );
    // One language: the admin's request named none, so English (the Japanese mail is
    // mail_language's).
    assert!(!text.contains("会社のUnipos管理者が"), "{text}");
}

#[tokio::test]
async fn a_login_id_members_sheet_holds_the_link_that_sets_their_password() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let jiro = member_id(&s, &admin, DEMO_LOGIN_ID).await;
    let session = s
        .login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, DEMO_LOGIN_ID_PASSWORD)
        .await;
    let session = session.session().session.token;

    let reply = reset(&s, &admin, &jiro).await;
    reply.assert_status(200);
    let done: AdminPasswordReset = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(done.continue_with, ContinueWith::AccountSheet);
    assert_eq!(done.sessions_revoked, 1);
    s.get_as("/timeline", &session)
        .await
        .assert_error(ErrorCode::PasswordResetByAdmin);
    s.login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, DEMO_LOGIN_ID_PASSWORD)
        .await
        .assert_error(ErrorCode::PasswordResetByAdmin);
    // No mail: Login ID members have no address.
    assert!(s.outbox(None).await.is_empty());

    let page = sheet(&s, &admin, &jiro, "ja").await;
    page.assert_status(200);
    assert_eq!(
        page.header("content-disposition").as_deref(),
        Some("attachment; filename=\"unipos-account-jiro.pdf\"")
    );
    let text = pdf_tools::pdf_text(&page.body);
    assert!(text.contains("アカウント情報"), "{text}");
    assert!(text.contains(DEMO_LOGIN_ID), "{text}");
    let link = link_on(&page);
    assert!(
        link.starts_with(&format!("{}/reset_password?token=", s.base)),
        "{link}"
    );
    let token = token_of(&link);

    // The link names the team and hints at the Login ID; there is no address to hint at.
    let reply = s.post("/password/reset/check", check(&token)).await;
    reply.assert_status(200);
    assert_eq!(reply.json().get("email_hint"), None, "{}", reply.text());
    let checked: ResetCheckResponse = serde_json::from_slice(&reply.body).unwrap();
    let account = checked.login_id.expect("a Login ID account");
    assert_eq!(account.team, DEMO_TEAM);
    assert_eq!(account.team_name, "Unipos Demo");
    assert_eq!(account.login_id_hint, "j***");
    let week = seconds_from_now(&checked.expires_at);
    assert!((7 * 86_400 - 60..=7 * 86_400).contains(&week), "{week}");

    // "Set password and login", then the team, Login ID and new password log in.
    let reply = s
        .post("/password/reset", new_password(&token, &good_password(3)))
        .await;
    reply.assert_status(200);
    assert_eq!(
        reply.session().user.login_id.as_deref(),
        Some(DEMO_LOGIN_ID)
    );
    s.login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, &good_password(3))
        .await
        .assert_status(201);
    // The sheet works once.
    s.post("/password/reset", new_password(&token, &good_password(4)))
        .await
        .assert_error(ErrorCode::TokenUsed);
}

#[tokio::test]
async fn a_sheets_qr_code_ends_at_the_next_reset_or_sheet_and_after_a_week() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let jiro = member_id(&s, &admin, DEMO_LOGIN_ID).await;
    reset(&s, &admin, &jiro).await.assert_status(200);
    let first = token_of(&link_on(&sheet(&s, &admin, &jiro, "en").await));

    // A second reset ends the first sheet: its dead-link answer says it was a Login ID
    // member's, whose way on is a new sheet from the admin.
    reset(&s, &admin, &jiro).await.assert_status(200);
    let dead = s.post("/password/reset/check", check(&first)).await;
    let envelope = dead.assert_error(ErrorCode::TokenExpired);
    assert_eq!(
        envelope.error.details,
        Some(json!({ "account": "login_id" }))
    );

    // A newer sheet ends the one before it.
    let second = token_of(&link_on(&sheet(&s, &admin, &jiro, "en").await));
    let third = token_of(&link_on(&sheet(&s, &admin, &jiro, "ja").await));
    assert_ne!(second, third, "every sheet has a new QR code");
    s.post("/password/reset/check", check(&second))
        .await
        .assert_error(ErrorCode::TokenSuperseded);
    s.post("/password/reset/check", check(&third))
        .await
        .assert_status(200);

    // Seven days later it has expired.
    advance(&s.clock, 7 * 86_400 + 1);
    s.post("/password/reset/check", check(&third))
        .await
        .assert_error(ErrorCode::TokenExpired);
}

#[tokio::test]
async fn an_admin_adds_a_login_id_member_who_signs_up_with_the_sheet() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let add = |login_id: &str, name: &str| json!({ "team": DEMO_TEAM, "login_id": login_id, "display_name": name });
    let reply = s
        .post_as("/admin/members", add("saburo", "三郎 佐藤"), &admin)
        .await;
    reply.assert_status(201);
    let added: AdminMember = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(added.login_id.as_deref(), Some("saburo"));
    assert!(!added.has_password);
    assert_eq!(added.email, None);

    s.post_as("/admin/members", add("SABURO", "Another"), &admin)
        .await
        .assert_error(ErrorCode::LoginIdTaken);
    s.post_as("/admin/members", add("三郎", "Another"), &admin)
        .await
        .assert_error(ErrorCode::LoginIdInvalid);
    s.post_as("/admin/members", add("shiro", "   "), &admin)
        .await
        .assert_error(ErrorCode::DisplayNameInvalid);

    // No password yet: nothing logs in until the sheet is used.
    s.login_with_login_id(DEMO_TEAM, "saburo", "")
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    let token = token_of(&link_on(&sheet(&s, &admin, &added.id, "ja").await));
    s.post("/password/reset", new_password(&token, &good_password(5)))
        .await
        .assert_status(200);
    s.login_with_login_id(DEMO_TEAM, "saburo", &good_password(5))
        .await
        .assert_status(201);
    assert!(members(&s, &admin, "saburo").await[0].has_password);
}

#[tokio::test]
async fn sso_members_are_not_reset_and_email_members_get_mail_not_a_sheet() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let hanako = member_id(&s, &admin, "hanako").await;
    let taro = member_id(&s, &admin, "taro").await;
    reset(&s, &admin, &hanako)
        .await
        .assert_error(ErrorCode::MemberUsesSso);
    sheet(&s, &admin, &hanako, "en")
        .await
        .assert_error(ErrorCode::MemberUsesSso);
    sheet(&s, &admin, &taro, "en")
        .await
        .assert_error(ErrorCode::MemberUsesEmail);
    let jiro = member_id(&s, &admin, DEMO_LOGIN_ID).await;
    sheet(&s, &admin, &jiro, "fr")
        .await
        .assert_error(ErrorCode::BadRequest);
    // Taro's password still works: a refused request changes nothing.
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
}

#[tokio::test]
async fn a_sheet_font_given_by_name_that_cannot_be_read_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = unipos_server::Config::for_tests(dir.path());
    config.sheet_font = Some(dir.path().join("no-such-font.ttc"));
    let err = unipos_server::spawn(config).await.unwrap_err();
    let shown = format!("{err:#}");
    assert!(shown.contains("--sheet-font"), "{shown}");
    assert!(shown.contains("no-such-font.ttc"), "{shown}");
}
