// SPDX-License-Identifier: GPL-2.0
/*
 * vidbench: side-by-side benchmarks of vid and KVM in one boot.
 *
 * Rounds are interleaved (KVM, vid, KVM, vid, ...) and summarised by the
 * median of the per-round vid/KVM ratios with their spread, because TCG
 * timings swing by 2x between consecutive rounds. Both sides run the same
 * guest code from the same register state; KVM is driven through /dev/kvm
 * the way a minimal VMM does (KVM_SET_CPUID2 with what KVM supports, no
 * in-kernel irqchip, so HLT and port I/O come back to userspace), except
 * for the enlightened benchmarks (signal_event, ipi, stimer_periodic),
 * where KVM gets its in-kernel irqchip and Hyper-V enlightenments as a
 * Hyper-V-aware VMM would set them up (see vm_open_hv()).
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
 * and spread their minimum and maximum. The two *_exit lines add
 * floor_x=<x>: the median of each round's vid value over the bare world
 * switch (FLOOR) read in that round, right before and right after vid's
 * half (their mean), since the floor swings with the machine's load as
 * the exits do. Lines starting
 * with "#" are per-round details and notes.
 *
 *   partition_lifecycle  create + initialize + delete a partition, against
 *                        KVM_CREATE_VM + close (us per VM; one VM of the
 *                        side stays open so SVM is not toggled each time).
 *   pio_exit             real-mode "out 0x10, al" PIO_EXITS times: each OUT
 *                        is a KVM_EXIT_IO or a
 *                        VID_MSG_X64_IO_PORT_INTERCEPT, then KVM_RUN /
 *                        VID_VP_RUN_COMPLETE, which complete the OUT (step
 *                        RIP past it) in the kernel and run again. us per
 *                        exit: first run to HLT, divided by the exit
 *                        count.
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
 *   signal_event         64-bit guest: HvSignalEvent (fast hypercall
 *                        through the hypercall page) on a connection whose
 *                        eventfd wakes a VMM thread, which writes an irqfd
 *                        (an MSI to VP 0); the guest waits in STI;HLT for
 *                        that interrupt, SIGNAL_ROUNDTRIPS times. us per
 *                        round trip, between two guest reports (OUTs).
 *   ipi                  two VPs: VP 0 sends a fixed x2APIC IPI to VP 1,
 *                        whose handler sends one back; both wait in
 *                        STI;HLT. us per round trip (IPI_ROUNDTRIPS).
 *   stimer_periodic      STIMER0 periodic in direct mode, period
 *                        STIMER_PERIOD; the guest reads the reference
 *                        counter at each tick. us of mean absolute
 *                        deviation of the tick intervals from the period
 *                        (accuracy: lower is better, so is the ratio).
 *
 * vidbench [NAME...] runs the benchmarks named (all by default). A vid
 * half that needs what this vid.ko lacks prints "BENCH <name> skipped:
 * <reason>" after the KVM rounds, never a number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
#define CR0_PG		0x80000000ULL
#define CR4_PAE		0x20ULL
#define EFER_LME	0x100ULL
#define EFER_LMA	0x400ULL
#define RFLAGS_FIXED	0x2ULL

/* Segment attributes, TLFS layout (struct vid_segment). */
#define SEG_CODE64	0xa09b	/* G, L, P, S, execute/read, accessed */
#define SEG_DATA	0xc093	/* G, D/B, P, S, read/write, accessed */
#define SEG_TSS_BUSY	0x008b	/* P, busy 64-bit TSS */

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define VID_STATS	"/sys/kernel/debug/vid/stats"

/* The enlightened benchmarks (signal_event, ipi, stimer_periodic). */
#define MAX_VPS		2
#define SIGNAL_ROUNDTRIPS 300
#define IPI_ROUNDTRIPS	300
/*
 * 10 ms: under TCG one tick costs the guest about 1 ms of emulated work
 * (interrupt, RDMSR, EOI and HLT exits), so with KVM a 1 ms period
 * measured TCG's speed (mean intervals of 1.6-3 ms, periods skipped)
 * rather than the timer.
 */
#define STIMER_PERIOD	100000	/* in 100 ns reference-counter units */
#define STIMER_TICKS	150
#define HV_STALL_S	5	/* a round without progress for longer... */
#define HV_ATTEMPTS	5	/* ...is repeated, this many times at most */
#define CONN_ID		0x10	/* the event connection signal_event uses */

/*
 * Their guest: 64-bit long mode, the first 2 MiB identity mapped by one
 * large page, 1 MiB of RAM. Plain numbers, since the guest's asm text
 * uses them too.
 *
 *	0x01000  GDT: null, 0x08 64-bit code, 0x10 data
 *	0x02000  PML4, 0x3000 PDPT, 0x4000 PD
 *	0x05000  IDT, 256 gates
 *	0x06000  the hypercall page (the hypervisor fills it)
 *	0x07000  shared variables (HVD_*)
 *	0x08000  stimer_periodic's tick stamps, HV_STAMPS_MAX u64s
 *	0x10000  the guest program (hv_guest_start..hv_guest_end)
 *	0x80000  top of VP 0's stack, VP n's 64 KiB lower
 */
#define HVG_GDT		0x1000
#define HVG_PML4	0x2000
#define HVG_PDPT	0x3000
#define HVG_PD		0x4000
#define HVG_IDT		0x5000
#define HVG_HCALL	0x6000
#define HVG_STAMPS	0x8000
#define HVG_CODE	0x10000
#define HVG_STACK	0x80000
#define HV_RAM		0x100000UL
#define HV_STAMPS_MAX	4096
#define HV_SEL_CODE	0x08
#define HV_SEL_DATA	0x10

#define HVD_DONE	0x7000	/* VP 0 finished (ipi: VP 1 may stop) */
#define HVD_READY	0x7008	/* VP 1's APIC is on (ipi) */
#define HVD_ITERS	0x7010	/* round trips or ticks to do (host) */
#define HVD_PERIOD	0x7018	/* stimer period, 100 ns units (host) */
#define HVD_ACK		0x7020	/* VEC_ACK interrupts VP 0 took */
#define HVD_PONG	0x7028	/* VEC_PING interrupts VP 1 took */
#define HVD_TICKS	0x7030	/* VEC_TICK interrupts taken */
#define HVD_STATUS	0x7038	/* a failed hypercall's result */
#define HVD_EXC_VEC	0x7040	/* an unexpected exception: vector, */
#define HVD_EXC_RCX	0x7048	/* RCX (the MSR of a faulting RDMSR/WRMSR), */
#define HVD_EXC_FRAME	0x7050	/* the two words above the vector */

/* Interrupt vectors and what the guest reports with "out %al, $0x10". */
#define VEC_PING	0x40	/* ipi: VP 0 -> VP 1 */
#define VEC_ACK		0x41	/* ipi: VP 1 -> VP 0; signal_event: irqfd */
#define VEC_TICK	0x42	/* stimer_periodic: STIMER0, direct mode */
#define HV_PORT		0x10
#define HV_OUT_START	1	/* setup done, the measured part starts */
#define HV_OUT_DONE	2
#define HV_OUT_STATUS	3	/* a hypercall failed: HVD_STATUS */
#define HV_OUT_EXC	4	/* an exception: HVD_EXC_* */
#define HV_ABORTED	0x100	/* not from the guest: see hv_run_vps() */

/* Hyper-V MSRs and values (TLFS). */
#define HV_MSR_GUEST_OS_ID	0x40000000
#define HV_MSR_HYPERCALL	0x40000001
#define HV_MSR_TIME_REF_COUNT	0x40000020
#define HV_MSR_SCONTROL		0x40000080
#define HV_MSR_STIMER0_CONFIG	0x400000b0
#define HV_MSR_STIMER0_COUNT	0x400000b1
/* Open source OS (bit 63), vendor 0x100 (Linux), version 6.1 */
#define HV_GUEST_OS_ID_HI	0x81000000
#define HV_GUEST_OS_ID_LO	0x00060100
/* HvSignalEvent (0x5d) with the fast bit (16): RDX = connection id. */
#define HVCALL_SIGNAL_EVENT_FAST 0x1005d
/* STIMER0_CONFIG: enable, periodic, APIC vector 11:4, direct mode (12). */
#define STIMER_CONFIG	(0x1 | 0x2 | VEC_TICK << 4 | 0x1000)

