// SPDX-License-Identifier: GPL-2.0
/*
 * pvsched_overcommit: vCPU work done with the placement policy on / off,
 * four vCPU threads on the two CPUs their VMM allows, beside a hog (see
 * oc_run()); on and off runs alternate in one boot, the figure is the
 * median of the per-pair ratios.
 *
 * pvsched_lock_p99: p99 lock-acquisition latency of PV waiters (preempted
 * flag, directed yield, halt until kicked: sched_lib.h) / of plain
 * spinning, six vCPU threads of one VM on two CPUs taking turns on one
 * lock (100 us inside, 300 us between), so holders are often preempted by
 * their own waiters; in one boot, plain and PV runs alternate, the figure
 * is the median of the per-pair ratios.
 */
#include <stdlib.h>

#include "sched_lib.h"

#define PAIRS	7
#define OC_PAIRS	5

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void bench_overcommit(void)
{
	struct oc on = { .secs = 5 }, off = on;
	double ratio[OC_PAIRS];

	if (!oc_possible()) {
		printf("# pvsched_overcommit: needs 4 CPUs, CPU 3 isolated\n");
		return;
	}
	for (int i = 0; i < OC_PAIRS; i++) {
		if (sched_param_set("place", 1) || oc_run(&on) ||
		    sched_param_set("place", 0) || oc_run(&off)) {
			perror("overcommit scenario");
			sched_param_set("place", 0);
			return;
		}
		ratio[i] = (double)on.work / off.work;
		printf("# pvsched_overcommit: work units, policy on %ld (%lld moves), off %ld\n",
		       on.work, on.moves, off.work);
	}
	qsort(ratio, OC_PAIRS, sizeof(ratio[0]), cmp_double);
	printf("bench: pvsched_overcommit ratio=%.3f target=1.2\n",
	       ratio[OC_PAIRS / 2]);
}

int main(int argc, char **argv)
{
	struct lhp plain = { .nthreads = 6, .cpu0 = 0, .cs_ns = 100000,
			     .gap_ns = 300000, .pv = false, .secs = 2 };
	struct lhp pv = plain;
	double ratio[PAIRS];

	pv.pv = true;

	/* "sched_bench overcommit": that figure alone */
	if (argc > 1 && !strcmp(argv[1], "overcommit")) {
		bench_overcommit();
		return 0;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("# pvsched_lock_p99: needs two CPUs\n");
		return 0;
	}
	for (int i = 0; i < PAIRS; i++) {
		if (lhp_run(&plain) || lhp_run(&pv)) {
			perror("lock scenario");
			return 1;
		}
		/* bucket i holds [i, i + 1) us: compare the middles */
		ratio[i] = (lhp_pct(&pv, 99) + 0.5) /
			   (lhp_pct(&plain, 99) + 0.5);
		printf("# pvsched_lock_p99: plain p50 %ld p99 %ld us (%ld locks), ",
		       lhp_pct(&plain, 50), lhp_pct(&plain, 99), plain.acquired);
		printf("pv p50 %ld p99 %ld us (%ld locks, %ld yields, %ld halts); ",
		       lhp_pct(&pv, 50), lhp_pct(&pv, 99), pv.acquired,
		       pv.yields, pv.halts);
		printf("p99.9 plain %ld pv %ld us\n", lhp_pct(&plain, 99.9),
		       lhp_pct(&pv, 99.9));
		free(plain.hist);
		free(pv.hist);
	}
	qsort(ratio, PAIRS, sizeof(ratio[0]), cmp_double);
	printf("bench: pvsched_lock_p99 ratio=%.3f target=0.5\n",
	       ratio[PAIRS / 2]);
	bench_overcommit();
	return 0;
}
