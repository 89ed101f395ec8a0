#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian package the build, the lint (with the docs'
# Sphinx), the KUnit graft and the test VM need. Needs root on Debian
# bookworm; does nothing when all are in.
set -euo pipefail

pkgs=(gcc make bc flex bison python3 kmod cpio gzip xz-utils sparse libelf-dev libssl-dev
      linux-headers-amd64 linux-source-6.1 qemu-system-x86 busybox-static rsync debootstrap
      python3-sphinx graphviz)
need=()
for p in "${pkgs[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${need[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${need[*]}" >&2
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
