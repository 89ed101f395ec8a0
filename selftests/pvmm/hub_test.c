// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm hub selftests: this process plays the VMM (and, through the
 * pvmm_test service, the guest). Every hub ioctl gets good and hostile
 * input; teardown is checked through the hub's debugfs counters.
 *
 * Needs pvmm.ko and pvmm_test.ko loaded and debugfs mounted.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "libpvmm.h"
#include "kselftest_harness.h"
#include <linux/pvmm_balloon.h>
#include <linux/pvmm_test.h>

/* Without the hub or the service, the whole program is skipped. */
static void __attribute__((constructor)) needs_services(void)
{
	const char *why = vmm_missing(1ULL << PVMM_SVC_TEST);

	if (why)
		ksft_exit_skip("%s\n", why);
}

#define MEM_SIZE	(4UL << 20)
#define GPA		0x100000ULL
#define TNR(fn)		PVMM_CALL_NR(PVMM_SVC_TEST, fn)

static __u32 max_vcpus(int vm)
{
	struct pvmm_version v;

	return ioctl(vm, PVMM_GET_VERSION, &v) ? 0 : v.max_vcpus;
}

/* Wait for earlier tests' VMs to be torn down. */
static void settle(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, vmm_sysfs_wait("vms", 0, 5000));
	ASSERT_EQ(0, vmm_sysfs_wait("bindings", 0, 5000));
	ASSERT_EQ(0, vmm_sysfs_wait("pinned_pages", 0, 5000));
}

TEST(version)
{
	struct pvmm_version v;
	int vm = vmm_open();

	ASSERT_LE(0, vm);
	memset(&v, 0xff, sizeof(v));
	ASSERT_EQ(0, vmm_ioctl(vm, PVMM_GET_VERSION, &v));
	EXPECT_EQ(PVMM_ABI_VERSION, v.abi_version);
	EXPECT_EQ(PVMM_MAX_MEMSLOTS, v.max_memslots);
	EXPECT_EQ(PVMM_GPA_BITS, v.gpa_bits);
	EXPECT_LT(0, v.max_vcpus);
	EXPECT_EQ(1, v.services & 1);
	EXPECT_NE(0, v.services & (1ULL << PVMM_SVC_TEST));
	EXPECT_EQ(0, v.pad);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(0, v.reserved[i]);
	/* vm<id> is this VM's directory in sysfs */
	char path[64];

	snprintf(path, sizeof(path), PVMM_SYSFS "/vm%u/calls", v.vm_id);
	EXPECT_EQ(0, access(path, R_OK));
	close(vm);
}

TEST(bad_pointers_and_commands)
{
	int vm = vmm_open();

	ASSERT_LE(0, vm);
	EXPECT_EQ(-EFAULT, vmm_ioctl(vm, PVMM_GET_VERSION, NULL));
	EXPECT_EQ(-EFAULT, vmm_ioctl(vm, PVMM_GET_VERSION,
				     (void *)0xffff888000000000UL));
	EXPECT_EQ(-EFAULT, vmm_ioctl(vm, PVMM_SET_MEMSLOT, (void *)16));
	EXPECT_EQ(-ENOTTY, vmm_ioctl(vm, _IO(PVMM_IOCTL_MAGIC, 0x7f), NULL));
	/* Right number, wrong size or direction: a different command. */
	EXPECT_EQ(-ENOTTY, vmm_ioctl(vm, _IOW(PVMM_IOCTL_MAGIC, 0x01, __u32),
				     NULL));
	EXPECT_EQ(-ENOTTY, vmm_ioctl(vm, _IOW(PVMM_IOCTL_MAGIC, 0x00,
					      struct pvmm_version), NULL));
	/* vCPU commands on the VM file. */
	EXPECT_EQ(-ENOTTY, vmm_ioctl(vm, PVMM_VCPU_CALL, NULL));
	EXPECT_EQ(-ENOTTY, vmm_ioctl(vm, PVMM_VCPU_BIND, NULL));
	close(vm);
}

FIXTURE(vm) {
	int vm;
	int memfd;
	char *mem;
};

FIXTURE_SETUP(vm)
{
	self->vm = vmm_open();
	ASSERT_LE(0, self->vm);
	self->mem = vmm_memfd_map(MEM_SIZE, &self->memfd);
	ASSERT_NE(NULL, self->mem);
}

FIXTURE_TEARDOWN(vm)
{
	close(self->vm);
	munmap(self->mem, MEM_SIZE);
	close(self->memfd);
}

