#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh bookworm|trixie DEB OUT: install the pvmm-dkms package DEB
# in a bare Debian root of that release (debootstrap --variant=minbase)
# holding only the headers of the kernel its test VM boots, as an operator
# would, and check what it did: DKMS built and installed the five modules
# for that kernel, modprobe knows that pvmm_sched needs the hub, and
# removing the package takes the modules and the sources away. The
# modules it built, with their modules.dep, go to OUT for the test VM to
# load. Prints one TAP line per check and "dkms: N passed, N failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dist=${1:?usage: dkms-check.sh bookworm|trixie DEB OUT}
deb=$(readlink -f "${2:?}")
out=${3:?}
case $dist in
bookworm) kdir=$("$top/scripts/kdir.sh") ;;
trixie)	kdir=$("$top/scripts/trixie.sh" kdir) ;;
*)	echo "dkms-check: bookworm or trixie" >&2; exit 2 ;;
esac
kver=$(basename "$(readlink -f "$kdir")"); kver=${kver#linux-headers-}
mods="pvmm pvmm_balloon pvmm_clock pvmm_mmu pvmm_sched"
root=$(mktemp -d /var/tmp/pvmm-dkms-$dist.XXXXXX)
trap 'rm -rf --one-file-system "$root"' EXIT

pass=0 failed=0 n=0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n dkms $dist: $2"; pass=$((pass + 1))
	else
		echo "not ok $n dkms $dist: $2"; failed=$((failed + 1))
	fi
}
# shellcheck source=root-run.sh
. "$top/scripts/root-run.sh"
in_root() { root_run "$root" "$@"; }

debian_root "$dist" "$root" 2>&1 | sed 's/^/dkms-check: /' >&2
check "${PIPESTATUS[0]}" "a bare $dist root"
cp "$deb" "$root/tmp/"
# what an operator types: the kernel's headers and the package
in_root sh -c "apt-get update -q >/dev/null &&
	apt-get install -y -q linux-headers-$kver /tmp/$(basename "$deb")" >"$root/tmp/install.log" 2>&1
rc=$?
check $rc "apt-get install linux-headers-$kver $(basename "$deb")"
[ $rc -eq 0 ] || tail -n 20 "$root/tmp/install.log" >&2
in_root dkms status >"$root/tmp/status" 2>&1
grep -q "^pvmm/.*, $kver, .*: installed" "$root/tmp/status"
check $? "dkms status: installed for $kver ($(head -n1 "$root/tmp/status"))"
dir=$root/lib/modules/$kver/updates/dkms
found=$(cd "$dir" 2>/dev/null && ls | sed 's/\.ko\(\.xz\|\.zst\|\.gz\)\?$//' | sort | xargs)
[ "$found" = "$mods" ]
check $? "the modules in /lib/modules/$kver/updates/dkms: $found"
in_root modprobe -S "$kver" --show-depends pvmm_sched >"$root/tmp/deps" 2>&1
grep -q 'updates/dkms/pvmm\.ko' "$root/tmp/deps" &&
	grep -q 'updates/dkms/pvmm_sched\.ko' "$root/tmp/deps"
check $? "modprobe pvmm_sched needs the hub: $(grep -c insmod "$root/tmp/deps") insmods"

# the built modules, plain, and their dependencies, for the test VM
rm -rf "$out"
mkdir -p "$out"
for f in "$dir"/*; do
	case $f in
	*.xz)	xz -dc "$f" >"$out/$(basename "${f%.xz}")" ;;
	*.zst)	zstd -qdc "$f" >"$out/$(basename "${f%.zst}")" ;;
	*)	cp "$f" "$out/" ;;
	esac
done
sed 's/\.ko\.[a-z]*/.ko/g' "$root/lib/modules/$kver/modules.dep" >"$out/modules.dep"

in_root apt-get remove -y -q pvmm-dkms >"$root/tmp/remove.log" 2>&1
check $? "apt-get remove pvmm-dkms"
left=$(ls "$dir" 2>/dev/null | grep -c '^pvmm')
[ "$left" -eq 0 ] && [ ! -e "$root/usr/src/pvmm-0.1" ] && ! in_root dkms status 2>/dev/null | grep -q pvmm
check $? "removed: $left modules left, no sources, no dkms entry"
echo "dkms: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
