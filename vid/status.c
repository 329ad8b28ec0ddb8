// SPDX-License-Identifier: GPL-2.0
/*
 * HV_STATUS_* → errno, in one place.
 */
#include <linux/errno.h>
#include <linux/printk.h>

#include "vid.h"

int vid_status_to_errno(hv_status_t status)
{
	switch (status) {
	case HV_STATUS_SUCCESS:
		return 0;
	case HV_STATUS_INVALID_HYPERCALL_INPUT:
	case HV_STATUS_INVALID_ALIGNMENT:
	case HV_STATUS_INVALID_PARAMETER:
	case HV_STATUS_INVALID_VP_INDEX:
		return -EINVAL;
	case HV_STATUS_ACCESS_DENIED:
		return -EACCES;
	case HV_STATUS_INVALID_PARTITION_STATE:
	case HV_STATUS_INVALID_VP_STATE:
	/* The virtualization hardware belongs to another hypervisor. */
	case HV_STATUS_OPERATION_DENIED:
		return -EBUSY;
	case HV_STATUS_OBJECT_IN_USE:
		return -EEXIST;
	case HV_STATUS_INSUFFICIENT_MEMORY:
		return -ENOMEM;
	case HV_STATUS_INVALID_PARTITION_ID:
	case HV_STATUS_INVALID_PORT_ID:
	case HV_STATUS_INVALID_CONNECTION_ID:
		return -ENOENT;
	/*
	 * A SynIC message slot still holds a message (direct post): the
	 * guest's EOM frees it. Table limits are -ENOSPC, in vid/port.c.
	 */
	case HV_STATUS_INSUFFICIENT_BUFFERS:
		return -EAGAIN;
	default:
		pr_warn_ratelimited("vid: unexpected hypervisor status %#x\n",
				    status);
		return -EIO;
	}
}
