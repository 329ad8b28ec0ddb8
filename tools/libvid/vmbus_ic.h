/* SPDX-License-Identifier: LGPL-2.1 */
/*
 * libvid: the Hyper-V integration services (heartbeat, shutdown,
 * timesync, KVP) as userspace VSPs.
 *
 * Where they live: in the VM worker process (the VMWP role: vidvm), in
 * libvid, not in the kernel module. Hyper-V's root hosts them in VMWP
 * too; they are policy (when to beat, what to ask a guest, what a stalled
 * guest means) on top of a plain channel, and the kernel only needs to
 * provide the channel: each is a userspace channel of the partition's
 * VMBus server (uapi/linux/vid_vmbus.h, tools/libvid/vmbus_chan.h).
 *
 * The protocol (the "ICMSG framework"), as Linux's hv_utils speaks it
 * (drivers/hv/hv_util.c, hv_kvp.c, channel_mgmt.c's
 * vmbus_prep_negotiate_resp()): every message is one in-band VMBus
 * packet holding a pipe header (struct vid_ic_pipe_hdr), a struct
 * vid_icmsg_hdr and the message. The host initiates every transaction:
 * it sends a request (ICMSGHDRFLAG_TRANSACTION | _REQUEST, a fresh
 * packet transaction id, its low byte in ictransaction_id) and the guest
 * answers with the same buffer, same length and same transaction id,
 * flags TRANSACTION | RESPONSE, its answer written in place. One
 * transaction per service is outstanding at a time (hv_kvp relies on
 * it). The first transaction on a freshly opened channel is NEGOTIATE:
 * the host lists the framework versions and then the service versions it
 * speaks, and the guest answers with one of each (or with counts of 0:
 * nothing in common; the service is then unusable until the guest
 * reopens the channel).
 *
 * Every guest answer is checked before it is used: packet type and
 * length, header flags, message type, transaction id, icmsgsize against
 * the packet, and each service's fields (negotiated versions among those
 * offered, heartbeat seq_num + 1, KVP sizes and UTF-16). A malformed
 * answer is counted (struct vid_ic_info.bad) and fails that transaction
 * with -EBADMSG; an answer with a transaction id that is not outstanding
 * is counted and dropped. The pipe header of an answer is not checked:
 * Linux echoes the host's, and nothing in it is needed.
 *
 * Two layers:
 *  - struct vid_ic_svc: one service on one channel, a state machine with
 *    non-blocking requests, fed packets by vid_ic_svc_process() and time
 *    by vid_ic_svc_tick(). It never sleeps and never reads a clock of its
 *    own except through its config (unit tests drive it with a model of
 *    the Linux guest on in-memory rings).
 *  - struct vid_ic_host: the four services offered on a partition, one
 *    worker thread polling their channel fds, beating and sampling time,
 *    and the blocking calls a VMM or a CLI uses: vid_ic_shutdown_request(),
 *    vid_ic_kvp_get(), vid_ic_heartbeat_stats(), vid_ic_timesync_push().
 *
 * Return values: 0 (or a non-negative value) on success, a negative
 * errno on failure.
 */
#ifndef LIBVID_VMBUS_IC_H
#define LIBVID_VMBUS_IC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmbus_chan.h"

/*
 * Class GUIDs of the services, in guid_t byte order (what the offer
 * carries; the first three fields little-endian). Linux's hv_utils binds
 * to these (include/linux/hyperv.h):
 *   heartbeat {57164f39-9115-4e78-ab55-382f3bd5422d}  HV_HEART_BEAT_GUID
 *   shutdown  {0e0b6031-5213-4934-818b-38d90ced39db}  HV_SHUTDOWN_GUID
 *   timesync  {9527e630-d0ae-497b-adce-e80ab0175caf}  HV_TS_GUID
 *   KVP       {a9a0f4e7-5a45-4d96-b827-8a841e8c03e6}  HV_KVP_GUID
 */
extern const uint8_t vid_ic_guid_heartbeat[16];
extern const uint8_t vid_ic_guid_shutdown[16];
extern const uint8_t vid_ic_guid_timesync[16];
extern const uint8_t vid_ic_guid_kvp[16];

