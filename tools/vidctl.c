// SPDX-License-Identifier: GPL-2.0
/*
 * vidctl: a small management CLI over libvid.
 *
 *   vidctl info                      API version and capabilities
 *   vidctl create [-n NAME] [-p VPS] [-d PAGES] [-i] [-s SECONDS]
 *                                    create a partition, set its name, VP
 *                                    count, deposit, optionally initialize,
 *                                    print its properties, hold it open
 *                                    for SECONDS, then delete it
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvid.h"

static int die(const char *what, int err)
{
	fprintf(stderr, "vidctl: %s: %s\n", what, strerror(-err));
	return 1;
}

static int cmd_info(int fd)
{
	static const struct { unsigned int cap; const char *name; } caps[] = {
		{ VID_CAP_PARTITION_PROPERTIES, "partition_properties" },
		{ VID_CAP_MAX_VPS, "max_vps" },
		{ VID_CAP_DEPOSIT, "deposit_max_pages" },
		{ VID_CAP_MAX_NAME, "max_name" },
	};
	unsigned int i;
	int v = vid_api_version(fd);

	if (v < 0)
		return die("VID_GET_API_VERSION", v);
	printf("api_version %d\n", v);
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		printf("cap %-22s %ld\n", caps[i].name,
		       vid_check_cap(fd, caps[i].cap));
	return 0;
}

static void print_partition(int pfd)
{
	static const struct { uint32_t id; const char *name; } props[] = {
		{ VID_PROP_PARTITION_ID, "partition_id" },
		{ VID_PROP_MAX_VP_COUNT, "max_vp_count" },
		{ VID_PROP_POOL_DEPOSITED, "pool_deposited" },
		{ VID_PROP_POOL_AVAILABLE, "pool_available" },
	};
	char buf[VID_NAME_MAX];
	uint64_t v;
	unsigned int i;

	if (!vid_prop_get(pfd, VID_PROP_NAME, buf, sizeof(buf), NULL))
		printf("  name            \"%s\"\n", buf);
	if (!vid_prop_get(pfd, VID_PROP_VENDOR_ID, buf, VID_VENDOR_ID_SIZE,
			  NULL))
		printf("  vendor_id       \"%.12s\"\n", buf);
	if (!vid_prop_get_u64(pfd, VID_PROP_STATE, &v))
		printf("  state           %s\n", vid_state_name(v));
	for (i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		if (!vid_prop_get_u64(pfd, props[i].id, &v))
			printf("  %-15s %llu\n", props[i].name,
			       (unsigned long long)v);
}

static int cmd_create(int fd, int argc, char **argv)
{
	const char *name = NULL;
	unsigned long vps = 0, pages = 0, hold = 0;
	int init = 0, opt, pfd, r;

	while ((opt = getopt(argc, argv, "n:p:d:is:")) != -1) {
		switch (opt) {
		case 'n':
			name = optarg;
			break;
		case 'p':
			vps = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			pages = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			init = 1;
			break;
		case 's':
			hold = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	pfd = vid_partition_create(fd, 0);
	if (pfd < 0)
		return die("VID_CREATE_PARTITION", pfd);
	r = name ? vid_partition_set_name(pfd, name) : 0;
	if (r)
		return die("set name", r);
	r = vps ? vid_prop_set_u64(pfd, VID_PROP_MAX_VP_COUNT, vps) : 0;
	if (r)
		return die("set max_vp_count", r);
	r = pages ? vid_partition_deposit(pfd, pages) : 0;
	if (r)
		return die("deposit", r);
	r = init ? vid_partition_initialize(pfd) : 0;
	if (r)
		return die("initialize", r);
	printf("partition created\n");
	print_partition(pfd);
	if (hold)
		sleep(hold);
	close(pfd);
	printf("partition deleted\n");
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: vidctl info | create [-n NAME] [-p VPS] [-d PAGES] [-i] [-s SECONDS]\n");
		return 2;
	}
	fd = vid_open();
	if (fd < 0)
		return die(VID_DEVICE_PATH, fd);
	if (!strcmp(argv[1], "info"))
		return cmd_info(fd);
	if (!strcmp(argv[1], "create"))
		return cmd_create(fd, argc - 1, argv + 1);
	fprintf(stderr, "vidctl: unknown command %s\n", argv[1]);
	return 2;
}
