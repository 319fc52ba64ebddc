#!/usr/bin/env bash
# Runs a command with a real, unlocked, throwaway Secret Service (gnome-keyring) reachable:
#
#   scripts/with-keyring.sh cargo test -p unipos-client -p unipos-cli
#
# - a private D-Bus session (dbus-run-session), so nothing talks to the caller's session bus;
# - HOME, XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME and XDG_RUNTIME_DIR in a new temporary
#   folder, so gnome-keyring creates its keyring there and the real keyring is never touched;
# - the `login` keyring created and unlocked with a throwaway password;
# - UNIPOS_REQUIRE_KEYCHAIN=1, so the keychain tests fail (instead of skipping) if the keychain
#   cannot be reached after all.
#
# Cargo and rustup keep using the caller's installation (CARGO_HOME and RUSTUP_HOME are pinned
# before HOME changes). The temporary folder is removed afterwards; the exit status is the
# command's.
#
# Needs: dbus-run-session (dbus, or dbus-x11), gnome-keyring; secret-tool (libsecret-tools) for
# the tests that look at the stored items.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

if [ "${UNIPOS_KEYRING_INSIDE:-}" != 1 ]; then
    for tool in dbus-run-session gnome-keyring-daemon; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "$0: $tool is missing (apt-get install dbus-x11 gnome-keyring libsecret-tools)" >&2
            exit 127
        fi
    done
    export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
    export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/unipos-keyring.XXXXXX")"
    mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/run"
    chmod 700 "$tmp/run"
    status=0
    HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
        XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run" UNIPOS_KEYRING_INSIDE=1 \
        dbus-run-session -- "$0" "$@" || status=$?
    rm -rf "$tmp"
    exit "$status"
fi

# Inside the private session: start the Secret Service with an unlocked login keyring.
unset UNIPOS_KEYRING_INSIDE
eval "$(printf 'unipos-throwaway' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL 2>/dev/null || true
export UNIPOS_REQUIRE_KEYCHAIN=1

status=0
"$@" || status=$?

# The daemon would also go when the session bus does; stop it now so nothing outlives the run.
if command -v dbus-send >/dev/null 2>&1; then
    pid="$(dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null |
        awk '/uint32/ {print $2}')" || true
    if [ -n "${pid:-}" ]; then
        kill "$pid" 2>/dev/null || true
    fi
fi
exit "$status"
