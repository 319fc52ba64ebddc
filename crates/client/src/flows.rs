//! The app's flows, shared by the Tauri commands and the `unipos` CLI.
//!
//! Each flow checks what the protocol crate can check locally before anything is sent (an
//! address that breaks the email rules is never sent; a link that breaks the link rules is never
//! opened), keeps the session token in the [`SessionVault`] and the reset token inside
//! [`PendingReset`]: neither ever appears in a result, an error or a `Debug` line.

use std::sync::Arc;

use serde::Serialize;
use unipos_protocol::binding::{base64url, code_challenge};
use unipos_protocol::{
    AddMemberRequest, AdminMember, AdminMembers, AdminPasswordReset, AppLink, Email, ErrorCode,
    Language, LinkError, LinkRules, LoginIdAccount, LoginRequest, PasswordPolicy,
    PasswordPolicyResponse, ResetToken, SessionResponse, Timeline, User,
};

use crate::api::AccountSheet;
use crate::vault::{KeyringVault, PendingRevokes, ResetBinding, SessionVault, StoredSession};
use crate::{ApiClient, ClientConfig, ClientError, Reply};

/// A reset link that passed the link rules. Holds the reset token, which only the API gets to
/// see; everyone else gets [`PendingReset::token_hint`].
#[derive(Clone, PartialEq, Eq)]
pub struct PendingReset {
    token: ResetToken,
}

impl PendingReset {
    /// The token's first characters, safe to show and log (`AbCdEf…`).
    pub fn token_hint(&self) -> String {
        self.token.redacted()
    }
}

impl std::fmt::Debug for PendingReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PendingReset({})", self.token_hint())
    }
}

/// Where an accepted link leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenedLink {
    /// The Reset screen ("Set password and login").
    Reset(PendingReset),
    /// The Forgot screen (the Timeline when logged in).
    Forgot,
    /// Log in (the Timeline when logged in).
    Login,
}

/// Applies the protocol's link rules for `rules`' web base. Local only.
pub fn open_link(rules: &LinkRules, url: &str) -> Result<OpenedLink, ClientError> {
    match rules.parse(url)? {
        AppLink::Reset(link) => Ok(OpenedLink::Reset(PendingReset { token: link.token })),
        AppLink::Forgot => Ok(OpenedLink::Forgot),
        AppLink::Login => Ok(OpenedLink::Login),
    }
}

/// `POST /password/forgot` went through: the same answer for every well-formed address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ResetRequested {
    pub status: u16,
    pub request_id: String,
    /// The address, redacted (`t***@example.com`).
    pub email_hint: String,
    /// Seconds before "Send again" is offered.
    pub resend_after_s: u32,
    /// The language the reset mail is written in (the one this request asked for).
    pub mail_language: Language,
    /// The subject of that mail, as the member will find it in their inbox.
    pub mail_subject: String,
}

/// What the Reset screen shows before the member types a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LinkChecked {
    pub status: u16,
    pub request_id: String,
    /// Whose link, for an email member: `t***@example.com`.
    pub email_hint: Option<String>,
    /// Whose link, for a Login ID member (an Account Information sheet's QR code): the team and
    /// a hint of the Login ID.
    pub login_id: Option<LoginIdAccount>,
    /// RFC 3339, UTC.
    pub expires_at: String,
    /// The organisation's rules, for the checklist ([`PasswordPolicy::checklist`]).
    pub policy: PasswordPolicy,
    /// The same rules as a new-password field's `passwordrules` attribute
    /// ([`PasswordPolicy::passwordrules`]), for password managers.
    pub passwordrules: String,
    /// The reset token redacted to a short prefix.
    pub token_hint: String,
    /// Whether this device asked for this link: it holds a request made within the last day,
    /// for the address the link is for. When not (a link for another address, a Login ID
    /// member's sheet, a link someone sent), Reset first asks the member to confirm whose account
    /// it is: a link sent by someone else would log them into someone else's account.
    pub asked_here: bool,
}

/// A new session, stored in the vault. The token itself is not part of the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LoggedIn {
    pub status: u16,
    pub request_id: String,
    pub user: User,
    /// When the session ends (RFC 3339, UTC).
    pub expires_at: String,
}

