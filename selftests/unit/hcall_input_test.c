// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for hypercall input decoding (hvcore/hcall_input.c), built
 * as userspace C under ASan and UBSan: the input value's fields and
 * reserved bits, the call table, the rep/variable-header/fast-form rules,
 * GPA alignment and page spans, sparse VP sets, and the TSC page scale.
 */
#include <stdlib.h>

#include "kselftest_harness.h"
#include "../../hvcore/hcall_input.h"

#define ALL_PRIVILEGES	(~0ULL)
#define ALL_RECS	(~0U)

static u64 control(u16 code, bool fast, u16 var, u16 reps, u16 start)
{
	return code | (fast ? HV_HC_FAST : 0) |
	       (u64)var << HV_HC_VAR_SHIFT |
	       (u64)reps << HV_HC_REP_COUNT_SHIFT |
	       (u64)start << HV_HC_REP_START_SHIFT;
}

/* Decode @ctl and check it against @code's shape. */
static hv_status_t check(u64 ctl, u64 in, u64 out)
{
	struct hv_hc_control c;
	const struct hv_hc_info *info;
	hv_status_t st = hv_hc_decode(ctl, &c);

	if (st)
		return st;
	info = hv_hc_lookup(c.code);
	if (!info)
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	return hv_hc_check(info, &c, in, out);
}

TEST(decode_fields)
{
	struct hv_hc_control c;

	ASSERT_EQ(0, hv_hc_decode(control(0x1234, true, 0x3ff, 0xfff, 0xabc),
				  &c));
	EXPECT_EQ(0x1234, c.code);
	EXPECT_TRUE(c.fast);
	EXPECT_EQ(0x3ff, c.var_size);
	EXPECT_EQ(0xfff, c.rep_count);
	EXPECT_EQ(0xabc, c.rep_start);

	ASSERT_EQ(0, hv_hc_decode(0, &c));
	EXPECT_EQ(0, c.code);
	EXPECT_FALSE(c.fast);
	EXPECT_EQ(0, c.var_size);
	EXPECT_EQ(0, c.rep_count);
	EXPECT_EQ(0, c.rep_start);
}

/* Every single bit: the fields decode, the reserved and nested bits fail. */
TEST(decode_each_bit)
{
	struct hv_hc_control c;
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		bool bad = (bit >= 27 && bit <= 31) ||
			   (bit >= 44 && bit <= 47) || bit >= 60;
		hv_status_t st = hv_hc_decode(1ULL << bit, &c);

		EXPECT_EQ(bad ? HV_STATUS_INVALID_HYPERCALL_INPUT :
			  HV_STATUS_SUCCESS, st)
			TH_LOG("bit %u", bit);
	}
}

TEST(lookup)
{
	static const u16 known[] = {
		0x02, 0x03, 0x08, 0x0b, 0x13, 0x14, 0x15, 0x5c, 0x5d,
	};
	static const u16 unknown[] = {
		0x00, 0x01, 0x04, 0x09, 0x0c, 0x44, 0x5e, 0x99, 0xffff,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(known); i++) {
		ASSERT_NE(NULL, hv_hc_lookup(known[i]));
		EXPECT_EQ(known[i], hv_hc_lookup(known[i])->code);
	}
	for (i = 0; i < ARRAY_SIZE(unknown); i++)
		EXPECT_EQ(NULL, hv_hc_lookup(unknown[i]));
}

