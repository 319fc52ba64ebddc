//! POST /password/forgot: no enumeration, the protocol's email rules, rate limits, the mail.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use unipos_protocol::{BaseUrl, Email, ErrorCode, RESET_MAIL_SUBJECT};

use unipos_server::testing::{eml_header, eml_part};

use crate::common::*;

const UNKNOWN: &str = "nobody@example.com";
const SUPPRESSED: &str = "bounced@example.com";

/// A server with an email member whose address bounced, next to the demo members.
async fn server_with_a_suppressed_member() -> TestServer {
    let s = TestServer::start().await;
    s.store()
        .add_member(json!({"email": SUPPRESSED, "password": "Return-to-sender-1", "display_name": "Bounce", "login_method": "email"}))
        .unwrap();
    s.store().bounce(SUPPRESSED).unwrap();
    s
}

#[tokio::test]
async fn forgot_answers_the_same_status_and_bytes_for_every_well_formed_address() {
    let s = server_with_a_suppressed_member().await;
    let registered = s.forgot(DEMO_EMAIL).await;
    registered.assert_status(202);
    assert_eq!(
        registered.json(),
        json!({"status": "accepted", "resend_after_s": 60})
    );
    // Unknown, SSO, an address that looks like a Login-ID member's, suppressed, other case.
    for other in [
        UNKNOWN,
        DEMO_SSO_EMAIL,
        "jiro@example.com",
        SUPPRESSED,
        "TARO@EXAMPLE.COM.jp",
    ] {
        let reply = s.forgot(other).await;
        assert_eq!(reply.status, registered.status, "{other}");
        assert_eq!(reply.body, registered.body, "{other}");
        assert_eq!(
            reply.header("content-type"),
            registered.header("content-type")
        );
        assert_eq!(reply.header("retry-after"), None);
    }
}

#[tokio::test]
async fn forgot_mails_only_members_who_sign_in_by_email_and_are_deliverable() {
    let s = server_with_a_suppressed_member().await;
    for other in [UNKNOWN, DEMO_SSO_EMAIL, "jiro@example.com", SUPPRESSED] {
        s.forgot(other).await.assert_status(202);
    }
    // The worker takes jobs in order: once the member's mail is out, the others were decided.
    s.forgot(DEMO_EMAIL).await.assert_status(202);
    let mails = s.wait_for_mails(DEMO_EMAIL, 1).await;
    let all = s.outbox(None).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(mails[0].subject, RESET_MAIL_SUBJECT);
    assert_eq!(mails[0].links.len(), 1);
    let link = &mails[0].links[0];
    assert!(
        link.starts_with(&format!("{}/reset_password?token=", s.base)),
        "{link}"
    );
    assert_eq!(token_of(link).len(), 43);
}

#[tokio::test]
async fn forgot_refuses_malformed_addresses_with_the_protocol_verdict() {
    let s = TestServer::start().await;
    for input in [
        "",
        " taro@example.com",
        "taro@example.com\u{3000}",
        "taro @example.com",
        "ｔａｒｏ@example.com",
        "taro",
        "taro@localhost",
        &format!("{}@example.com", "a".repeat(65)),
        "taro@exa_mple.com",
    ] {
        let expected = Email::parse(input).expect_err(input);
        let reply = s.forgot(input).await;
        let envelope = reply.assert_error(expected.code());
        assert_eq!(reply.status.as_u16(), 422, "{input}");
        assert_eq!(envelope.error.message, expected.message());
        let details = envelope.error.details.expect("details");
        assert_eq!(details["fix"].as_str(), expected.fix(), "{input}");
        assert_eq!(
            details["chars"].as_array().map(Vec::len),
            Some(expected.chars().len()),
            "{input}"
        );
    }
    let reply = s.forgot(" taro@example.com").await;
    assert_eq!(reply.json()["error"]["details"]["fix"], "taro@example.com");
    assert_eq!(
        reply.json()["error"]["details"]["chars"][0]["code_point"],
        "U+0020"
    );
}

#[tokio::test]
async fn forgot_is_rate_limited_per_address_whether_or_not_it_is_registered() {
    let s = TestServer::start().await;
    s.forgot(DEMO_EMAIL).await.assert_status(202);
    s.forgot(UNKNOWN).await.assert_status(202);
    let known = s.forgot(DEMO_EMAIL).await;
    let unknown = s.forgot(UNKNOWN).await;
    let envelope = known.assert_error(ErrorCode::RateLimited);
    unknown.assert_error(ErrorCode::RateLimited);
    assert_eq!(
        known.body, unknown.body,
        "a 429 must not tell the two apart either"
    );
    let wait = envelope.error.retry_after_s.expect("retry_after_s");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(known.header("retry-after"), Some(wait.to_string()));
    // The address is compared normalized; another address is not affected.
    s.forgot("Taro@Example.com")
        .await
        .assert_error(ErrorCode::RateLimited);
    s.forgot("hanako@example.com").await.assert_status(202);
    // After the interval the address may ask again.
    advance(&s.clock, 60);
    s.forgot(DEMO_EMAIL).await.assert_status(202);
}

