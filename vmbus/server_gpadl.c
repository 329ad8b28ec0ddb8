// SPDX-License-Identifier: GPL-2.0
/*
 * VMBus server GPADLs (guest physical address descriptor lists): a guest
 * describes a buffer it shares with a channel as a range buffer, sent as
 * one GPADL_HEADER and as many GPADL_BODY messages as it takes (Linux:
 * 26 frames in the header, 28 per body). The buffer's size is known from
 * the header (range_buflen, at most 65535 bytes), so it is allocated once
 * and bounded by the server's limits before any body arrives. Once
 * complete, every range is checked (non-empty, offset within the first
 * page, exactly as many frames as it spans, nothing left over) and every
 * frame is asked ->gpa_ok(); then GPADL_CREATED says how it went.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "server_int.h"

#define VMBUS_GPA_PAGE_SIZE	4096U

struct vmbus_gpadl *vmbus_gpadl_find(struct vmbus_server *srv, u32 handle)
{
	struct vmbus_gpadl *g;

	for (g = srv->gpadls; g; g = g->next)
		if (g->handle == handle)
			return g;
	return NULL;
}

static void vmbus_gpadl_free(struct vmbus_server *srv, struct vmbus_gpadl *g)
{
	struct vmbus_gpadl **pp;

	for (pp = &srv->gpadls; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	srv->ngpadls--;
	srv->gpadl_words -= g->nwords;
	vmbus_srv_free(srv, g);
}

void vmbus_gpadl_drop_all(struct vmbus_server *srv,
			  struct vmbus_server_channel *ch)
{
	struct vmbus_gpadl *g, *next;

	for (g = srv->gpadls; g; g = next) {
		next = g->next;
		if (!ch || g->chan == ch)
			vmbus_gpadl_free(srv, g);
	}
}

static void vmbus_gpadl_created(struct vmbus_server *srv, u32 relid,
				u32 handle, u32 status)
{
	struct vmbus_msg_gpadl_created m = {
		.hdr.msgtype = VMBUS_MSG_GPADL_CREATED,
		.child_relid = relid,
		.gpadl = handle,
		.creation_status = status,
	};

	vmbus_srv_send(srv, &m, sizeof(m));
}

static void vmbus_gpadl_torndown(struct vmbus_server *srv,
				 struct vmbus_gpadl *g)
{
	struct vmbus_msg_gpadl_torndown m = {
		.hdr.msgtype = VMBUS_MSG_GPADL_TORNDOWN,
		.gpadl = g->handle,
	};

	vmbus_gpadl_free(srv, g);
	vmbus_srv_send(srv, &m, sizeof(m));
}

/* A user (an open channel's ring, a device) lets go of @g. */
void vmbus_gpadl_unuse(struct vmbus_gpadl *g)
{
	if (--g->users || g->state != VMBUS_GPADL_TEARDOWN)
		return;
	vmbus_gpadl_torndown(g->chan->srv, g);
}

/*
 * Check the complete range buffer; count its frames into @g->npages.
 * Returns VMBUS_SERVER_E_COUNT if it is sound.
 */
static enum vmbus_server_err vmbus_gpadl_check(struct vmbus_server *srv,
					       struct vmbus_gpadl *g)
{
	u32 i = 0, r, n, npages = 0;
	u64 hdr, span;

	for (r = 0; r < g->rangecount; r++) {
		if (i >= g->nwords)
			return VMBUS_SERVER_E_GPADL_RANGE;
		hdr = g->words[i++];
		/* byte_count in bits 31:0, byte_offset in 63:32 */
		if (!(u32)hdr || (hdr >> 32) >= VMBUS_GPA_PAGE_SIZE)
			return VMBUS_SERVER_E_GPADL_RANGE;
		span = (hdr >> 32) + (u32)hdr + VMBUS_GPA_PAGE_SIZE - 1;
		if (span / VMBUS_GPA_PAGE_SIZE > g->nwords - i)
			return VMBUS_SERVER_E_GPADL_RANGE;
		for (n = span / VMBUS_GPA_PAGE_SIZE; n; n--, npages++)
			if (!srv->ops->gpa_ok(srv->ctx, g->words[i++]))
				return VMBUS_SERVER_E_GPADL_PFN;
	}
	if (i != g->nwords)
		return VMBUS_SERVER_E_GPADL_RANGE;
	g->npages = npages;
	return VMBUS_SERVER_E_COUNT;
}

/* The last words arrived: accept @g or throw it away, and say so. */
static int vmbus_gpadl_complete(struct vmbus_server *srv,
				struct vmbus_gpadl *g, u32 msgtype)
{
	enum vmbus_server_err err = vmbus_gpadl_check(srv, g);
	u32 relid = g->chan->relid, handle = g->handle;

	if (err != VMBUS_SERVER_E_COUNT) {
		vmbus_gpadl_free(srv, g);
		vmbus_gpadl_created(srv, relid, handle,
				    VMBUS_STATUS_UNSUCCESSFUL);
		return vmbus_srv_bad(srv, err, msgtype);
	}
	g->state = VMBUS_GPADL_READY;
	vmbus_gpadl_created(srv, relid, handle, VMBUS_STATUS_SUCCESS);
	return 0;
}

