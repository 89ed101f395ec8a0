/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests for the clock service's pure core and for the shared record
 * reader; included at the end of clock_core.c.
 */
#ifndef _PVMM_CLOCK_CORE_TEST_H
#define _PVMM_CLOCK_CORE_TEST_H

#include <kunit/test.h>
#include <linux/clocksource.h>
#include <linux/prandom.h>
#include <linux/time64.h>

/* The reader under test, with a TSC that can inject a host update. */
static struct pvmm_clock_record t_rec;
static u32 t_version;
static u64 t_tsc;
static int t_tsc_reads;
static const struct pvmm_clock_record *t_update;

static u64 t_rdtsc(void)
{
	t_tsc_reads++;
	if (t_update) {
		pvmm_clock_publish(&t_rec, &t_version, t_update);
		t_update = NULL;
	}
	return t_tsc;
}

#define PVMM_CLOCK_RDTSC()	t_rdtsc()
#define PVMM_CLOCK_RMB()	barrier()
#include <pvmm/clock_reader.h>

static u64 t_absdiff(u64 a, u64 b)
{
	return a > b ? a - b : b - a;
}

#define T_KHZ_MIN	1000ULL			/* 1 MHz */
#define T_KHZ_MAX	10000000ULL		/* 10 GHz */
#define T_YEAR_S	(365ULL * 24 * 3600)

/* mult/shift as the TSC clocksource gets them: per kHz, 600 s range */
static void t_tk_scale(u64 khz, u32 *mult, u32 *shift)
{
	clocks_calc_mult_shift(mult, shift, khz, NSEC_PER_MSEC, 600);
}

static void pvmm_test_clock_scale_exact(struct kunit *test)
{
	struct rnd_state rnd;
	u64 khz;

	prandom_seed_state(&rnd, 7);
	for (khz = T_KHZ_MIN; khz <= T_KHZ_MAX; khz = khz * 3 / 2 + 1) {
		u32 mult, shift, mul;
		s8 sh;
		int i;

		t_tk_scale(khz, &mult, &shift);
		KUNIT_ASSERT_EQ(test, pvmm_clock_scale_from_tk(mult, shift,
							       &mul, &sh), 0);
		/* Up to the 600 s the timekeeper itself promises. */
		for (i = 0; i < 200; i++) {
			u64 delta = prandom_u32_state(&rnd) *
				    (u64)prandom_u32_state(&rnd) %
				    (khz * 1000 * 600);
			u64 want = mul_u64_u32_shr(delta, mult, shift);
			u64 got = pvmm_clock_scale(delta, mul, sh);

			if (sh >= 0)
				KUNIT_ASSERT_EQ_MSG(test, got, want,
						    "khz %llu delta %llu", khz,
						    delta);
			else	/* at most the low bits of delta are lost */
				KUNIT_ASSERT_LE(test, want - got,
						(u64)mul_u64_u32_shr(1ULL << -sh,
								     mult,
								     shift) + 1);
		}
	}
}

/* One second of cycles is one second, to the timekeeper's precision. */
static void pvmm_test_clock_rounding(struct kunit *test)
{
	u64 khz;

	for (khz = T_KHZ_MIN; khz <= T_KHZ_MAX; khz = khz * 5 / 4 + 1) {
		u32 mult, shift, mul;
		s8 sh;
		u64 ns, err;

		t_tk_scale(khz, &mult, &shift);
		KUNIT_ASSERT_EQ(test, pvmm_clock_scale_from_tk(mult, shift,
							       &mul, &sh), 0);
		ns = pvmm_clock_scale(khz * 1000, mul, sh);
		err = ns > NSEC_PER_SEC ? ns - NSEC_PER_SEC : NSEC_PER_SEC - ns;
		/* mult's own rounding: 1 unit in mult is 2^-shift ns/cycle */
		KUNIT_EXPECT_LE_MSG(test, err,
				    mul_u64_u32_shr(khz * 1000, 1, shift) + 1,
				    "khz %llu", khz);
	}
}

