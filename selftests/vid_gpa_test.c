// SPDX-License-Identifier: GPL-2.0
/*
 * The guest physical address map: VID_PARTITION_MAP_GPA and _UNMAP_GPA.
 *
 * Every error path is its own test (tables are fixture variants) and
 * checks that the failed call pinned nothing and left the map as it was.
 * The pin accounting is followed through the "pinned" key of the debugfs
 * stats: mapping N pages raises it by N, unmapping or closing the
 * partition lowers it again, and memory the VMM munmap()s while the guest
 * still maps it stays pinned (and accounted) until then.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vid_test_util.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT		26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB		(21 << MAP_HUGE_SHIFT)
#endif

#define PG			VID_PAGE_SIZE
#define HUGE_2M			(2UL << 20)
#define RW			(VID_MAP_READ | VID_MAP_WRITE)
#define RWX			VID_MAP_FLAGS_VALID
#define HOST_PAGES		256
#define MANY_MAPPINGS		200
#define LARGE_PAGES		1024
#define WARMUP_ROUNDS		2

/* Two mappings most fixtures start from: pages [16, 20) and [24, 28). */
#define M1_PAGE			16
#define M2_PAGE			24
#define M_PAGES			4

/* ---- shared set-up ---- */

/*
 * struct gpa_env - what every test here starts with
 * @vid_fd: /dev/vid.
 * @fd: a partition, created (and initialized if the fixture says so).
 * @host: HOST_PAGES pages of anonymous read/write memory, touched.
 * @pinned0: the stats' "pinned" right after set-up.
 */
struct gpa_env {
	int vid_fd;
	int fd;
	uint8_t *host;
	uint64_t pinned0;
};

static void *mem_anon(size_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static uint64_t pinned_now(struct __test_metadata *_metadata)
{
	struct vid_stats st;

	ASSERT_STATS_READ_PINNED(&st);
	return st.pinned;
}

/* The stats' "pinned" is exactly @want. */
static void expect_pinned(struct __test_metadata *_metadata, uint64_t want)
{
	ASSERT_EQ(want, pinned_now(_metadata));
}

static void env_open(struct __test_metadata *_metadata, struct gpa_env *e,
		     bool initialize)
{
	e->vid_fd = -1;
	e->fd = -1;
	e->host = NULL;
	VID_SETUP_OPEN_OR_SKIP(e->vid_fd);
	e->fd = vid_test_partition(e->vid_fd, NULL, 0, initialize);
	ASSERT_LE(0, e->fd) TH_LOG("create partition: %s", strerror(-e->fd));
	e->host = mem_anon(HOST_PAGES * PG, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, e->host);
	memset(e->host, 0x5a, HOST_PAGES * PG);
	e->pinned0 = pinned_now(_metadata);
}

static void env_close(struct gpa_env *e)
{
	if (e->fd >= 0)
		close(e->fd);
	if (e->vid_fd >= 0)
		close(e->vid_fd);
	if (e->host)
		munmap(e->host, HOST_PAGES * PG);
}

/* Set-up and teardown of a fixture whose data is one struct gpa_env. */
#define GPA_FIXTURE(name, initialize)					\
	FIXTURE_SETUP(name)						\
	{								\
		env_open(_metadata, &self->env, initialize);		\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		env_close(&self->env);					\
	}

/* Map the two ranges M1 and M2 from distinct host pages. */
static void map_m1_m2(struct __test_metadata *_metadata, struct gpa_env *e)
{
	ASSERT_VID(0, vid_map_gpa(e->fd, M1_PAGE * PG, M_PAGES * PG,
				  e->host, RW));
	ASSERT_VID(0, vid_map_gpa(e->fd, M2_PAGE * PG, M_PAGES * PG,
				  e->host + M_PAGES * PG, RW));
	expect_pinned(_metadata, e->pinned0 + 2 * M_PAGES);
}

/* M1 and M2 are still mapped exactly as they were: unmap them. */
static void unmap_m1_m2(struct __test_metadata *_metadata, struct gpa_env *e)
{
	expect_pinned(_metadata, e->pinned0 + 2 * M_PAGES);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, M1_PAGE * PG, M_PAGES * PG));
	ASSERT_VID(0, vid_unmap_gpa(e->fd, M2_PAGE * PG, M_PAGES * PG));
	expect_pinned(_metadata, e->pinned0);
}

static int map_raw(int fd, uint64_t gpa, uint64_t size, uint64_t host,
		   uint32_t flags, uint32_t reserved)
{
	struct vid_gpa_map m = {
		.gpa = gpa,
		.size = size,
		.userspace_addr = host,
		.flags = flags,
		.reserved = reserved,
	};

	return ioctl(fd, VID_PARTITION_MAP_GPA, &m);
}

static int unmap_raw(int fd, uint64_t gpa, uint64_t size, uint64_t flags,
		     uint64_t reserved)
{
	struct vid_gpa_unmap u = {
		.gpa = gpa,
		.size = size,
		.flags = flags,
		.reserved = reserved,
	};

	return ioctl(fd, VID_PARTITION_UNMAP_GPA, &u);
}

/* MANY_MAPPINGS one-page ranges at every other gpa page, host page i each. */
static void map_many(struct __test_metadata *_metadata, int fd,
		     uint8_t *host)
{
	unsigned int i;
	int r;

	for (i = 0; i < MANY_MAPPINGS; i++) {
		r = vid_map_gpa(fd, 2ULL * i * PG, PG, host + i * PG, RW);
		ASSERT_EQ(0, r) TH_LOG("mapping %u: %s", i, strerror(-r));
	}
}

