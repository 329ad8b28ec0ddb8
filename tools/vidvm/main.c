// SPDX-License-Identifier: GPL-2.0
/*
 * vidvm --kernel bzImage [--initrd file] [--mem MiB] [--cpus N]
 *       [--cmdline "..."] [--shutdown-after SECONDS] [--verbose]
 *
 * Checks every argument and reads the files first, so that a bad one
 * ends with one line on stderr before anything exists; then creates the
 * partition (Hyper-V privileges, features and recommendations set for a
 * Linux guest), maps its RAM, places the kernel, creates the VPs and
 * runs one thread per VP until the guest powers off or resets, a VP
 * fails, or a signal (SIGINT, SIGTERM) arrives. Where vid.ko has a VMBus
 * server, the guest gets one with the integration services (heartbeat,
 * shutdown, timesync, KVP: libvid's vmbus_ic); --shutdown-after asks the
 * guest through them, that many seconds after boot, for its services'
 * status, a time sync, and then to power off.
 *
 * Exit status: 0 the guest powered off, 2 it reset, 1 an error or a
 * guest crash, 128 + signal when stopped by one. The last line on stderr
 * says which ("vidvm: poweroff", "vidvm: reset", ...).
 */
#define _GNU_SOURCE	/* pthread_timedjoin_np */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <sys/ioctl.h>

#include <libvid.h>
#include <linux/vid_vmbus.h>
#include <vmbus_ic.h>

#include "vidvm.h"

/* Hyper-V CPUID 0x40000003 bits (TLFS) a Linux guest looks for. */
#define HV_MSR_VP_RUNTIME_AVAILABLE		BIT_ULL(0)
#define HV_MSR_TIME_REF_COUNT_AVAILABLE		BIT_ULL(1)
#define HV_MSR_SYNIC_AVAILABLE			BIT_ULL(2)
#define HV_MSR_SYNTIMER_AVAILABLE		BIT_ULL(3)
#define HV_MSR_APIC_ACCESS_AVAILABLE		BIT_ULL(4)
#define HV_MSR_HYPERCALL_AVAILABLE		BIT_ULL(5)
#define HV_MSR_VP_INDEX_AVAILABLE		BIT_ULL(6)
#define HV_MSR_RESET_AVAILABLE			BIT_ULL(7)
#define HV_MSR_REFERENCE_TSC_AVAILABLE		BIT_ULL(9)
#define HV_ACCESS_FREQUENCY_MSRS		BIT_ULL(11)
#define HV_POST_MESSAGES			BIT_ULL(32 + 4)
#define HV_SIGNAL_EVENTS			BIT_ULL(32 + 5)
/* EDX */
#define HV_FEATURE_FREQUENCY_MSRS_AVAILABLE	BIT_ULL(8)
#define HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE	BIT_ULL(10)
#define HV_STIMER_DIRECT_MODE_AVAILABLE		BIT_ULL(19)
/* 0x40000004 EAX */
#define HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED	BIT_ULL(2)
#define HV_X64_SYSTEM_RESET_RECOMMENDED		BIT_ULL(4)
#define HV_X64_RELAXED_TIMING_RECOMMENDED	BIT_ULL(5)
#define HV_X64_CLUSTER_IPI_RECOMMENDED		BIT_ULL(10)
#define HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED	BIT_ULL(11)

/*
 * What the guest is offered: the hypercall page, VP index, SynIC and
 * synthetic timers (direct mode: Linux's stimer0 clockevent), the
 * reference counter and TSC page (its clocksource), the TSC and APIC
 * frequency MSRs (no PIT calibration), the APIC MSRs with the VP assist
 * page (Linux sets one up on every CPU), the crash and reset MSRs, and
 * the PV TLB flush and IPI hypercalls. Each set is cut down to what the
 * hypervisor implements (a new partition's defaults), so an older vid.ko
 * runs the guest with less rather than refusing it.
 */
