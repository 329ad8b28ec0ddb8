// SPDX-License-Identifier: GPL-2.0
/*
 * The virtual local APIC, from inside C guests: x2APIC registers and
 * their faults, xAPIC MMIO, self IPIs with EOI and TPR masking, the
 * timer in one-shot, periodic and TSC-deadline modes, HLT that sleeps in
 * the kernel until an interrupt, IPIs between VPs, INIT/SIPI start-up of
 * a second VP, NMIs; and from the host: VID_PARTITION_ASSERT_INTERRUPT
 * (fixed, NMI, MSI), irqfds, the interrupt-related VP registers and every
 * error path of those ioctls.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib_cguest.h"

#define APIC_LDR		0xd0
#define APIC_DFR		0xe0
#define APIC_ISR		0x100
#define APIC_IRR		0x200
#define APIC_TMICT		0x380
#define APIC_TMCCT		0x390
#define APIC_TDCR		0x3e0
#define APIC_SELF_IPI		0x3f0
#define MSR_TSC_DEADLINE	0x6e0
#define LVT_MASKED		0x10000
#define LVT_PERIODIC		0x20000
#define LVT_TSC_DEADLINE	0x40000

#define TEST_VECTOR		0x40
#define TIMER_VECTOR		0x41
#define LOW_VECTOR		0x31

#define XAPIC_GPA		0xfee00000ULL

/* ----- guest side ----- */

/*
 * Interrupts taken, per VP (all VPs share the guest's globals); read
 * and bumped with atomics, as handlers change them behind the code.
 */
static uint64_t irq_counts[VID_GUEST_MAX_VPS][256];
#define irq_count	irq_counts[guest_vp_index()]
#define COUNT(v)	__atomic_load_n(&irq_count[v], __ATOMIC_SEQ_CST)

/* 32-bit MMIO accesses, as a kernel's readl()/writel(). */
static inline uint32_t mmio_read32(uint64_t addr)
{
	uint32_t v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline uint64_t x2apic_read(uint32_t reg)
{
	return rdmsr(X2APIC_MSR_BASE + (reg >> 4));
}

static inline void x2apic_write(uint32_t reg, uint64_t v)
{
	wrmsr(X2APIC_MSR_BASE + (reg >> 4), v);
}

static void count_and_eoi(struct vid_guest_regs *regs)
{
	__atomic_fetch_add(&irq_count[regs->vector], 1, __ATOMIC_SEQ_CST);
	x2apic_write(APIC_EOI, 0);
}

/* The same for xAPIC mode: EOI through the MMIO page. */
static void count_and_eoi_mmio(struct vid_guest_regs *regs)
{
	__atomic_fetch_add(&irq_count[regs->vector], 1, __ATOMIC_SEQ_CST);
	mmio_write32(XAPIC_GPA + APIC_EOI, 0);
}

static void x2apic_on(void)
{
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) |
	      MSR_IA32_APICBASE_EXTD);
	x2apic_write(APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
}

/* Wait (interrupts on, halted) until irq_count[v] reaches @n. */
static void wait_count(uint8_t v, uint64_t n)
{
	while (COUNT(v) < n)
		sti_hlt();
	cli();
}

