/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building a batch of balloon ranges, shared by the guest half and its
 * KUnit tests: pages are appended one by one, and a page that continues
 * the last range extends it, up to PVMM_BALLOON_MAX_RANGE.
 */
#ifndef _PVMM_BALLOON_BATCH_H
#define _PVMM_BALLOON_BATCH_H

#include <linux/types.h>
#include <linux/pvmm_balloon.h>

struct pvmm_balloon_batch {
	struct pvmm_balloon_range *r;	/* PVMM_BALLOON_MAX_BATCH entries */
	u32 n;
};

/* Return: false when the batch is full and must be sent first. */
static inline bool pvmm_balloon_batch_add(struct pvmm_balloon_batch *b,
					  u64 gpa, u64 len)
{
	struct pvmm_balloon_range *last = b->n ? &b->r[b->n - 1] : NULL;

	if (last && last->gpa + last->len == gpa &&
	    last->len + len <= PVMM_BALLOON_MAX_RANGE) {
		last->len += len;
		return true;
	}
	if (b->n == PVMM_BALLOON_MAX_BATCH)
		return false;
	b->r[b->n].gpa = gpa;
	b->r[b->n].len = len;
	b->n++;
	return true;
}

#endif /* _PVMM_BALLOON_BATCH_H */
