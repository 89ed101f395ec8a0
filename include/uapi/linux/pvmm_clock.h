/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pvmm clock service (PVMM_SVC_CLOCK): a per-vCPU clock record in guest
 * memory. Its first 32 bytes are the kvmclock layout (struct
 * pvclock_vcpu_time_info), so existing pvclock readers work unchanged.
 * See Documentation/pvmm/clock.rst.
 */
#ifndef _UAPI_LINUX_PVMM_CLOCK_H
#define _UAPI_LINUX_PVMM_CLOCK_H

#include <linux/types.h>
#include <linux/pvmm.h>

/*
 * Guest calls. ENABLE(gpa): gpa is 64-byte aligned (so the record never
 * crosses a page) and inside a memslot; a second ENABLE moves the record.
 * DISABLE(): stop updating it. INFO(): PVMM_CLOCK_INFO_* bits.
 */
#define PVMM_CLOCK_ENABLE	PVMM_CALL_NR(PVMM_SVC_CLOCK, 0)
#define PVMM_CLOCK_DISABLE	PVMM_CALL_NR(PVMM_SVC_CLOCK, 1)
#define PVMM_CLOCK_INFO		PVMM_CALL_NR(PVMM_SVC_CLOCK, 2)

#define PVMM_CLOCK_INFO_TSC_STABLE	(1U << 0)	/* host TSC clocksource */
#define PVMM_CLOCK_INFO_EXT		(1U << 1)	/* extension words valid */

/* flags, as PVCLOCK_TSC_STABLE_BIT and PVCLOCK_GUEST_STOPPED */
#define PVMM_CLOCK_TSC_STABLE		(1U << 0)
#define PVMM_CLOCK_GUEST_STOPPED	(1U << 1)

#define PVMM_CLOCK_RECORD_SIZE		64

/**
 * struct pvmm_clock_record - one vCPU's clock record in guest memory
 * @version: odd while the host writes; readers retry while it is odd or
 *           changed across the read
 * @pad0: 0
 * @tsc_timestamp: guest TSC at @system_time
 * @system_time: ns of the guest clock at @tsc_timestamp
 * @tsc_to_system_mul: TSC ticks to ns, a 32.32 fixed-point multiplier
 * @tsc_shift: applied to the TSC delta before @tsc_to_system_mul
 * @flags: PVMM_CLOCK_TSC_STABLE, PVMM_CLOCK_GUEST_STOPPED
 * @pad: 0
 * @boot_offset_ns: host CLOCK_BOOTTIME - CLOCK_MONOTONIC
 * @disruptions: pauses and migrations the VMM reported
 * @reserved: 0
 *
 * The first 32 bytes are struct pvclock_vcpu_time_info; the extension
 * words follow under the same @version. Written by the host only.
 */
struct pvmm_clock_record {
	__u32 version;
	__u32 pad0;
	__u64 tsc_timestamp;
	__u64 system_time;
	__u32 tsc_to_system_mul;
	__s8 tsc_shift;
	__u8 flags;
	__u8 pad[2];
	__u64 boot_offset_ns;
	__u64 disruptions;
	__u64 reserved[2];
};

#define PVMM_CLOCK_DISRUPT_STOPPED	(1U << 0)	/* the guest was paused */

/**
 * struct pvmm_clock_disrupt - PVMM_CLOCK_DISRUPT: the VMM paused or
 * migrated the guest
 * @flags: PVMM_CLOCK_DISRUPT_*; with STOPPED, every record gets
 *         PVMM_CLOCK_GUEST_STOPPED until the guest has seen it
 * @reserved: must be 0
 *
 * Every record's disruption count grows by one. Errnos: EINVAL for
 * unknown flags.
 */
struct pvmm_clock_disrupt {
	__u32 flags;
	__u32 reserved;
};

/**
 * struct pvmm_clock_offsets - PVMM_CLOCK_SET_OFFSETS: the guest clock's
 * offsets, as a VMM restoring a migrated guest sets them
 * @ns: added to the host's CLOCK_MONOTONIC for the guest's clock
 * @tsc: the guest's TSC minus the host's
 * @reserved: must be 0
 *
 * Errnos: EINVAL for offsets that would take the guest clock below 0.
 */
struct pvmm_clock_offsets {
	__s64 ns;
	__s64 tsc;
	__u64 reserved[2];
};

/**
 * struct pvmm_clock_info - PVMM_CLOCK_GET_INFO
 * @info: PVMM_CLOCK_INFO_*, as the guest's INFO call
 * @reserved0: 0
 * @disruptions: pauses and migrations reported so far
 * @ns: the offsets as set
 * @tsc: the offsets as set
 * @reserved: 0
 */
struct pvmm_clock_info {
	__u32 info;
	__u32 reserved0;
	__u64 disruptions;
	__s64 ns;
	__s64 tsc;
	__u64 reserved[2];
};

#define PVMM_CLOCK_DISRUPT	_IOW(PVMM_IOCTL_MAGIC, PVMM_CTL_CLOCK + 0, \
				     struct pvmm_clock_disrupt)
#define PVMM_CLOCK_SET_OFFSETS	_IOW(PVMM_IOCTL_MAGIC, PVMM_CTL_CLOCK + 1, \
				     struct pvmm_clock_offsets)
#define PVMM_CLOCK_GET_INFO	_IOR(PVMM_IOCTL_MAGIC, PVMM_CTL_CLOCK + 2, \
				     struct pvmm_clock_info)

#endif /* _UAPI_LINUX_PVMM_CLOCK_H */
