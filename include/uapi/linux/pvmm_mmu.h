/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pvmm PV MMU service: validated, batched guest page-table updates.
 * See Documentation/pvmm/mmu.rst.
 */
#ifndef _UAPI_LINUX_PVMM_MMU_H
#define _UAPI_LINUX_PVMM_MMU_H

#include <linux/const.h>
#include <linux/pvmm.h>
#include <linux/types.h>

#define PVMM_MMU_VERSION	1

/*
 * Guest calls.
 *
 * VERSION: ret = PVMM_MMU_VERSION | (PVMM_MMU_F_* enabled by the VMM) << 32.
 *
 * BATCH: a0 = guest-physical address of an array of struct pvmm_mmu_update
 * (16-byte aligned), a1 = entries, a2 = guest-physical address of a __s64
 * (8-byte aligned) that receives the errno of a rejected entry, or 0.
 * Entries are applied in order; ret = entries done. When ret < a1, entry
 * ret was rejected and nothing after it was looked at. A negative ret
 * rejects the call itself (bad array, bad status address, no frame table).
 * The VMM gets the TLB flushes the batch asks for (and the ones the host
 * requires) in pvmm_call.out: see PVMM_MMU_FLUSH_*.
 *
 * TRANSLATE: a0 = guest-virtual address, a1 = PVMM_MMU_ACCESS_*; walks the
 * calling vCPU's base tables. ret = guest-physical address, -EINVAL (not
 * canonical, no base), -ENOENT (not present) or -EACCES.
 */
#define PVMM_MMU_CALL_VERSION	PVMM_CALL_NR(PVMM_SVC_MMU, 0)
#define PVMM_MMU_CALL_BATCH	PVMM_CALL_NR(PVMM_SVC_MMU, 1)
#define PVMM_MMU_CALL_TRANSLATE	PVMM_CALL_NR(PVMM_SVC_MMU, 2)

#define PVMM_MMU_ACCESS_WRITE	_BITULL(0)
#define PVMM_MMU_ACCESS_USER	_BITULL(1)
#define PVMM_MMU_ACCESS_EXEC	_BITULL(2)

/**
 * struct pvmm_mmu_update - one entry of a BATCH call
 * @ptr: the command in the low 3 bits, and its operand
 * @val: the command's value
 *
 * PT_UPDATE:    @ptr = guest-physical address of an 8-byte entry inside a
 *               page-table frame; @val = its new value.
 * PT_UPDATE_AD: the same, but the Accessed and Dirty bits of the current
 *               entry are kept when it maps the same frame.
 * EXT:          @ptr = (page-aligned guest-physical operand) | op << 3 |
 *               PVMM_MMU_EXT, @val = the op's value.
 *
 * A rejected entry's errno (mmu.rst says which check gives which): EINVAL
 * (a bad command, operand or bit), EFAULT (a frame outside the memslots),
 * EPERM (a page-table frame mapped writable), EBUSY (a frame of another
 * type or in use), EOVERFLOW (a count at its limit).
 */
struct pvmm_mmu_update {
	__u64 ptr;
	__u64 val;
};

#define PVMM_MMU_CMD_MASK	0x7ULL
#define PVMM_MMU_PT_UPDATE	0
#define PVMM_MMU_PT_UPDATE_AD	1
#define PVMM_MMU_EXT		2

#define PVMM_MMU_EXT_SHIFT	3
#define PVMM_MMU_EXT_MASK	0x1ffULL	/* bits 3-11 */
#define PVMM_MMU_EXT_PIN_L4	0	/* operand: root; validates the tree */
#define PVMM_MMU_EXT_UNPIN	1	/* operand: root */
#define PVMM_MMU_EXT_NEW_BASEPTR 2	/* operand: a pinned root */
#define PVMM_MMU_EXT_FLUSH_LOCAL 3	/* this vCPU, everything */
#define PVMM_MMU_EXT_FLUSH_ALL	4	/* every vCPU, everything */
#define PVMM_MMU_EXT_FLUSH_MASK	5	/* @val: vCPU mask, everything */
#define PVMM_MMU_EXT_INVLPG_LOCAL 6	/* @val: address, this vCPU */
#define PVMM_MMU_EXT_INVLPG_ALL	7	/* @val: address, every vCPU */

