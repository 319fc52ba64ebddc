//! The table of flags in crates/server/README.md is `unipos-server --help`: the same flags, each
//! with its variable and its default (clap's, which are `unipos_server::defaults`), and the
//! defaults clap cannot show (a number per core, the dev outbox) as those constants say.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::collections::BTreeMap;
use std::process::Command;

use unipos_server::defaults;

/// A flag as `--help` or the README tells it: its variable and its default (if one is shown).
#[derive(Debug, PartialEq)]
struct Flag {
    env: String,
    default: Option<String>,
}

/// `--name` → variable and default, from clap's help.
fn from_help() -> BTreeMap<String, Flag> {
    let out = Command::new(env!("CARGO_BIN_EXE_unipos-server"))
        .arg("--help")
        .output()
        .expect("unipos-server --help");
    assert!(out.status.success(), "unipos-server --help: {out:?}");
    let help = String::from_utf8(out.stdout).unwrap();
    // One block per option: from its `--name` line to the next.
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        let name = trimmed
            .strip_prefix("--")
            .or_else(|| trimmed.strip_prefix("-h, --"))
            .or_else(|| trimmed.strip_prefix("-V, --"))
            .map(|rest| rest.split([' ', '=']).next().unwrap().to_owned());
        match name {
            Some(name) if line.starts_with("  ") => blocks.push((name, String::new())),
            _ => {
                if let Some((_, text)) = blocks.last_mut() {
                    text.push(' ');
                    text.push_str(trimmed);
                }
            }
        }
    }
    let bracketed = |text: &str, key: &str| {
        let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let start = words.find(&format!("[{key}: "))? + key.len() + 3;
        let end = start + words[start..].find(']')?;
        Some(words[start..end].trim_end_matches('=').to_owned())
    };
    blocks
        .into_iter()
        .filter(|(name, _)| name != "help" && name != "version")
        .map(|(name, text)| {
            let env = bracketed(&text, "env")
                .unwrap_or_else(|| panic!("--{name} has no variable in --help"));
            let env = env.split('=').next().unwrap().to_owned();
            let default = bracketed(&text, "default");
            (name, Flag { env, default })
        })
        .collect()
}

/// The README's table under "## Flags": `--name` → variable and the default column.
fn from_readme() -> BTreeMap<String, (Flag, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("crates/server/README.md");
    let table = readme
        .split_once("## Flags")
        .expect("the README's Flags section")
        .1
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2);
    table
        .map(|row| {
            // Cells are split on `|` outside backticks (`text\|json` is one cell).
            let mut cells = Vec::new();
            let (mut cell, mut quoted, mut prev) = (String::new(), false, ' ');
            for c in row.trim().trim_matches('|').chars() {
                match c {
                    '`' => quoted = !quoted,
                    '|' if !quoted && prev != '\\' => {
                        cells.push(cell.trim().to_owned());
                        cell.clear();
                        prev = c;
                        continue;
                    }
                    _ => {}
                }
                cell.push(c);
                prev = c;
            }
            cells.push(cell.trim().to_owned());
            let first_word = |cell: &str| {
                let inner = cell.split('`').nth(1).unwrap_or(cell);
                inner.split(' ').next().unwrap().to_owned()
            };
            let name = first_word(&cells[0])
                .strip_prefix("--")
                .unwrap_or_else(|| panic!("README row without a flag: {row}"))
                .to_owned();
            let env = first_word(&cells[1]);
            let default_cell = cells[2].clone();
            // The default as a value: the first word, backticks or not ("`3600`", "16",
            // "`604800` (7 days)").
            let default = default_cell
                .trim_start_matches('`')
                .split(['`', ' '])
                .next()
                .unwrap()
                .to_owned();
            (
                name,
                (
                    Flag {
                        env,
                        default: Some(default),
                    },
                    default_cell,
                ),
            )
        })
        .collect()
}

#[test]
fn the_readmes_flags_are_the_binarys_with_the_same_variables_and_defaults() {
    let help = from_help();
    let readme = from_readme();
    assert_eq!(
        help.keys().collect::<Vec<_>>(),
        readme.keys().collect::<Vec<_>>(),
        "the flags of `unipos-server --help` (left) and of the README's table (right)"
    );
    for (name, flag) in &help {
        let (row, cell) = &readme[name];
        assert_eq!(
            flag.env, row.env,
            "--{name}: the variable, --help (left), README"
        );
        match &flag.default {
            // A switch: the README says "off".
            Some(value) if value == "false" => {
                assert_eq!(row.default.as_deref(), Some("off"), "--{name}: {cell}")
            }
            Some(value) => assert_eq!(
                Some(value),
                row.default.as_ref(),
                "--{name}: the default, --help (left), README (right)"
            ),
            // No default clap can show: the README says in words what happens, never a number.
            // No default clap can show: the README says in words what happens ("none", "off",
            // "the number of cores"), or a number per core (checked below), never a value.
            None => assert!(
                !cell
                    .trim_start_matches('`')
                    .starts_with(|c: char| c.is_ascii_digit())
                    || cell.ends_with(" per core"),
                "--{name}: the README gives a default ({cell}) that --help does not"
            ),
        }
    }
}

#[test]
fn the_readmes_defaults_in_words_are_the_constants() {
    let readme = from_readme();
    let cell = |name: &str| readme[name].1.clone();
    assert_eq!(
        cell("hash-queue"),
        format!("{} per core", defaults::HASH_QUEUE_PER_CORE)
    );
    assert!(
        cell("outbox").starts_with(&format!("`{}` with `--dev`", defaults::DEV_OUTBOX)),
        "--outbox: {}",
        cell("outbox")
    );
    let readme_text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = |flag: &str| {
        readme_text
            .lines()
            .find(|l| l.starts_with(&format!("| `--{flag}")))
            .unwrap()
            .to_owned()
    };
    let db_wait = format!("waits {} s for one", defaults::DB_WAIT.as_secs());
    assert!(row("db-connections").contains(&db_wait), "{db_wait}");
    let hash_wait = format!("(at most {} s)", defaults::HASH_WAIT.as_secs());
    assert!(row("hash-queue").contains(&hash_wait), "{hash_wait}");
}
