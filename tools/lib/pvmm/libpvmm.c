// SPDX-License-Identifier: GPL-2.0
/*
 * libpvmm: see libpvmm.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "libpvmm.h"

int vmm_open(void)
{
	int fd = open(PVMM_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int vmm_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int vmm_set_slot(int vm, __u32 slot, __u64 gpa, __u64 size, void *uaddr,
		 int memfd, __u64 off)
{
	struct pvmm_memslot m = {
		.slot = slot, .guest_phys_addr = gpa, .size = size,
		.userspace_addr = (__u64)(uintptr_t)uaddr, .memfd = memfd,
		.memfd_offset = off,
		.flags = memfd >= 0 ? PVMM_MEMSLOT_MEMFD : 0,
	};

	return vmm_ioctl(vm, PVMM_SET_MEMSLOT, &m);
}

void *vmm_memfd_map(size_t size, int *memfd)
{
	void *p;

	*memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (*memfd < 0 || ftruncate(*memfd, size))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *memfd, 0);
	return p == MAP_FAILED ? NULL : p;
}

const char *vmm_missing(__u64 services)
{
	static const char *const names[PVMM_SVC_MAX] = {
		[PVMM_SVC_MMU] = "pvmm_mmu", [PVMM_SVC_SCHED] = "pvmm_sched",
		[PVMM_SVC_BALLOON] = "pvmm_balloon",
		[PVMM_SVC_CLOCK] = "pvmm_clock", [PVMM_SVC_TEST] = "pvmm_test",
	};
	static char why[96];
	struct pvmm_version v;
	int fd = vmm_open(), r;

	if (fd < 0) {
		snprintf(why, sizeof(why), PVMM_DEV ": %s (is pvmm.ko loaded?)",
			 strerror(-fd));
		return why;
	}
	r = vmm_ioctl(fd, PVMM_GET_VERSION, &v);
	close(fd);
	if (r) {
		snprintf(why, sizeof(why), "PVMM_GET_VERSION: %s", strerror(-r));
		return why;
	}
	for (int i = 0; i < PVMM_SVC_MAX; i++) {
		if (!(services & ~v.services & (1ULL << i)))
			continue;
		snprintf(why, sizeof(why), "service %d (%s.ko) is not loaded", i,
			 names[i] ? names[i] : "?");
		return why;
	}
	return NULL;
}

int vmm_vm_create(struct vmm_vm *v, __u64 gpa, __u64 size, unsigned int flags)
{
	struct pvmm_version ver;
	int r;

	memset(v, 0, sizeof(*v));
	v->memfd = -1;
	v->fd = vmm_open();
	if (v->fd < 0)
		return v->fd;
	r = vmm_ioctl(v->fd, PVMM_GET_VERSION, &ver);
	if (r)
		goto fail;
	if (ver.abi_version != PVMM_ABI_VERSION) {
		r = -EPROTO;
		goto fail;
	}
	v->id = ver.vm_id;
	if (!size)
		return 0;
	v->mem = vmm_memfd_map(size, &v->memfd);
	if (!v->mem) {
		r = -errno;
		goto fail;
	}
	v->gpa = gpa;
	v->size = size;
	if ((flags & VMM_MEM_THP) && madvise(v->mem, size, MADV_HUGEPAGE)) {
		r = -errno;
		goto fail;
	}
	if (flags & VMM_MEM_TOUCH)
		memset(v->mem, 1, size);
	r = vmm_set_slot(v->fd, 0, gpa, size, v->mem, v->memfd, 0);
	if (!r)
		return 0;
fail:
	vmm_vm_destroy(v);
	return r;
}

void vmm_vm_destroy(struct vmm_vm *v)
{
	if (v->fd >= 0)
		close(v->fd);
	if (v->mem)
		munmap(v->mem, v->size);
	if (v->memfd >= 0)
		close(v->memfd);
	v->fd = -1;
	v->mem = NULL;
	v->memfd = -1;
}

int vmm_enable(struct vmm_vm *v, unsigned int service)
{
	return vmm_ioctl(v->fd, PVMM_ENABLE_SERVICE,
			 (void *)(unsigned long)service);
}

void *vmm_mem(struct vmm_vm *v, __u64 gpa)
{
	if (gpa < v->gpa || gpa - v->gpa >= v->size)
		return NULL;
	return v->mem + (gpa - v->gpa);
}

int vmm_vcpu_create(struct vmm_vm *v, unsigned int id, bool bind)
{
	int fd = ioctl(v->fd, PVMM_CREATE_VCPU, id);

	if (fd < 0)
		return -errno;
	if (bind && ioctl(fd, PVMM_VCPU_BIND)) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int vmm_vcpu_call(int vcpu, struct pvmm_call *c, unsigned long *again)
{
	int r;

	while ((r = vmm_ioctl(vcpu, PVMM_VCPU_CALL, c)) == -EAGAIN)
		if (again)
			(*again)++;
	return r;
}

int vmm_call(int vcpu, __u32 nr, const __u64 *args, __s64 *ret)
{
	struct pvmm_call c = { .nr = nr };
	int r;

	if (args)
		memcpy(c.args, args, sizeof(c.args));
	r = vmm_vcpu_call(vcpu, &c, NULL);
	if (!r && ret)
		*ret = c.ret;
	return r;
}

__s64 vmm_call2(int vcpu, __u32 nr, __u64 a0, __u64 a1)
{
	__u64 args[PVMM_CALL_NARGS] = { a0, a1 };
	__s64 ret = 0;
	int r = vmm_call(vcpu, nr, args, &ret);

	return r ? (__s64)r * 1000000 : ret;
}

int vmm_sysfs_read_str(const char *path, char *buf, size_t len)
{
	char full[256];
	ssize_t n;
	int fd;

	snprintf(full, sizeof(full), PVMM_SYSFS "/%s", path);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

long long vmm_sysfs_read(const char *path)
{
	char buf[64];

	if (vmm_sysfs_read_str(path, buf, sizeof(buf)) || !buf[0])
		return -1;
	return strtoll(buf, NULL, 10);
}

int vmm_sysfs_write(const char *path, long long value)
{
	char full[256], buf[32];
	int fd, n, r = 0;

	snprintf(full, sizeof(full), PVMM_SYSFS "/%s", path);
	fd = open(full, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%lld\n", value);
	if (write(fd, buf, n) != n)
		r = -errno;
	close(fd);
	return r;
}

long long vmm_sysfs_wait(const char *path, long long want, int ms)
{
	long long v = vmm_sysfs_read(path);

	while (v != want && ms > 0) {
		usleep(10000);
		ms -= 10;
		v = vmm_sysfs_read(path);
	}
	return v;
}

int vmm_vm_id(int vm)
{
	struct pvmm_version v;
	int r = vmm_ioctl(vm, PVMM_GET_VERSION, &v);

	return r ? r : (int)v.vm_id;
}

int vmm_vm_stat(int vm, long long *val, const char *fmt, ...)
{
	char rel[160], path[192], buf[64], *end;
	int id = vmm_vm_id(vm), r;
	va_list ap;

	if (id < 0)
		return id;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "vm%d/%s", id, rel);
	r = vmm_sysfs_read_str(path, buf, sizeof(buf));
	if (r)
		return r;
	errno = 0;
	*val = strtoll(buf, &end, 10);
	return errno || end == buf ? -EINVAL : 0;
}

double vmm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

long vmm_hist_pct(const unsigned int *hist, long last, long samples,
		  double pct)
{
	long want = (long)(samples * pct / 100.0), seen = 0;

	for (long i = 0; i <= last; i++) {
		seen += hist[i];
		if (seen > want)
			return i;
	}
	return last;
}
