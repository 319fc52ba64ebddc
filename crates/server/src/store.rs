//! The queries: plain functions over a connection, no policy decisions. Each is written once,
//! for both stores (see `sql.rs`).

use crate::sql::{args, Conn, DbError, DbResult, Row};
use unipos_protocol::{
    AdminMember, Email, Language, LoginMethod, PasswordOwner, PasswordPolicy, Post, Role, User,
};

use crate::secrets::HashForm;

/// An organisation and its password policy.
#[derive(Debug, Clone)]
pub struct Team {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub policy: PasswordPolicy,
}

/// A member as stored. Its `Debug` leaves the password hash out.
#[derive(Clone)]
pub struct UserRow {
    pub id: String,
    pub team_id: i64,
    pub team_slug: String,
    pub email: Option<String>,
    /// The address as accounts are looked up (`Email::normalized`).
    pub email_normalized: Option<String>,
    pub login_id: Option<String>,
    pub display_name: String,
    pub login_method: LoginMethod,
    /// `None`: no password yet (added by an admin), after an admin's reset, or SSO.
    pub password_hash: Option<String>,
    /// How `password_hash` was made; with no `password_hash`, how `previous_password_hash` was.
    pub password_form: HashForm,
    pub role: Role,
    /// The password an admin's reset ended, kept until a new one is set: a login with it is
    /// told what happened, any other password is just wrong.
    pub previous_password_hash: Option<String>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("team_slug", &self.team_slug)
            .field("login_method", &self.login_method)
            .finish_non_exhaustive()
    }
}

impl UserRow {
    pub fn to_wire(&self) -> User {
        User {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            login_method: self.login_method,
            team: self.team_slug.clone(),
            login_id: self.login_id.clone(),
        }
    }

    /// The member as their team's admin sees them.
    pub fn to_admin_view(&self) -> AdminMember {
        AdminMember {
            id: self.id.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            login_id: self.login_id.clone(),
            login_method: self.login_method,
            role: self.role,
            has_password: self.password_hash.is_some(),
        }
    }

    /// What a new password of this member must not be built from.
    pub fn password_owner(&self) -> PasswordOwner<'_> {
        PasswordOwner {
            email: self.email.as_deref(),
            display_name: Some(&self.display_name),
            login_id: self.login_id.as_deref(),
        }
    }

    /// The key failed logins are counted under (see [`email_login_key`], [`id_login_key`]).
    pub fn login_key(&self) -> Option<String> {
        match (self.login_method, &self.login_id) {
            (LoginMethod::LoginId, Some(id)) => Some(id_login_key(&self.team_slug, id)),
            _ => self.email_normalized.as_deref().map(email_login_key),
        }
    }
}

pub fn email_login_key(normalized_email: &str) -> String {
    format!("email:{normalized_email}")
}

pub fn id_login_key(team: &str, login_id: &str) -> String {
    format!("id:{}:{}", team.to_lowercase(), login_id.to_lowercase())
}

fn parse_method(s: &str) -> LoginMethod {
    match s {
        "login_id" => LoginMethod::LoginId,
        "sso" => LoginMethod::Sso,
        _ => LoginMethod::Email,
    }
}

const USER_SELECT: &str = "SELECT u.id, u.team_id, t.slug, u.email, u.login_id, u.display_name, \
     u.login_method, u.password_hash, u.password_form, u.email_normalized, u.role, \
     u.previous_password_hash FROM users u JOIN teams t ON t.id = u.team_id";

/// `users.password_form`: how the stored hash was made.
fn form_str(form: HashForm) -> &'static str {
    match form {
        HashForm::Nfkc => "nfkc",
        HashForm::AsTyped => "as_typed",
    }
}

fn user_from_row(r: &Row<'_, '_>) -> DbResult<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        team_id: r.get(1)?,
        team_slug: r.get(2)?,
        email: r.get(3)?,
        login_id: r.get(4)?,
        display_name: r.get(5)?,
        login_method: parse_method(&r.get::<String>(6)?),
        password_hash: r.get(7)?,
        password_form: match r.get::<String>(8)?.as_str() {
            "nfkc" => HashForm::Nfkc,
            _ => HashForm::AsTyped,
        },
        email_normalized: r.get(9)?,
        role: Role::parse(&r.get::<String>(10)?),
        previous_password_hash: r.get(11)?,
    })
}

pub fn user_by_email(c: &mut Conn<'_>, normalized: &str) -> DbResult<Option<UserRow>> {
    c.query_opt(
        &format!("{USER_SELECT} WHERE u.email_normalized = ?1"),
        args![normalized],
        user_from_row,
    )
}