/// The local session is gone; whether the server revoked it too.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LoggedOut {
    /// `true` when `DELETE /sessions/current` answered 204.
    pub remote_revoked: bool,
    /// The server could not be told (no network, no answer): the revocation is kept in the
    /// keychain and sent again at the next start, so the session does not live on there.
    pub revoke_pending: bool,
    pub status: Option<u16>,
    pub request_id: Option<String>,
    /// Why the remote revocation failed (offline, session already expired, …); the local
    /// session was cleared all the same.
    pub remote_error: Option<ClientError>,
}

/// `PUT /me/password` went through: every other session was revoked, and this device's was
/// renewed (the keychain holds the new one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PasswordChanged {
    pub status: u16,
    pub request_id: String,
}

/// The flows over one API client and one vault.
#[derive(Clone)]
pub struct Flows {
    api: ApiClient,
    vault: Arc<dyn SessionVault>,
    rules: LinkRules,
}

impl std::fmt::Debug for Flows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flows")
            .field("api", &self.api)
            .field("web_base", &self.rules.web_base().as_str())
            .finish_non_exhaustive()
    }
}

impl Flows {
    pub fn new(config: ClientConfig, vault: Arc<dyn SessionVault>) -> Result<Flows, ClientError> {
        let rules = config.link_rules();
        Ok(Flows {
            api: ApiClient::new(config)?,
            vault,
            rules,
        })
    }

    /// Flows whose sessions live in the OS keychain.
    pub fn with_keychain(config: ClientConfig) -> Result<Flows, ClientError> {
        Flows::new(config, Arc::new(KeyringVault::new()))
    }

    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// Mails these flows cause (reset, password changed) come in `language`
    /// (see [`ApiClient::with_language`]).
    pub fn with_language(mut self, language: Language) -> Flows {
        self.api = self.api.with_language(language);
        self
    }

    /// Records the calls in `calls` (see [`ApiClient::with_call_log`]).
    pub fn with_call_log(mut self, calls: crate::support::CallLog) -> Flows {
        self.api = self.api.with_call_log(calls);
        self
    }

    pub fn config(&self) -> &ClientConfig {
        self.api.config()
    }

    pub fn link_rules(&self) -> &LinkRules {
        &self.rules
    }

    /// "Forgot password" → **Send**. The address is checked with the protocol's rules first; an
    /// address they refuse is never sent (the error carries the one-tap fix, if there is one).
    pub async fn request_reset(&self, email: &str) -> Result<ResetRequested, ClientError> {
        let email = Email::parse(email)?;
        let challenge = self.bind_request(&email).await;
        let reply = self.api.forgot(&email, challenge.as_deref()).await?;
        Ok(ResetRequested {
            status: reply.status,
            request_id: reply.request_id,
            email_hint: email.hint(),
            resend_after_s: reply.value.resend_after_s,
            mail_language: self.api.language(),
            mail_subject: self.api.language().reset_mail_subject().to_owned(),
        })
    }

    /// Applies the link rules (local only, nothing is sent).
    pub fn open_link(&self, url: &str) -> Result<OpenedLink, ClientError> {
        open_link(&self.rules, url)
    }

    /// Asks the server whether the link still works; does not use the token up.
    pub async fn check_reset(&self, pending: &PendingReset) -> Result<LinkChecked, ClientError> {
        let binding = self.pending_binding().await;
        let verifier = binding.as_ref().map(|b| b.verifier.as_str());
        let reply = self.api.reset_check(&pending.token, verifier).await?;
        let asked_here = binding
            .is_some_and(|b| reply.value.email_hint.as_deref() == Some(b.email_hint.as_str()));
        Ok(LinkChecked {
            asked_here,
            status: reply.status,
            request_id: reply.request_id,
            email_hint: reply.value.email_hint,
            login_id: reply.value.login_id,
            expires_at: reply.value.expires_at,
            passwordrules: reply.value.policy.passwordrules(),
            policy: reply.value.policy,
            token_hint: pending.token_hint(),
        })
    }

    /// A pasted or opened link: the link rules, then the server's check. A link to the Forgot
    /// screen has no token to check and is refused here as `link_path`.
    pub async fn check_link(&self, url: &str) -> Result<(PendingReset, LinkChecked), ClientError> {
        let pending = self.reset_link(url)?;
        let checked = self.check_reset(&pending).await?;
        Ok((pending, checked))
    }

