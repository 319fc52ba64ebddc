//! The reset link in a browser: `GET /reset_password?token=…`, where the mail's link (and the
//! QR code of an Account Information sheet) lands when no app takes it.
//!
//! What the page shows comes from its own look-up of the token, which never uses the link up
//! (mail scanners open links before members do):
//! - a link the app asked for (bound to it, `code_challenge`): "Open in the Unipos app", and no
//!   form, which would let a stolen bound link around its binding;
//! - any other live link (asked for elsewhere, an admin's reset, an Account Information sheet):
//!   the form, which works without JavaScript, and no custom-scheme hand-off of the token, which
//!   an impostor app could catch;
//! - a dead link: what happened, and what to do next.
//!
//! The form posts to `POST /reset_password`, which sets the password exactly as
//! `POST /api/v1/password/reset` does (one code path, [`set_password_by_link`]) but logs no one
//! in: there is no web app behind it. It then redirects to `GET /password_set`, which says so and
//! offers to open the app. A script allowed by its hash takes the token out of the address bar
//! (and so out of history) as the page loads.

mod guard;
pub(crate) mod texts;

use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http_body_util::{BodyExt, Limited};
use sha2::{Digest, Sha256};
use unipos_protocol::{
    login_id_hint, Email, ErrorCode, LinkRules, LoginMethod, PasswordPolicy, PolicyRule, ResetToken,
};

use crate::api::{set_password_by_link, AfterReset, NewPasswordByLink};
use crate::client_addr::ClientKey;
use crate::error::ApiError;
use crate::html::escape_html;
use crate::request_log::RequestId;
use crate::state::AppState;
use texts::{fill, lang_for_request, list, sentences, text, Lang};

/// The page's only stylesheet. The button is the app's own primary colour (`--accent` in
/// `ui/src/app.css`): 5.2:1 with white text, WCAG AA.
const STYLE: &str = "*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Hiragino Sans','Noto Sans JP','Noto Sans CJK JP',\
sans-serif;margin:0;background:#f6f6f4;color:#1f1f1f;line-height:1.6}\
header,main{max-width:34rem;margin:0 auto}\
header{display:flex;justify-content:space-between;align-items:center;padding:1rem 1.25rem;\
min-height:4.1rem}\
.brand{font-weight:700;color:#c2410c;font-size:1.15rem}\
header a{color:#1f1f1f;padding:.25rem 0}\
main{padding:1.5rem 1.25rem 2rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 4px rgba(0,0,0,.08);margin-bottom:3rem}\
@media (max-width:600px){main{border-radius:0;box-shadow:none}}\
h1{font-size:1.4rem;line-height:1.35;margin:0 0 1rem}\
p{margin:0 0 1rem}\
.lead{font-weight:600;overflow-wrap:anywhere}\
label{display:block;font-weight:600;margin:1.25rem 0 .35rem}\
input[type=password]{display:block;width:100%;font:inherit;padding:.7rem .8rem;\
border:1px solid #767676;border-radius:8px;background:#fff;color:#1f1f1f}\
input[aria-invalid=true]{border:2px solid #b3261e}\
a:focus-visible,input:focus-visible,button:focus-visible{outline:3px solid #1a5fd6;\
outline-offset:2px}\
.rules{margin:1.25rem 0;padding:.75rem 1rem;background:#f6f6f4;border-radius:8px}\
.rules p{margin:0 0 .25rem;font-weight:600}\
.rules ul{margin:0;padding-left:1.25rem}\
.button{display:block;width:100%;text-align:center;padding:.85rem 1rem;margin:1.5rem 0 1rem;\
background:#c2410c;color:#fff;border:0;border-radius:8px;font:inherit;font-weight:700;\
text-decoration:none;cursor:pointer}\
.alert{border-left:4px solid #b3261e;background:#fdecea;padding:.75rem 1rem;border-radius:4px;\
margin:0 0 1rem}\
.alert p{margin:0}\
.alert p+p{margin-top:.35rem}\
.note,.code{font-size:.9rem;color:#5c5c5c}";

