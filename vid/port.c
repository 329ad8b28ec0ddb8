// SPDX-License-Identifier: GPL-2.0
/*
 * Ports and connections for the VMM (VID_PARTITION_CREATE_PORT and the
 * calls after it, uapi/linux/vid.h), and the root-side consumers of
 * ports that target the VMM:
 *
 *  - an event port's consumer holds a reference to the VMM's eventfd
 *    and signals it;
 *  - a message port's consumer is a bounded queue of struct hv_message
 *    (a spinlock-protected ring) that the VMM reads from a queue fd.
 *
 * Both are struct hv_port_sink objects handed to the hypervisor with
 * hv_call_create_port(); from then on the hypervisor owns them and calls
 * their ->release() once no guest can reach them (port deleted or
 * partition torn down), so the partition fd's release needs nothing of
 * its own here. A queue is also held by its fd: it is freed when both
 * are gone, and a queue whose port is gone reads as end of file once
 * empty.
 *
 * Guests post and signal from VP context (preemption off, IRQs on,
 * several VPs at once): the queue's spinlock is taken there and in
 * read(), never from an interrupt; readers are serialized by a mutex so
 * that a message leaves the ring only once it reached the reader.
 */
#include <linux/anon_inodes.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/refcount.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "../uapi/linux/vid_vmbus.h"
#include "vid.h"

/**
 * struct vid_port_event - consumer of an event port targeting the VMM
 * @sink: what the hypervisor calls.
 * @ctx: the VMM's eventfd (a reference).
 */
struct vid_port_event {
	struct hv_port_sink sink;
	struct eventfd_ctx *ctx;
};

/**
 * struct vid_port_queue - consumer of a message port targeting the VMM
 * @sink: what the hypervisor calls.
 * @refs: one for the port (until ->release()), one for the queue fd.
 * @read_lock: serializes readers.
 * @lock: protects the fields below it.
 * @wait: readers and pollers.
 * @closed: the port is gone: no more messages will come.
 * @head: index of the oldest message.
 * @count: messages queued.
 * @length: capacity.
 * @msgs: the ring.
 */
struct vid_port_queue {
	struct hv_port_sink sink;
	refcount_t refs;
	/* serializes readers */
	struct mutex read_lock;
	/* protects closed, head, count, msgs */
	spinlock_t lock;
	wait_queue_head_t wait;
	bool closed;
	u32 head;
	u32 count;
	u32 length;
	struct hv_message msgs[];
};

/* The uapi's numbers are the hypervisor's (and the TLFS's). */
static_assert(sizeof(struct hv_message) == sizeof(struct vid_message));
static_assert(!(VID_PORT_ID_MAX ^ HV_PORT_ID_MASK) &&
	      !(VID_PORT_ID_MAX ^ HV_CONNECTION_ID_MASK));
static_assert(!(VID_PORT_MAX ^ HV_PORTS_MAX) &&
	      !(VID_CONNECTION_MAX ^ HV_CONNECTIONS_MAX));
static_assert(!(VID_PORT_TYPE_MESSAGE ^ HV_PORT_TYPE_MESSAGE) &&
	      !(VID_PORT_TYPE_EVENT ^ HV_PORT_TYPE_EVENT));
static_assert(!(VID_EVENT_FLAG_COUNT ^ HV_EVENT_FLAGS_COUNT) &&
	      !(VID_SINT_COUNT ^ HV_SYNIC_SINT_COUNT) &&
	      !(VID_MESSAGE_PAYLOAD_MAX ^ HV_MESSAGE_PAYLOAD_BYTE_COUNT));

static void vid_port_event_signal(struct hv_port_sink *sink, u16 flag)
{
	struct vid_port_event *ev = container_of(sink, struct vid_port_event,
						 sink);

	/* Every flag the port lets the guest name wakes the same eventfd. */
	vid_eventfd_signal(ev->ctx);
}

static void vid_port_event_free(struct vid_port_event *ev)
{
	eventfd_ctx_put(ev->ctx);
	vid_kfree(ev, sizeof(*ev));
}

