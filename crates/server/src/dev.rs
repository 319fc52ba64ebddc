//! `--dev` only: the demo organisation, and endpoints to add members and read sent mail (mounted
//! only with `--dev`; documented in `openapi-dev.json`).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use unipos_protocol::{
    Email, ErrorCode, ErrorEnvelope, LoginMethod, PasswordOwner, PasswordPolicy, Role,
    SessionResponse, User, API_PREFIX,
};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{BodyErrors, ServerBusy, TimedOut};
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::outbox::{self, SentMail};
use crate::secrets::hash_password;
use crate::sql::{Conn, DbResult};
use crate::state::AppState;
use crate::store::{self, NewUser, Team, UserRow};

pub const DEMO_TEAM: &str = "demo";
pub const DEMO_TEAM_NAME: &str = "Unipos Demo";
pub const DEMO_EMAIL: &str = "taro@example.com";
pub const DEMO_PASSWORD: &str = "Unipos-demo-1";
pub const DEMO_DISPLAY_NAME: &str = "Taro Yamada";
pub const DEMO_SSO_EMAIL: &str = "hanako@sso.example.com";
/// The demo organisation's SSO domain: every address in it is told to log in with SSO.
pub const DEMO_SSO_DOMAIN: &str = "sso.example.com";
pub const DEMO_SSO_DISPLAY_NAME: &str = "Hanako Sato";
pub const DEMO_LOGIN_ID: &str = "jiro";
pub const DEMO_LOGIN_ID_PASSWORD: &str = "Unipos-demo-2";
pub const DEMO_LOGIN_ID_DISPLAY_NAME: &str = "Jiro Suzuki";
/// The demo team's admin (Team Admin > Member > Members), who logs in by email.
pub const DEMO_ADMIN_EMAIL: &str = "admin@example.com";
pub const DEMO_ADMIN_PASSWORD: &str = "Unipos-admin-1";
pub const DEMO_ADMIN_DISPLAY_NAME: &str = "Keiko Tanaka";

/// The lines printed at start in dev mode, after the `listening on` line.
pub fn banner() -> Vec<String> {
    vec![
        format!("dev mode: demo organisation \"{DEMO_TEAM_NAME}\" (team {DEMO_TEAM})"),
        format!("  email member:    {DEMO_EMAIL} / {DEMO_PASSWORD} ({DEMO_DISPLAY_NAME})"),
        format!("  SSO member:      {DEMO_SSO_EMAIL} (no password; {DEMO_SSO_DOMAIN} logs in with SSO)"),
        format!("  Login-ID member: team {DEMO_TEAM}, login ID {DEMO_LOGIN_ID} / {DEMO_LOGIN_ID_PASSWORD} ({DEMO_LOGIN_ID_DISPLAY_NAME})"),
        format!("  team admin:      {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD} ({DEMO_ADMIN_DISPLAY_NAME}; unipos admin …)"),
        "  (passwords are as seeded unless changed since)".to_owned(),
    ]
}

