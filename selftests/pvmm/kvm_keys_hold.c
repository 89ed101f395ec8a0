// SPDX-License-Identifier: GPL-2.0
/*
 * Holds KVM's local-APIC static keys (apic_sw_disabled, apic_hw_disabled)
 * on for as long as it runs, so that KVM does not patch its own text while
 * the test VM's real guests run.
 *
 * Every vCPU KVM creates takes apic_sw_disabled (its APIC starts software
 * disabled), and the guest enabling its APIC drops it again a second
 * later. When the count crosses zero, the jump labels in the run loop are
 * rewritten with int3 (text_poke_bp) while other vCPU threads execute
 * them. Under QEMU's multi-threaded TCG a CPU then sometimes traps on an
 * int3 no longer in memory, and the test VM's kernel dies ("Oops: int3"
 * in kvm_arch_vcpu_ioctl_run, at the apic_sw_disabled site). A vCPU that
 * never runs, with its APIC software disabled and its APIC base disabled,
 * keeps both counts above zero, so no guest's vCPUs move them across it.
 *
 * Prints "ready" once both keys are held, then waits to be killed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#define MSR_IA32_APICBASE	0x1b
#define APIC_DEFAULT_BASE	0xfee00000ULL

int main(void)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = {
		.hdr.nmsrs = 1,
		/* not the BSP, not enabled: apic_hw_disabled taken */
		.e = { .index = MSR_IA32_APICBASE, .data = APIC_DEFAULT_BASE },
	};
	int kvm, vm, vcpu;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "kvm_keys_hold: /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0)) {
		fprintf(stderr, "kvm_keys_hold: a VM with an irqchip: %s\n",
			strerror(errno));
		return 1;
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0 || ioctl(vcpu, KVM_SET_MSRS, &msrs) != 1) {
		fprintf(stderr, "kvm_keys_hold: a vCPU with its APIC off: %s\n",
			strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
