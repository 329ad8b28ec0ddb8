// SPDX-License-Identifier: GPL-2.0
/*
 * vidbench: side-by-side benchmarks of vid and KVM in one boot.
 *
 * Rounds are interleaved (KVM, vid, KVM, vid, ...) and summarised by the
 * median of the per-round vid/KVM ratios with their spread, because TCG
 * timings swing by 2x between consecutive rounds. In each round one VM of
 * the side being measured stays open throughout, so the numbers are the
 * cost of a VM, not of turning SVM on and off; it also keeps the number of
 * KVM's SVM on/off transitions small, which matters under QEMU TCG: on
 * Debian 6.1, a few dozen KVM_CREATE_VM/close cycles that each turn SVM on
 * and off freeze the emulated machine (soft lockups in finish_task_switch,
 * seen with KVM alone, no vid loaded). Output, one line each:
 *   BENCH <name> vid=<v><unit> anchor=<v><unit> ratio=<r> spread=<min>-<max>
 *
 *   partition_lifecycle  create + initialize + delete a partition, against
 *                        KVM_CREATE_VM + close (time per VM, us)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "libvid.h"

#define ROUNDS		5
#define LIFECYCLES	40

static int kvm_fd, vid_fd;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int kvm_vm(void)
{
	int fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);

	if (fd < 0) {
		perror("KVM_CREATE_VM");
		exit(1);
	}
	return fd;
}

static int vid_vm(void)
{
	int fd = vid_partition_create(vid_fd, 0);

	if (fd < 0 || vid_partition_initialize(fd)) {
		fprintf(stderr, "vid partition: %s\n", strerror(-fd));
		exit(1);
	}
	return fd;
}

/* Microseconds per create+delete cycle. */
static double lifecycle(int (*create)(void))
{
	double t0 = now_us();
	int i;

	for (i = 0; i < LIFECYCLES; i++)
		close(create());
	return (now_us() - t0) / LIFECYCLES;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench(const char *name, const char *unit,
		  double (*measure)(int (*)(void)))
{
	double vid[ROUNDS], kvm[ROUNDS], ratio[ROUNDS];
	int i;

	for (i = 0; i < ROUNDS; i++) {
		int hold = kvm_vm();

		kvm[i] = measure(kvm_vm);
		close(hold);
		hold = vid_vm();
		vid[i] = measure(vid_vm);
		close(hold);
		ratio[i] = kvm[i] > 0 ? vid[i] / kvm[i] : 0;
	}
	/* median() sorts: after it, ratio[] runs from min to max. */
	printf("BENCH %s vid=%.1f%s anchor=%.1f%s ratio=%.3f spread=",
	       name, median(vid, ROUNDS), unit, median(kvm, ROUNDS), unit,
	       median(ratio, ROUNDS));
	printf("%.3f-%.3f\n", ratio[0], ratio[ROUNDS - 1]);
}

int main(void)
{
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vid_fd = vid_open();
	if (kvm_fd < 0 || vid_fd < 0) {
		fprintf(stderr, "vidbench: need both /dev/kvm and /dev/vid\n");
		return 1;
	}
	bench("partition_lifecycle", "us", lifecycle);
	return 0;
}
