// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: <debugfs>/pvmm/{pinned_pages,vms,bindings} and one directory per VM,
 * vm<N>/{stats,memslots}. Documented in Documentation/pvmm/admin-guide.rst.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "hub.h"

static struct dentry *pvmm_debugfs_root;
static atomic_t pvmm_nr_vms = ATOMIC_INIT(0);

static int pvmm_pinned_get(void *data, u64 *val)
{
	*val = atomic_long_read(&pvmm_pinned_pages);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(pvmm_pinned_fops, pvmm_pinned_get, NULL, "%llu\n");

static int pvmm_vms_get(void *data, u64 *val)
{
	*val = atomic_read(&pvmm_nr_vms);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(pvmm_vms_fops, pvmm_vms_get, NULL, "%llu\n");

static int pvmm_bindings_get(void *data, u64 *val)
{
	*val = pvmm_bindings_count();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(pvmm_bindings_fops, pvmm_bindings_get, NULL,
			 "%llu\n");

static int pvmm_stats_show(struct seq_file *m, void *unused)
{
	struct pvmm_vm *vm = m->private;
	u64 calls = atomic64_read(&vm->calls);
	u64 unsupported = atomic64_read(&vm->calls_unsupported);
	struct pvmm_vcpu *vcpu;
	unsigned long id;
	unsigned int i;

	mutex_lock(&vm->lock);
	xa_for_each(&vm->vcpus, id, vcpu) {
		calls += READ_ONCE(vcpu->calls);
		unsupported += READ_ONCE(vcpu->calls_unsupported);
	}
	seq_printf(m, "pid: %d\n", vm->pid);
	seq_printf(m, "services: %#llx", vm->svc_mask);
	for (i = 0; i < vm->nr_hooks; i++)
		seq_printf(m, " %s", vm->hooks[i]->name);
	seq_puts(m, "\n");
	seq_printf(m, "vcpus: %u\n", vm->nr_vcpus);
	seq_printf(m, "calls: %llu\n", calls);
	seq_printf(m, "calls_unsupported: %llu\n", unsupported);
	seq_printf(m, "memslot_updates: %lld\n",
		   atomic64_read(&vm->memslot_updates));
	seq_printf(m, "pinned_pages: %ld\n",
		   atomic_long_read(&vm->pinned_pages));
	xa_for_each(&vm->vcpus, id, vcpu) {
		struct task_struct *t = READ_ONCE(vcpu->task);

		seq_printf(m, "vcpu %lu bound %d calls %llu sched_in %llu sched_out %llu\n",
			   id, !!t, READ_ONCE(vcpu->calls),
			   READ_ONCE(vcpu->sched_in), READ_ONCE(vcpu->sched_out));
	}
	mutex_unlock(&vm->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvmm_stats);

static int pvmm_memslots_show(struct seq_file *m, void *unused)
{
	struct pvmm_vm *vm = m->private;
	const struct pvmm_memslots *s;
	u32 i;

	mutex_lock(&vm->lock);
	s = rcu_dereference_protected(vm->slots, lockdep_is_held(&vm->lock));
	for (i = 0; i < s->nr; i++)
		seq_printf(m, "slot %u gpa %#llx size %#llx memfd %d offset %#llx\n",
			   s->slot[i].id, s->slot[i].gpa, s->slot[i].size,
			   !!s->slot[i].file, s->slot[i].offset);
	mutex_unlock(&vm->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvmm_memslots);

void pvmm_debugfs_vm_add(struct pvmm_vm *vm)
{
	char name[16];

	atomic_inc(&pvmm_nr_vms);
	snprintf(name, sizeof(name), "vm%d", vm->id);
	vm->debugfs = debugfs_create_dir(name, pvmm_debugfs_root);
	debugfs_create_file("stats", 0400, vm->debugfs, vm, &pvmm_stats_fops);
	debugfs_create_file("memslots", 0400, vm->debugfs, vm,
			    &pvmm_memslots_fops);
}

void pvmm_debugfs_vm_remove(struct pvmm_vm *vm)
{
	debugfs_remove_recursive(vm->debugfs);
}

/* Counted out only once its services let go: "vms" 0 means all gone. */
void pvmm_debugfs_vm_gone(void)
{
	atomic_dec(&pvmm_nr_vms);
}

void pvmm_debugfs_init(void)
{
	pvmm_debugfs_root = debugfs_create_dir("pvmm", NULL);
	debugfs_create_file_unsafe("pinned_pages", 0444, pvmm_debugfs_root,
				   NULL, &pvmm_pinned_fops);
	debugfs_create_file_unsafe("vms", 0444, pvmm_debugfs_root, NULL,
				   &pvmm_vms_fops);
	debugfs_create_file_unsafe("bindings", 0444, pvmm_debugfs_root, NULL,
				   &pvmm_bindings_fops);
}

void pvmm_debugfs_exit(void)
{
	debugfs_remove_recursive(pvmm_debugfs_root);
}
