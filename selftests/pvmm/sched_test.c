// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm scheduling service selftests: vCPU threads of this process read
 * their steal-time record from guest memory, as a guest does, and compare
 * it with the scheduler's ground truth in /proc/self/task/<tid>/schedstat.
 *
 * Needs pvmm.ko and pvmm_sched.ko loaded, and two CPUs.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/pvmm_sched.h>

#include "libpvmm.h"
#include "sched_lib.h"
#include "kselftest_harness.h"

/* Without the hub or the service, the whole program is skipped. */
static void __attribute__((constructor)) needs_services(void)
{
	const char *why = vmm_missing(1ULL << PVMM_SVC_SCHED);

	if (why)
		ksft_exit_skip("%s\n", why);
}

#define MEM	(4UL << 20)
#define GPA	0x100000ULL

struct svm {
	int vm;
	int memfd;
	char *mem;
};

static int svm_open(struct svm *s)
{
	s->vm = vmm_open();
	s->mem = vmm_memfd_map(MEM, &s->memfd);
	if (s->vm < 0 || !s->mem ||
	    vmm_set_slot(s->vm, 0, GPA, MEM, s->mem, s->memfd, 0))
		return -1;
	return vmm_ioctl(s->vm, PVMM_ENABLE_SERVICE, (void *)PVMM_SVC_SCHED);
}

static void svm_close(struct svm *s)
{
	close(s->vm);
	munmap(s->mem, MEM);
	close(s->memfd);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* The record, read with its version protocol. */
static __u64 steal_read(const struct pvmm_steal_record *r)
{
	__u32 v;
	__u64 s;

	do {
		v = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE) & ~1U;
		s = __atomic_load_n(&r->steal, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (v != __atomic_load_n(&r->version, __ATOMIC_RELAXED));
	return s;
}

static __u64 run_delay(void)
{
	char path[64];
	unsigned long long exec, delay = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat",
		 (long)syscall(SYS_gettid));
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%llu %llu", &exec, &delay) != 2)
			delay = 0;
		fclose(f);
	}
	return delay;
}

/* Steal and run delay at one instant: no context switch between them. */
static void sample(const struct pvmm_steal_record *r, __u64 *steal,
		   __u64 *rd)
{
	__u64 s2;

	do {
		*steal = steal_read(r);
		*rd = run_delay();
		s2 = steal_read(r);
	} while (*steal != s2);
}

struct vcpu_thread {
	struct svm *s;
	int id;
	int cpu;
	__u64 gpa;
	double secs;
	int *stop;
	bool spin;			/* thread_sleeper() spins instead */
	bool fifo;			/* thread_sleeper() runs SCHED_FIFO */
	/* results */
	int err;
	__u64 steal;
	__u64 rd;
	long self_saw_preempted;
	long nvcsw;			/* voluntary switches while bound */
	long nivcsw;			/* involuntary ones */
};

static int vcpu_bind_enable(struct vcpu_thread *t)
{
	int vcpu = ioctl(t->s->vm, PVMM_CREATE_VCPU, t->id);

	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND) ||
	    vmm_call2(vcpu, PVMM_SCHED_STEAL_ENABLE, t->gpa, 0))
		return -1;
	return vcpu;
}

/* A busy vCPU: measures its steal against schedstat. */
static void *thread_busy(void *p)
{
	struct vcpu_thread *t = p;
	const struct pvmm_steal_record *r =
		(const void *)(t->s->mem + (t->gpa - GPA));
	__u64 s0, rd0, s1, rd1;
	double end;
	int vcpu;

	pin(t->cpu);
	vcpu = vcpu_bind_enable(t);
	if (vcpu < 0) {
		t->err = 1;
		return NULL;
	}
	sample(r, &s0, &rd0);
	end = vmm_now() + t->secs;
	while (vmm_now() < end)
		/* running now: never seen preempted by itself */
		t->self_saw_preempted += __atomic_load_n(&r->preempted,
							 __ATOMIC_RELAXED);
	sample(r, &s1, &rd1);
	t->steal = s1 - s0;
	t->rd = rd1 - rd0;
	close(vcpu);
	return NULL;
}

static void *thread_hog(void *p)
{
	struct vcpu_thread *t = p;

	pin(t->cpu);
	while (!__atomic_load_n(t->stop, __ATOMIC_RELAXED))
		;
	return NULL;
}

FIXTURE(sched) {
	struct svm s;
	int ncpu;
};

FIXTURE_SETUP(sched)
{
	self->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (self->ncpu < 2)
		SKIP(return, "needs two CPUs");
	/* earlier tests' VMs are torn down after a grace period */
	ASSERT_EQ(0, vmm_sysfs_wait("pinned_pages", 0, 5000));
	ASSERT_EQ(0, svm_open(&self->s));
}

FIXTURE_TEARDOWN(sched)
{
	if (self->ncpu >= 2)
		svm_close(&self->s);
	/* the knobs back, even after a failed placement test */
	sched_param_set("place", 0);
	sched_param_set("place_period_ms", 200);
	sched_param_set("place_residence_ms", 1000);
	sched_param_set("boost_max_us", 1000);
}

