/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The root hypercall API: the only way vid/, sched/ and vmbus/ reach the
 * hypervisor core (the WinHvr.sys role). Every call returns a TLFS status
 * (HV_STATUS_*); the VID maps status to errno in one place (vid/status.c).
 *
 * Calling context for every function here: process context, may sleep,
 * no vid or hvcore lock held by the caller.
 */
#ifndef VID_HV_CALL_H
#define VID_HV_CALL_H

#include <linux/types.h>

typedef u16 hv_status_t;

/* TLFS status codes (include/asm-generic/hyperv-tlfs.h uses the same). */
#define HV_STATUS_SUCCESS			0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE	0x0002
#define HV_STATUS_INVALID_HYPERCALL_INPUT	0x0003
#define HV_STATUS_INVALID_ALIGNMENT		0x0004
#define HV_STATUS_INVALID_PARAMETER		0x0005
#define HV_STATUS_ACCESS_DENIED			0x0006
#define HV_STATUS_INVALID_PARTITION_STATE	0x0007
#define HV_STATUS_OPERATION_DENIED		0x0008
#define HV_STATUS_INSUFFICIENT_MEMORY		0x000B
#define HV_STATUS_INVALID_PARTITION_ID		0x000D
#define HV_STATUS_INVALID_VP_INDEX		0x000E

/* The caller's own partition (the root), as in the TLFS. */
#define HV_PARTITION_ID_SELF			((u64)-1)

/* Most VPs one partition may have. */
#define HV_MAX_VPS_PER_PARTITION		1024

/*
 * Partition properties of this hypervisor's root API. Values are u64.
 * The numbers are private to the hv_call_* API.
 */
enum hv_partition_property {
	/* Number of VPs (1..HV_MAX_VPS_PER_PARTITION); before initialize. */
	HV_PARTITION_PROPERTY_MAX_VP_COUNT = 1,
	/* CPUID 0x40000000 EBX | ECX << 32; before initialize. */
	HV_PARTITION_PROPERTY_VENDOR_ID_EBX_ECX,
	/* CPUID 0x40000000 EDX in the low 32 bits; before initialize. */
	HV_PARTITION_PROPERTY_VENDOR_ID_EDX,
	/* Read-only: enum hv_partition_state. */
	HV_PARTITION_PROPERTY_STATE,
};

enum hv_partition_state {
	HV_PARTITION_STATE_CREATED = 1,
	HV_PARTITION_STATE_INITIALIZED = 2,
};

/* Create flags: none defined yet. */
#define HV_CREATE_PARTITION_FLAGS_VALID		0ULL

/*
 * Create a partition. Takes its partition object from the root's pool
 * (HV_PARTITION_ID_SELF) and, for the first partition, turns hardware
 * virtualization on, which also takes one host-save page per possible
 * CPU from the root's pool. HV_STATUS_OPERATION_DENIED when another
 * hypervisor owns the virtualization hardware.
 */
hv_status_t hv_call_create_partition(u64 flags, u64 *partition_id);
/* Build the partition's structures from its own pool; fixes its shape. */
hv_status_t hv_call_initialize_partition(u64 partition_id);
/*
 * Delete a partition. Everything it used, its deposit pool and its
 * partition object move to the root's pool, from which the caller
 * withdraws them.
 */
hv_status_t hv_call_delete_partition(u64 partition_id);
hv_status_t hv_call_get_partition_property(u64 partition_id, u32 property,
					   u64 *value);
hv_status_t hv_call_set_partition_property(u64 partition_id, u32 property,
					   u64 value);

/*
 * Deposit @count pages, given by page frame number, into a partition's
 * pool (or the root's, HV_PARTITION_ID_SELF). On success the hypervisor
 * owns the pages until they are withdrawn.
 */
hv_status_t hv_call_deposit_memory(u64 partition_id, const u64 *pfns,
				   u32 count);
/*
 * Withdraw at most @count unused pages from a pool; their frame numbers
 * go to @pfns and their number to @withdrawn.
 */
hv_status_t hv_call_withdraw_memory(u64 partition_id, u64 *pfns, u32 count,
				    u32 *withdrawn);
/* Pages deposited and not withdrawn, and how many of those are unused. */
hv_status_t hv_call_get_memory_balance(u64 partition_id, u64 *deposited,
				       u64 *available);

/* Module-level: probe hardware and set up hvcore; undo at exit. */
int hv_core_init(void);
void hv_core_exit(void);
/* Number of CPUs on which hvcore currently owns hardware virtualization. */
unsigned int hv_core_virt_cpus(void);

#endif /* VID_HV_CALL_H */
