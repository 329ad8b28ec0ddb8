// SPDX-License-Identifier: GPL-2.0
/*
 * vidbench: side-by-side benchmarks of vid and KVM in one boot.
 *
 * Rounds are interleaved (KVM, vid, KVM, vid, ...) and summarised by the
 * median of the per-round vid/KVM ratios with their spread, because TCG
 * timings swing by 2x between consecutive rounds. Both sides run the same
 * guest code from the same register state; KVM is driven through /dev/kvm
 * the way a minimal VMM does (KVM_SET_CPUID2 with what KVM supports, no
 * in-kernel irqchip, so HLT and port I/O come back to userspace).
 *
 * SVM belongs to one of them at a time (6.1's KVM turns it on while one of
 * its VMs exists, vid while a partition exists), so a round of one side
 * closes all its VMs before the other side's round starts. A round opens
 * one VM and reuses it for all its iterations: under QEMU TCG, on Debian
 * 6.1, a few dozen KVM_CREATE_VM/close cycles that each turn SVM on and
 * off freeze the emulated machine (soft lockups in finish_task_switch,
 * seen with KVM alone, no vid loaded). Each benchmark runs in a child
 * process, so a failure in one (reported as a "# ... failed" line and a
 * non-zero exit) releases its VMs and leaves the others measurable.
 *
 * Output, one line each (no timing is asserted, only reported):
 *   BENCH <name> vid=<v><unit> anchor=<v><unit> ratio=<r> spread=<min>-<max>
 * where anchor is KVM, ratio the median of the per-round vid/KVM ratios
 * and spread their minimum and maximum. Lines starting with "#" are
 * per-round details and notes.
 *
 *   partition_lifecycle  create + initialize + delete a partition, against
 *                        KVM_CREATE_VM + close (us per VM; one VM of the
 *                        side stays open so SVM is not toggled each time).
 *   pio_exit             real-mode "out 0x10, al" PIO_EXITS times: each OUT
 *                        is a KVM_EXIT_IO (KVM advances RIP) or a
 *                        VID_MSG_X64_IO_PORT_INTERCEPT (the VMM sets RIP
 *                        past the instruction with VID_VP_SET_REGISTERS),
 *                        then KVM_RUN / VID_VP_RUN again. us per exit:
 *                        first run to HLT, divided by the exit count.
 *   cpuid_exit           real-mode loop of CPUID leaf 1, finished in the
 *                        kernel on both sides. us per CPUID, measured as
 *                        (time of the loop with CPUID - time of the same
 *                        loop with a 2-byte NOP in its place) / count, both
 *                        in the same VM, so the entry, the HLT exit and
 *                        the loop itself cancel out.
 *   first_touch_256m     a 32-bit flat protected-mode guest (paging off)
 *                        writes one byte per 4 KiB page across 256 MiB of
 *                        untouched anonymous memory, then HLTs. ms for map
 *                        + run: the map call is inside the measured time
 *                        on both sides, since vid pins (so faults in) all
 *                        pages in VID_PARTITION_MAP_GPA while KVM faults
 *                        them in lazily on the guest's first touch. The
 *                        memory is 2 MiB aligned so transparent huge pages
 *                        (their mode is printed) apply the same way each
 *                        round; one 256 MiB guest exists at a time.
 *   kmem_per_vp          kernel memory per VM with one VP (vid: partition
 *                        + initialize + VP + one mapped page; KVM: VM +
 *                        vCPU with its CPUID + one-page memslot), KMEM_VMS
 *                        of them alive at once, from the memory cgroup the
 *                        mode script put vidbench in (both charge to the
 *                        caller's memcg). KiB per VM. Per-VM kernel
 *                        threads (KVM's nx-lpage-recovery, a VP-backing
 *                        thread) are forked by kthreadd and not charged
 *                        to the caller, so neither side counts them.
 *                        Needs cgroup2 with the memory controller;
 *                        without it, vid's own debugfs count is printed
 *                        as a note, no BENCH line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libvid.h"

#define ROUNDS		5
#define LIFECYCLES	40
#define PIO_EXITS	2000
#define CPUID_LOOPS	2000
#define TOUCH_SIZE	(256UL << 20)
#define KMEM_VMS	32

#define PAGE_SIZE	4096UL
#define HUGE_SIZE	(2UL << 20)
#define CODE_GPA	0x1000UL	/* every guest starts here */
#define CODE2_GPA	0x2000UL
#define SMALL_RAM	(4 * PAGE_SIZE)	/* RAM of the exit benchmarks */

