/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMBus ring buffers, root side.
 *
 * A channel has two rings in guest memory, described by a GPADL: one the
 * guest writes and the root reads, one the root writes and the guest
 * reads. Each is a 4 KiB header page followed by a data area of whole
 * pages; write_index and read_index are byte offsets into the data area,
 * always multiples of 8. A packet is a struct vmbus_pkt_desc, the rest of
 * its len8 * 8 bytes, then an 8-byte trailer whose upper 32 bits are the
 * packet's own start offset. The writer never fills the ring completely:
 * write_index == read_index means empty.
 *
 * Guests map the data pages twice, back to back, and copy straight across
 * the end; the root reaches them through one kernel address per page (the
 * pages of a GPADL are guest RAM, contiguous only by chance), so every
 * copy here is split at page boundaries and at the end of the ring
 * explicitly: one memcpy() per run of virtually contiguous pages (guest
 * RAM on huge pages has long runs; all of the ring, one per side of the
 * wrap).
 *
 * The guest is untrusted. The root never reads back the index it owns
 * (read_index as the reader, write_index as the writer): it keeps its own
 * copy and only publishes it. The other side's index is read once per
 * refresh, checked (below the data size, 8-byte aligned) and cached, and
 * is re-read only when the cached value says the ring is empty (reader)
 * or too full (writer). A packet is copied whole into the caller's buffer
 * before anything in it is trusted; the lengths that are then checked are
 * those of the copy, and so is the trailer (its upper half; the lower one
 * is not looked at). Anything inconsistent makes the ring "broken": that
 * call and every later one return -EBADMSG, and the caller closes the
 * channel (that one alone). Nothing here allocates, sleeps or logs.
 *
 * Signalling, the rules Linux guests (drivers/hv/ring_buffer.c) and
 * Windows guests rely on:
 *  - writer: signal the reader only when the packet turned the ring from
 *    empty to non-empty and the reader's interrupt_mask is clear;
 *  - reader: after publishing a new read_index, signal the writer only if
 *    the ring's feature_bits has VMBUS_RING_FEAT_PENDING_SEND_SZ, the
 *    writer's pending_send_sz is non-zero, the free space did not exceed
 *    it before and does now;
 *  - a draining reader sets interrupt_mask (vmbus_ring_mask()) and clears
 *    it when done (vmbus_ring_unmask(), which says whether more arrived);
 *  - a writer that found the ring full asks for a signal with
 *    vmbus_ring_request_space().
 * The functions return "signal needed"; raising the event is the caller's.
 *
 * Batches: a reader may peek and consume several packets and commit once
 * (as Linux's foreach_vmbus_pkt() does), a writer append several and
 * publish once; the rules then apply to the batch as a whole. Each index
 * store is a cache line the other side must fetch back, so batching is
 * what keeps small packets cheap; vmbus_ring_read() and _write() are the
 * one-packet forms.
 *
 * This file builds as userspace C too (selftests/unit/vmbus_ring_test.c,
 * selftests/fuzz/vmbus_ring_fuzz.c, tools/ring_bench.c), with the shims
 * in selftests/unit/.
 *
 * Calling context: any, no locks taken. One reader and one writer per
 * ring: the caller serializes the calls on one struct vmbus_ring.
 */
#ifndef VID_VMBUS_RING_H
#define VID_VMBUS_RING_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#include <linux/uio.h>
#else
#include "kshim.h"
#include "kshim_shmem.h"
#endif

/* feature_bits: the ring's writer sets pending_send_sz when it waits. */
#define VMBUS_RING_FEAT_PENDING_SEND_SZ	BIT(0)

/* Bytes after each packet: (u64)start offset << 32. */
#define VMBUS_RING_TRAILER_SIZE		8

/* The largest data area accepted: indices and sizes stay far from 2^32. */
#define VMBUS_RING_MAX_DATA_SIZE	BIT(30)

/**
 * struct vmbus_ring_hdr - the first bytes of a ring's header page
 * @write_index: where the writer puts the next packet (data-area offset)
 * @read_index: where the reader takes the next packet
 * @interrupt_mask: set by a reader that is draining and needs no signal
 * @pending_send_sz: set by a writer waiting for that many free bytes
 * @reserved: zero
 * @feature_bits: VMBUS_RING_FEAT_*, at byte 64
 *
 * The rest of the 4 KiB header page is reserved; the data area starts at
 * the next page. Layout of Linux's struct hv_ring_buffer.
 */
struct vmbus_ring_hdr {
	u32 write_index;
	u32 read_index;
	u32 interrupt_mask;
	u32 pending_send_sz;
	u32 reserved[12];
	u32 feature_bits;
};

/**
 * struct vmbus_pkt_desc - the descriptor that starts every packet
 * @type: VM_PKT_* (6 is data in band, 11 a completion, ...)
 * @offset8: where the payload starts, in 8-byte units from the descriptor
 * @len8: the packet's length without the trailer, in 8-byte units
 * @flags: 1 = completion requested
 * @trans_id: the sender's transaction id, echoed by a completion
 */
struct vmbus_pkt_desc {
	u16 type;
	u16 offset8;
	u16 len8;
	u16 flags;
	u64 trans_id;
};

/**
 * struct vmbus_ring_pkt - a packet vmbus_ring_peek() or _read() copied out
 * @desc: its descriptor, as copied (the same bytes start the buffer)
 * @len: bytes of the packet in the buffer, descriptor included
 *	 (@desc.len8 * 8); with -ENOBUFS, the buffer size it needs
 * @offset: where its payload starts in the buffer (@desc.offset8 * 8)
 */
struct vmbus_ring_pkt {
	struct vmbus_pkt_desc desc;
	u32 len;
	u32 offset;
};

/**
 * struct vmbus_ring - the root's view of one ring
 * @hdr: the shared header page
 * @data: kernel address of each data page, @size / PAGE_SIZE of them
 * @linear: the data area, when @data's pages are virtually contiguous
 * @size: bytes in the data area, a multiple of PAGE_SIZE
 * @read: the reader's next packet (reader: private, ahead of what it
 *	  published while a batch is open; writer: cached guest read_index)
 * @read_pub: the read_index the reader last published
 * @write: the writer's next packet (writer: private, ahead of what it
 *	   published while a batch is open; reader: cached guest write_index)
 * @write_pub: the write_index the writer last published
 * @pending: writer: the pending_send_sz it asked for, 0 if none
 * @low_water: writer: the least free space it asks the reader for
 * @broken: the guest corrupted the ring; everything returns -EBADMSG
 *
 * All fields are private to vmbus/ring.c. A ring is used in one role, as
 * the reader or as the writer, for its whole life.
 */
struct vmbus_ring {
	struct vmbus_ring_hdr *hdr;
	void *const *data;
	u8 *linear;
	u32 size;
	u32 read;
	u32 read_pub;
	u32 write;
	u32 write_pub;
	u32 pending;
	u32 low_water;
	bool broken;
};

int vmbus_ring_init(struct vmbus_ring *ring, void *const *pages, u32 npages);

/* Reader. */
int vmbus_ring_peek(struct vmbus_ring *ring, void *buf, u32 size,
		    struct vmbus_ring_pkt *pkt);
void vmbus_ring_consume(struct vmbus_ring *ring,
			const struct vmbus_ring_pkt *pkt);
bool vmbus_ring_commit(struct vmbus_ring *ring);
int vmbus_ring_read(struct vmbus_ring *ring, void *buf, u32 size,
		    struct vmbus_ring_pkt *pkt, bool *signal);
void vmbus_ring_mask(struct vmbus_ring *ring);
bool vmbus_ring_unmask(struct vmbus_ring *ring);
bool vmbus_ring_has_data(struct vmbus_ring *ring);

/* Writer. */
int vmbus_ring_append(struct vmbus_ring *ring, const struct kvec *iov, u32 n);
bool vmbus_ring_publish(struct vmbus_ring *ring);
int vmbus_ring_write(struct vmbus_ring *ring, const struct kvec *iov,
		     u32 n, bool *signal);
int vmbus_ring_send(struct vmbus_ring *ring, u16 type, u16 flags,
		    u64 trans_id, const void *data, u32 len, bool *signal);
bool vmbus_ring_request_space(struct vmbus_ring *ring, u32 len);
void vmbus_ring_set_low_water(struct vmbus_ring *ring, u32 bytes);
void vmbus_ring_cancel_space(struct vmbus_ring *ring);

/* Either side. */
bool vmbus_ring_pending_send_supported(const struct vmbus_ring *ring);

#endif /* VID_VMBUS_RING_H */
