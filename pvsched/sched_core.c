// SPDX-License-Identifier: GPL-2.0
/*
 * Pure core of the scheduling service. Steal is the growth of the vCPU
 * thread's run delay (time runnable on a run queue without running): the
 * scheduler's own measure, so it matches /proc/<pid>/schedstat exactly.
 */
#include <linux/compiler.h>
#include <linux/math64.h>
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
	u64 elapsed, stolen;

	if (run_delay > a->last_run_delay)
		a->steal += run_delay - a->last_run_delay;
	a->last_run_delay = run_delay;

	elapsed = now - a->window_start;
	if (now > a->window_start && elapsed >= PVMM_STEAL_WINDOW_NS) {
		stolen = a->steal - a->window_steal;
		/* keep stolen * 65536 in 64 bits, even for a window of years */
		while (elapsed >> 47) {
			elapsed >>= 1;
			stolen >>= 1;
		}
		a->rate = stolen >= elapsed ? PVMM_STEAL_RATE_ONE :
			  div64_u64(stolen * PVMM_STEAL_RATE_ONE, elapsed);
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

#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
#include "sched_core_test.h"
#endif
