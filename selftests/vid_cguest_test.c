// SPDX-License-Identifier: GPL-2.0
/*
 * C guests (vid_guest_create_c(), lib_cguest.h): guest code written as C
 * functions of this binary, run by vid in 64-bit long mode.
 *
 * Proves that the guest runs the test binary's own code and data at
 * their own addresses (calls, recursion, function pointers, .rodata,
 * .data and .bss, SSE floating point, 64-bit arithmetic; its own copy of
 * the globals; identity-mapped RAM), that ucalls carry values and
 * assertions back, that exceptions enter the guest's IDT and C handlers
 * which can change RIP and registers (#DE, #GP with its error code, #UD,
 * handlers installed by the host or by the guest), that the safe
 * variants return the vector instead (faults the CPU raises and one vid
 * injects), that an exception without a handler is reported as
 * UCALL_UNHANDLED instead of a triple fault (even a stack overflow, a
 * #DF on its own stack), and that two VPs run the same function with
 * their own index, stack and per-VP area.
 */
#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib_cguest.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Instructions whose addresses the tests need, as tiny functions (a C
 * compiler could duplicate an inline asm label). Each faulting
 * instruction has a label on it (_insn) and one after it (_done).
 *	uint32_t cg_div(uint32_t a, uint32_t b)	a / b (DIV)
 *	void cg_load_ds(uint32_t selector)	MOV to DS
 *	void cg_ud2(void)			UD2
 *	uint64_t cg_read(const void *p)		a 64-bit load from @p
 */
__asm__(".pushsection .text, \"ax\"\n"
	".globl cg_div, cg_div_insn, cg_div_done\n"
	".globl cg_load_ds, cg_load_ds_insn, cg_load_ds_done\n"
	".globl cg_ud2, cg_ud2_insn, cg_ud2_done\n"
	".globl cg_read, cg_read_insn\n"
	"cg_div:\n\t"
	"mov %edi, %eax\n\t"
	"xor %edx, %edx\n"
	"cg_div_insn:\n\t"
	"div %esi\n"
	"cg_div_done:\n\t"
	"ret\n"
	"cg_load_ds:\n"
	"cg_load_ds_insn:\n\t"
	"mov %edi, %ds\n"
	"cg_load_ds_done:\n\t"
	"ret\n"
	"cg_ud2:\n"
	"cg_ud2_insn:\n\t"
	"ud2\n"
	"cg_ud2_done:\n\t"
	"ret\n"
	"cg_read:\n"
	"cg_read_insn:\n\t"
	"mov (%rdi), %rax\n\t"
	"ret\n"
	".popsection\n");
uint32_t cg_div(uint32_t a, uint32_t b);
void cg_load_ds(uint32_t selector);
void cg_ud2(void);
uint64_t cg_read(const void *p);
extern const uint8_t cg_div_insn[], cg_div_done[];
extern const uint8_t cg_load_ds_insn[], cg_load_ds_done[];
extern const uint8_t cg_ud2_insn[], cg_ud2_done[];
extern const uint8_t cg_read_insn[];

/* Calls, globals, arithmetic. */
static uint64_t cg_counter = 5;				/* .data */
static const uint32_t cg_primes[] = { 2, 3, 5, 7, 11, 13 };	/* .rodata */
static uint64_t cg_squares[64];				/* .bss */
static uint64_t cg_host_before;	/* set by the host before creating */
static uint64_t cg_host_after;	/* set by the host after, then synced */

static noinline uint64_t cg_fib(unsigned int n)
{
	return n < 2 ? n : cg_fib(n - 1) + cg_fib(n - 2);
}

static uint64_t cg_square(uint64_t v)
{
	return v * v;
}

/* An indirect call the compiler cannot turn into a direct one. */
static noinline uint64_t cg_apply(uint64_t (*fn)(uint64_t), uint64_t v)
{
	GUEST_HIDE_VAR(fn);
	return fn(v);
}

