/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vid: the VMBus part of the /dev/vid interface.
 *
 * A partition's VMBus server (VID_PARTITION_VMBUS_CREATE) speaks the
 * channel-management protocol to the guest over SINT 2 and message
 * connections 1 and 4, as Hyper-V's root does. The VMM then offers
 * channels (VID_PARTITION_VMBUS_OFFER): each one is a device class GUID
 * the guest's VSC drivers bind to, served either by an in-kernel VSP of
 * that class (VID_VMBUS_OFFER_KERNEL) or by userspace through the
 * channel fd the offer returns. The same contract as vid.h: unknown
 * flags and non-zero reserved fields fail with -EINVAL, argument sizes
 * are in the ioctl numbers.
 */
#ifndef _UAPI_LINUX_VID_VMBUS_H
#define _UAPI_LINUX_VID_VMBUS_H

#include <linux/ioctl.h>
#include <linux/types.h>

#include "vid.h"

/* VMBus protocol versions, major << 16 | minor (Linux's VERSION_*). */
#define VID_VMBUS_VERSION_WIN7		0x00010001U	/* 1.1 */
#define VID_VMBUS_VERSION_WIN8		0x00020004U	/* 2.4 */
#define VID_VMBUS_VERSION_WIN8_1	0x00030000U
#define VID_VMBUS_VERSION_WIN10		0x00040000U
#define VID_VMBUS_VERSION_WIN10_RS3	0x00040001U
#define VID_VMBUS_VERSION_WIN10_V5	0x00050000U
#define VID_VMBUS_VERSION_WIN10_V5_1	0x00050001U
#define VID_VMBUS_VERSION_WIN10_V5_2	0x00050002U
#define VID_VMBUS_VERSION_WIN10_V5_3	0x00050003U

/* The SINT the server posts to, the guest's connection ids (TLFS/VMBus). */
#define VID_VMBUS_SINT			2
#define VID_VMBUS_MESSAGE_CONNECTION_ID	1
#define VID_VMBUS_MESSAGE_CONNECTION_ID_4 4
/* A channel's event connection: what the guest's HvSignalEvent names. */
#define VID_VMBUS_CHANNEL_CONNECTION_BASE 0x2000U
/*
 * Port ids the server creates for itself: VID_VMBUS_PORT_BASE for its
 * message port, VID_VMBUS_PORT_BASE + relid for a channel's event port.
 * Once a server exists, the VMM's port calls on ids from
 * VID_VMBUS_PORT_BASE, and its connection calls on connection ids 1, 4
 * and VID_VMBUS_CHANNEL_CONNECTION_BASE + 1..VID_VMBUS_MAX_CHANNELS,
 * fail with -EBUSY.
 */
#define VID_VMBUS_PORT_BASE		0x00ff0000U

/* Channels a server offers at most (relids 1..VID_VMBUS_MAX_CHANNELS). */
#define VID_VMBUS_MAX_CHANNELS		128

/**
 * struct vid_vmbus_create - argument of VID_PARTITION_VMBUS_CREATE
 * @flags: must be 0.
 * @max_version: the newest protocol version to accept
 *	(VID_VMBUS_VERSION_*), 0 for the newest the server knows (5.3). The
 *	guest tries its versions newest first; older ones are accepted.
 * @max_channels: relids the server may hand out, 1..VID_VMBUS_MAX_CHANNELS,
 *	0 for VID_VMBUS_MAX_CHANNELS.
 * @reserved32: must be 0.
 * @reserved: must be 0.
 *
 * Starts the partition's VMBus server; it lives until the partition fd
 * is released. It creates message port VID_VMBUS_PORT_BASE and connects
 * VID_VMBUS_MESSAGE_CONNECTION_ID and _ID_4 to it.
 *
 * Errors: -EBUSY before VID_PARTITION_INITIALIZE; -EEXIST when the
 * server exists, or one of its port or connection ids is taken by the
 * VMM's own ports; -EINVAL for flags, reserved fields, an unknown
 * version or too many channels; -ENOMEM.
 */
