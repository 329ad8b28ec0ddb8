// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO the hypervisor emulates itself: the xAPIC register page. The
 * backend hands over the faulting instruction's bytes (fetched through
 * the guest's page tables); it is decoded (decode.c), applied to the
 * vLAPIC and the VP's registers, and RIP stepped past it. Anything the
 * decoder or the APIC does not accept (other instructions, sizes other
 * than a dword, unaligned offsets) goes to the root like any other MMIO.
 */
#include "arch.h"
#include "decode.h"
#include "hv_regs.h"
#include "hvcore.h"
#include "lapic.h"

static u64 hv_mmio_get_gpr(struct hv_vp *vp, u8 gpr)
{
	union hv_reg_value v = {};

	hv_arch->vp_get_reg(vp, HV_X64_REGISTER_RAX + gpr, &v);
	return v.reg64;
}

static void hv_mmio_set_reg(struct hv_vp *vp, u32 name, u64 value)
{
	union hv_reg_value v = { .reg64 = value };

	hv_arch->vp_set_reg(vp, name, &v);
}

bool hv_mmio_emulate(struct hv_vp *vp, u64 gpa, const u8 *bytes, u8 nbytes,
		     int mode, u64 rip)
{
	u32 offset = gpa & (PAGE_SIZE - 1);
	struct hv_mmio_insn insn;
	u32 value;
	u64 reg;

	if (!hv_lapic_mmio_hit(vp, gpa))
		return false;
	if (hv_mmio_decode(bytes, nbytes, mode, &insn) || insn.size != 4)
		return false;
	if (insn.write) {
		/* A dword store has no AH..BH source: @reg is the GPR. */
		reg = insn.src_kind == HV_MMIO_REG ?
		      hv_mmio_get_gpr(vp, insn.reg) : 0;
		value = hv_mmio_store_value(&insn, reg);
		if (!hv_lapic_mmio_write(vp, offset, value))
			return false;
	} else {
		if (!hv_lapic_mmio_read(vp, offset, &value))
			return false;
		reg = hv_mmio_get_gpr(vp, insn.reg);
		hv_mmio_set_reg(vp, HV_X64_REGISTER_RAX + insn.reg,
				hv_mmio_merge(reg, &insn, value));
	}
	hv_mmio_set_reg(vp, HV_X64_REGISTER_RIP,
			mode == 64 ? rip + insn.len : (u32)(rip + insn.len));
	return true;
}
