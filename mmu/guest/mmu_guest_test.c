// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite pvmm-mmu-guest: the PV MMU guest half against the real host,
 * through the real exit path. Included by mmu_guest.c, whose per-CPU
 * queues it reads to count batches. Each case builds a 4-level tree in
 * guest memory, pins it and makes it this vCPU's base; the attacks of the
 * host's selftests must come back refused with the tree intact. Skipped
 * when the VMM offers no PV MMU. The suite leaves one root pinned: the
 * vCPU's home base, which a base pointer cannot be taken off.
 */
#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/sched.h>

#define PVMM_MMU_T_RWP	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)
#define PVMM_MMU_T_DATA	66	/* data pages per case */
/* pvmm_run's test device (tools/pvmm_run.c): a file of the VM's sysfs */
#define PVMM_MMU_T_PORT		0x5654
#define PVMM_MMU_T_SYSFS_VM	13
#define PVMM_MMU_T_REJECTED	13	/* mmu/entries_rejected */

/*
 * The host's count of rejected entries, through pvmm_run's test device;
 * -1 under a VMM without it. Read at boot, before any user space runs.
 */
static s64 pvmm_mmu_t_host_rejected(void)
{
	u64 lo, hi;

	outl(PVMM_MMU_T_SYSFS_VM | PVMM_MMU_T_REJECTED << 8, PVMM_MMU_T_PORT);
	lo = inl(PVMM_MMU_T_PORT + 4);
	hi = inl(PVMM_MMU_T_PORT + 8);
	return (s64)(hi << 32 | lo);
}

/* The refusal just seen was counted by the host, exactly once. */
static void pvmm_mmu_t_counted(struct kunit *test, s64 before)
{
	if (before >= 0)
		KUNIT_EXPECT_EQ(test, pvmm_mmu_t_host_rejected() - before, 1LL);
}

/* The vCPU's base between cases: pinned once, empty. */
static struct page *pvmm_mmu_t_home;

struct pvmm_mmu_t {
	struct page *tbl[4];			/* L4, L3, L2, L1 */
	struct page *data[PVMM_MMU_T_DATA];
	phys_addr_t t[4];
	phys_addr_t d[PVMM_MMU_T_DATA];
};

static u64 *pvmm_mmu_t_entry(struct pvmm_mmu_t *x, int level, int i)
{
	return (u64 *)page_address(x->tbl[level]) + i;
}

static phys_addr_t pvmm_mmu_t_l1e(struct pvmm_mmu_t *x, int i)
{
	return x->t[3] + 8 * i;
}

/* Batches sent from CPU 0's queue, where the case runs. */
static u64 pvmm_mmu_t_calls(void)
{
	return READ_ONCE(per_cpu_ptr(&pvmm_mmu_cpus, 0)->q.calls);
}

/* The tree as built: each table once referenced, its entry unchanged. */
static void pvmm_mmu_t_intact(struct kunit *test, struct pvmm_mmu_t *x)
{
	int i;

	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, *pvmm_mmu_t_entry(x, i, 0),
				(u64)(x->t[i + 1] | PVMM_MMU_T_RWP));
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(0x123, 0),
			(s64)(x->d[0] + 0x123));
}

static int pvmm_mmu_t_init(struct kunit *test)
{
	struct pvmm_mmu_t *x;
	int i, r;

	if (!pvmm_mmu_guest_available())
		kunit_skip(test, "the VMM offers no PV MMU");
	/* one vCPU's base and queue for the whole case */
	KUNIT_ASSERT_EQ(test, set_cpus_allowed_ptr(current, cpumask_of(0)), 0);
	x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x);
	for (i = 0; i < 4; i++) {
		x->tbl[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		KUNIT_ASSERT_NOT_NULL(test, x->tbl[i]);
		x->t[i] = page_to_phys(x->tbl[i]);
	}
	for (i = 0; i < PVMM_MMU_T_DATA; i++) {
		x->data[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		KUNIT_ASSERT_NOT_NULL(test, x->data[i]);
		x->d[i] = page_to_phys(x->data[i]);
	}
	test->priv = x;
	/* the selftests' tree: pin, link, make it the base, in one batch */
	pvmm_mmu_guest_lazy_enter();
	pvmm_mmu_guest_pin(x->t[0]);
	for (i = 0; i < 3; i++)
		pvmm_mmu_guest_set_pte(x->t[i], x->t[i + 1] | PVMM_MMU_T_RWP);
	pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 0), x->d[0] | PVMM_MMU_T_RWP);
	pvmm_mmu_guest_new_baseptr(x->t[0]);
	r = pvmm_mmu_guest_lazy_leave();
	KUNIT_ASSERT_EQ(test, r, 0);
	return 0;
}

