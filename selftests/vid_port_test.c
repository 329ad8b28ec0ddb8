// SPDX-License-Identifier: GPL-2.0
/*
 * Ports and connections (VID_PARTITION_CREATE_PORT and the calls after
 * it; uapi/linux/vid.h).
 *
 * Host side: every error path of every call, one test each (the
 * create_port ones as fixture variants), each also checking that the
 * failed call changed nothing; ids at the ends of their range; the
 * per-partition limits and the deposit pool (a dry pool is -ENOMEM, the
 * limit -ENOSPC); the queue fd (flags, read sizes, non-blocking reads,
 * poll, end of file once the port is gone, outliving the partition);
 * stats back to baseline after every partition, after a SIGKILLed VMM
 * included.
 *
 * Guest side (C guests, lib_cguest.h): HvSignalEvent wakes the VMM's
 * eventfd, HvPostMessage lands in the VMM's queue with its exact
 * payload, a full queue is INSUFFICIENT_BUFFERS, unknown connections,
 * deleted ports, wrong port types and bad parameters give the TLFS
 * statuses; two VPs signal at once while the VMM changes the tables; a
 * blocked reader wakes. With the SynIC: ports into the guest's own SynIC
 * (message slot, event flags) and the VMM's direct post and signal, and
 * the VMM's eventfd told when a slot that refused it is free again.
 * These need the hypercall interface (GUEST_OS_ID, the hypercall page)
 * and the SynIC; a test whose guest finds them missing skips, saying
 * which.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib_cguest.h"

#define MAX_VPS		2

/* TLFS hypercall and status numbers the guests use. */
#define HVCALL_POST_MESSAGE		0x005c
#define HVCALL_SIGNAL_EVENT		0x005d
#define HV_HYPERCALL_FAST		0x10000ULL
#define HV_STATUS_SUCCESS		0
#define HV_STATUS_INVALID_HYPERCALL_INPUT 3
#define HV_STATUS_INVALID_PARAMETER	5
#define HV_STATUS_INVALID_VP_INDEX	0xe
#define HV_STATUS_INVALID_PORT_ID	0x11
#define HV_STATUS_INVALID_CONNECTION_ID	0x12
#define HV_STATUS_INSUFFICIENT_BUFFERS	0x13
#define HV_STATUS_INVALID_VP_STATE	0x15

#define HV_MSR_GUEST_OS_ID		0x40000000
#define HV_MSR_HYPERCALL		0x40000001
#define HV_MSR_SCONTROL			0x40000080
#define HV_MSR_SIEFP			0x40000082
#define HV_MSR_SIMP			0x40000083
#define HV_MSR_EOM			0x40000084
#define HV_MSR_SINT0			0x40000090

/* A Linux-style guest OS id (open source, vendor 0x81). */
#define GUEST_OS_ID			0x8100000000060100ULL

/* Guest memory the tests use (C guest RAM from VID_CGUEST_DATA_GPA). */
#define HYPERCALL_GPA		VID_CGUEST_DATA_GPA
#define SIMP_GPA		(VID_CGUEST_DATA_GPA + 0x1000)
#define SIEF_GPA		(VID_CGUEST_DATA_GPA + 0x2000)
#define INPUT_GPA(vp)		(VID_CGUEST_DATA_GPA + 0x10000 * (1 + (vp)))

/* Guest result for a hypercall that raised an exception instead. */
#define HC_FAULT		0x8000000000000000ULL

/* GUEST_SYNC tags. */
enum {
	SYNC_PROBE = 1,
	SYNC_STATUS,
	SYNC_SYNIC,
	SYNC_LOOP,
};

/*
 * Host side helpers.
 */
static int ioctl_port(int fd, const struct vid_port *p)
{
	return ioctl(fd, VID_PARTITION_CREATE_PORT, p);
}

static int ioctl_delete(int fd, uint32_t port_id)
{
	struct vid_port_delete d = { .port_id = port_id };

	return ioctl(fd, VID_PARTITION_DELETE_PORT, &d);
}

static int ioctl_connect(int fd, uint32_t conn, uint32_t port_id)
{
	struct vid_connection c = { .connection_id = conn,
				    .port_id = port_id };

	return ioctl(fd, VID_PARTITION_CONNECT_PORT, &c);
}

static int ioctl_disconnect(int fd, uint32_t conn)
{
	struct vid_connection c = { .connection_id = conn };

	return ioctl(fd, VID_PARTITION_DISCONNECT_PORT, &c);
}

static int ioctl_sint_notify(int fd, int efd, uint32_t flags)
{
	struct vid_sint_notify n = { .eventfd = efd, .flags = flags };

	return ioctl(fd, VID_PARTITION_SINT_NOTIFY, &n);
}

static struct vid_port guest_event_port(uint32_t id, uint32_t vp,
					uint8_t sint, uint16_t base,
					uint16_t count)
{
	struct vid_port p = {
		.port_id = id, .type = VID_PORT_TYPE_EVENT,
		.target = VID_PORT_TARGET_GUEST, .vp_index = vp,
		.sint = sint, .base_flag = base, .flag_count = count,
	};

	return p;
}

static struct vid_port guest_msg_port(uint32_t id, uint32_t vp, uint8_t sint)
{
	struct vid_port p = {
		.port_id = id, .type = VID_PORT_TYPE_MESSAGE,
		.target = VID_PORT_TARGET_GUEST, .vp_index = vp, .sint = sint,
	};

	return p;
}

static struct vid_port vmm_event_port(uint32_t id, int efd, uint16_t count)
{
	struct vid_port p = {
		.port_id = id, .type = VID_PORT_TYPE_EVENT,
		.target = VID_PORT_TARGET_VMM, .flag_count = count,
		.eventfd = efd,
	};

	return p;
}

static struct vid_port vmm_msg_port(uint32_t id, uint32_t length,
				    uint32_t flags)
{
	struct vid_port p = {
		.port_id = id, .type = VID_PORT_TYPE_MESSAGE,
		.target = VID_PORT_TARGET_VMM, .queue_length = length,
		.flags = flags,
	};

	return p;
}

static uint64_t eventfd_count(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Wait at most @ms for @events on @fd; returns revents. */
static short poll_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/*
 * For teardowns: the stats are back to @base. No ASSERT_*() there: with
 * the 6.1 harness one after a failed assertion in the test re-enters the
 * teardown forever.
 */
static void expect_stats(struct __test_metadata *_metadata,
			 const struct vid_stats *base)
{
	struct vid_stats now;
	int r = vid_stats_read(&now);

	if (r || !vid_stats_equal(base, &now)) {
		TH_LOG("stats not back to baseline (%s): partitions %llu/%llu objects %llu/%llu bytes %llu/%llu pages %llu/%llu",
		       r ? strerror(-r) : "read",
		       (unsigned long long)now.partitions,
		       (unsigned long long)base->partitions,
		       (unsigned long long)now.objects,
		       (unsigned long long)base->objects,
		       (unsigned long long)now.bytes,
		       (unsigned long long)base->bytes,
		       (unsigned long long)now.pages,
		       (unsigned long long)base->pages);
		_metadata->passed = 0;
	}
}

/*
 * A partition for host-side tests: initialized, VP count MAX_VPS, a
 * stats baseline taken after a warm-up.
 */
FIXTURE(port)
{
	int vid_fd;
	int part_fd;
	int efd;
	struct vid_stats base;
};

FIXTURE_SETUP(port)
{
	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
	ASSERT_VID(0, vid_test_warmup(self->vid_fd, 2));
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	ASSERT_STATS_READ(&self->base);
	self->part_fd = vid_test_partition(self->vid_fd, "ports", 0, false);
	ASSERT_LE(0, self->part_fd);
	ASSERT_VID(0, vid_prop_set_u64(self->part_fd, VID_PROP_MAX_VP_COUNT,
				       MAX_VPS));
	ASSERT_VID(0, vid_partition_initialize(self->part_fd));
}

FIXTURE_TEARDOWN(port)
{
	if (self->part_fd >= 0)
		close(self->part_fd);
	close(self->efd);
	expect_stats(_metadata, &self->base);
	close(self->vid_fd);
}

TEST_F(port, capability)
{
	EXPECT_EQ(VID_PORT_MAX, vid_check_cap(self->vid_fd, VID_CAP_PORTS));
}

/* Each kind of port, connected, and taken apart again. */
TEST_F(port, create_delete_every_kind)
{
	struct vid_port p[4] = {
		guest_event_port(1, 0, 2, 0, 8),
		guest_msg_port(2, MAX_VPS - 1, 15),
		vmm_event_port(3, self->efd, 2048),
		vmm_msg_port(4, 1, 0),
	};
	int qfd, i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ioctl_port(self->part_fd, &p[i]));
	qfd = ioctl_port(self->part_fd, &p[3]);
	ASSERT_LE(3, qfd) TH_LOG("queue fd: %s", strerror(errno));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, ioctl_connect(self->part_fd, 0x100 + i, i + 1));
	/* Two connections may lead to one port. */
	ASSERT_EQ(0, ioctl_connect(self->part_fd, 0x200, 1));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, ioctl_disconnect(self->part_fd, 0x100 + i));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, ioctl_delete(self->part_fd, i + 1));
	ASSERT_EQ(0, ioctl_disconnect(self->part_fd, 0x200));
	close(qfd);
}

