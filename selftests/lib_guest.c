// SPDX-License-Identifier: GPL-2.0
/*
 * A guest for the vid kselftests: RAM, GDT, TSS, page tables and the
 * initial register state of real, protected and long mode, and the
 * port-I/O ucall (see lib_guest.h); for C guests also the test binary's
 * image in guest RAM, the IDT and its dispatcher (the only guest code in
 * this file).
 */
#define VID_TEST_UTIL_NO_HARNESS
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib_cguest.h"

#define PTE_P			0x1ULL
#define PTE_RW			0x2ULL
#define PTE_ADDR64		0x000ffffffffff000ULL
#define PT_PAGE			0x1000ULL

/* GDT descriptors (access byte 47:40, flags 55:52) and their attributes. */
#define DESC_ACCESS_CODE	0x9b
#define DESC_ACCESS_DATA	0x93
#define DESC_ACCESS_TSS_BUSY	0x8b
#define DESC_FLAGS_32		0xc	/* G, D/B */
#define DESC_FLAGS_64		0xa	/* G, L */
#define TSS_LIMIT		0x67

static uint64_t gdt_desc(uint32_t base, uint32_t limit, uint8_t access,
			 uint8_t flags)
{
	return (limit & 0xffffULL) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 | (uint64_t)(limit >> 16 & 0xf) << 48 |
	       (uint64_t)(flags & 0xf) << 52 | (uint64_t)(base >> 24) << 56;
}

/* The TLFS attributes of a descriptor built by gdt_desc(). */
static uint16_t desc_attr(uint8_t access, uint8_t flags)
{
	return access | (uint16_t)flags << 12;
}

static void gdt_build(struct vid_guest *g)
{
	uint64_t *gdt = (uint64_t *)(g->ram + VID_GUEST_GDT_GPA);

	memset(gdt, 0, PT_PAGE);
	gdt[VID_GUEST_SEL_CODE32 / 8] = gdt_desc(0, 0xfffff, DESC_ACCESS_CODE,
						 DESC_FLAGS_32);
	gdt[VID_GUEST_SEL_DATA / 8] = gdt_desc(0, 0xfffff, DESC_ACCESS_DATA,
					       DESC_FLAGS_32);
	gdt[VID_GUEST_SEL_CODE64 / 8] = gdt_desc(0, 0xfffff, DESC_ACCESS_CODE,
						 DESC_FLAGS_64);
	/* 16 bytes in long mode: base 63:32 in the next slot (0 here). */
	gdt[VID_GUEST_SEL_TSS / 8] = gdt_desc(VID_GUEST_TSS_GPA, TSS_LIMIT,
					      DESC_ACCESS_TSS_BUSY, 0);
}

/* A zeroed page-table page, or 0 when the area is full. */
static uint64_t pt_alloc(struct vid_guest *g)
{
	uint64_t gpa = g->pt_next;

	if (gpa >= g->pt_end)
		return 0;
	g->pt_next += PT_PAGE;
	memset(g->ram + gpa, 0, PT_PAGE);
	return gpa;
}

static int map32(struct vid_guest *g, uint64_t gva, uint64_t gpa)
{
	uint32_t *pd = (uint32_t *)(g->ram + g->cr3), *pt;
	uint32_t *pde = &pd[gva >> 22];

	if (gva >> 32 || gpa >> 32)
		return -EINVAL;
	if (!(*pde & PTE_P)) {
		uint64_t table = pt_alloc(g);

		if (!table)
			return -ENOMEM;
		*pde = table | PTE_P | PTE_RW;
	}
	pt = (uint32_t *)(g->ram + (*pde & ~0xfffU));
	pt[gva >> 12 & 0x3ff] = gpa | PTE_P | PTE_RW;
	return 0;
}

static int map64(struct vid_guest *g, uint64_t gva, uint64_t gpa)
{
	uint64_t table = g->cr3, *entry;
	int level;

	if ((uint64_t)((int64_t)(gva << 16) >> 16) != gva ||
	    gpa & ~PTE_ADDR64)
		return -EINVAL;
	for (level = 3; level > 0; level--) {
		entry = (uint64_t *)(g->ram + table) +
			(gva >> (12 + 9 * level) & 0x1ff);
		if (!(*entry & PTE_P)) {
			uint64_t next = pt_alloc(g);

			if (!next)
				return -ENOMEM;
			*entry = next | PTE_P | PTE_RW;
		}
		table = *entry & PTE_ADDR64;
	}
	entry = (uint64_t *)(g->ram + table) + (gva >> 12 & 0x1ff);
	*entry = gpa | PTE_P | PTE_RW;
	return 0;
}

