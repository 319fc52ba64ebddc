//! `unipos-open` with no app running becomes the program beside it, with the same arguments
//! (the hand-over to a running app is run by scripts/package-test.sh and the bench).

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn with_no_app_running_it_becomes_the_app_beside_it_with_the_same_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let opener = dir.path().join("unipos-open");
    std::fs::copy(env!("CARGO_BIN_EXE_unipos-open"), &opener).unwrap();
    // A stand-in for the app: says how it was started, and which process it is.
    let app = dir.path().join(unipos_handover::APP_BINARY);
    std::fs::write(&app, "#!/bin/sh\necho \"$$ $0 $*\"\n").unwrap();
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o755)).unwrap();

    let child = Command::new(&opener)
        .args(["unipos://reset_password?token=abc", "--flag"])
        // No session bus: nothing runs to hand over to.
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let child = child.wait_with_output().unwrap();
    assert!(child.status.success(), "{child:?}");
    let said = String::from_utf8(child.stdout).unwrap();
    let mut words = said.split_whitespace();
    // The same process: unipos-open became the app, nothing is left waiting for it.
    assert_eq!(words.next(), Some(pid.as_str()));
    assert_eq!(words.next(), Some(app.to_str().unwrap()));
    assert_eq!(
        words.collect::<Vec<_>>(),
        ["unipos://reset_password?token=abc", "--flag"]
    );
}

#[test]
fn without_the_app_beside_it_it_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let opener = dir.path().join("unipos-open");
    std::fs::copy(env!("CARGO_BIN_EXE_unipos-open"), &opener).unwrap();
    let child = Command::new(&opener)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .unwrap();
    assert!(!child.status.success());
    let said = String::from_utf8(child.stderr).unwrap();
    assert!(said.contains("could not start the Unipos app"), "{said}");
    assert!(said.contains("reinstall the app"), "{said}");
}