static void vid_port_event_release(struct hv_port_sink *sink)
{
	vid_port_event_free(container_of(sink, struct vid_port_event, sink));
}

static const struct hv_port_sink_ops vid_port_event_ops = {
	.signal_event = vid_port_event_signal,
	.release = vid_port_event_release,
};

static size_t vid_port_queue_size(u32 length)
{
	return struct_size_t(struct vid_port_queue, msgs, length);
}

static void vid_port_queue_put(struct vid_port_queue *q)
{
	if (!refcount_dec_and_test(&q->refs))
		return;
	mutex_destroy(&q->read_lock);
	vid_kvfree(q, vid_port_queue_size(q->length));
}

static hv_status_t vid_port_queue_post(struct hv_port_sink *sink,
				       const struct hv_message *msg)
{
	struct vid_port_queue *q = container_of(sink, struct vid_port_queue,
						sink);

	spin_lock(&q->lock);
	if (q->count == q->length) {
		spin_unlock(&q->lock);
		/* The guest retries, as with a busy SynIC slot. */
		return HV_STATUS_INSUFFICIENT_BUFFERS;
	}
	q->msgs[(q->head + q->count) % q->length] = *msg;
	q->count++;
	spin_unlock(&q->lock);
	wake_up_interruptible_poll(&q->wait, EPOLLIN | EPOLLRDNORM);
	return HV_STATUS_SUCCESS;
}

static void vid_port_queue_release(struct hv_port_sink *sink)
{
	struct vid_port_queue *q = container_of(sink, struct vid_port_queue,
						sink);

	spin_lock(&q->lock);
	q->closed = true;
	spin_unlock(&q->lock);
	wake_up_interruptible_poll(&q->wait, EPOLLHUP);
	vid_port_queue_put(q);
}

static const struct hv_port_sink_ops vid_port_queue_ops = {
	.post_message = vid_port_queue_post,
	.release = vid_port_queue_release,
};

/*
 * Whole messages only. A message leaves the ring after it was copied
 * out, so a fault loses nothing.
 */
static ssize_t vid_port_queue_read(struct file *file, char __user *buf,
				   size_t len, loff_t *ppos)
{
	struct vid_port_queue *q = file->private_data;
	struct hv_message msg;
	size_t done = 0;
	bool closed;
	int r = 0;

	if (len < sizeof(msg))
		return -EINVAL;
	if (mutex_lock_interruptible(&q->read_lock))
		return -ERESTARTSYS;
	while (len - done >= sizeof(msg)) {
		spin_lock(&q->lock);
		if (!q->count) {
			closed = q->closed;
			spin_unlock(&q->lock);
			if (done || closed)
				break;
			if (file->f_flags & O_NONBLOCK) {
				r = -EAGAIN;
				break;
			}
			r = wait_event_interruptible(q->wait,
						     READ_ONCE(q->count) ||
						     READ_ONCE(q->closed));
			if (r)
				break;
			continue;
		}
		msg = q->msgs[q->head];
		spin_unlock(&q->lock);

		if (copy_to_user(buf + done, &msg, sizeof(msg))) {
			r = -EFAULT;
			break;
		}
		spin_lock(&q->lock);
		q->head = (q->head + 1) % q->length;
		q->count--;
		spin_unlock(&q->lock);
		done += sizeof(msg);
	}
	mutex_unlock(&q->read_lock);
	if (done)
		return done;
	return r;
}

static __poll_t vid_port_queue_poll(struct file *file, poll_table *pt)
{
	struct vid_port_queue *q = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &q->wait, pt);
	spin_lock(&q->lock);
	if (q->count)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (q->closed)
		mask |= EPOLLHUP;
	spin_unlock(&q->lock);
	return mask;
}

static int vid_port_queue_file_release(struct inode *inode, struct file *file)
{
	vid_port_queue_put(file->private_data);
	return 0;
}

