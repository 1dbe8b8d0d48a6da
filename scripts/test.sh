#!/usr/bin/env bash
# The test command: installs what is missing, then
#  1. starts the container test (image build and docker-compose, tests/container_test.sh)
#     in the background: it needs nothing of the host's build, and much of it waits on
#     downloads and podman, so it overlaps with the builds;
#  2. builds what users install (gcc: server, client library, tool, examples) into ./build
#     and runs the install test on it;
#  3. builds everything with clang, AddressSanitizer and UndefinedBehaviorSanitizer into
#     ./build-asan and, once the container test is done, runs the whole suite there (unit,
#     end-to-end, conformance, reflection, load, crash torture), then every fuzz target
#     for 20 s (scripts/sanitize.sh);
#  4. builds the service layer's tests with ThreadSanitizer and runs them (the concurrency
#     tests among them: scripts/tsan.sh).
# Each test runs once, on the build where it finds the most: behaviour and memory errors
# on the sanitized one, packaging on the one that is shipped. `scripts/build.sh` and
# `ctest` in ./build run the unsanitized suite as well (developers' loop). Every build is
# a unity build (MICROMONGO_UNITY_BUILD): a third of the CPU time of one file at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

container_log=$(mktemp /tmp/mm-container-log.XXXXXX)
(timeout -k 10 1500 tests/container_test.sh . > "$container_log" 2>&1) &
container=$!
trap 'kill $container 2> /dev/null || true; rm -f "$container_log"' EXIT

cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DMICROMONGO_BUILD_TESTS=ON > /dev/null
cmake --build build -j"$(nproc)" --target micromongo-server micromongo micromongo-cli visits quickstart
(cd build && ctest --output-on-failure --timeout 600 -R '^install_test$')

./scripts/sanitize.sh --build-only
# ThreadSanitizer on the concurrency tests (the service layer's tests only: a small build).
./scripts/tsan.sh
# The sanitized suite has timing-sensitive tests (crash torture, cursor timeouts): it
# runs once the container test no longer competes for the cores.
container_rc=0
wait "$container" || container_rc=$?
cat "$container_log"
case "$container_rc" in
  0) ;;
  77) echo "test.sh: the container test was skipped (it needs root for podman)" ;;
  124) echo "test.sh: the container test ran out of its 1500 s" >&2; exit 1 ;;
  *) echo "test.sh: the container test failed" >&2; exit 1 ;;
esac
./scripts/sanitize.sh --no-build
