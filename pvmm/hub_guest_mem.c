// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory for services: copies by guest-physical address through the
 * VMM's mapping, and pinned records that atomic context can write.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

#include <pvmm/compat_v6_1_v6_12.h>

#include "hub.h"

atomic_long_t pvmm_pinned_pages = ATOMIC_LONG_INIT(0);

int pvmm_guest_uptr(struct pvmm_vm *vm, u64 gpa, size_t len,
		    void __user **uptr)
{
	u64 uaddr;
	int idx, r;

	/* The VMM's mapping is only reachable from its own threads. */
	if (current->mm != vm->mm)
		return -EFAULT;
	idx = srcu_read_lock(&vm->srcu);
	r = pvmm_memslots_translate(srcu_dereference(vm->slots, &vm->srcu),
				    gpa, len, &uaddr);
	srcu_read_unlock(&vm->srcu, idx);
	if (!r)
		*uptr = u64_to_user_ptr(uaddr);
	return r;
}

/**
 * pvmm_memslots_each() - visit every memslot of a VM
 * @vm: the VM
 * @fn: called with @priv and each slot's guest-physical base and size, in
 *      address order, under the memslots' SRCU: it must not sleep
 * @priv: passed to @fn
 *
 * Return: 0 when @fn returned 0 for every slot, else the first non-zero
 * value @fn returned (the walk stops there).
 */
int pvmm_memslots_each(struct pvmm_vm *vm,
		       int (*fn)(void *priv, u64 gpa, u64 size), void *priv)
{
	const struct pvmm_memslots *s;
	int idx, r = 0;
	u32 i;

	idx = srcu_read_lock(&vm->srcu);
	s = srcu_dereference(vm->slots, &vm->srcu);
	for (i = 0; s && i < s->nr && !r; i++)
		r = fn(priv, s->slot[i].gpa, s->slot[i].size);
	srcu_read_unlock(&vm->srcu, idx);
	return r;
}
EXPORT_SYMBOL_GPL(pvmm_memslots_each);

/**
 * pvmm_read_guest() - copy from guest memory
 * @vm: the VM
 * @gpa: guest-physical address of the first byte
 * @data: kernel buffer of @len bytes
 * @len: bytes to copy; the range must lie inside one memslot
 *
 * Context: process context of one of the VMM's own threads (a forwarded
 * call or an ioctl): the copy goes through the VMM's mapping and may fault.
 * Return: 0, -EINVAL (empty range) or -EFAULT (outside the memslots, or
 * not readable through the VMM's mapping).
 */
int pvmm_read_guest(struct pvmm_vm *vm, u64 gpa, void *data, size_t len)
{
	void __user *p;
	int r = pvmm_guest_uptr(vm, gpa, len, &p);

	if (r)
		return r;
	return copy_from_user(data, p, len) ? -EFAULT : 0;
}
EXPORT_SYMBOL_GPL(pvmm_read_guest);

/**
 * pvmm_write_guest() - copy into guest memory
 * @vm: the VM
 * @gpa: guest-physical address of the first byte
 * @data: kernel buffer of @len bytes
 * @len: bytes to copy; the range must lie inside one memslot
 *
 * Context: as pvmm_read_guest().
 * Return: 0, -EINVAL (empty range) or -EFAULT.
 */
int pvmm_write_guest(struct pvmm_vm *vm, u64 gpa, const void *data,
		     size_t len)
{
	void __user *p;
	int r = pvmm_guest_uptr(vm, gpa, len, &p);

	if (r)
		return r;
	return copy_to_user(p, data, len) ? -EFAULT : 0;
}
EXPORT_SYMBOL_GPL(pvmm_write_guest);

/**
 * pvmm_gpa_cache_fill() - look up the VMM address of a guest page
 * @vm: the VM
 * @c: the cache, filled with the page of @gpa
 * @gpa: any guest-physical address inside the page
 *
 * The generation is read before the lookup, so a memslot change that
 * races with it leaves the cache stale, never wrong. Callers normally
 * go through pvmm_guest_read_u64() and pvmm_guest_cmpxchg().
 *
 * Return: 0, or -EFAULT (the page is outside the memslots or not a user
 * address; @c is then empty).
 */
