/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest and VMM helpers for the balloon service: a VM whose guest memory
 * is a touched memfd, batches written into guest memory, and the memfd's
 * allocated bytes as the host sees them.
 */
#ifndef _PVMM_BALLOON_LIB_H
#define _PVMM_BALLOON_LIB_H

#include <stdbool.h>
#include <sys/stat.h>
#include <linux/pvmm_balloon.h>

#include "libpvmm.h"

#define BAL_GPA		0x40000000ULL	/* 1 GiB: 2 MiB ranges align */
#define BAL_CONFIG	0x0		/* offsets in guest memory */
#define BAL_LIST	0x1000
#define BAL_STATS	0x2000
#define BAL_DATA	0x200000	/* first byte that may be ballooned */
#define MIB		(1024ULL * 1024)

struct bal_vm {
	struct vmm_vm v;
	int vm;
	int vcpu;
	int memfd;
	char *mem;
	size_t size;
};

/* @thp: back guest memory with transparent huge pages where allowed */
static inline int bal_vm_open_thp(struct bal_vm *b, size_t size, bool thp)
{
	/* the guest has used all its memory */
	if (vmm_vm_create(&b->v, BAL_GPA, size,
			  VMM_MEM_TOUCH | (thp ? VMM_MEM_THP : 0)) ||
	    vmm_enable(&b->v, PVMM_SVC_BALLOON))
		return -1;
	b->vm = b->v.fd;
	b->memfd = b->v.memfd;
	b->mem = b->v.mem;
	b->size = size;
	b->vcpu = vmm_vcpu_create(&b->v, 0, true);
	if (b->vcpu < 0)
		return -1;
	return vmm_call2(b->vcpu, PVMM_BALLOON_CONFIG, BAL_GPA + BAL_CONFIG,
			 0) ? -1 : 0;
}

static inline int bal_vm_open(struct bal_vm *b, size_t size)
{
	return bal_vm_open_thp(b, size, false);
}

static inline void bal_vm_close(struct bal_vm *b)
{
	close(b->vcpu);
	vmm_vm_destroy(&b->v);
}

/* Bytes the memfd really holds. */
static inline long long bal_file_bytes(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? -1 : (long long)st.st_blocks * 512;
}

/* A batch call from @vcpu, with the list written at @list in guest memory. */
static inline __s64 bal_batch_at(int vcpu, char *mem, __u64 list, __u32 nr,
				 const struct pvmm_balloon_range *r, int n)
{
	memcpy(mem + list, r, n * sizeof(*r));
	return vmm_call2(vcpu, nr, BAL_GPA + list, n);
}

static inline __s64 bal_batch(struct bal_vm *b, __u32 nr,
			      const struct pvmm_balloon_range *r, int n)
{
	return bal_batch_at(b->vcpu, b->mem, BAL_LIST, nr, r, n);
}

static inline __s64 bal_one(struct bal_vm *b, __u32 nr, __u64 off, __u64 len)
{
	struct pvmm_balloon_range r = { BAL_GPA + off, len };

	return bal_batch(b, nr, &r, 1);
}

static inline struct pvmm_balloon_config *bal_config(struct bal_vm *b)
{
	return (struct pvmm_balloon_config *)(b->mem + BAL_CONFIG);
}

/* vm<N>/balloon/ of the VM, in the operator's tree */
static inline int bal_sysfs_dir(const struct bal_vm *b, char *path,
				size_t len)
{
	snprintf(path, len, PVMM_SYSFS "/vm%u/balloon", b->v.id);
	return access(path, R_OK);
}

static inline long long bal_sysfs_read(const char *dir, const char *name)
{
	char p[640], buf[32] = "";
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = 0;
	close(fd);
	return buf[0] ? strtoll(buf, NULL, 10) : -1;
}

static inline int bal_sysfs_write(const char *dir, const char *name,
				  long long v)
{
	char p[640], buf[32];
	int fd, n, r;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%lld\n", v);
	r = write(fd, buf, n) == n ? 0 : -errno;
	close(fd);
	return r;
}

#endif /* _PVMM_BALLOON_LIB_H */
