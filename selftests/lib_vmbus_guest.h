/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VMBus client (VSC side) for C guests (lib_guest.h, lib_cguest.h): the
 * channel-management protocol of Linux's hv_vmbus (drivers/hv/connection.c,
 * channel_mgmt.c, channel.c) and a guest ring writer and reader in the
 * manner of drivers/hv/ring_buffer.c, written for the selftests from the
 * protocol, not shared with the root's vmbus/ring.c: the tests check the
 * root's code against an independent implementation.
 *
 * Everything here runs on VP 0 of the guest, with interrupts off except
 * while it waits (STI; HLT). It turns on the hypercall interface (guest
 * OS id, hypercall page), the x2APIC and the SynIC: message page, event
 * flags page, SINT 2 on vector VMG_VECTOR with auto-EOI. Messages are
 * taken out of the SINT 2 slot the TLFS way (type NONE, then EOM if a
 * message is pending); channel interrupts are the SINT 2 event flag of
 * the channel's relid (protocol 2.4 on), or flag 0 and the relid's bit
 * in the interrupt page (1.1).
 *
 * The client's state is the guest global vmg (struct vmg): the host reads
 * it with VID_GUEST_GLOBAL(g, vmg) while the guest is stopped at a ucall.
 *
 * Guest memory (identity mapped C-guest RAM, from VID_CGUEST_DATA_GPA):
 *	+0x000000  hypercall page
 *	+0x001000  SynIC message page (SIMP)
 *	+0x002000  SynIC event flags page (SIEFP)
 *	+0x003000  hypercall input page
 *	+0x004000  interrupt page (protocol 1.1: host -> guest bits in the
 *	           first half, guest -> host in the second)
 *	+0x005000  monitor pages 1 and 2
 *	+0x100000  the ring pool vmg_alloc_pages() hands out (to +0x2000000)
 *	+0x2000000 VMG_TEST_GPA: free for the test (16 MiB)
 *
 * Functions that wait for the root wait for good (the test's harness
 * timeout ends a hung test); the ones that return a status return the
 * root's (0 success) or a negative errno for the guest's own failures.
 */
#ifndef VID_LIB_VMBUS_GUEST_H
#define VID_LIB_VMBUS_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "lib_guest.h"

#define VMG_HYPERCALL_GPA	(VID_CGUEST_DATA_GPA + 0x0000)
#define VMG_SIMP_GPA		(VID_CGUEST_DATA_GPA + 0x1000)
#define VMG_SIEF_GPA		(VID_CGUEST_DATA_GPA + 0x2000)
#define VMG_INPUT_GPA		(VID_CGUEST_DATA_GPA + 0x3000)
#define VMG_INT_PAGE_GPA	(VID_CGUEST_DATA_GPA + 0x4000)
#define VMG_MONITOR1_GPA	(VID_CGUEST_DATA_GPA + 0x5000)
#define VMG_MONITOR2_GPA	(VID_CGUEST_DATA_GPA + 0x6000)
#define VMG_POOL_GPA		(VID_CGUEST_DATA_GPA + 0x100000)
#define VMG_POOL_END		(VID_CGUEST_DATA_GPA + 0x2000000)
#define VMG_TEST_GPA		(VID_CGUEST_DATA_GPA + 0x2000000)

/* The vector SINT 2 interrupts on (auto-EOI). */
#define VMG_VECTOR		0x40

/* Protocol numbers (the same as vmbus/msg.h and Linux's hyperv.h). */
#define VMG_VERSION(major, minor)	((uint32_t)(major) << 16 | (minor))
#define VMG_VERSION_WIN7	VMG_VERSION(1, 1)
#define VMG_VERSION_WIN8	VMG_VERSION(2, 4)
#define VMG_VERSION_WIN8_1	VMG_VERSION(3, 0)
#define VMG_VERSION_WIN10	VMG_VERSION(4, 0)
#define VMG_VERSION_WIN10_V4_1	VMG_VERSION(4, 1)
#define VMG_VERSION_WIN10_V5	VMG_VERSION(5, 0)
#define VMG_VERSION_WIN10_V5_1	VMG_VERSION(5, 1)
#define VMG_VERSION_WIN10_V5_2	VMG_VERSION(5, 2)
#define VMG_VERSION_WIN10_V5_3	VMG_VERSION(5, 3)

