// SPDX-License-Identifier: GPL-2.0
/*
 * PV MMU selftests: a 4-level tree built, pinned, mapped, unmapped and
 * remapped in guest memory through batches, translations over it, and the
 * attacks on it, each of which must be rejected with the tree intact.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "mmu_lib.h"

/* Without the hub or the service, the whole program is skipped. */
static void __attribute__((constructor)) needs_services(void)
{
	const char *why = vmm_missing(1ULL << PVMM_SVC_MMU);

	if (why)
		ksft_exit_skip("%s\n", why);
}

#define RWP	(PTE_P | PTE_RW | PTE_US)

FIXTURE(mmu) {
	struct mmu_vm v;
	__u64 t[4];		/* L4, L3, L2, L1 */
};

FIXTURE_VARIANT(mmu) {
	__u64 flags;
};

FIXTURE_VARIANT_ADD(mmu, plain) {
	.flags = 0,
};

FIXTURE_VARIANT_ADD(mmu, superpages) {
	.flags = PVMM_MMU_F_SUPERPAGES,
};

FIXTURE_SETUP(mmu)
{
	ASSERT_EQ(0, mmu_vm_open(&self->v, variant->flags));
	ASSERT_EQ(0, mmu_tree(&self->v, self->t));
}

FIXTURE_TEARDOWN(mmu)
{
	mmu_vm_close(&self->v);
}

/* The L1 entry that maps guest-virtual page @n. */
static __u64 l1e(struct _test_data_mmu *self, int n)
{
	return self->t[3] + 8 * n;
}

static __s64 one(struct mmu_vm *v, __u64 ptr, __u64 val)
{
	struct pvmm_mmu_update *u = (void *)mmu_at(v, MMU_QUEUE);
	__s64 err = 0, r;

	u->ptr = ptr;
	u->val = val;
	r = mmu_batch(v, v->cur, MMU_QUEUE, 1, &err);
	return r == 1 ? 0 : (r == 0 ? err : r);
}

/* Every count of the tree as built by the fixture, plus @data mapped. */
static void check_tree(struct __test_metadata *_metadata,
		       struct _test_data_mmu *self)
{
	static const __u64 types[4] = {
		PVMM_MMU_TYPE_L4, PVMM_MMU_TYPE_L3, PVMM_MMU_TYPE_L2,
		PVMM_MMU_TYPE_L1,
	};
	__u64 f[4];
	int i;

	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, mmu_frame(&self->v, self->t[i], f));
		EXPECT_EQ(types[i], f[0]);
		EXPECT_EQ(1, f[1]);		/* pin or one upper entry */
		EXPECT_EQ(i == 0 ? 1 : 0, f[3]);
	}
	EXPECT_EQ(self->t[1] | RWP, *mmu_at(&self->v, self->t[0]));
	EXPECT_EQ(self->t[2] | RWP, *mmu_at(&self->v, self->t[1]));
	EXPECT_EQ(self->t[3] | RWP, *mmu_at(&self->v, self->t[2]));
}

