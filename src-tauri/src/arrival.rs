//! How a link reaches the app from the OS: a cold start's arguments or URLs, a second launch,
//! the OS's open-URL event. Each goes to the link rules and waits for the UI in `Links`.

use tauri::{Manager, Runtime};
use unipos_client::support::LinkArrival;

use crate::state::AppState;

/// Hands a link from the OS to the state and tells the UI.
pub fn deliver_link<R: Runtime>(app: &tauri::AppHandle<R>, raw: &str) {
    let state = app.state::<AppState>();
    state.links.deliver(&state.flows(), raw, LinkArrival::Warm);
    state.links.tell_ui();
}

/// The program's arguments that can be links (the first is the program; flags are not links).
pub fn link_arguments(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect()
}

/// The links the app was started with. On Linux and Windows they arrive as raw arguments, which
/// go to the link rules exactly as written (a parsed URL would already have normalised the
/// look-alike hosts the rules must refuse); elsewhere the OS delivers them as URLs.
fn startup_links<R: Runtime>(app: &tauri::App<R>) -> Vec<String> {
    #[cfg(any(target_os = "linux", target_os = "windows"))]
    {
        let _ = app;
        // Arguments that are not UTF-8 cannot be links; `env::args()` would panic on them.
        link_arguments(std::env::args_os().filter_map(|a| a.into_string().ok()))
    }
    #[cfg(not(any(target_os = "linux", target_os = "windows")))]
    {
        use tauri_plugin_deep_link::DeepLinkExt;
        app.deep_link()
            .get_current()
            .ok()
            .flatten()
            .unwrap_or_default()
            .into_iter()
            .map(|u| u.to_string())
            .collect()
    }
}

/// At start (the state is managed): the links the app was started with wait for the first
/// screen, and later ones from the OS are delivered as they come. A second launch's arguments
/// come through the single-instance plugin (`run`) or `handover.rs`.
pub fn listen<R: Runtime>(app: &tauri::App<R>) {
    let state = app.state::<AppState>();
    for link in startup_links(app) {
        state
            .links
            .deliver(&state.flows(), &link, LinkArrival::ColdStart);
    }

    #[cfg(any(target_os = "macos", mobile))]
    {
        use tauri_plugin_deep_link::DeepLinkExt;
        let handle = app.handle().clone();
        app.deep_link().on_open_url(move |event| {
            for url in event.urls() {
                deliver_link(&handle, url.as_str());
            }
        });
    }
    // Debug builds on Linux and Windows are not installed, so nothing registered the scheme.
    #[cfg(all(debug_assertions, any(target_os = "linux", target_os = "windows")))]
    {
        use tauri_plugin_deep_link::DeepLinkExt;
        if let Err(e) = app.deep_link().register_all() {
            log::warn!("could not register the unipos: scheme: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_arguments_are_taken_as_links() {
        let args = [
            "/usr/bin/unipos-app",
            "--verbose",
            "unipos://forgot_password",
        ];
        assert_eq!(
            link_arguments(args.iter().map(|s| s.to_string())),
            vec!["unipos://forgot_password".to_owned()]
        );
    }
}
