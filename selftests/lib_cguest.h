/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest side of C guests (vid_guest_create_c() in lib_guest.h), in
 * the style of the KVM selftests' processor.h and ucall_common.h:
 * ucalls, assertions, MSRs, CPUID, control registers, interrupts, the
 * TSC, the hypercall instruction, XCR0 and the x2APIC, plus "safe"
 * variants that return the vector of an exception the instruction
 * raised instead of taking it.
 *
 * Everything here is static inline (or a macro) and guest-safe: a guest
 * function may call it, and call other functions of the test binary that
 * are themselves guest-safe (see vid_guest_create_c() for what is not).
 * Host code may include this header too (the test file does), but must
 * not call the helpers: they execute privileged instructions.
 *
 * This header replaces lib_guest.h's asm-text macros of the same names
 * (GUEST_UCALL, GUEST_DONE, GUEST_VALUE, GUEST_ASSERT_EQ*): a test file
 * holds either asm-text programs or C guests.
 *
 * A guest function and its ucalls:
 *
 *	static void guest_code(unsigned int vp_index)
 *	{
 *		GUEST_SYNC(vp_index, rdmsr(0x10));	// UCALL_SYNC, 2 args
 *		GUEST_ASSERT_EQ(vp_index, guest_vp_index());
 *	}					// returning: UCALL_DONE
 *
 *	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_code);
 *	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);	// uc.args[0] == 0
 */
#ifndef VID_LIB_CGUEST_H
#define VID_LIB_CGUEST_H

#include <stdint.h>

#include "lib_guest.h"

#undef GUEST_UCALL
#undef GUEST_DONE
#undef GUEST_VALUE
#undef GUEST_ASSERT_EQ
#undef GUEST_ASSERT_EQ64

/* Exception vectors. */
#define DE_VECTOR	0
#define DB_VECTOR	1
#define NMI_VECTOR	2
#define BP_VECTOR	3
#define OF_VECTOR	4
#define BR_VECTOR	5
#define UD_VECTOR	6
#define NM_VECTOR	7
#define DF_VECTOR	8
#define TS_VECTOR	10
#define NP_VECTOR	11
#define SS_VECTOR	12
#define GP_VECTOR	13
#define PF_VECTOR	14
#define MF_VECTOR	16
#define AC_VECTOR	17
#define MC_VECTOR	18
#define XM_VECTOR	19

/* MSRs and bits the helpers use. */
#define MSR_IA32_APICBASE		0x1b
#define MSR_IA32_APICBASE_EXTD		0x400ULL	/* bit 10 */
#define MSR_IA32_APICBASE_ENABLE	0x800ULL	/* bit 11 */
#define X86_CR4_OSXSAVE			0x40000ULL	/* bit 18 */

/* x2APIC: register r of the xAPIC MMIO page is MSR 0x800 + (r >> 4). */
#define X2APIC_MSR_BASE		0x800
#define APIC_ID			0x20
#define APIC_LVR		0x30
#define APIC_TASKPRI		0x80
#define APIC_EOI		0xb0
#define APIC_SPIV		0xf0
#define APIC_SPIV_APIC_ENABLED	0x100
#define APIC_ICR		0x300
#define APIC_INT_ASSERT		0x4000
#define APIC_LVTT		0x320

/*
 * Attributes guest code may want, in the kernel's spelling: noinline for
 * a function that must stay a real call (a handler's RIP, a stack
 * frame), and GUEST_HIDE_VAR() (the kernel's OPTIMIZER_HIDE_VAR()) to
 * keep the compiler from knowing a value and computing with it at
 * compile time.
 */
#define VID_ATTR(a)		__attribute__((a))
#ifndef noinline
#define noinline		VID_ATTR(noinline)
#endif
#define GUEST_HIDE_VAR(var)	__asm__ volatile("" : "+r"(var))

