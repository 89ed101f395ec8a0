// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_sched: the host half of the scheduling service. A vCPU may enable
 * a steal-time record (the kvm_steal_time layout); its bound thread's
 * context switches keep it current:
 *  - at sched-in, the growth of the thread's run delay since the last
 *    sched-in is added to steal, the recent steal rate is published, and
 *    the preempted byte is cleared;
 *  - at sched-out, the preempted byte is set when the thread is still
 *    runnable (it was preempted), never when it blocks or halts.
 * A vCPU spinning on a lock whose holder was preempted can yield its CPU
 * to the holder (yield_to), at a rate the host caps; a vCPU entering a
 * critical section can ask to be favoured (nice -20) for a time the host
 * caps, within a per-VM budget, ended by a timer whatever the guest does.
 */
#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include <pvmm/service.h>

#include "sched_core.h"

static unsigned int pvmm_sched_yield_rate = 10000;
module_param_named(yield_rate, pvmm_sched_yield_rate, uint, 0644);
MODULE_PARM_DESC(yield_rate,
		 "Directed yields per second one vCPU may make (default 10000)");

static unsigned int pvmm_sched_boost_max_us = 1000;
module_param_named(boost_max_us, pvmm_sched_boost_max_us, uint, 0644);
MODULE_PARM_DESC(boost_max_us, "Longest boost, microseconds (default 1000)");

static unsigned int pvmm_sched_boost_budget_ms = 50;
module_param_named(boost_budget_ms, pvmm_sched_boost_budget_ms, uint, 0644);
MODULE_PARM_DESC(boost_budget_ms,
		 "Boost time one VM may get per second, ms (default 50)");

struct pvmm_sched_vm {
	spinlock_t lock;		/* the budget window */
	u64 window_start;
	u64 granted_ns;
};

struct pvmm_sched_vcpu {
	struct pvmm_gpage rec;
	struct pvmm_steal_acct acct;	/* the bound thread's, preemption off */
	u32 version;			/* the host's copy */
	bool preempted;			/* the host's own view, not the guest's */
	u64 yield_budget_at;		/* local_clock() when the budget is spent */
	u64 yields;
	u64 yields_refused;
	u64 boosts;
	u64 boosts_refused;
	spinlock_t boost_lock;		/* the fields below */
	struct hrtimer boost_timer;
	struct task_struct *boosted;	/* referenced while boosted */
	long saved_nice;
};

static struct pvmm_sched_vcpu *pvmm_sched_vcpu(struct pvmm_vcpu *vcpu)
{
	return vcpu->svc_priv[PVMM_SVC_SCHED];
}

/* In the bound thread, preemption off: nothing else updates the record. */
static void pvmm_sched_record(struct pvmm_sched_vcpu *sv, bool start)
{
	u64 rd = current->sched_info.run_delay, now = local_clock(), steal;
	struct pvmm_steal_record *r;
	unsigned long flags;

	WRITE_ONCE(sv->preempted, false);
	if (start)
		pvmm_steal_start(&sv->acct, rd, now);
	steal = pvmm_steal_update(&sv->acct, rd, now);
	r = pvmm_gpage_begin(&sv->rec, &flags);
	if (r) {
		WRITE_ONCE(r->preempted, 0);
		pvmm_steal_publish(r, &sv->version, steal, sv->acct.rate);
	}
	pvmm_gpage_end(&sv->rec, flags);
}

static void pvmm_sched_sched_in(struct pvmm_vcpu *vcpu, int cpu)
{
	pvmm_sched_record(pvmm_sched_vcpu(vcpu), false);
}

static void pvmm_sched_sched_out(struct pvmm_vcpu *vcpu,
				 struct task_struct *next)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);
	struct pvmm_steal_record *r;
	unsigned long flags;

	/* Still on the run queue: preempted, not blocked or halted. */
	if (!READ_ONCE(current->on_rq))
		return;
	WRITE_ONCE(sv->preempted, true);
	r = pvmm_gpage_begin(&sv->rec, &flags);
	if (r)
		WRITE_ONCE(r->preempted, PVMM_VCPU_PREEMPTED);
	pvmm_gpage_end(&sv->rec, flags);
}

