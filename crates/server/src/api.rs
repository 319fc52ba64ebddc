//! The endpoints of the API contract, under `/api/v1`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use unipos_protocol::binding::check_binding_value;
use unipos_protocol::{
    login_id_hint, normalize_password, ChangePasswordRequest, Email, ErrorCode, ErrorEnvelope,
    ForgotAccepted, ForgotRequest, Language, LoginIdAccount, LoginMethod, LoginRequest,
    PasswordPolicyResponse, ResetCheckRequest, ResetCheckResponse, ResetRequest, SessionResponse,
    Timeline,
};
use utoipa::IntoResponses;

use crate::client_addr::ClientKey;
use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::extract::{AcceptLanguage, ApiJson, Auth};
use crate::request_log::{self, RequestId};
use crate::reset_tokens::{check_binding, token_state};
use crate::secrets::{self, token_hash};
use crate::sessions::NewSession;
use crate::state::AppState;
use crate::store::{self, Team, UserRow};

// The three types below only describe responses in the OpenAPI document; they are never built.

/// Refusals any endpoint with a JSON body may answer.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors {
    /// `bad_request`: the body is not JSON, or not the expected shape.
    #[response(status = 400)]
    BadRequest(ErrorEnvelope),
    /// `request_timeout`: the body did not arrive in time, or the answer took longer than the
    /// server allows.
    #[response(status = 408)]
    RequestTimeout(ErrorEnvelope),
    /// `payload_too_large`: the body is over 16 KiB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorEnvelope),
    /// `unsupported_media_type`: the body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorEnvelope),
}

/// `rate_limited`: too many requests; `retry_after_s` and `Retry-After` say when to try again.
#[derive(IntoResponses)]
#[response(
    status = 429,
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
#[allow(dead_code)]
pub struct RateLimited(ErrorEnvelope);

/// `server_busy`: too many password checks at once; `retry_after_s` and `Retry-After` say when
/// to try again. Nothing was checked or changed.
#[derive(IntoResponses)]
#[response(
    status = 503,
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
#[allow(dead_code)]
pub struct ServerBusy(ErrorEnvelope);

/// `account_locked`: too many wrong passwords for the account; `retry_after_s` says for how long.
#[derive(IntoResponses)]
#[response(
    status = 423,
    headers(("Retry-After" = u64, description = "Seconds until the lock ends"))
)]
#[allow(dead_code)]
pub struct AccountLocked(ErrorEnvelope);

/// `request_timeout`: the answer took longer than the server allows (endpoints without a body).
#[derive(IntoResponses)]
#[response(status = 408)]
#[allow(dead_code)]
pub struct TimedOut(ErrorEnvelope);

/// `session_expired`: the bearer token is missing, unknown, expired or revoked;
/// `password_reset_by_admin`: the team's admin reset the member's password, which logged out
/// every session.
#[derive(IntoResponses)]
#[response(status = 401)]
#[allow(dead_code)]
pub struct Unauthenticated(ErrorEnvelope);

/// The new password and its confirmation against the organisation's policy and the member. The
/// two are compared in their normalized form: one typed full-width and one half-width match.
fn check_new_password(
    new: &str,
    confirmation: &str,
    team: &Team,
    user: &UserRow,
) -> Result<(), ApiError> {
    if normalize_password(new) != normalize_password(confirmation) {
        return Err(ApiError::new(ErrorCode::PasswordMismatch));
    }
    let failed = team.policy.check_for(new, &user.password_owner());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(ApiError::policy(&failed))
    }
}

/// The "password changed" mail to a member who has an address, queued in the transaction that
/// changes the password.
struct ChangedNotice(Option<(String, String, String)>, Language);

/// The notice is in the language of the request that changed the password.
fn changed_notice(user: &UserRow, request_id: RequestId, lang: Language) -> ChangedNotice {
    ChangedNotice(
        user.email
            .clone()
            .map(|to| (to, user.display_name.clone(), request_id.0)),
        lang,
    )
}

