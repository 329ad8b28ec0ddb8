// SPDX-License-Identifier: GPL-2.0
/*
 * vid and KVM share one CPU feature, EFER.SVME, and exclude each other:
 * whoever turns it on first owns it until its last user goes, and the
 * other one fails with -EBUSY in the meantime.
 *
 * The tests that need KVM skip when /dev/kvm is absent. When the harness
 * has loaded a kvm_amd that enables SVM at load time (6.12's default
 * enable_virt_at_load=1) it sets VID_EXPECT_FOREIGN=1: then KVM owns SVM
 * for good, foreign_owner_at_load checks that vid refuses, and the
 * hand-over tests skip.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "vid_test_util.h"

#define KVM_DEVICE_PATH		"/dev/kvm"
#define HANDOVER_ROUNDS		3

static bool expect_foreign(void)
{
	const char *s = getenv("VID_EXPECT_FOREIGN");

	return s && !strcmp(s, "1");
}

/* Open /dev/vid and /dev/kvm, or skip; skip too when KVM owns SVM. */
#define OPEN_BOTH_OR_SKIP(vid_fd, kvm_fd) do {				\
	VID_OPEN_OR_SKIP(vid_fd);					\
	if (expect_foreign())						\
		SKIP(return, "VID_EXPECT_FOREIGN=1: KVM owns SVM");	\
	(kvm_fd) = open(KVM_DEVICE_PATH, O_RDWR | O_CLOEXEC);		\
	if ((kvm_fd) < 0 && errno == ENOENT)				\
		SKIP(return, "%s absent: KVM not loaded",		\
		     KVM_DEVICE_PATH);					\
	ASSERT_LE(0, (kvm_fd))						\
		TH_LOG("open %s: %s", KVM_DEVICE_PATH, strerror(errno));\
	ASSERT_EQ(KVM_API_VERSION, ioctl((kvm_fd), KVM_GET_API_VERSION, 0));\
} while (0)

static int kvm_create_vm(int kvm_fd)
{
	int vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);

	return vm < 0 ? -errno : vm;
}

/*
 * Run a one-instruction real-mode guest (HLT at GPA 0) under KVM and see
 * it exit with KVM_EXIT_HLT: proof that KVM's SVM state (EFER.SVME, its
 * host save area) survived whatever vid did or refused to do.
 */
static void kvm_runs_a_guest(struct __test_metadata *_metadata, int kvm_fd)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_run *run;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 2 };
	int vm, vcpu, run_size;
	uint8_t *mem;

	vm = kvm_create_vm(kvm_fd);
	ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM: %s", strerror(-vm));
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = 0xf4;	/* hlt */
	region.memory_size = 4096;
	region.userspace_addr = (uintptr_t)mem;
	ASSERT_EQ(0, ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region));
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	ASSERT_LE(0, vcpu);
	run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, run_size);
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	ASSERT_NE(MAP_FAILED, run);
	ASSERT_EQ(0, ioctl(vcpu, KVM_GET_SREGS, &sregs));
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	ASSERT_EQ(0, ioctl(vcpu, KVM_SET_SREGS, &sregs));
	ASSERT_EQ(0, ioctl(vcpu, KVM_SET_REGS, &regs));
	ASSERT_EQ(0, ioctl(vcpu, KVM_RUN, 0));
	ASSERT_EQ(KVM_EXIT_HLT, (int)run->exit_reason);
	munmap(run, run_size);
	munmap(mem, 4096);
	close(vcpu);
	close(vm);
}

/* A partition that goes all the way through initialize. */
static void vid_partition_works(struct __test_metadata *_metadata,
				int vid_fd)
{
	uint64_t state = 0;
	int fd;

	fd = vid_test_partition(vid_fd, "after-kvm", 4, true);
	ASSERT_LE(0, fd) TH_LOG("vid partition: %s", strerror(-fd));
	ASSERT_VID(0, vid_prop_get_u64(fd, VID_PROP_STATE, &state));
	ASSERT_EQ((uint64_t)VID_PARTITION_INITIALIZED, state);
	close(fd);
}

/*
 * KVM refuses a VM when it cannot turn SVM on: 6.1 passes up
 * svm_hardware_enable()'s -EBUSY, 6.12 reports -EIO from
 * __kvm_enable_virtualization().
 */
#define ASSERT_KVM_REFUSED(expr) do {					\
	long __r = (expr);						\
	ASSERT_TRUE(__r == -EBUSY || __r == -EIO)			\
		TH_LOG("%s = %ld, want -EBUSY or -EIO", #expr, __r);	\
} while (0)

TEST(kvm_vm_blocks_vid)
{
	struct vid_stats s0, s1;
	int vid_fd, kvm_fd, vm;

	OPEN_BOTH_OR_SKIP(vid_fd, kvm_fd);
	ASSERT_STATS_READ(&s0);

	vm = kvm_create_vm(kvm_fd);
	ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM: %s", strerror(-vm));
	ASSERT_VID(-EBUSY, vid_partition_create(vid_fd, 0));
	/* A refused create leaves nothing behind. */
	ASSERT_STATS_READ(&s1);
	ASSERT_EQ(s0.partitions, s1.partitions);
	ASSERT_EQ(s0.pages, s1.pages);

	close(vm);
	vid_partition_works(_metadata, vid_fd);
	close(kvm_fd);
	close(vid_fd);
}

