// SPDX-License-Identifier: GPL-2.0
/*
 * The port and MMIO dispatch table. Each address space has an immutable
 * sorted array of ranges; VP threads find a handler by binary search
 * inside an RCU read-side section (liburcu, memory-barrier flavour),
 * taking no lock. io_register() copies the array with the new range in
 * place, publishes the copy and frees the old one after a grace period;
 * registrations are serialized by a mutex only writers take.
 *
 * An access no range claims reads as all ones and is dropped on write,
 * as on a bus with nothing behind the address (logged with --verbose).
 */
#define RCU_MEMB
#include <urcu.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vidvm.h"

struct io_range {
	uint64_t base;
	uint64_t len;
	struct io_handler h;
};

struct io_table {
	unsigned int n;
	struct io_range r[];
};

static struct io_table *tables[2];
static pthread_mutex_t io_writer_lock = PTHREAD_MUTEX_INITIALIZER;

int io_init(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		tables[i] = calloc(1, sizeof(struct io_table));
		if (!tables[i])
			return -ENOMEM;
	}
	return 0;
}

void io_exit(void)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		free(tables[i]);
		tables[i] = NULL;
	}
}

int io_register(enum io_space space, uint64_t base, uint64_t len,
		const struct io_handler *h)
{
	struct io_table *old, *new;
	unsigned int i, at;

	if (!len || base + len < base)
		return -EINVAL;
	pthread_mutex_lock(&io_writer_lock);
	old = tables[space];
	for (at = 0; at < old->n && old->r[at].base < base; at++)
		;
	/* No overlap with the neighbours on either side. */
	if ((at > 0 && old->r[at - 1].base + old->r[at - 1].len > base) ||
	    (at < old->n && base + len > old->r[at].base)) {
		pthread_mutex_unlock(&io_writer_lock);
		return -EEXIST;
	}
	new = malloc(sizeof(*new) + (old->n + 1) * sizeof(new->r[0]));
	if (!new) {
		pthread_mutex_unlock(&io_writer_lock);
		return -ENOMEM;
	}
	new->n = old->n + 1;
	for (i = 0; i < at; i++)
		new->r[i] = old->r[i];
	new->r[at].base = base;
	new->r[at].len = len;
	new->r[at].h = *h;
	for (i = at; i < old->n; i++)
		new->r[i + 1] = old->r[i];
	rcu_assign_pointer(tables[space], new);
	pthread_mutex_unlock(&io_writer_lock);
	synchronize_rcu();
	free(old);
	return 0;
}

/* The range holding [addr, addr + size), or NULL. Under rcu_read_lock(). */
static const struct io_range *io_find(enum io_space space, uint64_t addr,
				      unsigned int size)
{
	const struct io_table *t = rcu_dereference(tables[space]);
	unsigned int lo = 0, hi = t->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < t->r[mid].base)
			hi = mid;
		else if (addr - t->r[mid].base >= t->r[mid].len)
			lo = mid + 1;
		else
			return addr - t->r[mid].base + size <= t->r[mid].len ?
			       &t->r[mid] : NULL;
	}
	return NULL;
}

static const char *space_name(enum io_space space)
{
	return space == IO_PORT ? "port" : "mmio";
}

uint64_t io_read(enum io_space space, uint64_t addr, unsigned int size)
{
	const struct io_range *r;
	uint64_t v = ~0ULL;

	rcu_read_lock();
	r = io_find(space, addr, size);
	if (r && r->h.read)
		v = r->h.read(r->h.opaque, addr - r->base, size);
	else if (!r && vm.verbose)
		fprintf(stderr, "vidvm: unclaimed %s read %#llx/%u\n",
			space_name(space), (unsigned long long)addr, size);
	rcu_read_unlock();
	return size >= 8 ? v : v & ((1ULL << (size * 8)) - 1);
}

void io_write(enum io_space space, uint64_t addr, unsigned int size,
	      uint64_t value)
{
	const struct io_range *r;

	rcu_read_lock();
	r = io_find(space, addr, size);
	if (r && r->h.write)
		r->h.write(r->h.opaque, addr - r->base, size, value);
	else if (!r && vm.verbose)
		fprintf(stderr, "vidvm: unclaimed %s write %#llx/%u = %#llx\n",
			space_name(space), (unsigned long long)addr, size,
			(unsigned long long)value);
	rcu_read_unlock();
}

void io_thread_online(void)
{
	rcu_register_thread();
}

void io_thread_offline(void)
{
	rcu_unregister_thread();
}
