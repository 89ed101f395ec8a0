/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lock-holder preemption, played by vCPU threads of one VM: more threads
 * than CPUs take turns on one spinlock. Plain waiters spin. PV waiters do
 * what a paravirtual spinlock does with the host's preempted flag
 * (pv_wait_early() in the kernel's qspinlock_paravirt.h): after 64 spins
 * they look at the holder's steal record and, when the host marked it
 * preempted, yield their CPU to it with PVMM_SCHED_YIELD_TO and halt until
 * the holder's unlock kicks them. A halted vCPU is its VMM thread blocked
 * in the host (KVM does halt and kick, not this service), so here halt
 * and kick are a futex wait on the lock word and a wake at unlock.
 */
#ifndef _PVMM_SCHED_LIB_H
#define _PVMM_SCHED_LIB_H

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <linux/pvmm_sched.h>

#include "libpvmm.h"

#define LHP_GPA		0x100000ULL
#define LHP_MEM		(1024UL * 1024)
#define LHP_MAX		8
#define LHP_BUCKETS	1000000		/* latency histogram, 1 us each */

struct lhp {
	int vm;
	int memfd;
	char *mem;
	int nthreads;
	int cpu0;			/* threads go on cpu0 and cpu0 + 1 */
	long cs_ns;			/* time in the critical section */
	long gap_ns;			/* time between two acquisitions */
	bool pv;
	double secs;
	__u32 lock;			/* holder + 1, or 0 */
	int halted;			/* PV waiters halted on the lock */
	unsigned int *hist;
	long acquired;
	long yields;			/* YIELD_TO calls that yielded */
	long halts;
	int errors;
};

struct lhp_thread {
	struct lhp *l;
	int id;
};

static inline void lhp_spin_ns(long ns)
{
	double end = vmm_now() + ns / 1e9;

	while (vmm_now() < end)
		;
}

static inline const struct pvmm_steal_record *lhp_rec(struct lhp *l, int id)
{
	return (const void *)(l->mem + 64 * id);
}

static inline void *lhp_thread(void *p)
{
	struct lhp_thread *t = p;
	struct lhp *l = t->l;
	double end = vmm_now() + l->secs;
	cpu_set_t set;
	int vcpu;

	CPU_ZERO(&set);
	CPU_SET(l->cpu0 + t->id % 2, &set);
	sched_setaffinity(0, sizeof(set), &set);
	vcpu = ioctl(l->vm, PVMM_CREATE_VCPU, t->id);
	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND) ||
	    vmm_call2(vcpu, PVMM_SCHED_STEAL_ENABLE, LHP_GPA + 64 * t->id, 0)) {
		__atomic_fetch_add(&l->errors, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	while (vmm_now() < end) {
		double t0 = vmm_now();
		__u32 free = 0;
		long spins = 0, us;

		while (!__atomic_compare_exchange_n(&l->lock, &free, t->id + 1,
						    false, __ATOMIC_SEQ_CST,
						    __ATOMIC_RELAXED)) {
			__u32 h = free;

			free = 0;
			__builtin_ia32_pause();
			if (!l->pv || !h || (++spins & 63) ||
			    !__atomic_load_n(&lhp_rec(l, h - 1)->preempted,
					     __ATOMIC_RELAXED))
				continue;
			if (vmm_call2(vcpu, PVMM_SCHED_YIELD_TO, h - 1, 0) == 1)
				__atomic_fetch_add(&l->yields, 1,
						   __ATOMIC_RELAXED);
			/* halt; the unlock sees halted != 0 or we see it */
			__atomic_fetch_add(&l->halted, 1, __ATOMIC_SEQ_CST);
			syscall(SYS_futex, &l->lock, FUTEX_WAIT_PRIVATE, h,
				NULL, NULL, 0);
			__atomic_fetch_sub(&l->halted, 1, __ATOMIC_SEQ_CST);
			__atomic_fetch_add(&l->halts, 1, __ATOMIC_RELAXED);
		}
		us = (long)((vmm_now() - t0) * 1e6);
		__atomic_fetch_add(&l->hist[us < LHP_BUCKETS ? us : LHP_BUCKETS],
				   1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&l->acquired, 1, __ATOMIC_RELAXED);
		lhp_spin_ns(l->cs_ns);		/* the critical section */
		__atomic_store_n(&l->lock, 0, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&l->halted, __ATOMIC_SEQ_CST))	/* kick */
			syscall(SYS_futex, &l->lock, FUTEX_WAKE_PRIVATE,
				INT_MAX, NULL, NULL, 0);
		lhp_spin_ns(l->gap_ns);
	}
	close(vcpu);
	return NULL;
}

