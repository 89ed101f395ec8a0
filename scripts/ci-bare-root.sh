#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ci-bare-root.sh [DIR]: run .ci/run on a fresh clone of this repository's
# HEAD inside a bare Debian bookworm root (debootstrap --variant=minbase)
# that holds only what a new machine of this kind has: gcc, make, git,
# python3, bc, xz-utils, perl. It proves that CI installs everything else
# itself and relies on nothing installed by hand. Needs root and the
# Debian mirror this machine's apt uses; the cache starts empty, so the
# run downloads and builds everything (about half an hour on two cores).
# Prints .ci/run's output and exits with its status. DIR (default a new
# temporary directory) is removed afterwards unless PVMM_KEEP_ROOT=1.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "ci-bare-root: needs root" >&2; exit 1; }
dir=${1:-$(mktemp -d /var/tmp/pvmm-bare.XXXXXX)}
# shellcheck source=root-run.sh
. "$top/scripts/root-run.sh"

command -v debootstrap >/dev/null || {
	apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
}

cleanup() {
	for m in dev/pts dev/shm dev proc sys; do
		umount -l "$dir/$m" 2>/dev/null || true
	done
	[ "${PVMM_KEEP_ROOT:-0}" = 1 ] || rm -rf --one-file-system "$dir"
}
trap cleanup EXIT

debian_root bookworm "$dir" 2>&1 | sed 's/^/ci-bare-root: /' >&2
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
mount -t proc proc "$dir/proc"
mount -t sysfs sysfs "$dir/sys"
mount --bind /dev "$dir/dev"
mount -t devpts devpts "$dir/dev/pts" 2>/dev/null || true
mount -t tmpfs tmpfs "$dir/dev/shm" 2>/dev/null || true

# what a new machine of this kind has, and nothing more
chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive sh -c \
	'apt-get update -q >/dev/null &&
	 apt-get install -y -q --no-install-recommends gcc make git python3 bc \
		xz-utils perl ca-certificates >/dev/null'
git clone -q "$top" "$dir/root/pvmm"
git -C "$dir/root/pvmm" checkout -q "$(git -C "$top" rev-parse HEAD)"
echo "ci-bare-root: running .ci/run on $(git -C "$top" rev-parse --short HEAD)" >&2
set +e
chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TERM=dumb bash -c 'cd /root/pvmm && bash .ci/run'
rc=$?
set -e
echo "ci-bare-root: .ci/run exited $rc" >&2
exit $rc
