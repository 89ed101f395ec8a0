#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The project's test command (make test): lint, the x86_64 graft builds
# (6.1 and 6.12), the KUnit suites under UML, the kselftests with the real
# guest in a test VM of each kernel (Debian 12's 6.1, Debian 13's 6.12
# LTS), and the debug lane (the kselftests and the fuzzer on a 6.1
# lockdep/KASAN/UBSAN kernel).
# Before the VM lanes, the pvmm-dkms package is installed and removed in a
# bare bookworm and a bare trixie root, and each lane's test VM loads the
# modules DKMS built in its root.
# Ends with "N passed, N failed" over all KUnit, package, kselftest and
# fuzzer cases; exits non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/install-deps.sh" || exit 1
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
rc=0
# Each VM lane's kernel log and results of the last run stay here, so that
# a failed run can be read after it ends.
keep=${PVMM_CACHE:-$HOME/.cache/pvmm}/logs

echo "=== lint (W=1, sparse, checkpatch --strict)"
"$top/scripts/lint.sh" >"$logs/lint" 2>&1 || rc=1
grep -vE '^\s+(CC|LD|CHECK|BTF|MODPOST)|^Skipping|^make' "$logs/lint"

for lane in 6.1 6.12; do
	echo "=== graft build (x86_64 $lane tree: host modules and guest halves)"
	PVMM_LANE=$lane "$top/scripts/graft-build.sh" >"$logs/graft" 2>&1 || rc=1
	grep -vE '^graft-build:   ' "$logs/graft" | tail -n 20
done

# The pvmm-dkms package, installed as an operator installs it in a bare
# root of each Debian release; each lane's test VM then loads the modules
# DKMS built there (PVMM_VM_MODULES), with modprobe.
echo "=== the pvmm-dkms package (bare bookworm and trixie roots)"
pkg=$logs/pkg
mkdir -p "$pkg"
deb=$("$top/scripts/dkms-deb.sh" "$pkg" 2>"$logs/dkms-deb") ||
	{ tail -n 20 "$logs/dkms-deb"; deb=; rc=1; }
