// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the VMBus channel-management server (vmbus/server*.c),
 * built as userspace C under ASan and UBSan.
 *
 * The guest here is a model of Linux 6.1's hv_vmbus (drivers/hv/
 * connection.c, channel_mgmt.c, channel.c), written from those sources:
 * the version walk (5.3 first, then down to 2.4; WIN7 as older guests
 * do), INITIATE_CONTACT with the message SINT from 5.0 and the interrupt
 * page before, REQUESTOFFERS, GPADLs chunked as create_gpadl_header()
 * does (26 frames in the header, 28 per body), OPENCHANNEL as
 * vmbus_open() fills it, close-then-teardown, release after rescind. The
 * embedder is a fake that records every message the server posts, can
 * make the SINT slot busy, and says which frames are RAM. Every reply is
 * checked field by field; after every message the server's invariants
 * are checked (vmbus_server_check()) and, at the end, that every byte
 * it allocated was given back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "../../vmbus/server_int.h"

#define RAM_LO		0x100ULL	/* guest RAM frames: [RAM_LO, RAM_HI) */
#define RAM_HI		0x40000ULL
#define RAM_HOLE	0x1234ULL	/* ... except this one */
#define MAX_OUT		8192
#define NCHAN		8

struct posted {
	u64 data[VMBUS_MSG_MAX_SIZE / 8];	/* aligned, read as structs */
	u32 vp;
	u8 sint;
	u32 size;
};

/* What the fake device behind one channel saw. */
struct fchan {
	int idx;
	bool open;
	struct vmbus_server_channel *ch;
	u32 gpadl, pages, offset, vp, openid;
	u64 pfns[512];
	u8 userdata[VMBUS_OFFER_USER_DEF_SIZE];
	unsigned int opens, closes, frees, modifies;
	u32 put_in_close;	/* a GPADL the device holds until close */
};

struct fake {
	struct vmbus_server *srv;
	struct posted out[MAX_OUT];
	unsigned int nout, rd;
	bool busy;
	int post_err;
	int open_ret, modify_ret;
	struct fchan chan[NCHAN];
	u32 sig_relid, sig_vp;
	unsigned int signals;
	long live_allocs, fail_allocs_in;
	unsigned int bad[VMBUS_SERVER_E_COUNT];
	u32 version;
	unsigned int state_changes;
	u32 expect_vp;			/* where replies should go */
	unsigned int violations;	/* callbacks misused by the server */
	int check;			/* vmbus_server_check()'s last say */
};

static int fk_post(void *ctx, u32 vp, u8 sint, const void *msg, u32 size)
{
	struct fake *f = ctx;
	struct posted *p;

	if (f->busy)
		return -EAGAIN;
	if (f->post_err)
		return f->post_err;
	if (size < 8 || size > VMBUS_MSG_MAX_SIZE || f->nout >= MAX_OUT) {
		f->violations++;
		return -EINVAL;
	}
	p = &f->out[f->nout++];
	p->vp = vp;
	p->sint = sint;
	p->size = size;
	memcpy(p->data, msg, size);
	return 0;
}

static void fk_signal(void *ctx, u32 relid, u32 vp)
{
	struct fake *f = ctx;

	f->sig_relid = relid;
	f->sig_vp = vp;
	f->signals++;
}

static bool fk_gpa_ok(void *ctx, u64 gfn)
{
	return gfn >= RAM_LO && gfn < RAM_HI && gfn != RAM_HOLE;
}

static int fk_open(void *ctx, struct vmbus_server_channel *ch,
		   const struct vmbus_open_params *p)
{
	struct fake *f = ctx;
	struct fchan *c = vmbus_server_channel_ctx(ch);

	if (c->open || !vmbus_server_channel_is_open(ch))
		f->violations++;
	if (f->open_ret)
		return f->open_ret;
	c->open = true;
	c->opens++;
	c->gpadl = p->gpadl;
	c->pages = p->ring_pages;
	c->offset = p->downstream_offset;
	c->vp = p->target_vp;
	c->openid = p->openid;
	if (p->ring_pages <= ARRAY_SIZE(c->pfns))
		memcpy(c->pfns, p->ring_pfns, p->ring_pages * sizeof(u64));
	memcpy(c->userdata, p->userdata, sizeof(c->userdata));
	return 0;
}

static void fk_close(void *ctx, struct vmbus_server_channel *ch)
{
	struct fake *f = ctx;
	struct fchan *c = vmbus_server_channel_ctx(ch);

	if (!c->open || !vmbus_server_channel_is_open(ch))
		f->violations++;
	c->open = false;
	c->closes++;
	if (c->put_in_close) {
		vmbus_server_gpadl_put(ch, c->put_in_close);
		c->put_in_close = 0;
	}
}

static int fk_modify(void *ctx, struct vmbus_server_channel *ch, u32 vp)
{
	struct fake *f = ctx;
	struct fchan *c = vmbus_server_channel_ctx(ch);

	if (!c->open)
		f->violations++;
	c->modifies++;
	return f->modify_ret;
}

static void fk_freed(void *ctx, struct vmbus_server_channel *ch)
{
	struct fake *f = ctx;
	struct fchan *c = vmbus_server_channel_ctx(ch);

	if (c->open || c->ch != ch)
		f->violations++;
	c->frees++;
	c->ch = NULL;
}

static void fk_state(void *ctx, u32 version)
{
	struct fake *f = ctx;

	f->version = version;
	f->state_changes++;
}

static void fk_bad(void *ctx, enum vmbus_server_err err, u32 type)
{
	struct fake *f = ctx;

	if ((unsigned int)err >= VMBUS_SERVER_E_COUNT)
		f->violations++;
	else
		f->bad[err]++;
}

static void *fk_alloc(void *ctx, size_t size)
{
	struct fake *f = ctx;

	if (f->fail_allocs_in && !--f->fail_allocs_in)
		return NULL;
	f->live_allocs++;
	/* garbage, not zeroes: the server must initialize what it uses */
	return memset(malloc(size), 0xa5, size);
}

static void fk_free(void *ctx, void *p)
{
	struct fake *f = ctx;

	f->live_allocs--;
	free(p);
}

static const struct vmbus_server_ops fk_ops = {
	.post_message = fk_post,
	.signal_channel = fk_signal,
	.gpa_ok = fk_gpa_ok,
	.chan_open = fk_open,
	.chan_close = fk_close,
	.chan_modify = fk_modify,
	.chan_freed = fk_freed,
	.state_changed = fk_state,
	.bad_msg = fk_bad,
	.alloc = fk_alloc,
	.free = fk_free,
};

static const guid_t type_a = GUID_INIT(0xba6163d9, 0x04a1, 0x4d29, 0xb6,
				       0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc,
				       0x7f);
static const guid_t type_b = GUID_INIT(0xf8615163, 0xdf3e, 0x46c5, 0x91,
				       0x3f, 0xf2, 0xd2, 0xf9, 0x65, 0xed,
				       0x0e);

static struct fake *fake_new(const struct vmbus_server_config *cfg)
{
	struct fake *f = calloc(1, sizeof(*f));
	int i;

	for (i = 0; i < NCHAN; i++)
		f->chan[i].idx = i;
	if (vmbus_server_create(&fk_ops, f, cfg, &f->srv)) {
		free(f);
		return NULL;
	}
	return f;
}

/* Destroy the server; 0 if it left nothing behind and broke no rule. */
static int fake_end(struct fake *f)
{
	int i, bad = 0;

	vmbus_server_destroy(f->srv);
	for (i = 0; i < NCHAN; i++)
		if (f->chan[i].open || f->chan[i].ch)
			bad++;
	bad += f->live_allocs != 0;
	bad += f->violations;
	bad += f->check != 0;
	free(f);
	return bad;
}

/* Register channel @i (its fake device is f->chan[i]). */
static struct vmbus_server_channel *offer(struct fake *f, int i,
					  const guid_t *type, u32 flags,
					  u16 subidx)
{
	struct vmbus_offer_params p = {
		.flags = flags,
		.chn_flags = VMBUS_OFFER_ENUMERATE_DEVICE_INTERFACE,
		.mmio_megabytes = 0,
		.sub_channel_index = subidx,
	};
	guid_t inst = GUID_INIT(0x1000 + (subidx ? 0 : i), 0, 0, 0, 0, 0, 0,
				0, 0, 0, 0);

	memset(p.user_def, 'a' + i, sizeof(p.user_def));
	if (vmbus_server_offer(f->srv, type, &inst, &p, &f->chan[i],
			       &f->chan[i].ch))
		return NULL;
	return f->chan[i].ch;
}

static int send_msg(struct fake *f, const void *m, size_t len)
{
	int ret = vmbus_server_handle_message(f->srv, m, len);

	if (!f->check)
		f->check = vmbus_server_check(f->srv);
	return ret;
}

#define SEND(f, m)	send_msg((f), &(m), sizeof(m))

static u32 type_of(const struct posted *p)
{
	u32 t;

	memcpy(&t, p->data, sizeof(t));
	return t;
}

static unsigned int pending(struct fake *f)
{
	return f->nout - f->rd;
}

