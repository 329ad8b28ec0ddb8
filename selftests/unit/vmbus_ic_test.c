// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the integration services (tools/libvid/vmbus_ic.c) and
 * the userspace channel helper under them (tools/libvid/vmbus_chan.c),
 * built as userspace C under ASan and UBSan.
 *
 * The host side is the real code: the providers on a local channel whose
 * rings go through vmbus/ring.c. The guest side is a model of Linux
 * written here from reading drivers/hv/ (hv_util.c, hv_kvp.c,
 * channel_mgmt.c's vmbus_prep_negotiate_resp()) and tools/hv/
 * hv_kvp_daemon.c: a plain ring reader and writer, and per service what
 * Linux does with a request: answer in place with the same length and
 * transaction id, flags TRANSACTION | RESPONSE. Where the guest
 * misbehaves, the test writes the packet itself.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vmbus_chan.h"
#include "vmbus_ic.h"

#define PG		4096u
#define RING_PAGES	4	/* per ring: a header page + 3, as hv_utils */

/* ---- the guest's ends of the two rings ---- */

struct gring {
	uint32_t *write_index;
	uint32_t *read_index;
	uint32_t *interrupt_mask;
	uint8_t *data;
	uint32_t size;
};

static void gring_init(struct gring *r, uint8_t *hdr, uint32_t data_pages)
{
	r->write_index = (uint32_t *)hdr;
	r->read_index = (uint32_t *)hdr + 1;
	r->interrupt_mask = (uint32_t *)hdr + 2;
	r->data = hdr + PG;
	r->size = data_pages * PG;
	/* feature_bits at byte 64: pending_send_sz supported, as Linux. */
	((uint32_t *)hdr)[16] = 1;
}

static void gcopy_out(struct gring *r, uint32_t off, void *dst, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		((uint8_t *)dst)[i] = r->data[(off + i) % r->size];
}

static void gcopy_in(struct gring *r, uint32_t off, const void *src,
		     uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		r->data[(off + i) % r->size] = ((const uint8_t *)src)[i];
}

/*
 * vmbus_recvpacket(): the payload (after the descriptor) into @buf,
 * its length (offset to the end, padding included) and transaction id.
 */
static int grecv(struct gring *r, uint8_t *buf, uint32_t size, uint32_t *len,
		 uint64_t *tid, uint16_t *type)
{
	uint32_t ri = *r->read_index, plen, off;
	uint32_t wi = __atomic_load_n(r->write_index, __ATOMIC_ACQUIRE);
	uint16_t desc[4];

	if (ri == wi)
		return -1;
	gcopy_out(r, ri, desc, 8);
	gcopy_out(r, ri + 8, tid, 8);
	plen = desc[2] * 8u;
	off = desc[1] * 8u;
	if (plen - off > size)
		abort();
	gcopy_out(r, ri + off, buf, plen - off);
	*len = plen - off;
	if (type)
		*type = desc[0];
	__atomic_store_n(r->read_index, (ri + plen + 8) % r->size,
			 __ATOMIC_RELEASE);
	return 0;
}

/* hv_ringbuffer_write() of one packet, descriptor fields as given. */
static void gsend_raw(struct gring *r, uint16_t type, uint16_t off8,
		      uint16_t flags, uint64_t tid, const void *data,
		      uint32_t len)
{
	uint32_t wi = *r->write_index, total = 16 + ((len + 7) & ~7u);
	uint16_t desc[4] = { type, off8, total / 8, flags };
	uint64_t trailer = (uint64_t)wi << 32;
	static const uint8_t zero[8];

	gcopy_in(r, wi, desc, 8);
	gcopy_in(r, wi + 8, &tid, 8);
	gcopy_in(r, wi + 16, data, len);
	gcopy_in(r, wi + 16 + len, zero, total - 16 - len);
	gcopy_in(r, wi + total, &trailer, 8);
	__atomic_store_n(r->write_index, (wi + total + 8) % r->size,
			 __ATOMIC_RELEASE);
}

static void gsend(struct gring *r, uint64_t tid, const void *data,
		  uint32_t len)
{
	gsend_raw(r, VID_VMBUS_PKT_DATA_INBAND, 2, 0, tid, data, len);
}

/* ---- the Linux guest's services ---- */

/* Linux's lists, newest first (hv_util.c, hv_kvp.c). */
static const int lx_fw[] = { 3 << 16, 1 << 16 };
static const int lx_hb[] = { 3 << 16, 1 << 16 };
static const int lx_sd[] = { 3 << 16 | 2, 3 << 16 | 1, 3 << 16, 1 << 16 };
static const int lx_ts[] = { 4 << 16, 3 << 16, 1 << 16 };
static const int lx_kvp[] = { 4 << 16, 3 << 16, 1 << 16 };

struct tguest {
	uint8_t *mem;
	void *pages[2 * RING_PAGES];
	struct gring out;	/* guest -> root */
	struct gring in;	/* root -> guest */
	int signals;		/* the root signalled the guest */
	int evfd;		/* and this eventfd counts it, if >= 0 */
	struct vid_vmbus_chan *ch;
	struct vid_ic_svc *svc;
	enum vid_ic_kind kind;

	/* The guest's version lists: a suffix of Linux's (older guests). */
	const int *fw;
	int nfw;
	const int *srv;
	int nsrv;
	int srv_version;	/* what it negotiated */
	bool mute;		/* it does not answer (a stalled guest) */

	/* What the services saw. */
	int shutdown_action;	/* -1 none, else the flags */
	char shutdown_reason[256];
	bool hibernation;	/* hv_is_hibernation_supported() */
	int ts_count;
	uint8_t ts_flags;
	uint64_t ts_parent;
	uint64_t ts_ref;
	bool ts_v4;
	char kvp_ext_key[64];
	char kvp_ext_value[64];
};

static int tguest_signal(void *opaque)
{
	struct tguest *g = opaque;
	uint64_t one = 1;

	__atomic_add_fetch(&g->signals, 1, __ATOMIC_RELAXED);
	if (g->evfd >= 0 && write(g->evfd, &one, sizeof(one)) != sizeof(one))
		abort();
	return 0;
}

/* vmbus_prep_negotiate_resp(), as Linux does it. */
static bool lx_negotiate(struct tguest *g, uint8_t *buf, uint32_t len)
{
	struct vid_icmsg_hdr *h = (void *)(buf + 8);
	struct vid_icmsg_negotiate *n = (void *)(buf + VID_ICMSG_HDR_SIZE);
	int fcnt, mcnt, i, j, fw_major = 0, fw_minor = 0, major, minor;
	bool found = false;

	if (len < VID_ICMSG_HDR_SIZE + 8)
		return false;
	h->icmsgsize = 0x10;
	fcnt = n->icframe_vercnt;
	mcnt = n->icmsg_vercnt;
	major = mcnt;
	minor = 0;
	fw_major = fcnt;
	if (fcnt > 100 || mcnt > 100 ||
	    (int)VID_ICMSG_HDR_SIZE + 8 + 4 * (fcnt + mcnt) > (int)len)
		goto done;
	for (i = 0; i < g->nfw && !found; i++)
		for (j = 0; j < fcnt; j++)
			if (n->icversion_data[j].major == g->fw[i] >> 16 &&
			    n->icversion_data[j].minor == (g->fw[i] & 0xffff)) {
				fw_major = g->fw[i] >> 16;
				fw_minor = g->fw[i] & 0xffff;
				found = true;
				break;
			}
	if (!found)
		goto done;
	found = false;
	for (i = 0; i < g->nsrv && !found; i++)
		for (j = fcnt; j < fcnt + mcnt; j++)
			if (n->icversion_data[j].major == g->srv[i] >> 16 &&
			    n->icversion_data[j].minor ==
			    (g->srv[i] & 0xffff)) {
				major = g->srv[i] >> 16;
				minor = g->srv[i] & 0xffff;
				found = true;
				break;
			}
done:
	n->icframe_vercnt = found;
	n->icmsg_vercnt = found;
	n->icversion_data[0].major = fw_major;
	n->icversion_data[0].minor = fw_minor;
	n->icversion_data[1].major = major;
	n->icversion_data[1].minor = minor;
	if (found)
		g->srv_version = major << 16 | minor;
	return found;
}

/* UTF-16LE to ASCII ('?' for the rest), for what the guest logs. */
static void u16_to_ascii(const uint8_t *in, size_t max, char *out,
			 size_t osize)
{
	size_t i, o = 0;

	for (i = 0; i + 1 < max && o + 1 < osize; i += 2) {
		uint16_t c = in[i] | in[i + 1] << 8;

		if (!c)
			break;
		out[o++] = c < 0x80 ? c : '?';
	}
	out[o] = 0;
}

static uint32_t ascii_to_u16(const char *s, uint8_t *out)
{
	uint32_t i;

	for (i = 0; s[i]; i++) {
		out[2 * i] = s[i];
		out[2 * i + 1] = 0;
	}
	out[2 * i] = 0;
	out[2 * i + 1] = 0;
	return 2 * i + 2;
}

/* hv_kvp_daemon's KVP_POOL_AUTO items (by index). */
static const char *const lx_auto_keys[] = {
	"FullyQualifiedDomainName", "IntegrationServicesVersion",
	"NetworkAddressIPv4", "NetworkAddressIPv6", "OSBuildNumber",
	"OSName", "OSMajorVersion", "OSMinorVersion", "OSVersion",
	"ProcessorArchitecture",
};

static const char *const lx_auto_values[] = {
	"vidguest.example", "3.1", "10.0.2.15", "", "6.1.0-56-amd64",
	"Debian GNU/Linux", "6", "1", "6.1.158-1", "x86_64",
};

/* hv_kvp.c + the daemon: the answer written in place. */
static void lx_kvp_answer(struct tguest *g, uint8_t *buf, uint32_t len)
{
	struct vid_icmsg_hdr *h = (void *)(buf + 8);
	uint8_t *m = buf + VID_ICMSG_HDR_SIZE;
	struct vid_ic_kvp_hdr *kh = (void *)m;
	struct vid_ic_kvp_enum_msg *e = (void *)m;
	struct vid_ic_kvp_getset_msg *gs = (void *)m;
	char key[64];

	(void)len;
	h->status = VID_IC_S_OK;
	switch (kh->operation) {
	case VID_IC_KVP_OP_ENUMERATE:
		if (kh->pool != VID_IC_KVP_POOL_AUTO ||
		    e->index >= ARRAY_SIZE(lx_auto_keys)) {
			h->status = VID_IC_S_CONT;
			break;
		}
		e->data.key_size = ascii_to_u16(lx_auto_keys[e->index],
						e->data.key);
		e->data.value_size = ascii_to_u16(lx_auto_values[e->index],
						  e->data.value);
		e->data.value_type = VID_IC_KVP_REG_SZ;
		break;
	case VID_IC_KVP_OP_SET:
		u16_to_ascii(gs->data.key, gs->data.key_size, g->kvp_ext_key,
			     sizeof(g->kvp_ext_key));
		u16_to_ascii(gs->data.value, gs->data.value_size,
			     g->kvp_ext_value, sizeof(g->kvp_ext_value));
		break;
	case VID_IC_KVP_OP_GET:
		u16_to_ascii(gs->data.key, gs->data.key_size, key,
			     sizeof(key));
		if (strcmp(key, g->kvp_ext_key)) {
			h->status = VID_IC_S_CONT;
			break;
		}
		gs->data.value_size = ascii_to_u16(g->kvp_ext_value,
						   gs->data.value);
		gs->data.value_type = VID_IC_KVP_REG_SZ;
		break;
	default:
		h->status = VID_IC_E_FAIL;
	}
}

/* One request as Linux's util driver handles it; false: no answer. */
static bool lx_handle(struct tguest *g, uint8_t *buf, uint32_t len)
{
	struct vid_icmsg_hdr *h = (void *)(buf + 8);
	uint8_t *m = buf + VID_ICMSG_HDR_SIZE;

	if (len < VID_ICMSG_HDR_SIZE)
		return false;
	if (h->icmsgtype == ICMSGTYPE_NEGOTIATE) {
		lx_negotiate(g, buf, len);
	} else if (g->kind == VID_IC_HEARTBEAT &&
		   h->icmsgtype == ICMSGTYPE_HEARTBEAT) {
		if (len < VID_ICMSG_HDR_SIZE + 8)
			return false;
		((struct vid_ic_heartbeat_msg *)m)->seq_num += 1;
	} else if (g->kind == VID_IC_SHUTDOWN &&
		   h->icmsgtype == ICMSGTYPE_SHUTDOWN) {
		struct vid_ic_shutdown_msg *s = (void *)m;

		if (len < VID_ICMSG_HDR_SIZE + sizeof(*s))
			return false;
		switch (s->flags) {
		case 0: case 1: case 2: case 3:
			h->status = VID_IC_S_OK;
			g->shutdown_action = s->flags;
			break;
		case 4: case 5:
			h->status = g->hibernation ? VID_IC_S_OK :
				    VID_IC_E_FAIL;
			if (g->hibernation)
				g->shutdown_action = s->flags;
			break;
		default:
			h->status = VID_IC_E_FAIL;
		}
		u16_to_ascii(s->display_message, sizeof(s->display_message),
			     g->shutdown_reason, sizeof(g->shutdown_reason));
	} else if (g->kind == VID_IC_TIMESYNC &&
		   h->icmsgtype == ICMSGTYPE_TIMESYNC) {
		if (g->srv_version > (3 << 16)) {
			struct vid_ic_timesync_ref_msg *t = (void *)m;

			if (len < VID_ICMSG_HDR_SIZE + sizeof(*t))
				return false;
			g->ts_parent = t->parenttime;
			g->ts_ref = t->vmreferencetime;
			g->ts_flags = t->flags;
			g->ts_v4 = true;
		} else {
			struct vid_ic_timesync_msg *t = (void *)m;

			if (len < VID_ICMSG_HDR_SIZE + sizeof(*t))
				return false;
			g->ts_parent = t->parenttime;
			g->ts_flags = t->flags;
			g->ts_v4 = false;
		}
		g->ts_count++;
	} else if (g->kind == VID_IC_KVP &&
		   h->icmsgtype == ICMSGTYPE_KVPEXCHANGE) {
		lx_kvp_answer(g, buf, len);
	} else {
		h->status = VID_IC_E_FAIL;
	}
	h->icflags = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE;
	return true;
}

static uint8_t gbuf[16384];

/* The guest takes what the root sent; answers unless mute. */
static int tguest_run(struct tguest *g)
{
	uint32_t len;
	uint64_t tid;
	int n = 0;

	while (!grecv(&g->in, gbuf, sizeof(gbuf), &len, &tid, NULL)) {
		n++;
		if (!__atomic_load_n(&g->mute, __ATOMIC_RELAXED) &&
		    lx_handle(g, gbuf, len))
			gsend(&g->out, tid, gbuf, len);
	}
	return n;
}

/* Take the next request without answering: for hand-made answers. */
static uint32_t tguest_take(struct tguest *g, uint64_t *tid)
{
	uint32_t len;

	if (grecv(&g->in, gbuf, sizeof(gbuf), &len, tid, NULL))
		return 0;
	return len;
}

static uint64_t fixed_time = VID_IC_TIME_1601_TO_1970 + 17000000000000000ULL;
static uint64_t fixed_ref = 123456789;

static int test_now(void *opaque, uint64_t *t)
{
	(void)opaque;
	*t = fixed_time;
	return 0;
}

static int test_ref(void *opaque, uint64_t *r)
{
	(void)opaque;
	*r = fixed_ref;
	return 0;
}

static const int *lx_list(enum vid_ic_kind kind, int *n)
{
	switch (kind) {
	case VID_IC_HEARTBEAT:
		*n = ARRAY_SIZE(lx_hb);
		return lx_hb;
	case VID_IC_SHUTDOWN:
		*n = ARRAY_SIZE(lx_sd);
		return lx_sd;
	case VID_IC_TIMESYNC:
		*n = ARRAY_SIZE(lx_ts);
		return lx_ts;
	default:
		*n = ARRAY_SIZE(lx_kvp);
		return lx_kvp;
	}
}

/* Rings and channel of @kind; the guest speaks Linux's lists. */
static void tguest_rings(struct tguest *g, enum vid_ic_kind kind)
{
	int i;

	memset(g, 0, sizeof(*g));
	g->evfd = -1;
	g->mem = mmap(NULL, 2 * RING_PAGES * PG, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED)
		abort();
	for (i = 0; i < 2 * RING_PAGES; i++)
		g->pages[i] = g->mem + i * PG;
	gring_init(&g->out, g->mem, RING_PAGES - 1);
	gring_init(&g->in, g->mem + RING_PAGES * PG, RING_PAGES - 1);
	g->kind = kind;
	g->fw = lx_fw;
	g->nfw = ARRAY_SIZE(lx_fw);
	g->srv = lx_list(kind, &g->nsrv);
	g->shutdown_action = -1;
	if (vid_vmbus_chan_local(tguest_signal, g, &g->ch))
		abort();
	if (vid_vmbus_chan_attach(g->ch, g->pages, 2 * RING_PAGES,
				  RING_PAGES))
		abort();
}

/* ...and the service on it. */
static void tguest_setup(struct tguest *g, enum vid_ic_kind kind,
			 const struct vid_ic_svc_config *cfg)
{
	struct vid_ic_svc_config def = {
		.now_time = test_now, .ref_time = test_ref,
	};

	tguest_rings(g, kind);
	g->svc = vid_ic_svc_new(kind, g->ch, cfg ? cfg : &def);
	if (!g->svc)
		abort();
}

static void tguest_teardown(struct tguest *g)
{
	if (g->evfd >= 0)
		close(g->evfd);
	vid_ic_svc_free(g->svc);
	vid_vmbus_chan_free(g->ch);
	munmap(g->mem, 2 * RING_PAGES * PG);
}

static enum vid_ic_state svc_state(struct tguest *g)
{
	struct vid_ic_info info;

	vid_ic_svc_info(g->svc, &info);
	return info.state;
}

/* Open, negotiate with the guest, process its answer. */
static enum vid_ic_state tguest_negotiate(struct tguest *g)
{
	if (vid_ic_svc_start(g->svc))
		return VID_IC_FAILED;
	tguest_run(g);
	vid_ic_svc_process(g->svc);
	return svc_state(g);
}

/* ---- negotiation ---- */

/*
 * Every framework and service version Linux offers is reached: the host
 * offers everything up to it, the guest (Linux's lists, or an older
 * guest's suffix of them) picks its newest in common.
 */
TEST(negotiate_every_version)
{
	enum vid_ic_kind kind;
	int f, s, gs, nsrv;

	for (kind = 0; kind < VID_IC_KINDS; kind++) {
		const int *srv = lx_list(kind, &nsrv);

		for (f = 0; f < 2; f++) {
			for (s = 0; s < nsrv; s++) {
				for (gs = 0; gs < nsrv; gs++) {
					struct vid_ic_svc_config cfg = {
						.max_framework = lx_fw[f],
						.max_version = srv[s],
						.now_time = test_now,
						.ref_time = test_ref,
					};
					struct vid_ic_info info;
					struct tguest g;
					int want = srv[s > gs ? s : gs];

					tguest_setup(&g, kind, &cfg);
					g.srv = srv + gs;
					g.nsrv = nsrv - gs;
					ASSERT_EQ(VID_IC_READY,
						  tguest_negotiate(&g));
					vid_ic_svc_info(g.svc, &info);
					EXPECT_EQ((uint32_t)lx_fw[f],
						  info.framework);
					EXPECT_EQ((uint32_t)want, info.version);
					EXPECT_EQ(1, info.negotiations);
					EXPECT_EQ(0, info.bad);
					tguest_teardown(&g);
				}
			}
		}
	}
}

/* Without a reference-time source timesync stays at 3.0. */
TEST(negotiate_timesync_without_ref_time)
{
	struct vid_ic_svc_config cfg = { .now_time = test_now };
	struct vid_ic_info info;
	struct tguest g;

	tguest_setup(&g, VID_IC_TIMESYNC, &cfg);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(VID_IC_VERSION(3, 0), info.version);
	tguest_teardown(&g);
}

/* An older guest: framework 1.0 only. */
TEST(negotiate_old_framework)
{
	static const int old_fw[] = { 1 << 16 };
	struct vid_ic_info info;
	struct tguest g;

	tguest_setup(&g, VID_IC_HEARTBEAT, NULL);
	g.fw = old_fw;
	g.nfw = 1;
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(VID_IC_VERSION(1, 0), info.framework);
	EXPECT_EQ(VID_IC_VERSION(3, 0), info.version);
	tguest_teardown(&g);
}

/* Nothing in common: the guest answers with counts of 0. */
TEST(negotiate_nothing_in_common)
{
	static const int new_fw[] = { 3 << 16 };
	struct vid_ic_svc_config cfg = {
		.max_framework = VID_IC_VERSION(1, 0),
	};
	struct vid_ic_info info;
	struct tguest g;

	/* No common framework version. */
	tguest_setup(&g, VID_IC_HEARTBEAT, &cfg);
	g.fw = new_fw;
	g.nfw = 1;
	ASSERT_EQ(VID_IC_FAILED, tguest_negotiate(&g));
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(0, info.bad);
	EXPECT_EQ(1, info.answers);
	EXPECT_EQ(-ENOTCONN, vid_ic_svc_heartbeat(g.svc));
	tguest_teardown(&g);

	/* No common service version: FAILED, no requests. */
	cfg.max_framework = 0;
	cfg.max_version = VID_IC_VERSION(1, 0);
	tguest_setup(&g, VID_IC_SHUTDOWN, &cfg);
	g.nsrv = 3;		/* 3.2, 3.1, 3.0 only */
	ASSERT_EQ(VID_IC_FAILED, tguest_negotiate(&g));
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(0, info.bad);
	EXPECT_EQ(0, info.version);
	EXPECT_EQ(-ENOTCONN, vid_ic_svc_shutdown(g.svc, 0, 0, 0, "x"));
	tguest_teardown(&g);
}

/* An impossible configuration is refused. */
TEST(config_refused)
{
	struct vid_ic_svc_config cfg = { .max_framework = 0x00000001 };
	struct vid_vmbus_chan *ch;

	ASSERT_EQ(0, vid_vmbus_chan_local(NULL, NULL, &ch));
	EXPECT_EQ(NULL, vid_ic_svc_new(VID_IC_HEARTBEAT, ch, &cfg));
	cfg.max_framework = 0;
	cfg.max_version = 0x00000001;
	EXPECT_EQ(NULL, vid_ic_svc_new(VID_IC_KVP, ch, &cfg));
	EXPECT_EQ(NULL, vid_ic_svc_new(VID_IC_KINDS, ch, NULL));
	vid_vmbus_chan_free(ch);
}

/* The NEGOTIATE on the wire: lists, header, transaction. */
TEST(negotiate_request_format)
{
	struct vid_icmsg_negotiate *n;
	struct vid_ic_pipe_hdr *p;
	struct vid_icmsg_hdr *h;
	struct tguest g;
	uint64_t tid;
	uint32_t len;

	tguest_setup(&g, VID_IC_SHUTDOWN, NULL);
	ASSERT_EQ(0, vid_ic_svc_start(g.svc));
	EXPECT_EQ(1, g.signals);	/* empty -> non-empty */
	len = tguest_take(&g, &tid);
	/* 60 bytes, padded to 8 in the ring. */
	ASSERT_EQ(VID_ICMSG_HDR_SIZE + 8 + 6 * 4 + 4, len);
	p = (void *)gbuf;
	h = (void *)(gbuf + 8);
	n = (void *)(gbuf + VID_ICMSG_HDR_SIZE);
	EXPECT_EQ(VID_IC_PIPE_DATA, p->flags);
	EXPECT_EQ(len - 4 - 8, p->msgsize);
	EXPECT_EQ(ICMSGTYPE_NEGOTIATE, h->icmsgtype);
	EXPECT_EQ(8 + 6 * 4, h->icmsgsize);
	EXPECT_EQ(ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_REQUEST, h->icflags);
	EXPECT_EQ((uint8_t)tid, h->ictransaction_id);
	EXPECT_EQ(2, n->icframe_vercnt);
	EXPECT_EQ(4, n->icmsg_vercnt);
	EXPECT_EQ(3, n->icversion_data[0].major);
	EXPECT_EQ(1, n->icversion_data[1].major);
	EXPECT_EQ(3, n->icversion_data[2].major);
	EXPECT_EQ(2, n->icversion_data[2].minor);
	EXPECT_EQ(1, n->icversion_data[5].major);
	tguest_teardown(&g);
}

/* ---- heartbeat ---- */

TEST(heartbeat_beats_and_stalls)
{
	struct vid_ic_info info;
	struct tguest g;
	int i;

	tguest_setup(&g, VID_IC_HEARTBEAT, NULL);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	for (i = 0; i < 5; i++) {
		vid_ic_svc_tick(g.svc);
		ASSERT_EQ(1, tguest_run(&g));
		vid_ic_svc_process(g.svc);
	}
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(5, info.beats);
	EXPECT_EQ(5, info.last_seq);
	EXPECT_EQ(0, info.missed);
	EXPECT_FALSE(info.stalled);

	/* The guest stops answering: one beat outstanding, then stalled. */
	g.mute = true;
	vid_ic_svc_tick(g.svc);
	EXPECT_EQ(1, tguest_run(&g));
	for (i = 0; i < 3; i++) {
		vid_ic_svc_tick(g.svc);
		EXPECT_EQ(0, tguest_run(&g));	/* no second beat */
		vid_ic_svc_info(g.svc, &info);
		EXPECT_EQ(i == 2, info.stalled);
	}
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(3, info.missed);
	EXPECT_EQ(1, info.stalls);
	EXPECT_EQ(5, info.beats);

	/* It comes back: it answers the outstanding beat. */
	g.mute = false;
	{
		struct vid_ic_heartbeat_msg hb = { .seq_num = 6 };
		uint8_t pkt[VID_ICMSG_HDR_SIZE + sizeof(hb)];
		struct vid_icmsg_hdr h = {
			.icmsgtype = ICMSGTYPE_HEARTBEAT,
			.icmsgsize = sizeof(hb),
			.icflags = ICMSGHDRFLAG_TRANSACTION |
				   ICMSGHDRFLAG_RESPONSE,
			.ictransaction_id = 7,
		};

		/* Transaction 1 was NEGOTIATE, 2..6 the beats, 7 this one. */
		memset(pkt, 0, 8);
		memcpy(pkt + 8, &h, sizeof(h));
		memcpy(pkt + VID_ICMSG_HDR_SIZE, &hb, sizeof(hb));
		gsend(&g.out, 7, pkt, sizeof(pkt));
	}
	vid_ic_svc_process(g.svc);
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(6, info.beats);
	EXPECT_FALSE(info.stalled);
	EXPECT_EQ(0, info.bad);
	tguest_teardown(&g);
}

/* Not negotiated yet: ticks do nothing. */
TEST(heartbeat_waits_for_negotiation)
{
	struct vid_ic_info info;
	struct tguest g;

	tguest_setup(&g, VID_IC_HEARTBEAT, NULL);
	vid_ic_svc_tick(g.svc);
	EXPECT_EQ(0, tguest_run(&g));
	ASSERT_EQ(0, vid_ic_svc_start(g.svc));
	vid_ic_svc_tick(g.svc);
	EXPECT_EQ(1, tguest_take(&g, &(uint64_t){ 0 }) > 0);
	EXPECT_EQ(0, tguest_take(&g, &(uint64_t){ 0 }));
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(VID_IC_NEGOTIATING, info.state);
	EXPECT_EQ(0, info.missed);
	tguest_teardown(&g);
}

/* ---- shutdown ---- */

TEST(shutdown_requests)
{
	static const struct {
		uint32_t flags;
		bool hibernation;
		uint32_t status;
		int action;
	} cases[] = {
		{ VID_IC_SHUTDOWN_POWEROFF, false, VID_IC_S_OK, 0 },
		{ VID_IC_SHUTDOWN_POWEROFF | VID_IC_SHUTDOWN_FORCE, false,
		  VID_IC_S_OK, 1 },
		{ VID_IC_SHUTDOWN_REBOOT, false, VID_IC_S_OK, 2 },
		{ VID_IC_SHUTDOWN_HIBERNATE, false, VID_IC_E_FAIL, -1 },
		{ VID_IC_SHUTDOWN_HIBERNATE, true, VID_IC_S_OK, 4 },
	};
	struct vid_ic_result res;
	struct tguest g;
	unsigned int i;
	int64_t id;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		tguest_setup(&g, VID_IC_SHUTDOWN, NULL);
		g.hibernation = cases[i].hibernation;
		ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
		id = vid_ic_svc_shutdown(g.svc, cases[i].flags, 5, 30,
					 "host maintenance");
		ASSERT_GT(id, 0);
		EXPECT_EQ(-EINPROGRESS, vid_ic_svc_result(g.svc, id, &res));
		EXPECT_EQ(-EBUSY, vid_ic_svc_shutdown(g.svc, 0, 0, 0, ""));
		tguest_run(&g);
		vid_ic_svc_process(g.svc);
		ASSERT_EQ(0, vid_ic_svc_result(g.svc, id, &res));
		EXPECT_EQ(0, res.err);
		EXPECT_EQ(cases[i].status, res.status);
		EXPECT_EQ(cases[i].action, g.shutdown_action);
		EXPECT_STREQ("host maintenance", g.shutdown_reason);
		tguest_teardown(&g);
	}
}

