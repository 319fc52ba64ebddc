#!/usr/bin/env bash
# Installs what building and testing the project needs on Debian/Ubuntu, skipping what is there.
# Safe to run again and again; the run and test commands call it first.
set -euo pipefail

# System packages: C toolchain for crates with C parts, D-Bus and gnome-keyring for the
# Secret Service (the session vault on Linux), secret-tool to look inside it from tests.
APT_PACKAGES=(
  build-essential pkg-config curl ca-certificates
  libdbus-1-dev dbus dbus-x11 gnome-keyring libsecret-tools
)
# The API's property-based test (scripts/api-fuzz.sh) installs schemathesis from PyPI into a
# virtual environment.
APT_PACKAGES+=(python3 python3-venv)
# The app (src-tauri/): WebKitGTK and GTK to build it; Xvfb, xauth and WebKitWebDriver to run and
# drive it headless (screenshots); xdg-utils and desktop-file-utils to register the unipos: scheme;
# imagemagick and xdotool to look at and poke the headless screen; xclip to read what the app
# copied; a Japanese font for the Japanese screens.
APT_PACKAGES+=(
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev
  libjavascriptcoregtk-4.1-dev libssl-dev libsecret-1-dev
  xvfb xauth webkit2gtk-driver xdg-utils desktop-file-utils imagemagick xdotool xclip file
  fonts-noto-cjk
)
# The reset link's page in a real browser (tests/e2e/tests/reset_page.rs): Debian's chromium and
# its chromedriver, run headless with a new empty profile per test.
APT_PACKAGES+=(chromium chromium-driver)
# The Account Information PDF's tests: poppler renders it and extracts its text and fonts, zbar reads its QR code.
APT_PACKAGES+=(poppler-utils zbar-tools)

# PostgreSQL 15 (Debian's server, with postgresql-common's pg_virtualenv): the API tests run a
# second time against a throw-away cluster (scripts/api-postgres.sh), and scripts/cluster.sh runs
# its instances on one. Installed without starting the system's own cluster (see below).
APT_PACKAGES+=(postgresql)

need_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: missing ${missing[*]}, and this is not a Debian/Ubuntu system: install them by hand." >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  # Packages with a daemon (postgresql) would start it: a policy-rc.d says no for the install
  # (the tests start throw-away servers of their own), unless the system has its own policy.
  policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    need_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    made_policy=1
  fi
  status=0
  need_root apt-get update -qq || status=$?
  [ "$status" = 0 ] && { need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?; }
  [ "$made_policy" = 1 ] && need_root rm -f "$policy"
  [ "$status" = 0 ] || exit "$status"
fi

# Rust: rust-toolchain.toml pins the version the project is tested with (rustup picks it, with
# rustfmt and clippy, in this checkout). Without rustup, any stable cargo of 1.90 or later
# (Tauri 2.12) with rustfmt and clippy does.
if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing. Install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
have=$(rustc --version | awk '{print $2}')
if [ "$(printf '%s\n1.90.0\n' "$have" | sort -V | head -1)" != "1.90.0" ]; then
  echo "setup: Rust $have is too old; 'rustup update stable' brings 1.90 or later (Tauri 2.12 needs it)." >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null; then rustup component add "$component"; else
      echo "setup: cargo $component is missing; install the $component component." >&2
      exit 1
    fi
  fi
done

# The app's web UI (ui/): Node with npm, in a version the UI's build tools support (Vite 7 and its
# Svelte plugin: 20.19+ in 20.x, 22.12+ in 22.x, or 24 and later), then the locked packages.
# `npm ci` runs again only when ui/package-lock.json changed since the last install.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: Node.js 20.19+, 22.12+ or 24+ with npm is needed for ui/ (https://nodejs.org)." >&2
  exit 1
fi
node_version=$(node -p 'process.versions.node')
node_ok() { # the engines of vite and @sveltejs/vite-plugin-svelte: ^20.19 || ^22.12 || >=24
  local major minor
  IFS=. read -r major minor _ <<<"$1"
  { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; } || { [ "$major" -eq 22 ] && [ "$minor" -ge 12 ]; } ||
    [ "$major" -ge 24 ]
}
if ! node_ok "$node_version"; then
  echo "setup: Node.js $node_version cannot run the UI's build (Vite 7 needs 20.19+, 22.12+ or 24+); install the current LTS." >&2
  exit 1
fi
ui_dir="$(dirname "$0")/../ui"
lock_hash=$(sha256sum "$ui_dir/package-lock.json" | cut -d' ' -f1)
stamp="$ui_dir/node_modules/.unipos-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup: installing the UI's npm packages (npm ci in ui/)"
  (cd "$ui_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" > "$stamp"
fi

