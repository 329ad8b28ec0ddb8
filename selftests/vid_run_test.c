// SPDX-License-Identifier: GPL-2.0
/*
 * Guests run: small real-mode programs executed by a VP, with the
 * intercepts they cause checked message by message (port I/O, HLT,
 * unmapped and read-only GPAs, triple fault), CPUID answered in the
 * kernel, isolation between partitions, and stopping a running VP with a
 * signal or by killing its VMM. VID_VP_RUN_COMPLETE: port I/O and MSR
 * intercepts completed by the kernel as the VP runs again, and each way
 * such a completion is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vid_test_util.h"

#define CODE_GPA	0x1000ULL
#define DATA_GPA	0x2000ULL
#define GUEST_PAGES	4

/* A partition with one VP, GUEST_PAGES of RAM at 0 and @code at 0x1000. */
struct guest {
	int vid_fd, part_fd, vp_fd;
	uint8_t *ram;
	const struct vid_message *msg;
};

static int guest_setup(struct __test_metadata *_metadata, struct guest *g,
		       const uint8_t *code, size_t len)
{
	struct vid_register regs[2] = {
		{ .name = VID_REG_CS,
		  .value.segment = { .base = 0, .limit = 0xffff,
				     .selector = 0, .attributes = 0x9b } },
		{ .name = VID_REG_RIP, .value.reg64 = CODE_GPA },
	};

	g->vid_fd = vid_open();
	if (g->vid_fd < 0)
		return g->vid_fd;
	g->part_fd = vid_test_partition(g->vid_fd, "run", 0, true);
	ASSERT_LE(0, g->part_fd);
	g->ram = mmap(NULL, GUEST_PAGES * 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g->ram);
	memset(g->ram, 0xf4, GUEST_PAGES * 4096);	/* hlt everywhere */
	memcpy(g->ram + CODE_GPA, code, len);
	ASSERT_EQ(0, vid_map_gpa(g->part_fd, 0, GUEST_PAGES * 4096, g->ram,
				 VID_MAP_READ | VID_MAP_WRITE | VID_MAP_EXEC));
	g->vp_fd = vid_vp_create(g->part_fd, 0);
	ASSERT_LE(0, g->vp_fd);
	g->msg = vid_vp_message(g->vp_fd);
	ASSERT_NE(NULL, g->msg);
	ASSERT_EQ(0, vid_vp_set_regs(g->vp_fd, regs, 2));
	return 0;
}

static void guest_teardown(struct guest *g)
{
	munmap((void *)g->msg, 4096);
	close(g->vp_fd);
	close(g->part_fd);
	munmap(g->ram, GUEST_PAGES * 4096);
	close(g->vid_fd);
}

#define GUEST_SETUP(g, code)						\
	do {								\
		if (guest_setup(_metadata, g, code, sizeof(code)) < 0)	\
			SKIP(return, "no /dev/vid");			\
	} while (0)

/* Advance RIP past the intercepted instruction, as a VMM does. */
static void skip_insn(struct __test_metadata *_metadata, struct guest *g)
{
	const struct vid_intercept_header *h = &g->msg->header;

	ASSERT_NE(0, h->instruction_length & 0xf);
	ASSERT_EQ(0, vid_vp_set_reg64(g->vp_fd, VID_REG_RIP,
				      h->rip + (h->instruction_length & 0xf)));
}

