// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for hypercall input decoding (hvcore/hcall_input.c):
 * every value comes from the guest. Build with the top-level Makefile's
 * build/fuzz/hcall_input_fuzz target (clang, -fsanitize=fuzzer,address,
 * undefined), then run the binary, e.g. with -max_total_time=60.
 *
 * Input (little endian, zero-extended when short): u64 input value, u64
 * input GPA, u64 output GPA, u64 VP set format, u64 valid bank mask,
 * u32 VP count, u32 TSC kHz, u64 TSC, then up to 64 banks.
 *
 * Checked, besides what ASan and UBSan catch: decoding succeeds exactly
 * without reserved and nested bits and loses no field; an accepted
 * memory-form call has aligned GPAs and an input within one page; a VP
 * set is accepted exactly for a known format with one bank per valid
 * bit; membership agrees with a plain bitmap built from the banks; the
 * TSC scale never overshoots and is at most one unit short.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../../hvcore/hcall_input.h"

struct fuzz_input {
	u64 control, in_gpa, out_gpa, format, mask;
	u32 max_vps, tsc_khz;
	u64 tsc;
	u64 banks[HV_VP_SET_MAX_BANKS];
};

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void fuzz_call(const struct fuzz_input *in)
{
	const struct hv_hc_info *info;
	struct hv_hc_control c;
	hv_status_t st;
	u64 re;

	st = hv_hc_decode(in->control, &c);
	CHECK(!st == !(in->control & (HV_HC_RESERVED | HV_HC_NESTED)));
	if (st)
		return;
	re = c.code | (c.fast ? HV_HC_FAST : 0) |
	     (u64)c.var_size << HV_HC_VAR_SHIFT |
	     (u64)c.rep_count << HV_HC_REP_COUNT_SHIFT |
	     (u64)c.rep_start << HV_HC_REP_START_SHIFT;
	CHECK(re == in->control);
	info = hv_hc_lookup(c.code);
	if (!info)
		return;
	CHECK(info->code == c.code);
	(void)hv_hc_allowed(info, in->in_gpa, (u32)in->out_gpa);
	st = hv_hc_check(info, &c, in->in_gpa, in->out_gpa);
	if (st || c.fast)
		return;
	CHECK(!(in->in_gpa & 7) && !(in->out_gpa & 7));
	CHECK((in->in_gpa & 4095) + hv_hc_input_bytes(info, &c) <= 4096);
	if (info->flags & HV_HC_F_REP)
		CHECK(c.rep_start < c.rep_count);
	else
		CHECK(!c.rep_count && !c.rep_start);
}

static void fuzz_vp_set(const struct fuzz_input *in)
{
	u32 max_vps = in->max_vps % 8192, nbanks, vp, slot = 0, bank;
	u64 bitmap[HV_VP_SET_MAX_BANKS] = { 0 };
	hv_status_t st;

	st = hv_vp_set_check(in->format, in->mask, in->control & 0x3ff);
	CHECK(!st == (in->format <= 1 &&
		      (u64)__builtin_popcountll(in->mask) ==
		      (in->control & 0x3ff)));
	nbanks = hv_vp_set_banks_needed(in->mask, max_vps);
	CHECK(nbanks <= (u32)__builtin_popcountll(in->mask));
	/* The reference: bank n's contents at its packed position. */
	for (bank = 0; bank < HV_VP_SET_MAX_BANKS; bank++)
		if (in->mask & 1ULL << bank)
			bitmap[bank] = slot < nbanks ? in->banks[slot++] : 0;
	for (vp = 0; vp < max_vps; vp++) {
		bool want = vp / 64 < HV_VP_SET_MAX_BANKS &&
			    (bitmap[vp / 64] >> (vp % 64) & 1);

		CHECK(hv_vp_set_contains(in->mask, in->banks, nbanks, vp) ==
		      want);
	}
}

static void fuzz_tsc(const struct fuzz_input *in)
{
	u64 scale = hv_tsc_scale(in->tsc_khz);
	__uint128_t want;
	u64 got;

	CHECK(!scale == (in->tsc_khz <= 10000));
	if (!scale)
		return;
	want = (__uint128_t)in->tsc * 10000 / in->tsc_khz;
	got = hv_tsc_scaled(in->tsc, scale);
	CHECK(got <= want && want - got <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in;

	memset(&in, 0, sizeof(in));
	memcpy(&in, data, size < sizeof(in) ? size : sizeof(in));
	fuzz_call(&in);
	fuzz_vp_set(&in);
	fuzz_tsc(&in);
	return 0;
}