TEST_F(mmu, map_unmap_remap_translate)
{
	struct mmu_vm *v = &self->v;
	__u64 f[4], st[6];
	int i;

	check_tree(_metadata, self);
	/* Map 64 pages in one lazy section: one call. */
	v->q.calls = 0;
	pvmm_mmu_lazy_enter(&v->q);
	for (i = 0; i < 64; i++)
		pvmm_mmu_queue_pte(&v->q, l1e(self, i),
				   (MMU_DATA + 4096ULL * i) | RWP);
	ASSERT_EQ(0, pvmm_mmu_lazy_leave(&v->q));
	EXPECT_EQ(1, v->q.calls);
	for (i = 0; i < 64; i++)
		EXPECT_EQ(MMU_DATA + 4096ULL * i + 0x123,
			  mmu_translate(v, 4096ULL * i + 0x123,
					PVMM_MMU_ACCESS_WRITE));
	ASSERT_EQ(0, mmu_frame(v, MMU_DATA, f));
	EXPECT_EQ(PVMM_MMU_TYPE_WRITABLE, f[0]);
	EXPECT_EQ(1, f[1]);
	EXPECT_EQ(1, f[2]);

	/* Unmap, then remap read-only elsewhere. */
	ASSERT_EQ(0, one(v, l1e(self, 0), 0));
	EXPECT_EQ(-ENOENT, mmu_translate(v, 0, 0));
	ASSERT_EQ(0, mmu_frame(v, MMU_DATA, f));
	EXPECT_EQ(PVMM_MMU_TYPE_NONE, f[0]);
	EXPECT_EQ(0, f[2]);
	ASSERT_EQ(0, one(v, l1e(self, 0), (MMU_DATA + 0x100000) | PTE_P));
	EXPECT_EQ(MMU_DATA + 0x100000, mmu_translate(v, 0, 0));
	EXPECT_EQ(-EACCES, mmu_translate(v, 0, PVMM_MMU_ACCESS_WRITE));
	EXPECT_EQ(-EACCES, mmu_translate(v, 0, PVMM_MMU_ACCESS_USER));
	EXPECT_EQ(-ENOENT, mmu_translate(v, 1ULL << 39, 0));
	EXPECT_EQ(-EINVAL, mmu_translate(v, 1ULL << 47, 0));

	/* The flush set a batch asks for comes back to the VMM. */
	pvmm_mmu_lazy_enter(&v->q);
	pvmm_mmu_queue_pte(&v->q, l1e(self, 1), 0);
	pvmm_mmu_queue_ext(&v->q, PVMM_MMU_EXT_INVLPG_LOCAL, 0, 0x1000);
	ASSERT_EQ(0, pvmm_mmu_lazy_leave(&v->q));
	EXPECT_EQ(PVMM_MMU_FLUSH_ADDR, v->flush[0]);
	EXPECT_EQ(1, v->flush[1]);		/* vCPU 0 */
	EXPECT_EQ(0x1000, v->flush[2]);
	pvmm_mmu_lazy_enter(&v->q);
	pvmm_mmu_queue_ext(&v->q, PVMM_MMU_EXT_INVLPG_ALL, 0, 0x2000);
	pvmm_mmu_queue_ext(&v->q, PVMM_MMU_EXT_FLUSH_MASK, 0, 0x6);
	ASSERT_EQ(0, pvmm_mmu_lazy_leave(&v->q));
	EXPECT_EQ(PVMM_MMU_FLUSH_FULL, v->flush[0]);
	EXPECT_EQ(PVMM_MMU_FLUSH_EVERY_VCPU | 0x6, v->flush[1]);

	/* A frame that was writable becomes a table: every vCPU flushes. */
	ASSERT_EQ(0, one(v, l1e(self, 2), 0));
	ASSERT_EQ(0, one(v, self->t[2] + 8, (MMU_DATA + 2 * 4096) | RWP));
	EXPECT_EQ(PVMM_MMU_FLUSH_FULL, v->flush[0]);
	EXPECT_EQ(PVMM_MMU_FLUSH_EVERY_VCPU, v->flush[1]);
	EXPECT_EQ(PVMM_MMU_TYPE_L1, mmu_type(v, MMU_DATA + 2 * 4096));

	/* Unpinning the base is refused; a new L4 then the old one goes. */
	EXPECT_EQ(-EBUSY, one(v, PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_UNPIN,
						  self->t[0]), 0));
	ASSERT_EQ(0, mmu_stats(v, st));
	EXPECT_EQ(5, st[0]);		/* 4 tables and the new L1 */
	EXPECT_EQ(1, st[2]);
}

