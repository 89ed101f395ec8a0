// SPDX-License-Identifier: GPL-2.0
/*
 * Hub benchmark: a forwarded null guest call against the hub's own
 * version query, both from the same thread in the same boot. Many short
 * rounds, each timing both sides back to back in alternating order, so
 * that drift on a noisy host hits both; after a discarded warm-up round,
 * the figure is the median of the per-round ratios.
 */
#include <stdlib.h>

#include "libpvmm.h"

#define ROUNDS	31
#define ITERS	2000

static double time_version(int vm)
{
	struct pvmm_version v;
	double t = vmm_now();

	for (int i = 0; i < ITERS; i++)
		if (ioctl(vm, PVMM_GET_VERSION, &v))
			exit(1);
	return vmm_now() - t;
}

static double time_null_call(int vcpu)
{
	struct pvmm_call call = { .nr = PVMM_CALL_NOP };
	double t = vmm_now();

	for (int i = 0; i < ITERS; i++)
		if (ioctl(vcpu, PVMM_VCPU_CALL, &call))
			exit(1);
	return vmm_now() - t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	double ratio[ROUNDS], base_ns = 0, call_ns = 0;
	int vm, vcpu, r;

	vm = vmm_open();
	if (vm < 0) {
		perror("open " PVMM_DEV);
		return 1;
	}
	vcpu = ioctl(vm, PVMM_CREATE_VCPU, 0);
	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND)) {
		perror("vcpu");
		return 1;
	}
	time_version(vm);		/* warm-up */
	time_null_call(vcpu);
	for (r = 0; r < ROUNDS; r++) {
		double base, call;

		if (r & 1) {
			call = time_null_call(vcpu);
			base = time_version(vm);
		} else {
			base = time_version(vm);
			call = time_null_call(vcpu);
		}
		ratio[r] = call / base;
		base_ns += base * 1e9 / ITERS / ROUNDS;
		call_ns += call * 1e9 / ITERS / ROUNDS;
	}
	qsort(ratio, ROUNDS, sizeof(ratio[0]), cmp_double);
	printf("# hub_null_call: mean version query %.0f ns, null call %.0f ns;",
	       base_ns, call_ns);
	printf(" round ratios min %.3f max %.3f\n", ratio[0], ratio[ROUNDS - 1]);
	printf("bench: hub_null_call ratio=%.3f target=1.2\n",
	       ratio[ROUNDS / 2]);
	return 0;
}
