/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hardware-independent half of guest hypercalls: decoding the TLFS
 * hypercall input value, the shape of each call vid implements (rep or
 * simple, variable header, fast form, input size, the privilege it
 * needs), the checks every call's parameters go through before anything
 * is read from guest memory, sparse VP sets, and the reference-time
 * arithmetic of the TSC page.
 *
 * Every value here comes from a hostile guest: the functions check
 * before they compute, never index past what they were given, and keep
 * no state. The file builds as userspace C too
 * (selftests/unit/hcall_input_test.c), with selftests/unit/kshim.h.
 *
 * Calling context: any; no locks, no allocation, no sleeping.
 */
#ifndef VID_HV_HCALL_INPUT_H
#define VID_HV_HCALL_INPUT_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#include <asm/hyperv-tlfs.h>

#include "hv_call.h"
#else
#include "kshim.h"

typedef u16 hv_status_t;
#ifndef BIT
#define BIT(nr)			(1U << (nr))
#endif
#ifndef BIT_ULL
#define BIT_ULL(nr)		(1ULL << (nr))
#endif
#endif

/* TLFS numbers (the kernel's asm/hyperv-tlfs.h has them already). */
#ifndef HV_STATUS_SUCCESS
#define HV_STATUS_SUCCESS			0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE	0x0002
#define HV_STATUS_INVALID_HYPERCALL_INPUT	0x0003
#define HV_STATUS_INVALID_ALIGNMENT		0x0004
#define HV_STATUS_INVALID_PARAMETER		0x0005
#define HV_STATUS_ACCESS_DENIED			0x0006
#endif

#ifndef HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE	0x0002
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST	0x0003
#define HVCALL_NOTIFY_LONG_SPIN_WAIT		0x0008
#define HVCALL_SEND_IPI				0x000b
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX	0x0013
#define HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX	0x0014
#define HVCALL_SEND_IPI_EX			0x0015
#define HVCALL_POST_MESSAGE			0x005c
#define HVCALL_SIGNAL_EVENT			0x005d
#endif

/* The hypercall input value (RCX; EDX:EAX for 32-bit callers). */
#define HV_HC_CODE_MASK		0xffffULL
#define HV_HC_FAST		BIT_ULL(16)
#define HV_HC_VAR_SHIFT		17
#define HV_HC_VAR_MASK		0x3ffULL	/* 26:17, 8-byte units */
#define HV_HC_NESTED		BIT_ULL(31)
#define HV_HC_REP_COUNT_SHIFT	32
#define HV_HC_REP_START_SHIFT	48
#define HV_HC_REP_MASK		0xfffULL	/* 43:32 and 59:48 */
/* Reserved: 30:27, 47:44, 63:60. */
#define HV_HC_RESERVED		((0xfULL << 27) | (0xfULL << 44) | \
				 (0xfULL << 60))
/* The result value: status in 15:0, reps completed in 43:32. */
#define HV_HC_RESULT_REPS_SHIFT	32

/* A page of guest memory, whatever the host's page size is. */
#define HV_HC_PAGE_SIZE		4096U

/**
 * struct hv_hc_control - the decoded hypercall input value
 * @code: call code (15:0).
 * @fast: register form (bit 16): the input is in registers.
 * @var_size: variable header size in 8-byte units (26:17).
 * @rep_count: rep count (43:32).
 * @rep_start: rep start index (59:48).
 */
struct hv_hc_control {
	u16 code;
	bool fast;
	u16 var_size;
	u16 rep_count;
	u16 rep_start;
};

/* struct hv_hc_info.flags */
#define HV_HC_F_REP		0x01	/* a rep call */
#define HV_HC_F_VAR		0x02	/* takes a variable header */
#define HV_HC_F_FAST		0x04	/* fast form: all input in RDX, R8 */
#define HV_HC_F_FAST_XMM	0x08	/* fast form needs XMM input */

/*
 * Privilege bits a call needs, in struct hv_partition_hv.privileges
 * (CPUID 0x40000003 EAX | EBX << 32) and recommendations the guest must
 * have been given (CPUID 0x40000004 EAX), as KVM enforces them.
 */
