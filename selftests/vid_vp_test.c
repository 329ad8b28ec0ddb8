// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual processors: VID_PARTITION_CREATE_VP, the VP fd, and the register
 * interface VID_VP_GET/SET_REGISTERS.
 *
 * Every error path is its own test (tables are fixture variants) and,
 * where the call could have had an effect, checks that it had none: a
 * rejected SET leaves every register as it was, a rejected CREATE_VP
 * leaves the index free.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vid_test_util.h"

#define PG			VID_PAGE_SIZE
#define VP_COUNT		4	/* max_vp_count of most partitions */
#define MANY_VPS		64
#define WARMUP_ROUNDS		2
#define POOL_PAGES		64
#define BATCH			20

/* ---- register names, for enumerating and for messages ---- */

struct reg_desc {
	uint32_t name;
	const char *str;
};

#define REG(n, s)	{ VID_REG_##n, s }

static const struct reg_desc reg_descs[] = {
	REG(RAX, "rax"), REG(RCX, "rcx"), REG(RDX, "rdx"), REG(RBX, "rbx"),
	REG(RSP, "rsp"), REG(RBP, "rbp"), REG(RSI, "rsi"), REG(RDI, "rdi"),
	REG(R8, "r8"), REG(R9, "r9"), REG(R10, "r10"), REG(R11, "r11"),
	REG(R12, "r12"), REG(R13, "r13"), REG(R14, "r14"), REG(R15, "r15"),
	REG(RIP, "rip"), REG(RFLAGS, "rflags"),
	REG(CR0, "cr0"), REG(CR2, "cr2"), REG(CR3, "cr3"), REG(CR4, "cr4"),
	REG(CR8, "cr8"), REG(XFEM, "xfem"),
	REG(DR0, "dr0"), REG(DR1, "dr1"), REG(DR2, "dr2"), REG(DR3, "dr3"),
	REG(DR6, "dr6"), REG(DR7, "dr7"),
	REG(ES, "es"), REG(CS, "cs"), REG(SS, "ss"), REG(DS, "ds"),
	REG(FS, "fs"), REG(GS, "gs"), REG(LDTR, "ldtr"), REG(TR, "tr"),
	REG(IDTR, "idtr"), REG(GDTR, "gdtr"),
	REG(TSC, "tsc"), REG(EFER, "efer"),
	REG(KERNEL_GS_BASE, "kernel_gs_base"), REG(APIC_BASE, "apic_base"),
	REG(PAT, "pat"), REG(SYSENTER_CS, "sysenter_cs"),
	REG(SYSENTER_EIP, "sysenter_eip"), REG(SYSENTER_ESP, "sysenter_esp"),
	REG(STAR, "star"), REG(LSTAR, "lstar"), REG(CSTAR, "cstar"),
	REG(SFMASK, "sfmask"),
};

static const char *reg_str(uint32_t name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reg_descs); i++)
		if (reg_descs[i].name == name)
			return reg_descs[i].str;
	return "?";
}

/* The 16 general purpose registers, RAX..R15, are consecutive. */
#define NR_GPRS			16
#define GPR(i)			(VID_REG_RAX + (i))

static uint64_t gpr_pattern(unsigned int i, uint64_t salt)
{
	return (0x0123456789abcdefULL ^ salt) + 0x1111111111111111ULL * i;
}

/* ---- shared set-up ---- */

/*
 * struct vp_env - what most tests here start with
 * @vid_fd: /dev/vid.
 * @fd: an initialized partition with max_vp_count @vps.
 * @vp: VP 0 of it, or -1 when the fixture creates its own VPs.
 * @vps: min(VP_COUNT, VID_CAP_MAX_VPS).
 */
struct vp_env {
	int vid_fd;
	int fd;
	int vp;
	uint32_t vps;
};

/*
 * A partition with max_vp_count @vps, initialized if @initialize. Returns
 * the fd or fails the test.
 */
static int partition_with_vps(struct __test_metadata *_metadata, int vid_fd,
			      uint64_t vps, bool initialize)
{
	int fd = vid_partition_create(vid_fd, 0);

	ASSERT_LE(0, fd) TH_LOG("create partition: %s", strerror(-fd));
	ASSERT_VID(0, vid_prop_set_u64(fd, VID_PROP_MAX_VP_COUNT, vps));
	if (initialize)
		ASSERT_VID(0, vid_partition_initialize(fd));
	return fd;
}

static void env_open(struct __test_metadata *_metadata, struct vp_env *e,
		     bool create_vp0)
{
	long cap;

	e->vid_fd = -1;
	e->fd = -1;
	e->vp = -1;
	VID_SETUP_OPEN_OR_SKIP(e->vid_fd);
	cap = vid_check_cap(e->vid_fd, VID_CAP_MAX_VPS);
	ASSERT_LE(1, cap);
	e->vps = cap < VP_COUNT ? (uint32_t)cap : VP_COUNT;
	e->fd = partition_with_vps(_metadata, e->vid_fd, e->vps, true);
	if (create_vp0) {
		e->vp = vid_vp_create(e->fd, 0);
		ASSERT_LE(0, e->vp) TH_LOG("create VP 0: %s", strerror(-e->vp));
	}
}

static void env_close(struct vp_env *e)
{
	if (e->vp >= 0)
		close(e->vp);
	if (e->fd >= 0)
		close(e->fd);
	if (e->vid_fd >= 0)
		close(e->vid_fd);
}

/* Set-up and teardown of a fixture whose data is one struct vp_env. */
#define VP_FIXTURE(fixture, create_vp0)					\
	FIXTURE_SETUP(fixture)						\
	{								\
		env_open(_metadata, &self->env, create_vp0);		\
	}								\
	FIXTURE_TEARDOWN(fixture)					\
	{								\
		env_close(&self->env);					\
	}

static struct vid_register get_reg(struct __test_metadata *_metadata,
				   int vp_fd, uint32_t name)
{
	struct vid_register r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.name = name;
	ret = vid_vp_get_regs(vp_fd, &r, 1);
	ASSERT_EQ(0, ret) TH_LOG("get %s (%#x): %s", reg_str(name), name,
				 strerror(-ret));
	return r;
}

static uint64_t get64(struct __test_metadata *_metadata, int vp_fd,
		      uint32_t name)
{
	return get_reg(_metadata, vp_fd, name).value.reg64;
}

/* The value of register @name is (still) the 16 bytes at @want. */
static void expect_value(struct __test_metadata *_metadata, int vp_fd,
			 uint32_t name, const void *want)
{
	struct vid_register now = get_reg(_metadata, vp_fd, name);

	ASSERT_EQ(0, memcmp(want, &now.value, sizeof(now.value)))
		TH_LOG("%s now %#llx:%#llx", reg_str(name),
		       (unsigned long long)now.value.reg64,
		       (unsigned long long)*(uint64_t *)&now.value.bytes[8]);
}

/* RAX..R15 hold their reset value 0. */
static void expect_gprs_zero(struct __test_metadata *_metadata, int vp_fd)
{
	unsigned int i;

	for (i = 0; i < NR_GPRS; i++)
		ASSERT_EQ(0U, get64(_metadata, vp_fd, GPR(i)))
			TH_LOG("%s changed", reg_str(GPR(i)));
}

static int regs_ioctl(int fd, unsigned long cmd, uint32_t count,
		      uint32_t flags, const void *regs)
{
	struct vid_vp_registers r = {
		.count = count,
		.flags = flags,
		.regs = (uintptr_t)regs,
	};

	return ioctl(fd, cmd, &r);
}

static int create_vp_raw(int fd, uint32_t index, uint32_t flags,
			 uint64_t r0, uint64_t r1, uint64_t r2)
{
	struct vid_create_vp c = {
		.vp_index = index,
		.flags = flags,
		.reserved = { r0, r1, r2 },
	};

	return ioctl(fd, VID_PARTITION_CREATE_VP, &c);
}

static uint64_t pool_in_use(struct __test_metadata *_metadata, int fd,
			    uint64_t *deposited)
{
	uint64_t d = 0, a = 0;

	ASSERT_VID(0, vid_test_pool(fd, &d, &a));
	ASSERT_LE(a, d);
	if (deposited)
		*deposited = d;
	return d - a;
}

/* Deposit @pages, or VID_CAP_DEPOSIT if that is less. */
static void deposit_capped(struct __test_metadata *_metadata, int vid_fd,
			   int fd, uint64_t pages)
{
	long cap = vid_check_cap(vid_fd, VID_CAP_DEPOSIT);

	ASSERT_LE(1, cap);
	if ((uint64_t)cap < pages)
		pages = cap;
	ASSERT_VID(0, vid_partition_deposit(fd, pages));
}