/* x2APIC MSRs. */
#define MSR_APIC_BASE	0x1b
#define APIC_BASE_EN_EXTD 0xc00	/* enable, x2APIC mode */
#define X2APIC_EOI	0x80b
#define X2APIC_SVR	0x80f
#define X2APIC_ICR	0x830
#define APIC_SVR_ON	0x1ff	/* software enable, spurious vector 0xff */

#define XSTR(x)		STR(x)
#define STR(x)		#x

enum vm_side { KVM, VID };

/*
 * One VM on either side, with one vCPU (the exit benchmarks) or up to
 * MAX_VPS (the enlightened ones, see vm_open_hv()).
 */
struct vm {
	enum vm_side side;
	bool hv;			/* opened by vm_open_hv() */
	int fd;				/* KVM VM or vid partition */
	int nr_vcpus;
	int vcpu[MAX_VPS];		/* KVM vCPUs or vid VPs */
	struct kvm_run *run[MAX_VPS];	/* KVM: mmapped run areas */
	const struct vid_message *msg[MAX_VPS];	/* vid: message pages */
};

/* Guest register state both sides start from. */
enum cpu_mode { REAL16, FLAT32 };

static int kvm_fd, vid_fd, kvm_run_size;
static struct kvm_cpuid2 *kvm_cpuid;
/* kvm_cpuid with the Hyper-V leaves instead of KVM's (NULL: none). */
static struct kvm_cpuid2 *kvm_hv_cpuid;
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

/*
 * The enlightened benchmarks' guest program: 64-bit code copied to
 * HVG_CODE, the same bytes on both sides. Entry points (RDI = VP index,
 * RSP = its stack, interrupts off):
 *   hv_signal:  HvSignalEvent(CONN_ID) through the hypercall page, then
 *               STI;HLT until the VMM's irqfd interrupt (VEC_ACK) came;
 *               HVD_ITERS times.
 *   hv_ipi0:    VP 0: a fixed IPI (VEC_PING) to VP 1, STI;HLT until its
 *               answer (VEC_ACK) came; HVD_ITERS times.
 *   hv_ipi1:    VP 1: STI;HLT until VP 0 is done; its VEC_PING handler
 *               sends VEC_ACK back.
 *   hv_stimer:  STIMER0 periodic, direct mode (VEC_TICK), period
 *               HVD_PERIOD; STI;HLT until HVD_ITERS ticks; the handler
 *               stores the reference counter at each tick.
 * Handlers end with an x2APIC EOI. Any exception goes to a stub that
 * records it (HVD_EXC_*) and reports HV_OUT_EXC, so a missing feature
 * shows as what it is rather than as a triple fault. Shared variables
 * are at fixed addresses (absolute disp32 operands); jumps and calls are
 * relative, so the code runs wherever it is copied.
 */
asm("	.pushsection .rodata\n"
"	.balign 16\n"
"	.globl hv_guest_start, hv_guest_end, hv_signal, hv_ipi0, hv_ipi1\n"
"	.globl hv_stimer, hv_isr_ping, hv_isr_ack, hv_isr_tick, hv_exc_stubs\n"
"hv_guest_start:\n"
/* x2APIC mode, software enabled. */
"hv_apic_on:\n"
"	mov $" XSTR(MSR_APIC_BASE) ", %ecx\n"
"	rdmsr\n"
"	or $" XSTR(APIC_BASE_EN_EXTD) ", %eax\n"
"	wrmsr\n"
"	mov $" XSTR(X2APIC_SVR) ", %ecx\n"
"	mov $" XSTR(APIC_SVR_ON) ", %eax\n"
"	xor %edx, %edx\n"
"	wrmsr\n"
"	ret\n"
/* Guest OS id first: without it the hypercall page is not enabled. */
"hv_hypercall_on:\n"
"	mov $" XSTR(HV_MSR_GUEST_OS_ID) ", %ecx\n"
"	mov $" XSTR(HV_GUEST_OS_ID_LO) ", %eax\n"
"	mov $" XSTR(HV_GUEST_OS_ID_HI) ", %edx\n"
"	wrmsr\n"
"	mov $" XSTR(HV_MSR_HYPERCALL) ", %ecx\n"
"	mov $(" XSTR(HVG_HCALL) " | 1), %eax\n"
"	xor %edx, %edx\n"
"	wrmsr\n"
"	ret\n"
"hv_eoi:\n"
"	mov $" XSTR(X2APIC_EOI) ", %ecx\n"
"	xor %eax, %eax\n"
"	xor %edx, %edx\n"
"	wrmsr\n"
"	ret\n"
/* Sleep until HVD_ACK > %r12 (interrupts off on return). */
"hv_wait_ack:\n"
"	cmp " XSTR(HVD_ACK) ", %r12\n"
"	jbe 1f\n"
"	sti\n"
"	hlt\n"
"	cli\n"
"	jmp hv_wait_ack\n"
"1:	ret\n"

"hv_signal:\n"
"	call hv_apic_on\n"
"	call hv_hypercall_on\n"
"	mov $" XSTR(HV_OUT_START) ", %al\n"
"	out %al, $" XSTR(HV_PORT) "\n"
"	mov " XSTR(HVD_ITERS) ", %rbx\n"
"1:	mov " XSTR(HVD_ACK) ", %r12\n"
"	inc %r12\n"
"	mov $" XSTR(HVCALL_SIGNAL_EVENT_FAST) ", %ecx\n"
"	mov $" XSTR(CONN_ID) ", %edx\n"
"	xor %r8d, %r8d\n"
"	mov $" XSTR(HVG_HCALL) ", %eax\n"
"	call *%rax\n"
"	test %ax, %ax\n"
"	jnz 2f\n"
"	call hv_wait_ack\n"
"	dec %rbx\n"
"	jnz 1b\n"
"	mov $" XSTR(HV_OUT_DONE) ", %al\n"
"	out %al, $" XSTR(HV_PORT) "\n"
"	jmp hv_stop\n"
"2:	mov %rax, " XSTR(HVD_STATUS) "\n"
"	mov $" XSTR(HV_OUT_STATUS) ", %al\n"
"	out %al, $" XSTR(HV_PORT) "\n"
"	jmp hv_stop\n"

"hv_ipi0:\n"
"	call hv_apic_on\n"
"1:	pause\n"
"	cmpq $0, " XSTR(HVD_READY) "\n"
"	je 1b\n"
"	mov $" XSTR(HV_OUT_START) ", %al\n"
"	out %al, $" XSTR(HV_PORT) "\n"
"	mov " XSTR(HVD_ITERS) ", %rbx\n"
"2:	mov " XSTR(HVD_ACK) ", %r12\n"
"	inc %r12\n"
"	call hv_ping\n"
"	call hv_wait_ack\n"
"	dec %rbx\n"
"	jnz 2b\n"
/* VP 1 sees HVD_DONE when the last ping wakes it. */
"	movq $1, " XSTR(HVD_DONE) "\n"
"	call hv_ping\n"
"	mov $" XSTR(HV_OUT_DONE) ", %al\n"
"	out %al, $" XSTR(HV_PORT) "\n"
"	jmp hv_stop\n"
"hv_ping:\n"
"	mov $" XSTR(X2APIC_ICR) ", %ecx\n"
"	mov $" XSTR(VEC_PING) ", %eax\n"	/* fixed, physical, edge */
"	mov $1, %edx\n"				/* to APIC id 1 */
"	wrmsr\n"
"	ret\n"

"hv_ipi1:\n"
"	call hv_apic_on\n"
"	movq $1, " XSTR(HVD_READY) "\n"
"1:	cmpq $0, " XSTR(HVD_DONE) "\n"
"	jne 2f\n"
"	sti\n"
"	hlt\n"
"	cli\n"
"	jmp 1b\n"
"2:	mov $" XSTR(HV_OUT_DONE) ", %al\n"
"	out %al, $" XSTR(HV_PORT) "\n"
"	jmp hv_stop\n"

"hv_stimer:\n"
"	call hv_apic_on\n"
"	mov $" XSTR(HV_MSR_SCONTROL) ", %ecx\n"
"	mov $1, %eax\n"
"	xor %edx, %edx\n"
"	wrmsr\n"
"	mov $" XSTR(HV_MSR_STIMER0_COUNT) ", %ecx\n"
"	mov " XSTR(HVD_PERIOD) ", %rax\n"
"	mov %rax, %rdx\n"
"	shr $32, %rdx\n"
"	wrmsr\n"
"	mov $" XSTR(HV_OUT_START) ", %al\n"
"	out %al, $" XSTR(HV_PORT) "\n"
"	mov $" XSTR(HV_MSR_STIMER0_CONFIG) ", %ecx\n"
"	mov $" XSTR(STIMER_CONFIG) ", %eax\n"
"	xor %edx, %edx\n"
"	wrmsr\n"
"1:	mov " XSTR(HVD_TICKS) ", %rax\n"
"	cmp " XSTR(HVD_ITERS) ", %rax\n"
"	jae 2f\n"
"	sti\n"
"	hlt\n"
"	cli\n"
"	jmp 1b\n"
"2:	mov $" XSTR(HV_MSR_STIMER0_CONFIG) ", %ecx\n"
"	xor %eax, %eax\n"
"	xor %edx, %edx\n"
"	wrmsr\n"
"	mov $" XSTR(HV_OUT_DONE) ", %al\n"
"	out %al, $" XSTR(HV_PORT) "\n"
"hv_stop:\n"				/* the VMM does not run it again */
"	cli\n"
"	hlt\n"
"	jmp hv_stop\n"

/* VP 1: count, EOI, answer VP 0. */
"hv_isr_ping:\n"
"	push %rax\n"
"	push %rcx\n"
"	push %rdx\n"
"	incq " XSTR(HVD_PONG) "\n"
"	call hv_eoi\n"
"	mov $" XSTR(X2APIC_ICR) ", %ecx\n"
"	mov $" XSTR(VEC_ACK) ", %eax\n"
"	xor %edx, %edx\n"			/* to APIC id 0 */
"	wrmsr\n"
"	pop %rdx\n"
"	pop %rcx\n"
"	pop %rax\n"
"	iretq\n"
"hv_isr_ack:\n"
"	push %rax\n"
"	push %rcx\n"
"	push %rdx\n"
"	incq " XSTR(HVD_ACK) "\n"
"	call hv_eoi\n"
"	pop %rdx\n"
"	pop %rcx\n"
"	pop %rax\n"
"	iretq\n"
/* The reference counter at this tick into HVG_STAMPS[HVD_TICKS++]. */
"hv_isr_tick:\n"
"	push %rax\n"
"	push %rcx\n"
"	push %rdx\n"
"	push %rsi\n"
"	mov $" XSTR(HV_MSR_TIME_REF_COUNT) ", %ecx\n"
"	rdmsr\n"
"	shl $32, %rdx\n"
"	or %rax, %rdx\n"
"	mov " XSTR(HVD_TICKS) ", %rsi\n"
"	cmp $" XSTR(HV_STAMPS_MAX) ", %rsi\n"
"	jae 1f\n"
"	mov %rdx, " XSTR(HVG_STAMPS) "(,%rsi,8)\n"
"1:	inc %rsi\n"
"	mov %rsi, " XSTR(HVD_TICKS) "\n"
"	call hv_eoi\n"
"	pop %rsi\n"
"	pop %rdx\n"
"	pop %rcx\n"
"	pop %rax\n"
"	iretq\n"

/* Exceptions 0-31: one 16-byte stub each, pushing its vector. */
"	.balign 16\n"
"hv_exc_stubs:\n"
"	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"	push $\\v\n"
"	jmp hv_exc\n"
"	.balign 16\n"
"	.endr\n"
"hv_exc:\n"
"	popq " XSTR(HVD_EXC_VEC) "\n"
"	mov %rcx, " XSTR(HVD_EXC_RCX) "\n"
"	mov (%rsp), %rax\n"
"	mov %rax, " XSTR(HVD_EXC_FRAME) "\n"
"	mov 8(%rsp), %rax\n"
"	mov %rax, " XSTR(HVD_EXC_FRAME) " + 8\n"
"	mov $" XSTR(HV_OUT_EXC) ", %al\n"
"	out %al, $" XSTR(HV_PORT) "\n"
"	jmp hv_stop\n"
"hv_guest_end:\n"
"	.popsection\n"
);

