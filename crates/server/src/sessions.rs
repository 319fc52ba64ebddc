//! Issuing sessions: after a login, a reset, or (`--dev`) a sign-in standing in for SSO.

use unipos_protocol::{Session, SessionResponse};

use crate::clock::rfc3339;
use crate::secrets::{new_token, token_hash};
use crate::state::AppState;
use crate::store::UserRow;

/// A new session for a member: the token to hand out, its hash to store, when it ends.
pub struct NewSession {
    pub token: String,
    pub hash: Vec<u8>,
    pub expires_at: i64,
}

impl AppState {
    /// A fresh session token that lasts `session_ttl` from `now`.
    pub fn new_session(&self, now: i64) -> NewSession {
        NewSession::new(now, self.config.session_ttl)
    }
}

impl NewSession {
    /// A fresh session token that lasts `ttl` from `now`.
    pub fn new(now: i64, ttl: std::time::Duration) -> NewSession {
        let token = new_token();
        NewSession {
            hash: token_hash(&token),
            token,
            expires_at: now + ttl.as_millis() as i64,
        }
    }

    /// The answer that hands the session out, with its member.
    pub fn into_response(self, user: &UserRow) -> SessionResponse {
        SessionResponse {
            session: Session {
                token: self.token,
                expires_at: rfc3339(self.expires_at),
            },
            user: user.to_wire(),
        }
    }
}