static void unmap_many(struct __test_metadata *_metadata, int fd,
		       bool reverse)
{
	unsigned int i, n;
	int r;

	for (n = 0; n < MANY_MAPPINGS; n++) {
		i = reverse ? MANY_MAPPINGS - 1 - n : n;
		r = vid_unmap_gpa(fd, 2ULL * i * PG, PG);
		ASSERT_EQ(0, r) TH_LOG("unmapping %u: %s", i, strerror(-r));
	}
}

/* ==== MAP_GPA argument checks: -EINVAL ==== */

FIXTURE(map_einval) {
	struct gpa_env env;
};

FIXTURE_VARIANT(map_einval) {
	uint64_t gpa;
	uint64_t size;
	uint64_t host_offset;
	uint32_t flags;
	uint32_t reserved;
};

/* Alignment. */
FIXTURE_VARIANT_ADD(map_einval, gpa_plus_1) {
	.gpa = PG + 1, .size = PG, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, gpa_plus_2048) {
	.gpa = PG + 2048, .size = PG, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, gpa_minus_1) {
	.gpa = 2 * PG - 1, .size = PG, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, size_1) {
	.gpa = PG, .size = 1, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, size_page_minus_1) {
	.gpa = PG, .size = PG - 1, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, size_page_plus_1) {
	.gpa = PG, .size = PG + 1, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, size_page_plus_2048) {
	.gpa = PG, .size = PG + 2048, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, size_0) {
	.gpa = PG, .size = 0, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, size_0_gpa_0) {
	.gpa = 0, .size = 0, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, host_plus_1) {
	.gpa = PG, .size = PG, .host_offset = 1, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, host_plus_2048) {
	.gpa = PG, .size = PG, .host_offset = 2048, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, host_minus_1) {
	.gpa = PG, .size = PG, .host_offset = PG - 1, .flags = RW };
/* Flags. */
FIXTURE_VARIANT_ADD(map_einval, flag_bit3) {
	.gpa = PG, .size = PG, .flags = RW | (1U << 3) };
FIXTURE_VARIANT_ADD(map_einval, flag_bit8) {
	.gpa = PG, .size = PG, .flags = RW | (1U << 8) };
FIXTURE_VARIANT_ADD(map_einval, flag_bit31) {
	.gpa = PG, .size = PG, .flags = RW | (1U << 31) };
FIXTURE_VARIANT_ADD(map_einval, flags_all) {
	.gpa = PG, .size = PG, .flags = ~0U };
FIXTURE_VARIANT_ADD(map_einval, flags_0) {
	.gpa = PG, .size = PG, .flags = 0 };
FIXTURE_VARIANT_ADD(map_einval, no_read_write) {
	.gpa = PG, .size = PG, .flags = VID_MAP_WRITE };
FIXTURE_VARIANT_ADD(map_einval, no_read_exec) {
	.gpa = PG, .size = PG, .flags = VID_MAP_EXEC };
FIXTURE_VARIANT_ADD(map_einval, no_read_write_exec) {
	.gpa = PG, .size = PG, .flags = VID_MAP_WRITE | VID_MAP_EXEC };
/* Reserved. */
FIXTURE_VARIANT_ADD(map_einval, reserved_bit0) {
	.gpa = PG, .size = PG, .flags = RW, .reserved = 1 };
FIXTURE_VARIANT_ADD(map_einval, reserved_bit31) {
	.gpa = PG, .size = PG, .flags = RW, .reserved = 1U << 31 };
/* The range against VID_GPA_LIMIT. */
FIXTURE_VARIANT_ADD(map_einval, crosses_limit) {
	.gpa = VID_GPA_LIMIT - PG, .size = 2 * PG, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, starts_at_limit) {
	.gpa = VID_GPA_LIMIT, .size = PG, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, starts_at_bit52) {
	.gpa = 1ULL << 52, .size = PG, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, starts_at_top_page) {
	.gpa = 0ULL - PG, .size = PG, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, size_beyond_limit) {
	.gpa = 0, .size = VID_GPA_LIMIT + PG, .flags = RW };
/* gpa + size wraps around 2^64 to a value below the limit. */
FIXTURE_VARIANT_ADD(map_einval, wraps_to_0) {
	.gpa = PG, .size = 0ULL - PG, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, wraps_to_page_1) {
	.gpa = 2 * PG, .size = 0ULL - PG, .flags = RW };
FIXTURE_VARIANT_ADD(map_einval, wraps_from_top_page) {
	.gpa = 0ULL - PG, .size = 2 * PG, .flags = RW };

GPA_FIXTURE(map_einval, false)

TEST_F(map_einval, rejected)
{
	uint64_t host = (uintptr_t)self->env.host + variant->host_offset;

	ASSERT_ERRNO(EINVAL, map_raw(self->env.fd, variant->gpa, variant->size,
				     host, variant->flags,
				     variant->reserved));
	expect_pinned(_metadata, self->env.pinned0);
	/* Nothing was mapped: the page at gpa PG is still free. */
	ASSERT_VID(0, vid_map_gpa(self->env.fd, PG, PG, self->env.host, RW));
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, PG, PG));
	expect_pinned(_metadata, self->env.pinned0);
}

/* ==== MAP_GPA of memory that is not the caller's: -EFAULT ==== */