TEST(vid_partition_blocks_kvm)
{
	int vid_fd, kvm_fd, part;
	uint64_t state = 0;

	OPEN_BOTH_OR_SKIP(vid_fd, kvm_fd);

	part = vid_partition_create(vid_fd, 0);
	ASSERT_LE(0, part) TH_LOG("vid partition: %s", strerror(-part));
	ASSERT_KVM_REFUSED(kvm_create_vm(kvm_fd));

	/* KVM's failed attempt did not disturb the partition. */
	ASSERT_VID(0, vid_partition_initialize(part));
	ASSERT_VID(0, vid_prop_get_u64(part, VID_PROP_STATE, &state));
	ASSERT_EQ((uint64_t)VID_PARTITION_INITIALIZED, state);
	ASSERT_KVM_REFUSED(kvm_create_vm(kvm_fd));

	close(part);
	kvm_runs_a_guest(_metadata, kvm_fd);
	close(kvm_fd);
	close(vid_fd);
}

/* vid holds SVM until its last partition is gone, not its first. */
TEST(vid_holds_until_last_partition)
{
	int vid_fd, kvm_fd, p1, p2, vm;

	OPEN_BOTH_OR_SKIP(vid_fd, kvm_fd);

	p1 = vid_partition_create(vid_fd, 0);
	ASSERT_LE(0, p1);
	p2 = vid_partition_create(vid_fd, 0);
	ASSERT_LE(0, p2);
	close(p1);
	ASSERT_KVM_REFUSED(kvm_create_vm(kvm_fd));
	close(p2);

	vm = kvm_create_vm(kvm_fd);
	ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM: %s", strerror(-vm));
	close(vm);
	close(kvm_fd);
	close(vid_fd);
}

/* KVM holds SVM until its last VM is gone. */
TEST(kvm_holds_until_last_vm)
{
	int vid_fd, kvm_fd, vm1, vm2;

	OPEN_BOTH_OR_SKIP(vid_fd, kvm_fd);

	vm1 = kvm_create_vm(kvm_fd);
	ASSERT_LE(0, vm1) TH_LOG("KVM_CREATE_VM: %s", strerror(-vm1));
	vm2 = kvm_create_vm(kvm_fd);
	ASSERT_LE(0, vm2) TH_LOG("KVM_CREATE_VM: %s", strerror(-vm2));
	close(vm1);
	ASSERT_VID(-EBUSY, vid_partition_create(vid_fd, 0));
	close(vm2);

	vid_partition_works(_metadata, vid_fd);
	close(kvm_fd);
	close(vid_fd);
}

/* Ownership goes back and forth and nothing sticks. */
TEST(ownership_alternates)
{
	int vid_fd, kvm_fd, vm, fd;
	struct vid_stats s0, s1;
	unsigned int i;

	OPEN_BOTH_OR_SKIP(vid_fd, kvm_fd);
	ASSERT_STATS_READ(&s0);

	for (i = 0; i < HANDOVER_ROUNDS; i++) {
		vm = kvm_create_vm(kvm_fd);
		ASSERT_LE(0, vm)
			TH_LOG("round %u KVM_CREATE_VM: %s", i, strerror(-vm));
		close(vm);

		fd = vid_test_partition(vid_fd, "handover", 4, true);
		ASSERT_LE(0, fd)
			TH_LOG("round %u vid partition: %s", i, strerror(-fd));
		close(fd);
	}
	ASSERT_STATS_READ(&s1);
	ASSERT_EQ(s0.partitions, s1.partitions);
	close(kvm_fd);
	close(vid_fd);
}

/*
 * KVM turned SVM on when it was loaded: vid must see EFER.SVME already set
 * and refuse, every time, without leaving anything behind.
 */
TEST(foreign_owner_at_load)
{
	struct vid_stats s0, s1;
	int vid_fd, kvm_fd, vm;

	if (!expect_foreign())
		SKIP(return, "VID_EXPECT_FOREIGN=1 not set");
	VID_OPEN_OR_SKIP(vid_fd);
	ASSERT_STATS_READ(&s0);

	ASSERT_VID(-EBUSY, vid_partition_create(vid_fd, 0));
	ASSERT_VID(-EBUSY, vid_partition_create(vid_fd, 0));
	ASSERT_STATS_READ(&s1);
	ASSERT_EQ(s0.partitions, s1.partitions);
	ASSERT_EQ(s0.pages, s1.pages);

	/* A KVM VM coming and going does not hand SVM over either. */
	kvm_fd = open(KVM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (kvm_fd >= 0) {
		/* vid's refusals left KVM's SVM state intact. */
		kvm_runs_a_guest(_metadata, kvm_fd);
		vm = kvm_create_vm(kvm_fd);
		ASSERT_LE(0, vm) TH_LOG("KVM_CREATE_VM: %s", strerror(-vm));
		close(vm);
		ASSERT_VID(-EBUSY, vid_partition_create(vid_fd, 0));
		close(kvm_fd);
	}
	close(vid_fd);
}

TEST_HARNESS_MAIN
