/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vid: the Virtualization Infrastructure Driver interface, /dev/vid.
 *
 * The contract (botching-up-ioctls.rst rules; see README.md):
 *  - fixed-width types only, explicit padding, pointers passed as __u64;
 *  - every reserved field must be zero and every unknown flag bit must be
 *    clear, otherwise the ioctl fails with -EINVAL;
 *  - an ioctl number the file does not know fails with -ENOTTY; the size of
 *    each argument struct is encoded in its ioctl number, so a caller built
 *    against a different struct layout gets -ENOTTY, never a misread;
 *  - new behaviour is announced through VID_CHECK_CAPABILITY.
 */
#ifndef _UAPI_LINUX_VID_H
#define _UAPI_LINUX_VID_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Version of this interface, returned by VID_GET_API_VERSION. */
#define VID_API_VERSION		1

/* ioctl magic shared by /dev/vid and the fds it hands out. */
#define VIDIO			0xB9

/**
 * enum vid_cap - capabilities for VID_CHECK_CAPABILITY
 * @VID_CAP_PARTITION_PROPERTIES: partition properties can be read and
 *	written; the value is the highest property id understood.
 * @VID_CAP_MAX_VPS: largest VID_PROP_MAX_VP_COUNT a partition accepts.
 * @VID_CAP_DEPOSIT: memory deposit and withdrawal are supported; the value
 *	is the largest page count one VID_PARTITION_DEPOSIT call accepts.
 * @VID_CAP_MAX_NAME: size in bytes of the largest partition name,
 *	terminating NUL included.
 *
 * An unknown capability reads as 0, so a caller can probe for a feature
 * that a newer module adds.
 */
enum vid_cap {
	VID_CAP_PARTITION_PROPERTIES	= 1,
	VID_CAP_MAX_VPS			= 2,
	VID_CAP_DEPOSIT			= 3,
	VID_CAP_MAX_NAME		= 4,
};

/**
 * struct vid_create_partition - argument of VID_CREATE_PARTITION
 * @flags: creation flags; none are defined in v1, must be 0.
 * @reserved: must be 0.
 *
 * On success the ioctl returns a new partition file descriptor, opened
 * O_RDWR | O_CLOEXEC. The partition is deleted when its last file
 * descriptor is closed.
 */
struct vid_create_partition {
	__u64 flags;
	__u64 reserved[3];
};

/**
 * enum vid_prop - partition property ids
 * @VID_PROP_MAX_VP_COUNT: __u64, read/write until the partition is
 *	initialized: the number of virtual processors it may have
 *	(1..VID_CAP_MAX_VPS). Default 1.
 * @VID_PROP_VENDOR_ID: 12 bytes, read/write until the partition is
 *	initialized: the hypervisor vendor signature the guest reads from
 *	CPUID 0x40000000 (EBX, ECX, EDX). Default "Microsoft Hv".
 * @VID_PROP_NAME: a NUL-terminated printable string of at most
 *	VID_CAP_MAX_NAME bytes, read/write at any time, for management
 *	tools. Default "".
 * @VID_PROP_PARTITION_ID: __u64, read-only: the hypervisor's partition id.
 * @VID_PROP_STATE: __u64, read-only: an enum vid_partition_state.
 * @VID_PROP_POOL_DEPOSITED: __u64, read-only: pages deposited into the
 *	partition's pool and not withdrawn (in use plus available).
 * @VID_PROP_POOL_AVAILABLE: __u64, read-only: deposited pages the
 *	hypervisor has not used yet; these can be withdrawn.
 */
enum vid_prop {
	VID_PROP_MAX_VP_COUNT		= 1,
	VID_PROP_VENDOR_ID		= 2,
	VID_PROP_NAME			= 3,
	VID_PROP_PARTITION_ID		= 4,
	VID_PROP_STATE			= 5,
	VID_PROP_POOL_DEPOSITED		= 6,
	VID_PROP_POOL_AVAILABLE		= 7,
};

#define VID_PROP_MAX			VID_PROP_POOL_AVAILABLE
#define VID_VENDOR_ID_SIZE		12
#define VID_NAME_MAX			64

/**
 * enum vid_partition_state - value of VID_PROP_STATE
 * @VID_PARTITION_CREATED: properties that shape the partition can be set.
 * @VID_PARTITION_INITIALIZED: VID_PARTITION_INITIALIZE succeeded; the
 *	shape (VP count, vendor id) is fixed.
 */
enum vid_partition_state {
	VID_PARTITION_CREATED		= 1,
	VID_PARTITION_INITIALIZED	= 2,
};

/**
 * struct vid_property - argument of VID_PARTITION_GET/SET_PROPERTY
 * @id: an enum vid_prop.
 * @flags: must be 0.
 * @size: size in bytes of the buffer at @value. On SET it must be the
 *	property's size (8 for __u64 properties, VID_VENDOR_ID_SIZE for the
 *	vendor id, 1..VID_NAME_MAX including the NUL for the name). On GET it
 *	must be at least that; the kernel writes back the size it filled.
 *	A GET with a buffer too small fails with -ENOSPC and writes back the
 *	size needed.
 * @reserved: must be 0.
 * @value: user pointer to the value buffer.
 *
 * Errors: -EINVAL for an unknown id, flags, reserved fields or a bad size
 * or value; -EPERM to set a read-only property; -EBUSY to set a shape
 * property after VID_PARTITION_INITIALIZE; -EFAULT for a bad pointer.
 */
struct vid_property {
	__u32 id;
	__u32 flags;
	__u32 size;
	__u32 reserved;
	__u64 value;
};

/**
 * struct vid_deposit - argument of VID_PARTITION_DEPOSIT and _WITHDRAW
 * @pages: DEPOSIT: pages to allocate from the kernel (charged to the
 *	caller's memory cgroup) and hand to the partition's pool,
 *	1..VID_CAP_DEPOSIT. WITHDRAW: the most pages to take back; the
 *	kernel writes back how many were withdrawn (only pages the pool has
 *	not used can be withdrawn).
 * @flags: must be 0.
 * @reserved: must be 0.
 */
struct vid_deposit {
	__u64 pages;
	__u64 flags;
	__u64 reserved[2];
};

/* ioctls on /dev/vid */
#define VID_GET_API_VERSION	_IO(VIDIO, 0x00)
#define VID_CHECK_CAPABILITY	_IO(VIDIO, 0x01)
#define VID_CREATE_PARTITION	_IOW(VIDIO, 0x02, struct vid_create_partition)

/* ioctls on a partition fd */
#define VID_PARTITION_GET_PROPERTY	_IOWR(VIDIO, 0x10, struct vid_property)
#define VID_PARTITION_SET_PROPERTY	_IOW(VIDIO, 0x11, struct vid_property)
/*
 * Fix the partition's shape and build its hypervisor structures (taken from
 * the deposit pool; the kernel deposits what is missing and retries).
 * Errors: -EBUSY if already initialized, -ENOMEM if memory ran out.
 */
#define VID_PARTITION_INITIALIZE	_IO(VIDIO, 0x12)
#define VID_PARTITION_DEPOSIT		_IOW(VIDIO, 0x13, struct vid_deposit)
#define VID_PARTITION_WITHDRAW		_IOWR(VIDIO, 0x14, struct vid_deposit)

#endif /* _UAPI_LINUX_VID_H */
