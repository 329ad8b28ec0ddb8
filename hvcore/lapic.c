// SPDX-License-Identifier: GPL-2.0
/*
 * The virtual local APIC.
 *
 * The register file is kept in xAPIC layout (one u32 per 16-byte slot);
 * the x2APIC MSR 0x800 + n is slot n. APIC ids equal VP indexes and are
 * read-only, so physical destinations are table lookups; logical ones
 * (x2APIC clusters, xAPIC flat and cluster models) walk the VPs.
 *
 * Interrupts from elsewhere (other VPs, the root, timers, irqfds) are
 * posted into @pir with atomic bit operations and a HV_REQ_INTERRUPT
 * request; the VP's own thread folds them into IRR before it enters the
 * guest (hv_lapic_sync()). Everything else is touched only by that
 * thread, or by the root while the VP is stopped.
 *
 * The timer counts at HV_APIC_FREQUENCY (one tick per nanosecond before
 * the divider) on an hrtimer; a periodic timer re-arms from its previous
 * expiry, so periods do not drift, and is never shorter than
 * HV_LAPIC_MIN_PERIOD_NS (a guest cannot make the host spin on it).
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "arch.h"
#include "hv_regs.h"
#include "hvcore.h"
#include "lapic.h"

#define HV_LAPIC_MIN_PERIOD_NS	100000ULL

#define HV_LAPIC_VERSION	0x14		/* integrated APIC */
#define HV_LAPIC_MAX_LVT	6		/* LVT entries 0x320-0x370 */

/* LVT bits. */
#define LVT_VECTOR		0xffU
#define LVT_DELIVERY		(7U << 8)
#define LVT_PENDING		BIT(12)
#define LVT_MASKED		BIT(16)
#define LVT_TIMER_MODE		(3U << 17)
#define LVT_TIMER_PERIODIC	BIT(17)
#define LVT_TIMER_DEADLINE	(2U << 17)

/* ICR bits. */
#define ICR_VECTOR		0xffU
#define ICR_DELIVERY		(7U << 8)
#define ICR_LOGICAL		BIT(11)
#define ICR_PENDING		BIT(12)
#define ICR_LEVEL_ASSERT	BIT(14)
#define ICR_TRIGGER_LEVEL	BIT(15)
#define ICR_SHORTHAND_SHIFT	18
#define ICR_SHORTHAND		(3U << ICR_SHORTHAND_SHIFT)

#define SVR_ENABLED		BIT(8)

#define APIC_BASE_BSP		BIT_ULL(8)
#define APIC_BASE_EXTD		BIT_ULL(10)
#define APIC_BASE_EN		BIT_ULL(11)
#define APIC_BASE_ADDR		GENMASK_ULL(51, 12)
#define APIC_BASE_VALID		(APIC_BASE_ADDR | APIC_BASE_EN | \
				 APIC_BASE_EXTD | APIC_BASE_BSP)

#define X2APIC_MSR_BASE		0x800
#define X2APIC_MSR_LAST		0x8ff

/**
 * struct hv_lapic - one VP's local APIC; a pool page
 * @vp: its VP.
 * @base: IA32_APIC_BASE.
 * @regs: register file, index = xAPIC offset >> 4.
 * @pir: interrupts posted from other contexts, not yet in IRR.
 * @auto_eoi: vectors accepted without an ISR bit (SynIC auto-EOI).
 * @timer: the APIC timer.
 * @period_ns: the periodic timer's period (0 one-shot / deadline).
 * @expires_ns: absolute expiry of the armed one-shot or current period.
 * @tsc_deadline: IA32_TSC_DEADLINE.
 * @nmi_pending: NMIs waiting for injection (at most one is kept).
 * @nmi_posted: NMIs posted from other contexts.
 */
struct hv_lapic {
	struct hv_vp *vp;
	u64 base;
	u32 regs[64];
	unsigned long pir[256 / BITS_PER_LONG];
	unsigned long auto_eoi[256 / BITS_PER_LONG];
	struct hrtimer timer;
	u64 period_ns;
	u64 expires_ns;
	u64 tsc_deadline;
	bool nmi_pending;
	atomic_t nmi_posted;
};

static u32 *reg(struct hv_lapic *a, u32 offset)
{
	return &a->regs[offset >> 4];
}

