// SPDX-License-Identifier: GPL-2.0
/*
 * Guests in every processor mode, KVM-selftest style: the guest programs
 * are asm in this file, copied into guest RAM by lib_guest and reporting
 * through the port-I/O ucall. Each test checks something only the mode it
 * names can produce (CR0/CR4/EFER as the guest reads them, the code
 * segment and execution state in the intercept header, arithmetic and
 * addressing that decode differently in another mode, translations
 * through the guest's own page tables), plus MSR intercepts, the unmapped
 * GPA path through guest paging, long-mode states VMRUN refuses, CPUID as
 * the guest sees it and two VPs of one partition running at once.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "lib_guest.h"

/* Test data lives in VID_GUEST_DATA_GPA; the same addresses as asm text. */
#define DATA		"0x20000"
#define DATA_1000	"0x21000"
#define DATA_2000	"0x22000"
static_assert(VID_GUEST_DATA_GPA == 0x20000, "DATA");

static uint32_t ram32(struct vid_guest *g, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, vid_guest_gpa(g, gpa), sizeof(v));
	return v;
}

static uint64_t ram64(struct vid_guest *g, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, vid_guest_gpa(g, gpa), sizeof(v));
	return v;
}

static void ram32_set(struct vid_guest *g, uint64_t gpa, uint32_t v)
{
	memcpy(vid_guest_gpa(g, gpa), &v, sizeof(v));
}

/*
 * Real mode: CR0.PE clear, CS:IP = 0x1000:0, 16-bit immediates (the same
 * bytes decode as a 32-bit immediate in protected mode).
 */
__asm__(GUEST_BEGIN(guest_real, ".code16")
	"mov %cr0, %eax\n\t"
	"mov %eax, %edi\n\t"
	"mov %cs, %si\n\t"
	"xor %ebx, %ebx\n\t"
	"mov $0x1234, %bx\n\t"
	"mov $0x5678, %dx\n\t"
	GUEST_VALUE
	GUEST_DONE
	GUEST_END(guest_real));
GUEST_DECLARE(guest_real);

TEST(real16)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_REAL, guest_real);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(0, uc.args[0] & VID_X86_CR0_PE);
	EXPECT_EQ(VID_GUEST_CODE_GPA >> 4, uc.args[1] & 0xffff);
	EXPECT_EQ(0x5678, uc.args[2] & 0xffff);
	EXPECT_EQ(0x1234, uc.args[3]);
	EXPECT_EQ(0, uc.msg.header.execution_state &
		  (VID_EXEC_STATE_CR0_PE | VID_EXEC_STATE_EFER_LMA));
	EXPECT_EQ(VID_GUEST_CODE_GPA, uc.msg.header.cs.base);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
}

/*
 * Flat 32-bit protected mode: CR0 (PE, not PG), a 32x32->64 multiply,
 * call/pop for its own address, a write and a read of guest RAM at a
 * 32-bit absolute address.
 */
__asm__(GUEST_BEGIN(guest_prot32, ".code32")
	"mov %cr0, %eax\n\t"
	"mov %eax, %edi\n\t"
	"mov %cs, %esi\n\t"
	"mov %esp, %edx\n\t"
	GUEST_VALUE
	"mov $0x12345, %eax\n\t"
	"mov $0x10001, %ecx\n\t"
	"mul %ecx\n\t"
	GUEST_ASSERT_EQ("%edx", "$1")
	"mov %eax, %edi\n\t"
	"mov %edx, %esi\n\t"
	"call 1f\n\t"
	"guest_prot32_ret:\n\t"
	"1: pop %ebx\n\t"
	GUEST_VALUE
	"movl $0xc0ffee32, " DATA "\n\t"
	"mov " DATA " + 4, %edi\n\t"
	GUEST_VALUE
	GUEST_DONE
	GUEST_END(guest_prot32));
GUEST_DECLARE(guest_prot32);
extern const uint8_t guest_prot32_ret[];

TEST(prot32)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_PROT32, guest_prot32);
	ram32_set(&g, VID_GUEST_DATA_GPA + 4, 0x600dcafe);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(VID_X86_CR0_PE, uc.args[0] & (VID_X86_CR0_PE | VID_X86_CR0_PG));
	EXPECT_EQ(VID_GUEST_SEL_CODE32, uc.args[1] & 0xffff);
	EXPECT_EQ(VID_GUEST_STACK_TOP(0), uc.args[2]);
	EXPECT_EQ(VID_EXEC_STATE_CR0_PE, uc.msg.header.execution_state &
		  (VID_EXEC_STATE_CR0_PE | VID_EXEC_STATE_EFER_LMA));
	EXPECT_EQ(VID_GUEST_SEL_CODE32, uc.msg.header.cs.selector);
	EXPECT_EQ(VID_SEG_ATTR_DB, uc.msg.header.cs.attributes &
		  (VID_SEG_ATTR_DB | VID_SEG_ATTR_L));

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ((uint32_t)(0x12345ULL * 0x10001), uc.args[0]);
	EXPECT_EQ((0x12345ULL * 0x10001) >> 32, uc.args[1]);
	EXPECT_EQ(GUEST_LABEL_GPA(guest_prot32, guest_prot32_ret), uc.args[3]);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(0xc0ffee32, ram32(&g, VID_GUEST_DATA_GPA));
	EXPECT_EQ(0x600dcafe, uc.args[0]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
}