static void guest_x2apic_regs(unsigned int vp)
{
	uint64_t base = rdmsr(MSR_IA32_APICBASE), v;

	/* Reset state: enabled xAPIC at the default base, BSP on VP 0. */
	GUEST_ASSERT_EQ(XAPIC_GPA | MSR_IA32_APICBASE_ENABLE | 0x100, base);
	/* x2APIC MSRs fault until x2APIC mode is on. */
	GUEST_ASSERT_EQ(GP_VECTOR, rdmsr_safe(X2APIC_MSR_BASE + 2, &v));
	/* EXTD without EN is not a state the APIC can be in. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(MSR_IA32_APICBASE,
					      MSR_IA32_APICBASE_EXTD));
	x2apic_on();
	GUEST_ASSERT_EQ(vp, x2apic_read(APIC_ID));
	GUEST_ASSERT_EQ(0x14, x2apic_read(APIC_LVR) & 0xff);
	GUEST_ASSERT_EQ(1U << (vp & 15) | (vp >> 4) << 16,
			x2apic_read(APIC_LDR));
	/* Read-only, nonexistent in x2APIC, reserved bits: #GP. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(X2APIC_MSR_BASE + 2, 5));
	GUEST_ASSERT_EQ(GP_VECTOR, rdmsr_safe(X2APIC_MSR_BASE +
					      (APIC_DFR >> 4), &v));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(X2APIC_MSR_BASE +
					      (APIC_EOI >> 4), 1));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(X2APIC_MSR_BASE +
					      (APIC_TASKPRI >> 4), 0x100));
	/* Leaving x2APIC for xAPIC directly is refused. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(MSR_IA32_APICBASE,
					      XAPIC_GPA |
					      MSR_IA32_APICBASE_ENABLE));
	x2apic_write(APIC_TASKPRI, 0x20);
	GUEST_ASSERT_EQ(0x20, x2apic_read(APIC_TASKPRI));
	GUEST_SYNC(x2apic_read(APIC_ID));
}

/* Self IPIs: delivery, ISR until EOI, TPR holds lower classes back. */
static void guest_self_ipi(unsigned int vp)
{
	guest_install_handler(TEST_VECTOR, count_and_eoi);
	guest_install_handler(LOW_VECTOR, count_and_eoi);
	x2apic_on();

	x2apic_write(APIC_SELF_IPI, TEST_VECTOR);
	GUEST_ASSERT_EQ(0, COUNT(TEST_VECTOR));	/* IF = 0 so far */
	GUEST_ASSERT(x2apic_read(APIC_IRR + 0x20) & 1);	/* 0x40: IRR2 bit 0 */
	sti();
	__asm__ volatile("nop" ::: "memory");
	cli();
	GUEST_ASSERT_EQ(1, COUNT(TEST_VECTOR));
	GUEST_ASSERT_EQ(0, x2apic_read(APIC_ISR + 0x20));	/* EOI'd */

	/* TPR class 5 holds vector 0x31 (class 3) back, not 0x40... */
	x2apic_write(APIC_TASKPRI, 0x50);
	x2apic_write(APIC_ICR, LOW_VECTOR | 0x40000);	/* self shorthand */
	sti();
	__asm__ volatile("nop; nop" ::: "memory");
	cli();
	GUEST_ASSERT_EQ(0, COUNT(LOW_VECTOR));
	/* ...until it drops: CR8 is the same register. */
	__asm__ volatile("mov %0, %%cr8" : : "r"(0ULL) : "memory");
	GUEST_ASSERT_EQ(0, x2apic_read(APIC_TASKPRI));
	sti();
	__asm__ volatile("nop; nop" ::: "memory");
	cli();
	GUEST_ASSERT_EQ(1, COUNT(LOW_VECTOR));
	GUEST_SYNC(COUNT(TEST_VECTOR), COUNT(LOW_VECTOR));
}

static void guest_timer(unsigned int vp)
{
	uint64_t t0, base;

	guest_install_handler(TIMER_VECTOR, count_and_eoi);
	x2apic_on();

	/* One-shot: 200 us at the 1 GHz APIC clock, divider 1. */
	x2apic_write(APIC_TDCR, 0xb);
	x2apic_write(APIC_LVTT, TIMER_VECTOR);
	x2apic_write(APIC_TMICT, 200000);
	GUEST_ASSERT(x2apic_read(APIC_TMCCT) <= 200000);
	wait_count(TIMER_VECTOR, 1);
	GUEST_ASSERT_EQ(0, x2apic_read(APIC_TMCCT));

	/* Periodic: five expiries, then masked and stopped. */
	x2apic_write(APIC_LVTT, TIMER_VECTOR | LVT_PERIODIC);
	x2apic_write(APIC_TMICT, 300000);
	wait_count(TIMER_VECTOR, 6);
	x2apic_write(APIC_LVTT, TIMER_VECTOR | LVT_PERIODIC | LVT_MASKED);
	x2apic_write(APIC_TMICT, 0);
	/*
	 * An expiry that reached IRR before the mask is still delivered,
	 * as on hardware: take it now, then nothing more may come.
	 */
	sti();
	__asm__ volatile("nop; nop" ::: "memory");
	cli();
	base = COUNT(TIMER_VECTOR);
	GUEST_ASSERT(base >= 6);

	/* TSC deadline: exactly one more, not before the deadline. */
	x2apic_write(APIC_LVTT, TIMER_VECTOR | LVT_TSC_DEADLINE);
	t0 = rdtsc();
	wrmsr(MSR_TSC_DEADLINE, t0 + 100000);
	wait_count(TIMER_VECTOR, base + 1);
	GUEST_ASSERT(rdtsc() >= t0 + 100000);
	GUEST_ASSERT_EQ(0, rdmsr(MSR_TSC_DEADLINE));
	GUEST_SYNC(COUNT(TIMER_VECTOR) - base);
}

/* HLT with interrupts on: the host wakes it with an interrupt. */
static void guest_wait_for_host(unsigned int vp)
{
	guest_install_handler(TEST_VECTOR, count_and_eoi);
	guest_install_handler(NMI_VECTOR, count_and_eoi);
	x2apic_on();
	GUEST_SYNC(0);			/* ready */
	wait_count(TEST_VECTOR, 1);
	GUEST_SYNC(1);
	while (!COUNT(NMI_VECTOR))
		sti_hlt();
	cli();
	GUEST_SYNC(COUNT(TEST_VECTOR), COUNT(NMI_VECTOR));
}

/*
 * A stack the GPA map lacks (beyond the C guest's 64 MiB of RAM; the
 * guest's page tables map it): the interrupt's delivery faults on it
 * and the host maps it at the intercept.
 */
#define CUT_STACK_GPA		0x8000000ULL
#define CUT_STACK_SIZE		0x2000ULL

static uint64_t cut_frame;

static void count_on_cut_stack(struct vid_guest_regs *regs)
{
	__atomic_store_n(&cut_frame, (uint64_t)__builtin_frame_address(0),
			 __ATOMIC_SEQ_CST);
	count_and_eoi(regs);
}

static void guest_cut_short(unsigned int vp)
{
	guest_install_handler(TEST_VECTOR, count_on_cut_stack);
	x2apic_on();
	GUEST_SYNC(0);
	/* Pending while IF is clear; STI; NOP delivers it on that stack. */
	x2apic_write(APIC_SELF_IPI, TEST_VECTOR);
	__asm__ volatile("mov %%rsp, %%rbx\n\t"
			 "mov %0, %%rsp\n\t"
			 "sti\n\t"
			 "nop\n\t"
			 "cli\n\t"
			 "mov %%rbx, %%rsp"
			 : : "r"(CUT_STACK_GPA + CUT_STACK_SIZE)
			 : "rbx", "memory");
	GUEST_SYNC(COUNT(TEST_VECTOR), __atomic_load_n(&cut_frame,
						       __ATOMIC_SEQ_CST));
}

/*
 * STI; HLT with an exit between the two: the VP resumes in STI's
 * interrupt shadow, on the HLT, with an interrupt pending. It must come
 * after the HLT (which it ends), never before: the handler would run
 * and the guest then halt on what it was woken for. The handler notes
 * where it returns to (and steps over the HLT itself if it is there, so
 * that a failure is an answer, not a hang).
 */
extern char shadow_hlt[];
static uint64_t shadow_ret;

static void note_return(struct vid_guest_regs *regs)
{
	__atomic_store_n(&shadow_ret, regs->rip, __ATOMIC_SEQ_CST);
	if (regs->rip == (uint64_t)shadow_hlt)
		regs->rip++;
	count_and_eoi(regs);
}

static void guest_shadow_hlt(unsigned int vp)
{
	guest_install_handler(TEST_VECTOR, note_return);
	x2apic_on();
	GUEST_SYNC(0);
	/* With interrupts off the HLT goes to the host, which sets the rest. */
	__asm__ volatile("cli\n\t"
			 ".globl shadow_hlt\n"
			 "shadow_hlt:\n\t"
			 "hlt" ::: "memory");
	cli();
	GUEST_SYNC(__atomic_load_n(&shadow_ret, __ATOMIC_SEQ_CST),
		   (uint64_t)shadow_hlt, COUNT(TEST_VECTOR));
}

/* xAPIC mode through the MMIO page (mapped at its GPA by the host). */
static void guest_xapic_mmio(unsigned int vp)
{
	guest_install_handler(TEST_VECTOR, count_and_eoi_mmio);
	/* VP 0: APIC id 0 in bits 31:24. */
	GUEST_ASSERT_EQ(0, mmio_read32(XAPIC_GPA + APIC_ID));
	GUEST_ASSERT_EQ(0x14, mmio_read32(XAPIC_GPA + APIC_LVR) & 0xff);
	mmio_write32(XAPIC_GPA + APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
	mmio_write32(XAPIC_GPA + APIC_TASKPRI, 0x30);
	GUEST_ASSERT_EQ(0x30, mmio_read32(XAPIC_GPA + APIC_TASKPRI));
	mmio_write32(XAPIC_GPA + APIC_TASKPRI, 0);
	/* A self IPI through ICR (shorthand self, fixed). */
	mmio_write32(XAPIC_GPA + APIC_ICR, TEST_VECTOR | 0x40000);
	wait_count(TEST_VECTOR, 1);
	GUEST_SYNC(mmio_read32(XAPIC_GPA + APIC_ID), COUNT(TEST_VECTOR));
}

/* Two VPs: VP 1 waits; VP 0 sends it IPIs, VP 1 answers each. */
static uint64_t ipi_ready;

static void guest_ipi_pair(unsigned int vp)
{
	int i;

	guest_install_handler(TEST_VECTOR, count_and_eoi);
	x2apic_on();
	if (vp == 1) {
		__atomic_store_n(&ipi_ready, 1, __ATOMIC_RELEASE);
		for (i = 1; i <= 10; i++) {
			wait_count(TEST_VECTOR, i);
			x2apic_write(APIC_ICR, (0ULL << 32) | TEST_VECTOR);
		}
		GUEST_SYNC(COUNT(TEST_VECTOR));
		return;
	}
	while (!__atomic_load_n(&ipi_ready, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	for (i = 1; i <= 10; i++) {
		x2apic_write(APIC_ICR, (1ULL << 32) | TEST_VECTOR);
		wait_count(TEST_VECTOR, i);
	}
	GUEST_SYNC(COUNT(TEST_VECTOR));
}

/*
 * VP 1 starts waiting for a SIPI; VP 0 sends INIT and SIPI 0x08: VP 1
 * runs the real-mode stub at 0x8000, a ucall with CS = 0x800.
 */
#define SIPI_VECTOR	0x08
static const uint8_t sipi_stub[] = {
	0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,	/* mov $UCALL_DONE, %eax */
	0x66, 0xe7, VID_UCALL_PORT,		/* out %eax, $0xe8 */
	0xf4,					/* hlt */
};

static void guest_init_sipi(unsigned int vp)
{
	x2apic_on();
	x2apic_write(APIC_ICR, (1ULL << 32) | 0x4500);	/* INIT, assert */
	x2apic_write(APIC_ICR, (1ULL << 32) | 0x600 | SIPI_VECTOR);
	GUEST_SYNC(0);
}

/* ----- host side ----- */

struct vp_run {
	struct vid_guest *g;
	unsigned int vp;
	struct vid_ucall uc;
	int r;
};

static void *vp_run_fn(void *arg)
{
	struct vp_run *t = arg;

	t->r = vid_guest_run_vp(t->g, t->vp, &t->uc);
	return NULL;
}

TEST(x2apic_registers)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_x2apic_regs);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(0, uc.args[0]);
	vid_guest_destroy(&g);
}

TEST(self_ipi_eoi_tpr)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_self_ipi);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	EXPECT_EQ(1, uc.args[1]);
	vid_guest_destroy(&g);
}

