// SPDX-License-Identifier: LGPL-2.1
/*
 * libvid: the ICMSG framework and the heartbeat, shutdown, timesync and
 * KVP providers, one struct vid_ic_svc per channel (see vmbus_ic.h).
 *
 * Written from the guest's side of the protocol as Linux 6.1 and 6.12
 * implement it (drivers/hv/hv_util.c, hv_kvp.c, channel_mgmt.c,
 * include/linux/hyperv.h, tools/hv/hv_kvp_daemon.c); no code taken.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmbus_ic.h"

/* A packet we take from the guest at most: Linux answers in place. */
#define IC_RX_SIZE	8192
#define IC_TX_SIZE	4096

_Static_assert(sizeof(struct vid_icmsg_hdr) == 20, "icmsg_hdr");
_Static_assert(VID_ICMSG_HDR_SIZE == 28, "ICMSG_HDR");
_Static_assert(sizeof(struct vid_icmsg_negotiate) == 8, "icmsg_negotiate");
_Static_assert(sizeof(struct vid_ic_heartbeat_msg) == 40, "heartbeat");
_Static_assert(sizeof(struct vid_ic_shutdown_msg) == 2060, "shutdown");
_Static_assert(sizeof(struct vid_ic_timesync_msg) == 25, "ictimesync_data");
_Static_assert(sizeof(struct vid_ic_timesync_ref_msg) == 22,
	       "ictimesync_ref_data");
_Static_assert(sizeof(struct vid_ic_kvp_value) == 2572,
	       "hv_kvp_exchg_msg_value");
_Static_assert(sizeof(struct vid_ic_kvp_enum_msg) == 2580, "kvp enumerate");
_Static_assert(VID_ICMSG_HDR_SIZE + sizeof(struct vid_ic_kvp_enum_msg) <=
	       IC_TX_SIZE, "tx buffer");

/* The guid_t bytes of the class GUIDs (see vmbus_ic.h). */
const uint8_t vid_ic_guid_heartbeat[16] = {
	0x39, 0x4f, 0x16, 0x57, 0x15, 0x91, 0x78, 0x4e,
	0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d,
};

const uint8_t vid_ic_guid_shutdown[16] = {
	0x31, 0x60, 0x0b, 0x0e, 0x13, 0x52, 0x34, 0x49,
	0x81, 0x8b, 0x38, 0xd9, 0x0c, 0xed, 0x39, 0xdb,
};

const uint8_t vid_ic_guid_timesync[16] = {
	0x30, 0xe6, 0x27, 0x95, 0xae, 0xd0, 0x7b, 0x49,
	0xad, 0xce, 0xe8, 0x0a, 0xb0, 0x17, 0x5c, 0xaf,
};

const uint8_t vid_ic_guid_kvp[16] = {
	0xe7, 0xf4, 0xa0, 0xa9, 0x45, 0x5a, 0x96, 0x4d,
	0xb8, 0x27, 0x8a, 0x84, 0x1e, 0x8c, 0x03, 0xe6,
};

/*
 * What a Hyper-V host offers, newest first; the guest picks by its own
 * preference. Linux 6.1/6.12 speak framework 3.0 and 1.0, heartbeat 3.0
 * and 1.0, shutdown 3.2, 3.1, 3.0 and 1.0, timesync 4.0, 3.0 and 1.0
 * (4.0 adds the reference time), KVP 4.0, 3.0 and 1.0.
 */
static const uint32_t ic_fw_versions[] = {
	VID_IC_VERSION(3, 0), VID_IC_VERSION(1, 0),
};

static const uint32_t ic_hb_versions[] = {
	VID_IC_VERSION(3, 0), VID_IC_VERSION(1, 0),
};

static const uint32_t ic_sd_versions[] = {
	VID_IC_VERSION(3, 2), VID_IC_VERSION(3, 1), VID_IC_VERSION(3, 0),
	VID_IC_VERSION(1, 0),
};

static const uint32_t ic_ts_versions[] = {
	VID_IC_VERSION(4, 0), VID_IC_VERSION(3, 0), VID_IC_VERSION(1, 0),
};

