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
  need_root apt-get update -qq
  need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Rust: the project pins no toolchain file; it needs a stable toolchain new enough for edition 2021
# crates of today (1.88 or later) with rustfmt and clippy.
if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing. Install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
have=$(rustc --version | awk '{print $2}')
if [ "$(printf '%s\n1.88.0\n' "$have" | sort -V | head -1)" != "1.88.0" ]; then
  echo "setup: Rust $have is too old; 'rustup update stable' brings 1.88 or later." >&2
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
