// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vid itself: the device node, the API version, the capability query
 * and the life of the partition fds it hands out.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vid_vmbus.h>

#include "vid_test_util.h"

TEST(dev_node_is_root_only_char_device)
{
	struct stat st;
	int fd;

	VID_OPEN_OR_SKIP(fd);
	close(fd);

	ASSERT_EQ(0, stat(VID_DEVICE_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777)
		TH_LOG("mode is %04o", st.st_mode & 07777);
	EXPECT_EQ(0U, st.st_uid);
}

TEST(open_rdwr)
{
	int fd;

	VID_OPEN_OR_SKIP(fd);
	close(fd);

	fd = open(VID_DEVICE_PATH, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(VID_API_VERSION, ioctl(fd, VID_GET_API_VERSION, 0));
	close(fd);
}

/* The test runs in its own process, so dropping root here is contained. */
TEST(open_denied_to_non_root)
{
	int fd;

	VID_OPEN_OR_SKIP(fd);
	close(fd);
	if (geteuid() != 0)
		SKIP(return, "needs root to switch to an unprivileged uid");

	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, setresgid(65534, 65534, 65534));
	ASSERT_EQ(0, setresuid(65534, 65534, 65534));
	ASSERT_ERRNO(EACCES, open(VID_DEVICE_PATH, O_RDWR));
}

TEST(api_version)
{
	int fd;

	VID_OPEN_OR_SKIP(fd);
	ASSERT_EQ(VID_API_VERSION, vid_api_version(fd));
	close(fd);
}

TEST(cap_partition_properties_is_prop_max)
{
	int fd;

	VID_OPEN_OR_SKIP(fd);
	ASSERT_EQ(VID_PROP_MAX, vid_check_cap(fd, VID_CAP_PARTITION_PROPERTIES));
	close(fd);
}

TEST(cap_max_vps_at_least_64)
{
	int fd;

	VID_OPEN_OR_SKIP(fd);
	ASSERT_LE(64, vid_check_cap(fd, VID_CAP_MAX_VPS));
	close(fd);
}

TEST(cap_deposit_at_least_1)
{
	int fd;

	VID_OPEN_OR_SKIP(fd);
	ASSERT_LE(1, vid_check_cap(fd, VID_CAP_DEPOSIT));
	close(fd);
}

TEST(cap_max_name_is_vid_name_max)
{
	int fd;

	VID_OPEN_OR_SKIP(fd);
	ASSERT_EQ(VID_NAME_MAX, vid_check_cap(fd, VID_CAP_MAX_NAME));
	close(fd);
}

/* The VMBus server's newest version; VID_VP_RUN_COMPLETE is there. */
TEST(cap_vmbus_and_run_complete)
{
	int fd;

	VID_OPEN_OR_SKIP(fd);
	ASSERT_EQ(VID_VMBUS_VERSION_WIN10_V5_3,
		  vid_check_cap(fd, VID_CAP_VMBUS));
	ASSERT_EQ(1, vid_check_cap(fd, VID_CAP_RUN_COMPLETE));
	close(fd);
}

TEST(cap_unknown_reads_zero)
{
	static const unsigned int caps[] = {
		0, 64, 0x100, 0x7fffffff, 0xffffffff,
	};
	unsigned int i;
	int fd;

	VID_OPEN_OR_SKIP(fd);
	for (i = 0; i < ARRAY_SIZE(caps); i++)
		EXPECT_EQ(0, vid_check_cap(fd, caps[i]))
			TH_LOG("capability %#x", caps[i]);
	close(fd);
}

/*
 * The capability is the whole unsigned long argument: a value whose low
 * 32 bits name a known capability is still unknown.
 */
TEST(cap_high_bits_unknown)
{
	unsigned long cap = (1UL << 32) | VID_CAP_MAX_VPS;
	int fd;

	VID_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, ioctl(fd, VID_CHECK_CAPABILITY, cap));
	close(fd);
}

TEST(create_partition_fd_is_cloexec_rdwr)
{
	int fd, part, flags;

	VID_OPEN_OR_SKIP(fd);
	part = vid_partition_create(fd, 0);
	ASSERT_LE(0, part);
	EXPECT_NE(fd, part);

	flags = fcntl(part, F_GETFD);
	ASSERT_LE(0, flags);
	EXPECT_TRUE(flags & FD_CLOEXEC);

	flags = fcntl(part, F_GETFL);
	ASSERT_LE(0, flags);
	EXPECT_EQ(O_RDWR, flags & O_ACCMODE);

	close(part);
	close(fd);
}

TEST(create_partition_without_libvid)
{
	struct vid_create_partition args;
	int fd, part;

	VID_OPEN_OR_SKIP(fd);
	memset(&args, 0, sizeof(args));
	part = ioctl(fd, VID_CREATE_PARTITION, &args);
	ASSERT_LE(0, part);
	ASSERT_TRUE(fcntl(part, F_GETFD) & FD_CLOEXEC);
	close(part);
	close(fd);
}

TEST(close_deletes_partition)
{
	struct vid_stats base, now;
	int fd, part;

	VID_OPEN_OR_SKIP(fd);
	ASSERT_STATS_READ(&base);

	part = vid_partition_create(fd, 0);
	ASSERT_LE(0, part);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(base.partitions + 1, now.partitions);

	close(part);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(base.partitions, now.partitions);
	close(fd);
}

TEST(partition_outlives_dev_fd)
{
	struct vid_stats base, now;
	uint64_t state;
	int fd, part;

	VID_OPEN_OR_SKIP(fd);
	ASSERT_STATS_READ(&base);
	part = vid_partition_create(fd, 0);
	ASSERT_LE(0, part);
	close(fd);

	ASSERT_VID(0, vid_prop_get_u64(part, VID_PROP_STATE, &state));
	ASSERT_EQ((uint64_t)VID_PARTITION_CREATED, state);
	ASSERT_VID(0, vid_partition_initialize(part));
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(base.partitions + 1, now.partitions);

	close(part);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(base.partitions, now.partitions);
}

TEST(partitions_from_two_opens)
{
	struct vid_stats base, now;
	int fd1, fd2, p1, p2;

	VID_OPEN_OR_SKIP(fd1);
	fd2 = vid_open();
	ASSERT_LE(0, fd2);
	ASSERT_STATS_READ(&base);

	p1 = vid_partition_create(fd1, 0);
	ASSERT_LE(0, p1);
	p2 = vid_partition_create(fd2, 0);
	ASSERT_LE(0, p2);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(base.partitions + 2, now.partitions);

	close(fd1);
	close(p1);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(base.partitions + 1, now.partitions);
	ASSERT_VID(0, vid_partition_set_name(p2, "second"));

	close(p2);
	close(fd2);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(base.partitions, now.partitions);
}

TEST_HARNESS_MAIN
