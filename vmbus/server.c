// SPDX-License-Identifier: GPL-2.0
/*
 * VMBus server: the connection (INITIATE_CONTACT, REQUESTOFFERS, UNLOAD),
 * the message dispatcher that checks every guest message's type, size
 * and protocol state before a handler sees it, and the queue of messages
 * waiting for the guest's SINT slot. Channels are in server_channel.c,
 * GPADLs in server_gpadl.c.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#endif

#include "server_int.h"

static void *vmbus_alloc(const struct vmbus_server_ops *ops, void *ctx,
			 size_t size)
{
	if (ops->alloc)
		return ops->alloc(ctx, size);
#ifdef __KERNEL__
	return kvmalloc(size, GFP_KERNEL_ACCOUNT);
#else
	return malloc(size);
#endif
}

void *vmbus_srv_alloc(struct vmbus_server *srv, size_t size)
{
	return vmbus_alloc(srv->ops, srv->ctx, size);
}

void vmbus_srv_free(struct vmbus_server *srv, void *p)
{
	if (!p)
		return;
	if (srv->ops->free) {
		srv->ops->free(srv->ctx, p);
		return;
	}
#ifdef __KERNEL__
	kvfree(p);
#else
	free(p);
#endif
}

static const char *const vmbus_server_err_names[VMBUS_SERVER_E_COUNT] = {
	[VMBUS_SERVER_E_SHORT] = "message too short",
	[VMBUS_SERVER_E_LONG] = "message too long",
	[VMBUS_SERVER_E_TYPE] = "unknown message type",
	[VMBUS_SERVER_E_ROOT_ONLY] = "root-to-guest message type",
	[VMBUS_SERVER_E_NOT_CONNECTED] = "message before INITIATE_CONTACT",
	[VMBUS_SERVER_E_STATE] = "message out of protocol order",
	[VMBUS_SERVER_E_RELID] = "unknown channel",
	[VMBUS_SERVER_E_GPADL] = "unknown GPADL",
	[VMBUS_SERVER_E_GPADL_DUP] = "duplicate GPADL handle",
	[VMBUS_SERVER_E_GPADL_RANGE] = "malformed GPADL ranges",
	[VMBUS_SERVER_E_GPADL_PFN] = "GPADL frame outside guest RAM",
	[VMBUS_SERVER_E_GPADL_LIMIT] = "GPADL limit reached",
	[VMBUS_SERVER_E_RING] = "unusable ring GPADL",
	[VMBUS_SERVER_E_NOMEM] = "out of memory",
	[VMBUS_SERVER_E_QUEUE_FULL] = "message queue full",
	[VMBUS_SERVER_E_POST] = "message post failed",
};

const char *vmbus_server_err_name(enum vmbus_server_err err)
{
	if ((unsigned int)err >= VMBUS_SERVER_E_COUNT)
		return "?";
	return vmbus_server_err_names[err];
}

/* The errno vmbus_server_handle_message() returns for each reason. */
static const int vmbus_server_err_errno[VMBUS_SERVER_E_COUNT] = {
	[VMBUS_SERVER_E_SHORT] = -EMSGSIZE,
	[VMBUS_SERVER_E_LONG] = -EMSGSIZE,
	[VMBUS_SERVER_E_TYPE] = -EOPNOTSUPP,
	[VMBUS_SERVER_E_ROOT_ONLY] = -EOPNOTSUPP,
	[VMBUS_SERVER_E_NOT_CONNECTED] = -ENOTCONN,
	[VMBUS_SERVER_E_STATE] = -EPROTO,
	[VMBUS_SERVER_E_RELID] = -ENOENT,
	[VMBUS_SERVER_E_GPADL] = -ENOENT,
	[VMBUS_SERVER_E_GPADL_DUP] = -EEXIST,
	[VMBUS_SERVER_E_GPADL_RANGE] = -EINVAL,
	[VMBUS_SERVER_E_GPADL_PFN] = -EFAULT,
	[VMBUS_SERVER_E_GPADL_LIMIT] = -ENOSPC,
	[VMBUS_SERVER_E_RING] = -EINVAL,
	[VMBUS_SERVER_E_NOMEM] = -ENOMEM,
	[VMBUS_SERVER_E_QUEUE_FULL] = -ENOBUFS,
	[VMBUS_SERVER_E_POST] = -EIO,
};

int vmbus_srv_bad(struct vmbus_server *srv, enum vmbus_server_err err,
		  u32 msgtype)
{
	srv->stats.errors[err]++;
	if (srv->ops->bad_msg)
		srv->ops->bad_msg(srv->ctx, err, msgtype);
	return vmbus_server_err_errno[err];
}

