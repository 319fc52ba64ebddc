#!/usr/bin/env bash
# Requests per second and latency (p50, p99) of four API operations, measured with wrk on
# loopback against a release unipos-server:
#
#   POST /api/v1/password/forgot      a new address at every request (wrk's Lua), so the
#                                     per-address cooldown never answers 429
#   POST /api/v1/password/reset/check a real reset token, taken from the dev outbox
#   GET  /api/v1/me                   a real session (Bearer)
#   POST /api/v1/sessions             a right password: one argon2id per request. Spread over
#                                     members made through /dev/users (2 per connection), each
#                                     with at most one login in flight: the lockout counts a
#                                     check as a failure until argon2 proves it right, so ten
#                                     parallel logins to ONE account lock it (423), by design
#
# on each setup:
#
#   SQLite, 1 instance                one server (--dev), wrk straight at it
#   SQLite, 2 instances + nginx       two servers on one SQLite file behind nginx (round-robin),
#                                     started as scripts/cluster.sh starts them
#                                     (scripts/lib/cluster.sh)
#   PostgreSQL, 1 instance            one server on a database of a throw-away PostgreSQL cluster
#                                     (pg_virtualenv: the script runs itself inside it)
#   PostgreSQL, 2 instances + nginx   two servers on one such database behind nginx
#
#   scripts/api-bench.sh [--store sqlite|postgres|all]     (UNIPOS_STORE; default all)
#
# Every answer that is not 2xx and every socket error or timeout is counted and printed; the
# exit status is non-zero when there is any. The table is printed at the end, its last line the
# summary. Installs wrk, nginx, curl, jq and postgresql when missing (Debian packages), builds the
# release server. Bounded: 10 s per operation and setup, about 3 minutes in all once built;
# loopback only. Not part of the test command.
#
# Variables:
#   UNIPOS_BENCH_SECONDS            each measurement (default 10)
#   UNIPOS_BENCH_THREADS            wrk threads (default 2)
#   UNIPOS_BENCH_CONNECTIONS        wrk connections (default 32)
#   UNIPOS_BENCH_LOGIN_CONNECTIONS  wrk connections for POST /sessions (default: as above). Each
#                                   login waits for an argon2 worker, at most 2 s, then is
#                                   answered 503 server_busy: 32 at once on 2 cores wait well
#                                   under that
#   RUST_LOG                        the servers' log level (default warn: the per-request info
#                                   line is not what is measured); logs in target/api-bench/
#
# The servers run as in scripts/cluster.sh (--dev, --trusted-proxy 127.0.0.1/32, --outbox), with
# two limits raised out of reach, because wrk is one client standing in for many:
# --client-rate-limit (300 requests per 5 minutes per client address) and
# --max-connections-per-client (32). The per-address limits of forgot and the lockout stay.
# wrk, nginx and the servers share this machine's cores: the numbers are for comparing setups on
# one machine, not a capacity plan.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cluster.sh

args=("$@")
stores=${UNIPOS_STORE:-all}
while [ $# -gt 0 ]; do
  case "$1" in
    --store) stores=${2:?--store needs sqlite, postgres or all}; shift 2 ;;
    --store=*) stores=${1#*=}; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
    *) echo "api-bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$stores" in
  all) stores="sqlite postgres" ;;
  sqlite | postgres) ;;
  *) echo "api-bench: --store is sqlite, postgres or all" >&2; exit 2 ;;
esac
if [[ " $stores " == *" postgres "* ]]; then
  cluster_store_check postgres
  # One throw-away PostgreSQL cluster for the whole run; each setup gets a new database on it.
  cluster_in_postgres postgres "$0" ${args[@]+"${args[@]}"}
fi

seconds=${UNIPOS_BENCH_SECONDS:-10}
threads=${UNIPOS_BENCH_THREADS:-2}
connections=${UNIPOS_BENCH_CONNECTIONS:-32}
login_connections=${UNIPOS_BENCH_LOGIN_CONNECTIONS:-$connections}
export RUST_LOG=${RUST_LOG:-warn}
demo_email=taro@example.com
demo_password=Unipos-demo-1
# The members that POST /sessions logs in as: 2 per connection. Their password meets the demo
# organisation's policy and has nothing of their address or name in it.
members_per_thread=$(((login_connections * 2 + threads - 1) / threads))
member_password=Quiet-harbor-2931
started=$(date +%s)