/* A page-table frame mapped writable: directly, RO then RW, with AD. */
TEST_F(mmu, attack_writable_table)
{
	struct mmu_vm *v = &self->v;
	int i;

	for (i = 0; i < 4; i++) {
		EXPECT_EQ(-EPERM, one(v, l1e(self, 10), self->t[i] | RWP));
		EXPECT_EQ(0, *mmu_at(v, l1e(self, 10)));
	}
	ASSERT_EQ(0, one(v, l1e(self, 10), self->t[1] | PTE_P));
	EXPECT_EQ(-EPERM, one(v, l1e(self, 10), self->t[1] | RWP));
	EXPECT_EQ(-EPERM, one(v, l1e(self, 10) | PVMM_MMU_PT_UPDATE_AD,
			      self->t[1] | RWP | PTE_A | PTE_D));
	EXPECT_EQ(self->t[1] | PTE_P, *mmu_at(v, l1e(self, 10)));
	check_tree(_metadata, self);
}

/* The tables are in the 2 MiB at MMU_TABLES: a writable superpage. */
TEST_F(mmu, attack_writable_superpage)
{
	struct mmu_vm *v = &self->v;
	__s64 want = variant->flags & PVMM_MMU_F_SUPERPAGES ? -EPERM : -EINVAL;

	EXPECT_EQ(want, one(v, self->t[2] + 8, MMU_TABLES | RWP | PTE_PS));
	EXPECT_EQ(0, *mmu_at(v, self->t[2] + 8));
	if (variant->flags & PVMM_MMU_F_SUPERPAGES) {
		/* Read-only over the tables, writable elsewhere: fine. */
		ASSERT_EQ(0, one(v, self->t[2] + 8, MMU_TABLES | PTE_P | PTE_PS));
		EXPECT_EQ(MMU_TABLES + 0x12345,
			  mmu_translate(v, (1ULL << 21) + 0x12345, 0));
		EXPECT_EQ(-EPERM, one(v, self->t[2] + 8,
				      MMU_TABLES | RWP | PTE_PS));
		ASSERT_EQ(0, one(v, self->t[2] + 16, MMU_DATA | RWP | PTE_PS));
		/* and a table inside a writable superpage is refused */
		EXPECT_EQ(-EBUSY, one(v, self->t[2] + 24,
				      (MMU_DATA + 0x5000) | RWP));
	}
	check_tree(_metadata, self);
}

/* The linear mapping: read-only to its own L4 only. */
TEST_F(mmu, attack_linear_writable)
{
	struct mmu_vm *v = &self->v;
	__u64 lin = self->t[0] + 8 * 511, l4b;

	EXPECT_EQ(-EPERM, one(v, lin, self->t[0] | RWP));
	ASSERT_EQ(0, one(v, lin, self->t[0] | PTE_P));
	/* indexes 511, 511, 511, 511: the L4 itself, read-only */
	EXPECT_EQ(self->t[0], mmu_translate(v, 0xfffffffffffff000ULL, 0));
	EXPECT_EQ(-EACCES, mmu_translate(v, 0xfffffffffffff000ULL,
					 PVMM_MMU_ACCESS_WRITE));
	/* 511, 511, 511, 0: the L3 through the L4's first entry */
	EXPECT_EQ(self->t[1], mmu_translate(v, 0xffffffffffe00000ULL, 0));
	EXPECT_EQ(-EACCES, mmu_translate(v, 0xffffffffffe00000ULL,
					 PVMM_MMU_ACCESS_WRITE));
	/* 511, 511, 0, 0: the L2 */
	EXPECT_EQ(self->t[2], mmu_translate(v, 0xffffffffc0000000ULL, 0));
	EXPECT_EQ(-EPERM, one(v, lin, self->t[0] | RWP));
	EXPECT_EQ(-EPERM, one(v, lin | PVMM_MMU_PT_UPDATE_AD,
			      self->t[0] | RWP));
	/* to another L4: a type change, refused */
	l4b = mmu_alloc(v);
	ASSERT_EQ(0, one(v, PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_PIN_L4, l4b), 0));
	EXPECT_EQ(-EBUSY, one(v, self->t[0] + 8 * 510, l4b | PTE_P));
	EXPECT_EQ(self->t[0] | PTE_P, *mmu_at(v, lin));
	check_tree(_metadata, self);
}

