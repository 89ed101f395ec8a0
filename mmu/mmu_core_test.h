/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit tests of the PV MMU core, included at the end of mmu_core.c.
 * Guest memory is a plain array; every test checks the whole frame table
 * against counts recomputed from scratch out of the page-table contents.
 */
#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/vmalloc.h>

#include <pvmm/mmu_batch.h>

#define T_FRAMES	1040	/* 1024 of RAM, then a hole */
#define T_RAM		1024
#define T_POOL		32

struct t_env {
	struct pvmm_mmu m;
	struct pvmm_mmu_test_mem tm;
	struct pvmm_mmu_mem gm;
	u64 *mem;
	struct pvmm_mmu_vcpu v[2];
	int ad_inject;		/* A/D move under cmpxchg: once (1), always (-1) */
};

static u64 *t_pte(struct t_env *env, u64 gpa)
{
	return &env->mem[gpa / sizeof(u64)];
}

static int t_read(void *ctx, u64 gpa, u64 *val)
{
	struct t_env *env = ctx;

	if (gpa >= (u64)T_RAM * PAGE_SIZE)
		return -EFAULT;
	*val = READ_ONCE(*t_pte(env, gpa));
	return 0;
}

static int t_cmpxchg(void *ctx, u64 gpa, u64 *old, u64 new)
{
	struct t_env *env = ctx;
	u64 *p;

	if (gpa >= (u64)T_RAM * PAGE_SIZE)
		return -EFAULT;
	p = t_pte(env, gpa);
	if (env->ad_inject < 0) {
		*p ^= PVMM_PTE_A;	/* never settles */
	} else if (env->ad_inject) {
		env->ad_inject = 0;
		*p |= PVMM_PTE_A | PVMM_PTE_D;
	}
	if (*p != *old) {
		*old = *p;
		return 1;
	}
	*p = new;
	return 0;
}

static bool t_root_in_use(void *ctx, u64 gfn)
{
	struct t_env *env = ctx;

	return env->v[0].base == gfn + 1 || env->v[1].base == gfn + 1;
}

static const struct pvmm_mmu_test_mem t_mem_ops = {
	.read = t_read,
	.xchg_entry = t_cmpxchg,
	.root_in_use = t_root_in_use,
};

static struct t_env *t_env_new(struct kunit *test, u64 flags)
{
	struct t_env *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, env);
	env->mem = vzalloc(T_FRAMES * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, env->mem);
	env->tm = t_mem_ops;
	env->tm.ctx = env;
	env->gm.test = &env->tm;
	KUNIT_ASSERT_EQ(test, pvmm_mmu_init(&env->m, T_FRAMES, flags, &env->gm),
			0);
	pvmm_mmu_set_ram(&env->m, 0, T_RAM, true);
	env->v[1].id = 1;
	return env;
}

static void t_env_free(struct t_env *env)
{
	pvmm_mmu_destroy(&env->m);
	vfree(env->mem);
}

static u64 t_e(u64 gfn, u64 flags)
{
	return (gfn << PAGE_SHIFT) | flags;
}

static void t_poke(struct t_env *env, u64 gfn, unsigned int idx, u64 val)
{
	env->mem[gfn * PVMM_MMU_ENTRIES + idx] = val;
}

/* Finish whatever walk is pending, in steps of @step work units. */
static int t_run(struct t_env *env, struct pvmm_mmu_vcpu *v, long step)
{
	long budget;
	int r;

	do {
		budget = step;
		r = pvmm_mmu_run(&env->m, v, &budget);
	} while (r == -EAGAIN);
	return r;
}

/* Apply one entry to the end, as a vCPU's repeated calls would. */
static int t_apply_step(struct t_env *env, struct pvmm_mmu_vcpu *v, u64 ptr,
			u64 val, long step)
{
	struct pvmm_mmu_update u = { .ptr = ptr, .val = val };
	long budget = step;
	int r, r2;

	r = pvmm_mmu_apply(&env->m, v, &u, &budget);
	if (r == PVMM_MMU_PENDING) {
		r = t_run(env, v, step);
		if (r == 1)
			r = 0;
	}
	r2 = t_run(env, v, step);	/* a teardown the entry started */
	return r2 < 0 ? r2 : r;
}

static int t_apply(struct t_env *env, u64 ptr, u64 val)
{
	return t_apply_step(env, &env->v[0], ptr, val, 1000000);
}

static int t_ext(struct t_env *env, unsigned int op, u64 gfn, u64 val)
{
	return t_apply(env, PVMM_MMU_EXT_CMD(op, gfn << PAGE_SHIFT), val);
}

/*
 * Recompute every count from the page-table contents and compare it with
 * the frame table; check every rule on the way.
 */
