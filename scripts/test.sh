#!/usr/bin/env bash
# Runs every check and test of the project, installing what is missing first.
# This is the README's test command and exactly what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "setup"
scripts/setup.sh

step "format"
cargo fmt --all --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (inside a private D-Bus session with an unlocked gnome-keyring)"
# The vault tests talk to the real Secret Service; the keyring lives in a throwaway HOME.
UNIPOS_REQUIRE_KEYCHAIN=1 scripts/with-keyring.sh cargo test --workspace --locked
