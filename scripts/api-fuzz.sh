#!/usr/bin/env bash
# Property-based testing of the API against its OpenAPI document (crates/server/openapi.json)
# with schemathesis: every operation, every check (`--checks all`), the examples, coverage,
# fuzzing and stateful (links) phases, authenticated with a real session, against a real
# unipos-server that runs as in production (no --dev). Prints schemathesis' summary; exits
# non-zero on any failure.
#
#   scripts/api-fuzz.sh
#
# Variables:
#   UNIPOS_FUZZ_SECONDS       schemathesis' time budget (default 60): the phases repeat with new
#                             data until it is spent
#   UNIPOS_FUZZ_MAX_EXAMPLES  test cases per operation in each pass of a phase (default 100)
#   UNIPOS_FUZZ_SEED          draw a run's data again (its seed is printed at the end)
#   UNIPOS_FUZZ_VENV          where schemathesis is installed (default target/api-fuzz/venv;
#                             made on the first run, in 10–30 s, and reused after)
#   RUST_LOG                  the server's log level (default warn); the log is kept in
#                             target/api-fuzz/server.log
#
# Takes the time budget plus about 5 s once schemathesis is installed and the server built.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

SCHEMATHESIS_VERSION=4.32.5
venv=${UNIPOS_FUZZ_VENV:-$root/target/api-fuzz/venv}
seconds=${UNIPOS_FUZZ_SECONDS:-60}
max_examples=${UNIPOS_FUZZ_MAX_EXAMPLES:-100}
state=$root/target/api-fuzz
server_log=$state/server.log
# schemathesis' workers, and as many password-hashing workers on the server: a request that
# hashes then never waits for a worker, so 503 server_busy (documented, and right under a real
# burst) does not turn up as a "server error" of the run.
workers=2

step() { printf '\n== %s\n' "$*"; }

step "schemathesis $SCHEMATHESIS_VERSION (in $venv)"
if [[ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != *" $SCHEMATHESIS_VERSION" ]]; then
  if [[ -e $venv && ! -f $venv/pyvenv.cfg ]]; then
    echo "$venv exists and is not a Python virtual environment; not touching it" >&2
    exit 1
  fi
  if ! python3 -m venv --clear "$venv"; then
    echo "python3 cannot make a virtual environment: install python3-venv (Debian, Ubuntu)" >&2
    exit 1
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
"$venv/bin/schemathesis" --version

# The workspace's binaries, as scripts/e2e.sh builds them: the same features, so one build of the
# dependencies serves both (scripts/test.sh).
step "building unipos-server (with the workspace's other binaries)"
cargo build --locked --workspace --exclude unipos-e2e --bins
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
server_bin=$target_dir/debug/unipos-server

mkdir -p "$state"
: >"$server_log"
work=$(mktemp -d "${TMPDIR:-/tmp}/unipos-api-fuzz.XXXXXX")
server_pid=
stop_server() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

# Starts the server on a free loopback port with the run's database and outbox folder, and sets
# base_url from its first line (`listening on http://ADDR`).
start_server() {
  : >"$work/server.out"
  RUST_LOG=${RUST_LOG:-warn} "$server_bin" --listen 127.0.0.1:0 --db "$work/unipos.sqlite3" \
    --outbox "$work/outbox" "$@" >"$work/server.out" 2>>"$server_log" &
  server_pid=$!
  for _ in $(seq 300); do
    base_url=$(sed -n 's/^listening on //p' "$work/server.out")
    [[ -n $base_url ]] && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      server_pid=
      break
    fi
    sleep 0.1
  done
  echo "unipos-server did not start; its log:" >&2
  cat "$server_log" >&2
  exit 1
}

# Outside --dev there are no /dev endpoints, so the demo organisation is seeded by a --dev start
# on the same database file; the run's server then opens that file without --dev.
step "seeding the demo organisation (one --dev start on a temporary database)"
start_server --dev
stop_server

# The per-client limit (300 requests per 5 minutes by default, on forgot, reset, check, login and
# change) is raised out of reach: schemathesis is one client sending thousands of requests, and
# throttled into 429s it would test nothing else. The per-address limits of forgot and the
# lockout stay as they are: they are part of the contract under test.
step "starting unipos-server (not --dev)"
start_server --client-rate-limit 1000000000 --hash-workers "$workers"
echo "listening on $base_url"