/* The ucall: EAX = @cmd at a 4-byte OUT to VID_UCALL_PORT. */
static inline void guest_ucall(uint64_t cmd, uint64_t a0, uint64_t a1,
			       uint64_t a2, uint64_t a3)
{
	/* "memory": what the guest wrote is in RAM when the host looks. */
	__asm__ volatile("out %%eax, %[port]"
			 : : "a"(cmd), "D"(a0), "S"(a1), "d"(a2), "b"(a3),
			   [port] "N"(VID_UCALL_PORT)
			 : "memory");
}

/* GUEST_SYNC(a[, b[, c[, d]]]): UCALL_SYNC with 1 to 4 values. */
#define GUEST_SYNC(...)	__GUEST_SYNC(__VA_ARGS__, 0, 0, 0, 0)
#define __GUEST_SYNC(a, b, c, d, ...)					\
	guest_ucall(UCALL_SYNC, (uint64_t)(a), (uint64_t)(b),		\
		    (uint64_t)(c), (uint64_t)(d))
/* UCALL_DONE; the guest goes on if the host runs it again. */
#define GUEST_DONE()	guest_ucall(UCALL_DONE, 0, 0, 0, 0)

/*
 * A failed assertion: UCALL_ASSERT with args[0] = line, args[1] and
 * args[2] = the values (0 for GUEST_ASSERT()), args[3] = the guest
 * address of a "file: expression" string in the binary's .rodata (the
 * host prints it, struct vid_ucall.text). The VP then halts for good.
 */
static inline _Noreturn void
guest_assert_fail(uint64_t line, uint64_t a, uint64_t b, const char *what)
{
	guest_ucall(UCALL_ASSERT, line, a, b, (uint64_t)what);
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

#define __GUEST_ASSERT(cond, a, b, what) do {				\
	if (!(cond))							\
		guest_assert_fail(__LINE__, a, b, __FILE__ ": " what);	\
} while (0)
#define GUEST_ASSERT(cond)						\
	__GUEST_ASSERT(cond, 0, 0, "GUEST_ASSERT(" #cond ")")
#define GUEST_ASSERT_EQ(a, b) do {					\
	uint64_t __ga = (uint64_t)(a), __gb = (uint64_t)(b);		\
	__GUEST_ASSERT(__ga == __gb, __ga, __gb,			\
		       "GUEST_ASSERT_EQ(" #a ", " #b ")");		\
} while (0)
#define GUEST_ASSERT_NE(a, b) do {					\
	uint64_t __ga = (uint64_t)(a), __gb = (uint64_t)(b);		\
	__GUEST_ASSERT(__ga != __gb, __ga, __gb,			\
		       "GUEST_ASSERT_NE(" #a ", " #b ")");		\
} while (0)
#define GUEST_FAIL(what)						\
	guest_assert_fail(__LINE__, 0, 0, __FILE__ ": GUEST_FAIL(" what ")")

/* The handler table the dispatcher consults (lib_guest.c). */
extern vid_guest_handler_t vid_guest_handlers[256];

/* Guest side of vid_guest_install_handler(): for this guest's VPs. */
static inline void guest_install_handler(uint8_t vector,
					 vid_guest_handler_t fn)
{
	vid_guest_handlers[vector] = fn;
}

/* This VP's index, from its area at FS (VID_CGUEST_VP_AREA_GPA). */
static inline unsigned int guest_vp_index(void)
{
	uint64_t vp;

	__asm__ volatile("mov %%fs:8, %0" : "=r"(vp));
	return vp;
}

/*
 * Exception-safe instructions, as the KVM selftests' KVM_ASM_SAFE():
 * R9 = a magic value, R10 = the guarded instruction, R11 = where to go
 * on; when an exception (vector < 32) hits exactly that instruction, the
 * dispatcher skips its handler table, resumes at R11 with R9 = the vector
 * and R10 = the error code. So the vector is 0 when nothing happened
 * (which is also #DE: do not guard a division). The instruction must not
 * use R9-R11.
 *
 *	__asm__ volatile(GUEST_ASM_SAFE("rdmsr")
 *			 : "=a"(lo), "=d"(hi),
 *			   GUEST_ASM_SAFE_OUTPUTS(vector, error_code)
 *			 : "c"(msr) : GUEST_ASM_SAFE_CLOBBERS);
 */
#define VID_GUEST_SAFE_MAGIC	0x5afe5afe5afe
#define GUEST_ASM_SAFE(insn)						\
	"movabs $" VID_STR(VID_GUEST_SAFE_MAGIC) ", %%r9\n\t"		\
	"lea 1f(%%rip), %%r10\n\t"					\
	"lea 2f(%%rip), %%r11\n\t"					\
	"1: " insn "\n\t"						\
	"xor %%r9d, %%r9d\n\t"						\
	"2:\n\t"							\
	"mov %%r9b, %[vector]\n\t"					\
	"mov %%r10, %[error_code]\n\t"
#define GUEST_ASM_SAFE_OUTPUTS(v, ec)	[vector] "=r"(v), [error_code] "=r"(ec)
#define GUEST_ASM_SAFE_CLOBBERS		"r9", "r10", "r11", "memory"

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr"
			 : : "c"(msr), "a"((uint32_t)value),
			   "d"((uint32_t)(value >> 32))
			 : "memory");
}