/* A vCPU sharing its CPU with a hog: steal equals the run delay. */
TEST_F_TIMEOUT(sched, steal_matches_schedstat, 60)
{
	int stop = 0;
	struct vcpu_thread v = { &self->s, 0, 1, GPA + 0x1000, 3.0, &stop };
	struct vcpu_thread h = { .cpu = 1, .stop = &stop };
	pthread_t tv, th;

	ASSERT_EQ(0, pthread_create(&th, NULL, thread_hog, &h));
	ASSERT_EQ(0, pthread_create(&tv, NULL, thread_busy, &v));
	pthread_join(tv, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ASSERT_EQ(0, v.err);
	TH_LOG("steal %llu ns, schedstat run delay %llu ns", v.steal, v.rd);
	/* the hog really took time from it */
	EXPECT_LT(300000000ULL, v.rd);
	EXPECT_GE(v.rd / 100, v.steal > v.rd ? v.steal - v.rd : v.rd - v.steal);
	EXPECT_EQ(0, v.self_saw_preempted);
}

struct watcher {
	const struct pvmm_steal_record *r;
	double secs;
	long set;
	long clear;
	long edges;			/* clear -> set */
};

static void *thread_watch(void *p)
{
	struct watcher *w = p;
	double end = vmm_now() + w->secs;

	bool was = false;

	pin(0);
	while (vmm_now() < end) {
		bool set = __atomic_load_n(&w->r->preempted, __ATOMIC_RELAXED);

		w->set += set;
		w->clear += !set;
		w->edges += set && !was;
		was = set;
	}
	return NULL;
}

/* Seen set from another CPU while it waits, clear while it runs. */
TEST_F_TIMEOUT(sched, preempted_while_runnable, 60)
{
	int stop = 0;
	struct vcpu_thread v = { &self->s, 0, 1, GPA + 0x1000, 3.0, &stop };
	struct vcpu_thread h = { .cpu = 1, .stop = &stop };
	struct watcher w = { (const void *)(self->s.mem + 0x1000), 2.5 };
	pthread_t tv, th, tw;

	ASSERT_EQ(0, pthread_create(&th, NULL, thread_hog, &h));
	ASSERT_EQ(0, pthread_create(&tv, NULL, thread_busy, &v));
	usleep(200000);
	ASSERT_EQ(0, pthread_create(&tw, NULL, thread_watch, &w));
	pthread_join(tw, NULL);
	pthread_join(tv, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ASSERT_EQ(0, v.err);
	TH_LOG("preempted seen set %ld times, clear %ld times", w.set, w.clear);
	EXPECT_LT(0, w.set);
	EXPECT_LT(0, w.clear);
	EXPECT_EQ(0, v.self_saw_preempted);
}

static void *thread_sleeper(void *p)
{
	struct vcpu_thread *t = p;
	struct rusage ru0, ru1;
	int vcpu;

	pin(t->cpu);
	if (t->fifo) {
		struct sched_param sp = { .sched_priority = 10 };

		if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
			t->err = 1;
			return NULL;
		}
	}
	vcpu = vcpu_bind_enable(t);
	if (vcpu < 0) {
		t->err = 1;
		return NULL;
	}
	getrusage(RUSAGE_THREAD, &ru0);
	while (!__atomic_load_n(t->stop, __ATOMIC_RELAXED))
		if (!t->spin)
			usleep(2000);
	getrusage(RUSAGE_THREAD, &ru1);
	t->nvcsw = ru1.ru_nvcsw - ru0.ru_nvcsw;
	t->nivcsw = ru1.ru_nivcsw - ru0.ru_nivcsw;
	close(vcpu);
	return NULL;
}

/*
 * A vCPU that blocks is never marked preempted, SCHED_OTHER or FIFO. It
 * can still be preempted now and then (a kworker takes its CPU on its way
 * back to user space, or its timer fires before it is switched out), and
 * then the flag is right: each time the flag is seen set needs one
 * involuntary switch of the thread.
 */
static void never_preempted(struct __test_metadata *_metadata,
			    struct svm *s, bool fifo)
{
	int stop = 0;
	struct vcpu_thread v = { s, 0, 1, GPA + 0x1000, 0, &stop };
	struct watcher w = { (const void *)(s->mem + 0x1000), 1.5 };
	pthread_t tv, tw;

	v.fifo = fifo;

	ASSERT_EQ(0, pthread_create(&tv, NULL, thread_sleeper, &v));
	usleep(100000);
	ASSERT_EQ(0, pthread_create(&tw, NULL, thread_watch, &w));
	pthread_join(tw, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(tv, NULL);
	ASSERT_EQ(0, v.err);
	TH_LOG("%ld voluntary, %ld involuntary switches; set seen %ld times in %ld samples",
	       v.nvcsw, v.nivcsw, w.edges, w.set + w.clear);
	EXPECT_LT(100, v.nvcsw);
	EXPECT_GE(v.nivcsw, w.edges);
	EXPECT_LT(0, w.clear);
	EXPECT_LT(0, ((const struct pvmm_steal_record *)(s->mem +
							  0x1000))->version);
}

TEST_F(sched, never_preempted_when_sleeping)
{
	never_preempted(_metadata, &self->s, false);
}

TEST_F(sched, never_preempted_when_sleeping_fifo)
{
	never_preempted(_metadata, &self->s, true);
}

struct blocker {
	struct vcpu_thread t;
	int asleep;			/* atomic: between its store and wakeup */
	long rounds;
};

/* A vCPU sharing its CPU with a hog that runs 2 ms, then sleeps 3 ms. */
static void *thread_blocker(void *p)
{
	struct blocker *b = p;
	double end;
	int vcpu;

	pin(b->t.cpu);
	vcpu = vcpu_bind_enable(&b->t);
	if (vcpu < 0) {
		b->t.err = 1;
		return NULL;
	}
	end = vmm_now() + b->t.secs;
	while (vmm_now() < end) {
		double run = vmm_now() + 0.002;

		while (vmm_now() < run)
			;
		__atomic_store_n(&b->asleep, 1, __ATOMIC_RELEASE);
		usleep(3000);
		__atomic_store_n(&b->asleep, 0, __ATOMIC_RELEASE);
		b->rounds++;
	}
	close(vcpu);
	return NULL;
}

/*
 * A vCPU that blocks while a hog shares its CPU: it often blocks owing
 * the hog time, which a 6.12 kernel keeps queued until that is spent
 * (delayed dequeue). It is blocked, not preempted, all the same. The
 * flag is seen set while it sleeps only when the hog preempted it
 * between its store of "asleep" and its sleep, a window of well under
 * 1 % of its run.
 */
TEST_F_TIMEOUT(sched, blocked_beside_a_hog_is_not_preempted, 60)
{
	int stop = 0;
	struct blocker b = { { &self->s, 0, 1, GPA + 0x1000, 3.0, &stop } };
	struct vcpu_thread h = { .cpu = 1, .stop = &stop };
	const struct pvmm_steal_record *r = (const void *)(self->s.mem + 0x1000);
	long asleep = 0, both = 0, running_set = 0;
	pthread_t tb, th;
	double end;

	ASSERT_EQ(0, pthread_create(&th, NULL, thread_hog, &h));
	ASSERT_EQ(0, pthread_create(&tb, NULL, thread_blocker, &b));
	usleep(200000);
	pin(0);
	end = vmm_now() + 2.5;
	while (vmm_now() < end) {
		bool sl = __atomic_load_n(&b.asleep, __ATOMIC_ACQUIRE);
		bool set = __atomic_load_n(&r->preempted, __ATOMIC_RELAXED);

		asleep += sl;
		both += sl && set;
		running_set += !sl && set;
	}
	pthread_join(tb, NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	ASSERT_EQ(0, b.t.err);
	TH_LOG("%ld rounds; asleep in %ld samples, set in %ld of them; set in %ld others",
	       b.rounds, asleep, both, running_set);
	ASSERT_LT(100, b.rounds);
	ASSERT_LT(1000, asleep);
	/*
	 * Whether the hog preempts it while it runs is the kernel's choice
	 * (6.1's wakeup credit often lets it run its 2 ms out): the flag
	 * being set then is preempted_while_runnable's to test.
	 */
	EXPECT_GT(asleep / 20, both);
}

TEST_F(sched, hostile_calls)
{
	int vcpu = ioctl(self->s.vm, PVMM_CREATE_VCPU, 0);
	const struct pvmm_steal_record *r = (const void *)(self->s.mem +
							   0x2000);
	__u32 ver;

	ASSERT_EQ(0, ioctl(vcpu, PVMM_VCPU_BIND));
	EXPECT_EQ(-EINVAL, vmm_call2(vcpu, PVMM_SCHED_STEAL_ENABLE,
				     GPA + 0x2008, 0));
	EXPECT_EQ(-EINVAL, vmm_call2(vcpu, PVMM_SCHED_STEAL_ENABLE,
				     GPA + 0x1000 - 32, 0));
	EXPECT_EQ(-EFAULT, vmm_call2(vcpu, PVMM_SCHED_STEAL_ENABLE, GPA + MEM,
				     0));
	EXPECT_EQ(-EFAULT, vmm_call2(vcpu, PVMM_SCHED_STEAL_ENABLE, ~63ULL, 0));
	EXPECT_EQ(-EOPNOTSUPP, vmm_call2(vcpu, PVMM_CALL_NR(PVMM_SVC_SCHED, 99),
					 0, 0));
	EXPECT_EQ(0, vmm_sysfs_read("pinned_pages"));
	ASSERT_EQ(0, vmm_call2(vcpu, PVMM_SCHED_STEAL_ENABLE, GPA + 0x2000, 0));
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	EXPECT_EQ(0, r->version & 1);
	EXPECT_EQ(0, r->steal_rate >> 17);
	EXPECT_EQ(0, vmm_call2(vcpu, PVMM_SCHED_STEAL_DISABLE, 0, 0));
	EXPECT_EQ(0, vmm_sysfs_read("pinned_pages"));
	ver = r->version;
	usleep(20000);
	EXPECT_EQ(ver, r->version);
	close(vcpu);
}

/*
 * A memslot change unpins the record under it; the slot back, the record
 * is pinned again and kept current, as the guest expects of it.
 */
TEST_F(sched, memslot_change)
{
	const struct pvmm_steal_record *r = (const void *)(self->s.mem +
							   0x1000);
	struct vcpu_thread t = { &self->s, 0, 0, GPA + 0x1000 };
	int vcpu = vcpu_bind_enable(&t);
	__u32 ver;

	ASSERT_LE(0, vcpu);
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	ASSERT_EQ(0, vmm_set_slot(self->s.vm, 0, 0, 0, NULL, -1, 0));
	EXPECT_EQ(0, vmm_sysfs_read("pinned_pages"));
	ver = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);
	for (int i = 0; i < 10; i++)
		usleep(2000);
	EXPECT_EQ(ver, __atomic_load_n(&r->version, __ATOMIC_ACQUIRE));
	ASSERT_EQ(0, vmm_set_slot(self->s.vm, 0, GPA, MEM, self->s.mem,
				  self->s.memfd, 0));
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	for (int i = 0; i < 10; i++)
		usleep(2000);
	EXPECT_LT(ver, __atomic_load_n(&r->version, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, __atomic_load_n(&r->version, __ATOMIC_ACQUIRE) & 1);
	close(vcpu);
}

/* Directed yields: only to another, existing vCPU, at a capped rate. */
TEST_F(sched, yield_rules_and_cap)
{
	int v0 = ioctl(self->s.vm, PVMM_CREATE_VCPU, 0);
	int v1 = ioctl(self->s.vm, PVMM_CREATE_VCPU, 1);
	int ok = 0, busy = 0, other = 0;

	ASSERT_LE(0, v1);
	ASSERT_EQ(0, ioctl(v0, PVMM_VCPU_BIND));
	EXPECT_EQ(-EINVAL, vmm_call2(v0, PVMM_SCHED_YIELD_TO, 0, 0));
	EXPECT_EQ(-EINVAL, vmm_call2(v0, PVMM_SCHED_YIELD_TO, 999, 0));
	EXPECT_EQ(-EINVAL, vmm_call2(v0, PVMM_SCHED_YIELD_TO, 1ULL << 33, 0));
	/* vCPU 1 has never run: not preempted, no yield */
	EXPECT_EQ(0, vmm_call2(v0, PVMM_SCHED_YIELD_TO, 1, 0));
	ASSERT_EQ(0, sched_param_set("yield_rate", 100));
	for (int i = 0; i < 1000; i++) {
		__s64 r = vmm_call2(v0, PVMM_SCHED_YIELD_TO, 1, 0);

		ok += r == 0 || r == 1;
		busy += r == -EBUSY;
		other += r != 0 && r != 1 && r != -EBUSY;
	}
	ASSERT_EQ(0, sched_param_set("yield_rate", 10000));
	TH_LOG("at 100/s: %d allowed, %d refused", ok, busy);
	EXPECT_EQ(0, other);
	EXPECT_GE(130, ok);
	EXPECT_LE(100, ok);
	EXPECT_LE(870, busy);
	close(v0);
	close(v1);
}

/* vm<N>/vcpu<@id>/sched/@name of the VM open as @vm, or LLONG_MIN. */
static long long sched_stat(int vm, int id, const char *name)
{
	long long v;

	return vmm_vm_stat(vm, &v, "vcpu%d/sched/%s", id, name) ? LLONG_MIN : v;
}

static long my_nice(void)
{
	char path[64], buf[512], *p;
	long nice = 99;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/stat",
		 (long)syscall(SYS_gettid));
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return nice;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return nice;
	buf[n] = 0;
	p = strrchr(buf, ')');
	/* after the name: state is field 3, nice field 19 */
	for (int field = 2; p && field < 19; field++)
		p = strchr(p + 1, ' ');
	return p ? strtol(p + 1, NULL, 10) : nice;
}

/* Boosts: capped in time, ended by the host, within the VM's budget. */
TEST_F(sched, boost_caps)
{
	int v = ioctl(self->s.vm, PVMM_CREATE_VCPU, 0);
	int granted = 0, refused = 0;
	long nice0 = my_nice();

	ASSERT_EQ(0, ioctl(v, PVMM_VCPU_BIND));
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_SCHED_BOOST, 0, 0));
	EXPECT_EQ(1000, vmm_call2(v, PVMM_SCHED_BOOST, 5000000, 0));
	usleep(20000);			/* the host ends it */
	EXPECT_EQ(nice0, my_nice());
	/* a boost long enough to look at, within the 50 ms budget */
	ASSERT_EQ(0, sched_param_set("boost_max_us", 100000));
	EXPECT_EQ(40000, vmm_call2(v, PVMM_SCHED_BOOST, 40000, 0));
	EXPECT_EQ(-20, my_nice());
	EXPECT_EQ(-EALREADY, vmm_call2(v, PVMM_SCHED_BOOST, 100, 0));
	ASSERT_EQ(0, sched_param_set("boost_max_us", 1000));
	usleep(100000);
	EXPECT_EQ(nice0, my_nice());
	/* a nice value the VMM sets during a boost is not undone (41 ms
	 * of the budget are spent: 8 ms more fit)
	 */
	ASSERT_EQ(0, sched_param_set("boost_max_us", 100000));
	EXPECT_EQ(8000, vmm_call2(v, PVMM_SCHED_BOOST, 8000, 0));
	ASSERT_EQ(0, setpriority(PRIO_PROCESS, syscall(SYS_gettid), 5));
	ASSERT_EQ(0, sched_param_set("boost_max_us", 1000));
	usleep(100000);
	EXPECT_EQ(5, my_nice());
	ASSERT_EQ(0, setpriority(PRIO_PROCESS, syscall(SYS_gettid), nice0));
	EXPECT_EQ(300, vmm_call2(v, PVMM_SCHED_BOOST, 300, 0));
	EXPECT_EQ(0, vmm_call2(v, PVMM_SCHED_UNBOOST, 0, 0));
	EXPECT_EQ(nice0, my_nice());
	EXPECT_EQ(0, vmm_call2(v, PVMM_SCHED_UNBOOST, 0, 0));
	/* 50 ms a second: about fifty 1 ms boosts, then no more */
	usleep(1100000);
	for (int i = 0; i < 200; i++) {
		__s64 r = vmm_call2(v, PVMM_SCHED_BOOST, 1000, 0);

		granted += r == 1000;
		refused += r == -EBUSY;
		vmm_call2(v, PVMM_SCHED_UNBOOST, 0, 0);
	}
	TH_LOG("budget: %d boosts granted, %d refused", granted, refused);
	/* and sysfs counts the same */
	EXPECT_EQ(refused, sched_stat(self->s.vm, 0, "boosts_refused"));
	EXPECT_GE(101, granted);
	EXPECT_LE(50, granted);
	EXPECT_EQ(200, granted + refused);
	EXPECT_EQ(nice0, my_nice());
	close(v);
}

