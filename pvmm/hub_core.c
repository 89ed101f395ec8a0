// SPDX-License-Identifier: GPL-2.0
/*
 * Pure core of the hub: memslot validation, update and lookup, and guest
 * call checks. Every input here comes from a VMM or a guest, so every
 * field is checked for range, alignment and overflow.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/string.h>

#include "hub_core.h"

size_t pvmm_memslots_size(u32 nr)
{
	return struct_size((struct pvmm_memslots *)NULL, slot, nr);
}

static bool pvmm_end_ok(u64 base, u64 size, u64 limit)
{
	u64 end;

	return !check_add_overflow(base, size, &end) && end <= limit;
}

/**
 * pvmm_memslot_check() - validate a PVMM_SET_MEMSLOT request on its own
 * @req: the request as copied from the VMM
 * @uaddr_limit: first user address that is not valid for this process
 *
 * Return: 0, or -EINVAL for unknown flags, non-zero reserved fields, an
 * out-of-range slot id, a misaligned field or a range that overflows.
 */
int pvmm_memslot_check(const struct pvmm_memslot *req, u64 uaddr_limit)
{
	if (req->flags & ~PVMM_MEMSLOT_FLAGS || req->reserved)
		return -EINVAL;
	if (req->slot >= PVMM_MAX_MEMSLOTS)
		return -EINVAL;
	if (!req->size)
		return 0;	/* delete: the other fields do not matter */
	if (!PAGE_ALIGNED(req->guest_phys_addr) || !PAGE_ALIGNED(req->size) ||
	    !PAGE_ALIGNED(req->userspace_addr) ||
	    !PAGE_ALIGNED(req->memfd_offset))
		return -EINVAL;
	if (!pvmm_end_ok(req->guest_phys_addr, req->size, PVMM_GPA_LIMIT))
		return -EINVAL;
	if (!pvmm_end_ok(req->userspace_addr, req->size, uaddr_limit))
		return -EINVAL;
	if (req->flags & PVMM_MEMSLOT_MEMFD) {
		if (req->memfd < 0 ||
		    !pvmm_end_ok(req->memfd_offset, req->size, S64_MAX))
			return -EINVAL;
	} else if (req->memfd_offset) {
		return -EINVAL;
	}
	return 0;
}

static bool pvmm_overlap(u64 a, u64 asize, u64 b, u64 bsize)
{
	return a < b + bsize && b < a + asize;
}

/**
 * pvmm_memslots_update() - build the slot array that follows a change
 * @old: current slots
 * @chg: the slot to add or replace (by @chg->id), or the id to delete
 * @del: delete slot @chg->id instead of adding it
 * @out: room for pvmm_memslots_size(@old->nr + 1)
 *
 * @old is left untouched so that readers may keep using it until they are
 * done. Ranges in @chg must already have passed pvmm_memslot_check().
 *
 * Return: 0, -ENOENT when deleting a slot that does not exist, or -EEXIST
 * when the new range overlaps another slot.
 */
int pvmm_memslots_update(const struct pvmm_memslots *old,
			 const struct pvmm_slot *chg, bool del,
			 struct pvmm_memslots *out)
{
	bool found = false, placed = del;
	u32 i;

	out->nr = 0;
	for (i = 0; i < old->nr; i++) {
		const struct pvmm_slot *s = &old->slot[i];

		if (s->id == chg->id) {
			found = true;
			continue;
		}
		if (!del && pvmm_overlap(s->gpa, s->size, chg->gpa, chg->size))
			return -EEXIST;
		if (!placed && chg->gpa < s->gpa) {
			out->slot[out->nr++] = *chg;
			placed = true;
		}
		out->slot[out->nr++] = *s;
	}
	if (del && !found)
		return -ENOENT;
	if (!placed)
		out->slot[out->nr++] = *chg;
	return 0;
}

const struct pvmm_slot *pvmm_memslots_by_id(const struct pvmm_memslots *s,
					    u32 id)
{
	u32 i;

	for (i = 0; i < s->nr; i++)
		if (s->slot[i].id == id)
			return &s->slot[i];
	return NULL;
}

/* Binary search: called for every guest-physical access. */
static const struct pvmm_slot *pvmm_memslots_find(const struct pvmm_memslots *s,
						  u64 gpa)
{
	u32 lo = 0, hi = s->nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		const struct pvmm_slot *m = &s->slot[mid];

		if (gpa < m->gpa)
			hi = mid;
		else if (gpa - m->gpa >= m->size)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/**
 * pvmm_memslots_translate() - guest-physical range to VMM user address
 * @s: slots
 * @gpa: start of the range
 * @len: length, not zero
 * @uaddr: result
 *
 * The whole range must lie in one slot: a guest record never straddles
 * two VMM mappings.
 *
 * Return: 0, -EINVAL for a zero length, or -EFAULT.
 */
int pvmm_memslots_translate(const struct pvmm_memslots *s, u64 gpa, u64 len,
			    u64 *uaddr)
{
	const struct pvmm_slot *slot;

	if (!len)
		return -EINVAL;
	slot = pvmm_memslots_range(s, gpa, len);
	if (!slot)
		return -EFAULT;
	*uaddr = slot->uaddr + (gpa - slot->gpa);
	return 0;
}

/* The slot that holds all of [@gpa, @gpa + @len), or NULL. */
const struct pvmm_slot *pvmm_memslots_range(const struct pvmm_memslots *s,
					    u64 gpa, u64 len)
{
	const struct pvmm_slot *slot = pvmm_memslots_find(s, gpa);

	if (!slot || len > slot->size - (gpa - slot->gpa))
		return NULL;
	return slot;
}

bool pvmm_range_in_page(u64 gpa, u64 len)
{
	return len && len <= PAGE_SIZE - offset_in_page(gpa);
}

int pvmm_call_check(const struct pvmm_call *call)
{
	u32 i;

	if (call->flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(call->out); i++)
		if (call->out[i])
			return -EINVAL;
	return 0;
}

/* Return: 0, or -EOPNOTSUPP for a number no service can own. */
int pvmm_call_decode(u32 nr, u32 *svc, u32 *fn)
{
	if (nr >> 16 || (nr >> 8) >= PVMM_SVC_MAX)
		return -EOPNOTSUPP;
	*svc = nr >> 8;
	*fn = nr & 0xff;
	return 0;
}

#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
#include "hub_core_test.h"
#endif
