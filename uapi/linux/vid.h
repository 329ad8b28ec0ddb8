/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vid: the Virtualization Infrastructure Driver interface, /dev/vid.
 *
 * The contract (botching-up-ioctls.rst rules; see README.md):
 *  - fixed-width types only, explicit padding, pointers passed as __u64;
 *  - every reserved field must be zero and every unknown flag bit must be
 *    clear, otherwise the ioctl fails with -EINVAL;
 *  - an ioctl number the file does not know fails with -ENOTTY; the size of
 *    each argument struct is encoded in its ioctl number, so a caller built
 *    against a different struct layout gets -ENOTTY, never a misread;
 *  - new behaviour is announced through VID_CHECK_CAPABILITY.
 */
#ifndef _UAPI_LINUX_VID_H
#define _UAPI_LINUX_VID_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Version of this interface, returned by VID_GET_API_VERSION. */
#define VID_API_VERSION		1

/* ioctl magic shared by /dev/vid and the fds it hands out. */
#define VIDIO			0xB9

/**
 * enum vid_cap - capabilities for VID_CHECK_CAPABILITY
 * @VID_CAP_PARTITION_PROPERTIES: partition properties can be read and
 *	written; the value is the highest property id understood.
 * @VID_CAP_MAX_VPS: largest VID_PROP_MAX_VP_COUNT a partition accepts.
 * @VID_CAP_DEPOSIT: memory deposit and withdrawal are supported; the value
 *	is the largest page count one VID_PARTITION_DEPOSIT call accepts.
 * @VID_CAP_MAX_NAME: size in bytes of the largest partition name,
 *	terminating NUL included.
 * @VID_CAP_INTERRUPTS: each VP has a virtual local APIC (xAPIC and
 *	x2APIC), HLT with interrupts enabled waits in the kernel, and
 *	VID_PARTITION_ASSERT_INTERRUPT / VID_PARTITION_IRQFD exist. Value 1.
 * @VID_CAP_PORTS: ports and connections (VID_PARTITION_CREATE_PORT and
 *	the calls after it, VID_PARTITION_SINT_NOTIFY included); the value
 *	is VID_PORT_MAX.
 * @VID_CAP_VMBUS: the VMBus server, its channels and VSPs
 *	(linux/vid_vmbus.h); the value is the newest protocol version the
 *	server accepts (VID_VMBUS_VERSION_*).
 * @VID_CAP_RUN_COMPLETE: VID_VP_RUN_COMPLETE exists. Value 1.
 *
 * An unknown capability reads as 0, so a caller can probe for a feature
 * that a newer module adds.
 */
enum vid_cap {
	VID_CAP_PARTITION_PROPERTIES	= 1,
	VID_CAP_MAX_VPS			= 2,
	VID_CAP_DEPOSIT			= 3,
	VID_CAP_MAX_NAME		= 4,
	VID_CAP_INTERRUPTS		= 5,
	VID_CAP_PORTS			= 6,
	VID_CAP_VMBUS			= 7,
	VID_CAP_RUN_COMPLETE		= 8,
};

/**
 * struct vid_create_partition - argument of VID_CREATE_PARTITION
 * @flags: creation flags; none are defined in v1, must be 0.
 * @reserved: must be 0.
 *
 * On success the ioctl returns a new partition file descriptor, opened
 * O_RDWR | O_CLOEXEC. The partition is deleted when its last file
 * descriptor is closed.
 */
struct vid_create_partition {
	__u64 flags;
	__u64 reserved[3];
};

/**
 * enum vid_prop - partition property ids
 * @VID_PROP_MAX_VP_COUNT: __u64, read/write until the partition is
 *	initialized: the number of virtual processors it may have
 *	(1..VID_CAP_MAX_VPS). Default 1.
 * @VID_PROP_VENDOR_ID: 12 bytes, read/write until the partition is
 *	initialized: the hypervisor vendor signature the guest reads from
 *	CPUID 0x40000000 (EBX, ECX, EDX). Default "Microsoft Hv".
 * @VID_PROP_NAME: a NUL-terminated printable string of at most
 *	VID_CAP_MAX_NAME bytes, read/write at any time, for management
 *	tools. Default "".
 * @VID_PROP_PARTITION_ID: __u64, read-only: the hypervisor's partition id.
 * @VID_PROP_STATE: __u64, read-only: an enum vid_partition_state.
 * @VID_PROP_POOL_DEPOSITED: __u64, read-only: pages deposited into the
 *	partition's pool and not withdrawn (in use plus available).
 * @VID_PROP_POOL_AVAILABLE: __u64, read-only: deposited pages the
 *	hypervisor has not used yet; these can be withdrawn.
 * @VID_PROP_AUTO_DEPOSIT: __u64 0 or 1, read/write at any time. 1 (the
 *	default): when a call needs hypervisor memory the partition's pool
 *	lacks, the kernel deposits pages and retries. 0: the call fails with
 *	-ENOMEM and the VMM deposits (VID_PARTITION_DEPOSIT) and retries it
 *	(pages the failed call already took stay in use and serve the retry;
 *	a failed map leaves nothing mapped or pinned).
 * @VID_PROP_HV_PRIVILEGES: __u64, read/write until the partition is
 *	initialized: the Hyper-V partition privileges the guest reads from
 *	CPUID 0x40000003, EAX in bits 31:0 and EBX in 63:32 (TLFS
 *	HV_PARTITION_PRIVILEGE_MASK). Default: everything vid implements
 *	(the value read from a new partition); setting any other bit is
 *	-EINVAL. A synthetic MSR whose privilege is clear raises #GP in the
 *	guest, a hypercall whose privilege is clear (HvPostMessage,
 *	HvSignalEvent) returns HV_STATUS_ACCESS_DENIED.
 * @VID_PROP_HV_FEATURES: __u64, as VID_PROP_HV_PRIVILEGES for CPUID
 *	0x40000003 EDX (bits 31:0; the rest 0): feature bits such as the
 *	frequency and crash MSRs; the crash MSRs raise #GP without theirs.
 * @VID_PROP_HV_RECOMMENDATIONS: __u64, as VID_PROP_HV_PRIVILEGES for
 *	CPUID 0x40000004 EAX (bits 31:0): the enlightenments the guest is
 *	told to use. The PV TLB flush hypercalls need "remote TLB flush",
 *	the PV IPI hypercalls "cluster IPI", and their Ex forms "Ex
 *	processor masks" too; without them they return
 *	HV_STATUS_ACCESS_DENIED.
 */
