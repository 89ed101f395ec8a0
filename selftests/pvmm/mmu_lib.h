/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PV MMU from the VMM's and the guest's side: a VM with memfd guest
 * memory at guest-physical 0, the service configured, page-table frames
 * handed out from a bump allocator, and batches built with the guest
 * library (include/pvmm/mmu_batch.h) and forwarded the way a VMM must:
 * issued again while the kernel answers EAGAIN.
 */
#ifndef _PVMM_MMU_LIB_H
#define _PVMM_MMU_LIB_H

#include <stddef.h>
#include <linux/pvmm_mmu.h>
#include <pvmm/mmu_batch.h>

#include "libpvmm.h"

#define MMU_MEM		(64ULL << 20)	/* guest memory: [0, 64 MiB) */
#define MMU_LIMIT	(128ULL << 20)	/* frame table: 64-128 MiB a hole */
#define MMU_STATUS	0x1000ULL	/* the batch status word */
#define MMU_QUEUE	0x2000ULL	/* the guest library's queue */
#define MMU_QUEUE_CAP	512
#define MMU_TABLES	0x200000ULL	/* page-table frames from here */
#define MMU_BIG		0x1000000ULL	/* 16 MiB for huge batches */
#define MMU_DATA	0x2000000ULL	/* data frames from 32 MiB */

#define PTE_P		0x1ULL
#define PTE_RW		0x2ULL
#define PTE_US		0x4ULL
#define PTE_A		0x20ULL
#define PTE_D		0x40ULL
#define PTE_PS		0x80ULL

struct mmu_vm {
	struct vmm_vm v;
	int vm;
	int vcpu[2];
	int memfd;
	char *mem;
	__u64 next_table;
	int cur;		/* the vCPU the queue submits through */
	struct pvmm_mmu_queue q;
	unsigned long calls;	/* ioctls, continuations included */
	unsigned long continuations;
	double max_call_s;	/* the longest single ioctl */
	__u64 flush[3];		/* the last batch's flush set */
};

static inline __u64 *mmu_at(struct mmu_vm *v, __u64 gpa)
{
	return (__u64 *)(v->mem + gpa);
}

/* One forwarded call, issued again while the kernel says EAGAIN. */
static inline int mmu_call(struct mmu_vm *v, int vcpu, __u32 nr, __u64 a0,
			   __u64 a1, __u64 a2, __s64 *ret)
{
	struct pvmm_call c;
	double t;
	int r;

	for (;;) {
		memset(&c, 0, sizeof(c));
		c.nr = nr;
		c.args[0] = a0;
		c.args[1] = a1;
		c.args[2] = a2;
		t = vmm_now();
		r = ioctl(v->vcpu[vcpu], PVMM_VCPU_CALL, &c) < 0 ? -errno : 0;
		t = vmm_now() - t;
		v->calls++;
		if (t > v->max_call_s)
			v->max_call_s = t;
		if (r != -EAGAIN)
			break;
		v->continuations++;
	}
	if (!r) {
		*ret = c.ret;
		memcpy(v->flush, c.out, sizeof(v->flush));
	}
	return r;
}

/* Entries done (errno of a rejected one in *err), or -errno. */
static inline __s64 mmu_batch(struct mmu_vm *v, int vcpu, __u64 gpa, __u64 n,
			      __s64 *err)
{
	__s64 ret;
	int r;

	*err = 0;
	*mmu_at(v, MMU_STATUS) = 0;
	r = mmu_call(v, vcpu, PVMM_MMU_CALL_BATCH, gpa, n, MMU_STATUS, &ret);
	if (r)
		return r * 1000000LL;	/* ioctl errors stand out */
	*err = *mmu_at(v, MMU_STATUS);
	return ret;
}

static inline __s64 mmu_submit(void *ctx, __u64 gpa, __u32 n, __s64 *err)
{
	struct mmu_vm *v = ctx;

	return mmu_batch(v, v->cur, gpa, n, err);
}

