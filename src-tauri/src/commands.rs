//! The commands the web view calls. Each is a few lines: take the arguments, call the client
//! crate's flow (or the protocol's rule), record a failure's request id, hand the result over.
//! No business rule lives here; tokens never leave Rust.

use tauri::ipc::Channel;
use tauri::State;
use unipos_client::unipos_protocol::policy::RuleCheck;
use unipos_client::unipos_protocol::{Email, EmailError, PasswordPolicyResponse, Timeline, User};
use unipos_client::{
    ClientError, LinkChecked, LoggedIn, LoggedOut, PasswordChanged, ResetRequested,
};

use unipos_client::support::LinkArrival;

use crate::state::AppState;
use crate::support_report::ReportView;
use crate::ui_values::{
    ApiUrlChange, AppInfo, HelpTopic, IncomingLink, Language, LinkTarget, LinkWaiting, LoginTab,
    Preferences, Presentation, Startup,
};

type Result<T> = std::result::Result<T, ClientError>;

/// Where "Log in with SSO" leads, under the web base.
pub const SSO_PATH: &str = "/login/sso";

/// The help centre's pages, by the titles the seed page links to, in the language the app
/// shows: a member reading Japanese gets the Japanese help centre and its titles.
#[allow(
    clippy::expect_used,
    reason = "the help centre's address is a constant, and a test opens every page"
)]
pub fn help_url(topic: HelpTopic, language: Language) -> url::Url {
    let (locale, title) = match (language, topic) {
        (Language::En, HelpTopic::LoginIdPassword) => (
            "en-us",
            "I forgot / want to reset my password (with Login ID)",
        ),
        (Language::En, HelpTopic::SsoLogin) => {
            ("en-us", "How to sign up / log in / log out (with SSO)")
        }
        (Language::En, HelpTopic::CantReceiveEmail) => {
            ("en-us", "I can't receive a password reset email")
        }
        (Language::Ja, HelpTopic::LoginIdPassword) => {
            ("ja", "パスワードを忘れた・再設定したい（ログインID）")
        }
        (Language::Ja, HelpTopic::SsoLogin) => {
            ("ja", "新規登録・ログイン・ログアウトの方法（SSO）")
        }
        (Language::Ja, HelpTopic::CantReceiveEmail) => ("ja", "パスワード再設定メールが届かない"),
    };
    let search = format!("https://help.unipos.me/hc/{locale}/search");
    url::Url::parse_with_params(&search, [("query", title)]).expect("the help centre's address")
}

pub(crate) fn info_of(state: &AppState) -> AppInfo {
    let flows = state.flows();
    let locale = sys_locale::get_locale();
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        platform: std::env::consts::OS.to_owned(),
        mobile: cfg!(mobile),
        device_language: locale.as_deref().map_or(Language::En, Language::of_locale),
        locale,
        api_url: flows.config().api_base.as_str().to_owned(),
        web_base: flows.config().web_base.as_str().to_owned(),
        chosen_api_host: state.chosen_api_host(),
        trace_startup: crate::startup_trace::is_on(),
    }
}

/// What the first screen needs, without the network: facts, preferences, whether a session is
/// stored, and the link the app was opened with.
#[tauri::command]
#[specta::specta]
pub async fn startup(state: State<'_, AppState>) -> Result<Startup> {
    let (has_session, keychain_error) = match state.has_session().await {
        Ok(has) => (has, None),
        Err(e) => (false, Some(state.recorded(e))),
    };
    Ok(Startup {
        info: info_of(&state),
        preferences: state.preferences(),
        has_session,
        incoming_link: take_incoming(&state).await,
        keychain_error,
    })
}

/// Settings > Language (`None`: follow the OS).
#[tauri::command]
#[specta::specta]
pub fn set_language(state: State<'_, AppState>, language: Option<Language>) -> Preferences {
    state.update_preferences(|p| p.language = language)
}

/// Settings > Support: force the phone or desktop presentation (`None`: automatic).
#[tauri::command]
#[specta::specta]
pub fn set_presentation(
    state: State<'_, AppState>,
    presentation: Option<Presentation>,
) -> Preferences {
    state.update_preferences(|p| p.presentation = presentation)
}

/// Settings > Support: point the app at another API, links included (`None`: back to the
/// configured one). A release build first asks to confirm the host (`confirmed_host`).
#[tauri::command]
#[specta::specta]
pub fn set_api_url(
    state: State<'_, AppState>,
    api_url: Option<String>,
    confirmed_host: Option<String>,
) -> Result<ApiUrlChange> {
    let asked = state
        .set_api_url(api_url, confirmed_host.as_deref(), CONFIRM_ANOTHER_API)
        .map_err(|e| state.recorded(e))?;
    Ok(match asked {
        Some(host) => ApiUrlChange::Confirm { host },
        None => ApiUrlChange::Applied {
            info: info_of(&state),
        },
    })
}

