/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest for the vid kselftests, KVM-selftest style: a partition with
 * 4 MiB of RAM at GPA 0 and one or more VPs started in real mode, flat
 * 32-bit protected mode (with or without 4 KiB non-PAE paging) or 64-bit
 * long mode (4-level paging). The guest program is code from the test
 * binary itself (a top-level asm() block between two global labels)
 * copied to VID_GUEST_CODE_GPA; it reports to the test through a
 * port-I/O "ucall" that vid_guest_run() decodes.
 *
 * Guest physical memory:
 *
 *	0x000000  unused (HLT bytes)
 *	0x001000  GDT (VID_GUEST_SEL_*), then the TSS at 0x1800
 *	0x002000  page-table pages, handed out in order (to 0x10000)
 *	0x010000  the guest program (at most 64 KiB)
 *	0x020000  VID_GUEST_DATA_GPA: 64 KiB for the test's data
 *	0x070000  top of VP 0's stack (VP n: 0x70000 - n * 0x8000; in real
 *	          mode SS = top - 64 KiB, SP = 0xfff0)
 *	...       HLT bytes up to 4 MiB
 *
 * With paging, the first 4 MiB are identity mapped (4 KiB pages, read,
 * write, supervisor); vid_guest_map() adds more translations. Every VP
 * starts at VID_GUEST_CODE_GPA (real mode: CS = 0x1000, IP = 0) with
 * RDI = its VP index, RSP at its own stack, interrupts off, CPL 0 and an
 * empty IDT (any exception ends in a triple fault:
 * VID_MSG_UNRECOVERABLE_EXCEPTION).
 *
 * The ucall: the guest executes "out %eax, $VID_UCALL_PORT" (a 4-byte
 * OUT) with EAX = a UCALL_* command and its arguments in RDI, RSI, RDX
 * and RBX. vid_guest_run() returns it in struct vid_ucall and moves RIP
 * past the OUT, so the next run resumes after it. The GUEST_* macros
 * below are asm text for building guest programs.
 *
 * C guests (vid_guest_create_c()) are the other kind: guest code is
 * ordinary C functions of the test binary, run in 64-bit long mode with
 * an IDT, on a larger RAM with its own layout (VID_CGUEST_*, below). The
 * guest-side helpers for them (GUEST_SYNC(), GUEST_ASSERT(), rdmsr(), ...)
 * are in lib_cguest.h, which replaces the asm-text macros of this file.
 */
#ifndef VID_LIB_GUEST_H
#define VID_LIB_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "vid_test_util.h"

#define VID_GUEST_RAM_SIZE	0x400000ULL
#define VID_GUEST_GDT_GPA	0x1000ULL
#define VID_GUEST_TSS_GPA	0x1800ULL
#define VID_GUEST_PT_GPA	0x2000ULL
#define VID_GUEST_PT_END	0x10000ULL
#define VID_GUEST_CODE_GPA	0x10000ULL
#define VID_GUEST_CODE_MAX	0x10000ULL
#define VID_GUEST_DATA_GPA	0x20000ULL
#define VID_GUEST_DATA_SIZE	0x10000ULL
#define VID_GUEST_STACK_TOP(vp)	(0x70000ULL - (uint64_t)(vp) * 0x8000)
#define VID_GUEST_MAX_VPS	8

/* GDT selectors. */
#define VID_GUEST_SEL_CODE32	0x08
#define VID_GUEST_SEL_DATA	0x10
#define VID_GUEST_SEL_CODE64	0x18
#define VID_GUEST_SEL_TSS	0x28

/* Segment attributes in the TLFS layout (struct vid_segment). */
#define VID_SEG_ATTR_CODE16	0x009b	/* P, S, execute/read, accessed */
#define VID_SEG_ATTR_DATA16	0x0093	/* P, S, read/write, accessed */
#define VID_SEG_ATTR_CODE32	0xc09b	/* + G, D/B */
#define VID_SEG_ATTR_DATA32	0xc093
#define VID_SEG_ATTR_CODE64	0xa09b	/* + G, L */
#define VID_SEG_ATTR_TSS_BUSY	0x008b	/* P, busy 32/64-bit TSS */
#define VID_SEG_ATTR_L		0x2000
#define VID_SEG_ATTR_DB		0x4000

