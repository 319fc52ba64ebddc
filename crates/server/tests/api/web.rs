//! The reset link's page in a browser (`/reset_password`), spoken to as a browser speaks to it,
//! and the app-link association files.

use base64::Engine;
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use unipos_protocol::binding::code_challenge;
use unipos_protocol::{ErrorCode, LinkRules};

use crate::common::*;
use crate::pdf_tools::{self, Quarter};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// The app's texts (`ui/src/i18n/*.json`) and the page's own (`src/reset_page/*.json`).
fn text(lang: &str, key: &str) -> String {
    let read = |path: String| -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let mut all = read(format!("{root}/../../ui/src/i18n/{lang}.json"));
    all.extend(read(format!("{root}/src/reset_page/{lang}.json")));
    let found = all
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no {key} in {lang}"));
    html_escaped(found)
}

/// As the page writes text.
fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn en(key: &str) -> String {
    text("en", key)
}

/// What a browser holds after opening a page: the answer, the form's secret (hidden field) and
/// the cookie the page set.
struct Opened {
    reply: Reply,
    secret: Option<String>,
    cookie: Option<String>,
}

impl Opened {
    fn html(&self) -> String {
        self.reply.text()
    }
}

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn request(
    s: &TestServer,
    method: Method,
    path_and_query: &str,
    headers: &[(&str, &str)],
    form: Option<&[(&str, &str)]>,
) -> Reply {
    let mut req = browser().request(method, format!("{}{path_and_query}", s.base));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    if let Some(fields) = form {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
    }
    let res = req.send().await.unwrap();
    Reply {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.bytes().await.unwrap().to_vec(),
    }
}

/// Opens `/reset_password?QUERY` as a browser whose languages are `accept_language`.
async fn open(s: &TestServer, query: &str, accept_language: &str) -> Opened {
    let reply = request(
        s,
        Method::GET,
        &format!("/reset_password?{query}"),
        &[("accept-language", accept_language)],
        None,
    )
    .await;
    let html = reply.text();
    let secret = html
        .split("name=\"form_secret\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned);
    let cookie = reply
        .header("set-cookie")
        .and_then(|c| c.split(';').next().map(str::to_owned));
    Opened {
        reply,
        secret,
        cookie,
    }
}

async fn open_link(s: &TestServer, token: &str) -> Opened {
    open(s, &format!("token={token}"), "en-US,en;q=0.9").await
}

/// What a browser sends for "Set password and login" on the page it opened: its cookie, the
/// page's own origin (`null` under no-referrer) and `Sec-Fetch-Site: same-origin`.
const FROM_THE_PAGE: &[(&str, &str)] = &[("origin", "null"), ("sec-fetch-site", "same-origin")];

async fn submit(
    s: &TestServer,
    opened: &Opened,
    token: &str,
    new: &str,
    again: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let secret = opened.secret.clone().expect("the page has a form");
    let cookie = opened.cookie.clone().expect("the page set its cookie");
    let mut all = vec![("cookie", cookie.as_str())];
    all.extend_from_slice(headers);
    request(
        s,
        Method::POST,
        "/reset_password",
        &all,
        Some(&[
            ("token", token),
            ("form_secret", &secret),
            ("lang", "en"),
            ("new_password", new),
            ("new_password_confirmation", again),
        ]),
    )
    .await
}

/// "Send" from the app: a link bound to the app's verifier.
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

/// The admin resets the demo Login ID member and prints their sheet: the link in its QR code.
async fn login_id_token(s: &TestServer) -> String {
    let admin = s.admin_token().await;
    let found = s
        .get_as(&format!("/admin/members?query={DEMO_LOGIN_ID}"), &admin)
        .await;
    let id = found.json()["members"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.post_as(
        &format!("/admin/members/{id}/password_reset"),
        json!({}),
        &admin,
    )
    .await
    .assert_status(200);
    let sheet = s
        .get_as(
            &format!("/admin/members/{id}/account_sheet?lang=en"),
            &admin,
        )
        .await;
    sheet.assert_status(200);
    let png = pdf_tools::render_page_png(&sheet.body, 150);
    token_of(&pdf_tools::decode_qr_in_quarter(&png, Quarter::LowerRight).unwrap())
}

/// The text of a page outside its style and script.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<s") {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let end_tag = if from.starts_with("<style>") {
            "</style>"
        } else if from.starts_with("<script>") {
            "</script>"
        } else {
            out.push_str("<s");
            rest = &from[2..];
            continue;
        };
        rest = from.split_once(end_tag).map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

fn is_usable(reply: &Reply) -> bool {
    reply.status.as_u16() == 200
}

async fn link_still_works(s: &TestServer, token: &str) -> bool {
    is_usable(
        &s.post("/password/reset/check", json!({ "token": token }))
            .await,
    )
}

#[tokio::test]
async fn a_link_asked_for_outside_the_app_gets_the_form_and_no_custom_scheme_hand_off() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let page = open_link(&s, &token).await;
    page.reply.assert_status(200);
    let html = page.html();
    assert!(
        html.contains("<form method=\"post\" action=\"reset_password\">"),
        "{html}"
    );
    assert_eq!(html.matches("autocomplete=\"new-password\"").count(), 2);
    // Password managers suggest a password the demo organisation's policy accepts.
    assert_eq!(
        html.matches(
            "autocomplete=\"new-password\" passwordrules=\"minlength: 8; maxlength: 128; \
             required: lower; required: digit; allowed: upper, special;\""
        )
        .count(),
        2,
        "{html}"
    );
    assert!(html.contains(&format!(
        "<label for=\"new-password\">{}</label>",
        en("reset.new")
    )));
    assert!(html.contains(&format!(
        "<label for=\"confirm-password\">{}</label>",
        en("reset.confirm")
    )));
    assert!(html.contains(&en("reset.for").replace("{hint}", "t***@example.com")));
    // The organisation's rules, as the app's checklist names them.
    assert!(html.contains(&en("reset.rules")));
    assert!(html.contains(&format!(
        "<li>{}</li>",
        en("rule.min_length").replace("{n}", "8")
    )));
    assert!(html.contains(&format!("<li>{}</li>", en("rule.require_digit"))));
    assert!(html.contains(&format!("<li>{}</li>", en("rule.common_password"))));
    assert!(
        html.contains("<button class=\"button\" type=\"submit\">Set password and login</button>")
    );
    assert!(
        !html.contains("unipos://"),
        "no hand-off of the token: {html}"
    );
    assert!(page.secret.is_some() && page.cookie.is_some());
}

