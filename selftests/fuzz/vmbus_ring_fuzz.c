// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the root side of VMBus rings (vmbus/ring.c): the
 * guest controls every byte of the header and the data pages, and keeps
 * changing them between the root's calls.
 *
 * Input layout (little endian; short inputs are zero-extended):
 *   0      u8  data pages - 1 (bits 0-1); their layout: separate pages
 *              in reverse order, one contiguous block (bit 2), or the
 *              first two contiguous and the rest separate (bit 3)
 *   1      u8  number of operations (each 4 bytes, after the header)
 *   2      u16 the reader's buffer size
 *   4      u32 write_index, read_index, interrupt_mask, pending_send_sz,
 *              feature_bits: the header as the guest left it
 *   24     ops: { kind, a, b, c }
 *   ...    the rest: data-area bytes, placed from read_index on (so short
 *          inputs still wrap around the end of the ring)
 *
 * Operations, as the root's channel code and a hostile guest interleave
 * them:
 *   read, peek, consume the last peeked packet, commit, mask, unmask;
 *   the guest pokes byte a|b<<8 past the reader's position (in the data
 *   area, or in the header when kind says so) with c;
 *   the root writes a packet of a|b<<8 bytes (another view of the same
 *   ring, as writer), or asks for space.
 *
 * Checked after every call, besides what ASan and UBSan catch (the pages
 * and the buffer are heap blocks of exactly their size): only documented
 * return values; a packet returned fits the buffer, its offset and length
 * are consistent and its bytes are the ring's bytes at the reader's
 * position; published indices stay in range and aligned; a ring found
 * corrupt stays corrupt.
 */
#include <sanitizer/asan_interface.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../vmbus/ring.h"

#define FUZZ_HDR	24

struct fz {
	void *pages[5];
	u32 ndata, size;
	struct vmbus_ring_hdr *hdr;
};

/*
 * Allocated once, each a heap block of its own (ASan redzones around
 * each): the header page, four separate data pages, four contiguous ones.
 */
static void *hdr_page, *sep_pages[4];
static u8 *block;
static u8 payload[0x10000];

/*
 * The reader's buffer: the last @size bytes of a heap block, the bytes
 * before them poisoned, so a byte out of bounds either side is caught
 * without a fresh allocation per run.
 */
static u8 *bufblock;

static u8 *buf_get(u32 size)
{
	if (!bufblock)
		bufblock = malloc(0x10000);
	ASAN_POISON_MEMORY_REGION(bufblock, 0x10000 - size);
	return bufblock + 0x10000 - size;
}

static void buf_put(void)
{
	ASAN_UNPOISON_MEMORY_REGION(bufblock, 0x10000);
}

static u8 *fz_byte(struct fz *f, u32 off)
{
	off %= f->size;
	return (u8 *)f->pages[1 + off / PAGE_SIZE] + off % PAGE_SIZE;
}

/*
 * Copy @len bytes at data offset @off out of (@out) or into (!@out) the
 * ring, a page at a time: the harness's own loops stay out of the
 * comparison tracing that would otherwise dominate each run.
 */
static void fz_copy(struct fz *f, u32 off, u8 *p, u32 len, bool out)
{
	u32 n;

	off %= f->size;
	while (len) {
		n = PAGE_SIZE - off % PAGE_SIZE;
		n = n < len ? n : len;
		if (out)
			memcpy(p, fz_byte(f, off), n);
		else
			memcpy(fz_byte(f, off), p, n);
		p += n;
		len -= n;
		off = (off + n) % f->size;
	}
}

static u32 get32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static void fz_setup(struct fz *f, const u8 *h, const u8 *data, size_t n)
{
	u32 i, start;

	if (!hdr_page) {
		hdr_page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		for (i = 0; i < 4; i++)
			sep_pages[i] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		block = aligned_alloc(PAGE_SIZE, 4 * PAGE_SIZE);
	}
	memset(f, 0, sizeof(*f));
	f->ndata = (h[0] & 3) + 1;
	f->size = f->ndata * PAGE_SIZE;
	f->pages[0] = hdr_page;
	memset(f->pages[0], 0, PAGE_SIZE);
	for (i = 0; i < f->ndata; i++) {
		if (h[0] & 4 || (h[0] & 8 && i < 2))
			f->pages[1 + i] = block + i * PAGE_SIZE;
		else
			f->pages[1 + i] = sep_pages[f->ndata - 1 - i];
		memset(f->pages[1 + i], 0, PAGE_SIZE);
	}
	f->hdr = f->pages[0];
	f->hdr->write_index = get32(h + 4);
	f->hdr->read_index = get32(h + 8);
	f->hdr->interrupt_mask = get32(h + 12);
	f->hdr->pending_send_sz = get32(h + 16);
	f->hdr->feature_bits = get32(h + 20);
	start = f->hdr->read_index;
	fz_copy(f, start, (u8 *)data, n < f->size ? n : f->size, false);
}

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "vmbus_ring_fuzz: %s:%d: %s\n",		\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

static bool index_ok(struct fz *f, u32 i)
{
	return i < f->size && i % 8 == 0;
}

