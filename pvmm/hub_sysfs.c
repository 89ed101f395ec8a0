// SPDX-License-Identifier: GPL-2.0
/*
 * The operator's tree, one value per file (Documentation/ABI/testing/
 * sysfs-kernel-pvmm):
 *   /sys/kernel/pvmm/{vms,bindings,pinned_pages}
 *   /sys/kernel/pvmm/vm<N>/{pid,uid,services,vcpus,calls,...}
 *   /sys/kernel/pvmm/vm<N>/<service>/...	a service's group
 *   /sys/kernel/pvmm/vm<N>/vcpu<id>/...	and its services' groups
 * A VM's or vCPU's directory goes before its services' state: removal
 * waits for the readers in it, so a file's show and store always see a
 * live VM. vCPU files take no VM lock (a failed vCPU creation removes
 * the directory under it).
 */
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "hub.h"

static struct kobject *pvmm_sysfs_root;
static atomic_t pvmm_nr_vms = ATOMIC_INIT(0);

/* A directory of a VM or a vCPU: the object is valid while it exists. */
struct pvmm_sysfs_dir {
	struct kobject kobj;
	void *obj;
};

static void *pvmm_sysfs_obj(struct kobject *kobj)
{
	return container_of(kobj, struct pvmm_sysfs_dir, kobj)->obj;
}

/**
 * pvmm_sysfs_vm() - the VM of a service's sysfs file
 * @kobj: the file's directory, as the show() and store() methods get it
 *
 * Valid for files of the service's &pvmm_service.vm_attrs group only.
 * Return: the VM; sysfs keeps it alive while the method runs.
 */
struct pvmm_vm *pvmm_sysfs_vm(struct kobject *kobj)
{
	return pvmm_sysfs_obj(kobj);
}
EXPORT_SYMBOL_GPL(pvmm_sysfs_vm);

/**
 * pvmm_sysfs_vcpu() - the vCPU of a service's sysfs file
 * @kobj: the file's directory, as the show() and store() methods get it
 *
 * Valid for files of the service's &pvmm_service.vcpu_attrs group only.
 * Return: the vCPU; sysfs keeps it alive while the method runs.
 */
struct pvmm_vcpu *pvmm_sysfs_vcpu(struct kobject *kobj)
{
	return pvmm_sysfs_obj(kobj);
}
EXPORT_SYMBOL_GPL(pvmm_sysfs_vcpu);

static void pvmm_sysfs_dir_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct pvmm_sysfs_dir, kobj));
}

/* The hub-wide counters */

static ssize_t vms_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&pvmm_nr_vms));
}

static ssize_t bindings_show(struct kobject *kobj,
			     struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", pvmm_bindings_count());
}

static ssize_t pinned_pages_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&pvmm_pinned_pages));
}

static struct kobj_attribute pvmm_vms_attr = __ATTR_RO(vms);
static struct kobj_attribute pvmm_bindings_attr = __ATTR_RO(bindings);
static struct kobj_attribute pvmm_pinned_attr = __ATTR_RO(pinned_pages);

static struct attribute *pvmm_root_attrs[] = {
	&pvmm_vms_attr.attr,
	&pvmm_bindings_attr.attr,
	&pvmm_pinned_attr.attr,
	NULL,
};

static const struct attribute_group pvmm_root_group = {
	.attrs = pvmm_root_attrs,
};

/* vm<N>/ */

static ssize_t pvmm_vm_pid_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", pvmm_sysfs_vm(kobj)->pid);
}

static ssize_t pvmm_vm_uid_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n",
			  from_kuid_munged(&init_user_ns,
					   pvmm_sysfs_vm(kobj)->uid));
}

static ssize_t pvmm_vm_services_show(struct kobject *kobj,
				     struct kobj_attribute *attr, char *buf)
{
	struct pvmm_vm *vm = pvmm_sysfs_vm(kobj);
	unsigned int i;
	int n = 0;