/// The form's `passwordrules` and checklist are the member's organisation's, not the default.
#[tokio::test]
async fn the_form_gives_password_managers_the_organisations_own_rules() {
    let s = TestServer::start().await;
    s.store()
        .set_team(json!({ "slug": "strict", "policy": {
            "min_length": 12, "max_length": 64, "require_lower": true, "require_upper": true,
            "require_digit": true, "require_symbol": true
        } }))
        .unwrap();
    s.store()
        .add_member(json!({"email": "ken@strict.example", "team": "strict", "password": "Strict-pass-123", "display_name": "Ken", "login_method": "email"}))
        .unwrap();
    let token = s.reset_token_for("ken@strict.example").await;
    let html = open_link(&s, &token).await.html();
    let rules = "passwordrules=\"minlength: 12; maxlength: 64; required: lower; required: upper; \
                 required: digit; required: special;\"";
    assert_eq!(html.matches(rules).count(), 2, "{html}");
    assert!(html.contains(&format!(
        "<li>{}</li>",
        en("rule.min_length").replace("{n}", "12")
    )));
}

#[tokio::test]
async fn a_link_the_app_asked_for_gets_only_the_app_and_no_form() {
    let s = TestServer::start().await;
    let token = bound_token(&s).await;
    let page = open_link(&s, &token).await;
    page.reply.assert_status(200);
    let html = page.html();
    assert!(
        html.contains(&format!(
            "<a class=\"button\" href=\"{}\">{}</a>",
            LinkRules::app_reset_url(&token),
            en("page.bound.open")
        )),
        "{html}"
    );
    assert!(html.contains("Open in the Unipos app"));
    assert!(
        !html.contains("<form") && !html.contains("type=\"password\""),
        "{html}"
    );
    assert!(page.reply.header("set-cookie").is_none());
    // The paste field is in Log in's closed section: the page says to open the section first,
    // by the name it has on Log in.
    assert!(
        html.contains(
            "On Log in, tap &quot;Have a link from a reset email or an Account Information \
             form?&quot; near the bottom to open it, and paste the link from the email into \
             &quot;Link from the email&quot;."
        ),
        "{html}"
    );
}

