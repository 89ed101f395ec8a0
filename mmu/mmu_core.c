// SPDX-License-Identifier: GPL-2.0
/*
 * PV MMU core: type and reference counting of guest frames (Xen's
 * page_info in 8 bytes), validation of x86-64 4-level entries, and the
 * walks that validate a new page-table frame or tear down one that lost
 * its last reference. Walks run in bounded steps and keep their state
 * here, so a long one spans several calls; levels strictly decrease up
 * the walk's stack, so it never holds more than four frames.
 *
 * The rules, each checked on every path:
 * - an entry maps or points only to frames inside the VM's memslots;
 * - a page-table frame is never mapped writable: not by an L1 entry, not
 *   by a superpage, and the only linear (recursive) entry allowed is a
 *   read-only L4 entry pointing at its own L4;
 * - a frame holds one type at a time and changes it only at count zero;
 * - forbidden bits are rejected per level, and every change other than
 *   to the bits in pvmm_mmu_quiet_bits() is fully revalidated;
 * - entries are written with compare-and-exchange, keeping Accessed and
 *   Dirty bits the hardware sets meanwhile.
 */
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "mmu_core.h"
#include "mmu_mem.h"

#define PVMM_FT_ONE_REF		BIT_ULL(32)
#define PVMM_FT_ONE_TCOUNT	BIT_ULL(8)
#define PVMM_FT_MAX_TCOUNT	(PVMM_FT_TCOUNT >> 8)
#define PVMM_FT_MAX_REFS	U32_MAX
#define PVMM_LARGE_FRAMES	512

static __always_inline bool pvmm_ft_ram(const struct pvmm_mmu *m, u64 gfn)
{
	return gfn < m->nr_frames && (m->ft[gfn] & PVMM_FT_RAM);
}

static __always_inline void pvmm_ft_set_type(struct pvmm_mmu *m, u64 gfn,
					     unsigned int type, u32 tcount)
{
	u64 f = m->ft[gfn];

	m->nr_type[pvmm_ft_type(f)]--;
	m->nr_type[type]++;
	f &= ~(PVMM_FT_TYPE | PVMM_FT_TCOUNT);
	m->ft[gfn] = f | type | ((u64)tcount << 8);
}

static __always_inline void pvmm_ft_set_pinned(struct pvmm_mmu *m, u64 gfn,
					       bool pinned)
{
	if (!(m->ft[gfn] & PVMM_FT_PINNED) == !pinned)
		return;
	m->ft[gfn] ^= PVMM_FT_PINNED;
	if (pinned)
		m->nr_pinned++;
	else
		m->nr_pinned--;
}

static __always_inline int pvmm_ft_ref_get(struct pvmm_mmu *m, u64 gfn)
{
	if (pvmm_ft_refs(m->ft[gfn]) == PVMM_FT_MAX_REFS)
		return -EOVERFLOW;
	m->ft[gfn] += PVMM_FT_ONE_REF;
	return 0;
}

/* A count that is already zero means guest memory changed under us. */
static __always_inline void pvmm_ft_ref_put(struct pvmm_mmu *m, u64 gfn)
{
	if (!pvmm_ft_refs(m->ft[gfn])) {
		m->broken = true;
		return;
	}
	m->ft[gfn] -= PVMM_FT_ONE_REF;
}

static __always_inline int pvmm_ft_writable_get(struct pvmm_mmu *m, u64 gfn)
{
	u64 f = m->ft[gfn];

	switch (pvmm_ft_type(f)) {
	case PVMM_MMU_TYPE_NONE:
		pvmm_ft_set_type(m, gfn, PVMM_MMU_TYPE_WRITABLE, 1);
		m->ft[gfn] |= PVMM_FT_STALE;
		return 0;
	case PVMM_MMU_TYPE_WRITABLE:
		if (pvmm_ft_tcount(f) == PVMM_FT_MAX_TCOUNT)
			return -EOVERFLOW;
		m->ft[gfn] += PVMM_FT_ONE_TCOUNT;
		return 0;
	default:
		return -EPERM;	/* a page-table frame */
	}
}

