// SPDX-License-Identifier: GPL-2.0
/*
 * The faulting instruction's bytes for memory intercept messages, as
 * Hyper-V gives them to the root for MMIO emulation. With decode assists
 * the CPU saved them in the VMCB; without (QEMU's TCG) they are fetched
 * here: CS.base + RIP translated through the guest's own page tables as
 * its VMCB state says (no paging, 32-bit, PAE or long mode), every guest
 * table entry and the bytes themselves read through the partition's NPT.
 *
 * Everything read from the guest is hostile: a walk has at most five
 * levels, every address read is a GPA the NPT maps, and anything the walk
 * cannot follow ends the fetch with the bytes it has (possibly none).
 * Access rights and accessed/dirty bits are neither checked nor set: the
 * fetch reads what the guest was executing, it does not emulate it.
 *
 * Calling context: the VP's run loop after a #VMEXIT, preemption enabled,
 * no lock held; the NPT is read as svm_npt_lookup() allows.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <asm/cpufeature.h>

#include "svm.h"

#define GPT_P		BIT_ULL(0)
#define GPT_PS		BIT_ULL(7)	/* a large page below the top level */
#define GPT_ADDR	GENMASK_ULL(51, 12)
#define GPT_ADDR32	GENMASK_ULL(31, 12)
#define GPT_PDPT_ADDR	GENMASK_ULL(31, 5)	/* CR3 in PAE mode */
#define FETCH_MAX	16

/* Copy @len bytes at guest physical @gpa, all in one page, into @buf. */
static bool fetch_gpa_read(struct hv_partition *p, u64 gpa, void *buf,
			   unsigned int len)
{
	void *va;
	u64 pfn;

	if (!svm_npt_lookup(p, PHYS_PFN(gpa), &pfn, NULL) || !pfn_valid(pfn))
		return false;
	va = kmap_local_pfn(pfn);
	memcpy(buf, va + offset_in_page(gpa), len);
	kunmap_local(va);
	return true;
}

/* A present guest table entry, 4 or 8 bytes at @gpa. */
static bool fetch_entry(struct hv_partition *p, u64 gpa, unsigned int size,
			u64 *entry)
{
	u32 e32;

	if (size == sizeof(e32)) {
		if (!fetch_gpa_read(p, gpa, &e32, size))
			return false;
		*entry = e32;
	} else if (!fetch_gpa_read(p, gpa, entry, size)) {
		return false;
	}
	return *entry & GPT_P;
}

/*
 * Walk @levels levels of guest tables from @table for @gva: 4-byte
 * entries with 10 index bits each without PAE, 8-byte with 9 bits with it.
 * A large page ends the walk at level 2 (2 or 4 MiB) or, in long mode,
 * level 3 (1 GiB); PS above that is reserved.
 */
static bool fetch_walk(struct hv_partition *p, const struct vmcb_save_area *s,
		       u64 table, int levels, u64 gva, u64 *gpa)
{
	bool pae = s->cr4 & X86_CR4_PAE;
	unsigned int bits = pae ? 9 : 10, size = pae ? 8 : 4, shift;
	u64 entry, index;
	int level;

	for (level = levels; level > 1; level--) {
		shift = PAGE_SHIFT + bits * (level - 1);
		index = (gva >> shift) & (BIT_ULL(bits) - 1);
		if (!fetch_entry(p, table + index * size, size, &entry))
			return false;
		if (!(entry & GPT_PS) || (!pae && !(s->cr4 & X86_CR4_PSE))) {
			table = entry & (pae ? GPT_ADDR : GPT_ADDR32);
			continue;
		}
		if (level > 3)
			return false;
		if (pae)
			*gpa = entry & GENMASK_ULL(51, shift);
		else	/* PSE-36: PDE bits 20:13 are address bits 39:32 */
			*gpa = (entry & GENMASK_ULL(31, 22)) |
			       ((entry >> 13) & 0xff) << 32;
		*gpa |= gva & (BIT_ULL(shift) - 1);
		return true;
	}
	index = (gva >> PAGE_SHIFT) & (BIT_ULL(bits) - 1);
	if (!fetch_entry(p, table + index * size, size, &entry))
		return false;
	*gpa = (entry & (pae ? GPT_ADDR : GPT_ADDR32)) | offset_in_page(gva);
	return true;
}

/* Translate linear @gva as the guest's paging mode does. */
static bool fetch_translate(struct hv_partition *p,
			    const struct vmcb_save_area *s, u64 gva, u64 *gpa)
{
	u64 pdpte;

	if (!(s->cr0 & X86_CR0_PG)) {
		*gpa = gva;
		return true;
	}
	if (!(s->cr4 & X86_CR4_PAE))
		return fetch_walk(p, s, s->cr3 & GPT_ADDR32, 2, gva, gpa);
	if (s->efer & EFER_LMA)
		return fetch_walk(p, s, s->cr3 & GPT_ADDR,
				  s->cr4 & X86_CR4_LA57 ? 5 : 4, gva, gpa);
	/* PAE: four PDPTEs at CR3, then two levels of 8-byte entries. */
	if (!fetch_entry(p, (s->cr3 & GPT_PDPT_ADDR) + ((gva >> 30) & 3) * 8,
			 8, &pdpte))
		return false;
	return fetch_walk(p, s, pdpte & GPT_ADDR, 2, gva, gpa);
}

/* Is @la a canonical address for the guest's paging depth? */
static bool fetch_canonical(const struct vmcb_save_area *s, u64 la)
{
	unsigned int bits = s->cr4 & X86_CR4_LA57 ? 57 : 48;

	return (u64)((s64)(la << (64 - bits)) >> (64 - bits)) == la;
}

u8 svm_fetch_insn(struct hv_vp *vp, u8 *bytes)
{
	struct vmcb *vmcb = to_svm(vp)->vmcb;
	const struct vmcb_save_area *s = &vmcb->save;
	bool code64 = (s->efer & EFER_LMA) &&
		      (s->cs.attrib & SVM_SELECTOR_L_MASK);
	unsigned int n = 0, chunk;
	u64 la, gpa;

	if (boot_cpu_has(X86_FEATURE_DECODEASSISTS) &&
	    vmcb->control.insn_len) {
		n = min_t(unsigned int, vmcb->control.insn_len,
			  sizeof(vmcb->control.insn_bytes));
		memcpy(bytes, vmcb->control.insn_bytes, n);
		return n;
	}
	/* At most two rounds: 16 bytes cross at most one page boundary. */
	while (n < FETCH_MAX) {
		if (code64) {
			la = s->rip + n;
			if (!fetch_canonical(s, la))
				break;
		} else {
			la = (u32)(s->cs.base + s->rip + n);
		}
		chunk = min_t(unsigned int, FETCH_MAX - n,
			      PAGE_SIZE - offset_in_page(la));
		if (!fetch_translate(vp->partition, s, la, &gpa) ||
		    !fetch_gpa_read(vp->partition, gpa, bytes + n, chunk))
			break;
		n += chunk;
	}
	return n;
}
