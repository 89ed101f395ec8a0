/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The write side of the seqcount protocol every pvmm guest record uses
 * (pvclock's): the version is odd while the host writes the fields; a
 * reader that saw an odd or changed version retries. @version is the
 * host's own copy: the guest's copy may have been scribbled on.
 */
#ifndef _PVMM_RECORD_H
#define _PVMM_RECORD_H

#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/barrier.h>

static inline u32 pvmm_record_write_begin(u32 *guest_version, u32 *version)
{
	u32 v = *version | 1;

	WRITE_ONCE(*guest_version, v);
	/* The odd version is visible before any field changes. */
	smp_wmb();
	return v;
}

static inline void pvmm_record_write_end(u32 *guest_version, u32 *version,
					 u32 v)
{
	/* Every field is visible before the version turns even again. */
	smp_wmb();
	WRITE_ONCE(*guest_version, v + 1);
	*version = v + 1;
}

#endif /* _PVMM_RECORD_H */