enum bad_mem {
	MEM_UNMAPPED,		/* nothing mapped at the address */
	MEM_SECOND_UNMAPPED,	/* the first page is there, the second not */
	MEM_LAST_UNMAPPED,	/* 8 pages, the last one missing */
	MEM_PROT_NONE,
	MEM_WRITE_PROT_READ,	/* VID_MAP_WRITE over PROT_READ memory */
	MEM_WRITE_SECOND_READ,	/* ... where only the second page is */
	MEM_KERNEL,		/* a kernel address */
	MEM_NONCANONICAL,
};

FIXTURE(map_efault) {
	struct gpa_env env;
};

FIXTURE_VARIANT(map_efault) {
	enum bad_mem mem;
	uint32_t flags;
	uint64_t pages;
};

FIXTURE_VARIANT_ADD(map_efault, unmapped) {
	.mem = MEM_UNMAPPED, .flags = RW, .pages = 2 };
FIXTURE_VARIANT_ADD(map_efault, unmapped_read_only) {
	.mem = MEM_UNMAPPED, .flags = VID_MAP_READ, .pages = 1 };
FIXTURE_VARIANT_ADD(map_efault, second_page_unmapped) {
	.mem = MEM_SECOND_UNMAPPED, .flags = RW, .pages = 2 };
FIXTURE_VARIANT_ADD(map_efault, last_page_unmapped) {
	.mem = MEM_LAST_UNMAPPED, .flags = RW, .pages = 8 };
FIXTURE_VARIANT_ADD(map_efault, prot_none) {
	.mem = MEM_PROT_NONE, .flags = RW, .pages = 1 };
FIXTURE_VARIANT_ADD(map_efault, prot_none_read_only) {
	.mem = MEM_PROT_NONE, .flags = VID_MAP_READ, .pages = 1 };
FIXTURE_VARIANT_ADD(map_efault, write_over_prot_read) {
	.mem = MEM_WRITE_PROT_READ, .flags = RW, .pages = 2 };
FIXTURE_VARIANT_ADD(map_efault, write_exec_over_prot_read) {
	.mem = MEM_WRITE_PROT_READ, .flags = RWX, .pages = 2 };
FIXTURE_VARIANT_ADD(map_efault, write_over_second_page_prot_read) {
	.mem = MEM_WRITE_SECOND_READ, .flags = RW, .pages = 2 };
FIXTURE_VARIANT_ADD(map_efault, kernel_address) {
	.mem = MEM_KERNEL, .flags = VID_MAP_READ, .pages = 1 };
FIXTURE_VARIANT_ADD(map_efault, noncanonical_address) {
	.mem = MEM_NONCANONICAL, .flags = VID_MAP_READ, .pages = 1 };

GPA_FIXTURE(map_efault, false)

/* Build the bad memory of @mem, @pages long; returns its address. */
static uint64_t bad_mem(struct __test_metadata *_metadata, enum bad_mem mem,
			uint64_t pages)
{
	uint8_t *p = NULL;

	switch (mem) {
	case MEM_KERNEL:
		return 0xffffffff81000000ULL;
	case MEM_NONCANONICAL:
		return 0x0000800000000000ULL;
	case MEM_PROT_NONE:
		p = mem_anon(pages * PG, PROT_NONE);
		ASSERT_NE(NULL, p);
		return (uintptr_t)p;
	default:
		break;
	}

	p = mem_anon(pages * PG, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	memset(p, 0xa5, pages * PG);
	switch (mem) {
	case MEM_UNMAPPED:
		ASSERT_EQ(0, munmap(p, pages * PG));
		break;
	case MEM_SECOND_UNMAPPED:
		ASSERT_EQ(0, munmap(p + PG, PG));
		break;
	case MEM_LAST_UNMAPPED:
		ASSERT_EQ(0, munmap(p + (pages - 1) * PG, PG));
		break;
	case MEM_WRITE_PROT_READ:
		ASSERT_EQ(0, mprotect(p, pages * PG, PROT_READ));
		break;
	case MEM_WRITE_SECOND_READ:
		ASSERT_EQ(0, mprotect(p + PG, PG, PROT_READ));
		break;
	default:
		break;
	}
	return (uintptr_t)p;
}

/*
 * Nothing stays pinned (pages pinned before the fault are released) and
 * the range stays free.
 */
TEST_F(map_efault, rejected)
{
	uint64_t host = bad_mem(_metadata, variant->mem, variant->pages);
	uint64_t size = variant->pages * PG;

	ASSERT_ERRNO(EFAULT, map_raw(self->env.fd, 0, size, host,
				     variant->flags, 0));
	expect_pinned(_metadata, self->env.pinned0);
	ASSERT_VID(0, vid_map_gpa(self->env.fd, 0, size, self->env.host, RW));
	expect_pinned(_metadata, self->env.pinned0 + variant->pages);
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 0, size));
	expect_pinned(_metadata, self->env.pinned0);
}

/* ==== overlap with a mapped range: -EEXIST ==== */

FIXTURE(overlap) {
	struct gpa_env env;
};

FIXTURE_VARIANT(overlap) {
	uint64_t page;
	uint64_t pages;
};

