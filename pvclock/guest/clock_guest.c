// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm clock, guest half: when the VMM offers a pvmm hub with the clock
 * service, each CPU enables a clock record and the kernel gets
 *  - a clocksource "pvmm-clock" reading the record of the current CPU,
 *  - sched_clock from CPU 0's record, when the host says the TSC is
 *    stable (then every record carries the same master clock),
 *  - /dev/pvmm_clock, a read-only mapping of the records, so that user
 *    space reads the clock without a system call, as through the vDSO.
 * The reader is the one in <pvmm/clock_reader.h>, shared with the
 * selftests and KUnit-tested.
 */
#define pr_fmt(fmt) "pvmm-clock: " fmt

#include <linux/atomic.h>
#include <linux/clocksource.h>
#include <linux/cpuhotplug.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/sched/clock.h>
#include <linux/smp.h>
#include <asm/barrier.h>
#include <asm/paravirt.h>
#include <asm/pvclock.h>
#include <asm/tsc.h>

#include <pvmm/compat_v6_1_v6_12.h>
#include <pvmm/guest.h>

#define PVMM_CLOCK_RDTSC()	rdtsc_ordered()
/* as pvclock_read_begin(): the version is read before the data, and after */
#define PVMM_CLOCK_RMB()	virt_rmb()
#include <pvmm/clock_reader.h>

static u16 pvmm_clock_port;
static struct pvmm_clock_record *pvmm_clock_recs;
static size_t pvmm_clock_recs_size;
static bool pvmm_clock_stable;
static u64 pvmm_clock_sched_offset;
/* without a stable TSC, records of two CPUs may disagree: never go back */
static atomic64_t pvmm_clock_last = ATOMIC64_INIT(0);

static struct pvmm_clock_record *pvmm_clock_rec(int cpu)
{
	struct pvmm_clock_record *r = &pvmm_clock_recs[cpu];

	/* a CPU coming online reads CPU 0's record until it has its own */
	return READ_ONCE(r->version) ? r : &pvmm_clock_recs[0];
}

static u64 pvmm_clock_now(void)
{
	u64 ns, last;
	u8 flags;

	preempt_disable_notrace();
	ns = pvmm_clock_read(pvmm_clock_rec(smp_processor_id()), &flags);
	preempt_enable_notrace();
	if (flags & PVMM_CLOCK_TSC_STABLE)
		return ns;
	last = atomic64_read(&pvmm_clock_last);
	do {
		if (ns <= last)
			return last;
	} while (!atomic64_try_cmpxchg(&pvmm_clock_last, &last, ns));
	return ns;
}

static u64 pvmm_clock_cs_read(struct clocksource *cs)
{
	return pvmm_clock_now();
}

/* As kvm-clock: the vDSO maps the record page once its mode is used. */
static int pvmm_clock_cs_enable(struct clocksource *cs)
{
	if (cs->vdso_clock_mode == VDSO_CLOCKMODE_PVCLOCK)
		vclocks_set_used(VDSO_CLOCKMODE_PVCLOCK);
	return 0;
}

/* kvmclock's own parameter, read here too: every early_param of it runs */
static bool pvmm_clock_kvm_vsyscall __initdata = true;

static int __init pvmm_clock_no_kvm_vsyscall(char *arg)
{
	pvmm_clock_kvm_vsyscall = false;
	return 0;
}
early_param("no-kvmclock-vsyscall", pvmm_clock_no_kvm_vsyscall);

/*
 * Whether kvm-clock's vDSO reads the page pvclock_set_pvti_cpu0_va()
 * named: kvmclock's own test (it named one, the vsyscall is not turned
 * off, its CPU 0 record is stable). kvm_clock itself is static from 6.2.
 */
static bool __init pvmm_clock_kvm_vdso(void)
{
	struct pvclock_vsyscall_time_info *pvti = pvclock_get_pvti_cpu0_va();

	return pvti && pvmm_clock_kvm_vsyscall &&
	       pvclock_read_flags(&pvti->pvti) & PVCLOCK_TSC_STABLE_BIT;
}

/*
 * Above kvm-clock's 400: on a host with both, this clock follows the
 * host's NTP-disciplined CLOCK_MONOTONIC, kvm-clock its raw TSC rate.
 */
static struct clocksource pvmm_clocksource = {
	.name = "pvmm-clock",
	.rating = 410,
	.read = pvmm_clock_cs_read,
	.enable = pvmm_clock_cs_enable,
	.mask = CLOCKSOURCE_MASK(64),
	.flags = CLOCK_SOURCE_IS_CONTINUOUS,
};

/* Only with a stable TSC: CPU 0's record then is every CPU's clock. */
static u64 pvmm_clock_sched_clock(void)
{
	u8 flags;

	return pvmm_clock_read(&pvmm_clock_recs[0], &flags) -
	       pvmm_clock_sched_offset;
}

