// SPDX-License-Identifier: GPL-2.0
/*
 * One test per error path of the /dev/vid uapi, each asserting the exact
 * errno and, where the call could have had an effect, that it had none.
 *
 * Tables of similar paths are fixture variants, so every path still shows
 * up as its own line in the TAP output: "<fixture>.<variant>.<test>".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vid_test_util.h"

#define NAME_KEEP	"keep"

/* ---- shared set-up: a /dev/vid fd and a fresh partition fd ---- */

static void fds_open(struct __test_metadata *_metadata, int *vid_fd, int *fd)
{
	*vid_fd = -1;
	*fd = -1;
	VID_SETUP_OPEN_OR_SKIP(*vid_fd);
	*fd = vid_partition_create(*vid_fd, 0);
	ASSERT_LE(0, *fd) TH_LOG("create partition: %s", strerror(-*fd));
}

static void fds_close(int vid_fd, int fd)
{
	if (fd >= 0)
		close(fd);
	if (vid_fd >= 0)
		close(vid_fd);
}

#define FDS_FIXTURE(name)						\
	FIXTURE_SETUP(name)						\
	{								\
		fds_open(_metadata, &self->vid_fd, &self->fd);		\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		fds_close(self->vid_fd, self->fd);			\
	}

static int prop_ioctl(int fd, unsigned long cmd, uint32_t id, uint32_t flags,
		      uint32_t size, uint32_t reserved, const void *value)
{
	struct vid_property p = {
		.id = id,
		.flags = flags,
		.size = size,
		.reserved = reserved,
		.value = (uintptr_t)value,
	};

	return ioctl(fd, cmd, &p);
}

static uint64_t get_u64(struct __test_metadata *_metadata, int fd,
			uint32_t id)
{
	uint64_t v = 0;

	ASSERT_VID(0, vid_prop_get_u64(fd, id, &v));
	return v;
}

static void expect_name(struct __test_metadata *_metadata, int fd,
			const char *want)
{
	char name[VID_NAME_MAX];

	memset(name, 0, sizeof(name));
	ASSERT_VID(0, vid_prop_get(fd, VID_PROP_NAME, name, sizeof(name),
				   NULL));
	ASSERT_STREQ(want, name);
}

static void expect_vendor(struct __test_metadata *_metadata, int fd,
			  const char *want)
{
	char v[VID_VENDOR_ID_SIZE];

	ASSERT_VID(0, vid_prop_get(fd, VID_PROP_VENDOR_ID, v, sizeof(v),
				   NULL));
	ASSERT_EQ(0, memcmp(want, v, VID_VENDOR_ID_SIZE))
		TH_LOG("vendor id now '%.12s'", v);
}

struct pool_snap {
	uint64_t deposited;
	uint64_t available;
};

static struct pool_snap pool_snap(struct __test_metadata *_metadata, int fd)
{
	struct pool_snap s = { 0, 0 };

	ASSERT_VID(0, vid_test_pool(fd, &s.deposited, &s.available));
	return s;
}

/* The pool balance is what it was at @s. */
static void expect_pool(struct __test_metadata *_metadata, int fd,
			const struct pool_snap *s)
{
	struct pool_snap now = pool_snap(_metadata, fd);

	ASSERT_EQ(s->deposited, now.deposited);
	ASSERT_EQ(s->available, now.available);
}

/* ==== VID_CREATE_PARTITION ==== */

FIXTURE(create_flag) {
	int vid_fd;
};

FIXTURE_VARIANT(create_flag) {
	uint64_t flags;
};

FIXTURE_VARIANT_ADD(create_flag, bit0) { .flags = 1ULL << 0 };
FIXTURE_VARIANT_ADD(create_flag, bit1) { .flags = 1ULL << 1 };
FIXTURE_VARIANT_ADD(create_flag, bit7) { .flags = 1ULL << 7 };
FIXTURE_VARIANT_ADD(create_flag, bit31) { .flags = 1ULL << 31 };
FIXTURE_VARIANT_ADD(create_flag, bit32) { .flags = 1ULL << 32 };
FIXTURE_VARIANT_ADD(create_flag, bit63) { .flags = 1ULL << 63 };
FIXTURE_VARIANT_ADD(create_flag, all) { .flags = ~0ULL };

FIXTURE_SETUP(create_flag)
{
	self->vid_fd = -1;
	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
}

FIXTURE_TEARDOWN(create_flag)
{
	if (self->vid_fd >= 0)
		close(self->vid_fd);
}

TEST_F(create_flag, einval)
{
	struct vid_create_partition args = { .flags = variant->flags };

	ASSERT_ERRNO(EINVAL, ioctl(self->vid_fd, VID_CREATE_PARTITION, &args));
}

FIXTURE(create_reserved) {
	int vid_fd;
};

FIXTURE_VARIANT(create_reserved) {
	unsigned int index;
	uint64_t value;
};

FIXTURE_VARIANT_ADD(create_reserved, r0) { .index = 0, .value = 1 };
FIXTURE_VARIANT_ADD(create_reserved, r0_bit63) { .index = 0,
						 .value = 1ULL << 63 };