static const uint32_t ic_kvp_versions[] = {
	VID_IC_VERSION(4, 0), VID_IC_VERSION(3, 0), VID_IC_VERSION(1, 0),
};

#define IC_MAX_OFFER	4

struct ic_kind_desc {
	const char *name;
	uint16_t msgtype;
	const uint32_t *versions;
	unsigned int nversions;
};

static const struct ic_kind_desc ic_kinds[VID_IC_KINDS] = {
	[VID_IC_HEARTBEAT] = { "heartbeat", ICMSGTYPE_HEARTBEAT,
			       ic_hb_versions, 2 },
	[VID_IC_SHUTDOWN] = { "shutdown", ICMSGTYPE_SHUTDOWN,
			      ic_sd_versions, 4 },
	[VID_IC_TIMESYNC] = { "timesync", ICMSGTYPE_TIMESYNC,
			      ic_ts_versions, 3 },
	[VID_IC_KVP] = { "kvp", ICMSGTYPE_KVPEXCHANGE, ic_kvp_versions, 3 },
};

struct vid_ic_svc {
	enum vid_ic_kind kind;
	struct vid_vmbus_chan *ch;
	struct vid_ic_svc_config cfg;
	enum vid_ic_state state;
	uint32_t fw_offer[IC_MAX_OFFER];
	unsigned int nfw;
	uint32_t srv_offer[IC_MAX_OFFER];
	unsigned int nsrv;

	/* The transaction: the last one sent, outstanding or done. */
	uint64_t next_id;
	uint64_t cur_id;
	bool pending;
	uint16_t cur_type;
	uint8_t cur_kvp_op;
	uint64_t cur_seq;
	struct vid_ic_result res;

	bool ts_synced;		/* timesync: SYNC sent since the open */
	unsigned int late_ticks;	/* heartbeat: ticks unanswered */
	struct vid_ic_info info;

	uint8_t tx[IC_TX_SIZE];
	uint8_t rx[IC_RX_SIZE];
};

const char *vid_ic_kind_name(enum vid_ic_kind kind)
{
	return (unsigned int)kind < VID_IC_KINDS ? ic_kinds[kind].name : "?";
}

const char *vid_ic_state_name(enum vid_ic_state state)
{
	static const char *const names[] = {
		[VID_IC_CLOSED] = "closed",
		[VID_IC_NEGOTIATING] = "negotiating",
		[VID_IC_READY] = "ready",
		[VID_IC_FAILED] = "failed",
		[VID_IC_BROKEN] = "broken",
	};

	return (unsigned int)state < 5 ? names[state] : "?";
}

/* The versions of @list up to @max (0: all), newest first. */
static unsigned int ic_offer(uint32_t *out, const uint32_t *list,
			     unsigned int n, uint32_t max)
{
	unsigned int i, k = 0;

	for (i = 0; i < n && k < IC_MAX_OFFER; i++)
		if (!max || list[i] <= max)
			out[k++] = list[i];
	return k;
}

struct vid_ic_svc *vid_ic_svc_new(enum vid_ic_kind kind,
				  struct vid_vmbus_chan *ch,
				  const struct vid_ic_svc_config *cfg)
{
	const struct ic_kind_desc *d;
	struct vid_ic_svc *svc;
	uint32_t max;

	if ((unsigned int)kind >= VID_IC_KINDS || !ch) {
		errno = EINVAL;
		return NULL;
	}
	d = &ic_kinds[kind];
	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return NULL;
	svc->kind = kind;
	svc->ch = ch;
	if (cfg)
		svc->cfg = *cfg;
	if (!svc->cfg.stall_ticks)
		svc->cfg.stall_ticks = 3;
	max = svc->cfg.max_version;
	/* Version 4 carries the reference time: only with a source. */
	if (kind == VID_IC_TIMESYNC && !svc->cfg.ref_time &&
	    (!max || max >= VID_IC_VERSION(4, 0)))
		max = VID_IC_VERSION(3, 0xffff);
	svc->nfw = ic_offer(svc->fw_offer, ic_fw_versions, 2,
			    svc->cfg.max_framework);
	svc->nsrv = ic_offer(svc->srv_offer, d->versions, d->nversions, max);
	if (!svc->nfw || !svc->nsrv) {
		free(svc);
		errno = EINVAL;
		return NULL;
	}
	svc->info.kind = kind;
	return svc;
}

