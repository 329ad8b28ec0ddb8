// SPDX-License-Identifier: GPL-2.0
/*
 * Every errno of every VMBus ioctl (uapi/linux/vid_vmbus.h): creating a
 * partition's server, offering channels (kernel and userspace), its
 * counters, and a channel fd's own calls. Host side only; the guest's
 * side of the protocol is vid_vmbus_test.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vid_test_util.h"
#include "vmbus_test_util.h"

FIXTURE(ioctls) {
	int vid_fd;
	int part_fd;
};

FIXTURE_SETUP(ioctls)
{
	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
	if (vid_check_cap(self->vid_fd, VID_CAP_VMBUS) <= 0)
		VID_SETUP_SKIP("no VMBus server (VID_CAP_VMBUS)");
	self->part_fd = vid_test_partition(self->vid_fd, "vmbus", 64, 1);
	ASSERT_LE(0, self->part_fd);
}

FIXTURE_TEARDOWN(ioctls)
{
	if (self->part_fd >= 0)
		close(self->part_fd);
	close(self->vid_fd);
}

TEST_F(ioctls, create_ebusy_before_initialize)
{
	int part_fd = vid_partition_create(self->vid_fd, 0);

	ASSERT_LE(0, part_fd);
	ASSERT_ERRNO(EBUSY, vmbus_create(part_fd, 0, 0));
	ASSERT_ERRNO(ENODEV, ioctl(part_fd, VID_PARTITION_VMBUS_INFO,
				   &(struct vid_vmbus_info){ 0 }));
	close(part_fd);
}

TEST_F(ioctls, create_eexist_twice)
{
	ASSERT_EQ(0, vmbus_create(self->part_fd, 0, 0));
	ASSERT_ERRNO(EEXIST, vmbus_create(self->part_fd, 0, 0));
}

TEST_F(ioctls, create_eexist_port_taken)
{
	struct vid_port p = {
		.port_id = VID_VMBUS_PORT_BASE, .type = VID_PORT_TYPE_EVENT,
		.target = VID_PORT_TARGET_VMM, .flag_count = 1,
	};
	int efd = eventfd(0, EFD_CLOEXEC);

	p.eventfd = efd;
	ASSERT_EQ(0, ioctl(self->part_fd, VID_PARTITION_CREATE_PORT, &p));
	ASSERT_ERRNO(EEXIST, vmbus_create(self->part_fd, 0, 0));
	/* nothing left behind: a server comes up once the port is gone */
	ASSERT_ERRNO(ENODEV, ioctl(self->part_fd, VID_PARTITION_VMBUS_INFO,
				   &(struct vid_vmbus_info){ 0 }));
	ASSERT_EQ(0, ioctl(self->part_fd, VID_PARTITION_DELETE_PORT,
			   &(struct vid_port_delete){ .port_id = p.port_id }));
	ASSERT_EQ(0, vmbus_create(self->part_fd, 0, 0));
	close(efd);
}

TEST_F(ioctls, create_eexist_connection_taken)
{
	struct vid_port p = {
		.port_id = 5, .type = VID_PORT_TYPE_EVENT,
		.target = VID_PORT_TARGET_VMM, .flag_count = 1,
	};
	struct vid_connection c = { .connection_id = 4, .port_id = 5 };
	int efd = eventfd(0, EFD_CLOEXEC);

	p.eventfd = efd;
	ASSERT_EQ(0, ioctl(self->part_fd, VID_PARTITION_CREATE_PORT, &p));
	ASSERT_EQ(0, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT, &c));
	ASSERT_ERRNO(EEXIST, vmbus_create(self->part_fd, 0, 0));
	ASSERT_ERRNO(ENODEV, ioctl(self->part_fd, VID_PARTITION_VMBUS_INFO,
				   &(struct vid_vmbus_info){ 0 }));
	/* its port and connection 1 were undone: it works now */
	c.port_id = 0;
	ASSERT_EQ(0, ioctl(self->part_fd, VID_PARTITION_DISCONNECT_PORT, &c));
	ASSERT_EQ(0, vmbus_create(self->part_fd, 0, 0));
	close(efd);
}

