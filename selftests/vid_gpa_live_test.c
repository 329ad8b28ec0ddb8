// SPDX-License-Identifier: GPL-2.0
/*
 * The GPA map changing under running VPs: a range unmapped while a VP
 * keeps reading it is gone for that VP at once (its next access is an
 * unmapped-GPA intercept, not a stale TLB hit), its memory is unpinned
 * when the ioctl returns, and a range mapped while the VP runs becomes
 * visible to it.
 */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib_cguest.h"

/* Beyond the C guest's 64 MiB of RAM. */
#define EXTRA_GPA	0x8000000ULL
#define EXTRA_SIZE	0x10000ULL

static uint64_t reads;

/* Reads the extra range forever, counting, after telling the host. */
static void guest_reader(unsigned int vp)
{
	uint64_t sum = 0;

	GUEST_SYNC(__atomic_load_n((uint64_t *)EXTRA_GPA, __ATOMIC_RELAXED));
	for (;;) {
		sum += __atomic_load_n((uint64_t *)(EXTRA_GPA + 0x1000),
				       __ATOMIC_RELAXED);
		__atomic_store_n(&reads, reads + 1, __ATOMIC_RELAXED);
		GUEST_HIDE_VAR(sum);
	}
}

struct runner {
	struct vid_guest *g;
	struct vid_ucall uc;
	int done;
	int r;
};

static void *run_fn(void *arg)
{
	struct runner *t = arg;

	t->r = vid_guest_run_vp(t->g, 0, &t->uc);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static uint64_t pinned_pages(void)
{
	struct vid_stats st;

	if (vid_stats_read(&st))
		return ~0ULL;
	return st.pinned;
}

TEST(unmap_under_a_running_vp)
{
	struct runner t = {};
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t pinned, *extra, i;
	pthread_t th;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_reader);
	extra = mmap(NULL, EXTRA_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, extra);
	extra[0] = 0x1234;
	ASSERT_EQ(0, vid_map_gpa(g.part_fd, EXTRA_GPA, EXTRA_SIZE, extra,
				 VID_MAP_READ | VID_MAP_WRITE));
	for (i = 0; i < EXTRA_SIZE; i += 4096)
		ASSERT_EQ(0, vid_guest_map(&g, EXTRA_GPA + i, EXTRA_GPA + i));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(0x1234, uc.args[0]);

	t.g = &g;
	ASSERT_EQ(0, pthread_create(&th, NULL, run_fn, &t));
	/* Let the guest read the range a good while from its TLB. */
	usleep(100000);
	pinned = pinned_pages();
	ASSERT_EQ(0, __atomic_load_n(&t.done, __ATOMIC_ACQUIRE));
	ASSERT_EQ(0, vid_unmap_gpa(g.part_fd, EXTRA_GPA, EXTRA_SIZE));
	/* Unpinned when the ioctl returns, while the VP may still run. */
	if (pinned != ~0ULL)
		EXPECT_EQ(pinned - EXTRA_SIZE / 4096, pinned_pages());
	pthread_join(th, NULL);
	ASSERT_EQ(0, t.r);
	ASSERT_EQ(UCALL_NONE, t.uc.cmd);
	EXPECT_EQ(VID_MSG_UNMAPPED_GPA, t.uc.msg.message_type);
	EXPECT_EQ(EXTRA_GPA + 0x1000, t.uc.msg.memory.guest_physical_address);
	EXPECT_LT(0, VID_GUEST_GLOBAL(&g, reads));

	/* Mapped again (while the VP is stopped at the intercept): seen. */
	extra[0x1000 / 8] = 7;
	ASSERT_EQ(0, vid_map_gpa(g.part_fd, EXTRA_GPA, EXTRA_SIZE, extra,
				 VID_MAP_READ));
	t.done = 0;
	ASSERT_EQ(0, pthread_create(&th, NULL, run_fn, &t));
	usleep(50000);
	EXPECT_EQ(0, __atomic_load_n(&t.done, __ATOMIC_ACQUIRE));
	/* And unmapped once more under the running VP. */
	ASSERT_EQ(0, vid_unmap_gpa(g.part_fd, EXTRA_GPA, EXTRA_SIZE));
	pthread_join(th, NULL);
	ASSERT_EQ(0, t.r);
	EXPECT_EQ(VID_MSG_UNMAPPED_GPA, t.uc.msg.message_type);
	vid_guest_destroy(&g);
	munmap(extra, EXTRA_SIZE);
}

TEST_HARNESS_MAIN
