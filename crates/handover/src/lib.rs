//! Linux: a second launch (the OS opening a link while the app runs) hands its arguments to the
//! running app over D-Bus and leaves. The app does it first thing (`src-tauri/src/handover.rs`),
//! and so does `unipos-open`, the program the installed desktop entry runs, which links neither
//! GTK nor WebKit: loading those (about 170 libraries, most bound at load) is most of what a
//! second launch of the app itself costs.
//!
//! It speaks the single-instance plugin's protocol (the plugin serves it in the running app): the
//! name `{identifier}.SingleInstance`, the object at that name's path, and
//! `org.SingleInstance.DBus.ExecuteCallback(argv, cwd)`.

/// The app's identifier (`tauri.conf.json`; a test of the app keeps them equal).
pub const IDENTIFIER: &str = unipos_protocol::APP_IDENTIFIER;

/// The app's program, beside `unipos-open` (`mainBinaryName` in `tauri.conf.json`; a test of the
/// app keeps them equal).
pub const APP_BINARY: &str = "unipos-app";

/// The running app's name on the session bus.
pub fn bus_name() -> String {
    format!("{IDENTIFIER}.SingleInstance")
}

/// The object the running app serves at `name`.
pub fn object_path(name: &str) -> String {
    format!("/{}", name.replace('.', "/").replace('-', "_"))
}

/// Hands this launch's arguments to a running app; false when there is none (or no session bus,
/// or it did not answer), and this launch is to start the app itself.
#[cfg(target_os = "linux")]
pub fn to_running_app() -> bool {
    let name = bus_name();
    let Ok(connection) = zbus::blocking::Connection::session() else {
        return false;
    };
    let running = zbus::blocking::fdo::DBusProxy::new(&connection)
        .ok()
        .and_then(|bus| bus.name_has_owner(name.as_str().try_into().ok()?).ok())
        .unwrap_or(false);
    if !running {
        return false;
    }
    let argv: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let cwd = std::env::current_dir()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    connection
        .call_method(
            Some(name.as_str()),
            object_path(&name).as_str(),
            Some("org.SingleInstance.DBus"),
            "ExecuteCallback",
            &(argv, cwd.as_str()),
        )
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_and_path_are_the_single_instance_plugins_for_this_app() {
        assert_eq!(bus_name(), "me.unipos.account.SingleInstance");
        assert_eq!(
            object_path(&bus_name()),
            "/me/unipos/account/SingleInstance"
        );
    }
}
