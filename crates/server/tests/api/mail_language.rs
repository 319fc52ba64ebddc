//! Mail in the member's language: the language of the request that causes it (`lang`, else
//! `Accept-Language`, else English), with the protocol's subjects, and the sample mails in
//! `docs/mail-samples/`, which these tests write from the server's own outbox.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use unipos_protocol::{
    ErrorCode, Language, PASSWORD_CHANGED_MAIL_SUBJECT, PASSWORD_CHANGED_MAIL_SUBJECT_JA,
    RESET_MAIL_SUBJECT, RESET_MAIL_SUBJECT_JA,
};
use unipos_server::testing::{eml_header, eml_part};

use crate::common::*;

/// An `.eml` file the server wrote, with its parts decoded.
struct Eml {
    path: PathBuf,
    raw: String,
    subject: String,
    text: String,
    html: String,
}

/// The `.eml` files in the server's outbox, oldest first.
fn emls(s: &TestServer) -> Vec<Eml> {
    let dir = s.dir.path().join("outbox");
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| (std::fs::metadata(&p).unwrap().modified().unwrap(), p))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|(_, path)| {
            let raw = std::fs::read_to_string(&path).unwrap();
            Eml {
                subject: eml_header(&raw, "Subject").unwrap(),
                // Lines end in CRLF in a message; in LF here, as written.
                text: eml_part(&raw, "text/plain").unwrap().replace("\r\n", "\n"),
                html: eml_part(&raw, "text/html").unwrap().replace("\r\n", "\n"),
                raw,
                path,
            }
        })
        .collect()
}

/// The `n`th mail (1-based) to the demo member, once it is out.
async fn mail_number(s: &TestServer, n: usize) -> Eml {
    s.wait_for_mails(DEMO_EMAIL, n).await;
    let mut all = emls(s);
    assert_eq!(all.len(), n, "{:?}", s.outbox(None).await);
    all.remove(n - 1)
}

async fn forgot_with(s: &TestServer, body: Value, headers: &[(&str, &str)]) -> Reply {
    let url = format!("{}/password/forgot", s.api);
    s.send(Method::POST, &url, Some(body), None, headers).await
}

/// The reset link of a mail's text part: alone on its line.
fn link_line(text: &str) -> String {
    text.lines()
        .find(|l| l.contains("/reset_password?token="))
        .unwrap_or_else(|| panic!("no link in {text}"))
        .to_owned()
}

/// Any character of the Japanese scripts (kana, kanji, full-width forms).
fn has_japanese(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c, '\u{3000}'..='\u{30FF}' | '\u{3400}'..='\u{9FFF}' | '\u{FF01}'..='\u{FF60}')
    })
}

