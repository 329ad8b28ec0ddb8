// SPDX-License-Identifier: LGPL-2.1
/*
 * libvid: a userspace VSP's end of one VMBus channel (see vmbus_chan.h).
 *
 * The rings are driven by vmbus/ring.c, the kernel module's own root-side
 * ring code, built here as userspace C (selftests/unit/kshim*.h): the
 * same index checks, copy-before-parse and signalling rules as for an
 * in-kernel VSP. Nothing here trusts the guest's ring contents.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../vmbus/ring.h"
#include "vmbus_chan.h"

/* More ring pages than this in one OPEN is not a ring we map. */
#define CHAN_MAX_RING_PAGES \
	(2 * (VMBUS_RING_MAX_DATA_SIZE / PAGE_SIZE + 1))

struct vid_vmbus_chan {
	int fd;			/* channel fd, -1 when local */
	int evfd;		/* guest signals, -1 when local */
	uint32_t relid;
	uint32_t connection_id;
	int (*signal)(void *opaque);	/* local channels */
	void *opaque;
	void *map;		/* the ring pages, while open (fd channels) */
	size_t map_len;
	void **pages;		/* page addresses, GPADL order */
	uint32_t npages;
	struct vmbus_ring in;	/* guest -> root: we read */
	struct vmbus_ring out;	/* root -> guest: we write */
	bool attached;
	bool broken;		/* a ring is corrupt */
	bool gone;		/* the mapping went away under us */
};

/*
 * The SIGBUS guard: one per thread, armed around each ring access of a
 * mapped channel with the bounds of its mapping.
 */
struct chan_guard {
	sigjmp_buf jb;
	uintptr_t lo;
	uintptr_t hi;
	sig_atomic_t armed;	/* __atomic accesses: a handler reads it */
};

static __thread struct chan_guard chan_guard;
static struct sigaction chan_old_sigbus;
static pthread_once_t chan_sigbus_once = PTHREAD_ONCE_INIT;
static int chan_sigbus_err;

static void chan_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct chan_guard *g = &chan_guard;
	uintptr_t a = (uintptr_t)si->si_addr;

	if (__atomic_load_n(&g->armed, __ATOMIC_RELAXED) && a >= g->lo &&
	    a < g->hi) {
		__atomic_store_n(&g->armed, 0, __ATOMIC_RELAXED);
		siglongjmp(g->jb, 1);
	}
	/* Not ours: whoever handled SIGBUS before, else the default. */
	if ((chan_old_sigbus.sa_flags & SA_SIGINFO) &&
	    chan_old_sigbus.sa_sigaction) {
		chan_old_sigbus.sa_sigaction(sig, si, uc);
		return;
	}
	if (!(chan_old_sigbus.sa_flags & SA_SIGINFO) &&
	    chan_old_sigbus.sa_handler != SIG_DFL &&
	    chan_old_sigbus.sa_handler != SIG_IGN) {
		chan_old_sigbus.sa_handler(sig);
		return;
	}
	/* Returning re-executes the access, which now kills the process. */
	signal(SIGBUS, SIG_DFL);
}

static void chan_sigbus_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = chan_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &chan_old_sigbus))
		chan_sigbus_err = -errno;
}

/*
 * Ring accesses of a mapped channel are bracketed by
 *	if (ch->map) {
 *		chan_guard_set(ch);
 *		if (sigsetjmp(chan_guard.jb, 1))
 *			<the mapping is gone>;
 *		chan_guard_arm();
 *	}
 *	...
 *	chan_guard_end();
 * (sigsetjmp() may only be called as an if's whole condition).
 */
static void chan_guard_set(struct vid_vmbus_chan *ch)
{
	chan_guard.lo = (uintptr_t)ch->map;
	chan_guard.hi = (uintptr_t)ch->map + ch->map_len;
}

/* After the sigsetjmp(): from here a fault in the mapping jumps back. */
static void chan_guard_arm(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&chan_guard.armed, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void chan_guard_end(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&chan_guard.armed, 0, __ATOMIC_RELAXED);
}