/* Withdraw everything the pool will give back. */
static void drain(struct __test_metadata *_metadata, int fd)
{
	unsigned int i;
	int64_t r;

	for (i = 0; i < 100000; i++) {
		r = vid_partition_withdraw(fd, 64);
		ASSERT_LE(0, r) TH_LOG("withdraw: %s", strerror((int)-r));
		if (!r)
			return;
	}
	ASSERT_TRUE(0) TH_LOG("withdraw never ran dry");
}

static void *bad_ptr(struct __test_metadata *_metadata, bool null)
{
	void *p = null ? NULL : vid_test_fault_page();

	if (!null)
		ASSERT_NE(NULL, p);
	return p;
}

/* ==== CREATE_VP ==== */

FIXTURE(create) {
	struct vp_env env;
};

VP_FIXTURE(create, false)

TEST_F(create, on_created_partition_ebusy)
{
	int fd, vp;

	fd = partition_with_vps(_metadata, self->env.vid_fd, self->env.vps,
				false);
	ASSERT_VID(-EBUSY, vid_vp_create(fd, 0));
	/* Once initialized, the same index is free. */
	ASSERT_VID(0, vid_partition_initialize(fd));
	vp = vid_vp_create(fd, 0);
	ASSERT_LE(0, vp);
	close(vp);
	close(fd);
}

TEST_F(create, returns_cloexec_rdwr_fd)
{
	int vp = vid_vp_create(self->env.fd, 0), fl;

	ASSERT_LE(0, vp) TH_LOG("create VP: %s", strerror(-vp));
	self->env.vp = vp;
	fl = fcntl(vp, F_GETFD);
	ASSERT_LE(0, fl);
	ASSERT_TRUE(fl & FD_CLOEXEC);
	fl = fcntl(vp, F_GETFL);
	ASSERT_LE(0, fl);
	ASSERT_EQ(O_RDWR, fl & O_ACCMODE);
	ASSERT_NE(self->env.fd, vp);
	ASSERT_NE(self->env.vid_fd, vp);
}

/* Every index gets its own fd, in any creation order. */
TEST_F(create, every_index_in_reverse_order)
{
	int fds[VP_COUNT];
	unsigned int i, j;

	for (i = self->env.vps; i-- > 0;) {
		fds[i] = vid_vp_create(self->env.fd, i);
		ASSERT_LE(0, fds[i]) TH_LOG("VP %u: %s", i, strerror(-fds[i]));
	}
	for (i = 0; i < self->env.vps; i++)
		for (j = i + 1; j < self->env.vps; j++)
			ASSERT_NE(fds[i], fds[j]);
	for (i = 0; i < self->env.vps; i++)
		close(fds[i]);
}

TEST_F(create, same_index_twice_eexist)
{
	int vp = vid_vp_create(self->env.fd, 0);

	ASSERT_LE(0, vp);
	self->env.vp = vp;
	ASSERT_VID(-EEXIST, vid_vp_create(self->env.fd, 0));
	/* The refusal used up nothing: the next index is still free. */
	if (self->env.vps > 1) {
		vp = vid_vp_create(self->env.fd, 1);
		ASSERT_LE(0, vp);
		ASSERT_VID(-EEXIST, vid_vp_create(self->env.fd, 1));
		close(vp);
	}
	/* VP 0 is unharmed. */
	ASSERT_EQ(0xfff0U, get64(_metadata, self->env.vp, VID_REG_RIP));
}

/* A VP fd outlives the partition fd: the VP (and partition) stay usable. */
TEST_F(create, vp_fd_outlives_partition_fd)
{
	self->env.vp = vid_vp_create(self->env.fd, 0);
	ASSERT_LE(0, self->env.vp);
	close(self->env.fd);
	self->env.fd = -1;

	ASSERT_EQ(0xfff0U, get64(_metadata, self->env.vp, VID_REG_RIP));
	ASSERT_VID(0, vid_vp_set_reg64(self->env.vp, VID_REG_RAX, 0x77));
	ASSERT_EQ(0x77U, get64(_metadata, self->env.vp, VID_REG_RAX));
}

TEST_F(create, takes_pages_from_pool)
{
	uint64_t before, after;

	deposit_capped(_metadata, self->env.vid_fd, self->env.fd, POOL_PAGES);
	before = pool_in_use(_metadata, self->env.fd, NULL);
	self->env.vp = vid_vp_create(self->env.fd, 0);
	ASSERT_LE(0, self->env.vp);
	after = pool_in_use(_metadata, self->env.fd, NULL);
	ASSERT_LT(before, after) TH_LOG("no pool page in use for the VP");
}

/* The kernel deposits what the VP needs and retries. */
TEST_F(create, on_empty_pool)
{
	uint64_t before, after, dep0, dep1;

	drain(_metadata, self->env.fd);
	before = pool_in_use(_metadata, self->env.fd, &dep0);
	self->env.vp = vid_vp_create(self->env.fd, 0);
	ASSERT_LE(0, self->env.vp)
		TH_LOG("create VP: %s", strerror(-self->env.vp));
	after = pool_in_use(_metadata, self->env.fd, &dep1);
	ASSERT_LT(before, after);
	ASSERT_LT(dep0, dep1);
}

/* A VP's pages stay in use: withdrawing cannot take them. */
TEST_F(create, withdraw_keeps_vp_pages)
{
	uint64_t in_use;

	self->env.vp = vid_vp_create(self->env.fd, 0);
	ASSERT_LE(0, self->env.vp);
	in_use = pool_in_use(_metadata, self->env.fd, NULL);
	drain(_metadata, self->env.fd);
	ASSERT_EQ(in_use, pool_in_use(_metadata, self->env.fd, NULL));
	/* And the VP still works. */
	ASSERT_EQ(0xfff0U, get64(_metadata, self->env.vp, VID_REG_RIP));
}

/* ---- vp_index out of range: -EINVAL ---- */

enum index_base {
	BASE_ABS,	/* the index as given */
	BASE_MAX,	/* relative to the partition's max_vp_count */
	BASE_CAP,	/* relative to VID_CAP_MAX_VPS */
};

FIXTURE(create_index) {
	struct vp_env env;
};

FIXTURE_VARIANT(create_index) {
	enum index_base base;
	uint32_t index;
};

FIXTURE_VARIANT_ADD(create_index, max_vp_count) {
	.base = BASE_MAX, .index = 0 };
FIXTURE_VARIANT_ADD(create_index, max_vp_count_plus_1) {
	.base = BASE_MAX, .index = 1 };
FIXTURE_VARIANT_ADD(create_index, cap_max_vps) {
	.base = BASE_CAP, .index = 0 };
FIXTURE_VARIANT_ADD(create_index, x10000) {
	.base = BASE_ABS, .index = 0x10000 };
FIXTURE_VARIANT_ADD(create_index, x7fffffff) {
	.base = BASE_ABS, .index = 0x7fffffff };
FIXTURE_VARIANT_ADD(create_index, x80000000) {
	.base = BASE_ABS, .index = 0x80000000U };
FIXTURE_VARIANT_ADD(create_index, u32_max) {
	.base = BASE_ABS, .index = 0xffffffffU };

VP_FIXTURE(create_index, false)

TEST_F(create_index, einval)
{
	uint32_t index = variant->index;
	uint64_t in_use;
	int vp;

	if (variant->base == BASE_MAX)
		index += self->env.vps;
	else if (variant->base == BASE_CAP)
		index += vid_check_cap(self->env.vid_fd, VID_CAP_MAX_VPS);
	in_use = pool_in_use(_metadata, self->env.fd, NULL);
	ASSERT_VID(-EINVAL, vid_vp_create(self->env.fd, index));
	ASSERT_EQ(in_use, pool_in_use(_metadata, self->env.fd, NULL));

	/* The last valid index is still free. */
	vp = vid_vp_create(self->env.fd, self->env.vps - 1);
	ASSERT_LE(0, vp);
	close(vp);
}

/* ---- flags and reserved: -EINVAL ---- */

FIXTURE(create_field) {
	struct vp_env env;
};

FIXTURE_VARIANT(create_field) {
	uint32_t flags;
	uint64_t reserved[3];
};

FIXTURE_VARIANT_ADD(create_field, flags_bit0) { .flags = 1 };
FIXTURE_VARIANT_ADD(create_field, flags_bit31) { .flags = 1U << 31 };
FIXTURE_VARIANT_ADD(create_field, reserved0) { .reserved = { 1 } };
FIXTURE_VARIANT_ADD(create_field, reserved0_bit63) {
	.reserved = { 1ULL << 63 } };
FIXTURE_VARIANT_ADD(create_field, reserved1) { .reserved = { 0, 1 } };
FIXTURE_VARIANT_ADD(create_field, reserved2) {
	.reserved = { 0, 0, 1ULL << 40 } };

VP_FIXTURE(create_field, false)

TEST_F(create_field, einval)
{
	ASSERT_ERRNO(EINVAL, create_vp_raw(self->env.fd, 0, variant->flags,
					   variant->reserved[0],
					   variant->reserved[1],
					   variant->reserved[2]));
	/* Index 0 is still free. */
	self->env.vp = vid_vp_create(self->env.fd, 0);
	ASSERT_LE(0, self->env.vp);
}

