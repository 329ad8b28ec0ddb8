// SPDX-License-Identifier: GPL-2.0
/*
 * VMBus ring buffers, root side: see ring.h for the layout, the trust
 * model and the signalling rules.
 *
 * Index arithmetic: every offset kept here is below @size and a multiple
 * of 8, and every length added to one is below @size, so one conditional
 * subtraction wraps it. The data area is a whole number of pages, so a
 * copy split at page boundaries never straddles the end of the ring, and
 * an 8-byte word at an 8-aligned offset never straddles a page.
 */
#ifdef __KERNEL__
#include <linux/align.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <asm/barrier.h>
#include <asm/page.h>
#endif

#include "ring.h"

static_assert(offsetof(struct vmbus_ring_hdr, interrupt_mask) == 8,
	      "hv_ring_buffer layout");
static_assert(offsetof(struct vmbus_ring_hdr, pending_send_sz) == 12,
	      "hv_ring_buffer layout");
static_assert(offsetof(struct vmbus_ring_hdr, feature_bits) == 64,
	      "hv_ring_buffer layout");
static_assert(sizeof(struct vmbus_pkt_desc) == 16, "vmpacket_descriptor");

#define VMBUS_PKT_DESC_SIZE	((u32)sizeof(struct vmbus_pkt_desc))

/* The largest packet a descriptor can describe: len8 is 16 bits. */
#define VMBUS_PKT_MAX_LEN	(0xffffU * 8)

static bool vmbus_ring_index_ok(const struct vmbus_ring *ring, u32 idx)
{
	return idx < ring->size && IS_ALIGNED(idx, 8);
}

/* @off + @len, both below @size, wrapped into the ring. */
static u32 vmbus_ring_add(const struct vmbus_ring *ring, u32 off, u32 len)
{
	off += len;
	return off >= ring->size ? off - ring->size : off;
}

/* Bytes from @from forward to @to: 0 when they are equal. */
static u32 vmbus_ring_dist(const struct vmbus_ring *ring, u32 from, u32 to)
{
	return to >= from ? to - from : ring->size - from + to;
}

/* Bytes the writer may still use, as in Linux: @size when empty. */
static u32 vmbus_ring_free(const struct vmbus_ring *ring)
{
	return ring->size - vmbus_ring_dist(ring, ring->read, ring->write);
}

static u8 *vmbus_ring_ptr(const struct vmbus_ring *ring, u32 off)
{
	return (u8 *)ring->data[off >> PAGE_SHIFT] + (off & (PAGE_SIZE - 1));
}

/* The 8-byte word at 8-aligned offset @off, read once. */
static u64 vmbus_ring_load64(const struct vmbus_ring *ring, u32 off)
{
	return READ_ONCE(*(u64 *)vmbus_ring_ptr(ring, off));
}

/*
 * Where the data at ring offset @off is (*@p), and how much of @len lies
 * there in one stretch of addresses: to the end of its page, and on
 * across following pages that happen to be virtually contiguous with it
 * (guest RAM backed by huge pages), never past the end of the ring.
 */
static u32 vmbus_ring_chunk(const struct vmbus_ring *ring, u32 off, u32 len,
			    u8 **p)
{
	u32 pg = off >> PAGE_SHIFT, last = (ring->size >> PAGE_SHIFT) - 1;
	u32 n = PAGE_SIZE - (off & (PAGE_SIZE - 1));

	*p = vmbus_ring_ptr(ring, off);
	while (n < len && pg < last && ring->data[pg + 1] == *p + n) {
		pg++;
		n += PAGE_SIZE;
	}
	return min(n, len);
}

static int vmbus_ring_corrupt(struct vmbus_ring *ring)
{
	ring->broken = true;
	return -EBADMSG;
}

/* Copy @len bytes (at most @size) at ring offset @off out to @dst. */
static void vmbus_ring_copy_from(const struct vmbus_ring *ring, void *dst,
				 u32 off, u32 len)
{
	u8 *d = dst, *p;
	u32 n;

	if (ring->linear) {
		n = min(len, ring->size - off);
		memcpy(d, ring->linear + off, n);
		if (len > n)
			memcpy(d + n, ring->linear, len - n);
		return;
	}
	while (len) {
		n = vmbus_ring_chunk(ring, off, len, &p);
		memcpy(d, p, n);
		d += n;
		len -= n;
		off = vmbus_ring_add(ring, off, n);
	}
}