/* Without paging a linear address is the GPA: beyond RAM it is unmapped. */
__asm__(GUEST_BEGIN(guest_prot32_far, ".code32")
	"guest_prot32_far_load:\n\t"
	"mov 0x800010, %eax\n\t"
	GUEST_DONE
	GUEST_END(guest_prot32_far));
GUEST_DECLARE(guest_prot32_far);
extern const uint8_t guest_prot32_far_load[];

TEST(prot32_linear_is_physical)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_PROT32, guest_prot32_far);
	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_UNMAPPED_GPA);
	EXPECT_EQ(0x800010, uc.msg.memory.guest_physical_address);
	EXPECT_EQ(VID_INTERCEPT_READ, uc.msg.header.intercept_access_type);
	EXPECT_EQ(GUEST_LABEL_GPA(guest_prot32_far, guest_prot32_far_load),
		  uc.msg.header.rip);
	/* mov 0x800010, %eax (a1 10 00 80 00), then the bytes after it. */
	ASSERT_EQ(16, uc.msg.memory.instruction_byte_count);
	EXPECT_EQ(0, memcmp(guest_prot32_far_load,
			    uc.msg.memory.instruction_bytes, 5));
	EXPECT_EQ(0, memcmp(vid_guest_gpa(&g, uc.msg.header.rip),
			    uc.msg.memory.instruction_bytes, 16));
	EXPECT_EQ(0, uc.msg.memory.memory_access_info & 1);
	vid_guest_destroy(&g);
}

/*
 * 32-bit paging: CR0.PG and CR3 as set up; GVA 0x400000 (beyond the
 * identity map) and 0xfffff000 (the last page) are aliases of data pages.
 */
__asm__(GUEST_BEGIN(guest_prot32_paging, ".code32")
	"mov %cr0, %eax\n\t"
	"mov %eax, %edi\n\t"
	"mov %cr3, %esi\n\t"
	"mov %cr4, %edx\n\t"
	GUEST_VALUE
	"mov 0x400000, %eax\n\t"
	GUEST_ASSERT_EQ("%eax", "$0x11111111")
	"movl $0x22222222, 0x400004\n\t"
	"movl $0x33333333, 0xfffffffc\n\t"
	"mov " DATA_1000 " + 4, %eax\n\t"
	GUEST_ASSERT_EQ("%eax", "$0x22222222")
	GUEST_DONE
	GUEST_END(guest_prot32_paging));
GUEST_DECLARE(guest_prot32_paging);

TEST(prot32_paging)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_PROT32_PAGING,
				 guest_prot32_paging);
	ASSERT_EQ(0, vid_guest_map(&g, 0x400000, VID_GUEST_DATA_GPA + 0x1000));
	ASSERT_EQ(0, vid_guest_map(&g, 0xfffff000, VID_GUEST_DATA_GPA + 0x2000));
	ram32_set(&g, VID_GUEST_DATA_GPA + 0x1000, 0x11111111);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(VID_X86_CR0_PE | VID_X86_CR0_PG,
		  uc.args[0] & (VID_X86_CR0_PE | VID_X86_CR0_PG));
	EXPECT_EQ(g.cr3, uc.args[1]);
	EXPECT_EQ(0, uc.args[2] & VID_X86_CR4_PAE);
	EXPECT_EQ(VID_EXEC_STATE_CR0_PE, uc.msg.header.execution_state &
		  (VID_EXEC_STATE_CR0_PE | VID_EXEC_STATE_EFER_LMA));

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	EXPECT_EQ(0x22222222, ram32(&g, VID_GUEST_DATA_GPA + 0x1004));
	EXPECT_EQ(0x33333333, ram32(&g, VID_GUEST_DATA_GPA + 0x2ffc));
	vid_guest_destroy(&g);
}

/*
 * With paging the same load as prot32_linear_is_physical has no
 * translation: #PF, and with no IDT a triple fault. No GPA is touched.
 */
TEST(prot32_paging_not_present_faults)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_PROT32_PAGING,
				 guest_prot32_far);
	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_UNRECOVERABLE_EXCEPTION);
	vid_guest_destroy(&g);
}

/*
 * Long mode: CR0/CR4/CR3, EFER through an intercepted RDMSR, a WRMSR
 * intercept, 64-bit immediates and arithmetic, push/call/ret/pop on the
 * 64-bit stack, and a write through a kernel-half alias
 * (0xffff800000001000, PML4 entry 256) of a data page.
 */