int pvmm_gpa_cache_fill(struct pvmm_vm *vm, struct pvmm_gpa_cache *c,
			u64 gpa)
{
	s64 gen = atomic64_read(&vm->memslot_updates);
	void __user *up;

	c->gen = -1;
	if (pvmm_guest_uptr(vm, gpa & PAGE_MASK, PAGE_SIZE, &up) ||
	    !access_ok(up, PAGE_SIZE))
		return -EFAULT;
	c->gfn = gpa >> PAGE_SHIFT;
	c->uaddr = up;
	c->gen = gen;
	return 0;
}
EXPORT_SYMBOL_GPL(pvmm_gpa_cache_fill);

/**
 * pvmm_guest_backing() - what holds a guest-physical range
 * @vm: the VM
 * @gpa: start of the range
 * @len: length, not zero; the range must lie in one memslot
 * @b: the slot's memfd (a new reference, to fput(); NULL for a slot
 *     without one) and the range's offset in it, and its VMM address
 *
 * Call from a thread of the VMM: @b->uaddr is in its address space.
 *
 * Return: 0, -EINVAL (empty range) or -EFAULT.
 */
int pvmm_guest_backing(struct pvmm_vm *vm, u64 gpa, u64 len,
		       struct pvmm_backing *b)
{
	const struct pvmm_slot *slot;
	int idx, r = 0;

	if (!len)
		return -EINVAL;
	if (current->mm != vm->mm)
		return -EFAULT;
	idx = srcu_read_lock(&vm->srcu);
	slot = pvmm_memslots_range(srcu_dereference(vm->slots, &vm->srcu),
				   gpa, len);
	if (slot) {
		b->uaddr = slot->uaddr + (gpa - slot->gpa);
		b->offset = slot->offset + (gpa - slot->gpa);
		b->file = slot->file ? get_file(slot->file) : NULL;
	} else {
		r = -EFAULT;
	}
	srcu_read_unlock(&vm->srcu, idx);
	return r;
}
EXPORT_SYMBOL_GPL(pvmm_guest_backing);

/**
 * pvmm_gpage_init() - set up an inactive guest record
 * @gp: the record, owned by a service's per-VM or per-vCPU state
 * @vm: the VM it belongs to
 *
 * Call before any other pvmm_gpage_*() on @gp; it pins nothing.
 */
void pvmm_gpage_init(struct pvmm_gpage *gp, struct pvmm_vm *vm)
{
	rwlock_init(&gp->lock);
	gp->vm = vm;
	INIT_LIST_HEAD(&gp->node);
	gp->active = false;
	gp->page = NULL;
	gp->kva = NULL;
	gp->watched = false;
	gp->charged = false;
}
EXPORT_SYMBOL_GPL(pvmm_gpage_init);

/*
 * One page of locked memory for an active record, charged to the VMM's mm
 * in the VMM's thread, so that its RLIMIT_MEMLOCK and CAP_IPC_LOCK apply;
 * re-pins of the same record are not charged again. gpages_lock held.
 */
static int pvmm_gpage_charge(struct pvmm_gpage *gp)
{
	int r;

	if (gp->charged)
		return 0;
	if (current->mm != gp->vm->mm)
		return -EFAULT;
	r = account_locked_vm(gp->vm->mm, 1, true);
	if (r)
		return r;
	gp->charged = true;
	return 0;
}

static void pvmm_gpage_uncharge(struct pvmm_gpage *gp)
{
	struct mm_struct *mm = gp->vm->mm;

	if (!gp->charged)
		return;
	gp->charged = false;
	/* an mm past its exit has no locked memory left to give back */
	if (mmget_not_zero(mm)) {
		account_locked_vm(mm, 1, false);
		mmput(mm);
	}
}

/* Take the page out of the record: atomic users see NULL from now on. */
static struct page *pvmm_gpage_take(struct pvmm_gpage *gp)
{
	struct page *page;
	unsigned long flags;

	write_lock_irqsave(&gp->lock, flags);
	page = gp->page;
	gp->page = NULL;
	gp->kva = NULL;
	write_unlock_irqrestore(&gp->lock, flags);
	return page;
}