#define VID_X86_CR0_PE		0x00000001ULL
#define VID_X86_CR0_ET		0x00000010ULL
#define VID_X86_CR0_PG		0x80000000ULL
#define VID_X86_CR4_PAE		0x00000020ULL
#define VID_X86_EFER_LME	0x00000100ULL
#define VID_X86_EFER_LMA	0x00000400ULL

/* struct vid_intercept_header.execution_state bits. */
#define VID_EXEC_STATE_CR0_PE	0x0004
#define VID_EXEC_STATE_EFER_LMA	0x0010

enum vid_guest_mode {
	VID_GUEST_REAL,			/* 16-bit real mode */
	VID_GUEST_PROT32,		/* flat 32-bit protected mode, no paging */
	VID_GUEST_PROT32_PAGING,	/* the same with 4 KiB non-PAE paging */
	VID_GUEST_LONG64,		/* 64-bit long mode, 4-level paging */
};

/* ucall commands (EAX at the OUT); plain numbers for the asm text. */
#define VID_UCALL_PORT		0xe8
#define UCALL_NONE		0	/* not a ucall: see vid_ucall.msg */
#define UCALL_DONE		1	/* the guest program finished */
#define UCALL_VALUE		2	/* values for the test in the args */
#define UCALL_ASSERT		3	/* args[0] = line, args[1] = value */
/* C guests: args[0..2] = vector, RIP, error code; args[3] = CR2 */
#define UCALL_UNHANDLED		4	/* an exception without a handler */
#define UCALL_SYNC		UCALL_VALUE	/* GUEST_SYNC() of C guests */

/*
 * C guests (vid_guest_create_c()): 64 MiB of RAM, identity mapped
 * (guest virtual = guest physical) with 4 KiB pages, except page 0 (a
 * NULL dereference is a #PF) and the guard pages below each stack:
 *
 *	0x000000  not mapped
 *	0x001000  GDT: VID_GUEST_SEL_* as above, then a 16-byte TSS
 *	          descriptor per VP at VID_CGUEST_SEL_TSS(vp)
 *	0x002000  IDT: 256 interrupt gates into the common dispatcher
 *	          (#DF on IST1, a per-VP stack)
 *	0x003000  TSS of VP n at VID_CGUEST_TSS_GPA(n)
 *	0x004000  per-VP area of VP n at VID_CGUEST_VP_AREA_GPA(n): the VP's
 *	          FS base; 0: its own address, 8: VP index, 0x28: the
 *	          stack-protector canary (0)
 *	0x010000  page-table pages (to 0x90000; vid_guest_map() adds more)
 *	0x100000  stacks: VP n's from VID_CGUEST_STACK_TOP(n) down to its
 *	          guard page (not mapped) at VID_CGUEST_STACK_GUARD(n)
 *	0x200000  #DF stacks (4 KiB each, a guard page below each)
 *	0x400000  the test binary: its PT_LOAD segments at their own
 *	          addresses (a static non-PIE executable; below
 *	          VID_CGUEST_DATA_GPA)
 *	0x1000000 VID_CGUEST_DATA_GPA: free for the test, to the end of RAM
 */
#define VID_CGUEST_RAM_SIZE	0x4000000ULL
#define VID_CGUEST_IDT_GPA	0x2000ULL
#define VID_CGUEST_TSS_GPA(vp)	(0x3000ULL + (uint64_t)(vp) * 0x80)
#define VID_CGUEST_VP_AREA_GPA(vp) (0x4000ULL + (uint64_t)(vp) * 0x200)
#define VID_CGUEST_PT_GPA	0x10000ULL
#define VID_CGUEST_PT_END	0x90000ULL
#define VID_CGUEST_STACK_GUARD(vp) (0x100000ULL + (uint64_t)(vp) * 0x20000)
#define VID_CGUEST_STACK_TOP(vp) (VID_CGUEST_STACK_GUARD(vp) + 0x20000)
#define VID_CGUEST_IST_GUARD(vp) (0x200000ULL + (uint64_t)(vp) * 0x2000)
#define VID_CGUEST_IST_TOP(vp)	(VID_CGUEST_IST_GUARD(vp) + 0x2000)
#define VID_CGUEST_IMAGE_GPA	0x400000ULL
#define VID_CGUEST_DATA_GPA	0x1000000ULL
#define VID_CGUEST_SEL_TSS(vp)	(0x28 + 16 * (vp))

