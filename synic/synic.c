// SPDX-License-Identifier: GPL-2.0
/*
 * SynIC: the per-VP synthetic interrupt controller (TLFS "Inter-Partition
 * Communication"): SCONTROL, SVERSION, SIEFP, SIMP, EOM and SINT0-15,
 * message slots and event flags in guest pages, SINT interrupts through
 * the vLAPIC (auto-EOI included).
 *
 * The message and event flags pages are guest RAM that the guest names
 * in SIMP and SIEFP, as with KVM, not overlay pages of the hypervisor as
 * on Hyper-V: the GPA must be RAM the guest may write (else #GP); the
 * page is zeroed whenever it is enabled or moved, which is what a fresh
 * overlay would show (Microsoft's own emulator, openvmm, does the same);
 * and it is looked up again at every delivery, so a page the root
 * unmapped later only stops delivery.
 *
 * The MSRs exist only with the partition privilege AccessSynicRegs
 * (HV_MSR_SYNIC_AVAILABLE in CPUID 0x40000003 EAX): #GP otherwise.
 *
 * Reset state (VP creation and INIT): SCONTROL enabled (as openvmm;
 * guests enable it themselves anyway), both pages disabled, every SINT
 * masked with vector 0.
 *
 * Delivery into a slot follows the TLFS. A sender that finds the slot
 * busy sets the slot's message-pending flag; the guest that empties a
 * slot writes message type NONE, then reads the flag and writes EOM if
 * it is set. The two sides each write, then (after a full barrier) read
 * the other's field, so one of them always sees the other: no EOM is
 * lost. The EOM (and a SCONTROL, SIMP or SINT write, which can make
 * delivery possible again) makes the VP retry in VP context
 * (HV_REQ_SYNIC): timer messages in stimer.c, other senders through
 * hv_port_sint_retry(). A masked SINT takes no messages and no events;
 * a SINT in polling mode (bit 18) takes both without an interrupt.
 *
 * Locking (docs/locking.md): hv_synic.lock, a leaf spinlock, covers the
 * registers and the writes into the guest pages; the registers change
 * only on the VP's own thread, which therefore reads them without it.
 */
#include <linux/bitops.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "../hvcore/lapic.h"
#include "synic.h"

#define HV_SYNIC_MSR_SCONTROL	0x40000080
#define HV_SYNIC_MSR_SVERSION	0x40000081
#define HV_SYNIC_MSR_SIEFP	0x40000082
#define HV_SYNIC_MSR_SIMP	0x40000083
#define HV_SYNIC_MSR_EOM	0x40000084
#define HV_SYNIC_MSR_SINT0	0x40000090
#define HV_SYNIC_MSR_SINT15	0x4000009f

/* SINT bit 18: unmasked, but no interrupt is generated (TLFS 5.0c). */
#define HV_SINT_POLLING		BIT_ULL(18)
#define HV_SINT_VALID		(HV_SYNIC_SINT_VECTOR_MASK | \
				 HV_SYNIC_SINT_MASKED | \
				 HV_SYNIC_SINT_AUTO_EOI | HV_SINT_POLLING)
#define HV_SYNIC_PAGE_ENABLE	BIT_ULL(0)
#define HV_SYNIC_PAGE_VALID	(GENMASK_ULL(63, 12) | HV_SYNIC_PAGE_ENABLE)

/* Each SINT's share of the event flags page: 2048 bits. */
#define HV_EVENT_FLAGS_BYTES	(HV_EVENT_FLAGS_COUNT / 8)

/* Where the guest-visible header fields sit in a message slot. */
#define HV_MSG_TYPE_OFF		offsetof(struct hv_message_header, message_type)
#define HV_MSG_FLAGS_OFF	offsetof(struct hv_message_header, message_flags)
#define HV_MSG_HEADER_SIZE	sizeof(struct hv_message_header)
#define HV_MSG_PENDING		BIT(0)

/* The vector a SINT value interrupts with, or -1 (masked, polling). */
static int hv_sint_vector(u64 sint)
{
	if (sint & (HV_SYNIC_SINT_MASKED | HV_SINT_POLLING))
		return -1;
	return sint & HV_SYNIC_SINT_VECTOR_MASK;
}

/*
 * Keep the vLAPIC's auto-EOI bit for @vector in step with the SINTs:
 * set while any unmasked SINT interrupts with it and asks for auto-EOI.
 * Several SINTs may share a vector. Lock held.
 */
static void hv_synic_update_auto_eoi(struct hv_synic *s, int vector)
{
	bool on = false;
	int i;

	if (vector < HV_SYNIC_FIRST_VALID_VECTOR)
		return;
	for (i = 0; i < HV_SYNIC_SINT_COUNT; i++)
		if (hv_sint_vector(s->sint[i]) == vector &&
		    (s->sint[i] & HV_SYNIC_SINT_AUTO_EOI))
			on = true;
	hv_lapic_set_auto_eoi(s->vp, vector, on);
}