static __always_inline void pvmm_ft_writable_put(struct pvmm_mmu *m, u64 gfn)
{
	u64 f = m->ft[gfn];

	if (pvmm_ft_type(f) != PVMM_MMU_TYPE_WRITABLE || !pvmm_ft_tcount(f)) {
		m->broken = true;
		return;
	}
	if (pvmm_ft_tcount(f) == 1)
		pvmm_ft_set_type(m, gfn, PVMM_MMU_TYPE_NONE, 0);
	else
		m->ft[gfn] -= PVMM_FT_ONE_TCOUNT;
}

/*
 * Take a page-table type reference. Return 0, PVMM_MMU_PENDING when the
 * frame is free and must be validated first (nothing taken), or -EBUSY
 * when it holds another type or is in the middle of a walk.
 */
static __always_inline int pvmm_ft_pt_get(struct pvmm_mmu *m, u64 gfn, unsigned int type)
{
	u64 f = m->ft[gfn];

	if (pvmm_ft_type(f) == PVMM_MMU_TYPE_NONE)
		return PVMM_MMU_PENDING;
	if (pvmm_ft_type(f) != type || (f & PVMM_FT_BUSY))
		return -EBUSY;
	if (pvmm_ft_tcount(f) == PVMM_FT_MAX_TCOUNT)
		return -EOVERFLOW;
	m->ft[gfn] += PVMM_FT_ONE_TCOUNT;
	return 0;
}

static void pvmm_mmu_push(struct pvmm_mmu *m, u64 gfn, unsigned int level,
			  unsigned int mode)
{
	struct pvmm_mmu_walk *w;

	/* Levels strictly decrease up the stack. */
	if (WARN_ON_ONCE(m->depth >= PVMM_MMU_LEVELS)) {
		m->broken = true;
		return;
	}
	w = &m->stack[m->depth++];
	w->gfn = gfn;
	w->level = level;
	w->mode = mode;
	w->idx = 0;
	w->end = PVMM_MMU_ENTRIES;
	m->ft[gfn] |= PVMM_FT_BUSY;
}

/**
 * pvmm_mmu_flush_add() - add a request to a flush set
 * @f: the set
 * @vcpus: vCPU mask (PVMM_MMU_FLUSH_EVERY_VCPU: all)
 * @full: everything, else the page of @addr
 * @addr: the address when !@full
 *
 * The set is one target mask and either one address or everything:
 * requests for different addresses become a full flush.
 */
static void pvmm_mmu_flush_add(struct pvmm_mmu_flush *f, u64 vcpus,
			       bool full, u64 addr)
{
	addr &= PAGE_MASK;
	if (!vcpus)
		return;
	if (full || (f->flags & PVMM_MMU_FLUSH_FULL) ||
	    ((f->flags & PVMM_MMU_FLUSH_ADDR) && f->addr != addr)) {
		f->flags = PVMM_MMU_FLUSH_FULL;
		f->addr = 0;
	} else {
		f->flags = PVMM_MMU_FLUSH_ADDR;
		f->addr = addr;
	}
	f->vcpus |= vcpus;
}

/*
 * A frame becomes a page table of @level: it holds the new type with the
 * caller's reference and is validated by the walk. A frame that may still
 * be writable in some vCPU's TLB costs a flush of every vCPU first.
 */
static void pvmm_mmu_begin_validate(struct pvmm_mmu *m, u64 gfn,
				    unsigned int level)
{
	if ((m->ft[gfn] & PVMM_FT_STALE) && m->owner) {
		pvmm_mmu_flush_add(&m->owner->flush, PVMM_MMU_FLUSH_EVERY_VCPU,
				   true, 0);
		m->ft[gfn] &= ~PVMM_FT_STALE;
	}
	pvmm_ft_set_type(m, gfn, PVMM_MMU_TYPE_L1 + level - 1, 1);
	pvmm_mmu_push(m, gfn, level, PVMM_MMU_WALK_VALIDATE);
}

