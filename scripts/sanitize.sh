#!/usr/bin/env bash
# The sanitizer run: builds micro-mongo with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (and the libFuzzer targets) into build-asan, runs the test
# suite there (all but the install and container tests, which check packaging, not
# memory) and then every fuzz target briefly (scripts/fuzz.sh).
#   scripts/sanitize.sh [--build-only] [--fuzz-seconds N]
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=0
fuzz_seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --build-only) build_only=1; shift ;;
    --fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
    *) echo "usage: scripts/sanitize.sh [--build-only] [--fuzz-seconds N]" >&2; exit 2 ;;
  esac
done
./scripts/install-deps.sh
CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMICROMONGO_SANITIZE=address,undefined -DMICROMONGO_FUZZ=ON > /dev/null
cmake --build build-asan -j"$(nproc)"
[ "$build_only" = 0 ] || exit 0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$(nproc)" --timeout 900 -E '^(install_test|container_test)$')
./scripts/fuzz.sh --seconds "$fuzz_seconds" --jobs "$(nproc)"
