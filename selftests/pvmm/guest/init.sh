#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the real guest (L2), booted by tools/pvmm_run inside the test
# VM: its tests' TAP (or, with pvmm_guest=bench-* on the command line,
# the benchmarks' figures) goes to ttyS1, which pvmm_run
# writes to its results file; then a reset ends the VMM (reboot=k; with
# pvmm_guest=triple and reboot=t, a triple fault does).
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
ln -s /proc/self/fd/1 /dev/stdout
mode=test
for a in $(cat /proc/cmdline); do
	case $a in pvmm_guest=*) mode=${a#pvmm_guest=} ;; esac
done
cs=/sys/devices/system/clocksource/clocksource0/current_clocksource
case $mode in
test)
	/bin/guest_test
	echo "# guest_test exit $?"
	;;
mem)
	/bin/guest_mem_test
	echo "# guest_mem_test exit $?"
	# the guest kernel's own suite, run at boot: its cases, one level up
	mount -t debugfs debugfs /sys/kernel/debug
	sed -n 's/^    //p' /sys/kernel/debug/kunit/pvmm-mmu-guest/results
	;;
bench-pvmm1)
	echo "guest: clocksource $(cat $cs)"
	/bin/guest_bench clock
	/bin/guest_bench calls
	/bin/guest_bench drift
	;;
bench-pvmm2|bench-pvmm3)
	echo "guest: clocksource $(cat $cs)"
	/bin/guest_bench clock
	;;
demo-mem)
	# a file in tmpfs the host sees as memory, then freed; the host's
	# operator sets a balloon meanwhile
	memfree() { echo "guest: MemFree $(($(sed -n 's/^MemFree: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024)) MiB"; }
	memfree
	dd if=/dev/zero of=/tmp/fill bs=1M count=96 2>/dev/null
	echo "guest: 96 MiB written"
	sleep 5
	rm /tmp/fill
	echo "guest: file deleted"
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 2; memfree; done
	;;
bench-mem)
	/bin/guest_bench balloon
	/bin/guest_bench mmu
	;;
bench-overcommit)
	echo "guest: $(nproc) vCPUs, clocksource $(cat $cs)"
	/bin/guest_bench overcommit
	;;
triple)
	;;
demo)
	# what the guest sees of the host modules, in its tests' own words
	echo "clocksource: $(cat $cs) (available: $(cat ${cs%current_clocksource}available_clocksource))"
	/bin/guest_test | grep -vE '^(TAP version|1\.\.|# Starting|#  +(RUN|OK) |# Totals)'
	;;
bench-kvm)
	echo kvm-clock >$cs
	echo "guest: clocksource $(cat $cs)"
	/bin/guest_bench clock
	;;
esac >/dev/ttyS1 2>&1
echo "PVMM-GUEST-DONE" >/dev/ttyS1
reboot -f
