// SPDX-License-Identifier: GPL-2.0
/*
 * Ports and connections: where a guest's HvPostMessage and HvSignalEvent
 * land (a root consumer, or a VP's SynIC in the same partition), and the
 * root's direct posts and signals into a guest.
 *
 * Memory (DESIGN.md rule 3): everything comes from the partition's pool.
 * One page holds the two hash tables (struct hv_ports, allocated at the
 * first port); port and connection objects are carved from further pool
 * pages (struct hv_port_obj, at most HV_PORT_OBJ_PAGES of them, never
 * given back before teardown). So a partition's ports cost at most 8
 * pages whatever the VMM does.
 *
 * Concurrency: guests look connections and ports up from VP context on
 * any number of VPs at once, under rcu_read_lock() and without a lock.
 * The root changes the tables under the partition lock (hlist RCU
 * updates). An object that leaves a table goes back to the free list
 * only after a grace period, so a guest that still holds it reads a
 * consistent, unchanged port; a root sink is released after that same
 * grace period. Fields of a published object never change.
 */
#include <linux/hash.h>
#include <linux/rculist.h>

#include "synic.h"

/* 128 buckets per table: chains of 2 at the limits. */
#define HV_PORT_HASH_BITS	7
#define HV_PORT_BUCKETS		BIT(HV_PORT_HASH_BITS)

#define HV_SINT_COUNT		HV_SYNIC_SINT_COUNT

/* The TLFS reserves the hypervisor message types (high bit set). */
#define HV_MESSAGE_TYPE_HYPERVISOR	BIT(31)

/**
 * struct hv_port - a port (fields fixed once it is published)
 * @node: in hv_ports.ports.
 * @id: port id.
 * @type: enum hv_port_type.
 * @sint: guest target's SINT.
 * @base_flag: event ports with a guest target: first flag.
 * @flag_count: event ports: flags the guest may name.
 * @vp_index: guest target's VP.
 * @sink: the root consumer, or NULL for a guest target.
 */
struct hv_port {
	struct hlist_node node;
	u32 id;
	u8 type;
	u8 sint;
	u16 base_flag;
	u16 flag_count;
	u32 vp_index;
	struct hv_port_sink *sink;
};

/**
 * struct hv_connection - a connection (fields fixed once published)
 * @node: in hv_ports.connections.
 * @id: connection id.
 * @port_id: the port it leads to, looked up at each use.
 */
struct hv_connection {
	struct hlist_node node;
	u32 id;
	u32 port_id;
};

/* One slot of an object page. */
union hv_port_obj {
	union hv_port_obj *next_free;
	struct hv_port port;
	struct hv_connection conn;
};

#define HV_PORT_OBJS_PER_PAGE	(PAGE_SIZE / sizeof(union hv_port_obj))
#define HV_PORT_OBJ_PAGES	DIV_ROUND_UP(HV_PORTS_MAX + HV_CONNECTIONS_MAX,\
					     HV_PORT_OBJS_PER_PAGE)

/**
 * struct hv_ports - a partition's ports and connections (one pool page)
 * @ports: port hash table (RCU readers, writers under the partition lock).
 * @connections: connection hash table (likewise).
 * @free: free objects (partition lock).
 * @obj_pages: pool pages the objects live in (partition lock).
 * @nr_obj_pages: pages in @obj_pages.
 * @nr_ports: ports in @ports, plus deleted ones not yet freed.
 * @nr_connections: the same for connections.
 * @notifier: the root's hv_sint_notifiers, one per slot (RCU; set
 *	under the partition lock).
 */
struct hv_ports {
	struct hlist_head ports[HV_PORT_BUCKETS];
	struct hlist_head connections[HV_PORT_BUCKETS];
	union hv_port_obj *free;
	void *obj_pages[HV_PORT_OBJ_PAGES];
	unsigned int nr_obj_pages;
	unsigned int nr_ports;
	unsigned int nr_connections;
	struct hv_sint_notifier __rcu *notifier[HV_SINT_NOTIFIER_SLOTS];
};

static struct hlist_head *hv_port_bucket(struct hlist_head *table, u32 id)
{
	return &table[hash_32(id, HV_PORT_HASH_BITS)];
}

/* Lookups: under rcu_read_lock(), or the partition lock. */
static struct hv_port *hv_port_find(struct hv_ports *ports, u32 id)
{
	struct hv_port *port;

	hlist_for_each_entry_rcu(port, hv_port_bucket(ports->ports, id), node,
				 true)
		if (port->id == id)
			return port;
	return NULL;
}