TEST(timer_oneshot_periodic_deadline)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_timer);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	/*
	 * The deadline interrupt: once, or twice when QEMU's TCG SVM
	 * delivers an EVENTINJ interrupt a second time (seen under load:
	 * its VMRUN leaves the vector pending after delivering it).
	 */
	EXPECT_LE(1, uc.args[0]);
	EXPECT_GE(2, uc.args[0]);
	vid_guest_destroy(&g);
}

TEST(xapic_mmio)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_xapic_mmio);
	ASSERT_EQ(0, vid_guest_map(&g, XAPIC_GPA, XAPIC_GPA));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(0, uc.args[0]);
	EXPECT_EQ(1, uc.args[1]);
	vid_guest_destroy(&g);
}

/* The state ("S" sleeping, "R" running) of VP 0's backing thread. */
static char vp_thread_state(int part_fd)
{
	char path[300], want[32], buf[512], *p;
	uint64_t id = 0;
	struct dirent *d;
	char state = '?';
	DIR *dir;
	FILE *f;

	if (vid_prop_get_u64(part_fd, VID_PROP_PARTITION_ID, &id))
		return '?';
	snprintf(want, sizeof(want), "(vid-p%llu-vp0)",
		 (unsigned long long)id);
	dir = opendir("/proc");
	if (!dir)
		return '?';
	while (state == '?' && (d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strstr(buf, want)) {
			p = strrchr(buf, ')');
			if (p && p[1] == ' ')
				state = p[2];
		}
		fclose(f);
	}
	closedir(dir);
	return state;
}

