// SPDX-License-Identifier: GPL-2.0
/*
 * Partition properties, initialization and the deposit pool, through the
 * documented behaviour of a well-formed caller. The error paths live in
 * vid_errors_test.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vid_test_util.h"

#define DEFAULT_VENDOR_ID	"Microsoft Hv"
#define TEST_VENDOR_ID		"VidTestVndr!"

FIXTURE(part) {
	int vid_fd;
	int fd;
	long max_vps;
	long max_deposit;
};

FIXTURE_SETUP(part)
{
	self->vid_fd = -1;
	self->fd = -1;
	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
	self->max_vps = vid_check_cap(self->vid_fd, VID_CAP_MAX_VPS);
	self->max_deposit = vid_check_cap(self->vid_fd, VID_CAP_DEPOSIT);
	ASSERT_LE(1, self->max_vps);
	ASSERT_LE(1, self->max_deposit);
	self->fd = vid_partition_create(self->vid_fd, 0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(part)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->vid_fd >= 0)
		close(self->vid_fd);
}

static uint64_t get_u64(struct __test_metadata *_metadata, int fd,
			uint32_t id)
{
	uint64_t v = 0;
	uint32_t size = 0;

	ASSERT_VID(0, vid_prop_get(fd, id, &v, sizeof(v), &size));
	EXPECT_EQ(8U, size);
	return v;
}

/* Reads the name into @buf (VID_NAME_MAX bytes); returns the size used. */
static uint32_t get_name(struct __test_metadata *_metadata, int fd,
			 char *buf)
{
	uint32_t size = 0;

	memset(buf, 0x55, VID_NAME_MAX);
	ASSERT_VID(0, vid_prop_get(fd, VID_PROP_NAME, buf, VID_NAME_MAX,
				   &size));
	ASSERT_LE(1U, size);
	ASSERT_GE((uint32_t)VID_NAME_MAX, size);
	ASSERT_EQ('\0', buf[size - 1]);
	ASSERT_EQ(strlen(buf) + 1, size);
	return size;
}

static void get_vendor(struct __test_metadata *_metadata, int fd, char *buf)
{
	uint32_t size = 0;

	ASSERT_VID(0, vid_prop_get(fd, VID_PROP_VENDOR_ID, buf,
				   VID_VENDOR_ID_SIZE, &size));
	ASSERT_EQ((uint32_t)VID_VENDOR_ID_SIZE, size);
}

static void pool(struct __test_metadata *_metadata, int fd,
		 uint64_t *deposited, uint64_t *available)
{
	ASSERT_VID(0, vid_test_pool(fd, deposited, available));
	ASSERT_LE(*available, *deposited);
}

/* Withdraw until the pool gives nothing back; returns the total. */
static uint64_t drain(struct __test_metadata *_metadata, int fd,
		      uint64_t chunk)
{
	uint64_t total = 0;
	unsigned int i;
	int64_t r;

	for (i = 0; i < 1000000; i++) {
		r = vid_partition_withdraw(fd, chunk);
		ASSERT_LE(0, r) TH_LOG("withdraw: %s", strerror((int)-r));
		ASSERT_GE((int64_t)chunk, r);
		if (!r)
			return total;
		total += r;
	}
	ASSERT_TRUE(0) TH_LOG("withdraw never ran dry");
	return total;
}

/* ---- defaults ---- */

