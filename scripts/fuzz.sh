#!/usr/bin/env bash
# Fuzzes the protocol crate's parsers with cargo fuzz (libFuzzer): every target in fuzz/ for
# SECONDS_PER_TARGET seconds (default 60), one after the other. Not part of the test command.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# The committed seeds in fuzz/corpus/<target>/ are only read; what the fuzzer finds on top of
# them goes to fuzz/target/corpus/<target>/ (kept between runs, never committed). A crashing
# input is written to fuzz/artifacts/<target>/. Prints executions, seconds and crashes per
# target; exits non-zero if any target crashed (or could not run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

secs=${1:-60}
if ! [[ $secs =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
  exit 2
fi

# cargo fuzz compiles with -Z flags (AddressSanitizer, coverage instrumentation) that rustc only
# takes from a nightly toolchain. The project builds with stable, and no other toolchain can be
# installed on its machines; RUSTC_BOOTSTRAP=1 lets the stable compiler take them.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cd fuzz
echo "== building the fuzz targets (release, debug assertions, AddressSanitizer)"
cargo fuzz build
mapfile -t targets < <(cargo fuzz list)

crashed=0
report=()
for t in "${targets[@]}"; do
  work=$root/fuzz/target/corpus/$t
  artifacts=$root/fuzz/artifacts/$t
  log=$root/fuzz/target/fuzz-$t.log
  mkdir -p "$work" "$artifacts"
  dict=()
  [[ -f dict/$t.dict ]] && dict=(-dict="$root/fuzz/dict/$t.dict")
  before=$(find "$artifacts" -type f | wc -l)
  echo "== $t: ${secs}s (log: fuzz/target/fuzz-$t.log)"
  start=$(date +%s)
  rc=0
  # New inputs go to the first corpus directory only; the seeds are read, not written. cargo fuzz
  # sets -artifact_prefix to fuzz/artifacts/<target>/.
  cargo fuzz run "$t" "$work" "$root/fuzz/corpus/$t" -- \
    -max_total_time="$secs" -max_len=4096 -timeout=10 -print_final_stats=1 \
    "${dict[@]}" >"$log" 2>&1 || rc=$?
  elapsed=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  crashes=$(($(find "$artifacts" -type f | wc -l) - before))
  line=$(printf '%-9s %5ss %12s executions %3s crashes' "$t" "$elapsed" "${execs:-?}" "$crashes")
  if ((rc != 0 && crashes == 0)); then
    line+="  FAILED (exit $rc, see the log)" # a bad flag or dictionary, a build error, ...
  fi
  echo "$line"
  report+=("$line")
  if ((rc != 0 || crashes > 0)); then
    crashed=1
    grep -E "panicked at|assertion|ERROR: " "$log" | head -n 5 || true
    find "$artifacts" -type f -newermt "@$start" -printf "  input: fuzz/artifacts/$t/%P\n" || true
  fi
done

echo
echo "== fuzz summary (${secs}s per target)"
printf '%s\n' "${report[@]}"
exit "$crashed"