FIXTURE_VARIANT_ADD(create_reserved, r1) { .index = 1, .value = 1 };
FIXTURE_VARIANT_ADD(create_reserved, r2) { .index = 2, .value = 1 };

FIXTURE_SETUP(create_reserved)
{
	self->vid_fd = -1;
	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
}

FIXTURE_TEARDOWN(create_reserved)
{
	if (self->vid_fd >= 0)
		close(self->vid_fd);
}

TEST_F(create_reserved, einval)
{
	struct vid_create_partition args;

	memset(&args, 0, sizeof(args));
	args.reserved[variant->index] = variant->value;
	ASSERT_ERRNO(EINVAL, ioctl(self->vid_fd, VID_CREATE_PARTITION, &args));
}

/* ==== bad argument-struct pointers ==== */

FIXTURE(arg_ptr) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(arg_ptr) {
	bool null;
};

FIXTURE_VARIANT_ADD(arg_ptr, null) { .null = true };
FIXTURE_VARIANT_ADD(arg_ptr, unmapped) { .null = false };

FDS_FIXTURE(arg_ptr)

static void *bad_arg(struct __test_metadata *_metadata, bool null)
{
	void *p = null ? NULL : vid_test_fault_page();

	if (!null)
		ASSERT_NE(NULL, p);
	return p;
}

TEST_F(arg_ptr, create_efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->vid_fd, VID_CREATE_PARTITION,
				   bad_arg(_metadata, variant->null)));
}

TEST_F(arg_ptr, get_property_efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, VID_PARTITION_GET_PROPERTY,
				   bad_arg(_metadata, variant->null)));
}

TEST_F(arg_ptr, set_property_efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, VID_PARTITION_SET_PROPERTY,
				   bad_arg(_metadata, variant->null)));
}

TEST_F(arg_ptr, deposit_efault)
{
	struct pool_snap s = pool_snap(_metadata, self->fd);

	ASSERT_ERRNO(EFAULT, ioctl(self->fd, VID_PARTITION_DEPOSIT,
				   bad_arg(_metadata, variant->null)));
	expect_pool(_metadata, self->fd, &s);
}

TEST_F(arg_ptr, withdraw_efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, VID_PARTITION_WITHDRAW,
				   bad_arg(_metadata, variant->null)));
}

/* ==== property id, flags and reserved ==== */

FIXTURE(prop_id) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(prop_id) {
	uint32_t id;
};

FIXTURE_VARIANT_ADD(prop_id, zero) { .id = 0 };
FIXTURE_VARIANT_ADD(prop_id, max_plus_1) { .id = VID_PROP_MAX + 1 };
FIXTURE_VARIANT_ADD(prop_id, x100) { .id = 0x100 };
FIXTURE_VARIANT_ADD(prop_id, x80000000) { .id = 0x80000000U };
FIXTURE_VARIANT_ADD(prop_id, u32_max) { .id = 0xffffffffU };

FDS_FIXTURE(prop_id)

TEST_F(prop_id, get_einval)
{
	uint8_t buf[256];

	ASSERT_ERRNO(EINVAL, prop_ioctl(self->fd, VID_PARTITION_GET_PROPERTY,
					variant->id, 0, sizeof(buf), 0, buf));
}

TEST_F(prop_id, set_einval)
{
	uint64_t v = 1;

	ASSERT_ERRNO(EINVAL, prop_ioctl(self->fd, VID_PARTITION_SET_PROPERTY,
					variant->id, 0, sizeof(v), 0, &v));
}

FIXTURE(prop_flags) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(prop_flags) {
	uint32_t flags;
	uint32_t reserved;
};

FIXTURE_VARIANT_ADD(prop_flags, flags_bit0) { .flags = 1 };
FIXTURE_VARIANT_ADD(prop_flags, flags_bit31) { .flags = 1U << 31 };
FIXTURE_VARIANT_ADD(prop_flags, reserved_bit0) { .reserved = 1 };
FIXTURE_VARIANT_ADD(prop_flags, reserved_bit31) { .reserved = 1U << 31 };

FDS_FIXTURE(prop_flags)

TEST_F(prop_flags, get_einval)
{
	uint64_t v = 0;

	ASSERT_ERRNO(EINVAL, prop_ioctl(self->fd, VID_PARTITION_GET_PROPERTY,
					VID_PROP_MAX_VP_COUNT, variant->flags,
					sizeof(v), variant->reserved, &v));
}

TEST_F(prop_flags, set_einval)
{
	uint64_t v = 2;

	ASSERT_ERRNO(EINVAL, prop_ioctl(self->fd, VID_PARTITION_SET_PROPERTY,
					VID_PROP_MAX_VP_COUNT, variant->flags,
					sizeof(v), variant->reserved, &v));
	ASSERT_EQ(1U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
}

/* ==== SET with the wrong size ==== */

FIXTURE(set_size) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(set_size) {
	uint32_t id;
	uint32_t size;
};

FIXTURE_VARIANT_ADD(set_size, u64_size_0) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 0 };
FIXTURE_VARIANT_ADD(set_size, u64_size_4) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 4 };
FIXTURE_VARIANT_ADD(set_size, u64_size_7) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 7 };
FIXTURE_VARIANT_ADD(set_size, u64_size_9) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 9 };
FIXTURE_VARIANT_ADD(set_size, u64_size_16) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 16 };
FIXTURE_VARIANT_ADD(set_size, vendor_size_0) {
	.id = VID_PROP_VENDOR_ID, .size = 0 };