/// The page's only script: takes the token out of the address bar, and so out of history, synced
/// history and whatever else reads the address later. The form carries the token in a hidden
/// field; nothing else needs the script.
const SCRIPT: &str = "(function(){var q=new URLSearchParams(location.search);\
if(q.has('token')){q.delete('token');var r=q.toString();\
history.replaceState(null,'',location.pathname+(r?'?'+r:'')+location.hash)}})();";

fn sha256_source(source: &str) -> String {
    format!(
        "'sha256-{}'",
        STANDARD.encode(Sha256::digest(source.as_bytes()))
    )
}

/// The page's Content-Security-Policy: only this stylesheet and this script, forms post only
/// to this origin, and no one may frame it.
static CSP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src {}; style-src {}; img-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'",
        sha256_source(SCRIPT),
        sha256_source(STYLE)
    )
});

/// Whose password a live link sets, as the page names them.
enum Who {
    Email(String),
    LoginId {
        team: String,
        team_name: String,
        hint: String,
    },
    Nobody,
}

/// What the look-up of a token decided.
enum Link {
    /// Not bound to an app: the form.
    Form { who: Who, policy: PasswordPolicy },
    /// Bound to the app that asked for it: the app only.
    App { who: Who },
    /// The member signs in with SSO: nothing to set here.
    Sso,
    /// Expired, used, superseded or unknown.
    Dead { code: ErrorCode, login_id: bool },
}

fn is_dead(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::TokenInvalid
            | ErrorCode::TokenExpired
            | ErrorCode::TokenUsed
            | ErrorCode::TokenSuperseded
    )
}

/// Looks the token up, as `reset/check` does, without using it up.
async fn look_up(state: &AppState, token: &ResetToken) -> Result<Link, ApiError> {
    let (row, user, team) = match state.usable_token(token.expose()).await {
        Ok(found) => found,
        Err(e) if is_dead(e.code()) => {
            return Ok(Link::Dead {
                code: e.code(),
                login_id: e.is_for_login_id(),
            })
        }
        Err(e) => return Err(e),
    };
    let who = match (user.login_method, &user.login_id, &user.email) {
        (LoginMethod::LoginId, Some(id), _) => Who::LoginId {
            team: team.slug.clone(),
            team_name: team.name.clone(),
            hint: login_id_hint(id),
        },
        (_, _, Some(email)) => Email::parse(email)
            .map(|e| Who::Email(e.hint()))
            .unwrap_or(Who::Nobody),
        _ => Who::Nobody,
    };
    Ok(if user.login_method == LoginMethod::Sso {
        Link::Sso
    } else if row.code_challenge.is_some() {
        Link::App { who }
    } else {
        Link::Form {
            who,
            policy: team.policy,
        }
    })
}

/// The `token` and `lang` of a query, the token raw (a percent-encoded token is not one we
/// sent). Other parameters, which mail link trackers like to add, are ignored.
struct Query {
    token: Result<ResetToken, ErrorCode>,
    lang: Option<String>,
}

fn parse_query(query: Option<&str>) -> Query {
    let pairs: Vec<(&str, &str)> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let tokens: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| *k == "token")
        .map(|(_, v)| *v)
        .collect();
    let token = match tokens.as_slice() {
        [] | [""] => Err(ErrorCode::LinkTokenMissing),
        [one] => ResetToken::parse(one).map_err(|_| ErrorCode::LinkTokenMalformed),
        _ => Err(ErrorCode::LinkTokenDuplicate),
    };
    let lang = pairs
        .iter()
        .find(|(k, _)| *k == "lang")
        .map(|(_, v)| (*v).to_owned());
    Query { token, lang }
}