TEST_F(vm, memslot_add_replace_delete)
{
	EXPECT_EQ(0, vmm_set_slot(self->vm, 0, GPA, MEM_SIZE, self->mem,
				  self->memfd, 0));
	/* Replace with half the size, and move it. */
	EXPECT_EQ(0, vmm_set_slot(self->vm, 0, GPA, MEM_SIZE / 2, self->mem,
				  self->memfd, 0));
	EXPECT_EQ(0, vmm_set_slot(self->vm, 0, 1ULL << 40, MEM_SIZE / 2,
				  self->mem + MEM_SIZE / 2, self->memfd,
				  MEM_SIZE / 2));
	/* Without a memfd. */
	EXPECT_EQ(0, vmm_set_slot(self->vm, 1, GPA, MEM_SIZE / 2, self->mem,
				  -1, 0));
	EXPECT_EQ(0, vmm_set_slot(self->vm, 0, 0, 0, NULL, -1, 0));
	EXPECT_EQ(-ENOENT, vmm_set_slot(self->vm, 0, 0, 0, NULL, -1, 0));
	EXPECT_EQ(0, vmm_set_slot(self->vm, 1, 0, 0, NULL, -1, 0));
}

TEST_F(vm, memslot_bad_fields)
{
	struct pvmm_memslot m = {
		.slot = 0, .guest_phys_addr = GPA, .size = MEM_SIZE,
		.userspace_addr = (uintptr_t)self->mem, .memfd = -1,
	};

	m.flags = 1U << 5;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vm, PVMM_SET_MEMSLOT, &m));
	m.flags = 0;
	m.reserved = 1;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vm, PVMM_SET_MEMSLOT, &m));
	m.reserved = 0;
	m.slot = PVMM_MAX_MEMSLOTS;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vm, PVMM_SET_MEMSLOT, &m));
	m.slot = ~0U;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vm, PVMM_SET_MEMSLOT, &m));
	m.slot = 0;
	m.memfd_offset = 4096;	/* an offset without a memfd */
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vm, PVMM_SET_MEMSLOT, &m));
	m.memfd_offset = 0;
	EXPECT_EQ(0, vmm_ioctl(self->vm, PVMM_SET_MEMSLOT, &m));
}

TEST_F(vm, memslot_unaligned)
{
	int vm = self->vm, fd = self->memfd;
	char *mem = self->mem;

	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, GPA + 1, MEM_SIZE, mem, fd, 0));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, GPA + 2048, 4096, mem, fd, 0));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, GPA, 2048, mem, fd, 0));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, GPA, 4096, mem + 8, fd, 0));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, GPA, 4096, mem, fd, 16));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, GPA, 4096, mem, -1, 4096));
}

TEST_F(vm, memslot_overflow)
{
	int vm = self->vm;
	char *mem = self->mem;

	/* gpa + size wraps, or ends past 2^52 */
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, ~0xfffULL, 8192, mem, -1, 0));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, (1ULL << 52) - 4096, 8192,
					mem, -1, 0));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, 1ULL << 52, 4096, mem, -1, 0));
	EXPECT_EQ(0, vmm_set_slot(vm, 0, (1ULL << 52) - 4096, 4096, mem, -1,
				  0));
	/* uaddr + size wraps; kernel addresses; unmapped is the VMM's own */
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 1, 0, 8192, (void *)~0xfffUL, -1,
					0));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 1, 0, 4096,
					(void *)0xffff888000000000UL, -1, 0));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 1, 0, 1ULL << 62, mem, -1, 0));
	/* memfd offset + size past the file, or wrapping */
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 1, 0, MEM_SIZE, mem, self->memfd,
					4096));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 1, 0, 8192, mem, self->memfd,
					~0xfffULL));
}

TEST_F(vm, memslot_overlap)
{
	int vm = self->vm;
	char *mem = self->mem;
	const __u64 sz = 0x100000;

	ASSERT_EQ(0, vmm_set_slot(vm, 0, GPA, sz, mem, -1, 0));
	EXPECT_EQ(-EEXIST, vmm_set_slot(vm, 1, GPA, sz, mem, -1, 0));
	EXPECT_EQ(-EEXIST, vmm_set_slot(vm, 1, GPA + 4096, 4096, mem, -1, 0));
	EXPECT_EQ(-EEXIST, vmm_set_slot(vm, 1, GPA - 4096, 8192, mem, -1, 0));
	EXPECT_EQ(-EEXIST, vmm_set_slot(vm, 1, GPA + sz - 4096, 8192, mem, -1,
					0));
	EXPECT_EQ(-EEXIST, vmm_set_slot(vm, 1, 0, 4 * sz, mem, -1, 0));
	EXPECT_EQ(0, vmm_set_slot(vm, 1, GPA + sz, sz, mem, -1, 0));
	EXPECT_EQ(0, vmm_set_slot(vm, 2, GPA - sz, sz, mem, -1, 0));
	/* Growing slot 1 over slot 0 is refused and leaves slot 1 as it was. */
	EXPECT_EQ(-EEXIST, vmm_set_slot(vm, 1, GPA, 2 * sz, mem, -1, 0));
	EXPECT_EQ(-EEXIST, vmm_set_slot(vm, 3, GPA + sz, 4096, mem, -1, 0));
}

TEST_F(vm, memslot_all_slots)
{
	for (__u32 i = 0; i < PVMM_MAX_MEMSLOTS; i++)
		ASSERT_EQ(0, vmm_set_slot(self->vm, i, GPA + i * 0x10000ULL,
					  0x10000, self->mem, -1, 0));
	EXPECT_EQ(-EINVAL, vmm_set_slot(self->vm, PVMM_MAX_MEMSLOTS, 0,
					4096, self->mem, -1, 0));
	for (__u32 i = 0; i < PVMM_MAX_MEMSLOTS; i++)
		ASSERT_EQ(0, vmm_set_slot(self->vm, i, 0, 0, NULL, -1, 0));
}

