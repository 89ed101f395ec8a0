// SPDX-License-Identifier: GPL-2.0
/*
 * Pure core of the clock service. A VM has one master clock: every vCPU's
 * record carries the same affine map from TSC to guest ns, taken from the
 * host timekeeper's own (NTP-disciplined) CLOCK_MONOTONIC parameters, so
 * that records agree across vCPUs and follow the host clock exactly.
 */
#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/math64.h>
#include <linux/string.h>
#include <pvmm/record.h>

#include "clock_core.h"

/**
 * pvmm_clock_scale_from_tk() - timekeeper scale to pvclock scale
 * @mult: ns per cycle is @mult / 2^@shift (a clocksource's mult)
 * @shift: the clocksource's shift
 * @mul: pvclock tsc_to_system_mul
 * @pvshift: pvclock tsc_shift
 *
 * pvclock computes ((delta << pvshift) * mul) >> 32. With pvshift >= 0 and
 * mul = mult << (32 - shift - pvshift), that is floor(delta * mult >>
 * shift) exactly: the guest's clock is the host's, not an approximation.
 * Only a clocksource shift above 32 costs low bits of delta.
 *
 * Return: 0, or -ERANGE when the rate cannot be expressed.
 */
static int pvmm_clock_scale_from_tk(u32 mult, u32 shift, u32 *mul, s8 *pvshift)
{
	int k = 32 - (int)shift;	/* mul << pvshift == mult << k */
	int room = 32 - fls(mult);	/* free high bits in mult */

	if (!mult || shift > 63)
		return -ERANGE;
	if (k >= 0 && k <= room) {
		*mul = mult << k;
		*pvshift = 0;
		return 0;
	}
	/* Normalize mult to use all 32 bits; the rest goes to the shift. */
	if (k - room > 31 || k - room < -31)
		return -ERANGE;
	*mul = mult << room;
	*pvshift = k - room;
	return 0;
}

/* Host CLOCK_MONOTONIC at @tsc, as the timekeeper computes it. */
static u64 pvmm_clock_host_ns(const struct pvmm_clock_host *h, u64 tsc)
{
	if (tsc >= h->cycle_last)
		return h->mono_ns +
		       mul_u64_u32_shr(tsc - h->cycle_last, h->mult, h->shift);
	return h->mono_ns -
	       mul_u64_u32_shr(h->cycle_last - tsc, h->mult, h->shift);
}

/*
 * Whether records published from @old must be rewritten for @new: the
 * rate or the offsets changed, or extrapolating @old to @new's anchor is
 * off by more than the 1 ns that integer anchors may differ by. Without a
 * stable TSC, records are re-anchored at every update.
 */
bool pvmm_clock_host_changed(const struct pvmm_clock_host *old,
			     const struct pvmm_clock_host *new)
{
	u64 predicted;

	if (!old->tsc_stable || !new->tsc_stable)
		return true;
	if (old->mult != new->mult || old->shift != new->shift ||
	    old->boot_offset_ns != new->boot_offset_ns)
		return true;
	predicted = pvmm_clock_host_ns(old, new->cycle_last);
	return predicted > new->mono_ns + 1 || predicted + 1 < new->mono_ns;
}

/**
 * pvmm_clock_make_record() - a VM's master clock as a guest record
 * @h: host clock
 * @ns_offset: guest clock minus host CLOCK_MONOTONIC
 * @tsc_offset: guest TSC minus host TSC
 * @disruptions: the VM's disruption count
 * @rec: the record; version and flags beyond TSC_STABLE are the caller's
 *
 * Return: 0, or -ERANGE when the host rate has no pvclock form.
 */
int pvmm_clock_make_record(const struct pvmm_clock_host *h, s64 ns_offset,
			   s64 tsc_offset, u64 disruptions,
			   struct pvmm_clock_record *rec)
{
	int r;

	memset(rec, 0, sizeof(*rec));
	r = pvmm_clock_scale_from_tk(h->mult, h->shift,
				     &rec->tsc_to_system_mul, &rec->tsc_shift);
	if (r)
		return r;
	rec->tsc_timestamp = h->cycle_last + tsc_offset;
	rec->system_time = h->mono_ns + ns_offset;
	rec->flags = h->tsc_stable ? PVMM_CLOCK_TSC_STABLE : 0;
	rec->boot_offset_ns = h->boot_offset_ns;
	rec->disruptions = disruptions;
	return 0;
}

/**
 * pvmm_clock_publish() - write a record into guest memory
 * @dst: the record in guest memory
 * @version: the host's copy of the version, even between updates; the
 *           guest's copy is never trusted
 * @src: the new contents
 *
 * The seqcount protocol of pvclock: the version is odd while the fields
 * change; a reader that saw an odd or changed version retries.
 */
void pvmm_clock_publish(struct pvmm_clock_record *dst, u32 *version,
			const struct pvmm_clock_record *src)
{
	u32 v = pvmm_record_write_begin(&dst->version, version);

	WRITE_ONCE(dst->tsc_timestamp, src->tsc_timestamp);
	WRITE_ONCE(dst->system_time, src->system_time);
	WRITE_ONCE(dst->tsc_to_system_mul, src->tsc_to_system_mul);
	WRITE_ONCE(dst->tsc_shift, src->tsc_shift);
	WRITE_ONCE(dst->flags, src->flags);
	WRITE_ONCE(dst->boot_offset_ns, src->boot_offset_ns);
	WRITE_ONCE(dst->disruptions, src->disruptions);
	pvmm_record_write_end(&dst->version, version, v);
}

#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
#include "clock_core_test.h"
#endif