/* A version: major << 16 | minor, as in the negotiation lists. */
#define VID_IC_VERSION(major, minor)	((uint32_t)(major) << 16 | (minor))
#define VID_IC_MAJOR(v)			((v) >> 16)
#define VID_IC_MINOR(v)			((v) & 0xffff)

/* icmsg_hdr.icmsgtype */
#define ICMSGTYPE_NEGOTIATE		0
#define ICMSGTYPE_HEARTBEAT		1
#define ICMSGTYPE_KVPEXCHANGE		2
#define ICMSGTYPE_SHUTDOWN		3
#define ICMSGTYPE_TIMESYNC		4
#define ICMSGTYPE_VSS			5
#define ICMSGTYPE_FCOPY			7

/* icmsg_hdr.icflags */
#define ICMSGHDRFLAG_TRANSACTION	1
#define ICMSGHDRFLAG_REQUEST		2
#define ICMSGHDRFLAG_RESPONSE		4

/* icmsg_hdr.status, and guest answers (HRESULTs) */
#define VID_IC_S_OK			0x00000000U
#define VID_IC_E_FAIL			0x80004005U
#define VID_IC_S_CONT			0x80070103U	/* no more items */

/* Pipe header flags a message carries: one data message. */
#define VID_IC_PIPE_DATA		1

/* Versions count at most per list in a NEGOTIATE (Linux refuses more). */
#define VID_IC_MAX_VERSIONS		100

/* The wire structures below have no padding: byte-packed. */
#pragma pack(push, 1)

/**
 * struct vid_ic_pipe_hdr - the pipe header before each IC message
 * @flags: VID_IC_PIPE_DATA
 * @msgsize: bytes after this header
 */
struct vid_ic_pipe_hdr {
	uint32_t flags;
	uint32_t msgsize;
};

/**
 * struct vid_ic_version - one version in a header or negotiation list
 * @major: major
 * @minor: minor
 */
struct vid_ic_version {
	uint16_t major;
	uint16_t minor;
};

/**
 * struct vid_icmsg_hdr - the common IC message header (Linux's icmsg_hdr)
 * @icverframe: framework version (the negotiated one after NEGOTIATE)
 * @icmsgtype: ICMSGTYPE_*
 * @icvermsg: service version (the negotiated one after NEGOTIATE)
 * @icmsgsize: bytes of message after this header
 * @status: the guest's answer, an HRESULT (VID_IC_S_OK, ...)
 * @ictransaction_id: the low byte of the packet's transaction id
 * @icflags: ICMSGHDRFLAG_*
 * @reserved: 0
 */
struct vid_icmsg_hdr {
	struct vid_ic_version icverframe;
	uint16_t icmsgtype;
	struct vid_ic_version icvermsg;
	uint16_t icmsgsize;
	uint32_t status;
	uint8_t ictransaction_id;
	uint8_t icflags;
	uint8_t reserved[2];
};

/* Bytes of pipe header and message header before every message. */
#define VID_ICMSG_HDR_SIZE \
	(sizeof(struct vid_ic_pipe_hdr) + sizeof(struct vid_icmsg_hdr))

/**
 * struct vid_icmsg_negotiate - a NEGOTIATE message
 * @icframe_vercnt: framework versions in @icversion_data (first)
 * @icmsg_vercnt: service versions in @icversion_data (after those)
 * @reserved: 0
 * @icversion_data: the versions
 */
struct vid_icmsg_negotiate {
	uint16_t icframe_vercnt;
	uint16_t icmsg_vercnt;
	uint32_t reserved;
	struct vid_ic_version icversion_data[];
};

/**
 * struct vid_ic_heartbeat_msg - ICMSGTYPE_HEARTBEAT
 * @seq_num: the host's number; the guest answers it plus one
 * @reserved: 0
 */
struct vid_ic_heartbeat_msg {
	uint64_t seq_num;
	uint32_t reserved[8];
};

/* vid_ic_shutdown_msg.flags: what to do; | FORCE: without asking apps. */
#define VID_IC_SHUTDOWN_POWEROFF	0
#define VID_IC_SHUTDOWN_FORCE		1
#define VID_IC_SHUTDOWN_REBOOT		2
#define VID_IC_SHUTDOWN_HIBERNATE	4

/**
 * struct vid_ic_shutdown_msg - ICMSGTYPE_SHUTDOWN
 * @reason_code: the host's reason (informational)
 * @timeout_seconds: how long the guest has (informational)
 * @flags: VID_IC_SHUTDOWN_*
 * @display_message: the reason text, UTF-16LE, NUL-terminated
 */
