#!/usr/bin/env bash
# The Node.js driver's sessions, transactions and retryable writes against a worker running
# as a single-node replica set (the default of with_wire_server.sh): over TCP naming
# the set, and over the unix socket connecting directly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/node"
status=0
MONGODB_URI=$MONGODB_TCP_URI node --test transactions.test.js || status=1
node --test transactions.test.js || status=1
exit $status