/* ---- bad argument pointer: -EFAULT ---- */

FIXTURE(create_arg) {
	struct vp_env env;
};

FIXTURE_VARIANT(create_arg) {
	bool null;
};

FIXTURE_VARIANT_ADD(create_arg, null) { .null = true };
FIXTURE_VARIANT_ADD(create_arg, unmapped) { .null = false };

VP_FIXTURE(create_arg, false)

TEST_F(create_arg, efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->env.fd, VID_PARTITION_CREATE_VP,
				   bad_ptr(_metadata, variant->null)));
	self->env.vp = vid_vp_create(self->env.fd, 0);
	ASSERT_LE(0, self->env.vp);
}

/* ==== lifetime: everything comes back, whatever is closed first ==== */

FIXTURE(lifetime) {
	int vid_fd;
	uint32_t many;
	struct vid_stats base;
};

FIXTURE_VARIANT(lifetime) {
	bool all;		/* MANY_VPS VPs (or the cap), else one */
	bool partition_first;	/* close the partition fd before the VPs' */
};

FIXTURE_VARIANT_ADD(lifetime, one_vp_vp_first) {
	.all = false, .partition_first = false };
FIXTURE_VARIANT_ADD(lifetime, one_vp_partition_first) {
	.all = false, .partition_first = true };
FIXTURE_VARIANT_ADD(lifetime, all_vps_vps_first) {
	.all = true, .partition_first = false };
FIXTURE_VARIANT_ADD(lifetime, all_vps_partition_first) {
	.all = true, .partition_first = true };

FIXTURE_SETUP(lifetime)
{
	unsigned int i;
	long cap;
	int fd, vp;

	self->vid_fd = -1;
	VID_SETUP_OPEN_OR_SKIP(self->vid_fd);
	cap = vid_check_cap(self->vid_fd, VID_CAP_MAX_VPS);
	ASSERT_LE(1, cap);
	self->many = cap < MANY_VPS ? (uint32_t)cap : MANY_VPS;
	/* Warm up partitions and VPs: first-use state is not a leak. */
	ASSERT_VID(0, vid_test_warmup(self->vid_fd, WARMUP_ROUNDS));
	for (i = 0; i < WARMUP_ROUNDS; i++) {
		fd = partition_with_vps(_metadata, self->vid_fd, 1, true);
		vp = vid_vp_create(fd, 0);
		ASSERT_LE(0, vp);
		close(vp);
		close(fd);
	}
	ASSERT_STATS_READ(&self->base);
}

FIXTURE_TEARDOWN(lifetime)
{
	if (self->vid_fd >= 0)
		close(self->vid_fd);
}

TEST_F_TIMEOUT(lifetime, close_returns_everything, 300)
{
	uint32_t n = variant->all ? self->many : 1, i, j;
	int fds[MANY_VPS];
	struct vid_stats now;
	int fd;

	if (variant->all && self->many < MANY_VPS)
		TH_LOG("VID_CAP_MAX_VPS is %u: %u VPs, not %u", self->many,
		       self->many, MANY_VPS);
	fd = partition_with_vps(_metadata, self->vid_fd, n, true);
	for (i = 0; i < n; i++) {
		fds[i] = vid_vp_create(fd, i);
		ASSERT_LE(0, fds[i]) TH_LOG("VP %u: %s", i, strerror(-fds[i]));
	}
	/* Each VP its own fd; none past max_vp_count. */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ASSERT_NE(fds[i], fds[j]);
	ASSERT_VID(-EINVAL, vid_vp_create(fd, n));
	ASSERT_STATS_READ(&now);
	ASSERT_LT(self->base.objects, now.objects);

	if (variant->partition_first)
		close(fd);
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (!variant->partition_first)
		close(fd);

	ASSERT_STATS_READ(&now);
	ASSERT_STATS_EQ(&self->base, &now);
}

/* VPs created on an empty pool: the pages the kernel deposited come back. */
TEST_F_TIMEOUT(lifetime, close_after_kernel_deposits, 300)
{
	uint32_t n = variant->all ? self->many : 1, i;
	int fds[MANY_VPS];
	struct vid_stats now;
	int fd;

	fd = partition_with_vps(_metadata, self->vid_fd, n, true);
	drain(_metadata, fd);
	for (i = 0; i < n; i++) {
		fds[i] = vid_vp_create(fd, i);
		ASSERT_LE(0, fds[i]) TH_LOG("VP %u: %s", i, strerror(-fds[i]));
	}
	if (variant->partition_first)
		close(fd);
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (!variant->partition_first)
		close(fd);

	ASSERT_STATS_READ(&now);
	ASSERT_STATS_EQ(&self->base, &now);
}

/* ==== ioctls a VP fd does not know, VP ioctls elsewhere: -ENOTTY ==== */

enum arg_kind {
	ARG_NONE,
	ARG_CAP,
	ARG_CREATE,
	ARG_PROP,
	ARG_DEPOSIT,
	ARG_MAP,
	ARG_UNMAP,
	ARG_CREATE_VP,
	ARG_REGS,
};

#define ENOTTY_RAX	0x1234567890abcdefULL

/*
 * Call @cmd with an argument that would be valid for the ioctl it
 * resembles, inside a larger zeroed buffer, so that a wrong dispatch shows
 * up as success rather than as a coincidental error.
 */
static int call_like(int fd, unsigned long cmd, enum arg_kind kind)
{
	static struct vid_register reg;
	static uint64_t value;
	static union {
		struct vid_create_partition create;
		struct vid_property prop;
		struct vid_deposit deposit;
		struct vid_gpa_map map;
		struct vid_gpa_unmap unmap;
		struct vid_create_vp create_vp;
		struct vid_vp_registers regs;
		uint8_t raw[512];
	} buf;

	memset(&buf, 0, sizeof(buf));
	memset(&reg, 0, sizeof(reg));
	value = 1;
	switch (kind) {
	case ARG_NONE:
		return ioctl(fd, cmd, 0);
	case ARG_CAP:
		return ioctl(fd, cmd, (unsigned long)VID_CAP_MAX_VPS);
	case ARG_CREATE:
		break;
	case ARG_PROP:
		buf.prop.id = VID_PROP_MAX_VP_COUNT;
		buf.prop.size = sizeof(value);
		buf.prop.value = (uintptr_t)&value;
		break;
	case ARG_DEPOSIT:
		buf.deposit.pages = 1;
		break;
	case ARG_MAP:
		/* A read-only range of read-only memory is a valid mapping. */
		buf.map.gpa = 0;
		buf.map.size = PG;
		buf.map.userspace_addr = (uintptr_t)vid_test_readonly_page();
		buf.map.flags = VID_MAP_READ;
		break;
	case ARG_UNMAP:
		buf.unmap.gpa = 0;
		buf.unmap.size = PG;
		break;
	case ARG_CREATE_VP:
		buf.create_vp.vp_index = 1;
		break;
	case ARG_REGS:
		reg.name = VID_REG_RAX;
		reg.value.reg64 = ENOTTY_RAX;
		buf.regs.count = 1;
		buf.regs.regs = (uintptr_t)&reg;
		break;
	}
	return ioctl(fd, cmd, &buf);
}

FIXTURE(vp_enotty) {
	struct vp_env env;
};

FIXTURE_VARIANT(vp_enotty) {
	unsigned long cmd;
	enum arg_kind arg;
};

/* Partition ioctls on a VP fd. */
FIXTURE_VARIANT_ADD(vp_enotty, partition_get_property) {
	.cmd = VID_PARTITION_GET_PROPERTY, .arg = ARG_PROP };
FIXTURE_VARIANT_ADD(vp_enotty, partition_set_property) {
	.cmd = VID_PARTITION_SET_PROPERTY, .arg = ARG_PROP };
