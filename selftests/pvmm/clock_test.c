// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm clock service selftests: this process is the VMM and the guest.
 * Guest reads go through the shared record reader on the memfd mapping,
 * exactly as a guest reads its memory.
 *
 * Needs pvmm.ko and pvmm_clock.ko loaded, debugfs mounted, and root (the
 * slewing test steers the host clock with adjtimex).
 */
#include <pthread.h>
#include <stddef.h>

#include "clock_lib.h"
#include "kselftest_harness.h"

/* Without the hub or the service, the whole program is skipped. */
static void __attribute__((constructor)) needs_services(void)
{
	const char *why = vmm_missing(1ULL << PVMM_SVC_CLOCK);

	if (why)
		ksft_exit_skip("%s\n", why);
}

#define MEM_SIZE	(4UL << 20)
#define GPA		0x100000ULL
#define REC		0x1000		/* offset of vCPU 0's record */

/* The first 32 bytes are struct pvclock_vcpu_time_info, byte for byte. */
TEST(record_layout)
{
	EXPECT_EQ(PVMM_CLOCK_RECORD_SIZE, sizeof(struct pvmm_clock_record));
	EXPECT_EQ(8, offsetof(struct pvmm_clock_record, tsc_timestamp));
	EXPECT_EQ(16, offsetof(struct pvmm_clock_record, system_time));
	EXPECT_EQ(24, offsetof(struct pvmm_clock_record, tsc_to_system_mul));
	EXPECT_EQ(28, offsetof(struct pvmm_clock_record, tsc_shift));
	EXPECT_EQ(29, offsetof(struct pvmm_clock_record, flags));
	EXPECT_EQ(32, offsetof(struct pvmm_clock_record, boot_offset_ns));
}

FIXTURE(clock) {
	struct clock_vm c;
	struct pvmm_clock_record *rec;
};

FIXTURE_SETUP(clock)
{
	ASSERT_EQ(0, vmm_sysfs_wait("pinned_pages", 0, 5000));
	ASSERT_EQ(0, clock_vm_open(&self->c, MEM_SIZE, GPA));
	self->rec = (struct pvmm_clock_record *)(self->c.mem + REC);
	ASSERT_EQ(0, vmm_call2(self->c.vcpu, PVMM_CLOCK_ENABLE, GPA + REC, 0));
}

FIXTURE_TEARDOWN(clock)
{
	clock_vm_close(&self->c);
}

static __u64 rec_read(const struct pvmm_clock_record *rec)
{
	__u8 flags;

	return pvmm_clock_read(rec, &flags);
}

/*
 * The record within 1 ms of CLOCK_MONOTONIC read before and after it, so
 * that a test-VM vCPU preempted between the reads cannot fail the check.
 */
static bool rec_near_mono(const struct pvmm_clock_record *rec, __u64 *t1,
			  __u64 *pv, __u64 *t2)
{
	*t1 = clock_now(CLOCK_MONOTONIC);
	*pv = rec_read(rec);
	*t2 = clock_now(CLOCK_MONOTONIC);
	return *t1 <= *pv + 1000000 && *pv <= *t2 + 1000000;
}

TEST_F(clock, record_and_info)
{
	bool tsc = clock_host_tsc();
	__s64 info = vmm_call2(self->c.vcpu, PVMM_CLOCK_INFO, 0, 0);
	__u8 flags;

	EXPECT_EQ(0, self->rec->version & 1);
	EXPECT_LT(0, self->rec->version);
	EXPECT_EQ(tsc, !!(info & PVMM_CLOCK_INFO_TSC_STABLE));
	EXPECT_NE(0, info & PVMM_CLOCK_INFO_EXT);
	pvmm_clock_read(self->rec, &flags);
	EXPECT_EQ(tsc ? PVMM_CLOCK_TSC_STABLE : 0, flags);
	EXPECT_EQ(0, self->rec->pad0);
	EXPECT_EQ(0, self->rec->reserved[0] | self->rec->reserved[1]);
	TH_LOG("host clocksource %s, mul %u shift %d", tsc ? "tsc" : "other",
	       self->rec->tsc_to_system_mul, self->rec->tsc_shift);
}

