/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The deposit pool (DESIGN.md rule 3): pages the root handed to the
 * hypervisor for one partition (or for the hypervisor itself, the root
 * pool). hvcore takes every page of metadata it needs from a pool and
 * fails with HV_STATUS_INSUFFICIENT_MEMORY when the pool is empty.
 *
 * Free pages are kept on a singly linked list threaded through the pages
 * themselves, so the pool costs no memory of its own. This file builds as
 * userspace C too (tests/unit/), with the shim in tests/unit/kshim.h.
 *
 * Locking: @lock protects every field; it is a leaf spinlock, taken with
 * no other hvcore lock required and never held across an allocation.
 */
#ifndef VID_HV_POOL_H
#define VID_HV_POOL_H

#ifdef __KERNEL__
#include <linux/spinlock.h>
#include <linux/types.h>
#else
#include "kshim.h"
#endif

struct hv_pool_page {
	struct hv_pool_page *next;
};

/**
 * struct hv_pool - a partition's (or the root's) deposited pages
 * @lock: protects the fields below.
 * @free: unused pages.
 * @available: number of pages on @free.
 * @deposited: pages deposited and not withdrawn: unused plus in use.
 */
struct hv_pool {
	/* protects the fields below */
	spinlock_t lock;
	struct hv_pool_page *free;
	u64 available;
	u64 deposited;
};

void hv_pool_init(struct hv_pool *pool);
/* Add @count page-sized, page-aligned buffers to the pool. */
void hv_pool_deposit(struct hv_pool *pool, void *const *pages, u32 count);
/* Remove at most @count unused pages; returns how many went to @pages. */
u32 hv_pool_withdraw(struct hv_pool *pool, void **pages, u32 count);
/* Take one zeroed page for hypervisor use, or NULL when the pool is dry. */
void *hv_pool_alloc(struct hv_pool *pool);
/* Give a page taken with hv_pool_alloc() back to the pool. */
void hv_pool_free(struct hv_pool *pool, void *page);
/*
 * Move everything @src holds (unused pages; it must have none in use) to
 * @dst, counting the pages as deposited there. Used at partition delete.
 */
void hv_pool_move_all(struct hv_pool *dst, struct hv_pool *src);
/* Hand one in-use page of @src to @dst as an unused, deposited page. */
void hv_pool_give(struct hv_pool *dst, struct hv_pool *src, void *page);
void hv_pool_balance(struct hv_pool *pool, u64 *deposited, u64 *available);

#endif /* VID_HV_POOL_H */
