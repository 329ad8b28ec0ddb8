/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvcore internals: shared by the files of the hypervisor core only.
 * Nothing outside hvcore/ includes this; they use hv_call.h.
 */
#ifndef VID_HVCORE_H
#define VID_HVCORE_H

#include <linux/mutex.h>
#include <linux/rcuwait.h>
#include <linux/refcount.h>
#include <linux/interrupt.h>
#include <linux/sched/signal.h>
#include <linux/types.h>

#include "hv_call.h"
#include "hyperv.h"
#include "pool.h"

struct hv_lapic;
struct hv_synic;
struct hv_ports;

/*
 * Requests to a VP (bits in hv_vp.requests): work the VP's own dispatch
 * loop does before it next enters the guest. Any context may raise one
 * with hv_vp_request(); only the VP's thread consumes them.
 */
enum hv_vp_request {
	HV_REQ_INTERRUPT,	/* interrupts were posted to the vLAPIC */
	HV_REQ_LAPIC_TIMER,	/* the vLAPIC timer expired */
	HV_REQ_NMI,		/* an NMI was sent */
	HV_REQ_INIT,		/* an INIT was sent */
	HV_REQ_SIPI,		/* a startup IPI was sent (vector in sipi_vector) */
	HV_REQ_STIMER,		/* a synthetic timer expired */
	HV_REQ_SYNIC,		/* SynIC work: an EOM, a queued message */
	HV_REQ_TLB_FLUSH,	/* flush this VP's guest TLB */
};

/* hv_vp.activity: what the VP does when it is not executing code. */
enum hv_vp_activity {
	HV_VP_ACTIVE,		/* runs guest code */
	HV_VP_HALTED,		/* HLT with interrupts enabled: waits for one */
	HV_VP_WAIT_SIPI,	/* after INIT: waits for a startup IPI */
};

/*
 * hv_vp.claim: who has the VP. A dispatch, or the root for register
 * access or deletion; each takes it from IDLE with one atomic exchange.
 */
enum hv_vp_claim {
	HV_VP_IDLE,
	HV_VP_DISPATCHED,	/* "running": register access is refused */
	HV_VP_HELD,		/* the root, under the partition lock */
};

/* hv_vp.mode: is the VP between its last check and the guest? */
enum hv_vp_mode {
	HV_VP_OUTSIDE_GUEST,
	HV_VP_IN_GUEST,
};

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
 * @running_vps: VPs being dispatched now (atomic: dispatch counts
 *	without the lock; hv_call_unmap_gpa_pages() reads it under it).
 * @hv: Hyper-V partition-wide state (hyperv.h): guest OS id, hypercall
 *	page, reference TSC page, crash registers, advertised features.
 * @ports: ports and connections (synic/port.c), from @pool.
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
	atomic_t running_vps;
	struct hv_partition_hv hv;
	struct hv_ports *ports;
	struct hv_pool pool;
};

/**
 * struct hv_vp - a virtual processor; lives in one page from the
 * partition's pool.
 * @partition: its partition (the VP holds no reference: VPs are deleted
 *	before their partition is torn down).
 * @index: VP index.
 * @lock: serializes register access (taken inside the partition lock).
 * @claim: enum hv_vp_claim: who has the VP (atomic; see vp.c).
 * @kick: hv_call_kick_vp() asked the dispatch loop to return.
 * @cpu: CPU the VP is dispatched on, while it is (for the kick IPI).
 * @requests: HV_REQ_* bits (any context sets, the VP's thread clears).
 * @mode: enum hv_vp_mode, for hv_vp_notify().
 * @activity: enum hv_vp_activity; only the VP's own thread (or the root,
 *	with the VP stopped) changes it.
 * @sipi_vector: vector of the last startup IPI.
 * @wait: the VP's thread sleeps here while the VP is halted.
 * @runtime_ns: time spent dispatching this VP (HV_X64_MSR_VP_RUNTIME).
 * @vp_assist: HV_X64_MSR_VP_ASSIST_PAGE as the guest wrote it.
 * @lapic: the virtual local APIC (lapic.c), from the pool.
 * @synic: SynIC and synthetic-timer state (synic/), from the pool.
 * @arch: backend state (from the pool).
 */
