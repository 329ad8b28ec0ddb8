// SPDX-License-Identifier: GPL-2.0
/*
 * Channels of the module's VMBus server: their rings while the guest has
 * them open, the kernel VSP side (vsp.h: the registry, the work that
 * reads the guest's ring, sends) and the events a channel fd reports.
 */
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/ratelimit.h>
#include <linux/sched/clock.h>
#include <linux/slab.h>

#include "../vid/vid.h"
#include "host_int.h"

static DEFINE_MUTEX(vmbus_vsp_lock);
static LIST_HEAD(vmbus_vsps);

int vmbus_vsp_register(struct vmbus_vsp *vsp)
{
	struct vmbus_vsp *v;
	int err = 0;

	if (!vsp->open || !vsp->packet)
		return -EINVAL;
	mutex_lock(&vmbus_vsp_lock);
	list_for_each_entry(v, &vmbus_vsps, node)
		if (guid_equal(&v->type, &vsp->type))
			err = -EEXIST;
	if (!err)
		list_add_tail(&vsp->node, &vmbus_vsps);
	mutex_unlock(&vmbus_vsp_lock);
	return err;
}

void vmbus_vsp_unregister(struct vmbus_vsp *vsp)
{
	mutex_lock(&vmbus_vsp_lock);
	list_del(&vsp->node);
	mutex_unlock(&vmbus_vsp_lock);
}

/* VSPs are built in: registered at module init, gone only at exit. */
struct vmbus_vsp *vmbus_vsp_find(const guid_t *type)
{
	struct vmbus_vsp *v, *found = NULL;

	mutex_lock(&vmbus_vsp_lock);
	list_for_each_entry(v, &vmbus_vsps, node)
		if (guid_equal(&v->type, type))
			found = v;
	mutex_unlock(&vmbus_vsp_lock);
	return found;
}

void *vmbus_chan_priv(struct vmbus_chan *ch)
{
	return ch->priv;
}

void vmbus_chan_set_priv(struct vmbus_chan *ch, void *priv)
{
	ch->priv = priv;
}

u32 vmbus_chan_relid(struct vmbus_chan *ch)
{
	return ch->relid;
}

const u8 *vmbus_chan_userdata(struct vmbus_chan *ch)
{
	return ch->userdata;
}

static void vmbus_chan_push(struct vmbus_chan *ch, u32 type)
{
	struct vid_vmbus_event *ev;

	ev = &ch->ev[(ch->ev_head + ch->ev_count) % VMBUS_CHAN_EVQ];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	if (type == VID_VMBUS_EVENT_OPEN) {
		ev->ring_pages = ch->npages;
		ev->downstream_offset = ch->downstream;
		ev->target_vp = ch->target_vp;
		ev->gpadl = ch->gpadl;
		ev->openid = ch->openid;
		memcpy(ev->userdata, ch->userdata, sizeof(ev->userdata));
	}
	ch->ev_count++;
}

/*
 * Queue an event for the fd (host->lock: OPEN after the channel opened,
 * CLOSE after it closed). The guest sets the pace, so a full queue is
 * collapsed to what the reader must learn, never truncated: CLOSE if
 * the last event it read was OPEN, then OPEN if the channel is open now,
 * then this event if it is BROKEN.
 */
void vmbus_chan_event(struct vmbus_chan *ch, u32 type)
{
	spin_lock(&ch->ev_lock);
	if (ch->ev_count == VMBUS_CHAN_EVQ) {
		ch->ev_count = 0;
		if (ch->ev_reader_open)
			vmbus_chan_push(ch, VID_VMBUS_EVENT_CLOSE);
		if (ch->open)
			vmbus_chan_push(ch, VID_VMBUS_EVENT_OPEN);
		if (type == VID_VMBUS_EVENT_BROKEN)
			vmbus_chan_push(ch, type);
	} else {
		vmbus_chan_push(ch, type);
	}
	spin_unlock(&ch->ev_lock);
	wake_up_interruptible(&ch->wq);
}

/* The guest's HvSignalEvent on the channel: VP context, no sleeping. */
static void vmbus_chan_signalled(struct hv_port_sink *sink, u16 flag)
{
	struct vmbus_chan *ch = container_of(sink, struct vmbus_chan, sink);
	struct eventfd_ctx *efd;

	WRITE_ONCE(ch->signals, ch->signals + 1);
	if (ch->vsp) {
		/* pairs with the release after ->open() */
		if (smp_load_acquire(&ch->io_ready))
			vmbus_host_queue(&ch->work);
		return;
	}
	rcu_read_lock();
	efd = rcu_dereference(ch->efd);
	if (efd)
		vid_eventfd_signal(efd);
	rcu_read_unlock();
}

