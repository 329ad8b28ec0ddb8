// SPDX-License-Identifier: GPL-2.0
/*
 * VMBus server channels: offers and rescinds from the root;
 * OPENCHANNEL, CLOSECHANNEL, RELID_RELEASED and MODIFYCHANNEL from the
 * guest. A channel keeps its relid from offer until it is freed (after
 * rescind and the guest's release), so a guest that reconnects sees the
 * same relids again.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "server_int.h"

/* A channel the guest knows about (it was offered and not released). */
struct vmbus_server_channel *vmbus_chan_lookup(struct vmbus_server *srv,
					       u32 relid)
{
	struct vmbus_server_channel *ch;

	if (!relid || relid > srv->cfg.max_channels)
		return NULL;
	ch = srv->chans[relid];
	if (!ch || ch->state == VMBUS_CHAN_IDLE)
		return NULL;
	return ch;
}

struct vmbus_server_channel *
vmbus_server_channel_find(struct vmbus_server *srv, u32 relid)
{
	if (!relid || relid > srv->cfg.max_channels)
		return NULL;
	return srv->chans[relid];
}

void *vmbus_server_channel_ctx(const struct vmbus_server_channel *ch)
{
	return ch->ctx;
}

u32 vmbus_server_channel_relid(const struct vmbus_server_channel *ch)
{
	return ch->relid;
}

u32 vmbus_server_channel_connection_id(const struct vmbus_server_channel *ch)
{
	return VMBUS_CHANNEL_CONN_ID_BASE | ch->relid;
}

u8 vmbus_server_channel_monitor_id(const struct vmbus_server_channel *ch)
{
	return ch->monitor_id;
}

bool vmbus_server_channel_is_open(const struct vmbus_server_channel *ch)
{
	return ch->state == VMBUS_CHAN_OPEN;
}

u32 vmbus_server_channel_target_vp(const struct vmbus_server_channel *ch)
{
	return ch->target_vp;
}

int vmbus_server_channel_signal(struct vmbus_server_channel *ch)
{
	struct vmbus_server *srv = ch->srv;

	if (ch->state != VMBUS_CHAN_OPEN)
		return -ENOTCONN;
	srv->ops->signal_channel(srv->ctx, ch->relid, ch->target_vp);
	return 0;
}

void vmbus_chan_send_offer(struct vmbus_server_channel *ch)
{
	struct vmbus_server *srv = ch->srv;
	struct vmbus_msg_offer m = {
		.hdr.msgtype = VMBUS_MSG_OFFERCHANNEL,
		.if_type = ch->type,
		.if_instance = ch->instance,
		.chn_flags = ch->params.chn_flags,
		.mmio_megabytes = ch->params.mmio_megabytes,
		.sub_channel_index = ch->params.sub_channel_index,
		.child_relid = ch->relid,
		.monitorid = VMBUS_MONITOR_ID_NONE,
		/* every channel has its own connection id (Win8 and later) */
		.interrupt_flags = 1,
		.connection_id = VMBUS_CHANNEL_CONN_ID_BASE | ch->relid,
	};

	memcpy(m.user_def, ch->params.user_def, sizeof(m.user_def));
	/* monitored only if the guest gave us monitor pages to use */
	if (ch->monitor_id != VMBUS_MONITOR_ID_NONE &&
	    srv->conn.monitor_page2) {
		m.monitorid = ch->monitor_id;
		m.monitor_flags = 1;
	}
	ch->state = VMBUS_CHAN_OFFERED;
	vmbus_srv_send(srv, &m, sizeof(m));
}

static u8 vmbus_monitor_alloc(struct vmbus_server *srv)
{
	unsigned int id;

	for (id = 0; id <= VMBUS_MAX_MONITOR_ID; id++) {
		if (!(srv->monitor_map[id / 64] & (1ULL << (id % 64)))) {
			srv->monitor_map[id / 64] |= 1ULL << (id % 64);
			return id;
		}
	}
	return VMBUS_MONITOR_ID_NONE;
}

int vmbus_server_offer(struct vmbus_server *srv, const guid_t *type,
		       const guid_t *instance,
		       const struct vmbus_offer_params *params, void *ctx,
		       struct vmbus_server_channel **out)
{
	struct vmbus_server_channel *ch;
	u32 relid;

	if (params && (params->flags & ~VMBUS_CHANNEL_F_MONITORED))
		return -EINVAL;
	for (relid = 1; relid <= srv->cfg.max_channels; relid++)
		if (!srv->chans[relid])
			break;
	if (relid > srv->cfg.max_channels)
		return -ENOSPC;

