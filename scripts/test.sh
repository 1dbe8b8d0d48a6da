#!/usr/bin/env bash
# Installs, builds, and runs the whole test suite (unit, end-to-end, reflection, install).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 600