/* Run the scenario once in a fresh VM; returns 0 or -1. */
static inline int lhp_run(struct lhp *l)
{
	struct lhp_thread t[LHP_MAX];
	pthread_t th[LHP_MAX];

	l->vm = vmm_open();
	l->mem = vmm_memfd_map(LHP_MEM, &l->memfd);
	l->hist = calloc(LHP_BUCKETS + 1, sizeof(*l->hist));
	l->lock = 0;
	l->acquired = 0;
	l->halted = 0;
	l->yields = 0;
	l->halts = 0;
	l->errors = 0;
	if (l->vm < 0 || !l->mem || !l->hist ||
	    vmm_set_slot(l->vm, 0, LHP_GPA, LHP_MEM, l->mem, l->memfd, 0) ||
	    vmm_ioctl(l->vm, PVMM_ENABLE_SERVICE, (void *)PVMM_SVC_SCHED))
		return -1;
	for (int i = 0; i < l->nthreads; i++) {
		t[i] = (struct lhp_thread){ l, i };
		if (pthread_create(&th[i], NULL, lhp_thread, &t[i]))
			return -1;
	}
	for (int i = 0; i < l->nthreads; i++)
		pthread_join(th[i], NULL);
	close(l->vm);
	munmap(l->mem, LHP_MEM);
	close(l->memfd);
	return l->errors ? -1 : 0;
}

/* Latency percentile in microseconds. */
static inline long lhp_pct(const struct lhp *l, double pct)
{
	return vmm_hist_pct(l->hist, LHP_BUCKETS, l->acquired, pct);
}

/* Set one of pvmm_sched's module parameters: 0 or -errno. */
static inline int sched_param_set(const char *name, int value)
{
	char path[96];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "/sys/module/pvmm_sched/parameters/%s",
		 name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	r = fprintf(f, "%d\n", value) > 0 ? 0 : -errno;
	if (fclose(f) && !r)
		r = -errno;
	return r;
}

/*
 * Overcommit: OC_THREADS vCPU threads whose VMM allows them CPUs 2 and 3
 * (CPU 3 is isolated from the kernel's load balancing, as CPUs reserved
 * for guests often are, so a thread stays where it was put) and places
 * them round-robin, vCPU i on CPU 2 + i % 2. The even vCPUs are busy,
 * the odd ones light (1 ms of work every 10 ms), and a background hog
 * shares CPU 2: both busy vCPUs start beside it. Work is counted in
 * fixed units of computation.
 */
#define OC_THREADS	4

struct oc {
	int vm;
	int memfd;
	char *mem;
	double secs;
	long work;			/* units done by all vCPUs */
	long long moves;		/* by the placement policy */
	int errors;
};

struct oc_thread {
	struct oc *o;
	int id;
};

static inline void oc_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* One unit of work: a loop the compiler may not fold away. */
static inline long oc_unit(void)
{
	long x = 0;

	for (int k = 0; k < 2000; k++) {
		x += k;
		asm volatile("" : "+r" (x));
	}
	return 1;
}

static inline void *oc_vcpu(void *p)
{
	struct oc_thread *t = p;
	struct oc *o = t->o;
	double end = vmm_now() + o->secs;
	long work = 0;
	cpu_set_t set;
	int vcpu;

	oc_pin(2 + t->id % 2);
	vcpu = ioctl(o->vm, PVMM_CREATE_VCPU, t->id);
	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND)) {
		__atomic_fetch_add(&o->errors, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	CPU_ZERO(&set);
	CPU_SET(2, &set);
	CPU_SET(3, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* the VMM's mask */
	while (vmm_now() < end) {
		if (t->id % 2) {
			double until = vmm_now() + 0.001;

			while (vmm_now() < until)
				work += oc_unit();
			usleep(9000);
		} else {
			for (int k = 0; k < 100; k++)
				work += oc_unit();
		}
	}
	__atomic_fetch_add(&o->work, work, __ATOMIC_RELAXED);
	close(vcpu);
	return NULL;
}

static inline void *oc_hog(void *p)
{
	int *stop = p;

	oc_pin(2);
	while (!__atomic_load_n(stop, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* True when CPU 3 exists and is isolated from load balancing. */
static inline bool oc_possible(void)
{
	char buf[64] = "";
	FILE *f = fopen("/sys/devices/system/cpu/isolated", "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && !strcmp(buf, "3\n");
	fclose(f);
	return ok && sysconf(_SC_NPROCESSORS_ONLN) >= 4;
}

/* One run in a fresh VM; returns 0 or -1. */
static inline int oc_run(struct oc *o)
{
	struct pvmm_sched_info info;
	struct oc_thread t[OC_THREADS];
	pthread_t th[OC_THREADS], hog;
	int stop = 0;

	o->vm = vmm_open();
	o->mem = vmm_memfd_map(LHP_MEM, &o->memfd);
	o->work = 0;
	o->errors = 0;
	if (o->vm < 0 || !o->mem ||
	    vmm_set_slot(o->vm, 0, LHP_GPA, LHP_MEM, o->mem, o->memfd, 0) ||
	    vmm_ioctl(o->vm, PVMM_ENABLE_SERVICE, (void *)PVMM_SVC_SCHED) ||
	    pthread_create(&hog, NULL, oc_hog, &stop))
		return -1;
	for (int i = 0; i < OC_THREADS; i++) {
		t[i] = (struct oc_thread){ o, i };
		if (pthread_create(&th[i], NULL, oc_vcpu, &t[i]))
			return -1;
	}
	for (int i = 0; i < OC_THREADS; i++)
		pthread_join(th[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(hog, NULL);
	o->moves = vmm_ioctl(o->vm, PVMM_SCHED_GET_INFO, &info) ? -1 :
		   (long long)info.migrations;
	close(o->vm);
	munmap(o->mem, LHP_MEM);
	close(o->memfd);
	return o->errors ? -1 : 0;
}

#endif /* _PVMM_SCHED_LIB_H */