struct vid_ic_shutdown_msg {
	uint32_t reason_code;
	uint32_t timeout_seconds;
	uint32_t flags;
	uint8_t display_message[2048];
};

/* vid_ic_timesync_*.flags */
#define VID_IC_TIMESYNC_PROBE		0
#define VID_IC_TIMESYNC_SYNC		1	/* set your clock now */
#define VID_IC_TIMESYNC_SAMPLE		2	/* a sample, a hint */

/* 100 ns units from 1601-01-01 to 1970-01-01 (Linux's WLTIMEDELTA). */
#define VID_IC_TIME_1601_TO_1970	116444736000000000ULL

/**
 * struct vid_ic_timesync_msg - ICMSGTYPE_TIMESYNC before version 4
 * @parenttime: the host's time, 100 ns units since 1601 (UTC)
 * @childtime: 0
 * @roundtriptime: 0
 * @flags: VID_IC_TIMESYNC_*
 */
struct vid_ic_timesync_msg {
	uint64_t parenttime;
	uint64_t childtime;
	uint64_t roundtriptime;
	uint8_t flags;
};

/**
 * struct vid_ic_timesync_ref_msg - ICMSGTYPE_TIMESYNC, version 4
 * @parenttime: the host's time, 100 ns units since 1601 (UTC)
 * @vmreferencetime: the partition's reference counter when @parenttime
 *	was read (100 ns units), so the guest can add the delivery delay
 * @flags: VID_IC_TIMESYNC_*
 * @leapflags: 0
 * @stratum: 0
 * @reserved: 0
 */
struct vid_ic_timesync_ref_msg {
	uint64_t parenttime;
	uint64_t vmreferencetime;
	uint8_t flags;
	uint8_t leapflags;
	uint8_t stratum;
	uint8_t reserved[3];
};

/* KVP operations and pools (Linux's uapi hv_kvp_exchg_op/_pool). */
#define VID_IC_KVP_OP_GET		0
#define VID_IC_KVP_OP_SET		1
#define VID_IC_KVP_OP_DELETE		2
#define VID_IC_KVP_OP_ENUMERATE		3

#define VID_IC_KVP_POOL_EXTERNAL	0	/* host -> guest data */
#define VID_IC_KVP_POOL_GUEST		1	/* guest -> host data */
#define VID_IC_KVP_POOL_AUTO		2	/* the guest's intrinsics */
#define VID_IC_KVP_POOL_AUTO_EXTERNAL	3
#define VID_IC_KVP_POOL_AUTO_INTERNAL	4
#define VID_IC_KVP_POOL_COUNT		5

/* Wire sizes of a KVP key and value: UTF-16LE bytes, NUL included. */
#define VID_IC_KVP_KEY_BYTES		512
#define VID_IC_KVP_VALUE_BYTES		2048
/* The same as UTF-8 C strings, NUL included (3 bytes per UTF-16 unit). */
#define VID_IC_KVP_KEY_MAX		(VID_IC_KVP_KEY_BYTES / 2 * 3 + 1)
#define VID_IC_KVP_VALUE_MAX		(VID_IC_KVP_VALUE_BYTES / 2 * 3 + 1)

/* value_type: the host and Linux use strings. */
#define VID_IC_KVP_REG_SZ		1

/**
 * struct vid_ic_kvp_value - a key and value on the wire
 * @value_type: VID_IC_KVP_REG_SZ
 * @key_size: bytes of @key used, the UTF-16 NUL included
 * @value_size: bytes of @value used, the UTF-16 NUL included
 * @key: UTF-16LE
 * @value: UTF-16LE
 */
struct vid_ic_kvp_value {
	uint32_t value_type;
	uint32_t key_size;
	uint32_t value_size;
	uint8_t key[VID_IC_KVP_KEY_BYTES];
	uint8_t value[VID_IC_KVP_VALUE_BYTES];
};

/**
 * struct vid_ic_kvp_hdr - what starts every KVP message
 * @operation: VID_IC_KVP_OP_*
 * @pool: VID_IC_KVP_POOL_*
 * @pad: 0
 */