/*
 * Wait until VP 0's thread sleeps (the VP halted) or 2 s passed; the
 * state it was last seen in.
 */
static char wait_vp_sleeping(int part_fd)
{
	char state = '?';
	int i;

	usleep(50000);
	for (i = 0; i < 40 && state != 'S'; i++) {
		usleep(50000);
		state = vp_thread_state(part_fd);
	}
	return state;
}

TEST(hlt_sleeps_until_the_host_interrupts)
{
	struct vid_interrupt irq = {
		.type = VID_INTERRUPT_FIXED, .vector = TEST_VECTOR,
	};
	struct vp_run t = {};
	struct vid_guest g;
	pthread_t th;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_wait_for_host);
	ASSERT_RUN_UCALL(&g, 0, &t.uc, UCALL_SYNC);
	t.g = &g;
	ASSERT_EQ(0, pthread_create(&th, NULL, vp_run_fn, &t));
	/* The halted VP's thread sleeps (no busy loop) until it is woken. */
	EXPECT_EQ('S', wait_vp_sleeping(g.part_fd));
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_ASSERT_INTERRUPT, &irq));
	pthread_join(th, NULL);
	ASSERT_EQ(0, t.r);
	ASSERT_UCALL(&t.uc, UCALL_SYNC);
	EXPECT_EQ(1, t.uc.args[0]);

	/*
	 * An MSI for VP 0 with NMI delivery wakes it again, sent while it
	 * sleeps after STI; HLT (an NMI must not wait behind that shadow).
	 */
	memset(&irq, 0, sizeof(irq));
	irq.type = VID_INTERRUPT_MSI;
	irq.msi_address = XAPIC_GPA;
	irq.msi_data = 4 << 8;
	ASSERT_EQ(0, pthread_create(&th, NULL, vp_run_fn, &t));
	EXPECT_EQ('S', wait_vp_sleeping(g.part_fd));
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_ASSERT_INTERRUPT, &irq));
	pthread_join(th, NULL);
	ASSERT_EQ(0, t.r);
	ASSERT_UCALL(&t.uc, UCALL_SYNC);
	EXPECT_EQ(1, t.uc.args[0]);
	EXPECT_EQ(1, t.uc.args[1]);
	vid_guest_destroy(&g);
}