struct hv_vp {
	struct hv_partition *partition;
	u32 index;
	/* serializes register access */
	struct mutex lock;
	atomic_t claim;
	bool kick;
	int cpu;
	unsigned long requests;
	int mode;
	int activity;
	u8 sipi_vector;
	struct rcuwait wait;
	u64 runtime_ns;
	u64 vp_assist;
	struct hv_lapic *lapic;
	struct hv_synic *synic;
	void *arch;
};

/*
 * Should the dispatch loop give the thread back? Called by the backend
 * between two guest entries.
 */
static inline bool hv_vp_should_yield(struct hv_vp *vp)
{
	return signal_pending(current) || need_resched() ||
	       local_softirq_pending() || READ_ONCE(vp->kick);
}

/* vp.c: requests and wake-ups (any context). */
void hv_vp_notify(struct hv_vp *vp);
static inline void hv_vp_request(struct hv_vp *vp, int req)
{
	set_bit(req, &vp->requests);
	hv_vp_notify(vp);
}

static inline bool hv_vp_test_clear_request(struct hv_vp *vp, int req)
{
	return test_and_clear_bit(req, &vp->requests);
}

/*
 * VP-context work before a guest entry (vp.c). Handles the requests,
 * moves a halted VP back to work when an interrupt can reach it, and
 * returns false while the VP has nothing to run (halted or waiting for
 * a SIPI): the backend then returns to the caller of vp_run with
 * HVMSG_NONE, and hv_call_dispatch_vp() sleeps until a request.
 * Preemption off, IRQs on.
 */
bool hv_vp_prepare_entry(struct hv_vp *vp);
/* The VP executed HLT with interrupts enabled (RIP already past it). */
void hv_vp_halt(struct hv_vp *vp);
/* A VP by index under rcu_read_lock() (or the partition lock); or NULL. */
struct hv_vp *hv_vp_rcu(struct hv_partition *p, u32 index);

static inline struct hv_vp **hv_vp_slot(struct hv_partition *p, u32 index)
{
	struct hv_vp **table = p->vp_table[index / HV_VP_TABLE_ENTRIES];

	return &table[index % HV_VP_TABLE_ENTRIES];
}

/*
 * guest_mem.c: guest RAM the hypervisor uses itself (see the file for
 * when a page stays valid). hv_gpa_page() gives the kernel address of
 * guest frame @gfn, or NULL when it is not RAM the guest can read (or
 * write, with @write). The copies fail with HV_STATUS_INVALID_PARAMETER
 * on any such page.
 */
void *hv_gpa_page(struct hv_partition *p, u64 gfn, bool write);
hv_status_t hv_gpa_read(struct hv_partition *p, u64 gpa, void *buf, u32 len);
hv_status_t hv_gpa_write(struct hv_partition *p, u64 gpa, const void *buf,
			 u32 len);

/*
 * mmio.c: emulate an access to MMIO the hypervisor owns (the xAPIC
 * page) by the instruction in @bytes (@mode 16, 32 or 64-bit code, at
 * @rip). VP context. False: not the hypervisor's, or not an access it
 * emulates; the root gets it.
 */
bool hv_mmio_emulate(struct hv_vp *vp, u64 gpa, const u8 *bytes, u8 nbytes,
		     int mode, u64 rip);

/* The root's own pool: partition objects and per-CPU host save pages. */
extern struct hv_pool hv_root_pool;

/* partition.c */
struct hv_partition *hv_partition_get(u64 id);
struct hv_partition *hv_partition_rcu(u64 id);
void hv_partition_put(struct hv_partition *p);
struct hv_partition *hv_partition_get_next(unsigned long *id);
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
