// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime under load: many partitions in sequence, in parallel, all at
 * once, an fd closed under a running ioctl, and an fd shared with a child
 * across fork(). After each, the debugfs stats must be back to exactly
 * their baseline: nothing leaks.
 *
 * Baselines are taken after a warm-up round so that state the module
 * allocates once, on first use, is not mistaken for a leak.
 *
 * Environment:
 *   VID_MEM_TOLERANCE_KB	MemAvailable drop tolerated by
 *				create_destroy_1000 (default 4096; KASAN's
 *				quarantine on a debug kernel needs more).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vid_test_util.h"

#define WARMUP_ROUNDS		8
#define SEQ_PARTITIONS		1000
#define SEQ_PAGES		64
#define MEM_TOLERANCE_KB	4096
#define CONC_THREADS		4
#define CONC_ITERS		200
#define RACE_ROUNDS		200
#define RACE_THREADS		2
#define LIVE_PARTITIONS		256

FIXTURE(stress) {
	int vid_fd;
	uint64_t max_deposit;
	struct vid_stats base;
};

FIXTURE_SETUP(stress)
{
	long cap;

	self->vid_fd = -1;
	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
	cap = vid_check_cap(self->vid_fd, VID_CAP_DEPOSIT);
	ASSERT_LE(1, cap);
	self->max_deposit = cap;
	ASSERT_VID(0, vid_test_warmup(self->vid_fd, WARMUP_ROUNDS));
	ASSERT_STATS_READ(&self->base);
}

FIXTURE_TEARDOWN(stress)
{
	if (self->vid_fd >= 0)
		close(self->vid_fd);
}

static uint64_t pages_capped(uint64_t want, uint64_t cap)
{
	return want < cap ? want : cap;
}

static void expect_baseline(struct __test_metadata *_metadata,
			    const struct vid_stats *base)
{
	struct vid_stats now;

	ASSERT_STATS_READ(&now);
	ASSERT_STATS_EQ(base, &now);
}

/* ---- 1000 partitions, one after the other ---- */

TEST_F_TIMEOUT(stress, create_destroy_1000, 900)
{
	uint64_t tol = vid_test_env_u64("VID_MEM_TOLERANCE_KB",
					MEM_TOLERANCE_KB);
	uint64_t pages = pages_capped(SEQ_PAGES, self->max_deposit);
	struct vid_meminfo m0, m1;
	char name[32];
	unsigned int i;
	int fd;

	ASSERT_EQ(0, vid_meminfo_read(&m0));
	for (i = 0; i < SEQ_PARTITIONS; i++) {
		snprintf(name, sizeof(name), "stress-%u", i);
		fd = vid_test_partition(self->vid_fd, name, pages, true);
		ASSERT_LE(0, fd)
			TH_LOG("partition %u: %s", i, strerror(-fd));
		close(fd);
	}
	expect_baseline(_metadata, &self->base);

	ASSERT_EQ(0, vid_meminfo_read(&m1));
	TH_LOG("MemAvailable %lu -> %lu kB, MemFree %lu -> %lu kB",
	       (unsigned long)m0.mem_available_kb,
	       (unsigned long)m1.mem_available_kb,
	       (unsigned long)m0.mem_free_kb,
	       (unsigned long)m1.mem_free_kb);
	ASSERT_GE(m1.mem_available_kb + tol, m0.mem_available_kb)
		TH_LOG("MemAvailable dropped by more than %lu kB",
		       (unsigned long)tol);
}

/* ---- create/destroy from several threads at once ---- */

struct worker {
	int vid_fd;
	unsigned int id;
	uint64_t pages;
	unsigned int done;
	int err;		/* first failure, as -errno */
	unsigned int err_iter;
	const char *err_op;
};

static void worker_fail(struct worker *w, unsigned int iter, const char *op,
			int err)
{
	w->err = err;
	w->err_iter = iter;
	w->err_op = op;
}

