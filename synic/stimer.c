// SPDX-License-Identifier: GPL-2.0
/*
 * Synthetic timers: STIMER0-3 of each VP (TLFS "Timers").
 *
 * A timer counts in reference-counter units (100 ns, hv_time_ref_count()).
 * One-shot: COUNT is the absolute reference time of the expiry (one in
 * the past expires at once), and the enable bit clears when it has been
 * signalled. Periodic: COUNT is the period; each expiry is due one
 * period after the previous one was due, not after it was signalled, so
 * the periods do not drift. A VP that falls behind by whole periods
 * skips them (every timer is lazy, as in KVM; the lazy bit is kept but
 * the hypervisor never shortens periods to catch up). Periods shorter
 * than HV_STIMER_MIN_PERIOD run at that minimum so that a guest cannot
 * keep the host busy with timer interrupts. Writing COUNT restarts the
 * timer; a COUNT of 0 disables it; with auto-enable, a non-zero COUNT
 * enables it. Writing CONFIG restarts it too.
 *
 * Signalling: direct mode posts APIC vector 11:4 to the vLAPIC (an
 * illegal vector below 16 is lost, as on an APIC); message mode posts
 * HVMSG_TIMER_EXPIRED {index, expiration time, delivery time} into SINT
 * 19:16's slot. When the slot is busy, the SynIC or its message page is
 * disabled or the SINT masked, the message waits (@msg_pending) and the
 * timer is not re-armed; hv_stimer_retry() delivers it after the guest's
 * EOM or SynIC register writes.
 *
 * The MSRs need the privilege AccessSyntheticTimerRegs
 * (HV_MSR_SYNTIMER_AVAILABLE), direct mode the feature
 * HV_STIMER_DIRECT_MODE_AVAILABLE (CPUID 0x40000003 EDX): #GP without.
 * Reserved CONFIG bits are #GP too.
 *
 * Contexts: the hrtimer callback (hardirq) only marks the timer and
 * raises HV_REQ_STIMER; everything else runs on the VP's own thread
 * (MSR writes, hv_vp_prepare_entry()) or with the VP stopped.
 */
#include <linux/bitfield.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>

#include "../hvcore/lapic.h"
#include "synic.h"

#define STIMER_ENABLE		BIT_ULL(0)
#define STIMER_PERIODIC		BIT_ULL(1)
#define STIMER_LAZY		BIT_ULL(2)
#define STIMER_AUTO_ENABLE	BIT_ULL(3)
#define STIMER_APIC_VECTOR	GENMASK_ULL(11, 4)
#define STIMER_DIRECT_MODE	BIT_ULL(12)
#define STIMER_SINTX		GENMASK_ULL(19, 16)
#define STIMER_CONFIG_VALID	(STIMER_ENABLE | STIMER_PERIODIC | \
				 STIMER_LAZY | STIMER_AUTO_ENABLE | \
				 STIMER_APIC_VECTOR | STIMER_DIRECT_MODE | \
				 STIMER_SINTX)

/* The shortest period: 100 us (as the vLAPIC timer), in 100 ns units. */
#define HV_STIMER_MIN_PERIOD	1000ULL

/* Have hv_stimer_process() look at @t (any context). */
static void stimer_mark(struct hv_stimer *t)
{
	set_bit(t->index, &t->vp->synic->stimer_pending);
	hv_vp_request(t->vp, HV_REQ_STIMER);
}

static enum hrtimer_restart stimer_expired(struct hrtimer *timer)
{
	stimer_mark(container_of(timer, struct hv_stimer, timer));
	return HRTIMER_NORESTART;
}

/* Stop @t and forget its expiry and any pending message. */
static void stimer_stop(struct hv_stimer *t)
{
	hrtimer_cancel(&t->timer);
	clear_bit(t->index, &t->vp->synic->stimer_pending);
	t->exp_time = 0;
	t->msg_pending = false;
}

static u64 stimer_period(struct hv_stimer *t)
{
	return max(t->count, HV_STIMER_MIN_PERIOD);
}

/*
 * Arm the hrtimer for @t->exp_time. The host deadline is taken after the
 * reference time it is computed from, so it is never early: an expiry is
 * never signalled before it is due (TLFS).
 */
static void stimer_arm(struct hv_stimer *t)
{
	u64 now = hv_time_ref_count(t->vp);
	ktime_t deadline = ktime_get();
	u64 delta;

	if (now >= t->exp_time) {
		stimer_mark(t);
		return;
	}
	delta = t->exp_time - now;
	/* A COUNT centuries away saturates instead of wrapping. */
	if (delta >= KTIME_MAX / 100)
		deadline = KTIME_MAX;
	else
		deadline = ktime_add_safe(deadline, ns_to_ktime(delta * 100));
	hrtimer_start(&t->timer, deadline, HRTIMER_MODE_ABS_HARD);
}