static void vmbus_chan_sink_release(struct hv_port_sink *sink)
{
}

const struct hv_port_sink_ops vmbus_chan_sink_ops = {
	.signal_event = vmbus_chan_signalled,
	.release = vmbus_chan_sink_release,
};

static void vmbus_chan_broken(struct vmbus_chan *ch, const char *why)
{
	if (ch->broken)
		return;
	ch->broken = true;
	atomic64_inc(&ch->host->broken_rings);
	pr_info_ratelimited("vid: partition %llu: vmbus channel %u: %s; channel rescinded\n",
			    ch->host->pid, ch->relid, why);
	vmbus_host_kill(ch);
}

static void vmbus_chan_kick_guest(struct vmbus_chan *ch)
{
	vmbus_host_signal(ch->host, ch->relid, READ_ONCE(ch->target_vp));
}

/*
 * Polling before the kernel VSP's reader sleeps: KVM's halt polling,
 * applied to a ring. A guest streaming packets writes the next one a few
 * microseconds after the reader drained the last; if the reader unmasks
 * and sleeps, every such packet costs the guest an HvSignalEvent exit and
 * the root a wake-up, and the stream runs at the rate of those instead of
 * its copies. So a drained reader first watches write_index for up to
 * poll_ns, the mask still set. The window adapts per channel: when the
 * next signal comes within vmbus_poll_us of the reader going to sleep,
 * polling would have caught it, so the window grows (to 10 us, then
 * doubling up to vmbus_poll_us); a longer idle resets it to 0, so a quiet
 * channel costs nothing. vmbus_poll_us=0 turns polling off; the default
 * is KVM's halt_poll_ns default, 200 us.
 */
static unsigned int vmbus_poll_us = 200;
module_param(vmbus_poll_us, uint, 0644);
MODULE_PARM_DESC(vmbus_poll_us,
		 "most a kernel VSP polls a drained ring before sleeping (us)");

#define VMBUS_POLL_START_NS	(10 * NSEC_PER_USEC)

/* The work starts after a signal: was the last sleep worth polling away? */
static void vmbus_chan_poll_adapt(struct vmbus_chan *ch)
{
	u64 max = (u64)READ_ONCE(vmbus_poll_us) * NSEC_PER_USEC;
	u64 idle;

	if (!ch->idle_since)
		return;
	idle = local_clock() - ch->idle_since;
	ch->idle_since = 0;
	if (idle > max)
		ch->poll_ns = 0;
	else if (ch->poll_ns < max)
		ch->poll_ns = clamp_t(u64, ch->poll_ns * 2,
				      VMBUS_POLL_START_NS, max);
}

/* Drained, the mask still set: true if the guest wrote within poll_ns. */
static bool vmbus_chan_poll(struct vmbus_chan *ch)
{
	u64 start, max = (u64)READ_ONCE(vmbus_poll_us) * NSEC_PER_USEC;

	if (!ch->poll_ns)
		return false;
	ch->poll_ns = min(ch->poll_ns, max);
	start = local_clock();
	while (local_clock() - start < ch->poll_ns) {
		if (vmbus_ring_has_data(&ch->in))
			return true;
		if (need_resched() || !READ_ONCE(ch->io_ready))
			break;
		cpu_relax();
	}
	return false;
}

/*
 * Kernel VSP: read what the guest wrote, packet by packet. Runs after the
 * guest's signal: for new packets, or for space in the root's ring that a
 * send (want_space) waited for. A ->packet() that cannot answer yet
 * leaves its packet in the ring and the work ends until that signal
 * (which needs the guest to honour pending_send_sz, as Linux does).
 */
