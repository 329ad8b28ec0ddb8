// SPDX-License-Identifier: GPL-2.0
/*
 * VP state at boot and the run loop of each VP thread: VID_VP_RUN, read
 * the intercept message, emulate, set registers, run again. Port I/O and
 * MSR intercepts complete in the next run's call (VID_VP_RUN_COMPLETE,
 * when the module has it), as KVM's KVM_RUN completes an OUT.
 *
 * What reaches vidvm (the hypervisor finishes CPUID, the local APIC, the
 * Hyper-V MSRs and hypercalls itself): port I/O, accesses to guest
 * physical addresses without RAM (decoded with the hypervisor's own MMIO
 * decoder, hvcore/decode.c, built here as userspace C), MSRs the
 * hypervisor leaves to the root, HLT with interrupts off, the guest's
 * crash and reset MSRs, and the fatal ones (triple fault, invalid state,
 * an exit the hypervisor does not handle).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libvid.h>

#include "vidvm.h"
#include "../../hvcore/decode.h"

#define CR0_PE		0x1ULL
#define CR0_ET		0x10ULL
#define CR0_NE		0x20ULL
#define CR0_PG		0x80000000ULL
#define CR4_PAE		0x20ULL
#define EFER_LME	0x100ULL
#define EFER_LMA	0x400ULL

#define ATTR_CODE64	0xa09b	/* G, L, P, S, execute/read accessed */
#define ATTR_DATA	0xc093	/* G, D/B, P, S, read/write accessed */
#define ATTR_L		0x2000
#define ATTR_DB		0x4000

#define ACTIVITY_WAIT_SIPI	1
#define ACTIVITY_HALTED		2

#define IO_ACCESS_SIZE(info)	((info) & 7)
#define IO_ACCESS_STRING	0x08

/* Exception injection through the pending-interruption register. */
#define PENDING_EXCEPTION(vec)	(1ULL | 3ULL << 1 | 1ULL << 4 | \
				 (uint64_t)(vec) << 16)
#define VECTOR_GP		13

/* MSRs with a value a booting Linux wants; the rest read 0. */
#define MSR_MTRRCAP		0xfe
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MTRR_DEF_WB_ENABLED	0x806	/* E, default type write-back */

static void reg64(struct vid_register *r, uint32_t name, uint64_t v)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->value.reg64 = v;
}

static void seg(struct vid_register *r, uint32_t name, uint16_t sel,
		uint16_t attributes)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->value.segment.selector = sel;
	r->value.segment.limit = 0xffffffff;
	r->value.segment.attributes = attributes;
}

int vcpu_setup_bsp(int vp_fd, uint64_t entry)
{
	static const uint32_t data[] = {
		VID_REG_DS, VID_REG_ES, VID_REG_SS, VID_REG_FS, VID_REG_GS,
	};
	struct vid_register regs[16], *r = regs;
	unsigned int i;

	seg(r++, VID_REG_CS, 0x10, ATTR_CODE64);
	for (i = 0; i < 5; i++)
		seg(r++, data[i], 0x18, ATTR_DATA);
	memset(r, 0, sizeof(*r));
	r->name = VID_REG_GDTR;
	r->value.table.base = GPA_GDT;
	r->value.table.limit = 0x1f;
	r++;
	reg64(r++, VID_REG_CR0, CR0_PE | CR0_ET | CR0_NE | CR0_PG);
	reg64(r++, VID_REG_CR3, GPA_PML4);
	reg64(r++, VID_REG_CR4, CR4_PAE);
	reg64(r++, VID_REG_EFER, EFER_LME | EFER_LMA);
	reg64(r++, VID_REG_RIP, entry);
	reg64(r++, VID_REG_RSP, GPA_BOOT_STACK);
	reg64(r++, VID_REG_RSI, GPA_ZERO_PAGE);
	reg64(r++, VID_REG_RFLAGS, 0x2);
	return vid_vp_set_regs(vp_fd, regs, r - regs);
}