TEST(port_io_round_trip)
{
	static const uint8_t code[] = {
		0xb0, 0x42,		/* mov al, 0x42 */
		0xe6, 0x10,		/* out 0x10, al */
		0xe4, 0x11,		/* in al, 0x11 */
		0x88, 0xc3,		/* mov bl, al */
		0xf4,			/* hlt */
	};
	struct guest g;
	uint64_t rbx, rip;

	GUEST_SETUP(&g, code);

	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_X64_IO_PORT_INTERCEPT, g.msg->message_type);
	EXPECT_EQ(0x10, g.msg->io_port.port_number);
	EXPECT_EQ(VID_INTERCEPT_WRITE, g.msg->header.intercept_access_type);
	EXPECT_EQ(1, g.msg->io_port.access_info & 7);
	EXPECT_EQ(0x42, g.msg->io_port.rax & 0xff);
	EXPECT_EQ(CODE_GPA + 2, g.msg->header.rip);
	EXPECT_EQ(2, g.msg->header.instruction_length & 0xf);
	EXPECT_EQ(0, g.msg->header.vp_index);
	skip_insn(_metadata, &g);

	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_X64_IO_PORT_INTERCEPT, g.msg->message_type);
	EXPECT_EQ(0x11, g.msg->io_port.port_number);
	EXPECT_EQ(VID_INTERCEPT_READ, g.msg->header.intercept_access_type);
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd, VID_REG_RAX, 0x99));
	skip_insn(_metadata, &g);

	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_X64_HALT, g.msg->message_type);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RBX, &rbx));
	EXPECT_EQ(0x99, rbx & 0xff);
	/* RIP stays on the HLT, as the message says; the VMM moves it on. */
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RIP, &rip));
	EXPECT_EQ(CODE_GPA + sizeof(code) - 1, rip);
	EXPECT_EQ(rip, g.msg->header.rip);
	EXPECT_EQ(1, g.msg->header.instruction_length & 0xf);
	guest_teardown(&g);
}

/* VID_VP_RUN_COMPLETE for the intercept of @type; 0 or -errno. */
static int run_complete(int vp_fd, uint32_t type, uint64_t value)
{
	struct vid_vp_run_complete c = {
		.message_type = type,
		.value = value,
	};

	return ioctl(vp_fd, VID_VP_RUN_COMPLETE, &c) ? -errno : 0;
}

#define IO	VID_MSG_X64_IO_PORT_INTERCEPT
#define MSR	VID_MSG_X64_MSR_INTERCEPT

TEST(run_complete_in_out)
{
	static const uint8_t code[] = {
		0xe4, 0x11,		/* in al, 0x11 */
		0xe5, 0x12,		/* in ax, 0x12 */
		0x66, 0xe5, 0x13,	/* in eax, 0x13 */
		0xe6, 0x10,		/* out 0x10, al */
		0xf4,			/* hlt */
	};
	struct guest g;
	uint64_t rax, rip;

	GUEST_SETUP(&g, code);
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd, VID_REG_RAX,
				      0x1122334455667788ULL));

	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(IO, g.msg->message_type);
	EXPECT_EQ(0x11, g.msg->io_port.port_number);
	EXPECT_EQ(VID_INTERCEPT_READ, g.msg->header.intercept_access_type);

	/* The next intercept shows what the completion left in RAX. */
	ASSERT_EQ(0, run_complete(g.vp_fd, IO, 0x99));
	ASSERT_EQ(IO, g.msg->message_type);
	EXPECT_EQ(0x12, g.msg->io_port.port_number);
	EXPECT_EQ(CODE_GPA + 2, g.msg->header.rip);
	EXPECT_EQ(0x1122334455667799ULL, g.msg->io_port.rax);

	ASSERT_EQ(0, run_complete(g.vp_fd, IO, 0xabcd));
	ASSERT_EQ(IO, g.msg->message_type);
	EXPECT_EQ(0x13, g.msg->io_port.port_number);
	EXPECT_EQ(4, g.msg->io_port.access_info & 7);
	EXPECT_EQ(CODE_GPA + 4, g.msg->header.rip);
	EXPECT_EQ(0x112233445566abcdULL, g.msg->io_port.rax);

	/* A 32-bit IN clears the upper half. */
	ASSERT_EQ(0, run_complete(g.vp_fd, IO, 0xdeadbeef));
	ASSERT_EQ(IO, g.msg->message_type);
	EXPECT_EQ(0x10, g.msg->io_port.port_number);
	EXPECT_EQ(VID_INTERCEPT_WRITE, g.msg->header.intercept_access_type);
	EXPECT_EQ(CODE_GPA + 7, g.msg->header.rip);
	EXPECT_EQ(0xdeadbeefULL, g.msg->io_port.rax);

	/* OUT: RIP stepped, nothing else. */
	ASSERT_EQ(0, run_complete(g.vp_fd, IO, 0));
	ASSERT_EQ(VID_MSG_X64_HALT, g.msg->message_type);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RIP, &rip));
	EXPECT_EQ(CODE_GPA + sizeof(code) - 1, rip);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RAX, &rax));
	EXPECT_EQ(0xdeadbeefULL, rax);
	guest_teardown(&g);
}

