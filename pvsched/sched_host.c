// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_sched: the host half of the scheduling service, which publishes
 * steal time and the preempted state of each vCPU (sched_steal.c), caps
 * directed yield and boost (sched_boost.c) and places vCPU threads that
 * lose time (sched_place.c). This file is the service: its calls, its
 * VMM controls and the life of its VM and vCPU state.
 */
#include <linux/module.h>
#include <linux/sysfs.h>
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

/* sysfs vm<N>/vcpu<id>/sched/: the vCPU's steal, yields, boosts, placement */

#define PVMM_SCHED_VCPU_ATTR(_name, _fmt, _expr)				\
static ssize_t pvmm_sched_##_name##_show(struct kobject *kobj,		\
					 struct kobj_attribute *attr,	\
					 char *buf)			\
{									\
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(pvmm_sysfs_vcpu(kobj)); \
									\
	return sysfs_emit(buf, _fmt "\n", _expr);		\
}									\
static struct kobj_attribute pvmm_sched_##_name##_attr =		\
	__ATTR(_name, 0400, pvmm_sched_##_name##_show, NULL)

PVMM_SCHED_VCPU_ATTR(steal_ns, "%llu", READ_ONCE(sv->acct.steal));
PVMM_SCHED_VCPU_ATTR(steal_rate, "%u", READ_ONCE(sv->acct.rate));
PVMM_SCHED_VCPU_ATTR(preempted, "%d", READ_ONCE(sv->preempted));
PVMM_SCHED_VCPU_ATTR(yields, "%llu", READ_ONCE(sv->yields));
PVMM_SCHED_VCPU_ATTR(yields_refused, "%llu", READ_ONCE(sv->yields_refused));
PVMM_SCHED_VCPU_ATTR(boosts, "%llu", READ_ONCE(sv->boosts));
PVMM_SCHED_VCPU_ATTR(boosts_refused, "%llu", READ_ONCE(sv->boosts_refused));
PVMM_SCHED_VCPU_ATTR(boosted, "%d", !!READ_ONCE(sv->boosted));
PVMM_SCHED_VCPU_ATTR(migrations, "%llu", READ_ONCE(sv->pl.migrations));
PVMM_SCHED_VCPU_ATTR(placed_cpu, "%d", READ_ONCE(sv->pl.cpu));

static struct attribute *pvmm_sched_vcpu_attrs[] = {
	&pvmm_sched_steal_ns_attr.attr,
	&pvmm_sched_steal_rate_attr.attr,
	&pvmm_sched_preempted_attr.attr,
	&pvmm_sched_yields_attr.attr,
	&pvmm_sched_yields_refused_attr.attr,
	&pvmm_sched_boosts_attr.attr,
	&pvmm_sched_boosts_refused_attr.attr,
	&pvmm_sched_boosted_attr.attr,
	&pvmm_sched_migrations_attr.attr,
	&pvmm_sched_placed_cpu_attr.attr,
	NULL,
};

static const struct attribute_group pvmm_sched_vcpu_group = {
	.name = "sched",
	.attrs = pvmm_sched_vcpu_attrs,
};

/* sysfs vm<N>/sched/: the VM's placement weight and moves */

static ssize_t pvmm_sched_weight_show(struct kobject *kobj,
				      struct kobj_attribute *attr, char *buf)
{
	struct pvmm_sched_vm *svm = pvmm_sysfs_vm(kobj)->svc_priv[PVMM_SVC_SCHED];
	u32 w;

	mutex_lock(&pvmm_sched_place_lock);
	w = svm->weight;
	mutex_unlock(&pvmm_sched_place_lock);
	return sysfs_emit(buf, "%u\n", w);
}

static ssize_t pvmm_sched_weight_store(struct kobject *kobj,
				       struct kobj_attribute *attr,
				       const char *buf, size_t count)
{
	struct pvmm_sched_vm *svm = pvmm_sysfs_vm(kobj)->svc_priv[PVMM_SVC_SCHED];
	u32 w;
	int r;

	r = kstrtou32(buf, 0, &w);
	if (r)
		return r;
	if (!w || w > PVMM_SCHED_WEIGHT_MAX)
		return -EINVAL;
	mutex_lock(&pvmm_sched_place_lock);
	svm->weight = w;
	mutex_unlock(&pvmm_sched_place_lock);
	return count;
}

static ssize_t pvmm_sched_vm_migrations_show(struct kobject *kobj,
					     struct kobj_attribute *attr,
					     char *buf)
{
	struct pvmm_sched_vm *svm = pvmm_sysfs_vm(kobj)->svc_priv[PVMM_SVC_SCHED];
	u64 n;

	mutex_lock(&pvmm_sched_place_lock);
	n = svm->migrations;
	mutex_unlock(&pvmm_sched_place_lock);
	return sysfs_emit(buf, "%llu\n", n);
}

static struct kobj_attribute pvmm_sched_weight_attr =
	__ATTR(weight, 0600, pvmm_sched_weight_show, pvmm_sched_weight_store);
static struct kobj_attribute pvmm_sched_vm_migrations_attr =
	__ATTR(migrations, 0400, pvmm_sched_vm_migrations_show, NULL);

static struct attribute *pvmm_sched_vm_attrs[] = {
	&pvmm_sched_weight_attr.attr,
	&pvmm_sched_vm_migrations_attr.attr,
	NULL,
};

static const struct attribute_group pvmm_sched_vm_group = {
	.name = "sched",
	.attrs = pvmm_sched_vm_attrs,
};

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
	pvmm_sched_place_vm_add(svm);
	return 0;
}

static void pvmm_sched_vm_destroy(struct pvmm_vm *vm)
{
	struct pvmm_sched_vm *svm = vm->svc_priv[PVMM_SVC_SCHED];

	pvmm_sched_place_vm_del(svm);
	kfree(svm);
}

static int pvmm_sched_ctl_weight(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_sched_vm *svm = vm->svc_priv[PVMM_SVC_SCHED];
	struct pvmm_sched_weight *w = arg;

	if (!w->weight || w->weight > PVMM_SCHED_WEIGHT_MAX || w->reserved)
		return -EINVAL;
	mutex_lock(&pvmm_sched_place_lock);
	svm->weight = w->weight;
	mutex_unlock(&pvmm_sched_place_lock);
	return 0;
}

static int pvmm_sched_ctl_info(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_sched_vm *svm = vm->svc_priv[PVMM_SVC_SCHED];
	struct pvmm_sched_info *i = arg;

	mutex_lock(&pvmm_sched_place_lock);
	i->weight = svm->weight;
	i->migrations = svm->migrations;
	mutex_unlock(&pvmm_sched_place_lock);
	return 0;
}

static const struct pvmm_vm_ctl pvmm_sched_ctls[] = {
	{ PVMM_SCHED_SET_WEIGHT, pvmm_sched_ctl_weight },
	{ PVMM_SCHED_GET_INFO, pvmm_sched_ctl_info },
};

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
	.ctls = pvmm_sched_ctls,
	.nr_ctls = ARRAY_SIZE(pvmm_sched_ctls),
	.vm_attrs = &pvmm_sched_vm_group,
	.vcpu_attrs = &pvmm_sched_vcpu_group,
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