/* An AP waits in INIT state for the SIPI the guest's BSP sends. */
int vcpu_setup_ap(int vp_fd)
{
	return vid_vp_set_reg64(vp_fd, VID_REG_INTERNAL_ACTIVITY_STATE,
				ACTIVITY_WAIT_SIPI);
}

/*
 * A port I/O or MSR intercept handled: with VID_VP_RUN_COMPLETE the next
 * run completes it in the kernel (RIP, and RAX or EDX:EAX from @value),
 * one call instead of VID_VP_SET_REGISTERS and VID_VP_RUN.
 */
struct completion {
	uint32_t type;		/* 0: nothing to complete */
	uint64_t value;
};

static int set_rip_rax(int vp_fd, uint64_t rip, bool set_rax, uint64_t rax)
{
	struct vid_register regs[2];

	reg64(&regs[0], VID_REG_RIP, rip);
	reg64(&regs[1], VID_REG_RAX, rax);
	return vid_vp_set_regs(vp_fd, regs, set_rax ? 2 : 1);
}

static int handle_io(int vp_fd, const struct vid_io_port_intercept *io,
		     struct completion *done)
{
	unsigned int size = IO_ACCESS_SIZE(io->access_info);
	uint64_t rip = io->header.rip + (io->header.instruction_length & 0xf);
	uint64_t mask, v;

	if ((io->access_info & IO_ACCESS_STRING) ||
	    (size != 1 && size != 2 && size != 4) ||
	    !(io->header.instruction_length & 0xf)) {
		fprintf(stderr,
			"vidvm: vp%u: unsupported port access %#x info %#x at %#llx\n",
			io->header.vp_index, io->port_number, io->access_info,
			(unsigned long long)io->header.rip);
		return -1;
	}
	mask = (1ULL << (size * 8)) - 1;
	if (vm.run_complete)
		done->type = VID_MSG_X64_IO_PORT_INTERCEPT;
	if (io->header.intercept_access_type == VID_INTERCEPT_WRITE) {
		io_write(IO_PORT, io->port_number, size, io->rax & mask);
		return vm.run_complete ? 0 : set_rip_rax(vp_fd, rip, false, 0);
	}
	v = io_read(IO_PORT, io->port_number, size) & mask;
	if (vm.run_complete) {
		done->value = v;
		return 0;
	}
	/* IN to EAX zero-extends; to AL and AX it keeps the rest. */
	v = size == 4 ? v : (io->rax & ~mask) | v;
	return set_rip_rax(vp_fd, rip, true, v);
}

static int handle_mmio(int vp_fd, const struct vid_memory_intercept *m)
{
	uint16_t attr = m->header.cs.attributes;
	int mode = attr & ATTR_L ? 64 : attr & ATTR_DB ? 32 : 16;
	struct vid_register regs[2];
	struct hv_mmio_insn insn;
	uint64_t gpa = m->guest_physical_address;
	unsigned int reg;

	if (m->instruction_byte_count > sizeof(m->instruction_bytes) ||
	    hv_mmio_decode(m->instruction_bytes, m->instruction_byte_count,
			   mode, &insn)) {
		fprintf(stderr,
			"vidvm: vp%u: MMIO %#llx at %#llx: instruction not decoded\n",
			m->header.vp_index, (unsigned long long)gpa,
			(unsigned long long)m->header.rip);
		return -1;
	}
	reg = insn.reg;	/* AH..BH are 0..3 too: merge and store shift */
	memset(regs, 0, sizeof(regs));
	regs[0].name = VID_REG_RAX + reg;
	if (insn.src_kind == HV_MMIO_REG || !insn.write) {
		if (vid_vp_get_regs(vp_fd, regs, 1))
			return -1;
	}
	if (insn.write) {
		io_write(IO_MMIO, gpa, insn.size,
			 hv_mmio_store_value(&insn, regs[0].value.reg64));
		return set_rip_rax(vp_fd, m->header.rip + insn.len, false, 0);
	}
	regs[0].value.reg64 = hv_mmio_merge(regs[0].value.reg64, &insn,
					    io_read(IO_MMIO, gpa, insn.size));
	reg64(&regs[1], VID_REG_RIP, m->header.rip + insn.len);
	return vid_vp_set_regs(vp_fd, regs, 2);
}