	ch = vmbus_srv_alloc(srv, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	memset(ch, 0, sizeof(*ch));
	ch->srv = srv;
	ch->ctx = ctx;
	ch->type = *type;
	ch->instance = *instance;
	if (params)
		ch->params = *params;
	ch->relid = relid;
	ch->state = VMBUS_CHAN_IDLE;
	ch->monitor_id = VMBUS_MONITOR_ID_NONE;
	if (ch->params.flags & VMBUS_CHANNEL_F_MONITORED)
		ch->monitor_id = vmbus_monitor_alloc(srv);
	srv->chans[relid] = ch;

	if (srv->state == VMBUS_CONN_CONNECTED && srv->offers_sent)
		vmbus_chan_send_offer(ch);
	*out = ch;
	return 0;
}

/*
 * Close an open channel: the device first, then the ring GPADL is free
 * (and torn down now if the guest asked for that meanwhile).
 */
void vmbus_chan_close(struct vmbus_server_channel *ch)
{
	struct vmbus_server *srv = ch->srv;
	struct vmbus_gpadl *ring = ch->ring;

	srv->ops->chan_close(srv->ctx, ch);
	ch->ring = NULL;
	ch->state = VMBUS_CHAN_OFFERED;
	vmbus_gpadl_unuse(ring);
}

/* Forget a closed channel and its GPADLs; the relid is free again. */
void vmbus_chan_free(struct vmbus_server_channel *ch)
{
	struct vmbus_server *srv = ch->srv;

	vmbus_gpadl_drop_all(srv, ch);
	if (ch->monitor_id != VMBUS_MONITOR_ID_NONE)
		srv->monitor_map[ch->monitor_id / 64] &=
			~(1ULL << (ch->monitor_id % 64));
	srv->chans[ch->relid] = NULL;
	if (srv->ops->chan_freed)
		srv->ops->chan_freed(srv->ctx, ch);
	vmbus_srv_free(srv, ch);
}

void vmbus_server_rescind(struct vmbus_server_channel *ch)
{
	struct vmbus_msg_relid m = {
		.hdr.msgtype = VMBUS_MSG_RESCIND_CHANNELOFFER,
		.child_relid = ch->relid,
	};

	switch (ch->state) {
	case VMBUS_CHAN_IDLE:
		vmbus_chan_free(ch);
		return;
	case VMBUS_CHAN_REVOKED:
		return;
	case VMBUS_CHAN_OPEN:
		vmbus_chan_close(ch);
		break;
	default:
		break;
	}
	ch->state = VMBUS_CHAN_REVOKED;
	vmbus_srv_send(ch->srv, &m, sizeof(m));
}

static void vmbus_chan_open_result(struct vmbus_server *srv, u32 relid,
				   u32 openid, u32 status)
{
	struct vmbus_msg_open_result r = {
		.hdr.msgtype = VMBUS_MSG_OPENCHANNEL_RESULT,
		.child_relid = relid,
		.openid = openid,
		.status = status,
	};

	vmbus_srv_send(srv, &r, sizeof(r));
}

/*
 * A ring GPADL: complete, this channel's, one page-aligned range of whole
 * pages, split at @offset into two rings of a header page and at least
 * one data page each.
 */
static bool vmbus_chan_ring_ok(const struct vmbus_gpadl *g,
			       const struct vmbus_server_channel *ch,
			       u32 offset)
{
	if (!g || g->chan != ch || g->state != VMBUS_GPADL_READY ||
	    g->rangecount != 1)
		return false;
	/* words[0]: byte_count in bits 31:0, byte_offset in 63:32 */
	if (g->words[0] != (u64)g->npages * 4096)
		return false;
	return g->npages >= 4 && offset >= 2 && offset <= g->npages - 2;
}

int vmbus_chan_handle_open(struct vmbus_server *srv, const void *buf)
{
	const struct vmbus_msg_open *m = buf;
	struct vmbus_open_params p = {
		.gpadl = m->ringbuffer_gpadlhandle,
		.downstream_offset = m->downstream_ringbuffer_pageoffset,
		.openid = m->openid,
		.userdata = m->userdata,
	};
	struct vmbus_server_channel *ch;
	struct vmbus_gpadl *g;
	int ret;

	ch = vmbus_chan_lookup(srv, m->child_relid);
	if (!ch)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_RELID,
				     VMBUS_MSG_OPENCHANNEL);
	/* Hyper-V ignores opens of rescinded channels; guests rely on it. */
	if (ch->state == VMBUS_CHAN_REVOKED)
		return 0;
	if (ch->state == VMBUS_CHAN_OPEN)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_STATE,
				     VMBUS_MSG_OPENCHANNEL);

	g = vmbus_gpadl_find(srv, p.gpadl);
	if (!vmbus_chan_ring_ok(g, ch, p.downstream_offset)) {
		vmbus_chan_open_result(srv, ch->relid, m->openid,
				       VMBUS_STATUS_UNSUCCESSFUL);
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_RING,
				     VMBUS_MSG_OPENCHANNEL);
	}
	p.ring_pfns = &g->words[1];
	p.ring_pages = g->npages;
	/* before 2.4 channel interrupts all go to VP 0 */
	p.target_vp = srv->conn.version >= VMBUS_VERSION_WIN8 ? m->target_vp : 0;

	/* open while the device runs, so it may take GPADLs already */
	ch->state = VMBUS_CHAN_OPEN;
	ch->ring = g;
	ch->target_vp = p.target_vp;
	g->users++;
	ret = srv->ops->chan_open(srv->ctx, ch, &p);
	if (ret) {
		ch->ring = NULL;
		ch->state = VMBUS_CHAN_OFFERED;
		vmbus_gpadl_unuse(g);
		vmbus_chan_open_result(srv, ch->relid, m->openid,
				       VMBUS_STATUS_UNSUCCESSFUL);
		return 0;
	}
	vmbus_chan_open_result(srv, ch->relid, m->openid, VMBUS_STATUS_SUCCESS);
	return 0;
}