static struct hv_connection *hv_connection_find(struct hv_ports *ports,
						u32 id)
{
	struct hv_connection *conn;

	hlist_for_each_entry_rcu(conn, hv_port_bucket(ports->connections, id),
				 node, true)
		if (conn->id == id)
			return conn;
	return NULL;
}

/*
 * The partition's tables, allocated at first use (partition lock held).
 * Published with a release store: a lockless reader that sees the
 * pointer sees initialized (empty) tables.
 */
static hv_status_t hv_ports_get(struct hv_partition *p,
				struct hv_ports **portsp)
{
	struct hv_ports *ports = p->ports;

	BUILD_BUG_ON(sizeof(struct hv_ports) > PAGE_SIZE);
	if (!ports) {
		/* A zeroed page: empty hlist heads, no objects. */
		ports = hv_pool_alloc(&p->pool);
		if (!ports)
			return HV_STATUS_INSUFFICIENT_MEMORY;
		/* Pairs with READ_ONCE() in hv_port_for_connection(). */
		smp_store_release(&p->ports, ports);
	}
	*portsp = ports;
	return HV_STATUS_SUCCESS;
}

/* A free object, carving a new pool page if needed (partition lock). */
static union hv_port_obj *hv_port_obj_alloc(struct hv_partition *p,
					    struct hv_ports *ports)
{
	union hv_port_obj *obj, *page;
	unsigned int i;

	if (!ports->free) {
		/*
		 * Never true: objects on their way out still count in
		 * nr_ports/nr_connections, so the limits keep every object
		 * within HV_PORT_OBJ_PAGES.
		 */
		if (ports->nr_obj_pages >= HV_PORT_OBJ_PAGES)
			return NULL;
		page = hv_pool_alloc(&p->pool);
		if (!page)
			return NULL;
		ports->obj_pages[ports->nr_obj_pages++] = page;
		for (i = 0; i < HV_PORT_OBJS_PER_PAGE; i++) {
			page[i].next_free = ports->free;
			ports->free = &page[i];
		}
	}
	obj = ports->free;
	ports->free = obj->next_free;
	memset(obj, 0, sizeof(*obj));
	return obj;
}

/* Back to the free list: only after a grace period (partition lock). */
static void hv_port_obj_free(struct hv_ports *ports, union hv_port_obj *obj)
{
	obj->next_free = ports->free;
	ports->free = obj;
}

