#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the real guest's kernel from Debian's linux-source-6.1 (or with
# PVMM_GUEST_LANE=6.12, Debian 13's linux-source-6.12 with its own compiler
# in the trixie root) with the project grafted in: tinyconfig plus
# scripts/guest-kernel.config (every pvmm guest half, and KVM_GUEST for
# kvm-clock). The bzImage is cached by its inputs (the kernel, the
# fragment, the guest halves, the headers they use and the Kconfig): an
# unchanged input set costs nothing, a changed one an incremental build.
# Prints the bzImage's path.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
lane=${PVMM_GUEST_LANE:-6.1}
frag=$top/scripts/guest-kernel.config
key=$( (echo "$lane"; cd "$top" && cat "$frag" Kconfig Kbuild */guest/* include/pvmm/*.h \
	include/uapi/linux/*.h) | sha256sum | cut -c1-16)
img=$cache/guest-kernel-$lane-$key.bzImage
if [ -f "$img" ]; then
	echo "$img"
	exit 0
fi
# shellcheck source=lane-tree.sh
. "$top/scripts/lane-tree.sh"
lane_tree "$lane" guest-build
if [ ! -f "$out/.config" ] || ! cmp -s "$frag" "$out/.pvmm-fragment"; then
	kmake -s -C "$src_in" O="$out_in" ARCH=x86_64 tinyconfig >&2
	(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
		.config "$frag" >&2)
	kmake -s -C "$src_in" O="$out_in" olddefconfig >&2
	grep -E '^CONFIG_[A-Z0-9_]+=' "$frag" | while IFS== read -r opt val; do
		grep -qx "$opt=$val" "$out/.config" || {
			echo "guest-kernel: $opt=$val did not stick" >&2; exit 1; }
	done
	cp "$frag" "$out/.pvmm-fragment"
fi
kmake -s -C "$src_in" O="$out_in" -j"$(nproc)" bzImage >&2
rm -f "$cache"/guest-kernel-"$lane"-*.bzImage
cp "$out/arch/x86/boot/bzImage" "$img"
echo "$img"