/* The same arithmetic on both sides, at run time. */
static void cg_arith(uint64_t out[4])
{
	uint64_t a = 0x0123456789abcdefULL, b = 0x1234567;

	GUEST_HIDE_VAR(a);
	GUEST_HIDE_VAR(b);
	out[0] = a / b;
	out[1] = a % b;
	out[2] = a * b;
	out[3] = (a >> 13) ^ (b << 7);
}

static uint64_t cg_float(void)
{
	double d = 1.0;
	int i;

	for (i = 0; i < 10; i++) {
		GUEST_HIDE_VAR(d);
		d = d * 1.5 + 0.25;
	}
	return (uint64_t)(d * 1000);
}

static void guest_basics(unsigned int vp)
{
	uint64_t local = 0x10ca1, sum = 0, arith[4];
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(cg_primes); i++)
		sum += cg_primes[i];
	cg_counter += 10;
	for (i = 0; i < ARRAY_LEN(cg_squares); i++)
		cg_squares[i] = cg_square(i);
	GUEST_SYNC(cg_fib(20), sum, cg_apply(cg_square, 0x12345), cg_counter);

	cg_arith(arith);
	GUEST_SYNC(arith[0], arith[1], arith[2], arith[3]);

	GUEST_ASSERT_EQ(cg_squares[63], 63 * 63);
	GUEST_ASSERT_EQ(guest_vp_index(), vp);
	GUEST_ASSERT(local == 0x10ca1);
	GUEST_SYNC(cg_float(), cg_host_before, cg_host_after, vp);

	/* RAM is identity mapped: this is the host's VID_CGUEST_DATA_GPA. */
	*(uint64_t *)VID_CGUEST_DATA_GPA = 0xda7a;
	GUEST_SYNC(&local, get_cr0(), get_cr4(), get_rflags());
}

TEST(calls_globals_arithmetic)
{
	uint64_t arith[4], cr0, cr4;
	struct vid_guest g;
	struct vid_ucall uc;

	cg_host_before = 0xbef0;
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_basics);
	cg_host_after = 0xaf7e;
	vid_sync_global_to_guest(&g, cg_host_after);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(6765, uc.args[0]);
	EXPECT_EQ(2 + 3 + 5 + 7 + 11 + 13, uc.args[1]);
	EXPECT_EQ(0x12345ULL * 0x12345, uc.args[2]);
	EXPECT_EQ(15, uc.args[3]);	/* the guest's copy: 5 + 10 */
	EXPECT_EQ(0, uc.msg.header.vp_index);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	cg_arith(arith);
	EXPECT_EQ(0, memcmp(arith, uc.args, sizeof(arith)))
		TH_LOG("guest %#llx %#llx %#llx %#llx",
		       (unsigned long long)uc.args[0],
		       (unsigned long long)uc.args[1],
		       (unsigned long long)uc.args[2],
		       (unsigned long long)uc.args[3]);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(cg_float(), uc.args[0]);
	EXPECT_EQ(0xbef0, uc.args[1]);	/* copied at creation */
	EXPECT_EQ(0xaf7e, uc.args[2]);	/* vid_sync_global_to_guest() */

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_LT(VID_CGUEST_STACK_TOP(0) - 0x1000, uc.args[0]);
	EXPECT_GT(VID_CGUEST_STACK_TOP(0), uc.args[0]);
	cr0 = uc.args[1];
	cr4 = uc.args[2];
	EXPECT_EQ(0x80010033, cr0 & 0x8005003f);	/* PG WP NE ET MP PE */
	EXPECT_EQ(0x620, cr4 & 0x620);		/* OSXMMEXCPT OSFXSR PAE */
	EXPECT_EQ(0, uc.args[3] & 0x200);	/* interrupts off */
	EXPECT_EQ(0xda7a, *(uint64_t *)vid_guest_gpa(&g, VID_CGUEST_DATA_GPA));

	/* Returning from the guest function is UCALL_DONE, then HLT. */
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_X64_HALT);

	/* Two copies of the globals: the host's is untouched. */
	EXPECT_EQ(5, cg_counter);
	EXPECT_EQ(15, VID_GUEST_GLOBAL(&g, cg_counter));
	EXPECT_EQ(0, cg_squares[9]);
	EXPECT_EQ(81, VID_GUEST_GLOBAL(&g, cg_squares)[9]);

	/* A reset VP starts the function again; the guest's RAM is kept. */
	ASSERT_EQ(0, vid_guest_reset_vp(&g, 0));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(25, uc.args[3]);
	vid_guest_destroy(&g);
}

