#!/usr/bin/env bash
# Installs, builds, and runs the whole test suite (unit, end-to-end, reflection, install,
# container, crash torture), then the sanitizer run: the suite again under AddressSanitizer
# and UndefinedBehaviorSanitizer, and every fuzz target for 20 seconds (scripts/sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)" --timeout 600)
./scripts/sanitize.sh
