// SPDX-License-Identifier: GPL-2.0
/*
 * Root calls that move memory between the root and a deposit pool.
 * Pages travel as page frame numbers, as in the TLFS; each must be a
 * present, ordinary RAM page the root owns.
 */
#include <linux/mm.h>

#include "hvcore.h"

/* Batch limit for one call, as the TLFS caps a rep list at one page. */
#define HV_DEPOSIT_BATCH	(PAGE_SIZE / sizeof(u64))

hv_status_t hv_call_deposit_memory(u64 partition_id, const u64 *pfns,
				   u32 count)
{
	void *pages[64];
	struct hv_partition *held;
	struct hv_pool *pool;
	u32 done, n, i;

	if (!count || count > HV_DEPOSIT_BATCH)
		return HV_STATUS_INVALID_PARAMETER;
	for (i = 0; i < count; i++)
		if (!pfn_valid(pfns[i]))
			return HV_STATUS_INVALID_PARAMETER;

	pool = hv_pool_get(partition_id, &held);
	if (!pool)
		return HV_STATUS_INVALID_PARTITION_ID;
	for (done = 0; done < count; done += n) {
		n = min_t(u32, count - done, ARRAY_SIZE(pages));
		for (i = 0; i < n; i++)
			pages[i] = pfn_to_kaddr(pfns[done + i]);
		hv_pool_deposit(pool, pages, n);
	}
	if (held)
		hv_partition_put(held);
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_call_withdraw_memory(u64 partition_id, u64 *pfns, u32 count,
				    u32 *withdrawn)
{
	void *pages[64];
	struct hv_partition *held;
	struct hv_pool *pool;
	u32 done = 0, n, i;

	if (!count || count > HV_DEPOSIT_BATCH)
		return HV_STATUS_INVALID_PARAMETER;
	pool = hv_pool_get(partition_id, &held);
	if (!pool)
		return HV_STATUS_INVALID_PARTITION_ID;
	do {
		n = hv_pool_withdraw(pool, pages,
				     min_t(u32, count - done, ARRAY_SIZE(pages)));
		for (i = 0; i < n; i++)
			pfns[done + i] = PHYS_PFN(__pa(pages[i]));
		done += n;
	} while (n == ARRAY_SIZE(pages) && done < count);
	if (held)
		hv_partition_put(held);
	*withdrawn = done;
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_call_get_memory_balance(u64 partition_id, u64 *deposited,
				       u64 *available)
{
	struct hv_partition *held;
	struct hv_pool *pool;

	pool = hv_pool_get(partition_id, &held);
	if (!pool)
		return HV_STATUS_INVALID_PARTITION_ID;
	hv_pool_balance(pool, deposited, available);
	if (held)
		hv_partition_put(held);
	return HV_STATUS_SUCCESS;
}