/* Drop a page-table type reference; the last one tears the frame down. */
static void pvmm_ft_pt_put(struct pvmm_mmu *m, u64 gfn, unsigned int level)
{
	u64 f = m->ft[gfn];

	if (pvmm_ft_type(f) != PVMM_MMU_TYPE_L1 + level - 1 ||
	    !pvmm_ft_tcount(f) || (f & PVMM_FT_BUSY)) {
		m->broken = true;
		return;
	}
	m->ft[gfn] -= PVMM_FT_ONE_TCOUNT;
	if (!pvmm_ft_tcount(m->ft[gfn]))
		pvmm_mmu_push(m, gfn, level, PVMM_MMU_WALK_TEARDOWN);
}

/**
 * pvmm_mmu_check_entry() - the static checks of a present entry
 * @m: the frame table (for its options and size)
 * @level: 1 (PTE) to 4 (PML4E)
 * @e: the entry; its present bit is set
 * @target: the frame it maps or points to
 *
 * Return: 0, -EINVAL for a bit forbidden at @level, -EFAULT when the
 * frame (or a frame of the superpage) is outside the memslots.
 */
static __always_inline int pvmm_mmu_check_entry(const struct pvmm_mmu *m,
						unsigned int level, u64 e,
						u64 *target)
{
	u64 bad = PVMM_PTE_PWT | PVMM_PTE_PCD | PVMM_PTE_PK;
	u64 gfn = (e & PVMM_PTE_ADDR) >> PAGE_SHIFT;
	u64 n = 1, i;

	switch (level) {
	case 1:
		bad |= PVMM_PTE_PS;	/* PAT: write-back only */
		break;
	case 2:
		if (e & PVMM_PTE_PS) {
			if (!(m->flags & PVMM_MMU_F_SUPERPAGES))
				return -EINVAL;
			bad |= PVMM_PTE_LARGE_PAT | PVMM_PTE_LARGE_RSVD;
			n = PVMM_LARGE_FRAMES;
		} else {
			bad |= PVMM_PTE_G;
		}
		break;
	case 3:
	case 4:
		bad |= PVMM_PTE_PS | PVMM_PTE_G;	/* no 1 GiB pages */
		break;
	default:
		return -EINVAL;
	}
	if (e & bad)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!pvmm_ft_ram(m, gfn + i))
			return -EFAULT;
	*target = gfn;
	return 0;
}

static __always_inline bool pvmm_pte_large(unsigned int level, u64 e)
{
	return level == 2 && (e & PVMM_PTE_PS);
}

/*
 * Take the references a present entry of frame @self at @level needs.
 * Return 0, PVMM_MMU_PENDING when the entry points to a free frame that
 * must be validated first (nothing taken unless @validating, which takes
 * the reference and pushes the frame), or a negative errno with nothing
 * taken. @held: the caller already holds the type reference of the lower
 * table (it was validated for this entry).
 */
static __always_inline int pvmm_mmu_get_entry(struct pvmm_mmu *m,
					      unsigned int level, u64 self,
					      u64 e, bool validating, bool held)
{
	u64 t, i;
	int r;

	r = pvmm_mmu_check_entry(m, level, e, &t);
	if (r)
		return r;

	if (pvmm_pte_large(level, e)) {
		for (i = 0; i < PVMM_LARGE_FRAMES; i++) {
			r = pvmm_ft_ref_get(m, t + i);
			if (r)
				break;
			if (e & PVMM_PTE_RW) {
				r = pvmm_ft_writable_get(m, t + i);
				if (r) {
					pvmm_ft_ref_put(m, t + i);
					break;
				}
			}
		}
		if (!r)
			return 0;
		while (i--) {
			if (e & PVMM_PTE_RW)
				pvmm_ft_writable_put(m, t + i);
			pvmm_ft_ref_put(m, t + i);
		}
		return r;
	}

	if (level == 4 && t == self) {
		/* The linear mapping: only ever read-only. */
		if (e & PVMM_PTE_RW)
			return -EPERM;
		return pvmm_ft_ref_get(m, t);
	}

	if (level == 1) {
		r = pvmm_ft_ref_get(m, t);
		if (r || !(e & PVMM_PTE_RW))
			return r;
		r = pvmm_ft_writable_get(m, t);
		if (r)
			pvmm_ft_ref_put(m, t);
		return r;
	}

	if (!held) {
		r = pvmm_ft_pt_get(m, t, PVMM_MMU_TYPE_L1 + level - 2);
		if (r < 0)
			return r;
		if (r == PVMM_MMU_PENDING && !validating)
			return r;
	}
	if (pvmm_ft_ref_get(m, t)) {
		if (!held && r == 0)
			pvmm_ft_pt_put(m, t, level - 1);
		return -EOVERFLOW;
	}
	if (r == PVMM_MMU_PENDING)
		pvmm_mmu_begin_validate(m, t, level - 1);
	return r;
}