TEST_F(mmu, attack_outside_memslots)
{
	struct mmu_vm *v = &self->v;

	EXPECT_EQ(-EFAULT, one(v, l1e(self, 3), MMU_MEM | RWP));
	EXPECT_EQ(-EFAULT, one(v, l1e(self, 3), (MMU_LIMIT - 4096) | PTE_P));
	EXPECT_EQ(-EFAULT, one(v, l1e(self, 3), (1ULL << 40) | PTE_P));
	EXPECT_EQ(-EFAULT, one(v, self->t[2] + 8, (MMU_MEM + 8192) | RWP));
	EXPECT_EQ(-EFAULT, one(v, PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_PIN_L4,
						   MMU_MEM), 0));
	/* the entry to write is not in a page table */
	EXPECT_EQ(-EINVAL, one(v, MMU_DATA, 0));
	EXPECT_EQ(-EINVAL, one(v, MMU_MEM + 8, 0));
	EXPECT_EQ(0, *mmu_at(v, l1e(self, 3)));
	check_tree(_metadata, self);
}

/* A frame mapped writable cannot become a table, and the reverse. */
TEST_F(mmu, attack_type_change_referenced)
{
	struct mmu_vm *v = &self->v;
	__u64 f[4];

	ASSERT_EQ(0, one(v, l1e(self, 4), MMU_DATA | RWP));
	EXPECT_EQ(-EBUSY, one(v, self->t[2] + 8, MMU_DATA | RWP));
	EXPECT_EQ(-EBUSY, one(v, PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_PIN_L4,
						  MMU_DATA), 0));
	EXPECT_EQ(-EBUSY, one(v, self->t[0] + 8, self->t[2] | RWP));
	ASSERT_EQ(0, mmu_frame(v, MMU_DATA, f));
	EXPECT_EQ(PVMM_MMU_TYPE_WRITABLE, f[0]);
	EXPECT_EQ(1, f[1]);
	check_tree(_metadata, self);
}

/* Hostile calls and controls: each gets its errno. */
TEST_F(mmu, hostile_calls)
{
	struct mmu_vm *v = &self->v;
	struct pvmm_mmu_config ctl = { .limit = MMU_LIMIT };
	struct pvmm_mmu_frame f = { .gfn = MMU_LIMIT >> 12 };
	__s64 ret, err;

	ASSERT_EQ(0, mmu_call(v, 0, PVMM_MMU_CALL_BATCH, MMU_QUEUE + 8, 1, 0,
			      &ret));
	EXPECT_EQ(-EINVAL, ret);
	ASSERT_EQ(0, mmu_call(v, 0, PVMM_MMU_CALL_BATCH, MMU_QUEUE, 1, 4, &ret));
	EXPECT_EQ(-EINVAL, ret);
	ASSERT_EQ(0, mmu_call(v, 0, PVMM_MMU_CALL_BATCH, MMU_QUEUE,
			      1ULL << 61, 0, &ret));
	EXPECT_EQ(-EINVAL, ret);
	ASSERT_EQ(0, mmu_call(v, 0, PVMM_MMU_CALL_BATCH, ~0xfULL, 2, 0, &ret));
	EXPECT_EQ(-EINVAL, ret);
	/* an array outside guest memory: nothing done, -EFAULT */
	EXPECT_EQ(0, mmu_batch(v, 0, MMU_MEM, 4, &err));
	EXPECT_EQ(-EFAULT, err);
	EXPECT_EQ(0, mmu_batch(v, 0, MMU_QUEUE, 0, &err));
	ASSERT_EQ(0, mmu_call(v, 0, PVMM_MMU_CALL_VERSION, 0, 0, 0, &ret));
	EXPECT_EQ(PVMM_MMU_VERSION | (variant->flags << 32), (__u64)ret);
	ASSERT_EQ(0, mmu_call(v, 0, PVMM_MMU_CALL_TRANSLATE, 0, 8, 0, &ret));
	EXPECT_EQ(-EINVAL, ret);
	ASSERT_EQ(0, mmu_call(v, 0, PVMM_CALL_NR(PVMM_SVC_MMU, 77), 0, 0, 0,
			      &ret));
	EXPECT_EQ(-EOPNOTSUPP, ret);
	/* unknown commands and ext ops */
	EXPECT_EQ(-EINVAL, one(v, l1e(self, 0) | 5, 0));
	EXPECT_EQ(-EINVAL, one(v, PVMM_MMU_EXT_CMD(200, 0), 0));
	EXPECT_EQ(-EINVAL, one(v, PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_FLUSH_LOCAL,
						   0x1000), 0));
	EXPECT_EQ(-EINVAL, one(v, PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_INVLPG_ALL, 0),
			       1ULL << 50));

	EXPECT_EQ(-EBUSY, vmm_ioctl(v->vm, PVMM_MMU_CONFIGURE, &ctl));
	EXPECT_EQ(-EINVAL, vmm_ioctl(v->vm, PVMM_MMU_GET_FRAME, &f));
	f.gfn = 0;
	f.reserved[1] = 1;
	EXPECT_EQ(-EINVAL, vmm_ioctl(v->vm, PVMM_MMU_GET_FRAME, &f));
	EXPECT_EQ(-ENOTTY, vmm_ioctl(v->vm,
				     _IOR(PVMM_IOCTL_MAGIC, PVMM_CTL_MMU + 15,
					  struct pvmm_mmu_stats), &f));
	check_tree(_metadata, self);
}