/* Full guest event range; ids 0 and VID_PORT_ID_MAX are ports too. */
TEST_F(port, range_ends)
{
	struct vid_port p = guest_event_port(0, 0, 1, 0, 2048);

	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	p = guest_event_port(VID_PORT_ID_MAX, 0, 15, 2047, 1);
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	ASSERT_EQ(0, ioctl_connect(self->part_fd, 0, VID_PORT_ID_MAX));
	ASSERT_EQ(0, ioctl_connect(self->part_fd, VID_PORT_ID_MAX, 0));
	p = vmm_msg_port(5, VID_PORT_QUEUE_MAX, 0);
	close(ioctl_port(self->part_fd, &p));
}

TEST_F(port, create_duplicate_eexist)
{
	struct vid_port p = guest_event_port(7, 0, 2, 0, 1);
	struct vid_port other = vmm_event_port(7, self->efd, 1);
	struct vid_port queue = vmm_msg_port(7, 4, 0);

	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	ASSERT_ERRNO(EEXIST, ioctl_port(self->part_fd, &p));
	ASSERT_ERRNO(EEXIST, ioctl_port(self->part_fd, &other));
	/* No queue fd is left behind by the failure. */
	ASSERT_ERRNO(EEXIST, ioctl_port(self->part_fd, &queue));
	ASSERT_EQ(0, ioctl_delete(self->part_fd, 7));
	ASSERT_EQ(0, ioctl_port(self->part_fd, &other));
}

TEST_F(port, create_efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->part_fd, VID_PARTITION_CREATE_PORT,
				   vid_test_fault_page()));
	ASSERT_ERRNO(EFAULT, ioctl(self->part_fd, VID_PARTITION_DELETE_PORT,
				   vid_test_fault_page()));
	ASSERT_ERRNO(EFAULT, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT,
				   vid_test_fault_page()));
	ASSERT_ERRNO(EFAULT, ioctl(self->part_fd,
				   VID_PARTITION_DISCONNECT_PORT,
				   vid_test_fault_page()));
	ASSERT_ERRNO(EFAULT, ioctl(self->part_fd, VID_PARTITION_POST_MESSAGE,
				   vid_test_fault_page()));
	ASSERT_ERRNO(EFAULT, ioctl(self->part_fd, VID_PARTITION_SIGNAL_EVENT,
				   vid_test_fault_page()));
}

/* The VMM's eventfd reference goes with the port; the eventfd lives on. */
TEST_F(port, eventfd_reference)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct vid_port p = vmm_event_port(1, efd, 1);
	uint64_t one = 1;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	/* The port holds its own reference: closing ours is fine. */
	ASSERT_EQ(0, close(efd));
	ASSERT_EQ(0, ioctl_delete(self->part_fd, 1));
	p = vmm_event_port(1, self->efd, 1);
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	ASSERT_EQ(0, ioctl_delete(self->part_fd, 1));
	ASSERT_EQ(sizeof(one), write(self->efd, &one, sizeof(one)));
	EXPECT_EQ(1, eventfd_count(self->efd));
}

TEST_F(port, delete_errors)
{
	struct vid_port_delete d = { .port_id = 1 };
	struct vid_port p = guest_msg_port(1, 0, 1);

	ASSERT_ERRNO(ENOENT, ioctl_delete(self->part_fd, 1));
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	d.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_DELETE_PORT,
				   &d));
	d.flags = 0;
	d.reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_DELETE_PORT,
				   &d));
	ASSERT_ERRNO(EINVAL, ioctl_delete(self->part_fd, 1 | 0x1000000));
	/* None of the failures deleted it. */
	ASSERT_ERRNO(EEXIST, ioctl_port(self->part_fd, &p));
	ASSERT_EQ(0, ioctl_delete(self->part_fd, 1));
	ASSERT_ERRNO(ENOENT, ioctl_delete(self->part_fd, 1));
	ASSERT_ERRNO(ENOENT, ioctl_delete(self->part_fd, 2));
}

TEST_F(port, connect_errors)
{
	struct vid_connection c = { .connection_id = 9, .port_id = 1 };
	struct vid_port p = guest_msg_port(1, 0, 1);

	/* No such port (no port at all, then another id). */
	ASSERT_ERRNO(ENOENT, ioctl_connect(self->part_fd, 9, 1));
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	ASSERT_ERRNO(ENOENT, ioctl_connect(self->part_fd, 9, 2));
	c.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT,
				   &c));
	c.flags = 0x80000000;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT,
				   &c));
	c.flags = 0;
	c.reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_CONNECT_PORT,
				   &c));
	ASSERT_ERRNO(EINVAL, ioctl_connect(self->part_fd, 0x1000000, 1));
	ASSERT_ERRNO(EINVAL, ioctl_connect(self->part_fd, 9, 0x1000001));
	/* None of that connected 9. */
	ASSERT_ERRNO(ENOENT, ioctl_disconnect(self->part_fd, 9));
	ASSERT_EQ(0, ioctl_connect(self->part_fd, 9, 1));
	ASSERT_ERRNO(EEXIST, ioctl_connect(self->part_fd, 9, 1));
	ASSERT_ERRNO(EEXIST, ioctl_connect(self->part_fd, 9, 2));
}

TEST_F(port, disconnect_errors)
{
	struct vid_connection c = { .connection_id = 9 };
	struct vid_port p = guest_msg_port(1, 0, 1);

	ASSERT_ERRNO(ENOENT, ioctl_disconnect(self->part_fd, 9));
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	ASSERT_EQ(0, ioctl_connect(self->part_fd, 9, 1));
	c.port_id = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd,
				   VID_PARTITION_DISCONNECT_PORT, &c));
	c.port_id = 0;
	c.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd,
				   VID_PARTITION_DISCONNECT_PORT, &c));
	c.flags = 0;
	c.reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd,
				   VID_PARTITION_DISCONNECT_PORT, &c));
	ASSERT_ERRNO(EINVAL, ioctl_disconnect(self->part_fd, 9 | 0x1000000));
	ASSERT_ERRNO(EEXIST, ioctl_connect(self->part_fd, 9, 1));
	ASSERT_EQ(0, ioctl_disconnect(self->part_fd, 9));
	ASSERT_ERRNO(ENOENT, ioctl_disconnect(self->part_fd, 9));
}

/*
 * A connection outlives its port: it cannot be made to a missing port,
 * but one that exists stays when its port goes, and works again when a
 * port with that id comes back (the guest side is in guest_*).
 */
TEST_F(port, connection_outlives_port)
{
	struct vid_port p = guest_msg_port(1, 0, 1);

	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	ASSERT_EQ(0, ioctl_connect(self->part_fd, 9, 1));
	ASSERT_EQ(0, ioctl_delete(self->part_fd, 1));
	ASSERT_ERRNO(ENOENT, ioctl_connect(self->part_fd, 10, 1));
	ASSERT_ERRNO(EEXIST, ioctl_connect(self->part_fd, 9, 1));
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	ASSERT_EQ(0, ioctl_connect(self->part_fd, 10, 1));
	ASSERT_EQ(0, ioctl_disconnect(self->part_fd, 9));
}

/* VID_PORT_MAX ports, then -ENOSPC; one deleted makes room for one. */
TEST_F(port, port_limit)
{
	struct vid_port p;
	uint32_t i;

	for (i = 0; i < VID_PORT_MAX; i++) {
		p = i & 1 ? guest_msg_port(i * 0x10001, 0, 1 + i % 15) :
			    guest_event_port(i * 0x10001, 1, 1, i, 1);
		ASSERT_EQ(0, ioctl_port(self->part_fd, &p))
			TH_LOG("port %u: %s", i, strerror(errno));
	}
	p = guest_msg_port(0xabcdef, 0, 1);
	ASSERT_ERRNO(ENOSPC, ioctl_port(self->part_fd, &p));
	p = vmm_event_port(0xabcdef, self->efd, 1);
	ASSERT_ERRNO(ENOSPC, ioctl_port(self->part_fd, &p));
	p = vmm_msg_port(0xabcdef, 1, 0);
	ASSERT_ERRNO(ENOSPC, ioctl_port(self->part_fd, &p));
	/* Duplicates are still reported as such at the limit. */
	p = guest_msg_port(0, 0, 1);
	ASSERT_ERRNO(EEXIST, ioctl_port(self->part_fd, &p));
	ASSERT_EQ(0, ioctl_delete(self->part_fd, 5 * 0x10001));
	p = guest_msg_port(0xabcdef, 0, 1);
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	p = guest_msg_port(0xabcdee, 0, 1);
	ASSERT_ERRNO(ENOSPC, ioctl_port(self->part_fd, &p));
}