/*
 * The lock-holder scenario runs: three vCPU threads a CPU preempt one
 * another every few ms, so PV waiters do find holders preempted and halt,
 * and every halted waiter is kicked (the run ends).
 */
TEST_F_TIMEOUT(sched, lock_holder_preemption, 60)
{
	struct lhp l = { .nthreads = 6, .cpu0 = 0, .cs_ns = 50000,
			 .gap_ns = 5000, .pv = true, .secs = 2 };

	ASSERT_EQ(0, lhp_run(&l));
	TH_LOG("%ld acquisitions, %ld yields, %ld halts, p99 %ld us",
	       l.acquired, l.yields, l.halts, lhp_pct(&l, 99));
	EXPECT_LT(100, l.acquired);
	EXPECT_LT(0, l.halts);
	EXPECT_EQ(0, l.halted);
	free(l.hist);
}

/* The placement state of vCPU @id, from sysfs: 0 or -1. */
static int place_stats(int vm, int id, long long *migrations, int *cpu)
{
	long long c = sched_stat(vm, id, "placed_cpu");

	*migrations = sched_stat(vm, id, "migrations");
	*cpu = c;
	return *migrations == LLONG_MIN || c == LLONG_MIN ? -1 : 0;
}

struct placed {
	struct svm *s;
	cpu_set_t mask;			/* the VMM's */
	int first_cpu;
	int *stop;
	bool check_mask;		/* the mask stays the same */
	/* results */
	int err;
	pid_t tid;
	long outside;			/* samples of a mask not within ours */
	long on_cpu[4];			/* samples on each CPU, of the last 1 s */
	double last_from;
};

