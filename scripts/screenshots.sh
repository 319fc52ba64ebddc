#!/usr/bin/env bash
# Re-makes docs/screenshots/: builds the app with its production assets and the reference server,
# then drives the real app under Xvfb, in a private D-Bus session with a throwaway unlocked
# keyring and HOME, through every screen at phone (390×844) and desktop (1280×800) size.
#
#   scripts/screenshots.sh            both sizes in English, and the phone in Japanese
#   scripts/screenshots.sh phone      one size
#   scripts/screenshots.sh phone ja   one size, one language (en: every screen; ja: the main ones)
#
# Needs what scripts/setup.sh installs, and tauri-driver (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
if ! command -v tauri-driver >/dev/null; then
  cargo install tauri-driver --locked
fi

# `tauri build` embeds ui/dist (it runs the UI's build first); a plain `cargo build` would make a
# dev build that loads the Vite dev server instead.
(cd ui && npm run --silent tauri -- build --debug --no-bundle)
cargo build --locked -p unipos-server

xvfb-run -a -s "-screen 0 1400x1000x24" scripts/with-keyring.sh node scripts/screenshots.mjs "$@"