/// One page as it is sent.
struct Page {
    status: StatusCode,
    lang: Lang,
    title: String,
    /// The address of this page in the other language, if it has one.
    switch: Option<String>,
    main: String,
    set_cookie: Option<HeaderValue>,
    retry_after: Option<u64>,
}

impl Page {
    fn new(status: StatusCode, lang: Lang, title: String, main: String) -> Page {
        Page {
            status,
            lang,
            title,
            switch: None,
            main,
            set_cookie: None,
            retry_after: None,
        }
    }

    fn switch(mut self, href: String) -> Page {
        self.switch = Some(href);
        self
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let lang = self.lang;
        let switch = self.switch.map_or_else(String::new, |href| {
            let other = lang.other();
            format!(
                "<a href=\"{}\" hreflang=\"{code}\" lang=\"{code}\">{}</a>",
                escape_html(&href),
                escape_html(text(lang, &format!("language.{}", other.code()))),
                code = other.code(),
            )
        });
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"robots\" content=\"noindex\">\n<title>{title} — Unipos</title>\n\
             <style>{STYLE}</style>\n<script>{SCRIPT}</script>\n</head>\n<body>\n\
             <header><span class=\"brand\">Unipos</span>{switch}</header>\n\
             <main>\n{main}</main>\n</body>\n</html>\n",
            lang = lang.code(),
            title = escape_html(&self.title),
            main = self.main,
        );
        let mut response = (self.status, html).into_response();
        let headers = response.headers_mut();
        page_headers(headers);
        if let Some(cookie) = self.set_cookie {
            headers.insert(header::SET_COOKIE, cookie);
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// What every answer of the page carries: nothing leaves by the referrer, nothing is kept, no
/// one frames it, nothing runs or loads but its own script and style.
fn page_headers(headers: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, name, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set(headers, header::CONTENT_TYPE, "text/html; charset=utf-8");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, header::CONTENT_SECURITY_POLICY, &CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(
        headers,
        header::HeaderName::from_static("x-robots-tag"),
        "noindex",
    );
}

fn t(lang: Lang, key: &str) -> String {
    escape_html(text(lang, key))
}

fn code_line(lang: Lang, code: &str) -> String {
    format!(
        "<p class=\"code\">{}</p>\n",
        escape_html(&fill(lang, "common.code", &[("code", code)]))
    )
}

fn who_line(lang: Lang, who: &Who) -> String {
    let line = match who {
        Who::Email(hint) => fill(lang, "reset.for", &[("hint", hint)]),
        Who::LoginId {
            team,
            team_name,
            hint,
        } => fill(
            lang,
            "reset.for_login_id",
            &[("login_id", hint), ("team_name", team_name), ("team", team)],
        ),
        Who::Nobody => return String::new(),
    };
    format!("<p class=\"lead\">{}</p>\n", escape_html(&line))
}

/// A rule as the app's checklist names it, with the policy's numbers.
fn rule_line(lang: Lang, rule: PolicyRule, policy: &PasswordPolicy) -> String {
    let n = match rule {
        PolicyRule::MaxLength => policy.max_length,
        _ => policy.min_length,
    };
    fill(
        lang,
        &format!("rule.{}", rule.as_str()),
        &[("n", &n.to_string())],
    )
}

/// An error shown on the form: its sentences, its code, and the field it is about.
struct FormError {
    sentences: String,
    code: ErrorCode,
    field: Option<Field>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    New,
    Confirm,
}

/// What the app says for the code (`ErrorAlert`, and `policyRefusal` for the policy).
fn form_error(lang: Lang, e: &ApiError, policy: &PasswordPolicy) -> FormError {
    let code = e.code();
    let error = text(lang, &format!("error.{}", code.as_str())).to_owned();
    let (sentences, field) = match code {
        ErrorCode::PasswordMismatch => (error, Some(Field::Confirm)),
        ErrorCode::PasswordPolicy => {
            let failed = e.failed_rules();
            let missing: Vec<String> = failed
                .iter()
                .filter(|r| **r != PolicyRule::CommonPassword)
                .map(|r| rule_line(lang, *r, policy))
                .collect();
            let rules = if missing.is_empty() {
                String::new()
            } else {
                fill(lang, "rule.failed", &[("rules", &list(lang, &missing))])
            };
            let is_common = failed.contains(&PolicyRule::CommonPassword);
            let common = if is_common {
                text(lang, "rule.failed_common").to_owned()
            } else {
                String::new()
            };
            // One next step, after every cause.
            let fix = text(
                lang,
                if is_common {
                    "rule.fix_common"
                } else {
                    "rule.fix_missing"
                },
            )
            .to_owned();
            (
                texts::sentences(lang, &[error, rules, common, fix]),
                Some(Field::New),
            )
        }
        ErrorCode::ServerBusy => (
            match e.retry_after_s() {
                Some(s) => fill(lang, "common.busy_retry_in", &[("seconds", &s.to_string())]),
                None => error,
            },
            None,
        ),
        ErrorCode::RateLimited => (with_retry(lang, error, e), None),
        _ => (error, None),
    };
    FormError {
        sentences,
        code,
        field,
    }
}

fn with_retry(lang: Lang, error: String, e: &ApiError) -> String {
    let retry = e.retry_after_s().map_or_else(String::new, |s| {
        fill(lang, "common.retry_in", &[("seconds", &s.to_string())])
    });
    sentences(lang, &[error, retry])
}

fn alert(lang: Lang, id: &str, sentences: &str, code: &str) -> String {
    format!(
        "<div class=\"alert\" role=\"alert\" id=\"{id}\">\n<p>{}</p>\n<p class=\"code\">{}</p>\n\
         </div>\n",
        escape_html(sentences),
        escape_html(&fill(lang, "common.code", &[("code", code)])),
    )
}

/// The address of the page in `lang`, for a page about `token`.
fn switch_to(lang: Lang, token: Option<&ResetToken>) -> String {
    match token {
        Some(token) => format!("?token={}&lang={}", token.expose(), lang.code()),
        None => format!("?lang={}", lang.code()),
    }
}

/// Everything the page needs to say about one request.
struct Ctx<'a> {
    state: &'a AppState,
    lang: Lang,
}

impl Ctx<'_> {
    fn form_page(
        &self,
        token: &ResetToken,
        who: &Who,
        policy: &PasswordPolicy,
        secret: &str,
        error: Option<FormError>,
    ) -> Page {
        let lang = self.lang;
        let error_for = |field: Field| {
            error
                .as_ref()
                .filter(|e| e.field == Some(field))
                .map(|_| " aria-invalid=\"true\"")
                .unwrap_or_default()
        };
        let described = |field: Field, own: &str| {
            let mut ids = own.to_owned();
            if error.as_ref().is_some_and(|e| e.field == Some(field)) {
                ids.push_str(" form-error");
            }
            ids.trim().to_owned()
        };
        let alert = error.as_ref().map_or_else(String::new, |e| {
            alert(lang, "form-error", &e.sentences, e.code.as_str())
        });
        let rules: String = policy
            .checklist("")
            .iter()
            .map(|item| {
                format!(
                    "<li>{}</li>",
                    escape_html(&rule_line(lang, item.rule, policy))
                )
            })
            .collect();
        let described_new = described(Field::New, "rules");
        let described_confirm = described(Field::Confirm, "");
        let aria_confirm = if described_confirm.is_empty() {
            String::new()
        } else {
            format!(" aria-describedby=\"{described_confirm}\"")
        };
        let main = format!(
            "<h1>{title}</h1>\n{who}{alert}\
             <form method=\"post\" action=\"reset_password\">\n\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
             <input type=\"hidden\" name=\"{field}\" value=\"{secret}\">\n\
             <input type=\"hidden\" name=\"lang\" value=\"{lang_code}\">\n\
             <label for=\"new-password\">{new}</label>\n\
             <input id=\"new-password\" name=\"new_password\" type=\"password\" \
             autocomplete=\"new-password\" passwordrules=\"{passwordrules}\" required \
             aria-describedby=\"{described_new}\"{new_invalid}>\n\
             <label for=\"confirm-password\">{confirm}</label>\n\
             <input id=\"confirm-password\" name=\"new_password_confirmation\" type=\"password\" \
             autocomplete=\"new-password\" passwordrules=\"{passwordrules}\" \
             required{aria_confirm}{confirm_invalid}>\n\
             <div class=\"rules\" id=\"rules\">\n<p>{rules_title}</p>\n<ul>{rules}</ul>\n</div>\n\
             <button class=\"button\" type=\"submit\">{submit}</button>\n\
             </form>\n",
            title = t(lang, "reset.title"),
            who = who_line(lang, who),
            token = token.expose(),
            field = guard::FIELD,
            lang_code = lang.code(),
            new = t(lang, "reset.new"),
            confirm = t(lang, "reset.confirm"),
            new_invalid = error_for(Field::New),
            passwordrules = escape_html(&policy.passwordrules()),
            confirm_invalid = error_for(Field::Confirm),
            rules_title = t(lang, "reset.rules"),
            submit = t(lang, "reset.submit"),
        );
        let status = match &error {
            None => StatusCode::OK,
            Some(e) => StatusCode::from_u16(e.code.http_status())
                .unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
        };
        let mut page = Page::new(status, lang, text(lang, "reset.title").to_owned(), main)
            .switch(switch_to(lang.other(), Some(token)));
        page.set_cookie = Some(guard::set_cookie(secret, &self.reset_path(), self.secure()));
        page
    }