TEST(run_complete_rdmsr_wrmsr)
{
	static const uint8_t code[] = {
		0x66, 0xb9, 0x34, 0x12, 0x00, 0x00,	/* mov ecx, 0x1234 */
		0x0f, 0x32,				/* rdmsr */
		0x0f, 0x30,				/* wrmsr */
		0xf4,					/* hlt */
	};
	struct guest g;
	uint64_t rip;

	GUEST_SETUP(&g, code);
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(MSR, g.msg->message_type);
	EXPECT_EQ(0x1234, g.msg->msr.msr_number);
	EXPECT_EQ(VID_INTERCEPT_READ, g.msg->header.intercept_access_type);
	EXPECT_EQ(CODE_GPA + 6, g.msg->header.rip);

	/* The WRMSR that follows writes back what RDMSR returned. */
	ASSERT_EQ(0, run_complete(g.vp_fd, MSR, 0x1122334455667788ULL));
	ASSERT_EQ(MSR, g.msg->message_type);
	EXPECT_EQ(VID_INTERCEPT_WRITE, g.msg->header.intercept_access_type);
	EXPECT_EQ(CODE_GPA + 8, g.msg->header.rip);
	EXPECT_EQ(0x11223344, g.msg->msr.rdx);
	EXPECT_EQ(0x55667788, g.msg->msr.rax);

	ASSERT_EQ(0, run_complete(g.vp_fd, MSR, 0));
	ASSERT_EQ(VID_MSG_X64_HALT, g.msg->message_type);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RIP, &rip));
	EXPECT_EQ(CODE_GPA + 10, rip);
	guest_teardown(&g);
}

/* The VP still sits on the intercepted instruction: nothing applied. */
static void expect_rip(struct __test_metadata *_metadata, struct guest *g,
		       uint64_t want)
{
	uint64_t rip;

	ASSERT_EQ(0, vid_vp_get_reg64(g->vp_fd, VID_REG_RIP, &rip));
	EXPECT_EQ(want, rip);
}

TEST(run_complete_refuses_bad_arguments)
{
	static const uint8_t code[] = {
		0xe4, 0x11,		/* in al, 0x11 */
		0xf4,			/* hlt */
	};
	struct vid_vp_run_complete c = { .message_type = IO };
	struct guest g;

	GUEST_SETUP(&g, code);
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(IO, g.msg->message_type);

	c.flags = 1;
	EXPECT_EQ(-1, ioctl(g.vp_fd, VID_VP_RUN_COMPLETE, &c));
	EXPECT_EQ(EINVAL, errno);
	c.flags = 0;
	c.reserved[0] = 1;
	EXPECT_EQ(-1, ioctl(g.vp_fd, VID_VP_RUN_COMPLETE, &c));
	EXPECT_EQ(EINVAL, errno);
	c.reserved[0] = 0;
	c.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(g.vp_fd, VID_VP_RUN_COMPLETE, &c));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(g.vp_fd, VID_VP_RUN_COMPLETE, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	/* An 8-bit IN returns no more than 8 bits. */
	EXPECT_EQ(-EINVAL, run_complete(g.vp_fd, IO, 0x100));
	/* Not the type of the pending intercept. */
	EXPECT_EQ(-EINVAL, run_complete(g.vp_fd, MSR, 0));
	EXPECT_EQ(-EINVAL, run_complete(g.vp_fd, 0, 0));
	expect_rip(_metadata, &g, CODE_GPA);

	/* The intercept is still pending and completes once. */
	ASSERT_EQ(0, run_complete(g.vp_fd, IO, 0x5a));
	ASSERT_EQ(VID_MSG_X64_HALT, g.msg->message_type);
	/* A HALT is not something this call completes. */
	EXPECT_EQ(-EINVAL, run_complete(g.vp_fd, VID_MSG_X64_HALT, 0));
	expect_rip(_metadata, &g, CODE_GPA + 2);
	guest_teardown(&g);
}

