// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs: a file each, bound once to the VMM thread that runs the vCPU,
 * whose context switches then reach the services through a preempt
 * notifier, and through which the guest's calls are forwarded.
 *
 * A binding outlives its vCPU when needed: a preempt notifier can only be
 * removed by its own thread (the scheduler walks the list locklessly), so
 * a vCPU closed from elsewhere detaches the binding at once, turning its
 * hooks into no-ops, and the bound thread unhooks it later through a
 * task_work, or it dies with the thread.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>

#include "hub.h"

struct pvmm_binding {
	struct preempt_notifier pn;
	struct pvmm_vcpu __rcu *vcpu;
	struct task_struct *task;
	struct callback_head twork;
	struct delayed_work reap;
};

static atomic_t pvmm_nr_bindings = ATOMIC_INIT(0);

static unsigned int pvmm_max_bindings_per_thread = 4;
module_param_named(max_bindings_per_thread, pvmm_max_bindings_per_thread,
		   uint, 0644);
MODULE_PARM_DESC(max_bindings_per_thread,
		 "vCPUs one thread may have bound at once (default 4)");

static unsigned int pvmm_max_vcpus_per_user = 4096;
module_param_named(max_vcpus_per_user, pvmm_max_vcpus_per_user, uint, 0644);
MODULE_PARM_DESC(max_vcpus_per_user,
		 "vCPUs the VMs of one user may have at once (default 4096)");

/* vCPUs per real uid, as xarray values; under pvmm_user_lock */
static DEFINE_MUTEX(pvmm_user_lock);
static DEFINE_XARRAY(pvmm_user_vcpus);

static int pvmm_vcpu_charge(struct pvmm_vm *vm)
{
	unsigned long uid = __kuid_val(vm->uid), n;
	int r = 0;

	mutex_lock(&pvmm_user_lock);
	n = xa_to_value(xa_load(&pvmm_user_vcpus, uid) ?: xa_mk_value(0));
	if (n >= READ_ONCE(pvmm_max_vcpus_per_user))
		r = -EDQUOT;
	else
		r = xa_err(xa_store(&pvmm_user_vcpus, uid, xa_mk_value(n + 1),
				    GFP_KERNEL));
	mutex_unlock(&pvmm_user_lock);
	return r;
}

static void pvmm_vcpu_uncharge(struct pvmm_vm *vm)
{
	unsigned long uid = __kuid_val(vm->uid), n;

	mutex_lock(&pvmm_user_lock);
	n = xa_to_value(xa_load(&pvmm_user_vcpus, uid) ?: xa_mk_value(0));
	if (WARN_ON_ONCE(!n) || n == 1)
		xa_erase(&pvmm_user_vcpus, uid);
	else
		xa_store(&pvmm_user_vcpus, uid, xa_mk_value(n - 1), GFP_KERNEL);
	mutex_unlock(&pvmm_user_lock);
}

static void pvmm_pn_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct pvmm_binding *b = container_of(pn, struct pvmm_binding, pn);
	struct pvmm_vcpu *vcpu = rcu_dereference_sched(b->vcpu);
	unsigned int i;

	/* after an exec, the thread is no VMM's any more */
	if (!vcpu || current->mm != vcpu->vm->mm)
		return;
	WRITE_ONCE(vcpu->sched_in, vcpu->sched_in + 1);
	for (i = 0; i < vcpu->vm->nr_hooks; i++)
		if (vcpu->vm->hooks[i]->sched_in)
			vcpu->vm->hooks[i]->sched_in(vcpu, cpu);
}

static void pvmm_pn_sched_out(struct preempt_notifier *pn,
			      struct task_struct *next)
{
	struct pvmm_binding *b = container_of(pn, struct pvmm_binding, pn);
	struct pvmm_vcpu *vcpu = rcu_dereference_sched(b->vcpu);
	unsigned int i;

	if (!vcpu || current->mm != vcpu->vm->mm)
		return;
	WRITE_ONCE(vcpu->sched_out, vcpu->sched_out + 1);
	for (i = 0; i < vcpu->vm->nr_hooks; i++)
		if (vcpu->vm->hooks[i]->sched_out)
			vcpu->vm->hooks[i]->sched_out(vcpu, next);
}

static struct preempt_ops pvmm_pn_ops = {
	.sched_in = pvmm_pn_sched_in,
	.sched_out = pvmm_pn_sched_out,
};

/*
 * Each binding holds a reference on the module: the scheduler walks its
 * notifier in the thread's list until the thread itself unhooks it, which
 * a stopped or traced thread may not do for a long time; rmmod then says
 * the module is busy instead of waiting for it.
 */
