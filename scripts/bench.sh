#!/usr/bin/env bash
# The app's weight against a bare Tauri 2 app with the same plugins (../shared/bench/baseline),
# measured in one run on this machine:
#
#   - both release apps built (the baseline from a copy, with its own target folder);
#   - N rounds of alternating cold starts under Xvfb at 1280×800, through WebKitWebDriver: the bare
#     app as built and without accelerated compositing (like for like), this app as built, with
#     JavaScriptCore's JITs off and on, and set to Japanese; each started once per round, timed
#     from the WebDriver session request (which launches it) to its first screen by two ready
#     signs in the same start (a script in the page; WebDriver's element displayed), and in the
#     first 3 rounds PSS of the app and its WebKit processes after 5 s idle; binary sizes, stripped and
#     as built;
#   - this app alone: a reset link opened while it runs (a second launch: `unipos-open`, as an
#     installed desktop entry runs it, and the app's own program) until
#     "Set a new password" shows, 11 times as built and with the JITs off and on; PSS after 50
#     rounds of forgot → "Check your email" → back, against the idle figure
#     (tests/e2e/examples/bench.rs);
#   - the CLI: `unipos forgot` against a local release server, against curl sending the same
#     request (hyperfine, 50 runs each).
#
#   scripts/bench.sh [RUNS]        RUNS: rounds of cold starts (default 21)
#
# Prints every figure as measured, then the table; the last line is the summary. Not part of the
# test command: a cold run builds two release apps (about 15 minutes on 2 cores), a warm one
# takes about 8 minutes. Installs hyperfine when missing (Debian). UNIPOS_BASELINE names another
# copy of the bare app.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-21}
case "$runs" in '' | *[!0-9]* | 0) echo "bench: RUNS is a number of runs, 1 or more" >&2; exit 2 ;; esac
baseline_src=${UNIPOS_BASELINE:-../shared/bench/baseline}
work=target/bench
started=$(date +%s)
step() { printf '\n== %s\n' "$*"; }

step "setup"
scripts/setup.sh
if ! command -v hyperfine >/dev/null; then
  echo "bench: installing hyperfine (apt-get)"
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq hyperfine >/dev/null
  else sudo apt-get install -y -qq hyperfine >/dev/null; fi
fi
[ -f "$baseline_src/Cargo.toml" ] || {
  echo "bench: no bare Tauri app at $baseline_src (set UNIPOS_BASELINE)" >&2
  exit 1
}

step "build: this app (release, its own screens embedded)"
ui/node_modules/.bin/tauri build --no-bundle --ci
app=target/release/unipos-app

step "build: the bare Tauri app (release, from a copy of $baseline_src)"
mkdir -p "$work"
rm -rf "$work/baseline"
cp -r "$baseline_src" "$work/baseline"
chmod -R u+w "$work/baseline"
CARGO_TARGET_DIR=$PWD/$work/baseline-target \
  cargo build --release --locked --features tauri/custom-protocol \
  --manifest-path "$work/baseline/Cargo.toml"
baseline=$work/baseline-target/release/feas-app

step "build: the bench driver, the release server and CLI, unipos-open"
cargo build --locked -p unipos-e2e --example bench
cargo build --locked --release -p unipos-server -p unipos-cli -p unipos-handover

step "apps: $runs alternating cold starts each, warm links, forgot loops (Xvfb 1280×800)"
xvfb-run -a -s "-screen 0 1280x800x24" scripts/with-keyring.sh \
  target/debug/examples/bench --app "$app" --baseline "$baseline" --runs "$runs" \
  | tee "$work/apps.txt"

step "CLI: unipos forgot against curl, the same request to a local release server (hyperfine)"
dir=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
# Limits out of reach: hyperfine repeats one request for one address from one client.
target/release/unipos-server --dev --listen 127.0.0.1:0 --db :memory: --outbox "$dir/outbox" \
  --forgot-interval 0 --forgot-max-per-hour 1000000000 --client-rate-limit 1000000000 \
  >"$dir/server.out" 2>"$dir/server.log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$dir/server.out" 2>/dev/null && break
  sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$dir/server.out" | head -n 1)
[ -n "$base" ] || { echo "bench: the server did not start" >&2; cat "$dir/server.log" >&2; exit 1; }
body='{"email":"bench@example.com"}'
UNIPOS_API_URL=$base UNIPOS_WEB_BASE=$base hyperfine -N --warmup 5 --runs 50 \
  --export-json "$work/cli.json" \
  -n curl "curl -sS -o /dev/null --fail-with-body -X POST -H Content-Type:application/json -d '$body' $base/api/v1/password/forgot" \
  -n "unipos forgot" "target/release/unipos forgot bench@example.com"
cli_ratio=$(jq -r '(.results[1].median / .results[0].median) * 100 | round / 100' "$work/cli.json")
cli_ms=$(jq -r '[.results[] | .median * 1000 * 10 | round / 10] | "curl \(.[0]) ms, unipos forgot \(.[1]) ms"' "$work/cli.json")

step "results ($(($(date +%s) - started)) s)"
sed -n '/^| median/,$p' "$work/apps.txt" | sed '$d' | sed '$d'
echo "| CLI: \`unipos forgot\` against curl (median of 50) | $cli_ms | | ${cli_ratio}× | ≤ 1.3× |"
echo
echo "$(tail -n 1 "$work/apps.txt"); CLI ${cli_ratio}× curl"