impl ChangedNotice {
    fn queue(&self, tx: &mut crate::sql::Conn<'_>, now: i64) -> crate::sql::DbResult<()> {
        match &self.0 {
            Some((to, name, request_id)) => store::queue_mail(
                tx,
                &store::NewMail {
                    kind: store::MailKind::PasswordChanged,
                    to,
                    display_name: Some(name),
                    request_id: Some(request_id),
                    code_challenge: None,
                    lang: self.1,
                },
                now,
            ),
            None => Ok(()),
        }
    }
}

/// Ask for a reset email ("Send").
///
/// Answers the same status and the same bytes for every well-formed address — registered,
/// unknown, SSO, Login-ID or undeliverable — and sends the mail later, off the request path.
#[utoipa::path(
    post,
    path = "/password/forgot",
    tag = "password",
    request_body = ForgotRequest,
    responses(
        (status = 202, description = "Accepted; a mail follows if the address belongs to a member who signs in by email", body = ForgotAccepted),
        (status = 422, description = "`email_*`: the address breaks the format rules; `details.fix` offers the corrected address, `details.chars` the characters at fault", body = ErrorEnvelope),
        RateLimited,
        BodyErrors,
    )
)]
pub async fn forgot(
    State(state): State<AppState>,
    client: ClientKey,
    request_id: RequestId,
    accept_language: AcceptLanguage,
    ApiJson(req): ApiJson<ForgotRequest>,
) -> Result<(StatusCode, Json<ForgotAccepted>), ApiError> {
    state.limit_client(&client).await?;
    let email = Email::parse(&req.email).map_err(|e| ApiError::email(&e))?;
    request_log::note_email_hint(&email);
    // Keyed on the address whether or not it belongs to anyone, so a 429 tells nothing either.
    if let Some(challenge) = &req.code_challenge {
        check_binding_value(challenge).map_err(|code| {
            ApiError::with_message(code, "code_challenge is 43 characters of URL-safe base64.")
        })?;
    }
    state
        .limit(&state.forgot_limiter, email.normalized())
        .await?;
    state
        .queue_reset_request(
            &email,
            &request_id.0,
            req.code_challenge,
            accept_language.or(req.lang),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ForgotAccepted {
            status: "accepted".to_owned(),
            resend_after_s: u32::try_from(state.config.forgot_interval.as_secs())
                .unwrap_or(u32::MAX),
        }),
    ))
}

/// Check a reset link before showing the "new password" form. Never uses the token up.
#[utoipa::path(
    post,
    path = "/password/reset/check",
    tag = "password",
    request_body = ResetCheckRequest,
    responses(
        (status = 200, description = "The link works", body = ResetCheckResponse),
        (status = 403, description = "`reset_link_other_device`: the link is bound to the app that asked for it (`code_challenge`), and `code_verifier` is missing or another", body = ErrorEnvelope),
        (status = 404, description = "`token_invalid`", body = ErrorEnvelope),
        (status = 410, description = "`token_expired`, `token_used` or `token_superseded`; a Login ID member's link has `details.account = \"login_id\"` (their way on is a new Account Information sheet from their admin)", body = ErrorEnvelope),
        RateLimited,
        BodyErrors,
    )
)]
pub async fn reset_check(
    State(state): State<AppState>,
    client: ClientKey,
    ApiJson(req): ApiJson<ResetCheckRequest>,
) -> Result<Json<ResetCheckResponse>, ApiError> {
    state.limit_client(&client).await?;
    let (row, user, team) = state.usable_token(&req.token).await?;
    check_binding(&row, req.code_verifier.as_deref())?;
    // A Login ID member has no address: the link names the team and hints at the Login ID.
    let login_id = match (user.login_method, &user.login_id) {
        (LoginMethod::LoginId, Some(id)) => Some(LoginIdAccount {
            team: team.slug.clone(),
            team_name: team.name.clone(),
            login_id_hint: login_id_hint(id),
        }),
        _ => None,
    };
    let email_hint = match login_id {
        Some(_) => None,
        None => user
            .email
            .as_deref()
            .and_then(|e| Email::parse(e).ok())
            .map(|e| e.hint()),
    };
    if let Some(hint) = &email_hint {
        request_log::note_hint(hint);
    }
    Ok(Json(ResetCheckResponse {
        email_hint,
        login_id,
        expires_at: rfc3339(row.expires_at),
        policy: team.policy,
    }))
}

