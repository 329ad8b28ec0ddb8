// SPDX-License-Identifier: GPL-2.0
/*
 * VP register access by TLFS name, with the value checks that keep a
 * VMM from building a guest state VMRUN would refuse (or that the CPU
 * would #GP on): reserved bits, canonical addresses, valid PAT types.
 * Runs with the VP stopped and its lock held.
 */
#include <asm/apicdef.h>
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/irq_vectors.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>

#include "../hv_regs.h"
#include "svm.h"

#define SVM_RFLAGS_VALID	0x3f7fd7ULL
#define SVM_CR0_VALID		0xe005003fULL
#define SVM_CR3_RESERVED	GENMASK_ULL(63, 52)
#define SVM_EFER_VALID		(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

static bool svm_canonical(u64 v)
{
	return (u64)((s64)(v << 16) >> 16) == v;
}

static u64 svm_cr4_valid(void)
{
	u64 valid = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		    X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		    X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

	if (boot_cpu_has(X86_FEATURE_UMIP))
		valid |= X86_CR4_UMIP;
	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		valid |= X86_CR4_FSGSBASE;
	if (boot_cpu_has(X86_FEATURE_PCID))
		valid |= X86_CR4_PCIDE;
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		valid |= X86_CR4_OSXSAVE;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		valid |= X86_CR4_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		valid |= X86_CR4_SMAP;
	if (boot_cpu_has(X86_FEATURE_PKU))
		valid |= X86_CR4_PKE;
	return valid;
}

/* XCR0 bits a guest may set: x87, SSE, and AVX when the host has it. */
u64 svm_xcr0_allowed(void)
{
	u64 valid = XFEATURE_MASK_FP | XFEATURE_MASK_SSE;

	if (boot_cpu_has(X86_FEATURE_AVX))
		valid |= XFEATURE_MASK_YMM;
	return valid & svm_fpu_host_xcr0();
}

bool svm_xcr0_ok(u64 v)
{
	if (!(v & XFEATURE_MASK_FP) || (v & ~svm_xcr0_allowed()))
		return false;
	return !((v & XFEATURE_MASK_YMM) && !(v & XFEATURE_MASK_SSE));
}

static bool svm_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		/* UC, WC, WT, WP, WB, UC- */
		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

/*
 * HvRegisterPendingInterruption: bit 0 pending, 3:1 type (0 external
 * interrupt, 2 NMI, 3 exception, 4 software interrupt), 4 deliver error
 * code, 31:16 vector, 63:32 error code. SVM's EVENTINJ has the vector in
 * 7:0, the type in 10:8, error-code-valid 11 and valid 31.
 */
#define HV_PENDING_VALID	BIT_ULL(0)
#define HV_PENDING_TYPE(v)	(((v) >> 1) & 7)
#define HV_PENDING_ERROR	BIT_ULL(4)
#define HV_PENDING_VECTOR(v)	(((v) >> 16) & 0xffff)

static bool svm_pending_interruption_ok(u64 v)
{
	u32 type = HV_PENDING_TYPE(v), vector = HV_PENDING_VECTOR(v);

	if (!(v & HV_PENDING_VALID))
		return !(v & 0xffffffffULL);
	if (vector > 255 || (v & GENMASK_ULL(15, 5)))
		return false;
	switch (type) {
	case 0:		/* external interrupt */
	case 4:		/* software interrupt */
		return !(v & HV_PENDING_ERROR) && vector >= 16;
	case 2:		/* NMI */
		return !(v & HV_PENDING_ERROR) && vector == NMI_VECTOR;
	case 3:		/* exception */
		return vector < 32 && vector != NMI_VECTOR;
	default:
		return false;
	}
}

static u32 svm_event_from_hv(u64 v)
{
	if (!(v & HV_PENDING_VALID))
		return 0;
	return HV_PENDING_VECTOR(v) | HV_PENDING_TYPE(v) << 8 |
	       (v & HV_PENDING_ERROR ? SVM_EVTINJ_VALID_ERR : 0) |
	       SVM_EVTINJ_VALID;
}

