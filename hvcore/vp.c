// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual processors: create, delete, register access.
 *
 * A VP lives in a page from its partition's pool and is found through the
 * partition's VP table. Table slots change under the partition lock; a
 * VP's registers under the VP's lock (partition lock first).
 */
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched/clock.h>
#include <linux/smp.h>
/* 6.12's smp_send_reschedule() traces the IPI. */
#include <trace/events/ipi.h>

#include "../synic/synic.h"
#include "arch.h"
#include "hv_regs.h"
#include "hvcore.h"
#include "lapic.h"

static struct hv_vp *hv_vp_lookup(struct hv_partition *p, u32 index)
{
	if (p->state != HV_PARTITION_STATE_INITIALIZED ||
	    index >= p->max_vp_count)
		return NULL;
	return *hv_vp_slot(p, index);
}

struct hv_vp *hv_vp_rcu(struct hv_partition *p, u32 index)
{
	struct hv_vp **table;

	if (index >= p->max_vp_count)
		return NULL;
	table = READ_ONCE(p->vp_table[index / HV_VP_TABLE_ENTRIES]);
	if (!table)
		return NULL;
	/* Published with smp_store_release(); RCU keeps the VP alive. */
	return READ_ONCE(table[index % HV_VP_TABLE_ENTRIES]);
}

/*
 * Free a VP already out of its table slot: after a grace period, so
 * that interrupt delivery (hv_irq_deliver(), under RCU) no longer sees
 * it; the timers stop before their memory goes.
 */
static void hv_vp_free(struct hv_partition *p, struct hv_vp *vp)
{
	mutex_lock(&vp->lock);
	hv_synic_destroy(vp);
	hv_lapic_destroy(vp);
	hv_arch->vp_destroy(vp);
	mutex_unlock(&vp->lock);
	mutex_destroy(&vp->lock);
	hv_pool_free(&p->pool, vp);
}

static hv_status_t hv_vp_create_state(struct hv_vp *vp)
{
	hv_status_t status;

	status = hv_arch->vp_create(vp);
	if (status)
		return status;
	status = hv_lapic_create(vp);
	if (!status)
		status = hv_synic_create(vp);
	if (status) {
		hv_lapic_destroy(vp);
		hv_arch->vp_destroy(vp);
	}
	return status;
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
	vp->cpu = -1;
	vp->mode = HV_VP_OUTSIDE_GUEST;
	vp->activity = HV_VP_ACTIVE;
	rcuwait_init(&vp->wait);
	atomic_set(&vp->claim, HV_VP_IDLE);
	mutex_init(&vp->lock);
	mutex_lock(&vp->lock);
	status = hv_vp_create_state(vp);
	mutex_unlock(&vp->lock);
	if (status) {
		mutex_destroy(&vp->lock);
		hv_pool_free(&p->pool, vp);
		goto out;
	}
	/* Lockless readers (hv_vp_rcu()) see a fully built VP. */
	smp_store_release(hv_vp_slot(p, vp_index), vp);
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
	/* Held for good: a dispatch that finds it so takes the slow path. */
	if (vp && atomic_cmpxchg(&vp->claim, HV_VP_IDLE, HV_VP_HELD) !=
		  HV_VP_IDLE) {
		status = HV_STATUS_INVALID_VP_STATE;
	} else if (vp) {
		WRITE_ONCE(*hv_vp_slot(p, vp_index), NULL);
		synchronize_rcu();
		hv_vp_free(p, vp);
		status = HV_STATUS_SUCCESS;
	}
	hv_partition_unlock_put(p);
	return status;
}

/*
 * Partition teardown: its lock is no longer needed, nobody can reach it.
 * No VP runs, so none delivers interrupts to another; the root's own
 * delivery paths (irqfds) are gone before the last reference.
 */
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

void hv_vp_notify(struct hv_vp *vp)
{
	int cpu;

	/* Order the request before reading where the VP is. */
	smp_mb__after_atomic();
	if (READ_ONCE(vp->mode) == HV_VP_IN_GUEST) {
		cpu = READ_ONCE(vp->cpu);
		if (cpu >= 0 && cpu != raw_smp_processor_id())
			smp_send_reschedule(cpu);
	}
	rcuwait_wake_up(&vp->wait);
}