static void t_check(struct kunit *test, struct t_env *env)
{
	struct pvmm_mmu *m = &env->m;
	u64 nr_type[PVMM_MMU_TYPE_L4 + 1], nr_pinned = 0;
	u32 *refs, *wr, *tc;
	u8 *want;
	u64 f, i;

	KUNIT_ASSERT_FALSE(test, m->broken);
	KUNIT_ASSERT_EQ(test, m->depth, 0U);
	refs = kunit_kcalloc(test, T_FRAMES, sizeof(u32), GFP_KERNEL);
	wr = kunit_kcalloc(test, T_FRAMES, sizeof(u32), GFP_KERNEL);
	tc = kunit_kcalloc(test, T_FRAMES, sizeof(u32), GFP_KERNEL);
	want = kunit_kzalloc(test, T_FRAMES, GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, refs && wr && tc && want);

	for (f = 0; f < T_FRAMES; f++) {
		unsigned int type = pvmm_ft_type(m->ft[f]), level, idx;

		KUNIT_ASSERT_FALSE(test, m->ft[f] & PVMM_FT_BUSY);
		if (m->ft[f] & PVMM_FT_PINNED) {
			KUNIT_ASSERT_EQ(test, type, PVMM_MMU_TYPE_L4);
			want[f] = PVMM_MMU_TYPE_L4;
			tc[f]++;
		}
		if (type < PVMM_MMU_TYPE_L1)
			continue;
		KUNIT_ASSERT_TRUE(test, f < T_RAM);
		level = type - PVMM_MMU_TYPE_L1 + 1;
		for (idx = 0; idx < PVMM_MMU_ENTRIES; idx++) {
			u64 e = env->mem[f * PVMM_MMU_ENTRIES + idx], t;

			if (!(e & PVMM_PTE_P))
				continue;
			KUNIT_ASSERT_EQ_MSG(test, pvmm_mmu_check_entry(m, level, e, &t),
					    0, "frame %llu entry %u: %llx", f, idx, e);
			if (level == 2 && (e & PVMM_PTE_PS)) {
				for (i = 0; i < PVMM_LARGE_FRAMES; i++) {
					refs[t + i]++;
					wr[t + i] += !!(e & PVMM_PTE_RW);
				}
			} else if (level == 4 && t == f) {
				KUNIT_ASSERT_FALSE(test, e & PVMM_PTE_RW);
				refs[t]++;
			} else if (level == 1) {
				refs[t]++;
				wr[t] += !!(e & PVMM_PTE_RW);
			} else {
				refs[t]++;
				KUNIT_ASSERT_TRUE(test, !want[t] ||
						  want[t] == type - 1);
				want[t] = type - 1;
				tc[t]++;
			}
		}
	}
	for (f = 0; f < T_FRAMES; f++) {
		u64 x = m->ft[f];

		KUNIT_ASSERT_EQ_MSG(test, pvmm_ft_refs(x), refs[f], "frame %llu", f);
		if (wr[f]) {
			/* Never writable and a page table at once. */
			KUNIT_ASSERT_EQ_MSG(test, want[f], 0, "frame %llu", f);
			KUNIT_ASSERT_EQ(test, pvmm_ft_type(x),
					PVMM_MMU_TYPE_WRITABLE);
			KUNIT_ASSERT_EQ(test, pvmm_ft_tcount(x), wr[f]);
		} else if (want[f]) {
			KUNIT_ASSERT_EQ_MSG(test, pvmm_ft_type(x), want[f],
					    "frame %llu", f);
			KUNIT_ASSERT_EQ(test, pvmm_ft_tcount(x), tc[f]);
		} else {
			KUNIT_ASSERT_EQ_MSG(test, pvmm_ft_type(x),
					    PVMM_MMU_TYPE_NONE, "frame %llu", f);
			KUNIT_ASSERT_EQ(test, pvmm_ft_tcount(x), 0U);
		}
	}
	for (i = 0; i < 2; i++)
		if (env->v[i].base)
			KUNIT_ASSERT_TRUE(test, m->ft[env->v[i].base - 1] &
					  PVMM_FT_PINNED);
	/* the running counts agree with the table */
	memset(nr_type, 0, sizeof(nr_type));
	for (f = 0; f < T_FRAMES; f++) {
		nr_type[pvmm_ft_type(m->ft[f])]++;
		nr_pinned += !!(m->ft[f] & PVMM_FT_PINNED);
	}
	for (i = 0; i < ARRAY_SIZE(nr_type); i++)
		KUNIT_ASSERT_EQ_MSG(test, m->nr_type[i], nr_type[i], "type %llu", i);
	KUNIT_ASSERT_EQ(test, m->nr_pinned, nr_pinned);
}

#define RWP	(PVMM_PTE_P | PVMM_PTE_RW)

/* L4 1 -> L3 2 -> L2 3 -> L1 4 -> data 10 (rw), 11 (ro) */
static void t_tree(struct t_env *env)
{
	t_poke(env, 1, 0, t_e(2, RWP));
	t_poke(env, 2, 0, t_e(3, RWP));
	t_poke(env, 3, 0, t_e(4, RWP));
	t_poke(env, 4, 0, t_e(10, RWP));
	t_poke(env, 4, 1, t_e(11, PVMM_PTE_P));
}

