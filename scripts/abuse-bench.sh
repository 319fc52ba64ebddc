#!/usr/bin/env bash
# The reference API under attack, measured: each row of the hardening table (parallel guesses, a
# session used as a password oracle, an old reset link, full-width and common passwords, a login
# flood, half-sent requests, forwarded addresses, unsafe start flags, caching) against a release
# `unipos-server` on loopback, with counts, peak RSS and the latency of a normal request during
# and after each attack. Bounded: about a minute, 127.0.0.0/8 only. Not part of the test command.
#
#   scripts/abuse-bench.sh
#
# The last line is the summary; the exit status is non-zero when a row is not as promised.
set -euo pipefail
cd "$(dirname "$0")/.."

# 1,000 held connections need as many descriptors in this process and in the server.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cargo build --locked --release -p unipos-server --bin unipos-server --example abuse_bench
exec target/release/examples/abuse_bench --server target/release/unipos-server
