// SPDX-License-Identifier: GPL-2.0
/*
 * The integration services end to end: libvid's providers
 * (tools/libvid/vmbus_ic*.c, on the userspace channel fds of
 * uapi/linux/vid_vmbus.h) against a C guest that opens the four
 * channels with the selftests' VMBus client (lib_vmbus_guest.h) and
 * answers every request as Linux's hv_utils and hv_kvp_daemon do
 * (drivers/hv/hv_util.c, hv_kvp.c, vmbus_prep_negotiate_resp()).
 *
 * The VMM side is what vidvm does: vid_ic_host_create() offers the
 * services and serves them from its thread while the test's main thread
 * runs the VP; a second thread makes the blocking calls (KVP reads, a
 * time push, a shutdown request once heartbeats arrive). The guest
 * leaves its loop when it is asked to shut down, as Linux powers off.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vid_vmbus.h>

#include "lib_cguest.h"
#include "lib_vmbus_guest.h"
#include "vmbus_ic.h"

enum { SYNC_INIT = 1, SYNC_OPEN, SYNC_DONE, SYNC_CLOSED };

/* ----- guest side: Linux's util drivers, in short ----- */

static const int lx_fw[] = { 3 << 16, 1 << 16 };
static const int lx_hb[] = { 3 << 16, 1 << 16 };
static const int lx_sd[] = { 3 << 16 | 2, 3 << 16 | 1, 3 << 16, 1 << 16 };
static const int lx_ts[] = { 4 << 16, 3 << 16, 1 << 16 };
static const int lx_kvp[] = { 4 << 16, 3 << 16, 1 << 16 };

static const char *const auto_keys[] = {
	"FullyQualifiedDomainName", "IntegrationServicesVersion",
	"NetworkAddressIPv4", "NetworkAddressIPv6", "OSBuildNumber",
	"OSName", "OSMajorVersion", "OSMinorVersion", "OSVersion",
	"ProcessorArchitecture",
};

static const char *const auto_values[] = {
	"vidguest.example", "3.1", "", "", "6.1.0-56-amd64", "Linux",
	"6", "1", "6.1.158-1", "x86_64",
};

/* What the guest saw; the host reads it with VID_GUEST_GLOBAL(). */
struct gic_state {
	uint32_t versions[VID_IC_KINDS];	/* negotiated */
	uint32_t negotiations;
	uint64_t beats;
	uint64_t last_seq;
	uint32_t ts_count;
	uint32_t ts_syncs;
	uint64_t ts_parent;
	uint32_t kvp_count;
	int32_t shutdown;	/* -1: no request */
	char reason[64];
};

static struct gic_state gic;
static uint8_t gbuf[8192];

static bool gic_negotiate(uint8_t *buf, uint32_t len, const int *srv,
			  int nsrv, uint32_t *out)
{
	struct vid_icmsg_hdr *h = (void *)(buf + 8);
	struct vid_icmsg_negotiate *n = (void *)(buf + VID_ICMSG_HDR_SIZE);
	int fcnt, mcnt, i, j, fw = -1, sv = -1;

	if (len < VID_ICMSG_HDR_SIZE + 8)
		return false;
	h->icmsgsize = 0x10;
	fcnt = n->icframe_vercnt;
	mcnt = n->icmsg_vercnt;
	if (fcnt > 100 || mcnt > 100 ||
	    (int)VID_ICMSG_HDR_SIZE + 8 + 4 * (fcnt + mcnt) > (int)len)
		goto fail;
	for (i = 0; i < 2 && fw < 0; i++)
		for (j = 0; j < fcnt; j++)
			if (n->icversion_data[j].major == lx_fw[i] >> 16 &&
			    n->icversion_data[j].minor == (lx_fw[i] & 0xffff)) {
				fw = lx_fw[i];
				break;
			}
	for (i = 0; i < nsrv && fw >= 0 && sv < 0; i++)
		for (j = fcnt; j < fcnt + mcnt; j++)
			if (n->icversion_data[j].major == srv[i] >> 16 &&
			    n->icversion_data[j].minor == (srv[i] & 0xffff)) {
				sv = srv[i];
				break;
			}
	if (fw < 0 || sv < 0)
		goto fail;
	n->icframe_vercnt = 1;
	n->icmsg_vercnt = 1;
	n->icversion_data[0].major = fw >> 16;
	n->icversion_data[0].minor = fw & 0xffff;
	n->icversion_data[1].major = sv >> 16;
	n->icversion_data[1].minor = sv & 0xffff;
	*out = sv;
	gic.negotiations++;
	return true;
fail:
	n->icframe_vercnt = 0;
	n->icmsg_vercnt = 0;
	return false;
}