TEST_F(port, connection_limit)
{
	struct vid_port p = guest_msg_port(1, 0, 1);
	uint32_t i;

	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	for (i = 0; i < VID_CONNECTION_MAX; i++)
		ASSERT_EQ(0, ioctl_connect(self->part_fd, i * 0xfff1, 1))
			TH_LOG("connection %u: %s", i, strerror(errno));
	ASSERT_ERRNO(ENOSPC, ioctl_connect(self->part_fd, 0x123456, 1));
	/* Ports and connections are counted apart. */
	p = guest_msg_port(2, 0, 1);
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	ASSERT_EQ(0, ioctl_disconnect(self->part_fd, 3 * 0xfff1));
	ASSERT_EQ(0, ioctl_connect(self->part_fd, 0x123456, 2));
	ASSERT_ERRNO(ENOSPC, ioctl_connect(self->part_fd, 0x123457, 2));
}

/*
 * The tables come from the deposit pool: without auto-deposit a dry
 * pool is -ENOMEM, and each deposited page lets the call get further;
 * the limits, not memory, bound what a partition takes (a few pages).
 */
TEST_F(port, pool_pages)
{
	struct vid_port p = vmm_msg_port(1, 2, 0);
	uint64_t dep0, avail0, dep, avail;
	int qfd, tries = 0;
	uint32_t i;

	ASSERT_VID(0, vid_prop_set_u64(self->part_fd, VID_PROP_AUTO_DEPOSIT,
				       0));
	ASSERT_VID(0, vid_test_pool(self->part_fd, &dep0, &avail0));
	if (avail0)
		ASSERT_EQ((int64_t)avail0,
			  vid_partition_withdraw(self->part_fd, avail0));
	ASSERT_VID(0, vid_test_pool(self->part_fd, &dep0, &avail0));
	ASSERT_EQ(0, avail0);

	/* No queue fd or eventfd reference is left by the failures. */
	for (;;) {
		qfd = ioctl_port(self->part_fd, &p);
		if (qfd >= 0)
			break;
		ASSERT_EQ(ENOMEM, errno);
		ASSERT_GT(8, ++tries);
		ASSERT_VID(0, vid_partition_deposit(self->part_fd, 1));
	}
	EXPECT_LE(1, tries);
	ASSERT_VID(0, vid_test_pool(self->part_fd, &dep, &avail));
	EXPECT_EQ(0, avail);

	/* The rest fits in what was taken, or in a few more pages. */
	ASSERT_VID(0, vid_prop_set_u64(self->part_fd, VID_PROP_AUTO_DEPOSIT,
				       1));
	for (i = 2; i <= VID_PORT_MAX; i++) {
		p = guest_event_port(i, 0, 1, 0, 1);
		ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	}
	for (i = 0; i < VID_CONNECTION_MAX; i++)
		ASSERT_EQ(0, ioctl_connect(self->part_fd, i, 1 + i % 8));
	ASSERT_VID(0, vid_test_pool(self->part_fd, &dep, &avail));
	EXPECT_GE(9, dep - avail - dep0)
		TH_LOG("%llu pages for the port tables",
		       (unsigned long long)(dep - avail - dep0));
	close(qfd);
}

TEST_F(port, wrong_fd_enotty)
{
	struct vid_port p = guest_msg_port(1, 0, 1);
	int vp_fd = vid_vp_create(self->part_fd, 0);

	ASSERT_LE(0, vp_fd);
	ASSERT_ERRNO(ENOTTY, ioctl(vp_fd, VID_PARTITION_CREATE_PORT, &p));
	ASSERT_ERRNO(ENOTTY, ioctl(self->vid_fd, VID_PARTITION_CREATE_PORT,
				   &p));
	close(vp_fd);
}

/* Before VID_PARTITION_INITIALIZE ports cannot be made: -EBUSY. */
TEST(before_initialize_ebusy)
{
	struct vid_port p = guest_msg_port(1, 0, 1);
	struct vid_signal_event s = { 0 };
	struct vid_post_message m = { 0 };
	struct vid_stats base, now;
	int vid_fd, part_fd, efd;

	VID_OPEN_OR_SKIP(vid_fd);
	ASSERT_VID(0, vid_test_warmup(vid_fd, 1));
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_STATS_READ(&base);
	part_fd = vid_test_partition(vid_fd, NULL, 0, false);
	ASSERT_LE(0, part_fd);
	ASSERT_ERRNO(EBUSY, ioctl_port(part_fd, &p));
	p = vmm_event_port(1, efd, 1);
	ASSERT_ERRNO(EBUSY, ioctl_port(part_fd, &p));
	p = vmm_msg_port(1, 1, 0);
	ASSERT_ERRNO(EBUSY, ioctl_port(part_fd, &p));
	ASSERT_ERRNO(EBUSY, ioctl_connect(part_fd, 1, 1));
	ASSERT_ERRNO(ENOENT, ioctl_delete(part_fd, 1));
	ASSERT_ERRNO(ENOENT, ioctl_disconnect(part_fd, 1));
	m.message.message_type = 1;
	ASSERT_ERRNO(EBUSY, ioctl(part_fd, VID_PARTITION_POST_MESSAGE, &m));
	ASSERT_ERRNO(EBUSY, ioctl(part_fd, VID_PARTITION_SIGNAL_EVENT, &s));
	ASSERT_ERRNO(EBUSY, ioctl_sint_notify(part_fd, efd, 0));
	close(part_fd);
	close(efd);
	ASSERT_STATS_READ(&now);
	ASSERT_STATS_EQ(&base, &now);
	close(vid_fd);
}

/*
 * VID_PARTITION_CREATE_PORT error paths: a valid port of one kind with
 * one thing wrong; the call fails with exactly the errno and creates
 * nothing (the same port without the fault then succeeds).
 */
enum port_kind { GUEST_EVENT, GUEST_MSG, VMM_EVENT, VMM_MSG };

struct create_ctx {
	int efd;	/* an eventfd */
	int pipe_fd;	/* an fd that is not an eventfd */
};

FIXTURE(create_err)
{
	int vid_fd;
	int part_fd;
	struct create_ctx ctx;
	int pipe_wr;
	struct vid_stats base;
};

FIXTURE_VARIANT(create_err)
{
	enum port_kind kind;
	void (*mutate)(struct vid_port *p, const struct create_ctx *c);
	int err;
};

#define CREATE_ERR(name, k, e, stmt)					\
	static void mutate_##name(struct vid_port *p,			\
				  const struct create_ctx *c)		\
	{								\
		(void)c;						\
		stmt;							\
	}								\
	FIXTURE_VARIANT_ADD(create_err, name) {				\
		.kind = k, .mutate = mutate_##name, .err = e,		\
	}

CREATE_ERR(flags_unknown, GUEST_EVENT, EINVAL, p->flags = 2);
CREATE_ERR(flags_high, VMM_MSG, EINVAL, p->flags = 0x80000000);
CREATE_ERR(nonblock_guest, GUEST_MSG, EINVAL,
	   p->flags = VID_PORT_QUEUE_NONBLOCK);
CREATE_ERR(nonblock_vmm_event, VMM_EVENT, EINVAL,
	   p->flags = VID_PORT_QUEUE_NONBLOCK);
