// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_clock: the host half of the paravirtual clock service. Each vCPU
 * may enable a record in guest memory (the kvmclock layout plus pvmm
 * words); the module keeps every record of a VM on one master clock built
 * from the host timekeeper, rewritten whenever the timekeeper changes its
 * rate or anchor (the pvclock gtod notifier) and when a vCPU thread moves
 * to another CPU.
 */
#include <linux/clocksource.h>
#include <linux/irq_work.h>
#include <linux/module.h>
#include <linux/pvclock_gtod.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/sysfs.h>
#include <linux/timekeeper_internal.h>
#include <linux/workqueue.h>
#include <asm/tsc.h>

#include <pvmm/service.h>

#include "clock_core.h"

struct pvmm_clock_vcpu {
	struct list_head node;		/* in pvmm_clock_vm.vcpus, RCU + SRCU */
	struct rcu_head rcu;
	struct rcu_head srcu;
	struct pvmm_gpage rec;
	raw_spinlock_t lock;		/* one writer of the record at a time */
	u32 version;			/* the host's copy; guests may scribble */
	u64 gen;			/* host clock change last written */
	bool stop_pending;		/* next write sets GUEST_STOPPED */
	int last_cpu;			/* written by the bound thread only */
};

struct pvmm_clock_vm {
	struct list_head node;		/* in pvmm_clock_vms, RCU + SRCU */
	struct rcu_head rcu;
	struct rcu_head srcu;
	struct mutex lock;		/* vcpus changes, VMM controls */
	struct list_head vcpus;
	unsigned int nr_vcpus;		/* written under @lock */
	u64 gen;			/* host clock change last written */
	raw_spinlock_t offs_lock;	/* the three fields below */
	s64 ns_offset;
	s64 tsc_offset;
	u64 disruptions;
};

/* The host clock that records were last built from, and its changes. */
static DEFINE_RAW_SPINLOCK(pvmm_clock_host_lock);
static struct pvmm_clock_host pvmm_clock_host_cur;
static u64 pvmm_clock_host_gen;

/*
 * A host clock change rewrites at most this many records in hard IRQ
 * context, whole VMs in list order; the other VMs are rewritten by a
 * worker that may sleep between records (SRCU protects its walk).
 */
#define PVMM_CLOCK_IRQ_RECORDS	64
DEFINE_STATIC_SRCU(pvmm_clock_srcu);
static unsigned int pvmm_clock_irq_max;	/* most records one irq_work wrote */
module_param_named(irq_records_max, pvmm_clock_irq_max, uint, 0444);
MODULE_PARM_DESC(irq_records_max,
		 "Most records one host clock change rewrote in hard IRQ context");

static DEFINE_MUTEX(pvmm_clock_vms_lock);
static LIST_HEAD(pvmm_clock_vms);

/* TSC rate from calibration, for hosts whose clocksource is not the TSC */
static u32 pvmm_clock_tsc_mult, pvmm_clock_tsc_shift;

static u64 pvmm_clock_host_get(struct pvmm_clock_host *h)
{
	unsigned long flags;
	u64 gen;

	raw_spin_lock_irqsave(&pvmm_clock_host_lock, flags);
	*h = pvmm_clock_host_cur;
	gen = pvmm_clock_host_gen;
	raw_spin_unlock_irqrestore(&pvmm_clock_host_lock, flags);
	return gen;
}

/* Without a TSC timekeeper: anchor this CPU's TSC to the clock now. */
static void pvmm_clock_sample_now(struct pvmm_clock_host *h)
{
	h->cycle_last = rdtsc_ordered();
	h->mono_ns = ktime_get_mono_fast_ns();
	h->mult = pvmm_clock_tsc_mult;
	h->shift = pvmm_clock_tsc_shift;
	h->tsc_stable = false;
}

/*
 * Write @cv from @h, the host clock of change @gen. A writer that took an
 * older host clock than the record has (the worker, overtaken by the
 * irq_work of a newer change) leaves it alone.
 */