/* Back to the home base; the tree unpinned; its pages the guest's again. */
static void pvmm_mmu_t_exit(struct kunit *test)
{
	struct pvmm_mmu_t *x = test->priv;
	int i;

	if (!x)
		return;
	/*
	 * Since 55e8c1b49ac5 ("kunit: Always run cleanup from a test
	 * kthread", 6.5) exit runs in a kthread of its own: back to CPU 0,
	 * whose vCPU holds the tree as its base.
	 */
	KUNIT_EXPECT_EQ(test, set_cpus_allowed_ptr(current, cpumask_of(0)), 0);
	KUNIT_EXPECT_EQ(test,
			pvmm_mmu_guest_new_baseptr(page_to_phys(pvmm_mmu_t_home)),
			0);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_unpin(x->t[0]), 0);
	for (i = 0; i < 4; i++)
		__free_page(x->tbl[i]);
	for (i = 0; i < PVMM_MMU_T_DATA; i++)
		__free_page(x->data[i]);
}

static void pvmm_mmu_t_map_unmap_remap_translate(struct kunit *test)
{
	struct pvmm_mmu_t *x = test->priv;
	u64 calls;
	int i;

	pvmm_mmu_t_intact(test, x);
	/* 64 pages mapped in one lazy section: one call */
	calls = pvmm_mmu_t_calls();
	pvmm_mmu_guest_lazy_enter();
	for (i = 0; i < 64; i++)
		pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, i),
				       x->d[i] | PVMM_MMU_T_RWP);
	KUNIT_ASSERT_EQ(test, pvmm_mmu_guest_lazy_leave(), 0);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_t_calls() - calls, 1ULL);
	for (i = 0; i < 64; i++)
		KUNIT_EXPECT_EQ(test,
				pvmm_mmu_guest_translate(4096UL * i + 0x123,
							 PVMM_MMU_ACCESS_WRITE),
				(s64)(x->d[i] + 0x123));
	/* the host wrote the entries into the guest's own table */
	KUNIT_EXPECT_EQ(test, *pvmm_mmu_t_entry(x, 3, 63),
			(u64)(x->d[63] | PVMM_MMU_T_RWP));

	/* unmapped, then read-only elsewhere */
	KUNIT_ASSERT_EQ(test, pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 1), 0), 0);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(0x1000, 0), (s64)-ENOENT);
	KUNIT_ASSERT_EQ(test, pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 1),
						     x->d[65] | _PAGE_PRESENT), 0);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(0x1000, 0), (s64)x->d[65]);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(0x1000, PVMM_MMU_ACCESS_WRITE),
			(s64)-EACCES);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(0x1000, PVMM_MMU_ACCESS_USER),
			(s64)-EACCES);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(1UL << 39, 0), (s64)-ENOENT);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(1UL << 47, 0), (s64)-EINVAL);

	/* flushes: a set for the VMM, which counts them */
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_invlpg(0x1000), 0);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_flush_all(), 0);
	/* 64 writes of one entry in a section leave as one */
	calls = pvmm_mmu_t_calls();
	pvmm_mmu_guest_lazy_enter();
	for (i = 0; i < 64; i++)
		pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 2), x->d[i] | PVMM_MMU_T_RWP);
	KUNIT_ASSERT_EQ(test, pvmm_mmu_guest_lazy_leave(), 0);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_t_calls() - calls, 1ULL);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(0x2000, 0), (s64)x->d[63]);
	pvmm_mmu_t_intact(test, x);
}

/* A page-table frame mapped writable, at each level: refused. */
static void pvmm_mmu_t_attack_writable_table(struct kunit *test)
{
	struct pvmm_mmu_t *x = test->priv;
	s64 c;
	int i;

	for (i = 0; i < 4; i++) {
		c = pvmm_mmu_t_host_rejected();
		KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 10),
							     x->t[i] | PVMM_MMU_T_RWP),
				-EPERM);
		pvmm_mmu_t_counted(test, c);
		KUNIT_EXPECT_EQ(test, *pvmm_mmu_t_entry(x, 3, 10), 0ULL);
	}
	/* read-only is fine, and it cannot become writable after */
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 10),
						     x->t[1] | _PAGE_PRESENT), 0);
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 10),
						     x->t[1] | PVMM_MMU_T_RWP),
			-EPERM);
	pvmm_mmu_t_counted(test, c);
	KUNIT_EXPECT_EQ(test, *pvmm_mmu_t_entry(x, 3, 10),
			(u64)(x->t[1] | _PAGE_PRESENT));
	/* the linear slot: read-only to its own L4 */
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(x->t[0] + 8 * 511,
						     x->t[0] | PVMM_MMU_T_RWP),
			-EPERM);
	pvmm_mmu_t_counted(test, c);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(x->t[0] + 8 * 511,
						     x->t[0] | _PAGE_PRESENT), 0);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(0xfffffffffffff000UL, 0),
			(s64)x->t[0]);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(0xfffffffffffff000UL,
						       PVMM_MMU_ACCESS_WRITE),
			(s64)-EACCES);
	pvmm_mmu_t_intact(test, x);
}

