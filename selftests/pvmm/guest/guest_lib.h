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
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/io.h>
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
/* TEST_SYSFS_VCPU's files */
#define SYSFS_YIELDS		0
#define SYSFS_STEAL_NS		1
#define SYSFS_PREEMPTED		2
#define SYSFS_PLACED_CPU	4
#define SYSFS_MIGRATIONS	5

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

/* |guest - host| over @secs of a +@ppm host slew, in ns: its change. */
static inline __s64 drift_under_slew(int ppm, int secs)
{
	__s64 g0, h0, g1, h1;

	g0 = mono_ns(CLOCK_MONOTONIC);
	h0 = host(TEST_HOST_MONO, 0);
	if (host(TEST_SLEW, ppm + 1000))
		return -1;
	sleep(secs);
	g1 = mono_ns(CLOCK_MONOTONIC);
	h1 = host(TEST_HOST_MONO, 0);
	host(TEST_SLEW, 1000);
	return llabs((g1 - h1) - (g0 - h0));
}

#endif
