// SPDX-License-Identifier: GPL-2.0
/*
 * The Hyper-V interface from inside C guests, in the spirit of the KVM
 * selftests hyperv_features, hyperv_clock and hyperv_ipi: the CPUID
 * leaves against the partition's properties; each synthetic MSR and
 * hypercall faulting (#GP) or answering HV_STATUS_ACCESS_DENIED until
 * its privilege, feature or recommendation bit is given; the guest OS id
 * and the hypercall page (its contents, #UD before it is enabled, the
 * lock bit); TLFS input checking (reserved bits, unknown codes, rep
 * counts and start index, variable headers, alignment and page spans,
 * bad values); VP index on two VPs; the reference counter (monotonic,
 * at the rate of the host's clock, in step with the TSC page formula);
 * VP runtime; the crash and reset MSRs as messages to the VMM; a PV IPI
 * that wakes a halted VP; a PV TLB flush after which the other VP sees a
 * changed PTE. Host side: the VID_PROP_HV_* properties and their errors.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib_cguest.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#ifndef BIT_ULL
#define BIT_ULL(nr)	(1ULL << (nr))
#endif

/* Synthetic MSRs (TLFS). */
#define HV_MSR_GUEST_OS_ID	0x40000000
#define HV_MSR_HYPERCALL	0x40000001
#define HV_MSR_VP_INDEX		0x40000002
#define HV_MSR_RESET		0x40000003
#define HV_MSR_VP_RUNTIME	0x40000010
#define HV_MSR_TIME_REF_COUNT	0x40000020
#define HV_MSR_REFERENCE_TSC	0x40000021
#define HV_MSR_TSC_FREQUENCY	0x40000022
#define HV_MSR_APIC_FREQUENCY	0x40000023
#define HV_MSR_APIC_EOI		0x40000070
#define HV_MSR_APIC_ICR		0x40000071
#define HV_MSR_APIC_TPR		0x40000072
#define HV_MSR_VP_ASSIST_PAGE	0x40000073
#define HV_MSR_LAST		0x400000ff	/* not implemented */
#define HV_MSR_CRASH_P0		0x40000100
#define HV_MSR_CRASH_P4		0x40000104
#define HV_MSR_CRASH_CTL	0x40000105
#define HV_CRASH_NOTIFY		BIT_ULL(63)
#define HV_CRASH_NOTIFY_MSG	BIT_ULL(62)

/* CPUID 0x40000003 EAX | EBX << 32: privileges. */
#define PRIV_VP_RUNTIME		BIT_ULL(0)
#define PRIV_TIME_REF_COUNT	BIT_ULL(1)
#define PRIV_HYPERCALL		BIT_ULL(5)
#define PRIV_VP_INDEX		BIT_ULL(6)
#define PRIV_APIC_ACCESS	BIT_ULL(4)
#define PRIV_RESET		BIT_ULL(7)
#define PRIV_REFERENCE_TSC	BIT_ULL(9)
#define PRIV_FREQUENCY		BIT_ULL(11)
#define PRIV_POST_MESSAGES	BIT_ULL(36)
#define PRIV_SIGNAL_EVENTS	BIT_ULL(37)
/* CPUID 0x40000003 EDX: features. */
#define FEAT_FREQUENCY		BIT_ULL(8)
#define FEAT_CRASH		BIT_ULL(10)
/* CPUID 0x40000004 EAX: recommendations. */
#define REC_REMOTE_TLB_FLUSH	BIT_ULL(2)
#define REC_RELAXED_TIMING	BIT_ULL(5)
#define REC_CLUSTER_IPI		BIT_ULL(10)
#define REC_EX_MASKS		BIT_ULL(11)

/* Hypercalls. */
#define HC_FLUSH_SPACE		0x0002
#define HC_FLUSH_LIST		0x0003
#define HC_NOTIFY_SPIN_WAIT	0x0008
#define HC_SEND_IPI		0x000b
#define HC_FLUSH_SPACE_EX	0x0013
#define HC_FLUSH_LIST_EX	0x0014
#define HC_SEND_IPI_EX		0x0015
#define HC_POST_MESSAGE		0x005c
#define HC_SIGNAL_EVENT		0x005d
#define HC_FAST			BIT_ULL(16)
#define HC_VAR(n)		((uint64_t)(n) << 17)
#define HC_REPS(n)		((uint64_t)(n) << 32)
#define HC_START(n)		((uint64_t)(n) << 48)

#define ST_SUCCESS		0x00
#define ST_INVALID_CODE		0x02
#define ST_INVALID_INPUT	0x03
#define ST_INVALID_ALIGNMENT	0x04
#define ST_INVALID_PARAMETER	0x05
#define ST_ACCESS_DENIED	0x06
#define ST_INVALID_CONNECTION	0x12
#define STATUS(r)		((r) & 0xffff)
#define REPS(r)			(((r) >> 32) & 0xfff)

/* Guest pages in the data area (guest virtual = guest physical). */
#define HC_PAGE			(VID_CGUEST_DATA_GPA + 0x0000)
#define IN_PAGE			(VID_CGUEST_DATA_GPA + 0x1000)
#define TSC_PAGE		(VID_CGUEST_DATA_GPA + 0x2000)
#define PAGE_A			(VID_CGUEST_DATA_GPA + 0x3000)
#define PAGE_B			(VID_CGUEST_DATA_GPA + 0x4000)
/* Beyond the guest's RAM, aligned. */
#define NOT_RAM			0x40000000ULL
/* A guest virtual page the TLB test remaps (above the identity map). */
#define TLB_GVA			0x80000000ULL

#define GUEST_OS_ID		0x8100000000060100ULL	/* "Linux 6.1" */
#define IPI_VECTOR		0x50

/* ----- host side: partition properties ----- */

/* The Hyper-V properties a guest is created with (a test sets them). */
static uint64_t cfg_priv, cfg_feat, cfg_rec;

static int set_hv_props(int part_fd)
{
	int r = vid_prop_set_u64(part_fd, VID_PROP_HV_PRIVILEGES, cfg_priv);

	if (!r)
		r = vid_prop_set_u64(part_fd, VID_PROP_HV_FEATURES, cfg_feat);
	if (!r)
		r = vid_prop_set_u64(part_fd, VID_PROP_HV_RECOMMENDATIONS,
				     cfg_rec);
	return r;
}

/* Create C guest @g with these Hyper-V properties (or skip). */
#define CREATE_HV(g, nr, fn, priv, feat, rec) do {			\
	cfg_priv = (priv);						\
	cfg_feat = (feat);						\
	cfg_rec = (rec);						\
	vid_guest_before_initialize = set_hv_props;			\
	VID_GUEST_CREATE_C_OR_SKIP(g, nr, fn);				\
} while (0)

/* A fresh partition fd (not initialized), or skip. */
#define OPEN_PARTITION(vid_fd, part_fd) do {				\
	vid_fd = vid_open();						\
	if (vid_fd == -ENOENT)						\
		SKIP(return, "%s absent: vid.ko not loaded",		\
		     VID_DEVICE_PATH);					\
	ASSERT_LE(0, vid_fd);						\
	part_fd = vid_test_partition(vid_fd, NULL, 0, false);		\
	ASSERT_LE(0, part_fd);						\
} while (0)

static const uint32_t hv_props[] = {
	VID_PROP_HV_PRIVILEGES, VID_PROP_HV_FEATURES,
	VID_PROP_HV_RECOMMENDATIONS,
};

/* What must be on by default: everything this test exercises. */
static const uint64_t hv_must[] = {
	PRIV_VP_RUNTIME | PRIV_TIME_REF_COUNT | PRIV_HYPERCALL |
	PRIV_VP_INDEX | PRIV_RESET | PRIV_REFERENCE_TSC | PRIV_FREQUENCY |
	PRIV_APIC_ACCESS | PRIV_POST_MESSAGES | PRIV_SIGNAL_EVENTS,
	FEAT_FREQUENCY | FEAT_CRASH,
	REC_REMOTE_TLB_FLUSH | REC_RELAXED_TIMING | REC_CLUSTER_IPI |
	REC_EX_MASKS,
};

