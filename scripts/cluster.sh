#!/usr/bin/env bash
# More than one unipos-server, as in production: two instances on one PostgreSQL database with
# nginx in front (round-robin), all on loopback. Installs postgresql, nginx, curl and jq when
# missing (Debian packages; the system's services are neither started nor enabled: PostgreSQL is a
# throw-away cluster from pg_virtualenv, dropped at the end, and this nginx runs in the foreground
# with its own prefix), builds the server and the CLI (debug), and starts:
#
#   PostgreSQL   a throw-away cluster on a free port, database "unipos"
#   instance a   unipos-server --dev   on 127.0.0.1:(free port)   ┐ one database,
#   instance b   unipos-server --dev   on 127.0.0.1:(free port)   ┘ one outbox folder
#   nginx        http://127.0.0.1:PORT → a, b (round-robin), X-Forwarded-For, X-Request-Id
#
# Both instances run with --dev: nginx sends every request to either, so the dev endpoints
# (the outbox with the reset links, password-less sessions) must answer at both, and they do
# the same at both since they read the shared database. The demo data is seeded once (the second
# instance finds it there). Both have --trusted-proxy 127.0.0.1/32 (nginx), --web-base of nginx
# (the links in mails point at the cluster, not at an instance), and --outbox in the cluster's
# folder.
#
#   scripts/cluster.sh                 start, print the address, run until Ctrl-C (or TERM)
#   scripts/cluster.sh -- CMD ARGS...  start, run CMD with UNIPOS_API_URL and UNIPOS_WEB_BASE set
#                                      to the cluster (what the CLI and the app read), then stop;
#                                      the exit status is CMD's
#   scripts/cluster.sh --demo          start, drive the CLI through nginx (forgot → the link from
#                                      the dev outbox → check → reset → login → me → logout),
#                                      print a transcript with the instance that answered each
#                                      request, then stop. Runs itself inside
#                                      scripts/with-keyring.sh (the CLI keeps its session in the
#                                      OS keychain). A few seconds once built.
#
# Options (before `--`):
#   --store postgres|sqlite   the shared database (UNIPOS_STORE; default postgres; sqlite: one
#                             file in the cluster's folder)
#   --port N                  nginx's port on 127.0.0.1 (UNIPOS_CLUSTER_PORT; default: a free one)
#   --instances N             how many servers (default 2)
#   --dir DIR                 the cluster's folder (default .data/cluster): outbox/ (and the
#                             SQLite file with --store sqlite),
#                             a.log, b.log, … and nginx/ (config, access.log, error.log). Made
#                             anew at each start (a new, empty database); left there afterwards
#
# Everything started here is stopped here, by pid: on Ctrl-C/TERM, when CMD or the demo ends, or
# when any of the processes dies.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cluster.sh

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

args=("$@")
store=${UNIPOS_STORE:-postgres}
port=${UNIPOS_CLUSTER_PORT:-}
instances=2
dir=.data/cluster
mode=serve
cmd=()
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store=${2:?--store needs sqlite or postgres}; shift 2 ;;
    --store=*) store=${1#*=}; shift ;;
    --port) port=${2:?--port needs a number}; shift 2 ;;
    --port=*) port=${1#*=}; shift ;;
    --instances) instances=${2:?--instances needs a number}; shift 2 ;;
    --instances=*) instances=${1#*=}; shift ;;
    --dir) dir=${2:?--dir needs a folder}; shift 2 ;;
    --dir=*) dir=${1#*=}; shift ;;
    --demo) mode=demo; shift ;;
    --) shift; mode=run; cmd=("$@"); break ;;
    -h | --help) usage ;;
    *) echo "cluster: unknown argument '$1'" >&2; usage ;;
  esac
