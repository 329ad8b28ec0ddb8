// SPDX-License-Identifier: GPL-2.0
/*
 * The floor: the bare cost of one world switch on this CPU, VMRUN into a
 * guest whose only instruction is VMMCALL (then a jump back to it), the
 * #VMEXIT, and nothing else: no exit handler, no run loop, IRQs and GIF
 * off throughout. Benchmarks report exits as multiples of it.
 *
 * The guest is flat 32-bit protected mode without nested paging, so its
 * physical addresses are host physical: its code page lives below 4 GiB.
 * The two scratch pages are a measurement's own, freed before returning.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/timekeeping.h>

#include "svm.h"

static const u8 svm_floor_code[] = {
	0x0f, 0x01, 0xd9,	/* vmmcall */
	0xeb, 0xfb,		/* jmp back to the vmmcall */
};

static void svm_floor_seg(struct vmcb_seg *seg, u16 attrib)
{
	seg->selector = 0x10;
	seg->attrib = attrib;
	seg->limit = 0xffffffff;
	seg->base = 0;
}

static void svm_floor_vmcb(struct vmcb *vmcb, u64 code_pa)
{
	struct vmcb_control_area *c = &vmcb->control;
	struct vmcb_save_area *s = &vmcb->save;

	__set_bit(INTERCEPT_VMRUN, (unsigned long *)c->intercepts);
	__set_bit(INTERCEPT_VMMCALL, (unsigned long *)c->intercepts);
	c->iopm_base_pa = svm_iopm_pa;
	c->msrpm_base_pa = svm_msrpm_pa;
	c->asid = 1;
	c->tlb_ctl = TLB_CONTROL_FLUSH_ASID;
	c->int_ctl = V_INTR_MASKING_MASK;
	svm_floor_seg(&s->cs, 0x0c9b);		/* 32-bit code, G, D */
	s->cs.selector = 0x08;
	svm_floor_seg(&s->ds, 0x0c93);
	svm_floor_seg(&s->es, 0x0c93);
	svm_floor_seg(&s->ss, 0x0c93);
	svm_floor_seg(&s->fs, 0x0c93);
	svm_floor_seg(&s->gs, 0x0c93);
	s->tr.attrib = 0x008b;
	s->tr.limit = 0xffff;
	s->ldtr.attrib = 0x0082;
	s->cr0 = X86_CR0_PE | X86_CR0_ET;
	s->efer = EFER_SVME;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = code_pa;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->g_pat = 0x0007040600070406ULL;
}

int svm_measure_floor(u32 iterations, u64 *ns)
{
	struct page *vmcb_page, *code_page;
	struct svm_vp scratch = {};
	struct vmcb *vmcb;
	int err = 0;
	u64 start;
	u32 i;

	vmcb_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	code_page = alloc_page(GFP_KERNEL | GFP_DMA32 | __GFP_ZERO);
	if (!vmcb_page || !code_page) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(page_address(code_page), svm_floor_code, sizeof(svm_floor_code));
	vmcb = page_address(vmcb_page);
	svm_floor_vmcb(vmcb, page_to_pfn(code_page) << PAGE_SHIFT);

	preempt_disable();
	local_irq_disable();
	asm volatile("clgi" ::: "memory");
	asm volatile("vmsave %%rax" :: "a"(hv_virt_host_save_pa()) : "memory");
	start = ktime_get_ns();
	for (i = 0; i < iterations; i++) {
		svm_vmrun(&scratch, page_to_pfn(vmcb_page) << PAGE_SHIFT,
			  hv_virt_host_save_pa());
		if (vmcb->control.exit_code != SVM_EXIT_VMMCALL) {
			err = -EIO;
			break;
		}
		vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
		vmcb->save.rip += 3;
	}
	*ns = ktime_get_ns() - start;
	asm volatile("stgi" ::: "memory");
	local_irq_enable();
	preempt_enable();
out:
	if (vmcb_page)
		__free_page(vmcb_page);
	if (code_page)
		__free_page(code_page);
	return err;
}
