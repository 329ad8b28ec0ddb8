// SPDX-License-Identifier: GPL-2.0
/*
 * The VMBus server end to end (uapi/linux/vid_vmbus.h): a C guest runs a
 * VMBus client (lib_vmbus_guest.h: the protocol as Linux's hv_vmbus
 * speaks it, with its own ring code) against the partition's server,
 * the kernel's echo VSP (vmbus/vsp_echo.h) and userspace channels whose
 * rings the test serves with the root's ring code (vmbus/ring.c built
 * as userspace C).
 *
 * Guest side: version negotiation for every version from WIN7 to 5.3;
 * offers with their GUIDs, relids and connection ids, offers and
 * rescinds while connected; multi-message GPADLs, open, echo of packets
 * of many sizes both ways (ECHO, SOURCE with back-pressure, SINK, STATS),
 * close, teardown, unload and reconnect; a userspace channel (OPEN and
 * CLOSE events, the mmapped rings, signals both ways, SIGBUS after
 * close). The guest is hostile too: GPADLs outside RAM, short, long,
 * unknown and out-of-order messages (counted, ignored, the server still
 * answers), corrupted ring indices on one channel while another keeps
 * working, opens racing with the VMM closing the channel fd, unload in
 * the middle of traffic. Every errno of every VMBus ioctl:
 * vid_vmbus_ioctl_test.c.
 *
 * The counters of VID_PARTITION_VMBUS_INFO are checked against what the
 * guest counted itself (messages it posted, messages it took out of its
 * SINT 2 slot) at points where nothing is in flight.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/vid_vmbus.h>

#include "lib_cguest.h"
#include "lib_vmbus_guest.h"
#include "vmbus_test_util.h"
#include "../vmbus/ring.h"

/* GUEST_SYNC tags. */
enum {
	SYNC_INIT = 1,
	SYNC_CONNECTED,
	SYNC_OPEN,
	SYNC_STEP,
	SYNC_CLOSED,
	SYNC_UNLOADED,
	SYNC_BAD,
	SYNC_GPADL,
	SYNC_RACE,
};

/* ----- guest side ----- */

static uint8_t txbuf[VID_ECHO_MAX_SIZE + 64];
static uint8_t rxbuf[VID_ECHO_MAX_SIZE + 64];

static void guest_start(void)
{
	GUEST_SYNC(SYNC_INIT, vmg_init());
}

/* Connect with the newest version the server takes, ask for offers. */
static uint32_t guest_connect(void)
{
	uint32_t v = vmg_connect(0);

	GUEST_ASSERT_NE(v, 0);
	vmg_request_offers();
	return v;
}

static struct vmg_channel *guest_chan(const uint8_t *type, unsigned int n)
{
	struct vmg_channel *ch = vmg_find_channel(type, n);

	GUEST_ASSERT(ch);
	return ch;
}

/* One ECHO of @size data bytes: the completion carries them back. */
static void echo_once(struct vmg_channel *ch, uint32_t size, uint64_t id)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_ECHO, .size = size };
	struct vmg_pkt pkt;
	uint32_t i;

	for (i = 0; i < size; i++)
		txbuf[i] = id * 7 + i;
	GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND,
				      VMG_PKT_F_COMPLETION, id, &h, sizeof(h),
				      txbuf, size), 0);
	GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt), 0);
	GUEST_ASSERT_EQ(pkt.type, VMG_PKT_COMP);
	GUEST_ASSERT_EQ(pkt.trans_id, id);
	GUEST_ASSERT_EQ(pkt.len, (sizeof(h) + size + 7) & ~7U);
	GUEST_ASSERT(!memcmp(rxbuf, &h, sizeof(h)));
	GUEST_ASSERT(!memcmp(rxbuf + sizeof(h), txbuf, size));
}

/* SOURCE: @count packets of @size bytes, then SOURCE_DONE. */
static void source(struct vmg_channel *ch, uint32_t size, uint32_t count)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_SOURCE, .size = size,
				  .count = count };
	const struct vid_echo_hdr *r = (const void *)rxbuf;
	struct vmg_pkt pkt;
	uint32_t i, k;

	GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND, 0, 1, &h,
				      sizeof(h), NULL, 0), 0);
	for (i = 0; i < count; i++) {
		GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt),
				0);
		GUEST_ASSERT_EQ(pkt.type, VMG_PKT_DATA_INBAND);
		GUEST_ASSERT_EQ(pkt.trans_id, i);
		GUEST_ASSERT_EQ(pkt.len, (size + 7) & ~7U);
		GUEST_ASSERT_EQ(r->cmd, VID_ECHO_CMD_SOURCE);
		GUEST_ASSERT_EQ(r->seq, i);
		GUEST_ASSERT_EQ(r->size, size);
		for (k = sizeof(h); k < size; k++)
			GUEST_ASSERT_EQ(rxbuf[k], (uint8_t)(i + k));
	}
	GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt), 0);
	GUEST_ASSERT_EQ(r->cmd, VID_ECHO_CMD_SOURCE_DONE);
	GUEST_ASSERT_EQ(r->seq, count);
}

static void echo_stats(struct vmg_channel *ch, struct vid_echo_stats *st)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_STATS };
	struct vmg_pkt pkt;

	GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND,
				      VMG_PKT_F_COMPLETION, 0x57a7, &h,
				      sizeof(h), NULL, 0), 0);
	GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt), 0);
	GUEST_ASSERT_EQ(pkt.type, VMG_PKT_COMP);
	GUEST_ASSERT_EQ(pkt.trans_id, 0x57a7);
	GUEST_ASSERT(pkt.len >= sizeof(*st));
	memcpy(st, rxbuf, sizeof(*st));
}

static void sink(struct vmg_channel *ch, uint32_t size)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_SINK, .size = size };

	GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND, 0, 2, &h,
				      sizeof(h), txbuf, size), 0);
}

/* Open, one echo, close and tear down. */
static void echo_session(struct vmg_channel *ch, uint32_t pages)
{
	GUEST_ASSERT_EQ(vmg_open(ch, pages, pages), 0);
	/*
	 * The root's reader may still be draining after the open (its ring
	 * masked): a packet written then is read unsignalled. Waiting until
	 * it rests makes the echo's packet one that must signal.
	 */
	while (VMG_READ(ch->out.hdr->interrupt_mask))
		__asm__ volatile("pause" ::: "memory");
	echo_once(ch, 100, 1);
	vmg_close_teardown(ch);
}

/* Negotiation: the newest version the server allows, one echo. */
static void guest_versions(unsigned int vp)
{
	struct vmg_channel *ch;
	uint32_t v, n;

	guest_start();
	v = vmg_connect(0);
	n = vmg_request_offers();
	ch = vmg_find_channel(echo_class, 0);
	GUEST_SYNC(SYNC_CONNECTED, v, n, ch ? ch->relid : 0);
	GUEST_ASSERT(ch);
	echo_session(ch, 4);
	GUEST_SYNC(SYNC_STEP, ch->signals);
	vmg_unload();
	GUEST_SYNC(SYNC_UNLOADED, vmg.tx, vmg.rx);
}

/* Offers: what the host offered; one more and a rescind while connected. */
static void guest_offers(unsigned int vp)
{
	struct vmg_channel *ch;
	struct vmg_msg m;

	guest_start();
	guest_connect();
	GUEST_SYNC(SYNC_CONNECTED, vmg.offers, vmg.unexpected);
	/* the host offers another channel while we are connected */
	vmg_wait_for(VMG_MSG_OFFERCHANNEL, ~0U, &m);
	GUEST_SYNC(SYNC_STEP, vmg.offers);
	/* and rescinds it: we give its relid back */
	vmg_wait_for(VMG_MSG_RESCIND_CHANNELOFFER, ~0U, &m);
	ch = vmg_channel_by_relid(((const uint32_t *)m.data)[2]);
	GUEST_ASSERT(ch && ch->rescinded);
	GUEST_SYNC(SYNC_STEP, ch->relid);
	vmg_release(ch);
	/* released: the next message is answered after the release */
	echo_session(guest_chan(echo_class, 0), 4);
	GUEST_SYNC(SYNC_STEP, vmg.unexpected);
}