static u32 vmbus_msg_type_of(const void *msg)
{
	u32 type;

	memcpy(&type, msg, sizeof(type));
	return type;
}

static void vmbus_srv_drop(struct vmbus_server *srv, enum vmbus_server_err err,
			   const void *msg)
{
	srv->stats.dropped++;
	vmbus_srv_bad(srv, err, vmbus_msg_type_of(msg));
}

/*
 * Messages go out in order: while anything is queued, new messages queue
 * behind it. During disconnect and destroy (@quiet) nothing is sent.
 */
void vmbus_srv_send(struct vmbus_server *srv, const void *msg, u32 size)
{
	u32 vp = srv->conn.target_vp;
	u8 sint = srv->conn.target_sint;
	struct vmbus_qmsg *q;
	int ret;

	if (srv->quiet)
		return;
	if (!srv->q_head) {
		ret = srv->ops->post_message(srv->ctx, vp, sint, msg, size);
		if (!ret) {
			srv->stats.posted++;
			return;
		}
		if (ret != -EAGAIN) {
			vmbus_srv_drop(srv, VMBUS_SERVER_E_POST, msg);
			return;
		}
	}
	if (srv->nqueued >= srv->cfg.max_queued) {
		vmbus_srv_drop(srv, VMBUS_SERVER_E_QUEUE_FULL, msg);
		return;
	}
	q = vmbus_srv_alloc(srv, sizeof(*q));
	if (!q) {
		vmbus_srv_drop(srv, VMBUS_SERVER_E_NOMEM, msg);
		return;
	}
	q->next = NULL;
	q->vp = vp;
	q->sint = sint;
	q->size = size;
	memcpy(q->data, msg, size);
	if (srv->q_tail)
		srv->q_tail->next = q;
	else
		srv->q_head = q;
	srv->q_tail = q;
	srv->nqueued++;
}

static void vmbus_srv_dequeue(struct vmbus_server *srv)
{
	struct vmbus_qmsg *q = srv->q_head;

	srv->q_head = q->next;
	if (!srv->q_head)
		srv->q_tail = NULL;
	srv->nqueued--;
	vmbus_srv_free(srv, q);
}

void vmbus_server_retry(struct vmbus_server *srv)
{
	struct vmbus_qmsg *q;
	int ret;

	while ((q = srv->q_head)) {
		ret = srv->ops->post_message(srv->ctx, q->vp, q->sint, q->data,
					     q->size);
		if (ret == -EAGAIN)
			return;
		if (ret)
			vmbus_srv_drop(srv, VMBUS_SERVER_E_POST, q->data);
		else
			srv->stats.posted++;
		vmbus_srv_dequeue(srv);
	}
}

/* Messages queued for a connection that is gone are not delivered. */
static void vmbus_srv_flush(struct vmbus_server *srv)
{
	while (srv->q_head) {
		srv->stats.dropped++;
		vmbus_srv_dequeue(srv);
	}
}

static void vmbus_srv_send_hdr(struct vmbus_server *srv, u32 msgtype)
{
	struct vmbus_msg_hdr hdr = { .msgtype = msgtype };

	vmbus_srv_send(srv, &hdr, sizeof(hdr));
}

/*
 * Forget the guest's connection: close what is open, forget rescinded
 * channels (the guest let go of all relids), return the rest to IDLE for
 * the next REQUESTOFFERS, drop every GPADL. The guest is told nothing.
 */
static void vmbus_srv_disconnect(struct vmbus_server *srv)
{
	struct vmbus_server_channel *ch;
	u32 relid;

	srv->quiet = true;
	for (relid = 1; relid <= srv->cfg.max_channels; relid++) {
		ch = srv->chans[relid];
		if (!ch)
			continue;
		if (ch->state == VMBUS_CHAN_OPEN)
			vmbus_chan_close(ch);
		if (ch->state == VMBUS_CHAN_REVOKED)
			vmbus_chan_free(ch);
		else
			ch->state = VMBUS_CHAN_IDLE;
	}
	vmbus_gpadl_drop_all(srv, NULL);
	srv->quiet = false;

	srv->state = VMBUS_CONN_DISCONNECTED;
	srv->offers_sent = false;
	srv->conn.version = 0;
	srv->conn.interrupt_page = 0;
	srv->conn.monitor_page1 = 0;
	srv->conn.monitor_page2 = 0;
	if (srv->ops->state_changed)
		srv->ops->state_changed(srv->ctx, 0);
}

