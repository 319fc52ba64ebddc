//! Every fuzz target's oracle over its committed seeds, on the stable toolchain: the seeds in
//! `fuzz/corpus/<target>/` go through `check` of `fuzz/oracles/<target>.rs`, the same code the
//! libFuzzer target runs (`scripts/fuzz.sh`), so the oracles are built and hold on every seed in
//! every test run. As libFuzzer's `&str` targets do, a seed that is not UTF-8 is skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed unwrap is the test's failure"
)]

use std::path::{Path, PathBuf};

#[path = "../../../fuzz/oracles/base_url.rs"]
mod base_url;
#[path = "../../../fuzz/oracles/email.rs"]
mod email;
#[path = "../../../fuzz/oracles/link.rs"]
mod link;
#[path = "../../../fuzz/oracles/token.rs"]
mod token;

/// A target's oracle: panics on an input that breaks it.
type Oracle = fn(&str);

/// Each target of `fuzz/Cargo.toml` with its oracle.
const TARGETS: [(&str, Oracle); 4] = [
    ("email", email::check),
    ("link", link::check),
    ("token", token::check),
    ("base_url", base_url::check),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Runs `check` over the committed seeds of `target`; answers how many it checked.
fn replay(target: &str, check: Oracle) -> usize {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    seeds.sort();
    let mut checked = 0;
    for seed in seeds {
        let bytes = std::fs::read(&seed).unwrap();
        let Ok(input) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Err(panic) = std::panic::catch_unwind(|| check(input)) {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            panic!(
                "{target}: the seed {} fails its oracle: {why}",
                seed.display()
            );
        }
        checked += 1;
    }
    checked
}

#[test]
fn every_fuzz_target_is_replayed_here() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    let mut bins: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|bin| {
            let name = bin.lines().find_map(|l| l.trim().strip_prefix("name = "))?;
            Some(name.trim_matches('"'))
        })
        .collect();
    let mut replayed: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    bins.sort();
    replayed.sort();
    assert_eq!(replayed, bins);
}

#[test]
fn every_committed_seed_holds_its_targets_oracle() {
    for (target, check) in TARGETS {
        let checked = replay(target, check);
        assert!(checked >= 10, "{target}: only {checked} seeds");
    }
}