int vid_guest_map(struct vid_guest *g, uint64_t gva, uint64_t gpa)
{
	if ((gva | gpa) & (PT_PAGE - 1))
		return -EINVAL;
	switch (g->mode) {
	case VID_GUEST_PROT32_PAGING:
		return map32(g, gva, gpa);
	case VID_GUEST_LONG64:
		return map64(g, gva, gpa);
	default:
		return -EINVAL;
	}
}

uint64_t *vid_guest_pte64(struct vid_guest *g, uint64_t gva, int level)
{
	uint64_t table = g->cr3, *entry;
	int l;

	if (g->mode != VID_GUEST_LONG64 || level < 0 || level > 3)
		return NULL;
	for (l = 3; ; l--) {
		if (table >= g->ram_size)
			return NULL;
		entry = (uint64_t *)(g->ram + table) +
			(gva >> (12 + 9 * l) & 0x1ff);
		if (l == level)
			return entry;
		if (!(*entry & PTE_P))
			return NULL;
		table = *entry & PTE_ADDR64;
	}
}

void *vid_guest_gpa(struct vid_guest *g, uint64_t gpa)
{
	return gpa < g->ram_size ? g->ram + gpa : NULL;
}

/* The top-level table and an identity map of the RAM. */
static int paging_build(struct vid_guest *g)
{
	uint64_t gpa;
	int r;

	g->cr3 = pt_alloc(g);
	for (gpa = 0; gpa < VID_GUEST_RAM_SIZE; gpa += PT_PAGE) {
		r = vid_guest_map(g, gpa, gpa);
		if (r)
			return r;
	}
	return 0;
}

static void reg_set64(struct vid_register *r, uint32_t name, uint64_t value)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->value.reg64 = value;
}

static void reg_set_seg(struct vid_register *r, uint32_t name,
			uint16_t selector, uint64_t base, uint32_t limit,
			uint16_t attributes)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->value.segment.selector = selector;
	r->value.segment.base = base;
	r->value.segment.limit = limit;
	r->value.segment.attributes = attributes;
}

static void reg_set_table(struct vid_register *r, uint32_t name,
			  uint64_t base, uint16_t limit)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->value.table.base = base;
	r->value.table.limit = limit;
}