TEST_F(vm, memslot_bad_files)
{
	int vm = self->vm, pipefd[2], ro;
	char path[64];

	struct pvmm_memslot m = {
		.guest_phys_addr = GPA, .size = 4096, .memfd = -5,
		.userspace_addr = (uintptr_t)self->mem,
		.flags = PVMM_MEMSLOT_MEMFD,
	};

	EXPECT_EQ(-EINVAL, vmm_ioctl(vm, PVMM_SET_MEMSLOT, &m));
	EXPECT_EQ(-EBADF, vmm_set_slot(vm, 0, GPA, 4096, self->mem, 9999, 0));
	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, GPA, 4096, self->mem,
					pipefd[0], 0));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->memfd);
	ro = open(path, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EINVAL, vmm_set_slot(vm, 0, GPA, 4096, self->mem, ro, 0));
	close(ro);
	close(pipefd[0]);
	close(pipefd[1]);
	/* A closed memfd slot keeps its file: the slot owns a reference. */
	ro = memfd_create("tmp", 0);
	ASSERT_EQ(0, ftruncate(ro, 4096));
	EXPECT_EQ(0, vmm_set_slot(vm, 0, GPA, 4096, self->mem, ro, 0));
	close(ro);
	EXPECT_EQ(0, vmm_set_slot(vm, 0, 0, 0, NULL, -1, 0));
}

TEST_F(vm, vcpu_create)
{
	__u32 max = max_vcpus(self->vm);
	int a, b;

	a = ioctl(self->vm, PVMM_CREATE_VCPU, 0);
	ASSERT_LE(0, a);
	EXPECT_EQ(-1, ioctl(self->vm, PVMM_CREATE_VCPU, 0));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, ioctl(self->vm, PVMM_CREATE_VCPU, max));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->vm, PVMM_CREATE_VCPU, ~0UL));
	EXPECT_EQ(EINVAL, errno);
	b = ioctl(self->vm, PVMM_CREATE_VCPU, max - 1);
	EXPECT_LE(0, b);
	/* The id is free again once its file is closed. */
	close(a);
	a = ioctl(self->vm, PVMM_CREATE_VCPU, 0);
	EXPECT_LE(0, a);
	/* VM commands on a vCPU file. */
	EXPECT_EQ(-ENOTTY, vmm_ioctl(a, PVMM_GET_VERSION, NULL));
	EXPECT_EQ(-ENOTTY, vmm_ioctl(a, PVMM_CREATE_VCPU, NULL));
	close(a);
	close(b);
}

TEST_F(vm, enable_service)
{
	int vcpu;

	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vm, PVMM_ENABLE_SERVICE,
				     (void *)PVMM_SVC_HUB));
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vm, PVMM_ENABLE_SERVICE,
				     (void *)PVMM_SVC_MAX));
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vm, PVMM_ENABLE_SERVICE,
				     (void *)~0UL));
	/* Service 62 is never registered. */
	EXPECT_EQ(-ENODEV, vmm_ioctl(self->vm, PVMM_ENABLE_SERVICE,
				     (void *)62));
	EXPECT_EQ(0, vmm_ioctl(self->vm, PVMM_ENABLE_SERVICE,
			       (void *)PVMM_SVC_TEST));
	EXPECT_EQ(-EEXIST, vmm_ioctl(self->vm, PVMM_ENABLE_SERVICE,
				     (void *)PVMM_SVC_TEST));
	vcpu = ioctl(self->vm, PVMM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	close(vcpu);
	/* The set of services is fixed once a vCPU was created. */
	EXPECT_EQ(-EBUSY, vmm_ioctl(self->vm, PVMM_ENABLE_SERVICE,
				    (void *)62));
}

