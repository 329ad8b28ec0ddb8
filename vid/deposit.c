// SPDX-License-Identifier: GPL-2.0
/*
 * Memory deposits: the VID allocates pages from the kernel, hands them to
 * a deposit pool with hv_call_deposit_memory(), and takes unused ones
 * back with hv_call_withdraw_memory().
 *
 * Deposit-and-retry: when a hypervisor call the VID makes on its own
 * behalf (create, initialize) returns HV_STATUS_INSUFFICIENT_MEMORY, the
 * VID deposits into the pool that call draws from and retries: 1 page,
 * then 2, 4, 8, and 16 pages for every further retry, at most
 * VID_RETRY_MAX retries (about 4 MiB per call). Growing from one page
 * keeps the surplus small (a partition costs what it uses); what a call
 * did not use stays in the pool and is withdrawn when the partition is
 * deleted.
 */
#include <linux/mm.h>
#include <linux/sched/signal.h>

#include "vid.h"

#define VID_BATCH		64
#define VID_RETRY_CHUNK_MAX	16
#define VID_RETRY_MAX		64

int vid_deposit_pages(u64 partition_id, u64 count)
{
	u64 pfns[VID_BATCH];
	hv_status_t status;
	int err = 0;
	u32 n;

	while (count && !err) {
		for (n = 0; n < VID_BATCH && n < count; n++) {
			struct page *page = vid_page_alloc();

			if (!page) {
				err = -ENOMEM;
				break;
			}
			pfns[n] = page_to_pfn(page);
		}
		if (!n)
			break;
		status = hv_call_deposit_memory(partition_id, pfns, n);
		if (status) {
			while (n)
				vid_page_free(pfn_to_page(pfns[--n]));
			return vid_status_to_errno(status);
		}
		count -= n;
		if (count && fatal_signal_pending(current))
			err = -EINTR;
		cond_resched();
	}
	return err;
}

int vid_withdraw_pages(u64 partition_id, u64 max, u64 *withdrawn)
{
	u64 pfns[VID_BATCH];
	hv_status_t status;
	u32 n, i;

	*withdrawn = 0;
	while (*withdrawn < max) {
		status = hv_call_withdraw_memory(partition_id, pfns,
						 min_t(u64, VID_BATCH,
						       max - *withdrawn), &n);
		if (status)
			return vid_status_to_errno(status);
		for (i = 0; i < n; i++)
			vid_page_free(pfn_to_page(pfns[i]));
		*withdrawn += n;
		if (n < VID_BATCH)
			break;
		cond_resched();
	}
	return 0;
}

void vid_withdraw_all(u64 partition_id)
{
	u64 n;

	vid_withdraw_pages(partition_id, U64_MAX, &n);
}

/*
 * Call after a hypervisor call returned @status. Returns true when the
 * caller should retry (pages were deposited); otherwise *@err is the
 * call's result as an errno. Without @auto_deposit (the VMM manages the
 * pool, VID_PROP_AUTO_DEPOSIT = 0) a dry pool is the caller's -ENOMEM.
 */
bool vid_deposit_retry(u64 partition_id, bool auto_deposit,
		       hv_status_t status, unsigned int *tries, int *err)
{
	*err = vid_status_to_errno(status);
	if (status != HV_STATUS_INSUFFICIENT_MEMORY || !auto_deposit ||
	    *tries >= VID_RETRY_MAX)
		return false;
	*err = vid_deposit_pages(partition_id,
				 *tries < 4 ? 1U << *tries : VID_RETRY_CHUNK_MAX);
	if (*err)
		return false;
	++*tries;
	return true;
}