__asm__(GUEST_BEGIN(guest_long64, ".code64")
	"mov %cr0, %rdi\n\t"
	"mov %cr4, %rsi\n\t"
	"mov %cr3, %rdx\n\t"
	GUEST_VALUE
	"mov $0x1234, %ecx\n\t"
	"guest_long64_rdmsr:\n\t"
	"rdmsr\n\t"
	"shl $32, %rdx\n\t"
	"or %rdx, %rax\n\t"
	"mov %rax, %rdi\n\t"
	"mov $0xc0000080, %ecx\n\t"
	"rdmsr\n\t"
	"shl $32, %rdx\n\t"
	"or %rdx, %rax\n\t"
	"mov %rax, %rsi\n\t"
	GUEST_VALUE
	"mov $0x1235, %ecx\n\t"
	"mov $0x12345678, %edx\n\t"
	"mov $0x9abcdef0, %eax\n\t"
	"guest_long64_wrmsr:\n\t"
	"wrmsr\n\t"
	"movabs $0x123456789abcdef0, %rdi\n\t"
	"mov %rdi, %rsi\n\t"
	"shr $36, %rsi\n\t"
	"lea 1(%rdi), %rdx\n\t"
	GUEST_VALUE
	"movabs $0x1122334455667788, %rax\n\t"
	"push %rax\n\t"
	"call 1f\n\t"
	"guest_long64_ret:\n\t"
	"jmp 2f\n\t"
	"1: mov (%rsp), %rsi\n\t"
	"mov 8(%rsp), %rdx\n\t"
	"ret\n\t"
	"2: pop %rbx\n\t"
	"mov %rsp, %rdi\n\t"
	GUEST_VALUE
	"movabs $0xffff800000001000, %rbx\n\t"
	"movabs $0x0123456789abcdef, %rax\n\t"
	"mov %rax, 8(%rbx)\n\t"
	"mov " DATA_1000 " + 8, %rcx\n\t"
	GUEST_ASSERT_EQ64("%rcx", 0x0123456789abcdef)
	"mov (%rbx), %rdi\n\t"
	GUEST_VALUE
	GUEST_DONE
	GUEST_END(guest_long64));
GUEST_DECLARE(guest_long64);
extern const uint8_t guest_long64_rdmsr[], guest_long64_wrmsr[];
extern const uint8_t guest_long64_ret[];

TEST(long64)
{
	const uint64_t cr0_mask = VID_X86_CR0_PE | VID_X86_CR0_PG;
	const uint64_t alias = 0xffff800000001000ULL;
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t efer;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_LONG64, guest_long64);
	ASSERT_EQ(0, vid_guest_map(&g, alias, VID_GUEST_DATA_GPA + 0x1000));
	memcpy(vid_guest_gpa(&g, VID_GUEST_DATA_GPA + 0x1000),
	       "\x01\x02\x03\x04\x05\x06\x07\x08", 8);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(cr0_mask, uc.args[0] & cr0_mask);
	EXPECT_EQ(VID_X86_CR4_PAE, uc.args[1] & VID_X86_CR4_PAE);
	EXPECT_EQ(g.cr3, uc.args[2]);
	EXPECT_EQ(VID_EXEC_STATE_CR0_PE | VID_EXEC_STATE_EFER_LMA,
		  uc.msg.header.execution_state &
		  (VID_EXEC_STATE_CR0_PE | VID_EXEC_STATE_EFER_LMA));
	EXPECT_EQ(VID_GUEST_SEL_CODE64, uc.msg.header.cs.selector);
	EXPECT_EQ(VID_SEG_ATTR_L, uc.msg.header.cs.attributes &
		  (VID_SEG_ATTR_DB | VID_SEG_ATTR_L));

	/*
	 * An MSR the hypervisor does not know reaches the VMM, which
	 * answers; EFER is the hypervisor's and never leaves the kernel.
	 */
	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_X64_MSR_INTERCEPT);
	EXPECT_EQ(0x1234, uc.msg.msr.msr_number);
	EXPECT_EQ(VID_INTERCEPT_READ, uc.msg.header.intercept_access_type);
	EXPECT_EQ(2, uc.msg.header.instruction_length & 0xf);
	EXPECT_EQ(GUEST_LABEL_GPA(guest_long64, guest_long64_rdmsr),
		  uc.msg.header.rip);
	EXPECT_EQ(0, uc.msg.header.vp_index);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd[0], VID_REG_EFER, &efer));
	EXPECT_EQ(VID_X86_EFER_LME | VID_X86_EFER_LMA, efer);
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[0], VID_REG_RAX, 0x55667788));
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[0], VID_REG_RDX, 0x11223344));
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[0], VID_REG_RIP,
				      uc.msg.header.rip + 2));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(0x1122334455667788ULL, uc.args[0]);
	EXPECT_EQ(efer, uc.args[1]);

	/* WRMSR: the value is in the message, RDX high and RAX low. */
	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_X64_MSR_INTERCEPT);
	EXPECT_EQ(0x1235, uc.msg.msr.msr_number);
	EXPECT_EQ(VID_INTERCEPT_WRITE, uc.msg.header.intercept_access_type);
	EXPECT_EQ(0x12345678, uc.msg.msr.rdx);
	EXPECT_EQ(0x9abcdef0, uc.msg.msr.rax);
	EXPECT_EQ(GUEST_LABEL_GPA(guest_long64, guest_long64_wrmsr),
		  uc.msg.header.rip);
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[0], VID_REG_RIP,
				      uc.msg.header.rip + 2));

	/* 64-bit registers. */
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(0x123456789abcdef0ULL, uc.args[0]);
	EXPECT_EQ(0x123456789abcdef0ULL >> 36, uc.args[1]);
	EXPECT_EQ(0x123456789abcdef1ULL, uc.args[2]);

	/* The stack: 8-byte slots below the VP's stack top. */
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(VID_GUEST_STACK_TOP(0), uc.args[0]);
	EXPECT_EQ(GUEST_LABEL_GPA(guest_long64, guest_long64_ret), uc.args[1]);
	EXPECT_EQ(0x1122334455667788ULL, uc.args[2]);
	EXPECT_EQ(0x1122334455667788ULL, uc.args[3]);
	EXPECT_EQ(0x1122334455667788ULL,
		  ram64(&g, VID_GUEST_STACK_TOP(0) - 8));
	EXPECT_EQ(GUEST_LABEL_GPA(guest_long64, guest_long64_ret),
		  ram64(&g, VID_GUEST_STACK_TOP(0) - 16));

	/* The alias: its page is the data page. */
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(0x0807060504030201ULL, uc.args[0]);
	EXPECT_EQ(0x0123456789abcdefULL,
		  ram64(&g, VID_GUEST_DATA_GPA + 0x1008));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
}

