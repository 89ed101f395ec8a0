// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmarks inside the real guest, as absolute times of this guest boot;
 * the test VM's bench run turns them into ratios of the same boot (a
 * pvmm call against KVM's own hypercall) or of two guest boots one after
 * the other (clock_gettime with pvmm-clock's vDSO against kvm-clock's:
 * only one clock can own the vDSO's pvclock page).
 *
 *   guest_bench clock     clock_read_ns=N (the current clocksource)
 *   guest_bench calls     call_ns=N hypercall_ns=N
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/io.h>
#include <linux/types.h>

#include <linux/pvmm.h>

#define DOORBELL_PORT	0x5650

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The mean of the best of five rounds: interrupts and exits inflate some. */
static double best_of(double (*round)(int), int n)
{
	double best = 0;

	for (int i = 0; i < 5; i++) {
		double r = round(n);

		if (!i || r < best)
			best = r;
	}
	return best;
}

static double clock_round(int n)
{
	struct timespec ts;
	double t = now_ns();

	for (int i = 0; i < n; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (now_ns() - t) / n;
}

static double call_round(int n)
{
	double t = now_ns();

	for (int i = 0; i < n; i++) {
		__u64 ret = PVMM_CALL_NOP;

		asm volatile("outl %%eax, %%dx" : "+a" (ret)
			     : "d" (DOORBELL_PORT) : "memory");
	}
	return (now_ns() - t) / n;
}

/*
 * KVM answers a hypercall from user space itself (-KVM_EPERM) without
 * exiting to the VMM: the round trip a pvmm call is measured against.
 */
static double hypercall_round(int n)
{
	double t = now_ns();

	for (int i = 0; i < n; i++) {
		__u64 ret = 0x7fffffff;

		asm volatile("vmmcall" : "+a" (ret) : : "memory");
	}
	return (now_ns() - t) / n;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "clock")) {
		printf("guest: clock_read_ns=%.1f\n", best_of(clock_round, 200000));
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "calls")) {
		if (ioperm(DOORBELL_PORT, 4, 1)) {
			perror("ioperm");
			return 1;
		}
		printf("guest: call_ns=%.1f hypercall_ns=%.1f\n",
		       best_of(call_round, 2000), best_of(hypercall_round, 2000));
		return 0;
	}
	fprintf(stderr, "usage: guest_bench clock|calls\n");
	return 2;
}