static void pvmm_binding_free(struct pvmm_binding *b)
{
	put_task_struct(b->task);
	kfree(b);
	if (atomic_dec_and_test(&pvmm_nr_bindings))
		wake_up_var(&pvmm_nr_bindings);
	module_put(THIS_MODULE);
}

/* In the bound thread: nothing else walks its notifier list meanwhile. */
static void pvmm_binding_unhook_self(struct pvmm_binding *b)
{
	preempt_disable();
	preempt_notifier_unregister(&b->pn);
	preempt_enable();
	pvmm_binding_free(b);
}

static void pvmm_binding_twork(struct callback_head *cb)
{
	pvmm_binding_unhook_self(container_of(cb, struct pvmm_binding, twork));
}

/* The thread is past its last context switch: its list is dead too. */
static bool pvmm_task_gone(struct task_struct *t)
{
	if (READ_ONCE(t->__state) != TASK_DEAD)
		return false;
#ifdef CONFIG_SMP
	/* Pairs with the release in finish_task() after the switch away. */
	return !smp_load_acquire(&t->on_cpu);
#else
	return true;
#endif
}

static void pvmm_binding_reap(struct work_struct *work)
{
	struct pvmm_binding *b = container_of(to_delayed_work(work),
					      struct pvmm_binding, reap);

	if (!pvmm_task_gone(b->task)) {
		queue_delayed_work(pvmm_wq, &b->reap, 1);
		return;
	}
	pvmm_binding_free(b);
}

/* After this, the binding's hooks no longer reach the vCPU. */
static void pvmm_binding_detach(struct pvmm_binding *b)
{
	RCU_INIT_POINTER(b->vcpu, NULL);
	if (b->task == current) {
		pvmm_binding_unhook_self(b);
		return;
	}
	init_task_work(&b->twork, pvmm_binding_twork);
	if (!task_work_add(b->task, &b->twork, TWA_SIGNAL))
		return;
	/* -ESRCH: the thread ran its last task_works and is about to die. */
	INIT_DELAYED_WORK(&b->reap, pvmm_binding_reap);
	queue_delayed_work(pvmm_wq, &b->reap, 0);
}

int pvmm_bindings_count(void)
{
	return atomic_read(&pvmm_nr_bindings);
}

void pvmm_bindings_drain(void)
{
	wait_var_event(&pvmm_nr_bindings, !atomic_read(&pvmm_nr_bindings));
}

static void pvmm_vcpu_set_task(struct pvmm_vcpu *vcpu, struct task_struct *t)
{
	spin_lock(&vcpu->task_lock);
	WRITE_ONCE(vcpu->task, t);
	spin_unlock(&vcpu->task_lock);
}

/**
 * pvmm_vcpu_lookup_rcu() - another vCPU of the VM, by id
 * @vm: the VM
 * @id: the vCPU id a guest call named (any value: it is not trusted)
 *
 * For calls that name another vCPU, such as a directed yield.
 *
 * Context: under rcu_read_lock(); the vCPU stays valid until it is
 * dropped, because vCPUs are freed after a grace period.
 * Return: the vCPU, or NULL when no vCPU has @id.
 */
struct pvmm_vcpu *pvmm_vcpu_lookup_rcu(struct pvmm_vm *vm, u32 id)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "pvmm_vcpu_lookup_rcu");
	return xa_load(&vm->vcpus, id);
}
EXPORT_SYMBOL_GPL(pvmm_vcpu_lookup_rcu);

/**
 * pvmm_vcpu_task_get() - the thread bound to a vCPU
 * @vcpu: the vCPU
 *
 * Return: the bound thread with a reference the caller drops with
 * put_task_struct(), or NULL when none is bound or the bound thread has
 * exec'd or is exiting (it is no VMM thread any more).
 */
struct task_struct *pvmm_vcpu_task_get(struct pvmm_vcpu *vcpu)
{
	struct task_struct *t;

	spin_lock(&vcpu->task_lock);
	t = vcpu->task;
	/* a thread that exec'd or is exiting is no VMM thread any more */
	if (t && READ_ONCE(t->mm) == vcpu->vm->mm)
		get_task_struct(t);
	else
		t = NULL;
	spin_unlock(&vcpu->task_lock);
	return t;
}
EXPORT_SYMBOL_GPL(pvmm_vcpu_task_get);

/*
 * Bindings hooked on the calling thread, detached ones included: only the
 * thread itself changes its notifier list, so it may walk it.
 */