static void pvmm_clock_write(struct pvmm_clock_vm *cvm,
			     struct pvmm_clock_vcpu *cv,
			     const struct pvmm_clock_host *h, u64 gen)
{
	struct pvmm_clock_record src, *dst;
	unsigned long flags, gflags;
	s64 ns_offset, tsc_offset;
	u64 disruptions;

	raw_spin_lock_irqsave(&cvm->offs_lock, flags);
	ns_offset = cvm->ns_offset;
	tsc_offset = cvm->tsc_offset;
	disruptions = cvm->disruptions;
	raw_spin_unlock_irqrestore(&cvm->offs_lock, flags);
	if (pvmm_clock_make_record(h, ns_offset, tsc_offset, disruptions,
				   &src))
		return;

	raw_spin_lock_irqsave(&cv->lock, flags);
	if (gen < cv->gen) {
		raw_spin_unlock_irqrestore(&cv->lock, flags);
		return;
	}
	cv->gen = gen;
	dst = pvmm_gpage_begin(&cv->rec, &gflags);
	if (dst) {
		/* Set once per pause; it stays until the guest clears it. */
		if (cv->stop_pending ||
		    READ_ONCE(dst->flags) & PVMM_CLOCK_GUEST_STOPPED)
			src.flags |= PVMM_CLOCK_GUEST_STOPPED;
		cv->stop_pending = false;
		pvmm_clock_publish(dst, &cv->version, &src);
	}
	pvmm_gpage_end(&cv->rec, gflags);
	raw_spin_unlock_irqrestore(&cv->lock, flags);
}

static void pvmm_clock_write_now(struct pvmm_clock_vm *cvm,
				 struct pvmm_clock_vcpu *cv)
{
	struct pvmm_clock_host h;
	u64 gen = pvmm_clock_host_get(&h);

	if (!h.tsc_stable)
		pvmm_clock_sample_now(&h);
	pvmm_clock_write(cvm, cv, &h, gen);
}

/* The VMs the irq_work left: in process context, a record at a time. */
static void pvmm_clock_refresh_rest(struct work_struct *work)
{
	struct pvmm_clock_vcpu *cv;
	struct pvmm_clock_vm *cvm;
	struct pvmm_clock_host h;
	u64 gen = pvmm_clock_host_get(&h);
	int idx;

	idx = srcu_read_lock(&pvmm_clock_srcu);
	list_for_each_entry_srcu(cvm, &pvmm_clock_vms, node,
				 srcu_read_lock_held(&pvmm_clock_srcu)) {
		if (READ_ONCE(cvm->gen) >= gen)
			continue;
		list_for_each_entry_srcu(cv, &cvm->vcpus, node,
					 srcu_read_lock_held(&pvmm_clock_srcu)) {
			pvmm_clock_write(cvm, cv, &h, gen);
			cond_resched();
		}
		if (READ_ONCE(cvm->gen) < gen)
			WRITE_ONCE(cvm->gen, gen);
	}
	srcu_read_unlock(&pvmm_clock_srcu, idx);
}

static DECLARE_WORK(pvmm_clock_rest_work, pvmm_clock_refresh_rest);

/*
 * The host clock changed: rewrite the records of as many whole VMs as fit
 * in PVMM_CLOCK_IRQ_RECORDS at once, and leave the others to the worker,
 * so that the time spent here does not grow with what users create.
 */
static void pvmm_clock_refresh_irq(struct irq_work *work)
{
	unsigned int budget = PVMM_CLOCK_IRQ_RECORDS, n, done = 0;
	struct pvmm_clock_vcpu *cv;
	struct pvmm_clock_vm *cvm;
	struct pvmm_clock_host h;
	u64 gen = pvmm_clock_host_get(&h);
	bool rest = false, whole;

	rcu_read_lock();
	list_for_each_entry_rcu(cvm, &pvmm_clock_vms, node) {
		n = READ_ONCE(cvm->nr_vcpus);
		if (n > budget) {
			rest = true;
			continue;
		}
		whole = true;
		list_for_each_entry_rcu(cv, &cvm->vcpus, node) {
			if (!budget) {
				whole = false;	/* it grew meanwhile */
				break;
			}
			pvmm_clock_write(cvm, cv, &h, gen);
			budget--;
			done++;
		}
		if (whole && READ_ONCE(cvm->gen) < gen)
			WRITE_ONCE(cvm->gen, gen);
		rest |= !whole;
	}
	rcu_read_unlock();
	if (done > READ_ONCE(pvmm_clock_irq_max))
		WRITE_ONCE(pvmm_clock_irq_max, done);
	if (rest)
		queue_work(system_highpri_wq, &pvmm_clock_rest_work);
}