void vid_ic_svc_free(struct vid_ic_svc *svc)
{
	free(svc);
}

static void ic_complete(struct vid_ic_svc *svc, int err)
{
	svc->pending = false;
	svc->res.err = err;
}

/* Send message @msg (@len bytes) of @type as a new transaction. */
static int64_t ic_send(struct vid_ic_svc *svc, uint16_t type,
		       const void *msg, uint32_t len)
{
	struct vid_ic_pipe_hdr pipe = {
		.flags = VID_IC_PIPE_DATA,
		.msgsize = sizeof(struct vid_icmsg_hdr) + len,
	};
	struct vid_icmsg_hdr hdr;
	uint32_t fw, ver;
	uint64_t id;
	int ret;

	if (len > IC_TX_SIZE - VID_ICMSG_HDR_SIZE)
		return -EMSGSIZE;
	if (svc->pending)
		return -EBUSY;
	/* Before an agreement: the newest offered. */
	fw = svc->info.framework ? svc->info.framework : svc->fw_offer[0];
	ver = svc->info.version ? svc->info.version : svc->srv_offer[0];
	id = ++svc->next_id;

	memset(&hdr, 0, sizeof(hdr));
	hdr.icverframe.major = VID_IC_MAJOR(fw);
	hdr.icverframe.minor = VID_IC_MINOR(fw);
	hdr.icmsgtype = type;
	hdr.icvermsg.major = VID_IC_MAJOR(ver);
	hdr.icvermsg.minor = VID_IC_MINOR(ver);
	hdr.icmsgsize = len;
	hdr.ictransaction_id = (uint8_t)id;
	hdr.icflags = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_REQUEST;
	memcpy(svc->tx, &pipe, sizeof(pipe));
	memcpy(svc->tx + sizeof(pipe), &hdr, sizeof(hdr));
	if (msg != svc->tx + VID_ICMSG_HDR_SIZE)
		memcpy(svc->tx + VID_ICMSG_HDR_SIZE, msg, len);

	ret = vid_vmbus_chan_send(svc->ch, VID_VMBUS_PKT_DATA_INBAND, 0, id,
				  svc->tx, VID_ICMSG_HDR_SIZE + len);
	if (ret) {
		svc->info.send_errors++;
		if (ret == -EBADMSG)
			svc->state = VID_IC_BROKEN;
		return ret;
	}
	svc->info.requests++;
	svc->cur_id = id;
	svc->cur_type = type;
	svc->pending = true;
	memset(&svc->res, 0, sizeof(svc->res));
	return (int64_t)id;
}

/* The message area of the transmit buffer, for building in place. */
static void *ic_msg(struct vid_ic_svc *svc, size_t len)
{
	memset(svc->tx + VID_ICMSG_HDR_SIZE, 0, len);
	return svc->tx + VID_ICMSG_HDR_SIZE;
}

int vid_ic_svc_start(struct vid_ic_svc *svc)
{
	struct vid_icmsg_negotiate *neg;
	struct vid_ic_version *v;
	unsigned int i, n = svc->nfw + svc->nsrv;
	uint32_t len = sizeof(*neg) + n * sizeof(*v);
	int64_t id;

	vid_ic_svc_stop(svc);
	svc->state = VID_IC_NEGOTIATING;
	neg = ic_msg(svc, len);
	neg->icframe_vercnt = svc->nfw;
	neg->icmsg_vercnt = svc->nsrv;
	v = neg->icversion_data;
	for (i = 0; i < n; i++) {
		uint32_t ver = i < svc->nfw ? svc->fw_offer[i] :
				svc->srv_offer[i - svc->nfw];

		v[i].major = VID_IC_MAJOR(ver);
		v[i].minor = VID_IC_MINOR(ver);
	}
	id = ic_send(svc, ICMSGTYPE_NEGOTIATE, neg, len);
	if (id < 0) {
		if (svc->state != VID_IC_BROKEN)
			svc->state = VID_IC_FAILED;
		return (int)id;
	}
	return 0;
}

