// SPDX-License-Identifier: GPL-2.0
/*
 * The SynIC and the synthetic timers, from inside C guests (in the
 * spirit of kvm-unit-tests' hyperv_synic and hyperv_stimer): the SynIC
 * MSRs, their reset values and every reserved bit (#GP); message
 * delivery from a timer in message mode with its payload; the message
 * pending flag and EOM redelivery; auto-EOI against normal EOI; direct
 * mode; one-shot and periodic timers, periods that do not drift and
 * missed periods that are skipped instead of piling up; lazy and
 * auto-enable; masked and polling SINTs; timer messages that wait for
 * the SynIC to be enabled; the shortest period; the privileges (CPUID
 * 0x40000003) without which the MSRs fault; and from the root: event
 * flags, and messages posted while the VP's own timer posts into the
 * same slot; INIT's reset of the SynIC.
 *
 * Time: the guest reads the reference counter through a timer message
 * (a one-shot timer whose count lies in the past expires at once and
 * says when it was delivered), checked once against the TIME_REF_COUNT
 * MSR. Expiration times are checked exactly (they are computed, not
 * measured); delivery times only for order, never against wall-clock
 * bounds that TCG could miss.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib_cguest.h"

/* Synthetic MSRs. */
#define HV_MSR_TIME_REF_COUNT	0x40000020
#define HV_MSR_SCONTROL		0x40000080
#define HV_MSR_SVERSION		0x40000081
#define HV_MSR_SIEFP		0x40000082
#define HV_MSR_SIMP		0x40000083
#define HV_MSR_EOM		0x40000084
#define HV_MSR_SINT(n)		(0x40000090 + (n))
#define HV_MSR_STIMER_CONFIG(n)	(0x400000b0 + 2 * (n))
#define HV_MSR_STIMER_COUNT(n)	(0x400000b1 + 2 * (n))

#define SINT_MASKED		0x10000ULL
#define SINT_AUTO_EOI		0x20000ULL
#define SINT_POLLING		0x40000ULL

#define STIMER_ENABLE		0x1ULL
#define STIMER_PERIODIC		0x2ULL
#define STIMER_LAZY		0x4ULL
#define STIMER_AUTO_ENABLE	0x8ULL
#define STIMER_VECTOR(v)	((uint64_t)(v) << 4)
#define STIMER_DIRECT		0x1000ULL
#define STIMER_SINT(s)		((uint64_t)(s) << 16)

/* CPUID 0x40000003: privileges (EAX | EBX << 32) and features (EDX). */
#define PRIV_SYNIC		0x4ULL		/* AccessSynicRegs */
#define PRIV_SYNTIMER		0x8ULL		/* AccessSyntheticTimerRegs */
#define FEAT_STIMER_DIRECT	0x80000ULL	/* direct-mode timers */

#define HVMSG_TIMER_EXPIRED	0x80000010
#define MSG_PENDING		1

/* The guest's SynIC pages, in its identity-mapped RAM. */
#define MSG_PAGE		VID_CGUEST_DATA_GPA
#define EVT_PAGE		(VID_CGUEST_DATA_GPA + 0x1000)
/* A GPA beyond the 64 MiB of RAM. */
#define NOT_RAM			0x10000000ULL

/* SINTs and vectors the tests use. */
#define SINT_MSG		2	/* normal EOI, vector VEC_MSG */
#define SINT_AEOI		3	/* auto-EOI, vector VEC_AEOI */
#define SINT_POLL		4	/* polling mode: no interrupts */
#define SINT_CLOCK		5	/* polling: ref_now()'s timer */
#define SINT_EVT		6	/* event flags, vector VEC_EVT */
#define SINT_OFF		7	/* stays masked */
#define VEC_MSG			0x50
#define VEC_AEOI		0x51
#define VEC_DIRECT		0x60
#define VEC_WAKE		0x61
#define VEC_EVT			0x52
#define VEC_LOW			0x30

#define APIC_ISR		0x100
#define APIC_SELF_IPI		0x3f0

/* 100 ns units. */
#define MS			10000ULL

/* TLFS HV_MESSAGE, with the timer payload. */
struct synic_msg {
	uint32_t type;
	uint8_t size;
	uint8_t flags;
	uint16_t reserved;
	uint64_t sender;
	union {
		uint64_t payload[30];
		struct {
			uint32_t index;
			uint32_t reserved;
			uint64_t expiration;
			uint64_t delivery;
		} timer;
	};
};

/* ----- guest side ----- */

/* What the message handlers took out of the slots. */
struct rx {
	uint64_t type, size, flags, index, expiration, delivery;
	uint64_t in_service;	/* the vector's ISR bit in the handler */
};

/*
 * The first RX_MAX messages; later ones are counted, their contents
 * dropped (rx_spill): a guest that waits for a few may take many more
 * before it gets to look (stimer_minimum_period).
 */
#define RX_MAX		64
static struct rx rx_log[RX_MAX];
static struct rx rx_spill;
/*
 * Written by the interrupt handlers: the loops that wait for them reread
 * them after every STI; HLT (a "memory" clobber), as the slot reads do
 * after every WRMSR or PAUSE.
 *
 * Interrupts can come twice: QEMU's TCG (7.2) delivers an interrupt that
 * VMRUN injects and leaves it pending as an exception too, so a vCPU
 * switch of its round-robin scheduler before the guest's next #VMEXIT
 * delivers it again, whatever RFLAGS.IF says. A Hyper-V guest treats a
 * SINT interrupt with an empty slot as spurious (Linux's vmbus_isr()
 * does), and so do the handlers here: rx_count and rx_vec[] count
 * messages, exactly; irq_count[] counts interrupts, at least once each.
 * The message handlers begin with an instruction that exits (an x2APIC
 * read), so that a replayed twin arrives before they look at the slot,
 * never while they are taking a message out of it.
 */
static uint64_t rx_count;
static uint64_t rx_vec[256];
static uint64_t irq_count[256];

static inline struct synic_msg *slot(unsigned int sint)
{
	return (struct synic_msg *)MSG_PAGE + sint;
}

static void x2apic_on(void)
{
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) |
	      MSR_IA32_APICBASE_EXTD);
	x2apic_write_reg(APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
}