#define CR0_PE		0x1ULL
#define CR0_ET		0x10ULL
#define RFLAGS_FIXED	0x2ULL

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define VID_STATS	"/sys/kernel/debug/vid/stats"

enum vm_side { KVM, VID };

/* One VM with one vCPU, on either side. */
struct vm {
	enum vm_side side;
	int fd;				/* KVM VM or vid partition */
	int vcpu;			/* KVM vCPU or vid VP */
	struct kvm_run *run;		/* KVM: mmapped run area */
	const struct vid_message *msg;	/* vid: the VP's message page */
};

/* Guest register state both sides start from. */
enum cpu_mode { REAL16, FLAT32 };

static int kvm_fd, vid_fd, kvm_run_size;
static struct kvm_cpuid2 *kvm_cpuid;
static char detail[96];		/* a measurement's breakdown, if any */

/*
 * Guest code. Real mode (16-bit): 0x66 makes an operand 32-bit.
 *   pio:   mov cx, PIO_EXITS; l: out 0x10, al; loop l; hlt
 *   cpuid: mov esi, CPUID_LOOPS; l: mov eax, 1; cpuid; dec esi; jnz l; hlt
 * 32-bit flat:
 *   touch: mov al, TOUCH_BYTE; mov edi, 0xff0; l: mov [edi], al;
 *          add edi, 0x1000; cmp edi, TOUCH_SIZE; jb l; hlt
 */
static const uint8_t pio_code[] = {
	0xb9, PIO_EXITS & 0xff, PIO_EXITS >> 8,
	0xe6, 0x10,
	0xe2, 0xfc,
	0xf4,
};

#define CPUID_INSN	12	/* offset of the 2-byte CPUID in cpuid_code */
static const uint8_t cpuid_code[] = {
	0x66, 0xbe, CPUID_LOOPS & 0xff, CPUID_LOOPS >> 8, 0x00, 0x00,
	0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,
	0x0f, 0xa2,
	0x66, 0x4e,
	0x75, 0xf4,
	0xf4,
};

#define TOUCH_BYTE	0x5a
static const uint8_t touch_code[] = {
	0xb0, TOUCH_BYTE,
	0xbf, 0xf0, 0x0f, 0x00, 0x00,
	0x88, 0x07,
	0x81, 0xc7, 0x00, 0x10, 0x00, 0x00,
	0x81, 0xff, 0x00, 0x00, (TOUCH_SIZE >> 16) & 0xff, TOUCH_SIZE >> 24,
	0x72, 0xf0,
	0xf4,
};

/* Report a failure and end this (child) process. */
static _Noreturn void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# vidbench: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static const char *side_name(enum vm_side s)
{
	return s == KVM ? "KVM" : "vid";
}

/* A bare VM: KVM_CREATE_VM, or a partition created and initialized. */
static int bare_vm(enum vm_side side)
{
	int fd;

	if (side == KVM) {
		fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
		if (fd < 0)
			fail("KVM_CREATE_VM: %s", strerror(errno));
		return fd;
	}
	fd = vid_partition_create(vid_fd, 0);
	if (fd < 0)
		fail("VID_CREATE_PARTITION: %s", strerror(-fd));
	if (vid_partition_initialize(fd))
		fail("VID_PARTITION_INITIALIZE: %s", strerror(errno));
	return fd;
}

/*
 * A VM with one vCPU. With @map_run the KVM run area or the vid message
 * page is mapped too (needed to run it).
 */
static void vm_open(struct vm *vm, enum vm_side side, bool map_run)
{
	void *p;

	memset(vm, 0, sizeof(*vm));
	vm->side = side;
	vm->fd = bare_vm(side);
	if (side == KVM) {
		vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
		if (vm->vcpu < 0)
			fail("KVM_CREATE_VCPU: %s", strerror(errno));
		if (ioctl(vm->vcpu, KVM_SET_CPUID2, kvm_cpuid))
			fail("KVM_SET_CPUID2: %s", strerror(errno));
		if (!map_run)
			return;
		p = mmap(NULL, kvm_run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vm->vcpu, 0);
		if (p == MAP_FAILED)
			fail("mmap kvm_run: %s", strerror(errno));
		vm->run = p;
		return;
	}
	vm->vcpu = vid_vp_create(vm->fd, 0);
	if (vm->vcpu < 0)
		fail("VID_PARTITION_CREATE_VP: %s", strerror(-vm->vcpu));
	if (!map_run)
		return;
	vm->msg = vid_vp_message(vm->vcpu);
	if (!vm->msg)
		fail("mmap vid message page: %s", strerror(errno));
}