/* The next message the guest got: @type, @size bytes, on its VP. */
static const void *next_msg(struct __test_metadata *_metadata, struct fake *f,
			    u32 type, u32 size)
{
	const struct posted *p;

	ASSERT_LT(f->rd, f->nout) TH_LOG("no message of type %u", type);
	p = &f->out[f->rd++];
	ASSERT_EQ(type, type_of(p));
	ASSERT_EQ(size, p->size);
	ASSERT_EQ(f->expect_vp, p->vp);
	ASSERT_EQ(VMBUS_MESSAGE_SINT, p->sint);
	return p->data;
}

#define NEXT(f, T, type)	\
	((const __typeof__(T) *)next_msg(_metadata, (f), (type), sizeof(T)))

/* Linux's vmbus_negotiate_version(): returns the response. */
static struct vmbus_msg_version_response
contact(struct __test_metadata *_metadata, struct fake *f, u32 version,
	u32 vcpu)
{
	struct vmbus_msg_initiate_contact m = {
		.hdr.msgtype = VMBUS_MSG_INITIATE_CONTACT,
		.vmbus_version_requested = version,
		.target_vcpu = vcpu,
		.monitor_page1 = 0x7000,
		.monitor_page2 = 0x8000,
	};
	u32 vp = version >= VMBUS_VERSION_WIN8_1 ? vcpu : 0;

	m.target_info = version >= VMBUS_VERSION_WIN10_V5 ?
			VMBUS_MESSAGE_SINT : 0x6000;
	f->expect_vp = vp;
	EXPECT_EQ(0, SEND(f, m));
	return *NEXT(f, struct vmbus_msg_version_response,
		     VMBUS_MSG_VERSION_RESPONSE);
}

static void connect_ok(struct __test_metadata *_metadata, struct fake *f,
		       u32 version)
{
	struct vmbus_msg_version_response r = contact(_metadata, f, version, 0);

	ASSERT_EQ(1, r.version_supported);
	ASSERT_EQ(0, r.connection_state);
}

static void request_offers(struct __test_metadata *_metadata, struct fake *f,
			   unsigned int n)
{
	struct vmbus_msg_hdr m = { .msgtype = VMBUS_MSG_REQUESTOFFERS };
	unsigned int i;

	ASSERT_EQ(0, SEND(f, m));
	for (i = 0; i < n; i++)
		NEXT(f, struct vmbus_msg_offer, VMBUS_MSG_OFFERCHANNEL);
	NEXT(f, struct vmbus_msg_hdr, VMBUS_MSG_ALLOFFERS_DELIVERED);
	ASSERT_EQ(0, pending(f));
}

/*
 * create_gpadl_header() and __vmbus_establish_gpadl(): one range of
 * @n frames at byte offset 0; header with up to 26 frames, bodies with
 * up to 28, no answer before the last. Returns the GPADL_CREATED status
 * (or -1 if none came).
 */
static long gpadl(struct __test_metadata *_metadata, struct fake *f,
		  u32 relid, u32 handle, const u64 *pfns, u32 n)
{
	union {
		struct vmbus_msg_gpadl_header h;
		struct vmbus_msg_gpadl_body b;
		u8 raw[VMBUS_MSG_MAX_SIZE];
	} m;
	struct vmbus_gpa_range range = { .byte_count = n * 4096 };
	const struct vmbus_msg_gpadl_created *c;
	u32 k = n < 26 ? n : 26, sent;

	memset(&m, 0, sizeof(m));
	m.h.hdr.msgtype = VMBUS_MSG_GPADL_HEADER;
	m.h.child_relid = relid;
	m.h.gpadl = handle;
	m.h.rangecount = 1;
	m.h.range_buflen = sizeof(range) + n * 8;
	memcpy(m.h.range, &range, sizeof(range));
	memcpy(m.h.range + sizeof(range), pfns, k * 8);
	send_msg(f, &m, sizeof(m.h) + sizeof(range) + k * 8);
	/* an early answer (a refused header) ends it */
	for (sent = k; sent < n && !pending(f); sent += k) {
		k = n - sent < 28 ? n - sent : 28;
		memset(&m, 0, sizeof(m));
		m.b.hdr.msgtype = VMBUS_MSG_GPADL_BODY;
		m.b.gpadl = handle;
		memcpy(m.b.pfn, pfns + sent, k * 8);
		send_msg(f, &m, sizeof(m.b) + k * 8);
	}
	if (!pending(f))
		return -1;
	c = NEXT(f, struct vmbus_msg_gpadl_created, VMBUS_MSG_GPADL_CREATED);
	EXPECT_EQ(relid, c->child_relid);
	EXPECT_EQ(handle, c->gpadl);
	return c->creation_status;
}

/* @n consecutive RAM frames from @first. */
static void frames(u64 *pfns, u32 n, u64 first)
{
	u32 i;

	for (i = 0; i < n; i++)
		pfns[i] = first + i;
}

/* A ring GPADL of @n pages for channel @relid, created successfully. */
static void ring_gpadl(struct __test_metadata *_metadata, struct fake *f,
		       u32 relid, u32 handle, u32 n)
{
	u64 pfns[512];

	frames(pfns, n, 0x1000 + handle % 64 * 0x400);
	ASSERT_EQ(0, gpadl(_metadata, f, relid, handle, pfns, n));
}

static struct vmbus_msg_open open_msg(u32 relid, u32 handle, u32 offset,
				      u32 vp)
{
	struct vmbus_msg_open m = {
		.hdr.msgtype = VMBUS_MSG_OPENCHANNEL,
		.child_relid = relid,
		.openid = relid,
		.ringbuffer_gpadlhandle = handle,
		.target_vp = vp,
		.downstream_ringbuffer_pageoffset = offset,
	};

	memset(m.userdata, 'u', sizeof(m.userdata));
	return m;
}

/* vmbus_open(): returns OPENCHANNEL_RESULT's status (-1: no answer). */
static long open_chan(struct __test_metadata *_metadata, struct fake *f,
		      u32 relid, u32 handle, u32 offset, u32 vp)
{
	struct vmbus_msg_open m = open_msg(relid, handle, offset, vp);
	const struct vmbus_msg_open_result *r;

	send_msg(f, &m, sizeof(m));
	if (!pending(f))
		return -1;
	r = NEXT(f, struct vmbus_msg_open_result,
		 VMBUS_MSG_OPENCHANNEL_RESULT);
	EXPECT_EQ(relid, r->child_relid);
	EXPECT_EQ(relid, r->openid);
	return r->status;
}

static int relid_msg(struct fake *f, u32 type, u32 relid)
{
	struct vmbus_msg_relid m = { .hdr.msgtype = type, .child_relid = relid };

	return SEND(f, m);
}

static int teardown(struct fake *f, u32 relid, u32 handle)
{
	struct vmbus_msg_gpadl_teardown m = {
		.hdr.msgtype = VMBUS_MSG_GPADL_TEARDOWN,
		.child_relid = relid,
		.gpadl = handle,
	};

	return SEND(f, m);
}

static int hdr_msg(struct fake *f, u32 type)
{
	struct vmbus_msg_hdr m = { .msgtype = type };

	return SEND(f, m);
}

static void torndown(struct __test_metadata *_metadata, struct fake *f,
		     u32 handle)
{
	EXPECT_EQ(handle, NEXT(f, struct vmbus_msg_gpadl_torndown,
			       VMBUS_MSG_GPADL_TORNDOWN)->gpadl);
}

static u64 stat_err(struct fake *f, enum vmbus_server_err err)
{
	struct vmbus_server_stats st;

	vmbus_server_get_stats(f->srv, &st);
	return st.errors[err];
}

/* ---- version negotiation ---- */

/* What Linux 6.1 and 6.12 try, newest first, and WIN7 for older guests. */
static const u32 linux_versions[] = {
	VMBUS_VERSION_WIN10_V5_3, VMBUS_VERSION_WIN10_V5_2,
	VMBUS_VERSION_WIN10_V5_1, VMBUS_VERSION_WIN10_V5,
	VMBUS_VERSION_WIN10_V4_1, VMBUS_VERSION_WIN10,
	VMBUS_VERSION_WIN8_1, VMBUS_VERSION_WIN8, VMBUS_VERSION_WIN7,
};

TEST(every_linux_version_is_accepted)
{
	struct vmbus_msg_version_response r;
	struct vmbus_server_conn conn;
	unsigned int i;
	struct fake *f;
	u32 v;

	for (i = 0; i < ARRAY_SIZE(linux_versions); i++) {
		v = linux_versions[i];
		f = fake_new(NULL);
		ASSERT_NE(NULL, f);
		/* target VP 1: honoured from 3.0 on, VP 0 before */
		r = contact(_metadata, f, v, 1);
		EXPECT_EQ(1, r.version_supported) TH_LOG("version %x", v);
		EXPECT_EQ(0, r.connection_state);
		EXPECT_EQ(v >= VMBUS_VERSION_WIN10_V5 ?
			  VMBUS_MESSAGE_CONNECTION_ID : v, r.msg_conn_id);
		EXPECT_EQ(v, f->version);
		vmbus_server_get_conn(f->srv, &conn);
		EXPECT_EQ(v, conn.version);
		EXPECT_EQ(v >= VMBUS_VERSION_WIN8_1 ? 1 : 0, conn.target_vp);
		EXPECT_EQ(VMBUS_MESSAGE_SINT, conn.target_sint);
		EXPECT_EQ(v < VMBUS_VERSION_WIN8 ? 0x6000 : 0,
			  conn.interrupt_page);
		EXPECT_EQ(0x7000, conn.monitor_page1);
		EXPECT_EQ(0x8000, conn.monitor_page2);
		/* later messages go to the same VP */
		request_offers(_metadata, f, 0);
		EXPECT_EQ(0, fake_end(f));
	}
}

