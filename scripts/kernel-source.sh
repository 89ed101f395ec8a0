#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of an unpacked Debian linux-source-6.1 tree, unpacking it
# into the cache on first use (checkpatch, the kselftest harness and the
# KUnit graft come from it). Installs the package when it is missing.
set -euo pipefail

cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
mkdir -p "$cache"
tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || "$(dirname "$0")/install-deps.sh" >&2
src=$cache/linux-source-6.1
if [ ! -f "$src/.unpacked" ]; then
	echo "unpacking $tarball into $cache" >&2
	rm -rf "$src"
	tar -C "$cache" -xf "$tarball"
	touch "$src/.unpacked"
fi
echo "$src"
