// SPDX-License-Identifier: GPL-2.0
/*
 * PV MMU benchmarks, as ratios within one boot. The work is mapping 512
 * pages writable in one L1 and unmapping them again.
 *
 * pvmm_batch512: cost per entry in batches of 512 / in batches of 1.
 * pvmm_validate: the validated batch / the same entries stored by the
 * test service with the same copies and compare-and-exchange but no
 * validation or frame table.
 *
 * Rounds alternate the order of the two sides; the figure is the median
 * of the per-round ratios.
 */
#include <stdlib.h>

#include <linux/pvmm_test.h>
#include "mmu_lib.h"

#define ROUNDS	31
#define N	512

static struct mmu_vm v;
static __u64 t[4];

static void fill(__u64 gpa, int map)
{
	struct pvmm_mmu_update *u = (void *)mmu_at(&v, gpa);

	for (int i = 0; i < N; i++) {
		u[i].ptr = t[3] + 8 * i;
		u[i].val = map ? (MMU_DATA + 4096ULL * i) | PTE_P | PTE_RW : 0;
	}
}

static void run(__u64 gpa, __u64 n)
{
	__s64 err;

	if (mmu_batch(&v, 0, gpa, n, &err) != (__s64)n) {
		fprintf(stderr, "batch failed: %lld\n", (long long)err);
		exit(1);
	}
}

/* seconds per entry: @reps times map then unmap all N, @batch at a time */
static double time_mmu(int batch, int reps)
{
	double t0 = vmm_now();

	for (int r = 0; r < reps; r++)
		for (int m = 0; m < 2; m++)
			for (int i = 0; i < N; i += batch)
				run((m ? MMU_BIG : MMU_BIG + 0x10000) + 16 * i,
				    batch);
	return (vmm_now() - t0) / (2.0 * N * reps);
}

static double time_raw(int reps)
{
	double t0 = vmm_now();
	__s64 ret;

	for (int r = 0; r < reps; r++)
		for (int m = 0; m < 2; m++)
			if (mmu_call(&v, 0, PVMM_CALL_NR(PVMM_SVC_TEST,
							 PVMM_TEST_PTE_BATCH),
				     m ? MMU_BIG : MMU_BIG + 0x10000, N, 0,
				     &ret) || ret != N) {
				fprintf(stderr, "raw batch failed\n");
				exit(1);
			}
	return (vmm_now() - t0) / (2.0 * N * reps);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	double b[ROUNDS], val[ROUNDS], one_ns = 0, b512_ns = 0, raw_ns = 0;
	int r;

	/* the test service stores the unvalidated baseline */
	if (mmu_vm_open_with(&v, 0, PVMM_SVC_TEST)) {
		perror("vm");
		return 1;
	}
	if (mmu_tree(&v, t)) {
		fprintf(stderr, "tree failed\n");
		return 1;
	}
	fill(MMU_BIG + 0x10000, 1);
	fill(MMU_BIG, 0);
	time_mmu(1, 1);			/* warm-up */
	time_mmu(N, 4);
	time_raw(4);
	for (r = 0; r < ROUNDS; r++) {
		double one, many, raw;

		if (r & 1) {
			many = time_mmu(N, 20);
			one = time_mmu(1, 1);
			raw = time_raw(20);
		} else {
			raw = time_raw(20);
			one = time_mmu(1, 1);
			many = time_mmu(N, 20);
		}
		b[r] = many / one;
		val[r] = many / raw;
		one_ns += one * 1e9 / ROUNDS;
		b512_ns += many * 1e9 / ROUNDS;
		raw_ns += raw * 1e9 / ROUNDS;
	}
	qsort(b, ROUNDS, sizeof(b[0]), cmp_double);
	qsort(val, ROUNDS, sizeof(val[0]), cmp_double);
	printf("# pvmm_mmu: per entry: batch of 1 %.0f ns, batch of 512 %.0f ns,",
	       one_ns, b512_ns);
	printf(" unvalidated batch of 512 %.0f ns\n", raw_ns);
	printf("# round ratios: batch512 %.3f-%.3f, validate %.3f-%.3f\n",
	       b[0], b[ROUNDS - 1], val[0], val[ROUNDS - 1]);
	printf("bench: pvmm_batch512 ratio=%.3f target=0.1\n", b[ROUNDS / 2]);
	printf("bench: pvmm_validate ratio=%.3f target=2.0\n", val[ROUNDS / 2]);
	return 0;
}
