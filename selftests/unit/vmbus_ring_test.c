// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the root side of VMBus rings (vmbus/ring.c), built as
 * userspace C under ASan and UBSan.
 *
 * The other end of each ring is a model of the Linux guest written here
 * from drivers/hv/ring_buffer.c's rules, byte by byte and independently
 * of ring.c: hv_ringbuffer_write() (copy, trailer, write_index, signal on
 * empty -> non-empty unless interrupt_mask), hv_pkt_iter_first() and
 * hv_pkt_iter_close() (read_index, then the pending_send_sz rule).
 *
 * Every ring page is its own mapping between two inaccessible pages, in
 * shuffled order ("scattered"); or the data pages are one such mapping
 * ("linear", which ring.c detects and copies through with one memcpy per
 * side of the wrap), or several in order ("runs_of_2", whose contiguous
 * pairs ring.c copies across in one piece). Packets are read into buffers
 * of exactly the size given, so a read one byte out of bounds crashes the
 * test.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "../../vmbus/ring.h"

#define MAXP	64

struct tring {
	void *pages[MAXP + 1];
	u32 ndata;
	u32 size;
	struct vmbus_ring_hdr *hdr;
	void *maps[MAXP + 2];
	size_t maplen[MAXP + 2];
	int nmaps;
};

static void *guarded_map(struct tring *t, u32 npages)
{
	size_t len = (npages + 2) * PAGE_SIZE;
	u8 *m;

	m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED ||
	    mprotect(m + PAGE_SIZE, npages * PAGE_SIZE,
		     PROT_READ | PROT_WRITE)) {
		perror("mmap");
		abort();
	}
	t->maps[t->nmaps] = m;
	t->maplen[t->nmaps++] = len;
	return m + PAGE_SIZE;
}

/*
 * A zeroed ring of @ndata data pages, both indices at @start. The data
 * pages are one mapping (@run 0: "linear"), separate pages in shuffled
 * order (@run 1), or in order in separate mappings of @run pages each.
 */
static void tring_setup(struct tring *t, u32 ndata, u32 run, u32 start)
{
	u32 i, j;
	u8 *base = NULL;
	void *p;

	memset(t, 0, sizeof(*t));
	t->ndata = ndata;
	t->size = ndata * PAGE_SIZE;
	t->hdr = guarded_map(t, 1);
	t->pages[0] = t->hdr;
	if (run != 1) {
		for (i = 0; i < ndata; i++) {
			if (!run && !i)
				base = guarded_map(t, ndata);
			else if (run && i % run == 0)
				base = guarded_map(t, run);
			t->pages[1 + i] = base + (run ? i % run : i) * PAGE_SIZE;
		}
	} else {
		for (i = 0; i < ndata; i++)
			t->pages[1 + i] = guarded_map(t, 1);
		/* Shuffled: page order has nothing to do with addresses. */
		for (i = ndata - 1; i > 0; i--) {
			j = rand() % (i + 1);
			p = t->pages[1 + i];
			t->pages[1 + i] = t->pages[1 + j];
			t->pages[1 + j] = p;
		}
	}
	t->hdr->read_index = start;
	t->hdr->write_index = start;
	t->hdr->feature_bits = VMBUS_RING_FEAT_PENDING_SEND_SZ;
}

static void tring_free(struct tring *t)
{
	while (t->nmaps--)
		munmap(t->maps[t->nmaps], t->maplen[t->nmaps]);
}

/* The guest's byte at data offset @off (any value: taken modulo size). */
static u8 *gb(struct tring *t, u32 off)
{
	off %= t->size;
	return (u8 *)t->pages[1 + off / PAGE_SIZE] + off % PAGE_SIZE;
}

static void gput(struct tring *t, u32 off, const void *src, u32 len)
{
	const u8 *s = src;
	u32 i;

	for (i = 0; i < len; i++)
		*gb(t, off + i) = s[i];
}

static void gget(struct tring *t, u32 off, void *dst, u32 len)
{
	u8 *d = dst;
	u32 i;

	for (i = 0; i < len; i++)
		d[i] = *gb(t, off + i);
}

static u64 gget64(struct tring *t, u32 off)
{
	u64 v;

	gget(t, off, &v, 8);
	return v;
}

/* Header fields, as the other thread may be changing them. */
static u32 gld(u32 *field)
{
	return __atomic_load_n(field, __ATOMIC_ACQUIRE);
}

static void gst(u32 *field, u32 v)
{
	__atomic_store_n(field, v, __ATOMIC_RELEASE);
}

/* Linux's hv_get_bytes_to_write(), from the shared indices. */
static u32 guest_free(struct tring *t)
{
	u32 r = gld(&t->hdr->read_index), w = gld(&t->hdr->write_index);

	return w >= r ? t->size - (w - r) : r - w;
}

static u32 guest_avail(struct tring *t)
{
	return t->size - guest_free(t);
}

/*
 * hv_ringbuffer_write() for @len raw packet bytes (descriptor included),
 * padded to 8 here. With @block, a full ring sets pending_send_sz first
 * (what a guest waiting for space does).
 */
static int guest_write_raw(struct tring *t, const void *pkt, u32 len,
			   bool block, bool *signal)
{
	static const u8 zeros[8];
	u32 old = gld(&t->hdr->write_index), total = ALIGN(len, 8) + 8;
	u64 trailer = (u64)old << 32;

	*signal = false;
	if (guest_free(t) <= total) {
		if (block)
			gst(&t->hdr->pending_send_sz, total);
		return -EAGAIN;
	}
	gput(t, old, pkt, len);
	gput(t, old + len, zeros, ALIGN(len, 8) - len);
	gput(t, old + ALIGN(len, 8), &trailer, 8);
	gst(&t->hdr->write_index, (old + total) % t->size);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (gld(&t->hdr->interrupt_mask))
		return 0;
	*signal = old == gld(&t->hdr->read_index);
	return 0;
}

static int guest_send(struct tring *t, u16 type, u64 id, const void *data,
		      u32 len, bool *signal)
{
	u8 *pkt = malloc(16 + len);
	struct vmbus_pkt_desc d = {
		.type = type, .offset8 = 2, .len8 = ALIGN(16 + len, 8) / 8,
		.trans_id = id,
	};
	int ret;

	memcpy(pkt, &d, 16);
	memcpy(pkt + 16, data, len);
	ret = guest_write_raw(t, pkt, 16 + len, false, signal);
	free(pkt);
	return ret;
}