/* A failed guest assertion: line, values and expression reach the host. */
static void guest_assert_fails(unsigned int vp)
{
	GUEST_ASSERT_EQ(cg_fib(10), 55);
	GUEST_ASSERT_EQ(cg_fib(10), 56);
	GUEST_SYNC(1);	/* not reached */
}

TEST(guest_assertion)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_assert_fails);
	ASSERT_EQ(0, vid_guest_run_vp(&g, 0, &uc));
	ASSERT_EQ(UCALL_ASSERT, uc.cmd);
	EXPECT_EQ(55, uc.args[1]);
	EXPECT_EQ(56, uc.args[2]);
	EXPECT_LT(0, uc.args[0]);
	EXPECT_NE(NULL, strstr(uc.text, "vid_cguest_test.c: "
			       "GUEST_ASSERT_EQ(cg_fib(10), 56)"))
		TH_LOG("text: %s", uc.text);
	/* The VP stays halted. */
	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_X64_HALT);
	vid_guest_destroy(&g);
}

/*
 * Handlers: what they saw. The guest reads these after calls to the asm
 * functions, which the compiler must assume may have run the handlers.
 */
struct cg_seen {
	uint64_t count, vector, error_code, rip;
};

static struct cg_seen cg_de, cg_gp, cg_ud;

static void cg_record(struct cg_seen *s, struct vid_guest_regs *regs)
{
	s->count++;
	s->vector = regs->vector;
	s->error_code = regs->error_code;
	s->rip = regs->rip;
}

/* #DE: the quotient becomes 0xdead and execution goes on after the DIV. */
static void cg_de_handler(struct vid_guest_regs *regs)
{
	cg_record(&cg_de, regs);
	regs->rax = 0xdead;
	regs->rip = (uint64_t)cg_div_done;
}

static void guest_divide(unsigned int vp)
{
	uint32_t q;

	GUEST_ASSERT_EQ(cg_div(100, 7), 14);
	GUEST_ASSERT_EQ(cg_de.count, 0);
	q = cg_div(100, 0);
	GUEST_SYNC(q, cg_de.count, cg_de.vector, cg_de.rip);
	q = cg_div(1, 0) + 1;
	GUEST_SYNC(q, cg_de.count, cg_de.error_code);
}

TEST(divide_error_handler)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_divide);
	ASSERT_EQ(0, vid_guest_install_handler(&g, DE_VECTOR, cg_de_handler));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(0xdead, uc.args[0]);
	EXPECT_EQ(1, uc.args[1]);
	EXPECT_EQ(DE_VECTOR, uc.args[2]);
	EXPECT_EQ((uint64_t)cg_div_insn, uc.args[3]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(0xdead + 1, uc.args[0]);
	EXPECT_EQ(2, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
}

/* #GP with an error code (installed by the guest) and #UD (by the host). */
static void cg_gp_handler(struct vid_guest_regs *regs)
{
	cg_record(&cg_gp, regs);
	if (regs->rip == (uint64_t)cg_load_ds_insn)
		regs->rip = (uint64_t)cg_load_ds_done;
	else	/* cg_read(): return an impossible value */
		regs->rax = 0xbad, regs->rip += 3;	/* mov (%rdi), %rax */
}

static void cg_ud_handler(struct vid_guest_regs *regs)
{
	cg_record(&cg_ud, regs);
	regs->rip = (uint64_t)cg_ud2_done;
}

static uint64_t cg_data_word = 0x600d;

static void guest_gp_ud(unsigned int vp)
{
	uint64_t v;

	guest_install_handler(GP_VECTOR, cg_gp_handler);
	/* A selector beyond the GDT limit: #GP(selector). */
	cg_load_ds(0xfff8);
	GUEST_SYNC(cg_gp.count, cg_gp.vector, cg_gp.error_code, cg_gp.rip);
	/* DS is still the flat data segment. */
	GUEST_ASSERT_EQ(cg_read(&cg_data_word), 0x600d);

	/* A non-canonical address: #GP(0). */
	v = cg_read((const void *)0x8000000000000000ULL);
	GUEST_SYNC(v, cg_gp.count, cg_gp.error_code, cg_gp.rip);

	cg_ud2();
	GUEST_SYNC(cg_ud.count, cg_ud.vector, cg_ud.error_code, cg_ud.rip);
}

TEST(gp_and_ud_handlers)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_gp_ud);
	ASSERT_EQ(0, vid_guest_install_handler(&g, UD_VECTOR, cg_ud_handler));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(GP_VECTOR, uc.args[1]);
	EXPECT_EQ(0xfff8, uc.args[2]);
	EXPECT_EQ((uint64_t)cg_load_ds_insn, uc.args[3]);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(0xbad, uc.args[0]);
	EXPECT_EQ(2, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);
	EXPECT_EQ((uint64_t)cg_read_insn, uc.args[3]);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(UD_VECTOR, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);
	EXPECT_EQ((uint64_t)cg_ud2_insn, uc.args[3]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	/* The host's handler table was never written. */
	EXPECT_EQ(NULL, vid_guest_handlers[UD_VECTOR]);
	vid_guest_destroy(&g);
}

