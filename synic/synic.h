/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SynIC, synthetic timers, ports and connections: the hypervisor's
 * synthetic interrupt controller. Part of "the hypervisor" (DESIGN.md
 * rule 1): it touches guest state directly. Entry points for hvcore;
 * VP context unless said otherwise.
 */
#ifndef VID_SYNIC_H
#define VID_SYNIC_H

#include "../hvcore/hvcore.h"

/* Per-VP SynIC and stimer state, from the partition pool (VP stopped). */
hv_status_t hv_synic_create(struct hv_vp *vp);
void hv_synic_destroy(struct hv_vp *vp);
/* INIT: SynIC registers back to their reset values, timers stopped. */
void hv_synic_init_reset(struct hv_vp *vp);

/* SynIC MSRs 0x40000080-0x4000009f and stimer MSRs 0x400000b0-b7. */
enum hv_msr_result hv_synic_msr_read(struct hv_vp *vp, u32 msr, u64 *value);
enum hv_msr_result hv_synic_msr_write(struct hv_vp *vp, u32 msr, u64 value);

/*
 * Delivery into a guest VP's SynIC (synic.c), for ports, stimers and the
 * root. Context: the caller keeps guest pages from being unmapped (a
 * dispatched VP of the partition, or the partition lock).
 * hv_synic_post_message(): the message into SINT @sint's slot and the
 * SINT raised; HV_STATUS_INSUFFICIENT_BUFFERS when the slot is busy (its
 * pending flag is then set so the guest's EOM says when to retry);
 * HV_STATUS_INVALID_VP_STATE when the SynIC/SIMP/SINT is not enabled.
 * hv_synic_signal_event(): set flag @flag of SINT @sint in the event
 * flags page and raise the SINT if it was clear.
 */
hv_status_t hv_synic_post_message(struct hv_vp *vp, u8 sint,
				  const struct hv_message *msg);
hv_status_t hv_synic_signal_event(struct hv_vp *vp, u8 sint, u16 flag);

/*
 * Ports and connections (port.c): a guest's HvPostMessage and
 * HvSignalEvent on connection @connection_id (VP context of @vp, the
 * caller). Return TLFS statuses (INVALID_CONNECTION_ID, ...).
 */
hv_status_t hv_port_post_message(struct hv_vp *vp, u32 connection_id,
				 u32 message_type, const void *payload,
				 u32 payload_size);
hv_status_t hv_port_signal_event(struct hv_vp *vp, u32 connection_id,
				 u16 flag);
/* Partition teardown: free the port and connection tables. */
void hv_ports_destroy(struct hv_partition *p);

/* Requests HV_REQ_SYNIC and HV_REQ_STIMER (hv_vp_prepare_entry()). */
void hv_synic_process(struct hv_vp *vp);
void hv_stimer_process(struct hv_vp *vp);

#endif /* VID_SYNIC_H */
