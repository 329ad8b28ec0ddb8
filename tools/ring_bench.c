// SPDX-License-Identifier: GPL-2.0
/*
 * ring_bench: native throughput of the root-side VMBus ring code
 * (vmbus/ring.c built as userspace C), one producer and one consumer
 * thread on the machine itself, against memcpy() of the same bytes.
 *
 * The ring is a header page and RING_PAGES data pages that are neither
 * contiguous nor in address order (every other page of a larger block,
 * shuffled), as the pages of a GPADL are, so every copy goes through the
 * per-page path. The producer (CPU 0) sends in-band packets of the given
 * payload size with vmbus_ring_send(); the consumer (CPU 1) takes each
 * one out with vmbus_ring_read() into its own buffer (copy, validation,
 * read_index published per packet, the pending_send_sz check). Both poll:
 * the consumer keeps interrupt_mask set, as a draining reader does, and
 * the producer retries when the ring is full.
 *
 * The anchor is memcpy() of the same payloads, one after another into a
 * destination the size of the ring's data area (wrapping), on one CPU:
 * the cost of moving those bytes once, within one core's caches.
 *
 * A ring between two CPUs cannot reach that: every line the producer
 * writes must travel to the consumer's core. So each round also times
 * the cross-core limit, "xcore": the same payloads through the simplest
 * correct two-thread queue in a buffer of the same size (FastForward
 * style: each slot a full flag and the payload, no shared index, no
 * validation, no signalling) with the same two threads and copies.
 *
 * Rounds alternate (anchor, xcore, ring, anchor, ...); each line gives
 * the medians, the median of the per-round ring/anchor ratios and their
 * spread, then the median ring/xcore ratio:
 *   BENCH ring_native_<size> vid=<v><unit> anchor=<v><unit> ratio=<r>
 *	   spread=<min>-<max> xcore=<v><unit> xcore_x=<r>
 * with GB/s of payload, or millions of packets a second for 64 B.
 *
 * The two threads spin; on a machine busy with other work they are often
 * not running at the same time, and a round measures the scheduler. Each
 * round prints the share of its two CPUs it got (cpu_share), and a note
 * follows when it was well below 1: then run it under chrt -f 1.
 *
 * Batches: both sides run as a VSP draining or filling a burst does, the
 * producer appending up to a batch of packets per vmbus_ring_publish(),
 * the consumer peeking and consuming up to a batch per
 * vmbus_ring_commit(); a batch is at most 32 packets (half of NAPI's
 * usual budget) and 16 KiB. The _unbatched line is the one-packet API
 * (vmbus_ring_send() and vmbus_ring_read(): two index stores, two full
 * barriers, the shared header line crossing between the CPUs twice, per
 * packet).
 *
 * For 64 B packets the xcore queue is no limit: its per-slot flags cross
 * between the CPUs with every packet, and its rate swings with how far
 * apart the two threads run.
 *
 * Options: -r ROUNDS (7), -p RING_PAGES (128), -s SCALE (1.0: the
 * bytes moved per round, times this), -b MAX_BATCH (32; 1: no batches).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../vmbus/ring.h"

#define MAX_ROUNDS	31

static int rounds = 7;
static unsigned int ring_pages = 128;
static double scale = 1.0;
static unsigned int max_batch = 32;
static unsigned int batch;	/* this round's */

struct bench_ring {
	void **pages;		/* header page, then the data pages */
	u32 npages;
	u8 *anchor_dst;		/* the anchor's destination: data-area size */
	u8 *xcore_area;		/* the cross-core queue: data-area size */
};

/* Each side's view on its own cache lines, away from the other's. */
struct side {
	_Alignas(128) struct vmbus_ring ring;
	u8 *buf;
	u32 payload;
	u64 count;
	u64 sum;
	int cpu;
};

/*
 * The round starts when main and both threads are here: they sleep until
 * then, so main runs even if the threads are real-time (chrt) and have
 * both CPUs.
 */