/*
 * The safe variants: the vector comes back and no handler runs (a #GP
 * handler is installed to count). MSR 0x1234 is nothing vid knows: today
 * every MSR access is an intercept the host completes here; should vid
 * answer unknown MSRs with #GP itself, the guest sees that instead.
 */
#define CG_MSR		0x1234
#define CG_MSR_VALUE	0x1122334455667788ULL

static void cg_gp_count(struct vid_guest_regs *regs)
{
	cg_record(&cg_gp, regs);
	regs->rip = (uint64_t)cg_load_ds_done;
}

static void guest_safe(unsigned int vp)
{
	uint64_t error_code, value = 0, status = 0;
	uint8_t vector;

	/* GUEST_ASM_SAFE() itself: a bad selector, with its error code. */
	__asm__ volatile(GUEST_ASM_SAFE("mov %[sel], %%ds")
			 : GUEST_ASM_SAFE_OUTPUTS(vector, error_code)
			 : [sel] "r"(0xfff8U)
			 : GUEST_ASM_SAFE_CLOBBERS);
	GUEST_SYNC(vector, error_code, cg_gp.count);

	/* UD2 under GUEST_ASM_SAFE(): no error code. */
	__asm__ volatile(GUEST_ASM_SAFE("ud2")
			 : GUEST_ASM_SAFE_OUTPUTS(vector, error_code)
			 : : GUEST_ASM_SAFE_CLOBBERS);
	GUEST_SYNC(vector, error_code, cg_gp.count);

	/* XCR0 without x87: vid injects #GP. Then a valid value: nothing. */
	if (get_cr4() & X86_CR4_OSXSAVE) {
		uint64_t xcr0 = xgetbv(0);

		GUEST_SYNC(xsetbv_safe(0, 2), xsetbv_safe(0, xcr0),
			   xgetbv(0) == xcr0, xcr0);
	} else {
		GUEST_SYNC(0, 0, 0, 0);
	}

	/* MSRs. */
	vector = rdmsr_safe(CG_MSR, &value);
	GUEST_SYNC(vector, value);
	GUEST_SYNC(wrmsr_safe(CG_MSR, 0xabcdef), cg_gp.count);

	/*
	 * The hypercall instruction with no hypercall interface set up:
	 * vid injects #UD today; a hypervisor answering it instead must
	 * return an error for call code 0xffff.
	 */
	vector = vmmcall_safe(0xffff, 0, 0, &status);
	GUEST_SYNC(vector, status);

	/* Outside GUEST_ASM_SAFE() the handler sees the same fault. */
	cg_load_ds(0xfff8);
	GUEST_SYNC(cg_gp.count, cg_gp.error_code);
}