CREATE_ERR(reserved8, GUEST_EVENT, EINVAL, p->reserved8 = 1);
CREATE_ERR(reserved16, VMM_MSG, EINVAL, p->reserved16 = 1);
CREATE_ERR(reserved32, VMM_EVENT, EINVAL, p->reserved32 = 1);
CREATE_ERR(reserved0, GUEST_MSG, EINVAL, p->reserved[0] = 1);
CREATE_ERR(reserved1, GUEST_EVENT, EINVAL, p->reserved[1] = 1ULL << 63);
CREATE_ERR(type_zero, GUEST_MSG, EINVAL, p->type = 0);
CREATE_ERR(type_monitor, GUEST_MSG, EINVAL, p->type = 3);
CREATE_ERR(target_zero, GUEST_EVENT, EINVAL, p->target = 0);
CREATE_ERR(target_three, VMM_EVENT, EINVAL, p->target = 3);
CREATE_ERR(port_id_25_bits, GUEST_MSG, EINVAL, p->port_id |= 0x1000000);
CREATE_ERR(port_id_all_ones, VMM_MSG, EINVAL, p->port_id = 0xffffffff);
CREATE_ERR(guest_sint_zero, GUEST_MSG, EINVAL, p->sint = 0);
CREATE_ERR(guest_sint_16, GUEST_EVENT, EINVAL, p->sint = 16);
CREATE_ERR(guest_vp_count, GUEST_MSG, EINVAL, p->vp_index = MAX_VPS);
CREATE_ERR(guest_vp_all_ones, GUEST_EVENT, EINVAL, p->vp_index = ~0U);
CREATE_ERR(guest_eventfd, GUEST_EVENT, EINVAL, p->eventfd = c->efd);
CREATE_ERR(guest_queue_length, GUEST_MSG, EINVAL, p->queue_length = 1);
CREATE_ERR(guest_event_count_zero, GUEST_EVENT, EINVAL, p->flag_count = 0);
CREATE_ERR(guest_event_count_2049, GUEST_EVENT, EINVAL,
	   p->flag_count = 2049);
CREATE_ERR(guest_event_range_over, GUEST_EVENT, EINVAL,
	   { p->base_flag = 2040; p->flag_count = 9; });
CREATE_ERR(guest_event_base_max, GUEST_EVENT, EINVAL,
	   { p->base_flag = 0xffff; p->flag_count = 1; });
CREATE_ERR(guest_msg_flag_count, GUEST_MSG, EINVAL, p->flag_count = 1);
CREATE_ERR(guest_msg_base_flag, GUEST_MSG, EINVAL, p->base_flag = 1);
CREATE_ERR(vmm_event_fd_negative, VMM_EVENT, EBADF, p->eventfd = -1);
CREATE_ERR(vmm_event_fd_closed, VMM_EVENT, EBADF, p->eventfd = 1000);
CREATE_ERR(vmm_event_not_eventfd, VMM_EVENT, EINVAL, p->eventfd = c->pipe_fd);
CREATE_ERR(vmm_event_vp, VMM_EVENT, EINVAL, p->vp_index = 1);
CREATE_ERR(vmm_event_sint, VMM_EVENT, EINVAL, p->sint = 2);
CREATE_ERR(vmm_event_base_flag, VMM_EVENT, EINVAL, p->base_flag = 1);
CREATE_ERR(vmm_event_count_zero, VMM_EVENT, EINVAL, p->flag_count = 0);
CREATE_ERR(vmm_event_count_2049, VMM_EVENT, EINVAL, p->flag_count = 2049);
CREATE_ERR(vmm_event_queue_length, VMM_EVENT, EINVAL, p->queue_length = 1);
CREATE_ERR(vmm_msg_queue_zero, VMM_MSG, EINVAL, p->queue_length = 0);
CREATE_ERR(vmm_msg_queue_over, VMM_MSG, EINVAL,
	   p->queue_length = VID_PORT_QUEUE_MAX + 1);
CREATE_ERR(vmm_msg_eventfd, VMM_MSG, EINVAL, p->eventfd = c->efd);
CREATE_ERR(vmm_msg_flag_count, VMM_MSG, EINVAL, p->flag_count = 1);
CREATE_ERR(vmm_msg_base_flag, VMM_MSG, EINVAL, p->base_flag = 1);
CREATE_ERR(vmm_msg_vp, VMM_MSG, EINVAL, p->vp_index = 1);
CREATE_ERR(vmm_msg_sint, VMM_MSG, EINVAL, p->sint = 1);

FIXTURE_SETUP(create_err)
{
	int fds[2];

	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
	ASSERT_VID(0, vid_test_warmup(self->vid_fd, 1));
	self->ctx.efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->ctx.efd);
	ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
	self->ctx.pipe_fd = fds[0];
	self->pipe_wr = fds[1];
	ASSERT_STATS_READ(&self->base);
	self->part_fd = vid_test_partition(self->vid_fd, NULL, 0, false);
	ASSERT_LE(0, self->part_fd);
	ASSERT_VID(0, vid_prop_set_u64(self->part_fd, VID_PROP_MAX_VP_COUNT,
				       MAX_VPS));
	ASSERT_VID(0, vid_partition_initialize(self->part_fd));
}

FIXTURE_TEARDOWN(create_err)
{
	close(self->part_fd);
	close(self->ctx.efd);
	close(self->ctx.pipe_fd);
	close(self->pipe_wr);
	expect_stats(_metadata, &self->base);
	close(self->vid_fd);
}

TEST_F(create_err, fails)
{
	struct vid_port good, bad;
	int fd_before, fd_after, r;

	switch (variant->kind) {
	case GUEST_EVENT:
		good = guest_event_port(0x42, 1, 3, 16, 16);
		break;
	case GUEST_MSG:
		good = guest_msg_port(0x42, 1, 3);
		break;
	case VMM_EVENT:
		good = vmm_event_port(0x42, self->ctx.efd, 4);
		break;
	default:
		good = vmm_msg_port(0x42, 4, VID_PORT_QUEUE_NONBLOCK);
		break;
	}
	bad = good;
	variant->mutate(&bad, &self->ctx);

	fd_before = dup(self->ctx.efd);
	ASSERT_LE(0, fd_before);
	close(fd_before);
	ASSERT_ERRNO(variant->err, ioctl_port(self->part_fd, &bad));
	/* No fd was installed by the failed call. */
	fd_after = dup(self->ctx.efd);
	EXPECT_EQ(fd_before, fd_after);
	close(fd_after);
	/* Nothing was created: the good port's id is free. */
	r = ioctl_port(self->part_fd, &good);
	ASSERT_LE(0, r) TH_LOG("good port: %s", strerror(errno));
	if (variant->kind == VMM_MSG)
		close(r);
	else
		EXPECT_EQ(0, r);
}

/*
 * Direct post and signal (HvPostMessageDirect, HvSignalEventDirect):
 * the errors that need no guest. A VP that never ran has its SynIC's
 * pages disabled: -EBUSY.
 */
TEST_F(port, post_message_errors)
{
	struct vid_post_message m = { .vp_index = 0, .sint = 2 };
	struct vid_post_message bad;
	int vp_fd;

	m.message.message_type = 0x42;
	m.message.payload_size = 8;
	/* No VP 0 yet, then no VP 1; a VP index beyond the count. */
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_POST_MESSAGE,
				   &m));
	vp_fd = vid_vp_create(self->part_fd, 0);
	ASSERT_LE(0, vp_fd);
	bad = m;
	bad.vp_index = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_POST_MESSAGE,
				   &bad));
	bad.vp_index = MAX_VPS;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_POST_MESSAGE,
				   &bad));
#define POST_EINVAL(stmt) do {						\
	bad = m;							\
	stmt;								\
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd,			\
				   VID_PARTITION_POST_MESSAGE, &bad));	\
} while (0)
	POST_EINVAL(bad.sint = VID_SINT_COUNT);
	POST_EINVAL(bad.flags = 1);
	POST_EINVAL(bad.reserved = 1);
	POST_EINVAL(bad.reserved8 = 1);
	POST_EINVAL(bad.reserved16 = 1);
	POST_EINVAL(bad.message.message_type = VID_MSG_NONE);
	POST_EINVAL(bad.message.payload_size = VID_MESSAGE_PAYLOAD_MAX + 1);
	POST_EINVAL(bad.message.payload_size = 255);
	POST_EINVAL(bad.message.message_flags = 1);
	POST_EINVAL(bad.message.reserved[0] = 1);
	POST_EINVAL(bad.message.reserved[1] = 0x80);
#undef POST_EINVAL
	/* A valid message to a SynIC that cannot take it. */
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd, VID_PARTITION_POST_MESSAGE,
				  &m));
	/* Any type but NONE is the VMM's to send, the hypervisor's too. */
	m.message.message_type = 0x80000010;
	m.message.payload_size = VID_MESSAGE_PAYLOAD_MAX;
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd, VID_PARTITION_POST_MESSAGE,
				  &m));
	close(vp_fd);
}

TEST_F(port, signal_event_errors)
{
	struct vid_signal_event s = { .vp_index = 0, .sint = 2, .flag = 5 };
	struct vid_signal_event bad;
	int vp_fd;

	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_SIGNAL_EVENT,
				   &s));
	vp_fd = vid_vp_create(self->part_fd, 0);
	ASSERT_LE(0, vp_fd);
