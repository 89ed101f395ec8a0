// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_fuzz: seeded, reproducible random sequences of every pvmm ioctl and
 * guest call, in the spirit of syzkaller, for a fixed budget of time and
 * operations. Several processes of several threads share VMs, vCPUs and
 * guest memory, and race closes, memslot changes, hole punches, munmap,
 * fork and fd passing against calls. Arguments are random, boundary
 * values, or near-valid ones (guest addresses inside memory, aligned,
 * plausible page-table entries), so that the deep paths run too.
 *
 * The kernel's answers are not checked here, except that a call never
 * hangs (each thread reports progress) and that nothing stays behind
 * (VMs, bindings and pinned pages in sysfs); the kernel log is: the VM
 * runner fails on any report. The same --seed gives the same sequence of choices
 * per thread (interleavings differ).
 *
 *   pvmm_fuzz [--seed N] [--seconds N] [--min-ops N] [--max-seconds N]
 *             [--procs N] [--threads N]
 *
 * It runs --seconds, and on until --min-ops operations are done, for at
 * most --max-seconds (default twice --seconds): a slow kernel (lockdep and
 * KASAN make every VM and vCPU set-up dearer) gets more time, never fewer
 * operations. Prints one TAP line: "ok 1 pvmm_fuzz ..." when at least
 * --min-ops operations were done and no thread got stuck.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/falloc.h>
#include <linux/pvmm_balloon.h>
#include <linux/pvmm_clock.h>
#include <linux/pvmm_mmu.h>
#include <linux/pvmm_sched.h>

#include "libpvmm.h"

#define FZ_VMS		4
#define FZ_VCPUS	8
#define FZ_MEM		(4UL << 20)	/* guest memory of one VM */
#define FZ_STUCK_S	60		/* a thread without progress this long */

struct fz_vm {
	int fd;
	int memfd;
	char *mem;
	int vcpu[FZ_VCPUS];
};

/* One process's world, shared by its threads, raced on purpose. */
struct fz_world {
	pthread_mutex_t lock;		/* table changes only */
	struct fz_vm vm[FZ_VMS];
};

struct fz_thread {
	struct fz_world *w;
	__u64 rng;
	unsigned long ops;
	atomic_llong last_us;		/* progress, vmm_now() in us */
	atomic_bool done;
	pthread_t tid;
	int idx;
};

/*
 * The kernel writes records and ioctl results wherever the VMM says its
 * memory is, this fuzzer's own data included. So a user address handed
 * to the kernel is either inside a VM's guest memory or one where
 * nothing of ours is: inside this reserved, inaccessible range, in the
 * kernel's half, non-canonical, or below mmap_min_addr.
 */
#define FZ_NOWHERE	0x10000000000ULL	/* 1 TiB */
#define FZ_CTL_BYTES	512		/* twice the largest control */
static char *fz_nowhere;

static __u64 fz_seed = 1;
static double fz_seconds = 300, fz_end, fz_max_seconds, fz_end_max;
static unsigned long fz_min_ops = 1000000;
static int fz_procs = 2, fz_threads = 4;

/* Per-process totals in shared memory, read by the parent. */
struct fz_shared {
	atomic_ulong ops;
	atomic_int stuck;
	/* guest calls a service answered with ret >= 0, by service id */
	atomic_ulong served[PVMM_SVC_CLOCK + 1];
};

static struct fz_shared *fz_sh;

/* --seconds are up and --min-ops done, or --max-seconds are up */
static bool fz_done(void)
{
	double now = vmm_now();

	return now >= fz_end_max ||
	       (now >= fz_end && atomic_load(&fz_sh->ops) >= fz_min_ops);
}

#define FZ_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static long long fz_now_us(void)
{
	return (long long)(vmm_now() * 1e6);
}