static void pvmm_mmu_test_pin_tree(struct kunit *test)
{
	struct t_env *env = t_env_new(test, 0);
	struct pvmm_mmu *m = &env->m;
	u64 f;

	t_tree(env);
	KUNIT_ASSERT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, 1, 0), 0);
	t_check(test, env);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(m->ft[1]), PVMM_MMU_TYPE_L4);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(m->ft[2]), PVMM_MMU_TYPE_L3);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(m->ft[3]), PVMM_MMU_TYPE_L2);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(m->ft[4]), PVMM_MMU_TYPE_L1);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(m->ft[10]), PVMM_MMU_TYPE_WRITABLE);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(m->ft[11]), PVMM_MMU_TYPE_NONE);
	KUNIT_EXPECT_EQ(test, pvmm_ft_refs(m->ft[11]), 1U);
	/* Pinning twice, and unpinning what is not pinned, fail. */
	KUNIT_EXPECT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, 1, 0), -EBUSY);
	KUNIT_EXPECT_EQ(test, t_ext(env, PVMM_MMU_EXT_UNPIN, 2, 0), -EINVAL);
	/* A pinned root in use as a base stays pinned. */
	KUNIT_EXPECT_EQ(test, t_ext(env, PVMM_MMU_EXT_NEW_BASEPTR, 1, 0), 0);
	KUNIT_EXPECT_EQ(test, t_ext(env, PVMM_MMU_EXT_UNPIN, 1, 0), -EBUSY);
	KUNIT_EXPECT_EQ(test, t_ext(env, PVMM_MMU_EXT_NEW_BASEPTR, 2, 0),
			-EINVAL);

	KUNIT_EXPECT_EQ(test, pvmm_mmu_translate(m, &env->v[0], 0, 0),
			10LL << PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_translate(m, &env->v[0], 0x1234,
						 PVMM_MMU_ACCESS_WRITE),
			-EACCES);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_translate(m, &env->v[0], 0x1234, 0),
			(11LL << PAGE_SHIFT) + 0x234);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_translate(m, &env->v[0], 0x2000, 0),
			-ENOENT);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_translate(m, &env->v[0],
						 0x0000800000000000ULL, 0),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_translate(m, &env->v[1], 0, 0), -EINVAL);

	env->v[0].base = 0;
	KUNIT_ASSERT_EQ(test, t_ext(env, PVMM_MMU_EXT_UNPIN, 1, 0), 0);
	t_check(test, env);
	for (f = 0; f < T_FRAMES; f++)
		KUNIT_EXPECT_EQ(test, m->ft[f] & ~PVMM_FT_RAM & ~PVMM_FT_STALE,
				0ULL);
	t_env_free(env);
}

/* Each attack is rejected with the tree and every count intact. */
static void pvmm_mmu_test_attacks(struct kunit *test)
{
	struct t_env *env = t_env_new(test, PVMM_MMU_F_SUPERPAGES);
	u64 before;

	t_tree(env);
	KUNIT_ASSERT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, 1, 0), 0);

	/* A page-table frame mapped writable, directly. */
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 16, t_e(3, RWP)), -EPERM);
	/* Read-only is fine; making it writable later is not (XSA-182). */
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 16,
				      t_e(3, PVMM_PTE_P)), 0);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 16, t_e(3, RWP)), -EPERM);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 16 + PVMM_MMU_PT_UPDATE_AD,
				      t_e(3, RWP | PVMM_PTE_A)), -EPERM);
	/* Through a superpage over the tree (frames 0-511). */
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8,
				      t_e(0, RWP | PVMM_PTE_PS)), -EPERM);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8,
				      t_e(0, PVMM_PTE_P | PVMM_PTE_PS)), 0);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8,
				      t_e(0, RWP | PVMM_PTE_PS)), -EPERM);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8,
				      t_e(1, PVMM_PTE_P | PVMM_PTE_PS)), -EINVAL);
	/* A writable superpage elsewhere, then a table inside it. */
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 16,
				      t_e(512, RWP | PVMM_PTE_PS)), 0);
	t_poke(env, 600, 0, 0);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 24, t_e(600, RWP)),
			-EBUSY);
	/* The linear mapping: read-only to itself only. */
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(1, 0) + 511 * 8, t_e(1, RWP)),
			-EPERM);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(1, 0) + 511 * 8,
				      t_e(1, PVMM_PTE_P)), 0);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(1, 0) + 511 * 8, t_e(1, RWP)),
			-EPERM);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(1, 0) + 510 * 8,
				      t_e(5, PVMM_PTE_P)), 0);	/* empty L3 */
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 5 * 8, t_e(5, RWP)),
			-EPERM);
	/* Outside the memslots. */
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 24,
				      t_e(T_RAM + 3, PVMM_PTE_P)), -EFAULT);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 24,
				      t_e(1ULL << 39, PVMM_PTE_P)), -EFAULT);
	/* A type change while referenced: writable data 10 as a table. */
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 32, t_e(10, RWP)),
			-EBUSY);
	/* Another L4 as a table is a type change too. */
	t_poke(env, 20, 0, 0);
	KUNIT_ASSERT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, 20, 0), 0);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(1, 0) + 8, t_e(20, PVMM_PTE_P)),
			-EBUSY);
	/* Not a page table, unknown commands and ops. */
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(10, 0), 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 3, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 7, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, t_ext(env, 100, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, t_ext(env, PVMM_MMU_EXT_FLUSH_ALL, 3, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, T_RAM + 1, 0),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, 10, 0), -EBUSY);
	t_check(test, env);

	/* Count overflow is refused, not wrapped. */
	before = env->m.ft[11];
	env->m.ft[11] |= PVMM_FT_REFS;
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 48, t_e(11, PVMM_PTE_P)),
			-EOVERFLOW);
	KUNIT_EXPECT_EQ(test, env->mem[4 * PVMM_MMU_ENTRIES + 6], 0ULL);
	env->m.ft[11] = before;
	t_check(test, env);
	t_env_free(env);
}

