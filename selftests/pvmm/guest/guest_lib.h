/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the real guest's tests and benchmarks share: pvmm_run's test
 * device (see tools/pvmm_run.c), through which they read the host's side.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/types.h>

/* the test device's port and commands, as tools/pvmm_run.c numbers them */
#define TEST_PORT		0x5654
#define TEST_HOST_MONO		1
#define TEST_RUN_DELAY		2
#define TEST_PAUSE		3
#define TEST_SLEW		4
#define TEST_HOG_START		5
#define TEST_HOG_STOP		6
#define TEST_SYSFS_VCPU		7
#define TEST_VCPU_CPU		8
#define TEST_AFFINITY		9
#define TEST_BALLOON		10
#define TEST_MEMFD_BYTES	11
#define TEST_MEMFD_FILL		12
#define TEST_SYSFS_VM		13
#define TEST_HOST_SHMEM		14
#define TEST_PUNCH_NS		15
#define TEST_FLUSH_SETS		16
#define TEST_BALLOON_SET	17
/* TEST_SYSFS_VCPU's files */
#define SYSFS_YIELDS		0
#define SYSFS_STEAL_NS		1
#define SYSFS_PREEMPTED		2
#define SYSFS_PLACED_CPU	4
#define SYSFS_MIGRATIONS	5
/* TEST_SYSFS_VM's files */
#define VM_TARGET		0
#define VM_BALLOONED		1
#define VM_EXTENTS		2
#define VM_RELEASED		3
#define VM_REPORTED		4
#define VM_STATS_UPDATES	5
#define VM_GUEST_FREE		6
#define VM_GUEST_TOTAL		7
#define VM_GUEST_AVAILABLE	8
#define VM_MMU_PINNED		9
#define VM_MMU_TABLES		10
#define VM_MMU_WRITABLE		11
#define VM_MMU_APPLIED		12
#define VM_MMU_REJECTED		13
#define VM_MMU_BATCHES		14

#define DOORBELL_PORT		0x5650

static pthread_mutex_t test_lock = PTHREAD_MUTEX_INITIALIZER;

/* One command of pvmm_run's test device and its 64-bit result. */
static inline __s64 host(unsigned int cmd, unsigned int arg)
{
	__u64 lo, hi;

	pthread_mutex_lock(&test_lock);
	outl(cmd | arg << 8, TEST_PORT);
	lo = inl(TEST_PORT + 4);
	hi = inl(TEST_PORT + 8);
	pthread_mutex_unlock(&test_lock);
	return (__s64)(hi << 32 | lo);
}

/* A pvmm call from user space (iopl(3) first): its return value. */
static inline __s64 doorbell3(__u64 nr, __u64 a0, __u64 a1, __u64 a2)
{
	__u64 ret = nr;

	asm volatile("outl %%eax, %%dx" : "+a" (ret)
		     : "d" (DOORBELL_PORT), "b" (a0), "c" (a1), "S" (a2)
		     : "memory");
	return (__s64)ret;
}

static inline __s64 doorbell2(__u64 nr, __u64 a0, __u64 a1)
{
	return doorbell3(nr, a0, a1, 0);
}

static inline __s64 mono_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/*
 * Host CLOCK_MONOTONIC minus the guest's, in ns, as NTP estimates an
 * offset: the guest's clock read before and after one read of the host's,
 * over @n tries, keeping the try with the shortest round trip (*@rtt).
 * One round trip through the VMM takes 0.3 to 15 ms under nested TCG, so
 * a single read may be off by milliseconds; the shortest is off by at
 * most half of its own.
 */
static inline __s64 host_offset(int n, __s64 *rtt)
{
	__s64 best = 0;

	*rtt = -1;
	for (int i = 0; i < n; i++) {
		__s64 a = mono_ns(CLOCK_MONOTONIC);
		__s64 h = host(TEST_HOST_MONO, 0);
		__s64 b = mono_ns(CLOCK_MONOTONIC);

		if (*rtt < 0 || b - a < *rtt) {
			*rtt = b - a;
			best = h - a - (b - a) / 2;
		}
	}
	return best;
}

/*
 * |guest - host| over @secs of a +@ppm host slew, in ns: its change.
 * *@bound is how far that may be off (half of each end's round trip).
 */
