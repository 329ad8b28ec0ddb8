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
 *   vidctl hello                     run a tiny real-mode guest that
 *                                    prints a greeting through port I/O
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/*
 * Real-mode guest at 0x1000: write the string at 0x1010 to port 0x3f8 one
 * byte at a time, then halt.
 */
static const unsigned char hello_code[] = {
	0xba, 0xf8, 0x03,	/* mov dx, 0x3f8 */
	0xbe, 0x10, 0x10,	/* mov si, 0x1010 */
	0xac,			/* l: lodsb */
	0x08, 0xc0,		/* or al, al */
	0x74, 0x03,		/* jz done */
	0xee,			/* out dx, al */
	0xeb, 0xf8,		/* jmp l */
	0xf4,			/* done: hlt */
};

static int cmd_hello(int fd)
{
	static const char text[] = "Hello from a vid guest!\n";
	struct vid_register regs[2] = {
		{ .name = VID_REG_CS, .value.segment = { .limit = 0xffff,
							 .attributes = 0x9b } },
		{ .name = VID_REG_RIP, .value.reg64 = 0x1000 },
	};
	const struct vid_message *msg;
	unsigned char *ram;
	int pfd, vp, r, exits = 0;

	ram = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return die("mmap", -errno);
	memcpy(ram + 0x1000, hello_code, sizeof(hello_code));
	memcpy(ram + 0x1010, text, sizeof(text));
	pfd = vid_partition_create(fd, 0);
	if (pfd < 0)
		return die("VID_CREATE_PARTITION", pfd);
	r = vid_partition_initialize(pfd);
	if (!r)
		r = vid_map_gpa(pfd, 0, 0x2000, ram,
				VID_MAP_READ | VID_MAP_WRITE | VID_MAP_EXEC);
	if (r)
		return die("partition setup", r);
	vp = vid_vp_create(pfd, 0);
	if (vp < 0)
		return die("VID_PARTITION_CREATE_VP", vp);
	msg = vid_vp_message(vp);
	r = msg ? vid_vp_set_regs(vp, regs, 2) : -ENOMEM;
	if (r)
		return die("VP setup", r);
	printf("guest output: ");
	for (;;) {
		r = vid_vp_run(vp);
		if (r)
			return die("VID_VP_RUN", r);
		exits++;
		if (msg->message_type != VID_MSG_X64_IO_PORT_INTERCEPT)
			break;
		putchar(msg->io_port.rax & 0xff);
		r = vid_vp_set_reg64(vp, VID_REG_RIP, msg->header.rip +
				     (msg->header.instruction_length & 0xf));
		if (r)
			return die("set RIP", r);
	}
	printf("guest stopped: message %#x at RIP %#llx after %d exits\n",
	       msg->message_type, (unsigned long long)msg->header.rip, exits);
	close(vp);
	close(pfd);
	return msg->message_type == VID_MSG_X64_HALT ? 0 : 1;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: vidctl info | hello | create [-n NAME] [-p VPS] [-d PAGES] [-i] [-s SECONDS]\n");
		return 2;
	}
	fd = vid_open();
	if (fd < 0)
		return die(VID_DEVICE_PATH, fd);
	if (!strcmp(argv[1], "info"))
		return cmd_info(fd);
	if (!strcmp(argv[1], "create"))
		return cmd_create(fd, argc - 1, argv + 1);
	if (!strcmp(argv[1], "hello"))
		return cmd_hello(fd);
	fprintf(stderr, "vidctl: unknown command %s\n", argv[1]);
	return 2;
}
