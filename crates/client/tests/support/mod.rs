//! The real `unipos-server`, started in-process on an ephemeral port as in production (no
//! `--dev`): real HTTP, a real SQLite file seeded with the demo organisation, and real `.eml`
//! files in a temporary folder, which is where the tests read the mail.

#![allow(dead_code, unused_imports)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use unipos_client::testing::MemoryVault;
use unipos_client::{
    ApiClient, ClientConfig, ClientError, Flows, KeyringVault, SessionVault, StoredSession,
};
use unipos_server::{Clock, Config, RunningServer, SentMail};
pub use unipos_testsupport::{token_of, HeldPort, TestBackend};

pub use unipos_client::unipos_protocol::{
    Language, PASSWORD_CHANGED_MAIL_SUBJECT, PASSWORD_CHANGED_MAIL_SUBJECT_JA, RESET_MAIL_SUBJECT,
    RESET_MAIL_SUBJECT_JA,
};
pub use unipos_server::dev::{
    DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_DISPLAY_NAME, DEMO_EMAIL, DEMO_LOGIN_ID,
    DEMO_LOGIN_ID_DISPLAY_NAME, DEMO_LOGIN_ID_PASSWORD, DEMO_PASSWORD, DEMO_SSO_EMAIL, DEMO_TEAM,
};

/// The reference server of one test (unipos-testsupport), and this crate's ways to talk to it.
pub struct TestServer {
    backend: TestBackend,
}

impl std::ops::Deref for TestServer {
    type Target = TestBackend;
    fn deref(&self) -> &TestBackend {
        &self.backend
    }
}

impl std::ops::DerefMut for TestServer {
    fn deref_mut(&mut self) -> &mut TestBackend {
        &mut self.backend
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        TestServer {
            backend: TestBackend::start_with(adjust).await,
        }
    }

    /// A client config for this server: its API base, and its web base for the link rules.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig::with_bases(
            self.server().base_url().as_str(),
            self.server().web_base().as_str(),
        )
        .unwrap()
        .app("unipos-client-tests", "0.0.0")
    }

    /// Flows over a fresh in-memory vault (the keychain tests use the real one).
    pub fn flows(&self) -> (Flows, Arc<MemoryVault>) {
        let vault = Arc::new(MemoryVault::new());
        let flows = Flows::new(self.client_config(), vault.clone()).unwrap();
        (flows, vault)
    }

    pub fn flows_with(&self, vault: Arc<dyn SessionVault>) -> Flows {
        Flows::new(self.client_config(), vault).unwrap()
    }

    /// A bare API client for this server (no vault), to ask it about a token directly.
    pub fn api(&self) -> ApiClient {
        ApiClient::new(self.client_config()).unwrap()
    }

    pub fn api_base(&self) -> String {
        self.server().base_url().as_str().to_owned()
    }
}

/// A well-formed token that was never issued.
pub fn unknown_token() -> String {
    "Zz9-_".repeat(9)
}

/// The real OS keychain, or `None` (the test then skips, with a note) when it is unreachable.
/// With `UNIPOS_REQUIRE_KEYCHAIN=1` (set by `scripts/with-keyring.sh`) an unreachable keychain
/// fails the test instead.
pub fn keychain() -> Option<Arc<KeyringVault>> {
    let vault = KeyringVault::new();
    match vault.probe() {
        Ok(()) => Some(Arc::new(vault)),
        Err(e) if std::env::var("UNIPOS_REQUIRE_KEYCHAIN").as_deref() == Ok("1") => {
            panic!(
                "UNIPOS_REQUIRE_KEYCHAIN=1 but the keychain is unreachable: {e} ({:?})",
                e.details()
            )
        }
        Err(e) => {
            eprintln!("skipped: no keychain reachable ({e}); run inside scripts/with-keyring.sh");
            None
        }
    }
}

/// A vault operation, as [`FlakyVault`] records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultOp {
    Save,
    Clear,
}

/// A keychain that breaks half-way through a flow: it answers `check_ready` (so the flows go on
/// and ask the server) and then refuses one operation, `save` or `clear`, with
/// `keychain_unavailable`, as a keychain that locks or fails mid-flow does. Everything else
/// behaves like [`MemoryVault`].
///
/// It remembers every session it was asked to save, counts the clears, and, when given the
/// server's API ([`FlakyVault::watching`]), asks `GET /me` at the moment of each save and clear
/// whether the session concerned is live on the server then.
pub struct FlakyVault {
    refuses: VaultOp,
    kept: MemoryVault,
    saves: Mutex<Vec<StoredSession>>,
    clears: Mutex<usize>,
    server: Option<ApiClient>,
    /// Per save and clear: `"live"`, or the code `GET /me` answered with that session.
    liveness: Mutex<Vec<(VaultOp, &'static str)>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl FlakyVault {
    pub fn refusing(op: VaultOp) -> FlakyVault {
        FlakyVault {
            refuses: op,
            kept: MemoryVault::new(),
            saves: Mutex::new(Vec::new()),
            clears: Mutex::new(0),
            server: None,
            liveness: Mutex::new(Vec::new()),
        }
    }

    /// Also asks `api` (`GET /me`) at each save and clear whether the session is live then.
    /// The vault is called on a blocking thread of the test's runtime (as [`Flows`] does), so
    /// the test must use a multi-thread runtime.
    pub fn watching(mut self, api: ApiClient) -> FlakyVault {
        self.server = Some(api);
        self
    }

    /// Every session the flows asked to save, in order.
    pub fn saves(&self) -> Vec<StoredSession> {
        locked(&self.saves).clone()
    }

    pub fn clears(&self) -> usize {
        *locked(&self.clears)
    }

    pub fn liveness(&self) -> Vec<(VaultOp, &'static str)> {
        locked(&self.liveness).clone()
    }

    fn refusal(&self, op: VaultOp) -> Result<(), ClientError> {
        if self.refuses == op {
            return Err(ClientError::KeychainUnavailable {
                message: format!("The keychain refused the {op:?} (test vault)."),
                cause: "FlakyVault".to_owned(),
            });
        }
        Ok(())
    }

    fn note_liveness(&self, op: VaultOp, token: &str) {
        let Some(api) = &self.server else { return };
        let answer = tokio::runtime::Handle::current().block_on(api.me(token));
        let seen = match answer {
            Ok(_) => "live",
            Err(e) => e.code(),
        };
        locked(&self.liveness).push((op, seen));
    }
}

impl SessionVault for FlakyVault {
    fn load(&self, account: &str) -> Result<Option<StoredSession>, ClientError> {
        self.kept.load(account)
    }

    fn save(&self, account: &str, session: &StoredSession) -> Result<(), ClientError> {
        locked(&self.saves).push(session.clone());
        self.note_liveness(VaultOp::Save, &session.token);
        self.refusal(VaultOp::Save)?;
        self.kept.save(account, session)
    }

    fn clear(&self, account: &str) -> Result<(), ClientError> {
        *locked(&self.clears) += 1;
        if let Some(session) = self.kept.load(account)? {
            self.note_liveness(VaultOp::Clear, &session.token);
        }
        self.refusal(VaultOp::Clear)?;
        self.kept.clear(account)
    }

    // `check_ready` is the trait's default (a load), which succeeds: the flows go ahead.
}
