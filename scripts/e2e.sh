#!/usr/bin/env bash
# End-to-end tests of the real app: builds it with production assets (not the dev server's
# devUrl), then drives it through tauri-driver and WebKitWebDriver under Xvfb, inside a private
# D-Bus session with an unlocked, throwaway gnome-keyring, against the real reference server.
# Part of scripts/test.sh; runs alone after scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# `tauri build` compiles with the custom-protocol feature, so the app serves ui/dist itself. With
# the workspace selected it builds every binary, support staff's CLI among them (the support
# report's test explains what the app reported), with the features scripts/api-fuzz.sh builds
# with: one build of the dependencies for both.
ui/node_modules/.bin/tauri build --debug --no-bundle --ci -- --locked --workspace --exclude unipos-e2e

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
