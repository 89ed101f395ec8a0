/* SPDX-License-Identifier: GPL-2.0 */
/* KUnit tests for the balloon's pure core; included by balloon_core.c. */
#ifndef _PVMM_BALLOON_CORE_TEST_H
#define _PVMM_BALLOON_CORE_TEST_H

#include <kunit/test.h>
#include <linux/prandom.h>
#include <pvmm/balloon_batch.h>

static void pvmm_test_balloon_add(struct kunit *test)
{
	struct pvmm_balloon_set s;
	u64 added;

	pvmm_balloon_set_init(&s, 100);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 10, 20, &added), 0);
	KUNIT_EXPECT_EQ(test, added, 10ULL);
	/* idempotent: nothing new, nothing counted twice */
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 10, 20, &added), 0);
	KUNIT_EXPECT_EQ(test, added, 0ULL);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 12, 15, &added), 0);
	KUNIT_EXPECT_EQ(test, added, 0ULL);
	/* touching merges */
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 20, 30, &added), 0);
	KUNIT_EXPECT_EQ(test, added, 10ULL);
	KUNIT_EXPECT_EQ(test, s.extents, 1ULL);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 5, 10, &added), 0);
	KUNIT_EXPECT_EQ(test, s.extents, 1ULL);
	KUNIT_EXPECT_EQ(test, s.pages, 25ULL);
	/* apart, then one range over several extents */
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 40, 45, &added), 0);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 50, 55, &added), 0);
	KUNIT_EXPECT_EQ(test, s.extents, 3ULL);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 28, 52, &added), 0);
	KUNIT_EXPECT_EQ(test, added, 24ULL - 2 - 5 - 2);
	KUNIT_EXPECT_EQ(test, s.extents, 1ULL);
	KUNIT_EXPECT_EQ(test, s.pages, 50ULL);
	KUNIT_EXPECT_TRUE(test, pvmm_balloon_set_covers(&s, 5, 55));
	KUNIT_EXPECT_FALSE(test, pvmm_balloon_set_covers(&s, 4, 6));
	KUNIT_EXPECT_FALSE(test, pvmm_balloon_set_covers(&s, 54, 56));
	pvmm_balloon_set_destroy(&s);
	KUNIT_EXPECT_EQ(test, s.pages, 0ULL);
}

static void pvmm_test_balloon_remove(struct kunit *test)
{
	struct pvmm_balloon_set s;
	u64 added;

	pvmm_balloon_set_init(&s, 100);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 0, 100, &added), 0);
	/* never-inflated pages: nothing changes */
	KUNIT_EXPECT_EQ(test, pvmm_balloon_set_remove(&s, 90, 110), -ENOENT);
	KUNIT_EXPECT_EQ(test, s.pages, 100ULL);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_remove(&s, 40, 60), 0);
	KUNIT_EXPECT_EQ(test, s.extents, 2ULL);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_set_remove(&s, 39, 41), -ENOENT);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_remove(&s, 0, 10), 0);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_remove(&s, 90, 100), 0);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_remove(&s, 10, 40), 0);
	KUNIT_EXPECT_EQ(test, s.extents, 1ULL);
	KUNIT_EXPECT_EQ(test, s.pages, 30ULL);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_remove(&s, 60, 90), 0);
	KUNIT_EXPECT_EQ(test, s.extents, 0ULL);
	KUNIT_EXPECT_EQ(test, s.pages, 0ULL);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_set_remove(&s, 0, 1), -ENOENT);
	pvmm_balloon_set_destroy(&s);
}