void vid_ic_svc_stop(struct vid_ic_svc *svc)
{
	if (svc->pending)
		ic_complete(svc, -ENOTCONN);
	svc->state = VID_IC_CLOSED;
	svc->info.framework = 0;
	svc->info.version = 0;
	svc->ts_synced = false;
	svc->late_ticks = 0;
	svc->info.stalled = false;
}

/* A malformed answer to the outstanding transaction. */
static void ic_bad(struct vid_ic_svc *svc)
{
	svc->info.bad++;
	if (!svc->pending)
		return;
	ic_complete(svc, -EBADMSG);
	/* Nothing can be agreed with a guest answering garbage to it. */
	if (svc->cur_type == ICMSGTYPE_NEGOTIATE)
		svc->state = VID_IC_FAILED;
}

static bool ic_offered(const uint32_t *list, unsigned int n,
		       const struct vid_ic_version *v)
{
	uint32_t ver = VID_IC_VERSION(v->major, v->minor);
	unsigned int i;

	for (i = 0; i < n; i++)
		if (list[i] == ver)
			return true;
	return false;
}

static void ic_ready(struct vid_ic_svc *svc);

static void ic_answer_negotiate(struct vid_ic_svc *svc, const uint8_t *msg,
				uint32_t len)
{
	struct vid_icmsg_negotiate neg;
	struct vid_ic_version v[2];

	if (len < sizeof(neg) + sizeof(v)) {
		ic_bad(svc);
		return;
	}
	memcpy(&neg, msg, sizeof(neg));
	memcpy(v, msg + sizeof(neg), sizeof(v));
	if (!neg.icframe_vercnt || !neg.icmsg_vercnt) {
		/* A valid answer: the guest speaks none of our versions. */
		ic_complete(svc, 0);
		svc->info.answers++;
		svc->state = VID_IC_FAILED;
		return;
	}
	/* One of each, and among those offered. */
	if (neg.icframe_vercnt != 1 || neg.icmsg_vercnt != 1 ||
	    !ic_offered(svc->fw_offer, svc->nfw, &v[0]) ||
	    !ic_offered(svc->srv_offer, svc->nsrv, &v[1])) {
		ic_bad(svc);
		return;
	}
	ic_complete(svc, 0);
	svc->info.answers++;
	svc->info.framework = VID_IC_VERSION(v[0].major, v[0].minor);
	svc->info.version = VID_IC_VERSION(v[1].major, v[1].minor);
	svc->info.negotiations++;
	svc->state = VID_IC_READY;
	ic_ready(svc);
}

static void ic_answer_heartbeat(struct vid_ic_svc *svc, const uint8_t *msg,
				uint32_t len)
{
	uint64_t seq;

	/* Linux checks only seq_num is there; so do we. */
	if (len < sizeof(seq)) {
		ic_bad(svc);
		return;
	}
	memcpy(&seq, msg, sizeof(seq));
	if (seq != svc->cur_seq + 1) {
		ic_bad(svc);
		return;
	}
	ic_complete(svc, 0);
	svc->res.seq = seq;
	svc->info.answers++;
	svc->info.beats++;
	svc->info.last_seq = seq;
	svc->late_ticks = 0;
	svc->info.stalled = false;
}

/*
 * UTF-16LE at @in (@len bytes, a NUL unit among them) to UTF-8 at @out
 * (@max bytes). Returns 0, or -EBADMSG for a missing NUL or a lone
 * surrogate, -ENOSPC when @out is too small.
 */
