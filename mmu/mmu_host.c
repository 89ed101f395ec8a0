// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_mmu: the host half of the PV MMU service. The frame table and the
 * validator live in mmu_core.c; this file reaches guest memory through
 * the VMM's mapping, runs batches in time slices and hands their flush
 * sets to the VMM.
 *
 * A batch that outlives its slice returns -EAGAIN to the VMM with its
 * progress kept here (entries done, the walk in progress); the VMM issues
 * the same call again. Each entry is copied out of guest memory once, so
 * a guest rewriting its batch meanwhile changes nothing already taken.
 */
#include <linux/debugfs.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <pvmm/service.h>

#include "mmu_core.h"
#include "mmu_mem.h"

static unsigned int pvmm_mmu_slice_us = 1000;
module_param_named(slice_us, pvmm_mmu_slice_us, uint, 0644);
MODULE_PARM_DESC(slice_us,
		 "Longest time in microseconds one guest call works before it is preempted (default 1000)");

static unsigned long pvmm_mmu_max_frames = 1UL << 24;
module_param_named(max_frames, pvmm_mmu_max_frames, ulong, 0644);
MODULE_PARM_DESC(max_frames,
		 "Largest frame table a VM may configure, in 4 KiB frames; 8 bytes each (default 16M: 64 GiB of guest memory)");

/* Work units between two looks at the clock. */
#define PVMM_MMU_CHUNK		64
/* Batch entries copied from guest memory at once: 512 bytes. */
#define PVMM_MMU_BUF		32

struct pvmm_mmu_vm {
	struct mutex lock;		/* everything below */
	wait_queue_head_t wq;		/* vCPUs waiting for another's walk */
	bool configured;
	struct pvmm_mmu core;
	struct list_head vcpus;
	struct pvmm_mmu_mem mem;
	u64 batches;
	u64 continuations;
};

struct pvmm_mmu_vcpu_state {
	struct pvmm_mmu_vcpu core;
	struct list_head node;		/* in pvmm_mmu_vm.vcpus */
	/* the batch in progress, as the VMM issued it */
	bool in_batch;
	bool entry_pending;		/* entry @done waits for the walk */
	u64 args[3];
	u64 done;
	/* entries [@buf_start, @buf_start + @buf_n) already copied */
	u64 buf_start;
	unsigned int buf_n;
	struct pvmm_mmu_update buf[PVMM_MMU_BUF];
};

static struct pvmm_mmu_vm *pvmm_mmu_vm(struct pvmm_vm *vm)
{
	return vm->svc_priv[PVMM_SVC_MMU];
}

bool pvmm_mmu_host_root_in_use(struct pvmm_mmu_mem *mem, u64 gfn)
{
	struct pvmm_mmu_vm *mvm = container_of(mem, struct pvmm_mmu_vm, mem);
	struct pvmm_mmu_vcpu_state *vs;

	list_for_each_entry(vs, &mvm->vcpus, node)
		if (vs->core.base == gfn + 1)
			return true;
	return false;
}

static int pvmm_mmu_mark_slot(void *priv, u64 gpa, u64 size)
{
	pvmm_mmu_set_ram(priv, gpa >> PAGE_SHIFT, size >> PAGE_SHIFT, true);
	return 0;
}

static void pvmm_mmu_mark_ram(struct pvmm_mmu_vm *mvm)
{
	pvmm_mmu_set_ram(&mvm->core, 0, mvm->core.nr_frames, false);
	pvmm_memslots_each(mvm->mem.vm, pvmm_mmu_mark_slot, &mvm->core);
}

/* Have entry vs->done of the batch at @gpa copied; each entry once. */
static int pvmm_mmu_fetch(struct pvmm_mmu_vm *mvm,
			  struct pvmm_mmu_vcpu_state *vs, u64 gpa, u64 count)
{
	u64 i = vs->done, start, n;

	if (i >= vs->buf_start && i < vs->buf_start + vs->buf_n)
		return 0;
	/* Up to the next 512-byte boundary: never across a page. */
	start = gpa + i * sizeof(vs->buf[0]);
	n = min_t(u64, count - i, PVMM_MMU_BUF -
		  (start % sizeof(vs->buf)) / sizeof(vs->buf[0]));
	if (pvmm_read_guest(mvm->mem.vm, start, vs->buf, n * sizeof(vs->buf[0])))
		return -EFAULT;
	vs->buf_start = i;
	vs->buf_n = n;
	return 0;
}