TEST(shutdown_bad_arguments)
{
	struct tguest g;
	char longr[3000];

	tguest_setup(&g, VID_IC_SHUTDOWN, NULL);
	EXPECT_EQ(-ENOTCONN, vid_ic_svc_shutdown(g.svc, 0, 0, 0, "x"));
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	EXPECT_EQ(-EINVAL, vid_ic_svc_shutdown(g.svc, 8, 0, 0, "x"));
	EXPECT_EQ(-EINVAL, vid_ic_svc_shutdown(g.svc, 6, 0, 0, "x"));
	EXPECT_EQ(-EINVAL, vid_ic_svc_shutdown(g.svc, 0, 0, 0, "\xff"));
	EXPECT_EQ(-EINVAL, vid_ic_svc_heartbeat(g.svc));
	EXPECT_EQ(-EINVAL, vid_ic_svc_timesync(g.svc, 1));
	/* A reason too long for the message is cut short, not refused. */
	memset(longr, 'r', sizeof(longr) - 1);
	longr[sizeof(longr) - 1] = 0;
	EXPECT_GT(vid_ic_svc_shutdown(g.svc, 0, 0, 0, longr), 0);
	tguest_run(&g);
	vid_ic_svc_process(g.svc);
	EXPECT_EQ(255, strlen(g.shutdown_reason));	/* what we log */
	tguest_teardown(&g);
}

