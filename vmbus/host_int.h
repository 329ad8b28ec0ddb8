/* SPDX-License-Identifier: GPL-2.0 */
/* Private to vmbus/host.c, chan.c, chan_fd.c: see host.h. */
#ifndef VID_VMBUS_HOST_INT_H
#define VID_VMBUS_HOST_INT_H

#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "../hvcore/hv_call.h"
#include "../uapi/linux/vid_vmbus.h"
#include "host.h"
#include "ring.h"
#include "server.h"
#include "vsp.h"

/* Guest messages waiting for the host work (more: INSUFFICIENT_BUFFERS). */
#define VMBUS_HOST_INQ		32
/* Events a channel fd holds before read(). */
#define VMBUS_CHAN_EVQ		8
/* The largest inbound packet a kernel VSP is handed. */
#define VMBUS_CHAN_BUF_MAX	(512 * 1024)

/* host->pending bits */
#define VMBUS_HOST_RETRY	0
#define VMBUS_HOST_KILL		1

struct vmbus_host_msg {
	u32 len;
	u8 data[HV_MESSAGE_PAYLOAD_BYTE_COUNT];
};

/**
 * struct vmbus_host - a partition's VMBus server in the module
 * @part: the partition (its fd outlives the host).
 * @pid: its hypervisor id.
 * @lock: serializes @srv and every channel's open/close/rescind.
 * @srv: the protocol state machine.
 * @sink: the message port's consumer (connections 1 and 4).
 * @notifier: SINT 2 may take messages again.
 * @in_lock: protects @in, @in_head, @in_count (VP context: a leaf).
 * @in: guest messages for @work.
 * @work: handles @in and retries.
 * @pending: VMBUS_HOST_* bits for @work.
 * @sig_lock: protects @version and @interrupt_page.
 * @version: negotiated protocol version (0: none).
 * @interrupt_page: before 2.4, the guest's interrupt page GPA.
 * @channels: offered channels not yet freed (host->lock).
 * @nr_channels: their number.
 * @nr_open: of them, open.
 * @broken_rings: channels closed for a corrupt ring.
 * @dropped_in: guest messages refused for a full queue.
 */
struct vmbus_host {
	struct vid_partition *part;
	u64 pid;
	/* serializes srv and channel state changes */
	struct mutex lock;
	struct vmbus_server *srv;
	struct hv_port_sink sink;
	struct hv_sint_notifier notifier;
	/* protects in, in_head, in_count */
	spinlock_t in_lock;
	u32 in_head;
	u32 in_count;
	struct vmbus_host_msg in[VMBUS_HOST_INQ];
	struct work_struct work;
	unsigned long pending;
	/* protects version, interrupt_page */
	spinlock_t sig_lock;
	u32 version;
	u64 interrupt_page;
	struct list_head channels;
	u32 nr_channels;
	u32 nr_open;
	atomic64_t broken_rings;
	atomic64_t dropped_in;
};

/**
 * struct vmbus_chan - one offered channel
 * @host: its server.
 * @part_file: the partition's file, held by the channel fd.
 * @node: on host->channels.
 * @refs: one for the fd, one for the server (until ->chan_freed()).
 * @sch: the server's channel (NULL once freed).
 * @relid: its relid.
 * @vsp: the kernel VSP, or NULL for a userspace channel.
 * @priv: the kernel VSP's pointer.
 * @sink: the event port's consumer (the guest's HvSignalEvent).
 * @port_made: the event port and its connection exist.
 * @rescinded: the fd let go; the server may still hold the channel.
 * @open: the rings below are valid (READ_ONCE outside @map_sem).
 * @open_gen: counts opens (under @map_sem): which open a mapping is of.
 * @io_ready: kernel VSP: ->open() succeeded, the work may read @in.
 * @broken: the guest corrupted a ring: no more I/O until reopened.
 * @kill: broken: the host work is to rescind the channel.
 * @target_vp: where the guest wants its interrupts.
 * @npages: ring pages; @pages their pinned pages, @addrs kernel addresses.
 * @downstream: first page of the root -> guest ring.
 * @in: the ring the guest writes.
 * @out: the ring the root writes (under @send_lock).
 * @send_lock: serializes writers of @out.
 * @want_space: a send found @out full; ->writable() when it drained.
 * @work: kernel VSP: reads @in.
 * @buf: kernel VSP: where packets are copied to; @buf_size its size.
 * @userdata: the guest's open user data.
 * @gpadl: the ring GPADL (for the OPEN event).
 * @openid: the guest's open id (likewise).
 * @ev_lock: protects the event queue and @efd's replacement.
 * @ev: queued events; @ev_head, @ev_count.
 * @ev_reader_open: the last OPEN/CLOSE read() returned was OPEN.
 * @wq: readers and pollers of the fd.
 * @efd: userspace channel: eventfd for guest signals (RCU).
 * @map_sem: mmap faults (read) against close (write).
 * @mapping: the fd's own address space, what close unmaps.
 * @signals: guest signals received.
 */
struct vmbus_chan {
	struct vmbus_host *host;
	struct file *part_file;
	struct list_head node;
	refcount_t refs;
	struct vmbus_server_channel *sch;
	u32 relid;
	struct vmbus_vsp *vsp;
	void *priv;
	struct hv_port_sink sink;
	bool port_made;
	bool rescinded;
	bool open;
	unsigned long open_gen;
	bool io_ready;
	bool broken;
	bool kill;
	u32 target_vp;
	u32 npages;
	struct page **pages;
	void **addrs;
	u32 downstream;
	struct vmbus_ring in;
	struct vmbus_ring out;
	/* serializes writers of out */
	struct mutex send_lock;
	bool want_space;
	struct work_struct work;
	/* the work's own: polling a drained ring (chan.c) */
	u64 poll_ns;
	u64 idle_since;
	u8 *buf;
	u32 buf_size;
	u8 userdata[VMBUS_OFFER_USER_DEF_SIZE];
	u32 gpadl;
	u32 openid;
	/* protects ev, ev_head, ev_count, efd updates */
	spinlock_t ev_lock;
	struct vid_vmbus_event ev[VMBUS_CHAN_EVQ];
	u32 ev_head;
	u32 ev_count;
	bool ev_reader_open;
	wait_queue_head_t wq;
	struct eventfd_ctx __rcu *efd;
	struct rw_semaphore map_sem;
	struct address_space mapping;
	u64 signals;
};

/* host.c */
void vmbus_host_signal(struct vmbus_host *host, u32 relid, u32 vp);
void vmbus_host_rescind(struct vmbus_chan *ch);
void vmbus_host_queue(struct work_struct *work);
void vmbus_host_kill(struct vmbus_chan *ch);

/* chan.c */
struct vmbus_chan *vmbus_chan_alloc(struct vmbus_host *host,
				    struct vmbus_vsp *vsp);
void vmbus_chan_put(struct vmbus_chan *ch);
int vmbus_chan_attach(struct vmbus_chan *ch,
		      const struct vmbus_open_params *params);
void vmbus_chan_detach(struct vmbus_chan *ch);
void vmbus_chan_event(struct vmbus_chan *ch, u32 type);
struct vmbus_vsp *vmbus_vsp_find(const guid_t *type);
extern const struct hv_port_sink_ops vmbus_chan_sink_ops;

/* chan_fd.c */
int vmbus_chan_fd(struct vmbus_chan *ch, struct file *part_file, bool nonblock);

#endif /* VID_VMBUS_HOST_INT_H */
