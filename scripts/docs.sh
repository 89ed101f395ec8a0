#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make docs (and part of make lint): Documentation/pvmm as the kernel
# builds it. The project is grafted into Debian's 6.1 tree and the
# kernel's own "make htmldocs SPHINXDIRS=pvmm" runs: its conf.py, its
# Sphinx extensions, kernel-doc for the kernel-doc:: directives and
# get_abi.pl for the sysfs ABI. HTML in $PVMM_CACHE/docs/Documentation/
# output/pvmm/. Prints every warning; fails on any.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
"$top/scripts/install-deps.sh" >&2
src=$("$top/scripts/kernel-source.sh")
"$top/scripts/graft.sh" "$src"

# get_abi.pl skips every file whose path holds "/." (as ~/.cache does),
# and the kernel takes srctree from the real path of its Makefile: so
# make runs in a tree of links with a path free of dots and a copy of the
# Makefile.
farm=$(mktemp -d /tmp/pvmm-docs-XXXXXX)
log=$(mktemp)
trap 'rm -rf "$farm" "$log"' EXIT
for e in "$src"/*; do
	if [ "${e##*/}" = Makefile ]; then
		cp "$e" "$farm/"
	else
		ln -s "$e" "$farm/"
	fi
done
out=$cache/docs
rm -rf "$out"
mkdir -p "$out"

rc=0
make -s -C "$farm" O="$out" htmldocs SPHINXDIRS=pvmm >"$log" 2>&1 || rc=1
# the media API's header copies print their commands; the theme and the
# source folder are its two lines of news; anything else is a finding
if grep -vE '/parse-headers\.pl |^Using [a-z_]+ theme$|^source directory: pvmm$' "$log"; then
	rc=1
fi
html=$out/Documentation/output/pvmm
for page in index api sysfs-abi; do
	[ -s "$html/$page.html" ] || { echo "docs: no $page.html"; rc=1; }
done
# kernel-doc and get_abi.pl fail quietly on a path they skip: their
# pages must hold what they pull in
grep -q 'pvmm_gpage_begin' "$html/api.html" 2>/dev/null ||
	{ echo "docs: api.html lacks the kernel-doc of the hub's exports"; rc=1; }
grep -q 'max_vcpus_per_user' "$html/sysfs-abi.html" 2>/dev/null ||
	{ echo "docs: sysfs-abi.html lacks the ABI entries"; rc=1; }
if [ $rc -eq 0 ]; then
	echo "docs: clean (make htmldocs SPHINXDIRS=pvmm, Linux 6.1, Sphinx $(sphinx-build --version | cut -d' ' -f2))"
else
	echo "docs: make htmldocs SPHINXDIRS=pvmm has findings"
fi
exit $rc
