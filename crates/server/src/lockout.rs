//! Password checks as attempts of a login key (`email:…` or `id:team:login`), for logins and for
//! the current password of a change alike: each check is counted before argon2 runs, so parallel
//! guesses cannot outrun the lock; `threshold` failures within the window lock the key.

use unipos_protocol::ErrorCode;

use crate::clock::secs_until;
use crate::db::Db;
use crate::error::ApiError;
use crate::secrets::{self, HashForm, Verified};
use crate::state::AppState;
use crate::store;

/// An attempt that counts as failed until its password is judged. Dropped before that (the
/// client hung up, the request timed out), it is given back: an abandoned check is no guess.
pub struct Attempt {
    id: i64,
    db: Db,
    judged: bool,
}

impl Attempt {
    /// The password was judged (a failure settled, or the failures forgotten): keep the row as it is.
    pub fn judged(mut self) {
        self.judged = true;
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.judged {
            return;
        }
        let (db, id) = (self.db.clone(), self.id);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = db
                    .call(move |c| Ok(store::cancel_login_attempt(c, id)?))
                    .await;
            });
        }
    }
}

/// The outcome of a password that was really checked.
pub struct Checked {
    pub attempt: Attempt,
    pub verified: Verified,
    /// A hash of the normalized password, when the stored one was of the password as typed.
    pub rehash: Option<String>,
}

impl AppState {
    /// Checks `password` against `stored` (none: an unknown account, checked against a dummy so
    /// the time is the same) as one attempt of `key`. Refuses with `account_locked` without
    /// checking when the key is locked or its attempts are used up, and with `server_busy` (the
    /// attempt given back) when no hashing worker is free.
    pub async fn check_password(
        &self,
        key: &str,
        stored: Option<(String, HashForm)>,
        password: String,
        now: i64,
    ) -> Result<Checked, ApiError> {
        let attempt = self.begin_attempt(key, now).await?;
        let checked = self
            .hasher
            .run(move || match stored {
                Some((phc, form)) => {
                    let verified = secrets::verify_password(&password, &phc, form);
                    let rehash = (verified == Verified::YesRehash)
                        .then(|| secrets::hash_password(&password).ok())
                        .flatten();
                    (verified, rehash)
                }
                None => {
                    secrets::dummy_verify(&password);
                    (Verified::No, None)
                }
            })
            .await;
        match checked {
            Ok((verified, rehash)) => Ok(Checked {
                attempt,
                verified,
                rehash,
            }),
            // Nothing was checked: the attempt goes back when it is dropped.
            Err(busy) => Err(busy),
        }
    }

    /// Counts one attempt of `key`, as failed until it is judged; `account_locked` when the key
    /// is locked or its attempts are used up. Dropping the attempt unjudged gives it back.
    pub async fn begin_attempt(&self, key: &str, now: i64) -> Result<Attempt, ApiError> {
        let (threshold, window) = self.lockout();
        let attempt_key = key.to_owned();
        let id = self
            .db
            .call(move |c| {
                Ok(store::begin_login_attempt(
                    c,
                    &attempt_key,
                    now,
                    threshold,
                    window,
                )?)
            })
            .await?
            .map_err(|until| locked_error(now, until))?;
        Ok(Attempt {
            id,
            db: self.db.clone(),
            judged: false,
        })
    }

    /// Settles a wrong password: the error to answer, `account_locked` when this failure made
    /// the lock, else `wrong`.
    pub async fn wrong_password(
        &self,
        attempt: Attempt,
        key: &str,
        now: i64,
        wrong: ErrorCode,
    ) -> ApiError {
        attempt.judged();
        let (threshold, window) = self.lockout();
        let key = key.to_owned();
        let settled = self
            .db
            .call(move |c| {
                Ok(store::settle_login_failure(
                    c, &key, now, threshold, window,
                )?)
            })
            .await;
        match settled {
            Ok(Some(until)) => {
                self.metrics.lockouts.inc();
                locked_error(now, until)
            }
            Ok(None) => ApiError::new(wrong),
            Err(e) => e,
        }
    }

    fn lockout(&self) -> (u32, i64) {
        (
            self.config.lockout_threshold,
            self.config.lockout_window.as_millis() as i64,
        )
    }
}

fn locked_error(now: i64, until: i64) -> ApiError {
    let secs = secs_until(now, until);
    let minutes = secs.div_ceil(60);
    ApiError::with_message(
        ErrorCode::AccountLocked,
        format!(
            "Your Unipos account is locked after too many failed logins. Try again in {minutes} minute{}, or reset your password.",
            if minutes == 1 { "" } else { "s" }
        ),
    )
    .retry_after(secs)
}