extern const uint8_t hv_guest_start[], hv_guest_end[], hv_signal[], hv_ipi0[],
	hv_ipi1[], hv_stimer[], hv_isr_ping[], hv_isr_ack[], hv_isr_tick[],
	hv_exc_stubs[];

/* Guest physical address of @sym in the guest program. */
static uint64_t hv_gpa(const uint8_t *sym)
{
	return HVG_CODE + (uint64_t)(sym - hv_guest_start);
}

/* Exceptions that push an error code: 8, 10-14, 17, 21, 29, 30. */
#define EXC_ERROR_CODES	0x60227d00U

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
 * Add vCPU / VP @i to @vm. With @map_run the KVM run area or the vid
 * message page is mapped too (needed to run it).
 */
static void vm_add_vcpu(struct vm *vm, int i, bool map_run)
{
	struct kvm_enable_cap synic = { .cap = KVM_CAP_HYPERV_SYNIC2 };
	struct kvm_mp_state runnable = { .mp_state = KVM_MP_STATE_RUNNABLE };
	int fd;
	void *p;

	vm->nr_vcpus = i + 1;
	if (vm->side == VID) {
		fd = vid_vp_create(vm->fd, i);
		if (fd < 0)
			fail("VID_PARTITION_CREATE_VP: %s", strerror(-fd));
		vm->vcpu[i] = fd;
		if (!map_run)
			return;
		vm->msg[i] = vid_vp_message(fd);
		if (!vm->msg[i])
			fail("mmap vid message page: %s", strerror(errno));
		return;
	}
	fd = ioctl(vm->fd, KVM_CREATE_VCPU, i);
	if (fd < 0)
		fail("KVM_CREATE_VCPU: %s", strerror(errno));
	vm->vcpu[i] = fd;
	if (ioctl(fd, KVM_SET_CPUID2, vm->hv ? kvm_hv_cpuid : kvm_cpuid))
		fail("KVM_SET_CPUID2: %s", strerror(errno));
	if (vm->hv) {
		/* SynIC, as a Hyper-V VMM enables it: stimers need it. */
		if (ioctl(fd, KVM_ENABLE_CAP, &synic))
			fail("KVM_ENABLE_CAP(HYPERV_SYNIC2): %s",
			     strerror(errno));
		/*
		 * With the in-kernel irqchip only vCPU 0 starts runnable, the
		 * others wait for INIT/SIPI; vid's VPs all start running.
		 */
		if (i && ioctl(fd, KVM_SET_MP_STATE, &runnable))
			fail("KVM_SET_MP_STATE: %s", strerror(errno));
	}
	if (!map_run)
		return;
	p = mmap(NULL, kvm_run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		fail("mmap kvm_run: %s", strerror(errno));
	vm->run[i] = p;
}

/* A VM with one vCPU (@map_run: see vm_add_vcpu()). */
static void vm_open(struct vm *vm, enum vm_side side, bool map_run)
{
	memset(vm, 0, sizeof(*vm));
	vm->side = side;
	vm->fd = bare_vm(side);
	vm_add_vcpu(vm, 0, map_run);
}

static void vm_close(struct vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		if (vm->run[i])
			munmap(vm->run[i], kvm_run_size);
		if (vm->msg[i])
			munmap((void *)vm->msg[i], PAGE_SIZE);
		close(vm->vcpu[i]);
	}
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

/* KVM's form of a segment with TLFS-style @attr (type, S, DPL, P, L, DB, G). */
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
	s->l = attr >> 13 & 1;
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
		if (ioctl(vm->vcpu[0], KVM_GET_SREGS, &sregs))
			fail("KVM_GET_SREGS: %s", strerror(errno));
		kvm_seg(&sregs.cs, code_sel, limit, code_attr);
		kvm_seg(&sregs.ds, data_sel, limit, data_attr);
		sregs.es = sregs.ds;
		sregs.ss = sregs.ds;
		sregs.fs = sregs.ds;
		sregs.gs = sregs.ds;
		sregs.cr0 = cr0;
		if (ioctl(vm->vcpu[0], KVM_SET_SREGS, &sregs))
			fail("KVM_SET_SREGS: %s", strerror(errno));
		memset(&kregs, 0, sizeof(kregs));
		kregs.rip = rip;
		kregs.rflags = RFLAGS_FIXED;
		if (ioctl(vm->vcpu[0], KVM_SET_REGS, &kregs))
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
	r = vid_vp_set_regs(vm->vcpu[0], regs, n);
	if (r)
		fail("VID_VP_SET_REGISTERS: %s", strerror(-r));
}

