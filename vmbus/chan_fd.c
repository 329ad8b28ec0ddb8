// SPDX-License-Identifier: GPL-2.0
/*
 * The channel fd VID_PARTITION_VMBUS_OFFER returns (uapi/linux/vid_vmbus.h):
 * events to read, the ring pages to map while the guest has the channel
 * open, signals both ways; closing it rescinds the channel.
 *
 * Mappings are PFN maps filled in at fault time under map_sem (read),
 * each tied to the open it was made in (a mapping that outlives a close
 * stays SIGBUS after the guest opens the channel again);
 * close takes map_sem for writing, then unmaps the fd's own address
 * space (ch->mapping, installed as the file's f_mapping: the anonymous
 * inode is shared by every anon fd, its mapping must not be), so no
 * mapping outlives the page references that close drops.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "../vid/vid.h"
#include "host_int.h"

static vm_fault_t vmbus_chan_fault(struct vm_fault *vmf)
{
	struct vmbus_chan *ch = vmf->vma->vm_file->private_data;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&ch->map_sem);
	/* a mapping belongs to the open it was made in, not a later one */
	if (ch->open && vmf->pgoff < ch->npages &&
	    (unsigned long)vmf->vma->vm_private_data == ch->open_gen)
		ret = vmf_insert_pfn(vmf->vma, vmf->address,
				     page_to_pfn(ch->pages[vmf->pgoff]));
	up_read(&ch->map_sem);
	return ret;
}

static const struct vm_operations_struct vmbus_chan_vm_ops = {
	.fault = vmbus_chan_fault,
};

static int vmbus_chan_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vmbus_chan *ch = file->private_data;
	unsigned long pages = vma_pages(vma);
	int err = 0;

	if (ch->vsp || !(vma->vm_flags & VM_SHARED) || vma->vm_pgoff)
		return -EINVAL;
	down_read(&ch->map_sem);
	if (!ch->open)
		err = -ENODEV;
	else if (pages > ch->npages)
		err = -EINVAL;
	vma->vm_private_data = (void *)ch->open_gen;
	up_read(&ch->map_sem);
	if (err)
		return err;
#ifdef VID_VM_FLAGS_SET
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY);
#else
	vma->vm_flags |= VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP |
			 VM_DONTCOPY;
#endif
	vma->vm_ops = &vmbus_chan_vm_ops;
	return 0;
}

static ssize_t vmbus_chan_read(struct file *file, char __user *buf,
			       size_t len, loff_t *off)
{
	struct vmbus_chan *ch = file->private_data;
	struct vid_vmbus_event ev;
	int err;

	if (len < sizeof(ev))
		return -EINVAL;
	for (;;) {
		spin_lock(&ch->ev_lock);
		if (ch->ev_count) {
			ev = ch->ev[ch->ev_head];
			ch->ev_head = (ch->ev_head + 1) % VMBUS_CHAN_EVQ;
			ch->ev_count--;
			if (ev.type == VID_VMBUS_EVENT_OPEN)
				ch->ev_reader_open = true;
			else if (ev.type == VID_VMBUS_EVENT_CLOSE)
				ch->ev_reader_open = false;
			spin_unlock(&ch->ev_lock);
			break;
		}
		spin_unlock(&ch->ev_lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(ch->wq, READ_ONCE(ch->ev_count));
		if (err)
			return err;
	}
	if (copy_to_user(buf, &ev, sizeof(ev)))
		return -EFAULT;
	return sizeof(ev);
}

static __poll_t vmbus_chan_poll(struct file *file, poll_table *wait)
{
	struct vmbus_chan *ch = file->private_data;

	poll_wait(file, &ch->wq, wait);
	return READ_ONCE(ch->ev_count) ? EPOLLIN | EPOLLRDNORM : 0;
}

static long vmbus_chan_set_eventfd(struct vmbus_chan *ch, void __user *uarg)
{
	struct eventfd_ctx *ctx = NULL, *old;
	struct vid_vmbus_eventfd u;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if (u.flags || u.reserved || ch->vsp)
		return -EINVAL;
	if (u.eventfd != -1) {
		ctx = eventfd_ctx_fdget(u.eventfd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	spin_lock(&ch->ev_lock);
	old = rcu_replace_pointer(ch->efd, ctx, lockdep_is_held(&ch->ev_lock));
	spin_unlock(&ch->ev_lock);
	if (old) {
		synchronize_rcu();
		eventfd_ctx_put(old);
	}
	return 0;
}

static long vmbus_chan_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct vmbus_chan *ch = file->private_data;
	struct vmbus_host *host = ch->host;
	long ret;

	switch (cmd) {
	case VID_VMBUS_CHANNEL_SIGNAL:
		if (ch->vsp)
			return -EINVAL;
		mutex_lock(&host->lock);
		ret = -ENOTCONN;
		if (ch->open) {
			vmbus_host_signal(host, ch->relid,
					  READ_ONCE(ch->target_vp));
			ret = 0;
		}
		mutex_unlock(&host->lock);
		return ret;
	case VID_VMBUS_CHANNEL_EVENTFD:
		return vmbus_chan_set_eventfd(ch, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static int vmbus_chan_release(struct inode *inode, struct file *file)
{
	struct vmbus_chan *ch = file->private_data;
	struct vmbus_host *host = ch->host;
	struct file *part_file = ch->part_file;
	struct eventfd_ctx *efd;

	mutex_lock(&host->lock);
	vmbus_host_rescind(ch);		/* closes it if open */
	mutex_unlock(&host->lock);
	/* the port is gone: no guest signal reaches the eventfd now */
	efd = rcu_dereference_protected(ch->efd, true);
	if (efd)
		eventfd_ctx_put(efd);
	vmbus_chan_put(ch);
	fput(part_file);
	return 0;
}

static const struct file_operations vmbus_chan_fops = {
	.owner = THIS_MODULE,
	.read = vmbus_chan_read,
	.poll = vmbus_chan_poll,
	.mmap = vmbus_chan_mmap,
	.unlocked_ioctl = vmbus_chan_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = vmbus_chan_release,
	.llseek = noop_llseek,
};

int vmbus_chan_fd(struct vmbus_chan *ch, struct file *part_file, bool nonblock)
{
	int flags = O_RDWR | O_CLOEXEC | (nonblock ? O_NONBLOCK : 0);
	struct address_space *shared;
	struct file *file;
	int fd;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	file = anon_inode_getfile("vid-vmbus-channel", &vmbus_chan_fops, ch,
				  flags);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	/* the fd's own mappings, what vmbus_chan_detach() unmaps */
	shared = file->f_mapping;
	ch->mapping.host = shared->host;
	ch->mapping.a_ops = shared->a_ops;
	file->f_mapping = &ch->mapping;
	get_file(part_file);
	fd_install(fd, file);
	return fd;
}
