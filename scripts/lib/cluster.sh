# shellcheck shell=bash disable=SC2034  # (the CLUSTER_* variables are for the caller)
# Sourced by scripts/cluster.sh and scripts/api-bench.sh: start several `unipos-server`
# instances on one database with nginx in front, on loopback, and stop them again.
#
#   . scripts/lib/cluster.sh
#   cluster_install nginx:nginx jq:jq curl:curl     # command:Debian package, installed if missing
#   cluster_store_check "$store"                     # sqlite or postgres (installs postgresql)
#   cluster_in_postgres "$store" "$0" "$@"           # postgres: re-runs the script in pg_virtualenv
#   cluster_init DIR                                 # a folder for the database, logs and nginx
#   port=$(cluster_free_port)
#   cluster_start_server a BIN --dev --db "$CLUSTER_DB" ...   # sets CLUSTER_LAST_ADDR
#   cluster_start_server b BIN --dev --db "$CLUSTER_DB" ...
#   cluster_start_nginx "$port" "${CLUSTER_ADDRS[@]}"
#   ...
#   cluster_stop                                     # nginx, then the servers (also from a trap)
#
# Every process is started by these functions as a child of the calling shell and stopped by its
# pid (TERM, KILL after 10 s), never by name. Loopback only. The caller runs `set -euo pipefail`
# from the top of the checkout.
#
# Stores. SQLite: the instances share one file (CLUSTER_DB, in the cluster's folder). PostgreSQL:
# the calling script runs itself inside a throw-away cluster first (cluster_in_postgres), and the
# instances share one database there, CLUSTER_DB=postgres://…/unipos. Either is all unipos-server
# keeps its shared state in (sessions, reset tokens, lockouts, rate_events, mail_outbox).

CLUSTER_DIR=
CLUSTER_DB=
CLUSTER_NGINX_PORT=
CLUSTER_LAST_ADDR=
CLUSTER_PIDS=()   # servers, in start order
CLUSTER_NAMES=()  # their names (a, b, …), same order
CLUSTER_ADDRS=()  # their host:port, same order
CLUSTER_NGINX_PID=
CLUSTER_WATCH_PID=  # the readiness watcher (cluster_watch_ready)

cluster_need_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# cluster_install CMD:PACKAGE ... — installs the Debian packages whose command is missing, with
# apt-get, once. The nginx package would start (and, under systemd, enable) the system nginx
# service; these scripts run an nginx of their own and leave the system's alone: during the install
# a policy-rc.d (when the system has none) tells the package not to start services, and a service
# the install enabled under systemd is disabled again.
cluster_install() {
  local pair cmd missing=() had_nginx=1 policy=/usr/sbin/policy-rc.d made_policy=0 status=0
  for pair in "$@"; do
    cmd=${pair%%:*}
    if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ]; then
      missing+=("${pair#*:}")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "missing: ${missing[*]}; this is not a Debian/Ubuntu system, install them by hand" >&2
    return 1
  fi
  echo "installing ${missing[*]} (apt-get)" >&2
  [[ " ${missing[*]} " == *" nginx "* ]] && had_nginx=0
  # No daemon a package brings (nginx, postgresql) starts during the install.
  if [ ! -e "$policy" ]; then
    cluster_need_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    made_policy=1
  fi
  cluster_need_root apt-get update -qq || status=$?
  if [ "$status" = 0 ]; then
    cluster_need_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  fi
  if [ "$made_policy" = 1 ]; then cluster_need_root rm -f "$policy"; fi
  if [ "$had_nginx" = 0 ]; then cluster_disable_nginx_service; fi
  return "$status"
}

# The package enables the nginx service at boot (systemd unit and SysV links): undo that (and,
# under a running systemd, stop it, should a policy-rc.d of the system's have let it start).
cluster_disable_nginx_service() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    cluster_need_root systemctl disable --now nginx >/dev/null 2>&1 || true
  elif command -v deb-systemd-helper >/dev/null 2>&1; then
    cluster_need_root deb-systemd-helper disable nginx.service >/dev/null 2>&1 || true
  fi
  if command -v update-rc.d >/dev/null 2>&1 && [ -e /etc/init.d/nginx ]; then
    cluster_need_root update-rc.d nginx disable >/dev/null 2>&1 || true
  fi
}

