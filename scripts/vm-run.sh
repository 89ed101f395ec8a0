#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh test|bench|demo|cmd: build the modules and the static test
# programs, boot the Debian kernel that matches the installed headers under
# qemu TCG with a busybox initramfs, load the modules and run the mode's
# programs there.
#
# test:  every selftest; prints each TAP result, then
#        "kselftest: N passed, N failed". Fails on any failed or missing
#        result, and on any WARNING, BUG, Oops, lockdep or hung-task report
#        in the kernel log.
# bench: the benchmarks; prints their "bench:" lines.
# demo:  the demonstration program, then the hub's debugfs.
# cmd:   the shell commands in PVMM_VM_CMD (busybox sh), for diagnostics.
#
# Environment: KDIR (headers), PVMM_VM_KERNEL (a bzImage to boot instead of
# the Debian image; KDIR must then be its build tree), PVMM_CACHE (default
# ~/.cache/pvmm),
# PVMM_VM_TIMEOUT (seconds, default 1500), PVMM_VM_SMP (default 4),
# PVMM_VM_APPEND (more kernel command line), PVMM_VM_LOGDIR (keep logs).
set -euo pipefail

mode=${1:-test}
case $mode in test|bench|demo|cmd) ;; *) echo "usage: $0 test|bench|demo|cmd" >&2; exit 2;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
timeout_s=${PVMM_VM_TIMEOUT:-1500}
smp=${PVMM_VM_SMP:-4}
mkdir -p "$cache"

"$top/scripts/install-deps.sh" >&2

kdir=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -n1)}
kver=$(basename "$(readlink -f "$kdir")"); kver=${kver#linux-headers-}
img=$cache/image-$kver
vmlinuz=${PVMM_VM_KERNEL:-$img/boot/vmlinuz-$kver}
if [ -n "${PVMM_VM_KERNEL:-}" ]; then
	kver=$(cat "$kdir/include/config/kernel.release")
elif [ ! -f "$vmlinuz" ]; then
	echo "vm-run: fetching linux-image-$kver-unsigned" >&2
	dl=$(mktemp -d)
	(cd "$dl" && apt-get download -q "linux-image-$kver-unsigned" >&2)
	rm -rf "$img"
	dpkg -x "$dl"/linux-image-"$kver"-unsigned_*.deb "$img"
	rm -rf "$dl"
fi

echo "vm-run: building modules and test programs against $kver" >&2
make -s -C "$top" KDIR="$kdir" modules >&2
make -s -C "$top/selftests/pvmm" >&2
make -s -C "$top/tools" >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/pvmm,tests}
cp /bin/busybox "$root/bin/busybox"
find "$top" -name '*.ko' -not -path '*/.git/*' -exec cp {} "$root/lib/pvmm/" \;
cp "$top"/selftests/pvmm/*_test "$top"/selftests/pvmm/*_bench "$root/tests/"
cp "$top/tools/pvmm_demo" "$top/tools/pvmmctl" "$root/bin/"
cp "$top/scripts/vm-init.sh" "$root/init"
printf '%s\n' "${PVMM_VM_CMD:-true}" >"$root/cmd.sh"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"

# isolcpus=3: CPU 3 stays out of the kernel's load balancing, as CPUs
# reserved for guests often are; the placement tests and benchmark need
# such a CPU (a thread stays where it is put there), the rest uses 0-2.
# tsc=reliable: TCG's TSC is one counter shared by all vCPUs (no warp in
# millions of cross-CPU reads), but its timing fails the kernel's boot-time
# sync check, which would leave the VM on the HPET with a slow vDSO.
console=$work/console.log
results=$work/results.log
echo "vm-run: booting $kver under TCG (-smp $smp), mode $mode" >&2
set +e
timeout --foreground "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max \
	-smp "$smp" -m 2048 -display none -no-reboot -monitor none \
	-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 tsc=reliable isolcpus=3 loglevel=5 panic=-1 oops=panic sysctl.kernel.hung_task_timeout_secs=60 pvmm_mode=$mode ${PVMM_VM_APPEND:-}" \
	-serial "file:$console" -serial "file:$results" </dev/null
qrc=$?
set -e
# The serial port ends lines with CR LF.
sed -i 's/\r$//' "$console" "$results"
if [ -n "${PVMM_VM_LOGDIR:-}" ]; then
	mkdir -p "$PVMM_VM_LOGDIR"
	cp "$console" "$results" "$PVMM_VM_LOGDIR/"
fi

fail=0
if [ $qrc -ne 0 ]; then
	echo "vm-run: qemu exited with $qrc (124: timed out after ${timeout_s}s)"
	fail=1
fi
if ! grep -q '^PVMM-DONE' "$results"; then
	echo "vm-run: the VM did not finish its run"
	fail=1
fi
if grep -nE 'WARNING:|BUG:|ODEBUG:|Oops|general protection|Call Trace|lockdep|possible circular|INFO: task .* blocked|hung_task|list_del corruption|refcount_t:|UBSAN|Kernel panic' "$console"; then
	echo "vm-run: the kernel log has error reports (above)"
	fail=1
fi

case $mode in
test)
	# kselftest harness TAP: top-level "ok N name" / "not ok N name"
	grep -vE '^#\s+(OK|RUN) |^(TAP version|1\.\.)|^PVMM-' "$results" || true
	pass=$(grep -cE '^ok [0-9]+ ' "$results" || true)
	failed=$(grep -cE '^not ok [0-9]+ ' "$results" || true)
	planned=$(grep -E '^1\.\.[0-9]+' "$results" | sed 's/^1\.\.//' | paste -sd+ | bc)
	missing=$(( ${planned:-0} - pass - failed ))
	if [ "$missing" -gt 0 ]; then
		echo "vm-run: $missing planned test(s) reported no result"
		failed=$((failed + missing))
	fi
	[ "$failed" -eq 0 ] || fail=1
	[ "$pass" -gt 0 ] || fail=1
	echo "kselftest: $pass passed, $failed failed"
	;;
bench)
	grep -E '^(bench:|# )' "$results" || true
	grep -q '^bench:' "$results" || fail=1
	;;
demo|cmd)
	sed -n '/^PVMM-OUT-BEGIN/,/^PVMM-OUT-END/p' "$results" | sed '1d;$d'
	;;
esac
if [ $fail -ne 0 ]; then
	echo "vm-run: FAILED; last kernel log lines:"
	tail -n 40 "$console"
fi
exit $fail
