#!/usr/bin/env bash
# End-to-end tests of the real app: builds it with production assets (not the dev server's
# devUrl), then drives it through WebKitWebDriver under Xvfb, inside a private
# D-Bus session with an unlocked, throwaway gnome-keyring, against the real reference server.
# Part of scripts/test.sh; runs alone after scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Support staff's CLI (the support report's test explains what the app reported), with the
# workspace's other binaries, as scripts/api-fuzz.sh builds them: the same features, so one build
# of the dependencies serves both (scripts/test.sh).
cargo build --locked --workspace --exclude unipos-e2e --bins
# Then the app as it ships, over the one just built: its own features, not the workspace's (a
# feature another crate turns on in a dependency changes what the app does, what it logs among
# it), and tauri build's custom-protocol, so that it serves ui/dist itself.
ui/node_modules/.bin/tauri build --debug --no-bundle --ci

# One app at a time: single-instance would hand a second app's launch to the first.
# `--workspace --lib` with the tests: cargo resolves features from the selected targets too, and
# with every crate's unit tests among them the features are those of the workspace's `cargo
# test`, so its build is reused rather than a second one made (the unit tests run again, in
# seconds). `--nocapture`: the tour of the screens and the reset page's tests print axe-core's
# summary of each screen. reset_page drives the reset link's page in headless chromium (no app).
# `--example bench`: the start-up bench's own unit tests (its order of starts), not the bench.
xvfb-run -a -s "-screen 0 1920x1080x24" \
  scripts/with-keyring.sh cargo test --locked --workspace --lib --test flows --test screens \
  --test reset_page --example bench -- --test-threads=1 --nocapture
