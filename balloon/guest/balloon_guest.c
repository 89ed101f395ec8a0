// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm balloon, guest half: when the VMM offers the hub with the balloon
 * service, follow the host's target (looked at when the VMM's interrupt
 * for a new one comes, and every second) by giving pages back in batches of
 * ranges (2 MiB blocks while they can be had, else 4 KiB pages), take
 * them back when the target drops or the guest runs out of memory,
 * report free memory through the kernel's page reporting, and send
 * memory statistics.
 */
#define pr_fmt(fmt) "pvmm-balloon: " fmt

#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/oom.h>
#include <linux/page_reporting.h>
#include <linux/scatterlist.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#include <asm/barrier.h>

#include <pvmm/balloon_batch.h>
#include <pvmm/guest.h>

#define PVMM_BALLOON_BLOCK_ORDER	9	/* 2 MiB */
#define PVMM_BALLOON_STEP		(64UL << (20 - PAGE_SHIFT))
#define PVMM_BALLOON_OOM_PAGES		256	/* given back per OOM call */
#define PVMM_BALLOON_OOM_BACKOFF	(30 * HZ)
#define PVMM_BALLOON_STATS_EVERY	10	/* polls */

#define PVMM_BALLOON_GFP	(GFP_HIGHUSER | __GFP_NORETRY | \
				 __GFP_NOWARN | __GFP_NOMEMALLOC)

static struct {
	u16 port;
	struct mutex lock;		/* the lists, nr_pages, list page */
	struct list_head pages[2];	/* ballooned 4 KiB pages, 2 MiB blocks */
	u64 nr_pages;			/* 4 KiB pages in the balloon */
	unsigned long oom_until;	/* no inflating before this */
	unsigned int polls;
	struct pvmm_balloon_config *config;
	struct pvmm_balloon_range *list;
	struct pvmm_balloon_range *report_list;
	struct pvmm_balloon_stat *stats;
	unsigned long events[NR_VM_EVENT_ITEMS];
	struct delayed_work work;
	struct page_reporting_dev_info prdev;
	struct notifier_block oom_nb;
} pvb;

static u64 pvmm_balloon_target(void)
{
	const struct pvmm_balloon_config *c = pvb.config;
	u32 v;
	u64 t;

	do {
		v = READ_ONCE(c->version) & ~1U;
		/* the version before the data, as for the clock record */
		virt_rmb();
		t = READ_ONCE(c->target_pages);
		/* and the data before the version again */
		virt_rmb();
	} while (v != READ_ONCE(c->version));
	return t;
}

static s64 pvmm_balloon_send(u32 nr, struct pvmm_balloon_range *list,
			     u32 n)
{
	return pvmm_guest_call(pvb.port, nr, virt_to_phys(list), n, 0, 0, 0,
			       0);
}

static int pvmm_balloon_order(struct page *page)
{
	return page_private(page);
}

/* Give up to @want pages to the host; returns the pages given. */
static u64 pvmm_balloon_inflate(u64 want)
{
	struct pvmm_balloon_batch b = { .r = pvb.list };
	struct page *page, *tmp;
	LIST_HEAD(batch);
	u64 got = 0;
	s64 r;

	while (got < want) {
		int order = want - got >= BIT(PVMM_BALLOON_BLOCK_ORDER) ?
			    PVMM_BALLOON_BLOCK_ORDER : 0;

		page = alloc_pages(PVMM_BALLOON_GFP, order);
		if (!page && order) {
			order = 0;
			page = alloc_pages(PVMM_BALLOON_GFP, 0);
		}
		if (!page)
			break;
		if (!pvmm_balloon_batch_add(&b, page_to_phys(page),
					    PAGE_SIZE << order)) {
			__free_pages(page, order);
			break;
		}
		set_page_private(page, order);
		list_add(&page->lru, &batch);
		got += BIT(order);
	}
	if (!b.n)
		return 0;
	r = pvmm_balloon_send(PVMM_BALLOON_INFLATE, b.r, b.n);
	list_for_each_entry_safe(page, tmp, &batch, lru) {
		int order = pvmm_balloon_order(page);

		list_del(&page->lru);
		if (r < 0)	/* they may read zero now: still free pages */
			__free_pages(page, order);
		else
			list_add(&page->lru, &pvb.pages[order ? 1 : 0]);
	}
	if (r < 0)
		return 0;
	pvb.nr_pages += got;
	return got;
}

