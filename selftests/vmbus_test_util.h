/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VMBus kselftests share: the classes they offer and thin
 * wrappers of the VMBus ioctls (uapi/linux/vid_vmbus.h).
 */
#ifndef VMBUS_TEST_UTIL_H
#define VMBUS_TEST_UTIL_H

#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/vid_vmbus.h>

#include "../vmbus/vsp_echo.h"

#define PAGE		4096U

static const uint8_t echo_class[16] = VID_ECHO_CLASS_GUID_BYTES;
/* A class no kernel VSP serves: the test's userspace channels. */
static const uint8_t user_class[16] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 };

static inline int vmbus_create(int part_fd, uint32_t max_version,
			       uint32_t max_channels)
{
	struct vid_vmbus_create c = { .max_version = max_version,
				      .max_channels = max_channels };

	return ioctl(part_fd, VID_PARTITION_VMBUS_CREATE, &c);
}

static inline int vmbus_offer(int part_fd, const uint8_t *type,
			      uint8_t inst, uint32_t flags,
			      struct vid_vmbus_offer *o)
{
	memset(o, 0, sizeof(*o));
	memcpy(o->type, type, 16);
	memset(o->instance, inst, 16);
	o->flags = flags;
	return ioctl(part_fd, VID_PARTITION_VMBUS_OFFER, o);
}

static inline struct vid_vmbus_info vmbus_info(int part_fd)
{
	struct vid_vmbus_info i;

	memset(&i, 0xff, sizeof(i));
	if (ioctl(part_fd, VID_PARTITION_VMBUS_INFO, &i))
		memset(&i, 0xee, sizeof(i));
	return i;
}

#endif /* VMBUS_TEST_UTIL_H */