/* Entries after one that tore a table down apply: no EBUSY, no WARN. */
TEST_F(mmu, entry_after_teardown)
{
	struct mmu_vm *v = &self->v;
	struct pvmm_mmu_update *u = (void *)mmu_at(v, MMU_QUEUE);
	__u64 root = mmu_alloc(v);
	__s64 err;

	/* The L2 entry that holds the L1's only reference, then a flush. */
	u[0].ptr = self->t[2];
	u[0].val = 0;
	u[1].ptr = PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_FLUSH_LOCAL, 0);
	u[1].val = 0;
	EXPECT_EQ(2, mmu_batch(v, 0, MMU_QUEUE, 2, &err));
	EXPECT_EQ(0, err);
	EXPECT_EQ(PVMM_MMU_TYPE_NONE, mmu_type(v, self->t[3]));
	EXPECT_EQ(PVMM_MMU_FLUSH_FULL, v->flush[0]);

	/* The last pin of a root that is nobody's base, then a flush. */
	ASSERT_EQ(0, one(v, PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_PIN_L4, root), 0));
	u[0].ptr = PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_UNPIN, root);
	u[1].ptr = PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_FLUSH_ALL, 0);
	EXPECT_EQ(2, mmu_batch(v, 0, MMU_QUEUE, 2, &err));
	EXPECT_EQ(0, err);
	EXPECT_EQ(PVMM_MMU_TYPE_NONE, mmu_type(v, root));
	EXPECT_EQ(PVMM_MMU_FLUSH_EVERY_VCPU, v->flush[1]);
}

/* A validation walk that meets a writable frame answers EBUSY. */
TEST_F(mmu, validation_meets_writable_frame)
{
	struct mmu_vm *v = &self->v;
	__u64 l2 = mmu_alloc(v), st[6];

	ASSERT_EQ(0, one(v, l1e(self, 0), MMU_DATA | RWP));
	*mmu_at(v, l2) = MMU_DATA | RWP;	/* MMU_DATA as an L1 */
	ASSERT_EQ(0, mmu_stats(v, st));
	EXPECT_EQ(-EBUSY, one(v, self->t[1] + 8, l2 | RWP));
	EXPECT_EQ(0, *mmu_at(v, self->t[1] + 8));
	EXPECT_EQ(PVMM_MMU_TYPE_NONE, mmu_type(v, l2));
	EXPECT_EQ(PVMM_MMU_TYPE_WRITABLE, mmu_type(v, MMU_DATA));
	check_tree(_metadata, self);
}

