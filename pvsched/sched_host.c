// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_sched: the host half of the scheduling service, which publishes
 * steal time and the preempted state of each vCPU (sched_steal.c), caps
 * directed yield and boost (sched_boost.c) and places vCPU threads that
 * lose time (sched_place.c). This file is the service: its calls, its
 * VMM controls and the life of its VM and vCPU state.
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "sched_host.h"

#define CREATE_TRACE_POINTS
#include "sched_trace.h"

static int pvmm_sched_call(struct pvmm_vcpu *vcpu, unsigned int fn,
			   const u64 *args, s64 *ret)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);

	switch (fn) {
	case PVMM_SCHED_STEAL_ENABLE & 0xff:
		*ret = pvmm_sched_steal_enable(sv, args[0]);
		break;
	case PVMM_SCHED_STEAL_DISABLE & 0xff:
		pvmm_gpage_deactivate(&sv->rec);
		*ret = 0;
		break;
	case PVMM_SCHED_YIELD_TO & 0xff:
		*ret = pvmm_sched_yield_to(vcpu, args[0]);
		break;
	case PVMM_SCHED_BOOST & 0xff:
		*ret = pvmm_sched_boost(vcpu, args[0]);
		trace_pvmm_sched_boost(vcpu->vm->id, vcpu->id, args[0], *ret);
		break;
	case PVMM_SCHED_UNBOOST & 0xff:
		hrtimer_cancel(&sv->boost_timer);
		pvmm_sched_boost_end(sv);
		*ret = 0;
		break;
	default:
		*ret = -EOPNOTSUPP;
		break;
	}
	return 0;
}

static int pvmm_sched_vcpu_init(struct pvmm_vcpu *vcpu)
{
	struct pvmm_sched_vcpu *sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);

	if (!sv)
		return -ENOMEM;
	if (!zalloc_cpumask_var(&sv->pl.vmm_mask, GFP_KERNEL_ACCOUNT)) {
		kfree(sv);
		return -ENOMEM;
	}
	sv->vcpu = vcpu;
	pvmm_gpage_init(&sv->rec, vcpu->vm);
	raw_spin_lock_init(&sv->rec_lock);
	spin_lock_init(&sv->boost_lock);
	hrtimer_init(&sv->boost_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_SOFT);
	sv->boost_timer.function = pvmm_sched_boost_timer;
	sv->pl.cpu = -1;
	vcpu->svc_priv[PVMM_SVC_SCHED] = sv;
	pvmm_sched_place_vcpu_add(vcpu->vm->svc_priv[PVMM_SVC_SCHED], sv);
	return 0;
}

static void pvmm_sched_vcpu_destroy(struct pvmm_vcpu *vcpu)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);

	pvmm_sched_place_vcpu_del(sv);
	hrtimer_cancel(&sv->boost_timer);
	pvmm_sched_boost_end(sv);
	pvmm_gpage_deactivate(&sv->rec);
	free_cpumask_var(sv->pl.vmm_mask);
	kfree(sv);
}

/* debugfs vm<N>/sched: one line per vCPU */
static int pvmm_sched_debugfs_show(struct seq_file *m, void *unused)
{
	struct pvmm_vm *vm = m->private;
	struct pvmm_vcpu *vcpu;
	unsigned long id;

	mutex_lock(&vm->lock);
	xa_for_each(&vm->vcpus, id, vcpu) {
		struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);

		seq_printf(m, "vcpu %lu steal_ns %llu steal_rate %u preempted %d yields %llu yields_refused %llu boosts %llu boosts_refused %llu migrations %llu placed_cpu %d\n",
			   id, READ_ONCE(sv->acct.steal),
			   READ_ONCE(sv->acct.rate), READ_ONCE(sv->preempted),
			   READ_ONCE(sv->yields), READ_ONCE(sv->yields_refused),
			   READ_ONCE(sv->boosts),
			   READ_ONCE(sv->boosts_refused),
			   READ_ONCE(sv->pl.migrations),
			   READ_ONCE(sv->pl.cpu));
	}
	mutex_unlock(&vm->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvmm_sched_debugfs);

static int pvmm_sched_vm_init(struct pvmm_vm *vm)
{
	struct pvmm_sched_vm *svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);

	if (!svm)
		return -ENOMEM;
	spin_lock_init(&svm->lock);
	svm->vm = vm;
	INIT_LIST_HEAD(&svm->vcpus);
	svm->weight = PVMM_SCHED_WEIGHT_DEFAULT;
	vm->svc_priv[PVMM_SVC_SCHED] = svm;
	debugfs_create_file("sched", 0400, vm->debugfs, vm,
			    &pvmm_sched_debugfs_fops);
	pvmm_sched_place_vm_add(svm);
	return 0;
}

static void pvmm_sched_vm_destroy(struct pvmm_vm *vm)
{
	struct pvmm_sched_vm *svm = vm->svc_priv[PVMM_SVC_SCHED];

	pvmm_sched_place_vm_del(svm);
	kfree(svm);
}

static int pvmm_sched_vm_ctl(struct pvmm_vm *vm, u32 op, const u64 *in,
			     u64 *out)
{
	struct pvmm_sched_vm *svm = vm->svc_priv[PVMM_SVC_SCHED];
	int r = 0;

	mutex_lock(&pvmm_sched_place_lock);
	switch (op) {
	case PVMM_SCHED_CTL_SET_WEIGHT:
		if (!in[0] || in[0] > PVMM_SCHED_WEIGHT_MAX)
			r = -EINVAL;
		else
			svm->weight = in[0];
		break;
	case PVMM_SCHED_CTL_GET:
		out[0] = svm->weight;
		out[1] = svm->migrations;
		break;
	default:
		r = -EOPNOTSUPP;
		break;
	}
	mutex_unlock(&pvmm_sched_place_lock);
	return r;
}

static const struct pvmm_service pvmm_sched_service = {
	.name = "sched",
	.owner = THIS_MODULE,
	.id = PVMM_SVC_SCHED,
	.vm_init = pvmm_sched_vm_init,
	.vm_destroy = pvmm_sched_vm_destroy,
	.vcpu_init = pvmm_sched_vcpu_init,
	.vcpu_destroy = pvmm_sched_vcpu_destroy,
	.sched_in = pvmm_sched_sched_in,
	.sched_out = pvmm_sched_sched_out,
	.call = pvmm_sched_call,
	.vm_ctl = pvmm_sched_vm_ctl,
	.memslots_changed = pvmm_sched_memslots_changed,
};

static int __init pvmm_sched_init(void)
{
	int r;

	r = pvmm_sched_place_init();
	if (r)
		return r;
	r = pvmm_service_register(&pvmm_sched_service);
	if (r)
		pvmm_sched_place_exit();
	return r;
}

static void __exit pvmm_sched_exit(void)
{
	pvmm_service_unregister(&pvmm_sched_service);
	pvmm_sched_place_exit();
}

module_init(pvmm_sched_init);
module_exit(pvmm_sched_exit);
MODULE_DESCRIPTION("pvmm scheduling service: steal time and preempted state for guests");
MODULE_LICENSE("GPL");
