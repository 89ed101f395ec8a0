#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# graft.sh KERNEL_TREE: copy the project's kernel sources into
# KERNEL_TREE/drivers/virt/pvmm/ and hook them into drivers/virt's
# Kconfig and Makefile. Idempotent.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tree=$1
dst=$tree/drivers/virt/pvmm
rm -rf "$dst"
mkdir -p "$dst"
cp -a "$top/Kbuild" "$top/Kconfig" "$top/include" "$dst/"
for d in pvmm mmu pvclock pvsched balloon; do
	[ -d "$top/$d" ] && cp -a "$top/$d" "$dst/"
done
# the selftests and their library where the kernel's runner finds them
rm -rf "$tree/tools/testing/selftests/pvmm" "$tree/tools/lib/pvmm"
cp -a "$top/selftests/pvmm" "$tree/tools/testing/selftests/pvmm"
mkdir -p "$tree/tools/lib"
cp -a "$top/tools/lib/pvmm" "$tree/tools/lib/pvmm"
# no binaries of an out-of-tree build
find "$tree/tools/testing/selftests/pvmm" -type f -perm -u+x -delete
# only sources: no objects from an out-of-tree build
find "$dst" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \
	-o -name modules.order \) -delete

# the documentation where the kernel's Sphinx build finds it; the ABI
# files in a folder of their own, so that one kernel-abi directive takes
# them all (and the admin-guide's ABI pages still do)
rm -rf "$tree/Documentation/pvmm" "$tree/Documentation/ABI/testing/pvmm"
cp -a "$top/Documentation/pvmm" "$tree/Documentation/pvmm"
cp -a "$top/Documentation/ABI/testing" "$tree/Documentation/ABI/testing/pvmm"

kconfig=$tree/drivers/virt/Kconfig
if ! grep -q 'drivers/virt/pvmm/Kconfig' "$kconfig"; then
	# before the closing "endif" of the VIRT_DRIVERS menu
	tac "$kconfig" | sed '0,/^endif/s//endif\n\nsource "drivers\/virt\/pvmm\/Kconfig"/' | tac >"$kconfig.new"
	mv "$kconfig.new" "$kconfig"
fi
mk=$tree/drivers/virt/Makefile
# host modules and guest halves each have their own option: always descend
sed -i '/pvmm\//d' "$mk"
printf 'obj-y\t\t\t\t+= pvmm/\n' >>"$mk"