/* Interrupt for SINT @sint, unless it polls. Lock held. */
static void hv_synic_raise(struct hv_synic *s, u8 sint)
{
	int vector = hv_sint_vector(s->sint[sint]);

	/* SINT writes keep unmasked vectors >= 16. */
	if (vector >= HV_SYNIC_FIRST_VALID_VECTOR)
		hv_lapic_post(s->vp, vector);
}

/*
 * The kernel address of the page register @reg names, when the SynIC
 * and the page are enabled and it is still writable guest RAM; NULL
 * otherwise. Lock held.
 */
static u8 *hv_synic_page(struct hv_synic *s, u64 reg)
{
	if (!(s->scontrol & HV_SYNIC_CONTROL_ENABLE) ||
	    !(reg & HV_SYNIC_PAGE_ENABLE))
		return NULL;
	return hv_gpa_page(s->vp->partition, reg >> PAGE_SHIFT, true);
}

/*
 * Is the slot free? If not, set its pending flag, then look again (the
 * guest may have emptied it meanwhile): see the top of the file.
 */
static bool hv_synic_slot_free(struct hv_synic *s, u8 sint, u8 *slot)
{
	u32 *type = (u32 *)(slot + HV_MSG_TYPE_OFF);
	u8 *flags = slot + HV_MSG_FLAGS_OFF;

	if (READ_ONCE(*type) == HVMSG_NONE)
		return true;
	/*
	 * The sender counts as refused before the guest can see the flag:
	 * the EOM the flag brings must find it (a refusal recorded after
	 * that EOM was handled would wait for an EOM that never comes).
	 * If the slot turns out free after all, the retry is spurious.
	 */
	set_bit(sint, &s->refused);
	/* The refusal is visible before the flag. */
	smp_mb__after_atomic();
	WRITE_ONCE(*flags, READ_ONCE(*flags) | HV_MSG_PENDING);
	/* The flag is visible before the type is read again. */
	smp_mb();
	return READ_ONCE(*type) == HVMSG_NONE;
}

/*
 * Write @msg into a free slot: the header, @size bytes of payload and
 * zeroes after them (nothing of the caller's buffer beyond its payload,
 * nor of an older message, stays visible), the type last.
 */
static void hv_synic_slot_fill(u8 *slot, const struct hv_message *msg,
			       u32 size, bool more)
{
	const u8 *src = (const u8 *)msg;

	memcpy(slot + sizeof(u32), src + sizeof(u32),
	       HV_MSG_HEADER_SIZE - sizeof(u32));
	slot[HV_MSG_FLAGS_OFF] = more ? HV_MSG_PENDING : 0;
	memcpy(slot + HV_MSG_HEADER_SIZE, src + HV_MSG_HEADER_SIZE, size);
	memset(slot + HV_MSG_HEADER_SIZE + size, 0,
	       HV_MESSAGE_PAYLOAD_BYTE_COUNT - size);
	/* The guest polls the type: the rest must be there before it. */
	smp_wmb();
	WRITE_ONCE(*(u32 *)(slot + HV_MSG_TYPE_OFF), msg->header.message_type);
}

hv_status_t hv_synic_post_message(struct hv_vp *vp, u8 sint,
				  const struct hv_message *msg)
{
	struct hv_synic *s = vp->synic;
	u32 size = msg->header.payload_size;
	hv_status_t status = HV_STATUS_SUCCESS;
	unsigned long irqflags;
	u8 *page;

	if (sint >= HV_SYNIC_SINT_COUNT ||
	    msg->header.message_type == HVMSG_NONE ||
	    size > HV_MESSAGE_PAYLOAD_BYTE_COUNT)
		return HV_STATUS_INVALID_PARAMETER;

	spin_lock_irqsave(&s->lock, irqflags);
	page = hv_synic_page(s, s->simp);
	if (!page || (s->sint[sint] & HV_SYNIC_SINT_MASKED)) {
		status = HV_STATUS_INVALID_VP_STATE;
	} else if (!hv_synic_slot_free(s, sint,
				       page + sint * HV_MESSAGE_SIZE)) {
		status = HV_STATUS_INSUFFICIENT_BUFFERS;
	} else {
		/*
		 * Senders refused earlier wait for a retry that comes after
		 * the next EOM: make the guest write one.
		 */
		hv_synic_slot_fill(page + sint * HV_MESSAGE_SIZE, msg, size,
				   test_bit(sint, &s->refused));
		hv_synic_raise(s, sint);
	}
	if (status)
		set_bit(sint, &s->refused);
	spin_unlock_irqrestore(&s->lock, irqflags);
	return status;
}

