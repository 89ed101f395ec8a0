/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure core of the clock service: the TSC-to-ns scale factors, the master
 * clock of a VM and the record publication protocol. No timekeeping or
 * scheduler hooks: KUnit-tested under UML.
 */
#ifndef _PVMM_CLOCK_CORE_H
#define _PVMM_CLOCK_CORE_H

#include <linux/types.h>
#include <linux/pvmm_clock.h>

/*
 * The host clock as an affine map from TSC to CLOCK_MONOTONIC ns: at TSC
 * @cycle_last the clock read @mono_ns, and it advances by @mult >> @shift
 * ns per cycle (the timekeeper's NTP-disciplined rate).
 */
struct pvmm_clock_host {
	u64 cycle_last;
	u64 mono_ns;
	u32 mult;
	u32 shift;
	u64 boot_offset_ns;
	bool tsc_stable;
};

void pvmm_clock_scale_from_hz(u64 hz, u32 *mul, s8 *pvshift);
bool pvmm_clock_host_changed(const struct pvmm_clock_host *old,
			     const struct pvmm_clock_host *new);
int pvmm_clock_make_record(const struct pvmm_clock_host *h, s64 ns_offset,
			   s64 tsc_offset, u64 disruptions,
			   struct pvmm_clock_record *rec);
void pvmm_clock_publish(struct pvmm_clock_record *dst, u32 *version,
			const struct pvmm_clock_record *src);

#endif /* _PVMM_CLOCK_CORE_H */
