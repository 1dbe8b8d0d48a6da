#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds micro-mongo into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" > /dev/null
cmake --build build -j"$(nproc)"
