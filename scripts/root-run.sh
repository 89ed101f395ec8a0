# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the scripts that work in a Debian root (trixie.sh,
# dkms-check.sh). root_run ROOT CMD...: CMD in ROOT with proc, sys and dev
# mounted for it and unmounted after. Not a private mount namespace:
# inside a chroot (the bare-root check) / is no mount point, and
# unshare --propagation private fails there.
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
