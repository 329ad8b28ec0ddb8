// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-side VMBus client of the selftests (lib_vmbus_guest.h). All
 * of it is guest code: no system calls, no libc beyond memcpy()/memset().
 */
#define VID_TEST_UTIL_NO_HARNESS
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "lib_cguest.h"
#include "lib_vmbus_guest.h"

/* Synthetic MSRs, hypercalls. */
#define HV_MSR_GUEST_OS_ID	0x40000000
#define HV_MSR_HYPERCALL	0x40000001
#define HV_MSR_SCONTROL		0x40000080
#define HV_MSR_SIEFP		0x40000082
#define HV_MSR_SIMP		0x40000083
#define HV_MSR_EOM		0x40000084
#define HV_MSR_SINT(n)		(0x40000090 + (n))
#define HV_SINT_AUTO_EOI	0x20000ULL
#define HVCALL_POST_MESSAGE	0x005c
#define HVCALL_SIGNAL_EVENT	0x005d
#define HV_HYPERCALL_FAST	0x10000ULL
#define GUEST_OS_ID		0x8100000000060100ULL

#define VMG_SINT		2
#define VMG_CONN_ID_1		1
#define VMG_CONN_ID_4		4
#define VMG_SYNIC_MSG_TYPE	1
#define PAGE			4096U
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* The wire layouts (include/linux/hyperv.h). */
struct vmg_hdr {
	uint32_t msgtype;
	uint32_t padding;
};

struct vmg_initiate_contact {
	struct vmg_hdr hdr;
	uint32_t version;
	uint32_t target_vcpu;
	uint64_t target_info;	/* interrupt page; from 5.0 byte 0: SINT */
	uint64_t monitor_page1;
	uint64_t monitor_page2;
};

struct vmg_version_response {
	struct vmg_hdr hdr;
	uint8_t version_supported;
	uint8_t connection_state;
	uint16_t padding;
	uint32_t msg_conn_id;
};

struct vmg_offer {
	struct vmg_hdr hdr;
	uint8_t if_type[16];
	uint8_t if_instance[16];
	uint32_t reserved1[2];	/* u64s in Linux: 4-aligned here */
	uint32_t reserved2[2];
	uint16_t chn_flags;
	uint16_t mmio_megabytes;
	uint8_t user_def[120];
	uint16_t sub_channel_index;
	uint16_t reserved3;
	uint32_t child_relid;
	uint8_t monitorid;
	uint8_t monitor_flags;
	uint16_t interrupt_flags;
	uint32_t connection_id;
};

struct vmg_relid_msg {
	struct vmg_hdr hdr;
	uint32_t child_relid;
};

struct vmg_open_msg {
	struct vmg_hdr hdr;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t gpadl;
	uint32_t target_vp;
	uint32_t downstream_offset;
	uint8_t userdata[120];
};

struct vmg_open_result {
	struct vmg_hdr hdr;
	uint32_t child_relid;
	uint32_t openid;
	uint32_t status;
};

struct vmg_gpadl_header {
	struct vmg_hdr hdr;
	uint32_t child_relid;
	uint32_t gpadl;
	uint16_t range_buflen;
	uint16_t rangecount;
	/* then the range buffer: byte_count, byte_offset, frames (u64s) */
};

struct vmg_gpadl_body {
	struct vmg_hdr hdr;
	uint32_t msgnumber;
	uint32_t gpadl;
	uint64_t pfn[];
};

struct vmg_gpadl_created {
	struct vmg_hdr hdr;
	uint32_t child_relid;
	uint32_t gpadl;
	uint32_t status;
};

struct vmg_gpadl_teardown {
	struct vmg_hdr hdr;
	uint32_t child_relid;
	uint32_t gpadl;
};

struct vmg_gpadl_torndown {
	struct vmg_hdr hdr;
	uint32_t gpadl;
};

static_assert(sizeof(struct vmg_initiate_contact) == 40, "contact");
static_assert(sizeof(struct vmg_version_response) == 16, "version");
static_assert(sizeof(struct vmg_offer) == 196, "offer");
static_assert(offsetof(struct vmg_offer, child_relid) == 184, "relid");
static_assert(sizeof(struct vmg_open_msg) == 148, "open");
static_assert(sizeof(struct vmg_gpadl_header) == 20, "gpadl header");
static_assert(sizeof(struct vmg_gpadl_body) == 16, "gpadl body");

/* Frames in a GPADL_HEADER (after the range header) and in a body. */
#define VMG_GPADL_HDR_PFNS \
	((VMG_MSG_MAX - sizeof(struct vmg_gpadl_header) - 8) / 8)