/* ---- timesync ---- */

TEST(timesync_sync_then_samples)
{
	struct vid_ic_svc_config cfg = { .now_time = test_now };
	struct vid_ic_info info;
	struct tguest g;

	tguest_setup(&g, VID_IC_TIMESYNC, &cfg);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	/* The SYNC went out with the negotiation's answer. */
	EXPECT_EQ(1, tguest_run(&g));
	EXPECT_EQ(1, g.ts_count);
	EXPECT_EQ(VID_IC_TIMESYNC_SYNC, g.ts_flags);
	EXPECT_EQ(fixed_time, g.ts_parent);
	EXPECT_FALSE(g.ts_v4);
	vid_ic_svc_process(g.svc);

	fixed_time += 50000000;	/* five seconds */
	vid_ic_svc_tick(g.svc);
	EXPECT_EQ(1, tguest_run(&g));
	EXPECT_EQ(VID_IC_TIMESYNC_SAMPLE, g.ts_flags);
	EXPECT_EQ(fixed_time, g.ts_parent);
	vid_ic_svc_process(g.svc);
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(2, info.samples);

	/* A push is a SYNC. */
	ASSERT_GT(vid_ic_svc_timesync(g.svc, VID_IC_TIMESYNC_SYNC), 0);
	tguest_run(&g);
	EXPECT_EQ(VID_IC_TIMESYNC_SYNC, g.ts_flags);
	tguest_teardown(&g);
}