enum vid_prop {
	VID_PROP_MAX_VP_COUNT		= 1,
	VID_PROP_VENDOR_ID		= 2,
	VID_PROP_NAME			= 3,
	VID_PROP_PARTITION_ID		= 4,
	VID_PROP_STATE			= 5,
	VID_PROP_POOL_DEPOSITED		= 6,
	VID_PROP_POOL_AVAILABLE		= 7,
	VID_PROP_AUTO_DEPOSIT		= 8,
	VID_PROP_HV_PRIVILEGES		= 9,
	VID_PROP_HV_FEATURES		= 10,
	VID_PROP_HV_RECOMMENDATIONS	= 11,
};

#define VID_PROP_MAX			VID_PROP_HV_RECOMMENDATIONS
#define VID_VENDOR_ID_SIZE		12
#define VID_NAME_MAX			64

/**
 * enum vid_partition_state - value of VID_PROP_STATE
 * @VID_PARTITION_CREATED: properties that shape the partition can be set.
 * @VID_PARTITION_INITIALIZED: VID_PARTITION_INITIALIZE succeeded; the
 *	shape (VP count, vendor id) is fixed.
 */
enum vid_partition_state {
	VID_PARTITION_CREATED		= 1,
	VID_PARTITION_INITIALIZED	= 2,
};

/**
 * struct vid_property - argument of VID_PARTITION_GET/SET_PROPERTY
 * @id: an enum vid_prop.
 * @flags: must be 0.
 * @size: size in bytes of the buffer at @value. On SET it must be the
 *	property's size (8 for __u64 properties, VID_VENDOR_ID_SIZE for the
 *	vendor id, 1..VID_NAME_MAX including the NUL for the name). On GET it
 *	must be at least that; the kernel writes back the size it filled.
 *	A GET with a buffer too small fails with -ENOSPC and writes back the
 *	size needed.
 * @reserved: must be 0.
 * @value: user pointer to the value buffer.
 *
 * Errors: -EINVAL for an unknown id, flags, reserved fields or a bad size
 * or value; -EPERM to set a read-only property; -EBUSY to set a shape
 * property after VID_PARTITION_INITIALIZE; -EFAULT for a bad pointer.
 */
struct vid_property {
	__u32 id;
	__u32 flags;
	__u32 size;
	__u32 reserved;
	__u64 value;
};

/**
 * struct vid_deposit - argument of VID_PARTITION_DEPOSIT and _WITHDRAW
 * @pages: DEPOSIT: pages to allocate from the kernel (charged to the
 *	caller's memory cgroup) and hand to the partition's pool,
 *	1..VID_CAP_DEPOSIT. WITHDRAW: the most pages to take back; the
 *	kernel writes back how many were withdrawn (only pages the pool has
 *	not used can be withdrawn).
 * @flags: must be 0.
 * @reserved: must be 0.
 */
struct vid_deposit {
	__u64 pages;
	__u64 flags;
	__u64 reserved[2];
};

/*
 * Guest physical address map (VID_PARTITION_MAP_GPA / _UNMAP_GPA).
 */
#define VID_MAP_READ		0x1U
#define VID_MAP_WRITE		0x2U
#define VID_MAP_EXEC		0x4U
#define VID_MAP_FLAGS_VALID	(VID_MAP_READ | VID_MAP_WRITE | VID_MAP_EXEC)

/* Highest guest physical address + 1 a partition can map (48 bits). */
#define VID_GPA_LIMIT		0x1000000000000ULL

/**
 * struct vid_gpa_map - argument of VID_PARTITION_MAP_GPA
 * @gpa: guest physical address of the range, page aligned.
 * @size: bytes, a non-zero multiple of the page size; gpa + size must not
 *	exceed VID_GPA_LIMIT.
 * @userspace_addr: the caller's own memory backing the range (anonymous,
 *	memfd or hugetlbfs), page aligned. The pages are pinned while mapped
 *	(and charged to the caller as locked memory); with VID_MAP_WRITE
 *	they must be writable.
 * @flags: VID_MAP_* rights the guest gets; VID_MAP_READ is required.
 * @reserved: must be 0.
 *
 * Errors: -EINVAL for bad alignment, size, flags, reserved fields or a
 * range beyond VID_GPA_LIMIT; -EEXIST when the range overlaps a mapped
 * one; -EFAULT when the memory is not the caller's to pin.
 */
