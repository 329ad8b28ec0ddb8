/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * libvid: the C library over /dev/vid (the Vid.dll role).
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative errno on failure; errno itself is left as the kernel set it.
 */
#ifndef LIBVID_H
#define LIBVID_H

#include <stddef.h>
#include <stdint.h>
#include <linux/vid.h>

#define VID_DEVICE_PATH "/dev/vid"

/* Open /dev/vid (O_RDWR | O_CLOEXEC). Returns the fd or -errno. */
int vid_open(void);
/* VID_GET_API_VERSION. Returns the version or -errno. */
int vid_api_version(int vid_fd);
/* VID_CHECK_CAPABILITY. Returns the capability's value (0 = absent). */
long vid_check_cap(int vid_fd, unsigned int cap);
/* VID_CREATE_PARTITION with @flags. Returns the partition fd or -errno. */
int vid_partition_create(int vid_fd, uint64_t flags);

/* Property access; @size is the buffer size, *@out_size gets the size used. */
int vid_prop_get(int part_fd, uint32_t id, void *buf, uint32_t size,
		 uint32_t *out_size);
int vid_prop_set(int part_fd, uint32_t id, const void *buf, uint32_t size);
int vid_prop_get_u64(int part_fd, uint32_t id, uint64_t *value);
int vid_prop_set_u64(int part_fd, uint32_t id, uint64_t value);
/* Set VID_PROP_NAME from a C string. */
int vid_partition_set_name(int part_fd, const char *name);

/* VID_PARTITION_INITIALIZE. */
int vid_partition_initialize(int part_fd);
/* VID_PARTITION_DEPOSIT of @pages pages. */
int vid_partition_deposit(int part_fd, uint64_t pages);
/* VID_PARTITION_WITHDRAW of at most @pages; returns the count withdrawn. */
int64_t vid_partition_withdraw(int part_fd, uint64_t pages);

/* Name of a VID_PROP_STATE value, for printing. */
const char *vid_state_name(uint64_t state);

#endif /* LIBVID_H */