#define VMG_GPADL_BODY_PFNS \
	((VMG_MSG_MAX - sizeof(struct vmg_gpadl_body)) / 8)

/* The TLFS message slot and HvPostMessage input. */
struct vmg_slot {
	uint32_t type;
	uint8_t size;
	uint8_t flags;
	uint16_t reserved;
	uint64_t sender;
	uint8_t payload[VMG_MSG_MAX];
};

struct vmg_post_input {
	uint32_t connection_id;
	uint32_t reserved;
	uint32_t message_type;
	uint32_t payload_size;
	uint8_t payload[VMG_MSG_MAX];
};

struct vmg vmg;

static inline void vmg_mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

static inline void vmg_barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

static void vmg_irq(struct vid_guest_regs *regs)
{
	(void)regs;
	vmg.irqs++;
}

static uint64_t vmg_hc_result(uint8_t vector, uint64_t rax)
{
	return vector ? VMG_HC_FAULT | vector : rax & 0xffff;
}

static uint64_t vmg_signal_event(uint32_t conn)
{
	uint64_t rax;
	uint8_t v;

	v = vmmcall_safe(HVCALL_SIGNAL_EVENT | HV_HYPERCALL_FAST, conn, 0,
			 &rax);
	return vmg_hc_result(v, rax);
}

uint64_t vmg_init(void)
{
	memset(&vmg, 0, sizeof(vmg));
	vmg.pool_next = VMG_POOL_GPA;
	vmg.next_gpadl = 0xe1e10;
	memset((void *)VMG_SIMP_GPA, 0, 7 * PAGE);

	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) |
	      MSR_IA32_APICBASE_ENABLE | MSR_IA32_APICBASE_EXTD);
	x2apic_write_reg(APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
	guest_install_handler(VMG_VECTOR, vmg_irq);

	wrmsr(HV_MSR_GUEST_OS_ID, GUEST_OS_ID);
	wrmsr(HV_MSR_HYPERCALL, VMG_HYPERCALL_GPA | 1);
	wrmsr(HV_MSR_SIMP, VMG_SIMP_GPA | 1);
	wrmsr(HV_MSR_SIEFP, VMG_SIEF_GPA | 1);
	wrmsr(HV_MSR_SINT(VMG_SINT), VMG_VECTOR | HV_SINT_AUTO_EOI);
	wrmsr(HV_MSR_SCONTROL, 1);
	/* a connection nobody connected: INVALID_CONNECTION_ID (0x12) */
	return vmg_signal_event(0xfedcba);
}

void *vmg_alloc_pages(uint32_t npages)
{
	uint64_t gpa = vmg.pool_next;

	GUEST_ASSERT(gpa + (uint64_t)npages * PAGE <= VMG_POOL_END);
	vmg.pool_next += (uint64_t)npages * PAGE;
	memset((void *)gpa, 0, (size_t)npages * PAGE);
	return (void *)gpa;
}

/* ----- messages ----- */

uint64_t vmg_post_once(uint32_t conn, uint32_t type, const void *msg,
		       uint32_t size)
{
	struct vmg_post_input *in = (struct vmg_post_input *)VMG_INPUT_GPA;
	uint64_t rax;
	uint8_t v;

	in->connection_id = conn;
	in->reserved = 0;
	in->message_type = type;
	in->payload_size = size;
	memset(in->payload, 0, sizeof(in->payload));
	memcpy(in->payload, msg, size < VMG_MSG_MAX ? size : VMG_MSG_MAX);
	v = vmmcall_safe(HVCALL_POST_MESSAGE, (uint64_t)in, 0, &rax);
	return vmg_hc_result(v, rax);
}

uint64_t vmg_post_conn(uint32_t conn, uint32_t type, const void *msg,
		       uint32_t size)
{
	unsigned int tries;
	uint64_t st;

	for (tries = 0;; tries++) {
		st = vmg_post_once(conn, type, msg, size);
		/* the root's queue is full: Linux retries, so do we */
		if (st != VMG_HV_STATUS_INSUFFICIENT_BUFFERS || tries >= 10000)
			break;
		vmg.post_retries++;
		__asm__ volatile("pause" ::: "memory");
	}
	if (st == VMG_HV_STATUS_SUCCESS)
		vmg.tx++;
	return st;
}

uint64_t vmg_post(const void *msg, uint32_t size)
{
	return vmg_post_conn(vmg.msg_conn_id, VMG_SYNIC_MSG_TYPE, msg, size);
}