/*
 * hv_pkt_iter_first() + __hv_pkt_iter_next() + hv_pkt_iter_close() for
 * one packet, checking what ring.c wrote: descriptor, padding, trailer.
 * Returns the packet length (descriptor included, len8 * 8) or -EAGAIN.
 */
static int guest_recv(struct tring *t, void *buf, u32 size,
		      struct vmbus_pkt_desc *d, bool *signal, bool *bad)
{
	u32 start = gld(&t->hdr->read_index), avail, len, freed, w_sz, pending;

	*signal = false;
	*bad = false;
	avail = guest_avail(t);
	if (!avail)
		return -EAGAIN;
	gget(t, start, d, 16);
	len = d->len8 * 8;
	if (len < 16 || d->offset8 < 2 || d->offset8 * 8 > len ||
	    len + 8 > avail || len > size ||
	    gget64(t, start + len) != (u64)start << 32) {
		*bad = true;
		return -EBADMSG;
	}
	gget(t, start, buf, len);
	freed = len + 8;
	gst(&t->hdr->read_index, (start + freed) % t->size);
	if (!(gld(&t->hdr->feature_bits) & VMBUS_RING_FEAT_PENDING_SEND_SZ))
		return len;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pending = gld(&t->hdr->pending_send_sz);
	if (!pending)
		return len;
	w_sz = guest_free(t);
	if (w_sz - freed > pending || w_sz <= pending)
		return len;
	*signal = true;
	return len;
}

/* The payload byte @i of packet @seq. */
static u8 pat(u32 seq, u32 i)
{
	return (u8)(seq * 131 + i * 7 + (i >> 8) + 1);
}

static void fill(u8 *p, u32 seq, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		p[i] = pat(seq, i);
}

static bool check(const u8 *p, u32 seq, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(seq, i))
			return false;
	return true;
}

FIXTURE(ring) {
	struct tring t;
	struct vmbus_ring r;
};

FIXTURE_VARIANT(ring) {
	u32 run;
	u32 ndata;
};

FIXTURE_VARIANT_ADD(ring, scattered) { .run = 1, .ndata = 4 };
FIXTURE_VARIANT_ADD(ring, linear) { .run = 0, .ndata = 4 };
FIXTURE_VARIANT_ADD(ring, runs_of_2) { .run = 2, .ndata = 5 };
FIXTURE_VARIANT_ADD(ring, one_page) { .run = 1, .ndata = 1 };

FIXTURE_SETUP(ring)
{
	srand(1);
	tring_setup(&self->t, variant->ndata, variant->run, 0);
	ASSERT_EQ(0, vmbus_ring_init(&self->r, self->t.pages,
				     variant->ndata + 1));
	if (variant->ndata > 1)
		ASSERT_EQ(variant->run == 0, !!self->r.linear);
}

FIXTURE_TEARDOWN(ring)
{
	tring_free(&self->t);
}

/* Re-take the ring with both indices at @start. */
static int restart(FIXTURE_DATA(ring) *self, u32 start)
{
	self->t.hdr->read_index = start;
	self->t.hdr->write_index = start;
	return vmbus_ring_init(&self->r, self->t.pages, self->t.ndata + 1);
}

TEST(init_rejects_bad_page_lists)
{
	struct vmbus_ring r;
	struct tring t;
	void *pages[3];

	tring_setup(&t, 2, 1, 0);
	EXPECT_EQ(-EINVAL, vmbus_ring_init(&r, t.pages, 0));
	EXPECT_EQ(-EINVAL, vmbus_ring_init(&r, t.pages, 1));
	memcpy(pages, t.pages, sizeof(pages));
	pages[2] = NULL;
	EXPECT_EQ(-EINVAL, vmbus_ring_init(&r, pages, 3));
	pages[2] = (u8 *)t.pages[2] + 8;
	EXPECT_EQ(-EINVAL, vmbus_ring_init(&r, pages, 3));
	pages[0] = (u8 *)t.pages[0] + 64;
	pages[2] = t.pages[2];
	EXPECT_EQ(-EINVAL, vmbus_ring_init(&r, pages, 3));
	EXPECT_EQ(-EINVAL, vmbus_ring_init(&r, t.pages,
					   VMBUS_RING_MAX_DATA_SIZE /
					   PAGE_SIZE + 2));
	EXPECT_EQ(0, vmbus_ring_init(&r, t.pages, 3));
	EXPECT_EQ(2 * PAGE_SIZE, r.size);
	/* A data page may appear twice: only the guest loses. */
	pages[0] = t.pages[0];
	pages[1] = t.pages[1];
	pages[2] = t.pages[1];
	EXPECT_EQ(0, vmbus_ring_init(&r, pages, 3));
	tring_free(&t);
}

TEST(init_rejects_bad_indices)
{
	static const u32 bad[] = { 4, 8188, 8192, 8200, 0x80000000, ~0U };
	struct vmbus_ring_pkt pkt;
	struct vmbus_ring r;
	struct tring t;
	unsigned int i;
	u8 buf[64];
	bool sig;

	tring_setup(&t, 2, 0, 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		t.hdr->read_index = bad[i];
		t.hdr->write_index = 0;
		EXPECT_EQ(-EBADMSG, vmbus_ring_init(&r, t.pages, 3));
		t.hdr->read_index = 0;
		t.hdr->write_index = bad[i];
		EXPECT_EQ(-EBADMSG, vmbus_ring_init(&r, t.pages, 3));
	}
	/* Where the guest left them is fine when valid: 8184 is. */
	t.hdr->read_index = 8184;
	t.hdr->write_index = 8184;
	ASSERT_EQ(0, vmbus_ring_init(&r, t.pages, 3));
	EXPECT_EQ(-EAGAIN, vmbus_ring_read(&r, buf, sizeof(buf), &pkt, &sig));
	tring_free(&t);
}

/* Payload lengths for round trips: around 8, page and ring sizes. */
static const u32 lens[] = {
	0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 255,
	256, 1000, 1500, 4000, 4072, 4080, 4088, 4096, 4104, 8000, 8192,
	9000, 12000, 16312,
};

