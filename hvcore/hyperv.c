// SPDX-License-Identifier: GPL-2.0
/*
 * The Hyper-V identity (CPUID 0x40000000-0x40000006), the partition's
 * Hyper-V privileges, and the partition-level synthetic MSRs: guest OS
 * id, hypercall page, VP index, VP runtime, reference counter and TSC
 * page, TSC/APIC frequency, crash and reset.
 *
 * The hypercall page and the TSC page are written into guest RAM, not
 * overlaid on it as Hyper-V does: the MSR names a page of the guest's own
 * RAM (writable by the guest, else the write raises #GP), and the
 * hypervisor stores the hypercall code ("vmmcall; ret") or the TSC
 * page's scale and offset into it when the guest enables the page. The
 * guest can therefore overwrite them, which only harms itself, and
 * disabling the page leaves the bytes behind. An overlay would need a
 * hypervisor-owned page mapped over the GPA in the SLAT and the RAM
 * behind it restored on disable; no guest vid targets depends on it.
 *
 * Locking: the guest-written partition state is under hv->lock (a
 * spinlock; VP context runs with preemption off). The privileges,
 * features and recommendations change only before initialize, when no
 * VP exists, so VPs read them without it.
 */
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <asm/hyperv-tlfs.h>
#include <asm/msr.h>
#include <asm/tsc.h>

#include "../uapi/linux/vid.h"
#include "arch.h"
#include "hcall_input.h"
#include "lapic.h"
#include "hv_regs.h"
#include "hvcore.h"

#define HV_CPUID_MAX_LEAF		0x40000006
#define HV_CPUID_INTERFACE_HV1		0x31237648	/* "Hv#1" */
#define HV_CPUID_HARDWARE_FEATURES	0x40000006

/* What the version leaf reports: Hyper-V 10.0, build 20348. */
#define HV_VERSION_BUILD		20348
#define HV_VERSION_MAJOR_MINOR		0x000a0000

/*
 * TLFS 0x40000004 EAX bit 8, "use x2APIC MSRs": the vLAPIC has them.
 * Linux names no constant for it.
 */
#define HV_X64_X2APIC_MSRS_RECOMMENDED	BIT(8)
/* 0x40000004 EBX: spins before HvNotifyLongSpinWait (TLFS default). */
#define HV_SPIN_WAIT_RETRIES		0xfff

/*
 * Everything vid implements, and so advertises by default. The SynIC
 * and synthetic timers (synic/) gate their MSRs on HV_MSR_SYNIC_AVAILABLE
 * and HV_MSR_SYNTIMER_AVAILABLE themselves; their timers have direct
 * mode.
 */
#define HV_PRIVILEGES_IMPLEMENTED					\
	(HV_MSR_VP_RUNTIME_AVAILABLE | HV_MSR_TIME_REF_COUNT_AVAILABLE |	\
	 HV_MSR_SYNIC_AVAILABLE | HV_MSR_SYNTIMER_AVAILABLE |		\
	 HV_MSR_HYPERCALL_AVAILABLE | HV_MSR_VP_INDEX_AVAILABLE |	\
	 HV_MSR_RESET_AVAILABLE | HV_MSR_REFERENCE_TSC_AVAILABLE |	\
	 HV_ACCESS_FREQUENCY_MSRS | HV_MSR_APIC_ACCESS_AVAILABLE |	\
	 (u64)(HV_POST_MESSAGES | HV_SIGNAL_EVENTS) << 32)
#define HV_FEATURES_IMPLEMENTED						\
	(HV_FEATURE_FREQUENCY_MSRS_AVAILABLE |				\
	 HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE |				\
	 HV_STIMER_DIRECT_MODE_AVAILABLE)
#define HV_RECOMMENDATIONS_IMPLEMENTED					\
	(HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED |				\
	 HV_X64_SYSTEM_RESET_RECOMMENDED |				\
	 HV_X64_RELAXED_TIMING_RECOMMENDED |				\
	 HV_X64_X2APIC_MSRS_RECOMMENDED |				\
	 HV_X64_CLUSTER_IPI_RECOMMENDED |				\
	 HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED)

/* HV_X64_MSR_HYPERCALL and _REFERENCE_TSC fields. */
#define HV_HYPERCALL_ENABLE		BIT_ULL(0)
#define HV_HYPERCALL_LOCKED		BIT_ULL(1)
#define HV_HYPERCALL_VALID		(GENMASK_ULL(63, 12) | \
					 HV_HYPERCALL_ENABLE | \
					 HV_HYPERCALL_LOCKED)
