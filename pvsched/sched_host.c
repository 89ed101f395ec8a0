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
 * critical section can ask to be favoured (the lowest nice value its
 * thread may set itself) for a time the host caps, within a per-VM
 * budget, ended by a timer whatever the guest does.
 *
 * A worker samples every bound vCPU thread each place_period_ms: it
 * refreshes the steal and steal rate in the guest's record (a thread that
 * runs alone is never scheduled in again, so its record would go stale),
 * and, with the placement policy on, moves threads that lose much time to
 * less contended CPUs of the affinity mask their VMM gave them
 * (pvmm_place_decide() decides).
 */
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/kernel_stat.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/prio.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/tick.h>
#include <linux/workqueue.h>

#include <pvmm/service.h>

#include "sched_core.h"

#define CREATE_TRACE_POINTS
#include "sched_trace.h"

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

/* The placement policy's knobs: unsigned ints, each within its range. */
struct pvmm_sched_knob {
	unsigned int val;
	unsigned int min;
	unsigned int max;
};

static int pvmm_sched_knob_set(const char *val, const struct kernel_param *kp)
{
	struct pvmm_sched_knob *k = kp->arg;
	struct kernel_param p = *kp;

	p.arg = &k->val;
	return param_set_uint_minmax(val, &p, k->min, k->max);
}

static int pvmm_sched_knob_get(char *buf, const struct kernel_param *kp)
{
	struct pvmm_sched_knob *k = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(k->val));
}

static const struct kernel_param_ops pvmm_sched_knob_ops = {
	.set = pvmm_sched_knob_set,
	.get = pvmm_sched_knob_get,
};

static bool pvmm_sched_place;
module_param_named(place, pvmm_sched_place, bool, 0644);
MODULE_PARM_DESC(place,
		 "Move vCPU threads that suffer steal inside their VMM's mask (default 0)");

static struct pvmm_sched_knob pvmm_sched_period_ms = { 200, 10, 10000 };
module_param_cb(place_period_ms, &pvmm_sched_knob_ops, &pvmm_sched_period_ms,
		0644);
MODULE_PARM_DESC(place_period_ms,
		 "Sampling and placement period, ms (10-10000, default 200)");

static struct pvmm_sched_knob pvmm_sched_steal_pct = { 20, 1, 100 };
module_param_cb(place_steal_pct, &pvmm_sched_knob_ops, &pvmm_sched_steal_pct,
		0644);
MODULE_PARM_DESC(place_steal_pct,
		 "Steal rate from which a vCPU thread may move, % (1-100, default 20)");

static struct pvmm_sched_knob pvmm_sched_gain_pct = { 10, 0, 100 };
module_param_cb(place_gain_pct, &pvmm_sched_knob_ops, &pvmm_sched_gain_pct,
		0644);
MODULE_PARM_DESC(place_gain_pct,
		 "Expected steal rate drop needed to move, % (0-100, default 10)");

static struct pvmm_sched_knob pvmm_sched_residence_ms = { 1000, 0, 600000 };
module_param_cb(place_residence_ms, &pvmm_sched_knob_ops,
		&pvmm_sched_residence_ms, 0644);
MODULE_PARM_DESC(place_residence_ms,
		 "Least time between two moves of a thread, ms (0-600000, default 1000)");

static struct pvmm_sched_knob pvmm_sched_max_moves = { 4, 0, 1024 };
module_param_cb(place_max_moves, &pvmm_sched_knob_ops, &pvmm_sched_max_moves,
		0644);
MODULE_PARM_DESC(place_max_moves,
		 "Moves per period, shared by the VMs' weights (0-1024, default 4)");

/*
 * The worker's state: the VMs and their vCPUs, each vCPU's placement and
 * the CPUs' idle time at the last round. Taken after vm->lock.
 */
static DEFINE_MUTEX(pvmm_sched_place_lock);
static LIST_HEAD(pvmm_sched_vms);
static u64 *pvmm_sched_idle_ns;
static u64 pvmm_sched_round_ns;
static void pvmm_sched_round(struct work_struct *work);
static DECLARE_DELAYED_WORK(pvmm_sched_work, pvmm_sched_round);

struct pvmm_sched_vm {
	spinlock_t lock;		/* the budget window */
	u64 window_start;
	u64 granted_ns;
	struct pvmm_vm *vm;
	/* under pvmm_sched_place_lock */
	struct list_head node;
	struct list_head vcpus;
	u32 weight;
	u64 migrations;
};