TEST(timesync_v4_reference_time)
{
	struct tguest g;

	tguest_setup(&g, VID_IC_TIMESYNC, NULL);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	EXPECT_EQ(4 << 16, g.srv_version);
	EXPECT_EQ(1, tguest_run(&g));
	EXPECT_TRUE(g.ts_v4);
	EXPECT_EQ(fixed_ref, g.ts_ref);
	EXPECT_EQ(fixed_time, g.ts_parent);
	EXPECT_EQ(VID_IC_TIMESYNC_SYNC, g.ts_flags);
	tguest_teardown(&g);
}

/* The default clock: CLOCK_REALTIME in 100 ns units since 1601. */
TEST(timesync_default_clock)
{
	struct vid_ic_svc_config cfg = { 0 };
	struct timespec ts;
	struct tguest g;
	uint64_t unix_s;

	tguest_setup(&g, VID_IC_TIMESYNC, &cfg);
	clock_gettime(CLOCK_REALTIME, &ts);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	tguest_run(&g);
	unix_s = (g.ts_parent - VID_IC_TIME_1601_TO_1970) / 10000000;
	/* The same second or the next: not a timing assertion. */
	EXPECT_TRUE(unix_s == (uint64_t)ts.tv_sec ||
		    unix_s == (uint64_t)ts.tv_sec + 1);
	tguest_teardown(&g);
}

/* ---- KVP ---- */

static int64_t kvp_roundtrip(struct tguest *g, uint8_t op, uint8_t pool,
			     uint32_t index, const char *key,
			     const char *value, struct vid_ic_result *res)
{
	int64_t id = vid_ic_svc_kvp(g->svc, op, pool, index, key, value);

	if (id <= 0)
		return id;
	tguest_run(g);
	vid_ic_svc_process(g->svc);
	return vid_ic_svc_result(g->svc, id, res);
}

TEST(kvp_enumerate_auto_pool)
{
	struct vid_ic_result res;
	struct tguest g;
	unsigned int i;

	tguest_setup(&g, VID_IC_KVP, NULL);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	for (i = 0; i < ARRAY_SIZE(lx_auto_keys); i++) {
		ASSERT_EQ(0, kvp_roundtrip(&g, VID_IC_KVP_OP_ENUMERATE,
					   VID_IC_KVP_POOL_AUTO, i, NULL,
					   NULL, &res));
		EXPECT_EQ(0, res.err);
		EXPECT_EQ(VID_IC_S_OK, res.status);
		EXPECT_STREQ(lx_auto_keys[i], res.key);
		EXPECT_STREQ(lx_auto_values[i], res.value);
	}
	ASSERT_EQ(0, kvp_roundtrip(&g, VID_IC_KVP_OP_ENUMERATE,
				   VID_IC_KVP_POOL_AUTO, i, NULL, NULL, &res));
	EXPECT_EQ(VID_IC_S_CONT, res.status);
	tguest_teardown(&g);
}

TEST(kvp_set_get)
{
	struct vid_ic_result res;
	struct tguest g;
	char big[600];

	tguest_setup(&g, VID_IC_KVP, NULL);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	ASSERT_EQ(0, kvp_roundtrip(&g, VID_IC_KVP_OP_SET,
				   VID_IC_KVP_POOL_EXTERNAL, 0, "VmName",
				   "vid-demo", &res));
	EXPECT_EQ(VID_IC_S_OK, res.status);
	EXPECT_STREQ("VmName", g.kvp_ext_key);
	EXPECT_STREQ("vid-demo", g.kvp_ext_value);
	ASSERT_EQ(0, kvp_roundtrip(&g, VID_IC_KVP_OP_GET,
				   VID_IC_KVP_POOL_EXTERNAL, 0, "VmName",
				   NULL, &res));
	EXPECT_EQ(VID_IC_S_OK, res.status);
	EXPECT_STREQ("vid-demo", res.value);
	ASSERT_EQ(0, kvp_roundtrip(&g, VID_IC_KVP_OP_GET,
				   VID_IC_KVP_POOL_EXTERNAL, 0, "Other",
				   NULL, &res));
	EXPECT_EQ(VID_IC_S_CONT, res.status);

	/* Host-side argument checks. */
	EXPECT_EQ(-EINVAL, vid_ic_svc_kvp(g.svc, VID_IC_KVP_OP_GET, 5, 0,
					  "k", NULL));
	EXPECT_EQ(-EINVAL, vid_ic_svc_kvp(g.svc, 9, 0, 0, "k", NULL));
	EXPECT_EQ(-EINVAL, vid_ic_svc_kvp(g.svc, VID_IC_KVP_OP_GET, 0, 0,
					  NULL, NULL));
	EXPECT_EQ(-EINVAL, vid_ic_svc_kvp(g.svc, VID_IC_KVP_OP_SET, 0, 0,
					  "k", NULL));
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	EXPECT_EQ(-EINVAL, vid_ic_svc_kvp(g.svc, VID_IC_KVP_OP_GET, 0, 0,
					  big, NULL));
	EXPECT_EQ(-EINVAL, vid_ic_svc_kvp(g.svc, VID_IC_KVP_OP_GET, 0, 0,
					  "\xc0\x80", NULL));
	tguest_teardown(&g);
}