/* Registers for VP @vp to start the program in g->mode. */
static int vp_regs_set(struct vid_guest *g, unsigned int vp)
{
	static const uint32_t data_segs[] = {
		VID_REG_DS, VID_REG_ES, VID_REG_FS, VID_REG_GS,
	};
	uint64_t stack = VID_GUEST_STACK_TOP(vp);
	uint64_t cr0 = VID_X86_CR0_ET, cr4 = 0, efer = 0;
	struct vid_register regs[24], *r = regs;
	uint16_t data_attr = desc_attr(DESC_ACCESS_DATA, DESC_FLAGS_32);
	unsigned int i;

	if (g->mode == VID_GUEST_REAL) {
		/* CS:IP = 0x1000:0, SS:SP at the top of the stack. */
		reg_set_seg(r++, VID_REG_CS, VID_GUEST_CODE_GPA >> 4,
			    VID_GUEST_CODE_GPA, 0xffff, VID_SEG_ATTR_CODE16);
		reg_set_seg(r++, VID_REG_SS, (stack - 0x10000) >> 4,
			    stack - 0x10000, 0xffff, VID_SEG_ATTR_DATA16);
		for (i = 0; i < 4; i++)
			reg_set_seg(r++, data_segs[i], 0, 0, 0xffff,
				    VID_SEG_ATTR_DATA16);
		reg_set64(r++, VID_REG_RIP, 0);
		reg_set64(r++, VID_REG_RSP, 0xfff0);
	} else {
		if (g->mode == VID_GUEST_LONG64)
			reg_set_seg(r++, VID_REG_CS, VID_GUEST_SEL_CODE64, 0,
				    0xffffffff,
				    desc_attr(DESC_ACCESS_CODE, DESC_FLAGS_64));
		else
			reg_set_seg(r++, VID_REG_CS, VID_GUEST_SEL_CODE32, 0,
				    0xffffffff,
				    desc_attr(DESC_ACCESS_CODE, DESC_FLAGS_32));
		reg_set_seg(r++, VID_REG_SS, VID_GUEST_SEL_DATA, 0, 0xffffffff,
			    data_attr);
		for (i = 0; i < 4; i++)
			reg_set_seg(r++, data_segs[i], VID_GUEST_SEL_DATA, 0,
				    0xffffffff, data_attr);
		reg_set_seg(r++, VID_REG_TR, VID_GUEST_SEL_TSS,
			    VID_GUEST_TSS_GPA, TSS_LIMIT,
			    desc_attr(DESC_ACCESS_TSS_BUSY, 0));
		reg_set64(r++, VID_REG_RIP, VID_GUEST_CODE_GPA);
		reg_set64(r++, VID_REG_RSP, stack);
		cr0 |= VID_X86_CR0_PE;
		if (g->mode != VID_GUEST_PROT32)
			cr0 |= VID_X86_CR0_PG;
		if (g->mode == VID_GUEST_LONG64) {
			cr4 |= VID_X86_CR4_PAE;
			efer |= VID_X86_EFER_LME | VID_X86_EFER_LMA;
		}
	}
	reg_set_table(r++, VID_REG_GDTR, VID_GUEST_GDT_GPA,
		      VID_GUEST_SEL_TSS + 15);
	reg_set_table(r++, VID_REG_IDTR, 0, 0);
	reg_set64(r++, VID_REG_CR0, cr0);
	reg_set64(r++, VID_REG_CR3, g->cr3);
	reg_set64(r++, VID_REG_CR4, cr4);
	reg_set64(r++, VID_REG_EFER, efer);
	reg_set64(r++, VID_REG_RFLAGS, 0x2);
	reg_set64(r++, VID_REG_RDI, vp);
	return vid_vp_set_regs(g->vp_fd[vp], regs, r - regs);
}

static int vp_regs_set_c(struct vid_guest *g, unsigned int vp);

int vid_guest_reset_vp(struct vid_guest *g, unsigned int vp)
{
	if (vp >= g->nr_vps)
		return -EINVAL;
	return g->guest_fn ? vp_regs_set_c(g, vp) : vp_regs_set(g, vp);
}

int (*vid_guest_before_initialize)(int part_fd);

/*
 * The first half of creating a guest: an initialized partition for
 * @nr_vps VPs and @ram_size bytes of zeroed RAM (not mapped yet).
 */
static int guest_open(struct vid_guest *g, unsigned int nr_vps,
		      uint64_t ram_size)
{
	void *ram;
	int r;

	g->vid_fd = vid_open();
	if (g->vid_fd < 0)
		return g->vid_fd;
	r = vid_test_partition(g->vid_fd, "guest", 0, false);
	if (r < 0)
		return r;
	g->part_fd = r;
	r = vid_prop_set_u64(g->part_fd, VID_PROP_MAX_VP_COUNT, nr_vps);
	if (!r && vid_guest_before_initialize)
		r = vid_guest_before_initialize(g->part_fd);
	if (!r)
		r = vid_partition_initialize(g->part_fd);
	if (r)
		return r;

	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return -errno;
	g->ram = ram;
	g->ram_size = ram_size;
	return 0;
}

/* The second half: map the RAM, create the VPs in their start state. */
static int guest_start(struct vid_guest *g, unsigned int nr_vps)
{
	unsigned int i;
	int r;

	r = vid_map_gpa(g->part_fd, 0, g->ram_size, g->ram,
			VID_MAP_READ | VID_MAP_WRITE | VID_MAP_EXEC);
	if (r)
		return r;

	for (i = 0; i < nr_vps; i++) {
		r = vid_vp_create(g->part_fd, i);
		if (r < 0)
			return r;
		g->vp_fd[i] = r;
		g->nr_vps++;
		g->msg[i] = vid_vp_message(g->vp_fd[i]);
		if (!g->msg[i])
			return -errno;
		r = vid_guest_reset_vp(g, i);
		if (r)
			return r;
	}
	return 0;
}

static void guest_init(struct vid_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->vid_fd = -1;
	g->part_fd = -1;
}