static s64 pvmm_sched_steal_enable(struct pvmm_sched_vcpu *sv, u64 gpa)
{
	struct pvmm_steal_record *r;
	unsigned long flags;
	s64 err;

	/* A failed enable leaves the record disabled, whatever it was. */
	if (!IS_ALIGNED(gpa, PVMM_SCHED_RECORD_SIZE)) {
		pvmm_gpage_deactivate(&sv->rec);
		return -EINVAL;
	}
	err = pvmm_gpage_activate(&sv->rec, gpa, PVMM_SCHED_RECORD_SIZE);
	if (err)
		return err;
	preempt_disable();
	r = pvmm_gpage_begin(&sv->rec, &flags);
	if (r)
		memset(r, 0, sizeof(*r));
	pvmm_gpage_end(&sv->rec, flags);
	pvmm_sched_record(sv, true);
	preempt_enable();
	return 0;
}

/*
 * A virtual clock that advances by 1 s / yield_rate per yield and may run
 * at most one second ahead of real time: a burst of yield_rate, then
 * yield_rate per second.
 */
static bool pvmm_sched_yield_allowed(struct pvmm_sched_vcpu *sv)
{
	u32 rate = READ_ONCE(pvmm_sched_yield_rate);
	u64 now = local_clock();

	if (!rate)
		return false;
	if (sv->yield_budget_at < now)
		sv->yield_budget_at = now;
	if (sv->yield_budget_at - now > NSEC_PER_SEC)
		return false;
	sv->yield_budget_at += NSEC_PER_SEC / rate;
	return true;
}

static s64 pvmm_sched_yield_to(struct pvmm_vcpu *vcpu, u64 id)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu), *tsv;
	struct pvmm_vcpu *target;
	struct task_struct *task;
	int r;

	if (id == vcpu->id || id > U32_MAX)
		return -EINVAL;
	if (!pvmm_sched_yield_allowed(sv)) {
		sv->yields_refused++;
		return -EBUSY;
	}
	rcu_read_lock();
	target = pvmm_vcpu_lookup_rcu(vcpu->vm, id);
	if (!target) {
		rcu_read_unlock();
		return -EINVAL;
	}
	tsv = pvmm_sched_vcpu(target);
	if (!READ_ONCE(tsv->preempted)) {
		rcu_read_unlock();
		return 0;
	}
	task = pvmm_vcpu_task_get(target);
	rcu_read_unlock();
	if (!task)
		return -ESRCH;
	r = yield_to(task, true);
	put_task_struct(task);
	sv->yields++;
	return r > 0;
}

/* Take @ns from the VM's budget for this one-second window. */
static bool pvmm_sched_budget_take(struct pvmm_sched_vm *svm, u64 ns)
{
	u64 now = ktime_get_ns(), budget;	/* one clock for all vCPUs */
	bool ok;

	budget = (u64)READ_ONCE(pvmm_sched_boost_budget_ms) * NSEC_PER_MSEC;
	spin_lock(&svm->lock);
	if (now - svm->window_start >= NSEC_PER_SEC) {
		svm->window_start = now;
		svm->granted_ns = 0;
	}
	ok = svm->granted_ns + ns <= budget;
	if (ok)
		svm->granted_ns += ns;
	spin_unlock(&svm->lock);
	return ok;
}

/* Any context: the timer, an UNBOOST, or the vCPU going away. */
static void pvmm_sched_boost_end(struct pvmm_sched_vcpu *sv)
{
	struct task_struct *t;
	unsigned long flags;
	long nice;

	spin_lock_irqsave(&sv->boost_lock, flags);
	t = sv->boosted;
	sv->boosted = NULL;
	nice = sv->saved_nice;
	spin_unlock_irqrestore(&sv->boost_lock, flags);
	if (!t)
		return;
	set_user_nice(t, nice);
	put_task_struct(t);
}

static enum hrtimer_restart pvmm_sched_boost_timer(struct hrtimer *timer)
{
	pvmm_sched_boost_end(container_of(timer, struct pvmm_sched_vcpu,
					  boost_timer));
	return HRTIMER_NORESTART;
}

static s64 pvmm_sched_boost(struct pvmm_vcpu *vcpu, u64 us)
{
	struct pvmm_sched_vm *svm = vcpu->vm->svc_priv[PVMM_SVC_SCHED];
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);
	unsigned long flags;

	if (!us)
		return -EINVAL;
	us = min_t(u64, us, READ_ONCE(pvmm_sched_boost_max_us));
	if (!us)
		return -EBUSY;		/* boosting switched off */
	if (READ_ONCE(sv->boosted))
		return -EALREADY;
	if (!pvmm_sched_budget_take(svm, us * NSEC_PER_USEC)) {
		sv->boosts_refused++;
		return -EBUSY;
	}
	sv->boosts++;
	spin_lock_irqsave(&sv->boost_lock, flags);
	sv->saved_nice = task_nice(current);
	sv->boosted = get_task_struct(current);
	spin_unlock_irqrestore(&sv->boost_lock, flags);
	set_user_nice(current, MIN_NICE);
	hrtimer_start(&sv->boost_timer, ns_to_ktime(us * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_SOFT);
	return us;
}

