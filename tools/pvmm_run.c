// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_run: the reference VMM. It boots a Linux bzImage and an initramfs
 * on KVM by the x86 boot protocol (32-bit entry) with 1 to 4 vCPUs (an MP
 * table), the in-kernel irqchip and PIT and two 16550A UARTs: ttyS0 is the
 * console (stdout), ttyS1 goes to --results. Guest RAM is one memfd,
 * registered with both KVM and /dev/pvmm; each vCPU thread creates its
 * pvmm vCPU, binds it and forwards the doorbell's exits with
 * PVMM_VCPU_CALL, the guest's registers through KVM_CAP_SYNC_REGS.
 *
 *   pvmm_run -k bzImage [-i initrd] [-a cmdline] [-c vcpus] [-m MiB]
 *            [-s clock,sched,balloon,mmu|none] [-r results] [-t seconds]
 *            [-p] [-T]
 *
 * -p pins vCPU thread i to host CPU i. -T adds the test device (below),
 * through which the guest's own tests read the host's side: never on a
 * production guest, it lets the guest pause the VM and slew the host
 * clock.
 *
 * It exits 0 when the guest resets (reboot=k), 2 on a triple fault, 3 on
 * a timeout, 1 on errors, with a message saying which.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <linux/kvm.h>

#include <linux/pvmm.h>
#include <linux/pvmm_balloon.h>
#include <linux/pvmm_clock.h>
#include <linux/pvmm_mmu.h>

#include "libpvmm.h"

#define MAX_VCPUS	4
#define DOORBELL_PORT	0x5650		/* "PV" */
/*
 * The test device: outl(cmd | arg << 8, TEST_PORT) carries a command out
 * and latches a 64-bit result, read with inl(TEST_PORT + 4) (low) and
 * inl(TEST_PORT + 8) (high); -errno for a command that failed.
 */
#define TEST_PORT		0x5654
#define TEST_HOST_MONO		1	/* host CLOCK_MONOTONIC, ns */
#define TEST_RUN_DELAY		2	/* arg vCPU: its thread's run delay, ns */
#define TEST_PAUSE		3	/* arg seconds: pause the VM */
#define TEST_SLEW		4	/* arg ppm + 1000: host clock frequency */
#define TEST_HOG_START		5	/* arg CPU: a busy thread there */
#define TEST_HOG_STOP		6
#define TEST_SYSFS_VCPU		7	/* arg vCPU, then the sysfs name */
#define TEST_VCPU_CPU		8	/* arg vCPU: host CPU of its thread */
#define TEST_AFFINITY		9	/* arg vCPU, then a mask of CPUs 0-15 */
#define TEST_BALLOON		10	/* arg pages: pvmmctl balloon vm<N> arg */
#define TEST_MEMFD_BYTES	11	/* host memory behind guest RAM, bytes */
#define TEST_MEMFD_FILL		12	/* back every page of guest RAM */
#define TEST_SYSFS_VM		13	/* arg: a file of vm<N>/, by number */
#define TEST_HOST_SHMEM		14	/* the host's Shmem in /proc/meminfo */
#define TEST_PUNCH_NS		15	/* arg MiB: one punch of a filled memfd */
#define TEST_FLUSH_SETS		16	/* PV MMU flush sets carried out */
#define TEST_BALLOON_SET	17	/* arg pages: PVMM_BALLOON_SET_TARGET */
/* the balloon's new-target interrupt: an ISA line no device here uses */
#define BALLOON_IRQ	5
#define ZERO_PAGE	0x7000
#define GDT_ADDR	0x1000
#define CMDLINE_ADDR	0x20000
#define CMDLINE_MAX	4096
#define MPTABLE_ADDR	0xf0000
#define KERNEL_ADDR	0x100000
#define IOAPIC_ADDR	0xfec00000U
#define LAPIC_ADDR	0xfee00000U

/* struct boot_params offsets (Documentation/x86/boot.rst, zero-page.rst) */
#define BP_E820_ENTRIES	0x1e8
#define BP_HDR		0x1f1
#define BP_SETUP_SECTS	0x1f1
#define BP_HDR_MAGIC	0x202
#define BP_VERSION	0x206
#define BP_LOADER	0x210
#define BP_LOADFLAGS	0x211
#define BP_CODE32	0x214
#define BP_RAMDISK	0x218
#define BP_RAMDISK_SIZE	0x21c
#define BP_HEAP_END	0x224
#define BP_CMDLINE	0x228
#define BP_INITRD_MAX	0x22c
#define BP_E820_TABLE	0x2d0
#define CAN_USE_HEAP	0x80

struct uart {
	pthread_mutex_t lock;
	int out;			/* file descriptor */
	unsigned int irq;
	unsigned char ier, lcr, mcr, scr, dll, dlm;
	bool thre_pending;		/* transmitter-empty interrupt due */
	bool level;			/* of its IRQ line, as last set */
};

struct vcpu {
	int id;
	int fd;				/* KVM */
	int pvmm;			/* pvmm vCPU */
	struct kvm_run *run;
	pthread_t thread;
	pid_t tid;
	unsigned long calls, again;
};

