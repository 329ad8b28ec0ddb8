// SPDX-License-Identifier: GPL-2.0
/*
 * A partition's VMBus server in the module (see host.h): the message
 * path between the guest and the protocol state machine, the server's
 * callbacks, and channel offers.
 */
#include <linux/bitops.h>
#include <linux/highmem.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>

#include "../vid/vid.h"
#include "host_int.h"
#include "msg.h"

/* The uapi's numbers are the protocol's. */
static_assert(!(VID_VMBUS_SINT ^ VMBUS_MESSAGE_SINT) &&
	      !(VID_VMBUS_MESSAGE_CONNECTION_ID ^ VMBUS_MESSAGE_CONNECTION_ID) &&
	      !(VID_VMBUS_MESSAGE_CONNECTION_ID_4 ^
		VMBUS_MESSAGE_CONNECTION_ID_4));
static_assert(!(VID_VMBUS_VERSION_WIN10_V5_3 ^ VMBUS_VERSION_WIN10_V5_3) &&
	      !(VID_VMBUS_VERSION_WIN7 ^ VMBUS_VERSION_WIN7));
static_assert(VID_VMBUS_PORT_BASE + VID_VMBUS_MAX_CHANNELS <=
	      VID_PORT_ID_MAX);

static struct workqueue_struct *vmbus_wq;

