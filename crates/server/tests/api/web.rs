//! GET /reset_password and the app-link association files.

use serde_json::json;
use unipos_protocol::LinkRules;

use crate::common::*;

#[tokio::test]
async fn the_reset_page_offers_the_app_link_and_leaks_nothing() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let reply = s.get_page(&format!("/reset_password?token={token}")).await;
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        reply.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    assert_eq!(reply.header("cache-control").as_deref(), Some("no-store"));
    let csp = reply.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert!(reply.header("x-request-id").is_some());
    let html = reply.text();
    assert!(html.contains("Open in the Unipos app"));
    assert!(
        html.contains(&format!("href=\"{}\"", LinkRules::app_reset_url(&token))),
        "{html}"
    );
    assert!(!html.contains("<script"), "the page runs nothing");
}

#[tokio::test]
async fn the_reset_page_speaks_both_languages_and_points_to_the_paste_field() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let html = s
        .get_page(&format!("/reset_password?token={token}"))
        .await
        .text();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    // Every Japanese text is marked as Japanese, the button's included.
    let marked: String = html
        .split("lang=\"ja\">")
        .skip(1)
        .map(|part| part.split("</").next().unwrap_or_default())
        .collect();
    let japanese = |c: char| ('\u{3040}'..='\u{9FFF}').contains(&c);
    let all: String = html.chars().filter(|&c| japanese(c)).collect();
    let in_marked: String = marked.chars().filter(|&c| japanese(c)).collect();
    assert_eq!(all, in_marked, "Japanese outside lang=\"ja\": {html}");
    assert!(
        html.contains("<span lang=\"ja\">Uniposアプリで開く</span>"),
        "{html}"
    );
    // The paste field is on Log in (and on Check your email), not under Reset Password.
    assert!(html.contains("<strong>Link from the email</strong> on <strong>Log in</strong>"));
    assert!(html.contains("ログイン画面"));
    assert!(html.contains("「再設定メールのリンク」欄"));
    assert!(!html.contains("tap <strong>Reset Password</strong>"));
    assert!(!marked.contains("Reset Password"));
}

#[tokio::test]
async fn opening_the_reset_page_never_uses_the_token_up() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    for _ in 0..3 {
        s.get_page(&format!("/reset_password?token={token}"))
            .await
            .assert_status(200);
    }
    s.post("/password/reset/check", json!({ "token": token }))
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_damaged_link_shows_a_damaged_page_without_echoing_it() {
    let s = TestServer::start().await;
    for query in [
        "token=%3Cscript%3Ealert(1)%3C/script%3E".to_owned(),
        format!("token={}", "a".repeat(20)),
        format!("token={0}&token={0}", "a".repeat(43)),
        String::new(),
    ] {
        let reply = s.get_page(&format!("/reset_password?{query}")).await;
        reply.assert_status(400);
        let html = reply.text();
        assert!(html.contains("This link is damaged"), "{html}");
        assert!(
            !html.contains("script%3E")
                && !html.contains("<script")
                && !html.contains("aaaaaaaaaa")
        );
        assert!(!html.contains("unipos://"));
        assert_eq!(
            reply.header("referrer-policy").as_deref(),
            Some("no-referrer")
        );
    }
    // Tracking parameters some mail systems add are ignored.
    let token = "B".repeat(43);
    let reply = s
        .get_page(&format!("/reset_password?utm_source=mail&token={token}"))
        .await;
    reply.assert_status(200);
}

#[tokio::test]
async fn assetlinks_json_comes_from_the_configuration() {
    let s = TestServer::start_with(|c| {
        c.android_package = "me.unipos.account.staging".to_owned();
        c.android_cert_sha256 = vec!["AA:BB".to_owned(), "CC:DD".to_owned()];
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
                "sha256_cert_fingerprints": ["AA:BB", "CC:DD"]
            }
        }])
    );
}

#[tokio::test]
async fn apple_app_site_association_comes_from_the_configuration() {
    let s = TestServer::start().await;
    let reply = s.get_page("/.well-known/apple-app-site-association").await;
    reply.assert_status(200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/json")
    );
    let aasa = reply.json();
    let details = &aasa["applinks"]["details"][0];
    assert_eq!(details["appIDs"], json!(["TEAMID.me.unipos.account"]));
    assert_eq!(details["components"][0]["/"], "/reset_password*");
    assert_eq!(details["paths"], json!(["/reset_password*"]));
}
