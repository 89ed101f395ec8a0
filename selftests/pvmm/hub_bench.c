// SPDX-License-Identifier: GPL-2.0
/*
 * Hub benchmark: a forwarded null guest call against the hub's own
 * version query, both from the same thread in the same boot. Rounds
 * alternate between the two so that drift on a noisy host hits both; the
 * figure is the median of the per-round ratios.
 */
#include <stdlib.h>

#include "pvmm_vmm.h"

#define ROUNDS	9
#define ITERS	20000

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	struct pvmm_call call = { .nr = PVMM_CALL_NOP };
	double ratio[ROUNDS], base_ns = 0, call_ns = 0;
	struct pvmm_version v;
	int vm, vcpu, r, i;

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
	for (r = 0; r < ROUNDS; r++) {
		double t0, t1, t2;

		t0 = vmm_now();
		for (i = 0; i < ITERS; i++)
			if (ioctl(vm, PVMM_GET_VERSION, &v))
				return 1;
		t1 = vmm_now();
		for (i = 0; i < ITERS; i++)
			if (ioctl(vcpu, PVMM_VCPU_CALL, &call))
				return 1;
		t2 = vmm_now();
		ratio[r] = (t2 - t1) / (t1 - t0);
		base_ns += (t1 - t0) * 1e9 / ITERS / ROUNDS;
		call_ns += (t2 - t1) * 1e9 / ITERS / ROUNDS;
	}
	qsort(ratio, ROUNDS, sizeof(ratio[0]), cmp_double);
	printf("# hub_null_call: version query %.0f ns, null call %.0f ns (TCG, absolute times mean little)\n",
	       base_ns, call_ns);
	printf("bench: hub_null_call ratio=%.3f target=1.2\n",
	       ratio[ROUNDS / 2]);
	return 0;
}
