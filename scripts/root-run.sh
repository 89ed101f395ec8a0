# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the scripts that work in a Debian root (trixie.sh,
# dkms-check.sh, ci-bare-root.sh).
#
# debian_root DIST ROOT: a bare root of DIST (debootstrap --variant=minbase)
# in ROOT, from the Debian mirror this machine's apt uses; a bookworm root
# gets this machine's package sources, security updates included.
debian_root() {
	local dist=$1 r=$2 mirror
	mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		 grep -v security | head -n1)
	mirror=${mirror:-http://deb.debian.org/debian}
	echo "debootstrap $dist into $r from $mirror" >&2
	debootstrap --variant=minbase "$dist" "$r" "$mirror" >/dev/null || return
	if [ "$dist" = bookworm ]; then
		rm -f "$r/etc/apt/sources.list"
		cp /etc/apt/sources.list.d/*.sources "$r/etc/apt/sources.list.d/" 2>/dev/null ||
			echo "deb $mirror bookworm main" >"$r/etc/apt/sources.list"
	fi
	cp /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null || true
}

# root_run ROOT CMD...: CMD in ROOT with proc, sys and dev mounted for it
# and unmounted after. Not a private mount namespace: inside a chroot (the
# bare-root check) / is no mount point, and unshare --propagation private
# fails there.
root_run() {
	local r=$1 rc=0
	shift
	mountpoint -q "$r/proc" || mount -t proc proc "$r/proc"
	mountpoint -q "$r/sys" || mount -t sysfs sysfs "$r/sys"
	mountpoint -q "$r/dev" || mount --bind /dev "$r/dev"
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root DEBIAN_FRONTEND=noninteractive "$@" || rc=$?
	umount -l "$r/dev" "$r/sys" "$r/proc" 2>/dev/null || true
	return $rc
}
