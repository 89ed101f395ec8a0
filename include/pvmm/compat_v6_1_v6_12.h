/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel APIs pvmm uses that changed between 6.1 and 6.12 LTS: each
 * is the newer form under a pvmm_ name, so that the services call one API
 * and no #ifdef stands in them. Each entry names the mainline change;
 * Kbuild finds which form the headers have (PVMM_HAVE_*).
 */
#ifndef _PVMM_COMPAT_V6_1_V6_12_H
#define _PVMM_COMPAT_V6_1_V6_12_H

#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/sched.h>

/*
 * 6.3, "mm: introduce vma->vm_flags wrapper functions": vm_flags became
 * read-only; writers call vm_flags_set()/vm_flags_clear(), which also
 * mark the VMA as written for per-VMA locking (6.4).
 */
static inline void pvmm_vm_flags_clear(struct vm_area_struct *vma,
				       unsigned long flags)
{
#ifdef PVMM_HAVE_VM_FLAGS_CLEAR
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * 6.3, "mm: remove zap_page_range and create zap_vma_pages": a range
 * within one VMA is zapped, and exported, as zap_page_range_single().
 */
static inline void pvmm_zap_page_range(struct vm_area_struct *vma,
				       unsigned long start, unsigned long len)
{
#ifndef PVMM_HAVE_ZAP_PAGE_RANGE
	zap_page_range_single(vma, start, len, NULL);
#else
	zap_page_range(vma, start, len);
#endif
}

/*
 * 6.5, "mm/gup: remove vmas parameter from pin_user_pages_remote()": the
 * VMAs were never wanted here.
 */
static inline long pvmm_pin_user_pages_remote(struct mm_struct *mm,
					      unsigned long start,
					      unsigned long nr_pages,
					      unsigned int gup_flags,
					      struct page **pages, int *locked)
{
#ifndef PVMM_HAVE_GUP_VMAS
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     locked);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, locked);
#endif
}

/*
 * 6.8, "eventfd: simplify eventfd_signal()": every caller added 1, so the
 * count went.
 */
static inline void pvmm_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef PVMM_HAVE_EVENTFD_SIGNAL_1
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * 6.12, "sched/fair: Implement delayed dequeue": a fair task that blocks
 * with negative lag stays queued, p->on_rq set and p->se.sched_delayed
 * marking it, until that lag is spent. "sched/fair: Fix external p->on_rq
 * users" added task_is_runnable() for those who ask whether a task wants
 * to run, KVM's kvm_sched_out() among them; before 6.12, on_rq says it.
 */
static inline bool pvmm_task_is_runnable(struct task_struct *p)
{
#ifdef PVMM_HAVE_TASK_IS_RUNNABLE
	return task_is_runnable(p);
#else
	return READ_ONCE(p->on_rq);
#endif
}

#endif /* _PVMM_COMPAT_V6_1_V6_12_H */
