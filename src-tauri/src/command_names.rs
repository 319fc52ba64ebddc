// The app's commands, by the name the web view invokes them with. `build.rs` turns each into an
// `allow-<name>` permission of the app manifest (so a command no capability grants cannot be
// called at all), and a test checks that this list is exactly what the invoke handler serves.
// Plain Rust without `use`, because `build.rs` includes it too.

/// Every command of the app, in the order the bindings list them.
pub const COMMAND_NAMES: &[&str] = &[
    "startup",
    "app_info",
    "set_language",
    "set_presentation",
    "set_api_url",
    "check_email",
    "request_reset",
    "open_link",
    "take_incoming_link",
    "check_reset_link",
    "policy_checklist",
    "set_password_and_login",
    "login_with_email",
    "login_with_login_id",
    "open_sso",
    "open_help",
    "restore_session",
    "timeline",
    "change_password",
    "logout",
    "startup_reached",
];
