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
//! without the ones the app set (browser.rs), or a WebKit browser would run without its JITs.

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

/// The variables this process set for its web view, for a process that must start without them.
pub fn set_here() -> Vec<&'static str> {
    SET_HERE.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_yields_to_the_members_own_variable() {
        let set = missing(|name| name == "WEBKIT_DISABLE_COMPOSITING_MODE");
        assert_eq!(set, [("JSC_useJIT", "0")]);
        assert_eq!(missing(|_| false), SETTINGS);
    }
}