TEST_F(clock, reads_are_clock_monotonic)
{
	int close_enough = 0;

	for (int i = 0; i < 2000; i++) {
		__u64 t1 = clock_now(CLOCK_MONOTONIC);
		__u64 pv = rec_read(self->rec);
		__u64 t2 = clock_now(CLOCK_MONOTONIC);

		ASSERT_LE(t1 - 1000, pv);
		ASSERT_GE(t2 + 1000, pv);
		close_enough += t2 - t1 < 2000;
	}
	EXPECT_LT(1000, close_enough);
}

TEST_F(clock, boot_offset)
{
	__u64 mono = clock_now(CLOCK_MONOTONIC);
	__u64 boot = clock_now(CLOCK_BOOTTIME);
	__u64 off = self->rec->boot_offset_ns;

	EXPECT_GE(boot - mono + 1000000, off);
	EXPECT_LE(boot - mono, off + 1000000);
}

TEST_F(clock, hostile_enable)
{
	int v = self->c.vcpu;
	__u32 ver;

	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_CLOCK_ENABLE, GPA + REC + 8, 0));
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_CLOCK_ENABLE, GPA + REC + 32, 0));
	/* 32 bytes before a page end: unaligned, it would cross the page */
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_CLOCK_ENABLE, GPA + 4096 - 32,
				     0));
	EXPECT_EQ(-EFAULT, vmm_call2(v, PVMM_CLOCK_ENABLE, GPA + MEM_SIZE, 0));
	EXPECT_EQ(-EFAULT, vmm_call2(v, PVMM_CLOCK_ENABLE, GPA - 64, 0));
	EXPECT_EQ(-EFAULT, vmm_call2(v, PVMM_CLOCK_ENABLE, ~63ULL, 0));
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_CLOCK_ENABLE, ~0ULL, 0));
	EXPECT_EQ(-EOPNOTSUPP, vmm_call2(v, PVMM_CALL_NR(PVMM_SVC_CLOCK, 99),
					 0, 0));
	/* A failed enable leaves the clock disabled, never half-enabled. */
	EXPECT_EQ(0, vmm_sysfs_read("pinned_pages"));
	ver = self->rec->version;
	usleep(20000);
	EXPECT_EQ(ver, self->rec->version);
	/* Enable moves the record; the old place is no longer written. */
	ASSERT_EQ(0, vmm_call2(v, PVMM_CLOCK_ENABLE, GPA + REC, 0));
	ASSERT_EQ(0, vmm_call2(v, PVMM_CLOCK_ENABLE, GPA + 0x2040, 0));
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	ver = self->rec->version;
	EXPECT_LT(0, ((struct pvmm_clock_record *)(self->c.mem + 0x2040))->
		  version);
	EXPECT_EQ(0, vmm_call2(v, PVMM_CLOCK_DISABLE, 0, 0));
	EXPECT_EQ(0, vmm_call2(v, PVMM_CLOCK_DISABLE, 0, 0));
	EXPECT_EQ(0, vmm_sysfs_read("pinned_pages"));
	usleep(20000);
	EXPECT_EQ(ver, self->rec->version);
}

struct storm {
	int vm;
	int id;
	__u64 gpa;
	int bad;
};

static void *thread_storm(void *p)
{
	struct storm *s = p;
	int vcpu = ioctl(s->vm, PVMM_CREATE_VCPU, s->id);

	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND)) {
		s->bad = 1000;
		return NULL;
	}
	for (int i = 0; i < 300; i++) {
		__s64 r = vmm_call2(vcpu, PVMM_CLOCK_ENABLE,
				    s->gpa + (i & 7) * 64, 0);

		s->bad += r != 0;
		s->bad += vmm_call2(vcpu, PVMM_CLOCK_ENABLE, s->gpa + 8, 0) !=
			  -EINVAL;
		if (i & 1)
			s->bad += vmm_call2(vcpu, PVMM_CLOCK_DISABLE, 0, 0) != 0;
		s->bad += vmm_call2(vcpu, PVMM_CLOCK_INFO, 0, 0) < 0;
	}
	close(vcpu);
	return NULL;
}

/* Enable/disable storms from four vCPU threads at once, then teardown. */
TEST_F(clock, enable_disable_storm)
{
	struct storm s[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		s[i] = (struct storm){ self->c.vm, i + 1,
				       GPA + 0x10000 * (i + 1), 0 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, thread_storm, &s[i]));
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, s[i].bad);
	}
	EXPECT_EQ(1, vmm_sysfs_wait("pinned_pages", 1, 3000));
}