/*
 * Placement of one vCPU thread. The mask the VMM set is recorded while
 * the thread is not placed; a placed thread's mask is the one CPU it was
 * moved to, a subset of that record, and is given back when the policy
 * lets it go. A mask found changed while placed is the VMM's new one.
 */
struct pvmm_sched_place {
	struct list_head node;		/* in pvmm_sched_vm.vcpus */
	cpumask_var_t vmm_mask;
	struct task_struct *task;	/* referenced while placed */
	int cpu;			/* placed there, or -1 */
	u64 placed_at;
	struct task_struct *sampled;	/* not referenced: compared only */
	u64 last_run_delay;
	u64 last_exec;
	u64 last_ns;
	u32 rate;			/* steal rate over the last period */
	u32 run_rate;			/* and its share spent running */
	u64 migrations;
};

struct pvmm_sched_vcpu {
	struct pvmm_vcpu *vcpu;
	struct pvmm_gpage rec;
	raw_spinlock_t rec_lock;	/* acct, version: sched-in and worker */
	struct pvmm_steal_acct acct;
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
	long boost_nice;		/* what the boost set */
	struct pvmm_sched_place pl;	/* under pvmm_sched_place_lock */
};

static struct pvmm_sched_vcpu *pvmm_sched_vcpu(struct pvmm_vcpu *vcpu)
{
	return vcpu->svc_priv[PVMM_SVC_SCHED];
}

/*
 * Account @rd, the bound thread's run delay, and publish: at its sched-in
 * (@running: the preempted byte is cleared too), or from the worker.
 */
static void pvmm_sched_record(struct pvmm_sched_vcpu *sv, u64 rd, bool start,
			      bool running)
{
	struct pvmm_steal_record *r;
	unsigned long flags, gflags;
	u64 steal;
	u32 rate;

	if (running)
		WRITE_ONCE(sv->preempted, false);
	raw_spin_lock_irqsave(&sv->rec_lock, flags);
	if (start)
		pvmm_steal_start(&sv->acct, rd, local_clock());
	steal = pvmm_steal_update(&sv->acct, rd, local_clock());
	rate = sv->acct.rate;
	r = pvmm_gpage_begin(&sv->rec, &gflags);
	if (r) {
		if (running)
			WRITE_ONCE(r->preempted, 0);
		pvmm_steal_publish(r, &sv->version, steal, rate);
	}
	pvmm_gpage_end(&sv->rec, gflags);
	raw_spin_unlock_irqrestore(&sv->rec_lock, flags);
	if (r)
		trace_pvmm_sched_steal(sv->vcpu->vm->id, sv->vcpu->id, steal,
				       rate);
}

