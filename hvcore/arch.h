/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one table through which the common hypervisor core reaches the
 * hardware backend (in the spirit of kvm_x86_ops). The core never names a
 * backend; it calls hv_arch->op(). Every op is mandatory and checked at
 * registration (hv_arch_register()).
 */
#ifndef VID_HV_ARCH_H
#define VID_HV_ARCH_H

#include <linux/types.h>

#include "hv_call.h"

struct hv_partition;
struct hv_vp;
struct seq_file;

/**
 * struct hv_arch_ops - hardware backend operations
 * @name: backend name for log lines ("svm", "vmx").
 * @hardware_probe: does this CPU support the backend? Module init,
 *	process context. 0, or -ENODEV after one log line saying why.
 * @hardware_enable_cpu: turn virtualization on for the calling CPU, with
 *	@host_save (one page from the root pool) as its host save area.
 *	Called with IRQs disabled on the target CPU. Must return -EBUSY and
 *	change nothing when another hypervisor already owns this CPU.
 * @hardware_disable_cpu: undo @hardware_enable_cpu on the calling CPU.
 *	IRQs disabled; only called on CPUs where enable succeeded.
 * @hardware_exit: free what @hardware_probe set up. Module exit.
 *
 * SLAT (second-level address translation) ops run in process context with
 * the partition's lock held; table pages come from the partition's pool.
 * @slat_map: map @count guest frames from @gfn to host frames @pfns with
 *	HV_MAP_GPA_* rights (with HV_MAP_GPA_LARGE_PAGE: @count 2 MiB pages,
 *	all aligned); HV_STATUS_INSUFFICIENT_MEMORY when the pool is
 *	dry (what was mapped stays mapped).
 * @slat_unmap: unmap @count guest frames from @gfn.
 * @slat_destroy: free every table page back to the pool.
 * @slat_lookup: the host frame behind @gfn and whether the guest may
 *	write it; false when unmapped. Any context; lockless (a racing
 *	map or unmap gives the old or the new translation).
 *
 * VP ops run in process context with the VP's lock held and the VP
 * stopped; per-VP backend state comes from the partition's pool.
 * @vp_create: allocate and reset the backend state (architectural INIT
 *	state), stored in vp->arch.
 * @vp_destroy: give the backend state back to the pool.
 * @vp_check_reg: HV_STATUS_INVALID_PARAMETER when @name is unknown or the
 *	value is not one the register may hold; changes nothing.
 * @vp_set_reg: write a value @vp_check_reg accepted.
 * @vp_get_reg: read a register; HV_STATUS_INVALID_PARAMETER if unknown.
 *	These three also serve exit handlers in VP context (general,
 *	control, segment and MSR-backed registers; not the FPU state,
 *	which is loaded in the CPU then).
 * @vp_init: VP context: the state an INIT signal leaves (no event in
 *	flight).
 * @vp_sipi: VP context: start at a startup IPI's @vector.
 * @vp_flush_tlb: VP context: flush the VP's guest translations before
 *	its next entry.
 * @vp_dump: diagnostics (dump.c): the backend's event state of a VP
 *	that may be running, as text (racy reads). Optional.
 * @measure_floor: time @iterations bare world switches on the calling
 *	CPU (virtualization must be on); total nanoseconds in @ns.
 * @vp_run: run the VP (marked running, its lock not held, preemptible
 *	process context) until an exit for the root, which it writes to
 *	@msg, or until the thread must reschedule or handle a signal (then
 *	@msg's type is HVMSG_NONE).
 */
struct hv_arch_ops {
	const char *name;
	int (*hardware_probe)(void);
	int (*hardware_enable_cpu)(void *host_save);
	void (*hardware_disable_cpu)(void);
	void (*hardware_exit)(void);

	hv_status_t (*slat_map)(struct hv_partition *p, u64 gfn,
				const u64 *pfns, u32 count, u32 flags);
	void (*slat_unmap)(struct hv_partition *p, u64 gfn, u32 count);
	void (*slat_destroy)(struct hv_partition *p);
	bool (*slat_lookup)(struct hv_partition *p, u64 gfn, u64 *pfn,
			    bool *writable);

	hv_status_t (*vp_create)(struct hv_vp *vp);
	void (*vp_destroy)(struct hv_vp *vp);
	hv_status_t (*vp_check_reg)(struct hv_vp *vp, u32 name,
				    const union hv_reg_value *value);
	void (*vp_set_reg)(struct hv_vp *vp, u32 name,
			   const union hv_reg_value *value);
	hv_status_t (*vp_get_reg)(struct hv_vp *vp, u32 name,
				  union hv_reg_value *value);
	void (*vp_init)(struct hv_vp *vp);
	void (*vp_sipi)(struct hv_vp *vp, u8 vector);
	void (*vp_flush_tlb)(struct hv_vp *vp);
	hv_status_t (*vp_run)(struct hv_vp *vp, struct hv_message *msg);
	void (*vp_dump)(struct hv_vp *vp, struct seq_file *m);
	int (*measure_floor)(u32 iterations, u64 *ns);
};

extern const struct hv_arch_ops *hv_arch;

/* Backends, each probed in turn by hv_core_init(). */
extern const struct hv_arch_ops svm_arch_ops;

#endif /* VID_HV_ARCH_H */
