/* SPDX-License-Identifier: GPL-2.0 */
/* KUnit tests for the scheduling service's core; included by sched_core.c. */
#ifndef _PVMM_SCHED_CORE_TEST_H
#define _PVMM_SCHED_CORE_TEST_H

#include <kunit/test.h>

#define MS	NSEC_PER_MSEC

/* The guest's reader, with a host that writes between its barriers. */
static struct pvmm_steal_record *pvmm_test_rec;
static int pvmm_test_rmb_calls, pvmm_test_rmb_write;

static void pvmm_test_rmb(void)
{
	if (++pvmm_test_rmb_calls == pvmm_test_rmb_write)
		pvmm_test_rec->version++;
}

#define PVMM_STEAL_RMB()	pvmm_test_rmb()
#include <pvmm/sched_reader.h>

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
	/* the same arithmetic, alone */
	KUNIT_EXPECT_EQ(test, pvmm_steal_rate(0, 0), 0U);
	KUNIT_EXPECT_EQ(test, pvmm_steal_rate(5, 0), 0U);
	KUNIT_EXPECT_EQ(test, pvmm_steal_rate(25, 100), (u32)PVMM_STEAL_RATE_ONE / 4);
	KUNIT_EXPECT_EQ(test, pvmm_steal_rate(U64_MAX, U64_MAX),
			(u32)PVMM_STEAL_RATE_ONE);
	KUNIT_EXPECT_EQ(test, pvmm_steal_rate(U64_MAX / 2, U64_MAX),
			(u32)PVMM_STEAL_RATE_ONE / 2 - 1);
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

#define PCT(x)	((u32)(PVMM_STEAL_RATE_ONE * (x) / 100))
#define ONE	PVMM_PLACE_ONE

static void pvmm_test_place_load(struct kunit *test)
{
	/* busy time alone: at most one task */
	KUNIT_EXPECT_EQ(test, pvmm_place_cpu_load(0, 0), 0U);
	KUNIT_EXPECT_EQ(test, pvmm_place_cpu_load(PCT(50), 0), ONE / 2);
	KUNIT_EXPECT_EQ(test, pvmm_place_cpu_load(PVMM_STEAL_RATE_ONE, 0), ONE);
	KUNIT_EXPECT_EQ(test, pvmm_place_cpu_load(U32_MAX, 0), ONE);
	KUNIT_EXPECT_EQ(test, pvmm_place_cpu_load(PCT(50), 3 * ONE), 3 * ONE);
	KUNIT_EXPECT_EQ(test, pvmm_place_cpu_load(0, U32_MAX),
			(u32)PVMM_PLACE_MAX_LOAD);
	/* CPU-bound, losing half its time: shares with one other */
	KUNIT_EXPECT_EQ(test, pvmm_place_thread_load(PCT(50), PCT(50)),
			2 * ONE);
	KUNIT_EXPECT_EQ(test, pvmm_place_thread_load(PCT(25), PCT(75)),
			4 * ONE);
	/* alone and busy: one; alone and idle half the time: half */
	KUNIT_EXPECT_EQ(test, pvmm_place_thread_load(PVMM_STEAL_RATE_ONE, 0),
			ONE);
	KUNIT_EXPECT_EQ(test, pvmm_place_thread_load(PCT(50), 0), ONE / 2);
	/* runs 10 %, waited 10 % when it woke: a light load, not two tasks */
	KUNIT_EXPECT_EQ(test, pvmm_place_thread_load(PCT(10), PCT(10)),
			pvmm_place_cpu_load(PCT(40), 0));
	/* never ran but waited: as many as can be; nothing: none */
	KUNIT_EXPECT_EQ(test, pvmm_place_thread_load(0, PCT(1)),
			(u32)PVMM_PLACE_MAX_LOAD);
	KUNIT_EXPECT_EQ(test, pvmm_place_thread_load(0, 0), 0U);
	/* nonsense from the clocks: capped, no overflow */
	KUNIT_EXPECT_EQ(test, pvmm_place_thread_load(U32_MAX, U32_MAX),
			4 * ONE);
	KUNIT_EXPECT_EQ(test, pvmm_place_thread_load(1, U32_MAX),
			(u32)PVMM_PLACE_MAX_LOAD);
	/* joining n tasks: n / (n + 1) */
	KUNIT_EXPECT_EQ(test, pvmm_place_expected(0), 0U);
	KUNIT_EXPECT_EQ(test, pvmm_place_expected(ONE), PCT(50));
	KUNIT_EXPECT_EQ(test, pvmm_place_expected(3 * ONE), PCT(75));
	KUNIT_EXPECT_LT(test, pvmm_place_expected(U32_MAX),
			(u32)PVMM_STEAL_RATE_ONE);
}

