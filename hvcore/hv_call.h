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

#include <asm/hyperv-tlfs.h>

typedef u16 hv_status_t;

/*
 * TLFS status codes. The kernel's asm/hyperv-tlfs.h (which asm/svm.h
 * pulls in) defines the ones its guest code uses; these are the rest.
 */
#ifndef HV_STATUS_INVALID_PARTITION_STATE
#define HV_STATUS_INVALID_PARTITION_STATE	0x0007
#endif
#ifndef HV_STATUS_INVALID_PARTITION_ID
#define HV_STATUS_INVALID_PARTITION_ID		0x000D
#endif
#ifndef HV_STATUS_INVALID_VP_INDEX
#define HV_STATUS_INVALID_VP_INDEX		0x000E
#endif
#ifndef HV_STATUS_INVALID_VP_STATE
#define HV_STATUS_INVALID_VP_STATE		0x0015
#endif
#ifndef HV_STATUS_OBJECT_IN_USE
#define HV_STATUS_OBJECT_IN_USE			0x0019
#endif

/* HV_PARTITION_ID_SELF, the caller's own partition, is the TLFS's ~0. */

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
	/*
	 * The guest's Hyper-V interface (hvcore/hyperv.c), before
	 * initialize; bits vid does not implement are invalid. CPUID
	 * 0x40000003 EAX | EBX << 32: privileges.
	 */
	HV_PARTITION_PROPERTY_HV_PRIVILEGES,
	/* CPUID 0x40000003 EDX in the low 32 bits: features. */
	HV_PARTITION_PROPERTY_HV_FEATURES,
	/* CPUID 0x40000004 EAX in the low 32 bits: recommendations. */
	HV_PARTITION_PROPERTY_HV_RECOMMENDATIONS,
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

/* GPA map rights (TLFS HV_MAP_GPA_* values). */
#define HV_MAP_GPA_READABLE		0x1
#define HV_MAP_GPA_WRITABLE		0x2
#define HV_MAP_GPA_EXECUTABLE		0xC	/* kernel and user */
#define HV_MAP_GPA_FLAGS_VALID		0xF
/* Each frame of the call is a 2 MiB page (TLFS HV_MAP_GPA_LARGE_PAGE). */
#define HV_MAP_GPA_LARGE_PAGE		0x80000000
#define HV_MAP_GPA_LARGE_FRAMES		512	/* 4 KiB frames in one */

/* Most pages one map call takes (one page of frame numbers). */
#define HV_MAP_GPA_BATCH		512
/* Guest physical addresses are below 2^48 (4-level SLAT). */
#define HV_GPA_BITS			48

/*
 * Map @count guest frames from @gpa_pfn onto the host frames @pfns with
 * the rights in @flags. SLAT tables come from the partition's pool:
 * HV_STATUS_INSUFFICIENT_MEMORY when it runs dry; frames mapped before
 * that stay mapped, and repeating the call completes it. The caller
 * keeps the host frames alive (pinned) until they are unmapped. With
 * HV_MAP_GPA_LARGE_PAGE, @count and @pfns are in 2 MiB pages: @gpa_pfn
 * and every frame 2 MiB aligned, each mapped whole (a large SLAT entry
 * where no 4 KiB table is in the way).
 */
hv_status_t hv_call_map_gpa_pages(u64 partition_id, u64 gpa_pfn,
				  const u64 *pfns, u32 count, u32 flags);
/*
 * Unmap @count guest frames; unmapped frames in the range are ignored.
 * Works while VPs run: it returns once no VP can reach the frames any
 * more (their TLBs are flushed before they next enter the guest), so
 * the caller may then release them. That wait is an RCU grace period.
 */
hv_status_t hv_call_unmap_gpa_pages(u64 partition_id, u64 gpa_pfn,
				    u32 count);

/*
 * A register value in TLFS layout (HV_REGISTER_VALUE): 64-bit registers
 * use @reg64, segments and descriptor tables their own layouts.
 */
struct hv_reg_segment {
	u64 base;
	u32 limit;
	u16 selector;
	u16 attributes;
};

struct hv_reg_table {
	u16 pad[3];
	u16 limit;
	u64 base;
};