/*
 * A translation the guest owns to a GPA nothing backs: the VMM gets
 * VID_MSG_UNMAPPED_GPA with that GPA, maps memory there, and the guest's
 * store completes when it runs again.
 */
__asm__(GUEST_BEGIN(guest_long64_unmapped, ".code64")
	"movl $0x5a5a5a5a, %eax\n\t"
	"guest_long64_unmapped_store:\n\t"
	"mov %eax, 0x7fff0238\n\t"
	"mov 0x7fff0238, %edi\n\t"
	GUEST_VALUE
	GUEST_DONE
	GUEST_END(guest_long64_unmapped));
GUEST_DECLARE(guest_long64_unmapped);
extern const uint8_t guest_long64_unmapped_store[];

TEST(long64_unmapped_gpa)
{
	const uint64_t gpa = 0x500000;
	struct vid_guest g;
	struct vid_ucall uc;
	uint8_t *page;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_LONG64, guest_long64_unmapped);
	ASSERT_EQ(0, vid_guest_map(&g, 0x7fff0000, gpa));

	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_UNMAPPED_GPA);
	EXPECT_EQ(gpa + 0x238, uc.msg.memory.guest_physical_address);
	EXPECT_EQ(VID_INTERCEPT_WRITE, uc.msg.header.intercept_access_type);
	EXPECT_EQ(GUEST_LABEL_GPA(guest_long64_unmapped,
				  guest_long64_unmapped_store),
		  uc.msg.header.rip);
	EXPECT_EQ(VID_EXEC_STATE_EFER_LMA, uc.msg.header.execution_state &
		  VID_EXEC_STATE_EFER_LMA);
	/* The 7-byte store, then the bytes after it (code is identity mapped). */
	ASSERT_EQ(16, uc.msg.memory.instruction_byte_count);
	EXPECT_EQ(0, memcmp(guest_long64_unmapped_store,
			    uc.msg.memory.instruction_bytes, 7));
	EXPECT_EQ(0, memcmp(vid_guest_gpa(&g, uc.msg.header.rip),
			    uc.msg.memory.instruction_bytes, 16));
	EXPECT_EQ(0, uc.msg.memory.memory_access_info & 1);

	/* Back the GPA; the store is retried and lands in the new page. */
	page = mmap(NULL, VID_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, vid_map_gpa(g.part_fd, gpa, VID_PAGE_SIZE, page,
				 VID_MAP_READ | VID_MAP_WRITE));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(0x5a5a5a5a, uc.args[0]);
	EXPECT_EQ(0x5a5a5a5a, *(uint32_t *)(page + 0x238));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
	munmap(page, VID_PAGE_SIZE);
}

/*
 * The guest's own page table lives at a GPA nothing backs: the walk
 * faults on the entry's GPA. The VMM then backs it with a page table
 * pointing at a data page, and the load completes.
 */
__asm__(GUEST_BEGIN(guest_long64_walk, ".code64")
	"guest_long64_walk_load:\n\t"
	"mov 0x7fe05238, %edi\n\t"
	GUEST_VALUE
	GUEST_DONE
	GUEST_END(guest_long64_walk));
GUEST_DECLARE(guest_long64_walk);
extern const uint8_t guest_long64_walk_load[];

TEST(long64_page_table_in_unmapped_gpa)
{
	const uint64_t table_gpa = 0x600000;
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t *pde, *table;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_LONG64, guest_long64_walk);
	ASSERT_EQ(0, vid_guest_map(&g, 0x7fe00000, VID_GUEST_DATA_GPA));
	pde = vid_guest_pte64(&g, 0x7fe00000, 1);
	ASSERT_NE(NULL, pde);
	*pde = table_gpa | 0x3;		/* present, writable */

	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_UNMAPPED_GPA);
	/* The PTE of 0x7fe05000: entry 5 of the table. */
	EXPECT_EQ(table_gpa + 5 * 8, uc.msg.memory.guest_physical_address);
	EXPECT_EQ(GUEST_LABEL_GPA(guest_long64_walk, guest_long64_walk_load),
		  uc.msg.header.rip);

	table = mmap(NULL, VID_PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, table);
	table[5] = (VID_GUEST_DATA_GPA + 0x3000) | 0x3;
	ram32_set(&g, VID_GUEST_DATA_GPA + 0x3238, 0x7ab1e5);
	ASSERT_EQ(0, vid_map_gpa(g.part_fd, table_gpa, VID_PAGE_SIZE, table,
				 VID_MAP_READ | VID_MAP_WRITE));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(0x7ab1e5, uc.args[0]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
	munmap(table, VID_PAGE_SIZE);
}