static uint32_t gic_utf16(const char *s, uint8_t *out)
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

static void gic_kvp(uint8_t *buf)
{
	struct vid_icmsg_hdr *h = (void *)(buf + 8);
	struct vid_ic_kvp_enum_msg *e = (void *)(buf + VID_ICMSG_HDR_SIZE);

	gic.kvp_count++;
	h->status = VID_IC_S_OK;
	if (e->hdr.operation != VID_IC_KVP_OP_ENUMERATE) {
		h->status = VID_IC_E_FAIL;
		return;
	}
	if (e->hdr.pool != VID_IC_KVP_POOL_AUTO ||
	    e->index >= ARRAY_SIZE(auto_keys)) {
		h->status = VID_IC_S_CONT;
		return;
	}
	e->data.key_size = gic_utf16(auto_keys[e->index], e->data.key);
	e->data.value_size = gic_utf16(auto_values[e->index], e->data.value);
	e->data.value_type = VID_IC_KVP_REG_SZ;
}

/* One request of service @k; false: no answer (as Linux drops it). */
static bool gic_answer(int k, uint8_t *buf, uint32_t len)
{
	struct vid_icmsg_hdr *h = (void *)(buf + 8);
	uint8_t *m = buf + VID_ICMSG_HDR_SIZE;
	static const int *const lists[] = { lx_hb, lx_sd, lx_ts, lx_kvp };
	static const int counts[] = { 2, 4, 3, 3 };
	unsigned int i;

	if (len < VID_ICMSG_HDR_SIZE)
		return false;
	if (h->icmsgtype == ICMSGTYPE_NEGOTIATE) {
		gic_negotiate(buf, len, lists[k], counts[k], &gic.versions[k]);
	} else if (k == VID_IC_HEARTBEAT &&
		   h->icmsgtype == ICMSGTYPE_HEARTBEAT) {
		struct vid_ic_heartbeat_msg *hb = (void *)m;

		if (len < VID_ICMSG_HDR_SIZE + 8)
			return false;
		hb->seq_num += 1;
		gic.last_seq = hb->seq_num;
		gic.beats++;
	} else if (k == VID_IC_SHUTDOWN &&
		   h->icmsgtype == ICMSGTYPE_SHUTDOWN) {
		struct vid_ic_shutdown_msg *s = (void *)m;

		if (len < VID_ICMSG_HDR_SIZE + sizeof(*s))
			return false;
		h->status = s->flags < 4 ? VID_IC_S_OK : VID_IC_E_FAIL;
		gic.shutdown = s->flags;
		for (i = 0; i + 1 < sizeof(gic.reason); i++) {
			if (!s->display_message[2 * i])
				break;
			gic.reason[i] = s->display_message[2 * i];
		}
	} else if (k == VID_IC_TIMESYNC &&
		   h->icmsgtype == ICMSGTYPE_TIMESYNC) {
		/* Both layouts start with parenttime; flags differ. */
		struct vid_ic_timesync_ref_msg *r = (void *)m;
		struct vid_ic_timesync_msg *t = (void *)m;
		uint8_t flags;

		if (len < VID_ICMSG_HDR_SIZE + sizeof(*t))
			return false;
		flags = gic.versions[k] > (3 << 16) ? r->flags : t->flags;
		gic.ts_parent = t->parenttime;
		gic.ts_count++;
		if (flags & VID_IC_TIMESYNC_SYNC)
			gic.ts_syncs++;
	} else if (k == VID_IC_KVP &&
		   h->icmsgtype == ICMSGTYPE_KVPEXCHANGE) {
		gic_kvp(buf);
	} else {
		h->status = VID_IC_E_FAIL;
	}
	h->icflags = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE;
	return true;
}