/* Copy @len bytes from @src into the ring at @off; the offset after. */
static u32 vmbus_ring_copy_to(const struct vmbus_ring *ring, u32 off,
			      const void *src, u32 len)
{
	const u8 *s = src;
	u8 *p;
	u32 n;

	if (ring->linear) {
		n = min(len, ring->size - off);
		memcpy(ring->linear + off, s, n);
		if (len > n)
			memcpy(ring->linear, s + n, len - n);
		return vmbus_ring_add(ring, off, len);
	}
	while (len) {
		n = vmbus_ring_chunk(ring, off, len, &p);
		memcpy(p, s, n);
		s += n;
		len -= n;
		off = vmbus_ring_add(ring, off, n);
	}
	return off;
}

/*
 * Where @len bytes at ring offset @off are, if they lie in one stretch of
 * kernel addresses (short of the end of the ring).
 */
static u8 *vmbus_ring_span(const struct vmbus_ring *ring, u32 off, u32 len)
{
	u8 *p;

	if (ring->linear)
		return len <= ring->size - off ? ring->linear + off : NULL;
	return vmbus_ring_chunk(ring, off, len, &p) == len ? p : NULL;
}

/**
 * vmbus_ring_init() - take over a ring the guest set up
 * @ring: the root's view, filled in here
 * @pages: the ring's pages as kernel addresses: the header page, then the
 *	   data pages in order. Kept (from @pages + 1 on), not copied: the
 *	   array must outlive @ring.
 * @npages: entries in @pages, at least 2
 *
 * Reads both indices once and validates them, so the ring works in either
 * role from where the guest left it.
 *
 * Return: 0; -EINVAL for a bad page list (too short, too long, an address
 * missing or not page aligned); -EBADMSG if an index is out of range or
 * misaligned.
 */
int vmbus_ring_init(struct vmbus_ring *ring, void *const *pages, u32 npages)
{
	u32 i, ndata, r, w;

	if (npages < 2 || npages - 1 > VMBUS_RING_MAX_DATA_SIZE / PAGE_SIZE)
		return -EINVAL;
	for (i = 0; i < npages; i++)
		if (!pages[i] || !IS_ALIGNED((unsigned long)pages[i], PAGE_SIZE))
			return -EINVAL;

	ndata = npages - 1;
	memset(ring, 0, sizeof(*ring));
	ring->hdr = pages[0];
	ring->data = pages + 1;
	ring->size = ndata * PAGE_SIZE;
	ring->linear = pages[1];
	for (i = 1; i < ndata; i++) {
		if (pages[1 + i] != (u8 *)pages[1] + i * PAGE_SIZE) {
			ring->linear = NULL;
			break;
		}
	}

	r = READ_ONCE(ring->hdr->read_index);
	w = READ_ONCE(ring->hdr->write_index);
	if (!vmbus_ring_index_ok(ring, r) || !vmbus_ring_index_ok(ring, w))
		return vmbus_ring_corrupt(ring);
	ring->read = r;
	ring->read_pub = r;
	ring->write = w;
	ring->write_pub = w;
	return 0;
}

/**
 * vmbus_ring_peek() - copy out the next packet, leaving it in the ring
 * @ring: a ring the root reads
 * @buf: where the packet goes, descriptor first
 * @size: bytes at @buf, at least sizeof(struct vmbus_pkt_desc)
 * @pkt: the packet's descriptor, length and payload offset
 *
 * The descriptor is copied first and its lengths checked, then the rest
 * of the packet and its trailer; each shared byte is read once, and
 * what is checked is the copy. Re-reads write_index only when the cached
 * value says the ring is empty.
 *
 * Return: 0; -EAGAIN when the ring is empty; -ENOBUFS when the packet is
 * larger than @size (@pkt->len says how large; it stays in the ring);
 * -EINVAL if @size cannot hold a descriptor; -EBADMSG when the ring is
 * corrupt (an index out of range or misaligned, a partial packet, a
 * length or offset inconsistent with the ring, a wrong trailer).
 */
int vmbus_ring_peek(struct vmbus_ring *ring, void *buf, u32 size,
		    struct vmbus_ring_pkt *pkt)
{
	u32 start = ring->read, avail, w, len, offset;
	u64 word[2], trailer;
	u8 *p;