static void pvmm_mmu_batch_end(struct pvmm_mmu_vm *mvm,
			       struct pvmm_mmu_vcpu_state *vs)
{
	pvmm_mmu_abort(&mvm->core, &vs->core);
	vs->in_batch = false;
	vs->entry_pending = false;
	vs->buf_n = 0;
}

static bool pvmm_mmu_slice_over(u64 start)
{
	return local_clock() - start > (u64)READ_ONCE(pvmm_mmu_slice_us) *
		NSEC_PER_USEC || need_resched() || signal_pending(current);
}

/*
 * Run the batch of @vs until it ends or its slice is over. Called with
 * mvm->lock held. Return 0 with *@ret set when it ended, or -EAGAIN.
 */
static int pvmm_mmu_batch_run(struct pvmm_mmu_vm *mvm,
			      struct pvmm_mmu_vcpu_state *vs, s64 *ret)
{
	u64 gpa = vs->args[0], count = vs->args[1], start = local_clock();
	struct pvmm_mmu *m = &mvm->core;
	long budget = PVMM_MMU_CHUNK;
	unsigned int off, n;
	int r, err = 0;

	while (vs->done < count || m->depth) {
		if (budget <= 0) {
			if (pvmm_mmu_slice_over(start))
				return -EAGAIN;
			budget = PVMM_MMU_CHUNK;
		}
		/* Only a walk or an entry waiting for one needs this. */
		r = m->depth || vs->entry_pending ?
			pvmm_mmu_run(m, &vs->core, &budget) : 0;
		if (r == -EAGAIN || r == PVMM_MMU_WAIT)
			return r;
		if (r == -EIO) {
			err = r;
			break;
		}
		if (vs->entry_pending) {
			vs->entry_pending = false;
			if (r <= 0) {
				err = r ?: -EINTR;
				break;
			}
			vs->done++;
			continue;
		}
		if (vs->done == count)
			continue;	/* only a teardown left */
		r = pvmm_mmu_fetch(mvm, vs, gpa, count);
		if (r) {
			m->rejected++;	/* the entry is outside guest memory */
			err = r;
			break;
		}
		off = vs->done - vs->buf_start;
		r = pvmm_mmu_apply_many(m, &vs->core, &vs->buf[off],
					vs->buf_n - off, &budget, &n);
		vs->done += n;
		if (r < 0) {
			err = r;
			break;
		}
		if (r == PVMM_MMU_PENDING)
			vs->entry_pending = true;
	}
	/* A teardown started by the failed entry finishes in later calls. */
	if (err && vs->args[2]) {
		s64 e = err;

		pvmm_write_guest(mvm->mem.vm, vs->args[2], &e, sizeof(e));
	}
	*ret = err == -EIO ? -EIO : (s64)vs->done;
	return 0;
}

static int pvmm_mmu_batch(struct pvmm_mmu_vm *mvm,
			  struct pvmm_mmu_vcpu_state *vs,
			  struct pvmm_vcpu *vcpu, const u64 *args, s64 *ret)
{
	u64 bytes, end;
	int r = 0;

	if (mutex_lock_killable(&mvm->lock))
		return -EINTR;
	if (vs->in_batch && memcmp(vs->args, args, sizeof(vs->args)))
		pvmm_mmu_batch_end(mvm, vs);	/* not the preempted call */
	if (!vs->in_batch) {
		if (!mvm->configured) {
			*ret = -ENODEV;
			goto out;
		}
		if ((args[0] % sizeof(struct pvmm_mmu_update)) ||
		    (args[2] % sizeof(s64)) ||
		    check_mul_overflow(args[1],
				       (u64)sizeof(struct pvmm_mmu_update),
				       &bytes) ||
		    check_add_overflow(args[0], bytes, &end) ||
		    end > BIT_ULL(PVMM_GPA_BITS)) {
			/* its first entry is refused: the array is bad */
			if (args[1])
				mvm->core.rejected++;
			*ret = -EINVAL;
			goto out;
		}
		memcpy(vs->args, args, sizeof(vs->args));
		vs->in_batch = true;
		vs->done = 0;
		vs->buf_n = 0;
		mvm->batches++;
	}
	for (;;) {
		r = pvmm_mmu_batch_run(mvm, vs, ret);
		if (r != PVMM_MMU_WAIT)
			break;
		/* Another vCPU's entry is being validated: wait for it. */
		mutex_unlock(&mvm->lock);
		r = wait_event_interruptible(mvm->wq,
					     !READ_ONCE(mvm->core.owner));
		if (r)
			return -EAGAIN;
		if (mutex_lock_killable(&mvm->lock))
			return -EINTR;
	}
	if (r == -EAGAIN) {
		mvm->continuations++;
		goto out;
	}
	vs->in_batch = false;
	vcpu->call_out[0] = vs->core.flush.flags;
	vcpu->call_out[1] = vs->core.flush.vcpus;
	vcpu->call_out[2] = vs->core.flush.addr;
	memset(&vs->core.flush, 0, sizeof(vs->core.flush));
out:
	mutex_unlock(&mvm->lock);
	/*
	 * Also after a preempted call: the walk others wait for may have
	 * ended in this slice even though the batch goes on.
	 */
	if (wq_has_sleeper(&mvm->wq))
		wake_up_all(&mvm->wq);
	return r == -EAGAIN ? -EAGAIN : 0;
}

