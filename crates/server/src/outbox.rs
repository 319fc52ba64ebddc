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
//! a sent mail's link, for the dev outbox.) A deliverer takes one mail at a time under a short
//! lease that it renews while the delivery runs (a heartbeat), so a mail held by an instance that
//! died is taken over within a lease, however long a relay may take to answer.
//!
//! A mail that could not be sent is tried again with a backoff (2, 4, 8 … s, at most five
//! minutes) for as long as it matters: a reset mail while its link would work (the reset TTL),
//! a password-changed notice, which is a security notice, for a day. Only then is it given up:
//! counted, and logged as an error with its request id.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{watch, Notify};
use tracing::Instrument;
use unipos_protocol::{Email, Language, LinkRules, LoginMethod};

use crate::clock::{rfc3339, Clock};
use crate::db::Db;
use crate::error::ApiError;
use crate::mail::{admin_reset_body, changed_body, reset_body, Mailer};
use crate::metrics::{MailLabels, Metrics};
use crate::secrets::{new_token, token_hash};
use crate::state::AppState;
use crate::store::{self, MailKind, OutboxRow};

/// The longest wait between two tries of a mail.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);
/// How long a password-changed notice is tried (a reset mail: as long as its link would work).
pub const NOTICE_TRIED_FOR: Duration = Duration::from_secs(24 * 3600);
/// How long a delivery under way may finish once the server is told to stop; then it is left,
/// its lease released, for another instance (or the next start) to send.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
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

/// A mail's subject: the protocol's, in the mail's language.
fn subject(kind: MailKind, lang: Language) -> &'static str {
    match kind {
        MailKind::PasswordChanged => lang.password_changed_mail_subject(),
        MailKind::ResetRequest | MailKind::AdminReset => lang.reset_mail_subject(),
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
            subject: subject(row.kind, row.lang).to_owned(),
            sent_at: rfc3339(row.sent_at.unwrap_or_default()),
            links: row.token.iter().map(|t| links.reset_url(t)).collect(),
            to: row.to,
        })
        .collect())
}

impl AppState {
    /// Queues a reset request for the address, its mail to be written in `lang`, and wakes the
    /// deliverer.
    pub async fn queue_reset_request(
        &self,
        email: &Email,
        request_id: &str,
        code_challenge: Option<String>,
        lang: Language,
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
                    lang,
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
    /// How long it holds the mail it took before another deliverer may take it; renewed every
    /// third of it while the delivery runs.
    pub lease: Duration,
    pub due: Arc<Notify>,
    pub stop: watch::Receiver<bool>,
    pub metrics: Arc<Metrics>,
}

/// The wait before try `attempts + 1` of a mail: 2, 4, 8 … seconds, at most [`MAX_BACKOFF`].
pub fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(1, 20)).min(MAX_BACKOFF)
}

/// How a delivery ended.
enum Sent {
    Done(anyhow::Result<()>),
    /// The server is stopping and the relay did not answer in time.
    Abandoned,
}