static void *thread_placed(void *p)
{
	struct placed *t = p;
	struct vcpu_thread b = { t->s, 0, 0, GPA + 0x1000 };
	cpu_set_t cur, within;
	int vcpu, cpu;

	pin(t->first_cpu);
	t->tid = syscall(SYS_gettid);
	vcpu = vcpu_bind_enable(&b);
	if (vcpu < 0 || sched_setaffinity(0, sizeof(t->mask), &t->mask)) {
		t->err = 1;
		return NULL;
	}
	while (!__atomic_load_n(t->stop, __ATOMIC_RELAXED)) {
		/* never a mask, nor a CPU, the VMM did not allow */
		sched_getaffinity(0, sizeof(cur), &cur);
		CPU_AND(&within, &cur, &t->mask);
		cpu = sched_getcpu();
		if (t->check_mask)
			t->outside += !CPU_EQUAL(&within, &cur) ||
				      !CPU_ISSET(cpu, &t->mask);
		if (vmm_now() > t->last_from && cpu >= 0 && cpu < 4)
			t->on_cpu[cpu]++;
	}
	close(vcpu);
	return NULL;
}

static void mask_of(cpu_set_t *set, int a, int b)
{
	CPU_ZERO(set);
	CPU_SET(a, set);
	CPU_SET(b, set);
}

