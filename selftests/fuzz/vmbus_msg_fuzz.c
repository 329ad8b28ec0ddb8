// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the VMBus channel-management server
 * (vmbus/server*.c): arbitrary sequences of guest messages, interleaved
 * with what the root does meanwhile (offers, rescinds, a busy SINT slot,
 * failing allocations, devices taking and dropping GPADLs), against a
 * fake embedder. Built by the top-level Makefile's build/fuzz/
 * vmbus_msg_fuzz target; scripts/fuzz.sh runs it from the seeds in
 * selftests/fuzz/corpus/vmbus_msg/.
 *
 * Input: byte 0 sets up (bit 0: small limits; bit 1: connect at a
 * version picked by byte 1; bit 2: three channels offered; bit 3:
 * REQUESTOFFERS), then operations, an opcode byte and its arguments each
 * (missing bytes read as 0):
 *   0, 1  a raw message: length byte (up to 255), type byte (below 0xe0:
 *         type % 26; else 4 bytes of type follow), then its bytes
 *   2     a GPADL as Linux sends it: relid, handle, pages - 1, first
 *         frame / 16, a word to corrupt (0: none) and its new low byte
 *   3     OPENCHANNEL: relid, ring GPADL handle, downstream offset, VP
 *   4     a small message: which, relid, handle or version
 *   5     the root offers a channel, or rescinds one
 *   6     the embedder: slot busy, retry, post errors, open refusals,
 *         an allocation fails (the next one)
 *   7     a device takes, drops a GPADL, or signals its channel
 * Relids and handles are taken modulo small numbers so they collide.
 *
 * Checked after every step, besides what ASan and UBSan catch (each
 * message is a heap block of exactly its length): the server's
 * invariants (vmbus_server_check()); every message it posts is a
 * root-to-guest type of exactly its size; ->chan_open() and
 * ->chan_close() alternate per channel, nothing is freed while open, no
 * callback names a freed channel; at the end, after destroy, every
 * channel is closed and freed and every allocation given back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmbus/server_int.h"

#define NCH	12
#define NHELD	8

struct fch {
	bool live, open;
	struct vmbus_server_channel *ch;
	u32 held[NHELD];
	unsigned int nheld;
};

/* Sums of arrays the server hands out: every element is read. */
u64 vmbus_msg_fuzz_sink;

struct fz {
	struct vmbus_server *srv;
	const u8 *p, *end;
	bool busy;
	int post_err, open_ret;
	bool fail_alloc;
	long live_allocs;
	struct fch ch[NCH];
};

static void fz_die(const char *why)
{
	fprintf(stderr, "vmbus_msg_fuzz: %s\n", why);
	abort();
}

/* The size of each root -> guest message. */
static const u8 root_sizes[VMBUS_MSG_COUNT] = {
	[VMBUS_MSG_OFFERCHANNEL] = sizeof(struct vmbus_msg_offer),
	[VMBUS_MSG_RESCIND_CHANNELOFFER] = sizeof(struct vmbus_msg_relid),
	[VMBUS_MSG_ALLOFFERS_DELIVERED] = sizeof(struct vmbus_msg_hdr),
	[VMBUS_MSG_OPENCHANNEL_RESULT] = sizeof(struct vmbus_msg_open_result),
	[VMBUS_MSG_GPADL_CREATED] = sizeof(struct vmbus_msg_gpadl_created),
	[VMBUS_MSG_GPADL_TORNDOWN] = sizeof(struct vmbus_msg_gpadl_torndown),
	[VMBUS_MSG_VERSION_RESPONSE] =
		sizeof(struct vmbus_msg_version_response),
	[VMBUS_MSG_UNLOAD_RESPONSE] = sizeof(struct vmbus_msg_hdr),
	[VMBUS_MSG_MODIFYCHANNEL_RESPONSE] =
		sizeof(struct vmbus_msg_modifychannel_response),
};

static int fz_post(void *ctx, u32 vp, u8 sint, const void *msg, u32 size)
{
	struct fz *z = ctx;
	u32 type;

	if (size < sizeof(struct vmbus_msg_hdr) || size > VMBUS_MSG_MAX_SIZE)
		fz_die("posted size");
	memcpy(&type, msg, sizeof(type));
	if (type >= VMBUS_MSG_COUNT || root_sizes[type] != size)
		fz_die("posted type or size");
	if (sint != VMBUS_MESSAGE_SINT)
		fz_die("posted SINT");
	if (z->busy)
		return -EAGAIN;
	return z->post_err;
}

static void fz_signal(void *ctx, u32 relid, u32 vp)
{
	struct fz *z = ctx;
	struct vmbus_server_channel *ch = vmbus_server_channel_find(z->srv,
								     relid);

	if (!ch || !vmbus_server_channel_is_open(ch))
		fz_die("signal of a channel not open");
}