/// A token issued for a member's reset mail.
struct Issued {
    user_id: String,
    to: String,
    display_name: String,
    token: String,
    /// When the link stops working (ms).
    expires_at: i64,
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
            if *self.stop.borrow() {
                return;
            }
            if let Err(e) = self.deliver_due().await {
                tracing::error!(error = format!("{e:#}"), "the outbox could not be read");
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
            if *self.stop.borrow() {
                return Ok(());
            }
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
                // The mail's file appears before its link's record is settled: the gauge says
                // when the delivery is over.
                self.metrics.mail_delivering.set(1);
                self.handle(row, now + lease_ms).instrument(span).await;
                self.metrics.mail_delivering.set(0);
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
                let body = compose(
                    row.lang,
                    &member.display_name,
                    &member.to,
                    &link,
                    self.reset_ttl,
                    member.expires_at,
                );
                issued = Some((member.user_id, token_hash(&member.token)));
                (member.to.clone(), body, Some((member.to, member.token)))
            }
            MailKind::PasswordChanged => {
                let name = row.display_name.as_deref().unwrap_or_default();
                // Queued in the transaction that changed the password: its time is the change's.
                let body = changed_body(row.lang, name, &row.to, row.created_at);
                (row.to.clone(), body, None)
            }
        };
        let subject = subject(row.kind, row.lang);
        let mut lease_until = lease_until;
        let sent = self
            .send_holding(id, &mut lease_until, &to, subject, &body)
            .await;
        let (now, keep) = (self.clock.now_ms(), self.keep_sent);
        let kind = MailLabels {
            kind: row.kind.into(),
        };
        let recorded = match sent {
            Sent::Abandoned => {
                tracing::warn!(
                    to = hint,
                    subject,
                    "stopping: the mail is left for another instance"
                );
                self.db
                    .call(move |c| {
                        if let Some((_, hash)) = &issued {
                            store::delete_reset_token(c, hash)?;
                        }
                        // Due at once: another instance need not wait for the lease to end.
                        Ok(store::mail_retry(c, id, now, lease_until)?)
                    })
                    .await
            }
            Sent::Done(Ok(())) => {
                self.metrics.mail_sent.get_or_create(&kind).inc();
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
            Sent::Done(Err(e)) => {
                let until = self.tried_until(&row);
                let give_up = now >= until;
                let retry_at = (now + backoff(attempts).as_millis() as i64).min(until);
                if give_up {
                    self.metrics.mail_given_up.get_or_create(&kind).inc();
                    tracing::error!(
                        to = hint,
                        subject,
                        attempts,
                        error = format!("{e:#}"),
                        "mail given up: not delivered while it mattered"
                    );
                } else {
                    self.metrics.mail_retried.get_or_create(&kind).inc();
                    tracing::warn!(
                        to = hint,
                        subject,
                        attempts,
                        retry_in_s = (retry_at - now) / 1000,
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
                            store::mail_retry(c, id, retry_at, lease_until)?;
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

    /// Until when a mail is tried: a reset mail while its link would work, a notice for a day.
    fn tried_until(&self, row: &OutboxRow) -> i64 {
        let span = match row.kind {
            MailKind::PasswordChanged => NOTICE_TRIED_FOR,
            MailKind::ResetRequest | MailKind::AdminReset => self.reset_ttl,
        };
        row.created_at + span.as_millis() as i64
    }

    /// Sends, renewing the lease every third of it while the relay takes its time; gives the
    /// delivery [`STOP_GRACE`] once the server is told to stop.
    async fn send_holding(
        &self,
        id: i64,
        lease_until: &mut i64,
        to: &str,
        subject: &str,
        body: &crate::mail::Body,
    ) -> Sent {
        let beat = self.lease / 3;
        let lease_ms = self.lease.as_millis() as i64;
        let mut stop = self.stop.clone();
        let mut stopping_by: Option<Instant> = stop.borrow().then(|| Instant::now() + STOP_GRACE);
        let send = self.mailer.send(to, subject, body);
        tokio::pin!(send);
        loop {
            let grace = async {
                match stopping_by {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                sent = &mut send => return Sent::Done(sent),
                _ = tokio::time::sleep(beat) => {
                    let (old, new) = (*lease_until, self.clock.now_ms() + lease_ms);
                    let renewed = self
                        .db
                        .call(move |c| Ok(store::renew_mail_lease(c, id, old, new)?))
                        .await;
                    match renewed {
                        Ok(true) => *lease_until = new,
                        Ok(false) => tracing::warn!(
                            "the lease ran out while sending: another deliverer may send it too"
                        ),
                        Err(e) => tracing::warn!(error = ?e, "the mail's lease could not be renewed"),
                    }
                }
                changed = stop.changed(), if stopping_by.is_none() => {
                    if changed.is_err() || *stop.borrow() {
                        stopping_by = Some(Instant::now() + STOP_GRACE);
                    }
                }
                _ = grace => return Sent::Abandoned,
            }
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
                                expires_at,
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
                // Due again in a second (not only when the lease ends), while the mail matters.
                let until = self.tried_until(row);
                let (retry_at, give_up) = ((now + 1_000).min(until), now >= until);
                if give_up {
                    self.metrics
                        .mail_given_up
                        .get_or_create(&MailLabels {
                            kind: row.kind.into(),
                        })
                        .inc();
                    tracing::error!(
                        to = hint,
                        "mail given up: the member could not be looked up"
                    );
                }
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
