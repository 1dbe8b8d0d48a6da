#!/usr/bin/env bash
# Makes the secrets docker-compose.yml mounts: a private certificate authority, a server
# certificate it signed for the compose service name (micromongo), localhost and 127.0.0.1,
# and a random access token.
#   docker/make-secrets.sh [DIR]        (default: docker/secrets)
# DIR is created 0700 (the files inside are readable by the container's unprivileged user,
# which bind-mounted secrets need; the directory keeps everyone else out). Existing files
# are kept: delete DIR to make new ones. Use certificates of your own CA in production.
set -euo pipefail
dir=${1:-"$(cd "$(dirname "$0")" && pwd)/secrets"}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 022
if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -keyout ca.key -out ca.pem -subj "/CN=micromongo compose CA" 2> /dev/null
  chmod 600 ca.key
fi
if [ ! -f server.pem ]; then
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout server.key -out server.csr -subj "/CN=micromongo" 2> /dev/null
  printf 'subjectAltName=DNS:micromongo,DNS:localhost,IP:127.0.0.1\n' > server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
    -extfile server.ext -out server.pem 2> /dev/null
  rm -f server.csr server.ext ca.srl
  # openssl writes keys 0600; the container's user (uid 10001) reads it through the bind
  # mount, and the 0700 directory keeps it private on the host.
  chmod 644 server.key
fi
[ -f token ] || openssl rand -hex 32 > token
echo "secrets in $dir: ca.pem server.pem server.key token"