/*
 * The policy on, sampling every 50 ms; a hog on CPU 1 and, beside it, a
 * vCPU thread whose VMM allows it CPUs @a and @b.
 */
static int place_start(struct placed *t, struct vcpu_thread *h, int a, int b,
		       pthread_t *tt, pthread_t *th)
{
	mask_of(&t->mask, a, b);
	t->first_cpu = 1;
	h->cpu = 1;
	h->stop = t->stop;
	if (sched_param_set("place_period_ms", 50) ||
	    sched_param_set("place", 1) ||
	    pthread_create(th, NULL, thread_hog, h))
		return -1;
	return pthread_create(tt, NULL, thread_placed, t);
}

static void place_stop(struct placed *t, pthread_t tt, pthread_t th)
{
	__atomic_store_n(t->stop, 1, __ATOMIC_RELAXED);
	pthread_join(tt, NULL);
	pthread_join(th, NULL);
}

#define TRACEFS	"/sys/kernel/debug/tracing/"

/*
 * Switch a pvmm_sched tracepoint on or off; returns the state it had, or
 * -1. It writes only on a change: each change live-patches kernel text on
 * every CPU, and QEMU's multi-threaded TCG can keep running the old code of
 * a site patched under a vCPU thread that loops through it (the test VM
 * livelocked so), which is why the test VM switches these on at boot.
 */
static int trace_event(const char *event, int on)
{
	char path[128], c;
	int fd, was;

	snprintf(path, sizeof(path), TRACEFS "events/pvmm_sched/%s/enable",
		 event);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return -1;
	was = read(fd, &c, 1) == 1 ? c == '1' : -1;
	if (was >= 0 && was != !!on &&
	    (lseek(fd, 0, SEEK_SET) || write(fd, on ? "1" : "0", 1) != 1))
		was = -1;
	close(fd);
	return was;
}

