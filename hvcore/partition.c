// SPDX-License-Identifier: GPL-2.0
/*
 * Partitions: create, initialize, delete, properties.
 *
 * The partition table maps ids to partitions. It is the hypervisor's own
 * bookkeeping (an xarray, sized by the number of live partitions); every
 * per-partition structure comes from a deposit pool.
 *
 * Lifetime: the table holds one reference; each call holds one for its
 * duration (hv_partition_get/put). Delete marks the partition deleted and
 * drops the table's reference; the last put tears it down.
 */
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "../synic/synic.h"
#include "arch.h"
#include "hvcore.h"

struct hv_pool hv_root_pool;

static DEFINE_XARRAY_ALLOC1(hv_partitions);
static u32 hv_partition_next;

static const u32 hv_default_vendor_id[3] = {
	0x7263694d,	/* "Micr" */
	0x666f736f,	/* "osof" */
	0x76482074,	/* "t Hv" */
};

/*
 * Look a partition up without a reference, under rcu_read_lock(): only
 * for callers that otherwise keep it from being deleted.
 */
struct hv_partition *hv_partition_rcu(u64 id)
{
	if (!id || id > U32_MAX)
		return NULL;
	return xa_load(&hv_partitions, id);
}

struct hv_partition *hv_partition_get(u64 id)
{
	struct hv_partition *p;

	if (!id || id > U32_MAX)
		return NULL;
	xa_lock(&hv_partitions);
	p = xa_load(&hv_partitions, id);
	if (p && !refcount_inc_not_zero(&p->refs))
		p = NULL;
	xa_unlock(&hv_partitions);
	return p;
}

/*
 * The first partition with an id of at least *@id, with a reference (for
 * walks: the caller moves *@id past it for the next call); NULL at the end.
 */
struct hv_partition *hv_partition_get_next(unsigned long *id)
{
	struct hv_partition *p;

	xa_lock(&hv_partitions);
	for (;;) {
		p = xa_find(&hv_partitions, id, U32_MAX, XA_PRESENT);
		if (!p || refcount_inc_not_zero(&p->refs))
			break;
		(*id)++;
	}
	xa_unlock(&hv_partitions);
	return p;
}

/*
 * Look a live (not deleted) partition up and lock it; release it with
 * hv_partition_unlock_put(). NULL if there is no such partition.
 */
struct hv_partition *hv_partition_get_locked(u64 id)
{
	struct hv_partition *p = hv_partition_get(id);

	if (!p)
		return NULL;
	mutex_lock(&p->lock);
	if (p->deleted) {
		mutex_unlock(&p->lock);
		hv_partition_put(p);
		return NULL;
	}
	return p;
}

void hv_partition_unlock_put(struct hv_partition *p)
{
	mutex_unlock(&p->lock);
	hv_partition_put(p);
}

static void hv_partition_destroy(struct hv_partition *p)
{
	unsigned int i;

	hv_vps_destroy(p);
	hv_ports_destroy(p);
	hv_arch->slat_destroy(p);
	for (i = 0; i < ARRAY_SIZE(p->vp_table); i++)
		if (p->vp_table[i])
			hv_pool_free(&p->pool, p->vp_table[i]);
	mutex_destroy(&p->lock);
	hv_pool_move_all(&hv_root_pool, &p->pool);
	hv_pool_free(&hv_root_pool, p);
	hv_virt_put();
}

void hv_partition_put(struct hv_partition *p)
{
	if (refcount_dec_and_test(&p->refs))
		hv_partition_destroy(p);
}

hv_status_t hv_call_create_partition(u64 flags, u64 *partition_id)
{
	struct hv_partition *p;
	hv_status_t status;
	u32 id;
	int r;

	BUILD_BUG_ON(sizeof(*p) > PAGE_SIZE);
	if (flags & ~HV_CREATE_PARTITION_FLAGS_VALID)
		return HV_STATUS_INVALID_PARAMETER;

	status = hv_virt_get();
	if (status)
		return status;
	p = hv_pool_alloc(&hv_root_pool);
	if (!p) {
		hv_virt_put();
		return HV_STATUS_INSUFFICIENT_MEMORY;
	}
	refcount_set(&p->refs, 1);
	mutex_init(&p->lock);
	p->state = HV_PARTITION_STATE_CREATED;
	p->max_vp_count = 1;
	memcpy(p->vendor_id, hv_default_vendor_id, sizeof(p->vendor_id));
	hv_partition_hv_init(&p->hv);
	hv_pool_init(&p->pool);

	r = xa_alloc_cyclic(&hv_partitions, &id, p, xa_limit_32b,
			    &hv_partition_next, GFP_KERNEL);
	if (r < 0) {
		hv_partition_destroy(p);
		return HV_STATUS_INSUFFICIENT_MEMORY;
	}
	p->id = id;
	*partition_id = id;
	return HV_STATUS_SUCCESS;
}