static void pvmm_sched_sched_in(struct pvmm_vcpu *vcpu, int cpu)
{
	pvmm_sched_record(pvmm_sched_vcpu(vcpu),
			  current->sched_info.run_delay, false, true);
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
	pvmm_sched_record(sv, current->sched_info.run_delay, true, true);
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

static enum hrtimer_restart pvmm_sched_boost_timer(struct hrtimer *timer)
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

static s64 pvmm_sched_boost(struct pvmm_vcpu *vcpu, u64 us)
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
		trace_pvmm_sched_boost(vcpu->vm->id, vcpu->id, args[0], *ret);
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

/* The placed thread's mask is still the one CPU it was placed on. */
static bool pvmm_sched_still_placed(struct pvmm_sched_place *pl)
{
	unsigned long flags;
	bool same;

	raw_spin_lock_irqsave(&pl->task->pi_lock, flags);
	same = cpumask_equal(&pl->task->cpus_mask, cpumask_of(pl->cpu));
	raw_spin_unlock_irqrestore(&pl->task->pi_lock, flags);
	return same;
}

/* Let a placed thread go: the VMM's mask back, unless it set another. */
static void pvmm_sched_unplace(struct pvmm_sched_place *pl)
{
	if (pl->cpu < 0)
		return;
	if (!(pl->task->flags & PF_EXITING) && pvmm_sched_still_placed(pl))
		set_cpus_allowed_ptr(pl->task, pl->vmm_mask);
	put_task_struct(pl->task);
	pl->task = NULL;
	WRITE_ONCE(pl->cpu, -1);
}

/*
 * One vCPU at a round: its thread's steal rate over the period, its
 * guest record refreshed, the VMM's mask recorded. Returns the thread,
 * referenced, or NULL.
 */
static struct task_struct *pvmm_sched_sample(struct pvmm_sched_vcpu *sv,
					     u64 now)
{
	struct pvmm_sched_place *pl = &sv->pl;
	struct task_struct *t = pvmm_vcpu_task_get(sv->vcpu);
	unsigned long flags;
	bool changed;
	u64 rd, exec;

	if (pl->cpu >= 0 && pl->task != t)	/* unbound, or another thread */
		pvmm_sched_unplace(pl);
	if (!t) {
		pl->sampled = NULL;
		pl->rate = 0;
		pl->run_rate = 0;
		return NULL;
	}
	rd = READ_ONCE(t->sched_info.run_delay);
	exec = READ_ONCE(t->se.sum_exec_runtime);
	if (pl->sampled == t && now > pl->last_ns) {
		pl->rate = pvmm_steal_rate(rd > pl->last_run_delay ?
					   rd - pl->last_run_delay : 0,
					   now - pl->last_ns);
		pl->run_rate = pvmm_steal_rate(exec > pl->last_exec ?
					       exec - pl->last_exec : 0,
					       now - pl->last_ns);
	} else {
		pl->rate = 0;
		pl->run_rate = 0;
	}
	pl->sampled = t;
	pl->last_run_delay = rd;
	pl->last_exec = exec;
	pl->last_ns = now;
	pvmm_sched_record(sv, rd, false, false);

	/* a placed thread's mask that is not its CPU is the VMM's new one */
	raw_spin_lock_irqsave(&t->pi_lock, flags);
	changed = pl->cpu >= 0 &&
		  !cpumask_equal(&t->cpus_mask, cpumask_of(pl->cpu));
	if (pl->cpu < 0 || changed)
		cpumask_copy(pl->vmm_mask, &t->cpus_mask);
	raw_spin_unlock_irqrestore(&t->pi_lock, flags);
	if (changed) {
		put_task_struct(pl->task);
		pl->task = NULL;
		WRITE_ONCE(pl->cpu, -1);
	}
	return t;
}

static u64 pvmm_sched_idle_time(int cpu)
{
	u64 us = get_cpu_idle_time_us(cpu, NULL);

	/* without NO_HZ, the tick's accounting */
	if (us == (u64)-1)
		return kcpustat_field(&kcpustat_cpu(cpu), CPUTIME_IDLE, cpu);
	return us * NSEC_PER_USEC;
}

/* Each CPU's busy share since the last round, in @busy. */
static void pvmm_sched_busy(u32 *busy, u64 now)
{
	u64 wall = now - pvmm_sched_round_ns, idle, d;
	int cpu;

	for_each_possible_cpu(cpu) {
		idle = pvmm_sched_idle_time(cpu);
		d = idle > pvmm_sched_idle_ns[cpu] ?
		    idle - pvmm_sched_idle_ns[cpu] : 0;
		pvmm_sched_idle_ns[cpu] = idle;
		if (busy)
			busy[cpu] = PVMM_STEAL_RATE_ONE -
				    pvmm_steal_rate(min(d, wall), wall);
	}
	pvmm_sched_round_ns = now;
}

/*
 * set_cpus_allowed_ptr() is exported and does what the VMM's own
 * sched_setaffinity() does, without the permission checks that are the
 * VMM's: the thread moves at once to the one CPU of the new mask. The
 * mask stays that CPU, a subset of the VMM's, so that the load balancer
 * does not undo the move; the VMM's mask is given back when the policy
 * is switched off or the vCPU goes away.
 */
static void pvmm_sched_move(struct pvmm_sched_vcpu *sv, struct task_struct *t,
			    const struct pvmm_place_vcpu *e, u64 now)
{
	struct pvmm_sched_vm *svm = sv->vcpu->vm->svc_priv[PVMM_SVC_SCHED];
	struct pvmm_sched_place *pl = &sv->pl;
	int err = set_cpus_allowed_ptr(t, cpumask_of(e->target));

	trace_pvmm_sched_migrate(sv->vcpu->vm->id, sv->vcpu->id, e->cpu,
				 e->target, e->steal_rate, e->expected, err);
	if (err)
		return;
	if (pl->cpu < 0)
		pl->task = get_task_struct(t);
	WRITE_ONCE(pl->cpu, e->target);
	pl->placed_at = now;
	WRITE_ONCE(pl->migrations, pl->migrations + 1);
	svm->migrations++;
}

/* What a round needs, for @nr vCPUs of @nr_vms VMs. */
struct pvmm_sched_scratch {
	struct pvmm_place_vcpu *v;
	struct task_struct **task;
	unsigned long *masks;
	struct pvmm_place_vm *vms;
	u32 *load;
	u32 *tload;			/* the most a thread there tells */
};

static void pvmm_sched_scratch_free(struct pvmm_sched_scratch *s)
{
	kvfree(s->v);
	kvfree(s->task);
	kvfree(s->masks);
	kvfree(s->vms);
	kvfree(s->load);
	kvfree(s->tload);
}

static bool pvmm_sched_scratch_alloc(struct pvmm_sched_scratch *s,
				     unsigned int nr, unsigned int nr_vms)
{
	s->v = kvcalloc(nr, sizeof(*s->v), GFP_KERNEL);
	s->task = kvcalloc(nr, sizeof(*s->task), GFP_KERNEL);
	s->masks = kvcalloc(nr, cpumask_size(), GFP_KERNEL);
	s->vms = kvcalloc(nr_vms, sizeof(*s->vms), GFP_KERNEL);
	s->load = kvcalloc(nr_cpu_ids, sizeof(*s->load), GFP_KERNEL);
	s->tload = kvcalloc(nr_cpu_ids, sizeof(*s->tload), GFP_KERNEL);
	if (s->v && s->task && s->masks && s->vms && s->load && s->tload)
		return true;
	pvmm_sched_scratch_free(s);
	return false;
}

/* Add one sampled thread to the round's input. */
static void pvmm_sched_input(struct pvmm_sched_scratch *s, unsigned int n,
			     unsigned int vm, struct pvmm_sched_vcpu *sv,
			     struct task_struct *t)
{
	struct pvmm_place_vcpu *e = &s->v[n];
	struct cpumask *allowed = (void *)s->masks + n * cpumask_size();

	cpumask_and(allowed, sv->pl.vmm_mask, cpu_active_mask);
	e->allowed = cpumask_bits(allowed);
	e->placed_at = sv->pl.cpu >= 0 ? sv->pl.placed_at : 0;
	e->steal_rate = sv->pl.rate;
	e->cpu = task_cpu(t);
	e->vm = vm;
	e->priv = (void *)(unsigned long)n;
	s->task[n] = t;
	if (e->cpu < nr_cpu_ids)
		s->tload[e->cpu] = max(s->tload[e->cpu],
				       pvmm_place_thread_load(sv->pl.run_rate,
							      sv->pl.rate));
}

/* Decide on the round's input, and move. */
static void pvmm_sched_place_all(struct pvmm_sched_scratch *s,
				 struct pvmm_sched_vcpu **svs, unsigned int nr,
				 unsigned int nr_vms, u64 now)
{
	struct pvmm_place_params p = {
		.steal_min = div_u64((u64)READ_ONCE(pvmm_sched_steal_pct.val) *
				     PVMM_STEAL_RATE_ONE, 100),
		.gain_min = div_u64((u64)READ_ONCE(pvmm_sched_gain_pct.val) *
				    PVMM_STEAL_RATE_ONE, 100),
		.residence_ns = (u64)READ_ONCE(pvmm_sched_residence_ms.val) *
				NSEC_PER_MSEC,
		.max_moves = READ_ONCE(pvmm_sched_max_moves.val),
	};
	unsigned int i, n;
	int cpu;

	for (cpu = 0; cpu < nr_cpu_ids; cpu++)
		s->load[cpu] = cpu_active(cpu) ?
			pvmm_place_cpu_load(s->load[cpu], s->tload[cpu]) :
			PVMM_PLACE_MAX_LOAD;
	pvmm_place_decide(s->v, nr, s->load, nr_cpu_ids, s->vms, nr_vms, &p,
			  now);
	for (i = 0; i < nr; i++) {
		n = (unsigned long)s->v[i].priv;
		if (s->v[i].why == PVMM_PLACE_MOVE)
			pvmm_sched_move(svs[n], s->task[n], &s->v[i], now);
	}
}

/*
 * The worker: sample every vCPU thread, refresh its record, and with the
 * policy on, place; with it off, let every placed thread go.
 */
static void pvmm_sched_round(struct work_struct *work)
{
	struct pvmm_sched_scratch s = {};
	struct pvmm_sched_vcpu **svs = NULL;
	unsigned int nr = 0, nr_vms = 0, n = 0, vm = 0, i;
	bool place = READ_ONCE(pvmm_sched_place);
	struct pvmm_sched_vcpu *sv;
	struct pvmm_sched_vm *svm;
	struct task_struct *t;
	u64 now;

	mutex_lock(&pvmm_sched_place_lock);
	list_for_each_entry(svm, &pvmm_sched_vms, node) {
		nr_vms++;
		list_for_each_entry(sv, &svm->vcpus, pl.node)
			nr++;
	}
	if (!nr_vms) {
		mutex_unlock(&pvmm_sched_place_lock);
		return;
	}
	/* no vCPU, or short of memory: this round only samples */
	place = place && nr;
	if (place) {
		svs = kvcalloc(nr, sizeof(*svs), GFP_KERNEL);
		place = svs && pvmm_sched_scratch_alloc(&s, nr, nr_vms);
	}
	now = ktime_get_ns();
	pvmm_sched_busy(place ? s.load : NULL, now);
	list_for_each_entry(svm, &pvmm_sched_vms, node) {
		if (place)
			s.vms[vm].weight = svm->weight;
		list_for_each_entry(sv, &svm->vcpus, pl.node) {
			t = pvmm_sched_sample(sv, now);
			if (!place)
				pvmm_sched_unplace(&sv->pl);
			if (!t)
				continue;
			/* not a VMM's thread, or one on its way out */
			if (!place || t->flags & (PF_EXITING | PF_NO_SETAFFINITY)) {
				put_task_struct(t);
				continue;
			}
			svs[n] = sv;
			pvmm_sched_input(&s, n++, vm, sv, t);
		}
		vm++;
	}
	if (place) {
		pvmm_sched_place_all(&s, svs, n, nr_vms, now);
		for (i = 0; i < n; i++)
			put_task_struct(s.task[i]);
		pvmm_sched_scratch_free(&s);
	}
	kvfree(svs);
	queue_delayed_work(system_unbound_wq, &pvmm_sched_work,
			   msecs_to_jiffies(READ_ONCE(pvmm_sched_period_ms.val)));
	mutex_unlock(&pvmm_sched_place_lock);
}

static int pvmm_sched_vcpu_init(struct pvmm_vcpu *vcpu)
{
	struct pvmm_sched_vcpu *sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);

	if (!sv)
		return -ENOMEM;
	if (!zalloc_cpumask_var(&sv->pl.vmm_mask, GFP_KERNEL_ACCOUNT)) {
		kfree(sv);
		return -ENOMEM;
	}
	sv->vcpu = vcpu;
	pvmm_gpage_init(&sv->rec, vcpu->vm);
	raw_spin_lock_init(&sv->rec_lock);
	spin_lock_init(&sv->boost_lock);
	hrtimer_init(&sv->boost_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	sv->boost_timer.function = pvmm_sched_boost_timer;
	sv->pl.cpu = -1;
	vcpu->svc_priv[PVMM_SVC_SCHED] = sv;
	mutex_lock(&pvmm_sched_place_lock);
	list_add_tail(&sv->pl.node,
		      &((struct pvmm_sched_vm *)
			vcpu->vm->svc_priv[PVMM_SVC_SCHED])->vcpus);
	mutex_unlock(&pvmm_sched_place_lock);
	return 0;
}

static void pvmm_sched_vcpu_destroy(struct pvmm_vcpu *vcpu)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);

	mutex_lock(&pvmm_sched_place_lock);
	list_del(&sv->pl.node);
	pvmm_sched_unplace(&sv->pl);
	mutex_unlock(&pvmm_sched_place_lock);
	hrtimer_cancel(&sv->boost_timer);
	pvmm_sched_boost_end(sv);
	pvmm_gpage_deactivate(&sv->rec);
	free_cpumask_var(sv->pl.vmm_mask);
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

		seq_printf(m, "vcpu %lu steal_ns %llu steal_rate %u preempted %d yields %llu yields_refused %llu boosts %llu boosts_refused %llu migrations %llu placed_cpu %d\n",
			   id, READ_ONCE(sv->acct.steal),
			   READ_ONCE(sv->acct.rate), READ_ONCE(sv->preempted),
			   READ_ONCE(sv->yields), READ_ONCE(sv->yields_refused),
			   READ_ONCE(sv->boosts),
			   READ_ONCE(sv->boosts_refused),
			   READ_ONCE(sv->pl.migrations),
			   READ_ONCE(sv->pl.cpu));
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
	svm->vm = vm;
	INIT_LIST_HEAD(&svm->vcpus);
	svm->weight = PVMM_SCHED_WEIGHT_DEFAULT;
	vm->svc_priv[PVMM_SVC_SCHED] = svm;
	debugfs_create_file("sched", 0400, vm->debugfs, vm,
			    &pvmm_sched_debugfs_fops);
	mutex_lock(&pvmm_sched_place_lock);
	list_add_tail(&svm->node, &pvmm_sched_vms);
	mutex_unlock(&pvmm_sched_place_lock);
	/* the worker stops when there is no VM */
	queue_delayed_work(system_unbound_wq, &pvmm_sched_work,
			   msecs_to_jiffies(READ_ONCE(pvmm_sched_period_ms.val)));
	return 0;
}