static int ic_utf16_to_utf8(const uint8_t *in, size_t len, char *out,
			    size_t max)
{
	size_t i, o = 0;
	uint32_t c, lo;

	for (i = 0; i + 1 < len; i += 2) {
		c = in[i] | in[i + 1] << 8;
		if (!c) {
			if (o >= max)
				return -ENOSPC;
			out[o] = 0;
			return 0;
		}
		if (c >= 0xdc00 && c < 0xe000)
			return -EBADMSG;
		if (c >= 0xd800 && c < 0xdc00) {
			if (i + 3 >= len)
				return -EBADMSG;
			lo = in[i + 2] | in[i + 3] << 8;
			if (lo < 0xdc00 || lo >= 0xe000)
				return -EBADMSG;
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		}
		if (o + 4 >= max)
			return -ENOSPC;
		if (c < 0x80) {
			out[o++] = c;
		} else if (c < 0x800) {
			out[o++] = 0xc0 | c >> 6;
			out[o++] = 0x80 | (c & 0x3f);
		} else if (c < 0x10000) {
			out[o++] = 0xe0 | c >> 12;
			out[o++] = 0x80 | ((c >> 6) & 0x3f);
			out[o++] = 0x80 | (c & 0x3f);
		} else {
			out[o++] = 0xf0 | c >> 18;
			out[o++] = 0x80 | ((c >> 12) & 0x3f);
			out[o++] = 0x80 | ((c >> 6) & 0x3f);
			out[o++] = 0x80 | (c & 0x3f);
		}
	}
	return -EBADMSG;
}

/* Decode one UTF-8 character at @s into *@c; its length, 0 if invalid. */
static int ic_utf8_char(const unsigned char *s, uint32_t *c)
{
	int n, i;

	if (s[0] < 0x80) {
		*c = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		*c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		*c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		*c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*c = *c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode. */
	if ((n == 2 && *c < 0x80) || (n == 3 && *c < 0x800) ||
	    (n == 4 && *c < 0x10000) || *c > 0x10ffff ||
	    (*c >= 0xd800 && *c < 0xe000))
		return 0;
	return n;
}

/*
 * UTF-8 C string @s to UTF-16LE at @out (@max bytes, NUL included).
 * Returns the bytes written with the NUL; -EINVAL for invalid UTF-8;
 * -ENOSPC when it does not fit, unless @truncate (then it stops at the
 * last whole character that fits).
 */
static int ic_utf8_to_utf16(const char *s, uint8_t *out, size_t max,
			    bool truncate)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, need;
	uint32_t c;
	int n;

	if (max < 2)
		return -ENOSPC;
	while (*p) {
		n = ic_utf8_char(p, &c);
		if (!n)
			return -EINVAL;
		need = c >= 0x10000 ? 4 : 2;
		if (o + need + 2 > max) {
			if (!truncate)
				return -ENOSPC;
			break;
		}
		if (c >= 0x10000) {
			c -= 0x10000;
			out[o++] = (0xd800 | c >> 10) & 0xff;
			out[o++] = (0xd800 | c >> 10) >> 8;
			c = 0xdc00 | (c & 0x3ff);
		}
		out[o++] = c & 0xff;
		out[o++] = c >> 8;
		p += n;
	}
	out[o++] = 0;
	out[o++] = 0;
	return (int)o;
}

/* A key or value of a KVP answer: size in range, even, NUL, UTF-16. */
static int ic_kvp_string(const uint8_t *field, uint32_t size, uint32_t max,
			 char *out, size_t out_size)
{
	if (size < 2 || size > max || size % 2)
		return -EBADMSG;
	return ic_utf16_to_utf8(field, size, out, out_size) ? -EBADMSG : 0;
}