static int pvmm_mmu_call(struct pvmm_vcpu *vcpu, unsigned int fn,
			 const u64 *args, s64 *ret)
{
	struct pvmm_mmu_vm *mvm = pvmm_mmu_vm(vcpu->vm);
	struct pvmm_mmu_vcpu_state *vs = vcpu->svc_priv[PVMM_SVC_MMU];

	switch (fn) {
	case PVMM_MMU_CALL_VERSION & 0xff:
		mutex_lock(&mvm->lock);
		*ret = PVMM_MMU_VERSION |
		       (mvm->configured ? mvm->core.flags << 32 : 0);
		mutex_unlock(&mvm->lock);
		return 0;
	case PVMM_MMU_CALL_BATCH & 0xff:
		return pvmm_mmu_batch(mvm, vs, vcpu, args, ret);
	case PVMM_MMU_CALL_TRANSLATE & 0xff:
		mutex_lock(&mvm->lock);
		if (mvm->configured)
			*ret = pvmm_mmu_translate(&mvm->core, &vs->core,
						  args[0], args[1]);
		else
			*ret = -ENODEV;
		mutex_unlock(&mvm->lock);
		return 0;
	default:
		*ret = -EOPNOTSUPP;
		return 0;
	}
}

static void pvmm_mmu_count(struct pvmm_mmu *m, u64 *pt, u64 *wr, u64 *pinned)
{
	*pt = m->nr_type[PVMM_MMU_TYPE_L1] + m->nr_type[PVMM_MMU_TYPE_L2] +
	      m->nr_type[PVMM_MMU_TYPE_L3] + m->nr_type[PVMM_MMU_TYPE_L4];
	*wr = m->nr_type[PVMM_MMU_TYPE_WRITABLE];
	*pinned = m->nr_pinned;
}

static int pvmm_mmu_configure(struct pvmm_mmu_vm *mvm, u64 limit, u64 flags)
{
	int r;

	if (mvm->configured)
		return -EBUSY;
	if (!limit || limit % PAGE_SIZE || limit > BIT_ULL(PVMM_GPA_BITS) ||
	    (flags & ~PVMM_MMU_F_ALL))
		return -EINVAL;
	if (limit >> PAGE_SHIFT > READ_ONCE(pvmm_mmu_max_frames))
		return -E2BIG;
	r = pvmm_mmu_init(&mvm->core, limit >> PAGE_SHIFT, flags,
			  &mvm->mem);
	if (r)
		return r;
	pvmm_mmu_mark_ram(mvm);
	mvm->configured = true;
	return 0;
}

static int pvmm_mmu_ctl_configure(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_mmu_vm *mvm = pvmm_mmu_vm(vm);
	struct pvmm_mmu_config *c = arg;
	int r;

	if (c->reserved[0] || c->reserved[1])
		return -EINVAL;
	mutex_lock(&mvm->lock);
	r = pvmm_mmu_configure(mvm, c->limit, c->flags);
	mutex_unlock(&mvm->lock);
	return r;
}

static int pvmm_mmu_ctl_stats(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_mmu_vm *mvm = pvmm_mmu_vm(vm);
	struct pvmm_mmu_stats *st = arg;
	int r = 0;

	mutex_lock(&mvm->lock);
	if (!mvm->configured) {
		r = -ENODEV;
	} else {
		pvmm_mmu_count(&mvm->core, &st->pt_frames,
			       &st->writable_frames, &st->pinned_roots);
		st->applied = mvm->core.applied;
		st->rejected = mvm->core.rejected;
		st->continuations = mvm->continuations;
	}
	mutex_unlock(&mvm->lock);
	return r;
}