TEST_F(vm, service_ctl)
{
	struct pvmm_test_echo e;

	EXPECT_EQ(-ENODEV, vmm_ioctl(self->vm, PVMM_TEST_CTL_ECHO, &e));
	ASSERT_EQ(0, vmm_ioctl(self->vm, PVMM_ENABLE_SERVICE,
			       (void *)PVMM_SVC_TEST));
	for (int i = 0; i < 6; i++) {
		e.in[i] = 100 * i;
		e.out[i] = ~0ULL;
	}
	ASSERT_EQ(0, vmm_ioctl(self->vm, PVMM_TEST_CTL_ECHO, &e));
	for (int i = 0; i < 6; i++)
		EXPECT_EQ(100 * i + i + 1, e.out[i]);
	/* a number of the service's range it does not have */
	EXPECT_EQ(-ENOTTY, vmm_ioctl(self->vm,
				     _IOWR(PVMM_IOCTL_MAGIC, PVMM_CTL_TEST + 5,
					   struct pvmm_test_echo), &e));
	/* its number with another size or direction is another control */
	EXPECT_EQ(-ENOTTY, vmm_ioctl(self->vm,
				     _IOWR(PVMM_IOCTL_MAGIC, PVMM_CTL_TEST + 0,
					   __u64), &e));
	EXPECT_EQ(-ENOTTY, vmm_ioctl(self->vm,
				     _IOW(PVMM_IOCTL_MAGIC, PVMM_CTL_TEST + 0,
					  struct pvmm_test_echo), &e));
	/* numbers of no service, and of another magic */
	EXPECT_EQ(-ENOTTY, vmm_ioctl(self->vm,
				     _IOWR(PVMM_IOCTL_MAGIC, 0x90,
					   struct pvmm_test_echo), &e));
	EXPECT_EQ(-ENOTTY, vmm_ioctl(self->vm,
				     _IOWR(0xAE, PVMM_CTL_TEST + 0,
					   struct pvmm_test_echo), &e));
	/* a service that is not enabled */
	EXPECT_EQ(-ENODEV, vmm_ioctl(self->vm, PVMM_BALLOON_GET_INFO, &e));
	EXPECT_EQ(-EFAULT, vmm_ioctl(self->vm, PVMM_TEST_CTL_ECHO, NULL));
	EXPECT_EQ(-EFAULT, vmm_ioctl(self->vm, PVMM_TEST_CTL_ECHO,
				     (void *)0xffff888000000000UL));
}

TEST_F(vm, other_process)
{
	int vcpu = ioctl(self->vm, PVMM_CREATE_VCPU, 0);
	pid_t pid;
	int status;

	ASSERT_LE(0, vcpu);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pvmm_version v;

		/* Another mm: the fds are useless there. */
		if (vmm_ioctl(self->vm, PVMM_GET_VERSION, &v) != -EIO)
			_exit(1);
		if (vmm_ioctl(vcpu, PVMM_VCPU_BIND, NULL) != -EIO)
			_exit(2);
		if (vmm_call(vcpu, PVMM_CALL_NOP, NULL, NULL) != -EIO)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(vcpu);
}

/* A VM with guest memory, the test service and one vCPU bound here. */
FIXTURE(guest) {
	int vm;
	int vcpu;
	int memfd;
	char *mem;
};

FIXTURE_SETUP(guest)
{
	settle(_metadata);
	self->vm = vmm_open();
	ASSERT_LE(0, self->vm);
	self->mem = vmm_memfd_map(MEM_SIZE, &self->memfd);
	ASSERT_NE(NULL, self->mem);
	ASSERT_EQ(0, vmm_set_slot(self->vm, 0, GPA, MEM_SIZE, self->mem,
				  self->memfd, 0));
	ASSERT_EQ(0, vmm_ioctl(self->vm, PVMM_ENABLE_SERVICE,
			       (void *)PVMM_SVC_TEST));
	self->vcpu = ioctl(self->vm, PVMM_CREATE_VCPU, 0);
	ASSERT_LE(0, self->vcpu);
	ASSERT_EQ(0, vmm_ioctl(self->vcpu, PVMM_VCPU_BIND, NULL));
}

FIXTURE_TEARDOWN(guest)
{
	if (self->vcpu >= 0)
		close(self->vcpu);
	if (self->vm >= 0)
		close(self->vm);
	munmap(self->mem, MEM_SIZE);
	close(self->memfd);
}

TEST_F(guest, hub_calls)
{
	EXPECT_EQ(0, vmm_call2(self->vcpu, PVMM_CALL_NOP, 0, 0));
	EXPECT_EQ(PVMM_ABI_VERSION,
		  vmm_call2(self->vcpu, PVMM_CALL_ABI_VERSION, 0, 0));
	EXPECT_EQ(1 | (1ULL << PVMM_SVC_TEST),
		  vmm_call2(self->vcpu, PVMM_CALL_FEATURES, 0, 0));
}

TEST_F(guest, unknown_calls)
{
	const __u32 nrs[] = {
		PVMM_CALL_NR(PVMM_SVC_HUB, 0xff), PVMM_CALL_NR(5, 0),
		PVMM_CALL_NR(PVMM_SVC_CLOCK, 1), TNR(200), 1U << 16,
		0xffffffffU, PVMM_CALL_NR(PVMM_SVC_MAX, 0),
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(nrs); i++)
		EXPECT_EQ(-EOPNOTSUPP, vmm_call2(self->vcpu, nrs[i], 0, 0));
}

TEST_F(guest, call_struct_checks)
{
	struct pvmm_call c = { .nr = PVMM_CALL_NOP, .flags = 1 };

	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vcpu, PVMM_VCPU_CALL, &c));
	c.flags = 0;
	c.out[2] = 1;
	EXPECT_EQ(-EINVAL, vmm_ioctl(self->vcpu, PVMM_VCPU_CALL, &c));
	EXPECT_EQ(-EFAULT, vmm_ioctl(self->vcpu, PVMM_VCPU_CALL, NULL));
	EXPECT_EQ(-EFAULT, vmm_ioctl(self->vcpu, PVMM_VCPU_CALL,
				     (void *)0xffff888000000000UL));
	/* Arguments arrive in order, all six. */
	__u64 a[PVMM_CALL_NARGS] = { 1, 10, 100, 1000, 10000, 1ULL << 40 };
	__s64 ret;

	ASSERT_EQ(0, vmm_call(self->vcpu, TNR(PVMM_TEST_ECHO), a, &ret));
	EXPECT_EQ(1 + 20 + 300 + 4000 + 50000 + 6 * (1LL << 40), ret);
}

