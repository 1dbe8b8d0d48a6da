#!/usr/bin/env bash
# The test command: installs what is missing, then
#  1. builds what users install (gcc: server, client library, tool, examples) into ./build
#     and runs the packaging tests on it: the install test, and the container test (image
#     build and docker-compose, in the background: much of it waits on downloads and
#     podman, so it overlaps with the next step);
#  2. builds everything with clang, AddressSanitizer and UndefinedBehaviorSanitizer into
#     ./build-asan and runs the whole suite there (unit, end-to-end, conformance,
#     reflection, crash torture), then every fuzz target for 20 s (scripts/sanitize.sh).
# Each test runs once, on the build where it finds the most: behaviour and memory errors
# on the sanitized one, packaging on the one that is shipped. `scripts/build.sh` and
# `ctest` in ./build run the unsanitized suite as well (developers' loop).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DMICROMONGO_BUILD_TESTS=ON > /dev/null
cmake --build build -j"$(nproc)" --target micromongo-server micromongo micromongo-cli visits quickstart

(cd build && ctest --output-on-failure --timeout 600 -R '^install_test$')
container_log=$(mktemp /tmp/mm-container-log.XXXXXX)
(cd build && ctest --output-on-failure --timeout 1500 -R '^container_test$' > "$container_log" 2>&1) &
container=$!
trap 'kill $container 2> /dev/null || true; rm -f "$container_log"' EXIT

./scripts/sanitize.sh --build-only
# The sanitized suite has timing-sensitive tests (crash torture, cursor timeouts): it
# runs once the container test no longer competes for the cores.
container_rc=0
wait "$container" || container_rc=$?
cat "$container_log"
[ "$container_rc" = 0 ] || { echo "test.sh: the container test failed" >&2; exit 1; }
./scripts/sanitize.sh --no-build
