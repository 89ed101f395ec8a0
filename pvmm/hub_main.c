// SPDX-License-Identifier: GPL-2.0
/*
 * The pvmm hub: /dev/pvmm, one open file per VM. It keeps the VM's
 * memslots and vCPUs and forwards guest calls to the service modules.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/cred.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hub.h"

unsigned int pvmm_max_vcpus = 1024;
module_param_named(max_vcpus, pvmm_max_vcpus, uint, 0444);
MODULE_PARM_DESC(max_vcpus, "vCPU ids per VM are below this (default 1024)");

struct workqueue_struct *pvmm_wq;
static DEFINE_IDA(pvmm_vm_ida);

static void pvmm_vm_destroy(struct kref *kref)
{
	struct pvmm_vm *vm = container_of(kref, struct pvmm_vm, kref);
	struct pvmm_memslots *slots;
	int i;

	pvmm_sysfs_vm_remove(vm);
	pvmm_debugfs_vm_remove(vm);
	/* the re-pin worker calls into services: none once they go */
	mutex_lock(&vm->lock);
	vm->dying = true;
	mutex_unlock(&vm->lock);
	cancel_work_sync(&vm->gpages_work);
	for (i = vm->nr_hooks - 1; i >= 0; i--) {
		const struct pvmm_service *svc = vm->hooks[i];

		if (svc->vm_destroy)
			svc->vm_destroy(vm);
		module_put(svc->owner);
	}
	pvmm_gpages_release(vm);
	/* queued by a record's watch before it was removed */
	cancel_work_sync(&vm->gpages_work);

	slots = rcu_dereference_protected(vm->slots, true);
	for (i = 0; i < slots->nr; i++)
		if (slots->slot[i].file)
			fput(slots->slot[i].file);
	kfree(slots);
	cleanup_srcu_struct(&vm->srcu);
	mmdrop(vm->mm);
	xa_destroy(&vm->vcpus);
	ida_free(&pvmm_vm_ida, vm->id);
	kfree(vm);
	pvmm_sysfs_vm_gone();
}

void pvmm_vm_put(struct pvmm_vm *vm)
{
	kref_put(&vm->kref, pvmm_vm_destroy);
}

static int pvmm_dev_open(struct inode *inode, struct file *filp)
{
	struct pvmm_memslots *slots;
	struct pvmm_vm *vm;
	int r = -ENOMEM;

	/* Guest memory lives in the opener's address space. */
	if (!current->mm)
		return -EINVAL;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	slots = kzalloc(pvmm_memslots_size(0), GFP_KERNEL_ACCOUNT);
	if (!slots)
		goto err_free;
	RCU_INIT_POINTER(vm->slots, slots);
	r = init_srcu_struct(&vm->srcu);
	if (r)
		goto err_slots;
	vm->id = ida_alloc(&pvmm_vm_ida, GFP_KERNEL);
	if (vm->id < 0) {
		r = vm->id;
		goto err_srcu;
	}
	kref_init(&vm->kref);
	mutex_init(&vm->lock);
	mutex_init(&vm->gpages_lock);
	INIT_LIST_HEAD(&vm->gpages);
	INIT_WORK(&vm->gpages_work, pvmm_gpages_repin);
	xa_init(&vm->vcpus);
	vm->pid = task_tgid_vnr(current);
	vm->uid = current_uid();
	vm->mm = current->mm;
	r = pvmm_sysfs_vm_add(vm);
	if (r)
		goto err_id;
	mmgrab(vm->mm);
	pvmm_debugfs_vm_add(vm);
	filp->private_data = vm;
	return nonseekable_open(inode, filp);

err_id:
	ida_free(&pvmm_vm_ida, vm->id);
err_srcu:
	cleanup_srcu_struct(&vm->srcu);
err_slots:
	kfree(slots);
err_free:
	kfree(vm);
	return r;
}

static int pvmm_dev_release(struct inode *inode, struct file *filp)
{
	pvmm_vm_put(filp->private_data);
	return 0;
}

