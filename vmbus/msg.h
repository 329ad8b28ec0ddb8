/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMBus channel-management messages: the wire format a guest and the root
 * exchange over the SynIC (SINT 2 towards the guest, message connection 1
 * or 4 towards the root). Each message is the payload of one 256-byte
 * SynIC message, at most 240 bytes, and starts with struct vmbus_msg_hdr.
 * Layouts and numbers are those of include/linux/hyperv.h in Linux 6.1
 * and 6.12 (which the guests we serve are built from), checked field by
 * field below with static_assert; the names are our own so that nothing
 * here clashes with that header. All fields are little-endian; this is
 * x86 only.
 */
#ifndef VID_VMBUS_MSG_H
#define VID_VMBUS_MSG_H

#ifdef __KERNEL__
#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/uuid.h>
#else
#include <assert.h>
#include <stddef.h>
#include "kshim.h"
#include "kshim_uuid.h"
#endif

/* Protocol versions: major << 16 | minor. */
#define VMBUS_VERSION(major, minor)	((u32)(major) << 16 | (minor))
#define VMBUS_VERSION_WS2008		VMBUS_VERSION(0, 13)
#define VMBUS_VERSION_WIN7		VMBUS_VERSION(1, 1)
#define VMBUS_VERSION_WIN8		VMBUS_VERSION(2, 4)
#define VMBUS_VERSION_WIN8_1		VMBUS_VERSION(3, 0)
#define VMBUS_VERSION_WIN10		VMBUS_VERSION(4, 0)
#define VMBUS_VERSION_WIN10_V4_1	VMBUS_VERSION(4, 1)
#define VMBUS_VERSION_WIN10_V5		VMBUS_VERSION(5, 0)
#define VMBUS_VERSION_WIN10_V5_1	VMBUS_VERSION(5, 1)
#define VMBUS_VERSION_WIN10_V5_2	VMBUS_VERSION(5, 2)
#define VMBUS_VERSION_WIN10_V5_3	VMBUS_VERSION(5, 3)

/*
 * SynIC plumbing. The guest posts INITIATE_CONTACT on connection 1
 * (before protocol 5.0) or 4 (5.0 and later), and from 5.0 on every later
 * message on the connection id the VERSION_RESPONSE names; the root
 * posts to SINT 2 with SynIC message type 1. Channels signal the root on
 * their own connection id (the offer's), the root signals them through
 * event flag <relid> of SINT 2 (protocol 2.4 and later).
 */
#define VMBUS_MESSAGE_CONNECTION_ID	1
#define VMBUS_MESSAGE_CONNECTION_ID_4	4
#define VMBUS_EVENT_CONNECTION_ID	2
#define VMBUS_MONITOR_CONNECTION_ID	3
#define VMBUS_MESSAGE_SINT		2
#define VMBUS_SYNIC_MESSAGE_TYPE	1

/* The largest channel message: a SynIC message's payload. */
#define VMBUS_MSG_MAX_SIZE		240

/* Relids the guest can index: Linux's MAX_CHANNEL_RELIDS (2048), 0 unused. */
#define VMBUS_MAX_RELID			2047
/* Monitor ids: 4 trigger groups of 32 in the monitor pages. */
#define VMBUS_MAX_MONITOR_ID		127
#define VMBUS_MONITOR_ID_NONE		0xff

/* Guests check only status != 0; this is NTSTATUS STATUS_UNSUCCESSFUL. */
#define VMBUS_STATUS_SUCCESS		0
#define VMBUS_STATUS_UNSUCCESSFUL	0xc0000001U