FIXTURE_VARIANT_ADD(vp_enotty, partition_initialize) {
	.cmd = VID_PARTITION_INITIALIZE, .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(vp_enotty, partition_deposit) {
	.cmd = VID_PARTITION_DEPOSIT, .arg = ARG_DEPOSIT };
FIXTURE_VARIANT_ADD(vp_enotty, partition_withdraw) {
	.cmd = VID_PARTITION_WITHDRAW, .arg = ARG_DEPOSIT };
FIXTURE_VARIANT_ADD(vp_enotty, partition_map_gpa) {
	.cmd = VID_PARTITION_MAP_GPA, .arg = ARG_MAP };
FIXTURE_VARIANT_ADD(vp_enotty, partition_unmap_gpa) {
	.cmd = VID_PARTITION_UNMAP_GPA, .arg = ARG_UNMAP };
FIXTURE_VARIANT_ADD(vp_enotty, partition_create_vp) {
	.cmd = VID_PARTITION_CREATE_VP, .arg = ARG_CREATE_VP };
/* /dev/vid ioctls on a VP fd. */
FIXTURE_VARIANT_ADD(vp_enotty, dev_get_api_version) {
	.cmd = VID_GET_API_VERSION, .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(vp_enotty, dev_check_capability) {
	.cmd = VID_CHECK_CAPABILITY, .arg = ARG_CAP };
FIXTURE_VARIANT_ADD(vp_enotty, dev_create_partition) {
	.cmd = VID_CREATE_PARTITION, .arg = ARG_CREATE };
/* Numbers nobody defines. */
FIXTURE_VARIANT_ADD(vp_enotty, unknown_nr_2e) {
	.cmd = _IO(VIDIO, 0x2e), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(vp_enotty, unknown_nr_2e_w) {
	.cmd = _IOW(VIDIO, 0x2e, struct vid_vp_registers), .arg = ARG_REGS };
FIXTURE_VARIANT_ADD(vp_enotty, unknown_nr_2f) {
	.cmd = _IO(VIDIO, 0x2f), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(vp_enotty, unknown_nr_1f) {
	.cmd = _IO(VIDIO, 0x1f), .arg = ARG_NONE };
FIXTURE_VARIANT_ADD(vp_enotty, unknown_nr_ff) {
	.cmd = _IO(VIDIO, 0xff), .arg = ARG_NONE };
/* Right nr and size, wrong magic. */
FIXTURE_VARIANT_ADD(vp_enotty, foreign_magic_get_registers) {
	.cmd = _IOW('T', 0x20, struct vid_vp_registers), .arg = ARG_REGS };
FIXTURE_VARIANT_ADD(vp_enotty, kvm_run) {
	.cmd = _IO(0xAE, 0x80), .arg = ARG_NONE };
/* Right nr, wrong encoded size. */
FIXTURE_VARIANT_ADD(vp_enotty, get_registers_size_plus_8) {
	.cmd = _IOC(_IOC_WRITE, VIDIO, 0x20,
		    sizeof(struct vid_vp_registers) + 8),
	.arg = ARG_REGS };
FIXTURE_VARIANT_ADD(vp_enotty, get_registers_size_minus_8) {
	.cmd = _IOC(_IOC_WRITE, VIDIO, 0x20,
		    sizeof(struct vid_vp_registers) - 8),
	.arg = ARG_REGS };
FIXTURE_VARIANT_ADD(vp_enotty, set_registers_size_plus_8) {
	.cmd = _IOC(_IOC_WRITE, VIDIO, 0x21,
		    sizeof(struct vid_vp_registers) + 8),
	.arg = ARG_REGS };
/* Right nr and size, wrong direction. */
FIXTURE_VARIANT_ADD(vp_enotty, get_registers_dir_read) {
	.cmd = _IOR(VIDIO, 0x20, struct vid_vp_registers), .arg = ARG_REGS };
FIXTURE_VARIANT_ADD(vp_enotty, get_registers_dir_read_write) {
	.cmd = _IOWR(VIDIO, 0x20, struct vid_vp_registers), .arg = ARG_REGS };
FIXTURE_VARIANT_ADD(vp_enotty, set_registers_dir_none) {
	.cmd = _IOC(_IOC_NONE, VIDIO, 0x21, sizeof(struct vid_vp_registers)),
	.arg = ARG_REGS };
FIXTURE_VARIANT_ADD(vp_enotty, set_registers_dir_read_write) {
	.cmd = _IOWR(VIDIO, 0x21, struct vid_vp_registers), .arg = ARG_REGS };

VP_FIXTURE(vp_enotty, true)

TEST_F(vp_enotty, rejected)
{
	struct vp_env *e = &self->env;
	uint64_t in_use = pool_in_use(_metadata, e->fd, NULL), vps = 0;
	int vp;

	ASSERT_ERRNO(ENOTTY, call_like(e->vp, variant->cmd, variant->arg));
	/* Nothing happened to the VP or to its partition. */
	ASSERT_EQ(0U, get64(_metadata, e->vp, VID_REG_RAX));
	ASSERT_EQ(in_use, pool_in_use(_metadata, e->fd, NULL));
	ASSERT_VID(0, vid_prop_get_u64(e->fd, VID_PROP_MAX_VP_COUNT, &vps));
	ASSERT_EQ((uint64_t)e->vps, vps);
	ASSERT_VID(-ENOENT, vid_unmap_gpa(e->fd, 0, PG));
	if (e->vps > 1) {
		vp = vid_vp_create(e->fd, 1);
		ASSERT_LE(0, vp) TH_LOG("VP 1: %s", strerror(-vp));
		close(vp);
	}
}

FIXTURE(vp_ioctl_elsewhere) {
	struct vp_env env;
};

FIXTURE_VARIANT(vp_ioctl_elsewhere) {
	unsigned long cmd;
	enum arg_kind arg;
	bool on_dev;	/* the /dev/vid fd, else the partition fd */
};

FIXTURE_VARIANT_ADD(vp_ioctl_elsewhere, get_registers_on_partition) {
	.cmd = VID_VP_GET_REGISTERS, .arg = ARG_REGS, .on_dev = false };
FIXTURE_VARIANT_ADD(vp_ioctl_elsewhere, set_registers_on_partition) {
	.cmd = VID_VP_SET_REGISTERS, .arg = ARG_REGS, .on_dev = false };
FIXTURE_VARIANT_ADD(vp_ioctl_elsewhere, get_registers_on_dev) {
	.cmd = VID_VP_GET_REGISTERS, .arg = ARG_REGS, .on_dev = true };
FIXTURE_VARIANT_ADD(vp_ioctl_elsewhere, set_registers_on_dev) {
	.cmd = VID_VP_SET_REGISTERS, .arg = ARG_REGS, .on_dev = true };
#ifdef VID_VP_RUN
FIXTURE_VARIANT_ADD(vp_ioctl_elsewhere, run_on_partition) {
	.cmd = VID_VP_RUN, .arg = ARG_NONE, .on_dev = false };
FIXTURE_VARIANT_ADD(vp_ioctl_elsewhere, run_on_dev) {
	.cmd = VID_VP_RUN, .arg = ARG_NONE, .on_dev = true };
#endif

VP_FIXTURE(vp_ioctl_elsewhere, true)

TEST_F(vp_ioctl_elsewhere, enotty)
{
	int fd = variant->on_dev ? self->env.vid_fd : self->env.fd;

	ASSERT_ERRNO(ENOTTY, call_like(fd, variant->cmd, variant->arg));
	ASSERT_EQ(0U, get64(_metadata, self->env.vp, VID_REG_RAX));
	ASSERT_EQ(VID_API_VERSION, vid_api_version(self->env.vid_fd));
}

/* ==== register reset state ==== */

struct reg64_want {
	uint32_t name;
	uint64_t value;
};

/*
 * The architectural INIT state. RDX is 0 here, not the processor
 * signature a physical CPU leaves in it.
 */
static const struct reg64_want reset64[] = {
	{ VID_REG_RAX, 0 }, { VID_REG_RCX, 0 }, { VID_REG_RDX, 0 },
	{ VID_REG_RBX, 0 }, { VID_REG_RSP, 0 }, { VID_REG_RBP, 0 },
	{ VID_REG_RSI, 0 }, { VID_REG_RDI, 0 }, { VID_REG_R8, 0 },
	{ VID_REG_R9, 0 }, { VID_REG_R10, 0 }, { VID_REG_R11, 0 },
	{ VID_REG_R12, 0 }, { VID_REG_R13, 0 }, { VID_REG_R14, 0 },
	{ VID_REG_R15, 0 },
	{ VID_REG_RIP, 0xfff0 },
	{ VID_REG_RFLAGS, 0x2 },
	{ VID_REG_CR0, 0x60000010 },
	{ VID_REG_CR2, 0 },
	{ VID_REG_CR3, 0 },
	{ VID_REG_CR4, 0 },
	{ VID_REG_CR8, 0 },
	{ VID_REG_XFEM, 1 },
	{ VID_REG_DR0, 0 }, { VID_REG_DR1, 0 }, { VID_REG_DR2, 0 },
	{ VID_REG_DR3, 0 },
	{ VID_REG_DR6, 0xffff0ff0 },
	{ VID_REG_DR7, 0x400 },
	{ VID_REG_EFER, 0 },
	{ VID_REG_PAT, 0x0007040600070406ULL },
};

/* Selector, base and limit; attributes are not checked. */
struct seg_want {
	uint32_t name;
	uint16_t selector;
	uint64_t base;
	uint32_t limit;
};

static const struct seg_want reset_segs[] = {
	{ VID_REG_CS, 0xf000, 0xffff0000, 0xffff },
	{ VID_REG_ES, 0, 0, 0xffff },
	{ VID_REG_SS, 0, 0, 0xffff },
	{ VID_REG_DS, 0, 0, 0xffff },
	{ VID_REG_FS, 0, 0, 0xffff },
	{ VID_REG_GS, 0, 0, 0xffff },
	{ VID_REG_LDTR, 0, 0, 0xffff },
	{ VID_REG_TR, 0, 0, 0xffff },
};

static const uint32_t reset_tables[] = { VID_REG_GDTR, VID_REG_IDTR };

#define NR_RESET	(ARRAY_SIZE(reset64) + ARRAY_SIZE(reset_segs) + \
			 ARRAY_SIZE(reset_tables))

FIXTURE(reset) {
	struct vp_env env;
};

FIXTURE_VARIANT(reset) {
	bool last;	/* the VP with the highest index, else VP 0 */
};

FIXTURE_VARIANT_ADD(reset, vp_0) { .last = false };
FIXTURE_VARIANT_ADD(reset, vp_last) { .last = true };

VP_FIXTURE(reset, false)

/* All of it read back in one GET. */
TEST_F(reset, arch_init_state)
{
	uint32_t index = variant->last ? self->env.vps - 1 : 0;
	struct vid_register regs[NR_RESET];
	unsigned int i, n = 0;

	self->env.vp = vid_vp_create(self->env.fd, index);
	ASSERT_LE(0, self->env.vp);

	memset(regs, 0, sizeof(regs));
	for (i = 0; i < ARRAY_SIZE(reset64); i++)
		regs[n++].name = reset64[i].name;
	for (i = 0; i < ARRAY_SIZE(reset_segs); i++)
		regs[n++].name = reset_segs[i].name;
	for (i = 0; i < ARRAY_SIZE(reset_tables); i++)
		regs[n++].name = reset_tables[i];
	ASSERT_VID(0, vid_vp_get_regs(self->env.vp, regs, n));

	n = 0;
	for (i = 0; i < ARRAY_SIZE(reset64); i++, n++) {
		EXPECT_EQ(reset64[i].name, regs[n].name);
		EXPECT_EQ(reset64[i].value, regs[n].value.reg64)
			TH_LOG("%s", reg_str(reset64[i].name));
	}
	for (i = 0; i < ARRAY_SIZE(reset_segs); i++, n++) {
		const struct vid_segment *s = &regs[n].value.segment;

		EXPECT_EQ(reset_segs[i].selector, s->selector)
			TH_LOG("%s selector", reg_str(reset_segs[i].name));
		EXPECT_EQ(reset_segs[i].base, s->base)
			TH_LOG("%s base", reg_str(reset_segs[i].name));
		EXPECT_EQ(reset_segs[i].limit, s->limit)
			TH_LOG("%s limit", reg_str(reset_segs[i].name));
	}
	for (i = 0; i < ARRAY_SIZE(reset_tables); i++, n++) {
		const struct vid_table *t = &regs[n].value.table;

		EXPECT_EQ(0xffff, t->limit) TH_LOG("%s limit",
						   reg_str(reset_tables[i]));
		EXPECT_EQ(0U, t->base) TH_LOG("%s base",
					      reg_str(reset_tables[i]));
		EXPECT_EQ(0, t->pad[0] | t->pad[1] | t->pad[2]);
	}
}

/* Each register name alone reads the same as in the batch. */
TEST_F(reset, each_register_alone)
{
	uint32_t index = variant->last ? self->env.vps - 1 : 0;
	unsigned int i;

	self->env.vp = vid_vp_create(self->env.fd, index);
	ASSERT_LE(0, self->env.vp);
	for (i = 0; i < ARRAY_SIZE(reset64); i++)
		EXPECT_EQ(reset64[i].value,
			  get64(_metadata, self->env.vp, reset64[i].name))
			TH_LOG("%s", reg_str(reset64[i].name));
}

/* ==== SET then GET returns what was set ==== */

FIXTURE(reg_rt) {
	struct vp_env env;
};

FIXTURE_VARIANT(reg_rt) {
	struct vid_register reg;
};

#define RT64(var, n, v)							\
	FIXTURE_VARIANT_ADD(reg_rt, var) {				\
		.reg = { .name = VID_REG_##n, .value.reg64 = (v) } }
#define RTSEG(var, n, b, l, s, a)					\
	FIXTURE_VARIANT_ADD(reg_rt, var) {				\
		.reg = { .name = VID_REG_##n, .value.segment = {	\
			.base = (b), .limit = (l), .selector = (s),	\
			.attributes = (a) } } }
#define RTTABLE(var, n, l, b)						\
	FIXTURE_VARIANT_ADD(reg_rt, var) {				\
		.reg = { .name = VID_REG_##n, .value.table = {		\
			.limit = (l), .base = (b) } } }

RT64(rax, RAX, 0x0123456789abcdefULL);
RT64(rcx, RCX, 0xfedcba9876543210ULL);
RT64(rdx, RDX, 0x8000000000000000ULL);
RT64(rbx, RBX, 0xffffffffffffffffULL);
RT64(rsp, RSP, 0x00007ffffffff000ULL);
RT64(rbp, RBP, 0x0000800000000000ULL);
RT64(rsi, RSI, 0x5555555555555555ULL);
RT64(rdi, RDI, 0xaaaaaaaaaaaaaaaaULL);
RT64(r8, R8, 0x0000000000000001ULL);
RT64(r9, R9, 0x1111111111111111ULL);
RT64(r10, R10, 0x2222222222222222ULL);
RT64(r11, R11, 0x3333333333333333ULL);
RT64(r12, R12, 0x4444444444444444ULL);
RT64(r13, R13, 0xdeadbeefcafebabeULL);
RT64(r14, R14, 0x00000000ffffffffULL);
RT64(r15, R15, 0xffffffff00000000ULL);
RT64(rip, RIP, 0xffffffff81000000ULL);
RT64(rip_low, RIP, 0x7c00);
RT64(rflags, RFLAGS, 0x246);
RT64(rflags_arith, RFLAGS, 0xcd7);	/* CF PF AF ZF SF DF OF + 1 */
RT64(cr0_pe, CR0, 0x60000011);
RT64(cr0_paging, CR0, 0x80050033);	/* PG WP AM NE ET MP PE */
RT64(cr2, CR2, 0x00007fffdeadbeefULL);
RT64(cr3, CR3, 0x0000000123456000ULL);
RT64(cr3_top, CR3, 0x000ffffffffff000ULL);
RT64(cr4_pae, CR4, 0x20);
RT64(cr8_7, CR8, 7);
RT64(cr8_15, CR8, 15);
RT64(xfem_x87_sse, XFEM, 0x3);
RT64(dr0, DR0, 0x00007fff12345678ULL);
RT64(dr1, DR1, 0xffffffff81234567ULL);
RT64(dr2, DR2, 0x0000000000401000ULL);
RT64(dr3, DR3, 0xffff800000000000ULL);
RT64(dr6, DR6, 0xffff4ff1);		/* BS B0 + fixed ones */
RT64(dr7, DR7, 0x000d0701);		/* L0 LE GE, RW0 01 LEN0 11 */
RT64(efer_sce_nxe, EFER, 0x801);
RT64(kernel_gs_base, KERNEL_GS_BASE, 0xffff888012345000ULL);
RT64(apic_base, APIC_BASE, 0xfee00900);
RT64(pat, PAT, 0x0007050600070106ULL);	/* WB WC UC- UC WB WP UC- UC */
RT64(pat_reset_value, PAT, 0x0007040600070406ULL);
RT64(sysenter_cs, SYSENTER_CS, 0x10);
RT64(sysenter_eip, SYSENTER_EIP, 0xffffffff81a00000ULL);
RT64(sysenter_esp, SYSENTER_ESP, 0xfffffe0000003000ULL);
RT64(star, STAR, 0x0023001000000000ULL);
RT64(lstar, LSTAR, 0xffffffff81800000ULL);
RT64(cstar, CSTAR, 0xffffffff81800200ULL);
RT64(sfmask, SFMASK, 0x47700);
RTSEG(es, ES, 0x10000, 0xffff, 0x1000, 0x0093);
RTSEG(cs_64bit_code, CS, 0, 0xffffffff, 0x08, 0xa09b);
RTSEG(cs_32bit_code, CS, 0, 0xffffffff, 0x10, 0xc09b);
RTSEG(ss, SS, 0, 0xffffffff, 0x18, 0xc093);
RTSEG(ds_16bit, DS, 0x00012340, 0xfffff, 0x1234, 0x0093);
RTSEG(fs, FS, 0x00007f0012345000ULL, 0xffffffff, 0, 0xc093);
RTSEG(gs_user, GS, 0xffff888000000000ULL, 0xffffffff, 0x2b, 0xc0f3);
RTSEG(ldtr, LDTR, 0xfffffe0000010000ULL, 0x7f, 0x50, 0x0082);
RTSEG(tr, TR, 0xfffffe0000003000ULL, 0x67, 0x40, 0x008b);
RTTABLE(idtr, IDTR, 0xfff, 0xfffffe0000000000ULL);
RTTABLE(gdtr, GDTR, 0x7f, 0xfffffe0000001000ULL);

VP_FIXTURE(reg_rt, true)

TEST_F(reg_rt, set_get)
{
	const struct vid_register *want = &variant->reg;
	struct vid_register got;

	ASSERT_VID(0, vid_vp_set_regs(self->env.vp, want, 1));
	got = get_reg(_metadata, self->env.vp, want->name);
	EXPECT_EQ(want->value.reg64, got.value.reg64);
	ASSERT_EQ(0, memcmp(&want->value, &got.value, sizeof(got.value)))
		TH_LOG("%s read back differs", reg_str(want->name));
}

/* Setting a value twice, the second one wins and the first is gone. */
TEST_F(reg_rt, set_reset_value_back)
{
	struct vid_register orig = get_reg(_metadata, self->env.vp,
					   variant->reg.name);

	ASSERT_VID(0, vid_vp_set_regs(self->env.vp, &variant->reg, 1));
	ASSERT_VID(0, vid_vp_set_regs(self->env.vp, &orig, 1));
	expect_value(_metadata, self->env.vp, orig.name, &orig.value);
}

/* ==== SET with a value the register cannot hold: -EINVAL ==== */

FIXTURE(reg_einval) {
	struct vp_env env;
};

FIXTURE_VARIANT(reg_einval) {
	struct vid_register reg;
};

#define BAD64(var, n, v)						\
	FIXTURE_VARIANT_ADD(reg_einval, var) {				\
		.reg = { .name = VID_REG_##n, .value.reg64 = (v) } }
#define BADSEG(var, n, b, l, s, a)					\
	FIXTURE_VARIANT_ADD(reg_einval, var) {				\
		.reg = { .name = VID_REG_##n, .value.segment = {	\
			.base = (b), .limit = (l), .selector = (s),	\
			.attributes = (a) } } }
#define BADTABLE(var, n, p0, p1, p2, l, b)				\
	FIXTURE_VARIANT_ADD(reg_einval, var) {				\
		.reg = { .name = VID_REG_##n, .value.table = {		\
			.pad = { (p0), (p1), (p2) },			\
			.limit = (l), .base = (b) } } }
/* A 64-bit register with bytes beyond reg64 set. */
#define BADHIGH(var, n, ...)						\
	FIXTURE_VARIANT_ADD(reg_einval, var) {				\
		.reg = { .name = VID_REG_##n,				\
			 .value.bytes = { __VA_ARGS__ } } }

#define NONCANON	0x0000800000000000ULL
#define NONCANON_HIGH	0x8000000000000000ULL

BAD64(cr0_bit32, CR0, 0x60000010 | (1ULL << 32));
BAD64(cr0_bit63, CR0, 0x60000010 | (1ULL << 63));
BAD64(cr0_pg_without_pe, CR0, 0x80000010);
BAD64(cr0_nw_without_cd, CR0, 0x20000011);
BAD64(cr4_bit12, CR4, 1ULL << 12);
BAD64(cr4_bit63, CR4, 1ULL << 63);
BAD64(cr4_vmxe, CR4, 1ULL << 13);
BAD64(efer_bit3, EFER, 1ULL << 3);
BAD64(efer_bit63, EFER, 1ULL << 63);
BAD64(efer_svme, EFER, 1ULL << 12);
BAD64(cr3_bit52, CR3, 1ULL << 52);
BAD64(cr3_bit63, CR3, 0x1000 | (1ULL << 63));
BAD64(cr8_16, CR8, 16);
BAD64(cr8_bit63, CR8, 1ULL << 63);
BAD64(rflags_bit15, RFLAGS, 0x2 | (1ULL << 15));
BAD64(rflags_bit63, RFLAGS, 0x2 | (1ULL << 63));
BAD64(rflags_bit3, RFLAGS, 0x2 | (1ULL << 3));
BAD64(rflags_bit5, RFLAGS, 0x2 | (1ULL << 5));
BAD64(rflags_bit22, RFLAGS, 0x2 | (1ULL << 22));
BAD64(rflags_bit1_clear, RFLAGS, 0x246 & ~0x2ULL);
BAD64(rflags_0, RFLAGS, 0);
BADSEG(fs_base_noncanonical, FS, NONCANON, 0xffff, 0, 0x0093);
BADSEG(gs_base_noncanonical, GS, NONCANON_HIGH, 0xffff, 0, 0x0093);
BADTABLE(gdtr_base_noncanonical, GDTR, 0, 0, 0, 0xffff, NONCANON);
BADTABLE(idtr_base_noncanonical, IDTR, 0, 0, 0, 0xffff, NONCANON_HIGH);
BAD64(kernel_gs_base_noncanonical, KERNEL_GS_BASE, NONCANON);
BAD64(lstar_noncanonical, LSTAR, NONCANON);
BAD64(lstar_noncanonical_high, LSTAR, NONCANON_HIGH);
BAD64(cstar_noncanonical, CSTAR, NONCANON);
BADSEG(cs_attr_bit8, CS, 0xffff0000, 0xffff, 0xf000, 0x019b);
BADSEG(ds_attr_bit11, DS, 0, 0xffff, 0, 0x0893);
BADSEG(tr_attr_bits_11_8, TR, 0, 0xffff, 0, 0x0f8b);
BADTABLE(gdtr_pad0, GDTR, 1, 0, 0, 0xffff, 0);
BADTABLE(idtr_pad2, IDTR, 0, 0, 0x8000, 0xffff, 0);
BAD64(dr6_bit32, DR6, 0xffff0ff0 | (1ULL << 32));
BAD64(dr6_bit63, DR6, 0xffff0ff0 | (1ULL << 63));
BAD64(dr7_bit32, DR7, 0x400 | (1ULL << 32));
BAD64(dr7_bit63, DR7, 0x400 | (1ULL << 63));
BAD64(pat_byte0_02, PAT, 0x0007040600070402ULL);
BAD64(pat_byte3_03, PAT, 0x0007040603070406ULL);
BAD64(pat_byte7_02, PAT, 0x0207040600070406ULL);
BAD64(pat_byte2_08, PAT, 0x0007040600080406ULL);
BAD64(pat_byte5_ff, PAT, 0x0007ff0600070406ULL);
BAD64(xfem_0, XFEM, 0);
BAD64(xfem_sse_only, XFEM, 0x2);
BADHIGH(rax_byte8, RAX, 0x34, 0x12, [8] = 1);
BADHIGH(rax_byte15, RAX, [15] = 0x80);
BADHIGH(rip_byte12, RIP, 0xf0, 0xff, [12] = 1);
BADHIGH(cr2_byte8, CR2, [8] = 0xff);
BADHIGH(efer_byte9, EFER, [9] = 1);
BADHIGH(lstar_byte15, LSTAR, [15] = 1);

VP_FIXTURE(reg_einval, true)

TEST_F(reg_einval, set_rejected)
{
	struct vid_register before = get_reg(_metadata, self->env.vp,
					     variant->reg.name);

	ASSERT_VID(-EINVAL, vid_vp_set_regs(self->env.vp, &variant->reg, 1));
	expect_value(_metadata, self->env.vp, variant->reg.name,
		     &before.value);
}

/* Last in a batch of good ones: none of the batch is applied. */
TEST_F(reg_einval, set_rejected_last_in_batch)
{
	struct vid_register regs[NR_GPRS + 1];
	unsigned int i;

	memset(regs, 0, sizeof(regs));
	for (i = 0; i < NR_GPRS; i++) {
		regs[i].name = GPR(i);
		regs[i].value.reg64 = gpr_pattern(i, 0);
	}
	regs[NR_GPRS] = variant->reg;
	ASSERT_VID(-EINVAL, vid_vp_set_regs(self->env.vp, regs, NR_GPRS + 1));
	expect_gprs_zero(_metadata, self->env.vp);
}

/* ==== the batch interface ==== */

FIXTURE(regs) {
	struct vp_env env;
};

VP_FIXTURE(regs, true)

/* 20 registers set in one call, read back in one call in reverse order. */
TEST_F(regs, set_get_20_in_one_call)
{
	struct vid_register set[BATCH], get[BATCH];
	unsigned int i;

	memset(set, 0, sizeof(set));
	memset(get, 0, sizeof(get));
	for (i = 0; i < NR_GPRS; i++) {
		set[i].name = GPR(i);
		set[i].value.reg64 = gpr_pattern(i, 0x20);
	}
	set[16].name = VID_REG_RIP;
	set[16].value.reg64 = 0x1000;
	set[17].name = VID_REG_RFLAGS;
	set[17].value.reg64 = 0x202;
	set[18].name = VID_REG_CR2;
	set[18].value.reg64 = 0xcafe000;
	set[19].name = VID_REG_CS;
	set[19].value.segment.base = 0x10000;
	set[19].value.segment.limit = 0xffff;
	set[19].value.segment.selector = 0x1000;
	set[19].value.segment.attributes = 0x9b;
	ASSERT_VID(0, vid_vp_set_regs(self->env.vp, set, BATCH));

	for (i = 0; i < BATCH; i++)
		get[i].name = set[BATCH - 1 - i].name;
	ASSERT_VID(0, vid_vp_get_regs(self->env.vp, get, BATCH));
	for (i = 0; i < BATCH; i++) {
		const struct vid_register *want = &set[BATCH - 1 - i];

		EXPECT_EQ(want->name, get[i].name);
		EXPECT_EQ(0, memcmp(&want->value, &get[i].value,
				    sizeof(want->value)))
			TH_LOG("%s", reg_str(want->name));
	}
}

/* Every register name can be read, in one call. */
TEST_F(regs, get_every_name)
{
	struct vid_register r[ARRAY_SIZE(reg_descs)];
	unsigned int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < ARRAY_SIZE(reg_descs); i++)
		r[i].name = reg_descs[i].name;
	ASSERT_VID(0, vid_vp_get_regs(self->env.vp, r, ARRAY_SIZE(r)));
	for (i = 0; i < ARRAY_SIZE(reg_descs); i++)
		EXPECT_EQ(reg_descs[i].name, r[i].name);
}

/* VID_REGISTERS_MAX entries (names repeat) are accepted by GET and SET. */
TEST_F(regs, count_max)
{
	struct vid_register r[VID_REGISTERS_MAX];
	unsigned int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < VID_REGISTERS_MAX; i++)
		r[i].name = reg_descs[i % ARRAY_SIZE(reg_descs)].name;
	ASSERT_VID(0, vid_vp_get_regs(self->env.vp, r, VID_REGISTERS_MAX));

	memset(r, 0, sizeof(r));
	for (i = 0; i < VID_REGISTERS_MAX; i++) {
		r[i].name = GPR(i % NR_GPRS);
		r[i].value.reg64 = gpr_pattern(i % NR_GPRS, 0x128);
	}
	ASSERT_VID(0, vid_vp_set_regs(self->env.vp, r, VID_REGISTERS_MAX));
	for (i = 0; i < NR_GPRS; i++)
		ASSERT_EQ(gpr_pattern(i, 0x128),
			  get64(_metadata, self->env.vp, GPR(i)));
}

/* TSC: it reads, and a SET is accepted (its value runs on). */
TEST_F(regs, tsc_reads)
{
	uint64_t tsc;

	ASSERT_VID(0, vid_vp_get_reg64(self->env.vp, VID_REG_TSC, &tsc));
	ASSERT_VID(0, vid_vp_set_reg64(self->env.vp, VID_REG_TSC,
				       0x100000000ULL));
	ASSERT_VID(0, vid_vp_get_reg64(self->env.vp, VID_REG_TSC, &tsc));
}

/* Registers belong to one VP. */
TEST_F(regs, per_vp)
{
	struct vid_register cs;
	int vp1;

	if (self->env.vps < 2)
		SKIP(return, "VID_CAP_MAX_VPS is 1");
	vp1 = vid_vp_create(self->env.fd, 1);
	ASSERT_LE(0, vp1);

	ASSERT_VID(0, vid_vp_set_reg64(self->env.vp, VID_REG_RAX, 0xabcd));
	ASSERT_EQ(0U, get64(_metadata, vp1, VID_REG_RAX));

	memset(&cs, 0, sizeof(cs));
	cs.name = VID_REG_CS;
	cs.value.segment.limit = 0xffffffff;
	cs.value.segment.selector = 0x08;
	cs.value.segment.attributes = 0xa09b;
	ASSERT_VID(0, vid_vp_set_regs(vp1, &cs, 1));
	ASSERT_EQ(0xf000, get_reg(_metadata, self->env.vp,
				  VID_REG_CS).value.segment.selector);
	ASSERT_EQ(0xabcdU, get64(_metadata, self->env.vp, VID_REG_RAX));
	close(vp1);
}

/* The kernel writes the values back: a read-only array faults. */
TEST_F(regs, get_into_read_only_efault)
{
	struct vid_register *r = vid_test_readonly_page();

	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, mprotect(r, PG, PROT_READ | PROT_WRITE));
	memset(r, 0, sizeof(*r));
	r->name = VID_REG_RAX;
	ASSERT_EQ(0, mprotect(r, PG, PROT_READ));
	ASSERT_VID(-EFAULT, vid_vp_get_regs(self->env.vp, r, 1));
}