/* Frames the guest does not have, and entries outside any table. */
static void pvmm_mmu_t_attack_outside(struct kunit *test)
{
	struct pvmm_mmu_t *x = test->priv;
	s64 c;

	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 3),
						     (1ULL << 40) | _PAGE_PRESENT),
			-EFAULT);
	pvmm_mmu_t_counted(test, c);
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 3),
						     PFN_PHYS(max_pfn + 16) |
						     PVMM_MMU_T_RWP),
			-EFAULT);
	pvmm_mmu_t_counted(test, c);
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_pin(1ULL << 40), -EFAULT);
	pvmm_mmu_t_counted(test, c);
	/* an entry in a frame that is no table */
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(x->d[5], 0), -EINVAL);
	pvmm_mmu_t_counted(test, c);
	KUNIT_EXPECT_EQ(test, *pvmm_mmu_t_entry(x, 3, 3), 0ULL);
	pvmm_mmu_t_intact(test, x);
}

/* A frame mapped writable cannot become a table, nor be pinned. */
static void pvmm_mmu_t_attack_type_change(struct kunit *test)
{
	struct pvmm_mmu_t *x = test->priv;
	s64 c;

	KUNIT_ASSERT_EQ(test, pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 4),
						     x->d[4] | PVMM_MMU_T_RWP), 0);
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(x->t[2] + 8,
						     x->d[4] | PVMM_MMU_T_RWP),
			-EBUSY);
	pvmm_mmu_t_counted(test, c);
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_pin(x->d[4]), -EBUSY);
	pvmm_mmu_t_counted(test, c);
	/* an L2 where an L3 belongs */
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_set_pte(x->t[0] + 8,
						     x->t[2] | PVMM_MMU_T_RWP),
			-EBUSY);
	pvmm_mmu_t_counted(test, c);
	/* the base cannot be unpinned */
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_unpin(x->t[0]), -EBUSY);
	pvmm_mmu_t_counted(test, c);
	pvmm_mmu_t_intact(test, x);
}

/* A batch with an attack inside: what came before stays, nothing after. */
static void pvmm_mmu_t_attack_inside_a_batch(struct kunit *test)
{
	struct pvmm_mmu_t *x = test->priv;
	s64 c;

	pvmm_mmu_guest_lazy_enter();
	pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 20), x->d[20] | PVMM_MMU_T_RWP);
	pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 21), x->t[3] | PVMM_MMU_T_RWP);
	pvmm_mmu_guest_set_pte(pvmm_mmu_t_l1e(x, 22), x->d[22] | PVMM_MMU_T_RWP);
	c = pvmm_mmu_t_host_rejected();
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_lazy_leave(), -EPERM);
	pvmm_mmu_t_counted(test, c);
	KUNIT_EXPECT_EQ(test, *pvmm_mmu_t_entry(x, 3, 20),
			(u64)(x->d[20] | PVMM_MMU_T_RWP));
	KUNIT_EXPECT_EQ(test, *pvmm_mmu_t_entry(x, 3, 21), 0ULL);
	KUNIT_EXPECT_EQ(test, *pvmm_mmu_t_entry(x, 3, 22), 0ULL);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_guest_translate(22 * 4096UL, 0),
			(s64)-ENOENT);
	pvmm_mmu_t_intact(test, x);
}

static int pvmm_mmu_t_suite_init(struct kunit_suite *suite)
{
	if (!pvmm_mmu_guest_available())
		return 0;
	pvmm_mmu_t_home = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!pvmm_mmu_t_home)
		return -ENOMEM;
	if (pvmm_mmu_guest_pin(page_to_phys(pvmm_mmu_t_home)))
		return -EIO;
	return 0;
}

static struct kunit_case pvmm_mmu_t_cases[] = {
	KUNIT_CASE(pvmm_mmu_t_map_unmap_remap_translate),
	KUNIT_CASE(pvmm_mmu_t_attack_writable_table),
	KUNIT_CASE(pvmm_mmu_t_attack_outside),
	KUNIT_CASE(pvmm_mmu_t_attack_type_change),
	KUNIT_CASE(pvmm_mmu_t_attack_inside_a_batch),
	{}
};

static struct kunit_suite pvmm_mmu_t_suite = {
	.name = "pvmm-mmu-guest",
	.suite_init = pvmm_mmu_t_suite_init,
	.init = pvmm_mmu_t_init,
	.exit = pvmm_mmu_t_exit,
	.test_cases = pvmm_mmu_t_cases,
};

kunit_test_suite(pvmm_mmu_t_suite);
