#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds micro-mongo into ./build.
#   build.sh              the server, the client library, examples and the test suite
#   build.sh --no-tests   without the test suite (and without the packages only tests need)
set -euo pipefail
cd "$(dirname "$0")/.."
tests=ON
deps_args=()
if [ "${1:-}" = "--no-tests" ]; then
  tests=OFF
  deps_args=(--build)
fi
./scripts/install-deps.sh "${deps_args[@]}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DMICROMONGO_BUILD_TESTS="$tests" > /dev/null
cmake --build build -j"$(nproc)"