struct vid_ic_kvp_hdr {
	uint8_t operation;
	uint8_t pool;
	uint16_t pad;
};

/**
 * struct vid_ic_kvp_enum_msg - ICMSGTYPE_KVPEXCHANGE, ENUMERATE
 * @hdr: operation VID_IC_KVP_OP_ENUMERATE
 * @index: the item asked for
 * @data: the guest's answer: item @index's key and value
 */
struct vid_ic_kvp_enum_msg {
	struct vid_ic_kvp_hdr hdr;
	uint32_t index;
	struct vid_ic_kvp_value data;
};

/**
 * struct vid_ic_kvp_getset_msg - ICMSGTYPE_KVPEXCHANGE, GET, SET, DELETE
 * @hdr: the operation
 * @data: the key (and for SET the value; for GET the guest's answer)
 */
struct vid_ic_kvp_getset_msg {
	struct vid_ic_kvp_hdr hdr;
	struct vid_ic_kvp_value data;
};

#pragma pack(pop)

/* ---- one service on one channel ---- */

enum vid_ic_kind {
	VID_IC_HEARTBEAT,
	VID_IC_SHUTDOWN,
	VID_IC_TIMESYNC,
	VID_IC_KVP,
	VID_IC_KINDS
};

enum vid_ic_state {
	VID_IC_CLOSED,		/* channel not open */
	VID_IC_NEGOTIATING,	/* NEGOTIATE sent, no answer yet */
	VID_IC_READY,		/* versions agreed */
	VID_IC_FAILED,		/* no common version, or a bad answer to it */
	VID_IC_BROKEN,		/* the guest corrupted the channel's rings */
};

/**
 * struct vid_ic_svc_config - how a service negotiates and keeps time
 * @max_framework: the newest framework version to offer (0: 3.0)
 * @max_version: the newest service version to offer (0: the newest this
 *	library speaks: heartbeat 3.0, shutdown 3.2, timesync 4.0 if
 *	@ref_time is set else 3.0, KVP 4.0)
 * @stall_ticks: heartbeat: ticks an answer may be late before the guest
 *	counts as stalled (0: 3)
 * @now_time: timesync: the host's time in 100 ns units since 1601 (NULL:
 *	CLOCK_REALTIME)
 * @ref_time: timesync: the partition's reference counter (100 ns) now;
 *	without it version 4, which carries it, is not offered (vid has no
 *	interface yet to read a partition's reference counter)
 * @opaque: passed to @now_time and @ref_time
 */
struct vid_ic_svc_config {
	uint32_t max_framework;
	uint32_t max_version;
	uint32_t stall_ticks;
	int (*now_time)(void *opaque, uint64_t *t1601);
	int (*ref_time)(void *opaque, uint64_t *ref);
	void *opaque;
};

/**
 * struct vid_ic_result - the outcome of one transaction
 * @err: 0; -EBADMSG (malformed answer), -ENOTCONN (channel closed
 *	before the answer), -ECANCELED (superseded)
 * @status: the guest's status (VID_IC_S_OK, VID_IC_E_FAIL, VID_IC_S_CONT)
 * @seq: heartbeat: the sequence number the guest answered
 * @key: KVP ENUMERATE: the key, UTF-8
 * @value: KVP GET and ENUMERATE: the value, UTF-8
 */
struct vid_ic_result {
	int err;
	uint32_t status;
	uint64_t seq;
	char key[VID_IC_KVP_KEY_MAX];
	char value[VID_IC_KVP_VALUE_MAX];
};

/**
 * struct vid_ic_info - a service's state and counters
 * @kind: which service
 * @state: enum vid_ic_state
 * @framework: the negotiated framework version (0 before)
 * @version: the negotiated service version (0 before)
 * @negotiations: NEGOTIATE transactions completed (one per open)
 * @requests: requests sent (NEGOTIATE included)
 * @answers: well-formed answers
 * @bad: malformed answers (the transaction failed)
 * @stale: answers with a transaction id not outstanding (dropped)
 * @send_errors: requests the ring refused (full, closed)
 * @beats: heartbeat: answered beats
 * @missed: heartbeat: ticks at which the previous beat was unanswered
 * @stalls: heartbeat: times the guest became stalled
 * @stalled: heartbeat: unanswered for more than stall_ticks ticks now
 * @last_seq: heartbeat: the last sequence number the guest answered
 * @samples: timesync: TIMESYNC messages answered
 */