TEST(guest_walks_down_to_a_supported_version)
{
	struct vmbus_server_config cfg = {
		.max_version = VMBUS_VERSION_WIN10,
	};
	struct vmbus_msg_version_response r;
	struct fake *f = fake_new(&cfg);
	unsigned int i;

	ASSERT_NE(NULL, f);
	/* Linux's loop: 5.3, 5.2, 5.1, 5.0, 4.1 refused, 4.0 accepted */
	for (i = 0; linux_versions[i] != VMBUS_VERSION_WIN10; i++) {
		r = contact(_metadata, f, linux_versions[i], 0);
		EXPECT_EQ(0, r.version_supported);
		EXPECT_EQ(0, r.connection_state);
		EXPECT_EQ(0, r.msg_conn_id);
		EXPECT_EQ(0, f->version);
		/* still disconnected */
		EXPECT_EQ(-ENOTCONN, hdr_msg(f, VMBUS_MSG_REQUESTOFFERS));
	}
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10);
	request_offers(_metadata, f, 0);
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, fake_end(f));
}

TEST(unsupported_versions_and_targets)
{
	struct vmbus_msg_initiate_contact m = {
		.hdr.msgtype = VMBUS_MSG_INITIATE_CONTACT,
		.target_info = VMBUS_MESSAGE_SINT,
	};
	static const u32 bad[] = {
		VMBUS_VERSION_WS2008, VMBUS_VERSION(6, 0), VMBUS_VERSION(5, 4),
		VMBUS_VERSION(1, 0), 0, 0xffffffff,
	};
	u8 longer[64] = {};
	const struct vmbus_msg_version_response *r;
	struct fake *f = fake_new(NULL);
	unsigned int i;

	ASSERT_NE(NULL, f);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		m.vmbus_version_requested = bad[i];
		EXPECT_EQ(0, SEND(f, m));
		r = NEXT(f, struct vmbus_msg_version_response,
			 VMBUS_MSG_VERSION_RESPONSE);
		EXPECT_EQ(0, r->version_supported) TH_LOG("%x", bad[i]);
	}
	/* a 6.0 guest's longer INITIATE_CONTACT still gets its "no" */
	m.vmbus_version_requested = VMBUS_VERSION(6, 0);
	memcpy(longer, &m, sizeof(m));
	EXPECT_EQ(0, send_msg(f, longer, sizeof(longer)));
	EXPECT_EQ(0, NEXT(f, struct vmbus_msg_version_response,
			  VMBUS_MSG_VERSION_RESPONSE)->version_supported);
	/* from 5.0: another SINT, or VTL 1, is not served */
	m.vmbus_version_requested = VMBUS_VERSION_WIN10_V5_3;
	m.target_info = 3;
	EXPECT_EQ(0, SEND(f, m));
	EXPECT_EQ(0, NEXT(f, struct vmbus_msg_version_response,
			  VMBUS_MSG_VERSION_RESPONSE)->version_supported);
	m.target_info = VMBUS_MESSAGE_SINT | 1 << 8;
	EXPECT_EQ(0, SEND(f, m));
	EXPECT_EQ(0, NEXT(f, struct vmbus_msg_version_response,
			  VMBUS_MSG_VERSION_RESPONSE)->version_supported);
	/* one monitor page without the other: a failed connection */
	m.target_info = VMBUS_MESSAGE_SINT;
	m.monitor_page1 = 0x7000;
	EXPECT_EQ(0, SEND(f, m));
	r = NEXT(f, struct vmbus_msg_version_response,
		 VMBUS_MSG_VERSION_RESPONSE);
	EXPECT_EQ(1, r->version_supported);
	EXPECT_EQ(VMBUS_CONNECTION_FAILED_UNKNOWN, r->connection_state);
	EXPECT_EQ(-ENOTCONN, hdr_msg(f, VMBUS_MSG_REQUESTOFFERS));
	/* ... and before 2.4 that is "unsupported" */
	m.vmbus_version_requested = VMBUS_VERSION_WIN7;
	EXPECT_EQ(0, SEND(f, m));
	EXPECT_EQ(0, NEXT(f, struct vmbus_msg_version_response,
			  VMBUS_MSG_VERSION_RESPONSE)->version_supported);
	EXPECT_EQ(0, f->state_changes);
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, fake_end(f));
}

/* ---- offers ---- */

TEST(offers_in_relid_order_then_all_delivered)
{
	const struct vmbus_msg_offer *o;
	struct fake *f = fake_new(NULL);
	unsigned int i;
	u8 ud[VMBUS_OFFER_USER_DEF_SIZE];

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	ASSERT_NE(NULL, offer(f, 1, &type_b, VMBUS_CHANNEL_F_MONITORED, 0));
	ASSERT_NE(NULL, offer(f, 2, &type_b, 0, 1));	/* a sub-channel */
	EXPECT_EQ(1, vmbus_server_channel_relid(f->chan[0].ch));
	EXPECT_EQ(0x2003, vmbus_server_channel_connection_id(f->chan[2].ch));
	EXPECT_EQ(0, vmbus_server_channel_monitor_id(f->chan[1].ch));
	EXPECT_EQ(VMBUS_MONITOR_ID_NONE,
		  vmbus_server_channel_monitor_id(f->chan[0].ch));
	EXPECT_EQ(0, pending(f));	/* nobody connected yet */

	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	ASSERT_EQ(0, hdr_msg(f, VMBUS_MSG_REQUESTOFFERS));
	for (i = 0; i < 3; i++) {
		o = NEXT(f, struct vmbus_msg_offer, VMBUS_MSG_OFFERCHANNEL);
		EXPECT_EQ(i + 1, o->child_relid);
		EXPECT_EQ(0x2000 + i + 1, o->connection_id);
		EXPECT_EQ(1, o->interrupt_flags);
		EXPECT_TRUE(guid_equal(i ? &type_b : &type_a, &o->if_type));
		EXPECT_EQ(VMBUS_OFFER_ENUMERATE_DEVICE_INTERFACE,
			  o->chn_flags);
		EXPECT_EQ(i == 2 ? 1 : 0, o->sub_channel_index);
		EXPECT_EQ(i == 1 ? 1 : 0, o->monitor_flags);
		EXPECT_EQ(i == 1 ? 0 : VMBUS_MONITOR_ID_NONE, o->monitorid);
		memset(ud, 'a' + i, sizeof(ud));
		EXPECT_EQ(0, memcmp(ud, o->user_def, sizeof(ud)));
		EXPECT_EQ(0, o->reserved1[0] | o->reserved1[1] |
			  o->reserved2[0] | o->reserved2[1] | o->reserved3 |
			  o->hdr.padding);
	}
	NEXT(f, struct vmbus_msg_hdr, VMBUS_MSG_ALLOFFERS_DELIVERED);
	/* asking twice is out of order */
	EXPECT_EQ(-EPROTO, hdr_msg(f, VMBUS_MSG_REQUESTOFFERS));
	EXPECT_EQ(0, pending(f));
	/* a channel offered now goes out at once */
	ASSERT_NE(NULL, offer(f, 3, &type_a, 0, 0));
	o = NEXT(f, struct vmbus_msg_offer, VMBUS_MSG_OFFERCHANNEL);
	EXPECT_EQ(4, o->child_relid);
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, fake_end(f));
}

TEST(monitored_only_with_monitor_pages)
{
	struct vmbus_msg_initiate_contact m = {
		.hdr.msgtype = VMBUS_MSG_INITIATE_CONTACT,
		.vmbus_version_requested = VMBUS_VERSION_WIN10_V5_2,
		.target_info = VMBUS_MESSAGE_SINT,
	};
	const struct vmbus_msg_offer *o;
	struct fake *f = fake_new(NULL);

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, VMBUS_CHANNEL_F_MONITORED, 0));
	ASSERT_EQ(0, SEND(f, m));
	EXPECT_EQ(1, NEXT(f, struct vmbus_msg_version_response,
			  VMBUS_MSG_VERSION_RESPONSE)->version_supported);
	ASSERT_EQ(0, hdr_msg(f, VMBUS_MSG_REQUESTOFFERS));
	o = NEXT(f, struct vmbus_msg_offer, VMBUS_MSG_OFFERCHANNEL);
	EXPECT_EQ(0, o->monitor_flags);
	EXPECT_EQ(VMBUS_MONITOR_ID_NONE, o->monitorid);
	NEXT(f, struct vmbus_msg_hdr, VMBUS_MSG_ALLOFFERS_DELIVERED);
	EXPECT_EQ(0, fake_end(f));
}