/* A guest cannot make the host allocate extents without bound. */
static void pvmm_test_balloon_extent_cap(struct kunit *test)
{
	struct pvmm_balloon_set s;
	u64 added;

	pvmm_balloon_set_init(&s, 2);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 0, 1, &added), 0);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 2, 3, &added), 0);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_set_add(&s, 4, 5, &added), -ENOSPC);
	KUNIT_EXPECT_EQ(test, s.pages, 2ULL);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 1, 2, &added), 0);
	KUNIT_EXPECT_EQ(test, s.extents, 1ULL);
	KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, 4, 10, &added), 0);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_set_remove(&s, 6, 7), -ENOSPC);
	KUNIT_EXPECT_EQ(test, s.pages, 9ULL);
	pvmm_balloon_set_destroy(&s);
}

static struct pvmm_balloon_range t_r(u64 gpa, u64 len)
{
	struct pvmm_balloon_range r = { .gpa = gpa, .len = len };

	return r;
}

static void pvmm_test_balloon_batch(struct kunit *test)
{
	struct pvmm_balloon_range *r;
	const u64 mb2 = 2 << 20;
	u32 i;

	r = kunit_kmalloc_array(test, PVMM_BALLOON_MAX_BATCH + 1, sizeof(*r),
				GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);

	r[0] = t_r(0x200000, 0x1000);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 0, 0), -EINVAL);
	for (i = 0; i <= PVMM_BALLOON_MAX_BATCH; i++)
		r[i] = t_r((u64)i << 12, 0x1000);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, i - 1, 0), 0);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, i, 0), -EINVAL);

	r[0] = t_r(0x200800, 0x1000);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, 0), -EINVAL);
	r[0] = t_r(0x200000, 0x800);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, 0), -EINVAL);
	r[0] = t_r(0x200000, 0);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, 0), -EINVAL);
	r[0] = t_r(0, PVMM_BALLOON_MAX_RANGE + 0x1000);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, 0), -EINVAL);
	r[0] = t_r(0, PVMM_BALLOON_MAX_RANGE);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, 0), 0);
	r[0] = t_r(~0xfffULL, 0x2000);			/* wraps */
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, 0), -EINVAL);
	r[0] = t_r(BIT_ULL(PVMM_GPA_BITS) - 0x1000, 0x2000);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, 0), -EINVAL);

	/* overlap within a batch, in any order; touching is fine */
	r[0] = t_r(0x5000, 0x2000);
	r[1] = t_r(0x1000, 0x2000);
	r[2] = t_r(0x6000, 0x1000);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 3, 0), -EINVAL);
	r[0] = t_r(0x5000, 0x2000);
	r[1] = t_r(0x1000, 0x2000);
	r[2] = t_r(0x3000, 0x2000);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 3, 0), 0);
	r[0] = t_r(0x1000, 0x1000);
	r[1] = t_r(0x1000, 0x1000);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 2, 0), -EINVAL);

	/* reports: at least the reporting order, aligned to it */
	r[0] = t_r(mb2, mb2);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, mb2), 0);
	r[0] = t_r(mb2, 2 * mb2);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, mb2), 0);
	r[0] = t_r(mb2, 0x1000);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, mb2), -EINVAL);
	r[0] = t_r(mb2 + 0x1000, mb2);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, 1, mb2), -EINVAL);
}

/* Random adds and removes against a bitmap; extents stay maximal. */
#define T_BPAGES	256

