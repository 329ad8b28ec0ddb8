/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vid kselftests.
 *
 * Test files include this header only: it pulls in kselftest_harness.h
 * (from $(LINUX_SRC)/tools/testing/selftests) and libvid.h. The helper
 * implementation, vid_test_util.c, defines VID_TEST_UTIL_NO_HARNESS so that
 * the harness (which defines non-static symbols) is compiled into each test
 * binary exactly once.
 */
#ifndef VID_TEST_UTIL_H
#define VID_TEST_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "libvid.h"

#ifndef VID_TEST_UTIL_NO_HARNESS
/*
 * The 6.1 harness leaves parameters unused in the wrappers it generates
 * for every TEST() and in its SIGALRM handler; -Wextra would flag each one.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#endif

#define VID_STATS_PATH		"/sys/kernel/debug/vid/stats"
#define VID_PAGE_SIZE		4096UL

/*
 * struct vid_stats - /sys/kernel/debug/vid/stats, one "key value" a line.
 * @partitions: live partitions.
 * @objects: live kernel objects vid allocated.
 * @bytes: bytes of those objects.
 * @pages: pages vid holds from the page allocator, deposit pools included.
 * @pinned: user pages pinned now for guest physical address mappings.
 * @has_pinned: the file has the @pinned key (a module with GPA mappings).
 */
struct vid_stats {
	uint64_t partitions;
	uint64_t objects;
	uint64_t bytes;
	uint64_t pages;
	uint64_t pinned;
	bool has_pinned;
};

/* MemFree and MemAvailable from /proc/meminfo, in KiB. */
struct vid_meminfo {
	uint64_t mem_free_kb;
	uint64_t mem_available_kb;
};

/*
 * Read the debugfs stats. Returns 0, -errno if the file cannot be read, or
 * -ENODATA if one of the four keys partitions, objects, bytes and pages is
 * missing. "pinned" is optional (see @has_pinned); unknown keys are ignored.
 */
int vid_stats_read(struct vid_stats *st);
bool vid_stats_equal(const struct vid_stats *a, const struct vid_stats *b);

/* Read /proc/meminfo. Returns 0 or -errno (-ENODATA if a key is missing). */
int vid_meminfo_read(struct vid_meminfo *mi);

/*
 * Create a partition and bring it to a typical state: @name (NULL: leave
 * the default), a deposit of @pages (0: none) and, if @initialize, a
 * VID_PARTITION_INITIALIZE. Returns the partition fd or -errno; on failure
 * nothing is left open.
 */
int vid_test_partition(int vid_fd, const char *name, uint64_t pages,
		       bool initialize);

/*
 * Run @rounds create/name/deposit/initialize/close cycles so that caches
 * and lazily allocated state are warm before a baseline is taken. Returns
 * 0 or -errno.
 */
int vid_test_warmup(int vid_fd, unsigned int rounds);

/* One page mapped PROT_NONE: any access to it faults (for EFAULT tests). */
void *vid_test_fault_page(void);
/* One zeroed page mapped PROT_READ: reads work, writes fault. */
void *vid_test_readonly_page(void);

/* Pool balance of a partition. Returns 0 or -errno. */
int vid_test_pool(int part_fd, uint64_t *deposited, uint64_t *available);

/* Whole-number environment variable, or @def when unset or malformed. */
uint64_t vid_test_env_u64(const char *name, uint64_t def);

#define VID_PARAM_DIR		"/sys/module/vid/parameters/"

/*
 * Set vid's module parameter @name (VID_PARAM_DIR) to @val. Returns what
 * it was, or -1 if it cannot be read and written.
 */
long vid_test_param_swap(const char *name, long val);

#ifndef VID_TEST_UTIL_NO_HARNESS

/*
 * The 6.1 harness runs a TEST_F() body even after SKIP() in its
 * FIXTURE_SETUP(). From a setup, end the test process with the exit code
 * the harness reads as "skipped" (255) instead.
 */