TEST(irqfd_wakes_the_guest)
{
	struct vid_irqfd bind = {
		.interrupt = { .type = VID_INTERRUPT_FIXED,
			       .vector = TEST_VECTOR },
	};
	struct vp_run t = {};
	struct vid_guest g;
	pthread_t th;
	uint64_t one = 1;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_wait_for_host);
	bind.fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, bind.fd);
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	ASSERT_RUN_UCALL(&g, 0, &t.uc, UCALL_SYNC);
	t.g = &g;
	ASSERT_EQ(0, pthread_create(&th, NULL, vp_run_fn, &t));
	usleep(50000);
	ASSERT_EQ(8, write(bind.fd, &one, 8));
	pthread_join(th, NULL);
	ASSERT_EQ(0, t.r);
	ASSERT_UCALL(&t.uc, UCALL_SYNC);
	EXPECT_EQ(1, t.uc.args[0]);

	/* Unbind; a second unbind finds nothing. */
	bind.flags = VID_IRQFD_DEASSIGN;
	memset(&bind.interrupt, 0, sizeof(bind.interrupt));
	EXPECT_EQ(0, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(ENOENT, errno);
	close(bind.fd);
	vid_guest_destroy(&g);
}

TEST(irqfd_closed_eventfd_and_partition_close)
{
	struct vid_irqfd bind = {
		.interrupt = { .type = VID_INTERRUPT_FIXED,
			       .vector = TEST_VECTOR },
	};
	struct vid_guest g;
	int i, fds[8];

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_wait_for_host);
	/* An eventfd closed while bound detaches itself... */
	bind.fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	close(bind.fd);
	/* ...and bound ones go with the partition. */
	for (i = 0; i < 8; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		bind.fd = fds[i];
		ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	}
	vid_guest_destroy(&g);
	for (i = 0; i < 8; i++)
		close(fds[i]);
}