#define SIGNAL_EINVAL(stmt) do {					\
	bad = s;							\
	stmt;								\
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd,			\
				   VID_PARTITION_SIGNAL_EVENT, &bad));	\
} while (0)
	SIGNAL_EINVAL(bad.vp_index = 1);
	SIGNAL_EINVAL(bad.vp_index = ~0U);
	SIGNAL_EINVAL(bad.sint = VID_SINT_COUNT);
	SIGNAL_EINVAL(bad.flag = VID_EVENT_FLAG_COUNT);
	SIGNAL_EINVAL(bad.flag = 0xffff);
	SIGNAL_EINVAL(bad.flags = 1);
	SIGNAL_EINVAL(bad.reserved = 1);
	SIGNAL_EINVAL(bad.reserved8 = 1);
#undef SIGNAL_EINVAL
	ASSERT_ERRNO(EBUSY, ioctl(self->part_fd, VID_PARTITION_SIGNAL_EVENT,
				  &s));
	close(vp_fd);
}

/* VID_PARTITION_SINT_NOTIFY: set, replace, clear, and every error. */
TEST_F(port, sint_notify)
{
	struct vid_sint_notify n = { .eventfd = self->efd };
	int efd2 = eventfd(0, EFD_CLOEXEC), fds[2];

	ASSERT_LE(0, efd2);
	ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
	/* Clearing what is not there is fine. */
	ASSERT_EQ(0, ioctl_sint_notify(self->part_fd, 0,
				       VID_SINT_NOTIFY_CLEAR));
	ASSERT_ERRNO(EBADF, ioctl_sint_notify(self->part_fd, -1, 0));
	ASSERT_ERRNO(EBADF, ioctl_sint_notify(self->part_fd, 1000, 0));
	ASSERT_ERRNO(EINVAL, ioctl_sint_notify(self->part_fd, fds[0], 0));
	ASSERT_ERRNO(EINVAL, ioctl_sint_notify(self->part_fd, self->efd, 2));
	ASSERT_ERRNO(EINVAL, ioctl_sint_notify(self->part_fd, self->efd,
					       VID_SINT_NOTIFY_CLEAR));
	n.reserved = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->part_fd, VID_PARTITION_SINT_NOTIFY,
				   &n));
	ASSERT_ERRNO(EFAULT, ioctl(self->part_fd, VID_PARTITION_SINT_NOTIFY,
				   vid_test_fault_page()));
	ASSERT_EQ(0, ioctl_sint_notify(self->part_fd, self->efd, 0));
	/* Replaced; the replaced eventfd's reference is gone at once. */
	ASSERT_EQ(0, ioctl_sint_notify(self->part_fd, efd2, 0));
	ASSERT_EQ(0, close(efd2));
	ASSERT_EQ(0, ioctl_sint_notify(self->part_fd, self->efd, 0));
	ASSERT_EQ(0, ioctl_sint_notify(self->part_fd, 0,
				       VID_SINT_NOTIFY_CLEAR));
	/* Left set: the partition's teardown drops it (fixture stats). */
	ASSERT_EQ(0, ioctl_sint_notify(self->part_fd, self->efd, 0));
	close(fds[0]);
	close(fds[1]);
}

/* The queue fd: O_RDONLY | O_CLOEXEC (+ O_NONBLOCK on request). */
TEST_F(port, queue_fd)
{
	struct vid_port p = vmm_msg_port(1, 4, 0);
	struct vid_message buf[2];
	int qfd, nbfd;

	qfd = ioctl_port(self->part_fd, &p);
	ASSERT_LE(0, qfd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(qfd, F_GETFD));
	EXPECT_EQ(O_RDONLY, fcntl(qfd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	p = vmm_msg_port(2, 4, VID_PORT_QUEUE_NONBLOCK);
	nbfd = ioctl_port(self->part_fd, &p);
	ASSERT_LE(0, nbfd);
	EXPECT_EQ(O_RDONLY | O_NONBLOCK,
		  fcntl(nbfd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));

	/* Whole messages only; an empty queue would block. */
	ASSERT_ERRNO(EINVAL, read(nbfd, buf, sizeof(buf[0]) - 1));
	ASSERT_ERRNO(EINVAL, read(nbfd, buf, 0));
	ASSERT_ERRNO(EAGAIN, read(nbfd, buf, sizeof(buf)));
	EXPECT_EQ(0, poll_fd(nbfd, POLLIN, 0));
	ASSERT_ERRNO(EBADF, write(qfd, buf, sizeof(buf[0])));
	ASSERT_ERRNO(ENOTTY, ioctl(qfd, VID_PARTITION_CREATE_PORT, &p));
	/* fcntl() can make the blocking one non-blocking. */
	ASSERT_EQ(0, fcntl(qfd, F_SETFL, O_NONBLOCK));
	ASSERT_ERRNO(EAGAIN, read(qfd, buf, sizeof(buf)));

	/* The port gone: end of file, and EPOLLHUP. */
	ASSERT_EQ(0, ioctl_delete(self->part_fd, 1));
	EXPECT_EQ(0, read(qfd, buf, sizeof(buf)));
	EXPECT_EQ(POLLHUP, poll_fd(qfd, POLLIN, 0) & (POLLHUP | POLLIN));
	/* And the port id is free again: a new port, a new queue. */
	p = vmm_msg_port(1, 4, VID_PORT_QUEUE_NONBLOCK);
	close(qfd);
	qfd = ioctl_port(self->part_fd, &p);
	ASSERT_LE(0, qfd);
	ASSERT_ERRNO(EAGAIN, read(qfd, buf, sizeof(buf)));
	close(qfd);
	close(nbfd);
}

static void *delete_port_later(void *arg)
{
	int part_fd = *(int *)arg;
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	return (void *)(long)ioctl_delete(part_fd, 1);
}

/* A reader blocked on an empty queue wakes when the port goes. */
TEST_F(port, queue_blocked_reader_wakes)
{
	struct vid_port p = vmm_msg_port(1, 4, 0);
	struct vid_message buf;
	pthread_t t;
	void *ret;
	int qfd;

	qfd = ioctl_port(self->part_fd, &p);
	ASSERT_LE(0, qfd);
	ASSERT_EQ(0, pthread_create(&t, NULL, delete_port_later,
				    &self->part_fd));
	EXPECT_EQ(0, read(qfd, &buf, sizeof(buf)));
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(0, (long)ret);
	close(qfd);
}

/*
 * The queue fd outlives its partition: end of file then; the rest goes
 * when the fd closes (the fixture's stats check).
 */
TEST_F(port, queue_outlives_partition)
{
	struct vid_port p = vmm_msg_port(1, VID_PORT_QUEUE_MAX, 0);
	struct vid_stats now;
	struct vid_message buf;
	int qfd;

	qfd = ioctl_port(self->part_fd, &p);
	ASSERT_LE(0, qfd);
	p = vmm_event_port(2, self->efd, 1);
	ASSERT_EQ(0, ioctl_port(self->part_fd, &p));
	ASSERT_EQ(0, ioctl_connect(self->part_fd, 1, 1));
	ASSERT_EQ(0, ioctl_connect(self->part_fd, 2, 2));
	close(self->part_fd);
	self->part_fd = -1;
	EXPECT_EQ(0, read(qfd, &buf, sizeof(buf)));
	EXPECT_EQ(POLLHUP, poll_fd(qfd, POLLIN, 0) & (POLLHUP | POLLIN));
	ASSERT_STATS_READ(&now);
	EXPECT_EQ(self->base.partitions, now.partitions);
	EXPECT_LT(self->base.bytes, now.bytes);	/* the queue */
	close(qfd);
}

/* A VMM killed with ports of every kind in place leaves nothing behind. */
TEST(sigkill_leaves_nothing)
{
	struct vid_stats base, now;
	int vid_fd, status, i;
	pid_t pid;

	VID_OPEN_OR_SKIP(vid_fd);
	ASSERT_VID(0, vid_test_warmup(vid_fd, 1));
	ASSERT_STATS_READ(&base);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int part = vid_test_partition(vid_fd, "victim", 0, false);
		int efd = eventfd(0, 0);
		struct vid_port p;

		if (part < 0 || efd < 0 ||
		    vid_prop_set_u64(part, VID_PROP_MAX_VP_COUNT, 2) ||
		    vid_partition_initialize(part) ||
		    vid_vp_create(part, 0) < 0)
			_exit(1);
		for (i = 0; i < 64; i++) {
			switch (i % 4) {
			case 0:
				p = guest_event_port(i, 1, 2, i, 1);
				break;
			case 1:
				p = guest_msg_port(i, 0, 3);
				break;
			case 2:
				p = vmm_event_port(i, efd, 3);
				break;
			default:
				p = vmm_msg_port(i, 16, 0);
				break;
			}
			if (ioctl_port(part, &p) < 0 ||
			    ioctl_connect(part, 1000 + i, i))
				_exit(2);
		}
		/* The eventfd lives on in the ports only. */
		close(efd);
		kill(getpid(), SIGSTOP);
		_exit(3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status)) TH_LOG("child exit %d",
					       WEXITSTATUS(status));
	ASSERT_STATS_READ(&now);
	EXPECT_EQ(base.partitions + 1, now.partitions);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_STATS_READ(&now);
	ASSERT_STATS_EQ(&base, &now);
	close(vid_fd);
}

/*
 * Guest side. The C guests enable the hypercall interface the TLFS way
 * (GUEST_OS_ID, then the hypercall page at HYPERCALL_GPA) and call with
 * VMMCALL directly, the register convention of the page's code.
 */
static uint64_t hc_result(uint8_t vector, uint64_t rax)
{
	return vector ? HC_FAULT | vector : rax & 0xffff;
}

static uint64_t hv_signal_event(uint32_t conn, uint16_t flag)
{
	uint64_t rax;
	uint8_t v;

	v = vmmcall_safe(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST,
			 conn | (uint64_t)flag << 32, 0, &rax);
	return hc_result(v, rax);
}

/* TLFS HvPostMessage input. */
struct hv_post_input {
	uint32_t connection_id;
	uint32_t reserved;
	uint32_t message_type;
	uint32_t payload_size;
	uint8_t payload[240];
};

static uint64_t hv_post_message(uint32_t conn, uint32_t type, uint32_t size,
				uint8_t seed)
{
	struct hv_post_input *in =
		(struct hv_post_input *)INPUT_GPA(guest_vp_index());
	uint64_t rax;
	unsigned int i;
	uint8_t v;

	in->connection_id = conn;
	in->reserved = 0;
	in->message_type = type;
	in->payload_size = size;
	for (i = 0; i < sizeof(in->payload); i++)
		in->payload[i] = seed + i;
	v = vmmcall_safe(HVCALL_POST_MESSAGE, (uint64_t)in, 0, &rax);
	return hc_result(v, rax);
}

/* The connection id the guests use as "no such connection". */
#define CONN_NONE	0xfedcba

/*
 * The hypercall interface, then one probe call whose answer says
 * whether it is there (GUEST_SYNC(SYNC_PROBE, result)).
 */
static void guest_hv_enable(void)
{
	wrmsr(HV_MSR_GUEST_OS_ID, GUEST_OS_ID);
	wrmsr(HV_MSR_HYPERCALL, HYPERCALL_GPA | 1);
	GUEST_SYNC(SYNC_PROBE, hv_signal_event(CONN_NONE, 0));
}

/*
 * Run VP @vp to its next ucall. An MSR intercept is a synthetic MSR vid
 * does not implement yet: it is completed (reads 0) and counted.
 */
static int run_ucall(struct vid_guest *g, unsigned int vp,
		     struct vid_ucall *uc, unsigned int *msr_exits)
{
	int r;

	for (;;) {
		r = vid_guest_run_vp(g, vp, uc);
		if (r)
			return r;
		if (uc->cmd != UCALL_NONE ||
		    uc->msg.message_type != VID_MSG_X64_MSR_INTERCEPT)
			return 0;
		++*msr_exits;
		r = vid_guest_complete_msr(g, vp, uc, 0);
		if (r)
			return r;
	}
}

#define RUN_SYNC(g, vp, uc, tag) do {					\
	unsigned int __msr = 0;						\
									\
	ASSERT_EQ(0, run_ucall(g, vp, uc, &__msr));			\
	ASSERT_UCALL(uc, UCALL_SYNC);					\
	ASSERT_EQ((uint64_t)(tag), (uc)->args[0]);			\
} while (0)