/*
 * vid: run the VP, completing the port I/O intercept the last run
 * returned (@io_pending) in the same call with VID_VP_RUN_COMPLETE, as
 * KVM completes an OUT from kvm_run in KVM_RUN; a module without it
 * gets VID_VP_SET_REGISTERS and VID_VP_RUN.
 */
static int vid_run_completing(struct vm *vm, bool *io_pending)
{
	const struct vid_intercept_header *h = &vm->msg[0]->header;
	struct vid_vp_run_complete c = {
		.message_type = VID_MSG_X64_IO_PORT_INTERCEPT,
	};
	static bool no_complete;
	int r;

	if (!*io_pending)
		return vid_vp_run(vm->vcpu[0]);
	if (!no_complete) {
		r = ioctl(vm->vcpu[0], VID_VP_RUN_COMPLETE, &c) ? -errno : 0;
		if (r != -ENOTTY) {
			/* After -EINTR the OUT is complete as well. */
			*io_pending = false;
			return r;
		}
		no_complete = true;
	}
	r = vid_vp_set_reg64(vm->vcpu[0], VID_REG_RIP,
			     h->rip + (h->instruction_length & 0xf));
	if (r)
		fail("VID_VP_SET_REGISTERS: %s", strerror(-r));
	*io_pending = false;
	return vid_vp_run(vm->vcpu[0]);
}

