/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PV MMU for guest kernel code (CONFIG_PVMM_MMU_GUEST): page-table
 * writes validated by the host, batched per CPU inside lazy sections.
 * Addresses are guest-physical. Every call returns 0 or a negative errno
 * (-ENODEV when the host offers no PV MMU).
 */
#ifndef _PVMM_MMU_GUEST_H
#define _PVMM_MMU_GUEST_H

#include <linux/types.h>

bool pvmm_mmu_guest_available(void);
int pvmm_mmu_guest_set_pte(phys_addr_t pte, u64 val);
void pvmm_mmu_guest_lazy_enter(void);
int pvmm_mmu_guest_lazy_leave(void);
int pvmm_mmu_guest_pin(phys_addr_t root);
int pvmm_mmu_guest_unpin(phys_addr_t root);
int pvmm_mmu_guest_new_baseptr(phys_addr_t root);
int pvmm_mmu_guest_flush_all(void);
int pvmm_mmu_guest_invlpg(unsigned long addr);
s64 pvmm_mmu_guest_translate(unsigned long addr, u64 access);

#endif /* _PVMM_MMU_GUEST_H */