	if (unlikely(ring->broken))
		return -EBADMSG;
	if (unlikely(size < VMBUS_PKT_DESC_SIZE))
		return -EINVAL;

	avail = vmbus_ring_dist(ring, start, ring->write);
	if (!avail) {
		/* Packet data is read after write_index: acquire. */
		w = virt_load_acquire(&ring->hdr->write_index);
		if (unlikely(!vmbus_ring_index_ok(ring, w)))
			return vmbus_ring_corrupt(ring);
		ring->write = w;
		avail = vmbus_ring_dist(ring, start, w);
		if (!avail)
			return -EAGAIN;
	}
	/* The writer publishes whole packets only. */
	if (unlikely(avail < VMBUS_PKT_DESC_SIZE + VMBUS_RING_TRAILER_SIZE))
		return vmbus_ring_corrupt(ring);

	/* The descriptor never straddles a page except at its middle. */
	p = vmbus_ring_span(ring, start, VMBUS_PKT_DESC_SIZE);
	word[0] = READ_ONCE(*(u64 *)(p ? p : vmbus_ring_ptr(ring, start)));
	word[1] = p ? READ_ONCE(*(u64 *)(p + 8)) :
		  vmbus_ring_load64(ring, vmbus_ring_add(ring, start, 8));
	memcpy(buf, word, sizeof(word));
	memcpy(&pkt->desc, word, sizeof(word));

	len = (u32)pkt->desc.len8 * 8;
	offset = (u32)pkt->desc.offset8 * 8;
	if (unlikely(offset < VMBUS_PKT_DESC_SIZE || offset > len ||
		     len + VMBUS_RING_TRAILER_SIZE > avail))
		return vmbus_ring_corrupt(ring);
	pkt->len = len;
	pkt->offset = offset;
	if (unlikely(len > size))
		return -ENOBUFS;

	p = vmbus_ring_span(ring, start, len + VMBUS_RING_TRAILER_SIZE);
	if (p) {
		memcpy((u8 *)buf + VMBUS_PKT_DESC_SIZE,
		       p + VMBUS_PKT_DESC_SIZE, len - VMBUS_PKT_DESC_SIZE);
		trailer = READ_ONCE(*(u64 *)(p + len));
	} else {
		vmbus_ring_copy_from(ring, (u8 *)buf + VMBUS_PKT_DESC_SIZE,
				     vmbus_ring_add(ring, start,
						    VMBUS_PKT_DESC_SIZE),
				     len - VMBUS_PKT_DESC_SIZE);
		trailer = vmbus_ring_load64(ring,
					    vmbus_ring_add(ring, start, len));
	}
	if (unlikely(trailer >> 32 != start))
		return vmbus_ring_corrupt(ring);
	return 0;
}

/**
 * vmbus_ring_consume() - step past the packet vmbus_ring_peek() returned
 * @ring: a ring the root reads
 * @pkt: what that peek (returning 0) filled in
 *
 * Moves the reader's private position only; vmbus_ring_commit() tells the
 * guest. A batch of peek + consume pairs followed by one commit frees the
 * space once, as Linux's hv_pkt_iter_close() does.
 */
void vmbus_ring_consume(struct vmbus_ring *ring,
			const struct vmbus_ring_pkt *pkt)
{
	u32 len = pkt->len + VMBUS_RING_TRAILER_SIZE;

	/* Only a caller's bug gets here with a length peek did not check. */
	if (unlikely(len > vmbus_ring_dist(ring, ring->read, ring->write))) {
		ring->broken = true;
		return;
	}
	ring->read = vmbus_ring_add(ring, ring->read, len);
}

/**
 * vmbus_ring_commit() - publish the reader's position
 * @ring: a ring the root reads
 *
 * Stores read_index after every read of the consumed packets (release),
 * then applies the pending_send_sz rule: the writer is signalled only if
 * it asked (the feature bit and a non-zero pending_send_sz), the space it
 * asked for was not free before this commit and is now.
 *
 * Return: true if the writer needs a signal.
 */