static void *thread_try_bind(void *arg)
{
	int vcpu = *(int *)arg;

	return (void *)(intptr_t)vmm_ioctl(vcpu, PVMM_VCPU_BIND, NULL);
}

static void *thread_try_call(void *arg)
{
	int vcpu = *(int *)arg;

	return (void *)(intptr_t)vmm_call(vcpu, PVMM_CALL_NOP, NULL, NULL);
}

static intptr_t in_thread(void *(*fn)(void *), int vcpu)
{
	pthread_t t;
	void *r;

	if (pthread_create(&t, NULL, fn, &vcpu) || pthread_join(t, &r))
		return -1000;
	return (intptr_t)r;
}

TEST_F(guest, bind_rules)
{
	int v1 = ioctl(self->vm, PVMM_CREATE_VCPU, 1);

	ASSERT_LE(0, v1);
	EXPECT_EQ(-EALREADY, vmm_ioctl(self->vcpu, PVMM_VCPU_BIND, NULL));
	EXPECT_EQ(-EBUSY, in_thread(thread_try_bind, self->vcpu));
	EXPECT_EQ(-EPERM, in_thread(thread_try_call, self->vcpu));
	EXPECT_EQ(-ENOTCONN, vmm_call(v1, PVMM_CALL_NOP, NULL, NULL));
	/* A thread binds v1 and exits: this one may take v1 over. */
	EXPECT_EQ(0, in_thread(thread_try_bind, v1));
	EXPECT_EQ(-EPERM, vmm_call(v1, PVMM_CALL_NOP, NULL, NULL));
	EXPECT_EQ(0, vmm_ioctl(v1, PVMM_VCPU_BIND, NULL));
	EXPECT_EQ(0, vmm_call(v1, PVMM_CALL_NOP, NULL, NULL));
	close(v1);
	EXPECT_EQ(1, vmm_sysfs_wait("bindings", 1, 3000));
}

static int stop_sleeper;

static void *thread_bind_and_sleep(void *arg)
{
	int vcpu = *(int *)arg;
	intptr_t r = vmm_ioctl(vcpu, PVMM_VCPU_BIND, NULL);

	while (!__atomic_load_n(&stop_sleeper, __ATOMIC_RELAXED))
		usleep(1000);
	return (void *)r;
}

/* Closing a vCPU from another thread unhooks the binding in its thread. */
TEST_F(guest, close_while_bound_elsewhere)
{
	int v1 = ioctl(self->vm, PVMM_CREATE_VCPU, 1);
	pthread_t t;
	void *r;

	ASSERT_LE(0, v1);
	__atomic_store_n(&stop_sleeper, 0, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_create(&t, NULL, thread_bind_and_sleep, &v1));
	EXPECT_EQ(2, vmm_sysfs_wait("bindings", 2, 3000));
	close(v1);
	/* The sleeping thread is still alive and gave the binding back. */
	EXPECT_EQ(1, vmm_sysfs_wait("bindings", 1, 3000));
	__atomic_store_n(&stop_sleeper, 1, __ATOMIC_RELAXED);
	pthread_join(t, &r);
	EXPECT_EQ(0, (intptr_t)r);
}

TEST_F(guest, closed_vm_file)
{
	close(self->vm);
	self->vm = -1;
	/* The vCPU keeps the VM alive. */
	EXPECT_EQ(0, vmm_call2(self->vcpu, PVMM_CALL_NOP, 0, 0));
	EXPECT_EQ(1, vmm_sysfs_read("vms"));
	close(self->vcpu);
	self->vcpu = -1;
	EXPECT_EQ(0, vmm_sysfs_wait("vms", 0, 3000));
	EXPECT_EQ(0, vmm_sysfs_wait("bindings", 0, 3000));
}