/* Is @vector in service (ISR)? */
static bool in_service(uint8_t vector)
{
	return x2apic_read_reg(APIC_ISR + (vector / 32) * 0x10) &
	       (1U << (vector % 32));
}

/*
 * Empty a slot the TLFS way: type NONE, then (after a full barrier) the
 * pending flag, and EOM when it is set.
 */
static void slot_release(unsigned int sint)
{
	slot(sint)->type = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (slot(sint)->flags & MSG_PENDING)
		wrmsr(HV_MSR_EOM, 0);
}

/* Take the message out of @sint's slot (the handler of @vector). */
static void slot_take(unsigned int sint, uint8_t vector, bool isr)
{
	struct synic_msg *m = slot(sint);
	struct rx *r = rx_count < RX_MAX ? &rx_log[rx_count] : &rx_spill;

	if (!m->type)
		return;		/* spurious: nothing new */
	rx_vec[vector]++;
	r->type = m->type;
	r->size = m->size;
	r->flags = m->flags;
	r->index = m->timer.index;
	r->expiration = m->timer.expiration;
	r->delivery = m->timer.delivery;
	r->in_service = isr;
	rx_count++;
	slot_release(sint);
}

/* SINT_MSG's handler: take the message, then EOI. */
static void msg_handler(struct vid_guest_regs *regs)
{
	bool isr = in_service(regs->vector);	/* exits first: see above */

	irq_count[regs->vector]++;
	slot_take(SINT_MSG, regs->vector, isr);
	x2apic_eoi();
}

/* SINT_AEOI's handler: auto-EOI, so no EOI here. */
static void aeoi_handler(struct vid_guest_regs *regs)
{
	bool isr = in_service(regs->vector);	/* exits first: see above */

	irq_count[regs->vector]++;
	slot_take(SINT_AEOI, regs->vector, isr);
}

static void count_eoi(struct vid_guest_regs *regs)
{
	irq_count[regs->vector]++;
	x2apic_eoi();
}

/* Wait, interrupts on and halted, until @vector was taken @n times. */
static void wait_irqs(uint8_t vector, uint64_t n)
{
	while (irq_count[vector] < n)
		sti_hlt();
	cli();
}

static void wait_rx(uint64_t n)
{
	while (rx_count < n)
		sti_hlt();
	cli();
}

/* The x2APIC, the SynIC pages, SINT_MSG, SINT_AEOI and the clock SINT. */
static void synic_on(void)
{
	x2apic_on();
	guest_install_handler(VEC_MSG, msg_handler);
	guest_install_handler(VEC_AEOI, aeoi_handler);
	guest_install_handler(VEC_DIRECT, count_eoi);
	guest_install_handler(VEC_WAKE, count_eoi);
	guest_install_handler(VEC_LOW, count_eoi);
	wrmsr(HV_MSR_SCONTROL, 1);
	wrmsr(HV_MSR_SIMP, MSG_PAGE | 1);
	wrmsr(HV_MSR_SIEFP, EVT_PAGE | 1);
	wrmsr(HV_MSR_SINT(SINT_MSG), VEC_MSG);
	wrmsr(HV_MSR_SINT(SINT_AEOI), VEC_AEOI | SINT_AUTO_EOI);
	wrmsr(HV_MSR_SINT(SINT_POLL), SINT_POLLING);
	wrmsr(HV_MSR_SINT(SINT_CLOCK), SINT_POLLING);
	wrmsr(HV_MSR_SINT(SINT_EVT), VEC_EVT);
}

static void stimer_set(unsigned int n, uint64_t config, uint64_t count)
{
	/* COUNT 0 first: a CONFIG with enable must not start the old one. */
	wrmsr(HV_MSR_STIMER_COUNT(n), 0);
	wrmsr(HV_MSR_STIMER_CONFIG(n), config);
	wrmsr(HV_MSR_STIMER_COUNT(n), count);
}

/*
 * The reference counter now: timer 3 as a one-shot in the past expires
 * during the COUNT write, and its message says when it was delivered.
 */
static uint64_t ref_now(void)
{
	struct synic_msg *m = slot(SINT_CLOCK);
	uint64_t t;

	stimer_set(3, STIMER_ENABLE | STIMER_SINT(SINT_CLOCK), 1);
	GUEST_ASSERT_EQ(HVMSG_TIMER_EXPIRED, m->type);
	GUEST_ASSERT_EQ(3, m->timer.index);
	t = m->timer.delivery;
	slot_release(SINT_CLOCK);
	return t;
}

/* Wait, halted, until reference time @t (timer 2, direct mode). */
static void sleep_until(uint64_t t)
{
	uint64_t n = irq_count[VEC_WAKE] + 1;

	stimer_set(2, STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(VEC_WAKE),
		   t);
	wait_irqs(VEC_WAKE, n);
}