/* @also: another service to enable, or -1 */
static inline int mmu_vm_open_with(struct mmu_vm *v, __u64 flags, int also)
{
	struct pvmm_mmu_config c = { .limit = MMU_LIMIT, .flags = flags };
	int i;

	memset(v, 0, sizeof(*v));
	if (vmm_vm_create(&v->v, 0, MMU_MEM, 0) ||
	    vmm_enable(&v->v, PVMM_SVC_MMU))
		return -1;
	v->vm = v->v.fd;
	v->mem = v->v.mem;
	v->memfd = v->v.memfd;
	if (vmm_ioctl(v->vm, PVMM_MMU_CONFIGURE, &c))
		return -1;
	if (also >= 0 && vmm_enable(&v->v, also))
		return -1;
	for (i = 0; i < 2; i++) {
		v->vcpu[i] = vmm_vcpu_create(&v->v, i, !i);
		if (v->vcpu[i] < 0)
			return -1;
	}
	v->next_table = MMU_TABLES;
	pvmm_mmu_queue_init(&v->q, (struct pvmm_mmu_update *)mmu_at(v, MMU_QUEUE),
			    MMU_QUEUE, MMU_QUEUE_CAP, mmu_submit, v);
	return 0;
}

static inline int mmu_vm_open(struct mmu_vm *v, __u64 flags)
{
	return mmu_vm_open_with(v, flags, -1);
}

static inline void mmu_vm_close(struct mmu_vm *v)
{
	close(v->vcpu[0]);
	close(v->vcpu[1]);
	vmm_vm_destroy(&v->v);
}

/* A zeroed frame for a page table. */
static inline __u64 mmu_alloc(struct mmu_vm *v)
{
	__u64 gpa = v->next_table;

	v->next_table += 4096;
	memset(mmu_at(v, gpa), 0, 4096);
	return gpa;
}

static inline int mmu_frame(struct mmu_vm *v, __u64 gpa, __u64 out[4])
{
	struct pvmm_mmu_frame f = { .gfn = gpa >> 12 };
	int r = vmm_ioctl(v->vm, PVMM_MMU_GET_FRAME, &f);

	out[0] = f.type;
	out[1] = f.type_count;
	out[2] = f.refs;
	out[3] = f.pinned;
	return r;
}

static inline __u64 mmu_type(struct mmu_vm *v, __u64 gpa)
{
	__u64 f[4];

	return mmu_frame(v, gpa, f) ? ~0ULL : f[0];
}

static inline int mmu_stats(struct mmu_vm *v, __u64 out[6])
{
	struct pvmm_mmu_stats st;
	int r = vmm_ioctl(v->vm, PVMM_MMU_GET_STATS, &st);

	memcpy(out, &st, 6 * sizeof(__u64));
	return r;
}

/* Index of @gva at @level (4: PML4) */
static inline unsigned int mmu_idx(__u64 gva, int level)
{
	return (gva >> (12 + 9 * (level - 1))) & 511;
}

/*
 * A pinned, empty L4 with one L3, L2 and L1 below it covering the 2 MiB
 * at guest-virtual 0, built through the guest library. The tables' frames
 * come back in @t[4] (t[0] = L4).
 */
static inline __s64 mmu_tree(struct mmu_vm *v, __u64 t[4])
{
	struct pvmm_mmu_queue *q = &v->q;
	int i;

	for (i = 0; i < 4; i++)
		t[i] = mmu_alloc(v);
	pvmm_mmu_lazy_enter(q);
	pvmm_mmu_queue_ext(q, PVMM_MMU_EXT_PIN_L4, t[0], 0);
	for (i = 0; i < 3; i++)
		pvmm_mmu_queue_pte(q, t[i], t[i + 1] | PTE_P | PTE_RW | PTE_US);
	pvmm_mmu_queue_ext(q, PVMM_MMU_EXT_NEW_BASEPTR, t[0], 0);
	return pvmm_mmu_lazy_leave(q);
}

static inline __s64 mmu_translate(struct mmu_vm *v, __u64 gva, __u64 access)
{
	__s64 ret;
	int r = mmu_call(v, v->cur, PVMM_MMU_CALL_TRANSLATE, gva, access, 0,
			 &ret);

	return r ? r * 1000000LL : ret;
}

#endif /* _PVMM_MMU_LIB_H */
