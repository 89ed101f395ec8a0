#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a small x86_64 debug kernel from Debian's linux-source-6.1 (the
# cached, grafted tree): tinyconfig plus scripts/debug-kernel.config (what the
# test VM, the modules and the selftests need, and lockdep, PROVE_RCU,
# DEBUG_ATOMIC_SLEEP, DEBUG_PREEMPT, generic inline KASAN, UBSAN, DEBUG_LIST,
# DEBUG_VM, DEBUG_OBJECTS). CONFIG_PVMM=m only selects PREEMPT_NOTIFIERS and
# MMU_NOTIFIER, as KVM would; the modules are built out of tree against this
# build directory.
# Prints the build directory.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
src=$("$top/scripts/kernel-source.sh")
out=$cache/debug-build
frag=$top/scripts/debug-kernel.config
# this tree's sources and Kconfig (what CONFIG_PVMM selects) every time
"$top/scripts/graft.sh" "$src"

mkdir -p "$out"
if [ ! -f "$out/.config" ]; then
	make -s -C "$src" O="$out" ARCH=x86_64 tinyconfig >&2
	(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
		.config "$frag" >&2)
	make -s -C "$src" O="$out" olddefconfig >&2
	grep -E '^CONFIG_[A-Z0-9_]+=' "$frag" | while IFS== read -r opt val; do
		grep -qx "$opt=$val" "$out/.config" ||
			echo "debug-kernel: $opt=$val did not stick" >&2
	done
fi
make -s -C "$src" O="$out" olddefconfig >&2
make -s -C "$src" O="$out" -j"$(nproc)" >&2
echo "$out"