void hv_vp_halt(struct hv_vp *vp)
{
	vp->activity = HV_VP_HALTED;
}

static void hv_vp_handle_requests(struct hv_vp *vp)
{
	bool timer;

	if (hv_vp_test_clear_request(vp, HV_REQ_INIT)) {
		hv_arch->vp_init(vp);
		hv_lapic_reset(vp, true);
		hv_synic_init_reset(vp);
		vp->activity = HV_VP_WAIT_SIPI;
	}
	if (hv_vp_test_clear_request(vp, HV_REQ_SIPI)) {
		/* Pairs with the write barrier of the sender. */
		smp_rmb();
		if (vp->activity == HV_VP_WAIT_SIPI) {
			hv_arch->vp_sipi(vp, READ_ONCE(vp->sipi_vector));
			vp->activity = HV_VP_ACTIVE;
		}
	}
	if (hv_vp_test_clear_request(vp, HV_REQ_STIMER))
		hv_stimer_process(vp);
	if (hv_vp_test_clear_request(vp, HV_REQ_SYNIC))
		hv_synic_process(vp);
	timer = hv_vp_test_clear_request(vp, HV_REQ_LAPIC_TIMER);
	if (hv_vp_test_clear_request(vp, HV_REQ_INTERRUPT) | timer |
	    hv_vp_test_clear_request(vp, HV_REQ_NMI))
		hv_lapic_sync(vp, timer);
	if (hv_vp_test_clear_request(vp, HV_REQ_TLB_FLUSH))
		hv_arch->vp_flush_tlb(vp);
}

bool hv_vp_prepare_entry(struct hv_vp *vp)
{
	if (READ_ONCE(vp->requests))
		hv_vp_handle_requests(vp);
	if (vp->activity == HV_VP_HALTED &&
	    (hv_lapic_pending_vector(vp) >= 0 || hv_lapic_nmi_pending(vp)))
		vp->activity = HV_VP_ACTIVE;
	return vp->activity == HV_VP_ACTIVE;
}

/*
 * The VP has nothing to run: sleep until a request, a kick or a signal.
 * Returns false when the dispatch must return to its caller.
 */