/// Whether pointing the app at another API needs the member to confirm its host: in the builds
/// members install. (Support staff run debug builds against local servers.)
const CONFIRM_ANOTHER_API: bool = !cfg!(debug_assertions);

/// The protocol's email rules (nothing is sent): `None` when the address is acceptable.
#[tauri::command]
#[specta::specta]
pub fn check_address(input: String) -> Option<EmailError> {
    Email::parse(&input).err()
}

/// Forgot password → **Send**. The mail comes in `language`, the one the app shows; the answer
/// names its subject.
#[tauri::command]
#[specta::specta]
pub async fn request_reset(
    state: State<'_, AppState>,
    email: String,
    language: Language,
) -> Result<ResetRequested> {
    let flows = state.flows().with_language(language);
    let sent = flows.request_reset(&email).await;
    sent.map_err(|e| state.recorded(e))
}

/// A link pasted into Check your email: the link rules, then held in Rust.
#[tauri::command]
#[specta::specta]
pub async fn open_link(state: State<'_, AppState>, url: String) -> Result<LinkTarget> {
    open_given(&state, &url, LinkArrival::Paste).await
}

/// What the camera read off an Account Information sheet's QR code (iOS, Android): the same
/// link rules as a pasted link, then held in Rust.
#[tauri::command]
#[specta::specta]
pub async fn open_scanned_link(state: State<'_, AppState>, url: String) -> Result<LinkTarget> {
    open_given(&state, &url, LinkArrival::Scan).await
}

/// A link the member gave the app by hand or camera: judged, noted for support, held.
async fn open_given(state: &AppState, url: &str, came: LinkArrival) -> Result<LinkTarget> {
    let flows = state.flows();
    let verdict = flows.open_link(url);
    state.links.note(&verdict, came);
    let opened = verdict.map_err(|e| state.recorded(e))?;
    Ok(state.links.hold(&flows, opened).await)
}

/// Gives Rust the channel on which the UI hears that the OS handed over a link (then it calls
/// `take_incoming_link`).
#[tauri::command]
#[specta::specta]
pub fn watch_links(state: State<'_, AppState>, on_link: Channel<LinkWaiting>) {
    state.links.watch(on_link);
}

/// The link the OS opened the app with (cold start) or handed over since (warm start), once.
#[tauri::command]
#[specta::specta]
pub async fn take_incoming_link(state: State<'_, AppState>) -> Result<Option<IncomingLink>> {
    Ok(take_incoming(&state).await)
}

/// Asks the server whether the held link still works (it is not used up by asking) and keeps
/// the organisation's policy for the checklist.
#[tauri::command]
#[specta::specta]
pub async fn check_reset_link(state: State<'_, AppState>) -> Result<LinkChecked> {
    let pending = state.links.pending_reset().ok_or_else(no_link)?;
    let checked = state.flows().check_reset(&pending).await;
    state
        .links
        .note_check(&pending, checked.as_ref().map(|_| ()));
    let checked = checked.map_err(|e| state.recorded(e))?;
    // What support (and the package test) reads to know the member reached a usable Reset screen.
    log::info!(
        "{} ({}), Reset shows",
        unipos_client::support::LOG_RESET_LINK_VALID,
        pending.token_hint()
    );
    state.links.set_policy(checked.policy.clone());
    Ok(checked)
}

/// The checklist of the policy from the last link check, for `password`.
#[tauri::command]
#[specta::specta]
pub fn policy_checklist(state: State<'_, AppState>, password: String) -> Vec<RuleCheck> {
    state
        .links
        .policy()
        .map(|p| p.checklist(&password))
        .unwrap_or_default()
}

/// **"Set password and login"** with the held link; the session goes to the keychain. The
/// "password changed" notice comes in `language`.
#[tauri::command]
#[specta::specta]
pub async fn set_password_and_login(
    state: State<'_, AppState>,
    new_password: String,
    new_password_confirmation: String,
    language: Language,
) -> Result<LoggedIn> {
    let pending = state.links.pending_reset().ok_or_else(no_link)?;
    let flows = state.flows().with_language(language);
    let done = flows
        .set_password_and_login(&pending, &new_password, &new_password_confirmation)
        .await
        .map_err(|e| state.recorded(e))?;
    state.links.forget_reset();
    Ok(done)
}

/// Log in with an email address.
#[tauri::command]
#[specta::specta]
pub async fn login_with_email(
    state: State<'_, AppState>,
    email: String,
    password: String,
) -> Result<LoggedIn> {
    state.update_preferences(|p| p.last_login_method = Some(LoginTab::Email));
    let done = state.flows().login_with_email(&email, &password).await;
    done.map_err(|e| state.recorded(e))
}