/* Echo traffic of many sizes both ways, then close and unload. */
static const uint32_t echo_sizes[] = {
	0, 1, 7, 8, 9, 100, 1000, 4080, 4096, 10000, 16384, 65536, 120000,
};

/* vmg.halt_poll for guest_echo, set by the host before it runs */
static uint32_t echo_halt_poll;

static void guest_echo(unsigned int vp)
{
	struct vid_echo_stats stats;
	struct vmg_channel *ch;
	unsigned int i;
	uint32_t st;

	guest_start();
	vmg.halt_poll = echo_halt_poll;
	guest_connect();
	ch = guest_chan(echo_class, 0);
	GUEST_SYNC(SYNC_CONNECTED, ch->relid, vmg.tx, vmg.rx);
	/* 128 pages: a GPADL_HEADER and four GPADL_BODY messages */
	st = vmg_open(ch, 64, 64);
	GUEST_SYNC(SYNC_OPEN, st, ch->gpadl);
	GUEST_SYNC(SYNC_STEP, vmg.tx, vmg.rx);
	for (i = 0; i < ARRAY_SIZE(echo_sizes); i++)
		echo_once(ch, echo_sizes[i], 100 + i);
	source(ch, sizeof(struct vid_echo_hdr), 1);
	source(ch, 64, 200);
	source(ch, 4096, 40);
	/* more than the ring holds: the VSP waits for us to drain */
	source(ch, 65536, 12);
	source(ch, VID_ECHO_MAX_SIZE - 8192, 3);
	echo_stats(ch, &stats);
	GUEST_ASSERT_EQ(stats.bad, 0);
	for (i = 0; i < 10; i++)
		sink(ch, 100);
	echo_stats(ch, &stats);
	GUEST_ASSERT_EQ(stats.packets, 10);
	/* payload bytes as the ring carries them: padded to 8 */
	GUEST_ASSERT_EQ(stats.bytes, 10 * 120);
	GUEST_ASSERT_EQ(stats.bad, 0);
	/* too short for the header, an unknown command: counted as bad */
	GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND, 0, 3, txbuf, 8,
				      NULL, 0), 0);
	txbuf[0] = 99;
	GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND, 0, 4, txbuf,
				      16, NULL, 0), 0);
	echo_stats(ch, &stats);
	GUEST_ASSERT_EQ(stats.bad, 2);
	GUEST_ASSERT_EQ(stats.packets, 0);
	GUEST_SYNC(SYNC_STEP, ch->signals, vmg.tx, vmg.rx);
	vmg_close(ch);
	GUEST_SYNC(SYNC_CLOSED);
	vmg_gpadl_teardown(ch->relid, ch->gpadl);
	ch->gpadl = 0;
	GUEST_SYNC(SYNC_STEP, vmg.tx, vmg.rx);
	vmg_unload();
	GUEST_SYNC(SYNC_UNLOADED, vmg.tx, vmg.rx, vmg.unexpected);
}

/* A userspace channel: the test's host side is the VSP. */
static void guest_user(unsigned int vp)
{
	struct vmg_channel *ch;
	struct vmg_pkt pkt;
	struct vmg_msg m;
	unsigned int i;

	guest_start();
	guest_connect();
	ch = guest_chan(user_class, 0);
	for (i = 0; i < 100; i++)
		txbuf[i] = 0xa0 + i;
	GUEST_ASSERT_EQ(vmg_open(ch, 4, 4), 0);
	GUEST_SYNC(SYNC_OPEN, 0, ch->gpadl);
	GUEST_ASSERT_EQ(vmg_send(ch, VMG_PKT_DATA_INBAND, 0, 77, txbuf, 100,
				 NULL, 0), 0);
	/* the ring was empty: one signal */
	GUEST_SYNC(SYNC_STEP, ch->signals, ch->signal_fail);
	GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt), 0);
	GUEST_ASSERT_EQ(pkt.type, VMG_PKT_DATA_INBAND);
	GUEST_ASSERT_EQ(pkt.trans_id, 88);
	GUEST_ASSERT_EQ(pkt.len, 200);
	for (i = 0; i < 200; i++)
		GUEST_ASSERT_EQ(rxbuf[i], (uint8_t)(3 * i));
	/* three more the host wrote with one signal */
	for (i = 0; i < 3; i++) {
		GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt),
				0);
		GUEST_ASSERT_EQ(pkt.trans_id, 89 + i);
	}
	GUEST_ASSERT(vmg_in_empty(ch));
	GUEST_SYNC(SYNC_STEP, ch->signals);
	vmg_close_teardown(ch);
	GUEST_SYNC(SYNC_CLOSED);
	/* open again; the VMM rescinds it under us */
	GUEST_ASSERT_EQ(vmg_open(ch, 4, 4), 0);
	GUEST_SYNC(SYNC_OPEN, 0, ch->gpadl);
	vmg_wait_for(VMG_MSG_RESCIND_CHANNELOFFER, ch->relid, &m);
	GUEST_ASSERT(ch->rescinded);
	vmg_close_teardown(ch);
	vmg_release(ch);
	GUEST_SYNC(SYNC_STEP, vmg.unexpected);
}

/*
 * More messages than the server's queue holds, without waiting: the
 * ones it cannot take are refused with INSUFFICIENT_BUFFERS and counted
 * as bad like the ones it took, and it answers the next good one.
 */
#define FLOOD_N		300

static void guest_flood(unsigned int vp)
{
	uint32_t w[2] = { 99, 0 };
	uint64_t ok = 0, full = 0, other = 0, st;
	unsigned int i;

	guest_start();
	guest_connect();
	for (i = 0; i < FLOOD_N; i++) {
		st = vmg_post_once(vmg.msg_conn_id, 1, w, sizeof(w));
		if (st == VMG_HV_STATUS_SUCCESS)
			ok++;
		else if (st == VMG_HV_STATUS_INSUFFICIENT_BUFFERS)
			full++;
		else
			other++;
	}
	echo_session(guest_chan(echo_class, 0), 4);
	GUEST_SYNC(SYNC_BAD, ok, full, other);
	GUEST_SYNC(SYNC_STEP, vmg.tx, vmg.rx, vmg.post_retries);
	GUEST_ASSERT_EQ(vmg.unexpected, 0);
}

/* Hostile messages; the server ignores them and still answers. */
#define N_BAD_EARLY	9

static void guest_bad_messages(unsigned int vp)
{
	uint8_t buf[256] = { 0 };
	uint32_t *w = (uint32_t *)buf;
	uint64_t st;

	guest_start();
	/* before INITIATE_CONTACT */
	w[0] = VMG_MSG_REQUESTOFFERS;
	GUEST_ASSERT_EQ(vmg_post_conn(1, 1, buf, 8), 0);
	GUEST_ASSERT_NE(vmg_connect(0), 0);
	/* shorter than a header */
	GUEST_ASSERT_EQ(vmg_post(buf, 4), 0);
	/* REQUESTOFFERS with 8 bytes too many */
	GUEST_ASSERT_EQ(vmg_post(buf, 16), 0);
	/* an unknown type, type 0, a type only the root sends */
	w[0] = 99;
	GUEST_ASSERT_EQ(vmg_post(buf, 8), 0);
	w[0] = 0;
	GUEST_ASSERT_EQ(vmg_post(buf, 8), 0);
	w[0] = VMG_MSG_OFFERCHANNEL;
	GUEST_ASSERT_EQ(vmg_post(buf, 196), 0);
	/* a channel and a GPADL that do not exist */
	w[0] = VMG_MSG_OPENCHANNEL;
	w[2] = 100;
	GUEST_ASSERT_EQ(vmg_post(buf, 148), 0);
	w[0] = VMG_MSG_CLOSECHANNEL;
	GUEST_ASSERT_EQ(vmg_post(buf, 12), 0);
	w[0] = VMG_MSG_GPADL_BODY;
	w[3] = 0x1234;
	GUEST_ASSERT_EQ(vmg_post(buf, 24), 0);
	/* larger than a SynIC message: the hypercall refuses it */
	st = vmg_post(buf, 241);
	/* a good one after all that: answered */
	GUEST_SYNC(SYNC_BAD, st, vmg_request_offers());
	/* REQUESTOFFERS twice is out of order */
	w[0] = VMG_MSG_REQUESTOFFERS;
	GUEST_ASSERT_EQ(vmg_post(buf, 8), 0);
	echo_session(guest_chan(echo_class, 0), 4);
	GUEST_SYNC(SYNC_BAD, vmg.unexpected);
}