/* Non-ASCII both ways, surrogate pairs included. */
TEST(kvp_unicode)
{
	struct vid_ic_result res;
	struct vid_ic_kvp_enum_msg *e;
	struct vid_icmsg_hdr *h;
	struct tguest g;
	uint64_t tid;
	uint32_t len;
	int64_t id;
	/* "Gr\u00fc\u00dfe \U0001F680" */
	static const uint8_t val16[] = {
		'G', 0, 'r', 0, 0xfc, 0, 0xdf, 0, 'e', 0, ' ', 0,
		0x3d, 0xd8, 0x80, 0xde, 0, 0,
	};

	tguest_setup(&g, VID_IC_KVP, NULL);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	id = vid_ic_svc_kvp(g.svc, VID_IC_KVP_OP_ENUMERATE,
			    VID_IC_KVP_POOL_GUEST, 0, NULL, NULL);
	ASSERT_GT(id, 0);
	len = tguest_take(&g, &tid);
	ASSERT_EQ(VID_ICMSG_HDR_SIZE + sizeof(*e), len);
	h = (void *)(gbuf + 8);
	e = (void *)(gbuf + VID_ICMSG_HDR_SIZE);
	e->data.value_type = VID_IC_KVP_REG_SZ;
	e->data.key_size = ascii_to_u16("k", e->data.key);
	memcpy(e->data.value, val16, sizeof(val16));
	e->data.value_size = sizeof(val16);
	h->icflags = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE;
	gsend(&g.out, tid, gbuf, len);
	vid_ic_svc_process(g.svc);
	ASSERT_EQ(0, vid_ic_svc_result(g.svc, id, &res));
	EXPECT_EQ(0, res.err);
	EXPECT_STREQ("Gr\xc3\xbc\xc3\x9f\x65 \xf0\x9f\x9a\x80", res.value);

	/* And to the guest: SET with the same text. */
	ASSERT_EQ(0, kvp_roundtrip(&g, VID_IC_KVP_OP_SET,
				   VID_IC_KVP_POOL_EXTERNAL, 0, "k",
				   "Gr\xc3\xbc\xc3\x9f\x65 \xf0\x9f\x9a\x80",
				   &res));
	EXPECT_STREQ("Gr??e ??", g.kvp_ext_value);
	tguest_teardown(&g);
}

/* ---- malformed answers ---- */

/*
 * A fixture with a heartbeat or KVP transaction outstanding and the
 * guest's copy of the request in gbuf, to be mangled and sent back.
 */
struct mangle {
	struct tguest g;
	int64_t id;
	uint64_t tid;
	uint32_t len;
};

static void mangle_setup(struct mangle *m, enum vid_ic_kind kind)
{
	tguest_setup(&m->g, kind, NULL);
	if (tguest_negotiate(&m->g) != VID_IC_READY)
		abort();
	if (kind == VID_IC_HEARTBEAT)
		m->id = vid_ic_svc_heartbeat(m->g.svc);
	else
		m->id = vid_ic_svc_kvp(m->g.svc, VID_IC_KVP_OP_ENUMERATE,
				       VID_IC_KVP_POOL_AUTO, 0, NULL, NULL);
	if (m->id <= 0)
		abort();
	m->len = tguest_take(&m->g, &m->tid);
	/* What Linux would answer, for the test to spoil. */
	if (!lx_handle(&m->g, gbuf, m->len))
		abort();
}

/* Send the (spoiled) answer; the outcome of the transaction. */
static int mangle_send(struct mangle *m, struct vid_ic_result *res)
{
	gsend(&m->g.out, m->tid, gbuf, m->len);
	vid_ic_svc_process(m->g.svc);
	return vid_ic_svc_result(m->g.svc, m->id, res);
}

static uint64_t svc_bad(struct tguest *g)
{
	struct vid_ic_info info;

	vid_ic_svc_info(g->svc, &info);
	return info.bad;
}

/* After a rejected answer the service still works. */
static void still_works(struct __test_metadata *_metadata, struct tguest *g)
{
	struct vid_ic_result res;
	int64_t id;

	if (g->kind == VID_IC_HEARTBEAT)
		id = vid_ic_svc_heartbeat(g->svc);
	else
		id = vid_ic_svc_kvp(g->svc, VID_IC_KVP_OP_ENUMERATE,
				    VID_IC_KVP_POOL_AUTO, 5, NULL, NULL);
	ASSERT_GT(id, 0);
	tguest_run(g);
	vid_ic_svc_process(g->svc);
	ASSERT_EQ(0, vid_ic_svc_result(g->svc, id, &res));
	EXPECT_EQ(0, res.err);
	if (g->kind == VID_IC_KVP)
		EXPECT_STREQ("Debian GNU/Linux", res.value);
}

enum spoil {
	SP_SHORT, SP_MSGSIZE, SP_TYPE, SP_REQUEST_FLAG, SP_NO_RESPONSE,
	SP_IC_TID, SP_SEQ, SP_PKT_TYPE, SP_KVP_ODD, SP_KVP_BIG_KEY,
	SP_KVP_NO_NUL, SP_KVP_SURROGATE, SP_KVP_VTYPE, SP_KVP_SHORT,
	SP_COUNT
};

TEST(malformed_answers_rejected)
{
	struct vid_ic_result res;
	struct mangle m;
	int sp;

	for (sp = 0; sp < SP_COUNT; sp++) {
		enum vid_ic_kind kind = sp >= SP_KVP_ODD ? VID_IC_KVP :
					VID_IC_HEARTBEAT;
		struct vid_icmsg_hdr *h = (void *)(gbuf + 8);
		struct vid_ic_kvp_enum_msg *e =
			(void *)(gbuf + VID_ICMSG_HDR_SIZE);

		mangle_setup(&m, kind);
		switch (sp) {
		case SP_SHORT:
			m.len = VID_ICMSG_HDR_SIZE - 8;
			break;
		case SP_MSGSIZE:
			h->icmsgsize = m.len - VID_ICMSG_HDR_SIZE + 1;
			break;
		case SP_TYPE:
			h->icmsgtype = 9;
			break;
		case SP_REQUEST_FLAG:
			h->icflags |= ICMSGHDRFLAG_REQUEST;
			break;
		case SP_NO_RESPONSE:
			h->icflags = ICMSGHDRFLAG_TRANSACTION;
			break;
		case SP_IC_TID:
			h->ictransaction_id ^= 0x80;
			break;
		case SP_SEQ:
			((struct vid_ic_heartbeat_msg *)e)->seq_num += 1;
			break;
		case SP_PKT_TYPE:
			gsend_raw(&m.g.out, VID_VMBUS_PKT_COMP, 2, 0, m.tid,
				  gbuf, m.len);
			vid_ic_svc_process(m.g.svc);
			ASSERT_EQ(0, vid_ic_svc_result(m.g.svc, m.id, &res));
			EXPECT_EQ(-EBADMSG, res.err);
			EXPECT_EQ(1, svc_bad(&m.g));
			still_works(_metadata, &m.g);
			tguest_teardown(&m.g);
			continue;
		case SP_KVP_ODD:
			e->data.key_size = 3;
			break;
		case SP_KVP_BIG_KEY:
			e->data.key_size = VID_IC_KVP_KEY_BYTES + 2;
			break;
		case SP_KVP_NO_NUL:
			memset(e->data.value, 'a', sizeof(e->data.value));
			e->data.value_size = sizeof(e->data.value);
			break;
		case SP_KVP_SURROGATE:
			e->data.value[0] = 0x00;
			e->data.value[1] = 0xdc;	/* a lone low half */
			break;
		case SP_KVP_VTYPE:
			e->data.value_type = 4;
			break;
		case SP_KVP_SHORT:
			m.len = VID_ICMSG_HDR_SIZE + 100;
			h->icmsgsize = 100;
			break;
		}
		ASSERT_EQ(0, mangle_send(&m, &res)) TH_LOG("spoil %d", sp);
		EXPECT_EQ(-EBADMSG, res.err) TH_LOG("spoil %d", sp);
		EXPECT_EQ(1, svc_bad(&m.g)) TH_LOG("spoil %d", sp);
		EXPECT_EQ(VID_IC_READY, svc_state(&m.g));
		still_works(_metadata, &m.g);
		tguest_teardown(&m.g);
	}
}

/*
 * Linux's answers with random bytes changed, lengths cut and ids
 * shifted, for every service: each is taken or refused whole (ASan and
 * UBSan watch every read), and the service goes on working.
 */
