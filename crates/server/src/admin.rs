//! Team Admin > Member > Members: an admin lists and adds the members of their own team, resets
//! a member's password, and prints a Login ID member's Account Information sheet, whose QR code
//! is that member's way (back) in.
//!
//! Every endpoint acts on the admin's own team only; another team's member is answered exactly
//! as a member who does not exist (`member_not_found`).

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use unipos_protocol::{
    check_display_name, check_login_id, AddMemberRequest, AdminMember, AdminMembers,
    AdminPasswordReset, ContinueWith, ErrorCode, ErrorEnvelope, Language, LoginMethod, Role,
    PDF_MEDIA_TYPE,
};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoResponses, ToSchema};

use crate::account_sheet::{self, SheetFacts};
use crate::api::{BodyErrors, RateLimited, TimedOut, Unauthenticated};
use crate::client_addr::ClientKey;
use crate::error::ApiError;
use crate::extract::{AcceptLanguage, ApiJson, Auth};
use crate::request_log::RequestId;
use crate::secrets::{new_token, token_hash};
use crate::state::AppState;
use crate::store::{self, NewUser, UserRow};

/// Members listed at most (a query narrows a larger team down).
const MAX_LISTED: u32 = 200;
/// The longest search text taken.
const MAX_QUERY_CHARS: usize = 100;

/// `admin_required`: the session's member is not an admin of this team.
#[derive(IntoResponses)]
#[response(status = 403)]
#[allow(dead_code)]
pub struct AdminOnly(ErrorEnvelope);

/// `member_not_found`: the admin's team has no member with this id (another team's member is
/// answered the same).
#[derive(IntoResponses)]
#[response(status = 404)]
#[allow(dead_code)]
pub struct NoSuchMember(ErrorEnvelope);

/// An Account Information sheet: a one-page PDF (only describes the response).
pub struct AccountSheetPdf;

impl utoipa::PartialSchema for AccountSheetPdf {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type(PDF_MEDIA_TYPE)
            .description(Some("A one-page A4 PDF."))
            .into()
    }
}

impl ToSchema for AccountSheetPdf {}

/// The member behind the session, who is an admin of their team; `admin_required` otherwise.
pub struct AdminAuth {
    pub admin: UserRow,
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Auth { user, .. } = Auth::from_request_parts(parts, state).await?;
        if user.role == Role::Admin {
            Ok(AdminAuth { admin: user })
        } else {
            Err(ApiError::new(ErrorCode::AdminRequired))
        }
    }
}

/// `name=value` of the query string, decoded.
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

impl AppState {
    /// The member `id` of the admin's team; `member_not_found` for anyone else.
    async fn member_of(&self, admin: &UserRow, id: String) -> Result<UserRow, ApiError> {
        let team = admin.team_id;
        let found = self
            .db
            .call(move |c| Ok(store::user_by_id(c, &id)?))
            .await?;
        found
            .filter(|m| m.team_id == team)
            .ok_or_else(|| ApiError::new(ErrorCode::MemberNotFound))
    }
}

/// List or find the members of the admin's team.
#[utoipa::path(
    get,
    path = "/admin/members",
    tag = "admin",
    security(("bearer" = [])),
    params(("query" = Option<String>, Query, description = "Only members whose display name, email address or Login ID contains this text (case aside), or whose `id` it is")),
    responses(
        (status = 200, description = "The team's members, by display name (200 at most)", body = AdminMembers),
        AdminOnly,
        Unauthenticated,
        TimedOut,
    )
)]
pub async fn members(
    State(state): State<AppState>,
    AdminAuth { admin }: AdminAuth,
    RawQuery(query): RawQuery,
) -> Result<Json<AdminMembers>, ApiError> {
    let text: String = query_param(query.as_deref(), "query")
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_QUERY_CHARS)
        .collect();
    let team = admin.team_id;
    let rows = state
        .db
        .call(move |c| Ok(store::team_members(c, team, &text, MAX_LISTED)?))
        .await?;
    Ok(Json(AdminMembers {
        members: rows.iter().map(UserRow::to_admin_view).collect(),
    }))
}