FIXTURE_VARIANT_ADD(set_size, vendor_size_11) {
	.id = VID_PROP_VENDOR_ID, .size = VID_VENDOR_ID_SIZE - 1 };
FIXTURE_VARIANT_ADD(set_size, vendor_size_13) {
	.id = VID_PROP_VENDOR_ID, .size = VID_VENDOR_ID_SIZE + 1 };
FIXTURE_VARIANT_ADD(set_size, name_size_0) {
	.id = VID_PROP_NAME, .size = 0 };
FIXTURE_VARIANT_ADD(set_size, name_size_max_plus_1) {
	.id = VID_PROP_NAME, .size = VID_NAME_MAX + 1 };
FIXTURE_VARIANT_ADD(set_size, name_size_4096) {
	.id = VID_PROP_NAME, .size = 4096 };

FDS_FIXTURE(set_size)

/*
 * The buffer holds a value that would be valid if the size were ignored:
 * MAX_VP_COUNT 2, a 13-byte vendor id, and a NUL-terminated printable name
 * exactly @size bytes long. The rejected set must leave the old value.
 */
TEST_F(set_size, einval)
{
	static uint8_t buf[8192];
	uint64_t two = 2;

	ASSERT_VID(0, vid_partition_set_name(self->fd, NAME_KEEP));
	switch (variant->id) {
	case VID_PROP_MAX_VP_COUNT:
		memset(buf, 0, sizeof(buf));
		memcpy(buf, &two, sizeof(two));
		break;
	case VID_PROP_VENDOR_ID:
		memcpy(buf, "ABCDEFGHIJKLM", 13);
		break;
	case VID_PROP_NAME:
		memset(buf, 'n', sizeof(buf));
		buf[variant->size ? variant->size - 1 : 0] = '\0';
		break;
	}

	ASSERT_ERRNO(EINVAL, prop_ioctl(self->fd, VID_PARTITION_SET_PROPERTY,
					variant->id, 0, variant->size, 0,
					buf));

	ASSERT_EQ(1U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
	expect_vendor(_metadata, self->fd, "Microsoft Hv");
	expect_name(_metadata, self->fd, NAME_KEEP);
}

/* ==== names ==== */

FIXTURE(name_no_nul) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(name_no_nul) {
	uint32_t size;
};

FIXTURE_VARIANT_ADD(name_no_nul, size_1) { .size = 1 };
FIXTURE_VARIANT_ADD(name_no_nul, size_4) { .size = 4 };
FIXTURE_VARIANT_ADD(name_no_nul, size_max) { .size = VID_NAME_MAX };

FDS_FIXTURE(name_no_nul)

/* The byte right after @size is a NUL: the kernel must not read it. */
TEST_F(name_no_nul, einval)
{
	char buf[VID_NAME_MAX + 8];

	ASSERT_VID(0, vid_partition_set_name(self->fd, NAME_KEEP));
	memset(buf, 'a', sizeof(buf));
	buf[variant->size] = '\0';
	ASSERT_ERRNO(EINVAL, prop_ioctl(self->fd, VID_PARTITION_SET_PROPERTY,
					VID_PROP_NAME, 0, variant->size, 0,
					buf));
	expect_name(_metadata, self->fd, NAME_KEEP);
}

FIXTURE(name_byte) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(name_byte) {
	uint8_t byte;
};

FIXTURE_VARIANT_ADD(name_byte, x01) { .byte = 0x01 };
FIXTURE_VARIANT_ADD(name_byte, tab) { .byte = '\t' };
FIXTURE_VARIANT_ADD(name_byte, newline) { .byte = '\n' };
FIXTURE_VARIANT_ADD(name_byte, cr) { .byte = '\r' };
FIXTURE_VARIANT_ADD(name_byte, esc) { .byte = 0x1b };
FIXTURE_VARIANT_ADD(name_byte, x1f) { .byte = 0x1f };
FIXTURE_VARIANT_ADD(name_byte, del) { .byte = 0x7f };
FIXTURE_VARIANT_ADD(name_byte, x80) { .byte = 0x80 };
FIXTURE_VARIANT_ADD(name_byte, x9f) { .byte = 0x9f };
/* The kernel's isprint() accepts Latin-1 0xa0..0xff; the uapi must not. */
FIXTURE_VARIANT_ADD(name_byte, xa0) { .byte = 0xa0 };
FIXTURE_VARIANT_ADD(name_byte, xe9) { .byte = 0xe9 };
FIXTURE_VARIANT_ADD(name_byte, xff) { .byte = 0xff };

FDS_FIXTURE(name_byte)

TEST_F(name_byte, einval)
{
	char buf[] = "ab?cd";

	buf[2] = (char)variant->byte;
	ASSERT_VID(0, vid_partition_set_name(self->fd, NAME_KEEP));
	ASSERT_ERRNO(EINVAL, prop_ioctl(self->fd, VID_PARTITION_SET_PROPERTY,
					VID_PROP_NAME, 0, sizeof(buf), 0,
					buf));
	expect_name(_metadata, self->fd, NAME_KEEP);
}

/* Same byte as the first or last character. */
TEST_F(name_byte, einval_at_ends)
{
	char first[] = "?bcd", last[] = "abc?";

	first[0] = (char)variant->byte;
	last[3] = (char)variant->byte;
	ASSERT_VID(-EINVAL, vid_partition_set_name(self->fd, first));
	ASSERT_VID(-EINVAL, vid_partition_set_name(self->fd, last));
	expect_name(_metadata, self->fd, "");
}

/* ==== GET with a buffer too small ==== */

#define NAME_HELLO	"hello-vm"	/* 9 bytes with the NUL */

FIXTURE(get_small) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(get_small) {
	uint32_t id;
	uint32_t size;
	uint32_t needed;
};

FIXTURE_VARIANT_ADD(get_small, u64_size_0) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 0, .needed = 8 };
FIXTURE_VARIANT_ADD(get_small, u64_size_4) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 4, .needed = 8 };
FIXTURE_VARIANT_ADD(get_small, u64_size_7) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 7, .needed = 8 };
FIXTURE_VARIANT_ADD(get_small, partition_id_size_4) {
	.id = VID_PROP_PARTITION_ID, .size = 4, .needed = 8 };