/* GPADLs the server must refuse: GPADL_CREATED with a non-zero status. */
static void guest_bad_gpadls(unsigned int vp)
{
	uint64_t *pfns = (uint64_t *)VMG_TEST_GPA;
	struct vmg_channel *ch;
	uint32_t s[6], i, h;

	guest_start();
	guest_connect();
	ch = guest_chan(echo_class, 0);
	for (i = 0; i < 64; i++)
		pfns[i] = VMG_POOL_GPA / PAGE + i;
	/* one frame beyond the 64 MiB of RAM */
	pfns[0] = 0x100000;
	s[0] = vmg_gpadl_create_pfns(ch->relid, 0x100, pfns, 1, 0, PAGE);
	/* good frames, then a bad one in the third message */
	pfns[0] = VMG_POOL_GPA / PAGE;
	pfns[60] = 1ULL << 40;
	s[1] = vmg_gpadl_create_pfns(ch->relid, 0x101, pfns, 64, 0,
				     64 * PAGE);
	pfns[60] = VMG_POOL_GPA / PAGE + 60;
	/* an offset beyond the first page; more frames than bytes */
	s[2] = vmg_gpadl_create_pfns(ch->relid, 0x102, pfns, 2, PAGE, PAGE);
	s[3] = vmg_gpadl_create_pfns(ch->relid, 0x103, pfns, 3, 0, PAGE);
	/* a GPADL for a channel that does not exist */
	s[4] = vmg_gpadl_create_pfns(77, 0x104, pfns, 1, 0, PAGE);
	/* and a good one, then its handle again */
	s[5] = vmg_gpadl_create_pfns(ch->relid, 0x105, pfns, 64, 0,
				     64 * PAGE);
	GUEST_SYNC(SYNC_GPADL, s[0], s[1]);
	GUEST_SYNC(SYNC_GPADL, s[2], s[3]);
	GUEST_SYNC(SYNC_GPADL, s[4], s[5],
		   vmg_gpadl_create_pfns(ch->relid, 0x105, pfns, 1, 0, PAGE));
	/* open with a GPADL that is not a ring, or not there */
	ch->gpadl = 0x105;
	ch->ring_gpa = (uint64_t)vmg_alloc_pages(64);
	ch->ring_pages = 64;
	s[0] = vmg_open(ch, 64, 0);
	ch->gpadl = 0x999;
	s[1] = vmg_open(ch, 32, 32);
	ch->gpadl = 0;
	vmg_gpadl_teardown(ch->relid, 0x105);
	/* everything still works */
	h = ch->relid;
	echo_session(vmg_channel_by_relid(h), 8);
	GUEST_SYNC(SYNC_GPADL, s[0], s[1], vmg.unexpected);
}

/*
 * Corrupted ring indices. Channels: echo A, echo B, user U. A's guest
 * -> root ring gets a write index beyond its end, B's root -> guest
 * ring a read index that is not 8-aligned, U's a write index likewise.
 * A kernel channel whose ring the guest broke is rescinded (the guest
 * loses that device alone): the guest gives it back as Linux does. The
 * others keep working; a fresh offer works.
 */
static void guest_give_back(struct vmg_channel *ch)
{
	struct vmg_msg m;

	if (!ch->rescinded)
		vmg_wait_for(VMG_MSG_RESCIND_CHANNELOFFER, ch->relid, &m);
	vmg_close_teardown(ch);
	vmg_release(ch);
}

static void guest_corrupt(unsigned int vp)
{
	struct vmg_channel *a, *b, *u, *c;
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_SOURCE, .size = 4096,
				  .count = 10 };
	struct vmg_msg m;

	guest_start();
	guest_connect();
	a = guest_chan(echo_class, 0);
	b = guest_chan(echo_class, 1);
	u = guest_chan(user_class, 0);
	GUEST_ASSERT_EQ(vmg_open(a, 4, 4), 0);
	GUEST_ASSERT_EQ(vmg_open(b, 4, 4), 0);
	GUEST_ASSERT_EQ(vmg_open(u, 4, 4), 0);
	echo_once(a, 10, 1);
	echo_once(b, 10, 2);
	GUEST_SYNC(SYNC_OPEN, a->relid, b->relid, u->relid);

	a->out.hdr->write_index = a->out.size + 8;
	vmg_signal(a);
	echo_once(b, 1000, 3);
	guest_give_back(a);
	echo_once(b, 1000, 4);
	GUEST_SYNC(SYNC_STEP, 1);

	u->out.hdr->write_index = 12;
	vmg_signal(u);
	echo_once(b, 1000, 5);
	GUEST_SYNC(SYNC_STEP, 2);

	/*
	 * B's reader index: the VSP finds it when its ring is full (the
	 * root reads the guest's index again only then)
	 */
	GUEST_ASSERT_EQ(vmg_send(b, VMG_PKT_DATA_INBAND, 0, 6, &h, sizeof(h),
				 NULL, 0), 0);
	b->in.hdr->read_index = 4;
	vmg_signal(b);
	guest_give_back(b);
	GUEST_SYNC(SYNC_STEP, 3);

	/* the VMM offers a fresh device: it works */
	vmg_wait_for(VMG_MSG_OFFERCHANNEL, ~0U, &m);
	c = guest_chan(echo_class, 0);
	echo_session(c, 4);
	GUEST_SYNC(SYNC_STEP, c->relid, vmg.unexpected);
}

/*
 * Opens against rescinds: the host closes the channel fd at some point
 * while the guest opens, echoes and closes in a loop. Each round ends
 * with the guest's release of the relid; the next round's channel is
 * offered while the guest is connected.
 */
static uint32_t race_rounds;

/* An echo that may meet a rescind; false when it did. */
static bool echo_try(struct vmg_channel *ch, uint64_t id)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_ECHO, .size = 8 };
	struct vmg_pkt pkt;
	int ret;

	ret = vmg_send_wait(ch, VMG_PKT_DATA_INBAND, VMG_PKT_F_COMPLETION, id,
			    &h, sizeof(h), txbuf, 8);
	if (!ret)
		ret = vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt);
	if (ret) {
		GUEST_ASSERT(ch->rescinded || ch->rescind_seen);
		return false;
	}
	GUEST_ASSERT_EQ(pkt.type, VMG_PKT_COMP);
	GUEST_ASSERT_EQ(pkt.trans_id, id);
	return true;
}

static void guest_race(unsigned int vp)
{
	uint32_t round, ok, failed, gone, relid;
	struct vmg_channel *ch;
	struct vmg_msg m;

	guest_start();
	guest_connect();
	for (round = 0; round < race_rounds; round++) {
		if (round)
			vmg_wait_for(VMG_MSG_OFFERCHANNEL, ~0U, &m);
		ch = guest_chan(echo_class, 0);
		relid = ch->relid;
		GUEST_SYNC(SYNC_STEP, round, relid);
		ok = 0;
		failed = 0;
		gone = 0;
		while (!ch->rescinded && !ch->rescind_seen) {
			switch (vmg_open(ch, 4, 4)) {
			case 0:
				ok++;
				echo_try(ch, ok);
				/*
				 * As Linux: the ring pages are reused only
				 * after GPADL_TORNDOWN, which the root sends
				 * once it let go of the ring.
				 */
				vmg_close_teardown(ch);
				break;
			case VMG_OPEN_RESCINDED:
				gone++;
				break;
			default:
				failed++;
				break;
			}
		}
		/* what Linux does with a rescinded channel */
		if (!ch->rescinded)
			vmg_wait_for(VMG_MSG_RESCIND_CHANNELOFFER, relid, &m);
		if (ch->open)
			vmg_close(ch);
		if (ch->gpadl)
			vmg_gpadl_teardown(relid, ch->gpadl);
		ch->gpadl = 0;
		vmg_release(ch);
		GUEST_SYNC(SYNC_RACE, ok, failed, gone);
	}
}

