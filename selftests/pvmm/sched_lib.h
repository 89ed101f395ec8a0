/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lock-holder preemption, played by vCPU threads of one VM: more threads
 * than CPUs take turns on one spinlock. Plain waiters spin; PV waiters
 * look at the holder's steal record and, when the host marked it
 * preempted, give their CPU to it with PVMM_SCHED_YIELD_TO.
 */
#ifndef _PVMM_SCHED_LIB_H
#define _PVMM_SCHED_LIB_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <linux/pvmm_sched.h>

#include "pvmm_vmm.h"

#define LHP_GPA		0x100000ULL
#define LHP_MEM		(1024UL * 1024)
#define LHP_MAX		8
#define LHP_BUCKETS	200000		/* latency histogram, 1 us each */

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
	unsigned int *hist;
	long acquired;
	long yields;			/* YIELD_TO calls that yielded */
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
		bool yielded = false;

		while (!__atomic_compare_exchange_n(&l->lock, &free, t->id + 1,
						    false, __ATOMIC_ACQUIRE,
						    __ATOMIC_RELAXED)) {
			__u32 h = free;

			free = 0;
			/* one yield per acquisition: a waiter that yields
			 * loses its own turn, so yielding more starves it
			 */
			if (l->pv && h && !yielded && !(++spins & 63) &&
			    __atomic_load_n(&lhp_rec(l, h - 1)->preempted,
					    __ATOMIC_RELAXED)) {
				yielded = true;
				if (vmm_call2(vcpu, PVMM_SCHED_YIELD_TO, h - 1,
					      0) == 1)
					__atomic_fetch_add(&l->yields, 1,
							   __ATOMIC_RELAXED);
			}
			__builtin_ia32_pause();
		}
		us = (long)((vmm_now() - t0) * 1e6);
		__atomic_fetch_add(&l->hist[us < LHP_BUCKETS ? us : LHP_BUCKETS],
				   1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&l->acquired, 1, __ATOMIC_RELAXED);
		lhp_spin_ns(l->cs_ns);		/* the critical section */
		__atomic_store_n(&l->lock, 0, __ATOMIC_RELEASE);
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
	l->yields = 0;
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

#endif /* _PVMM_SCHED_LIB_H */