/// "Set password and login": set the new password with the token, and get a session.
///
/// Every session the member had is revoked, and a "password changed" mail is sent.
#[utoipa::path(
    post,
    path = "/password/reset",
    tag = "password",
    request_body = ResetRequest,
    responses(
        (status = 200, description = "Password set; logged in", body = SessionResponse),
        (status = 403, description = "`sso_managed`: the member's password is managed by SSO; `reset_link_other_device`: the link is bound to the app that asked for it and `code_verifier` is missing or another (the link is not used up)", body = ErrorEnvelope),
        (status = 404, description = "`token_invalid`", body = ErrorEnvelope),
        (status = 410, description = "`token_expired`, `token_used` or `token_superseded`; a Login ID member's link has `details.account = \"login_id\"` (their way on is a new Account Information sheet from their admin)", body = ErrorEnvelope),
        (status = 422, description = "`password_mismatch`, or `password_policy` with `details.failed` (`common_password` among the rules: a common or breached password, or one built from the member's own address or name)", body = ErrorEnvelope),
        RateLimited,
        ServerBusy,
        BodyErrors,
    )
)]
pub async fn reset(
    State(state): State<AppState>,
    client: ClientKey,
    request_id: RequestId,
    accept_language: AcceptLanguage,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    state.limit_client(&client).await?;
    let done = set_password_by_link(
        &state,
        NewPasswordByLink {
            token: req.token,
            code_verifier: req.code_verifier,
            new_password: req.new_password,
            new_password_confirmation: req.new_password_confirmation,
            lang: accept_language.or(req.lang),
        },
        request_id,
        AfterReset::LogIn,
    )
    .await?;
    let session = done.session.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("a reset that logs in made no session"))
    })?;
    Ok(Json(session.into_response(&done.user)))
}

/// What "Set password and login" sends, from the app (`POST /password/reset`) or from the reset
/// page's form.
pub(crate) struct NewPasswordByLink {
    pub token: String,
    pub code_verifier: Option<String>,
    pub new_password: String,
    pub new_password_confirmation: String,
    /// The language of the "password changed" notice.
    pub lang: Language,
}

/// Whether a reset also logs the member in: the app gets a session; the reset page, which has
/// no web app behind it, gets none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterReset {
    LogIn,
    NoSession,
}

/// The member whose password a link set, and their new session when one was asked for.
pub(crate) struct PasswordSetByLink {
    pub user: UserRow,
    pub session: Option<NewSession>,
}