static void guest_ic(unsigned int vp)
{
	static const uint8_t *const classes[VID_IC_KINDS] = {
		vid_ic_guid_heartbeat, vid_ic_guid_shutdown,
		vid_ic_guid_timesync, vid_ic_guid_kvp,
	};
	struct vmg_channel *ch[VID_IC_KINDS];
	struct vmg_pkt pkt;
	int k, n;

	gic.shutdown = -1;
	GUEST_SYNC(SYNC_INIT, vmg_init());
	GUEST_ASSERT_NE(vmg_connect(0), 0);
	GUEST_ASSERT_EQ(vmg_request_offers(), VID_IC_KINDS);
	for (k = 0; k < VID_IC_KINDS; k++) {
		ch[k] = vmg_find_channel(classes[k], 0);
		GUEST_ASSERT(ch[k]);
		/* hv_utils' rings: 3 data pages and a header each way */
		GUEST_ASSERT_EQ(vmg_open(ch[k], 4, 4), 0);
	}
	GUEST_SYNC(SYNC_OPEN);

	while (gic.shutdown < 0) {
		cli();
		for (k = 0; k < VID_IC_KINDS; k++)
			vmg_event_test_clear(ch[k]);
		n = 0;
		for (k = 0; k < VID_IC_KINDS; k++) {
			while (!vmg_recv(ch[k], gbuf, sizeof(gbuf), &pkt)) {
				n++;
				if (pkt.type != VMG_PKT_DATA_INBAND ||
				    !gic_answer(k, gbuf, pkt.len))
					continue;
				GUEST_ASSERT_EQ(vmg_send(ch[k],
							 VMG_PKT_DATA_INBAND,
							 0, pkt.trans_id, gbuf,
							 pkt.len, NULL, 0), 0);
			}
		}
		/* a signal after the clear above ends this HLT at once */
		if (!n && gic.shutdown < 0)
			sti_hlt();
	}
	sti();
	GUEST_SYNC(SYNC_DONE, gic.beats, gic.ts_count, gic.kvp_count);
}

/* Serve the heartbeat channel alone until @beats beats were answered. */
static void gic_serve_heartbeat(struct vmg_channel *ch, uint64_t beats)
{
	struct vmg_pkt pkt;
	int n;

	while (gic.beats < beats) {
		cli();
		vmg_event_test_clear(ch);
		n = 0;
		while (!vmg_recv(ch, gbuf, sizeof(gbuf), &pkt)) {
			n++;
			if (!gic_answer(VID_IC_HEARTBEAT, gbuf, pkt.len))
				continue;
			GUEST_ASSERT_EQ(vmg_send(ch, VMG_PKT_DATA_INBAND, 0,
						 pkt.trans_id, gbuf, pkt.len,
						 NULL, 0), 0);
		}
		if (!n && gic.beats < beats)
			sti_hlt();
	}
	sti();
}

/*
 * The heartbeat channel closed and opened again (hv_utils unloaded and
 * loaded, a hibernation): the host renegotiates and beats on.
 */
static void guest_reopen(unsigned int vp)
{
	struct vmg_channel *ch;

	gic.shutdown = -1;
	GUEST_SYNC(SYNC_INIT, vmg_init());
	GUEST_ASSERT_NE(vmg_connect(0), 0);
	GUEST_ASSERT_EQ(vmg_request_offers(), 1);
	ch = vmg_find_channel(vid_ic_guid_heartbeat, 0);
	GUEST_ASSERT(ch);
	GUEST_ASSERT_EQ(vmg_open(ch, 4, 4), 0);
	gic_serve_heartbeat(ch, 2);
	vmg_close_teardown(ch);
	GUEST_SYNC(SYNC_CLOSED, gic.beats);
	GUEST_ASSERT_EQ(vmg_open(ch, 4, 4), 0);
	gic_serve_heartbeat(ch, 4);
	GUEST_SYNC(SYNC_DONE, gic.beats, gic.negotiations);
}

/* ----- host side ----- */

FIXTURE(ic) {
	int unused;
};

FIXTURE_SETUP(ic)
{
}

FIXTURE_TEARDOWN(ic)
{
}