/*
 * Odd iterations initialize their partition, even ones do not; each then
 * checks that the shape is frozen (or not) and the state reads right.
 */
static void *create_destroy_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t state;
	char name[32];
	unsigned int i;
	bool init;
	int fd, r;

	for (i = 0; i < CONC_ITERS; i++) {
		init = i & 1;
		snprintf(name, sizeof(name), "t%u-%u", w->id, i);
		fd = vid_test_partition(w->vid_fd, name, w->pages, init);
		if (fd < 0) {
			worker_fail(w, i, "create", fd);
			break;
		}
		r = vid_prop_set_u64(fd, VID_PROP_MAX_VP_COUNT, 2);
		if (r != (init ? -EBUSY : 0)) {
			worker_fail(w, i, "set vp count", r ? r : -EPROTO);
			close(fd);
			break;
		}
		r = vid_prop_get_u64(fd, VID_PROP_STATE, &state);
		if (!r && state != (init ? VID_PARTITION_INITIALIZED :
					   VID_PARTITION_CREATED))
			r = -EPROTO;
		if (r) {
			worker_fail(w, i, "get state", r);
			close(fd);
			break;
		}
		close(fd);
		w->done++;
	}
	return NULL;
}

TEST_F_TIMEOUT(stress, concurrent_create_destroy, 900)
{
	struct worker w[CONC_THREADS];
	pthread_t tid[CONC_THREADS];
	unsigned int i;

	for (i = 0; i < CONC_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].vid_fd = self->vid_fd;
		w[i].id = i;
		w[i].pages = pages_capped(8, self->max_deposit);
		ASSERT_EQ(0, pthread_create(&tid[i], NULL,
					    create_destroy_worker, &w[i]));
	}
	for (i = 0; i < CONC_THREADS; i++)
		ASSERT_EQ(0, pthread_join(tid[i], NULL));

	for (i = 0; i < CONC_THREADS; i++) {
		EXPECT_EQ(0, w[i].err)
			TH_LOG("thread %u iteration %u: %s: %s", i,
			       w[i].err_iter, w[i].err_op,
			       strerror(-w[i].err));
		EXPECT_EQ((unsigned int)CONC_ITERS, w[i].done);
	}
	expect_baseline(_metadata, &self->base);
}

/* ---- an fd closed while other threads are in ioctls on it ---- */

struct racer {
	int fd;			/* the fd number; closed under us */
	bool initialize;	/* start with VID_PARTITION_INITIALIZE */
	atomic_uint *ops;
	atomic_uint *exited;
	unsigned long ok;
	unsigned long ebadf;
	int bad_errno;		/* anything but EBADF */
	unsigned long bad_cmd;
};

static long racer_op(int fd, unsigned int n, unsigned long *cmd)
{
	static const char name[] = "racer";
	struct vid_deposit d = { .pages = 1 };
	struct vid_property p = { 0 };
	uint64_t v;

	switch (n % 5) {
	case 0:
		p.id = VID_PROP_STATE;
		p.size = sizeof(v);
		p.value = (uintptr_t)&v;
		*cmd = VID_PARTITION_GET_PROPERTY;
		return ioctl(fd, *cmd, &p);
	case 1:
		p.id = VID_PROP_NAME;
		p.size = sizeof(name);
		p.value = (uintptr_t)name;
		*cmd = VID_PARTITION_SET_PROPERTY;
		return ioctl(fd, *cmd, &p);
	case 2:
		*cmd = VID_PARTITION_DEPOSIT;
		return ioctl(fd, *cmd, &d);
	case 3:
		*cmd = VID_PARTITION_WITHDRAW;
		return ioctl(fd, *cmd, &d);
	default:
		p.id = VID_PROP_POOL_AVAILABLE;
		p.size = sizeof(v);
		p.value = (uintptr_t)&v;
		*cmd = VID_PARTITION_GET_PROPERTY;
		return ioctl(fd, *cmd, &p);
	}
}

