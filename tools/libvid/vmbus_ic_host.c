// SPDX-License-Identifier: LGPL-2.1
/*
 * libvid: the integration services of one partition with a worker thread,
 * and the blocking calls a VMM or a CLI makes on them (see vmbus_ic.h).
 *
 * One mutex (h->lock) serializes everything that touches a service or
 * its channel: the worker's pass over the channels, and each blocking
 * call's sends and result checks. The worker broadcasts h->cond after
 * every pass; callers wait on it with their deadline. A caller that has
 * a transaction outstanding "holds" its service, so the worker's periodic
 * heartbeats and time samples do not replace the transaction it waits for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vmbus_ic.h"

/* Items vid_ic_kvp_get() looks at, at most, in one pool. */
#define IC_KVP_MAX_ITEMS	1024

struct ic_host_svc {
	struct vid_vmbus_chan *ch;
	struct vid_ic_svc *svc;
	bool hold;
};

struct vid_ic_host {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started;
	bool stop;
	bool local;		/* channels were the caller's */
	int wake_fd;
	struct vid_ic_host_config cfg;
	struct ic_host_svc s[VID_IC_KINDS];
	uint64_t next_beat;
	uint64_t next_sample;
};

static const uint8_t *const ic_host_guids[VID_IC_KINDS] = {
	[VID_IC_HEARTBEAT] = vid_ic_guid_heartbeat,
	[VID_IC_SHUTDOWN] = vid_ic_guid_shutdown,
	[VID_IC_TIMESYNC] = vid_ic_guid_timesync,
	[VID_IC_KVP] = vid_ic_guid_kvp,
};

static uint64_t ic_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A channel's queued events: OPEN starts the service, CLOSE stops it. */
static void ic_host_events(struct ic_host_svc *s)
{
	struct vid_vmbus_event ev;
	int ret;

	for (;;) {
		ret = vid_vmbus_chan_event(s->ch, &ev);
		if (ret == -EAGAIN || ret == -EBADF)
			return;
		if (ret) {
			/* An OPEN we could not map: the service stays down. */
			vid_ic_svc_stop(s->svc);
			if (ret == -EINTR)
				continue;
			return;
		}
		switch (ev.type) {
		case VID_VMBUS_EVENT_OPEN:
			vid_ic_svc_start(s->svc);
			break;
		case VID_VMBUS_EVENT_CLOSE:
			vid_ic_svc_stop(s->svc);
			break;
		default:
			break;
		}
	}
}

/* One pass over the services; h->lock held. */
static void ic_host_pass(struct vid_ic_host *h)
{
	struct ic_host_svc *s;
	uint64_t now = ic_now_ms();
	bool beat = false, sample = false;
	int k;

	if (now >= h->next_beat) {
		beat = true;
		h->next_beat = now + h->cfg.heartbeat_ms;
	}
	if (now >= h->next_sample) {
		sample = true;
		h->next_sample = now + h->cfg.timesync_ms;
	}
	for (k = 0; k < VID_IC_KINDS; k++) {
		s = &h->s[k];
		if (!s->svc)
			continue;
		if (!h->local)
			ic_host_events(s);
		vid_vmbus_chan_ack_signals(s->ch);
		vid_ic_svc_process(s->svc);
		if (s->hold)
			continue;
		if ((k == VID_IC_HEARTBEAT && beat) ||
		    (k == VID_IC_TIMESYNC && sample))
			vid_ic_svc_tick(s->svc);
	}
	pthread_cond_broadcast(&h->cond);
}