static void pvmm_gpage_unpinned(struct pvmm_gpage *gp)
{
	atomic_long_dec(&gp->vm->pinned_pages);
	atomic_long_dec(&pvmm_pinned_pages);
}

/*
 * The VMM's mapping of the page changes (unmapped, a hole punched, pages
 * dropped or moved): let the page go at once, so that the change frees
 * what it frees, and have the worker pin what is mapped there afterwards.
 * Never sleeps: the page is still mapped, so it is dirtied without its
 * lock, as KVM does with the pages it maps.
 */
static bool pvmm_gpage_invalidate(struct mmu_interval_notifier *mni,
				  const struct mmu_notifier_range *range,
				  unsigned long cur_seq)
{
	struct pvmm_gpage *gp = container_of(mni, struct pvmm_gpage, mni);
	struct page *page;
	unsigned long flags;

	/* under the lock of the pin's retry check: no pin lands after this */
	write_lock_irqsave(&gp->lock, flags);
	mmu_interval_set_seq(mni, cur_seq);
	write_unlock_irqrestore(&gp->lock, flags);
	page = pvmm_gpage_take(gp);
	if (!page)
		return true;
	set_page_dirty(page);
	unpin_user_page(page);
	pvmm_gpage_unpinned(gp);
	if (range->event != MMU_NOTIFY_RELEASE)
		queue_work(pvmm_wq, &gp->vm->gpages_work);
	return true;
}

static const struct mmu_interval_notifier_ops pvmm_gpage_mni_ops = {
	.invalidate = pvmm_gpage_invalidate,
};

static void pvmm_gpage_unwatch(struct pvmm_gpage *gp)
{
	if (!gp->watched)
		return;
	mmu_interval_notifier_remove(&gp->mni);
	gp->watched = false;
}

/* Drop the pin and the watch. gpages_lock held. */
static void pvmm_gpage_unpin(struct pvmm_gpage *gp)
{
	struct page *page;

	pvmm_gpage_unwatch(gp);
	page = pvmm_gpage_take(gp);
	if (!page)
		return;
	unpin_user_pages_dirty_lock(&page, 1, true);
	pvmm_gpage_unpinned(gp);
}

/*
 * Pin the page behind gp->gpa in the VMM's mm, watched so that a change of
 * the mapping drops the pin. From the VMM's threads or the hub's worker;
 * gpages_lock held.
 */
static int pvmm_gpage_pin(struct pvmm_gpage *gp)
{
	struct pvmm_vm *vm = gp->vm;
	unsigned long uaddr, flags, seq;
	struct page *page;
	int idx, r, tries;
	bool retry;
	u64 ua;
	long n;

	idx = srcu_read_lock(&vm->srcu);
	r = pvmm_memslots_translate(srcu_dereference(vm->slots, &vm->srcu),
				    gp->gpa, gp->len, &ua);
	srcu_read_unlock(&vm->srcu, idx);
	if (r)
		return r;
	uaddr = ua & PAGE_MASK;
	if (!mmget_not_zero(vm->mm))
		return -EFAULT;
	if (gp->watched && gp->uaddr != uaddr)
		pvmm_gpage_unwatch(gp);
	if (!gp->watched) {
		r = mmu_interval_notifier_insert(&gp->mni, vm->mm, uaddr,
						 PAGE_SIZE,
						 &pvmm_gpage_mni_ops);
		if (r)
			goto out;
		gp->uaddr = uaddr;
		gp->watched = true;
	}
	/* a pin the mapping changed under while it was taken is retried */
	for (tries = 0;; tries++) {
		seq = mmu_interval_read_begin(&gp->mni);
		mmap_read_lock(vm->mm);
		n = pvmm_pin_user_pages_remote(vm->mm, uaddr, 1,
					       FOLL_WRITE | FOLL_LONGTERM,
					       &page, NULL);
		mmap_read_unlock(vm->mm);
		if (n != 1) {
			r = n < 0 ? n : -EFAULT;
			goto out;
		}
		write_lock_irqsave(&gp->lock, flags);
		retry = mmu_interval_read_retry(&gp->mni, seq);
		if (!retry) {
			gp->page = page;
			gp->kva = page_address(page) + offset_in_page(gp->gpa);
		}
		write_unlock_irqrestore(&gp->lock, flags);
		if (!retry)
			break;
		unpin_user_page(page);
		if (tries >= 8 || fatal_signal_pending(current)) {
			r = -EAGAIN;
			goto out;
		}
	}
	atomic_long_inc(&vm->pinned_pages);
	atomic_long_inc(&pvmm_pinned_pages);
out:
	mmput(vm->mm);
	return r;
}

