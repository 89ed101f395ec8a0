/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for selftests that play the VMM: open a VM, give it memfd-backed
 * guest memory, create and bind vCPUs, forward guest calls.
 */
#ifndef _PVMM_VMM_H
#define _PVMM_VMM_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/pvmm.h>

#define PVMM_DEV	"/dev/pvmm"
#define PVMM_DEBUGFS	"/sys/kernel/debug/pvmm"

static inline int vmm_open(void)
{
	return open(PVMM_DEV, O_RDWR | O_CLOEXEC);
}

/* ioctl result as 0 or -errno, so tests can compare in one step */
static inline int vmm_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static inline int vmm_set_slot(int vm, __u32 slot, __u64 gpa, __u64 size,
			       void *uaddr, int memfd, __u64 off)
{
	struct pvmm_memslot m = {
		.slot = slot, .guest_phys_addr = gpa, .size = size,
		.userspace_addr = (__u64)(uintptr_t)uaddr, .memfd = memfd,
		.memfd_offset = off,
		.flags = memfd >= 0 ? PVMM_MEMSLOT_MEMFD : 0,
	};

	return vmm_ioctl(vm, PVMM_SET_MEMSLOT, &m);
}

/* A shared mapping of a fresh memfd of @size bytes. */
static inline void *vmm_memfd_map(size_t size, int *memfd)
{
	void *p;

	*memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (*memfd < 0 || ftruncate(*memfd, size))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *memfd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Returns 0 or -errno of the ioctl; the guest's result in *ret. */
static inline int vmm_call(int vcpu, __u32 nr, const __u64 *args, __s64 *ret)
{
	struct pvmm_call c = { .nr = nr };
	int r;

	if (args)
		memcpy(c.args, args, sizeof(c.args));
	r = vmm_ioctl(vcpu, PVMM_VCPU_CALL, &c);
	if (!r && ret)
		*ret = c.ret;
	return r;
}

static inline __s64 vmm_call2(int vcpu, __u32 nr, __u64 a0, __u64 a1)
{
	__u64 args[PVMM_CALL_NARGS] = { a0, a1 };
	__s64 ret = 0;
	int r = vmm_call(vcpu, nr, args, &ret);

	return r ? (__s64)r * 1000000 : ret;	/* ioctl errors stand out */
}

/* Guest memory that the kernel updates behind our back. */
static inline __u64 vmm_load(const void *p)
{
	return __atomic_load_n((const __u64 *)p, __ATOMIC_RELAXED);
}

static inline long long vmm_debugfs_read(const char *name)
{
	char path[128], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PVMM_DEBUGFS "/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

/*
 * Teardown completes after an RCU grace period: wait up to @ms for a
 * debugfs counter to reach @want. Returns the last value read.
 */
static inline long long vmm_debugfs_wait(const char *name, long long want,
					 int ms)
{
	long long v = vmm_debugfs_read(name);

	while (v != want && ms > 0) {
		usleep(10000);
		ms -= 10;
		v = vmm_debugfs_read(name);
	}
	return v;
}

/* The @pct percentile of @samples counted in @hist[0..@last], by index. */
static inline long vmm_hist_pct(const unsigned int *hist, long last,
				long samples, double pct)
{
	long want = (long)(samples * pct / 100.0), seen = 0;

	for (long i = 0; i <= last; i++) {
		seen += hist[i];
		if (seen > want)
			return i;
	}
	return last;
}

static inline double vmm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* _PVMM_VMM_H */