TEST(run_complete_refuses_what_it_does_not_complete)
{
	static const uint8_t code[] = {
		0xe6, 0x10,		/* out 0x10, al */
		0x6e,			/* outsb */
		0xf4,			/* hlt */
	};
	struct guest g;

	GUEST_SETUP(&g, code);
	/* Nothing pending before the first run. */
	EXPECT_EQ(-EINVAL, run_complete(g.vp_fd, IO, 0));
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(IO, g.msg->message_type);
	/* An OUT returns nothing. */
	EXPECT_EQ(-EINVAL, run_complete(g.vp_fd, IO, 1));
	expect_rip(_metadata, &g, CODE_GPA);

	/* String I/O stays with VID_VP_SET_REGISTERS. */
	ASSERT_EQ(0, run_complete(g.vp_fd, IO, 0));
	ASSERT_EQ(IO, g.msg->message_type);
	EXPECT_EQ(8, g.msg->io_port.access_info & 8);
	EXPECT_EQ(-EINVAL, run_complete(g.vp_fd, IO, 0));
	expect_rip(_metadata, &g, CODE_GPA + 2);

	/* A plain run leaves the intercept behind: none is pending then. */
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd, VID_REG_RIP, CODE_GPA + 3));
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_X64_HALT, g.msg->message_type);
	EXPECT_EQ(-EINVAL, run_complete(g.vp_fd, IO, 0));
	expect_rip(_metadata, &g, CODE_GPA + 3);
	guest_teardown(&g);
}

static void on_alarm_complete(int sig)
{
	(void)sig;
}

TEST(run_complete_applies_once_across_eintr)
{
	static const uint8_t code[] = {
		0xe6, 0x10,		/* out 0x10, al */
		0xeb, 0xfe,		/* jmp $ */
	};
	struct sigaction sa = { .sa_handler = on_alarm_complete };
	struct guest g;

	GUEST_SETUP(&g, code);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(IO, g.msg->message_type);
	alarm(1);
	/* Completed, then stopped by the signal while spinning. */
	ASSERT_EQ(-EINTR, run_complete(g.vp_fd, IO, 0));
	expect_rip(_metadata, &g, CODE_GPA + 2);
	/* Not a second time. */
	EXPECT_EQ(-EINVAL, run_complete(g.vp_fd, IO, 0));
	expect_rip(_metadata, &g, CODE_GPA + 2);
	guest_teardown(&g);
}

TEST(guest_writes_reach_vmm_memory)
{
	static const uint8_t code[] = {
		0xc7, 0x06, 0x00, 0x20, 0x34, 0x12,	/* mov word [0x2000], 0x1234 */
		0xa1, 0x04, 0x20,			/* mov ax, [0x2004] */
		0xf4,					/* hlt */
	};
	struct guest g;
	uint64_t rax;

	GUEST_SETUP(&g, code);
	g.ram[DATA_GPA + 4] = 0x78;
	g.ram[DATA_GPA + 5] = 0x56;
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_X64_HALT, g.msg->message_type);
	EXPECT_EQ(0x34, g.ram[DATA_GPA]);
	EXPECT_EQ(0x12, g.ram[DATA_GPA + 1]);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RAX, &rax));
	EXPECT_EQ(0x5678, rax & 0xffff);
	guest_teardown(&g);
}

