// SPDX-License-Identifier: LGPL-2.1
/*
 * libvid: thin, checked wrappers over the /dev/vid ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

int vid_map_gpa(int part_fd, uint64_t gpa, uint64_t size, void *host,
		uint32_t flags)
{
	struct vid_gpa_map m = {
		.gpa = gpa,
		.size = size,
		.userspace_addr = (uintptr_t)host,
		.flags = flags,
	};

	return vid_ret(ioctl(part_fd, VID_PARTITION_MAP_GPA, &m));
}

int vid_unmap_gpa(int part_fd, uint64_t gpa, uint64_t size)
{
	struct vid_gpa_unmap u = { .gpa = gpa, .size = size };

	return vid_ret(ioctl(part_fd, VID_PARTITION_UNMAP_GPA, &u));
}

int vid_vp_create(int part_fd, uint32_t vp_index)
{
	struct vid_create_vp args = { .vp_index = vp_index };

	return vid_ret(ioctl(part_fd, VID_PARTITION_CREATE_VP, &args));
}

int vid_vp_get_regs(int vp_fd, struct vid_register *regs, uint32_t count)
{
	struct vid_vp_registers r = {
		.count = count,
		.regs = (uintptr_t)regs,
	};

	return vid_ret(ioctl(vp_fd, VID_VP_GET_REGISTERS, &r));
}

int vid_vp_set_regs(int vp_fd, const struct vid_register *regs,
		    uint32_t count)
{
	struct vid_vp_registers r = {
		.count = count,
		.regs = (uintptr_t)regs,
	};

	return vid_ret(ioctl(vp_fd, VID_VP_SET_REGISTERS, &r));
}

int vid_vp_get_reg64(int vp_fd, uint32_t name, uint64_t *value)
{
	struct vid_register reg = { .name = name };
	int r = vid_vp_get_regs(vp_fd, &reg, 1);

	if (!r)
		*value = reg.value.reg64;
	return r;
}

int vid_vp_set_reg64(int vp_fd, uint32_t name, uint64_t value)
{
	struct vid_register reg = { .name = name, .value.reg64 = value };

	return vid_vp_set_regs(vp_fd, &reg, 1);
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

int vid_vp_run(int vp_fd)
{
	return vid_ret(ioctl(vp_fd, VID_VP_RUN, 0));
}

int vid_vp_run_complete(int vp_fd, uint32_t type, uint64_t value)
{
	struct vid_vp_run_complete c = {
		.message_type = type,
		.value = value,
	};

	return vid_ret(ioctl(vp_fd, VID_VP_RUN_COMPLETE, &c));
}

const struct vid_message *vid_vp_message(int vp_fd)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, vp_fd, 0);

	return p == MAP_FAILED ? NULL : p;
}