TEST(irqfd_errors)
{
	struct vid_irqfd bind = {
		.interrupt = { .type = VID_INTERRUPT_FIXED,
			       .vector = TEST_VECTOR },
	};
	struct vid_guest g;
	int efd, nfd, i, fds[VID_IRQFD_MAX];

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_wait_for_host);
	efd = eventfd(0, EFD_CLOEXEC);
	bind.fd = efd;
	bind.flags = 0x2;
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(EINVAL, errno);
	bind.flags = 0;
	bind.interrupt.vector = 3;
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(EINVAL, errno);
	bind.interrupt.vector = TEST_VECTOR;
	bind.fd = -1;
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(EBADF, errno);
	nfd = open("/dev/null", O_RDONLY);
	bind.fd = nfd;
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(EINVAL, errno);	/* not an eventfd */
	bind.fd = efd;
	EXPECT_EQ(0, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(EEXIST, errno);
	bind.flags = VID_IRQFD_DEASSIGN;
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(EINVAL, errno);	/* DEASSIGN with an interrupt */
	memset(&bind.interrupt, 0, sizeof(bind.interrupt));
	bind.fd = nfd;
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(EINVAL, errno);
	/* The limit. */
	bind.flags = 0;
	bind.interrupt.vector = TEST_VECTOR;
	for (i = 0; i < VID_IRQFD_MAX - 1; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC);
		bind.fd = fds[i];
		ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	}
	fds[i] = eventfd(0, EFD_CLOEXEC);
	bind.fd = fds[i];
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_IRQFD, &bind));
	EXPECT_EQ(ENOSPC, errno);
	vid_guest_destroy(&g);
	for (i = 0; i < VID_IRQFD_MAX; i++)
		close(fds[i]);
	close(efd);
	close(nfd);
}

TEST(assert_interrupt_errors)
{
	struct vid_interrupt irq;
	struct vid_guest g;
	int fd, part;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_wait_for_host);
#define EXPECT_ASSERT_ERRNO(e) do {					\
	EXPECT_EQ(-1, ioctl(g.part_fd, VID_PARTITION_ASSERT_INTERRUPT,	\
			    &irq));					\
	EXPECT_EQ(e, errno);						\
} while (0)
	memset(&irq, 0, sizeof(irq));
	irq.type = 2;					/* SMI: unsupported */
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.type = VID_INTERRUPT_FIXED;
	irq.vector = 15;				/* below 16 */
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.vector = 256;
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.vector = TEST_VECTOR;
	irq.flags = 2;					/* unknown flag */
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.flags = 0;
	irq.reserved = 1;
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.reserved = 0;
	irq.msi_data = 1;				/* MSI field on fixed */
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.msi_data = 0;
	irq.type = VID_INTERRUPT_NMI;			/* NMI with a vector */
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.type = VID_INTERRUPT_MSI;
	irq.vector = 0;
	irq.msi_address = 0xfec00000;			/* not the APIC range */
	irq.msi_data = TEST_VECTOR;
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.msi_address = XAPIC_GPA;
	irq.msi_data = TEST_VECTOR | 7 << 8;		/* ExtINT delivery */
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.msi_data = TEST_VECTOR | 1 << 16;		/* high bits */
	EXPECT_ASSERT_ERRNO(EINVAL);
	irq.msi_data = TEST_VECTOR;
	irq.destination = 1;				/* non-MSI field */
	EXPECT_ASSERT_ERRNO(EINVAL);
	/* A VP that does not exist: dropped, as on an APIC bus. */
	memset(&irq, 0, sizeof(irq));
	irq.type = VID_INTERRUPT_FIXED;
	irq.vector = TEST_VECTOR;
	irq.destination = 7;
	EXPECT_EQ(0, ioctl(g.part_fd, VID_PARTITION_ASSERT_INTERRUPT, &irq));
	vid_guest_destroy(&g);

	/* Before VID_PARTITION_INITIALIZE: -EBUSY. */
	fd = vid_open();
	ASSERT_LE(0, fd);
	part = vid_partition_create(fd, 0);
	ASSERT_LE(0, part);
	EXPECT_EQ(-1, ioctl(part, VID_PARTITION_ASSERT_INTERRUPT, &irq));
	EXPECT_EQ(EBUSY, errno);
	close(part);
	close(fd);
