/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the hub's pure core; included at the end of hub_core.c
 * so that they reach its static helpers.
 */
#ifndef _PVMM_HUB_CORE_TEST_H
#define _PVMM_HUB_CORE_TEST_H

#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#define T_ULIM	BIT_ULL(47)

static struct pvmm_memslot t_req(u32 slot, u64 gpa, u64 size)
{
	struct pvmm_memslot r = {
		.slot = slot, .guest_phys_addr = gpa, .size = size,
		.userspace_addr = 0x10000000, .memfd = -1,
	};

	return r;
}

static void pvmm_test_memslot_check(struct kunit *test)
{
	struct pvmm_memslot r = t_req(0, 0x100000, 0x200000);

	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), 0);

	r.flags = 2;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r = t_req(0, 0x100000, 0x200000);
	r.reserved = 1;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r = t_req(PVMM_MAX_MEMSLOTS, 0x100000, 0x200000);
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r = t_req(PVMM_MAX_MEMSLOTS - 1, 0x100000, 0x200000);
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), 0);

	/* Each field misaligned on its own. */
	r = t_req(0, 0x100800, 0x200000);
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r = t_req(0, 0x100000, 0x200001);
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r = t_req(0, 0x100000, 0x200000);
	r.userspace_addr += 8;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r = t_req(0, 0x100000, 0x200000);
	r.flags = PVMM_MEMSLOT_MEMFD;
	r.memfd = 3;
	r.memfd_offset = 0x10;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r.memfd_offset = 0x1000;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), 0);
	r.memfd = -1;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r.memfd = 3;
	r.memfd_offset = (u64)S64_MAX & PAGE_MASK;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	/* An offset without a memfd is a VMM bug, not something to ignore. */
	r = t_req(0, 0x100000, 0x200000);
	r.memfd_offset = 0x1000;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
}

static void pvmm_test_memslot_overflow(struct kunit *test)
{
	struct pvmm_memslot r;

	r = t_req(0, PAGE_MASK, PAGE_SIZE);	/* gpa + size wraps */
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r = t_req(0, PVMM_GPA_LIMIT - PAGE_SIZE, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), 0);
	r = t_req(0, PVMM_GPA_LIMIT - PAGE_SIZE, 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r = t_req(0, PVMM_GPA_LIMIT, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r = t_req(0, 0, PAGE_SIZE);
	r.userspace_addr = PAGE_MASK;		/* uaddr + size wraps */
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	r.userspace_addr = T_ULIM - PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), 0);
	r.size = 2 * PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), -EINVAL);
	/* Deleting needs nothing but a valid id. */
	r = t_req(5, 0x123, 0);
	KUNIT_EXPECT_EQ(test, pvmm_memslot_check(&r, T_ULIM), 0);
}

static struct pvmm_memslots *t_alloc(struct kunit *test, u32 nr)
{
	return kunit_kzalloc(test, pvmm_memslots_size(nr), GFP_KERNEL);
}

/* Apply a change, returning the new array or NULL with *err set. */
static struct pvmm_memslots *t_apply(struct kunit *test,
				     struct pvmm_memslots *old, u32 id,
				     u64 gpa, u64 size, int *err)
{
	struct pvmm_memslots *out = t_alloc(test, old->nr + 1);
	struct pvmm_slot chg = {
		.id = id, .gpa = gpa, .size = size, .uaddr = 0x40000000 + gpa,
	};

	*err = pvmm_memslots_update(old, &chg, !size, out);
	return *err ? NULL : out;
}