static __always_inline void pvmm_mmu_put_entry(struct pvmm_mmu *m,
					       unsigned int level, u64 self,
					       u64 e)
{
	u64 t = (e & PVMM_PTE_ADDR) >> PAGE_SHIFT, i;

	if (t >= m->nr_frames ||
	    (pvmm_pte_large(level, e) && t + PVMM_LARGE_FRAMES > m->nr_frames)) {
		m->broken = true;
		return;
	}
	if (pvmm_pte_large(level, e)) {
		for (i = 0; i < PVMM_LARGE_FRAMES; i++) {
			if (e & PVMM_PTE_RW)
				pvmm_ft_writable_put(m, t + i);
			pvmm_ft_ref_put(m, t + i);
		}
		return;
	}
	pvmm_ft_ref_put(m, t);
	if (level == 1) {
		if (e & PVMM_PTE_RW)
			pvmm_ft_writable_put(m, t);
	} else if (!(level == 4 && t == self)) {
		pvmm_ft_pt_put(m, t, level - 1);
	}
}

/* A validation failed: give back what every frame on the stack took. */
static void pvmm_mmu_fail_walk(struct pvmm_mmu *m, int err)
{
	unsigned int i;

	m->walk_err = err;
	for (i = 0; i < m->depth; i++) {
		m->stack[i].mode = PVMM_MMU_WALK_UNDO;
		m->stack[i].end = m->stack[i].idx;
		m->stack[i].idx = 0;
	}
}

static void pvmm_mmu_pop(struct pvmm_mmu *m)
{
	struct pvmm_mmu_walk *w = &m->stack[--m->depth];

	m->ft[w->gfn] &= ~PVMM_FT_BUSY;
	if (w->mode == PVMM_MMU_WALK_VALIDATE) {
		/* The entry below that pointed here is done. */
		if (m->depth)
			m->stack[m->depth - 1].idx++;
		return;
	}
	pvmm_ft_set_type(m, w->gfn, PVMM_MMU_TYPE_NONE, 0);
	/* The entry below took a reference before pushing this frame. */
	if (w->mode == PVMM_MMU_WALK_UNDO && m->depth)
		pvmm_ft_ref_put(m, w->gfn);
}

/* Run the walk until it is done or the budget is spent: 0 or -EAGAIN. */
static int pvmm_mmu_walk(struct pvmm_mmu *m, long *budget)
{
	while (m->depth && !m->broken) {
		struct pvmm_mmu_walk *w = &m->stack[m->depth - 1];
		u64 gpa, e;
		int r;

		if (w->idx >= w->end) {
			pvmm_mmu_pop(m);
			continue;
		}
		if (*budget <= 0)
			return -EAGAIN;
		(*budget)--;
		gpa = (w->gfn << PAGE_SHIFT) + w->idx * sizeof(u64);
		if (pvmm_mmu_mem_read(m->mem, gpa, &e)) {
			if (w->mode == PVMM_MMU_WALK_VALIDATE)
				pvmm_mmu_fail_walk(m, -EFAULT);
			else
				m->broken = true;
			continue;
		}
		if (!(e & PVMM_PTE_P)) {
			w->idx++;
			continue;
		}
		if (w->mode != PVMM_MMU_WALK_VALIDATE) {
			w->idx++;
			pvmm_mmu_put_entry(m, w->level, w->gfn, e);
			if (pvmm_pte_large(w->level, e))
				*budget -= PVMM_LARGE_FRAMES;
			continue;
		}
		r = pvmm_mmu_get_entry(m, w->level, w->gfn, e, true, false);
		if (r < 0)
			pvmm_mmu_fail_walk(m, r);
		else if (r == 0)
			w->idx++;
		/* PVMM_MMU_PENDING: the lower table is on the stack now. */
		if (pvmm_pte_large(w->level, e))
			*budget -= PVMM_LARGE_FRAMES;
	}
	return m->broken ? -EIO : 0;
}