/*
 * Run the guest to its probe; skip the test (after cleaning up) when
 * the hypercall interface is not there yet.
 */
#define GUEST_PROBE_OR_SKIP(g, vp, uc) do {				\
	unsigned int __msr = 0;						\
									\
	ASSERT_EQ(0, run_ucall(g, vp, uc, &__msr));			\
	ASSERT_UCALL(uc, UCALL_SYNC);					\
	ASSERT_EQ(SYNC_PROBE, (uc)->args[0]);				\
	if ((uc)->args[1] & HC_FAULT) {					\
		vid_guest_destroy(g);					\
		SKIP(return, "no hypercalls yet: vector %llu, %u "	\
		     "synthetic MSRs intercepted",			\
		     (unsigned long long)((uc)->args[1] & 0xff), __msr);\
	}								\
	ASSERT_EQ(HV_STATUS_INVALID_CONNECTION_ID, (uc)->args[1]);	\
} while (0)

/* Expect a GUEST_SYNC(SYNC_STATUS, status). */
#define EXPECT_STATUS(g, uc, expected) do {				\
	RUN_SYNC(g, 0, uc, SYNC_STATUS);				\
	EXPECT_EQ((uint64_t)(expected), (uc)->args[1])			\
		TH_LOG("status %#llx, expected %#llx (guest line %llu)",\
		       (unsigned long long)(uc)->args[1],		\
		       (unsigned long long)(expected),			\
		       (unsigned long long)(uc)->args[2]);		\
} while (0)

#define GUEST_STATUS(call)	GUEST_SYNC(SYNC_STATUS, call, __LINE__)

/* Connections of the guest tests (see each test's set-up). */
#define CONN_EVENT	0x10
#define CONN_QUEUE	0x20
#define CONN_DELETED	0x30
#define CONN_GUEST_MSG	0x50
#define CONN_GUEST_EVT	0x60
#define CONN_OTHER_VP	0x70

static void guest_signal(unsigned int vp)
{
	guest_hv_enable();
	GUEST_STATUS(hv_signal_event(CONN_EVENT, 0));
	GUEST_STATUS(hv_signal_event(CONN_EVENT, 3));
	/* Beyond the port's flag count, beyond any SINT's flags. */
	GUEST_STATUS(hv_signal_event(CONN_EVENT, 4));
	GUEST_STATUS(hv_signal_event(CONN_EVENT, 2048));
	GUEST_STATUS(hv_signal_event(CONN_EVENT, 0xffff));
	GUEST_STATUS(hv_signal_event(CONN_EVENT + 1, 0));
	/* A message port; a port deleted under its connection. */
	GUEST_STATUS(hv_signal_event(CONN_QUEUE, 0));
	GUEST_STATUS(hv_signal_event(CONN_DELETED, 0));
	/* The connection id's reserved bits 31:24. */
	GUEST_STATUS(hv_signal_event(CONN_EVENT | 0x1000000, 0));
	/* After the VMM disconnected it, and re-created the port. */
	GUEST_STATUS(hv_signal_event(CONN_EVENT, 0));
	GUEST_STATUS(hv_signal_event(CONN_DELETED, 1));
}

/* HvSignalEvent on a connection to a VMM event port signals its eventfd. */
TEST(guest_signal_event)
{
	struct vid_port evt, queue, deleted;
	struct vid_guest g;
	struct vid_ucall uc;
	int efd, qfd;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_signal);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	evt = vmm_event_port(1, efd, 4);
	queue = vmm_msg_port(2, 4, VID_PORT_QUEUE_NONBLOCK);
	deleted = vmm_event_port(3, efd, 2);
	ASSERT_EQ(0, ioctl_port(g.part_fd, &evt));
	qfd = ioctl_port(g.part_fd, &queue);
	ASSERT_LE(0, qfd);
	ASSERT_EQ(0, ioctl_port(g.part_fd, &deleted));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_EVENT, 1));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_QUEUE, 2));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_DELETED, 3));
	ASSERT_EQ(0, ioctl_delete(g.part_fd, 3));

	GUEST_PROBE_OR_SKIP(&g, 0, &uc);
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_EQ(POLLIN, poll_fd(efd, POLLIN, 0));
	EXPECT_EQ(1, eventfd_count(efd));
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_EQ(1, eventfd_count(efd));
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PARAMETER);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PARAMETER);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PARAMETER);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_CONNECTION_ID);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PORT_ID);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PORT_ID);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* None of the failures signalled. */
	EXPECT_EQ(0, eventfd_count(efd));

	ASSERT_EQ(0, ioctl_disconnect(g.part_fd, CONN_EVENT));
	ASSERT_EQ(0, ioctl_port(g.part_fd, &deleted));
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_CONNECTION_ID);
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_EQ(1, eventfd_count(efd));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	close(qfd);
	vid_guest_destroy(&g);
	close(efd);
}