struct t_bits_case {
	unsigned int level;
	u64 bits;
	int err;
};

static const struct t_bits_case t_bits_cases[] = {
	{ 1, PVMM_PTE_PWT, -EINVAL }, { 1, PVMM_PTE_PCD, -EINVAL },
	{ 1, PVMM_PTE_PS, -EINVAL }, { 1, BIT_ULL(59), -EINVAL },
	{ 1, BIT_ULL(62), -EINVAL }, { 1, PVMM_PTE_G, 0 },
	{ 1, PVMM_PTE_NX | PVMM_PTE_US | BIT_ULL(9) | BIT_ULL(58), 0 },
	{ 2, PVMM_PTE_PWT, -EINVAL }, { 2, PVMM_PTE_PCD, -EINVAL },
	{ 2, PVMM_PTE_G, -EINVAL }, { 2, PVMM_PTE_PS, -EINVAL },
	{ 2, BIT_ULL(60), -EINVAL }, { 2, PVMM_PTE_NX, 0 },
	{ 3, PVMM_PTE_PS, -EINVAL }, { 3, PVMM_PTE_G, -EINVAL },
	{ 3, PVMM_PTE_PCD, -EINVAL }, { 3, BIT_ULL(61), -EINVAL },
	{ 3, PVMM_PTE_NX, 0 },
	{ 4, PVMM_PTE_PS, -EINVAL }, { 4, PVMM_PTE_G, -EINVAL },
	{ 4, PVMM_PTE_PWT, -EINVAL }, { 4, BIT_ULL(62), -EINVAL },
	{ 4, PVMM_PTE_US, 0 },
};

/* Every forbidden bit at every level, superpages off. */
static void pvmm_mmu_test_bits(struct kunit *test)
{
	struct t_env *env = t_env_new(test, 0);
	/* the table of each level and a fresh frame of the level below */
	static const u64 table[5] = { 0, 4, 3, 2, 1 };
	static const u64 lower[5] = { 0, 12, 6, 7, 8 };
	unsigned int i;

	t_tree(env);
	KUNIT_ASSERT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, 1, 0), 0);
	for (i = 0; i < ARRAY_SIZE(t_bits_cases); i++) {
		const struct t_bits_case *c = &t_bits_cases[i];
		u64 ptr = t_e(table[c->level], 0) + 8 * (100 + i);
		u64 val = t_e(lower[c->level], PVMM_PTE_P) | c->bits;

		KUNIT_EXPECT_EQ_MSG(test, t_apply(env, ptr, val), c->err,
				    "level %u bits %llx", c->level, c->bits);
		KUNIT_EXPECT_EQ(test, *t_pte(env, ptr), c->err ? 0 : val);
		if (!c->err)
			KUNIT_EXPECT_EQ(test, t_apply(env, ptr, 0), 0);
		t_check(test, env);
	}
	/* Superpages: reserved bits, PAT, alignment. */
	env->m.flags = PVMM_MMU_F_SUPERPAGES;
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8,
				      t_e(512, PVMM_PTE_P | PVMM_PTE_PS |
					  PVMM_PTE_LARGE_PAT)), -EINVAL);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8,
				      t_e(513, PVMM_PTE_P | PVMM_PTE_PS)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8,
				      t_e(1024, PVMM_PTE_P | PVMM_PTE_PS)),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8,
				      t_e(512, PVMM_PTE_P | PVMM_PTE_PS |
					  PVMM_PTE_G)), 0);
	t_check(test, env);
	t_env_free(env);
}