/* Run until the guest halts; returns the number of port I/O exits. */
static long vm_run_to_hlt(struct vm *vm)
{
	const struct vid_intercept_header *h;
	bool io_pending = false;
	long io = 0;
	int r;

	if (vm->side == KVM) {
		for (;;) {
			if (ioctl(vm->vcpu[0], KVM_RUN, 0)) {
				if (errno == EINTR)
					continue;
				fail("KVM_RUN: %s", strerror(errno));
			}
			switch (vm->run[0]->exit_reason) {
			case KVM_EXIT_IO:
				io++;
				break;
			case KVM_EXIT_HLT:
				return io;
			default:
				fail("KVM_RUN: exit reason %u",
				     vm->run[0]->exit_reason);
			}
		}
	}
	h = &vm->msg[0]->header;
	for (;;) {
		r = vid_run_completing(vm, &io_pending);
		if (r == -EINTR)
			continue;
		if (r)
			fail("VID_VP_RUN: %s", strerror(-r));
		switch (vm->msg[0]->message_type) {
		case VID_MSG_X64_IO_PORT_INTERCEPT:
			if (!(h->instruction_length & 0xf))
				fail("I/O intercept at %#llx without length",
				     (unsigned long long)h->rip);
			io_pending = true;
			io++;
			break;
		case VID_MSG_X64_HALT:
			return io;
		case VID_MSG_NONE:
			break;
		default:
			fail("VID_VP_RUN: message %#x at rip %#llx",
			     vm->msg[0]->message_type,
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

/*
 * The enlightened benchmarks. Both sides get what a Hyper-V-aware VMM
 * sets up through its hypervisor's own API. KVM: the in-kernel irqchip
 * (local APICs, HLT and irqfds in the kernel), the Hyper-V CPUID leaves
 * from KVM_GET_SUPPORTED_HV_CPUID in place of KVM's own, the SynIC on
 * every vCPU (KVM_CAP_HYPERV_SYNIC2), KVM_HYPERV_EVENTFD for connection
 * ids and KVM_IRQFD with an MSI route. vid: its local APICs, Hyper-V
 * interface and SynIC are always there; VID_PARTITION_IRQFD and the
 * connection -> eventfd binding. The guest program is the same bytes from
 * the same register state on both. A benchmark whose vid half needs what
 * vid does not have yet says so (skip_reason) instead of a number.
 */
static char skip_reason[160];
/*
 * Set to make the VP threads of a stalled round return (HV_ABORTED);
 * read and written with __atomic builtins, as the threads share it.
 */
static bool hv_abort;

static bool hv_aborting(void)
{
	return __atomic_load_n(&hv_abort, __ATOMIC_RELAXED);
}

/* @size bytes of fresh anonymous memory (fail() if there is none). */
static uint8_t *hv_alloc(size_t size)
{
	void *base;
	size_t len;

	return alloc_mem(size, 0, &base, &len);
}

static void idt_gate(uint8_t *ram, unsigned int vec, uint64_t handler)
{
	uint64_t *gate = (uint64_t *)(ram + HVG_IDT + vec * 16);

	/* Present 64-bit interrupt gate, DPL 0, no IST. */
	gate[0] = (handler & 0xffff) | (uint64_t)HV_SEL_CODE << 16 |
		  0x8e0000000000ULL | (handler >> 16 & 0xffff) << 48;
	gate[1] = handler >> 32;
}

/*
 * The guest's RAM (layout at HVG_GDT): tables, the program, and @iters
 * and @period for it. The hypercall page starts as UD2s, so calling it
 * before the hypervisor filled it raises #UD, which the guest reports.
 */
static uint8_t *hv_guest_ram(uint64_t iters, uint64_t period)
{
	uint8_t *ram = hv_alloc(HV_RAM);
	uint64_t *gdt = (uint64_t *)(ram + HVG_GDT);
	unsigned int i;

	memset(ram, 0, HV_RAM);
	gdt[HV_SEL_CODE / 8] = 0x00af9b000000ffffULL;	/* L, P, execute/read */
	gdt[HV_SEL_DATA / 8] = 0x00cf93000000ffffULL;	/* G, D/B, read/write */
	*(uint64_t *)(ram + HVG_PML4) = HVG_PDPT | 0x3;	/* present, writable */
	*(uint64_t *)(ram + HVG_PDPT) = HVG_PD | 0x3;
	*(uint64_t *)(ram + HVG_PD) = 0x83;		/* 2 MiB page at 0 */
	for (i = 0; i < 32; i++)
		idt_gate(ram, i, hv_gpa(hv_exc_stubs) + 16 * i);
	idt_gate(ram, VEC_PING, hv_gpa(hv_isr_ping));
	idt_gate(ram, VEC_ACK, hv_gpa(hv_isr_ack));
	idt_gate(ram, VEC_TICK, hv_gpa(hv_isr_tick));
	for (i = 0; i < PAGE_SIZE; i += 2) {
		ram[HVG_HCALL + i] = 0x0f;
		ram[HVG_HCALL + i + 1] = 0x0b;
	}
	memcpy(ram + HVG_CODE, hv_guest_start, hv_guest_end - hv_guest_start);
	*(uint64_t *)(ram + HVD_ITERS) = iters;
	*(uint64_t *)(ram + HVD_PERIOD) = period;
	return ram;
}

/* A guest variable; the guest's VPs may be writing it meanwhile. */
static uint64_t hv_var(const uint8_t *ram, unsigned int gpa)
{
	return __atomic_load_n((const uint64_t *)(ram + gpa), __ATOMIC_RELAXED);
}

/* A VM set up as the block comment above says, with @nr_vps vCPUs. */
static void vm_open_hv(struct vm *vm, enum vm_side side, int nr_vps)
{
	int i, r;

	memset(vm, 0, sizeof(*vm));
	vm->side = side;
	vm->hv = true;
	if (side == KVM) {
		if (!kvm_hv_cpuid)
			fail("KVM has no KVM_GET_SUPPORTED_HV_CPUID");
		vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
		if (vm->fd < 0)
			fail("KVM_CREATE_VM: %s", strerror(errno));
		if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0))
			fail("KVM_CREATE_IRQCHIP: %s", strerror(errno));
	} else {
		vm->fd = vid_partition_create(vid_fd, 0);
		if (vm->fd < 0)
			fail("VID_CREATE_PARTITION: %s", strerror(-vm->fd));
		r = vid_prop_set_u64(vm->fd, VID_PROP_MAX_VP_COUNT, nr_vps);
		if (r)
			fail("VID_PROP_MAX_VP_COUNT: %s", strerror(-r));
		r = vid_partition_initialize(vm->fd);
		if (r)
			fail("VID_PARTITION_INITIALIZE: %s", strerror(-r));
	}
	for (i = 0; i < nr_vps; i++)
		vm_add_vcpu(vm, i, true);
}

/*
 * VP @vp at @rip in 64-bit mode: flat segments from the GDT, TR a busy
 * 64-bit TSS, paging through HVG_PML4, the IDT at HVG_IDT, its own stack,
 * RDI = @vp, interrupts off.
 */
static void hv_set_cpu(struct vm *vm, int vp, uint64_t rip)
{
	static const uint32_t data_regs[] = {
		VID_REG_DS, VID_REG_ES, VID_REG_SS, VID_REG_FS, VID_REG_GS,
	};
	const uint64_t cr0 = CR0_PE | CR0_ET | CR0_PG;
	const uint64_t rsp = HVG_STACK - vp * 0x10000UL;
	struct vid_register regs[24];
	struct kvm_sregs sregs;
	struct kvm_regs kregs;
	unsigned int i, n = 0;
	int r;

	if (vm->side == KVM) {
		if (ioctl(vm->vcpu[vp], KVM_GET_SREGS, &sregs))
			fail("KVM_GET_SREGS: %s", strerror(errno));
		kvm_seg(&sregs.cs, HV_SEL_CODE, 0xffffffff, SEG_CODE64);
		kvm_seg(&sregs.ds, HV_SEL_DATA, 0xffffffff, SEG_DATA);
		sregs.es = sregs.ds;
		sregs.ss = sregs.ds;
		sregs.fs = sregs.ds;
		sregs.gs = sregs.ds;
		kvm_seg(&sregs.tr, 0, 0xffff, SEG_TSS_BUSY);
		sregs.gdt.base = HVG_GDT;
		sregs.gdt.limit = HV_SEL_DATA + 7;
		sregs.idt.base = HVG_IDT;
		sregs.idt.limit = 256 * 16 - 1;
		sregs.cr0 = cr0;
		sregs.cr3 = HVG_PML4;
		sregs.cr4 = CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
		if (ioctl(vm->vcpu[vp], KVM_SET_SREGS, &sregs))
			fail("KVM_SET_SREGS: %s", strerror(errno));
		memset(&kregs, 0, sizeof(kregs));
		kregs.rip = rip;
		kregs.rsp = rsp;
		kregs.rdi = vp;
		kregs.rflags = RFLAGS_FIXED;
		if (ioctl(vm->vcpu[vp], KVM_SET_REGS, &kregs))
			fail("KVM_SET_REGS: %s", strerror(errno));
		return;
	}
	memset(regs, 0, sizeof(regs));
	regs[n].name = VID_REG_CS;
	regs[n++].value.segment = (struct vid_segment){
		.limit = 0xffffffff, .selector = HV_SEL_CODE,
		.attributes = SEG_CODE64,
	};
	for (i = 0; i < sizeof(data_regs) / sizeof(data_regs[0]); i++) {
		regs[n].name = data_regs[i];
		regs[n++].value.segment = (struct vid_segment){
			.limit = 0xffffffff, .selector = HV_SEL_DATA,
			.attributes = SEG_DATA,
		};
	}
	regs[n].name = VID_REG_TR;
	regs[n++].value.segment = (struct vid_segment){
		.limit = 0xffff, .attributes = SEG_TSS_BUSY,
	};
	regs[n].name = VID_REG_GDTR;
	regs[n++].value.table = (struct vid_table){
		.base = HVG_GDT, .limit = HV_SEL_DATA + 7,
	};
	regs[n].name = VID_REG_IDTR;
	regs[n++].value.table = (struct vid_table){
		.base = HVG_IDT, .limit = 256 * 16 - 1,
	};
	regs[n].name = VID_REG_CR0;
	regs[n++].value.reg64 = cr0;
	regs[n].name = VID_REG_CR3;
	regs[n++].value.reg64 = HVG_PML4;
	regs[n].name = VID_REG_CR4;
	regs[n++].value.reg64 = CR4_PAE;
	regs[n].name = VID_REG_EFER;
	regs[n++].value.reg64 = EFER_LME | EFER_LMA;
	regs[n].name = VID_REG_RFLAGS;
	regs[n++].value.reg64 = RFLAGS_FIXED;
	regs[n].name = VID_REG_RIP;
	regs[n++].value.reg64 = rip;
	regs[n].name = VID_REG_RSP;
	regs[n++].value.reg64 = rsp;
	regs[n].name = VID_REG_RDI;
	regs[n++].value.reg64 = vp;
	r = vid_vp_set_regs(vm->vcpu[vp], regs, n);
	if (r)
		fail("VID_VP_SET_REGISTERS: %s", strerror(-r));
}

/*
 * Run VP @vp until the guest reports (an OUT to HV_PORT); returns the
 * byte it wrote (HV_OUT_*). -1 when vid sends the VMM an MSR the
 * benchmark needs the hypervisor to handle (skip_reason says which),
 * HV_ABORTED when hv_abort stopped it.
 */
static int hv_run(struct vm *vm, int vp)
{
	const struct vid_message *m = vm->msg[vp];
	struct kvm_run *run = vm->run[vp];
	int r;

	if (vm->side == KVM) {
		for (;;) {
			if (ioctl(vm->vcpu[vp], KVM_RUN, 0)) {
				if (errno == EINTR && hv_aborting())
					return HV_ABORTED;
				if (errno == EINTR)
					continue;
				fail("KVM_RUN: %s", strerror(errno));
			}
			if (run->exit_reason == KVM_EXIT_IO &&
			    run->io.direction == KVM_EXIT_IO_OUT &&
			    run->io.port == HV_PORT && run->io.size == 1)
				return ((uint8_t *)run)[run->io.data_offset];
			/*
			 * SCONTROL/SIMP/SIEFP writes are reported to the VMM
			 * (QEMU tracks them for its SynIC devices); nothing
			 * to do for them here.
			 */
			if (run->exit_reason == KVM_EXIT_HYPERV &&
			    run->hyperv.type == KVM_EXIT_HYPERV_SYNIC)
				continue;
			if (run->exit_reason == KVM_EXIT_SHUTDOWN)
				fail("KVM: VP %d: triple fault", vp);
			fail("KVM: VP %d: exit reason %u", vp,
			     run->exit_reason);
		}
	}
	for (;;) {
		r = vid_vp_run(vm->vcpu[vp]);
		if (r == -EINTR && hv_aborting())
			return HV_ABORTED;
		if (r == -EINTR)
			continue;
		if (r)
			fail("VID_VP_RUN: %s", strerror(-r));
		switch (m->message_type) {
		case VID_MSG_NONE:
			continue;
		case VID_MSG_X64_IO_PORT_INTERCEPT:
			if (m->io_port.port_number != HV_PORT ||
			    !(m->header.instruction_length & 0xf))
				break;
			r = vid_vp_set_reg64(vm->vcpu[vp], VID_REG_RIP,
					     m->header.rip +
					     (m->header.instruction_length & 0xf));
			if (r)
				fail("VID_VP_SET_REGISTERS: %s", strerror(-r));
			return m->io_port.rax & 0xff;
		case VID_MSG_X64_MSR_INTERCEPT:
			snprintf(skip_reason, sizeof(skip_reason),
				 "vid sends %s of MSR %#x to the VMM",
				 m->header.intercept_access_type ==
				 VID_INTERCEPT_WRITE ? "WRMSR" : "RDMSR",
				 m->msr.msr_number);
			return -1;
		}
		fail("vid: VP %d: message %#x at rip %#llx", vp,
		     m->message_type, (unsigned long long)m->header.rip);
	}
}

/*
 * The guest reported a failure (HV_OUT_STATUS, HV_OUT_EXC). On vid, what
 * a missing feature looks like (#GP on a Hyper-V MSR, #UD in a hypercall
 * page nobody filled, a hypercall code it does not know) is a skip: -1
 * and skip_reason. Anything else is a failure.
 */
static int hv_guest_error(struct vm *vm, const uint8_t *ram, int vp, int out)
{
	uint64_t vec = hv_var(ram, HVD_EXC_VEC), ecx = hv_var(ram, HVD_EXC_RCX);
	uint64_t status = hv_var(ram, HVD_STATUS) & 0xffff, rip;
	const char *who = side_name(vm->side);
	bool vid = vm->side == VID;

	if (out == HV_OUT_STATUS) {
		/* HV_STATUS_INVALID_HYPERCALL_CODE */
		if (vid && status == 0x2) {
			snprintf(skip_reason, sizeof(skip_reason),
				 "vid does not know HvSignalEvent (status 0x2)");
			return -1;
		}
		fail("%s: VP %d: HvSignalEvent returned status %#llx", who, vp,
		     (unsigned long long)status);
	}
	if (out != HV_OUT_EXC)
		fail("%s: VP %d: guest reported %d", who, vp, out);
	/* Exceptions with an error code have it where RIP would be. */
	if (vec >= 32)
		fail("%s: VP %d: exception vector %llu", who, vp,
		     (unsigned long long)vec);
	rip = hv_var(ram, HVD_EXC_FRAME +
		     (EXC_ERROR_CODES >> vec & 1 ? 8 : 0));
	if (vid && vec == 13 && rip < HV_RAM - 1 && ram[rip] == 0x0f &&
	    (ram[rip + 1] == 0x30 || ram[rip + 1] == 0x32) &&
	    (ecx & ~0xffULL) == 0x40000000) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "vid raises #GP on %s of Hyper-V MSR %#llx",
			 ram[rip + 1] == 0x30 ? "WRMSR" : "RDMSR",
			 (unsigned long long)ecx);
		return -1;
	}
	if (vid && vec == 6 && rip >= HVG_HCALL &&
	    rip < HVG_HCALL + PAGE_SIZE) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "vid: #UD in the hypercall page (at %#llx)",
			 (unsigned long long)rip);
		return -1;
	}
	fail("%s: VP %d: exception %llu at rip %#llx (rcx %#llx)", who, vp,
	     (unsigned long long)vec, (unsigned long long)rip,
	     (unsigned long long)ecx);
}