#define HV_REFERENCE_TSC_ENABLE		BIT_ULL(0)
#define HV_REFERENCE_TSC_VALID		(GENMASK_ULL(63, 12) | \
					 HV_REFERENCE_TSC_ENABLE)
#define HV_MSR_PAGE_GPA(v)		((v) & GENMASK_ULL(63, 12))
#define HV_RESET_VALID			BIT_ULL(0)

/* The hypercall page: "vmmcall; ret" at offset 0. */
static const u8 hv_hypercall_code[] = { 0x0f, 0x01, 0xd9, 0xc3 };

/* The reference TSC page (TLFS HV_REFERENCE_TSC_PAGE), natural layout. */
struct hv_tsc_page {
	u32 sequence;
	u32 reserved;
	u64 scale;
	s64 offset;
};

/*
 * A host whose kernel marked its TSC unstable (TSCs of its CPUs seen out
 * of step; QEMU's TCG always looks so) gets no TSC page: a VP moving
 * between CPUs would see the page jump. Where the TSCs are known to
 * agree anyway, this publishes it regardless; read at partition creation.
 */
static bool tsc_page_always;
module_param(tsc_page_always, bool, 0644);
MODULE_PARM_DESC(tsc_page_always,
		 "Offer the Hyper-V TSC page even when the host marked its TSC unstable");

void hv_partition_hv_init(struct hv_partition_hv *hv)
{
	spin_lock_init(&hv->lock);
	hv->privileges = HV_PRIVILEGES_IMPLEMENTED;
	hv->features = HV_FEATURES_IMPLEMENTED;
	hv->recommendations = HV_RECOMMENDATIONS_IMPLEMENTED;
	/*
	 * The reference counter counts host TSC ticks when the host trusts
	 * its TSC, so that the TSC page (a function of the guest TSC) and
	 * the MSR agree to the unit; otherwise it follows ktime.
	 */
	hv->tsc_scale = check_tsc_unstable() && !READ_ONCE(tsc_page_always) ?
			0 : hv_tsc_scale(tsc_khz);
	hv->time_ref_base = hv->tsc_scale ? rdtsc_ordered() : ktime_get_ns();
	atomic64_set(&hv->time_ref_last, 0);
}

/* ----- Partition properties ----- */

hv_status_t hv_partition_hv_get(struct hv_partition_hv *hv, u32 property,
				u64 *value)
{
	switch (property) {
	case HV_PARTITION_PROPERTY_HV_PRIVILEGES:
		*value = hv->privileges;
		return HV_STATUS_SUCCESS;
	case HV_PARTITION_PROPERTY_HV_FEATURES:
		*value = hv->features;
		return HV_STATUS_SUCCESS;
	case HV_PARTITION_PROPERTY_HV_RECOMMENDATIONS:
		*value = hv->recommendations;
		return HV_STATUS_SUCCESS;
	default:
		return HV_STATUS_INVALID_PARAMETER;
	}
}

hv_status_t hv_partition_hv_set(struct hv_partition_hv *hv, u32 property,
				u64 value)
{
	switch (property) {
	case HV_PARTITION_PROPERTY_HV_PRIVILEGES:
		if (value & ~HV_PRIVILEGES_IMPLEMENTED)
			return HV_STATUS_INVALID_PARAMETER;
		hv->privileges = value;
		return HV_STATUS_SUCCESS;
	case HV_PARTITION_PROPERTY_HV_FEATURES:
		if (value & ~(u64)HV_FEATURES_IMPLEMENTED)
			return HV_STATUS_INVALID_PARAMETER;
		hv->features = value;
		return HV_STATUS_SUCCESS;
	case HV_PARTITION_PROPERTY_HV_RECOMMENDATIONS:
		if (value & ~(u64)HV_RECOMMENDATIONS_IMPLEMENTED)
			return HV_STATUS_INVALID_PARAMETER;
		hv->recommendations = value;
		return HV_STATUS_SUCCESS;
	default:
		return HV_STATUS_INVALID_PARAMETER;
	}
}

bool hv_vp_privileged(struct hv_vp *vp, u64 privileges)
{
	return (vp->partition->hv.privileges & privileges) == privileges;
}

/* ----- CPUID ----- */

