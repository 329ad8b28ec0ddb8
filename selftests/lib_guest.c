// SPDX-License-Identifier: GPL-2.0
/*
 * A guest for the vid kselftests: RAM, GDT, TSS, page tables and the
 * initial register state of real, protected and long mode, and the
 * port-I/O ucall (see lib_guest.h).
 */
#define VID_TEST_UTIL_NO_HARNESS
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib_guest.h"

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

	if (gpa >= VID_GUEST_PT_END)
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
		if (table >= VID_GUEST_RAM_SIZE)
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
	return gpa < VID_GUEST_RAM_SIZE ? g->ram + gpa : NULL;
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

int vid_guest_reset_vp(struct vid_guest *g, unsigned int vp)
{
	return vp < g->nr_vps ? vp_regs_set(g, vp) : -EINVAL;
}

int vid_guest_create_vps(struct vid_guest *g, enum vid_guest_mode mode,
			 const void *code, size_t len, unsigned int nr_vps)
{
	unsigned int i;
	void *ram;
	int r;

	memset(g, 0, sizeof(*g));
	g->vid_fd = -1;
	g->part_fd = -1;
	if (!nr_vps || nr_vps > VID_GUEST_MAX_VPS || len > VID_GUEST_CODE_MAX ||
	    mode > VID_GUEST_LONG64)
		return -EINVAL;
	g->mode = mode;
	g->pt_next = VID_GUEST_PT_GPA;

	g->vid_fd = vid_open();
	if (g->vid_fd < 0)
		return g->vid_fd;
	r = vid_test_partition(g->vid_fd, "guest", 0, false);
	if (r < 0)
		goto err;
	g->part_fd = r;
	r = vid_prop_set_u64(g->part_fd, VID_PROP_MAX_VP_COUNT, nr_vps);
	if (!r)
		r = vid_partition_initialize(g->part_fd);
	if (r)
		goto err;

	ram = mmap(NULL, VID_GUEST_RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		r = -errno;
		goto err;
	}
	g->ram = ram;
	memset(g->ram, 0xf4, VID_GUEST_RAM_SIZE);	/* HLT everywhere */
	gdt_build(g);
	memcpy(g->ram + VID_GUEST_CODE_GPA, code, len);
	if (mode == VID_GUEST_PROT32_PAGING || mode == VID_GUEST_LONG64) {
		r = paging_build(g);
		if (r)
			goto err;
	}
	r = vid_map_gpa(g->part_fd, 0, VID_GUEST_RAM_SIZE, g->ram,
			VID_MAP_READ | VID_MAP_WRITE | VID_MAP_EXEC);
	if (r)
		goto err;

	for (i = 0; i < nr_vps; i++) {
		r = vid_vp_create(g->part_fd, i);
		if (r < 0)
			goto err;
		g->vp_fd[i] = r;
		g->nr_vps++;
		g->msg[i] = vid_vp_message(g->vp_fd[i]);
		if (!g->msg[i]) {
			r = -errno;
			goto err;
		}
		r = vp_regs_set(g, i);
		if (r)
			goto err;
	}
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
		munmap(g->ram, VID_GUEST_RAM_SIZE);
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
	default: return "an unknown ucall";
	}
}
