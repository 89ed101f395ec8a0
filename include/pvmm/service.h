/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel API of the pvmm hub for service modules (pvsched, balloon,
 * pvclock, the PV MMU): VM and vCPU objects, guest memory access and the
 * registration of guest call numbers and scheduling hooks.
 */
#ifndef _PVMM_SERVICE_H
#define _PVMM_SERVICE_H

#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pvmm.h>
#include <linux/rwlock.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

struct dentry;
struct module;
struct page;
struct task_struct;
struct pvmm_binding;
struct pvmm_memslots;
struct pvmm_service;

/**
 * struct pvmm_vm - one VM: one open file of /dev/pvmm
 * @kref: held by the VM file and by each vCPU
 * @lock: serializes memslot changes, vCPU creation and service enabling
 * @mm: the VMM's address space; guest memory is reached through it
 * @srcu: protects @slots for readers that may sleep
 * @slots: current memslots, replaced as a whole on each change
 * @vcpus: vCPUs by id
 * @nr_vcpus: live vCPUs
 * @vcpus_created: once set, the set of enabled services is fixed
 * @svc_mask: enabled services, as the guest sees them (bit n: service n)
 * @svc: enabled services by id
 * @svc_priv: per-VM data of each enabled service
 * @hooks: enabled services in enabling order, walked on every context switch
 * @nr_hooks: entries in @hooks
 * @gpages_lock: protects @gpages and the pinning of each entry
 * @gpages: active guest pages (struct pvmm_gpage)
 * @gpages_work: pins again records whose VMM mapping changed under them
 * @dying: set under @lock when the VM's teardown begins; @gpages_work then
 *         does nothing
 * @pinned_pages: guest pages this VM holds pinned
 * @calls: forwarded guest calls of vCPUs already freed
 * @calls_unsupported: of those, calls answered -EOPNOTSUPP
 * @memslot_updates: successful PVMM_SET_MEMSLOT calls
 * @debugfs: this VM's debugfs directory
 * @kobj: this VM's sysfs directory, /sys/kernel/pvmm/vm<@id>
 * @id: number of this VM in sysfs and debugfs
 * @pid: thread group that created the VM
 * @uid: real user of the opener; its vCPUs count against max_vcpus_per_user
 */
struct pvmm_vm {
	struct kref kref;
	struct mutex lock;		/* see above */
	struct mm_struct *mm;
	struct srcu_struct srcu;
	struct pvmm_memslots __rcu *slots;
	struct xarray vcpus;
	unsigned int nr_vcpus;
	bool vcpus_created;
	u64 svc_mask;
	const struct pvmm_service *svc[PVMM_SVC_MAX];
	void *svc_priv[PVMM_SVC_MAX];
	const struct pvmm_service *hooks[PVMM_SVC_MAX];
	unsigned int nr_hooks;
	struct mutex gpages_lock;	/* see above */
	struct list_head gpages;
	struct work_struct gpages_work;
	bool dying;
	atomic_long_t pinned_pages;
	atomic64_t calls;
	atomic64_t calls_unsupported;
	atomic64_t memslot_updates;
	struct dentry *debugfs;
	struct kobject *kobj;
	int id;
	pid_t pid;
	kuid_t uid;
};

/**
 * struct pvmm_vcpu - one vCPU: one vCPU file
 * @vm: owning VM, referenced
 * @id: vCPU id chosen by the VMM
 * @lock: serializes binding
 * @binding: link to the bound thread's preempt notifier, or NULL
 * @task_lock: guards @task for pvmm_vcpu_task_get()
 * @task: the bound thread; held by the binding
 * @svc_priv: per-vCPU data of each enabled service
 * @call_out: what the current call asks of the VMM (pvmm_call.out),
 *            zeroed before each call; written by the bound thread only
 * @calls: forwarded calls; written by the bound thread only
 * @calls_unsupported: of those, calls answered -EOPNOTSUPP
 * @sched_in: times the bound thread was scheduled in
 * @sched_out: times the bound thread was scheduled out
 * @kobj: its sysfs directory, vm<N>/vcpu<@id>
 * @free_work: frees the vCPU once no notifier can still see it
 */
struct pvmm_vcpu {
	struct pvmm_vm *vm;
	u32 id;
	struct mutex lock;		/* see above */
	struct pvmm_binding *binding;
	spinlock_t task_lock;		/* see above */
	struct task_struct *task;
	void *svc_priv[PVMM_SVC_MAX];
	u64 call_out[3];
	u64 calls;
	u64 calls_unsupported;
	u64 sched_in;
	u64 sched_out;
	struct kobject *kobj;
	struct rcu_work free_work;
};

/* The largest VMM control struct; the hub copies it through the stack. */
#define PVMM_CTL_MAX_SIZE	256

