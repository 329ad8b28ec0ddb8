// SPDX-License-Identifier: GPL-2.0
/*
 * The echo VSP (protocol in vsp_echo.h): echoes, swallows or produces
 * packets, so that a guest's VSC can test and measure a channel from its
 * side. It also shows the kernel VSP interface (vsp.h) at its simplest.
 */
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "vsp.h"
#include "vsp_echo.h"

#define VM_PKT_DATA_INBAND	6
#define VM_PKT_COMP		11

/* Pattern bytes: SOURCE packet seq has byte j at vid_echo_pattern[seq + j]. */
#define VID_ECHO_PATTERN_SIZE	(VID_ECHO_MAX_SIZE + 256)

static u8 *vid_echo_pattern;

/**
 * struct vid_echo - one open echo channel
 * @stats: counters since open or the last STATS.
 * @src_left: SOURCE packets still to send.
 * @src_size: their payload size.
 * @src_seq: the next one's sequence number.
 * @src_done: SOURCE_DONE still to send.
 */
struct vid_echo {
	struct vid_echo_stats stats;
	u32 src_left;
	u32 src_size;
	u32 src_seq;
	bool src_done;
};

/* Send what SOURCE still owes; -EAGAIN when the guest's ring is full. */
static int vid_echo_pump(struct vmbus_chan *ch, struct vid_echo *e)
{
	struct vid_echo_hdr hdr = { .cmd = VID_ECHO_CMD_SOURCE };
	struct kvec iov[2];
	int ret;

	while (e->src_left) {
		hdr.size = e->src_size;
		hdr.seq = e->src_seq;
		iov[0].iov_base = &hdr;
		iov[0].iov_len = sizeof(hdr);
		iov[1].iov_base = vid_echo_pattern + (e->src_seq & 0xff) +
				  sizeof(hdr);
		iov[1].iov_len = e->src_size - sizeof(hdr);
		ret = vmbus_chan_sendv(ch, VM_PKT_DATA_INBAND, 0, e->src_seq,
				       iov, 2);
		if (ret == -EAGAIN)
			return ret;
		if (ret) {
			/* never fits (or the channel went): give up, count */
			e->stats.bad++;
			e->src_left = 0;
			e->src_done = false;
			return 0;
		}
		e->src_seq++;
		e->src_left--;
		if (!(e->src_seq % 64))
			cond_resched();
	}
	if (e->src_done) {
		hdr.cmd = VID_ECHO_CMD_SOURCE_DONE;
		hdr.size = sizeof(hdr);
		hdr.seq = e->src_seq;
		ret = vmbus_chan_send(ch, VM_PKT_DATA_INBAND, 0, e->src_seq,
				      &hdr, sizeof(hdr));
		if (ret == -EAGAIN)
			return ret;
		e->src_done = false;
	}
	return 0;
}

static int vid_echo_packet(struct vmbus_chan *ch,
			   const struct vmbus_ring_pkt *pkt, const void *buf)
{
	struct vid_echo *e = vmbus_chan_priv(ch);
	const u8 *payload = (const u8 *)buf + pkt->offset;
	u32 len = pkt->len - pkt->offset;
	struct vid_echo_hdr hdr;
	int ret;

	if (pkt->desc.type != VM_PKT_DATA_INBAND || len < sizeof(hdr)) {
		e->stats.bad++;
		return 0;
	}
	memcpy(&hdr, payload, sizeof(hdr));
	switch (hdr.cmd) {
	case VID_ECHO_CMD_ECHO:
		ret = vmbus_chan_send(ch, VM_PKT_COMP, 0, pkt->desc.trans_id,
				      payload, len);
		if (ret == -EAGAIN)
			return ret;	/* again once the guest read */
		break;
	case VID_ECHO_CMD_SINK:
		break;
	case VID_ECHO_CMD_SOURCE:
		/* a SOURCE still running finishes first */
		if ((e->src_left || e->src_done) &&
		    vid_echo_pump(ch, e) == -EAGAIN)
			return -EAGAIN;
		if (hdr.size < sizeof(hdr) || hdr.size > VID_ECHO_MAX_SIZE) {
			e->stats.bad++;
			return 0;
		}
		e->src_left = hdr.count;
		e->src_size = hdr.size;
		e->src_seq = 0;
		e->src_done = true;
		/* the rest goes from ->writable() as the guest drains */
		vid_echo_pump(ch, e);
		break;
	case VID_ECHO_CMD_STATS:
		e->stats.hdr = hdr;
		ret = vmbus_chan_send(ch, VM_PKT_COMP, 0, pkt->desc.trans_id,
				      &e->stats, sizeof(e->stats));
		if (ret == -EAGAIN)
			return ret;
		memset(&e->stats, 0, sizeof(e->stats));
		return 0;
	default:
		e->stats.bad++;
		return 0;
	}
	e->stats.packets++;
	e->stats.bytes += len;
	return 0;
}

static void vid_echo_writable(struct vmbus_chan *ch)
{
	vid_echo_pump(ch, vmbus_chan_priv(ch));
}

static int vid_echo_open(struct vmbus_chan *ch)
{
	struct vid_echo *e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);

	if (!e)
		return -ENOMEM;
	vmbus_chan_set_priv(ch, e);
	return 0;
}

static void vid_echo_close(struct vmbus_chan *ch)
{
	kfree(vmbus_chan_priv(ch));
	vmbus_chan_set_priv(ch, NULL);
}

static struct vmbus_vsp vid_echo_vsp = {
	.type.b = VID_ECHO_CLASS_GUID_BYTES,
	.name = "echo",
	.open = vid_echo_open,
	.packet = vid_echo_packet,
	.close = vid_echo_close,
	.writable = vid_echo_writable,
};

int vmbus_vsp_echo_init(void)
{
	int i, err;

	vid_echo_pattern = kvmalloc(VID_ECHO_PATTERN_SIZE, GFP_KERNEL);
	if (!vid_echo_pattern)
		return -ENOMEM;
	for (i = 0; i < VID_ECHO_PATTERN_SIZE; i++)
		vid_echo_pattern[i] = i & 0xff;
	err = vmbus_vsp_register(&vid_echo_vsp);
	if (err)
		kvfree(vid_echo_pattern);
	return err;
}

void vmbus_vsp_echo_exit(void)
{
	vmbus_vsp_unregister(&vid_echo_vsp);
	kvfree(vid_echo_pattern);
}
