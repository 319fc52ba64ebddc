//! What the docs list, and the facts said in more than one place, agree with the code: the
//! capabilities the README names are the files of `capabilities/`, its list of end-to-end tests is
//! the test functions of `tests/e2e/tests/`, its screenshot tables are `docs/screenshots/`; every
//! file a doc names is there; the app's identifier is `unipos_protocol::APP_IDENTIFIER` everywhere; and every version (Cargo,
//! the UI's package, Tauri's, Android's version code) is the workspace's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use unipos_protocol::APP_IDENTIFIER;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    let path = root().join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names of the files in `dir` that end in `ext`.
fn files(dir: &str, ext: &str) -> BTreeSet<String> {
    std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(ext))
        .collect()
}

/// The lines of a Markdown section, from its heading to the next heading of its level or above.
fn section<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut lines = text.lines().skip_while(|l| l.trim_end() != heading);
    assert!(lines.next().is_some(), "no section {heading:?}");
    lines
        .take_while(|l| {
            let hashes = l.chars().take_while(|c| *c == '#').count();
            hashes == 0 || hashes > level || !l[hashes..].starts_with(' ')
        })
        .collect()
}

/// The words of `text` that name a file ending in `ext` (`desktop.json,` → `desktop.json`).
fn named_files(text: &str, ext: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .filter(|w| w.ends_with(ext) && w.len() > ext.len())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readmes_capabilities_are_the_files_of_capabilities() {
    let readme = read("README.md");
    // The layout's `capabilities/` entry, with its continuation lines.
    let layout: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("capabilities/"))
        .enumerate()
        .take_while(|(i, l)| *i == 0 || l.starts_with(' '))
        .map(|(_, l)| l)
        .collect();
    assert!(
        !layout.is_empty(),
        "README.md's layout has no capabilities/ entry"
    );
    let on_disk = files("capabilities", ".json");
    assert_eq!(
        named_files(&layout.join("\n"), ".json"),
        on_disk,
        "README.md's layout, capabilities/ (left), and the folder's files (right)"
    );
    // The Permissions paragraph names what the capabilities grant besides the commands.
    let permissions: String = readme
        .lines()
        .skip_while(|l| !l.starts_with("- **Permissions**"))
        .take_while(|l| !l.starts_with("- **Languages**"))
        .collect::<Vec<_>>()
        .join("\n");
    for file in named_files(&permissions, ".json") {
        assert!(
            on_disk.contains(&file),
            "README.md, Permissions: no capabilities/{file}"
        );
    }
}

/// `tests/e2e/tests/<file>` → its test functions (`#[test]` or `#[tokio::test]`).
fn e2e_tests() -> BTreeMap<String, BTreeSet<String>> {
    files("tests/e2e/tests", ".rs")
        .into_iter()
        .map(|file| {
            let source = read(&format!("tests/e2e/tests/{file}"));
            let mut tests = BTreeSet::new();
            let mut attribute = false;
            for line in source.lines().map(str::trim) {
                if line == "#[test]" || line.starts_with("#[tokio::test") {
                    attribute = true;
                } else if attribute {
                    let name = line
                        .strip_prefix("async fn ")
                        .or_else(|| line.strip_prefix("fn "));
                    if let Some(name) = name {
                        tests.insert(name.split('(').next().unwrap().to_owned());
                        attribute = false;
                    }
                }
            }
            (file, tests)
        })
        .collect()
}