#[tokio::test]
async fn opening_the_page_never_uses_the_link_up() {
    let s = TestServer::start().await;
    let unbound = s.reset_token_for(DEMO_EMAIL).await;
    advance(&s.clock, 61);
    let bound = bound_token(&s).await;
    for _ in 0..3 {
        open_link(&s, &bound).await.reply.assert_status(200);
    }
    s.post(
        "/password/reset/check",
        json!({ "token": bound, "code_verifier": VERIFIER }),
    )
    .await
    .assert_status(200);

    // An unbound link of another member, opened by a mail scanner and then by the member.
    let admin = s.admin_token().await;
    let admins_link = s.reset_token_for(DEMO_ADMIN_EMAIL).await;
    for _ in 0..3 {
        open_link(&s, &admins_link).await.reply.assert_status(200);
    }
    assert!(link_still_works(&s, &admins_link).await);
    s.get_as("/me", &admin).await.assert_status(200);
    // The superseded one says so, and is not used up either.
    let page = open_link(&s, &unbound).await;
    page.reply.assert_status(410);
    assert!(page.html().contains(&en("link.token_superseded.title")));
}

#[tokio::test]
async fn the_form_sets_the_password_as_the_api_does_and_logs_no_one_in() {
    let s = TestServer::start().await;
    let old_session = s.session_token(DEMO_EMAIL, DEMO_PASSWORD).await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let page = open_link(&s, &token).await;
    let new = good_password(1);
    let set = submit(&s, &page, &token, &new, &new, FROM_THE_PAGE).await;

    set.assert_status(303);
    assert_eq!(
        set.header("location").as_deref(),
        Some("password_set?lang=en")
    );
    // No session of any kind: no token in the answer, and the only cookie is the spent secret.
    assert!(set.body.is_empty());
    let cookie = set.header("set-cookie").unwrap();
    assert!(cookie.starts_with("unipos_reset_form=;") && cookie.contains("Max-Age=0"));
    // As the API's reset: the password works, every session ended, the notice mail is sent,
    // the link is used up.
    s.login(DEMO_EMAIL, &new).await.assert_status(201);
    s.login(DEMO_EMAIL, DEMO_PASSWORD)
        .await
        .assert_error(ErrorCode::InvalidCredentials);
    s.get_as("/me", &old_session)
        .await
        .assert_error(ErrorCode::SessionExpired);
    let mails = s.wait_for_mails(DEMO_EMAIL, 2).await;
    assert_ne!(mails[1].subject, unipos_protocol::RESET_MAIL_SUBJECT);
    let again = open_link(&s, &token).await;
    again.reply.assert_status(410);
    assert!(again.html().contains(&en("link.token_used.title")));

    let done = request(&s, Method::GET, "/password_set?lang=en", &[], None).await;
    done.assert_status(200);
    let html = done.text();
    assert!(html.contains(&en("page.done.title")), "{html}");
    assert!(html.contains(&en("page.done.body")));
    // It offers the app, without any token.
    assert!(html.contains("href=\"unipos://login\""));
    assert!(!visible_text(&html).contains("token"));
}

#[tokio::test]
async fn mismatched_or_weak_passwords_get_the_apps_codes_and_texts_and_leave_the_link_usable() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let page = open_link(&s, &token).await;

    let mismatch = submit(
        &s,
        &page,
        &token,
        &good_password(1),
        &good_password(2),
        FROM_THE_PAGE,
    )
    .await;
    mismatch.assert_status(422);
    let html = mismatch.text();
    assert!(html.contains(&en("error.password_mismatch")), "{html}");
    assert!(html.contains("Code: password_mismatch"));
    assert!(html.contains("role=\"alert\" id=\"form-error\""));
    assert!(html.contains(
        "name=\"new_password_confirmation\" type=\"password\" autocomplete=\"new-password\" \
         passwordrules=\"minlength: 8; maxlength: 128; required: lower; required: digit; \
         allowed: upper, special;\" required aria-describedby=\"form-error\" aria-invalid=\"true\""
    ));
    assert!(!html.contains(&good_password(1)), "no password is echoed");

    let weak = submit(&s, &page, &token, "password", "password", FROM_THE_PAGE).await;
    weak.assert_status(422);
    let html = weak.text();
    assert!(html.contains(&en("error.password_policy")), "{html}");
    assert!(html.contains(&en("rule.failed").replace("{rules}", &en("rule.require_digit"))));
    assert!(html.contains(&en("rule.failed_common")));
    assert!(html.contains(&en("rule.fix_common")), "one next step, last");
    assert!(html.contains("Code: password_policy"));
    assert!(html.contains("aria-describedby=\"rules form-error\" aria-invalid=\"true\""));

    // The page after an error is the form again, with its secret: the next try works.
    assert!(link_still_works(&s, &token).await);
    let next = Opened {
        secret: page.secret.clone(),
        cookie: page.cookie.clone(),
        reply: weak,
    };
    submit(
        &s,
        &next,
        &token,
        &good_password(3),
        &good_password(3),
        FROM_THE_PAGE,
    )
    .await
    .assert_status(303);
    s.login(DEMO_EMAIL, &good_password(3))
        .await
        .assert_status(201);
}

