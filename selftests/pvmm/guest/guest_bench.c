// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmarks inside the real guest, as absolute times of this guest boot;
 * the test VM's bench run turns them into ratios of the same boot (a
 * pvmm call against KVM's own hypercall) or of two guest boots one after
 * the other (clock_gettime with pvmm-clock's vDSO against kvm-clock's:
 * only one clock can own the vDSO's pvclock page).
 *
 *   guest_bench clock       clock_read_ns=N (the current clocksource), and
 *                           record_*_ns=N: one reader over two records
 *   guest_bench calls       call_ns=N hypercall_ns=N
 *   guest_bench drift       drift_pvmm_ns=N drift_kvm_ns=N, over 10 s of a
 *                           +500 ppm host slew, switching the clocksource
 *                           (the vDSO plays no part in it), and how far
 *                           each may be off: bound_*_ns=N
 *   guest_bench overcommit  ops_per_s=N of a threaded workload
 *   guest_bench balloon     inflate_ns=N punch_ns=N: a 256 MiB balloon
 *                           from the VMM's target to the last page, and
 *                           the VMM punching 256 MiB at once;
 *                           report_bytes=N released by free page
 *                           reporting within 2 s of freeing 256 MiB
 *   guest_bench mmu         batch1_ns=N batch512_ns=N per PV MMU entry
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/io.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/types.h>

#include <linux/pvmm.h>
#include <linux/pvmm_mmu.h>

#include "guest_lib.h"

/* libpvmm's user-space clock reader, as the host's selftests use it */
#include "libpvmm.h"

#define CS_FILE "/sys/devices/system/clocksource/clocksource0/current_clocksource"

static double now_ns(void)
{
	return mono_ns(CLOCK_MONOTONIC);
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

static clockid_t clock_id = CLOCK_MONOTONIC;

static double clock_round(int n)
{
	struct timespec ts;
	double t = now_ns();

	for (int i = 0; i < n; i++)
		clock_gettime(clock_id, &ts);
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

/* The vDSO's pvclock page: the vvar area's second page, whichever clock owns it. */
static const struct pvmm_clock_record *vdso_pvclock(void)
{
	const struct pvmm_clock_record *rec = NULL;
	unsigned long lo, hi;
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[vvar]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			rec = (const struct pvmm_clock_record *)(lo + 4096);
	if (f)
		fclose(f);
	return rec;
}

static const struct pvmm_clock_record *round_rec;
static __u64 round_sink;

static double record_round(int n)
{
	double t = now_ns();
	__u8 flags;

	for (int i = 0; i < n; i++)
		__atomic_store_n(&round_sink, pvmm_clock_read(round_rec, &flags),
				 __ATOMIC_RELAXED);
	return (now_ns() - t) / n;
}

/*
 * One reader, the same code, over two records in this boot: CPU 0's
 * record of the clock owning the vDSO (through the vvar page), and
 * pvmm's own CPU 0 record (through /dev/pvmm_clock). Whether the record's
 * page or values cost more, apart from the boot-to-boot speed.
 */
static void record_reads(void)
{
	const struct pvmm_clock_record *vdso = vdso_pvclock();
	int fd = open("/dev/pvmm_clock", O_RDONLY);
	void *own;
	cpu_set_t cpu0;

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (!vdso || fd < 0 || sched_setaffinity(0, sizeof(cpu0), &cpu0))
		return;
	own = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (own == MAP_FAILED)
		return;
	round_rec = vdso;
	printf("guest: record_vdso_ns=%.1f", best_of(record_round, 200000));
	round_rec = own;
	printf(" record_pvmm_ns=%.1f", best_of(record_round, 200000));
	round_rec = vdso;
	printf(" record_vdso_again_ns=%.1f\n", best_of(record_round, 200000));
	munmap(own, 4096);
}

/*
 * The vDSO's pvclock record: how often the host rewrites the record, and the share of
 * reads that meet a rewrite (an odd version), which the vDSO retries.
 */
static void vdso_record(void)
{
	const struct pvmm_clock_record *rec = vdso_pvclock();
	const __u32 *version = rec ? &rec->version : NULL;
	unsigned long reads = 0, odd = 0, changes = 0;
	__u32 v, last;
	double end;

	if (!version)
		return;
	last = __atomic_load_n(version, __ATOMIC_ACQUIRE);
	for (end = now_ns() + 2e9; now_ns() < end; reads++) {
		v = __atomic_load_n(version, __ATOMIC_ACQUIRE);
		odd += v & 1;
		changes += v != last && !(v & 1);	/* an update done */
		last = v;
	}
	printf("guest: vdso_record_updates_per_s=%.0f odd_reads=%.5f%%\n",
	       changes / 2.0, 100.0 * odd / reads);
}

/*
 * The overcommit workload: each thread maps a few pages, touches them and
 * unmaps them, over and over: page faults, the mm's locks and TLB
 * shootdowns between the vCPUs, the guest kernel's paths that the
 * preempted state and steal time steer.
 */
static int overcommit_stop;
static long overcommit_ops[8];

static void *overcommit_worker(void *p)
{
	long *ops = p;

	while (!__atomic_load_n(&overcommit_stop, __ATOMIC_RELAXED)) {
		char *m = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			break;
		for (int i = 0; i < 16; i++)
			m[i * 4096] = i;
		munmap(m, 16 * 4096);
		__atomic_store_n(ops, *ops + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The median of three 5 s rounds of as many threads as vCPUs. */
static double overcommit(void)
{
	int n = sysconf(_SC_NPROCESSORS_ONLN);
	double r[3], t;
	pthread_t th[8];
	long sum;

	if (n > 8)
		n = 8;
	for (int round = 0; round < 3; round++) {
		memset(overcommit_ops, 0, sizeof(overcommit_ops));
		overcommit_stop = 0;
		for (int i = 0; i < n; i++)
			if (pthread_create(&th[i], NULL, overcommit_worker,
					   &overcommit_ops[i]))
				return -1;
		t = now_ns();
		sleep(5);
		__atomic_store_n(&overcommit_stop, 1, __ATOMIC_RELAXED);
		for (int i = 0; i < n; i++)
			pthread_join(th[i], NULL);
		t = now_ns() - t;
		sum = 0;
		for (int i = 0; i < n; i++)
			sum += overcommit_ops[i];
		r[round] = sum / (t / 1e9);
	}
	/* the median */
	for (int i = 0; i < 2; i++)
		for (int j = i + 1; j < 3; j++)
			if (r[j] < r[i]) {
				t = r[i];
				r[i] = r[j];
				r[j] = t;
			}
	return r[1];
}

/*
 * The balloon: from the VMM's new target (its own control, as a VMM sets
 * it) to the last page released, against the VMM punching as much at
 * once; then free page reporting.
 */
static int balloon_times(void)
{
	__s64 t, first = 0, inflate, punch, a0, a, r0, r, p0, p, b;
	__s64 t90 = 0;

	if (iopl(3) || balloon_to(0, 60000))
		return 1;
	reporting_settles();
	if (host(TEST_MEMFD_FILL, 0))
		return 1;
	mem_snapshot(&a0, &r0, &p0);
	t = mono_ns(CLOCK_MONOTONIC);
	if (host(TEST_BALLOON_SET, PAGES(256 * MIB)))
		return 1;
	while ((b = vm_file(VM_BALLOONED)) != PAGES(256 * MIB)) {
		if (b && !first)
			first = mono_ns(CLOCK_MONOTONIC) - t;
		if (mono_ns(CLOCK_MONOTONIC) - t > 60000000000LL)
			return 1;
	}
	inflate = mono_ns(CLOCK_MONOTONIC) - t;
	mem_snapshot(&a, &r, &p);
	punch = host(TEST_PUNCH_NS, 256);
	printf("guest: inflate_ns=%lld punch_ns=%lld\n", (long long)inflate,
	       (long long)punch);
	/* where the time goes, and what was released */
	printf("guest: first_pages_ns=%lld released_mib=%lld memfd_drop_mib=%lld\n",
	       (long long)first, (long long)((r - r0) / MIB),
	       (long long)((a0 - a) / MIB));
	if (balloon_to(0, 60000))
		return 1;
	/* 256 MiB used and freed: what the host has back 2 s later */
	reporting_settles();
	if (host(TEST_MEMFD_FILL, 0))
		return 1;
	a0 = host(TEST_MEMFD_BYTES, 0);
	if (child_touches(256 * MIB))
		return 1;
	t = mono_ns(CLOCK_MONOTONIC);
	do {
		usleep(50000);
		a = host(TEST_MEMFD_BYTES, 0);
		if (!t90 && a0 - a >= 256 * MIB * 9 / 10)
			t90 = mono_ns(CLOCK_MONOTONIC) - t;
	} while (mono_ns(CLOCK_MONOTONIC) - t < 2000000000LL);
	printf("guest: report_bytes=%lld\n", (long long)(a0 - a));
	/* and when 90 % was back, if in 10 s */
	while (!t90 && mono_ns(CLOCK_MONOTONIC) - t < 10000000000LL) {
		usleep(50000);
		if (a0 - host(TEST_MEMFD_BYTES, 0) >= 256 * MIB * 9 / 10)
			t90 = mono_ns(CLOCK_MONOTONIC) - t;
	}
	printf("guest: report_90_ns=%lld\n", (long long)t90);
	return 0;
}

/*
 * The PV MMU from guest user space, as the host's pvmm_batch512: map 512
 * pages writable in one L1 and unmap them, 512 entries a call or one. A
 * tree of locked pages, pinned; the entry arrays need 8 KiB of contiguous
 * guest-physical memory: two locked pages that happen to be adjacent.
 */
#define MMU_N		512
#define MMU_POOL	256
#define MMU_RWP		0x7ULL

static __u64 mmu_status;

static int mmu_call(__u64 gpa, __u64 n)
{
	return doorbell3(PVMM_MMU_CALL_BATCH, gpa, n, mmu_status) != (__s64)n;
}

static int mmu_batches(void)
{
	unsigned char *pool = locked_pages(MMU_POOL, 0);
	unsigned char *data = locked_pages(MMU_N, 1);
	struct pvmm_mmu_update *arr[2][2];
	__u64 pfn[MMU_POOL], t[4], arr_gpa[2];
	bool used[MMU_POOL] = {};
	double one = 0, many = 0;
	int found = 0, i, j, m, r;

	if (!pool || !data || iopl(3))
		return 1;
	for (i = 0; i < MMU_POOL; i++)
		pfn[i] = gpa_of(pool + i * 4096) >> 12;
	/* the tree and the status word: the first pages */
	for (i = 0; i < 4; i++)
		t[i] = pfn[i] << 12;
	mmu_status = (pfn[4] << 12) + 4096 - 8;
	for (i = 5; i < MMU_POOL && found < 2; i++)
		for (j = 5; j < MMU_POOL && !used[i]; j++)
			if (!used[j] && pfn[i] && pfn[j] == pfn[i] + 1) {
				arr[found][0] = (void *)(pool + i * 4096);
				arr[found][1] = (void *)(pool + j * 4096);
				arr_gpa[found++] = pfn[i] << 12;
				used[i] = true;
				used[j] = true;
			}
	if (found < 2) {
		fprintf(stderr, "no two adjacent pages for the arrays\n");
		return 1;
	}
	/* pin the L4, link L3, L2 and L1 */
	arr[0][0][0] = (struct pvmm_mmu_update){
		PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_PIN_L4, t[0]), 0 };
	for (i = 0; i < 3; i++)
		arr[0][0][i + 1] = (struct pvmm_mmu_update){
			t[i], t[i + 1] | MMU_RWP };
	if (mmu_call(arr_gpa[0], 4))
		return 1;
	/* array 0 maps the 512 pages, array 1 unmaps them */
	for (m = 0; m < 2; m++)
		for (i = 0; i < MMU_N; i++) {
			struct pvmm_mmu_update *u = &arr[m][i / 256][i % 256];

			u->ptr = t[3] + 8 * i;
			u->val = m ? 0 : gpa_of(data + 4096 * i) | MMU_RWP;
		}
	for (r = 0; r < 11; r++) {
		double t0 = mono_ns(CLOCK_MONOTONIC);

		for (m = 0; m < 2; m++)
			for (i = 0; i < MMU_N; i++)
				if (mmu_call(arr_gpa[m] + 16 * i, 1))
					return 1;
		one += (mono_ns(CLOCK_MONOTONIC) - t0) / (2.0 * MMU_N);
		t0 = mono_ns(CLOCK_MONOTONIC);
		for (int k = 0; k < 20; k++)
			for (m = 0; m < 2; m++)
				if (mmu_call(arr_gpa[m], MMU_N))
					return 1;
		many += (mono_ns(CLOCK_MONOTONIC) - t0) / (2.0 * MMU_N * 20);
	}
	/* the tree goes: the host's frame table is as it was */
	arr[0][0][0] = (struct pvmm_mmu_update){
		PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_UNPIN, t[0]), 0 };
	if (mmu_call(arr_gpa[0], 1))
		return 1;
	printf("guest: batch1_ns=%.1f batch512_ns=%.1f\n", one / 11, many / 11);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "clock")) {
		printf("guest: clock_read_ns=%.1f\n", best_of(clock_round, 200000));
		/* the vDSO without a clock read: how fast this boot runs */
		clock_id = CLOCK_MONOTONIC_COARSE;
		printf("guest: coarse_read_ns=%.1f\n", best_of(clock_round, 200000));
		vdso_record();
		record_reads();
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
	if (argc == 2 && !strcmp(argv[1], "drift")) {
		__s64 pv, kvm, pv_bound, kvm_bound;

		if (ioperm(TEST_PORT, 12, 1)) {
			perror("ioperm");
			return 1;
		}
		pv = drift_under_slew(500, 10, &pv_bound);
		if (write_str(CS_FILE, "kvm-clock"))
			return 1;
		kvm = drift_under_slew(500, 10, &kvm_bound);
		write_str(CS_FILE, "pvmm-clock");
		printf("guest: drift_pvmm_ns=%lld drift_kvm_ns=%lld ",
		       (long long)pv, (long long)kvm);
		printf("bound_pvmm_ns=%lld bound_kvm_ns=%lld\n",
		       (long long)pv_bound, (long long)kvm_bound);
		return pv < 0 || kvm < 0;
	}
	if (argc == 2 && !strcmp(argv[1], "overcommit")) {
		printf("guest: ops_per_s=%.1f\n", overcommit());
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "balloon"))
		return balloon_times();
	if (argc == 2 && !strcmp(argv[1], "mmu"))
		return mmu_batches();
	fprintf(stderr, "usage: guest_bench clock|calls|drift|overcommit|balloon|mmu\n");
	return 2;
}