/* 0x40000003: privileges EAX/EBX, features EDX. */
static void hv_cpuid_features(struct hv_partition_hv *hv, u32 *eax,
			      u32 *ebx, u32 *edx)
{
	*eax = lower_32_bits(hv->privileges);
	*ebx = upper_32_bits(hv->privileges);
	*edx = hv->features;
}

bool hv_cpuid_hv_leaf(struct hv_vp *vp, u32 leaf, u32 *eax, u32 *ebx,
		      u32 *ecx, u32 *edx)
{
	struct hv_partition *p = vp->partition;

	if (leaf < HYPERV_CPUID_VENDOR_AND_MAX_FUNCTIONS || leaf > 0x400000ff)
		return false;
	*eax = 0;
	*ebx = 0;
	*ecx = 0;
	*edx = 0;
	switch (leaf) {
	case HYPERV_CPUID_VENDOR_AND_MAX_FUNCTIONS:
		*eax = HV_CPUID_MAX_LEAF;
		*ebx = p->vendor_id[0];
		*ecx = p->vendor_id[1];
		*edx = p->vendor_id[2];
		break;
	case HYPERV_CPUID_INTERFACE:
		*eax = HV_CPUID_INTERFACE_HV1;
		break;
	case HYPERV_CPUID_VERSION:
		*eax = HV_VERSION_BUILD;
		*ebx = HV_VERSION_MAJOR_MINOR;
		break;
	case HYPERV_CPUID_FEATURES:
		hv_cpuid_features(&p->hv, eax, ebx, edx);
		break;
	case HYPERV_CPUID_ENLIGHTMENT_INFO:
		*eax = p->hv.recommendations;
		*ebx = HV_SPIN_WAIT_RETRIES;
		break;
	case HYPERV_CPUID_IMPLEMENT_LIMITS:
		*eax = p->max_vp_count;
		break;
	case HV_CPUID_HARDWARE_FEATURES:
		break;	/* no hardware feature is used for the guest */
	}
	return true;
}

/* ----- Reference time ----- */

/* Reference time as the host clock says, before the monotonic clamp. */
static u64 hv_ref_raw(struct hv_partition_hv *hv)
{
	s64 delta;

	if (!hv->tsc_scale)
		return div_u64(ktime_get_ns() - hv->time_ref_base, 100);
	/* A TSC a little behind the one the base came from reads 0. */
	delta = rdtsc_ordered() - hv->time_ref_base;
	return delta > 0 ? hv_tsc_scaled(delta, hv->tsc_scale) : 0;
}

u64 hv_time_ref_count(struct hv_vp *vp)
{
	struct hv_partition_hv *hv = &vp->partition->hv;
	s64 last = atomic64_read(&hv->time_ref_last);
	u64 now = hv_ref_raw(hv);

	/* Never below a value another VP already read. */
	do {
		if (now <= (u64)last)
			return last;
	} while (!atomic64_try_cmpxchg(&hv->time_ref_last, &last, now));
	return now;
}

/* Samples hv_guest_tsc_at() takes; it keeps the one read fastest. */
#define HV_TSC_SAMPLES	4

/*
 * The host TSC @host and the guest TSC at (nearly) the same moment: the
 * backend gives the guest TSC (host TSC + the VP's TSC offset), the host
 * TSC is read on each side of it and the midpoint taken. IRQs are off
 * for each sample and the narrowest of a few is kept, so an interrupt
 * (or, under an emulator, another vCPU's time slice) between the reads
 * does not skew the pair.
 */
static u64 hv_guest_tsc_at(struct hv_vp *vp, u64 *host)
{
	union hv_reg_value guest = {};
	u64 t0, t1, best = U64_MAX, g = 0;
	unsigned long flags;
	unsigned int i;

	for (i = 0; i < HV_TSC_SAMPLES; i++) {
		local_irq_save(flags);
		t0 = rdtsc_ordered();
		hv_arch->vp_get_reg(vp, HV_X64_REGISTER_TSC, &guest);
		t1 = rdtsc_ordered();
		local_irq_restore(flags);
		if (t1 - t0 < best) {
			best = t1 - t0;
			*host = t0 + best / 2;
			g = guest.reg64;
		}
	}
	return g;
}

/*
 * Fill the TSC page at @gpa for the guest TSC of @vp: scale and offset
 * such that ((guest_tsc * scale) >> 64) + offset is the reference
 * counter. Sequence 0 tells the guest to use the MSR instead (no usable
 * TSC). Under hv->lock. False when @gpa is not guest-writable RAM.
 */