/* An instruction fetch from a GVA whose GPA nothing backs. */
__asm__(GUEST_BEGIN(guest_long64_fetch, ".code64")
	"mov $0x7fe00000, %eax\n\t"
	"jmp *%rax\n\t"
	GUEST_END(guest_long64_fetch));
GUEST_DECLARE(guest_long64_fetch);

TEST(long64_fetch_from_unmapped_gpa)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_LONG64, guest_long64_fetch);
	ASSERT_EQ(0, vid_guest_map(&g, 0x7fe00000, 0x600000));
	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_UNMAPPED_GPA);
	EXPECT_EQ(0x600000, uc.msg.memory.guest_physical_address);
	EXPECT_EQ(VID_INTERCEPT_EXECUTE, uc.msg.header.intercept_access_type);
	EXPECT_EQ(0x7fe00000, uc.msg.header.rip);
	/* Nothing to read at RIP: no instruction bytes. */
	EXPECT_EQ(0, uc.msg.memory.instruction_byte_count);
	vid_guest_destroy(&g);
}

/*
 * Instruction bytes through the guest's page tables: the store
 * "mov %eax, 0x7fff0238" (89 04 25 38 02 ff 7f, to a GPA nothing backs)
 * runs at a GVA whose page is not identity mapped. FETCH_GVA + 0xff9: it
 * ends at the page end, and the next GVA page has no GPA behind it, so
 * the fetch stops at the boundary. FETCH_GVA + 0xffe: it straddles into
 * the next GVA page, backed by another, non-adjacent GPA page.
 */
#define FETCH_GVA	0x7fc00000ULL
#define FETCH_PAGE0	(VID_GUEST_DATA_GPA + 0x3000)
#define FETCH_PAGE1	(VID_GUEST_DATA_GPA + 0x5000)

static const uint8_t fetch_store[] = { 0x89, 0x04, 0x25, 0x38, 0x02, 0xff, 0x7f };

__asm__(GUEST_BEGIN(guest_long64_jump, ".code64")
	"jmp *%rsi\n\t"
	GUEST_END(guest_long64_jump));
GUEST_DECLARE(guest_long64_jump);

FIXTURE(long64_insn_bytes) {
	struct vid_guest g;
};

FIXTURE_VARIANT(long64_insn_bytes) {
	uint64_t offset;	/* of the store in the first GVA page */
	uint64_t page1_gpa;	/* behind the second GVA page */
	uint8_t count;		/* instruction bytes expected */
};

FIXTURE_VARIANT_ADD(long64_insn_bytes, stops_at_unmapped_page) {
	.offset = 0xff9, .page1_gpa = 0x600000, .count = 7,
};

FIXTURE_VARIANT_ADD(long64_insn_bytes, straddles_two_pages) {
	.offset = 0xffe, .page1_gpa = FETCH_PAGE1, .count = 16,
};

FIXTURE_SETUP(long64_insn_bytes)
{
	int r = vid_guest_create(&self->g, VID_GUEST_LONG64,
				 GUEST_BYTES(guest_long64_jump));

	if (r == -ENOENT)
		VID_SETUP_SKIP("%s absent: vid.ko not loaded", VID_DEVICE_PATH);
	ASSERT_EQ(0, r) TH_LOG("vid_guest_create: %s", strerror(-r));
}

FIXTURE_TEARDOWN(long64_insn_bytes)
{
	vid_guest_destroy(&self->g);
}

TEST_F(long64_insn_bytes, through_guest_paging)
{
	uint8_t *page0 = vid_guest_gpa(&self->g, FETCH_PAGE0);
	uint8_t *page1 = vid_guest_gpa(&self->g, FETCH_PAGE1);
	uint8_t want[16];
	struct vid_ucall uc;
	unsigned int i;

	/* The store and 0xf4 (HLT) after it, split over the two pages. */
	memset(want, 0xf4, sizeof(want));
	memcpy(want, fetch_store, sizeof(fetch_store));
	memset(page0, 0xcc, VID_PAGE_SIZE);
	memset(page1, 0xcc, VID_PAGE_SIZE);
	for (i = 0; i < sizeof(want); i++) {
		if (variant->offset + i < VID_PAGE_SIZE)
			page0[variant->offset + i] = want[i];
		else
			page1[variant->offset + i - VID_PAGE_SIZE] = want[i];
	}
	ASSERT_EQ(0, vid_guest_map(&self->g, FETCH_GVA, FETCH_PAGE0));
	ASSERT_EQ(0, vid_guest_map(&self->g, FETCH_GVA + VID_PAGE_SIZE,
				   variant->page1_gpa));
	ASSERT_EQ(0, vid_guest_map(&self->g, 0x7fff0000, 0x500000));
	ASSERT_EQ(0, vid_vp_set_reg64(self->g.vp_fd[0], VID_REG_RSI,
				      FETCH_GVA + variant->offset));

	ASSERT_RUN_MESSAGE(&self->g, 0, &uc, VID_MSG_UNMAPPED_GPA);
	EXPECT_EQ(0x500238, uc.msg.memory.guest_physical_address);
	EXPECT_EQ(VID_INTERCEPT_WRITE, uc.msg.header.intercept_access_type);
	EXPECT_EQ(FETCH_GVA + variant->offset, uc.msg.header.rip);
	ASSERT_EQ(variant->count, uc.msg.memory.instruction_byte_count);
	EXPECT_EQ(0, memcmp(want, uc.msg.memory.instruction_bytes,
			    variant->count));
	EXPECT_EQ(0, uc.msg.memory.memory_access_info & 1);
}