TEST(relids_run_out)
{
	struct vmbus_server_config cfg = { .max_channels = 3 };
	struct vmbus_server_channel *ch;
	struct vmbus_server *srv;
	struct fake *f = fake_new(&cfg);
	struct vmbus_offer_params bad = { .flags = 0x80 };
	guid_t inst = {};

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	ASSERT_NE(NULL, offer(f, 1, &type_a, 0, 0));
	ASSERT_NE(NULL, offer(f, 2, &type_a, 0, 0));
	EXPECT_EQ(-ENOSPC, vmbus_server_offer(f->srv, &type_a, &inst, NULL,
					      NULL, &ch));
	EXPECT_EQ(-EINVAL, vmbus_server_offer(f->srv, &type_a, &inst, &bad,
					      NULL, &ch));
	/* a channel the guest never saw goes at once; its relid is free */
	vmbus_server_rescind(f->chan[1].ch);
	EXPECT_EQ(1, f->chan[1].frees);
	EXPECT_EQ(0, pending(f));
	ASSERT_NE(NULL, offer(f, 3, &type_b, 0, 0));
	EXPECT_EQ(2, vmbus_server_channel_relid(f->chan[3].ch));
	EXPECT_EQ(0, fake_end(f));

	cfg.max_channels = VMBUS_MAX_RELID + 1;
	EXPECT_EQ(-EINVAL, vmbus_server_create(&fk_ops, NULL, &cfg, &srv));
}

/* ---- GPADLs ---- */

TEST(gpadl_across_several_bodies)
{
	struct vmbus_server_stats st;
	struct vmbus_gpadl_ref ref;
	struct fake *f = fake_new(NULL);
	u64 pfns[200];

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 1);

	/* 26 in the header, then 28 + 28 + 18: GPADL_CREATED after the last */
	frames(pfns, 100, 0x2000);
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 0xe1e10, pfns, 100));
	/* 26 exactly: no body at all */
	frames(pfns, 26, 0x3000);
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 0xe1e11, pfns, 26));
	/* 54 = 26 + 28: ends exactly at a full body */
	frames(pfns, 54, 0x4000);
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 0xe1e12, pfns, 54));
	vmbus_server_get_stats(f->srv, &st);
	EXPECT_EQ(3, st.gpadls);
	EXPECT_EQ(101 + 27 + 55, st.gpadl_words);

	/* a device sees the frames in order */
	ring_gpadl(_metadata, f, 1, 7, 8);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 7, 4, 0));
	ASSERT_EQ(0, vmbus_server_gpadl_get(f->chan[0].ch, 0xe1e10, &ref));
	EXPECT_EQ(1, ref.rangecount);
	EXPECT_EQ(101, ref.nwords);
	EXPECT_EQ(100, ref.npages);
	EXPECT_EQ(100 * 4096, ref.words[0]);
	EXPECT_EQ(0x2000, ref.words[1]);
	EXPECT_EQ(0x2001, ref.words[2]);
	EXPECT_EQ(0x2000 + 99, ref.words[100]);
	vmbus_server_gpadl_put(f->chan[0].ch, 0xe1e10);
	EXPECT_EQ(0, fake_end(f));
}

TEST(gpadl_largest_and_multi_range)
{
	union {
		struct vmbus_msg_gpadl_header h;
		u8 raw[VMBUS_MSG_MAX_SIZE];
	} m = {};
	/* two ranges: 5000 bytes at offset 100 (2 frames), 1 byte at 4095 */
	static const u64 words[] = {
		5000 | 100ULL << 32, 0x500, 0x777, 1 | 4095ULL << 32, 0x900,
	};
	struct vmbus_server_stats st;
	struct fake *f = fake_new(NULL);
	static u64 pfns[VMBUS_GPADL_MAX_PAGES + 1];

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 1);

	/* the most one GPADL can hold: range_buflen 65528 */
	frames(pfns, VMBUS_GPADL_MAX_PAGES, 0x2000);
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 1, pfns, VMBUS_GPADL_MAX_PAGES));

	m.h.hdr.msgtype = VMBUS_MSG_GPADL_HEADER;
	m.h.child_relid = 1;
	m.h.gpadl = 2;
	m.h.rangecount = 2;
	m.h.range_buflen = sizeof(words);
	memcpy(m.h.range, words, sizeof(words));
	EXPECT_EQ(0, send_msg(f, &m, sizeof(m.h) + sizeof(words)));
	EXPECT_EQ(0, NEXT(f, struct vmbus_msg_gpadl_created,
			  VMBUS_MSG_GPADL_CREATED)->creation_status);
	vmbus_server_get_stats(f->srv, &st);
	EXPECT_EQ(2, st.gpadls);
	EXPECT_EQ(VMBUS_GPADL_MAX_PAGES + 1 + 5, st.gpadl_words);
	/* not a ring: more than one range */
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 2, 2,
						       0));
	EXPECT_EQ(0, fake_end(f));
}

/* A GPADL_HEADER of one range with @n frames given as raw words. */
static int raw_header(struct fake *f, u32 relid, u32 handle, u16 buflen,
		      u16 count, const u64 *words, u32 nwords)
{
	union {
		struct vmbus_msg_gpadl_header h;
		u8 raw[VMBUS_MSG_MAX_SIZE];
	} m = {};

	m.h.hdr.msgtype = VMBUS_MSG_GPADL_HEADER;
	m.h.child_relid = relid;
	m.h.gpadl = handle;
	m.h.range_buflen = buflen;
	m.h.rangecount = count;
	memcpy(m.h.range, words, nwords * 8);
	return send_msg(f, &m, sizeof(m.h) + nwords * 8);
}

static int raw_body(struct fake *f, u32 handle, const u64 *words, u32 nwords)
{
	union {
		struct vmbus_msg_gpadl_body b;
		u8 raw[VMBUS_MSG_MAX_SIZE];
	} m = {};

	m.b.hdr.msgtype = VMBUS_MSG_GPADL_BODY;
	m.b.gpadl = handle;
	memcpy(m.b.pfn, words, nwords * 8);
	return send_msg(f, &m, sizeof(m.b) + nwords * 8);
}

static void created_fail(struct __test_metadata *_metadata, struct fake *f,
			 u32 relid, u32 handle)
{
	const struct vmbus_msg_gpadl_created *c;

	c = NEXT(f, struct vmbus_msg_gpadl_created, VMBUS_MSG_GPADL_CREATED);
	EXPECT_EQ(relid, c->child_relid);
	EXPECT_EQ(handle, c->gpadl);
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, c->creation_status);
}