    /// A link the app asked for: the app opens it, with the verifier only it holds.
    fn app_page(&self, token: &ResetToken, who: &Who, error: Option<&ApiError>) -> Page {
        let lang = self.lang;
        let paste = fill(
            lang,
            "page.bound.paste",
            &[
                // The field sits in Log in's closed section: the page names the section first.
                ("section", text(lang, "login.paste_title")),
                ("paste", text(lang, "check.paste_label")),
                ("login", text(lang, "login.title")),
            ],
        );
        let alert = error.map_or_else(String::new, |e| {
            alert(
                lang,
                "form-error",
                text(lang, &format!("error.{}", e.code().as_str())),
                e.code().as_str(),
            )
        });
        let main = format!(
            "<h1>{title}</h1>\n{who}{alert}<p>{body}</p>\n\
             <a class=\"button\" href=\"{href}\">{open}</a>\n\
             <p class=\"note\">{other}</p>\n<p class=\"note\">{paste}</p>\n",
            title = t(lang, "reset.title"),
            who = who_line(lang, who),
            body = t(lang, "page.bound.body"),
            href = escape_html(&LinkRules::app_reset_url(token.expose())),
            open = t(lang, "page.bound.open"),
            other = t(lang, "page.bound.other_device"),
            paste = escape_html(&paste),
        );
        let status = error.map_or(StatusCode::OK, |e| {
            StatusCode::from_u16(e.code().http_status()).unwrap_or(StatusCode::FORBIDDEN)
        });
        Page::new(status, lang, text(lang, "reset.title").to_owned(), main)
            .switch(switch_to(lang.other(), Some(token)))
    }