static unsigned int pvmm_thread_bindings(void)
{
	struct preempt_notifier *pn;
	unsigned int n = 0;

	hlist_for_each_entry(pn, &current->preempt_notifiers, link)
		if (pn->ops == &pvmm_pn_ops)
			n++;
	return n;
}

static long pvmm_vcpu_bind(struct pvmm_vcpu *vcpu)
{
	struct pvmm_binding *b, *old;

	mutex_lock(&vcpu->lock);
	old = vcpu->binding;
	if (old) {
		long r = -EALREADY;

		if (old->task != current)
			r = (old->task->flags & PF_EXITING) ? 0 : -EBUSY;
		if (r) {
			mutex_unlock(&vcpu->lock);
			return r;
		}
		/* The bound thread is exiting: this one takes over. */
		vcpu->binding = NULL;
		pvmm_vcpu_set_task(vcpu, NULL);
		pvmm_binding_detach(old);
	}

	if (pvmm_thread_bindings() >= READ_ONCE(pvmm_max_bindings_per_thread)) {
		mutex_unlock(&vcpu->lock);
		return -EMLINK;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b) {
		mutex_unlock(&vcpu->lock);
		return -ENOMEM;
	}
	__module_get(THIS_MODULE);	/* an open vCPU file holds one */
	atomic_inc(&pvmm_nr_bindings);
	b->task = get_task_struct(current);
	RCU_INIT_POINTER(b->vcpu, vcpu);
	preempt_notifier_init(&b->pn, &pvmm_pn_ops);
	vcpu->binding = b;
	pvmm_vcpu_set_task(vcpu, current);
	preempt_disable();
	preempt_notifier_register(&b->pn);
	preempt_enable();
	mutex_unlock(&vcpu->lock);
	return 0;
}

static int pvmm_hub_call(struct pvmm_vm *vm, u32 fn, s64 *ret)
{
	switch (fn) {
	case PVMM_CALL_NOP & 0xff:
		*ret = 0;
		break;
	case PVMM_CALL_ABI_VERSION & 0xff:
		*ret = PVMM_ABI_VERSION;
		break;
	case PVMM_CALL_FEATURES & 0xff:
		*ret = vm->svc_mask | BIT_ULL(PVMM_SVC_HUB);
		break;
	default:
		*ret = -EOPNOTSUPP;
		break;
	}
	return 0;
}

static long pvmm_vcpu_call(struct pvmm_vcpu *vcpu, struct pvmm_call __user *uc)
{
	struct pvmm_vm *vm = vcpu->vm;
	const struct pvmm_service *svc;
	struct task_struct *task = READ_ONCE(vcpu->task);
	struct pvmm_call c;
	u32 sid, fn;
	s64 ret;
	int r = 0;

	if (!task)
		return -ENOTCONN;
	if (task != current)
		return -EPERM;
	if (copy_from_user(&c, uc, sizeof(c)))
		return -EFAULT;
	if (pvmm_call_check(&c))
		return -EINVAL;

	/* Per-vCPU counters: no cache line shared between vCPUs here. */
	WRITE_ONCE(vcpu->calls, vcpu->calls + 1);
	memset(vcpu->call_out, 0, sizeof(vcpu->call_out));
	if (pvmm_call_decode(c.nr, &sid, &fn)) {
		ret = -EOPNOTSUPP;
	} else if (sid == PVMM_SVC_HUB) {
		r = pvmm_hub_call(vm, fn, &ret);
	} else {
		/* Fixed once the first vCPU exists: no lock needed. */
		svc = vm->svc[sid];
		if (svc)
			r = svc->call(vcpu, fn, c.args, &ret);
		else
			ret = -EOPNOTSUPP;
	}
	if (r)
		return r;
	if (ret == -EOPNOTSUPP)
		WRITE_ONCE(vcpu->calls_unsupported,
			   vcpu->calls_unsupported + 1);
	c.ret = ret;
	memcpy(c.out, vcpu->call_out, sizeof(c.out));
	if (copy_to_user(&uc->ret, &c.ret, offsetofend(struct pvmm_call, out) -
			 offsetof(struct pvmm_call, ret)))
		return -EFAULT;
	return 0;
}

static long pvmm_vcpu_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct pvmm_vcpu *vcpu = filp->private_data;

	if (vcpu->vm->mm != current->mm)
		return -EIO;

	switch (cmd) {
	case PVMM_VCPU_CALL:
		return pvmm_vcpu_call(vcpu, (struct pvmm_call __user *)arg);
	case PVMM_VCPU_BIND:
		return pvmm_vcpu_bind(vcpu);
	default:
		return -ENOTTY;
	}
}