TEST_F(guest, guest_memory_roundtrip)
{
	__u64 v = 0x1122334455667788ULL;
	int c = self->vcpu;

	memcpy(self->mem + 0x2000, &v, sizeof(v));
	EXPECT_EQ((__s64)v, vmm_call2(c, TNR(PVMM_TEST_READ), GPA + 0x2000, 8));
	EXPECT_EQ(0x88, vmm_call2(c, TNR(PVMM_TEST_READ), GPA + 0x2000, 1));
	__u64 w[PVMM_CALL_NARGS] = { GPA + 0x3004, 0xabcdef, 4 };
	__s64 ret;

	ASSERT_EQ(0, vmm_call(c, TNR(PVMM_TEST_WRITE), w, &ret));
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0xabcdef, *(__u32 *)(self->mem + 0x3004));
	/* Unaligned and page-crossing copies are fine inside a slot. */
	memcpy(self->mem + 0x4ffd, &v, sizeof(v));
	EXPECT_EQ((__s64)v, vmm_call2(c, TNR(PVMM_TEST_READ), GPA + 0x4ffd, 8));
	/* Past the end of the slot, before it, or nowhere. */
	EXPECT_EQ(-EFAULT, vmm_call2(c, TNR(PVMM_TEST_READ),
				     GPA + MEM_SIZE - 4, 8));
	EXPECT_EQ(-EFAULT, vmm_call2(c, TNR(PVMM_TEST_READ), GPA - 8, 8));
	EXPECT_EQ(-EFAULT, vmm_call2(c, TNR(PVMM_TEST_READ), ~0ULL - 3, 8));
	EXPECT_EQ(-EINVAL, vmm_call2(c, TNR(PVMM_TEST_READ), GPA, 0));
	EXPECT_EQ(-EINVAL, vmm_call2(c, TNR(PVMM_TEST_READ), GPA, 9));
}

/* This thread's context switches, as the scheduler counts them. */
static long ctx_switches(void)
{
	char path[64], line[128];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status",
		 (long)syscall(SYS_gettid));
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "ctxt_switches:"))
			n += strtol(strchr(line, ':') + 1, NULL, 10);
	if (f)
		fclose(f);
	return n;
}

/* The scheduler hooks write into guest memory, from atomic context. */
TEST_F(guest, counters_from_sched_hooks)
{
	__u64 *cnt = (__u64 *)(self->mem + 0x1000);
	int c = self->vcpu;
	__u64 in0, out0, out1;
	long sw0, sw1;

	EXPECT_EQ(-EINVAL, vmm_call2(c, TNR(PVMM_TEST_COUNTERS_MAP),
				     GPA + 0x1008, 0));
	EXPECT_EQ(-EINVAL, vmm_call2(c, TNR(PVMM_TEST_COUNTERS_MAP),
				     GPA + 0xff0 + 8, 0));
	EXPECT_EQ(-EFAULT, vmm_call2(c, TNR(PVMM_TEST_COUNTERS_MAP),
				     GPA + MEM_SIZE, 0));
	ASSERT_EQ(0, vmm_call2(c, TNR(PVMM_TEST_COUNTERS_MAP), GPA + 0x1000,
			       0));
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	/* one sched-out per context switch: as many as the scheduler counts */
	sw0 = ctx_switches();
	out0 = vmm_load(&cnt[1]);
	for (int i = 0; i < 20; i++)
		usleep(1000);
	out1 = vmm_load(&cnt[1]);
	sw1 = ctx_switches();
	TH_LOG("%lld sched-outs written, %ld context switches counted",
	       (long long)(out1 - out0), sw1 - sw0);
	EXPECT_LE(5, out1 - out0);
	EXPECT_LE(out1 - out0, sw1 - sw0);
	EXPECT_GE(out1 - out0 + 2, sw1 - sw0);	/* switches while reading */
	/* and sched-ins follow */
	in0 = vmm_load(&cnt[0]);
	EXPECT_LE(out1 - out0, in0);
	for (int i = 0; i < 5; i++)
		usleep(1000);
	EXPECT_LT(in0, vmm_load(&cnt[0]));
	EXPECT_EQ(0, vmm_call2(c, TNR(PVMM_TEST_COUNTERS_UNMAP), 0, 0));
	EXPECT_EQ(0, vmm_sysfs_read("pinned_pages"));
	in0 = vmm_load(&cnt[0]);
	usleep(5000);
	EXPECT_EQ(in0, vmm_load(&cnt[0]));
}

/* A memslot change drops the pins under it; the record is re-pinned later. */
TEST_F(guest, memslot_change_unpins)
{
	__u64 *cnt = (__u64 *)(self->mem + 0x1000);
	int c = self->vcpu;
	__u64 in0;

	ASSERT_EQ(0, vmm_call2(c, TNR(PVMM_TEST_COUNTERS_MAP), GPA + 0x1000,
			       0));
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	ASSERT_EQ(0, vmm_set_slot(self->vm, 0, 0, 0, NULL, -1, 0));
	EXPECT_EQ(0, vmm_sysfs_read("pinned_pages"));
	in0 = vmm_load(&cnt[0]);
	usleep(5000);
	EXPECT_EQ(in0, vmm_load(&cnt[0]));
	EXPECT_EQ(-EFAULT, vmm_call2(c, TNR(PVMM_TEST_COUNTERS_REFRESH), 0,
				     0));
	ASSERT_EQ(0, vmm_set_slot(self->vm, 0, GPA, MEM_SIZE, self->mem,
				  self->memfd, 0));
	EXPECT_EQ(0, vmm_call2(c, TNR(PVMM_TEST_COUNTERS_REFRESH), 0, 0));
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	usleep(5000);
	EXPECT_LT(in0, vmm_load(&cnt[0]));
}

/*
 * A hole punched in the memfd under a record: the host lets the old page
 * go and, within a moment, writes the record into the page the guest sees
 * there now (before the watch, it kept writing the page the hole freed).
 */