static void guest_msrs(unsigned int vp)
{
	uint64_t *page = (uint64_t *)MSG_PAGE;
	uint64_t v;
	int i;

	/* Reset values: SynIC enabled, pages off, every SINT masked. */
	GUEST_ASSERT_EQ(1, rdmsr(HV_MSR_SVERSION));
	GUEST_ASSERT_EQ(1, rdmsr(HV_MSR_SCONTROL));
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_SIMP));
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_SIEFP));
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_EOM));
	for (i = 0; i < 16; i++)
		GUEST_ASSERT_EQ(SINT_MASKED, rdmsr(HV_MSR_SINT(i)));
	for (i = 0; i < 4; i++) {
		GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_STIMER_CONFIG(i)));
		GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_STIMER_COUNT(i)));
	}

	/* SVERSION is read-only; the holes of the range do not exist. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SVERSION, 1));
	GUEST_ASSERT_EQ(GP_VECTOR, rdmsr_safe(0x40000085, &v));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(0x4000008f, 0));

	/* SCONTROL: only bit 0. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SCONTROL, 2));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SCONTROL, 1ULL << 63));
	GUEST_ASSERT_EQ(0, wrmsr_safe(HV_MSR_SCONTROL, 0));
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_SCONTROL));
	wrmsr(HV_MSR_SCONTROL, 1);

	/* SIMP/SIEFP: bits 11:1 reserved; an enabled page must be RAM. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SIMP, MSG_PAGE | 2));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SIEFP, EVT_PAGE | 0x800));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SIMP, NOT_RAM | 1));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SIEFP, NOT_RAM | 1));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SIMP, ~0xfffULL | 1));
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_SIMP));
	/* Disabled, the address is only remembered. */
	wrmsr(HV_MSR_SIMP, NOT_RAM);
	GUEST_ASSERT_EQ(NOT_RAM, rdmsr(HV_MSR_SIMP));

	/* Enabling zeroes the page; rewriting the same value does not. */
	for (i = 0; i < 512; i++)
		page[i] = ~0ULL;
	wrmsr(HV_MSR_SIMP, MSG_PAGE | 1);
	GUEST_ASSERT_EQ(MSG_PAGE | 1, rdmsr(HV_MSR_SIMP));
	for (i = 0; i < 512; i++)
		GUEST_ASSERT_EQ(0, page[i]);
	page[7] = 0x5a;
	wrmsr(HV_MSR_SIMP, MSG_PAGE | 1);
	GUEST_ASSERT_EQ(0x5a, page[7]);
	wrmsr(HV_MSR_SIMP, MSG_PAGE);
	wrmsr(HV_MSR_SIMP, MSG_PAGE | 1);
	GUEST_ASSERT_EQ(0, page[7]);
	wrmsr(HV_MSR_SIEFP, EVT_PAGE | 1);
	GUEST_ASSERT_EQ(EVT_PAGE | 1, rdmsr(HV_MSR_SIEFP));

	/* SINT: vector 7:0, masked 16, auto-EOI 17, polling 18. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SINT(0), 15));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SINT(0), 0));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SINT(1), 0x50 | 0x100));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SINT(1), 0x50 |
					      (1ULL << 19)));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_SINT(15), 0x50 |
					      (1ULL << 63)));
	/* A masked or polling SINT may hold a vector below 16. */
	GUEST_ASSERT_EQ(0, wrmsr_safe(HV_MSR_SINT(0), SINT_MASKED | 5));
	GUEST_ASSERT_EQ(SINT_MASKED | 5, rdmsr(HV_MSR_SINT(0)));
	GUEST_ASSERT_EQ(0, wrmsr_safe(HV_MSR_SINT(1), SINT_POLLING));
	wrmsr(HV_MSR_SINT(15), 0xff | SINT_AUTO_EOI);
	GUEST_ASSERT_EQ(0xff | SINT_AUTO_EOI, rdmsr(HV_MSR_SINT(15)));
	GUEST_ASSERT_EQ(SINT_MASKED | 5, rdmsr(HV_MSR_SINT(0)));

	/* EOM: any value, nothing to read back. */
	GUEST_ASSERT_EQ(0, wrmsr_safe(HV_MSR_EOM, 0x1234));
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_EOM));

	/* STIMER CONFIG: bits 15:13 and 63:20 reserved. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_STIMER_CONFIG(0),
					      1ULL << 13));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_STIMER_CONFIG(1),
					      1ULL << 20));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_STIMER_CONFIG(3),
					      1ULL << 63));
	v = STIMER_PERIODIC | STIMER_LAZY | STIMER_VECTOR(0xab) |
	    STIMER_DIRECT | STIMER_SINT(0xf);
	wrmsr(HV_MSR_STIMER_CONFIG(1), v);
	GUEST_ASSERT_EQ(v, rdmsr(HV_MSR_STIMER_CONFIG(1)));
	wrmsr(HV_MSR_STIMER_COUNT(1), 0x123456789ULL);
	GUEST_ASSERT_EQ(0x123456789ULL, rdmsr(HV_MSR_STIMER_COUNT(1)));
	/* Not enabled, no auto-enable: writing COUNT leaves it off. */
	GUEST_ASSERT_EQ(v, rdmsr(HV_MSR_STIMER_CONFIG(1)));
	wrmsr(HV_MSR_STIMER_CONFIG(1), 0);
	GUEST_SYNC(1);
}

/* A one-shot timer in message mode: now, then in the future. */
static void guest_oneshot(unsigned int vp)
{
	struct synic_msg *m = slot(SINT_POLL);
	uint64_t t0, t1, t2, due, cfg;

	synic_on();
	/* A count in the past expires at once, during the COUNT write. */
	stimer_set(0, STIMER_ENABLE | STIMER_SINT(SINT_POLL), 1);
	GUEST_ASSERT_EQ(HVMSG_TIMER_EXPIRED, m->type);
	GUEST_ASSERT_EQ(24, m->size);
	GUEST_ASSERT_EQ(0, m->flags);
	GUEST_ASSERT_EQ(0, m->sender);
	GUEST_ASSERT_EQ(0, m->timer.index);
	GUEST_ASSERT_EQ(0, m->timer.reserved);
	GUEST_ASSERT_EQ(1, m->timer.expiration);
	GUEST_ASSERT(m->timer.delivery > 1);
	GUEST_ASSERT_EQ(0, m->payload[3]);	/* nothing after the payload */
	t0 = m->timer.delivery;
	slot_release(SINT_POLL);
	/* Signalled: a one-shot timer disables itself. */
	GUEST_ASSERT_EQ(STIMER_SINT(SINT_POLL),
			rdmsr(HV_MSR_STIMER_CONFIG(0)));

	/* 5 ms ahead, on timer 1, delivered with an interrupt. */
	due = ref_now() + 5 * MS;
	GUEST_ASSERT(due > t0);
	cfg = STIMER_ENABLE | STIMER_SINT(SINT_MSG);
	stimer_set(1, cfg, due);
	wait_rx(1);
	GUEST_ASSERT_EQ(HVMSG_TIMER_EXPIRED, rx_log[0].type);
	GUEST_ASSERT_EQ(1, rx_log[0].index);
	GUEST_ASSERT_EQ(due, rx_log[0].expiration);
	/* Never before it is due. */
	GUEST_ASSERT(rx_log[0].delivery >= due);
	GUEST_ASSERT(ref_now() >= rx_log[0].delivery);
	/* The timers' clock is the reference counter. */
	t0 = ref_now();
	t1 = rdmsr(HV_MSR_TIME_REF_COUNT);
	t2 = ref_now();
	GUEST_ASSERT(t0 <= t1 && t1 <= t2);
	GUEST_ASSERT_EQ(cfg & ~STIMER_ENABLE, rdmsr(HV_MSR_STIMER_CONFIG(1)));
	GUEST_ASSERT_EQ(due, rdmsr(HV_MSR_STIMER_COUNT(1)));

	/* A count far away never fires; writing COUNT 0 disables. */
	stimer_set(0, cfg, ~0ULL);
	stimer_set(1, cfg | STIMER_PERIODIC, 1ULL << 62);
	sleep_until(ref_now() + 2 * MS);
	GUEST_ASSERT_EQ(1, rx_count);
	wrmsr(HV_MSR_STIMER_COUNT(1), 0);
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_STIMER_CONFIG(1)) & STIMER_ENABLE);
	wrmsr(HV_MSR_STIMER_CONFIG(0), 0);
	GUEST_SYNC(rx_count);
}