static bool x2apic_mode(struct hv_lapic *a)
{
	return a->base & APIC_BASE_EXTD;
}

static bool hw_enabled(struct hv_lapic *a)
{
	return a->base & APIC_BASE_EN;
}

static bool sw_enabled(struct hv_lapic *a)
{
	return *reg(a, APIC_SPIV) & SVR_ENABLED;
}

/* IRR, ISR and TMR are eight 32-bit registers 16 bytes apart. */
static void vec_set(struct hv_lapic *a, u32 base, u8 v)
{
	*reg(a, base + (v / 32) * 0x10) |= BIT(v % 32);
}

static void vec_clear(struct hv_lapic *a, u32 base, u8 v)
{
	*reg(a, base + (v / 32) * 0x10) &= ~BIT(v % 32);
}

/* Highest vector set in IRR/ISR/TMR at @base, or -1. */
static int vec_highest(struct hv_lapic *a, u32 base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 w = *reg(a, base + i * 0x10);

		if (w)
			return i * 32 + __fls(w);
	}
	return -1;
}

static u32 ppr(struct hv_lapic *a)
{
	u32 tpr = *reg(a, APIC_TASKPRI) & 0xff;
	int isr = vec_highest(a, APIC_ISR);
	u32 isrv = isr < 0 ? 0 : isr;

	return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr : isrv & 0xf0;
}

static u32 apic_id(struct hv_lapic *a)
{
	return a->vp->index;
}

/* The x2APIC logical id: cluster in 31:16, one bit of 16 in 15:0. */
static u32 x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | BIT(id & 0xf);
}

/* ----- timer ----- */

static u64 timer_divisor(struct hv_lapic *a)
{
	u32 dcr = *reg(a, APIC_TDCR);
	u32 v = (dcr & 3) | ((dcr & 8) >> 1);

	return v == 7 ? 1 : 2ULL << v;
}

static u32 timer_mode(struct hv_lapic *a)
{
	return *reg(a, APIC_LVTT) & LVT_TIMER_MODE;
}

static enum hrtimer_restart hv_lapic_timer_fn(struct hrtimer *t)
{
	struct hv_lapic *a = container_of(t, struct hv_lapic, timer);

