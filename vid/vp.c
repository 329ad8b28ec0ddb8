// SPDX-License-Identifier: GPL-2.0
/*
 * VP file descriptors: register access (and, with the root scheduler,
 * running). A VP fd holds its partition's file, so a partition lives as
 * long as any of its VP fds.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../hvcore/hv_regs.h"
#include "../sched/sched.h"
#include "vid.h"

/**
 * struct vid_vp - what a VP fd refers to
 * @partition_file: the partition's file (a reference is held).
 * @partition: its VID partition.
 * @index: the VP index.
 * @msg_page: the VP's message page (mmap offset 0, read-only).
 * @thread: the VP-backing kernel thread that runs it.
 * @intercept_pending: the last run returned an intercept message that
 *	VID_VP_RUN_COMPLETE has not completed yet (under @thread's claim).
 */
struct vid_vp {
	struct file *partition_file;
	struct vid_partition *partition;
	u32 index;
	struct page *msg_page;
	struct vid_vp_thread thread;
	bool intercept_pending;
};

static int vid_vp_release(struct inode *inode, struct file *file)
{
	struct vid_vp *vp = file->private_data;

	vid_vp_thread_stop(&vp->thread);
	hv_call_delete_vp(vp->partition->id, vp->index);
	fput(vp->partition_file);
	vid_page_free(vp->msg_page);
	vid_kfree(vp, sizeof(*vp));
	return 0;
}

/* TLFS access_info and execution_state bits, CS attributes' L bit. */
#define VID_IO_SIZE_MASK	0x7
#define VID_IO_STRING		BIT(3)
#define VID_EXEC_LMA		BIT(4)
#define VID_SEG_L		BIT(13)

/*
 * The registers that complete the pending intercept (VID_VP_RUN_COMPLETE):
 * the values an IN or RDMSR returns, and RIP past the instruction. The
 * message page is the hypervisor's (the VMM maps it read-only); its
 * fields are read once. Returns how many registers to set, or -EINVAL.
 */
static int vid_vp_completion(struct vid_vp *vp,
			     const struct vid_vp_run_complete *c,
			     u32 *names, union hv_reg_value *values)
{
	const struct vid_message *m = page_address(vp->msg_page);
	u8 len = READ_ONCE(m->header.instruction_length) & 0xf;
	bool read = READ_ONCE(m->header.intercept_access_type) ==
		    VID_INTERCEPT_READ;
	u64 rip = READ_ONCE(m->header.rip), mask, rax;
	u8 info, size;
	int n = 0;

	if (!vp->intercept_pending ||
	    c->message_type != READ_ONCE(m->message_type) || !len)
		return -EINVAL;
	if (!read && c->value)
		return -EINVAL;		/* OUT, WRMSR: nothing comes back */

	switch (c->message_type) {
	case VID_MSG_X64_IO_PORT_INTERCEPT:
		info = READ_ONCE(m->io_port.access_info);
		size = info & VID_IO_SIZE_MASK;
		if ((info & VID_IO_STRING) ||
		    (size != 1 && size != 2 && size != 4))
			return -EINVAL;
		if (!read)
			break;
		mask = GENMASK_ULL(size * 8 - 1, 0);
		if (c->value & ~mask)
			return -EINVAL;
		/* A 32-bit result clears the upper half, as in hardware. */
		rax = size == 4 ? 0 : READ_ONCE(m->io_port.rax) & ~mask;
		names[n] = HV_X64_REGISTER_RAX;
		values[n++].reg64 = rax | c->value;
		break;
	case VID_MSG_X64_MSR_INTERCEPT:
		if (!read)
			break;
		names[n] = HV_X64_REGISTER_RAX;
		values[n++].reg64 = lower_32_bits(c->value);
		names[n] = HV_X64_REGISTER_RAX + 2;	/* RDX */
		values[n++].reg64 = upper_32_bits(c->value);
		break;
	default:
		return -EINVAL;
	}

	/* Outside 64-bit code the instruction pointer is 32 bits wide. */
	rip += len;
	if (!(READ_ONCE(m->header.execution_state) & VID_EXEC_LMA) ||
	    !(READ_ONCE(m->header.cs.attributes) & VID_SEG_L))
		rip = lower_32_bits(rip);
	names[n] = HV_X64_REGISTER_RIP;
	values[n++].reg64 = rip;
	return n;
}

/*
 * Let the VP's backing thread run it until it has a message for the VMM;
 * a signal stops it (-EINTR). With @c, complete the pending intercept
 * first (VID_VP_RUN_COMPLETE): in the kernel, so that the VMM makes one
 * system call per intercept, not two.
 */
static int vid_vp_run(struct vid_vp *vp, const struct vid_vp_run_complete *c)
{
	const struct vid_message *m = page_address(vp->msg_page);
	union hv_reg_value values[3] = {};
	hv_status_t status;
	u32 names[3];
	int err, n;

	if (!vid_vp_thread_claim(&vp->thread))
		return -EBUSY;		/* another VMM thread runs this VP */
	if (c) {
		n = vid_vp_completion(vp, c, names, values);
		err = n;
		if (n < 0)
			goto out;
		status = hv_call_set_vp_registers(vp->partition->id, vp->index,
						  n, names, values);
		err = vid_status_to_errno(status);
		if (err)
			goto out;
	}
	/* Whatever the VMM did about the last intercept, it is done. */
	vp->intercept_pending = false;
	err = vid_vp_thread_run(&vp->thread, &status) ?:
	      vid_status_to_errno(status);
	if (!err)
		vp->intercept_pending = READ_ONCE(m->message_type) !=
					VID_MSG_NONE;
out:
	vid_vp_thread_release(&vp->thread);
	return err;
}

static int vid_vp_run_complete(struct vid_vp *vp, void __user *uarg)
{
	struct vid_vp_run_complete c;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if (c.flags || c.reserved[0] || c.reserved[1])
		return -EINVAL;
	return vid_vp_run(vp, &c);
}

static int vid_vp_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vid_vp *vp = file->private_data;

	if (vma->vm_pgoff || vma_pages(vma) != 1)
		return -EINVAL;
	/* The kernel only writes the page; the VMM only reads it. */
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	return vm_insert_page(vma, vma->vm_start, vp->msg_page);
}

/*
 * Transfers of up to this many registers need no allocation: a VMM sets
 * one (RIP) after most intercepts, between two VID_VP_RUNs.
 */
#define VID_REGS_ON_STACK	4

static int vid_vp_registers(struct vid_vp *vp, unsigned int cmd,
			    void __user *uarg)
{
	struct vid_register regs_stack[VID_REGS_ON_STACK];
	union hv_reg_value values_stack[VID_REGS_ON_STACK];
	u32 names_stack[VID_REGS_ON_STACK];
	struct vid_vp_registers args;
	union hv_reg_value *values;
	struct vid_register *regs;
	hv_status_t status;
	u32 *names, i;
	size_t size;
	int err;

	/* The uapi's names and values are the TLFS's, as are hvcore's. */
	static_assert(sizeof(union hv_reg_value) ==
		      sizeof_field(struct vid_register, value));
	static_assert((VID_REG_RIP ^ HV_X64_REGISTER_RIP) == 0 &&
		      (VID_REG_GDTR ^ HV_X64_REGISTER_GDTR) == 0 &&
		      (VID_REG_SFMASK ^ HV_X64_REGISTER_SFMASK) == 0);

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || !args.count || args.count > VID_REGISTERS_MAX)
		return -EINVAL;
	size = args.count * sizeof(*regs);
	if (args.count <= VID_REGS_ON_STACK) {
		regs = regs_stack;
		names = names_stack;
		values = values_stack;
	} else {
		regs = kmalloc(size, GFP_KERNEL);
		names = kmalloc_array(args.count, sizeof(*names), GFP_KERNEL);
		values = kmalloc_array(args.count, sizeof(*values), GFP_KERNEL);
	}
	err = -ENOMEM;
	if (!regs || !names || !values)
		goto out;
	err = -EFAULT;
	if (copy_from_user(regs, u64_to_user_ptr(args.regs), size))
		goto out;
	err = -EINVAL;
	for (i = 0; i < args.count; i++) {
		if (regs[i].reserved || regs[i].reserved2)
			goto out;
		names[i] = regs[i].name;
		memcpy(&values[i], &regs[i].value, sizeof(values[i]));
	}

	if (cmd == VID_VP_SET_REGISTERS) {
		status = hv_call_set_vp_registers(vp->partition->id, vp->index,
						  args.count, names, values);
		err = vid_status_to_errno(status);
		goto out;
	}
	status = hv_call_get_vp_registers(vp->partition->id, vp->index,
					  args.count, names, values);
	err = vid_status_to_errno(status);
	if (err)
		goto out;
	for (i = 0; i < args.count; i++)
		memcpy(&regs[i].value, &values[i], sizeof(values[i]));
	if (copy_to_user(u64_to_user_ptr(args.regs), regs, size))
		err = -EFAULT;
out:
	if (regs != regs_stack) {
		kfree(values);
		kfree(names);
		kfree(regs);
	}
	return err;
}

static long vid_vp_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct vid_vp *vp = file->private_data;

	switch (cmd) {
	case VID_VP_GET_REGISTERS:
	case VID_VP_SET_REGISTERS:
		return vid_vp_registers(vp, cmd, (void __user *)arg);
	case VID_VP_RUN:
		return arg ? -EINVAL : vid_vp_run(vp, NULL);
	case VID_VP_RUN_COMPLETE:
		return vid_vp_run_complete(vp, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations vid_vp_fops = {
	.owner = THIS_MODULE,
	.release = vid_vp_release,
	.unlocked_ioctl = vid_vp_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = vid_vp_mmap,
	.llseek = noop_llseek,
};

int vid_vp_create(struct file *partition_file, void __user *uarg)
{
	struct vid_partition *part = partition_file->private_data;
	struct vid_create_vp args;
	unsigned int tries = 0;
	hv_status_t status;
	struct vid_vp *vp;
	int err, fd;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.reserved[0] || args.reserved[1] ||
	    args.reserved[2])
		return -EINVAL;

	vp = vid_kzalloc(sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->partition = part;
	vp->index = args.vp_index;
	vp->msg_page = vid_page_alloc();
	if (!vp->msg_page) {
		vid_kfree(vp, sizeof(*vp));
		return -ENOMEM;
	}
	clear_page(page_address(vp->msg_page));

	do {
		status = hv_call_create_vp(part->id, args.vp_index);
	} while (vid_deposit_retry(part->id, READ_ONCE(part->auto_deposit),
				   status, &tries, &err));
	if (err)
		goto err_free;

	err = vid_vp_thread_start(&vp->thread, part->id, args.vp_index,
				  page_address(vp->msg_page));
	if (err)
		goto err_vp;
	vp->partition_file = get_file(partition_file);
	fd = anon_inode_getfd("vid-vp", &vid_vp_fops, vp, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		fput(partition_file);
		vid_vp_thread_stop(&vp->thread);
		goto err_vp;
	}
	return fd;

err_vp:
	hv_call_delete_vp(part->id, args.vp_index);
err_free:
	vid_page_free(vp->msg_page);
	vid_kfree(vp, sizeof(*vp));
	return err;
}
