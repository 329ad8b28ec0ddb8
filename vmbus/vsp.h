/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel VSPs: the device side of a VMBus channel, in the root's
 * kernel (Hyper-V's storvsp/vmswitch role). A VSP registers its device
 * class GUID once; every channel the VMM offers with
 * VID_VMBUS_OFFER_KERNEL and that class is served by it:
 *
 *  ->open() when the guest opens the channel (its rings are mapped and
 *	checked by then); non-zero refuses the open (the guest sees a
 *	failed OPENCHANNEL_RESULT).
 *  ->packet() for each packet the guest writes, whole and already
 *	copied out of guest memory (@buf holds @pkt->len bytes, the
 *	payload at @pkt->offset). Packets are read in a work item after
 *	the guest's signal, in order, one call at a time per channel.
 *	Return 0 when done with it, or -EAGAIN to leave it in the ring
 *	(a reply did not fit): it comes again, with ->writable(), once
 *	the guest made room. That is the channel's back-pressure.
 *  ->close() when the guest closes, unloads or the channel is
 *	rescinded; no call for this channel runs after it returns, and
 *	vmbus_chan_send() fails from then on.
 *
 * All three run in process context and may sleep, but a long ->packet()
 * holds up the channel. vmbus_chan_send() may be called from any process
 * context while the channel is open (it serializes writers itself);
 * -EAGAIN means the guest's ring is full: the VSP retries after its next
 * ->packet() or from ->writable() (called once the guest freed the space
 * the failed send needed).
 *
 * A ring the guest corrupts stops the channel's I/O at once and has it
 * rescinded (->close(), a rate-limited log line, a BROKEN event for the
 * VMM; the guest's other channels untouched). The reader relies on the
 * guest honouring pending_send_sz (Linux does): a guest that never
 * signals for space leaves a stalled channel stalled, nothing else.
 */
#ifndef VID_VMBUS_VSP_H
#define VID_VMBUS_VSP_H

#include <linux/list.h>
#include <linux/types.h>
#include <linux/uuid.h>

#include "ring.h"

struct vmbus_chan;

/**
 * struct vmbus_vsp - a kernel VSP
 * @type: the device class GUID it serves.
 * @name: for logs.
 * @open: see above. Required.
 * @packet: see above. Required.
 * @close: see above. Optional.
 * @writable: see above. Optional.
 * @node: private.
 */
struct vmbus_vsp {
	guid_t type;
	const char *name;
	int (*open)(struct vmbus_chan *ch);
	int (*packet)(struct vmbus_chan *ch, const struct vmbus_ring_pkt *pkt,
		      const void *buf);
	void (*close)(struct vmbus_chan *ch);
	void (*writable)(struct vmbus_chan *ch);
	struct list_head node;
};

/* -EEXIST if another VSP serves the class. */
int vmbus_vsp_register(struct vmbus_vsp *vsp);
/* Only when no partition can use it any more (module exit). */
void vmbus_vsp_unregister(struct vmbus_vsp *vsp);

/*
 * Send one packet to the guest: descriptor type @type (VM_PKT_*), @flags
 * (1 = completion requested), @trans_id, then @len bytes of @data.
 * Signals the guest when its rules say so. -ENOTCONN when not open,
 * -EAGAIN when the ring is full, -EMSGSIZE when it can never fit,
 * -EBADMSG when the guest broke the ring.
 */
int vmbus_chan_send(struct vmbus_chan *ch, u16 type, u16 flags, u64 trans_id,
		    const void *data, u32 len);
/* The same with the payload in up to VMBUS_CHAN_SEND_IOV pieces. */
#define VMBUS_CHAN_SEND_IOV	3
int vmbus_chan_sendv(struct vmbus_chan *ch, u16 type, u16 flags,
		     u64 trans_id, const struct kvec *iov, u32 n);

/* The VSP's own pointer for this channel (NULL until set). */
void *vmbus_chan_priv(struct vmbus_chan *ch);
void vmbus_chan_set_priv(struct vmbus_chan *ch, void *priv);
/* The channel's relid and the guest's open user data (120 bytes). */
u32 vmbus_chan_relid(struct vmbus_chan *ch);
const u8 *vmbus_chan_userdata(struct vmbus_chan *ch);

/* The VSPs built into vid.ko (vmbus/vsp_*.c). */
int vmbus_vsp_echo_init(void);
void vmbus_vsp_echo_exit(void);

#endif /* VID_VMBUS_VSP_H */
