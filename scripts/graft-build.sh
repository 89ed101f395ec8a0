#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the grafted sources inside an x86_64 kernel tree (Debian's
# linux-source-6.1, or with PVMM_LANE=6.12 Debian 13's linux-source-6.12
# with its compiler in the trixie root; x86_64_defconfig plus every pvmm
# option: the host
# modules as m, the guest halves built in), with W=1, sparse, and warnings as
# errors and sparse. This is the proof that the in-tree Kconfig and Kbuild work and
# that the guest halves build. Prints "graft-build: ok" on success.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
"$top/scripts/install-deps.sh" >&2
# shellcheck source=lane-tree.sh
. "$top/scripts/lane-tree.sh"
lane_tree "${PVMM_LANE:-6.1}" x86-build
[ -f "$out/.config" ] || kmake -s -C "$src_in" O="$out_in" x86_64_defconfig
"$src/scripts/config" --file "$out/.config" \
	-e HYPERVISOR_GUEST -e PARAVIRT -e PARAVIRT_SPINLOCKS -e VIRT_DRIVERS -e KUNIT \
	-m PVMM -m PVMM_CLOCK -m PVMM_BALLOON -m PVMM_SCHED -m PVMM_MMU -m PVMM_TEST_SERVICE \
	-e PVMM_KUNIT_TEST -e PVMM_CLOCK_GUEST -e PVMM_BALLOON_GUEST -e PVMM_SCHED_GUEST \
	-e PVMM_MMU_GUEST -e PVMM_MMU_GUEST_KUNIT_TEST
kmake -s -C "$src_in" O="$out_in" olddefconfig
for opt in PVMM PVMM_CLOCK PVMM_BALLOON PVMM_MMU PVMM_CLOCK_GUEST PVMM_BALLOON_GUEST \
	   PVMM_SCHED PVMM_SCHED_GUEST PVMM_MMU_GUEST PARAVIRT_SPINLOCKS PVMM_KUNIT_TEST \
	   PVMM_MMU_GUEST_KUNIT_TEST; do
	grep -qE "^CONFIG_$opt=[ym]" "$out/.config" || {
		echo "graft-build: CONFIG_$opt did not stick"; exit 1; }
done
kmake -s -C "$src_in" O="$out_in" -j"$(nproc)" prepare
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
kmake -C "$src_in" O="$out_in" -j"$(nproc)" W=1 C=2 KCFLAGS=-Werror \
	drivers/virt/pvmm/ >"$log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ] || grep -q 'warning:' "$log"; then
	grep -E 'warning:|error:' "$log" || tail -20 "$log"
	echo "graft-build: failed"
	exit 1
fi
grep -E ' (CC|AR|LD)' "$log" | sed 's/^/graft-build: /'
echo "graft-build: ok"