static bool fz_gpa_ok(void *ctx, u64 gfn)
{
	return gfn >= 0x10 && gfn < 0x100000 && gfn != 0x1234;
}

static struct fch *fz_ch(struct fz *z, struct vmbus_server_channel *ch)
{
	struct fch *c = vmbus_server_channel_ctx(ch);

	if (c < z->ch || c >= z->ch + NCH || !c->live || c->ch != ch)
		fz_die("callback for an unknown channel");
	return c;
}

static int fz_open(void *ctx, struct vmbus_server_channel *ch,
		   const struct vmbus_open_params *p)
{
	struct fz *z = ctx;
	struct fch *c = fz_ch(z, ch);
	u32 i;

	if (c->open)
		fz_die("open of an open channel");
	if (p->ring_pages < 4 || p->downstream_offset < 2 ||
	    p->downstream_offset > p->ring_pages - 2)
		fz_die("bad ring accepted");
	for (i = 0; i < p->ring_pages; i++)	/* ASan: all readable */
		vmbus_msg_fuzz_sink += p->ring_pfns[i] + p->userdata[i % 120];
	if (z->open_ret)
		return z->open_ret;
	c->open = true;
	return 0;
}

static void fz_put_all(struct fch *c)
{
	while (c->nheld)
		vmbus_server_gpadl_put(c->ch, c->held[--c->nheld]);
}

static void fz_close(void *ctx, struct vmbus_server_channel *ch)
{
	struct fz *z = ctx;
	struct fch *c = fz_ch(z, ch);

	if (!c->open)
		fz_die("close of a closed channel");
	c->open = false;
	fz_put_all(c);
}

static int fz_modify(void *ctx, struct vmbus_server_channel *ch, u32 vp)
{
	struct fz *z = ctx;

	if (!fz_ch(z, ch)->open)
		fz_die("modify of a closed channel");
	return vp == 7 ? -EINVAL : 0;
}

static void fz_freed(void *ctx, struct vmbus_server_channel *ch)
{
	struct fz *z = ctx;
	struct fch *c = fz_ch(z, ch);

	if (c->open)
		fz_die("freed while open");
	c->live = false;
	c->ch = NULL;
}

static void fz_state(void *ctx, u32 version)
{
	struct fz *z = ctx;
	struct vmbus_server_conn conn;

	vmbus_server_get_conn(z->srv, &conn);
	if (conn.version != version)
		fz_die("state change");
}

static void fz_bad(void *ctx, enum vmbus_server_err err, u32 type)
{
	if ((unsigned int)err >= VMBUS_SERVER_E_COUNT)
		fz_die("bad error code");
}

static void *fz_alloc(void *ctx, size_t size)
{
	struct fz *z = ctx;
	void *p;

	if (z->fail_alloc) {
		z->fail_alloc = false;
		return NULL;
	}
	p = malloc(size);
	if (p) {
		memset(p, 0xa5, size);
		z->live_allocs++;
	}
	return p;
}

static void fz_free(void *ctx, void *p)
{
	struct fz *z = ctx;

	z->live_allocs--;
	free(p);
}

static const struct vmbus_server_ops fz_ops = {
	.post_message = fz_post,
	.signal_channel = fz_signal,
	.gpa_ok = fz_gpa_ok,
	.chan_open = fz_open,
	.chan_close = fz_close,
	.chan_modify = fz_modify,
	.chan_freed = fz_freed,
	.state_changed = fz_state,
	.bad_msg = fz_bad,
	.alloc = fz_alloc,
	.free = fz_free,
};

static u8 fz_byte(struct fz *z)
{
	return z->p < z->end ? *z->p++ : 0;
}

/* Hand @len bytes to the server in a heap block of exactly that size. */
static void fz_send(struct fz *z, const void *msg, size_t len)
{
	void *copy = malloc(len ? len : 1);

	memcpy(copy, msg, len);
	vmbus_server_handle_message(z->srv, copy, len);
	free(copy);
}

static const u32 fz_versions[] = {
	VMBUS_VERSION_WIN10_V5_3, VMBUS_VERSION_WIN10_V5_2,
	VMBUS_VERSION_WIN10_V5_1, VMBUS_VERSION_WIN10_V5,
	VMBUS_VERSION_WIN10_V4_1, VMBUS_VERSION_WIN10, VMBUS_VERSION_WIN8_1,
	VMBUS_VERSION_WIN8, VMBUS_VERSION_WIN7, VMBUS_VERSION_WS2008,
	VMBUS_VERSION(6, 0),
};

