//! Where the session token lives: the OS keychain, and nowhere else.
//!
//! One item per API base: service [`VAULT_SERVICE`], account = the API base URL (so a staging and
//! a local session never clash). The stored secret is a small JSON object,
//! `{"token": "...", "expires_at": "..."}`. When no keychain answers, the vault says so
//! (`keychain_unavailable`) and the token is not kept at all: there is no file fallback.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use serde::{Deserialize, Serialize};

use crate::ClientError;

/// The keychain service name of every item the app stores.
pub const VAULT_SERVICE: &str = unipos_protocol::APP_IDENTIFIER;

/// A session as kept in the vault. Its `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSession {
    pub token: String,
    /// RFC 3339, UTC, as the server sent it.
    pub expires_at: String,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl StoredSession {
    fn to_secret(&self) -> Result<String, ClientError> {
        serde_json::to_string(self).map_err(unwritable)
    }
}

/// What binds this device's reset requests to its app (see `unipos_protocol::binding`): the
/// verifier whose challenge went with "Send", and the address it was asked for (its hint), so
/// that a link for another account is noticed. Kept beside the session, in the keychain. Its
/// `Debug` never shows the verifier.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetBinding {
    pub verifier: String,
    /// The address of the newest request, redacted (`t***@example.com`).
    pub email_hint: String,
    /// When the newest request was made (RFC 3339, UTC).
    pub asked_at: String,
}

impl std::fmt::Debug for ResetBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResetBinding")
            .field("verifier", &"<redacted>")
            .field("email_hint", &self.email_hint)
            .field("asked_at", &self.asked_at)
            .finish()
    }
}

/// The keychain account of the reset binding for the API base `account`.
fn binding_account(account: &str) -> String {
    format!("{account}#reset-binding")
}

/// The keychain account of the sessions logged out while the server could not be told.
fn revokes_account(account: &str) -> String {
    format!("{account}#pending-revokes")
}

/// Sessions of this device that were logged out locally while the server could not be told:
/// their tokens, kept in the keychain until the server has revoked them. Its `Debug` shows how
/// many, never a token.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRevokes {
    pub tokens: Vec<String>,
}

impl std::fmt::Debug for PendingRevokes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PendingRevokes({} tokens)", self.tokens.len())
    }
}

/// Keeps one session per account (the API base), and the binding of its reset requests. Calls
/// may block (D-Bus, Keychain prompts): async callers run them on a blocking thread, as
/// [`crate::Flows`] does.
pub trait SessionVault: Send + Sync {
    /// The stored session, or `None` when there is none (or it is unreadable).
    fn load(&self, account: &str) -> Result<Option<StoredSession>, ClientError>;
    fn save(&self, account: &str, session: &StoredSession) -> Result<(), ClientError>;
    /// Removes the session; succeeds when there was none.
    fn clear(&self, account: &str) -> Result<(), ClientError>;

    /// Whether a session for `account` could be saved now. Flows call it before a login or a
    /// reset, so a missing or locked keychain is reported before the server is asked (and before
    /// a reset link is used up). The default only reads.
    fn check_ready(&self, account: &str) -> Result<(), ClientError> {
        self.load(account).map(|_| ())
    }

    /// The binding of this device's reset requests, if one is kept.
    fn load_binding(&self, _account: &str) -> Result<Option<ResetBinding>, ClientError> {
        Ok(None)
    }

    /// Keeps the binding. A vault that cannot says so, and requests go out unbound.
    fn save_binding(&self, _account: &str, _binding: &ResetBinding) -> Result<(), ClientError> {
        Err(ClientError::KeychainUnavailable {
            message: "This vault keeps no reset binding.".to_owned(),
            cause: "save_binding not supported".to_owned(),
        })
    }

    /// Forgets the binding; succeeds when there was none.
    fn clear_binding(&self, _account: &str) -> Result<(), ClientError> {
        Ok(())
    }

