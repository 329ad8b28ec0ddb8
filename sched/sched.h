/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The root scheduler's interface to the VID: VP-backing threads.
 */
#ifndef VID_SCHED_H
#define VID_SCHED_H

#include <linux/mutex.h>
#include <linux/wait.h>

#include "../hvcore/hv_call.h"

/**
 * struct vid_vp_thread - the kernel thread that backs one VP
 * @task: the thread.
 * @partition_id: the VP's partition.
 * @vp_index: the VP.
 * @msg: where hv_call_dispatch_vp() leaves the VP's messages.
 * @lock: held by the VMM thread for a whole VID_VP_RUN (one runner).
 * @state: STOPPED, RUN or MESSAGE (see vp_thread.c).
 * @stop: the VMM wants the VP stopped (a signal, or teardown).
 * @status: the last dispatch's status, valid in MESSAGE.
 * @thread_wq: the thread waits here for a run request.
 * @vmm_wq: the VMM waits here for a message or the stop.
 * @thread_spin_ns: how long the thread spins for a run request before
 *	it sleeps (adapted; the thread's own).
 * @vmm_spin_ns: how long the VMM spins for the message (under @lock).
 */
struct vid_vp_thread {
	struct task_struct *task;
	u64 partition_id;
	u32 vp_index;
	struct hv_message *msg;
	/* serializes VMM threads that run this VP */
	struct mutex lock;
	int state;
	bool stop;
	hv_status_t status;
	wait_queue_head_t thread_wq;
	wait_queue_head_t vmm_wq;
	u32 thread_spin_ns;
	u32 vmm_spin_ns;
};

/* Process context. Starts the thread (it waits for the first run). */
int vid_vp_thread_start(struct vid_vp_thread *t, u64 partition_id,
			u32 vp_index, struct hv_message *msg);
/*
 * Take the VP for one VID_VP_RUN (false: another VMM thread has it) and
 * give it back. What the VID keeps about the VP's last run (a pending
 * intercept) is serialized by this claim. Process context.
 */
static inline bool vid_vp_thread_claim(struct vid_vp_thread *t)
{
	return mutex_trylock(&t->lock);
}

static inline void vid_vp_thread_release(struct vid_vp_thread *t)
{
	mutex_unlock(&t->lock);
}

/*
 * With the claim: run the VP until its next message (0, with the
 * dispatch status in *@status); -EINTR if a signal came first (the VP is
 * stopped). Process context, may sleep.
 */
int vid_vp_thread_run(struct vid_vp_thread *t, hv_status_t *status);
/* Stop the VP and the thread. No VID_VP_RUN may be in progress. */
void vid_vp_thread_stop(struct vid_vp_thread *t);

#endif /* VID_SCHED_H */