static s64 pvmm_clock_enable_this_cpu(void)
{
	int cpu = smp_processor_id();

	return pvmm_guest_call(pvmm_clock_port, PVMM_CLOCK_ENABLE,
			       virt_to_phys(&pvmm_clock_recs[cpu]), 0, 0, 0, 0,
			       0);
}

/* The record of a CPU is enabled from that CPU: from its vCPU thread. */
static int pvmm_clock_cpu_online(unsigned int cpu)
{
	s64 r;

	preempt_disable();
	r = pvmm_clock_enable_this_cpu();
	preempt_enable();
	if (r)
		pr_warn("CPU %u: enable failed: %lld\n", cpu, r);
	return 0;
}

static int pvmm_clock_cpu_offline(unsigned int cpu)
{
	pvmm_guest_call(pvmm_clock_port, PVMM_CLOCK_DISABLE, 0, 0, 0, 0, 0, 0);
	return 0;
}

static int pvmm_clock_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long size = vma->vm_end - vma->vm_start;

	if (vma->vm_pgoff || size > PAGE_ALIGN(pvmm_clock_recs_size) ||
	    vma->vm_flags & VM_WRITE)
		return -EINVAL;
	pvmm_vm_flags_clear(vma, VM_MAYWRITE);
	return remap_pfn_range(vma, vma->vm_start,
			       virt_to_phys(pvmm_clock_recs) >> PAGE_SHIFT,
			       size, vma->vm_page_prot);
}

static const struct file_operations pvmm_clock_fops = {
	.owner = THIS_MODULE,
	.mmap = pvmm_clock_mmap,
};

static struct miscdevice pvmm_clock_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pvmm_clock",
	.fops = &pvmm_clock_fops,
	.mode = 0444,
};

/* Early, before the other CPUs come up: the boot CPU's record and sched_clock. */
static int __init pvmm_clock_guest_early(void)
{
	s64 info, r;
	u8 flags;

	pvmm_clock_port = pvmm_guest_detect();
	if (!pvmm_clock_port)
		return 0;
	info = pvmm_guest_call(pvmm_clock_port, PVMM_CLOCK_INFO, 0, 0, 0, 0,
			       0, 0);
	if (info < 0)
		return 0;	/* the VMM did not enable the clock service */
	pvmm_clock_recs_size = nr_cpu_ids * sizeof(*pvmm_clock_recs);
	pvmm_clock_recs = alloc_pages_exact(PAGE_ALIGN(pvmm_clock_recs_size),
					    GFP_KERNEL | __GFP_ZERO);
	if (!pvmm_clock_recs)
		return -ENOMEM;
	preempt_disable();
	r = pvmm_clock_enable_this_cpu();
	preempt_enable();
	if (r) {
		pr_warn("enable failed: %lld\n", r);
		free_pages_exact(pvmm_clock_recs,
				 PAGE_ALIGN(pvmm_clock_recs_size));
		pvmm_clock_recs = NULL;
		return 0;
	}
	pvmm_clock_read(&pvmm_clock_recs[0], &flags);
	pvmm_clock_stable = flags & PVMM_CLOCK_TSC_STABLE;
	/*
	 * The vDSO's pvclock mode reads CPU 0's record, which is in the
	 * kvmclock layout, from the one page pvclock_set_pvti_cpu0_va()
	 * names: ours unless kvm-clock's vDSO uses it (boot with
	 * no-kvmclock-vsyscall to leave it to us). Named now, before any
	 * clocksource of that mode is enabled.
	 */
	if (pvmm_clock_stable && !pvmm_clock_kvm_vdso()) {
		pvclock_set_pvti_cpu0_va((void *)pvmm_clock_recs);
		pvmm_clocksource.vdso_clock_mode = VDSO_CLOCKMODE_PVCLOCK;
	}
	if (pvmm_clock_stable) {
		/* continue from the current sched_clock, without a jump */
		pvmm_clock_sched_offset =
			pvmm_clock_read(&pvmm_clock_recs[0], &flags) -
			sched_clock();
		paravirt_set_sched_clock(pvmm_clock_sched_clock);
	}
	pr_info("record on port %#x, TSC %sstable\n",
		pvmm_clock_port, pvmm_clock_stable ? "" : "not ");
	return 0;
}
early_initcall(pvmm_clock_guest_early);

static int __init pvmm_clock_guest_init(void)
{
	int r;

	if (!pvmm_clock_recs)
		return 0;
	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "pvmm/clock:online",
			      pvmm_clock_cpu_online, pvmm_clock_cpu_offline);
	if (r < 0)
		return r;
	r = clocksource_register_hz(&pvmm_clocksource, NSEC_PER_SEC);
	if (r)
		return r;
	return misc_register(&pvmm_clock_miscdev);
}
device_initcall(pvmm_clock_guest_init);