struct vid_vmbus_create {
	__u32 flags;
	__u32 max_version;
	__u32 max_channels;
	__u32 reserved32;
	__u64 reserved[2];
};

/**
 * struct vid_vmbus_info - argument of VID_PARTITION_VMBUS_INFO (out)
 * @version: the protocol version the guest negotiated, 0 while it is
 *	not connected.
 * @target_vp: the VP the server's messages go to.
 * @channels: channels offered and not yet released by the guest.
 * @open_channels: of those, the ones the guest has open.
 * @messages: guest messages received.
 * @posted: messages delivered to the guest.
 * @dropped: messages to the guest dropped (queue full, error).
 * @bad_messages: guest messages ignored or refused (malformed, out of
 *	order, a GPADL outside guest RAM, ...), and those refused with
 *	INSUFFICIENT_BUFFERS because the server's queue was full (a guest
 *	retries those, as Linux does).
 * @broken_rings: channels closed because the guest corrupted a ring.
 * @reserved: 0.
 *
 * Errors: -ENODEV when there is no server.
 */
struct vid_vmbus_info {
	__u32 version;
	__u32 target_vp;
	__u32 channels;
	__u32 open_channels;
	__u64 messages;
	__u64 posted;
	__u64 dropped;
	__u64 bad_messages;
	__u64 broken_rings;
	__u64 reserved[4];
};

/* vid_vmbus_offer.flags */
/* A kernel VSP registered for @type serves the channel. */
#define VID_VMBUS_OFFER_KERNEL		0x1U
/* The channel fd is O_NONBLOCK. */
#define VID_VMBUS_OFFER_NONBLOCK	0x2U
#define VID_VMBUS_OFFER_FLAGS_VALID	0x3U

/**
 * struct vid_vmbus_offer - argument of VID_PARTITION_VMBUS_OFFER
 * @type: the device class GUID, in the guest's byte order (Linux's
 *	guid_t, as the offer message carries it).
 * @instance: the device instance GUID, likewise.
 * @flags: VID_VMBUS_OFFER_*.
 * @chn_flags: the offer's channel flags (VMBus VMBUS_CHANNEL_*; 0 for
 *	most devices).
 * @mmio_megabytes: MMIO space the device asks the guest for (0).
 * @sub_channel_index: 0 (sub-channels are not offered yet).
 * @reserved16: must be 0.
 * @relid: out: the channel's relid.
 * @connection_id: out: the connection id the guest signals the root on
 *	(VID_VMBUS_CHANNEL_CONNECTION_BASE | @relid).
 * @reserved32: must be 0.
 * @user_def: 120 bytes of offer user data for the guest driver (the
 *	"pipe" mode of some classes; zero for most).
 * @reserved: must be 0.
 *
 * Offers the channel (at once if the guest already asked for offers)
 * and returns its channel fd (O_RDWR | O_CLOEXEC, plus O_NONBLOCK with
 * VID_VMBUS_OFFER_NONBLOCK). The channel is rescinded when the fd's file
 * is released: its last fd closed and its last mapping unmapped.
 *
 * A userspace channel (no VID_VMBUS_OFFER_KERNEL) is served through the
 * fd: read() returns struct vid_vmbus_event records; while the guest
 * has the channel open, mmap() at offset 0 maps its ring pages (both
 * rings, ring_pages pages in GPADL order, MAP_SHARED; more than that or
 * a mapping before OPEN fails), poll() gives EPOLLIN for events,
 * VID_VMBUS_CHANNEL_SIGNAL interrupts the guest and guest signals are
 * counted into the eventfd of VID_VMBUS_CHANNEL_EVENTFD. At CLOSE the
 * mappings are torn down (a later access is SIGBUS) before the guest
 * may reuse the pages. A kernel channel's fd only rescinds and reads
 * OPEN/CLOSE/RELEASED events.
 *
 * Errors: -ENODEV without a server; -ENOENT with VID_VMBUS_OFFER_KERNEL
 * when no kernel VSP serves @type; -ENOSPC when all relids are taken;
 * -EINVAL for flags, reserved fields or out fields that are not 0;
 * -ENOMEM.
 */
