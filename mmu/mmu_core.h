/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PV MMU's pure core: the frame table, the validation of x86-64
 * 4-level entries and the walks that validate and tear down page-table
 * frames in bounded steps. Guest memory is reached through the accessors
 * of mmu_mem.h, so the core runs under KUnit on any architecture.
 */
#ifndef _PVMM_MMU_CORE_H
#define _PVMM_MMU_CORE_H

#include <linux/bits.h>
#include <linux/pvmm_mmu.h>
#include <linux/types.h>

#define PVMM_MMU_LEVELS		4
#define PVMM_MMU_ENTRIES	512

/* x86-64 entry bits the validator looks at */
#define PVMM_PTE_P		BIT_ULL(0)
#define PVMM_PTE_RW		BIT_ULL(1)
#define PVMM_PTE_US		BIT_ULL(2)
#define PVMM_PTE_PWT		BIT_ULL(3)
#define PVMM_PTE_PCD		BIT_ULL(4)
#define PVMM_PTE_A		BIT_ULL(5)
#define PVMM_PTE_D		BIT_ULL(6)
#define PVMM_PTE_PS		BIT_ULL(7)	/* PAT in an L1 entry */
#define PVMM_PTE_G		BIT_ULL(8)
#define PVMM_PTE_LARGE_PAT	BIT_ULL(12)
#define PVMM_PTE_LARGE_RSVD	GENMASK_ULL(20, 13)
#define PVMM_PTE_ADDR		GENMASK_ULL(51, 12)
#define PVMM_PTE_SOFT		(GENMASK_ULL(11, 9) | GENMASK_ULL(58, 52))
#define PVMM_PTE_PK		GENMASK_ULL(62, 59)
#define PVMM_PTE_NX		BIT_ULL(63)

/*
 * One frame table entry: 8 bytes per 4 KiB guest frame.
 * TYPE: PVMM_MMU_TYPE_*; TCOUNT: references that need the type (writable
 * mappings, or upper entries plus the pin); REFS: every present entry
 * that maps or points to the frame. RAM: inside a memslot. BUSY: being
 * validated or torn down by the walk. STALE: mapped writable since the
 * host last asked for a flush of every vCPU.
 */
#define PVMM_FT_TYPE		GENMASK_ULL(2, 0)
#define PVMM_FT_PINNED		BIT_ULL(3)
#define PVMM_FT_RAM		BIT_ULL(4)
#define PVMM_FT_BUSY		BIT_ULL(5)
#define PVMM_FT_STALE		BIT_ULL(6)
#define PVMM_FT_TCOUNT		GENMASK_ULL(31, 8)
#define PVMM_FT_REFS		GENMASK_ULL(63, 32)

struct pvmm_mmu_mem;

/* The flush set of one vCPU's batch; see PVMM_MMU_FLUSH_*. */
struct pvmm_mmu_flush {
	u64 flags;
	u64 vcpus;
	u64 addr;
};

/* A vCPU as the core sees it; the glue owns it. */
struct pvmm_mmu_vcpu {
	u32 id;
	u64 base;	/* root frame + 1, 0 for none */
	struct pvmm_mmu_flush flush;
};

enum {
	PVMM_MMU_WALK_VALIDATE,
	PVMM_MMU_WALK_TEARDOWN,	/* every entry of a frame nobody needs */
	PVMM_MMU_WALK_UNDO,	/* the entries a failed validation took */
};

struct pvmm_mmu_walk {
	u64 gfn;
	u16 idx;
	u16 end;
	u8 level;
	u8 mode;
};

enum {
	PVMM_MMU_TRIG_NONE,
	PVMM_MMU_TRIG_UPDATE,
	PVMM_MMU_TRIG_PIN,
};

/**
 * struct pvmm_mmu - the frame table of one VM and its walk in progress
 * @ft: one entry per guest frame below @nr_frames
 * @nr_frames: frames the table covers
 * @flags: PVMM_MMU_F_*
 * @mem: guest memory (mmu_mem.h)
 * @depth: entries in @stack; 0 when no walk is pending
 * @stack: the walk: levels strictly decrease from the bottom up
 * @walk_err: why a validation failed, reported to the trigger
 * @owner: the vCPU waiting for the walk's result, or NULL
 * @trig: what @owner waits for (PVMM_MMU_TRIG_*)
 * @trig_ptr: the batch entry (or the root) that started the walk
 * @trig_val: its value
 * @broken: guest memory changed behind the frame table's back
 * @applied: entries applied
 * @rejected: entries rejected
 * @nr_type: frames of each PVMM_MMU_TYPE_*, kept with @ft
 * @nr_pinned: pinned roots
 */
struct pvmm_mmu {
	u64 *ft;
	u64 nr_frames;
	u64 flags;
	struct pvmm_mmu_mem *mem;
	unsigned int depth;
	struct pvmm_mmu_walk stack[PVMM_MMU_LEVELS];
	int walk_err;
	struct pvmm_mmu_vcpu *owner;
	unsigned int trig;
	u64 trig_ptr;
	u64 trig_val;
	bool broken;
	u64 applied;
	u64 rejected;
	u64 nr_type[PVMM_MMU_TYPE_L4 + 1];
	u64 nr_pinned;
};

/* Returned by pvmm_mmu_apply(): a walk must finish first. */
#define PVMM_MMU_PENDING	1
/*
 * Returned by pvmm_mmu_run(): the walk waits for another vCPU's entry.
 * Positive, so that no errno a walk ends with (-EBUSY for a frame of
 * another type) is mistaken for it.
 */
#define PVMM_MMU_WAIT		2

int pvmm_mmu_init(struct pvmm_mmu *m, u64 nr_frames, u64 flags,
		  struct pvmm_mmu_mem *mem);
void pvmm_mmu_destroy(struct pvmm_mmu *m);
void pvmm_mmu_set_ram(struct pvmm_mmu *m, u64 gfn, u64 n, bool ram);
int pvmm_mmu_run(struct pvmm_mmu *m, struct pvmm_mmu_vcpu *v, long *budget);
int pvmm_mmu_apply_many(struct pvmm_mmu *m, struct pvmm_mmu_vcpu *v,
			const struct pvmm_mmu_update *u, unsigned int n,
			long *budget, unsigned int *done);
void pvmm_mmu_abort(struct pvmm_mmu *m, struct pvmm_mmu_vcpu *v);
s64 pvmm_mmu_translate(struct pvmm_mmu *m, const struct pvmm_mmu_vcpu *v,
		       u64 gva, u64 access);

static inline unsigned int pvmm_ft_type(u64 f)
{
	return f & PVMM_FT_TYPE;
}

static inline u32 pvmm_ft_tcount(u64 f)
{
	return (f & PVMM_FT_TCOUNT) >> 8;
}

static inline u32 pvmm_ft_refs(u64 f)
{
	return f >> 32;
}

#endif /* _PVMM_MMU_CORE_H */
