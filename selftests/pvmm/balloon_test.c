// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm balloon selftests: this process is the VMM (its memfd is the guest
 * memory) and the guest (batches written into that memory, calls through
 * its vCPU). The host's view is the memfd's allocated bytes.
 *
 * Needs pvmm.ko and pvmm_balloon.ko loaded and debugfs mounted.
 */
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/eventfd.h>

#include "balloon_lib.h"
#include "kselftest_harness.h"

/* Without the hub or the service, the whole program is skipped. */
static void __attribute__((constructor)) needs_services(void)
{
	const char *why = vmm_missing(1ULL << PVMM_SVC_BALLOON);

	if (why)
		ksft_exit_skip("%s\n", why);
}

#define MEM	(64 * MIB)
#define BNR(fn)	PVMM_CALL_NR(PVMM_SVC_BALLOON, fn)

FIXTURE(bal) {
	struct bal_vm b;
	char sysfs[300];
};

FIXTURE_SETUP(bal)
{
	ASSERT_EQ(0, bal_vm_open(&self->b, MEM));
	ASSERT_EQ(0, bal_sysfs_dir(&self->b, self->sysfs, sizeof(self->sysfs)));
}

FIXTURE_TEARDOWN(bal)
{
	bal_vm_close(&self->b);
}

/* target, ballooned, released, reported, extents, stats updates */
static void ctl_get(int vm, __u64 out[6])
{
	struct pvmm_balloon_info i;

	memset(out, 0xff, 6 * sizeof(__u64));
	if (!vmm_ioctl(vm, PVMM_BALLOON_GET_INFO, &i))
		memcpy(out, &i, 6 * sizeof(__u64));
}

/* Inflating N MiB drops the memfd's allocation by exactly N MiB. */
TEST_F(bal, inflate_releases_memory)
{
	struct pvmm_balloon_range r[4];
	long long before = bal_file_bytes(self->b.memfd);
	__u64 out[6];

	ASSERT_EQ(MEM, before);
	for (int i = 0; i < 4; i++)
		r[i] = (struct pvmm_balloon_range){
			BAL_GPA + BAL_DATA + i * 2 * MIB, 2 * MIB };
	EXPECT_EQ(4 * 512, bal_batch(&self->b, PVMM_BALLOON_INFLATE, r, 4));
	EXPECT_EQ(before - 8 * MIB, bal_file_bytes(self->b.memfd));
	ctl_get(self->b.vm, out);
	EXPECT_EQ(2048, out[1]);
	EXPECT_EQ(8 * MIB, out[2]);
	EXPECT_EQ(1, out[4]);			/* one extent */
	EXPECT_EQ(2048, bal_config(&self->b)->ballooned_pages);
	EXPECT_EQ(0, bal_config(&self->b)->version & 1);
	EXPECT_EQ(PVMM_BALLOON_REPORT_ORDER,
		  bal_config(&self->b)->report_order);
	EXPECT_EQ(2048, bal_sysfs_read(self->sysfs, "ballooned_pages"));
	EXPECT_EQ(8 * MIB, bal_sysfs_read(self->sysfs, "released_bytes"));
}

/* 4 KiB pages one by one in a batch, scattered. */
TEST_F(bal, inflate_4k_pages)
{
	struct pvmm_balloon_range r[PVMM_BALLOON_MAX_BATCH];
	long long before = bal_file_bytes(self->b.memfd);

	for (int i = 0; i < PVMM_BALLOON_MAX_BATCH; i++)
		r[i] = (struct pvmm_balloon_range){
			BAL_GPA + BAL_DATA + i * 0x3000ULL, 0x1000 };
	EXPECT_EQ(PVMM_BALLOON_MAX_BATCH,
		  bal_batch(&self->b, PVMM_BALLOON_INFLATE, r,
			    PVMM_BALLOON_MAX_BATCH));
	EXPECT_EQ(before - PVMM_BALLOON_MAX_BATCH * 4096LL,
		  bal_file_bytes(self->b.memfd));
	EXPECT_EQ(PVMM_BALLOON_MAX_BATCH,
		  bal_sysfs_read(self->sysfs, "ballooned_pages"));
}