static void fz_contact(struct fz *z, u8 which)
{
	u32 v = fz_versions[which % ARRAY_SIZE(fz_versions)];
	struct vmbus_msg_initiate_contact m = {
		.hdr.msgtype = VMBUS_MSG_INITIATE_CONTACT,
		.vmbus_version_requested = v,
		.target_vcpu = which >> 6,
		.target_info = v >= VMBUS_VERSION_WIN10_V5 ?
			       VMBUS_MESSAGE_SINT : 0x6000,
		.monitor_page1 = which & 0x20 ? 0 : 0x7000,
		.monitor_page2 = which & 0x10 ? 0 : 0x8000,
	};

	fz_send(z, &m, sizeof(m));
}

static void fz_offer(struct fz *z, u8 arg)
{
	struct vmbus_offer_params p = {
		.flags = arg & 1 ? VMBUS_CHANNEL_F_MONITORED : 0,
		.sub_channel_index = arg >> 5,
	};
	guid_t type = { { arg } };
	unsigned int i;

	for (i = 0; i < NCH; i++) {
		if (z->ch[i].live)
			continue;
		memset(&z->ch[i], 0, sizeof(z->ch[i]));
		if (vmbus_server_offer(z->srv, &type, &type, &p, &z->ch[i],
				       &z->ch[i].ch))
			return;
		z->ch[i].live = true;
		return;
	}
}

/* Linux's create_gpadl_header(): 26 frames in the header, 28 per body. */
static void fz_gpadl(struct fz *z)
{
	u32 relid = fz_byte(z) % 10, handle = fz_byte(z) % 8;
	u32 n = fz_byte(z) + 1, i, k, sent;
	u64 first = (u64)fz_byte(z) * 16, words[257];
	u8 bad = fz_byte(z), val = fz_byte(z);
	union {
		struct vmbus_msg_gpadl_header h;
		struct vmbus_msg_gpadl_body b;
		u8 raw[VMBUS_MSG_MAX_SIZE];
	} m;

	words[0] = (u64)n * 4096;
	for (i = 0; i < n; i++)
		words[1 + i] = first + i;
	if (bad)
		words[bad % (n + 1)] ^= val;

	memset(&m, 0, sizeof(m));
	m.h.hdr.msgtype = VMBUS_MSG_GPADL_HEADER;
	m.h.child_relid = relid;
	m.h.gpadl = handle;
	m.h.rangecount = 1;
	m.h.range_buflen = (n + 1) * 8;
	k = n + 1 < 27 ? n + 1 : 27;
	memcpy(m.h.range, words, k * 8);
	fz_send(z, &m, sizeof(m.h) + k * 8);
	for (sent = k; sent < n + 1; sent += k) {
		k = n + 1 - sent < 28 ? n + 1 - sent : 28;
		memset(&m, 0, sizeof(m));
		m.b.hdr.msgtype = VMBUS_MSG_GPADL_BODY;
		m.b.gpadl = handle;
		memcpy(m.b.pfn, words + sent, k * 8);
		fz_send(z, &m, sizeof(m.b) + k * 8);
	}
}

static void fz_open_msg(struct fz *z)
{
	struct vmbus_msg_open m = {
		.hdr.msgtype = VMBUS_MSG_OPENCHANNEL,
	};

	m.child_relid = fz_byte(z) % 10;
	m.openid = m.child_relid;
	m.ringbuffer_gpadlhandle = fz_byte(z) % 8;
	m.downstream_ringbuffer_pageoffset = fz_byte(z);
	m.target_vp = fz_byte(z) % 8;
	fz_send(z, &m, sizeof(m));
}

static void fz_small_msg(struct fz *z)
{
	u8 which = fz_byte(z), relid = fz_byte(z) % 10, arg = fz_byte(z);
	struct vmbus_msg_gpadl_teardown td = {
		.hdr.msgtype = VMBUS_MSG_GPADL_TEARDOWN,
		.child_relid = relid,
		.gpadl = arg % 8,
	};
	struct vmbus_msg_modifychannel mod = {
		.hdr.msgtype = VMBUS_MSG_MODIFYCHANNEL,
		.child_relid = relid,
		.target_vp = arg % 8,
	};
	struct vmbus_msg_relid rel = { .child_relid = relid };
	struct vmbus_msg_hdr hdr = {};

	switch (which % 8) {
	case 0:
		rel.hdr.msgtype = VMBUS_MSG_CLOSECHANNEL;
		fz_send(z, &rel, sizeof(rel));
		break;
	case 1:
		rel.hdr.msgtype = VMBUS_MSG_RELID_RELEASED;
		fz_send(z, &rel, sizeof(rel));
		break;
	case 2:
		fz_send(z, &td, sizeof(td));
		break;
	case 3:
		fz_send(z, &mod, sizeof(mod));
		break;
	case 4:
		hdr.msgtype = VMBUS_MSG_REQUESTOFFERS;
		fz_send(z, &hdr, sizeof(hdr));
		break;
	case 5:
		hdr.msgtype = VMBUS_MSG_UNLOAD;
		fz_send(z, &hdr, sizeof(hdr));
		break;
	default:
		fz_contact(z, arg);
		break;
	}
}

