#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-source.sh [6.12]: print the path of an unpacked Debian
# linux-source-6.1 tree, unpacking it into the cache on first use
# (checkpatch, the kselftest harness and the KUnit graft come from it);
# installs the package when it is missing. With 6.12: Debian 13's
# linux-source-6.12, unpacked inside the trixie root (scripts/trixie.sh),
# where its compiler builds it; the path printed is the host's.
set -euo pipefail

cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
mkdir -p "$cache"
if [ "${1:-6.1}" = 6.12 ]; then
	root=$("$(dirname "$0")/trixie.sh" root)
	src=$root/build/linux-source-6.12
	if [ ! -f "$src/.unpacked" ]; then
		[ -f "$root/usr/src/linux-source-6.12.tar.xz" ] ||
			"$(dirname "$0")/trixie.sh" run sh -c \
				'apt-get install -y -q --no-install-recommends linux-source-6.12 >/dev/null' >&2
		echo "unpacking linux-source-6.12 into $root/build" >&2
		rm -rf "$src"
		mkdir -p "$root/build"
		tar -C "$root/build" -xf "$root/usr/src/linux-source-6.12.tar.xz"
		touch "$src/.unpacked"
	fi
	echo "$src"
	exit 0
fi
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
