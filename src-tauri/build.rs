// Generates what follows from the list of commands, so that a new command is written twice: its
// function in `src/commands.rs` (`#[tauri::command]`) and its line in `collect_commands!`
// (`src/lib.rs`; a test checks the two agree). From the functions' names it writes
// - `$OUT_DIR/command_names.rs`: `COMMAND_NAMES`, which the app manifest turns into one
//   `allow-<command>` permission each (a command no capability grants cannot be called at all);
// - `permissions/account-screens.toml`: the set of those permissions the capabilities grant.
// It also reads the capabilities from the top-level `capabilities/` folder, and stops a mobile
// release whose app-link IDs are still placeholders (`check_app_link_ids`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a build script fails by panicking, with its reason"
)]

use std::path::Path;

/// The IDs the web's reset links are verified with (dependency-free, shared with the protocol
/// crate and the server).
#[path = "../crates/protocol/src/app_links.rs"]
#[allow(dead_code)]
mod app_links;

/// A release for iOS or Android stops while the IDs its app links are verified with are
/// placeholders: such an app would install fine and never receive a reset link as an app link.
/// The settings: `UNIPOS_APPLE_TEAM_ID` (else Tauri's `APPLE_DEVELOPMENT_TEAM`) and
/// `UNIPOS_ANDROID_CERT_SHA256`. Debug and desktop builds are unaffected.
fn check_app_link_ids() {
    println!("cargo:rerun-if-changed=../crates/protocol/src/app_links.rs");
    for name in [
        "UNIPOS_APPLE_TEAM_ID",
        "APPLE_DEVELOPMENT_TEAM",
        "UNIPOS_ANDROID_CERT_SHA256",
    ] {
        println!("cargo:rerun-if-env-changed={name}");
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let target_os = var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let profile = var("PROFILE").unwrap_or_default();
    let team = var("UNIPOS_APPLE_TEAM_ID").or_else(|| var("APPLE_DEVELOPMENT_TEAM"));
    let certs = var("UNIPOS_ANDROID_CERT_SHA256");
    if let Err(why) =
        app_links::check_mobile_release(&target_os, &profile, team.as_deref(), certs.as_deref())
    {
        panic!("{why}");
    }
}

/// The names of the functions marked `#[tauri::command]` in `source`, in order.
fn command_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut marked = false;
    for line in source.lines().map(str::trim) {
        if line == "#[tauri::command]" {
            marked = true;
        } else if marked && line.starts_with("pub ") && line.contains("fn ") {
            let after = &line[line.find("fn ").unwrap() + 3..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
            marked = false;
        }
    }
    names
}

/// Writes `path` only when its content changes (no rebuild loop, no needless touch).
fn write_if_changed(path: &Path, content: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(content) {
        std::fs::write(path, content)
            .unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
    }
}

/// `UNIPOS_BUILD` for the support report: the commit (when built from a git checkout) and the
/// profile, `0123456789ab release`.
fn build_name() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    // Built again when HEAD moves (a commit, a checkout).
    for path in ["HEAD", "refs/heads"] {
        if let Some(p) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    // Only this workspace's own checkout names the commit (not a checkout the sources sit in).
    let workspace = std::path::Path::new("..").canonicalize().ok();
    let toplevel = git(&["rev-parse", "--show-toplevel"])
        .and_then(|t| std::path::Path::new(&t).canonicalize().ok());
    let commit = if toplevel.is_some() && toplevel == workspace {
        git(&["rev-parse", "--short=12", "HEAD"])
    } else {
        None
    };
    let commit = commit.unwrap_or_else(|| "unknown".into());
    let profile = std::env::var("PROFILE").unwrap_or_default();
    format!("{commit} {profile}")
}

fn main() {
    check_app_link_ids();
    println!("cargo:rustc-env=UNIPOS_BUILD={}", build_name());
    println!("cargo:rerun-if-changed=../capabilities");
    println!("cargo:rerun-if-changed=src/commands.rs");
    let source = std::fs::read_to_string("src/commands.rs").expect("src/commands.rs");
    let names = command_names(&source);
    assert!(!names.is_empty(), "no #[tauri::command] in src/commands.rs");

    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let list: String = names.iter().map(|n| format!("    {n:?},\n")).collect();
    write_if_changed(
        &Path::new(&out).join("command_names.rs"),
        &format!(
            "/// Every command of the app, in the order of `src/commands.rs` (generated by \
             `build.rs`).\npub const COMMAND_NAMES: &[&str] = &[\n{list}];\n"
        ),
    );

    let permissions: String = names
        .iter()
        .map(|n| format!("  \"allow-{}\",\n", n.replace('_', "-")))
        .collect();
    std::fs::create_dir_all("permissions").expect("permissions/");
    write_if_changed(
        Path::new("permissions/account-screens.toml"),
        &format!(
            "# Generated by build.rs from src/commands.rs. Do not edit.\n\
             # The app's own commands the screens call; the capabilities grant this set.\n\
             [[set]]\n\
             identifier = \"account-screens\"\n\
             description = \"Every command of the account screens: log in and out, forgot and \
             reset password, Settings > Account, Settings > Support.\"\n\
             permissions = [\n{permissions}]\n"
        ),
    );

    // The manifest keeps the names for the whole (short) life of the build script.
    let names: &'static [&'static str] = names
        .into_iter()
        .map(|n| &*Box::leak(n.into_boxed_str()))
        .collect::<Vec<_>>()
        .leak();
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("../capabilities/**/*.json")
        .app_manifest(tauri_build::AppManifest::new().commands(names));
    tauri_build::try_build(attributes).expect("the Tauri build step failed");
}