    /// Sessions logged out here that the server has not revoked yet.
    fn pending_revokes(&self, _account: &str) -> Result<PendingRevokes, ClientError> {
        Ok(PendingRevokes::default())
    }

    /// Keeps them (an empty list removes the item). A vault that cannot says so.
    fn set_pending_revokes(
        &self,
        _account: &str,
        _pending: &PendingRevokes,
    ) -> Result<(), ClientError> {
        Err(ClientError::KeychainUnavailable {
            message: "This vault keeps no pending revocations.".to_owned(),
            cause: "set_pending_revokes not supported".to_owned(),
        })
    }
}

/// The OS keychain through keyring-core, with the store chosen per platform: Secret Service
/// (Linux), Keychain (macOS), protected data Keychain (iOS), the Android keystore-backed store,
/// Windows Credential Manager.
///
/// If the application already set a keyring-core default store (e.g. a configured Android
/// store), that one is used; otherwise the platform store is built on first use and made the
/// default. A failed attempt is retried on the next call (the user may unlock the keychain).
#[derive(Default)]
pub struct KeyringVault {
    store: Mutex<Option<Arc<CredentialStore>>>,
}

impl std::fmt::Debug for KeyringVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringVault").finish_non_exhaustive()
    }
}

impl KeyringVault {
    pub fn new() -> KeyringVault {
        KeyringVault::default()
    }

    /// Whether the keychain answers and takes a write (see [`SessionVault::check_ready`]).
    pub fn probe(&self) -> Result<(), ClientError> {
        self.check_ready("unipos-client")
    }

    fn store(&self) -> Result<Arc<CredentialStore>, ClientError> {
        let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = guard.as_ref() {
            return Ok(store.clone());
        }
        let store = match keyring_core::get_default_store() {
            Some(store) => store,
            None => {
                let store = platform::store().map_err(unavailable)?;
                keyring_core::set_default_store(store.clone());
                store
            }
        };
        *guard = Some(store.clone());
        Ok(store)
    }

    fn entry(&self, account: &str) -> Result<Entry, ClientError> {
        let store = self.store()?;
        let modifiers = platform::modifiers(account);
        let modifiers: HashMap<&str, &str> =
            modifiers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Entry::new_in_store_with_modifiers(&store, VAULT_SERVICE, account, &modifiers)
            .map_err(unavailable)
    }

    /// Removes every item matching the account (used when the store holds more than one).
    fn clear_all(entries: Vec<Entry>) -> Result<(), ClientError> {
        for entry in entries {
            match entry.delete_credential() {
                Ok(()) | Err(KeyringError::NoEntry) => {}
                Err(e) => return Err(unavailable(e)),
            }
        }
        Ok(())
    }
}

