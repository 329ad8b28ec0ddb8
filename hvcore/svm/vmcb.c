// SPDX-License-Identifier: GPL-2.0
/*
 * Per-VP SVM state: allocation from the pool and the architectural INIT
 * state a new VP starts in.
 */
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <asm/apicdef.h>
#include <asm/debugreg.h>
#include <asm/fpu/types.h>

#include "svm.h"

/* VMCB segment attributes (compressed: AVL L DB G in bits 11:8). */
#define SVM_ATTR_CODE16		0x009b	/* present, S, execute/read, accessed */
#define SVM_ATTR_DATA16		0x0093	/* present, S, read/write, accessed */
#define SVM_ATTR_LDT		0x0082
#define SVM_ATTR_TSS16_BUSY	0x008b

static void svm_seg_reset(struct vmcb_seg *seg, u16 attrib)
{
	seg->selector = 0;
	seg->attrib = attrib;
	seg->limit = 0xffff;
	seg->base = 0;
}

/* The state INIT leaves a processor in (AMD APM vol. 2, table 14-1). */
static void svm_vp_reset(struct svm_vp *svm)
{
	struct vmcb_save_area *save = &svm->vmcb->save;

	svm_seg_reset(&save->cs, SVM_ATTR_CODE16);
	save->cs.selector = 0xf000;
	save->cs.base = 0xffff0000;
	svm_seg_reset(&save->ds, SVM_ATTR_DATA16);
	svm_seg_reset(&save->es, SVM_ATTR_DATA16);
	svm_seg_reset(&save->ss, SVM_ATTR_DATA16);
	svm_seg_reset(&save->fs, SVM_ATTR_DATA16);
	svm_seg_reset(&save->gs, SVM_ATTR_DATA16);
	svm_seg_reset(&save->ldtr, SVM_ATTR_LDT);
	svm_seg_reset(&save->tr, SVM_ATTR_TSS16_BUSY);
	svm_seg_reset(&save->gdtr, 0);
	svm_seg_reset(&save->idtr, 0);

	save->rip = 0xfff0;
	save->rflags = X86_EFLAGS_FIXED;
	save->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	/* VMRUN requires EFER.SVME in the guest state; the guest never sees it. */
	save->efer = EFER_SVME;
	save->dr6 = DR6_RESERVED;
	save->dr7 = 0x400;	/* DR7 bit 10 reads as 1 */
	save->g_pat = 0x0007040600070406ULL;
	svm->xcr0 = XFEATURE_MASK_FP;
	svm_fpu_reset(svm);
	svm->nmi_masked = false;
}

/* Intercept what the hypervisor must see; everything else is the guest's. */
static void svm_vp_init_control(struct svm_vp *svm, void *npt_root)
{
	static const u32 intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_CPUID,
		INTERCEPT_HLT, INTERCEPT_INVLPGA, INTERCEPT_IOIO_PROT,
		INTERCEPT_MSR_PROT, INTERCEPT_SHUTDOWN, INTERCEPT_VMRUN,
		INTERCEPT_VMMCALL, INTERCEPT_VMLOAD, INTERCEPT_VMSAVE,
		INTERCEPT_STGI, INTERCEPT_CLGI, INTERCEPT_SKINIT,
		INTERCEPT_MONITOR, INTERCEPT_MWAIT, INTERCEPT_XSETBV,
		INTERCEPT_RDPRU,
		INTERCEPT_EXCEPTION_OFFSET + MC_VECTOR,
		/* MOV DR until the guest uses them (run.c) */
		INTERCEPT_DR0_READ, INTERCEPT_DR1_READ, INTERCEPT_DR2_READ,
		INTERCEPT_DR3_READ, INTERCEPT_DR4_READ, INTERCEPT_DR5_READ,
		INTERCEPT_DR6_READ, INTERCEPT_DR7_READ,
		INTERCEPT_DR0_WRITE, INTERCEPT_DR1_WRITE, INTERCEPT_DR2_WRITE,
		INTERCEPT_DR3_WRITE, INTERCEPT_DR4_WRITE, INTERCEPT_DR5_WRITE,
		INTERCEPT_DR6_WRITE, INTERCEPT_DR7_WRITE,
	};
	struct vmcb_control_area *c = &svm->vmcb->control;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		__set_bit(intercepts[i], (unsigned long *)c->intercepts);
	c->iopm_base_pa = svm_iopm_pa;
	c->msrpm_base_pa = svm_msrpm_pa;
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = __pa(npt_root);
	c->tlb_ctl = TLB_CONTROL_FLUSH_ASID;
	svm->last_cpu = -1;
}