static void *racer_thread(void *arg)
{
	struct racer *r = arg;
	unsigned long cmd = VID_PARTITION_INITIALIZE;
	unsigned int n;
	long ret;

	for (n = 0;; n++) {
		if (n == 0 && r->initialize)
			ret = ioctl(r->fd, cmd, 0);
		else
			ret = racer_op(r->fd, n, &cmd);
		if (ret < 0) {
			if (errno == EBADF) {
				r->ebadf++;
			} else {
				r->bad_errno = errno;
				r->bad_cmd = cmd;
			}
			break;
		}
		r->ok++;
		atomic_fetch_add(r->ops, 1);
	}
	atomic_fetch_add(r->exited, 1);
	return NULL;
}

TEST_F_TIMEOUT(stress, close_during_ioctl, 900)
{
	struct racer r[RACE_THREADS];
	pthread_t tid[RACE_THREADS];
	atomic_uint ops, exited;
	unsigned long ok = 0, ebadf = 0;
	unsigned int round, i, k;
	int fd;

	for (round = 0; round < RACE_ROUNDS; round++) {
		fd = vid_test_partition(self->vid_fd, "race",
					pages_capped(4, self->max_deposit),
					false);
		ASSERT_LE(0, fd);
		atomic_store(&ops, 0);
		atomic_store(&exited, 0);
		for (i = 0; i < RACE_THREADS; i++) {
			memset(&r[i], 0, sizeof(r[i]));
			r[i].fd = fd;
			r[i].initialize = i == 0 && (round & 1);
			r[i].ops = &ops;
			r[i].exited = &exited;
			ASSERT_EQ(0, pthread_create(&tid[i], NULL,
						    racer_thread, &r[i]));
		}
		/* Close after a varying number of completed ioctls. */
		k = round % 32;
		while (atomic_load(&ops) < k &&
		       atomic_load(&exited) < RACE_THREADS)
			sched_yield();
		/* Nothing may open an fd until the racers are joined. */
		ASSERT_EQ(0, close(fd));
		for (i = 0; i < RACE_THREADS; i++)
			ASSERT_EQ(0, pthread_join(tid[i], NULL));

		for (i = 0; i < RACE_THREADS; i++) {
			ASSERT_EQ(0, r[i].bad_errno)
				TH_LOG("round %u: ioctl %#lx failed: %s",
				       round, r[i].bad_cmd,
				       strerror(r[i].bad_errno));
			ASSERT_EQ(1U, r[i].ebadf);
			ok += r[i].ok;
			ebadf += r[i].ebadf;
		}
	}
	TH_LOG("%lu ioctls succeeded, %lu saw EBADF", ok, ebadf);
	expect_baseline(_metadata, &self->base);
}

/* ---- an fd inherited across fork() ---- */

static int child_use_partition(int fd, int go_fd, int report_fd,
			       int exit_fd)
{
	char name[VID_NAME_MAX], c = 0;
	uint64_t vps = 0;
	int status = 0;

	if (read(go_fd, &c, 1) != 1)
		return 10;

	if (vid_prop_get_u64(fd, VID_PROP_MAX_VP_COUNT, &vps) || vps != 1)
		status = 11;
	else if (vid_partition_set_name(fd, "child"))
		status = 12;
	else if (vid_prop_get(fd, VID_PROP_NAME, name, sizeof(name), NULL) ||
		 strcmp(name, "child"))
		status = 13;
	else if (vid_partition_deposit(fd, 1))
		status = 14;
	else if (vid_partition_initialize(fd))
		status = 15;

	c = (char)status;
	if (write(report_fd, &c, 1) != 1)
		return 16;
	/* Hold the partition until the parent has looked at the stats. */
	if (read(exit_fd, &c, 1) != 1)
		return 17;
	close(fd);
	return status;
}