/// Sets a password with a reset link: the one path for the app and the reset page. The link
/// must be usable and, when bound to the app that asked for it, come with that app's verifier;
/// the password must match its confirmation and the policy. Then, in one transaction: the link
/// is used up, the password set, every session revoked, the lock lifted and the "password
/// changed" mail queued.
pub(crate) async fn set_password_by_link(
    state: &AppState,
    req: NewPasswordByLink,
    request_id: RequestId,
    after: AfterReset,
) -> Result<PasswordSetByLink, ApiError> {
    let (row, user, team) = state.usable_token(&req.token).await?;
    check_binding(&row, req.code_verifier.as_deref())?;
    if let Some(email) = user.email.as_deref().and_then(|e| Email::parse(e).ok()) {
        request_log::note_email_hint(&email);
    }
    check_new_password(
        &req.new_password,
        &req.new_password_confirmation,
        &team,
        &user,
    )?;
    if user.login_method == LoginMethod::Sso {
        return Err(ApiError::new(ErrorCode::SsoManaged));
    }
    let password = req.new_password;
    let phc = state
        .hasher
        .run(move || secrets::hash_password(&password))
        .await??;
    let now = state.clock.now_ms();
    let session = match after {
        AfterReset::LogIn => Some(state.new_session(now)),
        AfterReset::NoSession => None,
    };
    let new_session = session.as_ref().map(|s| (s.hash.clone(), s.expires_at));
    let user_id = user.id.clone();
    let login_key = user.login_key();
    let login_method = user.login_method;
    let notice = changed_notice(&user, request_id, req.lang);
    let token = req.token;
    state
        .db
        .call(move |c| {
            let mut tx = c.immediate(&format!("user:{user_id}"))?;
            if !store::use_reset_token(&mut tx, row.id, now)? {
                // Another request used (or a newer mail superseded) the token meanwhile.
                let current = store::reset_token(&mut tx, &token_hash(&token))?;
                return Err(match current {
                    Some(current) => token_state(&current, now)
                        .err()
                        .unwrap_or_else(|| ApiError::new(ErrorCode::TokenUsed))
                        .for_account_of(login_method),
                    None => ApiError::new(ErrorCode::TokenInvalid),
                });
            }
            store::set_password(&mut tx, &user_id, &phc, now)?;
            store::revoke_sessions_of(&mut tx, &user_id, None, now, store::Revoked::PasswordReset)?;
            if let Some(key) = &login_key {
                store::clear_login_failures(&mut tx, key)?;
            }
            if let Some((hash, expires)) = &new_session {
                store::insert_session(&mut tx, &user_id, hash, now, *expires)?;
            }
            notice.queue(&mut tx, now)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    state.mail_due.notify_one();
    let via = match after {
        AfterReset::LogIn => "app",
        AfterReset::NoSession => "reset page",
    };
    tracing::info!(user = user.id, via, "password reset");
    Ok(PasswordSetByLink { user, session })
}

enum LoginLookup {
    /// The normalized address, and its domain.
    Email(String, String),
    LoginId(String, String),
}

/// Log in with email address and password, or with team, Login ID and password.
///
/// An address in an organisation's SSO domain is answered `sso_required`, whether or not it
/// belongs to a member; any other wrong login is `invalid_credentials`, whoever the address or
/// Login ID belongs to (an SSO member's outside those domains included). Every attempt is
/// counted per email address (or team + Login ID) whether or not it belongs to a member,
/// together with wrong current passwords given to `PUT /me/password`; 10 failures within 15
/// minutes lock it for 15 minutes. Each attempt is counted before its password is checked, so
/// parallel guesses never get more than 10 checks. Passwords are compared in their NFKC form.
#[utoipa::path(
    post,
    path = "/sessions",
    tag = "sessions",
    request_body = LoginRequest,
    responses(
        (status = 201, description = "Logged in", body = SessionResponse),
        (status = 401, description = "`invalid_credentials`: unknown account or wrong password; `password_reset_by_admin`: the password given is the one the team's admin reset (only its owner learns this: any other password is `invalid_credentials`)", body = ErrorEnvelope),
        (status = 403, description = "`sso_required`: the address is in an organisation's SSO domain (whether or not it belongs to a member); counted toward the lock like a failure", body = ErrorEnvelope),
        (status = 422, description = "`email_*`: the address breaks the format rules", body = ErrorEnvelope),
        AccountLocked,
        RateLimited,
        ServerBusy,
        BodyErrors,
    )
)]
pub async fn login(
    State(state): State<AppState>,
    client: ClientKey,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    state.limit_client(&client).await?;
    let (key, lookup, password) = match req {
        LoginRequest::Email { email, password } => {
            let email = Email::parse(&email).map_err(|e| ApiError::email(&e))?;
            request_log::note_email_hint(&email);
            let normalized = email.normalized();
            (
                store::email_login_key(&normalized),
                LoginLookup::Email(normalized, email.domain().to_ascii_lowercase()),
                password,
            )
        }
        LoginRequest::LoginId {
            team,
            login_id,
            password,
        } => (
            store::id_login_key(&team, &login_id),
            LoginLookup::LoginId(team, login_id),
            password,
        ),
    };
    let found = state
        .db
        .call(move |c| {
            Ok(match &lookup {
                // The domain decides, never the account: the answer is the same for a member
                // and for an address nobody has.
                LoginLookup::Email(_, domain) if store::is_sso_domain(c, domain)? => None,
                LoginLookup::Email(normalized, _) => Some(store::user_by_email(c, normalized)?),
                LoginLookup::LoginId(team, id) => Some(store::user_by_login_id(c, team, id)?),
            })
        })
        .await?;
    let now = state.clock.now_ms();
    let Some(user) = found else {
        // Counted like any try, so the guidance is no way around the lock.
        let attempt = state.begin_attempt(&key, now).await?;
        return Err(state
            .wrong_password(attempt, &key, now, ErrorCode::SsoRequired)
            .await);
    };
    // An SSO member has no password here: checked against the dummy, as for an unknown account.
    let user = user.filter(|u| u.login_method != LoginMethod::Sso);
    // After an admin's reset the member has no password; the one the reset ended is checked
    // instead (one hash, as for anyone), so that only someone who knew it learns of the reset.
    let (stored, ended_by_admin) = match &user {
        Some(u) => match (&u.password_hash, &u.previous_password_hash) {
            (Some(phc), _) => (Some((phc.clone(), u.password_form)), false),
            (None, Some(previous)) => (Some((previous.clone(), u.password_form)), true),
            (None, None) => (None, false),
        },
        None => (None, false),
    };
    let checked = state.check_password(&key, stored, password, now).await?;
    if ended_by_admin && checked.verified.matches() {
        // Counted like any password that does not log in.
        return Err(state
            .wrong_password(checked.attempt, &key, now, ErrorCode::PasswordResetByAdmin)
            .await);
    }
    let user = match user {
        Some(user) if checked.verified.matches() && !ended_by_admin => user,
        _ => {
            return Err(state
                .wrong_password(checked.attempt, &key, now, ErrorCode::InvalidCredentials)
                .await)
        }
    };
    let session = state.new_session(now);
    let (user_id, hash, expires) = (user.id.clone(), session.hash.clone(), session.expires_at);
    let (old_phc, rehash) = (user.password_hash.clone(), checked.rehash);
    let attempt = checked.attempt;
    state
        .db
        .call(move |c| {
            let mut tx = c.immediate(&format!("user:{user_id}"))?;
            // A reset or change that committed while this password was being checked revoked
            // every session: this one must not outlive it.
            if !store::password_unchanged(&mut tx, &user_id, old_phc.as_deref())? {
                return Err(ApiError::new(ErrorCode::InvalidCredentials));
            }
            store::clear_login_failures(&mut tx, &key)?;
            store::insert_session(&mut tx, &user_id, &hash, now, expires)?;
            if let (Some(old), Some(new)) = (old_phc, rehash) {
                store::upgrade_password_hash(&mut tx, &user_id, &old, &new)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    attempt.judged();
    Ok((StatusCode::CREATED, Json(session.into_response(&user))))
}

/// Log out: revoke this session.
#[utoipa::path(
    delete,
    path = "/sessions/current",
    tag = "sessions",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
        Unauthenticated,
        TimedOut,
    )
)]
pub async fn logout(State(state): State<AppState>, auth: Auth) -> Result<StatusCode, ApiError> {
    let now = state.clock.now_ms();
    state
        .db
        .call(move |c| Ok(store::revoke_session(c, auth.session_id, now)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The member behind the session.
#[utoipa::path(
    get,
    path = "/me",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The member", body = unipos_protocol::User),
        Unauthenticated,
        TimedOut,
    )
)]
pub async fn me(auth: Auth) -> Json<unipos_protocol::User> {
    Json(auth.user.to_wire())
}

