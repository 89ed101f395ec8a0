/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pvmm: paravirtual memory and scheduling services for KVM hosts.
 *
 * The VMM opens /dev/pvmm; one open file is one VM. See
 * Documentation/pvmm/abi.rst for the full reference.
 */
#ifndef _UAPI_LINUX_PVMM_H
#define _UAPI_LINUX_PVMM_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define PVMM_ABI_VERSION	2

/* Limits reported by PVMM_GET_VERSION; fixed for this ABI version. */
#define PVMM_MAX_MEMSLOTS	64
#define PVMM_GPA_BITS		52
#define PVMM_CALL_NARGS		6

/*
 * Services. A guest call number is (service << 8) | function; a VM reaches
 * a service only after the VMM enabled it with PVMM_ENABLE_SERVICE.
 */
#define PVMM_SVC_HUB		0
#define PVMM_SVC_MMU		1
#define PVMM_SVC_SCHED		2
#define PVMM_SVC_BALLOON	3
#define PVMM_SVC_CLOCK		4
#define PVMM_SVC_TEST		63	/* pvmm_test.ko, for selftests only */
#define PVMM_SVC_MAX		64

#define PVMM_CALL_NR(svc, fn)	(((svc) << 8) | (fn))

/* Calls the hub answers itself; always available. */
#define PVMM_CALL_NOP		PVMM_CALL_NR(PVMM_SVC_HUB, 0)
#define PVMM_CALL_ABI_VERSION	PVMM_CALL_NR(PVMM_SVC_HUB, 1)
#define PVMM_CALL_FEATURES	PVMM_CALL_NR(PVMM_SVC_HUB, 2)

/*
 * How an x86-64 guest finds and calls the hub, through its VMM. The VMM
 * answers CPUID leaf PVMM_CPUID_SIGNATURE with eax = the highest pvmm leaf
 * and ebx, ecx, edx = "PVMM", "PVMM", "PVMM"; leaf PVMM_CPUID_DOORBELL
 * with eax = an I/O port and ebx = PVMM_ABI_VERSION. A call is
 * "outl %eax, %dx" with dx = that port, eax = the call number and rbx,
 * rcx, rsi, rdi, r8, r9 = the six arguments; the VMM forwards it with
 * PVMM_VCPU_CALL and puts the result in rax.
 */
#define PVMM_CPUID_SIGNATURE	0x40000100
#define PVMM_CPUID_DOORBELL	0x40000101
#define PVMM_CPUID_SIG		0x4d4d5650	/* "PVMM" */

/**
 * struct pvmm_version - PVMM_GET_VERSION: the ABI and the host's limits
 * @abi_version: PVMM_ABI_VERSION of the host's hub
 * @max_memslots: PVMM_MAX_MEMSLOTS
 * @max_vcpus: vCPU ids of a VM are below this (module parameter)
 * @gpa_bits: PVMM_GPA_BITS; guest-physical addresses are below 2^gpa_bits
 * @services: bit n: service n is loaded on this host (bit 0, the hub,
 *            always)
 * @vm_id: this VM's number: vm<id> in sysfs, debugfs and pvmmctl
 * @pad: 0
 * @reserved: 0
 *
 * Errnos: EFAULT, EIO (the VM file was opened by another process).
 */
struct pvmm_version {
	__u32 abi_version;
	__u32 max_memslots;
	__u32 max_vcpus;
	__u32 gpa_bits;
	__u64 services;
	__u32 vm_id;
	__u32 pad;
	__u64 reserved[3];
};

#define PVMM_MEMSLOT_MEMFD	_BITUL(0)	/* memfd and memfd_offset valid */
#define PVMM_MEMSLOT_FLAGS	PVMM_MEMSLOT_MEMFD