for dist in bookworm trixie; do
	if [ -n "$deb" ]; then
		"$top/scripts/dkms-check.sh" $dist "$deb" "$pkg/$dist" 2>&1 |
			tee "$logs/dkms-$dist"
		[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	fi
done
# a lane whose package did not build loads the modules it builds itself
pkgmods() { [ -f "$pkg/$1/modules.dep" ] && echo "$pkg/$1"; }

echo "=== KUnit (UML, grafted tree)"
"$top/scripts/kunit.sh" 2>&1 | tee "$logs/kunit" | grep -E '^\[.*\] (\[|=|Testing)|^kunit:'
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1

echo "=== kselftests (test VM, Debian 12's 6.1; KVM and the real guest's kernel 6.1)"
PVMM_VM_LOGDIR=$keep/6.1 PVMM_VM_MODULES=$(pkgmods bookworm) \
	"$top/scripts/vm-run.sh" test 2>&1 | tee "$logs/vm"
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1

echo "=== kselftests (test VM, Debian 13's 6.12 LTS and its KVM; the real guest's kernel 6.12)"
PVMM_LANE=6.12 PVMM_VM_LOGDIR=$keep/6.12 PVMM_VM_MODULES=$(pkgmods trixie) \
	"$top/scripts/vm-run.sh" test 2>&1 |
	tee "$logs/vm-6.12"
[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1

# The debug lane: the same kselftests, then the fuzzer for
# PVMM_FUZZ_SECONDS (default 300, at least 10^6 operations), on a kernel
# with lockdep, KASAN, UBSAN and DEBUG_OBJECTS; any report fails it.
# PVMM_DEBUG_LANE=0 skips it (a quick local run).
if [ "${PVMM_DEBUG_LANE:-1}" != 0 ]; then
	echo "=== kselftests and fuzzer on the debug kernel (lockdep, KASAN, UBSAN, DEBUG_OBJECTS)"
	PVMM_VM_LOGDIR=$keep/debug \
	PVMM_VM_APPEND="pvmm_fuzz=${PVMM_FUZZ_SECONDS:-300} pvmm_fuzz_seed=${PVMM_FUZZ_SEED:-1} ${PVMM_VM_APPEND:-}" \
		"$top/scripts/vm-run-debug.sh" test 2>&1 | tee "$logs/vm-debug"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
fi

count() { sed -nE "s/^$1: ([0-9]+) passed, ([0-9]+) failed.*/\\$2/p" "$3" | tail -n1; }
kp=$(count kunit 1 "$logs/kunit"); kf=$(count kunit 2 "$logs/kunit")
sp=$(count kselftest 1 "$logs/vm"); sf=$(count kselftest 2 "$logs/vm")
# a suite that printed no count failed as a whole
[ -n "$kp" ] || { kp=0; kf=$(( ${kf:-0} + 1 )); rc=1; }
[ -n "$sp" ] || { sp=0; sf=$(( ${sf:-0} + 1 )); rc=1; }
# the package checks count as cases too; a root that printed no count
# failed as a whole
for dist in bookworm trixie; do
	pp=$(count dkms 1 "$logs/dkms-$dist" 2>/dev/null)
	pf=$(count dkms 2 "$logs/dkms-$dist" 2>/dev/null)
	[ -n "$pp" ] || { pp=0; pf=$(( ${pf:-0} + 1 )); rc=1; }
	sp=$((sp + pp)); sf=$((sf + pf))
done
tp=$(count kselftest 1 "$logs/vm-6.12"); tf=$(count kselftest 2 "$logs/vm-6.12")
[ -n "$tp" ] || { tp=0; tf=$(( ${tf:-0} + 1 )); rc=1; }
sp=$((sp + tp)); sf=$((sf + tf))
if [ "${PVMM_DEBUG_LANE:-1}" != 0 ]; then
	dp=$(count kselftest 1 "$logs/vm-debug"); df=$(count kselftest 2 "$logs/vm-debug")
	[ -n "$dp" ] || { dp=0; df=$(( ${df:-0} + 1 )); rc=1; }
	sp=$((sp + dp)); sf=$((sf + df))
fi
skips() { sed -nE 's/^(kselftest|kunit): .*, ([0-9]+) skipped$/\2/p' "$1" 2>/dev/null | tail -n1; }
ss=$(( $(skips "$logs/kunit" || true) + $(skips "$logs/vm" || true) + \
	$(skips "$logs/vm-6.12" || true) + 0 ))
[ "${PVMM_DEBUG_LANE:-1}" = 0 ] || ss=$(( ss + $(skips "$logs/vm-debug" || true) + 0 ))
# The failures again, each with its assertion messages, where the end of
# a long log shows them.
[ $rc -eq 0 ] || for f in kunit dkms-bookworm dkms-trixie vm vm-6.12 vm-debug; do
	[ -f "$logs/$f" ] || continue
	grep -E '^vm-run: (failed: |[0-9]+ |qemu exited|the VM did not finish|the kernel log has|the last test)|^not ok [0-9]+ dkms|^\[.*\] \[FAILED\]' "$logs/$f" |
		sed "s|^|failures ($f): |"
	sed -nE 's/^vm-run: failed: (# )?not ok [0-9]+ [^ ]*\.([a-z0-9_]+)$/\2/p' "$logs/$f" |
		sort -u | while read -r name; do
			grep -E "^(# )+[a-z_]+\.c:[0-9]+:$name:" "$logs/$f" |
				sed "s|^|failures ($f): |"
		done
done
[ $rc -eq 0 ] || echo "the VM lanes' logs: $keep/{6.1,6.12,debug}"
echo "$((kp + sp)) passed, $((kf + sf)) failed, $ss skipped"
exit $rc
