/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the PV MMU core reaches guest memory. The glue supplies these
 * accessors at build time, inline, because an indirect call (with
 * retpolines) costs more than validating an entry. On a host they are the
 * hub's guest accessors; a KUnit build can also point a frame table at the
 * suite's own memory.
 */
#ifndef _PVMM_MMU_MEM_H
#define _PVMM_MMU_MEM_H

#include <linux/errno.h>
#include <linux/types.h>

#ifdef CONFIG_X86
#include <pvmm/service.h>
#endif

#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
/* Guest memory of a KUnit suite; the callbacks are as the accessors below. */
struct pvmm_mmu_test_mem {
	int (*read)(void *ctx, u64 gpa, u64 *val);
	int (*xchg_entry)(void *ctx, u64 gpa, u64 *old, u64 new);
	bool (*root_in_use)(void *ctx, u64 gfn);
	void *ctx;
};
#endif

/**
 * struct pvmm_mmu_mem - the guest memory of one frame table
 * @vm: the VM on a host
 * @cache: the table last read or written
 * @test: a KUnit suite's memory instead of @vm's, or NULL
 */
struct pvmm_mmu_mem {
#ifdef CONFIG_X86
	struct pvmm_vm *vm;
	struct pvmm_gpa_cache cache;
#endif
#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
	const struct pvmm_mmu_test_mem *test;
#endif
};

/* Whether a vCPU has @gfn as its base; mmu_host.c. */
bool pvmm_mmu_host_root_in_use(struct pvmm_mmu_mem *mem, u64 gfn);

/* Read the entry at @gpa: 0 or -EFAULT. */
static __always_inline int pvmm_mmu_mem_read(struct pvmm_mmu_mem *mem,
					     u64 gpa, u64 *val)
{
#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
	if (mem->test)
		return mem->test->read(mem->test->ctx, gpa, val);
#endif
#ifdef CONFIG_X86
	return pvmm_guest_read_u64(mem->vm, &mem->cache, gpa, val);
#else
	return -EFAULT;
#endif
}

/*
 * Store @new at @gpa if it holds *@old: 0 when stored, 1 when not (*@old
 * is then the current value), -EFAULT.
 */
static __always_inline int pvmm_mmu_mem_xchg(struct pvmm_mmu_mem *mem,
					     u64 gpa, u64 *old, u64 new)
{
#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
	if (mem->test)
		return mem->test->xchg_entry(mem->test->ctx, gpa, old, new);
#endif
#ifdef CONFIG_X86
	return pvmm_guest_cmpxchg(mem->vm, &mem->cache, gpa, old, new);
#else
	return -EFAULT;
#endif
}

static inline bool pvmm_mmu_mem_root_in_use(struct pvmm_mmu_mem *mem,
					    u64 gfn)
{
#if IS_ENABLED(CONFIG_PVMM_KUNIT_TEST)
	if (mem->test)
		return mem->test->root_in_use(mem->test->ctx, gfn);
#endif
#ifdef CONFIG_X86
	return pvmm_mmu_host_root_in_use(mem, gfn);
#else
	return false;
#endif
}

#endif /* _PVMM_MMU_MEM_H */