static int pvmm_mmu_ctl_frame(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_mmu_vm *mvm = pvmm_mmu_vm(vm);
	struct pvmm_mmu_frame *fr = arg;
	int r = 0;
	u64 f;

	if (fr->reserved[0] || fr->reserved[1])
		return -EINVAL;
	mutex_lock(&mvm->lock);
	if (!mvm->configured) {
		r = -ENODEV;
	} else if (fr->gfn >= mvm->core.nr_frames) {
		r = -EINVAL;
	} else {
		f = mvm->core.ft[fr->gfn];
		fr->type = pvmm_ft_type(f);
		fr->type_count = pvmm_ft_tcount(f);
		fr->refs = pvmm_ft_refs(f);
		fr->pinned = !!(f & PVMM_FT_PINNED);
	}
	mutex_unlock(&mvm->lock);
	return r;
}

/* sysfs vm<N>/mmu/: the frame table's state and counters */

enum {
	PVMM_MMU_A_FRAMES, PVMM_MMU_A_PT, PVMM_MMU_A_WRITABLE,
	PVMM_MMU_A_PINNED, PVMM_MMU_A_APPLIED, PVMM_MMU_A_REJECTED,
	PVMM_MMU_A_BATCHES, PVMM_MMU_A_CONT, PVMM_MMU_A_NR,
};

static const char * const pvmm_mmu_attr_names[PVMM_MMU_A_NR] = {
	"frames", "page_table_frames", "writable_frames", "pinned_roots",
	"entries_applied", "entries_rejected", "batches", "continuations",
};

struct pvmm_mmu_attr {
	struct kobj_attribute attr;
	unsigned int index;		/* into pvmm_mmu_attr_names */
};

static ssize_t pvmm_mmu_attr_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	struct pvmm_mmu_vm *mvm = pvmm_mmu_vm(pvmm_sysfs_vm(kobj));
	unsigned int i = container_of(attr, struct pvmm_mmu_attr, attr)->index;
	u64 v[PVMM_MMU_A_NR] = {};

	mutex_lock(&mvm->lock);
	if (mvm->configured) {
		v[PVMM_MMU_A_FRAMES] = mvm->core.nr_frames;
		pvmm_mmu_count(&mvm->core, &v[PVMM_MMU_A_PT],
			       &v[PVMM_MMU_A_WRITABLE], &v[PVMM_MMU_A_PINNED]);
		v[PVMM_MMU_A_APPLIED] = mvm->core.applied;
		v[PVMM_MMU_A_REJECTED] = mvm->core.rejected;
	}
	v[PVMM_MMU_A_BATCHES] = mvm->batches;
	v[PVMM_MMU_A_CONT] = mvm->continuations;
	mutex_unlock(&mvm->lock);
	return sysfs_emit(buf, "%llu\n", v[i]);
}

static struct pvmm_mmu_attr pvmm_mmu_kattrs[PVMM_MMU_A_NR];
static struct attribute *pvmm_mmu_attrs[PVMM_MMU_A_NR + 1];

static const struct attribute_group pvmm_mmu_group = {
	.name = "mmu",
	.attrs = pvmm_mmu_attrs,
};

static const struct pvmm_vm_ctl pvmm_mmu_ctls[] = {
	{ PVMM_MMU_CONFIGURE, pvmm_mmu_ctl_configure },
	{ PVMM_MMU_GET_STATS, pvmm_mmu_ctl_stats },
	{ PVMM_MMU_GET_FRAME, pvmm_mmu_ctl_frame },
};

static void pvmm_mmu_memslots_changed(struct pvmm_vm *vm)
{
	struct pvmm_mmu_vm *mvm = pvmm_mmu_vm(vm);

	mutex_lock(&mvm->lock);
	if (mvm->configured)
		pvmm_mmu_mark_ram(mvm);
	mutex_unlock(&mvm->lock);
}