/*
 * An array whose second entry lies in an unmapped page: SET faults and
 * applies nothing, not even the first entry.
 */
TEST_F(regs, set_straddling_fault_changes_nothing)
{
	struct vid_register *r;
	uint8_t *p;

	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p + PG, PG));
	r = (struct vid_register *)(p + PG) - 1;
	memset(r, 0, sizeof(*r));
	r->name = VID_REG_RAX;
	r->value.reg64 = 0x5a5a;
	ASSERT_VID(-EFAULT, vid_vp_set_regs(self->env.vp, r, 2));
	ASSERT_VID(-EFAULT, vid_vp_get_regs(self->env.vp, r, 2));
	ASSERT_EQ(0U, get64(_metadata, self->env.vp, VID_REG_RAX));
	munmap(p, PG);
}

/* ---- count: -EINVAL ---- */

FIXTURE(regs_count) {
	struct vp_env env;
};

FIXTURE_VARIANT(regs_count) {
	uint32_t count;
};

FIXTURE_VARIANT_ADD(regs_count, zero) { .count = 0 };
FIXTURE_VARIANT_ADD(regs_count, max_plus_1) {
	.count = VID_REGISTERS_MAX + 1 };
FIXTURE_VARIANT_ADD(regs_count, x1000) { .count = 0x1000 };
FIXTURE_VARIANT_ADD(regs_count, x80000000) { .count = 0x80000000U };
FIXTURE_VARIANT_ADD(regs_count, u32_max) { .count = 0xffffffffU };