bool vmbus_ring_commit(struct vmbus_ring *ring)
{
	struct vmbus_ring_hdr *hdr = ring->hdr;
	u32 old = ring->read_pub, read = ring->read, pending, w, free, freed;

	if (read == old || unlikely(ring->broken))
		return false;
	/* Every read of the consumed packets before the space is freed. */
	virt_store_release(&hdr->read_index, read);
	ring->read_pub = read;

	if (!(READ_ONCE(hdr->feature_bits) & VMBUS_RING_FEAT_PENDING_SEND_SZ))
		return false;
	/*
	 * read_index is visible before pending_send_sz is read; the writer
	 * stores pending_send_sz, then reads read_index: one of the two sees
	 * the other's store.
	 */
	virt_mb();
	pending = READ_ONCE(hdr->pending_send_sz);
	if (!pending)
		return false;
	/* write_index after pending_send_sz, and before any packet data. */
	w = virt_load_acquire(&hdr->write_index);
	if (!vmbus_ring_index_ok(ring, w))
		return false;	/* the next peek finds it */
	ring->write = w;

	free = ring->size - vmbus_ring_dist(ring, read, w);
	freed = vmbus_ring_dist(ring, old, read);
	/* Enough was free before: the writer was not waiting. */
	if (free - freed > pending)
		return false;
	/* Exactly pending_send_sz free is still full: the ring never fills. */
	return free > pending;
}

/**
 * vmbus_ring_read() - copy out the next packet and consume it
 * @ring: a ring the root reads
 * @buf: see vmbus_ring_peek()
 * @size: see vmbus_ring_peek()
 * @pkt: see vmbus_ring_peek()
 * @signal: set to whether the writer needs a signal (always set)
 *
 * vmbus_ring_peek(), then vmbus_ring_consume() and vmbus_ring_commit().
 *
 * Return: as vmbus_ring_peek(); the packet is consumed only on 0.
 */
int vmbus_ring_read(struct vmbus_ring *ring, void *buf, u32 size,
		    struct vmbus_ring_pkt *pkt, bool *signal)
{
	int ret;

	*signal = false;
	ret = vmbus_ring_peek(ring, buf, size, pkt);
	if (ret)
		return ret;
	vmbus_ring_consume(ring, pkt);
	*signal = vmbus_ring_commit(ring);
	return 0;
}

/**
 * vmbus_ring_mask() - tell the writer not to signal: the root is draining
 * @ring: a ring the root reads
 */
void vmbus_ring_mask(struct vmbus_ring *ring)
{
	WRITE_ONCE(ring->hdr->interrupt_mask, 1);
}

/**
 * vmbus_ring_has_data() - has the writer published past what was read?
 * @ring: a ring the root reads, everything consumed committed
 *
 * For a reader polling with the mask still set: one load of the shared
 * write_index, which vmbus_ring_peek() then checks.
 *
 * Return: true if write_index moved (or the ring is corrupt).
 */
bool vmbus_ring_has_data(struct vmbus_ring *ring)
{
	return ring->broken || READ_ONCE(ring->hdr->write_index) != ring->read;
}

/**
 * vmbus_ring_unmask() - let the writer signal again, after draining
 * @ring: a ring the root reads, everything consumed committed
 *
 * Return: true if the ring is not empty (or is corrupt): a packet may have
 * arrived unsignalled while the mask was set, so the caller drains again.
 */
bool vmbus_ring_unmask(struct vmbus_ring *ring)
{
	WRITE_ONCE(ring->hdr->interrupt_mask, 0);
	/* Against a writer storing write_index, then reading the mask. */
	virt_mb();
	return vmbus_ring_has_data(ring);
}

/**
 * vmbus_ring_append() - put one packet into the ring, unpublished
 * @ring: a ring the root writes
 * @iov: the packet's bytes, starting with its struct vmbus_pkt_desc, whose
 *	 len8 must cover them (padded to 8); the descriptor is not checked
 * @n: entries in @iov
 *
 * Writes the bytes, zero padding to 8 and the trailer after the packets
 * written before, without telling the guest: vmbus_ring_publish() does,
 * once for a batch. Re-reads read_index only when the cached value says
 * the packet does not fit.
 *
 * Return: 0; -EAGAIN when there is not enough free space (nothing is
 * written, pending_send_sz is not touched: publish what was appended
 * before waiting for space); -EMSGSIZE for a packet that can never fit;
 * -EINVAL for one shorter than a descriptor; -EBADMSG when the guest
 * corrupted read_index.
 */