FIXTURE_VARIANT_ADD(get_small, pool_available_size_1) {
	.id = VID_PROP_POOL_AVAILABLE, .size = 1, .needed = 8 };
FIXTURE_VARIANT_ADD(get_small, vendor_size_0) {
	.id = VID_PROP_VENDOR_ID, .size = 0, .needed = VID_VENDOR_ID_SIZE };
FIXTURE_VARIANT_ADD(get_small, vendor_size_11) {
	.id = VID_PROP_VENDOR_ID, .size = 11, .needed = VID_VENDOR_ID_SIZE };
FIXTURE_VARIANT_ADD(get_small, name_size_0) {
	.id = VID_PROP_NAME, .size = 0, .needed = sizeof(NAME_HELLO) };
FIXTURE_VARIANT_ADD(get_small, name_size_1) {
	.id = VID_PROP_NAME, .size = 1, .needed = sizeof(NAME_HELLO) };
FIXTURE_VARIANT_ADD(get_small, name_size_8) {
	.id = VID_PROP_NAME, .size = 8, .needed = sizeof(NAME_HELLO) };

FDS_FIXTURE(get_small)

/*
 * -ENOSPC, the needed size written back, and not one byte of the value
 * buffer touched.
 */
TEST_F(get_small, enospc)
{
	struct vid_property p;
	uint8_t buf[64];
	unsigned int i;

	ASSERT_VID(0, vid_partition_set_name(self->fd, NAME_HELLO));
	memset(buf, 0xa5, sizeof(buf));
	memset(&p, 0, sizeof(p));
	p.id = variant->id;
	p.size = variant->size;
	p.value = (uintptr_t)buf;

	ASSERT_ERRNO(ENOSPC, ioctl(self->fd, VID_PARTITION_GET_PROPERTY, &p));
	ASSERT_EQ(variant->needed, p.size);
	EXPECT_EQ((uint32_t)variant->id, p.id);
	for (i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]) TH_LOG("byte %u written", i);
}

/* ==== bad value pointers ==== */

FIXTURE(value_ptr) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(value_ptr) {
	uint32_t id;
	uint32_t size;
	bool null;
};

FIXTURE_VARIANT_ADD(value_ptr, u64_null) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 8, .null = true };
FIXTURE_VARIANT_ADD(value_ptr, u64_unmapped) {
	.id = VID_PROP_MAX_VP_COUNT, .size = 8, .null = false };
FIXTURE_VARIANT_ADD(value_ptr, vendor_null) {
	.id = VID_PROP_VENDOR_ID, .size = VID_VENDOR_ID_SIZE, .null = true };
FIXTURE_VARIANT_ADD(value_ptr, vendor_unmapped) {
	.id = VID_PROP_VENDOR_ID, .size = VID_VENDOR_ID_SIZE, .null = false };
FIXTURE_VARIANT_ADD(value_ptr, name_null) {
	.id = VID_PROP_NAME, .size = 8, .null = true };
FIXTURE_VARIANT_ADD(value_ptr, name_unmapped) {
	.id = VID_PROP_NAME, .size = 8, .null = false };

FDS_FIXTURE(value_ptr)

TEST_F(value_ptr, get_efault)
{
	ASSERT_ERRNO(EFAULT, prop_ioctl(self->fd, VID_PARTITION_GET_PROPERTY,
					variant->id, 0, variant->size, 0,
					bad_arg(_metadata, variant->null)));
}

