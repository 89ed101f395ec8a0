// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_balloon: the host half of the balloon service. The guest gives
 * pages back in batches of ranges; the module punches holes in the memfd
 * behind them (or, for a slot without a memfd, zaps the VMM's private
 * anonymous pages), so the host's memory really drops, and keeps the
 * exact set of ballooned pages. The operator sets a target through sysfs,
 * the VMM through PVMM_SERVICE_CTL; the guest reads it in a config record.
 */
#include <linux/types.h>
#include <linux/eventfd.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include <pvmm/compat_v6_1_v6_12.h>
#include <pvmm/record.h>
#include <pvmm/service.h>

#include "balloon_core.h"

/* Bounds the memory one guest can make the host spend on its extents. */
static unsigned long pvmm_balloon_max_extents = 1 << 20;
module_param_named(max_extents, pvmm_balloon_max_extents, ulong, 0644);
MODULE_PARM_DESC(max_extents,
		 "Most separate ballooned ranges one VM may have (default 1M)");

struct pvmm_balloon_vm {
	struct mutex lock;		/* everything below */
	struct pvmm_vm *vm;
	struct pvmm_balloon_set set;
	struct pvmm_balloon_range *batch;	/* one batch, copied in */
	struct pvmm_gpage config;
	u32 config_version;
	u64 target;
	u64 released_bytes;
	u64 reported_bytes;
	u64 stats[PVMM_BALLOON_S_NR];
	u64 stats_updates;
	struct eventfd_ctx *notify;	/* signalled on a new target */
	u32 notify_irq;
};

static struct pvmm_balloon_vm *pvmm_balloon_vm(struct pvmm_vm *vm)
{
	return vm->svc_priv[PVMM_SVC_BALLOON];
}

/* The config record, under the same version protocol as the clock. */
static void pvmm_balloon_publish(struct pvmm_balloon_vm *bvm)
{
	struct pvmm_balloon_config *c;
	unsigned long flags;
	u32 v;

	lockdep_assert_held(&bvm->lock);
	c = pvmm_gpage_begin(&bvm->config, &flags);
	if (c) {
		v = pvmm_record_write_begin(&c->version, &bvm->config_version);
		WRITE_ONCE(c->report_order, PVMM_BALLOON_REPORT_ORDER);
		WRITE_ONCE(c->target_pages, bvm->target);
		WRITE_ONCE(c->ballooned_pages, bvm->set.pages);
		WRITE_ONCE(c->notify_irq, bvm->notify_irq);
		pvmm_record_write_end(&c->version, &bvm->config_version, v);
	}
	pvmm_gpage_end(&bvm->config, flags);
}

/* A slot without a memfd: only the VMM's private anonymous memory. */
static int pvmm_balloon_zap(u64 uaddr, u64 len, u64 *released)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	long before, after;
	int r = -EOPNOTSUPP;

	mmap_read_lock(mm);
	vma = find_vma(mm, uaddr);
	if (vma && vma->vm_start <= uaddr && vma->vm_end >= uaddr + len &&
	    vma_is_anonymous(vma) &&
	    !(vma->vm_flags & (VM_SHARED | VM_LOCKED | VM_HUGETLB |
			       VM_PFNMAP | VM_IO))) {
		before = get_mm_counter(mm, MM_ANONPAGES);
		pvmm_zap_page_range(vma, uaddr, len);
		after = get_mm_counter(mm, MM_ANONPAGES);
		*released = before > after ? (before - after) << PAGE_SHIFT : 0;
		r = 0;
	}
	mmap_read_unlock(mm);
	return r;
}

/* Release the host memory behind one range; *released: bytes freed. */
static int pvmm_balloon_release(struct pvmm_vm *vm,
				const struct pvmm_balloon_range *range,
				u64 *released)
{
	struct pvmm_backing b;
	loff_t before, after;
	int r;

	r = pvmm_guest_backing(vm, range->gpa, range->len, &b);
	if (r)
		return r;
	if (!b.file)
		return pvmm_balloon_zap(b.uaddr, range->len, released);
	before = inode_get_bytes(file_inode(b.file));
	r = vfs_fallocate(b.file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  b.offset, range->len);
	after = inode_get_bytes(file_inode(b.file));
	fput(b.file);
	*released = before > after ? before - after : 0;
	return r;
}

