// SPDX-License-Identifier: GPL-2.0
/*
 * Guest FPU/SSE/AVX state: each VP keeps its own XSAVE area (a page from
 * the pool). Around every guest entry the host's FPU state is parked with
 * kernel_fpu_begin(), the guest's is loaded with XRSTOR and its XCR0 set;
 * after the exit the guest's state is saved with XSAVE and the host's
 * XCR0 restored. The guest's XSETBV is emulated (checked, then kept in
 * svm->xcr0), and the VMM reads and writes XMM0-15 and the x87/SSE
 * control and status words by their TLFS names.
 */
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/processor.h>

#include "../hv_regs.h"
#include "svm.h"

/* Offsets in the legacy (FXSAVE) region of an XSAVE area. */
#define FX_FCW		0
#define FX_FSW		2
#define FX_FTW		4
#define FX_FOP		6
#define FX_FIP		8
#define FX_FDP		16
#define FX_MXCSR	24
#define FX_MXCSR_MASK	28
#define FX_XMM0		160
#define XSAVE_HEADER	512

#define MXCSR_DEFAULT	0x1f80

static u64 svm_host_xcr0;
/* Every MXCSR bit but the reserved upper half (DAZ is on all AMD64). */
static const u32 svm_mxcsr_mask = 0xffff;

static inline void svm_xsetbv(u64 value)
{
	asm volatile("xsetbv" :: "c"(0), "a"((u32)value), "d"((u32)(value >> 32)));
}

static inline u64 svm_xgetbv(void)
{
	u32 lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | (u64)hi << 32;
}

int svm_fpu_setup(void)
{
	if (!boot_cpu_has(X86_FEATURE_XSAVE) ||
	    cpuid_ebx(0xd) > PAGE_SIZE) {
		pr_err("vid: the CPU lacks XSAVE (or its area exceeds a page)\n");
		return -ENODEV;
	}
	svm_host_xcr0 = svm_xgetbv();
	return 0;
}

u64 svm_fpu_host_xcr0(void)
{
	return svm_host_xcr0;
}

/* The state after INIT: x87 and SSE at their reset values. */
void svm_fpu_reset(struct svm_vp *svm)
{
	u8 *area = svm->fpu;

	memset(area, 0, PAGE_SIZE);
	*(u16 *)(area + FX_FCW) = 0x37f;
	*(u32 *)(area + FX_MXCSR) = MXCSR_DEFAULT;
	/* XSTATE_BV = x87 | SSE: the legacy region above is what loads. */
	*(u64 *)(area + XSAVE_HEADER) = XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
}

/*
 * The components to switch: the guest's XCR0, plus x87 and SSE always
 * (SSE registers are usable whatever XCR0 says about them).
 */
static u64 svm_fpu_mask(struct svm_vp *svm)
{
	return svm->xcr0 | XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
}

/*
 * Process context, IRQs on: park the host state and disable preemption
 * (kernel_fpu_begin), load the guest's (the guest's XCR0 is a subset of
 * the host's, so the host's may stay).
 */
void svm_fpu_enter(struct svm_vp *svm)
{
	u64 mask = svm_fpu_mask(svm);

	kernel_fpu_begin_mask(0);
	asm volatile("xrstor64 %0" :: "m"(*(u8 *)svm->fpu),
		     "a"((u32)mask), "d"((u32)(mask >> 32)) : "memory");
}

/* IRQs off, right around VMRUN: the guest's XCR0 only while it runs. */
void svm_fpu_load_xcr0(struct svm_vp *svm)
{
	if (svm->xcr0 != svm_host_xcr0)
		svm_xsetbv(svm->xcr0);
}

/*
 * Right after the exit, IRQs off. The XCR0 the guest ran with is read
 * back, not assumed: QEMU's TCG (the test CPU) does not intercept
 * XSETBV, so a guest's XSETBV lands in the CPU's XCR0 and the exit
 * handler never sees it. A value the guest could have set through the
 * handler is kept as its own (else the next entry put back the old one:
 * a Linux guest ran with XCR0 = x87 alone and failed its first signal
 * return); whatever it is, the host gets its own back.
 */
