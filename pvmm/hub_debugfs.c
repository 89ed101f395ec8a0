// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs, for debugging only: <debugfs>/pvmm/vm<N>/memslots and the
 * services' own files there. What an operator reads is in sysfs
 * (hub_sysfs.c).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "hub.h"

static struct dentry *pvmm_debugfs_root;
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

	snprintf(name, sizeof(name), "vm%d", vm->id);
	vm->debugfs = debugfs_create_dir(name, pvmm_debugfs_root);
	debugfs_create_file("memslots", 0400, vm->debugfs, vm,
			    &pvmm_memslots_fops);
}

void pvmm_debugfs_vm_remove(struct pvmm_vm *vm)
{
	debugfs_remove_recursive(vm->debugfs);
}

void pvmm_debugfs_init(void)
{
	pvmm_debugfs_root = debugfs_create_dir("pvmm", NULL);
}

void pvmm_debugfs_exit(void)
{
	debugfs_remove_recursive(pvmm_debugfs_root);
}
