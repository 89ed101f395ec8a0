// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile VMM gains nothing: vCPU creation racing calls that name the
 * new vCPU, boosts within what the thread may set itself, pins charged to
 * RLIMIT_MEMLOCK, bounded bindings per thread and vCPUs per user, nothing
 * after exec, and bindings that keep the module while they wait for a
 * stopped thread. The privilege cases run as an unprivileged user on a
 * group-accessible /dev/pvmm, as an operator would set it up for QEMU.
 */
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/pvmm_mmu.h>
#include <linux/pvmm_sched.h>

#include "kselftest_harness.h"
#include "libpvmm.h"

/* Without the hub or the service, the whole program is skipped. */
static void __attribute__((constructor)) needs_services(void)
{
	const char *why = vmm_missing((1ULL << PVMM_SVC_MMU) | (1ULL << PVMM_SVC_SCHED));

	if (why)
		ksft_exit_skip("%s\n", why);
}

#define HOSTILE_UID	1000
#define HOSTILE_MEM	(32UL << 20)
#define PARAM(name)	"/sys/module/pvmm/parameters/" name

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

/*
 * Run @fn in a child that has dropped to uid/gid HOSTILE_UID with the
 * given limits, /dev/pvmm being root:HOSTILE_UID 0660 meanwhile. Returns
 * the child's exit status (0: every check passed).
 */
static int as_user(int (*fn)(void *), void *arg, long nice_lim, long memlock)
{
	struct stat st;
	int status;
	pid_t pid;

	if (stat(PVMM_DEV, &st) || chown(PVMM_DEV, 0, HOSTILE_UID) ||
	    chmod(PVMM_DEV, 0660))
		return 100;
	pid = fork();
	if (!pid) {
		struct rlimit r;
		gid_t g = HOSTILE_UID;

		r.rlim_cur = nice_lim;
		r.rlim_max = nice_lim;
		if (nice_lim >= 0 && setrlimit(RLIMIT_NICE, &r))
			_exit(101);
		r.rlim_cur = memlock;
		r.rlim_max = memlock;
		if (memlock >= 0 && setrlimit(RLIMIT_MEMLOCK, &r))
			_exit(102);
		if (setgroups(1, &g) || setresgid(g, g, g) ||
		    setresuid(HOSTILE_UID, HOSTILE_UID, HOSTILE_UID))
			_exit(103);
		_exit(fn(arg));
	}
	waitpid(pid, &status, 0);
	chown(PVMM_DEV, st.st_uid, st.st_gid);
	chmod(PVMM_DEV, st.st_mode & 07777);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

/* A VM with guest memory at 0 and @svc enabled (-1: none). */
static int vm_with(int svc, char **mem)
{
	int vm = vmm_open(), memfd;

	*mem = vmm_memfd_map(HOSTILE_MEM, &memfd);
	if (vm < 0 || !*mem ||
	    vmm_set_slot(vm, 0, 0, HOSTILE_MEM, *mem, memfd, 0))
		return -1;
	close(memfd);
	if (svc >= 0 && vmm_ioctl(vm, PVMM_ENABLE_SERVICE, (void *)(long)svc))
		return -1;
	return vm;
}

static int write_param(const char *path, long val)
{
	FILE *f = fopen(path, "w");
	int r;

	if (!f)
		return -1;
	r = fprintf(f, "%ld\n", val) < 0;
	return fclose(f) || r ? -1 : 0;
}

static long read_param(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* --- a vCPU is seen by other vCPUs only once its services set it up --- */

struct race {
	int vm;
	int vcpu;
	char *mem;
	atomic_int stop;
	long yields_seen;
	int bad;
};

/* Holds the MMU's lock in 1 ms slices, so its vcpu_init waits. */
static void *race_batcher(void *arg)
{
	struct race *r = arg;
	__u64 n = (HOSTILE_MEM - (1UL << 20)) / 16;
	__u64 args[PVMM_CALL_NARGS] = { 1UL << 20, n, 0 };
	struct pvmm_mmu_update *u = (void *)(r->mem + (1UL << 20));
	int vcpu = ioctl(r->vm, PVMM_CREATE_VCPU, 1);
	__s64 ret;

	for (__u64 i = 0; i < n; i++)
		u[i].ptr = PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_FLUSH_LOCAL, 0);
	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND)) {
		r->bad = 1;
		return NULL;
	}
	while (!atomic_load(&r->stop))
		if (vmm_call(vcpu, PVMM_MMU_CALL_BATCH, args, &ret) &&
		    errno != EAGAIN)
			break;
	close(vcpu);
	return NULL;
}

