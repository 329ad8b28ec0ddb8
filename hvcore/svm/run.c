// SPDX-License-Identifier: GPL-2.0
/*
 * Running a VP: ASID assignment, the entry/exit discipline around
 * svm_vmrun() (GIF, IRQs, host state), and the exit handler table.
 *
 * Exits the hypervisor finishes itself resume the guest at once; exits
 * that belong to the root become a TLFS intercept message.
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/percpu.h>
#include <asm/debugreg.h>
#include <asm/hyperv-tlfs.h>
#include <asm/processor.h>

#include "../../uapi/linux/vid.h"
#include "../hv_regs.h"
#include "../lapic.h"
#include "svm.h"

/* Page-fault error code bits in an NPF's EXITINFO1. */
#define SVM_PF_PRESENT		BIT_ULL(0)
#define SVM_PF_WRITE		BIT_ULL(1)
#define SVM_PF_FETCH		BIT_ULL(4)

/* What an exit handler tells the run loop. */
enum svm_exit_result {
	SVM_RESUME,		/* handled: enter the guest again */
	SVM_TO_ROOT,		/* a message for the root is in msg */
};

/**
 * struct svm_cpu - per-CPU ASID allocator
 * @generation: bumped each time the ASID space wraps (all TLBs flushed).
 * @next_asid: next ASID to hand out; 0 is the host's.
 */
struct svm_cpu {
	u64 generation;
	u32 next_asid;
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpu) = { .generation = 1, .next_asid = 1 };
static u32 svm_max_asid;

void svm_run_setup(void)
{
	svm_max_asid = cpuid_ebx(SVM_CPUID_FUNC) - 1;
}

/* Preemption disabled: pick this CPU's ASID and TLB action for the VP. */
static void svm_prepare_asid(struct hv_vp *vp, struct svm_vp *svm)
{
	struct svm_cpu *sc = this_cpu_ptr(&svm_cpu);
	int cpu = smp_processor_id();
	struct vmcb_control_area *c = &svm->vmcb->control;
	u64 generation;

	if (svm->last_cpu != cpu || svm->asid_generation != sc->generation) {
		if (sc->next_asid > svm_max_asid) {
			sc->generation++;
			sc->next_asid = 1;
			c->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
		}
		svm->last_cpu = cpu;
		svm->asid_generation = sc->generation;
		c->asid = sc->next_asid++;
	}
	/* After hv_vp_notify()'s barrier: an unmap's bump is seen here. */
	generation = READ_ONCE(vp->partition->slat_generation);
	if (svm->slat_generation != generation) {
		svm->slat_generation = generation;
		if (c->tlb_ctl == TLB_CONTROL_DO_NOTHING)
			c->tlb_ctl = TLB_CONTROL_FLUSH_ASID;
	}
}

/*
 * Debug registers. DR6 and DR7 are in the VMCB, DR0-3 are not. As KVM
 * does, guest MOV DR is intercepted until the guest uses a debug
 * register: most guests never do, and then no dispatch touches the
 * hardware registers (which cost a sixth of a port-I/O round trip under
 * QEMU's TCG when switched at every dispatch). At the first access in a
 * dispatch loop, or at its start when the guest's DR7 enables a
 * breakpoint, the guest gets its DR0-3 in the hardware registers and the
 * intercepts go away until the loop ends (the MOV DR then runs again).
 * The host's DR7 (restored by #VMEXIT) keeps the guest's values inert
 * for host code; only when the host itself uses hardware breakpoints are
 * they switched at every entry and exit. Preemption off throughout.
 */
#define SVM_DR7_ENABLES		0xffULL		/* L0-3 and G0-3 */

static void svm_dr_to_guest(struct svm_vp *svm)
{
	set_debugreg(svm->dr[0], 0);
	set_debugreg(svm->dr[1], 1);
	set_debugreg(svm->dr[2], 2);
	set_debugreg(svm->dr[3], 3);
	svm->dr_loaded = true;
}

static void svm_dr_to_host(struct svm_vp *svm)
{
	get_debugreg(svm->dr[0], 0);
	get_debugreg(svm->dr[1], 1);
	get_debugreg(svm->dr[2], 2);
	get_debugreg(svm->dr[3], 3);
	if (hw_breakpoint_active()) {
		hw_breakpoint_restore();
	} else {
		set_debugreg(0UL, 0);
		set_debugreg(0UL, 1);
		set_debugreg(0UL, 2);
		set_debugreg(0UL, 3);
	}
	svm->dr_loaded = false;
}

