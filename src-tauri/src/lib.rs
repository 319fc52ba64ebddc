//! The Unipos account app: a Tauri 2 shell whose commands are thin wrappers over
//! `unipos-client`. The web view (ui/) shows screens; every rule, every HTTP call and every
//! secret stays on this side.

use std::sync::Arc;

use tauri::{Manager, Runtime};
use tauri_plugin_store::StoreExt;
use tauri_specta::collect_commands;
use unipos_client::KeyringVault;

pub mod commands;
#[cfg(target_os = "linux")]
mod handover;
pub mod links;
pub mod startup_trace;
pub mod state;
pub mod support;
#[cfg(target_os = "linux")]
mod web_view_env;
pub mod wire;

// `COMMAND_NAMES`: every `#[tauri::command]` of `commands.rs`, as `build.rs` read them.
include!(concat!(env!("OUT_DIR"), "/command_names.rs"));
use state::{AppState, Browser, PreferenceFile};
use wire::Preferences;

/// The store file of the non-secret preferences.
pub const PREFERENCES_FILE: &str = "preferences.json";
const PREFERENCES_KEY: &str = "preferences";
/// The generated bindings, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/generated/bindings.ts";

/// Every error code the UI must translate: the protocol's, the client's own, and `unknown`
/// (a code from a newer server).
pub fn error_codes() -> Vec<&'static str> {
    unipos_client::ClientErrorCode::all()
        .map(|c| c.as_str())
        .collect()
}

/// The codes of a reset link that no longer works, each with its own screen.
pub fn dead_link_codes() -> Vec<&'static str> {
    unipos_client::unipos_protocol::ErrorCode::DEAD_LINK
        .iter()
        .map(|c| c.as_str())
        .collect()
}

/// The commands and events the web view sees, and the constants the bindings carry.
pub fn specta_builder<R: Runtime>() -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new()
        .disable_serde_phases()
        .commands(collect_commands![
            commands::startup,
            commands::set_language,
            commands::set_presentation,
            commands::set_api_url,
            commands::check_email,
            commands::request_reset,
            commands::open_link,
            commands::open_scanned_link,
            commands::watch_links,
            commands::take_incoming_link,
            commands::check_reset_link,
            commands::policy_checklist,
            commands::set_password_and_login,
            commands::login_with_email,
            commands::login_with_login_id,
            commands::open_sso,
            commands::open_help,
            commands::restore_session,
            commands::timeline,
            commands::change_password,
            commands::logout,
            commands::support_report,
            commands::startup_reached,
        ])
        .constant("ERROR_CODES", error_codes())
        .constant("DEAD_LINK_CODES", dead_link_codes())
        .constant(
            "RESET_MAIL_SUBJECT",
            unipos_client::unipos_protocol::RESET_MAIL_SUBJECT,
        )
        .constant("MAIL_SENDER", unipos_client::unipos_protocol::MAIL_SENDER)
}

/// The TypeScript exporter used for the bindings file.
pub fn typescript() -> specta_typescript::Typescript {
    specta_typescript::Typescript::default()
        .header("// Generated from the Rust types by `cargo test -p unipos-app` (UNIPOS_WRITE_BINDINGS=1). Do not edit.\n")
}

struct StoreFile<R: Runtime>(Arc<tauri_plugin_store::Store<R>>);

impl<R: Runtime> PreferenceFile for StoreFile<R> {
    fn save(&self, preferences: &Preferences) {
        match serde_json::to_value(preferences) {
            Ok(value) => self.0.set(PREFERENCES_KEY, value),
            Err(e) => log::warn!("preferences not serializable: {e}"),
        }
        if let Err(e) = self.0.save() {
            log::warn!("could not save the preferences: {e}");
        }
    }
}

/// The system's browser: the opener plugin's, and on Linux `xdg-open` started by the app itself
/// (web_view_env.rs says why).
struct SystemBrowser<R: Runtime>(
    #[cfg_attr(target_os = "linux", allow(dead_code))] tauri::AppHandle<R>,
);

impl<R: Runtime> Browser for SystemBrowser<R> {
    fn open(&self, url: &str) -> Result<(), String> {
        // Without what the app set for its own web view (web_view_env.rs).
        #[cfg(target_os = "linux")]
        return web_view_env::open_in_browser(url);
        #[cfg(not(target_os = "linux"))]
        {
            use tauri_plugin_opener::OpenerExt;
            self.0
                .opener()
                .open_url(url, None::<&str>)
                .map_err(|e| e.to_string())
        }
    }
}

/// The window is made hidden (`"visible": false` in tauri.conf.json) and shown once its page has
/// loaded: shown earlier, WebKitGTK's UI thread waits up to 500 ms for the web process to paint
/// a page it is still loading, which held the first screen back in one start of three.
#[cfg(desktop)]
fn show_main_window<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        if !window.is_visible().unwrap_or(true) && window.show().is_ok() {
            startup_trace::reached(startup_trace::Phase::WindowShown);
        }
    }
}

#[cfg(desktop)]
const SHOW_WINDOW_AT_LATEST: std::time::Duration = std::time::Duration::from_secs(3);