/* The gates KVM's hyperv_features test expects. */
TEST(allowed)
{
	const struct hv_hc_info *pm = hv_hc_lookup(HVCALL_POST_MESSAGE);
	const struct hv_hc_info *se = hv_hc_lookup(HVCALL_SIGNAL_EVENT);
	const struct hv_hc_info *ipi = hv_hc_lookup(HVCALL_SEND_IPI);
	const struct hv_hc_info *ipi_ex = hv_hc_lookup(HVCALL_SEND_IPI_EX);
	const struct hv_hc_info *fl = hv_hc_lookup(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST);
	const struct hv_hc_info *fl_ex =
		hv_hc_lookup(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX);
	const struct hv_hc_info *spin = hv_hc_lookup(HVCALL_NOTIFY_LONG_SPIN_WAIT);

	EXPECT_FALSE(hv_hc_allowed(pm, 0, ALL_RECS));
	EXPECT_TRUE(hv_hc_allowed(pm, HV_HC_PRIV_POST_MESSAGES, 0));
	EXPECT_FALSE(hv_hc_allowed(se, HV_HC_PRIV_POST_MESSAGES, ALL_RECS));
	EXPECT_TRUE(hv_hc_allowed(se, HV_HC_PRIV_SIGNAL_EVENTS, 0));

	EXPECT_FALSE(hv_hc_allowed(ipi, ALL_PRIVILEGES, 0));
	EXPECT_TRUE(hv_hc_allowed(ipi, 0, HV_HC_REC_CLUSTER_IPI));
	EXPECT_FALSE(hv_hc_allowed(ipi_ex, 0, HV_HC_REC_CLUSTER_IPI));
	EXPECT_TRUE(hv_hc_allowed(ipi_ex, 0, HV_HC_REC_CLUSTER_IPI |
				  HV_HC_REC_EX_PROCESSOR_MASKS));

	EXPECT_FALSE(hv_hc_allowed(fl, ALL_PRIVILEGES,
				   ALL_RECS & ~HV_HC_REC_REMOTE_TLB_FLUSH));
	EXPECT_TRUE(hv_hc_allowed(fl, 0, HV_HC_REC_REMOTE_TLB_FLUSH));
	EXPECT_FALSE(hv_hc_allowed(fl_ex, 0, HV_HC_REC_REMOTE_TLB_FLUSH));
	EXPECT_TRUE(hv_hc_allowed(fl_ex, 0, HV_HC_REC_REMOTE_TLB_FLUSH |
				  HV_HC_REC_EX_PROCESSOR_MASKS));

	EXPECT_TRUE(hv_hc_allowed(spin, 0, 0));
}

TEST(reps)
{
	const u16 list = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST;
	const u16 space = HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE;

	/* A simple call takes neither a count nor a start index. */
	EXPECT_EQ(0, check(control(space, false, 0, 0, 0), 0, 0));
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  check(control(space, false, 0, 1, 0), 0, 0));
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  check(control(space, false, 0, 0, 1), 0, 0));
	/* A rep call needs one rep at least, and a start inside the count. */
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  check(control(list, false, 0, 0, 0), 0, 0));
	EXPECT_EQ(0, check(control(list, false, 0, 1, 0), 0, 0));
	EXPECT_EQ(0, check(control(list, false, 0, 5, 4), 0, 0));
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  check(control(list, false, 0, 5, 5), 0, 0));
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  check(control(list, false, 0, 1, 0xfff), 0, 0));
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  check(control(HVCALL_POST_MESSAGE, false, 0, 1, 0), 0, 0));
}

TEST(variable_header)
{
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  check(control(HVCALL_SEND_IPI, false, 1, 0, 0), 0, 0));
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  check(control(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, false, 1, 1,
				0), 0, 0));
	EXPECT_EQ(0, check(control(HVCALL_SEND_IPI_EX, false, 1, 0, 0), 0, 0));
	EXPECT_EQ(0, check(control(HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX,
				   false, 3, 2, 0), 0, 0));
}

TEST(fast_forms)
{
	struct hv_hc_control c;
	const struct hv_hc_info *info;

	/* Any GPA values in the fast form: they are the arguments. */
	EXPECT_EQ(0, check(control(HVCALL_SIGNAL_EVENT, true, 0, 0, 0),
			   0x123457, 0x3));
	EXPECT_EQ(0, check(control(HVCALL_SEND_IPI, true, 0, 0, 0), 1, 7));
	EXPECT_EQ(0, check(control(HVCALL_NOTIFY_LONG_SPIN_WAIT, true, 0, 0,
				   0), 5, 0));
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  check(control(HVCALL_POST_MESSAGE, true, 0, 0, 0), 0, 0));

	/* The flushes and IPI_EX take their sets in XMM registers. */
	hv_hc_decode(control(HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, true, 0, 0,
			     0), &c);
	info = hv_hc_lookup(c.code);
	EXPECT_TRUE(hv_hc_needs_xmm(info, &c));
	hv_hc_decode(control(HVCALL_SEND_IPI_EX, true, 0, 0, 0), &c);
	EXPECT_TRUE(hv_hc_needs_xmm(hv_hc_lookup(c.code), &c));
	hv_hc_decode(control(HVCALL_SEND_IPI_EX, false, 0, 0, 0), &c);
	EXPECT_FALSE(hv_hc_needs_xmm(hv_hc_lookup(c.code), &c));
	hv_hc_decode(control(HVCALL_SEND_IPI, true, 0, 0, 0), &c);
	EXPECT_FALSE(hv_hc_needs_xmm(hv_hc_lookup(c.code), &c));
}