static void guest_post(unsigned int vp)
{
	guest_hv_enable();
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 0x12345678, 240, 0x40));
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 1, 0, 0));
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 0x7fffffff, 17, 0x90));
	/* The queue holds 3: full. */
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 2, 1, 0));
	/* The VMM read one: room for one. */
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 3, 3, 0x30));
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 4, 4, 0x30));
	/* Parameters, ids, types. */
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 5, 241, 0));
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 5, 0xffffffff, 0));
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 0, 8, 0));
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 0x80000000, 8, 0));
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 0x80000010, 8, 0));
	GUEST_STATUS(hv_post_message(CONN_NONE, 5, 8, 0));
	GUEST_STATUS(hv_post_message(CONN_EVENT, 5, 8, 0));
	GUEST_STATUS(hv_post_message(CONN_DELETED, 5, 8, 0));
	GUEST_STATUS(hv_post_message(CONN_QUEUE | 0x80000000, 5, 8, 0));
	/* For the blocked reader. */
	GUEST_STATUS(hv_post_message(CONN_QUEUE, 6, 6, 0x60));
}

static void expect_message(struct __test_metadata *_metadata,
			   const struct vid_message *m, uint32_t type,
			   uint32_t size, uint8_t seed, uint32_t port_id)
{
	const uint8_t *payload = (const uint8_t *)m->payload;
	unsigned int i;

	EXPECT_EQ(type, m->message_type);
	EXPECT_EQ(size, m->payload_size);
	EXPECT_EQ(0, m->message_flags);
	EXPECT_EQ(0, m->reserved[0] | m->reserved[1]);
	EXPECT_EQ(port_id, m->sender);
	for (i = 0; i < VID_MESSAGE_PAYLOAD_MAX; i++)
		if (payload[i] != (i < size ? (uint8_t)(seed + i) : 0))
			break;
	EXPECT_EQ(VID_MESSAGE_PAYLOAD_MAX, i)
		TH_LOG("payload byte %u: %#x", i, payload[i]);
}

struct reader {
	int fd;
	ssize_t r;
	struct vid_message msg;
};

static void *blocking_read(void *arg)
{
	struct reader *rd = arg;

	rd->r = read(rd->fd, &rd->msg, sizeof(rd->msg));
	return NULL;
}

/* HvPostMessage lands in the VMM's queue with exactly what was posted. */
TEST(guest_post_message)
{
	struct vid_port queue, evt, deleted;
	struct vid_message msgs[4];
	struct reader rd = { 0 };
	struct vid_guest g;
	struct vid_ucall uc;
	pthread_t t;
	int efd, qfd;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_post);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	queue = vmm_msg_port(0x20202, 3, 0);
	evt = vmm_event_port(1, efd, 1);
	deleted = vmm_msg_port(3, 1, 0);
	qfd = ioctl_port(g.part_fd, &queue);
	ASSERT_LE(0, qfd);
	ASSERT_EQ(0, ioctl_port(g.part_fd, &evt));
	close(ioctl_port(g.part_fd, &deleted));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_QUEUE, 0x20202));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_EVENT, 1));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_DELETED, 3));
	ASSERT_EQ(0, ioctl_delete(g.part_fd, 3));

	GUEST_PROBE_OR_SKIP(&g, 0, &uc);
	EXPECT_EQ(0, poll_fd(qfd, POLLIN, 0));
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_EQ(POLLIN, poll_fd(qfd, POLLIN, 0));
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INSUFFICIENT_BUFFERS);

	/* One whole message for a buffer of one and a half. */
	ASSERT_EQ(sizeof(msgs[0]), read(qfd, msgs, sizeof(msgs[0]) * 3 / 2));
	expect_message(_metadata, &msgs[0], 0x12345678, 240, 0x40, 0x20202);
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INSUFFICIENT_BUFFERS);
	/* The rest, in order, in one read. */
	ASSERT_EQ(3 * sizeof(msgs[0]), read(qfd, msgs, sizeof(msgs)));
	expect_message(_metadata, &msgs[0], 1, 0, 0, 0x20202);
	expect_message(_metadata, &msgs[1], 0x7fffffff, 17, 0x90, 0x20202);
	expect_message(_metadata, &msgs[2], 3, 3, 0x30, 0x20202);

	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PARAMETER);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PARAMETER);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PARAMETER);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PARAMETER);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PARAMETER);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_CONNECTION_ID);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PORT_ID);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PORT_ID);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_HYPERCALL_INPUT);
	/* None of the failures queued anything. */
	EXPECT_EQ(0, poll_fd(qfd, POLLIN, 0));
	EXPECT_EQ(0, eventfd_count(efd));

	/* A reader blocked on the empty queue wakes for the next message. */
	rd.fd = qfd;
	ASSERT_EQ(0, pthread_create(&t, NULL, blocking_read, &rd));
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(sizeof(rd.msg), rd.r);
	expect_message(_metadata, &rd.msg, 6, 6, 0x60, 0x20202);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);

	/* The partition goes; the queue fd reads end of file. */
	vid_guest_destroy(&g);
	EXPECT_EQ(0, read(qfd, msgs, sizeof(msgs)));
	close(qfd);
	close(efd);
}

/*
 * Two VPs signal one connection while the VMM deletes and re-creates
 * another port and connection over and over: every signal arrives, none
 * is lost or doubled, and nothing is left over.
 */
#define CHURN_ROUNDS	16
static bool loop_stop;	/* the host sets the guest's copy */

static void guest_signal_loop(unsigned int vp)
{
	uint64_t sent = 0, fails = 0, churned = 0;

	/* The hypercall interface is the partition's: VP 0 turns it on. */
	if (vp == 0)
		guest_hv_enable();
	while (!__atomic_load_n(&loop_stop, __ATOMIC_RELAXED)) {
		if (hv_signal_event(CONN_EVENT, vp))
			fails++;
		else
			sent++;
		/*
		 * The churned connection answers INVALID_CONNECTION_ID,
		 * INVALID_PORT_ID or SUCCESS; each SUCCESS is one signal.
		 */
		if (!hv_signal_event(CONN_DELETED, 0))
			churned++;
	}
	GUEST_SYNC(SYNC_LOOP, fails, sent, churned);
}

struct churn {
	int part_fd;
	int efd;
	bool *stop;	/* the guest's loop_stop */
	unsigned int rounds;
	int err;
};

/* Churn a port and connection, then stop the guest's loops. */
static void *churn_ports(void *arg)
{
	struct churn *c = arg;
	struct vid_port p = vmm_event_port(3, c->efd, 1);
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	while (c->rounds < CHURN_ROUNDS && !c->err) {
		if (ioctl_port(c->part_fd, &p) ||
		    ioctl_connect(c->part_fd, CONN_DELETED, 3) ||
		    nanosleep(&ts, NULL) ||
		    ioctl_delete(c->part_fd, 3) ||
		    ioctl_disconnect(c->part_fd, CONN_DELETED))
			c->err = errno;
		c->rounds++;
	}
	__atomic_store_n(c->stop, true, __ATOMIC_RELAXED);
	return NULL;
}

struct vp_runner {
	struct vid_guest *g;
	unsigned int vp;
	struct vid_ucall uc;
	int r;
};

static void *run_vp(void *arg)
{
	struct vp_runner *v = arg;
	unsigned int msr = 0;

	v->r = run_ucall(v->g, v->vp, &v->uc, &msr);
	return NULL;
}

TEST(guest_signal_concurrent)
{
	struct vp_runner runner = { 0 };
	struct churn c = { 0 };
	int efd, churn_efd;
	struct vid_port evt;
	struct vid_guest g;
	struct vid_ucall uc;
	pthread_t t, ct;
	uint64_t total;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_signal_loop);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	churn_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_LE(0, churn_efd);
	evt = vmm_event_port(1, efd, 2);
	ASSERT_EQ(0, ioctl_port(g.part_fd, &evt));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_EVENT, 1));
	GUEST_PROBE_OR_SKIP(&g, 0, &uc);

	c.part_fd = g.part_fd;
	c.efd = churn_efd;
	c.stop = &VID_GUEST_GLOBAL(&g, loop_stop);
	ASSERT_EQ(0, pthread_create(&ct, NULL, churn_ports, &c));
	runner.g = &g;
	runner.vp = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, run_vp, &runner));
	RUN_SYNC(&g, 0, &uc, SYNC_LOOP);
	EXPECT_EQ(0, uc.args[1]);
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(0, pthread_join(ct, NULL));
	EXPECT_EQ(0, c.err) TH_LOG("churn: %s", strerror(c.err));
	ASSERT_EQ(0, runner.r);
	ASSERT_UCALL(&runner.uc, UCALL_SYNC);
	EXPECT_EQ(SYNC_LOOP, runner.uc.args[0]);
	EXPECT_EQ(0, runner.uc.args[1]);
	/* Every successful signal counted once, none lost. */
	total = eventfd_count(efd);
	EXPECT_EQ(uc.args[2] + runner.uc.args[2], total);
	EXPECT_LT(0, uc.args[2]);
	EXPECT_LT(0, runner.uc.args[2]);
	/* The same on the churned port, deleted under the signallers. */
	EXPECT_EQ(uc.args[3] + runner.uc.args[3], eventfd_count(churn_efd));
	TH_LOG("%u churn rounds, %llu + %llu signals, %llu + %llu on the churned port",
	       c.rounds, (unsigned long long)uc.args[2],
	       (unsigned long long)runner.uc.args[2],
	       (unsigned long long)uc.args[3],
	       (unsigned long long)runner.uc.args[3]);
	vid_guest_destroy(&g);
	close(efd);
	close(churn_efd);
}