/* The host's XCR0, 0 without OSXSAVE. */
static uint64_t host_xcr0(void)
{
	unsigned int eax, ebx, ecx, edx;
	uint32_t lo, hi;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE))
		return 0;
	__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

/*
 * Run to the next ucall, completing MSR intercepts of CG_MSR: counted in
 * @msrs, the last one copied to @last.
 */
static int run_msrs(struct vid_guest *g, struct vid_ucall *uc, int *msrs,
		    struct vid_msr_intercept *last)
{
	int r;

	for (;;) {
		r = vid_guest_run_vp(g, 0, uc);
		if (r || uc->msg.message_type != VID_MSG_X64_MSR_INTERCEPT ||
		    uc->msg.msr.msr_number != CG_MSR)
			return r;
		(*msrs)++;
		*last = uc->msg.msr;
		r = vid_guest_complete_msr(g, 0, uc, CG_MSR_VALUE);
		if (r)
			return r;
	}
}

TEST(safe_variants)
{
	struct vid_msr_intercept msr;
	struct vid_guest g;
	struct vid_ucall uc;
	int msrs = 0;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_safe);
	ASSERT_EQ(0, vid_guest_install_handler(&g, GP_VECTOR, cg_gp_count));

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(GP_VECTOR, uc.args[0]);
	EXPECT_EQ(0xfff8, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(UD_VECTOR, uc.args[0]);
	EXPECT_EQ(0, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);

	/* The start state has the host's x87/SSE/AVX bits in XCR0. */
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(host_xcr0() & 7, uc.args[3]);
	if (uc.args[3]) {
		EXPECT_EQ(GP_VECTOR, uc.args[0]);	/* injected by vid */
		EXPECT_EQ(0, uc.args[1]);
		EXPECT_EQ(1, uc.args[2]);
	}

	/* RDMSR: completed by the host with a value, or #GP. */
	ASSERT_EQ(0, run_msrs(&g, &uc, &msrs, &msr));
	ASSERT_UCALL(&uc, UCALL_SYNC);
	if (msrs) {
		EXPECT_EQ(1, msrs);
		EXPECT_EQ(VID_INTERCEPT_READ, msr.header.intercept_access_type);
		EXPECT_EQ(0, uc.args[0]);
		EXPECT_EQ(CG_MSR_VALUE, uc.args[1]);
	} else {
		EXPECT_EQ(GP_VECTOR, uc.args[0]);
	}
	/* WRMSR: the value in the intercept, or #GP. */
	msrs = 0;
	ASSERT_EQ(0, run_msrs(&g, &uc, &msrs, &msr));
	ASSERT_UCALL(&uc, UCALL_SYNC);
	if (msrs) {
		EXPECT_EQ(1, msrs);
		EXPECT_EQ(VID_INTERCEPT_WRITE, msr.header.intercept_access_type);
		EXPECT_EQ(0xabcdef, msr.rax);
		EXPECT_EQ(0, msr.rdx);
		EXPECT_EQ(0, uc.args[0]);
	} else {
		EXPECT_EQ(GP_VECTOR, uc.args[0]);
	}
	EXPECT_EQ(0, uc.args[1]);	/* no handler ran so far */

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_TRUE(uc.args[0] == UD_VECTOR ||
		    (!uc.args[0] && (uc.args[1] & 0xffff)))	/* HV_STATUS_* */
		TH_LOG("vector %llu, status %#llx",
		       (unsigned long long)uc.args[0],
		       (unsigned long long)uc.args[1]);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(0xfff8, uc.args[1]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
}

/*
 * Exceptions without a handler: UCALL_UNHANDLED with the vector, RIP,
 * error code and CR2, then the VP halts (no triple fault). A stack
 * overflow faults on the guard page, the #PF cannot be delivered on that
 * stack, and the #DF is, on its own (IST) stack.
 */
static noinline unsigned int cg_recurse(unsigned int n)
{
	unsigned int limit = ~0U;
	uint8_t pad[256];

	/* A real 256-byte frame each, and no limit the compiler knows. */
	pad[0] = n;
	__asm__ volatile("" : : "r"(pad) : "memory");
	GUEST_HIDE_VAR(limit);
	if (n == limit)
		return n;
	return cg_recurse(n + 1) + pad[0];
}

static void guest_unhandled_ud(unsigned int vp)
{
	cg_ud2();
}

static void guest_unhandled_null(unsigned int vp)
{
	GUEST_SYNC(cg_read((const void *)8));
}

static void guest_unhandled_noncanonical(unsigned int vp)
{
	GUEST_SYNC(cg_read((const void *)0xdead000000000000ULL));
}

static void guest_stack_overflow(unsigned int vp)
{
	GUEST_SYNC(cg_recurse(0));
}

FIXTURE(unhandled) {
	struct vid_guest g;
};

FIXTURE_VARIANT(unhandled) {
	void (*guest_fn)(unsigned int vp_index);
	uint64_t vector;
	const uint8_t *rip;	/* NULL: not checked */
	uint64_t error_code;
	uint64_t cr2;		/* checked for #PF */
};

FIXTURE_VARIANT_ADD(unhandled, ud2) {
	.guest_fn = guest_unhandled_ud,
	.vector = UD_VECTOR,
	.rip = cg_ud2_insn,
};

FIXTURE_VARIANT_ADD(unhandled, null_page) {
	.guest_fn = guest_unhandled_null,
	.vector = PF_VECTOR,
	.rip = cg_read_insn,
	.error_code = 0,	/* not present, read, supervisor */
	.cr2 = 8,
};

FIXTURE_VARIANT_ADD(unhandled, non_canonical) {
	.guest_fn = guest_unhandled_noncanonical,
	.vector = GP_VECTOR,
	.rip = cg_read_insn,
};

FIXTURE_VARIANT_ADD(unhandled, stack_overflow_double_fault) {
	.guest_fn = guest_stack_overflow,
	.vector = DF_VECTOR,
};

FIXTURE_SETUP(unhandled)
{
	VID_GUEST_CREATE_C_OR_SKIP(&self->g, 1, variant->guest_fn);
}

FIXTURE_TEARDOWN(unhandled)
{
	vid_guest_destroy(&self->g);
}

TEST_F(unhandled, reported)
{
	struct vid_ucall uc;

	ASSERT_RUN_UCALL(&self->g, 0, &uc, UCALL_UNHANDLED);
	EXPECT_EQ(variant->vector, uc.args[0]) TH_LOG("%s", uc.text);
	if (variant->rip)
		EXPECT_EQ((uint64_t)variant->rip, uc.args[1]);
	EXPECT_EQ(variant->error_code, uc.args[2]);
	if (variant->vector == PF_VECTOR)
		EXPECT_EQ(variant->cr2, uc.args[3]);
	EXPECT_NE(NULL, strstr(uc.text, "unhandled")) TH_LOG("%s", uc.text);
	/* The VP halted: HLT exits, again and again, no shutdown. */
	ASSERT_RUN_MESSAGE(&self->g, 0, &uc, VID_MSG_X64_HALT);
	ASSERT_RUN_MESSAGE(&self->g, 0, &uc, VID_MSG_X64_HALT);
}

/*
 * Two VPs run the same function at once, each with its own index, stack
 * and per-VP area, writing its own slot of one global (the guest's copy,
 * shared by both VPs).
 */
#define TWO_VPS_ROUNDS	20

static uint64_t cg_slots[2];

static void guest_two_vps(unsigned int vp)
{
	uint64_t local = vp;	/* on this VP's stack: its address escapes */
	unsigned int i;

	for (i = 0; i < TWO_VPS_ROUNDS; i++) {
		cg_slots[vp] = cg_fib(10 + vp) * 1000 + i;
		GUEST_SYNC(vp, i, &local, guest_vp_index());
	}
	GUEST_ASSERT_EQ(local, vp);
}

struct vp_runner {
	struct vid_guest *g;
	unsigned int vp;
	unsigned int rounds;	/* ucalls seen as expected */
	char error[320];	/* the first mismatch, "" if none */
};

static void *vp_runner_fn(void *arg)
{
	struct vp_runner *t = arg;
	uint64_t stack = VID_CGUEST_STACK_TOP(t->vp);
	struct vid_ucall uc;
	int r;

	for (;;) {
		r = vid_guest_run_vp(t->g, t->vp, &uc);
		if (r) {
			snprintf(t->error, sizeof(t->error), "VID_VP_RUN: %s",
				 strerror(-r));
			return NULL;
		}
		if (uc.cmd == UCALL_DONE && t->rounds == TWO_VPS_ROUNDS)
			return NULL;
		if (uc.cmd != UCALL_SYNC || t->rounds >= TWO_VPS_ROUNDS ||
		    uc.args[0] != t->vp || uc.args[1] != t->rounds ||
		    uc.args[2] >= stack || uc.args[2] < stack - 0x1000 ||
		    uc.args[3] != t->vp || uc.msg.header.vp_index != t->vp) {
			snprintf(t->error, sizeof(t->error),
				 "round %u: %s, message %#x, vp_index %u, args %#llx %#llx %#llx %#llx %s",
				 t->rounds, vid_ucall_name(uc.cmd),
				 uc.msg.message_type, uc.msg.header.vp_index,
				 (unsigned long long)uc.args[0],
				 (unsigned long long)uc.args[1],
				 (unsigned long long)uc.args[2],
				 (unsigned long long)uc.args[3], uc.text);
			return NULL;
		}
		t->rounds++;
	}
}

TEST(two_vps_one_function)
{
	struct vp_runner runners[2];
	pthread_t threads[2];
	struct vid_guest g;
	unsigned int i;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_two_vps);
	for (i = 0; i < 2; i++) {
		runners[i] = (struct vp_runner){ .g = &g, .vp = i };
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, vp_runner_fn,
					    &runners[i]));
	}
	for (i = 0; i < 2; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < 2; i++) {
		EXPECT_STREQ("", runners[i].error)
			TH_LOG("VP %u: %s", i, runners[i].error);
		EXPECT_EQ(TWO_VPS_ROUNDS, runners[i].rounds);
		EXPECT_EQ(cg_fib(10 + i) * 1000 + TWO_VPS_ROUNDS - 1,
			  VID_GUEST_GLOBAL(&g, cg_slots)[i]);
	}
	vid_guest_destroy(&g);
}

