//! Password checks as attempts of a login key (`email:…` or `id:team:login`), for logins and for
//! the current password of a change alike: each check is counted before argon2 runs, so parallel
//! guesses cannot outrun the lock; `threshold` failures within the window lock the key.

use unipos_protocol::ErrorCode;

use crate::clock::secs_until;
use crate::error::ApiError;
use crate::secrets::{self, HashForm, Verified};
use crate::store;
use crate::AppState;

/// The outcome of a password that was really checked.
pub struct Checked {
    attempt: i64,
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
        let (threshold, window) = self.lockout();
        let attempt_key = key.to_owned();
        let attempt = self
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
            Err(busy) => {
                self.forget_attempt(attempt).await?;
                Err(busy)
            }
        }
    }

    /// Gives back an attempt that must not count (an SSO member's, or one never checked).
    pub async fn forget_attempt(&self, attempt: i64) -> Result<(), ApiError> {
        self.db
            .call(move |c| Ok(store::cancel_login_attempt(c, attempt)?))
            .await
    }

    /// Settles a wrong password: the error to answer, `account_locked` when this failure made
    /// the lock, else `wrong`.
    pub async fn wrong_password(&self, key: &str, now: i64, wrong: ErrorCode) -> ApiError {
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
            Ok(Some(until)) => locked_error(now, until),
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

impl Checked {
    pub fn attempt(&self) -> i64 {
        self.attempt
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