static const struct pvmm_place_params pvmm_test_params = {
	.steal_min = PCT(20),
	.gain_min = PCT(10),
	.residence_ns = 1000 * MS,
	.max_moves = 8,
};

static struct pvmm_place_vcpu pvmm_test_vcpu(const unsigned long *allowed,
					     u32 cpu, u32 steal, u32 vm)
{
	return (struct pvmm_place_vcpu){ .allowed = allowed, .cpu = cpu,
					 .steal_rate = steal, .vm = vm };
}

/* Suffering on a busy CPU, with an idle one in its mask: moves there. */
static void pvmm_test_place_moves(struct kunit *test)
{
	unsigned long all = 0xf;
	u32 load[4] = { 2 * ONE, ONE, 0, ONE };
	struct pvmm_place_vm vm = { .weight = 100 };
	struct pvmm_place_vcpu v[2] = {
		pvmm_test_vcpu(&all, 0, PCT(50), 0),
		pvmm_test_vcpu(&all, 1, 0, 0),
	};

	v[0].priv = test;
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(v, 2, load, 4, &vm, 1,
						&pvmm_test_params, 0), 1U);
	/* sorted: the one that moves comes first and keeps its priv */
	KUNIT_EXPECT_PTR_EQ(test, v[0].priv, (void *)test);
	KUNIT_EXPECT_EQ(test, v[0].why, (u8)PVMM_PLACE_MOVE);
	KUNIT_EXPECT_EQ(test, v[0].target, 2U);
	KUNIT_EXPECT_EQ(test, v[0].expected, 0U);
	KUNIT_EXPECT_EQ(test, v[1].why, (u8)PVMM_PLACE_STAY_LOW_STEAL);
	KUNIT_EXPECT_EQ(test, v[1].target, 1U);
	/* the loads follow the move */
	KUNIT_EXPECT_EQ(test, load[0], ONE);
	KUNIT_EXPECT_EQ(test, load[2], ONE);
	KUNIT_EXPECT_EQ(test, vm.moved, 1U);
}

/* Never outside its mask: a better CPU it may not use changes nothing. */
static void pvmm_test_place_mask(struct kunit *test)
{
	unsigned long two = BIT(0) | BIT(1), one = BIT(0), none = 0;
	u32 load[4] = { 3 * ONE, 3 * ONE, 0, 0 };
	struct pvmm_place_vm vm = { .weight = 100 };
	struct pvmm_place_vcpu v[4] = {
		pvmm_test_vcpu(&two, 0, PCT(66), 0),
		pvmm_test_vcpu(&one, 0, PCT(66), 0),
		pvmm_test_vcpu(&none, 1, PCT(66), 0),
		pvmm_test_vcpu(NULL, 1, PCT(66), 0),
	};
	unsigned int i;

	KUNIT_EXPECT_EQ(test, pvmm_place_decide(v, 4, load, 4, &vm, 1,
						&pvmm_test_params, 0), 0U);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, v[i].why, (u8)PVMM_PLACE_STAY_NO_BETTER);
		KUNIT_EXPECT_EQ(test, v[i].target, v[i].cpu);
	}
	/* CPU 1 of its mask is now idle: it goes there, not to 2 or 3 */
	v[0] = pvmm_test_vcpu(&two, 0, PCT(66), 0);
	load[1] = 0;
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(v, 1, load, 4, &vm, 1,
						&pvmm_test_params, 0), 1U);
	KUNIT_EXPECT_EQ(test, v[0].target, 1U);
	/* bits beyond nr_cpus are not CPUs */
	two = BIT(0) | BIT(5);
	v[0] = pvmm_test_vcpu(&two, 0, PCT(66), 0);
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(v, 1, load, 4, &vm, 1,
						&pvmm_test_params, 0), 0U);
	KUNIT_EXPECT_EQ(test, v[0].target, 0U);
}

