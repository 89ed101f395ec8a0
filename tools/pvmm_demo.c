// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_demo: a minimal VMM that shows the hub at work. It gives a VM
 * memfd-backed guest memory, runs two vCPU threads that bind themselves
 * and forward guest calls, and prints what the guest saw and what the
 * operator's sysfs tree says. With pvmm_clock loaded, each vCPU also enables its
 * clock record and reads it the way a guest does; with pvmm_balloon, the
 * operator sets a target that the guest follows; with pvmm_mmu, the guest
 * builds page tables through validated batches; with pvmm_sched, two vCPU
 * threads share one CPU and each reads the steal time it lost.
 */
#include <dirent.h>
#include <pthread.h>

#include <sys/stat.h>
#include <linux/pvmm_balloon.h>
#include <linux/pvmm_mmu.h>
#include <linux/pvmm_sched.h>
#include <pvmm/mmu_batch.h>

#include <linux/pvmm_test.h>

#include "libpvmm.h"

#define MEM	(16UL << 20)
#define GPA	0x100000ULL
#define TNR(fn)	PVMM_CALL_NR(PVMM_SVC_TEST, fn)

static int vm, vm_id, has_test, has_clock, has_balloon, has_mmu, has_sched;
static int memfd;
static pthread_barrier_t sched_barrier;
static char *mem;

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static long long memfd_mib(void)
{
	struct stat st;

	return fstat(memfd, &st) ? -1 : (long long)st.st_blocks * 512 >> 20;
}

static void run(const char *cmd)
{
	printf("$ %s\n", cmd);
	fflush(stdout);
	if (system(cmd))
		printf("(failed)\n");
}

/* The operator sets a target; the guest reads it and gives memory back. */
static void balloon_demo(int vcpu)
{
	const struct pvmm_balloon_config *c = (const void *)(mem + 0x5000);
	struct pvmm_balloon_range *list = (void *)(mem + 0x6000);
	char cmd[64];
	__u64 want;
	int n = 0;

	memset(mem + 0x400000, 7, 8 << 20);	/* the guest uses 8 MiB */
	printf("balloon: config record at gpa %#llx -> %lld\n", GPA + 0x5000,
	       vmm_call2(vcpu, PVMM_BALLOON_CONFIG, GPA + 0x5000, 0));
	printf("balloon: host memfd holds %lld MiB\n", memfd_mib());
	snprintf(cmd, sizeof(cmd), "pvmmctl balloon vm%d 6M", vm_id);
	run(cmd);
	want = c->target_pages;
	printf("balloon: guest reads target %llu pages from its config record\n",
	       (unsigned long long)want);
	for (__u64 off = 0; off < want * 4096; off += 2 << 20)
		list[n++] = (struct pvmm_balloon_range){
			GPA + 0x400000 + off, 2 << 20 };
	printf("balloon: guest inflates %d ranges of 2 MiB in one call -> %lld pages\n",
	       n, vmm_call2(vcpu, PVMM_BALLOON_INFLATE, GPA + 0x6000, n));
	printf("balloon: host memfd holds %lld MiB\n", memfd_mib());
	snprintf(cmd, sizeof(cmd), "pvmmctl show vm%d", vm_id);
	run(cmd);
	run("pvmmctl list");
	run("pvmmctl --json list");
	run("pvmmctl top -d 0.5 -n 1");
}

/* A batch forwarded the way a VMM must: again while the kernel says EAGAIN. */
static __s64 mmu_submit(void *ctx, __u64 gpa, __u32 n, __s64 *err)
{
	struct pvmm_call c;
	__s64 *status = (__s64 *)(mem + 0x21000);
	int r;

	*status = 0;
	do {
		memset(&c, 0, sizeof(c));
		c.nr = PVMM_MMU_CALL_BATCH;
		c.args[0] = gpa;
		c.args[1] = n;
		c.args[2] = GPA + 0x21000;
		r = ioctl(*(int *)ctx, PVMM_VCPU_CALL, &c);
	} while (r < 0 && errno == EAGAIN);
	*err = *status;
	if (c.out[0])
		printf("mmu: flush set for the VMM: %s, vCPUs %#llx\n",
		       c.out[0] & PVMM_MMU_FLUSH_FULL ? "full" : "one address",
		       (unsigned long long)c.out[1]);
	return r < 0 ? -errno : c.ret;
}