/* The same pages again count nothing; an overlap counts only what is new. */
TEST_F(bal, inflate_is_idempotent)
{
	long long bytes;

	EXPECT_EQ(512, bal_one(&self->b, PVMM_BALLOON_INFLATE, BAL_DATA,
			       2 * MIB));
	bytes = bal_file_bytes(self->b.memfd);
	EXPECT_EQ(0, bal_one(&self->b, PVMM_BALLOON_INFLATE, BAL_DATA,
			     2 * MIB));
	EXPECT_EQ(bytes, bal_file_bytes(self->b.memfd));
	EXPECT_EQ(256, bal_one(&self->b, PVMM_BALLOON_INFLATE,
			       BAL_DATA + MIB, 2 * MIB));
	EXPECT_EQ(768, bal_sysfs_read(self->sysfs, "ballooned_pages"));
	EXPECT_EQ(3 * MIB, bal_sysfs_read(self->sysfs, "released_bytes"));
}

/* Deflated pages come back zero-filled, and cost memory when touched. */
TEST_F(bal, deflate_and_retouch)
{
	char *p = self->b.mem + BAL_DATA;
	long long bytes;
	int nonzero = 0;

	ASSERT_EQ(512, bal_one(&self->b, PVMM_BALLOON_INFLATE, BAL_DATA,
			       2 * MIB));
	bytes = bal_file_bytes(self->b.memfd);
	EXPECT_EQ(512, bal_one(&self->b, PVMM_BALLOON_DEFLATE, BAL_DATA,
			       2 * MIB));
	EXPECT_EQ(0, bal_sysfs_read(self->sysfs, "ballooned_pages"));
	EXPECT_EQ(0, bal_config(&self->b)->ballooned_pages);
	for (__u64 i = 0; i < 2 * MIB; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(0, nonzero);
	memset(p, 2, 2 * MIB);
	EXPECT_EQ(bytes + 2 * MIB, bal_file_bytes(self->b.memfd));
}

/* Only pages in the balloon come out of it, all of a batch or none. */
TEST_F(bal, deflate_guards)
{
	struct pvmm_balloon_range r[2] = {
		{ BAL_GPA + BAL_DATA, 0x1000 },
		{ BAL_GPA + BAL_DATA + 0x2000, 0x1000 },
	};

	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_DEFLATE, BAL_DATA,
				   0x1000));
	ASSERT_EQ(1, bal_one(&self->b, PVMM_BALLOON_INFLATE, BAL_DATA, 0x1000));
	EXPECT_EQ(-EINVAL, bal_batch(&self->b, PVMM_BALLOON_DEFLATE, r, 2));
	EXPECT_EQ(1, bal_sysfs_read(self->sysfs, "ballooned_pages"));
	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_DEFLATE, BAL_DATA,
				   0x2000));
	EXPECT_EQ(1, bal_one(&self->b, PVMM_BALLOON_DEFLATE, BAL_DATA, 0x1000));
	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_DEFLATE, BAL_DATA,
				   0x1000));
}

