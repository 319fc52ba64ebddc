//! Mail: what is sent, how (SMTP relay or `.eml` files), and the worker that sends it off the
//! request path.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use lettre::address::Envelope;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{
    Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use serde::Serialize;
use tokio::sync::mpsc;
use tracing::Instrument;
use unipos_protocol::{
    Email, LinkRules, LoginMethod, MAIL_SENDER, PASSWORD_CHANGED_MAIL_SUBJECT, RESET_MAIL_SUBJECT,
};

use crate::clock::{rfc3339, Clock};
use crate::db::Db;
use crate::secrets::{new_token, token_hash};
use crate::store;

/// Work for the mail worker, with the span of the request that queued it (so its log lines carry
/// that request's id).
pub struct Queued {
    pub job: MailJob,
    pub span: tracing::Span,
}

/// Work for the mail worker.
pub enum MailJob {
    /// Someone asked for a reset mail for this (well-formed) address; the worker decides whether
    /// it belongs to a member who gets one.
    Reset { email: Email },
    /// Tell a member their password was just reset or changed.
    PasswordChanged { to: String, display_name: String },
}

/// A sent message as the dev outbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    /// RFC 3339, UTC.
    pub sent_at: String,
    /// The links in the message (the reset link of a reset mail).
    pub links: Vec<String>,
}

/// Sent messages, kept in memory only (their links carry live tokens), newest last.
#[derive(Debug, Default)]
pub struct Outbox {
    messages: Mutex<Vec<SentMail>>,
}

const OUTBOX_KEEP: usize = 1000;

impl Outbox {
    fn push(&self, mail: SentMail) {
        let mut messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        if messages.len() >= OUTBOX_KEEP {
            messages.remove(0);
        }
        messages.push(mail);
    }

    pub fn list(&self) -> Vec<SentMail> {
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
    Nowhere,
}

/// Builds and delivers messages.
pub struct Mailer {
    transport: Transport,
    outbox: Option<Arc<Outbox>>,
}

impl Mailer {
    /// SMTP when `smtp_url` is set, else `.eml` files in `outbox_dir` (created), else nowhere.
    /// Sent messages are also listed in `outbox` when given.
    pub fn new(
        smtp_url: Option<&str>,
        outbox_dir: Option<&PathBuf>,
        outbox: Option<Arc<Outbox>>,
    ) -> anyhow::Result<Mailer> {
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
                Transport::Files(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
            (None, None) => Transport::Nowhere,
        };
        Ok(Mailer { transport, outbox })
    }

    async fn send(&self, to: &str, subject: &str, body: Body, now_ms: i64) {
        let hint = Email::parse(to).map(|e| e.hint()).unwrap_or_default();
        let message = match compose(to, subject, &body) {
            Ok(message) => message,
            Err(e) => {
                tracing::error!(
                    to = hint,
                    error = format!("{e:#}"),
                    "could not build a mail"
                );
                return;
            }
        };
        let sent = match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(drop).map_err(anyhow::Error::from),
            Transport::Files(t) => t.send(message).await.map(drop).map_err(anyhow::Error::from),
            Transport::Nowhere => Ok(()),
        };
        match sent {
            Ok(()) => {
                tracing::info!(to = hint, subject, "mail sent");
                if let Some(outbox) = &self.outbox {
                    outbox.push(SentMail {
                        to: to.to_owned(),
                        subject: subject.to_owned(),
                        sent_at: rfc3339(now_ms),
                        links: body.links,
                    });
                }
            }
            Err(e) => tracing::warn!(
                to = hint,
                subject,
                error = format!("{e:#}"),
                "mail not sent"
            ),
        }
    }
}

