#!/usr/bin/env bash
# The sanitizer run: builds micro-mongo with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (and the libFuzzer targets) into build-asan, runs the test
# suite there (all but the install and container tests, which check packaging, not
# memory) and then every fuzz target briefly (scripts/fuzz.sh).
#   scripts/sanitize.sh [--build-only | --no-build] [--fuzz-seconds N]
# -O1 with line tables only: what ASan's authors recommend for speed and readable reports,
# and much quicker to compile than -O2 -g.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
run=1
fuzz_seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --build-only) run=0; shift ;;
    --no-build) build=0; shift ;;
    --fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
    *) echo "usage: scripts/sanitize.sh [--build-only | --no-build] [--fuzz-seconds N]" >&2; exit 2 ;;
  esac
done
if [ "$build" = 1 ]; then
  ./scripts/install-deps.sh
  CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DMICROMONGO_SANITIZE=address,undefined -DMICROMONGO_FUZZ=ON > /dev/null
  cmake --build build-asan -j"$(nproc)"
fi
[ "$run" = 1 ] || exit 0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export LSAN_OPTIONS="suppressions=$(pwd)/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$(nproc)" --timeout 900 -E '^(install_test|container_test)$')
./scripts/fuzz.sh --seconds "$fuzz_seconds" --jobs "$(nproc)"
