// SPDX-License-Identifier: GPL-2.0
/*
 * Clock benchmarks, in one boot:
 *  pvclock_read        a guest read of its record (the shared reader on
 *                      the mapped record) / vDSO clock_gettime(MONOTONIC),
 *                      median of 31 alternating rounds
 *  pvclock_err_p99_ns  p99 |record - CLOCK_MONOTONIC| in ns while the host
 *                      slews at +500 then -500 ppm (also the max)
 */
#include "clock_lib.h"

#define ROUNDS	31
#define ITERS	20000

static __u64 sink;	/* keeps the reads from being optimized out */

static double time_vdso(void)
{
	double t = vmm_now();
	__u64 acc = 0;

	for (int i = 0; i < ITERS; i++)
		acc += clock_now(CLOCK_MONOTONIC);
	sink += acc;
	return vmm_now() - t;
}

static double time_record(const struct pvmm_clock_record *rec)
{
	double t = vmm_now();
	__u64 acc = 0;
	__u8 flags;

	for (int i = 0; i < ITERS; i++)
		acc += pvmm_clock_read(rec, &flags);
	sink += acc;
	return vmm_now() - t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	const struct pvmm_clock_record *rec;
	double ratio[ROUNDS];
	struct clock_vm c;
	struct clock_err e;

	if (clock_vm_open(&c, 1 << 20, 0x100000) ||
	    vmm_call2(c.vcpu, PVMM_CLOCK_ENABLE, 0x100000, 0)) {
		perror("clock vm");
		return 1;
	}
	rec = (const struct pvmm_clock_record *)c.mem;
	time_vdso();
	time_record(rec);
	for (int r = 0; r < ROUNDS; r++) {
		double a, b;

		if (r & 1) {
			b = time_record(rec);
			a = time_vdso();
		} else {
			a = time_vdso();
			b = time_record(rec);
		}
		ratio[r] = b / a;
	}
	qsort(ratio, ROUNDS, sizeof(ratio[0]), cmp_double);
	printf("# pvclock_read: round ratios min %.3f max %.3f; host clocksource %s\n",
	       ratio[0], ratio[ROUNDS - 1], clock_host_tsc() ? "tsc" : "other");
	printf("bench: pvclock_read ratio=%.3f target=1.0\n", ratio[ROUNDS / 2]);

	clock_err_init(&e);
	if (clock_slew_ppm(500))
		return 1;
	clock_err_run(&e, rec, 5, false);
	clock_slew_ppm(-500);
	clock_err_run(&e, rec, 5, false);
	clock_slew_ppm(0);
	printf("# pvclock error while slewing +-500 ppm: %ld samples, ",
	       e.samples);
	printf("%ld dropped (bracket > %d ns), p50 %llu ns, ", e.dropped,
	       ERR_WINDOW_NS, clock_err_pct(&e, 50));
	printf("max outside bracket %llu ns\n", e.outside_ns);
	printf("bench: pvclock_err_p99_ns ratio=%llu target=1000\n",
	       clock_err_pct(&e, 99));
	printf("bench: pvclock_err_max_ns ratio=%llu target=1000\n",
	       e.max_ns);
	clock_vm_close(&c);
	return 0;
}