int vmbus_ring_append(struct vmbus_ring *ring, const struct kvec *iov, u32 n)
{
	static const u8 zeros[8];
	u32 old = ring->write, off, total = 0, pad, need, r, i;
	u8 *p;

	if (unlikely(ring->broken))
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		if (unlikely(iov[i].iov_len > VMBUS_RING_MAX_DATA_SIZE - total))
			return -EMSGSIZE;
		total += iov[i].iov_len;
	}
	if (unlikely(total < VMBUS_PKT_DESC_SIZE))
		return -EINVAL;
	pad = ALIGN(total, 8) - total;
	need = total + pad + VMBUS_RING_TRAILER_SIZE;
	if (unlikely(need >= ring->size))
		return -EMSGSIZE;

	if (vmbus_ring_free(ring) <= need) {
		/* The reader's reads of the space come before its store. */
		r = virt_load_acquire(&ring->hdr->read_index);
		if (unlikely(!vmbus_ring_index_ok(ring, r)))
			return vmbus_ring_corrupt(ring);
		ring->read = r;
		if (vmbus_ring_free(ring) <= need)
			return -EAGAIN;
	}

	p = vmbus_ring_span(ring, old, need);
	if (p) {
		/* Packet and trailer in one stretch: plain copies. */
		for (i = 0; i < n; i++) {
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
			p += iov[i].iov_len;
		}
		memset(p, 0, pad);
		WRITE_ONCE(*(u64 *)(p + pad), (u64)old << 32);
		ring->write = vmbus_ring_add(ring, old, need);
		return 0;
	}
	off = old;
	for (i = 0; i < n; i++)
		off = vmbus_ring_copy_to(ring, off, iov[i].iov_base,
					 iov[i].iov_len);
	off = vmbus_ring_copy_to(ring, off, zeros, pad);
	WRITE_ONCE(*(u64 *)vmbus_ring_ptr(ring, off), (u64)old << 32);
	ring->write = vmbus_ring_add(ring, off, VMBUS_RING_TRAILER_SIZE);
	return 0;
}

/**
 * vmbus_ring_publish() - make the appended packets visible to the guest
 * @ring: a ring the root writes
 *
 * Stores write_index after the packets' bytes (release) and withdraws a
 * vmbus_ring_request_space() request. The reader needs a signal only when
 * the ring was empty before these packets and its interrupt_mask is clear.
 *
 * Return: true if the reader needs a signal.
 */
bool vmbus_ring_publish(struct vmbus_ring *ring)
{
	struct vmbus_ring_hdr *hdr = ring->hdr;
	u32 old = ring->write_pub, r;

	if (ring->write == old || unlikely(ring->broken))
		return false;
	/* Every byte of the packets before the index that exposes them. */
	virt_store_release(&hdr->write_index, ring->write);
	ring->write_pub = ring->write;
	if (ring->pending) {
		WRITE_ONCE(hdr->pending_send_sz, 0);
		ring->pending = 0;
	}
	/*
	 * write_index is visible before the mask and read_index are read;
	 * a reader unmasking stores the mask, then reads write_index.
	 */
	virt_mb();
	if (READ_ONCE(hdr->interrupt_mask))
		return false;
	/* Cached for later writes: they must not pass this load. */
	r = virt_load_acquire(&hdr->read_index);
	if (vmbus_ring_index_ok(ring, r))
		ring->read = r;
	return r == old;
}

/**
 * vmbus_ring_write() - put one packet into the ring and publish it
 * @ring: a ring the root writes
 * @iov: see vmbus_ring_append()
 * @n: entries in @iov
 * @signal: set to whether the reader needs a signal (always set)
 *
 * vmbus_ring_append(), then vmbus_ring_publish().
 *
 * Return: as vmbus_ring_append().
 */
int vmbus_ring_write(struct vmbus_ring *ring, const struct kvec *iov,
		     u32 n, bool *signal)
{
	int ret;

	*signal = false;
	ret = vmbus_ring_append(ring, iov, n);
	if (ret)
		return ret;
	*signal = vmbus_ring_publish(ring);
	return 0;
}

/**
 * vmbus_ring_send() - put one in-band packet into the ring
 * @ring: a ring the root writes
 * @type: the descriptor's type (VM_PKT_DATA_INBAND, VM_PKT_COMP, ...)
 * @flags: the descriptor's flags
 * @trans_id: the descriptor's transaction id
 * @data: the payload
 * @len: bytes at @data
 * @signal: see vmbus_ring_write()
 *
 * Builds the descriptor (payload right after it, length padded to 8).
 *
 * Return: as vmbus_ring_write().
 */