/// Add a Login ID member to the admin's team, without a password: print their Account
/// Information sheet next, whose QR code is how they set one.
#[utoipa::path(
    post,
    path = "/admin/members",
    tag = "admin",
    security(("bearer" = [])),
    request_body = AddMemberRequest,
    responses(
        (status = 201, description = "Added", body = AdminMember),
        (status = 409, description = "`login_id_taken`", body = ErrorEnvelope),
        (status = 422, description = "`login_id_invalid` or `display_name_invalid`", body = ErrorEnvelope),
        AdminOnly,
        Unauthenticated,
        RateLimited,
        BodyErrors,
    )
)]
pub async fn add_member(
    State(state): State<AppState>,
    client: ClientKey,
    AdminAuth { admin }: AdminAuth,
    ApiJson(req): ApiJson<AddMemberRequest>,
) -> Result<(StatusCode, Json<AdminMember>), ApiError> {
    state.limit_client(&client).await?;
    if !req.team.eq_ignore_ascii_case(&admin.team_slug) {
        return Err(ApiError::new(ErrorCode::AdminRequired));
    }
    check_login_id(&req.login_id).map_err(ApiError::new)?;
    check_display_name(&req.display_name).map_err(ApiError::new)?;
    let (team_id, slug, now) = (admin.team_id, admin.team_slug.clone(), state.clock.now_ms());
    let member = state
        .db
        .call(move |c| {
            let mut tx = c.immediate(&format!("members:{team_id}"))?;
            if store::user_by_login_id(&mut tx, &slug, &req.login_id)?.is_some() {
                return Err(ApiError::new(ErrorCode::LoginIdTaken));
            }
            let new = NewUser {
                team_id,
                email: None,
                login_id: Some(&req.login_id),
                display_name: req.display_name.trim(),
                login_method: LoginMethod::LoginId,
                password_hash: None,
                role: Role::Member,
            };
            let member = store::insert_user(&mut tx, &new, now)?;
            tx.commit()?;
            Ok(member)
        })
        .await?;
    tracing::info!(member = member.id, admin = admin.id, "member added");
    Ok((StatusCode::CREATED, Json(member.to_admin_view())))
}

/// Reset a member's password (Team Admin > Member > Members > Reset Password > Reset).
///
/// In one transaction: every session of the member is logged out, every reset link they have
/// stops working, and their password stops working. An email member is sent a reset mail; a
/// Login ID member continues with a new Account Information sheet.
#[utoipa::path(
    post,
    path = "/admin/members/{member_id}/password_reset",
    tag = "admin",
    security(("bearer" = [])),
    params(("member_id" = String, Path, description = "The member's `id`")),
    responses(
        (status = 200, description = "Reset; `continue_with` says how the member sets a new password", body = AdminPasswordReset),
        (status = 409, description = "`member_uses_sso`: the company's SSO manages this member's password", body = ErrorEnvelope),
        AdminOnly,
        NoSuchMember,
        Unauthenticated,
        RateLimited,
        TimedOut,
    )
)]
pub async fn password_reset(
    State(state): State<AppState>,
    client: ClientKey,
    request_id: RequestId,
    accept_language: AcceptLanguage,
    AdminAuth { admin }: AdminAuth,
    Path(member_id): Path<String>,
) -> Result<Json<AdminPasswordReset>, ApiError> {
    // The request has no body: the mail is in the language of the admin's Accept-Language.
    let lang = accept_language.or(None);
    state.limit_client(&client).await?;
    let member = state.member_of(&admin, member_id).await?;
    let continue_with = match member.login_method {
        LoginMethod::Sso => return Err(ApiError::new(ErrorCode::MemberUsesSso)),
        LoginMethod::Email => ContinueWith::Email,
        LoginMethod::LoginId => ContinueWith::AccountSheet,
    };
    let now = state.clock.now_ms();
    let target = member.clone();
    let (sessions, links) = state
        .db
        .call(move |c| {
            let mut tx = c.immediate(&format!("user:{}", target.id))?;
            let ended = store::admin_reset_password(&mut tx, &target, now)?;
            if let (ContinueWith::Email, Some(to)) = (continue_with, &target.email_normalized) {
                let mail = store::NewMail {
                    kind: store::MailKind::AdminReset,
                    to,
                    display_name: Some(&target.display_name),
                    request_id: Some(&request_id.0),
                    // The admin asked: no app of the member's holds a verifier.
                    code_challenge: None,
                    lang,
                };
                store::queue_mail(&mut tx, &mail, now)?;
            }
            tx.commit()?;
            Ok(ended)
        })
        .await?;
    state.mail_due.notify_one();
    tracing::info!(
        member = member.id,
        admin = admin.id,
        sessions,
        links,
        "password reset by an admin"
    );
    let mut view = member.to_admin_view();
    view.has_password = false;
    Ok(Json(AdminPasswordReset {
        member: view,
        continue_with,
        sessions_revoked: u32::try_from(sessions).unwrap_or(u32::MAX),
        links_ended: u32::try_from(links).unwrap_or(u32::MAX),
    }))
}