/* M1 is [16, 20), M2 is [24, 28). */
FIXTURE_VARIANT_ADD(overlap, identical) { .page = 16, .pages = 4 };
FIXTURE_VARIANT_ADD(overlap, identical_m2) { .page = 24, .pages = 4 };
FIXTURE_VARIANT_ADD(overlap, partial_at_start) { .page = 14, .pages = 4 };
FIXTURE_VARIANT_ADD(overlap, partial_at_end) { .page = 18, .pages = 4 };
FIXTURE_VARIANT_ADD(overlap, last_page_only) { .page = 19, .pages = 1 };
FIXTURE_VARIANT_ADD(overlap, first_page_only) { .page = 16, .pages = 1 };
FIXTURE_VARIANT_ADD(overlap, ends_on_first_page) { .page = 12, .pages = 5 };
FIXTURE_VARIANT_ADD(overlap, starts_on_last_page) { .page = 19, .pages = 3 };
FIXTURE_VARIANT_ADD(overlap, containing) { .page = 15, .pages = 6 };
FIXTURE_VARIANT_ADD(overlap, containing_same_start) { .page = 16,
						      .pages = 6 };
FIXTURE_VARIANT_ADD(overlap, containing_same_end) { .page = 12, .pages = 8 };
FIXTURE_VARIANT_ADD(overlap, contained) { .page = 17, .pages = 2 };
FIXTURE_VARIANT_ADD(overlap, contained_same_start) { .page = 16,
						     .pages = 2 };
FIXTURE_VARIANT_ADD(overlap, contained_same_end) { .page = 18, .pages = 2 };
FIXTURE_VARIANT_ADD(overlap, hole_and_m2_start) { .page = 20, .pages = 5 };
FIXTURE_VARIANT_ADD(overlap, m1_end_and_hole) { .page = 19, .pages = 5 };
FIXTURE_VARIANT_ADD(overlap, spans_both) { .page = 19, .pages = 6 };
FIXTURE_VARIANT_ADD(overlap, contains_both) { .page = 0, .pages = 64 };

GPA_FIXTURE(overlap, false)

TEST_F(overlap, eexist)
{
	map_m1_m2(_metadata, &self->env);
	ASSERT_VID(-EEXIST, vid_map_gpa(self->env.fd, variant->page * PG,
					variant->pages * PG,
					self->env.host + 8 * PG, RW));
	unmap_m1_m2(_metadata, &self->env);
}

/* A read-only request overlaps just the same. */
TEST_F(overlap, eexist_read_only)
{
	map_m1_m2(_metadata, &self->env);
	ASSERT_VID(-EEXIST, vid_map_gpa(self->env.fd, variant->page * PG,
					variant->pages * PG,
					self->env.host + 8 * PG,
					VID_MAP_READ));
	unmap_m1_m2(_metadata, &self->env);
}

/* ==== UNMAP_GPA of something not mapped exactly so: -ENOENT ==== */

FIXTURE(unmap_enoent) {
	struct gpa_env env;
};

FIXTURE_VARIANT(unmap_enoent) {
	uint64_t page;
	uint64_t pages;
	bool map;	/* map M1 and M2 first */
};

FIXTURE_VARIANT_ADD(unmap_enoent, shorter) {
	.page = 16, .pages = 2, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, one_page_shorter) {
	.page = 16, .pages = 3, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, longer) {
	.page = 16, .pages = 5, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, start_inside_same_end) {
	.page = 17, .pages = 3, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, start_inside_same_size) {
	.page = 17, .pages = 4, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, start_before_same_end) {
	.page = 15, .pages = 5, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, start_before_same_size) {
	.page = 15, .pages = 4, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, contained) {
	.page = 17, .pages = 2, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, both_and_hole) {
	.page = 16, .pages = 12, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, the_hole) {
	.page = 20, .pages = 4, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, elsewhere) {
	.page = 64, .pages = 4, .map = true };
FIXTURE_VARIANT_ADD(unmap_enoent, nothing_mapped) {
	.page = 16, .pages = 4, .map = false };
FIXTURE_VARIANT_ADD(unmap_enoent, nothing_mapped_gpa_0) {
	.page = 0, .pages = 1, .map = false };

GPA_FIXTURE(unmap_enoent, false)

TEST_F(unmap_enoent, rejected)
{
	if (variant->map)
		map_m1_m2(_metadata, &self->env);
	ASSERT_VID(-ENOENT, vid_unmap_gpa(self->env.fd, variant->page * PG,
					  variant->pages * PG));
	if (variant->map)
		unmap_m1_m2(_metadata, &self->env);
	expect_pinned(_metadata, self->env.pinned0);
}

/* ==== UNMAP_GPA flags and reserved: -EINVAL ==== */

FIXTURE(unmap_einval) {
	struct gpa_env env;
};

FIXTURE_VARIANT(unmap_einval) {
	uint64_t flags;
	uint64_t reserved;
};

FIXTURE_VARIANT_ADD(unmap_einval, flags_bit0) { .flags = 1 };
FIXTURE_VARIANT_ADD(unmap_einval, flags_bit31) { .flags = 1ULL << 31 };
FIXTURE_VARIANT_ADD(unmap_einval, flags_bit63) { .flags = 1ULL << 63 };
FIXTURE_VARIANT_ADD(unmap_einval, reserved_bit0) { .reserved = 1 };
FIXTURE_VARIANT_ADD(unmap_einval, reserved_bit63) { .reserved = 1ULL << 63 };

GPA_FIXTURE(unmap_einval, false)

/* An exact (gpa, size) with a bad field: the mapping stays. */
TEST_F(unmap_einval, rejected)
{
	map_m1_m2(_metadata, &self->env);
	ASSERT_ERRNO(EINVAL, unmap_raw(self->env.fd, M1_PAGE * PG,
				       M_PAGES * PG, variant->flags,
				       variant->reserved));
	unmap_m1_m2(_metadata, &self->env);
}

/* ==== bad argument-struct pointers: -EFAULT ==== */

