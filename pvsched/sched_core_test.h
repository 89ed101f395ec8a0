/* SPDX-License-Identifier: GPL-2.0 */
/* KUnit tests for the scheduling service's core; included by sched_core.c. */
#ifndef _PVMM_SCHED_CORE_TEST_H
#define _PVMM_SCHED_CORE_TEST_H

#include <kunit/test.h>

#define MS	NSEC_PER_MSEC

static void pvmm_test_steal_accounting(struct kunit *test)
{
	struct pvmm_steal_acct a;

	pvmm_steal_start(&a, 5000, 0);
	KUNIT_EXPECT_EQ(test, pvmm_steal_update(&a, 5000, 1), 0ULL);
	KUNIT_EXPECT_EQ(test, pvmm_steal_update(&a, 7000, 2), 2000ULL);
	KUNIT_EXPECT_EQ(test, pvmm_steal_update(&a, 7500, 3), 2500ULL);
	/* a run delay that goes back (reset) never takes steal back */
	KUNIT_EXPECT_EQ(test, pvmm_steal_update(&a, 100, 4), 2500ULL);
	KUNIT_EXPECT_EQ(test, pvmm_steal_update(&a, 400, 5), 2800ULL);
	/* the whole 64-bit range: no wrap into nonsense */
	pvmm_steal_start(&a, U64_MAX - 10, 0);
	KUNIT_EXPECT_EQ(test, pvmm_steal_update(&a, U64_MAX, 1), 10ULL);
	KUNIT_EXPECT_EQ(test, pvmm_steal_update(&a, 5, 2), 10ULL);
	KUNIT_EXPECT_EQ(test, pvmm_steal_update(&a, 25, 3), 30ULL);
}

static void pvmm_test_steal_rate(struct kunit *test)
{
	struct pvmm_steal_acct a;

	pvmm_steal_start(&a, 0, 1000 * MS);
	/* half the wall time stolen over a full window */
	pvmm_steal_update(&a, 60 * MS, 1120 * MS);
	KUNIT_EXPECT_EQ(test, a.rate, (u32)PVMM_STEAL_RATE_ONE / 2);
	/* inside a window the rate holds */
	pvmm_steal_update(&a, 160 * MS, 1150 * MS);
	KUNIT_EXPECT_EQ(test, a.rate, (u32)PVMM_STEAL_RATE_ONE / 2);
	/* more steal than time (clocks of two CPUs): capped at 100 % */
	pvmm_steal_update(&a, 500 * MS, 1230 * MS);
	KUNIT_EXPECT_EQ(test, a.rate, (u32)PVMM_STEAL_RATE_ONE);
	/* nothing stolen */
	pvmm_steal_update(&a, 500 * MS, 1400 * MS);
	KUNIT_EXPECT_EQ(test, a.rate, 0U);
	/* a clock that went back changes nothing */
	pvmm_steal_update(&a, 600 * MS, 900 * MS);
	KUNIT_EXPECT_EQ(test, a.rate, 0U);
	/* years in one window: no overflow */
	pvmm_steal_start(&a, 0, 0);
	pvmm_steal_update(&a, 1ULL << 61, 1ULL << 62);
	KUNIT_EXPECT_EQ(test, a.rate, (u32)PVMM_STEAL_RATE_ONE / 2);
}

static void pvmm_test_steal_publish(struct kunit *test)
{
	struct pvmm_steal_record r;
	u32 v = 0;

	memset(&r, 0xa5, sizeof(r));
	pvmm_steal_publish(&r, &v, 1234, 99);
	KUNIT_EXPECT_EQ(test, r.version, 2U);
	KUNIT_EXPECT_EQ(test, v, 2U);
	KUNIT_EXPECT_EQ(test, r.steal, 1234ULL);
	KUNIT_EXPECT_EQ(test, r.steal_rate, 99U);
	pvmm_steal_publish(&r, &v, 1300, 0);
	KUNIT_EXPECT_EQ(test, r.version, 4U);
	v = 0xfffffffe;
	pvmm_steal_publish(&r, &v, 1, 1);
	KUNIT_EXPECT_EQ(test, r.version, 0U);
	/* kvm_steal_time's layout */
	KUNIT_EXPECT_EQ(test, offsetof(struct pvmm_steal_record, version), 8UL);
	KUNIT_EXPECT_EQ(test, offsetof(struct pvmm_steal_record, preempted),
			16UL);
	KUNIT_EXPECT_EQ(test, sizeof(struct pvmm_steal_record),
			(size_t)PVMM_SCHED_RECORD_SIZE);
}

static struct kunit_case pvmm_sched_core_cases[] = {
	KUNIT_CASE(pvmm_test_steal_accounting),
	KUNIT_CASE(pvmm_test_steal_rate),
	KUNIT_CASE(pvmm_test_steal_publish),
	{}
};

static struct kunit_suite pvmm_sched_core_suite = {
	.name = "pvmm-sched-core",
	.test_cases = pvmm_sched_core_cases,
};

kunit_test_suite(pvmm_sched_core_suite);

#endif /* _PVMM_SCHED_CORE_TEST_H */
