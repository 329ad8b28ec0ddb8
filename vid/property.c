// SPDX-License-Identifier: GPL-2.0
/*
 * VID_PARTITION_GET/SET_PROPERTY. Shape properties live in the hypervisor
 * (hv_call_*_partition_property); the name is the VID's own; the pool
 * balance is read with hv_call_get_memory_balance().
 */
#include <linux/string.h>
#include <linux/uaccess.h>

#include "vid.h"

union vid_prop_value {
	u64 u64;
	u32 vendor_id[3];
	char name[VID_NAME_MAX];
};

static int vid_hv_get(u64 id, u32 property, u64 *value)
{
	return vid_status_to_errno(hv_call_get_partition_property(id, property,
								  value));
}

static int vid_hv_set(u64 id, u32 property, u64 value)
{
	return vid_status_to_errno(hv_call_set_partition_property(id, property,
								  value));
}

/* The hypervisor property behind a VID_PROP_HV_* id. */
static u32 vid_prop_hv(u32 prop)
{
	switch (prop) {
	case VID_PROP_HV_PRIVILEGES:
		return HV_PARTITION_PROPERTY_HV_PRIVILEGES;
	case VID_PROP_HV_FEATURES:
		return HV_PARTITION_PROPERTY_HV_FEATURES;
	default:
		return HV_PARTITION_PROPERTY_HV_RECOMMENDATIONS;
	}
}

/* Fill @v with property @prop; returns its size or -errno. */
static int vid_prop_read(struct vid_partition *vp, u32 prop,
			 union vid_prop_value *v)
{
	u64 deposited, available, lo, hi;
	int r;

	switch (prop) {
	case VID_PROP_MAX_VP_COUNT:
		r = vid_hv_get(vp->id, HV_PARTITION_PROPERTY_MAX_VP_COUNT,
			       &v->u64);
		return r ?: sizeof(u64);
	case VID_PROP_STATE:
		r = vid_hv_get(vp->id, HV_PARTITION_PROPERTY_STATE, &v->u64);
		return r ?: sizeof(u64);
	case VID_PROP_VENDOR_ID:
		mutex_lock(&vp->lock);
		r = vid_hv_get(vp->id, HV_PARTITION_PROPERTY_VENDOR_ID_EBX_ECX,
			       &lo);
		if (!r)
			r = vid_hv_get(vp->id,
				       HV_PARTITION_PROPERTY_VENDOR_ID_EDX, &hi);
		mutex_unlock(&vp->lock);
		v->vendor_id[0] = lower_32_bits(lo);
		v->vendor_id[1] = upper_32_bits(lo);
		v->vendor_id[2] = lower_32_bits(hi);
		return r ?: VID_VENDOR_ID_SIZE;
	case VID_PROP_NAME:
		mutex_lock(&vp->lock);
		r = strscpy(v->name, vp->name, sizeof(v->name)) + 1;
		mutex_unlock(&vp->lock);
		return r;
	case VID_PROP_PARTITION_ID:
		v->u64 = vp->id;
		return sizeof(u64);
	case VID_PROP_AUTO_DEPOSIT:
		v->u64 = READ_ONCE(vp->auto_deposit);
		return sizeof(u64);
	case VID_PROP_HV_PRIVILEGES:
	case VID_PROP_HV_FEATURES:
	case VID_PROP_HV_RECOMMENDATIONS:
		r = vid_hv_get(vp->id, vid_prop_hv(prop), &v->u64);
		return r ?: sizeof(u64);
	case VID_PROP_POOL_DEPOSITED:
	case VID_PROP_POOL_AVAILABLE:
		r = vid_status_to_errno(hv_call_get_memory_balance(vp->id,
								   &deposited,
								   &available));
		v->u64 = prop == VID_PROP_POOL_DEPOSITED ? deposited : available;
		return r ?: sizeof(u64);
	default:
		return -EINVAL;
	}
}

static int vid_prop_get(struct vid_partition *vp, struct vid_property *p,
			struct vid_property __user *uarg)
{
	union vid_prop_value v = {};
	int size = vid_prop_read(vp, p->id, &v);
	int r = 0;