pub fn user_by_login_id(c: &mut Conn<'_>, team: &str, login_id: &str) -> DbResult<Option<UserRow>> {
    c.query_opt(
        &format!("{USER_SELECT} WHERE t.slug = ?1 AND u.login_id = ?2"),
        args![team, login_id],
        user_from_row,
    )
}

pub fn user_by_id(c: &mut Conn<'_>, id: &str) -> DbResult<Option<UserRow>> {
    c.query_opt(
        &format!("{USER_SELECT} WHERE u.id = ?1"),
        args![id],
        user_from_row,
    )
}

fn team_from_row(r: &Row<'_, '_>) -> DbResult<Team> {
    Ok(Team {
        id: r.get(0)?,
        slug: r.get(1)?,
        name: r.get(2)?,
        policy: PasswordPolicy {
            min_length: r.get(3)?,
            max_length: r.get(4)?,
            require_lower: r.get(5)?,
            require_upper: r.get(6)?,
            require_digit: r.get(7)?,
            require_symbol: r.get(8)?,
        },
    })
}

const TEAM_SELECT: &str = "SELECT id, slug, name, min_length, max_length, require_lower, \
     require_upper, require_digit, require_symbol FROM teams";

pub fn team_by_id(c: &mut Conn<'_>, id: i64) -> DbResult<Team> {
    c.query_one(
        &format!("{TEAM_SELECT} WHERE id = ?1"),
        args![id],
        team_from_row,
    )
}

pub fn team_by_slug(c: &mut Conn<'_>, slug: &str) -> DbResult<Option<Team>> {
    c.query_opt(
        &format!("{TEAM_SELECT} WHERE slug = ?1"),
        args![slug],
        team_from_row,
    )
}

/// Creates the team, or sets the name and policy of an existing one with that slug.
pub fn upsert_team(
    c: &mut Conn<'_>,
    slug: &str,
    name: &str,
    policy: &PasswordPolicy,
    now: i64,
) -> DbResult<Team> {
    c.execute(
        "INSERT INTO teams (slug, name, min_length, max_length, require_lower, require_upper, \
         require_digit, require_symbol, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (slug) DO UPDATE SET name = excluded.name, min_length = excluded.min_length, \
         max_length = excluded.max_length, require_lower = excluded.require_lower, \
         require_upper = excluded.require_upper, require_digit = excluded.require_digit, \
         require_symbol = excluded.require_symbol",
        args![
            slug,
            name,
            policy.min_length,
            policy.max_length,
            policy.require_lower,
            policy.require_upper,
            policy.require_digit,
            policy.require_symbol,
            now
        ],
    )?;
    team_by_slug(c, slug)?.ok_or(DbError::NoRow)
}

/// Whether addresses in `domain` log in with SSO (an organisation's SSO domain).
pub fn is_sso_domain(c: &mut Conn<'_>, domain: &str) -> DbResult<bool> {
    c.value(
        "SELECT EXISTS (SELECT 1 FROM sso_domains WHERE domain = ?1)",
        args![domain.to_ascii_lowercase().as_str()],
    )
}

/// The organisation's SSO domains, in order.
pub fn sso_domains_of(c: &mut Conn<'_>, team_id: i64) -> DbResult<Vec<String>> {
    c.query_all(
        "SELECT domain FROM sso_domains WHERE team_id = ?1 ORDER BY domain",
        args![team_id],
        |r| r.get::<String>(0),
    )
}

/// Makes `domains` the organisation's SSO domains (a domain another organisation had moves to
/// this one).
pub fn set_sso_domains(
    c: &mut Conn<'_>,
    team_id: i64,
    domains: &[String],
    now: i64,
) -> DbResult<()> {
    c.execute("DELETE FROM sso_domains WHERE team_id = ?1", args![team_id])?;
    for domain in domains {
        add_sso_domain(c, team_id, domain, now)?;
    }
    Ok(())
}

/// Adds one SSO domain to the organisation (moving it from another one that had it).
pub fn add_sso_domain(c: &mut Conn<'_>, team_id: i64, domain: &str, now: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO sso_domains (domain, team_id, created_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (domain) DO UPDATE SET team_id = excluded.team_id",
        args![domain.to_ascii_lowercase().as_str(), team_id, now],
    )?;
    Ok(())
}

/// A member to create. `password_hash` is `None` for SSO members and for Login ID members an
/// admin adds (they set one with their Account Information sheet).
pub struct NewUser<'a> {
    pub team_id: i64,
    pub email: Option<&'a Email>,
    pub login_id: Option<&'a str>,
    pub display_name: &'a str,
    pub login_method: LoginMethod,
    pub password_hash: Option<&'a str>,
    pub role: Role,
}