hv_status_t hv_synic_signal_event(struct hv_vp *vp, u8 sint, u16 flag)
{
	struct hv_synic *s = vp->synic;
	hv_status_t status = HV_STATUS_SUCCESS;
	unsigned long irqflags;
	u8 *page;

	if (sint >= HV_SYNIC_SINT_COUNT || flag >= HV_EVENT_FLAGS_COUNT)
		return HV_STATUS_INVALID_PARAMETER;

	spin_lock_irqsave(&s->lock, irqflags);
	page = hv_synic_page(s, s->siefp);
	if (!page || (s->sint[sint] & HV_SYNIC_SINT_MASKED)) {
		status = HV_STATUS_INVALID_VP_STATE;
	} else if (!test_and_set_bit(flag, (unsigned long *)
				     (page + sint * HV_EVENT_FLAGS_BYTES))) {
		/* Atomic: the guest clears flags while we set them. */
		hv_synic_raise(s, sint);
	}
	spin_unlock_irqrestore(&s->lock, irqflags);
	return status;
}

/* Diagnostics (hvcore/dump.c): the SynIC's state, racy reads. */
void hv_synic_dump(struct hv_vp *vp, struct seq_file *m)
{
	struct hv_synic *s = vp->synic;
	unsigned int i;

	seq_printf(m, "  synic scontrol %#llx simp %#llx siefp %#llx refused %#lx stimer_pending %#lx\n  sint",
		   READ_ONCE(s->scontrol), READ_ONCE(s->simp),
		   READ_ONCE(s->siefp), READ_ONCE(s->refused),
		   READ_ONCE(s->stimer_pending));
	for (i = 0; i < HV_SYNIC_SINT_COUNT; i++)
		seq_printf(m, " %llx", READ_ONCE(s->sint[i]));
	seq_putc(m, '\n');
}

/* The guest may have made delivery possible: retry in VP context. */
static void hv_synic_kick_retry(struct hv_vp *vp)
{
	hv_vp_request(vp, HV_REQ_SYNIC);
}

void hv_synic_process(struct hv_vp *vp)
{
	struct hv_synic *s = vp->synic;
	unsigned long refused = xchg(&s->refused, 0);
	unsigned int sint;

	hv_stimer_retry(vp);
	for_each_set_bit(sint, &refused, HV_SYNIC_SINT_COUNT)
		hv_port_sint_retry(vp, sint);
}

/*
 * SIMP or SIEFP: reserved bits 11:1 and an enabled page that is not
 * guest RAM the guest may write are #GP.
 */
static enum hv_msr_result hv_synic_set_page(struct hv_synic *s, u64 *reg,
					    u64 value)
{
	unsigned long irqflags;
	void *page = NULL;

	if (value & ~HV_SYNIC_PAGE_VALID)
		return HV_MSR_GP;
	if (value & HV_SYNIC_PAGE_ENABLE) {
		page = hv_gpa_page(s->vp->partition, value >> PAGE_SHIFT, true);
		if (!page)
			return HV_MSR_GP;
	}
	spin_lock_irqsave(&s->lock, irqflags);
	/* Enabled, or moved while enabled: a fresh page, as an overlay. */
	if (page && *reg != value)
		clear_page(page);
	*reg = value;
	spin_unlock_irqrestore(&s->lock, irqflags);
	return HV_MSR_DONE;
}

/*
 * SINTn: reserved bits are #GP, and so is a vector below 16 when the
 * SINT would interrupt with it. A masked SINT may hold any vector: the
 * reset value is 0x10000 and guests write it back.
 */
static enum hv_msr_result hv_synic_set_sint(struct hv_synic *s, u32 n,
					    u64 value)
{
	unsigned long irqflags;
	u64 old;

	if (value & ~HV_SINT_VALID)
		return HV_MSR_GP;
	if (!(value & (HV_SYNIC_SINT_MASKED | HV_SINT_POLLING)) &&
	    (value & HV_SYNIC_SINT_VECTOR_MASK) < HV_SYNIC_FIRST_VALID_VECTOR)
		return HV_MSR_GP;
	spin_lock_irqsave(&s->lock, irqflags);
	old = s->sint[n];
	s->sint[n] = value;
	hv_synic_update_auto_eoi(s, old & HV_SYNIC_SINT_VECTOR_MASK);
	hv_synic_update_auto_eoi(s, value & HV_SYNIC_SINT_VECTOR_MASK);
	spin_unlock_irqrestore(&s->lock, irqflags);
	return HV_MSR_DONE;
}