/* Accessed and Dirty, software bits and NX change without revalidation. */
static __always_inline u64 pvmm_mmu_quiet_bits(unsigned int level, u64 e)
{
	u64 q = PVMM_PTE_A | PVMM_PTE_D | PVMM_PTE_SOFT | PVMM_PTE_NX;

	if (level == 1 || pvmm_pte_large(level, e))
		q |= PVMM_PTE_G;
	return q;
}

static __always_inline int pvmm_mmu_pte_frame(struct pvmm_mmu *m, u64 ptr,
					      unsigned int *level)
{
	u64 gfn = ptr >> PAGE_SHIFT, f;

	if (gfn >= m->nr_frames)
		return -EINVAL;
	f = m->ft[gfn];
	if (pvmm_ft_type(f) < PVMM_MMU_TYPE_L1 || (f & PVMM_FT_BUSY))
		return -EINVAL;		/* not a page table */
	*level = pvmm_ft_type(f) - PVMM_MMU_TYPE_L1 + 1;
	return 0;
}

/* Write one entry; @held: see pvmm_mmu_get_entry(). */
static __always_inline int pvmm_mmu_update(struct pvmm_mmu *m,
					   struct pvmm_mmu_vcpu *v, u64 ptr,
					   u64 val, bool held)
{
	bool keep_ad = (ptr & PVMM_MMU_CMD_MASK) == PVMM_MMU_PT_UPDATE_AD;
	u64 ad = PVMM_PTE_A | PVMM_PTE_D;
	unsigned int level;
	u64 old, cur, new, self;
	unsigned int tries;
	bool quiet;
	int r;

	ptr &= ~PVMM_MMU_CMD_MASK;
	r = pvmm_mmu_pte_frame(m, ptr, &level);
	if (r)
		goto out_held;
	self = ptr >> PAGE_SHIFT;
	r = pvmm_mmu_mem_read(m->mem, ptr, &old);
	if (r)
		goto out_held;

	quiet = (old & PVMM_PTE_P) && (val & PVMM_PTE_P) &&
		!((old ^ val) & ~pvmm_mmu_quiet_bits(level, old));
	if (held && quiet) {
		/* Validated for nothing: the entry already holds the frame. */
		quiet = false;
	}
	if (!quiet && (val & PVMM_PTE_P)) {
		r = pvmm_mmu_get_entry(m, level, self, val, false, held);
		if (r == PVMM_MMU_PENDING) {
			u64 t = (val & PVMM_PTE_ADDR) >> PAGE_SHIFT;

			m->owner = v;
			m->trig = PVMM_MMU_TRIG_UPDATE;
			m->trig_ptr = ptr | (keep_ad ? PVMM_MMU_PT_UPDATE_AD : 0);
			m->trig_val = val;
			m->walk_err = 0;
			pvmm_mmu_begin_validate(m, t, level - 1);
			return PVMM_MMU_PENDING;
		}
		if (r)
			goto out_held;
		held = false;	/* the new entry owns it now */
	}

	cur = old;
	for (tries = 0;; tries++) {
		/*
		 * The hardware only ever sets A and D: two changes at most.
		 * Bits that keep moving are someone else's doing.
		 */
		if (tries > 2) {
			r = -EBUSY;
			break;
		}
		new = val;
		if (keep_ad && (cur & PVMM_PTE_P) && (val & PVMM_PTE_P) &&
		    !((cur ^ val) & PVMM_PTE_ADDR))
			new |= cur & ad;
		r = pvmm_mmu_mem_xchg(m->mem, ptr, &cur, new);
		if (r <= 0)
			break;
		/* Only the hardware's Accessed and Dirty bits may move. */
		if ((cur ^ old) & ~ad) {
			m->broken = true;
			r = -EIO;
			break;
		}
	}
	if (r) {
		if (!quiet && (val & PVMM_PTE_P))
			pvmm_mmu_put_entry(m, level, self, val);
		return r;
	}
	if (!quiet && (old & PVMM_PTE_P))
		pvmm_mmu_put_entry(m, level, self, old);
	return 0;

out_held:
	if (held) {
		u64 t = (val & PVMM_PTE_ADDR) >> PAGE_SHIFT;

		pvmm_ft_pt_put(m, t, pvmm_ft_type(m->ft[t]) -
			       PVMM_MMU_TYPE_L1 + 1);
	}
	return r;
}