#[tokio::test]
async fn forgot_allows_five_mails_per_address_per_hour() {
    let s = TestServer::start().await;
    for n in 1..=5 {
        s.forgot(DEMO_EMAIL).await.assert_status(202);
        let mails = s.wait_for_mails(DEMO_EMAIL, n).await;
        assert_eq!(mails.len(), n, "{mails:?}");
        assert_eq!(mails[n - 1].subject, RESET_MAIL_SUBJECT);
        advance(&s.clock, 61);
    }
    let reply = s.forgot(DEMO_EMAIL).await;
    let wait = reply
        .assert_error(ErrorCode::RateLimited)
        .error
        .retry_after_s
        .unwrap();
    assert!(wait > 60 && wait <= 3600, "{wait}");
    // No sixth mail follows. (Mail goes out in the order it was asked for: once a mail asked
    // for later is out, a sixth would have been too.)
    s.store()
        .add_member(json!({"email": "ken@example.com", "password": "Ken-password-1", "display_name": "Ken", "login_method": "email"}))
        .unwrap();
    s.forgot("ken@example.com").await.assert_status(202);
    s.wait_for_mails("ken@example.com", 1).await;
    assert_eq!(s.outbox(Some(DEMO_EMAIL)).await.len(), 5);
}

#[tokio::test]
async fn forgot_interval_is_configurable_and_is_the_resend_countdown() {
    let s = TestServer::start_with(|c| c.forgot_interval = Duration::from_secs(1)).await;
    let reply = s.forgot(DEMO_EMAIL).await;
    assert_eq!(reply.json()["resend_after_s"], 1);
    s.forgot(DEMO_EMAIL)
        .await
        .assert_error(ErrorCode::RateLimited);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.forgot(DEMO_EMAIL).await.assert_status(202);
}

#[tokio::test]
async fn forgot_answers_before_the_mail_is_delivered() {
    // An SMTP "relay" that accepts connections and never says a word.
    let blackhole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = blackhole.local_addr().unwrap().port();
    let s = TestServer::start_with(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    for email in [DEMO_EMAIL, UNKNOWN] {
        let started = Instant::now();
        s.forgot(email).await.assert_status(202);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    drop(blackhole);
}

#[tokio::test]
async fn reset_links_are_built_from_the_web_base_never_from_the_host_header() {
    let s = TestServer::start_with(|c| {
        c.web_base = Some(BaseUrl::parse("https://unipos.example/app").unwrap())
    })
    .await;
    let reply = s
        .send(
            Method::POST,
            &format!("{}/password/forgot", s.api),
            Some(json!({ "email": DEMO_EMAIL })),
            None,
            // A dev server refuses a foreign Host outright (transport.rs); the headers a proxy
            // adds are not read either.
            &[
                ("x-forwarded-host", "evil.example"),
                ("forwarded", "host=evil.example;proto=https"),
            ],
        )
        .await;
    reply.assert_status(202);
    let mails = s.wait_for_mails(DEMO_EMAIL, 1).await;
    let link = &mails[0].links[0];
    assert!(
        link.starts_with("https://unipos.example/app/reset_password?token="),
        "{link}"
    );
    assert!(!link.contains("evil"));
}

fn header(eml: &str, name: &str) -> String {
    eml_header(eml, name).unwrap_or_else(|| panic!("no {name} header in {eml}"))
}

/// The decoded body of the part with this content type, sent as base64.
fn part(eml: &str, content_type: &str) -> String {
    assert!(
        eml.contains(&format!(
            "Content-Type: {content_type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        )),
        "{eml}"
    );
    eml_part(eml, content_type).unwrap_or_else(|| panic!("no {content_type} part in {eml}"))
}

#[tokio::test]
async fn the_reset_mail_is_an_eml_file_with_encoded_subject_sender_and_text_and_html_parts() {
    let s = TestServer::start().await;
    let token = s.reset_token_for(DEMO_EMAIL).await;
    let link = format!("{}/reset_password?token={token}", s.base);
    let files: Vec<_> = std::fs::read_dir(s.dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.is_ascii(), "an RFC 5322 message is 7-bit");
    assert_eq!(header(&eml, "From"), "Unipos <no-reply@mail.unipos.me>");
    assert_eq!(header(&eml, "To"), DEMO_EMAIL);
    assert_eq!(header(&eml, "Subject"), RESET_MAIL_SUBJECT);
    assert!(
        eml.contains("\r\nSubject: =?utf-8?b?"),
        "the subject is encoded"
    );
    assert!(eml.contains("\r\nDate: "));
    let message_id = header(&eml, "Message-ID");
    assert!(
        message_id.starts_with('<') && message_id.ends_with("@mail.unipos.me>"),
        "{message_id}"
    );
    assert!(eml.contains("Content-Type: multipart/alternative;"));
    let text = part(&eml, "text/plain");
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("Taro Yamada"));
    assert!(text.contains("60 minutes"));
    let html = part(&eml, "text/html");
    assert!(html.contains(&format!("<a href=\"{link}\"")), "{html}");
}

/// Another user of the machine must not read live reset links from the outbox folder: it is
/// this user's alone, whether the server made it or it was there, open to all, before.
#[cfg(unix)]
#[tokio::test]
async fn the_outbox_folder_and_its_mail_are_readable_by_this_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| {
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        format!("{:o}", mode & 0o777)
    };
    for existed in [false, true] {
        let s = TestServer::start_with(|c| {
            let dir = c.outbox_dir.clone().unwrap();
            if existed {
                std::fs::create_dir(&dir).unwrap();
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        })
        .await;
        s.reset_token_for(DEMO_EMAIL).await;
        let dir = s.dir.path().join("outbox");
        assert_eq!(mode(&dir), "700", "existed before: {existed}");
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!files.is_empty());
        for file in files {
            assert_eq!(mode(&file), "600", "{}", file.display());
        }
    }
}