static pthread_barrier_t start;

/*
 * A round moves up to its packet count, but the producer stops after
 * ROUND_SECONDS (a loaded machine descheduling one of the two spinning
 * threads can slow a round a hundredfold); rates use what was moved.
 */
#define ROUND_SECONDS	1.5
static u64 sent;	/* the producer's final count, once it stops */

static double clock_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/*
 * A two-thread round's clock, read by the threads themselves (main may
 * share a CPU with one of them): from the producer's start to the
 * consumer's end, and each one's CPU time. The share of their two CPUs
 * they got: well below 1, other load descheduled the spinning threads
 * and the round measured the scheduler, not the ring.
 */
static double t_start, t_end, cpu_thread[2];

static double round_begin(bool producer)
{
	if (producer)
		t_start = now();
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static void round_end(bool producer, double cpu0)
{
	cpu_thread[producer] = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	if (!producer)
		t_end = now();
}

static double round_seconds(void)
{
	return t_end - t_start;
}

static double round_share(void)
{
	return (cpu_thread[0] + cpu_thread[1]) / (2 * round_seconds());
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

static void ring_setup(struct bench_ring *br)
{
	u32 n = ring_pages, i, j;
	u8 *block;
	void *p;

	br->npages = n + 1;
	br->pages = calloc(n + 1, sizeof(void *));
	block = mmap(NULL, (2 * n + 1) * PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (block == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memset(block, 0, (2 * n + 1) * PAGE_SIZE);
	br->pages[0] = block;
	for (i = 0; i < n; i++)
		br->pages[1 + i] = block + (2 + 2 * i) * PAGE_SIZE - PAGE_SIZE;
	srand(1);
	for (i = n - 1; i > 0; i--) {
		j = rand() % (i + 1);
		p = br->pages[1 + i];
		br->pages[1 + i] = br->pages[1 + j];
		br->pages[1 + j] = p;
	}
	((struct vmbus_ring_hdr *)block)->feature_bits =
		VMBUS_RING_FEAT_PENDING_SEND_SZ;
	br->anchor_dst = aligned_alloc(64, n * PAGE_SIZE);
	memset(br->anchor_dst, 0, n * PAGE_SIZE);
	br->xcore_area = aligned_alloc(PAGE_SIZE, n * PAGE_SIZE);
}

/*
 * With batch 1, vmbus_ring_send(): one packet, published at once. With a
 * larger batch, vmbus_ring_append() up to that many and one
 * vmbus_ring_publish(), also whenever the ring is full.
 */
static void *producer(void *arg)
{
	struct side *s = arg;
	struct vmbus_pkt_desc d = {
		.type = 6, .offset8 = 2, .len8 = ALIGN(16 + s->payload, 8) / 8,
	};
	struct kvec iov[2] = {
		{ .iov_base = &d, .iov_len = sizeof(d) },
		{ .iov_base = s->buf, .iov_len = s->payload },
	};
	u64 i;
	bool sig;
	int ret;

	double deadline, cpu0;

	pin(s->cpu);
	pthread_barrier_wait(&start);
	cpu0 = round_begin(true);
	deadline = now() + ROUND_SECONDS;
	for (i = 0; i < s->count; i++) {
		if (i % 4096 == 0 && now() > deadline)
			break;
		s->buf[0] = (u8)i;
		d.trans_id = i;
		for (;;) {
			if (batch == 1)
				ret = vmbus_ring_send(&s->ring, 6, 0, i, s->buf,
						      s->payload, &sig);
			else
				ret = vmbus_ring_append(&s->ring, iov, 2);
			if (ret != -EAGAIN)
				break;
			vmbus_ring_publish(&s->ring);
			cpu_relax();
		}
		if (ret) {
			fprintf(stderr, "ring_bench: send: %d\n", ret);
			exit(1);
		}
		if (i % batch == batch - 1)
			vmbus_ring_publish(&s->ring);
	}
	vmbus_ring_publish(&s->ring);
	__atomic_store_n(&sent, i, __ATOMIC_RELEASE);
	round_end(true, cpu0);
	return NULL;
}

static void *consumer(void *arg)
{
	struct side *s = arg;
	u32 size = ALIGN(16 + s->payload, 8);
	struct vmbus_ring_pkt pkt;
	u64 i, sum = 0;
	double cpu0;
	bool sig;
	int ret;

	pin(s->cpu);
	vmbus_ring_mask(&s->ring);
	pthread_barrier_wait(&start);
	cpu0 = round_begin(false);
	for (i = 0; i < __atomic_load_n(&sent, __ATOMIC_ACQUIRE); i++) {
		if (batch == 1) {
			while ((ret = vmbus_ring_read(&s->ring, s->buf, size,
						      &pkt, &sig)) == -EAGAIN &&
			       i < __atomic_load_n(&sent, __ATOMIC_ACQUIRE))
				cpu_relax();
		} else {
			while ((ret = vmbus_ring_peek(&s->ring, s->buf, size,
						      &pkt)) == -EAGAIN &&
			       i < __atomic_load_n(&sent, __ATOMIC_ACQUIRE)) {
				vmbus_ring_commit(&s->ring);
				cpu_relax();
			}
			if (ret == -EAGAIN)
				break;
			if (!ret)
				vmbus_ring_consume(&s->ring, &pkt);
			if (i % batch == batch - 1)
				vmbus_ring_commit(&s->ring);
		}
		if (ret == -EAGAIN)
			break;
		if (ret || pkt.desc.trans_id != i || s->buf[16] != (u8)i) {
			fprintf(stderr, "ring_bench: read %llu: %d\n",
				(unsigned long long)i, ret);
			exit(1);
		}
		sum += pkt.len;
	}
	round_end(false, cpu0);
	s->sum = sum;
	s->count = i;
	return NULL;
}

/* One round through the ring: packets a second. */
static double run_ring(struct bench_ring *br, u32 payload, u64 count)
{
	struct side *p, *c;
	pthread_t tp, tc;
	struct vmbus_ring_hdr *hdr = br->pages[0];

	hdr->read_index = 0;
	hdr->write_index = 0;
	hdr->interrupt_mask = 0;
	hdr->pending_send_sz = 0;
	p = aligned_alloc(128, sizeof(*p));
	c = aligned_alloc(128, sizeof(*c));
	memset(p, 0, sizeof(*p));
	memset(c, 0, sizeof(*c));
	if (vmbus_ring_init(&p->ring, br->pages, br->npages) ||
	    vmbus_ring_init(&c->ring, br->pages, br->npages)) {
		fprintf(stderr, "ring_bench: init failed\n");
		exit(1);
	}
	p->payload = payload;
	c->payload = payload;
	p->count = count;
	c->count = count;
	p->cpu = 0;
	c->cpu = 1;
	p->buf = aligned_alloc(64, ALIGN(16 + payload, 64));
	c->buf = aligned_alloc(64, ALIGN(16 + payload, 64));
	memset(p->buf, 0x5a, payload);
	memset(c->buf, 0, 16 + payload);

	sent = ~0ULL;
	pthread_barrier_init(&start, NULL, 3);
	pthread_create(&tp, NULL, producer, p);
	pthread_create(&tc, NULL, consumer, c);
	pthread_barrier_wait(&start);
	pthread_join(tc, NULL);
	pthread_join(tp, NULL);
	pthread_barrier_destroy(&start);
	count = c->count;
	if (count != sent || c->sum != count * ALIGN(16 + payload, 8)) {
		fprintf(stderr, "ring_bench: lost packets\n");
		exit(1);
	}
	free(p->buf);
	free(c->buf);
	free(p);
	free(c);
	return count / round_seconds();
}

/* The cross-core limit: a FastForward queue of ring size; packets/s. */
struct xslot {
	u64 full;
	u8 data[];
};

struct xside {
	u8 *area, *buf;
	u32 payload, stride, nslots;
	u64 count;
	int cpu;
};

static struct xslot *xslot(struct xside *x, u64 i)
{
	return (struct xslot *)(x->area + (i % x->nslots) * x->stride);
}

static void *xproducer(void *arg)
{
	struct xside *x = arg;
	double deadline, cpu0;
	struct xslot *sl;
	u64 i;

	pin(x->cpu);
	pthread_barrier_wait(&start);
	cpu0 = round_begin(true);
	deadline = now() + ROUND_SECONDS;
	for (i = 0; i < x->count; i++) {
		if (i % 4096 == 0 && now() > deadline)
			break;
		sl = xslot(x, i);
		while (__atomic_load_n(&sl->full, __ATOMIC_ACQUIRE))
			cpu_relax();
		x->buf[0] = (u8)i;
		memcpy(sl->data, x->buf, x->payload);
		__atomic_store_n(&sl->full, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&sent, i, __ATOMIC_RELEASE);
	round_end(true, cpu0);
	return NULL;
}

static void *xconsumer(void *arg)
{
	struct xside *x = arg;
	struct xslot *sl;
	double cpu0;
	u64 i;

	pin(x->cpu);
	pthread_barrier_wait(&start);
	cpu0 = round_begin(false);
	for (i = 0; i < __atomic_load_n(&sent, __ATOMIC_ACQUIRE); i++) {
		sl = xslot(x, i);
		while (!__atomic_load_n(&sl->full, __ATOMIC_ACQUIRE) &&
		       i < __atomic_load_n(&sent, __ATOMIC_ACQUIRE))
			cpu_relax();
		if (!__atomic_load_n(&sl->full, __ATOMIC_ACQUIRE))
			break;
		memcpy(x->buf, sl->data, x->payload);
		if (x->buf[0] != (u8)i) {
			fprintf(stderr, "ring_bench: xcore lost packet %llu\n",
				(unsigned long long)i);
			exit(1);
		}
		__atomic_store_n(&sl->full, 0, __ATOMIC_RELEASE);
	}
	round_end(false, cpu0);
	x->count = i;
	return NULL;
}

static double run_xcore(struct bench_ring *br, u32 payload, u64 count)
{
	struct xside *p, *c;
	pthread_t tp, tc;
	u32 stride = ALIGN(8 + payload, 64);

	p = aligned_alloc(128, ALIGN(sizeof(*p), 128));
	c = aligned_alloc(128, ALIGN(sizeof(*c), 128));
	memset(p, 0, sizeof(*p));
	p->area = br->xcore_area;
	p->stride = stride;
	p->nslots = ring_pages * PAGE_SIZE / stride;
	p->payload = payload;
	p->count = count;
	*c = *p;
	p->cpu = 0;
	c->cpu = 1;
	p->buf = aligned_alloc(64, ALIGN(payload, 64));
	c->buf = aligned_alloc(64, ALIGN(payload, 64));
	memset(p->buf, 0x5a, payload);
	memset(br->xcore_area, 0, ring_pages * PAGE_SIZE);

	sent = ~0ULL;
	pthread_barrier_init(&start, NULL, 3);
	pthread_create(&tp, NULL, xproducer, p);
	pthread_create(&tc, NULL, xconsumer, c);
	pthread_barrier_wait(&start);
	pthread_join(tc, NULL);
	pthread_join(tp, NULL);
	pthread_barrier_destroy(&start);
	count = c->count;
	if (count != sent) {
		fprintf(stderr, "ring_bench: xcore lost packets\n");
		exit(1);
	}
	free(p->buf);
	free(c->buf);
	free(p);
	free(c);
	return count / round_seconds();
}

/* The anchor, memcpy() of the payloads into a ring-sized area: per s. */
static double run_anchor(struct bench_ring *br, u32 payload, u64 count)
{
	u32 size = ring_pages * PAGE_SIZE, off = 0;
	u8 *src = aligned_alloc(64, ALIGN(payload, 64));
	double t0, t1;
	u64 i;

	memset(src, 0x5a, payload);
	pin(0);
	t0 = now();
	for (i = 0; i < count; i++) {
		if (off + payload > size)
			off = 0;
		src[0] = (u8)i;
		memcpy(br->anchor_dst + off, src, payload);
		off += ALIGN(payload, 8);
	}
	__asm__ __volatile__("" : : "r"(br->anchor_dst) : "memory");
	t1 = now();
	free(src);
	return count / (t1 - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench(struct bench_ring *br, const char *name, u32 payload,
		  u64 bytes, unsigned int most)
{
	double vid[MAX_ROUNDS], anchor[MAX_ROUNDS], ratio[MAX_ROUNDS], r;
	double share[MAX_ROUNDS], xcore[MAX_ROUNDS], xratio[MAX_ROUNDS];
	u64 count = (u64)(bytes * scale) / payload;
	bool pkts = payload < 1024;
	const char *unit = pkts ? "Mpkt/s" : "GB/s";
	int i;

	batch = 16384 / (ALIGN(16 + payload, 8) + 8);
	batch = batch < 1 ? 1 : batch > most ? most : batch;
	printf("# %s: %llu packets of %u bytes a round at most, batches of %u\n",
	       name, (unsigned long long)count, payload, batch);
	for (i = 0; i < rounds; i++) {
		r = run_anchor(br, payload, count);
		anchor[i] = pkts ? r / 1e6 : r * payload / 1e9;
		r = run_xcore(br, payload, count);
		xcore[i] = pkts ? r / 1e6 : r * payload / 1e9;
		r = run_ring(br, payload, count);
		share[i] = round_share();
		vid[i] = pkts ? r / 1e6 : r * payload / 1e9;
		ratio[i] = vid[i] / anchor[i];
		xratio[i] = vid[i] / xcore[i];
		printf("# %s round %d: vid=%.2f%s anchor=%.2f%s xcore=%.2f%s cpu_share=%.2f\n",
		       name, i + 1, vid[i], unit, anchor[i], unit, xcore[i],
		       unit, share[i]);
	}
	if (median(share, rounds) < 0.9)
		printf("# %s: the ring's threads got %.0f%% of their CPUs (other load): the rates below are the scheduler's\n",
		       name, 100 * median(share, rounds));
	printf("BENCH %s vid=%.1f%s anchor=%.1f%s ratio=%.3f spread=",
	       name, median(vid, rounds), unit, median(anchor, rounds), unit,
	       median(ratio, rounds));
	printf("%.3f-%.3f xcore=%.1f%s xcore_x=%.2f\n", ratio[0],
	       ratio[rounds - 1], median(xcore, rounds), unit,
	       median(xratio, rounds));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct bench_ring br;
	int opt;

	while ((opt = getopt(argc, argv, "r:p:s:b:")) != -1) {
		switch (opt) {
		case 'b':
			max_batch = atoi(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'p':
			ring_pages = atoi(optarg);
			break;
		case 's':
			scale = atof(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-r rounds] [-p ring pages] [-s scale]\n",
				argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || ring_pages < 16 ||
	    ring_pages > 4096 || scale <= 0 || max_batch < 1) {
		fprintf(stderr, "ring_bench: bad option\n");
		return 2;
	}
	ring_setup(&br);
	printf("# ring_bench: %u KiB ring in %u scattered pages, %d rounds, batches up to %u, %ld CPUs\n",
	       ring_pages * 4, ring_pages, rounds, max_batch,
	       sysconf(_SC_NPROCESSORS_ONLN));
	bench(&br, "ring_native_64B", 64, 256ULL << 20, max_batch);
	bench(&br, "ring_native_4K", 4096, 2ULL << 30, max_batch);
	bench(&br, "ring_native_64K", 65536, 2ULL << 30, max_batch);
	bench(&br, "ring_native_64B_unbatched", 64, 256ULL << 20, 1);
	return 0;
}
