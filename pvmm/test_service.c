// SPDX-License-Identifier: GPL-2.0
/*
 * pvmm_test: a service for the selftests only. It puts the hub's service
 * API under test from user space: argument passing, guest memory copies,
 * pinned records written from the scheduler hooks, and pins held across
 * a call that sleeps (to kill the VMM mid-call).
 */
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pvmm_mmu.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include <pvmm/service.h>

#include <linux/pvmm_test.h>

#define PVMM_TEST_MAX_PINS	65536

struct pvmm_test_vm {
	struct mutex lock;	/* pins */
	struct pvmm_gpage *pins;
	u32 nr_pins;
};

/* The record at gpa counts sched-ins, the next u64 sched-outs. */
struct pvmm_test_vcpu {
	struct pvmm_gpage counters;
};

static void pvmm_test_bump(struct pvmm_vcpu *vcpu, unsigned int idx)
{
	struct pvmm_test_vcpu *tv = vcpu->svc_priv[PVMM_SVC_TEST];
	unsigned long flags;
	u64 *c = pvmm_gpage_begin(&tv->counters, &flags);

	if (c)
		WRITE_ONCE(c[idx], c[idx] + 1);
	pvmm_gpage_end(&tv->counters, flags);
}

static void pvmm_test_sched_in(struct pvmm_vcpu *vcpu, int cpu)
{
	pvmm_test_bump(vcpu, 0);
}

static void pvmm_test_sched_out(struct pvmm_vcpu *vcpu,
				struct task_struct *next)
{
	pvmm_test_bump(vcpu, 1);
}

static void pvmm_test_unpin_all(struct pvmm_test_vm *tvm)
{
	u32 i;

	mutex_lock(&tvm->lock);
	for (i = 0; i < tvm->nr_pins; i++)
		pvmm_gpage_deactivate(&tvm->pins[i]);
	kvfree(tvm->pins);
	tvm->pins = NULL;
	tvm->nr_pins = 0;
	mutex_unlock(&tvm->lock);
}

static s64 pvmm_test_pin(struct pvmm_vm *vm, u64 gpa, u64 npages)
{
	struct pvmm_test_vm *tvm = vm->svc_priv[PVMM_SVC_TEST];
	struct pvmm_gpage *pins;
	s64 r = 0;
	u32 i;

	if (!npages || npages > PVMM_TEST_MAX_PINS || !PAGE_ALIGNED(gpa))
		return -EINVAL;
	pins = kvcalloc(npages, sizeof(*pins), GFP_KERNEL_ACCOUNT);
	if (!pins)
		return -ENOMEM;
	mutex_lock(&tvm->lock);
	if (tvm->pins) {
		mutex_unlock(&tvm->lock);
		kvfree(pins);
		return -EBUSY;
	}
	for (i = 0; i < npages && !r; i++) {
		pvmm_gpage_init(&pins[i], vm);
		r = pvmm_gpage_activate(&pins[i], gpa + ((u64)i << PAGE_SHIFT),
					PAGE_SIZE);
	}
	tvm->pins = pins;
	tvm->nr_pins = r ? i - 1 : i;
	mutex_unlock(&tvm->lock);
	if (r) {
		pvmm_test_unpin_all(tvm);
		return r;
	}
	return npages;
}

static s64 pvmm_test_read(struct pvmm_vm *vm, u64 gpa, u64 len)
{
	u64 v = 0;
	int r;

	if (len > sizeof(v))
		return -EINVAL;
	r = pvmm_read_guest(vm, gpa, &v, len);
	return r ? r : (s64)v;
}

static s64 pvmm_test_write(struct pvmm_vm *vm, u64 gpa, u64 v, u64 len)
{
	if (len > sizeof(v))
		return -EINVAL;
	return pvmm_write_guest(vm, gpa, &v, len);
}

#ifdef CONFIG_X86
/* The PV MMU's batch without the PV MMU: the same copies and stores. */
static s64 pvmm_test_pte_batch(struct pvmm_vm *vm, u64 gpa, u64 count)
{
	struct pvmm_mmu_update buf[32];
	struct pvmm_gpa_cache cache;
	u64 i, n, j, old;
	int tries;

	if (gpa % sizeof(buf[0]) || count > U32_MAX)
		return -EINVAL;
	pvmm_gpa_cache_init(&cache);
	for (i = 0; i < count; i += n) {
		n = min_t(u64, count - i, ARRAY_SIZE(buf) -
			  ((gpa + i * sizeof(buf[0])) % sizeof(buf)) /
			  sizeof(buf[0]));
		if (pvmm_read_guest(vm, gpa + i * sizeof(buf[0]), buf,
				    n * sizeof(buf[0])))
			return i;
		for (j = 0; j < n; j++) {
			u64 ptr = buf[j].ptr & ~PVMM_MMU_CMD_MASK;
			int r;

			if (pvmm_guest_read_u64(vm, &cache, ptr, &old))
				return i + j;
			/* as the PV MMU: three tries at most */
			for (tries = 0; tries < 3; tries++) {
				r = pvmm_guest_cmpxchg(vm, &cache, ptr, &old,
						       buf[j].val);
				if (r != 1)
					break;
			}
			if (r)
				return i + j;
		}
		cond_resched();
	}
	return count;
}
#endif

