#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: a W=1 build with sparse (C=2) against 6.1 and against 6.12,
# checkpatch --strict over every C file and header, and the documentation
# through the kernel's own Sphinx build (scripts/docs.sh). Prints the
# findings; fails on any.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh >&2 || exit 1
ksrc=$(scripts/kernel-source.sh) || exit 1
kdir=$("$(dirname "$0")/kdir.sh")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail=0

make -C "$kdir" M="$PWD" clean >/dev/null
make -C "$kdir" M="$PWD" W=1 C=2 modules >"$log" 2>&1 || fail=1
if grep -E 'warning:|error:' "$log"; then
	fail=1
fi
[ $fail -eq 0 ] || { echo "lint: build with W=1 C=2 failed"; tail -20 "$log"; }

# the same against 6.12 LTS, with its compiler and sparse (a trixie root)
ko612=$(mktemp -d)
if ! scripts/trixie.sh modules "$ko612" W=1 C=2; then
	echo "lint: build against 6.12 with W=1 C=2 failed"
	fail=1
fi
rm -rf "$ko612"

# tracked files and new ones not yet added (but not ignored ones)
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find . -name '*.[ch]' -not -path './.git/*')
# shellcheck disable=SC2086
"$ksrc/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES -f $files >"$log" 2>&1
if grep -E 'ERROR|WARNING|CHECK' "$log"; then
	echo "lint: checkpatch --strict has findings"
	fail=1
fi
scripts/docs.sh || fail=1
[ $fail -eq 0 ] && echo "lint: clean (W=1, sparse, checkpatch --strict, docs)"
exit $fail