static void ic_answer_kvp(struct vid_ic_svc *svc, uint32_t status,
			  const uint8_t *msg, uint32_t len)
{
	const struct vid_ic_kvp_value *v;
	uint32_t need, off;

	if (status != VID_IC_S_OK ||
	    (svc->cur_kvp_op != VID_IC_KVP_OP_ENUMERATE &&
	     svc->cur_kvp_op != VID_IC_KVP_OP_GET)) {
		ic_complete(svc, 0);
		svc->info.answers++;
		return;
	}
	off = svc->cur_kvp_op == VID_IC_KVP_OP_ENUMERATE ?
		offsetof(struct vid_ic_kvp_enum_msg, data) :
		offsetof(struct vid_ic_kvp_getset_msg, data);
	need = off + sizeof(*v);
	if (len < need) {
		ic_bad(svc);
		return;
	}
	/* @msg is our private copy: a packed struct over it is fine. */
	v = (const struct vid_ic_kvp_value *)(msg + off);
	if (v->value_type != VID_IC_KVP_REG_SZ) {
		ic_bad(svc);
		return;
	}
	if (svc->cur_kvp_op == VID_IC_KVP_OP_ENUMERATE &&
	    ic_kvp_string(v->key, v->key_size, VID_IC_KVP_KEY_BYTES,
			  svc->res.key, sizeof(svc->res.key))) {
		ic_bad(svc);
		return;
	}
	if (ic_kvp_string(v->value, v->value_size, VID_IC_KVP_VALUE_BYTES,
			  svc->res.value, sizeof(svc->res.value))) {
		ic_bad(svc);
		return;
	}
	ic_complete(svc, 0);
	svc->info.answers++;
}

/* One packet from the guest. */
static void ic_answer(struct vid_ic_svc *svc, const struct vid_vmbus_pkt *pkt)
{
	struct vid_icmsg_hdr hdr;
	const uint8_t *msg;
	uint32_t len;

	if (pkt->type != VID_VMBUS_PKT_DATA_INBAND ||
	    pkt->len < VID_ICMSG_HDR_SIZE) {
		/* Ours or not, nothing in it can be trusted. */
		if (svc->pending && pkt->trans_id == svc->cur_id) {
			ic_bad(svc);
			return;
		}
		svc->info.bad++;
		return;
	}
	if (!svc->pending || pkt->trans_id != svc->cur_id) {
		svc->info.stale++;
		return;
	}
	memcpy(&hdr, (const uint8_t *)pkt->data +
	       sizeof(struct vid_ic_pipe_hdr), sizeof(hdr));
	msg = (const uint8_t *)pkt->data + VID_ICMSG_HDR_SIZE;
	len = pkt->len - VID_ICMSG_HDR_SIZE;
	if ((hdr.icflags & (ICMSGHDRFLAG_RESPONSE | ICMSGHDRFLAG_REQUEST)) !=
	    ICMSGHDRFLAG_RESPONSE || hdr.icmsgtype != svc->cur_type ||
	    hdr.ictransaction_id != (uint8_t)svc->cur_id ||
	    hdr.icmsgsize > len) {
		ic_bad(svc);
		return;
	}
	svc->res.status = hdr.status;

	switch (hdr.icmsgtype) {
	case ICMSGTYPE_NEGOTIATE:
		ic_answer_negotiate(svc, msg, len);
		return;
	case ICMSGTYPE_HEARTBEAT:
		ic_answer_heartbeat(svc, msg, len);
		return;
	case ICMSGTYPE_KVPEXCHANGE:
		ic_answer_kvp(svc, hdr.status, msg, len);
		return;
	case ICMSGTYPE_TIMESYNC:
		if (hdr.status == VID_IC_S_OK)
			svc->info.samples++;
		break;
	default:
		break;
	}
	ic_complete(svc, 0);
	svc->info.answers++;
}

int vid_ic_svc_process(struct vid_ic_svc *svc)
{
	struct vid_vmbus_pkt pkt;
	int ret, n = 0;

	for (;;) {
		ret = vid_vmbus_chan_recv(svc->ch, svc->rx, sizeof(svc->rx),
					  &pkt);
		if (ret == -EAGAIN || ret == -ENOTCONN)
			break;
		if (ret == -EBADMSG) {
			if (svc->pending)
				ic_complete(svc, -ENOTCONN);
			svc->state = VID_IC_BROKEN;
			return ret;
		}
		n++;
		if (ret == -EMSGSIZE) {
			/* Far larger than anything we sent: malformed. */
			if (svc->pending && pkt.trans_id == svc->cur_id)
				ic_bad(svc);
			else
				svc->info.bad++;
			continue;
		}
		if (ret)
			return ret;
		ic_answer(svc, &pkt);
	}
	return n;
}