static u64 svm_event_to_hv(u32 e)
{
	if (!(e & SVM_EVTINJ_VALID))
		return 0;
	return HV_PENDING_VALID | ((e >> 8) & 7) << 1 |
	       (e & SVM_EVTINJ_VALID_ERR ? HV_PENDING_ERROR : 0) |
	       (u64)(e & 0xff) << 16;
}

/* The VMCB segment a name refers to, or NULL. */
static struct vmcb_seg *svm_seg(struct vmcb_save_area *save, u32 name)
{
	switch (name) {
	case HV_X64_REGISTER_ES: return &save->es;
	case HV_X64_REGISTER_CS: return &save->cs;
	case HV_X64_REGISTER_SS: return &save->ss;
	case HV_X64_REGISTER_DS: return &save->ds;
	case HV_X64_REGISTER_FS: return &save->fs;
	case HV_X64_REGISTER_GS: return &save->gs;
	case HV_X64_REGISTER_LDTR: return &save->ldtr;
	case HV_X64_REGISTER_TR: return &save->tr;
	case HV_X64_REGISTER_IDTR: return &save->idtr;
	case HV_X64_REGISTER_GDTR: return &save->gdtr;
	default: return NULL;
	}
}

/* The u64 a plain 64-bit register name is stored in, or NULL. */
static u64 *svm_reg64(struct svm_vp *svm, u32 name)
{
	struct vmcb_save_area *save = &svm->vmcb->save;

	if (name >= HV_X64_REGISTER_RAX && name <= HV_X64_REGISTER_R15) {
		if (name == HV_X64_REGISTER_RAX)
			return &save->rax;
		if (name == HV_X64_REGISTER_RSP)
			return &save->rsp;
		return &svm->gprs[name - HV_X64_REGISTER_RAX];
	}
	if (name >= HV_X64_REGISTER_DR0 && name <= HV_X64_REGISTER_DR3)
		return &svm->dr[name - HV_X64_REGISTER_DR0];

	switch (name) {
	case HV_X64_REGISTER_RIP: return &save->rip;
	case HV_X64_REGISTER_RFLAGS: return &save->rflags;
	case HV_X64_REGISTER_CR0: return &save->cr0;
	case HV_X64_REGISTER_CR2: return &save->cr2;
	case HV_X64_REGISTER_CR3: return &save->cr3;
	case HV_X64_REGISTER_CR4: return &save->cr4;
	case HV_X64_REGISTER_XFEM: return &svm->xcr0;
	case HV_X64_REGISTER_DR6: return &save->dr6;
	case HV_X64_REGISTER_DR7: return &save->dr7;
	case HV_X64_REGISTER_KERNEL_GS_BASE: return &save->kernel_gs_base;
	case HV_X64_REGISTER_PAT: return &save->g_pat;
	case HV_X64_REGISTER_SYSENTER_CS: return &save->sysenter_cs;
	case HV_X64_REGISTER_SYSENTER_EIP: return &save->sysenter_eip;
	case HV_X64_REGISTER_SYSENTER_ESP: return &save->sysenter_esp;
	case HV_X64_REGISTER_STAR: return &save->star;
	case HV_X64_REGISTER_LSTAR: return &save->lstar;
	case HV_X64_REGISTER_CSTAR: return &save->cstar;
	case HV_X64_REGISTER_SFMASK: return &save->sfmask;
	default: return NULL;
	}
}

static bool svm_is_reg64(u32 name)
{
	switch (name) {
	case HV_X64_REGISTER_TSC:
	case HV_X64_REGISTER_EFER:
	case HV_REGISTER_PENDING_INTERRUPTION:
	case HV_REGISTER_INTERRUPT_STATE:
		return true;
	default:
		return false;
	}
}