static bool hv_vp_block(struct hv_vp *vp)
{
	int r;

	r = rcuwait_wait_event(&vp->wait, READ_ONCE(vp->requests) ||
			       READ_ONCE(vp->kick) || signal_pending(current),
			       TASK_INTERRUPTIBLE);
	return !r && !READ_ONCE(vp->kick) && !signal_pending(current);
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
	/* Acquire: the state a dispatch left (hv_vp_release()). */
	if (atomic_cmpxchg_acquire(&vp->claim, HV_VP_IDLE, HV_VP_HELD) !=
	    HV_VP_IDLE) {
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

	/* Release: the registers set before the next dispatch claims it. */
	atomic_set_release(&vp->claim, HV_VP_IDLE);
	mutex_unlock(&vp->lock);
	hv_partition_unlock_put(p);
}

/*
 * Registers the common core keeps: the activity state (TLFS internal
 * activity: bit 0 startup suspend, i.e. waiting for a SIPI; bit 1 halt
 * suspend), the APIC base and CR8 (the vLAPIC's TPR).
 */
#define HV_ACTIVITY_STARTUP_SUSPEND	BIT_ULL(0)
#define HV_ACTIVITY_HALT_SUSPEND	BIT_ULL(1)

static bool hv_vp_common_reg(u32 name)
{
	return name == HV_REGISTER_INTERNAL_ACTIVITY_STATE ||
	       name == HV_X64_REGISTER_APIC_BASE ||
	       name == HV_X64_REGISTER_CR8;
}

static bool hv_vp_get_common_reg(struct hv_vp *vp, u32 name,
				 union hv_reg_value *v)
{
	switch (name) {
	case HV_REGISTER_INTERNAL_ACTIVITY_STATE:
		v->reg64 = vp->activity == HV_VP_WAIT_SIPI ?
			   HV_ACTIVITY_STARTUP_SUSPEND :
			   vp->activity == HV_VP_HALTED ?
			   HV_ACTIVITY_HALT_SUSPEND : 0;
		return true;
	case HV_X64_REGISTER_APIC_BASE:
		v->reg64 = hv_lapic_get_base(vp);
		return true;
	case HV_X64_REGISTER_CR8:
		v->reg64 = hv_lapic_get_cr8(vp);
		return true;
	default:
		return false;
	}
}

static hv_status_t hv_vp_check_common_reg(u32 name,
					  const union hv_reg_value *v)
{
	const u64 apic_valid = GENMASK_ULL(51, 12) | BIT_ULL(8) |
			       BIT_ULL(10) | BIT_ULL(11);

	if (memchr_inv(&v->bytes[8], 0, 8))
		return HV_STATUS_INVALID_PARAMETER;
	switch (name) {
	case HV_REGISTER_INTERNAL_ACTIVITY_STATE:
		/* At most one of the two suspend states. */
		return v->reg64 > HV_ACTIVITY_HALT_SUSPEND ?
		       HV_STATUS_INVALID_PARAMETER : HV_STATUS_SUCCESS;
	case HV_X64_REGISTER_APIC_BASE:
		if ((v->reg64 & ~apic_valid) ||
		    ((v->reg64 & BIT_ULL(10)) && !(v->reg64 & BIT_ULL(11))))
			return HV_STATUS_INVALID_PARAMETER;
		return HV_STATUS_SUCCESS;
	default:	/* CR8 */
		return v->reg64 > 15 ? HV_STATUS_INVALID_PARAMETER :
				       HV_STATUS_SUCCESS;
	}
}

static void hv_vp_set_common_reg(struct hv_vp *vp, u32 name,
				 const union hv_reg_value *v)
{
	switch (name) {
	case HV_REGISTER_INTERNAL_ACTIVITY_STATE:
		vp->activity = v->reg64 == HV_ACTIVITY_STARTUP_SUSPEND ?
			       HV_VP_WAIT_SIPI :
			       v->reg64 == HV_ACTIVITY_HALT_SUSPEND ?
			       HV_VP_HALTED : HV_VP_ACTIVE;
		break;
	case HV_X64_REGISTER_APIC_BASE:
		hv_lapic_set_base(vp, v->reg64, false);
		break;
	default:
		hv_lapic_set_cr8(vp, v->reg64);
		break;
	}
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
		if (!hv_vp_get_common_reg(vp, names[i], &values[i]))
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
	for (i = 0; i < count && !status; i++) {
		if (hv_vp_common_reg(names[i]))
			status = hv_vp_check_common_reg(names[i], &values[i]);
		else
			status = hv_arch->vp_check_reg(vp, names[i], &values[i]);
	}
	for (i = 0; i < count && !status; i++) {
		if (hv_vp_common_reg(names[i]))
			hv_vp_set_common_reg(vp, names[i], &values[i]);
		else
			hv_arch->vp_set_reg(vp, names[i], &values[i]);
	}
	hv_vp_unlock(vp);
	return status;
}

/*
 * Claim the VP for a dispatch (HV_VP_DISPATCHED). Without any lock: the
 * VP is looked up under RCU and claimed with one atomic exchange, which
 * register access and VP deletion make too (HV_VP_HELD), so exactly one
 * of them has it and a held VP is not freed under the lookup. Only when
 * the VP is held does the dispatch take the partition lock, which the
 * holders keep while they hold it, and claim the VP under it.
 */
static hv_status_t hv_vp_claim(struct hv_partition *p, u32 vp_index,
			       struct hv_vp **vpp)
{
	struct hv_vp *vp = NULL;
	int old = HV_VP_HELD;

	/* The state is published after the VP table (initialize). */
	if (smp_load_acquire(&p->state) == HV_PARTITION_STATE_INITIALIZED) {
		rcu_read_lock();
		vp = hv_vp_rcu(p, vp_index);
		/* Acquire: the registers the root set (hv_vp_unlock()). */
		if (vp)
			old = atomic_cmpxchg_acquire(&vp->claim, HV_VP_IDLE,
						     HV_VP_DISPATCHED);
		rcu_read_unlock();
	}
	if (old == HV_VP_HELD) {
		mutex_lock(&p->lock);
		if (p->deleted) {
			mutex_unlock(&p->lock);
			return HV_STATUS_INVALID_PARTITION_ID;
		}
		vp = hv_vp_lookup(p, vp_index);
		if (vp)
			old = atomic_cmpxchg_acquire(&vp->claim, HV_VP_IDLE,
						     HV_VP_DISPATCHED);
		mutex_unlock(&p->lock);
	}
	if (!vp)
		return HV_STATUS_INVALID_VP_INDEX;
	if (old != HV_VP_IDLE)
		return HV_STATUS_INVALID_VP_STATE;
	*vpp = vp;
	return HV_STATUS_SUCCESS;
}

hv_status_t hv_call_dispatch_vp(u64 partition_id, u32 vp_index,
				struct hv_message *msg)
{
	struct hv_partition *p = hv_partition_get(partition_id);
	hv_status_t status = HV_STATUS_SUCCESS;
	struct hv_vp *vp;

	if (!p)
		return HV_STATUS_INVALID_PARTITION_ID;
	status = hv_vp_claim(p, vp_index, &vp);
	if (status) {
		hv_partition_put(p);
		return status;
	}
	WRITE_ONCE(vp->cpu, -1);
	atomic_inc(&p->running_vps);
	/*
	 * Counted before the loop reads a SLAT entry or the SLAT
	 * generation: an unmap either sees the count (and waits for the
	 * loop) or its changes are seen (hv_call_unmap_gpa_pages()).
	 */
	smp_mb__after_atomic();

	for (;;) {
		/*
		 * The run time by the scheduler clock (the TSC): the
		 * clocksource ktime_get_ns() reads may be slow, as the HPET
		 * is under QEMU's TCG (measured there: the two reads were
		 * about a fifth of a port-I/O round trip). Per CPU: a
		 * migration between the two reads may make the difference
		 * negative.
		 */
		u64 start = local_clock(), end;

		status = hv_arch->vp_run(vp, msg);
		end = local_clock();
		if (end > start)
			vp->runtime_ns += end - start;
		if (status || msg->header.message_type != HVMSG_NONE ||
		    vp->activity == HV_VP_ACTIVE || need_resched())
			break;
		/*
		 * Halted or waiting for a SIPI: nothing to run until woken.
		 * But the run loop may have yielded (a softirq) right after
		 * the HLT, before it looked at the vLAPIC: an interrupt that
		 * reached the IRR earlier, its request long consumed, must
		 * not wait for the next one.
		 */
		if (vp->activity == HV_VP_HALTED &&
		    (hv_lapic_pending_vector(vp) >= 0 ||
		     hv_lapic_nmi_pending(vp))) {
			/* The HLT is over (as hv_vp_prepare_entry() says). */
			vp->activity = HV_VP_ACTIVE;
			continue;
		}
		if (!hv_vp_block(vp))
			break;
	}

	/* A kick ends one dispatch (hv_vp_should_yield() only looks). */
	WRITE_ONCE(vp->kick, false);
	/* After the loop's last look at guest memory. */
	smp_mb__before_atomic();
	atomic_dec(&p->running_vps);
	/* Release: the VP's state to whoever claims it next. */
	atomic_set_release(&vp->claim, HV_VP_IDLE);
	hv_partition_put(p);
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
		if (atomic_read(&vp->claim) == HV_VP_DISPATCHED)
			cpu = READ_ONCE(vp->cpu);
	}
	if (vp)
		rcuwait_wake_up(&vp->wait);
	hv_partition_unlock_put(p);
	if (!vp)
		return HV_STATUS_INVALID_VP_INDEX;
	if (cpu >= 0 && cpu != raw_smp_processor_id() && cpu_online(cpu))
		smp_call_function_single(cpu, hv_vp_kick_ipi, NULL, 0);
	return HV_STATUS_SUCCESS;
}