static DEFINE_IRQ_WORK(pvmm_clock_irq_work, pvmm_clock_refresh_irq);

static void pvmm_clock_from_tk(const struct timekeeper *tk,
			       struct pvmm_clock_host *h)
{
	const struct tk_read_base *tkr = &tk->tkr_mono;

	if (tkr->clock->vdso_clock_mode != VDSO_CLOCKMODE_TSC) {
		pvmm_clock_sample_now(h);
	} else {
		h->cycle_last = tkr->cycle_last;
		h->mono_ns = ktime_to_ns(tkr->base) +
			     (tkr->xtime_nsec >> tkr->shift);
		h->mult = tkr->mult;
		h->shift = tkr->shift;
		h->tsc_stable = true;
	}
	h->boot_offset_ns = ktime_to_ns(tk->offs_boot);
}

/*
 * Called at every timekeeping update, under the timekeeper's write lock
 * with interrupts off: it only takes the new parameters; the records are
 * rewritten from an irq_work right after, microseconds later.
 */
static int pvmm_clock_gtod_notify(struct notifier_block *nb,
				  unsigned long was_set, void *priv)
{
	struct pvmm_clock_host h;
	bool changed;

	pvmm_clock_from_tk(priv, &h);
	raw_spin_lock(&pvmm_clock_host_lock);
	changed = pvmm_clock_host_changed(&pvmm_clock_host_cur, &h);
	if (changed) {
		pvmm_clock_host_cur = h;
		pvmm_clock_host_gen++;
	}
	raw_spin_unlock(&pvmm_clock_host_lock);
	if (changed)
		irq_work_queue(&pvmm_clock_irq_work);
	return NOTIFY_OK;
}

static struct notifier_block pvmm_clock_gtod_nb = {
	.notifier_call = pvmm_clock_gtod_notify,
};

static struct pvmm_clock_vm *pvmm_clock_vm(struct pvmm_vm *vm)
{
	return vm->svc_priv[PVMM_SVC_CLOCK];
}

static void pvmm_clock_refresh_vm(struct pvmm_clock_vm *cvm)
{
	struct pvmm_clock_vcpu *cv;

	lockdep_assert_held(&cvm->lock);
	list_for_each_entry(cv, &cvm->vcpus, node)
		pvmm_clock_write_now(cvm, cv);
}

/* The record moves with its thread: re-anchor it on the new CPU. */
static void pvmm_clock_sched_in(struct pvmm_vcpu *vcpu, int cpu)
{
	struct pvmm_clock_vcpu *cv = vcpu->svc_priv[PVMM_SVC_CLOCK];

	if (cpu == cv->last_cpu)
		return;
	cv->last_cpu = cpu;
	pvmm_clock_write_now(pvmm_clock_vm(vcpu->vm), cv);
}

static s64 pvmm_clock_enable(struct pvmm_vcpu *vcpu, u64 gpa)
{
	struct pvmm_clock_vcpu *cv = vcpu->svc_priv[PVMM_SVC_CLOCK];
	struct pvmm_clock_record *dst;
	unsigned long flags, gflags;
	int r;

	/* A pause the guest has not acknowledged yet moves with the record. */
	raw_spin_lock_irqsave(&cv->lock, flags);
	dst = pvmm_gpage_begin(&cv->rec, &gflags);
	if (dst && READ_ONCE(dst->flags) & PVMM_CLOCK_GUEST_STOPPED)
		cv->stop_pending = true;
	pvmm_gpage_end(&cv->rec, gflags);
	raw_spin_unlock_irqrestore(&cv->lock, flags);

	r = pvmm_gpage_enable(&cv->rec, gpa, PVMM_CLOCK_RECORD_SIZE, &cv->lock);
	if (r)
		return r;
	pvmm_clock_write_now(pvmm_clock_vm(vcpu->vm), cv);
	return 0;
}

