// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the vid kselftests: debugfs stats, /proc/meminfo,
 * partition set-up and fault pages.
 */
#define VID_TEST_UTIL_NO_HARNESS
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vid_test_util.h"

struct vid_key {
	const char *name;
	size_t offset;
};

/*
 * Parse "key<sep>value" lines of @path into the fields of @out named by
 * @keys. Returns -ENODATA unless every key in the bit mask @required was
 * seen; *@seen_out (if not NULL) gets the mask of keys seen.
 */
static int vid_parse_keys(const char *path, const struct vid_key *keys,
			  unsigned int nr_keys, unsigned int required,
			  int sep, void *out, unsigned int *seen_out)
{
	unsigned int seen = 0, i;
	char line[256];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;

	while (fgets(line, sizeof(line), f)) {
		char *end, *val = strchr(line, sep);
		unsigned long long v;

		if (!val)
			continue;
		*val++ = '\0';
		errno = 0;
		v = strtoull(val, &end, 10);
		if (errno || end == val)
			continue;
		for (i = 0; i < nr_keys; i++) {
			if (strcmp(line, keys[i].name))
				continue;
			*(uint64_t *)((char *)out + keys[i].offset) = v;
			seen |= 1U << i;
		}
	}
	fclose(f);

	if (seen_out)
		*seen_out = seen;
	return (seen & required) == required ? 0 : -ENODATA;
}

int vid_stats_read(struct vid_stats *st)
{
	static const struct vid_key keys[] = {
		{ "partitions", offsetof(struct vid_stats, partitions) },
		{ "objects", offsetof(struct vid_stats, objects) },
		{ "bytes", offsetof(struct vid_stats, bytes) },
		{ "pages", offsetof(struct vid_stats, pages) },
		{ "pinned", offsetof(struct vid_stats, pinned) },
	};
	unsigned int seen = 0;
	int r;

	memset(st, 0, sizeof(*st));
	/* The first four keys are required, "pinned" (bit 4) is not. */
	r = vid_parse_keys(VID_STATS_PATH, keys, sizeof(keys) / sizeof(keys[0]),
			   0xfU, ' ', st, &seen);
	st->has_pinned = seen & (1U << 4);
	return r;
}

bool vid_stats_equal(const struct vid_stats *a, const struct vid_stats *b)
{
	return a->partitions == b->partitions && a->objects == b->objects &&
	       a->bytes == b->bytes && a->pages == b->pages &&
	       a->pinned == b->pinned;
}

int vid_meminfo_read(struct vid_meminfo *mi)
{
	static const struct vid_key keys[] = {
		{ "MemFree", offsetof(struct vid_meminfo, mem_free_kb) },
		{ "MemAvailable",
		  offsetof(struct vid_meminfo, mem_available_kb) },
	};

	memset(mi, 0, sizeof(*mi));
	return vid_parse_keys("/proc/meminfo", keys,
			      sizeof(keys) / sizeof(keys[0]), 0x3U, ':', mi,
			      NULL);
}

int vid_test_partition(int vid_fd, const char *name, uint64_t pages,
		       bool initialize)
{
	int fd, r;

	fd = vid_partition_create(vid_fd, 0);
	if (fd < 0)
		return fd;

	r = name ? vid_partition_set_name(fd, name) : 0;
	if (!r && pages)
		r = vid_partition_deposit(fd, pages);
	if (!r && initialize)
		r = vid_partition_initialize(fd);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

int vid_test_warmup(int vid_fd, unsigned int rounds)
{
	unsigned int i;
	int fd;

	for (i = 0; i < rounds; i++) {
		fd = vid_test_partition(vid_fd, "warmup", 16, true);
		if (fd < 0)
			return fd;
		close(fd);
	}
	return 0;
}

static void *vid_map_page(int prot)
{
	void *p = mmap(NULL, VID_PAGE_SIZE, prot, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *vid_test_fault_page(void)
{
	static void *page;

	if (!page)
		page = vid_map_page(PROT_NONE);
	return page;
}

void *vid_test_readonly_page(void)
{
	static void *page;

	if (!page)
		page = vid_map_page(PROT_READ);
	return page;
}

int vid_test_pool(int part_fd, uint64_t *deposited, uint64_t *available)
{
	int r;

	r = vid_prop_get_u64(part_fd, VID_PROP_POOL_DEPOSITED, deposited);
	if (r)
		return r;
	return vid_prop_get_u64(part_fd, VID_PROP_POOL_AVAILABLE, available);
}

uint64_t vid_test_env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return def;
	return v;
}

long vid_test_param_swap(const char *name, long val)
{
	char path[128];
	long old = -1;
	FILE *f;

	snprintf(path, sizeof(path), VID_PARAM_DIR "%s", name);
	f = fopen(path, "r+");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &old) != 1)
		old = -1;
	rewind(f);
	if (fprintf(f, "%ld\n", val) < 0)
		old = -1;
	if (fclose(f))
		old = -1;
	return old;
}