enum vmbus_msg_type {
	VMBUS_MSG_INVALID		= 0,
	VMBUS_MSG_OFFERCHANNEL		= 1,
	VMBUS_MSG_RESCIND_CHANNELOFFER	= 2,
	VMBUS_MSG_REQUESTOFFERS		= 3,
	VMBUS_MSG_ALLOFFERS_DELIVERED	= 4,
	VMBUS_MSG_OPENCHANNEL		= 5,
	VMBUS_MSG_OPENCHANNEL_RESULT	= 6,
	VMBUS_MSG_CLOSECHANNEL		= 7,
	VMBUS_MSG_GPADL_HEADER		= 8,
	VMBUS_MSG_GPADL_BODY		= 9,
	VMBUS_MSG_GPADL_CREATED		= 10,
	VMBUS_MSG_GPADL_TEARDOWN	= 11,
	VMBUS_MSG_GPADL_TORNDOWN	= 12,
	VMBUS_MSG_RELID_RELEASED	= 13,
	VMBUS_MSG_INITIATE_CONTACT	= 14,
	VMBUS_MSG_VERSION_RESPONSE	= 15,
	VMBUS_MSG_UNLOAD		= 16,
	VMBUS_MSG_UNLOAD_RESPONSE	= 17,
	VMBUS_MSG_TL_CONNECT_REQUEST	= 21,
	VMBUS_MSG_MODIFYCHANNEL		= 22,
	VMBUS_MSG_TL_CONNECT_RESULT	= 23,
	VMBUS_MSG_MODIFYCHANNEL_RESPONSE = 24,
	VMBUS_MSG_COUNT			= 25,
};

/* Every message: the type, then 4 bytes of padding. */
struct vmbus_msg_hdr {
	u32 msgtype;
	u32 padding;
};

/* Offer flags (vmbus_msg_offer.chn_flags). */
#define VMBUS_OFFER_ENUMERATE_DEVICE_INTERFACE	0x0001
#define VMBUS_OFFER_NAMED_PIPE_MODE		0x0010
#define VMBUS_OFFER_REQUEST_MONITORED_NOTIFY	0x0400

#define VMBUS_OFFER_USER_DEF_SIZE	120

/* OFFERCHANNEL, root -> guest: one per channel. */
struct vmbus_msg_offer {
	struct vmbus_msg_hdr hdr;
	guid_t if_type;
	guid_t if_instance;
	u32 reserved1[2];		/* u64s in Linux: kept 4-aligned */
	u32 reserved2[2];
	u16 chn_flags;
	u16 mmio_megabytes;
	u8 user_def[VMBUS_OFFER_USER_DEF_SIZE];
	u16 sub_channel_index;
	u16 reserved3;
	u32 child_relid;
	u8 monitorid;
	u8 monitor_flags;		/* bit 0: monitor_allocated */
	u16 interrupt_flags;		/* bit 0: is_dedicated_interrupt */
	u32 connection_id;
};

/* RESCIND_CHANNELOFFER (root -> guest), RELID_RELEASED, CLOSECHANNEL. */
struct vmbus_msg_relid {
	struct vmbus_msg_hdr hdr;
	u32 child_relid;
};

/* OPENCHANNEL, guest -> root. */
struct vmbus_msg_open {
	struct vmbus_msg_hdr hdr;
	u32 child_relid;
	u32 openid;
	u32 ringbuffer_gpadlhandle;
	u32 target_vp;
	/* the root -> guest ring's first page within the GPADL */
	u32 downstream_ringbuffer_pageoffset;
	u8 userdata[VMBUS_OFFER_USER_DEF_SIZE];
};

/* OPENCHANNEL_RESULT, root -> guest. */
struct vmbus_msg_open_result {
	struct vmbus_msg_hdr hdr;
	u32 child_relid;
	u32 openid;
	u32 status;
};

/*
 * A GPA range inside a GPADL's range buffer: byte_count bytes starting
 * byte_offset (< 4096) into the first of the following
 * DIV_ROUND_UP(byte_offset + byte_count, 4096) page frame numbers.
 */
struct vmbus_gpa_range {
	u32 byte_count;
	u32 byte_offset;
	u64 pfn_array[];
};

/*
 * GPADL_HEADER, guest -> root: @range_buflen bytes of range buffer
 * (@rangecount ranges) in all, of which this message carries the first
 * part; GPADL_BODY messages carry the rest in order.
 */
struct vmbus_msg_gpadl_header {
	struct vmbus_msg_hdr hdr;
	u32 child_relid;
	u32 gpadl;
	u16 range_buflen;
	u16 rangecount;
	u8 range[];
};