int64_t vid_ic_svc_heartbeat(struct vid_ic_svc *svc)
{
	struct vid_ic_heartbeat_msg *m;
	int64_t id;

	if (svc->kind != VID_IC_HEARTBEAT)
		return -EINVAL;
	if (svc->state != VID_IC_READY)
		return -ENOTCONN;
	if (svc->pending)
		return -EBUSY;
	m = ic_msg(svc, sizeof(*m));
	/* The guest answers seq + 1; the next beat goes on from there. */
	m->seq_num = svc->info.last_seq;
	id = ic_send(svc, ICMSGTYPE_HEARTBEAT, m, sizeof(*m));
	if (id > 0)
		svc->cur_seq = m->seq_num;
	return id;
}

int64_t vid_ic_svc_shutdown(struct vid_ic_svc *svc, uint32_t flags,
			    uint32_t reason_code, uint32_t timeout_seconds,
			    const char *reason)
{
	struct vid_ic_shutdown_msg *m;
	int ret;

	if (svc->kind != VID_IC_SHUTDOWN)
		return -EINVAL;
	if (flags & ~(VID_IC_SHUTDOWN_FORCE | VID_IC_SHUTDOWN_REBOOT |
		      VID_IC_SHUTDOWN_HIBERNATE) ||
	    (flags & VID_IC_SHUTDOWN_REBOOT &&
	     flags & VID_IC_SHUTDOWN_HIBERNATE))
		return -EINVAL;
	if (svc->state != VID_IC_READY)
		return -ENOTCONN;
	if (svc->pending)
		return -EBUSY;
	m = ic_msg(svc, sizeof(*m));
	m->reason_code = reason_code;
	m->timeout_seconds = timeout_seconds;
	m->flags = flags;
	ret = ic_utf8_to_utf16(reason ? reason : "", m->display_message,
			       sizeof(m->display_message), true);
	if (ret < 0)
		return ret;
	return ic_send(svc, ICMSGTYPE_SHUTDOWN, m, sizeof(*m));
}

static int ic_now_1601(struct vid_ic_svc *svc, uint64_t *t)
{
	struct timespec ts;

	if (svc->cfg.now_time)
		return svc->cfg.now_time(svc->cfg.opaque, t);
	if (clock_gettime(CLOCK_REALTIME, &ts))
		return -errno;
	*t = (uint64_t)ts.tv_sec * 10000000 + ts.tv_nsec / 100 +
	     VID_IC_TIME_1601_TO_1970;
	return 0;
}

int64_t vid_ic_svc_timesync(struct vid_ic_svc *svc, uint8_t flags)
{
	struct vid_ic_timesync_ref_msg *r;
	struct vid_ic_timesync_msg *m;
	uint64_t now, ref = 0;
	int64_t id;
	int ret;

	if (svc->kind != VID_IC_TIMESYNC)
		return -EINVAL;
	if (flags > VID_IC_TIMESYNC_SAMPLE)
		return -EINVAL;
	if (svc->state != VID_IC_READY)
		return -ENOTCONN;
	if (svc->pending)
		return -EBUSY;
	/* The reference time next to the host time, as close as we can. */
	if (svc->info.version >= VID_IC_VERSION(4, 0)) {
		ret = svc->cfg.ref_time(svc->cfg.opaque, &ref);
		if (ret)
			return ret;
	}
	ret = ic_now_1601(svc, &now);
	if (ret)
		return ret;
	if (svc->info.version >= VID_IC_VERSION(4, 0)) {
		r = ic_msg(svc, sizeof(*r));
		r->parenttime = now;
		r->vmreferencetime = ref;
		r->flags = flags;
		id = ic_send(svc, ICMSGTYPE_TIMESYNC, r, sizeof(*r));
	} else {
		m = ic_msg(svc, sizeof(*m));
		m->parenttime = now;
		m->flags = flags;
		id = ic_send(svc, ICMSGTYPE_TIMESYNC, m, sizeof(*m));
	}
	if (id > 0 && flags == VID_IC_TIMESYNC_SYNC)
		svc->ts_synced = true;
	return id;
}