step() { printf '\n== %s\n' "$*"; }

step "tools and the release build"
cluster_install wrk:wrk nginx:nginx curl:curl jq:jq
cargo build --locked --release -p unipos-server
server_bin=${CARGO_TARGET_DIR:-target}/release/unipos-server

work=${CARGO_TARGET_DIR:-target}/api-bench
mkdir -p "$work/lua"
work=$(cd "$work" && pwd)
exec 9>"$work/.lock"
if ! flock -n 9; then
  echo "api-bench: another scripts/api-bench.sh is running (on $work)" >&2
  exit 1
fi
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cleanup() {
  local s=$?
  trap - EXIT INT TERM
  cluster_stop
  exit "$s"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- wrk scripts ------------------------------------------------------------------------------
# Every script counts the answers by status in each thread and prints one line at the end:
# RESULT requests=… duration_us=… p50_us=… p99_us=… non2xx=… connect=… read=… write=… timeout=…
# codes=202x1234,429x5
cat >"$work/lua/common.lua" <<'LUA'
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes, non2xx = {}, 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses") or {}) do
      codes[code] = (codes[code] or 0) + n
      if code < 200 or code > 299 then non2xx = non2xx + n end
    end
  end
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, code .. "x" .. n) end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d codes=%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), non2xx,
    e.connect, e.read, e.write, e.timeout, table.concat(parts, ",")))
end
LUA

# A request built once, from the arguments after `--`: METHOD PATH [BODY [AUTHORIZATION]].
cat >"$work/lua/fixed.lua" <<'LUA'
local req
function init(args)
  statuses = {}
  local headers = { ["Content-Type"] = "application/json" }
  if args[4] and args[4] ~= "" then headers["Authorization"] = args[4] end
  local body = args[3]
  if body == "" then body = nil end
  req = wrk.format(args[1], args[2], headers, body)
end
function request() return req end
LUA

# POST /sessions with the right password, members bench-member-I@example.com: thread T takes
# members (T-1)*PER … T*PER-1 in turn. Arguments: PER PASSWORD.
cat >"$work/lua/login.lua" <<'LUA'
local per, password, n = 1, "", 0
local headers = { ["Content-Type"] = "application/json" }
function init(args)
  statuses = {}
  per = tonumber(args[1])
  password = args[2]
end
function request()
  n = n + 1
  local i = (tid - 1) * per + (n % per)
  return wrk.format("POST", "/api/v1/sessions", headers,
    string.format('{"email":"bench-member-%d@example.com","password":"%s"}', i, password))
end
LUA

# POST /password/forgot with a new address each time: bench-TAG-THREAD-N@example.com.
cat >"$work/lua/forgot.lua" <<'LUA'
local tag, n = "x", 0
local headers = { ["Content-Type"] = "application/json" }
function init(args)
  statuses = {}
  tag = args[1] or "x"
end
function request()
  n = n + 1
  return wrk.format("POST", "/api/v1/password/forgot", headers,
    string.format('{"email":"bench-%s-%d-%d@example.com"}', tag, tid, n))
end
LUA

# ---- measuring --------------------------------------------------------------------------------

ops=(forgot check me login)
declare -A op_label=(
  [forgot]="POST /password/forgot"
  [check]="POST /password/reset/check"
  [me]="GET /me"
  [login]="POST /sessions"
)
rows=()        # "setup|operation|req/s|p50|p99|requests|errors|detail"
total_errors=0
measured=0