#[test]
fn the_readmes_end_to_end_tests_are_the_test_functions_of_tests_e2e() {
    let readme = read("README.md");
    let mut listed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut file = None;
    for line in section(&readme, "## End-to-end tests") {
        if let Some(rest) = line.strip_prefix("`tests/e2e/tests/") {
            let name = rest.split('`').next().unwrap().to_owned();
            listed.entry(name.clone()).or_default();
            file = Some(name);
            continue;
        }
        // "12. `name`: what it checks"
        let item = line
            .split_once(". `")
            .filter(|(n, _)| n.parse::<u32>().is_ok());
        if let Some((_, rest)) = item {
            let file = file
                .clone()
                .expect("a numbered test before the first file's line");
            let name = rest.split('`').next().unwrap().to_owned();
            assert!(
                listed.get_mut(&file).unwrap().insert(name.clone()),
                "README.md lists {name} twice"
            );
        }
    }
    let actual = e2e_tests();
    let pairs = |map: &BTreeMap<String, BTreeSet<String>>| -> BTreeSet<String> {
        map.iter()
            .flat_map(|(file, tests)| tests.iter().map(move |t| format!("{file}: {t}")))
            .collect()
    };
    let (listed, actual) = (pairs(&listed), pairs(&actual));
    let only_listed: Vec<_> = listed.difference(&actual).collect();
    let unlisted: Vec<_> = actual.difference(&listed).collect();
    assert!(
        only_listed.is_empty() && unlisted.is_empty(),
        "README.md's end-to-end tests: listed but no such test {only_listed:?}; \
         tests of tests/e2e/tests not listed {unlisted:?}"
    );
}

#[test]
fn every_test_the_docs_name_is_a_test_of_tests_e2e() {
    let all: BTreeSet<String> = e2e_tests().into_values().flatten().collect();
    for doc in ["README.md", "DEEPLINKS.md", "ARCHITECTURE.md"] {
        let text = read(doc);
        for name in text.split('`').skip(1).step_by(2) {
            let test_like = name.matches('_').count() >= 4
                && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            if test_like {
                assert!(
                    all.contains(name),
                    "{doc} names `{name}`, which no e2e test is"
                );
            }
        }
    }
}

#[test]
fn the_screenshots_the_docs_show_are_the_files_of_docs_screenshots() {
    let docs = [
        "README.md",
        "ARCHITECTURE.md",
        "DEEPLINKS.md",
        "crates/cli/README.md",
        "crates/server/README.md",
    ];
    let on_disk = files("docs/screenshots", ".png");
    let mut named = BTreeSet::new();
    for doc in docs {
        let text = read(doc);
        for (at, _) in text.match_indices("docs/screenshots/") {
            let rest = &text[at + "docs/screenshots/".len()..];
            let file = rest.split(['"', ')', ' ', '`']).next().unwrap();
            if !file.ends_with(".png") || file.contains('<') {
                continue; // the folder itself, or a pattern (`<screen>-ja-phone.png`)
            }
            assert!(
                on_disk.contains(file),
                "{doc} shows docs/screenshots/{file}, which is not there"
            );
        }
        named.extend(named_files(&text, ".png"));
    }
    // A Japanese picture of a screen whose English phone picture is shown goes with it (the
    // README: every screen of the tour is there as `<screen>-ja-phone.png`).
    let unnamed: Vec<&String> = on_disk
        .iter()
        .filter(|file| !named.contains(*file))
        .filter(|file| {
            let english = file
                .strip_suffix("-ja-phone.png")
                .map(|s| format!("{s}-phone.png"));
            !english.is_some_and(|e| named.contains(&e))
        })
        .collect();
    assert!(
        unnamed.is_empty(),
        "pictures in docs/screenshots that no table or text of the docs shows: {unnamed:?}"
    );
}

fn tauri_conf() -> serde_json::Value {
    serde_json::from_str(&read("src-tauri/tauri.conf.json")).unwrap()
}

#[test]
fn the_identifier_is_said_once_for_rust_and_once_for_tauri() {
    assert_eq!(
        tauri_conf()["identifier"],
        APP_IDENTIFIER,
        "src-tauri/tauri.conf.json's identifier and unipos_protocol::APP_IDENTIFIER"
    );
    // The scripts read it from tauri.conf.json.
    for script in files("scripts", ".sh") {
        let text = read(&format!("scripts/{script}"));
        assert!(
            !text.contains(APP_IDENTIFIER),
            "scripts/{script} spells out the identifier; read it from tauri.conf.json"
        );
    }
}

