#!/usr/bin/env bash
# Builds the Docker image and runs docker/docker-compose.yml for real, as a user would, with
# Debian's podman, runc and podman-compose (no daemon, no registry; the base image debian:12
# is made locally with debootstrap), with secrets made by docker/make-secrets.sh. Then:
# waits for the gRPC health check to report healthy, checks the compose file's client
# application reached the worker by service name over TLS with the token, inserts and reads
# through the published port with the C++ client (the app image on the host's network) and
# with grpcurl-style calls (and is refused without the token or without TLS), reads through
# the published wire protocol port with mongosh (TLS and a login), restarts the
# container and finds the data, and takes it all down.
#
#   container_test.sh SOURCE_DIR
#
# Nothing of the host's build is used: the test command runs it while the host builds.
#
# Needs root (podman without a daemon); exits 77 (skipped) otherwise. A cold run takes
# several minutes: the image's build stage installs the toolchain and compiles the server.
set -euo pipefail
src=$(cd "$1" && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "container_test: skipped: podman needs root here (no daemon, no rootless setup)"
  exit 77
fi
for tool in podman podman-compose runc debootstrap; do
  command -v "$tool" > /dev/null || { echo "container_test: $tool is missing (scripts/install-deps.sh installs it)"; exit 1; }
done

work=$(mktemp -d /tmp/mm-container-test.XXXXXX)
project="mmtest$$"
compose=(podman-compose -p "$project" -f "$src/docker/docker-compose.yml")
server_ctr="${project}_micromongo_1"
app_ctr="${project}_app_1"

# podman's defaults don't fit these machines: crun refuses a hybrid cgroup layout, and
# hard rlimits cannot be raised (docs in ../shared/design/containers.md). A config of our
# own, through CONTAINERS_CONF, leaves the system's untouched.
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
cat > "$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]
[engine]
runtime = "runc"
[network]
# netavark's aardvark-dns resolves compose service names (the app reaches "micromongo");
# podman would keep CNI, which resolves none, on a machine where CNI came first.
network_backend = "netavark"
CONF
export CONTAINERS_CONF="$work/containers.conf"
# podman builds OCI images by default, and OCI images have no HEALTHCHECK.
export BUILDAH_FORMAT=docker
export MICROMONGO_PORT MICROMONGO_MONGODB_PORT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
MICROMONGO_PORT=$(free_port)
MICROMONGO_MONGODB_PORT=$(free_port)
while [ "$MICROMONGO_MONGODB_PORT" = "$MICROMONGO_PORT" ]; do MICROMONGO_MONGODB_PORT=$(free_port); done

cleanup() {
  set +e
  "${compose[@]}" down -v -t 5 > "$work/down.log" 2>&1
  podman rm -f "$server_ctr" "$app_ctr" > /dev/null 2>&1
  podman volume rm -f "${project}_micromongo-data" > /dev/null 2>&1
  podman network rm -f "${project}_default" > /dev/null 2>&1  # podman-compose 1.0.3 leaves it
  # Images of earlier runs that this run's build replaced (this run's stay as build cache).
  [ -n "${started:-}" ] && podman image prune -f --filter label=io.micromongo.image \
    --filter "until=$started" > /dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "container_test: $(date +%T) $*"; }
fail() {
  echo "container_test: FAILED: $*"
  podman logs "$server_ctr" 2>&1 | tail -20 || true
  exit 1
}

if ! podman image exists localhost/debian:12; then
  step "making the base image debian:12 with debootstrap"
  "$src/tests/container/make-base-image.sh"
fi

# The compose file's secrets: a CA, the server's certificate and key, the token.
export MICROMONGO_SECRETS="$work/secrets"
"$src/docker/make-secrets.sh" "$MICROMONGO_SECRETS" > /dev/null
secrets=$MICROMONGO_SECRETS
token=$(cat "$secrets/token")

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
step "building the images (server and app targets)"
"${compose[@]}" build > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "image build"; }
podman image exists localhost/micromongo:latest || fail "no image localhost/micromongo:latest"

# The runtime image: no compiler, a non-root user, the health check declared.
user=$(podman image inspect -f '{{.Config.User}}' localhost/micromongo:latest)
[ "$user" = micromongo ] || fail "image runs as '$user', not micromongo"
podman image inspect -f '{{.Config.Healthcheck}}' localhost/micromongo:latest | grep -q -- --health-check \
  || fail "image has no HEALTHCHECK"
if podman run --rm --pull=never --entrypoint sh localhost/micromongo:latest -c 'command -v g++ || command -v cmake'; then
  fail "the runtime image holds build tools"
fi

step "compose up on 127.0.0.1:$MICROMONGO_PORT"
"${compose[@]}" up -d > "$work/up.log" 2>&1 || { cat "$work/up.log"; fail "compose up"; }
# (podman logs that it cannot reach systemd to schedule health checks: harmless here.)

# Without systemd nothing schedules health checks: run them until one passes.
wait_healthy() {
  for _ in $(seq 1 60); do
    if podman healthcheck run "$server_ctr" > /dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}
wait_healthy || fail "the worker never became healthy"
[ "$(podman inspect -f '{{.State.Health.Status}}' "$server_ctr")" = healthy ] || fail "status is not healthy"
step "healthy"

# The app service reached the worker by its service name and recorded a visit.
for _ in $(seq 1 90); do
  [ "$(podman inspect -f '{{.State.Status}}' "$app_ctr")" = exited ] && break
  sleep 1