static void *race_yielder(void *arg)
{
	struct race *r = arg;
	int vcpu = ioctl(r->vm, PVMM_CREATE_VCPU, 2);
	__s64 ret;

	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND)) {
		r->bad = 1;
		return NULL;
	}
	while (!atomic_load(&r->stop)) {
		ret = vmm_call2(vcpu, PVMM_SCHED_YIELD_TO, 5, 0);
		if (ret != -EINVAL && ret != -EBUSY && ret != 0 && ret != 1 &&
		    ret != -ESRCH)
			r->bad = 1;
		r->yields_seen++;
	}
	close(vcpu);
	return NULL;
}

TEST(vcpu_create_races_yield_to)
{
	struct pvmm_mmu_config ctl = { .limit = HOSTILE_MEM };
	struct race r = {};
	pthread_t b, y;
	int i, fd;

	r.vm = vm_with(PVMM_SVC_MMU, &r.mem);
	ASSERT_LE(0, r.vm);
	ASSERT_EQ(0, vmm_ioctl(r.vm, PVMM_MMU_CONFIGURE, &ctl));
	ASSERT_EQ(0, vmm_ioctl(r.vm, PVMM_ENABLE_SERVICE,
			       (void *)PVMM_SVC_SCHED));
	ASSERT_EQ(0, pthread_create(&b, NULL, race_batcher, &r));
	ASSERT_EQ(0, pthread_create(&y, NULL, race_yielder, &r));
	usleep(100000);
	for (i = 0; i < 300; i++) {
		fd = ioctl(r.vm, PVMM_CREATE_VCPU, 5);
		ASSERT_LE(0, fd);
		close(fd);
	}
	/* a creation that fails late (no fd left) leaves nothing behind */
	{
		struct rlimit lim, old;
		int lowest = dup(0);

		ASSERT_LE(0, lowest);
		close(lowest);
		ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
		lim = old;
		lim.rlim_cur = lowest;	/* every fd below it is in use */
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));
		for (i = 0; i < 200; i++)
			EXPECT_EQ(-EMFILE, vmm_ioctl(r.vm, PVMM_CREATE_VCPU,
						     (void *)5));
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	}
	atomic_store(&r.stop, 1);
	pthread_join(b, NULL);
	pthread_join(y, NULL);
	EXPECT_EQ(0, r.bad);
	EXPECT_LT(100, r.yields_seen);
	close(r.vm);
}

/* --- boosts: no nice value the thread could not set itself --- */

static int boost_plain(void *unused)
{
	char *mem;
	int vm = vm_with(PVMM_SVC_SCHED, &mem);
	int vcpu = vm < 0 ? -1 : ioctl(vm, PVMM_CREATE_VCPU, 0);

	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND))
		return 1;
	/* RLIMIT_NICE 0: nothing below nice 0 */
	if (vmm_call2(vcpu, PVMM_SCHED_BOOST, 500, 0) != -EPERM)
		return 2;
	if (getpriority(PRIO_PROCESS, gettid_()) != 0)
		return 3;
	return 0;
}

static int boost_limited(void *unused)
{
	char *mem;
	int vm = vm_with(PVMM_SVC_SCHED, &mem);
	int vcpu = vm < 0 ? -1 : ioctl(vm, PVMM_CREATE_VCPU, 0);
	int status;
	pid_t pid;

	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND))
		return 1;
	/* RLIMIT_NICE 25: down to nice -5, and so is the boost */
	if (vmm_call2(vcpu, PVMM_SCHED_BOOST, 1000000, 0) <= 0)
		return 2;
	if (getpriority(PRIO_PROCESS, gettid_()) != -5)
		return 3;
	/* what the boost set gives no way further down */
	errno = 0;
	if (!setpriority(PRIO_PROCESS, gettid_(), -19) || errno != EACCES)
		return 4;
	pid = fork();
	if (!pid)	/* a child keeps only what its parent could set */
		_exit(getpriority(PRIO_PROCESS, 0) == -5 &&
		      setpriority(PRIO_PROCESS, 0, -6) ? 0 : 1);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return 5;
	if (vmm_call2(vcpu, PVMM_SCHED_UNBOOST, 0, 0))
		return 6;
	if (getpriority(PRIO_PROCESS, gettid_()) != 0)
		return 7;
	return 0;
}

#define SCHED_PARAM(name)	"/sys/module/pvmm_sched/parameters/" name