static const u32 vmbus_srv_versions[] = {
	VMBUS_VERSION_WIN7,
	VMBUS_VERSION_WIN8,
	VMBUS_VERSION_WIN8_1,
	VMBUS_VERSION_WIN10,
	VMBUS_VERSION_WIN10_V4_1,
	VMBUS_VERSION_WIN10_V5,
	VMBUS_VERSION_WIN10_V5_1,
	VMBUS_VERSION_WIN10_V5_2,
	VMBUS_VERSION_WIN10_V5_3,
};

static bool vmbus_srv_version_ok(const struct vmbus_server *srv, u32 version)
{
	unsigned int i;

	if (version > srv->cfg.max_version)
		return false;
	for (i = 0; i < ARRAY_SIZE(vmbus_srv_versions); i++)
		if (vmbus_srv_versions[i] == version)
			return true;
	return false;
}

static int vmbus_srv_initiate_contact(struct vmbus_server *srv,
				      const void *buf)
{
	const struct vmbus_msg_initiate_contact *m = buf;
	struct vmbus_msg_version_response r = {
		.hdr.msgtype = VMBUS_MSG_VERSION_RESPONSE,
	};
	u32 version = m->vmbus_version_requested;
	u8 sint = VMBUS_MESSAGE_SINT, vtl = 0;

	if (srv->state == VMBUS_CONN_CONNECTED)
		vmbus_srv_disconnect(srv);
	vmbus_srv_flush(srv);

	/* The answer goes where the guest asked (a VP from 3.0 on). */
	srv->conn.target_vp = version >= VMBUS_VERSION_WIN8_1 ?
			      m->target_vcpu : 0;
	srv->conn.target_sint = VMBUS_MESSAGE_SINT;
	if (version >= VMBUS_VERSION_WIN10_V5) {
		sint = m->target_info & 0xff;
		vtl = (m->target_info >> 8) & 0xff;
	}

	/* Only SINT 2 of VTL 0 is served: other targets are "unsupported". */
	if (!vmbus_srv_version_ok(srv, version) ||
	    sint != VMBUS_MESSAGE_SINT || vtl) {
		vmbus_srv_send(srv, &r, sizeof(r));
		return 0;
	}

	/* Both monitor pages or neither; before 2.4 failure is "unsupported". */
	if (!m->monitor_page1 != !m->monitor_page2) {
		if (version >= VMBUS_VERSION_WIN8) {
			r.version_supported = 1;
			r.connection_state = VMBUS_CONNECTION_FAILED_UNKNOWN;
		}
		vmbus_srv_send(srv, &r, sizeof(r));
		return 0;
	}

	srv->state = VMBUS_CONN_CONNECTED;
	srv->conn.version = version;
	srv->conn.interrupt_page = version < VMBUS_VERSION_WIN8 ?
				   m->target_info : 0;
	srv->conn.monitor_page1 = m->monitor_page1;
	srv->conn.monitor_page2 = m->monitor_page2;

	r.version_supported = 1;
	r.connection_state = VMBUS_CONNECTION_SUCCESSFUL;
	r.msg_conn_id = version >= VMBUS_VERSION_WIN10_V5 ?
			VMBUS_MESSAGE_CONNECTION_ID : version;
	vmbus_srv_send(srv, &r, sizeof(r));
	if (srv->ops->state_changed)
		srv->ops->state_changed(srv->ctx, version);
	return 0;
}

static int vmbus_srv_request_offers(struct vmbus_server *srv)
{
	struct vmbus_server_channel *ch;
	u32 relid;

	if (srv->offers_sent)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_STATE,
				     VMBUS_MSG_REQUESTOFFERS);
	srv->offers_sent = true;
	for (relid = 1; relid <= srv->cfg.max_channels; relid++) {
		ch = srv->chans[relid];
		if (ch && ch->state == VMBUS_CHAN_IDLE)
			vmbus_chan_send_offer(ch);
	}
	vmbus_srv_send_hdr(srv, VMBUS_MSG_ALLOFFERS_DELIVERED);
	return 0;
}

static int vmbus_srv_unload(struct vmbus_server *srv)
{
	vmbus_srv_disconnect(srv);
	vmbus_srv_send_hdr(srv, VMBUS_MSG_UNLOAD_RESPONSE);
	return 0;
}

/*
 * What each guest -> root type must look like: its size range (exact
 * unless noted) and whether it is accepted before INITIATE_CONTACT.
 * Types without VMBUS_RULE_GUEST or VMBUS_RULE_ROOT are unknown.
 */
#define VMBUS_RULE_GUEST	0x1	/* the guest sends it */
#define VMBUS_RULE_ROOT		0x2	/* only the root sends it */
#define VMBUS_RULE_ANY_STATE	0x4	/* also before INITIATE_CONTACT */

