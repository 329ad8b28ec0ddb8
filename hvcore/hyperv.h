/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Hyper-V guest interface that hvcore implements itself: the
 * hypervisor CPUID leaves, the synthetic MSRs, hypercalls. Shared by the
 * hvcore files and synic/; the arch backends call the entry points below
 * from their exit handlers (VP context: the VP's own thread, preemption
 * off, IRQs on, no lock held).
 */
#ifndef VID_HV_HYPERV_H
#define VID_HV_HYPERV_H

#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "hv_call.h"

struct hv_vp;
struct hv_message;

/* The virtual APIC bus (timer) frequency: one tick per nanosecond. */
#define HV_APIC_FREQUENCY	1000000000ULL

/**
 * struct hv_partition_hv - partition-wide Hyper-V state
 * @lock: protects the guest-written fields below (@guest_os_id to
 *	@crash) against VPs writing them at once. A spinlock: VP context
 *	runs with preemption off.
 * @privileges: CPUID 0x40000003 EAX (low) and EBX (high): what the
 *	partition may use. Set before initialize; defaults to everything
 *	implemented. An MSR or hypercall whose bit is clear faults (#GP) or
 *	returns HV_STATUS_ACCESS_DENIED.
 * @features: CPUID 0x40000003 EDX (frequency MSRs, crash MSRs, ...);
 *	like @privileges, the crash MSRs fault without their bit.
 * @recommendations: CPUID 0x40000004 EAX; the PV IPI and TLB flush
 *	hypercalls return HV_STATUS_ACCESS_DENIED unless the guest was
 *	told to use them (as KVM enforces it).
 * @tsc_scale: the TSC page scale for the host TSC (hv_tsc_scale()); 0
 *	when the host TSC cannot serve as the reference clock, then the
 *	reference counter follows ktime and the TSC page stays invalid.
 * @time_ref_base: host TSC (or ktime in ns, @tsc_scale 0) at which the
 *	reference counter was 0: the partition's creation.
 * @time_ref_last: the largest reference count handed out, so that the
 *	counter never goes back (host TSCs slightly out of step).
 * @guest_os_id: HV_X64_MSR_GUEST_OS_ID.
 * @hypercall: HV_X64_MSR_HYPERCALL (enable bit 0, locked bit 1, GPA
 *	page in 63:12).
 * @reference_tsc: HV_X64_MSR_REFERENCE_TSC (enable bit 0, page 63:12).
 * @tsc_sequence: the TSC page's last sequence number.
 * @crash: HV_X64_MSR_CRASH_P0..P4.
 */
struct hv_partition_hv {
	/* protects the guest-written fields below */
	spinlock_t lock;
	u64 privileges;
	u32 features;
	u32 recommendations;
	u64 tsc_scale;
	u64 time_ref_base;
	atomic64_t time_ref_last;
	u64 guest_os_id;
	u64 hypercall;
	u64 reference_tsc;
	u32 tsc_sequence;
	u64 crash[5];
};

/* What an MSR access handler tells the backend. */
enum hv_msr_result {
	HV_MSR_DONE,		/* completed: step over RDMSR/WRMSR */
	HV_MSR_GP,		/* inject #GP(0) */
	HV_MSR_ROOT,		/* not the hypervisor's: intercept to the root */
	/* completed, and @msg holds a message for the root (crash, reset) */
	HV_MSR_MESSAGE,
};

/*
 * msr.c: the MSRs hvcore emulates (x2APIC, APIC base, TSC deadline,
 * Hyper-V synthetic MSRs, and the architectural ones the VMCB holds).
 * VP context.
 */
enum hv_msr_result hv_msr_read(struct hv_vp *vp, u32 msr, u64 *value);
enum hv_msr_result hv_msr_write(struct hv_vp *vp, u32 msr, u64 value,
				struct hv_message *msg);

/*
 * hyperv.c: the partition-level synthetic MSRs (guest OS id, hypercall
 * page, VP index, VP runtime, reference counter and TSC page, TSC/APIC
 * frequency, crash and reset). Called by msr.c for 0x40000000-0x400000ff
 * and the crash MSRs outside the SynIC/stimer ranges.
 */
enum hv_msr_result hv_synthetic_msr_read(struct hv_vp *vp, u32 msr,
					 u64 *value);
enum hv_msr_result hv_synthetic_msr_write(struct hv_vp *vp, u32 msr,
					  u64 value, struct hv_message *msg);
/* Partition defaults at create time (privileges, reference counter). */
void hv_partition_hv_init(struct hv_partition_hv *hv);
/*
 * The HV_PARTITION_PROPERTY_HV_* properties (privileges, features,
 * recommendations), for partition.c, which holds the partition lock and
 * allows a set only before initialize. A set with a bit vid does not
 * implement fails with HV_STATUS_INVALID_PARAMETER.
 */
hv_status_t hv_partition_hv_get(struct hv_partition_hv *hv, u32 property,
				u64 *value);
hv_status_t hv_partition_hv_set(struct hv_partition_hv *hv, u32 property,
				u64 value);
/*
 * May @vp use what the HV_MSR_* (CPUID 0x40000003 EAX) or HV_* << 32
 * (EBX) bits @privileges stand for? For synic/ to gate its MSRs.
 */
bool hv_vp_privileged(struct hv_vp *vp, u64 privileges);
/*
 * The reference counter: 100 ns units since the partition was created,
 * never going back. Any context.
 */
u64 hv_time_ref_count(struct hv_vp *vp);

/*
 * cpuid: the hypervisor leaves 0x40000000-0x400000ff. Returns false for
 * leaves outside that range (the backend handles those).
 */
bool hv_cpuid_hv_leaf(struct hv_vp *vp, u32 leaf, u32 *eax, u32 *ebx,
		      u32 *ecx, u32 *edx);

/**
 * struct hv_hypercall - one hypercall as the backend decoded it
 * @control: the hypercall input value (RCX in 64-bit mode, EDX:EAX in
 *	32-bit mode).
 * @input: the input GPA, or the first fast argument (RDX / EBX:ECX).
 * @output: the output GPA, or the second fast argument (R8 / EDI:ESI).
 * @result: the result value the backend writes back (RAX / EDX:EAX).
 * @long_mode: the caller runs 64-bit code.
 */
struct hv_hypercall {
	u64 control;
	u64 input;
	u64 output;
	u64 result;
	bool long_mode;
};

/* hyperv.c: guest OS id set and hypercall page enabled (VMMCALL works). */
bool hv_hypercall_enabled(struct hv_vp *vp);

/*
 * hypercall.c: run a guest hypercall (VMMCALL at CPL 0 with the
 * hypercall page enabled). Returns false when the instruction must
 * instead raise #UD (no hypercall interface, CPL > 0); otherwise the
 * backend writes @hc->result back and steps over the instruction.
 */
bool hv_hypercall(struct hv_vp *vp, struct hv_hypercall *hc);

#endif /* VID_HV_HYPERV_H */