/* Every range is backed by something we can release, before any change. */
static int pvmm_balloon_check_backing(struct pvmm_vm *vm,
				      const struct pvmm_balloon_range *r,
				      u32 n)
{
	struct pvmm_backing b;
	u32 i;
	int err;

	for (i = 0; i < n; i++) {
		err = pvmm_guest_backing(vm, r[i].gpa, r[i].len, &b);
		if (err)
			return err;
		if (b.file)
			fput(b.file);
	}
	return 0;
}

/*
 * Merge ranges that follow each other (the batch is sorted) into one
 * release, as long as the merged range lies in one memslot: one punch
 * and one accounting step instead of many. Returns ranges left in @r.
 */
static u32 pvmm_balloon_coalesce(struct pvmm_vm *vm,
				 struct pvmm_balloon_range *r, u32 n)
{
	struct pvmm_backing b;
	u32 i, out = 0;

	for (i = 0; i < n; i++) {
		struct pvmm_balloon_range m = r[out];

		if (i && r[i].gpa == m.gpa + m.len) {
			m.len += r[i].len;
			if (!pvmm_guest_backing(vm, m.gpa, m.len, &b)) {
				if (b.file)
					fput(b.file);
				r[out] = m;
				continue;
			}
		}
		if (i)
			out++;
		r[out] = r[i];
	}
	return n ? out + 1 : 0;
}

/*
 * Release the host memory behind a batch: INFLATE also adds the pages to
 * the balloon and returns how many were new; REPORT leaves them the
 * guest's and returns the bytes released. A failure after some ranges
 * returns what was done.
 */
static s64 pvmm_balloon_release_batch(struct pvmm_balloon_vm *bvm, u32 n,
				      bool inflate)
{
	struct pvmm_balloon_range *r = bvm->batch;
	u64 done = 0, added, released;
	s64 err;
	u32 i;

	err = pvmm_balloon_check_backing(bvm->vm, r, n);
	if (err)
		return err;
	n = pvmm_balloon_coalesce(bvm->vm, r, n);
	for (i = 0; i < n; i++) {
		err = pvmm_balloon_release(bvm->vm, &r[i], &released);
		if (!inflate) {
			bvm->reported_bytes += released;
			added = released;
		} else {
			bvm->released_bytes += released;
			if (!err)
				err = pvmm_balloon_set_add(&bvm->set,
							   r[i].gpa >> PAGE_SHIFT,
							   (r[i].gpa + r[i].len) >>
							   PAGE_SHIFT, &added);
		}
		if (err)
			return done ? done : err;
		done += added;
	}
	return done;
}

/* All or nothing: every page must be in the balloon. */
static s64 pvmm_balloon_deflate(struct pvmm_balloon_vm *bvm, u32 n)
{
	struct pvmm_balloon_range *r = bvm->batch;
	u64 done = 0;
	s64 err;
	u32 i;

	for (i = 0; i < n; i++)
		if (!pvmm_balloon_set_covers(&bvm->set, r[i].gpa >> PAGE_SHIFT,
					     (r[i].gpa + r[i].len) >>
					     PAGE_SHIFT))
			return -EINVAL;
	for (i = 0; i < n; i++) {
		err = pvmm_balloon_set_remove(&bvm->set, r[i].gpa >> PAGE_SHIFT,
					      (r[i].gpa + r[i].len) >>
					      PAGE_SHIFT);
		if (err)
			return done ? done : err;
		done += r[i].len >> PAGE_SHIFT;
	}
	return done;
}

