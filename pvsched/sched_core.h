/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure core of the scheduling service: steal accounting from a thread's
 * run delay, the steal-rate estimate and the record's version protocol.
 * No scheduler hooks here: KUnit-tested under UML.
 */
#ifndef _PVMM_SCHED_CORE_H
#define _PVMM_SCHED_CORE_H

#include <linux/types.h>
#include <linux/pvmm_sched.h>

#define PVMM_STEAL_WINDOW_NS	(100 * NSEC_PER_MSEC)

struct pvmm_steal_acct {
	u64 last_run_delay;	/* the thread's run_delay at the last update */
	u64 steal;		/* published steal, ns */
	u64 window_start;	/* wall clock (ns) of the rate window */
	u64 window_steal;	/* steal at window_start */
	u32 rate;		/* last window's steal rate, 65536 = 100 % */
};

u32 pvmm_steal_rate(u64 stolen, u64 elapsed);
void pvmm_steal_start(struct pvmm_steal_acct *a, u64 run_delay, u64 now);
u64 pvmm_steal_update(struct pvmm_steal_acct *a, u64 run_delay, u64 now);
void pvmm_steal_publish(struct pvmm_steal_record *dst, u32 *version,
			u64 steal, u32 rate);

/*
 * Placement: which vCPU threads suffering steal move to which CPU. The
 * host samples; pvmm_place_decide() decides, and only decides.
 *
 * A CPU's load is its estimated number of runnable tasks, PVMM_PLACE_ONE
 * per task. A CPU-bound thread that shares a CPU with n - 1 others loses
 * (n - 1) / n of its time, so its steal rate s tells n = 1 / (1 - s); a
 * CPU without vCPU threads is known only by its busy time.
 */
#define PVMM_PLACE_ONE		1024
#define PVMM_PLACE_MAX_LOAD	(64 * PVMM_PLACE_ONE)
#define PVMM_PLACE_WEIGHT_MAX	PVMM_SCHED_WEIGHT_MAX

/**
 * struct pvmm_place_params - the policy's knobs
 * @steal_min: steal rate from which a vCPU is a candidate to move
 * @gain_min: drop of its expected steal rate needed to move it
 * @residence_ns: no move sooner than this after the last one
 * @max_moves: moves per round, shared by the VMs' weights
 */
struct pvmm_place_params {
	u32 steal_min;
	u32 gain_min;
	u64 residence_ns;
	u32 max_moves;
};

enum pvmm_place_why {
	PVMM_PLACE_STAY_LOW_STEAL,	/* below steal_min */
	PVMM_PLACE_STAY_RESIDENCE,	/* moved too recently */
	PVMM_PLACE_STAY_NO_BETTER,	/* no allowed CPU gains gain_min */
	PVMM_PLACE_STAY_BUDGET,		/* its VM's or the round's moves spent */
	PVMM_PLACE_STAY_INVALID,	/* a VM index out of range */
	PVMM_PLACE_MOVE,
};

/**
 * struct pvmm_place_vcpu - one vCPU thread, as the policy sees it
 * @allowed: the CPUs it may use (the VMM's mask), bitmap of nr_cpus bits
 * @placed_at: when it last moved, ns; 0 for never
 * @steal_rate: its recent steal rate, PVMM_STEAL_RATE_ONE = 100 %
 * @cpu: the CPU it runs on
 * @vm: its VM, an index into the VMs' array
 * @priv: the caller's
 * @target: out: the CPU to move it to, @cpu when it stays
 * @expected: out: its expected steal rate on @target
 * @why: out: enum pvmm_place_why
 * @prio: internal: steal rate times its VM's weight
 */
struct pvmm_place_vcpu {
	const unsigned long *allowed;
	u64 placed_at;
	u32 steal_rate;
	u32 cpu;
	u32 vm;
	void *priv;
	u32 target;
	u32 expected;
	u8 why;
	u64 prio;
};

/**
 * struct pvmm_place_vm - one VM, as the policy sees it
 * @weight: its share of the moves, 1 to PVMM_PLACE_WEIGHT_MAX
 * @quota: internal: moves it may make this round
 * @moved: out: moves it makes this round
 */
struct pvmm_place_vm {
	u32 weight;
	u32 quota;
	u32 moved;
};

u32 pvmm_place_thread_load(u32 run, u32 steal);
u32 pvmm_place_cpu_load(u32 busy, u32 thread_load);
unsigned int pvmm_place_decide(struct pvmm_place_vcpu *v, unsigned int nr,
			       u32 *load, unsigned int nr_cpus,
			       struct pvmm_place_vm *vms, unsigned int nr_vms,
			       const struct pvmm_place_params *p, u64 now);

#endif /* _PVMM_SCHED_CORE_H */
