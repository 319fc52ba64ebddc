//! Mail: what is sent and how (an SMTP relay or `.eml` files). What is to be sent waits in the
//! database until it is (`outbox.rs`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::address::Envelope;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{
    Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use unipos_protocol::{Language, MAIL_SENDER};

use crate::html::escape_html;
use crate::reset_page::texts;
use crate::when::when;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
    Nowhere,
}

/// Builds and delivers messages.
pub struct Mailer {
    transport: Transport,
}

impl Mailer {
    /// SMTP when `smtp_url` is set, else `.eml` files in `outbox_dir` (created), else nowhere.
    pub fn new(smtp_url: Option<&str>, outbox_dir: Option<&PathBuf>) -> anyhow::Result<Mailer> {
        let transport = match (smtp_url, outbox_dir) {
            (Some(url), _) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    // The URL may carry a password: never repeat it.
                    .map_err(|e| anyhow::anyhow!("the SMTP URL is not usable: {e}"))?
                    .timeout(Some(Duration::from_secs(30)))
                    .build(),
            ),
            (None, Some(dir)) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the outbox folder {}", dir.display()))?;
                // The files hold live reset links: this user's alone, even when the folder was
                // there before, open to all.
                restrict(dir, 0o700).with_context(|| {
                    format!("making the outbox folder {} private", dir.display())
                })?;
                Transport::Files(AsyncFileTransport::<Tokio1Executor>::new(dir), dir.clone())
            }
            (None, None) => Transport::Nowhere,
        };
        Ok(Mailer { transport })
    }

    /// Delivers one message; an error says why it could not (the caller retries).
    pub async fn send(&self, to: &str, subject: &str, body: &Body) -> anyhow::Result<()> {
        let message = compose(to, subject, body)?;
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(drop)?,
            Transport::Files(t, dir) => {
                let id = t.send(message).await?;
                // lettre creates the file with the process's umask; the folder is private
                // already, and the file is made so too.
                restrict(&dir.join(format!("{id}.eml")), 0o600)?;
            }
            Transport::Nowhere => {}
        }
        Ok(())
    }
}

/// Sets a file's or folder's permission bits (Unix; elsewhere the folder's ACL is left alone).
fn restrict(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

/// The two parts of a message.
pub struct Body {
    text: String,
    html: String,
}

fn address(address: &str) -> anyhow::Result<Address> {
    let (user, domain) = address.rsplit_once('@').context("an address without @")?;
    // Addresses reach here only after `Email::parse`, whose alphabet has nothing that could break
    // a header. It accepts some real addresses lettre's stricter check refuses (old Japanese
    // carrier addresses with consecutive dots), so fall back to the unchecked constructor.
    Ok(Address::new(user, domain).unwrap_or_else(|_| Address::new_dangerous(user, domain)))
}

fn compose(to: &str, subject: &str, body: &Body) -> anyhow::Result<Message> {
    let sender: Address = MAIL_SENDER.parse()?;
    let recipient = address(to)?;
    // Given explicitly: lettre would otherwise re-parse the To header with its stricter rules.
    let envelope = Envelope::new(Some(sender.clone()), vec![recipient.clone()])?;
    // Base64 keeps long links whole, whatever the line length limits on the way.
    let part = |content_type: ContentType, content: &str| {
        SinglePart::builder()
            .header(content_type)
            .header(ContentTransferEncoding::Base64)
            .body(content.to_owned())
    };
    Message::builder()
        // The sender's domain, not this machine's host name.
        .message_id(Some(format!("<{}@mail.unipos.me>", uuid::Uuid::new_v4())))
        .from(Mailbox::new(Some("Unipos".to_owned()), sender))
        .to(Mailbox::new(None, recipient))
        .envelope(envelope)
        .subject(subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, &body.text))
                .singlepart(part(ContentType::TEXT_HTML, &body.html)),
        )
        .context("building the message")
}

/// "60 minutes" / "60分", "45 seconds" / "45秒".
fn for_people(ttl: Duration, lang: Language) -> String {
    let secs = ttl.as_secs();
    match (lang, secs < 120) {
        (Language::En, true) => format!("{secs} seconds"),
        (Language::Ja, true) => format!("{secs}秒"),
        (Language::En, false) => format!("{} minutes", secs / 60),
        (Language::Ja, false) => format!("{}分", secs / 60),
    }
}