/// Creates the demo organisation, its members and posts, keeping whatever of them exists.
pub fn seed(db: &Db, now: i64) -> anyhow::Result<()> {
    let demo = Email::parse(DEMO_EMAIL)?;
    let demo_sso = Email::parse(DEMO_SSO_EMAIL)?;
    let demo_admin = Email::parse(DEMO_ADMIN_EMAIL)?;
    let existing = db.with(|c| -> crate::sql::DbResult<_> {
        Ok((
            store::team_by_slug(c, DEMO_TEAM)?,
            store::user_by_email(c, &demo.normalized())?.is_some(),
            store::user_by_email(c, &demo_sso.normalized())?.is_some(),
            store::user_by_login_id(c, DEMO_TEAM, DEMO_LOGIN_ID)?.is_some(),
            store::user_by_email(c, &demo_admin.normalized())?.is_some(),
        ))
    })?;
    let (team, has_taro, has_hanako, has_jiro, has_admin) = existing;
    let admin_hash = (!has_admin)
        .then(|| hash_password(DEMO_ADMIN_PASSWORD))
        .transpose()?;
    let taro_hash = (!has_taro)
        .then(|| hash_password(DEMO_PASSWORD))
        .transpose()?;
    let jiro_hash = (!has_jiro)
        .then(|| hash_password(DEMO_LOGIN_ID_PASSWORD))
        .transpose()?;
    db.with(|c| -> crate::sql::DbResult<()> {
        // Checked again inside the write transaction: another server starting on the same
        // database at the same moment may have seeded meanwhile.
        let mut tx = c.immediate("seed")?;
        let team = match store::team_by_slug(&mut tx, DEMO_TEAM)?.or(team) {
            Some(team) => team,
            None => store::upsert_team(
                &mut tx,
                DEMO_TEAM,
                DEMO_TEAM_NAME,
                &PasswordPolicy::default(),
                now,
            )?,
        };
        let member = |email, login_id, display_name, login_method, password_hash| NewUser {
            team_id: team.id,
            email,
            login_id,
            display_name,
            login_method,
            password_hash,
            role: Role::Member,
        };
        let taro_missing = store::user_by_email(&mut tx, &demo.normalized())?.is_none();
        let hanako_missing = store::user_by_email(&mut tx, &demo_sso.normalized())?.is_none();
        let jiro_missing = store::user_by_login_id(&mut tx, DEMO_TEAM, DEMO_LOGIN_ID)?.is_none();
        if let Some(hash) = taro_hash.as_ref().filter(|_| taro_missing) {
            let m = member(
                Some(&demo),
                None,
                DEMO_DISPLAY_NAME,
                LoginMethod::Email,
                Some(hash),
            );
            store::insert_user(&mut tx, &m, now)?;
        }
        if !has_hanako && hanako_missing {
            let m = member(
                Some(&demo_sso),
                None,
                DEMO_SSO_DISPLAY_NAME,
                LoginMethod::Sso,
                None,
            );
            store::insert_user(&mut tx, &m, now)?;
        }
        if let Some(hash) = jiro_hash.as_ref().filter(|_| jiro_missing) {
            let m = member(
                None,
                Some(DEMO_LOGIN_ID),
                DEMO_LOGIN_ID_DISPLAY_NAME,
                LoginMethod::LoginId,
                Some(hash),
            );
            store::insert_user(&mut tx, &m, now)?;
        }
        if !store::is_sso_domain(&mut tx, DEMO_SSO_DOMAIN)? {
            store::add_sso_domain(&mut tx, team.id, DEMO_SSO_DOMAIN, now)?;
        }
        let admin_missing = store::user_by_email(&mut tx, &demo_admin.normalized())?.is_none();
        if let Some(hash) = admin_hash.as_ref().filter(|_| admin_missing) {
            let m = NewUser {
                role: Role::Admin,
                ..member(
                    Some(&demo_admin),
                    None,
                    DEMO_ADMIN_DISPLAY_NAME,
                    LoginMethod::Email,
                    Some(hash),
                )
            };
            store::insert_user(&mut tx, &m, now)?;
        }
        if store::count_posts(&mut tx, team.id)? == 0 {
            let hour = 3_600_000;
            let posts: [(&str, &str, &str, u32, i64); 5] = [
                (
                    DEMO_SSO_DISPLAY_NAME,
                    DEMO_DISPLAY_NAME,
                    "リリース対応ありがとうございました！夜遅くまで本当に助かりました。",
                    40,
                    50,
                ),
                (
                    DEMO_LOGIN_ID_DISPLAY_NAME,
                    DEMO_SSO_DISPLAY_NAME,
                    "Thanks for walking me through the new expense flow. It saved me an afternoon.",
                    20,
                    30,
                ),
                (
                    DEMO_DISPLAY_NAME,
                    DEMO_LOGIN_ID_DISPLAY_NAME,
                    "朝会のファシリテーション、いつも分かりやすくて助かっています。",
                    30,
                    20,
                ),
                (
                    DEMO_SSO_DISPLAY_NAME,
                    DEMO_LOGIN_ID_DISPLAY_NAME,
                    "Great catch on the invoice mismatch before it went out!",
                    15,
                    6,
                ),
                (
                    DEMO_DISPLAY_NAME,
                    DEMO_SSO_DISPLAY_NAME,
                    "新メンバー向けのオンボーディング資料、とても丁寧でした。Thank you!",
                    25,
                    1,
                ),
            ];
            for (from, to, message, points, hours_ago) in posts {
                store::insert_post(
                    &mut tx,
                    team.id,
                    from,
                    to,
                    message,
                    points,
                    now - hours_ago * hour,
                )?;
            }
        }
        tx.commit()
    })?;
    Ok(())
}