pub fn insert_user(c: &mut Conn<'_>, user: &NewUser<'_>, now: i64) -> DbResult<UserRow> {
    let id = uuid::Uuid::new_v4().to_string();
    let normalized = user.email.map(Email::normalized);
    c.execute(
        "INSERT INTO users (id, team_id, email, email_normalized, login_id, display_name, \
         login_method, password_hash, password_form, created_at, role) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        args![
            &id,
            user.team_id,
            user.email.map(Email::as_str),
            normalized.as_deref(),
            user.login_id,
            user.display_name,
            user.login_method.as_str(),
            user.password_hash,
            form_str(HashForm::Nfkc),
            now,
            user.role.as_str()
        ],
    )?;
    user_by_id(c, &id)?.ok_or(DbError::NoRow)
}

/// Stores a new password hash (made by `secrets::hash_password`, so of the normalized form) and
/// ends every reset link of the member that is still unused: a link mailed before the change must
/// not undo it.
pub fn set_password(c: &mut Conn<'_>, user_id: &str, phc: &str, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE users SET password_hash = ?2, password_form = ?4, password_changed_at = ?3, \
         previous_password_hash = NULL WHERE id = ?1",
        args![user_id, phc, now, form_str(HashForm::Nfkc)],
    )?;
    c.execute(
        "UPDATE reset_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND used_at IS NULL \
         AND revoked_at IS NULL",
        args![user_id, now],
    )?;
    Ok(())
}

/// Whether the member's stored hash is still `phc` (no reset or change committed since it was
/// read).
pub fn password_unchanged(c: &mut Conn<'_>, user_id: &str, phc: Option<&str>) -> DbResult<bool> {
    c.query_opt(
        "SELECT password_hash IS NOT DISTINCT FROM ?2 FROM users WHERE id = ?1",
        args![user_id, phc],
        |r| r.get(0),
    )
    .map(|same| same.unwrap_or(false))
}

/// Whether the session is still live (not revoked, not expired).
pub fn session_live(c: &mut Conn<'_>, session_id: i64, now: i64) -> DbResult<bool> {
    c.value(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?1 AND revoked_at IS NULL \
         AND expires_at > ?2)",
        args![session_id, now],
    )
}

/// Replaces a hash of the password as typed by one of its normalized form, unless the password
/// changed meanwhile.
pub fn upgrade_password_hash(
    c: &mut Conn<'_>,
    user_id: &str,
    old_phc: &str,
    new_phc: &str,
) -> DbResult<()> {
    c.execute(
        "UPDATE users SET password_hash = ?3, password_form = ?4 WHERE id = ?1 \
         AND password_hash = ?2",
        args![user_id, old_phc, new_phc, form_str(HashForm::Nfkc)],
    )?;
    Ok(())
}

// Sessions.

pub fn insert_session(
    c: &mut Conn<'_>,
    user_id: &str,
    token_hash: &[u8],
    now: i64,
    expires_at: i64,
) -> DbResult<i64> {
    c.value(
        "INSERT INTO sessions (user_id, token_hash, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4) RETURNING id",
        args![user_id, token_hash, now, expires_at],
    )
}

/// The live session with this token hash, and its member.
pub fn session_user(
    c: &mut Conn<'_>,
    token_hash: &[u8],
    now: i64,
) -> DbResult<Option<(i64, UserRow)>> {
    let found: Option<(i64, String)> = c.query_opt(
        "SELECT id, user_id FROM sessions WHERE token_hash = ?1 AND revoked_at IS NULL \
             AND expires_at > ?2",
        args![token_hash, now],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    match found {
        Some((session_id, user_id)) => Ok(user_by_id(c, &user_id)?.map(|user| (session_id, user))),
        None => Ok(None),
    }
}

/// Why a session ended before its time (`sessions.revoked_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    LoggedOut,
    PasswordReset,
    PasswordChanged,
    /// The team's admin reset the member's password.
    AdminReset,
}

impl Revoked {
    fn as_str(self) -> &'static str {
        match self {
            Revoked::LoggedOut => "logged_out",
            Revoked::PasswordReset => "password_reset",
            Revoked::PasswordChanged => "password_changed",
            Revoked::AdminReset => "admin_reset",
        }
    }
}

pub fn revoke_session(c: &mut Conn<'_>, session_id: i64, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3 WHERE id = ?1 \
         AND revoked_at IS NULL",
        args![session_id, now, Revoked::LoggedOut.as_str()],
    )?;
    Ok(())
}