/// A time in the member's language: UTC in English, Japan time in Japanese.
fn at(ms: i64, lang: Language) -> String {
    when(ms, lang).unwrap_or_else(|_| crate::clock::rfc3339(ms))
}

/// The app's own label for `key` (the catalogues the app and the reset page share).
fn label(lang: Language, key: &'static str) -> &'static str {
    texts::text(lang, key)
}

/// Where a member asks for a new reset mail, in the app's words: "Reset Password" under
/// "Forgot your password?" at the bottom of the Log in screen.
fn ask_again(lang: Language) -> String {
    let (login, forgot, reset) = (
        label(lang, "login.title"),
        label(lang, "login.forgot_prompt"),
        label(lang, "login.reset_password"),
    );
    match lang {
        Language::En => format!(
            "tap \"{reset}\" under \"{forgot}\" at the bottom of the Unipos app's \"{login}\" screen"
        ),
        Language::Ja => {
            format!("Uniposアプリの「{login}」画面の下にある「{forgot}」の「{reset}」をタップ")
        }
    }
}

/// The closing lines of every mail: the address cannot take replies, and who sent it.
fn closing(lang: Language) -> [&'static str; 2] {
    match lang {
        Language::En => [
            "This email was sent from a send-only address: replies to it cannot be received. For questions, contact your company's Unipos admin.",
            "Unipos",
        ],
        Language::Ja => [
            "※このメールは送信専用のメールアドレスからお送りしています。ご返信いただいても受信できません。ご不明な点は、会社のUnipos管理者にお問い合わせください。",
            "Unipos",
        ],
    }
}

/// The greeting: "Hello Taro," / "山田太郎 様".
fn greeting(lang: Language, name: &str) -> String {
    match lang {
        Language::En => format!("Hello {name},"),
        Language::Ja => format!("{name} 様"),
    }
}

/// A mail's paragraphs, written once and rendered as text and as HTML. A paragraph's lines are
/// kept apart in the text part and joined in the HTML part (`<br>`).
enum Block {
    /// Plain sentences.
    Para(Vec<String>),
    /// The reset link: on a line of its own in the text, a button and the copyable address in
    /// the HTML.
    Link { url: String, button: String },
}

fn render(lang: Language, name: &str, blocks: &[Block]) -> Body {
    let [notice, signature] = closing(lang);
    let mut text = format!("{}\n\n", greeting(lang, name));
    let mut html = format!("<p>{}</p>\n", escape_html(&greeting(lang, name)));
    for block in blocks {
        match block {
            Block::Para(lines) => {
                text.push_str(&lines.join("\n"));
                text.push_str("\n\n");
                let lines: Vec<String> = lines.iter().map(|l| escape_html(l)).collect();
                html.push_str(&format!("<p>{}</p>\n", lines.join("<br>\n")));
            }
            Block::Link { url, button } => {
                text.push_str(url);
                text.push_str("\n\n");
                let (url, button) = (escape_html(url), escape_html(button));
                html.push_str(&format!(
                    "<p><a href=\"{url}\" style=\"display: inline-block; padding: 10px 18px; background: #ff6a3d; color: #fff; text-decoration: none; border-radius: 6px;\">{button}</a></p>\n\
                     <p style=\"word-break: break-all;\"><a href=\"{url}\">{url}</a></p>\n"
                ));
            }
        }
    }
    text.push_str(&format!("{notice}\n\n--\n{signature}\n"));
    html.push_str(&format!(
        "<p style=\"color: #777; font-size: 12px;\">{}</p>\n<p>--<br>\n{}</p>",
        escape_html(notice),
        escape_html(signature)
    ));
    Body {
        text,
        html: html_page(lang, &html),
    }
}

fn html_page(lang: Language, inner: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>Unipos</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.6; color: #222;\">\n{inner}\n</body></html>\n",
        lang.code()
    )
}