TEST(random_answers)
{
	static const enum vid_ic_kind kinds[] = {
		VID_IC_HEARTBEAT, VID_IC_SHUTDOWN, VID_IC_TIMESYNC, VID_IC_KVP,
	};
	struct vid_ic_result res;
	struct vid_ic_info info;
	unsigned int seed = 12345, i, k, j, n;
	struct tguest g;
	uint64_t tid;
	uint32_t len;
	int64_t id;

	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		tguest_setup(&g, kinds[k], NULL);
		ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
		tguest_run(&g);		/* timesync's first SYNC */
		vid_ic_svc_process(g.svc);
		for (i = 0; i < 3000; i++) {
			switch (kinds[k]) {
			case VID_IC_HEARTBEAT:
				id = vid_ic_svc_heartbeat(g.svc);
				break;
			case VID_IC_SHUTDOWN:
				id = vid_ic_svc_shutdown(g.svc, 0, 0, 0, "r");
				break;
			case VID_IC_TIMESYNC:
				id = vid_ic_svc_timesync(g.svc, 2);
				break;
			default:
				id = vid_ic_svc_kvp(g.svc, i % 2 ?
						    VID_IC_KVP_OP_ENUMERATE :
						    VID_IC_KVP_OP_GET,
						    VID_IC_KVP_POOL_AUTO,
						    i % 12, "OSName", NULL);
			}
			ASSERT_GT(id, 0);
			len = tguest_take(&g, &tid);
			ASSERT_GT(len, 0);
			lx_handle(&g, gbuf, len);
			n = 1 + rand_r(&seed) % 8;
			for (j = 0; j < n; j++) {
				/* mostly the headers and sizes */
				uint32_t at = rand_r(&seed) % 4 ?
					      rand_r(&seed) % 48 :
					      rand_r(&seed) % len;

				gbuf[at] = rand_r(&seed);
			}
			if (rand_r(&seed) % 4 == 0)
				len = rand_r(&seed) % (len + 1);
			if (rand_r(&seed) % 8 == 0)
				tid += rand_r(&seed) % 3;
			gsend(&g.out, tid, gbuf, len);
			ASSERT_EQ(1, vid_ic_svc_process(g.svc));
			if (vid_ic_svc_result(g.svc, id, &res) ==
			    -EINPROGRESS) {
				/* dropped as stale: reopen, renegotiate */
				vid_ic_svc_stop(g.svc);
				ASSERT_EQ(VID_IC_READY,
					  tguest_negotiate(&g));
				tguest_run(&g);
				vid_ic_svc_process(g.svc);
				continue;
			}
			ASSERT_EQ(0, vid_ic_svc_result(g.svc, id, &res));
			ASSERT_TRUE(res.err == 0 || res.err == -EBADMSG);
			vid_ic_svc_info(g.svc, &info);
			ASSERT_EQ(VID_IC_READY, info.state);
		}
		vid_ic_svc_info(g.svc, &info);
		EXPECT_GT(info.bad, 100);
		EXPECT_GT(info.answers, 100);
		if (kinds[k] == VID_IC_HEARTBEAT || kinds[k] == VID_IC_KVP)
			still_works(_metadata, &g);
		tguest_teardown(&g);
	}
}

/* Answers to nothing outstanding are dropped, the real one still counts. */
TEST(stale_answers_dropped)
{
	struct vid_ic_result res;
	struct vid_ic_info info;
	struct mangle m;

	mangle_setup(&m, VID_IC_HEARTBEAT);
	gsend(&m.g.out, m.tid + 1, gbuf, m.len);	/* wrong id */
	gsend(&m.g.out, m.tid - 1, gbuf, m.len);	/* an old one */
	vid_ic_svc_process(m.g.svc);
	EXPECT_EQ(-EINPROGRESS, vid_ic_svc_result(m.g.svc, m.id, &res));
	ASSERT_EQ(0, mangle_send(&m, &res));
	EXPECT_EQ(0, res.err);
	/* The same answer twice: the second is stale. */
	gsend(&m.g.out, m.tid, gbuf, m.len);
	vid_ic_svc_process(m.g.svc);
	vid_ic_svc_info(m.g.svc, &info);
	EXPECT_EQ(3, info.stale);
	EXPECT_EQ(0, info.bad);
	EXPECT_EQ(1, info.beats);
	tguest_teardown(&m.g);
}

/* Short packets and other garbage with no transaction outstanding. */
TEST(unsolicited_garbage)
{
	struct vid_ic_info info;
	struct tguest g;
	uint8_t junk[64] = { 1, 2, 3 };

	tguest_setup(&g, VID_IC_HEARTBEAT, NULL);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	gsend(&g.out, 99, junk, 8);
	gsend(&g.out, 99, junk, sizeof(junk));
	gsend_raw(&g.out, 1, 2, 0, 99, junk, 16);
	EXPECT_EQ(3, vid_ic_svc_process(g.svc));
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(2, info.bad);
	EXPECT_EQ(1, info.stale);
	EXPECT_EQ(VID_IC_READY, info.state);
	still_works(_metadata, &g);
	tguest_teardown(&g);
}

/* A packet larger than any answer: dropped, its transaction failed. */
TEST(oversized_answer)
{
	static uint8_t huge[9000];
	struct vid_ic_result res;
	struct mangle m;

	mangle_setup(&m, VID_IC_HEARTBEAT);
	memcpy(huge, gbuf, m.len);
	gsend(&m.g.out, m.tid, huge, sizeof(huge));
	vid_ic_svc_process(m.g.svc);
	ASSERT_EQ(0, vid_ic_svc_result(m.g.svc, m.id, &res));
	EXPECT_EQ(-EBADMSG, res.err);
	EXPECT_EQ(1, svc_bad(&m.g));
	still_works(_metadata, &m.g);
	tguest_teardown(&m.g);
}

/* Bad answers to NEGOTIATE: the service fails, nothing else happens. */
TEST(negotiate_bad_answers)
{
	int sp;

	for (sp = 0; sp < 5; sp++) {
		struct vid_icmsg_negotiate *n =
			(void *)(gbuf + VID_ICMSG_HDR_SIZE);
		struct vid_ic_info info;
		struct tguest g;
		uint64_t tid;
		uint32_t len;

		tguest_setup(&g, VID_IC_SHUTDOWN, NULL);
		ASSERT_EQ(0, vid_ic_svc_start(g.svc));
		len = tguest_take(&g, &tid);
		lx_handle(&g, gbuf, len);
		switch (sp) {
		case 0:	/* a framework version never offered */
			n->icversion_data[0].major = 2;
			break;
		case 1:	/* a service version never offered */
			n->icversion_data[1].minor = 7;
			break;
		case 2:	/* two of each */
			n->icframe_vercnt = 2;
			break;
		case 3:	/* too short for the versions */
			len = VID_ICMSG_HDR_SIZE + 8;
			break;
		case 4:	/* a request, not an answer */
			((struct vid_icmsg_hdr *)(gbuf + 8))->icflags =
				ICMSGHDRFLAG_REQUEST;
			break;
		}
		gsend(&g.out, tid, gbuf, len);
		vid_ic_svc_process(g.svc);
		vid_ic_svc_info(g.svc, &info);
		EXPECT_EQ(VID_IC_FAILED, info.state) TH_LOG("case %d", sp);
		EXPECT_EQ(1, info.bad);
		EXPECT_EQ(0, info.version);
		EXPECT_EQ(-ENOTCONN, vid_ic_svc_shutdown(g.svc, 0, 0, 0, ""));
		/* Reopened, a good guest gets it right. */
		ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
		tguest_teardown(&g);
	}
}

/* A corrupt ring: BROKEN, every later call fails cleanly. */
TEST(corrupt_ring)
{
	struct vid_ic_result res;
	struct vid_ic_info info;
	struct tguest g;
	int64_t id;

	tguest_setup(&g, VID_IC_HEARTBEAT, NULL);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	id = vid_ic_svc_heartbeat(g.svc);
	ASSERT_GT(id, 0);
	*g.out.write_index = 13;	/* misaligned */
	EXPECT_EQ(-EBADMSG, vid_ic_svc_process(g.svc));
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(VID_IC_BROKEN, info.state);
	ASSERT_EQ(0, vid_ic_svc_result(g.svc, id, &res));
	EXPECT_EQ(-ENOTCONN, res.err);
	EXPECT_EQ(-ENOTCONN, vid_ic_svc_heartbeat(g.svc));
	EXPECT_EQ(-EBADMSG, vid_ic_svc_process(g.svc));
	vid_ic_svc_tick(g.svc);
	EXPECT_TRUE(vid_vmbus_chan_is_broken(g.ch));
	tguest_teardown(&g);
}

/* Closed mid-transaction, reopened: renegotiated from scratch. */
TEST(close_and_reopen)
{
	struct vid_ic_result res;
	struct vid_ic_info info;
	struct tguest g;
	int64_t id;

	tguest_setup(&g, VID_IC_KVP, NULL);
	ASSERT_EQ(VID_IC_READY, tguest_negotiate(&g));
	id = vid_ic_svc_kvp(g.svc, VID_IC_KVP_OP_ENUMERATE, 2, 0, NULL, NULL);
	ASSERT_GT(id, 0);
	vid_ic_svc_stop(g.svc);
	ASSERT_EQ(0, vid_ic_svc_result(g.svc, id, &res));
	EXPECT_EQ(-ENOTCONN, res.err);
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(VID_IC_CLOSED, info.state);
	EXPECT_EQ(0, info.version);

	/* The guest's late answer to the old transaction is stale. */
	tguest_run(&g);
	ASSERT_EQ(0, vid_ic_svc_start(g.svc));
	tguest_run(&g);
	vid_ic_svc_process(g.svc);
	vid_ic_svc_info(g.svc, &info);
	EXPECT_EQ(VID_IC_READY, info.state);
	EXPECT_EQ(2, info.negotiations);
	EXPECT_EQ(1, info.stale);
	EXPECT_EQ(0, info.bad);
	tguest_teardown(&g);
}