static int pvmm_sched_call(struct pvmm_vcpu *vcpu, unsigned int fn,
			   const u64 *args, s64 *ret)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);

	switch (fn) {
	case PVMM_SCHED_STEAL_ENABLE & 0xff:
		*ret = pvmm_sched_steal_enable(sv, args[0]);
		break;
	case PVMM_SCHED_STEAL_DISABLE & 0xff:
		pvmm_gpage_deactivate(&sv->rec);
		*ret = 0;
		break;
	case PVMM_SCHED_YIELD_TO & 0xff:
		*ret = pvmm_sched_yield_to(vcpu, args[0]);
		break;
	case PVMM_SCHED_BOOST & 0xff:
		*ret = pvmm_sched_boost(vcpu, args[0]);
		break;
	case PVMM_SCHED_UNBOOST & 0xff:
		hrtimer_cancel(&sv->boost_timer);
		pvmm_sched_boost_end(sv);
		*ret = 0;
		break;
	default:
		*ret = -EOPNOTSUPP;
		break;
	}
	return 0;
}

static int pvmm_sched_vcpu_init(struct pvmm_vcpu *vcpu)
{
	struct pvmm_sched_vcpu *sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);

	if (!sv)
		return -ENOMEM;
	pvmm_gpage_init(&sv->rec, vcpu->vm);
	spin_lock_init(&sv->boost_lock);
	hrtimer_init(&sv->boost_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	sv->boost_timer.function = pvmm_sched_boost_timer;
	vcpu->svc_priv[PVMM_SVC_SCHED] = sv;
	return 0;
}

static void pvmm_sched_vcpu_destroy(struct pvmm_vcpu *vcpu)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);

	hrtimer_cancel(&sv->boost_timer);
	pvmm_sched_boost_end(sv);
	pvmm_gpage_deactivate(&sv->rec);
	kfree(sv);
}

/* debugfs vm<N>/sched: one line per vCPU */
static int pvmm_sched_debugfs_show(struct seq_file *m, void *unused)
{
	struct pvmm_vm *vm = m->private;
	struct pvmm_vcpu *vcpu;
	unsigned long id;

	mutex_lock(&vm->lock);
	xa_for_each(&vm->vcpus, id, vcpu) {
		struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);

		seq_printf(m, "vcpu %lu steal_ns %llu steal_rate %u preempted %d yields %llu yields_refused %llu boosts %llu boosts_refused %llu\n",
			   id, READ_ONCE(sv->acct.steal),
			   READ_ONCE(sv->acct.rate), READ_ONCE(sv->preempted),
			   READ_ONCE(sv->yields), READ_ONCE(sv->yields_refused),
			   READ_ONCE(sv->boosts),
			   READ_ONCE(sv->boosts_refused));
	}
	mutex_unlock(&vm->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvmm_sched_debugfs);

static int pvmm_sched_vm_init(struct pvmm_vm *vm)
{
	struct pvmm_sched_vm *svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);

	if (!svm)
		return -ENOMEM;
	spin_lock_init(&svm->lock);
	vm->svc_priv[PVMM_SVC_SCHED] = svm;
	debugfs_create_file("sched", 0400, vm->debugfs, vm,
			    &pvmm_sched_debugfs_fops);
	return 0;
}

static void pvmm_sched_vm_destroy(struct pvmm_vm *vm)
{
	kfree(vm->svc_priv[PVMM_SVC_SCHED]);
}

static const struct pvmm_service pvmm_sched_service = {
	.name = "sched",
	.owner = THIS_MODULE,
	.id = PVMM_SVC_SCHED,
	.vm_init = pvmm_sched_vm_init,
	.vm_destroy = pvmm_sched_vm_destroy,
	.vcpu_init = pvmm_sched_vcpu_init,
	.vcpu_destroy = pvmm_sched_vcpu_destroy,
	.sched_in = pvmm_sched_sched_in,
	.sched_out = pvmm_sched_sched_out,
	.call = pvmm_sched_call,
};

static int __init pvmm_sched_init(void)
{
	return pvmm_service_register(&pvmm_sched_service);
}

static void __exit pvmm_sched_exit(void)
{
	pvmm_service_unregister(&pvmm_sched_service);
}

module_init(pvmm_sched_init);
module_exit(pvmm_sched_exit);
MODULE_DESCRIPTION("pvmm scheduling service: steal time and preempted state for guests");
MODULE_LICENSE("GPL");
