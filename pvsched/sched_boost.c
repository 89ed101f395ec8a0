// SPDX-License-Identifier: GPL-2.0
/*
 * Directed yield and boost. A vCPU spinning on a lock whose holder was
 * preempted can yield its CPU to the holder (yield_to), at a rate the
 * host caps; a vCPU entering a critical section can ask to be favoured
 * (the lowest nice value its thread may set itself) for a time the host
 * caps, within a per-VM budget, ended by a timer whatever the guest does.
 */
#include <linux/capability.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/prio.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "sched_host.h"

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

s64 pvmm_sched_yield_to(struct pvmm_vcpu *vcpu, u64 id)
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
void pvmm_sched_boost_end(struct pvmm_sched_vcpu *sv)
{
	struct task_struct *t;
	unsigned long flags;
	long nice, boost;

	spin_lock_irqsave(&sv->boost_lock, flags);
	t = sv->boosted;
	sv->boosted = NULL;
	nice = sv->saved_nice;
	boost = sv->boost_nice;
	spin_unlock_irqrestore(&sv->boost_lock, flags);
	if (!t)
		return;
	/*
	 * A nice value the VMM set during the boost stays: it could set it
	 * only within its own limits, as the boost was.
	 */
	if (task_nice(t) == boost)
		set_user_nice(t, nice);
	put_task_struct(t);
}

enum hrtimer_restart pvmm_sched_boost_timer(struct hrtimer *timer)
{
	pvmm_sched_boost_end(container_of(timer, struct pvmm_sched_vcpu,
					  boost_timer));
	return HRTIMER_NORESTART;
}

/*
 * The lowest nice value the calling thread could set itself
 * (setpriority(2)): its RLIMIT_NICE, or any with CAP_SYS_NICE. A boost
 * goes no lower, so that it gives the VMM nothing it did not have; the
 * operator grants more the usual way, with RLIMIT_NICE (LimitNICE=).
 */
static long pvmm_sched_nice_floor(void)
{
	unsigned long lim = rlimit(RLIMIT_NICE);	/* 20 - lowest nice */

	if (lim >= MAX_NICE - MIN_NICE + 1 ||
	    ns_capable_noaudit(&init_user_ns, CAP_SYS_NICE))
		return MIN_NICE;
	return min_t(long, rlimit_to_nice(lim), MAX_NICE);
}

s64 pvmm_sched_boost(struct pvmm_vcpu *vcpu, u64 us)
{
	struct pvmm_sched_vm *svm = vcpu->vm->svc_priv[PVMM_SVC_SCHED];
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);
	long nice = pvmm_sched_nice_floor();
	unsigned long flags;

	if (!us)
		return -EINVAL;
	us = min_t(u64, us, READ_ONCE(pvmm_sched_boost_max_us));
	if (!us)
		return -EBUSY;		/* boosting switched off */
	if (READ_ONCE(sv->boosted))
		return -EALREADY;
	/* nothing to gain: the thread is already as favoured as it may be */
	if (nice >= task_nice(current))
		return -EPERM;
	if (!pvmm_sched_budget_take(svm, us * NSEC_PER_USEC)) {
		sv->boosts_refused++;
		return -EBUSY;
	}
	sv->boosts++;
	spin_lock_irqsave(&sv->boost_lock, flags);
	sv->saved_nice = task_nice(current);
	sv->boost_nice = nice;
	sv->boosted = get_task_struct(current);
	spin_unlock_irqrestore(&sv->boost_lock, flags);
	set_user_nice(current, nice);
	hrtimer_start(&sv->boost_timer, ns_to_ktime(us * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_SOFT);
	return us;
}