/// `version = "…"` of a TOML table (`[workspace.package]`).
fn toml_version(text: &str, table: &str) -> Option<String> {
    text.lines()
        .skip_while(|l| l.trim() != table)
        .skip(1)
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "version").then(|| value.trim().trim_matches('"').to_owned())
        })
}

#[test]
fn every_version_is_the_workspaces() {
    let version = toml_version(&read("Cargo.toml"), "[workspace.package]")
        .expect("Cargo.toml: [workspace.package] version");
    for member in [
        "crates/protocol",
        "crates/server",
        "crates/client",
        "crates/cli",
        "src-tauri",
        "tests/e2e",
    ] {
        let manifest = read(&format!("{member}/Cargo.toml"));
        assert!(
            manifest.contains("\nversion.workspace = true\n"),
            "{member}/Cargo.toml: the version must be the workspace's (version.workspace = true)"
        );
    }
    let package: serde_json::Value = serde_json::from_str(&read("ui/package.json")).unwrap();
    assert_eq!(package["version"], version.as_str(), "ui/package.json");
    let lock: serde_json::Value = serde_json::from_str(&read("ui/package-lock.json")).unwrap();
    assert_eq!(lock["version"], version.as_str(), "ui/package-lock.json");
    assert_eq!(
        lock["packages"][""]["version"],
        version.as_str(),
        "ui/package-lock.json"
    );
    // Tauri takes the version from Cargo.toml when tauri.conf.json has none.
    let conf = tauri_conf();
    assert!(
        conf.get("version").is_none() || conf["version"] == version.as_str(),
        "src-tauri/tauri.conf.json's version: {}",
        conf["version"]
    );
    // Android's version code is the version's, as Tauri derives it when none is given:
    // major × 1,000,000 + minor × 1,000 + patch.
    let parts: Vec<u64> = version
        .split(['.', '-', '+'])
        .take(3)
        .map(|p| p.parse().unwrap())
        .collect();
    let code = parts[0] * 1_000_000 + parts[1] * 1_000 + parts[2];
    assert_eq!(
        conf["bundle"]["android"]["versionCode"], code,
        "src-tauri/tauri.conf.json's bundle.android.versionCode for version {version}"
    );
    let readme = read("README.md");
    assert!(
        readme.contains(&format!("version code {code} = {version}")),
        "README.md, Building for Android and iOS: \"version code {code} = {version}\""
    );
}

/// Every file path the docs name in backquotes (the recipes' files, the maps' modules) is a
/// file or folder of the checkout, read from the repository's root or from the doc's own
/// folder: a file renamed or split makes its doc fail here, not mislead a reader.
#[test]
fn every_file_the_docs_name_is_there() {
    const DOCS: [&str; 8] = [
        "README.md",
        "ARCHITECTURE.md",
        "DEEPLINKS.md",
        "src-tauri/README.md",
        "crates/protocol/README.md",
        "crates/server/README.md",
        "crates/client/README.md",
        "crates/cli/README.md",
    ];
    const EXTENSIONS: [&str; 9] = [
        ".rs", ".ts", ".svelte", ".json", ".sh", ".md", ".toml", ".txt", ".eml",
    ];
    let mut missing = Vec::new();
    for doc in DOCS {
        let text = read(doc);
        let dir = Path::new(doc).parent().unwrap_or(Path::new(""));
        for quoted in text.split('`').skip(1).step_by(2) {
            let path = quoted.trim_end_matches(['.', ',', ':', ')']);
            // A path of the checkout: no spaces, placeholders, globs, URLs or build output.
            let plain = !path.contains([' ', '<', '{', '*', '$', '='])
                && !path.contains("://")
                && !path.starts_with("target/")
                && !path.starts_with("/")
                && !path.starts_with("gen/")
                && !path.contains("/gen/");
            if !plain || !path.contains('/') || !EXTENSIONS.iter().any(|e| path.ends_with(e)) {
                continue;
            }
            let path = path.trim_start_matches("./");
            if !root().join(path).exists() && !root().join(dir).join(path).exists() {
                missing.push(format!("{doc}: `{path}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "named in the docs but not there: {missing:#?}"
    );
}
