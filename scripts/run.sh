#!/usr/bin/env bash
# Runs the app against the reference API server with demo data, both on this machine, installing
# what is missing first. The server listens on loopback; its SQLite file and its outbox of sent
# mails (.eml) live in .data/ at the top of the checkout. Ctrl-C (or closing the app) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  cat >&2 <<'MSG'
run: there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the app has no screen.
To run it headless, give it a virtual one and a throwaway keychain:

    xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-keyring.sh scripts/run.sh

(or run it from a desktop session, where it uses your own keychain).
MSG
  exit 2
fi

scripts/setup.sh
cargo build --locked -p unipos-server
# The app with its screens embedded (no dev server), as it ships, in a debug build.
ui/node_modules/.bin/tauri build --debug --no-bundle --ci

data=.data
mkdir -p "$data/outbox"
listen=${UNIPOS_LISTEN:-127.0.0.1:8787}
target/debug/unipos-server --dev --listen "$listen" \
  --db "$data/unipos.sqlite3" --outbox "$data/outbox" --web-base "http://$listen" \
  > "$data/server.out" 2> "$data/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

for _ in $(seq 100); do
  grep -q '^listening on' "$data/server.out" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$data/server.log" >&2; exit 1; }
  sleep 0.1
done
cat "$data/server.out"
cat <<MSG

Sent mails: .data/outbox/*.eml, and as JSON with their links at
  http://$listen/api/v1/dev/outbox
Open a mail's link in a browser and choose "Open in the Unipos app", or paste it into the app.
Server log: .data/server.log. Closing the app stops the server.
MSG

UNIPOS_API_URL="http://$listen" UNIPOS_WEB_BASE="http://$listen" target/debug/unipos-app
