/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SynIC, synthetic timers, ports and connections: the hypervisor's
 * synthetic interrupt controller. Part of "the hypervisor" (DESIGN.md
 * rule 1): it touches guest state directly. Entry points for hvcore;
 * VP context unless said otherwise.
 */
#ifndef VID_SYNIC_H
#define VID_SYNIC_H

#include <linux/hrtimer.h>
#include <linux/spinlock.h>

#include "../hvcore/hvcore.h"

struct seq_file;

/* Per-VP SynIC and stimer state, from the partition pool (VP stopped). */
hv_status_t hv_synic_create(struct hv_vp *vp);
void hv_synic_destroy(struct hv_vp *vp);
/* INIT: SynIC registers back to their reset values, timers stopped. */
void hv_synic_init_reset(struct hv_vp *vp);
/* Diagnostics (hvcore/dump.c): the registers as text, any context. */
void hv_synic_dump(struct hv_vp *vp, struct seq_file *m);

/* SynIC MSRs 0x40000080-0x4000009f and stimer MSRs 0x400000b0-b7. */
enum hv_msr_result hv_synic_msr_read(struct hv_vp *vp, u32 msr, u64 *value);
enum hv_msr_result hv_synic_msr_write(struct hv_vp *vp, u32 msr, u64 value);

/*
 * Delivery into a guest VP's SynIC (synic.c), for ports, stimers and the
 * root. Context: any, preemption on or off, no sleeping (a per-VP
 * spinlock serializes concurrent senders); the caller keeps guest pages
 * from being unmapped (a dispatched VP of the partition, or the
 * partition lock) and keeps @vp alive (RCU or the partition lock).
 *
 * hv_synic_post_message(): the message into SINT @sint's slot and the
 * SINT raised. Only the header and @msg->header.payload_size bytes of
 * payload are read; the rest of the slot is zeroed. The message type is
 * written last, after the rest of the slot, because the guest polls it.
 * Returns HV_STATUS_INSUFFICIENT_BUFFERS when the slot is busy: its
 * pending flag is then set, so the guest's EOM says when to retry;
 * HV_STATUS_INVALID_VP_STATE when the SynIC or the message page is
 * disabled (or the page is no longer guest RAM) or the SINT is masked;
 * HV_STATUS_INVALID_PARAMETER for a bad SINT, message type NONE or a
 * payload above 240 bytes. After either of the first two the SINT is
 * remembered, and hv_port_sint_retry() says when to try again. A SINT in
 * polling mode gets messages without an interrupt.
 *
 * hv_synic_signal_event(): set flag @flag (< 2048) of SINT @sint in the
 * event flags page and raise the SINT if the flag was clear.
 * HV_STATUS_INVALID_VP_STATE when the SynIC or the event flags page is
 * disabled or the SINT masked (nothing is set), INVALID_PARAMETER for a
 * bad SINT or flag.
 */
hv_status_t hv_synic_post_message(struct hv_vp *vp, u8 sint,
				  const struct hv_message *msg);
hv_status_t hv_synic_signal_event(struct hv_vp *vp, u8 sint, u16 flag);

/*
 * Ports and connections (port.c): a guest's HvPostMessage and
 * HvSignalEvent on connection @connection_id (VP context of @vp, the
 * caller; lock-free, any number of VPs at once). The hypercall layer
 * decodes the input; these check it and return the TLFS status:
 * HV_STATUS_INVALID_HYPERCALL_INPUT for reserved bits 31:24 of the
 * connection id; HV_STATUS_INVALID_PARAMETER for a message type 0 or
 * with bit 31 set, a payload over 240 bytes, a flag beyond 2047 or
 * beyond the port's flag count; HV_STATUS_INVALID_CONNECTION_ID for an
 * unknown connection; HV_STATUS_INVALID_PORT_ID when its port is gone
 * or of the other type; HV_STATUS_INSUFFICIENT_BUFFERS when the target
 * (a root queue, a busy SynIC slot) cannot take the message now;
 * HV_STATUS_INVALID_VP_INDEX when a guest target VP does not exist; the
 * SynIC's statuses otherwise. @payload holds @payload_size bytes.
 */
hv_status_t hv_port_post_message(struct hv_vp *vp, u32 connection_id,
				 u32 message_type, const void *payload,
				 u32 payload_size);