static void vm_close(struct vm *vm)
{
	if (vm->run)
		munmap(vm->run, kvm_run_size);
	if (vm->msg)
		munmap((void *)vm->msg, PAGE_SIZE);
	close(vm->vcpu);
	close(vm->fd);
}

/* Back guest physical [@gpa, @gpa + @size) with @host, read/write/exec. */
static void vm_map(struct vm *vm, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};
	int r;

	if (vm->side == KVM) {
		if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region))
			fail("KVM_SET_USER_MEMORY_REGION: %s",
			     strerror(errno));
		return;
	}
	r = vid_map_gpa(vm->fd, gpa, size, host,
			VID_MAP_READ | VID_MAP_WRITE | VID_MAP_EXEC);
	if (r)
		fail("VID_PARTITION_MAP_GPA: %s", strerror(-r));
}

/* KVM's form of a segment with TLFS-style @attr (type, S, DPL, P, DB, G). */
static void kvm_seg(struct kvm_segment *s, uint16_t sel, uint32_t limit,
		    uint16_t attr)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = limit;
	s->type = attr & 0xf;
	s->s = attr >> 4 & 1;
	s->dpl = attr >> 5 & 3;
	s->present = attr >> 7 & 1;
	s->db = attr >> 14 & 1;
	s->g = attr >> 15 & 1;
}

/*
 * Start the vCPU at @rip in @mode: real mode with all segments at base 0
 * (limit 64 KiB), or 32-bit flat (base 0, limit 4 GiB, paging off). CR0
 * is ET (| PE) on both sides, general registers are zero.
 */
static void vm_set_cpu(struct vm *vm, enum cpu_mode mode, uint64_t rip)
{
	bool flat = mode == FLAT32;
	uint32_t limit = flat ? 0xffffffffU : 0xffff;
	uint16_t code_attr = flat ? 0xc09b : 0x9b;
	uint16_t data_attr = flat ? 0xc093 : 0x93;
	uint16_t code_sel = flat ? 0x8 : 0, data_sel = flat ? 0x10 : 0;
	uint64_t cr0 = CR0_ET | (flat ? CR0_PE : 0);
	static const uint32_t data_regs[] = {
		VID_REG_DS, VID_REG_ES, VID_REG_SS, VID_REG_FS, VID_REG_GS,
	};
	struct vid_register regs[32];
	struct kvm_sregs sregs;
	struct kvm_regs kregs;
	unsigned int i, n = 0;
	int r;

	if (vm->side == KVM) {
		if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
			fail("KVM_GET_SREGS: %s", strerror(errno));
		kvm_seg(&sregs.cs, code_sel, limit, code_attr);
		kvm_seg(&sregs.ds, data_sel, limit, data_attr);
		sregs.es = sregs.ds;
		sregs.ss = sregs.ds;
		sregs.fs = sregs.ds;
		sregs.gs = sregs.ds;
		sregs.cr0 = cr0;
		if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs))
			fail("KVM_SET_SREGS: %s", strerror(errno));
		memset(&kregs, 0, sizeof(kregs));
		kregs.rip = rip;
		kregs.rflags = RFLAGS_FIXED;
		if (ioctl(vm->vcpu, KVM_SET_REGS, &kregs))
			fail("KVM_SET_REGS: %s", strerror(errno));
		return;
	}
	memset(regs, 0, sizeof(regs));
	regs[n].name = VID_REG_CS;
	regs[n].value.segment = (struct vid_segment){
		.limit = limit, .selector = code_sel, .attributes = code_attr,
	};
	n++;
	for (i = 0; i < sizeof(data_regs) / sizeof(data_regs[0]); i++, n++) {
		regs[n].name = data_regs[i];
		regs[n].value.segment = (struct vid_segment){
			.limit = limit, .selector = data_sel,
			.attributes = data_attr,
		};
	}
	regs[n].name = VID_REG_CR0;
	regs[n++].value.reg64 = cr0;
	regs[n].name = VID_REG_RFLAGS;
	regs[n++].value.reg64 = RFLAGS_FIXED;
	regs[n].name = VID_REG_RIP;
	regs[n++].value.reg64 = rip;
	for (i = 0; i < 16; i++, n++)
		regs[n].name = VID_REG_RAX + i;
	r = vid_vp_set_regs(vm->vcpu, regs, n);
	if (r)
		fail("VID_VP_SET_REGISTERS: %s", strerror(-r));
}