static int pvmm_mmu_pin(struct pvmm_mmu *m, struct pvmm_mmu_vcpu *v, u64 gfn)
{
	u64 f;
	int r;

	if (!pvmm_ft_ram(m, gfn))
		return -EFAULT;
	f = m->ft[gfn];
	if (f & PVMM_FT_PINNED)
		return -EBUSY;
	r = pvmm_ft_pt_get(m, gfn, PVMM_MMU_TYPE_L4);
	if (r == PVMM_MMU_PENDING) {
		m->owner = v;
		m->trig = PVMM_MMU_TRIG_PIN;
		m->trig_ptr = gfn;
		m->walk_err = 0;
		pvmm_mmu_begin_validate(m, gfn, 4);
		return PVMM_MMU_PENDING;
	}
	if (!r)
		pvmm_ft_set_pinned(m, gfn, true);
	return r;
}

static int pvmm_mmu_unpin(struct pvmm_mmu *m, u64 gfn)
{
	if (gfn >= m->nr_frames || !(m->ft[gfn] & PVMM_FT_PINNED))
		return -EINVAL;
	if (pvmm_mmu_mem_root_in_use(m->mem, gfn))
		return -EBUSY;
	pvmm_ft_set_pinned(m, gfn, false);
	pvmm_ft_pt_put(m, gfn, 4);
	return 0;
}

static bool pvmm_gva_canonical(u64 gva)
{
	return (u64)(((s64)gva << 16) >> 16) == gva;
}

static int pvmm_mmu_ext(struct pvmm_mmu *m, struct pvmm_mmu_vcpu *v,
			const struct pvmm_mmu_update *u)
{
	unsigned int op = (u->ptr >> PVMM_MMU_EXT_SHIFT) & PVMM_MMU_EXT_MASK;
	u64 gfn = u->ptr >> PAGE_SHIFT;
	u64 self = v->id < 63 ? BIT_ULL(v->id) : PVMM_MMU_FLUSH_EVERY_VCPU;
	u64 mask;

	switch (op) {
	case PVMM_MMU_EXT_PIN_L4:
		return pvmm_mmu_pin(m, v, gfn);
	case PVMM_MMU_EXT_UNPIN:
		return pvmm_mmu_unpin(m, gfn);
	case PVMM_MMU_EXT_NEW_BASEPTR:
		if (gfn >= m->nr_frames || !(m->ft[gfn] & PVMM_FT_PINNED))
			return -EINVAL;
		v->base = gfn + 1;
		return 0;
	}
	if (gfn)
		return -EINVAL;		/* the flushes take no frame */
	switch (op) {
	case PVMM_MMU_EXT_FLUSH_LOCAL:
		pvmm_mmu_flush_add(&v->flush, self, true, 0);
		return 0;
	case PVMM_MMU_EXT_FLUSH_ALL:
		pvmm_mmu_flush_add(&v->flush, PVMM_MMU_FLUSH_EVERY_VCPU, true, 0);
		return 0;
	case PVMM_MMU_EXT_FLUSH_MASK:
		/* Ids above 62 are only reachable through "every vCPU". */
		mask = u->val & BIT_ULL(63) ? PVMM_MMU_FLUSH_EVERY_VCPU : u->val;
		pvmm_mmu_flush_add(&v->flush, mask, true, 0);
		return 0;
	case PVMM_MMU_EXT_INVLPG_LOCAL:
	case PVMM_MMU_EXT_INVLPG_ALL:
		if (!pvmm_gva_canonical(u->val))
			return -EINVAL;
		pvmm_mmu_flush_add(&v->flush, op == PVMM_MMU_EXT_INVLPG_ALL ?
				   PVMM_MMU_FLUSH_EVERY_VCPU : self, false,
				   u->val);
		return 0;
	default:
		return -EINVAL;
	}
}