static void pvmm_sched_vm_destroy(struct pvmm_vm *vm)
{
	struct pvmm_sched_vm *svm = vm->svc_priv[PVMM_SVC_SCHED];

	mutex_lock(&pvmm_sched_place_lock);
	list_del(&svm->node);
	mutex_unlock(&pvmm_sched_place_lock);
	kfree(svm);
}

static int pvmm_sched_vm_ctl(struct pvmm_vm *vm, u32 op, const u64 *in,
			     u64 *out)
{
	struct pvmm_sched_vm *svm = vm->svc_priv[PVMM_SVC_SCHED];
	int r = 0;

	mutex_lock(&pvmm_sched_place_lock);
	switch (op) {
	case PVMM_SCHED_CTL_SET_WEIGHT:
		if (!in[0] || in[0] > PVMM_SCHED_WEIGHT_MAX)
			r = -EINVAL;
		else
			svm->weight = in[0];
		break;
	case PVMM_SCHED_CTL_GET:
		out[0] = svm->weight;
		out[1] = svm->migrations;
		break;
	default:
		r = -EOPNOTSUPP;
		break;
	}
	mutex_unlock(&pvmm_sched_place_lock);
	return r;
}

/*
 * Records under a changed memslot lost their pin: pin them again. The
 * next sched-in, or the worker for a thread that runs alone, publishes.
 * Called with vm->lock held.
 */