/* UNLOAD while the echo VSP still has a SOURCE to send. */
static void guest_unload(unsigned int vp)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_SOURCE, .size = 4096,
				  .count = 1000 };
	struct vmg_channel *ch;
	struct vmg_pkt pkt;
	unsigned int i;

	guest_start();
	guest_connect();
	ch = guest_chan(echo_class, 0);
	GUEST_ASSERT_EQ(vmg_open(ch, 8, 8), 0);
	GUEST_ASSERT_EQ(vmg_send(ch, VMG_PKT_DATA_INBAND, 0, 1, &h, sizeof(h),
				 NULL, 0), 0);
	for (i = 0; i < 3; i++)
		GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt),
				0);
	/* and a flood of packets it has not read yet */
	h.cmd = VID_ECHO_CMD_SINK;
	while (!vmg_send(ch, VMG_PKT_DATA_INBAND, 0, 2, &h, sizeof(h), txbuf,
			 1000))
		;
	GUEST_SYNC(SYNC_STEP, ch->relid);
	vmg_unload();
	GUEST_SYNC(SYNC_UNLOADED);
	/* a new connection: the same channel again, fresh rings */
	guest_connect();
	ch = guest_chan(echo_class, 0);
	echo_session(ch, 4);
	GUEST_SYNC(SYNC_STEP, ch->relid, vmg.unexpected);
}

/* ----- host side ----- */

/* Guest tests: a fixture only for the harness's timeouts. */
FIXTURE(vmbus) {
	int unused;
};

FIXTURE_SETUP(vmbus)
{
}

FIXTURE_TEARDOWN(vmbus)
{
}

/*
 * VID_VMBUS_ONLY=<part of a test name>: run only the guest tests whose
 * name has it (to repeat one while chasing a rare failure).
 */
static bool vmbus_test_selected(const char *name)
{
	const char *only = getenv("VID_VMBUS_ONLY");

	return !only || strstr(name, only);
}

static bool have_vmbus(void)
{
	int fd = vid_open();
	long v = fd >= 0 ? vid_check_cap(fd, VID_CAP_VMBUS) : 0;

	if (fd >= 0)
		close(fd);
	return v > 0;
}

#define SKIP_WITHOUT_VMBUS() do {					\
	if (!have_vmbus())						\
		SKIP(return, "no VMBus server (VID_CAP_VMBUS)");	\
	if (!vmbus_test_selected(_metadata->name))			\
		SKIP(return, "not selected (VID_VMBUS_ONLY)");		\
} while (0)

/*
 * The guest's VMBus client as the host sees it: for a test whose guest
 * waits for good, what it waits for.
 */
static void dump_vmg(struct __test_metadata *_metadata, struct vid_guest *g)
{
	const struct vmg *v = &VID_GUEST_GLOBAL(g, vmg);
	const struct vid_message *slot = vid_guest_gpa(g, VMG_SIMP_GPA + 512);
	const uint8_t *flags = vid_guest_gpa(g, VMG_SIEF_GPA + 512);
	const struct vmg_ring_hdr *o, *i;
	const struct vmg_channel *c;
	struct vid_vmbus_info info = vmbus_info(g->part_fd);
	uint64_t rip = 0, rflags = 0, act = 0;
	unsigned int n;
	int r;

	TH_LOG("guest: version %#x tx %llu rx %llu backlog %u unexpected %llu (last %u) irqs %llu retries %llu; slot type %#x flags %#x",
	       v->version, (unsigned long long)v->tx,
	       (unsigned long long)v->rx, v->nbacklog,
	       (unsigned long long)v->unexpected, v->last_unexpected,
	       (unsigned long long)v->irqs,
	       (unsigned long long)v->post_retries, slot->message_type,
	       slot->message_flags);
	TH_LOG("server: version %#x channels %u open %u messages %llu posted %llu dropped %llu bad %llu broken %llu",
	       info.version, info.channels, info.open_channels,
	       (unsigned long long)info.messages,
	       (unsigned long long)info.posted,
	       (unsigned long long)info.dropped,
	       (unsigned long long)info.bad_messages,
	       (unsigned long long)info.broken_rings);
	/* the VP, if its registers can be read while it runs */
	r = vid_vp_get_reg64(g->vp_fd[0], VID_REG_RIP, &rip);
	if (!r)
		r = vid_vp_get_reg64(g->vp_fd[0], VID_REG_RFLAGS, &rflags);
	if (!r)
		r = vid_vp_get_reg64(g->vp_fd[0],
				     VID_REG_INTERNAL_ACTIVITY_STATE, &act);
	TH_LOG("VP 0: %s: RIP %#llx RFLAGS %#llx activity %#llx",
	       r ? strerror(-r) : "read", (unsigned long long)rip,
	       (unsigned long long)rflags, (unsigned long long)act);
	vid_dump_vps();
	for (n = 0; n < VMG_MAX_CHANNELS; n++) {
		c = &v->chans[n];
		if (!c->relid)
			continue;
		o = c->open ? vid_guest_gpa(g, (uint64_t)c->out.hdr) : NULL;
		i = c->open ? vid_guest_gpa(g, (uint64_t)c->in.hdr) : NULL;
		TH_LOG("relid %u open %d rescinded %d/%d signals %llu flag %d; out w %u r %u mask %u pending %u; in w %u r %u mask %u pending %u",
		       c->relid, c->open, c->rescinded, c->rescind_seen,
		       (unsigned long long)c->signals,
		       !!(flags[c->relid / 8] & (1U << (c->relid % 8))),
		       o ? o->write_index : 0, o ? o->read_index : 0,
		       o ? o->interrupt_mask : 0, o ? o->pending_send_sz : 0,
		       i ? i->write_index : 0, i ? i->read_index : 0,
		       i ? i->interrupt_mask : 0, i ? i->pending_send_sz : 0);
	}
}

struct vp_run {
	struct vid_guest *g;
	struct vid_ucall *uc;
	int r;
};

static void *vp_run_fn(void *arg)
{
	struct vp_run *r = arg;

	r->r = vid_guest_run_vp(r->g, 0, r->uc);
	return NULL;
}

/* Watch the guest's progress: this long without a ucall is a hang. */
#define RUN_WATCH_S	200

/*
 * Run VP 0 to its next stop, at most RUN_WATCH_S seconds; then say what
 * the guest and the server are at (the VP thread is left to the test's
 * exit).
 */
static int run_watched(struct __test_metadata *_metadata,
		       struct vid_guest *g, struct vid_ucall *uc)
{
	static struct vp_run r;
	struct timespec ts;
	pthread_t t;
	int err;

	r.g = g;
	r.uc = uc;
	if (pthread_create(&t, NULL, vp_run_fn, &r))
		return -EAGAIN;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += RUN_WATCH_S;
	err = pthread_timedjoin_np(t, NULL, &ts);
	if (err) {
		TH_LOG("no ucall for %d s", RUN_WATCH_S);
		dump_vmg(_metadata, g);
		return -ETIMEDOUT;
	}
	return r.r;
}

/* Run VP 0 to its next GUEST_SYNC(@tag, ...). */
#define RUN_SYNC(g, uc, tag) do {					\
	ASSERT_EQ(0, run_watched(_metadata, g, uc));			\
	ASSERT_UCALL(uc, UCALL_SYNC);					\
	ASSERT_EQ((uint64_t)(tag), (uc)->args[0])			\
		TH_LOG("guest sync %llu, expected %llu",		\
		       (unsigned long long)(uc)->args[0],		\
		       (unsigned long long)(tag));			\
} while (0)

/* The guest's vmg_init(): hypercalls work (probe: no such connection). */
#define RUN_INIT(g, uc) do {						\
	RUN_SYNC(g, uc, SYNC_INIT);					\
	ASSERT_EQ(0x12, (uc)->args[1])					\
		TH_LOG("hypercall probe: %#llx",			\
		       (unsigned long long)(uc)->args[1]);		\
} while (0)

/* The message counters match what the guest counted. */
#define EXPECT_MSG_COUNTS(part_fd, tx, rx) do {				\
	struct vid_vmbus_info __i = vmbus_info(part_fd);		\
									\
	EXPECT_EQ((uint64_t)(tx), __i.messages);			\
	EXPECT_EQ((uint64_t)(rx), __i.posted);				\
	EXPECT_EQ(0, __i.dropped);					\
} while (0)

static int read_event(int fd, struct vid_vmbus_event *ev)
{
	ssize_t n = read(fd, ev, sizeof(*ev));

	return n == sizeof(*ev) ? 0 : n < 0 ? -errno : -EIO;
}