/* Run until the guest halts; returns the number of port I/O exits. */
static long vm_run_to_hlt(struct vm *vm)
{
	const struct vid_intercept_header *h;
	long io = 0;
	int r;

	if (vm->side == KVM) {
		for (;;) {
			if (ioctl(vm->vcpu, KVM_RUN, 0)) {
				if (errno == EINTR)
					continue;
				fail("KVM_RUN: %s", strerror(errno));
			}
			switch (vm->run->exit_reason) {
			case KVM_EXIT_IO:
				io++;
				break;
			case KVM_EXIT_HLT:
				return io;
			default:
				fail("KVM_RUN: exit reason %u",
				     vm->run->exit_reason);
			}
		}
	}
	h = &vm->msg->header;
	for (;;) {
		r = vid_vp_run(vm->vcpu);
		if (r == -EINTR)
			continue;
		if (r)
			fail("VID_VP_RUN: %s", strerror(-r));
		switch (vm->msg->message_type) {
		case VID_MSG_X64_IO_PORT_INTERCEPT:
			if (!(h->instruction_length & 0xf))
				fail("I/O intercept at %#llx without length",
				     (unsigned long long)h->rip);
			r = vid_vp_set_reg64(vm->vcpu, VID_REG_RIP,
					     h->rip + (h->instruction_length & 0xf));
			if (r)
				fail("VID_VP_SET_REGISTERS: %s", strerror(-r));
			io++;
			break;
		case VID_MSG_X64_HALT:
			return io;
		case VID_MSG_NONE:
			break;
		default:
			fail("VID_VP_RUN: message %#x at rip %#llx",
			     vm->msg->message_type,
			     (unsigned long long)h->rip);
		}
	}
}

/* Anonymous memory, untouched; @align a power of two (or 0). */
static void *alloc_mem(size_t size, size_t align, void **base, size_t *len)
{
	uint8_t *p;

	*len = size + align;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap %zu bytes: %s", *len, strerror(errno));
	*base = p;
	if (align)
		p = (uint8_t *)(((uintptr_t)p + align - 1) & ~(align - 1));
	return p;
}

/* Small guest RAM filled with HLT, @code at CODE_GPA (and @code2). */
static uint8_t *small_guest(struct vm *vm, const uint8_t *code, size_t len,
			    const uint8_t *code2, size_t len2)
{
	void *base;
	size_t mlen;
	uint8_t *ram = alloc_mem(SMALL_RAM, 0, &base, &mlen);

	memset(ram, 0xf4, SMALL_RAM);
	memcpy(ram + CODE_GPA, code, len);
	if (code2)
		memcpy(ram + CODE2_GPA, code2, len2);
	vm_map(vm, 0, SMALL_RAM, ram);
	return ram;
}

/* partition_lifecycle: microseconds per create + delete. */
static double measure_lifecycle(enum vm_side side)
{
	int hold = bare_vm(side);
	double t0 = now_us(), t;
	int i;

	for (i = 0; i < LIFECYCLES; i++)
		close(bare_vm(side));
	t = (now_us() - t0) / LIFECYCLES;
	close(hold);
	return t;
}

/* pio_exit: microseconds per port I/O exit to the VMM and back. */
static double measure_pio(enum vm_side side)
{
	struct vm vm;
	uint8_t *ram;
	double t0, t;
	long io;

	vm_open(&vm, side, true);
	ram = small_guest(&vm, pio_code, sizeof(pio_code), NULL, 0);
	vm_set_cpu(&vm, REAL16, CODE_GPA);
	t0 = now_us();
	io = vm_run_to_hlt(&vm);
	t = now_us() - t0;
	if (io != PIO_EXITS)
		fail("pio_exit: %s saw %ld port I/O exits, expected %d",
		     side_name(side), io, PIO_EXITS);
	vm_close(&vm);
	munmap(ram, SMALL_RAM);
	return t / io;
}