TEST_F(guest, record_follows_hole_punch)
{
	__u64 *cnt = (__u64 *)(self->mem + 0x1000);
	__u64 before;

	ASSERT_EQ(0, vmm_call2(self->vcpu, TNR(PVMM_TEST_COUNTERS_MAP),
			       GPA + 0x1000, 0));
	usleep(5000);
	before = vmm_load(&cnt[0]);
	EXPECT_LT(0, before);
	ASSERT_EQ(0, fallocate(self->memfd, FALLOC_FL_PUNCH_HOLE |
			       FALLOC_FL_KEEP_SIZE, 0x1000, 0x1000));
	EXPECT_EQ(1, vmm_sysfs_wait("pinned_pages", 1, 2000));
	usleep(5000);
	/* counting again, from zero, in the page mapped there now */
	EXPECT_LT(0, vmm_load(&cnt[0]));
	usleep(5000);
	before = vmm_load(&cnt[0]);
	usleep(5000);
	EXPECT_LT(before, vmm_load(&cnt[0]));
}

/*
 * The VMM unmaps the memory under a record, memslot unchanged: the pin
 * goes with the mapping, and nothing is written until the VMM maps it
 * again and the guest refreshes the record.
 */
TEST_F(guest, record_unmapped_then_mapped_again)
{
	__u64 *cnt = (__u64 *)(self->mem + 0x1000);
	void *p;

	ASSERT_EQ(0, vmm_call2(self->vcpu, TNR(PVMM_TEST_COUNTERS_MAP),
			       GPA + 0x1000, 0));
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	ASSERT_EQ(0, munmap(self->mem, MEM_SIZE));
	EXPECT_EQ(0, vmm_sysfs_wait("pinned_pages", 0, 2000));
	usleep(5000);
	EXPECT_EQ(-EFAULT, vmm_call2(self->vcpu,
				     TNR(PVMM_TEST_COUNTERS_REFRESH), 0, 0));
	p = mmap(self->mem, MEM_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, self->memfd, 0);
	ASSERT_EQ(self->mem, p);
	EXPECT_EQ(0, vmm_call2(self->vcpu, TNR(PVMM_TEST_COUNTERS_REFRESH), 0,
			       0));
	EXPECT_EQ(1, vmm_sysfs_read("pinned_pages"));
	usleep(5000);
	EXPECT_LT(0, vmm_load(&cnt[0]));
}

struct churn {
	int vm;
	char *mem;
	int memfd;
	int stop;
};

static void *thread_churn_slot(void *arg)
{
	struct churn *ch = arg;
	long n = 0;

	while (!__atomic_load_n(&ch->stop, __ATOMIC_RELAXED)) {
		vmm_set_slot(ch->vm, 1, 1ULL << 32, MEM_SIZE, ch->mem,
			     ch->memfd, 0);
		vmm_set_slot(ch->vm, 1, 0, 0, NULL, -1, 0);
		n++;
	}
	return (void *)n;
}

/* Guest accesses race with the slot under them coming and going. */
TEST_F(guest, memslot_churn_during_calls)
{
	struct churn ch = { self->vm, self->mem, self->memfd, 0 };
	int c = self->vcpu, ok = 0, fault = 0, other = 0;
	double end = vmm_now() + 2;
	pthread_t t;
	void *n;

	memset(self->mem, 0x5a, 4096);
	ASSERT_EQ(0, pthread_create(&t, NULL, thread_churn_slot, &ch));
	while (vmm_now() < end) {
		__s64 r = vmm_call2(c, TNR(PVMM_TEST_READ), (1ULL << 32) + 8,
				    8);
		__s64 p = vmm_call2(c, TNR(PVMM_TEST_PIN), 1ULL << 32, 4);

		if (r == 0x5a5a5a5a5a5a5a5aLL)
			ok++;
		else if (r == -EFAULT)
			fault++;
		else
			other++;
		if (p != 4 && p != -EFAULT)
			other++;
		vmm_call2(c, TNR(PVMM_TEST_UNPIN), 0, 0);
	}
	__atomic_store_n(&ch.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, &n);
	TH_LOG("reads ok %d fault %d, slot changes %ld", ok, fault, (long)n);
	EXPECT_EQ(0, other);
	EXPECT_LT(0, ok + fault);
	close(self->vcpu);
	close(self->vm);
	self->vcpu = -1;
	self->vm = -1;
	EXPECT_EQ(0, vmm_sysfs_wait("pinned_pages", 0, 3000));
}

/* Tests that need more than the default 30 s under TCG. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
	settle(_metadata);
}

FIXTURE_TEARDOWN(slow)
{
}

/* 64 VMs x 16 vCPUs, every vCPU bound by a thread of its own. */
#define NVM	64
#define NVCPU	16

struct scale_arg {
	int vcpu;
	pthread_barrier_t *bar;
	int result;
};