struct mono_reader {
	const struct pvmm_clock_record *rec;
	int cpu;
	double end;
	long reads;
	long backwards;
};

static __u64 global_max;

/* Each reader checks every read against the latest any reader saw. */
static void *thread_mono(void *p)
{
	struct mono_reader *r = p;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (vmm_now() < r->end) {
		for (int i = 0; i < 1000; i++) {
			__u64 seen = __atomic_load_n(&global_max,
						     __ATOMIC_SEQ_CST);
			__u64 t = r->rec ? rec_read(r->rec) :
					   PVMM_CLOCK_RDTSC();

			if (t < seen)
				r->backwards++;
			while (t > seen &&
			       !__atomic_compare_exchange_n(&global_max, &seen,
							    t, false,
							    __ATOMIC_SEQ_CST,
							    __ATOMIC_SEQ_CST))
				;
		}
		r->reads += 1000;
	}
	return NULL;
}

struct mono_vcpu {
	int vm;
	int id;
	__u64 gpa;
	struct mono_reader r;
};

static void *thread_vcpu_mono(void *p)
{
	struct mono_vcpu *m = p;
	int vcpu = ioctl(m->vm, PVMM_CREATE_VCPU, m->id);

	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND) ||
	    vmm_call2(vcpu, PVMM_CLOCK_ENABLE, m->gpa, 0)) {
		m->r.backwards = -1;
		return NULL;
	}
	thread_mono(&m->r);
	close(vcpu);
	return NULL;
}

/* Four vCPU threads on four CPUs, each reading its own record. */
TEST_F_TIMEOUT(clock, cross_vcpu_monotonic, 60)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct mono_vcpu m[4];
	pthread_t t[4];
	long reads = 0;

	if (ncpu < 2)
		SKIP(return, "needs two CPUs");
	global_max = 0;
	for (int i = 0; i < 4; i++) {
		m[i] = (struct mono_vcpu){ self->c.vm, i + 1,
					   GPA + 0x3000 + 64 * i };
		m[i].r = (struct mono_reader){
			(struct pvmm_clock_record *)(self->c.mem + 0x3000 +
						     64 * i),
			i % ncpu, vmm_now() + 5,
		};
		ASSERT_EQ(0, pthread_create(&t[i], NULL, thread_vcpu_mono,
					    &m[i]));
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, m[i].r.backwards);
		reads += m[i].r.reads;
	}
	TH_LOG("%ld reads on %d CPUs", reads, ncpu);
	EXPECT_LT(10000, reads);
}

/* The TSC itself never goes back across CPUs when records say stable. */
TEST(host_tsc_monotonic_across_cpus)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct mono_reader r[4];
	pthread_t t[4];

	if (!clock_host_tsc())
		SKIP(return, "host clocksource is not the TSC");
	global_max = 0;
	for (int i = 0; i < 4; i++) {
		r[i] = (struct mono_reader){ NULL, i % ncpu, vmm_now() + 2 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL,
					    (void *(*)(void *))thread_mono,
					    &r[i]));
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, r[i].backwards);
	}
}

