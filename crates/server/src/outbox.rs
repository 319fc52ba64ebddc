//! The transactional outbox. Mail to send is a row of `mail_outbox`, written in the same
//! transaction as what it reports (a request for a reset mail, a password change), so nothing is
//! lost when the process dies after answering; the deliverer of any instance on the database
//! takes due rows under a lease, sends them, and only then marks them sent (at least once).
//!
//! "Send" on Forgot queues only a reset *request* (one insert, the same for every address, so the
//! answer's time tells nothing). The deliverer looks the address up and, for a member who signs
//! in by email, issues a token (storing its hash) and sends the mail; only once it went out do
//! older links stop working. The token itself is never written down: a mail that did not go out
//! takes its token with it (deleted), and the next attempt issues a new one. (Only `--dev` keeps
//! a sent mail's link, for the dev outbox.) A deliverer takes one mail at a time, so its lease
//! covers one delivery.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{watch, Notify};
use tracing::Instrument;
use unipos_protocol::{
    Email, LinkRules, LoginMethod, PASSWORD_CHANGED_MAIL_SUBJECT, RESET_MAIL_SUBJECT,
};

use crate::clock::{rfc3339, Clock};
use crate::db::Db;
use crate::error::ApiError;
use crate::mail::{admin_reset_body, changed_body, reset_body, Mailer};
use crate::secrets::{new_token, token_hash};
use crate::store::{self, MailKind, OutboxRow};
use crate::AppState;

/// Delivery attempts before a mail is given up (logged as an error).
const MAX_ATTEMPTS: u32 = 8;
/// How many sent mails the dev outbox lists at most.
const DEV_OUTBOX_KEEP: u32 = 1000;
/// How often the deliverer looks for due mail when nothing woke it.
const POLL: Duration = Duration::from_millis(500);

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

fn subject(kind: MailKind) -> &'static str {
    match kind {
        MailKind::PasswordChanged => PASSWORD_CHANGED_MAIL_SUBJECT,
        MailKind::ResetRequest | MailKind::AdminReset => RESET_MAIL_SUBJECT,
    }
}

/// The sent mail the dev outbox lists, newest last.
pub fn sent(
    c: &mut crate::sql::Conn<'_>,
    links: &LinkRules,
    to: Option<&str>,
) -> crate::sql::DbResult<Vec<SentMail>> {
    let rows = store::sent_mail(c, to, DEV_OUTBOX_KEEP)?;
    Ok(rows
        .into_iter()
        .map(|row| SentMail {
            subject: subject(row.kind).to_owned(),
            sent_at: rfc3339(row.sent_at.unwrap_or_default()),
            links: row.token.iter().map(|t| links.reset_url(t)).collect(),
            to: row.to,
        })
        .collect())
}

impl AppState {
    /// Queues a reset request for the address and wakes the deliverer.
    pub async fn queue_reset_request(
        &self,
        email: &Email,
        request_id: &str,
        code_challenge: Option<String>,
    ) -> Result<(), ApiError> {
        let (to, request_id, now) = (
            email.normalized(),
            request_id.to_owned(),
            self.clock.now_ms(),
        );
        self.db
            .call(move |c| {
                let mail = store::NewMail {
                    kind: MailKind::ResetRequest,
                    to: &to,
                    display_name: None,
                    request_id: Some(&request_id),
                    code_challenge: code_challenge.as_deref(),
                };
                Ok(store::queue_mail(c, &mail, now)?)
            })
            .await?;
        self.mail_due.notify_one();
        Ok(())
    }
}

/// Delivers due mail until told to stop, then delivers what is due and returns.
pub struct Deliverer {
    pub db: Db,
    pub clock: Clock,
    pub links: LinkRules,
    pub reset_ttl: Duration,
    pub mailer: Mailer,
    /// Keep sent mail (with its links) for the dev outbox.
    pub keep_sent: bool,
    /// How long it holds the mails it took before another deliverer may take them.
    pub lease: Duration,
    pub due: Arc<Notify>,
    pub stop: watch::Receiver<bool>,
}

/// A token issued for a member's reset mail.
struct Issued {
    user_id: String,
    to: String,
    display_name: String,
    token: String,
}

enum Lookup {
    Member(Issued),
    Unknown,
    NoEmailLogin,
    Suppressed,
}

impl Deliverer {
    pub async fn run(mut self) {
        loop {
            let stopping = *self.stop.borrow();
            if let Err(e) = self.deliver_due().await {
                tracing::error!(error = format!("{e:#}"), "the outbox could not be read");
            }
            if stopping {
                return;
            }
            tokio::select! {
                _ = self.due.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = self.stop.changed() => {}
            }
        }
    }

    /// Takes and handles due mail until none is left.
    async fn deliver_due(&self) -> anyhow::Result<()> {
        let lease_ms = self.lease.as_millis() as i64;
        loop {
            let now = self.clock.now_ms();
            let claimed = self
                .db
                // One at a time: a lease covers one delivery, however slow the relay.
                .call(move |c| Ok(store::claim_mail(c, now, now + lease_ms, 1)?))
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            if claimed.is_empty() {
                return Ok(());
            }
            for row in claimed {
                let span = tracing::info_span!(
                    "mail",
                    request_id = row.request_id.as_deref().unwrap_or("-")
                );
                self.handle(row, now + lease_ms).instrument(span).await;
            }
        }
    }

