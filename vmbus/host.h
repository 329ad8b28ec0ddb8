/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMBus server of a partition, wired into the module: the glue
 * between the pure protocol state machine (server.h), the hypervisor
 * (ports, connections and direct posts through hv_call_*()), the VID's
 * GPA map (guest pages for GPADLs and rings) and the VSPs (kernel ones,
 * vsp.h, and userspace ones behind a channel fd).
 *
 *  guest HvPostMessage(conn 1/4) -> message port sink (VP context) ->
 *	bounded queue -> host work -> vmbus_server_handle_message() under
 *	host->lock -> ops: post on SINT 2 (HvPostMessageDirect; a busy slot
 *	is retried when the SINT notifier says the guest freed it), open /
 *	close channels.
 *  guest HvSignalEvent(conn 0x2000|relid) -> the channel's event port
 *	sink (VP context) -> kernel VSP: channel work reads the ring;
 *	userspace VSP: its eventfd.
 *  root -> guest: ring write, then HvSignalEventDirect(SINT 2, flag
 *	relid) on the channel's target VP.
 *
 * Locking (docs/locking.md): host->lock (mutex) serializes the server
 * and channel state changes; a channel's send_lock (mutex) serializes
 * writers of its outbound ring, its map_sem orders mmap faults against
 * close; the queues' spinlocks are leaves taken in VP context.
 */
#ifndef VID_VMBUS_HOST_H
#define VID_VMBUS_HOST_H

#include <linux/types.h>

struct vid_partition;
struct vid_vmbus_create;
struct vid_vmbus_info;
struct vid_vmbus_offer;
struct vmbus_host;
struct file;

int vmbus_host_create(struct vid_partition *part,
		      const struct vid_vmbus_create *args);
/* Partition release: no channel fd is open any more (they hold it). */
void vmbus_host_destroy(struct vid_partition *part);
int vmbus_host_info(struct vid_partition *part, struct vid_vmbus_info *info);
/*
 * Offer the channel @args describes (validated by the caller); its out
 * fields are written to @uarg before the channel fd is returned.
 */
int vmbus_host_offer(struct vid_partition *part, struct file *part_file,
		     const struct vid_vmbus_offer *args,
		     struct vid_vmbus_offer __user *uarg);

int vmbus_host_init(void);
void vmbus_host_exit(void);

#endif /* VID_VMBUS_HOST_H */