/* Guest -> root, then root -> guest, of every length in @lens. */
TEST_F(ring, round_trip_sizes)
{
	u32 size = self->t.size, i, len, max = size - 16 - 8 - 8;
	struct vmbus_ring_pkt pkt;
	struct vmbus_pkt_desc d;
	bool sig, bad;
	u8 *buf, *in;

	in = malloc(size);
	for (i = 0; i < ARRAY_SIZE(lens) + 1; i++) {
		len = i < ARRAY_SIZE(lens) ? lens[i] : max;
		if (len > max)
			continue;
		fill(in, i, len);
		ASSERT_EQ(0, guest_send(&self->t, 6, 1000 + i, in, len, &sig));
		EXPECT_TRUE(sig);
		/* Exactly the packet's size: one byte more would crash. */
		buf = malloc(ALIGN(16 + len, 8));
		ASSERT_EQ(0, vmbus_ring_read(&self->r, buf,
					     ALIGN(16 + len, 8), &pkt, &sig));
		EXPECT_FALSE(sig);
		EXPECT_EQ(6, pkt.desc.type);
		EXPECT_EQ(1000 + i, pkt.desc.trans_id);
		EXPECT_EQ(ALIGN(16 + len, 8), pkt.len);
		EXPECT_EQ(16, pkt.offset);
		EXPECT_EQ(0, memcmp(buf, &pkt.desc, 16));
		EXPECT_TRUE(check(buf + 16, i, len));
		EXPECT_EQ(self->t.hdr->write_index, self->t.hdr->read_index);
		EXPECT_EQ(-EAGAIN, vmbus_ring_read(&self->r, buf, 16, &pkt,
						   &sig));
		free(buf);
	}
	/* The other ring: the root writes, the guest reads. */
	ASSERT_EQ(0, restart(self, 0));
	buf = malloc(size);
	for (i = 0; i < ARRAY_SIZE(lens) + 1; i++) {
		len = i < ARRAY_SIZE(lens) ? lens[i] : max;
		if (len > max)
			continue;
		fill(in, i, len);
		ASSERT_EQ(0, vmbus_ring_send(&self->r, 11, 1, 77 + i, in, len,
					     &sig));
		EXPECT_TRUE(sig);
		ASSERT_EQ(ALIGN(16 + len, 8),
			  guest_recv(&self->t, buf, size, &d, &sig, &bad));
		EXPECT_FALSE(bad);
		EXPECT_EQ(11, d.type);
		EXPECT_EQ(1, d.flags);
		EXPECT_EQ(2, d.offset8);
		EXPECT_EQ(77 + i, d.trans_id);
		EXPECT_TRUE(check(buf + 16, i, len));
		/* Padding is zero. */
		while (len + 16 < ALIGN(16 + len, 8))
			EXPECT_EQ(0, buf[16 + len++]);
	}
	free(buf);
	free(in);
}

/*
 * Every 8-aligned start offset, packets that wrap at every distance from
 * the end, both directions; the descriptor and the trailer wrap too.
 */
TEST_F(ring, wrap_at_every_offset)
{
	static const u32 wl[] = { 0, 1, 8, 40, 100, 4000, 4100 };
	u32 size = self->t.size, s, k, len, seq = 0;
	struct vmbus_ring_pkt pkt;
	struct vmbus_pkt_desc d;
	u8 in[4200], buf[4200];
	bool sig, bad;

	for (s = 0; s < size; s += 8) {
		for (k = 0; k < ARRAY_SIZE(wl); k++) {
			len = wl[k];
			if (ALIGN(16 + len, 8) + 8 >= size)
				continue;
			seq++;
			fill(in, seq, len);
			ASSERT_EQ(0, restart(self, s));
			ASSERT_EQ(0, guest_send(&self->t, 6, seq, in, len,
						&sig));
			ASSERT_EQ(0, vmbus_ring_read(&self->r, buf, sizeof(buf),
						     &pkt, &sig));
			ASSERT_EQ(seq, pkt.desc.trans_id);
			ASSERT_EQ(ALIGN(16 + len, 8), pkt.len);
			ASSERT_TRUE(check(buf + 16, seq, len));
			ASSERT_EQ((s + pkt.len + 8) % size,
				  self->t.hdr->read_index);

			ASSERT_EQ(0, restart(self, s));
			ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, seq, in,
						     len, &sig));
			ASSERT_EQ((s + ALIGN(16 + len, 8) + 8) % size,
				  self->t.hdr->write_index);
			ASSERT_EQ(ALIGN(16 + len, 8),
				  guest_recv(&self->t, buf, sizeof(buf), &d,
					     &sig, &bad));
			ASSERT_EQ(seq, d.trans_id);
			ASSERT_TRUE(check(buf + 16, seq, len));
		}
	}
}

/* The bytes of the ring, header fields included, into @snap. */
static void snapshot(struct tring *t, u8 *snap)
{
	memcpy(snap, t->hdr, 64);
	gget(t, 0, snap + 64, t->size);
}

/*
 * The writer refuses a packet that would leave the ring completely full
 * (or fuller), touching nothing; one that leaves 8 bytes free goes in.
 * A packet that can never fit is -EMSGSIZE. The reader reports empty.
 */
TEST_F(ring, full_and_empty)
{
	u32 size = self->t.size, n, i;
	struct vmbus_ring_pkt pkt;
	struct vmbus_pkt_desc d;
	u8 *in, *buf, *snap, *now;
	bool sig, bad;

	in = calloc(1, size);
	buf = malloc(size);
	snap = malloc(size + 64);
	now = malloc(size + 64);
	/* Never fits: the whole ring, or more than a descriptor can say. */
	EXPECT_EQ(-EMSGSIZE, vmbus_ring_send(&self->r, 6, 0, 0, in,
					     size - 24, &sig));
	EXPECT_EQ(-EMSGSIZE, vmbus_ring_send(&self->r, 6, 0, 0, in,
					     0x80000, &sig));
	EXPECT_EQ(-EINVAL, vmbus_ring_write(&self->r, NULL, 0, &sig));
	/* All but 8 bytes: in. Then not even an empty packet fits. */
	ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 1, in, size - 32, &sig));
	EXPECT_TRUE(sig);
	EXPECT_EQ(size - 8, self->t.hdr->write_index);
	snapshot(&self->t, snap);
	EXPECT_EQ(-EAGAIN, vmbus_ring_send(&self->r, 6, 0, 0, in, 0, &sig));
	EXPECT_FALSE(sig);
	snapshot(&self->t, now);
	EXPECT_EQ(0, memcmp(snap, now, size + 64));
	ASSERT_EQ(size - 16, guest_recv(&self->t, buf, size, &d, &sig, &bad));

	/* 56 bytes free: a 56-byte packet is refused, a 48-byte one not. */
	ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 2, in, size - 56 - 24,
				     &sig));
	snapshot(&self->t, snap);
	EXPECT_EQ(-EAGAIN, vmbus_ring_send(&self->r, 6, 0, 3, in, 32, &sig));
	snapshot(&self->t, now);
	EXPECT_EQ(0, memcmp(snap, now, size + 64));
	EXPECT_EQ(0, self->t.hdr->pending_send_sz);
	EXPECT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 4, in, 24, &sig));
	EXPECT_EQ(-EAGAIN, vmbus_ring_send(&self->r, 6, 0, 5, in, 0, &sig));
	ASSERT_EQ(size - 64, guest_recv(&self->t, buf, size, &d, &sig, &bad));
	ASSERT_EQ(40, guest_recv(&self->t, buf, size, &d, &sig, &bad));
	EXPECT_EQ(4, d.trans_id);
	EXPECT_EQ(-EAGAIN, guest_recv(&self->t, buf, size, &d, &sig, &bad));

	/* Read side: a ring the guest filled, then empty. */
	ASSERT_EQ(0, restart(self, 0));
	n = 0;
	while (guest_send(&self->t, 6, n, in, 24, &sig) == 0)
		n++;
	EXPECT_EQ((size - 8) / 48, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, vmbus_ring_read(&self->r, buf, 40, &pkt, &sig));
		EXPECT_EQ(i, pkt.desc.trans_id);
	}
	EXPECT_EQ(-EAGAIN, vmbus_ring_read(&self->r, buf, 40, &pkt, &sig));
	EXPECT_EQ(-EAGAIN, vmbus_ring_peek(&self->r, buf, 40, &pkt));
	free(in);
	free(buf);
	free(snap);
	free(now);
}