    /// The pending reset of a reset link (local only).
    pub fn reset_link(&self, url: &str) -> Result<PendingReset, ClientError> {
        match self.open_link(url)? {
            OpenedLink::Reset(pending) => Ok(pending),
            OpenedLink::Forgot | OpenedLink::Login => Err(ClientError::Link(LinkError::Path)),
        }
    }

    /// **"Set password and login"**: sets the new password with the link's token and stores the
    /// new session. The keychain is checked first, so a machine without one fails before the
    /// token is used up.
    pub async fn set_password_and_login(
        &self,
        pending: &PendingReset,
        new_password: &str,
        new_password_confirmation: &str,
    ) -> Result<LoggedIn, ClientError> {
        self.vault_check_ready().await?;
        let binding = self.pending_binding().await;
        let verifier = binding.as_ref().map(|b| b.verifier.as_str());
        let reply = self
            .api
            .reset(
                &pending.token,
                new_password,
                new_password_confirmation,
                verifier,
            )
            .await?;
        let done = self.keep_session(reply).await?;
        // Used: the next request starts a binding of its own.
        if binding.is_some() {
            let _ = self
                .vault_call(|vault, account| vault.clear_binding(&account))
                .await;
        }
        Ok(done)
    }

    /// Log in with an email address (checked with the protocol's rules first) and password.
    pub async fn login_with_email(
        &self,
        email: &str,
        password: &str,
    ) -> Result<LoggedIn, ClientError> {
        let email = Email::parse(email)?;
        self.login(LoginRequest::Email {
            email: email.as_str().to_owned(),
            password: password.to_owned(),
        })
        .await
    }

    /// Log in with team + Login ID and password (members without an email address).
    pub async fn login_with_login_id(
        &self,
        team: &str,
        login_id: &str,
        password: &str,
    ) -> Result<LoggedIn, ClientError> {
        self.login(LoginRequest::LoginId {
            team: team.to_owned(),
            login_id: login_id.to_owned(),
            password: password.to_owned(),
        })
        .await
    }

    async fn login(&self, request: LoginRequest) -> Result<LoggedIn, ClientError> {
        self.vault_check_ready().await?;
        let reply = self.api.login(&request).await?;
        self.keep_session(reply).await
    }

    /// Stores a new session; if the keychain refuses it, revokes the session on the server
    /// (it would otherwise live on, unreachable) and reports the keychain error.
    async fn keep_session(&self, reply: Reply<SessionResponse>) -> Result<LoggedIn, ClientError> {
        let session = reply.value.session;
        let stored = StoredSession {
            token: session.token,
            expires_at: session.expires_at,
        };
        if let Err(e) = self.vault_save(stored.clone()).await {
            let _ = self.api.logout(&stored.token).await;
            return Err(e);
        }
        Ok(LoggedIn {
            status: reply.status,
            request_id: reply.request_id,
            user: reply.value.user,
            expires_at: stored.expires_at,
        })
    }

    /// Whether a session is stored for this API (local only; the server may have ended it).
    pub async fn has_session(&self) -> Result<bool, ClientError> {
        Ok(self.vault_load().await?.is_some())
    }

    /// Log out: revokes the session on the server, and clears it locally whatever the server
    /// said, offline included.
    pub async fn logout(&self) -> Result<LoggedOut, ClientError> {
        let session = self.vault_load().await?.ok_or(ClientError::NotLoggedIn)?;
        // Local first: whatever the network does (or if the app is closed meanwhile), the
        // session is gone from this device.
        let cleared = self.vault_clear().await;
        let remote = self.api.logout(&session.token).await;
        cleared?;
        Ok(match remote {
            Ok(reply) => LoggedOut {
                remote_revoked: true,
                revoke_pending: false,
                status: Some(reply.status),
                request_id: Some(reply.request_id),
                remote_error: None,
            },
            Err(e) => {
                // Not revoked and not refused: the server may still honour the token for weeks.
                let revoke_pending =
                    revocation_may_succeed_later(&e) && self.keep_revoke(session.token).await;
                LoggedOut {
                    remote_revoked: false,
                    revoke_pending,
                    status: e.status(),
                    request_id: e.request_id().map(str::to_owned),
                    remote_error: Some(e),
                }
            }
        })
    }

