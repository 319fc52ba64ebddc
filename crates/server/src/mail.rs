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
use unipos_protocol::MAIL_SENDER;

use crate::html::escape_html;

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
fn for_people(ttl: Duration) -> (String, String) {
    let secs = ttl.as_secs();
    if secs < 120 {
        (format!("{secs} seconds"), format!("{secs}秒"))
    } else {
        let minutes = secs / 60;
        (format!("{minutes} minutes"), format!("{minutes}分"))
    }
}

fn html_page(inner: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"><title>Unipos</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.6; color: #222;\">\n{inner}\n\
         <p style=\"color: #777; font-size: 12px;\">Unipos — no-reply@mail.unipos.me</p>\n</body></html>\n"
    )
}

pub fn reset_body(display_name: &str, to: &str, link: &str, ttl: Duration) -> Body {
    let (ttl_en, ttl_ja) = for_people(ttl);
    let text = format!(
        "{display_name} 様\n\n\
         Uniposアカウント（{to}）のパスワード再設定のご依頼を受け付けました。\n\
         {ttl_ja}以内に次のリンクを開いて、新しいパスワードを設定してください。\n\n\
         {link}\n\n\
         このリンクは1回だけ使えます。お心当たりがない場合は、このメールを破棄してください。パスワードは変更されません。\n\n\
         ----\n\n\
         Hello {display_name},\n\n\
         We received a request to reset the password of your Unipos account ({to}).\n\
         Open this link within {ttl_en} to set a new password:\n\n\
         {link}\n\n\
         The link works once. If you did not ask for this, ignore this email: your password stays as it is.\n"
    );
    let (name, to_html, link_html) = (
        escape_html(display_name),
        escape_html(to),
        escape_html(link),
    );
    let inner = format!(
        "<p>{name} 様</p>\n\
         <p>Uniposアカウント（{to_html}）のパスワード再設定のご依頼を受け付けました。{ttl_ja}以内に次のボタンから新しいパスワードを設定してください。</p>\n\
         <p><a href=\"{link_html}\" style=\"display: inline-block; padding: 10px 18px; background: #ff6a3d; color: #fff; text-decoration: none; border-radius: 6px;\">パスワードを再設定 / <span lang=\"en\">Reset Password</span></a></p>\n\
         <p>このリンクは1回だけ使えます。お心当たりがない場合は、このメールを破棄してください。パスワードは変更されません。</p>\n\
         <div lang=\"en\">\n\
         <p>Hello {name},</p>\n\
         <p>We received a request to reset the password of your Unipos account ({to_html}). Open this link within {ttl_en} to set a new password:</p>\n\
         <p><a href=\"{link_html}\">{link_html}</a></p>\n\
         <p>The link works once. If you did not ask for this, ignore this email: your password stays as it is.</p>\n\
         </div>"
    );
    Body {
        text,
        html: html_page(&inner),
    }
}

/// The reset mail after the team's admin reset the member's password: the old password no
/// longer works, so unlike [`reset_body`] there is nothing to ignore.
pub fn admin_reset_body(display_name: &str, to: &str, link: &str, ttl: Duration) -> Body {
    let (ttl_en, ttl_ja) = for_people(ttl);
    let text = format!(
        "{display_name} 様\n\n\
         会社のUnipos管理者が、Uniposアカウント（{to}）のパスワードを再設定しました。これまでのパスワードではログインできません。\n\
         {ttl_ja}以内に次のリンクを開いて、新しいパスワードを設定してください。\n\n\
         {link}\n\n\
         このリンクは1回だけ使えます。有効期限が切れた場合は、Uniposアプリのログイン画面の「パスワードを再設定」から再設定メールを送信してください。\n\n\
         ----\n\n\
         Hello {display_name},\n\n\
         Your company's Unipos admin reset the password of your Unipos account ({to}). The old password no longer works.\n\
         Open this link within {ttl_en} to set a new password:\n\n\
         {link}\n\n\
         The link works once. If it has expired, tap \"Reset Password\" on the app's Log in screen to get a new email.\n"
    );
    let (name, to_html, link_html) = (
        escape_html(display_name),
        escape_html(to),
        escape_html(link),
    );
    let inner = format!(
        "<p>{name} 様</p>\n\
         <p>会社のUnipos管理者が、Uniposアカウント（{to_html}）のパスワードを再設定しました。これまでのパスワードではログインできません。{ttl_ja}以内に次のボタンから新しいパスワードを設定してください。</p>\n\
         <p><a href=\"{link_html}\" style=\"display: inline-block; padding: 10px 18px; background: #ff6a3d; color: #fff; text-decoration: none; border-radius: 6px;\">パスワードを再設定 / <span lang=\"en\">Reset Password</span></a></p>\n\
         <p>このリンクは1回だけ使えます。有効期限が切れた場合は、Uniposアプリのログイン画面の「パスワードを再設定」から再設定メールを送信してください。</p>\n\
         <div lang=\"en\">\n\
         <p>Hello {name},</p>\n\
         <p>Your company's Unipos admin reset the password of your Unipos account ({to_html}). The old password no longer works. Open this link within {ttl_en} to set a new password:</p>\n\
         <p><a href=\"{link_html}\">{link_html}</a></p>\n\
         <p>The link works once. If it has expired, tap \"Reset Password\" on the app's Log in screen to get a new email.</p>\n\
         </div>"
    );
    Body {
        text,
        html: html_page(&inner),
    }
}