/* Wait (at most ~30 s, polling) until the INFO field at @off is @want. */
static bool wait_info(int part_fd, size_t off, uint64_t want)
{
	struct vid_vmbus_info i;
	unsigned int n;
	uint64_t v;

	for (n = 0; n < 3000; n++) {
		i = vmbus_info(part_fd);
		if (off == offsetof(struct vid_vmbus_info, channels) ||
		    off == offsetof(struct vid_vmbus_info, open_channels))
			v = *(uint32_t *)((uint8_t *)&i + off);
		else
			v = *(uint64_t *)((uint8_t *)&i + off);
		if (v == want)
			return true;
		usleep(10000);
	}
	return false;
}

#define WAIT_INFO(part_fd, field, want)					\
	wait_info(part_fd, offsetof(struct vid_vmbus_info, field), want)

static const uint32_t all_versions[] = {
	VID_VMBUS_VERSION_WIN10_V5_3, VID_VMBUS_VERSION_WIN10_V5_2,
	VID_VMBUS_VERSION_WIN10_V5_1, VID_VMBUS_VERSION_WIN10_V5,
	VID_VMBUS_VERSION_WIN10_RS3, VID_VMBUS_VERSION_WIN10,
	VID_VMBUS_VERSION_WIN8_1, VID_VMBUS_VERSION_WIN8,
	VID_VMBUS_VERSION_WIN7,
};

FIXTURE(version) {
	struct vid_guest g;
};

FIXTURE_VARIANT(version) {
	uint32_t max;
};

FIXTURE_VARIANT_ADD(version, v5_3) { VID_VMBUS_VERSION_WIN10_V5_3 };
FIXTURE_VARIANT_ADD(version, v5_2) { VID_VMBUS_VERSION_WIN10_V5_2 };
FIXTURE_VARIANT_ADD(version, v5_1) { VID_VMBUS_VERSION_WIN10_V5_1 };
FIXTURE_VARIANT_ADD(version, v5_0) { VID_VMBUS_VERSION_WIN10_V5 };
FIXTURE_VARIANT_ADD(version, v4_1) { VID_VMBUS_VERSION_WIN10_RS3 };
FIXTURE_VARIANT_ADD(version, v4_0) { VID_VMBUS_VERSION_WIN10 };
FIXTURE_VARIANT_ADD(version, v3_0) { VID_VMBUS_VERSION_WIN8_1 };
FIXTURE_VARIANT_ADD(version, v2_4) { VID_VMBUS_VERSION_WIN8 };
FIXTURE_VARIANT_ADD(version, v1_1) { VID_VMBUS_VERSION_WIN7 };

FIXTURE_SETUP(version)
{
}

FIXTURE_TEARDOWN(version)
{
}

/*
 * The guest tries 5.3 first and goes down Linux's list; the server
 * refuses every version above its maximum and takes that one. An echo
 * works at every version (channel interrupts through the event flag of
 * the relid from 2.4, through the interrupt page before).
 */
TEST_F_TIMEOUT(version, negotiate_and_echo, 300)
{
	struct vid_guest *g = &self->g;
	struct vid_vmbus_offer o;
	struct vid_vmbus_info info;
	struct vid_ucall uc;
	unsigned int i, nbefore = 0;
	int fd;

	SKIP_WITHOUT_VMBUS();
	VID_GUEST_CREATE_C_OR_SKIP(g, 1, guest_versions);
	ASSERT_EQ(0, vmbus_create(g->part_fd, variant->max, 0));
	fd = vmbus_offer(g->part_fd, echo_class, 1, VID_VMBUS_OFFER_KERNEL,
			 &o);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, vmbus_info(g->part_fd).version);
	RUN_INIT(g, &uc);
	RUN_SYNC(g, &uc, SYNC_CONNECTED);
	EXPECT_EQ(variant->max, uc.args[1]);
	EXPECT_EQ(1, uc.args[2]);
	EXPECT_EQ(o.relid, uc.args[3]);
	for (i = 0; all_versions[i] != variant->max; i++)
		nbefore++;
	EXPECT_EQ(nbefore + 1, VID_GUEST_GLOBAL(g, vmg).ntried);
	for (i = 0; i <= nbefore && i < 16; i++)
		EXPECT_EQ(all_versions[i], VID_GUEST_GLOBAL(g, vmg).tried[i]);
	info = vmbus_info(g->part_fd);
	EXPECT_EQ(variant->max, info.version);
	EXPECT_EQ(0, info.target_vp);
	EXPECT_EQ(1, info.channels);
	EXPECT_EQ(0, info.open_channels);
	/* every refused version is a message answered, none is bad */
	EXPECT_EQ(0, info.bad_messages);
	RUN_SYNC(g, &uc, SYNC_STEP);
	/* its packet went into an empty ring: it signalled */
	EXPECT_LE(1, uc.args[1]);
	RUN_SYNC(g, &uc, SYNC_UNLOADED);
	info = vmbus_info(g->part_fd);
	EXPECT_EQ(0, info.version);
	EXPECT_EQ(1, info.channels);
	EXPECT_EQ(uc.args[1], info.messages);
	EXPECT_EQ(uc.args[2], info.posted);
	EXPECT_EQ(0, info.bad_messages);
	close(fd);
	vid_guest_destroy(g);
}