/// The `/dev` endpoints, under the API prefix. The server mounts them only with `--dev`: outside
/// it they are not routes at all (404 `not_found`, as for any unknown path), and the production
/// OpenAPI document does not name them. They have a document of their own, [`openapi`].
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    let dev = OpenApiRouter::new()
        .routes(routes!(add_user))
        .routes(routes!(upsert_team))
        .routes(routes!(suppress))
        .routes(routes!(sign_in_as))
        .routes(routes!(outbox));
    OpenApiRouter::with_openapi(DevApiDoc::openapi()).nest(API_PREFIX, dev)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Unipos password-reset API: dev endpoints",
        version = "1.0.0",
        description = "Served only by a server started with `--dev` (on a loopback address): \
            demo data, password-less sessions standing in for SSO, and sent mail with its links. \
            The API itself is described in `openapi.json`."
    ),
    components(schemas(
        unipos_protocol::ErrorCode,
        unipos_protocol::PolicyRule,
        unipos_protocol::LoginMethod,
        unipos_protocol::Role
    )),
    tags((name = "dev", description = "Demo data and sent mail"))
)]
struct DevApiDoc;

/// The OpenAPI 3.1 document of the `/dev` endpoints (`crates/server/openapi-dev.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().into_openapi()
}

fn bad_request(message: &'static str) -> ApiError {
    ApiError::with_message(ErrorCode::BadRequest, message)
}

/// A member to add (dev only).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    /// Required for `email` and `sso` members.
    #[serde(default)]
    pub email: Option<String>,
    /// The organisation's slug; created with the default policy if missing. Default `demo`;
    /// required for `login_id` members.
    #[serde(default)]
    pub team: Option<String>,
    /// Required for `login_id` members.
    #[serde(default)]
    pub login_id: Option<String>,
    /// Required unless `sso` (ignored then); must meet the organisation's policy.
    #[serde(default)]
    pub password: Option<String>,
    pub display_name: String,
    pub login_method: LoginMethod,
    /// `member` unless given.
    #[serde(default)]
    pub role: Role,
}

impl std::fmt::Debug for NewMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMember")
            .field("email", &self.email)
            .field("team", &self.team)
            .field("login_id", &self.login_id)
            .field("password", &"<redacted>")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A [`NewMember`] whose fields make sense together.
pub(crate) struct MemberFields {
    email: Option<Email>,
    login_id: Option<String>,
    slug: String,
}

/// Checks that the fields of `req` make a member of its kind.
pub(crate) fn member_fields(req: &NewMember) -> Result<MemberFields, ApiError> {
    let email = match (&req.email, req.login_method) {
        (Some(e), _) => Some(Email::parse(e).map_err(|e| ApiError::email(&e))?),
        (None, LoginMethod::LoginId) => None,
        (None, _) => return Err(bad_request("Email and SSO members need an email.")),
    };
    let login_id = match (&req.login_id, req.login_method) {
        (Some(id), LoginMethod::LoginId) if !id.trim().is_empty() => Some(id.clone()),
        (_, LoginMethod::LoginId) => return Err(bad_request("Login-ID members need a login_id.")),
        (Some(_), _) => return Err(bad_request("Only Login-ID members have a login_id.")),
        (None, _) => None,
    };
    if login_id.is_some() && req.team.is_none() {
        return Err(bad_request("Login-ID members need a team."));
    }
    if req.display_name.trim().is_empty() {
        return Err(bad_request("The display_name is empty."));
    }
    let slug = req.team.clone().unwrap_or_else(|| DEMO_TEAM.to_owned());
    Ok(MemberFields {
        email,
        login_id,
        slug,
    })
}