int64_t vid_ic_svc_kvp(struct vid_ic_svc *svc, uint8_t op, uint8_t pool,
		       uint32_t index, const char *key, const char *value)
{
	struct vid_ic_kvp_getset_msg *gs;
	struct vid_ic_kvp_enum_msg *e;
	struct vid_ic_kvp_value *v;
	int64_t id;
	int ret;

	if (svc->kind != VID_IC_KVP || pool >= VID_IC_KVP_POOL_COUNT)
		return -EINVAL;
	if (op != VID_IC_KVP_OP_ENUMERATE && op != VID_IC_KVP_OP_GET &&
	    op != VID_IC_KVP_OP_SET && op != VID_IC_KVP_OP_DELETE)
		return -EINVAL;
	if (op != VID_IC_KVP_OP_ENUMERATE && !key)
		return -EINVAL;
	if (op == VID_IC_KVP_OP_SET && !value)
		return -EINVAL;
	if (svc->state != VID_IC_READY)
		return -ENOTCONN;
	if (svc->pending)
		return -EBUSY;

	/*
	 * Every operation is sent at full size: the guest writes its answer
	 * in place and sends back as many bytes as it got.
	 */
	if (op == VID_IC_KVP_OP_ENUMERATE) {
		e = ic_msg(svc, sizeof(*e));
		e->hdr.operation = op;
		e->hdr.pool = pool;
		e->index = index;
		id = ic_send(svc, ICMSGTYPE_KVPEXCHANGE, e, sizeof(*e));
	} else {
		gs = ic_msg(svc, sizeof(*gs));
		gs->hdr.operation = op;
		gs->hdr.pool = pool;
		v = &gs->data;
		v->value_type = VID_IC_KVP_REG_SZ;
		ret = ic_utf8_to_utf16(key, v->key, sizeof(v->key), false);
		if (ret < 0)
			return ret == -ENOSPC ? -EINVAL : ret;
		v->key_size = ret;
		if (op == VID_IC_KVP_OP_SET) {
			ret = ic_utf8_to_utf16(value, v->value,
					       sizeof(v->value), false);
			if (ret < 0)
				return ret == -ENOSPC ? -EINVAL : ret;
			v->value_size = ret;
		}
		id = ic_send(svc, ICMSGTYPE_KVPEXCHANGE, gs, sizeof(*gs));
	}
	if (id > 0)
		svc->cur_kvp_op = op;
	return id;
}

/* Negotiation done: what each service does first. */
static void ic_ready(struct vid_ic_svc *svc)
{
	/* The clock is set at once on every (re)open, as Hyper-V does. */
	if (svc->kind == VID_IC_TIMESYNC)
		vid_ic_svc_timesync(svc, VID_IC_TIMESYNC_SYNC);
}

void vid_ic_svc_tick(struct vid_ic_svc *svc)
{
	if (svc->state != VID_IC_READY)
		return;
	switch (svc->kind) {
	case VID_IC_HEARTBEAT:
		if (svc->pending) {
			svc->info.missed++;
			if (++svc->late_ticks >= svc->cfg.stall_ticks &&
			    !svc->info.stalled) {
				svc->info.stalled = true;
				svc->info.stalls++;
			}
			return;
		}
		vid_ic_svc_heartbeat(svc);
		break;
	case VID_IC_TIMESYNC:
		if (!svc->pending)
			vid_ic_svc_timesync(svc, svc->ts_synced ?
					    VID_IC_TIMESYNC_SAMPLE :
					    VID_IC_TIMESYNC_SYNC);
		break;
	default:
		break;
	}
}

int vid_ic_svc_result(const struct vid_ic_svc *svc, int64_t id,
		      struct vid_ic_result *res)
{
	if (id <= 0 || (uint64_t)id != svc->cur_id)
		return -ENOENT;
	if (svc->pending)
		return -EINPROGRESS;
	if (res)
		*res = svc->res;
	return 0;
}

void vid_ic_svc_info(const struct vid_ic_svc *svc, struct vid_ic_info *info)
{
	*info = svc->info;
	info->state = svc->state;
}
