/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvcore internals: shared by the files of the hypervisor core only.
 * Nothing outside hvcore/ includes this; they use hv_call.h.
 */
#ifndef VID_HVCORE_H
#define VID_HVCORE_H

#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/interrupt.h>
#include <linux/sched/signal.h>
#include <linux/types.h>

#include "hv_call.h"
#include "pool.h"

/* VP pointers per VP-table page, and table pages for the largest count. */
#define HV_VP_TABLE_ENTRIES	(PAGE_SIZE / sizeof(void *))
#define HV_VP_TABLE_PAGES_MAX	DIV_ROUND_UP(HV_MAX_VPS_PER_PARTITION, \
					     HV_VP_TABLE_ENTRIES)

/**
 * struct hv_partition - one child partition; lives in one page taken from
 * the root pool, so it costs the kernel nothing the root did not deposit.
 * @id: partition id, the key in the partition table.
 * @refs: one for the partition table, one per hv_partition_get().
 * @lock: protects every field below it.
 * @deleted: hv_call_delete_partition() ran; no call may start.
 * @state: enum hv_partition_state.
 * @max_vp_count: VP limit, fixed at initialize.
 * @vendor_id: CPUID 0x40000000 EBX, ECX, EDX.
 * @vp_table: VP pointer table pages, from @pool at initialize.
 * @slat_root: the backend's top-level SLAT table (from @pool at the
 *	first map or VP).
 * @slat_generation: bumped when translations are removed; a VP whose
 *	copy differs flushes its TLB before it next runs.
 * @running_vps: VPs being dispatched now.
 * @pool: this partition's deposit pool (it has its own lock).
 */
struct hv_partition {
	u64 id;
	refcount_t refs;
	/* protects the fields below */
	struct mutex lock;
	bool deleted;
	enum hv_partition_state state;
	u32 max_vp_count;
	u32 vendor_id[3];
	void *vp_table[HV_VP_TABLE_PAGES_MAX];
	void *slat_root;
	u64 slat_generation;
	unsigned int running_vps;
	struct hv_pool pool;
};

/**
 * struct hv_vp - a virtual processor; lives in one page from the
 * partition's pool.
 * @partition: its partition (the VP holds no reference: VPs are deleted
 *	before their partition is torn down).
 * @index: VP index.
 * @lock: protects @running and the register state.
 * @running: the VP is dispatched; register access is refused.
 * @kick: hv_call_kick_vp() asked the dispatch loop to return.
 * @cpu: CPU the VP is dispatched on while @running (for the kick IPI).
 * @arch: backend state (from the pool).
 */
struct hv_vp {
	struct hv_partition *partition;
	u32 index;
	/* protects running and the register state */
	struct mutex lock;
	bool running;
	bool kick;
	int cpu;
	void *arch;
};

/*
 * Should the dispatch loop give the thread back? Called by the backend
 * between two guest entries.
 */
static inline bool hv_vp_should_yield(struct hv_vp *vp)
{
	return signal_pending(current) || need_resched() ||
	       local_softirq_pending() || xchg(&vp->kick, false);
}

static inline struct hv_vp **hv_vp_slot(struct hv_partition *p, u32 index)
{
	struct hv_vp **table = p->vp_table[index / HV_VP_TABLE_ENTRIES];

	return &table[index % HV_VP_TABLE_ENTRIES];
}

/* The root's own pool: partition objects and per-CPU host save pages. */
extern struct hv_pool hv_root_pool;

/* partition.c */
struct hv_partition *hv_partition_get(u64 id);
void hv_partition_put(struct hv_partition *p);
/* The pool a deposit call names: a partition's or the root's. */
struct hv_pool *hv_pool_get(u64 partition_id, struct hv_partition **held);
void hv_partitions_exit(void);
struct hv_partition *hv_partition_get_locked(u64 id);
void hv_partition_unlock_put(struct hv_partition *p);

/* vp.c */
void hv_vps_destroy(struct hv_partition *p);

/* virt.c: reference-counted ownership of the virtualization hardware. */
hv_status_t hv_virt_get(void);
void hv_virt_put(void);
int hv_virt_init(void);
/* Physical address of this CPU's host save area (preemption disabled). */
u64 hv_virt_host_save_pa(void);
void hv_virt_exit(void);

#endif /* VID_HVCORE_H */