#define HV_HC_PRIV_POST_MESSAGES	(1ULL << (32 + 4))
#define HV_HC_PRIV_SIGNAL_EVENTS	(1ULL << (32 + 5))
#define HV_HC_REC_REMOTE_TLB_FLUSH	BIT(2)
#define HV_HC_REC_CLUSTER_IPI		BIT(10)
#define HV_HC_REC_EX_PROCESSOR_MASKS	BIT(11)

/**
 * struct hv_hc_info - what one call code looks like
 * @code: HVCALL_*.
 * @flags: HV_HC_F_*.
 * @input_size: bytes of fixed input the memory form reads.
 * @rep_size: bytes of one rep element after the headers (rep calls).
 * @privilege: HV_HC_PRIV_* bits the partition must hold.
 * @recommendation: HV_HC_REC_* bits the guest must have been given.
 */
struct hv_hc_info {
	u16 code;
	u8 flags;
	u16 input_size;
	u16 rep_size;
	u64 privilege;
	u32 recommendation;
};

/*
 * Decode @control into @c. HV_STATUS_INVALID_HYPERCALL_INPUT when a
 * reserved bit or the nested bit (no nested hypervisor here) is set.
 */
hv_status_t hv_hc_decode(u64 control, struct hv_hc_control *c);

/* The call @code, or NULL when vid does not implement it. */
const struct hv_hc_info *hv_hc_lookup(u16 code);

/* Does the partition's @privileges / @recommendations allow the call? */
bool hv_hc_allowed(const struct hv_hc_info *info, u64 privileges,
		   u32 recommendations);

/* A fast call whose input needs the XMM registers (not offered: #UD). */
bool hv_hc_needs_xmm(const struct hv_hc_info *info,
		     const struct hv_hc_control *c);

/*
 * Check the call's form against its shape: rep count and start index
 * (HV_STATUS_INVALID_HYPERCALL_INPUT: a rep count on a simple call, no
 * reps or a start index at or past the count on a rep call; a variable
 * header on a call without one; the fast form on a call without it), and
 * for the memory form the GPAs (HV_STATUS_INVALID_ALIGNMENT: not 8-byte
 * aligned, or the input - fixed part, variable header and rep elements -
 * spans a page boundary).
 */
hv_status_t hv_hc_check(const struct hv_hc_info *info,
			const struct hv_hc_control *c, u64 input_gpa,
			u64 output_gpa);

/* Bytes of input the memory form of @c occupies in the guest page. */
u32 hv_hc_input_bytes(const struct hv_hc_info *info,
		      const struct hv_hc_control *c);

/* Sparse VP sets (HV_VP_SET): formats. */
#define HV_VP_SET_SPARSE_4K	0
#define HV_VP_SET_ALL		1
/* 64 VPs per bank; the valid bank mask is 64 bits wide. */
#define HV_VP_SET_BANK_VPS	64
#define HV_VP_SET_MAX_BANKS	64

/*
 * A VP set's header against the call: HV_STATUS_INVALID_PARAMETER for an
 * unknown format, HV_STATUS_INVALID_HYPERCALL_INPUT when the variable
 * header does not hold exactly one bank per bit of @valid_bank_mask.
 */
hv_status_t hv_vp_set_check(u64 format, u64 valid_bank_mask, u16 var_size);

/*
 * How many of the set's leading bank_contents entries can name a VP
 * below @max_vps (banks for higher VP indices need not be read at all).
 */
u32 hv_vp_set_banks_needed(u64 valid_bank_mask, u32 max_vps);

/*
 * Is @vp in the sparse set whose first @nbanks bank_contents entries are
 * @banks? Banks beyond @nbanks count as empty.
 */
bool hv_vp_set_contains(u64 valid_bank_mask, const u64 *banks, u32 nbanks,
			u32 vp);

/*
 * Reference time (100 ns units) from a TSC running at @tsc_khz: the TSC
 * page's scale is 2^64 * 10^7 / tsc_hz, so that the guest's
 * ((tsc * scale) >> 64) + offset counts 100 ns units. 0 when the
 * frequency is too low to express (below 10 MHz) or unknown.
 */
u64 hv_tsc_scale(u64 tsc_khz);

/* (@tsc * @scale) >> 64, the TSC page formula without the offset. */
static inline u64 hv_tsc_scaled(u64 tsc, u64 scale)
{
	return (u64)(((__uint128_t)tsc * scale) >> 64);
}

#endif /* VID_HV_HCALL_INPUT_H */