TEST(cpuid_answered_in_kernel)
{
	static const uint8_t code[] = {
		0x66, 0xb8, 0x00, 0x00, 0x00, 0x40,	/* mov eax, 0x40000000 */
		0x0f, 0xa2,				/* cpuid */
		0xf4,					/* hlt */
	};
	struct guest g;
	uint64_t rax, rbx, rcx, rdx;

	GUEST_SETUP(&g, code);
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	/* CPUID never reached the VMM: the first message is the HLT. */
	ASSERT_EQ(VID_MSG_X64_HALT, g.msg->message_type);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RAX, &rax));
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RBX, &rbx));
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RCX, &rcx));
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RDX, &rdx));
	EXPECT_LE(0x40000001, rax);
	EXPECT_EQ(0x7263694d, rbx);	/* "Micr" */
	EXPECT_EQ(0x666f736f, rcx);	/* "osof" */
	EXPECT_EQ(0x76482074, rdx);	/* "t Hv" */
	guest_teardown(&g);
}

TEST(unmapped_gpa_intercepts)
{
	static const uint8_t code[] = {
		0xa0, 0x00, 0x80,	/* mov al, [0x8000]: nothing mapped */
		0xf4,
	};
	struct guest g;

	GUEST_SETUP(&g, code);
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_UNMAPPED_GPA, g.msg->message_type);
	EXPECT_EQ(0x8000, g.msg->memory.guest_physical_address);
	EXPECT_EQ(VID_INTERCEPT_READ, g.msg->header.intercept_access_type);
	EXPECT_EQ(CODE_GPA, g.msg->header.rip);
	/* The instruction's bytes, then what follows it in RAM. */
	ASSERT_EQ(16, g.msg->memory.instruction_byte_count);
	EXPECT_EQ(0, memcmp(g.ram + CODE_GPA, g.msg->memory.instruction_bytes,
			    16));
	EXPECT_EQ(0, g.msg->memory.memory_access_info & 1);
	guest_teardown(&g);
}

/*
 * Real mode with CS.base 0x3000: the instruction bytes come from CS.base +
 * IP and stop at the end of the RAM (GPA 0x4000), 8 bytes past IP 0xff8.
 */
TEST(unmapped_gpa_insn_bytes_stop_at_ram_end)
{
	static const uint8_t code[] = { 0xf4 };
	static const uint8_t load[] = {
		0xa0, 0x00, 0x80,	/* mov al, [0x8000]: nothing mapped */
		0x90, 0x90, 0x90, 0x90, 0xf4,
	};
	struct vid_register regs[2] = {
		{ .name = VID_REG_CS,
		  .value.segment = { .base = 0x3000, .limit = 0xffff,
				     .selector = 0x300, .attributes = 0x9b } },
		{ .name = VID_REG_RIP, .value.reg64 = 0xff8 },
	};
	struct guest g;

	GUEST_SETUP(&g, code);
	memcpy(g.ram + 0x3ff8, load, sizeof(load));
	ASSERT_EQ(0, vid_vp_set_regs(g.vp_fd, regs, 2));
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_UNMAPPED_GPA, g.msg->message_type);
	EXPECT_EQ(0x8000, g.msg->memory.guest_physical_address);
	EXPECT_EQ(0xff8, g.msg->header.rip);
	ASSERT_EQ(sizeof(load), g.msg->memory.instruction_byte_count);
	EXPECT_EQ(0, memcmp(load, g.msg->memory.instruction_bytes,
			    sizeof(load)));
	guest_teardown(&g);
}

/*
 * An instruction that straddles the end of the RAM: the fetch of its last
 * byte faults on GPA 0x4000, and the message holds the two bytes before.
 */