static void pvmm_test_memslots_update(struct kunit *test)
{
	struct pvmm_memslots *s = t_alloc(test, 0), *n;
	int err;

	s = t_apply(test, s, 3, 0x300000, 0x100000, &err);
	KUNIT_ASSERT_EQ(test, err, 0);
	s = t_apply(test, s, 1, 0x100000, 0x100000, &err);
	KUNIT_ASSERT_EQ(test, err, 0);
	s = t_apply(test, s, 2, 0x200000, 0x100000, &err);	/* adjacent */
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_ASSERT_EQ(test, s->nr, 3U);
	KUNIT_EXPECT_EQ(test, s->slot[0].id, 1U);
	KUNIT_EXPECT_EQ(test, s->slot[1].id, 2U);
	KUNIT_EXPECT_EQ(test, s->slot[2].id, 3U);

	/* Overlaps: inside, over the left edge, over the right, covering. */
	n = t_apply(test, s, 9, 0x201000, 0x1000, &err);
	KUNIT_EXPECT_EQ(test, err, -EEXIST);
	n = t_apply(test, s, 9, 0x0ff000, 0x2000, &err);
	KUNIT_EXPECT_EQ(test, err, -EEXIST);
	n = t_apply(test, s, 9, 0x3ff000, 0x2000, &err);
	KUNIT_EXPECT_EQ(test, err, -EEXIST);
	n = t_apply(test, s, 9, 0x000000, 0x1000000, &err);
	KUNIT_EXPECT_EQ(test, err, -EEXIST);
	KUNIT_EXPECT_PTR_EQ(test, n, NULL);

	/* Replacing a slot may overlap its own old range, not another. */
	n = t_apply(test, s, 2, 0x200000, 0x80000, &err);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, n->nr, 3U);
	KUNIT_EXPECT_EQ(test, n->slot[1].size, 0x80000ULL);
	n = t_apply(test, s, 2, 0x200000, 0x101000, &err);
	KUNIT_EXPECT_EQ(test, err, -EEXIST);
	/* Replacing may move a slot; order follows. */
	n = t_apply(test, s, 1, 0x800000, 0x1000, &err);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, n->slot[2].id, 1U);
	KUNIT_EXPECT_EQ(test, n->slot[0].id, 2U);

	/* The old array is untouched by any of this. */
	KUNIT_EXPECT_EQ(test, s->slot[1].size, 0x100000ULL);

	n = t_apply(test, s, 2, 0, 0, &err);
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, n->nr, 2U);
	KUNIT_EXPECT_PTR_EQ(test, pvmm_memslots_by_id(n, 2), NULL);
	n = t_apply(test, n, 2, 0, 0, &err);
	KUNIT_EXPECT_EQ(test, err, -ENOENT);
}

static void pvmm_test_memslots_full(struct kunit *test)
{
	struct pvmm_memslots *s = t_alloc(test, 0);
	int err;
	u32 i;

	/* Fill in reverse order so every insert lands at the front. */
	for (i = PVMM_MAX_MEMSLOTS; i-- > 0;) {
		s = t_apply(test, s, i, (u64)i << 21, 1 << 21, &err);
		KUNIT_ASSERT_EQ(test, err, 0);
	}
	KUNIT_EXPECT_EQ(test, s->nr, (u32)PVMM_MAX_MEMSLOTS);
	for (i = 0; i < PVMM_MAX_MEMSLOTS; i++)
		KUNIT_EXPECT_EQ(test, s->slot[i].id, i);
}

static void pvmm_test_memslots_find(struct kunit *test)
{
	struct pvmm_memslots *s = t_alloc(test, 0);
	const struct pvmm_slot *f;
	u64 ua;
	int err;

	KUNIT_EXPECT_PTR_EQ(test, pvmm_memslots_find(s, 0), NULL);
	s = t_apply(test, s, 0, 0x1000, 0x1000, &err);
	s = t_apply(test, s, 1, 0x10000, 0x4000, &err);
	s = t_apply(test, s, 2, 0x14000, 0x1000, &err);
	KUNIT_ASSERT_EQ(test, err, 0);

	KUNIT_EXPECT_PTR_EQ(test, pvmm_memslots_find(s, 0xfff), NULL);
	f = pvmm_memslots_find(s, 0x1000);
	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_EXPECT_EQ(test, f->id, 0U);
	KUNIT_EXPECT_EQ(test, pvmm_memslots_find(s, 0x1fff)->id, 0U);
	KUNIT_EXPECT_PTR_EQ(test, pvmm_memslots_find(s, 0x2000), NULL);
	KUNIT_EXPECT_EQ(test, pvmm_memslots_find(s, 0x13fff)->id, 1U);
	KUNIT_EXPECT_EQ(test, pvmm_memslots_find(s, 0x14000)->id, 2U);
	KUNIT_EXPECT_PTR_EQ(test, pvmm_memslots_find(s, 0x15000), NULL);
	KUNIT_EXPECT_PTR_EQ(test, pvmm_memslots_find(s, U64_MAX), NULL);

	KUNIT_EXPECT_EQ(test, pvmm_memslots_translate(s, 0x10008, 8, &ua), 0);
	KUNIT_EXPECT_EQ(test, ua, 0x40010008ULL);
	KUNIT_EXPECT_EQ(test, pvmm_memslots_translate(s, 0x10000, 0x4000, &ua),
			0);
	/* Into the next slot, even an adjacent one, is refused. */
	KUNIT_EXPECT_EQ(test, pvmm_memslots_translate(s, 0x13ff8, 16, &ua),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, pvmm_memslots_translate(s, 0x2000, 8, &ua),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, pvmm_memslots_translate(s, 0x1000, 0, &ua),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pvmm_memslots_translate(s, 0x1000, U64_MAX, &ua),
			-EFAULT);
}

/*
 * Random adds, replaces and deletes against a page-granular reference
 * model; after every step each page's owner must match find().
 */