TEST(boost_within_rlimit_nice)
{
	long max_us = read_param(SCHED_PARAM("boost_max_us"));
	long budget = read_param(SCHED_PARAM("boost_budget_ms"));

	/* a boost that outlasts the checks, even on a slow debug kernel */
	ASSERT_LE(0, max_us);
	ASSERT_LE(0, budget);
	ASSERT_EQ(0, write_param(SCHED_PARAM("boost_max_us"), 1000000));
	ASSERT_EQ(0, write_param(SCHED_PARAM("boost_budget_ms"), 1000));
	EXPECT_EQ(0, as_user(boost_plain, NULL, 0, -1));
	EXPECT_EQ(0, as_user(boost_limited, NULL, 25, -1));
	ASSERT_EQ(0, write_param(SCHED_PARAM("boost_max_us"), max_us));
	ASSERT_EQ(0, write_param(SCHED_PARAM("boost_budget_ms"), budget));
}

/* --- pins are charged to RLIMIT_MEMLOCK --- */

static long vm_locked_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int pins_charged(void *unused)
{
	long page = sysconf(_SC_PAGESIZE) / 1024;
	int vcpu[4], i;
	char *mem;
	int vm = vm_with(PVMM_SVC_SCHED, &mem);

	if (vm < 0)
		return 1;
	for (i = 0; i < 4; i++) {
		vcpu[i] = ioctl(vm, PVMM_CREATE_VCPU, i);
		if (vcpu[i] < 0 || ioctl(vcpu[i], PVMM_VCPU_BIND))
			return 2;
	}
	/* RLIMIT_MEMLOCK is three pages: three records, each on a page */
	for (i = 0; i < 3; i++)
		if (vmm_call2(vcpu[i], PVMM_SCHED_STEAL_ENABLE,
			      0x10000 + 0x1000 * i, 0))
			return 3;
	if (vm_locked_kb() != 3 * page)
		return 4;
	if (vmm_call2(vcpu[3], PVMM_SCHED_STEAL_ENABLE, 0x20000, 0) !=
	    -ENOMEM)
		return 5;
	/* moving a record charges nothing new */
	if (vmm_call2(vcpu[0], PVMM_SCHED_STEAL_ENABLE, 0x30000, 0))
		return 6;
	if (vmm_call2(vcpu[0], PVMM_SCHED_STEAL_DISABLE, 0, 0) ||
	    vm_locked_kb() != 2 * page)
		return 7;
	if (vmm_call2(vcpu[3], PVMM_SCHED_STEAL_ENABLE, 0x20000, 0))
		return 8;
	for (i = 0; i < 4; i++)
		close(vcpu[i]);
	/* the charge goes with the records, after a grace period */
	for (i = 0; i < 200 && vm_locked_kb(); i++)
		usleep(10000);
	return vm_locked_kb() ? 9 : 0;
}

TEST(pins_charged_to_rlimit_memlock)
{
	EXPECT_EQ(0, as_user(pins_charged, NULL, -1, 3 * 4096));
}

/* --- bindings per thread, vCPUs per user --- */

static int bindings_bounded(void *unused)
{
	int vcpu[5], i;
	char *mem;
	int vm = vm_with(-1, &mem);

	if (vm < 0)
		return 1;
	for (i = 0; i < 5; i++) {
		vcpu[i] = ioctl(vm, PVMM_CREATE_VCPU, i);
		if (vcpu[i] < 0)
			return 2;
	}
	for (i = 0; i < 4; i++)
		if (ioctl(vcpu[i], PVMM_VCPU_BIND))
			return 3;
	if (vmm_ioctl(vcpu[4], PVMM_VCPU_BIND, NULL) != -EMLINK)
		return 4;
	/* a vCPU closed by its own thread frees its place at once */
	close(vcpu[0]);
	return ioctl(vcpu[4], PVMM_VCPU_BIND) ? 5 : 0;
}

static int vcpus_bounded(void *unused)
{
	int vm[2], fd[7], i;
	char *mem;

	vm[0] = vm_with(-1, &mem);
	vm[1] = vm_with(-1, &mem);
	if (vm[0] < 0 || vm[1] < 0)
		return 1;
	for (i = 0; i < 6; i++) {
		/* vCPUs of the earlier tests' users may still be freeing */
		for (int t = 0; t < 200; t++) {
			fd[i] = ioctl(vm[i % 2], PVMM_CREATE_VCPU, i);
			if (fd[i] >= 0 || errno != EDQUOT)
				break;
			usleep(10000);
		}
		if (fd[i] < 0)
			return 2;
	}
	if (vmm_ioctl(vm[0], PVMM_CREATE_VCPU, (void *)6) != -EDQUOT)
		return 3;
	close(fd[0]);
	/* the place comes back once the vCPU is freed */
	for (i = 0; i < 200; i++) {
		fd[6] = ioctl(vm[1], PVMM_CREATE_VCPU, 6);
		if (fd[6] >= 0)
			return 0;
		if (errno != EDQUOT)
			return 4;
		usleep(10000);
	}
	return 5;
}