VP_FIXTURE(regs_count, true)

/* VID_REGISTERS_MAX + 1 valid entries: only the count is wrong. */
static struct vid_register *count_regs(void)
{
	static struct vid_register r[VID_REGISTERS_MAX + 1];
	unsigned int i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < ARRAY_SIZE(r); i++) {
		r[i].name = GPR(i % NR_GPRS);
		r[i].value.reg64 = gpr_pattern(i % NR_GPRS, 1);
	}
	return r;
}

TEST_F(regs_count, get_einval)
{
	ASSERT_ERRNO(EINVAL, regs_ioctl(self->env.vp, VID_VP_GET_REGISTERS,
					variant->count, 0, count_regs()));
}

TEST_F(regs_count, set_einval)
{
	ASSERT_ERRNO(EINVAL, regs_ioctl(self->env.vp, VID_VP_SET_REGISTERS,
					variant->count, 0, count_regs()));
	expect_gprs_zero(_metadata, self->env.vp);
}

/* ---- flags: -EINVAL ---- */

FIXTURE(regs_flags) {
	struct vp_env env;
};

FIXTURE_VARIANT(regs_flags) {
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(regs_flags, bit0) { .flags = 1 };
FIXTURE_VARIANT_ADD(regs_flags, bit31) { .flags = 1U << 31 };
FIXTURE_VARIANT_ADD(regs_flags, all) { .flags = ~0U };

VP_FIXTURE(regs_flags, true)

TEST_F(regs_flags, get_einval)
{
	struct vid_register r = { .name = VID_REG_RAX };

	ASSERT_ERRNO(EINVAL, regs_ioctl(self->env.vp, VID_VP_GET_REGISTERS,
					1, variant->flags, &r));
}

TEST_F(regs_flags, set_einval)
{
	struct vid_register r = { .name = VID_REG_RAX, .value.reg64 = 7 };

	ASSERT_ERRNO(EINVAL, regs_ioctl(self->env.vp, VID_VP_SET_REGISTERS,
					1, variant->flags, &r));
	expect_gprs_zero(_metadata, self->env.vp);
}

/* ---- bad pointers: -EFAULT ---- */

FIXTURE(regs_ptr) {
	struct vp_env env;
};

FIXTURE_VARIANT(regs_ptr) {
	bool null;
};

FIXTURE_VARIANT_ADD(regs_ptr, null) { .null = true };
FIXTURE_VARIANT_ADD(regs_ptr, unmapped) { .null = false };

VP_FIXTURE(regs_ptr, true)

TEST_F(regs_ptr, get_regs_efault)
{
	ASSERT_VID(-EFAULT, vid_vp_get_regs(self->env.vp,
					    bad_ptr(_metadata, variant->null),
					    1));
}

TEST_F(regs_ptr, set_regs_efault)
{
	ASSERT_VID(-EFAULT, vid_vp_set_regs(self->env.vp,
					    bad_ptr(_metadata, variant->null),
					    1));
	expect_gprs_zero(_metadata, self->env.vp);
}

TEST_F(regs_ptr, get_arg_efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->env.vp, VID_VP_GET_REGISTERS,
				   bad_ptr(_metadata, variant->null)));
}

