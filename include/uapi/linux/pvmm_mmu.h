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

/*
 * One batch entry. The low 3 bits of @ptr are the command.
 *
 * PT_UPDATE:    @ptr = guest-physical address of an 8-byte entry inside a
 *               page-table frame; @val = its new value.
 * PT_UPDATE_AD: the same, but the Accessed and Dirty bits of the current
 *               entry are kept when it maps the same frame.
 * EXT:          @ptr = (page-aligned guest-physical operand) | op << 3 |
 *               PVMM_MMU_EXT, @val = the op's value.
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

/*
 * PVMM_SERVICE_CTL ops (service PVMM_SVC_MMU).
 *
 * CONFIGURE: in[0] = guest-physical limit of the frame table (a multiple
 *            of 4 KiB, covering every memslot the guest maps), in[1] =
 *            PVMM_MMU_F_*. Once per VM.
 * STATS:     out[0] = page-table frames, out[1] = frames mapped writable,
 *            out[2] = pinned roots, out[3] = entries applied, out[4] =
 *            entries rejected, out[5] = continuations.
 * FRAME:     in[0] = guest frame number; out[0] = PVMM_MMU_TYPE_*,
 *            out[1] = type count, out[2] = references, out[3] = pinned.
 */
#define PVMM_MMU_CTL_CONFIGURE	0
#define PVMM_MMU_CTL_STATS	1
#define PVMM_MMU_CTL_FRAME	2

#define PVMM_MMU_TYPE_NONE	0
#define PVMM_MMU_TYPE_WRITABLE	1
#define PVMM_MMU_TYPE_L1	2
#define PVMM_MMU_TYPE_L2	3
#define PVMM_MMU_TYPE_L3	4
#define PVMM_MMU_TYPE_L4	5

#endif /* _UAPI_LINUX_PVMM_MMU_H */
