/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libpvmm: the user-space side of /dev/pvmm, for programs that play the
 * VMM (the selftests, pvmm_demo, pvmmctl and the reference VMM). It opens
 * a VM with memfd-backed guest memory, creates and binds vCPUs, forwards
 * guest calls with the EAGAIN loop and reads the operator's sysfs tree.
 * The VMM controls are the typed ioctls of the UAPI headers, issued with
 * vmm_ioctl(). Functions that can fail return 0 (or a file descriptor)
 * or -errno.
 */
#ifndef _LIBPVMM_H
#define _LIBPVMM_H

/* what every program playing the VMM uses */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/types.h>

#include <linux/pvmm.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define PVMM_DEV	"/dev/pvmm"
#define PVMM_SYSFS	"/sys/kernel/pvmm"

/* A VM with one memslot (slot 0) of guest memory. */
struct vmm_vm {
	int fd;			/* the VM file */
	__u32 id;		/* vm<id> in sysfs */
	int memfd;
	char *mem;		/* guest memory, mapped shared */
	__u64 gpa;		/* where it starts in the guest */
	__u64 size;
};

#define VMM_MEM_THP	0x1U	/* transparent huge pages where allowed */
#define VMM_MEM_TOUCH	0x2U	/* write every page: the guest used it */

int vmm_open(void);
int vmm_ioctl(int fd, unsigned long cmd, void *arg);
int vmm_set_slot(int vm, __u32 slot, __u64 gpa, __u64 size, void *uaddr,
		 int memfd, __u64 off);
void *vmm_memfd_map(size_t size, int *memfd);

/*
 * Why this host cannot run a program needing @services (bit n: service
 * n): /dev/pvmm missing or closed to us, or a service module not loaded.
 * NULL when it can.
 */
const char *vmm_missing(__u64 services);

int vmm_vm_create(struct vmm_vm *v, __u64 gpa, __u64 size, unsigned int flags);
void vmm_vm_destroy(struct vmm_vm *v);
int vmm_enable(struct vmm_vm *v, unsigned int service);
/* Guest memory at @gpa, or NULL outside the memslot. */
void *vmm_mem(struct vmm_vm *v, __u64 gpa);
/* A new vCPU's file; with @bind, bound to the calling thread. */
int vmm_vcpu_create(struct vmm_vm *v, unsigned int id, bool bind);

/*
 * Forward one guest call, issuing it again while the kernel answers
 * EAGAIN; *@again (if set) counts the continuations.
 */
int vmm_vcpu_call(int vcpu, struct pvmm_call *c, unsigned long *again);
int vmm_call(int vcpu, __u32 nr, const __u64 *args, __s64 *ret);
/* The guest's result, or an ioctl's -errno times 10^6 so that it stands out. */
__s64 vmm_call2(int vcpu, __u32 nr, __u64 a0, __u64 a1);

/* Guest memory that the kernel updates behind our back. */
static inline __u64 vmm_load(const void *p)
{
	return __atomic_load_n((const __u64 *)p, __ATOMIC_RELAXED);
}

/*
 * The operator's tree: PVMM_SYSFS/@path, one value per file. Returns the
 * value, or -1 when the file cannot be read.
 */
long long vmm_sysfs_read(const char *path);
int vmm_sysfs_read_str(const char *path, char *buf, size_t len);
int vmm_sysfs_write(const char *path, long long value);
/* Wait up to @ms for PVMM_SYSFS/@path to read @want; the last value read. */
long long vmm_sysfs_wait(const char *path, long long want, int ms);
/* The id of the VM open as @vm (its vm<id> directory), or -errno. */
int vmm_vm_id(int vm);
/* PVMM_SYSFS/vm<id of @vm>/<@fmt...> into *@val: 0 or -errno. */
int vmm_vm_stat(int vm, long long *val, const char *fmt, ...);

double vmm_now(void);
/* The @pct percentile of @samples counted in @hist[0..@last], by index. */
long vmm_hist_pct(const unsigned int *hist, long last, long samples,
		  double pct);

/* Playing the guest: the clock record reader with user-space TSC reads. */
#if defined(__x86_64__)
#include <x86intrin.h>

static inline __u64 vmm_rdtsc(void)
{
	_mm_lfence();		/* as the kernel's rdtsc_ordered() */
	return __rdtsc();
}

/* x86 keeps loads in order: only the compiler must not reorder them */
static inline void vmm_rmb(void)
{
	__asm__ __volatile__("" ::: "memory");
}

#define PVMM_CLOCK_RDTSC()	vmm_rdtsc()
#define PVMM_CLOCK_RMB()	vmm_rmb()
#include <pvmm/clock_reader.h>
#endif

#endif /* _LIBPVMM_H */