static int handle_msr(int vp_fd, const struct vid_msr_intercept *msr,
		      struct completion *done)
{
	struct vid_register regs[3];
	uint64_t v = 0;

	if (vm.verbose)
		fprintf(stderr, "vidvm: vp%u: %s MSR %#x\n",
			msr->header.vp_index,
			msr->header.intercept_access_type ==
			VID_INTERCEPT_WRITE ? "wrmsr" : "rdmsr",
			msr->msr_number);
	reg64(&regs[0], VID_REG_RIP, msr->header.rip + 2);
	if (msr->header.intercept_access_type != VID_INTERCEPT_WRITE &&
	    msr->msr_number == MSR_MTRR_DEF_TYPE)
		v = MTRR_DEF_WB_ENABLED;
	if (vm.run_complete) {
		done->type = VID_MSG_X64_MSR_INTERCEPT;
		done->value = v;
		return 0;
	}
	if (msr->header.intercept_access_type == VID_INTERCEPT_WRITE)
		return vid_vp_set_regs(vp_fd, regs, 1);
	reg64(&regs[1], VID_REG_RAX, v & 0xffffffff);
	reg64(&regs[2], VID_REG_RDX, v >> 32);
	return vid_vp_set_regs(vp_fd, regs, 3);
}

/* HLT with interrupts off: halted until an NMI, INIT or interrupt. */
static int handle_halt(int vp_fd, const struct vid_intercept_header *h)
{
	struct vid_register regs[2];

	reg64(&regs[0], VID_REG_RIP, h->rip + 1);
	reg64(&regs[1], VID_REG_INTERNAL_ACTIVITY_STATE, ACTIVITY_HALTED);
	return vid_vp_set_regs(vp_fd, regs, 2);
}

/* Guest virtual to physical through the guest's 4-level page tables. */
static bool gva_to_gpa(uint64_t cr3, uint64_t gva, uint64_t *gpa)
{
	uint64_t table = cr3 & 0x000ffffffffff000ULL, e = 0;
	int level;

	for (level = 3; level >= 0; level--) {
		uint64_t idx = (gva >> (12 + 9 * level)) & 0x1ff;

		if (table + idx * 8 + 8 > vm.mem_size)
			return false;
		memcpy(&e, vm.ram + table + idx * 8, 8);
		if (!(e & 1))
			return false;
		if (level && level < 3 && (e & 0x80)) {	/* 1 GiB or 2 MiB page */
			uint64_t size = 1ULL << (12 + 9 * level);

			*gpa = (e & 0x000ffffffffff000ULL & ~(size - 1)) |
			       (gva & (size - 1));
			return *gpa < vm.mem_size;
		}
		table = e & 0x000ffffffffff000ULL;
	}
	*gpa = table | (gva & 0xfff);
	return *gpa < vm.mem_size;
}

/* The kernel text addresses on a stopped VP's stack (a crude backtrace). */
static void dump_stack_words(unsigned int index, uint64_t cr3, uint64_t rsp)
{
	uint64_t gpa, v;
	unsigned int i, n = 0;

	for (i = 0; i < 512 && n < 24; i++) {
		if (!gva_to_gpa(cr3, rsp + i * 8, &gpa) ||
		    gpa + 8 > vm.mem_size)
			return;
		memcpy(&v, vm.ram + gpa, 8);
		if (v >> 32 == 0xffffffff && (v >> 24 & 0xff) >= 0x80) {
			fprintf(stderr, "vidvm: vp%u: stack %#llx\n", index,
				(unsigned long long)v);
			n++;
		}
	}
}