    /// A dead link: what happened, in the app's words, and the way on.
    fn dead_page(&self, code: ErrorCode, login_id: bool, token: Option<&ResetToken>) -> Page {
        let lang = self.lang;
        let name = code.as_str();
        let own = |part: &str| {
            let key = format!("link.login_id.{name}.{part}");
            (login_id && text(lang, &key) != key).then_some(key)
        };
        let title_key = own("title").unwrap_or_else(|| format!("link.{name}.title"));
        let body_key = own("body").unwrap_or_else(|| format!("link.{name}.body"));
        // A Login ID member's way on is a new sheet from the admin, which the body says; an
        // email member's is a new mail, asked for in the app (the link carries no token).
        let next = if login_id {
            String::new()
        } else {
            format!(
                "<a class=\"button\" href=\"unipos://forgot_password\">{}</a>\n\
                 <p class=\"note\">{}</p>\n",
                t(lang, "link.send_new"),
                escape_html(&fill(
                    lang,
                    "page.dead.app_hint",
                    &[
                        ("reset", text(lang, "login.reset_password")),
                        ("login", text(lang, "login.title")),
                    ],
                )),
            )
        };
        let main = format!(
            "<h1>{}</h1>\n<p>{}</p>\n{}{next}",
            t(lang, &title_key),
            t(lang, &body_key),
            code_line(lang, name),
        );
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::GONE);
        Page::new(status, lang, text(lang, &title_key).to_owned(), main)
            .switch(switch_to(lang.other(), token))
    }

    /// A link that is not a whole reset link: missing, damaged, or with two tokens.
    fn broken_link_page(&self, code: ErrorCode) -> Page {
        let lang = self.lang;
        let (title, body) = match code {
            ErrorCode::LinkTokenMissing => (
                text(lang, "page.missing.title"),
                text(lang, "page.missing.body").to_owned(),
            ),
            _ => (
                text(lang, "link.token_invalid.title"),
                text(lang, &format!("error.{}", code.as_str())).to_owned(),
            ),
        };
        let main = format!(
            "<h1>{}</h1>\n<p>{}</p>\n{}",
            escape_html(title),
            escape_html(&body),
            code_line(lang, code.as_str()),
        );
        Page::new(StatusCode::BAD_REQUEST, lang, title.to_owned(), main)
            .switch(switch_to(lang.other(), None))
    }

    /// A refusal that is not about the link: too many requests, a busy server, SSO, a fault.
    fn failed_page(&self, e: &ApiError, token: Option<&ResetToken>) -> Page {
        let lang = self.lang;
        let code = e.code();
        let error = text(lang, &format!("error.{}", code.as_str())).to_owned();
        let sentences = match code {
            ErrorCode::RateLimited | ErrorCode::ServerBusy => with_retry(lang, error, e),
            _ => error,
        };
        let main = format!(
            "<h1>{}</h1>\n{}",
            t(lang, "reset.title"),
            alert(lang, "page-error", &sentences, code.as_str())
        );
        let status =
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut page = Page::new(status, lang, text(lang, "reset.title").to_owned(), main)
            .switch(switch_to(lang.other(), token));
        page.retry_after = e.retry_after_s();
        page
    }

    /// A post the guard refused: nothing was set, and the way on is the link itself.
    fn refused_page(&self) -> Page {
        let lang = self.lang;
        let main = format!(
            "<h1>{}</h1>\n<p>{}</p>\n",
            t(lang, "page.refused.title"),
            t(lang, "page.refused.body")
        );
        Page::new(
            StatusCode::FORBIDDEN,
            lang,
            text(lang, "page.refused.title").to_owned(),
            main,
        )
    }

    /// The page for what the look-up decided. `secret` is the form's, `error` what the last
    /// post of the form was refused for.
    fn link_page(
        &self,
        token: &ResetToken,
        link: &Link,
        secret: &str,
        error: Option<&ApiError>,
    ) -> Page {
        match link {
            Link::Form { who, policy } => {
                let error = error.map(|e| form_error(self.lang, e, policy));
                self.form_page(token, who, policy, secret, error)
            }
            Link::App { who } => self.app_page(token, who, error),
            Link::Sso => self.failed_page(&ApiError::new(ErrorCode::SsoManaged), Some(token)),
            Link::Dead { code, login_id } => self.dead_page(*code, *login_id, Some(token)),
        }
    }

    /// The reset page's path as the browser sees it (under the web base's path).
    fn reset_path(&self) -> String {
        format!(
            "{}/reset_password",
            self.state.links.web_base().path_prefix()
        )
    }

    fn secure(&self) -> bool {
        self.state.links.web_base().url().scheme() == "https"
    }

    fn origin(&self) -> String {
        self.state
            .links
            .web_base()
            .url()
            .origin()
            .ascii_serialization()
    }
}

