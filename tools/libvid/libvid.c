// SPDX-License-Identifier: LGPL-2.1
/*
 * libvid: thin, checked wrappers over the /dev/vid ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libvid.h"

static int vid_ret(long r)
{
	return r < 0 ? -errno : (int)r;
}

int vid_open(void)
{
	return vid_ret(open(VID_DEVICE_PATH, O_RDWR | O_CLOEXEC));
}

int vid_api_version(int vid_fd)
{
	return vid_ret(ioctl(vid_fd, VID_GET_API_VERSION, 0));
}

long vid_check_cap(int vid_fd, unsigned int cap)
{
	long r = ioctl(vid_fd, VID_CHECK_CAPABILITY, (unsigned long)cap);

	return r < 0 ? -errno : r;
}

int vid_partition_create(int vid_fd, uint64_t flags)
{
	struct vid_create_partition args = { .flags = flags };

	return vid_ret(ioctl(vid_fd, VID_CREATE_PARTITION, &args));
}

int vid_prop_get(int part_fd, uint32_t id, void *buf, uint32_t size,
		 uint32_t *out_size)
{
	struct vid_property p = {
		.id = id,
		.size = size,
		.value = (uintptr_t)buf,
	};
	int r = vid_ret(ioctl(part_fd, VID_PARTITION_GET_PROPERTY, &p));

	if (out_size && (r == 0 || r == -ENOSPC))
		*out_size = p.size;
	return r;
}

int vid_prop_set(int part_fd, uint32_t id, const void *buf, uint32_t size)
{
	struct vid_property p = {
		.id = id,
		.size = size,
		.value = (uintptr_t)buf,
	};

	return vid_ret(ioctl(part_fd, VID_PARTITION_SET_PROPERTY, &p));
}

int vid_prop_get_u64(int part_fd, uint32_t id, uint64_t *value)
{
	return vid_prop_get(part_fd, id, value, sizeof(*value), NULL);
}

int vid_prop_set_u64(int part_fd, uint32_t id, uint64_t value)
{
	return vid_prop_set(part_fd, id, &value, sizeof(value));
}

int vid_partition_set_name(int part_fd, const char *name)
{
	return vid_prop_set(part_fd, VID_PROP_NAME, name, strlen(name) + 1);
}

int vid_partition_initialize(int part_fd)
{
	return vid_ret(ioctl(part_fd, VID_PARTITION_INITIALIZE, 0));
}

int vid_partition_deposit(int part_fd, uint64_t pages)
{
	struct vid_deposit d = { .pages = pages };

	return vid_ret(ioctl(part_fd, VID_PARTITION_DEPOSIT, &d));
}

int64_t vid_partition_withdraw(int part_fd, uint64_t pages)
{
	struct vid_deposit d = { .pages = pages };

	if (ioctl(part_fd, VID_PARTITION_WITHDRAW, &d) < 0)
		return -errno;
	return (int64_t)d.pages;
}

const char *vid_state_name(uint64_t state)
{
	switch (state) {
	case VID_PARTITION_CREATED:
		return "created";
	case VID_PARTITION_INITIALIZED:
		return "initialized";
	default:
		return "unknown";
	}
}
