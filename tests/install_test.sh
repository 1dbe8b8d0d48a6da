#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, builds tests/outside_app against it with
# find_package(micromongo), runs it, and checks that the worker it spawned is the installed
# micromongo-server (found relative to the installed library, not the build tree).
set -euo pipefail
build_dir=$1
app_src=$2
stub_app_src=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
test -x "$work/prefix/bin/micromongo-server"
test -f "$work/prefix/include/micromongo/micromongo.h"
test -x "$work/prefix/bin/micromongo"
test -f "$work/prefix/include/micromongo/v1/micromongo.grpc.pb.h"
test -f "$work/prefix/share/micromongo/proto/micromongo/v1/micromongo.proto"

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

# An application calling the worker through the installed generated stubs (micromongo::grpc),
# against the installed server on a unix socket.
cmake -S "$stub_app_src" -B "$work/stub-build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/stub-configure.log"
cmake --build "$work/stub-build" -j2 > "$work/stub-build.log"
"$work/prefix/bin/micromongo-server" --data-dir "$work/stubdata" --listen "unix:$work/s.sock" \
  > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  "$work/prefix/bin/micromongo-server" --health-check "unix:$work/s.sock" > /dev/null 2>&1 && break
  sleep 0.1
done
"$work/stub-build/stub_app" "unix:$work/s.sock" > "$work/stub.out"
cat "$work/stub.out"
grep -q '^inserted 1$' "$work/stub.out"
grep -q '^found {"_id": 1, "name": "Alice", "age": 30}$' "$work/stub.out"
grep -q '^error 11000 DuplicateKey$' "$work/stub.out"

# The same two kinds of applications built with pkg-config instead of CMake.
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
libdir=$(pkg-config --variable=libdir micromongo)
g++ -std=c++20 -o "$work/pc_app" "$app_src/main.cc" $(pkg-config --cflags --libs micromongo) \
  -Wl,-rpath,"$libdir"
g++ -std=c++17 -o "$work/pc_stub_app" "$stub_app_src/main.cc" \
  $(pkg-config --cflags --libs micromongo-grpc) -Wl,-rpath,"$libdir"
"$work/pc_stub_app" "unix:$work/s.sock" | grep -q '^error 11000 DuplicateKey$'
kill $server
wait $server || true
echo "install_test: stubs and pkg-config ok"