/*
 * Periodic: N expirations, each due exactly one period (or a whole
 * number of periods, if the VP fell behind) after the previous one.
 */
#define PERIOD		(4 * MS)
#define PERIODS		10

static void guest_periodic(unsigned int vp)
{
	uint64_t t0, first, prev, d, n = 0;
	unsigned int i;

	synic_on();
	t0 = ref_now();
	stimer_set(0, STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(SINT_MSG),
		   PERIOD);
	wait_rx(PERIODS);
	wrmsr(HV_MSR_STIMER_CONFIG(0), 0);

	first = rx_log[0].expiration;
	/* The first period starts at the CONFIG/COUNT write. */
	GUEST_ASSERT(first >= t0 + PERIOD);
	GUEST_ASSERT(first <= ref_now());
	prev = first;
	for (i = 0; i < PERIODS; i++) {
		GUEST_ASSERT_EQ(0, rx_log[i].index);
		GUEST_ASSERT(rx_log[i].delivery >= rx_log[i].expiration);
		if (!i)
			continue;
		d = rx_log[i].expiration - prev;
		/* From the previous expiry, not from its delivery. */
		__GUEST_ASSERT(d && d % PERIOD == 0, d, i, "whole periods");
		n += d / PERIOD;
		prev = rx_log[i].expiration;
	}
	/*
	 * PERIODS - 1 periods, plus the ones a slow VP skipped (each skip
	 * costs a whole period of lateness; TCG may cause a few).
	 */
	__GUEST_ASSERT(n >= PERIODS - 1 && n <= 5 * (PERIODS - 1), n, 0,
		       "period count");
	GUEST_SYNC(n, first - t0);
}

/*
 * The message pending flag: two timers into one slot the guest does not
 * empty; the second waits, and the EOM delivers it.
 */
static void guest_pending_eom(unsigned int vp)
{
	struct synic_msg *m = slot(SINT_POLL);
	uint64_t first_delivery;

	synic_on();
	stimer_set(0, STIMER_ENABLE | STIMER_SINT(SINT_POLL), 1);
	GUEST_ASSERT_EQ(0, m->timer.index);
	GUEST_ASSERT_EQ(0, m->flags);
	first_delivery = m->timer.delivery;
	/* The slot is busy: timer 1's message waits, the flag says so. */
	stimer_set(1, STIMER_ENABLE | STIMER_SINT(SINT_POLL), 2);
	GUEST_ASSERT_EQ(0, m->timer.index);
	GUEST_ASSERT_EQ(MSG_PENDING, m->flags);
	/* Timer 1 is still enabled: its expiry is not signalled yet. */
	GUEST_ASSERT(rdmsr(HV_MSR_STIMER_CONFIG(1)) & STIMER_ENABLE);
	/* Emptying without EOM delivers nothing... */
	m->type = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sleep_until(ref_now() + MS);
	GUEST_ASSERT_EQ(0, m->type);
	/* ...the EOM does, before the next instruction. */
	wrmsr(HV_MSR_EOM, 0);
	GUEST_ASSERT_EQ(HVMSG_TIMER_EXPIRED, m->type);
	GUEST_ASSERT_EQ(1, m->timer.index);
	GUEST_ASSERT_EQ(0, m->flags);
	GUEST_ASSERT_EQ(2, m->timer.expiration);
	GUEST_ASSERT(m->timer.delivery > first_delivery);
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_STIMER_CONFIG(1)) & STIMER_ENABLE);
	slot_release(SINT_POLL);
	GUEST_SYNC(1);
}

/*
 * A periodic timer whose slot stays busy: the expiry that finds it busy
 * waits for the EOM, no further ones pile up meanwhile, and afterwards
 * the periods it missed are skipped, still on the original grid.
 */
static void guest_periodic_busy(unsigned int vp)
{
	struct synic_msg *m = slot(SINT_POLL);
	uint64_t e0, t, w, next;

	synic_on();
	guest_install_handler(VEC_MSG, count_eoi);
	stimer_set(0, STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(SINT_POLL),
		   PERIOD);
	while (!m->type)
		__asm__ volatile("pause" ::: "memory");
	e0 = m->timer.expiration;
	/* A later expiry finds the slot busy and sets the flag. */
	while (!(m->flags & MSG_PENDING))
		__asm__ volatile("pause" ::: "memory");
	t = ref_now();
	GUEST_ASSERT_EQ(e0, m->timer.expiration);
	/* Five more periods pass with the slot busy. */
	sleep_until(t + 5 * PERIOD);
	GUEST_ASSERT_EQ(e0, m->timer.expiration);
	/*
	 * EOM: the waiting expiry (due before the guest saw the flag: the
	 * second one, unless the VP was too slow for the first period), on
	 * the grid; none of those that came due while it waited.
	 */
	slot_release(SINT_POLL);
	GUEST_ASSERT_EQ(HVMSG_TIMER_EXPIRED, m->type);
	w = m->timer.expiration;
	__GUEST_ASSERT(w > e0 && (w - e0) % PERIOD == 0 && w <= t, w - e0,
		       t - e0, "the waiting expiry");
	/* (The next period may already have found it busy: no flag check.) */
	slot_release(SINT_POLL);
	/* The next one: on the grid, after the EOM, the missed ones skipped. */
	while (!m->type)
		__asm__ volatile("pause" ::: "memory");
	next = m->timer.expiration;
	__GUEST_ASSERT((next - e0) % PERIOD == 0 && next > t + 5 * PERIOD,
		       next - e0, t - e0, "skipped periods on the grid");
	wrmsr(HV_MSR_STIMER_CONFIG(0), 0);
	slot_release(SINT_POLL);
	/* A polling SINT never interrupts. */
	GUEST_ASSERT_EQ(0, irq_count[VEC_MSG]);
	GUEST_SYNC((next - w) / PERIOD);
}