#undef EXPECT_ASSERT_ERRNO
}

TEST(ipi_between_vps)
{
	struct vp_run t[2] = {};
	struct vid_guest g;
	pthread_t th[2];
	int i;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_ipi_pair);
	for (i = 0; i < 2; i++) {
		t[i].g = &g;
		t[i].vp = i;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, vp_run_fn, &t[i]));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		ASSERT_EQ(0, t[i].r);
		ASSERT_UCALL(&t[i].uc, UCALL_SYNC);
		EXPECT_EQ(10, t[i].uc.args[0]);
	}
	vid_guest_destroy(&g);
}

TEST(init_sipi_starts_a_vp)
{
	struct vp_run t[2] = {};
	struct vid_guest g;
	pthread_t th[2];
	uint64_t state;
	int i;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_init_sipi);
	memcpy(vid_guest_gpa(&g, SIPI_VECTOR << 12), sipi_stub,
	       sizeof(sipi_stub));
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[1],
				      VID_REG_INTERNAL_ACTIVITY_STATE, 1));
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd[1],
				      VID_REG_INTERNAL_ACTIVITY_STATE, &state));
	EXPECT_EQ(1, state);
	/* Only one suspend state at a time. */
	EXPECT_EQ(-EINVAL, vid_vp_set_reg64(g.vp_fd[1],
					    VID_REG_INTERNAL_ACTIVITY_STATE,
					    3));
	for (i = 0; i < 2; i++) {
		t[i].g = &g;
		t[i].vp = i;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, vp_run_fn, &t[i]));
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ(0, t[0].r);
	ASSERT_UCALL(&t[0].uc, UCALL_SYNC);
	ASSERT_EQ(0, t[1].r);
	ASSERT_UCALL(&t[1].uc, UCALL_DONE);
	EXPECT_EQ(SIPI_VECTOR << 8, t[1].uc.msg.header.cs.selector);
	EXPECT_EQ(6, t[1].uc.msg.header.rip);
	EXPECT_EQ(0, vid_vp_get_reg64(g.vp_fd[1],
				      VID_REG_INTERNAL_ACTIVITY_STATE, &state));
	EXPECT_EQ(0, state);
	vid_guest_destroy(&g);
}

/*
 * An interrupt whose delivery an exit cuts short (a nested page fault on
 * the handler's stack, which the VMM then maps) is delivered once when
 * the VP resumes: neither lost nor doubled (QEMU's TCG delivers an
 * interrupt reinjected through EVENTINJ twice).
 */
TEST(interrupt_cut_short_by_a_fault_is_delivered_once)
{
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t i;
	void *stack;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_cut_short);
	stack = mmap(NULL, CUT_STACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stack);
	for (i = 0; i < CUT_STACK_SIZE; i += 4096)
		ASSERT_EQ(0, vid_guest_map(&g, CUT_STACK_GPA + i,
					   CUT_STACK_GPA + i));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_EQ(0, vid_guest_run_vp(&g, 0, &uc));
	ASSERT_EQ(UCALL_NONE, uc.cmd);
	ASSERT_EQ(VID_MSG_UNMAPPED_GPA, uc.msg.message_type);
	EXPECT_EQ(CUT_STACK_GPA + CUT_STACK_SIZE - 4096,
		  uc.msg.memory.guest_physical_address & ~4095ULL);
	ASSERT_EQ(0, vid_map_gpa(g.part_fd, CUT_STACK_GPA, CUT_STACK_SIZE,
				 stack, VID_MAP_READ | VID_MAP_WRITE));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	/* The handler ran on that stack. */
	EXPECT_LT(CUT_STACK_GPA, uc.args[1]);
	EXPECT_GT(CUT_STACK_GPA + CUT_STACK_SIZE, uc.args[1]);
	vid_guest_destroy(&g);
	munmap(stack, CUT_STACK_SIZE);
}

