#!/bin/sh
# Builds the image localhost/debian:12 (also tagged docker.io/library/debian:12 and
# :bookworm) from Debian's mirror with debootstrap, so that `FROM debian:12` builds without
# a registry. The same apt/dpkg settings as Debian's official image.
set -eu
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
WORK=$(mktemp -d /var/tmp/debian12-rootfs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
R=$WORK/rootfs
debootstrap --variant=minbase bookworm "$R" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 || {
  tail -20 "$WORK/debootstrap.log" >&2
  exit 1
}
rm -f "$R/etc/apt/sources.list"
cat > "$R/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
# The host's apt proxy settings, if any.
grep -lis 'proxy' /etc/apt/apt.conf.d/* 2>/dev/null | while read -r f; do cp "$f" "$R/etc/apt/apt.conf.d/"; done
printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' > "$R/etc/apt/apt.conf.d/docker-clean"
echo 'Acquire::GzipIndexes "true";' > "$R/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Acquire::Languages "none";' > "$R/etc/apt/apt.conf.d/docker-no-languages"
echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$R/etc/apt/apt.conf.d/docker-autoremove-suggests"
echo 'force-unsafe-io' > "$R/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
chroot "$R" apt-get clean
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/log/apt/* "$R"/var/log/*.log
: > "$R/etc/resolv.conf"
echo debian > "$R/etc/hostname"
tar --numeric-owner -C "$R" -c . | podman import --change 'CMD ["bash"]' - localhost/debian:12 > /dev/null
podman tag localhost/debian:12 docker.io/library/debian:12 docker.io/library/debian:bookworm