static inline __s64 drift_under_slew(int ppm, int secs, __s64 *bound)
{
	__s64 off0, off1, rtt0, rtt1;

	off0 = host_offset(32, &rtt0);
	if (host(TEST_SLEW, ppm + 1000))
		return -1;
	sleep(secs);
	off1 = host_offset(32, &rtt1);
	host(TEST_SLEW, 1000);
	*bound = (rtt0 + rtt1) / 2;
	return llabs(off1 - off0);
}

/* --- memory: the guest's own view, the host's through the test device --- */

#define MIB		(1024LL * 1024)
#define PAGES(bytes)	((bytes) >> 12)

/* A line of /proc/meminfo or /proc/vmstat ("MemFree:", "oom_kill "). */
static inline long long proc_value(const char *file, const char *key)
{
	FILE *f = fopen(file, "r");
	size_t n = strlen(key);
	long long v = -1;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n)) {
			v = strtoll(line + n, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static inline long long mem_value(const char *key)
{
	return proc_value("/proc/meminfo", key) * 1024;
}

static inline __s64 vm_file(int file)
{
	return host(TEST_SYSFS_VM, file);
}

/* Wait up to @ms for the host's vm<N>/ file to read @want; the last read. */
static inline __s64 vm_wait(int file, __s64 want, int ms)
{
	__s64 v = vm_file(file);

	for (int t = 0; v != want && t < ms; t += 50) {
		usleep(50000);
		v = vm_file(file);
	}
	return v;
}

/*
 * The memfd's allocation with the host's released and reported counts at
 * one moment: the counts are read under the balloon's lock, so equal
 * counts before and after the memfd's mean no release ran in between.
 */
static inline void mem_snapshot(__s64 *memfd, __s64 *released,
				__s64 *reported)
{
	__s64 r, p;

	do {
		r = vm_file(VM_RELEASED);
		p = vm_file(VM_REPORTED);
		*memfd = host(TEST_MEMFD_BYTES, 0);
		*released = vm_file(VM_RELEASED);
		*reported = vm_file(VM_REPORTED);
	} while (r != *released || p != *reported);
}

/* Wait up to 30 s for free page reporting to rest for 3 s. */
static inline void reporting_settles(void)
{
	__s64 last = vm_file(VM_REPORTED), now;

	for (int t = 0, quiet = 0; t < 300 && quiet < 30; t++) {
		usleep(100000);
		now = vm_file(VM_REPORTED);
		quiet = now == last ? quiet + 1 : 0;
		last = now;
	}
}

/* The operator sets the balloon, and the guest half follows. */
static inline __s64 balloon_to(__s64 pages, int ms)
{
	if (host(TEST_BALLOON, pages))
		return -1;
	return vm_wait(VM_BALLOONED, pages, ms);
}

/* The guest-physical address of a locked page of ours. */
static inline __u64 gpa_of(void *p)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	__u64 e = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (uintptr_t)p / 4096 * 8) != sizeof(e))
		e = 0;
	close(fd);
	/* bit 63: present; bits 0-54: the frame */
	return e >> 63 ? (e & ((1ULL << 55) - 1)) * 4096 : 0;
}

static inline void *locked_pages(size_t n, int fill)
{
	void *p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, fill, n * 4096);
	if (mlock(p, n * 4096)) {
		munmap(p, n * 4096);
		return NULL;
	}
	return p;
}

/* Drop the clean page cache and reclaimable slab: 0, or -1. */
static inline int drop_clean_caches(void)
{
	static const char path[] = "/proc/sys/vm/drop_caches";
	int fd = open(path, O_WRONLY);
	int r;

	if (fd < 0)
		return -1;
	sync();
	r = write(fd, "3", 1) == 1 ? 0 : -1;
	close(fd);
	return r;
}

/* Touch @bytes in a child, which then exits: 0 when it got them all. */
static inline int child_touches(long long bytes)
{
	pid_t pid = fork();
	int status;

	if (!pid) {
		char *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			_exit(2);
		for (long long i = 0; i < bytes; i += 4096)
			m[i] = 1;
		for (long long i = 0; i < bytes; i += 4096)
			if (m[i] != 1)
				_exit(3);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif
