// SPDX-License-Identifier: GPL-2.0
/*
 * hvcore bring-up: pick the hardware backend, check its ops table, set up
 * the root pool and CPU hotplug handling.
 */
#include <linux/printk.h>

#include "arch.h"
#include "hvcore.h"

const struct hv_arch_ops *hv_arch;

static const struct hv_arch_ops *const hv_arch_backends[] = {
	&svm_arch_ops,
};

static int hv_arch_register(const struct hv_arch_ops *ops)
{
	if (!ops->name || !ops->hardware_probe || !ops->hardware_enable_cpu ||
	    !ops->hardware_disable_cpu || !ops->hardware_exit ||
	    !ops->slat_map || !ops->slat_unmap ||
	    !ops->slat_destroy || !ops->slat_lookup ||
	    !ops->vp_create || !ops->vp_destroy || !ops->vp_init ||
	    !ops->vp_sipi || !ops->vp_flush_tlb ||
	    !ops->vp_check_reg || !ops->vp_set_reg || !ops->vp_get_reg ||
	    !ops->vp_run || !ops->measure_floor) {
		pr_err("vid: backend %s lacks a mandatory operation\n",
		       ops->name ?: "?");
		return -EINVAL;
	}
	hv_arch = ops;
	return 0;
}

int hv_core_init(void)
{
	int r = -ENODEV;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hv_arch_backends); i++) {
		r = hv_arch_register(hv_arch_backends[i]);
		if (!r)
			r = hv_arch_backends[i]->hardware_probe();
		if (!r)
			break;
		hv_arch = NULL;
	}
	if (r)
		return r;

	hv_pool_init(&hv_root_pool);
	r = hv_virt_init();
	if (r)
		goto err_arch;
	return 0;

err_arch:
	hv_arch->hardware_exit();
	hv_arch = NULL;
	return r;
}

void hv_core_exit(void)
{
	u64 deposited, available;

	hv_virt_exit();
	hv_partitions_exit();
	hv_pool_balance(&hv_root_pool, &deposited, &available);
	if (deposited)
		pr_err("vid: %llu root pool pages were never withdrawn\n",
		       deposited);
	hv_arch->hardware_exit();
	hv_arch = NULL;
}
