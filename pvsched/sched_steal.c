// SPDX-License-Identifier: GPL-2.0
/*
 * The steal-time record of each vCPU, in the kvm_steal_time layout, kept
 * current by its bound thread's context switches:
 *  - at sched-in, the growth of the thread's run delay since the last
 *    sched-in is added to steal, the recent steal rate is published, and
 *    the preempted byte is cleared;
 *  - at sched-out, the preempted byte is set when the thread is still
 *    runnable (it was preempted), never when it blocks or halts.
 * The placement worker publishes for a thread that runs alone and so is
 * never scheduled in again.
 */
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <pvmm/compat_v6_1_v6_12.h>

#include "sched_host.h"
#include "sched_trace.h"

/*
 * Account @rd, the bound thread's run delay, and publish: at its sched-in
 * (@running: the preempted byte is cleared too), or from the worker.
 */
void pvmm_sched_record(struct pvmm_sched_vcpu *sv, u64 rd, bool start,
		       bool running)
{
	struct pvmm_steal_record *r;
	unsigned long flags, gflags;
	u64 steal;
	u32 rate;

	if (running)
		WRITE_ONCE(sv->preempted, false);
	raw_spin_lock_irqsave(&sv->rec_lock, flags);
	if (start)
		pvmm_steal_start(&sv->acct, rd, local_clock());
	steal = pvmm_steal_update(&sv->acct, rd, local_clock());
	rate = sv->acct.rate;
	r = pvmm_gpage_begin(&sv->rec, &gflags);
	if (r) {
		if (running)
			WRITE_ONCE(r->preempted, 0);
		pvmm_steal_publish(r, &sv->version, steal, rate);
	}
	pvmm_gpage_end(&sv->rec, gflags);
	raw_spin_unlock_irqrestore(&sv->rec_lock, flags);
	if (r)
		trace_pvmm_sched_steal(sv->vcpu->vm->id, sv->vcpu->id, steal,
				       rate);
}

void pvmm_sched_sched_in(struct pvmm_vcpu *vcpu, int cpu)
{
	pvmm_sched_record(pvmm_sched_vcpu(vcpu),
			  current->sched_info.run_delay, false, true);
}

void pvmm_sched_sched_out(struct pvmm_vcpu *vcpu,
			  struct task_struct *next)
{
	struct pvmm_sched_vcpu *sv = pvmm_sched_vcpu(vcpu);
	struct pvmm_steal_record *r;
	unsigned long flags;

	/*
	 * Still wanting to run: preempted, not blocked or halted. On 6.12 a
	 * thread that blocked can stay queued a while (delayed dequeue).
	 */
	if (!pvmm_task_is_runnable(current))
		return;
	WRITE_ONCE(sv->preempted, true);
	r = pvmm_gpage_begin(&sv->rec, &flags);
	if (r)
		WRITE_ONCE(r->preempted, PVMM_VCPU_PREEMPTED);
	pvmm_gpage_end(&sv->rec, flags);
}

s64 pvmm_sched_steal_enable(struct pvmm_sched_vcpu *sv, u64 gpa)
{
	s64 err;

	err = pvmm_gpage_enable(&sv->rec, gpa, PVMM_SCHED_RECORD_SIZE,
				&sv->rec_lock);
	if (err)
		return err;
	preempt_disable();
	pvmm_sched_record(sv, current->sched_info.run_delay, true, true);
	preempt_enable();
	return 0;
}

/*
 * Records under a changed memslot lost their pin: pin them again. The
 * next sched-in, or the worker for a thread that runs alone, publishes.
 * Called with vm->lock held.
 */
void pvmm_sched_memslots_changed(struct pvmm_vm *vm)
{
	struct pvmm_vcpu *vcpu;
	unsigned long id;

	/*
	 * Pinning may fault, and a fault on a mapping the VMM serves itself
	 * may take forever: only this VM's lock is held meanwhile, under
	 * which every vCPU in vm->vcpus stays (release erases it with it).
	 */
	lockdep_assert_held(&vm->lock);
	xa_for_each(&vm->vcpus, id, vcpu)
		pvmm_gpage_refresh(&pvmm_sched_vcpu(vcpu)->rec);
}
