// SPDX-License-Identifier: GPL-2.0
/*
 * The root scheduler: one VP-backing kernel thread per VP, named
 * "vid-p<partition>-vp<index>" so ps shows which VP it backs. The thread
 * loops on hv_call_dispatch_vp(); the Linux scheduler decides when and
 * where it runs.
 *
 * Hand-over with the VMM thread (VID_VP_RUN): the VMM asks for a run and
 * waits; the thread runs the VP until it has a message, publishes it and
 * waits for the next request. Both sides spin briefly before sleeping,
 * because an intercept round trip is usually short.
 *
 * States (vid_vp_thread.state), changed under @lock:
 *   STOPPED  the VMM owns the VP (registers accessible)
 *   RUN      a run was requested / the thread is dispatching
 *   MESSAGE  the thread stopped with a message for the VMM
 */
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <asm/tsc.h>

#include "sched.h"

/*
 * How long either side spins before it sleeps: adapted to the waits
 * each side sees, between these bounds (vid_spin_adapt()). The upper one
 * is KVM's default halt-polling limit. A round trip through the VMM
 * takes a few microseconds on hardware, but 50 to 150 under QEMU's TCG,
 * where a fixed 20 us spin missed nearly every one and each side woke
 * the other instead.
 */
#define VID_SPIN_MIN_NS	20000U
#define VID_SPIN_MAX_NS	200000U

enum vid_vp_state {
	VID_VP_STOPPED,
	VID_VP_RUN,
	VID_VP_MESSAGE,
};

/*
 * Spin until the state is RUN (@run) or no longer RUN (!@run), for at
 * most @spin_ns, and not while this CPU has something else to run (the
 * other side may be what it has). Timed by the TSC itself: local_clock()
 * is a chain of calls, each of which costs a lookup under QEMU's TCG;
 * a TSC that went backwards (a migration) ends the spin.
 */
static bool vid_spin(struct vid_vp_thread *t, bool run, u32 spin_ns)
{
	bool timed = false;
	cycles_t start = 0, now;

	for (;;) {
		/* Pairs with the releases that publish a state change. */
		if ((smp_load_acquire(&t->state) == VID_VP_RUN) == run)
			return true;
		if (need_resched())
			return false;
		/* The clock only once the state was not there at once. */
		now = get_cycles();
		if (!timed) {
			timed = true;
			start = now;
		} else if (now < start || (now - start) * 1000000 >=
					(u64)spin_ns * tsc_khz)
			return false;
		cpu_relax();
	}
}

/*
 * After a spin that failed and a sleep, @waited ns in all (the sleep
 * plus the spin's budget): a wait that a longer spin (up to the limit)
 * would have caught lengthens the spin, a longer one halves it, as KVM
 * adapts its halt polling.
 */
static void vid_spin_adapt(u32 *spin_ns, u64 waited)
{
	u64 ns;

	if (waited < VID_SPIN_MAX_NS) {
		ns = max_t(u64, 2ULL * *spin_ns, waited + waited / 4);
		*spin_ns = min_t(u64, ns, VID_SPIN_MAX_NS);
	} else {
		*spin_ns = max(*spin_ns / 2, VID_SPIN_MIN_NS);
	}
}

/*
 * Wake the other side if it sleeps. Usually it spins (vid_spin())
 * and the wait queue is empty: then the queue's lock is not taken. The
 * caller published the state change; wq_has_sleeper()'s full barrier
 * pairs with the one in the sleeper's prepare_to_wait_event(), which
 * queues itself before it looks at the state again.
 */
static void vid_vp_thread_wake(struct wait_queue_head *wq)
{
	if (wq_has_sleeper(wq))
		wake_up(wq);
}

static int vid_vp_thread_fn(void *data)
{
	struct vid_vp_thread *t = data;
	hv_status_t status;
	u64 start;

	while (!kthread_should_stop()) {
		if (!vid_spin(t, true, t->thread_spin_ns)) {
			start = local_clock();
			wait_event_interruptible(t->thread_wq,
						 READ_ONCE(t->state) == VID_VP_RUN ||
						 kthread_should_stop());
			vid_spin_adapt(&t->thread_spin_ns, t->thread_spin_ns +
				       local_clock() - start);
		}
		if (kthread_should_stop())
			break;
		if (READ_ONCE(t->state) != VID_VP_RUN)
			continue;

		status = hv_call_dispatch_vp(t->partition_id, t->vp_index,
					     t->msg);
		if (!status && t->msg->header.message_type == HVMSG_NONE &&
		    !READ_ONCE(t->stop)) {
			cond_resched();
			continue;	/* preempted or kicked for nothing */
		}
		t->status = status;
		/* Publish status and the message before the state change. */
		smp_store_release(&t->state, t->msg->header.message_type ==
				  HVMSG_NONE && !status ? VID_VP_STOPPED :
							  VID_VP_MESSAGE);
		vid_vp_thread_wake(&t->vmm_wq);
	}
	return 0;
}

int vid_vp_thread_start(struct vid_vp_thread *t, u64 partition_id,
			u32 vp_index, struct hv_message *msg)
{
	t->partition_id = partition_id;
	t->vp_index = vp_index;
	t->msg = msg;
	t->state = VID_VP_STOPPED;
	t->thread_spin_ns = VID_SPIN_MIN_NS;
	t->vmm_spin_ns = VID_SPIN_MIN_NS;
	mutex_init(&t->lock);
	init_waitqueue_head(&t->thread_wq);
	init_waitqueue_head(&t->vmm_wq);
	t->task = kthread_run(vid_vp_thread_fn, t, "vid-p%llu-vp%u",
			      partition_id, vp_index);
	if (IS_ERR(t->task)) {
		mutex_destroy(&t->lock);
		return PTR_ERR(t->task);
	}
	return 0;
}

/* Make the thread stop dispatching; returns once the VP is stopped. */
static void vid_vp_thread_halt(struct vid_vp_thread *t)
{
	WRITE_ONCE(t->stop, true);
	hv_call_kick_vp(t->partition_id, t->vp_index);
	wait_event(t->vmm_wq, READ_ONCE(t->state) != VID_VP_RUN);
	WRITE_ONCE(t->stop, false);
}

void vid_vp_thread_stop(struct vid_vp_thread *t)
{
	vid_vp_thread_halt(t);
	kthread_stop(t->task);
	mutex_destroy(&t->lock);
}

int vid_vp_thread_run(struct vid_vp_thread *t, hv_status_t *status)
{
	int err = 0;
	u64 start;

	lockdep_assert_held(&t->lock);
	/* Registers the VMM set are visible to the thread before it runs. */
	smp_store_release(&t->state, VID_VP_RUN);
	vid_vp_thread_wake(&t->thread_wq);

	if (!vid_spin(t, false, t->vmm_spin_ns)) {
		start = local_clock();
		if (wait_event_interruptible(t->vmm_wq,
					     READ_ONCE(t->state) != VID_VP_RUN))
			vid_vp_thread_halt(t);
		vid_spin_adapt(&t->vmm_spin_ns, t->vmm_spin_ns +
			       local_clock() - start);
	}

	if (READ_ONCE(t->state) == VID_VP_MESSAGE)
		*status = t->status;
	else
		err = -EINTR;
	/* The VMM is done with status and message; the VP is its own again. */
	smp_store_release(&t->state, VID_VP_STOPPED);
	return err;
}
