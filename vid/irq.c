// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts from the VMM: VID_PARTITION_ASSERT_INTERRUPT (one
 * interrupt, HvAssertVirtualInterrupt) and VID_PARTITION_IRQFD (an
 * eventfd whose every signal delivers an interrupt, so a device model
 * raises interrupts without entering vid).
 *
 * An irqfd hangs a wait-queue entry on its eventfd; the wake-up runs in
 * the signaller's context with the eventfd's wait-queue lock held (IRQs
 * off), consumes the count and calls hv_call_assert_interrupt(), which
 * is safe there. The partition outlives every irqfd: release detaches
 * them all (after which no wake-up can be running) before it deletes
 * the partition. When the eventfd itself is closed (EPOLLHUP) the irqfd
 * leaves the wait queue and the partition's list at once, and a work
 * item frees it.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "vid.h"

/* TLFS HV_INTERRUPT_TYPE values that the uapi shares. */
#define VID_MSI_ADDR_BASE	0xfee00000ULL
#define VID_MSI_ADDR_MASK	0xfff00000ULL
#define VID_MSI_ADDR_LOGICAL	BIT_ULL(2)

/**
 * struct vid_irqfd_entry - one eventfd bound to an interrupt
 * @node: in vid_partition.irqfds (under irqfd_lock) until detached.
 * @partition_id: the partition it delivers to.
 * @irq: the interrupt.
 * @ctx: the eventfd (a reference).
 * @wait: our entry on the eventfd's wait queue.
 * @pt: for vfs_poll(), which queues @wait.
 * @shutdown: frees the irqfd after its eventfd went away.
 */
struct vid_irqfd_entry {
	struct list_head node;
	u64 partition_id;
	struct hv_interrupt irq;
	struct eventfd_ctx *ctx;
	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct shutdown;
};

static struct workqueue_struct *vid_irqfd_wq;

/* A validated interrupt from its uapi form; -EINVAL if it is not one. */
static int vid_interrupt_parse(const struct vid_interrupt *u,
			       struct hv_interrupt *irq)
{
	u32 mode;

	if (u->reserved)
		return -EINVAL;
	memset(irq, 0, sizeof(*irq));
	if (u->type == VID_INTERRUPT_MSI) {
		if (u->flags || u->destination || u->vector ||
		    (u->msi_address & VID_MSI_ADDR_MASK) != VID_MSI_ADDR_BASE ||
		    (u->msi_data >> 16))
			return -EINVAL;
		mode = (u->msi_data >> 8) & 7;
		if (mode != VID_INTERRUPT_FIXED &&
		    mode != VID_INTERRUPT_LOWEST_PRIORITY &&
		    mode != VID_INTERRUPT_NMI)
			return -EINVAL;
		irq->type = mode;
		irq->vector = mode == VID_INTERRUPT_NMI ? 0 : u->msi_data & 0xff;
		irq->dest = (u->msi_address >> 12) & 0xff;
		irq->logical = u->msi_address & VID_MSI_ADDR_LOGICAL;
		return 0;
	}
	if (u->flags & ~VID_INTERRUPT_FLAGS_VALID || u->msi_address ||
	    u->msi_data)
		return -EINVAL;
	switch (u->type) {
	case VID_INTERRUPT_FIXED:
	case VID_INTERRUPT_LOWEST_PRIORITY:
		if (u->vector < 16 || u->vector > 255)
			return -EINVAL;
		break;
	case VID_INTERRUPT_SIPI:
		if (u->vector > 255)
			return -EINVAL;
		break;
	case VID_INTERRUPT_NMI:
	case VID_INTERRUPT_INIT:
		if (u->vector)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	irq->type = u->type;
	irq->vector = u->vector;
	irq->dest = u->destination;
	irq->logical = u->flags & VID_INTERRUPT_LOGICAL;
	return 0;
}

int vid_assert_interrupt(struct vid_partition *vp, void __user *uarg)
{
	struct vid_interrupt u;
	struct hv_interrupt irq;
	int r;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	r = vid_interrupt_parse(&u, &irq);
	if (r)
		return r;
	return vid_status_to_errno(hv_call_assert_interrupt(vp->id, &irq));
}

static void vid_irqfd_free(struct vid_irqfd_entry *irqfd)
{
	u64 cnt;

	eventfd_ctx_remove_wait_queue(irqfd->ctx, &irqfd->wait, &cnt);
	eventfd_ctx_put(irqfd->ctx);
	vid_kfree(irqfd, sizeof(*irqfd));
}

static void vid_irqfd_shutdown_work(struct work_struct *work)
{
	vid_irqfd_free(container_of(work, struct vid_irqfd_entry, shutdown));
}

static int vid_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			    int sync, void *key)
{
	struct vid_irqfd_entry *irqfd = container_of(wait, struct vid_irqfd_entry, wait);
	struct vid_partition *vp = irqfd->wait.private;
	__poll_t flags = key_to_poll(key);
	unsigned long irqflags;
	u64 cnt;

	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(irqfd->ctx, &cnt);
		hv_call_assert_interrupt(irqfd->partition_id, &irqfd->irq);
	}
	if (flags & EPOLLHUP) {
		/*
		 * The eventfd is closing: detach unless release got here
		 * first. Off its wait queue at once (its lock is held here),
		 * so nothing reaches the partition through it any more.
		 */
		spin_lock_irqsave(&vp->irqfd_lock, irqflags);
		if (!list_empty(&irqfd->node)) {
			list_del_init(&irqfd->wait.entry);
			list_del_init(&irqfd->node);
			vp->nr_irqfds--;
			queue_work(vid_irqfd_wq, &irqfd->shutdown);
		}
		spin_unlock_irqrestore(&vp->irqfd_lock, irqflags);
	}
	return 0;
}