#[tokio::test]
async fn forgot_with_lang_ja_sends_a_japanese_reset_mail_with_link_expiry_way_on_notice_and_signature(
) {
    let s = TestServer::start().await;
    forgot_with(&s, json!({"email": DEMO_EMAIL, "lang": "ja"}), &[])
        .await
        .assert_status(202);
    let mail = mail_number(&s, 1).await;
    assert_eq!(mail.subject, RESET_MAIL_SUBJECT_JA);
    let text = &mail.text;
    assert!(text.starts_with("Taro Yamada 様\n\n"), "{text}");
    // The link alone on its line, to copy whole, and what to do with it.
    let link = link_line(text);
    assert!(
        link.starts_with(&format!("{}/reset_password?token=", s.base)),
        "{link}"
    );
    assert!(text.contains(&format!("\n\n{link}\n\n")), "{text}");
    assert!(
        text.contains("リンクが開かない場合は、上のURLを最後までコピーして、ブラウザのアドレス欄に貼り付けてください。"),
        "{text}"
    );
    // Until when it works, in Japan time, and what to do once it has expired, in the app's words.
    assert!(text.contains("60分以内に次のリンクを開いて"), "{text}");
    assert!(text.contains("このリンクの有効期限は"), "{text}");
    assert!(
        text.contains("（日本時間）までです。使えるのは1回だけです。"),
        "{text}"
    );
    assert!(
        text.contains("有効期限が切れた場合は、Uniposアプリの「ログイン」画面の下にある「パスワードをお忘れの方」の「パスワードを再設定」をタップして、再設定メールをもう一度送信してください。"),
        "{text}"
    );
    assert!(text.contains("お心当たりがない場合は、このメールを破棄してください。"));
    assert!(
        text.contains("※このメールは送信専用のメールアドレスからお送りしています。ご返信いただいても受信できません。"),
        "{text}"
    );
    assert!(text.ends_with("\n\n--\nUnipos\n"), "{text}");
    // Wholly Japanese: no English sentence, and the HTML says so.
    let (bare_text, bare_html) = (text.replace(&link, ""), mail.html.replace(&link, ""));
    for english in ["Hello", "Reset Password", "password", "minutes", "UTC"] {
        assert!(!bare_text.contains(english), "{english} in {text}");
        assert!(!bare_html.contains(english), "{english} in {}", mail.html);
    }
    assert!(mail.html.contains("<html lang=\"ja\">"), "{}", mail.html);
    assert!(
        mail.html.contains(&format!(">{link}</a>")),
        "the copyable link"
    );
    assert!(mail.html.contains(">パスワードを再設定</a>"), "the button");
    assert!(mail.html.contains("送信専用"));
    // The link works.
    let token = token_of(&link);
    s.post("/password/reset/check", json!({ "token": token }))
        .await
        .assert_status(200);
    assert!(mail
        .raw
        .contains("\r\nFrom: Unipos <no-reply@mail.unipos.me>\r\n"));
}

#[tokio::test]
async fn forgot_without_lang_is_english_as_before_unless_the_request_prefers_japanese() {
    let s = TestServer::start().await;
    // Nothing said: English, with the help centre's subject.
    forgot_with(&s, json!({"email": DEMO_EMAIL}), &[])
        .await
        .assert_status(202);
    let mail = mail_number(&s, 1).await;
    assert_eq!(mail.subject, RESET_MAIL_SUBJECT);
    let text = &mail.text;
    assert!(text.starts_with("Hello Taro Yamada,\n\n"), "{text}");
    assert!(text.contains("We received a request to reset the password of your Unipos account (taro@example.com).\nOpen this link within 60 minutes to set a new password:\n\n"), "{text}");
    assert!(text.contains("The link works once, until "), "{text}");
    assert!(text.contains(" UTC.\n"), "{text}");
    assert!(text.contains("If it has expired, tap \"Reset Password\" under \"Forgot your password?\" at the bottom of the Unipos app's \"Log in\" screen to get a new email."), "{text}");
    assert!(text
        .contains("If you did not ask for this, ignore this email: your password stays as it is."));
    assert!(text.contains("send-only address: replies to it cannot be received"));
    assert!(text.ends_with("\n\n--\nUnipos\n"), "{text}");
    assert!(!has_japanese(text), "{text}");
    assert!(!has_japanese(&mail.html), "{}", mail.html);
    assert!(mail.html.contains("<html lang=\"en\">"));

    // The body's `lang` wins over Accept-Language; without it, Accept-Language decides.
    advance(&s.clock, 61);
    forgot_with(
        &s,
        json!({"email": DEMO_EMAIL, "lang": "en"}),
        &[("accept-language", "ja-JP,ja;q=0.9")],
    )
    .await
    .assert_status(202);
    assert_eq!(mail_number(&s, 2).await.subject, RESET_MAIL_SUBJECT);
    advance(&s.clock, 61);
    forgot_with(
        &s,
        json!({"email": DEMO_EMAIL}),
        &[("accept-language", "fr-FR,ja;q=0.8,en;q=0.5")],
    )
    .await
    .assert_status(202);
    let mail = mail_number(&s, 3).await;
    assert_eq!(mail.subject, RESET_MAIL_SUBJECT_JA);
    assert!(mail.text.starts_with("Taro Yamada 様"), "{}", mail.text);
}

