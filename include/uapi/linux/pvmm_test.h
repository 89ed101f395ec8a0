/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Function numbers of the pvmm_test service (PVMM_SVC_TEST), shared by
 * the module and the selftests. Not a stable ABI.
 */
#ifndef _UAPI_LINUX_PVMM_TEST_H
#define _UAPI_LINUX_PVMM_TEST_H

#include <linux/types.h>
#include <linux/pvmm.h>

#define PVMM_TEST_ECHO			0	/* ret = sum of args[i] * (i + 1) */
#define PVMM_TEST_COUNTERS_MAP		1	/* gpa: 2 x u64 sched in/out */
#define PVMM_TEST_COUNTERS_REFRESH	2
#define PVMM_TEST_COUNTERS_UNMAP	3
#define PVMM_TEST_READ			4	/* gpa, len <= 8 */
#define PVMM_TEST_WRITE			5	/* gpa, value, len <= 8 */
#define PVMM_TEST_PIN			6	/* gpa, npages */
#define PVMM_TEST_UNPIN			7
#define PVMM_TEST_SLEEP			8	/* milliseconds */
/*
 * gpa of struct pvmm_mmu_update[], count: each entry's value stored at
 * its ptr with compare-and-exchange, no validation; the PV MMU
 * benchmark's baseline. ret = entries done.
 */
#define PVMM_TEST_PTE_BATCH		9

/**
 * struct pvmm_test_echo - PVMM_TEST_CTL_ECHO: the hub's control path
 * @in: anything
 * @out: out[i] = in[i] + i + 1
 */
struct pvmm_test_echo {
	__u64 in[6];
	__u64 out[6];
};

#define PVMM_TEST_CTL_ECHO	_IOWR(PVMM_IOCTL_MAGIC, PVMM_CTL_TEST + 0, \
				      struct pvmm_test_echo)

#endif /* _UAPI_LINUX_PVMM_TEST_H */