/* Writer: signal on empty -> non-empty only, never while masked. */
TEST_F(ring, writer_signal_rules)
{
	struct vmbus_pkt_desc d;
	u8 in[64] = { 0 }, buf[128];
	bool sig, bad;
	int i;

	ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 1, in, 8, &sig));
	EXPECT_TRUE(sig);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 1, in, 8, &sig));
		EXPECT_FALSE(sig);
	}
	/* The guest drains all but one: still not empty. */
	for (i = 0; i < 3; i++)
		ASSERT_LT(0, guest_recv(&self->t, buf, 128, &d, &sig, &bad));
	ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 1, in, 8, &sig));
	EXPECT_FALSE(sig);
	for (i = 0; i < 2; i++)
		ASSERT_LT(0, guest_recv(&self->t, buf, 128, &d, &sig, &bad));
	/* Empty again: signal. */
	ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 1, in, 8, &sig));
	EXPECT_TRUE(sig);
	ASSERT_LT(0, guest_recv(&self->t, buf, 128, &d, &sig, &bad));
	/* Empty but masked: the guest is draining, no signal. */
	self->t.hdr->interrupt_mask = 1;
	ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 1, in, 8, &sig));
	EXPECT_FALSE(sig);
	ASSERT_LT(0, guest_recv(&self->t, buf, 128, &d, &sig, &bad));
	self->t.hdr->interrupt_mask = 0;
	ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 1, in, 8, &sig));
	EXPECT_TRUE(sig);
	/* A full ring's -EAGAIN signals nothing. */
	while (vmbus_ring_send(&self->r, 6, 0, 1, in, 64, &sig) == 0)
		EXPECT_FALSE(sig);
	EXPECT_FALSE(sig);
}

/*
 * Reader: the pending_send_sz rule, with and without the feature bit,
 * per packet and per batch.
 */
TEST_F(ring, reader_pending_send_rules)
{
	u32 size = self->t.size, n, i, feat;
	struct vmbus_ring_pkt pkt;
	u8 in[104] = { 0 }, buf[128];
	bool sig;

	for (feat = 0; feat < 2; feat++) {
		ASSERT_EQ(0, restart(self, 0));
		self->t.hdr->feature_bits = feat;
		self->t.hdr->pending_send_sz = 0;
		/* 128-byte packets until the guest blocks on a 384-byte one. */
		n = 0;
		while (guest_send(&self->t, 6, n, in, 104, &sig) == 0)
			n++;
		ASSERT_EQ((size - 8) / 128, n);
		self->t.hdr->pending_send_sz = 384;
		/* Free now: size - n * 128 (120 with 4 KiB pages). */
		for (i = 0; i < n; i++) {
			u32 before = size - (n - i) * 128;

			ASSERT_EQ(0, vmbus_ring_read(&self->r, buf, 128, &pkt,
						     &sig));
			/* Signal exactly on the read that makes 384 fit. */
			EXPECT_EQ(feat && before <= 384 && before + 128 > 384,
				  sig);
		}
		EXPECT_EQ(-EAGAIN, vmbus_ring_read(&self->r, buf, 128, &pkt,
						   &sig));
		EXPECT_FALSE(sig);
	}

	/* pending_send_sz 0: the writer is not waiting. */
	ASSERT_EQ(0, restart(self, 0));
	self->t.hdr->pending_send_sz = 0;
	n = 0;
	while (guest_send(&self->t, 6, n, in, 104, &sig) == 0)
		n++;
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, vmbus_ring_read(&self->r, buf, 128, &pkt, &sig));
		EXPECT_FALSE(sig);
	}

	/* A batch: one commit, one signal, nothing before the commit. */
	ASSERT_EQ(0, restart(self, 0));
	n = 0;
	while (guest_send(&self->t, 6, n, in, 104, &sig) == 0)
		n++;
	self->t.hdr->pending_send_sz = 1000;
	for (i = 0; i < 8 && i < n; i++) {
		ASSERT_EQ(0, vmbus_ring_peek(&self->r, buf, 128, &pkt));
		EXPECT_EQ(i, pkt.desc.trans_id);
		vmbus_ring_consume(&self->r, &pkt);
		EXPECT_EQ(0, self->t.hdr->read_index);
	}
	EXPECT_EQ(n >= 8, vmbus_ring_commit(&self->r));
	EXPECT_EQ(i * 128, self->t.hdr->read_index);
	EXPECT_FALSE(vmbus_ring_commit(&self->r));
}