union hv_reg_value {
	u64 reg64;
	struct hv_reg_segment segment;
	struct hv_reg_table table;
	u8 bytes[16];
};

/* Register names are the TLFS HV_REGISTER_NAME numbers (uapi/linux/vid.h). */

/*
 * Create VP @vp_index (below the partition's VP count, else
 * HV_STATUS_INVALID_VP_INDEX) in an initialized partition (else
 * HV_STATUS_INVALID_PARTITION_STATE); HV_STATUS_OBJECT_IN_USE if it exists.
 */
hv_status_t hv_call_create_vp(u64 partition_id, u32 vp_index);
hv_status_t hv_call_delete_vp(u64 partition_id, u32 vp_index);
/*
 * Read or write @count registers of a stopped VP (HV_STATUS_INVALID_VP_STATE
 * while it runs). A set checks every value first and writes none if one
 * is invalid (HV_STATUS_INVALID_PARAMETER).
 */
hv_status_t hv_call_get_vp_registers(u64 partition_id, u32 vp_index,
				     u32 count, const u32 *names,
				     union hv_reg_value *values);
hv_status_t hv_call_set_vp_registers(u64 partition_id, u32 vp_index,
				     u32 count, const u32 *names,
				     const union hv_reg_value *values);

/*
 * Run a VP on the calling thread until it exits for a reason the root
 * must handle; the intercept message (TLFS layout) is then in @msg.
 * Returns with message type HVMSG_NONE when the thread has a signal
 * pending or should reschedule: call again to continue. The VP is marked
 * running meanwhile (register access gets HV_STATUS_INVALID_VP_STATE);
 * HV_STATUS_INVALID_VP_STATE if it already runs. Exits the hypervisor
 * completes itself (CPUID, NPT faults on mapped memory, interrupts)
 * never come back.
 */
hv_status_t hv_call_dispatch_vp(u64 partition_id, u32 vp_index,
				struct hv_message *msg);

/*
 * Make a dispatch of the VP return (with HVMSG_NONE) as soon as possible:
 * it leaves the guest at once if it is in it. Any context that may sleep.
 */
hv_status_t hv_call_kick_vp(u64 partition_id, u32 vp_index);

/**
 * struct hv_interrupt - an interrupt the root asserts (HvAssertVirtualInterrupt)
 * @type: TLFS HV_INTERRUPT_TYPE: fixed 0, lowest priority 1, NMI 4,
 *	INIT 5, SIPI 6.
 * @vector: vector (fixed/lowest priority 16..255, SIPI 0..255).
 * @dest: APIC id (= VP index), a logical destination, or 0xffffffff
 *	(all VPs, physical mode).
 * @logical: @dest is logical.
 */
struct hv_interrupt {
	u32 type;
	u32 vector;
	u32 dest;
	bool logical;
};

/*
 * Deliver @irq to the partition's virtual APICs. Unlike the other calls
 * this one may run in any context (an irqfd wakes in atomic context),
 * takes no lock and no reference: the caller guarantees that the
 * partition is not deleted meanwhile. HV_STATUS_INVALID_PARTITION_STATE
 * before initialize, HV_STATUS_INVALID_PARAMETER for a bad type or vector.
 */
hv_status_t hv_call_assert_interrupt(u64 partition_id,
				     const struct hv_interrupt *irq);

/*
 * Ports and connections (TLFS HvCreatePort 0x95, HvDeletePort,
 * HvConnectPort 0x96, HvDisconnectPort as the root sees them). A port
 * says where a guest's HvSignalEvent/HvPostMessage lands; a connection,
 * the id the guest names, leads to a port of the same partition by its
 * port id (looked up at each use: a connection whose port is deleted
 * answers HV_STATUS_INVALID_PORT_ID until a port with that id exists
 * again). Ids are the TLFS's 24-bit HV_PORT_ID / HV_CONNECTION_ID.
 *
 * A port targets either a VP's SynIC in the same partition (@sink NULL:
 * messages into SINT @target_sint's slot of VP @target_vp, events as
 * flag @base_flag + n of that SINT) or a root consumer (@sink). The
 * tables come from the partition's pool; at most HV_PORTS_MAX ports and
 * HV_CONNECTIONS_MAX connections, beyond which create and connect
 * answer HV_STATUS_INSUFFICIENT_BUFFERS (HV_STATUS_INSUFFICIENT_MEMORY
 * means the pool is dry: deposit and retry).
 */
