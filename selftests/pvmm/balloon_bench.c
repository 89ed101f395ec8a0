// SPDX-License-Identifier: GPL-2.0
/*
 * Balloon benchmarks, in one boot, on 64 MiB of touched memfd memory:
 *  balloon_inflate      throughput of one call with 32 ranges of 2 MiB /
 *                       one call per 4 KiB page (virtio-balloon's per-PFN
 *                       style), guest memory in 4 KiB pages
 *  balloon_inflate_thp  the same with guest memory on transparent huge
 *                       pages, as production hosts often back guests
 *  balloon_vs_vmm       throughput of the batched call / the VMM punching
 *                       the same 2 MiB ranges itself with
 *                       fallocate(PUNCH_HOLE), 4 KiB pages
 * Each round touches the memory again, so every side releases populated
 * pages; rounds alternate, the figure is the median of the round ratios.
 */
#include <fcntl.h>
#include <linux/falloc.h>

#include "balloon_lib.h"

#define MEM	(66 * MIB)	/* 2 MiB of config/list, 64 MiB to release */
#define RANGES	32
#define ROUNDS	11

static struct bal_vm b;

static void touch(void)
{
	memset(b.mem + BAL_DATA, 3, RANGES * 2 * MIB);
}

static double deflate_all(void)
{
	bal_one(&b, PVMM_BALLOON_DEFLATE, BAL_DATA, 4 * MIB);	/* warm */
	for (int i = 0; i < RANGES; i += 2)
		bal_one(&b, PVMM_BALLOON_DEFLATE, BAL_DATA + i * 2 * MIB,
			4 * MIB);
	return 0;
}

static double batched(void)
{
	struct pvmm_balloon_range r[RANGES];
	double t;

	for (int i = 0; i < RANGES; i++)
		r[i] = (struct pvmm_balloon_range){
			BAL_GPA + BAL_DATA + i * 2 * MIB, 2 * MIB };
	touch();
	t = vmm_now();
	if (bal_batch(&b, PVMM_BALLOON_INFLATE, r, RANGES) != RANGES * 512)
		exit(1);
	t = vmm_now() - t;
	deflate_all();
	return t;
}

static double per_page(void)
{
	double t;

	touch();
	t = vmm_now();
	for (__u64 off = 0; off < RANGES * 2 * MIB; off += 4096)
		if (bal_one(&b, PVMM_BALLOON_INFLATE, BAL_DATA + off, 4096) != 1)
			exit(1);
	t = vmm_now() - t;
	deflate_all();
	return t;
}

static double vmm_punch(void)
{
	double t;

	touch();
	t = vmm_now();
	for (int i = 0; i < RANGES; i++)
		if (fallocate(b.memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      BAL_DATA + i * 2 * MIB, 2 * MIB))
			exit(1);
	return vmm_now() - t;
}

static int cmp_double(const void *x, const void *y)
{
	double p = *(const double *)x, q = *(const double *)y;

	return p < q ? -1 : p > q;
}

#define THP_KNOB "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

/* "always [never]" -> "never" */
static int thp_get(char *mode, size_t len)
{
	char buf[128] = "", *l, *r;
	int fd = open(THP_KNOB, O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return -1;
	close(fd);
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r)
		return -1;
	snprintf(mode, len, "%.*s", (int)(r - l - 1), l + 1);
	return 0;
}

static int thp_set(const char *mode)
{
	int fd = open(THP_KNOB, O_WRONLY), r;

	if (fd < 0)
		return -1;
	r = write(fd, mode, strlen(mode)) == (ssize_t)strlen(mode) ? 0 : -1;
	close(fd);
	return r;
}

static void run(bool thp, double *inflate_med, double *vs_vmm_med)
{
	double inflate[ROUNDS], vs_vmm[ROUNDS];

	if (bal_vm_open_thp(&b, MEM, thp)) {
		perror("balloon vm");
		exit(1);
	}
	batched();		/* warm-up */
	for (int r = 0; r < ROUNDS; r++) {
		double bt, pp, vp;

		if (r & 1) {
			pp = per_page();
			vp = vmm_punch();
			bt = batched();
		} else {
			bt = batched();
			vp = vmm_punch();
			pp = per_page();
		}
		inflate[r] = pp / bt;
		vs_vmm[r] = vp / bt;
	}
	qsort(inflate, ROUNDS, sizeof(double), cmp_double);
	qsort(vs_vmm, ROUNDS, sizeof(double), cmp_double);
	printf("# balloon, %s pages, 64 MiB a round: round ratios ",
	       thp ? "THP" : "4 KiB");
	printf("inflate %.1f-%.1f, vs_vmm %.2f-%.2f\n", inflate[0],
	       inflate[ROUNDS - 1], vs_vmm[0], vs_vmm[ROUNDS - 1]);
	*inflate_med = inflate[ROUNDS / 2];
	*vs_vmm_med = vs_vmm[ROUNDS / 2];
	bal_vm_close(&b);
}

int main(void)
{
	double inflate, vs_vmm, inflate_thp, vs_vmm_thp;
	char mode[32];

	if (thp_get(mode, sizeof(mode)) || thp_set("never"))
		return 1;
	run(false, &inflate, &vs_vmm);
	if (thp_set("advise"))
		return 1;
	run(true, &inflate_thp, &vs_vmm_thp);
	thp_set(mode);
	/* 4 KiB pages: the kernel's own page freeing sets the floor */
	printf("bench: balloon_inflate ratio=%.1f target=5\n", inflate);
	printf("bench: balloon_inflate_thp ratio=%.1f target=10\n",
	       inflate_thp);
	printf("bench: balloon_vs_vmm ratio=%.2f target=1.0\n", vs_vmm);
	printf("# balloon_vs_vmm with THP pages: %.2f\n", vs_vmm_thp);
	return 0;
}