bool vmg_msg_poll(struct vmg_msg *m)
{
	struct vmg_slot *s = (struct vmg_slot *)VMG_SIMP_GPA + VMG_SINT;
	uint32_t size;

	m->slot_type = VMG_READ(s->type);
	if (!m->slot_type)
		return false;
	vmg_barrier();
	size = VMG_READ(s->size);
	if (size > VMG_MSG_MAX)
		size = VMG_MSG_MAX;
	memset(m->data, 0, sizeof(m->data));
	memcpy(m->data, s->payload, size);
	m->size = size;
	m->msgtype = size >= 4 ? m->data64[0] & 0xffffffff : 0;
	/* empty the slot, then EOM if the root has another waiting */
	VMG_WRITE(s->type, 0);
	vmg_mb();
	if (VMG_READ(s->flags) & 1)
		wrmsr(HV_MSR_EOM, 0);
	vmg.rx++;
	return true;
}

/*
 * Messages taken out of the slot while waiting for a ring wait in the
 * backlog for the next vmg_msg_wait(); a rescind marks its channel at
 * once, so that ring waits end.
 */
static void vmg_pump(void)
{
	const struct vmg_relid_msg *r;
	struct vmg_channel *ch;
	struct vmg_msg *m;

	while (vmg.nbacklog < VMG_BACKLOG) {
		m = &vmg.backlog[(vmg.backlog_head + vmg.nbacklog) %
				 VMG_BACKLOG];
		if (!vmg_msg_poll(m))
			return;
		vmg.nbacklog++;
		r = (const void *)m->data;
		if (m->msgtype == VMG_MSG_RESCIND_CHANNELOFFER) {
			ch = vmg_channel_by_relid(r->child_relid);
			if (ch)
				ch->rescind_seen = true;
		}
	}
}

void vmg_msg_wait(struct vmg_msg *m)
{
	if (vmg.nbacklog) {
		memcpy(m, &vmg.backlog[vmg.backlog_head], sizeof(*m));
		vmg.backlog_head = (vmg.backlog_head + 1) % VMG_BACKLOG;
		vmg.nbacklog--;
		return;
	}
	cli();
	while (!vmg_msg_poll(m)) {
		sti_hlt();
		cli();
	}
}

static struct vmg_channel *vmg_chan_slot(uint32_t relid)
{
	struct vmg_channel *free = NULL;
	unsigned int i;

	for (i = 0; i < VMG_MAX_CHANNELS; i++) {
		if (vmg.chans[i].relid == relid)
			return &vmg.chans[i];
		if (!vmg.chans[i].relid && !free)
			free = &vmg.chans[i];
	}
	return free;
}

struct vmg_channel *vmg_channel_by_relid(uint32_t relid)
{
	unsigned int i;

	for (i = 0; relid && i < VMG_MAX_CHANNELS; i++)
		if (vmg.chans[i].relid == relid)
			return &vmg.chans[i];
	return NULL;
}

struct vmg_channel *vmg_find_channel(const uint8_t type[16], unsigned int n)
{
	unsigned int i;

	for (i = 0; i < VMG_MAX_CHANNELS; i++) {
		if (!vmg.chans[i].relid || vmg.chans[i].rescinded ||
		    memcmp(vmg.chans[i].type, type, 16))
			continue;
		if (!n--)
			return &vmg.chans[i];
	}
	return NULL;
}

static void vmg_record_offer(const struct vmg_msg *m)
{
	const struct vmg_offer *o = (const void *)m->data;
	struct vmg_channel *ch = vmg_chan_slot(o->child_relid);

	vmg.offers++;
	if (!ch || !o->child_relid)
		return;
	memset(ch, 0, sizeof(*ch));
	ch->relid = o->child_relid;
	ch->connection_id = o->connection_id;
	memcpy(ch->type, o->if_type, 16);
	memcpy(ch->instance, o->if_instance, 16);
	ch->chn_flags = o->chn_flags;
	ch->mmio_megabytes = o->mmio_megabytes;
	ch->sub_channel_index = o->sub_channel_index;
	ch->monitorid = o->monitorid;
	ch->monitor_flags = o->monitor_flags;
	ch->interrupt_flags = o->interrupt_flags;
	memcpy(ch->user_def, o->user_def, sizeof(ch->user_def));
}

/* Offers and rescinds can come at any time: note them. */
static bool vmg_dispatch(const struct vmg_msg *m)
{
	const struct vmg_relid_msg *r = (const void *)m->data;
	struct vmg_channel *ch;

	switch (m->msgtype) {
	case VMG_MSG_OFFERCHANNEL:
		vmg_record_offer(m);
		return true;
	case VMG_MSG_RESCIND_CHANNELOFFER:
		vmg.rescinds++;
		ch = vmg_channel_by_relid(r->child_relid);
		if (ch)
			ch->rescinded = true;
		return true;
	case VMG_MSG_ALLOFFERS_DELIVERED:
		vmg.alloffers = true;
		return true;
	}
	return false;
}