    async fn handle(&self, row: OutboxRow, lease_until: i64) {
        let hint = Email::parse(&row.to).map(|e| e.hint()).unwrap_or_default();
        let (id, attempts) = (row.id, row.attempts);
        // For a reset mail: whose it is and its token's hash, to supersede older links once it
        // went out (or to forget the token if it did not).
        let mut issued: Option<(String, Vec<u8>)> = None;
        let (to, body, kept) = match row.kind {
            MailKind::ResetRequest | MailKind::AdminReset => {
                let Some(member) = self.issue(&row, &hint, lease_until).await else {
                    return;
                };
                let link = self.links.reset_url(&member.token);
                let compose = match row.kind {
                    MailKind::AdminReset => admin_reset_body,
                    _ => reset_body,
                };
                let body = compose(&member.display_name, &member.to, &link, self.reset_ttl);
                issued = Some((member.user_id, token_hash(&member.token)));
                (member.to.clone(), body, Some((member.to, member.token)))
            }
            MailKind::PasswordChanged => {
                let name = row.display_name.as_deref().unwrap_or_default();
                (row.to.clone(), changed_body(name, &row.to), None)
            }
        };
        let subject = subject(row.kind);
        let sent = self.mailer.send(&to, subject, &body).await;
        let (now, keep) = (self.clock.now_ms(), self.keep_sent);
        let recorded = match sent {
            Ok(()) => {
                tracing::info!(to = hint, subject, "mail sent");
                self.db
                    .call(move |c| {
                        let mut tx = c.immediate(&format!("mail:{id}"))?;
                        if let Some((user_id, hash)) = &issued {
                            store::supersede_reset_tokens(&mut tx, user_id, hash, now)?;
                        }
                        let ours = store::mail_sent(&mut tx, id, now, kept.as_ref(), keep, lease_until)?;
                        tx.commit()?;
                        if !ours {
                            tracing::warn!("the lease ran out while sending: another deliverer may send it again");
                        }
                        Ok(())
                    })
                    .await
            }
            Err(e) => {
                let give_up = attempts >= MAX_ATTEMPTS;
                // 2, 4, 8 … seconds, at most ten minutes.
                let wait_ms = (1_000i64 << attempts.min(10)).min(600_000);
                if give_up {
                    tracing::error!(
                        to = hint,
                        subject,
                        attempts,
                        error = format!("{e:#}"),
                        "mail given up"
                    );
                } else {
                    tracing::warn!(
                        to = hint,
                        subject,
                        attempts,
                        retry_in_s = wait_ms / 1000,
                        error = format!("{e:#}"),
                        "mail not sent; will retry"
                    );
                }
                self.db
                    .call(move |c| {
                        // The link that did not go out must not work (nor stop older ones).
                        if let Some((_, hash)) = &issued {
                            store::delete_reset_token(c, hash)?;
                        }
                        if give_up {
                            store::drop_mail(c, id)?;
                        } else {
                            store::mail_retry(c, id, now + wait_ms, lease_until)?;
                        }
                        Ok(())
                    })
                    .await
            }
        };
        if let Err(e) = recorded {
            // Sent but not marked: the lease ends and it goes again (at least once).
            tracing::error!(to = hint, error = ?e, "could not record a delivery");
        }
    }

    /// Looks the requested address up; for a member who signs in by email, issues a token (its
    /// hash stored, older links superseded) and answers where to send it; else drops the row.
    async fn issue(&self, row: &OutboxRow, hint: &str, lease_until: i64) -> Option<Issued> {
        let now = self.clock.now_ms();
        let expires_at = now + self.reset_ttl.as_millis() as i64;
        let (id, requested, challenge) = (row.id, row.to.clone(), row.code_challenge.clone());
        let lookup = self
            .db
            .call(move |c| {
                let mut tx = c.immediate(&format!("mail:{id}"))?;
                let lookup = if store::is_suppressed(&mut tx, &requested)? {
                    Lookup::Suppressed
                } else {
                    match store::user_by_email(&mut tx, &requested)? {
                        None => Lookup::Unknown,
                        Some(user) if user.login_method != LoginMethod::Email => {
                            Lookup::NoEmailLogin
                        }
                        Some(user) => {
                            let token = new_token();
                            store::insert_reset_token(
                                &mut tx,
                                &user.id,
                                &token_hash(&token),
                                now,
                                expires_at,
                                challenge.as_deref(),
                            )?;
                            Lookup::Member(Issued {
                                user_id: user.id,
                                to: user.email.clone().unwrap_or_default(),
                                display_name: user.display_name,
                                token,
                            })
                        }
                    }
                };
                if !matches!(lookup, Lookup::Member(_)) {
                    store::drop_mail(&mut tx, id)?;
                }
                tx.commit()?;
                Ok(lookup)
            })
            .await;
        match lookup {
            Ok(Lookup::Member(member)) => Some(member),
            Ok(Lookup::Unknown) => {
                tracing::info!(to = hint, "no reset mail: no such member");
                None
            }
            Ok(Lookup::NoEmailLogin) => {
                tracing::info!(to = hint, "no reset mail: the member signs in with SSO");
                None
            }
            Ok(Lookup::Suppressed) => {
                tracing::info!(to = hint, "no reset mail: the address is undeliverable");
                None
            }
            Err(e) => {
                tracing::error!(to = hint, error = ?e, "no reset mail yet: lookup failed");
                // Due again in a second (not only when the lease ends), a bounded number of times.
                let (retry_at, give_up) = (now + 1_000, row.attempts >= MAX_ATTEMPTS);
                let _ = self
                    .db
                    .call(move |c| {
                        if give_up {
                            Ok(store::drop_mail(c, id)?)
                        } else {
                            Ok(store::mail_retry(c, id, retry_at, lease_until)?)
                        }
                    })
                    .await;
                None
            }
        }
    }
}
