// SPDX-License-Identifier: GPL-2.0
/*
 * The Hyper-V identity (CPUID 0x40000000..) and the partition-level
 * synthetic MSRs.
 */
#include <linux/ktime.h>
#include <linux/math64.h>

#include "hvcore.h"

#define HV_CPUID_VENDOR_AND_MAX		0x40000000
#define HV_CPUID_INTERFACE		0x40000001
#define HV_CPUID_INTERFACE_HV1		0x31237648	/* "Hv#1" */

void hv_partition_hv_init(struct hv_partition_hv *hv)
{
	spin_lock_init(&hv->lock);
	hv->time_ref_base = ktime_get_ns();
	/* What synic/ implements: the SynIC and synthetic timer MSRs. */
	hv->privileges = HV_MSR_SYNIC_AVAILABLE | HV_MSR_SYNTIMER_AVAILABLE;
}

bool hv_cpuid_hv_leaf(struct hv_vp *vp, u32 leaf, u32 *eax, u32 *ebx,
		      u32 *ecx, u32 *edx)
{
	if (leaf < 0x40000000 || leaf > 0x400000ff)
		return false;
	*eax = 0;
	*ebx = 0;
	*ecx = 0;
	*edx = 0;
	switch (leaf) {
	case HV_CPUID_VENDOR_AND_MAX:
		*eax = HV_CPUID_INTERFACE;
		*ebx = vp->partition->vendor_id[0];
		*ecx = vp->partition->vendor_id[1];
		*edx = vp->partition->vendor_id[2];
		break;
	case HV_CPUID_INTERFACE:
		*eax = HV_CPUID_INTERFACE_HV1;
		break;
	}
	return true;
}

enum hv_msr_result hv_synthetic_msr_read(struct hv_vp *vp, u32 msr,
					 u64 *value)
{
	return HV_MSR_ROOT;
}

enum hv_msr_result hv_synthetic_msr_write(struct hv_vp *vp, u32 msr,
					  u64 value, struct hv_message *msg)
{
	return HV_MSR_ROOT;
}

/*
 * Minimal reference counter for the synthetic timers: host monotonic
 * time since the partition was created, in 100 ns units.
 */
u64 hv_time_ref_count(struct hv_vp *vp)
{
	return div_u64(ktime_get_ns() - vp->partition->hv.time_ref_base, 100);
}
