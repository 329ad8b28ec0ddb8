// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM backend: hardware detection and per-CPU enable/disable.
 *
 * Ownership rule: EFER.SVME set on a CPU means some hypervisor owns it.
 * If it is set before we touch the CPU, it is not ours (kvm_amd on 6.12
 * sets it at module load): refuse with -EBUSY and touch nothing, the same
 * check KVM makes in svm_hardware_enable(), so the exclusion is symmetric.
 */
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/page.h>

#include "../arch.h"
#include "svm.h"

#define SVM_VM_CR_SVMDIS	BIT_ULL(4)
/* I/O permission map: 12 KiB; MSR permission map: 8 KiB (APM 15.10, 15.11). */
#define SVM_IOPM_ORDER		2
#define SVM_MSRPM_ORDER		1

u64 svm_iopm_pa, svm_msrpm_pa;
static struct page *svm_iopm, *svm_msrpm;

/*
 * One pair of permission maps for the whole hypervisor, every bit set:
 * every port and MSR access intercepts. They are part of the hypervisor
 * itself, not of a partition (physically contiguous, which deposited
 * pages are not), so they come from the page allocator at load.
 */
static int svm_permission_maps_alloc(void)
{
	svm_iopm = alloc_pages(GFP_KERNEL, SVM_IOPM_ORDER);
	svm_msrpm = alloc_pages(GFP_KERNEL, SVM_MSRPM_ORDER);
	if (!svm_iopm || !svm_msrpm) {
		if (svm_iopm)
			__free_pages(svm_iopm, SVM_IOPM_ORDER);
		if (svm_msrpm)
			__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
		return -ENOMEM;
	}
	memset(page_address(svm_iopm), 0xff, PAGE_SIZE << SVM_IOPM_ORDER);
	memset(page_address(svm_msrpm), 0xff, PAGE_SIZE << SVM_MSRPM_ORDER);
	svm_iopm_pa = PFN_PHYS(page_to_pfn(svm_iopm));
	svm_msrpm_pa = PFN_PHYS(page_to_pfn(svm_msrpm));
	return 0;
}

static void svm_hardware_exit(void)
{
	__free_pages(svm_iopm, SVM_IOPM_ORDER);
	__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
}

static int svm_hardware_probe(void)
{
	u64 vm_cr;

	if (!boot_cpu_has(X86_FEATURE_SVM)) {
		if (boot_cpu_has(X86_FEATURE_VMX))
			pr_err("vid: CPU has Intel VT-x, but the VMX backend is not implemented yet; AMD-V is required\n");
		else
			pr_err("vid: CPU has no hardware virtualization (AMD-V/SVM required)\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_NPT)) {
		pr_err("vid: CPU has AMD-V but no nested paging (NPT), which vid requires\n");
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) == 0 && (vm_cr & SVM_VM_CR_SVMDIS)) {
		pr_err("vid: AMD-V is disabled by the firmware (VM_CR.SVMDIS); enable SVM in the BIOS setup\n");
		return -ENODEV;
	}
	if (svm_fpu_setup())
		return -ENODEV;
	svm_run_setup();
	return svm_permission_maps_alloc();
}

static int svm_hardware_enable_cpu(void *host_save)
{
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;
	wrmsrl(MSR_VM_HSAVE_PA, __pa(host_save));
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	return 0;
}

static void svm_hardware_disable_cpu(void)
{
	u64 efer;

	/* GIF must be set before SVME is cleared, or interrupts stay off. */
	asm volatile("stgi" ::: "memory");
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, 0);
}

const struct hv_arch_ops svm_arch_ops = {
	.name = "svm",
	.hardware_probe = svm_hardware_probe,
	.hardware_enable_cpu = svm_hardware_enable_cpu,
	.hardware_disable_cpu = svm_hardware_disable_cpu,
	.hardware_exit = svm_hardware_exit,
	.slat_map = svm_slat_map,
	.slat_unmap = svm_slat_unmap,
	.slat_destroy = svm_slat_destroy,
	.slat_lookup = svm_slat_lookup,
	.vp_create = svm_vp_create,
	.vp_destroy = svm_vp_destroy,
	.vp_check_reg = svm_vp_check_reg,
	.vp_set_reg = svm_vp_set_reg,
	.vp_get_reg = svm_vp_get_reg,
	.vp_init = svm_vp_init,
	.vp_sipi = svm_vp_sipi,
	.vp_flush_tlb = svm_vp_flush_tlb,
	.vp_run = svm_vp_run,
	.vp_dump = svm_vp_dump,
	.measure_floor = svm_measure_floor,
};