struct vid_vmbus_offer {
	__u8 type[16];
	__u8 instance[16];
	__u32 flags;
	__u16 chn_flags;
	__u16 mmio_megabytes;
	__u16 sub_channel_index;
	__u16 reserved16;
	__u32 relid;
	__u32 connection_id;
	__u32 reserved32;
	__u8 user_def[120];
	__u64 reserved[2];
};

/* vid_vmbus_event.type */
/* The guest opened the channel: the fields below describe its rings. */
#define VID_VMBUS_EVENT_OPEN		1
/* The guest closed it (or unloaded, reconnected; or it was rescinded). */
#define VID_VMBUS_EVENT_CLOSE		2
/*
 * The guest corrupted a ring of a kernel channel: it is rescinded (the
 * guest loses this device alone) and CLOSE follows if it was open. The
 * fd stays until the VMM closes it; offer anew for a fresh device.
 */
#define VID_VMBUS_EVENT_BROKEN		3

/**
 * struct vid_vmbus_event - what read() on a channel fd returns
 * @type: VID_VMBUS_EVENT_*.
 * @ring_pages: OPEN: pages of the ring GPADL (both rings, header pages
 *	included); mmap() maps them in this order.
 * @downstream_offset: OPEN: the first page of the root -> guest ring
 *	(pages before it are the guest -> root ring).
 * @target_vp: OPEN: the VP the guest wants interrupts on.
 * @gpadl: OPEN: the ring GPADL's handle.
 * @openid: OPEN: the guest's open id.
 * @reserved: 0.
 * @userdata: OPEN: the guest's 120 bytes of open user data.
 *
 * Records are read whole (a buffer smaller than one fails with
 * -EINVAL), oldest first; an empty queue blocks, or -EAGAIN when
 * non-blocking. The guest sets the pace: when 8 events wait, the queue
 * is collapsed to what the reader must learn (CLOSE if the last event
 * it read was OPEN, then OPEN with the current rings if the channel is
 * open now), so a slow reader skips whole open/close cycles but never
 * ends up with a stale state.
 */
struct vid_vmbus_event {
	__u32 type;
	__u32 ring_pages;
	__u32 downstream_offset;
	__u32 target_vp;
	__u32 gpadl;
	__u32 openid;
	__u64 reserved;
	__u8 userdata[120];
};

/**
 * struct vid_vmbus_eventfd - argument of VID_VMBUS_CHANNEL_EVENTFD
 * @eventfd: an eventfd the guest's signals on this channel count into
 *	(-1 to remove it).
 * @flags: must be 0.
 * @reserved: must be 0.
 *
 * Errors: -EBADF, -EINVAL (not an eventfd, flags, reserved, a kernel
 * channel).
 */
struct vid_vmbus_eventfd {
	__s32 eventfd;
	__u32 flags;
	__u64 reserved;
};

/* ioctls on a partition fd */
#define VID_PARTITION_VMBUS_CREATE	_IOW(VIDIO, 0x40, struct vid_vmbus_create)
#define VID_PARTITION_VMBUS_INFO	_IOR(VIDIO, 0x41, struct vid_vmbus_info)
#define VID_PARTITION_VMBUS_OFFER	_IOWR(VIDIO, 0x42, struct vid_vmbus_offer)

/* ioctls on a channel fd */
/*
 * Interrupt the guest for this channel (the SINT 2 event flag of its
 * relid on its target VP). -ENOTCONN while the channel is not open,
 * -EINVAL on a kernel channel.
 */
#define VID_VMBUS_CHANNEL_SIGNAL	_IO(VIDIO, 0x48)
#define VID_VMBUS_CHANNEL_EVENTFD	_IOW(VIDIO, 0x49, struct vid_vmbus_eventfd)

#endif /* _UAPI_LINUX_VID_VMBUS_H */