/* One VP of a round, run by its own thread (as a VMM runs its vCPUs). */
struct hv_vp_thread {
	struct vm *vm;
	const uint8_t *ram;
	int vp;
	pthread_t thread;
	double start, done;	/* now_us() at HV_OUT_START, HV_OUT_DONE */
	int result;		/* HV_OUT_DONE, HV_ABORTED, or -1: skipped */
	bool finished;
};

static void *hv_vp_thread_fn(void *arg)
{
	struct hv_vp_thread *t = arg;
	int out;

	for (;;) {
		out = hv_run(t->vm, t->vp);
		if (out == HV_OUT_START) {
			t->start = now_us();
			continue;
		}
		if (out == HV_OUT_DONE)
			t->done = now_us();
		else if (out >= 0 && out != HV_ABORTED)
			out = hv_guest_error(t->vm, t->ram, t->vp, out);
		t->result = out;
		__atomic_store_n(&t->finished, true, __ATOMIC_RELEASE);
		return NULL;
	}
}

static void hv_no_op(int sig)
{
}

/* What the guest has done so far: it moves while the round is alive. */
static uint64_t hv_progress(const uint8_t *ram)
{
	return hv_var(ram, HVD_ACK) + hv_var(ram, HVD_PONG) +
	       hv_var(ram, HVD_TICKS);
}

/*
 * Run VPs 0..@nr-1 of @vm, each on its own thread, until each reported
 * HV_OUT_DONE. Returns 0, -1 if one of them was skipped, or HV_ABORTED
 * when the guest stopped making progress for HV_STALL_S seconds: the
 * threads are then stopped with a signal. Under QEMU's TCG an interrupt
 * is now and then lost (or delivered twice) on both sides: with the
 * in-kernel irqchip, KVM was seen with both vCPUs halted and nothing in
 * their IRRs, one IPI gone. A stalled round is repeated by the caller.
 */
static int hv_run_vps(struct vm *vm, const uint8_t *ram,
		      struct hv_vp_thread *t, int nr)
{
	struct sigaction sa = { .sa_handler = hv_no_op };
	uint64_t seen = hv_progress(ram), now;
	double last = now_us();
	int i, r, ret = 0, left;

	/* No SA_RESTART: the signal makes KVM_RUN / VID_VP_RUN return. */
	sigaction(SIGUSR1, &sa, NULL);
	__atomic_store_n(&hv_abort, false, __ATOMIC_RELAXED);
	for (i = 0; i < nr; i++) {
		t[i] = (struct hv_vp_thread){ .vm = vm, .ram = ram, .vp = i };
		r = pthread_create(&t[i].thread, NULL, hv_vp_thread_fn, &t[i]);
		if (r)
			fail("pthread_create: %s", strerror(r));
	}
	for (;;) {
		left = 0;
		for (i = 0; i < nr; i++)
			left += !__atomic_load_n(&t[i].finished,
						 __ATOMIC_ACQUIRE);
		if (!left)
			break;
		usleep(100000);
		now = hv_progress(ram);
		if (now != seen) {
			seen = now;
			last = now_us();
		} else if (!hv_aborting() && now_us() - last > HV_STALL_S * 1e6) {
			__atomic_store_n(&hv_abort, true, __ATOMIC_RELAXED);
			printf("# %s: no progress in %d s (ack %llu, pong %llu, ticks %llu): repeated\n",
			       side_name(vm->side), HV_STALL_S,
			       (unsigned long long)hv_var(ram, HVD_ACK),
			       (unsigned long long)hv_var(ram, HVD_PONG),
			       (unsigned long long)hv_var(ram, HVD_TICKS));
		}
		if (hv_aborting())
			for (i = 0; i < nr; i++)
				if (!__atomic_load_n(&t[i].finished,
						     __ATOMIC_ACQUIRE))
					pthread_kill(t[i].thread, SIGUSR1);
	}
	for (i = 0; i < nr; i++) {
		pthread_join(t[i].thread, NULL);
		if (t[i].result == HV_ABORTED)
			ret = HV_ABORTED;
		else if (t[i].result < 0 && ret != HV_ABORTED)
			ret = -1;
	}
	return hv_aborting() ? HV_ABORTED : ret;
}

static void hv_close(struct vm *vm, uint8_t *ram)
{
	vm_close(vm);
	munmap(ram, HV_RAM);
}

/*
 * One round of an enlightened benchmark: @once, repeated when it stalled
 * (hv_run_vps()), at most HV_ATTEMPTS times.
 */
static double hv_round(enum vm_side side, double (*once)(enum vm_side))
{
	double v;
	int i;

	for (i = 0; i < HV_ATTEMPTS; i++) {
		v = once(side);
		if (!hv_aborting())
			return v;
	}
	fail("%s: %d attempts in a row stalled", side_name(side), HV_ATTEMPTS);
}

/*
 * The answers VP 0 counted: fewer than @expected is a failure; more
 * (TCG delivering an interrupt twice, see hv_run_vps()) is noted.
 */