	hv_vp_request(a->vp, HV_REQ_LAPIC_TIMER);
	if (a->period_ns) {
		/* From the previous expiry: the period does not drift. */
		hrtimer_forward(t, hrtimer_get_expires(t),
				ns_to_ktime(a->period_ns));
		a->expires_ns = ktime_to_ns(hrtimer_get_expires(t));
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

static void timer_stop(struct hv_lapic *a)
{
	hrtimer_cancel(&a->timer);
	a->period_ns = 0;
	a->expires_ns = 0;
}

static void timer_start_ns(struct hv_lapic *a, u64 delta_ns, bool periodic)
{
	u64 now = ktime_get_ns();

	if (periodic)
		delta_ns = max(delta_ns, HV_LAPIC_MIN_PERIOD_NS);
	a->period_ns = periodic ? delta_ns : 0;
	a->expires_ns = now + delta_ns;
	hrtimer_start(&a->timer, ns_to_ktime(a->expires_ns),
		      HRTIMER_MODE_ABS_HARD);
}

/* TMICT written (or the mode changed): restart the count. */
static void timer_restart(struct hv_lapic *a)
{
	u64 icr = *reg(a, APIC_TMICT);

	timer_stop(a);
	if (timer_mode(a) == LVT_TIMER_DEADLINE || !icr)
		return;
	timer_start_ns(a, icr * timer_divisor(a) * (NSEC_PER_SEC /
		       HV_APIC_FREQUENCY),
		       timer_mode(a) == LVT_TIMER_PERIODIC);
}

static u32 timer_current_count(struct hv_lapic *a)
{
	u64 now, left;

	if (timer_mode(a) == LVT_TIMER_DEADLINE || !hrtimer_active(&a->timer))
		return 0;
	now = ktime_get_ns();
	left = a->expires_ns > now ? a->expires_ns - now : 0;
	return div64_u64(left * HV_APIC_FREQUENCY / NSEC_PER_SEC,
			 timer_divisor(a));
}

static u64 guest_tsc(struct hv_vp *vp)
{
	union hv_reg_value v = {};

	hv_arch->vp_get_reg(vp, HV_X64_REGISTER_TSC, &v);
	return v.reg64;
}

static void timer_set_deadline(struct hv_lapic *a, u64 deadline)
{
	u64 tsc, delta_ns = 0;

	a->tsc_deadline = deadline;
	if (timer_mode(a) != LVT_TIMER_DEADLINE)
		return;
	timer_stop(a);
	if (!deadline)
		return;
	tsc = guest_tsc(a->vp);
	if (deadline > tsc)
		delta_ns = mul_u64_u32_div(deadline - tsc, USEC_PER_SEC,
					   tsc_khz);
	timer_start_ns(a, delta_ns, false);
}

/* ----- acceptance and delivery ----- */

void hv_lapic_post(struct hv_vp *vp, u8 vector)
{
	set_bit(vector, vp->lapic->pir);
	hv_vp_request(vp, HV_REQ_INTERRUPT);
}

void hv_lapic_post_nmi(struct hv_vp *vp)
{
	atomic_inc(&vp->lapic->nmi_posted);
	hv_vp_request(vp, HV_REQ_NMI);
}

static void deliver_one(struct hv_vp *vp, const struct hv_irq *irq)
{
	switch (irq->type) {
	case HV_INTERRUPT_TYPE_FIXED:
	case HV_INTERRUPT_TYPE_LOWEST_PRIORITY:
		if (irq->vector >= 16 && irq->vector <= 255)
			hv_lapic_post(vp, irq->vector);
		break;
	case HV_INTERRUPT_TYPE_NMI:
		hv_lapic_post_nmi(vp);
		break;
	case HV_INTERRUPT_TYPE_INIT:
		hv_vp_request(vp, HV_REQ_INIT);
		break;
	case HV_INTERRUPT_TYPE_SIPI:
		WRITE_ONCE(vp->sipi_vector, irq->vector);
		/* The vector is visible before the request bit. */
		smp_wmb();
		hv_vp_request(vp, HV_REQ_SIPI);
		break;
	}
}

/* Does @vp's APIC accept logical destination @dest? (RCU, racy read) */
static bool logical_match(struct hv_vp *vp, u32 dest, bool from_x2apic)
{
	struct hv_lapic *a = vp->lapic;
	u32 ldr;

	if (READ_ONCE(a->base) & APIC_BASE_EXTD) {
		ldr = x2apic_ldr(apic_id(a));
		if (!from_x2apic)
			return false;
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	}
	ldr = READ_ONCE(*reg(a, APIC_LDR)) >> 24;
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if ((READ_ONCE(*reg(a, APIC_DFR)) >> 28) == 0xf)	/* flat */
		return dest & ldr;
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);	/* cluster */
}

void hv_irq_deliver(struct hv_partition *p, const struct hv_irq *irq)
{
	bool x2 = irq->source ? x2apic_mode(irq->source->lapic) : true;
	u32 bcast = x2 ? HV_APIC_BROADCAST : 0xff;
	struct hv_vp *vp;
	u32 i;

	if (irq->shorthand == 1) {		/* self */
		deliver_one(irq->source, irq);
		return;
	}
	rcu_read_lock();
	if (!irq->shorthand && !irq->logical && irq->dest != bcast) {
		vp = irq->dest < p->max_vp_count ? hv_vp_rcu(p, irq->dest) : NULL;
		if (vp)
			deliver_one(vp, irq);
		goto out;
	}
	for (i = 0; i < p->max_vp_count; i++) {
		vp = hv_vp_rcu(p, i);
		if (!vp)
			continue;
		if (irq->shorthand == 3 && vp == irq->source)
			continue;
		if (!irq->shorthand && irq->logical &&
		    !logical_match(vp, irq->dest, x2))
			continue;
		deliver_one(vp, irq);
		/* Lowest priority: the first VP that accepts it. */
		if (irq->type == HV_INTERRUPT_TYPE_LOWEST_PRIORITY)
			break;
	}
out:
	rcu_read_unlock();
}

hv_status_t hv_call_assert_interrupt(u64 partition_id,
				     const struct hv_interrupt *irq)
{
	struct hv_irq hirq = {
		.type = irq->type,
		.vector = irq->vector,
		.dest = irq->dest,
		.logical = irq->logical,
	};
	hv_status_t status = HV_STATUS_SUCCESS;
	struct hv_partition *p;

	switch (irq->type) {
	case HV_INTERRUPT_TYPE_FIXED:
	case HV_INTERRUPT_TYPE_LOWEST_PRIORITY:
		if (irq->vector < 16 || irq->vector > 255)
			return HV_STATUS_INVALID_PARAMETER;
		break;
	case HV_INTERRUPT_TYPE_SIPI:
		if (irq->vector > 255)
			return HV_STATUS_INVALID_PARAMETER;
		break;
	case HV_INTERRUPT_TYPE_NMI:
	case HV_INTERRUPT_TYPE_INIT:
		if (irq->vector)
			return HV_STATUS_INVALID_PARAMETER;
		break;
	default:
		return HV_STATUS_INVALID_PARAMETER;
	}
	rcu_read_lock();
	p = hv_partition_rcu(partition_id);
	if (!p)
		status = HV_STATUS_INVALID_PARTITION_ID;
	/* Pairs with the release at initialize: the VP table is built. */
	else if (smp_load_acquire(&p->state) != HV_PARTITION_STATE_INITIALIZED)
		status = HV_STATUS_INVALID_PARTITION_STATE;
	else
		hv_irq_deliver(p, &hirq);
	rcu_read_unlock();
	return status;
}

void hv_lapic_sync(struct hv_vp *vp, bool timer_expired)
{
	struct hv_lapic *a = vp->lapic;
	unsigned long w;
	u32 lvt;
	int i, bit;

	for (i = 0; i < ARRAY_SIZE(a->pir); i++) {
		if (!READ_ONCE(a->pir[i]))
			continue;
		w = xchg(&a->pir[i], 0);
		/* A disabled APIC drops fixed interrupts. */
		if (!hw_enabled(a) || !sw_enabled(a))
			continue;
		for_each_set_bit(bit, &w, BITS_PER_LONG)
			vec_set(a, APIC_IRR, i * BITS_PER_LONG + bit);
	}
	if (atomic_xchg(&a->nmi_posted, 0))
		a->nmi_pending = true;
	if (!timer_expired)
		return;
	lvt = *reg(a, APIC_LVTT);
	if (timer_mode(a) == LVT_TIMER_DEADLINE)
		a->tsc_deadline = 0;
	if (!(lvt & LVT_MASKED) && hw_enabled(a) && sw_enabled(a) &&
	    (lvt & LVT_VECTOR) >= 16)
		vec_set(a, APIC_IRR, lvt & LVT_VECTOR);
}

int hv_lapic_pending_vector(struct hv_vp *vp)
{
	struct hv_lapic *a = vp->lapic;
	int v;

	if (!hw_enabled(a))
		return -1;
	v = vec_highest(a, APIC_IRR);
	if (v < 0 || (v & 0xf0) <= (ppr(a) & 0xf0))
		return -1;
	return v;
}

void hv_lapic_ack(struct hv_vp *vp, u8 vector)
{
	struct hv_lapic *a = vp->lapic;

	vec_clear(a, APIC_IRR, vector);
	if (!test_bit(vector, a->auto_eoi))
		vec_set(a, APIC_ISR, vector);
}

bool hv_lapic_nmi_pending(struct hv_vp *vp)
{
	return vp->lapic->nmi_pending;
}

void hv_lapic_nmi_injected(struct hv_vp *vp)
{
	vp->lapic->nmi_pending = false;
}

u8 hv_lapic_get_cr8(struct hv_vp *vp)
{
	return (*reg(vp->lapic, APIC_TASKPRI) >> 4) & 0xf;
}

void hv_lapic_set_cr8(struct hv_vp *vp, u8 cr8)
{
	*reg(vp->lapic, APIC_TASKPRI) = (cr8 & 0xf) << 4;
}

void hv_lapic_set_auto_eoi(struct hv_vp *vp, u8 vector, bool on)
{
	if (on)
		set_bit(vector, vp->lapic->auto_eoi);
	else
		clear_bit(vector, vp->lapic->auto_eoi);
}

/* Diagnostics (dump.c): racy reads of a running VP's vLAPIC. */
void hv_lapic_dump(struct hv_vp *vp, struct seq_file *m)
{
	struct hv_lapic *a = vp->lapic;
	int i;

	seq_printf(m, "  lapic base %#llx svr %#x tpr %#x ppr %#x nmi %d/%d\n  irr",
		   READ_ONCE(a->base), READ_ONCE(*reg(a, APIC_SPIV)),
		   READ_ONCE(*reg(a, APIC_TASKPRI)), ppr(a),
		   READ_ONCE(a->nmi_pending), atomic_read(&a->nmi_posted));
	for (i = 7; i >= 0; i--)
		seq_printf(m, " %08x", READ_ONCE(*reg(a, APIC_IRR + i * 0x10)));
	seq_puts(m, "\n  isr");
	for (i = 7; i >= 0; i--)
		seq_printf(m, " %08x", READ_ONCE(*reg(a, APIC_ISR + i * 0x10)));
	seq_puts(m, "\n  pir");
	for (i = ARRAY_SIZE(a->pir) - 1; i >= 0; i--)
		seq_printf(m, " %016lx", READ_ONCE(a->pir[i]));
	seq_puts(m, "\n  auto_eoi");
	for (i = ARRAY_SIZE(a->auto_eoi) - 1; i >= 0; i--)
		seq_printf(m, " %016lx", READ_ONCE(a->auto_eoi[i]));
	seq_printf(m, "\n  timer lvtt %#x tmict %#x tdcr %#x deadline %llu period_ns %llu expires_in_ns %lld queued %d\n",
		   READ_ONCE(*reg(a, APIC_LVTT)), READ_ONCE(*reg(a, APIC_TMICT)),
		   READ_ONCE(*reg(a, APIC_TDCR)), READ_ONCE(a->tsc_deadline),
		   READ_ONCE(a->period_ns),
		   (s64)(READ_ONCE(a->expires_ns) - ktime_get_ns()),
		   hrtimer_is_queued(&a->timer));
}

static void eoi(struct hv_lapic *a)
{
	int v = vec_highest(a, APIC_ISR);

	if (v >= 0)
		vec_clear(a, APIC_ISR, v);
}

/* An ICR write: the IPI goes out at once (delivery status stays idle). */
static void send_ipi(struct hv_lapic *a, u32 low, u32 dest)
{
	struct hv_irq irq = {
		.vector = low & ICR_VECTOR,
		.logical = low & ICR_LOGICAL,
		.dest = dest,
		.shorthand = (low & ICR_SHORTHAND) >> ICR_SHORTHAND_SHIFT,
		.source = a->vp,
	};

	switch ((low & ICR_DELIVERY) >> 8) {
	case 0:
		irq.type = HV_INTERRUPT_TYPE_FIXED;
		break;
	case 1:
		irq.type = HV_INTERRUPT_TYPE_LOWEST_PRIORITY;
		break;
	case 4:
		irq.type = HV_INTERRUPT_TYPE_NMI;
		break;
	case 5:
		/* INIT level de-assert is a no-op on modern APICs. */
		if ((low & ICR_TRIGGER_LEVEL) && !(low & ICR_LEVEL_ASSERT))
			return;
		irq.type = HV_INTERRUPT_TYPE_INIT;
		break;
	case 6:
		irq.type = HV_INTERRUPT_TYPE_SIPI;
		break;
	default:
		return;		/* SMI, remote read, ExtINT: ignored */
	}
	if (irq.type == HV_INTERRUPT_TYPE_FIXED && irq.vector < 16) {
		*reg(a, APIC_ESR) |= APIC_ESR_SENDILL;
		return;
	}
	hv_irq_deliver(a->vp->partition, &irq);
}

/* ----- register interface ----- */

static bool lvt_offset(u32 offset)
{
	return offset == APIC_LVTT || offset == APIC_LVTTHMR ||
	       offset == APIC_LVTPC || offset == APIC_LVT0 ||
	       offset == APIC_LVT1 || offset == APIC_LVTERR;
}

static bool read_reg(struct hv_lapic *a, u32 offset, u32 *value)
{
	switch (offset) {
	case APIC_ID:
		*value = x2apic_mode(a) ? apic_id(a) : apic_id(a) << 24;
		return true;
	case APIC_LDR:
		*value = x2apic_mode(a) ? x2apic_ldr(apic_id(a)) :
					  *reg(a, APIC_LDR);
		return true;
	case APIC_DFR:
		if (x2apic_mode(a))
			return false;
		*value = *reg(a, APIC_DFR);
		return true;
	case APIC_PROCPRI:
		*value = ppr(a);
		return true;
	case APIC_TMCCT:
		*value = timer_current_count(a);
		return true;
	case APIC_ARBPRI:
		if (x2apic_mode(a))
			return false;
		*value = 0;
		return true;
	case APIC_ICR2:
		if (x2apic_mode(a))
			return false;
		*value = *reg(a, APIC_ICR2);
		return true;
	case APIC_LVR: case APIC_TASKPRI: case APIC_SPIV: case APIC_ESR:
	case APIC_ICR: case APIC_TMICT: case APIC_TDCR:
		*value = *reg(a, offset);
		return true;
	default:
		if (lvt_offset(offset) ||
		    (offset >= APIC_ISR && offset < APIC_ISR + 0x80) ||
		    (offset >= APIC_TMR && offset < APIC_TMR + 0x80) ||
		    (offset >= APIC_IRR && offset < APIC_IRR + 0x80)) {
			*value = *reg(a, offset);
			return true;
		}
		return false;
	}
}

/* Writes; false means the access faults (x2APIC) or is ignored (xAPIC). */
static bool write_reg(struct hv_lapic *a, u32 offset, u32 value)
{
	bool x2 = x2apic_mode(a);
	u32 old;

	switch (offset) {
	case APIC_TASKPRI:
		if (x2 && (value & ~0xffU))
			return false;
		*reg(a, APIC_TASKPRI) = value & 0xff;
		return true;
	case APIC_EOI:
		if (x2 && value)
			return false;
		eoi(a);
		return true;
	case APIC_LDR:
		if (x2)
			return false;
		*reg(a, APIC_LDR) = value & 0xff000000;
		return true;
	case APIC_DFR:
		if (x2)
			return false;
		*reg(a, APIC_DFR) = value | 0x0fffffff;
		return true;
	case APIC_SPIV:
		if (x2 && (value & ~0x13ffU))
			return false;
		*reg(a, APIC_SPIV) = value & 0x13ff;
		if (!(value & SVR_ENABLED)) {
			int i;

			/* Software disable masks every LVT entry. */
			for (i = 0; i < HV_LAPIC_MAX_LVT; i++)
				*reg(a, APIC_LVTT + i * 0x10) |= LVT_MASKED;
		}
		return true;
	case APIC_ESR:
		if (x2 && value)
			return false;
		*reg(a, APIC_ESR) = 0;
		return true;
	case APIC_ICR:
		*reg(a, APIC_ICR) = value & ~ICR_PENDING;
		if (!x2)
			send_ipi(a, value, *reg(a, APIC_ICR2) >> 24);
		return true;
	case APIC_ICR2:
		if (x2)
			return false;
		*reg(a, APIC_ICR2) = value & 0xff000000;
		return true;
	case APIC_LVTT:
		old = timer_mode(a);
		if (!sw_enabled(a))
			value |= LVT_MASKED;
		value &= LVT_VECTOR | LVT_MASKED | LVT_TIMER_MODE;
		if ((value & LVT_TIMER_MODE) == LVT_TIMER_MODE)
			value &= ~LVT_TIMER_MODE;	/* reserved mode */
		*reg(a, APIC_LVTT) = value;
		if (old != timer_mode(a)) {
			*reg(a, APIC_TMICT) = 0;
			a->tsc_deadline = 0;
			timer_stop(a);
		}
		return true;
	case APIC_LVTTHMR: case APIC_LVTPC: case APIC_LVT0: case APIC_LVT1:
	case APIC_LVTERR:
		if (!sw_enabled(a))
			value |= LVT_MASKED;
		*reg(a, offset) = value & (LVT_VECTOR | LVT_DELIVERY |
					   LVT_MASKED | BIT(13) | BIT(15));
		return true;
	case APIC_TMICT:
		if (timer_mode(a) == LVT_TIMER_DEADLINE)
			return true;
		*reg(a, APIC_TMICT) = value;
		timer_restart(a);
		return true;
	case APIC_TDCR:
		if (x2 && (value & ~0xbU))
			return false;
		*reg(a, APIC_TDCR) = value & 0xb;
		return true;
	case APIC_SELF_IPI:
		if (!x2 || value & ~0xffU)
			return false;
		if (value >= 16)
			hv_lapic_post(a->vp, value);
		return true;
	case APIC_ID: case APIC_LVR: case APIC_PROCPRI: case APIC_TMCCT:
		return !x2;	/* read-only: xAPIC ignores, x2APIC faults */
	default:
		return false;
	}
}

enum hv_msr_result hv_lapic_msr_read(struct hv_vp *vp, u32 msr, u64 *value)
{
	struct hv_lapic *a = vp->lapic;
	u32 v;