enum hv_msr_result hv_synic_msr_read(struct hv_vp *vp, u32 msr, u64 *value)
{
	struct hv_synic *s = vp->synic;

	if (msr >= HV_STIMER_MSR_FIRST && msr <= HV_STIMER_MSR_LAST)
		return hv_stimer_msr_read(vp, msr, value);
	if (!hv_vp_privileged(vp, HV_MSR_SYNIC_AVAILABLE))
		return HV_MSR_GP;
	switch (msr) {
	case HV_SYNIC_MSR_SCONTROL:
		*value = s->scontrol;
		break;
	case HV_SYNIC_MSR_SVERSION:
		*value = HV_SYNIC_VERSION_1;
		break;
	case HV_SYNIC_MSR_SIEFP:
		*value = s->siefp;
		break;
	case HV_SYNIC_MSR_SIMP:
		*value = s->simp;
		break;
	case HV_SYNIC_MSR_EOM:
		*value = 0;
		break;
	case HV_SYNIC_MSR_SINT0 ... HV_SYNIC_MSR_SINT15:
		*value = s->sint[msr - HV_SYNIC_MSR_SINT0];
		break;
	default:
		return HV_MSR_GP;
	}
	return HV_MSR_DONE;
}

enum hv_msr_result hv_synic_msr_write(struct hv_vp *vp, u32 msr, u64 value)
{
	struct hv_synic *s = vp->synic;
	enum hv_msr_result r = HV_MSR_DONE;
	unsigned long irqflags;

	if (msr >= HV_STIMER_MSR_FIRST && msr <= HV_STIMER_MSR_LAST)
		return hv_stimer_msr_write(vp, msr, value);
	if (!hv_vp_privileged(vp, HV_MSR_SYNIC_AVAILABLE))
		return HV_MSR_GP;
	switch (msr) {
	case HV_SYNIC_MSR_SCONTROL:
		if (value & ~HV_SYNIC_CONTROL_ENABLE)
			return HV_MSR_GP;
		spin_lock_irqsave(&s->lock, irqflags);
		s->scontrol = value;
		spin_unlock_irqrestore(&s->lock, irqflags);
		break;
	case HV_SYNIC_MSR_SIEFP:
		r = hv_synic_set_page(s, &s->siefp, value);
		break;
	case HV_SYNIC_MSR_SIMP:
		r = hv_synic_set_page(s, &s->simp, value);
		break;
	case HV_SYNIC_MSR_EOM:
		/* Any value: the write itself is the signal. */
		break;
	case HV_SYNIC_MSR_SINT0 ... HV_SYNIC_MSR_SINT15:
		r = hv_synic_set_sint(s, msr - HV_SYNIC_MSR_SINT0, value);
		break;
	default:	/* SVERSION is read-only; 0x85-0x8f do not exist */
		return HV_MSR_GP;
	}
	if (r == HV_MSR_DONE)
		hv_synic_kick_retry(vp);
	return r;
}

void hv_synic_init_reset(struct hv_vp *vp)
{
	struct hv_synic *s = vp->synic;
	unsigned long irqflags;
	u64 old;
	int i;

	hv_stimer_reset(vp);
	spin_lock_irqsave(&s->lock, irqflags);
	s->scontrol = HV_SYNIC_CONTROL_ENABLE;
	s->siefp = 0;
	s->simp = 0;
	for (i = 0; i < HV_SYNIC_SINT_COUNT; i++) {
		old = s->sint[i];
		s->sint[i] = HV_SYNIC_SINT_MASKED;
		hv_synic_update_auto_eoi(s, old & HV_SYNIC_SINT_VECTOR_MASK);
	}
	spin_unlock_irqrestore(&s->lock, irqflags);
	/*
	 * Refused senders stay remembered: the guest's next SIMP or SINT
	 * write tells them to try again.
	 */
}

hv_status_t hv_synic_create(struct hv_vp *vp)
{
	struct hv_synic *s;

	BUILD_BUG_ON(sizeof(*s) > PAGE_SIZE);
	/* A zeroed page: every register 0 until the reset below. */
	s = hv_pool_alloc(&vp->partition->pool);
	if (!s)
		return HV_STATUS_INSUFFICIENT_MEMORY;
	s->vp = vp;
	spin_lock_init(&s->lock);
	vp->synic = s;
	hv_stimer_init(vp);
	hv_synic_init_reset(vp);
	return HV_STATUS_SUCCESS;
}

void hv_synic_destroy(struct hv_vp *vp)
{
	struct hv_synic *s = vp->synic;

	if (!s)
		return;
	/* The timers stop before their memory goes. */
	hv_stimer_reset(vp);
	hv_pool_free(&vp->partition->pool, s);
	vp->synic = NULL;
}
