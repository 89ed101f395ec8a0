#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run-debug.sh [test|bench|demo|cmd]: vm-run.sh on the debug kernel of
# scripts/debug-kernel.sh (lockdep, KASAN, UBSAN, ...) instead of the Debian
# image, with the modules built against it. KASAN under TCG is several times
# slower: the default timeout is 5400 s. The kernel log and results are kept
# in PVMM_VM_LOGDIR (default $PVMM_CACHE/debug-logs).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
out=$("$top/scripts/debug-kernel.sh")
# objects of another kernel's build must not be reused
make -s -C "$top" KDIR="$out" clean >/dev/null 2>&1 || true
KDIR=$out PVMM_VM_KERNEL=$out/arch/x86/boot/bzImage \
PVMM_VM_TIMEOUT=${PVMM_VM_TIMEOUT:-5400} \
PVMM_VM_LOGDIR=${PVMM_VM_LOGDIR:-$cache/debug-logs} \
	exec "$top/scripts/vm-run.sh" "${1:-test}"