/*
 * The guest's own SynIC: ports whose target is a VP of the partition,
 * and the VMM's direct post and signal. The guest turns on its SynIC
 * (message page SIMP_GPA, event flags page SIEF_GPA, SINTs 3 and 4
 * unmasked; interrupts stay off: it polls) and reports; the VMM then
 * reads the pages in guest RAM itself.
 */
#define SINT_LOOP	3
#define SINT_DIRECT	4
#define EVT_BASE	100

static void guest_synic_enable(void)
{
	wrmsr(HV_MSR_SIMP, SIMP_GPA | 1);
	wrmsr(HV_MSR_SIEFP, SIEF_GPA | 1);
	wrmsr(HV_MSR_SINT0 + SINT_LOOP, 0x50);
	wrmsr(HV_MSR_SINT0 + SINT_DIRECT, 0x51);
	wrmsr(HV_MSR_SCONTROL, 1);
}

/*
 * The SynIC pages change under the guest only during its hypercalls
 * (whose asm clobbers memory) or while it is stopped: plain accesses.
 */
static struct vid_message *guest_slot(unsigned int sint)
{
	return (struct vid_message *)(SIMP_GPA + 256 * sint);
}

static bool guest_flag(unsigned int sint, unsigned int flag)
{
	const uint8_t *f = (const uint8_t *)(SIEF_GPA + 256 * sint);

	return f[flag / 8] & (1U << (flag % 8));
}

/* Empty a slot the TLFS way: type NONE, then EOM if a sender waits. */
static void guest_slot_done(unsigned int sint)
{
	struct vid_message *m = guest_slot(sint);

	m->message_type = 0;
	__asm__ volatile("mfence" ::: "memory");
	if (m->message_flags & 1)
		wrmsr(HV_MSR_EOM, 0);
}

static void guest_synic(unsigned int vp)
{
	struct vid_message *m;

	guest_hv_enable();
	guest_synic_enable();
	GUEST_SYNC(SYNC_SYNIC);
	/* The VMM posted into SINT_DIRECT and found it busy once. */
	guest_slot_done(SINT_DIRECT);
	GUEST_SYNC(SYNC_SYNIC);

	/* Into our own SynIC through a port. */
	m = guest_slot(SINT_LOOP);
	GUEST_STATUS(hv_post_message(CONN_GUEST_MSG, 0x99, 200, 0x11));
	GUEST_ASSERT_EQ(m->message_type, 0x99);
	GUEST_ASSERT_EQ(m->payload_size, 200);
	GUEST_ASSERT_EQ(m->sender, 5);
	GUEST_ASSERT_EQ(((uint8_t *)m->payload)[199], (uint8_t)(0x11 + 199));
	GUEST_ASSERT_EQ(((uint8_t *)m->payload)[200], 0);
	/* The slot is busy until we empty it. */
	GUEST_STATUS(hv_post_message(CONN_GUEST_MSG, 0x9a, 1, 0));
	GUEST_ASSERT_EQ(m->message_type, 0x99);
	guest_slot_done(SINT_LOOP);
	GUEST_STATUS(hv_post_message(CONN_GUEST_MSG, 0x9a, 1, 0));
	GUEST_ASSERT_EQ(m->message_type, 0x9a);

	GUEST_ASSERT(!guest_flag(SINT_LOOP, EVT_BASE + 2));
	GUEST_STATUS(hv_signal_event(CONN_GUEST_EVT, 2));
	GUEST_ASSERT(guest_flag(SINT_LOOP, EVT_BASE + 2));
	GUEST_ASSERT(!guest_flag(SINT_LOOP, 2));
	GUEST_STATUS(hv_signal_event(CONN_GUEST_EVT, 8));
	/* A target VP whose SynIC has no pages. */
	GUEST_STATUS(hv_signal_event(CONN_OTHER_VP, 0));
	GUEST_STATUS(hv_post_message(CONN_OTHER_VP + 1, 1, 1, 0));
}

TEST(guest_synic_ports_and_direct)
{
	struct vid_post_message post = { .vp_index = 0, .sint = SINT_DIRECT };
	struct vid_signal_event sig = { .vp_index = 0, .sint = SINT_DIRECT,
					.flag = 2047 };
	struct vid_port p;
	struct vid_message *slot;
	unsigned int msr = 0;
	struct vid_guest g;
	struct vid_ucall uc;
	uint8_t *flags;
	int efd;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_synic);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ioctl_sint_notify(g.part_fd, efd, 0));
	p = guest_msg_port(5, 0, SINT_LOOP);
	ASSERT_EQ(0, ioctl_port(g.part_fd, &p));
	p = guest_event_port(6, 0, SINT_LOOP, EVT_BASE, 8);
	ASSERT_EQ(0, ioctl_port(g.part_fd, &p));
	p = guest_event_port(7, 1, SINT_LOOP, 0, 1);
	ASSERT_EQ(0, ioctl_port(g.part_fd, &p));
	p = guest_msg_port(8, 1, SINT_LOOP);
	ASSERT_EQ(0, ioctl_port(g.part_fd, &p));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_GUEST_MSG, 5));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_GUEST_EVT, 6));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_OTHER_VP, 7));
	ASSERT_EQ(0, ioctl_connect(g.part_fd, CONN_OTHER_VP + 1, 8));

	GUEST_PROBE_OR_SKIP(&g, 0, &uc);
	ASSERT_EQ(0, run_ucall(&g, 0, &uc, &msr));
	ASSERT_UCALL(&uc, UCALL_SYNC);
	if (msr) {
		vid_guest_destroy(&g);
		SKIP(return, "no SynIC yet: %u SynIC MSRs intercepted", msr);
	}
	ASSERT_EQ(SYNC_SYNIC, uc.args[0]);

	/* HvPostMessageDirect: the slot gets the message as given. */
	slot = vid_guest_gpa(&g, SIMP_GPA + 256 * SINT_DIRECT);
	flags = vid_guest_gpa(&g, SIEF_GPA + 256 * SINT_DIRECT);
	post.message.message_type = 0x4242;
	post.message.payload_size = 16;
	post.message.sender = 0x5e;
	memset(post.message.payload, 0xab, sizeof(post.message.payload));
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_POST_MESSAGE, &post));
	EXPECT_EQ(0x4242, slot->message_type);
	EXPECT_EQ(16, slot->payload_size);
	EXPECT_EQ(0x5e, slot->sender);
	EXPECT_EQ(0xababababababababULL, slot->payload[1]);
	/* Bytes beyond payload_size arrive as zero. */
	EXPECT_EQ(0, slot->payload[2]);
	/* Busy until the guest takes it; the pending flag says so. */
	ASSERT_ERRNO(EAGAIN, ioctl(g.part_fd, VID_PARTITION_POST_MESSAGE,
				   &post));
	EXPECT_EQ(1, slot->message_flags & 1);
	/* HvSignalEventDirect. */
	EXPECT_EQ(0, flags[255]);
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_SIGNAL_EVENT, &sig));
	EXPECT_EQ(0x80, flags[255]);
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_SIGNAL_EVENT, &sig));
	/* VP 1 exists but never enabled its SynIC. */
	post.vp_index = 1;
	ASSERT_ERRNO(EBUSY, ioctl(g.part_fd, VID_PARTITION_POST_MESSAGE,
				  &post));
	post.vp_index = 0;

	/* The guest takes the message and writes EOM: the VMM is told. */
	EXPECT_EQ(0, eventfd_count(efd));
	RUN_SYNC(&g, 0, &uc, SYNC_SYNIC);
	EXPECT_EQ(0, slot->message_type);
	EXPECT_LE(1, eventfd_count(efd));
	post.message.message_type = 0x4343;
	ASSERT_EQ(0, ioctl(g.part_fd, VID_PARTITION_POST_MESSAGE, &post));
	EXPECT_EQ(0x4343, slot->message_type);

	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INSUFFICIENT_BUFFERS);
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_STATUS(&g, &uc, HV_STATUS_SUCCESS);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_PARAMETER);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_VP_STATE);
	EXPECT_STATUS(&g, &uc, HV_STATUS_INVALID_VP_STATE);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_DONE);
	vid_guest_destroy(&g);
	close(efd);
}

TEST_HARNESS_MAIN