static void *ic_host_thread(void *arg)
{
	struct pollfd pfd[1 + 2 * VID_IC_KINDS];
	struct vid_ic_host *h = arg;
	uint64_t now, next, v;
	int n, k, timeout;

	for (;;) {
		n = 0;
		pfd[n].fd = h->wake_fd;
		pfd[n++].events = POLLIN;
		for (k = 0; k < VID_IC_KINDS; k++) {
			if (!h->s[k].ch || vid_vmbus_chan_fd(h->s[k].ch) < 0)
				continue;
			pfd[n].fd = vid_vmbus_chan_fd(h->s[k].ch);
			pfd[n++].events = POLLIN;
			pfd[n].fd = vid_vmbus_chan_eventfd(h->s[k].ch);
			pfd[n++].events = POLLIN;
		}
		pthread_mutex_lock(&h->lock);
		next = h->next_beat < h->next_sample ? h->next_beat :
		       h->next_sample;
		pthread_mutex_unlock(&h->lock);
		now = ic_now_ms();
		timeout = next <= now ? 0 : next - now > 60000 ? 60000 :
			  (int)(next - now);
		poll(pfd, n, timeout);
		if (pfd[0].revents & POLLIN) {
			if (read(h->wake_fd, &v, sizeof(v)) < 0)
				v = 0;
		}

		pthread_mutex_lock(&h->lock);
		if (h->stop) {
			pthread_mutex_unlock(&h->lock);
			return NULL;
		}
		ic_host_pass(h);
		pthread_mutex_unlock(&h->lock);
	}
}

static int ic_host_alloc(const struct vid_ic_host_config *cfg,
			 struct vid_ic_host **out)
{
	pthread_condattr_t ca;
	struct vid_ic_host *h;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (cfg)
		h->cfg = *cfg;
	if (!h->cfg.services)
		h->cfg.services = (1U << VID_IC_KINDS) - 1;
	if (!h->cfg.heartbeat_ms)
		h->cfg.heartbeat_ms = 2000;
	if (!h->cfg.timesync_ms)
		h->cfg.timesync_ms = 5000;
	h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->wake_fd < 0) {
		free(h);
		return -errno;
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &ca);
	pthread_condattr_destroy(&ca);
	h->next_beat = ic_now_ms() + h->cfg.heartbeat_ms;
	h->next_sample = ic_now_ms() + h->cfg.timesync_ms;
	*out = h;
	return 0;
}

static int ic_host_start(struct vid_ic_host *h)
{
	int ret = pthread_create(&h->thread, NULL, ic_host_thread, h);

	if (ret)
		return -ret;
	h->started = true;
	return 0;
}

int vid_ic_host_create(int part_fd, const struct vid_ic_host_config *cfg,
		       struct vid_ic_host **out)
{
	struct vid_ic_host *h;
	uint8_t instance[16];
	int k, ret;

	ret = ic_host_alloc(cfg, &h);
	if (ret)
		return ret;
	for (k = 0; k < VID_IC_KINDS; k++) {
		if (!(h->cfg.services & (1U << k)))
			continue;
		memcpy(instance, ic_host_guids[k], sizeof(instance));
		instance[15] = 0x01 + k;
		ret = vid_vmbus_chan_offer(part_fd, ic_host_guids[k], instance,
					   VID_VMBUS_OFFER_NONBLOCK,
					   &h->s[k].ch);
		if (ret)
			goto err;
		h->s[k].svc = vid_ic_svc_new(k, h->s[k].ch, &h->cfg.svc);
		if (!h->s[k].svc) {
			ret = -errno;
			goto err;
		}
	}
	ret = ic_host_start(h);
	if (ret)
		goto err;
	*out = h;
	return 0;

err:
	vid_ic_host_destroy(h);
	return ret;
}

int vid_ic_host_create_local(struct vid_vmbus_chan *const chans[VID_IC_KINDS],
			     const struct vid_ic_host_config *cfg,
			     struct vid_ic_host **out)
{
	struct vid_ic_host *h;
	int k, ret;

	ret = ic_host_alloc(cfg, &h);
	if (ret)
		return ret;
	h->local = true;
	for (k = 0; k < VID_IC_KINDS; k++) {
		if (!(h->cfg.services & (1U << k)) || !chans[k])
			continue;
		h->s[k].ch = chans[k];
		h->s[k].svc = vid_ic_svc_new(k, chans[k], &h->cfg.svc);
		if (!h->s[k].svc) {
			ret = -errno;
			goto err;
		}
	}
	ret = ic_host_start(h);
	if (ret)
		goto err;
	*out = h;
	return 0;

err:
	vid_ic_host_destroy(h);
	return ret;
}

