#!/usr/bin/env bash
# Compiles the app, the `unipos` CLI and the client crate for the platforms this machine cannot
# run, so that their keychain stores (Windows Credential Manager, Android, Apple) and the mobile
# entry point are compiled at all:
#
#   scripts/cross-check.sh            every target below
#   scripts/cross-check.sh TARGET...  only those
#
#   x86_64-pc-windows-gnu   cargo build: the app and the CLI, real .exe files (mingw-w64)
#   aarch64-linux-android   cargo check: the app, the client, the CLI
#   aarch64-apple-ios       cargo check: the app, the client, the CLI
#   aarch64-apple-darwin    cargo check: the app, the client, the CLI
#
# `cargo check` compiles every Rust crate for the target but links nothing, so no Android NDK or
# Apple SDK is needed for the Rust code. Build scripts still run: the C parts they compile get
# clang with a `--target` (no system headers exist here for those targets), and where a build
# script needs an SDK anyway, the table names the crate and the reason.
#
# Installs mingw-w64 and clang with apt and the Rust targets with rustup (they are not in
# rust-toolchain.toml, see there). Dev profile without debug info, in target/<triple>/; about 25 minutes cold on
# 2 cores. Not part of the test command. Prints a table: target × crate × built/checked/stopped.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
logs="$root/target/cross-check"
mkdir -p "$logs"

all_targets=(x86_64-pc-windows-gnu aarch64-linux-android aarch64-apple-ios aarch64-apple-darwin)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

need_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for p in mingw-w64 clang lld llvm libc6-dev-arm64-cross; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "cross-check: installing ${missing[*]}"
  need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || exit 1
fi
rustup target add "${targets[@]}" >/dev/null || exit 1
# The app embeds ui/dist; the Windows .exe is the real app only with the screens inside.
scripts/setup.sh >/dev/null || exit 1
(cd ui && npm run --silent build >/dev/null) || exit 1

# C compilers per target. Windows: the mingw-w64 cross compiler (cc's default for the triple).
# Android: clang with the target's triple; ring's C wants a few libc headers (assert.h, string.h,
# stdint.h), which the NDK's sysroot would give: Debian's aarch64 glibc headers stand in for them
# (libc6-dev-arm64-cross). Only `cargo check` runs for Android: nothing is linked against them.
# Apple: clang with the triple and an empty SDK folder (cc asks xcrun for the SDK otherwise); C
# that needs the SDK's headers stops there, and --keep-going checks every crate that does not
# depend on it.
export CC_aarch64_linux_android=clang AR_aarch64_linux_android=llvm-ar
export CFLAGS_aarch64_linux_android="--target=aarch64-linux-android24 -isystem /usr/aarch64-linux-gnu/include"
# (A fixed path: cc's build scripts rerun when SDKROOT changes.)
apple_sdk="$logs/empty-apple-sdk"
mkdir -p "$apple_sdk"
for t in aarch64_apple_ios aarch64_apple_darwin; do
  export "CC_$t=clang" "AR_$t=llvm-ar"
done
export CFLAGS_aarch64_apple_ios="--target=arm64-apple-ios14.0" CFLAGS_aarch64_apple_darwin="--target=arm64-apple-macos11"
# The Windows app's library is also a cdylib (the Android build needs one). In an unoptimised build
# rustc shares generic instances between crates and exports them all; that list overflows the 65,535
# ordinals a DLL can have (mingw's ld: "export ordinal too large"). Not sharing them keeps the list
# to the library's own exports; the flag is unstable, hence RUSTC_BOOTSTRAP for this target's build.
windows_rustflags="-Zshare-generics=n"

# Whether it compiles and links is the question, not debugging: no debug info and no incremental
# caches, which would take gigabytes per target.
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0

rows=()
# step ACTION TARGET PACKAGE: cargo ACTION -p PACKAGE --target TARGET, one row of the table.
step() {
  local action=$1 target=$2 package=$3 log="$logs/$2-$3-$1.log" verdict why=
  local env=()
  [[ $target == *-apple-* ]] && env+=(SDKROOT="$apple_sdk")
  [[ $target == *-windows-* ]] &&
    env+=(RUSTC_BOOTSTRAP=1 CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS="$windows_rustflags")
  printf 'cross-check: cargo %s -p %s --target %s ... ' "$action" "$package" "$target"
  local started=$SECONDS
  if env ${env[@]+"${env[@]}"} nice -n 10 cargo "$action" --locked --keep-going -p "$package" --target "$target" \
    >"$log" 2>&1; then
    verdict=$([ "$action" = build ] && echo built || echo checked)
    local exe
    for exe in "target/$target/debug/"*.exe; do
      case "$package:$(basename "$exe")" in
        unipos-app:unipos-app.exe | unipos-cli:unipos.exe)
          why="$(basename "$exe"), $(du -h "$exe" | cut -f1)B: $(file -b "$exe" | cut -d, -f1)" ;;
      esac
    done
  else
    verdict=stopped
    # Each crate that failed, with the line that says why; and how far the rest got.
    local crate reason
    while read -r crate; do
      # A build script's output follows its failure; a compiler error comes before it.
      # A build script's output follows its failure; a compiler's or linker's error comes before.
      # The C compiler's or linker's own words first, else rustc's.
      reason=$({ grep -A40 -F "custom build command for \`$crate " "$log" | tail -n +2
        grep -vE "could not compile|custom build" "$log"; } > "$log.why"
        grep -m1 -E "fatal error|error occurred|ld: error" "$log.why" ||
          grep -m1 -E "^error(\[|:)" "$log.why")
      reason=$(printf '%s' "$reason" | sed -E 's/^ *(= note: |cargo:warning=)?(warning: [^ ]+: )?//; s#[^ ]*/registry/src/[^/]+/##' | cut -c1-120)
      rm -f "$log.why"
      why+="${why:+; }$crate: ${reason:-see the log}"
    done < <(grep -oE "(failed to run custom build command for|could not compile) \`[^\`]+\`" "$log" |
      sed -E 's/.*`([^`]+)`/\1/' | awk '{print $1}' | sort -u)
    why+=" ($(grep -cE '^ *(Checking|Compiling) ' "$log") crates compiled)"
  fi
  printf '%s (%ss)\n' "$verdict" $((SECONDS - started))
  rows+=("$(printf '| %s | %s | %s | %s |' "$target" "$package" "$verdict" "$why")")
}

for target in "${targets[@]}"; do
  case "$target" in
    *-windows-*)
      step build "$target" unipos-app
      step build "$target" unipos-cli
      step check "$target" unipos-client
      ;;
    *)
      step check "$target" unipos-app
      step check "$target" unipos-client
      step check "$target" unipos-cli
      ;;
  esac
done

printf '\n| target | crate | result | |\n|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
printf '\nlogs: %s\n' "${logs#"$root"/}"