static bool hv_tsc_page_update(struct hv_vp *vp, u64 gpa)
{
	struct hv_partition_hv *hv = &vp->partition->hv;
	struct hv_tsc_page *page;
	u64 host, guest, ref;
	s64 offset;

	page = hv_gpa_page(vp->partition, gpa >> PAGE_SHIFT, true);
	if (!page)
		return false;
	WRITE_ONCE(page->sequence, 0);
	if (!hv->tsc_scale)
		return true;
	guest = hv_guest_tsc_at(vp, &host);
	ref = hv_tsc_scaled(host - hv->time_ref_base, hv->tsc_scale);
	offset = ref - hv_tsc_scaled(guest, hv->tsc_scale);
	/* Sequence 0 (use the MSR) is visible before the rest changes... */
	smp_wmb();
	WRITE_ONCE(page->scale, hv->tsc_scale);
	WRITE_ONCE(page->offset, offset);
	/* ... and the new scale and offset before the new sequence. */
	smp_wmb();
	if (++hv->tsc_sequence == 0 || hv->tsc_sequence == U32_MAX)
		hv->tsc_sequence = 1;
	WRITE_ONCE(page->sequence, hv->tsc_sequence);
	return true;
}

/* ----- Synthetic MSRs ----- */

/*
 * The privilege (CPUID 0x40000003 EAX) or feature (EDX) bit an MSR
 * needs, as KVM's hyperv_features test expects it. False for an MSR
 * vid does not implement.
 */
static bool hv_msr_gate(u32 msr, u64 *privilege, u32 *feature)
{
	*privilege = 0;
	*feature = 0;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
	case HV_X64_MSR_HYPERCALL:
		*privilege = HV_MSR_HYPERCALL_AVAILABLE;
		return true;
	case HV_X64_MSR_VP_INDEX:
		*privilege = HV_MSR_VP_INDEX_AVAILABLE;
		return true;
	case HV_X64_MSR_RESET:
		*privilege = HV_MSR_RESET_AVAILABLE;
		return true;
	case HV_X64_MSR_VP_RUNTIME:
		*privilege = HV_MSR_VP_RUNTIME_AVAILABLE;
		return true;
	case HV_X64_MSR_TIME_REF_COUNT:
		*privilege = HV_MSR_TIME_REF_COUNT_AVAILABLE;
		return true;
	case HV_X64_MSR_REFERENCE_TSC:
		*privilege = HV_MSR_REFERENCE_TSC_AVAILABLE;
		return true;
	case HV_X64_MSR_TSC_FREQUENCY:
	case HV_X64_MSR_APIC_FREQUENCY:
		*privilege = HV_ACCESS_FREQUENCY_MSRS;
		return true;
	case HV_X64_MSR_CRASH_P0 ... HV_X64_MSR_CRASH_P4:
	case HV_X64_MSR_CRASH_CTL:
		*feature = HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE;
		return true;
	case HV_X64_MSR_EOI:
	case HV_X64_MSR_ICR:
	case HV_X64_MSR_TPR:
	case HV_X64_MSR_VP_ASSIST_PAGE:
		*privilege = HV_MSR_APIC_ACCESS_AVAILABLE;
		return true;
	default:
		return false;
	}
}

/* May @vp touch @msr at all? Unimplemented or not granted: #GP. */
static bool hv_msr_allowed(struct hv_vp *vp, u32 msr)
{
	struct hv_partition_hv *hv = &vp->partition->hv;
	u64 privilege;
	u32 feature;

	if (!hv_msr_gate(msr, &privilege, &feature))
		return false;
	return (hv->privileges & privilege) == privilege &&
	       (hv->features & feature) == feature;
}