	if (msr == MSR_IA32_TSC_DEADLINE) {
		*value = a->tsc_deadline;
		return HV_MSR_DONE;
	}
	if (msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_LAST)
		return HV_MSR_ROOT;
	if (!x2apic_mode(a) || !hw_enabled(a))
		return HV_MSR_GP;
	if (msr == X2APIC_MSR_BASE + (APIC_ICR >> 4)) {
		*value = *reg(a, APIC_ICR) | (u64)*reg(a, APIC_ICR2) << 32;
		return HV_MSR_DONE;
	}
	if (!read_reg(a, (msr - X2APIC_MSR_BASE) << 4, &v))
		return HV_MSR_GP;
	*value = v;
	return HV_MSR_DONE;
}

enum hv_msr_result hv_lapic_msr_write(struct hv_vp *vp, u32 msr, u64 value)
{
	struct hv_lapic *a = vp->lapic;

	if (msr == MSR_IA32_TSC_DEADLINE) {
		timer_set_deadline(a, value);
		return HV_MSR_DONE;
	}
	if (msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_LAST)
		return HV_MSR_ROOT;
	if (!x2apic_mode(a) || !hw_enabled(a))
		return HV_MSR_GP;
	if (msr == X2APIC_MSR_BASE + (APIC_ICR >> 4)) {
		/* Vector, mode, level, trigger, shorthand, destination. */
		if (value & ~(GENMASK_ULL(63, 32) | ICR_SHORTHAND | 0xcfffU))
			return HV_MSR_GP;
		*reg(a, APIC_ICR2) = value >> 32;
		*reg(a, APIC_ICR) = (u32)value;
		send_ipi(a, (u32)value, value >> 32);
		return HV_MSR_DONE;
	}
	if (upper_32_bits(value))
		return HV_MSR_GP;
	return write_reg(a, (msr - X2APIC_MSR_BASE) << 4, value) ?
		HV_MSR_DONE : HV_MSR_GP;
}

/*
 * Hyper-V's synthetic APIC MSRs (HV_X64_MSR_EOI, _ICR, _TPR): the EOI,
 * ICR (ICR2 in bits 63:32 in xAPIC mode, the x2APIC layout otherwise)
 * and TPR registers, in either APIC mode; #GP while the APIC is off.
 */
enum hv_msr_result hv_lapic_hv_msr_read(struct hv_vp *vp, u32 msr, u64 *value)
{
	struct hv_lapic *a = vp->lapic;