/// Revokes every live session of the member except `keep`.
pub fn revoke_sessions_of(
    c: &mut Conn<'_>,
    user_id: &str,
    keep: Option<i64>,
    now: i64,
    why: Revoked,
) -> DbResult<u64> {
    c.execute(
        "UPDATE sessions SET revoked_at = ?3, revoked_reason = ?4 WHERE user_id = ?1 \
         AND revoked_at IS NULL AND id IS DISTINCT FROM ?2",
        args![user_id, keep, now, why.as_str()],
    )
}

/// Whether the session with this token hash, not yet expired, was ended by an admin's reset of
/// the member's password.
pub fn revoked_by_admin_reset(c: &mut Conn<'_>, token_hash: &[u8], now: i64) -> DbResult<bool> {
    c.value(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE token_hash = ?1 AND expires_at > ?2 \
         AND revoked_reason = ?3)",
        args![token_hash, now, Revoked::AdminReset.as_str()],
    )
}

// Team admin.

/// The team's members whose display name, address or Login ID contains `query` (case aside), or
/// whose id it is, by display name, at most `limit`.
pub fn team_members(
    c: &mut Conn<'_>,
    team_id: i64,
    query: &str,
    limit: u32,
) -> DbResult<Vec<UserRow>> {
    // LIKE's own wildcards in what was typed match themselves.
    let escaped: String = query
        .to_lowercase()
        .chars()
        .flat_map(|ch| match ch {
            '%' | '_' | '\\' => vec!['\\', ch],
            ch => vec![ch],
        })
        .collect();
    let pattern = format!("%{escaped}%");
    c.query_all(
        &format!(
            "{USER_SELECT} WHERE u.team_id = ?1 AND (lower(u.display_name) LIKE ?2 ESCAPE '\\' \
             OR lower(COALESCE(u.email, '')) LIKE ?2 ESCAPE '\\' \
             OR lower(CAST(COALESCE(u.login_id, '') AS TEXT)) LIKE ?2 ESCAPE '\\' \
             OR u.id = ?4) ORDER BY u.display_name, u.id LIMIT ?3"
        ),
        args![team_id, &pattern, limit, query],
        user_from_row,
    )
}

/// An admin's reset, in the caller's transaction: the password stops working (its hash is kept
/// apart, see [`UserRow::previous_password_hash`]), every session is logged out, every unused
/// reset link ends, and a lock of the login key is lifted. Answers (sessions, links) ended.
pub fn admin_reset_password(tx: &mut Conn<'_>, user: &UserRow, now: i64) -> DbResult<(u64, u64)> {
    tx.execute(
        "UPDATE users SET previous_password_hash = COALESCE(password_hash, \
         previous_password_hash), password_hash = NULL, password_reset_at = ?2 WHERE id = ?1",
        args![&user.id, now],
    )?;
    let sessions = revoke_sessions_of(tx, &user.id, None, now, Revoked::AdminReset)?;
    let links = tx.execute(
        "UPDATE reset_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND used_at IS NULL \
         AND revoked_at IS NULL AND superseded_at IS NULL",
        args![&user.id, now],
    )?;
    if let Some(key) = user.login_key() {
        clear_login_failures(tx, &key)?;
    }
    Ok((sessions, links))
}

// Reset tokens.

/// Stores a new token for the member (its mail is about to be sent). Older links keep working
/// until it has been: see [`supersede_reset_tokens`]. `code_challenge` binds it to the app that
/// asked (see `unipos_protocol::binding`).
pub fn insert_reset_token(
    tx: &mut Conn<'_>,
    user_id: &str,
    token_hash: &[u8],
    now: i64,
    expires_at: i64,
    code_challenge: Option<&str>,
) -> DbResult<()> {
    tx.execute(
        "INSERT INTO reset_tokens (user_id, token_hash, created_at, expires_at, code_challenge) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        args![user_id, token_hash, now, expires_at, code_challenge],
    )?;
    Ok(())
}

/// The mail of `newest` went out: every older unused link of the member stops working.
pub fn supersede_reset_tokens(
    tx: &mut Conn<'_>,
    user_id: &str,
    newest: &[u8],
    now: i64,
) -> DbResult<()> {
    tx.execute(
        "UPDATE reset_tokens SET superseded_at = ?2 WHERE user_id = ?1 AND used_at IS NULL \
         AND superseded_at IS NULL AND revoked_at IS NULL AND token_hash <> ?3",
        args![user_id, now, newest],
    )?;
    Ok(())
}