/* What each offer says, offers and rescinds while connected. */
TEST_F_TIMEOUT(vmbus, offers, 300)
{
	struct vid_vmbus_offer o[4];
	const struct vmg_channel *c;
	struct vid_vmbus_event ev;
	struct vid_vmbus_info info;
	struct vid_guest g;
	struct vid_ucall uc;
	int fd[4], i, j;

	SKIP_WITHOUT_VMBUS();
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_offers);
	ASSERT_EQ(0, vmbus_create(g.part_fd, 0, 0));
	fd[0] = vmbus_offer(g.part_fd, echo_class, 0xa1,
			    VID_VMBUS_OFFER_KERNEL, &o[0]);
	memset(&o[1], 0, sizeof(o[1]));
	memcpy(o[1].type, user_class, 16);
	memset(o[1].instance, 0xb2, 16);
	o[1].chn_flags = 0x10;
	o[1].mmio_megabytes = 3;
	for (i = 0; i < 120; i++)
		o[1].user_def[i] = i ^ 0x5a;
	fd[1] = ioctl(g.part_fd, VID_PARTITION_VMBUS_OFFER, &o[1]);
	fd[2] = vmbus_offer(g.part_fd, echo_class, 0xc3,
			    VID_VMBUS_OFFER_KERNEL, &o[2]);
	for (i = 0; i < 3; i++) {
		ASSERT_LE(0, fd[i]);
		EXPECT_EQ(i + 1, o[i].relid);
		EXPECT_EQ(VID_VMBUS_CHANNEL_CONNECTION_BASE | o[i].relid,
			  o[i].connection_id);
	}
	RUN_INIT(&g, &uc);
	RUN_SYNC(&g, &uc, SYNC_CONNECTED);
	EXPECT_EQ(3, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);
	for (i = 0; i < 3; i++) {
		c = &VID_GUEST_GLOBAL(&g, vmg).chans[i];
		EXPECT_EQ(o[i].relid, c->relid);
		EXPECT_EQ(o[i].connection_id, c->connection_id);
		EXPECT_EQ(0, memcmp(o[i].type, c->type, 16));
		EXPECT_EQ(0, memcmp(o[i].instance, c->instance, 16));
		EXPECT_EQ(o[i].chn_flags, c->chn_flags);
		EXPECT_EQ(o[i].mmio_megabytes, c->mmio_megabytes);
		EXPECT_EQ(0, c->sub_channel_index);
		EXPECT_EQ(0, memcmp(o[i].user_def, c->user_def, 120));
		/* a dedicated interrupt, not monitored */
		EXPECT_EQ(1, c->interrupt_flags & 1);
		EXPECT_EQ(0, c->monitor_flags & 1);
		j = i;
	}
	(void)j;
	EXPECT_EQ(3, vmbus_info(g.part_fd).channels);

	/* a fourth while connected: offered at once */
	fd[3] = vmbus_offer(g.part_fd, user_class, 0xd4, 0, &o[3]);
	ASSERT_LE(0, fd[3]);
	EXPECT_EQ(4, o[3].relid);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(4, uc.args[1]);
	c = &VID_GUEST_GLOBAL(&g, vmg).chans[3];
	EXPECT_EQ(4, c->relid);
	EXPECT_EQ(0, memcmp(o[3].instance, c->instance, 16));

	/* closing its fd rescinds it; the relid stays taken until released */
	close(fd[3]);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(4, uc.args[1]);
	info = vmbus_info(g.part_fd);
	EXPECT_EQ(4, info.channels);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(0, uc.args[1]);
	EXPECT_EQ(3, vmbus_info(g.part_fd).channels);
	/* the echo channel's fd saw its open and close */
	ASSERT_EQ(0, read_event(fd[0], &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_OPEN, ev.type);
	ASSERT_EQ(0, read_event(fd[0], &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_CLOSE, ev.type);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	vid_guest_destroy(&g);
}

/* Echo traffic, close, teardown, unload; the counters on the way. */
/*
 * The echo session (guest_echo) with its host-side checks. @halt_poll is
 * the guest's vmg.halt_poll: its ring waits poll, the in ring masked,
 * before they halt.
 */
static void run_echo(struct __test_metadata *_metadata, uint32_t halt_poll)
{
	struct vid_vmbus_event ev;
	struct vid_vmbus_info info;
	struct vid_vmbus_offer o;
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t gpadl;
	int fd;

	SKIP_WITHOUT_VMBUS();
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_echo);
	VID_GUEST_GLOBAL(&g, echo_halt_poll) = halt_poll;
	ASSERT_EQ(0, vmbus_create(g.part_fd, 0, 0));
	fd = vmbus_offer(g.part_fd, echo_class, 1,
			 VID_VMBUS_OFFER_KERNEL | VID_VMBUS_OFFER_NONBLOCK, &o);
	ASSERT_LE(0, fd);
	ASSERT_ERRNO(EAGAIN, read(fd, &ev, sizeof(ev)));
	RUN_INIT(&g, &uc);
	RUN_SYNC(&g, &uc, SYNC_CONNECTED);
	EXPECT_EQ(o.relid, uc.args[1]);
	/* INITIATE_CONTACT, REQUESTOFFERS; VERSION_RESPONSE, offer, ALLOFFERS */
	EXPECT_EQ(2, uc.args[2]);
	EXPECT_EQ(3, uc.args[3]);
	EXPECT_MSG_COUNTS(g.part_fd, uc.args[2], uc.args[3]);
	RUN_SYNC(&g, &uc, SYNC_OPEN);
	ASSERT_EQ(0, uc.args[1]);
	gpadl = uc.args[2];
	RUN_SYNC(&g, &uc, SYNC_STEP);
	/* GPADL header + 4 bodies + OPENCHANNEL; CREATED + RESULT */
	EXPECT_EQ(2 + 6, uc.args[1]);
	EXPECT_EQ(3 + 2, uc.args[2]);
	EXPECT_MSG_COUNTS(g.part_fd, uc.args[1], uc.args[2]);
	info = vmbus_info(g.part_fd);
	EXPECT_EQ(1, info.open_channels);
	ASSERT_EQ(0, read_event(fd, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_OPEN, ev.type);
	EXPECT_EQ(128, ev.ring_pages);
	EXPECT_EQ(64, ev.downstream_offset);
	EXPECT_EQ(gpadl, ev.gpadl);
	EXPECT_EQ(o.relid, ev.openid);
	EXPECT_EQ(0, ev.target_vp);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_LE(1, uc.args[1]);
	EXPECT_MSG_COUNTS(g.part_fd, uc.args[2], uc.args[3]);
	RUN_SYNC(&g, &uc, SYNC_CLOSED);
	/* CLOSECHANNEL has no answer: wait for the server to act on it */
	EXPECT_TRUE(WAIT_INFO(g.part_fd, open_channels, 0));
	ASSERT_EQ(0, read_event(fd, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_CLOSE, ev.type);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_MSG_COUNTS(g.part_fd, uc.args[1], uc.args[2]);
	RUN_SYNC(&g, &uc, SYNC_UNLOADED);
	EXPECT_MSG_COUNTS(g.part_fd, uc.args[1], uc.args[2]);
	EXPECT_EQ(0, uc.args[3]);
	info = vmbus_info(g.part_fd);
	EXPECT_EQ(0, info.version);
	EXPECT_EQ(1, info.channels);
	EXPECT_EQ(0, info.open_channels);
	EXPECT_EQ(0, info.bad_messages);
	EXPECT_EQ(0, info.broken_rings);
	ASSERT_ERRNO(EAGAIN, read(fd, &ev, sizeof(ev)));
	close(fd);
	vid_guest_destroy(&g);
}

TEST_F_TIMEOUT(vmbus, echo, 300)
{
	run_echo(_metadata, 0);
}

/*
 * The echo session again with the kernel VSP's ring polling off, and
 * with a window far longer than the default (the module's vmbus_poll_us),
 * each with the guest polling too. A packet lost to a poll that timed
 * out, or a mask left set, hangs the session.
 */
FIXTURE(polling) {
	long saved;
};

FIXTURE_VARIANT(polling) {
	long poll_us;
	uint32_t halt_poll;
};

FIXTURE_VARIANT_ADD(polling, root_off) { 0, 0 };
FIXTURE_VARIANT_ADD(polling, root_off_guest_on) { 0, 2000 };
FIXTURE_VARIANT_ADD(polling, root_long) { 5000, 0 };
FIXTURE_VARIANT_ADD(polling, both_on) { 5000, 2000 };

FIXTURE_SETUP(polling)
{
	self->saved = vid_test_param_swap("vmbus_poll_us", variant->poll_us);
	ASSERT_LE(0, self->saved) TH_LOG("no " VID_PARAM_DIR "vmbus_poll_us");
}

FIXTURE_TEARDOWN(polling)
{
	if (self->saved >= 0)
		vid_test_param_swap("vmbus_poll_us", self->saved);
}

TEST_F_TIMEOUT(polling, echo, 300)
{
	run_echo(_metadata, variant->halt_poll);
}

/* ----- a userspace VSP with the root's ring code ----- */

struct user_rings {
	void *map;
	uint32_t npages;
	void *pages[64];
	struct vmbus_ring in;	/* the guest writes */
	struct vmbus_ring out;	/* we write */
};

static int user_rings_map(int fd, const struct vid_vmbus_event *ev,
			  struct user_rings *r)
{
	uint32_t i;

	if (ev->type != VID_VMBUS_EVENT_OPEN || ev->ring_pages > 64)
		return -EINVAL;
	r->npages = ev->ring_pages;
	r->map = mmap(NULL, (size_t)r->npages * PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, fd, 0);
	if (r->map == MAP_FAILED)
		return -errno;
	for (i = 0; i < r->npages; i++)
		r->pages[i] = (uint8_t *)r->map + (size_t)i * PAGE;
	if (vmbus_ring_init(&r->in, r->pages, ev->downstream_offset) ||
	    vmbus_ring_init(&r->out, r->pages + ev->downstream_offset,
			    r->npages - ev->downstream_offset))
		return -EBADMSG;
	return 0;
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(sigbus_jmp, 1);
}

/* Does reading @p fault with SIGBUS? */
static bool read_faults(const uint8_t *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	bool faulted = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1))
		faulted = true;
	else
		(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	sigaction(SIGBUS, &old, NULL);
	return faulted;
}

TEST_F_TIMEOUT(vmbus, user_channel, 300)
{
	struct vid_vmbus_eventfd e = { 0 };
	struct user_rings r = { 0 };
	struct vid_vmbus_event ev;
	struct vmbus_ring_pkt pkt;
	struct vid_vmbus_offer o;
	uint8_t buf[512], data[200];
	struct vid_guest g;
	struct vid_ucall uc;
	bool signal = false;
	uint64_t n;
	int fd, efd, i;

	SKIP_WITHOUT_VMBUS();
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_user);
	ASSERT_EQ(0, vmbus_create(g.part_fd, 0, 0));
	fd = vmbus_offer(g.part_fd, user_class, 7, VID_VMBUS_OFFER_NONBLOCK,
			 &o);
	ASSERT_LE(0, fd);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	e.eventfd = efd;
	ASSERT_EQ(0, ioctl(fd, VID_VMBUS_CHANNEL_EVENTFD, &e));
	/* not open yet: no rings to map, nothing to signal */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0));
	ASSERT_ERRNO(ENOTCONN, ioctl(fd, VID_VMBUS_CHANNEL_SIGNAL));

	RUN_INIT(&g, &uc);
	RUN_SYNC(&g, &uc, SYNC_OPEN);
	ASSERT_EQ(0, uc.args[1]);
	ASSERT_EQ(0, read_event(fd, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_OPEN, ev.type);
	EXPECT_EQ(8, ev.ring_pages);
	EXPECT_EQ(4, ev.downstream_offset);
	EXPECT_EQ(uc.args[2], ev.gpadl);
	EXPECT_EQ(o.relid, ev.openid);
	EXPECT_EQ(0, ev.target_vp);
	EXPECT_EQ(1, vmbus_info(g.part_fd).open_channels);
	/* more pages than the rings have */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 9 * PAGE, PROT_READ, MAP_SHARED, fd,
				   0));
	ASSERT_EQ(0, user_rings_map(fd, &ev, &r));

	/* guest -> root: one packet, one signal into the eventfd */
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(1, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);
	n = 0;
	ASSERT_EQ(sizeof(n), read(efd, &n, sizeof(n)));
	EXPECT_EQ(1, n);
	ASSERT_EQ(0, vmbus_ring_read(&r.in, buf, sizeof(buf), &pkt, &signal));
	EXPECT_EQ(6, pkt.desc.type);
	EXPECT_EQ(77, pkt.desc.trans_id);
	EXPECT_EQ(16 + 104, pkt.len);
	for (i = 0; i < 100; i++)
		EXPECT_EQ((uint8_t)(0xa0 + i), buf[pkt.offset + i]);
	EXPECT_FALSE(signal);
	ASSERT_EQ(-EAGAIN, vmbus_ring_read(&r.in, buf, sizeof(buf), &pkt,
					   &signal));

	/* root -> guest: one packet and a signal, then three with one */
	for (i = 0; i < 200; i++)
		data[i] = 3 * i;
	ASSERT_EQ(0, vmbus_ring_send(&r.out, 6, 0, 88, data, 200, &signal));
	EXPECT_TRUE(signal);
	ASSERT_EQ(0, ioctl(fd, VID_VMBUS_CHANNEL_SIGNAL));
	/* the guest reads the first while we write the rest: it may drain */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, vmbus_ring_send(&r.out, 6, 0, 89 + i, data, 8,
					     &signal));
	ASSERT_EQ(0, ioctl(fd, VID_VMBUS_CHANNEL_SIGNAL));
	RUN_SYNC(&g, &uc, SYNC_STEP);

	/* the guest closes: CLOSE, the mapping is gone, no signals */
	RUN_SYNC(&g, &uc, SYNC_CLOSED);
	ASSERT_EQ(0, read_event(fd, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_CLOSE, ev.type);
	EXPECT_EQ(0, vmbus_info(g.part_fd).open_channels);
	EXPECT_TRUE(read_faults(r.map));
	ASSERT_ERRNO(ENOTCONN, ioctl(fd, VID_VMBUS_CHANNEL_SIGNAL));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0));
	ASSERT_ERRNO(EAGAIN, read(fd, &ev, sizeof(ev)));
	munmap(r.map, (size_t)r.npages * PAGE);

	/*
	 * Open again and mapped; then the VMM lets go of the channel. A
	 * mapping holds the file as the fd does: the rescind comes when
	 * both are gone.
	 */
	RUN_SYNC(&g, &uc, SYNC_OPEN);
	ASSERT_EQ(0, read_event(fd, &ev));
	ASSERT_EQ(0, user_rings_map(fd, &ev, &r));
	EXPECT_FALSE(read_faults(r.map));
	close(fd);
	EXPECT_FALSE(read_faults(r.map));
	EXPECT_EQ(1, vmbus_info(g.part_fd).open_channels);
	munmap(r.map, (size_t)r.npages * PAGE);
	EXPECT_EQ(0, vmbus_info(g.part_fd).open_channels);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(0, uc.args[1]);
	EXPECT_TRUE(WAIT_INFO(g.part_fd, channels, 0));
	close(efd);
	vid_guest_destroy(&g);
}