/// Log in with team + Login ID.
#[tauri::command]
#[specta::specta]
pub async fn login_with_login_id(
    state: State<'_, AppState>,
    team: String,
    login_id: String,
    password: String,
) -> Result<LoggedIn> {
    state.update_preferences(|p| p.last_login_method = Some(LoginTab::LoginId));
    let flows = state.flows();
    let done = flows.login_with_login_id(&team, &login_id, &password).await;
    done.map_err(|e| state.recorded(e))
}

/// "Log in with SSO": the organisation's SSO page in the browser. `false` if none opened.
#[tauri::command]
#[specta::specta]
pub fn open_sso(state: State<'_, AppState>) -> bool {
    let url = state.flows().config().web_base.join(SSO_PATH);
    opened(state.open_in_browser(&url))
}

/// A help-centre page in the browser, in the language the app shows. `false` if none opened.
#[tauri::command]
#[specta::specta]
pub fn open_help(state: State<'_, AppState>, topic: HelpTopic, language: Language) -> bool {
    opened(state.open_in_browser(help_url(topic, language).as_str()))
}

/// The stored session's member (`GET /me`); an expired session is dropped.
#[tauri::command]
#[specta::specta]
pub async fn restore_session(state: State<'_, AppState>) -> Result<User> {
    let me = state.flows().me().await;
    me.map(|reply| reply.value).map_err(|e| state.recorded(e))
}

/// `GET /timeline`.
#[tauri::command]
#[specta::specta]
pub async fn timeline(state: State<'_, AppState>) -> Result<Timeline> {
    let posts = state.flows().timeline().await;
    posts
        .map(|reply| reply.value)
        .map_err(|e| state.recorded(e))
}

/// Settings > Account: the rules of the member's organisation (`GET /me/password_policy`),
/// kept for the checklist under the new password.
#[tauri::command]
#[specta::specta]
pub async fn account_password_policy(state: State<'_, AppState>) -> Result<PasswordPolicyResponse> {
    let reply = state.flows().password_policy().await;
    let rules = reply.map(|r| r.value).map_err(|e| state.recorded(e))?;
    state.set_account_policy(rules.policy.clone());
    Ok(rules)
}

/// The checklist of the policy Settings > Account fetched, for `password`.
#[tauri::command]
#[specta::specta]
pub fn account_policy_checklist(state: State<'_, AppState>, password: String) -> Vec<RuleCheck> {
    state
        .account_policy()
        .map(|p| p.checklist(&password))
        .unwrap_or_default()
}

/// Settings > Account > **Save**. The "password changed" notice comes in `language`.
#[tauri::command]
#[specta::specta]
pub async fn change_password(
    state: State<'_, AppState>,
    current_password: String,
    new_password: String,
    new_password_confirmation: String,
    language: Language,
) -> Result<PasswordChanged> {
    let flows = state.flows().with_language(language);
    let done = flows
        .change_password(&current_password, &new_password, &new_password_confirmation)
        .await;
    done.map_err(|e| state.recorded(e))
}

/// Settings > Support: the support report the member copies for support staff.
#[tauri::command]
#[specta::specta]
pub async fn support_report(state: State<'_, AppState>, view: ReportView) -> Result<String> {
    Ok(crate::support_report::report(&state, view).await.to_text())
}

/// Start-up trace (`UNIPOS_TRACE_STARTUP=1`): a phase only the UI sees, and when it was
/// reached (`Date.now()`'s milliseconds).
#[tauri::command]
#[specta::specta]
pub fn startup_reached(phase: crate::startup_trace::UiPhase, at: f64) {
    crate::startup_trace::reached_at(phase.into(), Some(at));
}

/// Log out: the session leaves the keychain whatever the server says.
#[tauri::command]
#[specta::specta]
pub async fn logout(state: State<'_, AppState>) -> Result<LoggedOut> {
    let out = state
        .flows()
        .logout()
        .await
        .map_err(|e| state.recorded(e))?;
    if let Some(e) = &out.remote_error {
        log::info!("the server did not revoke the session: {}", e.code());
    }
    Ok(out)
}

/// The link the OS delivered, once; a refused one is the error its screen shows.
async fn take_incoming(state: &AppState) -> Option<IncomingLink> {
    let incoming = state.links.take_incoming(&state.flows()).await;
    if let Some(IncomingLink::Refused { error }) = &incoming {
        state.shown(error);
    }
    incoming
}

/// "Set password and login" without a held link: the member must open the link again.
fn no_link() -> ClientError {
    ClientError::Link(unipos_client::unipos_protocol::LinkError::TokenMissing)
}

fn opened(result: std::result::Result<(), String>) -> bool {
    match result {
        Ok(()) => true,
        Err(e) => {
            log::warn!("could not open the browser: {e}");
            false
        }
    }
}
