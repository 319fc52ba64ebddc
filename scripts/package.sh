#!/usr/bin/env bash
# Builds the Linux release bundles of the app with `tauri build`: a .deb and an .rpm, in
# target/release/bundle/{deb,rpm}/, and prints their names and sizes.
#
#   scripts/package.sh
#
# The bundle metadata (publisher, licence, category, descriptions, the .deb's and .rpm's
# dependencies) is in src-tauri/tauri.conf.json > bundle. No AppImage: tauri's AppImage step
# downloads linuxdeploy and its plugins from GitHub at build time, and the release bundles are
# built from what is on the machine only.
#
# Release build with LTO: about 7 minutes on 2 cores from cold, a minute when only the app
# changed. Not part of the test command; scripts/package-test.sh installs the .deb and uses it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

# The release build embeds ui/dist (tauri runs the UI's `npm run build` first).
ui/node_modules/.bin/tauri build --ci --bundles deb,rpm

printf '\npackages:\n'
for f in target/release/bundle/deb/*.deb target/release/bundle/rpm/*.rpm; do
  [ -e "$f" ] || continue
  printf '  %-60s %8s bytes (%s)\n' "$f" "$(stat -c %s "$f")" "$(du -h "$f" | cut -f1)"
done