TEST_F_TIMEOUT(vmbus, message_flood, 300)
{
	struct vid_vmbus_info info;
	struct vid_vmbus_offer o;
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t ok, full;
	int fd;

	SKIP_WITHOUT_VMBUS();
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_flood);
	ASSERT_EQ(0, vmbus_create(g.part_fd, 0, 0));
	fd = vmbus_offer(g.part_fd, echo_class, 1, VID_VMBUS_OFFER_KERNEL, &o);
	ASSERT_LE(0, fd);
	RUN_INIT(&g, &uc);
	RUN_SYNC(&g, &uc, SYNC_BAD);
	ok = uc.args[1];
	full = uc.args[2];
	EXPECT_EQ(FLOOD_N, ok + full);
	EXPECT_EQ(0, uc.args[3]);
	TH_LOG("%llu taken, %llu refused (queue full)",
	       (unsigned long long)ok, (unsigned long long)full);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	info = vmbus_info(g.part_fd);
	/* refused good ones (the guest retried them) count as well */
	EXPECT_EQ(FLOOD_N + uc.args[3], info.bad_messages);
	/* the server saw the good ones and the bad ones it took */
	EXPECT_EQ(uc.args[1] + ok, info.messages);
	EXPECT_EQ(uc.args[2], info.posted);
	EXPECT_EQ(0, info.dropped);
	close(fd);
	vid_guest_destroy(&g);
}

/* ----- the hostile guest ----- */

TEST_F_TIMEOUT(vmbus, bad_messages, 300)
{
	struct vid_vmbus_info info;
	struct vid_vmbus_offer o;
	struct vid_guest g;
	struct vid_ucall uc;
	int fd;

	SKIP_WITHOUT_VMBUS();
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_bad_messages);
	ASSERT_EQ(0, vmbus_create(g.part_fd, 0, 0));
	fd = vmbus_offer(g.part_fd, echo_class, 1, VID_VMBUS_OFFER_KERNEL, &o);
	ASSERT_LE(0, fd);
	RUN_INIT(&g, &uc);
	RUN_SYNC(&g, &uc, SYNC_BAD);
	/* HV_STATUS_INVALID_PARAMETER: never reached the server */
	EXPECT_EQ(5, uc.args[1]);
	EXPECT_EQ(1, uc.args[2]);
	info = vmbus_info(g.part_fd);
	EXPECT_EQ(N_BAD_EARLY, info.bad_messages);
	EXPECT_EQ(VID_VMBUS_VERSION_WIN10_V5_3, info.version);
	RUN_SYNC(&g, &uc, SYNC_BAD);
	EXPECT_EQ(0, uc.args[1]);
	info = vmbus_info(g.part_fd);
	EXPECT_EQ(N_BAD_EARLY + 1, info.bad_messages);
	EXPECT_EQ(0, info.broken_rings);
	close(fd);
	vid_guest_destroy(&g);
}

TEST_F_TIMEOUT(vmbus, bad_gpadls, 300)
{
	struct vid_vmbus_offer o;
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t bad;
	int fd;

	SKIP_WITHOUT_VMBUS();
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_bad_gpadls);
	ASSERT_EQ(0, vmbus_create(g.part_fd, 0, 0));
	fd = vmbus_offer(g.part_fd, echo_class, 1, VID_VMBUS_OFFER_KERNEL, &o);
	ASSERT_LE(0, fd);
	RUN_INIT(&g, &uc);
	RUN_SYNC(&g, &uc, SYNC_GPADL);
	EXPECT_NE(0, uc.args[1]);	/* frame beyond RAM */
	EXPECT_NE(0, uc.args[2]);	/* the same in a body */
	RUN_SYNC(&g, &uc, SYNC_GPADL);
	EXPECT_NE(0, uc.args[1]);	/* byte offset */
	EXPECT_NE(0, uc.args[2]);	/* frame count */
	RUN_SYNC(&g, &uc, SYNC_GPADL);
	EXPECT_NE(0, uc.args[1]);	/* no such channel */
	EXPECT_EQ(0, uc.args[2]);	/* the good one */
	EXPECT_NE(0, uc.args[3]);	/* its handle again */
	bad = vmbus_info(g.part_fd).bad_messages;
	EXPECT_EQ(6, bad);
	RUN_SYNC(&g, &uc, SYNC_GPADL);
	EXPECT_NE(0, uc.args[1]);	/* a GPADL no ring fits in */
	EXPECT_NE(0, uc.args[2]);	/* no such GPADL */
	EXPECT_EQ(0, uc.args[3]);
	EXPECT_EQ(bad + 2, vmbus_info(g.part_fd).bad_messages);
	EXPECT_EQ(0, vmbus_info(g.part_fd).open_channels);
	close(fd);
	vid_guest_destroy(&g);
}