#define T_PAGES	64

static void pvmm_test_memslots_random(struct kunit *test)
{
	struct pvmm_memslots *s = t_alloc(test, 0), *n;
	int owner[T_PAGES], want[T_PAGES];
	struct rnd_state rnd;
	int step, p, err;

	prandom_seed_state(&rnd, 42);
	for (p = 0; p < T_PAGES; p++)
		owner[p] = -1;

	for (step = 0; step < 2000; step++) {
		u32 id = prandom_u32_state(&rnd) % 8;
		u32 first = prandom_u32_state(&rnd) % T_PAGES;
		u32 npages = prandom_u32_state(&rnd) % 6;
		bool clash = false;

		if (first + npages > T_PAGES)
			npages = T_PAGES - first;
		for (p = 0; p < T_PAGES; p++) {
			want[p] = owner[p] == (int)id ? -1 : owner[p];
			if (p >= first && p < first + npages) {
				clash |= want[p] >= 0;
				want[p] = id;
			}
		}
		n = t_apply(test, s, id, (u64)first << PAGE_SHIFT,
			    (u64)npages << PAGE_SHIFT, &err);
		if (!npages) {
			bool had = pvmm_memslots_by_id(s, id);

			KUNIT_ASSERT_EQ(test, err, had ? 0 : -ENOENT);
			clash = !had;
		} else {
			KUNIT_ASSERT_EQ(test, err, clash ? -EEXIST : 0);
		}
		if (clash)
			continue;
		memcpy(owner, want, sizeof(owner));
		s = n;
		for (p = 0; p < T_PAGES; p++) {
			const struct pvmm_slot *f =
				pvmm_memslots_find(s, (u64)p << PAGE_SHIFT);

			KUNIT_ASSERT_EQ(test, f ? (int)f->id : -1, owner[p]);
		}
		for (p = 1; p < s->nr; p++)
			KUNIT_ASSERT_LE(test, s->slot[p - 1].gpa +
					s->slot[p - 1].size, s->slot[p].gpa);
	}
}

static void pvmm_test_range_in_page(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, pvmm_range_in_page(0x1000, PAGE_SIZE));
	KUNIT_EXPECT_TRUE(test, pvmm_range_in_page(0x1ff8, 8));
	KUNIT_EXPECT_FALSE(test, pvmm_range_in_page(0x1ff8, 9));
	KUNIT_EXPECT_FALSE(test, pvmm_range_in_page(0x1000, 0));
	KUNIT_EXPECT_FALSE(test, pvmm_range_in_page(0x1000, U64_MAX));
}

static void pvmm_test_call(struct kunit *test)
{
	struct pvmm_call c = { .nr = PVMM_CALL_NOP };
	u32 svc, fn;

	KUNIT_EXPECT_EQ(test, pvmm_call_check(&c), 0);
	c.flags = 1;
	KUNIT_EXPECT_EQ(test, pvmm_call_check(&c), -EINVAL);
	c.flags = 0;
	c.out[2] = 1;
	KUNIT_EXPECT_EQ(test, pvmm_call_check(&c), -EINVAL);

	KUNIT_EXPECT_EQ(test, pvmm_call_decode(PVMM_CALL_NR(4, 7), &svc, &fn),
			0);
	KUNIT_EXPECT_EQ(test, svc, 4U);
	KUNIT_EXPECT_EQ(test, fn, 7U);
	KUNIT_EXPECT_EQ(test, pvmm_call_decode(PVMM_CALL_NR(63, 255), &svc,
					       &fn), 0);
	KUNIT_EXPECT_EQ(test, pvmm_call_decode(PVMM_CALL_NR(64, 0), &svc, &fn),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, pvmm_call_decode(1U << 16, &svc, &fn), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, pvmm_call_decode(U32_MAX, &svc, &fn), -EOPNOTSUPP);
}

static struct kunit_case pvmm_hub_core_cases[] = {
	KUNIT_CASE(pvmm_test_memslot_check),
	KUNIT_CASE(pvmm_test_memslot_overflow),
	KUNIT_CASE(pvmm_test_memslots_update),
	KUNIT_CASE(pvmm_test_memslots_full),
	KUNIT_CASE(pvmm_test_memslots_find),
	KUNIT_CASE(pvmm_test_memslots_random),
	KUNIT_CASE(pvmm_test_range_in_page),
	KUNIT_CASE(pvmm_test_call),
	{}
};

static struct kunit_suite pvmm_hub_core_suite = {
	.name = "pvmm-hub-core",
	.test_cases = pvmm_hub_core_cases,
};

kunit_test_suite(pvmm_hub_core_suite);

#endif /* _PVMM_HUB_CORE_TEST_H */