static const struct file_operations vid_port_queue_fops = {
	.owner = THIS_MODULE,
	.read = vid_port_queue_read,
	.poll = vid_port_queue_poll,
	.release = vid_port_queue_file_release,
	.llseek = noop_llseek,
};

static struct vid_port_queue *vid_port_queue_alloc(u32 length)
{
	struct vid_port_queue *q = vid_kvzalloc(vid_port_queue_size(length));

	if (!q)
		return NULL;
	q->sink.ops = &vid_port_queue_ops;
	/* The port's reference and the fd's. */
	refcount_set(&q->refs, 2);
	mutex_init(&q->read_lock);
	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->wait);
	q->length = length;
	return q;
}

/* Check a struct vid_port; fill in what the hypervisor is told. */
static int vid_port_parse(const struct vid_port *u, struct hv_port_info *info)
{
	if ((u->flags & ~VID_PORT_FLAGS_VALID) || u->reserved8 ||
	    u->reserved16 || u->reserved32 || u->reserved[0] ||
	    u->reserved[1] || u->port_id > VID_PORT_ID_MAX)
		return -EINVAL;

	memset(info, 0, sizeof(*info));
	switch (u->type) {
	case VID_PORT_TYPE_MESSAGE:
		if (u->base_flag || u->flag_count)
			return -EINVAL;
		info->type = HV_PORT_TYPE_MESSAGE;
		break;
	case VID_PORT_TYPE_EVENT:
		if (!u->flag_count ||
		    u->base_flag + u->flag_count > VID_EVENT_FLAG_COUNT)
			return -EINVAL;
		info->type = HV_PORT_TYPE_EVENT;
		info->base_flag = u->base_flag;
		info->flag_count = u->flag_count;
		break;
	default:
		return -EINVAL;
	}

	switch (u->target) {
	case VID_PORT_TARGET_GUEST:
		/* The VP index is checked against the VP count by hvcore. */
		if (u->flags || u->eventfd || u->queue_length || !u->sint ||
		    u->sint >= VID_SINT_COUNT)
			return -EINVAL;
		info->target_vp = u->vp_index;
		info->target_sint = u->sint;
		return 0;
	case VID_PORT_TARGET_VMM:
		if (u->vp_index || u->sint || u->base_flag)
			return -EINVAL;
		if (u->type == VID_PORT_TYPE_EVENT)
			return u->flags || u->queue_length ? -EINVAL : 0;
		if (u->eventfd || !u->queue_length ||
		    u->queue_length > VID_PORT_QUEUE_MAX)
			return -EINVAL;
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Create the port, depositing and retrying when the partition's pool is
 * dry. The table limit is -ENOSPC here (INSUFFICIENT_BUFFERS means "full"
 * for this call, "busy, retry" for the direct post).
 */
static int vid_port_create_call(struct vid_partition *part, u32 port_id,
				const struct hv_port_info *info)
{
	unsigned int tries = 0;
	hv_status_t status;
	int err;

	do {
		status = hv_call_create_port(part->id, port_id, info);
	} while (vid_deposit_retry(part->id, READ_ONCE(part->auto_deposit),
				   status, &tries, &err));
	return status == HV_STATUS_INSUFFICIENT_BUFFERS ? -ENOSPC : err;
}

static int vid_port_create_event(struct vid_partition *part,
				 const struct vid_port *u,
				 struct hv_port_info *info)
{
	struct eventfd_ctx *ctx = eventfd_ctx_fdget(u->eventfd);
	struct vid_port_event *ev;
	int err;

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	ev = vid_kzalloc(sizeof(*ev));
	if (!ev) {
		eventfd_ctx_put(ctx);
		return -ENOMEM;
	}
	ev->sink.ops = &vid_port_event_ops;
	ev->ctx = ctx;
	info->sink = &ev->sink;
	err = vid_port_create_call(part, u->port_id, info);
	if (err)
		vid_port_event_free(ev);
	return err;
}

static int vid_port_create_queue(struct vid_partition *part,
				 const struct vid_port *u,
				 struct hv_port_info *info)
{
	int nonblock = u->flags & VID_PORT_QUEUE_NONBLOCK ? O_NONBLOCK : 0;
	struct vid_port_queue *q;
	struct file *file;
	int fd, err;

	q = vid_port_queue_alloc(u->queue_length);
	if (!q)
		return -ENOMEM;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto err_queue;
	}
	file = anon_inode_getfile("vid-port-queue", &vid_port_queue_fops, q,
				  O_RDONLY | nonblock);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto err_fd;
	}
	info->sink = &q->sink;
	err = vid_port_create_call(part, u->port_id, info);
	if (err) {
		/* The file's release drops the fd's reference. */
		fput(file);
		put_unused_fd(fd);
		vid_port_queue_put(q);
		return err;
	}
	/* Only now can userspace see the fd: nothing undoes the port. */
	fd_install(fd, file);
	return fd;

err_fd:
	put_unused_fd(fd);
err_queue:
	/* Neither the port nor a file took the queue. */
	refcount_set(&q->refs, 1);
	vid_port_queue_put(q);
	return err;
}

