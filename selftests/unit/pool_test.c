// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the deposit pool (hvcore/pool.c), built as userspace C.
 */
#include <stdlib.h>

#include "kselftest_harness.h"
#include "../../hvcore/pool.h"

static void *page_new(void)
{
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	memset(p, 0xa5, PAGE_SIZE);
	return p;
}

static void balance_is(struct __test_metadata *_metadata,
		       struct hv_pool *pool, u64 dep, u64 avail)
{
	u64 d, a;

	hv_pool_balance(pool, &d, &a);
	ASSERT_EQ(dep, d);
	ASSERT_EQ(avail, a);
}

TEST(empty_pool_is_dry)
{
	struct hv_pool pool;
	void *out[4];

	hv_pool_init(&pool);
	EXPECT_EQ(NULL, hv_pool_alloc(&pool));
	EXPECT_EQ(0, hv_pool_withdraw(&pool, out, 4));
	balance_is(_metadata, &pool, 0, 0);
}

TEST(deposit_alloc_free_withdraw)
{
	void *pages[8], *out[8], *a, *b;
	struct hv_pool pool;
	unsigned int i;

	hv_pool_init(&pool);
	for (i = 0; i < 8; i++)
		pages[i] = page_new();
	hv_pool_deposit(&pool, pages, 8);
	balance_is(_metadata, &pool, 8, 8);

	a = hv_pool_alloc(&pool);
	b = hv_pool_alloc(&pool);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_NE(a, b);
	/* Pages handed out are zeroed, whatever the root left in them. */
	for (i = 0; i < PAGE_SIZE; i++)
		ASSERT_EQ(0, ((unsigned char *)a)[i]);
	balance_is(_metadata, &pool, 8, 6);

	/* Only unused pages can be withdrawn. */
	EXPECT_EQ(6, hv_pool_withdraw(&pool, out, 8));
	balance_is(_metadata, &pool, 2, 0);
	EXPECT_EQ(NULL, hv_pool_alloc(&pool));

	hv_pool_free(&pool, a);
	hv_pool_free(&pool, b);
	EXPECT_EQ(2, hv_pool_withdraw(&pool, out + 6, 8));
	balance_is(_metadata, &pool, 0, 0);
	for (i = 0; i < 8; i++)
		free(out[i]);
}

TEST(withdraw_respects_count)
{
	void *pages[5], *out[5];
	struct hv_pool pool;
	unsigned int i;

	hv_pool_init(&pool);
	for (i = 0; i < 5; i++)
		pages[i] = page_new();
	hv_pool_deposit(&pool, pages, 5);
	EXPECT_EQ(2, hv_pool_withdraw(&pool, out, 2));
	balance_is(_metadata, &pool, 3, 3);
	EXPECT_EQ(3, hv_pool_withdraw(&pool, out + 2, 5));
	for (i = 0; i < 5; i++)
		free(out[i]);
}

TEST(move_all_and_give)
{
	struct hv_pool root, child;
	void *pages[4], *out[4], *used;
	unsigned int i;

	hv_pool_init(&root);
	hv_pool_init(&child);
	for (i = 0; i < 4; i++)
		pages[i] = page_new();
	hv_pool_deposit(&child, pages, 4);
	used = hv_pool_alloc(&child);
	ASSERT_NE(NULL, used);

	hv_pool_give(&root, &child, used);
	balance_is(_metadata, &child, 3, 3);
	balance_is(_metadata, &root, 1, 1);

	hv_pool_move_all(&root, &child);
	balance_is(_metadata, &child, 0, 0);
	balance_is(_metadata, &root, 4, 4);
	EXPECT_EQ(4, hv_pool_withdraw(&root, out, 4));
	for (i = 0; i < 4; i++)
		free(out[i]);
}

TEST_HARNESS_MAIN