/**
 * struct pvmm_memslot - PVMM_SET_MEMSLOT: add, replace or delete a memslot
 * @slot: 0 to PVMM_MAX_MEMSLOTS - 1; an existing slot is replaced
 * @flags: PVMM_MEMSLOT_MEMFD, or 0
 * @guest_phys_addr: page aligned; @guest_phys_addr + @size <= 2^PVMM_GPA_BITS
 * @size: page aligned; 0 deletes the slot
 * @userspace_addr: page aligned; the VMM's mapping of the whole slot
 * @memfd_offset: page aligned; 0 without PVMM_MEMSLOT_MEMFD
 * @memfd: with PVMM_MEMSLOT_MEMFD, a memfd (a regular file open for
 *         writing that supports fallocate) at least @memfd_offset + @size
 *         long, through which ballooned memory is released
 * @reserved: 0
 *
 * Errnos: EINVAL (a field above, or an overflow of any base + size),
 * EEXIST (the range overlaps another slot, which stays), ENOENT (deleting
 * a slot that does not exist), EBADF (bad @memfd), EFAULT, ENOMEM, EIO.
 */
struct pvmm_memslot {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 size;
	__u64 userspace_addr;
	__u64 memfd_offset;
	__s32 memfd;
	__u32 reserved;
};

/**
 * struct pvmm_call - PVMM_VCPU_CALL: a guest call, forwarded by the vCPU's
 * bound thread
 * @nr: the call number, (service << 8) | function
 * @flags: 0
 * @args: the guest's six argument registers
 * @ret: out: the guest's result, a value or a negative errno
 * @out: out: what the service asks of the VMM (the PV MMU's flush set);
 *       0 on input
 *
 * The ioctl fails only for VMM-level errors: EAGAIN (a long call used up
 * its time slice with its progress kept in the kernel; issue the same
 * call again), EINTR (a signal interrupted a service that waits; issue it
 * again), ENOTCONN (the vCPU is not bound), EPERM (the caller is not the
 * bound thread), EINVAL (@flags or @out not 0), EFAULT, EIO (another
 * process). Everything the guest did wrong comes back in @ret.
 */
struct pvmm_call {
	__u32 nr;
	__u32 flags;
	__u64 args[PVMM_CALL_NARGS];
	__s64 ret;
	__u64 out[3];
};

#define PVMM_IOCTL_MAGIC	0xDF

/* On the VM file (/dev/pvmm) */
#define PVMM_GET_VERSION	_IOR(PVMM_IOCTL_MAGIC, 0x00, struct pvmm_version)
#define PVMM_SET_MEMSLOT	_IOW(PVMM_IOCTL_MAGIC, 0x01, struct pvmm_memslot)
#define PVMM_CREATE_VCPU	_IO(PVMM_IOCTL_MAGIC, 0x02)	/* arg: id */
#define PVMM_ENABLE_SERVICE	_IO(PVMM_IOCTL_MAGIC, 0x03)	/* arg: id */

/*
 * VMM controls of the services: ioctls on the VM file, one per control,
 * each with its own struct, declared in the service's header and numbered
 * in the service's range below. The number carries the struct's size and
 * direction, so a changed layout is a new number (and a new
 * PVMM_ABI_VERSION). Every control can fail with ENODEV (the service is
 * not enabled for the VM), ENOTTY (no such control) and EFAULT (@arg not
 * readable or writable); input structs have reserved words that must be
 * zero (EINVAL); each control lists its other errnos.
 */
#define PVMM_CTL_MMU		0x20	/* 0x20 - 0x2f */
#define PVMM_CTL_SCHED		0x30	/* 0x30 - 0x3f */
#define PVMM_CTL_BALLOON	0x40	/* 0x40 - 0x4f */
#define PVMM_CTL_CLOCK		0x50	/* 0x50 - 0x5f */
#define PVMM_CTL_TEST		0xf0	/* 0xf0 - 0xff */

/* On a vCPU file */
#define PVMM_VCPU_BIND		_IO(PVMM_IOCTL_MAGIC, 0x10)
#define PVMM_VCPU_CALL		_IOWR(PVMM_IOCTL_MAGIC, 0x11, struct pvmm_call)

#endif /* _UAPI_LINUX_PVMM_H */