static int pvmm_mmu_debugfs_show(struct seq_file *s, void *unused)
{
	struct pvmm_mmu_vm *mvm = s->private;
	struct pvmm_mmu *m = &mvm->core;
	u64 pt, wr, pinned;

	mutex_lock(&mvm->lock);
	seq_printf(s, "configured: %d\n", mvm->configured);
	if (mvm->configured) {
		pvmm_mmu_count(m, &pt, &wr, &pinned);
		seq_printf(s, "frames: %llu\n", m->nr_frames);
		seq_printf(s, "superpages: %d\n",
			   !!(m->flags & PVMM_MMU_F_SUPERPAGES));
		seq_printf(s, "page_table_frames: %llu\n", pt);
		seq_printf(s, "writable_frames: %llu\n", wr);
		seq_printf(s, "pinned_roots: %llu\n", pinned);
		seq_printf(s, "entries_applied: %llu\n", m->applied);
		seq_printf(s, "entries_rejected: %llu\n", m->rejected);
		seq_printf(s, "walk_depth: %u\n", m->depth);
		seq_printf(s, "broken: %d\n", m->broken);
	}
	seq_printf(s, "batches: %llu\n", mvm->batches);
	seq_printf(s, "continuations: %llu\n", mvm->continuations);
	mutex_unlock(&mvm->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvmm_mmu_debugfs);

static int pvmm_mmu_vm_init(struct pvmm_vm *vm)
{
	struct pvmm_mmu_vm *mvm = kzalloc(sizeof(*mvm), GFP_KERNEL_ACCOUNT);

	if (!mvm)
		return -ENOMEM;
	mutex_init(&mvm->lock);
	init_waitqueue_head(&mvm->wq);
	INIT_LIST_HEAD(&mvm->vcpus);
	pvmm_gpa_cache_init(&mvm->mem.cache);
	mvm->mem.vm = vm;
	vm->svc_priv[PVMM_SVC_MMU] = mvm;
	debugfs_create_file("mmu", 0400, vm->debugfs, mvm,
			    &pvmm_mmu_debugfs_fops);
	return 0;
}

static void pvmm_mmu_vm_destroy(struct pvmm_vm *vm)
{
	struct pvmm_mmu_vm *mvm = pvmm_mmu_vm(vm);

	/* The VM's debugfs directory is gone before services are torn down. */
	if (mvm->configured)
		pvmm_mmu_destroy(&mvm->core);
	kfree(mvm);
}

static int pvmm_mmu_vcpu_init(struct pvmm_vcpu *vcpu)
{
	struct pvmm_mmu_vm *mvm = pvmm_mmu_vm(vcpu->vm);
	struct pvmm_mmu_vcpu_state *vs = kzalloc(sizeof(*vs),
						 GFP_KERNEL_ACCOUNT);

	if (!vs)
		return -ENOMEM;
	vs->core.id = vcpu->id;
	mutex_lock(&mvm->lock);
	list_add(&vs->node, &mvm->vcpus);
	mutex_unlock(&mvm->lock);
	vcpu->svc_priv[PVMM_SVC_MMU] = vs;
	return 0;
}

static void pvmm_mmu_vcpu_destroy(struct pvmm_vcpu *vcpu)
{
	struct pvmm_mmu_vm *mvm = pvmm_mmu_vm(vcpu->vm);
	struct pvmm_mmu_vcpu_state *vs = vcpu->svc_priv[PVMM_SVC_MMU];

	if (!vs)
		return;
	mutex_lock(&mvm->lock);
	/* A validation it waited for unwinds; any vCPU finishes that. */
	pvmm_mmu_abort(&mvm->core, &vs->core);
	list_del(&vs->node);
	mutex_unlock(&mvm->lock);
	wake_up_all(&mvm->wq);
	kfree(vs);
}

static const struct pvmm_service pvmm_mmu_service = {
	.name = "mmu",
	.owner = THIS_MODULE,
	.id = PVMM_SVC_MMU,
	.vm_init = pvmm_mmu_vm_init,
	.vm_destroy = pvmm_mmu_vm_destroy,
	.vcpu_init = pvmm_mmu_vcpu_init,
	.vcpu_destroy = pvmm_mmu_vcpu_destroy,
	.call = pvmm_mmu_call,
	.ctls = pvmm_mmu_ctls,
	.nr_ctls = ARRAY_SIZE(pvmm_mmu_ctls),
	.vm_attrs = &pvmm_mmu_group,
	.memslots_changed = pvmm_mmu_memslots_changed,
};

static int __init pvmm_mmu_module_init(void)
{
	unsigned int i;

	for (i = 0; i < PVMM_MMU_A_NR; i++) {
		struct kobj_attribute *ka = &pvmm_mmu_kattrs[i].attr;

		sysfs_attr_init(&ka->attr);
		ka->attr.name = pvmm_mmu_attr_names[i];
		ka->attr.mode = 0400;
		ka->show = pvmm_mmu_attr_show;
		pvmm_mmu_kattrs[i].index = i;
		pvmm_mmu_attrs[i] = &ka->attr;
	}
	return pvmm_service_register(&pvmm_mmu_service);
}

static void __exit pvmm_mmu_module_exit(void)
{
	pvmm_service_unregister(&pvmm_mmu_service);
}

module_init(pvmm_mmu_module_init);
module_exit(pvmm_mmu_module_exit);
MODULE_DESCRIPTION("pvmm PV MMU service: validated, batched guest page-table updates");
MODULE_LICENSE("GPL");
