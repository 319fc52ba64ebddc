//! Linux: how WebKitGTK runs the app's screens, set in the environment before anything starts
//! (WebKit and JavaScriptCore read it, and the web process inherits it). Each setting yields to
//! the member's own: a variable already set is left alone.
//!
//! - `WEBKIT_DISABLE_COMPOSITING_MODE=1`: the screens are forms and text; accelerated
//!   compositing held a GL context and layer buffers for them (about 90 MiB of the web process,
//!   in software GL where there is no GPU) and bought nothing. Evolution's mail view does the
//!   same. `=0` turns compositing back on.
//! - `JSC_useJIT=0`: the screens' scripts are small and event-driven. JavaScriptCore's
//!   interpreter runs them fast enough, while its JITs kept compiled code, inline caches and
//!   compiler memory in the web process as the member went round the screens (about 8 of its
//!   13 MiB of growth over 50 rounds of forgot → "Check your email" → back), for no faster first
//!   screen. `=1` turns the JITs back on.
//!
//! They are for the app's own web view only: a browser the app opens (SSO, help pages) starts
//! without the ones the app set, or a WebKit browser would run without its JITs.

use std::process::Command;
use std::sync::Mutex;

/// The settings, as (variable, value).
const SETTINGS: [(&str, &str); 2] = [
    ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
    ("JSC_useJIT", "0"),
];

/// The variables this process set (not the member's own).
static SET_HERE: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// The settings whose variable is not set yet.
fn missing(is_set: impl Fn(&str) -> bool) -> Vec<(&'static str, &'static str)> {
    SETTINGS
        .into_iter()
        .filter(|(name, _)| !is_set(name))
        .collect()
}

/// Sets what is not set yet. Before any thread starts: `set_var` is not safe beside threads that
/// read the environment.
pub fn set_up() {
    let missing = missing(|name| std::env::var_os(name).is_some());
    for (name, value) in &missing {
        std::env::set_var(name, value);
    }
    *SET_HERE.lock().unwrap_or_else(|p| p.into_inner()) =
        missing.iter().map(|(name, _)| *name).collect();
}

/// What opens a URL in the member's browser, tried in this order (the ones the opener plugin
/// tries on Linux).
const OPENERS: [&[&str]; 4] = [
    &["xdg-open"],
    &["gio", "open"],
    &["gnome-open"],
    &["kde-open"],
];

/// Opens `url` in the member's browser, in the environment the app was started with, in a
/// process group of its own (so that a browser started directly outlives the app's terminal).
pub fn open_in_browser(url: &str) -> Result<(), String> {
    let set_here = SET_HERE.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut tried = Vec::new();
    for opener in OPENERS {
        match browser_command(opener, url, &set_here).spawn() {
            Ok(mut child) => {
                // Reaped when it ends (xdg-open ends at once; a browser it started directly
                // may not).
                std::thread::spawn(move || child.wait());
                return Ok(());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => tried.push(opener[0]),
            Err(e) => return Err(format!("{}: {e}", opener[0])),
        }
    }
    Err(format!(
        "none of {} is installed (xdg-utils)",
        tried.join(", ")
    ))
}

fn browser_command(opener: &[&str], url: &str, without: &[&str]) -> Command {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;

    let mut command = Command::new(opener[0]);
    command
        .args(&opener[1..])
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    for name in without {
        command.env_remove(name);
    }
    command
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn a_setting_yields_to_the_members_own_variable() {
        let set = missing(|name| name == "WEBKIT_DISABLE_COMPOSITING_MODE");
        assert_eq!(set, [("JSC_useJIT", "0")]);
        assert_eq!(missing(|_| false), SETTINGS);
    }

    #[test]
    fn the_browser_starts_without_what_the_app_set_for_its_web_view() {
        let url = "https://help.unipos.me/hc";
        let command = browser_command(&["gio", "open"], url, &["JSC_useJIT"]);
        assert_eq!(command.get_program(), "gio");
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(args, [OsStr::new("open"), OsStr::new(url)]);
        let changes: Vec<_> = command.get_envs().collect();
        assert_eq!(changes, [(OsStr::new("JSC_useJIT"), None)]);
    }
}