/// Forgets a token whose mail did not go out.
pub fn delete_reset_token(c: &mut Conn<'_>, token_hash: &[u8]) -> DbResult<()> {
    c.execute(
        "DELETE FROM reset_tokens WHERE token_hash = ?1",
        args![token_hash],
    )?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ResetTokenRow {
    pub id: i64,
    pub user_id: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub superseded_at: Option<i64>,
    /// Set when the member's password changed by another path before the link was used.
    pub revoked_at: Option<i64>,
    /// The binding to the app that asked for it: the link sets a password only with the
    /// verifier of this challenge.
    pub code_challenge: Option<String>,
}

pub fn reset_token(c: &mut Conn<'_>, token_hash: &[u8]) -> DbResult<Option<ResetTokenRow>> {
    c.query_opt(
        "SELECT id, user_id, expires_at, used_at, superseded_at, revoked_at, code_challenge \
         FROM reset_tokens WHERE token_hash = ?1",
        args![token_hash],
        |r| {
            Ok(ResetTokenRow {
                id: r.get(0)?,
                user_id: r.get(1)?,
                expires_at: r.get(2)?,
                used_at: r.get(3)?,
                superseded_at: r.get(4)?,
                revoked_at: r.get(5)?,
                code_challenge: r.get(6)?,
            })
        },
    )
}

/// Marks the token used if it is still usable; false when another request got there first.
pub fn use_reset_token(c: &mut Conn<'_>, id: i64, now: i64) -> DbResult<bool> {
    let changed = c.execute(
        "UPDATE reset_tokens SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL \
         AND superseded_at IS NULL AND revoked_at IS NULL AND expires_at > ?2",
        args![id, now],
    )?;
    Ok(changed == 1)
}

// Lockout.

/// Until when the login key is locked, if it is.
pub fn locked_until(c: &mut Conn<'_>, key: &str, now: i64) -> DbResult<Option<i64>> {
    c.query_opt(
        "SELECT locked_until FROM login_locks WHERE login_key = ?1 AND locked_until > ?2",
        args![key, now],
        |r| r.get(0),
    )
}

/// How long to wait when every attempt left is being checked.
const IN_FLIGHT_WAIT_MS: i64 = 2_000;
/// How long a check can be in flight at most (a wait for a hashing worker, then the hash).
const IN_FLIGHT_MAX_MS: i64 = 60_000;

fn lock(c: &mut Conn<'_>, key: &str, until: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO login_locks (login_key, locked_until) VALUES (?1, ?2) \
         ON CONFLICT (login_key) DO UPDATE SET locked_until = excluded.locked_until",
        args![key, until],
    )?;
    c.execute(
        "DELETE FROM login_failures WHERE login_key = ?1",
        args![key],
    )?;
    Ok(())
}

/// Takes one attempt of the login key before its password is checked. The attempt counts as
/// failed from now on, until a right password forgets it ([`clear_login_failures`]), so parallel
/// guesses see each other: when the key is locked, or `threshold` attempts within the window have
/// failed or are being checked, the answer is until when to wait and nothing may be checked.
pub fn begin_login_attempt(
    c: &mut Conn<'_>,
    key: &str,
    now: i64,
    threshold: u32,
    window_ms: i64,
) -> DbResult<Result<i64, i64>> {
    let mut tx = c.immediate(&format!("login:{key}"))?;
    if let Some(until) = locked_until(&mut tx, key, now)? {
        return Ok(Err(until));
    }
    tx.execute(
        "DELETE FROM login_failures WHERE login_key = ?1 AND failed_at <= ?2",
        args![key, now - window_ms],
    )?;
    // One statement, so one snapshot: on PostgreSQL a right password's clear (which holds the
    // member's lock, not this key's) can delete the rows between two statements.
    let (taken, newest): (u32, Option<i64>) = tx.query_one(
        "SELECT COUNT(*), MAX(failed_at) FROM login_failures WHERE login_key = ?1",
        args![key],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if let Some(newest) = newest.filter(|_| taken >= threshold) {
        if newest < now - IN_FLIGHT_MAX_MS {
            // None of them can still be in flight (a server died while checking): they are
            // failures, and they make the lock.
            let until = now + window_ms;
            lock(&mut tx, key, until)?;
            tx.commit()?;
            return Ok(Err(until));
        }
        // Not locked, so some of these are still being checked: wait for them (the lock
        // follows if they fail; a right one forgets them all).
        tx.commit()?;
        return Ok(Err(now + IN_FLIGHT_WAIT_MS));
    }
    let attempt = tx.value(
        "INSERT INTO login_failures (login_key, failed_at) VALUES (?1, ?2) RETURNING id",
        args![key, now],
    )?;
    tx.commit()?;
    Ok(Ok(attempt))
}

/// Gives back an attempt whose password was never checked (the server was busy).
pub fn cancel_login_attempt(c: &mut Conn<'_>, attempt: i64) -> DbResult<()> {
    c.execute("DELETE FROM login_failures WHERE id = ?1", args![attempt])?;
    Ok(())
}

/// After a wrong password (its attempt already counted): when the key's failures within the
/// window reach `threshold`, locks the key for `window_ms` and answers until when.
pub fn settle_login_failure(
    c: &mut Conn<'_>,
    key: &str,
    now: i64,
    threshold: u32,
    window_ms: i64,
) -> DbResult<Option<i64>> {
    let mut tx = c.immediate(&format!("login:{key}"))?;
    let count: u32 = tx.value(
        "SELECT COUNT(*) FROM login_failures WHERE login_key = ?1 AND failed_at > ?2",
        args![key, now - window_ms],
    )?;
    let locked = if count >= threshold {
        let until = now + window_ms;
        lock(&mut tx, key, until)?;
        Some(until)
    } else {
        None
    };
    tx.commit()?;
    Ok(locked)
}

/// Forgets failed logins and any lock of the key.
pub fn clear_login_failures(c: &mut Conn<'_>, key: &str) -> DbResult<()> {
    c.execute(
        "DELETE FROM login_failures WHERE login_key = ?1",
        args![key],
    )?;
    c.execute("DELETE FROM login_locks WHERE login_key = ?1", args![key])?;
    Ok(())
}

// Undeliverable addresses.

pub fn is_suppressed(c: &mut Conn<'_>, normalized: &str) -> DbResult<bool> {
    c.value(
        "SELECT EXISTS (SELECT 1 FROM suppressed_emails WHERE email_normalized = ?1)",
        args![normalized],
    )
}

pub fn suppress(c: &mut Conn<'_>, normalized: &str, reason: &str, now: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO suppressed_emails (email_normalized, reason, created_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (email_normalized) DO UPDATE SET reason = excluded.reason",
        args![normalized, reason, now],
    )?;
    Ok(())
}