#[tokio::test]
async fn forgot_refuses_a_language_the_service_does_not_write_in() {
    let s = TestServer::start().await;
    for lang in [json!("fr"), json!("JA"), json!(1)] {
        forgot_with(&s, json!({"email": DEMO_EMAIL, "lang": lang}), &[])
            .await
            .assert_error(ErrorCode::BadRequest);
    }
    assert!(s.outbox(None).await.is_empty());
}

/// The time a password-changed notice gives, read back from its text, in UTC.
fn notice_time(text: &str, lang: Language) -> OffsetDateTime {
    let (start, end, format, offset) = match lang {
        Language::En => (
            "was changed on ",
            ", and every",
            "[day padding:none] [month repr:long] [year], [hour]:[minute] UTC",
            UtcOffset::UTC,
        ),
        Language::Ja => (
            "のパスワードが、",
            "に変更されました。",
            "[year]年[month padding:none]月[day padding:none]日 [hour]:[minute]（日本時間）",
            UtcOffset::from_hms(9, 0, 0).unwrap(),
        ),
    };
    let shown = text
        .split(start)
        .nth(1)
        .and_then(|rest| rest.split(end).next())
        .unwrap_or_else(|| panic!("no time in {text}"));
    let format = time::format_description::parse_borrowed::<1>(format).unwrap();
    PrimitiveDateTime::parse(shown, &format)
        .unwrap_or_else(|e| panic!("{shown}: {e}"))
        .assume_offset(offset)
        .to_offset(UtcOffset::UTC)
}

/// The notice says when, to the minute: between the minute before the change and just after.
fn assert_time_of_change(text: &str, lang: Language, before_ms: i64, after_ms: i64) {
    let shown = notice_time(text, lang).unix_timestamp() * 1000;
    let minute_before = before_ms - before_ms.rem_euclid(60_000);
    assert!(
        (minute_before..=after_ms).contains(&shown),
        "{shown} not in {minute_before}..={after_ms}: {text}"
    );
}

#[tokio::test]
async fn the_password_changed_notice_is_in_the_language_of_the_request_and_says_when() {
    let s = TestServer::start().await;
    // Set with the link in Japanese: the notice is Japanese, in Japan time.
    let token = s.reset_token_for(DEMO_EMAIL).await;
    // 40 minutes on, so that the time shown is the change's, not the request's.
    advance(&s.clock, 40 * 60);
    let first = good_password(1);
    let before = s.clock.now_ms();
    s.post(
        "/password/reset",
        json!({"token": token, "new_password": first, "new_password_confirmation": first, "lang": "ja"}),
    )
    .await
    .assert_status(200);
    let after = s.clock.now_ms();
    let notice = mail_number(&s, 2).await;
    assert_eq!(notice.subject, PASSWORD_CHANGED_MAIL_SUBJECT_JA);
    let text = &notice.text;
    assert!(text.starts_with("Taro Yamada 様\n\n"), "{text}");
    assert_time_of_change(text, Language::Ja, before, after);
    assert!(
        text.contains("ほかの端末では、すべてログアウトされています。"),
        "{text}"
    );
    assert!(
        text.contains("お心当たりがない場合は、第三者がパスワードを知っているおそれがあります。\nすぐにUniposアプリの「ログイン」画面の下にある「パスワードをお忘れの方」の「パスワードを再設定」をタップしてパスワードを再設定し、会社のUnipos管理者にご連絡ください。"),
        "{text}"
    );
    assert!(text.contains("送信専用"), "{text}");
    assert!(text.ends_with("\n\n--\nUnipos\n"), "{text}");
    assert!(!text.contains("password"), "{text}");
    assert!(!text.contains("UTC"), "{text}");

    // Changed in Settings by an English request: English, in UTC.
    let session = s.session_token(DEMO_EMAIL, &first).await;
    let second = good_password(2);
    let before = s.clock.now_ms();
    s.put_as(
        "/me/password",
        json!({"current_password": first, "new_password": second, "new_password_confirmation": second, "lang": "en"}),
        &session,
    )
    .await
    .assert_status(200);
    let after = s.clock.now_ms();
    let notice = mail_number(&s, 3).await;
    assert_eq!(notice.subject, PASSWORD_CHANGED_MAIL_SUBJECT);
    let text = &notice.text;
    assert!(text.starts_with("Hello Taro Yamada,\n\n"), "{text}");
    assert_time_of_change(text, Language::En, before, after);
    assert!(text.contains("If this was not you, someone else may know your password.\nReset your password now: tap \"Reset Password\" under \"Forgot your password?\" at the bottom of the Unipos app's \"Log in\" screen. Then tell your company's Unipos admin."), "{text}");
    assert!(!has_japanese(text), "{text}");

    // Changed in Settings with nothing in the body: the request's Accept-Language.
    let session = s.session_token(DEMO_EMAIL, &second).await;
    let third = good_password(3);
    let url = format!("{}/me/password", s.api);
    s.send(
        Method::PUT,
        &url,
        Some(json!({"current_password": second, "new_password": third, "new_password_confirmation": third})),
        Some(&session),
        &[("accept-language", "ja")],
    )
    .await
    .assert_status(200);
    assert_eq!(
        mail_number(&s, 4).await.subject,
        PASSWORD_CHANGED_MAIL_SUBJECT_JA
    );
}