/* Defaults: what vid implements; any other bit is -EINVAL, no change. */
TEST(props_defaults_and_unimplemented_bits)
{
	int vid_fd, part_fd, bit;
	uint64_t def, v;
	unsigned int i;

	OPEN_PARTITION(vid_fd, part_fd);
	for (i = 0; i < ARRAY_LEN(hv_props); i++) {
		ASSERT_EQ(0, vid_prop_get_u64(part_fd, hv_props[i], &def));
		EXPECT_EQ(hv_must[i], def & hv_must[i])
			TH_LOG("property %u: %#llx", hv_props[i],
			       (unsigned long long)def);
		if (i)	/* EDX, EAX: 32 bits */
			EXPECT_EQ(0, def >> 32);
		for (bit = 0; bit < 64; bit++) {
			if (def & 1ULL << bit)
				continue;
			EXPECT_EQ(-EINVAL, vid_prop_set_u64(part_fd,
							    hv_props[i],
							    def | 1ULL << bit))
				TH_LOG("property %u bit %d", hv_props[i], bit);
		}
		ASSERT_EQ(0, vid_prop_get_u64(part_fd, hv_props[i], &v));
		EXPECT_EQ(def, v);
	}
	close(part_fd);
	close(vid_fd);
}

/* Any subset round-trips; the size must be 8. */
TEST(props_subsets_round_trip)
{
	uint32_t small = 1;
	int vid_fd, part_fd;
	uint64_t def, v;
	unsigned int i;

	OPEN_PARTITION(vid_fd, part_fd);
	for (i = 0; i < ARRAY_LEN(hv_props); i++) {
		ASSERT_EQ(0, vid_prop_get_u64(part_fd, hv_props[i], &def));
		ASSERT_EQ(0, vid_prop_set_u64(part_fd, hv_props[i], 0));
		ASSERT_EQ(0, vid_prop_get_u64(part_fd, hv_props[i], &v));
		EXPECT_EQ(0, v);
		ASSERT_EQ(0, vid_prop_set_u64(part_fd, hv_props[i],
					      def & hv_must[i]));
		ASSERT_EQ(0, vid_prop_get_u64(part_fd, hv_props[i], &v));
		EXPECT_EQ(def & hv_must[i], v);
		EXPECT_EQ(-EINVAL, vid_prop_set(part_fd, hv_props[i], &small,
						sizeof(small)));
		ASSERT_EQ(0, vid_prop_set_u64(part_fd, hv_props[i], def));
	}
	close(part_fd);
	close(vid_fd);
}

/* Fixed at initialize: -EBUSY, and reads still work. */
TEST(props_after_initialize)
{
	int vid_fd, part_fd;
	uint64_t def, v;
	unsigned int i;

	OPEN_PARTITION(vid_fd, part_fd);
	ASSERT_EQ(0, vid_prop_set_u64(part_fd, VID_PROP_HV_PRIVILEGES,
				      PRIV_HYPERCALL));
	ASSERT_EQ(0, vid_partition_initialize(part_fd));
	for (i = 0; i < ARRAY_LEN(hv_props); i++) {
		ASSERT_EQ(0, vid_prop_get_u64(part_fd, hv_props[i], &def));
		EXPECT_EQ(-EBUSY, vid_prop_set_u64(part_fd, hv_props[i], 0));
		EXPECT_EQ(-EBUSY, vid_prop_set_u64(part_fd, hv_props[i], def));
		/* An unimplemented bit after initialize: EBUSY first. */
		EXPECT_EQ(-EBUSY, vid_prop_set_u64(part_fd, hv_props[i],
						   1ULL << 63));
		ASSERT_EQ(0, vid_prop_get_u64(part_fd, hv_props[i], &v));
		EXPECT_EQ(def, v);
	}
	ASSERT_EQ(0, vid_prop_get_u64(part_fd, VID_PROP_HV_PRIVILEGES, &v));
	EXPECT_EQ(PRIV_HYPERCALL, v);
	close(part_fd);
	close(vid_fd);
}

/* ----- guest helpers ----- */

/* Call through the hypercall page (RCX, RDX, R8 in; RAX out). */
static inline uint64_t hv_hypercall(uint64_t control, uint64_t in,
				    uint64_t out)
{
	register uint64_t r8 __asm__("r8") = out;
	uint64_t rax;

	__asm__ volatile("call *%[page]"
			 : "=a"(rax), "+c"(control), "+d"(in), "+r"(r8)
			 : [page] "r"(HC_PAGE)
			 : "memory", "cc");
	return rax;
}

static void hv_enable_hypercalls(void)
{
	wrmsr(HV_MSR_GUEST_OS_ID, GUEST_OS_ID);
	wrmsr(HV_MSR_HYPERCALL, HC_PAGE | 1);
}

static inline uint64_t *in_page(void)
{
	return (uint64_t *)IN_PAGE;
}

/* Guest memory another VP or the hypervisor changes behind the code. */
static inline uint64_t peek64(uint64_t gva)
{
	return __atomic_load_n((uint64_t *)gva, __ATOMIC_SEQ_CST);
}

static inline uint32_t peek32(uint64_t gva)
{
	return __atomic_load_n((uint32_t *)gva, __ATOMIC_SEQ_CST);
}

static inline void poke64(uint64_t gva, uint64_t v)
{
	__atomic_store_n((uint64_t *)gva, v, __ATOMIC_SEQ_CST);
}

/* ----- CPUID ----- */

static uint32_t cpuid_out[7][4];

static void guest_cpuid(unsigned int vp)
{
	unsigned int i;

	for (i = 0; i < 7; i++)
		cpuid(0x40000000 + i, 0, &cpuid_out[i][0], &cpuid_out[i][1],
		      &cpuid_out[i][2], &cpuid_out[i][3]);
	GUEST_SYNC(0);
}

static void check_cpuid(struct __test_metadata *_metadata,
			struct vid_guest *g, unsigned int vps)
{
	uint32_t (*out)[4] = VID_GUEST_GLOBAL(g, cpuid_out);
	uint64_t priv, feat, rec;

	ASSERT_EQ(0, vid_prop_get_u64(g->part_fd, VID_PROP_HV_PRIVILEGES,
				      &priv));
	ASSERT_EQ(0, vid_prop_get_u64(g->part_fd, VID_PROP_HV_FEATURES,
				      &feat));
	ASSERT_EQ(0, vid_prop_get_u64(g->part_fd,
				      VID_PROP_HV_RECOMMENDATIONS, &rec));
	EXPECT_EQ(0x40000006, out[0][0]);
	EXPECT_EQ(0, memcmp(&out[0][1], "Microsoft Hv", 12));
	EXPECT_EQ(0x31237648, out[1][0]);		/* "Hv#1" */
	EXPECT_NE(0, out[2][0]);			/* build */
	EXPECT_NE(0, out[2][1]);			/* major.minor */
	EXPECT_EQ((uint32_t)priv, out[3][0]);
	EXPECT_EQ((uint32_t)(priv >> 32), out[3][1]);
	EXPECT_EQ(0, out[3][2]);
	EXPECT_EQ((uint32_t)feat, out[3][3]);
	EXPECT_EQ((uint32_t)rec, out[4][0]);
	EXPECT_NE(0, out[4][1]);			/* spin-wait retries */
	EXPECT_EQ(vps, out[5][0]);			/* max VPs */
	EXPECT_EQ(0, out[6][0] | out[6][1] | out[6][2] | out[6][3]);
}

TEST(cpuid_leaves_default)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_cpuid);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	check_cpuid(_metadata, &g, 2);
	vid_guest_destroy(&g);
}

/* The leaves say exactly what the properties say. */
TEST(cpuid_leaves_follow_properties)
{
	struct vid_guest g;
	struct vid_ucall uc;
	uint32_t (*out)[4];

	CREATE_HV(&g, 1, guest_cpuid, PRIV_HYPERCALL | PRIV_SIGNAL_EVENTS,
		  FEAT_CRASH, REC_CLUSTER_IPI);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	check_cpuid(_metadata, &g, 1);
	out = VID_GUEST_GLOBAL(&g, cpuid_out);
	EXPECT_EQ(PRIV_HYPERCALL, out[3][0]);
	EXPECT_EQ(PRIV_SIGNAL_EVENTS >> 32, out[3][1]);
	EXPECT_EQ(FEAT_CRASH, out[3][3]);
	EXPECT_EQ(REC_CLUSTER_IPI, out[4][0]);
	vid_guest_destroy(&g);
}