/// `GET /reset_password?token=…`: the page for the link, by its own look-up of the token.
pub async fn page(
    State(state): State<AppState>,
    client: ClientKey,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = parse_query(query.as_deref());
    let ctx = Ctx {
        state: &state,
        lang: lang_for_request(query.lang.as_deref(), &headers),
    };
    let token = match query.token {
        Ok(token) => token,
        Err(code) => return ctx.broken_link_page(code).into_response(),
    };
    if let Err(e) = state.limit_client(&client).await {
        return ctx.failed_page(&e, Some(&token)).into_response();
    }
    match look_up(&state, &token).await {
        Ok(link) => ctx
            .link_page(&token, &link, &guard::secret_for(&headers), None)
            .into_response(),
        Err(e) => ctx.failed_page(&e, Some(&token)).into_response(),
    }
}

/// The form's fields: `application/x-www-form-urlencoded`, at most [`crate::MAX_BODY_BYTES`],
/// received within the body timeout.
async fn read_form(state: &AppState, body: Body) -> Result<Vec<(String, String)>, ApiError> {
    let collected = tokio::time::timeout(
        state.config.body_read_timeout,
        Limited::new(body, crate::MAX_BODY_BYTES).collect(),
    )
    .await
    .map_err(|_| ApiError::new(ErrorCode::RequestTimeout))?
    .map_err(|_| ApiError::new(ErrorCode::PayloadTooLarge))?;
    Ok(url::form_urlencoded::parse(&collected.to_bytes())
        .into_owned()
        .collect())
}