/* The guest builds a 4-level tree, maps pages, and tries to cheat. */
static void mmu_demo(int vcpu)
{
	__u64 t[4], data = GPA + 0x30000;
	struct pvmm_mmu_queue q;
	unsigned int n;
	int i;

	pvmm_mmu_queue_init(&q, (void *)(mem + 0x20000), GPA + 0x20000, 256,
			    mmu_submit, &vcpu);
	for (i = 0; i < 4; i++) {
		t[i] = GPA + 0x10000 + 0x1000 * i;
		memset(mem + 0x10000 + 0x1000 * i, 0, 4096);
	}
	pvmm_mmu_lazy_enter(&q);
	pvmm_mmu_queue_ext(&q, PVMM_MMU_EXT_PIN_L4, t[0], 0);
	for (i = 0; i < 3; i++)
		pvmm_mmu_queue_pte(&q, t[i], t[i + 1] | 7);
	pvmm_mmu_queue_ext(&q, PVMM_MMU_EXT_NEW_BASEPTR, t[0], 0);
	for (i = 0; i < 4; i++)
		pvmm_mmu_queue_pte(&q, t[3] + 8 * i, (data + 0x1000 * i) | 3);
	pvmm_mmu_queue_ext(&q, PVMM_MMU_EXT_INVLPG_LOCAL, 0, 0x3000);
	n = q.n;
	printf("mmu: pin, link L4->L3->L2->L1, map 4 pages: %u entries, one batch -> %lld\n",
	       n, pvmm_mmu_lazy_leave(&q));
	for (i = 0; i < 4; i++)
		printf("mmu: translate gva %#x -> gpa %#llx\n", 0x1000 * i + 0x10,
		       vmm_call2(vcpu, PVMM_MMU_CALL_TRANSLATE,
				 0x1000 * i + 0x10, 0));
	printf("mmu: guest maps its L2 table writable -> %lld (-EPERM)\n",
	       pvmm_mmu_queue_pte(&q, t[3] + 8 * 9, t[2] | 3));
	printf("mmu: guest maps memory outside its memslots -> %lld (-EFAULT)\n",
	       pvmm_mmu_queue_pte(&q, t[3] + 8 * 9, (GPA + MEM) | 3));
	printf("mmu: guest uses a writable data page as a table -> %lld (-EBUSY)\n",
	       pvmm_mmu_queue_pte(&q, t[2] + 8, data | 3));
	printf("mmu: the tree is intact: gva 0x10 -> %#llx\n",
	       vmm_call2(vcpu, PVMM_MMU_CALL_TRANSLATE, 0x10, 0));
}

static __u64 schedstat_wait_ns(void)
{
	unsigned long long run, wait;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", gettid());
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &run, &wait);
	fclose(f);
	return n == 2 ? wait : 0;
}

/* Both vCPU threads spin on CPU 0 at once: each loses about half. */
static void sched_demo(int vcpu, long id)
{
	const struct pvmm_steal_record *r = (const void *)(mem + 0x9000 + id * 64);
	__u64 wait0, wait1, steal0;
	cpu_set_t set, old;
	double end;

	printf("vcpu%ld: steal record at gpa %#llx -> %lld\n", id,
	       GPA + 0x9000 + id * 64,
	       vmm_call2(vcpu, PVMM_SCHED_STEAL_ENABLE, GPA + 0x9000 + id * 64,
			 0));
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	pthread_barrier_wait(&sched_barrier);
	wait0 = schedstat_wait_ns();
	steal0 = vmm_load(&r->steal);
	end = vmm_now() + 0.3;
	while (vmm_now() < end)
		;
	usleep(1000);	/* scheduled in again: the record is current */
	wait1 = schedstat_wait_ns();
	sched_setaffinity(0, sizeof(old), &old);
	printf("vcpu%ld: 300 ms sharing CPU 0: guest steal %.1f ms, host run delay %.1f ms\n",
	       id, (vmm_load(&r->steal) - steal0) / 1e6, (wait1 - wait0) / 1e6);
}

static void *vcpu_thread(void *arg)
{
	long id = (long)arg;
	__u64 rec = GPA + 0x1000 + id * 16;
	__u64 *cnt = (__u64 *)(mem + 0x1000 + id * 16);
	int vcpu = ioctl(vm, PVMM_CREATE_VCPU, id);

	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND)) {
		perror("vcpu");
		if (has_sched)	/* the other vCPU waits there */
			pthread_barrier_wait(&sched_barrier);
		return NULL;
	}
	printf("vcpu%ld: bound; guest calls: abi %lld, features %#llx, nop %lld\n",
	       id, vmm_call2(vcpu, PVMM_CALL_ABI_VERSION, 0, 0),
	       vmm_call2(vcpu, PVMM_CALL_FEATURES, 0, 0),
	       vmm_call2(vcpu, PVMM_CALL_NOP, 0, 0));
	printf("vcpu%ld: unknown call -> %lld (-EOPNOTSUPP)\n", id,
	       vmm_call2(vcpu, PVMM_CALL_NR(9, 9), 0, 0));
	if (has_test) {
		*(__u64 *)(mem + 0x8000 + id * 8) = 0xc0ffee00 + id;
		printf("vcpu%ld: guest reads gpa %#llx through the hub: %#llx\n",
		       id, GPA + 0x8000 + id * 8,
		       vmm_call2(vcpu, TNR(PVMM_TEST_READ),
				 GPA + 0x8000 + id * 8, 8));
		vmm_call2(vcpu, TNR(PVMM_TEST_COUNTERS_MAP), rec, 0);
		for (int i = 0; i < 50; i++)
			usleep(1000);
		printf("vcpu%ld: sched hooks wrote into guest memory: in %llu out %llu\n",
		       id, (unsigned long long)vmm_load(&cnt[0]),
		       (unsigned long long)vmm_load(&cnt[1]));
	}
	if (has_clock) {
		__u64 gpa = GPA + 0x4000 + id * 64;
		const struct pvmm_clock_record *r =
			(const void *)(mem + 0x4000 + id * 64);
		__u64 t1, t2, pv;
		__u8 flags;

		printf("vcpu%ld: clock enable at gpa %#llx -> %lld\n", id, gpa,
		       vmm_call2(vcpu, PVMM_CLOCK_ENABLE, gpa, 0));
		t1 = mono_ns();
		pv = pvmm_clock_read(r, &flags);
		t2 = mono_ns();
		printf("vcpu%ld: host mono %llu, guest clock %llu, host mono %llu: %s\n"
		       "vcpu%ld: record flags %#x%s, version %u\n",
		       id, (unsigned long long)t1, (unsigned long long)pv,
		       (unsigned long long)t2,
		       t1 <= pv && pv <= t2 ? "in between" : "OUTSIDE", id,
		       flags, flags & PVMM_CLOCK_TSC_STABLE ? " (TSC stable)" : "",
		       r->version);
	}
	if (has_balloon && id == 0)
		balloon_demo(vcpu);
	if (has_mmu && id == 1)
		mmu_demo(vcpu);
	if (has_sched)
		sched_demo(vcpu, id);
	close(vcpu);
	return NULL;
}