enum vmg_msgtype {
	VMG_MSG_OFFERCHANNEL		= 1,
	VMG_MSG_RESCIND_CHANNELOFFER	= 2,
	VMG_MSG_REQUESTOFFERS		= 3,
	VMG_MSG_ALLOFFERS_DELIVERED	= 4,
	VMG_MSG_OPENCHANNEL		= 5,
	VMG_MSG_OPENCHANNEL_RESULT	= 6,
	VMG_MSG_CLOSECHANNEL		= 7,
	VMG_MSG_GPADL_HEADER		= 8,
	VMG_MSG_GPADL_BODY		= 9,
	VMG_MSG_GPADL_CREATED		= 10,
	VMG_MSG_GPADL_TEARDOWN		= 11,
	VMG_MSG_GPADL_TORNDOWN		= 12,
	VMG_MSG_RELID_RELEASED		= 13,
	VMG_MSG_INITIATE_CONTACT	= 14,
	VMG_MSG_VERSION_RESPONSE	= 15,
	VMG_MSG_UNLOAD			= 16,
	VMG_MSG_UNLOAD_RESPONSE		= 17,
};

/* Packet descriptor types (Linux's VM_PKT_*). */
#define VMG_PKT_DATA_INBAND	6
#define VMG_PKT_COMP		11
#define VMG_PKT_F_COMPLETION	1	/* completion requested */

/* TLFS statuses the client looks at. */
#define VMG_HV_STATUS_SUCCESS			0
#define VMG_HV_STATUS_INSUFFICIENT_BUFFERS	0x13
/* vmg_post() when the hypercall raised an exception instead. */
#define VMG_HC_FAULT				0x8000000000000000ULL

#define VMG_MSG_MAX		240
#define VMG_MAX_CHANNELS	8
/* The most pages vmg_gpadl_create() and vmg_open() take. */
#define VMG_GPADL_MAX_PAGES	1024
#define VMG_BACKLOG		8

/* A message from the root, as taken out of the SINT 2 slot. */
struct vmg_msg {
	uint32_t msgtype;	/* the first word of @data */
	uint32_t size;		/* payload bytes */
	uint32_t slot_type;	/* the SynIC message type (1) */
	uint32_t pad;
	union {
		uint8_t data[VMG_MSG_MAX];
		uint64_t data64[VMG_MSG_MAX / 8];
	};
};

/*
 * Shared memory the root writes concurrently (ring headers, the SynIC
 * pages) is read and written once per access, as the kernel's
 * READ_ONCE() and WRITE_ONCE() do.
 */
#define VMG_READ(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define VMG_WRITE(x, v)		__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* The start of a ring's header page (Linux's struct hv_ring_buffer). */
struct vmg_ring_hdr {
	uint32_t write_index;
	uint32_t read_index;
	uint32_t interrupt_mask;
	uint32_t pending_send_sz;
	uint32_t reserved[12];
	uint32_t feature_bits;	/* bit 0: pending_send_sz */
};

/* One direction: its header page and the data pages after it. */
struct vmg_ring {
	struct vmg_ring_hdr *hdr;
	uint8_t *data;
	uint32_t size;		/* data bytes */
};

