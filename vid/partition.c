// SPDX-License-Identifier: GPL-2.0
/*
 * Partition file descriptors: creation, the partition ioctls, and
 * teardown when the last fd is closed.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "../uapi/linux/vid_vmbus.h"
#include "../vmbus/host.h"
#include "vid.h"

static void vid_partition_free(struct vid_partition *vp)
{
	mutex_destroy(&vp->gpa_lock);
	mutex_destroy(&vp->lock);
	vid_kfree(vp, sizeof(*vp));
}

static int vid_partition_release(struct inode *inode, struct file *file)
{
	struct vid_partition *vp = file->private_data;

	/* No irqfd may reach the partition once it is deleted. */
	vid_irqfd_release(vp);
	/* The VMBus server's ports and channels go while it still exists. */
	vmbus_host_destroy(vp);
	hv_call_delete_partition(vp->id);
	/* The guest is gone: its RAM can be unpinned. */
	vid_gpa_release(vp);
	/* The partition's pages are now in the root pool: take them back. */
	vid_withdraw_all(HV_PARTITION_ID_SELF);
	vid_partition_free(vp);
	vid_stats_partition(-1);
	return 0;
}

static int vid_partition_initialize(struct vid_partition *vp)
{
	unsigned int tries = 0;
	hv_status_t status;
	int err;

	mutex_lock(&vp->lock);
	do {
		status = hv_call_initialize_partition(vp->id);
	} while (vid_deposit_retry(vp->id, READ_ONCE(vp->auto_deposit), status,
				   &tries, &err));
	mutex_unlock(&vp->lock);
	return err;
}

static int vid_deposit_args(struct vid_deposit *d, void __user *uarg)
{
	if (copy_from_user(d, uarg, sizeof(*d)))
		return -EFAULT;
	if (d->flags || d->reserved[0] || d->reserved[1] || !d->pages)
		return -EINVAL;
	return 0;
}

static int vid_partition_deposit(struct vid_partition *vp, void __user *uarg)
{
	struct vid_deposit d;
	int r = vid_deposit_args(&d, uarg);

	if (r)
		return r;
	if (d.pages > VID_DEPOSIT_MAX_PAGES)
		return -EINVAL;
	return vid_deposit_pages(vp->id, d.pages);
}

static int vid_partition_withdraw(struct vid_partition *vp, void __user *uarg)
{
	struct vid_deposit d;
	int r = vid_deposit_args(&d, uarg);

	if (r)
		return r;
	r = vid_withdraw_pages(vp->id, d.pages, &d.pages);
	if (r)
		return r;
	if (copy_to_user(uarg, &d, sizeof(d)))
		return -EFAULT;
	return 0;
}

static long vid_partition_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	struct vid_partition *vp = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VID_PARTITION_GET_PROPERTY:
	case VID_PARTITION_SET_PROPERTY:
		return vid_partition_property(vp, cmd, uarg);
	case VID_PARTITION_INITIALIZE:
		return arg ? -EINVAL : vid_partition_initialize(vp);
	case VID_PARTITION_DEPOSIT:
		return vid_partition_deposit(vp, uarg);
	case VID_PARTITION_WITHDRAW:
		return vid_partition_withdraw(vp, uarg);
	case VID_PARTITION_MAP_GPA:
		return vid_gpa_map(vp, uarg);
	case VID_PARTITION_UNMAP_GPA:
		return vid_gpa_unmap(vp, uarg);
	case VID_PARTITION_CREATE_VP:
		return vid_vp_create(file, uarg);
	case VID_PARTITION_ASSERT_INTERRUPT:
		return vid_assert_interrupt(vp, uarg);
	case VID_PARTITION_IRQFD:
		return vid_irqfd(vp, uarg);
	case VID_PARTITION_CREATE_PORT:
		return vid_port_create(vp, uarg);
	case VID_PARTITION_DELETE_PORT:
		return vid_port_delete(vp, uarg);
	case VID_PARTITION_CONNECT_PORT:
	case VID_PARTITION_DISCONNECT_PORT:
		return vid_port_connect(vp, cmd, uarg);
	case VID_PARTITION_POST_MESSAGE:
		return vid_port_post_message(vp, uarg);
	case VID_PARTITION_SIGNAL_EVENT:
		return vid_port_signal_event(vp, uarg);
	case VID_PARTITION_SINT_NOTIFY:
		return vid_port_sint_notify(vp, uarg);
	case VID_PARTITION_VMBUS_CREATE:
	case VID_PARTITION_VMBUS_INFO:
	case VID_PARTITION_VMBUS_OFFER:
		return vid_vmbus_ioctl(vp, file, cmd, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vid_partition_fops = {
	.owner = THIS_MODULE,
	.release = vid_partition_release,
	.unlocked_ioctl = vid_partition_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

int vid_partition_create(const struct vid_create_partition __user *uarg)
{
	struct vid_create_partition args;
	struct vid_partition *vp;
	unsigned int tries = 0;
	hv_status_t status;
	int err, i;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(args.reserved); i++)
		if (args.reserved[i])
			return -EINVAL;

	vp = vid_kzalloc(sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	mutex_init(&vp->lock);
	vp->auto_deposit = true;
	mutex_init(&vp->gpa_lock);
	INIT_LIST_HEAD(&vp->regions);
	spin_lock_init(&vp->irqfd_lock);
	INIT_LIST_HEAD(&vp->irqfds);

	do {
		status = hv_call_create_partition(0, &vp->id);
	} while (vid_deposit_retry(HV_PARTITION_ID_SELF, true, status, &tries,
				   &err));
	if (err)
		goto err_create;

	err = anon_inode_getfd("vid-partition", &vid_partition_fops, vp,
			       O_RDWR | O_CLOEXEC);
	if (err < 0)
		goto err_fd;
	vid_stats_partition(1);
	return err;

err_fd:
	hv_call_delete_partition(vp->id);
err_create:
	vid_withdraw_all(HV_PARTITION_ID_SELF);
	vid_partition_free(vp);
	return err;
}
