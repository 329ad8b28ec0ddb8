// SPDX-License-Identifier: GPL-2.0
/*
 * vmbus_bench: VMBus ring throughput and signal latency from inside a
 * guest (issue 5, item 6), against memcpy() of the same bytes in the same
 * guest: the physical limit of moving them once.
 *
 * The guest is a C guest of the selftests (selftests/lib_guest.h) running
 * their VMBus client (selftests/lib_vmbus_guest.h: its own ring code,
 * Linux's signalling rules) against the partition's VMBus server and the
 * kernel's echo VSP (vmbus/vsp_echo.h), on one channel with 1 MiB rings
 * each way. The VMM sets the guest's next operation while the guest waits
 * at a ucall and times, with the host's monotonic clock, the run from
 * there to the guest's next ucall (one exit to userspace each way,
 * negligible against the phase):
 *
 *   vmbus_g2h_<size>   guest -> root: packets of <size> payload bytes (an
 *                      echo SINK header included) written as fast as the
 *                      ring takes them, ended by a STATS round trip that
 *                      says the VSP consumed them all. MB/s of payload.
 *   vmbus_h2g_<size>   root -> guest: one SOURCE request, the VSP writes
 *                      the packets as the guest drains them (pending_send_sz
 *                      back-pressure), the guest copies each payload out.
 *                      MB/s of payload.
 *   anchor (both)      memcpy() of the same payloads, one after another,
 *                      into a 1 MiB area (wrapping), in the same guest.
 *   vmbus_signal_oneway half the round trip of an empty ECHO: guest
 *                      HvSignalEvent, the VSP's work, its ring write and
 *                      the SINT 2 event flag back to the halted VP, with
 *                      the VSP's ring polling off (vmbus_poll_us=0). us; the
 *                      anchor is one in-kernel hypercall round trip (an
 *                      HvSignalEvent on an unconnected connection), the
 *                      cheapest exit the guest can make, so the ratio says
 *                      how many such exits one signal costs.
 *
 * There is no KVM counterpart (KVM has no VMBus server). Rounds
 * interleave (anchor, vid, anchor, vid, ...), ROUNDS of each; a line
 * gives the medians, the median of the per-round ratios (vid/anchor for
 * rates, vid/anchor for times) and their spread:
 *   BENCH <name> vid=<v><unit> anchor=<v><unit> ratio=<r> spread=<min>-<max>
 * No timing is asserted. Without /dev/vid or a VMBus server every line is
 * "BENCH <name> skipped: <reason>". A phase without an answer for
 * PHASE_MAX_S seconds (a guest that waits for good: a lost wake-up) ends
 * the run with the remaining lines skipped and exit status 1.
 *
 * vmbus_bench [-r ROUNDS] [-s SCALE]: SCALE (1.0) multiplies the bytes and
 * round trips of each phase.
 */
#define _GNU_SOURCE
#define VID_TEST_UTIL_NO_HARNESS
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vid_vmbus.h>

#include "lib_cguest.h"
#include "lib_vmbus_guest.h"
#include "../vmbus/vsp_echo.h"

#define MAX_ROUNDS	31
#define RING_PAGES	257		/* a header page and 1 MiB of data */
#define AREA_SIZE	0x100000U	/* the anchor's destination: 1 MiB */
/* ring waits poll this many loops before halting (vmg.halt_poll) */
#define HALT_POLL	20000

/* Guest memory of the benchmark (VMG_TEST_GPA: 16 MiB for the test). */
#define BENCH_SRC	((uint8_t *)VMG_TEST_GPA)
#define BENCH_DST	((uint8_t *)VMG_TEST_GPA + (1U << 20))

enum bench_op {
	OP_MEMCPY = 1,
	OP_G2H,
	OP_H2G,
	OP_PING,
	OP_HCALL,
	OP_LOCAL_TX,
	OP_LOCAL_RX,
};

enum { SYNC_READY = 1, SYNC_DONE };

/* The next operation: the VMM writes the guest's copy at a ucall. */
struct bench_cmd {
	uint32_t op;
	uint32_t size;
	uint32_t count;
};

