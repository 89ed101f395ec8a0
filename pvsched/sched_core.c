// SPDX-License-Identifier: GPL-2.0
/*
 * Pure core of the scheduling service. Steal is the growth of the vCPU
 * thread's run delay (time runnable on a run queue without running): the
 * scheduler's own measure, so it matches /proc/<pid>/schedstat exactly.
 */
#include <linux/bitmap.h>
#include <linux/compiler.h>
#include <linux/limits.h>
#include <linux/math.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/sort.h>
#include <linux/time64.h>
#include <pvmm/record.h>

#include "sched_core.h"

/* Steal counts from now: @run_delay and @now are the current readings. */
void pvmm_steal_start(struct pvmm_steal_acct *a, u64 run_delay, u64 now)
{
	a->last_run_delay = run_delay;
	a->steal = 0;
	a->window_start = now;
	a->window_steal = 0;
	a->rate = 0;
}

/* @stolen ns of @elapsed, PVMM_STEAL_RATE_ONE = all; 0 for no time. */
u32 pvmm_steal_rate(u64 stolen, u64 elapsed)
{
	if (!elapsed)
		return 0;
	/* keep stolen * 65536 in 64 bits, even for a window of years */
	while (elapsed >> 47) {
		elapsed >>= 1;
		stolen >>= 1;
	}
	return stolen >= elapsed ? PVMM_STEAL_RATE_ONE :
	       div64_u64(stolen * PVMM_STEAL_RATE_ONE, elapsed);
}

/**
 * pvmm_steal_update() - account the run delay since the last update
 * @a: the vCPU's accounting
 * @run_delay: the thread's run delay now
 * @now: wall clock, ns
 *
 * Steal never goes back: a run delay that went down (the counter was
 * reset) only moves the base. The rate is steal over wall time in the
 * last window of at least PVMM_STEAL_WINDOW_NS.
 *
 * Return: the steal to publish.
 */
u64 pvmm_steal_update(struct pvmm_steal_acct *a, u64 run_delay, u64 now)
{
	u64 elapsed;

	if (run_delay > a->last_run_delay)
		a->steal += run_delay - a->last_run_delay;
	a->last_run_delay = run_delay;

	elapsed = now - a->window_start;
	if (now > a->window_start && elapsed >= PVMM_STEAL_WINDOW_NS) {
		a->rate = pvmm_steal_rate(a->steal - a->window_steal, elapsed);
		a->window_start = now;
		a->window_steal = a->steal;
	}
	return a->steal;
}

/* The steal record, under the same protocol as kvm_steal_time's. */
void pvmm_steal_publish(struct pvmm_steal_record *dst, u32 *version,
			u64 steal, u32 rate)
{
	u32 v = pvmm_record_write_begin(&dst->version, version);

	WRITE_ONCE(dst->steal, steal);
	WRITE_ONCE(dst->steal_rate, rate);
	pvmm_record_write_end(&dst->version, version, v);
}

/**
 * pvmm_place_thread_load() - a vCPU thread's estimate of its CPU's load
 * @run: its share of the last period spent running, PVMM_STEAL_RATE_ONE
 *       = all
 * @steal: its share spent runnable but waiting for the CPU
 *
 * While runnable it got run / (run + steal) of the CPU, so it shared the
 * CPU with (run + steal) / run tasks, itself included, for (run + steal)
 * of the time. A CPU-bound thread gives 1 / (1 - steal); one that mostly
 * sleeps tells little, however it waited when it woke.
 *
 * Return: the load, PVMM_PLACE_ONE per task, at most PVMM_PLACE_MAX_LOAD.
 */
u32 pvmm_place_thread_load(u32 run, u32 steal)
{
	u64 present, load;

	run = min_t(u32, run, PVMM_STEAL_RATE_ONE);
	steal = min_t(u32, steal, PVMM_STEAL_RATE_ONE);
	present = (u64)run + steal;
	if (!run)
		return steal ? PVMM_PLACE_MAX_LOAD : 0;
	load = div64_u64(present * present * PVMM_PLACE_ONE,
			 (u64)run * PVMM_STEAL_RATE_ONE);
	return min_t(u64, load, PVMM_PLACE_MAX_LOAD);
}

/**
 * pvmm_place_cpu_load() - estimated runnable tasks on a CPU
 * @busy: the CPU's busy share of the last round, PVMM_STEAL_RATE_ONE = all
 * @thread_load: the highest pvmm_place_thread_load() of a vCPU thread
 *               there, or 0
 *
 * Busy time alone tells no more than that one task at most ran there.
 *
 * Return: the load, PVMM_PLACE_ONE per task, at most PVMM_PLACE_MAX_LOAD.
 */
u32 pvmm_place_cpu_load(u32 busy, u32 thread_load)
{
	busy = min_t(u32, busy, PVMM_STEAL_RATE_ONE);
	return min_t(u32, max_t(u32, div_u64((u64)busy * PVMM_PLACE_ONE,
					     PVMM_STEAL_RATE_ONE),
				thread_load),
		     PVMM_PLACE_MAX_LOAD);
}

/* The steal rate of a CPU-bound thread joining @load others: n / (n + 1). */
static u32 pvmm_place_expected(u32 load)
{
	load = min_t(u32, load, PVMM_PLACE_MAX_LOAD);
	return div_u64((u64)load * PVMM_STEAL_RATE_ONE, load + PVMM_PLACE_ONE);
}