int vid_guest_create_vps(struct vid_guest *g, enum vid_guest_mode mode,
			 const void *code, size_t len, unsigned int nr_vps)
{
	int r;

	guest_init(g);
	if (!nr_vps || nr_vps > VID_GUEST_MAX_VPS || len > VID_GUEST_CODE_MAX ||
	    mode > VID_GUEST_LONG64)
		return -EINVAL;
	g->mode = mode;
	g->pt_next = VID_GUEST_PT_GPA;
	g->pt_end = VID_GUEST_PT_END;

	r = guest_open(g, nr_vps, VID_GUEST_RAM_SIZE);
	if (r)
		goto err;
	memset(g->ram, 0xf4, VID_GUEST_RAM_SIZE);	/* HLT everywhere */
	gdt_build(g);
	memcpy(g->ram + VID_GUEST_CODE_GPA, code, len);
	if (mode == VID_GUEST_PROT32_PAGING || mode == VID_GUEST_LONG64) {
		r = paging_build(g);
		if (r)
			goto err;
	}
	r = guest_start(g, nr_vps);
	if (r)
		goto err;
	return 0;

err:
	vid_guest_destroy(g);
	return r;
}

int vid_guest_create(struct vid_guest *g, enum vid_guest_mode mode,
		     const void *code, size_t len)
{
	return vid_guest_create_vps(g, mode, code, len, 1);
}

void vid_guest_destroy(struct vid_guest *g)
{
	unsigned int i;

	for (i = 0; i < g->nr_vps; i++) {
		if (g->msg[i])
			munmap((void *)g->msg[i], VID_PAGE_SIZE);
		close(g->vp_fd[i]);
	}
	g->nr_vps = 0;
	if (g->part_fd >= 0)
		close(g->part_fd);
	if (g->ram)
		munmap(g->ram, g->ram_size);
	if (g->vid_fd >= 0)
		close(g->vid_fd);
	g->part_fd = -1;
	g->vid_fd = -1;
	g->ram = NULL;
}

static bool is_ucall(const struct vid_message *m)
{
	return m->message_type == VID_MSG_X64_IO_PORT_INTERCEPT &&
	       m->io_port.port_number == VID_UCALL_PORT &&
	       m->header.intercept_access_type == VID_INTERCEPT_WRITE &&
	       (m->io_port.access_info & 0x1f) == 4;	/* 4 bytes, no string */
}

/* Copy the NUL-terminated string at guest address @gva (C guests). */
static void guest_string(struct vid_guest *g, uint64_t gva, char *buf,
			 size_t size)
{
	size_t i;

	for (i = 0; i + 1 < size && gva >= PT_PAGE && gva + i < g->ram_size &&
	     g->ram[gva + i]; i++)
		buf[i] = g->ram[gva + i];
	buf[i] = 0;
}

static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "", "#TS", "#NP", "#SS", "#GP", "#PF", "",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "", "",
	"", "", "", "", "#HV", "#VC", "#SX", "",
};

/* Spell out a C guest's failed assertion or unhandled exception. */
static void ucall_text(struct vid_guest *g, struct vid_ucall *uc)
{
	unsigned long long *a = (unsigned long long *)uc->args;
	char what[128];

	if (!g->guest_fn)
		return;
	if (uc->cmd == UCALL_ASSERT) {
		guest_string(g, a[3], what, sizeof(what));
		snprintf(uc->text, sizeof(uc->text),
			 "(%s: values %#llx, %#llx)", what, a[1], a[2]);
	} else if (uc->cmd == UCALL_UNHANDLED) {
		snprintf(uc->text, sizeof(uc->text),
			 "unhandled %s (vector %llu) at RIP %#llx, error code %#llx, CR2 %#llx",
			 a[0] < 32 && *exception_names[a[0]] ?
			 exception_names[a[0]] : "interrupt", a[0], a[1],
			 a[2], a[3]);
	}
}

int vid_guest_run_vp(struct vid_guest *g, unsigned int vp,
		     struct vid_ucall *uc)
{
	struct vid_register regs[2] = {
		{ .name = VID_REG_RDX },
		{ .name = VID_REG_RBX },
	};
	const struct vid_message *m = &uc->msg;
	unsigned int len;
	int r;

