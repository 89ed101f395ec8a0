// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm scheduling, guest half: when the VMM offers a pvmm hub with the
 * scheduling service, each CPU enables a steal-time record and the kernel
 * gets
 *  - the steal clock (paravirt steal accounting, as with kvm's record),
 *  - vcpu_is_preempted() from the record's preempted byte, so that
 *    optimistic spinning (mutexes, rwsems) stops spinning on an owner
 *    whose vCPU is not running,
 *  - a directed yield after a function-call IPI to a preempted vCPU: the
 *    sender spins until the target has run the function, so it gives its
 *    CPU to that vCPU (PVMM_SCHED_YIELD_TO),
 *  - the host's steal-rate hints in /sys/kernel/pvmm_sched/: every CPU's
 *    recent steal rate, and the CPUs losing more than congested_pct of
 *    their time, for the tools that place work (taskset, irqbalance...).
 * The vCPU id in YIELD_TO is the CPU's APIC id, as in kvm's PV yield: the
 * VMM numbers its vCPUs so.
 */
#define pr_fmt(fmt) "pvmm-sched: " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/init.h>
#include <linux/kobject.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/slab.h>
#include <linux/static_call.h>
#include <linux/sysfs.h>
#include <asm/apic.h>
#include <asm/barrier.h>
#include <asm/paravirt.h>
#include <asm/smp.h>

#include <pvmm/guest.h>

/* as kvm_steal_clock(): the version is read before the data, and after */
#define PVMM_STEAL_RMB()	virt_rmb()
#include <pvmm/sched_reader.h>

static DEFINE_PER_CPU(struct pvmm_steal_record, pvmm_sched_rec) __aligned(64);
/* steal of the CPU's earlier records: an enable counts from zero again */
static DEFINE_PER_CPU(u64, pvmm_sched_steal_base);
static u16 pvmm_sched_port;
static bool pvmm_sched_on;
static unsigned int pvmm_sched_congested_pct = 20;
static void (*pvmm_sched_ipi_native)(const struct cpumask *mask);

static s64 pvmm_sched_call(u32 nr, u64 arg)
{
	return pvmm_guest_call(pvmm_sched_port, nr, arg, 0, 0, 0, 0, 0);
}

/* On the CPU whose record it is: the call comes from its vCPU thread. */
static s64 pvmm_sched_enable_this_cpu(void)
{
	struct pvmm_steal_record *r = this_cpu_ptr(&pvmm_sched_rec);

	return pvmm_sched_call(PVMM_SCHED_STEAL_ENABLE, slow_virt_to_phys(r));
}

/* Never backwards, or the scheduler would count whole ticks as steal. */
static u64 pvmm_sched_steal_clock(int cpu)
{
	u32 rate;

	return READ_ONCE(per_cpu(pvmm_sched_steal_base, cpu)) +
	       pvmm_steal_read(&per_cpu(pvmm_sched_rec, cpu), &rate);
}

/* Global for the callee-save thunk around it. */
bool pvmm_sched_vcpu_is_preempted(long cpu);
__visible bool pvmm_sched_vcpu_is_preempted(long cpu)
{
	return READ_ONCE(per_cpu(pvmm_sched_rec, cpu).preempted) &
	       PVMM_VCPU_PREEMPTED;
}

PV_CALLEE_SAVE_REGS_THUNK(pvmm_sched_vcpu_is_preempted);

/* As kvm_smp_send_call_func_ipi(): let a preempted target run first. */
static void pvmm_sched_send_call_func_ipi(const struct cpumask *mask)
{
	int cpu;

	pvmm_sched_ipi_native(mask);
	for_each_cpu(cpu, mask) {
		if (!idle_cpu(cpu) && pvmm_sched_vcpu_is_preempted(cpu)) {
			pvmm_sched_call(PVMM_SCHED_YIELD_TO,
					per_cpu(x86_cpu_to_apicid, cpu));
			break;
		}
	}
}

/*
 * The boot CPU's record and vcpu_is_preempted(). Its call sites are
 * patched into direct calls, or into "false" without
 * X86_FEATURE_VCPUPREEMPT, by arch_cpu_finalize_init(); console
 * initcalls are the last ones that run before it, after the per-CPU
 * areas exist.
 */
static int __init pvmm_sched_guest_early(void)
{
	s64 r;

	pvmm_sched_port = pvmm_guest_detect();
	if (!pvmm_sched_port)
		return 0;
	preempt_disable();
	r = pvmm_sched_enable_this_cpu();
	preempt_enable();
	if (r)
		return 0;	/* no scheduling service: nothing changes */
	pvmm_sched_on = true;
#ifdef CONFIG_PARAVIRT_SPINLOCKS
	pv_ops.lock.vcpu_is_preempted =
		PV_CALLEE_SAVE(pvmm_sched_vcpu_is_preempted);
	setup_force_cpu_cap(X86_FEATURE_VCPUPREEMPT);
#endif
	return 0;
}
console_initcall(pvmm_sched_guest_early);

static int pvmm_sched_cpu_online(unsigned int cpu)
{
	s64 r;

	preempt_disable();
	r = pvmm_sched_enable_this_cpu();
	preempt_enable();
	if (r)
		pr_warn("CPU %u: steal record: %lld\n", cpu, r);
	return 0;
}

static int pvmm_sched_cpu_offline(unsigned int cpu)
{
	u64 steal = pvmm_sched_steal_clock(cpu);

	pvmm_sched_call(PVMM_SCHED_STEAL_DISABLE, 0);
	/* the record reads zero until the next enable */
	WRITE_ONCE(per_cpu(pvmm_sched_steal_base, cpu), steal);
	memset(this_cpu_ptr(&pvmm_sched_rec), 0, sizeof(pvmm_sched_rec));
	return 0;
}

/* sysfs: the host's hints */
static int pvmm_sched_rates(u32 *rates)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		rates[cpu] = 0;
		if (cpu_online(cpu))
			pvmm_steal_read(&per_cpu(pvmm_sched_rec, cpu),
					&rates[cpu]);
	}
	return nr_cpu_ids;
}