#define VIDVM_HV_PRIVILEGES						\
	(HV_MSR_VP_RUNTIME_AVAILABLE | HV_MSR_TIME_REF_COUNT_AVAILABLE |	\
	 HV_MSR_SYNIC_AVAILABLE | HV_MSR_SYNTIMER_AVAILABLE |		\
	 HV_MSR_APIC_ACCESS_AVAILABLE |					\
	 HV_MSR_HYPERCALL_AVAILABLE | HV_MSR_VP_INDEX_AVAILABLE |	\
	 HV_MSR_RESET_AVAILABLE | HV_MSR_REFERENCE_TSC_AVAILABLE |	\
	 HV_ACCESS_FREQUENCY_MSRS | HV_POST_MESSAGES | HV_SIGNAL_EVENTS)
#define VIDVM_HV_FEATURES						\
	(HV_FEATURE_FREQUENCY_MSRS_AVAILABLE |				\
	 HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE |				\
	 HV_STIMER_DIRECT_MODE_AVAILABLE)
#define VIDVM_HV_RECOMMENDATIONS					\
	(HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED |				\
	 HV_X64_SYSTEM_RESET_RECOMMENDED |				\
	 HV_X64_RELAXED_TIMING_RECOMMENDED |				\
	 HV_X64_CLUSTER_IPI_RECOMMENDED |				\
	 HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED)

struct vm vm = { .vid_fd = -1, .part_fd = -1 };

static int exit_reason;		/* enum vm_exit, set once */
static struct vid_ic_host *ic_host;
static unsigned long shutdown_after;	/* seconds, 0: never */
static pthread_t ic_thread;
static bool ic_thread_started;
static int stop_signal;
static pthread_t main_thread;
static pthread_t vp_thread[VIDVM_MAX_CPUS];

enum vm_exit vm_exit_reason(void)
{
	return __atomic_load_n(&exit_reason, __ATOMIC_ACQUIRE);
}

void vm_stop(enum vm_exit why)
{
	int expected = VM_RUNNING;

	if (__atomic_compare_exchange_n(&exit_reason, &expected, why, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		pthread_kill(main_thread, SIGUSR2);
}

static void on_kick(int sig)
{
	(void)sig;	/* only interrupts VID_VP_RUN (no SA_RESTART) */
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: vidvm --kernel bzImage [--initrd file] [--mem MiB] [--cpus N]\n"
		"             [--cmdline \"...\"] [--shutdown-after SECONDS] [--verbose]\n");
}

static int parse_uint(const char *what, const char *s, unsigned long min,
		      unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || *out < min ||
	    *out > max) {
		fprintf(stderr, "vidvm: --%s %s: want %lu..%lu\n", what, s, min,
			max);
		return -1;
	}
	return 0;
}

/* Set a Hyper-V property to @want, less what the hypervisor lacks. */
static int set_hv_prop(uint32_t id, uint64_t want)
{
	uint64_t implemented;
	int r;

	r = vid_prop_get_u64(vm.part_fd, id, &implemented);
	if (r)
		return r;
	if (vm.verbose && (want & ~implemented))
		fprintf(stderr, "vidvm: property %u: %#llx not implemented\n",
			id, (unsigned long long)(want & ~implemented));
	return vid_prop_set_u64(vm.part_fd, id, want & implemented);
}

/*
 * The kernel's VMBus server for the guest's hv_vmbus (SINT 2, connection
 * ids 1 and 4), where the hypervisor has one.
 */
static int setup_vmbus(void)
{
	struct vid_vmbus_create create = { 0 };
	int r;

	if (vid_check_cap(vm.vid_fd, VID_CAP_VMBUS) <= 0) {
		if (vm.verbose)
			fprintf(stderr, "vidvm: no VMBus server in vid.ko\n");
		return 0;
	}
	if (ioctl(vm.part_fd, VID_PARTITION_VMBUS_CREATE, &create)) {
		fprintf(stderr, "vidvm: VMBus server: %s\n", strerror(errno));
		return -1;
	}
	r = vid_ic_host_create(vm.part_fd, NULL, &ic_host);
	if (r) {
		fprintf(stderr, "vidvm: integration services: %s\n",
			strerror(-r));
		return -1;
	}
	return 0;
}