TEST(hostile_gpadls)
{
	struct vmbus_server_config cfg = {
		.max_gpadls = 4, .max_gpadl_words = 300,
	};
	u64 w[32] = { 4096, 0x500 };
	u8 odd_header[32] = { VMBUS_MSG_GPADL_HEADER };
	u8 odd_body[28] = { VMBUS_MSG_GPADL_BODY };
	struct vmbus_server_stats st;
	struct fake *f = fake_new(&cfg);
	u64 pfns[300];
	unsigned int i;

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	ASSERT_NE(NULL, offer(f, 1, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 2);

	/* frames outside RAM: in the header, in the last body, the hole */
	frames(pfns, 60, 0x2000);
	pfns[3] = RAM_HI;
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, gpadl(_metadata, f, 1, 10, pfns,
						   60));
	pfns[3] = 0x2003;
	pfns[59] = RAM_LO - 1;
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, gpadl(_metadata, f, 1, 11, pfns,
						   60));
	pfns[59] = RAM_HOLE;
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, gpadl(_metadata, f, 1, 12, pfns,
						   60));
	pfns[59] = 1ULL << 63;
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, gpadl(_metadata, f, 1, 13, pfns,
						   60));
	EXPECT_EQ(4, stat_err(f, VMBUS_SERVER_E_GPADL_PFN));

	/* malformed headers: each answered with a failure */
	EXPECT_EQ(-EINVAL, raw_header(f, 1, 20, 17, 1, w, 2));	/* buflen */
	created_fail(_metadata, f, 1, 20);
	EXPECT_EQ(-EINVAL, raw_header(f, 1, 21, 16, 0, w, 2));	/* 0 ranges */
	created_fail(_metadata, f, 1, 21);
	EXPECT_EQ(-EINVAL, raw_header(f, 1, 22, 16, 2, w, 2));	/* too many */
	created_fail(_metadata, f, 1, 22);
	EXPECT_EQ(-EINVAL, raw_header(f, 1, 23, 16, 1, w, 3));	/* overfull */
	created_fail(_metadata, f, 1, 23);
	EXPECT_EQ(-EMSGSIZE, send_msg(f, (u8[19]){ VMBUS_MSG_GPADL_HEADER },
				      19));
	EXPECT_EQ(0, pending(f));
	/* not whole words: 20 + 12 bytes */
	EXPECT_EQ(-EINVAL, send_msg(f, odd_header, sizeof(odd_header)));
	created_fail(_metadata, f, 0, 0);
	/* malformed ranges, found once complete */
	/* an empty range (byte_count 0) before a good one */
	EXPECT_EQ(-EINVAL, raw_header(f, 1, 24, 32, 2,
				      (u64[]){ 0, 8192, 0x500, 0x501 }, 4));
	created_fail(_metadata, f, 1, 24);
	w[0] = 1 | 4096ULL << 32;		/* offset beyond the page */
	w[2] = 0x501;
	EXPECT_EQ(-EINVAL, raw_header(f, 1, 25, 24, 1, w, 3));
	created_fail(_metadata, f, 1, 25);
	w[0] = 4097;				/* spans 2 frames, has 1 */
	EXPECT_EQ(-EINVAL, raw_header(f, 1, 26, 16, 1, w, 2));
	created_fail(_metadata, f, 1, 26);
	w[0] = 4096;				/* a word left over */
	EXPECT_EQ(-EINVAL, raw_header(f, 1, 27, 24, 1, w, 3));
	created_fail(_metadata, f, 1, 27);
	w[0] = 0xffffffff | 4095ULL << 32;	/* huge: spans 1048577 */
	EXPECT_EQ(-EINVAL, raw_header(f, 1, 28, 16, 1, w, 2));
	created_fail(_metadata, f, 1, 28);
	EXPECT_EQ(10, stat_err(f, VMBUS_SERVER_E_GPADL_RANGE));

	/* unknown channel */
	w[0] = 4096;
	EXPECT_EQ(-ENOENT, raw_header(f, 9, 30, 16, 1, w, 2));
	created_fail(_metadata, f, 9, 30);
	EXPECT_EQ(-ENOENT, raw_header(f, 0, 30, 16, 1, w, 2));
	created_fail(_metadata, f, 0, 30);

	/* a body that brings more than is missing fails the GPADL */
	EXPECT_EQ(0, raw_header(f, 1, 31, 24, 1, w, 2));
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(-EINVAL, raw_body(f, 31, pfns, 2));
	created_fail(_metadata, f, 1, 31);
	/* later bodies for it, or any unknown handle: nothing to answer */
	EXPECT_EQ(-ENOENT, raw_body(f, 31, pfns, 1));
	EXPECT_EQ(-ENOENT, raw_body(f, 0xdead, pfns, 1));
	EXPECT_EQ(-EMSGSIZE, send_msg(f, (u8[16]){ VMBUS_MSG_GPADL_BODY },
				      16));
	/* a body of 12 bytes after its header: not whole words */
	EXPECT_EQ(0, raw_header(f, 1, 32, 32, 1, w, 2));
	odd_body[12] = 32;
	EXPECT_EQ(-EINVAL, send_msg(f, odd_body, sizeof(odd_body)));
	created_fail(_metadata, f, 1, 32);
	EXPECT_EQ(0, pending(f));

	/* a duplicate handle fails; the first one is untouched */
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 40, pfns, 1));
	EXPECT_EQ(-EEXIST, raw_header(f, 2, 40, 16, 1, w, 2));
	created_fail(_metadata, f, 2, 40);
	/* also while the first is still being assembled */
	w[0] = 2 * 4096;
	EXPECT_EQ(0, raw_header(f, 1, 41, 24, 1, w, 2));
	EXPECT_EQ(-EEXIST, raw_header(f, 1, 41, 16, 1, w, 2));
	created_fail(_metadata, f, 1, 41);
	EXPECT_EQ(0, raw_body(f, 41, pfns, 1));
	EXPECT_EQ(0, NEXT(f, struct vmbus_msg_gpadl_created,
			  VMBUS_MSG_GPADL_CREATED)->creation_status);

	/* limits: 4 GPADLs, 300 words */
	w[0] = 4096;
	frames(pfns, 300, 0x3000);
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 42, pfns, 200));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, gpadl(_metadata, f, 1, 43, pfns,
						   100));
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 43, pfns, 90));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, gpadl(_metadata, f, 2, 44, pfns,
						   1));
	EXPECT_EQ(2, stat_err(f, VMBUS_SERVER_E_GPADL_LIMIT));
	vmbus_server_get_stats(f->srv, &st);
	EXPECT_EQ(4, st.gpadls);
	EXPECT_EQ(2 + 3 + 201 + 91, st.gpadl_words);
	/* teardown frees room */
	EXPECT_EQ(0, teardown(f, 1, 42));
	torndown(_metadata, f, 42);
	EXPECT_EQ(0, gpadl(_metadata, f, 2, 44, pfns, 100));

	/* teardown: unknown handle, wrong channel, twice */
	EXPECT_EQ(-ENOENT, teardown(f, 1, 0xdead));
	EXPECT_EQ(-ENOENT, teardown(f, 1, 44));
	EXPECT_EQ(0, teardown(f, 2, 44));
	torndown(_metadata, f, 44);
	EXPECT_EQ(-ENOENT, teardown(f, 2, 44));
	/* of one being assembled */
	EXPECT_EQ(0, raw_header(f, 1, 45, 24, 1, w, 2));
	EXPECT_EQ(-EPROTO, teardown(f, 1, 45));
	for (i = 0; i < VMBUS_SERVER_E_COUNT; i++)
		EXPECT_EQ(f->bad[i], stat_err(f, i));
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, fake_end(f));
}

/* ---- open, close, modify, rescind ---- */

TEST(open_signal_modify_close)
{
	struct fake *f = fake_new(NULL);
	struct fchan *c = &f->chan[0];
	u8 ud[VMBUS_OFFER_USER_DEF_SIZE];
	const struct vmbus_msg_modifychannel_response *r;
	struct vmbus_msg_modifychannel mod = {
		.hdr.msgtype = VMBUS_MSG_MODIFYCHANNEL,
		.child_relid = 1,
		.target_vp = 3,
	};

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 1);
	ring_gpadl(_metadata, f, 1, 0xe1e10, 32);
	EXPECT_EQ(-ENOTCONN, vmbus_server_channel_signal(c->ch));

	ASSERT_EQ(0, open_chan(_metadata, f, 1, 0xe1e10, 16, 2));
	EXPECT_TRUE(c->open);
	EXPECT_EQ(0xe1e10, c->gpadl);
	EXPECT_EQ(32, c->pages);
	EXPECT_EQ(16, c->offset);
	EXPECT_EQ(2, c->vp);
	EXPECT_EQ(1, c->openid);
	EXPECT_EQ(0x1000 + 0xe1e10 % 64 * 0x400, c->pfns[0]);
	EXPECT_EQ(c->pfns[0] + 31, c->pfns[31]);
	memset(ud, 'u', sizeof(ud));
	EXPECT_EQ(0, memcmp(ud, c->userdata, sizeof(ud)));
	EXPECT_TRUE(vmbus_server_channel_is_open(c->ch));

	EXPECT_EQ(0, vmbus_server_channel_signal(c->ch));
	EXPECT_EQ(1, f->sig_relid);
	EXPECT_EQ(2, f->sig_vp);

	/* 5.3: MODIFYCHANNEL is answered */
	EXPECT_EQ(0, SEND(f, mod));
	r = NEXT(f, struct vmbus_msg_modifychannel_response,
		 VMBUS_MSG_MODIFYCHANNEL_RESPONSE);
	EXPECT_EQ(1, r->child_relid);
	EXPECT_EQ(0, r->status);
	EXPECT_EQ(3, vmbus_server_channel_target_vp(c->ch));
	vmbus_server_channel_signal(c->ch);
	EXPECT_EQ(3, f->sig_vp);
	/* the device may refuse */
	f->modify_ret = -EINVAL;
	mod.target_vp = 5;
	EXPECT_EQ(0, SEND(f, mod));
	r = NEXT(f, struct vmbus_msg_modifychannel_response,
		 VMBUS_MSG_MODIFYCHANNEL_RESPONSE);
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, r->status);
	EXPECT_EQ(3, vmbus_server_channel_target_vp(c->ch));

	/* Linux's vmbus_close_internal(): CLOSECHANNEL, then the teardown */
	EXPECT_EQ(0, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 1));
	EXPECT_EQ(0, pending(f));
	EXPECT_FALSE(c->open);
	EXPECT_EQ(1, c->closes);
	EXPECT_EQ(0, teardown(f, 1, 0xe1e10));
	torndown(_metadata, f, 0xe1e10);
	/* modify of a closed channel: answered with a failure */
	EXPECT_EQ(-EPROTO, SEND(f, mod));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL,
		  NEXT(f, struct vmbus_msg_modifychannel_response,
		       VMBUS_MSG_MODIFYCHANNEL_RESPONSE)->status);
	mod.child_relid = 77;
	EXPECT_EQ(-ENOENT, SEND(f, mod));
	EXPECT_EQ(77, NEXT(f, struct vmbus_msg_modifychannel_response,
			   VMBUS_MSG_MODIFYCHANNEL_RESPONSE)->child_relid);

	/* and it opens again */
	ring_gpadl(_metadata, f, 1, 0xe1e11, 4);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 0xe1e11, 2, 0));
	EXPECT_EQ(2, c->opens);
	EXPECT_EQ(0, fake_end(f));
}

TEST(modify_before_and_after_5_3)
{
	struct vmbus_msg_modifychannel mod = {
		.hdr.msgtype = VMBUS_MSG_MODIFYCHANNEL,
		.child_relid = 1,
		.target_vp = 1,
	};
	struct fake *f = fake_new(NULL);

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	/* 4.0 has no MODIFYCHANNEL */
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10);
	request_offers(_metadata, f, 1);
	ring_gpadl(_metadata, f, 1, 1, 4);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 2, 0));
	EXPECT_EQ(-EOPNOTSUPP, SEND(f, mod));
	EXPECT_EQ(0, f->chan[0].modifies);
	/* 5.2: done, without an answer (the guest expects none) */
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_2);
	request_offers(_metadata, f, 1);
	ring_gpadl(_metadata, f, 1, 1, 4);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 2, 0));
	EXPECT_EQ(0, SEND(f, mod));
	EXPECT_EQ(1, f->chan[0].modifies);
	EXPECT_EQ(1, vmbus_server_channel_target_vp(f->chan[0].ch));
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, fake_end(f));
}

TEST(before_win8_interrupts_go_to_vp0)
{
	struct fake *f = fake_new(NULL);

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN7);
	request_offers(_metadata, f, 1);
	ring_gpadl(_metadata, f, 1, 1, 4);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 2, 5));
	EXPECT_EQ(0, f->chan[0].vp);
	EXPECT_EQ(0, fake_end(f));
}

TEST(hostile_opens_and_closes)
{
	struct fake *f = fake_new(NULL);
	struct fchan *c = &f->chan[0];
	struct vmbus_msg_open m;
	u64 pfns[8];

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	ASSERT_NE(NULL, offer(f, 1, &type_a, 0, 0));
	ASSERT_NE(NULL, offer(f, 2, &type_a, 0, 0));	/* never offered */
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	/* before REQUESTOFFERS the guest knows no channel */
	m = open_msg(1, 1, 2, 0);
	EXPECT_EQ(-ENOENT, SEND(f, m));
	EXPECT_EQ(-ENOENT, raw_header(f, 1, 1, 16, 1,
				      (u64[]){ 4096, 0x500 }, 2));
	created_fail(_metadata, f, 1, 1);
	request_offers(_metadata, f, 3);

	ring_gpadl(_metadata, f, 1, 1, 8);
	ring_gpadl(_metadata, f, 2, 2, 8);
	/* unknown relids: no answer */
	m = open_msg(9, 1, 4, 0);
	EXPECT_EQ(-ENOENT, SEND(f, m));
	m = open_msg(0, 1, 4, 0);
	EXPECT_EQ(-ENOENT, SEND(f, m));
	m = open_msg(0xffffffff, 1, 4, 0);
	EXPECT_EQ(-ENOENT, SEND(f, m));
	EXPECT_EQ(0, pending(f));
	/* bad rings: answered with a failure, nothing opened */
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 99,
						       4, 0));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 2,
						       4, 0));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 1,
						       0, 0));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 1,
						       1, 0));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 1,
						       7, 0));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 1,
						       8, 0));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 1,
						       0xffffffff, 0));
	/* a ring too small, one not starting at the page, one in assembly */
	frames(pfns, 3, 0x600);
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 3, pfns, 3));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 3,
						       2, 0));
	EXPECT_EQ(0, raw_header(f, 1, 4, 40, 1,
				(u64[]){ (4 * 4096 - 8) | 8ULL << 32, 0x700,
					 0x701, 0x702, 0x703 }, 5));
	NEXT(f, struct vmbus_msg_gpadl_created, VMBUS_MSG_GPADL_CREATED);
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 4,
						       2, 0));
	EXPECT_EQ(0, raw_header(f, 1, 5, 48, 1, (u64[]){ 4 * 4096 }, 1));
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 5,
						       2, 0));
	EXPECT_EQ(0, c->opens);
	EXPECT_EQ(10, stat_err(f, VMBUS_SERVER_E_RING));

	/* the device refuses: a failure, and the ring can be used again */
	f->open_ret = -ENODEV;
	EXPECT_EQ(VMBUS_STATUS_UNSUCCESSFUL, open_chan(_metadata, f, 1, 1, 4,
						       0));
	EXPECT_FALSE(vmbus_server_channel_is_open(c->ch));
	f->open_ret = 0;
	EXPECT_EQ(0, open_chan(_metadata, f, 1, 1, 4, 0));

	/* a second open is out of order: ignored, the first one stands */
	m = open_msg(1, 2, 4, 1);
	EXPECT_EQ(-EPROTO, SEND(f, m));
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(1, c->opens);
	EXPECT_EQ(1, c->gpadl);
	/* releasing an open channel is out of order too */
	EXPECT_EQ(-EPROTO, relid_msg(f, VMBUS_MSG_RELID_RELEASED, 1));
	/* closing one that is not open, or unknown */
	EXPECT_EQ(-EPROTO, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 2));
	EXPECT_EQ(-ENOENT, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 9));
	EXPECT_EQ(-ENOENT, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 0));
	EXPECT_EQ(0, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 1));
	EXPECT_EQ(-EPROTO, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 1));
	EXPECT_EQ(1, c->closes);
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, fake_end(f));
}

TEST(teardown_of_a_used_gpadl_waits)
{
	struct vmbus_gpadl_ref ref;
	struct fake *f = fake_new(NULL);
	struct fchan *c = &f->chan[0];
	u64 pfns[4];

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 1);
	ring_gpadl(_metadata, f, 1, 1, 8);
	frames(pfns, 4, 0x900);
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 2, pfns, 4));
	EXPECT_EQ(-ENOTCONN, vmbus_server_gpadl_get(c->ch, 2, &ref));
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 4, 0));

	/* the ring of an open channel: TORNDOWN only after the close */
	EXPECT_EQ(0, teardown(f, 1, 1));
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(-EPROTO, teardown(f, 1, 1));
	EXPECT_EQ(-ENOENT, vmbus_server_gpadl_get(c->ch, 1, &ref));

	/* a buffer the device holds: TORNDOWN when it lets go */
	ASSERT_EQ(0, vmbus_server_gpadl_get(c->ch, 2, &ref));
	EXPECT_EQ(4, ref.npages);
	EXPECT_EQ(0x903, ref.words[4]);
	EXPECT_EQ(-ENOENT, vmbus_server_gpadl_get(c->ch, 3, &ref));
	EXPECT_EQ(0, teardown(f, 1, 2));
	EXPECT_EQ(0, pending(f));
	vmbus_server_gpadl_put(c->ch, 2);
	torndown(_metadata, f, 2);
	vmbus_server_gpadl_put(c->ch, 2);	/* once too often: ignored */

	EXPECT_EQ(0, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 1));
	torndown(_metadata, f, 1);
	EXPECT_EQ(0, pending(f));

	/* a device that puts its GPADL from ->chan_close() */
	ring_gpadl(_metadata, f, 1, 3, 8);
	EXPECT_EQ(0, gpadl(_metadata, f, 1, 4, pfns, 4));
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 3, 4, 0));
	ASSERT_EQ(0, vmbus_server_gpadl_get(c->ch, 4, &ref));
	c->put_in_close = 4;
	EXPECT_EQ(0, teardown(f, 1, 4));
	EXPECT_EQ(0, teardown(f, 1, 3));
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 1));
	torndown(_metadata, f, 4);
	torndown(_metadata, f, 3);
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, fake_end(f));
}

TEST(rescind_and_release)
{
	struct fake *f = fake_new(NULL);
	struct fchan *c = &f->chan[0];
	struct vmbus_msg_open m;
	struct vmbus_server_stats st;

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	ASSERT_NE(NULL, offer(f, 1, &type_b, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 2);
	ring_gpadl(_metadata, f, 1, 1, 8);
	ring_gpadl(_metadata, f, 1, 2, 8);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 4, 0));
	/* teardown pending at rescind: TORNDOWN goes out first */
	EXPECT_EQ(0, teardown(f, 1, 1));

	vmbus_server_rescind(c->ch);
	EXPECT_FALSE(c->open);
	EXPECT_EQ(1, c->closes);
	torndown(_metadata, f, 1);
	EXPECT_EQ(1, NEXT(f, struct vmbus_msg_relid,
			  VMBUS_MSG_RESCIND_CHANNELOFFER)->child_relid);
	EXPECT_EQ(0, c->frees);
	vmbus_server_rescind(c->ch);		/* twice: nothing more */
	EXPECT_EQ(0, pending(f));

	/* Linux's rescind path: close (ignored), open (ignored) */
	EXPECT_EQ(0, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 1));
	m = open_msg(1, 2, 4, 0);
	EXPECT_EQ(0, SEND(f, m));
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(1, c->opens);
	/* a GPADL on the rescinded channel still works, and its teardown */
	ring_gpadl(_metadata, f, 1, 3, 4);
	EXPECT_EQ(0, teardown(f, 1, 3));
	torndown(_metadata, f, 3);
	/* then the release: the channel and its GPADLs are gone */
	EXPECT_EQ(0, relid_msg(f, VMBUS_MSG_RELID_RELEASED, 1));
	EXPECT_EQ(1, c->frees);
	EXPECT_EQ(NULL, vmbus_server_channel_find(f->srv, 1));
	vmbus_server_get_stats(f->srv, &st);
	EXPECT_EQ(0, st.gpadls);
	EXPECT_EQ(-ENOENT, relid_msg(f, VMBUS_MSG_RELID_RELEASED, 1));
	EXPECT_EQ(0, pending(f));

	/* the relid is free for the next offer, which goes out at once */
	ASSERT_NE(NULL, offer(f, 2, &type_a, 0, 0));
	EXPECT_EQ(1, NEXT(f, struct vmbus_msg_offer, VMBUS_MSG_OFFERCHANNEL)->child_relid);

	/* a guest may give back an offer it could not use */
	EXPECT_EQ(0, relid_msg(f, VMBUS_MSG_RELID_RELEASED, 2));
	EXPECT_EQ(0, f->chan[1].frees);
	EXPECT_EQ(-ENOENT, relid_msg(f, VMBUS_MSG_RELID_RELEASED, 2));
	m = open_msg(2, 2, 4, 0);
	EXPECT_EQ(-ENOENT, SEND(f, m));
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, fake_end(f));
}