static ssize_t steal_rates_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	u32 *rates = kcalloc(nr_cpu_ids, sizeof(*rates), GFP_KERNEL);
	ssize_t n = 0;
	int cpu;

	if (!rates)
		return -ENOMEM;
	pvmm_sched_rates(rates);
	for_each_online_cpu(cpu)
		n += sysfs_emit_at(buf, n, "%d %u\n", cpu, rates[cpu]);
	kfree(rates);
	return n;
}

static struct kobj_attribute steal_rates_attr = __ATTR_RO(steal_rates);

static ssize_t congested_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	u32 *rates = kcalloc(nr_cpu_ids, sizeof(*rates), GFP_KERNEL);
	unsigned long *mask = bitmap_zalloc(nr_cpu_ids, GFP_KERNEL);
	u32 threshold = div_u64((u64)READ_ONCE(pvmm_sched_congested_pct) *
				PVMM_STEAL_RATE_ONE, 100);
	ssize_t n = -ENOMEM;

	if (rates && mask) {
		pvmm_steal_congested(rates, pvmm_sched_rates(rates), threshold,
				     mask);
		n = sysfs_emit(buf, "%*pbl\n", nr_cpu_ids, mask);
	}
	bitmap_free(mask);
	kfree(rates);
	return n;
}

static struct kobj_attribute congested_attr = __ATTR_RO(congested);

static ssize_t congested_pct_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(pvmm_sched_congested_pct));
}

static ssize_t congested_pct_store(struct kobject *kobj,
				   struct kobj_attribute *attr,
				   const char *buf, size_t len)
{
	unsigned int pct;
	int r = kstrtouint(buf, 0, &pct);

	if (r)
		return r;
	if (!pct || pct > 100)
		return -EINVAL;
	WRITE_ONCE(pvmm_sched_congested_pct, pct);
	return len;
}

static struct kobj_attribute congested_pct_attr = __ATTR_RW(congested_pct);

/* what vcpu_is_preempted() answers now, for each online CPU */
static ssize_t preempted_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	unsigned long *mask = bitmap_zalloc(nr_cpu_ids, GFP_KERNEL);
	ssize_t n;
	int cpu;

	if (!mask)
		return -ENOMEM;
	for_each_online_cpu(cpu)
		if (pvmm_sched_vcpu_is_preempted(cpu))
			__set_bit(cpu, mask);
	n = sysfs_emit(buf, "%*pbl\n", nr_cpu_ids, mask);
	bitmap_free(mask);
	return n;
}

static struct kobj_attribute preempted_attr = __ATTR_RO(preempted);

static struct attribute *pvmm_sched_attrs[] = {
	&steal_rates_attr.attr,
	&congested_attr.attr,
	&congested_pct_attr.attr,
	&preempted_attr.attr,
	NULL,
};

static const struct attribute_group pvmm_sched_group = {
	.attrs = pvmm_sched_attrs,
};

static int __init pvmm_sched_guest_init(void)
{
	int r;

	if (!pvmm_sched_on)
		return 0;
	static_call_update(pv_steal_clock, pvmm_sched_steal_clock);
	static_key_slow_inc(&paravirt_steal_enabled);
	static_key_slow_inc(&paravirt_steal_rq_enabled);
	pvmm_sched_ipi_native = smp_ops.send_call_func_ipi;
	smp_ops.send_call_func_ipi = pvmm_sched_send_call_func_ipi;
	/* the boot CPU's record is on since pvmm_sched_guest_early() */
	r = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "pvmm/sched:online",
				      pvmm_sched_cpu_online,
				      pvmm_sched_cpu_offline);
	if (r < 0)
		return r;
	pr_info("steal time, preempted state and directed yield on port %#x\n",
		pvmm_sched_port);
	return 0;
}
early_initcall(pvmm_sched_guest_init);

/*
 * Not from the early initcall above: kernel_kobj, /sys/kernel, exists
 * only from ksysfs_init() (a core initcall); before it the directory
 * would land at the top of sysfs.
 */
static int __init pvmm_sched_guest_sysfs_init(void)
{
	struct kobject *kobj;
	int r;

	if (!pvmm_sched_on)
		return 0;
	kobj = kobject_create_and_add("pvmm_sched", kernel_kobj);
	if (!kobj)
		return -ENOMEM;
	r = sysfs_create_group(kobj, &pvmm_sched_group);
	if (r)
		kobject_put(kobj);
	return r;
}
device_initcall(pvmm_sched_guest_sysfs_init);
