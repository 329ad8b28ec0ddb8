/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * libvid: a userspace VSP's end of one VMBus channel.
 *
 * VID_PARTITION_VMBUS_OFFER (uapi/linux/vid_vmbus.h) offers a channel to
 * the guest and returns its channel fd. This helper wraps that fd: it
 * reads the channel's events, maps the guest's ring pages while the
 * guest has the channel open, and sends and receives packets through
 * the root-side ring code of the kernel module (vmbus/ring.c, built as
 * userspace C with the shims in selftests/unit/), so a userspace VSP
 * checks guest rings exactly as an in-kernel one does.
 *
 * Layout: the ring GPADL's pages [0, downstream_offset) are the guest ->
 * root ring, the rest the root -> guest ring; each ring is one header
 * page and its data pages. The guest is untrusted: every packet is
 * copied out of shared memory before it is looked at, and a ring the
 * guest corrupted makes every later call on the channel fail with
 * -EBADMSG until the guest opens it again.
 *
 * A channel can also be "local" (no fd): the caller attaches ring pages
 * it owns and gets signals through a callback. Unit tests use that to put
 * a model of the guest on the other end; the providers above cannot tell.
 *
 * SIGBUS: when the guest closes the channel the kernel tears the ring
 * mapping down before the CLOSE event is read, so an access racing with
 * it faults. Every ring access here runs under a per-thread guard: a
 * SIGBUS inside the channel's mapping makes that call return -ENOTCONN
 * (the channel counts as closed until the next OPEN). The process-wide
 * SIGBUS handler is installed at the first vid_vmbus_chan_offer(); faults
 * anywhere else go to the handler that was there before (or kill the
 * process as usual).
 *
 * Close and reopen: the kernel tears the mapping down at CLOSE, but once
 * the guest opened the channel again a stale mapping of the fd faults in
 * the NEW ring pages instead of raising SIGBUS. So send and receive
 * refuse (-ENOTCONN) while events wait on the fd: read them first. Only
 * the instants between that check and the access stay exposed (a kernel
 * that tied each mapping to its open would close them).
 *
 * Threads: a channel is not locked; its user serializes all calls on it.
 * Return values: 0 (or a count) on success, a negative errno on failure.
 */
#ifndef LIBVID_VMBUS_CHAN_H
#define LIBVID_VMBUS_CHAN_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/vid_vmbus.h>

/* VMBus packet types (the descriptor's type field; Linux's VM_PKT_*). */
#define VID_VMBUS_PKT_DATA_INBAND	6
#define VID_VMBUS_PKT_COMP		11
/* Descriptor flag: the sender wants a completion packet. */
#define VID_VMBUS_PKT_FLAG_COMPLETION	1

struct vid_vmbus_chan;

/**
 * struct vid_vmbus_pkt - a packet vid_vmbus_chan_recv() copied out
 * @type: the descriptor's type (VID_VMBUS_PKT_*)
 * @flags: the descriptor's flags
 * @len: payload bytes at @data (after the descriptor; the packet's padding
 *	to 8 bytes included, as the ring carries no finer length)
 * @trans_id: the sender's transaction id
 * @data: the payload, inside the caller's buffer
 */
struct vid_vmbus_pkt {
	uint16_t type;
	uint16_t flags;
	uint32_t len;
	uint64_t trans_id;
	const void *data;
};

/*
 * Offer a userspace channel of class @type with instance @instance (16
 * bytes each, the guest's guid_t byte order) on the partition's VMBus
 * server. @flags: VID_VMBUS_OFFER_NONBLOCK or 0 (VID_VMBUS_OFFER_KERNEL
 * is refused: a kernel channel has no rings here). An eventfd is
 * attached to count the guest's signals. On success *@out is the channel.
 */
int vid_vmbus_chan_offer(int part_fd, const uint8_t type[16],
			 const uint8_t instance[16], uint32_t flags,
			 struct vid_vmbus_chan **out);

/*
 * A channel without an fd: the caller attaches rings with
 * vid_vmbus_chan_attach(); "signal the guest" calls @signal(@opaque)
 * (NULL: nothing to signal).
 */
int vid_vmbus_chan_local(int (*signal)(void *opaque), void *opaque,
			 struct vid_vmbus_chan **out);

