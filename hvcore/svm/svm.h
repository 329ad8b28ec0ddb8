/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SVM backend internals.
 */
#ifndef VID_SVM_H
#define VID_SVM_H

#include <asm/svm.h>

#include "../hvcore.h"

/**
 * struct svm_vp - per-VP SVM state; one page from the partition's pool
 * @gprs: general registers indexed as in the TLFS (RAX = 0 .. R15 = 15);
 *	RAX and RSP live in the VMCB and their slots here are unused.
 *	First in the struct: vmenter.S addresses them from its start.
 * @vmcb: the VP's VMCB (its own pool page).
 * @dr: DR0..DR3 (while @dr_loaded: in the hardware registers).
 * @xcr0: the guest's XCR0.
 * @nmi_masked: an injected NMI's handler has not executed IRET yet.
 * @last_cpu: CPU the VP last ran on (-1: never), for ASID reuse.
 * @asid_generation: that CPU's ASID generation when the ASID was taken.
 * @slat_generation: the partition's SLAT generation last flushed for.
 * @state_dirty: the root changed registers since the last run: check the
 *	guest state before entering it.
 * @fpu: the guest's XSAVE area (a pool page).
 * @dr_active: the guest uses its debug registers in this dispatch loop
 *	(MOV DR not intercepted meanwhile; run.c).
 * @dr_loaded: the hardware DR0-3 hold the guest's values.
 * @virq: the vector offered to the guest as a virtual interrupt (V_IRQ)
 *	at the last entry, 0 for none (run.c).
 */
struct svm_vp {
	u64 gprs[16];
	struct vmcb *vmcb;
	u64 dr[4];
	u64 xcr0;
	bool nmi_masked;
	int last_cpu;
	u64 asid_generation;
	u64 slat_generation;
	bool state_dirty;
	void *fpu;
	bool dr_active;
	bool dr_loaded;
	u8 virq;
};

static inline struct svm_vp *to_svm(struct hv_vp *vp)
{
	return vp->arch;
}

static inline void svm_set_intercept(struct svm_vp *svm, u32 bit)
{
	__set_bit(bit, (unsigned long *)svm->vmcb->control.intercepts);
}

static inline void svm_clr_intercept(struct svm_vp *svm, u32 bit)
{
	__clear_bit(bit, (unsigned long *)svm->vmcb->control.intercepts);
}

/* svm.c: the hypervisor-wide permission maps (all accesses intercept). */
extern u64 svm_iopm_pa, svm_msrpm_pa;

/* vmenter.S: one world switch (calling context in the file). */
void svm_vmrun(struct svm_vp *svm, u64 vmcb_pa, u64 host_save_pa);

/* run.c */
void svm_run_setup(void);
hv_status_t svm_vp_run(struct hv_vp *vp, struct hv_message *msg);

/* floor.c */
int svm_measure_floor(u32 iterations, u64 *ns);

/* fpu.c */
int svm_fpu_setup(void);
u64 svm_fpu_host_xcr0(void);
void svm_fpu_reset(struct svm_vp *svm);
void svm_fpu_enter(struct svm_vp *svm);
void svm_fpu_load_xcr0(struct svm_vp *svm);
void svm_fpu_put_xcr0(struct svm_vp *svm);
void svm_fpu_exit(struct svm_vp *svm);
bool svm_fpu_xsetbv(struct svm_vp *svm);
bool svm_fpu_reg(u32 name);
bool svm_fpu_check_reg(u32 name, const union hv_reg_value *v);
void svm_fpu_get_reg(struct svm_vp *svm, u32 name, union hv_reg_value *v);
void svm_fpu_set_reg(struct svm_vp *svm, u32 name,
		     const union hv_reg_value *v);

/* regs.c */
u64 svm_xcr0_allowed(void);
bool svm_xcr0_ok(u64 xcr0);

/* cpuid.c */
void svm_emulate_cpuid(struct hv_vp *vp);

/* npt.c */
void *svm_npt_root(struct hv_partition *p);
hv_status_t svm_slat_map(struct hv_partition *p, u64 gfn, const u64 *pfns,
			 u32 count, u32 flags);
void svm_slat_unmap(struct hv_partition *p, u64 gfn, u32 count);
void svm_slat_destroy(struct hv_partition *p);
bool svm_npt_lookup(struct hv_partition *p, u64 gfn, u64 *pfn,
		    bool *writable);

/*
 * fetch.c: the bytes at the guest's CS:RIP (up to 16) into @bytes; returns
 * how many it got. Context: after a #VMEXIT, preemptible, no lock held.
 */
u8 svm_fetch_insn(struct hv_vp *vp, u8 *bytes);

/* vmcb.c */
hv_status_t svm_vp_create(struct hv_vp *vp);
void svm_vp_destroy(struct hv_vp *vp);
void svm_vp_init(struct hv_vp *vp);
void svm_vp_sipi(struct hv_vp *vp, u8 vector);
void svm_vp_flush_tlb(struct hv_vp *vp);
void svm_vp_dump(struct hv_vp *vp, struct seq_file *m);
bool svm_slat_lookup(struct hv_partition *p, u64 gfn, u64 *pfn,
		     bool *writable);

/* regs.c */
hv_status_t svm_vp_check_reg(struct hv_vp *vp, u32 name,
			     const union hv_reg_value *value);
void svm_vp_set_reg(struct hv_vp *vp, u32 name,
		    const union hv_reg_value *value);
hv_status_t svm_vp_get_reg(struct hv_vp *vp, u32 name,
			   union hv_reg_value *value);

#endif /* VID_SVM_H */