TEST_F(bal, hostile_batches)
{
	struct pvmm_balloon_range r[2];
	int v = self->b.vcpu;
	long long bytes = bal_file_bytes(self->b.memfd);

	/* outside the slot, before it, past it */
	EXPECT_EQ(-EFAULT, bal_one(&self->b, PVMM_BALLOON_INFLATE, MEM,
				   0x1000));
	EXPECT_EQ(-EFAULT, bal_one(&self->b, PVMM_BALLOON_INFLATE,
				   MEM - 0x1000, 0x2000));
	r[0] = (struct pvmm_balloon_range){ BAL_GPA - 0x1000, 0x1000 };
	EXPECT_EQ(-EFAULT, bal_batch(&self->b, PVMM_BALLOON_INFLATE, r, 1));
	/* a good range and a bad one: nothing happens */
	r[0] = (struct pvmm_balloon_range){ BAL_GPA + BAL_DATA, 0x1000 };
	r[1] = (struct pvmm_balloon_range){ BAL_GPA + MEM, 0x1000 };
	EXPECT_EQ(-EFAULT, bal_batch(&self->b, PVMM_BALLOON_INFLATE, r, 2));
	EXPECT_EQ(bytes, bal_file_bytes(self->b.memfd));
	/* unaligned, empty, too long, wrapping */
	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_INFLATE,
				   BAL_DATA + 8, 0x1000));
	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_INFLATE, BAL_DATA,
				   0x800));
	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_INFLATE, BAL_DATA,
				   0));
	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_INFLATE, BAL_DATA,
				   PVMM_BALLOON_MAX_RANGE + 0x1000));
	r[0] = (struct pvmm_balloon_range){ ~0xfffULL, 0x2000 };
	EXPECT_EQ(-EINVAL, bal_batch(&self->b, PVMM_BALLOON_INFLATE, r, 1));
	/* overlapping ranges in one batch */
	r[0] = (struct pvmm_balloon_range){ BAL_GPA + BAL_DATA, 0x3000 };
	r[1] = (struct pvmm_balloon_range){ BAL_GPA + BAL_DATA + 0x2000,
					    0x1000 };
	EXPECT_EQ(-EINVAL, bal_batch(&self->b, PVMM_BALLOON_INFLATE, r, 2));
	/* counts: none, too many, a list past its page, a list nowhere */
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_BALLOON_INFLATE, BAL_GPA + BAL_LIST,
				     0));
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_BALLOON_INFLATE, BAL_GPA + BAL_LIST,
				     PVMM_BALLOON_MAX_BATCH + 1));
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_BALLOON_INFLATE,
				     BAL_GPA + BAL_LIST + 0x800, 200));
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_BALLOON_INFLATE, BAL_GPA + BAL_LIST,
				     ~0ULL));
	EXPECT_EQ(-EFAULT, vmm_call2(v, PVMM_BALLOON_INFLATE, 0x1000, 1));
	EXPECT_EQ(-EOPNOTSUPP, vmm_call2(v, BNR(77), 0, 0));
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_BALLOON_CONFIG, BAL_GPA + 8, 0));
	EXPECT_EQ(-EFAULT, vmm_call2(v, PVMM_BALLOON_CONFIG, 0x1000, 0));
	EXPECT_EQ(bytes, bal_file_bytes(self->b.memfd));
	EXPECT_EQ(0, bal_sysfs_read(self->sysfs, "ballooned_pages"));
}

/* Ranges that follow each other but lie in two slots stay apart. */
TEST_F(bal, batch_across_adjacent_slots)
{
	struct pvmm_balloon_range r[2] = {
		{ BAL_GPA + MEM - 2 * MIB, 2 * MIB },
		{ BAL_GPA + MEM, 2 * MIB },
	};
	int fd2;
	char *mem2 = vmm_memfd_map(4 * MIB, &fd2);

	ASSERT_NE(NULL, mem2);
	memset(mem2, 1, 4 * MIB);
	ASSERT_EQ(0, vmm_set_slot(self->b.vm, 1, BAL_GPA + MEM, 4 * MIB, mem2,
				  fd2, 0));
	EXPECT_EQ(1024, bal_batch(&self->b, PVMM_BALLOON_INFLATE, r, 2));
	EXPECT_EQ(MEM - 2 * MIB, bal_file_bytes(self->b.memfd));
	EXPECT_EQ(2 * MIB, bal_file_bytes(fd2));
	EXPECT_EQ(1024, bal_sysfs_read(self->sysfs, "ballooned_pages"));
	EXPECT_EQ(1024, bal_batch(&self->b, PVMM_BALLOON_DEFLATE, r, 2));
	munmap(mem2, 4 * MIB);
	close(fd2);
}

/* Reported free pages are released but stay the guest's. */
TEST_F(bal, free_page_reporting)
{
	long long bytes = bal_file_bytes(self->b.memfd);
	char *p = self->b.mem + 4 * MIB;
	int nonzero = 0;

	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_REPORT, 4 * MIB,
				   0x1000));
	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_REPORT,
				   4 * MIB + 0x1000, 2 * MIB));
	EXPECT_EQ(2 * MIB, bal_one(&self->b, PVMM_BALLOON_REPORT, 4 * MIB,
				   2 * MIB));
	EXPECT_EQ(bytes - 2 * MIB, bal_file_bytes(self->b.memfd));
	EXPECT_EQ(0, bal_sysfs_read(self->sysfs, "ballooned_pages"));
	EXPECT_EQ(2 * MIB, bal_sysfs_read(self->sysfs, "reported_bytes"));
	/* reported again before reuse: nothing more to release */
	EXPECT_EQ(0, bal_one(&self->b, PVMM_BALLOON_REPORT, 4 * MIB, 2 * MIB));
	for (__u64 i = 0; i < 2 * MIB; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(0, nonzero);
	/* and they are not the balloon's to deflate */
	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_DEFLATE, 4 * MIB,
				   0x1000));
}