TEST(alignment)
{
	const u64 pm = control(HVCALL_POST_MESSAGE, false, 0, 0, 0);
	unsigned int i;

	for (i = 1; i < 8; i++) {
		EXPECT_EQ(HV_STATUS_INVALID_ALIGNMENT, check(pm, 0x1000 + i, 0));
		EXPECT_EQ(HV_STATUS_INVALID_ALIGNMENT,
			  check(pm, 0x1000, 0x2000 + i));
	}
	EXPECT_EQ(0, check(pm, 0x1000, 0x2008));
	EXPECT_EQ(0, check(pm, 0xfffffffffffff000ULL, 0));
}

/* The input must not span a page: fixed part, variable header, reps. */
TEST(page_span)
{
	const u64 pm = control(HVCALL_POST_MESSAGE, false, 0, 0, 0);
	const u16 list = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST;
	const u16 list_ex = HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;

	EXPECT_EQ(0, check(pm, 0x1000 + 4096 - 256, 0));
	EXPECT_EQ(HV_STATUS_INVALID_ALIGNMENT,
		  check(pm, 0x1000 + 4096 - 248, 0));

	/* 24 bytes + 509 GVAs fill a page exactly; 510 do not fit. */
	EXPECT_EQ(0, check(control(list, false, 0, 509, 0), 0x5000, 0));
	EXPECT_EQ(HV_STATUS_INVALID_ALIGNMENT,
		  check(control(list, false, 0, 510, 0), 0x5000, 0));
	EXPECT_EQ(HV_STATUS_INVALID_ALIGNMENT,
		  check(control(list, false, 0, 0xfff, 0xffe), 0x5000, 0));

	/* 32 + 8 banks * 8 + 500 GVAs * 8 = 4096. */
	EXPECT_EQ(0, check(control(list_ex, false, 8, 500, 0), 0x5000, 0));
	EXPECT_EQ(HV_STATUS_INVALID_ALIGNMENT,
		  check(control(list_ex, false, 9, 500, 0), 0x5000, 0));
	EXPECT_EQ(HV_STATUS_INVALID_ALIGNMENT,
		  check(control(HVCALL_SEND_IPI_EX, false, 0x3ff, 0, 0),
			0x5000, 0));
	EXPECT_EQ(4096, hv_hc_input_bytes(hv_hc_lookup(list_ex),
					  &(struct hv_hc_control){
						.var_size = 8,
						.rep_count = 500 }));
}

TEST(vp_set_check)
{
	EXPECT_EQ(0, hv_vp_set_check(HV_VP_SET_SPARSE_4K, 0, 0));
	EXPECT_EQ(0, hv_vp_set_check(HV_VP_SET_ALL, 0, 0));
	EXPECT_EQ(0, hv_vp_set_check(HV_VP_SET_SPARSE_4K, 0x8000000000000005ULL,
				     3));
	EXPECT_EQ(0, hv_vp_set_check(HV_VP_SET_SPARSE_4K, ~0ULL, 64));
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  hv_vp_set_check(HV_VP_SET_SPARSE_4K, 0x5, 1));
	EXPECT_EQ(HV_STATUS_INVALID_HYPERCALL_INPUT,
		  hv_vp_set_check(HV_VP_SET_SPARSE_4K, 0, 0x3ff));
	EXPECT_EQ(HV_STATUS_INVALID_PARAMETER, hv_vp_set_check(2, 0, 0));
	EXPECT_EQ(HV_STATUS_INVALID_PARAMETER, hv_vp_set_check(~0ULL, 0, 0));
}

