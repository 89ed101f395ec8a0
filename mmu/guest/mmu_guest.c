// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm PV MMU, guest half: when the VMM offers the hub with the PV MMU
 * service, page-table writes go to the host as validated batches. Each CPU
 * has a queue page; inside a lazy section (the kernel's lazy MMU mode is
 * the model) writes collect there and leave as one call when the section
 * ends or the page is full. The queue logic is include/pvmm/mmu_batch.h,
 * shared with the selftests and tested under KUnit against the host's
 * validator.
 *
 * Stock x86-64 kernels run with hardware-managed page tables: routing
 * set_pte() here needs the PARAVIRT_XXL hooks that only Xen PV enables,
 * so this file offers the calls to guest code that manages PV page
 * tables (include/pvmm/mmu_guest.h) rather than patching pv_ops.
 */
#define pr_fmt(fmt) "pvmm-mmu: " fmt

#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <asm/io.h>

#include <pvmm/guest.h>
#include <pvmm/mmu_batch.h>
#include <pvmm/mmu_guest.h>

#define PVMM_MMU_QUEUE_CAP \
	((PAGE_SIZE - sizeof(u64)) / sizeof(struct pvmm_mmu_update))

struct pvmm_mmu_cpu {
	struct pvmm_mmu_queue q;
	s64 *status;		/* the last word of the queue page */
};

static u16 pvmm_mmu_port;
static DEFINE_PER_CPU(struct pvmm_mmu_cpu, pvmm_mmu_cpus);

static s64 pvmm_mmu_guest_submit(void *ctx, u64 gpa, u32 n, s64 *err)
{
	struct pvmm_mmu_cpu *c = ctx;
	s64 r;

	*c->status = 0;
	r = pvmm_guest_call(pvmm_mmu_port, PVMM_MMU_CALL_BATCH, gpa, n,
			    virt_to_phys(c->status), 0, 0, 0);
	*err = READ_ONCE(*c->status);
	return r;
}

bool pvmm_mmu_guest_available(void)
{
	return pvmm_mmu_port;
}

/* The queue stays on this CPU from get to put. */
static struct pvmm_mmu_queue *pvmm_mmu_queue_get(void)
{
	preempt_disable();
	return &this_cpu_ptr(&pvmm_mmu_cpus)->q;
}

static int pvmm_mmu_queue_put(s64 r)
{
	preempt_enable();
	return r;
}

int pvmm_mmu_guest_set_pte(phys_addr_t pte, u64 val)
{
	if (!pvmm_mmu_port)
		return -ENODEV;
	return pvmm_mmu_queue_put(pvmm_mmu_queue_pte(pvmm_mmu_queue_get(),
						     pte, val));
}

/* Lazy sections run with preemption off, as the kernel's lazy MMU mode. */
void pvmm_mmu_guest_lazy_enter(void)
{
	if (pvmm_mmu_port)
		pvmm_mmu_lazy_enter(pvmm_mmu_queue_get());
}

int pvmm_mmu_guest_lazy_leave(void)
{
	if (!pvmm_mmu_port)
		return -ENODEV;
	return pvmm_mmu_queue_put(pvmm_mmu_lazy_leave(this_cpu_ptr(&pvmm_mmu_cpus.q)));
}

static int pvmm_mmu_guest_ext(unsigned int op, u64 gpa, u64 val)
{
	if (!pvmm_mmu_port)
		return -ENODEV;
	return pvmm_mmu_queue_put(pvmm_mmu_queue_ext(pvmm_mmu_queue_get(), op,
						     gpa, val));
}

int pvmm_mmu_guest_pin(phys_addr_t root)
{
	return pvmm_mmu_guest_ext(PVMM_MMU_EXT_PIN_L4, root, 0);
}

int pvmm_mmu_guest_unpin(phys_addr_t root)
{
	return pvmm_mmu_guest_ext(PVMM_MMU_EXT_UNPIN, root, 0);
}

int pvmm_mmu_guest_new_baseptr(phys_addr_t root)
{
	return pvmm_mmu_guest_ext(PVMM_MMU_EXT_NEW_BASEPTR, root, 0);
}

int pvmm_mmu_guest_flush_all(void)
{
	return pvmm_mmu_guest_ext(PVMM_MMU_EXT_FLUSH_ALL, 0, 0);
}

int pvmm_mmu_guest_invlpg(unsigned long addr)
{
	return pvmm_mmu_guest_ext(PVMM_MMU_EXT_INVLPG_ALL, 0, addr);
}

s64 pvmm_mmu_guest_translate(unsigned long addr, u64 access)
{
	if (!pvmm_mmu_port)
		return -ENODEV;
	return pvmm_guest_call(pvmm_mmu_port, PVMM_MMU_CALL_TRANSLATE, addr,
			       access, 0, 0, 0, 0);
}

static int __init pvmm_mmu_guest_init(void)
{
	u16 port = pvmm_guest_detect();
	s64 features;
	int cpu;

	if (!port)
		return 0;
	features = pvmm_guest_call(port, PVMM_CALL_FEATURES, 0, 0, 0, 0, 0, 0);
	if (features < 0 || !(features & BIT_ULL(PVMM_SVC_MMU)) ||
	    (pvmm_guest_call(port, PVMM_MMU_CALL_VERSION, 0, 0, 0, 0, 0, 0) &
	     0xffffffff) != PVMM_MMU_VERSION)
		return 0;
	for_each_possible_cpu(cpu) {
		struct pvmm_mmu_cpu *c = per_cpu_ptr(&pvmm_mmu_cpus, cpu);
		void *page = (void *)get_zeroed_page(GFP_KERNEL);

		if (!page)
			return -ENOMEM;	/* pages so far stay: tiny, at boot */
		c->status = page + PAGE_SIZE - sizeof(u64);
		pvmm_mmu_queue_init(&c->q, page, virt_to_phys(page),
				    PVMM_MMU_QUEUE_CAP, pvmm_mmu_guest_submit,
				    c);
	}
	pvmm_mmu_port = port;
	pr_info("on port %#x\n", port);
	return 0;
}
late_initcall(pvmm_mmu_guest_init);

#if IS_ENABLED(CONFIG_PVMM_MMU_GUEST_KUNIT_TEST)
#include "mmu_guest_test.c"
#endif