TEST(unmapped_gpa_insn_straddles_into_unmapped_page)
{
	static const uint8_t code[] = { 0xf4 };
	struct guest g;

	GUEST_SETUP(&g, code);
	g.ram[0x3ffe] = 0xa0;	/* mov al, [0x..00]: the rest is unmapped */
	g.ram[0x3fff] = 0x00;
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd, VID_REG_RIP, 0x3ffe));
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_UNMAPPED_GPA, g.msg->message_type);
	EXPECT_EQ(0x4000, g.msg->memory.guest_physical_address);
	EXPECT_EQ(VID_INTERCEPT_EXECUTE, g.msg->header.intercept_access_type);
	ASSERT_EQ(2, g.msg->memory.instruction_byte_count);
	EXPECT_EQ(0xa0, g.msg->memory.instruction_bytes[0]);
	EXPECT_EQ(0x00, g.msg->memory.instruction_bytes[1]);
	guest_teardown(&g);
}

TEST(read_only_gpa_write_intercepts)
{
	static const uint8_t code[] = {
		0xc6, 0x06, 0x00, 0x40, 0x55,	/* mov byte [0x4000], 0x55 */
		0xf4,
	};
	uint8_t *rom;
	struct guest g;

	GUEST_SETUP(&g, code);
	rom = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rom);
	rom[0] = 0xaa;
	ASSERT_EQ(0, vid_map_gpa(g.part_fd, 0x4000, 4096, rom, VID_MAP_READ));
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_GPA_INTERCEPT, g.msg->message_type);
	EXPECT_EQ(0x4000, g.msg->memory.guest_physical_address);
	EXPECT_EQ(VID_INTERCEPT_WRITE, g.msg->header.intercept_access_type);
	EXPECT_EQ(0xaa, rom[0]);
	guest_teardown(&g);
	munmap(rom, 4096);
}

TEST(triple_fault_stops_only_its_partition)
{
	static const uint8_t code[] = { 0xcc };	/* int3 with an empty IDT */
	static const uint8_t ok_code[] = { 0xf4 };
	struct vid_register idtr = {
		.name = VID_REG_IDTR, .value.table = { .limit = 0 },
	};
	struct guest g, other;

	GUEST_SETUP(&g, code);
	GUEST_SETUP(&other, ok_code);
	ASSERT_EQ(0, vid_vp_set_regs(g.vp_fd, &idtr, 1));
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	ASSERT_EQ(VID_MSG_UNRECOVERABLE_EXCEPTION, g.msg->message_type);
	ASSERT_EQ(0, vid_vp_run(other.vp_fd));
	EXPECT_EQ(VID_MSG_X64_HALT, other.msg->message_type);
	guest_teardown(&g);
	guest_teardown(&other);
}

TEST(partitions_are_isolated)
{
	static const uint8_t code[] = {
		0xc6, 0x06, 0x00, 0x20, 0x11,	/* mov byte [0x2000], 0x11 */
		0xf4,
	};
	static const uint8_t code2[] = {
		0xa0, 0x00, 0x20,		/* mov al, [0x2000] */
		0xc6, 0x06, 0x01, 0x20, 0x22,	/* mov byte [0x2001], 0x22 */
		0xf4,
	};
	struct guest a, b;
	uint64_t rax;

	GUEST_SETUP(&a, code);
	GUEST_SETUP(&b, code2);
	ASSERT_EQ(0, vid_vp_run(a.vp_fd));
	ASSERT_EQ(0, vid_vp_run(b.vp_fd));
	ASSERT_EQ(VID_MSG_X64_HALT, a.msg->message_type);
	ASSERT_EQ(VID_MSG_X64_HALT, b.msg->message_type);
	EXPECT_EQ(0x11, a.ram[DATA_GPA]);
	EXPECT_EQ(0xf4, a.ram[DATA_GPA + 1]);	/* b's write is not here */
	EXPECT_EQ(0x22, b.ram[DATA_GPA + 1]);
	ASSERT_EQ(0, vid_vp_get_reg64(b.vp_fd, VID_REG_RAX, &rax));
	EXPECT_EQ(0xf4, rax & 0xff);		/* b read its own page */
	guest_teardown(&a);
	guest_teardown(&b);
}

static void on_alarm(int sig)
{
	(void)sig;
}

