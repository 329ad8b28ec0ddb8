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
#include <linux/sizes.h>
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
 * Can frames @i.. of @r be one 2 MiB page: the GPA and the host frame
 * 2 MiB aligned, the host frames contiguous (a huge page's, in order)?
 */
static bool vid_region_large(const struct vid_region *r, u64 i)
{
	struct page *head;
	u32 k;

	if (r->npages - i < HV_MAP_GPA_LARGE_FRAMES ||
	    ((r->gpa >> PAGE_SHIFT) + i) % HV_MAP_GPA_LARGE_FRAMES)
		return false;
	head = r->pages[i];
	if (page_to_pfn(head) % HV_MAP_GPA_LARGE_FRAMES)
		return false;
	for (k = 1; k < HV_MAP_GPA_LARGE_FRAMES; k++)
		if (r->pages[i + k] != nth_page(head, k))
			return false;
	return true;
}

/*
 * Map @r in calls of at most HV_MAP_GPA_BATCH frames: runs of 2 MiB
 * pages (THP, hugetlbfs) as large pages, one frame each
 * (HV_MAP_GPA_LARGE_PAGE), so the hypervisor maps each with one large
 * SLAT entry without looking at its 512 frames; the rest frame by frame.
 */
static int vid_region_hv_map(struct vid_partition *vp, struct vid_region *r,
			     u32 rights)
{
	u64 *pfns, gfn = r->gpa >> PAGE_SHIFT;
	unsigned int tries;
	hv_status_t status;
	u32 n, step, flags;
	int err = 0;
	u64 done;

	pfns = kmalloc_array(HV_MAP_GPA_BATCH, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;
	for (done = 0; done < r->npages; done += (u64)n * step) {
		n = 0;
		if (vid_region_large(r, done)) {
			flags = rights | HV_MAP_GPA_LARGE_PAGE;
			step = HV_MAP_GPA_LARGE_FRAMES;
			do {
				pfns[n] = page_to_pfn(r->pages[done + n * step]);
			} while (++n < HV_MAP_GPA_BATCH &&
				 vid_region_large(r, done + (u64)n * step));
		} else {
			flags = rights;
			step = 1;
			do {
				pfns[n] = page_to_pfn(r->pages[done + n]);
			} while (++n < HV_MAP_GPA_BATCH && done + n < r->npages &&
				 !vid_region_large(r, done + n));
		}
		tries = 0;
		do {
			status = hv_call_map_gpa_pages(vp->id, gfn + done,
						       pfns, n, flags);
		} while (vid_deposit_retry(vp->id, READ_ONCE(vp->auto_deposit),
					   status, &tries, &err));
		if (err) {
			vid_region_hv_unmap(vp, r->gpa, done + (u64)n * step);
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

/* Pages one pin call takes at most (1 GiB), so huge maps reschedule. */
#define VID_PIN_CHUNK	(SZ_1G >> PAGE_SHIFT)

/*
 * Pin @npages pages of the VMM's memory from @addr into @pages.
 *
 * pin_user_pages_fast() over the whole range would fault missing pages
 * in through GUP's slow path, which before Linux 6.3 walks even a
 * transparent huge page 4 KiB at a time: 65536 page-table walks for
 * 256 MiB of fresh THP memory, a third of the map time (measured under
 * TCG). Instead, pin what is present without faulting (FOLL_NOFAULT: the
 * lockless walk takes a huge page's 512 frames at once), then pin just
 * the first missing page, whose fault maps a whole huge page where the
 * VMA allows one, and go on. When that fault brings in a small page,
 * the rest of its 2 MiB is pinned (and faulted in) with one call, as
 * the slow path would. The faults still happen under FOLL_LONGTERM's
 * allocation rules (no movable zone, no CMA).
 */
static long vid_pin(struct page **pages, unsigned long addr,
		    unsigned long npages, unsigned int gup)
{
	unsigned long done = 0, next, n;
	long got;

	while (done < npages) {
		cond_resched();
		next = addr + (done << PAGE_SHIFT);
		n = min(npages - done, VID_PIN_CHUNK);
		got = pin_user_pages_fast(next, n, gup | FOLL_NOFAULT,
					  pages + done);
		if (got > 0) {
			done += got;
			continue;
		}
		if (got < 0 && got != -EFAULT)
			goto fail;
		got = pin_user_pages_fast(next, 1, gup, pages + done);
		if (got != 1)
			goto fail;
		done++;
		if (PageCompound(pages[done - 1]))
			continue;
		next += PAGE_SIZE;
		n = min(npages - done, (ALIGN(next, PMD_SIZE) - next) >> PAGE_SHIFT);
		if (!n)
			continue;
		got = pin_user_pages_fast(next, n, gup, pages + done);
		if (got <= 0)
			goto fail;
		done += got;
	}
	return done;

fail:
	if (done)
		unpin_user_pages(pages, done);
	return got < 0 && got != -EFAULT ? got : -EFAULT;
}

static int vid_region_pin(struct vid_region *r, unsigned long addr)
{
	unsigned int gup = FOLL_LONGTERM | (r->writable ? FOLL_WRITE : 0);
	long pinned;
	int err;

	err = account_locked_vm(current->mm, r->npages, true);
	if (err)
		return err;
	pinned = vid_pin(r->pages, addr, r->npages, gup);
	if (pinned < 0) {
		account_locked_vm(current->mm, r->npages, false);
		return pinned;
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

/* The region holding guest frame @gfn, under gpa_lock; NULL if none. */
static struct vid_region *vid_region_find(struct vid_partition *vp, u64 gfn)
{
	struct vid_region *r;

	list_for_each_entry(r, &vp->regions, node)
		if (gfn >= r->gpa >> PAGE_SHIFT &&
		    gfn - (r->gpa >> PAGE_SHIFT) < r->npages)
			return r;
	return NULL;
}

/**
 * vid_gpa_is_ram() - may a root device use guest frame @gfn?
 * @vp: the partition.
 * @gfn: guest frame number.
 *
 * Return: whether @gfn is mapped RAM the guest can write (VMBus GPADLs
 * and rings must be; MMIO and ROM ranges are not).
 */
bool vid_gpa_is_ram(struct vid_partition *vp, u64 gfn)
{
	struct vid_region *r;
	bool ok;

	mutex_lock(&vp->gpa_lock);
	r = vid_region_find(vp, gfn);
	ok = r && r->writable;
	mutex_unlock(&vp->gpa_lock);
	return ok;
}

/**
 * vid_gpa_get_pages() - take references to the pages behind guest frames
 * @vp: the partition.
 * @gfns: @n guest frame numbers.
 * @n: how many.
 * @pages: where the pages go; each one a reference (put_page()).
 *
 * The references keep the pages alive even if the VMM unmaps the range
 * meanwhile (the device then works on memory the guest no longer sees).
 *
 * Return: 0, or -EFAULT (and no references) if a frame is not RAM the
 * guest can write.
 */
int vid_gpa_get_pages(struct vid_partition *vp, const u64 *gfns, u32 n,
		      struct page **pages)
{
	struct vid_region *r;
	u32 i;

	mutex_lock(&vp->gpa_lock);
	for (i = 0; i < n; i++) {
		r = vid_region_find(vp, gfns[i]);
		if (!r || !r->writable)
			break;
		pages[i] = r->pages[gfns[i] - (r->gpa >> PAGE_SHIFT)];
		get_page(pages[i]);
	}
	mutex_unlock(&vp->gpa_lock);
	if (i == n)
		return 0;
	while (i--)
		put_page(pages[i]);
	return -EFAULT;
}