static s64 pvmm_balloon_batch(struct pvmm_balloon_vm *bvm, unsigned int fn,
			      u64 list, u64 n)
{
	u64 min_len = fn == (PVMM_BALLOON_REPORT & 0xff) ?
		      PAGE_SIZE << PVMM_BALLOON_REPORT_ORDER : 0;
	s64 r;

	/* the list lies in one page */
	if (!n || n > PVMM_BALLOON_MAX_BATCH ||
	    offset_in_page(list) + n * sizeof(*bvm->batch) > PAGE_SIZE)
		return -EINVAL;
	r = pvmm_read_guest(bvm->vm, list, bvm->batch,
			    n * sizeof(*bvm->batch));
	if (r)
		return r;
	r = pvmm_balloon_check_batch(bvm->batch, n, min_len);
	if (r)
		return r;
	switch (fn) {
	case PVMM_BALLOON_INFLATE & 0xff:
		r = pvmm_balloon_release_batch(bvm, n, true);
		break;
	case PVMM_BALLOON_DEFLATE & 0xff:
		r = pvmm_balloon_deflate(bvm, n);
		break;
	default:	/* free page reporting */
		r = pvmm_balloon_release_batch(bvm, n, false);
		break;
	}
	pvmm_balloon_publish(bvm);
	return r;
}

static s64 pvmm_balloon_stats_in(struct pvmm_balloon_vm *bvm, u64 list,
				 u64 n)
{
	struct pvmm_balloon_stat st[PVMM_BALLOON_MAX_STATS];
	s64 r;
	u64 i;

	if (!n || n > PVMM_BALLOON_MAX_STATS)
		return -EINVAL;
	r = pvmm_read_guest(bvm->vm, list, st, n * sizeof(st[0]));
	if (r)
		return r;
	/* Unknown tags are a newer guest's: skipped. */
	for (i = 0; i < n; i++)
		if (st[i].tag < PVMM_BALLOON_S_NR)
			bvm->stats[st[i].tag] = st[i].val;
	bvm->stats_updates++;
	return 0;
}

static s64 pvmm_balloon_config_at(struct pvmm_balloon_vm *bvm, u64 gpa)
{
	s64 r;

	r = pvmm_gpage_enable(&bvm->config, gpa,
			      sizeof(struct pvmm_balloon_config), NULL);
	if (!r)
		pvmm_balloon_publish(bvm);
	return r;
}

static int pvmm_balloon_call(struct pvmm_vcpu *vcpu, unsigned int fn,
			     const u64 *args, s64 *ret)
{
	struct pvmm_balloon_vm *bvm = pvmm_balloon_vm(vcpu->vm);

	mutex_lock(&bvm->lock);
	switch (fn) {
	case PVMM_BALLOON_CONFIG & 0xff:
		*ret = pvmm_balloon_config_at(bvm, args[0]);
		break;
	case PVMM_BALLOON_INFLATE & 0xff:
	case PVMM_BALLOON_DEFLATE & 0xff:
	case PVMM_BALLOON_REPORT & 0xff:
		*ret = pvmm_balloon_batch(bvm, fn, args[0], args[1]);
		break;
	case PVMM_BALLOON_STATS & 0xff:
		*ret = pvmm_balloon_stats_in(bvm, args[0], args[1]);
		break;
	default:
		*ret = -EOPNOTSUPP;
		break;
	}
	mutex_unlock(&bvm->lock);
	return 0;
}

/* A new target: in the record, and the VMM's interrupt for it raised. */
static void pvmm_balloon_set_target(struct pvmm_balloon_vm *bvm, u64 pages)
{
	mutex_lock(&bvm->lock);
	if (bvm->target != pages) {
		bvm->target = pages;
		pvmm_balloon_publish(bvm);
		if (bvm->notify)
			pvmm_eventfd_signal(bvm->notify);
	}
	mutex_unlock(&bvm->lock);
}

static int pvmm_balloon_ctl_target(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_balloon_target *t = arg;

	if (t->reserved)
		return -EINVAL;
	pvmm_balloon_set_target(pvmm_balloon_vm(vm), t->pages);
	return 0;
}

