#!/usr/bin/env bash
# Installs the app's .deb on this machine with apt and uses it as a member would, then removes it:
#
#   scripts/package-test.sh [PATH.deb]     (default: the one scripts/package.sh built; built if missing)
#
# 1. `apt-get install ./Unipos_*.deb`; the system must now send unipos: links to the installed
#    app (`xdg-mime query default x-scheme-handler/unipos`).
# 2. On a virtual screen (Xvfb), in a private D-Bus session with a throwaway keychain and HOME
#    (scripts/with-keyring.sh), with the reference server on a free loopback port: a reset mail is
#    requested, and its link is opened with `xdg-open unipos://reset_password?token=…`. The
#    installed app must start, log the link and check it with the server (its Reset screen does),
#    and show Reset (screenshot). A second mail's link, opened the same way, must go to the same
#    running app (the second launch, the desktop entry's `unipos-open`, hands it over and leaves),
#    which checks that one too.
# 3. `apt-get purge unipos`: no file of the package left, no menu entry, nothing in the MIME
#    database sends unipos: links anywhere.
#
# Screenshots: docs/screenshots/installed-reset-first-link.png and -second-link.png. What the app
# and the server printed: target/package-test/. Needs root (or sudo) for apt; it changes the
# machine's installed packages while it runs, so it is not part of the test command (it also needs
# the release build of scripts/package.sh, about 7 minutes cold).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/target/package-test"
shots="$root/docs/screenshots"
# The app's identifier (its data folder's name), as tauri.conf.json says it.
identifier=$(node -p 'require(process.argv[1]).identifier' "$root/src-tauri/tauri.conf.json")

