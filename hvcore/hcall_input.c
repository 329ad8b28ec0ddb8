// SPDX-License-Identifier: GPL-2.0
/*
 * Hypercall input decoding and checks (see hcall_input.h). Pure
 * functions of their arguments: the kernel's hypercall.c reads guest
 * memory only after these said yes, and the unit tests drive them with
 * every bad value.
 */
#ifdef __KERNEL__
#include <linux/bitops.h>
#include <linux/kernel.h>
#else
#define hweight64(x)	((unsigned int)__builtin_popcountll(x))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#include "hcall_input.h"

/*
 * The calls vid implements. Fixed input sizes are the TLFS structures:
 * HV_TLB_FLUSH {address space, flags, processor mask}, HV_TLB_FLUSH_EX
 * {address space, flags, VP set format, valid bank mask}, HV_SEND_IPI
 * {vector, reserved, processor mask}, HV_SEND_IPI_EX {vector, reserved,
 * VP set format, valid bank mask}, HV_POST_MESSAGE {connection id,
 * reserved, message type, payload size, payload[240]}, HV_SIGNAL_EVENT
 * {connection id, flag number, reserved}, and the spin count of
 * HvNotifyLongSpinWait. The flush calls' fast forms carry the processor
 * mask or VP set in XMM registers, as does SendSyntheticClusterIpiEx's.
 */
static const struct hv_hc_info hv_hc_table[] = {
	{
		.code = HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE,
		.flags = HV_HC_F_FAST_XMM,
		.input_size = 24,
		.recommendation = HV_HC_REC_REMOTE_TLB_FLUSH,
	}, {
		.code = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST,
		.flags = HV_HC_F_REP | HV_HC_F_FAST_XMM,
		.input_size = 24,
		.rep_size = 8,
		.recommendation = HV_HC_REC_REMOTE_TLB_FLUSH,
	}, {
		.code = HVCALL_NOTIFY_LONG_SPIN_WAIT,
		.flags = HV_HC_F_FAST,
		.input_size = 8,
	}, {
		.code = HVCALL_SEND_IPI,
		.flags = HV_HC_F_FAST,
		.input_size = 16,
		.recommendation = HV_HC_REC_CLUSTER_IPI,
	}, {
		.code = HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX,
		.flags = HV_HC_F_VAR | HV_HC_F_FAST_XMM,
		.input_size = 32,
		.recommendation = HV_HC_REC_REMOTE_TLB_FLUSH |
				  HV_HC_REC_EX_PROCESSOR_MASKS,
	}, {
		.code = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX,
		.flags = HV_HC_F_REP | HV_HC_F_VAR | HV_HC_F_FAST_XMM,
		.input_size = 32,
		.rep_size = 8,
		.recommendation = HV_HC_REC_REMOTE_TLB_FLUSH |
				  HV_HC_REC_EX_PROCESSOR_MASKS,
	}, {
		.code = HVCALL_SEND_IPI_EX,
		.flags = HV_HC_F_VAR | HV_HC_F_FAST_XMM,
		.input_size = 24,
		.recommendation = HV_HC_REC_CLUSTER_IPI |
				  HV_HC_REC_EX_PROCESSOR_MASKS,
	}, {
		.code = HVCALL_POST_MESSAGE,
		.input_size = 256,
		.privilege = HV_HC_PRIV_POST_MESSAGES,
	}, {
		.code = HVCALL_SIGNAL_EVENT,
		.flags = HV_HC_F_FAST,
		.input_size = 8,
		.privilege = HV_HC_PRIV_SIGNAL_EVENTS,
	},
};

hv_status_t hv_hc_decode(u64 control, struct hv_hc_control *c)
{
	c->code = control & HV_HC_CODE_MASK;
	c->fast = control & HV_HC_FAST;
	c->var_size = (control >> HV_HC_VAR_SHIFT) & HV_HC_VAR_MASK;
	c->rep_count = (control >> HV_HC_REP_COUNT_SHIFT) & HV_HC_REP_MASK;
	c->rep_start = (control >> HV_HC_REP_START_SHIFT) & HV_HC_REP_MASK;
	if (control & (HV_HC_RESERVED | HV_HC_NESTED))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_STATUS_SUCCESS;
}

const struct hv_hc_info *hv_hc_lookup(u16 code)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hv_hc_table); i++)
		if (hv_hc_table[i].code == code)
			return &hv_hc_table[i];
	return NULL;
}

bool hv_hc_allowed(const struct hv_hc_info *info, u64 privileges,
		   u32 recommendations)
{
	return (privileges & info->privilege) == info->privilege &&
	       (recommendations & info->recommendation) ==
	       info->recommendation;
}

