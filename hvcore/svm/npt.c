// SPDX-License-Identifier: GPL-2.0
/*
 * Nested page tables: four levels of ordinary x86-64 page tables that
 * translate guest physical to host physical addresses. Every table page
 * comes from the partition's deposit pool. Guest accesses count as user
 * accesses, so every entry carries the U bit. A run of 512 guest frames
 * that is 2 MiB aligned on both sides and physically contiguous on the
 * host (THP, hugetlbfs) gets one 2 MiB leaf.
 *
 * Locking: the partition lock, held by every caller.
 */
#include <linux/mm.h>

#include "svm.h"

#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)
#define NPT_A		BIT_ULL(5)
#define NPT_D		BIT_ULL(6)
#define NPT_PS		BIT_ULL(7)	/* a 2 MiB leaf in a level-2 table */
#define NPT_NX		BIT_ULL(63)
#define NPT_ADDR	GENMASK_ULL(51, 12)
#define NPT_TABLE	(NPT_P | NPT_RW | NPT_US | NPT_A)
#define NPT_LEVELS	4
#define NPT_ENTRIES	512

static u64 *npt_next(u64 entry)
{
	return __va(entry & NPT_ADDR);
}

static unsigned int npt_index(u64 gfn, int level)
{
	return (gfn >> (9 * (level - 1))) & (NPT_ENTRIES - 1);
}

/* The root table, taken from the pool if missing (NULL if it is dry). */
void *svm_npt_root(struct hv_partition *p)
{
	if (!p->slat_root)
		p->slat_root = hv_pool_alloc(&p->pool);
	return p->slat_root;
}

/*
 * The entry that maps @gfn at @target level (1: 4 KiB, 2: 2 MiB), building
 * missing tables from the pool when @alloc; NULL when a table is missing
 * (or the pool ran dry), or when a 2 MiB leaf already covers @gfn (the
 * VID never maps over a mapping, so that is not expected).
 */
static u64 *npt_entry(struct hv_partition *p, u64 gfn, int target, bool alloc)
{
	u64 *table, *entry;
	int level;

	table = alloc ? svm_npt_root(p) : p->slat_root;
	if (!table)
		return NULL;
	for (level = NPT_LEVELS; level > target; level--) {
		entry = &table[npt_index(gfn, level)];
		if (!(*entry & NPT_P)) {
			void *next;

			if (!alloc)
				return NULL;
			next = hv_pool_alloc(&p->pool);
			if (!next)
				return NULL;
			WRITE_ONCE(*entry, __pa(next) | NPT_TABLE);
		} else if (*entry & NPT_PS) {
			return NULL;
		}
		table = npt_next(*entry);
	}
	return &table[npt_index(gfn, target)];
}

/*
 * The host frame behind @gfn, or false when nothing maps it. Read-only and
 * without the partition lock, for a VP's own exits: while a VP of @p runs
 * nothing unmaps (unmap refuses while VPs run), table pages are freed only
 * at teardown, and a concurrent map only fills entries in (WRITE_ONCE).
 */
bool svm_npt_lookup(struct hv_partition *p, u64 gfn, u64 *pfn,
		    bool *writable)
{
	u64 *table = READ_ONCE(p->slat_root);
	u64 entry;
	int level;

	if (!table || gfn >= BIT_ULL(HV_GPA_BITS - PAGE_SHIFT))
		return false;
	for (level = NPT_LEVELS; level > 0; level--) {
		entry = READ_ONCE(table[npt_index(gfn, level)]);
		if (!(entry & NPT_P))
			return false;
		if (level == 1 || (level == 2 && (entry & NPT_PS))) {
			*pfn = PHYS_PFN(entry & NPT_ADDR) +
			       (level == 2 ? gfn % NPT_ENTRIES : 0);
			if (writable)
				*writable = entry & NPT_RW;
			return true;
		}
		if (entry & NPT_PS)
			return false;
		table = npt_next(entry);
	}
	return false;
}