static bool have_vmbus(void)
{
	int fd = vid_open();
	long v = fd >= 0 ? vid_check_cap(fd, VID_CAP_VMBUS) : 0;

	if (fd >= 0)
		close(fd);
	return v > 0;
}

/* What the VMM's control thread asks, and what it got. */
struct client {
	struct vid_ic_host *h;
	int os_name;
	char os_name_value[64];
	int fqdn;
	char fqdn_value[64];
	int missing;
	int push;
	int beats;
	int shutdown;
};

#define CALL_MS	120000	/* TCG runs nested guests slowly */

static void *client_thread(void *arg)
{
	struct client *c = arg;
	struct vid_ic_info info;
	int i;

	c->os_name = vid_ic_kvp_get(c->h, VID_IC_KVP_POOL_AUTO, "OSName",
				    c->os_name_value,
				    sizeof(c->os_name_value), CALL_MS);
	c->fqdn = vid_ic_kvp_get(c->h, VID_IC_KVP_POOL_AUTO,
				 "FullyQualifiedDomainName", c->fqdn_value,
				 sizeof(c->fqdn_value), CALL_MS);
	c->missing = vid_ic_kvp_get(c->h, VID_IC_KVP_POOL_AUTO, "NoSuchKey",
				    c->os_name_value + 32, 32, CALL_MS);
	c->push = vid_ic_timesync_push(c->h, CALL_MS);
	/* A few beats, then the guest is asked to power off. */
	c->beats = -ETIMEDOUT;
	for (i = 0; i < 1200; i++) {
		if (vid_ic_heartbeat_stats(c->h, &info))
			break;
		if (info.beats >= 3) {
			c->beats = 0;
			break;
		}
		usleep(100000);
	}
	c->shutdown = vid_ic_shutdown_request(c->h, VID_IC_SHUTDOWN_POWEROFF,
					      "vid_vmbus_ic_test", CALL_MS);
	return NULL;
}

TEST_F_TIMEOUT(ic, linux_guest, 600)
{
	struct vid_ic_host_config cfg = {
		.heartbeat_ms = 200, .timesync_ms = 500,
	};
	struct vid_vmbus_create vc = { 0 };
	struct client c = { 0 };
	struct vid_ic_info info;
	struct gic_state gs;
	struct vid_guest g;
	struct vid_ucall uc;
	pthread_t t;
	int k;

	if (!have_vmbus())
		SKIP(return, "no VMBus server (VID_CAP_VMBUS)");
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_ic);
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_VMBUS_CREATE, &vc));
	ASSERT_EQ(0, vid_ic_host_create(g.part_fd, &cfg, &c.h));

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_INIT, uc.args[0]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_OPEN, uc.args[0]);
	ASSERT_EQ(0, pthread_create(&t, NULL, client_thread, &c));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_DONE, uc.args[0]);
	ASSERT_EQ(0, pthread_join(t, NULL));

	EXPECT_EQ(0, c.os_name);
	EXPECT_STREQ("Linux", c.os_name_value);
	EXPECT_EQ(0, c.fqdn);
	EXPECT_STREQ("vidguest.example", c.fqdn_value);
	EXPECT_EQ(-ENOENT, c.missing);
	EXPECT_EQ(0, c.push);
	EXPECT_EQ(0, c.beats);
	EXPECT_EQ(0, c.shutdown);

	gs = VID_GUEST_GLOBAL(&g, gic);
	EXPECT_EQ(VID_IC_KINDS, gs.negotiations);
	EXPECT_EQ(VID_IC_SHUTDOWN_POWEROFF, gs.shutdown);
	EXPECT_STREQ("vid_vmbus_ic_test", gs.reason);
	EXPECT_GE(gs.beats, 3);
	/* the SYNC after negotiation and the push, at least */
	EXPECT_GE(gs.ts_syncs, 2);
	for (k = 0; k < VID_IC_KINDS; k++) {
		ASSERT_EQ(0, vid_ic_info(c.h, k, &info));
		EXPECT_EQ(VID_IC_READY, info.state)
			TH_LOG("%s", vid_ic_kind_name(k));
		EXPECT_EQ(gs.versions[k], info.version);
		EXPECT_EQ(VID_IC_VERSION(3, 0), info.framework);
		EXPECT_EQ(0, info.bad);
		EXPECT_EQ(0, info.stale);
	}
	/* no reference-time source: timesync 3.0; the rest their newest */
	EXPECT_EQ(VID_IC_VERSION(3, 0), gs.versions[VID_IC_TIMESYNC]);
	EXPECT_EQ(VID_IC_VERSION(3, 2), gs.versions[VID_IC_SHUTDOWN]);
	EXPECT_EQ(VID_IC_VERSION(4, 0), gs.versions[VID_IC_KVP]);
	/* the host may not have taken the guest's last answer yet */
	ASSERT_EQ(0, vid_ic_heartbeat_stats(c.h, &info));
	EXPECT_GE(info.beats, 3);
	EXPECT_LE(info.last_seq, gs.last_seq);
	vid_ic_host_destroy(c.h);
	vid_guest_destroy(&g);
}