/* "name: value" for each file of a sysfs directory */
static void cat_dir(const char *path)
{
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char file[512], buf[128] = "";
		int fd;

		snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		fd = open(file, O_RDONLY);
		if (fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0)
			printf("  %s: %s", names[i]->d_name, buf);
		if (fd >= 0)
			close(fd);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

int main(void)
{
	struct pvmm_version v;
	pthread_t t[2];
	char path[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	vm = vmm_open();
	if (vm < 0 || ioctl(vm, PVMM_GET_VERSION, &v)) {
		perror("open " PVMM_DEV);
		return 1;
	}
	vm_id = v.vm_id;
	printf("hub: ABI %u, %u memslots, %u vCPUs, %u-bit guest-physical, services %#llx\n",
	       v.abi_version, v.max_memslots, v.max_vcpus, v.gpa_bits,
	       (unsigned long long)v.services);
	printf("vm: vm%d in " PVMM_SYSFS "\n", vm_id);
	mem = vmm_memfd_map(MEM, &memfd);
	if (!mem || vmm_set_slot(vm, 0, GPA, MEM, mem, memfd, 0)) {
		perror("memslot");
		return 1;
	}
	printf("vm: 16 MiB of memfd guest memory at gpa %#llx\n", GPA);
	has_test = !vmm_ioctl(vm, PVMM_ENABLE_SERVICE, (void *)PVMM_SVC_TEST);
	printf("vm: test service %s\n", has_test ? "enabled" : "not loaded");
	has_clock = !vmm_ioctl(vm, PVMM_ENABLE_SERVICE,
			       (void *)PVMM_SVC_CLOCK);
	printf("vm: clock service %s\n", has_clock ? "enabled" : "not loaded");
	has_balloon = !vmm_ioctl(vm, PVMM_ENABLE_SERVICE,
				 (void *)PVMM_SVC_BALLOON);
	printf("vm: balloon service %s\n",
	       has_balloon ? "enabled" : "not loaded");
	has_mmu = !vmm_ioctl(vm, PVMM_ENABLE_SERVICE, (void *)PVMM_SVC_MMU);
	if (has_mmu) {
		struct pvmm_mmu_config c = { .limit = GPA + MEM };

		has_mmu = !vmm_ioctl(vm, PVMM_MMU_CONFIGURE, &c);
	}
	printf("vm: PV MMU service %s\n", has_mmu ? "enabled" : "not loaded");
	has_sched = !vmm_ioctl(vm, PVMM_ENABLE_SERVICE, (void *)PVMM_SVC_SCHED);
	printf("vm: scheduling service %s\n",
	       has_sched ? "enabled" : "not loaded");
	pthread_barrier_init(&sched_barrier, NULL, 2);
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, vcpu_thread, (void *)i);
	usleep(20000);
	snprintf(path, sizeof(path), "pvmmctl show vm%d", vm_id);
	run(path);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (has_mmu) {
		snprintf(path, sizeof(path), PVMM_SYSFS "/vm%d/mmu", vm_id);
		printf("sysfs %s/:\n", path);
		cat_dir(path);
	}
	printf("sysfs pinned_pages after the vCPUs closed: %lld\n",
	       vmm_sysfs_wait("pinned_pages", 0, 2000));
	close(vm);
	printf("sysfs vms after the VM closed: %lld\n",
	       vmm_sysfs_wait("vms", 0, 2000));
	return 0;
}