	if (size < 0)
		return size;
	if (p->size < size)
		r = -ENOSPC;
	else if (copy_to_user(u64_to_user_ptr(p->value), &v, size))
		return -EFAULT;
	p->size = size;
	if (copy_to_user(&uarg->size, &p->size, sizeof(p->size)))
		return -EFAULT;
	return r;
}

static bool vid_name_valid(const char *name, u32 size)
{
	u32 i;

	if (strnlen(name, size) != size - 1)
		return false;
	/* Printable ASCII only: the kernel's isprint() accepts Latin-1. */
	for (i = 0; i < size - 1; i++)
		if (name[i] < 0x20 || name[i] > 0x7e)
			return false;
	return true;
}

static int vid_prop_set(struct vid_partition *vp, struct vid_property *p)
{
	static const u32 sizes[] = {
		[VID_PROP_MAX_VP_COUNT] = sizeof(u64),
		[VID_PROP_VENDOR_ID] = VID_VENDOR_ID_SIZE,
		[VID_PROP_AUTO_DEPOSIT] = sizeof(u64),
		[VID_PROP_HV_PRIVILEGES] = sizeof(u64),
		[VID_PROP_HV_FEATURES] = sizeof(u64),
		[VID_PROP_HV_RECOMMENDATIONS] = sizeof(u64),
	};
	union vid_prop_value v = {};
	int r;

	switch (p->id) {
	case VID_PROP_MAX_VP_COUNT:
	case VID_PROP_VENDOR_ID:
	case VID_PROP_AUTO_DEPOSIT:
	case VID_PROP_HV_PRIVILEGES:
	case VID_PROP_HV_FEATURES:
	case VID_PROP_HV_RECOMMENDATIONS:
		if (p->size != sizes[p->id])
			return -EINVAL;
		break;
	case VID_PROP_NAME:
		if (!p->size || p->size > VID_NAME_MAX)
			return -EINVAL;
		break;
	default:
		return -EPERM;	/* the ids left are read-only */
	}
	if (copy_from_user(&v, u64_to_user_ptr(p->value), p->size))
		return -EFAULT;

	mutex_lock(&vp->lock);
	switch (p->id) {
	case VID_PROP_MAX_VP_COUNT:
		r = vid_hv_set(vp->id, HV_PARTITION_PROPERTY_MAX_VP_COUNT,
			       v.u64);
		break;
	case VID_PROP_VENDOR_ID:
		r = vid_hv_set(vp->id, HV_PARTITION_PROPERTY_VENDOR_ID_EBX_ECX,
			       v.vendor_id[0] | (u64)v.vendor_id[1] << 32);
		/* Initialize waits for vp->lock, so EDX cannot fail alone. */
		if (!r)
			r = vid_hv_set(vp->id,
				       HV_PARTITION_PROPERTY_VENDOR_ID_EDX,
				       v.vendor_id[2]);
		break;
	case VID_PROP_AUTO_DEPOSIT:
		r = v.u64 > 1 ? -EINVAL : 0;
		if (!r)
			WRITE_ONCE(vp->auto_deposit, v.u64);
		break;
	case VID_PROP_HV_PRIVILEGES:
	case VID_PROP_HV_FEATURES:
	case VID_PROP_HV_RECOMMENDATIONS:
		r = vid_hv_set(vp->id, vid_prop_hv(p->id), v.u64);
		break;
	default:
		r = vid_name_valid(v.name, p->size) ? 0 : -EINVAL;
		if (!r)
			strscpy(vp->name, v.name, sizeof(vp->name));
		break;
	}
	mutex_unlock(&vp->lock);
	return r;
}

long vid_partition_property(struct vid_partition *vp, unsigned int cmd,
			    struct vid_property __user *uarg)
{
	struct vid_property p;

	if (copy_from_user(&p, uarg, sizeof(p)))
		return -EFAULT;
	if (p.flags || p.reserved || !p.id || p.id > VID_PROP_MAX)
		return -EINVAL;
	if (cmd == VID_PARTITION_GET_PROPERTY)
		return vid_prop_get(vp, &p, uarg);
	return vid_prop_set(vp, &p);
}
