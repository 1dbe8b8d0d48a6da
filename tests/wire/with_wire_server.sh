#!/usr/bin/env bash
# Starts micromongo-server with its wire protocol listener on a unix socket and on a free
# loopback TCP port, runs a client command against it, stops the server.
#   tests/wire/with_wire_server.sh <micromongo-server binary> <command> [args...]
# The command sees MONGODB_URI (the unix socket), MONGODB_TCP_URI and MONGODB_SOCKET.
# The server presents the single-node replica set rs0 (its default): the command sees
# MM_TOPOLOGY=replicaset, and MONGODB_TCP_URI names the set (the socket's URI connects
# directly: drivers lowercase the host names a set reports, which a socket path may not
# survive). With MM_WIRE_STANDALONE=1 it answers as a standalone (--standalone,
# MM_TOPOLOGY=single, both URIs direct).
# Test commands are on (configureFailPoint, for the suites' fail points).
# Fails if the command fails or the server logged a fatal line.
set -euo pipefail
server=$1
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/mm-wire.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
# Port 0: the server binds a free port and names it in its startup log line.
repl_set=()
[ "${MM_WIRE_STANDALONE:-}" = 1 ] && repl_set=(--standalone)
"$server" --data-dir "$dir/data" --listen "unix:$dir/grpc.sock" \
  --mongodb-listen "unix:$dir/mongodb.sock" --mongodb-listen 127.0.0.1:0 "${repl_set[@]}" \
  --setParameter enableTestCommands=1 \
  --log-format json > "$dir/server.log" 2>&1 &
pid=$!
port=
for _ in $(seq 1 100); do
  port=$(grep -o '"mongodbListen": *"[^"]*"' "$dir/server.log" 2>/dev/null | grep -o '127\.0\.0\.1:[0-9]*' | cut -d: -f2 || true)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "with_wire_server: the server did not start" >&2; cat "$dir/server.log" >&2; exit 1; }
encoded=$(printf '%s' "$dir/mongodb.sock" | sed 's|/|%2F|g')
export MONGODB_URI="mongodb://$encoded/?directConnection=true"
if [ "${MM_WIRE_STANDALONE:-}" = 1 ]; then
  export MONGODB_TCP_URI="mongodb://127.0.0.1:$port/?directConnection=true"
  export MM_TOPOLOGY=single
else
  export MONGODB_TCP_URI="mongodb://127.0.0.1:$port/?replicaSet=rs0"
  export MM_TOPOLOGY=replicaset
fi
export MONGODB_SOCKET="$dir/mongodb.sock"
status=0
"$@" || status=$?
if grep -q '"s": *"F"' "$dir/server.log"; then echo "with_wire_server: fatal lines in the server log" >&2; status=1; fi
exit $status
