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

struct pvmm_clock_record {
	/* struct pvclock_vcpu_time_info */
	__u32 version;		/* odd while the host writes */
	__u32 pad0;
	__u64 tsc_timestamp;
	__u64 system_time;	/* ns of the guest clock at tsc_timestamp */
	__u32 tsc_to_system_mul;
	__s8 tsc_shift;
	__u8 flags;
	__u8 pad[2];
	/* extension, under the same version */
	__u64 boot_offset_ns;	/* host CLOCK_BOOTTIME - CLOCK_MONOTONIC */
	__u64 disruptions;	/* pauses and migrations the VMM reported */
	__u64 reserved[2];
};

/* PVMM_SERVICE_CTL ops for PVMM_SVC_CLOCK */
#define PVMM_CLOCK_CTL_DISRUPT		0	/* in[0]: PVMM_CLOCK_DISRUPT_* */
#define PVMM_CLOCK_CTL_SET_OFFSETS	1	/* in[0]: ns, in[1]: TSC (s64) */
#define PVMM_CLOCK_CTL_GET		2	/* out: info, disruptions, offsets */

#define PVMM_CLOCK_DISRUPT_STOPPED	(1U << 0)	/* the guest was paused */

#endif /* _UAPI_LINUX_PVMM_CLOCK_H */
