/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the scheduling service: steal published to a guest,
 * boosts asked for, and vCPU threads moved by the placement policy.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pvmm_sched

#if !defined(_PVMM_SCHED_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PVMM_SCHED_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(pvmm_sched_steal,
	    TP_PROTO(int vm, u32 vcpu, u64 steal, u32 rate),
	    TP_ARGS(vm, vcpu, steal, rate),
	    TP_STRUCT__entry(__field(int, vm)
			     __field(u32, vcpu)
			     __field(u64, steal)
			     __field(u32, rate)),
	    TP_fast_assign(__entry->vm = vm;
			   __entry->vcpu = vcpu;
			   __entry->steal = steal;
			   __entry->rate = rate;),
	    TP_printk("vm=%d vcpu=%u steal_ns=%llu rate=%u", __entry->vm,
		      __entry->vcpu, __entry->steal, __entry->rate)
);

TRACE_EVENT(pvmm_sched_boost,
	    TP_PROTO(int vm, u32 vcpu, u64 us, s64 ret),
	    TP_ARGS(vm, vcpu, us, ret),
	    TP_STRUCT__entry(__field(int, vm)
			     __field(u32, vcpu)
			     __field(u64, us)
			     __field(s64, ret)),
	    TP_fast_assign(__entry->vm = vm;
			   __entry->vcpu = vcpu;
			   __entry->us = us;
			   __entry->ret = ret;),
	    TP_printk("vm=%d vcpu=%u asked_us=%llu ret=%lld", __entry->vm,
		      __entry->vcpu, __entry->us, __entry->ret)
);

TRACE_EVENT(pvmm_sched_migrate,
	    TP_PROTO(int vm, u32 vcpu, int from, int to, u32 steal,
		     u32 expected, int err),
	    TP_ARGS(vm, vcpu, from, to, steal, expected, err),
	    TP_STRUCT__entry(__field(int, vm)
			     __field(u32, vcpu)
			     __field(int, from)
			     __field(int, to)
			     __field(u32, steal)
			     __field(u32, expected)
			     __field(int, err)),
	    TP_fast_assign(__entry->vm = vm;
			   __entry->vcpu = vcpu;
			   __entry->from = from;
			   __entry->to = to;
			   __entry->steal = steal;
			   __entry->expected = expected;
			   __entry->err = err;),
	    TP_printk("vm=%d vcpu=%u cpu=%d->%d steal_rate=%u expected=%u err=%d",
		      __entry->vm, __entry->vcpu, __entry->from, __entry->to,
		      __entry->steal, __entry->expected, __entry->err)
);

#endif /* _PVMM_SCHED_TRACE_H */

/* Out of tree and grafted alike, pvsched/ is on the include path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE sched_trace
#include <trace/define_trace.h>
