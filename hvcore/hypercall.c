// SPDX-License-Identifier: GPL-2.0
/*
 * Guest hypercalls: TLFS input decoding (hcall_input.c) and the calls
 * vid implements: HvNotifyLongSpinWait, the PV IPI calls
 * (HvSendSyntheticClusterIpi[Ex]), the PV TLB flushes
 * (HvFlushVirtualAddressSpace/List[Ex]), HvPostMessage and HvSignalEvent
 * (handed to synic/port.c).
 *
 * The input is the guest's: the input value is decoded and checked
 * before anything is read, memory-form input is copied out of guest RAM
 * into a buffer on the stack first and parsed there (the guest cannot
 * change it under the parser), and only as many bytes as the call's
 * structures need are copied. Statuses: a form the call does not take
 * (rep count, variable header, fast form, reserved bits of the input
 * value or of an input structure) is HV_STATUS_INVALID_HYPERCALL_INPUT,
 * a bad value in the input (vector, set format, message size) is
 * HV_STATUS_INVALID_PARAMETER, as is input that is not guest RAM.
 *
 * VP context: the caller's own thread, preemption off, IRQs on.
 */
#include <linux/sched.h>
#include <linux/smp.h>
#include <asm/hyperv-tlfs.h>
#include <asm/preempt.h>

#include "../synic/synic.h"
#include "arch.h"
#include "hcall_input.h"
#include "hv_regs.h"
#include "hvcore.h"
#include "lapic.h"

/* Flush flags vid knows; it always flushes everything of the target. */
#define HV_FLUSH_FLAGS_VALID	(HV_FLUSH_ALL_PROCESSORS |		\
				 HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES |	\
				 HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY |	\
				 HV_FLUSH_USE_EXTENDED_RANGE_FORMAT)

/* Vectors an IPI may carry (the TLFS's HV_IPI_LOW/HIGH_VECTOR). */
#define HV_HC_IPI_VECTOR_MIN	0x10
#define HV_HC_IPI_VECTOR_MAX	0xff

/*
 * Banks a VP set can need: VP indices stay below
 * HV_MAX_VPS_PER_PARTITION, so banks for higher indices are never read.
 */
#define HV_HC_MAX_BANKS		(HV_MAX_VPS_PER_PARTITION / HV_VP_SET_BANK_VPS)

/* HvPostMessage input (TLFS HV_INPUT_POST_MESSAGE). */
struct hv_hc_post_message {
	u32 connection_id;
	u32 reserved;
	u32 message_type;
	u32 payload_size;
	u8 payload[HV_MESSAGE_PAYLOAD_BYTE_COUNT];
};

/*
 * Memory-form input copied out of the guest page. The largest is
 * HvPostMessage (256 bytes); a VP set header and its banks fit too.
 */
union hv_hc_buf {
	u64 q[32];
	struct hv_hc_post_message post;
};

/* A set of target VPs: everyone, or a sparse set of banks. */
struct hv_hc_targets {
	bool all;
	u64 valid_bank_mask;
	u32 nbanks;
	u64 banks[HV_HC_MAX_BANKS];
};

/* One hypercall in progress. */
struct hv_hc {
	struct hv_vp *vp;
	struct hv_hypercall *hc;
	struct hv_hc_control c;
	union hv_hc_buf buf;
};

/* Copy @len bytes of memory-form input (@off bytes in) into the buffer. */
static hv_status_t hv_hc_read(struct hv_hc *h, u32 off, u32 len)
{
	if (off + len > sizeof(h->buf))
		return HV_STATUS_INVALID_PARAMETER;
	return hv_gpa_read(h->vp->partition, h->hc->input + off,
			   (u8 *)&h->buf + off, len);
}

/*
 * A VP set whose format and valid bank mask are at buf.q[@first] and
 * [@first + 1] (memory form, already read); its banks follow them in the
 * guest page and are read here, as many as can name a VP.
 */
static hv_status_t hv_hc_read_vp_set(struct hv_hc *h, u32 first,
				     struct hv_hc_targets *t)
{
	u64 format = h->buf.q[first];
	hv_status_t st;