#define PVMM_MMU_EXT_CMD(op, gpa) \
	((__u64)(gpa) | ((__u64)(op) << PVMM_MMU_EXT_SHIFT) | PVMM_MMU_EXT)

/*
 * The flush set of a batch, in pvmm_call.out[] of PVMM_VCPU_CALL:
 * out[0] = PVMM_MMU_FLUSH_* flags (0: nothing to flush), out[1] = vCPUs
 * (bit n: vCPU id n for n < 63; bit 63: every vCPU), out[2] = the one
 * address to invalidate when out[0] is PVMM_MMU_FLUSH_ADDR. The VMM
 * must carry the set out before any vCPU of the VM runs guest code again.
 */
#define PVMM_MMU_FLUSH_FULL	_BITULL(0)
#define PVMM_MMU_FLUSH_ADDR	_BITULL(1)
#define PVMM_MMU_FLUSH_EVERY_VCPU _BITULL(63)

/* PVMM_MMU_F_*: frame table options, chosen by the VMM. */
#define PVMM_MMU_F_SUPERPAGES	_BITULL(0)	/* 2 MiB pages at L2 */
#define PVMM_MMU_F_ALL		PVMM_MMU_F_SUPERPAGES

/**
 * struct pvmm_mmu_config - PVMM_MMU_CONFIGURE: create the frame table
 * @limit: guest-physical limit of the table, a multiple of 4 KiB covering
 *         every memslot the guest maps
 * @flags: PVMM_MMU_F_*
 * @reserved: must be 0
 *
 * Once per VM, before the guest's first BATCH. Errnos: EINVAL (bad
 * limit, unknown flags, reserved words), E2BIG (a table past the host's
 * limit), EBUSY (already configured), ENOMEM.
 */
struct pvmm_mmu_config {
	__u64 limit;
	__u64 flags;
	__u64 reserved[2];
};

/**
 * struct pvmm_mmu_stats - PVMM_MMU_GET_STATS: the frame table's counters
 * @pt_frames: frames typed as page tables (L1 to L4)
 * @writable_frames: frames mapped writable by some L1 entry
 * @pinned_roots: pinned L4 frames
 * @applied: batch entries applied
 * @rejected: batch entries rejected
 * @continuations: calls the VMM issued again after EAGAIN
 * @reserved: 0
 *
 * Errnos: ENODEV also before PVMM_MMU_CONFIGURE.
 */
struct pvmm_mmu_stats {
	__u64 pt_frames;
	__u64 writable_frames;
	__u64 pinned_roots;
	__u64 applied;
	__u64 rejected;
	__u64 continuations;
	__u64 reserved[2];
};

/**
 * struct pvmm_mmu_frame - PVMM_MMU_GET_FRAME: one frame table entry
 * @gfn: in: the guest frame number
 * @type: out: PVMM_MMU_TYPE_*
 * @type_count: out: references that need the type
 * @refs: out: present entries that map or point to the frame
 * @pinned: out: 1 for a pinned root
 * @reserved: in: must be 0
 *
 * Errnos: ENODEV also before PVMM_MMU_CONFIGURE, EINVAL for @gfn past the
 * table.
 */
struct pvmm_mmu_frame {
	__u64 gfn;
	__u32 type;
	__u32 type_count;
	__u32 refs;
	__u32 pinned;
	__u64 reserved[2];
};

#define PVMM_MMU_CONFIGURE	_IOW(PVMM_IOCTL_MAGIC, PVMM_CTL_MMU + 0, \
				     struct pvmm_mmu_config)
#define PVMM_MMU_GET_STATS	_IOR(PVMM_IOCTL_MAGIC, PVMM_CTL_MMU + 1, \
				     struct pvmm_mmu_stats)
#define PVMM_MMU_GET_FRAME	_IOWR(PVMM_IOCTL_MAGIC, PVMM_CTL_MMU + 2, \
				      struct pvmm_mmu_frame)

#define PVMM_MMU_TYPE_NONE	0
#define PVMM_MMU_TYPE_WRITABLE	1
#define PVMM_MMU_TYPE_L1	2
#define PVMM_MMU_TYPE_L2	3
#define PVMM_MMU_TYPE_L3	4
#define PVMM_MMU_TYPE_L4	5

#endif /* _UAPI_LINUX_PVMM_MMU_H */