/*
 * --shutdown-after: the host side of the integration services at work,
 * as Hyper-V's VMMS uses them: status, a time sync, then a shutdown
 * request, which the guest's hv_utils carries out (power off).
 */
static void ic_sleep(unsigned long seconds)
{
	struct timespec t = { .tv_sec = 1 };
	unsigned long i;

	for (i = 0; i < seconds && vm_exit_reason() == VM_RUNNING; i++)
		nanosleep(&t, NULL);
}

static void ic_heartbeats(void)
{
	struct vid_ic_info info;

	if (!vid_ic_heartbeat_stats(ic_host, &info))
		fprintf(stderr, "vidvm: heartbeat: beats %llu missed %llu\n",
			(unsigned long long)info.beats,
			(unsigned long long)info.missed);
}

/*
 * The guest's intrinsic KVP items (hv_kvp_daemon answers them): tried
 * for a while, as the daemon may start after the channel opens.
 */
static void ic_kvp(void)
{
	static const char *const keys[] = {
		"FullyQualifiedDomainName", "OSName", "OSVersion",
	};
	char *value = malloc(VID_IC_KVP_VALUE_MAX);
	unsigned int i, try;
	int r = -ENOMEM;

	for (i = 0; value && i < ARRAY_SIZE(keys); i++) {
		for (try = 0; try < 10 && vm_exit_reason() == VM_RUNNING;
		     try++) {
			r = vid_ic_kvp_get(ic_host, VID_IC_KVP_POOL_AUTO,
					   keys[i], value,
					   VID_IC_KVP_VALUE_MAX, 10000);
			if (!r || r == -ENOENT)
				break;
			ic_sleep(2);
		}
		if (r)
			fprintf(stderr, "vidvm: kvp %s: %s\n", keys[i],
				strerror(-r));
		else
			fprintf(stderr, "vidvm: kvp %s=%s\n", keys[i], value);
	}
	free(value);
}

static void *ic_demo(void *arg)
{
	int r;

	ic_sleep(shutdown_after);
	if (vm_exit_reason() != VM_RUNNING)
		return NULL;
	/* It waits for the guest's hv_utils to open and negotiate. */
	r = vid_ic_timesync_push(ic_host, 60000);
	fprintf(stderr, "vidvm: timesync: %s\n", r ? strerror(-r) : "ok");
	ic_heartbeats();
	ic_kvp();
	/* Heartbeats go on (one every 2 s). */
	ic_sleep(5);
	ic_heartbeats();
	fprintf(stderr, "vidvm: integration services:\n");
	vid_ic_command(ic_host, "status", stderr, 5000);
	r = vid_ic_shutdown_request(ic_host, VID_IC_SHUTDOWN_POWEROFF,
				    "vidvm --shutdown-after", 60000);
	fprintf(stderr, "vidvm: shutdown request: %s\n",
		r ? strerror(-r) : "accepted");
	return NULL;
}