/*
 * What a C guest's exception handler gets: the interrupted GPRs, the
 * vector, the error code (0 for vectors without one) and the frame the
 * CPU pushed. A handler may change any of them (RIP to skip or redirect
 * the faulting instruction); they are restored by IRETQ. The layout is
 * the dispatcher's stack frame (lib_guest.c).
 */
struct vid_guest_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*vid_guest_handler_t)(struct vid_guest_regs *regs);

/**
 * struct vid_guest - a partition, its RAM and its VPs
 * @vid_fd: /dev/vid.
 * @part_fd: the partition.
 * @vp_fd: the VPs, index i at @vp_fd[i].
 * @msg: their message pages.
 * @nr_vps: VPs created.
 * @mode: the mode they start in.
 * @ram: the guest's RAM (@ram_size bytes at GPA 0).
 * @ram_size: VID_GUEST_RAM_SIZE, or VID_CGUEST_RAM_SIZE for a C guest.
 * @cr3: GPA of the top-level page table (0 without paging).
 * @pt_next: GPA of the next free page-table page.
 * @pt_end: end of the page-table area.
 * @guest_fn: a C guest's function (NULL for asm-text programs).
 */
struct vid_guest {
	int vid_fd;
	int part_fd;
	int vp_fd[VID_GUEST_MAX_VPS];
	const struct vid_message *msg[VID_GUEST_MAX_VPS];
	unsigned int nr_vps;
	enum vid_guest_mode mode;
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t cr3;
	uint64_t pt_next;
	uint64_t pt_end;
	void (*guest_fn)(unsigned int vp_index);
};

/**
 * struct vid_ucall - what one vid_guest_run() brought back
 * @cmd: UCALL_* (UCALL_NONE: the VP stopped for another reason).
 * @args: RDI, RSI, RDX, RBX at the OUT.
 * @msg: a copy of the VP's message (any message type).
 * @text: C guests: a failed GUEST_ASSERT*() (file, expression, values)
 *	or UCALL_UNHANDLED (the exception) spelled out for the test's log;
 *	"" otherwise.
 */
struct vid_ucall {
	uint64_t cmd;
	uint64_t args[4];
	struct vid_message msg;
	char text[192];
};

/*
 * Create a partition with one VP in @mode running the @len bytes at @code.
 * Returns 0 or -errno (-ENOENT: /dev/vid absent); on failure nothing is
 * left behind.
 */
int vid_guest_create(struct vid_guest *g, enum vid_guest_mode mode,
		     const void *code, size_t len);
/* The same with @nr_vps VPs (VID_PROP_MAX_VP_COUNT = @nr_vps). */
int vid_guest_create_vps(struct vid_guest *g, enum vid_guest_mode mode,
			 const void *code, size_t len, unsigned int nr_vps);
void vid_guest_destroy(struct vid_guest *g);
/* Put VP @vp back in its start state (registers only; RAM is kept). */
int vid_guest_reset_vp(struct vid_guest *g, unsigned int vp);

/*
 * Map the 4 KiB page at guest virtual @gva to guest physical @gpa
 * (read/write), replacing any translation there; page-table pages come
 * from the area at VID_GUEST_PT_GPA. Paging modes only (-EINVAL
 * otherwise, or for a GVA the mode cannot translate); -ENOMEM when the
 * page-table area is full. Call it before the VPs first run: the guest's
 * TLB is not flushed.
 */
int vid_guest_map(struct vid_guest *g, uint64_t gva, uint64_t gpa);

/*
 * Long mode: the host address of the page-table entry for @gva at @level
 * (0 = PTE, 1 = PDE, 2 = PDPTE, 3 = PML4E), for a test to edit; NULL when
 * a table above it is missing (vid_guest_map() builds them) or outside
 * the RAM, or in another mode.
 */
uint64_t *vid_guest_pte64(struct vid_guest *g, uint64_t gva, int level);

/* The host address of guest physical @gpa (NULL beyond the RAM). */
void *vid_guest_gpa(struct vid_guest *g, uint64_t gpa);