/*
 * Once the partition has a VMBus server, its ports (from
 * VID_VMBUS_PORT_BASE) and connections (1, 4 and one per channel) are
 * not the VMM's to create, connect, delete or disconnect: -EBUSY.
 */
static bool vid_port_id_vmbus(struct vid_partition *part, u32 port_id)
{
	/* set once, with a release (vmbus_host_create()) */
	return smp_load_acquire(&part->vmbus) && port_id >= VID_VMBUS_PORT_BASE;
}

static bool vid_conn_id_vmbus(struct vid_partition *part, u32 conn_id)
{
	/* likewise */
	return smp_load_acquire(&part->vmbus) &&
	       (conn_id == VID_VMBUS_MESSAGE_CONNECTION_ID ||
		conn_id == VID_VMBUS_MESSAGE_CONNECTION_ID_4 ||
		(conn_id > VID_VMBUS_CHANNEL_CONNECTION_BASE &&
		 conn_id <= VID_VMBUS_CHANNEL_CONNECTION_BASE +
			    VID_VMBUS_MAX_CHANNELS));
}

int vid_port_create(struct vid_partition *part, void __user *uarg)
{
	struct hv_port_info info;
	struct vid_port u;
	int err;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	err = vid_port_parse(&u, &info);
	if (err)
		return err;
	if (vid_port_id_vmbus(part, u.port_id))
		return -EBUSY;
	if (u.target == VID_PORT_TARGET_GUEST)
		return vid_port_create_call(part, u.port_id, &info);
	if (u.type == VID_PORT_TYPE_EVENT)
		return vid_port_create_event(part, &u, &info);
	return vid_port_create_queue(part, &u, &info);
}

int vid_port_delete(struct vid_partition *part, void __user *uarg)
{
	struct vid_port_delete u;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if (u.flags || u.reserved || u.port_id > VID_PORT_ID_MAX)
		return -EINVAL;
	if (vid_port_id_vmbus(part, u.port_id))
		return -EBUSY;
	return vid_status_to_errno(hv_call_delete_port(part->id, u.port_id));
}

int vid_port_connect(struct vid_partition *part, unsigned int cmd,
		     void __user *uarg)
{
	struct vid_connection u;
	unsigned int tries = 0;
	hv_status_t status;
	int err;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if (u.flags || u.reserved || u.connection_id > VID_PORT_ID_MAX ||
	    u.port_id > VID_PORT_ID_MAX)
		return -EINVAL;
	if (vid_conn_id_vmbus(part, u.connection_id) ||
	    vid_port_id_vmbus(part, u.port_id))
		return -EBUSY;
	if (cmd == VID_PARTITION_DISCONNECT_PORT) {
		if (u.port_id)
			return -EINVAL;
		status = hv_call_disconnect_port(part->id, u.connection_id);
		return vid_status_to_errno(status);
	}
	do {
		status = hv_call_connect_port(part->id, u.connection_id,
					      u.port_id);
	} while (vid_deposit_retry(part->id, READ_ONCE(part->auto_deposit),
				   status, &tries, &err));
	return status == HV_STATUS_INSUFFICIENT_BUFFERS ? -ENOSPC : err;
}