#[tokio::test]
async fn dead_links_say_what_happened_and_what_to_do_next() {
    let s = TestServer::start().await;
    // Used.
    let used = s.reset_token_for(DEMO_EMAIL).await;
    let page = open_link(&s, &used).await;
    submit(
        &s,
        &page,
        &used,
        &good_password(1),
        &good_password(1),
        FROM_THE_PAGE,
    )
    .await
    .assert_status(303);
    s.wait_for_mails(DEMO_EMAIL, 2).await; // the "password changed" notice
                                           // Superseded by the next mail, and that one expired.
    advance(&s.clock, 61);
    let superseded = s.reset_token_for(DEMO_EMAIL).await;
    advance(&s.clock, 61);
    let expired = s.reset_token_for(DEMO_EMAIL).await;
    advance(&s.clock, 3601);
    let unknown = "Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_Zz9-_";

    for (token, code, status) in [
        (used.as_str(), "token_used", 410),
        (superseded.as_str(), "token_superseded", 410),
        (expired.as_str(), "token_expired", 410),
        (unknown, "token_invalid", 404),
    ] {
        let page = open_link(&s, token).await;
        page.reply.assert_status(status);
        let html = page.html();
        assert!(
            html.contains(&format!("<h1>{}</h1>", en(&format!("link.{code}.title")))),
            "{html}"
        );
        assert!(html.contains(&en(&format!("link.{code}.body"))), "{code}");
        assert!(html.contains(&format!("Code: {code}")));
        // The way on: a new mail, asked for in the app.
        assert!(html.contains(&format!(
            "<a class=\"button\" href=\"unipos://forgot_password\">{}</a>",
            en("link.send_new")
        )));
        assert!(!html.contains("<form") && !html.contains("unipos://reset_password"));
    }
    // A post of the form for a link that died meanwhile says the same.
    let page = Opened {
        secret: Some("A".repeat(43)),
        cookie: Some(format!("unipos_reset_form={}", "A".repeat(43))),
        reply: open_link(&s, &expired).await.reply,
    };
    let late = submit(
        &s,
        &page,
        &expired,
        &good_password(4),
        &good_password(4),
        FROM_THE_PAGE,
    )
    .await;
    late.assert_status(410);
    assert!(late.text().contains(&en("link.token_expired.title")));
}

#[tokio::test]
async fn a_login_id_members_page_names_the_team_and_their_dead_link_sends_them_to_the_admin() {
    let s = TestServer::start().await;
    let token = login_id_token(&s).await;
    let page = open_link(&s, &token).await;
    page.reply.assert_status(200);
    let html = page.html();
    assert!(
        html.contains(
            &en("reset.for_login_id")
                .replace("{login_id}", "j***")
                .replace("{team_name}", "Unipos Demo")
                .replace("{team}", DEMO_TEAM)
        ),
        "{html}"
    );
    assert!(
        !visible_text(&html).contains('@'),
        "a Login ID member has no address"
    );
    let new = good_password(5);
    let set = submit(&s, &page, &token, &new, &new, FROM_THE_PAGE).await;
    set.assert_status(303);
    assert_eq!(
        set.header("location").as_deref(),
        Some("password_set?lang=en&account=login_id")
    );
    s.login_with_login_id(DEMO_TEAM, DEMO_LOGIN_ID, &new)
        .await
        .assert_status(201);

    let used = open_link(&s, &token).await;
    used.reply.assert_status(410);
    let html = used.html();
    assert!(
        html.contains(&en("link.login_id.token_used.body")),
        "{html}"
    );
    assert!(
        !html.contains("unipos://forgot_password"),
        "they have no address to mail"
    );
    let done = request(
        &s,
        Method::GET,
        "/password_set?lang=en&account=login_id",
        &[],
        None,
    )
    .await;
    assert!(done.text().contains(&en("page.done.body_login_id")));
}