impl KeyringVault {
    /// The JSON secret of `account` read as a `T`; an item that is not one (not ours, damaged)
    /// is useless, so it is forgotten.
    fn read<T: serde::de::DeserializeOwned>(
        &self,
        account: &str,
    ) -> Result<Option<T>, ClientError> {
        let entry = self.entry(account)?;
        match entry.get_password() {
            Ok(secret) => match serde_json::from_str(&secret) {
                Ok(value) => Ok(Some(value)),
                Err(_) => {
                    let _ = entry.delete_credential();
                    Ok(None)
                }
            },
            Err(KeyringError::NoEntry) => Ok(None),
            Err(KeyringError::BadEncoding(_)) => {
                let _ = entry.delete_credential();
                Ok(None)
            }
            Err(KeyringError::Ambiguous(entries)) => {
                KeyringVault::clear_all(entries)?;
                Ok(None)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    fn write(&self, account: &str, secret: &str) -> Result<(), ClientError> {
        let entry = self.entry(account)?;
        match entry.set_password(secret) {
            Ok(()) => Ok(()),
            Err(KeyringError::Ambiguous(entries)) => {
                KeyringVault::clear_all(entries)?;
                entry.set_password(secret).map_err(unavailable)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    fn delete(&self, account: &str) -> Result<(), ClientError> {
        let entry = self.entry(account)?;
        match entry.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(KeyringError::Ambiguous(entries)) => KeyringVault::clear_all(entries),
            Err(e) => Err(unavailable(e)),
        }
    }
}

impl SessionVault for KeyringVault {
    fn load(&self, account: &str) -> Result<Option<StoredSession>, ClientError> {
        self.read(account)
    }

    fn save(&self, account: &str, session: &StoredSession) -> Result<(), ClientError> {
        self.write(account, &session.to_secret()?)
    }

    fn clear(&self, account: &str) -> Result<(), ClientError> {
        self.delete(account)
    }

    fn load_binding(&self, account: &str) -> Result<Option<ResetBinding>, ClientError> {
        self.read(&binding_account(account))
    }

    fn save_binding(&self, account: &str, binding: &ResetBinding) -> Result<(), ClientError> {
        let secret = serde_json::to_string(binding).map_err(unwritable)?;
        self.write(&binding_account(account), &secret)
    }

    fn clear_binding(&self, account: &str) -> Result<(), ClientError> {
        self.delete(&binding_account(account))
    }

    fn pending_revokes(&self, account: &str) -> Result<PendingRevokes, ClientError> {
        Ok(self.read(&revokes_account(account))?.unwrap_or_default())
    }

    fn set_pending_revokes(
        &self,
        account: &str,
        pending: &PendingRevokes,
    ) -> Result<(), ClientError> {
        if pending.tokens.is_empty() {
            return self.delete(&revokes_account(account));
        }
        let secret = serde_json::to_string(pending).map_err(unwritable)?;
        self.write(&revokes_account(account), &secret)
    }

    /// Reading is not enough: a locked Secret Service answers reads (with nothing) and refuses
    /// writes. So this writes and removes a probe item next to the account's, named uniquely so
    /// concurrent checks never touch the same item.
    fn check_ready(&self, account: &str) -> Result<(), ClientError> {
        let probe = format!("probe:{}:{account}", uuid::Uuid::new_v4());
        let entry = self.entry(&probe)?;
        entry.set_password("probe").map_err(unavailable)?;
        match entry.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

/// Turns a keyring failure into `keychain_unavailable`, with a message saying what to do.
fn unavailable(e: KeyringError) -> ClientError {
    let message = match &e {
        KeyringError::NoStorageAccess(_) => platform::LOCKED_HINT,
        _ => platform::MISSING_HINT,
    };
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !cause.contains(&text) {
            cause.push_str(": ");
            cause.push_str(&text);
        }
        source = s.source();
    }
    ClientError::KeychainUnavailable {
        message: message.to_owned(),
        cause,
    }
}

/// A keychain item that could not be written as JSON (it holds only strings, so this does not
/// happen; it is answered as a keychain failure, never a panic).
fn unwritable(e: serde_json::Error) -> ClientError {
    ClientError::KeychainUnavailable {
        message: "The keychain item could not be written.".to_owned(),
        cause: e.to_string(),
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use super::*;

    pub(super) const MISSING_HINT: &str = "No keychain is available: the session is kept only \
        in the Secret Service (GNOME Keyring or KWallet) over D-Bus, and none answered. Log in to \
        a desktop session, or start and unlock gnome-keyring (`dbus-run-session`, then \
        `gnome-keyring-daemon --unlock --components=secrets`), and try again.";
    pub(super) const LOCKED_HINT: &str = "The keychain is locked or did not answer: unlock \
        your login keyring (or run `gnome-keyring-daemon --unlock --components=secrets`) and \
        try again.";

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(dbus_secret_service_keyring_store::Store::new()?)
    }

    /// A label people recognise in Seahorse and `secret-tool search`.
    pub(super) fn modifiers(account: &str) -> Vec<(&'static str, String)> {
        vec![("label", format!("Unipos session ({account})"))]
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use super::*;

    pub(super) const MISSING_HINT: &str =
        "The macOS Keychain could not be used. Unlock your login keychain and try again.";
    pub(super) const LOCKED_HINT: &str =
        "The macOS Keychain is locked or access was denied. Unlock it and try again.";

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(apple_native_keyring_store::keychain::Store::new()?)
    }

    pub(super) fn modifiers(_account: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

#[cfg(target_os = "ios")]
mod platform {
    use super::*;

    pub(super) const MISSING_HINT: &str =
        "The iOS Keychain could not be used. Unlock the device and try again.";
    pub(super) const LOCKED_HINT: &str =
        "The iOS Keychain is not available while the device is locked. Unlock it and try again.";

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(apple_native_keyring_store::protected::Store::new()?)
    }

    pub(super) fn modifiers(_account: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

#[cfg(target_os = "android")]
mod platform {
    use super::*;

    pub(super) const MISSING_HINT: &str =
        "The Android keystore could not be used. Restart the app and try again.";
    pub(super) const LOCKED_HINT: &str =
        "The Android keystore is not available right now. Unlock the device and try again.";

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(android_native_keyring_store::Store::new()?)
    }

    pub(super) fn modifiers(_account: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

#[cfg(target_os = "windows")]
mod platform {
    use super::*;

    pub(super) const MISSING_HINT: &str =
        "Windows Credential Manager could not be used. Sign in to Windows and try again.";
    pub(super) const LOCKED_HINT: &str =
        "Windows Credential Manager denied access. Sign in to Windows and try again.";

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Ok(windows_native_keyring_store::Store::new()?)
    }

    pub(super) fn modifiers(_account: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "macos",
    target_os = "ios",
    target_os = "android",
    target_os = "windows"
)))]
mod platform {
    use super::*;

    pub(super) const MISSING_HINT: &str = "This platform has no supported keychain.";
    pub(super) const LOCKED_HINT: &str = MISSING_HINT;

    pub(super) fn store() -> keyring_core::Result<Arc<CredentialStore>> {
        Err(KeyringError::NoDefaultStore)
    }

    pub(super) fn modifiers(_account: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryVault;

    #[test]
    fn the_stored_secret_is_small_json_and_debug_hides_the_token() {
        let s = StoredSession {
            token: "SECRET".into(),
            expires_at: "2030-01-01T00:00:00Z".into(),
        };
        assert_eq!(
            s.to_secret().unwrap(),
            r#"{"token":"SECRET","expires_at":"2030-01-01T00:00:00Z"}"#
        );
        let read: StoredSession = serde_json::from_str(&s.to_secret().unwrap()).unwrap();
        assert_eq!(read, s);
        assert!(!format!("{s:?}").contains("SECRET"));
    }

    #[test]
    fn the_memory_vault_keeps_a_binding_apart_from_the_session_and_debug_hides_it() {
        let vault = MemoryVault::new();
        let binding = ResetBinding {
            verifier: "SECRET-VERIFIER".into(),
            email_hint: "t***@example.com".into(),
            asked_at: "2030-01-01T00:00:00Z".into(),
        };
        vault.save_binding("https://a", &binding).unwrap();
        assert_eq!(vault.load("https://a").unwrap(), None);
        assert_eq!(
            vault.load_binding("https://a").unwrap(),
            Some(binding.clone())
        );
        assert_eq!(vault.load_binding("https://b").unwrap(), None);
        vault.clear("https://a").unwrap();
        assert!(
            vault.load_binding("https://a").unwrap().is_some(),
            "a logout keeps it"
        );
        vault.clear_binding("https://a").unwrap();
        assert_eq!(vault.load_binding("https://a").unwrap(), None);
        assert!(!format!("{binding:?}").contains("SECRET"));
        assert_eq!(binding_account("https://a"), "https://a#reset-binding");
    }
}