/* Entries refused for where the array lies count as rejected. */
TEST_F(mmu, rejected_counts_bad_arrays)
{
	struct mmu_vm *v = &self->v;
	__u64 st[6], before;
	__s64 ret, err;

	ASSERT_EQ(0, mmu_stats(v, st));
	before = st[4];
	EXPECT_EQ(0, mmu_batch(v, 0, MMU_MEM, 4, &err));
	EXPECT_EQ(-EFAULT, err);
	ASSERT_EQ(0, mmu_call(v, 0, PVMM_MMU_CALL_BATCH, (1ULL << 52) - 16, 2,
			      0, &ret));
	EXPECT_EQ(-EINVAL, ret);
	ASSERT_EQ(0, mmu_stats(v, st));
	EXPECT_EQ(before + 2, st[4]);
}

TEST(configure)
{
	struct pvmm_mmu_config ctl = {};
	struct pvmm_mmu_stats st;
	__u64 args[PVMM_CALL_NARGS] = { 0, 1 };
	int vm = vmm_open(), vcpu;
	__s64 ret;

	ASSERT_LE(0, vm);
	ASSERT_EQ(0, vmm_ioctl(vm, PVMM_ENABLE_SERVICE, (void *)PVMM_SVC_MMU));
	vcpu = ioctl(vm, PVMM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	ASSERT_EQ(0, ioctl(vcpu, PVMM_VCPU_BIND));
	/* not configured yet */
	ASSERT_EQ(0, vmm_call(vcpu, PVMM_MMU_CALL_BATCH, args, &ret));
	EXPECT_EQ(-ENODEV, ret);
	EXPECT_EQ(-ENODEV, vmm_ioctl(vm, PVMM_MMU_GET_STATS, &st));
	EXPECT_EQ(-EINVAL, vmm_ioctl(vm, PVMM_MMU_CONFIGURE, &ctl));
	ctl.limit = 4095;
	EXPECT_EQ(-EINVAL, vmm_ioctl(vm, PVMM_MMU_CONFIGURE, &ctl));
	ctl.limit = 1ULL << 53;
	EXPECT_EQ(-EINVAL, vmm_ioctl(vm, PVMM_MMU_CONFIGURE, &ctl));
	ctl.limit = 1ULL << 52;
	EXPECT_EQ(-E2BIG, vmm_ioctl(vm, PVMM_MMU_CONFIGURE, &ctl));
	ctl.limit = 1 << 20;
	ctl.flags = 2;
	EXPECT_EQ(-EINVAL, vmm_ioctl(vm, PVMM_MMU_CONFIGURE, &ctl));
	ctl.flags = 0;
	ctl.reserved[0] = 1;
	EXPECT_EQ(-EINVAL, vmm_ioctl(vm, PVMM_MMU_CONFIGURE, &ctl));
	ctl.reserved[0] = 0;
	EXPECT_EQ(0, vmm_ioctl(vm, PVMM_MMU_CONFIGURE, &ctl));
	ASSERT_EQ(0, vmm_ioctl(vm, PVMM_MMU_GET_STATS, &st));
	EXPECT_EQ(0, st.pt_frames);
	close(vcpu);
	close(vm);
}

struct rewriter {
	struct mmu_vm *v;
	__u64 batch;
	__u64 n;
	__u64 evil;
	atomic_int stop;
	atomic_int started;	/* bound and about to write */
	unsigned long writes;
};

static void *rewrite_batch(void *arg)
{
	struct rewriter *w = arg;
	struct pvmm_mmu_update *u = (void *)mmu_at(w->v, w->batch);
	unsigned long i = 0;

	/* the other vCPU's thread, writing guest memory as a guest does */
	if (ioctl(w->v->vcpu[1], PVMM_VCPU_BIND))
		return NULL;
	atomic_store(&w->started, 1);
	while (!atomic_load(&w->stop)) {
		/* the second half: the first one outlives a slice */
		__u64 k = w->n / 2 + (i * 7919) % (w->n / 2);

		/* Same entry to write, now asking for a writable table. */
		__atomic_store_n(&u[k].val, w->evil, __ATOMIC_RELAXED);
		i++;
	}
	w->writes = i;
	return NULL;
}

/*
 * Another vCPU thread rewrites the batch while it is processed, with a
 * short slice so the batch is preempted many times. Whatever it read, no
 * entry may have made a table writable.
 */
TEST_F(mmu, attack_batch_rewritten)
{
	struct mmu_vm *v = &self->v;
	struct rewriter w = { .v = v, .batch = MMU_BIG, .n = 20000 };
	struct pvmm_mmu_update *u = (void *)mmu_at(v, MMU_BIG);
	FILE *slice = fopen("/sys/module/pvmm_mmu/parameters/slice_us", "r+");
	__s64 done, err = 0;
	pthread_t th;
	__u64 i, f[4];

	if (!slice && errno == EACCES)
		SKIP(return, "slice_us is root's to set");
	ASSERT_NE(NULL, slice);
	fprintf(slice, "50\n");
	fflush(slice);
	for (i = 0; i < w.n; i++) {
		u[i].ptr = l1e(self, i % 512);
		u[i].val = (MMU_DATA + 4096 * (i % 97)) | RWP;
	}
	w.evil = self->t[3] | RWP;
	ASSERT_EQ(0, pthread_create(&th, NULL, rewrite_batch, &w));
	/* a batch done before the rewriter first ran would test nothing */
	for (i = 0; i < 5000 && !atomic_load(&w.started); i++)
		usleep(1000);
	ASSERT_TRUE(atomic_load(&w.started));
	done = mmu_batch(v, 0, MMU_BIG, w.n, &err);
	atomic_store(&w.stop, 1);
	pthread_join(th, NULL);
	fprintf(slice, "1000\n");
	fclose(slice);

	EXPECT_GT(w.writes, 0);
	TH_LOG("%lld of %llu done (%lld), %lu rewrites, %lu continuations",
	       (long long)done, (unsigned long long)w.n, (long long)err,
	       w.writes, v->continuations);
	ASSERT_GE(done, 0);
	EXPECT_GT(v->continuations, 0);
	if (done < (__s64)w.n)
		EXPECT_EQ(-EPERM, err);
	for (i = 0; i < 512; i++)
		EXPECT_NE(self->t[3] | RWP, *mmu_at(v, l1e(self, i)));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, mmu_frame(v, self->t[i], f));
		EXPECT_EQ(PVMM_MMU_TYPE_L4 - i, f[0]);
	}
	check_tree(_metadata, self);
}