/*
 * Auto-EOI: the handler sees no ISR bit and needs no EOI (a lower
 * vector still gets through afterwards); a normal SINT is in service
 * until its EOI.
 */
static void guest_auto_eoi(unsigned int vp)
{
	synic_on();
	stimer_set(0, STIMER_ENABLE | STIMER_SINT(SINT_AEOI), 1);
	wait_rx(1);
	GUEST_ASSERT_EQ(0, rx_log[0].in_service);
	GUEST_ASSERT_EQ(0, in_service(VEC_AEOI));
	/* Nothing in service: a lower-priority self IPI is delivered. */
	x2apic_write_reg(APIC_SELF_IPI, VEC_LOW);
	wait_irqs(VEC_LOW, 1);

	stimer_set(0, STIMER_ENABLE | STIMER_SINT(SINT_MSG), 1);
	wait_rx(2);
	GUEST_ASSERT_EQ(1, rx_log[1].in_service);
	GUEST_ASSERT_EQ(0, in_service(VEC_MSG));	/* EOI'd */

	/* Auto-EOI follows the SINT: switched off, the ISR bit is back. */
	wrmsr(HV_MSR_SINT(SINT_AEOI), VEC_AEOI);
	guest_install_handler(VEC_AEOI, msg_handler);
	wrmsr(HV_MSR_SINT(SINT_MSG), VEC_AEOI);	/* shares the vector */
	stimer_set(0, STIMER_ENABLE | STIMER_SINT(SINT_MSG), 1);
	wait_rx(3);
	GUEST_ASSERT_EQ(1, rx_log[2].in_service);
	GUEST_SYNC(rx_vec[VEC_AEOI], rx_vec[VEC_MSG], irq_count[VEC_LOW]);
}

/* Direct mode: an APIC interrupt, no message; one-shot and periodic. */
static void guest_direct(unsigned int vp)
{
	uint64_t cfg = STIMER_ENABLE | STIMER_DIRECT |
		       STIMER_VECTOR(VEC_DIRECT);
	unsigned int i;

	synic_on();
	stimer_set(0, cfg, 1);
	wait_irqs(VEC_DIRECT, 1);
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_STIMER_CONFIG(0)) & STIMER_ENABLE);
	stimer_set(0, cfg | STIMER_PERIODIC, 2 * MS);
	wait_irqs(VEC_DIRECT, 6);
	wrmsr(HV_MSR_STIMER_CONFIG(0), 0);
	/* No slot got a message (SINT 0 is this timer's unused sintx). */
	for (i = 0; i < 16; i++)
		GUEST_ASSERT_EQ(0, slot(i)->type);
	GUEST_ASSERT_EQ(0, rx_count);
	/* An illegal vector (below 16) is lost, not injected. */
	stimer_set(1, STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(8), 1);
	sti();
	__asm__ volatile("nop; nop" ::: "memory");
	cli();
	GUEST_SYNC(irq_count[VEC_DIRECT]);
}

/*
 * Auto-enable: COUNT != 0 enables, COUNT 0 disables; the lazy bit is
 * kept and a lazy periodic timer runs like any other.
 */
static void guest_auto_enable(unsigned int vp)
{
	uint64_t cfg = STIMER_AUTO_ENABLE | STIMER_PERIODIC | STIMER_LAZY |
		       STIMER_SINT(SINT_MSG);
	uint64_t n;

	synic_on();
	wrmsr(HV_MSR_STIMER_CONFIG(0), cfg);
	GUEST_ASSERT_EQ(cfg, rdmsr(HV_MSR_STIMER_CONFIG(0)));
	wrmsr(HV_MSR_STIMER_COUNT(0), 2 * MS);
	GUEST_ASSERT_EQ(cfg | STIMER_ENABLE, rdmsr(HV_MSR_STIMER_CONFIG(0)));
	wait_rx(3);
	wrmsr(HV_MSR_STIMER_COUNT(0), 0);
	GUEST_ASSERT_EQ(cfg, rdmsr(HV_MSR_STIMER_CONFIG(0)));
	/* Take what came in meanwhile; stopped, nothing more arrives. */
	sti();
	__asm__ volatile("nop; nop" ::: "memory");
	cli();
	n = rx_count;
	sleep_until(ref_now() + 5 * MS);
	GUEST_ASSERT_EQ(n, rx_count);
	/* Without auto-enable, COUNT alone does not start it. */
	wrmsr(HV_MSR_STIMER_CONFIG(0), cfg & ~STIMER_AUTO_ENABLE);
	wrmsr(HV_MSR_STIMER_COUNT(0), 1);
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_STIMER_CONFIG(0)) & STIMER_ENABLE);
	sleep_until(ref_now() + MS);
	GUEST_ASSERT_EQ(n, rx_count);
	GUEST_SYNC(n);
}

/*
 * A masked SINT, a disabled SynIC or message page: the expiry message
 * waits (TLFS), and comes when the guest makes delivery possible.
 */
static void guest_masked(unsigned int vp)
{
	struct synic_msg *m = slot(SINT_MSG);
	uint64_t t;

	synic_on();
	wrmsr(HV_MSR_SINT(SINT_MSG), VEC_MSG | SINT_MASKED);
	stimer_set(0, STIMER_ENABLE | STIMER_SINT(SINT_MSG), 1);
	sleep_until(ref_now() + MS);
	GUEST_ASSERT_EQ(0, m->type);
	GUEST_ASSERT_EQ(0, irq_count[VEC_MSG]);
	/* Unmasking delivers it, with its interrupt. */
	wrmsr(HV_MSR_SINT(SINT_MSG), VEC_MSG);
	wait_rx(1);
	GUEST_ASSERT_EQ(1, rx_log[0].expiration);

	/*
	 * The message page off when the timer expires (ref_now() needs the
	 * page: the time to sleep until is taken before).
	 */
	t = ref_now() + MS;
	wrmsr(HV_MSR_SIMP, MSG_PAGE);
	stimer_set(0, STIMER_ENABLE | STIMER_SINT(SINT_MSG), 2);
	sleep_until(t);
	GUEST_ASSERT_EQ(0, rx_count - 1);
	wrmsr(HV_MSR_SIMP, MSG_PAGE | 1);
	wait_rx(2);
	GUEST_ASSERT_EQ(2, rx_log[1].expiration);

	/* The SynIC off; a direct-mode timer still works. */
	t = ref_now() + MS;
	wrmsr(HV_MSR_SCONTROL, 0);
	stimer_set(0, STIMER_ENABLE | STIMER_SINT(SINT_MSG), 3);
	sleep_until(t);
	GUEST_ASSERT_EQ(2, rx_count);
	wrmsr(HV_MSR_SCONTROL, 1);
	wait_rx(3);
	GUEST_ASSERT_EQ(3, rx_log[2].expiration);
	GUEST_SYNC(rx_count, rx_vec[VEC_MSG]);
}