	if (vp >= g->nr_vps)
		return -EINVAL;
	memset(uc, 0, sizeof(*uc));
	r = vid_vp_run(g->vp_fd[vp]);
	if (r)
		return r;
	memcpy(&uc->msg, g->msg[vp], sizeof(uc->msg));
	if (!is_ucall(m))
		return 0;

	len = m->header.instruction_length & 0xf;
	if (!len)
		return -EPROTO;
	r = vid_vp_get_regs(g->vp_fd[vp], regs, 2);
	if (r)
		return r;
	uc->cmd = (uint32_t)m->io_port.rax;
	uc->args[0] = m->io_port.rdi;
	uc->args[1] = m->io_port.rsi;
	uc->args[2] = regs[0].value.reg64;
	uc->args[3] = regs[1].value.reg64;
	ucall_text(g, uc);
	/* Resume after the OUT. */
	return vid_vp_set_reg64(g->vp_fd[vp], VID_REG_RIP, m->header.rip + len);
}

const char *vid_ucall_name(uint64_t cmd)
{
	switch (cmd) {
	case UCALL_NONE: return "no ucall";
	case UCALL_DONE: return "UCALL_DONE";
	case UCALL_VALUE: return "UCALL_VALUE";
	case UCALL_ASSERT: return "UCALL_ASSERT";
	case UCALL_UNHANDLED: return "UCALL_UNHANDLED";
	default: return "an unknown ucall";
	}
}

int vid_guest_complete_msr(struct vid_guest *g, unsigned int vp,
			   const struct vid_ucall *uc, uint64_t value)
{
	struct vid_register regs[3];
	unsigned int n = 0;

	if (vp >= g->nr_vps ||
	    uc->msg.message_type != VID_MSG_X64_MSR_INTERCEPT)
		return -EINVAL;
	if (uc->msg.header.intercept_access_type == VID_INTERCEPT_READ) {
		reg_set64(&regs[n++], VID_REG_RAX, value & 0xffffffff);
		reg_set64(&regs[n++], VID_REG_RDX, value >> 32);
	}
	/* RDMSR and WRMSR are 2 bytes (0f 32, 0f 30) and take no prefix. */
	reg_set64(&regs[n++], VID_REG_RIP, uc->msg.header.rip + 2);
	return vid_vp_set_regs(g->vp_fd[vp], regs, n);
}

/*
 * C guests.
 *
 * Guest code: the entry point, the IDT's stubs and dispatcher. Every VP
 * starts at vid_guest_c_entry with RDI = its index, RSI = the guest
 * function and RSP = its stack top (16-byte aligned, as at a call).
 * Stub n of vid_guest_idt_stubs (at 16 n) pushes a 0 error code
 * for vectors where the CPU pushes none, then n, and jumps to the common
 * code, which completes struct vid_guest_regs on the stack, saves the
 * x87/SSE state (the C code may use SSE registers the interrupted code
 * had live), and calls vid_guest_dispatch(). In 64-bit mode the CPU
 * aligns RSP to 16 before pushing its frame: 5 + 2 + 15 quadwords keep
 * it aligned for FXSAVE and the call.
 */
void vid_guest_dispatch(struct vid_guest_regs *regs);