/* ----- MSR privileges (hyperv_features) ----- */

struct msr_case {
	uint32_t msr;
	bool writable;		/* else every write is #GP */
	uint64_t priv;		/* privilege it needs */
	uint64_t feat;		/* feature it needs */
};

/* Writes use 0: a value with no effect on any of them. */
static const struct msr_case msr_cases[] = {
	{ HV_MSR_GUEST_OS_ID, true, PRIV_HYPERCALL, 0 },
	{ HV_MSR_HYPERCALL, true, PRIV_HYPERCALL, 0 },
	{ HV_MSR_VP_INDEX, false, PRIV_VP_INDEX, 0 },
	{ HV_MSR_RESET, true, PRIV_RESET, 0 },
	{ HV_MSR_VP_RUNTIME, false, PRIV_VP_RUNTIME, 0 },
	{ HV_MSR_TIME_REF_COUNT, false, PRIV_TIME_REF_COUNT, 0 },
	{ HV_MSR_REFERENCE_TSC, true, PRIV_REFERENCE_TSC, 0 },
	{ HV_MSR_TSC_FREQUENCY, false, PRIV_FREQUENCY, 0 },
	{ HV_MSR_APIC_FREQUENCY, false, PRIV_FREQUENCY, 0 },
	{ HV_MSR_CRASH_P0, true, 0, FEAT_CRASH },
	{ HV_MSR_CRASH_P4, true, 0, FEAT_CRASH },
	{ HV_MSR_CRASH_CTL, true, 0, FEAT_CRASH },
	{ HV_MSR_APIC_TPR, true, PRIV_APIC_ACCESS, 0 },
	{ HV_MSR_VP_ASSIST_PAGE, true, PRIV_APIC_ACCESS, 0 },
	{ 0x40000074, false, ~0ULL, ~0ULL },		/* never */
	{ HV_MSR_LAST, false, ~0ULL, ~0ULL },
	{ 0x40000004, false, ~0ULL, ~0ULL },
};

/* Bit i: reading / writing msr_cases[i] raised #GP. */
static void guest_msr_gates(unsigned int vp)
{
	uint64_t read_gp = 0, write_gp = 0, v;
	unsigned int i;

	for (i = 0; i < ARRAY_LEN(msr_cases); i++) {
		if (rdmsr_safe(msr_cases[i].msr, &v) == GP_VECTOR)
			read_gp |= 1ULL << i;
		if (wrmsr_safe(msr_cases[i].msr, 0) == GP_VECTOR)
			write_gp |= 1ULL << i;
	}
	GUEST_SYNC(read_gp, write_gp);
}

FIXTURE(msr_gate) {
	struct vid_guest g;
};

FIXTURE_VARIANT(msr_gate) {
	uint64_t priv;
	uint64_t feat;
};

FIXTURE_VARIANT_ADD(msr_gate, none) { .priv = 0, .feat = 0 };
FIXTURE_VARIANT_ADD(msr_gate, hypercall) { .priv = PRIV_HYPERCALL };
FIXTURE_VARIANT_ADD(msr_gate, vp_index) { .priv = PRIV_VP_INDEX };
FIXTURE_VARIANT_ADD(msr_gate, reset) { .priv = PRIV_RESET };
FIXTURE_VARIANT_ADD(msr_gate, vp_runtime) { .priv = PRIV_VP_RUNTIME };
FIXTURE_VARIANT_ADD(msr_gate, time_ref_count) {
	.priv = PRIV_TIME_REF_COUNT };
FIXTURE_VARIANT_ADD(msr_gate, reference_tsc) { .priv = PRIV_REFERENCE_TSC };
FIXTURE_VARIANT_ADD(msr_gate, frequency) { .priv = PRIV_FREQUENCY };
FIXTURE_VARIANT_ADD(msr_gate, crash) { .feat = FEAT_CRASH };
FIXTURE_VARIANT_ADD(msr_gate, apic_access) { .priv = PRIV_APIC_ACCESS };
/* Everything but one: only that one's MSRs fault. */
FIXTURE_VARIANT_ADD(msr_gate, all_but_hypercall) {
	.priv = PRIV_VP_RUNTIME | PRIV_TIME_REF_COUNT | PRIV_VP_INDEX |
		PRIV_RESET | PRIV_REFERENCE_TSC | PRIV_FREQUENCY |
		PRIV_APIC_ACCESS,
	.feat = FEAT_FREQUENCY | FEAT_CRASH };
FIXTURE_VARIANT_ADD(msr_gate, all) {
	.priv = PRIV_VP_RUNTIME | PRIV_TIME_REF_COUNT | PRIV_HYPERCALL |
		PRIV_VP_INDEX | PRIV_RESET | PRIV_REFERENCE_TSC |
		PRIV_FREQUENCY | PRIV_APIC_ACCESS,
	.feat = FEAT_FREQUENCY | FEAT_CRASH };

FIXTURE_SETUP(msr_gate)
{
}

FIXTURE_TEARDOWN(msr_gate)
{
}

TEST_F(msr_gate, faults_until_granted)
{
	uint64_t want_read = 0, want_write = 0;
	struct vid_ucall uc;
	unsigned int i;

	CREATE_HV(&self->g, 1, guest_msr_gates, variant->priv, variant->feat,
		  0);
	ASSERT_RUN_UCALL(&self->g, 0, &uc, UCALL_SYNC);
	for (i = 0; i < ARRAY_LEN(msr_cases); i++) {
		const struct msr_case *c = &msr_cases[i];
		bool granted = (variant->priv & c->priv) == c->priv &&
			       (variant->feat & c->feat) == c->feat;

		if (!granted)
			want_read |= 1ULL << i;
		if (!granted || !c->writable)
			want_write |= 1ULL << i;
	}
	EXPECT_EQ(want_read, uc.args[0]);
	EXPECT_EQ(want_write, uc.args[1]);
	vid_guest_destroy(&self->g);
}

/* ----- hypercall privileges ----- */

struct hc_case {
	uint64_t control;
	uint64_t in[6];		/* IN_PAGE contents, or the fast args */
	bool fast;
	uint64_t priv;		/* needed */
	uint64_t rec;		/* needed */
	uint16_t granted;	/* status once allowed */
};

/* Each call in a valid form; targets are VP 0 or nobody. */
static const struct hc_case hc_cases[] = {
	{ HC_POST_MESSAGE, { 0x123, 1 }, false, PRIV_POST_MESSAGES, 0,
	  ST_INVALID_CONNECTION },
	{ HC_SIGNAL_EVENT | HC_FAST, { 0x123 }, true, PRIV_SIGNAL_EVENTS, 0,
	  ST_INVALID_CONNECTION },
	{ HC_SEND_IPI | HC_FAST, { IPI_VECTOR, 0 }, true, 0, REC_CLUSTER_IPI,
	  ST_SUCCESS },
	{ HC_SEND_IPI_EX, { IPI_VECTOR, 0, 0 }, false, 0,
	  REC_CLUSTER_IPI | REC_EX_MASKS, ST_SUCCESS },
	{ HC_FLUSH_SPACE, { 0, 0, 1 }, false, 0, REC_REMOTE_TLB_FLUSH,
	  ST_SUCCESS },
	{ HC_FLUSH_LIST | HC_REPS(1), { 0, 0, 1, 0 }, false, 0,
	  REC_REMOTE_TLB_FLUSH, ST_SUCCESS },
	{ HC_FLUSH_SPACE_EX | HC_VAR(1), { 0, 0, 0, 1, 1 }, false, 0,
	  REC_REMOTE_TLB_FLUSH | REC_EX_MASKS, ST_SUCCESS },
	{ HC_FLUSH_LIST_EX | HC_VAR(1) | HC_REPS(1), { 0, 0, 0, 1, 1, 0 },
	  false, 0, REC_REMOTE_TLB_FLUSH | REC_EX_MASKS, ST_SUCCESS },
	{ HC_NOTIFY_SPIN_WAIT | HC_FAST, { 1 }, true, 0, 0, ST_SUCCESS },
};

static uint64_t hc_results[ARRAY_LEN(hc_cases)];