/*
 * Long-mode states VMRUN refuses (AMD APM vol. 2, 15.5.1): the guest does
 * not run (SET_REGISTERS refuses the value, or the run ends with
 * VID_MSG_INVALID_VP_REGISTER_VALUE), and runs once the VMM has set a
 * valid state again.
 */
__asm__(GUEST_BEGIN(guest_long64_done, ".code64")
	GUEST_DONE
	GUEST_END(guest_long64_done));
GUEST_DECLARE(guest_long64_done);

FIXTURE(long64_invalid) {
	struct vid_guest g;
};

FIXTURE_VARIANT(long64_invalid) {
	struct vid_register bad;
};

FIXTURE_VARIANT_ADD(long64_invalid, cs_l_and_d) {
	.bad = { .name = VID_REG_CS, .value.segment = {
		.selector = VID_GUEST_SEL_CODE64, .limit = 0xffffffff,
		.attributes = VID_SEG_ATTR_CODE64 | VID_SEG_ATTR_DB } },
};

FIXTURE_VARIANT_ADD(long64_invalid, paging_without_pae) {
	.bad = { .name = VID_REG_CR4, .value.reg64 = 0 },
};

FIXTURE_SETUP(long64_invalid)
{
	int r = vid_guest_create(&self->g, VID_GUEST_LONG64,
				 GUEST_BYTES(guest_long64_done));

	if (r == -ENOENT)
		VID_SETUP_SKIP("%s absent: vid.ko not loaded", VID_DEVICE_PATH);
	ASSERT_EQ(0, r) TH_LOG("vid_guest_create: %s", strerror(-r));
}

FIXTURE_TEARDOWN(long64_invalid)
{
	vid_guest_destroy(&self->g);
}

TEST_F(long64_invalid, refused_then_runs)
{
	struct vid_ucall uc;
	int r;

	r = vid_vp_set_regs(self->g.vp_fd[0], &variant->bad, 1);
	if (r == 0) {
		ASSERT_RUN_MESSAGE(&self->g, 0, &uc,
				   VID_MSG_INVALID_VP_REGISTER_VALUE);
		EXPECT_EQ(0, uc.msg.header.vp_index);
	} else {
		ASSERT_EQ(-EINVAL, r);
	}
	ASSERT_EQ(0, vid_guest_reset_vp(&self->g, 0));
	ASSERT_RUN_UCALL(&self->g, 0, &uc, UCALL_DONE);
}

/* CPUID as a long-mode guest sees it; no message reaches the VMM. */
__asm__(GUEST_BEGIN(guest_long64_cpuid, ".code64")
	"mov $1, %eax\n\t"
	"cpuid\n\t"
	"mov %ecx, %edi\n\t"
	"mov %ebx, %esi\n\t"
	GUEST_VALUE
	"mov $0x80000001, %eax\n\t"
	"cpuid\n\t"
	"mov %ecx, %edi\n\t"
	GUEST_VALUE
	"mov $0x40000001, %eax\n\t"
	"cpuid\n\t"
	"mov %eax, %edi\n\t"
	GUEST_VALUE
	"mov $0x40000000, %eax\n\t"
	"cpuid\n\t"
	"mov %eax, %edi\n\t"
	"mov %ecx, %esi\n\t"
	GUEST_VALUE
	GUEST_DONE
	GUEST_END(guest_long64_cpuid));
GUEST_DECLARE(guest_long64_cpuid);

TEST(long64_cpuid)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_LONG64, guest_long64_cpuid);

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_TRUE(uc.msg.header.execution_state & VID_EXEC_STATE_EFER_LMA);
	EXPECT_TRUE(uc.msg.header.cs.attributes & VID_SEG_ATTR_L);
	EXPECT_TRUE(uc.args[0] & (1U << 31));		/* hypervisor */
	EXPECT_FALSE(uc.args[0] & (1U << 5));		/* VMX */
	EXPECT_EQ(0, uc.args[1] >> 24);			/* APIC ID = VP 0 */

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_FALSE(uc.args[0] & (1U << 2));		/* SVM */

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(0x31237648, uc.args[0]);		/* "Hv#1" */

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_LE(0x40000001, uc.args[0]);
	EXPECT_EQ(0x7263694d, uc.args[3]);		/* "Micr" */
	EXPECT_EQ(0x666f736f, uc.args[1]);		/* "osof" */
	EXPECT_EQ(0x76482074, uc.args[2]);		/* "t Hv" */
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
}

