#!/usr/bin/env bash
# Runs MongoDB's Node.js driver (tests/wire/node, installed by scripts/install-deps.sh)
# against a micromongo-server speaking the wire protocol on a unix socket and on a
# loopback TCP port; the CRUD suite runs over each.
#   tests/wire/node_driver_test.sh <micromongo-server binary>
set -euo pipefail
server=$1
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node/node_modules/mongodb" ]; then
  echo "node_driver_test: the Node.js driver is not installed (run scripts/install-deps.sh)" >&2
  exit 1
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/mm-wire.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
# A free loopback port: bound by the server itself (port 0) and read from its log.
"$server" --data-dir "$dir/data" --listen "unix:$dir/grpc.sock" \
  --mongodb-listen "unix:$dir/mongodb.sock" --mongodb-listen 127.0.0.1:0 \
  --log-format json > "$dir/server.log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 100); do
  port=$(grep -o '"mongodbListen": *"[^"]*"' "$dir/server.log" | grep -o '127\.0\.0\.1:[0-9]*' | cut -d: -f2 || true)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "node_driver_test: the server did not start" >&2; cat "$dir/server.log" >&2; exit 1; }
socket_uri="mongodb://$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$dir/mongodb.sock")/?directConnection=true"
tcp_uri="mongodb://127.0.0.1:$port/?directConnection=true"
cd "$here/node"
status=0
MONGODB_URI=$socket_uri MONGODB_SOCKET=$dir/mongodb.sock node --test --test-concurrency=1 crud.test.js protocol.test.js || status=1
MONGODB_URI=$tcp_uri node --test crud.test.js || status=1
if grep -q '"s": *"F"' "$dir/server.log"; then echo "node_driver_test: fatal lines in the server log" >&2; status=1; fi
exit $status