static int setup_partition(unsigned int nr_cpus)
{
	long max_vps;
	int r;

	vm.vid_fd = vid_open();
	if (vm.vid_fd < 0) {
		fprintf(stderr, "vidvm: %s: %s\n", VID_DEVICE_PATH,
			strerror(-vm.vid_fd));
		return -1;
	}
	vm.run_complete = vid_check_cap(vm.vid_fd, VID_CAP_RUN_COMPLETE) > 0;
	max_vps = vid_check_cap(vm.vid_fd, VID_CAP_MAX_VPS);
	if (max_vps < (long)nr_cpus) {
		fprintf(stderr, "vidvm: --cpus %u: this hypervisor takes %ld\n",
			nr_cpus, max_vps);
		return -1;
	}
	vm.part_fd = vid_partition_create(vm.vid_fd, 0);
	if (vm.part_fd < 0) {
		fprintf(stderr, "vidvm: create partition: %s\n",
			strerror(-vm.part_fd));
		return -1;
	}
	r = vid_partition_set_name(vm.part_fd, "vidvm");
	if (!r)
		r = vid_prop_set_u64(vm.part_fd, VID_PROP_MAX_VP_COUNT, nr_cpus);
	if (!r)
		r = set_hv_prop(VID_PROP_HV_PRIVILEGES, VIDVM_HV_PRIVILEGES);
	if (!r)
		r = set_hv_prop(VID_PROP_HV_FEATURES, VIDVM_HV_FEATURES);
	if (!r)
		r = set_hv_prop(VID_PROP_HV_RECOMMENDATIONS,
				VIDVM_HV_RECOMMENDATIONS);
	if (!r)
		r = vid_partition_initialize(vm.part_fd);
	if (r) {
		fprintf(stderr, "vidvm: partition setup: %s\n", strerror(-r));
		return -1;
	}
	return setup_vmbus();
}

static int setup_ram(void)
{
	int r;

	vm.ram = mmap(NULL, vm.mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm.ram == MAP_FAILED) {
		vm.ram = NULL;
		fprintf(stderr, "vidvm: guest RAM: %s\n", strerror(errno));
		return -1;
	}
	madvise(vm.ram, vm.mem_size, MADV_HUGEPAGE);
	r = vid_map_gpa(vm.part_fd, 0, vm.mem_size, vm.ram,
			VID_MAP_READ | VID_MAP_WRITE | VID_MAP_EXEC);
	if (r) {
		fprintf(stderr, "vidvm: map guest RAM: %s\n", strerror(-r));
		return -1;
	}
	return 0;
}

static int setup_vps(uint64_t entry)
{
	unsigned int i;
	int r;

	for (i = 0; i < vm.nr_cpus; i++) {
		vm.vp_fd[i] = vid_vp_create(vm.part_fd, i);
		if (vm.vp_fd[i] < 0) {
			fprintf(stderr, "vidvm: create VP %u: %s\n", i,
				strerror(-vm.vp_fd[i]));
			return -1;
		}
		r = i ? vcpu_setup_ap(vm.vp_fd[i]) :
			vcpu_setup_bsp(vm.vp_fd[i], entry);
		if (r) {
			fprintf(stderr, "vidvm: VP %u registers: %s\n", i,
				strerror(-r));
			return -1;
		}
	}
	return 0;
}