/* The server's ports and connections are not the VMM's any more. */
TEST_F(ioctls, server_ids_ebusy_for_vmm)
{
	struct vid_port p = {
		.port_id = VID_VMBUS_PORT_BASE + 5,
		.type = VID_PORT_TYPE_EVENT, .target = VID_PORT_TARGET_VMM,
		.flag_count = 1,
	};
	struct vid_connection c = { .connection_id = 1, .port_id = 7 };
	struct vid_port_delete d = { .port_id = VID_VMBUS_PORT_BASE };
	int efd = eventfd(0, EFD_CLOEXEC);

	p.eventfd = efd;
	ASSERT_EQ(0, vmbus_create(self->part_fd, 0, 0));
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd, VID_PARTITION_CREATE_PORT,
				  &p));
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd, VID_PARTITION_DELETE_PORT,
				  &d));
	p.port_id = 7;
	ASSERT_EQ(0, ioctl(self->part_fd, VID_PARTITION_CREATE_PORT, &p));
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT,
				  &c));
	c.connection_id = 4;
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT,
				  &c));
	c.connection_id = VID_VMBUS_CHANNEL_CONNECTION_BASE + 1;
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT,
				  &c));
	c.connection_id = VID_VMBUS_CHANNEL_CONNECTION_BASE +
			  VID_VMBUS_MAX_CHANNELS;
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT,
				  &c));
	c.port_id = 0;
	c.connection_id = 4;
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd,
				  VID_PARTITION_DISCONNECT_PORT, &c));
	/* ids around them are the VMM's */
	c.port_id = 7;
	c.connection_id = VID_VMBUS_CHANNEL_CONNECTION_BASE;
	ASSERT_EQ(0, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT, &c));
	c.connection_id = 2;
	ASSERT_EQ(0, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT, &c));
	close(efd);
}

TEST_F(ioctls, create_einval)
{
	struct vid_vmbus_create c;

	memset(&c, 0, sizeof(c));
	c.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_VMBUS_CREATE,
				   &c));
	memset(&c, 0, sizeof(c));
	c.reserved32 = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_VMBUS_CREATE,
				   &c));
	memset(&c, 0, sizeof(c));
	c.reserved[0] = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_VMBUS_CREATE,
				   &c));
	memset(&c, 0, sizeof(c));
	c.reserved[1] = 1ULL << 63;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_VMBUS_CREATE,
				   &c));
	ASSERT_ERRNO(EINVAL, vmbus_create(self->part_fd, 0x00020000, 0));
	ASSERT_ERRNO(EINVAL, vmbus_create(self->part_fd, 0x00050004, 0));
	ASSERT_ERRNO(EINVAL, vmbus_create(self->part_fd, 0x000d, 0));
	ASSERT_ERRNO(EINVAL, vmbus_create(self->part_fd, 0,
					  VID_VMBUS_MAX_CHANNELS + 1));
	/* none of that made a server */
	ASSERT_ERRNO(ENODEV, ioctl(self->part_fd, VID_PARTITION_VMBUS_INFO,
				   &(struct vid_vmbus_info){ 0 }));
	ASSERT_EQ(0, vmbus_create(self->part_fd, VID_VMBUS_VERSION_WIN7,
				  VID_VMBUS_MAX_CHANNELS));
}

TEST_F(ioctls, info_enodev)
{
	struct vid_vmbus_info i;

	ASSERT_ERRNO(ENODEV, ioctl(self->part_fd, VID_PARTITION_VMBUS_INFO,
				   &i));
	ASSERT_EQ(0, vmbus_create(self->part_fd, 0, 0));
	ASSERT_EQ(0, ioctl(self->part_fd, VID_PARTITION_VMBUS_INFO, &i));
	EXPECT_EQ(0, i.version);
	EXPECT_EQ(0, i.channels);
	EXPECT_EQ(0, i.messages);
}

TEST_F(ioctls, offer_enodev)
{
	struct vid_vmbus_offer o;

	ASSERT_ERRNO(ENODEV, vmbus_offer(self->part_fd, echo_class, 1,
					 VID_VMBUS_OFFER_KERNEL, &o));
	ASSERT_ERRNO(ENODEV, vmbus_offer(self->part_fd, user_class, 1, 0,
					 &o));
}

TEST_F(ioctls, offer_enoent)
{
	struct vid_vmbus_offer o;

	ASSERT_EQ(0, vmbus_create(self->part_fd, 0, 0));
	ASSERT_ERRNO(ENOENT, vmbus_offer(self->part_fd, user_class, 1,
					 VID_VMBUS_OFFER_KERNEL, &o));
	EXPECT_EQ(0, vmbus_info(self->part_fd).channels);
}

TEST_F(ioctls, offer_enospc)
{
	struct vid_vmbus_offer o;
	int fd[2];

	ASSERT_EQ(0, vmbus_create(self->part_fd, 0, 2));
	fd[0] = vmbus_offer(self->part_fd, user_class, 1, 0, &o);
	ASSERT_LE(0, fd[0]);
	EXPECT_EQ(1, o.relid);
	fd[1] = vmbus_offer(self->part_fd, echo_class, 2,
			    VID_VMBUS_OFFER_KERNEL, &o);
	ASSERT_LE(0, fd[1]);
	EXPECT_EQ(2, o.relid);
	ASSERT_ERRNO(ENOSPC, vmbus_offer(self->part_fd, user_class, 3, 0,
					 &o));
	EXPECT_EQ(2, vmbus_info(self->part_fd).channels);
	/* a guest that never saw the offer: the relid is free at once */
	close(fd[0]);
	EXPECT_EQ(1, vmbus_info(self->part_fd).channels);
	fd[0] = vmbus_offer(self->part_fd, user_class, 3, 0, &o);
	ASSERT_LE(0, fd[0]);
	EXPECT_EQ(1, o.relid);
	close(fd[0]);
	close(fd[1]);
}