/* interrupt_mask while draining; unmask reports a packet that slipped in. */
TEST_F(ring, reader_mask_unmask)
{
	struct vmbus_ring_pkt pkt;
	u8 in[8] = { 0 }, buf[64];
	bool sig;

	vmbus_ring_mask(&self->r);
	EXPECT_EQ(1, self->t.hdr->interrupt_mask);
	ASSERT_EQ(0, guest_send(&self->t, 6, 1, in, 8, &sig));
	EXPECT_FALSE(sig);
	ASSERT_EQ(0, vmbus_ring_read(&self->r, buf, 64, &pkt, &sig));
	ASSERT_EQ(0, guest_send(&self->t, 6, 2, in, 8, &sig));
	EXPECT_FALSE(sig);
	EXPECT_TRUE(vmbus_ring_unmask(&self->r));
	EXPECT_EQ(0, self->t.hdr->interrupt_mask);
	ASSERT_EQ(0, vmbus_ring_read(&self->r, buf, 64, &pkt, &sig));
	EXPECT_EQ(2, pkt.desc.trans_id);
	EXPECT_FALSE(vmbus_ring_unmask(&self->r));
	ASSERT_EQ(0, guest_send(&self->t, 6, 3, in, 8, &sig));
	EXPECT_TRUE(sig);
}

/* Writer batches: nothing visible until published, one signal. */
TEST_F(ring, writer_batches)
{
	u32 size = self->t.size, n = 0, i;
	struct vmbus_pkt_desc d = { .type = 6, .offset8 = 2, .len8 = 5 };
	u8 in[24] = { 0 }, buf[64];
	struct kvec iov[2] = {
		{ .iov_base = &d, .iov_len = 16 },
		{ .iov_base = in, .iov_len = 24 },
	};
	bool sig, bad;

	for (i = 0; i < 3; i++) {
		d.trans_id = i;
		ASSERT_EQ(0, vmbus_ring_append(&self->r, iov, 2));
	}
	EXPECT_EQ(0, self->t.hdr->write_index);
	EXPECT_EQ(-EAGAIN, guest_recv(&self->t, buf, 64, &d, &sig, &bad));
	EXPECT_TRUE(vmbus_ring_publish(&self->r));
	EXPECT_EQ(3 * 48, self->t.hdr->write_index);
	EXPECT_FALSE(vmbus_ring_publish(&self->r));
	ASSERT_EQ(40, guest_recv(&self->t, buf, 64, &d, &sig, &bad));
	EXPECT_EQ(0, d.trans_id);
	/* Not empty before this batch: no signal. */
	d.trans_id = 3;
	ASSERT_EQ(0, vmbus_ring_append(&self->r, iov, 2));
	EXPECT_FALSE(vmbus_ring_publish(&self->r));
	for (i = 1; i < 4; i++) {
		ASSERT_EQ(40, guest_recv(&self->t, buf, 64, &d, &sig, &bad));
		EXPECT_EQ(i, d.trans_id);
	}
	/* Unpublished packets take space too: the ring fills. */
	while (vmbus_ring_append(&self->r, iov, 2) == 0)
		n++;
	EXPECT_EQ((size - 8) / 48, n);
	EXPECT_EQ(4 * 48, self->t.hdr->write_index);
	EXPECT_TRUE(vmbus_ring_publish(&self->r));
	for (i = 0; i < n; i++)
		ASSERT_EQ(40, guest_recv(&self->t, buf, 64, &d, &sig, &bad));
}

/* Writer: pending_send_sz requests, honoured by the guest model. */
TEST_F(ring, writer_request_space)
{
	u32 n = 0, i, free;
	struct vmbus_pkt_desc d;
	u8 in[1000] = { 0 }, buf[256];
	bool sig, bad, any = false;

	while (vmbus_ring_send(&self->r, 6, 0, n, in, 232, &sig) == 0)
		n++;
	/* Exactly the free bytes does not fit (never full); 8 fewer do. */
	free = self->t.size - n * 256;
	EXPECT_FALSE(vmbus_ring_request_space(&self->r, free - 8));
	EXPECT_TRUE(vmbus_ring_request_space(&self->r, free - 16));
	/* 256 bytes per packet: waiting for one of 1000 payload bytes. */
	EXPECT_FALSE(vmbus_ring_request_space(&self->r, 1016));
	EXPECT_EQ(1016 + 8, self->t.hdr->pending_send_sz);
	EXPECT_TRUE(vmbus_ring_pending_send_supported(&self->r));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(248, guest_recv(&self->t, buf, 256, &d, &sig, &bad));
		if (sig) {
			EXPECT_FALSE(any);
			any = true;
			/* It fits now, as the signal promised. */
			EXPECT_TRUE(vmbus_ring_request_space(&self->r, 1016));
		}
	}
	EXPECT_EQ(self->t.size >= 2048, any);
	/* The next write withdraws the request. */
	ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 0, in, 1000, &sig));
	EXPECT_EQ(0, self->t.hdr->pending_send_sz);
	EXPECT_FALSE(vmbus_ring_request_space(&self->r, 1u << 20));
	vmbus_ring_cancel_space(&self->r);
	EXPECT_EQ(0, self->t.hdr->pending_send_sz);
	self->t.hdr->feature_bits = 0;
	EXPECT_FALSE(vmbus_ring_pending_send_supported(&self->r));
}

/*
 * Writer: a low-water mark asks for more space than the packet needs, so
 * a reader draining a full ring signals once, not once per packet.
 */
TEST_F(ring, writer_low_water)
{
	u32 n = 0, i, signals = 0, lw = self->t.size / 4, need = 256;
	struct vmbus_pkt_desc d;
	u8 in[232] = { 0 }, buf[256];
	bool sig, bad;

	vmbus_ring_set_low_water(&self->r, lw);
	while (vmbus_ring_send(&self->r, 6, 0, n, in, 232, &sig) == 0)
		n++;
	ASSERT_LT(4, n);
	/* the packet needs 256 bytes; the request is the mark */
	EXPECT_FALSE(vmbus_ring_request_space(&self->r, 248));
	EXPECT_EQ(lw > need ? lw : need, self->t.hdr->pending_send_sz);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(248, guest_recv(&self->t, buf, 256, &d, &sig, &bad));
		if (!sig)
			continue;
		signals++;
		/* the read that freed more than the mark, not an earlier one */
		EXPECT_LT(self->t.hdr->pending_send_sz, guest_free(&self->t));
		EXPECT_GE(self->t.hdr->pending_send_sz,
			  guest_free(&self->t) - 256);
		EXPECT_TRUE(vmbus_ring_request_space(&self->r, 248));
	}
	EXPECT_EQ(1, signals);
	/* the next write withdraws it */
	ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 0, in, 232, &sig));
	EXPECT_EQ(0, self->t.hdr->pending_send_sz);

	/* capped at half the data area */
	vmbus_ring_set_low_water(&self->r, self->t.size);
	vmbus_ring_request_space(&self->r, 8);
	EXPECT_EQ(self->t.size / 2, self->t.hdr->pending_send_sz);
	/* 0: exactly the packet again */
	vmbus_ring_set_low_water(&self->r, 0);
	vmbus_ring_request_space(&self->r, 8);
	EXPECT_EQ(16, self->t.hdr->pending_send_sz);
	vmbus_ring_cancel_space(&self->r);
}