static void vid_irqfd_queue(struct file *file, wait_queue_head_t *wqh,
			    poll_table *pt)
{
	struct vid_irqfd_entry *irqfd = container_of(pt, struct vid_irqfd_entry, pt);

	add_wait_queue_priority(wqh, &irqfd->wait);
}

static struct vid_irqfd_entry *
vid_irqfd_find(struct vid_partition *vp, struct eventfd_ctx *ctx)
{
	struct vid_irqfd_entry *irqfd;

	list_for_each_entry(irqfd, &vp->irqfds, node)
		if (irqfd->ctx == ctx)
			return irqfd;
	return NULL;
}

static int vid_irqfd_assign(struct vid_partition *vp, struct file *file,
			    const struct hv_interrupt *irq)
{
	struct eventfd_ctx *ctx = eventfd_ctx_fileget(file);
	struct vid_irqfd_entry *irqfd;
	__poll_t events;
	int r = 0;

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	irqfd = vid_kzalloc(sizeof(*irqfd));
	if (!irqfd) {
		eventfd_ctx_put(ctx);
		return -ENOMEM;
	}
	irqfd->partition_id = vp->id;
	irqfd->irq = *irq;
	irqfd->ctx = ctx;
	INIT_LIST_HEAD(&irqfd->node);
	INIT_WORK(&irqfd->shutdown, vid_irqfd_shutdown_work);
	init_waitqueue_func_entry(&irqfd->wait, vid_irqfd_wakeup);
	irqfd->wait.private = vp;
	init_poll_funcptr(&irqfd->pt, vid_irqfd_queue);

	spin_lock_irq(&vp->irqfd_lock);
	if (vid_irqfd_find(vp, ctx))
		r = -EEXIST;
	else if (vp->nr_irqfds >= VID_IRQFD_MAX)
		r = -ENOSPC;
	if (!r) {
		list_add_tail(&irqfd->node, &vp->irqfds);
		vp->nr_irqfds++;
	}
	spin_unlock_irq(&vp->irqfd_lock);
	if (r) {
		eventfd_ctx_put(ctx);
		vid_kfree(irqfd, sizeof(*irqfd));
		return r;
	}
	/*
	 * Queue on the eventfd. A count already there is delivered once
	 * now; the next signal consumes it with its own.
	 */
	events = vfs_poll(file, &irqfd->pt);
	if (events & EPOLLIN)
		hv_call_assert_interrupt(vp->id, irq);
	return 0;
}

static int vid_irqfd_deassign(struct vid_partition *vp,
			      struct eventfd_ctx *ctx)
{
	struct vid_irqfd_entry *irqfd;

	spin_lock_irq(&vp->irqfd_lock);
	irqfd = vid_irqfd_find(vp, ctx);
	if (irqfd) {
		list_del_init(&irqfd->node);
		vp->nr_irqfds--;
	}
	spin_unlock_irq(&vp->irqfd_lock);
	if (!irqfd)
		return -ENOENT;
	vid_irqfd_free(irqfd);
	return 0;
}

int vid_irqfd(struct vid_partition *vp, void __user *uarg)
{
	struct eventfd_ctx *ctx;
	struct hv_interrupt irq;
	struct vid_irqfd u;
	struct file *file;
	int r;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if (u.flags & ~VID_IRQFD_FLAGS_VALID)
		return -EINVAL;
	if (u.flags & VID_IRQFD_DEASSIGN) {
		if (memchr_inv(&u.interrupt, 0, sizeof(u.interrupt)))
			return -EINVAL;
		ctx = eventfd_ctx_fdget(u.fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		r = vid_irqfd_deassign(vp, ctx);
		eventfd_ctx_put(ctx);
		return r;
	}
	r = vid_interrupt_parse(&u.interrupt, &irq);
	if (r)
		return r;
	file = fget(u.fd);
	if (!file)
		return -EBADF;
	r = vid_irqfd_assign(vp, file, &irq);
	fput(file);
	return r;
}

/* Partition release: detach every irqfd before the partition goes. */
void vid_irqfd_release(struct vid_partition *vp)
{
	struct vid_irqfd_entry *irqfd;

	for (;;) {
		spin_lock_irq(&vp->irqfd_lock);
		irqfd = list_first_entry_or_null(&vp->irqfds, struct vid_irqfd_entry,
						 node);
		if (irqfd) {
			list_del_init(&irqfd->node);
			vp->nr_irqfds--;
		}
		spin_unlock_irq(&vp->irqfd_lock);
		if (!irqfd)
			break;
		vid_irqfd_free(irqfd);
	}
}

int vid_irqfd_init(void)
{
	vid_irqfd_wq = alloc_workqueue("vid-irqfd", 0, 0);
	return vid_irqfd_wq ? 0 : -ENOMEM;
}

void vid_irqfd_exit(void)
{
	destroy_workqueue(vid_irqfd_wq);
}