/* Lines of the trace buffer that contain both @a and @b. */
static int trace_lines(const char *a, const char *b)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(TRACEFS "trace", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, a) && strstr(line, b);
	fclose(f);
	return n;
}

/*
 * A vCPU beside a hog on CPU 1 whose VMM allows CPUs 1 and 3 (3 idle and
 * isolated: the load balancer never moves it there) is moved to 3, and
 * only there, as the tracepoints tell; with the policy off, the VMM's
 * mask comes back exactly.
 */
TEST_F_TIMEOUT(sched, place_moves_within_mask, 60)
{
	int stop = 0, cpu = -1, migrate_was, steal_was;
	struct vcpu_thread h;
	struct placed t = { &self->s, .stop = &stop, .check_mask = true };
	long long moves = -1;
	pthread_t tt, th;
	cpu_set_t now, want;

	if (!oc_possible())
		SKIP(return, "needs 4 CPUs, CPU 3 isolated (isolcpus=3)");
	t.last_from = vmm_now() + 2;
	/* an empty trace buffer, and the policy's events in it */
	close(open(TRACEFS "trace", O_WRONLY | O_TRUNC));
	migrate_was = trace_event("pvmm_sched_migrate", 1);
	steal_was = trace_event("pvmm_sched_steal", 1);
	ASSERT_LE(0, migrate_was);
	ASSERT_LE(0, steal_was);
	ASSERT_EQ(0, place_start(&t, &h, 1, 3, &tt, &th));
	usleep(3000000);
	trace_event("pvmm_sched_migrate", migrate_was);
	trace_event("pvmm_sched_steal", steal_was);
	EXPECT_EQ(1, trace_lines("pvmm_sched_migrate:", "cpu=1->3 "));
	EXPECT_EQ(1, trace_lines("pvmm_sched_migrate:", "err=0"));
	EXPECT_LT(0, trace_lines("pvmm_sched_steal:", "vcpu=0 "));
	EXPECT_EQ(0, place_stats(self->s.vm, 0, &moves, &cpu));
	EXPECT_EQ(0, sched_getaffinity(t.tid, sizeof(now), &now));
	CPU_ZERO(&want);
	CPU_SET(3, &want);
	EXPECT_TRUE(CPU_EQUAL(&now, &want));
	TH_LOG("moved %lld times, placed on %d; last second on CPU 1: %ld, 3: %ld samples",
	       moves, cpu, t.on_cpu[1], t.on_cpu[3]);
	/* once: alone on CPU 3 it has nothing to gain from another move */
	EXPECT_EQ(1, moves);
	EXPECT_EQ(3, cpu);
	EXPECT_EQ(0, t.on_cpu[1]);
	EXPECT_LT(0, t.on_cpu[3]);
	/* switched off: the VMM's mask back, not one CPU more */
	ASSERT_EQ(0, sched_param_set("place", 0));
	usleep(300000);
	EXPECT_EQ(0, sched_getaffinity(t.tid, sizeof(now), &now));
	EXPECT_TRUE(CPU_EQUAL(&now, &t.mask));
	EXPECT_EQ(0, place_stats(self->s.vm, 0, &moves, &cpu));
	EXPECT_EQ(-1, cpu);
	place_stop(&t, tt, th);
	ASSERT_EQ(0, t.err);
	EXPECT_EQ(0, t.outside);
}

/* A mask the VMM changes while the thread is placed is its new mask. */
TEST_F_TIMEOUT(sched, place_follows_vmm_mask, 60)
{
	int stop = 0, cpu = -1;
	struct vcpu_thread h;
	struct placed t = { &self->s, .stop = &stop };
	long long moves = -1;
	pthread_t tt, th;
	cpu_set_t now, vmm;

	if (!oc_possible())
		SKIP(return, "needs 4 CPUs, CPU 3 isolated (isolcpus=3)");
	t.last_from = vmm_now() + 100;
	ASSERT_EQ(0, place_start(&t, &h, 1, 3, &tt, &th));
	usleep(2000000);
	EXPECT_EQ(0, place_stats(self->s.vm, 0, &moves, &cpu));
	EXPECT_EQ(3, cpu);
	/* the VMM moves it to CPUs 0 and 2 */
	mask_of(&vmm, 0, 2);
	ASSERT_EQ(0, sched_setaffinity(t.tid, sizeof(vmm), &vmm));
	usleep(300000);
	EXPECT_EQ(0, place_stats(self->s.vm, 0, &moves, &cpu));
	/*
	 * Unplaced, or placed again by a later period: then inside the new
	 * mask (seen on the debug kernel: CPU 2 within 300 ms)
	 */
	EXPECT_TRUE(cpu == -1 || cpu == 0 || cpu == 2);
	ASSERT_EQ(0, sched_param_set("place", 0));
	usleep(300000);
	EXPECT_EQ(0, sched_getaffinity(t.tid, sizeof(now), &now));
	EXPECT_TRUE(CPU_EQUAL(&now, &vmm));
	place_stop(&t, tt, th);
	ASSERT_EQ(0, t.err);
}