    /// Keeps a token whose revocation could not be sent; whether it was kept.
    async fn keep_revoke(&self, token: String) -> bool {
        self.vault_call(move |vault, account| {
            let mut pending = vault.pending_revokes(&account)?;
            pending.tokens.push(token);
            // A device logs out rarely: a handful is plenty, the oldest go first.
            let excess = pending.tokens.len().saturating_sub(MAX_PENDING_REVOKES);
            pending.tokens.drain(..excess);
            vault.set_pending_revokes(&account, &pending)
        })
        .await
        .is_ok()
    }

    /// Sends the revocations a logout could not (at the app's start): answers how many the
    /// server took. A token the server no longer knows is done with too; one it could not be
    /// told of again stays for next time. The tokens go to the API only, never elsewhere.
    pub async fn revoke_pending(&self) -> Result<usize, ClientError> {
        let pending = self
            .vault_call(|vault, account| vault.pending_revokes(&account))
            .await?;
        if pending.tokens.is_empty() {
            return Ok(0);
        }
        let mut left = PendingRevokes::default();
        let mut revoked = 0;
        for token in pending.tokens {
            match self.api.logout(&token).await {
                Ok(_) => revoked += 1,
                Err(e) if revocation_may_succeed_later(&e) => left.tokens.push(token),
                // Expired, or ended by an admin's reset: nothing left to revoke.
                Err(_) => {}
            }
        }
        self.vault_call(move |vault, account| vault.set_pending_revokes(&account, &left))
            .await?;
        Ok(revoked)
    }

    /// Settings > Account > **Save**. The server ends every session of the member, this one
    /// included, and answers a new one, which replaces the old one in the keychain at once.
    pub async fn change_password(
        &self,
        current_password: &str,
        new_password: &str,
        new_password_confirmation: &str,
    ) -> Result<PasswordChanged, ClientError> {
        let token = self.session_token().await?;
        let reply = self
            .api
            .change_password(
                &token,
                current_password,
                new_password,
                new_password_confirmation,
            )
            .await;
        let reply = self.forget_if_expired(reply).await?;
        let renewed = self.keep_session(reply).await?;
        Ok(PasswordChanged {
            status: renewed.status,
            request_id: renewed.request_id,
        })
    }

    /// `GET /me` with the stored session.
    pub async fn me(&self) -> Result<Reply<User>, ClientError> {
        let token = self.session_token().await?;
        let reply = self.api.me(&token).await;
        self.forget_if_expired(reply).await
    }

    /// `GET /me/password_policy` with the stored session: the rules of the member's
    /// organisation, for the checklist of Settings > Account.
    pub async fn password_policy(&self) -> Result<Reply<PasswordPolicyResponse>, ClientError> {
        let token = self.session_token().await?;
        let reply = self.api.password_policy(&token).await;
        self.forget_if_expired(reply).await
    }

    /// `GET /timeline` with the stored session.
    pub async fn timeline(&self) -> Result<Reply<Timeline>, ClientError> {
        let token = self.session_token().await?;
        let reply = self.api.timeline(&token).await;
        self.forget_if_expired(reply).await
    }

    /// Team Admin: the members of the admin's team matching `query` (all when empty).
    pub async fn admin_members(&self, query: &str) -> Result<Reply<AdminMembers>, ClientError> {
        let token = self.session_token().await?;
        let reply = self.api.admin_members(&token, query).await;
        self.forget_if_expired(reply).await
    }

    /// Team Admin: adds a Login ID member, who has no password until they use their sheet.
    pub async fn admin_add_member(
        &self,
        member: &AddMemberRequest,
    ) -> Result<Reply<AdminMember>, ClientError> {
        let token = self.session_token().await?;
        let reply = self.api.admin_add_member(&token, member).await;
        self.forget_if_expired(reply).await
    }

    /// Team Admin > Reset Password > Reset.
    pub async fn admin_reset_password(
        &self,
        member_id: &str,
    ) -> Result<Reply<AdminPasswordReset>, ClientError> {
        let token = self.session_token().await?;
        let reply = self.api.admin_reset_password(&token, member_id).await;
        self.forget_if_expired(reply).await
    }