FIXTURE(arg_ptr) {
	struct gpa_env env;
};

FIXTURE_VARIANT(arg_ptr) {
	bool null;
};

FIXTURE_VARIANT_ADD(arg_ptr, null) { .null = true };
FIXTURE_VARIANT_ADD(arg_ptr, unmapped) { .null = false };

GPA_FIXTURE(arg_ptr, false)

static void *bad_arg(struct __test_metadata *_metadata, bool null)
{
	void *p = null ? NULL : vid_test_fault_page();

	if (!null)
		ASSERT_NE(NULL, p);
	return p;
}

TEST_F(arg_ptr, map_efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->env.fd, VID_PARTITION_MAP_GPA,
				   bad_arg(_metadata, variant->null)));
	expect_pinned(_metadata, self->env.pinned0);
}

TEST_F(arg_ptr, unmap_efault)
{
	map_m1_m2(_metadata, &self->env);
	ASSERT_ERRNO(EFAULT, ioctl(self->env.fd, VID_PARTITION_UNMAP_GPA,
				   bad_arg(_metadata, variant->null)));
	unmap_m1_m2(_metadata, &self->env);
}

/* ==== mapping and unmapping, on a created and an initialized partition ==== */

FIXTURE(gpa) {
	struct gpa_env env;
};

FIXTURE_VARIANT(gpa) {
	bool initialize;
};

FIXTURE_VARIANT_ADD(gpa, created) { .initialize = false };
FIXTURE_VARIANT_ADD(gpa, initialized) { .initialize = true };

FIXTURE_SETUP(gpa)
{
	env_open(_metadata, &self->env, variant->initialize);
}

FIXTURE_TEARDOWN(gpa)
{
	env_close(&self->env);
}

TEST_F(gpa, map_unmap_one_page)
{
	ASSERT_VID(0, vid_map_gpa(self->env.fd, 0, PG, self->env.host, RW));
	expect_pinned(_metadata, self->env.pinned0 + 1);
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 0, PG));
	expect_pinned(_metadata, self->env.pinned0);
}

/* Every valid combination of rights, each at its own gpa. */
TEST_F(gpa, map_each_valid_flags)
{
	static const uint32_t flags[] = {
		VID_MAP_READ,
		VID_MAP_READ | VID_MAP_WRITE,
		VID_MAP_READ | VID_MAP_EXEC,
		VID_MAP_READ | VID_MAP_WRITE | VID_MAP_EXEC,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(flags); i++)
		ASSERT_VID(0, vid_map_gpa(self->env.fd, i * 2 * PG, 2 * PG,
					  self->env.host + i * 2 * PG,
					  flags[i]));
	expect_pinned(_metadata, self->env.pinned0 + 2 * ARRAY_SIZE(flags));
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		ASSERT_VID(0, vid_unmap_gpa(self->env.fd, i * 2 * PG, 2 * PG));
	expect_pinned(_metadata, self->env.pinned0);
}

/* Read-only memory can back a read-only (or read/execute) range. */
TEST_F(gpa, map_read_only_memory_without_write)
{
	uint8_t *ro = mem_anon(4 * PG, PROT_READ | PROT_WRITE);

	ASSERT_NE(NULL, ro);
	memset(ro, 0xc3, 4 * PG);
	ASSERT_EQ(0, mprotect(ro, 4 * PG, PROT_READ));

	ASSERT_VID(0, vid_map_gpa(self->env.fd, 0, 2 * PG, ro, VID_MAP_READ));
	ASSERT_VID(0, vid_map_gpa(self->env.fd, 2 * PG, 2 * PG, ro + 2 * PG,
				  VID_MAP_READ | VID_MAP_EXEC));
	expect_pinned(_metadata, self->env.pinned0 + 4);
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 0, 2 * PG));
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 2 * PG, 2 * PG));
	expect_pinned(_metadata, self->env.pinned0);
	munmap(ro, 4 * PG);
}

/* Memory never touched is faulted in and pinned too. */
TEST_F(gpa, map_untouched_memory)
{
	uint8_t *p = mem_anon(8 * PG, PROT_READ | PROT_WRITE);

	ASSERT_NE(NULL, p);
	ASSERT_VID(0, vid_map_gpa(self->env.fd, 0, 8 * PG, p, RW));
	expect_pinned(_metadata, self->env.pinned0 + 8);
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 0, 8 * PG));
	expect_pinned(_metadata, self->env.pinned0);
	munmap(p, 8 * PG);
}

TEST_F(gpa, map_memfd)
{
	const size_t size = 16 * PG;
	uint8_t *p;
	int mfd;

	mfd = memfd_create("vid-gpa-test", MFD_CLOEXEC);
	ASSERT_LE(0, mfd) TH_LOG("memfd_create: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(mfd, size));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x3c, size / 2);	/* half touched, half not */

	ASSERT_VID(0, vid_map_gpa(self->env.fd, 64 * PG, size, p, RWX));
	expect_pinned(_metadata, self->env.pinned0 + size / PG);
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 64 * PG, size));
	expect_pinned(_metadata, self->env.pinned0);
	munmap(p, size);
	close(mfd);
}

/* A read-only memfd mapping backs a read-only range, not a writable one. */
TEST_F(gpa, map_memfd_read_only)
{
	const size_t size = 4 * PG;
	uint8_t *p;
	int mfd;

	mfd = memfd_create("vid-gpa-test-ro", MFD_CLOEXEC);
	ASSERT_LE(0, mfd) TH_LOG("memfd_create: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(mfd, size));
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);

	ASSERT_VID(-EFAULT, vid_map_gpa(self->env.fd, 0, size, p, RW));
	expect_pinned(_metadata, self->env.pinned0);
	ASSERT_VID(0, vid_map_gpa(self->env.fd, 0, size, p, VID_MAP_READ));
	expect_pinned(_metadata, self->env.pinned0 + size / PG);
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 0, size));
	expect_pinned(_metadata, self->env.pinned0);
	munmap(p, size);
	close(mfd);
}

/* One 2 MiB huge page; skipped when the host has none to give. */
TEST_F(gpa, map_hugetlb_2m)
{
	uint8_t *p;

	p = mmap(NULL, HUGE_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB,
		 -1, 0);
	if (p == MAP_FAILED)
		SKIP(return, "no 2 MiB huge page: %s (vm.nr_hugepages?)",
		     strerror(errno));
	memset(p, 0x77, HUGE_2M);

	ASSERT_VID(0, vid_map_gpa(self->env.fd, HUGE_2M, HUGE_2M, p, RW));
	expect_pinned(_metadata, self->env.pinned0 + HUGE_2M / PG);
	/* Half of it, page aligned but not 2 MiB aligned, at another gpa. */
	ASSERT_VID(0, vid_map_gpa(self->env.fd, 8 * HUGE_2M + 3 * PG,
				  HUGE_2M / 2, p + HUGE_2M / 4, VID_MAP_READ));
	expect_pinned(_metadata, self->env.pinned0 + (HUGE_2M / PG) * 3 / 2);
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, HUGE_2M, HUGE_2M));
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 8 * HUGE_2M + 3 * PG,
				    HUGE_2M / 2));
	expect_pinned(_metadata, self->env.pinned0);
	munmap(p, HUGE_2M);
}

TEST_F(gpa, map_gpa_0_and_last_page_below_limit)
{
	ASSERT_VID(0, vid_map_gpa(self->env.fd, 0, PG, self->env.host, RW));
	ASSERT_VID(0, vid_map_gpa(self->env.fd, VID_GPA_LIMIT - PG, PG,
				  self->env.host + PG, RW));
	ASSERT_VID(0, vid_map_gpa(self->env.fd, VID_GPA_LIMIT - 4 * PG,
				  2 * PG, self->env.host + 2 * PG, RW));
	expect_pinned(_metadata, self->env.pinned0 + 4);
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 0, PG));
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, VID_GPA_LIMIT - PG, PG));
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, VID_GPA_LIMIT - 4 * PG,
				    2 * PG));
	expect_pinned(_metadata, self->env.pinned0);
}

TEST_F(gpa, map_large_range)
{
	const size_t size = LARGE_PAGES * PG;
	uint8_t *p = mem_anon(size, PROT_READ | PROT_WRITE);

	ASSERT_NE(NULL, p);
	memset(p, 0x11, size);
	ASSERT_VID(0, vid_map_gpa(self->env.fd, 1ULL << 32, size, p, RWX));
	expect_pinned(_metadata, self->env.pinned0 + LARGE_PAGES);
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 1ULL << 32, size));
	expect_pinned(_metadata, self->env.pinned0);
	munmap(p, size);
}

/* Ranges that touch M1 or M2 without overlapping are fine. */
TEST_F(gpa, map_adjacent_ranges)
{
	struct gpa_env *e = &self->env;

	map_m1_m2(_metadata, e);
	/* Right before M1, between M1 and M2 (filling the hole), after M2. */
	ASSERT_VID(0, vid_map_gpa(e->fd, 12 * PG, 4 * PG, e->host + 8 * PG,
				  RW));
	ASSERT_VID(0, vid_map_gpa(e->fd, 20 * PG, 4 * PG, e->host + 12 * PG,
				  VID_MAP_READ));
	ASSERT_VID(0, vid_map_gpa(e->fd, 28 * PG, 1 * PG, e->host + 16 * PG,
				  RW));
	expect_pinned(_metadata, e->pinned0 + 2 * M_PAGES + 9);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 12 * PG, 4 * PG));
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 20 * PG, 4 * PG));
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 28 * PG, 1 * PG));
	unmap_m1_m2(_metadata, e);
}

/* The same host memory may back two gpa ranges; each pins it. */
TEST_F(gpa, map_same_memory_twice)
{
	struct gpa_env *e = &self->env;

	ASSERT_VID(0, vid_map_gpa(e->fd, 0, 2 * PG, e->host, RW));
	ASSERT_VID(0, vid_map_gpa(e->fd, 16 * PG, 2 * PG, e->host, RW));
	expect_pinned(_metadata, e->pinned0 + 4);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 0, 2 * PG));
	expect_pinned(_metadata, e->pinned0 + 2);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 16 * PG, 2 * PG));
	expect_pinned(_metadata, e->pinned0);
}

TEST_F(gpa, pinned_follows_map_and_unmap)
{
	struct gpa_env *e = &self->env;

	ASSERT_VID(0, vid_map_gpa(e->fd, 0, 8 * PG, e->host, RW));
	expect_pinned(_metadata, e->pinned0 + 8);
	ASSERT_VID(0, vid_map_gpa(e->fd, 100 * PG, 3 * PG, e->host + 8 * PG,
				  RW));
	expect_pinned(_metadata, e->pinned0 + 11);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 0, 8 * PG));
	expect_pinned(_metadata, e->pinned0 + 3);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 100 * PG, 3 * PG));
	expect_pinned(_metadata, e->pinned0);
}