static void vmbus_chan_work(struct work_struct *work)
{
	struct vmbus_chan *ch = container_of(work, struct vmbus_chan, work);
	struct vmbus_ring_pkt pkt;
	unsigned int n = 0, held = 0;
	bool space, stalled = false;
	int ret;

	/* pairs with the release after ->open(): its state is visible */
	if (!smp_load_acquire(&ch->io_ready) || READ_ONCE(ch->broken))
		return;
	vmbus_chan_poll_adapt(ch);
	mutex_lock(&ch->send_lock);
	space = ch->want_space;
	ch->want_space = false;
	mutex_unlock(&ch->send_lock);
	if (space && ch->vsp->writable)
		ch->vsp->writable(ch);

	for (;;) {
		vmbus_ring_mask(&ch->in);
		while ((ret = vmbus_ring_peek(&ch->in, ch->buf, ch->buf_size,
					      &pkt)) == 0) {
			if (ch->vsp->packet(ch, &pkt, ch->buf) == -EAGAIN) {
				stalled = true;
				break;
			}
			vmbus_ring_consume(&ch->in, &pkt);
			/*
			 * Free the space as we go: every 64 packets, and every
			 * quarter ring, so a guest waiting for space refills
			 * while we read the rest.
			 */
			held += pkt.len;
			if (!(++n % 64) || held >= ch->in.size / 4) {
				if (vmbus_ring_commit(&ch->in))
					vmbus_chan_kick_guest(ch);
				held = 0;
				cond_resched();
			}
			if (!READ_ONCE(ch->io_ready))
				return;
		}
		if (vmbus_ring_commit(&ch->in))
			vmbus_chan_kick_guest(ch);
		held = 0;
		if (ret == -EBADMSG) {
			vmbus_chan_broken(ch, "the guest corrupted its ring");
			return;
		}
		if (ret == -ENOBUFS) {
			vmbus_chan_broken(ch, "a packet larger than the VSP takes");
			return;
		}
		if (stalled) {
			/* the guest's signal for the space brings us back */
			vmbus_ring_unmask(&ch->in);
			if (READ_ONCE(ch->want_space))
				return;
			stalled = false;	/* the space came meanwhile */
			cond_resched();
			continue;
		}
		if (vmbus_chan_poll(ch))
			continue;
		if (!vmbus_ring_unmask(&ch->in)) {
			ch->idle_since = local_clock();
			return;
		}
	}
}

int vmbus_chan_sendv(struct vmbus_chan *ch, u16 type, u16 flags,
		     u64 trans_id, const struct kvec *iov, u32 n)
{
	struct kvec v[VMBUS_CHAN_SEND_IOV + 1];
	struct vmbus_pkt_desc desc = {
		.type = type,
		.offset8 = sizeof(desc) / 8,
		.flags = flags,
		.trans_id = trans_id,
	};
	u32 len = sizeof(desc), i;
	bool signal = false;
	int ret;

	if (n > VMBUS_CHAN_SEND_IOV)
		return -EINVAL;
	v[0].iov_base = &desc;
	v[0].iov_len = sizeof(desc);
	for (i = 0; i < n; i++) {
		if (iov[i].iov_len > VMBUS_CHAN_BUF_MAX)
			return -EMSGSIZE;
		v[i + 1] = iov[i];
		len += iov[i].iov_len;
	}
	if (ALIGN(len, 8) / 8 > U16_MAX)
		return -EMSGSIZE;
	desc.len8 = ALIGN(len, 8) / 8;

	mutex_lock(&ch->send_lock);
	if (!ch->open) {
		ret = -ENOTCONN;
	} else if (ch->broken) {
		ret = -EBADMSG;
	} else {
		ret = vmbus_ring_write(&ch->out, v, n + 1, &signal);
		if (ret == -EAGAIN) {
			/* the guest signals once it drained: the work runs */
			ch->want_space = true;
			if (vmbus_ring_request_space(&ch->out, len))
				ret = vmbus_ring_write(&ch->out, v, n + 1,
						       &signal);
			ch->want_space = ret == -EAGAIN;
		}
		if (ret == -EBADMSG)
			vmbus_chan_broken(ch, "the guest corrupted our ring");
	}
	mutex_unlock(&ch->send_lock);
	if (signal)
		vmbus_chan_kick_guest(ch);
	return ret;
}

int vmbus_chan_send(struct vmbus_chan *ch, u16 type, u16 flags, u64 trans_id,
		    const void *data, u32 len)
{
	struct kvec iov = { .iov_base = (void *)data, .iov_len = len };

	return vmbus_chan_sendv(ch, type, flags, trans_id, &iov, 1);
}

struct vmbus_chan *vmbus_chan_alloc(struct vmbus_host *host,
				    struct vmbus_vsp *vsp)
{
	struct vmbus_chan *ch = kzalloc(sizeof(*ch), GFP_KERNEL_ACCOUNT);

	if (!ch)
		return NULL;
	ch->host = host;
	ch->vsp = vsp;
	refcount_set(&ch->refs, 2);
	ch->sink.ops = &vmbus_chan_sink_ops;
	mutex_init(&ch->send_lock);
	INIT_WORK(&ch->work, vmbus_chan_work);
	spin_lock_init(&ch->ev_lock);
	init_waitqueue_head(&ch->wq);
	init_rwsem(&ch->map_sem);
	address_space_init_once(&ch->mapping);
	return ch;
}