/*
 * A 1,000,000-entry batch: map and unmap, over and over. It completes,
 * in many calls, none of which comes near the whole batch's time.
 */
TEST_F(mmu, million_entry_batch)
{
	struct mmu_vm *v = &self->v;
	struct pvmm_mmu_update *u = (void *)mmu_at(v, MMU_BIG);
	const __u64 n = 1000000;
	__s64 done, err = 0;
	double t;
	__u64 i, st[6];

	for (i = 0; i < n; i++) {
		u[i].ptr = l1e(self, (i / 2) % 512);
		u[i].val = i & 1 ? 0 : (MMU_DATA + 4096 * (i % 1000)) | RWP;
	}
	v->calls = 0;
	v->max_call_s = 0;
	t = vmm_now();
	done = mmu_batch(v, 0, MMU_BIG, n, &err);
	t = vmm_now() - t;
	TH_LOG("%lld done in %.2f s, %lu calls, longest %.1f ms",
	       (long long)done, t, v->calls, v->max_call_s * 1e3);
	EXPECT_EQ((__s64)n, done);
	EXPECT_EQ(0, err);
	EXPECT_GT(v->calls, 10);
	EXPECT_LT(v->max_call_s, t / 10);
	ASSERT_EQ(0, mmu_stats(v, st));
	EXPECT_EQ(4, st[0]);
	EXPECT_EQ(0, st[1]);		/* every mapping undone */
	check_tree(_metadata, self);
}