/// The member's team, made with the default policy when there is none of that slug.
pub(crate) fn team_of(c: &mut Conn<'_>, fields: &MemberFields, now: i64) -> DbResult<Team> {
    Ok(match store::team_by_slug(c, &fields.slug)? {
        Some(team) => team,
        None => store::upsert_team(
            c,
            &fields.slug,
            &fields.slug,
            &PasswordPolicy::default(),
            now,
        )?,
    })
}

/// The password to hash for the member (none for SSO), once it meets the team's policy.
pub(crate) fn password_of(
    req: &NewMember,
    fields: &MemberFields,
    team: &Team,
) -> Result<Option<String>, ApiError> {
    if req.login_method == LoginMethod::Sso {
        return Ok(None);
    }
    let password = req
        .password
        .clone()
        .ok_or_else(|| bad_request("Email and Login-ID members need a password."))?;
    let owner = PasswordOwner {
        email: fields.email.as_ref().map(Email::as_str),
        display_name: Some(&req.display_name),
        login_id: fields.login_id.as_deref(),
    };
    let failed = team.policy.check_for(&password, &owner);
    if !failed.is_empty() {
        return Err(ApiError::policy(&failed));
    }
    Ok(Some(password))
}

/// Adds the member, unless one with the address or (in the team) the Login ID exists.
pub(crate) fn insert_member(
    c: &mut Conn<'_>,
    req: &NewMember,
    fields: &MemberFields,
    team: &Team,
    password_hash: Option<&str>,
    now: i64,
) -> Result<UserRow, ApiError> {
    if let Some(e) = &fields.email {
        if store::user_by_email(c, &e.normalized())?.is_some() {
            return Err(bad_request("A member with this email exists."));
        }
    }
    if let Some(id) = &fields.login_id {
        if store::user_by_login_id(c, &team.slug, id)?.is_some() {
            return Err(bad_request(
                "A member with this login_id exists in the team.",
            ));
        }
    }
    let member = NewUser {
        team_id: team.id,
        email: fields.email.as_ref(),
        login_id: fields.login_id.as_deref(),
        display_name: &req.display_name,
        login_method: req.login_method,
        password_hash,
        role: req.role,
    };
    Ok(store::insert_user(c, &member, now)?)
}

/// Add a member.
#[utoipa::path(
    post,
    path = "/dev/users",
    tag = "dev",
    request_body = NewMember,
    responses(
        (status = 201, description = "Added", body = User),
        (status = 422, description = "`email_*` or `password_policy`", body = ErrorEnvelope),
        ServerBusy,
        BodyErrors,
    )
)]
pub(crate) async fn add_user(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewMember>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let fields = member_fields(&req)?;
    let now = state.clock.now_ms();
    let (team, fields) = state
        .db
        .call(move |c| Ok((team_of(c, &fields, now)?, fields)))
        .await?;
    let password_hash = match password_of(&req, &fields, &team)? {
        Some(password) => Some(state.hasher.run(move || hash_password(&password)).await??),
        None => None,
    };
    let user = state
        .db
        .call(move |c| insert_member(c, &req, &fields, &team, password_hash.as_deref(), now))
        .await?;
    Ok((StatusCode::CREATED, Json(user.to_wire())))
}

/// An organisation to create or update (dev only).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DevTeam {
    pub slug: String,
    /// Defaults to the slug.
    #[serde(default)]
    pub name: Option<String>,
    /// Defaults to the default policy.
    #[serde(default)]
    pub policy: Option<PasswordPolicy>,
    /// The email domains that log in with SSO through this organisation (`example.co.jp`): a
    /// login with an address in one is answered `sso_required`, whether or not the address
    /// belongs to a member. Given, it replaces the organisation's list (a domain another
    /// organisation had moves to this one); left out, the list stays.
    #[serde(default)]
    pub sso_domains: Option<Vec<String>>,
}