/* cpuid_exit: microseconds per CPUID, over the same loop without it. */
static double measure_cpuid(enum vm_side side)
{
	uint8_t nop_code[sizeof(cpuid_code)];
	double t0, with, without;
	struct vm vm;
	uint8_t *ram;
	long io;

	memcpy(nop_code, cpuid_code, sizeof(nop_code));
	if (nop_code[CPUID_INSN] != 0x0f || nop_code[CPUID_INSN + 1] != 0xa2)
		fail("cpuid_exit: CPUID_INSN is not the CPUID");
	nop_code[CPUID_INSN] = 0x66;		/* 66 90: xchg eax, eax */
	nop_code[CPUID_INSN + 1] = 0x90;
	vm_open(&vm, side, true);
	ram = small_guest(&vm, cpuid_code, sizeof(cpuid_code),
			  nop_code, sizeof(nop_code));

	vm_set_cpu(&vm, REAL16, CODE2_GPA);
	t0 = now_us();
	io = vm_run_to_hlt(&vm);
	without = now_us() - t0;
	vm_set_cpu(&vm, REAL16, CODE_GPA);
	t0 = now_us();
	io += vm_run_to_hlt(&vm);
	with = now_us() - t0;
	if (io)
		fail("cpuid_exit: %s saw %ld port I/O exits",
		     side_name(side), io);
	snprintf(detail, sizeof(detail), "%.0fms with, %.0fms without",
		 with / 1000, without / 1000);
	vm_close(&vm);
	munmap(ram, SMALL_RAM);
	return (with - without) / CPUID_LOOPS;
}

/* first_touch_256m: milliseconds for map + a run touching every page. */
static double measure_touch(enum vm_side side)
{
	struct vm vm;
	void *base;
	size_t len;
	uint8_t *ram = alloc_mem(TOUCH_SIZE, HUGE_SIZE, &base, &len);
	double t0, t1, t;

	memcpy(ram + CODE_GPA, touch_code, sizeof(touch_code));
	vm_open(&vm, side, true);
	vm_set_cpu(&vm, FLAT32, CODE_GPA);
	t0 = now_us();
	vm_map(&vm, 0, TOUCH_SIZE, ram);
	t1 = now_us();
	vm_run_to_hlt(&vm);
	t = now_us() - t0;
	snprintf(detail, sizeof(detail), "map %.0fms, run %.0fms",
		 (t1 - t0) / 1000, (t - (t1 - t0)) / 1000);
	if (ram[0xff0] != TOUCH_BYTE ||
	    ram[TOUCH_SIZE - PAGE_SIZE + 0xff0] != TOUCH_BYTE)
		fail("first_touch_256m: %s: guest did not write", side_name(side));
	vm_close(&vm);
	munmap(base, len);
	return t / 1000;
}

/*
 * kmem_per_vp: the memory cgroup vidbench runs in (from /proc/self/cgroup)
 * and a sibling used to make its memory.current exact.
 */
static char cg_self[512], cg_drain[512];
static double kmem_debugfs;	/* vid's own count, KiB per VM, last round */

static bool write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

static bool read_u64_file(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%lu", v) == 1;
	fclose(f);
	return ok;
}

static bool cg_join(const char *cg)
{
	char path[600], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	return write_file(path, pid);
}

/* Find our memory cgroup; false when there is none to measure with. */
static bool kmem_setup(void)
{
	char line[256], path[600], *rel = NULL, *slash;
	FILE *f = fopen("/proc/self/cgroup", "re");
	uint64_t v;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			rel = line + 3;
			rel[strcspn(rel, "\n")] = 0;
			break;
		}
	fclose(f);
	if (!rel || !strcmp(rel, "/"))
		return false;
	snprintf(cg_self, sizeof(cg_self), "%s%s", CGROUP_ROOT, rel);
	snprintf(path, sizeof(path), "%s/memory.current", cg_self);
	if (!read_u64_file(path, &v))
		return false;
	snprintf(cg_drain, sizeof(cg_drain), "%s", cg_self);
	slash = strrchr(cg_drain, '/');
	snprintf(slash, sizeof(cg_drain) - (slash - cg_drain),
		 "/vidbench-drain");
	if (mkdir(cg_drain, 0755) && errno != EEXIST)
		return false;
	return true;
}

/*
 * memory.current of our cgroup, exactly: the kernel pre-charges memory to
 * a per-CPU stock (up to 64 pages) and bytes of slab objects to a per-CPU
 * object stock, and memory.current includes them. Charging another memcg
 * on the same CPU gives that stock back, so: on the one CPU we run on,
 * step into the sibling cgroup, charge a page and a slab object there,
 * read, step back.
 */