/*
 * The worker: pin again the records whose mapping changed, then let the
 * services write them. Nothing to do once the VMM's mm is gone.
 */
void pvmm_gpages_repin(struct work_struct *work)
{
	struct pvmm_vm *vm = container_of(work, struct pvmm_vm, gpages_work);
	struct pvmm_gpage *gp;
	bool any = false;
	unsigned int i;

	mutex_lock(&vm->lock);
	if (vm->dying) {
		mutex_unlock(&vm->lock);
		return;
	}
	mutex_lock(&vm->gpages_lock);
	list_for_each_entry(gp, &vm->gpages, node)
		if (!READ_ONCE(gp->page) && !pvmm_gpage_pin(gp))
			any = true;
	mutex_unlock(&vm->gpages_lock);
	for (i = 0; any && i < vm->nr_hooks; i++)
		if (vm->hooks[i]->records_repinned)
			vm->hooks[i]->records_repinned(vm);
	mutex_unlock(&vm->lock);
}

/**
 * pvmm_gpage_activate() - pin a guest record for atomic-context access
 * @gp: initialized with pvmm_gpage_init()
 * @gpa: guest-physical address of the record, naturally aligned to @len
 *       where @len is a power of two
 * @len: record length, 1 to PAGE_SIZE; the record must not cross a page
 *
 * Call from a thread of the VMM (a forwarded guest call). An active
 * record is moved to @gpa.
 *
 * Return: 0, -EINVAL for a bad length, alignment or page crossing,
 * -ENOMEM when the page would take the VMM past its RLIMIT_MEMLOCK, or
 * -EFAULT when @gpa is outside the memslots or cannot be pinned.
 */
int pvmm_gpage_activate(struct pvmm_gpage *gp, u64 gpa, u32 len)
{
	struct pvmm_vm *vm = gp->vm;
	int r;

	if (!pvmm_range_in_page(gpa, len))
		return -EINVAL;
	if (is_power_of_2(len) && !IS_ALIGNED(gpa, len))
		return -EINVAL;

	mutex_lock(&vm->gpages_lock);
	pvmm_gpage_unpin(gp);
	gp->gpa = gpa;
	gp->len = len;
	r = pvmm_gpage_charge(gp);
	if (!r)
		r = pvmm_gpage_pin(gp);
	if (r) {
		/* nothing of a failed activation stays: not even the watch */
		pvmm_gpage_unwatch(gp);
		pvmm_gpage_uncharge(gp);
		list_del_init(&gp->node);
		gp->active = false;
	} else if (!gp->active) {
		list_add(&gp->node, &vm->gpages);
		gp->active = true;
	}
	mutex_unlock(&vm->gpages_lock);
	return r;
}
EXPORT_SYMBOL_GPL(pvmm_gpage_activate);

/**
 * pvmm_gpage_refresh() - pin an active record again after a memslot change
 * @gp: the record
 *
 * Return: 0 (also when still pinned), -ENOENT when not active, or an
 * error of pvmm_gpage_activate().
 */
int pvmm_gpage_refresh(struct pvmm_gpage *gp)
{
	int r = 0;

	mutex_lock(&gp->vm->gpages_lock);
	if (!gp->active)
		r = -ENOENT;
	else if (!gp->page)
		r = pvmm_gpage_pin(gp);
	mutex_unlock(&gp->vm->gpages_lock);
	return r;
}
EXPORT_SYMBOL_GPL(pvmm_gpage_refresh);

static void pvmm_gpage_zero(struct pvmm_gpage *gp)
{
	unsigned long flags;
	void *p = pvmm_gpage_begin(gp, &flags);

	if (p)
		memset(p, 0, gp->len);
	pvmm_gpage_end(gp, flags);
}