/*
 * The last reference: the event port is gone (rescind precedes both the
 * fd's release and ->chan_freed()), so no guest signal can queue the
 * work again; one queued after the last close is cancelled here.
 */
void vmbus_chan_put(struct vmbus_chan *ch)
{
	if (refcount_dec_and_test(&ch->refs)) {
		if (ch->vsp)
			cancel_work_sync(&ch->work);
		kfree(ch);
	}
}

static void vmbus_chan_unpin(struct vmbus_chan *ch)
{
	u32 i;

	for (i = 0; i < ch->npages; i++)
		put_page(ch->pages[i]);
	kvfree(ch->pages);
	kvfree(ch->addrs);
	kvfree(ch->buf);
	ch->pages = NULL;
	ch->addrs = NULL;
	ch->buf = NULL;
	ch->npages = 0;
}

/* ->chan_open() under host->lock: map the rings, tell the VSP. */
int vmbus_chan_attach(struct vmbus_chan *ch,
		      const struct vmbus_open_params *params)
{
	u32 n = params->ring_pages, i;
	int err;

	if (ch->rescinded)
		return -ENODEV;
	ch->pages = kvcalloc(n, sizeof(*ch->pages), GFP_KERNEL_ACCOUNT);
	ch->addrs = kvcalloc(n, sizeof(*ch->addrs), GFP_KERNEL_ACCOUNT);
	if (!ch->pages || !ch->addrs) {
		err = -ENOMEM;
		goto free;
	}
	err = vid_gpa_get_pages(ch->host->part, params->ring_pfns, n,
				ch->pages);
	if (err)
		goto free;
	ch->npages = n;
	for (i = 0; i < n; i++)
		ch->addrs[i] = page_address(ch->pages[i]);
	ch->downstream = params->downstream_offset;
	err = vmbus_ring_init(&ch->in, ch->addrs, ch->downstream);
	if (!err)
		err = vmbus_ring_init(&ch->out, ch->addrs + ch->downstream,
				      n - ch->downstream);
	if (err)
		goto free;
	ch->target_vp = params->target_vp;
	ch->gpadl = params->gpadl;
	ch->openid = params->openid;
	memcpy(ch->userdata, params->userdata, sizeof(ch->userdata));
	ch->broken = false;
	ch->want_space = false;
	ch->poll_ns = 0;
	ch->idle_since = 0;
	if (ch->vsp) {
		/* a kernel VSP refills its ring a quarter at a time */
		vmbus_ring_set_low_water(&ch->out, ch->out.size / 4);
		ch->buf_size = min_t(u32, ch->in.size, VMBUS_CHAN_BUF_MAX);
		ch->buf = kvmalloc(ch->buf_size, GFP_KERNEL_ACCOUNT);
		err = -ENOMEM;
		if (!ch->buf)
			goto free;
	}

	down_write(&ch->map_sem);
	WRITE_ONCE(ch->open, true);
	ch->open_gen++;
	up_write(&ch->map_sem);
	if (ch->vsp) {
		/* ->open() may send; the reader starts once it succeeded */
		err = ch->vsp->open(ch);
		if (err) {
			down_write(&ch->map_sem);
			WRITE_ONCE(ch->open, false);
			up_write(&ch->map_sem);
			mutex_lock(&ch->send_lock);
			mutex_unlock(&ch->send_lock);
			goto free;
		}
		/* what ->open() set up, before the work may run */
		smp_store_release(&ch->io_ready, true);
		/* the guest may have written before it opened */
		vmbus_host_queue(&ch->work);
	}
	ch->host->nr_open++;
	vmbus_chan_event(ch, VID_VMBUS_EVENT_OPEN);
	return 0;

free:
	vmbus_chan_unpin(ch);
	return err;
}

/* ->chan_close() under host->lock: nobody touches the rings after it. */
void vmbus_chan_detach(struct vmbus_chan *ch)
{
	WRITE_ONCE(ch->io_ready, false);
	down_write(&ch->map_sem);
	WRITE_ONCE(ch->open, false);
	up_write(&ch->map_sem);
	/* userspace mappings of the ring pages go before the references */
	unmap_mapping_range(&ch->mapping, 0, 0, 1);
	if (ch->vsp) {
		cancel_work_sync(&ch->work);
		if (ch->vsp->close)
			ch->vsp->close(ch);
	}
	/* a sender that saw the channel open has finished */
	mutex_lock(&ch->send_lock);
	mutex_unlock(&ch->send_lock);
	vmbus_chan_unpin(ch);
	ch->host->nr_open--;
	vmbus_chan_event(ch, VID_VMBUS_EVENT_CLOSE);
}