/* A packet the reader returned: consistent, and the ring's own bytes. */
static void check_pkt(struct fz *f, const u8 *buf, u32 bufsize, u32 at,
		      const struct vmbus_ring_pkt *pkt)
{
	static u8 ref[0x80000];
	u64 trailer;

	CHECK(pkt->len <= bufsize);
	CHECK(pkt->len % 8 == 0 && pkt->len >= 16);
	CHECK(pkt->offset >= 16 && pkt->offset <= pkt->len);
	CHECK(pkt->len == pkt->desc.len8 * 8u);
	CHECK(!memcmp(buf, &pkt->desc, sizeof(pkt->desc)));
	fz_copy(f, at, ref, pkt->len, true);
	CHECK(!memcmp(buf, ref, pkt->len));
	fz_copy(f, at + pkt->len, (u8 *)&trailer, 8, true);
	CHECK(trailer >> 32 == at);
}

int LLVMFuzzerTestOneInput(const u8 *in, size_t n)
{
	u8 h[FUZZ_HDR] = { 0 }, *buf;
	u32 bufsize, nops, i, at, val, pos;
	struct vmbus_ring_pkt pkt, peeked;
	struct vmbus_ring r, w;
	bool sig, have_peek = false, rbroken, wbroken, winit;
	const u8 *op;
	struct fz f;
	int ret;

	memcpy(h, in, n < FUZZ_HDR ? n : FUZZ_HDR);
	in += n < FUZZ_HDR ? n : FUZZ_HDR;
	n -= n < FUZZ_HDR ? n : FUZZ_HDR;
	nops = h[1];
	if (nops * 4 > n)
		nops = n / 4;
	op = in;
	in += nops * 4;
	n -= nops * 4;

	fz_setup(&f, h, in, n);
	bufsize = h[2] | h[3] << 8;
	buf = buf_get(bufsize);

	ret = vmbus_ring_init(&r, f.pages, f.ndata + 1);
	CHECK(ret == 0 || ret == -EBADMSG);
	if (ret) {
		/* Both indices are checked up front. */
		CHECK(!index_ok(&f, f.hdr->read_index) ||
		      !index_ok(&f, f.hdr->write_index));
		goto out;
	}
	winit = vmbus_ring_init(&w, f.pages, f.ndata + 1) == 0;
	CHECK(winit);

	for (i = 0; i < nops; i++, op += 4) {
		val = op[1] | op[2] << 8;
		rbroken = r.broken;
		wbroken = w.broken;
		at = r.read;
		switch (op[0] % 12) {
		case 0:
			ret = vmbus_ring_read(&r, buf, bufsize, &pkt, &sig);
			CHECK(ret == 0 || ret == -EAGAIN || ret == -ENOBUFS ||
			      ret == -EBADMSG || ret == -EINVAL);
			if (ret == 0) {
				check_pkt(&f, buf, bufsize, at, &pkt);
				CHECK(f.hdr->read_index == r.read);
			} else {
				CHECK(!sig && r.read == at);
			}
			have_peek = false;
			break;
		case 1:
			ret = vmbus_ring_peek(&r, buf, bufsize, &pkt);
			CHECK(ret == 0 || ret == -EAGAIN || ret == -ENOBUFS ||
			      ret == -EBADMSG || ret == -EINVAL);
			CHECK(r.read == at);
			have_peek = ret == 0;
			if (have_peek) {
				check_pkt(&f, buf, bufsize, at, &pkt);
				peeked = pkt;
			}
			break;
		case 2:
			if (have_peek)
				vmbus_ring_consume(&r, &peeked);
			have_peek = false;
			break;
		case 3:
			vmbus_ring_commit(&r);
			break;
		case 4:
			vmbus_ring_mask(&r);
			break;
		case 5:
			vmbus_ring_unmask(&r);
			break;
		case 6: case 7: case 8:
			/* The guest changes data (ahead of the reader). */
			*fz_byte(&f, r.read + val) = op[3];
			have_peek = false;
			break;
		case 9:
			/* ... or the header's first 16 bytes, or features. */
			pos = val % 20;
			((u8 *)f.hdr)[pos < 16 ? pos : 64 + pos % 4] = op[3];
			have_peek = false;
			break;
		case 10:
			pos = w.write;
			ret = vmbus_ring_send(&w, op[3], 0, i, payload, val,
					      &sig);
			CHECK(ret == 0 || ret == -EAGAIN || ret == -EMSGSIZE ||
			      ret == -EBADMSG);
			if (ret == 0) {
				CHECK(f.hdr->write_index == w.write);
				CHECK(*(u64 *)fz_byte(&f, w.write + f.size - 8) ==
				      (u64)pos << 32);
			} else {
				CHECK(!sig && w.write == pos);
			}
			have_peek = false;
			break;
		case 11:
			vmbus_ring_request_space(&w, val);
			break;
		}
		/* Published indices stay sane; broken stays broken. */
		CHECK(index_ok(&f, r.read) && index_ok(&f, r.read_pub));
		CHECK(index_ok(&f, w.write));
		CHECK(!rbroken || r.broken);
		CHECK(!wbroken || w.broken);
		if (r.broken)
			CHECK(vmbus_ring_peek(&r, buf, bufsize, &pkt) ==
			      -EBADMSG);
	}
out:
	buf_put();
	return 0;
}
