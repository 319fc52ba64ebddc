#!/usr/bin/env bash
# Builds the UI (ui/dist, what the app embeds) and prints the gzipped size of its JS and CSS
# against the budget of 80 KB. Exit status 1 when over budget. Not part of the tests.
#   scripts/ui-size.sh            build, then measure
#   scripts/ui-size.sh --no-build measure the current ui/dist
set -euo pipefail
cd "$(dirname "$0")/.."

budget=$((80 * 1024))
if [ "${1:-}" != "--no-build" ]; then
  (cd ui && npm run --silent build >/dev/null)
fi
shopt -s nullglob
files=(ui/dist/assets/*.js ui/dist/assets/*.css)
if [ ${#files[@]} -eq 0 ]; then
  echo "ui-size: no JS or CSS in ui/dist/assets; build the UI first" >&2
  exit 2
fi
total=0
for f in "${files[@]}"; do
  raw=$(wc -c < "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total=$((total + gz))
  printf '%-40s %8d bytes, %7d gzipped\n' "${f#ui/dist/}" "$raw" "$gz"
done
awk -v t="$total" -v b="$budget" \
  'BEGIN { printf "UI total (JS+CSS, gzip -9): %d bytes = %.1f KB of the %d KB budget\n", t, t / 1024, b / 1024 }'
if [ "$total" -gt "$budget" ]; then
  echo "ui-size: over budget" >&2
  exit 1
fi
