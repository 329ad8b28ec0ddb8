// SPDX-License-Identifier: GPL-2.0
/*
 * The GPA map from the VID's side: guest RAM comes from the VMM's own
 * memory, pinned (FOLL_LONGTERM) for as long as it is mapped and charged
 * to the VMM's locked memory; the hypervisor gets the frame numbers
 * through hv_call_map_gpa_pages(), depositing and retrying when its SLAT
 * tables need pages. The region list keeps what must be unpinned and
 * rejects overlaps (a list: maps are few and large; an interval tree
 * when that changes).
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vid.h"

/**
 * struct vid_region - one VID_PARTITION_MAP_GPA range
 * @node: on vid_partition.regions.
 * @gpa: first guest physical address.
 * @npages: size in pages.
 * @pages: the pinned VMM pages backing it.
 * @mm: the mm whose locked_vm the pages are charged to (grabbed).
 * @writable: pinned for writing (dirtied at unpin).
 */
struct vid_region {
	struct list_head node;
	u64 gpa;
	u64 npages;
	struct page **pages;
	struct mm_struct *mm;
	bool writable;
};

static u32 vid_map_rights(u32 flags)
{
	u32 rights = HV_MAP_GPA_READABLE;

	if (flags & VID_MAP_WRITE)
		rights |= HV_MAP_GPA_WRITABLE;
	if (flags & VID_MAP_EXEC)
		rights |= HV_MAP_GPA_EXECUTABLE;
	return rights;
}

static void vid_region_hv_unmap(struct vid_partition *vp, u64 gpa, u64 npages)
{
	u64 done;
	u32 n;

	for (done = 0; done < npages; done += n) {
		n = min_t(u64, npages - done, HV_MAP_GPA_BATCH);
		hv_call_unmap_gpa_pages(vp->id, (gpa >> PAGE_SHIFT) + done, n);
	}
}

/*
 * Batches of HV_MAP_GPA_BATCH (512) frames: a 2 MiB aligned range of a
 * 2 MiB aligned region arrives whole, so the hypervisor can map it with
 * one large SLAT entry.
 */
static int vid_region_hv_map(struct vid_partition *vp, struct vid_region *r,
			     u32 rights)
{
	u64 *pfns, gfn = r->gpa >> PAGE_SHIFT;
	unsigned int tries;
	hv_status_t status;
	int err = 0;
	u64 done;
	u32 n, i;

	pfns = kmalloc_array(HV_MAP_GPA_BATCH, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;
	for (done = 0; done < r->npages; done += n) {
		n = min_t(u64, r->npages - done, HV_MAP_GPA_BATCH);
		for (i = 0; i < n; i++)
			pfns[i] = page_to_pfn(r->pages[done + i]);
		tries = 0;
		do {
			status = hv_call_map_gpa_pages(vp->id, gfn + done,
						       pfns, n, rights);
		} while (vid_deposit_retry(vp->id, READ_ONCE(vp->auto_deposit),
					   status, &tries, &err));
		if (err) {
			vid_region_hv_unmap(vp, r->gpa, done + n);
			break;
		}
		cond_resched();
	}
	kfree(pfns);
	return err;
}

static void vid_region_free(struct vid_region *r)
{
	if (r->mm) {
		unpin_user_pages_dirty_lock(r->pages, r->npages, r->writable);
		account_locked_vm(r->mm, r->npages, false);
		mmdrop(r->mm);
		vid_stats_pinned(-(long)r->npages);
	}
	vid_kvfree(r->pages, r->npages * sizeof(*r->pages));
	vid_kfree(r, sizeof(*r));
}

static int vid_region_pin(struct vid_region *r, unsigned long addr)
{
	unsigned int gup = FOLL_LONGTERM | (r->writable ? FOLL_WRITE : 0);
	long pinned;
	int err;

	err = account_locked_vm(current->mm, r->npages, true);
	if (err)
		return err;
	pinned = pin_user_pages_fast(addr, r->npages, gup, r->pages);
	if (pinned != r->npages) {
		if (pinned > 0)
			unpin_user_pages(r->pages, pinned);
		account_locked_vm(current->mm, r->npages, false);
		return pinned < 0 && pinned != -EFAULT ? pinned : -EFAULT;
	}
	mmgrab(current->mm);
	r->mm = current->mm;
	vid_stats_pinned(r->npages);
	return 0;
}

static bool vid_region_overlaps(struct vid_partition *vp, u64 gpa, u64 size)
{
	struct vid_region *r;

	list_for_each_entry(r, &vp->regions, node)
		if (gpa < r->gpa + (r->npages << PAGE_SHIFT) &&
		    r->gpa < gpa + size)
			return true;
	return false;
}

int vid_gpa_map(struct vid_partition *vp, void __user *uarg)
{
	struct vid_gpa_map m;
	struct vid_region *r;
	int err;

	if (copy_from_user(&m, uarg, sizeof(m)))
		return -EFAULT;
	if (m.reserved || (m.flags & ~VID_MAP_FLAGS_VALID) ||
	    !(m.flags & VID_MAP_READ))
		return -EINVAL;
	if (!m.size || !PAGE_ALIGNED(m.gpa) || !PAGE_ALIGNED(m.size) ||
	    !PAGE_ALIGNED(m.userspace_addr))
		return -EINVAL;
	if (m.gpa >= VID_GPA_LIMIT || m.size > VID_GPA_LIMIT - m.gpa)
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(m.userspace_addr), m.size))
		return -EFAULT;

	r = vid_kzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->gpa = m.gpa;
	r->npages = m.size >> PAGE_SHIFT;
	r->writable = m.flags & VID_MAP_WRITE;
	r->pages = vid_kvzalloc(r->npages * sizeof(*r->pages));
	if (!r->pages) {
		vid_kfree(r, sizeof(*r));
		return -ENOMEM;
	}

	mutex_lock(&vp->gpa_lock);
	err = -EEXIST;
	if (vid_region_overlaps(vp, m.gpa, m.size))
		goto err;
	err = vid_region_pin(r, m.userspace_addr);
	if (err)
		goto err;
	err = vid_region_hv_map(vp, r, vid_map_rights(m.flags));
	if (err)
		goto err;
	list_add(&r->node, &vp->regions);
	mutex_unlock(&vp->gpa_lock);
	return 0;

err:
	mutex_unlock(&vp->gpa_lock);
	vid_region_free(r);
	return err;
}

int vid_gpa_unmap(struct vid_partition *vp, void __user *uarg)
{
	struct vid_gpa_unmap u;
	struct vid_region *r, *found = NULL;

	if (copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if (u.flags || u.reserved)
		return -EINVAL;

	mutex_lock(&vp->gpa_lock);
	list_for_each_entry(r, &vp->regions, node) {
		if (r->gpa == u.gpa && (r->npages << PAGE_SHIFT) == u.size) {
			found = r;
			break;
		}
	}
	if (found) {
		/* Pages are unpinned only after the guest lost access. */
		vid_region_hv_unmap(vp, found->gpa, found->npages);
		list_del(&found->node);
	}
	mutex_unlock(&vp->gpa_lock);
	if (!found)
		return -ENOENT;
	vid_region_free(found);
	return 0;
}

/* Partition teardown, after the hypervisor deleted it: unpin everything. */
void vid_gpa_release(struct vid_partition *vp)
{
	struct vid_region *r, *tmp;

	list_for_each_entry_safe(r, tmp, &vp->regions, node) {
		list_del(&r->node);
		vid_region_free(r);
	}
}