struct vmbus_msg_rule {
	u8 min;
	u8 max;
	u8 flags;
};

static const struct vmbus_msg_rule vmbus_msg_rules[VMBUS_MSG_COUNT] = {
	[VMBUS_MSG_OFFERCHANNEL] = { .flags = VMBUS_RULE_ROOT },
	[VMBUS_MSG_RESCIND_CHANNELOFFER] = { .flags = VMBUS_RULE_ROOT },
	[VMBUS_MSG_REQUESTOFFERS] = { 8, 8, VMBUS_RULE_GUEST },
	[VMBUS_MSG_ALLOFFERS_DELIVERED] = { .flags = VMBUS_RULE_ROOT },
	[VMBUS_MSG_OPENCHANNEL] = {
		sizeof(struct vmbus_msg_open), sizeof(struct vmbus_msg_open),
		VMBUS_RULE_GUEST },
	[VMBUS_MSG_OPENCHANNEL_RESULT] = { .flags = VMBUS_RULE_ROOT },
	[VMBUS_MSG_CLOSECHANNEL] = {
		sizeof(struct vmbus_msg_relid), sizeof(struct vmbus_msg_relid),
		VMBUS_RULE_GUEST },
	/* header and body: whole u64s after the fixed part, checked later */
	[VMBUS_MSG_GPADL_HEADER] = {
		sizeof(struct vmbus_msg_gpadl_header), VMBUS_MSG_MAX_SIZE,
		VMBUS_RULE_GUEST },
	[VMBUS_MSG_GPADL_BODY] = {
		sizeof(struct vmbus_msg_gpadl_body) + sizeof(u64),
		VMBUS_MSG_MAX_SIZE, VMBUS_RULE_GUEST },
	[VMBUS_MSG_GPADL_CREATED] = { .flags = VMBUS_RULE_ROOT },
	[VMBUS_MSG_GPADL_TEARDOWN] = {
		sizeof(struct vmbus_msg_gpadl_teardown),
		sizeof(struct vmbus_msg_gpadl_teardown), VMBUS_RULE_GUEST },
	[VMBUS_MSG_GPADL_TORNDOWN] = { .flags = VMBUS_RULE_ROOT },
	[VMBUS_MSG_RELID_RELEASED] = {
		sizeof(struct vmbus_msg_relid), sizeof(struct vmbus_msg_relid),
		VMBUS_RULE_GUEST },
	/* later protocols append fields: accepted, they get "unsupported" */
	[VMBUS_MSG_INITIATE_CONTACT] = {
		sizeof(struct vmbus_msg_initiate_contact), VMBUS_MSG_MAX_SIZE,
		VMBUS_RULE_GUEST | VMBUS_RULE_ANY_STATE },
	[VMBUS_MSG_VERSION_RESPONSE] = { .flags = VMBUS_RULE_ROOT },
	[VMBUS_MSG_UNLOAD] = { 8, 8, VMBUS_RULE_GUEST },
	[VMBUS_MSG_UNLOAD_RESPONSE] = { .flags = VMBUS_RULE_ROOT },
	[VMBUS_MSG_MODIFYCHANNEL] = {
		sizeof(struct vmbus_msg_modifychannel),
		sizeof(struct vmbus_msg_modifychannel), VMBUS_RULE_GUEST },
	[VMBUS_MSG_TL_CONNECT_RESULT] = { .flags = VMBUS_RULE_ROOT },
	[VMBUS_MSG_MODIFYCHANNEL_RESPONSE] = { .flags = VMBUS_RULE_ROOT },
};