static void *thread_scale(void *p)
{
	struct scale_arg *a = p;

	a->result = vmm_ioctl(a->vcpu, PVMM_VCPU_BIND, NULL);
	for (int i = 0; i < 10 && !a->result; i++)
		a->result = vmm_call(a->vcpu, PVMM_CALL_NOP, NULL, NULL);
	pthread_barrier_wait(a->bar);
	return NULL;
}

TEST_F_TIMEOUT(slow, scale_64_vms_16_vcpus, 180)
{
	static struct scale_arg args[NVM * NVCPU];
	static pthread_t th[NVM * NVCPU];
	pthread_barrier_t bar;
	pthread_attr_t attr;
	struct rlimit nofile = { 4096, 4096 };
	int vms[NVM], fails = 0;

	/* One fd per VM and per vCPU: past the default limit of 1024. */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &nofile));
	pthread_barrier_init(&bar, NULL, NVM * NVCPU + 1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (int v = 0; v < NVM; v++) {
		vms[v] = vmm_open();
		ASSERT_LE(0, vms[v]);
		for (int i = 0; i < NVCPU; i++) {
			struct scale_arg *a = &args[v * NVCPU + i];

			a->vcpu = ioctl(vms[v], PVMM_CREATE_VCPU, i);
			ASSERT_LE(0, a->vcpu);
			a->bar = &bar;
		}
	}
	for (int i = 0; i < NVM * NVCPU; i++)
		ASSERT_EQ(0, pthread_create(&th[i], &attr, thread_scale,
					    &args[i]));
	/* All bound at once, before any thread exits. */
	pthread_barrier_wait(&bar);
	EXPECT_EQ(NVM, vmm_sysfs_read("vms"));
	EXPECT_EQ(NVM * NVCPU, vmm_sysfs_read("bindings"));
	for (int i = 0; i < NVM * NVCPU; i++) {
		pthread_join(th[i], NULL);
		fails += args[i].result != 0;
		close(args[i].vcpu);
	}
	for (int v = 0; v < NVM; v++)
		close(vms[v]);
	EXPECT_EQ(0, fails);
	EXPECT_EQ(0, vmm_sysfs_wait("vms", 0, 10000));
	EXPECT_EQ(0, vmm_sysfs_wait("bindings", 0, 10000));
}

static long long meminfo_kb(const char *key)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    line[strlen(key)] == ':')
			v = strtoll(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

#define KILL_MEM	(64UL << 20)

/* The child VMM pins all its guest memory, then is killed mid-call. */
TEST_F_TIMEOUT(slow, vmm_killed_mid_call, 120)
{
	long long shmem_before, shmem_pinned, shmem_after;
	int pipefd[2], status;
	char ready;
	pid_t pid;

	shmem_before = meminfo_kb("Shmem");
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int memfd, vm = vmm_open(), vcpu;
		char *mem = vmm_memfd_map(KILL_MEM, &memfd);

		if (vm < 0 || !mem)
			_exit(1);
		memset(mem, 1, KILL_MEM);
		if (vmm_set_slot(vm, 0, 0, KILL_MEM, mem, memfd, 0) ||
		    vmm_ioctl(vm, PVMM_ENABLE_SERVICE, (void *)PVMM_SVC_TEST))
			_exit(2);
		vcpu = ioctl(vm, PVMM_CREATE_VCPU, 0);
		if (vcpu < 0 || vmm_ioctl(vcpu, PVMM_VCPU_BIND, NULL))
			_exit(3);
		if (vmm_call2(vcpu, TNR(PVMM_TEST_PIN), 0, KILL_MEM >> 12) !=
		    (__s64)(KILL_MEM >> 12))
			_exit(4);
		/*
		 * The memory is held by the mapping and the pins from here on
		 * (unmapping it would drop the pins: they follow the mapping).
		 */
		close(memfd);
		if (write(pipefd[1], "r", 1) != 1)
			_exit(5);
		vmm_call2(vcpu, TNR(PVMM_TEST_SLEEP), 60000, 0);
		_exit(6);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &ready, 1));
	EXPECT_EQ(KILL_MEM >> 12, vmm_sysfs_read("pinned_pages"));
	shmem_pinned = meminfo_kb("Shmem");
	EXPECT_LE(shmem_before + (long long)(KILL_MEM >> 10) * 9 / 10,
		  shmem_pinned);
	usleep(100000);		/* let it enter the sleeping call */
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, vmm_sysfs_wait("pinned_pages", 0, 10000));
	EXPECT_EQ(0, vmm_sysfs_wait("vms", 0, 10000));
	EXPECT_EQ(0, vmm_sysfs_wait("bindings", 0, 10000));
	/* The memfd's pages went back to the host. */
	for (int i = 0; i < 100; i++) {
		shmem_after = meminfo_kb("Shmem");
		if (shmem_after < shmem_before + (long long)(KILL_MEM >> 10) / 10)
			break;
		usleep(50000);
	}
	TH_LOG("Shmem kB before %lld pinned %lld after %lld", shmem_before,
	       shmem_pinned, shmem_after);
	EXPECT_GT(shmem_before + (long long)(KILL_MEM >> 10) / 10, shmem_after);
	close(pipefd[0]);
}

TEST_HARNESS_MAIN