__asm__(".pushsection .text, \"ax\"\n"
	".globl vid_guest_c_entry\n"
	".type vid_guest_c_entry, @function\n"
	"vid_guest_c_entry:\n\t"
	"xor %ebp, %ebp\n\t"
	"call *%rsi\n\t"
	"mov $" VID_STR(UCALL_DONE) ", %eax\n\t"
	"out %eax, $" VID_STR(VID_UCALL_PORT) "\n"
	"1:\n\t"
	"cli\n\t"
	"hlt\n\t"
	"jmp 1b\n"
	".size vid_guest_c_entry, . - vid_guest_c_entry\n"

	".p2align 4\n"
	".globl vid_guest_idt_stubs\n"
	"vid_guest_idt_stubs:\n"
	".set vid_vector, 0\n"
	".rept 256\n\t"
	/* Stub n at 16 n; the assembler fails if one is too long. */
	".org vid_guest_idt_stubs + 16 * vid_vector, 0xcc\n\t"
	/* The CPU pushes an error code for these. */
	".if vid_vector != 8 && vid_vector != 10 && vid_vector != 11 && "
	"vid_vector != 12 && vid_vector != 13 && vid_vector != 14 && "
	"vid_vector != 17 && vid_vector != 21 && vid_vector != 29 && "
	"vid_vector != 30\n\t"
	"pushq $0\n\t"
	".endif\n\t"
	"pushq $vid_vector\n\t"
	"jmp vid_guest_exc_common\n\t"
	".set vid_vector, vid_vector + 1\n"
	".endr\n"

	"vid_guest_exc_common:\n\t"
	"push %r15\n\t"
	"push %r14\n\t"
	"push %r13\n\t"
	"push %r12\n\t"
	"push %r11\n\t"
	"push %r10\n\t"
	"push %r9\n\t"
	"push %r8\n\t"
	"push %rbp\n\t"
	"push %rdi\n\t"
	"push %rsi\n\t"
	"push %rdx\n\t"
	"push %rcx\n\t"
	"push %rbx\n\t"
	"push %rax\n\t"
	"cld\n\t"
	"mov %rsp, %rdi\n\t"
	"sub $512, %rsp\n\t"
	"fxsave64 (%rsp)\n\t"
	"call vid_guest_dispatch\n\t"
	"fxrstor64 (%rsp)\n\t"
	"add $512, %rsp\n\t"
	"pop %rax\n\t"
	"pop %rbx\n\t"
	"pop %rcx\n\t"
	"pop %rdx\n\t"
	"pop %rsi\n\t"
	"pop %rdi\n\t"
	"pop %rbp\n\t"
	"pop %r8\n\t"
	"pop %r9\n\t"
	"pop %r10\n\t"
	"pop %r11\n\t"
	"pop %r12\n\t"
	"pop %r13\n\t"
	"pop %r14\n\t"
	"pop %r15\n\t"
	"add $16, %rsp\n\t"	/* vector, error code */
	"iretq\n"
	".popsection\n");

extern const uint8_t vid_guest_c_entry[], vid_guest_idt_stubs[];

/* The guest's handlers (its own copy: guest RAM at the same address). */
vid_guest_handler_t vid_guest_handlers[256];

void vid_guest_dispatch(struct vid_guest_regs *regs)
{
	vid_guest_handler_t fn;

	/* A fault on the instruction GUEST_ASM_SAFE() guards: return. */
	if (regs->vector < 32 && regs->r9 == VID_GUEST_SAFE_MAGIC &&
	    regs->rip == regs->r10) {
		regs->rip = regs->r11;
		regs->r9 = regs->vector;
		regs->r10 = regs->error_code;
		return;
	}
	fn = vid_guest_handlers[regs->vector & 0xff];
	if (fn) {
		fn(regs);
		return;
	}
	guest_ucall(UCALL_UNHANDLED, regs->vector, regs->rip,
		    regs->error_code, get_cr2());
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

/* Host side. */

#define CGUEST_CR0		(VID_X86_CR0_PE | 0x2 /* MP */ |	\
				 VID_X86_CR0_ET | 0x20 /* NE */ |	\
				 0x10000 /* WP */ | VID_X86_CR0_PG)
#define CGUEST_CR4		(VID_X86_CR4_PAE | 0x200 /* OSFXSR */ |	\
				 0x400 /* OSXMMEXCPT */)
#define XCR0_FP_SSE_AVX		0x7ULL
#define IDT_GATE_INTR		0x8e	/* P, DPL 0, 64-bit interrupt gate */
#define TSS64_RSP0		0x04
#define TSS64_IST1		0x24
#define TSS64_IOMAP		0x66
#define IST_DF			1

static void put64(struct vid_guest *g, uint64_t gpa, uint64_t v)
{
	memcpy(g->ram + gpa, &v, sizeof(v));
}

/*
 * GDT as for the other modes plus one 16-byte TSS descriptor per VP; the
 * TSSs, with RSP0 at the VP's stack top and IST1 (#DF) at its own stack;
 * the per-VP areas; the IDT.
 */