static long pvmm_get_version(struct pvmm_vm *vm, void __user *arg)
{
	struct pvmm_version v = {
		.vm_id = vm->id,
		.abi_version = PVMM_ABI_VERSION,
		.max_memslots = PVMM_MAX_MEMSLOTS,
		.max_vcpus = pvmm_max_vcpus,
		.gpa_bits = PVMM_GPA_BITS,
		.services = pvmm_services_loaded(),
	};

	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

/* A memfd slot's file must be one the balloon can punch holes in. */
static int pvmm_memslot_file(const struct pvmm_memslot *req,
			     struct file **filep)
{
	struct file *file;

	*filep = NULL;
	if (!req->size || !(req->flags & PVMM_MEMSLOT_MEMFD))
		return 0;
	file = fget(req->memfd);
	if (!file)
		return -EBADF;
	if (!S_ISREG(file_inode(file)->i_mode) ||
	    !(file->f_mode & FMODE_WRITE) || !file->f_op->fallocate ||
	    i_size_read(file_inode(file)) < req->memfd_offset + req->size) {
		fput(file);
		return -EINVAL;
	}
	*filep = file;
	return 0;
}

static long pvmm_set_memslot(struct pvmm_vm *vm, void __user *arg)
{
	struct pvmm_memslots *old, *new;
	const struct pvmm_slot *prev;
	struct pvmm_slot chg, gone = {};
	struct pvmm_memslot req;
	struct file *file;
	unsigned int i;
	long r;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	r = pvmm_memslot_check(&req, TASK_SIZE_MAX);
	if (r)
		return r;
	if (req.size && !access_ok(u64_to_user_ptr(req.userspace_addr),
				   req.size))
		return -EFAULT;
	r = pvmm_memslot_file(&req, &file);
	if (r)
		return r;
	chg = (struct pvmm_slot) {
		.id = req.slot, .flags = req.flags,
		.gpa = req.guest_phys_addr, .size = req.size,
		.uaddr = req.userspace_addr, .offset = req.memfd_offset,
		.file = file,
	};

	mutex_lock(&vm->lock);
	old = rcu_dereference_protected(vm->slots, lockdep_is_held(&vm->lock));
	new = kzalloc(pvmm_memslots_size(old->nr + 1), GFP_KERNEL_ACCOUNT);
	r = -ENOMEM;
	if (!new)
		goto out;
	r = pvmm_memslots_update(old, &chg, !req.size, new);
	if (r) {
		kfree(new);
		goto out;
	}
	prev = pvmm_memslots_by_id(old, req.slot);
	if (prev)
		gone = *prev;
	file = NULL;	/* now owned by the new slot array */
	rcu_assign_pointer(vm->slots, new);
	synchronize_srcu(&vm->srcu);
	/* No reader sees the old slot now; drop what was pinned through it. */
	if (gone.size)
		pvmm_gpages_invalidate(vm, gone.gpa, gone.size);
	if (gone.file)
		fput(gone.file);
	kfree(old);
	for (i = 0; i < vm->nr_hooks; i++)
		if (vm->hooks[i]->memslots_changed)
			vm->hooks[i]->memslots_changed(vm);
	atomic64_inc(&vm->memslot_updates);
out:
	mutex_unlock(&vm->lock);
	if (file)
		fput(file);
	return r;
}

static long pvmm_enable_service(struct pvmm_vm *vm, unsigned long id)
{
	const struct pvmm_service *svc;
	long r;

	if (id == PVMM_SVC_HUB || id >= PVMM_SVC_MAX)
		return -EINVAL;
	mutex_lock(&vm->lock);
	r = -EBUSY;
	if (vm->vcpus_created)
		goto out;
	r = -EEXIST;
	if (vm->svc[id])
		goto out;
	r = -ENODEV;
	svc = pvmm_service_get(id);
	if (!svc)
		goto out;
	r = svc->vm_init ? svc->vm_init(vm) : 0;
	if (r) {
		module_put(svc->owner);
		goto out;
	}
	r = pvmm_sysfs_service_add(vm, svc);
	if (r) {
		if (svc->vm_destroy)
			svc->vm_destroy(vm);
		module_put(svc->owner);
		goto out;
	}
	/* vm_init is done before a VMM control can see the service. */
	smp_store_release(&vm->svc[id], svc);
	vm->hooks[vm->nr_hooks++] = svc;
	vm->svc_mask |= BIT_ULL(id);
out:
	mutex_unlock(&vm->lock);
	return r;
}

/* A VMM control of a service: typed by @cmd, whose size the hub copies. */
static long pvmm_service_ctl(struct pvmm_vm *vm, unsigned int cmd,
			     void __user *arg)
{
	const struct pvmm_service *svc;
	const struct pvmm_vm_ctl *c;
	u64 buf[PVMM_CTL_MAX_SIZE / sizeof(u64)];
	unsigned int size = _IOC_SIZE(cmd);
	int id = pvmm_ctl_service(_IOC_NR(cmd));
	long r;

	if (_IOC_TYPE(cmd) != PVMM_IOCTL_MAGIC || id < 0)
		return -ENOTTY;
	/* Pairs with the release in pvmm_enable_service(): vm_init is done. */
	svc = smp_load_acquire(&vm->svc[id]);
	if (!svc)
		return -ENODEV;
	for (c = svc->ctls; c < svc->ctls + svc->nr_ctls; c++)
		if (c->cmd == cmd)
			break;
	if (c == svc->ctls + svc->nr_ctls)
		return -ENOTTY;
	/* registration checked that size <= PVMM_CTL_MAX_SIZE */
	if (_IOC_DIR(cmd) & _IOC_WRITE) {
		if (copy_from_user(buf, arg, size))
			return -EFAULT;
	} else {
		memset(buf, 0, size);
	}
	r = c->fn(vm, buf);
	if (r || !(_IOC_DIR(cmd) & _IOC_READ))
		return r;
	return copy_to_user(arg, buf, size) ? -EFAULT : 0;
}

static long pvmm_dev_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct pvmm_vm *vm = filp->private_data;
	void __user *uarg = (void __user *)arg;

	/* Guest memory is reached through the VMM's mm: no other process. */
	if (vm->mm != current->mm)
		return -EIO;

	switch (cmd) {
	case PVMM_GET_VERSION:
		return pvmm_get_version(vm, uarg);
	case PVMM_SET_MEMSLOT:
		return pvmm_set_memslot(vm, uarg);
	case PVMM_CREATE_VCPU:
		return pvmm_vcpu_create(vm, arg);
	case PVMM_ENABLE_SERVICE:
		return pvmm_enable_service(vm, arg);
	default:
		return pvmm_service_ctl(vm, cmd, uarg);
	}
}

