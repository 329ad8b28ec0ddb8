// SPDX-License-Identifier: GPL-2.0
/*
 * Guest physical memory as the hypervisor itself reads and writes it:
 * hypercall input and output pages, the hypercall page, SynIC message
 * and event pages, the reference TSC page.
 *
 * Only RAM the root mapped (pinned host pages, through the SLAT) is
 * reachable, and writes only where the guest itself may write. The
 * page stays valid while the caller holds off unmapping: it runs on a
 * dispatched VP of the partition (unmap refuses while VPs run) or holds
 * the partition lock.
 */
#include <linux/mm.h>
#include <linux/string.h>

#include "arch.h"
#include "hvcore.h"

void *hv_gpa_page(struct hv_partition *p, u64 gfn, bool write)
{
	bool writable;
	u64 pfn;

	if (!hv_arch->slat_lookup(p, gfn, &pfn, &writable) ||
	    !pfn_valid(pfn) || (write && !writable))
		return NULL;
	return page_address(pfn_to_page(pfn));
}

static hv_status_t hv_gpa_copy(struct hv_partition *p, u64 gpa, void *buf,
			       u32 len, bool write)
{
	while (len) {
		u32 off = offset_in_page(gpa);
		u32 n = min_t(u32, len, PAGE_SIZE - off);
		u8 *page = hv_gpa_page(p, gpa >> PAGE_SHIFT, write);

		if (!page)
			return HV_STATUS_INVALID_PARAMETER;
		if (write)
			memcpy(page + off, buf, n);
		else
			memcpy(buf, page + off, n);
		gpa += n;
		buf += n;
		len -= n;
	}
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_gpa_read(struct hv_partition *p, u64 gpa, void *buf, u32 len)
{
	return hv_gpa_copy(p, gpa, buf, len, false);
}

hv_status_t hv_gpa_write(struct hv_partition *p, u64 gpa, const void *buf,
			 u32 len)
{
	return hv_gpa_copy(p, gpa, (void *)buf, len, true);
}