/* Every 20 s, what the heartbeat service and the server look like. */
struct watch {
	struct vid_ic_host *h;
	int part_fd;
	bool stop;
};

static void *watch_thread(void *arg)
{
	struct watch *w = arg;
	struct vid_vmbus_info vi;
	struct vid_ic_info info;
	int i;

	for (i = 0; !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE); i++) {
		usleep(100000);
		if (i % 200 != 199)
			continue;
		vid_ic_heartbeat_stats(w->h, &info);
		memset(&vi, 0, sizeof(vi));
		ioctl(w->part_fd, VID_PARTITION_VMBUS_INFO, &vi);
		fprintf(stderr, "# heartbeat: %s negotiations %llu requests %llu answers %llu beats %llu send_errors %llu bad %llu stale %llu; server: open %u messages %llu posted %llu bad %llu\n",
			vid_ic_state_name(info.state),
			(unsigned long long)info.negotiations,
			(unsigned long long)info.requests,
			(unsigned long long)info.answers,
			(unsigned long long)info.beats,
			(unsigned long long)info.send_errors,
			(unsigned long long)info.bad,
			(unsigned long long)info.stale, vi.open_channels,
			(unsigned long long)vi.messages,
			(unsigned long long)vi.posted,
			(unsigned long long)vi.bad_messages);
	}
	return NULL;
}

TEST_F_TIMEOUT(ic, reopen, 600)
{
	struct vid_ic_host_config cfg = {
		.services = 1 << VID_IC_HEARTBEAT, .heartbeat_ms = 100,
	};
	struct vid_vmbus_create vc = { 0 };
	struct watch w = { 0 };
	struct vid_ic_host *h;
	struct vid_ic_info info;
	struct vid_guest g;
	struct vid_ucall uc;
	pthread_t wt;

	if (!have_vmbus())
		SKIP(return, "no VMBus server (VID_CAP_VMBUS)");
	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_reopen);
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_VMBUS_CREATE, &vc));
	ASSERT_EQ(0, vid_ic_host_create(g.part_fd, &cfg, &h));
	EXPECT_EQ(-ENODEV, vid_ic_kvp_get(h, VID_IC_KVP_POOL_AUTO, "OSName",
					  NULL, 0, 0));
	w.h = h;
	w.part_fd = g.part_fd;
	ASSERT_EQ(0, pthread_create(&wt, NULL, watch_thread, &w));

	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_INIT, uc.args[0]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_CLOSED, uc.args[0]);
	fprintf(stderr, "# closed after %llu beats\n",
		(unsigned long long)uc.args[1]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_EQ(SYNC_DONE, uc.args[0]);
	EXPECT_EQ(4, uc.args[1]);
	EXPECT_EQ(2, uc.args[2]);	/* the guest negotiated twice */
	__atomic_store_n(&w.stop, true, __ATOMIC_RELEASE);
	pthread_join(wt, NULL);

	ASSERT_EQ(0, vid_ic_heartbeat_stats(h, &info));
	EXPECT_EQ(VID_IC_READY, info.state);
	EXPECT_GE(info.negotiations, 2);
	EXPECT_GE(info.beats, 3);
	EXPECT_EQ(0, info.bad);
	vid_ic_host_destroy(h);
	vid_guest_destroy(&g);
}

TEST_HARNESS_MAIN