    /// Team Admin: a Login ID member's Account Information sheet (`lang`: `en` or `ja`).
    pub async fn admin_account_sheet(
        &self,
        member_id: &str,
        lang: &str,
    ) -> Result<Reply<AccountSheet>, ClientError> {
        let token = self.session_token().await?;
        let reply = self.api.admin_account_sheet(&token, member_id, lang).await;
        self.forget_if_expired(reply).await
    }

    async fn session_token(&self) -> Result<String, ClientError> {
        Ok(self
            .vault_load()
            .await?
            .ok_or(ClientError::NotLoggedIn)?
            .token)
    }

    /// A session the server ended (expired, or logged out by an admin's reset of the password)
    /// is useless: drop it so the app shows Log in.
    async fn forget_if_expired<T>(&self, result: Result<T, ClientError>) -> Result<T, ClientError> {
        if let Err(ClientError::Api {
            code: ErrorCode::SessionExpired | ErrorCode::PasswordResetByAdmin,
            ..
        }) = &result
        {
            let _ = self.vault_clear().await;
        }
        result
    }

    fn account(&self) -> String {
        self.api.config().api_base.as_str().to_owned()
    }

    /// The challenge of this device's binding for a request about `email`: the verifier of a
    /// request made within the last day (every link asked for meanwhile works with it), else a
    /// new one, kept in the keychain first. `None` when the keychain cannot keep it: the
    /// request then goes out unbound, as one from a browser would.
    async fn bind_request(&self, email: &Email) -> Option<String> {
        let verifier = match self.pending_binding().await {
            Some(binding) => binding.verifier,
            None => new_verifier()?,
        };
        let binding = ResetBinding {
            verifier,
            email_hint: email.hint(),
            asked_at: crate::support::now()
                .format(&time::format_description::well_known::Rfc3339)
                .ok()?,
        };
        let challenge = code_challenge(&binding.verifier);
        let saved = self
            .vault_call(move |vault, account| vault.save_binding(&account, &binding))
            .await;
        saved.ok().map(|()| challenge)
    }

    /// This device's binding, if it made a request within the last day.
    async fn pending_binding(&self) -> Option<ResetBinding> {
        let binding = self
            .vault_call(|vault, account| vault.load_binding(&account))
            .await
            .ok()??;
        let asked = time::OffsetDateTime::parse(
            &binding.asked_at,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?;
        (crate::support::now() - asked < BINDING_LIFETIME).then_some(binding)
    }

    async fn vault_call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SessionVault, String) -> Result<T, ClientError> + Send + 'static,
    ) -> Result<T, ClientError> {
        let (vault, account) = (self.vault.clone(), self.account());
        blocking(move || f(vault.as_ref(), account)).await
    }

    async fn vault_load(&self) -> Result<Option<StoredSession>, ClientError> {
        let (vault, account) = (self.vault.clone(), self.account());
        blocking(move || vault.load(&account)).await
    }

    async fn vault_check_ready(&self) -> Result<(), ClientError> {
        let (vault, account) = (self.vault.clone(), self.account());
        blocking(move || vault.check_ready(&account)).await
    }

    async fn vault_save(&self, session: StoredSession) -> Result<(), ClientError> {
        let (vault, account) = (self.vault.clone(), self.account());
        blocking(move || vault.save(&account, &session)).await
    }

    async fn vault_clear(&self) -> Result<(), ClientError> {
        let (vault, account) = (self.vault.clone(), self.account());
        blocking(move || vault.clear(&account)).await
    }
}

/// How long a request's binding is reused by the next request, and counts as pending: longer
/// than any reset link works.
const BINDING_LIFETIME: time::Duration = time::Duration::days(1);
/// Revocations kept for a later start at most.
const MAX_PENDING_REVOKES: usize = 8;

/// Whether a failed revocation is worth sending again: no answer came (offline, refused, timed
/// out, TLS), or the server failed or was busy; not when it answered that the session is over.
fn revocation_may_succeed_later(e: &ClientError) -> bool {
    match e.status() {
        None => !matches!(e, ClientError::NotLoggedIn),
        Some(status) => status >= 500 || status == 429,
    }
}

/// 32 random bytes from the OS, as URL-safe base64: a binding's verifier.
fn new_verifier() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(base64url(&bytes))
}