/// `POST /reset_password`: "Set password and login" on the page. Sets the password as the API
/// does, logs no one in, and redirects to [`password_set`].
pub async fn submit(
    State(state): State<AppState>,
    client: ClientKey,
    request_id: RequestId,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let form_content = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|e| e.trim() == "application/x-www-form-urlencoded")
        });
    let fields = if form_content {
        read_form(&state, body).await
    } else {
        Err(ApiError::new(ErrorCode::UnsupportedMediaType))
    };
    let field = |name: &str| {
        fields
            .as_ref()
            .ok()
            .and_then(|f| f.iter().find(|(k, _)| k == name))
            .map(|(_, v)| v.clone())
    };
    let ctx = Ctx {
        state: &state,
        lang: lang_for_request(field("lang").as_deref(), &headers),
    };
    if let Err(e) = &fields {
        return ctx.failed_page(e, None).into_response();
    }
    if let Err(refusal) = guard::check(&headers, field(guard::FIELD).as_deref(), &ctx.origin()) {
        tracing::warn!(reason = refusal.as_str(), "reset page post refused");
        return ctx.refused_page().into_response();
    }
    if let Err(e) = state.limit_client(&client).await {
        return ctx.failed_page(&e, None).into_response();
    }
    let Some(token) = field("token").and_then(|t| ResetToken::parse(&t).ok()) else {
        return ctx
            .dead_page(ErrorCode::TokenInvalid, false, None)
            .into_response();
    };
    let secret = field(guard::FIELD).unwrap_or_default();
    let done = set_password_by_link(
        &state,
        NewPasswordByLink {
            token: token.expose().to_owned(),
            code_verifier: None,
            new_password: field("new_password").unwrap_or_default(),
            new_password_confirmation: field("new_password_confirmation").unwrap_or_default(),
            // The page's language (its switch, else Accept-Language) is the notice's.
            lang: ctx.lang,
        },
        request_id,
        AfterReset::NoSession,
    )
    .await;
    let e = match done {
        Ok(done) => {
            let account = match done.user.login_method {
                LoginMethod::LoginId => "&account=login_id",
                _ => "",
            };
            let mut response = (
                StatusCode::SEE_OTHER,
                [(
                    header::LOCATION,
                    format!("password_set?lang={}{account}", ctx.lang.code()),
                )],
            )
                .into_response();
            page_headers(response.headers_mut());
            // The secret has done its work.
            if let Ok(gone) = HeaderValue::from_str(&format!(
                "{}=; Path={}; Max-Age=0; HttpOnly; SameSite=Strict",
                guard::COOKIE,
                ctx.reset_path()
            )) {
                response.headers_mut().insert(header::SET_COOKIE, gone);
            }
            return response;
        }
        Err(e) => e,
    };
    if is_dead(e.code()) {
        return ctx
            .dead_page(e.code(), e.is_for_login_id(), Some(&token))
            .into_response();
    }
    // Shown on the page for the link as it is now: the form again, with what was wrong.
    match look_up(&state, &token).await {
        Ok(link) => ctx
            .link_page(&token, &link, &secret, Some(&e))
            .into_response(),
        Err(lookup) => ctx.failed_page(&lookup, Some(&token)).into_response(),
    }
}