static int pvmm_test_call(struct pvmm_vcpu *vcpu, unsigned int fn,
			  const u64 *a, s64 *ret)
{
	struct pvmm_test_vcpu *tv = vcpu->svc_priv[PVMM_SVC_TEST];
	struct pvmm_vm *vm = vcpu->vm;
	u64 sum = 0;
	int i;

	switch (fn) {
	case PVMM_TEST_ECHO:
		for (i = 0; i < PVMM_CALL_NARGS; i++)
			sum += a[i] * (i + 1);
		*ret = sum;
		break;
	case PVMM_TEST_COUNTERS_MAP:
		*ret = pvmm_gpage_activate(&tv->counters, a[0], 16);
		break;
	case PVMM_TEST_COUNTERS_REFRESH:
		*ret = pvmm_gpage_refresh(&tv->counters);
		break;
	case PVMM_TEST_COUNTERS_UNMAP:
		pvmm_gpage_deactivate(&tv->counters);
		*ret = 0;
		break;
	case PVMM_TEST_READ:
		*ret = pvmm_test_read(vm, a[0], a[1]);
		break;
	case PVMM_TEST_WRITE:
		*ret = pvmm_test_write(vm, a[0], a[1], a[2]);
		break;
	case PVMM_TEST_PIN:
		*ret = pvmm_test_pin(vm, a[0], a[1]);
		break;
	case PVMM_TEST_UNPIN:
		pvmm_test_unpin_all(vm->svc_priv[PVMM_SVC_TEST]);
		*ret = 0;
		break;
#ifdef CONFIG_X86
	case PVMM_TEST_PTE_BATCH:
		*ret = pvmm_test_pte_batch(vm, a[0], a[1]);
		break;
#endif
	case PVMM_TEST_SLEEP:
		if (a[0] > 60000)
			return -EINVAL;
		msleep_interruptible(a[0]);
		if (signal_pending(current))
			return -EINTR;
		*ret = 0;
		break;
	default:
		*ret = -EOPNOTSUPP;
		break;
	}
	return 0;
}

/* VMM controls: op 0 returns in[i] + i + 1 in out[i], to check the path. */
static int pvmm_test_ctl_echo(struct pvmm_vm *vm, void *arg)
{
	struct pvmm_test_echo *e = arg;
	int i;

	for (i = 0; i < ARRAY_SIZE(e->in); i++)
		e->out[i] = e->in[i] + i + 1;
	return 0;
}

static const struct pvmm_vm_ctl pvmm_test_ctls[] = {
	{ PVMM_TEST_CTL_ECHO, pvmm_test_ctl_echo },
};

static int pvmm_test_vm_init(struct pvmm_vm *vm)
{
	struct pvmm_test_vm *tvm = kzalloc(sizeof(*tvm), GFP_KERNEL_ACCOUNT);

	if (!tvm)
		return -ENOMEM;
	mutex_init(&tvm->lock);
	vm->svc_priv[PVMM_SVC_TEST] = tvm;
	return 0;
}

static void pvmm_test_vm_destroy(struct pvmm_vm *vm)
{
	struct pvmm_test_vm *tvm = vm->svc_priv[PVMM_SVC_TEST];

	pvmm_test_unpin_all(tvm);
	kfree(tvm);
}

static int pvmm_test_vcpu_init(struct pvmm_vcpu *vcpu)
{
	struct pvmm_test_vcpu *tv = kzalloc(sizeof(*tv), GFP_KERNEL_ACCOUNT);

	if (!tv)
		return -ENOMEM;
	pvmm_gpage_init(&tv->counters, vcpu->vm);
	vcpu->svc_priv[PVMM_SVC_TEST] = tv;
	return 0;
}

static void pvmm_test_vcpu_destroy(struct pvmm_vcpu *vcpu)
{
	struct pvmm_test_vcpu *tv = vcpu->svc_priv[PVMM_SVC_TEST];

	pvmm_gpage_deactivate(&tv->counters);
	kfree(tv);
}

static const struct pvmm_service pvmm_test_service = {
	.name = "test",
	.owner = THIS_MODULE,
	.id = PVMM_SVC_TEST,
	.vm_init = pvmm_test_vm_init,
	.vm_destroy = pvmm_test_vm_destroy,
	.vcpu_init = pvmm_test_vcpu_init,
	.vcpu_destroy = pvmm_test_vcpu_destroy,
	.sched_in = pvmm_test_sched_in,
	.sched_out = pvmm_test_sched_out,
	.call = pvmm_test_call,
	.ctls = pvmm_test_ctls,
	.nr_ctls = ARRAY_SIZE(pvmm_test_ctls),
};

static int __init pvmm_test_init(void)
{
	return pvmm_service_register(&pvmm_test_service);
}

static void __exit pvmm_test_exit(void)
{
	pvmm_service_unregister(&pvmm_test_service);
}

module_init(pvmm_test_init);
module_exit(pvmm_test_exit);
MODULE_DESCRIPTION("pvmm test service, for selftests only");
MODULE_LICENSE("GPL");