static uint64_t cg_current(void)
{
	char path[600];
	uint64_t v;
	uint8_t *p;

	if (!cg_join(cg_drain))
		fail("kmem_per_vp: cannot join %s: %s", cg_drain,
		     strerror(errno));
	p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	p[0] = 1;
	close(open("/dev/null", O_RDONLY | O_CLOEXEC));
	snprintf(path, sizeof(path), "%s/memory.current", cg_self);
	if (!read_u64_file(path, &v))
		fail("kmem_per_vp: read %s: %s", path, strerror(errno));
	if (!cg_join(cg_self))
		fail("kmem_per_vp: cannot rejoin %s: %s", cg_self,
		     strerror(errno));
	munmap(p, PAGE_SIZE);
	return v;
}

/* vid's debugfs view: bytes of objects plus pages it holds. */
static uint64_t vid_stats_bytes(void)
{
	uint64_t bytes = 0, pages = 0, v;
	char key[64];
	FILE *f = fopen(VID_STATS, "re");

	if (!f)
		return 0;
	while (fscanf(f, "%63s %lu", key, &v) == 2) {
		if (!strcmp(key, "bytes"))
			bytes = v;
		else if (!strcmp(key, "pages"))
			pages = v;
	}
	fclose(f);
	return bytes + pages * PAGE_SIZE;
}

/* KMEM_VMS VMs alive at once; returns KiB per VM (memcg if @memcg). */
static double kmem_round(enum vm_side side, bool memcg)
{
	static struct vm vms[KMEM_VMS];
	uint64_t before = 0, after = 0, s0, s1;
	void *base;
	size_t len;
	uint8_t *pages = alloc_mem(KMEM_VMS * PAGE_SIZE, 0, &base, &len);
	int i;

	/* User memory and the fd table are in place before the baseline. */
	memset(pages, 0, KMEM_VMS * PAGE_SIZE);
	if (dup2(0, 4 * KMEM_VMS + 64) >= 0)
		close(4 * KMEM_VMS + 64);
	s0 = vid_stats_bytes();
	if (memcg)
		before = cg_current();
	for (i = 0; i < KMEM_VMS; i++) {
		vm_open(&vms[i], side, false);
		vm_map(&vms[i], 0, PAGE_SIZE, pages + i * PAGE_SIZE);
	}
	if (memcg)
		after = cg_current();
	s1 = vid_stats_bytes();
	for (i = 0; i < KMEM_VMS; i++)
		vm_close(&vms[i]);
	munmap(base, len);
	if (side == VID)
		kmem_debugfs = (double)(s1 - s0) / KMEM_VMS / 1024;
	return (double)(after - before) / KMEM_VMS / 1024;
}

static double measure_kmem(enum vm_side side)
{
	return kmem_round(side, true);
}

/* The bare world switch in us (0: not measured); set before any bench. */
static double floor_us;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ROUNDS interleaved rounds of @measure, KVM first; one BENCH line. */
static void bench(const char *name, const char *unit,
		  double (*measure)(enum vm_side))
{
	double vid[ROUNDS], kvm[ROUNDS], ratio[ROUNDS];
	char kvm_detail[sizeof(detail)];
	int i;

	for (i = 0; i < ROUNDS; i++) {
		detail[0] = 0;
		kvm[i] = measure(KVM);
		memcpy(kvm_detail, detail, sizeof(detail));
		detail[0] = 0;
		vid[i] = measure(VID);
		ratio[i] = kvm[i] > 0 ? vid[i] / kvm[i] : 0;
		printf("# %s round %d: vid=%.1f%s%s%s%s anchor=%.1f%s%s%s%s\n",
		       name, i + 1, vid[i], unit, *detail ? " (" : "", detail,
		       *detail ? ")" : "", kvm[i], unit,
		       *kvm_detail ? " (" : "", kvm_detail,
		       *kvm_detail ? ")" : "");
	}
	/* median() sorts: after it, ratio[] runs from min to max. */
	printf("BENCH %s vid=%.1f%s anchor=%.1f%s ratio=%.3f spread=",
	       name, median(vid, ROUNDS), unit, median(kvm, ROUNDS), unit,
	       median(ratio, ROUNDS));
	printf("%.3f-%.3f", ratio[0], ratio[ROUNDS - 1]);
	/* Exits are also reported as multiples of the bare world switch. */
	if (floor_us > 0 && !strcmp(unit, "us") && strstr(name, "_exit"))
		printf(" floor_x=%.2f", median(vid, ROUNDS) / floor_us);
	printf("\n");
}

