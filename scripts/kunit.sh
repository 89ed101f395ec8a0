#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Graft the project into a cached Debian linux-source-6.1 tree as
# drivers/virt/pvmm/ and run its KUnit suites with kunit.py (UML). The
# graft is also the check that the in-tree Kconfig and Kbuild work.
# Prints kunit.py's results, then "kunit: N passed, N failed, N skipped"
# from kunit.py's exit status and JSON results.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
"$top/scripts/install-deps.sh" >&2
src=$("$top/scripts/kernel-source.sh")

"$top/scripts/graft.sh" "$src"

json=$(mktemp)
trap 'rm -f "$json"' EXIT
set +e
(cd "$src" && python3 tools/testing/kunit/kunit.py run \
	--kunitconfig="$top/.kunitconfig" --build_dir="$cache/kunit-build" \
	--jobs="$(nproc)" --timeout=600 --json="$json") 2>&1
rc=$?
set -e

# kunit.py's JSON (KernelCI's format): every case of every suite, by status.
read -r pass failed skipped < <(python3 - "$json" <<'PY'
import json, sys
count = {"PASS": 0, "FAIL": 0, "SKIP": 0}
def walk(g):
    for c in g.get("test_cases", []):
        s = c.get("status", "FAIL")
        count[s if s in count else "FAIL"] += 1
    for sub in g.get("sub_groups", []):
        walk(sub)
try:
    walk(json.load(open(sys.argv[1])))
except (OSError, ValueError):
    pass
print(count["PASS"], count["FAIL"], count["SKIP"])
PY
)
if [ "$pass" -eq 0 ]; then
	echo "kunit: no results (kunit.py exit $rc)"
	failed=$((failed + 1))
elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "kunit: kunit.py exit $rc with no failed case: counted as one failure"
	failed=1
fi
echo "kunit: $pass passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