static int chan_gone(struct vid_vmbus_chan *ch)
{
	ch->gone = true;
	return -ENOTCONN;
}

static struct vid_vmbus_chan *chan_alloc(void)
{
	struct vid_vmbus_chan *ch = calloc(1, sizeof(*ch));

	if (ch) {
		ch->fd = -1;
		ch->evfd = -1;
	}
	return ch;
}

int vid_vmbus_chan_offer(int part_fd, const uint8_t type[16],
			 const uint8_t instance[16], uint32_t flags,
			 struct vid_vmbus_chan **out)
{
	struct vid_vmbus_offer o;
	struct vid_vmbus_eventfd e;
	struct vid_vmbus_chan *ch;
	int ret;

	if (flags & ~VID_VMBUS_OFFER_NONBLOCK)
		return -EINVAL;
	pthread_once(&chan_sigbus_once, chan_sigbus_install);
	if (chan_sigbus_err)
		return chan_sigbus_err;
	ch = chan_alloc();
	if (!ch)
		return -ENOMEM;

	memset(&o, 0, sizeof(o));
	memcpy(o.type, type, sizeof(o.type));
	memcpy(o.instance, instance, sizeof(o.instance));
	o.flags = flags;
	ch->fd = ioctl(part_fd, VID_PARTITION_VMBUS_OFFER, &o);
	if (ch->fd < 0) {
		ret = -errno;
		goto err;
	}
	ch->relid = o.relid;
	ch->connection_id = o.connection_id;

	ch->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ch->evfd < 0) {
		ret = -errno;
		goto err;
	}
	memset(&e, 0, sizeof(e));
	e.eventfd = ch->evfd;
	if (ioctl(ch->fd, VID_VMBUS_CHANNEL_EVENTFD, &e)) {
		ret = -errno;
		goto err;
	}
	*out = ch;
	return 0;

err:
	vid_vmbus_chan_free(ch);
	return ret;
}

int vid_vmbus_chan_local(int (*signal)(void *opaque), void *opaque,
			 struct vid_vmbus_chan **out)
{
	struct vid_vmbus_chan *ch = chan_alloc();

	if (!ch)
		return -ENOMEM;
	ch->signal = signal;
	ch->opaque = opaque;
	*out = ch;
	return 0;
}

static void chan_unmap(struct vid_vmbus_chan *ch)
{
	if (ch->map)
		munmap(ch->map, ch->map_len);
	ch->map = NULL;
	ch->map_len = 0;
}

void vid_vmbus_chan_free(struct vid_vmbus_chan *ch)
{
	if (!ch)
		return;
	vid_vmbus_chan_detach(ch);
	if (ch->evfd >= 0)
		close(ch->evfd);
	if (ch->fd >= 0)
		close(ch->fd);
	free(ch);
}

int vid_vmbus_chan_fd(const struct vid_vmbus_chan *ch)
{
	return ch->fd;
}

int vid_vmbus_chan_eventfd(const struct vid_vmbus_chan *ch)
{
	return ch->evfd;
}

uint32_t vid_vmbus_chan_relid(const struct vid_vmbus_chan *ch)
{
	return ch->relid;
}

uint32_t vid_vmbus_chan_connection_id(const struct vid_vmbus_chan *ch)
{
	return ch->connection_id;
}

int vid_vmbus_chan_attach(struct vid_vmbus_chan *ch, void *const *pages,
			  uint32_t npages, uint32_t downstream)
{
	int ret;

	if (ch->attached)
		return -EBUSY;
	if (npages > CHAN_MAX_RING_PAGES || downstream < 2 ||
	    downstream > npages || npages - downstream < 2)
		return -EINVAL;
	ch->pages = malloc(npages * sizeof(*ch->pages));
	if (!ch->pages)
		return -ENOMEM;
	memcpy(ch->pages, pages, npages * sizeof(*ch->pages));
	ch->npages = npages;
	ch->broken = false;
	ch->gone = false;

	/* The guest's headers are read here: guarded like any access. */
	if (ch->map) {
		chan_guard_set(ch);
		if (sigsetjmp(chan_guard.jb, 1)) {
			ret = -ENOTCONN;
			goto err;
		}
		chan_guard_arm();
	}
	ret = vmbus_ring_init(&ch->in, ch->pages, downstream);
	if (!ret)
		ret = vmbus_ring_init(&ch->out, ch->pages + downstream,
				      npages - downstream);
	chan_guard_end();
	if (ret == -EBADMSG) {
		/* Attached but unusable until the guest reopens it. */
		ch->broken = true;
		ch->attached = true;
		return ret;
	}
	if (ret)
		goto err;
	ch->attached = true;
	return 0;

err:
	free(ch->pages);
	ch->pages = NULL;
	ch->npages = 0;
	return ret;
}