# measure SETUP_LABEL TAG BASE OP ARGS... — one wrk run; appends a row.
measure() {
  local label=$1 tag=$2 base=$3 op=$4 out line c=$connections
  shift 4
  [ "$op" = login ] && c=$login_connections
  out=$CLUSTER_DIR/wrk-$op.txt
  printf '  %-28s wrk -t%s -c%s -d%ss … ' "${op_label[$op]}" "$threads" "$c" "$seconds"
  local script=fixed.lua
  case "$op" in forgot | login) script=$op.lua ;; esac
  cat "$work/lua/common.lua" "$work/lua/$script" >"$CLUSTER_DIR/$op.lua"
  if ! wrk -t"$threads" -c"$c" -d"${seconds}s" --timeout 10s --latency \
    -s "$CLUSTER_DIR/$op.lua" "$base" -- "$@" >"$out" 2>&1; then
    echo "wrk failed:"
    sed 's/^/    /' "$out"
    rows+=("$label|${op_label[$op]}|-|-|-|-|1|wrk failed")
    total_errors=$((total_errors + 1))
    return 0
  fi
  line=$(grep '^RESULT ' "$out" | tail -n 1)
  local requests duration p50 p99 non2xx connect read write timeout codes errors rps detail
  requests=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")
  duration=$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$line")
  p50=$(sed -E 's/.* p50_us=([0-9]+).*/\1/' <<<"$line")
  p99=$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$line")
  non2xx=$(sed -E 's/.* non2xx=([0-9]+).*/\1/' <<<"$line")
  connect=$(sed -E 's/.* connect=([0-9]+).*/\1/' <<<"$line")
  read=$(sed -E 's/.* read=([0-9]+).*/\1/' <<<"$line")
  write=$(sed -E 's/.* write=([0-9]+).*/\1/' <<<"$line")
  timeout=$(sed -E 's/.* timeout=([0-9]+).*/\1/' <<<"$line")
  codes=$(sed -E 's/.* codes=([^ ]*).*/\1/' <<<"$line")
  errors=$((non2xx + connect + read + write + timeout))
  rps=$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.1f", (d > 0 ? r / (d / 1e6) : 0) }')
  p50=$(awk -v v="$p50" 'BEGIN { printf "%.2f", v / 1000 }')
  p99=$(awk -v v="$p99" 'BEGIN { printf "%.2f", v / 1000 }')
  detail="status ${codes:-none}"
  [ $((connect + read + write + timeout)) -gt 0 ] &&
    detail+="; socket connect $connect, read $read, write $write, timeout $timeout"
  echo "$rps req/s, p50 $p50 ms, p99 $p99 ms, $errors errors ($detail)"
  rows+=("$label|${op_label[$op]}|$rps|$p50|$p99|$requests|$errors|$detail")
  total_errors=$((total_errors + errors))
  measured=$((measured + 1))
}

