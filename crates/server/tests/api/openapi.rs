//! The committed OpenAPI document is the one the code generates.

use std::path::Path;

use serde_json::Value;
use unipos_protocol::API_PREFIX;

/// `file` holds `generated`, or is rewritten with it under `UPDATE_OPENAPI`.
fn assert_committed(file: &str, generated: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    assert!(
        committed == generated,
        "crates/server/{file} is stale. Refresh it with\n\n    \
         UPDATE_OPENAPI=1 cargo test -p unipos-server --test api openapi\n\nand commit it."
    );
}

#[test]
fn the_committed_openapi_document_is_what_the_code_generates() {
    assert_committed("openapi.json", &unipos_server::openapi_json());
}

/// The `/dev` endpoints, served only with `--dev`, have a document of their own.
#[test]
fn the_committed_dev_document_is_what_the_code_generates() {
    assert_committed("openapi-dev.json", &unipos_server::dev_openapi_json());
    let doc: Value = serde_json::from_str(&unipos_server::dev_openapi_json()).unwrap();
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert!(!paths.is_empty());
    for path in paths {
        assert!(path.starts_with(&format!("{API_PREFIX}/dev/")), "{path}");
    }
}

#[test]
fn the_document_is_openapi_3_1_and_covers_every_endpoint_of_the_contract() {
    let doc: Value = serde_json::from_str(&unipos_server::openapi_json()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for (method, path) in [
        ("post", "/password/forgot"),
        ("post", "/password/reset/check"),
        ("post", "/password/reset"),
        ("post", "/sessions"),
        ("delete", "/sessions/current"),
        ("get", "/me"),
        ("get", "/me/password_policy"),
        ("put", "/me/password"),
        ("get", "/timeline"),
    ] {
        let op = &doc["paths"][format!("{API_PREFIX}{path}")][method];
        assert!(op.is_object(), "{method} {path} is not documented");
        assert!(
            op["responses"].as_object().unwrap().len() >= 2,
            "{method} {path}"
        );
    }
    for code in unipos_protocol::ErrorCode::ALL {
        let codes = &doc["components"]["schemas"]["ErrorCode"];
        assert!(codes.to_string().contains(code.as_str()), "{code}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

/// The server serves exactly the routes the protocol names (the client calls them by those
/// names, and the CLI's support report reproduces them by them): one added on one side only
/// fails here.
#[test]
fn the_served_routes_are_the_protocols_routes() {
    let doc = serde_json::to_value(unipos_server::openapi()).unwrap();
    let served: std::collections::BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|path| path.strip_prefix(API_PREFIX).unwrap().to_owned())
        .collect();
    let named: std::collections::BTreeSet<String> =
        unipos_protocol::routes::all().map(str::to_owned).collect();
    assert_eq!(served, named);
}
