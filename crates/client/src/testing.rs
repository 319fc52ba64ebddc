//! For tests (the `testing` feature, which release builds do not have; and this crate's own unit
//! tests): a session vault in memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failure is the test's"
)]

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{ClientError, PendingRevokes, ResetBinding, SessionVault, StoredSession};

/// An in-memory vault. [`MemoryVault::unavailable`] behaves like a machine
/// without a keychain.
#[derive(Debug, Default)]
pub struct MemoryVault {
    sessions: Mutex<HashMap<String, StoredSession>>,
    bindings: Mutex<HashMap<String, ResetBinding>>,
    revokes: Mutex<HashMap<String, PendingRevokes>>,
    unavailable: bool,
}

impl MemoryVault {
    pub fn new() -> MemoryVault {
        MemoryVault::default()
    }

    /// Every call fails with `keychain_unavailable`.
    pub fn unavailable() -> MemoryVault {
        MemoryVault {
            unavailable: true,
            ..MemoryVault::default()
        }
    }

    fn check(&self) -> Result<(), ClientError> {
        if self.unavailable {
            return Err(ClientError::KeychainUnavailable {
                message: "No keychain is available (test vault).".to_owned(),
                cause: "MemoryVault::unavailable".to_owned(),
            });
        }
        Ok(())
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, StoredSession>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bindings(&self) -> std::sync::MutexGuard<'_, HashMap<String, ResetBinding>> {
        self.bindings.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SessionVault for MemoryVault {
    fn load(&self, account: &str) -> Result<Option<StoredSession>, ClientError> {
        self.check()?;
        Ok(self.sessions().get(account).cloned())
    }

    fn save(&self, account: &str, session: &StoredSession) -> Result<(), ClientError> {
        self.check()?;
        self.sessions().insert(account.to_owned(), session.clone());
        Ok(())
    }

    fn clear(&self, account: &str) -> Result<(), ClientError> {
        self.check()?;
        self.sessions().remove(account);
        Ok(())
    }

    fn load_binding(&self, account: &str) -> Result<Option<ResetBinding>, ClientError> {
        self.check()?;
        Ok(self.bindings().get(account).cloned())
    }

    fn save_binding(&self, account: &str, binding: &ResetBinding) -> Result<(), ClientError> {
        self.check()?;
        self.bindings().insert(account.to_owned(), binding.clone());
        Ok(())
    }

    fn clear_binding(&self, account: &str) -> Result<(), ClientError> {
        self.check()?;
        self.bindings().remove(account);
        Ok(())
    }

    fn pending_revokes(&self, account: &str) -> Result<PendingRevokes, ClientError> {
        self.check()?;
        let revokes = self.revokes.lock().unwrap_or_else(|p| p.into_inner());
        Ok(revokes.get(account).cloned().unwrap_or_default())
    }

    fn set_pending_revokes(
        &self,
        account: &str,
        pending: &PendingRevokes,
    ) -> Result<(), ClientError> {
        self.check()?;
        let mut revokes = self.revokes.lock().unwrap_or_else(|p| p.into_inner());
        revokes.insert(account.to_owned(), pending.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_vault_keeps_one_session_per_api_base() {
        let v = MemoryVault::new();
        let a = StoredSession {
            token: "A".into(),
            expires_at: "2030-01-01T00:00:00Z".into(),
        };
        v.save("https://unipos.me", &a).unwrap();
        assert_eq!(v.load("https://unipos.me").unwrap(), Some(a));
        assert_eq!(v.load("http://127.0.0.1:8787").unwrap(), None);
        v.clear("https://unipos.me").unwrap();
        v.clear("https://unipos.me").unwrap();
        assert_eq!(v.load("https://unipos.me").unwrap(), None);
    }

    #[test]
    fn an_unavailable_vault_says_so() {
        let err = MemoryVault::unavailable().load("x").unwrap_err();
        assert_eq!(err.code(), "keychain_unavailable");
    }
}