say() { printf '%s\n' "$*"; }
fail() { printf 'package test: FAILED: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Inside: Xvfb, private D-Bus session, throwaway HOME and keychain; the package is installed.
if [ "${UNIPOS_PACKAGE_TEST_INSIDE:-}" = 1 ]; then
  desktop_id=$1
  log_file="$XDG_DATA_HOME/$identifier/logs/Unipos.log"

  say "$ xdg-mime query default x-scheme-handler/unipos"
  handler=$(xdg-mime query default x-scheme-handler/unipos)
  say "$handler"
  [ "$handler" = "$desktop_id" ] || fail "unipos: links go to '$handler', not to $desktop_id"

  # The reference server, as the member's API, with its own database and outbox.
  server_bin="$root/target/debug/unipos-server"
  "$server_bin" --dev --listen 127.0.0.1:0 --db "$out/server.sqlite3" --outbox "$out/outbox" \
    > "$out/server.out" 2> "$out/server.log" &
  server=$!
  app_pid=
  cleanup_inside() {
    [ -n "$app_pid" ] && { kill "$app_pid" 2>/dev/null || true; }
    kill "$server" 2>/dev/null || true
  }
  trap cleanup_inside EXIT
  for _ in $(seq 100); do
    grep -q '^listening on' "$out/server.out" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$out/server.log" >&2; fail "the server did not start"; }
    sleep 0.1
  done
  api=$(sed -n 's/^listening on //p' "$out/server.out" | head -1)
  [ -n "$api" ] || fail "the server did not say where it listens"
  export UNIPOS_API_URL="$api" UNIPOS_WEB_BASE="$api"
  say "reference server: $api"

  # A reset mail for ADDRESS; prints the token of its link (from the dev outbox).
  reset_token() {
    curl -fsS -H 'Content-Type: application/json' -d "{\"email\":\"$1\"}" \
      "$api/api/v1/password/forgot" > /dev/null
    for _ in $(seq 50); do
      token=$(curl -fsS "$api/api/v1/dev/outbox?to=$1" | python3 -c '
import json, sys, urllib.parse
for m in reversed(json.load(sys.stdin)["messages"]):
    for link in m["links"]:
        q = urllib.parse.urlparse(link).query
        t = urllib.parse.parse_qs(q).get("token")
        if t:
            print(t[0]); sys.exit(0)
')
      [ -n "$token" ] && { printf '%s\n' "$token"; return; }
      sleep 0.1
    done
    fail "no reset mail for $1 in the outbox"
  }
  # Waits until the app's log has LINE (a fixed string), at most 60 s.
  wait_for_log() {
    for _ in $(seq 600); do
      grep -qF "$1" "$log_file" 2>/dev/null && return
      sleep 0.1
    done
    fail "the app's log never said: $1"
  }
  # The installed app's processes (other checkouts may run their own builds meanwhile).
  installed_apps() { pgrep -f '^/usr/bin/unipos-app ' || true; }

  # A second member, for the second link (a member's newer mail would end their first link).
  curl -fsS -H 'Content-Type: application/json' \
    -d '{"email":"hanako.package@example.com","password":"Rivers-and-Stones-7","display_name":"Hanako Sato","login_method":"email"}' \
    "$api/api/v1/dev/users" > /dev/null

  first=$(reset_token taro@example.com) && [ -n "$first" ] || fail "no reset link for taro@example.com"
  first_hint=${first:0:6}
  say "$ xdg-open 'unipos://reset_password?token=${first_hint}…'   (the app is not running)"
  UNIPOS_TRACE_STARTUP=1 xdg-open "unipos://reset_password?token=$first" \
    > "$out/app.out" 2> "$out/app.err" &
  wait_for_log "reset link received ($first_hint"
  wait_for_log "reset link checked: valid ($first_hint"
  app_pid=$(installed_apps)
  [ "$(printf '%s\n' "$app_pid" | wc -w)" = 1 ] || fail "expected one installed app running, found: $app_pid"
  say "started: $(readlink "/proc/$app_pid/exe") (pid $app_pid)"
  sleep 2 # the checklist renders after the check answers
  import -window root "$shots/installed-reset-first-link.png"
  say "screenshot: docs/screenshots/installed-reset-first-link.png"

  second=$(reset_token hanako.package@example.com) && [ -n "$second" ] ||
    fail "no reset link for hanako.package@example.com"
  second_hint=${second:0:6}
  say "$ xdg-open 'unipos://reset_password?token=${second_hint}…'   (the app is running)"
  started=$(date +%s%N)
  xdg-open "unipos://reset_password?token=$second" >> "$out/second-launch.out" 2>&1 ||
    fail "the second xdg-open failed"
  say "xdg-open returned after $(( ($(date +%s%N) - started) / 1000000 )) ms (the link handed over)"
  wait_for_log "reset link received ($second_hint"
  wait_for_log "reset link checked: valid ($second_hint"
  [ "$(installed_apps)" = "$app_pid" ] ||
    fail "the second link did not go to the running app (pid $app_pid): $(installed_apps | tr '\n' ' ')"
  say "still one app: pid $app_pid"
  sleep 2
  import -window root "$shots/installed-reset-second-link.png"
  say "screenshot: docs/screenshots/installed-reset-second-link.png"

  say "the app's log ($log_file), its link lines:"
  grep -E 'reset link|link refused|command failed' "$log_file" | sed 's/^/  /'
  say "start-up trace:"
  sed 's/^/  /' "$out/app.err"
  cp "$log_file" "$out/Unipos.log"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Outside: install, run the inside part, remove.
need_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

deb=${1:-}
if [ -z "$deb" ]; then
  deb=$(ls target/release/bundle/deb/*.deb 2>/dev/null | head -1 || true)
  [ -n "$deb" ] || { scripts/package.sh; deb=$(ls target/release/bundle/deb/*.deb | head -1); }
fi
deb=$(realpath "$deb")
package=$(dpkg-deb -f "$deb" Package)
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
  fail "$package is already installed; remove it first (apt-get purge $package), so the test starts clean"
fi
cargo build --locked -q -p unipos-server
rm -rf "$out" && mkdir -p "$out/outbox" "$shots"

{
  say "$ dpkg-deb -f $(basename "$deb") Package Version Depends Recommends"
  dpkg-deb -f "$deb" Package Version Depends Recommends
  say "$ apt-get install -y ./$(realpath --relative-to="$root" "$deb")"
  need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" 2>&1 |
    grep -E '^(Setting up|Unpacking|Selecting|Processing|The following|  )' || true
} | tee "$out/transcript.txt"

installed_files=$(dpkg -L "$package")
remove_package() {
  printf '$ apt-get purge -y %s\n' "$package"
  need_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$package" 2>&1 |
    grep -E '^(Removing|Purging|Processing)' || true
}
trap 'remove_package >> "$out/transcript.txt"' EXIT
desktop_file=$(printf '%s\n' "$installed_files" | grep -E '^/usr/share/applications/.*\.desktop$' | head -1)
[ -n "$desktop_file" ] || fail "the package installs no desktop entry"
desktop_id=$(basename "$desktop_file")
{
  say "installed: $(printf '%s\n' "$installed_files" | grep -E '^/usr/bin/' | tr '\n' ' ')$desktop_file"
  say "$ grep -E '^(Exec|MimeType)=' $desktop_file"
  grep -E '^(Exec|MimeType)=' "$desktop_file"
  # The desktop entry runs unipos-open: a second launch hands the link over without loading GTK
  # or WebKit, and a first one becomes the app.
  grep -qx 'Exec=unipos-open %u' "$desktop_file" || fail "the desktop entry does not run unipos-open"
  [ -x /usr/bin/unipos-open ] && [ -x /usr/bin/unipos-app ] || fail "unipos-open or unipos-app is not installed"
  say "$ grep unipos /usr/share/applications/mimeinfo.cache"
  grep unipos /usr/share/applications/mimeinfo.cache || fail "the MIME database does not know unipos: links"
} | tee -a "$out/transcript.txt"

UNIPOS_PACKAGE_TEST_INSIDE=1 xvfb-run -a -s "-screen 0 1280x800x24" \
  scripts/with-keyring.sh "$0" "$desktop_id" | tee -a "$out/transcript.txt"

trap - EXIT
remove_package | tee -a "$out/transcript.txt"
{
  left=$(printf '%s\n' "$installed_files" | while read -r f; do
    # Folders the package shares with others (/usr, /usr/share/icons/...) stay; its files must not.
    [ -e "$f" ] && [ ! -d "$f" ] && printf '%s\n' "$f"; done || true)
  [ -z "$left" ] || fail "files of $package left after the purge: $left"
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "installed" &&
    fail "$package still counts as installed"
  grep -q unipos /usr/share/applications/mimeinfo.cache 2>/dev/null &&
    fail "the MIME database still sends unipos: links somewhere"
  fresh_home=$(mktemp -d)
  handler=$(HOME="$fresh_home" XDG_DATA_HOME="$fresh_home/data" XDG_CONFIG_HOME="$fresh_home/config" \
    xdg-mime query default x-scheme-handler/unipos || true)
  rm -rf "$fresh_home"
  say "$ xdg-mime query default x-scheme-handler/unipos   (after the purge)"
  say "${handler:-(nothing)}"
  [ -z "$handler" ] || fail "unipos: links still go to $handler"
  say "removed: no file of $package left ($(printf '%s\n' "$installed_files" | wc -l) paths checked), no menu entry, no unipos: handler"
  say "package test: passed"
} | tee -a "$out/transcript.txt"