/* ---- the channel helper itself ---- */

TEST(chan_attach_layouts)
{
	struct vid_vmbus_chan *ch;
	uint8_t *mem = aligned_alloc(PG, 8 * PG);
	void *pages[8];
	int i;

	ASSERT_NE(NULL, mem);
	memset(mem, 0, 8 * PG);
	for (i = 0; i < 8; i++)
		pages[i] = mem + i * PG;
	ASSERT_EQ(0, vid_vmbus_chan_local(NULL, NULL, &ch));
	EXPECT_FALSE(vid_vmbus_chan_is_open(ch));
	EXPECT_EQ(-ENOTCONN, vid_vmbus_chan_send(ch, 6, 0, 1, "x", 1));
	EXPECT_EQ(-EINVAL, vid_vmbus_chan_attach(ch, pages, 8, 1));
	EXPECT_EQ(-EINVAL, vid_vmbus_chan_attach(ch, pages, 8, 7));
	EXPECT_EQ(-EINVAL, vid_vmbus_chan_attach(ch, pages, 3, 2));
	EXPECT_EQ(-EINVAL, vid_vmbus_chan_attach(ch, pages, 8, 9));
	pages[3] = mem + 3 * PG + 8;	/* not page aligned */
	EXPECT_EQ(-EINVAL, vid_vmbus_chan_attach(ch, pages, 8, 4));
	pages[3] = mem + 3 * PG;
	/* A guest index out of range: attached, but broken. */
	((uint32_t *)(mem + 4 * PG))[1] = 3 * PG;
	EXPECT_EQ(-EBADMSG, vid_vmbus_chan_attach(ch, pages, 8, 4));
	EXPECT_TRUE(vid_vmbus_chan_is_broken(ch));
	EXPECT_EQ(-EBADMSG, vid_vmbus_chan_send(ch, 6, 0, 1, "x", 1));
	vid_vmbus_chan_detach(ch);
	((uint32_t *)(mem + 4 * PG))[1] = 0;
	EXPECT_EQ(0, vid_vmbus_chan_attach(ch, pages, 8, 4));
	EXPECT_TRUE(vid_vmbus_chan_is_open(ch));
	EXPECT_EQ(-EBUSY, vid_vmbus_chan_attach(ch, pages, 8, 4));
	EXPECT_EQ(-1, vid_vmbus_chan_fd(ch));
	EXPECT_EQ(0, vid_vmbus_chan_ack_signals(ch));
	vid_vmbus_chan_free(ch);
	free(mem);
}

TEST(chan_send_recv_signals)
{
	struct vid_vmbus_pkt pkt;
	uint8_t buf[256], big[200] = { 0 };
	struct tguest g;
	uint64_t tid;
	uint32_t len;
	uint16_t type;

	tguest_setup(&g, VID_IC_HEARTBEAT, NULL);
	/* Two packets: one signal (empty -> non-empty only). */
	ASSERT_EQ(0, vid_vmbus_chan_send(g.ch, 6, 1, 42, "hello", 5));
	ASSERT_EQ(0, vid_vmbus_chan_send(g.ch, 6, 0, 43, "again!!!", 8));
	EXPECT_EQ(1, g.signals);
	ASSERT_EQ(0, grecv(&g.in, gbuf, sizeof(gbuf), &len, &tid, &type));
	EXPECT_EQ(8, len);
	EXPECT_EQ(42, tid);
	EXPECT_EQ(6, type);
	EXPECT_EQ(0, memcmp(gbuf, "hello", 5));
	ASSERT_EQ(0, grecv(&g.in, gbuf, sizeof(gbuf), &len, &tid, NULL));
	/* The guest masks interrupts: no signal for the next one. */
	*g.in.interrupt_mask = 1;
	ASSERT_EQ(0, vid_vmbus_chan_send(g.ch, 6, 0, 44, "x", 1));
	EXPECT_EQ(1, g.signals);

	EXPECT_EQ(-EAGAIN, vid_vmbus_chan_recv(g.ch, buf, sizeof(buf), &pkt));
	gsend(&g.out, 7, "abcdefgh", 8);
	ASSERT_EQ(0, vid_vmbus_chan_recv(g.ch, buf, sizeof(buf), &pkt));
	EXPECT_EQ(6, pkt.type);
	EXPECT_EQ(7, pkt.trans_id);
	EXPECT_EQ(8, pkt.len);
	EXPECT_EQ(0, memcmp(pkt.data, "abcdefgh", 8));
	/* Too large for the buffer: dropped, the next one comes through. */
	gsend(&g.out, 8, big, sizeof(big));
	gsend(&g.out, 9, "z", 1);
	EXPECT_EQ(-EMSGSIZE, vid_vmbus_chan_recv(g.ch, buf, 64, &pkt));
	EXPECT_EQ(8, pkt.trans_id);
	EXPECT_EQ(NULL, pkt.data);
	ASSERT_EQ(0, vid_vmbus_chan_recv(g.ch, buf, 64, &pkt));
	EXPECT_EQ(9, pkt.trans_id);
	EXPECT_EQ(-EINVAL, vid_vmbus_chan_recv(g.ch, buf, 8, &pkt));
	/* A full ring: -EAGAIN, then space again once the guest reads. */
	while (vid_vmbus_chan_send(g.ch, 6, 0, 1, big, sizeof(big)) == 0)
		;
	EXPECT_EQ(-EAGAIN, vid_vmbus_chan_send(g.ch, 6, 0, 1, big,
					       sizeof(big)));
	while (!grecv(&g.in, gbuf, sizeof(gbuf), &len, &tid, NULL))
		;
	EXPECT_EQ(0, vid_vmbus_chan_send(g.ch, 6, 0, 1, big, sizeof(big)));
	vid_vmbus_chan_detach(g.ch);
	EXPECT_EQ(-ENOTCONN, vid_vmbus_chan_recv(g.ch, buf, 64, &pkt));
	tguest_teardown(&g);
}

/*
 * The mapping goes away under the channel (the kernel zaps it at the
 * guest's CLOSE before the event is read): the access faults, the call
 * fails with -ENOTCONN, the process lives on.
 */
TEST(chan_mapping_gone)
{
	struct vid_vmbus_pkt pkt;
	struct vid_vmbus_chan *ch;
	uint8_t buf[64];
	int fd = memfd_create("ring", MFD_CLOEXEC);
	void *map;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, 8 * PG));
	map = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, vid_vmbus_chan_local(NULL, NULL, &ch));
	ASSERT_EQ(0, vid_vmbus_chan_attach_map(ch, map, 8, 4));
	ASSERT_EQ(0, vid_vmbus_chan_send(ch, 6, 0, 1, "x", 1));
	ASSERT_EQ(0, ftruncate(fd, 0));
	EXPECT_EQ(-ENOTCONN, vid_vmbus_chan_send(ch, 6, 0, 2, "y", 1));
	EXPECT_FALSE(vid_vmbus_chan_is_open(ch));
	EXPECT_EQ(-ENOTCONN, vid_vmbus_chan_recv(ch, buf, sizeof(buf), &pkt));
	/* Gone for good until the next attach; the mapping is the channel's. */
	vid_vmbus_chan_detach(ch);
	ASSERT_EQ(0, ftruncate(fd, 8 * PG));
	map = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, vid_vmbus_chan_attach_map(ch, map, 8, 4));
	EXPECT_EQ(-EAGAIN, vid_vmbus_chan_recv(ch, buf, sizeof(buf), &pkt));
	ASSERT_EQ(0, ftruncate(fd, 0));
	EXPECT_EQ(-ENOTCONN, vid_vmbus_chan_recv(ch, buf, sizeof(buf), &pkt));
	vid_vmbus_chan_free(ch);
	close(fd);
}

/* ---- the host with its worker thread, blocking calls ---- */

/*
 * All four services on local channels, served by the host's worker
 * thread; the guest models run in a thread of their own, woken by the
 * host's signals, and kick the host after answering.
 */
struct rig {
	struct tguest g[VID_IC_KINDS];
	struct vid_ic_host *h;
	pthread_t thread;
	int wake;		/* the guests' common eventfd */
	bool stop;
};

static void *rig_guest_thread(void *arg)
{
	struct rig *r = arg;
	struct pollfd pfd = { .fd = r->wake, .events = POLLIN };
	uint64_t v;
	int k, n;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		poll(&pfd, 1, 100);
		if (read(r->wake, &v, sizeof(v)) < 0)
			v = 0;
		for (k = 0, n = 0; k < VID_IC_KINDS; k++)
			n += tguest_run(&r->g[k]);
		if (n)
			vid_ic_host_kick(r->h);
	}
	return NULL;
}