#[tokio::test]
async fn the_page_leads_in_the_members_language_with_the_other_one_link_away() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let ja = |key: &str| text("ja", key);

    let page = open(&s, &format!("token={token}"), "ja-JP,ja;q=0.9,en-US;q=0.8").await;
    let html = page.html();
    assert!(html.contains("<html lang=\"ja\">"), "{html}");
    assert!(html.contains(&format!("<h1>{}</h1>", ja("reset.title"))));
    assert!(html.contains(&ja("reset.submit")));
    assert!(html.contains(&format!(
        "<a href=\"?token={token}&amp;lang=en\" hreflang=\"en\" lang=\"en\">English</a>"
    )));

    let english = open(&s, &format!("token={token}&lang=en"), "ja-JP").await;
    let html = english.html();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains(&format!("<h1>{}</h1>", en("reset.title"))));
    assert!(html.contains(&format!(
        "<a href=\"?token={token}&amp;lang=ja\" hreflang=\"ja\" lang=\"ja\">日本語</a>"
    )));

    // An English browser, and one that wants neither language, get English.
    for accept in ["en-GB", "fr-FR,de;q=0.8", ""] {
        let html = open(&s, &format!("token={token}"), accept).await.html();
        assert!(html.contains("<html lang=\"en\">"), "{accept}");
    }

    // The form remembers the language: its errors come in Japanese.
    let secret = page.secret.clone().unwrap();
    let mismatch = request(
        &s,
        Method::POST,
        "/reset_password",
        &[
            ("cookie", &page.cookie.clone().unwrap()),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(&[
            ("token", &token),
            ("form_secret", &secret),
            ("lang", "ja"),
            ("new_password", &good_password(1)),
            ("new_password_confirmation", &good_password(2)),
        ]),
    )
    .await;
    mismatch.assert_status(422);
    assert!(mismatch.text().contains(&ja("error.password_mismatch")));
    assert!(mismatch.text().contains("エラーコード：password_mismatch"));
}