/*
 * Two VPs, one program: each loops TWO_VPS_ROUNDS times reporting its
 * index (RDI at entry), round, CPUID APIC ID and a value that went
 * through its own stack, and leaves a marker in its own data slot.
 */
#define TWO_VPS_ROUNDS	50
#define TWO_VPS_MAGIC	0x5650000000000000ULL

__asm__(GUEST_BEGIN(guest_two_vps, ".code64")
	"mov %rdi, %r12\n\t"
	"xor %r13d, %r13d\n\t"
	"1: mov $1, %eax\n\t"
	"cpuid\n\t"
	"shr $24, %ebx\n\t"
	"mov %rbx, %rdx\n\t"
	"movabs $0x5650000000000000, %rax\n\t"
	"or %r12, %rax\n\t"
	"push %rax\n\t"
	"call 2f\n\t"
	"pop %rbx\n\t"
	"mov %rbx, " DATA "(,%r12,8)\n\t"
	"mov %r12, %rdi\n\t"
	"mov %r13, %rsi\n\t"
	GUEST_VALUE
	"inc %r13\n\t"
	"cmp $" VID_STR(TWO_VPS_ROUNDS) ", %r13\n\t"
	"jne 1b\n\t"
	GUEST_DONE
	"2: addq $0x10, 8(%rsp)\n\t"
	"ret\n\t"
	GUEST_END(guest_two_vps));
GUEST_DECLARE(guest_two_vps);

struct vp_runner {
	struct vid_guest *g;
	unsigned int vp;
	unsigned int rounds;	/* ucalls seen as expected */
	char error[160];	/* the first mismatch, "" if none */
};

static void *vp_runner_fn(void *arg)
{
	struct vp_runner *t = arg;
	uint64_t want[4], magic = TWO_VPS_MAGIC | t->vp;
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
		if (uc.cmd != UCALL_VALUE || t->rounds >= TWO_VPS_ROUNDS) {
			snprintf(t->error, sizeof(t->error),
				 "round %u: %s, message %#x, args %#llx %#llx",
				 t->rounds, vid_ucall_name(uc.cmd),
				 uc.msg.message_type,
				 (unsigned long long)uc.args[0],
				 (unsigned long long)uc.args[1]);
			return NULL;
		}
		want[0] = t->vp;
		want[1] = t->rounds;
		want[2] = t->vp;
		want[3] = magic + 0x10;
		if (memcmp(want, uc.args, sizeof(want)) ||
		    uc.msg.header.vp_index != t->vp) {
			snprintf(t->error, sizeof(t->error),
				 "round %u: vp_index %u, args %#llx %#llx %#llx %#llx",
				 t->rounds, uc.msg.header.vp_index,
				 (unsigned long long)uc.args[0],
				 (unsigned long long)uc.args[1],
				 (unsigned long long)uc.args[2],
				 (unsigned long long)uc.args[3]);
			return NULL;
		}
		t->rounds++;
	}
}

TEST(two_vps)
{
	struct vp_runner runners[2];
	struct vid_guest g;
	pthread_t threads[2];
	unsigned int i;
	int r;

	r = vid_guest_create_vps(&g, VID_GUEST_LONG64,
				 GUEST_BYTES(guest_two_vps), 2);
	if (r == -ENOENT)
		SKIP(return, "%s absent: vid.ko not loaded", VID_DEVICE_PATH);
	ASSERT_EQ(0, r) TH_LOG("vid_guest_create_vps: %s", strerror(-r));

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
		EXPECT_EQ((TWO_VPS_MAGIC | i) + 0x10,
			  ram64(&g, VID_GUEST_DATA_GPA + 8 * i));
		/* Each VP's last push is in its own stack. */
		EXPECT_EQ((TWO_VPS_MAGIC | i) + 0x10,
			  ram64(&g, VID_GUEST_STACK_TOP(i) - 8));
	}
	vid_guest_destroy(&g);
}

/*
 * Guest FPU state: XMM0 as the VMM set it; XMM2 kept across 20 exits
 * while the VMM thread clobbers its own XMM2; XMM1 left for the VMM to
 * read; XSETBV accepted when valid, #GP (here: a triple fault, there is
 * no IDT) when x87 is left out.
 */
__asm__(GUEST_BEGIN(guest_fpu, ".code64")
	"movq %xmm0, %rdi\n\t"
	GUEST_VALUE
	"movabs $0x0bad0c0ffee0d00d, %rax\n\t"
	"movq %rax, %xmm2\n\t"
	"mov $20, %ebx\n\t"
	"1:\n\t"
	GUEST_VALUE
	"dec %ebx\n\t"
	"jnz 1b\n\t"
	"movq %xmm2, %rcx\n\t"
	GUEST_ASSERT_EQ64("%rcx", 0x0bad0c0ffee0d00d)
	"mov $0xfeedface, %eax\n\t"
	"movq %rax, %xmm1\n\t"
	"xor %ecx, %ecx\n\t"
	"xor %edx, %edx\n\t"
	"mov $3, %eax\n\t"
	"xsetbv\n\t"
	"xor %ecx, %ecx\n\t"
	"xgetbv\n\t"
	"mov %rax, %rdi\n\t"
	GUEST_VALUE
	"xor %ecx, %ecx\n\t"
	"xor %edx, %edx\n\t"
	"mov $2, %eax\n\t"
	"xsetbv\n\t"
	GUEST_DONE
	GUEST_END(guest_fpu));
