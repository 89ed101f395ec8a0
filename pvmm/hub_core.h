/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure core of the hub: memslot validation, update and lookup, and guest
 * call checks. No locking, pinning or scheduler hooks live here, so the
 * whole file is KUnit-tested under UML.
 */
#ifndef _PVMM_HUB_CORE_H
#define _PVMM_HUB_CORE_H

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/pvmm.h>

struct file;

/* One guest memory region; @file is only carried, never used, here. */
struct pvmm_slot {
	u64 gpa;
	u64 size;
	u64 uaddr;
	u64 offset;
	struct file *file;
	u32 id;
	u32 flags;
};

/* Slots sorted by gpa, never overlapping. */
struct pvmm_memslots {
	u32 nr;
	struct pvmm_slot slot[];
};

#define PVMM_GPA_LIMIT		BIT_ULL(PVMM_GPA_BITS)

size_t pvmm_memslots_size(u32 nr);
int pvmm_memslot_check(const struct pvmm_memslot *req, u64 uaddr_limit);
int pvmm_memslots_update(const struct pvmm_memslots *old,
			 const struct pvmm_slot *chg, bool del,
			 struct pvmm_memslots *out);
const struct pvmm_slot *pvmm_memslots_by_id(const struct pvmm_memslots *s,
					    u32 id);
const struct pvmm_slot *pvmm_memslots_range(const struct pvmm_memslots *s,
					    u64 gpa, u64 len);
int pvmm_memslots_translate(const struct pvmm_memslots *s, u64 gpa, u64 len,
			    u64 *uaddr);
bool pvmm_range_in_page(u64 gpa, u64 len);
int pvmm_call_check(const struct pvmm_call *call);
int pvmm_call_decode(u32 nr, u32 *svc, u32 *fn);

#endif /* _PVMM_HUB_CORE_H */