/// The password-changed notice a reset on the page causes is in the page's language (its switch,
/// else the browser's Accept-Language), which the form carries.
#[tokio::test]
async fn the_notice_of_a_password_set_on_the_page_is_in_the_page_s_language() {
    let s = TestServer::start().await;
    for (n, (accept, lang, subject)) in [
        (
            "ja-JP,ja;q=0.9,en;q=0.8",
            "ja",
            unipos_protocol::PASSWORD_CHANGED_MAIL_SUBJECT_JA,
        ),
        (
            "en-GB",
            "en",
            unipos_protocol::PASSWORD_CHANGED_MAIL_SUBJECT,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        advance(&s.clock, 61);
        let token = s.reset_token_for(DEMO_EMAIL).await;
        let page = open(&s, &format!("token={token}"), accept).await;
        assert!(page
            .html()
            .contains(&format!("name=\"lang\" value=\"{lang}\"")));
        let new = good_password(n as u32 + 1);
        let mut headers = vec![
            ("cookie", page.cookie.clone().unwrap()),
            ("sec-fetch-site", "same-origin".to_owned()),
        ];
        headers.push(("accept-language", accept.to_owned()));
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        request(
            &s,
            Method::POST,
            "/reset_password",
            &headers,
            Some(&[
                ("token", &token),
                ("form_secret", &page.secret.clone().unwrap()),
                ("lang", lang),
                ("new_password", &new),
                ("new_password_confirmation", &new),
            ]),
        )
        .await
        .assert_status(303);
        let mails = s.wait_for_mails(DEMO_EMAIL, 2 * (n + 1)).await;
        let notice = mails.last().unwrap();
        assert_eq!(notice.subject, subject, "{accept}");
    }
}

#[tokio::test]
async fn a_post_from_another_site_or_without_the_pages_secret_is_refused_and_changes_nothing() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let page = open_link(&s, &token).await;
    let secret = page.secret.clone().unwrap();
    let cookie = page.cookie.clone().unwrap();
    let new = good_password(1);
    let other_secret = "B".repeat(43);
    // A post of the whole form, with `secret` in its hidden field (or none).
    let post = |headers: Vec<(&'static str, String)>, secret: Option<String>| {
        let (s, token, new) = (&s, token.clone(), new.clone());
        async move {
            let mut form = vec![
                ("token", token.as_str()),
                ("lang", "en"),
                ("new_password", new.as_str()),
                ("new_password_confirmation", new.as_str()),
            ];
            if let Some(secret) = &secret {
                form.push(("form_secret", secret));
            }
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            request(s, Method::POST, "/reset_password", &headers, Some(&form)).await
        }
    };
    let from = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
        pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    };
    let refused = [
        // Another site, even one that learnt the secret: the browser says where it posts from.
        (
            "another site",
            post(
                from(&[
                    ("cookie", &cookie),
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://evil.example"),
                ]),
                Some(secret.clone()),
            )
            .await,
        ),
        (
            "another port of this host",
            post(
                from(&[
                    ("cookie", &cookie),
                    ("sec-fetch-site", "same-site"),
                    ("origin", "http://127.0.0.1:1"),
                ]),
                Some(secret.clone()),
            )
            .await,
        ),
        (
            "an older browser, from another origin",
            post(
                from(&[("cookie", &cookie), ("origin", "https://evil.example")]),
                Some(secret.clone()),
            )
            .await,
        ),
        // A page that posts without the secret: no cookie (SameSite=Strict), or a guessed field.
        (
            "no cookie",
            post(
                from(&[("sec-fetch-site", "same-origin")]),
                Some(secret.clone()),
            )
            .await,
        ),
        (
            "another secret",
            post(
                from(&[("cookie", &cookie), ("sec-fetch-site", "same-origin")]),
                Some(other_secret),
            )
            .await,
        ),
        ("no field", post(from(&[("cookie", &cookie)]), None).await),
    ];
    for (what, reply) in refused {
        reply.assert_status(403);
        let html = reply.text();
        assert!(html.contains(&en("page.refused.title")), "{what}: {html}");
        assert!(!html.contains(&token), "{what}: the token is not echoed");
    }
    // Nothing changed: the old password works and the link is unused.
    s.login(DEMO_EMAIL, DEMO_PASSWORD).await.assert_status(201);
    assert!(link_still_works(&s, &token).await);
    // A post that is not a form at all.
    request(
        &s,
        Method::POST,
        "/reset_password",
        &[("content-type", "application/json"), ("cookie", &cookie)],
        None,
    )
    .await
    .assert_status(415);
}

#[tokio::test]
async fn the_page_takes_the_token_out_of_the_address_bar_with_the_one_script_its_csp_allows() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let page = open_link(&s, &token).await;
    let html = page.html();
    let scripts: Vec<&str> = html
        .split("<script>")
        .skip(1)
        .map(|rest| rest.split("</script>").next().unwrap())
        .collect();
    assert_eq!(scripts.len(), 1, "one script: {html}");
    let script = scripts[0];
    assert!(
        script.contains("history.replaceState") && script.contains("q.delete('token')"),
        "{script}"
    );
    assert!(
        !html.contains("<script src") && !html.contains(" on"),
        "nothing else runs"
    );
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()));
    let csp = page.reply.header("content-security-policy").unwrap();
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}';")),
        "the CSP allows exactly that script: {csp}"
    );
    // The form posts the token in its body, to an address without it.
    assert!(html.contains("action=\"reset_password\""));
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"token\" value=\"{token}\">"
    )));
}

