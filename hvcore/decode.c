// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO instruction decoder (see decode.h for what it accepts). One pass
 * over the bytes through a cursor that refuses to read past the valid
 * length or the 15-byte limit, so every truncated or overlong encoding
 * fails the same way, at the first byte it would need.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#endif

#include "decode.h"

#define REX_W	0x08
#define REX_R	0x04

/* Bytes of the instruction left to read: never more than 15 in all. */
struct hv_dec {
	const u8 *bytes;
	unsigned int end;
	unsigned int pos;
};

static int hv_dec_byte(struct hv_dec *d, u8 *b)
{
	if (d->pos >= d->end)
		return -EINVAL;
	*b = d->bytes[d->pos++];
	return 0;
}

/* Read a little-endian field of @len bytes (0..4) into @val. */
static int hv_dec_field(struct hv_dec *d, unsigned int len, u32 *val)
{
	unsigned int i;

	if (len > d->end - d->pos)
		return -EINVAL;
	*val = 0;
	for (i = 0; i < len; i++)
		*val |= (u32)d->bytes[d->pos + i] << (8 * i);
	d->pos += len;
	return 0;
}

/* Step over @len bytes that must be present but whose value is unused. */
static int hv_dec_skip(struct hv_dec *d, unsigned int len)
{
	if (len > d->end - d->pos)
		return -EINVAL;
	d->pos += len;
	return 0;
}

static bool hv_dec_is_segment(u8 b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
	       b == 0x64 || b == 0x65;
}

/*
 * Step over the memory operand a ModRM byte describes: SIB byte and
 * displacement, by address size @asize (2 for the 16-bit forms, 4 or 8
 * for the 32-bit ones, which 64-bit code shares; there mod 0, r/m 5 is
 * RIP-relative, the same length as the absolute disp32 it replaces).
 * REX.B and REX.X change neither form nor length. A register operand
 * (mod 3) cannot be MMIO.
 */
static int hv_dec_mem(struct hv_dec *d, u8 modrm, unsigned int asize)
{
	unsigned int mod = modrm >> 6, rm = modrm & 7, disp;
	u8 sib;

	if (mod == 3)
		return -EINVAL;
	if (mod == 0)
		disp = 0;
	else if (mod == 1)
		disp = 1;
	else
		disp = asize == 2 ? 2 : 4;

	if (asize == 2) {
		/* [BP] with no displacement is encoded as disp16 alone. */
		if (mod == 0 && rm == 6)
			disp = 2;
	} else if (rm == 4) {
		if (hv_dec_byte(d, &sib))
			return -EINVAL;
		/* SIB base 5 with mod 0: no base, disp32. */
		if (mod == 0 && (sib & 7) == 5)
			disp = 4;
	} else if (mod == 0 && rm == 5) {
		disp = 4;
	}
	return hv_dec_skip(d, disp);
}

/* The register in ModRM.reg for an operand of @size bytes. */
static void hv_dec_reg(struct hv_mmio_insn *out, u8 modrm, u8 rex,
		       unsigned int size)
{
	unsigned int reg = ((modrm >> 3) & 7) | (rex & REX_R ? 8 : 0);

	/* Without REX, byte registers 4..7 are AH, CH, DH, BH. */
	if (size == 1 && !rex && reg >= 4) {
		out->reg = reg - 4;
		out->high_byte = true;
	} else {
		out->reg = reg;
	}
}

int hv_mmio_decode(const u8 *bytes, unsigned int nbytes, int mode,
		   struct hv_mmio_insn *out)
{
	struct hv_dec d = { .bytes = bytes, .pos = 0 };
	bool opsize = false, adsize = false, imm = false;
	unsigned int osize, asize;
	u8 op, rex = 0, modrm;
	u32 val;

	if (mode != 16 && mode != 32 && mode != 64)
		return -EINVAL;
	d.end = nbytes < HV_INSN_MAX_LEN ? nbytes : HV_INSN_MAX_LEN;
	memset(out, 0, sizeof(*out));

	/*
	 * Prefixes, in any order and number. REX counts only right before
	 * the opcode: a legacy prefix after it cancels it.
	 */
	for (;;) {
		bool is_rex;

		if (hv_dec_byte(&d, &op))
			return -EINVAL;
		/* Outside 64-bit code 40..4F are INC/DEC: refused below. */
		is_rex = mode == 64 && (op & 0xf0) == 0x40;
		if (op == 0x66)
			opsize = true;
		else if (op == 0x67)
			adsize = true;
		else if (!is_rex && !hv_dec_is_segment(op))
			break;
		rex = is_rex ? op : 0;
	}

