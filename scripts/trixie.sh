#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# trixie.sh root|kdir|run|modules|image: Debian 13's 6.12 LTS kernel for
# the second lane, from a Debian trixie root (debootstrap --variant=minbase,
# cached in PVMM_CACHE) so that its headers and its compiler (gcc 14) never
# touch the bookworm host.
#
#   root                 the root's path, made and filled on first use
#   kdir                 the 6.12 headers' build tree inside it
#   run CMD...           CMD in the root (proc, sys and dev mounted for it,
#                        scripts/root-run.sh)
#   modules DIR [ARGS]   build the modules against 6.12 with make ARGS
#                        (W=1 C=2 for the lint), fail on any warning,
#                        copy the .ko files into DIR
#   image                a directory with the matching linux-image-*-unsigned
#                        unpacked (its vmlinuz, its modules)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
root=$cache/root-trixie
pkgs="gcc make bc kmod sparse libelf-dev linux-headers-amd64 flex bison libssl-dev cpio xz-utils"

# shellcheck source=root-run.sh
. "$top/scripts/root-run.sh"
in_root() { root_run "$root" "$@"; }

make_root() {
	[ -f "$root/.pvmm-ready" ] && [ "$(cat "$root/.pvmm-ready")" = "$pkgs" ] && return 0
	[ "$(id -u)" -eq 0 ] || { echo "trixie: needs root to make $root" >&2; exit 1; }
	if [ ! -x "$root/usr/bin/apt-get" ]; then
		command -v debootstrap >/dev/null || "$top/scripts/install-deps.sh" >&2
		rm -rf --one-file-system "$root"
		debian_root trixie "$root" 2>&1 | sed 's/^/trixie: /' >&2
		[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
	else
		cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	fi
	echo "trixie: installing $pkgs" >&2
	# shellcheck disable=SC2086
	in_root sh -c "apt-get update -q >/dev/null &&
		apt-get install -y -q --no-install-recommends $pkgs >/dev/null" >&2
	echo "$pkgs" >"$root/.pvmm-ready"
}

kdir_in_root() {
	ls -d "$root"/usr/src/linux-headers-*-amd64 | sort -V | tail -n1 | sed "s|^$root||"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
root)
	make_root
	echo "$root"
	;;
kdir)
	make_root
	echo "$root$(kdir_in_root)"
	;;
run)
	make_root
	in_root "$@"
	;;
modules)
	out=${1:?usage: trixie.sh modules DIR [MAKE ARGS]}
	shift
	make_root
	# the sources as git has them, into the root: the 6.1 build's
	# objects in the tree stay where they are
	mkdir -p "$root/build/pvmm"
	(cd "$top" && git ls-files --cached --others --exclude-standard) |
		rsync -a --delete --files-from=- "$top/" "$root/build/pvmm/"
	kdir=$(kdir_in_root)
	log=$(mktemp)
	rc=0
	in_root make -C "$kdir" M=/build/pvmm clean >/dev/null
	in_root make -C "$kdir" M=/build/pvmm "$@" modules >"$log" 2>&1 || rc=1
	if grep -E 'warning:|error:' "$log"; then rc=1; fi
	[ $rc -eq 0 ] || { tail -n 20 "$log"; rm -f "$log"; exit 1; }
	rm -f "$log"
	mkdir -p "$out"
	find "$root/build/pvmm" -name '*.ko' -exec cp {} "$out/" \;
	;;
image)
	make_root
	kver=$(basename "$(kdir_in_root)"); kver=${kver#linux-headers-}
	img=$cache/image-$kver
	if [ ! -f "$img/boot/vmlinuz-$kver" ]; then
		echo "trixie: fetching linux-image-$kver-unsigned" >&2
		rm -rf "$root/tmp/dl" "$img"
		mkdir -p "$root/tmp/dl"
		in_root sh -c "cd /tmp/dl && apt-get download -q linux-image-$kver-unsigned" >&2
		dpkg -x "$root"/tmp/dl/linux-image-*.deb "$img"
		rm -rf "$root/tmp/dl"
	fi
	echo "$img"
	;;
*)
	echo "usage: $0 root|kdir|run CMD...|modules DIR [ARGS]|image" >&2
	exit 2
	;;
esac
