#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-initramfs.sh OUT: the real guest's initramfs (busybox, its tests,
# selftests/pvmm/guest/init.sh as /init), gzipped into OUT.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
make -s -C "$top/selftests/pvmm/guest" >&2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp /bin/busybox "$root/bin/busybox"
cp "$top/selftests/pvmm/guest/guest_test" "$top/selftests/pvmm/guest/guest_mem_test" \
	"$top/selftests/pvmm/guest/guest_bench" "$root/bin/"
cp "$top/selftests/pvmm/guest/init.sh" "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