// Rate limits.

/// How many of the scope's events for `key` are after `since`.
pub fn count_rate_events(c: &mut Conn<'_>, scope: &str, key: &str, since: i64) -> DbResult<u64> {
    c.value(
        "SELECT COUNT(*) FROM rate_events WHERE scope = ?1 AND key = ?2 AND at > ?3",
        args![scope, key, since],
    )
}

/// The time of the `nth` (0-based, oldest first) of the scope's events for `key` after `since`.
pub fn nth_rate_event(
    c: &mut Conn<'_>,
    scope: &str,
    key: &str,
    since: i64,
    nth: u64,
) -> DbResult<Option<i64>> {
    c.query_opt(
        "SELECT at FROM rate_events WHERE scope = ?1 AND key = ?2 AND at > ?3 \
         ORDER BY at LIMIT 1 OFFSET ?4",
        args![scope, key, since, nth],
        |r| r.get(0),
    )
}

pub fn record_rate_event(c: &mut Conn<'_>, scope: &str, key: &str, at: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO rate_events (scope, key, at) VALUES (?1, ?2, ?3)",
        args![scope, key, at],
    )?;
    Ok(())
}

/// Forgets every event at or before `before` (of keys not seen since).
pub fn sweep_rate_events(c: &mut Conn<'_>, before: i64) -> DbResult<u64> {
    c.execute("DELETE FROM rate_events WHERE at <= ?1", args![before])
}

/// Forgets failed logins at or before `before` and locks that have ended by `now`.
pub fn sweep_login_failures(c: &mut Conn<'_>, before: i64, now: i64) -> DbResult<()> {
    c.execute(
        "DELETE FROM login_failures WHERE failed_at <= ?1",
        args![before],
    )?;
    c.execute(
        "DELETE FROM login_locks WHERE locked_until <= ?1",
        args![now],
    )?;
    Ok(())
}

// The mail outbox.

/// What a row of the outbox is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// Someone asked for a reset mail for `to` (the normalized address); whether it is a member
    /// is looked up when it is delivered.
    ResetRequest,
    /// "Your password was changed".
    PasswordChanged,
    /// The team's admin reset the password of the member at `to`: a reset mail that says so.
    AdminReset,
}

impl MailKind {
    fn as_str(self) -> &'static str {
        match self {
            MailKind::ResetRequest => "reset_request",
            MailKind::PasswordChanged => "password_changed",
            MailKind::AdminReset => "admin_reset",
        }
    }

    fn parse(s: &str) -> MailKind {
        match s {
            "password_changed" => MailKind::PasswordChanged,
            "admin_reset" => MailKind::AdminReset,
            _ => MailKind::ResetRequest,
        }
    }
}