static uint64_t hc_run_case(const struct hc_case *c)
{
	if (c->fast)
		return hv_hypercall(c->control, c->in[0], c->in[1]);
	memcpy(in_page(), c->in, sizeof(c->in));
	return hv_hypercall(c->control, IN_PAGE, 0);
}

static void guest_hc_gates(unsigned int vp)
{
	unsigned int i;

	hv_enable_hypercalls();
	for (i = 0; i < ARRAY_LEN(hc_cases); i++)
		hc_results[i] = hc_run_case(&hc_cases[i]);
	GUEST_SYNC(0);
}

FIXTURE(hc_gate) {
	struct vid_guest g;
};

FIXTURE_VARIANT(hc_gate) {
	uint64_t priv;
	uint64_t rec;
};

FIXTURE_VARIANT_ADD(hc_gate, none) { .priv = PRIV_HYPERCALL };
FIXTURE_VARIANT_ADD(hc_gate, post_messages) {
	.priv = PRIV_HYPERCALL | PRIV_POST_MESSAGES };
FIXTURE_VARIANT_ADD(hc_gate, signal_events) {
	.priv = PRIV_HYPERCALL | PRIV_SIGNAL_EVENTS };
FIXTURE_VARIANT_ADD(hc_gate, cluster_ipi) {
	.priv = PRIV_HYPERCALL, .rec = REC_CLUSTER_IPI };
FIXTURE_VARIANT_ADD(hc_gate, cluster_ipi_ex) {
	.priv = PRIV_HYPERCALL, .rec = REC_CLUSTER_IPI | REC_EX_MASKS };
FIXTURE_VARIANT_ADD(hc_gate, remote_tlb_flush) {
	.priv = PRIV_HYPERCALL, .rec = REC_REMOTE_TLB_FLUSH };
FIXTURE_VARIANT_ADD(hc_gate, remote_tlb_flush_ex) {
	.priv = PRIV_HYPERCALL, .rec = REC_REMOTE_TLB_FLUSH | REC_EX_MASKS };
FIXTURE_VARIANT_ADD(hc_gate, ex_masks_alone) {
	.priv = PRIV_HYPERCALL, .rec = REC_EX_MASKS };
FIXTURE_VARIANT_ADD(hc_gate, all) {
	.priv = PRIV_HYPERCALL | PRIV_POST_MESSAGES | PRIV_SIGNAL_EVENTS,
	.rec = REC_CLUSTER_IPI | REC_EX_MASKS | REC_REMOTE_TLB_FLUSH };

FIXTURE_SETUP(hc_gate)
{
}

FIXTURE_TEARDOWN(hc_gate)
{
}

TEST_F(hc_gate, access_denied_until_granted)
{
	struct vid_ucall uc;
	uint64_t *res;
	unsigned int i;

	CREATE_HV(&self->g, 1, guest_hc_gates, variant->priv, 0,
		  variant->rec);
	ASSERT_RUN_UCALL(&self->g, 0, &uc, UCALL_SYNC);
	res = VID_GUEST_GLOBAL(&self->g, hc_results);
	for (i = 0; i < ARRAY_LEN(hc_cases); i++) {
		const struct hc_case *c = &hc_cases[i];
		bool granted = (variant->priv & c->priv) == c->priv &&
			       (variant->rec & c->rec) == c->rec;

		EXPECT_EQ(granted ? c->granted : ST_ACCESS_DENIED,
			  STATUS(res[i]))
			TH_LOG("call %#llx: result %#llx",
			       (unsigned long long)c->control,
			       (unsigned long long)res[i]);
	}
	vid_guest_destroy(&self->g);
}

/* ----- the hypercall page ----- */

static void guest_hypercall_page(unsigned int vp)
{
	uint64_t status, v;

	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_GUEST_OS_ID));
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_HYPERCALL));
	/* No interface yet: the instruction is #UD. */
	GUEST_ASSERT_EQ(UD_VECTOR, vmmcall_safe(HC_NOTIFY_SPIN_WAIT | HC_FAST,
						0, 0, &status));
	/* The page cannot be enabled before the guest OS id is set. */
	wrmsr(HV_MSR_HYPERCALL, HC_PAGE | 1);
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_HYPERCALL));
	GUEST_ASSERT_EQ(0, peek32(HC_PAGE));
	wrmsr(HV_MSR_GUEST_OS_ID, GUEST_OS_ID);
	GUEST_ASSERT_EQ(GUEST_OS_ID, rdmsr(HV_MSR_GUEST_OS_ID));
	GUEST_ASSERT_EQ(UD_VECTOR, vmmcall_safe(HC_NOTIFY_SPIN_WAIT | HC_FAST,
						0, 0, &status));
	/* Reserved bits 11:2, and a page that is not RAM: #GP. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_HYPERCALL,
					      HC_PAGE | 1 | 4));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_HYPERCALL,
					      HC_PAGE | 1 | 0x800));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_HYPERCALL, NOT_RAM | 1));
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_HYPERCALL));

	wrmsr(HV_MSR_HYPERCALL, HC_PAGE | 1);
	GUEST_ASSERT_EQ(HC_PAGE | 1, rdmsr(HV_MSR_HYPERCALL));
	/* "vmmcall; ret" */
	GUEST_ASSERT_EQ(0xc3d9010f, peek32(HC_PAGE));
	GUEST_ASSERT_EQ(ST_SUCCESS, hv_hypercall(HC_NOTIFY_SPIN_WAIT | HC_FAST,
						 0, 0));
	GUEST_ASSERT_EQ(0, vmmcall_safe(HC_NOTIFY_SPIN_WAIT | HC_FAST, 0, 0,
					&status));
	GUEST_ASSERT_EQ(ST_SUCCESS, status);
	GUEST_SYNC(1);

	/* Disabled again: #UD. */
	wrmsr(HV_MSR_HYPERCALL, HC_PAGE);
	GUEST_ASSERT_EQ(UD_VECTOR, vmmcall_safe(HC_NOTIFY_SPIN_WAIT | HC_FAST,
						0, 0, &status));
	/* Guest OS id 0 turns the page off. */
	wrmsr(HV_MSR_HYPERCALL, HC_PAGE | 1);
	wrmsr(HV_MSR_GUEST_OS_ID, 0);
	GUEST_ASSERT_EQ(HC_PAGE, rdmsr(HV_MSR_HYPERCALL));
	GUEST_ASSERT_EQ(UD_VECTOR, vmmcall_safe(HC_NOTIFY_SPIN_WAIT | HC_FAST,
						0, 0, &status));

	/* Locked: later writes change nothing. */
	hv_enable_hypercalls();
	wrmsr(HV_MSR_HYPERCALL, HC_PAGE | 3);
	GUEST_ASSERT_EQ(0, wrmsr_safe(HV_MSR_HYPERCALL, 0));
	GUEST_ASSERT_EQ(0, wrmsr_safe(HV_MSR_HYPERCALL, PAGE_A | 1));
	GUEST_ASSERT_EQ(HC_PAGE | 3, rdmsr(HV_MSR_HYPERCALL));
	GUEST_ASSERT_EQ(0, peek32(PAGE_A));
	GUEST_ASSERT_EQ(ST_SUCCESS, hv_hypercall(HC_NOTIFY_SPIN_WAIT | HC_FAST,
						 0, 0));
	GUEST_ASSERT_EQ(0, rdmsr_safe(HV_MSR_HYPERCALL, &v));
	GUEST_SYNC(2);
}

TEST(hypercall_page)
{
	struct vid_guest g;
	struct vid_ucall uc;
	const uint8_t code[] = { 0x0f, 0x01, 0xd9, 0xc3 };

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_hypercall_page);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	/* The VMM sees the code in the guest's RAM too. */
	EXPECT_EQ(0, memcmp(vid_guest_gpa(&g, HC_PAGE), code, sizeof(code)));
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(2, uc.args[0]);
	vid_guest_destroy(&g);
}

/* ----- input checking ----- */

struct input_case {
	uint64_t control;
	uint64_t in_gpa;	/* memory form; 0: IN_PAGE */
	uint64_t out_gpa;
	uint64_t in[6];		/* IN_PAGE contents, or fast args */
	uint16_t status;
	uint16_t reps;
};

#define FAST_NOTIFY	(HC_NOTIFY_SPIN_WAIT | HC_FAST)
#define POST		HC_POST_MESSAGE
#define FLUSH_LIST	HC_FLUSH_LIST