int vmbus_ring_send(struct vmbus_ring *ring, u16 type, u16 flags,
		    u64 trans_id, const void *data, u32 len, bool *signal)
{
	struct vmbus_pkt_desc desc;
	struct kvec iov[2];

	*signal = false;
	if (len > VMBUS_PKT_MAX_LEN - VMBUS_PKT_DESC_SIZE)
		return -EMSGSIZE;
	desc.type = type;
	desc.offset8 = VMBUS_PKT_DESC_SIZE / 8;
	desc.len8 = ALIGN(VMBUS_PKT_DESC_SIZE + len, 8) / 8;
	desc.flags = flags;
	desc.trans_id = trans_id;
	iov[0].iov_base = &desc;
	iov[0].iov_len = sizeof(desc);
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	return vmbus_ring_write(ring, iov, 2, signal);
}

/**
 * vmbus_ring_request_space() - ask the reader to signal when a packet fits
 * @ring: a ring the root writes, on which a write returned -EAGAIN
 * @len: the packet's length as vmbus_ring_write() would get it
 *
 * Sets pending_send_sz (to the packet's size, or to the low-water mark if
 * that is larger), then looks at read_index again. The reader only
 * honours the request if the ring's feature bit is set (see
 * vmbus_ring_pending_send_supported()); otherwise the caller polls. The
 * next vmbus_ring_publish() (or write) withdraws the request.
 *
 * Return: true if the packet fits already (or the ring is corrupt): write
 * now instead of waiting.
 */
bool vmbus_ring_request_space(struct vmbus_ring *ring, u32 len)
{
	struct vmbus_ring_hdr *hdr = ring->hdr;
	u32 need, r;

	if (unlikely(ring->broken) || len > VMBUS_RING_MAX_DATA_SIZE)
		return true;
	need = ALIGN(len, 8) + VMBUS_RING_TRAILER_SIZE;
	ring->pending = max(need, ring->low_water);
	WRITE_ONCE(hdr->pending_send_sz, ring->pending);
	/* Against a reader storing read_index, then reading pending. */
	virt_mb();
	/* Cached for later writes: they must not pass this load. */
	r = virt_load_acquire(&hdr->read_index);
	if (unlikely(!vmbus_ring_index_ok(ring, r))) {
		vmbus_ring_corrupt(ring);
		return true;
	}
	ring->read = r;
	return vmbus_ring_free(ring) > need;
}

/**
 * vmbus_ring_set_low_water() - ask the reader for at least this much space
 * @ring: a ring the root writes
 * @bytes: the least pending_send_sz vmbus_ring_request_space() sets; 0
 *	   (the default) asks for exactly the packet
 *
 * A writer faster than its reader fills the ring; asking for one packet's
 * space then costs one signal per packet the reader frees, each a wake-up
 * of the writer. With a low-water mark the reader signals once that much
 * is free and the writer refills it in one go, while the reader still has
 * the rest of the ring to read. Capped at half the data area.
 */
void vmbus_ring_set_low_water(struct vmbus_ring *ring, u32 bytes)
{
	ring->low_water = min(ALIGN(bytes, 8), ring->size / 2);
}

/**
 * vmbus_ring_cancel_space() - withdraw a vmbus_ring_request_space()
 * @ring: a ring the root writes
 */
void vmbus_ring_cancel_space(struct vmbus_ring *ring)
{
	if (ring->pending) {
		WRITE_ONCE(ring->hdr->pending_send_sz, 0);
		ring->pending = 0;
	}
}

/**
 * vmbus_ring_pending_send_supported() - does the ring use pending_send_sz?
 * @ring: either role
 *
 * Return: whether the guest set VMBUS_RING_FEAT_PENDING_SEND_SZ: as the
 * writer of a ring the root reads, it sets pending_send_sz when blocked;
 * as the reader of a ring the root writes, it honours the root's.
 */
bool vmbus_ring_pending_send_supported(const struct vmbus_ring *ring)
{
	return READ_ONCE(ring->hdr->feature_bits) &
	       VMBUS_RING_FEAT_PENDING_SEND_SZ;
}