TEST(bindings_per_thread_bounded)
{
	EXPECT_EQ(0, as_user(bindings_bounded, NULL, -1, -1));
}

TEST(vcpus_per_user_bounded)
{
	long old = read_param(PARAM("max_vcpus_per_user"));

	ASSERT_LT(0, old);
	ASSERT_EQ(0, write_param(PARAM("max_vcpus_per_user"), 6));
	EXPECT_EQ(0, as_user(vcpus_bounded, NULL, -1, -1));
	ASSERT_EQ(0, write_param(PARAM("max_vcpus_per_user"), old));
}

/* --- nothing of a binding survives exec --- */

/* Of another process's VM: by its id. */
static long long vcpu_sched_in(int vm_id, int vcpu)
{
	char path[64];

	snprintf(path, sizeof(path), "vm%d/vcpu%d/sched_in", vm_id, vcpu);
	return vmm_sysfs_read(path);
}

TEST(binding_ends_at_exec)
{
	struct pvmm_version ver;
	int p[2], vm_id = -1, status;
	long long before, after;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	pid = fork();
	if (!pid) {
		char *mem;
		int vm = vm_with(-1, &mem);
		int vcpu = vm < 0 ? -1 : ioctl(vm, PVMM_CREATE_VCPU, 0);

		/* a dup'ed fd has no O_CLOEXEC: the vCPU outlives the exec */
		if (vcpu < 0 || dup(vcpu) < 0 || ioctl(vcpu, PVMM_VCPU_BIND) ||
		    vmm_ioctl(vm, PVMM_GET_VERSION, &ver))
			_exit(1);
		write(p[1], &ver.vm_id, sizeof(ver.vm_id));
		/* the exec'd shell sleeps and wakes in the bound thread */
		execl("/bin/busybox", "sh", "-c",
		      "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.05; done; sleep 5",
		      NULL);
		_exit(2);
	}
	close(p[1]);
	ASSERT_EQ(sizeof(vm_id), read(p[0], &vm_id, sizeof(vm_id)));
	/* end of file: the exec is done and closed the pipe */
	EXPECT_EQ(0, read(p[0], &c, 1));
	before = vcpu_sched_in(vm_id, 0);
	usleep(700000);
	after = vcpu_sched_in(vm_id, 0);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ASSERT_LE(0, before);
	EXPECT_EQ(before, after);
	close(p[0]);
}

/* --- a binding waiting for a stopped thread keeps the module --- */

static long module_refcnt(void)
{
	return read_param("/sys/module/pvmm/refcnt");
}

TEST(stopped_thread_binding_holds_module)
{
	int vm, vcpu, status, sync[2];
	long base, held;
	pid_t pid, helper;
	char *mem, c;

	/* the earlier tests' files and bindings go first: a stable base */
	ASSERT_EQ(0, vmm_sysfs_wait("vms", 0, 10000));
	ASSERT_EQ(0, vmm_sysfs_wait("bindings", 0, 10000));
	base = module_refcnt();
	ASSERT_LE(0, base);
	vm = vm_with(-1, &mem);
	ASSERT_LE(0, vm);
	vcpu = ioctl(vm, PVMM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	if (!pid) {
		/* the child keeps the vCPU file alive, the parent binds it */
		close(vm);
		read(sync[0], &c, 1);
		close(vcpu);	/* the last reference: the release is here */
		_exit(0);
	}
	ASSERT_EQ(0, ioctl(vcpu, PVMM_VCPU_BIND));
	close(vcpu);
	close(vm);
	/* a helper stops the bound (this) thread, then lets the child close */
	helper = fork();
	if (!helper) {
		kill(getppid(), SIGSTOP);
		usleep(200000);
		write(sync[1], "x", 1);
		usleep(300000);
		/* the binding waits for the stopped thread: the module stays */
		held = module_refcnt();
		kill(getppid(), SIGCONT);
		_exit(held > base ? 0 : 1);
	}
	waitpid(helper, &status, 0);	/* after its SIGCONT */
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	waitpid(pid, NULL, 0);
	/* now the thread has run its task_work */
	for (int i = 0; i < 200 && module_refcnt() != base; i++)
		usleep(10000);
	EXPECT_EQ(base, module_refcnt());
}

TEST_HARNESS_MAIN
