#!/bin/bash
# SPDX-License-Identifier: MIT
# Quick start, step 1: install what vnetfs needs (Debian 12), build it,
# install the binary and mount the tree at /mnt/vnet (state in
# /var/lib/vnetfs). The daemon builds its bridges in the current network
# namespace, as a real deployment does; pass --netns NAME through
# VNETFS_ARGS="--netns vnet" to keep them in a namespace of their own.
set -euo pipefail
cd "$(dirname "$0")/.."

MNT=${MNT:-/mnt/vnet}
STATE=${STATE:-/var/lib/vnetfs}

if [ "$(id -u)" != 0 ]; then
	echo "contrib/install.sh: run as root (sudo)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
# wait (up to 10 minutes) for another apt or dpkg instead of failing
apt-get -o DPkg::Lock::Timeout=600 update
grep -v '^#' contrib/packages.txt | xargs apt-get -o DPkg::Lock::Timeout=600 install -y

[ -f build-release/build.ninja ] || meson setup build-release --buildtype=release --prefix=/usr/local
ninja -C build-release
ninja -C build-release install

mkdir -p "$MNT" "$STATE"
if mountpoint -q "$MNT"; then
	echo "$MNT is already mounted"
else
	# shellcheck disable=SC2086
	/usr/local/bin/vnetfs --state "$STATE" ${VNETFS_ARGS:-} -o allow_other "$MNT"
	for _ in $(seq 50); do mountpoint -q "$MNT" && break; sleep 0.1; done
fi
echo "vnetfs is mounted on $MNT:"
ls "$MNT"