static hv_status_t hv_port_check_info(struct hv_partition *p,
				      const struct hv_port_info *info)
{
	bool event = info->type == HV_PORT_TYPE_EVENT;

	if (info->type != HV_PORT_TYPE_MESSAGE && !event)
		return HV_STATUS_INVALID_PARAMETER;
	if (event) {
		if (!info->flag_count ||
		    info->base_flag + info->flag_count > HV_EVENT_FLAGS_COUNT)
			return HV_STATUS_INVALID_PARAMETER;
	} else if (info->base_flag || info->flag_count) {
		return HV_STATUS_INVALID_PARAMETER;
	}
	if (info->sink) {
		const struct hv_port_sink_ops *ops = info->sink->ops;

		/* A root consumer has no SynIC target nor flag base. */
		if (info->target_vp || info->target_sint || info->base_flag)
			return HV_STATUS_INVALID_PARAMETER;
		/* The one call of its type must be there, and ->release(). */
		if (!ops || !ops->release ||
		    !(event ? !!ops->signal_event : !!ops->post_message))
			return HV_STATUS_INVALID_PARAMETER;
		return HV_STATUS_SUCCESS;
	}
	if (!info->target_sint || info->target_sint >= HV_SINT_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	if (info->target_vp >= p->max_vp_count)
		return HV_STATUS_INVALID_VP_INDEX;
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_call_create_port(u64 partition_id, u32 port_id,
				const struct hv_port_info *info)
{
	struct hv_partition *p;
	union hv_port_obj *obj;
	struct hv_ports *ports;
	hv_status_t status;

	if (port_id & ~HV_PORT_ID_MASK)
		return HV_STATUS_INVALID_PARAMETER;
	p = hv_partition_get_locked(partition_id);
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	status = HV_STATUS_INVALID_PARTITION_STATE;
	if (p->state != HV_PARTITION_STATE_INITIALIZED)
		goto out;
	status = hv_port_check_info(p, info);
	if (status)
		goto out;
	status = hv_ports_get(p, &ports);
	if (status)
		goto out;
	status = HV_STATUS_OBJECT_IN_USE;
	if (hv_port_find(ports, port_id))
		goto out;
	status = HV_STATUS_INSUFFICIENT_BUFFERS;
	if (ports->nr_ports >= HV_PORTS_MAX)
		goto out;
	status = HV_STATUS_INSUFFICIENT_MEMORY;
	obj = hv_port_obj_alloc(p, ports);
	if (!obj)
		goto out;
	obj->port.id = port_id;
	obj->port.type = info->type;
	obj->port.sint = info->target_sint;
	obj->port.base_flag = info->base_flag;
	obj->port.flag_count = info->flag_count;
	obj->port.vp_index = info->target_vp;
	obj->port.sink = info->sink;
	hlist_add_head_rcu(&obj->port.node,
			   hv_port_bucket(ports->ports, port_id));
	ports->nr_ports++;
	status = HV_STATUS_SUCCESS;
out:
	hv_partition_unlock_put(p);
	return status;
}

/*
 * Retire a port or connection the caller found under the partition lock
 * (held, with a reference): unhash it, wait out guests that found it
 * without the lock, release its sink, free it and drop @count, then
 * unlock and put @p. The grace period passes with the lock dropped, so
 * root calls do not stall on it; the reference keeps @p and its tables
 * alive meanwhile.
 */
static void hv_port_obj_retire(struct hv_partition *p, struct hv_ports *ports,
			       struct hlist_node *node,
			       union hv_port_obj *obj,
			       struct hv_port_sink *sink,
			       unsigned int *count)
{
	hlist_del_rcu(node);
	mutex_unlock(&p->lock);
	synchronize_rcu();
	if (sink)
		sink->ops->release(sink);
	mutex_lock(&p->lock);
	hv_port_obj_free(ports, obj);
	(*count)--;
	hv_partition_unlock_put(p);
}

hv_status_t hv_call_delete_port(u64 partition_id, u32 port_id)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	struct hv_ports *ports;
	struct hv_port *port;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	ports = p->ports;
	port = ports ? hv_port_find(ports, port_id) : NULL;
	if (!port) {
		hv_partition_unlock_put(p);
		return HV_STATUS_INVALID_PORT_ID;
	}
	hv_port_obj_retire(p, ports, &port->node, (union hv_port_obj *)port,
			   port->sink, &ports->nr_ports);
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_call_connect_port(u64 partition_id, u32 connection_id,
				 u32 port_id)
{
	struct hv_partition *p;
	union hv_port_obj *obj;
	struct hv_ports *ports;
	hv_status_t status;

	if ((connection_id & ~HV_CONNECTION_ID_MASK) ||
	    (port_id & ~HV_PORT_ID_MASK))
		return HV_STATUS_INVALID_PARAMETER;
	p = hv_partition_get_locked(partition_id);
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	status = HV_STATUS_INVALID_PARTITION_STATE;
	if (p->state != HV_PARTITION_STATE_INITIALIZED)
		goto out;
	ports = p->ports;
	status = HV_STATUS_INVALID_PORT_ID;
	if (!ports)
		goto out;
	status = HV_STATUS_OBJECT_IN_USE;
	if (hv_connection_find(ports, connection_id))
		goto out;
	status = HV_STATUS_INVALID_PORT_ID;
	if (!hv_port_find(ports, port_id))
		goto out;
	status = HV_STATUS_INSUFFICIENT_BUFFERS;
	if (ports->nr_connections >= HV_CONNECTIONS_MAX)
		goto out;
	status = HV_STATUS_INSUFFICIENT_MEMORY;
	obj = hv_port_obj_alloc(p, ports);
	if (!obj)
		goto out;
	obj->conn.id = connection_id;
	obj->conn.port_id = port_id;
	hlist_add_head_rcu(&obj->conn.node,
			   hv_port_bucket(ports->connections, connection_id));
	ports->nr_connections++;
	status = HV_STATUS_SUCCESS;
out:
	hv_partition_unlock_put(p);
	return status;
}

hv_status_t hv_call_disconnect_port(u64 partition_id, u32 connection_id)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	struct hv_connection *conn;
	struct hv_ports *ports;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	ports = p->ports;
	conn = ports ? hv_connection_find(ports, connection_id) : NULL;
	if (!conn) {
		hv_partition_unlock_put(p);
		return HV_STATUS_INVALID_CONNECTION_ID;
	}
	hv_port_obj_retire(p, ports, &conn->node, (union hv_port_obj *)conn,
			   NULL, &ports->nr_connections);
	return HV_STATUS_SUCCESS;
}

/*
 * The port a guest's connection leads to, under rcu_read_lock(): NULL
 * with *@status set when there is none of type @type.
 */
static struct hv_port *hv_port_for_connection(struct hv_partition *p,
					      u32 connection_id, u8 type,
					      hv_status_t *status)
{
	struct hv_ports *ports = READ_ONCE(p->ports);
	struct hv_connection *conn;
	struct hv_port *port;

	conn = ports ? hv_connection_find(ports, connection_id) : NULL;
	if (!conn) {
		*status = HV_STATUS_INVALID_CONNECTION_ID;
		return NULL;
	}
	/* TLFS: a deleted port or one of the other type is a bad port. */
	port = hv_port_find(ports, conn->port_id);
	if (!port || port->type != type) {
		*status = HV_STATUS_INVALID_PORT_ID;
		return NULL;
	}
	return port;
}

hv_status_t hv_port_post_message(struct hv_vp *vp, u32 connection_id,
				 u32 message_type, const void *payload,
				 u32 payload_size)
{
	struct hv_partition *p = vp->partition;
	struct hv_message msg;
	struct hv_vp *target;
	struct hv_port *port;
	hv_status_t status;

	/* HV_CONNECTION_ID bits 31:24 are reserved. */
	if (connection_id & ~HV_CONNECTION_ID_MASK)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	/* Any type but 0 and the hypervisor's own (TLFS HvPostMessage). */
	if (!message_type || (message_type & HV_MESSAGE_TYPE_HYPERVISOR) ||
	    payload_size > HV_MESSAGE_PAYLOAD_BYTE_COUNT)
		return HV_STATUS_INVALID_PARAMETER;

	rcu_read_lock();
	port = hv_port_for_connection(p, connection_id, HV_PORT_TYPE_MESSAGE,
				      &status);
	if (!port)
		goto out;
	/* Only @payload_size bytes travel; the rest of the slot is zero. */
	memset(&msg, 0, sizeof(msg));
	msg.header.message_type = message_type;
	msg.header.payload_size = payload_size;
	/* TLFS: the port id tells the receiver where a message came in. */
	msg.header.port.asu32 = port->id;
	memcpy(msg.u.payload, payload, payload_size);
	if (port->sink) {
		status = port->sink->ops->post_message(port->sink, &msg);
		goto out;
	}
	target = hv_vp_rcu(p, port->vp_index);
	status = target ? hv_synic_post_message(target, port->sint, &msg) :
			  HV_STATUS_INVALID_VP_INDEX;
out:
	rcu_read_unlock();
	return status;
}

hv_status_t hv_port_signal_event(struct hv_vp *vp, u32 connection_id,
				 u16 flag)
{
	struct hv_partition *p = vp->partition;
	struct hv_vp *target;
	struct hv_port *port;
	hv_status_t status;

	if (connection_id & ~HV_CONNECTION_ID_MASK)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (flag >= HV_EVENT_FLAGS_COUNT)
		return HV_STATUS_INVALID_PARAMETER;

	rcu_read_lock();
	port = hv_port_for_connection(p, connection_id, HV_PORT_TYPE_EVENT,
				      &status);
	if (!port)
		goto out;
	/* The flag is relative to the port's base (TLFS HvSignalEvent). */
	status = HV_STATUS_INVALID_PARAMETER;
	if (flag >= port->flag_count)
		goto out;
	if (port->sink) {
		port->sink->ops->signal_event(port->sink, flag);
		status = HV_STATUS_SUCCESS;
		goto out;
	}
	target = hv_vp_rcu(p, port->vp_index);
	status = target ? hv_synic_signal_event(target, port->sint,
						port->base_flag + flag) :
			  HV_STATUS_INVALID_VP_INDEX;
out:
	rcu_read_unlock();
	return status;
}

/*
 * The root's direct calls: the partition lock keeps the VP and its guest
 * pages in place while the SynIC writes into them (synic.h).
 */
static hv_status_t hv_port_direct_vp(u64 partition_id, u32 vp_index,
				     struct hv_vp **vpp)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (p->state != HV_PARTITION_STATE_INITIALIZED) {
		hv_partition_unlock_put(p);
		return HV_STATUS_INVALID_PARTITION_STATE;
	}
	*vpp = hv_vp_rcu(p, vp_index);
	if (!*vpp) {
		hv_partition_unlock_put(p);
		return HV_STATUS_INVALID_VP_INDEX;
	}
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_call_post_message_direct(u64 partition_id, u32 vp_index,
					u8 sint, const struct hv_message *msg)
{
	const struct hv_message_header *h = &msg->header;
	hv_status_t status;
	struct hv_vp *vp;

	/* The pending flag is the SynIC's to manage, not the sender's. */
	if (sint >= HV_SINT_COUNT || h->message_type == HVMSG_NONE ||
	    h->payload_size > HV_MESSAGE_PAYLOAD_BYTE_COUNT ||
	    h->message_flags.asu8 || h->reserved[0] || h->reserved[1])
		return HV_STATUS_INVALID_PARAMETER;
	status = hv_port_direct_vp(partition_id, vp_index, &vp);
	if (status)
		return status;
	status = hv_synic_post_message(vp, sint, msg);
	hv_partition_unlock_put(vp->partition);
	return status;
}

hv_status_t hv_call_signal_event_direct(u64 partition_id, u32 vp_index,
					u8 sint, u16 flag)
{
	hv_status_t status;
	struct hv_vp *vp;

	if (sint >= HV_SINT_COUNT || flag >= HV_EVENT_FLAGS_COUNT)
		return HV_STATUS_INVALID_PARAMETER;
	status = hv_port_direct_vp(partition_id, vp_index, &vp);
	if (status)
		return status;
	status = hv_synic_signal_event(vp, sint, flag);
	hv_partition_unlock_put(vp->partition);
	return status;
}

hv_status_t hv_call_set_sint_notifier(u64 partition_id, u32 slot,
				      struct hv_sint_notifier *n)
{
	struct hv_sint_notifier *old;
	struct hv_partition *p;
	struct hv_ports *ports;
	hv_status_t status;

	if (slot >= HV_SINT_NOTIFIER_SLOTS ||
	    (n && (!n->ops || !n->ops->ready || !n->ops->release)))
		return HV_STATUS_INVALID_PARAMETER;
	p = hv_partition_get_locked(partition_id);
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	status = HV_STATUS_INVALID_PARTITION_STATE;
	if (p->state != HV_PARTITION_STATE_INITIALIZED)
		goto out;
	status = HV_STATUS_SUCCESS;
	if (!n && !p->ports)
		goto out;
	status = hv_ports_get(p, &ports);
	if (status)
		goto out;
	old = rcu_replace_pointer(ports->notifier[slot], n,
				  lockdep_is_held(&p->lock));
	if (old) {
		/* As for ports: wait for VPs without the partition lock. */
		mutex_unlock(&p->lock);
		synchronize_rcu();
		old->ops->release(old);
		hv_partition_put(p);
		return HV_STATUS_SUCCESS;
	}
out:
	hv_partition_unlock_put(p);
	return status;
}

/*
 * The SynIC (VP context of @vp) says SINT @sint may take messages again
 * after it refused some: guest senders retry by themselves, the root is
 * told through its notifier.
 */
void hv_port_sint_retry(struct hv_vp *vp, u8 sint)
{
	struct hv_ports *ports = READ_ONCE(vp->partition->ports);
	struct hv_sint_notifier *n;
	unsigned int i;

	if (!ports)
		return;
	rcu_read_lock();
	for (i = 0; i < HV_SINT_NOTIFIER_SLOTS; i++) {
		n = rcu_dereference(ports->notifier[i]);
		if (n)
			n->ops->ready(n, vp->index, sint);
	}
	rcu_read_unlock();
}

/*
 * Partition teardown (last reference): no VP runs and no root call is
 * in progress, so nothing can be inside a lookup; release the root
 * sinks and the notifier, and give every page back to the pool.
 */
void hv_ports_destroy(struct hv_partition *p)
{
	struct hv_ports *ports = p->ports;
	struct hv_sint_notifier *n;
	struct hlist_node *tmp;
	struct hv_port *port;
	unsigned int i;

	if (!ports)
		return;
	for (i = 0; i < HV_SINT_NOTIFIER_SLOTS; i++) {
		n = rcu_dereference_protected(ports->notifier[i], true);
		if (n)
			n->ops->release(n);
	}
	for (i = 0; i < HV_PORT_BUCKETS; i++)
		hlist_for_each_entry_safe(port, tmp, &ports->ports[i], node)
			if (port->sink)
				port->sink->ops->release(port->sink);
	for (i = 0; i < ports->nr_obj_pages; i++)
		hv_pool_free(&p->pool, ports->obj_pages[i]);
	p->ports = NULL;
	hv_pool_free(&p->pool, ports);
}