TEST_F(gpa, unmap_twice_enoent)
{
	ASSERT_VID(0, vid_map_gpa(self->env.fd, 0, 2 * PG, self->env.host,
				  RW));
	ASSERT_VID(0, vid_unmap_gpa(self->env.fd, 0, 2 * PG));
	ASSERT_VID(-ENOENT, vid_unmap_gpa(self->env.fd, 0, 2 * PG));
	expect_pinned(_metadata, self->env.pinned0);
}

/* After an unmap the range is free again, for any memory and rights. */
TEST_F(gpa, remap_after_unmap)
{
	struct gpa_env *e = &self->env;

	ASSERT_VID(0, vid_map_gpa(e->fd, 4 * PG, 4 * PG, e->host, RW));
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 4 * PG, 4 * PG));
	ASSERT_VID(0, vid_map_gpa(e->fd, 4 * PG, 4 * PG, e->host, RW));
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 4 * PG, 4 * PG));
	ASSERT_VID(0, vid_map_gpa(e->fd, 4 * PG, 4 * PG, e->host + 32 * PG,
				  VID_MAP_READ));
	expect_pinned(_metadata, e->pinned0 + 4);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 4 * PG, 4 * PG));
	/* A different split of the same gpas. */
	ASSERT_VID(0, vid_map_gpa(e->fd, 4 * PG, 1 * PG, e->host, RW));
	ASSERT_VID(0, vid_map_gpa(e->fd, 5 * PG, 3 * PG, e->host + PG, RW));
	expect_pinned(_metadata, e->pinned0 + 4);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 4 * PG, 1 * PG));
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 5 * PG, 3 * PG));
	expect_pinned(_metadata, e->pinned0);
}

/*
 * The VMM munmap()s memory the guest still maps: no crash, the pages stay
 * pinned (and counted) until the gpa range is unmapped, and the freed
 * virtual range can be reused for a new mapping meanwhile.
 */
TEST_F(gpa, munmap_host_memory_while_mapped)
{
	struct gpa_env *e = &self->env;
	uint8_t *p = mem_anon(4 * PG, PROT_READ | PROT_WRITE), *q;

	ASSERT_NE(NULL, p);
	memset(p, 0xee, 4 * PG);
	ASSERT_VID(0, vid_map_gpa(e->fd, 0, 4 * PG, p, RW));
	expect_pinned(_metadata, e->pinned0 + 4);

	ASSERT_EQ(0, munmap(p, 4 * PG));
	expect_pinned(_metadata, e->pinned0 + 4);

	/* New memory, possibly at the same address, at another gpa. */
	q = mem_anon(4 * PG, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, q);
	memset(q, 0x11, 4 * PG);
	ASSERT_VID(0, vid_map_gpa(e->fd, 8 * PG, 4 * PG, q, RW));
	expect_pinned(_metadata, e->pinned0 + 8);
	/* The old range is still mapped. */
	ASSERT_VID(-EEXIST, vid_map_gpa(e->fd, 0, 4 * PG, q, RW));

	ASSERT_VID(0, vid_unmap_gpa(e->fd, 0, 4 * PG));
	expect_pinned(_metadata, e->pinned0 + 4);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 8 * PG, 4 * PG));
	expect_pinned(_metadata, e->pinned0);
	munmap(q, 4 * PG);
}

/* Same, for a part of the mapped memory only. */
TEST_F(gpa, munmap_part_of_host_memory_while_mapped)
{
	struct gpa_env *e = &self->env;
	uint8_t *p = mem_anon(8 * PG, PROT_READ | PROT_WRITE);

	ASSERT_NE(NULL, p);
	memset(p, 0xdd, 8 * PG);
	ASSERT_VID(0, vid_map_gpa(e->fd, 0, 8 * PG, p, RW));
	ASSERT_EQ(0, munmap(p + 2 * PG, 3 * PG));
	expect_pinned(_metadata, e->pinned0 + 8);
	/* What is left of the VMA is still usable. */
	memset(p, 0xdc, 2 * PG);
	memset(p + 5 * PG, 0xdc, 3 * PG);
	ASSERT_VID(0, vid_unmap_gpa(e->fd, 0, 8 * PG));
	expect_pinned(_metadata, e->pinned0);
	munmap(p, 2 * PG);
	munmap(p + 5 * PG, 3 * PG);
}

/* 200 one-page ranges at every other page: all map, all unmap. */
TEST_F_TIMEOUT(gpa, many_mappings_with_holes, 300)
{
	struct gpa_env *e = &self->env;
	unsigned int i;
	uint64_t gpa;

	map_many(_metadata, e->fd, e->host);
	expect_pinned(_metadata, e->pinned0 + MANY_MAPPINGS);

	/*
	 * The holes are free (first, middle, last) and their neighbours
	 * still mapped: a two-page range from a hole runs into one.
	 */
	for (i = 0; i < MANY_MAPPINGS; i += MANY_MAPPINGS / 2 - 1) {
		gpa = 2ULL * i * PG + PG;
		ASSERT_VID(0, vid_map_gpa(e->fd, gpa, PG, e->host + 255 * PG,
					  RW));
		ASSERT_VID(0, vid_unmap_gpa(e->fd, gpa, PG));
		if (i + 1 < MANY_MAPPINGS)
			ASSERT_VID(-EEXIST, vid_map_gpa(e->fd, gpa, 2 * PG,
							e->host + 254 * PG,
							RW));
	}
	expect_pinned(_metadata, e->pinned0 + MANY_MAPPINGS);

	unmap_many(_metadata, e->fd, false);
	expect_pinned(_metadata, e->pinned0);
}

