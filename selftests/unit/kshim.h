/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel's API for hardware-independent hvcore files
 * (pool.c, ...) to build as userspace C for unit tests and fuzzers.
 */
#ifndef VID_KSHIM_H
#define VID_KSHIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

#define PAGE_SIZE 4096UL

typedef struct {
	pthread_mutex_t m;
} spinlock_t;

static inline void spin_lock_init(spinlock_t *l)
{
	pthread_mutex_init(&l->m, NULL);
}

static inline void spin_lock(spinlock_t *l)
{
	pthread_mutex_lock(&l->m);
}

static inline void spin_unlock(spinlock_t *l)
{
	pthread_mutex_unlock(&l->m);
}

#endif /* VID_KSHIM_H */
