// SPDX-License-Identifier: GPL-2.0
/*
 * The guest physical address map: root calls over the backend's SLAT.
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>

#include "arch.h"
#include "hvcore.h"

#define HV_GFN_LIMIT	(1ULL << (HV_GPA_BITS - PAGE_SHIFT))

static bool hv_gfn_range_valid(u64 gfn, u32 count)
{
	return count && count <= HV_MAP_GPA_BATCH && gfn < HV_GFN_LIMIT &&
	       count <= HV_GFN_LIMIT - gfn;
}

/* 2 MiB pages: aligned, in the GPA space, on host memory with pages. */
static bool hv_large_range_valid(u64 gfn, const u64 *pfns, u32 count)
{
	const u64 frames = HV_MAP_GPA_LARGE_FRAMES;
	u32 i;

	if (!count || count > HV_MAP_GPA_BATCH || gfn % frames ||
	    gfn >= HV_GFN_LIMIT || count * frames > HV_GFN_LIMIT - gfn)
		return false;
	for (i = 0; i < count; i++)
		if (pfns[i] % frames || !pfn_valid(pfns[i]) ||
		    !pfn_valid(pfns[i] + frames - 1))
			return false;
	return true;
}

hv_status_t hv_call_map_gpa_pages(u64 partition_id, u64 gpa_pfn,
				  const u64 *pfns, u32 count, u32 flags)
{
	struct hv_partition *p;
	hv_status_t status;
	u32 i;

	if ((flags & ~(HV_MAP_GPA_FLAGS_VALID | HV_MAP_GPA_LARGE_PAGE)) ||
	    !(flags & HV_MAP_GPA_READABLE))
		return HV_STATUS_INVALID_PARAMETER;
	if (flags & HV_MAP_GPA_LARGE_PAGE) {
		if (!hv_large_range_valid(gpa_pfn, pfns, count))
			return HV_STATUS_INVALID_PARAMETER;
	} else {
		if (!hv_gfn_range_valid(gpa_pfn, count))
			return HV_STATUS_INVALID_PARAMETER;
		for (i = 0; i < count; i++)
			if (!pfn_valid(pfns[i]))
				return HV_STATUS_INVALID_PARAMETER;
	}

	p = hv_partition_get_locked(partition_id);
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	status = hv_arch->slat_map(p, gpa_pfn, pfns, count, flags);
	hv_partition_unlock_put(p);
	return status;
}

hv_status_t hv_call_unmap_gpa_pages(u64 partition_id, u64 gpa_pfn, u32 count)
{
	hv_status_t status = HV_STATUS_SUCCESS;
	struct hv_partition *p;

	if (!hv_gfn_range_valid(gpa_pfn, count))
		return HV_STATUS_INVALID_PARAMETER;

	p = hv_partition_get_locked(partition_id);
	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	hv_arch->slat_unmap(p, gpa_pfn, count);
	WRITE_ONCE(p->slat_generation, p->slat_generation + 1);
	/*
	 * A dispatched VP may still have the old translation in its TLB,
	 * and hypervisor code running for it may hold a pointer into the
	 * page (hv_gpa_page()). Both happen only inside the dispatch loop,
	 * which runs with preemption disabled: an RCU read-side section.
	 * Once every CPU has left it, the page is unused, and a VP entering
	 * the guest again flushes for the new SLAT generation.
	 */
	smp_mb();	/* pairs with hv_call_dispatch_vp()'s count */
	if (atomic_read(&p->running_vps))
		synchronize_rcu();
	hv_partition_unlock_put(p);
	return status;
}
