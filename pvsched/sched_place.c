// SPDX-License-Identifier: GPL-2.0
/*
 * A worker samples every bound vCPU thread each place_period_ms: it
 * refreshes the steal and steal rate in the guest's record (a thread that
 * runs alone is never scheduled in again, so its record would go stale),
 * and, with the placement policy on, moves threads that lose much time to
 * less contended CPUs of the affinity mask their VMM gave them
 * (pvmm_place_decide() decides).
 */
#include <linux/kernel_stat.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/tick.h>
#include <linux/workqueue.h>

#include "sched_host.h"
#include "sched_trace.h"

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
DEFINE_MUTEX(pvmm_sched_place_lock);
static LIST_HEAD(pvmm_sched_vms);
static u64 *pvmm_sched_idle_ns;
static u64 pvmm_sched_round_ns;
static void pvmm_sched_round(struct work_struct *work);
static DECLARE_DELAYED_WORK(pvmm_sched_work, pvmm_sched_round);

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

void pvmm_sched_place_vm_add(struct pvmm_sched_vm *svm)
{
	mutex_lock(&pvmm_sched_place_lock);
	list_add_tail(&svm->node, &pvmm_sched_vms);
	mutex_unlock(&pvmm_sched_place_lock);
	/* the worker stops when there is no VM */
	queue_delayed_work(system_unbound_wq, &pvmm_sched_work,
			   msecs_to_jiffies(READ_ONCE(pvmm_sched_period_ms.val)));
}

void pvmm_sched_place_vm_del(struct pvmm_sched_vm *svm)
{
	mutex_lock(&pvmm_sched_place_lock);
	list_del(&svm->node);
	mutex_unlock(&pvmm_sched_place_lock);
}

void pvmm_sched_place_vcpu_add(struct pvmm_sched_vm *svm,
			       struct pvmm_sched_vcpu *sv)
{
	mutex_lock(&pvmm_sched_place_lock);
	list_add_tail(&sv->pl.node, &svm->vcpus);
	mutex_unlock(&pvmm_sched_place_lock);
}

void pvmm_sched_place_vcpu_del(struct pvmm_sched_vcpu *sv)
{
	mutex_lock(&pvmm_sched_place_lock);
	list_del(&sv->pl.node);
	pvmm_sched_unplace(&sv->pl);
	mutex_unlock(&pvmm_sched_place_lock);
}

int pvmm_sched_place_init(void)
{
	pvmm_sched_idle_ns = kcalloc(nr_cpu_ids, sizeof(*pvmm_sched_idle_ns),
				     GFP_KERNEL);
	return pvmm_sched_idle_ns ? 0 : -ENOMEM;
}

/* No VM is left: a round finds none and does not come back. */
void pvmm_sched_place_exit(void)
{
	cancel_delayed_work_sync(&pvmm_sched_work);
	kfree(pvmm_sched_idle_ns);
}