static struct {
	int kvm, vm;
	struct vmm_vm pv;		/* guest RAM, the pvmm VM */
	unsigned long run_size;
	int nr_vcpus;
	struct vcpu vcpus[MAX_VCPUS];
	struct kvm_cpuid2 *cpuid;
	struct uart uart[2];
	int exit_code;			/* -1 while running; atomic */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool paused;
	int vcpus_done;			/* under pause_lock */
	unsigned long flush_sets;
	bool has_clock;
	bool test_device;
	bool pin;
	pthread_mutex_t test_lock;
	int64_t test_latch;
	pthread_t hog;
	bool hog_run;			/* atomic */
	int hog_cpu;
} vmm = { .exit_code = -1 };

static void die(const char *what)
{
	fprintf(stderr, "pvmm_run: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *fmt, const char *arg)
{
	fprintf(stderr, "pvmm_run: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void stop(int code)
{
	int none = -1;

	__atomic_compare_exchange_n(&vmm.exit_code, &none, code, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	for (int i = 0; i < vmm.nr_vcpus; i++)
		if (vmm.vcpus[i].thread && !pthread_equal(vmm.vcpus[i].thread,
							  pthread_self()))
			pthread_kill(vmm.vcpus[i].thread, SIGUSR1);
}

static bool running(void)
{
	return __atomic_load_n(&vmm.exit_code, __ATOMIC_SEQ_CST) < 0;
}

static void *gpa(uint64_t addr)
{
	return vmm.pv.mem + addr;
}

/* --- 16550A --- */

/* The line follows the THRE condition: an ioctl only when it changes. */
static void uart_update_irq(struct uart *u)
{
	struct kvm_irq_level irq = { .irq = u->irq };
	bool level = (u->ier & 0x02) && u->thre_pending;

	if (level == u->level)
		return;
	irq.level = level;
	if (!ioctl(vmm.vm, KVM_IRQ_LINE, &irq))
		u->level = level;
}

static void uart_io(struct uart *u, unsigned int reg, bool is_write,
		    unsigned char *data)
{
	pthread_mutex_lock(&u->lock);
	if (is_write) {
		unsigned char v = *data;

		switch (reg) {
		case 0:
			if (u->lcr & 0x80) {
				u->dll = v;
			} else {
				if (write(u->out, &v, 1) < 0)
					break;
				u->thre_pending = true;
			}
			break;
		case 1:
			if (u->lcr & 0x80) {
				u->dlm = v;
			} else {
				/* enabling THRI with the holder empty raises it */
				if ((v & 0x02) && !(u->ier & 0x02))
					u->thre_pending = true;
				u->ier = v & 0x0f;
			}
			break;
		case 3:
			u->lcr = v;
			break;
		case 4:
			u->mcr = v;
			break;
		case 7:
			u->scr = v;
			break;
		}
	} else {
		switch (reg) {
		case 0:
			*data = u->lcr & 0x80 ? u->dll : 0;
			break;
		case 1:
			*data = u->lcr & 0x80 ? u->dlm : u->ier;
			break;
		case 2:		/* IIR: FIFOs on, THRE or nothing pending */
			if ((u->ier & 0x02) && u->thre_pending) {
				*data = 0xc2;
				u->thre_pending = false;
			} else {
				*data = 0xc1;
			}
			break;
		case 3:
			*data = u->lcr;
			break;
		case 4:
			*data = u->mcr;
			break;
		case 5:		/* LSR: transmitter always empty, no input */
			*data = 0x60;
			break;
		case 6:		/* MSR: DCD, DSR, CTS; loopback mirrors MCR */
			*data = u->mcr & 0x10 ? (u->mcr & 0x0f) << 4 : 0xb0;
			break;
		case 7:
			*data = u->scr;
			break;
		}
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

/* --- the guest's requests to the VMM: pvmm calls and test requests --- */

static void pause_vm(unsigned int seconds)
{
	struct pvmm_clock_disrupt d = { .flags = PVMM_CLOCK_DISRUPT_STOPPED };
	struct timespec ts = { .tv_sec = seconds };

	/* every other vCPU waits in its thread, out of KVM_RUN */
	pthread_mutex_lock(&vmm.pause_lock);
	vmm.paused = true;
	pthread_mutex_unlock(&vmm.pause_lock);
	for (int i = 0; i < vmm.nr_vcpus; i++)
		if (!pthread_equal(vmm.vcpus[i].thread, pthread_self()))
			pthread_kill(vmm.vcpus[i].thread, SIGUSR1);
	nanosleep(&ts, NULL);
	/* as QEMU does on resume: the clocks learn that time jumped */
	if (vmm.has_clock &&
	    vmm_ioctl(vmm.pv.fd, PVMM_CLOCK_DISRUPT, &d))
		fprintf(stderr, "pvmm_run: PVMM_CLOCK_DISRUPT failed\n");
	for (int i = 0; i < vmm.nr_vcpus; i++)
		ioctl(vmm.vcpus[i].fd, KVM_KVMCLOCK_CTRL, 0);
	pthread_mutex_lock(&vmm.pause_lock);
	vmm.paused = false;
	pthread_cond_broadcast(&vmm.pause_cond);
	pthread_mutex_unlock(&vmm.pause_lock);
}

static void *hog_thread(void *p)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(vmm.hog_cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (__atomic_load_n(&vmm.hog_run, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* A field of /proc/self/task/<tid>/stat or schedstat, or -errno. */
static int64_t thread_stat(pid_t tid, const char *file, int field)
{
	char path[64], buf[1024], *p = buf, *end;
	long long v;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	/* stat: fields after the command's closing parenthesis */
	if (!strcmp(file, "stat")) {
		p = strrchr(buf, ')');
		if (!p)
			return -EIO;
		p += 2;
		field -= 3;
	}
	for (int i = 0; i < field && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return -EIO;
	errno = 0;
	v = strtoll(p, &end, 10);
	return errno || end == p ? -EIO : v;
}

/* TEST_SYSFS_VCPU's files, by number */
static const char * const sysfs_vcpu[] = {
	"yields", "steal_ns", "preempted", "boosts", "placed_cpu", "migrations",
};

/* TEST_SYSFS_VM's files, by number */
static const char * const sysfs_vm[] = {
	"balloon/target_pages", "balloon/ballooned_pages", "balloon/extents",
	"balloon/released_bytes", "balloon/reported_bytes",
	"balloon/stats_updates", "balloon/guest_free_bytes",
	"balloon/guest_total_bytes", "balloon/guest_available_bytes",
	"mmu/pinned_roots", "mmu/page_table_frames", "mmu/writable_frames",
	"mmu/entries_applied", "mmu/entries_rejected", "mmu/batches",
};

/* What an operator types: the tool, not the ioctl, so that it is tested. */
static int64_t test_pvmmctl_balloon(unsigned int pages)
{
	char vm[16], target[16];
	char *const argv[] = { "pvmmctl", "balloon", vm, target, NULL };
	int status;
	pid_t pid;

	snprintf(vm, sizeof(vm), "vm%u", vmm.pv.id);
	snprintf(target, sizeof(target), "%u", pages);
	errno = posix_spawnp(&pid, "pvmmctl", NULL, NULL, argv, environ);
	if (errno)
		return -errno;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

static int64_t test_memfd_bytes(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? -errno : (int64_t)st.st_blocks * 512;
}

static int64_t test_host_shmem(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	long long kb = -1;
	char line[128];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Shmem: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -EIO : kb << 10;
}

/* The balloon's baseline: the VMM punching @mib of filled memory at once. */
static int64_t test_punch_ns(unsigned int mib)
{
	off_t len = (off_t)mib << 20;
	int64_t ns = -EIO;
	double t;
	int fd;

	if (!mib || mib > 1024)
		return -EINVAL;
	fd = memfd_create("pvmm_run-punch", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!fallocate(fd, 0, 0, len)) {
		t = vmm_now();
		if (!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       0, len))
			ns = (vmm_now() - t) * 1e9;
	}
	close(fd);
	return ns;
}

static int64_t test_command(uint32_t cmd)
{
	unsigned int arg = cmd >> 8;
	struct timespec ts;
	cpu_set_t set;
	char name[64];
	long long v;

	switch (cmd & 0xff) {
	case TEST_HOST_MONO:
		clock_gettime(CLOCK_MONOTONIC, &ts);
		return ts.tv_sec * 1000000000LL + ts.tv_nsec;
	case TEST_RUN_DELAY:
		if (arg >= (unsigned int)vmm.nr_vcpus)
			return -EINVAL;
		return thread_stat(vmm.vcpus[arg].tid, "schedstat", 1);
	case TEST_VCPU_CPU:
		if (arg >= (unsigned int)vmm.nr_vcpus)
			return -EINVAL;
		return thread_stat(vmm.vcpus[arg].tid, "stat", 39);
	case TEST_PAUSE:
		if (arg > 60)
			return -EINVAL;
		pause_vm(arg);
		return 0;
	case TEST_SLEW: {
		struct timex tx = { .modes = ADJ_FREQUENCY,
				    .freq = ((long)arg - 1000) * 65536 };

		return adjtimex(&tx) < 0 ? -errno : 0;
	}
	case TEST_HOG_START:
		if (arg >= CPU_SETSIZE)
			return -EINVAL;
		if (vmm.hog_run)
			return -EBUSY;
		vmm.hog_cpu = arg;
		vmm.hog_run = true;
		if (pthread_create(&vmm.hog, NULL, hog_thread, NULL)) {
			vmm.hog_run = false;
			return -EAGAIN;
		}
		return 0;
	case TEST_HOG_STOP:
		if (!vmm.hog_run)
			return -EINVAL;
		__atomic_store_n(&vmm.hog_run, false, __ATOMIC_RELAXED);
		pthread_join(vmm.hog, NULL);
		return 0;
	case TEST_SYSFS_VCPU:
		/* arg: vCPU id in bits 0-7, the file in bits 8-15 */
		if ((arg >> 8) >= ARRAY_SIZE(sysfs_vcpu))
			return -EINVAL;
		snprintf(name, sizeof(name), "vcpu%u/sched/%s", arg & 0xff,
			 sysfs_vcpu[arg >> 8]);
		return vmm_vm_stat(vmm.pv.fd, &v, "%s", name) ? -ENOENT : v;
	case TEST_AFFINITY:
		/* what an operator's CPU set for a vCPU does */
		if ((arg & 0xff) >= (unsigned int)vmm.nr_vcpus || !(arg >> 8))
			return -EINVAL;
		CPU_ZERO(&set);
		for (unsigned int cpu = 0; cpu < 16; cpu++)
			if (arg >> 8 & 1U << cpu)
				CPU_SET(cpu, &set);
		if (sched_setaffinity(vmm.vcpus[arg & 0xff].tid, sizeof(set), &set))
			return -errno;
		return 0;
	case TEST_BALLOON:
		return test_pvmmctl_balloon(arg);
	case TEST_MEMFD_BYTES:
		return test_memfd_bytes(vmm.pv.memfd);
	case TEST_MEMFD_FILL:
		return fallocate(vmm.pv.memfd, 0, 0, vmm.pv.size) ? -errno : 0;
	case TEST_SYSFS_VM:
		if (arg >= ARRAY_SIZE(sysfs_vm))
			return -EINVAL;
		return vmm_vm_stat(vmm.pv.fd, &v, "%s", sysfs_vm[arg]) ?
		       -ENOENT : v;
	case TEST_HOST_SHMEM:
		return test_host_shmem();
	case TEST_PUNCH_NS:
		return test_punch_ns(arg);
	case TEST_FLUSH_SETS:
		return __atomic_load_n(&vmm.flush_sets, __ATOMIC_RELAXED);
	case TEST_BALLOON_SET: {
		/* the VMM's own control, without a tool's start-up */
		struct pvmm_balloon_target t = { .pages = arg };

		return vmm_ioctl(vmm.pv.fd, PVMM_BALLOON_SET_TARGET, &t);
	}
	}
	return -EINVAL;
}

static void test_io(unsigned int port, bool out, uint32_t *data)
{
	pthread_mutex_lock(&vmm.test_lock);
	if (out && port == TEST_PORT)
		vmm.test_latch = test_command(*data);
	else if (!out && port == TEST_PORT + 4)
		*data = (uint64_t)vmm.test_latch;
	else if (!out && port == TEST_PORT + 8)
		*data = (uint64_t)vmm.test_latch >> 32;
	else if (!out)
		*data = ~0U;
	pthread_mutex_unlock(&vmm.test_lock);
}

static void doorbell(struct vcpu *v)
{
	struct kvm_regs *r = &v->run->s.regs.regs;
	struct pvmm_call c = {
		.nr = (uint32_t)r->rax,
		.args = { r->rbx, r->rcx, r->rsi, r->rdi, r->r8, r->r9 },
	};
	int e = vmm_vcpu_call(v->pvmm, &c, &v->again);

	v->calls++;
	/* a VMM-level error reaches the guest as its errno */
	r->rax = e ? (uint64_t)(int64_t)e : (uint64_t)c.ret;
	/*
	 * A PV MMU flush set names TLBs of the validated tables. Under
	 * KVM with nested paging the hardware walks the guest's own tables,
	 * not those, so there is nothing to flush: the set is counted.
	 */
	if (!e && c.out[0])
		__atomic_fetch_add(&vmm.flush_sets, 1, __ATOMIC_RELAXED);
	v->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
}

static void port_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned char *data = (unsigned char *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	unsigned int port = run->io.port;

	for (unsigned int n = 0; n < run->io.count; n++, data += run->io.size) {
		if (port >= 0x3f8 && port < 0x400 && run->io.size == 1) {
			uart_io(&vmm.uart[0], port - 0x3f8, out, data);
		} else if (port >= 0x2f8 && port < 0x300 && run->io.size == 1) {
			uart_io(&vmm.uart[1], port - 0x2f8, out, data);
		} else if (port == DOORBELL_PORT && out && run->io.size == 4) {
			doorbell(v);
		} else if (vmm.test_device && port >= TEST_PORT &&
			   port < TEST_PORT + 12 && run->io.size == 4) {
			/* a pause inside waits with the test lock held: fine */
			test_io(port, out, (uint32_t *)data);
		} else if (port == 0x64 && out && *data == 0xfe) {
			stop(0);	/* the keyboard controller's reset */
		} else if (!out) {
			memset(data, 0xff, run->io.size);
		}
	}
}

static int vcpu_loop(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	for (;;) {
		if (!running())
			return 0;
		pthread_mutex_lock(&vmm.pause_lock);
		while (vmm.paused && running())
			pthread_cond_wait(&vmm.pause_cond, &vmm.pause_lock);
		pthread_mutex_unlock(&vmm.pause_lock);
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "pvmm_run: vcpu%d: KVM_RUN: %s\n", v->id,
				strerror(errno));
			stop(1);
			return 0;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			port_io(v);
			break;
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, run->mmio.len);
			break;
		case KVM_EXIT_SHUTDOWN:
			fprintf(stderr, "pvmm_run: vcpu%d: the guest triple-faulted\n",
				v->id);
			stop(2);
			return 0;
		case KVM_EXIT_SYSTEM_EVENT:
			stop(0);
			return 0;
		case KVM_EXIT_INTR:
			break;
		default:
			fprintf(stderr, "pvmm_run: vcpu%d: exit reason %u\n", v->id,
				run->exit_reason);
			stop(1);
			return 0;
		}
	}
}

static void on_kick(int sig)
{
}

/* --- vCPU set-up --- */

static void set_cpuid(struct vcpu *v)
{
	struct kvm_cpuid2 *c = vmm.cpuid;

	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (uint32_t)v->id << 24;
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = v->id;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c))
		die("KVM_SET_CPUID2");
}

/* The 32-bit boot protocol entry: flat segments, no paging, esi = zero page. */
static void set_boot_regs(struct vcpu *v, uint32_t entry)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0xb,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
		.rip = entry, .rsi = ZERO_PAGE, .rflags = 0x2,
	};

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	data.selector = 0x18;
	data.type = 0x3;
	sregs.cs = code;
	sregs.ds = data;
	sregs.es = data;
	sregs.fs = data;
	sregs.gs = data;
	sregs.ss = data;
	sregs.gdt.base = GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = 0x1;	/* PE */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	if (ioctl(v->fd, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
}

/*
 * A vCPU thread that is done waits here for the process to end rather
 * than returning. Threads that return free their stacks one by one, and
 * each such madvise() flushes the TLBs of the CPUs the others still run
 * on: in the test VM, two of them doing so at once each waited for
 * ever on the other's flush (real-guest.rst). exit() ends them together,
 * and the address space goes once.
 */
static void *vcpu_done(void)
{
	pthread_mutex_lock(&vmm.pause_lock);
	vmm.vcpus_done++;
	pthread_cond_broadcast(&vmm.pause_cond);
	for (;;)
		pthread_cond_wait(&vmm.pause_cond, &vmm.pause_lock);
	return NULL;
}

static void *vcpu_thread(void *p)
{
	struct vcpu *v = p;
	sigset_t set;

	v->tid = gettid();
	if (vmm.pin) {
		cpu_set_t cpus;

		CPU_ZERO(&cpus);
		CPU_SET(v->id, &cpus);
		if (sched_setaffinity(0, sizeof(cpus), &cpus))
			fprintf(stderr, "pvmm_run: vcpu%d: cannot pin to CPU %d\n",
				v->id, v->id);
	}
	/* the kick signal interrupts KVM_RUN only in this thread */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* bound from its own thread, before its first KVM_RUN */
	if (ioctl(v->pvmm, PVMM_VCPU_BIND)) {
		fprintf(stderr, "pvmm_run: vcpu%d: PVMM_VCPU_BIND: %s\n", v->id,
			strerror(errno));
		stop(1);
		return vcpu_done();
	}
	vcpu_loop(v);
	return vcpu_done();
}

/* --- the guest's memory: zero page, kernel, initrd, MP table --- */

static void *read_file(const char *path, size_t *size)
{
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st))
		fail("cannot read %s", path);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		fail("cannot read %s", path);
	close(fd);
	*size = st.st_size;
	return buf;
}

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

/* MP spec 1.4 tables: processors, an ISA bus, the I/O APIC, ISA IRQs. */
static void write_mptable(void)
{
	uint8_t *base = gpa(MPTABLE_ADDR), *p = base + 16;
	uint16_t entries = 0;
	int ioapic = vmm.nr_vcpus;

	/* the configuration table header, filled in at the end */
	uint8_t *hdr = p;

	p += 44;
	memcpy(hdr, "PCMP", 4);
	hdr[6] = 4;				/* spec 1.4 */
	memcpy(hdr + 8, "PVMM    ", 8);
	memcpy(hdr + 16, "pvmm_run    ", 12);
	*(uint32_t *)(hdr + 36) = LAPIC_ADDR;
	for (int i = 0; i < vmm.nr_vcpus; i++, entries++, p += 20) {
		p[0] = 0;			/* processor */
		p[1] = i;			/* local APIC id */
		p[2] = 0x14;			/* local APIC version */
		p[3] = 0x01 | (i ? 0 : 0x02);	/* enabled, BSP */
		*(uint32_t *)(p + 4) = 0x600;	/* family 6 */
		*(uint32_t *)(p + 8) = 0x201;	/* FPU, APIC */
	}
	p[0] = 1;				/* bus 0: ISA */
	p[1] = 0;
	memcpy(p + 2, "ISA   ", 6);
	p += 8;
	entries++;
	p[0] = 2;				/* I/O APIC */
	p[1] = ioapic;
	p[2] = 0x11;
	p[3] = 0x01;				/* usable */
	*(uint32_t *)(p + 4) = IOAPIC_ADDR;
	p += 8;
	entries++;
	/* ISA IRQ n on pin n: KVM's default routing, the PIT on GSI 0 */
	for (int irq = 0; irq < 16; irq++, entries++, p += 8) {
		p[0] = 3;			/* I/O interrupt */
		p[1] = 0;			/* INT */
		*(uint16_t *)(p + 2) = 0;	/* conforming */
		p[4] = 0;			/* ISA */
		p[5] = irq;
		p[6] = ioapic;
		p[7] = irq;
	}
	for (int lint = 0; lint < 2; lint++, entries++, p += 8) {
		p[0] = 4;			/* local interrupt */
		p[1] = lint ? 1 : 3;		/* NMI, ExtINT */
		*(uint16_t *)(p + 2) = 0;
		p[4] = 0;
		p[5] = 0;
		p[6] = 0xff;			/* every local APIC */
		p[7] = lint;
	}
	*(uint16_t *)(hdr + 4) = p - hdr;
	*(uint16_t *)(hdr + 34) = entries;
	hdr[7] = checksum(hdr, p - hdr);
	/* the floating pointer */
	memcpy(base, "_MP_", 4);
	*(uint32_t *)(base + 4) = MPTABLE_ADDR + 16;
	base[8] = 1;				/* 16 bytes */
	base[9] = 4;
	base[10] = checksum(base, 16);
}

static void add_e820(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t *e = zp + BP_E820_TABLE + 20 * zp[BP_E820_ENTRIES]++;

	memcpy(e, &addr, 8);
	memcpy(e + 8, &size, 8);
	memcpy(e + 16, &type, 4);
}

static uint32_t load_linux(const char *kernel, const char *initrd,
			   const char *cmdline)
{
	size_t ksize, isize = 0, setup;
	uint8_t *k = read_file(kernel, &ksize), *zp = gpa(ZERO_PAGE);
	uint64_t *gdt = gpa(GDT_ADDR);
	uint32_t initrd_max, iaddr;

	if (ksize < 0x1000 || memcmp(k + BP_HDR_MAGIC, "HdrS", 4) ||
	    *(uint16_t *)(k + BP_VERSION) < 0x206)
		fail("%s is not a bzImage of boot protocol 2.06 or later", kernel);
	setup = (k[BP_SETUP_SECTS] ? k[BP_SETUP_SECTS] : 4) + 1;
	setup *= 512;
	if (ksize <= setup || ksize - setup > vmm.pv.size / 2)
		fail("%s: the kernel does not fit guest memory", kernel);
	memcpy(gpa(KERNEL_ADDR), k + setup, ksize - setup);

	/* the zero page: the image's setup header, then ours */
	memset(zp, 0, 4096);
	memcpy(zp + BP_HDR, k + BP_HDR, 0x202 + k[0x201] - BP_HDR);
	zp[BP_LOADER] = 0xff;
	zp[BP_LOADFLAGS] |= CAN_USE_HEAP;
	*(uint16_t *)(zp + BP_HEAP_END) = 0xfe00;
	if (strlen(cmdline) >= CMDLINE_MAX)
		fail("%s", "the kernel command line is too long");
	strcpy(gpa(CMDLINE_ADDR), cmdline);
	*(uint32_t *)(zp + BP_CMDLINE) = CMDLINE_ADDR;
	if (initrd) {
		void *i = read_file(initrd, &isize);

		initrd_max = *(uint32_t *)(zp + BP_INITRD_MAX);
		iaddr = (vmm.pv.size < (uint64_t)initrd_max + 1 ?
			 vmm.pv.size : (uint64_t)initrd_max + 1) - isize;
		iaddr &= ~4095U;
		if (isize >= vmm.pv.size / 2 || iaddr < KERNEL_ADDR + ksize)
			fail("%s: the initrd does not fit guest memory", initrd);
		memcpy(gpa(iaddr), i, isize);
		*(uint32_t *)(zp + BP_RAMDISK) = iaddr;
		*(uint32_t *)(zp + BP_RAMDISK_SIZE) = isize;
		free(i);
	}
	add_e820(zp, 0, 0x9fc00, 1);
	add_e820(zp, 0x9fc00, KERNEL_ADDR - 0x9fc00, 2);
	add_e820(zp, KERNEL_ADDR, vmm.pv.size - KERNEL_ADDR, 1);
	/* __BOOT_CS 0x10, __BOOT_DS 0x18: flat 4 GiB */
	gdt[2] = 0x00cf9b000000ffffULL;
	gdt[3] = 0x00cf93000000ffffULL;
	free(k);
	return *(uint32_t *)(zp + BP_CODE32);
}

/*
 * What the guest's CPUID says: KVM's supported set, the hypervisor bit
 * and KVM's leaves (without them a guest calibrates its TSC against the
 * PIT and hangs under nested SVM), the pvmm leaves, and no XSAVE or AVX:
 * QEMU's TCG SVM does not intercept XSETBV, and a guest that uses XSAVE
 * there boots with an xstate consistency warning.
 */
static void make_cpuid(unsigned long services)
{
	int n = 128;
	struct kvm_cpuid2 *c;

	for (;;) {
		c = calloc(1, sizeof(*c) + (n + 2) * sizeof(c->entries[0]));
		if (!c)
			die("calloc");
		c->nent = n;
		if (!ioctl(vmm.kvm, KVM_GET_SUPPORTED_CPUID, c))
			break;
		if (errno != E2BIG)
			die("KVM_GET_SUPPORTED_CPUID");
		free(c);
		n *= 2;
	}
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ecx |= 1U << 31;			/* hypervisor */
			e->ecx &= ~(1U << 26 | 1U << 27 | 1U << 28);
			break;
		case 7:
			if (!e->index)
				e->ebx &= ~(1U << 5);		/* AVX2 */
			break;
		case 0xd:
			e->function = 0x7fffffff;	/* dropped below */
			break;
		case 0x40000001:
			/*
			 * With the scheduling service the directed yield is
			 * pvmm's: KVM's (KVM_FEATURE_PV_SCHED_YIELD) would
			 * take the same IPI hook. KVM's steal time stays:
			 * its PV TLB flush needs it, and the guest half
			 * takes the steal clock and vcpu_is_preempted()
			 * over after KVM's set-up.
			 */
			if (services & (1UL << PVMM_SVC_SCHED))
				e->eax &= ~(1U << 13);
			break;
		}
	}
	/* drop leaf 0xd */
	for (unsigned int i = 0; i < c->nent;)
		if (c->entries[i].function == 0x7fffffff)
			c->entries[i] = c->entries[--c->nent];
		else
			i++;
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = PVMM_CPUID_SIGNATURE, .eax = PVMM_CPUID_DOORBELL,
		.ebx = PVMM_CPUID_SIG, .ecx = PVMM_CPUID_SIG,
		.edx = PVMM_CPUID_SIG,
	};
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = PVMM_CPUID_DOORBELL, .eax = DOORBELL_PORT,
		.ebx = PVMM_ABI_VERSION,
	};
	vmm.cpuid = c;
}