static int pvmm_balloon_ctl_notify(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_balloon_vm *bvm = pvmm_balloon_vm(vm);
	struct pvmm_balloon_notify *n = arg;
	struct eventfd_ctx *ctx = NULL, *old;
	bool has_fd = n->eventfd >= 0, has_irq = n->irq;

	if (n->reserved[0] || n->reserved[1] || n->reserved[2] ||
	    n->irq > 255 || has_fd != has_irq)
		return -EINVAL;
	if (has_fd) {
		ctx = eventfd_ctx_fdget(n->eventfd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	mutex_lock(&bvm->lock);
	old = bvm->notify;
	bvm->notify = ctx;
	bvm->notify_irq = n->irq;
	pvmm_balloon_publish(bvm);
	mutex_unlock(&bvm->lock);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static int pvmm_balloon_ctl_info(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_balloon_vm *bvm = pvmm_balloon_vm(vm);
	struct pvmm_balloon_info *i = arg;

	BUILD_BUG_ON(sizeof(i->stats) != sizeof(bvm->stats));
	mutex_lock(&bvm->lock);
	i->target_pages = bvm->target;
	i->ballooned_pages = bvm->set.pages;
	i->released_bytes = bvm->released_bytes;
	i->reported_bytes = bvm->reported_bytes;
	i->extents = bvm->set.extents;
	i->stats_updates = bvm->stats_updates;
	memcpy(i->stats, bvm->stats, sizeof(i->stats));
	mutex_unlock(&bvm->lock);
	return 0;
}

static const struct pvmm_vm_ctl pvmm_balloon_ctls[] = {
	{ PVMM_BALLOON_SET_TARGET, pvmm_balloon_ctl_target },
	{ PVMM_BALLOON_GET_INFO, pvmm_balloon_ctl_info },
	{ PVMM_BALLOON_SET_NOTIFY, pvmm_balloon_ctl_notify },
};

/* The config record lost its pin, or was pinned again: pin, write it. */
static void pvmm_balloon_memslots_changed(struct pvmm_vm *vm)
{
	struct pvmm_balloon_vm *bvm = pvmm_balloon_vm(vm);

	mutex_lock(&bvm->lock);
	if (!pvmm_gpage_refresh(&bvm->config))
		pvmm_balloon_publish(bvm);
	mutex_unlock(&bvm->lock);
}

/* sysfs vm<N>/balloon/: the operator's view and control of the balloon */

struct pvmm_balloon_attr {
	struct kobj_attribute attr;
	size_t off;			/* of a u64 in struct pvmm_balloon_vm */
};

static ssize_t pvmm_balloon_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	struct pvmm_balloon_vm *bvm = pvmm_balloon_vm(pvmm_sysfs_vm(kobj));
	size_t off = container_of(attr, struct pvmm_balloon_attr, attr)->off;
	u64 v;

	mutex_lock(&bvm->lock);
	v = *(u64 *)((char *)bvm + off);
	mutex_unlock(&bvm->lock);
	return sysfs_emit(buf, "%llu\n", v);
}

static ssize_t pvmm_balloon_target_store(struct kobject *kobj,
					 struct kobj_attribute *attr,
					 const char *buf, size_t count)
{
	struct pvmm_balloon_vm *bvm = pvmm_balloon_vm(pvmm_sysfs_vm(kobj));
	u64 v;
	int r;

	r = kstrtou64(buf, 0, &v);
	if (r)
		return r;
	pvmm_balloon_set_target(bvm, v);
	return count;
}

#define PVMM_BALLOON_ATTR(_name, _mode, _store, _field)			\
	{ .attr = __ATTR(_name, _mode, pvmm_balloon_show, _store),	\
	  .off = offsetof(struct pvmm_balloon_vm, _field) }

static struct pvmm_balloon_attr pvmm_balloon_attr_list[] = {
	PVMM_BALLOON_ATTR(target_pages, 0600, pvmm_balloon_target_store,
			  target),
	PVMM_BALLOON_ATTR(ballooned_pages, 0400, NULL, set.pages),
	PVMM_BALLOON_ATTR(extents, 0400, NULL, set.extents),
	PVMM_BALLOON_ATTR(released_bytes, 0400, NULL, released_bytes),
	PVMM_BALLOON_ATTR(reported_bytes, 0400, NULL, reported_bytes),
	PVMM_BALLOON_ATTR(stats_updates, 0400, NULL, stats_updates),
	PVMM_BALLOON_ATTR(guest_swap_in, 0400, NULL, stats[0]),
	PVMM_BALLOON_ATTR(guest_swap_out, 0400, NULL, stats[1]),
	PVMM_BALLOON_ATTR(guest_major_faults, 0400, NULL, stats[2]),
	PVMM_BALLOON_ATTR(guest_minor_faults, 0400, NULL, stats[3]),
	PVMM_BALLOON_ATTR(guest_free_bytes, 0400, NULL, stats[4]),
	PVMM_BALLOON_ATTR(guest_total_bytes, 0400, NULL, stats[5]),
	PVMM_BALLOON_ATTR(guest_available_bytes, 0400, NULL, stats[6]),
	PVMM_BALLOON_ATTR(guest_caches_bytes, 0400, NULL, stats[7]),
};

static struct attribute *pvmm_balloon_attrs[ARRAY_SIZE(pvmm_balloon_attr_list) + 1];

static const struct attribute_group pvmm_balloon_group = {
	.name = "balloon",
	.attrs = pvmm_balloon_attrs,
};

static int pvmm_balloon_vm_init(struct pvmm_vm *vm)
{
	struct pvmm_balloon_vm *bvm;

	bvm = kzalloc(sizeof(*bvm), GFP_KERNEL_ACCOUNT);
	if (!bvm)
		return -ENOMEM;
	bvm->batch = kmalloc_array(PVMM_BALLOON_MAX_BATCH, sizeof(*bvm->batch),
				   GFP_KERNEL_ACCOUNT);
	if (!bvm->batch) {
		kfree(bvm);
		return -ENOMEM;
	}
	mutex_init(&bvm->lock);
	bvm->vm = vm;
	pvmm_balloon_set_init(&bvm->set, READ_ONCE(pvmm_balloon_max_extents));
	pvmm_gpage_init(&bvm->config, vm);
	vm->svc_priv[PVMM_SVC_BALLOON] = bvm;
	return 0;
}

static void pvmm_balloon_vm_destroy(struct pvmm_vm *vm)
{
	struct pvmm_balloon_vm *bvm = pvmm_balloon_vm(vm);

	mutex_lock(&bvm->lock);
	pvmm_gpage_deactivate(&bvm->config);
	pvmm_balloon_set_destroy(&bvm->set);
	kfree(bvm->batch);
	if (bvm->notify)
		eventfd_ctx_put(bvm->notify);
	mutex_unlock(&bvm->lock);
	/* the hub removed vm<N>/balloon/ before: no reader is left */
	kfree(bvm);
}

static const struct pvmm_service pvmm_balloon_service = {
	.name = "balloon",
	.owner = THIS_MODULE,
	.id = PVMM_SVC_BALLOON,
	.vm_init = pvmm_balloon_vm_init,
	.vm_destroy = pvmm_balloon_vm_destroy,
	.call = pvmm_balloon_call,
	.ctls = pvmm_balloon_ctls,
	.nr_ctls = ARRAY_SIZE(pvmm_balloon_ctls),
	.vm_attrs = &pvmm_balloon_group,
	.memslots_changed = pvmm_balloon_memslots_changed,
	.records_repinned = pvmm_balloon_memslots_changed,
};

static int __init pvmm_balloon_init(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pvmm_balloon_attr_list); i++)
		pvmm_balloon_attrs[i] = &pvmm_balloon_attr_list[i].attr.attr;
	return pvmm_service_register(&pvmm_balloon_service);
}

static void __exit pvmm_balloon_exit(void)
{
	pvmm_service_unregister(&pvmm_balloon_service);
}

module_init(pvmm_balloon_init);
module_exit(pvmm_balloon_exit);
MODULE_DESCRIPTION("pvmm balloon service: guest memory given back to the host");
MODULE_LICENSE("GPL");
