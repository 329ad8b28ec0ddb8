/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small x86 instruction decoder for MMIO emulation: it recognizes the
 * MOV forms guest kernels use on device memory (Linux's readX()/writeX(),
 * xAPIC, IOAPIC and MSI-X table accesses, real-mode firmware) and reports
 * what the access is, nothing more. The guest physical address comes from
 * the intercept, so operand addresses are not computed, only skipped over
 * to find the instruction's length.
 *
 * Recognized, in 16-, 32- and 64-bit code:
 *   88 /r  MOV r/m8, r8          8A /r  MOV r8, r/m8
 *   89 /r  MOV r/m, r            8B /r  MOV r, r/m
 *   C6 /0  MOV r/m8, imm8        C7 /0  MOV r/m, imm16/32
 *   A0..A3 MOV AL/AX/EAX/RAX to and from moffs
 *   0F B6, 0F B7  MOVZX r, r/m8 and r/m16
 *   0F BE, 0F BF  MOVSX r, r/m8 and r/m16
 * with any number of operand-size (66), address-size (67) and segment
 * (26, 2E, 36, 3E, 64, 65) prefixes, and in 64-bit code a REX prefix
 * right before the opcode. Everything else fails with -EINVAL, for the
 * caller to pass the access to the VMM as it is: LOCK, REP/REPNE (and so
 * XACQUIRE/XRELEASE), register operands (mod == 3), reserved ModRM.reg
 * values, any other opcode, more than 15 bytes, or fewer bytes than the
 * instruction needs.
 *
 * The bytes are hostile: the decoder reads each one at most once, never
 * past @nbytes nor past the 15th, and keeps no state between calls. It
 * builds as userspace C too (selftests/unit/decode_test.c), with the shim
 * in selftests/unit/kshim.h.
 *
 * Calling context: any; no locks, no allocation, no sleeping.
 */
#ifndef VID_HV_DECODE_H
#define VID_HV_DECODE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "kshim.h"
#endif

/* Architectural limit on an x86 instruction's length. */
#define HV_INSN_MAX_LEN	15

/* General-purpose register numbers, as ModRM and REX encode them. */
enum hv_gpr {
	HV_GPR_RAX, HV_GPR_RCX, HV_GPR_RDX, HV_GPR_RBX,
	HV_GPR_RSP, HV_GPR_RBP, HV_GPR_RSI, HV_GPR_RDI,
	HV_GPR_R8, HV_GPR_R9, HV_GPR_R10, HV_GPR_R11,
	HV_GPR_R12, HV_GPR_R13, HV_GPR_R14, HV_GPR_R15,
};

/* Where a store's data comes from; a load always goes to @reg. */
enum hv_mmio_src {
	HV_MMIO_REG,
	HV_MMIO_IMM,
};

/**
 * struct hv_mmio_insn - one decoded MMIO access
 * @len: instruction length in bytes, 1..15 and never more than the
 *	@nbytes given to hv_mmio_decode(): the guest's RIP advances by this.
 * @size: bytes accessed in memory: 1, 2, 4 or 8.
 * @reg_size: width in bytes of the register operand: the destination of a
 *	load (wider than @size for MOVZX/MOVSX) or the source of a store
 *	from a register; equal to @size otherwise.
 * @write: true for a store to memory, false for a load from it.
 * @src_kind: for a store, whether the data is register @reg or @imm.
 * @reg: the register operand (enum hv_gpr); for a byte operand with
 *	@high_byte set, 0..3 name AH, CH, DH, BH.
 * @high_byte: the operand is bits 15:8 of @reg (AH..BH: a byte register
 *	4..7 without any REX prefix).
 * @zero_extend: a load that zero-extends @size bytes to @reg_size (MOVZX).
 * @sign_extend: a load that sign-extends @size bytes to @reg_size (MOVSX).
 * @imm: the immediate of a store from @imm, already extended to 64 bits
 *	as the CPU does (C7 with REX.W sign-extends imm32); the low @size
 *	bytes are the data.
 */
struct hv_mmio_insn {
	u8 len;
	u8 size;
	u8 reg_size;
	bool write;
	enum hv_mmio_src src_kind;
	u8 reg;
	bool high_byte;
	bool zero_extend;
	bool sign_extend;
	u64 imm;
};

/**
 * hv_mmio_decode() - decode the instruction that made an MMIO access
 * @bytes: the instruction's bytes, a private copy (not guest-shared memory).
 * @nbytes: how many bytes of @bytes are valid; more than 15 is fine.
 * @mode: the code size, 16, 32 or 64 (CS.L set: 64; else CS.D: 32 or 16).
 * @out: the decoded access, filled on success; unspecified on failure.
 *
 * Return: 0, or -EINVAL when the instruction is not one of the forms above
 * or is cut short by @nbytes.
 */
int hv_mmio_decode(const u8 *bytes, unsigned int nbytes, int mode,
		   struct hv_mmio_insn *out);

/**
 * hv_mmio_merge() - a register's value after a decoded load
 * @old: the destination register's value before the load.
 * @insn: the decoded load.
 * @val: the data read from the device (bits above @insn->size ignored).
 *
 * Applies x86 register-write rules: a 4-byte destination is zero-extended
 * to 64 bits, 1- and 2-byte destinations keep the other bits of @old, a
 * high-byte destination replaces bits 15:8 only; MOVZX/MOVSX extend @val
 * first.
 *
 * Return: the new 64-bit value of register @insn->reg.
 */
u64 hv_mmio_merge(u64 old, const struct hv_mmio_insn *insn, u64 val);

/**
 * hv_mmio_store_value() - the data a decoded store writes
 * @insn: the decoded store.
 * @reg: the value of register @insn->reg (ignored for an immediate store).
 *
 * Return: the @insn->size bytes to write, zero-extended to 64 bits.
 */
u64 hv_mmio_store_value(const struct hv_mmio_insn *insn, u64 reg);

#endif /* VID_HV_DECODE_H */