pub fn changed_body(display_name: &str, to: &str) -> Body {
    let text = format!(
        "{display_name} 様\n\n\
         Uniposアカウント（{to}）のパスワードが変更されました。ほかの端末では、すべてログアウトされています。\n\
         お心当たりがない場合は、すぐにUniposアプリのログイン画面の「パスワードを再設定」からパスワードを再設定し、会社のUnipos管理者にご連絡ください。\n\n\
         ----\n\n\
         Hello {display_name},\n\n\
         The password of your Unipos account ({to}) was just changed, and every other device was logged out.\n\
         If this was not you, reset your password now with \"Reset Password\" in the app and tell your administrator.\n"
    );
    let (name, to_html) = (escape_html(display_name), escape_html(to));
    let inner = format!(
        "<p>{name} 様</p>\n\
         <p>Uniposアカウント（{to_html}）のパスワードが変更されました。ほかの端末では、すべてログアウトされています。\
         お心当たりがない場合は、すぐにUniposアプリのログイン画面の「パスワードを再設定」からパスワードを再設定し、会社のUnipos管理者にご連絡ください。</p>\n\
         <div lang=\"en\">\n\
         <p>Hello {name},</p>\n\
         <p>The password of your Unipos account ({to_html}) was just changed, and every other device was logged out. \
         If this was not you, reset your password now with \"Reset Password\" in the app and tell your administrator.</p>\n\
         </div>"
    );
    Body {
        text,
        html: html_page(&inner),
    }
}

#[cfg(test)]
mod tests {
    use unipos_protocol::{PASSWORD_CHANGED_MAIL_SUBJECT, RESET_MAIL_SUBJECT};

    use super::*;

    #[test]
    fn the_reset_mail_has_the_subject_sender_and_link_in_both_parts() {
        let link = "https://unipos.me/reset_password?token=abc";
        let body = reset_body(
            "<Taro>",
            "taro@example.com",
            link,
            Duration::from_secs(3600),
        );
        assert!(body.text.contains(link));
        assert!(body.text.contains("60 minutes"));
        assert!(body.html.contains(&format!("<a href=\"{link}\">")));
        assert!(body.html.contains("&lt;Taro&gt;"));
        let message = compose("taro@example.com", RESET_MAIL_SUBJECT, &body).unwrap();
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

    /// The Japanese part of a text mail: everything before the `----` line.
    fn japanese(text: &str) -> &str {
        text.split("\n----\n").next().unwrap()
    }

    /// A half-width space beside a Japanese character, other than the greeting's `〇〇 様`.
    fn space_beside_japanese(text: &str) -> Option<String> {
        let is_ja = |c: char| matches!(c, '\u{3000}'..='\u{30FF}' | '\u{3400}'..='\u{9FFF}' | '\u{FF01}'..='\u{FF60}');
        let chars: Vec<char> = text.chars().collect();
        chars.windows(3).find_map(|w| {
            let beside = w[1] == ' ' && (is_ja(w[0]) || is_ja(w[2]));
            (beside && w[2] != '様').then(|| w.iter().collect())
        })
    }

    #[test]
    fn the_japanese_parts_use_the_app_s_words_and_spacing() {
        let reset = reset_body(
            "山田太郎",
            "taro@example.com",
            "https://unipos.me/reset_password?token=abc",
            Duration::from_secs(3600),
        );
        let changed = changed_body("山田太郎", "taro@example.com");
        let by_admin = admin_reset_body(
            "山田太郎",
            "taro@example.com",
            "https://unipos.me/reset_password?token=abc",
            Duration::from_secs(3600),
        );
        for body in [&reset, &changed, &by_admin] {
            let ja = japanese(&body.text);
            assert!(ja.starts_with("山田太郎 様\n"), "{ja}");
            assert_eq!(space_beside_japanese(ja), None, "{ja}");
            assert!(
                !ja.contains("Reset Password"),
                "the button's Japanese name: {ja}"
            );
            assert!(body.html.contains("<div lang=\"en\">"), "English is marked");
        }
        assert!(japanese(&reset.text).contains("60分以内"));
        let ja = japanese(&by_admin.text);
        assert!(ja.contains("会社のUnipos管理者が"), "{ja}");
        assert!(
            ja.contains("これまでのパスワードではログインできません。"),
            "{ja}"
        );
        assert!(
            !by_admin.text.contains("ignore this email"),
            "nothing to ignore"
        );
        let ja = japanese(&changed.text);
        assert!(
            ja.contains("ほかの端末では、すべてログアウトされています。"),
            "{ja}"
        );
        assert!(ja.contains("「パスワードを再設定」"), "{ja}");
        assert!(changed.html.contains("「パスワードを再設定」"));
    }

    #[test]
    fn carrier_addresses_with_consecutive_dots_can_be_mailed() {
        let body = changed_body("Taro", "taro..x.@docomo.ne.jp");
        let message = compose(
            "taro..x.@docomo.ne.jp",
            PASSWORD_CHANGED_MAIL_SUBJECT,
            &body,
        );
        assert!(message.is_ok(), "{:?}", message.err());
    }
}
