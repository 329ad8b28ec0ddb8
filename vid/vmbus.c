// SPDX-License-Identifier: GPL-2.0
/*
 * The VMBus ioctls on a partition fd (uapi/linux/vid_vmbus.h): argument
 * checks here, the server itself in vmbus/host.c.
 */
#include <linux/uaccess.h>

#include "../vmbus/host.h"
#include "../uapi/linux/vid_vmbus.h"
#include "vid.h"

static bool vid_vmbus_version_ok(u32 v)
{
	switch (v) {
	case 0:
	case VID_VMBUS_VERSION_WIN7:
	case VID_VMBUS_VERSION_WIN8:
	case VID_VMBUS_VERSION_WIN8_1:
	case VID_VMBUS_VERSION_WIN10:
	case VID_VMBUS_VERSION_WIN10_RS3:
	case VID_VMBUS_VERSION_WIN10_V5:
	case VID_VMBUS_VERSION_WIN10_V5_1:
	case VID_VMBUS_VERSION_WIN10_V5_2:
	case VID_VMBUS_VERSION_WIN10_V5_3:
		return true;
	default:
		return false;
	}
}

static int vid_vmbus_create(struct vid_partition *part, void __user *uarg)
{
	struct vid_vmbus_create u;
	hv_status_t status;
	u64 state;
	int err;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if (u.flags || u.reserved32 || u.reserved[0] || u.reserved[1] ||
	    !vid_vmbus_version_ok(u.max_version) ||
	    u.max_channels > VID_VMBUS_MAX_CHANNELS)
		return -EINVAL;
	mutex_lock(&part->lock);
	status = hv_call_get_partition_property(part->id,
						HV_PARTITION_PROPERTY_STATE,
						&state);
	err = vid_status_to_errno(status);
	if (!err && state != HV_PARTITION_STATE_INITIALIZED)
		err = -EBUSY;
	else if (!err && part->vmbus)
		err = -EEXIST;
	if (!err)
		err = vmbus_host_create(part, &u);
	mutex_unlock(&part->lock);
	return err;
}

static int vid_vmbus_info(struct vid_partition *part, void __user *uarg)
{
	struct vid_vmbus_info u = {};
	int err;

	err = vmbus_host_info(part, &u);
	if (err)
		return err;
	return copy_to_user(uarg, &u, sizeof(u)) ? -EFAULT : 0;
}

static int vid_vmbus_offer(struct vid_partition *part, struct file *file,
			   void __user *uarg)
{
	struct vid_vmbus_offer u;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if ((u.flags & ~VID_VMBUS_OFFER_FLAGS_VALID) || u.reserved16 ||
	    u.reserved32 || u.reserved[0] || u.reserved[1] || u.relid ||
	    u.connection_id || u.sub_channel_index)
		return -EINVAL;
	return vmbus_host_offer(part, file, &u, uarg);
}

long vid_vmbus_ioctl(struct vid_partition *part, struct file *file,
		     unsigned int cmd, void __user *uarg)
{
	switch (cmd) {
	case VID_PARTITION_VMBUS_CREATE:
		return vid_vmbus_create(part, uarg);
	case VID_PARTITION_VMBUS_INFO:
		return vid_vmbus_info(part, uarg);
	case VID_PARTITION_VMBUS_OFFER:
		return vid_vmbus_offer(part, file, uarg);
	default:
		return -ENOTTY;
	}
}