/* VMCB attributes keep AVL/L/DB/G in bits 11:8; the TLFS in 15:12. */
static u16 svm_attr_to_hv(u16 attrib)
{
	return (attrib & 0xff) | ((attrib & 0xf00) << 4);
}

static u16 svm_attr_from_hv(u16 attributes)
{
	return (attributes & 0xff) | ((attributes >> 4) & 0xf00);
}

static bool svm_check_value(u32 name, u64 v)
{
	switch (name) {
	case HV_X64_REGISTER_RFLAGS:
		return !(v & ~SVM_RFLAGS_VALID) && (v & X86_EFLAGS_FIXED);
	case HV_X64_REGISTER_CR0:
		if (v & ~SVM_CR0_VALID)
			return false;
		if ((v & X86_CR0_PG) && !(v & X86_CR0_PE))
			return false;
		return !((v & X86_CR0_NW) && !(v & X86_CR0_CD));
	case HV_X64_REGISTER_CR3:
		return !(v & SVM_CR3_RESERVED);
	case HV_X64_REGISTER_CR4:
		return !(v & ~svm_cr4_valid());
	case HV_REGISTER_PENDING_INTERRUPTION:
		return svm_pending_interruption_ok(v);
	case HV_REGISTER_INTERRUPT_STATE:
		return v <= 3;
	case HV_X64_REGISTER_XFEM:
		return svm_xcr0_ok(v);
	case HV_X64_REGISTER_DR6:
	case HV_X64_REGISTER_DR7:
	case HV_X64_REGISTER_SFMASK:
		return !upper_32_bits(v);
	case HV_X64_REGISTER_EFER:
		return !(v & ~SVM_EFER_VALID);
	case HV_X64_REGISTER_PAT:
		return svm_pat_valid(v);
	case HV_X64_REGISTER_KERNEL_GS_BASE:
	case HV_X64_REGISTER_LSTAR:
	case HV_X64_REGISTER_CSTAR:
	case HV_X64_REGISTER_SYSENTER_EIP:
	case HV_X64_REGISTER_SYSENTER_ESP:
		return svm_canonical(v);
	default:
		if (name >= HV_X64_REGISTER_DR0 && name <= HV_X64_REGISTER_DR3)
			return svm_canonical(v);
		return true;
	}
}

hv_status_t svm_vp_check_reg(struct hv_vp *vp, u32 name,
			     const union hv_reg_value *value)
{
	struct svm_vp *svm = to_svm(vp);
	struct vmcb_seg *seg = svm_seg(&svm->vmcb->save, name);

	if (svm_fpu_reg(name))
		return svm_fpu_check_reg(name, value) ? HV_STATUS_SUCCESS :
			HV_STATUS_INVALID_PARAMETER;
	if (seg) {
		if (name == HV_X64_REGISTER_IDTR ||
		    name == HV_X64_REGISTER_GDTR) {
			const struct hv_reg_table *t = &value->table;

			if (t->pad[0] || t->pad[1] || t->pad[2] ||
			    !svm_canonical(t->base))
				return HV_STATUS_INVALID_PARAMETER;
			return HV_STATUS_SUCCESS;
		}
		if ((value->segment.attributes & 0x0f00) ||
		    !svm_canonical(value->segment.base))
			return HV_STATUS_INVALID_PARAMETER;
		return HV_STATUS_SUCCESS;
	}
	if (!svm_reg64(svm, name) && !svm_is_reg64(name))
		return HV_STATUS_INVALID_PARAMETER;
	if (memchr_inv(&value->bytes[8], 0, 8))
		return HV_STATUS_INVALID_PARAMETER;
	if (!svm_check_value(name, value->reg64))
		return HV_STATUS_INVALID_PARAMETER;
	return HV_STATUS_SUCCESS;
}