#[tokio::test]
async fn every_state_of_the_page_keeps_the_headers_that_keep_the_token_in() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let form = open_link(&s, &token).await;
    advance(&s.clock, 61);
    let bound = open_link(&s, &bound_token(&s).await).await;
    let dead = open_link(&s, &token).await; // superseded by the bound one
    let damaged = open(&s, "token=short", "en").await;
    let done = request(&s, Method::GET, "/password_set", &[], None).await;
    for (state, reply) in [
        ("form", &form.reply),
        ("bound", &bound.reply),
        ("dead", &dead.reply),
        ("damaged", &damaged.reply),
        ("done", &done),
    ] {
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("text/html; charset=utf-8"),
            "{state}"
        );
        assert_eq!(
            reply.header("referrer-policy").as_deref(),
            Some("no-referrer"),
            "{state}"
        );
        assert_eq!(
            reply.header("cache-control").as_deref(),
            Some("no-store"),
            "{state}"
        );
        assert_eq!(
            reply.header("x-frame-options").as_deref(),
            Some("DENY"),
            "{state}"
        );
        assert!(reply.header("x-request-id").is_some());
        let csp = reply.header("content-security-policy").unwrap();
        for part in [
            "default-src 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "{state}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{state}: {csp}");
        // No key of a catalogue left untranslated, no placeholder left unfilled.
        let text = visible_text(&reply.text());
        for leftover in ["page.", "link.", "error.", "reset.", "rule.", "{", "}"] {
            assert!(!text.contains(leftover), "{state}: {leftover} in {text}");
        }
    }
    // The form's secret lives in a cookie scripts cannot read, sent only to this page, only
    // from this site.
    let cookie = form.reply.header("set-cookie").unwrap();
    for attribute in [
        "Path=/reset_password",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=3600",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );
}

#[tokio::test]
async fn a_browser_keeps_one_secret_for_every_tab_of_the_page() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let first = open_link(&s, &token).await;
    let second = request(
        &s,
        Method::GET,
        &format!("/reset_password?token={token}"),
        &[("cookie", &first.cookie.clone().unwrap())],
        None,
    )
    .await;
    assert!(second.text().contains(&format!(
        "name=\"form_secret\" value=\"{}\"",
        first.secret.clone().unwrap()
    )));
    // So the first tab's form still posts.
    submit(
        &s,
        &first,
        &token,
        &good_password(1),
        &good_password(1),
        FROM_THE_PAGE,
    )
    .await
    .assert_status(303);
}

#[tokio::test]
async fn a_damaged_or_missing_link_shows_its_page_without_echoing_it() {
    let s = TestServer::start().await;
    for (query, code) in [
        (
            "token=%3Cscript%3Ealert(1)%3C/script%3E".to_owned(),
            "link_token_malformed",
        ),
        (format!("token={}", "a".repeat(20)), "link_token_malformed"),
        (
            format!("token={0}&token={0}", "a".repeat(43)),
            "link_token_duplicate",
        ),
        (String::new(), "link_token_missing"),
        ("lang=en".to_owned(), "link_token_missing"),
    ] {
        let page = open(&s, &query, "en").await;
        page.reply.assert_status(400);
        let html = page.html();
        assert!(html.contains(&format!("Code: {code}")), "{query}: {html}");
        assert!(
            !html.contains("script%3E")
                && !html.contains("<script>alert")
                && !html.contains("aaaaaaaaaa")
        );
        assert!(!html.contains("unipos://") && !html.contains("<form"));
    }
    // Parameters that mail link trackers add are ignored.
    let token = s.reset_token_for(DEMO_EMAIL).await;
    open(&s, &format!("utm_source=mail&token={token}"), "en")
        .await
        .reply
        .assert_status(200);
}

