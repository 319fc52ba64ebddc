//! The app-link association files (the reset link's page is `reset_page.rs`).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use unipos_protocol::ErrorCode;

use crate::error::ApiError;
use crate::state::AppState;

fn reset_path_pattern(state: &AppState) -> String {
    format!("{}/reset_password*", state.links.web_base().path_prefix())
}

/// `GET /.well-known/assetlinks.json`: Android App Links; 404 while no signing certificate is
/// configured (a file naming none would verify nothing).
pub async fn assetlinks(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if !state.config.android_app_links_verifiable() {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    Ok(Json(json!([{
        "relation": ["delegate_permission/common.handle_all_urls"],
        "target": {
            "namespace": "android_app",
            "package_name": state.config.android_package,
            "sha256_cert_fingerprints": state.config.android_cert_sha256,
        }
    }])))
}

/// `GET /.well-known/apple-app-site-association`: iOS universal links (both the current
/// `components` form and the older `paths` form); 404 while the app ID's team is the
/// placeholder.
pub async fn apple_app_site_association(
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    if !state.config.apple_app_links_verifiable() {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    let pattern = reset_path_pattern(&state);
    let app_id = &state.config.apple_app_id;
    Ok(Json(json!({
        "applinks": {
            "apps": [],
            "details": [{
                "appIDs": [app_id],
                "appID": app_id,
                "components": [{ "/": pattern, "comment": "password reset links" }],
                "paths": [pattern],
            }]
        }
    })))
}
