#!/usr/bin/env bash
# Re-makes docs/screenshots/: the tour of every screen that the end-to-end tests make
# (tests/e2e/tests/screens.rs, axe-core included), with each screen saved as
# docs/screenshots/<screen>-<size>.png. The app is built with its production assets and driven
# under Xvfb, in a private D-Bus session with a throwaway unlocked keyring and HOME, against the
# reference server, at phone (390×844) and desktop (1280×800) size.
#
#   scripts/screenshots.sh            both sizes in English, and the phone in Japanese
#   scripts/screenshots.sh phone      one size (in English)
#   scripts/screenshots.sh phone ja   one size, one language (<screen>-ja-<size>.png)
#
# Needs what scripts/setup.sh installs (it runs it first).
set -euo pipefail
cd "$(dirname "$0")/.."

size="" language=""
for arg in "$@"; do
  case "$arg" in
    phone | desktop) size=$arg ;;
    en | ja) language=$arg ;;
    *) echo "usage: scripts/screenshots.sh [phone|desktop] [en|ja]" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
# `tauri build` embeds ui/dist (it runs the UI's build first); a plain `cargo build` would make a
# dev build that loads the Vite dev server instead.
ui/node_modules/.bin/tauri build --debug --no-bundle --ci

tour() { # LANGUAGE SIZE
  UNIPOS_SCREENSHOTS="$PWD/docs/screenshots" UNIPOS_SCREENSHOTS_LANGUAGE="$1" UNIPOS_TOUR_SIZE="$2" \
    xvfb-run -a -s "-screen 0 1920x1080x24" scripts/with-keyring.sh \
    cargo test --locked --workspace --test screens -- --test-threads=1 --nocapture
}

if [ -n "$language" ]; then
  tour "$language" "$size"
else
  tour en "$size"
  tour ja "${size:-phone}"
fi