/// What the reset mails say about the link: copy it if it does not open, until when it works,
/// and what to do once it has expired.
fn link_advice(lang: Language, expires_at_ms: i64) -> Vec<Block> {
    let (until, again) = (at(expires_at_ms, lang), ask_again(lang));
    match lang {
        Language::En => vec![
            Block::Para(vec![
                "If the link does not open, copy the whole address above and paste it into your browser's address bar.".to_owned(),
            ]),
            Block::Para(vec![
                format!("The link works once, until {until}."),
                format!("If it has expired, {again} to get a new email."),
            ]),
        ],
        Language::Ja => vec![
            Block::Para(vec![
                "リンクが開かない場合は、上のURLを最後までコピーして、ブラウザのアドレス欄に貼り付けてください。".to_owned(),
            ]),
            Block::Para(vec![
                format!("このリンクの有効期限は{until}までです。使えるのは1回だけです。"),
                format!("有効期限が切れた場合は、{again}して、再設定メールをもう一度送信してください。"),
            ]),
        ],
    }
}

/// The reset mail a member asked for ("Send" on Forgot), wholly in `lang`.
pub fn reset_body(
    lang: Language,
    display_name: &str,
    to: &str,
    link: &str,
    ttl: Duration,
    expires_at_ms: i64,
) -> Body {
    let why = match lang {
        Language::En => {
            format!("We received a request to reset the password of your Unipos account ({to}).")
        }
        Language::Ja => {
            format!("Uniposアカウント（{to}）のパスワード再設定のご依頼を受け付けました。")
        }
    };
    let not_you = match lang {
        Language::En => {
            "If you did not ask for this, ignore this email: your password stays as it is."
        }
        Language::Ja => {
            "お心当たりがない場合は、このメールを破棄してください。パスワードは変更されません。"
        }
    };
    let link = ResetLink {
        url: link,
        ttl,
        expires_at_ms,
    };
    reset_mail(lang, display_name, why, link, Some(not_you))
}

/// The reset mail after the team's admin reset the member's password: the old password no
/// longer works, so unlike [`reset_body`] there is nothing to ignore.
pub fn admin_reset_body(
    lang: Language,
    display_name: &str,
    to: &str,
    link: &str,
    ttl: Duration,
    expires_at_ms: i64,
) -> Body {
    let why = match lang {
        Language::En => format!("Your company's Unipos admin reset the password of your Unipos account ({to}). The old password no longer works."),
        Language::Ja => format!("会社のUnipos管理者が、Uniposアカウント（{to}）のパスワードを再設定しました。これまでのパスワードではログインできません。"),
    };
    let link = ResetLink {
        url: link,
        ttl,
        expires_at_ms,
    };
    reset_mail(lang, display_name, why, link, None)
}

/// A reset mail's link: where it leads, for how long, until when.
struct ResetLink<'a> {
    url: &'a str,
    ttl: Duration,
    expires_at_ms: i64,
}

/// A reset mail: why it came, the link with how to use it and until when, and a last paragraph.
fn reset_mail(
    lang: Language,
    display_name: &str,
    why: String,
    link: ResetLink<'_>,
    last: Option<&str>,
) -> Body {
    let time = for_people(link.ttl, lang);
    let open = match lang {
        Language::En => format!("Open this link within {time} to set a new password:"),
        Language::Ja => {
            format!("{time}以内に次のリンクを開いて、新しいパスワードを設定してください。")
        }
    };
    let mut blocks = vec![
        Block::Para(vec![why, open]),
        Block::Link {
            url: link.url.to_owned(),
            button: label(lang, "login.reset_password").to_owned(),
        },
    ];
    blocks.extend(link_advice(lang, link.expires_at_ms));
    if let Some(last) = last {
        blocks.push(Block::Para(vec![last.to_owned()]));
    }
    render(lang, display_name, &blocks)
}