bool hv_hc_needs_xmm(const struct hv_hc_info *info,
		     const struct hv_hc_control *c)
{
	return c->fast && (info->flags & HV_HC_F_FAST_XMM);
}

u32 hv_hc_input_bytes(const struct hv_hc_info *info,
		      const struct hv_hc_control *c)
{
	/* At most 256 + 1023 * 8 + 4095 * 8 bytes: no overflow in u32. */
	u32 bytes = info->input_size + (u32)c->var_size * 8;

	if (info->flags & HV_HC_F_REP)
		bytes += (u32)c->rep_count * info->rep_size;
	return bytes;
}

/* Rep count and start index against the call's kind. */
static hv_status_t hv_hc_check_reps(const struct hv_hc_info *info,
				    const struct hv_hc_control *c)
{
	if (!(info->flags & HV_HC_F_REP))
		return c->rep_count || c->rep_start ?
		       HV_STATUS_INVALID_HYPERCALL_INPUT : HV_STATUS_SUCCESS;
	if (!c->rep_count || c->rep_start >= c->rep_count)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_STATUS_SUCCESS;
}

/* A memory-form GPA: 8-byte aligned, @bytes of it within one page. */
static bool hv_hc_gpa_ok(u64 gpa, u32 bytes)
{
	return !(gpa & 7) && (gpa & (HV_HC_PAGE_SIZE - 1)) + bytes <=
			     HV_HC_PAGE_SIZE;
}

hv_status_t hv_hc_check(const struct hv_hc_info *info,
			const struct hv_hc_control *c, u64 input_gpa,
			u64 output_gpa)
{
	hv_status_t status = hv_hc_check_reps(info, c);

	if (status)
		return status;
	if (c->var_size && !(info->flags & HV_HC_F_VAR))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (c->fast) {
		if (!(info->flags & (HV_HC_F_FAST | HV_HC_F_FAST_XMM)))
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		return HV_STATUS_SUCCESS;
	}
	/* No call here has output: the output GPA only has to be aligned. */
	if (!hv_hc_gpa_ok(input_gpa, hv_hc_input_bytes(info, c)) ||
	    !hv_hc_gpa_ok(output_gpa, 0))
		return HV_STATUS_INVALID_ALIGNMENT;
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_vp_set_check(u64 format, u64 valid_bank_mask, u16 var_size)
{
	if (format != HV_VP_SET_SPARSE_4K && format != HV_VP_SET_ALL)
		return HV_STATUS_INVALID_PARAMETER;
	if (hweight64(valid_bank_mask) != var_size)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	return HV_STATUS_SUCCESS;
}

/* The bits of @mask below bank @bank (0..64). */
static u64 hv_vp_set_below(u64 mask, u32 bank)
{
	return bank >= HV_VP_SET_MAX_BANKS ? mask :
	       mask & ((1ULL << bank) - 1);
}

u32 hv_vp_set_banks_needed(u64 valid_bank_mask, u32 max_vps)
{
	u32 banks = max_vps / HV_VP_SET_BANK_VPS +
		    !!(max_vps % HV_VP_SET_BANK_VPS);

	return hweight64(hv_vp_set_below(valid_bank_mask, banks));
}

bool hv_vp_set_contains(u64 valid_bank_mask, const u64 *banks, u32 nbanks,
			u32 vp)
{
	u32 bank = vp / HV_VP_SET_BANK_VPS, slot;

	if (bank >= HV_VP_SET_MAX_BANKS || !(valid_bank_mask & (1ULL << bank)))
		return false;
	/* Banks are packed: bank n is after one entry per lower valid bank. */
	slot = hweight64(hv_vp_set_below(valid_bank_mask, bank));
	if (slot >= nbanks)
		return false;
	return (banks[slot] >> (vp % HV_VP_SET_BANK_VPS)) & 1;
}

u64 hv_tsc_scale(u64 tsc_khz)
{
	/*
	 * 2^64 * 10^4 / tsc_khz by long division in two 32-bit steps, so
	 * that no 128-bit division (a libgcc call the kernel lacks) is
	 * needed. Above 10 MHz the quotient fits 64 bits; below 2^32 kHz
	 * the remainder shifted by 32 fits too.
	 */
	const u64 n = 10000ULL << 32;
	u64 hi, rem, lo;

	if (tsc_khz <= 10000 || tsc_khz >= 1ULL << 32)
		return 0;
	hi = n / tsc_khz;
	rem = n % tsc_khz;
	lo = (rem << 32) / tsc_khz;
	return hi << 32 | lo;
}
