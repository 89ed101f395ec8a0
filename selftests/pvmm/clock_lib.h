/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest library for the clock service, for programs that play the guest:
 * the shared record reader with user-space TSC and barriers, and the
 * error measurement against CLOCK_MONOTONIC used by tests and benchmarks.
 */
#ifndef _PVMM_CLOCK_LIB_H
#define _PVMM_CLOCK_LIB_H

#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/timex.h>
#include <linux/types.h>

#include "libpvmm.h"

static inline __u64 clock_now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Whether the kernel's clocksource is the TSC (then records are stable). */
static inline bool clock_host_tsc(void)
{
	char buf[32] = "";
	int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		      O_RDONLY);

	if (fd < 0)
		return false;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return !strncmp(buf, "tsc", 3);
}

/* Shift the host clock's frequency by @ppm, as NTP would (needs root). */
static inline int clock_slew_ppm(long ppm)
{
	struct timex tx = { .modes = ADJ_FREQUENCY, .freq = ppm * 65536 };

	return adjtimex(&tx) < 0 ? -errno : 0;
}

#define ERR_BUCKETS	100000		/* 1 ns each; beyond is counted last */
/*
 * A sample brackets a record read between two CLOCK_MONOTONIC reads. Its
 * error is taken against their midpoint, so a bracket of width w adds up
 * to w/2 of measurement error: wider brackets (an interrupt hit) are
 * dropped and counted. A read outside its own bracket is a provable
 * error, whatever the width.
 */
#define ERR_WINDOW_NS	1000

struct clock_err {
	unsigned int *hist;
	long samples;
	long dropped;
	__u64 max_ns;		/* max |record - midpoint| */
	__u64 outside_ns;	/* max distance of a read outside its bracket */
};

static inline void clock_err_init(struct clock_err *e)
{
	memset(e, 0, sizeof(*e));
	e->hist = calloc(ERR_BUCKETS + 1, sizeof(*e->hist));
}

/*
 * Sample |record - CLOCK_MONOTONIC| for @secs: each sample brackets one
 * record read between two vDSO reads and compares with their midpoint.
 * With @migrate, the thread hops to the next CPU every 10 ms.
 */
static inline void clock_err_run(struct clock_err *e,
				 const struct pvmm_clock_record *rec,
				 double secs, bool migrate)
{
	double end = vmm_now() + secs, hop = 0;
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), cpu = 0;

	while (vmm_now() < end) {
		__u64 t1, t2, pv, mid, err;
		__u8 flags;

		if (migrate && vmm_now() > hop) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu++ % ncpu, &set);
			sched_setaffinity(0, sizeof(set), &set);
			hop = vmm_now() + 0.01;
		}
		for (int i = 0; i < 1000; i++) {
			t1 = clock_now(CLOCK_MONOTONIC);
			pv = pvmm_clock_read(rec, &flags);
			t2 = clock_now(CLOCK_MONOTONIC);
			if (pv < t1 && t1 - pv > e->outside_ns)
				e->outside_ns = t1 - pv;
			if (pv > t2 && pv - t2 > e->outside_ns)
				e->outside_ns = pv - t2;
			if (t2 - t1 > ERR_WINDOW_NS) {
				e->dropped++;
				continue;
			}
			mid = t1 + (t2 - t1) / 2;
			err = pv > mid ? pv - mid : mid - pv;
			e->hist[err < ERR_BUCKETS ? err : ERR_BUCKETS]++;
			if (err > e->max_ns)
				e->max_ns = err;
			e->samples++;
		}
	}
	if (migrate) {
		cpu_set_t set;

		CPU_ZERO(&set);
		for (int i = 0; i < ncpu; i++)
			CPU_SET(i, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
}

static inline __u64 clock_err_pct(const struct clock_err *e, double pct)
{
	return vmm_hist_pct(e->hist, ERR_BUCKETS, e->samples, pct);
}

/* A VM with one memfd slot, the clock service and one bound vCPU. */
struct clock_vm {
	struct vmm_vm v;
	int vm;
	int vcpu;
	int memfd;
	char *mem;
	size_t size;
	__u64 gpa;
};

static inline int clock_vm_open(struct clock_vm *c, size_t size, __u64 gpa)
{
	c->size = size;
	c->gpa = gpa;
	if (vmm_vm_create(&c->v, gpa, size, 0) ||
	    vmm_enable(&c->v, PVMM_SVC_CLOCK))
		return -1;
	c->vm = c->v.fd;
	c->memfd = c->v.memfd;
	c->mem = c->v.mem;
	c->vcpu = vmm_vcpu_create(&c->v, 0, true);
	return c->vcpu < 0 ? -1 : 0;
}

static inline void clock_vm_close(struct clock_vm *c)
{
	close(c->vcpu);
	vmm_vm_destroy(&c->v);
}

#endif /* _PVMM_CLOCK_LIB_H */