TEST_F(value_ptr, set_efault)
{
	ASSERT_VID(0, vid_partition_set_name(self->fd, NAME_KEEP));
	ASSERT_ERRNO(EFAULT, prop_ioctl(self->fd, VID_PARTITION_SET_PROPERTY,
					variant->id, 0, variant->size, 0,
					bad_arg(_metadata, variant->null)));
	ASSERT_EQ(1U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
	expect_vendor(_metadata, self->fd, "Microsoft Hv");
	expect_name(_metadata, self->fd, NAME_KEEP);
}

/* ==== read-only properties ==== */

FIXTURE(read_only) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(read_only) {
	uint32_t id;
};

FIXTURE_VARIANT_ADD(read_only, partition_id) { .id = VID_PROP_PARTITION_ID };
FIXTURE_VARIANT_ADD(read_only, state) { .id = VID_PROP_STATE };
FIXTURE_VARIANT_ADD(read_only, pool_deposited) {
	.id = VID_PROP_POOL_DEPOSITED };
FIXTURE_VARIANT_ADD(read_only, pool_available) {
	.id = VID_PROP_POOL_AVAILABLE };

FDS_FIXTURE(read_only)

/* Setting the value it already has is refused too. */
TEST_F(read_only, eperm)
{
	uint64_t before, after, v;

	before = get_u64(_metadata, self->fd, variant->id);
	v = before;
	ASSERT_ERRNO(EPERM, prop_ioctl(self->fd, VID_PARTITION_SET_PROPERTY,
				       variant->id, 0, sizeof(v), 0, &v));
	v = before + 5;
	ASSERT_ERRNO(EPERM, prop_ioctl(self->fd, VID_PARTITION_SET_PROPERTY,
				       variant->id, 0, sizeof(v), 0, &v));
	after = get_u64(_metadata, self->fd, variant->id);
	ASSERT_EQ(before, after);
}

/* ==== deposit / withdraw flags and reserved fields ==== */

FIXTURE(deposit_field) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(deposit_field) {
	uint64_t flags;
	uint64_t reserved0;
	uint64_t reserved1;
};

FIXTURE_VARIANT_ADD(deposit_field, flags_bit0) { .flags = 1 };
FIXTURE_VARIANT_ADD(deposit_field, flags_bit63) { .flags = 1ULL << 63 };
FIXTURE_VARIANT_ADD(deposit_field, reserved0) { .reserved0 = 1 };
FIXTURE_VARIANT_ADD(deposit_field, reserved1) { .reserved1 = 1ULL << 40 };

FDS_FIXTURE(deposit_field)

TEST_F(deposit_field, deposit_einval)
{
	struct pool_snap s = pool_snap(_metadata, self->fd);
	struct vid_deposit d = {
		.pages = 1,
		.flags = variant->flags,
		.reserved = { variant->reserved0, variant->reserved1 },
	};

	ASSERT_ERRNO(EINVAL, ioctl(self->fd, VID_PARTITION_DEPOSIT, &d));
	expect_pool(_metadata, self->fd, &s);
}

TEST_F(deposit_field, withdraw_einval)
{
	struct vid_deposit d = {
		.pages = 1,
		.flags = variant->flags,
		.reserved = { variant->reserved0, variant->reserved1 },
	};

	struct pool_snap s;

	ASSERT_VID(0, vid_partition_deposit(self->fd, 2));
	s = pool_snap(_metadata, self->fd);
	ASSERT_LE(2U, s.available);
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, VID_PARTITION_WITHDRAW, &d));
	expect_pool(_metadata, self->fd, &s);
}

/* ==== single error paths on a partition ==== */

FIXTURE(part) {
	int vid_fd;
	int fd;
};

FDS_FIXTURE(part)

static long cap(struct __test_metadata *_metadata, int vid_fd,
		unsigned int which)
{
	long v = vid_check_cap(vid_fd, which);

	ASSERT_LE(1, v);
	return v;
}