TEST(interrupt_after_sti_hlt_resumed_in_its_shadow)
{
	struct vid_interrupt irq = {
		.type = VID_INTERRUPT_FIXED, .vector = TEST_VECTOR,
	};
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t rip, rflags, v;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_shadow_hlt);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_EQ(0, vid_guest_run_vp(&g, 0, &uc));
	ASSERT_EQ(UCALL_NONE, uc.cmd);
	ASSERT_EQ(VID_MSG_X64_HALT, uc.msg.message_type);
	/* As if STI had just run before the HLT, and the exit came then. */
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd[0], VID_REG_RIP, &rip));
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd[0], VID_REG_RFLAGS, &rflags));
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[0], VID_REG_RFLAGS,
				      rflags | 0x200));
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[0], VID_REG_INTERRUPT_STATE,
				      1));
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_ASSERT_INTERRUPT, &irq));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(uc.args[1], rip);		/* it stopped on the HLT */
	EXPECT_EQ(uc.args[1] + 1, uc.args[0]);	/* taken after it */
	EXPECT_EQ(1, uc.args[2]);
	/* The shadow is over. */
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd[0], VID_REG_INTERRUPT_STATE,
				      &v));
	EXPECT_EQ(0, v);
	vid_guest_destroy(&g);
}

TEST(pending_interruption_register)
{
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t v;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_wait_for_host);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	/*
	 * The VMM injects external interrupt TEST_VECTOR through the
	 * register: the guest's handler runs before it halts.
	 */
	v = 1 | (uint64_t)TEST_VECTOR << 16;
	ASSERT_EQ(0, vid_vp_set_reg64(g.vp_fd[0],
				      VID_REG_PENDING_INTERRUPTION, v));
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd[0],
				      VID_REG_PENDING_INTERRUPTION, &v));
	EXPECT_EQ(1 | (uint64_t)TEST_VECTOR << 16, v);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	ASSERT_EQ(0, vid_vp_get_reg64(g.vp_fd[0],
				      VID_REG_PENDING_INTERRUPTION, &v));
	EXPECT_EQ(0, v);
	/* Invalid encodings: vector < 16 for an interrupt, NMI vector 3,
	 * an unknown type, an exception vector above 31, reserved bits.
	 */
	EXPECT_EQ(-EINVAL, vid_vp_set_reg64(g.vp_fd[0],
					    VID_REG_PENDING_INTERRUPTION,
					    1 | 3ULL << 16));
	EXPECT_EQ(-EINVAL, vid_vp_set_reg64(g.vp_fd[0],
					    VID_REG_PENDING_INTERRUPTION,
					    1 | 2 << 1 | 3ULL << 16));
	EXPECT_EQ(-EINVAL, vid_vp_set_reg64(g.vp_fd[0],
					    VID_REG_PENDING_INTERRUPTION,
					    1 | 7 << 1 | 0x40ULL << 16));
	EXPECT_EQ(-EINVAL, vid_vp_set_reg64(g.vp_fd[0],
					    VID_REG_PENDING_INTERRUPTION,
					    1 | 3 << 1 | 40ULL << 16));
	EXPECT_EQ(-EINVAL, vid_vp_set_reg64(g.vp_fd[0],
					    VID_REG_PENDING_INTERRUPTION,
					    1 | 1 << 10 | 0x40ULL << 16));
	EXPECT_EQ(-EINVAL, vid_vp_set_reg64(g.vp_fd[0],
					    VID_REG_INTERRUPT_STATE, 4));
	EXPECT_EQ(0, vid_vp_set_reg64(g.vp_fd[0], VID_REG_INTERRUPT_STATE,
				      1));
	EXPECT_EQ(0, vid_vp_get_reg64(g.vp_fd[0], VID_REG_INTERRUPT_STATE,
				      &v));
	EXPECT_EQ(1, v);
	vid_guest_destroy(&g);
}

TEST_HARNESS_MAIN