/*
 * The shortest period: a count of 1 (100 ns) runs every 100 us. Under
 * TCG a handler (three exits) takes longer than that, so the next expiry
 * waits at every IRET and the guest may take dozens of messages before
 * its wait loop sees the count: the first five are checked.
 */
static void guest_min_period(unsigned int vp)
{
	synic_on();
	stimer_set(0, STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(SINT_MSG),
		   1);
	wait_rx(5);
	wrmsr(HV_MSR_STIMER_CONFIG(0), 0);
	/* The host checks rx_log[] (and shows all of it if it must fail). */
	GUEST_SYNC(rx_count, irq_count[VEC_MSG]);
}

/*
 * The root's messages (VID_PARTITION_POST_MESSAGE) into the slot a
 * periodic timer of the VP also posts to: two senders on two CPUs, the
 * guest taking each message in its handler. Root messages carry a
 * sequence number; none may be lost, doubled or reordered.
 */
#define ROOT_MSG_TYPE		0x1234
#define ROOT_MSGS		300

static uint64_t root_rx, timer_rx, rx_errors;
/* The first unexpected slot: type, payload size, first payload word. */
static uint64_t bad_type, bad_size, bad_seq;

static void mixed_handler(struct vid_guest_regs *regs)
{
	struct synic_msg *m = slot(SINT_MSG);

	in_service(regs->vector);	/* exits first: see rx_count */
	if (!m->type) {
		/* Spurious (see irq_count); the root may fill it meanwhile. */
		x2apic_eoi();
		return;
	}
	if (m->type == HVMSG_TIMER_EXPIRED && m->size == 24)
		timer_rx++;
	else if (m->type == ROOT_MSG_TYPE && m->size == 8 &&
		 m->payload[0] == root_rx)
		root_rx++;
	else if (!rx_errors++)
		bad_type = m->type, bad_size = m->size, bad_seq = m->payload[0];
	slot_release(SINT_MSG);
	x2apic_eoi();
}

static void guest_two_senders(unsigned int vp)
{
	synic_on();
	guest_install_handler(VEC_MSG, mixed_handler);
	stimer_set(0, STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(SINT_MSG),
		   MS);
	GUEST_SYNC(0);
	while (root_rx < ROOT_MSGS && !rx_errors)
		sti_hlt();
	cli();
	wrmsr(HV_MSR_STIMER_CONFIG(0), 0);
	GUEST_SYNC(root_rx, timer_rx, rx_errors);
}

/*
 * Event flags from the root (VID_PARTITION_SIGNAL_EVENT): a flag that
 * goes from clear to set interrupts, one already set does not.
 */
static uint64_t evt_word(unsigned int sint, unsigned int flag)
{
	return __atomic_load_n((uint64_t *)(EVT_PAGE + sint * 256) + flag / 64,
			       __ATOMIC_SEQ_CST);
}

static void take_interrupts(void)
{
	sti();
	__asm__ volatile("nop; nop" ::: "memory");
	cli();
}

static void guest_events(unsigned int vp)
{
	uint64_t n;

	synic_on();
	guest_install_handler(VEC_EVT, count_eoi);
	GUEST_SYNC(0);
	/* The root set flags 100 and 2047: one interrupt (or its twin). */
	take_interrupts();
	n = irq_count[VEC_EVT];
	GUEST_ASSERT(n == 1 || n == 2);
	GUEST_ASSERT_EQ(1ULL << (100 % 64), evt_word(SINT_EVT, 100));
	GUEST_ASSERT_EQ(1ULL << 63, evt_word(SINT_EVT, 2047));
	GUEST_SYNC(1);
	/* The root set flag 100 again: already set, no interrupt. */
	take_interrupts();
	GUEST_ASSERT_EQ(n, irq_count[VEC_EVT]);
	/* Cleared by the guest, the next signal interrupts again. */
	__atomic_fetch_and((uint64_t *)(EVT_PAGE + SINT_EVT * 256) + 1,
			   ~(1ULL << (100 % 64)), __ATOMIC_SEQ_CST);
	GUEST_SYNC(2);
	take_interrupts();
	GUEST_ASSERT(irq_count[VEC_EVT] > n);
	GUEST_ASSERT_EQ(1ULL << (100 % 64), evt_word(SINT_EVT, 100));
	/* No other SINT's flags were touched. */
	GUEST_ASSERT_EQ(0, evt_word(SINT_EVT - 1, 2047));
	GUEST_ASSERT_EQ(0, evt_word(SINT_EVT + 1, 0));
	GUEST_SYNC(3);
}

/*
 * INIT resets the SynIC: VP 1 sets its SynIC up and starts a timer, VP 0
 * sends it INIT and a SIPI, and VP 1 reads the registers back in the
 * real-mode code the SIPI starts (at SIPI_VECTOR << 12): SIMP, SINT2
 * and STIMER0_CONFIG, reported in RDI, RSI and RBX.
 */
#define SIPI_VECTOR	0x08
static const uint8_t sipi_stub[] = {
	0x66, 0xb9, 0x83, 0x00, 0x00, 0x40,	/* mov $SIMP, %ecx */
	0x0f, 0x32,				/* rdmsr */
	0x66, 0x89, 0xc7,			/* mov %eax, %edi */
	0x66, 0xb9, 0x92, 0x00, 0x00, 0x40,	/* mov $SINT2, %ecx */
	0x0f, 0x32,				/* rdmsr */
	0x66, 0x89, 0xc6,			/* mov %eax, %esi */
	0x66, 0xb9, 0xb0, 0x00, 0x00, 0x40,	/* mov $STIMER0_CONFIG, %ecx */
	0x0f, 0x32,				/* rdmsr */
	0x66, 0x89, 0xc3,			/* mov %eax, %ebx */
	0x66, 0xb8, UCALL_VALUE, 0x00, 0x00, 0x00, /* mov $UCALL_VALUE, %eax */
	0x66, 0xe7, VID_UCALL_PORT,		/* out %eax, $0xe8 */
	0xf4,					/* hlt */
};