int vmbus_server_handle_message(struct vmbus_server *srv, const void *buf,
				size_t len)
{
	/* an aligned private copy: handlers read fields in place */
	u64 msg[VMBUS_MSG_MAX_SIZE / 8];
	const struct vmbus_msg_rule *rule;
	u32 type;

	srv->stats.messages++;
	if (len < sizeof(struct vmbus_msg_hdr)) {
		type = VMBUS_MSG_INVALID;
		if (len >= sizeof(type))
			memcpy(&type, buf, sizeof(type));
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_SHORT, type);
	}
	memcpy(&type, buf, sizeof(type));
	if (len > VMBUS_MSG_MAX_SIZE)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_LONG, type);
	memcpy(msg, buf, len);

	rule = type < VMBUS_MSG_COUNT ? &vmbus_msg_rules[type] : NULL;
	if (rule && (rule->flags & VMBUS_RULE_ROOT))
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_ROOT_ONLY, type);
	if (!rule || !(rule->flags & VMBUS_RULE_GUEST))
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_TYPE, type);
	if (len < rule->min)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_SHORT, type);
	if (len > rule->max)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_LONG, type);
	if (srv->state != VMBUS_CONN_CONNECTED &&
	    !(rule->flags & VMBUS_RULE_ANY_STATE))
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_NOT_CONNECTED, type);

	switch (type) {
	case VMBUS_MSG_INITIATE_CONTACT:
		return vmbus_srv_initiate_contact(srv, msg);
	case VMBUS_MSG_REQUESTOFFERS:
		return vmbus_srv_request_offers(srv);
	case VMBUS_MSG_UNLOAD:
		return vmbus_srv_unload(srv);
	case VMBUS_MSG_GPADL_HEADER:
		return vmbus_gpadl_handle_header(srv, msg, len);
	case VMBUS_MSG_GPADL_BODY:
		return vmbus_gpadl_handle_body(srv, msg, len);
	case VMBUS_MSG_GPADL_TEARDOWN:
		return vmbus_gpadl_handle_teardown(srv, msg);
	case VMBUS_MSG_OPENCHANNEL:
		return vmbus_chan_handle_open(srv, msg);
	case VMBUS_MSG_CLOSECHANNEL:
		return vmbus_chan_handle_close(srv, msg);
	case VMBUS_MSG_RELID_RELEASED:
		return vmbus_chan_handle_released(srv, msg);
	case VMBUS_MSG_MODIFYCHANNEL:
		return vmbus_chan_handle_modify(srv, msg);
	}
	return vmbus_srv_bad(srv, VMBUS_SERVER_E_TYPE, type);
}

int vmbus_server_create(const struct vmbus_server_ops *ops, void *ctx,
			const struct vmbus_server_config *config,
			struct vmbus_server **out)
{
	struct vmbus_server_config cfg = {};
	struct vmbus_server *srv;
	size_t size;

	if (!ops->post_message || !ops->signal_channel || !ops->gpa_ok ||
	    !ops->chan_open || !ops->chan_close || !ops->alloc != !ops->free)
		return -EINVAL;
	if (config)
		cfg = *config;
	if (!cfg.max_channels)
		cfg.max_channels = VMBUS_SERVER_DEF_CHANNELS;
	if (!cfg.max_gpadls)
		cfg.max_gpadls = VMBUS_SERVER_DEF_GPADLS;
	if (!cfg.max_gpadl_words)
		cfg.max_gpadl_words = VMBUS_SERVER_DEF_GPADL_WORDS;
	if (!cfg.max_queued)
		cfg.max_queued = cfg.max_channels + VMBUS_SERVER_QUEUE_EXTRA;
	if (!cfg.max_version)
		cfg.max_version = VMBUS_VERSION_WIN10_V5_3;
	if (cfg.max_channels > VMBUS_MAX_RELID)
		return -EINVAL;

	srv = vmbus_alloc(ops, ctx, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	memset(srv, 0, sizeof(*srv));
	srv->ops = ops;
	srv->ctx = ctx;
	srv->cfg = cfg;
	srv->conn.target_sint = VMBUS_MESSAGE_SINT;

	size = (cfg.max_channels + 1) * sizeof(*srv->chans);
	srv->chans = vmbus_srv_alloc(srv, size);
	if (!srv->chans) {
		vmbus_srv_free(srv, srv);
		return -ENOMEM;
	}
	memset(srv->chans, 0, size);
	*out = srv;
	return 0;
}

void vmbus_server_destroy(struct vmbus_server *srv)
{
	struct vmbus_server_channel *ch;
	u32 relid;

	if (!srv)
		return;
	srv->quiet = true;
	for (relid = 1; relid <= srv->cfg.max_channels; relid++) {
		ch = srv->chans[relid];
		if (!ch)
			continue;
		if (ch->state == VMBUS_CHAN_OPEN)
			vmbus_chan_close(ch);
		vmbus_chan_free(ch);
	}
	vmbus_gpadl_drop_all(srv, NULL);
	vmbus_srv_flush(srv);
	vmbus_srv_free(srv, srv->chans);
	vmbus_srv_free(srv, srv);
}

void vmbus_server_get_conn(const struct vmbus_server *srv,
			   struct vmbus_server_conn *conn)
{
	*conn = srv->conn;
}

void vmbus_server_get_stats(const struct vmbus_server *srv,
			    struct vmbus_server_stats *stats)
{
	*stats = srv->stats;
	stats->queued = srv->nqueued;
	stats->gpadls = srv->ngpadls;
	stats->gpadl_words = srv->gpadl_words;
}
