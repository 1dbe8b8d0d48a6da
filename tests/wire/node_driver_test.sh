#!/usr/bin/env bash
# MongoDB's Node.js driver (tests/wire/node, installed by scripts/install-deps.sh) against
# micromongo-server's wire protocol listener: the suites over the unix socket, the CRUD
# suite again over TCP. Run through with_wire_server.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node/node_modules/mongodb" ]; then
  echo "node_driver_test: the Node.js driver is not installed (run scripts/install-deps.sh)" >&2
  exit 1
fi
cd "$here/node"
status=0
node --test --test-concurrency=1 crud.test.js protocol.test.js changestream.test.js capped.test.js \
  timeseries.test.js || status=1
MONGODB_URI=$MONGODB_TCP_URI node --test crud.test.js || status=1
exit $status