/// A domain as an address's domain: what `Email::parse` takes after the `@`, lowercased.
fn sso_domain(domain: &str) -> Result<String, ApiError> {
    Email::parse(&format!("x@{domain}"))
        .map(|e| e.domain().to_ascii_lowercase())
        .map_err(|_| {
            ApiError::with_message(
                ErrorCode::BadRequest,
                "Each SSO domain is the part of an address after the @ (example.co.jp).",
            )
        })
}

/// Creates the team or sets its name, policy and SSO domains, and answers it as it now is.
pub(crate) fn set_team(c: &mut Conn<'_>, req: &DevTeam, now: i64) -> Result<DevTeam, ApiError> {
    if req.slug.trim().is_empty() {
        return Err(bad_request("The slug is empty."));
    }
    let sso_domains = req
        .sso_domains
        .as_ref()
        .map(|domains| {
            domains
                .iter()
                .map(|d| sso_domain(d))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let name = req.name.clone().unwrap_or_else(|| req.slug.clone());
    let policy = req.policy.clone().unwrap_or_default();
    let mut tx = c.immediate(&format!("team:{}", req.slug.to_lowercase()))?;
    let team = store::upsert_team(&mut tx, &req.slug, &name, &policy, now)?;
    if let Some(domains) = &sso_domains {
        store::set_sso_domains(&mut tx, team.id, domains, now)?;
    }
    let sso_domains = store::sso_domains_of(&mut tx, team.id)?;
    tx.commit()?;
    Ok(DevTeam {
        slug: team.slug,
        name: Some(team.name),
        policy: Some(team.policy),
        sso_domains: Some(sso_domains),
    })
}

/// Create an organisation or set its name, password policy and SSO domains (`--dev` only).
#[utoipa::path(
    post,
    path = "/dev/teams",
    tag = "dev",
    request_body = DevTeam,
    responses(
        (status = 200, description = "Created or updated", body = DevTeam),
        BodyErrors,
    )
)]
pub(crate) async fn upsert_team(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<DevTeam>,
) -> Result<Json<DevTeam>, ApiError> {
    let now = state.clock.now_ms();
    let team = state.db.call(move |c| set_team(c, &req, now)).await?;
    Ok(Json(team))
}

/// An address to mark undeliverable.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Suppress {
    pub email: String,
}

/// Marks the address undeliverable, as a bounce would.
pub(crate) fn mark_undeliverable(c: &mut Conn<'_>, email: &Email, now: i64) -> DbResult<()> {
    store::suppress(c, &email.normalized(), "bounced (dev)", now)
}

/// Mark an address undeliverable, as a bounce would: no reset mail goes to it.
#[utoipa::path(
    post,
    path = "/dev/suppressed",
    tag = "dev",
    request_body = Suppress,
    responses(
        (status = 204, description = "Marked"),
        (status = 422, description = "`email_*`", body = ErrorEnvelope),
        BodyErrors,
    )
)]
pub(crate) async fn suppress(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<Suppress>,
) -> Result<StatusCode, ApiError> {
    let email = Email::parse(&req.email).map_err(|e| ApiError::email(&e))?;
    let now = state.clock.now_ms();
    state
        .db
        .call(move |c| Ok(mark_undeliverable(c, &email, now)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sent mail, newest last.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutboxList {
    pub messages: Vec<SentMail>,
}

/// Sent mail, newest last, the same at every instance on the database (outside `--dev` a
/// mail's link is forgotten once it is delivered).
#[utoipa::path(
    get,
    path = "/dev/outbox",
    tag = "dev",
    params(("to" = Option<String>, Query, description = "Only mail to this address (case-insensitive)")),
    responses(
        (status = 200, description = "Sent mail", body = OutboxList),
        TimedOut,
    )
)]
pub(crate) async fn outbox(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<OutboxList>, ApiError> {
    let to: Option<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "to")
        .map(|(_, v)| v.into_owned());
    let links = state.links.clone();
    let messages = state
        .db
        .call(move |c| Ok(outbox::sent(c, &links, to.as_deref())?))
        .await?;
    Ok(Json(OutboxList { messages }))
}

/// Whom to sign in as (dev only): `email`, or `team` + `login_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInAs {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub login_id: Option<String>,
}