/* Frames leave a type only at count zero, and a reused one is flushed. */
static void pvmm_mmu_test_types(struct kunit *test)
{
	struct t_env *env = t_env_new(test, 0);
	struct pvmm_mmu_flush *fl = &env->v[0].flush;

	t_tree(env);
	KUNIT_ASSERT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, 1, 0), 0);
	/* 10 is mapped writable twice: not a table until both are gone. */
	KUNIT_ASSERT_EQ(test, t_apply(env, t_e(4, 0) + 8 * 7, t_e(10, RWP)), 0);
	KUNIT_EXPECT_EQ(test, pvmm_ft_tcount(env->m.ft[10]), 2U);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8, t_e(10, RWP)), -EBUSY);
	KUNIT_ASSERT_EQ(test, t_apply(env, t_e(4, 0), 0), 0);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8, t_e(10, RWP)), -EBUSY);
	/* Read-only is fine alongside. */
	KUNIT_ASSERT_EQ(test, t_apply(env, t_e(4, 0), t_e(10, PVMM_PTE_P)), 0);
	KUNIT_ASSERT_EQ(test, t_apply(env, t_e(4, 0) + 8 * 7, 0), 0);
	memset(fl, 0, sizeof(*fl));
	memset(&env->mem[10 * PVMM_MMU_ENTRIES], 0, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(3, 0) + 8, t_e(10, RWP)), 0);
	/* It was writable: every vCPU must flush before it is a table. */
	KUNIT_EXPECT_EQ(test, fl->flags, PVMM_MMU_FLUSH_FULL);
	KUNIT_EXPECT_EQ(test, fl->vcpus, PVMM_MMU_FLUSH_EVERY_VCPU);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(env->m.ft[10]), PVMM_MMU_TYPE_L1);
	t_check(test, env);
	/* Dropping the last reference to a subtree tears it down. */
	KUNIT_ASSERT_EQ(test, t_apply(env, t_e(1, 0), 0), 0);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(env->m.ft[2]), PVMM_MMU_TYPE_NONE);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(env->m.ft[3]), PVMM_MMU_TYPE_NONE);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(env->m.ft[10]), PVMM_MMU_TYPE_NONE);
	KUNIT_EXPECT_EQ(test, pvmm_ft_refs(env->m.ft[11]), 0U);
	t_check(test, env);
	t_env_free(env);
}

/* Hardware A/D bits set during the write survive PT_UPDATE_AD. */
static void pvmm_mmu_test_ad(struct kunit *test)
{
	struct t_env *env = t_env_new(test, 0);
	u64 *pte = &env->mem[4 * PVMM_MMU_ENTRIES + 1];

	t_tree(env);
	KUNIT_ASSERT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, 1, 0), 0);
	env->ad_inject = 1;
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 8 + PVMM_MMU_PT_UPDATE_AD,
				      t_e(11, PVMM_PTE_P | PVMM_PTE_NX)), 0);
	KUNIT_EXPECT_EQ(test, *pte, t_e(11, PVMM_PTE_P | PVMM_PTE_NX |
					PVMM_PTE_A | PVMM_PTE_D));
	/* A plain update writes exactly the guest's value. */
	env->ad_inject = 1;
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 8, t_e(11, PVMM_PTE_P)),
			0);
	KUNIT_EXPECT_EQ(test, *pte, t_e(11, PVMM_PTE_P));
	/* A/D bits that never settle: refused, nothing taken. */
	env->ad_inject = -1;
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 8, t_e(13, RWP)), -EBUSY);
	env->ad_inject = 0;
	*pte &= ~PVMM_PTE_A;
	KUNIT_EXPECT_EQ(test, *pte, t_e(11, PVMM_PTE_P));
	KUNIT_EXPECT_EQ(test, pvmm_ft_refs(env->m.ft[13]), 0U);
	t_check(test, env);
	/* Another frame: the old A/D bits do not carry over. */
	*pte |= PVMM_PTE_A | PVMM_PTE_D;
	KUNIT_EXPECT_EQ(test, t_apply(env, t_e(4, 0) + 8 + PVMM_MMU_PT_UPDATE_AD,
				      t_e(12, PVMM_PTE_P)), 0);
	KUNIT_EXPECT_EQ(test, *pte, t_e(12, PVMM_PTE_P));
	t_check(test, env);
	t_env_free(env);
}