/// A mail waiting in (or, in dev mode, kept in) the outbox. Its `Debug` leaves the token out.
#[derive(Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: MailKind,
    pub to: String,
    pub display_name: Option<String>,
    /// The token of a sent reset mail's link: kept in dev mode only, for the dev outbox.
    pub token: Option<String>,
    pub request_id: Option<String>,
    pub attempts: u32,
    pub sent_at: Option<i64>,
    /// A reset request's binding to the app that asked (its challenge), for the token.
    pub code_challenge: Option<String>,
    /// When it was queued (ms): how long it is tried is counted from here. For a
    /// password-changed notice, when the password was changed (the same transaction).
    pub created_at: i64,
    /// The language it is written in (the request's that caused it).
    pub lang: Language,
}

impl std::fmt::Debug for OutboxRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRow")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

fn outbox_row(r: &Row<'_, '_>) -> DbResult<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        kind: MailKind::parse(&r.get::<String>(1)?),
        to: r.get(2)?,
        display_name: r.get(3)?,
        token: r.get(4)?,
        request_id: r.get(5)?,
        attempts: r.get(6)?,
        sent_at: r.get(7)?,
        code_challenge: r.get(8)?,
        created_at: r.get(9)?,
        // A value the CHECK allows; the column's default for anything else.
        lang: Language::parse(&r.get::<String>(10)?).unwrap_or_default(),
    })
}

const OUTBOX_COLUMNS: &str =
    "id, kind, to_addr, display_name, token, request_id, attempts, sent_at, code_challenge, \
     created_at, lang";

/// A mail to queue.
pub struct NewMail<'a> {
    pub kind: MailKind,
    pub to: &'a str,
    pub display_name: Option<&'a str>,
    pub request_id: Option<&'a str>,
    /// A reset request's binding to the app that asked for it.
    pub code_challenge: Option<&'a str>,
    /// The language to write it in.
    pub lang: Language,
}

/// Queues a mail, due at once.
pub fn queue_mail(c: &mut Conn<'_>, mail: &NewMail<'_>, now: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO mail_outbox (kind, to_addr, display_name, request_id, created_at, \
         not_before, code_challenge, lang) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
        args![
            mail.kind.as_str(),
            mail.to,
            mail.display_name,
            mail.request_id,
            now,
            mail.code_challenge,
            mail.lang.code()
        ],
    )?;
    Ok(())
}