done
podman logs "$app_ctr" > "$work/app.log" 2>&1
[ "$(podman inspect -f '{{.State.ExitCode}}' "$app_ctr")" = 0 ] || { cat "$work/app.log"; fail "the app service failed"; }
grep -q "^visits: 1$" "$work/app.log" || { cat "$work/app.log"; fail "the app service did not count its visit"; }
step "the app service recorded its visit through mongodb://micromongo:50051/app"

# The C++ client on the host, through the published port: TLS and the token. It is the app
# image's client, run in the host's network namespace (so localhost is the host's loopback),
# reading the secrets from the host's directory (as root: that directory is private).
host_client() {
  podman run --rm --pull=never --network host --user 0:0 -v "$secrets:/secrets:ro" \
    localhost/micromongo-app:latest "$1"
}
uri="mongodb://localhost:$MICROMONGO_PORT/app?tls=true&tlsCAFile=/secrets/ca.pem&authTokenFile=/secrets/token"
host_client "$uri" > "$work/host.log" 2>&1
grep -q "^visits: 2$" "$work/host.log" || { cat "$work/host.log"; fail "the C++ client on the host"; }
if host_client "mongodb://localhost:$MICROMONGO_PORT/app?tls=true&tlsCAFile=/secrets/ca.pem" \
    > "$work/notoken.log" 2>&1; then
  fail "a client without the token was served"
fi
# The worker's refusal (18 AuthenticationFailed), as the app reports it.
grep -q "requires a token" "$work/notoken.log" || { cat "$work/notoken.log"; fail "no token refusal without the token"; }
if "$src/scripts/mm-grpcurl" -plaintext -max-time 5 -H "authorization: Bearer $token" \
    "localhost:$MICROMONGO_PORT" list > "$work/plain.log" 2>&1; then
  fail "a plaintext client was served"
fi
step "TLS and the token required on the published port"

# grpcurl-style calls (server reflection, JSON bodies), with TLS and the token.
grpcurl=("$src/scripts/mm-grpcurl" -cacert "$secrets/ca.pem" -H "authorization: Bearer $token")
"${grpcurl[@]}" -d '{"database": "app", "collection": "people", "documents": [{"json": "{\"_id\": 1, \"name\": \"Alice\"}"}]}' \
  "localhost:$MICROMONGO_PORT" micromongo.v1.DataService/Insert > "$work/insert.json"
grep -q '"insertedCount": "1"' "$work/insert.json" || { cat "$work/insert.json"; fail "grpcurl Insert"; }
"${grpcurl[@]}" -d '{"database": "app", "collection": "people", "filter": {"json": "{\"name\": \"Alice\"}"}}' \
  "localhost:$MICROMONGO_PORT" micromongo.v1.DataService/Find > "$work/find.json"
grep -q 'Alice' "$work/find.json" || { cat "$work/find.json"; fail "grpcurl Find"; }
step "inserted and read through the published port (C++ client, grpcurl-style)"

# MongoDB's shell through the published wire protocol port: TLS, and a login as micromongo
# with the token as password; without the login it gets 13.
mongosh=$src/tests/wire/mongosh/node_modules/.bin/mongosh
mongosh_uri="mongodb://localhost:$MICROMONGO_MONGODB_PORT/app?tls=true&tlsCAFile=$secrets/ca.pem&directConnection=true"
export HOME=$work/home
mkdir -p "$HOME"
"$mongosh" --quiet --nodb --eval 'disableTelemetry()' > /dev/null 2>&1 || true
name=$("$mongosh" --quiet --username micromongo --password "$token" --authenticationDatabase admin \
  "$mongosh_uri" --eval 'print(db.people.findOne().name)' 2> "$work/mongosh.err") \
  || { cat "$work/mongosh.err"; fail "mongosh through the wire protocol port"; }
[ "$name" = Alice ] || fail "mongosh read '$name', not Alice"
if "$mongosh" --quiet "$mongosh_uri" --eval 'db.people.findOne()' > "$work/mongosh-nologin.log" 2>&1; then
  fail "mongosh without a login was served"
fi
grep -q "requires authentication" "$work/mongosh-nologin.log" || { cat "$work/mongosh-nologin.log"; fail "no 13 without a login"; }
step "mongosh read it through the wire protocol port (TLS and a login)"

# The micromongo tool inside the image, against the worker of its own container.
podman exec "$server_ctr" /opt/micromongo/bin/micromongo export --address unix:/run/micromongo/local.sock \
  --db app -c people --quiet > "$work/export.json" 2> "$work/export.err" \
  || { cat "$work/export.err"; fail "micromongo export in the container"; }
grep -q '"name": "Alice"' "$work/export.json" || { cat "$work/export.json"; fail "micromongo export output"; }
step "the micromongo tool runs inside the image"

# The data lives in the named volume: a restarted container finds it.
podman restart -t 10 "$server_ctr" > "$work/restart.log" 2>&1 || { cat "$work/restart.log"; fail "restart"; }
wait_healthy || fail "not healthy after the restart"
"${grpcurl[@]}" -d '{"database": "app", "collection": "people"}' \
  "localhost:$MICROMONGO_PORT" micromongo.v1.DataService/Count > "$work/count.json"
grep -q '"count": "1"' "$work/count.json" || { cat "$work/count.json"; fail "data lost in the restart"; }
host_client "$uri" > "$work/host2.log" 2>&1
grep -q "^visits: 3$" "$work/host2.log" || { cat "$work/host2.log"; fail "visits lost in the restart"; }
step "the restarted container kept its data"

"${compose[@]}" down -t 10 > "$work/down.log" 2>&1 || { cat "$work/down.log"; fail "compose down"; }
podman container exists "$server_ctr" && fail "the server container is still there after down"
step "ok"
