// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID as the guest sees it: the host's leaves with the hypervisor bit
 * set and virtualization extensions hidden, the VP index as APIC ID, and
 * the Hyper-V hypervisor leaves (vendor from the partition, "Hv#1").
 * Finished in the kernel: it never reaches the root.
 */
#include <linux/minmax.h>
#include <asm/processor.h>

#include "svm.h"

/* Bytes of an XSAVE area (standard format) holding the features in @xcr0. */
static u32 svm_xsave_size(u64 xcr0)
{
	u32 size = 512 + 64, eax, ebx, ecx, edx;
	unsigned int i;

	for (i = 2; i < 64; i++) {
		if (!(xcr0 & BIT_ULL(i)))
			continue;
		eax = 0xd;
		ecx = i;
		native_cpuid(&eax, &ebx, &ecx, &edx);
		size = max(size, ebx + eax);
	}
	return size;
}

/*
 * A host leaf, edited to what the guest may see. The bits that mirror
 * control state (OSXSAVE, OSPKE, the XSAVE size for the enabled
 * features) follow the guest's CR4 and XCR0, not the host's.
 */
static void svm_cpuid_host_leaf(struct hv_vp *vp, u32 leaf, u32 subleaf,
				u32 *eax, u32 *ebx, u32 *ecx, u32 *edx)
{
	struct svm_vp *svm = to_svm(vp);
	u64 cr4 = svm->vmcb->save.cr4;

	/*
	 * The instruction itself: cpuid_count() is a paravirt call on
	 * kernels built for Xen PV too (Debian's), which no SVM host is.
	 */
	*eax = leaf;
	*ecx = subleaf;
	native_cpuid(eax, ebx, ecx, edx);
	if (leaf == 1) {
		*ecx &= ~BIT(5);		/* VMX */
		*ecx |= BIT(31);		/* hypervisor present */
		*ecx &= ~BIT(27);		/* OSXSAVE: the guest's */
		if (cr4 & X86_CR4_OSXSAVE)
			*ecx |= BIT(27);
		/* The vLAPIC: x2APIC and the TSC-deadline timer. */
		*ecx |= BIT(21) | BIT(24);
		*edx |= BIT(9);			/* APIC */
		*ebx = (*ebx & 0x00ffffff) | (vp->index << 24);
	} else if (leaf == 7 && subleaf == 0) {
		*ecx &= ~BIT(4);		/* OSPKE: the guest's */
		if (cr4 & X86_CR4_PKE)
			*ecx |= BIT(4);
	} else if (leaf == 0xb || leaf == 0x1f) {
		*edx = vp->index;		/* x2APIC id */
	} else if (leaf == 0x80000001) {
		*ecx &= ~BIT(2);		/* SVM */
	} else if (leaf == 0xd && subleaf == 0) {
		/* Only the XCR0 bits a guest may set. */
		*eax &= svm_xcr0_allowed();
		*edx = 0;
		*ebx = svm_xsave_size(svm->xcr0);
	} else if (leaf == 0xd && subleaf == 1) {
		*eax &= ~BIT(3);		/* XSAVES: no XSS */
	} else if (leaf == SVM_CPUID_FUNC) {
		*eax = 0;
		*ebx = 0;
		*ecx = 0;
		*edx = 0;
	}
}

void svm_emulate_cpuid(struct hv_vp *vp)
{
	struct svm_vp *svm = to_svm(vp);
	u32 leaf = svm->vmcb->save.rax, subleaf = svm->gprs[1];
	u32 eax = 0, ebx = 0, ecx = 0, edx = 0;

	/*
	 * The Hyper-V leaves come from hvcore; other hypervisor ranges are
	 * empty; the rest are the host's, edited (without a call into
	 * hvcore for them: this runs at every CPUID).
	 */
	if (leaf >= 0x40000000 && leaf < 0x40010000)
		hv_cpuid_hv_leaf(vp, leaf, &eax, &ebx, &ecx, &edx);
	else
		svm_cpuid_host_leaf(vp, leaf, subleaf, &eax, &ebx, &ecx, &edx);
	svm->vmcb->save.rax = eax;
	svm->gprs[3] = ebx;
	svm->gprs[1] = ecx;
	svm->gprs[2] = edx;
}
