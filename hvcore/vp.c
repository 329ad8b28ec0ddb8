// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual processors: create, delete, register access.
 *
 * A VP lives in a page from its partition's pool and is found through the
 * partition's VP table. Table slots change under the partition lock; a
 * VP's registers under the VP's lock (partition lock first).
 */
#include <linux/mm.h>
#include <linux/smp.h>

#include "arch.h"
#include "hvcore.h"

static struct hv_vp *hv_vp_lookup(struct hv_partition *p, u32 index)
{
	if (p->state != HV_PARTITION_STATE_INITIALIZED ||
	    index >= p->max_vp_count)
		return NULL;
	return *hv_vp_slot(p, index);
}

static void hv_vp_free(struct hv_partition *p, struct hv_vp *vp)
{
	mutex_lock(&vp->lock);
	hv_arch->vp_destroy(vp);
	mutex_unlock(&vp->lock);
	mutex_destroy(&vp->lock);
	hv_pool_free(&p->pool, vp);
}

hv_status_t hv_call_create_vp(u64 partition_id, u32 vp_index)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	hv_status_t status;
	struct hv_vp *vp;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	if (p->state != HV_PARTITION_STATE_INITIALIZED) {
		status = HV_STATUS_INVALID_PARTITION_STATE;
		goto out;
	}
	if (vp_index >= p->max_vp_count) {
		status = HV_STATUS_INVALID_VP_INDEX;
		goto out;
	}
	if (*hv_vp_slot(p, vp_index)) {
		status = HV_STATUS_OBJECT_IN_USE;
		goto out;
	}
	vp = hv_pool_alloc(&p->pool);
	if (!vp) {
		status = HV_STATUS_INSUFFICIENT_MEMORY;
		goto out;
	}
	vp->partition = p;
	vp->index = vp_index;
	mutex_init(&vp->lock);
	mutex_lock(&vp->lock);
	status = hv_arch->vp_create(vp);
	mutex_unlock(&vp->lock);
	if (status) {
		mutex_destroy(&vp->lock);
		hv_pool_free(&p->pool, vp);
		goto out;
	}
	*hv_vp_slot(p, vp_index) = vp;
out:
	hv_partition_unlock_put(p);
	return status;
}

hv_status_t hv_call_delete_vp(u64 partition_id, u32 vp_index)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	hv_status_t status = HV_STATUS_INVALID_VP_INDEX;
	struct hv_vp *vp;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;

	vp = hv_vp_lookup(p, vp_index);
	if (vp && vp->running) {
		status = HV_STATUS_INVALID_VP_STATE;
	} else if (vp) {
		*hv_vp_slot(p, vp_index) = NULL;
		hv_vp_free(p, vp);
		status = HV_STATUS_SUCCESS;
	}
	hv_partition_unlock_put(p);
	return status;
}

/* Partition teardown: its lock is no longer needed, nobody can reach it. */
void hv_vps_destroy(struct hv_partition *p)
{
	struct hv_vp *vp;
	u32 i;

	if (p->state != HV_PARTITION_STATE_INITIALIZED)
		return;
	for (i = 0; i < p->max_vp_count; i++) {
		vp = *hv_vp_slot(p, i);
		if (vp) {
			*hv_vp_slot(p, i) = NULL;
			hv_vp_free(p, vp);
		}
	}
}

/*
 * Look the VP up and lock it, with its partition locked around it; the
 * caller unlocks both with hv_vp_unlock().
 */
static hv_status_t hv_vp_get_locked(u64 partition_id, u32 vp_index,
				    struct hv_vp **vpp)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	struct hv_vp *vp;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	vp = hv_vp_lookup(p, vp_index);
	if (!vp) {
		hv_partition_unlock_put(p);
		return HV_STATUS_INVALID_VP_INDEX;
	}
	mutex_lock(&vp->lock);
	if (vp->running) {
		mutex_unlock(&vp->lock);
		hv_partition_unlock_put(p);
		return HV_STATUS_INVALID_VP_STATE;
	}
	*vpp = vp;
	return HV_STATUS_SUCCESS;
}

static void hv_vp_unlock(struct hv_vp *vp)
{
	struct hv_partition *p = vp->partition;

	mutex_unlock(&vp->lock);
	hv_partition_unlock_put(p);
}

hv_status_t hv_call_get_vp_registers(u64 partition_id, u32 vp_index,
				     u32 count, const u32 *names,
				     union hv_reg_value *values)
{
	hv_status_t status;
	struct hv_vp *vp;
	u32 i;

	status = hv_vp_get_locked(partition_id, vp_index, &vp);
	if (status)
		return status;
	for (i = 0; i < count && !status; i++) {
		memset(&values[i], 0, sizeof(values[i]));
		status = hv_arch->vp_get_reg(vp, names[i], &values[i]);
	}
	hv_vp_unlock(vp);
	return status;
}

hv_status_t hv_call_set_vp_registers(u64 partition_id, u32 vp_index,
				     u32 count, const u32 *names,
				     const union hv_reg_value *values)
{
	hv_status_t status;
	struct hv_vp *vp;
	u32 i;

	status = hv_vp_get_locked(partition_id, vp_index, &vp);
	if (status)
		return status;
	for (i = 0; i < count && !status; i++)
		status = hv_arch->vp_check_reg(vp, names[i], &values[i]);
	for (i = 0; i < count && !status; i++)
		hv_arch->vp_set_reg(vp, names[i], &values[i]);
	hv_vp_unlock(vp);
	return status;
}

hv_status_t hv_call_dispatch_vp(u64 partition_id, u32 vp_index,
				struct hv_message *msg)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	hv_status_t status = HV_STATUS_SUCCESS;
	struct hv_vp *vp;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	vp = hv_vp_lookup(p, vp_index);
	if (!vp)
		status = HV_STATUS_INVALID_VP_INDEX;
	if (vp) {
		mutex_lock(&vp->lock);
		if (vp->running) {
			status = HV_STATUS_INVALID_VP_STATE;
		} else {
			vp->cpu = -1;
			vp->running = true;
		}
		mutex_unlock(&vp->lock);
	}
	if (!status)
		p->running_vps++;
	mutex_unlock(&p->lock);
	if (status) {
		hv_partition_put(p);
		return status;
	}

	status = hv_arch->vp_run(vp, msg);

	mutex_lock(&p->lock);
	p->running_vps--;
	mutex_lock(&vp->lock);
	vp->running = false;
	mutex_unlock(&vp->lock);
	hv_partition_unlock_put(p);
	return status;
}

static void hv_vp_kick_ipi(void *unused)
{
	/* Nothing: the interrupt itself made the VP leave the guest. */
}

hv_status_t hv_call_kick_vp(u64 partition_id, u32 vp_index)
{
	struct hv_partition *p = hv_partition_get_locked(partition_id);
	struct hv_vp *vp;
	int cpu = -1;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	vp = hv_vp_lookup(p, vp_index);
	if (vp) {
		WRITE_ONCE(vp->kick, true);
		/* Order the flag before reading where the VP runs. */
		smp_mb();
		if (READ_ONCE(vp->running))
			cpu = READ_ONCE(vp->cpu);
	}
	hv_partition_unlock_put(p);
	if (!vp)
		return HV_STATUS_INVALID_VP_INDEX;
	if (cpu >= 0 && cpu != raw_smp_processor_id() && cpu_online(cpu))
		smp_call_function_single(cpu, hv_vp_kick_ipi, NULL, 0);
	return HV_STATUS_SUCCESS;
}
