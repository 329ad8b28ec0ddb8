/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The world switch: VMLOAD the guest's hidden state, VMRUN, and on
 * #VMEXIT save the guest's general registers, VMSAVE its hidden state
 * and VMLOAD the host's (GS base among it, so per-CPU data works again).
 *
 * Calling context: GIF = 0 (CLGI), RFLAGS.IF = 1 (the host IF at VMRUN
 * decides whether physical interrupts exit the guest; GIF = 0 keeps them
 * pending while host code runs), preemption disabled, the host's hidden
 * state VMSAVEd to @host_save_pa by the caller's CPU.
 *
 * void svm_vmrun(struct svm_vp *svm, u64 vmcb_pa, u64 host_save_pa)
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

/* Offsets of struct svm_vp.gprs[] (TLFS order), checked in C. */
#define GPR_RCX		(1 * 8)
#define GPR_RDX		(2 * 8)
#define GPR_RBX		(3 * 8)
#define GPR_RBP		(5 * 8)
#define GPR_RSI		(6 * 8)
#define GPR_RDI		(7 * 8)
#define GPR_R8		(8 * 8)
#define GPR_R9		(9 * 8)
#define GPR_R10		(10 * 8)
#define GPR_R11		(11 * 8)
#define GPR_R12		(12 * 8)
#define GPR_R13		(13 * 8)
#define GPR_R14		(14 * 8)
#define GPR_R15		(15 * 8)

	.text
SYM_FUNC_START(svm_vmrun)
	push %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx

	/* Saved in the reverse of the order they are needed after exit. */
	push %rdx		/* host save area */
	push %rsi		/* VMCB */
	push %rdi		/* @svm */

	mov %rsi, %rax
	vmload %rax
	mov GPR_RCX(%rdi), %rcx
	mov GPR_RDX(%rdi), %rdx
	mov GPR_RBX(%rdi), %rbx
	mov GPR_RBP(%rdi), %rbp
	mov GPR_RSI(%rdi), %rsi
	mov GPR_R8(%rdi),  %r8
	mov GPR_R9(%rdi),  %r9
	mov GPR_R10(%rdi), %r10
	mov GPR_R11(%rdi), %r11
	mov GPR_R12(%rdi), %r12
	mov GPR_R13(%rdi), %r13
	mov GPR_R14(%rdi), %r14
	mov GPR_R15(%rdi), %r15
	mov GPR_RDI(%rdi), %rdi

	vmrun %rax

	/* RAX and RSP are the host's again; everything else is the guest's. */
	pop %rax		/* @svm */
	mov %rcx, GPR_RCX(%rax)
	mov %rdx, GPR_RDX(%rax)
	mov %rbx, GPR_RBX(%rax)
	mov %rbp, GPR_RBP(%rax)
	mov %rsi, GPR_RSI(%rax)
	mov %rdi, GPR_RDI(%rax)
	mov %r8,  GPR_R8(%rax)
	mov %r9,  GPR_R9(%rax)
	mov %r10, GPR_R10(%rax)
	mov %r11, GPR_R11(%rax)
	mov %r12, GPR_R12(%rax)
	mov %r13, GPR_R13(%rax)
	mov %r14, GPR_R14(%rax)
	mov %r15, GPR_R15(%rax)

	pop %rax		/* VMCB */
	vmsave %rax
	pop %rax		/* host save area */
	vmload %rax
	/* Stuff the RSB before any RET: the guest may have trained it. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/* Retbleed/SRSO: untrain return prediction before the first RET. */
#ifdef UNTRAIN_RET_VM
	UNTRAIN_RET_VM
#else
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT
#endif

	/* Leave no guest value in a register the host might speculate on. */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d

	pop %rbx
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	pop %rbp
	RET

SYM_FUNC_END(svm_vmrun)