static const struct file_operations pvmm_dev_fops = {
	.owner = THIS_MODULE,
	.open = pvmm_dev_open,
	.release = pvmm_dev_release,
	.unlocked_ioctl = pvmm_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice pvmm_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pvmm",
	.fops = &pvmm_dev_fops,
	.mode = 0600,
};

static int __init pvmm_init(void)
{
	int r;

	if (!pvmm_max_vcpus || pvmm_max_vcpus > 4096) {
		pr_err("max_vcpus must be 1..4096\n");
		return -EINVAL;
	}
	pvmm_wq = alloc_workqueue("pvmm", WQ_UNBOUND, 0);
	if (!pvmm_wq)
		return -ENOMEM;
	/*
	 * Enable the scheduler's notifier hook for as long as the module is
	 * loaded: toggling it per binding live-patches the context switch
	 * path on every CPU each time, which is costly, and on emulated CPUs
	 * livelocks the machine.
	 */
	preempt_notifier_inc();
	r = pvmm_sysfs_init();
	if (r) {
		preempt_notifier_dec();
		destroy_workqueue(pvmm_wq);
		return r;
	}
	pvmm_debugfs_init();
	r = misc_register(&pvmm_miscdev);
	if (r) {
		pvmm_debugfs_exit();
		pvmm_sysfs_exit();
		preempt_notifier_dec();
		destroy_workqueue(pvmm_wq);
	}
	return r;
}

static void __exit pvmm_exit(void)
{
	misc_deregister(&pvmm_miscdev);
	/* vCPUs freed after a grace period, and bindings still unhooking. */
	rcu_barrier();
	flush_workqueue(pvmm_wq);
	pvmm_bindings_drain();
	preempt_notifier_dec();
	destroy_workqueue(pvmm_wq);
	pvmm_debugfs_exit();
	pvmm_sysfs_exit();
}

module_init(pvmm_init);
module_exit(pvmm_exit);
MODULE_DESCRIPTION("pvmm hub: paravirtual memory and scheduling services for KVM guests");
MODULE_LICENSE("GPL");