/// Takes up to `limit` due mails for this instance until `lease_until` (another instance takes
/// them after that, if this one died), counting an attempt for each.
pub fn claim_mail(
    c: &mut Conn<'_>,
    now: i64,
    lease_until: i64,
    limit: u32,
) -> DbResult<Vec<OutboxRow>> {
    // A write transaction from the start: with other servers on the file, a read that turns
    // into a write can find its snapshot stale; on PostgreSQL, claims take turns, so a second
    // claim's subquery sees what the first one took.
    let mut tx = c.immediate("outbox")?;
    let mut rows = tx.query_all(
        &format!(
            "UPDATE mail_outbox SET not_before = ?2, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND not_before <= ?1 \
              ORDER BY id LIMIT ?3) RETURNING {OUTBOX_COLUMNS}"
        ),
        args![now, lease_until, limit],
        outbox_row,
    )?;
    tx.commit()?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Delivered: deleted, or in dev mode kept for the dev outbox with the address it went to and
/// its link's token (`dev_copy`). Only while this deliverer's lease (`lease_until`) holds: false
/// when another deliverer has taken the mail over meanwhile.
pub fn mail_sent(
    c: &mut Conn<'_>,
    id: i64,
    now: i64,
    dev_copy: Option<&(String, String)>,
    keep: bool,
    lease_until: i64,
) -> DbResult<bool> {
    let changed = match (keep, dev_copy) {
        (true, Some((to, token))) => c.execute(
            "UPDATE mail_outbox SET sent_at = ?2, to_addr = ?3, token = ?4 \
             WHERE id = ?1 AND not_before = ?5",
            args![id, now, to, token, lease_until],
        )?,
        (true, None) => c.execute(
            "UPDATE mail_outbox SET sent_at = ?2 WHERE id = ?1 AND not_before = ?3",
            args![id, now, lease_until],
        )?,
        (false, _) => c.execute(
            "DELETE FROM mail_outbox WHERE id = ?1 AND not_before = ?2",
            args![id, lease_until],
        )?,
    };
    Ok(changed == 1)
}

/// Not delivered this time: due again at `retry_at` (while this deliverer's lease holds).
pub fn mail_retry(c: &mut Conn<'_>, id: i64, retry_at: i64, lease_until: i64) -> DbResult<()> {
    c.execute(
        "UPDATE mail_outbox SET not_before = ?2 WHERE id = ?1 AND not_before = ?3",
        args![id, retry_at, lease_until],
    )?;
    Ok(())
}

/// The lease on a mail being sent is renewed (a heartbeat): held until `new_until` instead of
/// `old_until`. False when the lease had already run out and another deliverer took the mail.
pub fn renew_mail_lease(
    c: &mut Conn<'_>,
    id: i64,
    old_until: i64,
    new_until: i64,
) -> DbResult<bool> {
    let changed = c.execute(
        "UPDATE mail_outbox SET not_before = ?3 WHERE id = ?1 AND not_before = ?2 \
         AND sent_at IS NULL",
        args![id, old_until, new_until],
    )?;
    Ok(changed == 1)
}

/// Mails waiting to be sent, and when the oldest of them was queued.
pub fn outbox_backlog(c: &mut Conn<'_>) -> DbResult<(u64, Option<i64>)> {
    c.query_one(
        "SELECT COUNT(*), MIN(created_at) FROM mail_outbox WHERE sent_at IS NULL",
        &[],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Drops a mail that is not to be sent (no such member) or that failed too often.
pub fn drop_mail(c: &mut Conn<'_>, id: i64) -> DbResult<()> {
    c.execute("DELETE FROM mail_outbox WHERE id = ?1", args![id])?;
    Ok(())
}

/// Sent mail kept for the dev outbox, to `to` if given (case-insensitive), the newest `limit`,
/// oldest first.
pub fn sent_mail(c: &mut Conn<'_>, to: Option<&str>, limit: u32) -> DbResult<Vec<OutboxRow>> {
    let mut rows = c.query_all(
        &format!(
            "SELECT {OUTBOX_COLUMNS} FROM mail_outbox WHERE sent_at IS NOT NULL \
             AND (CAST(?1 AS TEXT) IS NULL OR lower(to_addr) = lower(CAST(?1 AS TEXT))) \
             ORDER BY id DESC LIMIT ?2"
        ),
        args![to, limit],
        outbox_row,
    )?;
    rows.reverse();
    Ok(rows)
}

// Timeline.

pub fn insert_post(
    c: &mut Conn<'_>,
    team_id: i64,
    from: &str,
    to: &str,
    message: &str,
    points: u32,
    created_at: i64,
) -> DbResult<()> {
    let id = uuid::Uuid::new_v4().to_string();
    c.execute(
        "INSERT INTO posts (id, team_id, from_name, to_name, message, points, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![&id, team_id, from, to, message, points, created_at],
    )?;
    Ok(())
}

pub fn count_posts(c: &mut Conn<'_>, team_id: i64) -> DbResult<u32> {
    c.value(
        "SELECT COUNT(*) FROM posts WHERE team_id = ?1",
        args![team_id],
    )
}

/// The team's newest posts first.
pub fn timeline(c: &mut Conn<'_>, team_id: i64, limit: u32) -> DbResult<Vec<Post>> {
    c.query_all(
        "SELECT id, from_name, to_name, message, points, created_at FROM posts \
         WHERE team_id = ?1 ORDER BY created_at DESC, seq DESC LIMIT ?2",
        args![team_id, limit],
        |r| {
            Ok(Post {
                id: r.get(0)?,
                from: r.get(1)?,
                to: r.get(2)?,
                message: r.get(3)?,
                points: r.get(4)?,
                created_at: crate::clock::rfc3339(r.get(5)?),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a failure is the test's")]

    use super::*;
    use crate::db::Db;

    /// A right password forgets the key's attempts under the member's lock, not the key's: on
    /// PostgreSQL that can land in the middle of the next attempt's look at them.
    #[test]
    fn attempts_forgotten_while_another_is_taken_never_make_that_one_fail() {
        let db = Db::for_unit_test();
        let (key, now, window) = ("email:race@example.com", 1_000_000_000, 900_000);
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let takers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        for _ in 0..1_500 {
                            // One attempt makes the threshold, so most takes look at the newest.
                            let taken = db
                                .with(|c| begin_login_attempt(c, key, now, 1, window))
                                .unwrap_or_else(|e| panic!("an attempt failed: {e}"));
                            // Taken, or wait for the one being checked: never the lock.
                            if let Err(until) = taken {
                                assert_eq!(until, now + IN_FLIGHT_WAIT_MS);
                            }
                        }
                    })
                })
                .collect();
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    db.with(|c| clear_login_failures(c, key)).unwrap();
                }
            });
            for taker in takers {
                let result = taker.join();
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                if let Err(panic) = result {
                    std::panic::resume_unwind(panic);
                }
            }
        });
    }
}