/*
 * Run VP @vp until it has a message for the VMM. A ucall is decoded into
 * @uc and RIP moved past its OUT; any other message is copied into
 * @uc->msg with @uc->cmd = UCALL_NONE and the VP left as it stopped.
 * Returns 0 or -errno from the kernel.
 */
int vid_guest_run_vp(struct vid_guest *g, unsigned int vp,
		     struct vid_ucall *uc);
static inline int vid_guest_run(struct vid_guest *g, struct vid_ucall *uc)
{
	return vid_guest_run_vp(g, 0, uc);
}

/*
 * When set, vid_guest_create*() call it with the new partition just
 * before VID_PARTITION_INITIALIZE, for properties fixed from then on (a
 * test's Hyper-V privileges, say); a non-zero return (-errno) fails the
 * creation. NULL by default.
 */
extern int (*vid_guest_before_initialize)(int part_fd);

/* Name of a UCALL_* command, for messages. */
const char *vid_ucall_name(uint64_t cmd);

/*
 * C guests, KVM-selftest style: a partition with VID_CGUEST_RAM_SIZE of
 * RAM and @nr_vps VPs, each starting in 64-bit long mode at
 * @guest_fn(vp_index) on its own stack (VID_CGUEST_* above). The guest
 * runs the test binary's own code: its PT_LOAD segments (read through
 * /proc/self/exe, which must be a static non-PIE executable: -ENOEXEC
 * otherwise) are copied into guest RAM at their own addresses, so
 * @guest_fn, what it calls, string literals and globals are where the
 * compiler put them.
 *
 * The guest has its own copy of .data and .bss: the host's values when
 * vid_guest_create_c() copied them (writable segments come from the
 * running process, so libc's IFUNC-resolved GOT entries are valid;
 * read-only ones from the file). Later writes on either side stay on that
 * side; vid_sync_global_to_guest()/_from_guest() copy one global across,
 * VID_GUEST_GLOBAL() names the guest's copy.
 *
 * Start state: CPL 0, interrupts off (RFLAGS = 2), CR0 = PE|MP|ET|NE|WP|
 * PG, CR4 = PAE|OSFXSR|OSXMMEXCPT (+ OSXSAVE with XCR0 = the host's x87/
 * SSE/AVX bits when the host has XSAVE enabled), EFER = LME|LMA, CS =
 * VID_GUEST_SEL_CODE64, the other segments flat data, FS base = the VP's
 * area, TR = its TSS, IDTR = the IDT. Every vector enters one dispatcher
 * (lib_guest.c) that saves the GPRs and the FXSAVE state and calls the
 * handler from vid_guest_install_handler() or guest_install_handler()
 * (lib_cguest.h); a fault inside GUEST_ASM_SAFE() returns to its caller
 * instead; any other exception or interrupt is reported as
 * UCALL_UNHANDLED and the VP halts (cli; hlt) - no triple fault. When
 * @guest_fn returns, the VP makes a UCALL_DONE and halts.
 *
 * Guest code must be guest-safe: no system calls, so no stdio, malloc,
 * errno or anything else of libc that may make one; no thread-local
 * variables (FS is the VP's area, not the host thread's TLS). Pure libc
 * functions the compiler may call on its own (memcpy, memset for large
 * copies) run when the instruction set glibc picked for them is enabled
 * in the guest (x87/SSE/AVX are; AVX-512 is not). The selftests are
 * built with -mno-red-zone (the dispatcher runs on the interrupted stack)
 * and work with or without -fstack-protector (canary at %fs:0x28).
 *
 * Returns 0 or -errno (-ENOENT: /dev/vid absent); on failure nothing is
 * left behind.
 */
int vid_guest_create_c(struct vid_guest *g, unsigned int nr_vps,
		       void (*guest_fn)(unsigned int vp_index));

/*
 * Print every VP's state from the module's debugfs (vid/vps) as TAP
 * comments: what a test shows when a guest waits for something too long.
 */
void vid_dump_vps(void);

/*
 * C guests: make @fn the guest's handler for @vector (NULL: none), in the
 * guest's copy of the handler table (shared by its VPs). Returns 0, or
 * -EINVAL for an asm-text guest or a vector above 255.
 */