/**
 * struct pvmm_vm_ctl - one VMM control of a service
 * @cmd: its ioctl number, in the service's PVMM_CTL_* range
 * @fn: carries it out in process context, on the struct the hub copied in
 *      (zeroed for a read-only control) and copies back out on success;
 *      returns 0 or a negative errno
 */
struct pvmm_vm_ctl {
	unsigned int cmd;
	int (*fn)(struct pvmm_vm *vm, void *arg);
};

/**
 * struct pvmm_service - a service module's entry points
 * @name: short name, shown in debugfs
 * @owner: THIS_MODULE; each VM using the service holds a reference
 * @id: PVMM_SVC_*; the guest's call numbers are (@id << 8) | function
 * @vm_init: the VMM enabled the service on @vm (process context, vm->lock)
 * @vm_destroy: the VM is going away (process context, maybe a worker)
 * @vcpu_init: a vCPU is created (process context, vm->lock)
 * @vcpu_destroy: the vCPU is going away, no hook runs for it any more
 * @sched_in: the bound thread is scheduled in (preemption off)
 * @sched_out: the bound thread is scheduled out (rq lock held, IRQs off)
 * @call: a guest call in the bound thread; set *@ret to the guest's result
 *        (and vcpu->call_out for the VMM) and return 0, or return a
 *        negative errno for the VMM (-EAGAIN: preempted, call again)
 * @ctls: the service's VMM controls (ioctls on the VM file)
 * @nr_ctls: entries in @ctls
 * @vm_attrs: the service's sysfs group in vm<N>/, named for the service;
 *            pvmm_sysfs_vm() gives the VM
 * @vcpu_attrs: its group in each vm<N>/vcpu<id>/; pvmm_sysfs_vcpu() gives
 *              the vCPU. These files must not take vm->lock.
 * @memslots_changed: after a memslot change unpinned records under it, in
 *                    the VMM's thread (vm->lock held): re-pin with
 *                    pvmm_gpage_refresh()
 * @records_repinned: the hub's worker pinned records again that a change of
 *                    the VMM's mapping under them had unpinned (vm->lock
 *                    held): write their content again, the page may be new
 */
struct pvmm_service {
	const char *name;
	struct module *owner;
	unsigned int id;
	int (*vm_init)(struct pvmm_vm *vm);
	void (*vm_destroy)(struct pvmm_vm *vm);
	int (*vcpu_init)(struct pvmm_vcpu *vcpu);
	void (*vcpu_destroy)(struct pvmm_vcpu *vcpu);
	void (*sched_in)(struct pvmm_vcpu *vcpu, int cpu);
	void (*sched_out)(struct pvmm_vcpu *vcpu, struct task_struct *next);
	int (*call)(struct pvmm_vcpu *vcpu, unsigned int fn, const u64 *args,
		    s64 *ret);
	const struct pvmm_vm_ctl *ctls;
	unsigned int nr_ctls;
	const struct attribute_group *vm_attrs;
	const struct attribute_group *vcpu_attrs;
	void (*memslots_changed)(struct pvmm_vm *vm);
	void (*records_repinned)(struct pvmm_vm *vm);
};

int pvmm_service_register(const struct pvmm_service *svc);

struct pvmm_vm *pvmm_sysfs_vm(struct kobject *kobj);
struct pvmm_vcpu *pvmm_sysfs_vcpu(struct kobject *kobj);

struct pvmm_vcpu *pvmm_vcpu_lookup_rcu(struct pvmm_vm *vm, u32 id);
struct task_struct *pvmm_vcpu_task_get(struct pvmm_vcpu *vcpu);
void pvmm_service_unregister(const struct pvmm_service *svc);

int pvmm_read_guest(struct pvmm_vm *vm, u64 gpa, void *data, size_t len);
int pvmm_write_guest(struct pvmm_vm *vm, u64 gpa, const void *data,
		     size_t len);
/**
 * struct pvmm_gpa_cache - the VMM address of one guest page
 * @gfn: the guest page frame number
 * @gen: the VM's memslot generation the lookup saw; -1: empty
 * @uaddr: the VMM's address of the page
 *
 * Reused by the u64 accessors below while the memslots stay the same.
 * Start it with pvmm_gpa_cache_init().
 */
struct pvmm_gpa_cache {
	u64 gfn;
	s64 gen;
	void __user *uaddr;
};

static inline void pvmm_gpa_cache_init(struct pvmm_gpa_cache *c)
{
	c->gen = -1;
}

int pvmm_gpa_cache_fill(struct pvmm_vm *vm, struct pvmm_gpa_cache *c,
			u64 gpa);

/*
 * The VMM address of the aligned guest u64 at @gpa, through @c; inline,
 * as PV MMU batches call it twice per entry. The page passed access_ok()
 * when it was cached, and the generation is read before the lookup and
 * bumped only after new slots are published, so a cached page never
 * outlives a memslot change.
 */