/* Signal the expiry due at @t->exp_time; false when it must wait. */
static bool stimer_signal(struct hv_stimer *t)
{
	struct hv_timer_message_payload *payload;
	struct hv_message msg = {};
	u32 vector;

	if (t->config & STIMER_DIRECT_MODE) {
		vector = FIELD_GET(STIMER_APIC_VECTOR, t->config);
		if (vector >= HV_SYNIC_FIRST_VALID_VECTOR)
			hv_lapic_post(t->vp, vector);
		return true;
	}
	payload = (struct hv_timer_message_payload *)msg.u.payload;
	msg.header.message_type = HVMSG_TIMER_EXPIRED;
	msg.header.payload_size = sizeof(*payload);
	payload->timer_index = t->index;
	payload->expiration_time = t->exp_time;
	payload->delivery_time = hv_time_ref_count(t->vp);
	return hv_synic_post_message(t->vp, FIELD_GET(STIMER_SINTX, t->config),
				     &msg) == HV_STATUS_SUCCESS;
}

/*
 * Bring @t up to date: compute the first expiry of a timer just
 * (re)started, signal one that is due, arm the next.
 */
static void stimer_run(struct hv_stimer *t)
{
	u64 now = hv_time_ref_count(t->vp);
	u64 period, missed;

	if (!(t->config & STIMER_ENABLE) || !t->count) {
		stimer_stop(t);
		return;
	}
	if (!t->exp_time)
		t->exp_time = t->config & STIMER_PERIODIC ?
			      now + stimer_period(t) : t->count;
	if (now < t->exp_time) {
		stimer_arm(t);
		return;
	}
	t->msg_pending = !stimer_signal(t);
	if (t->msg_pending)
		return;
	if (!(t->config & STIMER_PERIODIC)) {
		t->config &= ~STIMER_ENABLE;
		t->exp_time = 0;
		return;
	}
	/*
	 * The next period is due one period after this one was, or after
	 * the last period boundary that already passed (those are skipped).
	 */
	period = stimer_period(t);
	div64_u64_rem(now - t->exp_time, period, &missed);
	t->exp_time = now + period - missed;
	stimer_arm(t);
}

void hv_stimer_process(struct hv_vp *vp)
{
	struct hv_synic *s = vp->synic;
	unsigned long pending = xchg(&s->stimer_pending, 0);
	unsigned int i;

	for_each_set_bit(i, &pending, HV_SYNIC_STIMER_COUNT)
		stimer_run(&s->stimer[i]);
}

void hv_stimer_retry(struct hv_vp *vp)
{
	struct hv_synic *s = vp->synic;
	unsigned int i;

	for (i = 0; i < HV_SYNIC_STIMER_COUNT; i++)
		if (s->stimer[i].msg_pending)
			stimer_run(&s->stimer[i]);
}

static struct hv_stimer *stimer_of(struct hv_vp *vp, u32 msr)
{
	return &vp->synic->stimer[(msr - HV_STIMER_MSR_FIRST) / 2];
}

static bool stimer_is_config(u32 msr)
{
	return !((msr - HV_STIMER_MSR_FIRST) & 1);
}

enum hv_msr_result hv_stimer_msr_read(struct hv_vp *vp, u32 msr, u64 *value)
{
	struct hv_stimer *t = stimer_of(vp, msr);

	if (!hv_vp_privileged(vp, HV_MSR_SYNTIMER_AVAILABLE))
		return HV_MSR_GP;
	*value = stimer_is_config(msr) ? t->config : t->count;
	return HV_MSR_DONE;
}

enum hv_msr_result hv_stimer_msr_write(struct hv_vp *vp, u32 msr, u64 value)
{
	struct hv_stimer *t = stimer_of(vp, msr);

	if (!hv_vp_privileged(vp, HV_MSR_SYNTIMER_AVAILABLE))
		return HV_MSR_GP;
	if (stimer_is_config(msr)) {
		if (value & ~STIMER_CONFIG_VALID)
			return HV_MSR_GP;
		/* Direct mode only when CPUID 0x40000003 EDX offers it. */
		if ((value & STIMER_DIRECT_MODE) &&
		    !(vp->partition->hv.features &
		      HV_STIMER_DIRECT_MODE_AVAILABLE))
			return HV_MSR_GP;
		stimer_stop(t);
		t->config = value;
	} else {
		stimer_stop(t);
		t->count = value;
		if (!value)
			t->config &= ~STIMER_ENABLE;
		else if (t->config & STIMER_AUTO_ENABLE)
			t->config |= STIMER_ENABLE;
	}
	if (t->config & STIMER_ENABLE)
		stimer_run(t);
	return HV_MSR_DONE;
}

void hv_stimer_init(struct hv_vp *vp)
{
	struct hv_stimer *t;
	unsigned int i;

	for (i = 0; i < HV_SYNIC_STIMER_COUNT; i++) {
		t = &vp->synic->stimer[i];
		t->vp = vp;
		t->index = i;
		hrtimer_init(&t->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
		t->timer.function = stimer_expired;
	}
}

void hv_stimer_reset(struct hv_vp *vp)
{
	struct hv_stimer *t;
	unsigned int i;

	for (i = 0; i < HV_SYNIC_STIMER_COUNT; i++) {
		t = &vp->synic->stimer[i];
		stimer_stop(t);
		t->config = 0;
		t->count = 0;
	}
}