TEST_F(clock, disruption_and_guest_stopped)
{
	struct pvmm_clock_disrupt d = { .flags = 1U << 7 };
	struct pvmm_clock_info info;
	long long n;
	__u8 flags;

	pvmm_clock_read(self->rec, &flags);
	EXPECT_EQ(0, flags & PVMM_CLOCK_GUEST_STOPPED);
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->c.vm, PVMM_CLOCK_DISRUPT, &d));
	d.flags = PVMM_CLOCK_DISRUPT_STOPPED;
	d.reserved = 1;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->c.vm, PVMM_CLOCK_DISRUPT, &d));
	d.reserved = 0;
	ASSERT_EQ(0, vmm_ioctl(self->c.vm, PVMM_CLOCK_DISRUPT, &d));
	pvmm_clock_read(self->rec, &flags);
	EXPECT_NE(0, flags & PVMM_CLOCK_GUEST_STOPPED);
	EXPECT_EQ(1, self->rec->disruptions);
	/* It stays across host rewrites until the guest clears it. */
	usleep(20000);
	ASSERT_EQ(0, vmm_call2(self->c.vcpu, PVMM_CLOCK_ENABLE, GPA + REC, 0));
	pvmm_clock_read(self->rec, &flags);
	EXPECT_NE(0, flags & PVMM_CLOCK_GUEST_STOPPED);
	__atomic_fetch_and(&self->rec->flags, ~PVMM_CLOCK_GUEST_STOPPED,
			   __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, vmm_call2(self->c.vcpu, PVMM_CLOCK_ENABLE, GPA + REC, 0));
	pvmm_clock_read(self->rec, &flags);
	EXPECT_EQ(0, flags & PVMM_CLOCK_GUEST_STOPPED);
	/* A migration without a pause only counts. */
	d.flags = 0;
	ASSERT_EQ(0, vmm_ioctl(self->c.vm, PVMM_CLOCK_DISRUPT, &d));
	EXPECT_EQ(2, self->rec->disruptions);
	pvmm_clock_read(self->rec, &flags);
	EXPECT_EQ(0, flags & PVMM_CLOCK_GUEST_STOPPED);
	ASSERT_EQ(0, vmm_ioctl(self->c.vm, PVMM_CLOCK_GET_INFO, &info));
	EXPECT_EQ(2, info.disruptions);
	EXPECT_NE(0, info.info & PVMM_CLOCK_INFO_EXT);
	ASSERT_EQ(0, vmm_vm_stat(self->c.vm, &n, "clock/disruptions"));
	EXPECT_EQ(2, n);
	/* the same number with another size is another control */
	EXPECT_EQ(-ENOTTY, vmm_ioctl(self->c.vm,
				     _IOW(PVMM_IOCTL_MAGIC, PVMM_CTL_CLOCK + 0,
					  __u32), &d));
}

TEST_F(clock, offsets)
{
	struct pvmm_clock_offsets o = { .ns = 5000000000LL };
	struct pvmm_clock_info info;
	__u64 t1, pv, t2, shift;

	ASSERT_EQ(0, vmm_ioctl(self->c.vm, PVMM_CLOCK_SET_OFFSETS, &o));
	rec_near_mono(self->rec, &t1, &pv, &t2);
	EXPECT_TRUE(t1 + 5000000000ULL <= pv + 1000000 &&
		    pv <= t2 + 5000000000ULL + 1000000)
		TH_LOG("%llu .. %llu - 5 s .. %llu", t1, pv, t2);
	/*
	 * A guest TSC behind the host's: this host-TSC reader runs ahead.
	 * Not one ahead of it: the record's TSC would then be later than
	 * the host's until the host's snapshot is 2^30 cycles old, and
	 * pvclock's unsigned delta has no meaning below it (a guest reads
	 * its own TSC, never below the record's).
	 */
	o.ns = 0;
	o.tsc = -(1LL << 30);
	ASSERT_EQ(0, vmm_ioctl(self->c.vm, PVMM_CLOCK_SET_OFFSETS, &o));
	shift = pvmm_clock_scale(1ULL << 30, self->rec->tsc_to_system_mul,
				 self->rec->tsc_shift);
	rec_near_mono(self->rec, &t1, &pv, &t2);
	EXPECT_TRUE(t1 + shift <= pv + 1000000 && pv <= t2 + shift + 1000000)
		TH_LOG("%llu .. %llu - %llu .. %llu", t1, pv, shift, t2);
	/* Never a negative guest clock. */
	o.ns = -(__s64)(clock_now(CLOCK_MONOTONIC) + 1000000000ULL);
	o.tsc = 0;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->c.vm, PVMM_CLOCK_SET_OFFSETS, &o));
	o.ns = (__s64)(1ULL << 63);			/* S64_MIN */
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->c.vm, PVMM_CLOCK_SET_OFFSETS, &o));
	ASSERT_EQ(0, vmm_ioctl(self->c.vm, PVMM_CLOCK_GET_INFO, &info));
	EXPECT_EQ(0, info.ns);
	EXPECT_EQ(-(1LL << 30), info.tsc);
}