/* RDMSR; returns the vector it raised (#GP: GP_VECTOR) or 0. */
static inline uint8_t rdmsr_safe(uint32_t msr, uint64_t *value)
{
	uint64_t error_code;
	uint32_t lo, hi;
	uint8_t vector;

	__asm__ volatile(GUEST_ASM_SAFE("rdmsr")
			 : "=a"(lo), "=d"(hi),
			   GUEST_ASM_SAFE_OUTPUTS(vector, error_code)
			 : "c"(msr)
			 : GUEST_ASM_SAFE_CLOBBERS);
	(void)error_code;
	*value = (uint64_t)hi << 32 | lo;
	return vector;
}

/* WRMSR; returns the vector it raised or 0. */
static inline uint8_t wrmsr_safe(uint32_t msr, uint64_t value)
{
	uint64_t error_code;
	uint8_t vector;

	__asm__ volatile(GUEST_ASM_SAFE("wrmsr")
			 : GUEST_ASM_SAFE_OUTPUTS(vector, error_code)
			 : "c"(msr), "a"((uint32_t)value),
			   "d"((uint32_t)(value >> 32))
			 : GUEST_ASM_SAFE_CLOBBERS);
	(void)error_code;
	return vector;
}

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *eax,
			 uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
	__asm__ volatile("cpuid"
			 : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx)
			 : "a"(leaf), "c"(subleaf)
			 : "memory");
}

static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void sti(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void hlt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}

/* STI; HLT: wait for an interrupt with no window for it to slip by. */
static inline void sti_hlt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t get_rflags(void)
{
	uint64_t v;

	__asm__ volatile("pushf; pop %0" : "=r"(v) :: "memory");
	return v;
}

