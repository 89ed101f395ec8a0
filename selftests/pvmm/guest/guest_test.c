// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the pvmm guest halves, run inside a real guest: an L2 kernel
 * with every CONFIG_PVMM_*_GUEST option, booted by tools/pvmm_run with its
 * test device (-T), through which a test reads the host's side: its
 * CLOCK_MONOTONIC, the run delay of the vCPU threads, the host modules'
 * sysfs counters, and asks for pauses, host clock slews and busy threads.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <signal.h>
#include <ucontext.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/membarrier.h>
#include <linux/seccomp.h>
#include <linux/types.h>

#include <linux/pvmm.h>
#include <linux/pvmm_balloon.h>
#include <linux/pvmm_clock.h>
#include <linux/pvmm_sched.h>

#include "kselftest_harness.h"
#include "guest_lib.h"

FIXTURE(guest) {
};

FIXTURE_SETUP(guest)
{
}

FIXTURE_TEARDOWN(guest)
{
}

/* The first line of a file, without its newline: 0 or -errno. */
static int read_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int r = f && fgets(buf, len, f) ? 0 : -EIO;

	if (f)
		fclose(f);
	buf[r ? 0 : strcspn(buf, "\n")] = 0;
	return r;
}

#define CS_DIR "/sys/devices/system/clocksource/clocksource0/"

static int ncpus(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void __attribute__((constructor)) need_test_device(void)
{
	if (ioperm(TEST_PORT, 12, 1))
		ksft_exit_skip("ioperm: %s (root, x86 and pvmm_run -T needed)\n",
			       strerror(errno));
	if (host(TEST_HOST_MONO, 0) <= 0)
		ksft_exit_skip("no pvmm_run test device on port %#x\n",
			       TEST_PORT);
}

/* --- clock --- */

TEST(clocksource_is_pvmm_clock)
{
	char cur[64], avail[256];

	ASSERT_EQ(0, read_str(CS_DIR "current_clocksource", cur, sizeof(cur)));
	ASSERT_EQ(0, read_str(CS_DIR "available_clocksource", avail,
			      sizeof(avail)));
	TH_LOG("current %s, available %s", cur, avail);
	EXPECT_STREQ("pvmm-clock", cur);
	EXPECT_NE(NULL, strstr(avail, "kvm-clock"));
}

/*
 * clock_gettime stays in the vDSO. A child in seccomp's strict mode reads
 * the clock: a system call there (anything but read, write, exit and
 * sigreturn) kills it, and strict mode also turns off user-space rdtsc,
 * so the vDSO's own TSC read faults instead. The child's SIGSEGV handler
 * checks that the fault is inside the vDSO and exits 0.
 */
static unsigned long vdso_lo, vdso_hi;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	unsigned long ip = ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];

	syscall(SYS_exit, ip >= vdso_lo && ip < vdso_hi ? 0 : 3);
}

static int read_without_syscall(void)
{
	unsigned long eh = getauxval(AT_SYSINFO_EHDR);
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	struct timespec ts;
	int status;
	pid_t pid;

	if (!eh)
		return -2;
	vdso_lo = eh;
	vdso_hi = vdso_lo + 2 * 4096 * 4;	/* the image: a few pages */
	pid = fork();
	if (!pid) {
		sigaction(SIGSEGV, &sa, NULL);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0))
			syscall(SYS_exit, 2);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		syscall(SYS_exit, 4);	/* read without the TSC: cannot be */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(clock_gettime_stays_in_vdso)
{
	int r = read_without_syscall();

	/* 137: killed by SIGKILL, a system call */
	TH_LOG("the reader's status: %d", r);
	EXPECT_EQ(0, r);
}

struct mono_thread {
	int cpu;
	__s64 *last;		/* atomic */
	int *stop;		/* atomic */
	long back;
	long reads;
};

static void *mono_reader(void *p)
{
	struct mono_thread *t = p;

	pin(t->cpu);
	while (!__atomic_load_n(t->stop, __ATOMIC_RELAXED)) {
		__s64 prev = __atomic_load_n(t->last, __ATOMIC_ACQUIRE);
		__s64 now = mono_ns(CLOCK_MONOTONIC);

		/* every read after prev was published must not be older */
		if (now < prev)
			t->back++;
		while (prev < now &&
		       !__atomic_compare_exchange_n(t->last, &prev, now, true,
						    __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE))
			;
		t->reads++;
	}
	return NULL;
}

