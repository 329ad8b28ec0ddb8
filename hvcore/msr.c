// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RDMSR/WRMSR: the MSRs the hypervisor finishes itself.
 *
 *  - the local APIC: IA32_APIC_BASE, x2APIC 0x800-0x8ff, TSC deadline;
 *  - Hyper-V synthetic MSRs: SynIC and stimers (synic/), the rest
 *    (hyperv.c);
 *  - architectural MSRs whose value lives in the VP state (EFER, PAT,
 *    the SYSCALL/SYSENTER MSRs, FS/GS/kernel GS base, TSC), through the
 *    backend's register ops with the same checks as the root's writes:
 *    a value the register cannot hold is a #GP.
 *
 * Every other MSR is the root's: an intercept message to the VMM.
 */
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

#include "../synic/synic.h"
#include "arch.h"
#include "hv_regs.h"
#include "hvcore.h"
#include "lapic.h"

#define HV_MSR_SYNTHETIC_FIRST	0x40000000
#define HV_MSR_SYNTHETIC_LAST	0x400000ff
#define HV_MSR_SYNIC_FIRST	0x40000080
#define HV_MSR_SYNIC_LAST	0x4000009f
#define HV_MSR_STIMER_FIRST	0x400000b0
#define HV_MSR_STIMER_LAST	0x400000b7
#define HV_MSR_CRASH_FIRST	0x40000100
#define HV_MSR_CRASH_LAST	0x40000105

/* Architectural MSRs kept as TLFS-named VP registers. */
static u32 hv_msr_reg_name(u32 msr)
{
	switch (msr) {
	case MSR_IA32_TSC:		return HV_X64_REGISTER_TSC;
	case MSR_EFER:			return HV_X64_REGISTER_EFER;
	case MSR_IA32_CR_PAT:		return HV_X64_REGISTER_PAT;
	case MSR_IA32_SYSENTER_CS:	return HV_X64_REGISTER_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP:	return HV_X64_REGISTER_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP:	return HV_X64_REGISTER_SYSENTER_EIP;
	case MSR_STAR:			return HV_X64_REGISTER_STAR;
	case MSR_LSTAR:			return HV_X64_REGISTER_LSTAR;
	case MSR_CSTAR:			return HV_X64_REGISTER_CSTAR;
	case MSR_SYSCALL_MASK:		return HV_X64_REGISTER_SFMASK;
	case MSR_KERNEL_GS_BASE:	return HV_X64_REGISTER_KERNEL_GS_BASE;
	case MSR_FS_BASE:		return HV_X64_REGISTER_FS;
	case MSR_GS_BASE:		return HV_X64_REGISTER_GS;
	default:			return 0;
	}
}

static bool hv_msr_synic(u32 msr)
{
	return (msr >= HV_MSR_SYNIC_FIRST && msr <= HV_MSR_SYNIC_LAST) ||
	       (msr >= HV_MSR_STIMER_FIRST && msr <= HV_MSR_STIMER_LAST);
}

static bool hv_msr_synthetic(u32 msr)
{
	return (msr >= HV_MSR_SYNTHETIC_FIRST && msr <= HV_MSR_SYNTHETIC_LAST) ||
	       (msr >= HV_MSR_CRASH_FIRST && msr <= HV_MSR_CRASH_LAST);
}

static enum hv_msr_result hv_msr_reg_read(struct hv_vp *vp, u32 name,
					  u64 *value)
{
	union hv_reg_value v = {};

	if (hv_arch->vp_get_reg(vp, name, &v))
		return HV_MSR_GP;
	*value = name == HV_X64_REGISTER_FS || name == HV_X64_REGISTER_GS ?
		 v.segment.base : v.reg64;
	return HV_MSR_DONE;
}

static enum hv_msr_result hv_msr_reg_write(struct hv_vp *vp, u32 name,
					   u64 value)
{
	union hv_reg_value v = {};
	u64 old, cr0;

	if (name == HV_X64_REGISTER_FS || name == HV_X64_REGISTER_GS) {
		hv_arch->vp_get_reg(vp, name, &v);
		v.segment.base = value;
	} else if (name == HV_X64_REGISTER_EFER) {
		/* LMA is the CPU's; LME cannot change with paging on. */
		hv_arch->vp_get_reg(vp, HV_X64_REGISTER_EFER, &v);
		old = v.reg64;
		hv_arch->vp_get_reg(vp, HV_X64_REGISTER_CR0, &v);
		cr0 = v.reg64;
		if (value & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
			return HV_MSR_GP;
		if ((cr0 & X86_CR0_PG) && ((old ^ value) & EFER_LME))
			return HV_MSR_GP;
		v.reg64 = (value & ~EFER_LMA) | (old & EFER_LMA);
	} else {
		v.reg64 = value;
	}
	if (hv_arch->vp_check_reg(vp, name, &v))
		return HV_MSR_GP;
	hv_arch->vp_set_reg(vp, name, &v);
	return HV_MSR_DONE;
}

enum hv_msr_result hv_msr_read(struct hv_vp *vp, u32 msr, u64 *value)
{
	u32 name;

	if (msr == MSR_IA32_APICBASE) {
		*value = hv_lapic_get_base(vp);
		return HV_MSR_DONE;
	}
	if (msr == MSR_IA32_TSC_DEADLINE ||
	    (msr >= APIC_BASE_MSR && msr < APIC_BASE_MSR + 0x100))
		return hv_lapic_msr_read(vp, msr, value);
	if (hv_msr_synic(msr))
		return hv_synic_msr_read(vp, msr, value);
	if (hv_msr_synthetic(msr))
		return hv_synthetic_msr_read(vp, msr, value);
	name = hv_msr_reg_name(msr);
	if (name)
		return hv_msr_reg_read(vp, name, value);
	return HV_MSR_ROOT;
}

enum hv_msr_result hv_msr_write(struct hv_vp *vp, u32 msr, u64 value,
				struct hv_message *msg)
{
	u32 name;

	if (msr == MSR_IA32_APICBASE)
		return hv_lapic_set_base(vp, value, true) ? HV_MSR_DONE :
							    HV_MSR_GP;
	if (msr == MSR_IA32_TSC_DEADLINE ||
	    (msr >= APIC_BASE_MSR && msr < APIC_BASE_MSR + 0x100))
		return hv_lapic_msr_write(vp, msr, value);
	if (hv_msr_synic(msr))
		return hv_synic_msr_write(vp, msr, value);
	if (hv_msr_synthetic(msr))
		return hv_synthetic_msr_write(vp, msr, value, msg);
	name = hv_msr_reg_name(msr);
	if (name)
		return hv_msr_reg_write(vp, name, value);
	return HV_MSR_ROOT;
}
