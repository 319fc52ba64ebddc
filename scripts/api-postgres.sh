#!/usr/bin/env bash
# Runs the server's tests against PostgreSQL: its unit tests (those that touch the database get
# a database of their own there), and the API tests (crates/server/tests/api: every endpoint, the
# server binary, the upgrade of a database at each earlier schema step). pg_virtualenv
# (postgresql-common) makes a throw-away cluster on a free port, the tests run beside it with
# UNIPOS_TEST_POSTGRES pointing at it (each test gets a database of its own there), and the
# cluster is dropped when they end. The same tests run on SQLite in the workspace's `cargo test`.
# The selection is the workspace's, as in scripts/test.sh, so that the build is the one the
# workspace's `cargo test` made; the other crates' unit tests run again too (seconds).
# Extra arguments go to `cargo test` (a test name filter, `-- --nocapture`).
#
#   scripts/api-postgres.sh [CARGO TEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pg_virtualenv >/dev/null; then
  echo "api-postgres: pg_virtualenv is missing: run scripts/setup.sh (it installs postgresql)" >&2
  exit 1
fi
# Two tests at a time, each with up to two servers and their pools, stay far below 300
# connections; a throw-away cluster needs no fsync.
# shellcheck disable=SC2016 # (expanded by the inner shell, inside the cluster's environment)
exec pg_virtualenv -o max_connections=300 -o fsync=off -t sh -c '
  export UNIPOS_TEST_POSTGRES="postgres://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:${PGPORT:-5432}"
  exec cargo test --locked --workspace --exclude unipos-e2e --lib --test api "$@"
' api-postgres "$@"
