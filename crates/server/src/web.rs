//! The app-link association files (the reset link's page is `reset_page.rs`).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::AppState;

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