/// The password rules of the member's organisation: what `PUT /me/password` holds a new
/// password to, for the checklist under the new password in Settings > Account.
#[utoipa::path(
    get,
    path = "/me/password_policy",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation's policy, and the same as a `passwordrules` attribute", body = PasswordPolicyResponse),
        (status = 403, description = "`sso_managed`: the member signs in with SSO; their password is not set here", body = ErrorEnvelope),
        Unauthenticated,
        TimedOut,
    )
)]
pub async fn password_policy(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<PasswordPolicyResponse>, ApiError> {
    if auth.user.login_method == LoginMethod::Sso {
        return Err(ApiError::new(ErrorCode::SsoManaged));
    }
    let team_id = auth.user.team_id;
    let team = state
        .db
        .call(move |c| Ok(store::team_by_id(c, team_id)?))
        .await?;
    Ok(Json(team.policy.into()))
}

/// Change the password ("Save" in Settings > Account). Every session of the member is revoked,
/// the one that made the change included, and a new one is answered (a session is renewed
/// when its password changes: a copy of the old one must not outlive the change). A "password
/// changed" mail is sent.
#[utoipa::path(
    put,
    path = "/me/password",
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed; every session of the member ended, this one included; the new session for this device", body = SessionResponse),
        (status = 403, description = "`sso_managed`: the password is managed by SSO", body = ErrorEnvelope),
        (status = 422, description = "`current_password_incorrect` (counted toward the account's lock like a failed login), `password_mismatch`, or `password_policy` with `details.failed`", body = ErrorEnvelope),
        AccountLocked,
        Unauthenticated,
        RateLimited,
        ServerBusy,
        BodyErrors,
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    client: ClientKey,
    request_id: RequestId,
    accept_language: AcceptLanguage,
    auth: Auth,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    state.limit_client(&client).await?;
    let user = auth.user;
    if user.login_method == LoginMethod::Sso {
        return Err(ApiError::new(ErrorCode::SsoManaged));
    }
    // A wrong current password counts toward the account's lock like a failed login: a stolen
    // session must not become an unlimited password oracle.
    let key = user
        .login_key()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a member without a login key")))?;
    let now = state.clock.now_ms();
    let stored = user
        .password_hash
        .clone()
        .map(|phc| (phc, user.password_form));
    let checked = state
        .check_password(&key, stored, req.current_password, now)
        .await?;
    if !checked.verified.matches() {
        return Err(state
            .wrong_password(
                checked.attempt,
                &key,
                now,
                ErrorCode::CurrentPasswordIncorrect,
            )
            .await);
    }
    let clear_key = key.clone();
    state
        .db
        .call(move |c| Ok(store::clear_login_failures(c, &clear_key)?))
        .await?;
    checked.attempt.judged();
    let team_id = user.team_id;
    let team = state
        .db
        .call(move |c| Ok(store::team_by_id(c, team_id)?))
        .await?;
    check_new_password(
        &req.new_password,
        &req.new_password_confirmation,
        &team,
        &user,
    )?;
    let password = req.new_password;
    let phc = state
        .hasher
        .run(move || secrets::hash_password(&password))
        .await??;
    let now = state.clock.now_ms();
    let (user_id, current) = (user.id.clone(), auth.session_id);
    let verified_phc = user.password_hash.clone();
    let notice = changed_notice(&user, request_id, accept_language.or(req.lang));
    let session = state.new_session(now);
    let (session_hash, session_expires) = (session.hash.clone(), session.expires_at);
    state
        .db
        .call(move |c| {
            let mut tx = c.immediate(&format!("user:{user_id}"))?;
            // A reset (or another change) that committed while this one was hashing wins: it
            // revoked this session, and must not be undone by it.
            if !store::session_live(&mut tx, current, now)?
                || !store::password_unchanged(&mut tx, &user_id, verified_phc.as_deref())?
            {
                return Err(ApiError::new(ErrorCode::SessionExpired));
            }
            store::set_password(&mut tx, &user_id, &phc, now)?;
            store::revoke_sessions_of(
                &mut tx,
                &user_id,
                None,
                now,
                store::Revoked::PasswordChanged,
            )?;
            store::insert_session(&mut tx, &user_id, &session_hash, now, session_expires)?;
            notice.queue(&mut tx, now)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    state.mail_due.notify_one();
    tracing::info!(user = user.id, "password changed");
    Ok(Json(session.into_response(&user)))
}

/// Recent recognition posts of the member's organisation, newest first.
#[utoipa::path(
    get,
    path = "/timeline",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The timeline", body = Timeline),
        Unauthenticated,
        TimedOut,
    )
)]
pub async fn timeline(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Timeline>, ApiError> {
    let team_id = auth.user.team_id;
    let posts = state
        .db
        .call(move |c| Ok(store::timeline(c, team_id, 50)?))
        .await?;
    Ok(Json(Timeline { posts }))
}