	BUILD_BUG_ON(HV_HC_MAX_BANKS * HV_VP_SET_BANK_VPS <
		     HV_MAX_VPS_PER_PARTITION);
	BUILD_BUG_ON((2 + 2 + HV_HC_MAX_BANKS) * 8 > sizeof(union hv_hc_buf));
	t->valid_bank_mask = h->buf.q[first + 1];
	st = hv_vp_set_check(format, t->valid_bank_mask, h->c.var_size);
	if (st)
		return st;
	if (format == HV_VP_SET_ALL) {
		t->all = true;
		return HV_STATUS_SUCCESS;
	}
	t->nbanks = hv_vp_set_banks_needed(t->valid_bank_mask,
					   h->vp->partition->max_vp_count);
	st = hv_hc_read(h, (first + 2) * 8, t->nbanks * 8);
	if (!st)
		memcpy(t->banks, &h->buf.q[first + 2], t->nbanks * 8);
	return st;
}

/* The non-EX forms' processor mask: VPs 0-63. */
static void hv_hc_mask_targets(struct hv_hc_targets *t, u64 mask)
{
	t->valid_bank_mask = 1;
	t->nbanks = 1;
	t->banks[0] = mask;
}

static bool hv_hc_targets_vp(const struct hv_hc_targets *t, u32 index)
{
	return t->all || hv_vp_set_contains(t->valid_bank_mask, t->banks,
					    t->nbanks, index);
}

/* ----- HvNotifyLongSpinWait ----- */

/*
 * The guest spins on a lock another VP holds: give the CPU up at the
 * next chance (the dispatch loop sees need_resched() and the VP's
 * thread yields), which lets a preempted lock holder run.
 */
static hv_status_t hv_hc_spin_wait(struct hv_hc *h)
{
	set_tsk_need_resched(current);
	set_preempt_need_resched();
	return HV_STATUS_SUCCESS;
}

/* ----- PV IPI ----- */

static hv_status_t hv_hc_ipi_targets(struct hv_hc *h, u32 *vector,
				     struct hv_hc_targets *t)
{
	struct hv_hypercall *hc = h->hc;
	hv_status_t st;

	if (h->c.code == HVCALL_SEND_IPI && h->c.fast) {
		h->buf.q[0] = hc->input;
		h->buf.q[1] = hc->output;
	} else {
		st = hv_hc_read(h, 0, h->c.code == HVCALL_SEND_IPI ? 16 : 24);
		if (st)
			return st;
	}
	/* {vector u32, target VTL u8 + reserved} - no VTLs here. */
	*vector = lower_32_bits(h->buf.q[0]);
	if (upper_32_bits(h->buf.q[0]))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (h->c.code == HVCALL_SEND_IPI) {
		hv_hc_mask_targets(t, h->buf.q[1]);
		return HV_STATUS_SUCCESS;
	}
	return hv_hc_read_vp_set(h, 1, t);
}

/* HvCallSendSyntheticClusterIpi[Ex]: a fixed interrupt to each target. */
static hv_status_t hv_hc_send_ipi(struct hv_hc *h)
{
	struct hv_partition *p = h->vp->partition;
	struct hv_hc_targets t = {};
	struct hv_irq irq = { .type = HV_INTERRUPT_TYPE_FIXED };
	hv_status_t st;
	u32 i;

	st = hv_hc_ipi_targets(h, &irq.vector, &t);
	if (st)
		return st;
	if (irq.vector < HV_HC_IPI_VECTOR_MIN ||
	    irq.vector > HV_HC_IPI_VECTOR_MAX)
		return HV_STATUS_INVALID_PARAMETER;
	if (t.all) {
		irq.dest = HV_APIC_BROADCAST;
		hv_irq_deliver(p, &irq);
		return HV_STATUS_SUCCESS;
	}
	/* APIC id == VP index; an index without a VP is dropped. */
	for (i = 0; i < p->max_vp_count; i++) {
		if (!hv_hc_targets_vp(&t, i))
			continue;
		irq.dest = i;
		hv_irq_deliver(p, &irq);
	}
	return HV_STATUS_SUCCESS;
}

