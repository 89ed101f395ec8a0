// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_demo: a minimal VMM that shows the hub at work. It gives a VM
 * memfd-backed guest memory, runs two vCPU threads that bind themselves
 * and forward guest calls, and prints what the guest saw and what the
 * hub's debugfs says. With pvmm_clock loaded, each vCPU also enables its
 * clock record and reads it the way a guest does.
 */
#include <pthread.h>

#include "../selftests/pvmm/clock_lib.h"
#include "../pvmm/pvmm_test.h"

#define MEM	(16UL << 20)
#define GPA	0x100000ULL
#define TNR(fn)	PVMM_CALL_NR(PVMM_SVC_TEST, fn)

static int vm, has_test, has_clock;
static char *mem;

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
		printf("vcpu%ld: context switches the hub's hooks wrote into guest memory: ",
		       id);
		printf("in %llu out %llu\n", (unsigned long long)vmm_load(&cnt[0]),
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
		printf("vcpu%ld: host CLOCK_MONOTONIC %llu, guest clock %llu, ",
		       id, (unsigned long long)t1, (unsigned long long)pv);
		printf("host again %llu ns: %s\n", (unsigned long long)t2,
		       t1 <= pv && pv <= t2 ? "in between" : "OUTSIDE");
		printf("vcpu%ld: record flags %#x%s, version %u\n", id, flags,
		       flags & PVMM_CLOCK_TSC_STABLE ? " (TSC stable)" : "",
		       r->version);
	}
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
	int memfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	vm = vmm_open();
	if (vm < 0 || ioctl(vm, PVMM_GET_VERSION, &v)) {
		perror("open " PVMM_DEV);
		return 1;
	}
	printf("hub: ABI %u, %u memslots, %u vCPUs, %u-bit guest-physical, services %#llx\n",
	       v.abi_version, v.max_memslots, v.max_vcpus, v.gpa_bits,
	       (unsigned long long)v.services);
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
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, vcpu_thread, (void *)i);
	usleep(20000);
	snprintf(path, sizeof(path), PVMM_DEBUGFS "/vm%d/stats", 0);
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