int vid_guest_install_handler(struct vid_guest *g, unsigned int vector,
			      vid_guest_handler_t fn);

/*
 * C guests: the host address of the guest's copy of the object at guest
 * virtual @gva (a global of the test binary or any address in the RAM:
 * guest virtual = guest physical). NULL outside the RAM, on page 0 or for
 * an asm-text guest.
 */
void *vid_guest_addr(struct vid_guest *g, const void *gva);

/* The guest's copy of global @var (an lvalue), and copies across. */
#define VID_GUEST_GLOBAL(g, var)					\
	(*(__typeof__(var) *)vid_guest_addr(g, &(var)))
#define vid_sync_global_to_guest(g, var)				\
	memcpy(vid_guest_addr(g, &(var)), &(var), sizeof(var))
#define vid_sync_global_from_guest(g, var)				\
	memcpy(&(var), vid_guest_addr(g, &(var)), sizeof(var))

/*
 * Finish the VID_MSG_X64_MSR_INTERCEPT in @uc (from VP @vp): an RDMSR
 * reads @value (RAX and RDX), a WRMSR is accepted; RIP moves past the
 * instruction. Returns 0, -EINVAL if @uc is not an MSR intercept, or
 * -errno from the kernel.
 */
int vid_guest_complete_msr(struct vid_guest *g, unsigned int vp,
			   const struct vid_ucall *uc, uint64_t value);

/*
 * Guest-program asm text. Every macro works in 16-, 32- and 64-bit code
 * unless its name says 64. A ucall clobbers EAX (the command). An
 * assertion that holds changes only the flags (GUEST_ASSERT_EQ64: and
 * R11); one that fails makes a UCALL_ASSERT and halts. Assertions use the
 * local label 999.
 */
#define VID_STR_(x)		#x
#define VID_STR(x)		VID_STR_(x)

/* A ucall with command @cmd; the arguments are already in place. */
#define GUEST_UCALL(cmd)						\
	"mov $" VID_STR(cmd) ", %eax\n\t"				\
	"out %eax, $" VID_STR(VID_UCALL_PORT) "\n\t"
#define GUEST_DONE		GUEST_UCALL(UCALL_DONE)
#define GUEST_VALUE		GUEST_UCALL(UCALL_VALUE)

/*
 * Fail unless the 32-bit register @reg equals @val (an AT&T source
 * operand: "$imm" or a register): UCALL_ASSERT with this source line and
 * @reg's value, then HLT.
 */
#define GUEST_ASSERT_EQ(reg, val)					\
	"cmpl " val ", " reg "\n\t"					\
	"je 999f\n\t"							\
	"mov " reg ", %esi\n\t"						\
	"mov $" VID_STR(__LINE__) ", %edi\n\t"				\
	GUEST_UCALL(UCALL_ASSERT)					\
	"hlt\n\t"							\
	"999:\n\t"

/* 64-bit code only: the same for a 64-bit register and immediate. */
#define GUEST_ASSERT_EQ64(reg, imm)					\
	"movabs $" VID_STR(imm) ", %r11\n\t"				\
	"cmp %r11, " reg "\n\t"						\
	"je 999f\n\t"							\
	"mov " reg ", %rsi\n\t"						\
	"mov $" VID_STR(__LINE__) ", %edi\n\t"				\
	GUEST_UCALL(UCALL_ASSERT)					\
	"hlt\n\t"							\
	"999:\n\t"

/*
 * A guest program is a top-level asm() block in the test file:
 *
 *	__asm__(GUEST_BEGIN(name, ".code64")
 *		"...instructions...\n\t"
 *		GUEST_END(name));
 *	GUEST_DECLARE(name);
 *
 * defines the bytes name_start..name_end for vid_guest_create()
 * (GUEST_BYTES(name)). The code runs at VID_GUEST_CODE_GPA: jumps and calls
 * are relative, absolute addresses are guest physical (identity mapped).
 */
#define GUEST_BEGIN(name, bits)						\
	".pushsection .text.guest, \"ax\"\n"				\
	".globl " #name "_start, " #name "_end\n"			\
	bits "\n"							\
	#name "_start:\n\t"
#define GUEST_END(name)							\
	"\n" #name "_end:\n"						\
	".code64\n"							\
	".popsection\n"