/* ---- unload, reconnect, queueing ---- */

TEST(unload_mid_traffic)
{
	struct vmbus_server_stats st;
	struct fake *f = fake_new(NULL);
	u64 pfns[60];
	unsigned int i;

	ASSERT_NE(NULL, f);
	for (i = 0; i < 3; i++)
		ASSERT_NE(NULL, offer(f, i, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 3);
	ring_gpadl(_metadata, f, 1, 1, 8);
	ring_gpadl(_metadata, f, 2, 2, 8);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 4, 0));
	ASSERT_EQ(0, open_chan(_metadata, f, 2, 2, 4, 0));
	/* a GPADL half sent, a rescinded channel, a deferred teardown */
	frames(pfns, 60, 0x5000);
	ASSERT_EQ(0, raw_header(f, 3, 3, 61 * 8, 1, pfns, 26));
	vmbus_server_rescind(f->chan[2].ch);
	NEXT(f, struct vmbus_msg_relid, VMBUS_MSG_RESCIND_CHANNELOFFER);
	EXPECT_EQ(0, teardown(f, 1, 1));
	/* the guest's slot is busy: what goes out now is queued */
	f->busy = true;
	vmbus_server_channel_signal(f->chan[0].ch);
	EXPECT_EQ(0, raw_header(f, 2, 4, 16, 1, (u64[]){ 4096, 0x500 }, 2));

	EXPECT_EQ(0, hdr_msg(f, VMBUS_MSG_UNLOAD));
	for (i = 0; i < 3; i++)
		EXPECT_FALSE(f->chan[i].open);
	EXPECT_EQ(1, f->chan[0].closes);
	EXPECT_EQ(1, f->chan[1].closes);
	EXPECT_EQ(1, f->chan[2].frees);
	EXPECT_EQ(0, f->version);
	vmbus_server_get_stats(f->srv, &st);
	EXPECT_EQ(0, st.gpadls);
	EXPECT_EQ(2, st.queued);
	/* the queue drains in order: GPADL_CREATED, then UNLOAD_RESPONSE */
	vmbus_server_retry(f->srv);
	EXPECT_EQ(0, pending(f));
	f->busy = false;
	vmbus_server_retry(f->srv);
	NEXT(f, struct vmbus_msg_gpadl_created, VMBUS_MSG_GPADL_CREATED);
	NEXT(f, struct vmbus_msg_hdr, VMBUS_MSG_UNLOAD_RESPONSE);
	EXPECT_EQ(0, pending(f));

	/* disconnected now: channel messages are refused, UNLOAD too */
	EXPECT_EQ(-ENOTCONN, relid_msg(f, VMBUS_MSG_CLOSECHANNEL, 1));
	EXPECT_EQ(-ENOTCONN, hdr_msg(f, VMBUS_MSG_UNLOAD));
	EXPECT_EQ(0, pending(f));
	/* a new connection sees the same relids (the rescinded one gone) */
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	ASSERT_EQ(0, hdr_msg(f, VMBUS_MSG_REQUESTOFFERS));
	EXPECT_EQ(1, NEXT(f, struct vmbus_msg_offer, VMBUS_MSG_OFFERCHANNEL)->child_relid);
	EXPECT_EQ(2, NEXT(f, struct vmbus_msg_offer, VMBUS_MSG_OFFERCHANNEL)->child_relid);
	NEXT(f, struct vmbus_msg_hdr, VMBUS_MSG_ALLOFFERS_DELIVERED);
	ring_gpadl(_metadata, f, 1, 1, 8);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 4, 0));
	EXPECT_EQ(0, fake_end(f));
}

TEST(initiate_contact_again_resets)
{
	struct vmbus_server_stats st;
	struct fake *f = fake_new(NULL);

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 1);
	ring_gpadl(_metadata, f, 1, 1, 8);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 4, 0));
	/* queued messages of the old connection are not delivered */
	f->busy = true;
	vmbus_server_rescind(f->chan[0].ch);
	EXPECT_EQ(1, f->chan[0].closes);
	f->busy = false;
	/* a kexec'd kernel starts over without UNLOAD */
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_2);
	EXPECT_EQ(1, f->chan[0].frees);
	EXPECT_EQ(3, f->state_changes);	/* up, down, up */
	vmbus_server_get_stats(f->srv, &st);
	EXPECT_EQ(0, st.gpadls);
	EXPECT_EQ(0, st.queued);
	EXPECT_EQ(1, st.dropped);
	request_offers(_metadata, f, 0);
	EXPECT_EQ(0, fake_end(f));
}

TEST(queue_order_limit_and_errors)
{
	struct vmbus_server_config cfg = { .max_queued = 3 };
	struct vmbus_server_stats st;
	struct fake *f = fake_new(&cfg);
	unsigned int i;
	u64 pfns[8];

	ASSERT_NE(NULL, f);
	for (i = 0; i < 5; i++)
		ASSERT_NE(NULL, offer(f, i, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	f->busy = true;
	/* 5 offers + ALLOFFERS_DELIVERED; 3 fit */
	EXPECT_EQ(0, hdr_msg(f, VMBUS_MSG_REQUESTOFFERS));
	vmbus_server_get_stats(f->srv, &st);
	EXPECT_EQ(3, st.queued);
	EXPECT_EQ(3, st.dropped);
	EXPECT_EQ(3, f->bad[VMBUS_SERVER_E_QUEUE_FULL]);
	f->busy = false;
	vmbus_server_retry(f->srv);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(i + 1, NEXT(f, struct vmbus_msg_offer,
				      VMBUS_MSG_OFFERCHANNEL)->child_relid);
	EXPECT_EQ(0, pending(f));
	/* a hard post error drops the message */
	f->post_err = -EINVAL;
	frames(pfns, 8, 0x800);
	EXPECT_EQ(-1, gpadl(_metadata, f, 1, 1, pfns, 8));
	EXPECT_EQ(1, f->bad[VMBUS_SERVER_E_POST]);
	f->post_err = 0;
	/* while anything waits, a free slot does not let others overtake */
	f->busy = true;
	vmbus_server_rescind(f->chan[4].ch);
	f->busy = false;
	vmbus_server_rescind(f->chan[3].ch);
	EXPECT_EQ(0, pending(f));
	vmbus_server_retry(f->srv);
	EXPECT_EQ(5, NEXT(f, struct vmbus_msg_relid,
			  VMBUS_MSG_RESCIND_CHANNELOFFER)->child_relid);
	EXPECT_EQ(4, NEXT(f, struct vmbus_msg_relid,
			  VMBUS_MSG_RESCIND_CHANNELOFFER)->child_relid);
	/* a hard error when a queued message is retried drops it */
	f->busy = true;
	vmbus_server_rescind(f->chan[1].ch);
	f->busy = false;
	f->post_err = -EIO;
	vmbus_server_retry(f->srv);
	EXPECT_EQ(2, f->bad[VMBUS_SERVER_E_POST]);
	f->post_err = 0;
	vmbus_server_get_stats(f->srv, &st);
	EXPECT_EQ(0, st.queued);
	/* an allocation failure while queueing drops it too */
	f->busy = true;
	f->fail_allocs_in = 1;
	vmbus_server_rescind(f->chan[2].ch);
	EXPECT_EQ(1, f->bad[VMBUS_SERVER_E_NOMEM]);
	f->busy = false;
	vmbus_server_retry(f->srv);
	EXPECT_EQ(0, pending(f));
	/* ... and one while assembling a GPADL fails it */
	f->fail_allocs_in = 1;
	EXPECT_EQ(-ENOMEM, raw_header(f, 1, 2, 16, 1, (u64[]){ 4096, 0x500 },
				      2));
	created_fail(_metadata, f, 1, 2);
	EXPECT_EQ(0, fake_end(f));
}

/* ---- garbage ---- */

/* Every guest -> root type, at a size it may have. */
static const struct {
	u32 type;
	u32 size;
	bool fixed;
} guest_msgs[] = {
	{ VMBUS_MSG_REQUESTOFFERS, 8, true },
	{ VMBUS_MSG_OPENCHANNEL, sizeof(struct vmbus_msg_open), true },
	{ VMBUS_MSG_CLOSECHANNEL, sizeof(struct vmbus_msg_relid), true },
	{ VMBUS_MSG_GPADL_HEADER, 36, false },
	{ VMBUS_MSG_GPADL_BODY, 24, false },
	{ VMBUS_MSG_GPADL_TEARDOWN, sizeof(struct vmbus_msg_gpadl_teardown),
	  true },
	{ VMBUS_MSG_RELID_RELEASED, sizeof(struct vmbus_msg_relid), true },
	{ VMBUS_MSG_UNLOAD, 8, true },
	{ VMBUS_MSG_MODIFYCHANNEL, sizeof(struct vmbus_msg_modifychannel),
	  true },
};

TEST(messages_before_initiate_contact)
{
	u8 m[VMBUS_MSG_MAX_SIZE] = {};
	struct fake *f = fake_new(NULL);
	unsigned int i;

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	m[8] = 1;	/* relid 1 where there is one */
	for (i = 0; i < ARRAY_SIZE(guest_msgs); i++) {
		memcpy(m, &guest_msgs[i].type, 4);
		EXPECT_EQ(-ENOTCONN, send_msg(f, m, guest_msgs[i].size));
	}
	EXPECT_EQ(ARRAY_SIZE(guest_msgs),
		  stat_err(f, VMBUS_SERVER_E_NOT_CONNECTED));
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, fake_end(f));
}

TEST(wrong_sizes_and_types)
{
	u8 m[VMBUS_MSG_MAX_SIZE + 16] = {};
	static const u32 unknown[] = { 0, 18, 19, 20, 21, 25, 26, 0x100,
				       0x80000000, 0xffffffff };
	static const u32 root_only[] = { 1, 2, 4, 6, 10, 12, 15, 17, 23, 24 };
	struct fake *f = fake_new(NULL);
	unsigned int i, len;

	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, offer(f, 0, &type_a, 0, 0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 1);
	ring_gpadl(_metadata, f, 1, 1, 8);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 4, 0));

	/* one byte short and one byte long of each fixed size */
	for (i = 0; i < ARRAY_SIZE(guest_msgs); i++) {
		if (!guest_msgs[i].fixed)
			continue;
		memset(m, 0, sizeof(m));
		memcpy(m, &guest_msgs[i].type, 4);
		m[8] = 1;
		m[12] = 1;
		len = guest_msgs[i].size;
		EXPECT_EQ(-EMSGSIZE, send_msg(f, m, len - 1));
		EXPECT_EQ(-EMSGSIZE, send_msg(f, m, len + 1));
		EXPECT_EQ(-EMSGSIZE, send_msg(f, m, VMBUS_MSG_MAX_SIZE));
	}
	/* INITIATE_CONTACT one byte short; anything beyond 240; headers cut */
	m[0] = VMBUS_MSG_INITIATE_CONTACT;
	EXPECT_EQ(-EMSGSIZE, send_msg(f, m, 39));
	EXPECT_EQ(-EMSGSIZE, send_msg(f, m, VMBUS_MSG_MAX_SIZE + 1));
	for (len = 0; len < 8; len++)
		EXPECT_EQ(-EMSGSIZE, send_msg(f, m, len));
	EXPECT_EQ(-EMSGSIZE, send_msg(f, NULL, 0));
	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		memcpy(m, &unknown[i], 4);
		EXPECT_EQ(-EOPNOTSUPP, send_msg(f, m, 32));
	}
	for (i = 0; i < ARRAY_SIZE(root_only); i++) {
		memcpy(m, &root_only[i], 4);
		EXPECT_EQ(-EOPNOTSUPP, send_msg(f, m, 32));
	}
	EXPECT_EQ(ARRAY_SIZE(root_only),
		  stat_err(f, VMBUS_SERVER_E_ROOT_ONLY));
	EXPECT_EQ(ARRAY_SIZE(unknown), stat_err(f, VMBUS_SERVER_E_TYPE));
	EXPECT_EQ(0, pending(f));
	/* none of it disturbed the open channel */
	EXPECT_TRUE(f->chan[0].open);
	EXPECT_EQ(0, vmbus_server_channel_signal(f->chan[0].ch));
	EXPECT_STREQ("message too short",
		     vmbus_server_err_name(VMBUS_SERVER_E_SHORT));
	EXPECT_STREQ("?", vmbus_server_err_name(VMBUS_SERVER_E_COUNT));
	EXPECT_EQ(0, fake_end(f));
}