struct vid_gpa_map {
	__u64 gpa;
	__u64 size;
	__u64 userspace_addr;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct vid_gpa_unmap - argument of VID_PARTITION_UNMAP_GPA
 * @gpa: start of a range exactly as it was mapped.
 * @size: its size.
 * @flags: must be 0.
 * @reserved: must be 0.
 *
 * The VPs may be running: when the ioctl returns, no VP can reach the
 * range any more (a later access is an unmapped-GPA intercept) and its
 * memory is unpinned.
 *
 * Errors: -ENOENT when no mapping starts at @gpa with that @size.
 */
struct vid_gpa_unmap {
	__u64 gpa;
	__u64 size;
	__u64 flags;
	__u64 reserved;
};

/**
 * struct vid_create_vp - argument of VID_PARTITION_CREATE_VP
 * @vp_index: 0..VID_PROP_MAX_VP_COUNT-1, unused so far.
 * @flags: must be 0.
 * @reserved: must be 0.
 *
 * Returns a VP file descriptor (O_RDWR | O_CLOEXEC). The partition must be
 * initialized (-EBUSY otherwise); -EEXIST if the index is taken. The VP
 * is deleted when its fd and its partition are both gone.
 */
struct vid_create_vp {
	__u32 vp_index;
	__u32 flags;
	__u64 reserved[3];
};

/*
 * VP register names: the TLFS HV_REGISTER_NAME numbers.
 */
enum vid_reg_name {
	/*
	 * Bit 0: waiting for a startup IPI (the state an AP starts in);
	 * bit 1: halted, waiting for an interrupt. At most one is set.
	 */
	VID_REG_INTERNAL_ACTIVITY_STATE = 0x00000004,
	/*
	 * An event delivered at the next entry (TLFS layout): bit 0
	 * pending, 3:1 type (0 interrupt, 2 NMI, 3 exception, 4 software
	 * interrupt), 4 deliver error code, 31:16 vector, 63:32 error code.
	 */
	VID_REG_PENDING_INTERRUPTION = 0x00010002,
	/* Bit 0: interrupt shadow (after STI / MOV SS); bit 1: NMI masked. */
	VID_REG_INTERRUPT_STATE = 0x00010003,
	VID_REG_RAX	= 0x00020000,	/* ... R15 = 0x0002000F */
	VID_REG_RCX,
	VID_REG_RDX,
	VID_REG_RBX,
	VID_REG_RSP,
	VID_REG_RBP,
	VID_REG_RSI,
	VID_REG_RDI,
	VID_REG_R8,
	VID_REG_R9,
	VID_REG_R10,
	VID_REG_R11,
	VID_REG_R12,
	VID_REG_R13,
	VID_REG_R14,
	VID_REG_R15,
	VID_REG_RIP	= 0x00020010,
	VID_REG_RFLAGS	= 0x00020011,
	/* 128-bit: the register's 16 bytes in value.bytes */
	VID_REG_XMM0	= 0x00030000,	/* ... XMM15 = 0x0003000F */
	/*
	 * 16 bytes: FCW u16, FSW u16, abridged FTW u8, reserved u8 (0),
	 * last opcode u16, last instruction pointer u64.
	 */
	VID_REG_FP_CONTROL_STATUS = 0x00030018,
	/* 16 bytes: last data pointer u64, MXCSR u32, MXCSR mask u32 (ignored on set). */
	VID_REG_XMM_CONTROL_STATUS = 0x00030019,
	VID_REG_CR0	= 0x00040000,
	VID_REG_CR2	= 0x00040001,
	VID_REG_CR3	= 0x00040002,
	VID_REG_CR4	= 0x00040003,
	VID_REG_CR8	= 0x00040004,
	VID_REG_XFEM	= 0x00040005,	/* XCR0 */
	VID_REG_DR0	= 0x00050000,
	VID_REG_DR1	= 0x00050001,
	VID_REG_DR2	= 0x00050002,
	VID_REG_DR3	= 0x00050003,
	VID_REG_DR6	= 0x00050004,
	VID_REG_DR7	= 0x00050005,
	VID_REG_ES	= 0x00060000,	/* segments: struct vid_segment */
	VID_REG_CS	= 0x00060001,
	VID_REG_SS	= 0x00060002,
	VID_REG_DS	= 0x00060003,
	VID_REG_FS	= 0x00060004,
	VID_REG_GS	= 0x00060005,
	VID_REG_LDTR	= 0x00060006,
	VID_REG_TR	= 0x00060007,
	VID_REG_IDTR	= 0x00070000,	/* tables: struct vid_table */
	VID_REG_GDTR	= 0x00070001,
	VID_REG_TSC	= 0x00080000,
	VID_REG_EFER	= 0x00080001,
	VID_REG_KERNEL_GS_BASE = 0x00080002,
	VID_REG_APIC_BASE = 0x00080003,
	VID_REG_PAT	= 0x00080004,
	VID_REG_SYSENTER_CS = 0x00080005,
	VID_REG_SYSENTER_EIP = 0x00080006,
	VID_REG_SYSENTER_ESP = 0x00080007,
	VID_REG_STAR	= 0x00080008,
	VID_REG_LSTAR	= 0x00080009,
	VID_REG_CSTAR	= 0x0008000A,
	VID_REG_SFMASK	= 0x0008000B,
};

/**
 * struct vid_segment - a segment register (TLFS HV_X64_SEGMENT_REGISTER)
 * @base: base address.
 * @limit: limit in bytes (already scaled by the granularity bit).
 * @selector: selector.
 * @attributes: descriptor bits 40..55 as they sit in a descriptor:
 *	type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15; bits 11:8
 *	must be 0.
 */
struct vid_segment {
	__u64 base;
	__u32 limit;
	__u16 selector;
	__u16 attributes;
};

/**
 * struct vid_table - GDTR/IDTR (TLFS HV_X64_TABLE_REGISTER)
 * @pad: must be 0.
 * @limit: limit.
 * @base: base address.
 */
struct vid_table {
	__u16 pad[3];
	__u16 limit;
	__u64 base;
};

/**
 * struct vid_register - one register name and value
 * @name: an enum vid_reg_name.
 * @reserved: must be 0.
 * @reserved2: must be 0.
 * @value: 64-bit registers use @value.reg64 (the rest must be 0).
 */
struct vid_register {
	__u32 name;
	__u32 reserved;
	__u64 reserved2;
	union {
		__u64 reg64;
		struct vid_segment segment;
		struct vid_table table;
		__u8 bytes[16];
	} value;
};

#define VID_REGISTERS_MAX	128

/**
 * struct vid_vp_registers - argument of VID_VP_GET/SET_REGISTERS
 * @count: number of entries at @regs, 1..VID_REGISTERS_MAX.
 * @flags: must be 0.
 * @regs: user pointer to an array of struct vid_register. GET fills in
 *	each entry's value; SET applies them in order and stops at the
 *	first bad one (-EINVAL), having applied none (all are checked
 *	before any is written).
 *
 * The VP must be stopped (-EBUSY while it runs).
 */
struct vid_vp_registers {
	__u32 count;
	__u32 flags;
	__u64 regs;
};

/*
 * Intercept messages (TLFS layouts): VID_VP_RUN returns with one of these
 * in the VP's message page, which the VMM maps with mmap(vp_fd, offset 0,
 * one page, PROT_READ). The page holds a struct vid_message.
 */
#define VID_MSG_NONE			0x00000000
#define VID_MSG_UNMAPPED_GPA		0x80000000
#define VID_MSG_GPA_INTERCEPT		0x80000001
#define VID_MSG_INVALID_VP_REGISTER_VALUE 0x80000020
#define VID_MSG_UNRECOVERABLE_EXCEPTION	0x80000021
#define VID_MSG_UNSUPPORTED_FEATURE	0x80000022
#define VID_MSG_X64_IO_PORT_INTERCEPT	0x80010000
#define VID_MSG_X64_MSR_INTERCEPT	0x80010001
#define VID_MSG_X64_HALT		0x80010007
/*
 * vid's own types: the guest wrote HV_X64_MSR_CRASH_CTL with CrashNotify
 * (struct vid_guest_crash), or HV_X64_MSR_RESET with bit 0 (struct
 * vid_guest_reset). The VP's RIP is already past the WRMSR; VID_VP_RUN
 * again continues the guest, or the VMM resets or stops the partition.
 */
#define VID_MSG_GUEST_CRASH		0x80010100
#define VID_MSG_GUEST_RESET		0x80010101

/* intercept_access_type */
#define VID_INTERCEPT_READ		0
#define VID_INTERCEPT_WRITE		1
#define VID_INTERCEPT_EXECUTE		2

/**
 * struct vid_intercept_header - common head of intercept messages
 * @vp_index: the VP that exited.
 * @instruction_length: bits 3:0 the length of the intercepted
 *	instruction (0 when unknown), bits 7:4 CR8.
 * @intercept_access_type: VID_INTERCEPT_*.
 * @execution_state: bits 1:0 CPL, 2 CR0.PE, 3 CR0.AM, 4 EFER.LMA,
 *	5 debug active, 6 interruption pending, 15 interrupt shadow.
 * @cs: CS at the time of the intercept.
 * @rip: RIP of the intercepted instruction.
 * @rflags: RFLAGS.
 */
struct vid_intercept_header {
	__u32 vp_index;
	__u8 instruction_length;
	__u8 intercept_access_type;
	__u16 execution_state;
	struct vid_segment cs;
	__u64 rip;
	__u64 rflags;
};

/**
 * struct vid_io_port_intercept - VID_MSG_X64_IO_PORT_INTERCEPT payload
 * @header: common header; the access type says IN (read) or OUT (write).
 * @port_number: I/O port.
 * @access_info: bits 2:0 access size in bytes (1, 2, 4), bit 3 string
 *	instruction, bit 4 REP prefix.
 * @instruction_byte_count: valid bytes in @instruction_bytes.
 * @reserved: 0.
 * @instruction_bytes: the instruction, when known.
 * @ds: DS.
 * @es: ES.
 * @rax: RAX (for OUT, the value written is in its low bytes).
 * @rcx: RCX.
 * @rsi: RSI.
 * @rdi: RDI.
 *
 * To complete an IN, set RAX; for either, set RIP to rip +
 * instruction_length; then VID_VP_RUN again.
 */
struct vid_io_port_intercept {
	struct vid_intercept_header header;
	__u16 port_number;
	__u8 access_info;
	__u8 instruction_byte_count;
	__u32 reserved;
	__u8 instruction_bytes[16];
	struct vid_segment ds;
	struct vid_segment es;
	__u64 rax;
	__u64 rcx;
	__u64 rsi;
	__u64 rdi;
};

/**
 * struct vid_memory_intercept - VID_MSG_UNMAPPED_GPA / _GPA_INTERCEPT
 * @header: common header; the access type says read, write or execute.
 * @cache_type: 0.
 * @instruction_byte_count: valid bytes in @instruction_bytes.
 * @memory_access_info: bit 0 @guest_virtual_address is valid.
 * @reserved: 0.
 * @guest_virtual_address: the virtual address, when known.
 * @guest_physical_address: the guest physical address accessed.
 * @instruction_bytes: the faulting instruction, when known.
 */
struct vid_memory_intercept {
	struct vid_intercept_header header;
	__u32 cache_type;
	__u8 instruction_byte_count;
	__u8 memory_access_info;
	__u16 reserved;
	__u64 guest_virtual_address;
	__u64 guest_physical_address;
	__u8 instruction_bytes[16];
};

/**
 * struct vid_msr_intercept - VID_MSG_X64_MSR_INTERCEPT payload
 * @header: common header; read (RDMSR) or write (WRMSR).
 * @msr_number: ECX.
 * @reserved: 0.
 * @rdx: RDX (the high half of a WRMSR value).
 * @rax: RAX (the low half).
 *
 * To complete an RDMSR set RAX and RDX; for either, advance RIP by 2.
 */
struct vid_msr_intercept {
	struct vid_intercept_header header;
	__u32 msr_number;
	__u32 reserved;
	__u64 rdx;
	__u64 rax;
};

/**
 * struct vid_unsupported_feature - VID_MSG_UNSUPPORTED_FEATURE payload
 * @header: common header.
 * @feature_code: 1 = an exit the hypervisor does not handle.
 * @reserved: 0.
 * @feature_parameter: the hardware exit code.
 */
struct vid_unsupported_feature {
	struct vid_intercept_header header;
	__u32 feature_code;
	__u32 reserved;
	__u64 feature_parameter;
};

/**
 * struct vid_guest_crash - VID_MSG_GUEST_CRASH payload
 * @vp_index: the VP that wrote HV_X64_MSR_CRASH_CTL.
 * @reserved: 0.
 * @crash_control: the value it wrote (bit 63: CrashNotify).
 * @parameters: HV_X64_MSR_CRASH_P0..P4 at that moment (a Linux guest
 *	writes its panic's error code, its guest OS id, RIP, RAX, RSP).
 */
struct vid_guest_crash {
	__u32 vp_index;
	__u32 reserved;
	__u64 crash_control;
	__u64 parameters[5];
};

/**
 * struct vid_guest_reset - VID_MSG_GUEST_RESET payload
 * @vp_index: the VP that wrote HV_X64_MSR_RESET.
 * @reserved: 0.
 */
struct vid_guest_reset {
	__u32 vp_index;
	__u32 reserved;
};

/**
 * struct vid_message - a TLFS HV_MESSAGE (256 bytes)
 * @message_type: VID_MSG_*.
 * @payload_size: bytes of @payload in use.
 * @message_flags: bit 0 message pending.
 * @reserved: 0.
 * @sender: 0 for intercepts.
 * @payload: the message body.
 */
struct vid_message {
	__u32 message_type;
	__u8 payload_size;
	__u8 message_flags;
	__u8 reserved[2];
	__u64 sender;
	union {
		__u64 payload[30];
		struct vid_intercept_header header;
		struct vid_io_port_intercept io_port;
		struct vid_memory_intercept memory;
		struct vid_msr_intercept msr;
		struct vid_unsupported_feature unsupported;
		struct vid_guest_crash guest_crash;
		struct vid_guest_reset guest_reset;
	};
};

/*
 * Interrupts (VID_PARTITION_ASSERT_INTERRUPT, VID_PARTITION_IRQFD).
 * Types are the TLFS HV_INTERRUPT_TYPE values, plus VID_INTERRUPT_MSI
 * for a message-signalled interrupt given as the address/data pair a
 * device would write (the kernel decodes it: destination 19:12 of the
 * address, logical mode bit 2; vector 7:0 and delivery mode 10:8 of the
 * data).
 */
#define VID_INTERRUPT_FIXED		0
#define VID_INTERRUPT_LOWEST_PRIORITY	1
#define VID_INTERRUPT_NMI		4
#define VID_INTERRUPT_INIT		5
#define VID_INTERRUPT_SIPI		6
#define VID_INTERRUPT_MSI		0x100

/* vid_interrupt.flags */
#define VID_INTERRUPT_LOGICAL		0x1U	/* logical destination mode */
#define VID_INTERRUPT_FLAGS_VALID	VID_INTERRUPT_LOGICAL

/* Destination that reaches every VP (physical mode). */
#define VID_INTERRUPT_BROADCAST		0xffffffffU

/**
 * struct vid_interrupt - one interrupt for the partition's virtual APICs
 * @type: VID_INTERRUPT_*.
 * @flags: VID_INTERRUPT_LOGICAL or 0 (ignored for MSI).
 * @destination: APIC id (= VP index) or logical destination;
 *	VID_INTERRUPT_BROADCAST for all VPs. Unused for MSI.
 * @vector: 16..255 for fixed and lowest priority, 0..255 for SIPI,
 *	0 for NMI and INIT. Unused for MSI.
 * @msi_address: VID_INTERRUPT_MSI: 0xfeexxxxx; else 0.
 * @msi_data: VID_INTERRUPT_MSI: the data word (bits 31:16 must be 0);
 *	else 0.
 * @reserved: must be 0.
 *
 * Errors: -EINVAL for an unknown type or flag, a bad vector, a non-zero
 * unused or reserved field, an MSI address outside 0xfee00000-0xfeefffff
 * or an MSI delivery mode other than fixed, lowest priority or NMI;
 * -EBUSY before VID_PARTITION_INITIALIZE. An interrupt for a VP that does
 * not exist is dropped, as on a real APIC bus.
 */
struct vid_interrupt {
	__u32 type;
	__u32 flags;
	__u32 destination;
	__u32 vector;
	__u64 msi_address;
	__u32 msi_data;
	__u32 reserved;
};

/* vid_irqfd.flags */
#define VID_IRQFD_DEASSIGN		0x1U
#define VID_IRQFD_FLAGS_VALID		VID_IRQFD_DEASSIGN

/* Most irqfds one partition may have. */
#define VID_IRQFD_MAX			256

/**
 * struct vid_irqfd - argument of VID_PARTITION_IRQFD
 * @fd: an eventfd.
 * @flags: 0 to bind, VID_IRQFD_DEASSIGN to unbind.
 * @interrupt: what each signal of the eventfd delivers (validated as
 *	for VID_PARTITION_ASSERT_INTERRUPT; must be 0 for DEASSIGN).
 *
 * Every write to the eventfd delivers @interrupt without a system call
 * into vid. Errors: -EBADF (not an eventfd), -EEXIST (already bound),
 * -ENOENT (DEASSIGN of an eventfd not bound), -ENOSPC (VID_IRQFD_MAX
 * bound), -EINVAL as for the interrupt.
 */
struct vid_irqfd {
	__s32 fd;
	__u32 flags;
	struct vid_interrupt interrupt;
};

/*
 * Ports and connections (TLFS HvCreatePort / HvConnectPort): the way a
 * guest's HvSignalEvent and HvPostMessage hypercalls reach the VMM or
 * another SynIC, and the VMM's own posts and signals into a guest.
 *
 * A port says where signals or messages land: in the VMM
 * (VID_PORT_TARGET_VMM: an event port signals an eventfd the VMM gives;
 * a message port queues messages the VMM reads from a queue fd) or in a
 * VP's SynIC of the same partition (VID_PORT_TARGET_GUEST: a message in
 * a SINT's message slot, an event flag in its event flags page). A
 * connection is the id a guest names in its hypercall; it leads to a
 * port by the port's id, looked up at each hypercall, so deleting a
 * port leaves its connections in place (the guest then gets
 * HV_STATUS_INVALID_PORT_ID, until a port with that id exists again).
 *
 * What the guest's hypercalls return (TLFS statuses): unknown
 * connection INVALID_CONNECTION_ID (0x12); its port deleted or of the
 * other type INVALID_PORT_ID (0x11); message type 0 or with bit 31 set,
 * payload over 240 bytes, flag number at or beyond the port's flag
 * count INVALID_PARAMETER (5); a full VMM queue or a guest target slot
 * still holding a message INSUFFICIENT_BUFFERS (0x13): the guest
 * retries (a guest slot frees at its EOM).
 *
 * Ids are 24 bits (TLFS HV_PORT_ID / HV_CONNECTION_ID). A partition has
 * at most VID_PORT_MAX ports and VID_CONNECTION_MAX connections
 * (-ENOSPC beyond). The hypervisor's tables come from the partition's
 * deposit pool (at most 8 pages); queues are charged to the VMM's
 * memory cgroup. All of a partition's ports, connections and their
 * eventfd references go when the partition does; a queue fd outlives it
 * (it then reads what is left, then end of file).
 */
#define VID_PORT_ID_MAX			0x00ffffffU
#define VID_PORT_MAX			256
#define VID_CONNECTION_MAX		256
/* Most messages one VMM queue holds. */
#define VID_PORT_QUEUE_MAX		256
/* Event flags per SINT (TLFS: 2048). */
#define VID_EVENT_FLAG_COUNT		2048
#define VID_SINT_COUNT			16
/* Largest message payload (TLFS: 240 bytes). */
#define VID_MESSAGE_PAYLOAD_MAX		240

/* vid_port.type (TLFS HV_PORT_TYPE) */
#define VID_PORT_TYPE_MESSAGE		1
#define VID_PORT_TYPE_EVENT		2

/* vid_port.target */
#define VID_PORT_TARGET_VMM		1
#define VID_PORT_TARGET_GUEST		2

/* vid_port.flags */
#define VID_PORT_QUEUE_NONBLOCK		0x1U	/* the queue fd is O_NONBLOCK */
#define VID_PORT_FLAGS_VALID		VID_PORT_QUEUE_NONBLOCK

/**
 * struct vid_port - argument of VID_PARTITION_CREATE_PORT
 * @port_id: 0..VID_PORT_ID_MAX, unused in the partition.
 * @type: VID_PORT_TYPE_MESSAGE or VID_PORT_TYPE_EVENT.
 * @target: VID_PORT_TARGET_VMM or VID_PORT_TARGET_GUEST.
 * @flags: VID_PORT_QUEUE_NONBLOCK (message ports to the VMM only) or 0.
 * @vp_index: GUEST: the VP whose SynIC receives, below
 *	VID_PROP_MAX_VP_COUNT (it need not exist yet). VMM: 0.
 * @sint: GUEST: the SINT, 1..15 (SINT 0 is the hypervisor's). VMM: 0.
 * @reserved8: must be 0.
 * @base_flag: GUEST event ports: the event flag the guest's relative
 *	flag 0 sets. Otherwise 0.
 * @flag_count: event ports: how many flags the guest may name, 1..2048
 *	(GUEST: @base_flag + @flag_count <= 2048); the guest's flag n sets
 *	flag @base_flag + n (GUEST) or signals @eventfd whatever n is (VMM).
 *	Message ports: 0.
 * @reserved16: must be 0.
 * @eventfd: VMM event ports: an eventfd, signalled (count + 1) from the
 *	guest's hypercall. Otherwise 0.
 * @queue_length: VMM message ports: the queue's capacity in messages,
 *	1..VID_PORT_QUEUE_MAX. Otherwise 0.
 * @reserved32: must be 0.
 * @reserved: must be 0.
 *
 * Returns 0, or for a VMM message port a new queue fd (O_RDONLY |
 * O_CLOEXEC, plus O_NONBLOCK with VID_PORT_QUEUE_NONBLOCK). read() on it
 * returns whole 256-byte struct vid_message records, oldest first, as
 * many as fit in the buffer (-EINVAL if it holds none): message_type,
 * payload_size and payload as the guest posted them, message_flags 0,
 * the port id in the low 32 bits of @sender. An empty queue blocks (or
 * -EAGAIN when non-blocking); after the port is deleted read() returns
 * what is left, then 0. poll() gives EPOLLIN while messages wait and
 * EPOLLHUP once the port is gone. A full queue answers the guest's
 * HvPostMessage with INSUFFICIENT_BUFFERS.
 *
 * Errors: -EINVAL for an unknown type, target or flag, a non-zero
 * reserved field or field the type and target do not use, an id, SINT,
 * VP index, flag range or queue length out of range, an @eventfd that
 * is not an eventfd; -EBADF for an @eventfd that is not an open fd;
 * -EEXIST when @port_id exists; -ENOSPC with VID_PORT_MAX ports;
 * -EBUSY before VID_PARTITION_INITIALIZE; -ENOMEM.
 */
struct vid_port {
	__u32 port_id;
	__u32 type;
	__u32 target;
	__u32 flags;
	__u32 vp_index;
	__u8 sint;
	__u8 reserved8;
	__u16 base_flag;
	__u16 flag_count;
	__u16 reserved16;
	__s32 eventfd;
	__u32 queue_length;
	__u32 reserved32;
	__u64 reserved[2];
};

/**
 * struct vid_port_delete - argument of VID_PARTITION_DELETE_PORT
 * @port_id: the port.
 * @flags: must be 0.
 * @reserved: must be 0.
 *
 * When the call returns no guest can reach the port any more and its
 * eventfd reference is dropped. Errors: -ENOENT for no such port,
 * -EINVAL for flags, reserved fields or an id beyond VID_PORT_ID_MAX.
 */
struct vid_port_delete {
	__u32 port_id;
	__u32 flags;
	__u64 reserved;
};

/**
 * struct vid_connection - argument of VID_PARTITION_CONNECT_PORT and
 *	VID_PARTITION_DISCONNECT_PORT
 * @connection_id: 0..VID_PORT_ID_MAX: what the guest names.
 * @port_id: CONNECT: an existing port. DISCONNECT: must be 0.
 * @flags: must be 0.
 * @reserved: must be 0.
 *
 * Errors: -ENOENT for no such port (CONNECT) or connection
 * (DISCONNECT); -EEXIST when the connection id exists (CONNECT);
 * -ENOSPC with VID_CONNECTION_MAX connections; -EINVAL for flags,
 * reserved fields or ids out of range; -EBUSY before
 * VID_PARTITION_INITIALIZE.
 */
struct vid_connection {
	__u32 connection_id;
	__u32 port_id;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct vid_post_message - argument of VID_PARTITION_POST_MESSAGE
 *	(HvPostMessageDirect)
 * @vp_index: the receiving VP.
 * @sint: its SINT, 0..15.
 * @reserved8: must be 0.
 * @reserved16: must be 0.
 * @flags: must be 0.
 * @reserved: must be 0.
 * @message: the message, written to the SINT's message slot as given:
 *	a message_type other than 0 (any, the hypervisor's included),
 *	payload_size 0..240, message_flags and reserved 0; @sender is
 *	free. Payload bytes beyond payload_size are delivered as 0.
 *
 * Errors: -EAGAIN while the slot holds a message the guest has not
 * acknowledged (its EOM frees it; the slot's message-pending flag is
 * set meanwhile); -EBUSY when the VP's SynIC, message page or SINT is
 * not enabled (or the partition is not initialized); -EINVAL for a VP
 * that does not exist, a bad SINT, message header, flags or reserved
 * field.
 */
struct vid_post_message {
	__u32 vp_index;
	__u8 sint;
	__u8 reserved8;
	__u16 reserved16;
	__u32 flags;
	__u32 reserved;
	struct vid_message message;
};

/**
 * struct vid_signal_event - argument of VID_PARTITION_SIGNAL_EVENT
 *	(HvSignalEventDirect)
 * @vp_index: the receiving VP.
 * @sint: its SINT, 0..15.
 * @reserved8: must be 0.
 * @flag: the event flag, 0..2047, set in the SINT's event flags; the
 *	SINT is raised if it was clear.
 * @flags: must be 0.
 * @reserved: must be 0.
 *
 * Errors as for VID_PARTITION_POST_MESSAGE (no -EAGAIN: a flag that is
 * already set stays set).
 */
struct vid_signal_event {
	__u32 vp_index;
	__u8 sint;
	__u8 reserved8;
	__u16 flag;
	__u32 flags;
	__u32 reserved;
};

/* vid_sint_notify.flags */
#define VID_SINT_NOTIFY_CLEAR		0x1U
#define VID_SINT_NOTIFY_FLAGS_VALID	VID_SINT_NOTIFY_CLEAR

/**
 * struct vid_sint_notify - argument of VID_PARTITION_SINT_NOTIFY
 * @eventfd: an eventfd (0 with VID_SINT_NOTIFY_CLEAR). The partition
 *	signals it (count + 1) whenever a SINT that refused a
 *	VID_PARTITION_POST_MESSAGE (-EAGAIN: the slot was busy; -EBUSY: the
 *	SynIC could not take messages) may take one now: the guest
 *	acknowledged the slot (EOM) or wrote SCONTROL, SIMP or a SINT. The
 *	VMM then retries the posts it holds back. Signals may be spurious
 *	(the guest's own refused posts count too).
 * @flags: 0 to set the eventfd (replacing any earlier one), or
 *	VID_SINT_NOTIFY_CLEAR to remove it (no error when there is none).
 * @reserved: must be 0.
 *
 * The partition holds a reference to the eventfd until it is replaced
 * or removed (the call returns after that) or the partition goes.
 * Errors: -EBADF for an @eventfd that is not an open fd, -EINVAL for
 * one that is not an eventfd, unknown flags or a non-zero reserved
 * field; -EBUSY before VID_PARTITION_INITIALIZE; -ENOMEM.
 */
struct vid_sint_notify {
	__s32 eventfd;
	__u32 flags;
	__u64 reserved;
};

/**
 * struct vid_vp_run_complete - argument of VID_VP_RUN_COMPLETE
 * @message_type: the intercept being completed, which must be the message
 *	the VP's last VID_VP_RUN or VID_VP_RUN_COMPLETE returned with:
 *	VID_MSG_X64_IO_PORT_INTERCEPT (not a string instruction) or
 *	VID_MSG_X64_MSR_INTERCEPT.
 * @flags: must be 0.
 * @value: an IN's result, in its low access-size bytes (the others
 *	must be 0), or an RDMSR's 64-bit result. Must be 0 for OUT and
 *	WRMSR.
 * @reserved: must be 0.
 *
 * The kernel does what the VMM otherwise does with VID_VP_SET_REGISTERS
 * before running the VP again: for IN it writes @value to AL, AX or EAX
 * (a 32-bit IN clears RAX's upper half; the bytes an 8- or 16-bit IN
 * leaves alone keep the value the intercept reported in RAX), for RDMSR
 * to EAX and EDX (upper halves cleared), and for all of them it sets RIP
 * to the intercept's RIP plus its instruction_length (32 bits wide
 * outside 64-bit code). These values come from the intercept message, so
 * they replace whatever VID_VP_SET_REGISTERS wrote to the same registers
 * in between. String and REP port I/O, memory intercepts and everything
 * else stay with VID_VP_SET_REGISTERS and VID_VP_RUN.
 */
struct vid_vp_run_complete {
	__u32 message_type;
	__u32 flags;
	__u64 value;
	__u64 reserved[2];
};

/* ioctls on /dev/vid */
#define VID_GET_API_VERSION	_IO(VIDIO, 0x00)
#define VID_CHECK_CAPABILITY	_IO(VIDIO, 0x01)
#define VID_CREATE_PARTITION	_IOW(VIDIO, 0x02, struct vid_create_partition)

/* ioctls on a partition fd */
#define VID_PARTITION_GET_PROPERTY	_IOWR(VIDIO, 0x10, struct vid_property)
#define VID_PARTITION_SET_PROPERTY	_IOW(VIDIO, 0x11, struct vid_property)
/*
 * Fix the partition's shape and build its hypervisor structures (taken from
 * the deposit pool; the kernel deposits what is missing and retries).
 * Errors: -EBUSY if already initialized, -ENOMEM if memory ran out.
 */
#define VID_PARTITION_INITIALIZE	_IO(VIDIO, 0x12)
#define VID_PARTITION_DEPOSIT		_IOW(VIDIO, 0x13, struct vid_deposit)
#define VID_PARTITION_WITHDRAW		_IOWR(VIDIO, 0x14, struct vid_deposit)
#define VID_PARTITION_MAP_GPA		_IOW(VIDIO, 0x15, struct vid_gpa_map)
#define VID_PARTITION_UNMAP_GPA		_IOW(VIDIO, 0x16, struct vid_gpa_unmap)
#define VID_PARTITION_CREATE_VP		_IOW(VIDIO, 0x17, struct vid_create_vp)
/* Deliver one interrupt (HvAssertVirtualInterrupt). */
#define VID_PARTITION_ASSERT_INTERRUPT	_IOW(VIDIO, 0x18, struct vid_interrupt)
#define VID_PARTITION_IRQFD		_IOW(VIDIO, 0x19, struct vid_irqfd)
/* Ports and connections (struct vid_port and below). */
#define VID_PARTITION_CREATE_PORT	_IOW(VIDIO, 0x1a, struct vid_port)
#define VID_PARTITION_DELETE_PORT	_IOW(VIDIO, 0x1b, struct vid_port_delete)
#define VID_PARTITION_CONNECT_PORT	_IOW(VIDIO, 0x1c, struct vid_connection)
#define VID_PARTITION_DISCONNECT_PORT	_IOW(VIDIO, 0x1d, struct vid_connection)
#define VID_PARTITION_POST_MESSAGE	_IOW(VIDIO, 0x1e, struct vid_post_message)
#define VID_PARTITION_SIGNAL_EVENT	_IOW(VIDIO, 0x1f, struct vid_signal_event)
#define VID_PARTITION_SINT_NOTIFY	_IOW(VIDIO, 0x30, struct vid_sint_notify)

/* ioctls on a VP fd */
#define VID_VP_GET_REGISTERS		_IOW(VIDIO, 0x20, struct vid_vp_registers)
#define VID_VP_SET_REGISTERS		_IOW(VIDIO, 0x21, struct vid_vp_registers)
/*
 * Run the VP until an intercept the VMM must handle; the message is then
 * in the VP's message page. -EINTR when a signal arrived first (the VP is
 * stopped, its state consistent, and can be run again); -EBUSY if another
 * thread runs it.
 */
#define VID_VP_RUN			_IO(VIDIO, 0x22)
/*
 * Complete the intercept the last run returned with (struct
 * vid_vp_run_complete), then run as VID_VP_RUN does: one system call per
 * port I/O or MSR intercept instead of two. The completion is applied
 * exactly once: it has been when the call returns 0 or -EINTR (after
 * -EINTR, go on with VID_VP_RUN), and nothing changed when it fails its
 * checks: -EFAULT, -EBUSY (another thread runs the VP), -EINVAL (flags,
 * reserved fields, @value; no intercept pending because the last run
 * returned none or it was completed already; a different message type;
 * a type or kind of access this call does not complete). A module
 * without it fails with -ENOTTY.
 */
#define VID_VP_RUN_COMPLETE	_IOW(VIDIO, 0x23, struct vid_vp_run_complete)

#endif /* _UAPI_LINUX_VID_H */