TEST_HARNESS_MAIN

/*
 * CPUID's bits that mirror control state follow the guest's: OSXSAVE its
 * CR4, leaf 0xD's EBX the XSAVE size for its XCR0 (Linux sizes its
 * signal frames from it).
 */
static void guest_cpuid_follows_state(unsigned int vp)
{
	uint32_t eax, ebx, ecx, edx, want;
	uint64_t cr4 = get_cr4();

	set_cr4(cr4 & ~X86_CR4_OSXSAVE);
	cpuid(1, 0, &eax, &ebx, &ecx, &edx);
	GUEST_ASSERT_EQ(0, ecx & (1u << 27));
	set_cr4(cr4 | X86_CR4_OSXSAVE);
	cpuid(1, 0, &eax, &ebx, &ecx, &edx);
	GUEST_ASSERT_EQ(1u << 27, ecx & (1u << 27));

	xsetbv(0, 3);
	cpuid(0xd, 0, &eax, &ebx, &ecx, &edx);
	GUEST_ASSERT_EQ(512 + 64, ebx);
	if (!(eax & 4)) {
		GUEST_SYNC(0);
		return;
	}
	xsetbv(0, 7);
	cpuid(0xd, 2, &eax, &want, &ecx, &edx);
	want += eax;				/* AVX: offset + size */
	cpuid(0xd, 0, &eax, &ebx, &ecx, &edx);
	GUEST_ASSERT_EQ(want, ebx);
	xsetbv(0, 3);
	GUEST_SYNC(1);
}

TEST(cpuid_follows_guest_state)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_cpuid_follows_state);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	TH_LOG("AVX state checked: %llu", (unsigned long long)uc.args[0]);
	vid_guest_destroy(&g);
}
