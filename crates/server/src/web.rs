//! Pages outside the API: the reset link's landing page and the app-link association files.

use std::sync::LazyLock;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use unipos_protocol::{LinkRules, ResetToken};

use crate::html::escape_html;
use crate::AppState;

const STYLE: &str =
    "body{font-family:system-ui,-apple-system,'Hiragino Sans','Noto Sans JP',sans-serif;\
margin:0;background:#f6f6f4;color:#222;line-height:1.6}\
main{max-width:32rem;margin:10vh auto;padding:2rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 4px rgba(0,0,0,.08)}\
h1{font-size:1.4rem;margin-top:0}\
.button{display:block;text-align:center;padding:.9rem 1rem;margin:1.5rem 0;background:#ff6a3d;\
color:#fff;text-decoration:none;border-radius:8px;font-weight:600}\
.ja{color:#555}.note{font-size:.9rem;color:#666}";

/// The page's Content-Security-Policy: nothing loads, nothing runs, only this exact stylesheet.
static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
});

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &str| {
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
    response
}

/// The single `token` parameter, raw (a percent-encoded token is not one we sent); other
/// parameters, which mail link trackers like to add, are ignored.
fn token_from_query(query: Option<&str>) -> Option<ResetToken> {
    let mut tokens = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.strip_prefix("token="));
    let token = tokens.next()?;
    if tokens.next().is_some() {
        return None;
    }
    ResetToken::parse(token).ok()
}

/// `GET /reset_password?token=…`: where the mail's link lands in a browser. It offers to open the
/// app and never touches the token (mail scanners open links before members do).
pub async fn reset_page(RawQuery(query): RawQuery) -> Response {
    let Some(token) = token_from_query(query.as_deref()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This link is damaged — Unipos",
            "<h1>This link is damaged</h1>\n\
             <p class=\"ja\" lang=\"ja\">このリンクは壊れています</p>\n\
             <p>Copy the whole link from the email, or ask for a new email with \
             <strong>Reset Password</strong> in the Unipos app.</p>\n\
             <p class=\"ja\" lang=\"ja\">再設定メールからリンク全体をコピーして開き直すか、Uniposアプリのログイン画面の\
             「パスワードを再設定」から、再設定メールをもう一度送信してください。</p>",
        );
    };
    let app_link = escape_html(&LinkRules::app_reset_url(token.expose()));
    page(
        StatusCode::OK,
        "Reset your password — Unipos",
        &format!(
            "<h1>Reset your Unipos password</h1>\n\
             <p class=\"ja\" lang=\"ja\">Uniposのパスワード再設定</p>\n\
             <p>Open this link in the Unipos app to set a new password.</p>\n\
             <p class=\"ja\" lang=\"ja\">下のボタンでUniposアプリを開き、新しいパスワードを設定してください。</p>\n\
             <a class=\"button\" href=\"{app_link}\"><span lang=\"ja\">Uniposアプリで開く</span><br>\
             Open in the Unipos app</a>\n\
             <p class=\"note\">Nothing happens? Open the Unipos app and paste the link from the email into \
             <strong>Link from the email</strong> on <strong>Log in</strong> (or on <strong>Check your \
             email</strong>). Opening this page does not use the link up.<br>\
             <span class=\"ja\" lang=\"ja\">アプリが開かない場合は、Uniposアプリを開き、ログイン画面（または「メールをご確認ください」\
             画面）の「再設定メールのリンク」欄に、メールのリンクを貼り付けてください。このページを開いても、\
             リンクは使用済みになりません。</span></p>"
        ),
    )
}

fn reset_path_pattern(state: &AppState) -> String {
    format!("{}/reset_password*", state.links.web_base().path_prefix())
}

/// `GET /.well-known/assetlinks.json`: Android App Links.
pub async fn assetlinks(State(state): State<AppState>) -> Json<Value> {
    Json(json!([{
        "relation": ["delegate_permission/common.handle_all_urls"],
        "target": {
            "namespace": "android_app",
            "package_name": state.config.android_package,
            "sha256_cert_fingerprints": state.config.android_cert_sha256,
        }
    }]))
}

/// `GET /.well-known/apple-app-site-association`: iOS universal links (both the current
/// `components` form and the older `paths` form).
pub async fn apple_app_site_association(State(state): State<AppState>) -> Json<Value> {
    let pattern = reset_path_pattern(&state);
    let app_id = &state.config.apple_app_id;
    Json(json!({
        "applinks": {
            "apps": [],
            "details": [{
                "appIDs": [app_id],
                "appID": app_id,
                "components": [{ "/": pattern, "comment": "password reset links" }],
                "paths": [pattern],
            }]
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_raw_and_must_be_single() {
        let t = "A".repeat(43);
        assert!(token_from_query(Some(&format!("token={t}"))).is_some());
        assert!(token_from_query(Some(&format!("utm_source=mail&token={t}"))).is_some());
        assert!(token_from_query(Some(&format!("token={t}&token={t}"))).is_none());
        assert!(token_from_query(Some(&format!("token={}%41", "A".repeat(42)))).is_none());
        assert!(token_from_query(Some("token=<script>")).is_none());
        assert!(token_from_query(None).is_none());
    }

    #[test]
    fn the_csp_allows_exactly_the_page_style() {
        assert!(CSP.contains("default-src 'none'"));
        assert!(CSP.contains("style-src 'sha256-"));
        assert!(!CSP.contains("unsafe"));
    }
}