/// `GET /password_set`: where a good post of the form lands. Says the password is set and
/// offers to open the app on Log in (`unipos://login`, a link without any token).
pub async fn password_set(RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let query = query.unwrap_or_default();
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    };
    let lang = lang_for_request(param("lang").as_deref(), &headers);
    let login_id = param("account").as_deref() == Some("login_id");
    let account = if login_id { "&account=login_id" } else { "" };
    let body = if login_id {
        "page.done.body_login_id"
    } else {
        "page.done.body"
    };
    let main = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<a class=\"button\" href=\"{}\">{}</a>\n",
        t(lang, "page.done.title"),
        t(lang, body),
        LinkRules::app_login_url(),
        t(lang, "page.done.open"),
    );
    Page::new(
        StatusCode::OK,
        lang,
        text(lang, "page.done.title").to_owned(),
        main,
    )
    .switch(format!("?lang={}{account}", lang.other().code()))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_raw_and_must_be_single() {
        let t = "A".repeat(43);
        let token = |q: &str| parse_query(Some(q)).token.map(|t| t.expose().to_owned());
        assert_eq!(token(&format!("token={t}")), Ok(t.clone()));
        assert_eq!(token(&format!("utm_source=mail&token={t}")), Ok(t.clone()));
        assert_eq!(
            token(&format!("token={t}&token={t}")),
            Err(ErrorCode::LinkTokenDuplicate)
        );
        assert_eq!(
            token(&format!("token={}%41", "A".repeat(42))),
            Err(ErrorCode::LinkTokenMalformed)
        );
        assert_eq!(token("token=<script>"), Err(ErrorCode::LinkTokenMalformed));
        assert_eq!(token("lang=ja"), Err(ErrorCode::LinkTokenMissing));
        assert_eq!(token("token="), Err(ErrorCode::LinkTokenMissing));
        assert!(parse_query(None).token.is_err());
        assert_eq!(
            parse_query(Some(&format!("token={t}&lang=ja")))
                .lang
                .as_deref(),
            Some("ja")
        );
    }

    #[test]
    fn the_csp_allows_exactly_the_page_style_and_script_and_posts_to_itself() {
        assert!(CSP.contains("default-src 'none'"));
        assert!(CSP.contains(&format!("style-src {}", sha256_source(STYLE))));
        assert!(CSP.contains(&format!("script-src {}", sha256_source(SCRIPT))));
        assert!(CSP.contains("form-action 'self'"));
        assert!(CSP.contains("frame-ancestors 'none'"));
        assert!(!CSP.contains("unsafe"));
    }
}