/* Same, unmapped in the reverse order. */
TEST_F_TIMEOUT(gpa, many_mappings_unmap_reverse, 300)
{
	struct gpa_env *e = &self->env;

	map_many(_metadata, e->fd, e->host);
	expect_pinned(_metadata, e->pinned0 + MANY_MAPPINGS);
	unmap_many(_metadata, e->fd, true);
	expect_pinned(_metadata, e->pinned0);
}

/* ==== closing the partition releases every pin ==== */

FIXTURE(lifetime) {
	int vid_fd;
	uint8_t *host;
	struct vid_stats base;
};

FIXTURE_VARIANT(lifetime) {
	bool initialize;
};

FIXTURE_VARIANT_ADD(lifetime, created) { .initialize = false };
FIXTURE_VARIANT_ADD(lifetime, initialized) { .initialize = true };

FIXTURE_SETUP(lifetime)
{
	int fd;

	self->vid_fd = -1;
	self->host = NULL;
	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
	self->host = mem_anon(HOST_PAGES * PG, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->host);
	memset(self->host, 0x42, HOST_PAGES * PG);
	/* Warm up mapping state too, not only partitions. */
	ASSERT_VID(0, vid_test_warmup(self->vid_fd, WARMUP_ROUNDS));
	fd = vid_test_partition(self->vid_fd, "warmup", 0, true);
	ASSERT_LE(0, fd);
	ASSERT_VID(0, vid_map_gpa(fd, 0, 4 * PG, self->host, RW));
	ASSERT_VID(0, vid_map_gpa(fd, 8 * PG, 4 * PG, self->host, RW));
	ASSERT_VID(0, vid_unmap_gpa(fd, 0, 4 * PG));
	close(fd);
	ASSERT_STATS_READ_PINNED(&self->base);
}

FIXTURE_TEARDOWN(lifetime)
{
	if (self->vid_fd >= 0)
		close(self->vid_fd);
	if (self->host)
		munmap(self->host, HOST_PAGES * PG);
}

static int lifetime_partition(struct __test_metadata *_metadata,
			      int vid_fd, bool initialize)
{
	int fd = vid_test_partition(vid_fd, "gpa", 0, initialize);

	ASSERT_LE(0, fd) TH_LOG("create partition: %s", strerror(-fd));
	return fd;
}

static void expect_baseline(struct __test_metadata *_metadata,
			    const struct vid_stats *base)
{
	struct vid_stats now;

	ASSERT_STATS_READ_PINNED(&now);
	ASSERT_STATS_EQ(base, &now);
}

TEST_F(lifetime, close_with_mappings)
{
	int fd = lifetime_partition(_metadata, self->vid_fd,
				    variant->initialize);

	ASSERT_VID(0, vid_map_gpa(fd, 0, 4 * PG, self->host, RW));
	ASSERT_VID(0, vid_map_gpa(fd, 16 * PG, 12 * PG, self->host + 4 * PG,
				  VID_MAP_READ));
	ASSERT_EQ(self->base.pinned + 16, pinned_now(_metadata));
	close(fd);
	expect_baseline(_metadata, &self->base);
}

/* Closing after munmap() of the VMM memory releases the pins too. */
TEST_F(lifetime, close_after_munmap_of_mapped_memory)
{
	uint8_t *p = mem_anon(8 * PG, PROT_READ | PROT_WRITE);
	int fd = lifetime_partition(_metadata, self->vid_fd,
				    variant->initialize);

	ASSERT_NE(NULL, p);
	memset(p, 0x99, 8 * PG);
	ASSERT_VID(0, vid_map_gpa(fd, 0, 8 * PG, p, RW));
	ASSERT_EQ(0, munmap(p, 8 * PG));
	ASSERT_EQ(self->base.pinned + 8, pinned_now(_metadata));
	close(fd);
	expect_baseline(_metadata, &self->base);
}

TEST_F(lifetime, close_with_memfd_mapping)
{
	const size_t size = 8 * PG;
	uint8_t *p;
	int fd, mfd;

	fd = lifetime_partition(_metadata, self->vid_fd, variant->initialize);
	mfd = memfd_create("vid-gpa-lifetime", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, size));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_VID(0, vid_map_gpa(fd, 0, size, p, RW));
	/* The VMM lets go of its memfd entirely first. */
	munmap(p, size);
	close(mfd);
	ASSERT_EQ(self->base.pinned + size / PG, pinned_now(_metadata));
	close(fd);
	expect_baseline(_metadata, &self->base);
}

TEST_F_TIMEOUT(lifetime, close_with_many_mappings, 300)
{
	int fd = lifetime_partition(_metadata, self->vid_fd,
				    variant->initialize);

	map_many(_metadata, fd, self->host);
	ASSERT_EQ(self->base.pinned + MANY_MAPPINGS, pinned_now(_metadata));
	close(fd);
	expect_baseline(_metadata, &self->base);
}

/* Mapped and unmapped again, then closed: nothing left either. */
TEST_F(lifetime, close_after_unmap)
{
	int fd = lifetime_partition(_metadata, self->vid_fd,
				    variant->initialize);

	ASSERT_VID(0, vid_map_gpa(fd, 0, 4 * PG, self->host, RW));
	ASSERT_VID(0, vid_unmap_gpa(fd, 0, 4 * PG));
	close(fd);
	expect_baseline(_metadata, &self->base);
}

TEST_HARNESS_MAIN