static const struct input_case input_cases[] = {
	/* Reserved bits of the input value, the nested bit. */
	{ FAST_NOTIFY | 1ULL << 27, .status = ST_INVALID_INPUT },
	{ FAST_NOTIFY | 1ULL << 30, .status = ST_INVALID_INPUT },
	{ FAST_NOTIFY | 1ULL << 31, .status = ST_INVALID_INPUT },
	{ FAST_NOTIFY | 1ULL << 44, .status = ST_INVALID_INPUT },
	{ FAST_NOTIFY | 1ULL << 47, .status = ST_INVALID_INPUT },
	{ FAST_NOTIFY | 1ULL << 60, .status = ST_INVALID_INPUT },
	{ FAST_NOTIFY | 1ULL << 63, .status = ST_INVALID_INPUT },
	/* Unknown codes. */
	{ 0x0001, .status = ST_INVALID_CODE },
	{ 0x0000 | HC_FAST, .status = ST_INVALID_CODE },
	{ 0x005e, .status = ST_INVALID_CODE },
	{ 0xffff, .status = ST_INVALID_CODE },
	/* Rep counts: none on a simple call, 1..n and start < n on a rep. */
	{ FAST_NOTIFY | HC_REPS(1), .status = ST_INVALID_INPUT },
	{ FAST_NOTIFY | HC_START(1), .status = ST_INVALID_INPUT },
	{ FLUSH_LIST, .in = { 0, 0, 1 }, .status = ST_INVALID_INPUT },
	{ FLUSH_LIST | HC_REPS(5) | HC_START(5), .in = { 0, 0, 1 },
	  .status = ST_INVALID_INPUT },
	{ FLUSH_LIST | HC_REPS(5) | HC_START(2), .in = { 0, 0, 1 },
	  .status = ST_SUCCESS, .reps = 5 },
	{ FLUSH_LIST | HC_REPS(3), .in = { 0, 0, 1 },
	  .status = ST_SUCCESS, .reps = 3 },
	/* A variable header only where the call has one. */
	{ HC_FLUSH_SPACE | HC_VAR(1), .in = { 0, 0, 1 },
	  .status = ST_INVALID_INPUT },
	{ HC_SEND_IPI_EX | HC_VAR(1), .in = { IPI_VECTOR, 0, 0 },
	  .status = ST_INVALID_INPUT },	/* one bank, mask says none */
	/* The fast form only where the call has one. */
	{ POST | HC_FAST, .status = ST_INVALID_INPUT },
	/* GPAs: 8-byte aligned, the input within one page, RAM. */
	{ POST, .in_gpa = IN_PAGE + 4, .status = ST_INVALID_ALIGNMENT },
	{ POST, .out_gpa = IN_PAGE + 1, .status = ST_INVALID_ALIGNMENT },
	{ POST, .in_gpa = IN_PAGE + 4096 - 248,
	  .status = ST_INVALID_ALIGNMENT },
	{ FLUSH_LIST | HC_REPS(510), .status = ST_INVALID_ALIGNMENT },
	{ POST, .in_gpa = NOT_RAM, .status = ST_INVALID_PARAMETER },
	/* Bad values and reserved fields in the input. */
	{ HC_SEND_IPI | HC_FAST, .in = { 0x0f, 1 },
	  .status = ST_INVALID_PARAMETER },
	{ HC_SEND_IPI | HC_FAST, .in = { 0x100, 1 },
	  .status = ST_INVALID_PARAMETER },
	{ HC_SEND_IPI | HC_FAST, .in = { 1ULL << 32 | IPI_VECTOR, 1 },
	  .status = ST_INVALID_INPUT },
	{ HC_SEND_IPI_EX, .in = { IPI_VECTOR, 2, 0 },
	  .status = ST_INVALID_PARAMETER },	/* set format 2 */
	{ HC_FLUSH_SPACE, .in = { 0, 1 << 4, 1 }, .status = ST_INVALID_INPUT },
	{ HC_SIGNAL_EVENT | HC_FAST, .in = { 1ULL << 48 | 0x123 },
	  .status = ST_INVALID_INPUT },
	{ POST, .in = { 0x123 | 1ULL << 32, 1 }, .status = ST_INVALID_INPUT },
	{ POST, .in = { 0x123, 1 | 241ULL << 32 },
	  .status = ST_INVALID_PARAMETER },
	{ POST, .in = { 0x123, 0x80000001 }, .status = ST_INVALID_PARAMETER },
	/* Well formed, nobody listening. */
	{ POST, .in = { 0x123, 1 | 16ULL << 32 },
	  .status = ST_INVALID_CONNECTION },
	{ HC_SIGNAL_EVENT | HC_FAST, .in = { 0x123 },
	  .status = ST_INVALID_CONNECTION },
	{ HC_SIGNAL_EVENT, .in = { 0x123 }, .status = ST_INVALID_CONNECTION },
	/* Flushes of everyone, of the caller. */
	{ HC_FLUSH_SPACE, .in = { 0, 1, 0 }, .status = ST_SUCCESS },
	{ HC_FLUSH_SPACE, .in = { 0, 0, 0 }, .status = ST_SUCCESS },
	{ HC_FLUSH_SPACE_EX, .in = { 0, 2, 1, 0 }, .status = ST_SUCCESS },
	{ HC_SEND_IPI_EX | HC_VAR(2), .in = { IPI_VECTOR, 0, 5, 0, 0 },
	  .status = ST_SUCCESS },	/* banks 0 and 2, both empty */
};

struct input_result {
	uint64_t failures, first, got, want;
};

static struct input_result input_result;

static void guest_input_checks(unsigned int vp)
{
	struct input_result *res = &input_result;
	uint64_t r, want, status;
	unsigned int i;

	hv_enable_hypercalls();
	for (i = 0; i < ARRAY_LEN(input_cases); i++) {
		const struct input_case *c = &input_cases[i];

		if (c->control & HC_FAST) {
			r = hv_hypercall(c->control, c->in[0], c->in[1]);
		} else {
			memset(in_page(), 0, 4096);
			memcpy(in_page(), c->in, sizeof(c->in));
			r = hv_hypercall(c->control, c->in_gpa ?: IN_PAGE,
					 c->out_gpa);
		}
		want = c->status | (uint64_t)c->reps << 32;
		if (r != want && !res->failures++) {
			res->first = i;
			res->got = r;
			res->want = want;
		}
	}
	/* Fast flushes and IPI_EX take XMM input, which is not offered. */
	GUEST_ASSERT_EQ(UD_VECTOR, vmmcall_safe(HC_FLUSH_SPACE | HC_FAST, 0,
						0, &status));
	GUEST_ASSERT_EQ(UD_VECTOR, vmmcall_safe(HC_SEND_IPI_EX | HC_FAST,
						IPI_VECTOR, 0, &status));
	GUEST_SYNC(res->failures);
}

TEST(hypercall_input_checks)
{
	struct input_result *res;
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_input_checks);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	res = &VID_GUEST_GLOBAL(&g, input_result);
	EXPECT_EQ(0, res->failures)
		TH_LOG("%llu bad: first case %llu (control %#llx): "
		       "result %#llx, expected %#llx",
		       (unsigned long long)res->failures,
		       (unsigned long long)res->first,
		       (unsigned long long)input_cases[res->first].control,
		       (unsigned long long)res->got,
		       (unsigned long long)res->want);
	vid_guest_destroy(&g);
}

/* ----- VP index ----- */

static void guest_vp_index_msr(unsigned int vp)
{
	GUEST_SYNC(rdmsr(HV_MSR_VP_INDEX), guest_vp_index(),
		   wrmsr_safe(HV_MSR_VP_INDEX, vp));
}

TEST(vp_index_two_vps)
{
	struct vid_guest g;
	struct vid_ucall uc;
	unsigned int vp;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_vp_index_msr);
	for (vp = 0; vp < 2; vp++) {
		ASSERT_RUN_UCALL(&g, vp, &uc, UCALL_SYNC);
		EXPECT_EQ(vp, uc.args[0]);
		EXPECT_EQ(vp, uc.args[1]);
		EXPECT_EQ(GP_VECTOR, uc.args[2]);	/* read-only */
	}
	vid_guest_destroy(&g);
}

/* ----- reference time ----- */