#define GUEST_DECLARE(name)						\
	extern const uint8_t name##_start[], name##_end[]

#define GUEST_BYTES(name)	name##_start, (size_t)(name##_end - name##_start)
/* The guest address of @label, a label inside program @name. */
#define GUEST_LABEL_GPA(name, label)					\
	(VID_GUEST_CODE_GPA + (uint64_t)((label) - name##_start))

#ifndef VID_TEST_UTIL_NO_HARNESS

/* Set up @g or skip the test when /dev/vid is absent. */
#define VID_GUEST_CREATE_OR_SKIP(g, mode, name) do {			\
	int __r = vid_guest_create(g, mode, GUEST_BYTES(name));	\
	if (__r == -ENOENT)						\
		SKIP(return, "%s absent: vid.ko not loaded",		\
		     VID_DEVICE_PATH);					\
	ASSERT_EQ(0, __r)						\
		TH_LOG("vid_guest_create: %s", strerror(-__r));	\
} while (0)

/* Set up C guest @g with @nr VPs running @fn, or skip without /dev/vid. */
#define VID_GUEST_CREATE_C_OR_SKIP(g, nr, fn) do {			\
	int __r = vid_guest_create_c(g, nr, fn);			\
	if (__r == -ENOENT)						\
		SKIP(return, "%s absent: vid.ko not loaded",		\
		     VID_DEVICE_PATH);					\
	ASSERT_EQ(0, __r)						\
		TH_LOG("vid_guest_create_c: %s", strerror(-__r));	\
} while (0)

/*
 * The VP stopped at a ucall @expected; a guest assertion, an unhandled
 * exception of a C guest (unless @expected is UCALL_UNHANDLED) or any
 * other message fails the test with what it was.
 */
#define ASSERT_UCALL(uc, expected) do {					\
	const struct vid_ucall *__uc = (uc);				\
	ASSERT_NE(UCALL_ASSERT, __uc->cmd)				\
		TH_LOG("guest assertion failed at line %llu: value %#llx %s", \
		       (unsigned long long)__uc->args[0],		\
		       (unsigned long long)__uc->args[1], __uc->text);	\
	if ((uint64_t)(expected) != UCALL_UNHANDLED) {			\
		ASSERT_NE(UCALL_UNHANDLED, __uc->cmd)			\
			TH_LOG("guest: %s", __uc->text);		\
	}								\
	ASSERT_EQ((uint64_t)(expected), __uc->cmd)			\
		TH_LOG("expected %s, got %s (message %#x at RIP %#llx)",\
		       vid_ucall_name(expected), vid_ucall_name(__uc->cmd),\
		       __uc->msg.message_type,				\
		       (unsigned long long)__uc->msg.header.rip);	\
} while (0)

/* Run VP @vp of @g until the next ucall, which must be @expected. */
#define ASSERT_RUN_UCALL(g, vp, uc, expected) do {			\
	int __r = vid_guest_run_vp(g, vp, uc);				\
	ASSERT_EQ(0, __r)						\
		TH_LOG("VID_VP_RUN: %s", strerror(-__r));		\
	ASSERT_UCALL(uc, expected);					\
} while (0)

/* Run VP @vp of @g until its next message, which must be @type. */
#define ASSERT_RUN_MESSAGE(g, vp, uc, type) do {			\
	int __r = vid_guest_run_vp(g, vp, uc);				\
	ASSERT_EQ(0, __r)						\
		TH_LOG("VID_VP_RUN: %s", strerror(-__r));		\
	ASSERT_NE(UCALL_ASSERT, (uc)->cmd)				\
		TH_LOG("guest assertion failed at line %llu: value %#llx %s", \
		       (unsigned long long)(uc)->args[0],		\
		       (unsigned long long)(uc)->args[1], (uc)->text);	\
	ASSERT_EQ((uint32_t)(type), (uc)->msg.message_type)		\
		TH_LOG("message %#x (%s) at RIP %#llx",			\
		       (uc)->msg.message_type, vid_ucall_name((uc)->cmd),\
		       (unsigned long long)(uc)->msg.header.rip);	\
} while (0)

#endif /* VID_TEST_UTIL_NO_HARNESS */

#endif /* VID_LIB_GUEST_H */
