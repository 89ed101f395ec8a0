// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_demo: a minimal VMM that shows the hub at work. It gives a VM
 * memfd-backed guest memory, runs two vCPU threads that bind themselves
 * and forward guest calls, and prints what the guest saw and what the
 * hub's debugfs says. With pvmm_clock loaded, each vCPU also enables its
 * clock record and reads it the way a guest does.
 */
#include <pthread.h>

#include <sys/stat.h>
#include <linux/pvmm_balloon.h>

#include "../selftests/pvmm/clock_lib.h"
#include "../pvmm/pvmm_test.h"

#define MEM	(16UL << 20)
#define GPA	0x100000ULL
#define TNR(fn)	PVMM_CALL_NR(PVMM_SVC_TEST, fn)

static int vm, vm_id, has_test, has_clock, has_balloon, memfd;
static char *mem;

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
}

static void *vcpu_thread(void *arg)
{
	long id = (long)arg;
	__u64 rec = GPA + 0x1000 + id * 16;
	__u64 *cnt = (__u64 *)(mem + 0x1000 + id * 16);
	int vcpu = ioctl(vm, PVMM_CREATE_VCPU, id);

	if (vcpu < 0 || ioctl(vcpu, PVMM_VCPU_BIND)) {
		perror("vcpu");
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
		t1 = clock_now(CLOCK_MONOTONIC);
		pv = pvmm_clock_read(r, &flags);
		t2 = clock_now(CLOCK_MONOTONIC);
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
	close(vcpu);
	return NULL;
}

static void cat(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	close(fd);
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
	printf("vm: vm%d in debugfs and sysfs\n", vm_id);
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
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, vcpu_thread, (void *)i);
	usleep(20000);
	snprintf(path, sizeof(path), PVMM_DEBUGFS "/vm%d/stats", vm_id);
	printf("debugfs %s while running:\n", path);
	cat(path);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("debugfs pinned_pages after the vCPUs closed: %lld\n",
	       vmm_debugfs_wait("pinned_pages", 0, 2000));
	close(vm);
	printf("debugfs vms after the VM closed: %lld\n",
	       vmm_debugfs_wait("vms", 0, 2000));
	return 0;
}