TEST_F(regs_ptr, set_arg_efault)
{
	ASSERT_ERRNO(EFAULT, ioctl(self->env.vp, VID_VP_SET_REGISTERS,
				   bad_ptr(_metadata, variant->null)));
}

/* ---- register names nobody defines: -EINVAL ---- */

FIXTURE(reg_name) {
	struct vp_env env;
};

FIXTURE_VARIANT(reg_name) {
	uint32_t name;
};

FIXTURE_VARIANT_ADD(reg_name, zero) { .name = 0 };
FIXTURE_VARIANT_ADD(reg_name, after_rflags) { .name = 0x00020012 };
FIXTURE_VARIANT_ADD(reg_name, u32_max) { .name = 0xffffffffU };
FIXTURE_VARIANT_ADD(reg_name, after_xfem) { .name = 0x00040006 };
FIXTURE_VARIANT_ADD(reg_name, after_dr7) { .name = 0x00050006 };
FIXTURE_VARIANT_ADD(reg_name, after_tr) { .name = 0x00060008 };
FIXTURE_VARIANT_ADD(reg_name, after_gdtr) { .name = 0x00070002 };
FIXTURE_VARIANT_ADD(reg_name, after_sfmask) { .name = 0x0008000c };
FIXTURE_VARIANT_ADD(reg_name, x00010000) { .name = 0x00010000 };
FIXTURE_VARIANT_ADD(reg_name, x00030010) { .name = 0x00030010 };
FIXTURE_VARIANT_ADD(reg_name, x00090000) { .name = 0x00090000 };
FIXTURE_VARIANT_ADD(reg_name, rax_bit31) { .name = 0x80020000U };
FIXTURE_VARIANT_ADD(reg_name, rax_bit24) { .name = 0x01020000 };