/* Take up to @want pages back from the host; returns the pages freed. */
static u64 pvmm_balloon_deflate(u64 want)
{
	struct pvmm_balloon_batch b = { .r = pvb.list };
	struct page *page, *tmp;
	LIST_HEAD(batch);
	u64 got = 0;
	int i;

	for (i = 0; i < 2 && got < want; i++) {
		list_for_each_entry_safe(page, tmp, &pvb.pages[i], lru) {
			int order = pvmm_balloon_order(page);

			if (got >= want ||
			    !pvmm_balloon_batch_add(&b, page_to_phys(page),
						    PAGE_SIZE << order))
				break;
			list_move(&page->lru, &batch);
			got += BIT(order);
		}
	}
	if (!b.n)
		return 0;
	if (pvmm_balloon_send(PVMM_BALLOON_DEFLATE, b.r, b.n) < 0) {
		list_for_each_entry_safe(page, tmp, &batch, lru)
			list_move(&page->lru, &pvb.pages[pvmm_balloon_order(page)
							 ? 1 : 0]);
		return 0;
	}
	list_for_each_entry_safe(page, tmp, &batch, lru) {
		list_del(&page->lru);
		__free_pages(page, pvmm_balloon_order(page));
	}
	pvb.nr_pages -= got;
	return got;
}

static void pvmm_balloon_send_stats(void)
{
	struct pvmm_balloon_stat *st = pvb.stats;
	struct sysinfo i;
	int n = 0;

	si_meminfo(&i);
	all_vm_events(pvb.events);
	st[n++] = (struct pvmm_balloon_stat){ PVMM_BALLOON_S_SWAP_IN, {},
					      pvb.events[PSWPIN] };
	st[n++] = (struct pvmm_balloon_stat){ PVMM_BALLOON_S_SWAP_OUT, {},
					      pvb.events[PSWPOUT] };
	st[n++] = (struct pvmm_balloon_stat){ PVMM_BALLOON_S_MAJFLT, {},
					      pvb.events[PGMAJFAULT] };
	st[n++] = (struct pvmm_balloon_stat){ PVMM_BALLOON_S_MINFLT, {},
					      pvb.events[PGFAULT] -
					      pvb.events[PGMAJFAULT] };
	st[n++] = (struct pvmm_balloon_stat){ PVMM_BALLOON_S_MEMFREE, {},
					      (u64)i.freeram * i.mem_unit };
	st[n++] = (struct pvmm_balloon_stat){ PVMM_BALLOON_S_MEMTOT, {},
					      (u64)i.totalram * i.mem_unit };
	st[n++] = (struct pvmm_balloon_stat){ PVMM_BALLOON_S_AVAIL, {},
					      (u64)si_mem_available() <<
					      PAGE_SHIFT };
	st[n++] = (struct pvmm_balloon_stat){ PVMM_BALLOON_S_CACHES, {},
					      global_node_page_state(NR_FILE_PAGES)
					      << PAGE_SHIFT };
	pvmm_guest_call(pvb.port, PVMM_BALLOON_STATS, virt_to_phys(st), n, 0,
			0, 0, 0);
}

static void pvmm_balloon_work(struct work_struct *work)
{
	u64 target = pvmm_balloon_target(), moved = 0;

	mutex_lock(&pvb.lock);
	if (target > pvb.nr_pages && time_after(jiffies, pvb.oom_until))
		moved = pvmm_balloon_inflate(min_t(u64, target - pvb.nr_pages,
						   PVMM_BALLOON_STEP));
	else if (target < pvb.nr_pages)
		moved = pvmm_balloon_deflate(min_t(u64, pvb.nr_pages - target,
						   PVMM_BALLOON_STEP));
	if (++pvb.polls % PVMM_BALLOON_STATS_EVERY == 0)
		pvmm_balloon_send_stats();
	mutex_unlock(&pvb.lock);
	/* more to do: come back at once, else poll the target */
	queue_delayed_work(system_freezable_wq, &pvb.work, moved ? 0 : HZ);
}

