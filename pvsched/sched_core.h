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

void pvmm_steal_start(struct pvmm_steal_acct *a, u64 run_delay, u64 now);
u64 pvmm_steal_update(struct pvmm_steal_acct *a, u64 run_delay, u64 now);
void pvmm_steal_publish(struct pvmm_steal_record *dst, u32 *version,
			u64 steal, u32 rate);

#endif /* _PVMM_SCHED_CORE_H */
