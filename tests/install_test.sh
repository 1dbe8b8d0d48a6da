#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, builds tests/outside_app against it with
# find_package(micromongo), runs it, and checks that the worker it spawned is the installed
# micromongo-server (found relative to the installed library, not the build tree).
set -euo pipefail
build_dir=$1
app_src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
test -x "$work/prefix/bin/micromongo-server"
test -f "$work/prefix/include/micromongo/micromongo.h"

cmake -S "$app_src" -B "$work/app-build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/app-build" -j2 > "$work/build.log"

# The app waits on stdin while we look at its worker.
mkfifo "$work/stdin"
env -u MICROMONGO_SERVER "$work/app-build/app" "$work/data" < "$work/stdin" > "$work/out" &
app=$!
exec 3> "$work/stdin"
for _ in $(seq 1 200); do grep -q found "$work/out" 2>/dev/null && break; sleep 0.05; done
cat "$work/out"
grep -q "found Alice" "$work/out"
pid=$(awk '/^pid/ {print $2}' "$work/out")
exe=$(readlink "/proc/$pid/exe")
echo "worker executable: $exe"
exec 3>&-
wait "$app"
[ "$exe" = "$(readlink -f "$work/prefix/bin/micromongo-server")" ]
echo "install_test: ok"

# The installed tool, with a worker of its own (the installed server, next to it).
echo '{"_id": 1, "name": "Ann"}' | env -u MICROMONGO_SERVER "$work/prefix/bin/micromongo" import \
  --data-dir "$work/tooldata" --db t -c people --quiet
out=$(env -u MICROMONGO_SERVER "$work/prefix/bin/micromongo" export --data-dir "$work/tooldata" \
  --db t -c people --quiet)
echo "micromongo export: $out"
[ "$out" = '{"_id": 1, "name": "Ann"}' ]
echo "install_test: tool ok"