struct tsc_page {
	uint32_t sequence;
	uint32_t reserved;
	uint64_t scale;
	int64_t offset;
};

static uint64_t tsc_page_read(const struct tsc_page *p, uint32_t *seq)
{
	uint64_t scale, tsc;
	int64_t offset;
	uint32_t s;

	do {
		s = __atomic_load_n(&p->sequence, __ATOMIC_ACQUIRE);
		scale = __atomic_load_n(&p->scale, __ATOMIC_ACQUIRE);
		offset = __atomic_load_n(&p->offset, __ATOMIC_ACQUIRE);
		tsc = rdtsc();
	} while (s != __atomic_load_n(&p->sequence, __ATOMIC_ACQUIRE));
	*seq = s;
	return (uint64_t)(((__uint128_t)tsc * scale) >> 64) + offset;
}

/* Results for the host: the counter and the TSC page against the TSC. */
struct clock_result {
	uint64_t tsc_hz, apic_hz;
	uint64_t backwards;		/* MSR reads that went back */
	uint64_t ref_delta;		/* over one busy period, */
	uint64_t tsc_inner, tsc_outer;	/* within these TSC intervals */
	uint64_t page_sequence;
	uint64_t page_out_of_step;	/* formula outside [MSR before, after] */
	uint64_t page_backwards;
	int64_t worst_step;
};

static struct clock_result clock_result;

/* Allowed disagreement between the page and the MSR, 100 ns units. */
#define IN_STEP_SLACK	10

static void guest_counter_monotonic(struct clock_result *res)
{
	uint64_t prev = rdmsr(HV_MSR_TIME_REF_COUNT), now, ta, tb, tc, td;
	uint64_t r0, r1;
	unsigned int i;

	for (i = 0; i < 2000; i++) {
		now = rdmsr(HV_MSR_TIME_REF_COUNT);
		res->backwards += now < prev;
		prev = now;
	}
	/*
	 * About 50 ms of TSC against the counter. Each counter read is
	 * bracketed by TSC reads, so the exits' length does not matter:
	 * the counter's interval lies between the inner and outer TSC ones.
	 */
	ta = rdtsc();
	r0 = rdmsr(HV_MSR_TIME_REF_COUNT);
	tb = rdtsc();
	while (rdtsc() - tb < res->tsc_hz / 20)
		;
	tc = rdtsc();
	r1 = rdmsr(HV_MSR_TIME_REF_COUNT);
	td = rdtsc();
	res->ref_delta = r1 - r0;
	res->tsc_inner = tc - tb;
	res->tsc_outer = td - ta;
}

static void guest_tsc_page_in_step(struct clock_result *res)
{
	const struct tsc_page *page = (const struct tsc_page *)TSC_PAGE;
	uint64_t before, p, after, last = 0;
	uint32_t seq;
	unsigned int i;
	int64_t d;

	wrmsr(HV_MSR_REFERENCE_TSC, TSC_PAGE | 1);
	GUEST_ASSERT_EQ(TSC_PAGE | 1, rdmsr(HV_MSR_REFERENCE_TSC));
	res->page_sequence = __atomic_load_n(&page->sequence,
					     __ATOMIC_ACQUIRE);
	if (!res->page_sequence)
		return;		/* no usable TSC: the guest uses the MSR */
	for (i = 0; i < 500; i++) {
		before = rdmsr(HV_MSR_TIME_REF_COUNT);
		p = tsc_page_read(page, &seq);
		after = rdmsr(HV_MSR_TIME_REF_COUNT);
		res->page_backwards += p < last;
		last = p;
		d = p + IN_STEP_SLACK < before ? (int64_t)(p - before) :
		    p > after + IN_STEP_SLACK ? (int64_t)(p - after) : 0;
		if (d) {
			res->page_out_of_step++;
			if (d > res->worst_step || -d > res->worst_step)
				res->worst_step = d < 0 ? -d : d;
		}
	}
}

static void guest_clock(unsigned int vp)
{
	struct clock_result *res = &clock_result;

	res->tsc_hz = rdmsr(HV_MSR_TSC_FREQUENCY);
	res->apic_hz = rdmsr(HV_MSR_APIC_FREQUENCY);
	GUEST_ASSERT(res->tsc_hz > 10000000);
	guest_counter_monotonic(res);
	/* Reserved bits, a page outside RAM: #GP, and no change. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_REFERENCE_TSC,
					      TSC_PAGE | 3));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_REFERENCE_TSC,
					      NOT_RAM | 1));
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_REFERENCE_TSC));
	/* Read-only. */
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_TIME_REF_COUNT, 0));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_TSC_FREQUENCY, 0));
	guest_tsc_page_in_step(res);
	GUEST_SYNC(rdmsr(HV_MSR_TIME_REF_COUNT));
	GUEST_SYNC(rdmsr(HV_MSR_TIME_REF_COUNT));
}

#define TSC_PAGE_PARAM	"/sys/module/vid/parameters/tsc_page_always"

/*
 * Set vid's tsc_page_always parameter to @value ('Y'/'N'); returns the
 * old one, or 0 when there is no such parameter.
 */
static char tsc_page_always(char value)
{
	char old = 0;
	FILE *f = fopen(TSC_PAGE_PARAM, "r+");

	if (!f)
		return 0;
	if (fread(&old, 1, 1, f) == 1) {
		rewind(f);
		fputc(value, f);
	}
	fclose(f);
	return old;
}

/*
 * Keep VP @vp's backing thread on CPU @cpu: where the host's TSCs
 * disagree, the reference counter (clamped so it never goes back) and
 * a TSC page read on different CPUs disagree by as much.
 */
static int pin_vp_thread(struct vid_guest *g, unsigned int vp, int cpu)
{
	char path[300], comm[64], want[64];
	uint64_t id;
	cpu_set_t set;
	struct dirent *d;
	int r = -ESRCH;
	DIR *dir;
	FILE *f;

	if (vid_prop_get_u64(g->part_fd, VID_PROP_PARTITION_ID, &id))
		return -EINVAL;
	snprintf(want, sizeof(want), "vid-p%llu-vp%u\n",
		 (unsigned long long)id, vp);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((d = readdir(dir)) && r == -ESRCH) {
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, want))
			r = sched_setaffinity(atoi(d->d_name), sizeof(set),
					      &set) ? -errno : 0;
		fclose(f);
	}
	closedir(dir);
	return r;
}

static uint64_t host_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The counter and the TSC page, on a partition created with vid's
 * tsc_page_always parameter as the variant says: a host that marked its
 * TSC unstable (QEMU's TCG does) offers no TSC page (and counts in
 * ktime) unless told to.
 */
FIXTURE(clock) {
	struct vid_guest g;
};

FIXTURE_VARIANT(clock) {
	char tsc_page_always;
};

FIXTURE_VARIANT_ADD(clock, host_default) { .tsc_page_always = 'N' };
FIXTURE_VARIANT_ADD(clock, tsc_page_always) { .tsc_page_always = 'Y' };

FIXTURE_SETUP(clock)
{
}

FIXTURE_TEARDOWN(clock)
{
}

/* The counter against the TSC: 2% for the host's TSC calibration. */
static void check_tsc_rate(struct __test_metadata *_metadata,
			   const struct clock_result *res)
{
	double ref_ticks = (double)res->ref_delta * res->tsc_hz / 1e7;

	EXPECT_TRUE(ref_ticks >= res->tsc_inner * 0.98 &&
		    ref_ticks <= res->tsc_outer * 1.02)
		TH_LOG("ref %llu (%.0f TSC ticks at %llu Hz), TSC %llu..%llu",
		       (unsigned long long)res->ref_delta, ref_ticks,
		       (unsigned long long)res->tsc_hz,
		       (unsigned long long)res->tsc_inner,
		       (unsigned long long)res->tsc_outer);
}