/* @kvp_fw: the KVP guest's framework versions instead of Linux's. */
static void rig_setup(struct rig *r, const struct vid_ic_host_config *cfg,
		      const int *kvp_fw)
{
	struct vid_vmbus_chan *chans[VID_IC_KINDS];
	int k;

	memset(r, 0, sizeof(*r));
	r->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake < 0)
		abort();
	for (k = 0; k < VID_IC_KINDS; k++) {
		tguest_rings(&r->g[k], k);
		r->g[k].evfd = dup(r->wake);
		chans[k] = r->g[k].ch;
	}
	if (kvp_fw) {
		r->g[VID_IC_KVP].fw = kvp_fw;
		r->g[VID_IC_KVP].nfw = 1;
	}
	if (vid_ic_host_create_local(chans, cfg, &r->h))
		abort();
	if (pthread_create(&r->thread, NULL, rig_guest_thread, r))
		abort();
	for (k = 0; k < VID_IC_KINDS; k++)
		if (vid_ic_host_local_open(r->h, k) &&
		    (!cfg->services || cfg->services & 1 << k))
			abort();
}

static void rig_teardown(struct rig *r)
{
	int k;

	__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
	pthread_join(r->thread, NULL);
	vid_ic_host_destroy(r->h);
	for (k = 0; k < VID_IC_KINDS; k++)
		tguest_teardown(&r->g[k]);
	close(r->wake);
}

TEST(host_blocking_calls)
{
	struct vid_ic_host_config cfg = {
		.heartbeat_ms = 5, .timesync_ms = 5,
		.svc = { .now_time = test_now, .ref_time = test_ref },
	};
	char key[64], value[64];
	struct vid_ic_info info;
	struct rig r;
	int i;

	rig_setup(&r, &cfg, NULL);
	ASSERT_EQ(0, vid_ic_kvp_get(r.h, VID_IC_KVP_POOL_AUTO, "OSName",
				    value, sizeof(value), 10000));
	EXPECT_STREQ("Debian GNU/Linux", value);
	ASSERT_EQ(0, vid_ic_kvp_get(r.h, VID_IC_KVP_POOL_AUTO,
				    "FullyQualifiedDomainName", value,
				    sizeof(value), 10000));
	EXPECT_STREQ("vidguest.example", value);
	EXPECT_EQ(-ENOENT, vid_ic_kvp_get(r.h, VID_IC_KVP_POOL_AUTO, "Nope",
					  value, sizeof(value), 10000));
	EXPECT_EQ(-ENOSPC, vid_ic_kvp_get(r.h, VID_IC_KVP_POOL_AUTO, "OSName",
					  value, 4, 10000));
	ASSERT_EQ(0, vid_ic_kvp_enumerate(r.h, VID_IC_KVP_POOL_AUTO, 9, key,
					  sizeof(key), value, sizeof(value),
					  10000));
	EXPECT_STREQ("ProcessorArchitecture", key);
	EXPECT_STREQ("x86_64", value);
	EXPECT_EQ(0, vid_ic_kvp_set(r.h, VID_IC_KVP_POOL_EXTERNAL, "VmName",
				    "vid-demo", 10000));
	EXPECT_EQ(0, vid_ic_timesync_push(r.h, 10000));

	/* The worker beats on its own; wait for three answered beats. */
	for (i = 0; i < 10000; i++) {
		ASSERT_EQ(0, vid_ic_heartbeat_stats(r.h, &info));
		if (info.beats >= 3)
			break;
		usleep(1000);
	}
	EXPECT_GE(info.beats, 3);
	EXPECT_EQ(VID_IC_READY, info.state);
	EXPECT_EQ(0, info.bad);
	ASSERT_EQ(0, vid_ic_info(r.h, VID_IC_TIMESYNC, &info));
	EXPECT_GE(info.samples, 2);	/* the first SYNC and the push */

	EXPECT_EQ(-EREMOTEIO,
		  vid_ic_shutdown_request(r.h, VID_IC_SHUTDOWN_HIBERNATE,
					  "sleep", 10000));
	EXPECT_EQ(-EINVAL, vid_ic_shutdown_request(r.h, 64, "?", 10000));
	EXPECT_EQ(0, vid_ic_shutdown_request(r.h, VID_IC_SHUTDOWN_POWEROFF,
					     "vidvm: shutting down", 10000));
	EXPECT_EQ(VID_IC_SHUTDOWN_POWEROFF, r.g[VID_IC_SHUTDOWN].shutdown_action);
	EXPECT_STREQ("vidvm: shutting down",
		     r.g[VID_IC_SHUTDOWN].shutdown_reason);

	/* A guest that stops answering: the call times out. */
	__atomic_store_n(&r.g[VID_IC_KVP].mute, true, __ATOMIC_RELAXED);
	EXPECT_EQ(-ETIMEDOUT, vid_ic_kvp_enumerate(r.h, 2, 0, key,
						   sizeof(key), value,
						   sizeof(value), 50));
	rig_teardown(&r);
}

/* The command hook: what a VMM console types, what it prints. */
TEST(host_commands)
{
	struct vid_ic_host_config cfg = {
		.svc = { .now_time = test_now, .ref_time = test_ref },
	};
	char *text = NULL;
	size_t len = 0;
	struct rig r;
	FILE *out;

	rig_setup(&r, &cfg, NULL);
	out = open_memstream(&text, &len);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(0, vid_ic_command(r.h, "kvp get OSName", out, 10000));
	EXPECT_EQ(0, vid_ic_command(r.h, "kvp get OSMajorVersion auto", out,
				    10000));
	EXPECT_EQ(-ENOENT, vid_ic_command(r.h, "kvp get Nope", out, 10000));
	EXPECT_EQ(0, vid_ic_command(r.h, "kvp set VmName  my vm", out,
				    10000));
	EXPECT_EQ(0, vid_ic_command(r.h, "kvp list guest", out, 10000));
	EXPECT_EQ(0, vid_ic_command(r.h, "timesync", out, 10000));
	EXPECT_EQ(0, vid_ic_command(r.h, "status", out, 10000));
	EXPECT_EQ(0, vid_ic_command(r.h, "reboot host update", out, 10000));
	EXPECT_EQ(-EINVAL, vid_ic_command(r.h, "kvp get", out, 10000));
	EXPECT_EQ(-EINVAL, vid_ic_command(r.h, "kvp list nopool", out, 10000));
	EXPECT_EQ(-EINVAL, vid_ic_command(r.h, "frobnicate", out, 10000));
	EXPECT_EQ(-EINVAL, vid_ic_command(r.h, "", out, 10000));
	fclose(out);
	EXPECT_NE(NULL, strstr(text, "OSName=Debian GNU/Linux\n"));
	EXPECT_NE(NULL, strstr(text, "OSMajorVersion=6\n"));
	EXPECT_NE(NULL, strstr(text, "timesync: guest clock set\n"));
	EXPECT_NE(NULL, strstr(text, "shutdown: ready framework 3.0 version 3.2"));
	EXPECT_NE(NULL, strstr(text, "reboot: accepted by the guest\n"));
	EXPECT_STREQ("VmName", r.g[VID_IC_KVP].kvp_ext_key);
	EXPECT_STREQ("my vm", r.g[VID_IC_KVP].kvp_ext_value);
	EXPECT_EQ(VID_IC_SHUTDOWN_REBOOT, r.g[VID_IC_SHUTDOWN].shutdown_action);
	EXPECT_STREQ("host update", r.g[VID_IC_SHUTDOWN].shutdown_reason);
	free(text);
	rig_teardown(&r);
}

TEST(host_negotiation_failed_and_absent)
{
	static const int new_fw[] = { 3 << 16 };
	struct vid_ic_host_config cfg = {
		.services = 1 << VID_IC_KVP | 1 << VID_IC_TIMESYNC,
		.svc = { .max_framework = VID_IC_VERSION(1, 0) },
	};
	char value[64];
	struct rig r;

	rig_setup(&r, &cfg, new_fw);
	EXPECT_EQ(-ENODEV, vid_ic_shutdown_request(r.h, 0, "x", 100));
	EXPECT_EQ(-ENODEV, vid_ic_heartbeat_stats(r.h, &(struct vid_ic_info){}));
	/* The call waits for the negotiation, then fails. */
	EXPECT_EQ(-EPROTONOSUPPORT, vid_ic_kvp_get(r.h, VID_IC_KVP_POOL_AUTO,
						   "OSName", value,
						   sizeof(value), 10000));
	/* Linux speaks framework 1.0 too: timesync works. */
	EXPECT_EQ(0, vid_ic_timesync_push(r.h, 10000));
	rig_teardown(&r);
}

TEST(names)
{
	EXPECT_STREQ("heartbeat", vid_ic_kind_name(VID_IC_HEARTBEAT));
	EXPECT_STREQ("kvp", vid_ic_kind_name(VID_IC_KVP));
	EXPECT_STREQ("?", vid_ic_kind_name(VID_IC_KINDS));
	EXPECT_STREQ("ready", vid_ic_state_name(VID_IC_READY));
	EXPECT_STREQ("?", vid_ic_state_name(9));
	/* HV_HEART_BEAT_GUID's first field, little-endian. */
	EXPECT_EQ(0x39, vid_ic_guid_heartbeat[0]);
	EXPECT_EQ(0x57, vid_ic_guid_heartbeat[3]);
	EXPECT_EQ(0x2d, vid_ic_guid_heartbeat[15]);
}

TEST_HARNESS_MAIN
