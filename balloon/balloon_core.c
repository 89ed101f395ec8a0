// SPDX-License-Identifier: GPL-2.0
/*
 * Pure core of the balloon service. A guest's ballooned pages are a set
 * of maximal extents in an rbtree: adding is idempotent (pages already
 * in count once), removing needs every page present, and the number of
 * extents is capped so that no guest can make the host allocate without
 * bound.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "balloon_core.h"

struct pvmm_balloon_extent {
	struct rb_node node;
	u64 start;
	u64 end;
};

#define ext_of(n)	rb_entry(n, struct pvmm_balloon_extent, node)

void pvmm_balloon_set_init(struct pvmm_balloon_set *set, u64 max_extents)
{
	set->root = RB_ROOT;
	set->pages = 0;
	set->extents = 0;
	set->max_extents = max_extents;
}

void pvmm_balloon_set_destroy(struct pvmm_balloon_set *set)
{
	struct pvmm_balloon_extent *e, *tmp;

	rbtree_postorder_for_each_entry_safe(e, tmp, &set->root, node)
		kfree(e);
	pvmm_balloon_set_init(set, set->max_extents);
}

/* The first extent that ends at or after @pos, or NULL. */
static struct pvmm_balloon_extent *
pvmm_balloon_first_ending_at(const struct pvmm_balloon_set *set, u64 pos)
{
	struct rb_node *n = set->root.rb_node;
	struct pvmm_balloon_extent *best = NULL;

	while (n) {
		struct pvmm_balloon_extent *e = ext_of(n);

		if (e->end >= pos) {
			best = e;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

static void pvmm_balloon_insert(struct pvmm_balloon_set *set,
				struct pvmm_balloon_extent *new)
{
	struct rb_node **link = &set->root.rb_node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = new->start < ext_of(parent)->start ? &parent->rb_left :
							     &parent->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &set->root);
}

/**
 * pvmm_balloon_set_add() - add pages [@start, @end) to the set
 * @set: the set
 * @start: first page
 * @end: page after the last; @start < @end
 * @added: pages that were not in the set before
 *
 * Extents that overlap or touch the range merge with it into one, so
 * extents stay maximal: a range in the set lies inside one extent.
 *
 * Return: 0, -ENOMEM, or -ENOSPC when the set would exceed its extents.
 */
int pvmm_balloon_set_add(struct pvmm_balloon_set *set, u64 start, u64 end,
			 u64 *added)
{
	struct pvmm_balloon_extent *e, *keep = NULL;
	u64 lo = start, hi = end, overlap = 0;

	e = pvmm_balloon_first_ending_at(set, start);
	if (!e || e->start > end) {
		if (set->extents >= set->max_extents)
			return -ENOSPC;
		keep = kmalloc(sizeof(*keep), GFP_KERNEL_ACCOUNT);
		if (!keep)
			return -ENOMEM;
		keep->start = start;
		keep->end = end;
		pvmm_balloon_insert(set, keep);
		set->extents++;
		*added = end - start;
		set->pages += *added;
		return 0;
	}
	/* e and the extents after it that reach @end merge into e. */
	while (e && e->start <= end) {
		struct rb_node *next = rb_next(&e->node);

		overlap += min(e->end, end) - max(e->start, start);
		lo = min(lo, e->start);
		hi = max(hi, e->end);
		if (!keep) {
			keep = e;
		} else {
			rb_erase(&e->node, &set->root);
			kfree(e);
			set->extents--;
		}
		e = next ? ext_of(next) : NULL;
	}
	/* Order holds: the extent before ends below both old and new start. */
	keep->start = lo;
	keep->end = hi;
	*added = end - start - overlap;
	set->pages += *added;
	return 0;
}

/* Whether every page of [@start, @end) is in the set. */
bool pvmm_balloon_set_covers(const struct pvmm_balloon_set *set, u64 start,
			     u64 end)
{
	struct pvmm_balloon_extent *e;

	e = pvmm_balloon_first_ending_at(set, start + 1);
	return e && e->start <= start && e->end >= end;
}

/**
 * pvmm_balloon_set_remove() - remove pages [@start, @end) from the set
 * @set: the set
 * @start: first page
 * @end: page after the last; @start < @end
 *
 * Return: 0, -ENOENT when a page of the range is not in the set (nothing
 * changes then), -ENOSPC or -ENOMEM when an extent must be split and
 * cannot be.
 */
int pvmm_balloon_set_remove(struct pvmm_balloon_set *set, u64 start,
			    u64 end)
{
	struct pvmm_balloon_extent *e, *tail;

	if (!pvmm_balloon_set_covers(set, start, end))
		return -ENOENT;
	e = pvmm_balloon_first_ending_at(set, start + 1);
	if (e->start < start && e->end > end) {
		if (set->extents >= set->max_extents)
			return -ENOSPC;
		tail = kmalloc(sizeof(*tail), GFP_KERNEL_ACCOUNT);
		if (!tail)
			return -ENOMEM;
		tail->start = end;
		tail->end = e->end;
		e->end = start;
		pvmm_balloon_insert(set, tail);
		set->extents++;
	} else if (e->start < start) {
		e->end = start;
	} else if (e->end > end) {
		e->start = end;
	} else {
		rb_erase(&e->node, &set->root);
		kfree(e);
		set->extents--;
	}
	set->pages -= end - start;
	return 0;
}

static int pvmm_balloon_cmp(const void *a, const void *b)
{
	const struct pvmm_balloon_range *x = a, *y = b;

	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/**
 * pvmm_balloon_check_batch() - validate a batch of ranges from a guest
 * @r: the ranges, sorted by gpa on return
 * @n: how many
 * @min_len: 0, or the smallest (and alignment of) a range, for reports
 *
 * Return: 0, or -EINVAL for a bad count, a misaligned, empty, too long or
 * overflowing range, or two ranges that overlap.
 */
int pvmm_balloon_check_batch(struct pvmm_balloon_range *r, u32 n,
			     u64 min_len)
{
	u32 i;

	if (!n || n > PVMM_BALLOON_MAX_BATCH)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		u64 end;

		if (!PAGE_ALIGNED(r[i].gpa) || !PAGE_ALIGNED(r[i].len) ||
		    !r[i].len || r[i].len > PVMM_BALLOON_MAX_RANGE)
			return -EINVAL;
		if (min_len && (r[i].len < min_len ||
				!IS_ALIGNED(r[i].gpa | r[i].len, min_len)))
			return -EINVAL;
		if (check_add_overflow(r[i].gpa, r[i].len, &end) ||
		    end > BIT_ULL(PVMM_GPA_BITS))
			return -EINVAL;
	}
	sort(r, n, sizeof(*r), pvmm_balloon_cmp, NULL);
	for (i = 1; i < n; i++)
		if (r[i - 1].gpa + r[i - 1].len > r[i].gpa)
			return -EINVAL;
	return 0;
}

#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
#include "balloon_core_test.h"
#endif
