// SPDX-License-Identifier: GPL-2.0
/*
 * vid.ko: a Hyper-V-style hypervisor for a stock Linux host.
 *
 * Bring-up order: the hypervisor core (hardware probe), then the VID's
 * accounting, then /dev/vid, so nothing reaches userspace before what it
 * needs exists. Exit undoes the same steps in reverse.
 */
#include <linux/init.h>
#include <linux/module.h>

#include "../vmbus/host.h"
#include "../vmbus/vsp.h"
#include "vid.h"

static int __init vid_init(void)
{
	int r;

	r = hv_core_init();
	if (r)
		return r;
	r = vid_stats_init();
	if (r)
		goto err_core;
	r = vid_irqfd_init();
	if (r)
		goto err_stats;
	r = vmbus_host_init();
	if (r)
		goto err_irqfd;
	r = vmbus_vsp_echo_init();
	if (r)
		goto err_vmbus;
	r = vid_dev_init();
	if (r)
		goto err_echo;
	pr_info("vid: hypervisor ready, /dev/vid API version %d\n",
		VID_API_VERSION);
	return 0;

err_echo:
	vmbus_vsp_echo_exit();
err_vmbus:
	vmbus_host_exit();
err_irqfd:
	vid_irqfd_exit();
err_stats:
	vid_stats_exit();
err_core:
	hv_core_exit();
	return r;
}

static void __exit vid_exit(void)
{
	vid_dev_exit();
	vmbus_vsp_echo_exit();
	vmbus_host_exit();
	vid_irqfd_exit();
	vid_stats_exit();
	hv_core_exit();
}

module_init(vid_init);
module_exit(vid_exit);

MODULE_DESCRIPTION("vid: Hyper-V-style hypervisor and Virtualization Infrastructure Driver");
MODULE_LICENSE("GPL");