/* Hysteresis: a threshold, a gain to be had, a residence time. */
static void pvmm_test_place_hysteresis(struct kunit *test)
{
	unsigned long all = 0x3;
	u32 load[2] = { 2 * ONE, ONE };
	struct pvmm_place_vm vm = { .weight = 1 };
	struct pvmm_place_vcpu v;

	/* below steal_min, even with somewhere better to go */
	load[1] = 0;
	v = pvmm_test_vcpu(&all, 0, PCT(19), 0);
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(&v, 1, load, 2, &vm, 1,
						&pvmm_test_params, 0), 0U);
	KUNIT_EXPECT_EQ(test, v.why, (u8)PVMM_PLACE_STAY_LOW_STEAL);
	/* 55 % here against 50 % expected there: not worth it */
	load[1] = ONE;
	v = pvmm_test_vcpu(&all, 0, PCT(55), 0);
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(&v, 1, load, 2, &vm, 1,
						&pvmm_test_params, 0), 0U);
	KUNIT_EXPECT_EQ(test, v.why, (u8)PVMM_PLACE_STAY_NO_BETTER);
	/* 66 % here (two others) against 50 %: moves */
	load[0] = 3 * ONE;
	v = pvmm_test_vcpu(&all, 0, PCT(66), 0);
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(&v, 1, load, 2, &vm, 1,
						&pvmm_test_params, 0), 1U);
	KUNIT_EXPECT_EQ(test, v.expected, PCT(50));
	/* the same, but it moved 999 ms ago: stays; 1000 ms: moves */
	load[0] = 3 * ONE;
	load[1] = ONE;
	v = pvmm_test_vcpu(&all, 0, PCT(66), 0);
	v.placed_at = 1 * MS;
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(&v, 1, load, 2, &vm, 1,
						&pvmm_test_params, 1000 * MS),
			0U);
	KUNIT_EXPECT_EQ(test, v.why, (u8)PVMM_PLACE_STAY_RESIDENCE);
	/* a clock that went back: too recent too */
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(&v, 1, load, 2, &vm, 1,
						&pvmm_test_params, 0), 0U);
	KUNIT_EXPECT_EQ(test, v.why, (u8)PVMM_PLACE_STAY_RESIDENCE);
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(&v, 1, load, 2, &vm, 1,
						&pvmm_test_params, 1001 * MS),
			1U);
	KUNIT_EXPECT_EQ(test, v.target, 1U);
}

/*
 * Two threads suffer beside a hog on CPU 0 and CPU 1 is idle: one moves;
 * then the other's steal where it is drops to 50 %, as on CPU 1: it stays.
 */
static void pvmm_test_place_round(struct kunit *test)
{
	unsigned long all = 0x3;
	u32 load[2] = { pvmm_place_thread_load(PCT(34), PCT(66)) };
	struct pvmm_place_vm vm = { .weight = 1 };
	struct pvmm_place_vcpu v[2] = {
		pvmm_test_vcpu(&all, 0, PCT(66), 0),
		pvmm_test_vcpu(&all, 0, PCT(66), 0),
	};

	KUNIT_EXPECT_EQ(test, pvmm_place_decide(v, 2, load, 2, &vm, 1,
						&pvmm_test_params, 0), 1U);
	KUNIT_EXPECT_EQ(test, v[0].why + v[1].why,
			PVMM_PLACE_MOVE + PVMM_PLACE_STAY_NO_BETTER);
	KUNIT_EXPECT_EQ(test, load[1], ONE);
}

/* The moves of a round are shared by the VMs' weights. */
static void pvmm_test_place_fairness(struct kunit *test)
{
	unsigned long all = 0xffff;
	u32 load[16] = { 8 * ONE };
	struct pvmm_place_vm vms[3] = { { .weight = 300 }, { .weight = 100 },
					{ .weight = 0 } };
	struct pvmm_place_params p = pvmm_test_params;
	struct pvmm_place_vcpu v[9];
	unsigned int i;

	/* VM 1 suffers more, but VM 0 weighs three times as much */
	for (i = 0; i < 4; i++) {
		v[i] = pvmm_test_vcpu(&all, 0, PCT(80), 0);
		v[4 + i] = pvmm_test_vcpu(&all, 0, PCT(87), 1);
	}
	v[8] = pvmm_test_vcpu(&all, 0, PCT(87), 2);
	p.max_moves = 4;
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(v, 9, load, 16, vms, 3, &p, 0),
			4U);
	KUNIT_EXPECT_EQ(test, vms[0].moved, 3U);
	KUNIT_EXPECT_EQ(test, vms[1].moved, 1U);
	KUNIT_EXPECT_EQ(test, vms[2].moved, 0U);
	for (i = 0; i < 9; i++) {
		if (v[i].vm == 2)
			KUNIT_EXPECT_EQ(test, v[i].why,
					(u8)PVMM_PLACE_STAY_INVALID);
		else if (v[i].why != PVMM_PLACE_MOVE)
			KUNIT_EXPECT_EQ(test, v[i].why,
					(u8)PVMM_PLACE_STAY_BUDGET);
		/* never two onto one CPU while idle ones remain */
		if (v[i].why == PVMM_PLACE_MOVE)
			KUNIT_EXPECT_EQ(test, v[i].expected, 0U);
	}
	/* one move a round: the most steal times weight goes first */
	p.max_moves = 1;
	v[0] = pvmm_test_vcpu(&all, 0, PCT(60), 0);
	v[1] = pvmm_test_vcpu(&all, 0, PCT(90), 1);
	vms[0].weight = 100;
	vms[1].weight = 200;
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(v, 2, load, 16, vms, 2, &p, 0),
			1U);
	KUNIT_EXPECT_EQ(test, v[0].vm, 1U);
	KUNIT_EXPECT_EQ(test, v[0].why, (u8)PVMM_PLACE_MOVE);
	KUNIT_EXPECT_EQ(test, v[1].why, (u8)PVMM_PLACE_STAY_BUDGET);
	vms[1].weight = 10;
	v[0] = pvmm_test_vcpu(&all, 0, PCT(60), 0);
	v[1] = pvmm_test_vcpu(&all, 0, PCT(90), 1);
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(v, 2, load, 16, vms, 2, &p, 0),
			1U);
	KUNIT_EXPECT_EQ(test, v[0].vm, 0U);
	KUNIT_EXPECT_EQ(test, v[0].why, (u8)PVMM_PLACE_MOVE);
	/* an out-of-range VM index is refused, and nothing is touched */
	v[0] = pvmm_test_vcpu(&all, 0, PCT(90), 7);
	KUNIT_EXPECT_EQ(test, pvmm_place_decide(v, 1, load, 16, vms, 2, &p, 0),
			0U);
	KUNIT_EXPECT_EQ(test, v[0].why, (u8)PVMM_PLACE_STAY_INVALID);
}