TEST_F_TIMEOUT(stress, fork_inherited_fd, 120)
{
	int go[2], report[2], done[2], fd, status;
	struct vid_stats now;
	char c = 1;
	pid_t pid;

	fd = vid_partition_create(self->vid_fd, 0);
	ASSERT_LE(0, fd);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(self->base.partitions + 1, now.partitions);

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(report));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(child_use_partition(fd, go[0], report[1], done[0]));

	/* The parent lets go of its copy; the child's keeps it alive. */
	ASSERT_EQ(0, close(fd));
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(self->base.partitions + 1, now.partitions);

	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(1, read(report[0], &c, 1));
	EXPECT_EQ(0, c) TH_LOG("child failed at step %d", c);
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(self->base.partitions + 1, now.partitions);

	ASSERT_EQ(1, write(done[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	expect_baseline(_metadata, &self->base);
}

/* The child exits without closing: process exit releases the partition. */
TEST_F_TIMEOUT(stress, fork_child_exit_releases, 120)
{
	struct vid_stats now;
	int fd, status;
	pid_t pid;

	fd = vid_partition_create(self->vid_fd, 0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Exit with the partition still open, even initialized. */
		_exit(vid_partition_initialize(fd) ? 1 : 0);
	}
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	ASSERT_STATS_READ(&now);
	ASSERT_EQ(self->base.partitions, now.partitions);
	expect_baseline(_metadata, &self->base);
}

/* ---- many partitions alive at once ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

TEST_F_TIMEOUT(stress, many_live_partitions, 900)
{
	static int fds[LIVE_PARTITIONS];
	static uint64_t ids[LIVE_PARTITIONS];
	uint64_t pages = pages_capped(2, self->max_deposit);
	struct vid_stats now;
	struct rlimit rl;
	char name[32];
	unsigned int i;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < LIVE_PARTITIONS + 64) {
		rl.rlim_cur = LIVE_PARTITIONS + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	}

	for (i = 0; i < LIVE_PARTITIONS; i++) {
		snprintf(name, sizeof(name), "live-%u", i);
		fds[i] = vid_test_partition(self->vid_fd, name, pages,
					    i % 4 == 0);
		ASSERT_LE(0, fds[i])
			TH_LOG("partition %u: %s", i, strerror(-fds[i]));
	}
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(self->base.partitions + LIVE_PARTITIONS, now.partitions);
	ASSERT_LE(self->base.pages + LIVE_PARTITIONS * pages, now.pages);

	/* Every one is itself: its own id and name. */
	for (i = 0; i < LIVE_PARTITIONS; i++) {
		char got[VID_NAME_MAX];

		ASSERT_VID(0, vid_prop_get_u64(fds[i], VID_PROP_PARTITION_ID,
					       &ids[i]));
		ASSERT_VID(0, vid_prop_get(fds[i], VID_PROP_NAME, got,
					   sizeof(got), NULL));
		snprintf(name, sizeof(name), "live-%u", i);
		ASSERT_STREQ(name, got);
	}
	qsort(ids, LIVE_PARTITIONS, sizeof(ids[0]), cmp_u64);
	for (i = 1; i < LIVE_PARTITIONS; i++)
		ASSERT_NE(ids[i - 1], ids[i]) TH_LOG("duplicate partition id");

	/* Close in an order unrelated to creation. */
	for (i = 1; i < LIVE_PARTITIONS; i += 2)
		ASSERT_EQ(0, close(fds[i]));
	ASSERT_STATS_READ(&now);
	ASSERT_EQ(self->base.partitions + LIVE_PARTITIONS / 2,
		  now.partitions);
	for (i = LIVE_PARTITIONS; i-- > 0;)
		if (!(i & 1))
			ASSERT_EQ(0, close(fds[i]));

	expect_baseline(_metadata, &self->base);
}

TEST_HARNESS_MAIN