#define VID_SETUP_SKIP(fmt, ...) SKIP(_exit(255), fmt, ##__VA_ARGS__)

/*
 * Open /dev/vid into @fd; skip the test when the device is absent (vid.ko
 * not loaded), fail on any other error.
 */
#define VID_OPEN_OR_SKIP(fd) do {					\
	(fd) = vid_open();						\
	if ((fd) == -ENOENT)						\
		SKIP(return, "%s absent: vid.ko not loaded",		\
		     VID_DEVICE_PATH);					\
	ASSERT_LE(0, (fd))						\
		TH_LOG("open %s: %s", VID_DEVICE_PATH, strerror(-(fd)));\
} while (0)

/* Same, for use inside a FIXTURE_SETUP(). */
#define VID_SETUP_OPEN_OR_SKIP(fd) do {					\
	(fd) = vid_open();						\
	if ((fd) == -ENOENT)						\
		VID_SETUP_SKIP("%s absent: vid.ko not loaded",		\
			       VID_DEVICE_PATH);			\
	ASSERT_LE(0, (fd))						\
		TH_LOG("open %s: %s", VID_DEVICE_PATH, strerror(-(fd)));\
} while (0)

/* Read the stats, "pinned" included, into @st or fail the test. */
#define ASSERT_STATS_READ_PINNED(st) do {				\
	ASSERT_STATS_READ(st);						\
	ASSERT_TRUE((st)->has_pinned)					\
		TH_LOG("%s has no \"pinned\" key", VID_STATS_PATH);	\
} while (0)

/* Read the stats into @st or fail the test. */
#define ASSERT_STATS_READ(st) do {					\
	int __r = vid_stats_read(st);					\
	ASSERT_EQ(0, __r)						\
		TH_LOG("read %s: %s", VID_STATS_PATH, strerror(-__r));	\
} while (0)

/* Every stats key of @now equals @base; each mismatch is logged. */
#define ASSERT_STATS_EQ(base, now) do {					\
	EXPECT_EQ((base)->partitions, (now)->partitions);		\
	EXPECT_EQ((base)->objects, (now)->objects);			\
	EXPECT_EQ((base)->bytes, (now)->bytes);				\
	EXPECT_EQ((base)->pages, (now)->pages);				\
	EXPECT_EQ((base)->pinned, (now)->pinned);			\
	ASSERT_TRUE(vid_stats_equal(base, now));			\
} while (0)

/*
 * A raw ioctl() (or any libc call returning -1/errno) fails with exactly
 * @err.
 */
#define ASSERT_ERRNO(err, call) do {					\
	long __r;							\
	int __e;							\
									\
	errno = 0;							\
	__r = (call);							\
	__e = errno;							\
	ASSERT_EQ(-1L, __r)						\
		TH_LOG("%s succeeded, expected %s", #call, strerror(err));\
	ASSERT_EQ((err), __e)						\
		TH_LOG("%s: got %s, expected %s", #call,		\
		       strerror(__e), strerror(err));			\
} while (0)

/* A raw ioctl() (or libc call) succeeds; returns nothing, logs errno. */
#define ASSERT_SYSCALL_OK(call) do {					\
	long __r;							\
									\
	__r = (call);							\
	ASSERT_LE(0L, __r)						\
		TH_LOG("%s: %s", #call, strerror(errno));		\
} while (0)

/* A libvid call (0 / -errno convention) returns exactly @expected. */
#define ASSERT_VID(expected, call) do {					\
	long __r = (call);						\
									\
	ASSERT_EQ((long)(expected), __r)				\
		TH_LOG("%s = %ld (%s)", #call, __r,			\
		       __r < 0 ? strerror((int)-__r) : "ok");		\
} while (0)

#endif /* VID_TEST_UTIL_NO_HARNESS */

#endif /* VID_TEST_UTIL_H */