void vcpu_dump(unsigned int index, int vp_fd)
{
	static const struct {
		uint32_t name;
		const char *what;
	} show[] = {
		{ VID_REG_RIP, "rip" }, { VID_REG_RSP, "rsp" },
		{ VID_REG_RAX, "rax" }, { VID_REG_CR0, "cr0" },
		{ VID_REG_CR2, "cr2" }, { VID_REG_CR3, "cr3" },
		{ VID_REG_CR4, "cr4" }, { VID_REG_EFER, "efer" },
	};
	struct vid_register r;
	unsigned int i;

	uint64_t rsp = 0, cr3 = 0;

	for (i = 0; i < ARRAY_SIZE(show); i++) {
		memset(&r, 0, sizeof(r));
		r.name = show[i].name;
		if (vid_vp_get_regs(vp_fd, &r, 1))
			continue;
		fprintf(stderr, "vidvm: vp%u: %s %#llx\n", index, show[i].what,
			(unsigned long long)r.value.reg64);
		if (show[i].name == VID_REG_RSP)
			rsp = r.value.reg64;
		if (show[i].name == VID_REG_CR3)
			cr3 = r.value.reg64;
	}
	if (vm.verbose && cr3)
		dump_stack_words(index, cr3, rsp);
}

/* One message; 0 to run on, -1 to stop the VM (already reported). */
static int handle(unsigned int index, int vp_fd, const struct vid_message *m,
		  struct completion *done)
{
	const struct vid_guest_crash *c = &m->guest_crash;

	switch (m->message_type) {
	case VID_MSG_X64_IO_PORT_INTERCEPT:
		return handle_io(vp_fd, &m->io_port, done);
	case VID_MSG_UNMAPPED_GPA:
	case VID_MSG_GPA_INTERCEPT:
		return handle_mmio(vp_fd, &m->memory);
	case VID_MSG_X64_MSR_INTERCEPT:
		return handle_msr(vp_fd, &m->msr, done);
	case VID_MSG_X64_HALT:
		return handle_halt(vp_fd, &m->header);
	case VID_MSG_GUEST_RESET:
		vm_stop(VM_RESET);
		return 0;
	case VID_MSG_GUEST_CRASH:
		fprintf(stderr,
			"vidvm: vp%u: guest crashed: %#llx %#llx %#llx %#llx %#llx\n",
			index, (unsigned long long)c->parameters[0],
			(unsigned long long)c->parameters[1],
			(unsigned long long)c->parameters[2],
			(unsigned long long)c->parameters[3],
			(unsigned long long)c->parameters[4]);
		vm_stop(VM_CRASH);
		return 0;
	case VID_MSG_UNRECOVERABLE_EXCEPTION:
		fprintf(stderr, "vidvm: vp%u: triple fault at %#llx\n", index,
			(unsigned long long)m->header.rip);
		break;
	case VID_MSG_UNSUPPORTED_FEATURE:
		fprintf(stderr, "vidvm: vp%u: unhandled exit %#llx at %#llx\n",
			index,
			(unsigned long long)m->unsupported.feature_parameter,
			(unsigned long long)m->header.rip);
		break;
	default:
		fprintf(stderr, "vidvm: vp%u: message %#x\n", index,
			m->message_type);
		break;
	}
	vcpu_dump(index, vp_fd);
	return -1;
}

void *vcpu_thread(void *arg)
{
	unsigned int index = (uintptr_t)arg;
	int vp_fd = vm.vp_fd[index], r;
	const struct vid_message *m = vid_vp_message(vp_fd);
	struct completion done = { 0 };

	if (!m) {
		fprintf(stderr, "vidvm: vp%u: cannot map the message page\n",
			index);
		vm_stop(VM_ERROR);
		return NULL;
	}
	io_thread_online();
	while (vm_exit_reason() == VM_RUNNING) {
		if (done.type)
			r = vid_vp_run_complete(vp_fd, done.type, done.value);
		else
			r = vid_vp_run(vp_fd);
		/* Completed, even when the run was interrupted. */
		done.type = 0;
		done.value = 0;
		if (r == -EINTR)
			continue;
		if (r) {
			fprintf(stderr, "vidvm: vp%u: run: %s\n", index,
				strerror(-r));
			vm_stop(VM_ERROR);
			break;
		}
		if (handle(index, vp_fd, m, &done)) {
			vm_stop(VM_ERROR);
			break;
		}
	}
	io_thread_offline();
	return NULL;
}
