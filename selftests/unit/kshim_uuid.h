/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's guid_t (include/linux/uuid.h) for userspace builds of code
 * that carries GUIDs (vmbus/msg.h, vmbus/server.c).
 */
#ifndef VID_KSHIM_UUID_H
#define VID_KSHIM_UUID_H

#include <stdbool.h>
#include <string.h>

#include "kshim.h"

#define UUID_SIZE 16

typedef struct {
	u8 b[UUID_SIZE];
} guid_t;

#define GUID_INIT(a, b, c, d0, d1, d2, d3, d4, d5, d6, d7)		\
((guid_t){ { (a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff,	\
	     ((a) >> 24) & 0xff, (b) & 0xff, ((b) >> 8) & 0xff,		\
	     (c) & 0xff, ((c) >> 8) & 0xff,					\
	     (d0), (d1), (d2), (d3), (d4), (d5), (d6), (d7) } })

static inline bool guid_equal(const guid_t *a, const guid_t *b)
{
	return memcmp(a, b, sizeof(guid_t)) == 0;
}

#endif /* VID_KSHIM_UUID_H */
