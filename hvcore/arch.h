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
 */
struct hv_arch_ops {
	const char *name;
	int (*hardware_probe)(void);
	int (*hardware_enable_cpu)(void *host_save);
	void (*hardware_disable_cpu)(void);
};

extern const struct hv_arch_ops *hv_arch;

/* Backends, each probed in turn by hv_core_init(). */
extern const struct hv_arch_ops svm_arch_ops;

#endif /* VID_HV_ARCH_H */
