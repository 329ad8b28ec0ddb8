/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtual local APIC (lapic.c): xAPIC MMIO and x2APIC MSR
 * interfaces, the timer (one-shot, periodic, TSC deadline), IPIs
 * including INIT and SIPI, EOI, TPR/PPR, NMI.
 *
 * Contexts: the register state belongs to the VP's own thread (exit
 * handlers, hv_vp_prepare_entry()) or to the root while the VP is
 * stopped. Other VPs, the timer and the root post interrupts with
 * hv_irq_deliver() from any context: that touches only the posted-
 * interrupt bitmap and the VP's request bits.
 */
#ifndef VID_HV_LAPIC_H
#define VID_HV_LAPIC_H

#include <linux/types.h>

#include "hv_call.h"
#include "hyperv.h"

struct hv_vp;
struct hv_partition;
struct seq_file;

/* TLFS HV_INTERRUPT_TYPE. */
#define HV_INTERRUPT_TYPE_FIXED			0
#define HV_INTERRUPT_TYPE_LOWEST_PRIORITY	1
#define HV_INTERRUPT_TYPE_NMI			4
#define HV_INTERRUPT_TYPE_INIT			5
#define HV_INTERRUPT_TYPE_SIPI			6

/* x2APIC broadcast destination (physical mode). */
#define HV_APIC_BROADCAST			0xffffffffU

/**
 * struct hv_irq - one interrupt message on the virtual APIC bus
 * @type: HV_INTERRUPT_TYPE_*.
 * @vector: vector (fixed, lowest priority, SIPI).
 * @logical: @dest is a logical destination (else an APIC id).
 * @dest: destination APIC id or logical mask; HV_APIC_BROADCAST (or
 *	0xff from an xAPIC) for every VP.
 * @shorthand: ICR shorthand (0 none, 1 self, 2 all, 3 all but self).
 * @source: the sending VP for shorthands, else NULL.
 */
struct hv_irq {
	u32 type;
	u32 vector;
	bool logical;
	u32 dest;
	u8 shorthand;
	struct hv_vp *source;
};

/* Setup and teardown (VP stopped). Pages come from the partition pool. */
hv_status_t hv_lapic_create(struct hv_vp *vp);
void hv_lapic_destroy(struct hv_vp *vp);
/* The state after RESET (@init false) or INIT (@init true). */
void hv_lapic_reset(struct hv_vp *vp, bool init);

/*
 * IA32_APIC_BASE. A write the register cannot take returns false (#GP
 * for a guest); @guest also enforces the mode transitions a CPU allows.
 */
u64 hv_lapic_get_base(struct hv_vp *vp);
bool hv_lapic_set_base(struct hv_vp *vp, u64 value, bool guest);

/* x2APIC MSRs 0x800-0x8ff and IA32_TSC_DEADLINE. VP context. */
enum hv_msr_result hv_lapic_msr_read(struct hv_vp *vp, u32 msr, u64 *value);
enum hv_msr_result hv_lapic_msr_write(struct hv_vp *vp, u32 msr, u64 value);
enum hv_msr_result hv_lapic_hv_msr_read(struct hv_vp *vp, u32 msr, u64 *value);
enum hv_msr_result hv_lapic_hv_msr_write(struct hv_vp *vp, u32 msr, u64 value);

/* Is @gpa inside this VP's xAPIC MMIO page (xAPIC mode, enabled)? */
bool hv_lapic_mmio_hit(struct hv_vp *vp, u64 gpa);
/* 32-bit accesses at @offset in the page; false: not an aligned dword. */
bool hv_lapic_mmio_read(struct hv_vp *vp, u32 offset, u32 *value);
bool hv_lapic_mmio_write(struct hv_vp *vp, u32 offset, u32 value);

/* Send @irq to its destinations. Any context; RCU protects the VPs. */
void hv_irq_deliver(struct hv_partition *p, const struct hv_irq *irq);

/*
 * VP context, for the dispatch loop and the backend's injection:
 * fold posted interrupts and timer expiries into IRR; the vector to
 * inject (highest IRR above PPR, -1 for none); its acceptance
 * (IRR -> ISR, or nothing for auto-EOI vectors); pending NMI.
 */
void hv_lapic_sync(struct hv_vp *vp, bool timer_expired);
int hv_lapic_pending_vector(struct hv_vp *vp);
void hv_lapic_ack(struct hv_vp *vp, u8 vector);
bool hv_lapic_nmi_pending(struct hv_vp *vp);
void hv_lapic_nmi_injected(struct hv_vp *vp);
void hv_lapic_post_nmi(struct hv_vp *vp);

/* TPR as CR8 (bits 3:0), for the backend's CR8 virtualization. */
u8 hv_lapic_get_cr8(struct hv_vp *vp);
void hv_lapic_set_cr8(struct hv_vp *vp, u8 cr8);

/* SynIC: vectors delivered with auto-EOI (no ISR bit, no EOI needed). */
void hv_lapic_set_auto_eoi(struct hv_vp *vp, u8 vector, bool on);
/* Post a fixed interrupt to this VP (SynIC, stimers). Any context. */
void hv_lapic_post(struct hv_vp *vp, u8 vector);
/* dump.c: the vLAPIC's state as text. */
void hv_lapic_dump(struct hv_vp *vp, struct seq_file *m);

#endif /* VID_HV_LAPIC_H */
