#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-deb.sh [DIR]: build the pvmm-dkms package (debian/, dh_dkms) from
# the sources git has, into DIR (default the top directory), and print the
# .deb's path. Installing it builds and installs the modules for every
# kernel with headers; removing it takes them away.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "${1:-$top}" && pwd)
need=()
for p in build-essential debhelper dh-dkms dpkg-dev rsync; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "dkms-deb: needs root to install ${need[*]}" >&2; exit 1; }
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${need[@]}" >/dev/null
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/pvmm"
(cd "$top" && git ls-files --cached --others --exclude-standard) |
	rsync -a --files-from=- "$top/" "$stage/pvmm/"
(cd "$stage/pvmm" && dpkg-buildpackage -b -us -uc >&2)
deb=$(ls "$stage"/pvmm-dkms_*_all.deb)
cp "$deb" "$out/"
echo "$out/$(basename "$deb")"
