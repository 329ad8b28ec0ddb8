// SPDX-License-Identifier: GPL-2.0
/*
 * Invariants of the VMBus server's state (vmbus/server_int.h), checked by
 * the unit tests and the fuzzer after every step: channel and GPADL
 * states agree with each other and with the connection, the counters
 * match the lists, no limit is exceeded.
 */
#include <string.h>

#include "../../vmbus/server_int.h"

/* Fail with the line of the first broken invariant. */
#define VMBUS_CHECK(cond)				\
	do {						\
		if (!(cond))				\
			return -__LINE__;		\
	} while (0)

int vmbus_server_check(const struct vmbus_server *srv)
{
	const struct vmbus_server_channel *ch;
	const struct vmbus_gpadl *g, *h;
	u64 monitors[ARRAY_SIZE(srv->monitor_map)] = {};
	u32 relid, n = 0, words = 0;
	const struct vmbus_qmsg *q;

	for (relid = 1; relid <= srv->cfg.max_channels; relid++) {
		ch = srv->chans[relid];
		if (!ch)
			continue;
		VMBUS_CHECK(ch->relid == relid && ch->srv == srv);
		VMBUS_CHECK(ch->state <= VMBUS_CHAN_REVOKED);
		VMBUS_CHECK((ch->state == VMBUS_CHAN_OPEN) == !!ch->ring);
		if (ch->ring) {
			VMBUS_CHECK(ch->ring->chan == ch && ch->ring->users);
			VMBUS_CHECK(ch->ring->state != VMBUS_GPADL_ASSEMBLING);
		}
		if (srv->state != VMBUS_CONN_CONNECTED)
			VMBUS_CHECK(ch->state == VMBUS_CHAN_IDLE);
		if (!srv->offers_sent)
			VMBUS_CHECK(ch->state == VMBUS_CHAN_IDLE);
		if (ch->monitor_id != VMBUS_MONITOR_ID_NONE) {
			VMBUS_CHECK(ch->monitor_id <= VMBUS_MAX_MONITOR_ID);
			VMBUS_CHECK(!(monitors[ch->monitor_id / 64] &
				      (1ULL << (ch->monitor_id % 64))));
			monitors[ch->monitor_id / 64] |=
				1ULL << (ch->monitor_id % 64);
		}
	}
	VMBUS_CHECK(!memcmp(monitors, srv->monitor_map, sizeof(monitors)));
	VMBUS_CHECK((srv->state == VMBUS_CONN_CONNECTED) == !!srv->conn.version);

	for (g = srv->gpadls; g; g = g->next) {
		n++;
		words += g->nwords;
		VMBUS_CHECK(g->chan && srv->chans[g->chan->relid] == g->chan);
		VMBUS_CHECK(g->chan->state != VMBUS_CHAN_IDLE);
		VMBUS_CHECK(g->nwords && g->filled <= g->nwords);
		VMBUS_CHECK(g->nwords <= VMBUS_GPADL_MAX_PAGES + 1);
		if (g->state == VMBUS_GPADL_ASSEMBLING)
			VMBUS_CHECK(g->filled < g->nwords && !g->users);
		else
			VMBUS_CHECK(g->filled == g->nwords && g->npages);
		if (g->state == VMBUS_GPADL_TEARDOWN)
			VMBUS_CHECK(g->users);
		for (h = g->next; h; h = h->next)
			VMBUS_CHECK(h->handle != g->handle);
	}
	VMBUS_CHECK(n == srv->ngpadls && n <= srv->cfg.max_gpadls);
	VMBUS_CHECK(words == srv->gpadl_words);
	VMBUS_CHECK(words <= srv->cfg.max_gpadl_words);

	n = 0;
	for (q = srv->q_head; q; q = q->next) {
		n++;
		VMBUS_CHECK(q->size >= sizeof(struct vmbus_msg_hdr));
		VMBUS_CHECK(!q->next == (q == srv->q_tail));
	}
	VMBUS_CHECK(n == srv->nqueued && n <= srv->cfg.max_queued);
	VMBUS_CHECK(!srv->q_head == !srv->q_tail);
	return 0;
}