static int pvmm_clock_call(struct pvmm_vcpu *vcpu, unsigned int fn,
			   const u64 *args, s64 *ret)
{
	struct pvmm_clock_vcpu *cv = vcpu->svc_priv[PVMM_SVC_CLOCK];
	struct pvmm_clock_host h;

	switch (fn) {
	case PVMM_CLOCK_ENABLE & 0xff:
		*ret = pvmm_clock_enable(vcpu, args[0]);
		break;
	case PVMM_CLOCK_DISABLE & 0xff:
		pvmm_gpage_deactivate(&cv->rec);
		*ret = 0;
		break;
	case PVMM_CLOCK_INFO & 0xff:
		pvmm_clock_host_get(&h);
		*ret = PVMM_CLOCK_INFO_EXT |
		       (h.tsc_stable ? PVMM_CLOCK_INFO_TSC_STABLE : 0);
		break;
	default:
		*ret = -EOPNOTSUPP;
		break;
	}
	return 0;
}

static int pvmm_clock_set_offsets(struct pvmm_clock_vm *cvm, s64 ns, s64 tsc)
{
	unsigned long flags;

	/* The guest clock never reads below zero (S64_MIN included). */
	if (ns < 0 && -(u64)ns > ktime_get_ns())
		return -EINVAL;
	raw_spin_lock_irqsave(&cvm->offs_lock, flags);
	cvm->ns_offset = ns;
	cvm->tsc_offset = tsc;
	raw_spin_unlock_irqrestore(&cvm->offs_lock, flags);
	return 0;
}

static int pvmm_clock_ctl_disrupt(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_clock_vm *cvm = pvmm_clock_vm(vm);
	struct pvmm_clock_disrupt *d = arg;
	struct pvmm_clock_vcpu *cv;
	unsigned long flags;

	if ((d->flags & ~PVMM_CLOCK_DISRUPT_STOPPED) || d->reserved)
		return -EINVAL;
	mutex_lock(&cvm->lock);
	raw_spin_lock_irqsave(&cvm->offs_lock, flags);
	cvm->disruptions++;
	raw_spin_unlock_irqrestore(&cvm->offs_lock, flags);
	if (d->flags & PVMM_CLOCK_DISRUPT_STOPPED) {
		list_for_each_entry(cv, &cvm->vcpus, node) {
			raw_spin_lock_irqsave(&cv->lock, flags);
			cv->stop_pending = true;
			raw_spin_unlock_irqrestore(&cv->lock, flags);
		}
	}
	pvmm_clock_refresh_vm(cvm);
	mutex_unlock(&cvm->lock);
	return 0;
}

static int pvmm_clock_ctl_offsets(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_clock_vm *cvm = pvmm_clock_vm(vm);
	struct pvmm_clock_offsets *o = arg;
	int r;

	if (o->reserved[0] || o->reserved[1])
		return -EINVAL;
	mutex_lock(&cvm->lock);
	r = pvmm_clock_set_offsets(cvm, o->ns, o->tsc);
	if (!r)
		pvmm_clock_refresh_vm(cvm);
	mutex_unlock(&cvm->lock);
	return r;
}

static int pvmm_clock_ctl_info(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_clock_vm *cvm = pvmm_clock_vm(vm);
	struct pvmm_clock_info *i = arg;
	struct pvmm_clock_host h;
	unsigned long flags;

	pvmm_clock_host_get(&h);
	i->info = PVMM_CLOCK_INFO_EXT |
		  (h.tsc_stable ? PVMM_CLOCK_INFO_TSC_STABLE : 0);
	raw_spin_lock_irqsave(&cvm->offs_lock, flags);
	i->disruptions = cvm->disruptions;
	i->ns = cvm->ns_offset;
	i->tsc = cvm->tsc_offset;
	raw_spin_unlock_irqrestore(&cvm->offs_lock, flags);
	return 0;
}

/* sysfs vm<N>/clock/: what the VMM reported and set */