static void svm_dr_intercept(struct svm_vp *svm, bool on)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		if (on) {
			svm_set_intercept(svm, INTERCEPT_DR0_READ + i);
			svm_set_intercept(svm, INTERCEPT_DR0_WRITE + i);
		} else {
			svm_clr_intercept(svm, INTERCEPT_DR0_READ + i);
			svm_clr_intercept(svm, INTERCEPT_DR0_WRITE + i);
		}
	}
}

/* The guest uses its debug registers for the rest of the loop. */
static void svm_dr_activate(struct svm_vp *svm)
{
	svm->dr_active = true;
	svm_dr_intercept(svm, false);
	if (!hw_breakpoint_active())
		svm_dr_to_guest(svm);
}

/* The loop ends: DR0-3 back to svm->dr, MOV DR intercepted again. */
static void svm_dr_deactivate(struct svm_vp *svm)
{
	if (svm->dr_loaded)
		svm_dr_to_host(svm);
	if (svm->dr_active) {
		svm->dr_active = false;
		svm_dr_intercept(svm, true);
	}
}

/*
 * One guest entry and exit; the dispatch loop keeps preemption off.
 * Returns false, without entering, when a request arrived after the
 * loop looked (hv_vp_notify() saw the VP outside the guest and sent no
 * IPI, so it must be looked at now).
 */
static bool svm_enter_guest(struct hv_vp *vp, struct svm_vp *svm,
			    u64 host_save)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	bool host_bp = svm->dr_active && hw_breakpoint_active();
	u8 tpr;

	local_irq_disable();
	WRITE_ONCE(vp->mode, HV_VP_IN_GUEST);
	/* Pairs with hv_vp_notify(): request first, then mode. */
	smp_mb();
	if (READ_ONCE(vp->requests) || READ_ONCE(vp->kick)) {
		WRITE_ONCE(vp->mode, HV_VP_OUTSIDE_GUEST);
		local_irq_enable();
		return false;
	}
	svm_prepare_asid(vp, svm);
	tpr = hv_lapic_get_cr8(vp);
	c->int_ctl = (c->int_ctl & ~V_TPR_MASK) | tpr;
	asm volatile("clgi" ::: "memory");
	/*
	 * RFLAGS.IF at VMRUN decides whether physical interrupts exit the
	 * guest; GIF = 0 keeps them pending until STGI.
	 */
	svm_fpu_load_xcr0(svm);
	if (svm->dr_active && !svm->dr_loaded)
		svm_dr_to_guest(svm);
	raw_local_irq_enable();
	svm_vmrun(svm, __pa(svm->vmcb), host_save);
	raw_local_irq_disable();
	if (host_bp)
		svm_dr_to_host(svm);
	svm_fpu_put_xcr0(svm);
	c->tlb_ctl = TLB_CONTROL_DO_NOTHING;
	WRITE_ONCE(vp->mode, HV_VP_OUTSIDE_GUEST);
	asm volatile("stgi" ::: "memory");
	local_irq_enable();
	/*
	 * CR8 writes went to V_TPR; TPR's low nibble survives otherwise.
	 * Only this thread changes the VP's TPR, so it is still @tpr.
	 */
	if ((c->int_ctl & V_TPR_MASK) != tpr)
		hv_lapic_set_cr8(vp, c->int_ctl & V_TPR_MASK);
	return true;
}

/*
 * An event whose delivery an exit interrupted (EXITINTINFO) is delivered
 * again at the next entry, before anything new.
 */
static void svm_reinject(struct svm_vp *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;

	if (!(c->exit_int_info & SVM_EXITINTINFO_VALID))
		return;
	/* QEMU's TCG reports an interrupt cut short as an exception. */
	if ((c->exit_int_info & SVM_EXITINTINFO_TYPE_MASK) ==
	    SVM_EXITINTINFO_TYPE_EXEPT &&
	    (c->exit_int_info & SVM_EXITINTINFO_VEC_MASK) >= 32)
		c->exit_int_info = (c->exit_int_info &
				    ~(SVM_EXITINTINFO_TYPE_MASK |
				      SVM_EXITINTINFO_VALID_ERR)) |
				   SVM_EXITINTINFO_TYPE_INTR;
	c->event_inj = c->exit_int_info;
	c->event_inj_err = c->exit_int_info_err;
	c->exit_int_info = 0;
}

