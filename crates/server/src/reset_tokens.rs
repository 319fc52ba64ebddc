//! Reset tokens: whether one can still be used. (They are issued with their mail, in one
//! transaction, by the outbox: `outbox.rs`.)

use unipos_protocol::binding::verifier_matches;
use unipos_protocol::{ErrorCode, LoginMethod, ResetToken};

use crate::error::ApiError;
use crate::secrets::token_hash;
use crate::state::AppState;
use crate::store::{self, ResetTokenRow, Team, UserRow};

impl AppState {
    /// The token's row, member and team if the token can still be used; else the token error.
    pub async fn usable_token(
        &self,
        token: &str,
    ) -> Result<(ResetTokenRow, UserRow, Team), ApiError> {
        let token = ResetToken::parse(token).map_err(|_| ApiError::new(ErrorCode::TokenInvalid))?;
        let hash = token_hash(token.expose());
        let now = self.clock.now_ms();
        let found = self
            .db
            .call(move |c| {
                let Some(row) = store::reset_token(c, &hash)? else {
                    return Ok(None);
                };
                let user = store::user_by_id(c, &row.user_id)?;
                let team = match &user {
                    Some(u) => Some(store::team_by_id(c, u.team_id)?),
                    None => None,
                };
                Ok(user.zip(team).map(|(u, t)| (row, u, t)))
            })
            .await?;
        let (row, user, team) = found.ok_or_else(|| ApiError::new(ErrorCode::TokenInvalid))?;
        token_state(&row, now).map_err(|e| e.for_account_of(user.login_method))?;
        Ok((row, user, team))
    }
}

impl ApiError {
    /// A dead link of a Login ID member says so (`details.account = "login_id"`): their way on
    /// is a new Account Information sheet from their admin, not a new mail.
    pub fn for_account_of(self, login_method: LoginMethod) -> ApiError {
        match login_method {
            LoginMethod::LoginId => {
                self.details(serde_json::json!({ "account": LoginMethod::LoginId.as_str() }))
            }
            _ => self,
        }
    }
}

/// A link bound to the app that asked for it is used only with that app's verifier.
pub fn check_binding(row: &ResetTokenRow, verifier: Option<&str>) -> Result<(), ApiError> {
    match (&row.code_challenge, verifier) {
        (None, _) => Ok(()),
        (Some(challenge), Some(verifier)) if verifier_matches(challenge, verifier) => Ok(()),
        (Some(_), _) => Err(ApiError::new(ErrorCode::ResetLinkOtherDevice)),
    }
}

/// Why a token that exists cannot be used, if it cannot.
pub fn token_state(row: &ResetTokenRow, now: i64) -> Result<(), ApiError> {
    if row.used_at.is_some() {
        Err(ApiError::new(ErrorCode::TokenUsed))
    } else if row.superseded_at.is_some() {
        Err(ApiError::new(ErrorCode::TokenSuperseded))
    } else if row.revoked_at.is_some() || row.expires_at <= now {
        // A link ended by a password change reads as expired: it ended, and a new mail is the
        // way on.
        Err(ApiError::new(ErrorCode::TokenExpired))
    } else {
        Ok(())
    }
}