enum hv_msr_result hv_synthetic_msr_read(struct hv_vp *vp, u32 msr,
					 u64 *value)
{
	struct hv_partition_hv *hv = &vp->partition->hv;

	if (!hv_msr_allowed(vp, msr))
		return HV_MSR_GP;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
		*value = READ_ONCE(hv->guest_os_id);
		break;
	case HV_X64_MSR_HYPERCALL:
		*value = READ_ONCE(hv->hypercall);
		break;
	case HV_X64_MSR_VP_INDEX:
		*value = vp->index;
		break;
	case HV_X64_MSR_VP_RUNTIME:
		/* Updated each time a dispatch of the VP returns. */
		*value = div_u64(READ_ONCE(vp->runtime_ns), 100);
		break;
	case HV_X64_MSR_TIME_REF_COUNT:
		*value = hv_time_ref_count(vp);
		break;
	case HV_X64_MSR_REFERENCE_TSC:
		*value = READ_ONCE(hv->reference_tsc);
		break;
	case HV_X64_MSR_TSC_FREQUENCY:
		*value = (u64)tsc_khz * 1000;
		break;
	case HV_X64_MSR_APIC_FREQUENCY:
		*value = HV_APIC_FREQUENCY;
		break;
	case HV_X64_MSR_CRASH_P0 ... HV_X64_MSR_CRASH_P4:
		spin_lock(&hv->lock);
		*value = hv->crash[msr - HV_X64_MSR_CRASH_P0];
		spin_unlock(&hv->lock);
		break;
	case HV_X64_MSR_CRASH_CTL:
		/* The capability: crash notification, no message page. */
		*value = HV_CRASH_CTL_CRASH_NOTIFY;
		break;
	case HV_X64_MSR_EOI:
	case HV_X64_MSR_ICR:
	case HV_X64_MSR_TPR:
		return hv_lapic_hv_msr_read(vp, msr, value);
	case HV_X64_MSR_VP_ASSIST_PAGE:
		*value = vp->vp_assist;
		break;
	default:	/* HV_X64_MSR_RESET */
		*value = 0;
		break;
	}
	return HV_MSR_DONE;
}

/*
 * HV_X64_MSR_GUEST_OS_ID: any value; 0 (no OS identified) also disables
 * the hypercall page.
 */
static enum hv_msr_result hv_write_guest_os_id(struct hv_partition_hv *hv,
					       u64 value)
{
	spin_lock(&hv->lock);
	WRITE_ONCE(hv->guest_os_id, value);
	if (!value)
		WRITE_ONCE(hv->hypercall, hv->hypercall & ~HV_HYPERCALL_ENABLE);
	spin_unlock(&hv->lock);
	return HV_MSR_DONE;
}

/*
 * HV_X64_MSR_HYPERCALL. Ignored until the guest OS id is set (as KVM
 * does) and once locked (TLFS: until reset). Enabling writes the code
 * into the page, which must be guest-writable RAM.
 */
static enum hv_msr_result hv_write_hypercall(struct hv_vp *vp, u64 value)
{
	struct hv_partition_hv *hv = &vp->partition->hv;
	enum hv_msr_result r = HV_MSR_DONE;

	if (value & ~HV_HYPERCALL_VALID)
		return HV_MSR_GP;
	spin_lock(&hv->lock);
	if (!hv->guest_os_id || (hv->hypercall & HV_HYPERCALL_LOCKED))
		goto out;
	if ((value & HV_HYPERCALL_ENABLE) &&
	    hv_gpa_write(vp->partition, HV_MSR_PAGE_GPA(value),
			 hv_hypercall_code, sizeof(hv_hypercall_code))) {
		r = HV_MSR_GP;
		goto out;
	}
	WRITE_ONCE(hv->hypercall, value);
out:
	spin_unlock(&hv->lock);
	return r;
}

/* HV_X64_MSR_REFERENCE_TSC: enabling fills the page (guest RAM). */
static enum hv_msr_result hv_write_reference_tsc(struct hv_vp *vp, u64 value)
{
	struct hv_partition_hv *hv = &vp->partition->hv;
	enum hv_msr_result r = HV_MSR_DONE;

	if (value & ~HV_REFERENCE_TSC_VALID)
		return HV_MSR_GP;
	spin_lock(&hv->lock);
	if ((value & HV_REFERENCE_TSC_ENABLE) &&
	    !hv_tsc_page_update(vp, HV_MSR_PAGE_GPA(value)))
		r = HV_MSR_GP;
	else
		WRITE_ONCE(hv->reference_tsc, value);
	spin_unlock(&hv->lock);
	return r;
}

/* A message for the root; the caller fills the payload. */
static struct vid_message *hv_root_message(struct hv_message *msg, u32 type,
					   u8 payload_size)
{
	struct vid_message *m = (struct vid_message *)msg;

	BUILD_BUG_ON(sizeof(struct vid_message) != sizeof(struct hv_message));
	memset(m, 0, sizeof(*m));
	m->message_type = type;
	m->payload_size = payload_size;
	return m;
}