static void pvmm_sched_memslots_changed(struct pvmm_vm *vm)
{
	struct pvmm_vcpu *vcpu;
	unsigned long id;

	/*
	 * Pinning may fault, and a fault on a mapping the VMM serves itself
	 * may take forever: only this VM's lock is held meanwhile, under
	 * which every vCPU in vm->vcpus stays (release erases it with it).
	 */
	lockdep_assert_held(&vm->lock);
	xa_for_each(&vm->vcpus, id, vcpu)
		pvmm_gpage_refresh(&pvmm_sched_vcpu(vcpu)->rec);
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
	.vm_ctl = pvmm_sched_vm_ctl,
	.memslots_changed = pvmm_sched_memslots_changed,
};

static int __init pvmm_sched_init(void)
{
	int r;

	pvmm_sched_idle_ns = kcalloc(nr_cpu_ids, sizeof(*pvmm_sched_idle_ns),
				     GFP_KERNEL);
	if (!pvmm_sched_idle_ns)
		return -ENOMEM;
	r = pvmm_service_register(&pvmm_sched_service);
	if (r)
		kfree(pvmm_sched_idle_ns);
	return r;
}

static void __exit pvmm_sched_exit(void)
{
	pvmm_service_unregister(&pvmm_sched_service);
	/* no VM is left: a round finds none and does not come back */
	cancel_delayed_work_sync(&pvmm_sched_work);
	kfree(pvmm_sched_idle_ns);
}

module_init(pvmm_sched_init);
module_exit(pvmm_sched_exit);
MODULE_DESCRIPTION("pvmm scheduling service: steal time and preempted state for guests");
MODULE_LICENSE("GPL");