/// The notice that the password was changed (by a reset link or in Settings), saying when, and
/// what to do if it was not the member.
pub fn changed_body(lang: Language, display_name: &str, to: &str, changed_at_ms: i64) -> Body {
    let (when, again) = (at(changed_at_ms, lang), ask_again(lang));
    let blocks = match lang {
        Language::En => vec![
            Block::Para(vec![format!(
                "The password of your Unipos account ({to}) was changed on {when}, and every other device was logged out."
            )]),
            Block::Para(vec![
                "If this was not you, someone else may know your password.".to_owned(),
                format!("Reset your password now: {again}. Then tell your company's Unipos admin."),
                "If it was you, there is nothing more to do.".to_owned(),
            ]),
        ],
        Language::Ja => vec![
            Block::Para(vec![
                format!("Uniposアカウント（{to}）のパスワードが、{when}に変更されました。"),
                "ほかの端末では、すべてログアウトされています。".to_owned(),
            ]),
            Block::Para(vec![
                "お心当たりがない場合は、第三者がパスワードを知っているおそれがあります。".to_owned(),
                format!("すぐに{again}してパスワードを再設定し、会社のUnipos管理者にご連絡ください。"),
                "ご自身で変更した場合は、対応は不要です。".to_owned(),
            ]),
        ],
    };
    render(lang, display_name, &blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://unipos.me/reset_password?token=abc";
    /// 2026-12-02T04:45:00Z, 13:45 in Japan.
    const AT_MS: i64 = 1_796_186_700_000;

    fn all_bodies(lang: Language, name: &str, to: &str) -> [Body; 3] {
        let ttl = Duration::from_secs(3600);
        [
            reset_body(lang, name, to, LINK, ttl, AT_MS),
            admin_reset_body(lang, name, to, LINK, ttl, AT_MS),
            changed_body(lang, name, to, AT_MS),
        ]
    }

    #[test]
    fn the_reset_mail_has_the_subject_sender_and_link_in_both_parts() {
        let body = reset_body(
            Language::En,
            "<Taro>",
            "taro@example.com",
            LINK,
            Duration::from_secs(3600),
            AT_MS,
        );
        assert!(body.text.contains(LINK));
        assert!(body.text.contains("60 minutes"));
        assert!(body
            .html
            .contains(&format!("<a href=\"{LINK}\">{LINK}</a>")));
        assert!(body.html.contains("&lt;Taro&gt;"));
        let message =
            compose("taro@example.com", Language::En.reset_mail_subject(), &body).unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        assert!(
            raw.contains("From: Unipos <no-reply@mail.unipos.me>"),
            "{raw}"
        );
        assert!(
            raw.contains("Subject: =?utf-8?"),
            "the subject is encoded: {raw}"
        );
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("@mail.unipos.me>\r\n"), "{raw}");
    }

    /// A half-width space beside a Japanese character, other than the greeting's `〇〇 様` and
    /// the space between a date and its time (`2026年12月2日 13:45`).
    fn space_beside_japanese(text: &str) -> Option<String> {
        let is_ja = |c: char| matches!(c, '\u{3000}'..='\u{30FF}' | '\u{3400}'..='\u{9FFF}' | '\u{FF01}'..='\u{FF60}');
        let chars: Vec<char> = text.chars().collect();
        chars.windows(3).find_map(|w| {
            let beside = w[1] == ' ' && (is_ja(w[0]) || is_ja(w[2]));
            let date_time = w[0] == '日' && w[2].is_ascii_digit();
            (beside && w[2] != '様' && !date_time).then(|| w.iter().collect())
        })
    }

    #[test]
    fn each_language_s_mails_are_wholly_in_that_language() {
        for body in all_bodies(Language::Ja, "山田太郎", "taro@example.com") {
            assert!(body.text.starts_with("山田太郎 様\n"), "{}", body.text);
            assert_eq!(space_beside_japanese(&body.text), None, "{}", body.text);
            // Latin letters only in the name of the service, the address and the link.
            let rest = body
                .text
                .replace("Unipos", "")
                .replace("taro@example.com", "")
                .replace(LINK, "")
                .replace("URL", "");
            assert!(
                !rest.chars().any(|c| c.is_ascii_alphabetic()),
                "English in the Japanese mail: {rest}"
            );
            assert!(body.html.contains("<html lang=\"ja\">"));
            assert!(!body.html.contains("lang=\"en\""));
        }
        for body in all_bodies(Language::En, "Taro", "taro@example.com") {
            assert!(body.text.starts_with("Hello Taro,\n"), "{}", body.text);
            assert!(
                !body.text.chars().any(|c| c > '\u{2FFF}'),
                "Japanese in the English mail: {}",
                body.text
            );
            assert!(body.html.contains("<html lang=\"en\">"));
        }
    }

    #[test]
    fn reset_mails_give_the_copyable_link_its_expiry_the_way_on_a_send_only_notice_and_a_signature()
    {
        let ttl = Duration::from_secs(3600);
        let ja = reset_body(
            Language::Ja,
            "山田太郎",
            "taro@example.com",
            LINK,
            ttl,
            AT_MS,
        );
        let by_admin = admin_reset_body(
            Language::Ja,
            "山田太郎",
            "taro@example.com",
            LINK,
            ttl,
            AT_MS,
        );
        for body in [&ja, &by_admin] {
            assert!(
                body.text.contains(&format!("\n\n{LINK}\n\n")),
                "{}",
                body.text
            );
            assert!(
                body.text.contains("上のURLを最後までコピーして"),
                "{}",
                body.text
            );
            assert!(
                body.text
                    .contains("このリンクの有効期限は2026年12月2日 13:45（日本時間）までです。使えるのは1回だけです。"),
                "{}",
                body.text
            );
            assert!(
                body.text.contains("有効期限が切れた場合は、Uniposアプリの「ログイン」画面の下にある「パスワードをお忘れの方」の「パスワードを再設定」をタップして、再設定メールをもう一度送信してください。"),
                "{}",
                body.text
            );
            assert!(body.text.contains("送信専用"), "{}", body.text);
            assert!(body.text.ends_with("\n--\nUnipos\n"), "{}", body.text);
            assert!(body
                .html
                .contains(&format!("<a href=\"{LINK}\">{LINK}</a>")));
            assert!(body.html.contains(">パスワードを再設定</a>"));
            assert!(body.html.contains("送信専用"));
        }
        assert!(ja.text.contains("60分以内"));
        assert!(ja.text.contains("このメールを破棄してください。"));
        let admin = &by_admin.text;
        assert!(admin.contains("会社のUnipos管理者が"), "{admin}");
        assert!(
            admin.contains("これまでのパスワードではログインできません。"),
            "{admin}"
        );
        assert!(!admin.contains("破棄"), "nothing to ignore: {admin}");
        let en = reset_body(Language::En, "Taro", "taro@example.com", LINK, ttl, AT_MS);
        assert!(
            en.text
                .contains("The link works once, until 2 December 2026, 04:45 UTC."),
            "{}",
            en.text
        );
        assert!(en.text.contains("If it has expired, tap \"Reset Password\" under \"Forgot your password?\" at the bottom of the Unipos app's \"Log in\" screen to get a new email."), "{}", en.text);
        assert!(en
            .text
            .contains("send-only address: replies to it cannot be received"));
        assert!(en.text.ends_with("\n--\nUnipos\n"), "{}", en.text);
    }

    #[test]
    fn the_password_changed_notice_says_when_in_the_member_s_time_and_what_to_do() {
        let ja = changed_body(Language::Ja, "山田太郎", "taro@example.com", AT_MS).text;
        assert!(
            ja.contains("パスワードが、2026年12月2日 13:45（日本時間）に変更されました。"),
            "{ja}"
        );
        assert!(
            ja.contains("ほかの端末では、すべてログアウトされています。"),
            "{ja}"
        );
        assert!(ja.contains("「パスワードを再設定」をタップしてパスワードを再設定し、会社のUnipos管理者にご連絡ください。"), "{ja}");
        let en = changed_body(Language::En, "Taro", "taro@example.com", AT_MS).text;
        assert!(
            en.contains("was changed on 2 December 2026, 04:45 UTC"),
            "{en}"
        );
        assert!(en.contains("If this was not you"), "{en}");
        for text in [&ja, &en] {
            assert!(text.ends_with("\n--\nUnipos\n"), "{text}");
        }
    }

    #[test]
    fn carrier_addresses_with_consecutive_dots_can_be_mailed() {
        let body = changed_body(Language::Ja, "Taro", "taro..x.@docomo.ne.jp", AT_MS);
        let message = compose(
            "taro..x.@docomo.ne.jp",
            Language::Ja.password_changed_mail_subject(),
            &body,
        );
        assert!(message.is_ok(), "{:?}", message.err());
    }
}
