// SPDX-License-Identifier: GPL-2.0
/*
 * Deposit pool: a lock-protected free list of deposited pages.
 */
#ifdef __KERNEL__
#include <linux/string.h>
#include <linux/mm.h>
#endif

#include "pool.h"

void hv_pool_init(struct hv_pool *pool)
{
	spin_lock_init(&pool->lock);
	pool->free = NULL;
	pool->available = 0;
	pool->deposited = 0;
}

static void hv_pool_push(struct hv_pool *pool, void *page)
{
	struct hv_pool_page *p = page;

	p->next = pool->free;
	pool->free = p;
	pool->available++;
}

static void *hv_pool_pop(struct hv_pool *pool)
{
	struct hv_pool_page *p = pool->free;

	if (p) {
		pool->free = p->next;
		pool->available--;
	}
	return p;
}

void hv_pool_deposit(struct hv_pool *pool, void *const *pages, u32 count)
{
	u32 i;

	spin_lock(&pool->lock);
	for (i = 0; i < count; i++)
		hv_pool_push(pool, pages[i]);
	pool->deposited += count;
	spin_unlock(&pool->lock);
}

u32 hv_pool_withdraw(struct hv_pool *pool, void **pages, u32 count)
{
	u32 n = 0;

	spin_lock(&pool->lock);
	while (n < count && pool->free)
		pages[n++] = hv_pool_pop(pool);
	pool->deposited -= n;
	spin_unlock(&pool->lock);
	return n;
}

void *hv_pool_alloc(struct hv_pool *pool)
{
	void *page;

	spin_lock(&pool->lock);
	page = hv_pool_pop(pool);
	spin_unlock(&pool->lock);
	if (page)
		memset(page, 0, PAGE_SIZE);
	return page;
}

void hv_pool_free(struct hv_pool *pool, void *page)
{
	spin_lock(&pool->lock);
	hv_pool_push(pool, page);
	spin_unlock(&pool->lock);
}

void hv_pool_move_all(struct hv_pool *dst, struct hv_pool *src)
{
	struct hv_pool_page *list, *next;
	u64 n;

	spin_lock(&src->lock);
	list = src->free;
	n = src->available;
	src->free = NULL;
	src->available = 0;
	src->deposited -= n;
	spin_unlock(&src->lock);

	spin_lock(&dst->lock);
	for (; list; list = next) {
		next = list->next;
		hv_pool_push(dst, list);
	}
	dst->deposited += n;
	spin_unlock(&dst->lock);
}

void hv_pool_give(struct hv_pool *dst, struct hv_pool *src, void *page)
{
	spin_lock(&src->lock);
	src->deposited--;
	spin_unlock(&src->lock);

	spin_lock(&dst->lock);
	hv_pool_push(dst, page);
	dst->deposited++;
	spin_unlock(&dst->lock);
}

void hv_pool_balance(struct hv_pool *pool, u64 *deposited, u64 *available)
{
	spin_lock(&pool->lock);
	*deposited = pool->deposited;
	*available = pool->available;
	spin_unlock(&pool->lock);
}