/*
 * EXITINTINFO @info: the delivery of interrupt @vector, cut short? TCG
 * reports it as an exception (svm_reinject()), which for a vector of 32
 * and up cannot be a real one.
 */
static bool svm_virq_cut_short(u32 info, u8 vector)
{
	u32 type = info & SVM_EXITINTINFO_TYPE_MASK;

	if (!(info & SVM_EXITINTINFO_VALID) ||
	    (info & SVM_EXITINTINFO_VEC_MASK) != vector)
		return false;
	return type == SVM_EXITINTINFO_TYPE_INTR ||
	       (type == SVM_EXITINTINFO_TYPE_EXEPT && vector >= 32);
}

/*
 * After an entry: did the guest take the interrupt offered as V_IRQ?
 * The CPU clears V_IRQ when it does; the vLAPIC then moves the vector
 * from IRR to ISR. One not taken is withdrawn, to be offered again with
 * whatever is highest at the next entry.
 *
 * QEMU's TCG leaves V_IRQ set when an exit (a nested page fault on the
 * stack, say) cuts the delivery short, and reports the delivery in
 * EXITINTINFO. Nothing of it reached the guest, so the vector simply
 * stays pending: it must not go back in through EVENTINJ, which TCG
 * delivers twice (svm_inject_events()), the second time whatever the
 * guest's RFLAGS.IF, into its own handler.
 */
static void svm_virq_done(struct hv_vp *vp, struct svm_vp *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	u32 info = c->exit_int_info;

	if (!svm->virq)
		return;
	if (c->int_ctl & V_IRQ_MASK) {
		c->int_ctl &= ~(V_IRQ_MASK | V_IGN_TPR_MASK |
				V_INTR_PRIO_MASK);
		if (svm_virq_cut_short(info, svm->virq))
			c->exit_int_info = 0;
	} else {
		hv_lapic_ack(vp, svm->virq);
	}
	svm->virq = 0;
}

/*
 * The guest stopped in an interrupt shadow (an exit between STI and the
 * instruction after it, a host interrupt's say) with something to deliver
 * and that instruction is HLT: STI; HLT, the idle loop's "enable and wait"
 * whose point is that the wake-up cannot come between the two. Finish the
 * HLT as the CPU would, woken at once by what is pending: step over it,
 * shadow over, and the event is delivered after it.
 *
 * Needed because QEMU's TCG (7.2) does not restore the shadow from the
 * VMCB at VMRUN: it delivered the interrupt before the HLT, whose handler
 * saw nothing new yet, and the guest then halted on the message it had
 * been woken for (vid_vmbus_test's lost wake-ups). Other instructions in
 * a shadow may still see an interrupt before them there; no guest relies
 * on that for anything but HLT. On hardware the step is merely early.
 */