/* A memslot change unpins the record; the service pins it again. */
TEST_F(clock, memslot_change)
{
	__u64 t1, pv, t2;
	__u32 ver;

	ASSERT_EQ(1, vmm_sysfs_read("pinned_pages"));
	ASSERT_EQ(0, vmm_set_slot(self->c.vm, 0, 0, 0, NULL, -1, 0));
	EXPECT_EQ(0, vmm_sysfs_read("pinned_pages"));
	ver = self->rec->version;
	usleep(20000);
	EXPECT_EQ(ver, self->rec->version);
	ASSERT_EQ(0, vmm_set_slot(self->c.vm, 0, GPA, MEM_SIZE, self->c.mem,
				  self->c.memfd, 0));
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	EXPECT_LT(ver, self->rec->version);
	EXPECT_TRUE(rec_near_mono(self->rec, &t1, &pv, &t2))
		TH_LOG("record %llu, CLOCK_MONOTONIC %llu and %llu", pv, t1, t2);
}

/*
 * A hole punched in the memfd under the record: the host pins the page
 * the guest sees there now and writes the whole record into it again.
 */
TEST_F(clock, record_survives_hole_punch)
{
	__u64 t1, pv, t2;

	ASSERT_EQ(1, vmm_sysfs_read("pinned_pages"));
	ASSERT_EQ(0, fallocate(self->c.memfd, FALLOC_FL_PUNCH_HOLE |
			       FALLOC_FL_KEEP_SIZE, REC & ~4095UL, 4096));
	EXPECT_EQ(1, vmm_sysfs_wait("pinned_pages", 1, 2000));
	usleep(20000);
	EXPECT_EQ(0, self->rec->version & 1);
	EXPECT_LT(0, self->rec->version);
	EXPECT_NE(0, self->rec->tsc_to_system_mul);
	EXPECT_TRUE(rec_near_mono(self->rec, &t1, &pv, &t2))
		TH_LOG("record %llu, CLOCK_MONOTONIC %llu and %llu", pv, t1, t2);
}

/*
 * |record - CLOCK_MONOTONIC| while the host slews its clock at +500 and
 * -500 ppm, then while the vCPU thread hops between CPUs: 30 s in all.
 */
TEST_F_TIMEOUT(clock, accuracy_while_slewing, 120)
{
	struct clock_err e;
	__u64 p99;

	if (!clock_host_tsc())
		SKIP(return, "host clocksource is not the TSC");
	clock_err_init(&e);
	ASSERT_NE(NULL, e.hist);
	ASSERT_EQ(0, clock_slew_ppm(500));
	clock_err_run(&e, self->rec, 10, false);
	ASSERT_EQ(0, clock_slew_ppm(-500));
	clock_err_run(&e, self->rec, 10, false);
	ASSERT_EQ(0, clock_slew_ppm(0));
	clock_err_run(&e, self->rec, 10, true);
	p99 = clock_err_pct(&e, 99);
	TH_LOG("%ld samples (%ld dropped): p50 %llu p99 %llu max %llu ns",
	       e.samples, e.dropped, clock_err_pct(&e, 50), p99, e.max_ns);
	TH_LOG("largest read outside its bracket: %llu ns", e.outside_ns);
	EXPECT_LT(1000, e.samples);
	EXPECT_GT(e.samples, e.dropped * 10);
	EXPECT_GE(1000, p99);
	EXPECT_GE(1000, e.max_ns);
	EXPECT_GE(1000, e.outside_ns);
	free(e.hist);
}

/*
 * Many records: a host clock change rewrites at most 64 of them in hard
 * IRQ context, the rest from a worker, and every one of them ends on the
 * same host clock as a small VM's.
 */
#define MANY_THREADS	50
#define MANY_PER_THREAD	4	/* max_bindings_per_thread */

struct many {
	int vm;
	char *mem;
	pthread_barrier_t ready, done;
	int errors;
};

struct many_thread {
	struct many *m;
	int first;
};

static void *many_bind(void *arg)
{
	struct many_thread *t = arg;
	int fd[MANY_PER_THREAD], i;

	for (i = 0; i < MANY_PER_THREAD; i++) {
		fd[i] = ioctl(t->m->vm, PVMM_CREATE_VCPU, t->first + i);
		if (fd[i] < 0 || ioctl(fd[i], PVMM_VCPU_BIND) ||
		    vmm_call2(fd[i], PVMM_CLOCK_ENABLE,
			      (t->first + i) * PVMM_CLOCK_RECORD_SIZE, 0))
			__atomic_add_fetch(&t->m->errors, 1, __ATOMIC_RELAXED);
	}
	pthread_barrier_wait(&t->m->ready);
	pthread_barrier_wait(&t->m->done);
	for (i = 0; i < MANY_PER_THREAD; i++)
		close(fd[i]);
	return NULL;
}