/* The field of message @m that names its channel or GPADL. */
static uint32_t vmg_msg_key(const struct vmg_msg *m)
{
	switch (m->msgtype) {
	case VMG_MSG_OPENCHANNEL_RESULT:
		return ((const struct vmg_open_result *)m->data)->child_relid;
	case VMG_MSG_GPADL_CREATED:
		return ((const struct vmg_gpadl_created *)m->data)->gpadl;
	case VMG_MSG_GPADL_TORNDOWN:
		return ((const struct vmg_gpadl_torndown *)m->data)->gpadl;
	case VMG_MSG_RESCIND_CHANNELOFFER:
		return ((const struct vmg_relid_msg *)m->data)->child_relid;
	}
	return ~0U;
}

bool vmg_wait_chan(uint32_t type, uint32_t match, struct vmg_channel *ch,
		   struct vmg_msg *m)
{
	for (;;) {
		if (ch && ch->rescinded)
			return false;
		vmg_msg_wait(m);
		if (m->msgtype == type &&
		    (match == ~0U || vmg_msg_key(m) == match)) {
			vmg_dispatch(m);
			return true;
		}
		if (vmg_dispatch(m))
			continue;
		vmg.unexpected++;
		vmg.last_unexpected = m->msgtype;
	}
}

void vmg_wait_for(uint32_t type, uint32_t match, struct vmg_msg *m)
{
	for (;;) {
		vmg_msg_wait(m);
		if (m->msgtype == type &&
		    (match == ~0U || vmg_msg_key(m) == match)) {
			/* still record what it says */
			vmg_dispatch(m);
			return;
		}
		if (vmg_dispatch(m))
			continue;
		vmg.unexpected++;
		vmg.last_unexpected = m->msgtype;
	}
}

/* ----- the connection ----- */

bool vmg_connect_version(uint32_t version, struct vmg_msg *resp)
{
	struct vmg_initiate_contact c = {
		.hdr.msgtype = VMG_MSG_INITIATE_CONTACT,
		.version = version,
		.target_vcpu = 0,
		.monitor_page1 = VMG_MONITOR1_GPA,
		.monitor_page2 = VMG_MONITOR2_GPA,
	};
	const struct vmg_version_response *r = (const void *)resp->data;
	uint32_t conn;

	if (version >= VMG_VERSION_WIN10_V5) {
		c.target_info = VMG_SINT;
		conn = VMG_CONN_ID_4;
	} else {
		c.target_info = VMG_INT_PAGE_GPA;
		conn = VMG_CONN_ID_1;
	}
	vmg.version = 0;
	if (vmg.ntried < 16)
		vmg.tried[vmg.ntried++] = version;
	GUEST_ASSERT_EQ(vmg_post_conn(conn, VMG_SYNIC_MSG_TYPE, &c,
				      sizeof(c)), VMG_HV_STATUS_SUCCESS);
	vmg_wait_for(VMG_MSG_VERSION_RESPONSE, ~0U, resp);
	if (!r->version_supported || r->connection_state)
		return false;
	vmg.version = version;
	vmg.msg_conn_id = version >= VMG_VERSION_WIN10_V5 ? r->msg_conn_id :
			  VMG_CONN_ID_1;
	return true;
}

uint32_t vmg_connect(uint32_t max_version)
{
	static const uint32_t versions[] = {
		VMG_VERSION_WIN10_V5_3, VMG_VERSION_WIN10_V5_2,
		VMG_VERSION_WIN10_V5_1, VMG_VERSION_WIN10_V5,
		VMG_VERSION_WIN10_V4_1, VMG_VERSION_WIN10,
		VMG_VERSION_WIN8_1, VMG_VERSION_WIN8, VMG_VERSION_WIN7,
	};
	struct vmg_msg m;
	unsigned int i;

	vmg.ntried = 0;
	for (i = 0; i < ARRAY_SIZE(versions); i++) {
		if (max_version && versions[i] > max_version)
			continue;
		if (vmg_connect_version(versions[i], &m))
			return versions[i];
	}
	return 0;
}

uint32_t vmg_request_offers(void)
{
	struct vmg_hdr h = { .msgtype = VMG_MSG_REQUESTOFFERS };
	uint64_t before = vmg.offers;
	struct vmg_msg m;

	vmg.alloffers = false;
	GUEST_ASSERT_EQ(vmg_post(&h, sizeof(h)), VMG_HV_STATUS_SUCCESS);
	vmg_wait_for(VMG_MSG_ALLOFFERS_DELIVERED, ~0U, &m);
	return vmg.offers - before;
}