/*
 * HV_X64_MSR_CRASH_CTL: CrashNotify (bit 63) sends the crash parameters
 * to the root (VID_MSG_GUEST_CRASH); no other bit is offered.
 */
static enum hv_msr_result hv_write_crash_ctl(struct hv_vp *vp, u64 value,
					     struct hv_message *msg)
{
	struct hv_partition_hv *hv = &vp->partition->hv;
	struct vid_message *m;

	if (value & ~HV_CRASH_CTL_CRASH_NOTIFY)
		return HV_MSR_GP;
	if (!value)
		return HV_MSR_DONE;
	m = hv_root_message(msg, VID_MSG_GUEST_CRASH,
			    sizeof(struct vid_guest_crash));
	m->guest_crash.vp_index = vp->index;
	m->guest_crash.crash_control = value;
	spin_lock(&hv->lock);
	memcpy(m->guest_crash.parameters, hv->crash, sizeof(hv->crash));
	spin_unlock(&hv->lock);
	return HV_MSR_MESSAGE;
}

/* HV_X64_MSR_RESET: bit 0 asks the root to reset the partition. */
static enum hv_msr_result hv_write_reset(struct hv_vp *vp, u64 value,
					 struct hv_message *msg)
{
	struct vid_message *m;

	if (value & ~HV_RESET_VALID)
		return HV_MSR_GP;
	if (!value)
		return HV_MSR_DONE;
	m = hv_root_message(msg, VID_MSG_GUEST_RESET,
			    sizeof(struct vid_guest_reset));
	m->guest_reset.vp_index = vp->index;
	return HV_MSR_MESSAGE;
}

/*
 * HV_X64_MSR_VP_ASSIST_PAGE: enable bit 0, the page's frame from bit 12,
 * bits 1-11 reserved (#GP). The page must be guest RAM; as on Hyper-V
 * its APIC-assist word is cleared when it is enabled. Nothing in it is
 * used yet (no PV EOI: HV_X64_APIC_ACCESS_RECOMMENDED is not offered,
 * no enlightened VMCS), but a guest that sets it up, as Linux does on
 * every CPU, finds it works.
 */
static enum hv_msr_result hv_write_vp_assist(struct hv_vp *vp, u64 value)
{
	u32 zero = 0;

	if (value & (PAGE_SIZE - 2))
		return HV_MSR_GP;
	if ((value & HV_X64_MSR_VP_ASSIST_PAGE_ENABLE) &&
	    hv_gpa_write(vp->partition, value & PAGE_MASK, &zero,
			 sizeof(zero)))
		return HV_MSR_GP;
	vp->vp_assist = value;
	return HV_MSR_DONE;
}

enum hv_msr_result hv_synthetic_msr_write(struct hv_vp *vp, u32 msr,
					  u64 value, struct hv_message *msg)
{
	struct hv_partition_hv *hv = &vp->partition->hv;

	if (!hv_msr_allowed(vp, msr))
		return HV_MSR_GP;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
		return hv_write_guest_os_id(hv, value);
	case HV_X64_MSR_HYPERCALL:
		return hv_write_hypercall(vp, value);
	case HV_X64_MSR_REFERENCE_TSC:
		return hv_write_reference_tsc(vp, value);
	case HV_X64_MSR_CRASH_P0 ... HV_X64_MSR_CRASH_P4:
		spin_lock(&hv->lock);
		hv->crash[msr - HV_X64_MSR_CRASH_P0] = value;
		spin_unlock(&hv->lock);
		return HV_MSR_DONE;
	case HV_X64_MSR_CRASH_CTL:
		return hv_write_crash_ctl(vp, value, msg);
	case HV_X64_MSR_RESET:
		return hv_write_reset(vp, value, msg);
	case HV_X64_MSR_EOI:
	case HV_X64_MSR_ICR:
	case HV_X64_MSR_TPR:
		return hv_lapic_hv_msr_write(vp, msr, value);
	case HV_X64_MSR_VP_ASSIST_PAGE:
		return hv_write_vp_assist(vp, value);
	default:	/* read-only: VP index, runtime, counter, frequencies */
		return HV_MSR_GP;
	}
}

/* Is the hypercall interface on (guest OS id set, page enabled)? */
bool hv_hypercall_enabled(struct hv_vp *vp)
{
	struct hv_partition_hv *hv = &vp->partition->hv;

	return READ_ONCE(hv->guest_os_id) &&
	       (READ_ONCE(hv->hypercall) & HV_HYPERCALL_ENABLE);
}