static void hv_check_acks(const char *name, enum vm_side side,
			  const uint8_t *ram, uint64_t expected)
{
	uint64_t acks = hv_var(ram, HVD_ACK);

	if (acks < expected)
		fail("%s: %s: %llu answers, expected %llu", name,
		     side_name(side), (unsigned long long)acks,
		     (unsigned long long)expected);
	if (acks > expected)
		snprintf(detail, sizeof(detail), "%llu extra interrupts",
			 (unsigned long long)(acks - expected));
}

/*
 * ipi: VP 0 sends VEC_PING to VP 1 (x2APIC ICR), VP 1's handler sends
 * VEC_ACK back, each waits in STI;HLT. us per round trip.
 */
static double ipi_once(enum vm_side side)
{
	uint8_t *ram = hv_guest_ram(IPI_ROUNDTRIPS, 0);
	struct hv_vp_thread t[2];
	struct vm vm;
	double us;

	vm_open_hv(&vm, side, 2);
	vm_map(&vm, 0, HV_RAM, ram);
	hv_set_cpu(&vm, 0, hv_gpa(hv_ipi0));
	hv_set_cpu(&vm, 1, hv_gpa(hv_ipi1));
	if (hv_run_vps(&vm, ram, t, 2)) {
		hv_close(&vm, ram);
		return -1;
	}
	hv_check_acks("ipi", side, ram, IPI_ROUNDTRIPS);
	us = (t[0].done - t[0].start) / IPI_ROUNDTRIPS;
	hv_close(&vm, ram);
	return us;
}

static double measure_ipi(enum vm_side side)
{
	return hv_round(side, ipi_once);
}

/* signal_event's VMM side: each signal of the connection's eventfd... */
struct hv_responder {
	int conn_fd, irq_fd;
	bool stop;		/* __atomic: the main thread sets it */
	pthread_t thread;
};

/* ...wakes this thread, which answers through the irqfd. */
static void *hv_responder_fn(void *arg)
{
	struct hv_responder *h = arg;
	uint64_t v = 1;

	for (;;) {
		if (read(h->conn_fd, &v, sizeof(v)) != sizeof(v)) {
			if (errno == EINTR)
				continue;
			fail("read of the connection eventfd: %s",
			     strerror(errno));
		}
		if (__atomic_load_n(&h->stop, __ATOMIC_RELAXED))
			return NULL;
		v = 1;
		if (write(h->irq_fd, &v, sizeof(v)) != sizeof(v))
			fail("write of the irqfd: %s", strerror(errno));
	}
}

/* The irqfd's interrupt, as the MSI a device would send: VEC_ACK to VP 0. */
#define HV_MSI_ADDRESS	0xfee00000U
#define HV_MSI_DATA	VEC_ACK
#define KVM_HV_GSI	24	/* above the IOAPIC's pins */
#define VID_PORT_ID	0x20	/* vid: the port CONN_ID leads to */

/* KVM: connection CONN_ID -> @conn_fd, @irq_fd -> GSI -> MSI. */
static void kvm_bind_signal(struct vm *vm, int conn_fd, int irq_fd)
{
	struct kvm_hyperv_eventfd hvevt = { .conn_id = CONN_ID, .fd = conn_fd };
	struct kvm_irqfd irqfd = { .fd = irq_fd, .gsi = KVM_HV_GSI };
	struct {
		struct kvm_irq_routing table;
		struct kvm_irq_routing_entry entry;
	} routing;

	if (ioctl(vm->fd, KVM_HYPERV_EVENTFD, &hvevt))
		fail("KVM_HYPERV_EVENTFD: %s", strerror(errno));
	memset(&routing, 0, sizeof(routing));
	routing.table.nr = 1;
	routing.entry.gsi = KVM_HV_GSI;
	routing.entry.type = KVM_IRQ_ROUTING_MSI;
	routing.entry.u.msi.address_lo = HV_MSI_ADDRESS;
	routing.entry.u.msi.data = HV_MSI_DATA;
	if (ioctl(vm->fd, KVM_SET_GSI_ROUTING, &routing))
		fail("KVM_SET_GSI_ROUTING: %s", strerror(errno));
	if (ioctl(vm->fd, KVM_IRQFD, &irqfd))
		fail("KVM_IRQFD: %s", strerror(errno));
}

/*
 * vid: the same bindings: an event port targeted at the VMM with
 * @conn_fd, connection CONN_ID to it, and @irq_fd bound to the same MSI.
 * Returns -1 (skip_reason set) when vid has no ports.
 */
static int vid_bind_signal(struct vm *vm, int conn_fd, int irq_fd)
{
	struct vid_irqfd irqfd = {
		.fd = irq_fd,
		.interrupt = {
			.type = VID_INTERRUPT_MSI,
			.msi_address = HV_MSI_ADDRESS,
			.msi_data = HV_MSI_DATA,
		},
	};
#ifdef VID_PARTITION_CREATE_PORT
	struct vid_port port = {
		.port_id = VID_PORT_ID, .type = VID_PORT_TYPE_EVENT,
		.target = VID_PORT_TARGET_VMM, .flag_count = 1,
		.eventfd = conn_fd,
	};
	struct vid_connection conn = {
		.connection_id = CONN_ID, .port_id = VID_PORT_ID,
	};
#endif

	if (ioctl(vm->fd, VID_PARTITION_IRQFD, &irqfd))
		fail("VID_PARTITION_IRQFD: %s", strerror(errno));
#ifdef VID_PARTITION_CREATE_PORT
	if (ioctl(vm->fd, VID_PARTITION_CREATE_PORT, &port)) {
		if (errno != ENOTTY)
			fail("VID_PARTITION_CREATE_PORT: %s", strerror(errno));
		snprintf(skip_reason, sizeof(skip_reason),
			 "this vid.ko has no VID_PARTITION_CREATE_PORT");
		return -1;
	}
	if (ioctl(vm->fd, VID_PARTITION_CONNECT_PORT, &conn))
		fail("VID_PARTITION_CONNECT_PORT: %s", strerror(errno));
	return 0;
#else
	(void)conn_fd;
	snprintf(skip_reason, sizeof(skip_reason),
		 "built without ports and connections in uapi/linux/vid.h");
	return -1;
#endif
}

/*
 * signal_event: the guest's HvSignalEvent(CONN_ID) wakes a VMM thread
 * through the connection's eventfd; it answers with an irqfd write that
 * interrupts the guest, waiting in STI;HLT. us per round trip.
 */
static double signal_once(enum vm_side side)
{
	uint8_t *ram = hv_guest_ram(SIGNAL_ROUNDTRIPS, 0);
	struct hv_responder h = { .stop = false };
	struct hv_vp_thread t;
	struct vm vm;
	double us = -1;
	uint64_t v = 1;
	int r;

	h.conn_fd = eventfd(0, EFD_CLOEXEC);
	h.irq_fd = eventfd(0, EFD_CLOEXEC);
	if (h.conn_fd < 0 || h.irq_fd < 0)
		fail("eventfd: %s", strerror(errno));
	vm_open_hv(&vm, side, 1);
	vm_map(&vm, 0, HV_RAM, ram);
	hv_set_cpu(&vm, 0, hv_gpa(hv_signal));
	if (side == KVM)
		kvm_bind_signal(&vm, h.conn_fd, h.irq_fd);
	else if (vid_bind_signal(&vm, h.conn_fd, h.irq_fd))
		goto out;
	r = pthread_create(&h.thread, NULL, hv_responder_fn, &h);
	if (r)
		fail("pthread_create: %s", strerror(r));
	r = hv_run_vps(&vm, ram, &t, 1);
	__atomic_store_n(&h.stop, true, __ATOMIC_RELAXED);
	if (write(h.conn_fd, &v, sizeof(v)) != sizeof(v))
		fail("write of the connection eventfd: %s", strerror(errno));
	pthread_join(h.thread, NULL);
	if (r)
		goto out;
	hv_check_acks("signal_event", side, ram, SIGNAL_ROUNDTRIPS);
	us = (t.done - t.start) / SIGNAL_ROUNDTRIPS;
out:
	hv_close(&vm, ram);
	close(h.conn_fd);
	close(h.irq_fd);
	return us;
}

static double measure_signal(enum vm_side side)
{
	return hv_round(side, signal_once);
}

