/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Function numbers of the pvmm_test service (PVMM_SVC_TEST), shared by
 * the module and the selftests. Not a stable ABI.
 */
#ifndef _PVMM_TEST_H
#define _PVMM_TEST_H

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

/* PVMM_SERVICE_CTL ops */
#define PVMM_TEST_CTL_ECHO		0	/* out[i] = in[i] + i + 1 */

#endif /* _PVMM_TEST_H */
