// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_sched: the host half of the scheduling service. A vCPU may enable
 * a steal-time record (the kvm_steal_time layout); its bound thread's
 * context switches keep it current:
 *  - at sched-in, the growth of the thread's run delay since the last
 *    sched-in is added to steal, the recent steal rate is published, and
 *    the preempted byte is cleared;
 *  - at sched-out, the preempted byte is set when the thread is still
 *    runnable (it was preempted), never when it blocks or halts.
 */
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>

#include <pvmm/service.h>

#include "sched_core.h"

struct pvmm_sched_vcpu {
	struct pvmm_gpage rec;
	struct pvmm_steal_acct acct;	/* the bound thread's, preemption off */
	u32 version;			/* the host's copy */
};

static struct pvmm_sched_vcpu *pvmm_sched_vcpu(struct pvmm_vcpu *vcpu)
{
	return vcpu->svc_priv[PVMM_SVC_SCHED];
}

/* In the bound thread, preemption off: nothing else updates the record. */
static void pvmm_sched_record(struct pvmm_sched_vcpu *sv, bool start)
{
	u64 rd = current->sched_info.run_delay, now = local_clock(), steal;
	struct pvmm_steal_record *r;
	unsigned long flags;

	if (start)
		pvmm_steal_start(&sv->acct, rd, now);
	steal = pvmm_steal_update(&sv->acct, rd, now);
	r = pvmm_gpage_begin(&sv->rec, &flags);
	if (r) {
		WRITE_ONCE(r->preempted, 0);
		pvmm_steal_publish(r, &sv->version, steal, sv->acct.rate);
	}
	pvmm_gpage_end(&sv->rec, flags);
}

static void pvmm_sched_sched_in(struct pvmm_vcpu *vcpu, int cpu)
{
	pvmm_sched_record(pvmm_sched_vcpu(vcpu), false);
}

static void pvmm_sched_sched_out(struct pvmm_vcpu *vcpu,
				 struct task_struct *next)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);
	struct pvmm_steal_record *r;
	unsigned long flags;

	/* Still on the run queue: preempted, not blocked or halted. */
	if (!READ_ONCE(current->on_rq))
		return;
	r = pvmm_gpage_begin(&sv->rec, &flags);
	if (r)
		WRITE_ONCE(r->preempted, PVMM_VCPU_PREEMPTED);
	pvmm_gpage_end(&sv->rec, flags);
}

static s64 pvmm_sched_steal_enable(struct pvmm_sched_vcpu *sv, u64 gpa)
{
	struct pvmm_steal_record *r;
	unsigned long flags;
	s64 err;

	/* A failed enable leaves the record disabled, whatever it was. */
	if (!IS_ALIGNED(gpa, PVMM_SCHED_RECORD_SIZE)) {
		pvmm_gpage_deactivate(&sv->rec);
		return -EINVAL;
	}
	err = pvmm_gpage_activate(&sv->rec, gpa, PVMM_SCHED_RECORD_SIZE);
	if (err)
		return err;
	preempt_disable();
	r = pvmm_gpage_begin(&sv->rec, &flags);
	if (r)
		memset(r, 0, sizeof(*r));
	pvmm_gpage_end(&sv->rec, flags);
	pvmm_sched_record(sv, true);
	preempt_enable();
	return 0;
}

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
	pvmm_gpage_init(&sv->rec, vcpu->vm);
	vcpu->svc_priv[PVMM_SVC_SCHED] = sv;
	return 0;
}

static void pvmm_sched_vcpu_destroy(struct pvmm_vcpu *vcpu)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);

	pvmm_gpage_deactivate(&sv->rec);
	kfree(sv);
}

static const struct pvmm_service pvmm_sched_service = {
	.name = "sched",
	.owner = THIS_MODULE,
	.id = PVMM_SVC_SCHED,
	.vcpu_init = pvmm_sched_vcpu_init,
	.vcpu_destroy = pvmm_sched_vcpu_destroy,
	.sched_in = pvmm_sched_sched_in,
	.sched_out = pvmm_sched_sched_out,
	.call = pvmm_sched_call,
};

static int __init pvmm_sched_init(void)
{
	return pvmm_service_register(&pvmm_sched_service);
}

static void __exit pvmm_sched_exit(void)
{
	pvmm_service_unregister(&pvmm_sched_service);
}

module_init(pvmm_sched_init);
module_exit(pvmm_sched_exit);
MODULE_DESCRIPTION("pvmm scheduling service: steal time and preempted state for guests");
MODULE_LICENSE("GPL");