/// Keychain calls block (D-Bus round trips, OS prompts): keep them off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ClientError> + Send + 'static,
) -> Result<T, ClientError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(ClientError::KeychainUnavailable {
            message: "The keychain call failed unexpectedly. Try again.".to_owned(),
            cause: e.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryVault;
    use unipos_testsupport::HeldPort;

    /// Flows whose API is a port held closed: a request that slips out is refused, loudly.
    fn flows(vault: MemoryVault) -> (Flows, HeldPort) {
        let port = HeldPort::new();
        let config = ClientConfig::with_bases(&port.base(), "https://unipos.me").unwrap();
        (Flows::new(config, Arc::new(vault)).unwrap(), port)
    }

    #[tokio::test]
    async fn an_address_the_rules_refuse_is_never_sent() {
        let (f, _port) = flows(MemoryVault::new());
        let err = f
            .request_reset("taro@example.com\u{3000}")
            .await
            .unwrap_err();
        // A refused connection would say connection_refused: nothing went out.
        assert_eq!(err.code(), "email_trailing_whitespace");
        assert_eq!(
            err.details().unwrap()["fix"],
            serde_json::json!("taro@example.com")
        );
    }

    #[tokio::test]
    async fn a_link_the_rules_refuse_is_never_checked() {
        let (f, _port) = flows(MemoryVault::new());
        let token = "a".repeat(43);
        let err = f
            .check_link(&format!(
                "https://unipos.me.evil.example/reset_password?token={token}"
            ))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "link_host");
        let err = f.check_link("unipos://forgot_password").await.unwrap_err();
        assert_eq!(err.code(), "link_path");
    }

    #[test]
    fn a_pending_reset_shows_only_a_prefix_of_its_token() {
        let (f, _port) = flows(MemoryVault::new());
        let token = format!("AbCdEf{}", "S".repeat(40));
        let pending = f
            .reset_link(&format!("https://unipos.me/reset_password?token={token}"))
            .unwrap();
        assert_eq!(pending.token_hint(), "AbCdEf…");
        assert!(!format!("{pending:?}").contains("SSSS"));
        assert_eq!(
            f.open_link("unipos://forgot_password").unwrap(),
            OpenedLink::Forgot
        );
        assert_eq!(f.open_link("unipos://login").unwrap(), OpenedLink::Login);
    }

    #[tokio::test]
    async fn without_a_session_the_authenticated_flows_say_not_logged_in() {
        let (f, _port) = flows(MemoryVault::new());
        assert_eq!(f.me().await.unwrap_err().code(), "not_logged_in");
        assert_eq!(f.timeline().await.unwrap_err().code(), "not_logged_in");
        assert_eq!(f.logout().await.unwrap_err().code(), "not_logged_in");
        assert_eq!(
            f.change_password("a", "b", "b").await.unwrap_err().code(),
            "not_logged_in"
        );
        assert!(!f.has_session().await.unwrap());
    }

    #[tokio::test]
    async fn without_a_keychain_login_fails_before_anything_is_sent() {
        let (f, _port) = flows(MemoryVault::unavailable());
        let err = f
            .login_with_email("taro@example.com", "pw")
            .await
            .unwrap_err();
        assert_eq!(err.code(), "keychain_unavailable");
        let err = f
            .login_with_login_id("acme", "t001", "pw")
            .await
            .unwrap_err();
        assert_eq!(err.code(), "keychain_unavailable");
    }

    #[tokio::test]
    async fn logout_clears_the_local_session_even_when_the_server_is_unreachable() {
        let vault = Arc::new(MemoryVault::new());
        let port = HeldPort::new();
        let config = ClientConfig::with_bases(&port.base(), "https://unipos.me").unwrap();
        vault
            .save(
                config.api_base.as_str(),
                &StoredSession {
                    token: "tok".into(),
                    expires_at: "2030-01-01T00:00:00Z".into(),
                },
            )
            .unwrap();
        let f = Flows::new(config, vault.clone()).unwrap();
        let out = f.logout().await.unwrap();
        assert!(!out.remote_revoked);
        assert_eq!(
            out.remote_error.as_ref().map(|e| e.code()),
            Some("connection_refused")
        );
        assert!(!f.has_session().await.unwrap());
    }
}