static hv_status_t hv_partition_build_vp_table(struct hv_partition *p)
{
	unsigned int i, pages;

	pages = DIV_ROUND_UP(p->max_vp_count, HV_VP_TABLE_ENTRIES);
	for (i = 0; i < pages; i++) {
		if (p->vp_table[i])
			continue;
		p->vp_table[i] = hv_pool_alloc(&p->pool);
		if (!p->vp_table[i])
			return HV_STATUS_INSUFFICIENT_MEMORY;
	}
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_call_initialize_partition(u64 partition_id)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	hv_status_t status;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (p->state != HV_PARTITION_STATE_CREATED) {
		status = HV_STATUS_INVALID_PARTITION_STATE;
	} else {
		/* Pages taken before a dry pool stay for the retry. */
		status = hv_partition_build_vp_table(p);
		if (!status)	/* lockless readers: the VP table first */
			smp_store_release(&p->state,
					  HV_PARTITION_STATE_INITIALIZED);
	}
	hv_partition_unlock_put(p);
	return status;
}

hv_status_t hv_call_delete_partition(u64 partition_id)
{
	struct hv_partition *p = hv_partition_get(partition_id);
	bool was_deleted;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	mutex_lock(&p->lock);
	was_deleted = p->deleted;
	p->deleted = true;
	mutex_unlock(&p->lock);
	if (!was_deleted) {
		xa_erase(&hv_partitions, p->id);
		hv_partition_put(p);	/* the table's reference */
	}
	hv_partition_put(p);
	return was_deleted ? HV_STATUS_INVALID_PARTITION_ID : HV_STATUS_SUCCESS;
}

static hv_status_t hv_partition_get_property(struct hv_partition *p,
					     u32 property, u64 *value)
{
	switch (property) {
	case HV_PARTITION_PROPERTY_MAX_VP_COUNT:
		*value = p->max_vp_count;
		break;
	case HV_PARTITION_PROPERTY_VENDOR_ID_EBX_ECX:
		*value = p->vendor_id[0] | (u64)p->vendor_id[1] << 32;
		break;
	case HV_PARTITION_PROPERTY_VENDOR_ID_EDX:
		*value = p->vendor_id[2];
		break;
	case HV_PARTITION_PROPERTY_STATE:
		*value = p->state;
		break;
	case HV_PARTITION_PROPERTY_HV_PRIVILEGES:
	case HV_PARTITION_PROPERTY_HV_FEATURES:
	case HV_PARTITION_PROPERTY_HV_RECOMMENDATIONS:
		return hv_partition_hv_get(&p->hv, property, value);
	default:
		return HV_STATUS_INVALID_PARAMETER;
	}
	return HV_STATUS_SUCCESS;
}

static hv_status_t hv_partition_set_property(struct hv_partition *p,
					     u32 property, u64 value)
{
	switch (property) {
	case HV_PARTITION_PROPERTY_MAX_VP_COUNT:
	case HV_PARTITION_PROPERTY_VENDOR_ID_EBX_ECX:
	case HV_PARTITION_PROPERTY_VENDOR_ID_EDX:
	case HV_PARTITION_PROPERTY_HV_PRIVILEGES:
	case HV_PARTITION_PROPERTY_HV_FEATURES:
	case HV_PARTITION_PROPERTY_HV_RECOMMENDATIONS:
		if (p->state != HV_PARTITION_STATE_CREATED)
			return HV_STATUS_INVALID_PARTITION_STATE;
		break;
	case HV_PARTITION_PROPERTY_STATE:
		return HV_STATUS_ACCESS_DENIED;
	default:
		return HV_STATUS_INVALID_PARAMETER;
	}

	switch (property) {
	case HV_PARTITION_PROPERTY_MAX_VP_COUNT:
		if (!value || value > HV_MAX_VPS_PER_PARTITION)
			return HV_STATUS_INVALID_PARAMETER;
		p->max_vp_count = value;
		break;
	case HV_PARTITION_PROPERTY_VENDOR_ID_EBX_ECX:
		p->vendor_id[0] = lower_32_bits(value);
		p->vendor_id[1] = upper_32_bits(value);
		break;
	case HV_PARTITION_PROPERTY_VENDOR_ID_EDX:
		if (upper_32_bits(value))
			return HV_STATUS_INVALID_PARAMETER;
		p->vendor_id[2] = value;
		break;
	default:	/* the Hyper-V interface's */
		return hv_partition_hv_set(&p->hv, property, value);
	}
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_call_get_partition_property(u64 partition_id, u32 property,
					   u64 *value)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	hv_status_t status;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	status = hv_partition_get_property(p, property, value);
	hv_partition_unlock_put(p);
	return status;
}

hv_status_t hv_call_set_partition_property(u64 partition_id, u32 property,
					   u64 value)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	hv_status_t status;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	status = hv_partition_set_property(p, property, value);
	hv_partition_unlock_put(p);
	return status;
}

struct hv_pool *hv_pool_get(u64 partition_id, struct hv_partition **held)
{
	*held = NULL;
	if (partition_id == HV_PARTITION_ID_SELF)
		return &hv_root_pool;
	*held = hv_partition_get(partition_id);
	return *held ? &(*held)->pool : NULL;
}

void hv_partitions_exit(void)
{
	WARN_ON_ONCE(!xa_empty(&hv_partitions));
	xa_destroy(&hv_partitions);
}