	mutex_lock(&vm->lock);
	for (i = 0; i < vm->nr_hooks; i++)
		n += sysfs_emit_at(buf, n, "%s%s", i ? " " : "",
				   vm->hooks[i]->name);
	mutex_unlock(&vm->lock);
	return n + sysfs_emit_at(buf, n, "\n");
}

static ssize_t pvmm_vm_vcpus_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(pvmm_sysfs_vm(kobj)->nr_vcpus));
}

/* Calls of live vCPUs and of those already gone. */
static void pvmm_vm_calls(struct pvmm_vm *vm, u64 *calls, u64 *unsupported)
{
	struct pvmm_vcpu *vcpu;
	unsigned long id;

	*calls = atomic64_read(&vm->calls);
	*unsupported = atomic64_read(&vm->calls_unsupported);
	/* vCPUs are freed after a grace period */
	rcu_read_lock();
	xa_for_each(&vm->vcpus, id, vcpu) {
		*calls += READ_ONCE(vcpu->calls);
		*unsupported += READ_ONCE(vcpu->calls_unsupported);
	}
	rcu_read_unlock();
}

static ssize_t pvmm_vm_calls_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	u64 calls, unsupported;

	pvmm_vm_calls(pvmm_sysfs_vm(kobj), &calls, &unsupported);
	return sysfs_emit(buf, "%llu\n", calls);
}

static ssize_t pvmm_vm_calls_unsupported_show(struct kobject *kobj,
					      struct kobj_attribute *attr,
					      char *buf)
{
	u64 calls, unsupported;

	pvmm_vm_calls(pvmm_sysfs_vm(kobj), &calls, &unsupported);
	return sysfs_emit(buf, "%llu\n", unsupported);
}

static ssize_t pvmm_vm_memslot_updates_show(struct kobject *kobj,
					    struct kobj_attribute *attr,
					    char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&pvmm_sysfs_vm(kobj)->memslot_updates));
}

static ssize_t pvmm_vm_pinned_pages_show(struct kobject *kobj,
					 struct kobj_attribute *attr,
					 char *buf)
{
	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&pvmm_sysfs_vm(kobj)->pinned_pages));
}