static struct bench_cmd bcmd;
static uint8_t rxbuf[VID_ECHO_MAX_SIZE + 64];

static const uint8_t echo_class[16] = VID_ECHO_CLASS_GUID_BYTES;

/* ----- guest side ----- */

static void g_memcpy(uint32_t size, uint32_t count)
{
	uint32_t i, off = 0;

	for (i = 0; i < count; i++) {
		if (off + size > AREA_SIZE)
			off = 0;
		memcpy(BENCH_DST + off, BENCH_SRC, size);
		off += size;
	}
}

/* STATS round trip: the packets the VSP counted since the last one. */
static uint64_t g_stats(struct vmg_channel *ch)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_STATS };
	struct vid_echo_stats st;
	struct vmg_pkt pkt;

	GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND,
				      VMG_PKT_F_COMPLETION, 1, &h, sizeof(h),
				      NULL, 0), 0);
	GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt), 0);
	GUEST_ASSERT_EQ(pkt.type, VMG_PKT_COMP);
	memcpy(&st, rxbuf, sizeof(st));
	return st.packets;
}

static uint64_t g_g2h(struct vmg_channel *ch, uint32_t size, uint32_t count)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_SINK, .size = size };
	uint32_t i;

	g_stats(ch);
	for (i = 0; i < count; i++)
		GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND, 0, i,
					      &h, sizeof(h), BENCH_SRC,
					      size - sizeof(h)), 0);
	return g_stats(ch);
}

static uint64_t g_h2g(struct vmg_channel *ch, uint32_t size, uint32_t count)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_SOURCE, .size = size,
				  .count = count };
	const struct vid_echo_hdr *r = (const void *)rxbuf;
	struct vmg_pkt pkt;
	uint64_t got = 0;

	GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND, 0, 0, &h,
				      sizeof(h), NULL, 0), 0);
	for (;;) {
		GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt),
				0);
		if (r->cmd == VID_ECHO_CMD_SOURCE_DONE)
			return got;
		got++;
	}
}

static void g_ping(struct vmg_channel *ch, uint32_t count)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_ECHO };
	struct vmg_pkt pkt;
	uint32_t i;

	for (i = 0; i < count; i++) {
		GUEST_ASSERT_EQ(vmg_send_wait(ch, VMG_PKT_DATA_INBAND,
					      VMG_PKT_F_COMPLETION, i, &h,
					      sizeof(h), NULL, 0), 0);
		GUEST_ASSERT_EQ(vmg_recv_wait(ch, rxbuf, sizeof(rxbuf), &pkt),
				0);
		GUEST_ASSERT_EQ(pkt.trans_id, i);
	}
}

/*
 * The guest's side alone: its ring code on a ring in its own memory that
 * no root reads or writes (interrupt_mask set: no signals). TX writes
 * packets as OP_G2H does and empties the ring itself when it is full;
 * RX reads the packets of a ring filled once, rewinding when it runs
 * out. What the guest's ring code costs, without the other side.
 */
#define LOCAL_RING	((uint64_t)VMG_TEST_GPA + (2U << 20))

static void g_local_setup(struct vmg_ring *r)
{
	r->hdr = (struct vmg_ring_hdr *)LOCAL_RING;
	r->data = (uint8_t *)LOCAL_RING + 4096;
	r->size = (RING_PAGES - 1) * 4096;
	memset(r->hdr, 0, sizeof(*r->hdr));
	r->hdr->interrupt_mask = 1;
}

static void g_local_tx(uint32_t size, uint32_t count)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_SINK, .size = size };
	struct vmg_channel lc = { 0 };
	uint32_t i;

	g_local_setup(&lc.out);
	for (i = 0; i < count; i++) {
		while (vmg_send(&lc, VMG_PKT_DATA_INBAND, 0, i, &h, sizeof(h),
				BENCH_SRC, size - sizeof(h)) == -EAGAIN)
			lc.out.hdr->read_index = lc.out.hdr->write_index;
	}
}