static inline u64 __user *pvmm_gpa_cache_ptr(struct pvmm_vm *vm,
					     struct pvmm_gpa_cache *c,
					     u64 gpa)
{
	if (!IS_ALIGNED(gpa, sizeof(u64)) || current->mm != vm->mm)
		return NULL;
	if (c->gen != atomic64_read(&vm->memslot_updates) ||
	    c->gfn != gpa >> PAGE_SHIFT) {
		if (pvmm_gpa_cache_fill(vm, c, gpa))
			return NULL;
	}
	return c->uaddr + offset_in_page(gpa);
}

/* An aligned guest u64, same rules: 0 or -EFAULT. */
static inline int pvmm_guest_read_u64(struct pvmm_vm *vm,
				      struct pvmm_gpa_cache *c, u64 gpa,
				      u64 *val)
{
	u64 __user *p = pvmm_gpa_cache_ptr(vm, c, gpa);

	return p && !__get_user(*val, p) ? 0 : -EFAULT;
}

#ifdef CONFIG_X86
/*
 * Compare-and-exchange an aligned guest u64. Return: 0 when stored, 1
 * when not (*@old is then the current value), -EFAULT.
 */
static inline int pvmm_guest_cmpxchg(struct pvmm_vm *vm,
				     struct pvmm_gpa_cache *c, u64 gpa,
				     u64 *old, u64 new)
{
	u64 __user *p = pvmm_gpa_cache_ptr(vm, c, gpa);

	if (!p)
		return -EFAULT;
	return __try_cmpxchg_user(p, old, new, efault);
}
#endif
int pvmm_memslots_each(struct pvmm_vm *vm,
		       int (*fn)(void *priv, u64 gpa, u64 size), void *priv);

/**
 * struct pvmm_backing - what holds a guest range: see pvmm_guest_backing()
 * @file: the slot's memfd, a reference the caller drops with fput(); NULL
 *        for a slot without one
 * @offset: the range's offset in @file
 * @uaddr: the VMM's address of the range
 */
struct pvmm_backing {
	struct file *file;
	u64 offset;
	u64 uaddr;
};

int pvmm_guest_backing(struct pvmm_vm *vm, u64 gpa, u64 len,
		       struct pvmm_backing *b);

/**
 * struct pvmm_gpage - a pinned, kernel-mapped guest record
 * @lock: taken for read around atomic-context access
 * @vm: owning VM
 * @node: in vm->gpages while active
 * @gpa: guest-physical address of the record
 * @len: length of the record; it never crosses a page
 * @active: the service wants the record (set between activate/deactivate)
 * @page: the pinned page, or NULL while the record is not pinned
 * @kva: kernel address of the record inside @page
 * @mni: watches the VMM's mapping of the page while @watched
 * @uaddr: the VMM's address of the page, while @watched
 * @watched: @mni is inserted
 * @charged: the page is charged to the VMM's RLIMIT_MEMLOCK (while active)
 *
 * A record is pinned on activation and charged, as KVM, vhost and VFIO
 * charge their long-term pins, to the VMM's locked memory (RLIMIT_MEMLOCK
 * unless it has CAP_IPC_LOCK) until it is deactivated; a memslot change under it, or the
 * VM's teardown, drops the pin, and so does any change of the VMM's
 * mapping of its page (a hole punched in the memfd, MADV_DONTNEED,
 * munmap): the hub's worker then pins the page mapped there now, and
 * calls the services' records_repinned(). Atomic writers go through
 * pvmm_gpage_begin(), which fails while the record is not pinned;
 * process context can pvmm_gpage_refresh() it. pvmm_gpage_end() closes
 * every pvmm_gpage_begin(), also one that returned NULL.
 */
struct pvmm_gpage {
	rwlock_t lock;
	struct pvmm_vm *vm;
	struct list_head node;
	u64 gpa;
	u32 len;
	bool active;
	struct page *page;
	void *kva;
	struct mmu_interval_notifier mni;
	unsigned long uaddr;
	bool watched;
	bool charged;
};

void pvmm_gpage_init(struct pvmm_gpage *gp, struct pvmm_vm *vm);
int pvmm_gpage_activate(struct pvmm_gpage *gp, u64 gpa, u32 len);
int pvmm_gpage_enable(struct pvmm_gpage *gp, u64 gpa, u32 len,
		      raw_spinlock_t *writers);
int pvmm_gpage_refresh(struct pvmm_gpage *gp);
void pvmm_gpage_deactivate(struct pvmm_gpage *gp);
void *pvmm_gpage_begin(struct pvmm_gpage *gp, unsigned long *flags)
	__acquires(&gp->lock);
void pvmm_gpage_end(struct pvmm_gpage *gp, unsigned long flags)
	__releases(&gp->lock);

#endif /* _PVMM_SERVICE_H */