/* GPADL_BODY, guest -> root: more of the range buffer (whole u64s). */
struct vmbus_msg_gpadl_body {
	struct vmbus_msg_hdr hdr;
	u32 msgnumber;
	u32 gpadl;
	u64 pfn[];
};

/* GPADL_CREATED, root -> guest. */
struct vmbus_msg_gpadl_created {
	struct vmbus_msg_hdr hdr;
	u32 child_relid;
	u32 gpadl;
	u32 creation_status;
};

/* GPADL_TEARDOWN, guest -> root. */
struct vmbus_msg_gpadl_teardown {
	struct vmbus_msg_hdr hdr;
	u32 child_relid;
	u32 gpadl;
};

/* GPADL_TORNDOWN, root -> guest. */
struct vmbus_msg_gpadl_torndown {
	struct vmbus_msg_hdr hdr;
	u32 gpadl;
};

/*
 * INITIATE_CONTACT, guest -> root. Before 5.0 @target_info is the GPA of
 * the guest's interrupt page (used for channel interrupts before 2.4);
 * from 5.0 its byte 0 is the SINT the guest wants messages on and byte 1
 * (Linux 6.12's msg_vtl) the VTL. @target_vcpu counts from 3.0 on.
 */
struct vmbus_msg_initiate_contact {
	struct vmbus_msg_hdr hdr;
	u32 vmbus_version_requested;
	u32 target_vcpu;
	u64 target_info;
	u64 monitor_page1;		/* root -> guest monitor page GPA */
	u64 monitor_page2;		/* guest -> root monitor page GPA */
};

/* VERSION_RESPONSE, root -> guest. */
struct vmbus_msg_version_response {
	struct vmbus_msg_hdr hdr;
	u8 version_supported;
	u8 connection_state;
	u16 padding;
	/*
	 * from 5.0: the message connection id for all later messages;
	 * before, the version selected
	 */
	u32 msg_conn_id;
};

/* connection_state values (a supported version that failed anyway). */
#define VMBUS_CONNECTION_SUCCESSFUL	0
#define VMBUS_CONNECTION_FAILED_LOW_RES	1
#define VMBUS_CONNECTION_FAILED_UNKNOWN	2

/* MODIFYCHANNEL, guest -> root (protocol 4.1 and later). */
struct vmbus_msg_modifychannel {
	struct vmbus_msg_hdr hdr;
	u32 child_relid;
	u32 target_vp;
};

/* MODIFYCHANNEL_RESPONSE, root -> guest (protocol 5.3 and later). */
struct vmbus_msg_modifychannel_response {
	struct vmbus_msg_hdr hdr;
	u32 child_relid;
	u32 status;
};

/* Sizes and offsets as in include/linux/hyperv.h (Linux 6.1 and 6.12). */
#define VMBUS_WIRE_CHECK(expr)	static_assert(expr, #expr)
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_hdr) == 8);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_offer) == 196);
VMBUS_WIRE_CHECK(offsetof(struct vmbus_msg_offer, chn_flags) == 56);
VMBUS_WIRE_CHECK(offsetof(struct vmbus_msg_offer, user_def) == 60);
VMBUS_WIRE_CHECK(offsetof(struct vmbus_msg_offer, sub_channel_index) == 180);
VMBUS_WIRE_CHECK(offsetof(struct vmbus_msg_offer, child_relid) == 184);
VMBUS_WIRE_CHECK(offsetof(struct vmbus_msg_offer, monitorid) == 188);
VMBUS_WIRE_CHECK(offsetof(struct vmbus_msg_offer, connection_id) == 192);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_relid) == 12);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_open) == 148);
VMBUS_WIRE_CHECK(offsetof(struct vmbus_msg_open, userdata) == 28);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_open_result) == 20);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_gpa_range) == 8);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_gpadl_header) == 20);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_gpadl_body) == 16);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_gpadl_created) == 20);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_gpadl_teardown) == 16);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_gpadl_torndown) == 12);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_initiate_contact) == 40);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_version_response) == 16);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_modifychannel) == 16);
VMBUS_WIRE_CHECK(sizeof(struct vmbus_msg_modifychannel_response) == 16);

#endif /* VID_VMBUS_MSG_H */
