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

/*
 * VID_PARTITION_MAP_GPA: back guest physical [@gpa, @gpa + @size) with the
 * caller's memory at @host, with VID_MAP_* @flags.
 */
int vid_map_gpa(int part_fd, uint64_t gpa, uint64_t size, void *host,
		uint32_t flags);
/* VID_PARTITION_UNMAP_GPA of a range exactly as it was mapped. */
int vid_unmap_gpa(int part_fd, uint64_t gpa, uint64_t size);

/* VID_PARTITION_CREATE_VP. Returns the VP fd or -errno. */
int vid_vp_create(int part_fd, uint32_t vp_index);
/* VID_VP_GET_REGISTERS: fill in the values of @count named registers. */
int vid_vp_get_regs(int vp_fd, struct vid_register *regs, uint32_t count);
/* VID_VP_SET_REGISTERS: all @count or, on error, none. */
int vid_vp_set_regs(int vp_fd, const struct vid_register *regs,
		    uint32_t count);
/* One 64-bit register. */
int vid_vp_get_reg64(int vp_fd, uint32_t name, uint64_t *value);
int vid_vp_set_reg64(int vp_fd, uint32_t name, uint64_t value);

/* VID_VP_RUN: run until the VP has a message for the VMM. */
int vid_vp_run(int vp_fd);
/*
 * VID_VP_RUN_COMPLETE: complete the port I/O or MSR intercept the last
 * run returned (@type, an IN's or RDMSR's @value) and run again; after
 * -EINTR the intercept is complete too (VID_CAP_RUN_COMPLETE).
 */
int vid_vp_run_complete(int vp_fd, uint32_t type, uint64_t value);
/* Map the VP's message page (read-only); NULL on failure. */
const struct vid_message *vid_vp_message(int vp_fd);

/* Name of a VID_PROP_STATE value, for printing. */
const char *vid_state_name(uint64_t state);

#endif /* LIBVID_H */