static void g_local_rx(uint32_t size, uint32_t count)
{
	struct vid_echo_hdr h = { .cmd = VID_ECHO_CMD_SOURCE, .size = size };
	struct vmg_channel lc = { 0 };
	struct vmg_pkt pkt;
	uint32_t i;

	/* fill it through the writer's view of the same ring */
	g_local_setup(&lc.out);
	while (vmg_send(&lc, VMG_PKT_DATA_INBAND, 0, 0, &h, sizeof(h),
			BENCH_SRC, size - sizeof(h)) == 0)
		;
	lc.in = lc.out;
	for (i = 0; i < count; i++) {
		if (vmg_recv(&lc, rxbuf, sizeof(rxbuf), &pkt) == -EAGAIN) {
			lc.in.hdr->read_index = 0;
			GUEST_ASSERT_EQ(vmg_recv(&lc, rxbuf, sizeof(rxbuf),
						 &pkt), 0);
		}
	}
}

static void g_hcall(uint32_t count)
{
	uint32_t i;

	/* HvSignalEvent (fast) on a connection nobody connected */
	for (i = 0; i < count; i++)
		vmmcall(0x5d | 0x10000, 0xfedcba, 0);
}

static void guest_bench(unsigned int vp)
{
	(void)vp;
	struct vmg_channel *ch;
	uint64_t r, signals, halts;
	uint32_t st;

	r = vmg_init();
	if (r != 0x12)
		GUEST_SYNC(SYNC_READY, 1, r);
	GUEST_ASSERT_NE(vmg_connect(0), 0);
	vmg_request_offers();
	ch = vmg_find_channel(echo_class, 0);
	GUEST_ASSERT(ch);
	st = vmg_open(ch, RING_PAGES, RING_PAGES);
	vmg.halt_poll = HALT_POLL;
	memset(BENCH_SRC, 0x5a, 1U << 20);
	GUEST_SYNC(SYNC_READY, 0, st);
	signals = ch->signals;
	halts = ch->halts;
	for (;;) {
		r = 0;
		switch (bcmd.op) {
		case OP_MEMCPY:
			g_memcpy(bcmd.size, bcmd.count);
			r = bcmd.count;
			break;
		case OP_G2H:
			r = g_g2h(ch, bcmd.size, bcmd.count);
			break;
		case OP_H2G:
			r = g_h2g(ch, bcmd.size, bcmd.count);
			break;
		case OP_PING:
			/* the signal path: halt for the root's interrupt */
			vmg.halt_poll = 0;
			g_ping(ch, bcmd.count);
			vmg.halt_poll = HALT_POLL;
			r = bcmd.count;
			break;
		case OP_LOCAL_TX:
			g_local_tx(bcmd.size, bcmd.count);
			r = bcmd.count;
			break;
		case OP_LOCAL_RX:
			g_local_rx(bcmd.size, bcmd.count);
			r = bcmd.count;
			break;
		case OP_HCALL:
			g_hcall(bcmd.count);
			r = bcmd.count;
			break;
		}
		GUEST_SYNC(SYNC_DONE, r, ch->signals - signals,
			   ch->halts - halts);
		signals = ch->signals;
		halts = ch->halts;
	}
}

/* ----- host side ----- */

static int rounds = 7;
static double scale = 1.0;
static struct vid_guest g;
static const char *skip_reason;
static bool failed;
static bool hung;	/* a phase never ended: the guest cannot be reused */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct run_arg {
	struct vid_ucall *uc;
	int r;
};

static void *run_fn(void *arg)
{
	struct run_arg *a = arg;

	a->r = vid_guest_run(&g, a->uc);
	return NULL;
}

/* The last phase's guest signals to the root and ring-wait halts. */
static uint64_t signals, halts;

/* A phase this long is a guest that waits for good. */
#define PHASE_MAX_S	120