/* The host clock a record was built from, read as a guest reads it. */
static int many_snap(const struct pvmm_clock_record *r, __u64 out[3])
{
	for (int tries = 0; tries < 1000; tries++) {
		__u32 v = __atomic_load_n(&r->version, __ATOMIC_ACQUIRE);

		out[0] = __atomic_load_n(&r->tsc_timestamp, __ATOMIC_RELAXED);
		out[1] = __atomic_load_n(&r->system_time, __ATOMIC_RELAXED);
		out[2] = __atomic_load_n(&r->tsc_to_system_mul,
					 __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(v & 1) &&
		    v == __atomic_load_n(&r->version, __ATOMIC_RELAXED))
			return 0;
	}
	return -1;
}

TEST(refresh_of_many_records)
{
	const int n = MANY_THREADS * MANY_PER_THREAD;
	struct many_thread th[MANY_THREADS];
	pthread_t tid[MANY_THREADS];
	struct pvmm_clock_record *rec;
	struct clock_vm small;
	struct many m = {};
	__u64 want[3], got[3];
	int i, memfd, round, same = 0;
	long irq_max = -1;
	FILE *f;

	if (!clock_host_tsc())
		SKIP(return, "the host clocksource is not the TSC");
	ASSERT_EQ(0, clock_vm_open(&small, 1 << 20, 0));
	ASSERT_EQ(0, vmm_call2(small.vcpu, PVMM_CLOCK_ENABLE, 0, 0));
	m.vm = vmm_open();
	m.mem = vmm_memfd_map(1 << 20, &memfd);
	ASSERT_LE(0, m.vm);
	ASSERT_NE(NULL, m.mem);
	ASSERT_EQ(0, vmm_set_slot(m.vm, 0, 0, 1 << 20, m.mem, memfd, 0));
	ASSERT_EQ(0, vmm_ioctl(m.vm, PVMM_ENABLE_SERVICE,
			       (void *)PVMM_SVC_CLOCK));
	pthread_barrier_init(&m.ready, NULL, MANY_THREADS + 1);
	pthread_barrier_init(&m.done, NULL, MANY_THREADS + 1);
	for (i = 0; i < MANY_THREADS; i++) {
		th[i].m = &m;
		th[i].first = i * MANY_PER_THREAD;
		ASSERT_EQ(0, pthread_create(&tid[i], NULL, many_bind, &th[i]));
	}
	pthread_barrier_wait(&m.ready);
	EXPECT_EQ(0, m.errors);

	/* the host clock changes many times while slewing */
	ASSERT_EQ(0, clock_slew_ppm(500));
	usleep(500000);
	ASSERT_EQ(0, clock_slew_ppm(0));
	/* then every record, small VM's and many, shows the same clock */
	rec = (struct pvmm_clock_record *)m.mem;
	for (round = 0; round < 50 && same < n; round++) {
		usleep(20000);
		if (many_snap((struct pvmm_clock_record *)small.mem, want))
			continue;
		for (same = 0, i = 0; i < n; i++)
			if (!many_snap(&rec[i], got) &&
			    !memcmp(got, want, sizeof(got)))
				same++;
	}
	EXPECT_EQ(n, same);
	f = fopen("/sys/module/pvmm_clock/parameters/irq_records_max", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%ld", &irq_max));
	fclose(f);
	TH_LOG("%d of %d records on the small VM's clock after %d rounds",
	       same, n, round);
	TH_LOG("at most %ld records per irq_work", irq_max);
	EXPECT_LE(1, irq_max);
	EXPECT_GE(64, irq_max);

	pthread_barrier_wait(&m.done);
	for (i = 0; i < MANY_THREADS; i++)
		pthread_join(tid[i], NULL);
	close(m.vm);
	close(memfd);
	clock_vm_close(&small);
}

TEST_HARNESS_MAIN