/**
 * struct vmg_channel - a channel the root offered
 * @relid: its relid (0: the entry is free).
 * @connection_id: what HvSignalEvent names for it.
 * @type: device class GUID (guid_t byte order).
 * @instance: device instance GUID.
 * @chn_flags: @mmio_megabytes, @sub_channel_index, @monitorid,
 *	@monitor_flags, @interrupt_flags, @user_def: the rest of the offer.
 * @rescinded: the root rescinded it (RESCIND_CHANNELOFFER handled).
 * @rescind_seen: a ring wait found its RESCIND_CHANNELOFFER (still in
 *	the backlog, but ring waits end).
 * @open: OPENCHANNEL succeeded and no CLOSECHANNEL since.
 * @gpadl: the ring GPADL's handle (0: none).
 * @ring_gpa: first page of the ring GPADL (out ring, then in ring).
 * @ring_pages: pages of both rings.
 * @out_pages: pages of the out ring (guest -> root), header included.
 * @out: the ring the guest writes.
 * @in: the ring the root writes.
 * @signals: HvSignalEvent calls made for it.
 * @signal_fail: those that did not return success.
 * @halts: times a ring wait halted the VP for the root's signal.
 * @open_status: the last OPENCHANNEL_RESULT status.
 */
struct vmg_channel {
	uint32_t relid;
	uint32_t connection_id;
	uint8_t type[16];
	uint8_t instance[16];
	uint16_t chn_flags;
	uint16_t mmio_megabytes;
	uint16_t sub_channel_index;
	uint8_t monitorid;
	uint8_t monitor_flags;
	uint16_t interrupt_flags;
	uint8_t user_def[120];
	bool rescinded;
	bool rescind_seen;
	bool open;
	uint32_t gpadl;
	uint64_t ring_gpa;
	uint32_t ring_pages;
	uint32_t out_pages;
	struct vmg_ring out;
	struct vmg_ring in;
	uint64_t signals;
	uint64_t signal_fail;
	uint64_t halts;
	uint32_t open_status;
};

/**
 * struct vmg - the guest's VMBus client
 * @version: the negotiated protocol version, 0 while not connected.
 * @msg_conn_id: the connection later messages are posted on.
 * @tried: versions the last vmg_connect() tried, newest first.
 * @ntried: how many.
 * @chans: offered channels, in the order the offers came.
 * @alloffers: ALLOFFERS_DELIVERED seen since the last REQUESTOFFERS.
 * @offers: OFFERCHANNEL messages seen.
 * @rescinds: RESCIND_CHANNELOFFER messages seen.
 * @unexpected: messages a wait did not expect and could not place.
 * @last_unexpected: the type of the last of them.
 * @rx: messages taken out of the slot.
 * @tx: messages posted successfully.
 * @post_retries: posts retried after HV_STATUS_INSUFFICIENT_BUFFERS.
 * @irqs: SINT 2 interrupts taken.
 * @pool_next: the next free page of the ring pool.
 * @next_gpadl: the next GPADL handle.
 * @backlog: messages a ring wait took out of the slot, oldest at
 *	@backlog_head, @nbacklog of them.
 * @halt_poll: loops a ring wait checks its ring before halting (0, the
 *	default: halt at once). Polling first saves a streaming reader or
 *	writer the exit and wake-up of a halt when the root answers soon,
 *	as Linux's cpuidle-haltpoll does for a guest's idle.
 */
struct vmg {
	uint32_t version;
	uint32_t msg_conn_id;
	uint32_t tried[16];
	uint32_t ntried;
	struct vmg_channel chans[VMG_MAX_CHANNELS];
	bool alloffers;
	uint64_t offers;
	uint64_t rescinds;
	uint64_t unexpected;
	uint32_t last_unexpected;
	uint64_t rx;
	uint64_t tx;
	uint64_t post_retries;
	uint64_t irqs;
	uint64_t pool_next;
	uint32_t next_gpadl;
	uint32_t backlog_head;
	uint32_t nbacklog;
	struct vmg_msg backlog[VMG_BACKLOG];
	uint32_t halt_poll;
};

extern struct vmg vmg;