/* ----- PV TLB flush ----- */

static void hv_hc_flush_ack(void *unused)
{
	/* Nothing: taking the IPI made the target leave the guest. */
}

/*
 * Make @t flush its guest TLB before it next runs guest code. A target
 * in the guest now is made to exit, and the caller waits until it has
 * (the IPI was taken): it then re-enters only through
 * hv_vp_prepare_entry(), which flushes. So when the hypercall returns,
 * no target can still use a stale translation - the TLFS's promise,
 * and what KVM does (a request with KVM_REQUEST_WAIT). A target outside
 * the guest sees the request before its next entry (svm_enter_guest()
 * checks requests after publishing its mode); a halted one is not woken
 * for it. The wait is one IPI per running target, bounded: targets are
 * VPs of the caller's own partition.
 */
static void hv_hc_flush_vp(struct hv_vp *self, struct hv_vp *t)
{
	int cpu;

	set_bit(HV_REQ_TLB_FLUSH, &t->requests);
	if (t == self)
		return;
	/* The request before the mode: pairs with svm_enter_guest(). */
	smp_mb__after_atomic();
	if (READ_ONCE(t->mode) != HV_VP_IN_GUEST)
		return;
	cpu = READ_ONCE(t->cpu);
	if (cpu >= 0 && cpu != smp_processor_id())
		smp_call_function_single(cpu, hv_hc_flush_ack, NULL, true);
}

static void hv_hc_flush_targets(struct hv_vp *self,
				const struct hv_hc_targets *t)
{
	struct hv_partition *p = self->partition;
	struct hv_vp *vp;
	u32 i;

	rcu_read_lock();
	for (i = 0; i < p->max_vp_count; i++) {
		if (!hv_hc_targets_vp(t, i))
			continue;
		vp = hv_vp_rcu(p, i);
		if (vp)
			hv_hc_flush_vp(self, vp);
	}
	rcu_read_unlock();
}

/*
 * HvFlushVirtualAddressSpace/List[Ex]. Input: {address space, flags,
 * processor mask} or {address space, flags, VP set}, then the GVA list
 * of the List forms, which is not read: vid flushes the targets' whole
 * TLB (every address space), a superset of any list. A processor mask
 * of 0 without HV_FLUSH_ALL_PROCESSORS flushes everyone, as KVM does
 * for old Windows guests that expect it.
 */
static hv_status_t hv_hc_flush(struct hv_hc *h, u16 *reps)
{
	bool ex = h->c.code == HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX ||
		  h->c.code == HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
	struct hv_hc_targets t = {};
	hv_status_t st;
	u64 flags;

	st = hv_hc_read(h, 0, ex ? 32 : 24);
	if (st)
		return st;
	flags = h->buf.q[1];
	if (flags & ~HV_FLUSH_FLAGS_VALID)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (ex) {
		st = hv_hc_read_vp_set(h, 2, &t);
		if (st)
			return st;
	} else {
		hv_hc_mask_targets(&t, h->buf.q[2]);
		t.all = !h->buf.q[2];
	}
	if (flags & HV_FLUSH_ALL_PROCESSORS)
		t.all = true;
	hv_hc_flush_targets(h->vp, &t);
	/* Every element done, from the start index on: all of them. */
	*reps = h->c.rep_count;
	return HV_STATUS_SUCCESS;
}

/* ----- Messages and events ----- */

/* HvPostMessage: to the connection's port (synic/port.c). */
static hv_status_t hv_hc_post_message(struct hv_hc *h)
{
	struct hv_hc_post_message *m = &h->buf.post;
	hv_status_t st;

	BUILD_BUG_ON(sizeof(*m) != 256);
	st = hv_hc_read(h, 0, sizeof(*m));
	if (st)
		return st;
	if (m->reserved)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (m->payload_size > HV_MESSAGE_PAYLOAD_BYTE_COUNT ||
	    (m->message_type & BIT(31)))
		return HV_STATUS_INVALID_PARAMETER;
	return hv_port_post_message(h->vp, m->connection_id, m->message_type,
				    m->payload, m->payload_size);
}