/* Guest messages: VP context of the posting VP, so only a copy here. */
static hv_status_t vmbus_host_post(struct hv_port_sink *sink,
				   const struct hv_message *msg)
{
	struct vmbus_host *host = container_of(sink, struct vmbus_host, sink);
	struct vmbus_host_msg *m;
	u32 len = msg->header.payload_size;

	if (len > HV_MESSAGE_PAYLOAD_BYTE_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	spin_lock(&host->in_lock);
	if (host->in_count == VMBUS_HOST_INQ) {
		spin_unlock(&host->in_lock);
		atomic64_inc(&host->dropped_in);
		return HV_STATUS_INSUFFICIENT_BUFFERS;
	}
	m = &host->in[(host->in_head + host->in_count) % VMBUS_HOST_INQ];
	m->len = len;
	memcpy(m->data, msg->u.payload, len);
	host->in_count++;
	spin_unlock(&host->in_lock);
	queue_work(vmbus_wq, &host->work);
	return HV_STATUS_SUCCESS;
}

/* Deleting the port waits for this; the host is freed by its owner. */
static void vmbus_host_sink_release(struct hv_port_sink *sink)
{
}

static const struct hv_port_sink_ops vmbus_host_sink_ops = {
	.post_message = vmbus_host_post,
	.release = vmbus_host_sink_release,
};

static void vmbus_host_ready(struct hv_sint_notifier *n, u32 vp_index,
			     u8 sint)
{
	struct vmbus_host *host = container_of(n, struct vmbus_host, notifier);

	if (sint != VMBUS_MESSAGE_SINT)
		return;
	set_bit(VMBUS_HOST_RETRY, &host->pending);
	queue_work(vmbus_wq, &host->work);
}

static void vmbus_host_notifier_release(struct hv_sint_notifier *n)
{
}

static const struct hv_sint_notifier_ops vmbus_host_notifier_ops = {
	.ready = vmbus_host_ready,
	.release = vmbus_host_notifier_release,
};

/*
 * Channels whose ring the guest corrupted: BROKEN for the fd, then
 * rescinded (closed first), so the guest loses that device alone. The
 * fd stays until the VMM closes it.
 */
static void vmbus_host_kill_broken(struct vmbus_host *host)
{
	struct vmbus_chan *ch, *tmp;

	mutex_lock(&host->lock);
	list_for_each_entry_safe(ch, tmp, &host->channels, node) {
		if (!READ_ONCE(ch->kill))
			continue;
		WRITE_ONCE(ch->kill, false);
		if (ch->rescinded)
			continue;
		vmbus_chan_event(ch, VID_VMBUS_EVENT_BROKEN);
		/*
		 * Its event port and connection go too: the guest's release
		 * frees the relid for the next offer, whose port takes the
		 * same ids. May free: ->chan_freed.
		 */
		vmbus_host_rescind(ch);
	}
	mutex_unlock(&host->lock);
}

/*
 * From the channel's work or a sender (under send_lock, which nests
 * inside host->lock: so only a flag here, the host work does the rest).
 */
void vmbus_host_kill(struct vmbus_chan *ch)
{
	struct vmbus_host *host = ch->host;

	WRITE_ONCE(ch->kill, true);
	set_bit(VMBUS_HOST_KILL, &host->pending);
	queue_work(vmbus_wq, &host->work);
}

static void vmbus_host_work(struct work_struct *work)
{
	struct vmbus_host *host = container_of(work, struct vmbus_host, work);
	struct vmbus_host_msg m;

	for (;;) {
		spin_lock(&host->in_lock);
		if (!host->in_count) {
			spin_unlock(&host->in_lock);
			break;
		}
		m.len = host->in[host->in_head].len;
		memcpy(m.data, host->in[host->in_head].data, m.len);
		host->in_head = (host->in_head + 1) % VMBUS_HOST_INQ;
		host->in_count--;
		spin_unlock(&host->in_lock);

		mutex_lock(&host->lock);
		vmbus_server_handle_message(host->srv, m.data, m.len);
		mutex_unlock(&host->lock);
		cond_resched();
	}
	if (test_and_clear_bit(VMBUS_HOST_KILL, &host->pending))
		vmbus_host_kill_broken(host);
	if (test_and_clear_bit(VMBUS_HOST_RETRY, &host->pending)) {
		mutex_lock(&host->lock);
		vmbus_server_retry(host->srv);
		mutex_unlock(&host->lock);
	}
}

/* Server callbacks: all under host->lock. */

static int vmbus_host_post_message(void *ctx, u32 vp, u8 sint,
				   const void *msg, u32 size)
{
	struct vmbus_host *host = ctx;
	struct hv_message m = {};
	hv_status_t status;

	if (size > HV_MESSAGE_PAYLOAD_BYTE_COUNT)
		return -EINVAL;
	m.header.message_type = VMBUS_SYNIC_MESSAGE_TYPE;
	m.header.payload_size = size;
	memcpy(m.u.payload, msg, size);
	status = hv_call_post_message_direct(host->pid, vp, sint, &m);
	switch (status) {
	case HV_STATUS_SUCCESS:
		return 0;
	case HV_STATUS_INSUFFICIENT_BUFFERS:
	case HV_STATUS_INVALID_VP_STATE:
		/* busy slot, or SynIC not ready: the notifier says when */
		return -EAGAIN;
	default:
		return -EIO;
	}
}

/*
 * Interrupt the guest for channel @relid on VP @vp: the SINT 2 event
 * flag of the relid from protocol 2.4; before that, the relid's bit in
 * the first half of the guest's interrupt page and flag 0. Process
 * context (the legacy page lookup sleeps).
 */
void vmbus_host_signal(struct vmbus_host *host, u32 relid, u32 vp)
{
	struct page *page;
	u64 gpa;
	u32 version;

	spin_lock(&host->sig_lock);
	version = host->version;
	gpa = host->interrupt_page;
	spin_unlock(&host->sig_lock);
	if (!version)
		return;
	if (version >= VMBUS_VERSION_WIN8) {
		hv_call_signal_event_direct(host->pid, vp, VMBUS_MESSAGE_SINT,
					    relid);
		return;
	}
	if (!gpa || vid_gpa_get_pages(host->part, &(u64){gpa >> PAGE_SHIFT},
				      1, &page))
		return;
	/* the guest's page, written as the guest reads it: atomically */
	set_bit(relid, (unsigned long *)page_address(page));
	put_page(page);
	hv_call_signal_event_direct(host->pid, vp, VMBUS_MESSAGE_SINT, 0);
}

static void vmbus_host_signal_channel(void *ctx, u32 relid, u32 target_vp)
{
	vmbus_host_signal(ctx, relid, target_vp);
}

static bool vmbus_host_gpa_ok(void *ctx, u64 gfn)
{
	struct vmbus_host *host = ctx;

	return vid_gpa_is_ram(host->part, gfn);
}

static int vmbus_host_chan_open(void *ctx, struct vmbus_server_channel *sch,
				const struct vmbus_open_params *params)
{
	return vmbus_chan_attach(vmbus_server_channel_ctx(sch), params);
}

static void vmbus_host_chan_close(void *ctx, struct vmbus_server_channel *sch)
{
	vmbus_chan_detach(vmbus_server_channel_ctx(sch));
}

static int vmbus_host_chan_modify(void *ctx, struct vmbus_server_channel *sch,
				  u32 target_vp)
{
	struct vmbus_chan *ch = vmbus_server_channel_ctx(sch);

	WRITE_ONCE(ch->target_vp, target_vp);
	return 0;
}

/* The server forgets the channel: drop its reference. */
static void vmbus_host_chan_freed(void *ctx, struct vmbus_server_channel *sch)
{
	struct vmbus_host *host = ctx;
	struct vmbus_chan *ch = vmbus_server_channel_ctx(sch);

	ch->sch = NULL;
	list_del(&ch->node);
	host->nr_channels--;
	vmbus_chan_put(ch);
}

static void vmbus_host_state_changed(void *ctx, u32 version)
{
	struct vmbus_host *host = ctx;
	struct vmbus_server_conn conn;

	vmbus_server_get_conn(host->srv, &conn);
	spin_lock(&host->sig_lock);
	host->version = version;
	host->interrupt_page = version ? conn.interrupt_page : 0;
	spin_unlock(&host->sig_lock);
}

static void vmbus_host_bad_msg(void *ctx, enum vmbus_server_err err,
			       u32 msgtype)
{
	struct vmbus_host *host = ctx;

	pr_info_ratelimited("vid: partition %llu: vmbus: guest message %u ignored: %s\n",
			    host->pid, msgtype, vmbus_server_err_name(err));
}

static const struct vmbus_server_ops vmbus_host_ops = {
	.post_message = vmbus_host_post_message,
	.signal_channel = vmbus_host_signal_channel,
	.gpa_ok = vmbus_host_gpa_ok,
	.chan_open = vmbus_host_chan_open,
	.chan_close = vmbus_host_chan_close,
	.chan_modify = vmbus_host_chan_modify,
	.chan_freed = vmbus_host_chan_freed,
	.state_changed = vmbus_host_state_changed,
	.bad_msg = vmbus_host_bad_msg,
};

/* What vmbus_host_call() asks the hypervisor for. */
enum vmbus_host_op {
	VMBUS_HOST_CREATE_PORT,		/* @id: port, @info */
	VMBUS_HOST_CONNECT,		/* @id: connection, @port */
	VMBUS_HOST_SET_NOTIFIER,	/* @n, or NULL */
};

/*
 * One hypervisor call that may need pool pages, with the VID's
 * deposit-and-retry; 0 or an errno (-ENOSPC at the port/connection
 * limit, -EEXIST for an id in use).
 */
static int vmbus_host_call(struct vmbus_host *host, enum vmbus_host_op op,
			   u32 id, u32 port, const struct hv_port_info *info,
			   struct hv_sint_notifier *n)
{
	struct vid_partition *part = host->part;
	unsigned int tries = 0;
	hv_status_t status;
	int err;

	do {
		if (op == VMBUS_HOST_CREATE_PORT)
			status = hv_call_create_port(host->pid, id, info);
		else if (op == VMBUS_HOST_CONNECT)
			status = hv_call_connect_port(host->pid, id, port);
		else
			status = hv_call_set_sint_notifier(host->pid,
							   HV_SINT_NOTIFIER_VMBUS,
							   n);
	} while (vid_deposit_retry(host->pid, READ_ONCE(part->auto_deposit),
				   status, &tries, &err));
	if (status == HV_STATUS_INSUFFICIENT_BUFFERS)
		return -ENOSPC;
	if (status == HV_STATUS_OBJECT_IN_USE)
		return -EEXIST;
	return err;
}

static int vmbus_host_port(struct vmbus_host *host, u32 port_id,
			   const struct hv_port_info *info)
{
	return vmbus_host_call(host, VMBUS_HOST_CREATE_PORT, port_id, 0, info,
			       NULL);
}

static int vmbus_host_connect(struct vmbus_host *host, u32 conn_id,
			      u32 port_id)
{
	return vmbus_host_call(host, VMBUS_HOST_CONNECT, conn_id, port_id,
			       NULL, NULL);
}

int vmbus_host_create(struct vid_partition *part,
		      const struct vid_vmbus_create *args)
{
	struct vmbus_server_config cfg = {
		.max_channels = args->max_channels ?: VID_VMBUS_MAX_CHANNELS,
		.max_version = args->max_version,
	};
	struct hv_port_info info = { .type = HV_PORT_TYPE_MESSAGE };
	struct vmbus_host *host;
	int err;

	host = kzalloc(sizeof(*host), GFP_KERNEL_ACCOUNT);
	if (!host)
		return -ENOMEM;
	host->part = part;
	host->pid = part->id;
	mutex_init(&host->lock);
	spin_lock_init(&host->in_lock);
	spin_lock_init(&host->sig_lock);
	INIT_WORK(&host->work, vmbus_host_work);
	INIT_LIST_HEAD(&host->channels);
	atomic64_set(&host->broken_rings, 0);
	atomic64_set(&host->dropped_in, 0);
	host->sink.ops = &vmbus_host_sink_ops;
	host->notifier.ops = &vmbus_host_notifier_ops;
	info.sink = &host->sink;

	err = vmbus_server_create(&vmbus_host_ops, host, &cfg, &host->srv);
	if (err)
		goto free;
	err = vmbus_host_call(host, VMBUS_HOST_SET_NOTIFIER, 0, 0, NULL,
			      &host->notifier);
	if (err)
		goto destroy;
	err = vmbus_host_port(host, VID_VMBUS_PORT_BASE, &info);
	if (err)
		goto no_port;
	err = vmbus_host_connect(host, VMBUS_MESSAGE_CONNECTION_ID,
				 VID_VMBUS_PORT_BASE);
	if (err)
		goto no_conn1;
	err = vmbus_host_connect(host, VMBUS_MESSAGE_CONNECTION_ID_4,
				 VID_VMBUS_PORT_BASE);
	if (err)
		goto no_conn4;
	/* readers look without part->lock */
	smp_store_release(&part->vmbus, host);
	return 0;

no_conn4:
	hv_call_disconnect_port(host->pid, VMBUS_MESSAGE_CONNECTION_ID);
no_conn1:
	hv_call_delete_port(host->pid, VID_VMBUS_PORT_BASE);
no_port:
	hv_call_set_sint_notifier(host->pid, HV_SINT_NOTIFIER_VMBUS, NULL);
	/* no guest can reach the sink or the notifier any more */
	cancel_work_sync(&host->work);
destroy:
	vmbus_server_destroy(host->srv);
free:
	kfree(host);
	return err;
}

/*
 * Partition release. Channel fds hold the partition file, so none is
 * open: every channel is rescinded (its port gone) and only waits for
 * the guest's release, which will not come now.
 */
void vmbus_host_destroy(struct vid_partition *part)
{
	struct vmbus_host *host = part->vmbus;

	if (!host)
		return;
	hv_call_disconnect_port(host->pid, VMBUS_MESSAGE_CONNECTION_ID_4);
	hv_call_disconnect_port(host->pid, VMBUS_MESSAGE_CONNECTION_ID);
	hv_call_delete_port(host->pid, VID_VMBUS_PORT_BASE);
	hv_call_set_sint_notifier(host->pid, HV_SINT_NOTIFIER_VMBUS, NULL);
	cancel_work_sync(&host->work);
	mutex_lock(&host->lock);
	vmbus_server_destroy(host->srv);	/* frees every channel */
	mutex_unlock(&host->lock);
	part->vmbus = NULL;
	kfree(host);
}

int vmbus_host_info(struct vid_partition *part, struct vid_vmbus_info *info)
{
	/* pairs with the release in vmbus_host_create() */
	struct vmbus_host *host = smp_load_acquire(&part->vmbus);
	struct vmbus_server_stats st;
	struct vmbus_server_conn conn;
	unsigned int i;

	if (!host)
		return -ENODEV;
	mutex_lock(&host->lock);
	vmbus_server_get_stats(host->srv, &st);
	vmbus_server_get_conn(host->srv, &conn);
	info->channels = host->nr_channels;
	info->open_channels = host->nr_open;
	mutex_unlock(&host->lock);
	info->version = conn.version;
	info->target_vp = conn.target_vp;
	info->messages = st.messages;
	info->posted = st.posted;
	info->dropped = st.dropped;
	info->bad_messages = atomic64_read(&host->dropped_in);
	for (i = 0; i < VMBUS_SERVER_E_COUNT; i++)
		if (i != VMBUS_SERVER_E_QUEUE_FULL && i != VMBUS_SERVER_E_POST)
			info->bad_messages += st.errors[i];
	info->broken_rings = atomic64_read(&host->broken_rings);
	return 0;
}

/* Withdraw @ch (its fd let go): under host->lock. */
void vmbus_host_rescind(struct vmbus_chan *ch)
{
	struct vmbus_host *host = ch->host;

	if (ch->port_made) {
		hv_call_disconnect_port(host->pid,
					VID_VMBUS_CHANNEL_CONNECTION_BASE |
					ch->relid);
		hv_call_delete_port(host->pid, VID_VMBUS_PORT_BASE + ch->relid);
		ch->port_made = false;
	}
	if (!ch->rescinded) {
		ch->rescinded = true;
		if (ch->sch)	/* ->chan_freed() may follow; the caller holds a reference */
			vmbus_server_rescind(ch->sch);
	}
}

int vmbus_host_offer(struct vid_partition *part, struct file *part_file,
		     const struct vid_vmbus_offer *args,
		     struct vid_vmbus_offer __user *uarg)
{
	/* pairs with the release in vmbus_host_create() */
	struct vmbus_host *host = smp_load_acquire(&part->vmbus);
	struct vmbus_offer_params params = {
		.chn_flags = args->chn_flags,
		.mmio_megabytes = args->mmio_megabytes,
		.sub_channel_index = args->sub_channel_index,
	};
	struct hv_port_info info = {
		.type = HV_PORT_TYPE_EVENT,
		.flag_count = 1,
	};
	struct vmbus_vsp *vsp = NULL;
	struct vmbus_chan *ch;
	guid_t type, instance;
	u32 relid, conn_id;
	int err, fd;

	if (!host)
		return -ENODEV;
	import_guid(&type, args->type);
	import_guid(&instance, args->instance);
	if (args->flags & VID_VMBUS_OFFER_KERNEL) {
		vsp = vmbus_vsp_find(&type);
		if (!vsp)
			return -ENOENT;
	}
	memcpy(params.user_def, args->user_def, sizeof(params.user_def));
	ch = vmbus_chan_alloc(host, vsp);
	if (!ch)
		return -ENOMEM;
	ch->part_file = part_file;

	mutex_lock(&host->lock);
	err = vmbus_server_offer(host->srv, &type, &instance, &params, ch,
				 &ch->sch);
	if (err) {
		mutex_unlock(&host->lock);
		vmbus_chan_put(ch);	/* the server's reference */
		vmbus_chan_put(ch);
		return err;
	}
	list_add_tail(&ch->node, &host->channels);
	host->nr_channels++;
	ch->relid = vmbus_server_channel_relid(ch->sch);
	relid = ch->relid;
	conn_id = vmbus_server_channel_connection_id(ch->sch);
	info.sink = &ch->sink;
	err = vmbus_host_port(host, VID_VMBUS_PORT_BASE + relid, &info);
	if (!err) {
		err = vmbus_host_connect(host, conn_id,
					 VID_VMBUS_PORT_BASE + relid);
		if (err)
			hv_call_delete_port(host->pid,
					    VID_VMBUS_PORT_BASE + relid);
		else
			ch->port_made = true;
	}
	mutex_unlock(&host->lock);
	if (!err && (put_user(relid, &uarg->relid) ||
		     put_user(conn_id, &uarg->connection_id)))
		err = -EFAULT;
	if (!err) {
		fd = vmbus_chan_fd(ch, part_file,
				   args->flags & VID_VMBUS_OFFER_NONBLOCK);
		if (fd >= 0)
			return fd;
		err = fd;
	}
	mutex_lock(&host->lock);
	vmbus_host_rescind(ch);
	mutex_unlock(&host->lock);
	vmbus_chan_put(ch);	/* the fd's reference it never got */
	return err;
}

int vmbus_host_init(void)
{
	vmbus_wq = alloc_workqueue("vid-vmbus", WQ_UNBOUND | WQ_HIGHPRI, 0);
	return vmbus_wq ? 0 : -ENOMEM;
}

void vmbus_host_exit(void)
{
	destroy_workqueue(vmbus_wq);
}

/* For chan.c: kernel channels read their rings in the same queue. */
void vmbus_host_queue(struct work_struct *work)
{
	queue_work(vmbus_wq, work);
}
