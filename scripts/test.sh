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

step "bindings: ui/src/generated/bindings.ts matches the Rust types"
cargo test --locked -p unipos-app --lib bindings

step "UI: type check (svelte-check)"
(cd ui && npm run --silent check)

step "UI: English and Japanese catalogues have the same keys and every error code"
(cd ui && npm run --silent check:catalogues)

step "UI: unit tests (Vitest)"
(cd ui && npm test --silent)

step "UI: production build (ui/dist, embedded by the app)"
(cd ui && npm run --silent build)

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (inside a private D-Bus session with an unlocked gnome-keyring)"
# The vault tests talk to the real Secret Service; the keyring lives in a throwaway HOME.
UNIPOS_REQUIRE_KEYCHAIN=1 scripts/with-keyring.sh cargo test --workspace --exclude unipos-e2e --locked

step "server: unit and API tests again, on PostgreSQL (a throw-away cluster from pg_virtualenv)"
scripts/api-postgres.sh

step "API: schemathesis against openapi.json, every operation, a real non-dev server (about a minute)"
scripts/api-fuzz.sh

step "end to end: the built app under Xvfb, through WebDriver, against the real server"
scripts/e2e.sh
