#!/usr/bin/env bash
# Runs every check and test of the project, installing what is missing first.
# This is the README's test command and exactly what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says how long the one before it took, and the end lists them all: CI allows 90
# minutes, and the command is kept under 30 on 2 cores.
started=$SECONDS
step_name=
step_started=$SECONDS
timings=()
step_done() {
  [[ -n $step_name ]] && timings+=("$(printf '%4d s  %s' $((SECONDS - step_started)) "$step_name")")
  return 0
}
step() {
  step_done
  step_name=$*
  step_started=$SECONDS
  printf '\n== %s (at %d min %02d s)\n' "$*" $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60))
}

# The output is also kept in target/test-command.log. When a step fails, the end repeats the
# lines that say why, and how much disk and memory was left: a failed link prints the linker's
# own message after its command line, thousands of characters long, so an output cut short
# (as CI shows it) otherwise loses the cause.
mkdir -p target
log=target/test-command.log
exec > >(tee "$log") 2>&1
on_exit() {
  local status=$?
  ((status == 0)) && return
  printf '\n== failed (exit %d) in: %s (after %d s)\n' "$status" "$step_name" $((SECONDS - started))
  sleep 0.5 # tee may still be writing the failed step's last lines
  grep -E '^error|FAILED$|panicked at|^ *= note: [^ ]|collect2|No space left|Killed|SIGKILL|[Oo]ut of memory|Cannot allocate' "$log" |
    cut -c1-300 | tail -n 20 || true
  df -h . "${TMPDIR:-/tmp}" || true
  free -m || true
}
trap on_exit EXIT

step "setup"
scripts/setup.sh

step "format"
cargo fmt --all --check

# The cargo commands here select the whole workspace. Cargo resolves a dependency's features
# from the packages and targets a command selects, and each distinct set compiles tokio, hyper,
# reqwest, tauri and what depends on them again (about 2 minutes each on 2 cores). So the test
# builds here all resolve one set (the workspace's tests, `--lib` among them) and the tools'
# builds another (`--workspace --bins`, scripts/api-fuzz.sh and scripts/e2e.sh). The app under
# end-to-end test alone is built with its own features, as it ships (scripts/e2e.sh).
step "bindings: ui/src/generated/bindings.ts matches the Rust types"
cargo test --locked --workspace --exclude unipos-e2e --lib bindings

step "UI: type check (svelte-check)"
(cd ui && npm run --silent check)

step "UI: English and Japanese catalogues have the same keys and every error code"
(cd ui && npm run --silent check:catalogues)

step "UI: unit tests (Vitest)"
(cd ui && npm test --silent)

step "UI: production build (ui/dist, embedded by the app)"
(cd ui && npm run --silent build)

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "tests (inside a private D-Bus session with an unlocked gnome-keyring)"
# The vault tests talk to the real Secret Service; the keyring lives in a throwaway HOME.
UNIPOS_REQUIRE_KEYCHAIN=1 scripts/with-keyring.sh cargo test --workspace --exclude unipos-e2e --locked

step "server: unit and API tests again, on PostgreSQL (a throw-away cluster from pg_virtualenv)"
scripts/api-postgres.sh

step "API: schemathesis against openapi.json, every operation, a real non-dev server (about a minute)"
scripts/api-fuzz.sh

step "end to end: the built app under Xvfb, through WebDriver, against the real server"
scripts/e2e.sh

step_done
printf '\n== every step passed, in %d min %02d s:\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60))
printf '%s\n' "${timings[@]}"