/// A Login ID member's Account Information sheet, to print and hand over.
///
/// Its QR code (lower right) holds a reset link of the same shape as a mail's. Tokens are
/// stored only as hashes, so every sheet carries a new link: making a sheet ends the QR code of
/// every earlier one. The link works once, for `--account-sheet-ttl` (7 days by default), and
/// ends earlier at the member's next reset or sheet, or when their password is set by any path.
#[utoipa::path(
    get,
    path = "/admin/members/{member_id}/account_sheet",
    tag = "admin",
    security(("bearer" = [])),
    params(
        ("member_id" = String, Path, description = "The member's `id`"),
        ("lang" = Option<String>, Query, description = "`en` (default) or `ja`"),
    ),
    responses(
        (status = 200, description = "The sheet, an A4 PDF (a new QR code: earlier sheets' codes stop working)", content_type = "application/pdf", body = AccountSheetPdf,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"unipos-account-LOGINID.pdf\"`"))),
        (status = 400, description = "`bad_request`: `lang` is neither `en` nor `ja`", body = ErrorEnvelope),
        (status = 409, description = "`member_uses_email` (they get a reset mail instead) or `member_uses_sso`", body = ErrorEnvelope),
        (status = 503, description = "`account_sheet_unavailable`: the server has no font for sheets (`--sheet-font`)", body = ErrorEnvelope),
        AdminOnly,
        NoSuchMember,
        Unauthenticated,
        TimedOut,
    )
)]
pub async fn account_sheet(
    State(state): State<AppState>,
    AdminAuth { admin }: AdminAuth,
    Path(member_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let language = match query_param(query.as_deref(), "lang").as_deref() {
        None | Some("en") => Language::En,
        Some("ja") => Language::Ja,
        Some(_) => {
            return Err(ApiError::with_message(
                ErrorCode::BadRequest,
                "lang is en or ja.",
            ))
        }
    };
    let member = state.member_of(&admin, member_id).await?;
    let login_id = match (member.login_method, &member.login_id) {
        (LoginMethod::Sso, _) => return Err(ApiError::new(ErrorCode::MemberUsesSso)),
        (LoginMethod::LoginId, Some(id)) => id.clone(),
        _ => return Err(ApiError::new(ErrorCode::MemberUsesEmail)),
    };
    let font = state
        .sheet_font
        .clone()
        .ok_or_else(|| ApiError::new(ErrorCode::AccountSheetUnavailable))?;
    let team_id = member.team_id;
    let team = state
        .db
        .call(move |c| Ok(store::team_by_id(c, team_id)?))
        .await?;
    let token = new_token();
    let now = state.clock.now_ms();
    let expires_at = now + state.config.account_sheet_ttl.as_millis() as i64;
    let link = state.links.reset_url(&token);
    // Made before the link exists: a sheet that could not be made ends no earlier sheet.
    let sheet_login_id = login_id.clone();
    let display_name = member.display_name.clone();
    let pdf = tokio::task::spawn_blocking(move || {
        account_sheet::render(
            &SheetFacts {
                team_name: &team.name,
                team_slug: &team.slug,
                login_id: &sheet_login_id,
                display_name: &display_name,
                made_at_ms: now,
                expires_at_ms: expires_at,
                link: &link,
                language,
            },
            &font,
        )
    })
    .await??;
    let (user_id, hash) = (member.id.clone(), token_hash(&token));
    state
        .db
        .call(move |c| {
            let mut tx = c.immediate(&format!("user:{user_id}"))?;
            // Handed over on paper, not asked for by an app: not bound.
            store::insert_reset_token(&mut tx, &user_id, &hash, now, expires_at, None)?;
            store::supersede_reset_tokens(&mut tx, &user_id, &hash, now)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    tracing::info!(member = member.id, admin = admin.id, "account sheet made");
    let disposition = format!("attachment; filename=\"unipos-account-{login_id}.pdf\"");
    let mut response = (StatusCode::OK, pdf).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PDF_MEDIA_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