struct vid_ic_info {
	enum vid_ic_kind kind;
	enum vid_ic_state state;
	uint32_t framework;
	uint32_t version;
	uint64_t negotiations;
	uint64_t requests;
	uint64_t answers;
	uint64_t bad;
	uint64_t stale;
	uint64_t send_errors;
	uint64_t beats;
	uint64_t missed;
	uint64_t stalls;
	bool stalled;
	uint64_t last_seq;
	uint64_t samples;
};

struct vid_ic_svc;

/* A service of @kind speaking over @ch (which it does not own). */
struct vid_ic_svc *vid_ic_svc_new(enum vid_ic_kind kind,
				  struct vid_vmbus_chan *ch,
				  const struct vid_ic_svc_config *cfg);
void vid_ic_svc_free(struct vid_ic_svc *svc);

/* The channel opened: reset and send NEGOTIATE. */
int vid_ic_svc_start(struct vid_ic_svc *svc);
/* The channel closed: fail the outstanding transaction, state CLOSED. */
void vid_ic_svc_stop(struct vid_ic_svc *svc);

/*
 * Take every packet the guest queued and act on it. Returns the number of
 * packets taken, or -EBADMSG once the rings are corrupt (state BROKEN).
 */
int vid_ic_svc_process(struct vid_ic_svc *svc);

/*
 * A period passed: the heartbeat beats (or counts a missed beat), the
 * timesync service sends a SAMPLE; the others do nothing.
 */
void vid_ic_svc_tick(struct vid_ic_svc *svc);

/*
 * Requests. Each returns the transaction's id (> 0) or -ENOTCONN (not
 * READY), -EBUSY (a transaction is outstanding), -EINVAL, or the ring's
 * error. vid_ic_svc_result() gets the outcome.
 */
int64_t vid_ic_svc_heartbeat(struct vid_ic_svc *svc);
int64_t vid_ic_svc_shutdown(struct vid_ic_svc *svc, uint32_t flags,
			    uint32_t reason_code, uint32_t timeout_seconds,
			    const char *reason);
int64_t vid_ic_svc_timesync(struct vid_ic_svc *svc, uint8_t flags);
/* ENUMERATE (@key, @value unused), GET (@key) or SET (@key, @value). */
int64_t vid_ic_svc_kvp(struct vid_ic_svc *svc, uint8_t op, uint8_t pool,
		       uint32_t index, const char *key, const char *value);

/*
 * The outcome of transaction @id: 0 with *@res filled in, -EINPROGRESS
 * while outstanding, -ENOENT if @id is not the last transaction.
 */
int vid_ic_svc_result(const struct vid_ic_svc *svc, int64_t id,
		      struct vid_ic_result *res);

void vid_ic_svc_info(const struct vid_ic_svc *svc, struct vid_ic_info *info);
const char *vid_ic_kind_name(enum vid_ic_kind kind);
const char *vid_ic_state_name(enum vid_ic_state state);

/* ---- the four services on a partition, with a worker thread ---- */

/**
 * struct vid_ic_host_config - what vid_ic_host_create() sets up
 * @services: bit (1 << enum vid_ic_kind) per service to offer (0: all)
 * @heartbeat_ms: heartbeat period (0: 2000, Hyper-V's)
 * @timesync_ms: timesync SAMPLE period (0: 5000)
 * @svc: negotiation and time sources, for every service
 */
struct vid_ic_host_config {
	uint32_t services;
	uint32_t heartbeat_ms;
	uint32_t timesync_ms;
	struct vid_ic_svc_config svc;
};

struct vid_ic_host;

/*
 * Offer the services on @part_fd's VMBus server (VID_PARTITION_VMBUS_CREATE
 * done) and start the worker thread that serves them. @cfg may be NULL.
 * Each channel's instance GUID is its class GUID with the last byte
 * replaced by 0x01..0x04 (fixed, so a guest sees the same devices on
 * every boot).
 */
int vid_ic_host_create(int part_fd, const struct vid_ic_host_config *cfg,
		       struct vid_ic_host **out);
/* Stop the thread, rescind the channels, free. */
void vid_ic_host_destroy(struct vid_ic_host *h);