static __u64 fz_next(struct fz_thread *t)
{
	/* splitmix64: small, and the same everywhere */
	__u64 z = (t->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int fz_below(struct fz_thread *t, unsigned int n)
{
	return n ? fz_next(t) % n : 0;
}

/* Boundary values first, then random ones. */
static __u64 fz_u64(struct fz_thread *t)
{
	static const __u64 edge[] = {
		0, 1, 2, 7, 8, 15, 16, 63, 64, 255, 256, 511, 512, 4095, 4096,
		4097, 0x1fffff, 0x200000, FZ_MEM - 8, FZ_MEM, FZ_MEM + 4096,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		(1ULL << 47) - 4096, 1ULL << 47, (1ULL << 52) - 16, 1ULL << 52,
		1ULL << 63, ~0ULL, ~0ULL - 15, (__u64)-4096,
	};

	switch (fz_below(t, 4)) {
	case 0:
		return edge[fz_below(t, FZ_ARRAY_SIZE(edge))];
	case 1:
		return fz_next(t);
	case 2:	/* a guest address, aligned to something */
		return (fz_next(t) % FZ_MEM) & ~((1ULL << fz_below(t, 13)) - 1);
	default:
		return fz_below(t, 1024);
	}
}

/* A plausible x86 page-table entry: a frame inside memory and some bits. */
static __u64 fz_pte(struct fz_thread *t)
{
	__u64 frame = (fz_next(t) % (FZ_MEM >> 12)) << 12;
	__u64 bits = fz_next(t) & (0x1ffULL | (1ULL << 63));

	if (fz_below(t, 4) == 0)
		bits |= fz_next(t) & 0x7ff0000000000000ULL;
	return fz_below(t, 8) ? frame | bits | 1 : fz_u64(t);
}

/* A user address where no data of ours is. */
static __u64 fz_uptr(struct fz_thread *t)
{
	switch (fz_below(t, 4)) {
	case 0:
		return (__u64)(uintptr_t)fz_nowhere + fz_next(t) % FZ_NOWHERE;
	case 1:
		return 0xffff888000000000ULL + (fz_next(t) & 0xffffffffffULL);
	case 2:
		return (1ULL << 63) | fz_next(t);
	default:
		return fz_next(t) & 0xfff0;
	}
}

static struct fz_vm *fz_pick_vm(struct fz_thread *t)
{
	return &t->w->vm[fz_below(t, FZ_VMS)];
}

static int fz_pick_vcpu(struct fz_thread *t, struct fz_vm *v)
{
	return v->vcpu[fz_below(t, FZ_VCPUS)];
}

/*
 * Guest memory stays mapped for the process's life (each VM slot has
 * its own), so that no thread touches memory another one unmapped; what
 * a VMM does to it under live records is fz_memory()'s.
 */
/*
 * Mostly a vCPU of this thread's own slots: calls are served only in the
 * thread bound to the vCPU, so that is where the deep paths are.
 */
static int fz_own_vcpu(struct fz_thread *t, struct fz_vm *v)
{
	unsigned int per = FZ_VCPUS / fz_threads ?: 1;
	unsigned int slot = t->idx + fz_threads * fz_below(t, per);

	if (fz_below(t, 4) == 0 || slot >= FZ_VCPUS)
		return fz_pick_vcpu(t, v);
	return v->vcpu[slot];
}

static void fz_vm_open(struct fz_thread *t)
{
	struct fz_vm *v = fz_pick_vm(t);
	int fd;

	pthread_mutex_lock(&t->w->lock);
	if (v->fd >= 0) {
		pthread_mutex_unlock(&t->w->lock);
		return;
	}
	fd = vmm_open();
	if (fd >= 0 && fz_below(t, 4))
		vmm_set_slot(fd, 0, 0, FZ_MEM, v->mem,
			     fz_below(t, 4) ? v->memfd : -1, 0);
	/* services go in before the first vCPU, or never: most VMs get some */
	for (unsigned long svc = PVMM_SVC_MMU; svc <= PVMM_SVC_CLOCK; svc++)
		if (fd >= 0 && fz_below(t, 4))
			ioctl(fd, PVMM_ENABLE_SERVICE, svc);
	v->fd = fd;
	pthread_mutex_unlock(&t->w->lock);
}

static void fz_vm_close(struct fz_thread *t)
{
	struct fz_vm *v = fz_pick_vm(t);
	int i;

	pthread_mutex_lock(&t->w->lock);
	if (v->fd < 0) {
		pthread_mutex_unlock(&t->w->lock);
		return;
	}
	/* the vCPUs stay open and keep the VM alive, sometimes */
	if (fz_below(t, 2)) {
		for (i = 0; i < FZ_VCPUS; i++) {
			if (v->vcpu[i] >= 0)
				close(v->vcpu[i]);
			v->vcpu[i] = -1;
		}
	}
	close(v->fd);
	v->fd = -1;
	pthread_mutex_unlock(&t->w->lock);
}

static void fz_memslot(struct fz_thread *t, struct fz_vm *v)
{
	struct pvmm_memslot m = {
		.slot = fz_below(t, 3) ? fz_below(t, 4) : (__u32)fz_u64(t),
		.flags = fz_below(t, 3) ? PVMM_MEMSLOT_MEMFD * fz_below(t, 2) :
					  (__u32)fz_u64(t),
		.guest_phys_addr = fz_below(t, 2) ? 0 : fz_u64(t),
		.memfd = fz_below(t, 4) ? v->memfd : (int)fz_u64(t),
		.memfd_offset = fz_below(t, 2) ? 0 : fz_u64(t),
		.reserved = fz_below(t, 16) ? 0 : (__u32)fz_next(t),
	};
	__u64 off;

	if (fz_below(t, 4)) {
		/* inside the guest memory, possibly unaligned */
		off = fz_below(t, 2) ? 0 : fz_next(t) % FZ_MEM;
		if (fz_below(t, 2))
			off &= ~4095ULL;
		m.userspace_addr = (__u64)(uintptr_t)v->mem + off;
		m.size = fz_below(t, 2) ? (FZ_MEM - off) >> fz_below(t, 4) :
					  fz_next(t) % (FZ_MEM - off + 1);
	} else {
		/*
		 * Where nothing of ours is, and a size that stays there: a
		 * range from the kernel's half or a non-canonical address
		 * may be any size, as no access to it can succeed.
		 */
		__u64 nowhere = (__u64)(uintptr_t)fz_nowhere;

		m.userspace_addr = fz_uptr(t);
		if (m.userspace_addr - nowhere < FZ_NOWHERE)
			m.size = fz_next(t) % (nowhere + FZ_NOWHERE -
					       m.userspace_addr);
		else if (m.userspace_addr < 0x10000)
			m.size = fz_next(t) % (0x10000 - m.userspace_addr);
		else
			m.size = fz_u64(t);
	}
	if (fz_below(t, 8) == 0)
		m.size = 0;	/* delete */
	ioctl(v->fd, PVMM_SET_MEMSLOT, &m);
}

static void fz_vcpu_create(struct fz_thread *t, struct fz_vm *v)
{
	unsigned int slot = fz_below(t, FZ_VCPUS);
	unsigned long id = fz_below(t, 4) ? slot : fz_u64(t);
	int fd = ioctl(v->fd, PVMM_CREATE_VCPU, id);

	if (fd < 0)
		return;
	pthread_mutex_lock(&t->w->lock);
	if (v->vcpu[slot] < 0) {
		v->vcpu[slot] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&t->w->lock);
	if (fd >= 0)
		close(fd);
}

static void fz_vcpu_close(struct fz_thread *t, struct fz_vm *v)
{
	unsigned int slot = fz_below(t, FZ_VCPUS);
	int fd;

	pthread_mutex_lock(&t->w->lock);
	fd = v->vcpu[slot];
	v->vcpu[slot] = -1;
	pthread_mutex_unlock(&t->w->lock);
	if (fd >= 0)
		close(fd);
}

/* Page-table entries, balloon ranges or junk where a call will look. */
static void fz_fill(struct fz_thread *t, struct fz_vm *v, __u64 gpa)
{
	__u64 *p;
	int i, n = 1 + fz_below(t, 64);

	if (gpa >= FZ_MEM - 16 * 64)
		return;
	p = (__u64 *)(v->mem + (gpa & ~15ULL));
	for (i = 0; i < 2 * n; i += 2) {
		switch (fz_below(t, 4)) {
		case 0:	/* a PT update of a likely table */
			p[i] = (fz_next(t) % (FZ_MEM >> 12)) << 12 |
			       (fz_below(t, 512) << 3) | fz_below(t, 2);
			p[i + 1] = fz_pte(t);
			break;
		case 1:	/* an extended op */
			p[i] = PVMM_MMU_EXT_CMD(fz_below(t, 10),
						(fz_next(t) % (FZ_MEM >> 12)) << 12);
			p[i + 1] = fz_u64(t);
			break;
		case 2:	/* a balloon range */
			p[i] = fz_u64(t) & ~4095ULL;
			p[i + 1] = 4096ULL << fz_below(t, 11);
			break;
		default:
			p[i] = fz_u64(t);
			p[i + 1] = fz_u64(t);
		}
	}
}

static const __u32 fz_calls[] = {
	PVMM_CALL_NOP, PVMM_CALL_ABI_VERSION, PVMM_CALL_FEATURES,
	PVMM_MMU_CALL_VERSION, PVMM_MMU_CALL_BATCH, PVMM_MMU_CALL_TRANSLATE,
	PVMM_SCHED_STEAL_ENABLE, PVMM_SCHED_STEAL_DISABLE, PVMM_SCHED_YIELD_TO,
	PVMM_SCHED_BOOST, PVMM_SCHED_UNBOOST,
	PVMM_BALLOON_CONFIG, PVMM_BALLOON_INFLATE, PVMM_BALLOON_DEFLATE,
	PVMM_BALLOON_REPORT, PVMM_BALLOON_STATS,
	PVMM_CLOCK_ENABLE, PVMM_CLOCK_DISABLE, PVMM_CLOCK_INFO,
};

static void fz_call(struct fz_thread *t, struct fz_vm *v)
{
	struct pvmm_call c = {};
	int fd = fz_own_vcpu(t, v), i, tries;

	c.nr = fz_below(t, 8) ? fz_calls[fz_below(t, FZ_ARRAY_SIZE(fz_calls))] :
				(__u32)fz_u64(t);
	for (i = 0; i < PVMM_CALL_NARGS; i++)
		c.args[i] = fz_u64(t);
	switch (c.nr) {
	case PVMM_MMU_CALL_BATCH:
		c.args[0] &= ~15ULL;
		c.args[1] = fz_below(t, 4) ? 1 + fz_below(t, 64) : c.args[1];
		c.args[2] = fz_below(t, 2) ? 0x1000 : c.args[2];
		fz_fill(t, v, c.args[0]);
		break;
	case PVMM_BALLOON_INFLATE:
	case PVMM_BALLOON_DEFLATE:
	case PVMM_BALLOON_REPORT:
		c.args[1] = fz_below(t, 4) ? 1 + fz_below(t, 8) : c.args[1];
		fz_fill(t, v, c.args[0]);
		break;
	case PVMM_SCHED_BOOST:
		c.args[0] = fz_below(t, 4) ? 1 + fz_below(t, 200) : c.args[0];
		break;
	case PVMM_SCHED_YIELD_TO:
		c.args[0] = fz_below(t, 4) ? fz_below(t, FZ_VCPUS) : c.args[0];
		break;
	case PVMM_SCHED_STEAL_ENABLE:
	case PVMM_CLOCK_ENABLE:
	case PVMM_BALLOON_CONFIG:
		if (fz_below(t, 4))
			c.args[0] &= ~63ULL;
		break;
	}
	if (fz_below(t, 32) == 0)
		c.flags = fz_next(t);
	if (fz_below(t, 32) == 0)
		c.out[fz_below(t, 3)] = fz_next(t);
	/* a preempted call is continued, or abandoned for another one */
	for (tries = fz_below(t, 64); tries >= 0; tries--) {
		if (ioctl(fd, PVMM_VCPU_CALL, &c) == 0) {
			if (c.ret >= 0 && (c.nr >> 8) <= PVMM_SVC_CLOCK)
				atomic_fetch_add(&fz_sh->served[c.nr >> 8], 1);
			break;
		}
		if (errno != EAGAIN)
			break;
	}
}

static void fz_service_ctl(struct fz_thread *t, struct fz_vm *v)
{
	static const unsigned long ctls[] = {
		PVMM_MMU_CONFIGURE, PVMM_MMU_GET_STATS, PVMM_MMU_GET_FRAME,
		PVMM_SCHED_SET_WEIGHT, PVMM_SCHED_GET_INFO,
		PVMM_BALLOON_SET_TARGET, PVMM_BALLOON_GET_INFO,
		PVMM_BALLOON_SET_NOTIFY,
		PVMM_CLOCK_DISRUPT, PVMM_CLOCK_SET_OFFSETS, PVMM_CLOCK_GET_INFO,
	};
	static int efd = -2;
	__u64 buf[FZ_CTL_BYTES / 8];
	unsigned long cmd = ctls[fz_below(t, FZ_ARRAY_SIZE(ctls))];
	unsigned int i;

	for (i = 0; i < FZ_ARRAY_SIZE(buf); i++)
		buf[i] = fz_below(t, 4) ? 0 : fz_u64(t);
	/* mostly sensible values, sometimes anything */
	if (cmd == PVMM_MMU_CONFIGURE && fz_below(t, 2)) {
		buf[0] = FZ_MEM << fz_below(t, 2);
		buf[1] = fz_below(t, 2) ? PVMM_MMU_F_SUPERPAGES : 0;
	}
	if (cmd == PVMM_BALLOON_SET_TARGET && fz_below(t, 2))
		buf[0] = fz_below(t, FZ_MEM >> 12);
	/* an eventfd, another fd or none, and an IRQ */
	if (cmd == PVMM_BALLOON_SET_NOTIFY && fz_below(t, 2)) {
		if (efd == -2)
			efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		buf[0] = (__u32)(fz_below(t, 2) ? efd : (int)fz_below(t, 8) - 1) |
			 (__u64)fz_below(t, 300) << 32;
	}
	if (cmd == PVMM_MMU_GET_FRAME && fz_below(t, 2))
		buf[0] = fz_below(t, (FZ_MEM >> 12) + 4);
	/* a number of no control, another size, a bad pointer */
	switch (fz_below(t, 16)) {
	case 0:
		cmd = _IOC(_IOC_DIR(cmd), PVMM_IOCTL_MAGIC, fz_below(t, 256),
			   fz_below(t, FZ_CTL_BYTES));
		break;
	case 1:
		ioctl(v->fd, cmd, (void *)(uintptr_t)fz_u64(t));
		return;
	}
	ioctl(v->fd, cmd, buf);
}

/* What a VMM does to its own guest memory under live records. */
static void fz_memory(struct fz_thread *t, struct fz_vm *v)
{
	__u64 off = (fz_next(t) % FZ_MEM) & ~4095ULL;
	__u64 len = 4096ULL << fz_below(t, 9);
	char *mem = v->mem;

	if (off + len > FZ_MEM)
		len = FZ_MEM - off;
	switch (fz_below(t, 4)) {
	case 0:
		fallocate(v->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  off, len);
		break;
	case 1:
		madvise(mem + off, len, MADV_DONTNEED);
		break;
	case 2:	/* mapped again at the same address: one step, no gap */
		mmap(mem + off, len, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED, v->memfd, off);
		break;
	default:
		memset(mem + off, (int)fz_next(t), len < 4096 ? len : 4096);
	}
}

/* Another process holds the files: useless there, and its close races. */
static void fz_fork(struct fz_thread *t, struct fz_vm *v)
{
	int sv[2], fd = fz_below(t, 2) ? v->fd : fz_pick_vcpu(t, v);
	struct pvmm_call c = { .nr = PVMM_CALL_NOP };
	pid_t pid;

	if (fd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return;
	pid = fork();
	if (!pid) {
		char cbuf[CMSG_SPACE(sizeof(int))], b;
		struct iovec io = { .iov_base = &b, .iov_len = 1 };
		struct msghdr msg = {
			.msg_iov = &io, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct timeval tv = { .tv_sec = 1 };
		struct cmsghdr *cm;
		int got = -1;

		/*
		 * Our copy of the parent's end, and children other threads
		 * fork meanwhile, could keep end of file away: a timeout.
		 */
		close(sv[0]);
		setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

		/* the inherited one, and one passed over a socket */
		ioctl(fd, PVMM_VCPU_CALL, &c);
		ioctl(fd, PVMM_VCPU_BIND);
		ioctl(fd, PVMM_CREATE_VCPU, 0);
		if (recvmsg(sv[1], &msg, 0) > 0) {
			cm = CMSG_FIRSTHDR(&msg);
			if (cm && cm->cmsg_type == SCM_RIGHTS)
				memcpy(&got, CMSG_DATA(cm), sizeof(got));
		}
		if (got >= 0) {
			ioctl(got, PVMM_VCPU_CALL, &c);
			close(got);
		}
		_exit(0);
	} else if (pid > 0) {
		char cbuf[CMSG_SPACE(sizeof(int))] = {}, b = 0;
		struct iovec io = { .iov_base = &b, .iov_len = 1 };
		struct msghdr msg = {
			.msg_iov = &io, .msg_iovlen = 1,
			.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
		};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
		sendmsg(sv[0], &msg, MSG_NOSIGNAL);
		/* the child reads end of file if nothing could be sent */
		close(sv[0]);
		sv[0] = -1;
		/* sometimes the parent closes first, racing the child */
		if (fz_below(t, 2))
			fz_vcpu_close(t, v);
		waitpid(pid, NULL, 0);
	}
	if (sv[0] >= 0)
		close(sv[0]);
	close(sv[1]);
}

static void fz_one(struct fz_thread *t)
{
	struct fz_vm *v = fz_pick_vm(t);
	unsigned int op = fz_below(t, 100);
	struct pvmm_version ver;

	if (op < 3) {
		fz_vm_open(t);
	} else if (op < 5) {
		fz_vm_close(t);
	} else if (op < 12) {
		fz_memslot(t, v);
	} else if (op < 20) {
		fz_vcpu_create(t, v);
	} else if (op < 23) {
		fz_vcpu_close(t, v);
	} else if (op < 28) {
		/* the test service sleeps and pins on request: never here */
		unsigned long svc = fz_below(t, 8) ? 1 + fz_below(t, 4) :
						     fz_u64(t);

		if (svc != PVMM_SVC_TEST)
			ioctl(v->fd, PVMM_ENABLE_SERVICE, svc);
	} else if (op < 36) {
		fz_service_ctl(t, v);
	} else if (op < 42) {
		ioctl(fz_own_vcpu(t, v), PVMM_VCPU_BIND);
	} else if (op < 80) {
		fz_call(t, v);
	} else if (op < 88) {
		fz_memory(t, v);
	} else if (op < 89) {
		fz_fork(t, v);
	} else if (op < 92) {
		ioctl(v->fd, PVMM_GET_VERSION,
		      fz_below(t, 2) ? (void *)&ver :
				       (void *)(uintptr_t)fz_uptr(t));
	} else if (op < 96) {
		/*
		 * Unknown or mistyped commands, on either kind of file; only
		 * ours, as a reused fd number may be a socket by now.
		 */
		ioctl(fz_below(t, 2) ? v->fd : fz_pick_vcpu(t, v),
		      (unsigned long)_IOC(fz_below(t, 4), PVMM_IOCTL_MAGIC,
					  fz_below(t, 32), fz_below(t, 256)),
		      fz_below(t, 2) ? (unsigned long)fz_uptr(t) :
				       fz_below(t, 4096));
	} else {
		/* a dup without O_CLOEXEC, closed again */
		int d = dup(fz_pick_vcpu(t, v));

		if (d >= 0)
			close(d);
	}
}

static void *fz_thread_main(void *arg)
{
	struct fz_thread *t = arg;

	while (!fz_done()) {
		fz_one(t);
		t->ops++;
		atomic_store(&t->last_us, fz_now_us());
		if (!(t->ops & 63))
			atomic_fetch_add(&fz_sh->ops, 64);
	}
	atomic_store(&t->done, true);
	return NULL;
}

static void fz_kick(int sig)
{
}

/*
 * Watch the threads: one that has made no progress for a second is sent
 * a signal, as a VMM kicks a vCPU thread, which ends interruptible waits
 * (a batch waiting for another vCPU's validation that nobody continues
 * waits until then, by design); one that still makes none for FZ_STUCK_S
 * is stuck in the kernel.
 */
static int fz_watch(struct fz_thread *th, int proc, bool until_done)
{
	double now = vmm_now();
	int i, alive = 0;

	for (i = 0; i < fz_threads; i++) {
		double idle = now - atomic_load(&th[i].last_us) / 1e6;

		if (atomic_load(&th[i].done))
			continue;
		alive++;
		if (idle > 1)
			pthread_kill(th[i].tid, SIGUSR1);
		if (idle > FZ_STUCK_S) {
			fprintf(stderr, "# pvmm_fuzz: process %d thread %d stuck for %.0f s\n",
				proc, i, idle);
			atomic_store(&fz_sh->stuck, 1);
			return -1;
		}
	}
	return until_done ? alive : 0;
}

static int fz_process(int proc)
{
	struct sigaction sa = { .sa_handler = fz_kick };	/* no SA_RESTART */
	struct fz_thread th[16];
	struct fz_world w;
	int i, j, r;

	sigaction(SIGUSR1, &sa, NULL);
	pthread_mutex_init(&w.lock, NULL);
	for (i = 0; i < FZ_VMS; i++) {
		w.vm[i].fd = -1;
		w.vm[i].mem = vmm_memfd_map(FZ_MEM, &w.vm[i].memfd);
		if (!w.vm[i].mem)
			return 1;
		for (j = 0; j < FZ_VCPUS; j++)
			w.vm[i].vcpu[j] = -1;
	}
	for (i = 0; i < fz_threads; i++) {
		th[i].w = &w;
		th[i].rng = fz_seed ^ ((__u64)proc << 32) ^ ((__u64)i << 16);
		th[i].ops = 0;
		th[i].idx = i;
		atomic_store(&th[i].done, false);
		atomic_store(&th[i].last_us, fz_now_us());
		if (pthread_create(&th[i].tid, NULL, fz_thread_main, &th[i]))
			return 1;
	}
	while (!fz_done()) {
		usleep(200000);
		if (fz_watch(th, proc, false))
			return 1;
	}
	/* the budget is spent: every thread must finish its last call */
	while ((r = fz_watch(th, proc, true)) > 0)
		usleep(200000);
	if (r < 0)
		return 1;
	for (i = 0; i < fz_threads; i++)
		pthread_join(th[i].tid, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	double start, next;
	int i, status, bad = 0;
	pid_t pids[16];

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seed"))
			fz_seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--seconds"))
			fz_seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--max-seconds"))
			fz_max_seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--min-ops"))
			fz_min_ops = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--procs"))
			fz_procs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--threads"))
			fz_threads = atoi(argv[i + 1]);
	}
	if (fz_procs < 1 || fz_procs > 16 || fz_threads < 1 || fz_threads > 16) {
		fprintf(stderr, "pvmm_fuzz: 1 to 16 processes and threads\n");
		return 2;
	}
	fz_sh = mmap(NULL, sizeof(*fz_sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fz_nowhere = mmap(NULL, FZ_NOWHERE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fz_sh == MAP_FAILED || fz_nowhere == MAP_FAILED)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	printf("TAP version 13\n1..1\n");
	printf("# pvmm_fuzz: seed %llu, %.0f s, %d processes x %d threads\n",
	       (unsigned long long)fz_seed, fz_seconds, fz_procs, fz_threads);
	fflush(stdout);
	start = vmm_now();
	fz_end = start + fz_seconds;
	fz_end_max = start + (fz_max_seconds > fz_seconds ? fz_max_seconds :
			      2 * fz_seconds);
	for (i = 0; i < fz_procs; i++) {
		pids[i] = fork();
		if (!pids[i])
			_exit(fz_process(i));
	}
	/* progress every 30 s: the VM runner takes silence for a hang */
	for (i = 0, next = start + 30; i < fz_procs;) {
		pid_t p = waitpid(pids[i], &status, WNOHANG);

		if (p < 0 || (p && (!WIFEXITED(status) || WEXITSTATUS(status))))
			bad = 1;
		if (p) {
			i++;
			continue;
		}
		usleep(100000);
		if (vmm_now() > next) {
			printf("# pvmm_fuzz: %lu operations after %.0f s\n",
			       atomic_load(&fz_sh->ops), vmm_now() - start);
			fflush(stdout);
			next += 30;
		}
	}
	/* nothing may stay behind: VMs, bindings, pinned pages */
	for (i = 0; i < 1000 && (vmm_sysfs_read("vms") ||
				 vmm_sysfs_read("bindings") ||
				 vmm_sysfs_read("pinned_pages")); i++)
		usleep(10000);
	if (vmm_sysfs_read("vms") || vmm_sysfs_read("bindings") ||
	    vmm_sysfs_read("pinned_pages")) {
		printf("# pvmm_fuzz: left behind: vms %lld bindings %lld pinned_pages %lld\n",
		       vmm_sysfs_read("vms"), vmm_sysfs_read("bindings"),
		       vmm_sysfs_read("pinned_pages"));
		bad = 1;
	}
	printf("# pvmm_fuzz: %lu operations in %.1f s (%.0f/s)\n",
	       atomic_load(&fz_sh->ops), vmm_now() - start,
	       atomic_load(&fz_sh->ops) / (vmm_now() - start));
	if (atomic_load(&fz_sh->ops) < fz_min_ops) {
		printf("# pvmm_fuzz: fewer than %lu operations\n", fz_min_ops);
		bad = 1;
	}
	/* how deep the run went: calls each service carried out */
	printf("# pvmm_fuzz: calls served: hub %lu, mmu %lu, sched %lu, balloon %lu, clock %lu\n",
	       atomic_load(&fz_sh->served[PVMM_SVC_HUB]),
	       atomic_load(&fz_sh->served[PVMM_SVC_MMU]),
	       atomic_load(&fz_sh->served[PVMM_SVC_SCHED]),
	       atomic_load(&fz_sh->served[PVMM_SVC_BALLOON]),
	       atomic_load(&fz_sh->served[PVMM_SVC_CLOCK]));
	printf("%sok 1 pvmm_fuzz seed %llu\n", bad ? "not " : "",
	       (unsigned long long)fz_seed);
	printf("# Totals: pass:%d fail:%d\n", !bad, bad);
	return bad;
}
