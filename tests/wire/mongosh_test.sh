#!/usr/bin/env bash
# MongoDB's shell (mongosh from npm, installed by scripts/install-deps.sh in
# tests/wire/mongosh) against micromongo-server's wire protocol listener: a scripted
# session (mongosh/session.js), then an interactive start fed from stdin, which must show
# its prompt, answer `show dbs` and `use`, and print no error. Run through
# with_wire_server.sh (MONGODB_TCP_URI).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mongosh=$here/mongosh/node_modules/.bin/mongosh
if [ ! -x "$mongosh" ]; then
  echo "mongosh_test: mongosh is not installed (run scripts/install-deps.sh)" >&2
  exit 1
fi
# No telemetry, no update checks, no history or config in the user's home.
export HOME=$(mktemp -d "${TMPDIR:-/tmp}/mm-mongosh-home.XXXXXX")
trap 'rm -rf "$HOME"' EXIT
"$mongosh" --quiet --nodb --eval 'disableTelemetry()' > /dev/null 2>&1 || true
status=0
out=$("$mongosh" --quiet "$MONGODB_TCP_URI" "$here/mongosh/session.js" 2>&1) || status=1
echo "$out"
grep -q '^session ok$' <<< "$out" || { echo "mongosh_test: the scripted session failed" >&2; status=1; }

interactive=$(printf '%s\n' 'use shelltest' 'db.notes.insertOne({text: "hi"}).acknowledged' 'show dbs' \
  'db.notes.countDocuments()' 'exit' | "$mongosh" "$MONGODB_TCP_URI" 2>&1) || status=1
echo "$interactive"
grep -q 'switched to db shelltest' <<< "$interactive" || { echo "mongosh_test: no 'use' answer" >&2; status=1; }
grep -q 'shelltest>' <<< "$interactive" || { echo "mongosh_test: no prompt" >&2; status=1; }
grep -Eq 'shelltest +[0-9.]+ [KMG]?i?B' <<< "$interactive" || { echo "mongosh_test: 'show dbs' listed no shelltest" >&2; status=1; }
# Errors of any kind, and the server's startup warnings (mongosh shows them after its
# banner). mongosh's own notices about its environment (telemetry, the Node.js version)
# are not the server's business.
if grep -Eq 'Error|startup warnings' <<< "$interactive"; then
  echo "mongosh_test: error lines in the interactive session" >&2
  status=1
fi
exit $status
