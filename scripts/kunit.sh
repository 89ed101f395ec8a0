#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Graft the project into a cached Debian linux-source-6.1 tree as
# drivers/virt/pvmm/ and run its KUnit suites with kunit.py (UML). The
# graft is also the check that the in-tree Kconfig and Kbuild work.
# Prints kunit.py's results, then "kunit: N passed, N failed".
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
"$top/scripts/install-deps.sh" >&2
src=$("$top/scripts/kernel-source.sh")

"$top/scripts/graft.sh" "$src"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
(cd "$src" && python3 tools/testing/kunit/kunit.py run \
	--kunitconfig="$top/.kunitconfig" --build_dir="$cache/kunit-build" \
	--jobs="$(nproc)" --timeout=600) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

# "Testing complete. Ran N tests: passed: P, failed: F, ..."
line=$(grep -E 'Testing complete\. Ran [0-9]+ tests' "$log" | tail -n1)
pass=$(sed -nE 's/.*passed: ([0-9]+).*/\1/p' <<<"$line")
failed=$(sed -nE 's/.*failed: ([0-9]+).*/\1/p' <<<"$line")
crashed=$(sed -nE 's/.*crashed: ([0-9]+).*/\1/p' <<<"$line")
pass=${pass:-0}
failed=$(( ${failed:-0} + ${crashed:-0} ))
if [ -z "$line" ] || [ "$pass" -eq 0 ]; then
	echo "kunit: no results (kunit.py exit $rc)"
	failed=$((failed + 1))
fi
echo "kunit: $pass passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