void vmg_unload(void)
{
	struct vmg_hdr h = { .msgtype = VMG_MSG_UNLOAD };
	struct vmg_msg m;

	GUEST_ASSERT_EQ(vmg_post(&h, sizeof(h)), VMG_HV_STATUS_SUCCESS);
	vmg_wait_for(VMG_MSG_UNLOAD_RESPONSE, ~0U, &m);
	vmg.version = 0;
	memset(vmg.chans, 0, sizeof(vmg.chans));
}

/* ----- GPADLs ----- */

uint32_t vmg_gpadl_create_pfns(uint32_t relid, uint32_t handle,
			       const uint64_t *pfns, uint32_t npages,
			       uint32_t byte_offset, uint32_t byte_count)
{
	uint64_t buf[VMG_MSG_MAX / 8];
	struct vmg_gpadl_header *h = (void *)buf;
	struct vmg_gpadl_body *b = (void *)buf;
	uint8_t *range = (uint8_t *)buf + sizeof(*h);
	const struct vmg_gpadl_created *c;
	uint32_t n, done, msgno = 0;
	struct vmg_msg m;

	memset(buf, 0, sizeof(buf));
	n = npages < VMG_GPADL_HDR_PFNS ? npages : VMG_GPADL_HDR_PFNS;
	h->hdr.msgtype = VMG_MSG_GPADL_HEADER;
	h->child_relid = relid;
	h->gpadl = handle;
	h->range_buflen = 8 + 8 * npages;
	h->rangecount = 1;
	/* one range: its header, then its frames (4-aligned on the wire) */
	memcpy(range, &byte_count, 4);
	memcpy(range + 4, &byte_offset, 4);
	memcpy(range + 8, pfns, n * 8);
	GUEST_ASSERT_EQ(vmg_post(h, sizeof(*h) + 8 + n * 8),
			VMG_HV_STATUS_SUCCESS);
	for (done = n; done < npages; done += n) {
		n = npages - done;
		if (n > VMG_GPADL_BODY_PFNS)
			n = VMG_GPADL_BODY_PFNS;
		memset(buf, 0, sizeof(buf));
		b->hdr.msgtype = VMG_MSG_GPADL_BODY;
		b->msgnumber = ++msgno;
		b->gpadl = handle;
		memcpy(b->pfn, pfns + done, n * 8);
		GUEST_ASSERT_EQ(vmg_post(b, sizeof(*b) + n * 8),
				VMG_HV_STATUS_SUCCESS);
	}
	vmg_wait_for(VMG_MSG_GPADL_CREATED, handle, &m);
	c = (const void *)m.data;
	return c->status;
}

uint32_t vmg_gpadl_create(uint32_t relid, uint64_t gpa, uint32_t npages,
			  uint32_t *handle)
{
	uint64_t pfns[VMG_GPADL_MAX_PAGES];
	uint32_t i;

	GUEST_ASSERT(npages <= VMG_GPADL_MAX_PAGES);
	for (i = 0; i < npages; i++)
		pfns[i] = gpa / PAGE + i;
	*handle = vmg.next_gpadl++;
	return vmg_gpadl_create_pfns(relid, *handle, pfns, npages, 0,
				     npages * PAGE);
}

void vmg_gpadl_teardown(uint32_t relid, uint32_t handle)
{
	struct vmg_gpadl_teardown t = {
		.hdr.msgtype = VMG_MSG_GPADL_TEARDOWN,
		.child_relid = relid,
		.gpadl = handle,
	};
	struct vmg_msg m;

	GUEST_ASSERT_EQ(vmg_post(&t, sizeof(t)), VMG_HV_STATUS_SUCCESS);
	vmg_wait_for(VMG_MSG_GPADL_TORNDOWN, handle, &m);
}

/* ----- channels ----- */

static void vmg_ring_setup(struct vmg_ring *r, uint64_t gpa, uint32_t pages)
{
	r->hdr = (struct vmg_ring_hdr *)gpa;
	r->data = (uint8_t *)(gpa + PAGE);
	r->size = (pages - 1) * PAGE;
	memset((void *)gpa, 0, PAGE);
	r->hdr->feature_bits = 1;	/* pending_send_sz supported */
}

