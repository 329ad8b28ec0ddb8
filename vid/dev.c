// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vid: version and capability queries, partition creation.
 *
 * The node is root-only (0600). To let a group use it, add a udev rule,
 * e.g. KERNEL=="vid", GROUP="vid", MODE="0660" (see README.md).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "../uapi/linux/vid_vmbus.h"
#include "vid.h"

static long vid_check_capability(unsigned long cap)
{
	switch (cap) {
	case VID_CAP_PARTITION_PROPERTIES:
		return VID_PROP_MAX;
	case VID_CAP_MAX_VPS:
		return HV_MAX_VPS_PER_PARTITION;
	case VID_CAP_DEPOSIT:
		return VID_DEPOSIT_MAX_PAGES;
	case VID_CAP_MAX_NAME:
		return VID_NAME_MAX;
	case VID_CAP_INTERRUPTS:
		return 1;
	case VID_CAP_PORTS:
		return VID_PORT_MAX;
	case VID_CAP_VMBUS:
		return VID_VMBUS_VERSION_WIN10_V5_3;
	case VID_CAP_RUN_COMPLETE:
		return 1;
	default:
		return 0;
	}
}

static long vid_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case VID_GET_API_VERSION:
		return arg ? -EINVAL : VID_API_VERSION;
	case VID_CHECK_CAPABILITY:
		return vid_check_capability(arg);
	case VID_CREATE_PARTITION:
		return vid_partition_create((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vid_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vid_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vid_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vid",
	.fops = &vid_dev_fops,
	.mode = 0600,
};

int vid_dev_init(void)
{
	return misc_register(&vid_miscdev);
}

void vid_dev_exit(void)
{
	misc_deregister(&vid_miscdev);
}
