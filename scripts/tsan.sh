#!/usr/bin/env bash
# The ThreadSanitizer run: builds the service layer's tests with clang and
# -fsanitize=thread into build-tsan and runs them: the concurrency tests (writers, readers,
# index builds and drops at once on one collection; validate under concurrent writes), and
# the rest of service_test; then storage's transaction tests (commits across databases
# while a reader races them). The test command runs it once; run it more when touching
# locking or shared state:
#   scripts/tsan.sh [--repeat N]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=1
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    *) echo "usage: scripts/tsan.sh [--repeat N]" >&2; exit 2 ;;
  esac
done
./scripts/install-deps.sh
CC=clang CXX=clang++ cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DMICROMONGO_SANITIZE=thread > /dev/null
cmake --build build-tsan -j"$(nproc)" --target service_test storage_test
# RocksDB and gRPC come from Debian, uninstrumented: their internal synchronization is
# invisible to TSan, so races with a frame inside them are suppressed (scripts/tsan.supp).
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp"
build-tsan/server/service/service_test --gtest_repeat="$repeat" --gtest_brief=1
# Storage's transactions: commits across databases under readers (storage/cross_commit.h);
# the record cache under concurrent writers and readers (storage/record_cache.h).
build-tsan/storage/storage_test --gtest_filter='TransactionTest.*:CrossCommitFaultTest.*:EngineOpenTest.*:RecordCache*:*KvStore*' \
  --gtest_repeat="$repeat" --gtest_brief=1