#define HV_PORT_ID_MASK			0x00ffffffU
#define HV_CONNECTION_ID_MASK		0x00ffffffU
#define HV_PORTS_MAX			256
#define HV_CONNECTIONS_MAX		256

/* TLFS HV_PORT_TYPE (monitor ports are not implemented). */
enum hv_port_type {
	HV_PORT_TYPE_MESSAGE = 1,
	HV_PORT_TYPE_EVENT = 2,
};

struct hv_port_sink;

/**
 * struct hv_port_sink_ops - a root consumer of a port
 * @post_message: a message port's message (TLFS layout; header.port is
 *	the port id). Return HV_STATUS_SUCCESS, or
 *	HV_STATUS_INSUFFICIENT_BUFFERS when it cannot take it now; the
 *	guest's HvPostMessage returns that status.
 * @signal_event: an event port was signalled with relative flag @flag
 *	(below the port's flag count).
 * @release: the port is gone and no guest can be inside the two calls
 *	above any more: the sink may be freed. Process context, no hvcore
 *	lock held.
 *
 * Only the call of the port's type is made (the other may be NULL).
 * @post_message and @signal_event run in VP context (the guest's VP
 * thread, preemption off, IRQs on, under rcu_read_lock()): they must
 * not sleep, and may run on several VPs at once.
 */
struct hv_port_sink_ops {
	hv_status_t (*post_message)(struct hv_port_sink *sink,
				    const struct hv_message *msg);
	void (*signal_event)(struct hv_port_sink *sink, u16 flag);
	void (*release)(struct hv_port_sink *sink);
};

/* Embedded in the root consumer's own object. */
struct hv_port_sink {
	const struct hv_port_sink_ops *ops;
};

/**
 * struct hv_port_info - what HvCreatePort is told (TLFS HV_PORT_INFO)
 * @type: enum hv_port_type.
 * @sink: a root consumer, or NULL for a guest target.
 * @target_vp: guest target: a VP index below the partition's VP count
 *	(the VP need not exist yet); 0 with @sink.
 * @target_sint: guest target: SINT 1..15 (SINT 0 is the hypervisor's);
 *	0 with @sink.
 * @base_flag: event ports with a guest target: first event flag; 0
 *	otherwise.
 * @flag_count: event ports: flags the guest may name (1..2048, and
 *	@base_flag + @flag_count <= 2048); 0 for message ports.
 */
struct hv_port_info {
	u32 type;
	struct hv_port_sink *sink;
	u32 target_vp;
	u8 target_sint;
	u16 base_flag;
	u16 flag_count;
};

/*
 * Create port @port_id in an initialized partition
 * (HV_STATUS_INVALID_PARTITION_STATE before). HV_STATUS_INVALID_PARAMETER
 * for a bad id or @info, HV_STATUS_INVALID_VP_INDEX for a target VP
 * beyond the VP count, HV_STATUS_OBJECT_IN_USE if the id exists. On
 * success the port owns @info->sink until its ->release().
 */
hv_status_t hv_call_create_port(u64 partition_id, u32 port_id,
				const struct hv_port_info *info);
/*
 * Delete a port (HV_STATUS_INVALID_PORT_ID if there is none): returns
 * once no guest can reach it, after its sink's ->release().
 */
hv_status_t hv_call_delete_port(u64 partition_id, u32 port_id);
/*
 * Connect @connection_id to existing port @port_id
 * (HV_STATUS_INVALID_PORT_ID otherwise); HV_STATUS_OBJECT_IN_USE if the
 * connection id exists.
 */
hv_status_t hv_call_connect_port(u64 partition_id, u32 connection_id,
				 u32 port_id);
/* Delete a connection (HV_STATUS_INVALID_CONNECTION_ID if none). */
hv_status_t hv_call_disconnect_port(u64 partition_id, u32 connection_id);