/* Unmap, close the fds (which rescinds an offered channel), free. */
void vid_vmbus_chan_free(struct vid_vmbus_chan *ch);

/* The channel fd (-1 for a local channel): poll() it for events. */
int vid_vmbus_chan_fd(const struct vid_vmbus_chan *ch);
/* The eventfd the guest's signals count into (-1 for a local channel). */
int vid_vmbus_chan_eventfd(const struct vid_vmbus_chan *ch);
/* The relid and the guest's signal connection id the offer got. */
uint32_t vid_vmbus_chan_relid(const struct vid_vmbus_chan *ch);
uint32_t vid_vmbus_chan_connection_id(const struct vid_vmbus_chan *ch);

/*
 * Read one event from the channel fd and act on it: OPEN maps the ring
 * pages and attaches the rings, CLOSE detaches and unmaps them, BROKEN
 * marks the channel broken. *@ev gets the event. Returns 0, -EAGAIN (a
 * non-blocking fd with nothing queued), -EPROTO for an OPEN whose ring
 * layout is impossible (the channel then stays closed), or the errno of
 * read()/mmap().
 */
int vid_vmbus_chan_event(struct vid_vmbus_chan *ch,
			 struct vid_vmbus_event *ev);

/*
 * Take over the rings in @pages (@npages page addresses: the GPADL's
 * pages in order), the first @downstream pages being the guest -> root
 * ring. Each ring needs a header page and at least one data page.
 * Returns -EINVAL for an impossible layout, -EBADMSG when the guest left
 * an index out of range, -EBUSY if rings are attached. @pages must stay
 * valid until vid_vmbus_chan_detach() (it is copied; the pages are not).
 */
int vid_vmbus_chan_attach(struct vid_vmbus_chan *ch, void *const *pages,
			  uint32_t npages, uint32_t downstream);
/*
 * The same for rings in one mapping of @npages pages at @map, which the
 * channel then owns: ring accesses are guarded against SIGBUS in it, and
 * it is unmapped at vid_vmbus_chan_detach(). vid_vmbus_chan_event() uses
 * it for the channel fd's mapping.
 */
int vid_vmbus_chan_attach_map(struct vid_vmbus_chan *ch, void *map,
			      uint32_t npages, uint32_t downstream);
/* Forget the rings (a CLOSE, or a local channel's end); unmap a mapping. */
void vid_vmbus_chan_detach(struct vid_vmbus_chan *ch);
/* Rings attached, not broken, mapping not gone. */
bool vid_vmbus_chan_is_open(const struct vid_vmbus_chan *ch);
/* The guest corrupted a ring since it was attached. */
bool vid_vmbus_chan_is_broken(const struct vid_vmbus_chan *ch);

/*
 * Send one in-band style packet: descriptor (@type, @flags, @trans_id),
 * then @len bytes of @data, padded to 8. Signals the guest when the ring
 * rules say so. Returns 0; -ENOTCONN when not open or while events wait
 * to be read (see above); -EAGAIN when the ring is full (pending_send_sz
 * is set: the guest signals when it drained enough); -EMSGSIZE; -EBADMSG
 * when the guest corrupted the ring.
 */
int vid_vmbus_chan_send(struct vid_vmbus_chan *ch, uint16_t type,
			uint16_t flags, uint64_t trans_id, const void *data,
			uint32_t len);

/*
 * Copy the next guest packet into @buf (@size bytes; the descriptor is
 * copied too) and describe it in *@pkt. Signals the guest when it waits
 * for space. Returns 0; -EAGAIN when the ring is empty; -ENOTCONN when
 * not open or while events wait to be read; -EMSGSIZE for a packet
 * larger than @size (it is dropped: pkt->len says how long its payload
 * was); -EBADMSG when the guest corrupted the ring.
 */
int vid_vmbus_chan_recv(struct vid_vmbus_chan *ch, void *buf, uint32_t size,
			struct vid_vmbus_pkt *pkt);

/* Interrupt the guest for this channel (VID_VMBUS_CHANNEL_SIGNAL). */
int vid_vmbus_chan_signal(struct vid_vmbus_chan *ch);

/*
 * Consume the guest's signals counted in the eventfd; returns how many
 * (0 if none, or for a local channel).
 */
int vid_vmbus_chan_ack_signals(struct vid_vmbus_chan *ch);

#endif /* LIBVID_VMBUS_CHAN_H */
