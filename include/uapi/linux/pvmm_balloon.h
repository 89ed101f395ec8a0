/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pvmm balloon service (PVMM_SVC_BALLOON): the host sets a target, the
 * guest gives pages back in batches of ranges, the host releases the
 * memory behind them. See Documentation/pvmm/balloon.rst.
 */
#ifndef _UAPI_LINUX_PVMM_BALLOON_H
#define _UAPI_LINUX_PVMM_BALLOON_H

#include <linux/types.h>
#include <linux/pvmm.h>

/*
 * Guest calls.
 * CONFIG(gpa): where the host publishes struct pvmm_balloon_config
 *   (64-byte aligned, in a memslot).
 * INFLATE(list, n), DEFLATE(list, n), REPORT(list, n): @list is the
 *   guest-physical address of @n struct pvmm_balloon_range (1 to
 *   PVMM_BALLOON_MAX_BATCH, the list inside one page); ranges of a batch
 *   must not overlap. INFLATE returns the pages newly ballooned (pages
 *   already in the balloon are not counted twice), DEFLATE the pages
 *   returned (every page must be in the balloon, or nothing happens),
 *   REPORT the bytes released (free page reporting: the pages stay the
 *   guest's, they read zero when next used).
 * STATS(list, n): @n (1 to PVMM_BALLOON_MAX_STATS) struct
 *   pvmm_balloon_stat, the guest's memory statistics.
 */
#define PVMM_BALLOON_CONFIG	PVMM_CALL_NR(PVMM_SVC_BALLOON, 0)
#define PVMM_BALLOON_INFLATE	PVMM_CALL_NR(PVMM_SVC_BALLOON, 1)
#define PVMM_BALLOON_DEFLATE	PVMM_CALL_NR(PVMM_SVC_BALLOON, 2)
#define PVMM_BALLOON_REPORT	PVMM_CALL_NR(PVMM_SVC_BALLOON, 3)
#define PVMM_BALLOON_STATS	PVMM_CALL_NR(PVMM_SVC_BALLOON, 4)

#define PVMM_BALLOON_MAX_BATCH	256		/* ranges per call */
#define PVMM_BALLOON_MAX_RANGE	(4U << 20)	/* bytes per range */
#define PVMM_BALLOON_MAX_STATS	16
#define PVMM_BALLOON_REPORT_ORDER 9		/* reports: >= 2 MiB, aligned */

/**
 * struct pvmm_balloon_range - one guest range of an INFLATE, DEFLATE or
 * REPORT batch
 * @gpa: guest-physical start, page aligned
 * @len: bytes, a page multiple, 1 to PVMM_BALLOON_MAX_RANGE
 *
 * A batch with a bad range answers -EINVAL and changes nothing.
 */
struct pvmm_balloon_range {
	__u64 gpa;
	__u64 len;
};

/**
 * struct pvmm_balloon_config - the balloon record in guest memory, at the
 * address of the guest's CONFIG call
 * @version: odd while the host writes; the guest reads as it reads a
 *           pvclock record (retry while odd or changed)
 * @report_order: REPORT ranges are at least 4 KiB << @report_order long
 *                and so aligned
 * @target_pages: the host wants this many 4 KiB pages in the balloon
 * @ballooned_pages: pages the host counts in the balloon
 * @notify_irq: the guest interrupt the VMM raises on a new target; 0:
 *              none, poll the record
 * @reserved32: 0
 * @reserved: 0
 *
 * Written by the host only. CONFIG answers -EINVAL for an address that is
 * not 64-byte aligned and -EFAULT for one outside the memslots.
 */
struct pvmm_balloon_config {
	__u32 version;
	__u32 report_order;
	__u64 target_pages;
	__u64 ballooned_pages;
	__u32 notify_irq;
	__u32 reserved32;
	__u64 reserved[4];
};

/* Tags as virtio-balloon's VIRTIO_BALLOON_S_* */
#define PVMM_BALLOON_S_SWAP_IN	0	/* pages swapped in */
#define PVMM_BALLOON_S_SWAP_OUT	1	/* pages swapped out */
#define PVMM_BALLOON_S_MAJFLT	2	/* major faults */
#define PVMM_BALLOON_S_MINFLT	3	/* minor faults */
#define PVMM_BALLOON_S_MEMFREE	4	/* free memory, bytes */
#define PVMM_BALLOON_S_MEMTOT	5	/* total memory, bytes */
#define PVMM_BALLOON_S_AVAIL	6	/* available memory, bytes */
#define PVMM_BALLOON_S_CACHES	7	/* disk caches, bytes */
#define PVMM_BALLOON_S_NR	8

/**
 * struct pvmm_balloon_stat - one guest memory statistic of a STATS call
 * @tag: PVMM_BALLOON_S_*; unknown tags are ignored
 * @pad: 0
 * @val: its value, in the tag's unit
 */
struct pvmm_balloon_stat {
	__u16 tag;
	__u16 pad[3];
	__u64 val;
};

/**
 * struct pvmm_balloon_target - PVMM_BALLOON_SET_TARGET
 * @pages: the 4 KiB pages the host wants in the balloon; the guest reads
 *         it in its config record and follows
 * @reserved: must be 0
 */
struct pvmm_balloon_target {
	__u64 pages;
	__u64 reserved;
};

/**
 * struct pvmm_balloon_info - PVMM_BALLOON_GET_INFO: the balloon's state
 * @target_pages: as set
 * @ballooned_pages: pages in the balloon
 * @released_bytes: host memory released by inflates so far
 * @reported_bytes: host memory released by free page reporting so far
 * @extents: ranges the balloon's pages form
 * @stats_updates: STATS calls the guest made
 * @stats: the guest's last statistics, by PVMM_BALLOON_S_* tag
 * @reserved: 0
 */
struct pvmm_balloon_info {
	__u64 target_pages;
	__u64 ballooned_pages;
	__u64 released_bytes;
	__u64 reported_bytes;
	__u64 extents;
	__u64 stats_updates;
	__u64 stats[PVMM_BALLOON_S_NR];
	__u64 reserved[2];
};

/**
 * struct pvmm_balloon_notify - PVMM_BALLOON_SET_NOTIFY: tell the guest at once
 * @eventfd: an eventfd the host signals whenever the target changes (from
 *           sysfs or PVMM_BALLOON_SET_TARGET), or -1 for none; a VMM binds
 *           it to a guest interrupt, e.g. with KVM_IRQFD
 * @irq: that interrupt's number in the guest, published in the config
 *       record's @notify_irq (1 to 255; 0 with @eventfd -1); without it the
 *       guest polls the record
 * @reserved: must be 0
 *
 * Errors: -EINVAL (reserved bits, @irq out of range, or @irq 0 with an
 * eventfd), -EBADF (@eventfd is no open file), and -EINVAL from the
 * eventfd layer when the file is no eventfd.
 */
struct pvmm_balloon_notify {
	__s32 eventfd;
	__u32 irq;
	__u64 reserved[3];
};

#define PVMM_BALLOON_SET_TARGET	_IOW(PVMM_IOCTL_MAGIC, PVMM_CTL_BALLOON + 0, \
				     struct pvmm_balloon_target)
#define PVMM_BALLOON_GET_INFO	_IOR(PVMM_IOCTL_MAGIC, PVMM_CTL_BALLOON + 1, \
				     struct pvmm_balloon_info)
#define PVMM_BALLOON_SET_NOTIFY	_IOW(PVMM_IOCTL_MAGIC, PVMM_CTL_BALLOON + 2, \
				     struct pvmm_balloon_notify)

#endif /* _UAPI_LINUX_PVMM_BALLOON_H */
