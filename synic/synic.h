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

/* Requests HV_REQ_SYNIC and HV_REQ_STIMER (hv_vp_prepare_entry()). */
void hv_synic_process(struct hv_vp *vp);
void hv_stimer_process(struct hv_vp *vp);

#endif /* VID_SYNIC_H */
