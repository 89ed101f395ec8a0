/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scheduling service's host glue, in three parts around the service
 * itself (sched_host.c): the steal-time records (sched_steal.c), directed
 * yield and boost (sched_boost.c), and the sampling and placement worker
 * (sched_place.c). Locks: vm->lock, then pvmm_sched_place_lock, then a
 * vCPU's rec_lock or boost_lock.
 */
#ifndef _PVMM_SCHED_HOST_H
#define _PVMM_SCHED_HOST_H

#include <linux/cpumask.h>
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

#include <pvmm/service.h>

#include "sched_core.h"

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

static inline struct pvmm_sched_vcpu *pvmm_sched_vcpu(struct pvmm_vcpu *vcpu)
{
	return vcpu->svc_priv[PVMM_SVC_SCHED];
}

/* sched_steal.c */
void pvmm_sched_record(struct pvmm_sched_vcpu *sv, u64 rd, bool start,
		       bool running);
void pvmm_sched_sched_in(struct pvmm_vcpu *vcpu, int cpu);
void pvmm_sched_sched_out(struct pvmm_vcpu *vcpu, struct task_struct *next);
s64 pvmm_sched_steal_enable(struct pvmm_sched_vcpu *sv, u64 gpa);
void pvmm_sched_memslots_changed(struct pvmm_vm *vm);

/* sched_boost.c */
s64 pvmm_sched_yield_to(struct pvmm_vcpu *vcpu, u64 id);
s64 pvmm_sched_boost(struct pvmm_vcpu *vcpu, u64 us);
void pvmm_sched_boost_end(struct pvmm_sched_vcpu *sv);
enum hrtimer_restart pvmm_sched_boost_timer(struct hrtimer *timer);

/* sched_place.c */
extern struct mutex pvmm_sched_place_lock;
void pvmm_sched_place_vm_add(struct pvmm_sched_vm *svm);
void pvmm_sched_place_vm_del(struct pvmm_sched_vm *svm);
void pvmm_sched_place_vcpu_add(struct pvmm_sched_vm *svm,
			       struct pvmm_sched_vcpu *sv);
void pvmm_sched_place_vcpu_del(struct pvmm_sched_vcpu *sv);
int pvmm_sched_place_init(void);
void pvmm_sched_place_exit(void);

#endif /* _PVMM_SCHED_HOST_H */
