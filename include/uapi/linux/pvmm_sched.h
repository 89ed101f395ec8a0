/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pvmm scheduling service (PVMM_SVC_SCHED): a per-vCPU steal-time record
 * in guest memory, in the layout of struct kvm_steal_time, so that a
 * guest's existing steal-time reader works. See
 * Documentation/pvmm/sched.rst.
 */
#ifndef _UAPI_LINUX_PVMM_SCHED_H
#define _UAPI_LINUX_PVMM_SCHED_H

#include <linux/types.h>
#include <linux/pvmm.h>

/*
 * STEAL_ENABLE(gpa): the record, 64-byte aligned, inside a memslot; a
 * second ENABLE moves it, a failed one leaves it disabled. STEAL_DISABLE().
 * YIELD_TO(vcpu id): give this CPU to that vCPU's thread if the host saw
 * it preempted (a lock holder, say): 1 if it yielded, 0 if the target
 * was not preempted, -EINVAL for a bad id or this vCPU, -ESRCH when
 * nothing is bound there, -EBUSY past the host's rate cap.
 * BOOST(us): favour this vCPU's thread (a critical section) for at most
 * @us microseconds, capped by the host; returns the microseconds granted,
 * -EINVAL for 0, -EALREADY while boosted, -EBUSY when the VM's boost
 * budget for this second is spent. UNBOOST(): end it early.
 */
#define PVMM_SCHED_STEAL_ENABLE		PVMM_CALL_NR(PVMM_SVC_SCHED, 0)
#define PVMM_SCHED_STEAL_DISABLE	PVMM_CALL_NR(PVMM_SVC_SCHED, 1)
#define PVMM_SCHED_YIELD_TO		PVMM_CALL_NR(PVMM_SVC_SCHED, 2)
#define PVMM_SCHED_BOOST		PVMM_CALL_NR(PVMM_SVC_SCHED, 3)
#define PVMM_SCHED_UNBOOST		PVMM_CALL_NR(PVMM_SVC_SCHED, 4)

/**
 * struct pvmm_sched_weight - PVMM_SCHED_SET_WEIGHT: the VM's weight
 * @weight: 1 to PVMM_SCHED_WEIGHT_MAX (default PVMM_SCHED_WEIGHT_DEFAULT):
 *          the VM's share of the vCPU thread moves in each placement
 *          round is in proportion
 * @reserved: must be 0
 *
 * Errnos: EINVAL for a weight out of range.
 */
struct pvmm_sched_weight {
	__u32 weight;
	__u32 reserved;
};

/**
 * struct pvmm_sched_info - PVMM_SCHED_GET_INFO: the VM's placement state
 * @weight: as set with PVMM_SCHED_SET_WEIGHT
 * @reserved0: 0
 * @migrations: the VM's vCPU threads the placement policy moved so far
 * @reserved: 0
 */
struct pvmm_sched_info {
	__u32 weight;
	__u32 reserved0;
	__u64 migrations;
	__u64 reserved[2];
};

#define PVMM_SCHED_SET_WEIGHT	_IOW(PVMM_IOCTL_MAGIC, PVMM_CTL_SCHED + 0, \
				     struct pvmm_sched_weight)
#define PVMM_SCHED_GET_INFO	_IOR(PVMM_IOCTL_MAGIC, PVMM_CTL_SCHED + 1, \
				     struct pvmm_sched_info)

#define PVMM_SCHED_WEIGHT_DEFAULT	100
#define PVMM_SCHED_WEIGHT_MAX		10000

#define PVMM_SCHED_RECORD_SIZE		64

/* preempted, as KVM_VCPU_PREEMPTED */
#define PVMM_VCPU_PREEMPTED		(1U << 0)

/* steal_rate of 100 % */
#define PVMM_STEAL_RATE_ONE		65536

/**
 * struct pvmm_steal_record - one vCPU's steal record in guest memory
 * @steal: ns the vCPU's thread was runnable but not running, since enable
 * @version: odd while the host writes; readers retry while it is odd or
 *           changed across the read
 * @flags: 0
 * @preempted: PVMM_VCPU_PREEMPTED while the thread is involuntarily
 *             descheduled; the guest may clear it
 * @u8_pad: 0
 * @steal_rate: recent steal / wall time, PVMM_STEAL_RATE_ONE = 100 %
 * @pad: 0
 *
 * The layout of struct kvm_steal_time; @steal_rate sits in its padding,
 * under the same @version. Written by the host, but for @preempted.
 */
struct pvmm_steal_record {
	__u64 steal;
	__u32 version;
	__u32 flags;
	__u8 preempted;
	__u8 u8_pad[3];
	__u32 steal_rate;
	__u32 pad[10];
};

#endif /* _UAPI_LINUX_PVMM_SCHED_H */