GUEST_DECLARE(guest_fpu);

TEST(long64_fpu_state)
{
	struct vid_register xmm = { .name = VID_REG_XMM0 };
	const uint64_t pattern = 0x1122334455667788ULL;
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t cr4;
	int i;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_LONG64, guest_fpu);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd[0], VID_REG_CR4, &cr4));
	/* OSFXSR, OSXMMEXCPT, OSXSAVE */
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[0], VID_REG_CR4,
				      cr4 | 0x200 | 0x400 | 0x40000));
	memcpy(xmm.value.bytes, &pattern, 8);
	ASSERT_EQ(0, vid_vp_set_regs(g.vp_fd[0], &xmm, 1));

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(pattern, uc.args[0]);
	for (i = 0; i < 20; i++) {
		/* The VMM's own SSE state must not leak into the guest's. */
		__asm__ volatile("movq %0, %%xmm2" :: "r"(0xdeadbeefULL)
				 : "xmm2");
		ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	}
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(3, uc.args[0]);	/* XCR0 read back after XSETBV */
	xmm.name = VID_REG_XMM0 + 1;
	ASSERT_EQ(0, vid_vp_get_regs(g.vp_fd[0], &xmm, 1));
	memcpy(&cr4, xmm.value.bytes, 8);
	EXPECT_EQ(0xfeedface, cr4);
	/* XSETBV without x87: #GP, which with no IDT ends in shutdown. */
	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_UNRECOVERABLE_EXCEPTION);
	vid_guest_destroy(&g);
}

/* Guest debug registers: DR0 written by the guest, DR1 set by the VMM. */
__asm__(GUEST_BEGIN(guest_dr, ".code64")
	"movabs $0x7fff1230, %rax\n\t"
	"mov %rax, %dr0\n\t"
	GUEST_VALUE
	"mov %dr1, %rdi\n\t"
	"mov %dr0, %rsi\n\t"
	GUEST_VALUE
	GUEST_DONE
	GUEST_END(guest_dr));
GUEST_DECLARE(guest_dr);

TEST(long64_debug_registers_are_the_guests)
{
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t dr0;

	VID_GUEST_CREATE_OR_SKIP(&g, VID_GUEST_LONG64, guest_dr);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd[0], VID_REG_DR0, &dr0));
	EXPECT_EQ(0x7fff1230, dr0);
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[0], VID_REG_DR1, 0x4560));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_VALUE);
	EXPECT_EQ(0x4560, uc.args[0]);
	/* Its DR0 survived the exits in between. */
	EXPECT_EQ(0x7fff1230, uc.args[1]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
}

/* 64 partitions with 2 VPs each, all 128 VPs running at once. */
#define MANY_PARTITIONS	64

FIXTURE(many) {
	int unused;
};

FIXTURE_SETUP(many)
{
}

FIXTURE_TEARDOWN(many)
{
}

/* Under TCG 128 VPs take a while: more than the 30 s default. */
TEST_F_TIMEOUT(many, partitions_two_vps_each, 600)
{
	struct vp_runner *runners;
	struct vid_guest *g;
	pthread_t *threads;
	unsigned int i, n = MANY_PARTITIONS * 2;
	int r;

	g = calloc(MANY_PARTITIONS, sizeof(*g));
	runners = calloc(n, sizeof(*runners));
	threads = calloc(n, sizeof(*threads));
	ASSERT_TRUE(g && runners && threads);
	for (i = 0; i < MANY_PARTITIONS; i++) {
		r = vid_guest_create_vps(&g[i], VID_GUEST_LONG64,
					 GUEST_BYTES(guest_two_vps), 2);
		if (r == -ENOENT)
			SKIP(return, "%s absent", VID_DEVICE_PATH);
		ASSERT_EQ(0, r) TH_LOG("partition %u: %s", i, strerror(-r));
	}
	for (i = 0; i < n; i++) {
		runners[i] = (struct vp_runner){ .g = &g[i / 2], .vp = i % 2 };
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, vp_runner_fn,
					    &runners[i]));
	}
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < n; i++) {
		EXPECT_STREQ("", runners[i].error)
			TH_LOG("partition %u VP %u: %s", i / 2, i % 2,
			       runners[i].error);
		EXPECT_EQ(TWO_VPS_ROUNDS, runners[i].rounds);
		/* Each VP wrote into its own partition only. */
		EXPECT_EQ((TWO_VPS_MAGIC | (i % 2)) + 0x10,
			  ram64(&g[i / 2], VID_GUEST_DATA_GPA + 8 * (i % 2)));
	}
	for (i = 0; i < MANY_PARTITIONS; i++)
		vid_guest_destroy(&g[i]);
	free(threads);
	free(runners);
	free(g);
}

TEST_HARNESS_MAIN
