/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VID: /dev/vid and the partition objects userspace holds. It reaches
 * the hypervisor only through hv_call_*() (hvcore/hv_call.h).
 */
#ifndef VID_VID_H
#define VID_VID_H

#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include "../hvcore/hv_call.h"
#include "../uapi/linux/vid.h"

struct vmbus_host;

/* Most pages one VID_PARTITION_DEPOSIT call may ask for (256 MiB). */
#define VID_DEPOSIT_MAX_PAGES	65536

/**
 * struct vid_partition - what a partition fd refers to
 * @id: the hypervisor's partition id.
 * @lock: protects @name and orders shape changes against initialize.
 * @name: VID_PROP_NAME, NUL-terminated.
 * @auto_deposit: VID_PROP_AUTO_DEPOSIT.
 * @gpa_lock: protects @regions.
 * @regions: mapped GPA ranges (struct vid_region), for overlap checks and
 *	for unpinning.
 */
struct vid_partition {
	u64 id;
	/* protects name; orders shape changes against initialize */
	struct mutex lock;
	char name[VID_NAME_MAX];
	bool auto_deposit;
	/* protects regions */
	struct mutex gpa_lock;
	struct list_head regions;
	/* protects irqfds and nr_irqfds; taken in eventfd wake-ups */
	spinlock_t irqfd_lock;
	struct list_head irqfds;
	unsigned int nr_irqfds;
	/* the VMBus server (vmbus/host.c), set once under lock */
	struct vmbus_host *vmbus;
};

/* status.c: the one place HV_STATUS_* becomes an errno. */
int vid_status_to_errno(hv_status_t status);

/* deposit.c */
int vid_deposit_pages(u64 partition_id, u64 count);
int vid_withdraw_pages(u64 partition_id, u64 max, u64 *withdrawn);
void vid_withdraw_all(u64 partition_id);
bool vid_deposit_retry(u64 partition_id, bool auto_deposit,
		       hv_status_t status, unsigned int *tries, int *err);

/* gpa.c */
int vid_gpa_map(struct vid_partition *vp, void __user *uarg);
int vid_gpa_unmap(struct vid_partition *vp, void __user *uarg);
void vid_gpa_release(struct vid_partition *vp);
bool vid_gpa_is_ram(struct vid_partition *vp, u64 gfn);
int vid_gpa_get_pages(struct vid_partition *vp, const u64 *gfns, u32 n,
		      struct page **pages);

/* irq.c */
int vid_assert_interrupt(struct vid_partition *vp, void __user *uarg);
int vid_irqfd(struct vid_partition *vp, void __user *uarg);
void vid_irqfd_release(struct vid_partition *vp);
int vid_irqfd_init(void);
void vid_irqfd_exit(void);

/* port.c: ports and connections, and their VMM-side consumers */
int vid_port_create(struct vid_partition *part, void __user *uarg);
int vid_port_delete(struct vid_partition *part, void __user *uarg);
int vid_port_connect(struct vid_partition *part, unsigned int cmd,
		     void __user *uarg);
int vid_port_post_message(struct vid_partition *part, void __user *uarg);
int vid_port_signal_event(struct vid_partition *part, void __user *uarg);
int vid_port_sint_notify(struct vid_partition *part, void __user *uarg);

/* vp.c */
int vid_vp_create(struct file *partition_file, void __user *uarg);

/* Count + 1; the signature changed in 6.8 (Kbuild tests for it). */
static inline void vid_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef VID_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* vmbus.c: the VMBus ioctls on a partition fd */
long vid_vmbus_ioctl(struct vid_partition *part, struct file *file,
		     unsigned int cmd, void __user *uarg);

/* partition.c */
int vid_partition_create(const struct vid_create_partition __user *uarg);
long vid_partition_property(struct vid_partition *vp, unsigned int cmd,
			    struct vid_property __user *uarg);

/* stats.c: module-wide allocation accounting, shown in debugfs. */
void *vid_kzalloc(size_t size);
void vid_kfree(void *obj, size_t size);
void *vid_kvzalloc(size_t size);
void vid_kvfree(void *obj, size_t size);
void vid_stats_pinned(long delta);
struct page *vid_page_alloc(void);
void vid_page_free(struct page *page);
void vid_stats_partition(int delta);
int vid_stats_init(void);
void vid_stats_exit(void);

/* dev.c */
int vid_dev_init(void);
void vid_dev_exit(void);

#endif /* VID_VID_H */