TEST(monotonic_across_vcpus)
{
	int n = ncpus(), stop = 0;
	__s64 last = 0;
	struct mono_thread t[8];
	pthread_t th[8];
	long reads = 0;

	if (n > 8)
		n = 8;
	for (int i = 0; i < n; i++) {
		t[i] = (struct mono_thread){ i, &last, &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mono_reader, &t[i]));
	}
	sleep(2);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, t[i].back);
		reads += t[i].reads;
	}
	TH_LOG("%ld reads on %d vCPUs", reads, n);
}

/* A pause of the VM: the disruption marker, and time only forward. */
TEST_F_TIMEOUT(guest, pause_is_a_disruption, 60)
{
	int fd = open("/dev/pvmm_clock", O_RDONLY);
	const struct pvmm_clock_record *rec;
	__s64 before, after, host0, host1;
	__u64 d0;

	ASSERT_LE(0, fd);
	rec = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, rec);
	d0 = __atomic_load_n(&rec[0].disruptions, __ATOMIC_ACQUIRE);
	before = mono_ns(CLOCK_MONOTONIC);
	host0 = host(TEST_HOST_MONO, 0);
	ASSERT_EQ(0, host(TEST_PAUSE, 2));
	after = mono_ns(CLOCK_MONOTONIC);
	host1 = host(TEST_HOST_MONO, 0);
	TH_LOG("guest clock moved %.3f s over a 2 s pause; host %.3f s",
	       (after - before) / 1e9, (host1 - host0) / 1e9);
	EXPECT_LT(before, after);
	/* the guest's clock follows the host's through the pause */
	EXPECT_LT(2000000000LL - 50000000, after - before);
	EXPECT_GT(50000000LL, llabs((after - before) - (host1 - host0)));
	EXPECT_EQ(d0 + 1, __atomic_load_n(&rec[0].disruptions,
					  __ATOMIC_ACQUIRE));
	munmap((void *)rec, 4096);
	close(fd);
}

TEST_F_TIMEOUT(guest, follows_host_slew_kvm_clock_does_not, 120)
{
	__s64 pv, kvm, pv_bound, kvm_bound;

	pv = drift_under_slew(500, 10, &pv_bound);
	ASSERT_LE(0, pv);
	ASSERT_EQ(0, write_str(CS_DIR "current_clocksource", "kvm-clock"));
	kvm = drift_under_slew(500, 10, &kvm_bound);
	ASSERT_EQ(0, write_str(CS_DIR "current_clocksource", "pvmm-clock"));
	ASSERT_LE(0, kvm);
	TH_LOG("drift over 10 s of +500 ppm: pvmm-clock %lld +- %lld us",
	       (long long)pv / 1000, (long long)pv_bound / 1000);
	TH_LOG("kvm-clock %lld +- %lld us",
	       (long long)kvm / 1000, (long long)kvm_bound / 1000);
	printf("bench: guest_clock_drift ratio=%.3f target=0.05\n",
	       kvm ? (double)pv / kvm : 1.0);
	/* 500 ppm over 10 s is 5 ms: kvm-clock keeps the raw rate */
	EXPECT_LT(3000000, kvm);
	EXPECT_GT(500000, pv);
}

/* --- scheduling --- */

/* This CPU's steal in /proc/stat, ns. */
static __s64 proc_steal_ns(int cpu)
{
	char line[512], want[16];
	long long v[8];
	FILE *f = fopen("/proc/stat", "r");
	__s64 r = -1;

	snprintf(want, sizeof(want), "cpu%d ", cpu);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)) &&
		    sscanf(line + strlen(want), "%lld %lld %lld %lld %lld %lld %lld %lld",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) == 8)
			r = v[7] * (1000000000LL / sysconf(_SC_CLK_TCK));
	if (f)
		fclose(f);
	return r;
}

static void *spin_for(void *p)
{
	__s64 end = mono_ns(CLOCK_MONOTONIC) + *(__s64 *)p;

	while (mono_ns(CLOCK_MONOTONIC) < end)
		;
	return NULL;
}

/*
 * vCPU 1's thread shares a host CPU with a busy host thread for 4 s while
 * the guest keeps that vCPU busy: the steal the guest accounts equals the
 * run delay the host saw, within 1 % (and the tick's granularity).
 */