/* The VMM's interrupt for a new target: look at once, not at the next poll. */
static irqreturn_t pvmm_balloon_irq(int irq, void *unused)
{
	mod_delayed_work(system_freezable_wq, &pvb.work, 0);
	return IRQ_HANDLED;
}

/* Out of memory: take some pages back, and stop inflating for a while. */
static int pvmm_balloon_oom(struct notifier_block *nb, unsigned long unused,
			    void *freed)
{
	if (!mutex_trylock(&pvb.lock))
		return NOTIFY_OK;
	*(unsigned long *)freed += pvmm_balloon_deflate(PVMM_BALLOON_OOM_PAGES);
	pvb.oom_until = jiffies + PVMM_BALLOON_OOM_BACKOFF;
	mutex_unlock(&pvb.lock);
	return NOTIFY_OK;
}

/* Free blocks the page allocator hands over: the host may drop them. */
static int pvmm_balloon_report(struct page_reporting_dev_info *prdev,
			       struct scatterlist *sgl, unsigned int nents)
{
	struct pvmm_balloon_batch b = { .r = pvb.report_list };
	struct scatterlist *sg;
	unsigned int i;

	for_each_sg(sgl, sg, nents, i)
		if (!pvmm_balloon_batch_add(&b, sg_phys(sg), sg->length))
			return -ENOSPC;
	return pvmm_balloon_send(PVMM_BALLOON_REPORT, b.r, b.n) < 0 ? -EIO : 0;
}

static int __init pvmm_balloon_guest_init(void)
{
	unsigned int irq;
	void *pages;
	s64 r;

	pvb.port = pvmm_guest_detect();
	if (!pvb.port)
		return 0;
	pages = alloc_pages_exact(4 * PAGE_SIZE, GFP_KERNEL | __GFP_ZERO);
	if (!pages)
		return -ENOMEM;
	pvb.config = pages;
	pvb.list = pages + PAGE_SIZE;
	pvb.report_list = pages + 2 * PAGE_SIZE;
	pvb.stats = pages + 3 * PAGE_SIZE;
	r = pvmm_guest_call(pvb.port, PVMM_BALLOON_CONFIG,
			    virt_to_phys(pvb.config), 0, 0, 0, 0, 0);
	if (r) {
		/* the VMM did not enable the balloon */
		free_pages_exact(pages, 4 * PAGE_SIZE);
		return 0;
	}
	mutex_init(&pvb.lock);
	INIT_LIST_HEAD(&pvb.pages[0]);
	INIT_LIST_HEAD(&pvb.pages[1]);
	INIT_DELAYED_WORK(&pvb.work, pvmm_balloon_work);
	pvb.oom_nb.notifier_call = pvmm_balloon_oom;
	register_oom_notifier(&pvb.oom_nb);
	pvb.prdev.report = pvmm_balloon_report;
	pvb.prdev.order = PVMM_BALLOON_REPORT_ORDER;
	if (page_reporting_register(&pvb.prdev))
		pr_warn("free page reporting unavailable\n");
	queue_delayed_work(system_freezable_wq, &pvb.work, 0);
	irq = READ_ONCE(pvb.config->notify_irq);
	if (irq && request_irq(irq, pvmm_balloon_irq, 0, "pvmm-balloon", &pvb)) {
		pr_warn("IRQ %u unavailable: polling the target only\n", irq);
		irq = 0;
	}
	if (irq)
		pr_info("on port %#x, IRQ %u\n", pvb.port, irq);
	else
		pr_info("on port %#x\n", pvb.port);
	return 0;
}
late_initcall(pvmm_balloon_guest_init);