static void cguest_tables_build(struct vid_guest *g)
{
	uint64_t *gdt = (uint64_t *)(g->ram + VID_GUEST_GDT_GPA);
	unsigned int vp, v;

	gdt_build(g);
	for (vp = 0; vp < VID_GUEST_MAX_VPS; vp++) {
		uint64_t tss = VID_CGUEST_TSS_GPA(vp);

		gdt[VID_CGUEST_SEL_TSS(vp) / 8] =
			gdt_desc(tss, TSS_LIMIT, DESC_ACCESS_TSS_BUSY, 0);
		gdt[VID_CGUEST_SEL_TSS(vp) / 8 + 1] = tss >> 32;
		put64(g, tss + TSS64_RSP0, VID_CGUEST_STACK_TOP(vp));
		put64(g, tss + TSS64_IST1, VID_CGUEST_IST_TOP(vp));
		/* I/O map base beyond the limit: no I/O permission map. */
		g->ram[tss + TSS64_IOMAP] = TSS_LIMIT + 1;

		put64(g, VID_CGUEST_VP_AREA_GPA(vp), VID_CGUEST_VP_AREA_GPA(vp));
		put64(g, VID_CGUEST_VP_AREA_GPA(vp) + 8, vp);
	}
	for (v = 0; v < 256; v++) {
		uint64_t fn = (uint64_t)vid_guest_idt_stubs + 16 * v;
		uint64_t lo = (fn & 0xffff) |
			      (uint64_t)VID_GUEST_SEL_CODE64 << 16 |
			      (uint64_t)(v == DF_VECTOR ? IST_DF : 0) << 32 |
			      (uint64_t)IDT_GATE_INTR << 40 |
			      (fn >> 16 & 0xffff) << 48;

		put64(g, VID_CGUEST_IDT_GPA + 16 * v, lo);
		put64(g, VID_CGUEST_IDT_GPA + 16 * v + 8, fn >> 32);
	}
}

/*
 * Copy the test binary's PT_LOAD segments to the same addresses in guest
 * RAM. The program headers come from /proc/self/exe; read-only segments
 * from the file too, writable ones from this process (relocated GOT,
 * libc's state after start-up, the globals as the host has them now).
 */
static int cguest_load_image(struct vid_guest *g)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned int i;
	int fd, r = 0;

	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_EXEC ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(ph)) {
		r = -ENOEXEC;
		goto out;
	}
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) !=
		    sizeof(ph)) {
			r = -ENOEXEC;
			goto out;
		}
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_vaddr < VID_CGUEST_IMAGE_GPA ||
		    ph.p_memsz > VID_CGUEST_DATA_GPA ||
		    ph.p_vaddr + ph.p_memsz > VID_CGUEST_DATA_GPA ||
		    ph.p_filesz > ph.p_memsz) {
			r = -ENOEXEC;
			goto out;
		}
		if (ph.p_flags & PF_W) {
			memcpy(g->ram + ph.p_vaddr, (void *)ph.p_vaddr,
			       ph.p_memsz);
		} else if (pread(fd, g->ram + ph.p_vaddr, ph.p_filesz,
				 ph.p_offset) != (ssize_t)ph.p_filesz) {
			r = -ENOEXEC;
			goto out;
		}
	}
out:
	close(fd);
	return r;
}

static bool cguest_guard_page(uint64_t gpa)
{
	unsigned int vp;

	for (vp = 0; vp < VID_GUEST_MAX_VPS; vp++)
		if (gpa == VID_CGUEST_STACK_GUARD(vp) ||
		    gpa == VID_CGUEST_IST_GUARD(vp))
			return true;
	return false;
}

/* Identity map all the RAM but page 0 and the stack guard pages. */
static int cguest_paging_build(struct vid_guest *g)
{
	uint64_t gpa;
	int r;

	g->cr3 = pt_alloc(g);
	for (gpa = PT_PAGE; gpa < g->ram_size; gpa += PT_PAGE) {
		if (cguest_guard_page(gpa))
			continue;
		r = vid_guest_map(g, gpa, gpa);
		if (r)
			return r;
	}
	return 0;
}