/* Run one operation; its wall time in seconds, or < 0 on failure. */
static double phase(uint32_t op, uint32_t size, uint32_t count,
		    uint64_t *result)
{
	struct bench_cmd c = { .op = op, .size = size, .count = count };
	static struct vid_ucall uc;
	static struct run_arg a = { .uc = &uc };
	struct timespec ts;
	double t0, t1;
	pthread_t t;

	VID_GUEST_GLOBAL(&g, bcmd) = c;
	t0 = now_s();
	if (pthread_create(&t, NULL, run_fn, &a))
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += PHASE_MAX_S;
	if (pthread_timedjoin_np(t, NULL, &ts)) {
		/* the VP thread stays in its run until the process exits */
		printf("# no answer from the guest for %d s\n", PHASE_MAX_S);
		hung = true;
		return -1;
	}
	if (a.r)
		return -1;
	t1 = now_s();
	if (uc.cmd != UCALL_SYNC || uc.args[0] != SYNC_DONE) {
		fprintf(stderr, "# guest: ucall %s %s\n",
			vid_ucall_name(uc.cmd), uc.text);
		return -1;
	}
	*result = uc.args[1];
	signals = uc.args[2];
	halts = uc.args[3];
	return t1 - t0;
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

static void report(const char *name, const char *unit, double *vid,
		   double *anchor, double *ratio)
{
	printf("BENCH %s vid=%.2f%s anchor=%.2f%s ratio=%.3f spread=", name,
	       median(vid, rounds), unit, median(anchor, rounds), unit,
	       median(ratio, rounds));
	/* median() sorted ratio[]: min first, max last */
	printf("%.3f-%.3f\n", ratio[0], ratio[rounds - 1]);
	fflush(stdout);
}

/*
 * Throughput of @op against memcpy() of the same payloads, MB/s. Every
 * phase is framed by a VMM thread, a run and two exits (about 2.5 ms
 * under TCG: "an empty phase" above), so @bytes makes the phases last
 * 100 ms and more; the anchor moves @anchor_x times the bytes (the same
 * packets, repeated) where one pass of memcpy() would be short.
 */
static void bench_rate(const char *name, uint32_t op, uint32_t size,
		       uint64_t bytes, uint32_t anchor_x)
{
	double vid[MAX_ROUNDS], anchor[MAX_ROUNDS], ratio[MAX_ROUNDS], t;
	double alone[MAX_ROUNDS];
	uint32_t count = bytes * scale / size;
	uint64_t r;
	int i;

	if (skip_reason) {
		printf("BENCH %s skipped: %s\n", name, skip_reason);
		return;
	}
	if (!count)
		count = 1;
	for (i = 0; i < rounds; i++) {
		t = phase(OP_MEMCPY, size, count * anchor_x, &r);
		if (t <= 0)
			goto fail;
		anchor[i] = (double)count * anchor_x * size / t / 1e6;
		t = phase(op, size, count, &r);
		if (t <= 0 || r != count)
			goto fail;
		vid[i] = (double)count * size / t / 1e6;
		ratio[i] = vid[i] / anchor[i];
		printf("# %s round %d: vid=%.2fMB/s anchor=%.2fMB/s (%u packets, %llu signals, %llu halts)",
		       name, i + 1, vid[i], anchor[i], count,
		       (unsigned long long)signals,
		       (unsigned long long)halts);
		/* the guest's ring code alone: the most the pair can reach */
		t = phase(op == OP_G2H ? OP_LOCAL_TX : OP_LOCAL_RX, size, count,
			  &r);
		if (t <= 0)
			goto fail;
		alone[i] = (double)count * size / t / 1e6 / anchor[i];
		printf(" guest alone=%.3f\n", alone[i]);
	}
	printf("# %s: the guest's ring code alone (no root), median %.3f of the anchor\n",
	       name, median(alone, rounds));
	report(name, "MB/s", vid, anchor, ratio);
	return;
fail:
	printf("# %s failed in round %d\n", name, i + 1);
	skip_reason = "the guest failed";
	failed = true;
}

/*
 * One-way signal latency against an in-kernel hypercall, us. The root's
 * VSP polls a drained ring (vmbus_poll_us), so a ping soon after the last
 * needs no signal; the line measures the signal path, polling off.
 */
static void bench_signal(const char *name, uint32_t n)
{
	double vid[MAX_ROUNDS], anchor[MAX_ROUNDS], ratio[MAX_ROUNDS], t;
	uint32_t count = n * scale;
	uint64_t r;
	int i;

	if (skip_reason) {
		printf("BENCH %s skipped: %s\n", name, skip_reason);
		return;
	}
	if (!count)
		count = 1;
	for (i = 0; i < rounds; i++) {
		t = phase(OP_HCALL, 0, count, &r);
		if (t <= 0)
			goto fail;
		anchor[i] = t / count * 1e6;
		t = phase(OP_PING, 0, count, &r);
		if (t <= 0)
			goto fail;
		vid[i] = t / count / 2 * 1e6;
		ratio[i] = vid[i] / anchor[i];
		printf("# %s round %d: vid=%.2fus anchor=%.2fus\n", name, i + 1,
		       vid[i], anchor[i]);
	}
	report(name, "us", vid, anchor, ratio);
	return;
fail:
	printf("# %s failed in round %d\n", name, i + 1);
	skip_reason = "the guest failed";
	failed = true;
}

static bool created;

/* The guest, its server and an echo channel; NULL or why not. */
static const char *setup(int *chan_fd)
{
	struct vid_vmbus_create c = { 0 };
	struct vid_vmbus_offer o = { 0 };
	static char why[320];
	struct vid_ucall uc;
	int r;

	r = vid_guest_create_c(&g, 1, guest_bench);
	if (r) {
		snprintf(why, sizeof(why), "no guest: %s", strerror(-r));
		return why;
	}
	created = true;
	if (ioctl(g.part_fd, VID_PARTITION_VMBUS_CREATE, &c)) {
		snprintf(why, sizeof(why), "no VMBus server: %s",
			 strerror(errno));
		return why;
	}
	memcpy(o.type, echo_class, 16);
	o.flags = VID_VMBUS_OFFER_KERNEL;
	*chan_fd = ioctl(g.part_fd, VID_PARTITION_VMBUS_OFFER, &o);
	if (*chan_fd < 0) {
		snprintf(why, sizeof(why), "no echo VSP: %s", strerror(errno));
		return why;
	}
	if (vid_guest_run(&g, &uc) || uc.cmd != UCALL_SYNC ||
	    uc.args[0] != SYNC_READY || uc.args[1] || uc.args[2]) {
		snprintf(why, sizeof(why),
			 "the guest's set-up failed (%s %#llx %#llx) %s",
			 vid_ucall_name(uc.cmd),
			 (unsigned long long)uc.args[1],
			 (unsigned long long)uc.args[2], uc.text);
		return why;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int opt, chan_fd = -1;
	long poll_us;

	while ((opt = getopt(argc, argv, "r:s:")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 's':
			scale = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-r ROUNDS] [-s SCALE]\n",
				argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || scale <= 0) {
		fprintf(stderr, "bad -r or -s\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	skip_reason = setup(&chan_fd);
	if (!skip_reason) {
		/* what frames every phase; the phases are long against it */
		double e[MAX_ROUNDS];
		uint64_t r;
		int i;

		for (i = 0; i < rounds; i++)
			e[i] = phase(OP_MEMCPY, 64, 0, &r);
		printf("# an empty phase (thread, run, two exits): %.3f ms\n",
		       median(e, rounds) * 1e3);
	}

	bench_rate("vmbus_g2h_64", OP_G2H, 64, 4U << 20, 16);
	bench_rate("vmbus_g2h_4k", OP_G2H, 4096, 128U << 20, 1);
	bench_rate("vmbus_g2h_64k", OP_G2H, 65536, 256U << 20, 1);
	bench_rate("vmbus_h2g_64", OP_H2G, 64, 4U << 20, 16);
	bench_rate("vmbus_h2g_4k", OP_H2G, 4096, 128U << 20, 1);
	bench_rate("vmbus_h2g_64k", OP_H2G, 65536, 256U << 20, 1);
	poll_us = vid_test_param_swap("vmbus_poll_us", 0);
	if (poll_us < 0)
		printf("# no vmbus_poll_us: the VSP polls as it likes\n");
	bench_signal("vmbus_signal_oneway", 500);
	if (poll_us >= 0)
		vid_test_param_swap("vmbus_poll_us", poll_us);

	if (hung)
		_exit(1);	/* the exit ends the VP's run */
	if (chan_fd >= 0)
		close(chan_fd);
	if (created)
		vid_guest_destroy(&g);
	return failed;
}