TEST_F(clock, reference_counter_and_tsc_page)
{
	struct vid_guest *g = &self->g;
	struct clock_result *res;
	uint64_t ref0, h0, h1;
	struct vid_ucall uc;
	char old;

	old = tsc_page_always(variant->tsc_page_always);
	VID_GUEST_CREATE_C_OR_SKIP(g, 1, guest_clock);
	if (old)
		tsc_page_always(old);
	/* One CPU: host TSCs out of step between CPUs do not show. */
	ASSERT_EQ(0, pin_vp_thread(g, 0, 0));
	ASSERT_RUN_UCALL(g, 0, &uc, UCALL_SYNC);
	h0 = host_ns();
	ref0 = uc.args[0];
	res = &VID_GUEST_GLOBAL(g, clock_result);
	EXPECT_EQ(1000000000, res->apic_hz);
	EXPECT_EQ(0, res->backwards);
	check_tsc_rate(_metadata, res);
	if (variant->tsc_page_always == 'Y' && old)
		EXPECT_NE(0, res->page_sequence);
	if (!res->page_sequence) {
		TH_LOG("no TSC page on this host: formula not checked");
	} else {
		EXPECT_EQ(0, res->page_out_of_step)
			TH_LOG("worst step %lld",
			       (long long)res->worst_step);
		EXPECT_EQ(0, res->page_backwards);
	}
	/* And at the host's rate: 200 ms of host time are 2000000 units. */
	usleep(200000);
	h1 = host_ns();
	ASSERT_RUN_UCALL(g, 0, &uc, UCALL_SYNC);
	/* 2% for the host's TSC calibration, 200 ms for the exits. */
	EXPECT_GE((uc.args[0] - ref0) * 100, (h1 - h0) / 100 * 98);
	EXPECT_LE((uc.args[0] - ref0) * 100, (h1 - h0) / 100 * 102 + 200000000)
		TH_LOG("ref advanced %llu over %llu ns",
		       (unsigned long long)(uc.args[0] - ref0),
		       (unsigned long long)(h1 - h0));
	vid_guest_destroy(g);
}

/* VP runtime grows with the VP's work and stays below the counter. */
static void guest_runtime(unsigned int vp)
{
	uint64_t r0 = rdmsr(HV_MSR_VP_RUNTIME), t0 = rdtsc();
	uint64_t hz = rdmsr(HV_MSR_TSC_FREQUENCY);

	GUEST_SYNC(r0);
	while (rdtsc() - t0 < hz / 10)	/* ~100 ms of work */
		;
	GUEST_SYNC(0);
	GUEST_SYNC(rdmsr(HV_MSR_VP_RUNTIME), rdmsr(HV_MSR_TIME_REF_COUNT));
}

TEST(vp_runtime)
{
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t r0;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_runtime);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	r0 = uc.args[0];
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	/* At least 50 ms more (the TSC runs at least as fast as time). */
	EXPECT_GE(uc.args[0], r0 + 500000);
	EXPECT_LE(uc.args[0], uc.args[1]);
	vid_guest_destroy(&g);
}

/* ----- crash and reset ----- */

static void guest_crash(unsigned int vp)
{
	unsigned int i;

	for (i = 0; i < 5; i++)
		wrmsr(HV_MSR_CRASH_P0 + i, 0x1111111111111111ULL * (i + 1));
	for (i = 0; i < 5; i++)
		GUEST_ASSERT_EQ(0x1111111111111111ULL * (i + 1),
				rdmsr(HV_MSR_CRASH_P0 + i));
	/* The capability: notify, no message page. */
	GUEST_ASSERT_EQ(HV_CRASH_NOTIFY, rdmsr(HV_MSR_CRASH_CTL));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_CRASH_CTL,
					      HV_CRASH_NOTIFY_MSG |
					      HV_CRASH_NOTIFY));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_CRASH_CTL, 1));
	wrmsr(HV_MSR_CRASH_CTL, 0);	/* nothing to tell */
	GUEST_SYNC(1);
	wrmsr(HV_MSR_CRASH_CTL, HV_CRASH_NOTIFY);
	GUEST_SYNC(2);			/* the guest goes on after it */
}

TEST(crash_message)
{
	const struct vid_guest_crash *c;
	struct vid_guest g;
	struct vid_ucall uc;
	unsigned int i;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 1, guest_crash);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	ASSERT_RUN_MESSAGE(&g, 0, &uc, VID_MSG_GUEST_CRASH);
	c = &uc.msg.guest_crash;
	EXPECT_EQ(sizeof(*c), uc.msg.payload_size);
	EXPECT_EQ(0, c->vp_index);
	EXPECT_EQ(HV_CRASH_NOTIFY, c->crash_control);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0x1111111111111111ULL * (i + 1), c->parameters[i]);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(2, uc.args[0]);
	vid_guest_destroy(&g);
}

/*
 * The VP assist page and the synthetic APIC MSRs (Linux sets the former
 * up on every CPU): reserved bits fault, the page must be RAM, its
 * APIC-assist word is cleared; TPR is CR8's register; EOI is write-only.
 */
#define ASSIST_GPA	(VID_CGUEST_DATA_GPA + 0x3000)

static void guest_vp_assist(unsigned int vp)
{
	uint32_t *assist = (uint32_t *)ASSIST_GPA;
	uint64_t v;

	/* the hypervisor writes the page: every access a real one */
	__atomic_store_n(&assist[0], 0xdeadbeef, __ATOMIC_RELAXED);
	__atomic_store_n(&assist[1], 0x12345678, __ATOMIC_RELAXED);
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_VP_ASSIST_PAGE));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_VP_ASSIST_PAGE,
					      ASSIST_GPA | 1 | 2));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_VP_ASSIST_PAGE,
					      VID_CGUEST_RAM_SIZE | 1));
	wrmsr(HV_MSR_VP_ASSIST_PAGE, ASSIST_GPA | 1);
	GUEST_ASSERT_EQ(ASSIST_GPA | 1, rdmsr(HV_MSR_VP_ASSIST_PAGE));
	GUEST_ASSERT_EQ(0, __atomic_load_n(&assist[0], __ATOMIC_RELAXED));
	GUEST_ASSERT_EQ(0x12345678,
			__atomic_load_n(&assist[1], __ATOMIC_RELAXED));
	wrmsr(HV_MSR_VP_ASSIST_PAGE, 0);

	wrmsr(HV_MSR_APIC_TPR, 0x50);
	GUEST_ASSERT_EQ(0x50, rdmsr(HV_MSR_APIC_TPR));
	__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	GUEST_ASSERT_EQ(5, v);
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_APIC_TPR, 0x100));
	wrmsr(HV_MSR_APIC_TPR, 0);
	GUEST_ASSERT_EQ(GP_VECTOR, rdmsr_safe(HV_MSR_APIC_EOI, &v));
	wrmsr(HV_MSR_APIC_EOI, 0);	/* nothing in service: no effect */
	GUEST_SYNC(1);
}

TEST(vp_assist_and_apic_msrs)
{
	struct vid_guest g;
	struct vid_ucall uc;

	CREATE_HV(&g, 1, guest_vp_assist, PRIV_APIC_ACCESS, 0, 0);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	vid_guest_destroy(&g);
}

static void guest_reset(unsigned int vp)
{
	if (!vp)
		return;
	GUEST_ASSERT_EQ(0, rdmsr(HV_MSR_RESET));
	GUEST_ASSERT_EQ(GP_VECTOR, wrmsr_safe(HV_MSR_RESET, 2));
	wrmsr(HV_MSR_RESET, 0);		/* no request */
	GUEST_SYNC(1);
	wrmsr(HV_MSR_RESET, 1);
	GUEST_SYNC(2);
}

TEST(reset_message)
{
	struct vid_guest g;
	struct vid_ucall uc;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_reset);
	ASSERT_RUN_UCALL(&g, 1, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);
	ASSERT_RUN_MESSAGE(&g, 1, &uc, VID_MSG_GUEST_RESET);
	EXPECT_EQ(sizeof(struct vid_guest_reset), uc.msg.payload_size);
	EXPECT_EQ(1, uc.msg.guest_reset.vp_index);
	ASSERT_RUN_UCALL(&g, 1, &uc, UCALL_SYNC);
	EXPECT_EQ(2, uc.args[0]);
	vid_guest_destroy(&g);
}

/* ----- two VPs: PV IPI, PV TLB flush ----- */

struct vp_run {
	struct vid_guest *g;
	unsigned int vp;
	struct vid_ucall uc;
	int r;
};

static void *vp_run_fn(void *arg)
{
	struct vp_run *t = arg;

	t->r = vid_guest_run_vp(t->g, t->vp, &t->uc);
	return NULL;
}