TEST(vp_set_contains)
{
	/* Banks 0, 2 and 63: VPs 1, 128+5, 64*63+63. */
	const u64 mask = 1ULL | 1ULL << 2 | 1ULL << 63;
	const u64 banks[] = { 0x2, 1ULL << 5, 1ULL << 63 };
	u32 vp, n = 0;

	for (vp = 0; vp < 8192; vp++)
		n += hv_vp_set_contains(mask, banks, 3, vp);
	EXPECT_EQ(3, n);
	EXPECT_TRUE(hv_vp_set_contains(mask, banks, 3, 1));
	EXPECT_TRUE(hv_vp_set_contains(mask, banks, 3, 133));
	EXPECT_TRUE(hv_vp_set_contains(mask, banks, 3, 4095));
	EXPECT_FALSE(hv_vp_set_contains(mask, banks, 3, 65));
	/* Banks not read count as empty. */
	EXPECT_FALSE(hv_vp_set_contains(mask, banks, 2, 4095));
	EXPECT_FALSE(hv_vp_set_contains(mask, banks, 0, 1));
	EXPECT_FALSE(hv_vp_set_contains(mask, banks, 3, 0xffffffff));
	/* The processor-mask form: one bank. */
	EXPECT_TRUE(hv_vp_set_contains(1, &banks[2], 1, 63));
	EXPECT_FALSE(hv_vp_set_contains(1, &banks[2], 1, 64));
}

TEST(vp_set_banks_needed)
{
	EXPECT_EQ(0, hv_vp_set_banks_needed(~0ULL, 0));
	EXPECT_EQ(1, hv_vp_set_banks_needed(~0ULL, 1));
	EXPECT_EQ(1, hv_vp_set_banks_needed(~0ULL, 64));
	EXPECT_EQ(2, hv_vp_set_banks_needed(~0ULL, 65));
	EXPECT_EQ(16, hv_vp_set_banks_needed(~0ULL, 1024));
	EXPECT_EQ(64, hv_vp_set_banks_needed(~0ULL, 1U << 31));
	EXPECT_EQ(1, hv_vp_set_banks_needed(0x8000000000000002ULL, 1024));
	EXPECT_EQ(0, hv_vp_set_banks_needed(0x8000000000000000ULL, 1024));
}

/* ((tsc * scale) >> 64) is tsc * 10^4 / khz, give or take one unit. */
TEST(tsc_scale)
{
	static const u64 khz[] = {
		10001, 1000000, 1999999, 2500000, 2994371, 3600000, 5000000,
		100000000,
	};
	static const u64 tscs[] = {
		0, 1, 2994371, 1ULL << 32, 123456789012345ULL, 1ULL << 62,
		~0ULL,
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(khz); i++) {
		u64 scale = hv_tsc_scale(khz[i]);

		ASSERT_NE(0, scale);
		for (j = 0; j < ARRAY_SIZE(tscs); j++) {
			unsigned __int128 want =
				(unsigned __int128)tscs[j] * 10000 / khz[i];
			u64 got = hv_tsc_scaled(tscs[j], scale);

			EXPECT_TRUE(got <= want && want - got <= 1)
				TH_LOG("khz %llu tsc %llu: %llu, want %llu",
				       (unsigned long long)khz[i],
				       (unsigned long long)tscs[j],
				       (unsigned long long)got,
				       (unsigned long long)want);
		}
	}
	EXPECT_EQ(0, hv_tsc_scale(0));
	EXPECT_EQ(0, hv_tsc_scale(10000));
	EXPECT_EQ(0, hv_tsc_scale(1ULL << 32));
}

/* Random input values never crash and decode consistently. */
TEST(random_controls)
{
	struct hv_hc_control c;
	unsigned int i;

	srandom(1);
	for (i = 0; i < 200000; i++) {
		u64 ctl = (u64)random() << 33 ^ (u64)random() << 11 ^ random();
		u64 in = (u64)random() << 32 | random();
		const struct hv_hc_info *info;
		hv_status_t st;

		if (i & 1)	/* often a known code */
			ctl = (ctl & ~0xffffULL) | ((i >> 1) % 2 ? 0x5c : 0x14);
		st = hv_hc_decode(ctl, &c);
		ASSERT_EQ(!!(ctl & (HV_HC_RESERVED | HV_HC_NESTED)), !!st);
		if (st)
			continue;
		ASSERT_EQ(ctl, control(c.code, c.fast, c.var_size,
				       c.rep_count, c.rep_start));
		info = hv_hc_lookup(c.code);
		if (!info)
			continue;
		st = hv_hc_check(info, &c, in, in ^ 8);
		if (!st && !c.fast)
			ASSERT_LE((in & 4095) + hv_hc_input_bytes(info, &c),
				  4096);
	}
}

TEST_HARNESS_MAIN
