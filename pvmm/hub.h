/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the hub's own files. */
#ifndef _PVMM_HUB_H
#define _PVMM_HUB_H

#include <pvmm/service.h>

#include "hub_core.h"

struct workqueue_struct;

extern struct workqueue_struct *pvmm_wq;
extern unsigned int pvmm_max_vcpus;
extern atomic_long_t pvmm_pinned_pages;

void pvmm_vm_put(struct pvmm_vm *vm);

int pvmm_vcpu_create(struct pvmm_vm *vm, unsigned long id);
int pvmm_bindings_count(void);
void pvmm_bindings_drain(void);

const struct pvmm_service *pvmm_service_get(unsigned int id);
int pvmm_ctl_service(unsigned int nr);
u64 pvmm_services_loaded(void);

/* The VMM's address of a guest range inside one memslot (its threads only). */
int pvmm_guest_uptr(struct pvmm_vm *vm, u64 gpa, size_t len,
		    void __user **uptr);

void pvmm_gpages_invalidate(struct pvmm_vm *vm, u64 gpa, u64 size);
void pvmm_gpages_release(struct pvmm_vm *vm);
void pvmm_gpages_repin(struct work_struct *work);

void pvmm_debugfs_init(void);
void pvmm_debugfs_exit(void);
void pvmm_debugfs_vm_add(struct pvmm_vm *vm);
void pvmm_debugfs_vm_remove(struct pvmm_vm *vm);
int pvmm_sysfs_init(void);
void pvmm_sysfs_exit(void);
int pvmm_sysfs_vm_add(struct pvmm_vm *vm);
void pvmm_sysfs_vm_remove(struct pvmm_vm *vm);
void pvmm_sysfs_vm_gone(void);
int pvmm_sysfs_service_add(struct pvmm_vm *vm, const struct pvmm_service *svc);
int pvmm_sysfs_vcpu_add(struct pvmm_vcpu *vcpu);
void pvmm_sysfs_vcpu_remove(struct pvmm_vcpu *vcpu);

#endif /* _PVMM_HUB_H */