/*
 * KVM runs the guest's TSC at an offset from the host's (it starts near
 * 0 at the VM's creation), the same on every vCPU; the clock records
 * carry TSC values the guest reads, so the clock service must know it.
 */
static void clock_tsc_offset(void)
{
	struct pvmm_clock_offsets o = {};
	__u64 off;
	struct kvm_device_attr a = {
		.group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
		.addr = (uintptr_t)&off,
	};

	if (ioctl(vmm.vcpus[0].fd, KVM_GET_DEVICE_ATTR, &a))
		die("KVM_GET_DEVICE_ATTR(KVM_VCPU_TSC_OFFSET)");
	o.tsc = (__s64)off;
	if (vmm_ioctl(vmm.pv.fd, PVMM_CLOCK_SET_OFFSETS, &o))
		die("PVMM_CLOCK_SET_OFFSETS");
}

static unsigned long parse_services(const char *s)
{
	static const struct { const char *name; unsigned int id; } svc[] = {
		{ "mmu", PVMM_SVC_MMU }, { "sched", PVMM_SVC_SCHED },
		{ "balloon", PVMM_SVC_BALLOON }, { "clock", PVMM_SVC_CLOCK },
	};
	unsigned long mask = 0;
	char *copy = strdup(s), *tok, *save = NULL;

	if (!strcmp(s, "none"))
		return 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(svc); i++)
			if (!strcmp(tok, svc[i].name))
				break;
		if (i == ARRAY_SIZE(svc))
			fail("unknown service \"%s\" (clock, sched, balloon, mmu)",
			     tok);
		mask |= 1UL << svc[i].id;
	}
	free(copy);
	return mask;
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: pvmm_run -k bzImage [-i initrd] [-a cmdline] [-c vcpus (1-%d)]\n"
		"                [-m MiB] [-s clock,sched,balloon,mmu|none]\n"
		"                [-r results-file] [-t timeout-seconds] [-p] [-T]\n",
		MAX_VCPUS);
	exit(1);
}

