/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest side of the steal-time record: one read under the version
 * protocol, and the CPUs whose steal rate says they are losing time.
 * Shared by the guest half and its KUnit tests; the includer defines
 * PVMM_STEAL_RMB() (virt_rmb() in a guest).
 */
#ifndef _PVMM_SCHED_READER_H
#define _PVMM_SCHED_READER_H

#include <linux/bitmap.h>
#include <linux/compiler.h>
#include <linux/minmax.h>
#include <linux/types.h>
#include <linux/pvmm_sched.h>
#include <asm/processor.h>

/*
 * One attempt: true when the host was not writing @r and did not write
 * it meanwhile; then *@steal and *@rate are consistent.
 */
static inline bool pvmm_steal_try_read(const struct pvmm_steal_record *r,
				       u64 *steal, u32 *rate)
{
	u32 v = READ_ONCE(r->version);

	PVMM_STEAL_RMB();
	*steal = READ_ONCE(r->steal);
	*rate = READ_ONCE(r->steal_rate);
	PVMM_STEAL_RMB();
	return !(v & 1) && v == READ_ONCE(r->version);
}

/* As kvm_steal_clock(): retry until the host is not writing. */
static inline u64 pvmm_steal_read(const struct pvmm_steal_record *r,
				  u32 *rate)
{
	u64 steal;

	while (!pvmm_steal_try_read(r, &steal, rate))
		cpu_relax();
	return steal;
}

/*
 * Set in @mask the CPUs among the first @n whose @rates (65536 = 100 %)
 * reach @threshold; a rate above 100 % is the host's error and counts as
 * 100 %. A threshold of 0 marks none. Returns how many are set.
 */
static inline unsigned int pvmm_steal_congested(const u32 *rates,
						unsigned int n, u32 threshold,
						unsigned long *mask)
{
	unsigned int i, set = 0;

	bitmap_zero(mask, n);
	if (!threshold)
		return 0;
	for (i = 0; i < n; i++) {
		if (min_t(u32, rates[i], PVMM_STEAL_RATE_ONE) >= threshold) {
			__set_bit(i, mask);
			set++;
		}
	}
	return set;
}

#endif /* _PVMM_SCHED_READER_H */