void svm_fpu_put_xcr0(struct svm_vp *svm)
{
	u64 xcr0 = svm_xgetbv();

	if (unlikely(xcr0 != svm->xcr0) && svm_xcr0_ok(xcr0))
		svm->xcr0 = xcr0;
	if (xcr0 != svm_host_xcr0)
		svm_xsetbv(svm_host_xcr0);
}

/* IRQs on: save the guest's state, give the host its own, preempt again. */
void svm_fpu_exit(struct svm_vp *svm)
{
	u64 mask = svm_fpu_mask(svm);

	asm volatile("xsave64 %0" : "+m"(*(u8 *)svm->fpu)
		     : "a"((u32)mask), "d"((u32)(mask >> 32)) : "memory");
	kernel_fpu_end();
}

/* XSETBV: CPL 0, CR4.OSXSAVE, ECX 0, a value svm_xcr0_ok() accepts. */
bool svm_fpu_xsetbv(struct svm_vp *svm)
{
	struct vmcb_save_area *save = &svm->vmcb->save;
	u64 value = (u32)save->rax | svm->gprs[2] << 32;

	if (save->cpl || !(save->cr4 & X86_CR4_OSXSAVE) ||
	    (u32)svm->gprs[1] || !svm_xcr0_ok(value))
		return false;
	svm->xcr0 = value;
	return true;
}

bool svm_fpu_reg(u32 name)
{
	return (name >= HV_X64_REGISTER_XMM0 && name <= HV_X64_REGISTER_XMM15) ||
	       name == HV_X64_REGISTER_FP_CONTROL_STATUS ||
	       name == HV_X64_REGISTER_XMM_CONTROL_STATUS;
}

void svm_fpu_get_reg(struct svm_vp *svm, u32 name, union hv_reg_value *v)
{
	u8 *area = svm->fpu;

	if (name == HV_X64_REGISTER_FP_CONTROL_STATUS) {
		/* fcw, fsw, ftw, reserved, last op, last RIP */
		memcpy(v->bytes, area + FX_FCW, 8);
		memcpy(&v->bytes[8], area + FX_FIP, 8);
	} else if (name == HV_X64_REGISTER_XMM_CONTROL_STATUS) {
		/* last data pointer, MXCSR, MXCSR mask */
		memcpy(v->bytes, area + FX_FDP, 8);
		memcpy(&v->bytes[8], area + FX_MXCSR, 8);
	} else {
		memcpy(v->bytes, area + FX_XMM0 +
		       16 * (name - HV_X64_REGISTER_XMM0), 16);
	}
}

bool svm_fpu_check_reg(u32 name, const union hv_reg_value *v)
{
	u32 mxcsr;

	if (name == HV_X64_REGISTER_FP_CONTROL_STATUS)
		return !v->bytes[5];		/* the reserved byte */
	if (name != HV_X64_REGISTER_XMM_CONTROL_STATUS)
		return true;
	memcpy(&mxcsr, &v->bytes[8], 4);
	return !(mxcsr & ~svm_mxcsr_mask);
}

void svm_fpu_set_reg(struct svm_vp *svm, u32 name, const union hv_reg_value *v)
{
	u8 *area = svm->fpu;

	if (name == HV_X64_REGISTER_FP_CONTROL_STATUS) {
		memcpy(area + FX_FCW, v->bytes, 8);
		memcpy(area + FX_FIP, &v->bytes[8], 8);
	} else if (name == HV_X64_REGISTER_XMM_CONTROL_STATUS) {
		memcpy(area + FX_FDP, v->bytes, 8);
		memcpy(area + FX_MXCSR, &v->bytes[8], 4);
	} else {
		memcpy(area + FX_XMM0 + 16 * (name - HV_X64_REGISTER_XMM0),
		       v->bytes, 16);
	}
	/* The component now holds values: XRSTOR must load them. */
	*(u64 *)(area + XSAVE_HEADER) |= XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
}