# Two sessions of the demo member (crates/server/src/dev.rs), taken before any test can lock the
# account: one for every authenticated operation, and one for DELETE /sessions/current alone.
# Logging out revokes the session it is sent with; were that the shared session, every later
# authenticated request would be answered 401 (which the checks accept) and test nothing. With
# its own session the first logout answers 204 and the later ones 401, both documented.
login() {
  curl --silent --show-error --fail-with-body -X POST "$base_url/api/v1/sessions" \
    -H 'Content-Type: application/json' \
    -d '{"email":"taro@example.com","password":"Unipos-demo-1"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["session"]["token"])'
}
UNIPOS_FUZZ_TOKEN=$(login)
UNIPOS_FUZZ_LOGOUT_TOKEN=$(login)
export UNIPOS_FUZZ_TOKEN UNIPOS_FUZZ_LOGOUT_TOKEN

# What the document cannot say, told to schemathesis instead (everything else is in the document:
# the real constraints of each field, and every status each operation answers):
#
# - positive_data_acceptance expects a request that is valid by the schema to be accepted (2xx;
#   401, 403, 404, 409, 429 and 5xx are let through by default). Two refusals of valid requests
#   are the API's design, and documented, but a schema cannot tell them apart from valid data:
#   - PUT /me/password: 422 `current_password_incorrect` (the schema cannot know the member's
#     password), `password_policy` (the organisation's policy is not in the schema; it is served
#     by POST /password/reset/check), and 423 `account_locked`: wrong current passwords count
#     toward the account's lock like failed logins, so after 10 of them within 15 minutes the
#     demo member's changes are refused for 15 minutes. The session keeps working; GET /me and
#     GET /timeline are unaffected.
#   - POST /sessions: 423 `account_locked`: failed logins are counted per address whether or not
#     it belongs to anyone, and schemathesis sends the same generated address with wrong
#     passwords more than 10 times (the schema's example address above all).
# - negative_data_rejection expects a request that breaks the schema to be refused with one of a
#   list of statuses that lacks 413: a generated body over 16 KiB (a long enough invalid email
#   does it) is refused with 413 `payload_too_large`, as documented, before its fields are read.
#   408 `request_timeout` is a refusal too.
# - The bearer token is a header, not `[auth.openapi]`, because DELETE /sessions/current needs a
#   token of its own (see above) and per-operation auth only takes basic credentials.
cat >"$work/schemathesis.toml" <<'EOF'
[headers]
Authorization = "Bearer ${UNIPOS_FUZZ_TOKEN}"

[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "408", "409", "413", "415", "422", "428", "429", "5xx"]

[[operations]]
include-method = "DELETE"
include-path = "/api/v1/sessions/current"
headers = { Authorization = "Bearer ${UNIPOS_FUZZ_LOGOUT_TOKEN}" }

[[operations]]
include-method = "PUT"
include-path = "/api/v1/me/password"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "423", "429", "5xx"]

[[operations]]
include-method = "POST"
include-path = "/api/v1/sessions"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "423", "429", "5xx"]
EOF

seed=()
[[ -n ${UNIPOS_FUZZ_SEED:-} ]] && seed=(--seed "$UNIPOS_FUZZ_SEED")

# The /dev operations are in the document (tagged `dev`) and tested too: outside --dev they
# answer 404 `not_found` to any request, as documented.
step "schemathesis: every operation, all checks, ${seconds}s ($max_examples examples per operation and pass)"
rc=0
(
  cd "$work" # schemathesis keeps its state (.schemathesis/) in the current folder
  "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" --no-color run \
    "$root/crates/server/openapi.json" --url "$base_url" \
    --checks all \
    --phases examples,coverage,fuzzing,stateful \
    --max-time "$seconds" --max-examples "$max_examples" \
    --workers "$workers" \
    --generation-database none \
    --output-sanitize true \
    "${seed[@]}"
) || rc=$?

if ((rc != 0)); then
  step "the end of unipos-server's log (all of it: target/api-fuzz/server.log)"
  tail -n 50 "$server_log"
fi
exit "$rc"
