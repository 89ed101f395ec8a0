/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest side of the pvmm call ABI (x86-64), shared by the guest halves of
 * all services: discovery through CPUID and calls through the VMM's I/O
 * port doorbell (see include/uapi/linux/pvmm.h).
 */
#ifndef _PVMM_GUEST_H
#define _PVMM_GUEST_H

#include <linux/types.h>
#include <linux/pvmm.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>

/* Return: the doorbell port, or 0 when no pvmm hub is there. */
static inline u16 pvmm_guest_detect(void)
{
	u32 eax, ebx, ecx, edx;

	if (!boot_cpu_has(X86_FEATURE_HYPERVISOR))
		return 0;
	cpuid(PVMM_CPUID_SIGNATURE, &eax, &ebx, &ecx, &edx);
	if (ebx != PVMM_CPUID_SIG || ecx != PVMM_CPUID_SIG ||
	    edx != PVMM_CPUID_SIG || eax < PVMM_CPUID_DOORBELL)
		return 0;
	cpuid(PVMM_CPUID_DOORBELL, &eax, &ebx, &ecx, &edx);
	if (ebx != PVMM_ABI_VERSION || !eax || eax > 0xffff)
		return 0;
	return eax;
}

static inline s64 pvmm_guest_call(u16 port, u32 nr, u64 a0, u64 a1, u64 a2,
				  u64 a3, u64 a4, u64 a5)
{
	register u64 r8 asm("r8") = a4;
	register u64 r9 asm("r9") = a5;
	u64 ret = nr;

	asm volatile("outl %%eax, %%dx"
		     : "+a" (ret)
		     : "d" (port), "b" (a0), "c" (a1), "S" (a2), "D" (a3),
		       "r" (r8), "r" (r9)
		     : "memory");
	return ret;
}

#endif /* _PVMM_GUEST_H */