#define GUEST_CR_ACCESSORS(n)						\
static inline uint64_t get_cr##n(void)					\
{									\
	uint64_t v;							\
									\
	__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v) :: "memory");	\
	return v;							\
}									\
static inline void set_cr##n(uint64_t v)				\
{									\
	__asm__ volatile("mov %0, %%cr" #n :: "r"(v) : "memory");	\
}

GUEST_CR_ACCESSORS(0)
GUEST_CR_ACCESSORS(2)
GUEST_CR_ACCESSORS(3)
GUEST_CR_ACCESSORS(4)
#undef GUEST_CR_ACCESSORS

/*
 * MOV to CR4; returns the vector it raised (reserved bit: #GP) or 0.
 * Under QEMU's TCG a reserved bit in an SVM guest ends the run as
 * VID_MSG_INVALID_VP_REGISTER_VALUE instead (seen with QEMU 7.2).
 */
static inline uint8_t set_cr4_safe(uint64_t v)
{
	uint64_t error_code;
	uint8_t vector;

	__asm__ volatile(GUEST_ASM_SAFE("mov %[v], %%cr4")
			 : GUEST_ASM_SAFE_OUTPUTS(vector, error_code)
			 : [v] "r"(v)
			 : GUEST_ASM_SAFE_CLOBBERS);
	(void)error_code;
	return vector;
}

/*
 * The hypercall instruction with the TLFS register convention: RCX =
 * control (call code, flags, rep count), RDX = input page GPA, R8 =
 * output page GPA; returns RAX (the hypercall result value).
 */
static inline uint64_t vmmcall(uint64_t control, uint64_t input,
			       uint64_t output)
{
	register uint64_t r8 __asm__("r8") = output;
	uint64_t status;

	__asm__ volatile("vmmcall"
			 : "=a"(status)
			 : "c"(control), "d"(input), "r"(r8)
			 : "memory");
	return status;
}

/* The same; returns the vector it raised (e.g. #UD) or 0. */
static inline uint8_t vmmcall_safe(uint64_t control, uint64_t input,
				   uint64_t output, uint64_t *status)
{
	register uint64_t r8 __asm__("r8") = output;
	uint64_t error_code, rax = 0;
	uint8_t vector;

	__asm__ volatile(GUEST_ASM_SAFE("vmmcall")
			 : "+a"(rax), GUEST_ASM_SAFE_OUTPUTS(vector, error_code)
			 : "c"(control), "d"(input), "r"(r8)
			 : GUEST_ASM_SAFE_CLOBBERS);
	(void)error_code;
	*status = rax;
	return vector;
}

/* XGETBV/XSETBV (need CR4.OSXSAVE, which the start state sets if it can). */
static inline uint64_t xgetbv(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return (uint64_t)hi << 32 | lo;
}

static inline void xsetbv(uint32_t index, uint64_t value)
{
	__asm__ volatile("xsetbv"
			 : : "c"(index), "a"((uint32_t)value),
			   "d"((uint32_t)(value >> 32))
			 : "memory");
}

/* XSETBV; returns the vector it raised (invalid XCR0: #GP) or 0. */
static inline uint8_t xsetbv_safe(uint32_t index, uint64_t value)
{
	uint64_t error_code;
	uint8_t vector;

	__asm__ volatile(GUEST_ASM_SAFE("xsetbv")
			 : GUEST_ASM_SAFE_OUTPUTS(vector, error_code)
			 : "c"(index), "a"((uint32_t)value),
			   "d"((uint32_t)(value >> 32))
			 : GUEST_ASM_SAFE_CLOBBERS);
	(void)error_code;
	return vector;
}

/*
 * x2APIC: @reg is the xAPIC register offset (APIC_*). x2apic_enable()
 * sets IA32_APIC_BASE.EN and EXTD and software-enables the APIC.
 */
static inline uint64_t x2apic_read_reg(unsigned int reg)
{
	return rdmsr(X2APIC_MSR_BASE + (reg >> 4));
}

static inline void x2apic_write_reg(unsigned int reg, uint64_t value)
{
	wrmsr(X2APIC_MSR_BASE + (reg >> 4), value);
}

static inline void x2apic_enable(void)
{
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) |
	      MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_EXTD);
	x2apic_write_reg(APIC_SPIV, x2apic_read_reg(APIC_SPIV) |
			 APIC_SPIV_APIC_ENABLED);
}

/* A fixed IPI with @vector to the x2APIC id @dest (physical mode). */
static inline void x2apic_send_ipi(uint32_t dest, uint8_t vector)
{
	x2apic_write_reg(APIC_ICR, (uint64_t)dest << 32 | APIC_INT_ASSERT |
			 vector);
}

static inline void x2apic_eoi(void)
{
	x2apic_write_reg(APIC_EOI, 0);
}

#endif /* VID_LIB_CGUEST_H */