#define PVMM_VM_ATTR(name) \
	static struct kobj_attribute pvmm_vm_##name##_attr = \
		__ATTR(name, 0400, pvmm_vm_##name##_show, NULL)

PVMM_VM_ATTR(pid);
PVMM_VM_ATTR(uid);
PVMM_VM_ATTR(services);
PVMM_VM_ATTR(vcpus);
PVMM_VM_ATTR(calls);
PVMM_VM_ATTR(calls_unsupported);
PVMM_VM_ATTR(memslot_updates);
PVMM_VM_ATTR(pinned_pages);

static struct attribute *pvmm_vm_attrs[] = {
	&pvmm_vm_pid_attr.attr,
	&pvmm_vm_uid_attr.attr,
	&pvmm_vm_services_attr.attr,
	&pvmm_vm_vcpus_attr.attr,
	&pvmm_vm_calls_attr.attr,
	&pvmm_vm_calls_unsupported_attr.attr,
	&pvmm_vm_memslot_updates_attr.attr,
	&pvmm_vm_pinned_pages_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pvmm_vm);

static const struct kobj_type pvmm_vm_ktype = {
	.release = pvmm_sysfs_dir_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = pvmm_vm_groups,
};

/* vm<N>/vcpu<id>/ */

#define PVMM_VCPU_ATTR(_name, _fmt, _expr)				\
static ssize_t pvmm_vcpu_##_name##_show(struct kobject *kobj,		\
					struct kobj_attribute *attr,	\
					char *buf)			\
{									\
	struct pvmm_vcpu *vcpu = pvmm_sysfs_vcpu(kobj);			\
									\
	return sysfs_emit(buf, _fmt "\n", _expr);			\
}									\
static struct kobj_attribute pvmm_vcpu_##_name##_attr =		\
	__ATTR(_name, 0400, pvmm_vcpu_##_name##_show, NULL)

PVMM_VCPU_ATTR(bound, "%d", !!READ_ONCE(vcpu->task));
PVMM_VCPU_ATTR(calls, "%llu", READ_ONCE(vcpu->calls));
PVMM_VCPU_ATTR(sched_in, "%llu", READ_ONCE(vcpu->sched_in));
PVMM_VCPU_ATTR(sched_out, "%llu", READ_ONCE(vcpu->sched_out));

static struct attribute *pvmm_vcpu_attrs[] = {
	&pvmm_vcpu_bound_attr.attr,
	&pvmm_vcpu_calls_attr.attr,
	&pvmm_vcpu_sched_in_attr.attr,
	&pvmm_vcpu_sched_out_attr.attr,
	NULL,
};
ATTRIBUTE_GROUPS(pvmm_vcpu);

static const struct kobj_type pvmm_vcpu_ktype = {
	.release = pvmm_sysfs_dir_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = pvmm_vcpu_groups,
};

static struct kobject *pvmm_sysfs_dir_add(const struct kobj_type *type,
					  struct kobject *parent, void *obj,
					  const char *fmt, u32 id)
{
	struct pvmm_sysfs_dir *d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	int r;

	if (!d)
		return ERR_PTR(-ENOMEM);
	d->obj = obj;
	r = kobject_init_and_add(&d->kobj, type, parent, fmt, id);
	if (r) {
		kobject_put(&d->kobj);
		return ERR_PTR(r);
	}
	return &d->kobj;
}

static void pvmm_sysfs_dir_remove(struct kobject *kobj)
{
	if (!kobj)
		return;
	kobject_del(kobj);	/* waits for the readers inside */
	kobject_put(kobj);
}

int pvmm_sysfs_vm_add(struct pvmm_vm *vm)
{
	struct kobject *k = pvmm_sysfs_dir_add(&pvmm_vm_ktype, pvmm_sysfs_root,
					       vm, "vm%u", vm->id);

	if (IS_ERR(k))
		return PTR_ERR(k);
	vm->kobj = k;
	atomic_inc(&pvmm_nr_vms);
	return 0;
}

void pvmm_sysfs_vm_remove(struct pvmm_vm *vm)
{
	pvmm_sysfs_dir_remove(vm->kobj);
	vm->kobj = NULL;
}

/* Counted out only once its services let go: "vms" 0 means all gone. */
void pvmm_sysfs_vm_gone(void)
{
	atomic_dec(&pvmm_nr_vms);
}

/* A service just enabled: its group in vm<N>/, for the life of the VM. */
int pvmm_sysfs_service_add(struct pvmm_vm *vm, const struct pvmm_service *svc)
{
	return svc->vm_attrs ? sysfs_create_group(vm->kobj, svc->vm_attrs) : 0;
}

int pvmm_sysfs_vcpu_add(struct pvmm_vcpu *vcpu)
{
	struct pvmm_vm *vm = vcpu->vm;
	struct kobject *k;
	unsigned int i;
	int r;

	k = pvmm_sysfs_dir_add(&pvmm_vcpu_ktype, vm->kobj, vcpu, "vcpu%u",
			       vcpu->id);
	if (IS_ERR(k))
		return PTR_ERR(k);
	for (i = 0; i < vm->nr_hooks; i++) {
		if (!vm->hooks[i]->vcpu_attrs)
			continue;
		r = sysfs_create_group(k, vm->hooks[i]->vcpu_attrs);
		if (r) {
			pvmm_sysfs_dir_remove(k);
			return r;
		}
	}
	vcpu->kobj = k;
	return 0;
}

void pvmm_sysfs_vcpu_remove(struct pvmm_vcpu *vcpu)
{
	pvmm_sysfs_dir_remove(vcpu->kobj);
	vcpu->kobj = NULL;
}

int pvmm_sysfs_init(void)
{
	int r;

	pvmm_sysfs_root = kobject_create_and_add("pvmm", kernel_kobj);
	if (!pvmm_sysfs_root)
		return -ENOMEM;
	r = sysfs_create_group(pvmm_sysfs_root, &pvmm_root_group);
	if (r)
		kobject_put(pvmm_sysfs_root);
	return r;
}

void pvmm_sysfs_exit(void)
{
	kobject_put(pvmm_sysfs_root);
}