# A reset token (from the dev outbox) and a session of the demo member, and the members for the
# logins, through BASE.
prepare() {
  local base=$1 json link=
  SESSION=$(curl -sS --fail-with-body --max-time 10 -X POST "$base/api/v1/sessions" \
    -H 'Content-Type: application/json' \
    -d "{\"email\":\"$demo_email\",\"password\":\"$demo_password\"}" | jq -r .session.token)
  curl -sS --fail-with-body --max-time 10 -o /dev/null -X POST "$base/api/v1/password/forgot" \
    -H 'Content-Type: application/json' -d "{\"email\":\"$demo_email\"}"
  for _ in $(seq 60); do
    json=$(curl -sS --max-time 5 "$base/api/v1/dev/outbox?to=$demo_email")
    link=$(jq -r '[.messages[] | .links[] | select(contains("/reset_password?token="))] | last // empty' <<<"$json")
    [ -n "$link" ] && break
    sleep 0.25
  done
  if [ -z "$link" ] || [ -z "$SESSION" ] || [ "$SESSION" = null ]; then
    echo "api-bench: no reset link or no session from $base" >&2
    return 1
  fi
  TOKEN=${link##*token=}
  local i
  for ((i = 0; i < members_per_thread * threads; i++)); do
    curl -sS --fail-with-body --max-time 10 -o /dev/null -X POST "$base/api/v1/dev/users" \
      -H 'Content-Type: application/json' \
      -d "{\"email\":\"bench-member-$i@example.com\",\"password\":\"$member_password\",\"display_name\":\"Bench Member $i\",\"login_method\":\"email\"}"
  done
}

# run_setup KIND STORE LABEL TAG — KIND single or cluster, STORE sqlite or postgres.
run_setup() {
  local kind=$1 store=$2 label=$3 tag=$4 base port op
  step "$label"
  cluster_init "$work/$tag" "$store"
  local limits=(--client-rate-limit 1000000000 --max-connections-per-client 4096)
  if [ "$kind" = single ]; then
    cluster_start_server a "$server_bin" --dev --db "$CLUSTER_DB" --outbox "$CLUSTER_DIR/outbox" \
      --trusted-proxy 127.0.0.1/32 "${limits[@]}"
    base=http://$CLUSTER_LAST_ADDR
    echo "  instance a http://${CLUSTER_ADDRS[0]}"
  else
    port=$(cluster_free_port)
    base=http://127.0.0.1:$port
    for name in a b; do
      cluster_start_server "$name" "$server_bin" --dev --db "$CLUSTER_DB" \
        --outbox "$CLUSTER_DIR/outbox" --trusted-proxy 127.0.0.1/32 --web-base "$base" \
        "${limits[@]}"
    done
    cluster_start_nginx "$port" "${CLUSTER_ADDRS[@]}"
    echo "  nginx $base → a http://${CLUSTER_ADDRS[0]}, b http://${CLUSTER_ADDRS[1]}"
  fi
  prepare "$base"
  # forgot last: the mail worker's backlog of its requests must not weigh on the others.
  measure "$label" "$tag" "$base" check POST /api/v1/password/reset/check "{\"token\":\"$TOKEN\"}"
  measure "$label" "$tag" "$base" me GET /api/v1/me "" "Bearer $SESSION"
  measure "$label" "$tag" "$base" login "$members_per_thread" "$member_password"
  measure "$label" "$tag" "$base" forgot "$tag"
  if [ "$kind" = cluster ]; then
    echo "  answered by: $(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^up=/) print substr($i, 4)}' \
      "$CLUSTER_DIR/nginx/access.log" | sort | uniq -c |
      while read -r n addr; do printf '%s %s  ' "$(cluster_name_of "$addr")" "$n"; done)"
  fi
  cluster_stop
}

for store in $stores; do
  case "$store" in
    sqlite)
      run_setup single sqlite "SQLite, 1 instance" sqlite-1
      run_setup cluster sqlite "SQLite, 2 instances + nginx" sqlite-2
      ;;
    postgres)
      run_setup single postgres "PostgreSQL, 1 instance" pg-1
      run_setup cluster postgres "PostgreSQL, 2 instances + nginx" pg-2
      ;;
  esac
done

# ---- the table --------------------------------------------------------------------------------

# Operations in the order of the table, whatever order they ran in.
sorted=()
for label in "SQLite, 1 instance" "SQLite, 2 instances + nginx" "PostgreSQL, 1 instance" \
  "PostgreSQL, 2 instances + nginx"; do
  for op in "${ops[@]}"; do
    for row in ${rows[@]+"${rows[@]}"}; do
      IFS='|' read -r r_label r_op _ <<<"$row"
      if [ "$r_label" = "$label" ] && [ "$r_op" = "${op_label[$op]}" ]; then
        sorted+=("$row")
      fi
    done
  done
done

step "results (wrk -t$threads -c$connections, POST /sessions -c$login_connections, ${seconds} s each; RUST_LOG=$RUST_LOG)"
fmt='%-32s %-27s %9s %9s %9s %9s %7s  %s\n'
# shellcheck disable=SC2059
printf "$fmt" setup operation "req/s" "p50 ms" "p99 ms" requests errors detail
for row in ${sorted[@]+"${sorted[@]}"}; do
  IFS='|' read -r a b c d e f g h <<<"$row"
  # shellcheck disable=SC2059
  printf "$fmt" "$a" "$b" "$c" "$d" "$e" "$f" "$g" "$h"
done
elapsed=$(($(date +%s) - started))
if [ "$total_errors" -gt 0 ]; then
  echo "api-bench: FAILED: $total_errors errors (non-2xx answers, socket errors, timeouts) in $measured measurements; $elapsed s (wrk output and server logs in $work)"
  exit 1
fi
echo "api-bench: ok: $measured measurements, 0 errors; $elapsed s"
