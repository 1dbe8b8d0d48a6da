#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (built by scripts/sanitize.sh into build-asan,
# with AddressSanitizer and UndefinedBehaviorSanitizer) for a while each.
#   scripts/fuzz.sh [--seconds N] [--runs N] [--jobs N] [--max-len BYTES] [--timeout S] [target...]
# Defaults: 20 seconds per target, every target, inputs up to 64 KiB. A long run of a target
# whose corpus holds large inputs slows as they grow; a smaller --max-len keeps it fast.
# An input running longer than --timeout seconds (wall clock, default 20) is a finding; a
# long run beside other heavy work may want more. Seeds come from ../shared's BSON corpus and
# unified test suites; each target's corpus grows in build-asan/fuzz/corpus/<target>, and
# what it finds is written to build-asan/fuzz/artifacts/ (then the script fails). Prints
# one line per target with its executions; exit status 0 when no target found anything.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-asan
seconds=20
runs=-1
jobs=1
max_len=65536
timeout=20
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; seconds=0; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --max-len) max_len=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(bson json filter update projection pipeline keystring collation grpc wire)
fuzz_dir=$build/tests/fuzz
[ -x "$fuzz_dir/bson_fuzz" ] || { echo "fuzz.sh: no fuzz targets in $fuzz_dir (run scripts/sanitize.sh --build-only)" >&2; exit 2; }
work=$build/fuzz
mkdir -p "$work/artifacts"
if [ ! -d "$work/seeds" ]; then
  "$fuzz_dir/fuzz_seeds" ../shared/conformance/mongodb-specifications "$work/seeds.tmp" > /dev/null
  mv "$work/seeds.tmp" "$work/seeds"
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/scripts/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run_one() {
  local t=$1 log="$work/$1.log"
  mkdir -p "$work/corpus/$t" "$work/seeds/$t"
  local limit=(-max_total_time="$seconds")
  [ "$runs" -lt 0 ] || limit=(-runs="$runs")
  if "$fuzz_dir/${t}_fuzz" "${limit[@]}" -timeout="$timeout" -rss_limit_mb=3072 -max_len="$max_len" \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/$t-" \
      "$work/corpus/$t" "$work/seeds/$t" > "$log" 2>&1; then
    local n
    n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz $t: $n executions, no crash, leak or sanitizer report"
  else
    echo "fuzz $t: FAILED (log $log, input in $work/artifacts/):"
    grep -E 'ERROR|runtime error|invariant violated|SUMMARY' "$log" | head -5
    return 1
  fi
}
failed=0
pids=()
names=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  names+=("$t")
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