/* A buffer too small is the caller's problem: the packet stays. */
TEST_F(ring, small_buffer)
{
	struct vmbus_ring_pkt pkt;
	u8 in[100], buf[200];
	bool sig;

	fill(in, 5, 100);
	ASSERT_EQ(0, guest_send(&self->t, 6, 5, in, 100, &sig));
	EXPECT_EQ(-EINVAL, vmbus_ring_read(&self->r, buf, 15, &pkt, &sig));
	EXPECT_EQ(-ENOBUFS, vmbus_ring_read(&self->r, buf, 16, &pkt, &sig));
	EXPECT_EQ(120, pkt.len);
	EXPECT_EQ(-ENOBUFS, vmbus_ring_read(&self->r, buf, 119, &pkt, &sig));
	EXPECT_EQ(0, self->t.hdr->read_index);
	ASSERT_EQ(0, vmbus_ring_read(&self->r, buf, 120, &pkt, &sig));
	EXPECT_TRUE(check(buf + 16, 5, 100));
}

/*
 * Corrupt indices, lengths, offsets and trailers, each on a ring holding
 * one good 56-byte packet (48 bytes + trailer) at offset @at: -EBADMSG,
 * nothing consumed, and the ring stays broken once repaired.
 */
enum poke { P_WIDX, P_WREL, P_LEN8, P_OFF8, P_TRAILER_XOR, P_TRAILER_LOW };

static const struct corrupt {
	const char *what;
	enum poke field;
	u64 val;
} corrupts[] = {
	{ "write_index misaligned", P_WREL, 60 },
	{ "write_index misaligned by 4", P_WREL, 4 },
	{ "write_index at size", P_WIDX, 0 },	/* 0: the ring size */
	{ "write_index far out", P_WIDX, 0x10000000 },
	{ "write_index all ones", P_WIDX, 0xffffffff },
	{ "write_index all ones but aligned", P_WIDX, 0xfffffff8 },
	{ "partial packet (16 bytes)", P_WREL, 16 },
	{ "partial packet (8 bytes)", P_WREL, 8 },
	{ "write_index mid packet", P_WREL, 40 },
	{ "write_index 8 short", P_WREL, 48 },
	{ "len8 0", P_LEN8, 0 },
	{ "len8 1 (< descriptor)", P_LEN8, 1 },
	{ "len8 7 (past available)", P_LEN8, 7 },
	{ "len8 0xffff", P_LEN8, 0xffff },
	{ "offset8 0", P_OFF8, 0 },
	{ "offset8 1", P_OFF8, 1 },
	{ "offset8 past len8", P_OFF8, 7 },
	{ "offset8 0xffff", P_OFF8, 0xffff },
	{ "trailer of the next offset", P_TRAILER_XOR, 8ULL << 32 },
	{ "trailer top bit", P_TRAILER_XOR, 1ULL << 63 },
	{ "trailer offset in the low half", P_TRAILER_LOW, 0 },
};

TEST_F(ring, corrupt_reader)
{
	static const u32 at[] = { 0, 8, 4088, 4096 - 24, 4096 - 48, 8192 - 8 };
	u32 size = self->t.size, i, k, start, good_w;
	u8 in[32], good[56], *buf;
	struct vmbus_ring_pkt pkt;
	bool sig;
	u64 v;

	fill(in, 1, 32);
	buf = malloc(0xffff * 8);
	for (k = 0; k < ARRAY_SIZE(at); k++) {
		for (i = 0; i < ARRAY_SIZE(corrupts); i++) {
			const struct corrupt *c = &corrupts[i];

			start = at[k] % size;
			if (c->field == P_TRAILER_LOW && !start)
				continue;	/* start 0: that is the trailer */
			ASSERT_EQ(0, restart(self, start));
			ASSERT_EQ(0, guest_send(&self->t, 6, 9, in, 32, &sig));
			good_w = self->t.hdr->write_index;
			gget(&self->t, start, good, sizeof(good));
			switch (c->field) {
			case P_WIDX:
				self->t.hdr->write_index = c->val ?: size;
				break;
			case P_WREL:
				self->t.hdr->write_index =
					(start + c->val) % size;
				break;
			case P_LEN8:
				*(u16 *)gb(&self->t, start + 4) = c->val;
				break;
			case P_OFF8:
				*(u16 *)gb(&self->t, start + 2) = c->val;
				break;
			case P_TRAILER_XOR:
				v = gget64(&self->t, start + 48) ^ c->val;
				gput(&self->t, start + 48, &v, 8);
				break;
			case P_TRAILER_LOW:
				v = start;
				gput(&self->t, start + 48, &v, 8);
				break;
			}
			/* As large as the largest packet a descriptor says. */
			EXPECT_EQ(-EBADMSG,
				  vmbus_ring_read(&self->r, buf, 0xffff * 8,
						  &pkt, &sig)) {
				TH_LOG("%s at %u", c->what, start);
			}
			EXPECT_FALSE(sig);
			EXPECT_EQ(start, self->t.hdr->read_index);
			/* Repaired: still broken, for good. */
			gput(&self->t, start, good, sizeof(good));
			self->t.hdr->write_index = good_w;
			EXPECT_EQ(-EBADMSG,
				  vmbus_ring_read(&self->r, buf, 0xffff * 8,
						  &pkt, &sig));
			EXPECT_EQ(-EBADMSG, vmbus_ring_peek(&self->r, buf, 64,
							    &pkt));
			EXPECT_FALSE(vmbus_ring_commit(&self->r));
			EXPECT_TRUE(vmbus_ring_unmask(&self->r));
			EXPECT_EQ(start, self->t.hdr->read_index);
		}
	}
	/* The trailer's low half is not checked (Windows may use it). */
	ASSERT_EQ(0, restart(self, 64));
	ASSERT_EQ(0, guest_send(&self->t, 6, 9, in, 32, &sig));
	v = (64ULL << 32) | 0xdeadbeef;
	gput(&self->t, 64 + 48, &v, 8);
	EXPECT_EQ(0, vmbus_ring_read(&self->r, buf, 64, &pkt, &sig));
	free(buf);
}