#define PVMM_CLOCK_ATTR(_name, _fmt, _type, _expr)				\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	struct pvmm_clock_vm *cvm = pvmm_clock_vm(pvmm_sysfs_vm(kobj));	\
	unsigned long flags;						\
	_type v;							\
									\
	raw_spin_lock_irqsave(&cvm->offs_lock, flags);			\
	v = _expr;							\
	raw_spin_unlock_irqrestore(&cvm->offs_lock, flags);		\
	return sysfs_emit(buf, _fmt "\n", v);				\
}									\
static struct kobj_attribute pvmm_clock_##_name##_attr =		\
	__ATTR(_name, 0400, _name##_show, NULL)

PVMM_CLOCK_ATTR(disruptions, "%llu", u64, cvm->disruptions);
PVMM_CLOCK_ATTR(ns_offset, "%lld", s64, cvm->ns_offset);
PVMM_CLOCK_ATTR(tsc_offset, "%lld", s64, cvm->tsc_offset);

static ssize_t records_show(struct kobject *kobj,
			    struct kobj_attribute *attr, char *buf)
{
	struct pvmm_clock_vm *cvm = pvmm_clock_vm(pvmm_sysfs_vm(kobj));
	struct pvmm_clock_vcpu *cv;
	unsigned int n = 0;

	mutex_lock(&cvm->lock);
	list_for_each_entry(cv, &cvm->vcpus, node)
		n += READ_ONCE(cv->rec.active);
	mutex_unlock(&cvm->lock);
	return sysfs_emit(buf, "%u\n", n);
}

static struct kobj_attribute pvmm_clock_records_attr =
	__ATTR(records, 0400, records_show, NULL);

static struct attribute *pvmm_clock_attrs[] = {
	&pvmm_clock_disruptions_attr.attr,
	&pvmm_clock_ns_offset_attr.attr,
	&pvmm_clock_tsc_offset_attr.attr,
	&pvmm_clock_records_attr.attr,
	NULL,
};

static const struct attribute_group pvmm_clock_group = {
	.name = "clock",
	.attrs = pvmm_clock_attrs,
};

static const struct pvmm_vm_ctl pvmm_clock_ctls[] = {
	{ PVMM_CLOCK_DISRUPT, pvmm_clock_ctl_disrupt },
	{ PVMM_CLOCK_SET_OFFSETS, pvmm_clock_ctl_offsets },
	{ PVMM_CLOCK_GET_INFO, pvmm_clock_ctl_info },
};

/*
 * Records under a changed memslot lost their pin: pin them again. Also
 * after the hub pinned them again itself: the page may be a new one.
 */
static void pvmm_clock_memslots_changed(struct pvmm_vm *vm)
{
	struct pvmm_clock_vm *cvm = pvmm_clock_vm(vm);
	struct pvmm_clock_vcpu *cv;

	mutex_lock(&cvm->lock);
	list_for_each_entry(cv, &cvm->vcpus, node)
		if (!pvmm_gpage_refresh(&cv->rec))
			pvmm_clock_write_now(cvm, cv);
	mutex_unlock(&cvm->lock);
}

static int pvmm_clock_vm_init(struct pvmm_vm *vm)
{
	struct pvmm_clock_vm *cvm = kzalloc(sizeof(*cvm), GFP_KERNEL_ACCOUNT);

	if (!cvm)
		return -ENOMEM;
	mutex_init(&cvm->lock);
	INIT_LIST_HEAD(&cvm->vcpus);
	raw_spin_lock_init(&cvm->offs_lock);
	vm->svc_priv[PVMM_SVC_CLOCK] = cvm;
	mutex_lock(&pvmm_clock_vms_lock);
	list_add_rcu(&cvm->node, &pvmm_clock_vms);
	mutex_unlock(&pvmm_clock_vms_lock);
	return 0;
}

/* The worker's walk is over (SRCU); the irq_work's goes on (RCU). */
static void pvmm_clock_vm_free(struct rcu_head *head)
{
	struct pvmm_clock_vm *cvm = container_of(head, struct pvmm_clock_vm,
						 srcu);

	kfree_rcu(cvm, rcu);
}

static void pvmm_clock_vcpu_free(struct rcu_head *head)
{
	struct pvmm_clock_vcpu *cv = container_of(head, struct pvmm_clock_vcpu,
						  srcu);

	kfree_rcu(cv, rcu);
}

static void pvmm_clock_vm_destroy(struct pvmm_vm *vm)
{
	struct pvmm_clock_vm *cvm = pvmm_clock_vm(vm);

	mutex_lock(&pvmm_clock_vms_lock);
	list_del_rcu(&cvm->node);
	mutex_unlock(&pvmm_clock_vms_lock);
	WARN_ON_ONCE(!list_empty(&cvm->vcpus));
	call_srcu(&pvmm_clock_srcu, &cvm->srcu, pvmm_clock_vm_free);
}

static int pvmm_clock_vcpu_init(struct pvmm_vcpu *vcpu)
{
	struct pvmm_clock_vm *cvm = pvmm_clock_vm(vcpu->vm);
	struct pvmm_clock_vcpu *cv = kzalloc(sizeof(*cv), GFP_KERNEL_ACCOUNT);

	if (!cv)
		return -ENOMEM;
	pvmm_gpage_init(&cv->rec, vcpu->vm);
	raw_spin_lock_init(&cv->lock);
	cv->last_cpu = -1;
	vcpu->svc_priv[PVMM_SVC_CLOCK] = cv;
	mutex_lock(&cvm->lock);
	list_add_tail_rcu(&cv->node, &cvm->vcpus);
	WRITE_ONCE(cvm->nr_vcpus, cvm->nr_vcpus + 1);
	mutex_unlock(&cvm->lock);
	return 0;
}

static void pvmm_clock_vcpu_destroy(struct pvmm_vcpu *vcpu)
{
	struct pvmm_clock_vm *cvm = pvmm_clock_vm(vcpu->vm);
	struct pvmm_clock_vcpu *cv = vcpu->svc_priv[PVMM_SVC_CLOCK];

	pvmm_gpage_deactivate(&cv->rec);
	mutex_lock(&cvm->lock);
	list_del_rcu(&cv->node);
	WRITE_ONCE(cvm->nr_vcpus, cvm->nr_vcpus - 1);
	mutex_unlock(&cvm->lock);
	/* the irq_work or the worker may still be looking at it */
	call_srcu(&pvmm_clock_srcu, &cv->srcu, pvmm_clock_vcpu_free);
}

static const struct pvmm_service pvmm_clock_service = {
	.name = "clock",
	.owner = THIS_MODULE,
	.id = PVMM_SVC_CLOCK,
	.vm_init = pvmm_clock_vm_init,
	.vm_destroy = pvmm_clock_vm_destroy,
	.vcpu_init = pvmm_clock_vcpu_init,
	.vcpu_destroy = pvmm_clock_vcpu_destroy,
	.sched_in = pvmm_clock_sched_in,
	.call = pvmm_clock_call,
	.ctls = pvmm_clock_ctls,
	.nr_ctls = ARRAY_SIZE(pvmm_clock_ctls),
	.vm_attrs = &pvmm_clock_group,
	.memslots_changed = pvmm_clock_memslots_changed,
	.records_repinned = pvmm_clock_memslots_changed,
};

static int __init pvmm_clock_init(void)
{
	int r;

	if (!tsc_khz)
		return -ENODEV;
	clocks_calc_mult_shift(&pvmm_clock_tsc_mult, &pvmm_clock_tsc_shift,
			       tsc_khz, NSEC_PER_MSEC, 600);
	/* Registering runs the notifier once: the host clock is known. */
	r = pvclock_gtod_register_notifier(&pvmm_clock_gtod_nb);
	if (r)
		return r;
	r = pvmm_service_register(&pvmm_clock_service);
	if (r) {
		pvclock_gtod_unregister_notifier(&pvmm_clock_gtod_nb);
		irq_work_sync(&pvmm_clock_irq_work);
		cancel_work_sync(&pvmm_clock_rest_work);
	}
	return r;
}

static void __exit pvmm_clock_exit(void)
{
	pvmm_service_unregister(&pvmm_clock_service);
	pvclock_gtod_unregister_notifier(&pvmm_clock_gtod_nb);
	irq_work_sync(&pvmm_clock_irq_work);
	cancel_work_sync(&pvmm_clock_rest_work);
	/* call_srcu(), then kfree_rcu() callbacks of the last VMs */
	srcu_barrier(&pvmm_clock_srcu);
	rcu_barrier();
}

module_init(pvmm_clock_init);
module_exit(pvmm_clock_exit);
MODULE_DESCRIPTION("pvmm clock service: kvmclock-layout records on the host's CLOCK_MONOTONIC");
MODULE_LICENSE("GPL");