int vmbus_chan_handle_close(struct vmbus_server *srv, const void *buf)
{
	const struct vmbus_msg_relid *m = buf;
	struct vmbus_server_channel *ch;

	ch = vmbus_chan_lookup(srv, m->child_relid);
	if (!ch)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_RELID,
				     VMBUS_MSG_CLOSECHANNEL);
	/* Linux closes a rescinded channel before releasing it */
	if (ch->state == VMBUS_CHAN_REVOKED)
		return 0;
	if (ch->state != VMBUS_CHAN_OPEN)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_STATE,
				     VMBUS_MSG_CLOSECHANNEL);
	vmbus_chan_close(ch);
	return 0;
}

int vmbus_chan_handle_released(struct vmbus_server *srv, const void *buf)
{
	const struct vmbus_msg_relid *m = buf;
	struct vmbus_server_channel *ch;

	ch = vmbus_chan_lookup(srv, m->child_relid);
	if (!ch)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_RELID,
				     VMBUS_MSG_RELID_RELEASED);
	switch (ch->state) {
	case VMBUS_CHAN_OPEN:
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_STATE,
				     VMBUS_MSG_RELID_RELEASED);
	case VMBUS_CHAN_REVOKED:
		vmbus_chan_free(ch);
		break;
	default:
		/* a guest that could not use an offer gives it back */
		vmbus_gpadl_drop_all(srv, ch);
		ch->state = VMBUS_CHAN_IDLE;
		break;
	}
	return 0;
}

int vmbus_chan_handle_modify(struct vmbus_server *srv, const void *buf)
{
	const struct vmbus_msg_modifychannel *m = buf;
	struct vmbus_msg_modifychannel_response r = {
		.hdr.msgtype = VMBUS_MSG_MODIFYCHANNEL_RESPONSE,
		.child_relid = m->child_relid,
		.status = VMBUS_STATUS_UNSUCCESSFUL,
	};
	enum vmbus_server_err err = VMBUS_SERVER_E_COUNT;
	struct vmbus_server_channel *ch;
	int ret = 0;

	if (srv->conn.version < VMBUS_VERSION_WIN10_V4_1)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_TYPE,
				     VMBUS_MSG_MODIFYCHANNEL);
	ch = vmbus_chan_lookup(srv, m->child_relid);
	if (!ch) {
		err = VMBUS_SERVER_E_RELID;
	} else if (ch->state != VMBUS_CHAN_OPEN) {
		err = VMBUS_SERVER_E_STATE;
	} else {
		if (srv->ops->chan_modify)
			ret = srv->ops->chan_modify(srv->ctx, ch, m->target_vp);
		if (!ret) {
			ch->target_vp = m->target_vp;
			r.status = VMBUS_STATUS_SUCCESS;
		}
	}
	/* only 5.3 guests wait for an answer; earlier ones get none */
	if (srv->conn.version >= VMBUS_VERSION_WIN10_V5_3)
		vmbus_srv_send(srv, &r, sizeof(r));
	if (err != VMBUS_SERVER_E_COUNT)
		return vmbus_srv_bad(srv, err, VMBUS_MSG_MODIFYCHANNEL);
	return 0;
}