static void guest_init_reset(unsigned int vp)
{
	if (vp == 1) {
		synic_on();
		stimer_set(0, STIMER_ENABLE | STIMER_PERIODIC |
			   STIMER_SINT(SINT_MSG), MS);
		wait_rx(1);
		GUEST_SYNC(rdmsr(HV_MSR_SINT(SINT_MSG)));
		return;
	}
	x2apic_on();
	x2apic_write_reg(APIC_ICR, (1ULL << 32) | 0x4500);	/* INIT */
	x2apic_write_reg(APIC_ICR, (1ULL << 32) | 0x600 | SIPI_VECTOR);
	GUEST_SYNC(0);
}

/* Bit i: access i below raised #GP. */
static void guest_gates(unsigned int vp)
{
	uint64_t gp = 0, v;

	gp |= (rdmsr_safe(HV_MSR_SCONTROL, &v) == GP_VECTOR) << 0;
	gp |= (wrmsr_safe(HV_MSR_SCONTROL, 1) == GP_VECTOR) << 1;
	gp |= (rdmsr_safe(HV_MSR_SINT(3), &v) == GP_VECTOR) << 2;
	gp |= (wrmsr_safe(HV_MSR_EOM, 0) == GP_VECTOR) << 3;
	gp |= (rdmsr_safe(HV_MSR_STIMER_CONFIG(0), &v) == GP_VECTOR) << 4;
	gp |= (wrmsr_safe(HV_MSR_STIMER_COUNT(3), 0) == GP_VECTOR) << 5;
	gp |= (wrmsr_safe(HV_MSR_STIMER_CONFIG(1), STIMER_DIRECT |
			  STIMER_VECTOR(VEC_DIRECT)) == GP_VECTOR) << 6;
	GUEST_SYNC(gp);
}

/* ----- host side ----- */

/* The Hyper-V properties the next guest is created with. */
static uint64_t cfg_priv, cfg_feat;

static int set_hv_props(int part_fd)
{
	int r = vid_prop_set_u64(part_fd, VID_PROP_HV_PRIVILEGES, cfg_priv);

	return r ? r : vid_prop_set_u64(part_fd, VID_PROP_HV_FEATURES,
					 cfg_feat);
}

/*
 * Each MSR faults until its privilege is granted (KVM's hyperv_features
 * in small): SynIC MSRs need AccessSynicRegs, timer MSRs
 * AccessSyntheticTimerRegs, direct mode its feature bit.
 */
FIXTURE(gate) {
	struct vid_guest g;
};

FIXTURE_VARIANT(gate) {
	uint64_t priv;
	uint64_t feat;
	uint64_t gp;	/* expected #GP bits (guest_gates()) */
};

FIXTURE_VARIANT_ADD(gate, none) { .gp = 0x7f };
FIXTURE_VARIANT_ADD(gate, synic) { .priv = PRIV_SYNIC, .gp = 0x70 };
FIXTURE_VARIANT_ADD(gate, timers) { .priv = PRIV_SYNTIMER, .gp = 0x4f };
FIXTURE_VARIANT_ADD(gate, no_direct_mode) {
	.priv = PRIV_SYNIC | PRIV_SYNTIMER, .gp = 0x40 };
FIXTURE_VARIANT_ADD(gate, all) {
	.priv = PRIV_SYNIC | PRIV_SYNTIMER, .feat = FEAT_STIMER_DIRECT };

FIXTURE_SETUP(gate)
{
}

FIXTURE_TEARDOWN(gate)
{
}

TEST_F(gate, msrs_fault_until_granted)
{
	struct vid_ucall uc;

	cfg_priv = variant->priv;
	cfg_feat = variant->feat;
	vid_guest_before_initialize = set_hv_props;
	VID_GUEST_CREATE_C_OR_SKIP(&self->g, 1, guest_gates);
	ASSERT_RUN_UCALL(&self->g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(variant->gp, uc.args[0]);
	vid_guest_destroy(&self->g);
}

TEST(msrs_and_reserved_bits)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_msrs);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	/* The page the guest enabled is RAM the host sees zeroed. */
	EXPECT_EQ(0, *(uint64_t *)vid_guest_gpa(&g, MSG_PAGE + 7 * 8));
	vid_guest_destroy(&g);
}

TEST(stimer_oneshot_message)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_oneshot);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	vid_guest_destroy(&g);
}

TEST(stimer_periodic_no_drift)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_periodic);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	TH_LOG("%llu periods for %d expirations; first after %llu x 100 ns",
	       (unsigned long long)uc.args[0], PERIODS,
	       (unsigned long long)uc.args[1]);
	vid_guest_destroy(&g);
}

TEST(message_pending_and_eom)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_pending_eom);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	vid_guest_destroy(&g);
}

TEST(periodic_busy_slot_skips_missed_periods)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_periodic_busy);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	TH_LOG("the expiry after the EOM: %llu periods after the waiting one",
	       (unsigned long long)uc.args[0]);
	vid_guest_destroy(&g);
}

TEST(auto_eoi_and_normal_eoi)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_auto_eoi);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(2, uc.args[0]);	/* VEC_AEOI: auto-EOI, then normal */
	EXPECT_EQ(1, uc.args[1]);
	EXPECT_LE(1, uc.args[2]);
	vid_guest_destroy(&g);
}

TEST(stimer_direct_mode)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_direct);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_LE(6, uc.args[0]);
	vid_guest_destroy(&g);
}

TEST(stimer_auto_enable_lazy)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_auto_enable);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_LE(3, uc.args[0]);
	EXPECT_GE(4, uc.args[0]);
	vid_guest_destroy(&g);
}

TEST(masked_sint_and_disabled_synic_hold_messages)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_masked);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(3, uc.args[0]);
	EXPECT_EQ(3, uc.args[1]);
	vid_guest_destroy(&g);
}