uint32_t vmg_open(struct vmg_channel *ch, uint32_t out_pages,
		  uint32_t in_pages)
{
	struct vmg_open_msg o = { .hdr.msgtype = VMG_MSG_OPENCHANNEL };
	const struct vmg_open_result *r;
	uint32_t pages = out_pages + in_pages, st;
	struct vmg_msg m;

	if (!ch->ring_gpa || ch->ring_pages != pages)
		ch->ring_gpa = (uint64_t)vmg_alloc_pages(pages);
	ch->ring_pages = pages;
	ch->out_pages = out_pages;
	vmg_ring_setup(&ch->out, ch->ring_gpa, out_pages);
	vmg_ring_setup(&ch->in, ch->ring_gpa + (uint64_t)out_pages * PAGE,
		       in_pages);
	if (!ch->gpadl) {
		st = vmg_gpadl_create(ch->relid, ch->ring_gpa, pages,
				      &ch->gpadl);
		if (st) {
			ch->gpadl = 0;
			return st;
		}
	}
	o.child_relid = ch->relid;
	o.openid = ch->relid;
	o.gpadl = ch->gpadl;
	o.target_vp = 0;
	o.downstream_offset = out_pages;
	GUEST_ASSERT_EQ(vmg_post(&o, sizeof(o)), VMG_HV_STATUS_SUCCESS);
	/* the root ignores opens of a channel it rescinded */
	if (!vmg_wait_chan(VMG_MSG_OPENCHANNEL_RESULT, ch->relid, ch, &m)) {
		ch->open_status = VMG_OPEN_RESCINDED;
		return VMG_OPEN_RESCINDED;
	}
	r = (const void *)m.data;
	ch->open_status = r->status;
	ch->open = !r->status;
	GUEST_ASSERT_EQ(r->openid, ch->relid);
	return r->status;
}

void vmg_close(struct vmg_channel *ch)
{
	struct vmg_relid_msg c = {
		.hdr.msgtype = VMG_MSG_CLOSECHANNEL,
		.child_relid = ch->relid,
	};

	GUEST_ASSERT_EQ(vmg_post(&c, sizeof(c)), VMG_HV_STATUS_SUCCESS);
	ch->open = false;
}

void vmg_close_teardown(struct vmg_channel *ch)
{
	vmg_close(ch);
	if (ch->gpadl)
		vmg_gpadl_teardown(ch->relid, ch->gpadl);
	ch->gpadl = 0;
}

void vmg_release(struct vmg_channel *ch)
{
	struct vmg_relid_msg c = {
		.hdr.msgtype = VMG_MSG_RELID_RELEASED,
		.child_relid = ch->relid,
	};

	GUEST_ASSERT_EQ(vmg_post(&c, sizeof(c)), VMG_HV_STATUS_SUCCESS);
	memset(ch, 0, sizeof(*ch));
}

/* ----- rings ----- */

void vmg_signal(struct vmg_channel *ch)
{
	uint8_t *send_bits = (uint8_t *)VMG_INT_PAGE_GPA + PAGE / 2;

	/* a shared interrupt (1.1): say which channel in the page too */
	if (!(ch->interrupt_flags & 1))
		__atomic_fetch_or(&send_bits[ch->relid / 8],
				  (uint8_t)(1U << (ch->relid % 8)),
				  __ATOMIC_SEQ_CST);
	ch->signals++;
	if (vmg_signal_event(ch->connection_id))
		ch->signal_fail++;
}

static bool vmg_test_clear_bit(uint8_t *bits, uint32_t bit)
{
	uint8_t mask = 1U << (bit % 8);

	if (!(VMG_READ(bits[bit / 8]) & mask))
		return false;
	return __atomic_fetch_and(&bits[bit / 8], (uint8_t)~mask,
				  __ATOMIC_SEQ_CST) & mask;
}

bool vmg_event_test_clear(struct vmg_channel *ch)
{
	uint8_t *flags = (uint8_t *)VMG_SIEF_GPA + 256 * VMG_SINT;

	if (vmg.version >= VMG_VERSION_WIN8)
		return vmg_test_clear_bit(flags, ch->relid);
	/* 1.1: flag 0, then the relid's bit in the interrupt page */
	vmg_test_clear_bit(flags, 0);
	return vmg_test_clear_bit((uint8_t *)VMG_INT_PAGE_GPA, ch->relid);
}

/* Copy into / out of a ring's data area, across its end. */
static void vmg_ring_put(struct vmg_ring *r, uint32_t off, const void *src,
			 uint32_t len)
{
	uint32_t first = r->size - off;

	if (len <= first) {
		memcpy(r->data + off, src, len);
	} else {
		memcpy(r->data + off, src, first);
		memcpy(r->data, (const uint8_t *)src + first, len - first);
	}
}