TEST_F(part, default_max_vp_count_is_1)
{
	ASSERT_EQ(1U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
}

TEST_F(part, default_vendor_id_is_microsoft_hv)
{
	char v[VID_VENDOR_ID_SIZE];

	get_vendor(_metadata, self->fd, v);
	ASSERT_EQ(0, memcmp(v, DEFAULT_VENDOR_ID, VID_VENDOR_ID_SIZE))
		TH_LOG("vendor id '%.12s'", v);
}

TEST_F(part, default_name_is_empty)
{
	char name[VID_NAME_MAX];

	ASSERT_EQ(1U, get_name(_metadata, self->fd, name));
	ASSERT_STREQ("", name);
}

TEST_F(part, default_state_is_created)
{
	ASSERT_EQ((uint64_t)VID_PARTITION_CREATED,
		  get_u64(_metadata, self->fd, VID_PROP_STATE));
}

TEST_F(part, partition_id_nonzero_and_distinct)
{
	uint64_t id1, id2;
	int fd2;

	id1 = get_u64(_metadata, self->fd, VID_PROP_PARTITION_ID);
	ASSERT_NE(0U, id1);

	fd2 = vid_partition_create(self->vid_fd, 0);
	ASSERT_LE(0, fd2);
	id2 = get_u64(_metadata, fd2, VID_PROP_PARTITION_ID);
	EXPECT_NE(0U, id2);
	EXPECT_NE(id1, id2);

	/* Stable across reads. */
	EXPECT_EQ(id1, get_u64(_metadata, self->fd, VID_PROP_PARTITION_ID));
	close(fd2);
}

/* A GET buffer larger than the value is fine; only the value is written. */
TEST_F(part, get_larger_buffer_writes_back_value_size)
{
	uint8_t buf[16];
	uint32_t size = 0;
	uint64_t v;

	memset(buf, 0xa5, sizeof(buf));
	ASSERT_VID(0, vid_prop_get(self->fd, VID_PROP_MAX_VP_COUNT, buf,
				   sizeof(buf), &size));
	ASSERT_EQ(8U, size);
	memcpy(&v, buf, sizeof(v));
	EXPECT_EQ(1U, v);
	EXPECT_EQ(0xa5, buf[8]);
	EXPECT_EQ(0xa5, buf[15]);

	memset(buf, 0xa5, sizeof(buf));
	ASSERT_VID(0, vid_prop_get(self->fd, VID_PROP_VENDOR_ID, buf,
				   sizeof(buf), &size));
	ASSERT_EQ((uint32_t)VID_VENDOR_ID_SIZE, size);
	EXPECT_EQ(0, memcmp(buf, DEFAULT_VENDOR_ID, VID_VENDOR_ID_SIZE));
	EXPECT_EQ(0xa5, buf[12]);
}

/* ---- set/get round trips ---- */

TEST_F(part, set_get_max_vp_count)
{
	const uint64_t vals[] = { 2, 4, 64, (uint64_t)self->max_vps, 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		if (vals[i] > (uint64_t)self->max_vps)
			continue;
		ASSERT_VID(0, vid_prop_set_u64(self->fd,
					       VID_PROP_MAX_VP_COUNT, vals[i]));
		ASSERT_EQ(vals[i], get_u64(_metadata, self->fd,
					   VID_PROP_MAX_VP_COUNT));
	}
}

TEST_F(part, set_get_vendor_id)
{
	char v[VID_VENDOR_ID_SIZE];

	ASSERT_VID(0, vid_prop_set(self->fd, VID_PROP_VENDOR_ID,
				   TEST_VENDOR_ID, VID_VENDOR_ID_SIZE));
	get_vendor(_metadata, self->fd, v);
	ASSERT_EQ(0, memcmp(v, TEST_VENDOR_ID, VID_VENDOR_ID_SIZE));

	/* Any 12 bytes, NULs included: it is a register image, not a string. */
	memcpy(v, "KVMKVMKVM\0\0\0", VID_VENDOR_ID_SIZE);
	ASSERT_VID(0, vid_prop_set(self->fd, VID_PROP_VENDOR_ID, v,
				   VID_VENDOR_ID_SIZE));
	memset(v, 0x55, sizeof(v));
	get_vendor(_metadata, self->fd, v);
	ASSERT_EQ(0, memcmp(v, "KVMKVMKVM\0\0\0", VID_VENDOR_ID_SIZE));
}

TEST_F(part, set_get_name)
{
	char name[VID_NAME_MAX], longest[VID_NAME_MAX];

	ASSERT_VID(0, vid_partition_set_name(self->fd, "test-vm 1"));
	ASSERT_EQ(strlen("test-vm 1") + 1, get_name(_metadata, self->fd, name));
	ASSERT_STREQ("test-vm 1", name);

	/* The longest name: VID_NAME_MAX bytes with the NUL. */
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	ASSERT_VID(0, vid_partition_set_name(self->fd, longest));
	ASSERT_EQ((uint32_t)VID_NAME_MAX, get_name(_metadata, self->fd, name));
	ASSERT_STREQ(longest, name);

	/* A shorter name replaces a longer one entirely. */
	ASSERT_VID(0, vid_partition_set_name(self->fd, "ab"));
	ASSERT_EQ(3U, get_name(_metadata, self->fd, name));
	ASSERT_STREQ("ab", name);

	ASSERT_VID(0, vid_partition_set_name(self->fd, ""));
	ASSERT_EQ(1U, get_name(_metadata, self->fd, name));
	ASSERT_STREQ("", name);
}

/* Printable means ASCII 0x20..0x7e: every one of them is accepted. */
TEST_F(part, name_accepts_every_printable_ascii)
{
	char want[VID_NAME_MAX], got[VID_NAME_MAX];
	unsigned int c = 0x20, n;

	while (c <= 0x7e) {
		for (n = 0; n < VID_NAME_MAX - 1 && c <= 0x7e; n++)
			want[n] = (char)c++;
		want[n] = '\0';
		ASSERT_VID(0, vid_partition_set_name(self->fd, want));
		get_name(_metadata, self->fd, got);
		ASSERT_STREQ(want, got);
	}
}

/* Every other byte is rejected and leaves the old name in place. */
TEST_F(part, name_rejects_non_printable_keeps_old)
{
	char bad[8], got[VID_NAME_MAX];
	unsigned int c;

	ASSERT_VID(0, vid_partition_set_name(self->fd, "keep"));
	for (c = 1; c <= 0xff; c++) {
		if (c >= 0x20 && c <= 0x7e)
			continue;
		snprintf(bad, sizeof(bad), "ab%ccd", (char)c);
		EXPECT_EQ(-EINVAL, vid_partition_set_name(self->fd, bad))
			TH_LOG("byte %#x accepted", c);
	}
	get_name(_metadata, self->fd, got);
	ASSERT_STREQ("keep", got);
}

/* ---- initialize ---- */

TEST_F(part, initialize_sets_state_initialized)
{
	ASSERT_VID(0, vid_partition_initialize(self->fd));
	ASSERT_EQ((uint64_t)VID_PARTITION_INITIALIZED,
		  get_u64(_metadata, self->fd, VID_PROP_STATE));
}

TEST_F(part, initialize_keeps_shape_set_before)
{
	char v[VID_VENDOR_ID_SIZE];
	uint64_t vps = self->max_vps < 4 ? (uint64_t)self->max_vps : 4;

	ASSERT_VID(0, vid_prop_set_u64(self->fd, VID_PROP_MAX_VP_COUNT, vps));
	ASSERT_VID(0, vid_prop_set(self->fd, VID_PROP_VENDOR_ID,
				   TEST_VENDOR_ID, VID_VENDOR_ID_SIZE));
	ASSERT_VID(0, vid_partition_initialize(self->fd));

	ASSERT_EQ(vps, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
	get_vendor(_metadata, self->fd, v);
	ASSERT_EQ(0, memcmp(v, TEST_VENDOR_ID, VID_VENDOR_ID_SIZE));
}

TEST_F(part, initialize_freezes_max_vp_count)
{
	ASSERT_VID(0, vid_prop_set_u64(self->fd, VID_PROP_MAX_VP_COUNT, 2));
	ASSERT_VID(0, vid_partition_initialize(self->fd));

	ASSERT_VID(-EBUSY, vid_prop_set_u64(self->fd, VID_PROP_MAX_VP_COUNT,
					    1));
	/* Even setting the current value is refused. */
	ASSERT_VID(-EBUSY, vid_prop_set_u64(self->fd, VID_PROP_MAX_VP_COUNT,
					    2));
	ASSERT_EQ(2U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
}

TEST_F(part, initialize_freezes_vendor_id)
{
	char v[VID_VENDOR_ID_SIZE];

	ASSERT_VID(0, vid_partition_initialize(self->fd));
	ASSERT_VID(-EBUSY, vid_prop_set(self->fd, VID_PROP_VENDOR_ID,
					TEST_VENDOR_ID, VID_VENDOR_ID_SIZE));
	get_vendor(_metadata, self->fd, v);
	ASSERT_EQ(0, memcmp(v, DEFAULT_VENDOR_ID, VID_VENDOR_ID_SIZE));
}

TEST_F(part, initialize_keeps_name_writable)
{
	char name[VID_NAME_MAX];

	ASSERT_VID(0, vid_partition_set_name(self->fd, "before"));
	ASSERT_VID(0, vid_partition_initialize(self->fd));
	get_name(_metadata, self->fd, name);
	ASSERT_STREQ("before", name);

	ASSERT_VID(0, vid_partition_set_name(self->fd, "after"));
	get_name(_metadata, self->fd, name);
	ASSERT_STREQ("after", name);
}

TEST_F(part, initialize_twice_is_ebusy)
{
	ASSERT_VID(0, vid_partition_initialize(self->fd));
	ASSERT_VID(-EBUSY, vid_partition_initialize(self->fd));
	ASSERT_EQ((uint64_t)VID_PARTITION_INITIALIZED,
		  get_u64(_metadata, self->fd, VID_PROP_STATE));
}

/* ---- deposit pool ---- */

TEST_F(part, deposit_grows_pool)
{
	uint64_t d0, a0, d1, a1, n;

	n = self->max_deposit < 16 ? (uint64_t)self->max_deposit : 16;
	pool(_metadata, self->fd, &d0, &a0);
	ASSERT_VID(0, vid_partition_deposit(self->fd, n));
	pool(_metadata, self->fd, &d1, &a1);
	ASSERT_EQ(d0 + n, d1);
	ASSERT_EQ(a0 + n, a1);
}

TEST_F(part, deposits_accumulate)
{
	uint64_t d0, a0, d1, a1, sum = 0, n;

	pool(_metadata, self->fd, &d0, &a0);
	for (n = 1; n <= 8; n++) {
		if (n > (uint64_t)self->max_deposit)
			break;
		ASSERT_VID(0, vid_partition_deposit(self->fd, n));
		sum += n;
	}
	pool(_metadata, self->fd, &d1, &a1);
	ASSERT_EQ(d0 + sum, d1);
	ASSERT_EQ(a0 + sum, a1);
}

/* The largest single deposit the capability announces is accepted. */
TEST_F(part, deposit_cap_sized_chunk)
{
	uint64_t d0, a0, d1, a1, n = (uint64_t)self->max_deposit;
	struct vid_meminfo mi;

	ASSERT_EQ(0, vid_meminfo_read(&mi));
	if (n * (VID_PAGE_SIZE / 1024) > mi.mem_available_kb / 4)
		SKIP(return, "VID_CAP_DEPOSIT (%lu pages) > MemAvailable / 4",
		     self->max_deposit);
	pool(_metadata, self->fd, &d0, &a0);
	ASSERT_VID(0, vid_partition_deposit(self->fd, n));
	pool(_metadata, self->fd, &d1, &a1);
	ASSERT_EQ(d0 + n, d1);
	ASSERT_EQ(a0 + n, a1);
}

TEST_F(part, deposit_counts_in_stats_pages)
{
	struct vid_stats s0, s1;
	uint64_t n = self->max_deposit < 32 ? (uint64_t)self->max_deposit : 32;

	ASSERT_STATS_READ(&s0);
	ASSERT_VID(0, vid_partition_deposit(self->fd, n));
	ASSERT_STATS_READ(&s1);
	ASSERT_LE(s0.pages + n, s1.pages);
}

TEST_F(part, withdraw_returns_at_most_available)
{
	uint64_t d0, a0, d1, a1, n;
	int64_t r;

	n = self->max_deposit < 8 ? (uint64_t)self->max_deposit : 8;
	ASSERT_VID(0, vid_partition_deposit(self->fd, n));
	pool(_metadata, self->fd, &d0, &a0);
	ASSERT_LE(n, a0);

	r = vid_partition_withdraw(self->fd, 3);
	ASSERT_LE(0, r);
	ASSERT_GE(3, r);
	pool(_metadata, self->fd, &d1, &a1);
	ASSERT_EQ(d0 - r, d1);
	ASSERT_EQ(a0 - r, a1);

	/* Ask for far more than the pool has. */
	r = vid_partition_withdraw(self->fd, a1 + 1000);
	ASSERT_LE(0, r);
	ASSERT_GE((int64_t)a1, r);
	pool(_metadata, self->fd, &d0, &a0);
	ASSERT_EQ(d1 - r, d0);
	ASSERT_EQ(a1 - r, a0);
}

/* Before initialization nothing is in use: the pool drains completely. */
TEST_F(part, withdraw_drains_uninitialized_pool)
{
	uint64_t d0, a0, d1, a1, n, got;

	n = self->max_deposit < 16 ? (uint64_t)self->max_deposit : 16;
	ASSERT_VID(0, vid_partition_deposit(self->fd, n));
	pool(_metadata, self->fd, &d0, &a0);

	got = drain(_metadata, self->fd, 5);
	ASSERT_EQ(a0, got);
	pool(_metadata, self->fd, &d1, &a1);
	ASSERT_EQ(0U, a1);
	ASSERT_EQ(d0 - a0, d1);
}

TEST_F(part, withdraw_from_empty_pool_returns_0)
{
	uint64_t d, a;

	drain(_metadata, self->fd, 64);
	pool(_metadata, self->fd, &d, &a);
	ASSERT_EQ(0U, a);
	ASSERT_VID(0, vid_partition_withdraw(self->fd, 1));
}

TEST_F(part, initialize_takes_pages_from_pool)
{
	uint64_t d, a, n;

	n = self->max_deposit < 64 ? (uint64_t)self->max_deposit : 64;
	ASSERT_VID(0, vid_partition_deposit(self->fd, n));
	ASSERT_VID(0, vid_partition_initialize(self->fd));
	pool(_metadata, self->fd, &d, &a);
	ASSERT_LE(n, d);
	ASSERT_LT(a, d) TH_LOG("no pool page in use after initialize");
}

/* The kernel deposits what initialization needs and retries. */
TEST_F(part, initialize_on_empty_pool)
{
	uint64_t d, a;

	drain(_metadata, self->fd, 64);
	ASSERT_VID(0, vid_partition_initialize(self->fd));
	ASSERT_EQ((uint64_t)VID_PARTITION_INITIALIZED,
		  get_u64(_metadata, self->fd, VID_PROP_STATE));
	pool(_metadata, self->fd, &d, &a);
	ASSERT_LT(a, d) TH_LOG("no pool page in use after initialize");
}

/* Pages in use stay in the pool; only the available ones come back. */
TEST_F(part, withdraw_after_initialize_keeps_in_use)
{
	uint64_t d0, a0, d1, a1, n, got;

	n = self->max_deposit < 64 ? (uint64_t)self->max_deposit : 64;
	ASSERT_VID(0, vid_partition_deposit(self->fd, n));
	ASSERT_VID(0, vid_partition_initialize(self->fd));
	pool(_metadata, self->fd, &d0, &a0);

	got = drain(_metadata, self->fd, 16);
	ASSERT_EQ(a0, got);
	pool(_metadata, self->fd, &d1, &a1);
	ASSERT_EQ(0U, a1);
	ASSERT_EQ(d0 - a0, d1);
	ASSERT_LT(0U, d1);

	/* The partition is unharmed. */
	ASSERT_EQ((uint64_t)VID_PARTITION_INITIALIZED,
		  get_u64(_metadata, self->fd, VID_PROP_STATE));
}

TEST_F(part, deposit_after_initialize)
{
	uint64_t d0, a0, d1, a1;

	ASSERT_VID(0, vid_partition_initialize(self->fd));
	pool(_metadata, self->fd, &d0, &a0);
	ASSERT_VID(0, vid_partition_deposit(self->fd, 1));
	pool(_metadata, self->fd, &d1, &a1);
	ASSERT_EQ(d0 + 1, d1);
	ASSERT_EQ(a0 + 1, a1);
}

/* ---- teardown returns everything ---- */

FIXTURE(lifetime) {
	int vid_fd;
	struct vid_stats base;
};

FIXTURE_SETUP(lifetime)
{
	self->vid_fd = -1;
	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
	/* Lazily allocated module state must not count as a leak. */
	ASSERT_VID(0, vid_test_warmup(self->vid_fd, 2));
	ASSERT_STATS_READ(&self->base);
}

FIXTURE_TEARDOWN(lifetime)
{
	if (self->vid_fd >= 0)
		close(self->vid_fd);
}

TEST_F(lifetime, close_created_returns_everything)
{
	struct vid_stats now;
	int fd;

	fd = vid_test_partition(self->vid_fd, "created", 32, false);
	ASSERT_LE(0, fd);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(self->base.partitions + 1, now.partitions);
	ASSERT_LE(self->base.pages + 32, now.pages);
	ASSERT_LT(self->base.objects, now.objects);

	close(fd);
	ASSERT_STATS_READ(&now);
	ASSERT_STATS_EQ(&self->base, &now);
}

TEST_F(lifetime, close_initialized_returns_everything)
{
	struct vid_stats now;
	int fd;

	fd = vid_test_partition(self->vid_fd, "initialized", 64, true);
	ASSERT_LE(0, fd);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(self->base.partitions + 1, now.partitions);
	ASSERT_LE(self->base.pages + 64, now.pages);

	close(fd);
	ASSERT_STATS_READ(&now);
	ASSERT_STATS_EQ(&self->base, &now);
}

/* Initialize on an empty pool: the pages the kernel deposited come back. */
TEST_F(lifetime, close_after_kernel_deposit_returns_everything)
{
	struct vid_stats now;
	int fd;

	fd = vid_test_partition(self->vid_fd, NULL, 0, true);
	ASSERT_LE(0, fd);
	ASSERT_STATS_READ(&now);
	ASSERT_LT(self->base.pages, now.pages);

	close(fd);
	ASSERT_STATS_READ(&now);
	ASSERT_STATS_EQ(&self->base, &now);
}

TEST_F(lifetime, close_after_withdraw_returns_everything)
{
	struct vid_stats now;
	int fd;

	fd = vid_test_partition(self->vid_fd, "withdrawn", 32, true);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, vid_partition_withdraw(fd, 8));
	ASSERT_VID(0, vid_partition_deposit(fd, 4));

	close(fd);
	ASSERT_STATS_READ(&now);
	ASSERT_STATS_EQ(&self->base, &now);
}

TEST_HARNESS_MAIN