TEST_F(bal, target_from_operator_and_vmm)
{
	struct pvmm_balloon_target t = { .pages = 999 };

	EXPECT_EQ(0, bal_config(&self->b)->target_pages);
	ASSERT_EQ(0, bal_sysfs_write(self->sysfs, "target_pages", 1234));
	EXPECT_EQ(1234, bal_config(&self->b)->target_pages);
	ASSERT_EQ(0, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_TARGET, &t));
	EXPECT_EQ(999, bal_config(&self->b)->target_pages);
	EXPECT_EQ(999, bal_sysfs_read(self->sysfs, "target_pages"));
	EXPECT_EQ(-EINVAL, bal_sysfs_write(self->sysfs, "target_pages", -5));
	t.reserved = 1;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_TARGET, &t));
	EXPECT_EQ(999, bal_config(&self->b)->target_pages);
	/* a control of this service it does not have */
	EXPECT_EQ(-ENOTTY, vmm_ioctl(self->b.vm,
				     _IOR(PVMM_IOCTL_MAGIC, PVMM_CTL_BALLOON + 9,
					  struct pvmm_balloon_info), &t));
}

/* Signals the eventfd has counted since the last read; 0 for none. */
static __u64 notified(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	__u64 n = 0;

	if (poll(&p, 1, 0) == 1 && read(efd, &n, sizeof(n)) != sizeof(n))
		n = 0;
	return n;
}

/* A new target raises the VMM's eventfd; the record names its IRQ. */
TEST_F(bal, target_change_notifies_the_vmm)
{
	struct pvmm_balloon_notify n = { .irq = 5 };
	struct pvmm_balloon_target t = { .pages = 10 };
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), other;

	ASSERT_LE(0, efd);
	n.eventfd = efd;
	ASSERT_EQ(0, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_NOTIFY, &n));
	EXPECT_EQ(5, bal_config(&self->b)->notify_irq);
	ASSERT_EQ(0, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_TARGET, &t));
	EXPECT_EQ(1, notified(efd));
	/* the same target again: nothing new to tell */
	ASSERT_EQ(0, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_TARGET, &t));
	EXPECT_EQ(0, notified(efd));
	/* the operator's target, through sysfs */
	ASSERT_EQ(0, bal_sysfs_write(self->sysfs, "target_pages", 20));
	EXPECT_EQ(1, notified(efd));

	/* bad requests change nothing */
	n.irq = 256;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_NOTIFY, &n));
	n.irq = 0;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_NOTIFY, &n));
	n = (struct pvmm_balloon_notify){ .eventfd = efd, .irq = 5,
					  .reserved = { 0, 1 } };
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_NOTIFY, &n));
	n = (struct pvmm_balloon_notify){ .eventfd = 1000, .irq = 5 };
	EXPECT_EQ(-EBADF, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_NOTIFY, &n));
	other = open("/dev/null", O_RDONLY | O_CLOEXEC);
	n.eventfd = other;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_NOTIFY, &n));
	close(other);
	EXPECT_EQ(5, bal_config(&self->b)->notify_irq);

	/* none: the record says so, and the eventfd rests */
	n = (struct pvmm_balloon_notify){ .eventfd = -1 };
	ASSERT_EQ(0, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_NOTIFY, &n));
	EXPECT_EQ(0, bal_config(&self->b)->notify_irq);
	ASSERT_EQ(0, bal_sysfs_write(self->sysfs, "target_pages", 30));
	EXPECT_EQ(0, notified(efd));
	/* set again, then the VM goes with it: the teardown drops it */
	n = (struct pvmm_balloon_notify){ .eventfd = efd, .irq = 7 };
	ASSERT_EQ(0, vmm_ioctl(self->b.vm, PVMM_BALLOON_SET_NOTIFY, &n));
	close(efd);
}

struct racer {
	struct bal_vm *b;
	int id;
	__u64 list;
	int inflate;
	int bad;
	__u64 last_target;
};

/* Inflate or deflate the same page over and over from its own vCPU. */
static void *thread_race(void *p)
{
	struct racer *r = p;
	struct pvmm_balloon_range rg = { BAL_GPA + BAL_DATA, 0x1000 };
	int vcpu = ioctl(r->b->vm, PVMM_CREATE_VCPU, r->id);

	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND)) {
		r->bad = 1000;
		return NULL;
	}
	for (int i = 0; i < 500; i++) {
		__s64 ret = bal_batch_at(vcpu, r->b->mem, r->list,
					 r->inflate ? PVMM_BALLOON_INFLATE :
						      PVMM_BALLOON_DEFLATE,
					 &rg, 1);

		if (r->inflate)
			r->bad += ret != 0 && ret != 1;
		else
			r->bad += ret != 1 && ret != -EINVAL;
	}
	close(vcpu);
	return NULL;
}