TEST_F(ioctls, offer_einval)
{
	struct vid_vmbus_offer o;

	ASSERT_EQ(0, vmbus_create(self->part_fd, 0, 0));
#define OFFER_EINVAL(field, value) do {					\
	memset(&o, 0, sizeof(o));					\
	memcpy(o.type, user_class, 16);					\
	o.field = value;						\
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd,			\
				   VID_PARTITION_VMBUS_OFFER, &o));	\
} while (0)
	OFFER_EINVAL(flags, 0x4);
	OFFER_EINVAL(flags, 0x80000000);
	OFFER_EINVAL(reserved16, 1);
	OFFER_EINVAL(relid, 1);
	OFFER_EINVAL(connection_id, 0x2001);
	OFFER_EINVAL(reserved32, 1);
	OFFER_EINVAL(reserved[0], 1);
	OFFER_EINVAL(reserved[1], 1);
#undef OFFER_EINVAL
	EXPECT_EQ(0, vmbus_info(self->part_fd).channels);
}

TEST_F(ioctls, channel_fd_errors)
{
	struct vid_vmbus_eventfd e = { .eventfd = -1 };
	struct vid_vmbus_offer o;
	struct vid_vmbus_event ev;
	int fd, kfd, efd, pfd[2];
	char small[8];

	ASSERT_EQ(0, vmbus_create(self->part_fd, 0, 0));
	fd = vmbus_offer(self->part_fd, user_class, 1,
			 VID_VMBUS_OFFER_NONBLOCK, &o);
	ASSERT_LE(0, fd);
	kfd = vmbus_offer(self->part_fd, echo_class, 2,
			  VID_VMBUS_OFFER_KERNEL, &o);
	ASSERT_LE(0, kfd);
	EXPECT_EQ(O_RDWR | O_NONBLOCK, fcntl(fd, F_GETFL) &
		  (O_ACCMODE | O_NONBLOCK));
	EXPECT_EQ(O_RDWR, fcntl(kfd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* read: a buffer smaller than a record; nothing queued */
	ASSERT_ERRNO(EINVAL, read(fd, small, sizeof(small)));
	ASSERT_ERRNO(EAGAIN, read(fd, &ev, sizeof(ev)));
	/* mmap: not open; a private mapping; an offset */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd,
				   0));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED, kfd, 0));
	/* SIGNAL: not open; a kernel channel */
	ASSERT_ERRNO(ENOTCONN, ioctl(fd, VID_VMBUS_CHANNEL_SIGNAL));
	ASSERT_ERRNO(EINVAL, ioctl(kfd, VID_VMBUS_CHANNEL_SIGNAL));
	/* EVENTFD: no such fd, not an eventfd, flags, reserved, kernel */
	e.eventfd = 9999;
	ASSERT_ERRNO(EBADF, ioctl(fd, VID_VMBUS_CHANNEL_EVENTFD, &e));
	ASSERT_EQ(0, pipe(pfd));
	e.eventfd = pfd[0];
	ASSERT_ERRNO(EINVAL, ioctl(fd, VID_VMBUS_CHANNEL_EVENTFD, &e));
	efd = eventfd(0, EFD_CLOEXEC);
	e.eventfd = efd;
	e.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(fd, VID_VMBUS_CHANNEL_EVENTFD, &e));
	e.flags = 0;
	e.reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(fd, VID_VMBUS_CHANNEL_EVENTFD, &e));
	e.reserved = 0;
	ASSERT_ERRNO(EINVAL, ioctl(kfd, VID_VMBUS_CHANNEL_EVENTFD, &e));
	ASSERT_EQ(0, ioctl(fd, VID_VMBUS_CHANNEL_EVENTFD, &e));
	e.eventfd = -1;
	ASSERT_EQ(0, ioctl(fd, VID_VMBUS_CHANNEL_EVENTFD, &e));
	/* unknown ioctls */
	ASSERT_ERRNO(ENOTTY, ioctl(fd, _IO(VIDIO, 0x4f)));
	ASSERT_ERRNO(ENOTTY, ioctl(fd, VID_PARTITION_VMBUS_INFO, &o));
	close(pfd[0]);
	close(pfd[1]);
	close(efd);
	close(fd);
	close(kfd);
	EXPECT_EQ(0, vmbus_info(self->part_fd).channels);
}

TEST_HARNESS_MAIN
