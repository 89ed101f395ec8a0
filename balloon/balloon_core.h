/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure core of the balloon service: batch validation and the set of
 * ballooned pages, kept as merged extents. No memory release or locking
 * here: KUnit-tested under UML.
 */
#ifndef _PVMM_BALLOON_CORE_H
#define _PVMM_BALLOON_CORE_H

#include <linux/rbtree.h>
#include <linux/types.h>
#include <linux/pvmm_balloon.h>

/* Pages in [start, end), 4 KiB frame numbers; extents never touch. */
struct pvmm_balloon_set {
	struct rb_root root;
	u64 pages;
	u64 extents;
	u64 max_extents;
};

void pvmm_balloon_set_init(struct pvmm_balloon_set *set, u64 max_extents);
void pvmm_balloon_set_destroy(struct pvmm_balloon_set *set);
int pvmm_balloon_set_add(struct pvmm_balloon_set *set, u64 start, u64 end,
			 u64 *added);
bool pvmm_balloon_set_covers(const struct pvmm_balloon_set *set, u64 start,
			     u64 end);
int pvmm_balloon_set_remove(struct pvmm_balloon_set *set, u64 start,
			    u64 end);

int pvmm_balloon_check_batch(struct pvmm_balloon_range *r, u32 n,
			     u64 min_len);

#endif /* _PVMM_BALLOON_CORE_H */
