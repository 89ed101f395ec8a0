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
# demo:  the demonstration program, with pvmmctl on the sysfs tree.
# cmd:   the shell commands in PVMM_VM_CMD (busybox sh), for diagnostics.
#
# A VM stuck without a result for PVMM_VM_STALL seconds is stopped; the
# output then says where each vCPU was (scripts/vm-stuck.py). On any
# failure the output ends with the kernel's first error report and last
# lines, the test running then and the failed tests.
#
# Environment: KDIR (headers), PVMM_VM_KERNEL (a bzImage to boot instead of
# the Debian image; KDIR must then be its build tree), PVMM_CACHE (default
# ~/.cache/pvmm),
# PVMM_VM_TIMEOUT (seconds, default 1500), PVMM_VM_STALL (seconds without
# a result line after which the VM counts as stuck, default 420),
# PVMM_VM_BOOT_STALL (seconds to reach user space, else one more boot,
# default 180),
# PVMM_VM_SMP (default 4),
# PVMM_VM_APPEND (more kernel command line), PVMM_VM_LOGDIR (keep logs),
# PVMM_LANE (6.1, the default: the host's headers and Debian 12's image; 6.12:
# Debian 13's headers, compiler and image from scripts/trixie.sh),
# PVMM_GUEST_LANE (the real guest's kernel: 6.1 or 6.12, default the lane's),
# PVMM_GUEST_KERNEL (a guest bzImage to boot instead),
# PVMM_VM_MODULES (the pvmm-dkms package's modules for this kernel, from
# scripts/dkms-check.sh: loaded with modprobe instead).
set -euo pipefail

mode=${1:-test}
case $mode in test|bench|demo|cmd) ;; *) echo "usage: $0 test|bench|demo|cmd" >&2; exit 2;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PVMM_CACHE:-$HOME/.cache/pvmm}
timeout_s=${PVMM_VM_TIMEOUT:-1500}
stall_s=${PVMM_VM_STALL:-420}
boot_s=${PVMM_VM_BOOT_STALL:-180}
smp=${PVMM_VM_SMP:-4}
mkdir -p "$cache"

"$top/scripts/install-deps.sh" >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The lane: Debian 12's 6.1 (the host's headers and compiler) or Debian
# 13's 6.12 LTS (both from a trixie root, scripts/trixie.sh).
lane=${PVMM_LANE:-6.1}
case $lane in
6.1)	kdir=$("$top/scripts/kdir.sh") ;;
6.12)	kdir=$("$top/scripts/trixie.sh" kdir) ;;
*)	echo "vm-run: PVMM_LANE is 6.1 or 6.12" >&2; exit 2 ;;
esac
kver=$(basename "$(readlink -f "$kdir")"); kver=${kver#linux-headers-}
img=$cache/image-$kver
[ "$lane" = 6.1 ] || img=$("$top/scripts/trixie.sh" image)
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
mkdir -p "$work/ko"
if [ "$lane" = 6.1 ]; then
	make -s -C "$top" KDIR="$kdir" modules >&2
	find "$top" -name '*.ko' -not -path '*/.git/*' -exec cp {} "$work/ko/" \;
else
	"$top/scripts/trixie.sh" modules "$work/ko" >&2
fi
make -s -C "$top/tools" >&2
# The kselftests as the kernel builds and installs them, from the grafted
# tree: run_kselftest.sh, kselftest-list.txt and pvmm/ with the programs.
src=$("$top/scripts/kernel-source.sh")
"$top/scripts/graft.sh" "$src"
ksft=$cache/kselftest-install
rm -rf "$ksft"
make -s -C "$src/tools/testing/selftests" TARGETS=pvmm \
	INSTALL_PATH="$ksft" install >&2

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/pvmm}
# The real guest (not the debug kernel's lane: it has no KVM): its
# kernel (built once per set of inputs), its initramfs, the Debian
# image's KVM modules for this VM and the reference VMM.
if [ -z "${PVMM_VM_KERNEL:-}" ] && [ "${PVMM_GUEST:-1}" != 0 ]; then
	echo "vm-run: the real guest's kernel and initramfs" >&2
	mkdir -p "$root/guest" "$root/lib/kvm"
	# The lane's own guest kernel unless told otherwise (PVMM_GUEST_LANE)
	cp "${PVMM_GUEST_KERNEL:-$(PVMM_GUEST_LANE=${PVMM_GUEST_LANE:-$lane} \
		"$top/scripts/guest-kernel.sh")}" "$root/guest/bzImage"
	"$top/scripts/guest-initramfs.sh" "$root/guest/initrd.gz"
	# Debian 13 keeps its modules in /usr/lib and xz-compressed
	kmods=$img/lib/modules/$kver/kernel
	[ -d "$kmods" ] || kmods=$img/usr/lib/modules/$kver/kernel
	for m in virt/lib/irqbypass drivers/crypto/ccp/ccp arch/x86/kvm/kvm \
		 arch/x86/kvm/kvm-amd; do
		if [ -f "$kmods/$m.ko" ]; then
			cp "$kmods/$m.ko" "$root/lib/kvm/"
		else
			xz -dc "$kmods/$m.ko.xz" >"$root/lib/kvm/$(basename "$m").ko"
		fi
	done