static void pvmm_test_balloon_random(struct kunit *test)
{
	DECLARE_BITMAP(model, T_BPAGES);
	struct pvmm_balloon_set s;
	struct rnd_state rnd;
	int step;

	bitmap_zero(model, T_BPAGES);
	pvmm_balloon_set_init(&s, T_BPAGES);
	prandom_seed_state(&rnd, 3);
	for (step = 0; step < 4000; step++) {
		u64 start = prandom_u32_state(&rnd) % T_BPAGES;
		u64 end = start + 1 + prandom_u32_state(&rnd) % 8, added, p;
		u64 want = 0, runs = 0;

		end = min_t(u64, end, T_BPAGES);
		if (prandom_u32_state(&rnd) & 1) {
			for (p = start; p < end; p++)
				want += !test_bit(p, model);
			KUNIT_ASSERT_EQ(test, pvmm_balloon_set_add(&s, start, end,
								   &added), 0);
			KUNIT_ASSERT_EQ(test, added, want);
			bitmap_set(model, start, end - start);
		} else {
			bool all = true;

			for (p = start; p < end; p++)
				all &= test_bit(p, model);
			KUNIT_ASSERT_EQ(test, pvmm_balloon_set_remove(&s, start,
								      end),
					all ? 0 : -ENOENT);
			if (all)
				bitmap_clear(model, start, end - start);
		}
		KUNIT_ASSERT_EQ(test, s.pages,
				(u64)bitmap_weight(model, T_BPAGES));
		for (p = 0; p < T_BPAGES; p++) {
			KUNIT_ASSERT_EQ(test,
					pvmm_balloon_set_covers(&s, p, p + 1),
					test_bit(p, model));
			runs += test_bit(p, model) &&
				(!p || !test_bit(p - 1, model));
		}
		KUNIT_ASSERT_EQ(test, s.extents, runs);
	}
	pvmm_balloon_set_destroy(&s);
}

/* The guest's batch builder: neighbours merge, up to the range limit. */
static void pvmm_test_balloon_guest_batch(struct kunit *test)
{
	struct pvmm_balloon_range *r;
	struct pvmm_balloon_batch b = {};
	u32 i;

	r = kunit_kmalloc_array(test, PVMM_BALLOON_MAX_BATCH, sizeof(*r),
				GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	b.r = r;

	KUNIT_EXPECT_TRUE(test, pvmm_balloon_batch_add(&b, 0x10000, 0x1000));
	KUNIT_EXPECT_TRUE(test, pvmm_balloon_batch_add(&b, 0x11000, 0x1000));
	KUNIT_EXPECT_EQ(test, b.n, 1U);
	KUNIT_EXPECT_EQ(test, r[0].len, 0x2000ULL);
	KUNIT_EXPECT_TRUE(test, pvmm_balloon_batch_add(&b, 0x20000, 0x200000));
	KUNIT_EXPECT_EQ(test, b.n, 2U);
	/* a merge never passes the range limit */
	KUNIT_EXPECT_TRUE(test, pvmm_balloon_batch_add(&b, 0x220000,
						       PVMM_BALLOON_MAX_RANGE));
	KUNIT_EXPECT_EQ(test, b.n, 3U);
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, b.n, 0), 0);
	for (i = b.n; i < PVMM_BALLOON_MAX_BATCH; i++)
		KUNIT_EXPECT_TRUE(test, pvmm_balloon_batch_add(&b,
							       (u64)i << 24,
							       0x1000));
	KUNIT_EXPECT_FALSE(test, pvmm_balloon_batch_add(&b, 1ULL << 40,
							0x1000));
	KUNIT_EXPECT_EQ(test, b.n, (u32)PVMM_BALLOON_MAX_BATCH);
	/* what the guest builds, the host accepts */
	KUNIT_EXPECT_EQ(test, pvmm_balloon_check_batch(r, b.n, 0), 0);
}

static struct kunit_case pvmm_balloon_core_cases[] = {
	KUNIT_CASE(pvmm_test_balloon_add),
	KUNIT_CASE(pvmm_test_balloon_remove),
	KUNIT_CASE(pvmm_test_balloon_extent_cap),
	KUNIT_CASE(pvmm_test_balloon_batch),
	KUNIT_CASE(pvmm_test_balloon_random),
	KUNIT_CASE(pvmm_test_balloon_guest_batch),
	{}
};

static struct kunit_suite pvmm_balloon_core_suite = {
	.name = "pvmm-balloon-core",
	.test_cases = pvmm_balloon_core_cases,
};

kunit_test_suite(pvmm_balloon_core_suite);

#endif /* _PVMM_BALLOON_CORE_TEST_H */