void vid_vmbus_chan_detach(struct vid_vmbus_chan *ch)
{
	ch->attached = false;
	free(ch->pages);
	ch->pages = NULL;
	ch->npages = 0;
	chan_unmap(ch);
}

bool vid_vmbus_chan_is_open(const struct vid_vmbus_chan *ch)
{
	return ch->attached && !ch->broken && !ch->gone;
}

bool vid_vmbus_chan_is_broken(const struct vid_vmbus_chan *ch)
{
	return ch->attached && ch->broken;
}

int vid_vmbus_chan_attach_map(struct vid_vmbus_chan *ch, void *map,
			      uint32_t npages, uint32_t downstream)
{
	void **pages;
	uint32_t i;
	int ret;

	if (ch->attached)
		return -EBUSY;
	if (npages > CHAN_MAX_RING_PAGES)
		return -EINVAL;
	pthread_once(&chan_sigbus_once, chan_sigbus_install);
	if (chan_sigbus_err)
		return chan_sigbus_err;
	pages = malloc((npages ? npages : 1) * sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < npages; i++)
		pages[i] = (uint8_t *)map + (size_t)i * PAGE_SIZE;
	/* Guarded from the first access on. */
	ch->map = map;
	ch->map_len = (size_t)npages * PAGE_SIZE;
	ret = vid_vmbus_chan_attach(ch, pages, npages, downstream);
	free(pages);
	/* A corrupt ring is reported by the calls that use it. */
	if (ret && ret != -EBADMSG) {
		ch->map = NULL;
		ch->map_len = 0;
	}
	return ret;
}

static int chan_open_event(struct vid_vmbus_chan *ch,
			   const struct vid_vmbus_event *ev)
{
	uint32_t n = ev->ring_pages;
	size_t len = (size_t)n * PAGE_SIZE;
	void *map;
	int ret;

	if (n > CHAN_MAX_RING_PAGES || ev->downstream_offset < 2 ||
	    ev->downstream_offset > n || n - ev->downstream_offset < 2)
		return -EPROTO;
	vid_vmbus_chan_detach(ch);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ch->fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	ret = vid_vmbus_chan_attach_map(ch, map, n, ev->downstream_offset);
	if (ret && ret != -EBADMSG) {
		munmap(map, len);
		return ret;
	}
	return 0;
}

int vid_vmbus_chan_event(struct vid_vmbus_chan *ch,
			 struct vid_vmbus_event *ev)
{
	ssize_t n;

	if (ch->fd < 0)
		return -EBADF;
	n = read(ch->fd, ev, sizeof(*ev));
	if (n < 0)
		return -errno;
	if (n != sizeof(*ev))
		return -EIO;
	switch (ev->type) {
	case VID_VMBUS_EVENT_OPEN:
		return chan_open_event(ch, ev);
	case VID_VMBUS_EVENT_CLOSE:
		vid_vmbus_chan_detach(ch);
		return 0;
	case VID_VMBUS_EVENT_BROKEN:
		ch->broken = true;
		return 0;
	default:
		/* Newer kernels may report more: nothing to do for those. */
		return 0;
	}
}

int vid_vmbus_chan_signal(struct vid_vmbus_chan *ch)
{
	if (ch->fd >= 0)
		return ioctl(ch->fd, VID_VMBUS_CHANNEL_SIGNAL, 0) ? -errno : 0;
	return ch->signal ? ch->signal(ch->opaque) : 0;
}