cluster_nginx_bin() {
  command -v nginx 2>/dev/null || echo /usr/sbin/nginx
}

# cluster_store_check STORE — 0 for sqlite; for postgres, installs postgresql (Debian; it brings
# postgresql-common's pg_virtualenv) when missing; status 2 for anything else.
cluster_store_check() {
  case "$1" in
    sqlite) return 0 ;;
    postgres) cluster_install pg_virtualenv:postgresql ;;
    *)
      echo "unknown store '$1' (sqlite or postgres)" >&2
      return 2
      ;;
  esac
}

# cluster_in_postgres STORE SCRIPT ARGS... — for postgres, unless already inside one: runs SCRIPT
# ARGS again inside a throw-away PostgreSQL cluster (pg_virtualenv: a free port, PGHOST, PGPORT,
# PGUSER and PGPASSWORD set for the command; the cluster is dropped when it ends) and exits with
# its status. For sqlite, returns at once.
cluster_in_postgres() {
  local store=$1
  shift
  [ "$store" = postgres ] || return 0
  [ -n "${CLUSTER_IN_POSTGRES:-}" ] && return 0
  CLUSTER_IN_POSTGRES=1 exec pg_virtualenv -o max_connections=200 -t "$@"
}

# cluster_init DIR [STORE] — DIR is made (with outbox/ and nginx/); the files of an earlier run
# there are removed (only those this library makes), so every start has a new, empty database.
# Sets CLUSTER_DIR and CLUSTER_DB.
cluster_init() {
  local store=${2:-sqlite}
  cluster_store_check "$store" || return
  CLUSTER_DIR=$(mkdir -p "$1" && cd "$1" && pwd)
  rm -rf "$CLUSTER_DIR/outbox" "$CLUSTER_DIR/nginx"
  rm -f "$CLUSTER_DIR"/unipos.sqlite3 "$CLUSTER_DIR"/unipos.sqlite3-* \
    "$CLUSTER_DIR"/*.out "$CLUSTER_DIR"/*.log
  mkdir -p "$CLUSTER_DIR/outbox" "$CLUSTER_DIR/nginx/tmp"
  if [ "$store" = postgres ]; then
    if [ -z "${CLUSTER_IN_POSTGRES:-}" ]; then
      echo "cluster_init: postgres needs cluster_in_postgres first" >&2
      return 1
    fi
    # A new, empty database on the throw-away cluster (dropped with it).
    dropdb --if-exists unipos >/dev/null 2>&1
    createdb unipos
    CLUSTER_DB="postgres://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:${PGPORT:-5432}/unipos"
  else
    CLUSTER_DB=$CLUSTER_DIR/unipos.sqlite3
  fi
  CLUSTER_PIDS=() CLUSTER_NAMES=() CLUSTER_ADDRS=() CLUSTER_NGINX_PID='' CLUSTER_NGINX_PORT=''
}

# cluster_free_port — a loopback TCP port that nothing uses now (not even in TIME_WAIT).
cluster_free_port() {
  local port used=
  if command -v ss >/dev/null 2>&1; then
    used=$(ss -Htan 2>/dev/null | awk '{n = split($4, a, ":"); print a[n]}' | sort -u)
  fi
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 20000))
    grep -qx "$port" <<<"$used" && continue
    # shellcheck disable=SC2216
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    echo "$port"
    return 0
  done
  echo "no free loopback port found" >&2
  return 1
}

# cluster_start_server NAME BIN ARGS... — starts `BIN --listen 127.0.0.1:0 ARGS...` with stdout in
# DIR/NAME.out and its log in DIR/NAME.log, waits (30 s at most) for its `listening on` line and
# sets CLUSTER_LAST_ADDR to its host:port. RUST_LOG is the caller's (default info: one line per
# request, with its request id).
cluster_start_server() {
  local name=$1 bin=$2 out log pid addr=
  shift 2
  out=$CLUSTER_DIR/$name.out
  log=$CLUSTER_DIR/$name.log
  : >"$out"
  RUST_LOG=${RUST_LOG:-info} "$bin" --listen 127.0.0.1:0 "$@" >"$out" 2>"$log" &
  pid=$!
  CLUSTER_PIDS+=("$pid")
  CLUSTER_NAMES+=("$name")
  for _ in $(seq 300); do
    addr=$(sed -n 's|^listening on http://||p' "$out")
    [ -n "$addr" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "instance $name did not start; its log ($log):" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  if [ -z "$addr" ]; then
    echo "instance $name did not start within 30 s; its log ($log):" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
  CLUSTER_ADDRS+=("$addr")
  CLUSTER_LAST_ADDR=$addr
}

# cluster_start_nginx PORT UPSTREAM... — nginx on 127.0.0.1:PORT, round-robin over the upstreams
# (host:port), in the foreground of its own prefix DIR/nginx (config, pid file, logs, temp
# folders; nothing of the system's nginx is used). Waits until it answers (10 s at most).
#
# - X-Forwarded-For is the client's chain plus the peer ($proxy_add_x_forwarded_for); the servers
#   believe it from 127.0.0.1 (--trusted-proxy 127.0.0.1/32).
# - X-Request-Id goes to the server as the client sent it (the server makes one when there is
#   none) and comes back in the answer; the access log has it with the instance that answered.
# - X-Upstream in every answer names the instance ($upstream_addr): this is a local test cluster,
#   not a production proxy.
# - Upstream connections are kept alive (HTTP/1.1), and closed by nginx after 5 s idle, before
#   the server's own --read-timeout (10 s) could close one under a request.
# - Request bodies are streamed, not buffered: the server answers 413/408 itself as it would
#   alone, and nothing is written to temp files (whose folder the worker, `nobody` when nginx is
#   started as root, could not enter).
# - The access log has the path without the query: reset links carry their token there.
# - Open-source nginx has no active health checks, so cluster_watch_ready (started here) asks each
#   instance's GET /readyz every second and marks an instance that is not ready (its database
#   is gone, or it is stopping) `down` in upstreams.conf, reloading nginx when that changes: an
#   instance leaves the rotation while its database is gone and comes back when it is ready.
#   When no instance is ready, all stay in, so members get the servers' own 503 `unavailable`
#   (with Retry-After) rather than nginx's 502.
cluster_start_nginx() {
  local port=$1 dir=$CLUSTER_DIR/nginx upstream bin
  shift
  bin=$(cluster_nginx_bin)
  CLUSTER_NGINX_PORT=$port
  {
    cat <<EOF
# Made by scripts/lib/cluster.sh; run as: nginx -p $dir/ -c nginx.conf -e $dir/error.log
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  log_format unipos '\$time_iso8601 \$remote_addr "\$request_method \$uri" \$status '
                    'rid=\$upstream_http_x_request_id up=\$upstream_addr rt=\$upstream_response_time';
  access_log $dir/access.log unipos;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server_tokens off;

  upstream unipos {
    include $dir/upstreams.conf;
    keepalive 64;
    keepalive_timeout 5s;
  }

  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://unipos;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Request-Id \$http_x_request_id;
      proxy_request_buffering off;
      proxy_max_temp_file_size 0;
      proxy_read_timeout 60s;
      add_header X-Upstream \$upstream_addr always;
    }
  }
}
EOF
  } >"$dir/nginx.conf"
  cluster_write_upstreams "$dir/upstreams.conf" "$@"
  "$bin" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" -t -q || {
    echo "nginx refused its configuration ($dir/nginx.conf)" >&2
    return 1
  }
  "$bin" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/nginx.out" 2>&1 &
  CLUSTER_NGINX_PID=$!
  for _ in $(seq 100); do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/.well-known/assetlinks.json"; then
      cluster_watch_ready "$dir" "$@" &
      CLUSTER_WATCH_PID=$!
      return 0
    fi
    if ! kill -0 "$CLUSTER_NGINX_PID" 2>/dev/null; then
      CLUSTER_NGINX_PID=
      echo "nginx did not start; its log:" >&2
      tail -n 20 "$dir/error.log" "$dir/nginx.out" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "nginx does not answer on 127.0.0.1:$port" >&2
  return 1
}

# cluster_write_upstreams FILE UPSTREAM[:down]... — the upstream servers nginx balances over; one
# marked :down is left out of the rotation.
cluster_write_upstreams() {
  local file=$1 upstream
  shift
  for upstream in "$@"; do
    case "$upstream" in
      *:down) echo "server ${upstream%:down} down;" ;;
      *) echo "server $upstream;" ;;
    esac
  done >"$file.new"
  mv "$file.new" "$file"
}

# cluster_watch_ready DIR UPSTREAM... — every second, GET /readyz of each upstream; when the set of
# ready ones changes, rewrites DIR/upstreams.conf (the others `down`; all in when none is ready)
# and reloads nginx (HUP). Logs each change to DIR/ready.log. Runs until killed (cluster_stop).
cluster_watch_ready() {
  local dir=$1 upstream state last='' listed ready
  shift
  while sleep 1; do
    state='' listed=() ready=0
    for upstream in "$@"; do
      if curl -s -o /dev/null --max-time 1 -w '%{http_code}' "http://$upstream/readyz" |
        grep -qx 200; then
        state+="$upstream:ready "
        listed+=("$upstream")
        ready=$((ready + 1))
      else
        state+="$upstream:not_ready "
        listed+=("$upstream:down")
      fi
    done
    [ "$state" = "$last" ] && continue
    [ "$ready" -eq 0 ] && listed=("$@")
    cluster_write_upstreams "$dir/upstreams.conf" "${listed[@]}"
    if [ -n "$last" ]; then kill -HUP "$CLUSTER_NGINX_PID" 2>/dev/null || true; fi
    printf '%s %s\n' "$(date -u +%FT%TZ)" "$state" >>"$dir/ready.log"
    last=$state
  done
}

# cluster_name_of ADDR — the name of the instance at host:port (or ADDR itself).
cluster_name_of() {
  local i
  for i in "${!CLUSTER_ADDRS[@]}"; do
    if [ "${CLUSTER_ADDRS[$i]}" = "$1" ]; then
      echo "${CLUSTER_NAMES[$i]}"
      return 0
    fi
  done
  echo "$1"
}

# cluster_wait_pid PID — waits 10 s at most for PID to end after a TERM, then KILLs; reaps it.
cluster_wait_pid() {
  local pid=$1
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# cluster_stop — nginx first (it holds connections to the servers), then every server (TERM to
# all, then each is waited for). Safe to call twice.
cluster_stop() {
  local pid
  if [ -n "${CLUSTER_WATCH_PID:-}" ]; then
    kill -TERM "$CLUSTER_WATCH_PID" 2>/dev/null || true
    wait "$CLUSTER_WATCH_PID" 2>/dev/null || true
    CLUSTER_WATCH_PID=
  fi
  if [ -n "${CLUSTER_NGINX_PID:-}" ]; then
    kill -TERM "$CLUSTER_NGINX_PID" 2>/dev/null || true
    cluster_wait_pid "$CLUSTER_NGINX_PID"
    CLUSTER_NGINX_PID=
  fi
  for pid in ${CLUSTER_PIDS[@]+"${CLUSTER_PIDS[@]}"}; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in ${CLUSTER_PIDS[@]+"${CLUSTER_PIDS[@]}"}; do
    cluster_wait_pid "$pid"
  done
  CLUSTER_PIDS=()
}