static void pvmm_test_guest_reader(struct kunit *test)
{
	struct pvmm_steal_record r = { .steal = 1234, .version = 4,
				       .steal_rate = 99 };
	u64 steal = 0;
	u32 rate = 0;

	pvmm_test_rec = &r;
	pvmm_test_rmb_calls = 0;
	pvmm_test_rmb_write = 0;
	KUNIT_EXPECT_TRUE(test, pvmm_steal_try_read(&r, &steal, &rate));
	KUNIT_EXPECT_EQ(test, steal, 1234ULL);
	KUNIT_EXPECT_EQ(test, rate, 99U);
	/* the host is writing */
	r.version = 5;
	KUNIT_EXPECT_FALSE(test, pvmm_steal_try_read(&r, &steal, &rate));
	/* the host began writing after the version was read */
	r.version = 6;
	pvmm_test_rmb_calls = 0;
	pvmm_test_rmb_write = 2;
	KUNIT_EXPECT_FALSE(test, pvmm_steal_try_read(&r, &steal, &rate));
	/* odd at first, done by the next barrier: the loop reads again */
	r.version = 7;
	r.steal = 5678;
	pvmm_test_rmb_calls = 0;
	pvmm_test_rmb_write = 1;
	KUNIT_EXPECT_EQ(test, pvmm_steal_read(&r, &rate), 5678ULL);
	KUNIT_EXPECT_EQ(test, pvmm_test_rmb_calls, 4);
	pvmm_test_rmb_write = 0;
}

static void pvmm_test_guest_congested(struct kunit *test)
{
	u32 rates[6] = { 0, PCT(20), PCT(50), PVMM_STEAL_RATE_ONE, U32_MAX,
			 PCT(49) };
	unsigned long mask = ~0UL;

	KUNIT_EXPECT_EQ(test, pvmm_steal_congested(rates, 6, PCT(50), &mask),
			3U);
	KUNIT_EXPECT_EQ(test, mask, BIT(2) | BIT(3) | BIT(4));
	/* only the first n */
	KUNIT_EXPECT_EQ(test, pvmm_steal_congested(rates, 3, PCT(50), &mask),
			1U);
	KUNIT_EXPECT_EQ(test, mask, BIT(2));
	KUNIT_EXPECT_EQ(test, pvmm_steal_congested(rates, 6, 0, &mask), 0U);
	KUNIT_EXPECT_EQ(test, mask, 0UL);
	/* a threshold above 100 % marks none, even a bogus rate */
	KUNIT_EXPECT_EQ(test, pvmm_steal_congested(rates, 6,
						   PVMM_STEAL_RATE_ONE + 1,
						   &mask), 0U);
}

static struct kunit_case pvmm_sched_core_cases[] = {
	KUNIT_CASE(pvmm_test_steal_accounting),
	KUNIT_CASE(pvmm_test_steal_rate),
	KUNIT_CASE(pvmm_test_steal_publish),
	KUNIT_CASE(pvmm_test_place_load),
	KUNIT_CASE(pvmm_test_place_moves),
	KUNIT_CASE(pvmm_test_place_mask),
	KUNIT_CASE(pvmm_test_place_hysteresis),
	KUNIT_CASE(pvmm_test_place_round),
	KUNIT_CASE(pvmm_test_place_fairness),
	KUNIT_CASE(pvmm_test_guest_reader),
	KUNIT_CASE(pvmm_test_guest_congested),
	{}
};

static struct kunit_suite pvmm_sched_core_suite = {
	.name = "pvmm-sched-core",
	.test_cases = pvmm_sched_core_cases,
};

kunit_test_suite(pvmm_sched_core_suite);

#endif /* _PVMM_SCHED_CORE_TEST_H */
