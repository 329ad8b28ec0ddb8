/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to the VMBus server (server.c, server_channel.c,
 * server_gpadl.c): its objects and the helpers they share. Everything
 * here runs under the embedder's per-partition serialization (server.h).
 */
#ifndef VID_VMBUS_SERVER_INT_H
#define VID_VMBUS_SERVER_INT_H

#include "server.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

enum vmbus_conn_state {
	VMBUS_CONN_DISCONNECTED,
	VMBUS_CONN_CONNECTED,
};

/*
 * A channel as the guest sees it:
 *  IDLE     offered by the root, not (or no longer) known to the guest
 *  OFFERED  the guest got OFFERCHANNEL; closed
 *  OPEN     opened; @ring in use
 *  REVOKED  rescinded; the guest has not released the relid yet
 */
enum vmbus_chan_state {
	VMBUS_CHAN_IDLE,
	VMBUS_CHAN_OFFERED,
	VMBUS_CHAN_OPEN,
	VMBUS_CHAN_REVOKED,
};

/*
 * A GPADL:
 *  ASSEMBLING  header seen, bodies outstanding
 *  READY       created (GPADL_CREATED success sent)
 *  TEARDOWN    the guest asked for teardown while @users > 0
 */
enum vmbus_gpadl_state {
	VMBUS_GPADL_ASSEMBLING,
	VMBUS_GPADL_READY,
	VMBUS_GPADL_TEARDOWN,
};

struct vmbus_gpadl {
	struct vmbus_gpadl *next;
	struct vmbus_server_channel *chan;
	u32 handle;
	u16 rangecount;
	u8 state;
	u32 users;
	u32 nwords;		/* size of @words */
	u32 filled;		/* words received so far */
	u32 npages;		/* frames, once READY */
	u64 words[];
};

struct vmbus_server_channel {
	struct vmbus_server *srv;
	void *ctx;
	guid_t type;
	guid_t instance;
	struct vmbus_offer_params params;
	u32 relid;
	u8 monitor_id;
	u8 state;
	u32 target_vp;
	struct vmbus_gpadl *ring;	/* while OPEN */
};

/* A message waiting for the guest's SINT slot (@data 8-byte aligned). */
struct vmbus_qmsg {
	u64 data[VMBUS_MSG_MAX_SIZE / 8];
	struct vmbus_qmsg *next;
	u32 vp;
	u8 sint;
	u8 size;
};

struct vmbus_server {
	const struct vmbus_server_ops *ops;
	void *ctx;
	struct vmbus_server_config cfg;

	u8 state;
	bool offers_sent;
	bool quiet;		/* disconnecting: send nothing */
	struct vmbus_server_conn conn;

	/* relid -> channel; [0] unused */
	struct vmbus_server_channel **chans;
	u64 monitor_map[(VMBUS_MAX_MONITOR_ID + 1) / 64];

	struct vmbus_gpadl *gpadls;
	u32 ngpadls;
	u32 gpadl_words;

	struct vmbus_qmsg *q_head;
	struct vmbus_qmsg *q_tail;
	u32 nqueued;

	struct vmbus_server_stats stats;
};

/* Connection id a channel's guest -> root signals use. */
#define VMBUS_CHANNEL_CONN_ID_BASE	0x2000

void *vmbus_srv_alloc(struct vmbus_server *srv, size_t size);
void vmbus_srv_free(struct vmbus_server *srv, void *p);
/* Count (and report) a guest message ignored for @err; returns -errno. */
int vmbus_srv_bad(struct vmbus_server *srv, enum vmbus_server_err err,
		  u32 msgtype);
/* Send @size bytes of @msg to the guest, queueing if its slot is busy. */
void vmbus_srv_send(struct vmbus_server *srv, const void *msg, u32 size);

/* server_channel.c */
struct vmbus_server_channel *vmbus_chan_lookup(struct vmbus_server *srv,
					       u32 relid);
void vmbus_chan_send_offer(struct vmbus_server_channel *ch);
void vmbus_chan_close(struct vmbus_server_channel *ch);
void vmbus_chan_free(struct vmbus_server_channel *ch);
int vmbus_chan_handle_open(struct vmbus_server *srv, const void *buf);
int vmbus_chan_handle_close(struct vmbus_server *srv, const void *buf);
int vmbus_chan_handle_released(struct vmbus_server *srv, const void *buf);
int vmbus_chan_handle_modify(struct vmbus_server *srv, const void *buf);

/* server_gpadl.c */
struct vmbus_gpadl *vmbus_gpadl_find(struct vmbus_server *srv, u32 handle);
void vmbus_gpadl_unuse(struct vmbus_gpadl *g);
/* Free every GPADL of @ch (NULL: all), telling the guest nothing. */
void vmbus_gpadl_drop_all(struct vmbus_server *srv,
			  struct vmbus_server_channel *ch);
int vmbus_gpadl_handle_header(struct vmbus_server *srv, const void *buf,
			      u32 len);
int vmbus_gpadl_handle_body(struct vmbus_server *srv, const void *buf,
			    u32 len);
int vmbus_gpadl_handle_teardown(struct vmbus_server *srv, const void *buf);

/*
 * Unit tests and fuzzers (selftests/unit/vmbus_server_check.c): 0 if the
 * server's state is consistent, else a negative line number there.
 */
int vmbus_server_check(const struct vmbus_server *srv);

#endif /* VID_VMBUS_SERVER_INT_H */