/* A long validation in one-unit steps; an abandoned one unwinds. */
static void pvmm_mmu_test_continuation(struct kunit *test)
{
	struct t_env *env = t_env_new(test, 0);
	struct pvmm_mmu_update u = {
		.ptr = PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_PIN_L4, PAGE_SIZE),
	};
	unsigned int i, steps = 0;
	long budget;
	int r;

	/* 1 -> 2..9 (L3) -> 40..47 (L2) each -> 100 (L1) -> data 200.. */
	for (i = 0; i < 8; i++) {
		t_poke(env, 1, i, t_e(2 + i, RWP));
		t_poke(env, 2 + i, 0, t_e(40 + i, RWP));
		t_poke(env, 40 + i, 0, t_e(100, RWP));
	}
	for (i = 0; i < 300; i++)
		t_poke(env, 100, i, t_e(200 + i, RWP));
	/* A bad entry at the very end of the last table. */
	t_poke(env, 100, 511, t_e(201, RWP | PVMM_PTE_PCD));

	budget = 1;
	KUNIT_ASSERT_EQ(test, pvmm_mmu_apply(&env->m, &env->v[0], &u, &budget),
			PVMM_MMU_PENDING);
	do {
		budget = 1;
		r = pvmm_mmu_run(&env->m, &env->v[0], &budget);
		steps++;
		/* Another vCPU waits while the walk is someone's. */
		if (r == -EAGAIN) {
			long b2 = 10;

			KUNIT_ASSERT_EQ(test, pvmm_mmu_run(&env->m, &env->v[1], &b2),
					PVMM_MMU_WAIT);
		}
	} while (r == -EAGAIN);
	KUNIT_EXPECT_EQ(test, r, -EINVAL);
	KUNIT_EXPECT_GT(test, steps, 512U);
	t_check(test, env);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(env->m.ft[1]), PVMM_MMU_TYPE_NONE);

	/* Fixed, pinned in 7-unit steps. */
	t_poke(env, 100, 511, 0);
	KUNIT_ASSERT_EQ(test, t_apply_step(env, &env->v[0], u.ptr, 0, 7), 0);
	t_check(test, env);
	KUNIT_EXPECT_EQ(test, pvmm_ft_tcount(env->m.ft[100]), 8U);
	KUNIT_EXPECT_EQ(test, pvmm_ft_tcount(env->m.ft[200]), 1U);

	/* Torn down, then abandoned halfway through a new validation. */
	KUNIT_ASSERT_EQ(test, t_apply_step(env, &env->v[0],
					   PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_UNPIN,
							    PAGE_SIZE), 0, 5), 0);
	t_check(test, env);
	budget = 300;
	KUNIT_ASSERT_EQ(test, pvmm_mmu_apply(&env->m, &env->v[0], &u, &budget),
			PVMM_MMU_PENDING);
	budget = 300;
	KUNIT_ASSERT_EQ(test, pvmm_mmu_run(&env->m, &env->v[0], &budget),
			-EAGAIN);
	pvmm_mmu_abort(&env->m, &env->v[0]);
	/* Now anyone finishes the unwinding. */
	KUNIT_EXPECT_EQ(test, t_run(env, &env->v[1], 3), 0);
	t_check(test, env);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(env->m.ft[100]), PVMM_MMU_TYPE_NONE);
	t_env_free(env);
}

static void pvmm_mmu_test_flush(struct kunit *test)
{
	struct pvmm_mmu_flush f = {};

	pvmm_mmu_flush_add(&f, BIT_ULL(2), false, 0x5123);
	KUNIT_EXPECT_EQ(test, f.flags, PVMM_MMU_FLUSH_ADDR);
	KUNIT_EXPECT_EQ(test, f.addr, 0x5000ULL);
	pvmm_mmu_flush_add(&f, BIT_ULL(3), false, 0x5fff);
	KUNIT_EXPECT_EQ(test, f.flags, PVMM_MMU_FLUSH_ADDR);
	KUNIT_EXPECT_EQ(test, f.vcpus, BIT_ULL(2) | BIT_ULL(3));
	pvmm_mmu_flush_add(&f, BIT_ULL(3), false, 0x6000);
	KUNIT_EXPECT_EQ(test, f.flags, PVMM_MMU_FLUSH_FULL);
	KUNIT_EXPECT_EQ(test, f.addr, 0ULL);
	pvmm_mmu_flush_add(&f, BIT_ULL(4), false, 0x7000);
	KUNIT_EXPECT_EQ(test, f.flags, PVMM_MMU_FLUSH_FULL);
	KUNIT_EXPECT_EQ(test, f.vcpus, BIT_ULL(2) | BIT_ULL(3) | BIT_ULL(4));
	memset(&f, 0, sizeof(f));
	pvmm_mmu_flush_add(&f, 0, true, 0);
	KUNIT_EXPECT_EQ(test, f.flags, 0ULL);
}

/*
 * Adversarial batches from a seeded generator: random targets, bits,
 * levels, pins, direct guest writes to frames that are no page table,
 * tiny budgets and abandoned walks. After every step the frame table
 * must match the recomputation, and a rejected entry changes nothing.
 */
static u64 t_rand_entry(struct rnd_state *rs)
{
	static const u64 flags[] = {
		PVMM_PTE_RW, PVMM_PTE_US, PVMM_PTE_A, PVMM_PTE_D, PVMM_PTE_NX,
		PVMM_PTE_G, PVMM_PTE_PS, PVMM_PTE_PCD, PVMM_PTE_PWT,
		BIT_ULL(9), BIT_ULL(60), PVMM_PTE_LARGE_PAT,
	};
	u32 x = prandom_u32_state(rs);
	u64 e = 0, gfn;
	unsigned int i;

	if (x % 10)
		e |= PVMM_PTE_P;
	if (x & 0x10)
		e |= PVMM_PTE_RW;
	/* A/D/NX/G/US/soft often, the forbidden ones now and then. */
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		if (prandom_u32_state(rs) % (i < 6 ? 4 : 40) == 0)
			e |= flags[i];
	x = prandom_u32_state(rs);
	switch (x % 20) {
	case 0:
		gfn = 512;			/* a superpage base */
		break;
	case 1:
		gfn = T_RAM + x % 16;		/* outside */
		break;
	default:
		gfn = x % T_POOL;
		break;
	}
	return e | (gfn << PAGE_SHIFT);
}