/* Most weighted steal first; the rest only makes the order repeatable. */
static int pvmm_place_cmp(const void *a, const void *b)
{
	const struct pvmm_place_vcpu *x = a, *y = b;

	if (x->prio != y->prio)
		return x->prio < y->prio ? 1 : -1;
	if (x->vm != y->vm)
		return x->vm < y->vm ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return 0;
}

/* Mark the candidates; returns the sum of the weights of their VMs. */
static u64 pvmm_place_candidates(struct pvmm_place_vcpu *v, unsigned int nr,
				 struct pvmm_place_vm *vms,
				 unsigned int nr_vms,
				 const struct pvmm_place_params *p, u64 now)
{
	u64 sum = 0;
	unsigned int i;
	u32 w;

	for (i = 0; i < nr_vms; i++) {
		vms[i].quota = 0;
		vms[i].moved = 0;
	}
	for (i = 0; i < nr; i++) {
		struct pvmm_place_vcpu *c = &v[i];

		c->target = c->cpu;
		c->expected = c->steal_rate;
		c->prio = 0;
		if (c->vm >= nr_vms || !vms[c->vm].weight) {
			c->why = PVMM_PLACE_STAY_INVALID;
			continue;
		}
		if (!c->steal_rate || c->steal_rate < p->steal_min) {
			c->why = PVMM_PLACE_STAY_LOW_STEAL;
			continue;
		}
		/* a clock that went back counts as too recent */
		if (c->placed_at && (now < c->placed_at ||
				     now - c->placed_at < p->residence_ns)) {
			c->why = PVMM_PLACE_STAY_RESIDENCE;
			continue;
		}
		c->why = PVMM_PLACE_STAY_NO_BETTER;
		w = min_t(u32, vms[c->vm].weight, PVMM_PLACE_WEIGHT_MAX);
		c->prio = (u64)c->steal_rate * w;
		if (!vms[c->vm].quota) {
			vms[c->vm].quota = 1;
			sum += w;
		}
	}
	return sum;
}

/**
 * pvmm_place_decide() - which vCPU threads move where, and why
 * @v: the vCPU threads; reordered, most weighted steal first
 * @nr: entries in @v
 * @load: per CPU, pvmm_place_cpu_load(); updated as if the moves were made
 * @nr_cpus: entries in @load, bits in each allowed mask
 * @vms: the VMs @v refers to
 * @nr_vms: entries in @vms
 * @p: the knobs
 * @now: ns, on the clock of placed_at
 *
 * A thread moves when its steal rate reaches steal_min, its last move is
 * at least residence_ns old, and an allowed CPU other than its own would
 * lower its expected steal rate by more than gain_min (hysteresis: a move
 * must pay off against the estimates' noise); it goes to the allowed CPU
 * with the least load, never to one outside its mask. Threads with the
 * most steal times weight go first; each VM with candidates may make its
 * weight's share of max_moves (rounded up), and the round at most
 * max_moves. No scheduler is called here.
 *
 * Return: the number of moves.
 */
unsigned int pvmm_place_decide(struct pvmm_place_vcpu *v, unsigned int nr,
			       u32 *load, unsigned int nr_cpus,
			       struct pvmm_place_vm *vms, unsigned int nr_vms,
			       const struct pvmm_place_params *p, u64 now)
{
	unsigned int i, cpu, best, moves = 0;
	u32 best_load, here, there;
	u64 sum;

	sum = pvmm_place_candidates(v, nr, vms, nr_vms, p, now);
	for (i = 0; i < nr_vms; i++)
		if (vms[i].quota)
			vms[i].quota = DIV_ROUND_UP_ULL((u64)p->max_moves *
				min_t(u32, vms[i].weight, PVMM_PLACE_WEIGHT_MAX),
				sum);
	sort(v, nr, sizeof(*v), pvmm_place_cmp, NULL);

	for (i = 0; i < nr; i++) {
		struct pvmm_place_vcpu *c = &v[i];

		if (c->why != PVMM_PLACE_STAY_NO_BETTER)
			continue;
		if (moves >= p->max_moves ||
		    vms[c->vm].moved >= vms[c->vm].quota) {
			c->why = PVMM_PLACE_STAY_BUDGET;
			continue;
		}
		/* what it would lose where it is, after this round's moves */
		here = c->steal_rate;
		if (c->cpu < nr_cpus)
			here = min(here, pvmm_place_expected(load[c->cpu] -
				   min_t(u32, load[c->cpu], PVMM_PLACE_ONE)));
		best = nr_cpus;
		best_load = U32_MAX;
		if (c->allowed)
			for_each_set_bit(cpu, c->allowed, nr_cpus)
				if (cpu != c->cpu && load[cpu] < best_load) {
					best = cpu;
					best_load = load[cpu];
				}
		if (best == nr_cpus)
			continue;
		there = pvmm_place_expected(best_load);
		if ((u64)there + p->gain_min >= here)
			continue;
		c->target = best;
		c->expected = there;
		c->why = PVMM_PLACE_MOVE;
		load[best] = min_t(u32, load[best] + PVMM_PLACE_ONE,
				   PVMM_PLACE_MAX_LOAD);
		if (c->cpu < nr_cpus)
			load[c->cpu] -= min_t(u32, load[c->cpu],
					      PVMM_PLACE_ONE);
		moves++;
		vms[c->vm].moved++;
	}
	return moves;
}

#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
#include "sched_core_test.h"
#endif
