#!/usr/bin/env bash
# Installs the Debian 12 packages micro-mongo builds and tests with, and the test clients
# from npm. Idempotent: what is already present is skipped, and apt-get and npm run only
# when something is missing.
#
#   install-deps.sh            everything: build, tests, container tools (podman, ...)
#   install-deps.sh --build    only what building the server and client library needs
#                              (the Docker image's build stage)
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  libabsl-dev librocksdb-dev libbson-dev libpcre2-dev libicu-dev
  # Snowball stemmers for text search, Google's S2 for geometry on the sphere
  libstemmer-dev libs2-dev
  # the IANA time zone database the date operators read through Abseil ("Europe/Oslo")
  tzdata
  # gzip files of the micromongo tool (dump --gzip)
  zlib1g-dev
  # TLS and SCRAM-SHA-256 logins of the MongoDB wire protocol listener
  libssl-dev
  # tcmalloc, the worker's allocator
  libgoogle-perftools-dev
)
test_packages=(
  libgtest-dev libgmock-dev
  python3 python3-grpcio python3-grpc-tools python3-protobuf
  # tests/container_test.sh builds and runs the image without a Docker daemon or registry
  podman podman-compose runc debootstrap
  # the network stack whose DNS lets compose services reach each other by name (without
  # them apt satisfies podman's network dependency with CNI plugins that resolve no names)
  netavark aardvark-dns
  # netavark sets up the containers' network with iptables (a recommendation of podman's,
  # which --no-install-recommends leaves out: without it every RUN step of a build fails)
  iptables
  # the sanitizer and fuzzing build (scripts/sanitize.sh): clang, its ASan/UBSan/libFuzzer
  # runtimes, and llvm-symbolizer for readable reports
  clang libclang-rt-14-dev llvm
  # MongoDB's own C and Python drivers, for the wire protocol tests (tests/wire)
  libmongoc-dev python3-pymongo
  # certificates for the TLS tests (tests/security_test.cc) and docker/make-secrets.sh
  openssl
)

packages=("${build_packages[@]}")
case "${1:-}" in
  --build) ;;
  "") packages+=("${test_packages[@]}") ;;
  *) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The test clients from npm, at the versions their package-lock.json pins: MongoDB's
# Node.js driver (tests/wire/node) and shell (tests/wire/mongosh) for the wire protocol
# tests. They need Node.js 20.19 or newer (the machine's; Debian 12's own nodejs is 18).
if [ "${1:-}" != "--build" ]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  for pair in "tests/wire/node:mongodb" "tests/wire/mongosh:mongosh"; do
    dir="$root/${pair%%:*}"
    if [ ! -d "$dir/node_modules/${pair##*:}" ]; then
      if ! command -v npm > /dev/null; then
        echo "install-deps: npm is missing: install Node.js 20.19+ and npm" >&2
        exit 1
      fi
      echo "install-deps: npm ci in ${pair%%:*}"
      npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    fi
  done
fi