void svm_vp_set_reg(struct hv_vp *vp, u32 name,
		    const union hv_reg_value *value)
{
	struct svm_vp *svm = to_svm(vp);
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_seg *seg = svm_seg(&vmcb->save, name);
	u64 *reg;

	svm->state_dirty = true;
	if (svm_fpu_reg(name)) {
		svm_fpu_set_reg(svm, name, value);
		return;
	}
	if (seg) {
		if (name == HV_X64_REGISTER_IDTR ||
		    name == HV_X64_REGISTER_GDTR) {
			seg->limit = value->table.limit;
			seg->base = value->table.base;
		} else {
			seg->base = value->segment.base;
			seg->limit = value->segment.limit;
			seg->selector = value->segment.selector;
			seg->attrib = svm_attr_from_hv(value->segment.attributes);
			if (name == HV_X64_REGISTER_SS)
				vmcb->save.cpl = (seg->attrib >> 5) & 3;
		}
		return;
	}
	switch (name) {
	case HV_REGISTER_PENDING_INTERRUPTION:
		vmcb->control.event_inj = svm_event_from_hv(value->reg64);
		vmcb->control.event_inj_err = value->reg64 >> 32;
		return;
	case HV_REGISTER_INTERRUPT_STATE:
		vmcb->control.int_state = value->reg64 & 1 ?
					  SVM_INTERRUPT_SHADOW_MASK : 0;
		svm->nmi_masked = value->reg64 & 2;
		if (svm->nmi_masked)
			svm_set_intercept(svm, INTERCEPT_IRET);
		else
			svm_clr_intercept(svm, INTERCEPT_IRET);
		return;
	case HV_X64_REGISTER_TSC:
		vmcb->control.tsc_offset = value->reg64 - rdtsc();
		return;
	case HV_X64_REGISTER_EFER:
		vmcb->save.efer = value->reg64 | EFER_SVME;
		return;
	}
	reg = svm_reg64(svm, name);
	if (reg)
		*reg = value->reg64;
}

hv_status_t svm_vp_get_reg(struct hv_vp *vp, u32 name,
			   union hv_reg_value *value)
{
	struct svm_vp *svm = to_svm(vp);
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_seg *seg = svm_seg(&vmcb->save, name);
	u64 *reg;

	if (svm_fpu_reg(name)) {
		svm_fpu_get_reg(svm, name, value);
		return HV_STATUS_SUCCESS;
	}
	if (seg) {
		if (name == HV_X64_REGISTER_IDTR ||
		    name == HV_X64_REGISTER_GDTR) {
			value->table.limit = seg->limit;
			value->table.base = seg->base;
		} else {
			value->segment.base = seg->base;
			value->segment.limit = seg->limit;
			value->segment.selector = seg->selector;
			value->segment.attributes = svm_attr_to_hv(seg->attrib);
		}
		return HV_STATUS_SUCCESS;
	}
	switch (name) {
	case HV_REGISTER_PENDING_INTERRUPTION:
		value->reg64 = svm_event_to_hv(vmcb->control.event_inj) |
			       (u64)vmcb->control.event_inj_err << 32;
		return HV_STATUS_SUCCESS;
	case HV_REGISTER_INTERRUPT_STATE:
		value->reg64 = (vmcb->control.int_state &
				SVM_INTERRUPT_SHADOW_MASK ? 1 : 0) |
			       (svm->nmi_masked ? 2 : 0);
		return HV_STATUS_SUCCESS;
	case HV_X64_REGISTER_TSC:
		value->reg64 = rdtsc() + vmcb->control.tsc_offset;
		return HV_STATUS_SUCCESS;
	case HV_X64_REGISTER_EFER:
		value->reg64 = vmcb->save.efer & ~EFER_SVME;
		return HV_STATUS_SUCCESS;
	}
	reg = svm_reg64(svm, name);
	if (!reg)
		return HV_STATUS_INVALID_PARAMETER;
	value->reg64 = *reg;
	return HV_STATUS_SUCCESS;
}
