#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the real guest's kernel from Debian's linux-source-6.1 with the
# project grafted in: tinyconfig plus scripts/guest-kernel.config (every
# pvmm guest half, and KVM_GUEST for kvm-clock). The bzImage is cached by
# its inputs (the fragment, the guest halves, the headers they use and the
# Kconfig): an unchanged input set costs nothing, a changed one an
# incremental build. Prints the bzImage's path.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
frag=$top/scripts/guest-kernel.config
key=$(cd "$top" && cat "$frag" Kconfig Kbuild */guest/* include/pvmm/*.h \
	include/uapi/linux/*.h | sha256sum | cut -c1-16)
img=$cache/guest-kernel-$key.bzImage
if [ -f "$img" ]; then
	echo "$img"
	exit 0
fi
src=$("$top/scripts/kernel-source.sh")
out=$cache/guest-build
"$top/scripts/graft.sh" "$src"
mkdir -p "$out"
if [ ! -f "$out/.config" ] || ! cmp -s "$frag" "$out/.pvmm-fragment"; then
	make -s -C "$src" O="$out" ARCH=x86_64 tinyconfig >&2
	(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" \
		.config "$frag" >&2)
	make -s -C "$src" O="$out" olddefconfig >&2
	grep -E '^CONFIG_[A-Z0-9_]+=' "$frag" | while IFS== read -r opt val; do
		grep -qx "$opt=$val" "$out/.config" || {
			echo "guest-kernel: $opt=$val did not stick" >&2; exit 1; }
	done
	cp "$frag" "$out/.pvmm-fragment"
fi
make -s -C "$src" O="$out" -j"$(nproc)" bzImage >&2
rm -f "$cache"/guest-kernel-*.bzImage
cp "$out/arch/x86/boot/bzImage" "$img"
echo "$img"