/*
 * The floor: vid's kernel times a bare VMRUN -> VMMCALL -> #VMEXIT loop
 * (IRQs off, no handler) when /sys/kernel/debug/vid/floor is read, which
 * works while a partition exists. ROUNDS readings, median, in us.
 */
static double measure_floor(void)
{
	double v[ROUNDS];
	unsigned long long ns;
	int i, n = 0, fd;
	FILE *f;

	fd = vid_partition_create(vid_fd, 0);
	if (fd < 0)
		return 0;
	for (i = 0; i < ROUNDS; i++) {
		f = fopen("/sys/kernel/debug/vid/floor", "re");
		if (!f)
			break;
		if (fscanf(f, "world_switch_ns %llu", &ns) == 1)
			v[n++] = ns / 1000.0;
		fclose(f);
	}
	close(fd);
	return n ? median(v, n) : 0;
}

static void print_thp(void)
{
	char buf[128], *l, *r;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		l = strchr(buf, '[');
		r = l ? strchr(l, ']') : NULL;
		if (r) {
			*r = 0;
			printf("# first_touch_256m: transparent huge pages %s\n",
			       l + 1);
		}
	}
	fclose(f);
}

static void run_touch(void)
{
	print_thp();
	bench("first_touch_256m", "ms", measure_touch);
}

static void run_kmem(void)
{
	cpu_set_t cpus;
	double v[ROUNDS];
	int i;

	/* One CPU: the per-CPU charge stocks cg_current() drains are its. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	if (kmem_setup()) {
		bench("kmem_per_vp", "KiB", measure_kmem);
		printf("# kmem_per_vp: vid's debugfs count %.1fKiB per VM (last round)\n",
		       kmem_debugfs);
		return;
	}
	for (i = 0; i < ROUNDS; i++) {
		kmem_round(VID, false);
		v[i] = kmem_debugfs;
	}
	printf("# kmem_per_vp: no memcg; vid's debugfs count %.1fKiB per VM\n",
	       median(v, ROUNDS));
}

static void run_lifecycle(void)
{
	bench("partition_lifecycle", "us", measure_lifecycle);
}

static void run_pio(void)
{
	bench("pio_exit", "us", measure_pio);
}

static void run_cpuid(void)
{
	bench("cpuid_exit", "us", measure_cpuid);
}

/* Run @fn in a child; its VMs die with it. Returns 0 if it succeeded. */
static int isolated(const char *name, void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		fn();
		exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid: %s", strerror(errno));
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	printf("# %s failed (%s %d)\n", name,
	       WIFEXITED(status) ? "exit" : "signal",
	       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 1;
}

/* KVM_GET_SUPPORTED_CPUID, what a minimal VMM gives its vCPUs. */
static void kvm_setup(void)
{
	int nent = 64;

	kvm_run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm_run_size <= 0)
		fail("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	for (;;) {
		kvm_cpuid = calloc(1, sizeof(*kvm_cpuid) +
				   nent * sizeof(kvm_cpuid->entries[0]));
		if (!kvm_cpuid)
			fail("out of memory");
		kvm_cpuid->nent = nent;
		if (!ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, kvm_cpuid))
			return;
		if (errno != E2BIG || nent > 4096)
			fail("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(kvm_cpuid);
		nent *= 2;
	}
}

int main(void)
{
	int rc = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vid_fd = vid_open();
	if (kvm_fd < 0 || vid_fd < 0) {
		fprintf(stderr, "vidbench: need both /dev/kvm and /dev/vid\n");
		return 1;
	}
	kvm_setup();

	floor_us = measure_floor();
	if (floor_us > 0)
		printf("FLOOR world_switch=%.1fus\n", floor_us);
	else
		printf("# FLOOR: /sys/kernel/debug/vid/floor unreadable\n");

	rc |= isolated("partition_lifecycle", run_lifecycle);
	rc |= isolated("pio_exit", run_pio);
	rc |= isolated("cpuid_exit", run_cpuid);
	rc |= isolated("first_touch_256m", run_touch);
	rc |= isolated("kmem_per_vp", run_kmem);
	return rc;
}