TEST(signal_stops_a_spinning_vp)
{
	static const uint8_t code[] = { 0xeb, 0xfe };	/* jmp $ */
	struct sigaction sa = { .sa_handler = on_alarm };
	struct guest g;
	uint64_t rip;

	GUEST_SETUP(&g, code);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	alarm(1);
	ASSERT_EQ(-EINTR, vid_vp_run(g.vp_fd));
	/* Stopped: its state is readable again, and it was where it spun. */
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd, VID_REG_RIP, &rip));
	EXPECT_EQ(CODE_GPA, rip);
	guest_teardown(&g);
}

struct run_args {
	int vp_fd;
	int result;
};

static void *run_thread(void *arg)
{
	struct run_args *a = arg;

	a->result = vid_vp_run(a->vp_fd);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST(running_vp_refuses_second_runner_and_register_access)
{
	static const uint8_t code[] = { 0xeb, 0xfe };
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct run_args a;
	struct guest g;
	pthread_t t;
	uint64_t rip;
	int i, r = 0;

	GUEST_SETUP(&g, code);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	a.vp_fd = g.vp_fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, run_thread, &a));
	/* Wait until the VP runs: register access starts failing. */
	for (i = 0; i < 1000; i++) {
		r = vid_vp_get_reg64(g.vp_fd, VID_REG_RIP, &rip);
		if (r == -EBUSY)
			break;
		usleep(10000);
	}
	EXPECT_EQ(-EBUSY, r);
	EXPECT_EQ(-EBUSY, vid_vp_run(g.vp_fd));
	EXPECT_EQ(-EBUSY, run_complete(g.vp_fd, IO, 0));
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	EXPECT_EQ(-EINTR, a.result);
	guest_teardown(&g);
}

TEST(killed_vmm_leaves_nothing)
{
	static const uint8_t code[] = { 0xeb, 0xfe };
	struct vid_stats s0, s1;
	pid_t pid;
	int status, i;

	ASSERT_STATS_READ(&s0);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct guest g;

		if (guest_setup(_metadata, &g, code, sizeof(code)) < 0)
			_exit(1);
		vid_vp_run(g.vp_fd);
		_exit(2);
	}
	/* Let it reach the guest, then kill it mid-run. */
	for (i = 0; i < 100; i++) {
		ASSERT_STATS_READ(&s1);
		if (s1.pinned > s0.pinned)
			break;
		usleep(20000);
	}
	usleep(100000);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	for (i = 0; i < 100; i++) {
		ASSERT_STATS_READ(&s1);
		if (vid_stats_equal(&s0, &s1))
			break;
		usleep(20000);
	}
	EXPECT_TRUE(vid_stats_equal(&s0, &s1));
}

/* Is there a kernel thread whose name is @comm? */
static bool thread_exists(const char *comm)
{
	char path[300], name[64];
	struct dirent *de;
	bool found = false;
	DIR *d = opendir("/proc");
	FILE *f;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f)) {
			name[strcspn(name, "\n")] = 0;
			found = !strcmp(name, comm);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

TEST(vp_backing_thread_named_and_gone_with_vp)
{
	static const uint8_t code[] = { 0xf4 };
	uint64_t id = 0;
	char comm[32];
	struct guest g;
	int i;

	GUEST_SETUP(&g, code);
	ASSERT_EQ(0, vid_prop_get_u64(g.part_fd, VID_PROP_PARTITION_ID, &id));
	snprintf(comm, sizeof(comm), "vid-p%llu-vp0", (unsigned long long)id);
	EXPECT_TRUE(thread_exists(comm)) TH_LOG("no thread %s", comm);
	ASSERT_EQ(0, vid_vp_run(g.vp_fd));
	EXPECT_EQ(VID_MSG_X64_HALT, g.msg->message_type);
	guest_teardown(&g);
	for (i = 0; i < 100 && thread_exists(comm); i++)
		usleep(10000);
	EXPECT_FALSE(thread_exists(comm));
}

TEST_HARNESS_MAIN