static void vmg_ring_get(const struct vmg_ring *r, uint32_t off, void *dst,
			 uint32_t len)
{
	uint32_t first = r->size - off;

	if (len <= first) {
		memcpy(dst, r->data + off, len);
	} else {
		memcpy(dst, r->data + off, first);
		memcpy((uint8_t *)dst + first, r->data, len - first);
	}
}

static uint32_t vmg_ring_add(const struct vmg_ring *r, uint32_t off,
			     uint32_t n)
{
	off += n;
	return off >= r->size ? off - r->size : off;
}

struct vmg_desc {
	uint16_t type;
	uint16_t offset8;
	uint16_t len8;
	uint16_t flags;
	uint64_t trans_id;
};

int vmg_send(struct vmg_channel *ch, uint16_t type, uint16_t flags,
	     uint64_t trans_id, const void *hdr, uint32_t hdr_len,
	     const void *data, uint32_t len)
{
	struct vmg_ring *r = &ch->out;
	uint32_t pkt = sizeof(struct vmg_desc) + hdr_len + len;
	uint32_t aligned = (pkt + 7) & ~7U, total = aligned + 8;
	struct vmg_desc d = {
		.type = type,
		.offset8 = sizeof(struct vmg_desc) / 8,
		.len8 = aligned / 8,
		.flags = flags,
		.trans_id = trans_id,
	};
	uint32_t w, rd, avail, off;
	uint64_t trailer, pad = 0;

	if (aligned / 8 > 0xffff)
		return -EMSGSIZE;
	w = VMG_READ(r->hdr->write_index);
	rd = VMG_READ(r->hdr->read_index);
	if (rd >= r->size || rd % 8)
		return -EBADMSG;
	avail = rd > w ? rd - w : r->size - (w - rd);
	/* never fill it: write == read means empty */
	if (avail <= total)
		return -EAGAIN;
	trailer = (uint64_t)w << 32;
	if (w + total <= r->size) {
		/* the usual case, no wrap: one pass, stores for the small parts */
		uint8_t *p = r->data + w;

		memcpy(p, &d, sizeof(d));
		memcpy(p + sizeof(d), hdr, hdr_len);
		memcpy(p + sizeof(d) + hdr_len, data, len);
		if (aligned != pkt)
			memcpy(p + pkt, &pad, aligned - pkt);
		memcpy(p + aligned, &trailer, 8);
		off = w + total == r->size ? 0 : w + total;
	} else {
		off = w;
		vmg_ring_put(r, off, &d, sizeof(d));
		off = vmg_ring_add(r, off, sizeof(d));
		if (hdr_len) {
			vmg_ring_put(r, off, hdr, hdr_len);
			off = vmg_ring_add(r, off, hdr_len);
		}
		if (len) {
			vmg_ring_put(r, off, data, len);
			off = vmg_ring_add(r, off, len);
		}
		if (aligned != pkt) {
			vmg_ring_put(r, off, &pad, aligned - pkt);
			off = vmg_ring_add(r, off, aligned - pkt);
		}
		vmg_ring_put(r, off, &trailer, 8);
		off = vmg_ring_add(r, off, 8);
	}
	vmg_mb();
	VMG_WRITE(r->hdr->write_index, off);
	vmg_mb();
	/* signal only when the reader may be asleep on an empty ring */
	if (!VMG_READ(r->hdr->interrupt_mask) &&
	    w == VMG_READ(r->hdr->read_index))
		vmg_signal(ch);
	return 0;
}

/* Wait, interrupts on, for the channel's event (or anything else). */
typedef bool (*vmg_ready_fn)(struct vmg_channel *ch, uint32_t arg);

/*
 * Poll before halting (vmg.halt_poll loops), the in ring's interrupt_mask
 * set as Linux's reader sets it while it drains: the root need not signal
 * what we are about to see. Found something: the mask stays set while the
 * caller drains on. Found nothing: the mask is cleared again, then the
 * caller looks once more before it halts.
 */
static bool vmg_poll(struct vmg_channel *ch, vmg_ready_fn ready,
		     uint32_t arg)
{
	uint32_t i;

	if (vmg.halt_poll)
		VMG_WRITE(ch->in.hdr->interrupt_mask, 1);
	/* no PAUSE: the hypervisor may intercept it */
	for (i = 0; i < vmg.halt_poll; i++) {
		if (ready(ch, arg))
			return true;
		vmg_barrier();
	}
	/* (set by an earlier poll that found something, too) */
	VMG_WRITE(ch->in.hdr->interrupt_mask, 0);
	vmg_mb();
	return false;
}

