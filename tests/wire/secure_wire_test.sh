#!/usr/bin/env bash
# TLS, mutual TLS and SCRAM-SHA-256 authentication on the wire protocol listener, with
# MongoDB's own clients (the Node.js driver, pymongo, mongosh) against real servers:
#   A  --tls-cert/--tls-key and --auth-token-file (TCP: TLS and a login; unix socket: neither)
#   B  mutual TLS (--tls-client-ca), no token
# and the loopback rule: a plaintext TCP listener elsewhere is refused without --insecure.
#   tests/wire/secure_wire_test.sh <micromongo-server binary> [<mongoc_smoke_test binary>]
# With the second argument, libmongoc's smoke test runs over TLS with a login too.
set -euo pipefail
server=$1
mongoc_smoke=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/mm-wire-tls.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

# A CA, a server certificate for localhost and 127.0.0.1 it signed, a client certificate it
# signed, and an unrelated CA.
(
  cd "$dir" && exec > openssl.log 2>&1
  key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  openssl req -x509 $key -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca
  openssl req -x509 $key -keyout other.key -out other.pem -days 2 -subj /CN=other
  openssl req $key -keyout server.key -out server.csr -subj /CN=localhost
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext
  openssl req $key -keyout client.key -out client.csr -subj /CN=app
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2
  cat client.pem client.key > client-both.pem
  openssl rand -hex 32 > token
) || { cat "$dir/openssl.log" >&2; exit 1; }

# Starts a server named $1 with extra flags; sets `port` to its wire protocol TCP port.
start() {
  local name=$1
  shift
  "$server" --data-dir "$dir/$name-data" --listen "unix:$dir/$name-grpc.sock" \
    --mongodb-listen 127.0.0.1:0 --mongodb-listen "unix:$dir/$name.sock" \
    --log-format json "$@" > "$dir/$name.log" 2>&1 &
  pids+=($!)
  port=
  for _ in $(seq 1 100); do
    port=$(grep -o '"mongodbListen": *"[^"]*"' "$dir/$name.log" 2>/dev/null | grep -o '127\.0\.0\.1:[0-9]*' | cut -d: -f2 || true)
    [ -n "$port" ] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "secure_wire_test: server $name did not start" >&2
  cat "$dir/$name.log" >&2
  exit 1
}

status=0
# Without TLS, a TCP listener on a non-loopback address is refused (nothing is bound).
if "$server" --data-dir "$dir/refused" --listen "unix:$dir/refused.sock" \
     --mongodb-listen 0.0.0.0:0 > "$dir/refused.log" 2>&1; then
  echo "secure_wire_test: a plaintext non-loopback listener was accepted" >&2
  status=1
elif ! grep -q 'needs --tls-cert and --tls-key' "$dir/refused.log"; then
  echo "secure_wire_test: the refusal does not say why:" >&2
  cat "$dir/refused.log" >&2
  status=1
fi

token=$(cat "$dir/token")
start a --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" --auth-token-file "$dir/token"
a_port=$port
start b --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" --tls-client-ca "$dir/ca.pem"
b_port=$port

export MM_CA=$dir/ca.pem MM_OTHER_CA=$dir/other.pem MM_CLIENT_CERT=$dir/client-both.pem
export MM_TOKEN=$token MM_A_PORT=$a_port MM_B_PORT=$b_port
export MM_A_SOCKET=$dir/a.sock

(cd "$here/node" && node --test security.test.js) || status=1
/usr/bin/python3 "$here/python/pymongo_tls_auth_test.py" || status=1

mongosh=$here/mongosh/node_modules/.bin/mongosh
export HOME=$dir/home
mkdir -p "$HOME"
"$mongosh" --quiet --nodb --eval 'disableTelemetry()' > /dev/null 2>&1 || true
who=$("$mongosh" --quiet --tls --tlsCAFile "$dir/ca.pem" --username micromongo --password "$token" \
  --authenticationDatabase admin "mongodb://127.0.0.1:$a_port/shell?directConnection=true" \
  --eval 'db.t.insertOne({x: 1}); print(db.runCommand({connectionStatus: 1}).authInfo.authenticatedUsers[0].user, db.t.countDocuments())' 2>&1) || status=1
if [ "$who" != "micromongo 1" ]; then
  echo "secure_wire_test: mongosh over TLS with a login printed: $who" >&2
  status=1
fi

if [ -n "$mongoc_smoke" ]; then
  "$mongoc_smoke" "mongodb://micromongo:$token@127.0.0.1:$a_port/?tls=true&tlsCAFile=$dir/ca.pem&authSource=admin&directConnection=true" ||
    { echo "secure_wire_test: libmongoc over TLS with a login failed" >&2; status=1; }
  if "$mongoc_smoke" "mongodb://micromongo:wrong@127.0.0.1:$a_port/?tls=true&tlsCAFile=$dir/ca.pem&authSource=admin&directConnection=true" > "$dir/mongoc-wrong.log" 2>&1; then
    echo "secure_wire_test: libmongoc logged in with a wrong password" >&2
    status=1
  elif ! grep -q 'Authentication failed' "$dir/mongoc-wrong.log"; then
    echo "secure_wire_test: libmongoc's wrong password did not fail authentication:" >&2
    cat "$dir/mongoc-wrong.log" >&2
    status=1
  fi
fi

for name in a b; do
  if grep -q '"s": *"F"' "$dir/$name.log"; then echo "secure_wire_test: fatal lines in server $name's log" >&2; status=1; fi
done
# The failed logins of the tests are logged, with their reason, for the operator.
grep -q '"Authentication failed".*wrong password' "$dir/a.log" || {
  echo "secure_wire_test: no log line for a wrong password" >&2
  status=1
}
exit $status