/* The state ("S" sleeping, "R" running) of VP @vp's backing thread. */
static char vp_thread_state(unsigned int vp)
{
	char path[300], buf[512], want[32], *p;
	struct dirent *d;
	char state = '?';
	DIR *dir;
	FILE *f;

	snprintf(want, sizeof(want), "-vp%u)", vp);
	dir = opendir("/proc");
	if (!dir)
		return '?';
	while ((d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && strstr(buf, "(vid-p") &&
		    strstr(buf, want)) {
			p = strrchr(buf, ')');
			if (p && p[1] == ' ')
				state = p[2];
		}
		fclose(f);
	}
	closedir(dir);
	return state;
}

static uint64_t ipi_counts[VID_GUEST_MAX_VPS];

static void ipi_handler(struct vid_guest_regs *regs)
{
	__atomic_fetch_add(&ipi_counts[guest_vp_index()], 1, __ATOMIC_SEQ_CST);
	x2apic_eoi();
}

static uint64_t ipi_count(void)
{
	return __atomic_load_n(&ipi_counts[guest_vp_index()],
			       __ATOMIC_SEQ_CST);
}

/* VP 1 sleeps in HLT until each IPI; VP 0 sends them by hypercall. */
static void guest_pv_ipi(unsigned int vp)
{
	uint64_t *in = in_page();
	unsigned int round;

	x2apic_enable();
	if (vp == 1) {
		GUEST_SYNC(0);			/* ready */
		for (round = 1; round <= 3; round++) {
			while (ipi_count() < round)
				sti_hlt();
			cli();
			GUEST_SYNC(ipi_count());
		}
		return;
	}
	hv_enable_hypercalls();
	/* The fast form: vector, then the processor mask {1}. */
	GUEST_SYNC(hv_hypercall(HC_SEND_IPI | HC_FAST, IPI_VECTOR, 1 << 1));
	/* Ex, sparse: bank 0 holds VP 1. */
	in[0] = IPI_VECTOR;
	in[1] = 0;		/* HV_GENERIC_SET_SPARSE_4K */
	in[2] = 1;		/* valid banks: 0 */
	in[3] = 1 << 1;
	GUEST_SYNC(hv_hypercall(HC_SEND_IPI_EX | HC_VAR(1), IN_PAGE, 0));
	/* Ex, all VPs: VP 0 gets one too, taken once it enables IRQs. */
	in[1] = 1;		/* HV_GENERIC_SET_ALL */
	in[2] = 0;
	GUEST_SYNC(hv_hypercall(HC_SEND_IPI_EX, IN_PAGE, 0));
	sti();
	__asm__ volatile("nop" ::: "memory");
	cli();
	GUEST_SYNC(ipi_count());
}

TEST(pv_ipi_wakes_halted_vp)
{
	struct vp_run t = { .vp = 1 };
	struct vid_guest g;
	struct vid_ucall uc;
	unsigned int round;
	pthread_t th;
	char state;
	int i;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_pv_ipi);
	ASSERT_EQ(0, vid_guest_install_handler(&g, IPI_VECTOR, ipi_handler));
	t.g = &g;
	ASSERT_RUN_UCALL(&g, 1, &uc, UCALL_SYNC);
	for (round = 1; round <= 3; round++) {
		ASSERT_EQ(0, pthread_create(&th, NULL, vp_run_fn, &t));
		/* VP 1 halts; its thread sleeps in the kernel. */
		state = '?';
		for (i = 0; i < 100 && state != 'S'; i++) {
			usleep(20000);
			state = vp_thread_state(1);
		}
		EXPECT_EQ('S', state);
		ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
		EXPECT_EQ(ST_SUCCESS, uc.args[0]) TH_LOG("round %u", round);
		pthread_join(th, NULL);
		ASSERT_EQ(0, t.r);
		ASSERT_UCALL(&t.uc, UCALL_SYNC);
		EXPECT_EQ(round, t.uc.args[0]);
	}
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(1, uc.args[0]);	/* VP 0's own, from the "all" set */
	vid_guest_destroy(&g);
}

/* The guest virtual address of TLB_GVA's PTE (set by the host). */
static uint64_t tlb_pte_gva;

#define PTE_PFN_MASK	0x000ffffffffff000ULL
#define TLB_SPIN_SECONDS 10

/* Spin until TLB_GVA reads something else than @old, or time out. */
static uint64_t spin_until_changed(uint64_t old)
{
	uint64_t hz = rdmsr(HV_MSR_TSC_FREQUENCY), t0 = rdtsc(), v;

	do {
		v = peek64(TLB_GVA);
	} while (v == old && rdtsc() - t0 < hz * TLB_SPIN_SECONDS);
	return v;
}

static void guest_tlb_flush(unsigned int vp)
{
	uint64_t *in = in_page(), pte;

	if (vp == 1) {
		GUEST_SYNC(peek64(TLB_GVA));	/* now in VP 1's TLB */
		GUEST_SYNC(spin_until_changed(0xaaaa));
		GUEST_SYNC(spin_until_changed(0xbbbb));
		return;
	}
	hv_enable_hypercalls();
	/* A -> B, then HvFlushVirtualAddressSpace for VP 1. */
	pte = peek64(tlb_pte_gva);
	poke64(tlb_pte_gva, (pte & ~PTE_PFN_MASK) | PAGE_B);
	in[0] = 0;		/* address space */
	in[1] = 0;		/* flags */
	in[2] = 1 << 1;		/* processor mask */
	GUEST_SYNC(hv_hypercall(HC_FLUSH_SPACE, IN_PAGE, 0));
	/* B -> A, then HvFlushVirtualAddressListEx, VP 1 in a sparse set. */
	poke64(tlb_pte_gva, (pte & ~PTE_PFN_MASK) | PAGE_A);
	in[2] = 0;		/* sparse */
	in[3] = 1;		/* bank 0 */
	in[4] = 1 << 1;
	in[5] = TLB_GVA;	/* the GVA list: one page */
	GUEST_SYNC(hv_hypercall(HC_FLUSH_LIST_EX | HC_VAR(1) | HC_REPS(1),
				IN_PAGE, 0));
}

TEST(pv_tlb_flush_remote_vp_sees_new_pte)
{
	struct vp_run t = { .vp = 1 };
	struct vid_guest g;
	struct vid_ucall uc;
	uint64_t *pte;
	pthread_t th;

	VID_GUEST_CREATE_C_OR_SKIP(&g, 2, guest_tlb_flush);
	*(uint64_t *)vid_guest_gpa(&g, PAGE_A) = 0xaaaa;
	*(uint64_t *)vid_guest_gpa(&g, PAGE_B) = 0xbbbb;
	ASSERT_EQ(0, vid_guest_map(&g, TLB_GVA, PAGE_A));
	pte = vid_guest_pte64(&g, TLB_GVA, 0);
	ASSERT_NE(NULL, pte);
	tlb_pte_gva = (uint8_t *)pte - g.ram;
	vid_sync_global_to_guest(&g, tlb_pte_gva);
	t.g = &g;

	ASSERT_RUN_UCALL(&g, 1, &uc, UCALL_SYNC);
	EXPECT_EQ(0xaaaa, uc.args[0]);
	/* VP 1 spins on the old translation while VP 0 remaps and flushes. */
	ASSERT_EQ(0, pthread_create(&th, NULL, vp_run_fn, &t));
	usleep(100000);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	EXPECT_EQ(ST_SUCCESS, uc.args[0]);
	pthread_join(th, NULL);
	ASSERT_EQ(0, t.r);
	ASSERT_UCALL(&t.uc, UCALL_SYNC);
	EXPECT_EQ(0xbbbb, t.uc.args[0]);

	ASSERT_EQ(0, pthread_create(&th, NULL, vp_run_fn, &t));
	usleep(100000);
	ASSERT_RUN_UCALL(&g, 0, &uc, UCALL_SYNC);
	/* Success, with the one rep done. */
	EXPECT_EQ(ST_SUCCESS | 1ULL << 32, uc.args[0]);
	pthread_join(th, NULL);
	ASSERT_EQ(0, t.r);
	ASSERT_UCALL(&t.uc, UCALL_SYNC);
	EXPECT_EQ(0xaaaa, t.uc.args[0]);
	vid_guest_destroy(&g);
}

TEST_HARNESS_MAIN