fn setup<R: Runtime>(app: &mut tauri::App<R>) -> Result<(), Box<dyn std::error::Error>> {
    // Tauri creates the configured window just before this hook.
    startup_trace::reached(startup_trace::Phase::WindowCreated);
    // Should the page never finish loading, the window shows anyway, with whatever it has.
    #[cfg(desktop)]
    {
        let handle = app.handle().clone();
        std::thread::spawn(move || {
            std::thread::sleep(SHOW_WINDOW_AT_LATEST);
            show_main_window(&handle);
        });
    }
    let store = app.store(PREFERENCES_FILE)?;
    let preferences: Preferences = store
        .get(PREFERENCES_KEY)
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let state = AppState::new(
        preferences,
        Arc::new(KeyringVault::new()),
        Box::new(StoreFile(store)),
        Box::new(SystemBrowser(app.handle().clone())),
    )
    .map_err(|e| format!("{}: {e}", e.code()))?;
    state.check_session_early();
    // Logouts the server could not hear (offline) are sent now, off the first screen's path.
    let flows = state.flows();
    tauri::async_runtime::spawn(async move {
        match flows.revoke_pending().await {
            Ok(0) => {}
            Ok(n) => log::info!("the server revoked {n} session(s) logged out while offline"),
            Err(e) => log::info!("pending logouts not sent: {}", e.code()),
        }
    });
    app.manage(state);
    links::listen(app);
    Ok(())
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    startup_trace::start();
    // Before any thread starts.
    #[cfg(target_os = "linux")]
    web_view_env::set_up();
    // Before any HTTP client exists, the app's or Tauri's own (mobile).
    unipos_client::install_tls_provider();
    // A second launch (a link opened while the app runs) hands its arguments over and leaves
    // before any of the app starts.
    #[cfg(target_os = "linux")]
    if handover::to_running_app() {
        std::process::exit(0);
    }
    let specta = specta_builder::<tauri::Wry>();
    let builder = tauri::Builder::default();
    // First, so a second launch hands its arguments over before anything else starts.
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
        for link in links::link_arguments(args) {
            links::deliver_link(app, &link);
        }
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.set_focus();
        }
    }));
    // The support report to the share sheet; the camera for an Account Information sheet's QR
    // code.
    #[cfg(mobile)]
    let builder = builder
        .plugin(tauri_plugin_sharekit::init())
        .plugin(tauri_plugin_barcode_scanner::init());
    let app = builder
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_store::Builder::new().build())
        // "Copy support report" and "Copy details": the web view may write text, never read.
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        )
        .plugin(
            tauri_plugin_log::Builder::new()
                .level(log::LevelFilter::Info)
                .build(),
        )
        .invoke_handler(specta.invoke_handler())
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                startup_trace::reached(startup_trace::Phase::PageLoaded);
                #[cfg(desktop)]
                show_main_window(webview.app_handle());
            }
        })
        .setup(setup)
        .build(tauri::generate_context!())
        .expect("error while building the Unipos app");
    startup_trace::reached(startup_trace::Phase::PluginsSetUp);
    app.run(|_, _| {});
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::Path;

    fn crate_dir() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// The bindings as the current Rust types generate them.
    fn generated_bindings() -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bindings.ts");
        specta_builder::<tauri::Wry>()
            .export(typescript(), &path)
            .expect("the bindings export");
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn the_mobile_apps_are_the_ones_the_web_names_for_its_reset_links() {
        use unipos_client::unipos_protocol::app_links;
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        // `tauri android` and `tauri ios` take the package and bundle IDs from the identifier.
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
    fn the_typescript_bindings_are_up_to_date() {
        let path = crate_dir().join(BINDINGS_PATH);
        let fresh = generated_bindings();
        if std::env::var_os("UNIPOS_WRITE_BINDINGS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: run `UNIPOS_WRITE_BINDINGS=1 cargo test -p unipos-app --lib bindings` and commit it",
            path.display()
        );
    }

    #[test]
    fn the_bindings_carry_every_error_code_the_ui_must_translate() {
        let bindings = generated_bindings();
        for code in error_codes() {
            assert!(bindings.contains(&format!("\"{code}\"")), "{code} missing");
        }
        assert!(error_codes().contains(&"email_trailing_whitespace"));
        assert!(error_codes().contains(&"offline"));
    }

    /// The commands of `collect_commands!`, as the bindings invoke them.
    fn invoked_commands() -> BTreeSet<String> {
        let bindings = generated_bindings();
        bindings
            .match_indices("__TAURI_INVOKE")
            .filter_map(|(i, m)| {
                let rest = &bindings[i + m.len()..];
                let start = rest.find("(\"")? + 2;
                let name = &rest[start..];
                Some(name[..name.find('"')?].to_owned())
            })
            .collect()
    }

    /// `collect_commands!` (the handler and the bindings) and `commands.rs` (the manifest,
    /// through `build.rs`) list the same commands: none is served without a permission, none
    /// is written and forgotten.
    #[test]
    fn the_handler_and_the_bindings_serve_every_command_of_commands_rs() {
        let manifest: BTreeSet<String> = COMMAND_NAMES.iter().map(|s| s.to_string()).collect();
        assert_eq!(invoked_commands(), manifest);
    }

    /// The README's list of the app's commands is `collect_commands!`'s.
    #[test]
    fn the_readme_lists_every_command_and_no_other() {
        let readme = std::fs::read_to_string(crate_dir().join("../README.md")).unwrap();
        let list = readme
            .split("- **Commands** (`src-tauri/src/commands.rs`):")
            .nth(1)
            .and_then(|rest| rest.split("A failure is").next())
            .expect("the README's list of commands");
        let named: BTreeSet<String> = list
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        assert_eq!(named, invoked_commands());
    }

    #[test]
    fn each_capability_grants_the_screens_commands_and_writing_text_only_and_no_event() {
        let set =
            std::fs::read_to_string(crate_dir().join("permissions/account-screens.toml")).unwrap();
        for name in COMMAND_NAMES {
            let permission = format!("\"allow-{}\"", name.replace('_', "-"));
            assert!(
                set.contains(&permission),
                "{permission} missing from the set"
            );
        }
        assert_eq!(set.matches("\"allow-").count(), COMMAND_NAMES.len());

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
            let text =
                std::fs::read_to_string(crate_dir().join("../capabilities").join(file)).unwrap();
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
}