/*
 * HvSignalEvent: {connection id u32, flag number u16, reserved u16}, in
 * RDX (fast) or in memory.
 */
static hv_status_t hv_hc_signal_event(struct hv_hc *h)
{
	hv_status_t st;
	u64 in;

	if (h->c.fast) {
		in = h->hc->input;
	} else {
		st = hv_hc_read(h, 0, 8);
		if (st)
			return st;
		in = h->buf.q[0];
	}
	if (in >> 48)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return hv_port_signal_event(h->vp, lower_32_bits(in),
				    upper_32_bits(in) & 0xffff);
}

/* Run a call whose form hv_hc_check() accepted. */
static hv_status_t hv_hc_run(struct hv_hc *h, u16 *reps)
{
	switch (h->c.code) {
	case HVCALL_NOTIFY_LONG_SPIN_WAIT:
		return hv_hc_spin_wait(h);
	case HVCALL_SEND_IPI:
	case HVCALL_SEND_IPI_EX:
		return hv_hc_send_ipi(h);
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE:
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST:
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX:
	case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX:
		return hv_hc_flush(h, reps);
	case HVCALL_POST_MESSAGE:
		return hv_hc_post_message(h);
	case HVCALL_SIGNAL_EVENT:
		return hv_hc_signal_event(h);
	default:	/* in the table but not here: a bug, not the guest's */
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	}
}

/* Hypercalls need protected mode (TLFS: #UD in real mode, like CPL > 0). */
static bool hv_hc_protected_mode(struct hv_vp *vp)
{
	union hv_reg_value cr0 = {};

	return !hv_arch->vp_get_reg(vp, HV_X64_REGISTER_CR0, &cr0) &&
	       (cr0.reg64 & X86_CR0_PE);
}

/*
 * Decode, gate and check the call; then run it. The gate comes first
 * (as in KVM): a call the partition may not make is ACCESS_DENIED
 * whatever its input.
 */
static hv_status_t hv_hc_dispatch(struct hv_hc *h, u16 *reps, bool *ud)
{
	struct hv_partition_hv *hv = &h->vp->partition->hv;
	const struct hv_hc_info *info;
	hv_status_t st;

	st = hv_hc_decode(h->hc->control, &h->c);
	info = hv_hc_lookup(h->c.code);
	if (info && !hv_hc_allowed(info, hv->privileges, hv->recommendations))
		return HV_STATUS_ACCESS_DENIED;
	if (st)
		return st;
	if (!info)
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	/* XMM input is not offered (CPUID 0x40000003 EDX bit 4): #UD. */
	if (hv_hc_needs_xmm(info, &h->c)) {
		*ud = true;
		return HV_STATUS_SUCCESS;
	}
	st = hv_hc_check(info, &h->c, h->hc->input, h->hc->output);
	if (st)
		return st;
	return hv_hc_run(h, reps);
}

bool hv_hypercall(struct hv_vp *vp, struct hv_hypercall *hc)
{
	struct hv_hc h = { .vp = vp, .hc = hc };
	bool ud = false;
	hv_status_t st;
	u16 reps = 0;

	BUILD_BUG_ON(HV_HC_PRIV_POST_MESSAGES != (u64)HV_POST_MESSAGES << 32);
	BUILD_BUG_ON(HV_HC_PRIV_SIGNAL_EVENTS != (u64)HV_SIGNAL_EVENTS << 32);
	BUILD_BUG_ON(HV_HC_REC_REMOTE_TLB_FLUSH !=
		     HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED);
	BUILD_BUG_ON(HV_HC_REC_CLUSTER_IPI != HV_X64_CLUSTER_IPI_RECOMMENDED);
	BUILD_BUG_ON(HV_HC_REC_EX_PROCESSOR_MASKS !=
		     HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED);

	if (!hv_hypercall_enabled(vp) || !hv_hc_protected_mode(vp))
		return false;
	st = hv_hc_dispatch(&h, &reps, &ud);
	if (ud)
		return false;
	hc->result = st | (u64)reps << HV_HC_RESULT_REPS_SHIFT;
	return true;
}