#[tokio::test]
async fn an_admin_s_reset_mails_the_member_in_the_language_of_the_admin_s_request() {
    let s = TestServer::start().await;
    let admin = s.admin_token().await;
    let members = s.get_as("/admin/members", &admin).await.json();
    let taro = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == DEMO_EMAIL)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{}/admin/members/{taro}/password_reset", s.api);
    s.send(
        Method::POST,
        &url,
        None,
        Some(&admin),
        &[("accept-language", "ja-JP,ja;q=0.9,en;q=0.8")],
    )
    .await
    .assert_status(200);
    let mail = mail_number(&s, 1).await;
    assert_eq!(mail.subject, RESET_MAIL_SUBJECT_JA);
    let text = &mail.text;
    assert!(text.contains("会社のUnipos管理者が、Uniposアカウント（taro@example.com）のパスワードを再設定しました。"), "{text}");
    assert!(text.contains(&format!("\n\n{}\n\n", link_line(text))));
    assert!(text.contains("有効期限が切れた場合は、"), "{text}");
    assert!(text.contains("送信専用"), "{text}");
    assert!(!text.contains("破棄"), "nothing to ignore: {text}");
}

/// Where the sample mails live, from this crate.
fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/mail-samples")
}

/// A mail with what changes from one run to the next made fixed: the boundary, the date, the
/// message id, the token, the loopback port and the times the text shows.
fn normalized(eml: &Eml, base: &str) -> String {
    let mut out = eml.raw.clone();
    let mut replace_header = |name: &str, with: &str| {
        let head_end = out.find("\r\n\r\n").unwrap();
        let start = out[..head_end]
            .find(&format!("\r\n{name}: "))
            .map(|i| i + 2)
            .or_else(|| out.starts_with(&format!("{name}: ")).then_some(0))
            .unwrap_or_else(|| panic!("no {name} in {}", eml.raw));
        let mut end = start + out[start..].find("\r\n").unwrap();
        // Folded continuation lines belong to the header.
        while out[end + 2..].starts_with(' ') || out[end + 2..].starts_with('\t') {
            end = end + 2 + out[end + 2..].find("\r\n").unwrap();
        }
        out.replace_range(start..end, &format!("{name}: {with}"));
    };
    // The server's clock says 2030-12-02 04:45 UTC (below); lettre dates the mail by the wall clock.
    replace_header("Date", "Mon, 02 Dec 2030 04:45:00 +0000");
    replace_header(
        "Message-ID",
        "<00000000-0000-0000-0000-000000000000@mail.unipos.me>",
    );
    let boundary = eml
        .raw
        .split("boundary=\"")
        .nth(1)
        .and_then(|b| b.split('"').next())
        .unwrap()
        .to_owned();
    let fixed = |part: &str| {
        let mut part = part.replace(base, "https://unipos.me");
        if let Some(token) = part.split("reset_password?token=").nth(1).map(|t| {
            t.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        }) {
            part = part.replace(&token, "SAMPLE-TOKEN-SAMPLE-TOKEN-SAMPLE-TOKEN-SAMP");
        }
        part
    };
    // Sent with CRLF line ends, as the server encoded them.
    let text = fixed(&eml.text).replace('\n', "\r\n");
    let html = fixed(&eml.html).replace('\n', "\r\n");
    let encode = |s: &str| {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
        b64.as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    // The parts re-encoded as the server encodes them, from the fixed text.
    let as_sent = |s: &str| s.replace('\n', "\r\n");
    let mut parts = out
        .split(&format!("--{boundary}"))
        .map(str::to_owned)
        .collect::<Vec<_>>();
    for part in parts.iter_mut() {
        for (content_type, sent, body) in [
            ("text/plain", &eml.text, &text),
            ("text/html", &eml.html, &html),
        ] {
            let head = format!("Content-Type: {content_type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
            if let Some(at) = part.find(&head) {
                let body_start = at + head.len();
                // Encoded here as the server encodes: the part as sent comes out byte for byte.
                assert_eq!(part[body_start..].trim_end(), encode(&as_sent(sent)));
                *part = format!("{}{}\r\n", &part[..body_start], encode(body));
            }
        }
    }
    parts.join("--SAMPLE-BOUNDARY").replace(
        &format!("boundary=\"{boundary}\""),
        "boundary=\"SAMPLE-BOUNDARY\"",
    )
}

/// The four sample mails of `docs/mail-samples/`, from a real server's outbox: a reset mail and
/// a password-changed notice in each language. The clock is set so that the times they show
/// are fixed. `UPDATE_MAIL_SAMPLES=1` writes them; otherwise a committed sample that differs
/// from what the server writes now fails the test.
#[tokio::test]
async fn the_sample_mails_are_what_the_server_sends() {
    let mut written = Vec::new();
    for lang in Language::ALL {
        let s = TestServer::start().await;
        // 2030-12-02T04:45:00Z on the server's clock, whatever the day the test runs.
        let target: i64 = 1_922_417_100_000;
        let now = s.clock.now_ms();
        assert!(
            now < target,
            "the test's fixed time is in the past: move it on"
        );
        s.clock
            .advance(Duration::from_millis((target - now) as u64));
        forgot_with(&s, json!({"email": DEMO_EMAIL, "lang": lang.code()}), &[])
            .await
            .assert_status(202);
        let reset = mail_number(&s, 1).await;
        let token = token_of(&link_line(&reset.text));
        let p = good_password(9);
        s.post(
            "/password/reset",
            json!({"token": token, "new_password": p, "new_password_confirmation": p, "lang": lang.code()}),
        )
        .await
        .assert_status(200);
        let changed = mail_number(&s, 2).await;
        for (eml, kind) in [(&reset, "reset"), (&changed, "password-changed")] {
            assert!(eml.path.exists());
            written.push((
                format!("{kind}-{}.eml", lang.code()),
                normalized(eml, &s.base),
            ));
        }
    }
    let dir = samples_dir();
    if std::env::var_os("UPDATE_MAIL_SAMPLES").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, eml) in &written {
            std::fs::write(dir.join(name), eml).unwrap();
        }
    }
    for (name, eml) in &written {
        let committed = std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
            panic!("{name}: {e}; write the samples with UPDATE_MAIL_SAMPLES=1")
        });
        assert_eq!(
            committed,
            *eml,
            "{name} is not what the server sends now; refresh it with UPDATE_MAIL_SAMPLES=1 cargo test -p unipos-server --test api mail_language"
        );
    }
}