int vid_ic_host_local_open(struct vid_ic_host *h, enum vid_ic_kind kind)
{
	int ret;

	if ((unsigned int)kind >= VID_IC_KINDS || !h->s[kind].svc)
		return -ENODEV;
	pthread_mutex_lock(&h->lock);
	ret = vid_ic_svc_start(h->s[kind].svc);
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

void vid_ic_host_kick(struct vid_ic_host *h)
{
	uint64_t one = 1;

	/* Fails only with the counter full: the worker wakes up anyway. */
	if (write(h->wake_fd, &one, sizeof(one)) < 0)
		return;
}

void vid_ic_host_destroy(struct vid_ic_host *h)
{
	int k;

	if (!h)
		return;
	if (h->started) {
		pthread_mutex_lock(&h->lock);
		h->stop = true;
		pthread_mutex_unlock(&h->lock);
		vid_ic_host_kick(h);
		pthread_join(h->thread, NULL);
	}
	for (k = 0; k < VID_IC_KINDS; k++) {
		vid_ic_svc_free(h->s[k].svc);
		if (!h->local)
			vid_vmbus_chan_free(h->s[k].ch);
	}
	close(h->wake_fd);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static void ic_deadline(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Wait for the worker's next pass; -ETIMEDOUT past the deadline. */
static int ic_wait(struct vid_ic_host *h, const struct timespec *deadline)
{
	int ret;

	if (!deadline) {
		pthread_cond_wait(&h->cond, &h->lock);
		return 0;
	}
	ret = pthread_cond_timedwait(&h->cond, &h->lock, deadline);
	return ret == ETIMEDOUT ? -ETIMEDOUT : 0;
}

/* What one blocking call sends. */
struct ic_req {
	uint32_t flags;		/* shutdown, timesync */
	const char *text;	/* shutdown reason, KVP key */
	const char *value;	/* KVP SET */
	uint8_t op;		/* KVP */
	uint8_t pool;
	uint32_t index;
};

static int64_t ic_req_send(struct vid_ic_svc *svc, enum vid_ic_kind kind,
			   const struct ic_req *r)
{
	switch (kind) {
	case VID_IC_SHUTDOWN:
		return vid_ic_svc_shutdown(svc, r->flags, 0, 30, r->text);
	case VID_IC_TIMESYNC:
		return vid_ic_svc_timesync(svc, r->flags);
	case VID_IC_KVP:
		return vid_ic_svc_kvp(svc, r->op, r->pool, r->index, r->text,
				      r->value);
	default:
		return vid_ic_svc_heartbeat(svc);
	}
}

/*
 * Send @r on @kind's service once it is negotiated and free, then wait
 * for the answer; *@res gets it. Both waits share @timeout_ms.
 */
static int ic_call(struct vid_ic_host *h, enum vid_ic_kind kind,
		   const struct ic_req *r, int timeout_ms,
		   struct vid_ic_result *res)
{
	struct ic_host_svc *s;
	struct timespec deadline, *dl = NULL;
	struct vid_ic_info info;
	int64_t id;
	int ret;

	if ((unsigned int)kind >= VID_IC_KINDS || !h->s[kind].svc)
		return -ENODEV;
	s = &h->s[kind];
	if (timeout_ms >= 0) {
		ic_deadline(&deadline, timeout_ms);
		dl = &deadline;
	}
	pthread_mutex_lock(&h->lock);
	for (;;) {
		vid_ic_svc_info(s->svc, &info);
		if (info.state == VID_IC_FAILED) {
			ret = -EPROTONOSUPPORT;
			goto out;
		}
		if (info.state == VID_IC_READY && !s->hold) {
			id = ic_req_send(s->svc, kind, r);
			if (id > 0)
				break;
			/* -ENOTCONN: events first, which the worker reads */
			if (id != -EBUSY && id != -ENOTCONN) {
				ret = (int)id;
				goto out;
			}
		}
		ret = ic_wait(h, dl);
		if (ret)
			goto out;
	}
	s->hold = true;
	for (;;) {
		ret = vid_ic_svc_result(s->svc, id, res);
		if (!ret) {
			ret = res->err;
			break;
		}
		if (ret != -EINPROGRESS) {
			ret = -ENOTCONN;
			break;
		}
		ret = ic_wait(h, dl);
		if (ret)
			break;
	}
	s->hold = false;
out:
	pthread_mutex_unlock(&h->lock);
	return ret;
}

int vid_ic_shutdown_request(struct vid_ic_host *h, uint32_t flags,
			    const char *reason, int timeout_ms)
{
	struct ic_req r = { .flags = flags, .text = reason };
	struct vid_ic_result res;
	int ret;

	ret = ic_call(h, VID_IC_SHUTDOWN, &r, timeout_ms, &res);
	if (ret)
		return ret;
	return res.status == VID_IC_S_OK ? 0 : -EREMOTEIO;
}

static int ic_kvp_status(uint32_t status)
{
	if (status == VID_IC_S_OK)
		return 0;
	return status == VID_IC_S_CONT ? -ENOENT : -EREMOTEIO;
}

static int ic_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -ENOSPC;
	memcpy(dst, src, n + 1);
	return 0;
}

int vid_ic_kvp_enumerate(struct vid_ic_host *h, uint8_t pool, uint32_t index,
			 char *key, size_t key_size, char *value,
			 size_t value_size, int timeout_ms)
{
	struct ic_req r = {
		.op = VID_IC_KVP_OP_ENUMERATE, .pool = pool, .index = index,
	};
	struct vid_ic_result *res;
	int ret;

	/* Big (the key and value as UTF-8): not on a VP thread's stack. */
	res = malloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	ret = ic_call(h, VID_IC_KVP, &r, timeout_ms, res);
	if (!ret)
		ret = ic_kvp_status(res->status);
	if (!ret && key)
		ret = ic_copy(key, key_size, res->key);
	if (!ret && value)
		ret = ic_copy(value, value_size, res->value);
	free(res);
	return ret;
}

int vid_ic_kvp_get(struct vid_ic_host *h, uint8_t pool, const char *key,
		   char *value, size_t value_size, int timeout_ms)
{
	char *k = malloc(VID_IC_KVP_KEY_MAX), *v = malloc(VID_IC_KVP_VALUE_MAX);
	uint32_t i;
	int ret = -ENOENT;

	if (!k || !v) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < IC_KVP_MAX_ITEMS; i++) {
		ret = vid_ic_kvp_enumerate(h, pool, i, k, VID_IC_KVP_KEY_MAX,
					   v, VID_IC_KVP_VALUE_MAX,
					   timeout_ms);
		if (ret)
			break;
		if (!strcmp(k, key)) {
			ret = ic_copy(value, value_size, v);
			break;
		}
	}
	if (i == IC_KVP_MAX_ITEMS)
		ret = -ENOENT;
out:
	free(k);
	free(v);
	return ret;
}

int vid_ic_kvp_set(struct vid_ic_host *h, uint8_t pool, const char *key,
		   const char *value, int timeout_ms)
{
	struct ic_req r = {
		.op = VID_IC_KVP_OP_SET, .pool = pool, .text = key,
		.value = value,
	};
	struct vid_ic_result *res = malloc(sizeof(*res));
	int ret;

	if (!res)
		return -ENOMEM;
	ret = ic_call(h, VID_IC_KVP, &r, timeout_ms, res);
	if (!ret)
		ret = res->status == VID_IC_S_OK ? 0 : -EREMOTEIO;
	free(res);
	return ret;
}

int vid_ic_info(struct vid_ic_host *h, enum vid_ic_kind kind,
		struct vid_ic_info *info)
{
	if ((unsigned int)kind >= VID_IC_KINDS || !h->s[kind].svc)
		return -ENODEV;
	pthread_mutex_lock(&h->lock);
	vid_ic_svc_info(h->s[kind].svc, info);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

int vid_ic_heartbeat_stats(struct vid_ic_host *h, struct vid_ic_info *info)
{
	return vid_ic_info(h, VID_IC_HEARTBEAT, info);
}

int vid_ic_timesync_push(struct vid_ic_host *h, int timeout_ms)
{
	struct ic_req r = { .flags = VID_IC_TIMESYNC_SYNC };
	struct vid_ic_result *res = malloc(sizeof(*res));
	int ret;

	if (!res)
		return -ENOMEM;
	ret = ic_call(h, VID_IC_TIMESYNC, &r, timeout_ms, res);
	if (!ret && res->status != VID_IC_S_OK)
		ret = -EREMOTEIO;
	free(res);
	return ret;
}