/// The two parts of a message and the links it carries.
struct Body {
    text: String,
    html: String,
    links: Vec<String>,
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

/// `&`, `<`, `>`, `"` and `'` escaped for HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// "60 minutes", "1 hour 30 minutes", "45 seconds".
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

fn reset_body(display_name: &str, to: &str, link: &str, ttl: Duration) -> Body {
    let (ttl_en, ttl_ja) = for_people(ttl);
    let text = format!(
        "{display_name} 様\n\n\
         Unipos アカウント（{to}）のパスワード再設定のご依頼を受け付けました。\n\
         {ttl_ja}以内に次のリンクを開いて、新しいパスワードを設定してください。\n\n\
         {link}\n\n\
         リンクは1回だけ使えます。お心当たりがない場合は、このメールを破棄してください。パスワードは変わりません。\n\n\
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
         <p>Unipos アカウント（{to_html}）のパスワード再設定のご依頼を受け付けました。{ttl_ja}以内に次のリンクから新しいパスワードを設定してください。</p>\n\
         <p><a href=\"{link_html}\" style=\"display: inline-block; padding: 10px 18px; background: #ff6a3d; color: #fff; text-decoration: none; border-radius: 6px;\">パスワードを再設定 / Reset Password</a></p>\n\
         <p>Hello {name},</p>\n\
         <p>We received a request to reset the password of your Unipos account ({to_html}). Open this link within {ttl_en} to set a new password:</p>\n\
         <p><a href=\"{link_html}\">{link_html}</a></p>\n\
         <p>The link works once. If you did not ask for this, ignore this email: your password stays as it is.<br>\
         リンクは1回だけ使えます。お心当たりがない場合は、このメールを破棄してください。</p>"
    );
    Body {
        text,
        html: html_page(&inner),
        links: vec![link.to_owned()],
    }
}

fn changed_body(display_name: &str, to: &str) -> Body {
    let text = format!(
        "{display_name} 様\n\n\
         Unipos アカウント（{to}）のパスワードが変更されました。\n\
         お心当たりがない場合は、すぐにアプリの「Reset Password」からパスワードを再設定し、管理者にご連絡ください。\n\n\
         ----\n\n\
         Hello {display_name},\n\n\
         The password of your Unipos account ({to}) was just changed, and every other device was logged out.\n\
         If this was not you, reset your password now with \"Reset Password\" in the app and tell your administrator.\n"
    );
    let (name, to_html) = (escape_html(display_name), escape_html(to));
    let inner = format!(
        "<p>{name} 様</p>\n\
         <p>Unipos アカウント（{to_html}）のパスワードが変更されました。お心当たりがない場合は、すぐにアプリの「Reset Password」からパスワードを再設定し、管理者にご連絡ください。</p>\n\
         <p>Hello {name},</p>\n\
         <p>The password of your Unipos account ({to_html}) was just changed, and every other device was logged out. \
         If this was not you, reset your password now with \"Reset Password\" in the app and tell your administrator.</p>"
    );
    Body {
        text,
        html: html_page(&inner),
        links: Vec::new(),
    }
}

/// Sends the mail that requests queue: looks the address up, issues the reset token, builds and
/// delivers the message. Nothing it finds travels back to the request.
pub struct Worker {
    pub db: Db,
    pub clock: Clock,
    pub links: LinkRules,
    pub reset_ttl: Duration,
    pub mailer: Mailer,
}

enum Lookup {
    Issued {
        to: String,
        display_name: String,
        token: String,
    },
    Unknown,
    NoEmailLogin,
    Suppressed,
}

impl Worker {
    pub async fn run(self, mut jobs: mpsc::Receiver<Queued>) {
        while let Some(Queued { job, span }) = jobs.recv().await {
            self.handle(job).instrument(span).await;
        }
    }

    async fn handle(&self, job: MailJob) {
        match job {
            MailJob::Reset { email } => self.reset(email).await,
            MailJob::PasswordChanged { to, display_name } => {
                let body = changed_body(&display_name, &to);
                let now = self.clock.now_ms();
                self.mailer
                    .send(&to, PASSWORD_CHANGED_MAIL_SUBJECT, body, now)
                    .await;
            }
        }
    }

    async fn reset(&self, email: Email) {
        let normalized = email.normalized();
        let now = self.clock.now_ms();
        let expires_at = now + self.reset_ttl.as_millis() as i64;
        let lookup = self
            .db
            .call(move |c| {
                if store::is_suppressed(c, &normalized)? {
                    return Ok(Lookup::Suppressed);
                }
                let Some(user) = store::user_by_email(c, &normalized)? else {
                    return Ok(Lookup::Unknown);
                };
                if user.login_method != LoginMethod::Email {
                    return Ok(Lookup::NoEmailLogin);
                }
                let token = new_token();
                store::issue_reset_token(c, &user.id, &token_hash(&token), now, expires_at)?;
                Ok(Lookup::Issued {
                    to: user.email.unwrap_or_default(),
                    display_name: user.display_name,
                    token,
                })
            })
            .await;
        let hint = email.hint();
        match lookup {
            Ok(Lookup::Issued {
                to,
                display_name,
                token,
            }) => {
                let link = self.links.reset_url(&token);
                let body = reset_body(&display_name, &to, &link, self.reset_ttl);
                self.mailer.send(&to, RESET_MAIL_SUBJECT, body, now).await;
            }
            Ok(Lookup::Unknown) => tracing::info!(to = hint, "no reset mail: no such member"),
            Ok(Lookup::NoEmailLogin) => {
                tracing::info!(to = hint, "no reset mail: the member signs in with SSO")
            }
            Ok(Lookup::Suppressed) => {
                tracing::info!(to = hint, "no reset mail: the address is undeliverable")
            }
            Err(e) => tracing::error!(to = hint, error = ?e, "no reset mail: lookup failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

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