/*
 * Writer: a corrupt read_index matters only when the writer must look at
 * it (the cached one says full); then it is -EBADMSG, for good.
 */
TEST_F(ring, corrupt_writer)
{
	static const u32 bad[] = { 4, 12, 0x10000, 0xfffffff8, 0xffffffff };
	u8 in[64] = { 0 };
	unsigned int i;
	bool sig;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(0, restart(self, 0));
		self->t.hdr->interrupt_mask = 1;
		self->t.hdr->read_index = bad[i];
		/* Empty as cached: writes go ahead. */
		ASSERT_EQ(0, vmbus_ring_send(&self->r, 6, 0, 0, in, 64, &sig));
		while (vmbus_ring_send(&self->r, 6, 0, 0, in, 64, &sig) == 0)
			;
		EXPECT_EQ(-EBADMSG, vmbus_ring_send(&self->r, 6, 0, 0, in, 0,
						    &sig));
		self->t.hdr->read_index = 0;
		EXPECT_EQ(-EBADMSG, vmbus_ring_send(&self->r, 6, 0, 0, in, 0,
						    &sig));
		EXPECT_TRUE(vmbus_ring_request_space(&self->r, 100));
	}
	/* Caught by request_space too. */
	ASSERT_EQ(0, restart(self, 0));
	self->t.hdr->read_index = 3;
	EXPECT_TRUE(vmbus_ring_request_space(&self->r, 100));
	EXPECT_EQ(-EBADMSG, vmbus_ring_send(&self->r, 6, 0, 0, in, 0, &sig));
}

/*
 * Random traffic both ways against a model, with random masks and
 * pending_send_sz: every packet intact, every signal as the rules say.
 */
TEST_F(ring, random_model)
{
	u32 size = self->t.size, wseq = 0, rseq = 0, len, step, free_before;
	u32 gseq = 0, groot = 0, pend, maxlen = size / 3, *plen;
	struct vmbus_ring_pkt pkt;
	struct vmbus_pkt_desc d;
	u8 *in, *buf;
	bool sig, bad, empty, want;
	int ret;

	in = malloc(size);
	buf = malloc(size);
	plen = malloc(40000 * sizeof(*plen));
	srand(42);
	for (step = 0; step < 40000; step++) {
		len = rand() % 3 ? rand() % 200 : rand() % maxlen;
		switch (rand() % 3) {
		case 0:	/* the guest writes */
			fill(in, wseq, len);
			empty = guest_avail(&self->t) == 0;
			ret = guest_send(&self->t, 6, wseq, in, len, &sig);
			if (ret == 0) {
				EXPECT_EQ(empty && !self->t.hdr->interrupt_mask,
					  sig);
				plen[wseq++] = len;
			} else if (rand() % 2) {
				self->t.hdr->pending_send_sz =
					ALIGN(16 + len, 8) + 8;
			}
			break;
		case 1:	/* root reads */
			free_before = guest_free(&self->t);
			pend = self->t.hdr->pending_send_sz;
			ret = vmbus_ring_read(&self->r, buf, size, &pkt, &sig);
			if (ret == -EAGAIN) {
				ASSERT_EQ(wseq, rseq);
				break;
			}
			ASSERT_EQ(0, ret);
			ASSERT_EQ(rseq, pkt.desc.trans_id);
			ASSERT_EQ(ALIGN(16 + plen[rseq], 8), pkt.len);
			ASSERT_TRUE(check(buf + 16, rseq, plen[rseq]));
			want = (self->t.hdr->feature_bits & 1) && pend &&
			       free_before <= pend &&
			       guest_free(&self->t) > pend;
			ASSERT_EQ(want, sig);
			if (sig)
				self->t.hdr->pending_send_sz = 0;
			rseq++;
			break;
		case 2:	/* toggles */
			if (rand() % 8 == 0)
				self->t.hdr->interrupt_mask ^= 1;
			if (rand() % 16 == 0)
				self->t.hdr->feature_bits ^= 1;
			break;
		}
	}
	EXPECT_GT(rseq, 1000);

	/* The root as writer, the guest model as reader. */
	ASSERT_EQ(0, restart(self, 0));
	srand(43);
	for (step = 0; step < 40000; step++) {
		len = rand() % 3 ? rand() % 200 : rand() % maxlen;
		if (rand() % 2) {
			fill(in, gseq, len);
			empty = guest_avail(&self->t) == 0;
			ret = vmbus_ring_send(&self->r, 6, 0, gseq, in, len,
					      &sig);
			if (ret == -EAGAIN) {
				EXPECT_FALSE(sig);
				continue;
			}
			ASSERT_EQ(0, ret);
			EXPECT_EQ(empty && !self->t.hdr->interrupt_mask, sig);
			plen[gseq++] = len;
		} else {
			ret = guest_recv(&self->t, buf, size, &d, &sig, &bad);
			ASSERT_FALSE(bad);
			if (ret == -EAGAIN) {
				ASSERT_EQ(gseq, groot);
				continue;
			}
			ASSERT_EQ(groot, d.trans_id);
			ASSERT_EQ(ALIGN(16 + plen[groot], 8), ret);
			ASSERT_TRUE(check(buf + 16, groot, plen[groot]));
			groot++;
		}
		if (rand() % 8 == 0)
			self->t.hdr->interrupt_mask ^= 1;
	}
	EXPECT_GT(groot, 1000);
	free(plen);
	free(in);
	free(buf);
}

/*
 * Random corruption of a ring full of packets: whatever the bytes, the
 * reader returns packets whose lengths fit the buffer and the ring, or
 * -EBADMSG for good, and never reads outside it (guards, ASan).
 */