/*
 * In-process loopback (unit tests): the services on local channels the
 * caller made and attached (vid_vmbus_chan_local(); NULL entries are not
 * served; the caller frees them after vid_ic_host_destroy()). There are
 * no channel events: vid_ic_host_local_open() plays the guest's OPEN,
 * and whoever writes guest packets calls vid_ic_host_kick() as the
 * guest's signal.
 */
int vid_ic_host_create_local(struct vid_vmbus_chan *const chans[VID_IC_KINDS],
			     const struct vid_ic_host_config *cfg,
			     struct vid_ic_host **out);
int vid_ic_host_local_open(struct vid_ic_host *h, enum vid_ic_kind kind);
void vid_ic_host_kick(struct vid_ic_host *h);

/*
 * The blocking calls below wait at most @timeout_ms (< 0: forever) for the
 * service to be negotiated and then for the guest's answer. Errors:
 * -ENODEV (service not offered), -ETIMEDOUT, -ENOTCONN (channel closed
 * meanwhile), -EPROTONOSUPPORT (negotiation failed), -EBADMSG (malformed
 * answer), -EBUSY (another caller's transaction is outstanding).
 */

/*
 * Ask the guest to power off, reboot or hibernate (VID_IC_SHUTDOWN_*,
 * maybe | _FORCE), with a reason text shown or logged by the guest.
 * Returns 0 when the guest accepted, -EREMOTEIO when it refused.
 */
int vid_ic_shutdown_request(struct vid_ic_host *h, uint32_t flags,
			    const char *reason, int timeout_ms);

/*
 * Item @index of a KVP pool: key and value as UTF-8. Returns 0, -ENOENT
 * past the last item (the guest's S_CONT), -EREMOTEIO on another
 * failure status (no KVP daemon in the guest, ...), -ENOSPC when
 * @key_size or @value_size is too small.
 */
int vid_ic_kvp_enumerate(struct vid_ic_host *h, uint8_t pool, uint32_t index,
			 char *key, size_t key_size, char *value,
			 size_t value_size, int timeout_ms);

/*
 * The value of @key in @pool, UTF-8. Linux's hv_kvp_daemon serves the
 * guest's intrinsic items (FullyQualifiedDomainName, OSName, OSVersion,
 * OSBuildNumber, ProcessorArchitecture, IntegrationServicesVersion,
 * NetworkAddressIPv4, ...) in VID_IC_KVP_POOL_AUTO only through
 * ENUMERATE, and answers GET with an empty value, so this enumerates
 * the pool until the key is found (each item one transaction; the
 * timeout is per transaction). Returns 0, -ENOENT, or as above.
 */
int vid_ic_kvp_get(struct vid_ic_host *h, uint8_t pool, const char *key,
		   char *value, size_t value_size, int timeout_ms);

/* Store @key = @value in the guest's @pool (usually _EXTERNAL). */
int vid_ic_kvp_set(struct vid_ic_host *h, uint8_t pool, const char *key,
		   const char *value, int timeout_ms);

/* The heartbeat's counters (state, beats, missed, stalled, ...). */
int vid_ic_heartbeat_stats(struct vid_ic_host *h, struct vid_ic_info *info);

/* Any service's state and counters. */
int vid_ic_info(struct vid_ic_host *h, enum vid_ic_kind kind,
		struct vid_ic_info *info);

/*
 * Send the host's time now with VID_IC_TIMESYNC_SYNC (the guest sets its
 * clock) and wait for the guest's answer.
 */
int vid_ic_timesync_push(struct vid_ic_host *h, int timeout_ms);

/*
 * One command line for a VMM's control console or a CLI; answers go to
 * @out, one line each:
 *   status                      every service: state, versions, counters
 *   heartbeat                   beats, missed, stalled
 *   shutdown|reboot|hibernate [reason text]
 *   timesync                    push the host's time (SYNC)
 *   kvp get KEY [POOL]          POOL: external guest auto (default)
 *                               auto_external auto_internal
 *   kvp list [POOL]             every KEY=VALUE of the pool
 *   kvp set KEY VALUE           into the guest's external pool
 * Returns 0, -EINVAL for an unknown command, or the call's error.
 */
int vid_ic_command(struct vid_ic_host *h, const char *line, FILE *out,
		   int timeout_ms);

#endif /* LIBVID_VMBUS_IC_H */