/* The host's XCR0 when it has OSXSAVE (CPUID.1:ECX bit 27), else 0. */
static uint64_t host_xcr0(void)
{
	unsigned int eax, ebx, ecx, edx;
	uint32_t lo, hi;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE))
		return 0;
	__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static int vp_regs_set_c(struct vid_guest *g, unsigned int vp)
{
	static const uint32_t data_segs[] = {
		VID_REG_SS, VID_REG_DS, VID_REG_ES, VID_REG_GS,
	};
	uint16_t data_attr = desc_attr(DESC_ACCESS_DATA, DESC_FLAGS_32);
	uint64_t xcr0 = host_xcr0() & XCR0_FP_SSE_AVX, cr4 = CGUEST_CR4;
	struct vid_register regs[24], *r = regs;
	unsigned int i;

	reg_set_seg(r++, VID_REG_CS, VID_GUEST_SEL_CODE64, 0, 0xffffffff,
		    desc_attr(DESC_ACCESS_CODE, DESC_FLAGS_64));
	for (i = 0; i < 4; i++)
		reg_set_seg(r++, data_segs[i], VID_GUEST_SEL_DATA, 0,
			    0xffffffff, data_attr);
	reg_set_seg(r++, VID_REG_FS, VID_GUEST_SEL_DATA,
		    VID_CGUEST_VP_AREA_GPA(vp), 0xffffffff, data_attr);
	reg_set_seg(r++, VID_REG_TR, VID_CGUEST_SEL_TSS(vp),
		    VID_CGUEST_TSS_GPA(vp), TSS_LIMIT,
		    desc_attr(DESC_ACCESS_TSS_BUSY, 0));
	reg_set_table(r++, VID_REG_GDTR, VID_GUEST_GDT_GPA,
		      VID_CGUEST_SEL_TSS(VID_GUEST_MAX_VPS) - 1);
	reg_set_table(r++, VID_REG_IDTR, VID_CGUEST_IDT_GPA, 256 * 16 - 1);
	if (xcr0 & 1) {
		cr4 |= X86_CR4_OSXSAVE;
		reg_set64(r++, VID_REG_XFEM, xcr0);
	}
	reg_set64(r++, VID_REG_CR0, CGUEST_CR0);
	reg_set64(r++, VID_REG_CR3, g->cr3);
	reg_set64(r++, VID_REG_CR4, cr4);
	reg_set64(r++, VID_REG_EFER, VID_X86_EFER_LME | VID_X86_EFER_LMA);
	reg_set64(r++, VID_REG_RFLAGS, 0x2);
	reg_set64(r++, VID_REG_RIP, (uint64_t)vid_guest_c_entry);
	reg_set64(r++, VID_REG_RSP, VID_CGUEST_STACK_TOP(vp));
	reg_set64(r++, VID_REG_RDI, vp);
	reg_set64(r++, VID_REG_RSI, (uint64_t)g->guest_fn);
	reg_set64(r++, VID_REG_RBP, 0);
	return vid_vp_set_regs(g->vp_fd[vp], regs, r - regs);
}

int vid_guest_create_c(struct vid_guest *g, unsigned int nr_vps,
		       void (*guest_fn)(unsigned int vp_index))
{
	int r;

	guest_init(g);
	if (!nr_vps || nr_vps > VID_GUEST_MAX_VPS || !guest_fn)
		return -EINVAL;
	g->mode = VID_GUEST_LONG64;
	g->guest_fn = guest_fn;
	g->pt_next = VID_CGUEST_PT_GPA;
	g->pt_end = VID_CGUEST_PT_END;

	r = guest_open(g, nr_vps, VID_CGUEST_RAM_SIZE);
	if (r)
		goto err;
	cguest_tables_build(g);
	r = cguest_load_image(g);
	if (!r)
		r = cguest_paging_build(g);
	if (!r)
		r = guest_start(g, nr_vps);
	if (r)
		goto err;
	return 0;

err:
	vid_guest_destroy(g);
	return r;
}

void *vid_guest_addr(struct vid_guest *g, const void *gva)
{
	uint64_t a = (uint64_t)gva;

	if (!g->guest_fn || a < PT_PAGE || a >= g->ram_size)
		return NULL;
	return g->ram + a;
}

int vid_guest_install_handler(struct vid_guest *g, unsigned int vector,
			      vid_guest_handler_t fn)
{
	if (!g->guest_fn || vector > 255)
		return -EINVAL;
	memcpy(vid_guest_addr(g, &vid_guest_handlers[vector]), &fn,
	       sizeof(fn));
	return 0;
}

void vid_dump_vps(void)
{
	FILE *f = fopen("/sys/kernel/debug/vid/vps", "r");
	char line[512];

	if (!f) {
		printf("# vps: %s\n", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		printf("# vps: %s", line);
	fclose(f);
	fflush(stdout);
}