int main(int argc, char **argv)
{
	const char *kernel = NULL, *initrd = NULL, *results = NULL;
	const char *cmdline = "console=ttyS0 reboot=k panic=-1";
	const char *services = "clock,sched";
	unsigned long mib = 256, mask;
	struct kvm_userspace_memory_region region = { .slot = 0 };
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	const char *why;
	struct sigaction sa = { .sa_handler = on_kick };
	int opt, timeout = 0;
	uint32_t entry;
	sigset_t set;
	double t0;

	while ((opt = getopt(argc, argv, "k:i:a:c:m:s:r:t:pTh")) != -1) {
		switch (opt) {
		case 'k':
			kernel = optarg;
			break;
		case 'i':
			initrd = optarg;
			break;
		case 'a':
			cmdline = optarg;
			break;
		case 'c':
			vmm.nr_vcpus = atoi(optarg);
			break;
		case 'm':
			mib = strtoul(optarg, NULL, 0);
			break;
		case 's':
			services = optarg;
			break;
		case 'r':
			results = optarg;
			break;
		case 't':
			timeout = atoi(optarg);
			break;
		case 'p':
			vmm.pin = true;
			break;
		case 'T':
			vmm.test_device = true;
			break;
		default:
			print_usage();
			break;
		}
	}
	if (!kernel || optind != argc)
		print_usage();
	if (vmm.test_device)
		fprintf(stderr, "pvmm_run: -T: %s\n",
			"the guest may pause the VM, slew the host clock and start busy threads (tests only)");
	if (!vmm.nr_vcpus)
		vmm.nr_vcpus = 1;
	if (vmm.nr_vcpus < 1 || vmm.nr_vcpus > MAX_VCPUS || mib < 32 ||
	    mib > 3072)
		print_usage();
	mask = parse_services(services);

	vmm.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vmm.kvm < 0)
		die("/dev/kvm (is kvm_amd or kvm_intel loaded?)");
	if (ioctl(vmm.kvm, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) <= 0)
		fail("%s", "KVM lacks KVM_CAP_SYNC_REGS");
	vmm.vm = ioctl(vmm.kvm, KVM_CREATE_VM, 0);
	if (vmm.vm < 0)
		die("KVM_CREATE_VM");
	why = vmm_missing(mask);
	if (why)
		fail("%s", why);
	errno = -vmm_vm_create(&vmm.pv, 0, mib << 20, 0);
	if (errno)
		die("guest memory on /dev/pvmm");
	region.memory_size = vmm.pv.size;
	region.userspace_addr = (uintptr_t)vmm.pv.mem;
	if (ioctl(vmm.vm, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");
	for (int i = 0; i < PVMM_SVC_MAX; i++)
		if ((mask & (1UL << i)) && vmm_enable(&vmm.pv, i))
			die("PVMM_ENABLE_SERVICE");
	vmm.has_clock = mask & (1UL << PVMM_SVC_CLOCK);
	if (mask & (1UL << PVMM_SVC_MMU)) {
		struct pvmm_mmu_config mc = { .limit = vmm.pv.size };

		if (vmm_ioctl(vmm.pv.fd, PVMM_MMU_CONFIGURE, &mc))
			die("PVMM_MMU_CONFIGURE");
	}
	if (ioctl(vmm.vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) ||
	    ioctl(vmm.vm, KVM_CREATE_IRQCHIP, 0))
		die("KVM_CREATE_IRQCHIP");
	if (ioctl(vmm.vm, KVM_CREATE_PIT2, &pit))
		die("KVM_CREATE_PIT2");
	if (mask & (1UL << PVMM_SVC_BALLOON)) {
		/*
		 * A new balloon target raises IRQ 5 in the guest: the host
		 * signals the eventfd, KVM injects the edge, no exit here.
		 */
		struct pvmm_balloon_notify bn = { .irq = BALLOON_IRQ };
		struct kvm_irqfd irqfd = { .gsi = BALLOON_IRQ };

		bn.eventfd = eventfd(0, EFD_CLOEXEC);
		irqfd.fd = bn.eventfd;
		if (bn.eventfd < 0 || ioctl(vmm.vm, KVM_IRQFD, &irqfd))
			die("KVM_IRQFD");
		if (vmm_ioctl(vmm.pv.fd, PVMM_BALLOON_SET_NOTIFY, &bn))
			die("PVMM_BALLOON_SET_NOTIFY");
	}

	entry = load_linux(kernel, initrd, cmdline);
	write_mptable();
	make_cpuid(mask);
	for (int i = 0; i < 2; i++) {
		pthread_mutex_init(&vmm.uart[i].lock, NULL);
		vmm.uart[i].irq = i ? 3 : 4;
		vmm.uart[i].out = STDOUT_FILENO;
	}
	if (results) {
		vmm.uart[1].out = open(results, O_WRONLY | O_CREAT | O_TRUNC |
				       O_CLOEXEC, 0644);
		if (vmm.uart[1].out < 0)
			die(results);
	}
	pthread_mutex_init(&vmm.pause_lock, NULL);
	pthread_mutex_init(&vmm.test_lock, NULL);
	pthread_cond_init(&vmm.pause_cond, NULL);
	vmm.run_size = ioctl(vmm.kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	for (int i = 0; i < vmm.nr_vcpus; i++) {
		struct vcpu *v = &vmm.vcpus[i];

		v->id = i;
		v->fd = ioctl(vmm.vm, KVM_CREATE_VCPU, i);
		if (v->fd < 0)
			die("KVM_CREATE_VCPU");
		v->run = mmap(NULL, vmm.run_size, PROT_READ | PROT_WRITE,
			      MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED)
			die("mmap kvm_run");
		v->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
		set_cpuid(v);
		if (!i)
			set_boot_regs(v, entry);
		v->pvmm = vmm_vcpu_create(&vmm.pv, i, false);
		if (v->pvmm < 0) {
			errno = -v->pvmm;
			die("PVMM_CREATE_VCPU");
		}
	}
	if (vmm.has_clock)
		clock_tsc_offset();
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	t0 = vmm_now();
	for (int i = 0; i < vmm.nr_vcpus; i++)
		if (pthread_create(&vmm.vcpus[i].thread, NULL, vcpu_thread,
				   &vmm.vcpus[i]))
			die("pthread_create");
	while (running()) {
		usleep(100000);
		if (timeout && vmm_now() - t0 > timeout) {
			fprintf(stderr, "pvmm_run: the guest ran past %d s\n",
				timeout);
			stop(3);
		}
	}
	pthread_mutex_lock(&vmm.pause_lock);
	pthread_cond_broadcast(&vmm.pause_cond);
	while (vmm.vcpus_done < vmm.nr_vcpus)
		pthread_cond_wait(&vmm.pause_cond, &vmm.pause_lock);
	pthread_mutex_unlock(&vmm.pause_lock);
	for (int i = 0; i < vmm.nr_vcpus; i++)
		fprintf(stderr, "pvmm_run: vcpu%d: %lu pvmm calls, %lu continued\n",
			i, vmm.vcpus[i].calls, vmm.vcpus[i].again);
	/* a guest that ran out of time: where each vCPU was */
	if (vmm.exit_code == 3)
		for (int i = 0; i < vmm.nr_vcpus; i++) {
			struct kvm_mp_state mp = { 0 };
			struct kvm_regs r = { 0 };

			ioctl(vmm.vcpus[i].fd, KVM_GET_REGS, &r);
			ioctl(vmm.vcpus[i].fd, KVM_GET_MP_STATE, &mp);
			fprintf(stderr, "pvmm_run: vcpu%d: rip %#llx rsp %#llx",
				i, r.rip, r.rsp);
			fprintf(stderr, " rflags %#llx, mp_state %u\n", r.rflags,
				mp.mp_state);
		}
	fprintf(stderr, "pvmm_run: %lu PV MMU flush sets; exit %d\n",
		vmm.flush_sets, vmm.exit_code);
	return vmm.exit_code;
}