static void svm_shadow_hlt(struct hv_vp *vp, struct svm_vp *svm, bool nmi)
{
	struct vmcb *vmcb = svm->vmcb;
	u8 bytes[16];

	if (!nmi && (!(vmcb->save.rflags & X86_EFLAGS_IF) ||
		     hv_lapic_pending_vector(vp) < 0))
		return;
	if (svm_fetch_insn(vp, bytes) < 1 || bytes[0] != 0xf4)
		return;
	/* Not svm_skip_insn(): NRIP is of the exit, not of the HLT. */
	vmcb->save.rip += 1;
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

/*
 * Move what the vLAPIC has for the guest into the VMCB: an NMI first
 * (EVENTINJ), then the highest interrupt above PPR as a virtual
 * interrupt (V_IRQ with its vector), which the CPU delivers once the
 * guest can take it (IF set, no interrupt shadow). An NMI the guest
 * cannot take yet asks for an exit when it can (a dummy virtual
 * interrupt with the VINTR intercept, as the interrupt window).
 *
 * Interrupts do not go through EVENTINJ: QEMU's TCG, where this runs
 * under test, delivers such an interrupt at VMRUN but keeps it as its
 * pending exception and delivers it again when it next leaves its
 * execution loop, wherever the guest is then, interrupts off included
 * (a Linux guest's timer interrupt nested in itself and deadlocked on
 * the hrtimer lock). A virtual interrupt takes QEMU's own interrupt
 * path, once.
 */
static void svm_inject_events(struct hv_vp *vp, struct svm_vp *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	int vector;
	bool nmi;

	svm_virq_done(vp, svm);
	if (c->event_inj & SVM_EVTINJ_VALID)
		return;
	nmi = hv_lapic_nmi_pending(vp) && !svm->nmi_masked;
	if (c->int_state & SVM_INTERRUPT_SHADOW_MASK)
		svm_shadow_hlt(vp, svm, nmi);
	if (nmi && !(c->int_state & SVM_INTERRUPT_SHADOW_MASK)) {
		c->event_inj = NMI_VECTOR | SVM_EVTINJ_VALID |
			       SVM_EVTINJ_TYPE_NMI;
		hv_lapic_nmi_injected(vp);
		svm->nmi_masked = true;
		svm_set_intercept(svm, INTERCEPT_IRET);
		nmi = false;
	}
	vector = hv_lapic_pending_vector(vp);
	/*
	 * An NMI held back only by an interrupt shadow: the window exit
	 * comes right after the shadow when IF is set (STI's shadow); a
	 * MOV SS shadow with IF clear leaves it to the next exit.
	 */
	if (vector < 0 && !nmi)
		return;
	if (vector >= 0 && !(c->event_inj & SVM_EVTINJ_VALID)) {
		c->int_ctl = (c->int_ctl & ~V_INTR_PRIO_MASK) | V_IRQ_MASK |
			     V_IGN_TPR_MASK |
			     ((vector >> 4) << V_INTR_PRIO_SHIFT);
		c->int_vector = vector;
		svm_clr_intercept(svm, INTERCEPT_VINTR);
		svm->virq = vector;
		return;
	}
	if (!nmi)
		return;
	/* The NMI window: a virtual interrupt the guest never sees. */
	c->int_ctl |= V_IRQ_MASK | V_IGN_TPR_MASK |
		      (0xf << V_INTR_PRIO_SHIFT);
	c->int_vector = 0;
	svm_set_intercept(svm, INTERCEPT_VINTR);
}

/*
 * A VMCB segment in the message's TLFS form (attributes: AVL/L/DB/G in
 * bits 15:12, not 11:8), as svm_vp_get_reg() gives it, without that
 * call and its own for each of the three segments a port I/O intercept
 * reports.
 */
static void svm_msg_seg(struct vid_segment *to, const struct vmcb_seg *from)
{
	to->base = from->base;
	to->limit = from->limit;
	to->selector = from->selector;
	to->attributes = (from->attrib & 0xff) | ((from->attrib & 0xf00) << 4);
}

static void svm_msg_header(struct hv_vp *vp, struct hv_message *msg, u32 type,
			   u32 payload_size, u8 access, u8 insn_len)
{
	struct vid_message *m = (struct vid_message *)msg;
	struct vmcb_save_area *save = &to_svm(vp)->vmcb->save;
	struct vid_intercept_header *h = &m->header;

	memset(m, 0, sizeof(*m));
	m->message_type = type;
	m->payload_size = payload_size;
	h->vp_index = vp->index;
	h->instruction_length = insn_len & 0xf;
	h->intercept_access_type = access;
	h->execution_state = save->cpl | (save->cr0 & X86_CR0_PE ? BIT(2) : 0) |
			     (save->efer & EFER_LMA ? BIT(4) : 0);
	svm_msg_seg(&h->cs, &save->cs);
	h->rip = save->rip;
	h->rflags = save->rflags;
}

/*
 * Step over the intercepted instruction: the CPU's next RIP when it saves
 * it (NRIP save), else the instruction's architectural length (QEMU's
 * TCG has no NRIP save; the instructions handled this way take no
 * prefixes in practice). Inlined: it ends most exits the kernel finishes.
 */
static __always_inline void svm_skip_insn(struct svm_vp *svm, u8 len)
{
	struct vmcb *vmcb = svm->vmcb;

	if (static_cpu_has(X86_FEATURE_NRIPS) && vmcb->control.next_rip)
		vmcb->save.rip = vmcb->control.next_rip;
	else
		vmcb->save.rip += len;
	/*
	 * The instruction completed: an interrupt shadow (STI; HLT) that
	 * covered it is over, or an NMI would wait behind it for good.
	 */
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

/* Queue an exception for the next entry; #GP carries error code 0. */
static void svm_inject_exception(struct svm_vp *svm, u8 vector)
{
	struct vmcb_control_area *c = &svm->vmcb->control;

	c->event_inj = vector | SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT;
	if (vector == GP_VECTOR) {
		c->event_inj |= SVM_EVTINJ_VALID_ERR;
		c->event_inj_err = 0;
	}
}

static enum svm_exit_result svm_exit_hlt(struct hv_vp *vp,
					 struct hv_message *msg)
{
	struct svm_vp *svm = to_svm(vp);

	/*
	 * With interrupts enabled the VP waits for one in the hypervisor;
	 * the interrupt returns past the HLT. With interrupts off nothing
	 * can wake it: the root hears of it, and (like every intercept) RIP
	 * stays on the instruction for the root to step over.
	 */
	if (svm->vmcb->save.rflags & X86_EFLAGS_IF) {
		svm_skip_insn(svm, 1);
		hv_vp_halt(vp);
		return SVM_RESUME;
	}
	svm_msg_header(vp, msg, VID_MSG_X64_HALT,
		       sizeof(struct vid_intercept_header), 0, 1);
	return SVM_TO_ROOT;
}

static enum svm_exit_result svm_exit_io(struct hv_vp *vp,
					struct hv_message *msg)
{
	struct svm_vp *svm = to_svm(vp);
	struct vmcb *vmcb = svm->vmcb;
	u64 info = vmcb->control.exit_info_1;
	struct vid_io_port_intercept *io;
	u8 len = vmcb->control.exit_info_2 - vmcb->save.rip;
	u8 size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;

	svm_msg_header(vp, msg, VID_MSG_X64_IO_PORT_INTERCEPT, sizeof(*io),
		       info & SVM_IOIO_TYPE_MASK ? VID_INTERCEPT_READ :
						   VID_INTERCEPT_WRITE, len);
	io = &((struct vid_message *)msg)->io_port;
	io->port_number = info >> 16;
	io->access_info = size | (info & SVM_IOIO_STR_MASK ? BIT(3) : 0) |
			  (info & SVM_IOIO_REP_MASK ? BIT(4) : 0);
	svm_msg_seg(&io->ds, &vmcb->save.ds);
	svm_msg_seg(&io->es, &vmcb->save.es);
	io->rax = vmcb->save.rax;
	io->rcx = svm->gprs[1];
	io->rsi = svm->gprs[6];
	io->rdi = svm->gprs[7];
	return SVM_TO_ROOT;
}

/* MMIO the hypervisor owns (the xAPIC page): emulated in the kernel. */
static bool svm_npf_emulate(struct hv_vp *vp, u64 gpa)
{
	struct vmcb_save_area *s = &to_svm(vp)->vmcb->save;
	u8 bytes[16];
	int mode = 16;
	u8 n;

	if (!hv_lapic_mmio_hit(vp, gpa))
		return false;
	if ((s->efer & EFER_LMA) && (s->cs.attrib & SVM_SELECTOR_L_MASK))
		mode = 64;
	else if (s->cs.attrib & SVM_SELECTOR_DB_MASK)
		mode = 32;
	n = svm_fetch_insn(vp, bytes);
	return hv_mmio_emulate(vp, gpa, bytes, n, mode, s->rip);
}

static enum svm_exit_result svm_exit_npf(struct hv_vp *vp,
					 struct hv_message *msg)
{
	struct vmcb_control_area *c = &to_svm(vp)->vmcb->control;
	u64 error = c->exit_info_1, gpa = c->exit_info_2;
	struct vid_memory_intercept *mem;
	u8 access = VID_INTERCEPT_READ;

	if (!(error & SVM_PF_PRESENT) && svm_npf_emulate(vp, gpa))
		return SVM_RESUME;
	if (error & SVM_PF_FETCH)
		access = VID_INTERCEPT_EXECUTE;
	else if (error & SVM_PF_WRITE)
		access = VID_INTERCEPT_WRITE;
	svm_msg_header(vp, msg, error & SVM_PF_PRESENT ?
		       VID_MSG_GPA_INTERCEPT : VID_MSG_UNMAPPED_GPA,
		       sizeof(*mem), access, 0);
	mem = &((struct vid_message *)msg)->memory;
	mem->guest_physical_address = gpa;
	/* The data GVA is unknown: memory_access_info bit 0 stays clear. */
	mem->instruction_byte_count = svm_fetch_insn(vp,
						     mem->instruction_bytes);
	return SVM_TO_ROOT;
}

static enum svm_exit_result svm_exit_msr(struct hv_vp *vp,
					 struct hv_message *msg)
{
	struct svm_vp *svm = to_svm(vp);
	struct vid_msr_intercept *m;
	bool write = svm->vmcb->control.exit_info_1;
	u32 msr = svm->gprs[1];
	enum hv_msr_result r;
	u64 value;

	if (write) {
		value = (svm->gprs[2] << 32) | (u32)svm->vmcb->save.rax;
		r = hv_msr_write(vp, msr, value, msg);
	} else {
		r = hv_msr_read(vp, msr, &value);
		if (r == HV_MSR_DONE) {
			svm->vmcb->save.rax = (u32)value;
			svm->gprs[2] = value >> 32;
		}
	}
	switch (r) {
	case HV_MSR_DONE:
		svm_skip_insn(svm, 2);
		return SVM_RESUME;
	case HV_MSR_MESSAGE:
		svm_skip_insn(svm, 2);
		return SVM_TO_ROOT;
	case HV_MSR_GP:
		svm_inject_exception(svm, GP_VECTOR);
		return SVM_RESUME;
	case HV_MSR_ROOT:
		break;
	}
	svm_msg_header(vp, msg, VID_MSG_X64_MSR_INTERCEPT, sizeof(*m),
		       write ? VID_INTERCEPT_WRITE : VID_INTERCEPT_READ, 2);
	m = &((struct vid_message *)msg)->msr;
	m->msr_number = msr;
	m->rdx = svm->gprs[2];
	m->rax = svm->vmcb->save.rax;
	return SVM_TO_ROOT;
}

static enum svm_exit_result svm_exit_shutdown(struct hv_vp *vp,
					      struct hv_message *msg)
{
	/* Triple fault: the VMCB state is undefined; the root decides. */
	svm_msg_header(vp, msg, VID_MSG_UNRECOVERABLE_EXCEPTION,
		       sizeof(struct vid_intercept_header), 0, 0);
	return SVM_TO_ROOT;
}

static __always_inline enum svm_exit_result svm_exit_cpuid(struct hv_vp *vp,
							   struct hv_message *msg)
{
	svm_emulate_cpuid(vp);
	svm_skip_insn(to_svm(vp), 2);
	return SVM_RESUME;
}

static enum svm_exit_result svm_exit_xsetbv(struct hv_vp *vp,
					    struct hv_message *msg)
{
	struct svm_vp *svm = to_svm(vp);

	if (svm_fpu_xsetbv(svm))
		svm_skip_insn(svm, 3);
	else
		svm_inject_exception(svm, GP_VECTOR);
	return SVM_RESUME;
}

/* MOV DR: the guest uses its debug registers; the MOV runs again. */
static enum svm_exit_result svm_exit_dr(struct hv_vp *vp,
					struct hv_message *msg)
{
	svm_dr_activate(to_svm(vp));
	return SVM_RESUME;
}

static enum svm_exit_result svm_exit_interrupt(struct hv_vp *vp,
					       struct hv_message *msg)
{
	return SVM_RESUME;	/* the host took it at STGI + IRQ enable */
}

static enum svm_exit_result svm_exit_ud(struct hv_vp *vp,
					struct hv_message *msg)
{
	svm_inject_exception(to_svm(vp), UD_VECTOR);
	return SVM_RESUME;
}

/*
 * VMMCALL is the hypercall instruction (the hypercall page holds it).
 * 64-bit callers pass RCX, RDX, R8 and get RAX; 32-bit ones EDX:EAX,
 * EBX:ECX, EDI:ESI and get EDX:EAX.
 */
static enum svm_exit_result svm_exit_vmmcall(struct hv_vp *vp,
					     struct hv_message *msg)
{
	struct svm_vp *svm = to_svm(vp);
	struct vmcb_save_area *save = &svm->vmcb->save;
	struct hv_hypercall hc = {};
	u64 *g = svm->gprs;

	hc.long_mode = (save->efer & EFER_LMA) &&
		       (save->cs.attrib & SVM_SELECTOR_L_MASK);
	if (hc.long_mode) {
		hc.control = g[1];
		hc.input = g[2];
		hc.output = g[8];
	} else {
		hc.control = (g[2] << 32) | (u32)save->rax;
		hc.input = (g[3] << 32) | (u32)g[1];
		hc.output = (g[7] << 32) | (u32)g[6];
	}
	if (save->cpl || !hv_hypercall(vp, &hc)) {
		svm_inject_exception(svm, UD_VECTOR);
		return SVM_RESUME;
	}
	if (hc.long_mode) {
		save->rax = hc.result;
	} else {
		save->rax = (u32)hc.result;
		g[2] = hc.result >> 32;
	}
	svm_skip_insn(svm, 3);
	return SVM_RESUME;
}

/* The interrupt window opened: drop the dummy virtual interrupt. */
static enum svm_exit_result svm_exit_vintr(struct hv_vp *vp,
					   struct hv_message *msg)
{
	struct svm_vp *svm = to_svm(vp);

	svm->vmcb->control.int_ctl &= ~(V_IRQ_MASK | V_IGN_TPR_MASK |
					V_INTR_PRIO_MASK);
	svm_clr_intercept(svm, INTERCEPT_VINTR);
	return SVM_RESUME;
}

/*
 * IRET from the NMI handler unblocks NMIs once it completes; the next
 * entry runs the IRET, so the next NMI waits one more exit at most.
 */
static enum svm_exit_result svm_exit_iret(struct hv_vp *vp,
					  struct hv_message *msg)
{
	struct svm_vp *svm = to_svm(vp);

	svm->nmi_masked = false;
	svm_clr_intercept(svm, INTERCEPT_IRET);
	return SVM_RESUME;
}

static enum svm_exit_result (*const svm_exit_handlers[])(struct hv_vp *vp,
							  struct hv_message *msg) = {
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR7] = svm_exit_dr,
	[SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7] = svm_exit_dr,
	[SVM_EXIT_INTR] = svm_exit_interrupt,
	[SVM_EXIT_NMI] = svm_exit_interrupt,
	[SVM_EXIT_SMI] = svm_exit_interrupt,
	[SVM_EXIT_CPUID] = svm_exit_cpuid,
	[SVM_EXIT_HLT] = svm_exit_hlt,
	[SVM_EXIT_IOIO] = svm_exit_io,
	[SVM_EXIT_MSR] = svm_exit_msr,
	[SVM_EXIT_SHUTDOWN] = svm_exit_shutdown,
	[SVM_EXIT_VMRUN] = svm_exit_ud,
	[SVM_EXIT_VMMCALL] = svm_exit_vmmcall,
	[SVM_EXIT_VINTR] = svm_exit_vintr,
	[SVM_EXIT_IRET] = svm_exit_iret,
	[SVM_EXIT_VMLOAD] = svm_exit_ud,
	[SVM_EXIT_VMSAVE] = svm_exit_ud,
	[SVM_EXIT_STGI] = svm_exit_ud,
	[SVM_EXIT_CLGI] = svm_exit_ud,
	[SVM_EXIT_SKINIT] = svm_exit_ud,
	[SVM_EXIT_INVLPGA] = svm_exit_ud,
	[SVM_EXIT_MONITOR] = svm_exit_ud,
	[SVM_EXIT_MWAIT] = svm_exit_ud,
	[SVM_EXIT_RDPRU] = svm_exit_ud,
	[SVM_EXIT_XSETBV] = svm_exit_xsetbv,
};

/* SVM_EXIT_NPF is far beyond the table: dispatched by hand. */
static enum svm_exit_result svm_handle_exit(struct hv_vp *vp,
					    struct hv_message *msg)
{
	struct svm_vp *svm = to_svm(vp);
	/* The VMCB's exit code is 32 bits here: VMEXIT_INVALID is ~0U. */
	u32 code = svm->vmcb->control.exit_code;
	struct vid_unsupported_feature *u;

	/*
	 * The frequent exits by direct call: an indirect one goes through
	 * a retpoline on the kernels this runs on (and, under QEMU's TCG,
	 * costs a lookup of its target after every #VMEXIT).
	 */
	switch (code) {
	case SVM_EXIT_NPF:
		return svm_exit_npf(vp, msg);
	case SVM_EXIT_CPUID:
		return svm_exit_cpuid(vp, msg);
	case SVM_EXIT_IOIO:
		return svm_exit_io(vp, msg);
	case SVM_EXIT_MSR:
		return svm_exit_msr(vp, msg);
	case SVM_EXIT_HLT:
		return svm_exit_hlt(vp, msg);
	case SVM_EXIT_VMMCALL:
		return svm_exit_vmmcall(vp, msg);
	case SVM_EXIT_INTR:
		return svm_exit_interrupt(vp, msg);
	}
	if (code < ARRAY_SIZE(svm_exit_handlers) && svm_exit_handlers[code])
		return svm_exit_handlers[code](vp, msg);

	if (code == (u32)SVM_EXIT_ERR) {
		/* VMRUN refused the guest state: tell the root, run nothing. */
		svm_msg_header(vp, msg, VID_MSG_INVALID_VP_REGISTER_VALUE,
			       sizeof(struct vid_intercept_header), 0, 0);
		return SVM_TO_ROOT;
	}
	svm_msg_header(vp, msg, VID_MSG_UNSUPPORTED_FEATURE, sizeof(*u), 0, 0);
	u = &((struct vid_message *)msg)->unsupported;
	u->feature_code = 1;
	u->feature_parameter = code;
	pr_warn_ratelimited("vid: VP %u: unhandled exit %#x\n", vp->index,
			    code);
	return SVM_TO_ROOT;
}

/*
 * Guest state the VMM built must be one a CPU can be in, whatever VMRUN on
 * this CPU would let through (QEMU's TCG checks less than hardware):
 * long mode active exactly when enabled and paging is on, PAE with it, no
 * 64-bit code segment with D set, a canonical RIP in 64-bit code.
 */
static bool svm_state_valid(struct vmcb_save_area *s)
{
	bool lme = s->efer & EFER_LME, lma = s->efer & EFER_LMA;
	bool pg = s->cr0 & X86_CR0_PG;
	bool cs_l = s->cs.attrib & SVM_SELECTOR_L_MASK;

	if (lma != (lme && pg))
		return false;
	if (lme && pg && !(s->cr4 & X86_CR4_PAE))
		return false;
	if (lma && cs_l) {
		if (s->cs.attrib & SVM_SELECTOR_DB_MASK)
			return false;
		if ((u64)((s64)(s->rip << 16) >> 16) != s->rip)
			return false;
	}
	return true;
}

hv_status_t svm_vp_run(struct hv_vp *vp, struct hv_message *msg)
{
	struct svm_vp *svm = to_svm(vp);
	u64 host_save;

	if (svm->state_dirty) {
		if (!svm_state_valid(&svm->vmcb->save)) {
			svm_msg_header(vp, msg, VID_MSG_INVALID_VP_REGISTER_VALUE,
				       sizeof(struct vid_intercept_header), 0,
				       0);
			return HV_STATUS_SUCCESS;
		}
		svm->state_dirty = false;
	}
	/*
	 * The guest's FPU state stays loaded across exits the hypervisor
	 * finishes itself (as KVM keeps it loaded for a whole KVM_RUN):
	 * loaded once here, saved when the VP goes back to its thread.
	 * Preemption is off meanwhile, so the loop yields on need_resched()
	 * and pending softirqs (hv_vp_should_yield()), and exit handlers
	 * never sleep.
	 */
	svm_fpu_enter(svm);
	if (svm->vmcb->save.dr7 & SVM_DR7_ENABLES)
		svm_dr_activate(svm);
	/*
	 * The loop stays on this CPU: the host's hidden state (GS base, TR,
	 * syscall MSRs) that svm_vmrun() VMLOADs after each exit is saved
	 * once, and kicks find the VP here.
	 */
	host_save = hv_virt_host_save_pa();
	asm volatile("vmsave %%rax" :: "a"(host_save) : "memory");
	WRITE_ONCE(vp->cpu, smp_processor_id());
	for (;;) {
		/*
		 * hv_vp_prepare_entry() has nothing to do for a running VP
		 * without requests: it is called only when there is.
		 */
		if (hv_vp_should_yield(vp) ||
		    ((READ_ONCE(vp->requests) ||
		      vp->activity != HV_VP_ACTIVE) &&
		     !hv_vp_prepare_entry(vp))) {
			/* To the thread: it yields, or sleeps while halted. */
			memset(msg, 0, sizeof(*msg));
			break;
		}
		svm_inject_events(vp, svm);
		if (!svm_enter_guest(vp, svm, host_save))
			continue;
		svm_virq_done(vp, svm);
		svm_reinject(svm);
		if (svm_handle_exit(vp, msg) == SVM_TO_ROOT)
			break;
	}
	svm_dr_deactivate(svm);
	svm_fpu_exit(svm);
	return HV_STATUS_SUCCESS;
}