/// The server's debug log over the page's whole flow: the path without the query for the GET,
/// the post's body never.
#[tokio::test]
async fn the_page_and_its_form_leave_no_token_or_password_in_the_log() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .args(["--dev", "--listen", "127.0.0.1:0", "--db", ":memory:"])
        .arg("--outbox")
        .arg(dir.path().join("mail"))
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Kill(child);
    let base = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let http = browser();
    http.post(format!("{base}/api/v1/password/forgot"))
        .json(&json!({ "email": DEMO_EMAIL }))
        .send()
        .await
        .unwrap();
    let link = loop {
        let outbox: serde_json::Value = http
            .get(format!("{base}/api/v1/dev/outbox"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(link) = outbox["messages"][0]["links"][0].as_str() {
            break link.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let token = token_of(&link);
    let page = http.get(&link).send().await.unwrap();
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    let secret = html
        .split("name=\"form_secret\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let password = "Web-page-secret-7";
    let set = http
        .post(format!("{base}/reset_password"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("token", token.as_str()),
                    ("form_secret", &secret),
                    ("new_password", password),
                    ("new_password_confirmation", password),
                ])
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 303);

    drop(child);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("path=\"/reset_password\" route=\"/reset_password\" status=303"),
        "{log}"
    );
    assert!(log.contains("password reset"), "{log}");
    for secret in [token.as_str(), &secret, password, DEMO_EMAIL] {
        assert!(!log.contains(secret), "{secret} is in the server's log");
    }
}

const FINGERPRINT: &str =
    "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5";
const PLAY_FINGERPRINT: &str =
    "FA:C6:17:45:DC:09:03:78:6F:B9:ED:E6:2A:96:2B:39:9F:73:48:F0:BB:6F:89:9B:83:32:66:75:91:03:3B:9C";

#[tokio::test]
async fn association_files_whose_ids_are_still_placeholders_are_not_served() {
    // The defaults: the Apple team ID is TEAMID and no Android fingerprint exists yet.
    let s = TestServer::start().await;
    for file in [
        "/.well-known/assetlinks.json",
        "/.well-known/apple-app-site-association",
    ] {
        s.get_page(file).await.assert_error(ErrorCode::NotFound);
    }
}

#[tokio::test]
async fn assetlinks_json_comes_from_the_configuration() {
    let s = TestServer::start_with(|c| {
        c.android_package = "me.unipos.account.staging".to_owned();
        c.android_cert_sha256 = vec![FINGERPRINT.to_owned(), PLAY_FINGERPRINT.to_owned()];
    })
    .await;
    let reply = s.get_page("/.well-known/assetlinks.json").await;
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        reply.json(),
        json!([{
            "relation": ["delegate_permission/common.handle_all_urls"],
            "target": {
                "namespace": "android_app",
                "package_name": "me.unipos.account.staging",
                "sha256_cert_fingerprints": [FINGERPRINT, PLAY_FINGERPRINT]
            }
        }])
    );
}

#[tokio::test]
async fn apple_app_site_association_comes_from_the_configuration() {
    let s = TestServer::start_with(|c| c.apple_app_id = "ABCDE12345.me.unipos.account".to_owned())
        .await;
    let reply = s.get_page("/.well-known/apple-app-site-association").await;
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/json")
    );
    let aasa = reply.json();
    let details = &aasa["applinks"]["details"][0];
    assert_eq!(details["appIDs"], json!(["ABCDE12345.me.unipos.account"]));
    assert_eq!(details["components"][0]["/"], "/reset_password*");
    assert_eq!(details["paths"], json!(["/reset_password*"]));
}

#[tokio::test]
async fn malformed_app_link_ids_stop_the_start() {
    for (configure, flag) in [
        (
            Box::new(|c: &mut unipos_server::Config| {
                c.android_cert_sha256 = vec!["AA:BB".to_owned()]
            }) as Box<dyn Fn(&mut unipos_server::Config)>,
            "--android-cert-sha256",
        ),
        (
            Box::new(|c: &mut unipos_server::Config| {
                c.apple_app_id = "me.unipos.account".to_owned()
            }),
            "--apple-app-id",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = unipos_server::Config::for_tests(dir.path());
        configure(&mut config);
        let refused = unipos_server::spawn(config).await.unwrap_err();
        assert!(refused.to_string().contains(flag), "{refused:#}");
    }
}

/// The binary's log at start: a warning for each association file that cannot verify the app,
/// and none once the flags name real IDs.
#[test]
fn the_server_warns_at_start_while_app_link_ids_are_placeholders() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let start = |flags: &[&str]| -> String {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("server.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
            .args(["--dev", "--listen", "127.0.0.1:0", "--db", ":memory:"])
            .arg("--outbox")
            .arg(dir.path().join("mail"))
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(first.starts_with("listening on "), "{first}");
        std::fs::read_to_string(&log_path).unwrap()
    };
    let placeholders = start(&[]);
    assert!(
        placeholders.contains("WARN") && placeholders.contains("no --android-cert-sha256"),
        "{placeholders}"
    );
    assert!(
        placeholders.contains("--apple-app-id has the placeholder team ID"),
        "{placeholders}"
    );
    let configured = start(&[
        "--android-cert-sha256",
        FINGERPRINT,
        "--apple-app-id",
        "ABCDE12345.me.unipos.account",
    ]);
    assert!(!configured.contains("WARN"), "{configured}");
}