struct other_vcpu {
	struct mmu_vm *v;
	__u64 gpa;
	__s64 done, err;
};

static void *other_batch(void *arg)
{
	struct other_vcpu *o = arg;

	if (ioctl(o->v->vcpu[1], PVMM_VCPU_BIND)) {
		o->done = -errno;
		return NULL;
	}
	o->done = mmu_batch(o->v, 1, o->gpa, 1, &o->err);
	return NULL;
}

/*
 * A pin of a large tree outlives its slice; the vCPU goes away before
 * issuing it again. The other vCPU finishes the unwinding and the frames
 * are free again.
 */
TEST_F(mmu, abandoned_validation)
{
	struct mmu_vm *v = &self->v;
	struct pvmm_call c = { .nr = PVMM_MMU_CALL_BATCH };
	struct pvmm_mmu_update *u = (void *)mmu_at(v, MMU_QUEUE);
	struct other_vcpu o = { .v = v, .gpa = MMU_QUEUE + 4096 };
	__u64 root = mmu_alloc(v), l3, l2, l1, st[6];
	FILE *slice = fopen("/sys/module/pvmm_mmu/parameters/slice_us", "r+");
	pthread_t th;
	int i, j, r;

	if (!slice && errno == EACCES)
		SKIP(return, "slice_us is root's to set");
	ASSERT_NE(NULL, slice);
	/* 64 L2s of 64 L1s each: tens of thousands of entries to read */
	l3 = mmu_alloc(v);
	*mmu_at(v, root) = l3 | RWP;
	for (i = 0; i < 64; i++) {
		l2 = mmu_alloc(v);
		*mmu_at(v, l3 + 8 * i) = l2 | RWP;
		for (j = 0; j < 64; j++) {
			l1 = mmu_alloc(v);
			*mmu_at(v, l2 + 8 * j) = l1 | RWP;
		}
		for (j = 0; j < 512; j++)
			*mmu_at(v, l1 + 8 * j) = (MMU_DATA + 4096 * j) | PTE_P;
	}
	fprintf(slice, "20\n");
	fflush(slice);
	u->ptr = PVMM_MMU_EXT_CMD(PVMM_MMU_EXT_PIN_L4, root);
	c.args[0] = MMU_QUEUE;
	c.args[1] = 1;
	r = ioctl(v->vcpu[0], PVMM_VCPU_CALL, &c) < 0 ? -errno : 0;
	fprintf(slice, "1000\n");
	fclose(slice);
	ASSERT_EQ(-EAGAIN, r);
	EXPECT_EQ(PVMM_MMU_TYPE_L4, mmu_type(v, root));

	/* vCPU 0 goes away without issuing the call again. */
	close(v->vcpu[0]);
	v->vcpu[0] = -1;
	u[256].ptr = l1e(self, 0);
	u[256].val = MMU_DATA | RWP;
	ASSERT_EQ(0, pthread_create(&th, NULL, other_batch, &o));
	pthread_join(th, NULL);
	EXPECT_EQ(1, o.done);
	EXPECT_EQ(PVMM_MMU_TYPE_NONE, mmu_type(v, root));
	EXPECT_EQ(PVMM_MMU_TYPE_NONE, mmu_type(v, l3));
	EXPECT_EQ(PVMM_MMU_TYPE_NONE, mmu_type(v, l1));
	ASSERT_EQ(0, mmu_stats(v, st));
	EXPECT_EQ(4, st[0]);
	EXPECT_EQ(1, st[1]);
	EXPECT_EQ(1, st[2]);
	check_tree(_metadata, self);
}

TEST_HARNESS_MAIN