fi
cp /bin/busybox "$root/bin/busybox"
cp "$work"/ko/*.ko "$root/lib/pvmm/"
# The package's modules instead, as DKMS built them for this kernel: the
# test VM loads those with modprobe (PVMM_VM_MODULES, from dkms-check.sh).
# Their build IDs (the ELF note's bytes, as the kernel shows them in
# /sys/module/*/notes) let the VM check that what loads is what DKMS built.
if [ -n "${PVMM_VM_MODULES:-}" ]; then
	mkdir -p "$root/lib/modules/$kver/updates/dkms"
	cp "$PVMM_VM_MODULES"/*.ko "$root/lib/modules/$kver/updates/dkms/"
	cp "$PVMM_VM_MODULES/modules.dep" "$root/lib/modules/$kver/"
	for f in "$PVMM_VM_MODULES"/*.ko; do
		objcopy -O binary --only-section=.note.gnu.build-id "$f" "$work/note"
		echo "$(basename "$f" .ko) $(od -An -tx1 "$work/note" | tr -d ' \n')"
	done >"$root/lib/pvmm/package.build-id"
fi
cp -a "$ksft" "$root/kselftest"
cp "$top/tools/pvmm_demo" "$top/tools/pvmmctl" "$top/tools/pvmm_run" "$ksft/pvmm/pvmm_fuzz" \
	"$ksft/pvmm/pvmm_as_user" "$ksft/pvmm/kvm_keys_hold" "$root/bin/"
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
# nokaslr: the kernel's addresses are System.map's, for vm-stuck.py.
console=$work/console.log
results=$work/results.log
diag=$work/diag.log
mon=$work/monitor.sock
echo "vm-run: booting $kver under TCG (-smp $smp), mode $mode" >&2
set +e
vm() {
	exec qemu-system-x86_64 -accel tcg -cpu max \
		-smp "$smp" -m 2048 -display none -no-reboot \
		-kernel "$vmlinuz" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 tsc=reliable isolcpus=3 nokaslr loglevel=5 panic=-1 oops=panic sysctl.kernel.hung_task_timeout_secs=60 pvmm_mode=$1 ${PVMM_VM_APPEND:-}" \
		-serial "file:$2" -serial "file:$3" -serial "file:$4" "${@:5}" </dev/null
}

# The kernel's text symbols: Debian's System.map is a stub, so a short
# boot reads them from /proc/kallsyms, once per kernel.
kernel_syms() {
	local syms=$cache/kallsyms-$kver i=0 p

	if [ -n "${PVMM_VM_KERNEL:-}" ]; then
		syms=$kdir/System.map
	elif [ ! -s "$syms" ]; then
		vm syms /dev/null /dev/null "$syms.tmp" >/dev/null 2>&1 &
		p=$!
		while kill -0 $p 2>/dev/null && [ $i -lt 300 ]; do
			sleep 1; i=$((i + 1))
		done
		kill $p 2>/dev/null
		wait $p && tr -d '\r' <"$syms.tmp" >"$syms"
		rm -f "$syms.tmp"
	fi
	echo "$syms"
}

# A boot that never reaches user space (nothing at all on the results
# port) is tried once more, and says so: under TCG the debug kernel was
# seen once to halt for good at 3 s of boot, before SMP bring-up and long
# before any module or test ran.
boots=0
boot() {
	boots=$((boots + 1))
	: >"$results"
	vm "$mode" "$console" "$results" "$diag" \
		-monitor "unix:$mon,server=on,wait=off" &
	qpid=$!
	start=$(date +%s); last=$start; size=-1; stuck=0
}
# A VM whose results stop growing for stall_s (longer than any one test
# may run) is stuck: say where its vCPUs are, and stop it then rather
# than at the timeout.
run_vm() {
while kill -0 "$qpid" 2>/dev/null; do
	sleep 1
	now=$(date +%s)
	cur=$(stat -c %s "$results" 2>/dev/null || echo 0)
	[ "$cur" = "$size" ] || { size=$cur; last=$now; }
	if [ $((now - start)) -ge "$timeout_s" ]; then
		echo "vm-run: timed out after ${timeout_s}s" >"$work/stuck.log"
		stuck=1
	elif [ $((now - last)) -ge "$stall_s" ]; then
		echo "vm-run: no result for ${stall_s}s" >"$work/stuck.log"
		stuck=1
	fi
	if [ ! -s "$results" ] && [ $((now - start)) -ge "$boot_s" ] &&
	   [ $boots -lt 2 ]; then
		echo "vm-run: the VM did not reach user space in ${boot_s}s; booting it once more" >&2
		python3 "$top/scripts/vm-stuck.py" "$mon" "$(kernel_syms)" \
			"$diag" >&2 || true
		tail -n 5 "$console" >&2
		kill "$qpid" 2>/dev/null
		wait "$qpid" 2>/dev/null
		rm -f "$work/stuck.log" "$mon"
		boot
		continue
	fi
	if [ $stuck -ne 0 ]; then
		python3 "$top/scripts/vm-stuck.py" "$mon" "$(kernel_syms)" \
			"$diag" >>"$work/stuck.log" 2>&1 || true
		kill "$qpid" 2>/dev/null
		break
	fi
done
wait "$qpid"
qrc=$?
[ $stuck -eq 0 ] || qrc=124
}
boot
run_vm
# So is a boot whose kernel died before user space, where no module or
# test of ours has run yet (seen once on Debian 13's kernel at 4 s of
# boot, "Modules linked in:" empty: an int3 trap in sched_clock_cpu,
# whose bytes there already read as the patched nop, as when QEMU's
# multi-threaded TCG runs a stale copy of code another CPU patched with
# int3 then the new bytes). Its report is shown, and the second boot's
# log is the one judged.
if [ ! -s "$results" ] && [ $stuck -eq 0 ] && [ $boots -lt 2 ]; then
	echo "vm-run: the VM's kernel ended before user space (qemu exit $qrc); booting it once more. Its last lines:" >&2
	tail -n 40 "$console" | tr -d '\r' >&2
	rm -f "$mon"
	boot
	run_vm
fi
errors='WARNING:|BUG:|ODEBUG:|Oops|general protection|Call Trace|lockdep|possible circular|INFO: task .* blocked|hung_task|list_del corruption|refcount_t:|UBSAN|Kernel panic|rcu: INFO|self-detected stall|soft lockup'
# So, once, is a test VM whose kernel died or stopped while it ran a
# real guest: seen on Debian 13's kernel in KVM_RUN, an oops in an
# interrupt with the L2 guest's FS, GS and kernel GS bases loaded (the
# VMLOAD state, which only GIF=0 code may hold), and a call-function IPI
# lost between two CPUs (real-guest.rst). The first boot's report is
# shown and kept; a second such boot fails the run.
if [ "$mode" = test ] && [ $boots -lt 3 ] && ! grep -q '^PVMM-DONE' "$results" &&
   tr -d '\r' <"$console" | grep 'pvmm-test: ' | tail -n1 | grep -q 'pvmm-test: real guest'; then
	echo "vm-run: the test VM died or stopped while a real guest ran (qemu exit $qrc); booting it once more. Its report:" >&2
	first=$(grep -nE "$errors" "$console" | head -n1 | cut -d: -f1)
	if [ -n "$first" ]; then
		sed -n "$((first > 5 ? first - 5 : 1)),$((first + 40))p" "$console" | tr -d '\r' >&2
	else
		tail -n 40 "$console" | tr -d '\r' >&2
	fi
	[ ! -f "$work/stuck.log" ] || cat "$work/stuck.log" >&2
	if [ -n "${PVMM_VM_LOGDIR:-}" ]; then
		mkdir -p "$PVMM_VM_LOGDIR"
		tr -d '\r' <"$console" >"$PVMM_VM_LOGDIR/console-first.log"
	fi
	rm -f "$work/stuck.log" "$mon"
	boots=3
	boot
	run_vm
fi
# From here on only reports: no command's status ends the script early.
# The serial port ends lines with CR LF.
sed -i 's/\r$//' "$console" "$results" "$diag"
if [ -n "${PVMM_VM_LOGDIR:-}" ]; then
	mkdir -p "$PVMM_VM_LOGDIR"
	cp "$console" "$results" "$diag" "$PVMM_VM_LOGDIR/"
	[ ! -f "$work/stuck.log" ] || cp "$work/stuck.log" "$PVMM_VM_LOGDIR/"
fi

fail=0
notes=()
if [ $qrc -ne 0 ]; then
	notes+=("vm-run: qemu exited with $qrc")
	fail=1
fi
if ! grep -q '^PVMM-DONE' "$results"; then
	notes+=("vm-run: the VM did not finish its run")
	fail=1
fi
if grep -qE "$errors" "$console"; then
	notes+=("vm-run: the kernel log has error reports")
	fail=1
fi

summary=
case $mode in
test)
	# The runner's TAP: the module loads and unloads at the top level
	# ("ok N vm: ..."), each program's cases nested under "# ", and a
	# top-level line per program ("ok N selftests: pvmm: ...").
	grep -vE '^# #\s+(OK|RUN) |^(# )?(TAP version|1\.\.)|^PVMM-' "$results" || true
	c() { grep -cE "$1" "$results" || true; }
	skipped=$(( $(c '^# ok [0-9]+ .*# SKIP') + $(c '^ok [0-9]+ selftests: .*# SKIP') ))
	pass=$(( $(c '^ok [0-9]+ vm: ') + $(c '^# ok [0-9]+ ') - $(c '^# ok [0-9]+ .*# SKIP') ))
	failed=$(( $(c '^not ok [0-9]+ vm: ') + $(c '^# not ok [0-9]+ ') ))
	planned=$(grep -E '^(# )?1\.\.[0-9]+' "$results" | sed -E 's/^(# )?1\.\.//' | paste -sd+ | bc)
	# the runner's own plan counts programs, not cases
	progs=$(grep -E '^1\.\.[0-9]+' "$results" | sed -n 2p | sed 's/^1\.\.//')
	missing=$(( ${planned:-0} - ${progs:-0} - pass - failed - $(c '^# ok [0-9]+ .*# SKIP') ))
	if [ "$missing" -gt 0 ]; then
		notes+=("vm-run: $missing planned test(s) reported no result")
		failed=$((failed + missing))
	fi
	# a program that failed with no case failing (it died before its plan)
	bad=$(c '^not ok [0-9]+ selftests: ')
	if [ "$bad" -gt 0 ] && [ "$failed" -eq 0 ]; then
		notes+=("vm-run: $bad kselftest program(s) failed")
		failed=$bad
	fi
	[ "$failed" -eq 0 ] || fail=1
	[ "$pass" -gt 0 ] || fail=1
	summary="kselftest: $pass passed, $failed failed, $skipped skipped"
	;;
bench)
	grep -E '^(bench:|# )' "$results" || true
	grep -q '^bench:' "$results" || fail=1
	;;
demo|cmd)
	sed -n '/^PVMM-OUT-BEGIN/,/^PVMM-OUT-END/p' "$results" | sed '1d;$d'
	;;
esac
# On failure the end of the output says what failed: the kernel's first
# error report and its last lines, the test running then, the failed tests.
if [ $fail -ne 0 ]; then
	first=$(grep -nE "$errors" "$console" | head -n1 | cut -d: -f1)
	if [ -n "$first" ]; then
		echo "vm-run: the kernel log from its first error report:"
		sed -n "$((first > 5 ? first - 5 : 1)),$((first + 60))p" "$console"
	fi
	echo "vm-run: last kernel log lines:"
	tail -n 25 "$console"
	grep -E 'pvmm-test: ' "$console" | tail -n1 |
		sed 's/.*pvmm-test: /vm-run: the last test started: /'
	[ ! -f "$work/stuck.log" ] || cat "$work/stuck.log"
	grep -E '^(# )?not ok ' "$results" | sed 's/^/vm-run: failed: /'
	printf '%s\n' "${notes[@]}"
	echo "vm-run: FAILED"
fi
[ -z "$summary" ] || echo "$summary"
exit $fail
