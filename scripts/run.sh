#!/usr/bin/env bash
# Runs the reference API server with demo data on loopback, installing what is missing first.
# Its SQLite file and its outbox of sent mails (.eml) live in .data/ at the top of the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cargo build --locked -p unipos-server

data=.data
mkdir -p "$data/outbox"
listen=${UNIPOS_LISTEN:-127.0.0.1:8787}
echo "Data: $PWD/$data (database unipos.sqlite3, sent mails in outbox/)"
echo "Sent mails as JSON: http://$listen/api/v1/dev/outbox   Stop with Ctrl-C."
exec target/debug/unipos-server --dev --listen "$listen" \
  --db "$data/unipos.sqlite3" --outbox "$data/outbox" --web-base "http://$listen"
