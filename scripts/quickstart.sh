#!/usr/bin/env bash
# The main job: install, build, and run the quickstart (spawn a worker, insert, query,
# print, clean up).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh --no-tests
./build/client/quickstart