TEST_F(ring, random_corruption)
{
	u32 size = self->t.size, round, i, off, got, limit;
	struct vmbus_ring_pkt pkt;
	u8 in[300], *buf;
	bool sig;
	int ret;

	srand(7);
	for (round = 0; round < 3000; round++) {
		ASSERT_EQ(0, restart(self, (rand() % (size / 8)) * 8));
		for (i = 0; i < 40; i++)
			if (guest_send(&self->t, rand() % 12, i, in,
				       rand() % 300, &sig))
				break;
		for (i = rand() % 6 + 1; i; i--) {
			off = rand() % (size + 24);
			if (off < 24)	/* header: an index or a flag */
				((u8 *)self->t.hdr)[off & 15] = rand();
			else
				*gb(&self->t, off) = rand();
		}
		limit = rand() % 2 ? 64 + rand() % 600 : size;
		buf = malloc(limit);
		got = 0;
		while ((ret = vmbus_ring_read(&self->r, buf, limit, &pkt,
					      &sig)) == 0) {
			ASSERT_LE(pkt.len, limit);
			ASSERT_LE(16, pkt.offset);
			ASSERT_LE(pkt.offset, pkt.len);
			ASSERT_LT(self->t.hdr->read_index, size);
			ASSERT_EQ(0, self->t.hdr->read_index % 8);
			got += pkt.len + 8;
			ASSERT_LT(got, 2 * size);
		}
		ASSERT_TRUE(ret == -EAGAIN || ret == -EBADMSG ||
			    ret == -ENOBUFS);
		if (ret == -EBADMSG)
			ASSERT_EQ(-EBADMSG, vmbus_ring_read(&self->r, buf, limit,
							    &pkt, &sig));
		free(buf);
	}
}

/*
 * Concurrency: a producer and a consumer thread, each with its own view
 * of the ring, sleeping on semaphores and woken only by the signals the
 * rules produce. A lost wakeup times out; every packet is checked.
 */
struct conc {
	struct tring *t;
	struct vmbus_ring w, r;
	sem_t to_reader, to_writer;
	u32 count;
	bool root_writer, root_reader;
	u64 sum_w, sum_r;
	int err;
	u32 lost;
	u32 waits;
};

static int wait_sig(struct conc *c, sem_t *s)
{
	struct timespec ts;

	__atomic_fetch_add(&c->waits, 1, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	if (sem_timedwait(s, &ts)) {
		c->lost++;
		return -1;
	}
	return 0;
}

static u32 conc_len(u32 seq, u32 size)
{
	u32 x = seq * 2654435761u;

	return x % 16 ? (x >> 8) % 300 : (x >> 8) % (size / 4);
}

static void *conc_writer(void *arg)
{
	struct conc *c = arg;
	u32 seq, len, size = c->t->size;
	u8 *in = malloc(size);
	bool sig;
	int ret;

	for (seq = 0; seq < c->count && !c->err; seq++) {
		len = conc_len(seq, size);
		fill(in, seq, len);
		for (;;) {
			if (c->root_writer)
				ret = vmbus_ring_send(&c->w, 6, 0, seq, in,
						      len, &sig);
			else
				ret = guest_send(c->t, 6, seq, in, len, &sig);
			if (ret != -EAGAIN)
				break;
			if (c->root_writer) {
				if (vmbus_ring_request_space(&c->w, 16 + len))
					continue;
			} else {
				__atomic_store_n(&c->t->hdr->pending_send_sz,
						 ALIGN(16 + len, 8) + 8,
						 __ATOMIC_SEQ_CST);
				if (guest_free(c->t) > ALIGN(16 + len, 8) + 8)
					continue;
			}
			if (wait_sig(c, &c->to_writer))
				goto out;
		}
		if (!c->root_writer)
			__atomic_store_n(&c->t->hdr->pending_send_sz, 0,
					 __ATOMIC_RELAXED);
		if (ret) {
			c->err = ret;
			break;
		}
		c->sum_w += seq * 31 + len;
		if (sig)
			sem_post(&c->to_reader);
	}
out:
	free(in);
	return NULL;
}

static void *conc_reader(void *arg)
{
	struct conc *c = arg;
	u32 seq = 0, size = c->t->size, len;
	struct vmbus_ring_pkt pkt;
	struct vmbus_pkt_desc d;
	u8 *buf = malloc(size);
	bool sig, bad;
	int ret;

	while (seq < c->count && !c->err) {
		if (c->root_reader) {
			vmbus_ring_mask(&c->r);
			ret = vmbus_ring_read(&c->r, buf, size, &pkt, &sig);
			len = pkt.len;
			d = pkt.desc;
		} else {
			__atomic_store_n(&c->t->hdr->interrupt_mask, 1,
					 __ATOMIC_RELAXED);
			ret = guest_recv(c->t, buf, size, &d, &sig, &bad);
			len = ret;
		}
		if (sig)
			sem_post(&c->to_writer);
		if (ret == -EAGAIN) {
			bool more;

			if (c->root_reader) {
				more = vmbus_ring_unmask(&c->r);
			} else {
				__atomic_store_n(&c->t->hdr->interrupt_mask, 0,
						 __ATOMIC_SEQ_CST);
				more = guest_avail(c->t) != 0;
			}
			if (!more && wait_sig(c, &c->to_reader))
				break;
			continue;
		}
		if (ret < 0) {
			c->err = ret;
			break;
		}
		if (d.trans_id != seq ||
		    len != ALIGN(16 + conc_len(seq, size), 8) ||
		    !check(buf + 16, seq, conc_len(seq, size))) {
			c->err = -EIO;
			break;
		}
		c->sum_r += seq * 31 + conc_len(seq, size);
		seq++;
	}
	free(buf);
	return NULL;
}

static void run_conc(struct __test_metadata *_metadata, struct tring *t,
		     bool root_writer, bool root_reader, u32 count)
{
	struct conc *c = calloc(1, sizeof(*c));
	pthread_t a, b;

	c->t = t;
	c->count = count;
	c->root_writer = root_writer;
	c->root_reader = root_reader;
	t->hdr->read_index = 0;
	t->hdr->write_index = 0;
	t->hdr->pending_send_sz = 0;
	t->hdr->interrupt_mask = 0;
	ASSERT_EQ(0, vmbus_ring_init(&c->w, t->pages, t->ndata + 1));
	ASSERT_EQ(0, vmbus_ring_init(&c->r, t->pages, t->ndata + 1));
	sem_init(&c->to_reader, 0, 0);
	sem_init(&c->to_writer, 0, 0);
	pthread_create(&a, NULL, conc_writer, c);
	pthread_create(&b, NULL, conc_reader, c);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	EXPECT_EQ(0, c->err);
	EXPECT_EQ(0, c->lost);
	EXPECT_EQ(c->sum_w, c->sum_r);
	TH_LOG("%u packets, %u waits for a signal", count, c->waits);
	free(c);
}

TEST_F(ring, concurrent_root_to_root)
{
	run_conc(_metadata, &self->t, true, true, 100000);
}

TEST_F(ring, concurrent_guest_to_root)
{
	run_conc(_metadata, &self->t, false, true, 50000);
}

TEST_F(ring, concurrent_root_to_guest)
{
	run_conc(_metadata, &self->t, true, false, 50000);
}

TEST_HARNESS_MAIN
