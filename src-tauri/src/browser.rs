//! Linux: the member's browser, for SSO and the help pages, started without what the app set
//! in the environment for its own web view (web_view_env.rs).

use std::process::Command;

use crate::web_view_env;

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
    let set_here = web_view_env::set_here();
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
