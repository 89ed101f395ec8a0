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
 *                           (the vDSO plays no part in it)
 *   guest_bench overcommit  ops_per_s=N of a threaded workload
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/io.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <x86intrin.h>
#include <sys/mman.h>
#include <linux/types.h>

#include <linux/pvmm.h>

#include "guest_lib.h"

static inline __u64 bench_rdtsc(void)
{
	_mm_lfence();		/* as the vDSO's rdtsc_ordered() */
	return __rdtsc();
}

/* x86 keeps loads in order: only the compiler must not reorder them */
static inline void bench_rmb(void)
{
	__asm__ __volatile__("" ::: "memory");
}

#define PVMM_CLOCK_RDTSC()	bench_rdtsc()
#define PVMM_CLOCK_RMB()	bench_rmb()
#include <pvmm/clock_reader.h>

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
		__s64 pv, kvm;

		if (ioperm(TEST_PORT, 12, 1)) {
			perror("ioperm");
			return 1;
		}
		pv = drift_under_slew(500, 10);
		if (write_str(CS_FILE, "kvm-clock"))
			return 1;
		kvm = drift_under_slew(500, 10);
		write_str(CS_FILE, "pvmm-clock");
		printf("guest: drift_pvmm_ns=%lld drift_kvm_ns=%lld\n",
		       (long long)pv, (long long)kvm);
		return pv < 0 || kvm < 0;
	}
	if (argc == 2 && !strcmp(argv[1], "overcommit")) {
		printf("guest: ops_per_s=%.1f\n", overcommit());
		return 0;
	}
	fprintf(stderr, "usage: guest_bench clock|calls|drift|overcommit\n");
	return 2;
}