TEST_F_TIMEOUT(vmbus, corrupt_rings, 300)
{
	struct vid_vmbus_offer oa, ob, ou, oc;
	struct user_rings r = { 0 };
	struct vid_vmbus_event ev;
	struct vmbus_ring_pkt pkt;
	int fa, fb, fu, fc, efd;
	struct vid_vmbus_eventfd e = { 0 };
	struct vid_guest g;
	struct vid_ucall uc;
	uint8_t buf[256];
	bool signal;

	SKIP_WITHOUT_VMBUS();
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_corrupt);
	ASSERT_EQ(0, vmbus_create(g.part_fd, 0, 0));
	fa = vmbus_offer(g.part_fd, echo_class, 1, VID_VMBUS_OFFER_KERNEL |
			 VID_VMBUS_OFFER_NONBLOCK, &oa);
	fb = vmbus_offer(g.part_fd, echo_class, 2, VID_VMBUS_OFFER_KERNEL |
			 VID_VMBUS_OFFER_NONBLOCK, &ob);
	fu = vmbus_offer(g.part_fd, user_class, 3, VID_VMBUS_OFFER_NONBLOCK,
			 &ou);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_LE(0, fu);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e.eventfd = efd;
	ASSERT_EQ(0, ioctl(fu, VID_VMBUS_CHANNEL_EVENTFD, &e));
	RUN_INIT(&g, &uc);
	RUN_SYNC(&g, &uc, SYNC_OPEN);
	EXPECT_EQ(oa.relid, uc.args[1]);
	EXPECT_EQ(ob.relid, uc.args[2]);
	EXPECT_EQ(ou.relid, uc.args[3]);
	ASSERT_EQ(0, read_event(fu, &ev));
	ASSERT_EQ(0, user_rings_map(fu, &ev, &r));
	ASSERT_EQ(0, read_event(fa, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_OPEN, ev.type);

	/* A broke its ring: rescinded, given back; B answered meanwhile */
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(1, vmbus_info(g.part_fd).broken_rings);
	ASSERT_EQ(0, read_event(fa, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_BROKEN, ev.type);
	ASSERT_EQ(0, read_event(fa, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_CLOSE, ev.type);
	ASSERT_ERRNO(EAGAIN, read(fa, &ev, sizeof(ev)));
	ASSERT_EQ(0, read_event(fb, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_OPEN, ev.type);
	ASSERT_ERRNO(EAGAIN, read(fb, &ev, sizeof(ev)));
	EXPECT_TRUE(WAIT_INFO(g.part_fd, channels, 2));
	EXPECT_EQ(2, vmbus_info(g.part_fd).open_channels);

	/* U: our ring code refuses the index and stays refusing */
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(-EBADMSG, vmbus_ring_read(&r.in, buf, sizeof(buf), &pkt,
					    &signal));
	EXPECT_EQ(-EBADMSG, vmbus_ring_read(&r.in, buf, sizeof(buf), &pkt,
					    &signal));
	EXPECT_EQ(1, vmbus_info(g.part_fd).broken_rings);

	/* B: the VSP's write found the guest's bad read index */
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(2, vmbus_info(g.part_fd).broken_rings);
	ASSERT_EQ(0, read_event(fb, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_BROKEN, ev.type);
	ASSERT_EQ(0, read_event(fb, &ev));
	EXPECT_EQ(VID_VMBUS_EVENT_CLOSE, ev.type);
	EXPECT_TRUE(WAIT_INFO(g.part_fd, channels, 1));

	/* a fresh device in A's relid works */
	fc = vmbus_offer(g.part_fd, echo_class, 4, VID_VMBUS_OFFER_KERNEL,
			 &oc);
	ASSERT_LE(0, fc) TH_LOG("offer: %s", strerror(errno));
	EXPECT_EQ(oa.relid, oc.relid);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(oc.relid, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);
	EXPECT_EQ(2, vmbus_info(g.part_fd).broken_rings);
	EXPECT_EQ(1, vmbus_info(g.part_fd).open_channels);
	munmap(r.map, (size_t)r.npages * PAGE);
	close(fa);
	close(fb);
	close(fc);
	close(fu);
	close(efd);
	vid_guest_destroy(&g);
}

struct closer {
	int fd;
	unsigned int delay_us;
};

static void *close_later(void *arg)
{
	struct closer *c = arg;

	usleep(c->delay_us);
	close(c->fd);
	return NULL;
}

#define RACE_ROUNDS	6

TEST_F_TIMEOUT(vmbus, open_rescind_race, 300)
{
	uint64_t ok = 0, failed = 0, gone = 0;
	struct vid_vmbus_offer o;
	struct closer c;
	struct vid_guest g;
	struct vid_ucall uc;
	unsigned int round;
	pthread_t t;
	int fd;

	SKIP_WITHOUT_VMBUS();
	race_rounds = RACE_ROUNDS;
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_race);
	ASSERT_EQ(0, vmbus_create(g.part_fd, 0, 0));
	RUN_INIT(&g, &uc);
	for (round = 0; round < RACE_ROUNDS; round++) {
		fd = vmbus_offer(g.part_fd, echo_class, round,
				 VID_VMBUS_OFFER_KERNEL, &o);
		ASSERT_LE(0, fd);
		RUN_SYNC(&g, &uc, SYNC_STEP);
		EXPECT_EQ(round, uc.args[1]);
		EXPECT_EQ(o.relid, uc.args[2]);
		c.fd = fd;
		c.delay_us = round * 20000;
		ASSERT_EQ(0, pthread_create(&t, NULL, close_later, &c));
		RUN_SYNC(&g, &uc, SYNC_RACE);
		ASSERT_EQ(0, pthread_join(t, NULL));
		ok += uc.args[1];
		failed += uc.args[2];
		gone += uc.args[3];
		/* released (no answer comes): the server forgets it */
		EXPECT_TRUE(WAIT_INFO(g.part_fd, channels, 0));
		EXPECT_EQ(0, vmbus_info(g.part_fd).open_channels);
	}
	TH_LOG("%llu opens, %llu refused, %llu unanswered (rescinded)",
	       (unsigned long long)ok, (unsigned long long)failed,
	       (unsigned long long)gone);
	EXPECT_EQ(0, vmbus_info(g.part_fd).broken_rings);
	vid_guest_destroy(&g);
}

TEST_F_TIMEOUT(vmbus, unload_mid_traffic, 300)
{
	struct vid_vmbus_info info;
	struct vid_vmbus_offer o;
	struct vid_guest g;
	struct vid_ucall uc;
	int fd;

	SKIP_WITHOUT_VMBUS();
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_unload);
	ASSERT_EQ(0, vmbus_create(g.part_fd, 0, 0));
	fd = vmbus_offer(g.part_fd, echo_class, 1, VID_VMBUS_OFFER_KERNEL, &o);
	ASSERT_LE(0, fd);
	RUN_INIT(&g, &uc);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(1, vmbus_info(g.part_fd).open_channels);
	RUN_SYNC(&g, &uc, SYNC_UNLOADED);
	info = vmbus_info(g.part_fd);
	EXPECT_EQ(0, info.version);
	EXPECT_EQ(0, info.open_channels);
	EXPECT_EQ(1, info.channels);
	RUN_SYNC(&g, &uc, SYNC_STEP);
	EXPECT_EQ(o.relid, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);
	info = vmbus_info(g.part_fd);
	EXPECT_EQ(VID_VMBUS_VERSION_WIN10_V5_3, info.version);
	EXPECT_EQ(0, info.bad_messages);
	EXPECT_EQ(0, info.broken_rings);
	close(fd);
	vid_guest_destroy(&g);
}

TEST_HARNESS_MAIN