TEST_F_TIMEOUT(guest, steal_equals_host_run_delay, 60)
{
	__s64 s0, s1, d0, d1, ns = 4000000000LL;
	__s64 hcpu;

	if (ncpus() < 2)
		SKIP(return, "needs two vCPUs");
	hcpu = host(TEST_VCPU_CPU, 1);
	ASSERT_LE(0, hcpu);
	s0 = proc_steal_ns(1);
	d0 = host(TEST_RUN_DELAY, 1);
	ASSERT_EQ(0, host(TEST_HOG_START, hcpu));
	pin(1);
	spin_for(&ns);
	ASSERT_EQ(0, host(TEST_HOG_STOP, 0));
	/* a tick to account the last of it */
	usleep(50000);
	s1 = proc_steal_ns(1);
	d1 = host(TEST_RUN_DELAY, 1);
	pin(0);
	TH_LOG("guest steal %.3f s, host run delay %.3f s (host CPU %lld)",
	       (s1 - s0) / 1e9, (d1 - d0) / 1e9, (long long)hcpu);
	EXPECT_LT(500000000LL, d1 - d0);
	EXPECT_GT((d1 - d0) / 100 + 2 * (1000000000LL / sysconf(_SC_CLK_TCK)),
		  llabs((s1 - s0) - (d1 - d0)));
}

struct toucher {
	int cpu;
	int *stop;
};

static void *busy_on_cpu(void *p)
{
	struct toucher *t = p;
	static int x;

	pin(t->cpu);
	while (!__atomic_load_n(t->stop, __ATOMIC_RELAXED))
		__atomic_fetch_add(&x, 1, __ATOMIC_RELAXED);
	return NULL;
}

/*
 * vCPU 1's host thread shares its CPU with a busy host thread, so the
 * host preempts it often, while vCPUs 1 and 2 run threads of this
 * process and vCPU 0 issues expedited membarriers: each sends a
 * function-call IPI to the CPUs running this process's threads (TLB
 * shootdowns would not do: KVM's PV TLB flush, which stays on, leaves
 * preempted vCPUs out of them). When the guest half sees vCPU 1
 * preempted (vcpu_is_preempted() from its record), it gives the CPU to
 * it with a directed yield: the host counts vCPU 0's yields.
 */
TEST_F_TIMEOUT(guest, directed_yield_reaches_host, 60)
{
	struct toucher t[2];
	__s64 y0, y1, hcpu;
	long barriers = 0;
	pthread_t th[2];
	int stop = 0;
	__s64 end;

	if (ncpus() < 3)
		SKIP(return, "needs three vCPUs");
	ASSERT_EQ(0, syscall(__NR_membarrier,
			     MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0));
	hcpu = host(TEST_VCPU_CPU, 1);
	ASSERT_LE(0, hcpu);
	y0 = host(TEST_SYSFS_VCPU, 0 | SYSFS_YIELDS << 8);
	ASSERT_LE(0, y0);
	pin(0);
	for (int i = 0; i < 2; i++) {
		t[i] = (struct toucher){ i + 1, &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, busy_on_cpu, &t[i]));
	}
	ASSERT_EQ(0, host(TEST_HOG_START, hcpu));
	end = mono_ns(CLOCK_MONOTONIC) + 3000000000LL;
	while (mono_ns(CLOCK_MONOTONIC) < end) {
		ASSERT_EQ(0, syscall(__NR_membarrier,
				     MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0));
		barriers++;
	}
	ASSERT_EQ(0, host(TEST_HOG_STOP, 0));
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	y1 = host(TEST_SYSFS_VCPU, 0 | SYSFS_YIELDS << 8);
	TH_LOG("%ld membarriers, %lld directed yields of vCPU 0",
	       barriers, (long long)(y1 - y0));
	EXPECT_LT(0, y1 - y0);
}

/*
 * The guest half's hints in /sys/kernel/pvmm_sched/ (sysfs-kernel-pvmm_sched):
 * a steal rate per online CPU, the congested and preempted CPU lists, and
 * congested_pct's range.
 */