/// The member `req` names.
pub(crate) fn member_named(c: &mut Conn<'_>, req: &SignInAs) -> Result<UserRow, ApiError> {
    let email = match &req.email {
        Some(email) => Some(Email::parse(email).map_err(|e| ApiError::email(&e))?),
        None => None,
    };
    let user = match (&email, &req.team, &req.login_id) {
        (Some(email), None, None) => store::user_by_email(c, &email.normalized())?,
        (None, Some(team), Some(id)) => store::user_by_login_id(c, team, id)?,
        _ => return Err(bad_request("Give email, or team and login_id.")),
    };
    user.ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "There is no such member."))
}

/// Open a session for any member without a password, as SSO would.
#[utoipa::path(
    post,
    path = "/dev/sessions",
    tag = "dev",
    request_body = SignInAs,
    responses(
        (status = 201, description = "Signed in", body = SessionResponse),
        (status = 404, description = "`not_found`: no such member", body = ErrorEnvelope),
        BodyErrors,
    )
)]
pub(crate) async fn sign_in_as(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SignInAs>,
) -> Result<(StatusCode, Json<SessionResponse>), ApiError> {
    let now = state.clock.now_ms();
    let session = state.new_session(now);
    let (hash, expires_at) = (session.hash.clone(), session.expires_at);
    let user = state
        .db
        .call(move |c| {
            let user = member_named(c, &req)?;
            store::insert_session(c, &user.id, &hash, now, expires_at)?;
            Ok(user)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(session.into_response(&user))))
}

/// With `--dev`, answers only requests addressed to this machine by a loopback name
/// (`localhost`, `127.x.x.x`, `[::1]`, any port). A web page whose own name an attacker re-pointed
/// at 127.0.0.1 (DNS rebinding) reaches the server as its own origin, but sends its own name as
/// the Host, so it cannot read `/dev/outbox`'s live links or mint sessions. The port is not
/// checked: the rebinding page's Host carries the attacker's name whatever the port, while a
/// proxy on this machine (nginx in `scripts/cluster.sh`, a TLS terminator) passes its own.
pub async fn only_loopback_host(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    // HTTP/2 carries the authority in the request line; HTTP/1.1 in the Host header.
    let host = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            req.headers()
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        });
    match host {
        Some(host) if is_loopback_authority(&host) => next.run(req).await,
        _ => ApiError::new(ErrorCode::HostNotAllowed).into_response(),
    }
}

/// `host[:port]` names this machine: `localhost`, or a loopback IP address written out.
fn is_loopback_authority(authority: &str) -> bool {
    let name = match authority.rsplit_once(':') {
        // `[::1]` alone, or `[::1]:PORT`.
        _ if authority.starts_with('[') && authority.ends_with(']') => authority,
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return false,
        None => authority,
    };
    if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    }
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod host_tests {
    use super::is_loopback_authority;

    #[test]
    fn only_a_loopback_name_is_this_machine() {
        for own in [
            "127.0.0.1:8787",
            "127.0.0.1",
            "127.0.0.2:9000",
            "localhost:8787",
            "LOCALHOST",
            "[::1]:8787",
            "[::1]",
        ] {
            assert!(is_loopback_authority(own), "{own}");
        }
        for other in [
            "attacker.example:8787",
            "attacker.example",
            "127.0.0.1.attacker.example:8787",
            "localhost.attacker.example:8787",
            "127.0.0.1.nip.io",
            "[::1]:8787:8787",
            "[::ffff:8.8.8.8]:80",
            "10.0.0.1:8787",
            "0.0.0.0:8787",
            "localhost:",
            "localhost:x",
            ":8787",
            "",
        ] {
            assert!(!is_loopback_authority(other), "{other}");
        }
    }
}