static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u32 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * Random messages with a plausible type, relid and handle, on a server
 * with channels open and GPADLs around: whatever happens, no crash, the
 * invariants hold after every message, and every reply is one the root
 * may send.
 */
TEST(random_garbage)
{
	static const u32 reply_ok = 1 << VMBUS_MSG_OFFERCHANNEL |
		1 << VMBUS_MSG_RESCIND_CHANNELOFFER |
		1 << VMBUS_MSG_ALLOFFERS_DELIVERED |
		1 << VMBUS_MSG_OPENCHANNEL_RESULT |
		1 << VMBUS_MSG_GPADL_CREATED | 1 << VMBUS_MSG_GPADL_TORNDOWN |
		1 << VMBUS_MSG_VERSION_RESPONSE |
		1 << VMBUS_MSG_UNLOAD_RESPONSE |
		1 << VMBUS_MSG_MODIFYCHANNEL_RESPONSE;
	u32 m[VMBUS_MSG_MAX_SIZE / 4];
	struct fake *f = fake_new(NULL);
	unsigned int i, j, len;

	ASSERT_NE(NULL, f);
	for (i = 0; i < 4; i++)
		ASSERT_NE(NULL, offer(f, i, &type_a, i & 1, 0));
	for (i = 0; i < 200000; i++) {
		if (i % 5000 == 0) {
			f->busy = false;
			vmbus_server_retry(f->srv);
			f->rd = 0;
			f->nout = 0;
			connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
			request_offers(_metadata, f, 4);
			ring_gpadl(_metadata, f, 1, 1, 8);
			ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 4, 0));
		}
		for (j = 0; j < ARRAY_SIZE(m); j++)
			m[j] = rng() % 4 ? rng() % 8 : rng();
		m[0] = rng() % 8 ? rng() % 26 : rng();
		if (rng() % 4)
			m[2] = rng() % 6;
		if (rng() % 2)	/* GPADL_HEADER: range_buflen, rangecount */
			m[4] = (rng() % 64) * 8 | (rng() % 4) << 16;
		len = rng() % 3 ? rng() % (VMBUS_MSG_MAX_SIZE + 1) :
			(u32[]){ 8, 12, 16, 20, 40, 148 }[rng() % 6];
		if (rng() % 64 == 0) {
			m[0] = VMBUS_MSG_UNLOAD;
			len = 8;
		}
		f->busy = rng() % 16 == 0;
		send_msg(f, m, len);
		if (rng() % 8 == 0) {
			f->busy = false;
			vmbus_server_retry(f->srv);
		}
		ASSERT_EQ(0, f->check) TH_LOG("step %u", i);
		ASSERT_EQ(0, f->violations);
		while (f->rd < f->nout) {
			u32 t = type_of(&f->out[f->rd++]);

			ASSERT_TRUE(t < 32 && (reply_ok >> t & 1));
		}
		f->rd = 0;
		f->nout = 0;
	}
	EXPECT_EQ(0, fake_end(f));
}

TEST(destroy_closes_and_frees_everything)
{
	struct fake *f = fake_new(NULL);
	unsigned int i;

	ASSERT_NE(NULL, f);
	for (i = 0; i < 3; i++)
		ASSERT_NE(NULL, offer(f, i, &type_a, VMBUS_CHANNEL_F_MONITORED,
				      0));
	connect_ok(_metadata, f, VMBUS_VERSION_WIN10_V5_3);
	request_offers(_metadata, f, 3);
	ring_gpadl(_metadata, f, 1, 1, 8);
	ASSERT_EQ(0, open_chan(_metadata, f, 1, 1, 4, 0));
	f->busy = true;
	vmbus_server_rescind(f->chan[2].ch);
	/* fake_end() checks: closed, freed, nothing allocated, no message */
	vmbus_server_destroy(f->srv);
	f->srv = NULL;
	for (i = 0; i < 3; i++)
		EXPECT_EQ(1, f->chan[i].frees);
	EXPECT_EQ(1, f->chan[0].closes);
	EXPECT_EQ(0, f->live_allocs);
	EXPECT_EQ(0, pending(f));
	EXPECT_EQ(0, f->violations);
	free(f);
}

TEST(create_fails_cleanly)
{
	struct vmbus_server_ops ops = fk_ops;
	struct vmbus_server *srv;
	struct fake *f = calloc(1, sizeof(*f));

	ASSERT_NE(NULL, f);
	f->fail_allocs_in = 2;		/* the channel table */
	EXPECT_EQ(-ENOMEM, vmbus_server_create(&fk_ops, f, NULL, &srv));
	EXPECT_EQ(0, f->live_allocs);
	f->fail_allocs_in = 1;		/* the server itself */
	EXPECT_EQ(-ENOMEM, vmbus_server_create(&fk_ops, f, NULL, &srv));
	ops.gpa_ok = NULL;
	EXPECT_EQ(-EINVAL, vmbus_server_create(&ops, f, NULL, &srv));
	ops = fk_ops;
	ops.free = NULL;
	EXPECT_EQ(-EINVAL, vmbus_server_create(&ops, f, NULL, &srv));
	/* without allocator hooks: malloc() */
	ops.alloc = NULL;
	ASSERT_EQ(0, vmbus_server_create(&ops, f, NULL, &srv));
	vmbus_server_destroy(srv);
	free(f);
}

TEST_HARNESS_MAIN