TEST(sched_hints_in_sysfs)
{
	FILE *f = fopen("/sys/kernel/pvmm_sched/steal_rates", "r");
	unsigned int rate;
	char buf[64];
	int cpu, n = 0;

	ASSERT_NE(NULL, f);
	while (fscanf(f, "%d %u", &cpu, &rate) == 2) {
		EXPECT_EQ(n, cpu);
		EXPECT_GE(65536U, rate);
		n++;
	}
	fclose(f);
	EXPECT_EQ(ncpus(), n);
	EXPECT_EQ(0, read_str("/sys/kernel/pvmm_sched/congested", buf, sizeof(buf)));
	EXPECT_EQ(0, read_str("/sys/kernel/pvmm_sched/preempted", buf, sizeof(buf)));
	EXPECT_EQ(0, read_str("/sys/kernel/pvmm_sched/congested_pct", buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, write_str("/sys/kernel/pvmm_sched/congested_pct", "0"));
	EXPECT_EQ(-EINVAL, write_str("/sys/kernel/pvmm_sched/congested_pct", "101"));
	EXPECT_EQ(0, write_str("/sys/kernel/pvmm_sched/congested_pct", buf));
}

/* A CPU list as sysfs prints it ("0-2,5"): is @cpu in it? */
static int in_cpulist(const char *list, int cpu)
{
	const char *p = list;

	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			return 0;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (cpu >= lo && cpu <= hi)
			return 1;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return 0;
}

struct spinner {
	int cpu;		/* -1: wherever the guest's scheduler puts it */
	int *stop;
	int at;			/* the CPU it last ran on */
};

static void *spin_until(void *p)
{
	struct spinner *sp = p;

	if (sp->cpu >= 0)
		pin(sp->cpu);
	while (!__atomic_load_n(sp->stop, __ATOMIC_RELAXED))
		__atomic_store_n(&sp->at, sched_getcpu(), __ATOMIC_RELAXED);
	return NULL;
}

static int spinners_start(struct spinner *sp, pthread_t *th, int n, int cpu,
			  int *stop)
{
	for (int i = 0; i < n; i++) {
		sp[i] = (struct spinner){ cpu, stop, -1 };
		if (pthread_create(&th[i], NULL, spin_until, &sp[i]))
			return -1;
	}
	return 0;
}

static void spinners_stop(pthread_t *th, int n, int *stop)
{
	__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	*stop = 0;
}

/*
 * The share of @n polls, one a ms, in which the guest saw @cpu
 * preempted, and in @host the share in which the host's sysfs said so.
 */
static double preempted_share(int cpu, int n, double *host_share)
{
	int seen = 0, host_seen = 0, bad = 0;
	char buf[64];

	for (int i = 0; i < n; i++) {
		if (read_str("/sys/kernel/pvmm_sched/preempted", buf,
			     sizeof(buf)))
			bad++;
		else if (in_cpulist(buf, cpu))
			seen++;
		host_seen += host(TEST_SYSFS_VCPU, cpu | SYSFS_PREEMPTED << 8) == 1;
		usleep(1000);
	}
	*host_share = (double)host_seen / n;
	return bad ? -1 : (double)seen / n;
}

/*
 * vcpu_is_preempted(), read through /sys/kernel/pvmm_sched/preempted
 * from vCPU 0: vCPU 1 busy alone on its host CPU is seldom preempted;
 * sharing that CPU with a busy host thread, it is often; vCPU 2, idle,
 * halts instead of being preempted.
 */
TEST_F_TIMEOUT(guest, vcpu_is_preempted_when_host_preempts, 60)
{
	double alone, shared, idle, h_alone, h_shared, h_idle;
	struct spinner sp;
	int stop = 0;
	pthread_t th;
	__s64 hcpu;

	if (ncpus() < 3)
		SKIP(return, "needs three vCPUs");
	hcpu = host(TEST_VCPU_CPU, 1);
	ASSERT_LE(0, hcpu);
	pin(0);
	ASSERT_EQ(0, spinners_start(&sp, &th, 1, 1, &stop));
	alone = preempted_share(1, 1000, &h_alone);
	ASSERT_EQ(0, host(TEST_HOG_START, hcpu));
	shared = preempted_share(1, 2000, &h_shared);
	idle = preempted_share(2, 1000, &h_idle);
	ASSERT_EQ(0, host(TEST_HOG_STOP, 0));
	spinners_stop(&th, 1, &stop);
	TH_LOG("vCPU 1 preempted %.1f %% alone, %.1f %% beside a host thread",
	       alone * 100, shared * 100);
	TH_LOG("the host's view: %.1f %%, %.1f %%; idle vCPU 2 %.1f %% (host %.1f %%)",
	       h_alone * 100, h_shared * 100, idle * 100, h_idle * 100);
	ASSERT_LE(0, alone * shared * idle);
	EXPECT_LT(0.10, shared);
	EXPECT_LT(alone + 0.05, shared);
	/*
	 * The idle vCPU, the control: the guest reads what the host saw of
	 * its thread (seen: 6.7 % preempted on the host, 5.9 % read).
	 */
	EXPECT_GT(h_idle + 0.05, idle);
	EXPECT_LT(idle + 0.10, shared);
}

/* The mean number of @n spinners on @cpu over @ms, sampled every 20 ms. */
static double mean_on(struct spinner *sp, int n, int cpu, int ms)
{
	long on = 0, samples = 0;

	for (int t = 0; t < ms; t += 20, samples++) {
		usleep(20000);
		for (int i = 0; i < n; i++)
			on += __atomic_load_n(&sp[i].at, __ATOMIC_RELAXED) == cpu;
	}
	return (double)on / samples;
}

/*
 * The guest's load balancer sees steal: with PARAVIRT_TIME_ACCOUNTING
 * the steal the guest half reports leaves the task clock and counts
 * against the CPU's capacity (as IRQ time does), so a vCPU that loses
 * half its host CPU to a busy host thread carries fewer of the guest's
 * busy threads than the others. Six spinners over three vCPUs, free to
 * move: about two on vCPU 1 alone, fewer once its host CPU is shared.
 */
TEST_F_TIMEOUT(guest, load_moves_off_a_vcpu_losing_time, 90)
{
	struct spinner sp[6];
	double before, after;
	__s64 hcpu, s0, s1;
	pthread_t th[6];
	int stop = 0;

	if (ncpus() != 3)
		SKIP(return, "needs exactly three vCPUs");
	hcpu = host(TEST_VCPU_CPU, 1);
	ASSERT_LE(0, hcpu);
	ASSERT_EQ(0, spinners_start(sp, th, 6, -1, &stop));
	usleep(500000);
	before = mean_on(sp, 6, 1, 3000);
	s0 = proc_steal_ns(1);
	ASSERT_EQ(0, host(TEST_HOG_START, hcpu));
	/* PELT's averages take some 100 ms to follow */
	usleep(1000000);
	after = mean_on(sp, 6, 1, 4000);
	ASSERT_EQ(0, host(TEST_HOG_STOP, 0));
	s1 = proc_steal_ns(1);
	spinners_stop(th, 6, &stop);
	TH_LOG("spinners on vCPU 1: %.2f alone, %.2f sharing its host CPU (steal %.2f s)",
	       before, after, (s1 - s0) / 1e9);
	EXPECT_LT(0.5, (s1 - s0) / 1e9);
	EXPECT_GT(before * 0.75, after);
}

/*
 * The host's placement policy (pvmm_sched place=1, set for this boot):
 * vCPU 2 may run on its own host CPU or on CPU 3, which nothing else
 * uses (the test VM's isolcpus=3). With a busy host thread beside it on
 * its CPU, the policy moves the thread to CPU 3, inside the mask, and
 * gives the VMM's mask back when the VMM sets a new one.
 */
TEST_F_TIMEOUT(guest, host_places_a_vcpu_within_its_mask, 60)
{
	__s64 cpu, m0, placed = -1, now = -1, end;
	struct spinner sp;
	int stop = 0;
	pthread_t th;

	if (ncpus() < 3)
		SKIP(return, "needs three vCPUs");
	cpu = host(TEST_VCPU_CPU, 2);
	ASSERT_LE(0, cpu);
	if (cpu == 3)
		SKIP(return, "vCPU 2 already runs on host CPU 3");
	m0 = host(TEST_SYSFS_VCPU, 2 | SYSFS_MIGRATIONS << 8);
	ASSERT_LE(0, m0);
	ASSERT_EQ(0, host(TEST_AFFINITY, 2 | (1 << cpu | 1 << 3) << 8));
	pin(0);
	ASSERT_EQ(0, spinners_start(&sp, &th, 1, 2, &stop));
	ASSERT_EQ(0, host(TEST_HOG_START, cpu));
	for (end = mono_ns(CLOCK_MONOTONIC) + 10000000000LL;
	     mono_ns(CLOCK_MONOTONIC) < end && !(placed == 3 && now == 3);
	     usleep(100000)) {
		placed = host(TEST_SYSFS_VCPU, 2 | SYSFS_PLACED_CPU << 8);
		now = host(TEST_VCPU_CPU, 2);
	}
	ASSERT_EQ(0, host(TEST_HOG_STOP, 0));
	spinners_stop(&th, 1, &stop);
	TH_LOG("vCPU 2: host CPU %lld, placed on %lld after %lld migrations",
	       (long long)now, (long long)placed,
	       (long long)(host(TEST_SYSFS_VCPU, 2 | SYSFS_MIGRATIONS << 8) - m0));
	EXPECT_EQ(3, placed);
	EXPECT_EQ(3, now);
	/* the VMM's own mask again: the policy lets the thread go */
	ASSERT_EQ(0, host(TEST_AFFINITY, 2 | 1 << cpu << 8));
	for (end = mono_ns(CLOCK_MONOTONIC) + 5000000000LL;
	     mono_ns(CLOCK_MONOTONIC) < end && placed != -1; usleep(100000))
		placed = host(TEST_SYSFS_VCPU, 2 | SYSFS_PLACED_CPU << 8);
	EXPECT_EQ(-1, placed);
	EXPECT_EQ(cpu, host(TEST_VCPU_CPU, 2));
}

/* --- a hostile guest: the VMM answers, and lives --- */

static __s64 doorbell(__u64 nr, __u64 a0)
{
	__u64 ret = nr;

	asm volatile("outl %%eax, %%dx" : "+a" (ret)
		     : "d" (DOORBELL_PORT), "b" (a0) : "memory");
	return (__s64)ret;
}

/*
 * Ports nobody emulates read as all ones and swallow writes; the
 * doorbell and the test device answer only at their own width.
 */
TEST(unknown_ports_are_ignored)
{
	static const unsigned short ports[] = {
		0x100, 0x2ff8, 0x5651, 0x5660, 0x7000, 0xfffc,
	};
	__u64 ret = PVMM_CALL_ABI_VERSION;

	ASSERT_EQ(0, iopl(3));
	for (unsigned int i = 0; i < ARRAY_SIZE(ports); i++) {
		EXPECT_EQ(0xff, inb(ports[i]));
		EXPECT_EQ(0xffff, inw(ports[i]));
		EXPECT_EQ(0xffffffffU, inl(ports[i]));
		outb(0x5a, ports[i]);
		outl(0xdeadbeef, ports[i]);
	}
	EXPECT_EQ(0xffffffffU, inl(DOORBELL_PORT));
	/* a byte-wide doorbell is no call: the register keeps its value */
	asm volatile("outb %%al, %%dx" : "+a" (ret) : "d" (DOORBELL_PORT));
	EXPECT_EQ(PVMM_CALL_ABI_VERSION, ret);
	EXPECT_EQ(0xffff, inw(TEST_PORT + 4));
	EXPECT_EQ(PVMM_ABI_VERSION, doorbell(PVMM_CALL_ABI_VERSION, 0));
	EXPECT_LT(0, host(TEST_HOST_MONO, 0));
	iopl(0);
}

/* Calls the host cannot answer get an errno, and the VMM runs on. */
TEST(bad_calls_get_errnos)
{
	long ok = 0;

	ASSERT_EQ(0, iopl(3));
	EXPECT_EQ(-EOPNOTSUPP, doorbell(PVMM_CALL_NR(PVMM_SVC_HUB, 0xff), 0));
	EXPECT_EQ(-EOPNOTSUPP, doorbell(0xffffffffULL, 0));
	EXPECT_EQ(-EOPNOTSUPP, doorbell(0x7f00, 0));
	/* a service this VMM did not enable */
	EXPECT_EQ(-EOPNOTSUPP, doorbell(PVMM_BALLOON_INFLATE, 0));
	/* a directed yield to the caller itself */
	pin(1);
	EXPECT_EQ(-EINVAL, doorbell(PVMM_SCHED_YIELD_TO, 1));
	pin(0);
	/* a flood of calls, every one answered */
	for (int i = 0; i < 20000; i++)
		ok += doorbell(PVMM_CALL_NR(PVMM_SVC_HUB, i & 0xff), 0) !=
		      -EOPNOTSUPP;
	EXPECT_EQ(20000 / 256 * 3 + 3, ok);
	/* the test device's own range checks */
	EXPECT_EQ(-EINVAL, host(0xff, 0));
	EXPECT_EQ(-EINVAL, host(TEST_HOG_START, 0xffffff));
	EXPECT_EQ(-EINVAL, host(TEST_PAUSE, 61));
	EXPECT_EQ(-EINVAL, host(TEST_RUN_DELAY, 200));
	EXPECT_EQ(-EINVAL, host(TEST_SYSFS_VCPU, 0 | 99 << 8));
	EXPECT_EQ(-EINVAL, host(TEST_AFFINITY, 7 | 1 << 8));
	EXPECT_EQ(-EINVAL, host(TEST_AFFINITY, 0));
	iopl(0);
}

TEST_HARNESS_MAIN