VP_FIXTURE(reg_name, true)

TEST_F(reg_name, get_einval)
{
	struct vid_register r = { .name = variant->name };

	ASSERT_VID(-EINVAL, vid_vp_get_regs(self->env.vp, &r, 1));
}

TEST_F(reg_name, set_einval)
{
	struct vid_register r = { .name = variant->name };

	ASSERT_VID(-EINVAL, vid_vp_set_regs(self->env.vp, &r, 1));
}

/* Last in a GET batch of good names: the whole GET fails. */
TEST_F(reg_name, get_einval_last_in_batch)
{
	struct vid_register r[4];

	memset(r, 0, sizeof(r));
	r[0].name = VID_REG_RAX;
	r[1].name = VID_REG_CR0;
	r[2].name = VID_REG_CS;
	r[3].name = variant->name;
	ASSERT_VID(-EINVAL, vid_vp_get_regs(self->env.vp, r, 4));
}

/* ---- reserved fields: -EINVAL ---- */

FIXTURE(reg_reserved) {
	struct vp_env env;
};

FIXTURE_VARIANT(reg_reserved) {
	uint32_t reserved;
	uint64_t reserved2;
};

FIXTURE_VARIANT_ADD(reg_reserved, reserved_bit0) { .reserved = 1 };
FIXTURE_VARIANT_ADD(reg_reserved, reserved_bit31) { .reserved = 1U << 31 };
FIXTURE_VARIANT_ADD(reg_reserved, reserved2_bit0) { .reserved2 = 1 };
FIXTURE_VARIANT_ADD(reg_reserved, reserved2_bit63) {
	.reserved2 = 1ULL << 63 };

VP_FIXTURE(reg_reserved, true)

TEST_F(reg_reserved, get_einval)
{
	struct vid_register r = {
		.name = VID_REG_RAX,
		.reserved = variant->reserved,
		.reserved2 = variant->reserved2,
	};

	ASSERT_VID(-EINVAL, vid_vp_get_regs(self->env.vp, &r, 1));
}

TEST_F(reg_reserved, set_einval)
{
	struct vid_register r = {
		.name = VID_REG_RAX,
		.reserved = variant->reserved,
		.reserved2 = variant->reserved2,
		.value.reg64 = 0x1234,
	};

	ASSERT_VID(-EINVAL, vid_vp_set_regs(self->env.vp, &r, 1));
	expect_gprs_zero(_metadata, self->env.vp);
}

/* ==== a SET batch whose last entry is bad applies nothing ==== */

FIXTURE(batch_last_bad) {
	struct vp_env env;
};

FIXTURE_VARIANT(batch_last_bad) {
	struct vid_register bad;
};

FIXTURE_VARIANT_ADD(batch_last_bad, unknown_name) {
	.bad = { .name = 0x00020012 } };
FIXTURE_VARIANT_ADD(batch_last_bad, name_zero) {
	.bad = { .name = 0 } };
FIXTURE_VARIANT_ADD(batch_last_bad, reserved) {
	.bad = { .name = VID_REG_RBX, .reserved = 1 } };
FIXTURE_VARIANT_ADD(batch_last_bad, reserved2) {
	.bad = { .name = VID_REG_RBX, .reserved2 = 1 } };
FIXTURE_VARIANT_ADD(batch_last_bad, cr0_bit32) {
	.bad = { .name = VID_REG_CR0, .value.reg64 = 1ULL << 32 } };
FIXTURE_VARIANT_ADD(batch_last_bad, rflags_bit1_clear) {
	.bad = { .name = VID_REG_RFLAGS, .value.reg64 = 0x200 } };
FIXTURE_VARIANT_ADD(batch_last_bad, cs_attr_bit8) {
	.bad = { .name = VID_REG_CS,
		 .value.segment = { .limit = 0xffff, .attributes = 0x19b } } };
FIXTURE_VARIANT_ADD(batch_last_bad, gdtr_pad) {
	.bad = { .name = VID_REG_GDTR,
		 .value.table = { .pad = { 0, 1, 0 }, .limit = 0xff } } };
FIXTURE_VARIANT_ADD(batch_last_bad, rax_high_bytes) {
	.bad = { .name = VID_REG_RAX, .value.bytes = { 1, [8] = 1 } } };
FIXTURE_VARIANT_ADD(batch_last_bad, lstar_noncanonical) {
	.bad = { .name = VID_REG_LSTAR, .value.reg64 = NONCANON } };

VP_FIXTURE(batch_last_bad, true)

/*
 * RAX first, then registers of every kind (64-bit, control, segment,
 * table), then the bad entry: EINVAL, and each of them unchanged.
 */
TEST_F(batch_last_bad, changes_nothing)
{
	static const uint32_t names[] = {
		VID_REG_RAX, VID_REG_RCX, VID_REG_RIP, VID_REG_RFLAGS,
		VID_REG_CR0, VID_REG_CR4, VID_REG_EFER, VID_REG_CS,
		VID_REG_GDTR, VID_REG_LSTAR,
	};
	struct vid_register before[ARRAY_SIZE(names)];
	struct vid_register set[ARRAY_SIZE(names) + 1];
	unsigned int i, n = ARRAY_SIZE(names);

	memset(before, 0, sizeof(before));
	for (i = 0; i < n; i++)
		before[i].name = names[i];
	ASSERT_VID(0, vid_vp_get_regs(self->env.vp, before, n));

	memset(set, 0, sizeof(set));
	set[0].name = VID_REG_RAX;
	set[0].value.reg64 = 0x1122334455667788ULL;
	set[1].name = VID_REG_RCX;
	set[1].value.reg64 = 0x99;
	set[2].name = VID_REG_RIP;
	set[2].value.reg64 = 0x7c00;
	set[3].name = VID_REG_RFLAGS;
	set[3].value.reg64 = 0x202;
	set[4].name = VID_REG_CR0;
	set[4].value.reg64 = 0x60000011;
	set[5].name = VID_REG_CR4;
	set[5].value.reg64 = 0x20;
	set[6].name = VID_REG_EFER;
	set[6].value.reg64 = 0x801;
	set[7].name = VID_REG_CS;
	set[7].value.segment.limit = 0xffffffff;
	set[7].value.segment.selector = 0x8;
	set[7].value.segment.attributes = 0xa09b;
	set[8].name = VID_REG_GDTR;
	set[8].value.table.limit = 0x7f;
	set[8].value.table.base = 0x1000;
	set[9].name = VID_REG_LSTAR;
	set[9].value.reg64 = 0xffffffff81800000ULL;
	set[n] = variant->bad;

	ASSERT_VID(-EINVAL, vid_vp_set_regs(self->env.vp, set, n + 1));
	for (i = 0; i < n; i++)
		expect_value(_metadata, self->env.vp, names[i],
			     &before[i].value);
	/* Without the bad entry, the same batch applies. */
	ASSERT_VID(0, vid_vp_set_regs(self->env.vp, set, n));
	ASSERT_EQ(0x1122334455667788ULL,
		  get64(_metadata, self->env.vp, VID_REG_RAX));
}

TEST_HARNESS_MAIN