/**
 * pvmm_mmu_apply() - apply one batch entry
 * @m: the frame table; no walk may be pending (pvmm_mmu_run() first)
 * @v: the calling vCPU
 * @u: the entry, already copied out of guest memory
 * @budget: work left in this call; spent here
 *
 * Return: 0 when applied, a negative errno when rejected (nothing
 * changed), or PVMM_MMU_PENDING when a lower table must be validated
 * first: pvmm_mmu_run() then finishes the walk and the entry.
 */
static __always_inline int pvmm_mmu_apply(struct pvmm_mmu *m,
					  struct pvmm_mmu_vcpu *v,
					  const struct pvmm_mmu_update *u,
					  long *budget)
{
	int r;

	if (m->broken)
		return -EIO;
	if (WARN_ON_ONCE(m->depth))
		return -EBUSY;
	(*budget)--;
	switch (u->ptr & PVMM_MMU_CMD_MASK) {
	case PVMM_MMU_PT_UPDATE:
	case PVMM_MMU_PT_UPDATE_AD:
		if (pvmm_pte_large(2, u->val))
			*budget -= PVMM_LARGE_FRAMES;
		r = pvmm_mmu_update(m, v, u->ptr, u->val, false);
		break;
	case PVMM_MMU_EXT:
		r = pvmm_mmu_ext(m, v, u);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		m->rejected++;
	else if (!r)
		m->applied++;
	return r;
}

/**
 * pvmm_mmu_apply_many() - apply entries in order
 * @m: the frame table; no walk may be pending
 * @v: the calling vCPU
 * @u: the entries, already copied out of guest memory
 * @n: how many
 * @budget: work left in this call; spent here, checked before each entry
 * @done: entries applied
 *
 * Return: 0 when all @n were applied, the budget ran out first, or an
 * applied entry started a teardown walk (pvmm_mmu_run() before the next
 * entry), a negative errno when entry *@done was rejected,
 * PVMM_MMU_PENDING when entry *@done waits for a walk (see
 * pvmm_mmu_apply()).
 */
int pvmm_mmu_apply_many(struct pvmm_mmu *m, struct pvmm_mmu_vcpu *v,
			const struct pvmm_mmu_update *u, unsigned int n,
			long *budget, unsigned int *done)
{
	unsigned int i;
	int r = 0;

	for (i = 0; i < n && *budget > 0; i++) {
		r = pvmm_mmu_apply(m, v, &u[i], budget);
		if (r)
			break;
		/* It dropped a table's last reference: tear that down first. */
		if (unlikely(m->depth)) {
			i++;
			break;
		}
	}
	*done = i;
	return r;
}

/**
 * pvmm_mmu_run() - advance the pending walk
 * @m: the frame table
 * @v: the calling vCPU
 * @budget: work left in this call; spent here
 *
 * Return: -EIO when the table is broken, PVMM_MMU_WAIT when the walk
 * belongs to another vCPU, -EAGAIN when the budget ran out first, 0 when no walk is
 * left and no entry of @v waits, or 1 with the entry of @v that started
 * the walk applied; a negative errno when that entry was rejected.
 */
int pvmm_mmu_run(struct pvmm_mmu *m, struct pvmm_mmu_vcpu *v, long *budget)
{
	unsigned int trig;
	int r;

	if (m->broken)
		return -EIO;
	if (m->owner && m->owner != v)
		return PVMM_MMU_WAIT;
	r = pvmm_mmu_walk(m, budget);
	if (r)
		return r;
	trig = m->trig;
	if (!m->owner || trig == PVMM_MMU_TRIG_NONE)
		return 0;
	m->owner = NULL;
	m->trig = PVMM_MMU_TRIG_NONE;
	if (m->walk_err) {
		r = m->walk_err;
		m->walk_err = 0;
		m->rejected++;
		return r;
	}
	if (trig == PVMM_MMU_TRIG_PIN) {
		pvmm_ft_set_pinned(m, m->trig_ptr, true);
		m->applied++;
		return 1;
	}
	r = pvmm_mmu_update(m, v, m->trig_ptr, m->trig_val, true);
	if (r < 0) {
		m->rejected++;
		return r;
	}
	m->applied++;
	return 1;
}

/*
 * The vCPU that waits for the walk gives up (it went away or started
 * another call): a validation unwinds, and anyone may finish the walk.
 */
void pvmm_mmu_abort(struct pvmm_mmu *m, struct pvmm_mmu_vcpu *v)
{
	if (m->owner != v)
		return;
	if (m->depth && m->stack[0].mode == PVMM_MMU_WALK_VALIDATE)
		pvmm_mmu_fail_walk(m, -EINTR);
	m->owner = NULL;
	m->trig = PVMM_MMU_TRIG_NONE;
	m->walk_err = 0;
}

/**
 * pvmm_mmu_translate() - walk the vCPU's tables for a guest-virtual address
 * @m: the frame table
 * @v: the vCPU; its base is a pinned, validated root
 * @gva: the address
 * @access: PVMM_MMU_ACCESS_*
 *
 * Return: the guest-physical address, -EINVAL, -ENOENT, -EACCES or -EFAULT.
 */
s64 pvmm_mmu_translate(struct pvmm_mmu *m, const struct pvmm_mmu_vcpu *v,
		       u64 gva, u64 access)
{
	bool rw = true, us = true, nx = false;
	u64 table, e = 0;
	int level;

	if (!pvmm_gva_canonical(gva) || !v->base ||
	    (access & ~(PVMM_MMU_ACCESS_WRITE | PVMM_MMU_ACCESS_USER |
			PVMM_MMU_ACCESS_EXEC)))
		return -EINVAL;
	table = v->base - 1;
	for (level = 4; level >= 1; level--) {
		unsigned int idx = (gva >> (PAGE_SHIFT + 9 * (level - 1))) &
				   (PVMM_MMU_ENTRIES - 1);

		if (pvmm_mmu_mem_read(m->mem, (table << PAGE_SHIFT) + idx * 8, &e))
			return -EFAULT;
		if (!(e & PVMM_PTE_P))
			return -ENOENT;
		rw &= !!(e & PVMM_PTE_RW);
		us &= !!(e & PVMM_PTE_US);
		nx |= !!(e & PVMM_PTE_NX);
		table = (e & PVMM_PTE_ADDR) >> PAGE_SHIFT;
		if (pvmm_pte_large(level, e))
			break;
	}
	if (((access & PVMM_MMU_ACCESS_WRITE) && !rw) ||
	    ((access & PVMM_MMU_ACCESS_USER) && !us) ||
	    ((access & PVMM_MMU_ACCESS_EXEC) && nx))
		return -EACCES;
	if (level == 2)
		return (e & PVMM_PTE_ADDR & ~(u64)(SZ_2M - 1)) |
		       (gva & (SZ_2M - 1));
	return (e & PVMM_PTE_ADDR) | (gva & ~PAGE_MASK);
}

void pvmm_mmu_set_ram(struct pvmm_mmu *m, u64 gfn, u64 n, bool ram)
{
	u64 i, end = min(gfn + n, m->nr_frames);

	for (i = gfn; i < end; i++) {
		if (ram)
			m->ft[i] |= PVMM_FT_RAM;
		else
			m->ft[i] &= ~PVMM_FT_RAM;
	}
}

int pvmm_mmu_init(struct pvmm_mmu *m, u64 nr_frames, u64 flags,
		  struct pvmm_mmu_mem *mem)
{
	if (!nr_frames || (flags & ~PVMM_MMU_F_ALL))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->ft = kvcalloc(nr_frames, sizeof(u64), GFP_KERNEL_ACCOUNT);
	if (!m->ft)
		return -ENOMEM;
	m->nr_frames = nr_frames;
	m->nr_type[PVMM_MMU_TYPE_NONE] = nr_frames;
	m->flags = flags;
	m->mem = mem;
	return 0;
}

void pvmm_mmu_destroy(struct pvmm_mmu *m)
{
	kvfree(m->ft);
	m->ft = NULL;
}

#ifdef CONFIG_PVMM_KUNIT_TEST
#include "mmu_core_test.h"
#endif
