/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The root side of the VMBus channel-management protocol, one server per
 * partition: version negotiation, channel offers, GPADLs, open/close,
 * rescind and unload (the messages in vmbus/msg.h). It is a pure state
 * machine: the guest's messages come in through
 * vmbus_server_handle_message(), already copied out of the guest's
 * hypercall input; everything the server needs from the world goes out
 * through the embedder's struct vmbus_server_ops (posting a message to a
 * VP's SINT, checking that a frame is guest RAM, opening and closing a
 * channel's device). The same file builds in the kernel and as userspace
 * C (selftests/unit/vmbus_server_test.c, selftests/fuzz/vmbus_msg_fuzz.c).
 *
 * Hyper-V behaviour, as Linux 6.1/6.12 guests rely on it:
 *  - INITIATE_CONTACT is answered with VERSION_RESPONSE on the VP the
 *    guest names (from 3.0) and SINT 2. Versions 1.1 (WIN7), 2.4, 3.0,
 *    4.0, 4.1, 5.0, 5.1, 5.2 and 5.3 are accepted; any other gets
 *    version_supported = 0 and the guest tries its next one. From 5.0 the
 *    response names message connection 1 for the guest's later messages.
 *    A second INITIATE_CONTACT drops the old connection first.
 *  - REQUESTOFFERS: one OFFERCHANNEL per channel, in relid order, then
 *    ALLOFFERS_DELIVERED. Channels offered later go out at once.
 *  - A GPADL is answered with GPADL_CREATED once its last body arrived
 *    (status non-zero for malformed ranges, frames outside guest RAM, an
 *    unknown channel, a duplicate handle or a limit below).
 *  - OPENCHANNEL is answered with OPENCHANNEL_RESULT; CLOSECHANNEL has no
 *    answer. An open or close on a rescinded channel is ignored (the
 *    guest's own rescind handling expects that).
 *  - GPADL_TEARDOWN of a GPADL in use (the ring of an open channel, or one
 *    a VSP holds) is deferred: GPADL_TORNDOWN goes out when the last user
 *    lets go (channel close, vmbus_server_gpadl_put()).
 *  - vmbus_server_rescind() closes the channel if open and sends
 *    RESCIND_CHANNELOFFER; the relid stays taken until the guest's
 *    RELID_RELEASED.
 *  - UNLOAD closes every channel, drops every GPADL and answers with
 *    UNLOAD_RESPONSE; the partition is then disconnected.
 *  - MODIFYCHANNEL (4.1 on) retargets an open channel's interrupts;
 *    MODIFYCHANNEL_RESPONSE is sent from 5.3 on, as the guest expects.
 *  - Anything else is not answered: a message shorter or longer than its
 *    type's exact size (INITIATE_CONTACT may be longer: later protocol
 *    versions extend it, and such a guest must still be told "not
 *    supported"), an unknown or root-only type, a message before
 *    INITIATE_CONTACT, a request in the wrong state. Each such message
 *    counts in the statistics and is reported through ->bad_msg().
 *
 * Limits (struct vmbus_server_config, 0 = default): relids 1..max_channels
 * (256; Linux indexes relids below 2048); at most max_gpadls GPADLs
 * (1024), complete or being assembled, holding at most max_gpadl_words
 * range-buffer words (a range header or a frame number, 8 bytes each;
 * 262144 = 2 MiB of server memory, 1 GiB of guest memory); one GPADL is
 * at most 8190 frames (the wire's 16-bit range_buflen); at most
 * max_queued (max_channels + 64) messages wait for a busy SINT slot,
 * later ones are dropped and counted. All memory comes from ->alloc().
 *
 * Concurrency: none inside. The embedder serializes every call into a
 * server (one mutex per partition); the callbacks run under it and must
 * not call back into the server, except vmbus_server_gpadl_put() from
 * ->chan_close(). All calls may sleep if the embedder's callbacks do.
 */
#ifndef VID_VMBUS_SERVER_H
#define VID_VMBUS_SERVER_H

#include "msg.h"

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include "kshim.h"
#endif

struct vmbus_server;
struct vmbus_server_channel;

/* Why a guest message was ignored or refused (statistics, ->bad_msg()). */
enum vmbus_server_err {
	VMBUS_SERVER_E_SHORT,		/* shorter than its type needs */
	VMBUS_SERVER_E_LONG,		/* longer than its type allows */
	VMBUS_SERVER_E_TYPE,		/* unknown or unsupported type */
	VMBUS_SERVER_E_ROOT_ONLY,	/* a type only the root sends */
	VMBUS_SERVER_E_NOT_CONNECTED,	/* before INITIATE_CONTACT */
	VMBUS_SERVER_E_STATE,		/* out of protocol order */
	VMBUS_SERVER_E_RELID,		/* no such channel (for the guest) */
	VMBUS_SERVER_E_GPADL,		/* no such GPADL, or not this one's */
	VMBUS_SERVER_E_GPADL_DUP,	/* GPADL handle already in use */
	VMBUS_SERVER_E_GPADL_RANGE,	/* malformed range buffer */
	VMBUS_SERVER_E_GPADL_PFN,	/* a frame outside guest RAM */
	VMBUS_SERVER_E_GPADL_LIMIT,	/* max_gpadls / max_gpadl_words */
	VMBUS_SERVER_E_RING,		/* OPENCHANNEL's ring unusable */
	VMBUS_SERVER_E_NOMEM,		/* ->alloc() failed */
	VMBUS_SERVER_E_QUEUE_FULL,	/* a reply dropped: max_queued */
	VMBUS_SERVER_E_POST,		/* ->post_message() failed hard */
	VMBUS_SERVER_E_COUNT,
};

/**
 * struct vmbus_open_params - what a channel is opened with
 * @gpadl: the ring GPADL's handle.
 * @ring_pfns: its @ring_pages guest frame numbers, in order, each one
 *	checked with ->gpa_ok(). Pages [0, @downstream_offset) are the ring
 *	the guest writes (the root reads), [@downstream_offset, @ring_pages)
 *	the ring the root writes; each starts with its 4 KiB header page
 *	and has at least one data page.
 * @ring_pages: number of pages, at least 4.
 * @downstream_offset: first page of the root -> guest ring.
 * @target_vp: the VP the guest wants this channel's interrupts on (0
 *	before protocol 2.4).
 * @openid: the guest's tag for this open (echoed in the result).
 * @userdata: the guest's 120 bytes of user data.
 *
 * Valid during ->chan_open() only; @ring_pfns stays valid, and the ring
 * GPADL in use, until ->chan_close() returns.
 */
struct vmbus_open_params {
	u32 gpadl;
	const u64 *ring_pfns;
	u32 ring_pages;
	u32 downstream_offset;
	u32 target_vp;
	u32 openid;
	const u8 *userdata;
};

/**
 * struct vmbus_server_ops - what the embedder provides
 * @post_message: deliver channel message @msg (@size bytes, at most 240)
 *	to SINT @sint of VP @vp as SynIC message type 1. 0 when delivered;
 *	-EAGAIN when the slot is busy (the server queues the message and
 *	tries again from vmbus_server_retry(), which the embedder calls
 *	when the guest frees the slot); any other error drops the message.
 *	Required.
 * @signal_channel: raise the guest-side interrupt of channel @relid on VP
 *	@target_vp (SINT 2 event flag @relid from protocol 2.4; before
 *	that, bit @relid of the guest's interrupt page and flag 0).
 *	Required; called by vmbus_server_channel_signal() only.
 * @gpa_ok: whether guest frame @gfn is guest RAM a channel may use.
 *	Required; called for every frame of every GPADL.
 * @chan_open: the guest opens channel @ch (its context is
 *	vmbus_server_channel_ctx()); return 0 to accept, else the open
 *	fails. Required.
 * @chan_close: channel @ch, opened by a successful ->chan_open(), is
 *	closed (guest request, rescind, unload, new connection, destroy).
 *	When it returns, the device no longer touches the rings and has put
 *	every GPADL it took with vmbus_server_gpadl_get(). Required.
 * @chan_modify: the guest moves open channel @ch's interrupts to VP
 *	@target_vp; return 0 to accept. Optional (accepted when NULL).
 * @chan_freed: the server forgets channel @ch (after rescind and the
 *	guest's release, or at destroy): the last call naming it. Optional.
 * @state_changed: the guest connected with protocol @version, or (0)
 *	disconnected. Optional.
 * @bad_msg: a guest message was ignored or refused for @err; @msgtype
 *	is its type. For a rate-limited log line. Optional.
 * @alloc: @size bytes for server state (not necessarily zeroed); NULL on
 *	failure. Optional: kvmalloc(GFP_KERNEL_ACCOUNT) / malloc().
 * @free: give back memory from @alloc. Optional, with @alloc.
 */
struct vmbus_server_ops {
	int (*post_message)(void *ctx, u32 vp, u8 sint, const void *msg,
			    u32 size);
	void (*signal_channel)(void *ctx, u32 relid, u32 target_vp);
	bool (*gpa_ok)(void *ctx, u64 gfn);
	int (*chan_open)(void *ctx, struct vmbus_server_channel *ch,
			 const struct vmbus_open_params *params);
	void (*chan_close)(void *ctx, struct vmbus_server_channel *ch);
	int (*chan_modify)(void *ctx, struct vmbus_server_channel *ch,
			   u32 target_vp);
	void (*chan_freed)(void *ctx, struct vmbus_server_channel *ch);
	void (*state_changed)(void *ctx, u32 version);
	void (*bad_msg)(void *ctx, enum vmbus_server_err err, u32 msgtype);
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p);
};

/**
 * struct vmbus_server_config - limits (0 selects the default)
 * @max_channels: channels (relids 1..@max_channels), at most 2047.
 * @max_gpadls: GPADLs, complete or in assembly.
 * @max_gpadl_words: range-buffer words over all GPADLs.
 * @max_queued: messages waiting for a busy SINT slot.
 * @max_version: the newest protocol version to accept (default 5.3).
 */
struct vmbus_server_config {
	u32 max_channels;
	u32 max_gpadls;
	u32 max_gpadl_words;
	u32 max_queued;
	u32 max_version;
};

#define VMBUS_SERVER_DEF_CHANNELS	256
#define VMBUS_SERVER_DEF_GPADLS		1024
#define VMBUS_SERVER_DEF_GPADL_WORDS	262144
#define VMBUS_SERVER_QUEUE_EXTRA	64
/* Frames in one GPADL: a 16-bit range_buflen holds 8191 words. */
#define VMBUS_GPADL_MAX_PAGES		8190

/* A monitored channel (params.flags): guest signals via monitor pages. */
#define VMBUS_CHANNEL_F_MONITORED	0x1

/**
 * struct vmbus_offer_params - what the guest's offer says, besides GUIDs
 * @flags: VMBUS_CHANNEL_F_*.
 * @chn_flags: VMBUS_OFFER_* (msg.h).
 * @mmio_megabytes: MMIO space the device wants (bus-specific).
 * @sub_channel_index: 0 for a primary channel.
 * @user_def: 120 bytes for the guest driver.
 */
struct vmbus_offer_params {
	u32 flags;
	u16 chn_flags;
	u16 mmio_megabytes;
	u16 sub_channel_index;
	u8 user_def[VMBUS_OFFER_USER_DEF_SIZE];
};

/**
 * struct vmbus_server_conn - the guest's connection
 * @version: negotiated protocol version, 0 while disconnected.
 * @target_vp: VP that channel messages go to.
 * @target_sint: SINT they go to (2).
 * @interrupt_page: before 2.4: the guest's interrupt page GPA (its first
 *	half: root -> guest channel bits), else 0.
 * @monitor_page1: root -> guest monitor page GPA (0 if none).
 * @monitor_page2: guest -> root monitor page GPA (0 if none).
 */
struct vmbus_server_conn {
	u32 version;
	u32 target_vp;
	u8 target_sint;
	u64 interrupt_page;
	u64 monitor_page1;
	u64 monitor_page2;
};

/**
 * struct vmbus_server_stats - counters since create
 * @messages: guest messages handed to vmbus_server_handle_message().
 * @posted: messages delivered to the guest.
 * @dropped: messages to the guest dropped (queue full, post error).
 * @queued: messages waiting now.
 * @gpadls: GPADLs now (complete or in assembly).
 * @gpadl_words: their range-buffer words.
 * @errors: ignored or refused guest messages by reason.
 */
struct vmbus_server_stats {
	u64 messages;
	u64 posted;
	u64 dropped;
	u32 queued;
	u32 gpadls;
	u32 gpadl_words;
	u64 errors[VMBUS_SERVER_E_COUNT];
};

/**
 * struct vmbus_gpadl_ref - a GPADL a device holds
 * @handle: its handle.
 * @rangecount: number of ranges in @words.
 * @nwords: size of @words.
 * @words: the range buffer: for each range, a header word (byte_count
 *	in bits 31:0, byte_offset in 63:32, as struct vmbus_gpa_range)
 *	followed by its frame numbers. Validated, every frame guest RAM.
 * @npages: frames in all ranges.
 */
struct vmbus_gpadl_ref {
	u32 handle;
	u16 rangecount;
	u32 nwords;
	const u64 *words;
	u32 npages;
};

int vmbus_server_create(const struct vmbus_server_ops *ops, void *ctx,
			const struct vmbus_server_config *config,
			struct vmbus_server **out);
/* Close every open channel (->chan_close), forget all (->chan_freed). */
void vmbus_server_destroy(struct vmbus_server *srv);

/*
 * One message the guest posted on a VMBus message connection (1 or 4),
 * @len bytes copied out of the guest. 0 when handled (a refusal the
 * protocol answers, such as an unsupported version, included); a
 * negative errno when ignored or refused as enum vmbus_server_err says.
 */
int vmbus_server_handle_message(struct vmbus_server *srv, const void *buf,
				size_t len);
/* The guest freed its SINT slot: post what is queued, in order. */
void vmbus_server_retry(struct vmbus_server *srv);

/*
 * Offer a channel of class @type, instance @instance. It gets the lowest
 * free relid, connection id 0x2000 | relid (what the guest's
 * HvSignalEvent names; the embedder connects it) and, if asked for and
 * the guest gave monitor pages, a monitor id. Sent to the guest at once
 * if it already asked for offers. -ENOSPC when all relids are taken.
 */
int vmbus_server_offer(struct vmbus_server *srv, const guid_t *type,
		       const guid_t *instance,
		       const struct vmbus_offer_params *params, void *ctx,
		       struct vmbus_server_channel **out);
/*
 * Withdraw @ch. Closes it (->chan_close) if open and tells the guest;
 * ->chan_freed() follows once the guest released the relid (at once if
 * the guest never saw the offer). Do not rescind twice.
 */
void vmbus_server_rescind(struct vmbus_server_channel *ch);

struct vmbus_server_channel *
vmbus_server_channel_find(struct vmbus_server *srv, u32 relid);
void *vmbus_server_channel_ctx(const struct vmbus_server_channel *ch);
u32 vmbus_server_channel_relid(const struct vmbus_server_channel *ch);
u32 vmbus_server_channel_connection_id(const struct vmbus_server_channel *ch);
/* VMBUS_MONITOR_ID_NONE when the channel is not monitored. */
u8 vmbus_server_channel_monitor_id(const struct vmbus_server_channel *ch);
bool vmbus_server_channel_is_open(const struct vmbus_server_channel *ch);
u32 vmbus_server_channel_target_vp(const struct vmbus_server_channel *ch);
/* Interrupt the guest for open channel @ch; -ENOTCONN if not open. */
int vmbus_server_channel_signal(struct vmbus_server_channel *ch);

/*
 * Use GPADL @handle of open channel @ch (a receive buffer, say): it is
 * not torn down until vmbus_server_gpadl_put(). -ENOTCONN if @ch is not
 * open; -ENOENT if there is no such complete GPADL on @ch or the guest
 * is tearing it down.
 */
int vmbus_server_gpadl_get(struct vmbus_server_channel *ch, u32 handle,
			   struct vmbus_gpadl_ref *ref);
void vmbus_server_gpadl_put(struct vmbus_server_channel *ch, u32 handle);

void vmbus_server_get_conn(const struct vmbus_server *srv,
			   struct vmbus_server_conn *conn);
void vmbus_server_get_stats(const struct vmbus_server *srv,
			    struct vmbus_server_stats *stats);
const char *vmbus_server_err_name(enum vmbus_server_err err);

#endif /* VID_VMBUS_SERVER_H */