/**
 * pvmm_gpage_enable() - a guest's request to start (or move) a record
 * @gp: initialized with pvmm_gpage_init()
 * @gpa: guest-physical address of the record
 * @len: record length, a power of two up to PAGE_SIZE: the record must be
 *       aligned to it, so that it never crosses a page
 * @writers: the lock the service's atomic writers hold, or NULL
 *
 * The sequence every per-vCPU record shares: a failed enable leaves the
 * record disabled, whatever it was, and a new one reads zero in every
 * word the service does not write (padding, reserved words), whatever the
 * guest left there. Call from the VMM thread forwarding the call.
 *
 * Return: as pvmm_gpage_activate().
 */
int pvmm_gpage_enable(struct pvmm_gpage *gp, u64 gpa, u32 len,
		      raw_spinlock_t *writers)
{
	unsigned long flags;
	int r;

	r = pvmm_gpage_activate(gp, gpa, len);
	if (r) {
		pvmm_gpage_deactivate(gp);
		return r;
	}
	if (!writers) {
		pvmm_gpage_zero(gp);
		return 0;
	}
	raw_spin_lock_irqsave(writers, flags);
	pvmm_gpage_zero(gp);
	raw_spin_unlock_irqrestore(writers, flags);
	return 0;
}
EXPORT_SYMBOL_GPL(pvmm_gpage_enable);

/**
 * pvmm_gpage_deactivate() - stop using a guest record
 * @gp: an initialised record, active or not
 *
 * Drops the pin, the RLIMIT_MEMLOCK charge and the mapping watch. After
 * it returns, pvmm_gpage_begin() returns NULL until the next activation.
 *
 * Context: process context; takes the VM's record mutex.
 */
void pvmm_gpage_deactivate(struct pvmm_gpage *gp)
{
	mutex_lock(&gp->vm->gpages_lock);
	pvmm_gpage_unpin(gp);
	pvmm_gpage_uncharge(gp);
	list_del_init(&gp->node);
	gp->active = false;
	mutex_unlock(&gp->vm->gpages_lock);
}
EXPORT_SYMBOL_GPL(pvmm_gpage_deactivate);

/**
 * pvmm_gpage_begin() - start atomic-context access to a record
 * @gp: the record
 * @flags: saved interrupt state, for pvmm_gpage_end()
 *
 * Always close with pvmm_gpage_end(), whatever this returns.
 *
 * Return: the record's kernel address, or NULL while it is not pinned.
 */
void *pvmm_gpage_begin(struct pvmm_gpage *gp, unsigned long *flags)
	__acquires(&gp->lock)
{
	read_lock_irqsave(&gp->lock, *flags);
	return gp->kva;
}
EXPORT_SYMBOL_GPL(pvmm_gpage_begin);

/**
 * pvmm_gpage_end() - end atomic-context access to a record
 * @gp: the record
 * @flags: what pvmm_gpage_begin() stored
 *
 * Closes every pvmm_gpage_begin(), also one that returned NULL.
 */
void pvmm_gpage_end(struct pvmm_gpage *gp, unsigned long flags)
	__releases(&gp->lock)
{
	read_unlock_irqrestore(&gp->lock, flags);
}
EXPORT_SYMBOL_GPL(pvmm_gpage_end);

/* A memslot over [gpa, gpa + size) changed: its records lose their pin. */
void pvmm_gpages_invalidate(struct pvmm_vm *vm, u64 gpa, u64 size)
{
	struct pvmm_gpage *gp;

	mutex_lock(&vm->gpages_lock);
	list_for_each_entry(gp, &vm->gpages, node)
		if (gp->gpa >= gpa && gp->gpa - gpa < size)
			pvmm_gpage_unpin(gp);
	mutex_unlock(&vm->gpages_lock);
}

/* VM teardown, after every service let go of its records. */
void pvmm_gpages_release(struct pvmm_vm *vm)
{
	struct pvmm_gpage *gp, *tmp;

	mutex_lock(&vm->gpages_lock);
	WARN_ON_ONCE(!list_empty(&vm->gpages));
	list_for_each_entry_safe(gp, tmp, &vm->gpages, node) {
		pvmm_gpage_unpin(gp);
		pvmm_gpage_uncharge(gp);
		list_del_init(&gp->node);
		gp->active = false;
	}
	mutex_unlock(&vm->gpages_lock);
}