hv_status_t hv_port_signal_event(struct hv_vp *vp, u32 connection_id,
				 u16 flag);
/* Partition teardown: free the port and connection tables. */
void hv_ports_destroy(struct hv_partition *p);

/*
 * Senders that hv_synic_post_message() refused on (@vp, @sint) may try
 * again: the guest wrote EOM, or wrote SCONTROL, SIMP or a SINT. Called
 * from hv_synic_process(), VP context of @vp (preemption off, no lock
 * held), once per SINT that refused a sender since the last call.
 * Senders that queued a message retry it here (port.c tells the VMM).
 */
void hv_port_sint_retry(struct hv_vp *vp, u8 sint);

/* Requests HV_REQ_SYNIC and HV_REQ_STIMER (hv_vp_prepare_entry()). */
void hv_synic_process(struct hv_vp *vp);
void hv_stimer_process(struct hv_vp *vp);

/*
 * ----- Internal to synic/ (synic.c and stimer.c) -----
 */

/**
 * struct hv_stimer - one synthetic timer (stimer.c)
 * @timer: fires at the expiry; its callback (hardirq) only marks the
 *	timer in hv_synic.stimer_pending and raises HV_REQ_STIMER, the VP's
 *	thread does the rest.
 * @vp: the VP it belongs to.
 * @index: 0-3.
 * @config: STIMERn_CONFIG.
 * @count: STIMERn_COUNT as the guest wrote it (a period, or an absolute
 *	reference time for a one-shot timer).
 * @exp_time: reference time of the armed expiry, or of the expiry whose
 *	message still waits (@msg_pending); 0: none computed yet.
 * @msg_pending: an expiry was not signalled yet: its message slot was
 *	busy or the SynIC could not take it. The timer stays unarmed until
 *	a retry (EOM, SynIC/SIMP/SINT write) delivers it.
 *
 * Everything but @timer's own bookkeeping belongs to the VP's thread.
 */
struct hv_stimer {
	struct hrtimer timer;
	struct hv_vp *vp;
	u32 index;
	u64 config;
	u64 count;
	u64 exp_time;
	bool msg_pending;
};

/**
 * struct hv_synic - a VP's SynIC and synthetic timers; one pool page
 * @vp: its VP.
 * @lock: protects @scontrol, @siefp, @simp and @sint, and serializes the
 *	writes into the message and event flags pages. Registers change
 *	only on the VP's own thread (MSR writes, INIT), under the lock;
 *	senders read them under it. A leaf spinlock (IRQ-safe): nothing
 *	under it sleeps or takes another lock.
 * @scontrol: SCONTROL (bit 0: enable).
 * @siefp: SIEFP (bit 0: enable, 63:12: the event flags page).
 * @simp: SIMP (bit 0: enable, 63:12: the message page).
 * @sint: SINT0-15.
 * @refused: SINTs whose busy slot refused a sender since the last retry
 *	(atomic bit operations).
 * @stimer_pending: timers hv_stimer_process() must look at (atomic bit
 *	operations): expired, or their message is to be retried.
 * @stimer: STIMER0-3.
 */
struct hv_synic {
	struct hv_vp *vp;
	/* protects the registers below and the guest's SynIC pages */
	spinlock_t lock;
	u64 scontrol;
	u64 siefp;
	u64 simp;
	u64 sint[HV_SYNIC_SINT_COUNT];
	unsigned long refused;
	unsigned long stimer_pending;
	struct hv_stimer stimer[HV_SYNIC_STIMER_COUNT];
};

/* The synthetic timer MSRs. */
#define HV_STIMER_MSR_FIRST	0x400000b0
#define HV_STIMER_MSR_LAST	0x400000b7

/* stimer.c, for synic.c: VP context or (create) the VP stopped. */
void hv_stimer_init(struct hv_vp *vp);
void hv_stimer_reset(struct hv_vp *vp);
enum hv_msr_result hv_stimer_msr_read(struct hv_vp *vp, u32 msr, u64 *value);
enum hv_msr_result hv_stimer_msr_write(struct hv_vp *vp, u32 msr, u64 value);
/* Retry the timers whose expiry message is still pending. */
void hv_stimer_retry(struct hv_vp *vp);

#endif /* VID_SYNIC_H */