/* A vCPU whose VMM allows one CPU is never moved, however it suffers. */
TEST_F_TIMEOUT(sched, place_never_moves_single_cpu, 60)
{
	int stop = 0, cpu = -2;
	struct vcpu_thread h;
	struct placed t = { &self->s, .stop = &stop, .check_mask = true };
	long long moves = -1;
	pthread_t tt, th;
	cpu_set_t now;
	__u64 rd0, rd1;
	char path[64];
	FILE *f;

	t.last_from = vmm_now() + 100;
	ASSERT_EQ(0, sched_param_set("place_residence_ms", 0));
	ASSERT_EQ(0, place_start(&t, &h, 1, 1, &tt, &th));
	usleep(200000);
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", t.tid);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%*u %llu", &rd0));
	fclose(f);
	usleep(2000000);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%*u %llu", &rd1));
	fclose(f);
	EXPECT_EQ(0, place_stats(self->s.vm, 0, &moves, &cpu));
	EXPECT_EQ(0, sched_getaffinity(t.tid, sizeof(now), &now));
	TH_LOG("run delay %llu ms in 2 s, moved %lld times",
	       (rd1 - rd0) / 1000000, moves);
	/* it did suffer: the policy had every reason to move it */
	EXPECT_LT(400000000ULL, rd1 - rd0);
	EXPECT_EQ(0, moves);
	EXPECT_EQ(-1, cpu);
	EXPECT_TRUE(CPU_EQUAL(&now, &t.mask));
	place_stop(&t, tt, th);
	ASSERT_EQ(0, t.err);
	EXPECT_EQ(0, t.outside);
}

/*
 * A thread left alone on a CPU nobody else uses is hardly ever scheduled
 * in again: the worker keeps its record current, steal rate included.
 */
TEST_F_TIMEOUT(sched, record_refreshed_alone, 60)
{
	int stop = 0, hog_stop = 0;
	struct vcpu_thread v = { &self->s, 0, 3, GPA + 0x1000, 0, &stop,
				 .spin = true };
	struct vcpu_thread h = { .cpu = 3, .stop = &hog_stop };
	const struct pvmm_steal_record *r = (const void *)(self->s.mem +
							   0x1000);
	__u32 busy_rate, v0, v1, rate;
	pthread_t tv, th;

	if (!oc_possible())
		SKIP(return, "needs 4 CPUs, CPU 3 isolated (isolcpus=3)");
	ASSERT_EQ(0, sched_param_set("place_period_ms", 50));
	ASSERT_EQ(0, pthread_create(&th, NULL, thread_hog, &h));
	ASSERT_EQ(0, pthread_create(&tv, NULL, thread_sleeper, &v));
	usleep(1500000);
	busy_rate = __atomic_load_n(&r->steal_rate, __ATOMIC_RELAXED);
	__atomic_store_n(&hog_stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	usleep(500000);
	v0 = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);
	usleep(1000000);
	v1 = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);
	rate = __atomic_load_n(&r->steal_rate, __ATOMIC_RELAXED);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(tv, NULL);
	ASSERT_EQ(0, v.err);
	TH_LOG("steal rate beside the hog %u, alone %u; %u updates in 1 s",
	       busy_rate, rate, (v1 - v0) / 2);
	EXPECT_LT(PVMM_STEAL_RATE_ONE / 4, busy_rate);
	EXPECT_GT(PVMM_STEAL_RATE_ONE / 20, rate);
	/* 20 periods of 50 ms; the rest of the kernel is far quieter there */
	EXPECT_LE(10, (v1 - v0) / 2);
}

/* The knobs refuse values outside their ranges; weights likewise. */
TEST_F(sched, place_knobs)
{
	struct pvmm_sched_weight w = {};
	struct pvmm_sched_info info;
	long long n;
	static const struct { const char *name; int lo, hi; } k[] = {
		{ "place_period_ms", 10, 10000 },
		{ "place_steal_pct", 1, 100 },
		{ "place_gain_pct", 0, 100 },
		{ "place_residence_ms", 0, 600000 },
		{ "place_max_moves", 0, 1024 },
	};
	static const int def[] = { 200, 20, 10, 1000, 4 };

	for (int i = 0; i < 5; i++) {
		if (k[i].lo > 0)
			EXPECT_EQ(-EINVAL, sched_param_set(k[i].name, k[i].lo - 1));
		EXPECT_EQ(-EINVAL, sched_param_set(k[i].name, k[i].hi + 1));
		EXPECT_EQ(-EINVAL, sched_param_set(k[i].name, -1));
		EXPECT_EQ(0, sched_param_set(k[i].name, k[i].lo));
		EXPECT_EQ(0, sched_param_set(k[i].name, k[i].hi));
		EXPECT_EQ(0, sched_param_set(k[i].name, def[i]));
	}
	EXPECT_EQ(-EINVAL, sched_param_set("place", 2));
	ASSERT_EQ(0, vmm_ioctl(self->s.vm, PVMM_SCHED_GET_INFO, &info));
	EXPECT_EQ(PVMM_SCHED_WEIGHT_DEFAULT, info.weight);
	EXPECT_EQ(0, info.migrations);
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->s.vm, PVMM_SCHED_SET_WEIGHT, &w));
	w.weight = PVMM_SCHED_WEIGHT_MAX + 1;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->s.vm, PVMM_SCHED_SET_WEIGHT, &w));
	w.weight = 300;
	w.reserved = 1;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->s.vm, PVMM_SCHED_SET_WEIGHT, &w));
	w.reserved = 0;
	EXPECT_EQ(0, vmm_ioctl(self->s.vm, PVMM_SCHED_SET_WEIGHT, &w));
	EXPECT_EQ(0, vmm_ioctl(self->s.vm, PVMM_SCHED_GET_INFO, &info));
	EXPECT_EQ(300, info.weight);
	/* the operator sees and sets the same weight */
	ASSERT_EQ(0, vmm_vm_stat(self->s.vm, &n, "sched/weight"));
	EXPECT_EQ(300, n);
	snprintf((char *)&info, sizeof(info), "vm%d/sched/weight",
		 vmm_vm_id(self->s.vm));
	EXPECT_EQ(0, vmm_sysfs_write((char *)&info, 250));
	EXPECT_EQ(-EINVAL, vmm_sysfs_write((char *)&info, 0));
	EXPECT_EQ(0, vmm_ioctl(self->s.vm, PVMM_SCHED_GET_INFO, &info));
	EXPECT_EQ(250, info.weight);
}