hv_status_t svm_vp_create(struct hv_vp *vp)
{
	struct hv_pool *pool = &vp->partition->pool;
	struct svm_vp *svm;
	void *npt_root;

	BUILD_BUG_ON(offsetof(struct svm_vp, gprs) != 0);
	npt_root = svm_npt_root(vp->partition);
	if (!npt_root)
		return HV_STATUS_INSUFFICIENT_MEMORY;
	svm = hv_pool_alloc(pool);
	if (!svm)
		return HV_STATUS_INSUFFICIENT_MEMORY;
	svm->vmcb = hv_pool_alloc(pool);
	svm->fpu = hv_pool_alloc(pool);
	if (!svm->vmcb || !svm->fpu) {
		if (svm->vmcb)
			hv_pool_free(pool, svm->vmcb);
		if (svm->fpu)
			hv_pool_free(pool, svm->fpu);
		hv_pool_free(pool, svm);
		return HV_STATUS_INSUFFICIENT_MEMORY;
	}
	BUILD_BUG_ON(sizeof(*svm) > PAGE_SIZE);
	vp->arch = svm;
	svm_vp_reset(svm);
	svm_vp_init_control(svm, npt_root);
	svm->state_dirty = true;
	svm->slat_generation = vp->partition->slat_generation;
	return HV_STATUS_SUCCESS;
}

/* INIT: the reset state, with no event in flight. */
void svm_vp_init(struct hv_vp *vp)
{
	struct svm_vp *svm = to_svm(vp);
	struct vmcb_control_area *c = &svm->vmcb->control;

	svm_vp_reset(svm);
	memset(svm->gprs, 0, sizeof(svm->gprs));
	svm->vmcb->save.rax = 0;
	svm->vmcb->save.rsp = 0;
	c->event_inj = 0;
	c->int_ctl &= ~(V_IRQ_MASK | V_TPR_MASK);
	svm->virq = 0;
	c->int_state = 0;
	svm_clr_intercept(svm, INTERCEPT_VINTR);
	svm_clr_intercept(svm, INTERCEPT_IRET);
	svm->state_dirty = true;
}

/* A startup IPI: real mode at vector << 12 (CS = vector << 8, IP = 0). */
void svm_vp_sipi(struct hv_vp *vp, u8 vector)
{
	struct vmcb_save_area *save = &to_svm(vp)->vmcb->save;

	save->cs.selector = vector << 8;
	save->cs.base = (u64)vector << 12;
	save->rip = 0;
	to_svm(vp)->state_dirty = true;
}

void svm_vp_flush_tlb(struct hv_vp *vp)
{
	struct vmcb_control_area *c = &to_svm(vp)->vmcb->control;

	if (c->tlb_ctl == TLB_CONTROL_DO_NOTHING)
		c->tlb_ctl = TLB_CONTROL_FLUSH_ASID;
}

bool svm_slat_lookup(struct hv_partition *p, u64 gfn, u64 *pfn,
		     bool *writable)
{
	return svm_npt_lookup(p, gfn, pfn, writable);
}

void svm_vp_destroy(struct hv_vp *vp)
{
	struct hv_pool *pool = &vp->partition->pool;
	struct svm_vp *svm = to_svm(vp);

	hv_pool_free(pool, svm->fpu);
	hv_pool_free(pool, svm->vmcb);
	hv_pool_free(pool, svm);
	vp->arch = NULL;
}

/* Diagnostics: the VMCB's event and interrupt state, racy reads. */
void svm_vp_dump(struct hv_vp *vp, struct seq_file *m)
{
	struct svm_vp *svm = to_svm(vp);
	struct vmcb_control_area *c = &svm->vmcb->control;
	struct vmcb_save_area *s = &svm->vmcb->save;

	seq_printf(m, "  svm rip %#llx rflags %#llx int_ctl %#x int_vector %#x int_state %#llx event_inj %#x exit_code %#llx exit_int_info %#x virq %#x nmi_masked %d\n",
		   READ_ONCE(s->rip), READ_ONCE(s->rflags),
		   READ_ONCE(c->int_ctl), READ_ONCE(c->int_vector),
		   (u64)READ_ONCE(c->int_state), READ_ONCE(c->event_inj),
		   (u64)READ_ONCE(c->exit_code), READ_ONCE(c->exit_int_info),
		   READ_ONCE(svm->virq), READ_ONCE(svm->nmi_masked));
}