/* Run the VPs until vm_stop() or a signal; then stop and join them. */
static void run(void)
{
	struct timespec deadline;
	unsigned int i, started = 0;
	sigset_t wait_set;
	int sig;

	sigemptyset(&wait_set);
	sigaddset(&wait_set, SIGINT);
	sigaddset(&wait_set, SIGTERM);
	sigaddset(&wait_set, SIGUSR2);

	for (i = 0; i < vm.nr_cpus; i++) {
		if (pthread_create(&vp_thread[i], NULL, vcpu_thread,
				   (void *)(uintptr_t)i)) {
			fprintf(stderr, "vidvm: VP %u thread failed\n", i);
			vm_stop(VM_ERROR);
			break;
		}
		started++;
	}
	if (shutdown_after && ic_host &&
	    !pthread_create(&ic_thread, NULL, ic_demo, NULL))
		ic_thread_started = true;
	while (vm_exit_reason() == VM_RUNNING) {
		if (sigwait(&wait_set, &sig))
			continue;
		if (sig != SIGUSR2) {
			stop_signal = sig;
			vm_stop(VM_SIGNAL);
		}
	}
	/* Kick each VP out of VID_VP_RUN until its thread has seen the stop. */
	for (i = 0; i < started; i++) {
		for (;;) {
			pthread_kill(vp_thread[i], SIGUSR1);
			clock_gettime(CLOCK_REALTIME, &deadline);
			deadline.tv_nsec += 20 * 1000 * 1000;
			if (deadline.tv_nsec >= 1000000000) {
				deadline.tv_sec++;
				deadline.tv_nsec -= 1000000000;
			}
			if (!pthread_timedjoin_np(vp_thread[i], NULL, &deadline))
				break;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "cmdline", required_argument, NULL, 'a' },
		{ "shutdown-after", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *kernel = NULL, *initrd = NULL, *cmdline = "console=ttyS0";
	unsigned long mem_mib = 256, cpus = 1;
	struct sigaction sa = { .sa_handler = on_kick };
	struct boot_image img;
	sigset_t blocked;
	uint64_t entry;
	int opt, status = 1;
	enum vm_exit why;
	long pages;

	while ((opt = getopt_long(argc, argv, "k:i:m:c:a:s:vh", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'k':
			kernel = optarg;
			break;
		case 'i':
			initrd = optarg;
			break;
		case 'a':
			cmdline = optarg;
			break;
		case 'v':
			vm.verbose = true;
			break;
		case 'm':
			if (parse_uint("mem", optarg, VIDVM_MIN_MEM_MIB,
				       VIDVM_MAX_MEM_MIB, &mem_mib))
				return 1;
			break;
		case 'c':
			if (parse_uint("cpus", optarg, 1, VIDVM_MAX_CPUS,
				       &cpus))
				return 1;
			break;
		case 's':
			if (parse_uint("shutdown-after", optarg, 1, 86400,
				       &shutdown_after))
				return 1;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 1;
		}
	}
	if (optind != argc || !kernel) {
		print_usage(stderr);
		return 1;
	}
	pages = sysconf(_SC_PHYS_PAGES);
	if (pages > 0 && mem_mib > ((uint64_t)pages * 4096 >> 20)) {
		fprintf(stderr, "vidvm: --mem %lu: the host has %llu MiB\n",
			mem_mib, (unsigned long long)pages * 4096 >> 20);
		return 1;
	}
	vm.mem_size = (uint64_t)mem_mib << 20;
	vm.nr_cpus = cpus;
	if (boot_image_load(&img, kernel, initrd, cmdline, vm.mem_size))
		return 1;

	/* SIGUSR1 kicks VP threads; the rest go to the main thread's sigwait. */
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &blocked, NULL);
	main_thread = pthread_self();

	if (io_init() || devices_init()) {
		fprintf(stderr, "vidvm: device setup failed\n");
		goto out;
	}
	if (setup_partition(vm.nr_cpus) || setup_ram())
		goto out;
	entry = boot_image_place(&img);
	boot_image_free(&img);
	if (setup_vps(entry))
		goto out;

	run();
	devices_flush();
	why = vm_exit_reason();
	switch (why) {
	case VM_POWEROFF:
		fprintf(stderr, "vidvm: poweroff\n");
		status = 0;
		break;
	case VM_RESET:
		fprintf(stderr, "vidvm: reset\n");
		status = 2;
		break;
	case VM_CRASH:
		fprintf(stderr, "vidvm: guest crashed\n");
		break;
	case VM_SIGNAL:
		if (vm.verbose)
			for (unsigned int i = 0; i < vm.nr_cpus; i++)
				vcpu_dump(i, vm.vp_fd[i]);
		fprintf(stderr, "vidvm: stopped by signal %d\n", stop_signal);
		status = 128 + stop_signal;
		break;
	default:
		fprintf(stderr, "vidvm: error\n");
		break;
	}
out:
	if (ic_thread_started)
		pthread_join(ic_thread, NULL);
	if (ic_host)
		vid_ic_host_destroy(ic_host);
	boot_image_free(&img);
	/* Closing the fds deletes the partition; unmapping frees the RAM. */
	for (unsigned int i = 0; i < vm.nr_cpus; i++)
		if (vm.vp_fd[i] > 0)
			close(vm.vp_fd[i]);
	if (vm.part_fd >= 0)
		close(vm.part_fd);
	if (vm.vid_fd >= 0)
		close(vm.vid_fd);
	if (vm.ram)
		munmap(vm.ram, vm.mem_size);
	io_exit();
	return status;
}
