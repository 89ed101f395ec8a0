#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test VM (see vm-run.sh). The kernel log goes to ttyS0;
# everything the host parses goes to ttyS1.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
out=/dev/ttyS1
mode=${pvmm_mode:-test}

log() { echo "$*" >$out; }

# Module load and unload are checked like tests, in TAP.
n=0
tap() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then log "ok $n $2"; else log "not ok $n $2"; fi
}

# the hub first, then its services
modules="pvmm pvmm_clock pvmm_balloon pvmm_sched pvmm_mmu pvmm_test"
log "TAP version 13"
log "1..$(( $(echo $modules | wc -w) * 2 ))"
for m in $modules; do
	insmod /lib/pvmm/$m.ko; tap $? "vm: insmod $m"
done

case $mode in
test)
	for t in /tests/*_test; do
		log "# selftest $t"
		$t >$out 2>&1
		log "# selftest $t exit $?"
	done
	;;
bench)
	for b in /tests/*_bench; do $b >$out 2>&1; done
	;;
demo)
	log "PVMM-OUT-BEGIN"
	pvmm_demo >$out 2>&1
	log "PVMM-OUT-END"
	;;
cmd)
	log "PVMM-OUT-BEGIN"
	sh /cmd.sh >$out 2>&1
	log "PVMM-OUT-END"
	;;
esac

# Every VM torn down, every page unpinned: then both modules unload.
i=0
while [ "$(cat /sys/kernel/debug/pvmm/vms)" != 0 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
for m in $(echo $modules | tr ' ' '\n' | tac); do
	rmmod $m; tap $? "vm: rmmod $m"
done
log "PVMM-DONE"
sync
poweroff -f