TEST_F(part, set_max_vp_count_zero_einval)
{
	ASSERT_VID(-EINVAL, vid_prop_set_u64(self->fd, VID_PROP_MAX_VP_COUNT,
					     0));
	ASSERT_EQ(1U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
}

TEST_F(part, set_max_vp_count_over_cap_einval)
{
	uint64_t v = cap(_metadata, self->vid_fd, VID_CAP_MAX_VPS) + 1;

	ASSERT_VID(-EINVAL, vid_prop_set_u64(self->fd, VID_PROP_MAX_VP_COUNT,
					     v));
	ASSERT_EQ(1U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
}

TEST_F(part, set_max_vp_count_u64_max_einval)
{
	ASSERT_VID(-EINVAL, vid_prop_set_u64(self->fd, VID_PROP_MAX_VP_COUNT,
					     UINT64_MAX));
	ASSERT_EQ(1U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
}

/* 2^32 + 2 would read as 2 through a 32-bit truncation. */
TEST_F(part, set_max_vp_count_truncation_einval)
{
	ASSERT_VID(-EINVAL, vid_prop_set_u64(self->fd, VID_PROP_MAX_VP_COUNT,
					     (1ULL << 32) | 2));
	ASSERT_EQ(1U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
}

/* The kernel writes the size back: an argument it cannot write faults. */
TEST_F(part, get_property_readonly_arg_efault)
{
	struct vid_property *p = vid_test_readonly_page();
	uint64_t v;
	struct vid_property init = {
		.id = VID_PROP_MAX_VP_COUNT,
		.size = 16,
		.value = (uintptr_t)&v,
	};

	ASSERT_NE(NULL, p);
	/* Fill the page, then make it read-only again. */
	ASSERT_EQ(0, mprotect(p, VID_PAGE_SIZE, PROT_READ | PROT_WRITE));
	*p = init;
	ASSERT_EQ(0, mprotect(p, VID_PAGE_SIZE, PROT_READ));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, VID_PARTITION_GET_PROPERTY, p));
}

TEST_F(part, get_property_readonly_value_efault)
{
	void *ro = vid_test_readonly_page();

	ASSERT_NE(NULL, ro);
	ASSERT_ERRNO(EFAULT, prop_ioctl(self->fd, VID_PARTITION_GET_PROPERTY,
					VID_PROP_PARTITION_ID, 0, 8, 0, ro));
}

TEST_F(part, withdraw_readonly_arg_efault)
{
	struct vid_deposit *d = vid_test_readonly_page();

	ASSERT_NE(NULL, d);
	ASSERT_EQ(0, mprotect(d, VID_PAGE_SIZE, PROT_READ | PROT_WRITE));
	memset(d, 0, sizeof(*d));
	d->pages = 1;
	ASSERT_EQ(0, mprotect(d, VID_PAGE_SIZE, PROT_READ));
	ASSERT_ERRNO(EFAULT, ioctl(self->fd, VID_PARTITION_WITHDRAW, d));
}

TEST_F(part, deposit_zero_einval)
{
	struct pool_snap s = pool_snap(_metadata, self->fd);

	ASSERT_VID(-EINVAL, vid_partition_deposit(self->fd, 0));
	expect_pool(_metadata, self->fd, &s);
}

TEST_F(part, deposit_over_cap_einval)
{
	struct pool_snap s = pool_snap(_metadata, self->fd);
	uint64_t n = cap(_metadata, self->vid_fd, VID_CAP_DEPOSIT) + 1;

	ASSERT_VID(-EINVAL, vid_partition_deposit(self->fd, n));
	expect_pool(_metadata, self->fd, &s);
}

TEST_F(part, deposit_u64_max_einval)
{
	struct pool_snap s = pool_snap(_metadata, self->fd);

	ASSERT_VID(-EINVAL, vid_partition_deposit(self->fd, UINT64_MAX));
	expect_pool(_metadata, self->fd, &s);
}

/* 2^32 + 1 would read as 1 through a 32-bit truncation. */
TEST_F(part, deposit_truncation_einval)
{
	struct pool_snap s = pool_snap(_metadata, self->fd);

	ASSERT_VID(-EINVAL, vid_partition_deposit(self->fd, (1ULL << 32) | 1));
	expect_pool(_metadata, self->fd, &s);
}

TEST_F(part, withdraw_zero_einval)
{
	struct pool_snap s;

	ASSERT_VID(0, vid_partition_deposit(self->fd, 2));
	s = pool_snap(_metadata, self->fd);
	ASSERT_VID(-EINVAL, vid_partition_withdraw(self->fd, 0));
	expect_pool(_metadata, self->fd, &s);
}

/* The NUL ends the name exactly at @size: no hidden bytes after it. */
TEST_F(part, set_name_early_nul_einval)
{
	static const char buf[] = "abc\0def";

	ASSERT_VID(0, vid_partition_set_name(self->fd, NAME_KEEP));
	ASSERT_VID(-EINVAL, vid_prop_set(self->fd, VID_PROP_NAME, buf,
					 sizeof(buf)));
	expect_name(_metadata, self->fd, NAME_KEEP);
}

/* _IO ioctls take no argument: a non-zero one is a reserved field. */
TEST_F(part, api_version_nonzero_arg_einval)
{
	ASSERT_ERRNO(EINVAL, ioctl(self->vid_fd, VID_GET_API_VERSION, 1UL));
}

TEST_F(part, initialize_nonzero_arg_einval)
{
	ASSERT_ERRNO(EINVAL, ioctl(self->fd, VID_PARTITION_INITIALIZE, 1UL));
	ASSERT_EQ((uint64_t)VID_PARTITION_CREATED,
		  get_u64(_metadata, self->fd, VID_PROP_STATE));
}

/* ==== ioctl numbers a file does not know: -ENOTTY ==== */

enum arg_kind {
	ARG_NONE,
	ARG_CAP,
	ARG_CREATE,
	ARG_GET,
	ARG_SET,
	ARG_DEPOSIT,
};

/*
 * Call @cmd with an argument that would be valid for the ioctl it
 * resembles, inside a larger zeroed buffer, so that a wrong dispatch shows
 * up as success rather than as a coincidental error.
 */
static int call_like(int fd, unsigned long cmd, enum arg_kind kind)
{
	static uint64_t value;
	static union {
		struct vid_create_partition create;
		struct vid_property prop;
		struct vid_deposit deposit;
		uint8_t raw[512];
	} buf;

	memset(&buf, 0, sizeof(buf));
	value = 2;
	switch (kind) {
	case ARG_NONE:
		return ioctl(fd, cmd, 0);
	case ARG_CAP:
		return ioctl(fd, cmd, (unsigned long)VID_CAP_MAX_VPS);
	case ARG_CREATE:
		break;
	case ARG_GET:
	case ARG_SET:
		buf.prop.id = VID_PROP_MAX_VP_COUNT;
		buf.prop.size = sizeof(value);
		buf.prop.value = (uintptr_t)&value;
		break;
	case ARG_DEPOSIT:
		buf.deposit.pages = 1;
		break;
	}
	return ioctl(fd, cmd, &buf);
}

FIXTURE(dev_enotty) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(dev_enotty) {
	unsigned long cmd;
	enum arg_kind arg;
};

/* Partition ioctls on the /dev/vid fd. */
FIXTURE_VARIANT_ADD(dev_enotty, partition_get_property) {
	.cmd = VID_PARTITION_GET_PROPERTY, .arg = ARG_GET };
FIXTURE_VARIANT_ADD(dev_enotty, partition_set_property) {
	.cmd = VID_PARTITION_SET_PROPERTY, .arg = ARG_SET };
FIXTURE_VARIANT_ADD(dev_enotty, partition_initialize) {
	.cmd = VID_PARTITION_INITIALIZE, .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(dev_enotty, partition_deposit) {
	.cmd = VID_PARTITION_DEPOSIT, .arg = ARG_DEPOSIT };
FIXTURE_VARIANT_ADD(dev_enotty, partition_withdraw) {
	.cmd = VID_PARTITION_WITHDRAW, .arg = ARG_DEPOSIT };
/* Numbers nobody defines. */
FIXTURE_VARIANT_ADD(dev_enotty, unknown_nr_03) {
	.cmd = _IO(VIDIO, 0x03), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(dev_enotty, unknown_nr_0f) {
	.cmd = _IO(VIDIO, 0x0f), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(dev_enotty, unknown_nr_ff) {
	.cmd = _IO(VIDIO, 0xff), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(dev_enotty, unknown_nr_15_rw) {
	.cmd = _IOWR(VIDIO, 0x15, struct vid_property), .arg = ARG_GET };
/* Right nr, wrong magic. */
FIXTURE_VARIANT_ADD(dev_enotty, kvm_create_vm) {
	.cmd = _IO(0xAE, 0x01), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(dev_enotty, foreign_magic_api_version) {
	.cmd = _IO(0xAE, 0x00), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(dev_enotty, foreign_magic_create) {
	.cmd = _IOW('T', 0x02, struct vid_create_partition),
	.arg = ARG_CREATE };
/* Right nr, wrong encoded size. */
FIXTURE_VARIANT_ADD(dev_enotty, create_size_plus_8) {
	.cmd = _IOC(_IOC_WRITE, VIDIO, 0x02,
		    sizeof(struct vid_create_partition) + 8),
	.arg = ARG_CREATE };
FIXTURE_VARIANT_ADD(dev_enotty, create_size_minus_8) {
	.cmd = _IOC(_IOC_WRITE, VIDIO, 0x02,
		    sizeof(struct vid_create_partition) - 8),
	.arg = ARG_CREATE };
FIXTURE_VARIANT_ADD(dev_enotty, api_version_with_size) {
	.cmd = _IOR(VIDIO, 0x00, __u32), .arg = ARG_CREATE };
FIXTURE_VARIANT_ADD(dev_enotty, check_capability_with_size) {
	.cmd = _IOW(VIDIO, 0x01, __u64), .arg = ARG_CREATE };
/* Right nr and size, wrong direction. */
FIXTURE_VARIANT_ADD(dev_enotty, create_dir_none) {
	.cmd = _IOC(_IOC_NONE, VIDIO, 0x02,
		    sizeof(struct vid_create_partition)),
	.arg = ARG_CREATE };
FIXTURE_VARIANT_ADD(dev_enotty, create_dir_read) {
	.cmd = _IOR(VIDIO, 0x02, struct vid_create_partition),
	.arg = ARG_CREATE };
FIXTURE_VARIANT_ADD(dev_enotty, create_dir_read_write) {
	.cmd = _IOWR(VIDIO, 0x02, struct vid_create_partition),
	.arg = ARG_CREATE };
FIXTURE_VARIANT_ADD(dev_enotty, api_version_dir_read) {
	.cmd = _IOC(_IOC_READ, VIDIO, 0x00, 0), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(dev_enotty, check_capability_dir_write) {
	.cmd = _IOC(_IOC_WRITE, VIDIO, 0x01, 0), .arg = ARG_CAP };

FDS_FIXTURE(dev_enotty)

TEST_F(dev_enotty, rejected)
{
	ASSERT_ERRNO(ENOTTY, call_like(self->vid_fd, variant->cmd,
				       variant->arg));
	/* The device is still fine. */
	ASSERT_EQ(VID_API_VERSION, vid_api_version(self->vid_fd));
}

FIXTURE(part_enotty) {
	int vid_fd;
	int fd;
};

FIXTURE_VARIANT(part_enotty) {
	unsigned long cmd;
	enum arg_kind arg;
};

/* /dev/vid ioctls on a partition fd. */
FIXTURE_VARIANT_ADD(part_enotty, dev_get_api_version) {
	.cmd = VID_GET_API_VERSION, .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(part_enotty, dev_check_capability) {
	.cmd = VID_CHECK_CAPABILITY, .arg = ARG_CAP };
FIXTURE_VARIANT_ADD(part_enotty, dev_create_partition) {
	.cmd = VID_CREATE_PARTITION, .arg = ARG_CREATE };
/* Numbers nobody defines. */
FIXTURE_VARIANT_ADD(part_enotty, unknown_nr_15) {
	.cmd = _IO(VIDIO, 0x15), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(part_enotty, unknown_nr_0f) {
	.cmd = _IO(VIDIO, 0x0f), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(part_enotty, unknown_nr_ff) {
	.cmd = _IO(VIDIO, 0xff), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(part_enotty, unknown_nr_20_rw) {
	.cmd = _IOWR(VIDIO, 0x20, struct vid_property), .arg = ARG_GET };
/* Right nr and size, wrong magic. */
FIXTURE_VARIANT_ADD(part_enotty, foreign_magic_get_property) {
	.cmd = _IOWR('T', 0x10, struct vid_property), .arg = ARG_GET };
FIXTURE_VARIANT_ADD(part_enotty, foreign_magic_deposit) {
	.cmd = _IOW(0xAE, 0x13, struct vid_deposit), .arg = ARG_DEPOSIT };
/* Right nr, wrong encoded size. */
FIXTURE_VARIANT_ADD(part_enotty, get_property_size_plus_8) {
	.cmd = _IOC(_IOC_READ | _IOC_WRITE, VIDIO, 0x10,
		    sizeof(struct vid_property) + 8),
	.arg = ARG_GET };
FIXTURE_VARIANT_ADD(part_enotty, get_property_size_minus_8) {
	.cmd = _IOC(_IOC_READ | _IOC_WRITE, VIDIO, 0x10,
		    sizeof(struct vid_property) - 8),
	.arg = ARG_GET };
FIXTURE_VARIANT_ADD(part_enotty, set_property_size_plus_8) {
	.cmd = _IOC(_IOC_WRITE, VIDIO, 0x11,
		    sizeof(struct vid_property) + 8),
	.arg = ARG_SET };
FIXTURE_VARIANT_ADD(part_enotty, initialize_with_size) {
	.cmd = _IOW(VIDIO, 0x12, __u64), .arg = ARG_CREATE };
FIXTURE_VARIANT_ADD(part_enotty, deposit_size_plus_8) {
	.cmd = _IOC(_IOC_WRITE, VIDIO, 0x13,
		    sizeof(struct vid_deposit) + 8),
	.arg = ARG_DEPOSIT };
FIXTURE_VARIANT_ADD(part_enotty, withdraw_size_minus_8) {
	.cmd = _IOC(_IOC_READ | _IOC_WRITE, VIDIO, 0x14,
		    sizeof(struct vid_deposit) - 8),
	.arg = ARG_DEPOSIT };
/* Right nr and size, wrong direction. */
FIXTURE_VARIANT_ADD(part_enotty, get_property_dir_write) {
	.cmd = _IOW(VIDIO, 0x10, struct vid_property), .arg = ARG_GET };
FIXTURE_VARIANT_ADD(part_enotty, get_property_dir_read) {
	.cmd = _IOR(VIDIO, 0x10, struct vid_property), .arg = ARG_GET };
FIXTURE_VARIANT_ADD(part_enotty, set_property_dir_read_write) {
	.cmd = _IOWR(VIDIO, 0x11, struct vid_property), .arg = ARG_SET };
FIXTURE_VARIANT_ADD(part_enotty, set_property_dir_none) {
	.cmd = _IOC(_IOC_NONE, VIDIO, 0x11, sizeof(struct vid_property)),
	.arg = ARG_SET };
FIXTURE_VARIANT_ADD(part_enotty, initialize_dir_read) {
	.cmd = _IOC(_IOC_READ, VIDIO, 0x12, 0), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(part_enotty, deposit_dir_read_write) {
	.cmd = _IOWR(VIDIO, 0x13, struct vid_deposit), .arg = ARG_DEPOSIT };
FIXTURE_VARIANT_ADD(part_enotty, withdraw_dir_write) {
	.cmd = _IOW(VIDIO, 0x14, struct vid_deposit), .arg = ARG_DEPOSIT };

FDS_FIXTURE(part_enotty)

TEST_F(part_enotty, rejected)
{
	struct pool_snap s = pool_snap(_metadata, self->fd);

	ASSERT_ERRNO(ENOTTY, call_like(self->fd, variant->cmd, variant->arg));
	/* Nothing happened to the partition. */
	ASSERT_EQ((uint64_t)VID_PARTITION_CREATED,
		  get_u64(_metadata, self->fd, VID_PROP_STATE));
	ASSERT_EQ(1U, get_u64(_metadata, self->fd, VID_PROP_MAX_VP_COUNT));
	expect_pool(_metadata, self->fd, &s);
}

TEST_HARNESS_MAIN