/* Ten years of uptime, and ten years without a record update. */
static void pvmm_test_clock_ten_years(struct kunit *test)
{
	u64 khz;

	for (khz = T_KHZ_MIN; khz <= T_KHZ_MAX; khz *= 10) {
		u64 cycles = 10 * T_YEAR_S * khz * 1000;
		struct pvmm_clock_host h = {
			.cycle_last = cycles, .mono_ns = 10 * T_YEAR_S *
			NSEC_PER_SEC, .tsc_stable = true,
		};
		struct pvmm_clock_record rec;
		u64 ns, want;

		t_tk_scale(khz, &h.mult, &h.shift);
		KUNIT_ASSERT_EQ(test, pvmm_clock_make_record(&h, 0, 0, 0, &rec),
				0);
		/* an hour after the last update */
		ns = rec.system_time +
		     pvmm_clock_scale(3600 * khz * 1000, rec.tsc_to_system_mul,
				      rec.tsc_shift);
		want = h.mono_ns + 3600 * NSEC_PER_SEC;
		KUNIT_EXPECT_LE(test, t_absdiff(ns, want), 3600ULL * 1000);
		/* a whole 10-year delta: no overflow, 1 ppm at worst */
		ns = pvmm_clock_scale(cycles, rec.tsc_to_system_mul,
				      rec.tsc_shift);
		KUNIT_EXPECT_LE_MSG(test, t_absdiff(ns, h.mono_ns),
				    h.mono_ns / 1000000, "khz %llu", khz);
	}
}

static void pvmm_test_clock_changed(struct kunit *test)
{
	struct pvmm_clock_host a = {
		.cycle_last = 1000000, .mono_ns = 5000000, .tsc_stable = true,
	};
	struct pvmm_clock_host b;

	t_tk_scale(2400000, &a.mult, &a.shift);
	b = a;
	b.cycle_last += 24000000;	/* 10 ms later, same line */
	b.mono_ns = pvmm_clock_host_ns(&a, b.cycle_last);
	KUNIT_EXPECT_FALSE(test, pvmm_clock_host_changed(&a, &b));
	b.mono_ns += 1;
	KUNIT_EXPECT_FALSE(test, pvmm_clock_host_changed(&a, &b));
	b.mono_ns += 1;
	KUNIT_EXPECT_TRUE(test, pvmm_clock_host_changed(&a, &b));
	b.mono_ns -= 2;
	b.mult += 1;			/* an NTP frequency step */
	KUNIT_EXPECT_TRUE(test, pvmm_clock_host_changed(&a, &b));
	b.mult -= 1;
	b.boot_offset_ns = 1;		/* the host resumed from suspend */
	KUNIT_EXPECT_TRUE(test, pvmm_clock_host_changed(&a, &b));
	b.boot_offset_ns = 0;
	b.tsc_stable = false;
	KUNIT_EXPECT_TRUE(test, pvmm_clock_host_changed(&a, &b));
	KUNIT_EXPECT_TRUE(test, pvmm_clock_host_changed(&b, &b));
	/* before the anchor too */
	KUNIT_EXPECT_EQ(test, pvmm_clock_host_ns(&a, a.cycle_last - 2400),
			a.mono_ns - 1000);
}

static void pvmm_test_clock_record(struct kunit *test)
{
	struct pvmm_clock_host h = {
		.cycle_last = 1000, .mono_ns = 2000, .boot_offset_ns = 77,
		.tsc_stable = true,
	};
	struct pvmm_clock_record rec;
	u32 mul;
	s8 sh;

	t_tk_scale(3000000, &h.mult, &h.shift);
	KUNIT_ASSERT_EQ(test, pvmm_clock_make_record(&h, 500, -100, 3, &rec),
			0);
	KUNIT_EXPECT_EQ(test, rec.tsc_timestamp, 900ULL);
	KUNIT_EXPECT_EQ(test, rec.system_time, 2500ULL);
	KUNIT_EXPECT_EQ(test, rec.flags, (u8)PVMM_CLOCK_TSC_STABLE);
	KUNIT_EXPECT_EQ(test, rec.boot_offset_ns, 77ULL);
	KUNIT_EXPECT_EQ(test, rec.disruptions, 3ULL);
	KUNIT_EXPECT_EQ(test, rec.version, 0U);
	h.tsc_stable = false;
	KUNIT_ASSERT_EQ(test, pvmm_clock_make_record(&h, 0, 0, 0, &rec), 0);
	KUNIT_EXPECT_EQ(test, rec.flags, 0);
	h.mult = 0;
	KUNIT_EXPECT_EQ(test, pvmm_clock_make_record(&h, 0, 0, 0, &rec),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, pvmm_clock_scale_from_tk(1, 100, &mul, &sh),
			-ERANGE);
}