static void t_random_run(struct kunit *test, u64 seed, u64 flags,
			 unsigned int steps)
{
	struct t_env *env = t_env_new(test, flags);
	static const unsigned int idxs[] = { 0, 1, 2, 3, 511 };
	unsigned int step, applied = 0, rejected = 0, i, tables = 0;
	struct rnd_state rs;
	u64 *snap;

	snap = vmalloc(T_POOL * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, snap);
	prandom_seed_state(&rs, seed);
	for (step = 0; step < steps; step++) {
		u32 x = prandom_u32_state(&rs);
		struct pvmm_mmu_vcpu *v = &env->v[x & 1];
		long budget = 1 + prandom_u32_state(&rs) % 64;
		u64 gfn = prandom_u32_state(&rs) % T_POOL, ptr, val = 0;
		unsigned int idx = idxs[prandom_u32_state(&rs) % 5];
		u64 f = env->m.ft[gfn];
		struct pvmm_mmu_update u;
		int r;

		x >>= 1;
		/* Updates mostly aim at frames that are page tables. */
		for (i = 0; i < 8 && x % 100 >= 41; i++) {
			if (pvmm_ft_type(env->m.ft[gfn]) >= PVMM_MMU_TYPE_L1)
				break;
			gfn = prandom_u32_state(&rs) % T_POOL;
		}
		f = env->m.ft[gfn];
		if (x % 100 < 20 && pvmm_ft_type(f) < PVMM_MMU_TYPE_L1) {
			/* The guest writes a frame it may write. */
			t_poke(env, gfn, idx, t_rand_entry(&rs));
			continue;
		}
		switch (x % 100) {
		case 20 ... 29:
			ptr = PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_PIN_L4,
					       gfn << PAGE_SHIFT);
			break;
		case 30 ... 35:
			ptr = PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_UNPIN,
					       gfn << PAGE_SHIFT);
			break;
		case 36 ... 38:
			ptr = PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_NEW_BASEPTR,
					       gfn << PAGE_SHIFT);
			break;
		case 39:
			v->base = 0;
			continue;
		case 40:
			ptr = prandom_u32_state(&rs);
			val = ((u64)prandom_u32_state(&rs) << 32) |
			      prandom_u32_state(&rs);
			break;
		default:
			ptr = (gfn << PAGE_SHIFT) + idx * 8 +
			      (prandom_u32_state(&rs) % 8 == 0 ?
			       PVMM_MMU_PT_UPDATE_AD : PVMM_MMU_PT_UPDATE);
			val = t_rand_entry(&rs);
			break;
		}
		memcpy(snap, env->mem, T_POOL * PAGE_SIZE);
		u.ptr = ptr;
		u.val = val;
		r = pvmm_mmu_apply(&env->m, v, &u, &budget);
		if (r == PVMM_MMU_PENDING && prandom_u32_state(&rs) % 8 == 0) {
			/* The vCPU gives up halfway; the other one drains. */
			budget = prandom_u32_state(&rs) % 200;
			r = pvmm_mmu_run(&env->m, v, &budget);
			if (r == -EAGAIN) {
				pvmm_mmu_abort(&env->m, v);
				r = -EINTR;
			} else if (r == 1) {
				r = 0;
			}
		} else if (r == PVMM_MMU_PENDING) {
			r = t_run(env, v, 1 + prandom_u32_state(&rs) % 64);
			if (r == 1)
				r = 0;
		}
		KUNIT_ASSERT_EQ(test, t_run(env, &env->v[!(x & 1)], 17), 0);
		if (r) {
			rejected++;
			KUNIT_ASSERT_EQ_MSG(test, memcmp(snap, env->mem,
							 T_POOL * PAGE_SIZE), 0,
					    "step %u: rejected %llx %llx (%d) wrote",
					    step, ptr, val, r);
		} else {
			applied++;
		}
		t_check(test, env);
		for (i = 0, gfn = 0; gfn < T_POOL; gfn++)
			i += pvmm_ft_type(env->m.ft[gfn]) >= PVMM_MMU_TYPE_L1;
		tables = max(tables, i);
	}
	kunit_info(test, "seed %llu flags %llx: %u applied, %u rejected, up to %u tables\n",
		   seed, flags, applied, rejected, tables);
	KUNIT_EXPECT_GE(test, tables, 4U);
	/* The generator reaches both outcomes often enough to mean something. */
	KUNIT_EXPECT_GT(test, applied, steps / 10);
	KUNIT_EXPECT_GT(test, rejected, steps / 10);
	vfree(snap);
	t_env_free(env);
}

static void pvmm_mmu_test_random(struct kunit *test)
{
	u64 seed;

	for (seed = 1; seed <= 4; seed++) {
		t_random_run(test, seed, 0, 1500);
		t_random_run(test, seed, PVMM_MMU_F_SUPERPAGES, 1500);
	}
}

/* The guest library's queue, sent to the validator as the host would. */
static s64 t_submit(void *ctx, u64 gpa, u32 n, s64 *err)
{
	struct t_env *env = ctx;
	struct pvmm_mmu_update u;
	u32 i;
	int r;

	for (i = 0; i < n; i++) {
		memcpy(&u, (char *)env->mem + gpa + i * sizeof(u), sizeof(u));
		r = t_apply_step(env, &env->v[0], u.ptr, u.val, 100);
		if (r) {
			*err = r;
			break;
		}
	}
	return i;
}