static void vmg_wait_event(struct vmg_channel *ch, vmg_ready_fn ready,
			   uint32_t arg)
{
	bool polled = false;

	cli();
	while (!ready(ch, arg)) {
		vmg_pump();
		if (ready(ch, arg))
			break;
		if (!polled) {
			polled = true;
			if (vmg_poll(ch, ready, arg))
				break;
			continue;
		}
		if (!vmg_event_test_clear(ch)) {
			ch->halts++;
			sti_hlt();
			cli();
		}
	}
}

static uint32_t vmg_out_free(struct vmg_channel *ch)
{
	struct vmg_ring *r = &ch->out;
	uint32_t w = VMG_READ(r->hdr->write_index);
	uint32_t rd = VMG_READ(r->hdr->read_index);

	return rd > w ? rd - w : r->size - (w - rd);
}

static bool vmg_out_has(struct vmg_channel *ch, uint32_t total)
{
	return vmg_out_free(ch) > total || ch->rescinded || ch->rescind_seen;
}

int vmg_send_wait(struct vmg_channel *ch, uint16_t type, uint16_t flags,
		  uint64_t trans_id, const void *hdr, uint32_t hdr_len,
		  const void *data, uint32_t len)
{
	uint32_t total = ((sizeof(struct vmg_desc) + hdr_len + len + 7) & ~7U)
			 + 8;
	int ret;

	for (;;) {
		ret = vmg_send(ch, type, flags, trans_id, hdr, hdr_len, data,
			       len);
		if (ret != -EAGAIN || ch->rescinded || ch->rescind_seen)
			return ret;
		/* ask for a signal once that much is free, then wait */
		VMG_WRITE(ch->out.hdr->pending_send_sz, total);
		vmg_mb();
		vmg_wait_event(ch, vmg_out_has, total);
		VMG_WRITE(ch->out.hdr->pending_send_sz, 0);
	}
}

bool vmg_in_empty(struct vmg_channel *ch)
{
	return VMG_READ(ch->in.hdr->write_index) ==
	       VMG_READ(ch->in.hdr->read_index);
}

/* The reader moved read_index from @old: does the writer wait for that? */
static void vmg_recv_done(struct vmg_channel *ch, uint32_t old, uint32_t new)
{
	struct vmg_ring *r = &ch->in;
	uint32_t pending, w, free_now, freed;

	vmg_mb();
	VMG_WRITE(r->hdr->read_index, new);
	vmg_mb();
	pending = VMG_READ(r->hdr->pending_send_sz);
	if (!pending)
		return;
	w = VMG_READ(r->hdr->write_index);
	free_now = new > w ? new - w : r->size - (w - new);
	freed = new >= old ? new - old : r->size - (old - new);
	/* signal only when this read made the space the writer wants */
	if (free_now > pending && free_now - freed <= pending)
		vmg_signal(ch);
}

int vmg_recv(struct vmg_channel *ch, void *buf, uint32_t size,
	     struct vmg_pkt *pkt)
{
	struct vmg_ring *r = &ch->in;
	uint32_t w, rd, avail, len, off;
	struct vmg_desc d;

	w = VMG_READ(r->hdr->write_index);
	rd = VMG_READ(r->hdr->read_index);
	if (w == rd)
		return -EAGAIN;
	if (w >= r->size || w % 8 || rd >= r->size || rd % 8)
		return -EBADMSG;
	vmg_barrier();
	avail = w > rd ? w - rd : r->size - (rd - w);
	if (avail < sizeof(d) + 8)
		return -EBADMSG;
	vmg_ring_get(r, rd, &d, sizeof(d));
	len = d.len8 * 8;
	off = d.offset8 * 8;
	if (len < sizeof(d) || off < sizeof(d) || off > len ||
	    len + 8 > avail)
		return -EBADMSG;
	if (len - off > size)
		return -ENOBUFS;
	pkt->type = d.type;
	pkt->flags = d.flags;
	pkt->trans_id = d.trans_id;
	pkt->len = len - off;
	vmg_ring_get(r, vmg_ring_add(r, rd, off), buf, len - off);
	vmg_recv_done(ch, rd, vmg_ring_add(r, rd, len + 8));
	return 0;
}

static bool vmg_in_ready(struct vmg_channel *ch, uint32_t arg)
{
	(void)arg;
	return !vmg_in_empty(ch) || ch->rescinded || ch->rescind_seen;
}

int vmg_recv_wait(struct vmg_channel *ch, void *buf, uint32_t size,
		  struct vmg_pkt *pkt)
{
	int ret;

	for (;;) {
		ret = vmg_recv(ch, buf, size, pkt);
		if (ret != -EAGAIN || ch->rescinded || ch->rescind_seen)
			return ret;
		vmg_wait_event(ch, vmg_in_ready, 0);
	}
}