	if (!hw_enabled(a) || msr == HV_X64_MSR_EOI)
		return HV_MSR_GP;
	if (msr == HV_X64_MSR_TPR)
		*value = *reg(a, APIC_TASKPRI);
	else
		*value = (u64)*reg(a, APIC_ICR2) << 32 | *reg(a, APIC_ICR);
	return HV_MSR_DONE;
}

enum hv_msr_result hv_lapic_hv_msr_write(struct hv_vp *vp, u32 msr, u64 value)
{
	struct hv_lapic *a = vp->lapic;

	if (!hw_enabled(a))
		return HV_MSR_GP;
	if (x2apic_mode(a))
		return hv_lapic_msr_write(vp, X2APIC_MSR_BASE +
					  ((msr == HV_X64_MSR_EOI ? APIC_EOI :
					    msr == HV_X64_MSR_TPR ?
					    APIC_TASKPRI : APIC_ICR) >> 4),
					  value);
	switch (msr) {
	case HV_X64_MSR_EOI:
		return write_reg(a, APIC_EOI, 0) ? HV_MSR_DONE : HV_MSR_GP;
	case HV_X64_MSR_TPR:
		if (value > 0xff)
			return HV_MSR_GP;
		return write_reg(a, APIC_TASKPRI, value) ?
			HV_MSR_DONE : HV_MSR_GP;
	default:
		if (value & ~(GENMASK_ULL(63, 56) | ICR_SHORTHAND | 0xcfffU))
			return HV_MSR_GP;
		write_reg(a, APIC_ICR2, value >> 32);
		return write_reg(a, APIC_ICR, (u32)value) ?
			HV_MSR_DONE : HV_MSR_GP;
	}
}

bool hv_lapic_mmio_hit(struct hv_vp *vp, u64 gpa)
{
	struct hv_lapic *a = vp->lapic;

	return hw_enabled(a) && !x2apic_mode(a) &&
	       (gpa & PAGE_MASK) == (a->base & APIC_BASE_ADDR);
}

bool hv_lapic_mmio_read(struct hv_vp *vp, u32 offset, u32 *value)
{
	if (offset & 0xf || offset >= PAGE_SIZE)
		return false;
	if (offset >= 0x400 || !read_reg(vp->lapic, offset, value))
		*value = 0;
	return true;
}

bool hv_lapic_mmio_write(struct hv_vp *vp, u32 offset, u32 value)
{
	if (offset & 0xf || offset >= PAGE_SIZE)
		return false;
	if (offset < 0x400)
		write_reg(vp->lapic, offset, value);
	return true;
}

u64 hv_lapic_get_base(struct hv_vp *vp)
{
	return vp->lapic->base;
}

bool hv_lapic_set_base(struct hv_vp *vp, u64 value, bool guest)
{
	struct hv_lapic *a = vp->lapic;
	u64 old = a->base;

	if (value & ~APIC_BASE_VALID)
		return false;
	/* x2APIC needs EN; a guest leaves x2APIC only through disabled. */
	if ((value & APIC_BASE_EXTD) && !(value & APIC_BASE_EN))
		return false;
	if (guest && (old & APIC_BASE_EXTD) && (value & APIC_BASE_EN) &&
	    !(value & APIC_BASE_EXTD))
		return false;
	if ((value & APIC_BASE_EXTD) && !(old & APIC_BASE_EXTD)) {
		/* Entering x2APIC: the logical id becomes the derived one. */
		*reg(a, APIC_LDR) = x2apic_ldr(apic_id(a));
	}
	WRITE_ONCE(a->base, value);
	if (!(value & APIC_BASE_EN)) {
		timer_stop(a);
		hv_lapic_reset(vp, true);
		a->base = value;
	}
	return true;
}

void hv_lapic_reset(struct hv_vp *vp, bool init)
{
	struct hv_lapic *a = vp->lapic;
	u64 base = a->base;
	int i;

	timer_stop(a);
	memset(a->regs, 0, sizeof(a->regs));
	bitmap_zero(a->pir, 256);
	*reg(a, APIC_LVR) = HV_LAPIC_VERSION | ((HV_LAPIC_MAX_LVT - 1) << 16);
	*reg(a, APIC_DFR) = 0xffffffff;
	*reg(a, APIC_SPIV) = 0xff;
	for (i = 0; i < HV_LAPIC_MAX_LVT; i++)
		*reg(a, APIC_LVTT + i * 0x10) = LVT_MASKED;
	a->tsc_deadline = 0;
	a->nmi_pending = false;
	atomic_set(&a->nmi_posted, 0);
	/* INIT keeps the base; RESET makes the APIC enabled at its default. */
	a->base = init ? base : APIC_DEFAULT_PHYS_BASE | APIC_BASE_EN |
				(vp->index ? 0 : APIC_BASE_BSP);
}

hv_status_t hv_lapic_create(struct hv_vp *vp)
{
	struct hv_lapic *a;

	BUILD_BUG_ON(sizeof(*a) > PAGE_SIZE);
	a = hv_pool_alloc(&vp->partition->pool);
	if (!a)
		return HV_STATUS_INSUFFICIENT_MEMORY;
	memset(a, 0, sizeof(*a));
	a->vp = vp;
	hrtimer_init(&a->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	a->timer.function = hv_lapic_timer_fn;
	vp->lapic = a;
	hv_lapic_reset(vp, false);
	return HV_STATUS_SUCCESS;
}

void hv_lapic_destroy(struct hv_vp *vp)
{
	struct hv_lapic *a = vp->lapic;

	if (!a)
		return;
	hrtimer_cancel(&a->timer);
	hv_pool_free(&vp->partition->pool, a);
	vp->lapic = NULL;
}
