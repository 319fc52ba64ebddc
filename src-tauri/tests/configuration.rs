//! The app's configuration audited: the identifiers the web names for reset links, the camera's
//! reason on iOS, and what each capability grants the web view.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::path::Path;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_mobile_apps_are_the_ones_the_web_names_for_its_reset_links() {
    use unipos_client::unipos_protocol::app_links;
    let config: serde_json::Value =
        serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
    // `tauri android` and `tauri ios` take the package and bundle IDs from the identifier.
    assert_eq!(config["identifier"], app_links::APP_IDENTIFIER);
    assert_eq!(config["identifier"], app_links::ANDROID_PACKAGE);
    assert_eq!(config["identifier"], app_links::APPLE_BUNDLE_ID);
    // On iOS and Android a reset link arrives only as a verified https app link: any app may
    // claim a custom scheme and catch the token (RFC 8252 §8.6), so none is registered.
    let mobile = config["plugins"]["deep-link"]["mobile"].as_array().unwrap();
    assert_eq!(mobile.len(), 1, "{mobile:?}");
    let app_link = &mobile[0];
    assert_eq!(app_link["appLink"], true);
    let (scheme, host) = unipos_client::DEFAULT_BASE.split_once("://").unwrap();
    assert_eq!(app_link["scheme"], serde_json::json!([scheme]));
    assert_eq!(app_link["host"], host);
}

/// iOS shows this text when it asks for the camera, in the phone's language; the app
/// crashes at the camera without it.
#[test]
fn ios_says_why_it_asks_for_the_camera_in_both_languages() {
    let plist = std::fs::read_to_string(crate_dir().join("Info.ios.plist")).unwrap();
    let key = "<key>NSCameraUsageDescription</key>";
    let after = &plist[plist.find(key).expect("NSCameraUsageDescription") + key.len()..];
    assert!(
        after.trim_start().starts_with("<string>") && after.contains("Account Information"),
        "{plist}"
    );
    for (lang, words) in [("en", "Account Information"), ("ja", "アカウント情報")] {
        let path = crate_dir().join(format!("ios/{lang}.lproj/InfoPlist.strings"));
        let strings = std::fs::read_to_string(&path).unwrap();
        let line = strings
            .lines()
            .find(|l| l.starts_with("\"NSCameraUsageDescription\" = \""))
            .unwrap_or_else(|| panic!("{}: {strings}", path.display()));
        assert!(line.contains(words) && line.ends_with("\";"), "{line}");
    }
}

#[test]
fn each_capability_grants_the_screens_commands_and_writing_text_only_and_no_event() {
    let set =
        std::fs::read_to_string(crate_dir().join("permissions/account-screens.toml")).unwrap();
    for name in unipos_app_lib::COMMAND_NAMES {
        let permission = format!("\"allow-{}\"", name.replace('_', "-"));
        assert!(
            set.contains(&permission),
            "{permission} missing from the set"
        );
    }
    assert_eq!(
        set.matches("\"allow-").count(),
        unipos_app_lib::COMMAND_NAMES.len()
    );

    // No event permission: links reach the screens on a channel, and no script in the web
    // view may hear the deep-link plugin's event, which carries the raw URL and its token.
    let screens = ["account-screens"];
    let expected: [(&str, &[&str]); 5] = [
        ("desktop.json", &screens),
        ("mobile.json", &screens),
        // Writing text only: never reading what else the member copied.
        ("support.json", &["clipboard-manager:allow-write-text"]),
        ("support-share.json", &["sharekit:allow-share-text"]),
        // Reading a QR code, and the camera permission it needs; no vibration.
        (
            "scan.json",
            &[
                "barcode-scanner:allow-check-permissions",
                "barcode-scanner:allow-request-permissions",
                "barcode-scanner:allow-open-app-settings",
                "barcode-scanner:allow-scan",
                "barcode-scanner:allow-cancel",
            ],
        ),
    ];
    let mut files: Vec<String> = std::fs::read_dir(crate_dir().join("../capabilities"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut named: Vec<&str> = expected.iter().map(|(file, _)| *file).collect();
    named.sort();
    assert_eq!(files, named, "a capability this test does not check");
    for (file, permissions) in expected {
        let text = std::fs::read_to_string(crate_dir().join("../capabilities").join(file)).unwrap();
        let capability: serde_json::Value = serde_json::from_str(&text).unwrap();
        let granted: Vec<&str> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().expect("plain permission identifiers"))
            .collect();
        assert_eq!(granted, permissions, "{file}");
        assert_eq!(capability["windows"], serde_json::json!(["main"]), "{file}");
    }
}