static void pvmm_test_clock_publish(struct kunit *test)
{
	struct pvmm_clock_record src = {
		.tsc_timestamp = 1, .system_time = 2, .tsc_to_system_mul = 3,
		.tsc_shift = -1, .flags = 1, .boot_offset_ns = 4,
		.disruptions = 5,
	};
	struct pvmm_clock_record dst;
	u32 v = 0;

	memset(&dst, 0xa5, sizeof(dst));	/* a guest may scribble */
	pvmm_clock_publish(&dst, &v, &src);
	KUNIT_EXPECT_EQ(test, v, 2U);
	KUNIT_EXPECT_EQ(test, dst.version, 2U);
	KUNIT_EXPECT_EQ(test, dst.tsc_timestamp, src.tsc_timestamp);
	KUNIT_EXPECT_EQ(test, dst.system_time, src.system_time);
	KUNIT_EXPECT_EQ(test, dst.tsc_to_system_mul, src.tsc_to_system_mul);
	KUNIT_EXPECT_EQ(test, dst.tsc_shift, src.tsc_shift);
	KUNIT_EXPECT_EQ(test, dst.flags, src.flags);
	KUNIT_EXPECT_EQ(test, dst.boot_offset_ns, src.boot_offset_ns);
	KUNIT_EXPECT_EQ(test, dst.disruptions, src.disruptions);
	pvmm_clock_publish(&dst, &v, &src);
	KUNIT_EXPECT_EQ(test, dst.version, 4U);
	/* an odd host copy (never happens) still ends even; wrap is fine */
	v = 0xfffffffd;
	pvmm_clock_publish(&dst, &v, &src);
	KUNIT_EXPECT_EQ(test, v, 0xfffffffeU);
	pvmm_clock_publish(&dst, &v, &src);
	KUNIT_EXPECT_EQ(test, v, 0U);
	KUNIT_EXPECT_EQ(test, dst.version, 0U);
}

static void pvmm_test_clock_reader(struct kunit *test)
{
	struct pvmm_clock_host h = { .mono_ns = 1000000, .tsc_stable = true };
	struct pvmm_clock_record a, b;
	u8 flags;
	u64 ns;

	t_tk_scale(1000000, &h.mult, &h.shift);	/* 1 GHz: 1 ns/cycle */
	KUNIT_ASSERT_EQ(test, pvmm_clock_make_record(&h, 0, 0, 0, &a), 0);
	h.mono_ns = 5000000;
	h.tsc_stable = false;
	KUNIT_ASSERT_EQ(test, pvmm_clock_make_record(&h, 0, 0, 0, &b), 0);
	t_version = 0;
	pvmm_clock_publish(&t_rec, &t_version, &a);

	t_tsc = 500;
	t_tsc_reads = 0;
	ns = pvmm_clock_read(&t_rec, &flags);
	KUNIT_EXPECT_EQ(test, ns, 1000500ULL);
	KUNIT_EXPECT_EQ(test, flags, (u8)PVMM_CLOCK_TSC_STABLE);
	KUNIT_EXPECT_EQ(test, t_tsc_reads, 1);

	/* The host rewrites the record in the middle of the read. */
	t_update = &b;
	t_tsc_reads = 0;
	ns = pvmm_clock_read(&t_rec, &flags);
	KUNIT_EXPECT_EQ(test, t_tsc_reads, 2);
	KUNIT_EXPECT_EQ(test, ns, 5000500ULL);
	KUNIT_EXPECT_EQ(test, flags, 0);

	/* An odd version (a write in progress) is never accepted. */
	t_rec.version |= 1;
	t_update = &a;
	t_tsc_reads = 0;
	ns = pvmm_clock_read(&t_rec, &flags);
	KUNIT_EXPECT_EQ(test, t_tsc_reads, 2);
	KUNIT_EXPECT_EQ(test, ns, 1000500ULL);
}

static struct kunit_case pvmm_clock_core_cases[] = {
	KUNIT_CASE(pvmm_test_clock_scale_exact),
	KUNIT_CASE(pvmm_test_clock_rounding),
	KUNIT_CASE(pvmm_test_clock_ten_years),
	KUNIT_CASE(pvmm_test_clock_changed),
	KUNIT_CASE(pvmm_test_clock_record),
	KUNIT_CASE(pvmm_test_clock_publish),
	KUNIT_CASE(pvmm_test_clock_reader),
	{}
};

static struct kunit_suite pvmm_clock_core_suite = {
	.name = "pvmm-clock-core",
	.test_cases = pvmm_clock_core_cases,
};

kunit_test_suite(pvmm_clock_core_suite);

#endif /* _PVMM_CLOCK_CORE_TEST_H */