/* Runs a grace period after release: no notifier still sees the vCPU. */
static void pvmm_vcpu_free(struct work_struct *work)
{
	struct pvmm_vcpu *vcpu = container_of(to_rcu_work(work),
					      struct pvmm_vcpu, free_work);
	struct pvmm_vm *vm = vcpu->vm;
	int i;

	for (i = vm->nr_hooks - 1; i >= 0; i--)
		if (vm->hooks[i]->vcpu_destroy)
			vm->hooks[i]->vcpu_destroy(vcpu);
	atomic64_add(vcpu->calls, &vm->calls);
	atomic64_add(vcpu->calls_unsupported, &vm->calls_unsupported);
	pvmm_vcpu_uncharge(vm);
	kfree(vcpu);
	pvmm_vm_put(vm);
}

static int pvmm_vcpu_release(struct inode *inode, struct file *filp)
{
	struct pvmm_vcpu *vcpu = filp->private_data;
	struct pvmm_vm *vm = vcpu->vm;

	mutex_lock(&vcpu->lock);
	/* no new task references before the binding lets its own go */
	pvmm_vcpu_set_task(vcpu, NULL);
	if (vcpu->binding)
		pvmm_binding_detach(vcpu->binding);
	vcpu->binding = NULL;
	mutex_unlock(&vcpu->lock);
	pvmm_sysfs_vcpu_remove(vcpu);

	mutex_lock(&vm->lock);
	xa_erase(&vm->vcpus, vcpu->id);
	vm->nr_vcpus--;
	mutex_unlock(&vm->lock);

	INIT_RCU_WORK(&vcpu->free_work, pvmm_vcpu_free);
	queue_rcu_work(pvmm_wq, &vcpu->free_work);
	return 0;
}

static const struct file_operations pvmm_vcpu_fops = {
	.owner = THIS_MODULE,
	.release = pvmm_vcpu_release,
	.unlocked_ioctl = pvmm_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/*
 * The vCPU is published in vm->vcpus, where other vCPUs' calls find it
 * under RCU, only once every service has set it up and its file exists:
 * a failure before that frees what nobody else could have seen.
 */
int pvmm_vcpu_create(struct pvmm_vm *vm, unsigned long id)
{
	struct pvmm_vcpu *vcpu;
	struct file *file;
	int r, i, fd;

	if (id >= pvmm_max_vcpus)
		return -EINVAL;
	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	mutex_init(&vcpu->lock);
	spin_lock_init(&vcpu->task_lock);

	mutex_lock(&vm->lock);
	/* Reserved: lookups see NULL until the store below. */
	r = xa_insert(&vm->vcpus, id, NULL, GFP_KERNEL_ACCOUNT);
	if (r) {
		r = r == -EBUSY ? -EEXIST : r;
		goto err_unlock;
	}
	r = pvmm_vcpu_charge(vm);
	if (r)
		goto err_release;
	for (i = 0; i < vm->nr_hooks; i++) {
		if (!vm->hooks[i]->vcpu_init)
			continue;
		r = vm->hooks[i]->vcpu_init(vcpu);
		if (r)
			goto err_hooks;
	}
	r = pvmm_sysfs_vcpu_add(vcpu);
	if (r)
		goto err_hooks;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		r = fd;
		goto err_sysfs;
	}
	file = anon_inode_getfile("pvmm-vcpu", &pvmm_vcpu_fops, vcpu, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		r = PTR_ERR(file);
		goto err_sysfs;
	}
	vm->vcpus_created = true;
	vm->nr_vcpus++;
	kref_get(&vm->kref);
	/* Cannot fail: the slot is reserved. */
	xa_store(&vm->vcpus, id, vcpu, GFP_KERNEL_ACCOUNT);
	mutex_unlock(&vm->lock);
	fd_install(fd, file);
	return fd;

err_sysfs:
	/*
	 * Not under vm->lock: removal waits for the files' readers. The
	 * reserved slot keeps the id meanwhile, and a service enabled
	 * meanwhile is appended past hooks[i - 1], whose work is undone.
	 */
	mutex_unlock(&vm->lock);
	pvmm_sysfs_vcpu_remove(vcpu);
	mutex_lock(&vm->lock);
err_hooks:
	while (--i >= 0)
		if (vm->hooks[i]->vcpu_destroy)
			vm->hooks[i]->vcpu_destroy(vcpu);
	pvmm_vcpu_uncharge(vm);
err_release:
	xa_release(&vm->vcpus, id);
err_unlock:
	mutex_unlock(&vm->lock);
	kfree(vcpu);
	return r;
}