int vmbus_gpadl_handle_header(struct vmbus_server *srv, const void *buf,
			      u32 len)
{
	const struct vmbus_msg_gpadl_header *m = buf;
	u32 carried = len - sizeof(*m), nwords = m->range_buflen / 8;
	enum vmbus_server_err err;
	struct vmbus_server_channel *ch;
	struct vmbus_gpadl *g;

	/* each range is at least a header word and one frame */
	if (carried % 8 || m->range_buflen % 8 || carried > m->range_buflen ||
	    !m->rangecount || m->rangecount > nwords / 2) {
		err = VMBUS_SERVER_E_GPADL_RANGE;
		goto fail;
	}
	ch = vmbus_chan_lookup(srv, m->child_relid);
	if (!ch) {
		err = VMBUS_SERVER_E_RELID;
		goto fail;
	}
	if (vmbus_gpadl_find(srv, m->gpadl)) {
		err = VMBUS_SERVER_E_GPADL_DUP;
		goto fail;
	}
	if (srv->ngpadls >= srv->cfg.max_gpadls ||
	    nwords > srv->cfg.max_gpadl_words - srv->gpadl_words) {
		err = VMBUS_SERVER_E_GPADL_LIMIT;
		goto fail;
	}
	g = vmbus_srv_alloc(srv, sizeof(*g) + nwords * sizeof(u64));
	if (!g) {
		err = VMBUS_SERVER_E_NOMEM;
		goto fail;
	}
	memset(g, 0, sizeof(*g));
	g->chan = ch;
	g->handle = m->gpadl;
	g->rangecount = m->rangecount;
	g->state = VMBUS_GPADL_ASSEMBLING;
	g->nwords = nwords;
	g->filled = carried / 8;
	memcpy(g->words, m->range, carried);
	g->next = srv->gpadls;
	srv->gpadls = g;
	srv->ngpadls++;
	srv->gpadl_words += nwords;

	if (g->filled == g->nwords)
		return vmbus_gpadl_complete(srv, g, VMBUS_MSG_GPADL_HEADER);
	return 0;

fail:
	vmbus_gpadl_created(srv, m->child_relid, m->gpadl,
			    VMBUS_STATUS_UNSUCCESSFUL);
	return vmbus_srv_bad(srv, err, VMBUS_MSG_GPADL_HEADER);
}

int vmbus_gpadl_handle_body(struct vmbus_server *srv, const void *buf,
			    u32 len)
{
	const struct vmbus_msg_gpadl_body *m = buf;
	u32 carried = len - sizeof(*m), relid;
	struct vmbus_gpadl *g;

	/* a body names no channel: nothing to answer an unknown handle */
	g = vmbus_gpadl_find(srv, m->gpadl);
	if (!g || g->state != VMBUS_GPADL_ASSEMBLING)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_GPADL,
				     VMBUS_MSG_GPADL_BODY);
	if (carried % 8 || carried / 8 > g->nwords - g->filled) {
		relid = g->chan->relid;
		vmbus_gpadl_free(srv, g);
		vmbus_gpadl_created(srv, relid, m->gpadl,
				    VMBUS_STATUS_UNSUCCESSFUL);
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_GPADL_RANGE,
				     VMBUS_MSG_GPADL_BODY);
	}
	memcpy(&g->words[g->filled], m->pfn, carried);
	g->filled += carried / 8;
	if (g->filled == g->nwords)
		return vmbus_gpadl_complete(srv, g, VMBUS_MSG_GPADL_BODY);
	return 0;
}

int vmbus_gpadl_handle_teardown(struct vmbus_server *srv, const void *buf)
{
	const struct vmbus_msg_gpadl_teardown *m = buf;
	struct vmbus_gpadl *g;

	g = vmbus_gpadl_find(srv, m->gpadl);
	if (!g || g->chan->relid != m->child_relid)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_GPADL,
				     VMBUS_MSG_GPADL_TEARDOWN);
	if (g->state != VMBUS_GPADL_READY)
		return vmbus_srv_bad(srv, VMBUS_SERVER_E_STATE,
				     VMBUS_MSG_GPADL_TEARDOWN);
	/* in use: GPADL_TORNDOWN when the last user lets go */
	if (g->users) {
		g->state = VMBUS_GPADL_TEARDOWN;
		return 0;
	}
	vmbus_gpadl_torndown(srv, g);
	return 0;
}

int vmbus_server_gpadl_get(struct vmbus_server_channel *ch, u32 handle,
			   struct vmbus_gpadl_ref *ref)
{
	struct vmbus_gpadl *g;

	if (ch->state != VMBUS_CHAN_OPEN)
		return -ENOTCONN;
	g = vmbus_gpadl_find(ch->srv, handle);
	if (!g || g->chan != ch || g->state != VMBUS_GPADL_READY)
		return -ENOENT;
	g->users++;
	ref->handle = handle;
	ref->rangecount = g->rangecount;
	ref->nwords = g->nwords;
	ref->words = g->words;
	ref->npages = g->npages;
	return 0;
}

void vmbus_server_gpadl_put(struct vmbus_server_channel *ch, u32 handle)
{
	struct vmbus_gpadl *g = vmbus_gpadl_find(ch->srv, handle);

	if (g && g->chan == ch && g->users)
		vmbus_gpadl_unuse(g);
}