/* pvmmctl @args; its output in @out, its exit status returned */
static int run_pvmmctl(char *out, size_t len, const char *fmt, ...)
{
	char cmd[160];
	va_list ap;
	size_t n;
	FILE *p;

	strcpy(cmd, "pvmmctl ");
	va_start(ap, fmt);
	vsnprintf(cmd + 8, sizeof(cmd) - 8, fmt, ap);
	va_end(ap);
	strcat(cmd, " 2>&1");
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = 0;
	return pclose(p);
}

/* The operator's tool sets the target and shows the guest's view. */
TEST_F(bal, operator_tool)
{
	char vm[16], out[16384];

	if (access("/bin/pvmmctl", X_OK))
		SKIP(return, "pvmmctl not installed");
	snprintf(vm, sizeof(vm), "vm%u", self->b.v.id);
	ASSERT_EQ(0, run_pvmmctl(out, sizeof(out), "balloon %s 8M", vm));
	EXPECT_EQ(2048, bal_config(&self->b)->target_pages);
	EXPECT_NE(0, run_pvmmctl(out, sizeof(out), "balloon %s 12345x", vm));
	EXPECT_EQ(2048, bal_config(&self->b)->target_pages);
	ASSERT_EQ(512, bal_one(&self->b, PVMM_BALLOON_INFLATE, BAL_DATA,
			       2 * MIB));
	EXPECT_EQ(0, run_pvmmctl(out, sizeof(out), "--json show %s", vm));
	EXPECT_NE(NULL, strstr(out, "\"balloon\": {"));
	EXPECT_NE(NULL, strstr(out, "\"target_pages\": 2048"));
	EXPECT_NE(NULL, strstr(out, "\"ballooned_pages\": 512"));
	EXPECT_NE(NULL, strstr(out, "\"services\": \"balloon\""));
	EXPECT_EQ(0, run_pvmmctl(out, sizeof(out), "show %s", vm));
	EXPECT_NE(NULL, strstr(out, "balloon:\n"));
	EXPECT_EQ(0, run_pvmmctl(out, sizeof(out), "list"));
	EXPECT_NE(NULL, strstr(out, vm));
	EXPECT_EQ(0, run_pvmmctl(out, sizeof(out), "--json list"));
	EXPECT_EQ('[', out[0]);
	EXPECT_NE(NULL, strstr(out, "\"ballooned_pages\": 512"));
	/* a VM that does not exist, and a service it does not have */
	EXPECT_NE(0, run_pvmmctl(out, sizeof(out), "show vm99999"));
	EXPECT_NE(NULL, strstr(out, "no VM vm99999"));
	EXPECT_NE(0, run_pvmmctl(out, sizeof(out), "weight %s 5", vm));
	EXPECT_NE(NULL, strstr(out, "not enabled"));
	EXPECT_EQ(0, run_pvmmctl(out, sizeof(out), "top -d 0.1 -n 1"));
	EXPECT_NE(NULL, strstr(out, "BALLOONED"));
}

/* Two vCPUs fight over one page while the operator moves the target. */
TEST_F(bal, races_and_target_changes)
{
	struct racer r[2] = {
		{ &self->b, 1, BAL_LIST + 0x100, 1 },
		{ &self->b, 2, BAL_LIST + 0x200, 0 },
	};
	long long pages, bytes;
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, thread_race, &r[i]));
	for (int i = 0; i < 200; i++)
		bal_sysfs_write(self->sysfs, "target_pages", i);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, r[i].bad);
	}
	EXPECT_EQ(199, bal_config(&self->b)->target_pages);
	EXPECT_EQ(0, bal_config(&self->b)->version & 1);
	pages = bal_sysfs_read(self->sysfs, "ballooned_pages");
	EXPECT_TRUE(pages == 0 || pages == 1);
	EXPECT_EQ(pages, bal_config(&self->b)->ballooned_pages);
	/* accounting still matches the page's state */
	bytes = bal_file_bytes(self->b.memfd);
	if (pages)
		EXPECT_EQ(1, bal_one(&self->b, PVMM_BALLOON_DEFLATE, BAL_DATA,
				     0x1000));
	EXPECT_EQ(-EINVAL, bal_one(&self->b, PVMM_BALLOON_DEFLATE, BAL_DATA,
				   0x1000));
	EXPECT_EQ(bytes, bal_file_bytes(self->b.memfd));
}

