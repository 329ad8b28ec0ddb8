// SPDX-License-Identifier: LGPL-2.1
/*
 * libvid: a one-line command interface to the integration services, for
 * a VMM's control console (vidvm) or a CLI: vid_ic_command() in
 * vmbus_ic.h lists the commands.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus_ic.h"

#define CMD_MAX_WORDS	4

static const char *const cmd_pools[VID_IC_KVP_POOL_COUNT] = {
	"external", "guest", "auto", "auto_external", "auto_internal",
};

static int cmd_pool(const char *name, uint8_t def)
{
	int i;

	if (!name)
		return def;
	for (i = 0; i < VID_IC_KVP_POOL_COUNT; i++)
		if (!strcmp(name, cmd_pools[i]))
			return i;
	return -EINVAL;
}

/* Split @line in place into at most CMD_MAX_WORDS words; the last
 * one takes the rest of the line (a reason text, a KVP value).
 */
static int cmd_split(char *line, char **w, int last_rest)
{
	int n = 0;

	while (n < CMD_MAX_WORDS) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '\n')
			break;
		w[n++] = line;
		if (n == last_rest) {
			line += strcspn(line, "\n");
			*line = 0;
			break;
		}
		line += strcspn(line, " \t\n");
		if (*line)
			*line++ = 0;
	}
	return n;
}

static void cmd_status(struct vid_ic_host *h, FILE *out)
{
	struct vid_ic_info i;
	int k;

	for (k = 0; k < VID_IC_KINDS; k++) {
		if (vid_ic_info(h, k, &i))
			continue;
		fprintf(out, "%s: %s framework %u.%u version %u.%u requests %llu answers %llu bad %llu stale %llu",
			vid_ic_kind_name(k), vid_ic_state_name(i.state),
			VID_IC_MAJOR(i.framework), VID_IC_MINOR(i.framework),
			VID_IC_MAJOR(i.version), VID_IC_MINOR(i.version),
			(unsigned long long)i.requests,
			(unsigned long long)i.answers,
			(unsigned long long)i.bad,
			(unsigned long long)i.stale);
		if (k == VID_IC_HEARTBEAT)
			fprintf(out, " beats %llu missed %llu stalls %llu%s",
				(unsigned long long)i.beats,
				(unsigned long long)i.missed,
				(unsigned long long)i.stalls,
				i.stalled ? " STALLED" : "");
		if (k == VID_IC_TIMESYNC)
			fprintf(out, " samples %llu",
				(unsigned long long)i.samples);
		fputc('\n', out);
	}
}

static int cmd_kvp(struct vid_ic_host *h, char **w, int n, FILE *out,
		   int timeout_ms)
{
	char *key, *value;
	uint32_t i;
	int pool, ret;

	if (n >= 3 && !strcmp(w[1], "get")) {
		pool = cmd_pool(n > 3 ? w[3] : NULL, VID_IC_KVP_POOL_AUTO);
		if (pool < 0)
			return pool;
		value = malloc(VID_IC_KVP_VALUE_MAX);
		if (!value)
			return -ENOMEM;
		ret = vid_ic_kvp_get(h, pool, w[2], value, VID_IC_KVP_VALUE_MAX,
				     timeout_ms);
		if (!ret)
			fprintf(out, "%s=%s\n", w[2], value);
		free(value);
		return ret;
	}
	if (n >= 2 && !strcmp(w[1], "list")) {
		pool = cmd_pool(n > 2 ? w[2] : NULL, VID_IC_KVP_POOL_AUTO);
		if (pool < 0)
			return pool;
		key = malloc(VID_IC_KVP_KEY_MAX);
		value = malloc(VID_IC_KVP_VALUE_MAX);
		ret = -ENOMEM;
		for (i = 0; key && value; i++) {
			ret = vid_ic_kvp_enumerate(h, pool, i, key,
						   VID_IC_KVP_KEY_MAX, value,
						   VID_IC_KVP_VALUE_MAX,
						   timeout_ms);
			if (ret)
				break;
			fprintf(out, "%s=%s\n", key, value);
		}
		free(key);
		free(value);
		return ret == -ENOENT ? 0 : ret;
	}
	if (n == 4 && !strcmp(w[1], "set"))
		return vid_ic_kvp_set(h, VID_IC_KVP_POOL_EXTERNAL, w[2], w[3],
				      timeout_ms);
	return -EINVAL;
}

int vid_ic_command(struct vid_ic_host *h, const char *line, FILE *out,
		   int timeout_ms)
{
	static const struct {
		const char *name;
		uint32_t flags;
	} shutdowns[] = {
		{ "shutdown", VID_IC_SHUTDOWN_POWEROFF },
		{ "reboot", VID_IC_SHUTDOWN_REBOOT },
		{ "hibernate", VID_IC_SHUTDOWN_HIBERNATE },
	};
	char *buf, *w[CMD_MAX_WORDS];
	struct vid_ic_info info;
	unsigned int i;
	int n, ret = -EINVAL;

	buf = strdup(line);
	if (!buf)
		return -ENOMEM;
	/* "kvp set KEY VALUE...": the value may hold spaces. */
	n = cmd_split(buf, w, !strncmp(line, "kvp", 3) ? 4 : 2);
	if (!n)
		goto out;
	for (i = 0; i < sizeof(shutdowns) / sizeof(shutdowns[0]); i++) {
		if (strcmp(w[0], shutdowns[i].name))
			continue;
		ret = vid_ic_shutdown_request(h, shutdowns[i].flags,
					      n > 1 ? w[1] : "vidvm",
					      timeout_ms);
		if (!ret)
			fprintf(out, "%s: accepted by the guest\n", w[0]);
		goto out;
	}
	if (!strcmp(w[0], "status")) {
		cmd_status(h, out);
		ret = 0;
	} else if (!strcmp(w[0], "heartbeat")) {
		ret = vid_ic_heartbeat_stats(h, &info);
		if (!ret)
			fprintf(out, "heartbeat: %s beats %llu missed %llu last_seq %llu%s\n",
				vid_ic_state_name(info.state),
				(unsigned long long)info.beats,
				(unsigned long long)info.missed,
				(unsigned long long)info.last_seq,
				info.stalled ? " STALLED" : "");
	} else if (!strcmp(w[0], "timesync")) {
		ret = vid_ic_timesync_push(h, timeout_ms);
		if (!ret)
			fprintf(out, "timesync: guest clock set\n");
	} else if (!strcmp(w[0], "kvp")) {
		ret = cmd_kvp(h, w, n, out, timeout_ms);
	}
out:
	free(buf);
	return ret;
}