/*
 * HvPostMessageDirect: @msg into SINT @sint (0..15) of VP @vp_index.
 * HV_STATUS_INVALID_PARAMETER for a bad SINT, message type 0, a payload
 * over 240 bytes or message flags set; HV_STATUS_INVALID_PARTITION_STATE
 * before initialize; HV_STATUS_INVALID_VP_INDEX when the VP does not
 * exist; HV_STATUS_INSUFFICIENT_BUFFERS while the slot
 * holds an unacknowledged message (the guest's EOM frees it);
 * HV_STATUS_INVALID_VP_STATE when the VP's SynIC, message page or SINT
 * is not enabled.
 */
hv_status_t hv_call_post_message_direct(u64 partition_id, u32 vp_index,
					u8 sint, const struct hv_message *msg);
/*
 * HvSignalEventDirect: set event flag @flag (0..2047) of SINT @sint of VP
 * @vp_index, raising the SINT if the flag was clear. Statuses as above.
 */
hv_status_t hv_call_signal_event_direct(u64 partition_id, u32 vp_index,
					u8 sint, u16 flag);

struct hv_sint_notifier;

/**
 * struct hv_sint_notifier_ops - when to retry a refused direct post
 * @ready: SINT @sint of VP @vp_index refused a sender (its slot was busy,
 *	or the SynIC could not take messages) and may take one now: the
 *	guest wrote EOM, or SCONTROL, SIMP or a SINT. VP context of that VP
 *	(preemption off, under rcu_read_lock()): must not sleep. May be
 *	spurious (refusals of other senders count too).
 * @release: the notifier will not be called any more and may be freed.
 *	Process context, no hvcore lock held.
 */
struct hv_sint_notifier_ops {
	void (*ready)(struct hv_sint_notifier *n, u32 vp_index, u8 sint);
	void (*release)(struct hv_sint_notifier *n);
};

/* Embedded in the root consumer's own object. */
struct hv_sint_notifier {
	const struct hv_sint_notifier_ops *ops;
};

/*
 * A partition has a notifier slot per root consumer of refused posts:
 * the VMM's (vid/port.c) and the VMBus server's (vmbus/host.c). Each
 * ->ready() is called; one consumer's notifier cannot replace another's.
 */
enum hv_sint_notifier_slot {
	HV_SINT_NOTIFIER_VMM,
	HV_SINT_NOTIFIER_VMBUS,
	HV_SINT_NOTIFIER_SLOTS,
};

/*
 * Give an initialized partition notifier @n (NULL: none) in @slot,
 * replacing any; the replaced one's ->release() runs before the call
 * returns, once no VP can be inside its ->ready(). The partition owns @n
 * until then (or until teardown). The tables it lives in come from the
 * pool (HV_STATUS_INSUFFICIENT_MEMORY). HV_STATUS_INVALID_PARAMETER for
 * a bad slot or incomplete ops.
 */
hv_status_t hv_call_set_sint_notifier(u64 partition_id, u32 slot,
				      struct hv_sint_notifier *n);

/*
 * Diagnostics: time @iterations bare world switches (VMRUN, VMMCALL,
 * #VMEXIT, no handler) on one CPU; total nanoseconds in @ns.
 * HV_STATUS_INVALID_PARTITION_STATE when no partition exists (the
 * hardware is off). Sleeps; keeps IRQs off for the whole measurement.
 */
hv_status_t hv_call_measure_world_switch(u32 iterations, u64 *ns);

/*
 * Diagnostics: every VP of every partition as text into @m (debugfs
 * vid/vps): its thread's view, requests, vLAPIC, SynIC and backend event
 * state. Running VPs are read as they run. Sleeps (partition locks).
 */
struct seq_file;
void hv_call_dump_vps(struct seq_file *m);

/* Module-level: probe hardware and set up hvcore; undo at exit. */
int hv_core_init(void);
void hv_core_exit(void);
/* Number of CPUs on which hvcore currently owns hardware virtualization. */
unsigned int hv_core_virt_cpus(void);

#endif /* VID_HV_CALL_H */