int vid_vmbus_chan_ack_signals(struct vid_vmbus_chan *ch)
{
	uint64_t v;

	if (ch->evfd < 0)
		return 0;
	if (read(ch->evfd, &v, sizeof(v)) != sizeof(v))
		return errno == EAGAIN ? 0 : -errno;
	return v > INT32_MAX ? INT32_MAX : (int)v;
}

/*
 * Events wait to be read. The fd's mapping is not tied to one open: once
 * the guest has closed the channel and opened it again, a mapping made
 * for the old open faults in the new ring pages, which the rings
 * attached here know nothing about. So no ring access while an event is
 * queued: the caller reads it first (a CLOSE detaches, an OPEN attaches
 * afresh). That leaves the instants between this check and the access.
 */
static bool chan_events_pending(struct vid_vmbus_chan *ch)
{
	struct pollfd p = { .fd = ch->fd, .events = POLLIN };

	if (ch->fd < 0)
		return false;
	return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

static int chan_ring_err(struct vid_vmbus_chan *ch, int ret)
{
	if (ret == -EBADMSG)
		ch->broken = true;
	return ret;
}

int vid_vmbus_chan_send(struct vid_vmbus_chan *ch, uint16_t type,
			uint16_t flags, uint64_t trans_id, const void *data,
			uint32_t len)
{
	bool signal = false, fits = false;
	int ret;

	if (!vid_vmbus_chan_is_open(ch))
		return ch->broken ? -EBADMSG : -ENOTCONN;
	if (chan_events_pending(ch))
		return -ENOTCONN;
	if (ch->map) {
		chan_guard_set(ch);
		if (sigsetjmp(chan_guard.jb, 1))
			return chan_gone(ch);
		chan_guard_arm();
	}
	ret = vmbus_ring_send(&ch->out, type, flags, trans_id, data, len,
			      &signal);
	if (ret == -EAGAIN) {
		/* Ask for a signal when it fits; it may fit already. */
		fits = vmbus_ring_request_space(&ch->out, len + 16);
		if (fits)
			ret = vmbus_ring_send(&ch->out, type, flags, trans_id,
					      data, len, &signal);
	}
	chan_guard_end();
	if (ret)
		return chan_ring_err(ch, ret);
	return signal ? vid_vmbus_chan_signal(ch) : 0;
}

int vid_vmbus_chan_recv(struct vid_vmbus_chan *ch, void *buf, uint32_t size,
			struct vid_vmbus_pkt *pkt)
{
	struct vmbus_ring_pkt rp;
	bool signal = false;
	int ret;

	if (size < sizeof(struct vmbus_pkt_desc))
		return -EINVAL;
	if (!vid_vmbus_chan_is_open(ch))
		return ch->broken ? -EBADMSG : -ENOTCONN;
	if (chan_events_pending(ch))
		return -ENOTCONN;
	if (ch->map) {
		chan_guard_set(ch);
		if (sigsetjmp(chan_guard.jb, 1))
			return chan_gone(ch);
		chan_guard_arm();
	}
	ret = vmbus_ring_peek(&ch->in, buf, size, &rp);
	if (ret == 0 || ret == -ENOBUFS) {
		/* Too large for us: step over it, it is dropped. */
		vmbus_ring_consume(&ch->in, &rp);
		signal = vmbus_ring_commit(&ch->in);
	}
	chan_guard_end();
	if (ret && ret != -ENOBUFS)
		return chan_ring_err(ch, ret);

	pkt->type = rp.desc.type;
	pkt->flags = rp.desc.flags;
	pkt->trans_id = rp.desc.trans_id;
	pkt->len = rp.len - rp.offset;
	pkt->data = ret ? NULL : (uint8_t *)buf + rp.offset;
	if (signal) {
		int sret = vid_vmbus_chan_signal(ch);

		if (sret && !ret)
			return sret;
	}
	return ret == -ENOBUFS ? -EMSGSIZE : 0;
}
