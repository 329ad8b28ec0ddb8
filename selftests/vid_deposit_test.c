// SPDX-License-Identifier: GPL-2.0
/*
 * Deposits driven by the VMM (VID_PROP_AUTO_DEPOSIT = 0): every call that
 * needs hypervisor memory fails with ENOMEM while the partition's pool is
 * dry, and succeeds once the VMM deposits enough; nothing leaks on the
 * way. Each test counts the single-page deposits a call needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vid_test_util.h"

#define MAX_STEPS	16

FIXTURE(manual) {
	int vid_fd;
	int part_fd;
	struct vid_stats base;
};

FIXTURE_SETUP(manual)
{
	uint64_t avail = 1;

	self->vid_fd = vid_open();
	if (self->vid_fd < 0)
		SKIP(return, "no /dev/vid");
	ASSERT_STATS_READ(&self->base);
	self->part_fd = vid_partition_create(self->vid_fd, 0);
	ASSERT_LE(0, self->part_fd);
	ASSERT_EQ(0, vid_prop_set_u64(self->part_fd, VID_PROP_AUTO_DEPOSIT, 0));
	ASSERT_EQ(0, vid_prop_get_u64(self->part_fd, VID_PROP_POOL_AVAILABLE,
				      &avail));
	ASSERT_EQ(0, avail);
}

FIXTURE_TEARDOWN(manual)
{
	struct vid_stats now;
	int i;

	if (self->vid_fd < 0)
		return;
	close(self->part_fd);
	for (i = 0; i < 100; i++) {
		if (vid_stats_read(&now) == 0 &&
		    vid_stats_equal(&self->base, &now))
			break;
		usleep(10000);
	}
	EXPECT_TRUE(vid_stats_equal(&self->base, &now));
	close(self->vid_fd);
}

static uint64_t pool_available(struct __test_metadata *_metadata, int fd)
{
	uint64_t v = ~0ULL;

	EXPECT_EQ(0, vid_prop_get_u64(fd, VID_PROP_POOL_AVAILABLE, &v));
	return v;
}

/*
 * Deposit one page after each ENOMEM until @call succeeds; steps taken.
 * (A failed call may give back pages it took, so the pool is not
 * necessarily empty after one; it never holds enough for the call.)
 */
#define DEPOSIT_UNTIL_OK(fd, call) ({					\
	int __steps = 0, __r;						\
	while ((__r = (call)) == -ENOMEM && __steps < MAX_STEPS) {	\
		ASSERT_EQ(0, vid_partition_deposit(fd, 1));		\
		__steps++;						\
	}								\
	ASSERT_LE(0, __r) TH_LOG("%s: %s", #call, strerror(-__r));	\
	__steps;							\
})

TEST_F(manual, auto_deposit_defaults_on_and_reads_back)
{
	uint64_t v = 5;
	int fd = vid_partition_create(self->vid_fd, 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vid_prop_get_u64(fd, VID_PROP_AUTO_DEPOSIT, &v));
	EXPECT_EQ(1, v);
	close(fd);
	ASSERT_EQ(0, vid_prop_get_u64(self->part_fd, VID_PROP_AUTO_DEPOSIT, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(-EINVAL, vid_prop_set_u64(self->part_fd,
					    VID_PROP_AUTO_DEPOSIT, 2));
}

TEST_F(manual, initialize_fails_dry_then_succeeds)
{
	uint64_t state = 0;
	int steps;

	ASSERT_EQ(-ENOMEM, vid_partition_initialize(self->part_fd));
	ASSERT_EQ(0, vid_prop_get_u64(self->part_fd, VID_PROP_STATE, &state));
	EXPECT_EQ(VID_PARTITION_CREATED, state);
	steps = DEPOSIT_UNTIL_OK(self->part_fd,
				 vid_partition_initialize(self->part_fd));
	EXPECT_EQ(1, steps);	/* the VP table: one page for one VP */
	EXPECT_EQ(0, pool_available(_metadata, self->part_fd));
}

TEST_F(manual, vp_create_fails_dry_then_succeeds)
{
	int steps, vp;

	ASSERT_EQ(0, vid_partition_deposit(self->part_fd, 1));
	ASSERT_EQ(0, vid_partition_initialize(self->part_fd));
	ASSERT_EQ(-ENOMEM, vid_vp_create(self->part_fd, 0));
	steps = DEPOSIT_UNTIL_OK(self->part_fd,
				 (vp = vid_vp_create(self->part_fd, 0)));
	/*
	 * SLAT root, the VP, its backend state, its VMCB, its XSAVE area,
	 * its vLAPIC, its SynIC and synthetic timers.
	 */
	EXPECT_EQ(7, steps);
	EXPECT_EQ(0, pool_available(_metadata, self->part_fd));
	close(vp);
}

TEST_F(manual, map_fails_dry_leaves_nothing_pinned_then_succeeds)
{
	struct vid_stats before, after;
	void *mem;
	int steps;

	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_STATS_READ(&before);
	ASSERT_EQ(-ENOMEM, vid_map_gpa(self->part_fd, 0x100000, 4096, mem,
				       VID_MAP_READ | VID_MAP_WRITE));
	ASSERT_STATS_READ(&after);
	EXPECT_EQ(before.pinned, after.pinned);
	/* The range was not mapped: unmapping it finds nothing. */
	EXPECT_EQ(-ENOENT, vid_unmap_gpa(self->part_fd, 0x100000, 4096));
	steps = DEPOSIT_UNTIL_OK(self->part_fd,
				 vid_map_gpa(self->part_fd, 0x100000, 4096,
					     mem, VID_MAP_READ | VID_MAP_WRITE));
	/* Four table levels, the first call took one before running dry. */
	EXPECT_LE(3, steps);
	EXPECT_GE(4, steps);
	ASSERT_STATS_READ(&after);
	EXPECT_EQ(before.pinned + 1, after.pinned);
	EXPECT_EQ(0, vid_unmap_gpa(self->part_fd, 0x100000, 4096));
	munmap(mem, 4096);
}

TEST_F(manual, map_in_populated_tables_needs_no_deposit)
{
	void *mem;

	mem = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	DEPOSIT_UNTIL_OK(self->part_fd,
			 vid_map_gpa(self->part_fd, 0, 4096, mem,
				     VID_MAP_READ));
	/* The next page shares every table: no memory needed. */
	EXPECT_EQ(0, vid_map_gpa(self->part_fd, 4096, 4096,
				 (char *)mem + 4096, VID_MAP_READ));
	munmap(mem, 2 * 4096);
}

TEST_F(manual, withdraw_after_use_returns_only_unused)
{
	int64_t n;

	ASSERT_EQ(0, vid_partition_deposit(self->part_fd, 3));
	ASSERT_EQ(0, vid_partition_initialize(self->part_fd));
	n = vid_partition_withdraw(self->part_fd, 100);
	EXPECT_EQ(2, n);
	EXPECT_EQ(0, pool_available(_metadata, self->part_fd));
}

TEST_HARNESS_MAIN
