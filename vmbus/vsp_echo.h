/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The echo VSP's device protocol (vmbus/vsp_echo.c): a kernel VSP for
 * testing and measuring VMBus channels from the guest side. It is what a
 * selftest guest's VSC talks to; the VMM offers it with
 * VID_VMBUS_OFFER_KERNEL and the class below. Shared with userspace (the
 * selftests), so only <linux/types.h> types.
 *
 * Every packet the guest sends is an in-band data packet (VM_PKT_DATA_INBAND,
 * 6) whose payload starts with struct vid_echo_hdr:
 *  ECHO:   the VSP sends the same payload back, as a completion
 *	    (VM_PKT_COMP, 11) with the packet's trans_id.
 *  SINK:   the VSP only counts the packet and its bytes.
 *  SOURCE: the VSP sends @count data packets of @size payload bytes
 *	    (16 <= @size <= VID_ECHO_MAX_SIZE): struct vid_echo_hdr with
 *	    cmd SOURCE, @size, and @seq numbering them from 0 (also their
 *	    trans_id), then payload byte j (j >= 16) = (seq + j) & 0xff;
 *	    then one packet with cmd SOURCE_DONE. It waits for ring space
 *	    as the guest drains (the guest must honour pending_send_sz).
 *  STATS:  the VSP answers with a completion holding struct
 *	    vid_echo_stats, then resets its counters.
 * A packet too short for the header or with an unknown command is
 * counted in bad and otherwise ignored.
 */
#ifndef VID_VMBUS_VSP_ECHO_H
#define VID_VMBUS_VSP_ECHO_H

#include <linux/types.h>

/* {8d6e5c3a-7f41-4c2b-9e05-3b1a6d2f7c90}, in guid_t byte order. */
#define VID_ECHO_CLASS_GUID_BYTES					\
	{ 0x3a, 0x5c, 0x6e, 0x8d, 0x41, 0x7f, 0x2b, 0x4c,		\
	  0x9e, 0x05, 0x3b, 0x1a, 0x6d, 0x2f, 0x7c, 0x90 }

#define VID_ECHO_CMD_ECHO		1
#define VID_ECHO_CMD_SINK		2
#define VID_ECHO_CMD_SOURCE		3
#define VID_ECHO_CMD_SOURCE_DONE	4
#define VID_ECHO_CMD_STATS		5

/* The largest payload SOURCE sends (its ring may be smaller). */
#define VID_ECHO_MAX_SIZE		(256 * 1024)

struct vid_echo_hdr {
	__u32 cmd;
	__u32 size;
	__u32 count;
	__u32 seq;
};

struct vid_echo_stats {
	struct vid_echo_hdr hdr;
	__u64 packets;
	__u64 bytes;
	__u64 bad;
	__u64 signals;
};

#endif /* VID_VMBUS_VSP_ECHO_H */