int vid_port_post_message(struct vid_partition *part, void __user *uarg)
{
	struct vid_post_message u;
	struct vid_message *m = &u.message;
	struct hv_message msg;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if (u.flags || u.reserved || u.reserved8 || u.reserved16 ||
	    u.sint >= VID_SINT_COUNT || m->message_type == VID_MSG_NONE ||
	    m->payload_size > VID_MESSAGE_PAYLOAD_MAX || m->message_flags ||
	    m->reserved[0] || m->reserved[1])
		return -EINVAL;
	/* The guest sees zeroes after the payload, never stale bytes. */
	memcpy(&msg, m, sizeof(msg));
	memset((u8 *)msg.u.payload + m->payload_size, 0,
	       VID_MESSAGE_PAYLOAD_MAX - m->payload_size);
	return vid_status_to_errno(hv_call_post_message_direct(part->id,
							       u.vp_index,
							       u.sint, &msg));
}

/**
 * struct vid_sint_notify_obj - the VMM's eventfd for refused direct posts
 * @n: what the hypervisor calls.
 * @ctx: the eventfd (a reference).
 */
struct vid_sint_notify_obj {
	struct hv_sint_notifier n;
	struct eventfd_ctx *ctx;
};

static void vid_sint_notify_ready(struct hv_sint_notifier *n, u32 vp_index,
				  u8 sint)
{
	vid_eventfd_signal(container_of(n, struct vid_sint_notify_obj, n)->ctx);
}

static void vid_sint_notify_free(struct vid_sint_notify_obj *obj)
{
	eventfd_ctx_put(obj->ctx);
	vid_kfree(obj, sizeof(*obj));
}

static void vid_sint_notify_release(struct hv_sint_notifier *n)
{
	vid_sint_notify_free(container_of(n, struct vid_sint_notify_obj, n));
}

static const struct hv_sint_notifier_ops vid_sint_notify_ops = {
	.ready = vid_sint_notify_ready,
	.release = vid_sint_notify_release,
};

int vid_port_sint_notify(struct vid_partition *part, void __user *uarg)
{
	struct vid_sint_notify_obj *obj = NULL;
	struct eventfd_ctx *ctx;
	struct vid_sint_notify u;
	unsigned int tries = 0;
	hv_status_t status;
	int err;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if ((u.flags & ~VID_SINT_NOTIFY_FLAGS_VALID) || u.reserved ||
	    ((u.flags & VID_SINT_NOTIFY_CLEAR) && u.eventfd))
		return -EINVAL;
	if (!(u.flags & VID_SINT_NOTIFY_CLEAR)) {
		ctx = eventfd_ctx_fdget(u.eventfd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		obj = vid_kzalloc(sizeof(*obj));
		if (!obj) {
			eventfd_ctx_put(ctx);
			return -ENOMEM;
		}
		obj->n.ops = &vid_sint_notify_ops;
		obj->ctx = ctx;
	}
	do {
		status = hv_call_set_sint_notifier(part->id,
						   HV_SINT_NOTIFIER_VMM,
						   obj ? &obj->n : NULL);
	} while (vid_deposit_retry(part->id, READ_ONCE(part->auto_deposit),
				   status, &tries, &err));
	if (err && obj)
		vid_sint_notify_free(obj);
	return err;
}

int vid_port_signal_event(struct vid_partition *part, void __user *uarg)
{
	struct vid_signal_event u;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if (u.flags || u.reserved || u.reserved8 ||
	    u.sint >= VID_SINT_COUNT || u.flag >= VID_EVENT_FLAG_COUNT)
		return -EINVAL;
	return vid_status_to_errno(hv_call_signal_event_direct(part->id,
							       u.vp_index,
							       u.sint, u.flag));
}