/* Can @gfn.. be one 2 MiB leaf: aligned, and host frames contiguous? */
static bool npt_huge_ok(u64 gfn, const u64 *pfns, u32 count)
{
	u32 i;

	if (count < NPT_ENTRIES || gfn % NPT_ENTRIES || pfns[0] % NPT_ENTRIES)
		return false;
	for (i = 1; i < NPT_ENTRIES; i++)
		if (pfns[i] != pfns[0] + i)
			return false;
	return true;
}

/*
 * Map the 2 MiB at @gfn onto the host frames from @pfn (both aligned):
 * one 2 MiB leaf, unless a table of 4 KiB entries is already there
 * (left by an earlier 4 KiB mapping): then that table is filled.
 */
static hv_status_t npt_map_large(struct hv_partition *p, u64 gfn, u64 pfn,
				 u64 rights)
{
	u64 *entry = npt_entry(p, gfn, 2, true), *table;
	u32 i;

	if (!entry)
		return HV_STATUS_INSUFFICIENT_MEMORY;
	if (!(*entry & NPT_P) || (*entry & NPT_PS)) {
		WRITE_ONCE(*entry, PFN_PHYS(pfn) | rights | NPT_PS);
		return HV_STATUS_SUCCESS;
	}
	table = npt_next(*entry);
	for (i = 0; i < NPT_ENTRIES; i++)
		WRITE_ONCE(table[i], PFN_PHYS(pfn + i) | rights);
	return HV_STATUS_SUCCESS;
}

hv_status_t svm_slat_map(struct hv_partition *p, u64 gfn, const u64 *pfns,
			 u32 count, u32 flags)
{
	u64 rights = NPT_P | NPT_US | NPT_A;
	hv_status_t status;
	u64 *entry;
	u32 i = 0;

	if (flags & HV_MAP_GPA_WRITABLE)
		rights |= NPT_RW | NPT_D;
	if (!(flags & HV_MAP_GPA_EXECUTABLE))
		rights |= NPT_NX;
	if (flags & HV_MAP_GPA_LARGE_PAGE) {
		for (i = 0; i < count; i++) {
			status = npt_map_large(p, gfn + (u64)i * NPT_ENTRIES,
					       pfns[i], rights);
			if (status)
				return status;
		}
		return HV_STATUS_SUCCESS;
	}
	while (i < count) {
		if (npt_huge_ok(gfn + i, pfns + i, count - i)) {
			status = npt_map_large(p, gfn + i, pfns[i], rights);
			if (status)
				return status;
			i += NPT_ENTRIES;
			continue;
		}
		entry = npt_entry(p, gfn + i, 1, true);
		if (!entry)
			return HV_STATUS_INSUFFICIENT_MEMORY;
		WRITE_ONCE(*entry, PFN_PHYS(pfns[i]) | rights);
		i++;
	}
	return HV_STATUS_SUCCESS;
}

/* A 2 MiB leaf goes as a whole: the VID unmaps whole mappings only. */
void svm_slat_unmap(struct hv_partition *p, u64 gfn, u32 count)
{
	u64 *entry;
	u32 i = 0;

	while (i < count) {
		entry = npt_entry(p, gfn + i, 2, false);
		if (entry && (*entry & NPT_PS)) {
			WRITE_ONCE(*entry, 0);
			i += NPT_ENTRIES - (gfn + i) % NPT_ENTRIES;
			continue;
		}
		entry = npt_entry(p, gfn + i, 1, false);
		if (entry)
			WRITE_ONCE(*entry, 0);
		i++;
	}
}

static void npt_free(struct hv_partition *p, u64 *table, int level)
{
	unsigned int i;

	if (level > 1)
		for (i = 0; i < NPT_ENTRIES; i++)
			if ((table[i] & NPT_P) && !(table[i] & NPT_PS))
				npt_free(p, npt_next(table[i]), level - 1);
	hv_pool_free(&p->pool, table);
}

void svm_slat_destroy(struct hv_partition *p)
{
	if (p->slat_root)
		npt_free(p, p->slat_root, NPT_LEVELS);
	p->slat_root = NULL;
}