static void fz_raw(struct fz *z)
{
	u8 buf[256] = {};
	u32 len = fz_byte(z), type = fz_byte(z), i;

	if (type >= 0xe0)
		for (type = 0, i = 0; i < 4; i++)
			type |= (u32)fz_byte(z) << (8 * i);
	else
		type %= 26;
	memcpy(buf, &type, sizeof(type));
	for (i = 4; i < len; i++)
		buf[i] = fz_byte(z);
	fz_send(z, buf, len);
}

static void fz_root(struct fz *z)
{
	u8 arg = fz_byte(z), idx = fz_byte(z) % NCH;

	if (arg & 1) {
		fz_offer(z, arg >> 1);
	} else if (z->ch[idx].live) {
		/* rescinding twice is allowed and does nothing */
		vmbus_server_rescind(z->ch[idx].ch);
	}
}

static void fz_embedder(struct fz *z)
{
	u8 arg = fz_byte(z);

	z->busy = arg & 1;
	if (arg & 2)
		vmbus_server_retry(z->srv);
	z->post_err = arg & 4 ? -EIO : 0;
	z->open_ret = arg & 8 ? -ENODEV : 0;
	z->fail_alloc |= arg & 16;	/* until an allocation fails */
}

static void fz_device(struct fz *z)
{
	u8 arg = fz_byte(z), idx = fz_byte(z) % NCH, handle = fz_byte(z) % 8;
	struct fch *c = &z->ch[idx];
	struct vmbus_gpadl_ref ref;
	u32 i;
	int ret;

	if (!c->live)
		return;
	switch (arg % 3) {
	case 0:
		if (c->nheld == NHELD ||
		    vmbus_server_gpadl_get(c->ch, handle, &ref))
			break;
		if (ref.nwords < 2 || ref.npages >= ref.nwords)
			fz_die("GPADL reference");
		for (i = 0; i < ref.nwords; i++)	/* ASan: readable */
			vmbus_msg_fuzz_sink += ref.words[i];
		c->held[c->nheld++] = handle;
		break;
	case 1:
		if (c->nheld)
			vmbus_server_gpadl_put(c->ch, c->held[--c->nheld]);
		break;
	default:
		ret = vmbus_server_channel_signal(c->ch);
		if (c->open ? ret : ret != -ENOTCONN)
			fz_die("signal");
		break;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct vmbus_server_config small = {
		.max_channels = 6, .max_gpadls = 5, .max_gpadl_words = 600,
		.max_queued = 4,
	};
	struct vmbus_server_config big = { .max_channels = 16 };
	struct fz z = { .p = data, .end = data + size };
	u8 setup = fz_byte(&z), ver = fz_byte(&z);
	unsigned int i;
	int bad;

	if (vmbus_server_create(&fz_ops, &z, setup & 1 ? &small : &big,
				&z.srv))
		fz_die("create");
	if (setup & 4)
		for (i = 0; i < 3; i++)
			fz_offer(&z, i);
	if (setup & 2)
		fz_contact(&z, ver);
	if (setup & 8) {
		struct vmbus_msg_hdr h = { .msgtype = VMBUS_MSG_REQUESTOFFERS };

		fz_send(&z, &h, sizeof(h));
	}
	while (z.p < z.end) {
		switch (fz_byte(&z) % 8) {
		case 0:
		case 1:
			fz_raw(&z);
			break;
		case 2:
			fz_gpadl(&z);
			break;
		case 3:
			fz_open_msg(&z);
			break;
		case 4:
			fz_small_msg(&z);
			break;
		case 5:
			fz_root(&z);
			break;
		case 6:
			fz_embedder(&z);
			break;
		default:
			fz_device(&z);
			break;
		}
		bad = vmbus_server_check(z.srv);
		if (bad) {
			fprintf(stderr, "vmbus_server_check.c:%d\n", -bad);
			fz_die("invariant broken");
		}
	}
	z.busy = false;
	vmbus_server_retry(z.srv);
	vmbus_server_destroy(z.srv);
	for (i = 0; i < NCH; i++)
		if (z.ch[i].live || z.ch[i].open)
			fz_die("channel left behind");
	if (z.live_allocs)
		fz_die("leak");
	return 0;
}