/*
 * stimer_periodic: STIMER0 periodic in direct mode with period
 * STIMER_PERIOD; the guest stamps each tick with the reference counter.
 * us of mean absolute deviation of the STIMER_TICKS - 1 intervals from
 * the period (lower is more accurate).
 */
static double stimer_once(enum vm_side side)
{
	uint8_t *ram = hv_guest_ram(STIMER_TICKS, STIMER_PERIOD);
	const uint64_t *stamp = (const uint64_t *)(ram + HVG_STAMPS);
	struct hv_vp_thread t;
	double dev = 0, d;
	struct vm vm;
	int i;

	vm_open_hv(&vm, side, 1);
	vm_map(&vm, 0, HV_RAM, ram);
	hv_set_cpu(&vm, 0, hv_gpa(hv_stimer));
	if (hv_run_vps(&vm, ram, &t, 1)) {
		hv_close(&vm, ram);
		return -1;
	}
	for (i = 1; i < STIMER_TICKS; i++) {
		d = (double)(stamp[i] - stamp[i - 1]) - STIMER_PERIOD;
		dev += d < 0 ? -d : d;
	}
	dev /= STIMER_TICKS - 1;
	snprintf(detail, sizeof(detail), "mean interval %.1fus",
		 (double)(stamp[STIMER_TICKS - 1] - stamp[0]) /
		 (STIMER_TICKS - 1) / 10);
	hv_close(&vm, ram);
	return dev / 10;	/* 100 ns units -> us */
}

static double measure_stimer(enum vm_side side)
{
	return hv_round(side, stimer_once);
}

/* The bare world switch in us (0: not measured); set before any bench. */
static double floor_us;
static double measure_floor(void);

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

/*
 * ROUNDS interleaved rounds of @measure, KVM first; one BENCH line. When
 * vid's half is skipped (measure() < 0, skip_reason says why) the KVM
 * rounds still run and print, and the line is "BENCH <name> skipped:".
 */
static void bench(const char *name, const char *unit,
		  double (*measure)(enum vm_side))
{
	double vid[ROUNDS], kvm[ROUNDS], ratio[ROUNDS], floor_x[ROUNDS];
	/* Exits are also reported as multiples of the bare world switch. */
	bool is_exit = floor_us > 0 && !strcmp(unit, "us") && strstr(name, "_exit");
	char kvm_detail[sizeof(detail)];
	bool skipped = false;
	double fl = 0;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		detail[0] = 0;
		kvm[i] = measure(KVM);
		memcpy(kvm_detail, detail, sizeof(detail));
		detail[0] = 0;
		/*
		 * The floor of this round: read right before and right after
		 * vid's half, the mean of the two.
		 */
		if (is_exit && !skipped)
			fl = measure_floor();
		if (!skipped) {
			vid[i] = measure(VID);
			skipped = vid[i] < 0;
		}
		if (is_exit && !skipped)
			fl = (fl + measure_floor()) / 2;
		floor_x[i] = fl > 0 && !skipped ? vid[i] / fl : 0;
		if (skipped) {
			printf("# %s round %d: anchor=%.1f%s%s%s%s\n", name,
			       i + 1, kvm[i], unit, *kvm_detail ? " (" : "",
			       kvm_detail, *kvm_detail ? ")" : "");
			continue;
		}
		ratio[i] = kvm[i] > 0 ? vid[i] / kvm[i] : 0;
		printf("# %s round %d: vid=%.1f%s%s%s%s anchor=%.1f%s%s%s%s",
		       name, i + 1, vid[i], unit, *detail ? " (" : "", detail,
		       *detail ? ")" : "", kvm[i], unit,
		       *kvm_detail ? " (" : "", kvm_detail,
		       *kvm_detail ? ")" : "");
		if (is_exit)
			printf(" floor=%.1f%s", fl, unit);
		printf("\n");
	}
	if (skipped) {
		printf("BENCH %s skipped: %s\n", name, skip_reason);
		return;
	}
	/* median() sorts: after it, ratio[] runs from min to max. */
	printf("BENCH %s vid=%.1f%s anchor=%.1f%s ratio=%.3f spread=",
	       name, median(vid, ROUNDS), unit, median(kvm, ROUNDS), unit,
	       median(ratio, ROUNDS));
	printf("%.3f-%.3f", ratio[0], ratio[ROUNDS - 1]);
	/*
	 * As the ratio: the median of each round's vid / floor, the floor
	 * read in the same round, since it swings with the machine's load
	 * as much as the exits do.
	 */
	if (is_exit)
		printf(" floor_x=%.2f", median(floor_x, ROUNDS));
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

static void run_signal(void)
{
	bench("signal_event", "us", measure_signal);
}

static void run_ipi(void)
{
	bench("ipi", "us", measure_ipi);
}

static void run_stimer(void)
{
	printf("# stimer_periodic: period %.1fus, %d ticks; value = mean |interval - period|\n",
	       STIMER_PERIOD / 10.0, STIMER_TICKS);
	bench("stimer_periodic", "us", measure_stimer);
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

/* A CPUID list from KVM (@req on /dev/kvm), grown until it fits. */
static struct kvm_cpuid2 *kvm_get_cpuid(unsigned long req, const char *what)
{
	struct kvm_cpuid2 *c;
	int nent = 64;

	for (;;) {
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			fail("out of memory");
		c->nent = nent;
		if (!ioctl(kvm_fd, req, c))
			return c;
		if (errno != E2BIG || nent > 4096)
			fail("%s: %s", what, strerror(errno));
		free(c);
		nent *= 2;
	}
}

/*
 * KVM_GET_SUPPORTED_CPUID, what a minimal VMM gives its vCPUs; and for
 * the enlightened benchmarks the same with KVM's own hypervisor leaves
 * (0x40000000...) replaced by the Hyper-V ones KVM implements, as QEMU
 * does with hv-* features.
 */
static void kvm_setup(void)
{
	struct kvm_cpuid2 *hv;
	unsigned int i, n = 0;

	kvm_run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm_run_size <= 0)
		fail("KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	kvm_cpuid = kvm_get_cpuid(KVM_GET_SUPPORTED_CPUID,
				  "KVM_GET_SUPPORTED_CPUID");
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYS_HYPERV_CPUID) <= 0)
		return;
	hv = kvm_get_cpuid(KVM_GET_SUPPORTED_HV_CPUID,
			   "KVM_GET_SUPPORTED_HV_CPUID");
	kvm_hv_cpuid = calloc(1, sizeof(*kvm_hv_cpuid) +
			      (kvm_cpuid->nent + hv->nent) *
			      sizeof(kvm_cpuid->entries[0]));
	if (!kvm_hv_cpuid)
		fail("out of memory");
	for (i = 0; i < kvm_cpuid->nent; i++)
		if ((kvm_cpuid->entries[i].function & 0xf0000000) != 0x40000000)
			kvm_hv_cpuid->entries[n++] = kvm_cpuid->entries[i];
	for (i = 0; i < hv->nent; i++)
		kvm_hv_cpuid->entries[n++] = hv->entries[i];
	kvm_hv_cpuid->nent = n;
	free(hv);
}

/* Every benchmark, in the order they run; each in its own child. */
static const struct {
	const char *name;
	void (*run)(void);
} benchmarks[] = {
	{ "partition_lifecycle", run_lifecycle },
	{ "pio_exit", run_pio },
	{ "cpuid_exit", run_cpuid },
	{ "first_touch_256m", run_touch },
	{ "kmem_per_vp", run_kmem },
	{ "signal_event", run_signal },
	{ "ipi", run_ipi },
	{ "stimer_periodic", run_stimer },
};

/* Is @name among the benchmarks asked for (all when none are named)? */
static bool wanted(const char *name, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return argc < 2;
}

/* vidbench [NAME...]: the benchmarks named, or all of them. */
int main(int argc, char **argv)
{
	unsigned int i;
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

	for (i = 0; i < sizeof(benchmarks) / sizeof(benchmarks[0]); i++)
		if (wanted(benchmarks[i].name, argc, argv))
			rc |= isolated(benchmarks[i].name, benchmarks[i].run);
	return rc;
}