/* Thousands of vCPUs: MANY_VMS VMs of MANY_BOUND bound ones and a few never bound. */
#define MANY_VMS	3
#define MANY_BOUND	1000
#define MANY_IDS	1024		/* the hub's default max_vcpus */
#define MANY_REC	0x10000

struct many {
	struct vcpu_thread t;
	pthread_barrier_t *all;
};

/* Bind and enable, wait for all, run a little, wait for all, close. */
static void *thread_many(void *p)
{
	struct many *m = p;
	int vcpu = vcpu_bind_enable(&m->t);

	m->t.err = vcpu < 0;
	pthread_barrier_wait(m->all);
	for (int i = 0; i < 3; i++)
		usleep(2000);
	pthread_barrier_wait(m->all);
	/* the main thread reads the records of all bound vCPUs here */
	pthread_barrier_wait(m->all);
	if (vcpu >= 0)
		close(vcpu);
	return NULL;
}

/*
 * Thousands of vCPU threads bound at once, each with a record the host
 * keeps current, beside vCPUs that never bind: those keep an empty
 * record, and the service's worker and sysfs cope with all of them.
 */
TEST_F_TIMEOUT(sched, many_vcpus, 150)
{
	static struct many m[MANY_VMS * MANY_BOUND];
	static pthread_t th[MANY_VMS * MANY_BOUND];
	struct svm vms[MANY_VMS] = { self->s };
	int idle[MANY_VMS][MANY_IDS - MANY_BOUND];
	const int n = MANY_VMS * MANY_BOUND;
	int errs = 0, odd = 0, updated = 0, lines = 0;
	pthread_barrier_t all;
	pthread_attr_t attr;
	struct rlimit fds;

	/* a vCPU is a file: as a VMM of this size would, raise the limit */
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &fds));
	if (fds.rlim_cur < 2 * n) {
		fds.rlim_cur = 2 * n;
		fds.rlim_max = fds.rlim_max < fds.rlim_cur ? fds.rlim_cur :
							     fds.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &fds))
			SKIP(return, "needs %d open files", 2 * n);
	}
	for (int v = 1; v < MANY_VMS; v++)
		ASSERT_EQ(0, svm_open(&vms[v]));
	for (int v = 0; v < MANY_VMS; v++)
		for (int i = MANY_BOUND; i < MANY_IDS; i++) {
			idle[v][i - MANY_BOUND] = ioctl(vms[v].vm,
							PVMM_CREATE_VCPU, i);
			ASSERT_LE(0, idle[v][i - MANY_BOUND]);
		}
	ASSERT_EQ(0, pthread_barrier_init(&all, NULL, n + 1));
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (int i = 0; i < n; i++) {
		m[i].t = (struct vcpu_thread){ &vms[i / MANY_BOUND],
					       i % MANY_BOUND, 0,
					       GPA + MANY_REC +
					       64 * (i % MANY_BOUND) };
		m[i].all = &all;
		ASSERT_EQ(0, pthread_create(&th[i], &attr, thread_many, &m[i]));
	}
	pthread_barrier_wait(&all);	/* all bound */
	pthread_barrier_wait(&all);	/* all ran */
	for (int i = 0; i < n; i++) {
		const struct pvmm_steal_record *r = (const void *)
			(vms[i / MANY_BOUND].mem + MANY_REC +
			 64 * (i % MANY_BOUND));
		__u32 ver = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);

		/* the worker may be writing it this instant: odd only briefly */
		for (int k = 0; k < 1000 && (ver & 1); k++) {
			usleep(100);
			ver = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);
		}
		errs += m[i].t.err;
		odd += ver & 1;
		updated += ver > 2;
	}
	/* every vCPU in sysfs; the never-bound ones with no steal */
	for (int v = 0; v < MANY_VMS; v++) {
		for (int i = 0; i < MANY_IDS; i++)
			lines += sched_stat(vms[v].vm, i, "steal_ns") >= 0;
		EXPECT_EQ(0, sched_stat(vms[v].vm, MANY_IDS - 1, "steal_ns"));
	}
	pthread_barrier_wait(&all);	/* all close */
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	TH_LOG("%d vCPU threads bound at once in %d VMs, %d records updated",
	       n - errs, MANY_VMS, updated);
	EXPECT_EQ(0, errs);
	EXPECT_EQ(0, odd);
	EXPECT_EQ(n, updated);
	EXPECT_EQ(MANY_VMS * MANY_IDS, lines);
	for (int v = 0; v < MANY_VMS; v++) {
		for (int i = 0; i < MANY_IDS - MANY_BOUND; i++)
			close(idle[v][i]);
		if (v)
			svm_close(&vms[v]);
	}
	pthread_barrier_destroy(&all);
	EXPECT_EQ(0, vmm_sysfs_wait("pinned_pages", 0, 5000));
}

TEST_HARNESS_MAIN