done
if [ "$mode" = run ] && [ ${#cmd[@]} -eq 0 ]; then
  echo "cluster: nothing to run after --" >&2
  usage
fi
case "$instances" in '' | *[!0-9]* | 0 | 1) echo "cluster: --instances must be 2 or more" >&2; exit 2 ;; esac
[ "$instances" -le 26 ] || { echo "cluster: --instances at most 26" >&2; exit 2; }

status=0
cluster_store_check "$store" || status=$?
[ "$status" = 0 ] || exit "$status"

# The demo's CLI keeps its session in the OS keychain: a throw-away one, in a private D-Bus
# session.
if [ "$mode" = demo ] && [ "${UNIPOS_CLUSTER_IN_KEYRING:-}" != 1 ]; then
  UNIPOS_CLUSTER_IN_KEYRING=1 exec scripts/with-keyring.sh "$0" --store "$store" \
    --instances "$instances" --dir "$dir" ${port:+--port "$port"} --demo
fi

cluster_in_postgres "$store" "$0" ${args[@]+"${args[@]}"}
cluster_install nginx:nginx curl:curl jq:jq
cargo build --locked -p unipos-server -p unipos-cli
bin_dir=${CARGO_TARGET_DIR:-target}/debug
server_bin=$bin_dir/unipos-server
cli_bin=$bin_dir/unipos

# One cluster per folder at a time.
mkdir -p "$dir"
exec 9>"$dir/.lock"
if ! flock -n 9; then
  echo "cluster: another scripts/cluster.sh runs on $dir (use --dir for a second cluster)" >&2
  exit 1
fi

cleanup() {
  local s=$?
  trap - EXIT INT TERM
  cluster_stop
  exit "$s"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cluster_init "$dir" "$store"
[ -n "$port" ] || port=$(cluster_free_port)
base=http://127.0.0.1:$port

common=(--db "$CLUSTER_DB" --trusted-proxy 127.0.0.1/32 --web-base "$base"
  --outbox "$CLUSTER_DIR/outbox")
names=(a b c d e f g h i j k l m n o p q r s t u v w x y z)
for ((i = 0; i < instances; i++)); do
  cluster_start_server "${names[$i]}" "$server_bin" --dev "${common[@]}"
done
cluster_start_nginx "$port" "${CLUSTER_ADDRS[@]}"

describe() {
  local i
  echo "cluster ($store, $instances instances on one database, nginx round-robin in front):"
  for i in "${!CLUSTER_NAMES[@]}"; do
    printf '  instance %s  http://%s  (pid %s, log %s/%s.log)\n' "${CLUSTER_NAMES[$i]}" \
      "${CLUSTER_ADDRS[$i]}" "${CLUSTER_PIDS[$i]}" "$CLUSTER_DIR" "${CLUSTER_NAMES[$i]}"
  done
  printf '  nginx       %s  (pid %s, access log %s/nginx/access.log)\n' "$base" \
    "$CLUSTER_NGINX_PID" "$CLUSTER_DIR"
  # (Without the throw-away cluster's password: psql in the cluster's environment needs none.)
  echo "  database    $(printf '%s' "$CLUSTER_DB" | sed -E 's#^(postgres://[^:/@]+):[^@]*@#\1:***@#')"
  echo "  mails       $CLUSTER_DIR/outbox/*.eml, and with their links at $base/api/v1/dev/outbox"
}

# ---- the demo ---------------------------------------------------------------------------------

demo_email=taro@example.com
# Meets the demo organisation's policy; not a common password, nothing of the member's name.
demo_password=Harbor-lantern-4817
declare -A answered=()

# answered_by RID — which instance nginx sent the request RID to (from its access log), and that
# instance's own log line for it.
answered_by() {
  local rid=$1 up='' name line
  for _ in $(seq 20); do
    up=$(awk -v key="rid=$rid" '{for (i = 1; i <= NF; i++) if ($i == key) {
           for (j = 1; j <= NF; j++) if ($j ~ /^up=/) print substr($j, 4) }}' \
      "$CLUSTER_DIR/nginx/access.log" | tail -n 1)
    [ -n "$up" ] && break
    sleep 0.1
  done
  if [ -z "$up" ]; then
    echo "   ↳ request $rid is not in nginx's access log" >&2
    return 1
  fi
  name=$(cluster_name_of "$up")
  answered[$name]=$((${answered[$name]:-0} + 1))
  line=$(grep -F "request_id=$rid}" "$CLUSTER_DIR/$name.log" 2>/dev/null |
    grep -F ' request method=' | tail -n 1 | sed 's/.* request method=/method=/')
  printf '   ↳ nginx → instance %s (%s); %s.log: %s\n' "$name" "$up" "$name" \
    "${line:-(no line with this request id)}"
}

# cli STDIN ARGS... — runs the CLI through nginx, prints what it printed, and who answered; sets
# CLI_RID to the call's request id. Reset links are shown with their token cut to 6 characters,
# as the CLI shows tokens.
CLI_RID=
cli() {
  local input=$1 out a shown=()
  shift
  for a in "$@"; do
    if [[ $a =~ ^(.*token=[A-Za-z0-9_-]{6})[A-Za-z0-9_-]*$ ]]; then
      shown+=("'${BASH_REMATCH[1]}…'")
    else
      shown+=("$a")
    fi
  done
  printf '\n$ unipos %s%s\n' "${shown[*]}" "${input:+   (stdin: the new password)}"
  if ! out=$(printf '%s\n' "$input" | "$cli_bin" "$@" 2>&1); then
    printf '%s\n' "$out" | sed 's/^/  /'
    echo "demo: unipos $1 failed" >&2
    return 1
  fi
  printf '%s\n' "$out" | sed 's/^/  /'
  CLI_RID=$(grep -o 'request_id=[^ ]*' <<<"$out" | tail -n 1 | cut -d= -f2)
  if [ -n "$CLI_RID" ]; then answered_by "$CLI_RID"; fi
}

# The newest reset link for the demo member, read from the dev outbox through nginx (polled: the
# mail is sent by whichever instance's deliverer takes it from the database).
outbox_link() {
  local n=0 rid json link=
  for _ in $(seq 60); do
    n=$((n + 1))
    rid=cluster-demo-outbox-$n
    json=$(curl -sS --max-time 5 -H "X-Request-Id: $rid" \
      "$base/api/v1/dev/outbox?to=$demo_email")
    link=$(jq -r '[.messages[] | .links[] | select(contains("/reset_password?token="))] | last // empty' \
      <<<"$json")
    [ -n "$link" ] && break
    sleep 0.25
  done
  printf '\n$ curl -H "X-Request-Id: %s" %s/api/v1/dev/outbox?to=%s   (request %d)\n' "$rid" \
    "$base" "$demo_email" "$n"
  if [ -z "$link" ]; then
    echo "demo: no reset mail for $demo_email in the outbox after 15 s" >&2
    return 1
  fi
  jq -r '.messages[] | "  \(.sent_at)  to \(.to)  \(.subject)"' <<<"$json"
  printf '  link: %s\n' "$(sed -E 's/(token=[A-Za-z0-9_-]{6})[A-Za-z0-9_-]*/\1…/' <<<"$link")"
  answered_by "$rid"
  DEMO_LINK=$link
}

# Which instance's deliverer sent the mail of the request RID.
mail_sender() {
  local rid=$1 name
  for name in "${CLUSTER_NAMES[@]}"; do
    if grep -qF "mail{request_id=\"$rid\"}" "$CLUSTER_DIR/$name.log"; then
      printf '   ↳ the mail was sent by instance %s'"'"'s deliverer (%s.log: mail{request_id="%s"} mail sent)\n' \
        "$name" "$name" "$rid"
      return 0
    fi
  done
}

demo() {
  local started forgot_rid name summary=
  started=$(date +%s)
  export UNIPOS_API_URL=$base UNIPOS_WEB_BASE=$base
  echo
  echo "== demo: the CLI through nginx ($base), UNIPOS_API_URL=UNIPOS_WEB_BASE=$base"

  cli "" forgot "$demo_email"
  forgot_rid=$CLI_RID
  outbox_link
  mail_sender "$forgot_rid"
  cli "" check-link "$DEMO_LINK"
  cli "$demo_password" reset "$DEMO_LINK" --password-stdin
  cli "$demo_password" login --email "$demo_email" --password-stdin
  cli "" me
  cli "" logout

  for name in "${CLUSTER_NAMES[@]}"; do
    summary+="${summary:+, }$name ${answered[$name]:-0}"
  done
  echo
  echo "== demo done in $(($(date +%s) - started)) s: requests shown above answered by instance: $summary"
  if [ "${#answered[@]}" -lt 2 ]; then
    echo "demo: every request went to one instance; nginx did not balance" >&2
    return 1
  fi
}

# ---- run ----------------------------------------------------------------------------------------

describe
case "$mode" in
  serve)
    cat <<EOF

Point the CLI or the app at the cluster:
  export UNIPOS_API_URL=$base UNIPOS_WEB_BASE=$base
  cargo run -p unipos-cli -- forgot taro@example.com
  cd ui && UNIPOS_API_URL=$base UNIPOS_WEB_BASE=$base npm run tauri -- dev
Ctrl-C stops the servers and nginx.
EOF
    # Until a signal, or until one of them dies (then the rest are stopped too).
    wait -n "${CLUSTER_PIDS[@]}" "$CLUSTER_NGINX_PID" || true
    echo "cluster: a process ended by itself; stopping the rest (logs in $CLUSTER_DIR)" >&2
    exit 1
    ;;
  run)
    echo
    echo "running with UNIPOS_API_URL=UNIPOS_WEB_BASE=$base: ${cmd[*]}"
    status=0
    UNIPOS_API_URL=$base UNIPOS_WEB_BASE=$base UNIPOS_CLUSTER_DIR=$CLUSTER_DIR \
      "${cmd[@]}" || status=$?
    exit "$status"
    ;;
  demo)
    demo
    ;;
esac