TEST_F(bal, guest_statistics)
{
	struct pvmm_balloon_stat *st =
		(struct pvmm_balloon_stat *)(self->b.mem + BAL_STATS);
	struct pvmm_balloon_info info;
	int v = self->b.vcpu;

	for (int i = 0; i < PVMM_BALLOON_S_NR; i++)
		st[i] = (struct pvmm_balloon_stat){ .tag = i, .val = 100 + i };
	st[PVMM_BALLOON_S_NR] = (struct pvmm_balloon_stat){ .tag = 999 };
	EXPECT_EQ(0, vmm_call2(v, PVMM_BALLOON_STATS, BAL_GPA + BAL_STATS,
			       PVMM_BALLOON_S_NR + 1));
	ASSERT_EQ(0, vmm_ioctl(self->b.vm, PVMM_BALLOON_GET_INFO, &info));
	for (int i = 0; i < PVMM_BALLOON_S_NR; i++)
		EXPECT_EQ(100 + i, info.stats[i]);
	EXPECT_EQ(0, info.reserved[0]);
	/* and the operator reads the same */
	EXPECT_EQ(104, bal_sysfs_read(self->sysfs, "guest_free_bytes"));
	EXPECT_EQ(107, bal_sysfs_read(self->sysfs, "guest_caches_bytes"));
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_BALLOON_STATS, BAL_GPA + BAL_STATS,
				     PVMM_BALLOON_MAX_STATS + 1));
	EXPECT_EQ(-EINVAL, vmm_call2(v, PVMM_BALLOON_STATS, BAL_GPA + BAL_STATS,
				     0));
	EXPECT_EQ(-EFAULT, vmm_call2(v, PVMM_BALLOON_STATS, 0x1000, 1));
}

static long rss_anon_kb(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "RssAnon:", 8))
			v = strtol(line + 8, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* Slots without a memfd: private anonymous memory is zapped, else no. */
TEST(anonymous_slots)
{
	char *anon = mmap(NULL, 8 * MIB, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *shared = mmap(NULL, 4 * MIB, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct pvmm_balloon_range r = { BAL_GPA + BAL_DATA, 2 * MIB };
	int vm = vmm_open(), vcpu;
	long before;

	ASSERT_NE(MAP_FAILED, anon);
	ASSERT_NE(MAP_FAILED, shared);
	memset(anon, 1, 8 * MIB);
	ASSERT_EQ(0, vmm_set_slot(vm, 0, BAL_GPA, 8 * MIB, anon, -1, 0));
	ASSERT_EQ(0, vmm_set_slot(vm, 1, 2 * BAL_GPA, 4 * MIB, shared, -1, 0));
	ASSERT_EQ(0, vmm_ioctl(vm, PVMM_ENABLE_SERVICE,
			       (void *)PVMM_SVC_BALLOON));
	vcpu = ioctl(vm, PVMM_CREATE_VCPU, 0);
	ASSERT_EQ(0, ioctl(vcpu, PVMM_VCPU_BIND));
	before = rss_anon_kb();
	EXPECT_EQ(512, bal_batch_at(vcpu, anon, BAL_LIST,
				    PVMM_BALLOON_INFLATE, &r, 1));
	EXPECT_GE(before - 2048 + 64, rss_anon_kb());
	EXPECT_EQ(0, anon[BAL_DATA]);
	r.gpa = 2 * BAL_GPA;
	EXPECT_EQ(-EOPNOTSUPP, bal_batch_at(vcpu, anon, BAL_LIST,
					    PVMM_BALLOON_INFLATE, &r, 1));
	close(vcpu);
	close(vm);
}

/* The operator's view goes with the VM. */
TEST(sysfs_follows_vm)
{
	struct bal_vm b;
	char dir[300];
	struct stat st;

	ASSERT_EQ(0, bal_vm_open(&b, 4 * MIB));
	ASSERT_EQ(0, bal_sysfs_dir(&b, dir, sizeof(dir)));
	EXPECT_EQ(0, stat(dir, &st));
	bal_vm_close(&b);
	EXPECT_EQ(0, vmm_sysfs_wait("vms", 0, 5000));
	EXPECT_NE(0, stat(dir, &st));
}

TEST_HARNESS_MAIN
