/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one reader of a pvmm clock record, shared by the guest kernel half,
 * the selftests' guest library and the KUnit tests. The includer defines
 * PVMM_CLOCK_RDTSC() (an ordered TSC read) and PVMM_CLOCK_RMB() (a read
 * barrier between the version and the data, and a compiler barrier), as
 * it fits the context. The host writes the record concurrently: the
 * barriers, not the types, keep the compiler from caching its fields.
 */
#ifndef _PVMM_CLOCK_READER_H
#define _PVMM_CLOCK_READER_H

#include <linux/types.h>
#include <linux/pvmm_clock.h>
#ifdef __KERNEL__
#include <linux/math64.h>
#endif

/* ns = ((delta << shift, or >> -shift) * mul) >> 32, as pvclock does */
static inline __u64 pvmm_clock_scale(__u64 delta, __u32 mul, __s8 shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
#ifdef __KERNEL__
	return mul_u64_u32_shr(delta, mul, 32);
#else
	return (__u64)(((__uint128_t)delta * mul) >> 32);
#endif
}

/*
 * Read the clock, retrying while the host rewrites the record. The TSC is
 * read inside the loop so that it pairs with the parameters it is scaled
 * by. *@flags gets the record's flags.
 */
static inline __u64 pvmm_clock_read(const struct pvmm_clock_record *r,
				    __u8 *flags)
{
	__u32 version;
	__u64 tsc, ns;

	do {
		version = r->version & ~1U;
		PVMM_CLOCK_RMB();
		tsc = PVMM_CLOCK_RDTSC();
		ns = r->system_time +
		     pvmm_clock_scale(tsc - r->tsc_timestamp,
				      r->tsc_to_system_mul, r->tsc_shift);
		*flags = r->flags;
		PVMM_CLOCK_RMB();
	} while (version != r->version);
	return ns;
}

#endif /* _PVMM_CLOCK_READER_H */