/* A received packet: its descriptor's fields and the payload's length. */
struct vmg_pkt {
	uint16_t type;
	uint16_t flags;
	uint32_t len;		/* payload bytes (may include padding) */
	uint64_t trans_id;
};

/* Setup: hypercalls, x2APIC, SynIC. Returns the probe's HV status. */
uint64_t vmg_init(void);
/* Zeroed pages from the ring pool (guest physical = virtual). */
void *vmg_alloc_pages(uint32_t npages);

/*
 * Messages. vmg_post_once(): one HvPostMessage, its status; the others
 * retry while the root's queue is full (INSUFFICIENT_BUFFERS), as Linux
 * does, and count what went through in vmg.tx.
 */
uint64_t vmg_post_once(uint32_t conn, uint32_t type, const void *msg,
		       uint32_t size);
uint64_t vmg_post_conn(uint32_t conn, uint32_t type, const void *msg,
		       uint32_t size);
uint64_t vmg_post(const void *msg, uint32_t size);
bool vmg_msg_poll(struct vmg_msg *m);
void vmg_msg_wait(struct vmg_msg *m);
/*
 * Wait for a message of @type (for @relid or GPADL @handle when not
 * ~0U: the field of that type's message that names one). Offers and
 * rescinds in between are recorded; anything else counts in
 * vmg.unexpected.
 */
void vmg_wait_for(uint32_t type, uint32_t match, struct vmg_msg *m);
/* The same, but false once channel @ch was rescinded (no answer comes). */
bool vmg_wait_chan(uint32_t type, uint32_t match, struct vmg_channel *ch,
		   struct vmg_msg *m);

/* The connection. */
bool vmg_connect_version(uint32_t version, struct vmg_msg *resp);
uint32_t vmg_connect(uint32_t max_version);
uint32_t vmg_request_offers(void);
struct vmg_channel *vmg_find_channel(const uint8_t type[16], unsigned int n);
struct vmg_channel *vmg_channel_by_relid(uint32_t relid);
void vmg_unload(void);

/* GPADLs: one range of @npages frames; returns the creation status. */
uint32_t vmg_gpadl_create_pfns(uint32_t relid, uint32_t handle,
			       const uint64_t *pfns, uint32_t npages,
			       uint32_t byte_offset, uint32_t byte_count);
uint32_t vmg_gpadl_create(uint32_t relid, uint64_t gpa, uint32_t npages,
			  uint32_t *handle);
void vmg_gpadl_teardown(uint32_t relid, uint32_t handle);

/* Channels. vmg_open(): OPENCHANNEL_RESULT's status, or this. */
#define VMG_OPEN_RESCINDED	0xdeadU
uint32_t vmg_open(struct vmg_channel *ch, uint32_t out_pages,
		  uint32_t in_pages);
void vmg_close(struct vmg_channel *ch);
void vmg_release(struct vmg_channel *ch);
/* Close, tear down the ring GPADL (waits for TORNDOWN). */
void vmg_close_teardown(struct vmg_channel *ch);

/* Rings. */
void vmg_signal(struct vmg_channel *ch);
bool vmg_event_test_clear(struct vmg_channel *ch);
int vmg_send(struct vmg_channel *ch, uint16_t type, uint16_t flags,
	     uint64_t trans_id, const void *hdr, uint32_t hdr_len,
	     const void *data, uint32_t len);
int vmg_send_wait(struct vmg_channel *ch, uint16_t type, uint16_t flags,
		  uint64_t trans_id, const void *hdr, uint32_t hdr_len,
		  const void *data, uint32_t len);
int vmg_recv(struct vmg_channel *ch, void *buf, uint32_t size,
	     struct vmg_pkt *pkt);
int vmg_recv_wait(struct vmg_channel *ch, void *buf, uint32_t size,
		  struct vmg_pkt *pkt);
bool vmg_in_empty(struct vmg_channel *ch);

#endif /* VID_LIB_VMBUS_GUEST_H */