static void pvmm_mmu_test_guest_queue(struct kunit *test)
{
	struct t_env *env = t_env_new(test, 0);
	struct pvmm_mmu_queue q;
	const u64 qgpa = 30 * PAGE_SIZE;
	unsigned int i;

	t_tree(env);
	KUNIT_ASSERT_EQ(test, t_ext(env, PVMM_MMU_EXT_PIN_L4, 1, 0), 0);
	pvmm_mmu_queue_init(&q, (void *)((char *)env->mem + qgpa), qgpa, 64,
			    t_submit, env);
	/* Outside a lazy section each write goes at once. */
	KUNIT_EXPECT_EQ(test, pvmm_mmu_queue_pte(&q, t_e(4, 0) + 16,
						 t_e(12, RWP)), 0);
	KUNIT_EXPECT_EQ(test, q.calls, 1ULL);
	KUNIT_EXPECT_EQ(test, env->mem[4 * PVMM_MMU_ENTRIES + 2], t_e(12, RWP));

	/* 300 writes in a lazy section: 64 per call, the rest at leave. */
	pvmm_mmu_lazy_enter(&q);
	pvmm_mmu_lazy_enter(&q);
	for (i = 0; i < 300; i++)
		KUNIT_EXPECT_EQ(test, pvmm_mmu_queue_pte(&q, t_e(4, 0) + 8 * (200 + i),
							 t_e(300 + i, RWP)), 0);
	KUNIT_EXPECT_EQ(test, q.calls, 5ULL);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_lazy_leave(&q), 0);
	KUNIT_EXPECT_EQ(test, q.calls, 5ULL);	/* still nested */
	KUNIT_EXPECT_EQ(test, env->mem[4 * PVMM_MMU_ENTRIES + 499], 0ULL);
	KUNIT_EXPECT_EQ(test, pvmm_mmu_lazy_leave(&q), 0);
	KUNIT_EXPECT_EQ(test, q.calls, 6ULL);
	KUNIT_EXPECT_EQ(test, env->mem[4 * PVMM_MMU_ENTRIES + 499],
			t_e(599, RWP));
	t_check(test, env);

	/* Back-to-back writes of one entry fold into one. */
	pvmm_mmu_lazy_enter(&q);
	pvmm_mmu_queue_pte(&q, t_e(4, 0) + 24, t_e(13, RWP));
	pvmm_mmu_queue_pte(&q, t_e(4, 0) + 24, t_e(14, PVMM_PTE_P));
	KUNIT_EXPECT_EQ(test, q.n, 1U);
	KUNIT_EXPECT_EQ(test, q.coalesced, 1ULL);
	/* A rejected entry stops the batch and its errno comes back. */
	pvmm_mmu_queue_pte(&q, t_e(4, 0) + 32, t_e(3, RWP));
	pvmm_mmu_queue_pte(&q, t_e(4, 0) + 40, t_e(15, RWP));
	KUNIT_EXPECT_EQ(test, pvmm_mmu_lazy_leave(&q), (s64)-EPERM);
	KUNIT_EXPECT_EQ(test, q.err, (s64)-EPERM);
	KUNIT_EXPECT_EQ(test, env->mem[4 * PVMM_MMU_ENTRIES + 3],
			t_e(14, PVMM_PTE_P));
	KUNIT_EXPECT_EQ(test, env->mem[4 * PVMM_MMU_ENTRIES + 4], 0ULL);
	KUNIT_EXPECT_EQ(test, env->mem[4 * PVMM_MMU_ENTRIES + 5], 0ULL);
	/* Ext ops queue like writes. */
	KUNIT_EXPECT_EQ(test, pvmm_mmu_queue_ext(&q, PVMM_MMU_EXT_UNPIN,
						 PAGE_SIZE, 0), 0);
	KUNIT_EXPECT_EQ(test, pvmm_ft_type(env->m.ft[1]), PVMM_MMU_TYPE_NONE);
	t_check(test, env);
	t_env_free(env);
}

static struct kunit_case pvmm_mmu_test_cases[] = {
	KUNIT_CASE(pvmm_mmu_test_pin_tree),
	KUNIT_CASE(pvmm_mmu_test_attacks),
	KUNIT_CASE(pvmm_mmu_test_bits),
	KUNIT_CASE(pvmm_mmu_test_types),
	KUNIT_CASE(pvmm_mmu_test_ad),
	KUNIT_CASE(pvmm_mmu_test_continuation),
	KUNIT_CASE(pvmm_mmu_test_flush),
	KUNIT_CASE(pvmm_mmu_test_guest_queue),
	KUNIT_CASE(pvmm_mmu_test_random),
	{}
};

static struct kunit_suite pvmm_mmu_test_suite = {
	.name = "pvmm-mmu-core",
	.test_cases = pvmm_mmu_test_cases,
};

kunit_test_suite(pvmm_mmu_test_suite);