TEST(stimer_minimum_period)
{
	const struct rx *log;
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t d, i;
	unsigned int n;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_min_period);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	log = VID_GUEST_GLOBAL(&g, rx_log);
	ASSERT_LE(5, uc.args[0]);
	TH_LOG("%llu messages, %llu interrupts before the guest looked",
	       (unsigned long long)uc.args[0], (unsigned long long)uc.args[1]);
	for (i = 1; i < 5; i++) {
		d = log[i].expiration - log[i - 1].expiration;
		if (d >= 1000 && d % 1000 == 0)
			continue;
		TH_LOG("rx_count %llu, %llu interrupts",
		       (unsigned long long)uc.args[0],
		       (unsigned long long)uc.args[1]);
		for (n = 0; n < uc.args[0] && n < RX_MAX; n++)
			TH_LOG("rx_log[%u]: type %#llx index %llu expiration %llu delivery %llu in_service %llu",
			       n, (unsigned long long)log[n].type,
			       (unsigned long long)log[n].index,
			       (unsigned long long)log[n].expiration,
			       (unsigned long long)log[n].delivery,
			       (unsigned long long)log[n].in_service);
		vid_dump_vps();
		ASSERT_TRUE(false) TH_LOG("message %llu is not on the 100 us grid after %llu",
					  (unsigned long long)i,
					  (unsigned long long)i - 1);
	}
	vid_guest_destroy(&g);
}

TEST(init_resets_the_synic)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_init_reset);
	memcpy(vid_guest_gpa(&g, SIPI_VECTOR << 12), sipi_stub,
	       sizeof(sipi_stub));
	ASSERT_RUN_UCALL(&g, 1, &uc, UCALL_SYNC);
	EXPECT_EQ(VEC_MSG, uc.args[0]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	/* VP 1 takes the INIT and the SIPI, and reads its SynIC. */
	ASSERT_RUN_UCALL(&g, 1, &uc, UCALL_VALUE);
	EXPECT_EQ(0, uc.args[0]);		/* SIMP off */
	EXPECT_EQ(SINT_MASKED, uc.args[1]);	/* SINT2 masked */
	EXPECT_EQ(0, uc.args[3]);		/* STIMER0 stopped */
	vid_guest_destroy(&g);
}

struct vp_run {
	struct vid_guest *g;
	struct vid_ucall uc;
	int r;
};

static void *vp_run_fn(void *arg)
{
	struct vp_run *t = arg;

	t->r = vid_guest_run_vp(t->g, 0, &t->uc);
	return NULL;
}

TEST(root_and_timer_post_into_one_slot)
{
	struct vid_post_message pm = { .sint = SINT_MSG };
	struct vp_run t = {};
	unsigned long busy = 0;
	struct vid_guest g;
	pthread_t th;
	uint64_t i;
	int r;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_two_senders);
	ASSERT_RUN_UCALL(&g, 0, &t.uc, UCALL_SYNC);
	t.g = &g;
	ASSERT_EQ(0, pthread_create(&th, NULL, vp_run_fn, &t));
	pm.message.message_type = ROOT_MSG_TYPE;
	pm.message.payload_size = 8;
	for (i = 0; i < ROOT_MSGS; i++) {
		unsigned int tries = 0;

		pm.message.payload[0] = i;
		/* A busy slot: the guest's EOM will free it. */
		while ((r = ioctl(g.part_fd, VID_PARTITION_POST_MESSAGE,
				  &pm)) && errno == EAGAIN && ++tries < 20000) {
			busy++;
			usleep(100);
		}
		if (r) {
			struct synic_msg *m = vid_guest_gpa(&g, MSG_PAGE +
							    SINT_MSG * 256);

			TH_LOG("message %llu: %s; guest: %llu root %llu timer %llu errors; slot type %#x flags %#x seq %llu",
			       (unsigned long long)i, strerror(errno),
			       (unsigned long long)VID_GUEST_GLOBAL(&g, root_rx),
			       (unsigned long long)VID_GUEST_GLOBAL(&g, timer_rx),
			       (unsigned long long)VID_GUEST_GLOBAL(&g, rx_errors),
			       m->type, m->flags,
			       (unsigned long long)m->payload[0]);
			TH_LOG("first bad slot: type %#llx size %llu seq %llu",
			       (unsigned long long)VID_GUEST_GLOBAL(&g, bad_type),
			       (unsigned long long)VID_GUEST_GLOBAL(&g, bad_size),
			       (unsigned long long)VID_GUEST_GLOBAL(&g, bad_seq));
		}
		ASSERT_EQ(0, r);
	}
	pthread_join(th, NULL);
	ASSERT_EQ(0, t.r);
	ASSERT_UCALL(&t.uc, UCALL_SYNC);
	EXPECT_EQ(ROOT_MSGS, t.uc.args[0]);
	EXPECT_EQ(0, t.uc.args[2]);
	EXPECT_LT(0, t.uc.args[1]);
	TH_LOG("%llu timer messages; the root found the slot busy %lu times",
	       (unsigned long long)t.uc.args[1], busy);
	vid_guest_destroy(&g);
}

TEST(root_signals_event_flags)
{
	struct vid_signal_event se = { .sint = SINT_EVT, .flag = 100 };
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_events);
	/* Before the guest enabled its SynIC pages: refused. */
	ASSERT_ERRNO(EBUSY, ioctl(g.part_fd, VID_PARTITION_SIGNAL_EVENT, &se));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_SIGNAL_EVENT, &se));
	se.flag = 2047;
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_SIGNAL_EVENT, &se));
	se.flag = 2048;
	ASSERT_ERRNO(EINVAL, ioctl(g.part_fd, VID_PARTITION_SIGNAL_EVENT,
				   &se));
	/* A masked SINT takes no events. */
	se.flag = 1;
	se.sint = SINT_OFF;
	ASSERT_ERRNO(EBUSY, ioctl(g.part_fd, VID_PARTITION_SIGNAL_EVENT, &se));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	se.sint = SINT_EVT;
	se.flag = 100;
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_SIGNAL_EVENT, &se));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(2, uc.args[0]);
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_SIGNAL_EVENT, &se));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(3, uc.args[0]);
	vid_guest_destroy(&g);
}

TEST_HARNESS_MAIN
