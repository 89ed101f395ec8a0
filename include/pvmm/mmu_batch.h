/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side queue of PV MMU batch entries, in the manner of the kernel's
 * lazy MMU mode: inside a lazy section page-table writes queue up and go
 * to the host in one PVMM_MMU_CALL_BATCH when the section ends or the
 * queue is full; outside, each write goes at once. Back-to-back writes of
 * one entry keep only the last value (the hardware could not have seen
 * the earlier one before the section ends). Shared by the guest half
 * (pvmm/guest/mmu_guest.c) and the selftests: no kernel or libc calls.
 */
#ifndef _PVMM_MMU_BATCH_H
#define _PVMM_MMU_BATCH_H

#include <linux/errno.h>
#include <linux/types.h>
#include <linux/pvmm_mmu.h>

/**
 * struct pvmm_mmu_queue - a batch being built in guest memory
 * @ent: the entries, in guest memory
 * @ent_gpa: their guest-physical address
 * @cap: room in @ent
 * @n: entries queued
 * @lazy: nesting depth of lazy sections
 * @submit: send @n entries at @gpa as one batch; returns entries done
 *          (the errno of a rejected one in *@err) or a negative errno
 * @ctx: for @submit
 * @err: the first failure since it was last cleared
 * @calls: batches sent
 * @coalesced: writes folded into the previous entry
 */
struct pvmm_mmu_queue {
	struct pvmm_mmu_update *ent;
	__u64 ent_gpa;
	__u32 cap;
	__u32 n;
	__u32 lazy;
	__s64 (*submit)(void *ctx, __u64 gpa, __u32 n, __s64 *err);
	void *ctx;
	__s64 err;
	__u64 calls;
	__u64 coalesced;
};

static inline void pvmm_mmu_queue_init(struct pvmm_mmu_queue *q,
				       struct pvmm_mmu_update *ent,
				       __u64 ent_gpa, __u32 cap,
				       __s64 (*submit)(void *, __u64, __u32,
						       __s64 *),
				       void *ctx)
{
	*q = (struct pvmm_mmu_queue){
		.ent = ent, .ent_gpa = ent_gpa, .cap = cap,
		.submit = submit, .ctx = ctx,
	};
}

/* Send what is queued. Return: 0, or the errno of the first failure. */
static inline __s64 pvmm_mmu_queue_flush(struct pvmm_mmu_queue *q)
{
	__s64 done, err = 0;
	__u32 n = q->n;

	if (!n)
		return 0;
	q->n = 0;
	q->calls++;
	done = q->submit(q->ctx, q->ent_gpa, n, &err);
	if (done < 0)
		err = done;
	else if ((__u64)done < n && !err)
		err = -EIO;	/* the host could not say why */
	else if ((__u64)done >= n)
		err = 0;
	if (err && !q->err)
		q->err = err;
	return err;
}

static inline __s64 pvmm_mmu_queue_add(struct pvmm_mmu_queue *q, __u64 ptr,
				       __u64 val)
{
	struct pvmm_mmu_update *last = q->n ? &q->ent[q->n - 1] : NULL;
	__s64 r = 0;

	if (last && last->ptr == ptr &&
	    (ptr & PVMM_MMU_CMD_MASK) == PVMM_MMU_PT_UPDATE) {
		last->val = val;
		q->coalesced++;
	} else {
		if (q->n == q->cap)
			r = pvmm_mmu_queue_flush(q);
		q->ent[q->n].ptr = ptr;
		q->ent[q->n].val = val;
		q->n++;
	}
	if (!q->lazy)
		r = pvmm_mmu_queue_flush(q) ?: r;
	return r;
}

/* Write the page-table entry at guest-physical @pte_gpa. */
static inline __s64 pvmm_mmu_queue_pte(struct pvmm_mmu_queue *q,
				       __u64 pte_gpa, __u64 val)
{
	return pvmm_mmu_queue_add(q, (pte_gpa & ~PVMM_MMU_CMD_MASK) |
				  PVMM_MMU_PT_UPDATE, val);
}

static inline __s64 pvmm_mmu_queue_ext(struct pvmm_mmu_queue *q,
				       unsigned int op, __u64 gpa, __u64 val)
{
	return pvmm_mmu_queue_add(q, PVMM_MMU_EXT_CMD(op, gpa & ~0xfffULL),
				  val);
}

static inline void pvmm_mmu_lazy_enter(struct pvmm_mmu_queue *q)
{
	q->lazy++;
}

static inline __s64 pvmm_mmu_lazy_leave(struct pvmm_mmu_queue *q)
{
	if (q->lazy && --q->lazy == 0)
		return pvmm_mmu_queue_flush(q);
	return 0;
}

#endif /* _PVMM_MMU_BATCH_H */