	if (mode == 64) {
		osize = rex & REX_W ? 8 : opsize ? 2 : 4;
		asize = adsize ? 4 : 8;
	} else {
		osize = (mode == 16) != opsize ? 2 : 4;
		asize = (mode == 16) != adsize ? 2 : 4;
	}

	switch (op) {
	case 0x88:	/* MOV r/m8, r8 */
	case 0x89:	/* MOV r/m, r */
	case 0x8a:	/* MOV r8, r/m8 */
	case 0x8b:	/* MOV r, r/m */
		out->size = op & 1 ? osize : 1;
		out->write = !(op & 2);
		break;
	case 0xc6:	/* MOV r/m8, imm8 */
	case 0xc7:	/* MOV r/m, imm16/imm32 */
		out->size = op & 1 ? osize : 1;
		out->write = true;
		imm = true;
		break;
	case 0xa0:	/* MOV AL, moffs8 */
	case 0xa1:	/* MOV eAX, moffs */
	case 0xa2:	/* MOV moffs8, AL */
	case 0xa3:	/* MOV moffs, eAX */
		out->size = op & 1 ? osize : 1;
		out->reg_size = out->size;
		out->write = op & 2;
		out->reg = HV_GPR_RAX;
		/* The address is all the rest: 2, 4 or 8 bytes. */
		if (hv_dec_skip(&d, asize))
			return -EINVAL;
		out->len = d.pos;
		return 0;
	case 0x0f:
		if (hv_dec_byte(&d, &op))
			return -EINVAL;
		switch (op) {
		case 0xb6:	/* MOVZX r, r/m8 */
		case 0xb7:	/* MOVZX r, r/m16 */
			out->zero_extend = true;
			break;
		case 0xbe:	/* MOVSX r, r/m8 */
		case 0xbf:	/* MOVSX r, r/m16 */
			out->sign_extend = true;
			break;
		default:
			return -EINVAL;
		}
		if (hv_dec_byte(&d, &modrm) || hv_dec_mem(&d, modrm, asize))
			return -EINVAL;
		out->size = op & 1 ? 2 : 1;
		out->reg_size = osize;
		hv_dec_reg(out, modrm, rex, osize);
		out->len = d.pos;
		return 0;
	default:
		return -EINVAL;
	}

	if (hv_dec_byte(&d, &modrm))
		return -EINVAL;
	/* C6 and C7 are MOV only with ModRM.reg 0 (/7 is XABORT, XBEGIN). */
	if (imm && (modrm & 0x38))
		return -EINVAL;
	if (hv_dec_mem(&d, modrm, asize))
		return -EINVAL;

	out->reg_size = out->size;
	if (imm) {
		out->src_kind = HV_MMIO_IMM;
		/* imm8, imm16, or imm32 (sign-extended with REX.W). */
		if (hv_dec_field(&d, out->size < 4 ? out->size : 4, &val))
			return -EINVAL;
		out->imm = val;
		if (out->size == 8 && (val & 0x80000000))
			out->imm |= 0xffffffff00000000ULL;
	} else {
		hv_dec_reg(out, modrm, rex, out->size);
	}
	out->len = d.pos;
	return 0;
}

static u64 hv_mmio_mask(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

u64 hv_mmio_merge(u64 old, const struct hv_mmio_insn *insn, u64 val)
{
	u64 mask = hv_mmio_mask(insn->size);

	val &= mask;
	/* The sign bit is the top bit of @mask. */
	if (insn->sign_extend && (val & ~(mask >> 1)))
		val |= ~mask;

	switch (insn->reg_size) {
	case 1:
		if (insn->high_byte)
			return (old & ~0xff00ULL) | ((val & 0xff) << 8);
		return (old & ~0xffULL) | (val & 0xff);
	case 2:
		return (old & ~0xffffULL) | (val & 0xffff);
	case 4:
		return val & 0xffffffffULL;
	default:
		return val;
	}
}

u64 hv_mmio_store_value(const struct hv_mmio_insn *insn, u64 reg)
{
	u64 val = insn->src_kind == HV_MMIO_IMM ? insn->imm : reg;

	if (insn->src_kind == HV_MMIO_REG && insn->high_byte)
		val >>= 8;
	return val & hv_mmio_mask(insn->size);
}
