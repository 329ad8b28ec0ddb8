/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's shared-memory primitives for userspace builds (unit tests,
 * fuzzers, native benchmarks) of code that reads and writes memory another
 * party changes concurrently: once-accessors, the virt_*() barriers that
 * order accesses against another (virtual) machine, struct kvec, and the
 * few helpers such code uses. Builds with gcc and clang, with or without
 * ThreadSanitizer: the once-accessors are relaxed atomics, which TSan
 * understands, and compile to the same plain loads and stores as the
 * kernel's volatile ones.
 */
#ifndef VID_KSHIM_SHMEM_H
#define VID_KSHIM_SHMEM_H

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kshim.h"

#ifndef PAGE_SHIFT
#define PAGE_SHIFT 12
#endif

#ifndef READ_ONCE
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#endif

/*
 * The barriers, as the kernel has them on x86-64: a full barrier is a
 * locked add to the stack (cheaper than mfence, ordering the same for
 * ordinary memory); read and write barriers, acquire and release only
 * keep the compiler from reordering, which the C11 fences say portably.
 */
#if defined(__x86_64__)
#define virt_mb() /* full barrier */					\
	__asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc")
#else
#define virt_mb() /* full barrier */					\
	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#define virt_rmb() /* loads before, loads after */			\
	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define virt_wmb() /* stores before, stores after */			\
	__atomic_thread_fence(__ATOMIC_RELEASE)
#define virt_load_acquire(p) /* later accesses after it */		\
	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define virt_store_release(p, v) /* earlier accesses before it */	\
	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

#ifndef ALIGN
#define ALIGN(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#endif
#ifndef IS_ALIGNED
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#endif

#ifndef min
#define min(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef max
#define max(a, b) ((a) > (b) ? (a) : (b))
#endif
#ifndef min_t
#define min_t(type, a, b) ((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#endif

#ifndef BIT
#define BIT(n) (1UL << (n))
#endif

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* As in <linux/uio.h>. */
struct kvec {
	void *iov_base;
	size_t iov_len;
};

#endif /* VID_KSHIM_SHMEM_H */
