// SPDX-License-Identifier: GPL-2.0
/*
 * Diagnostics: a text snapshot of every VP of every partition (the
 * debugfs file vid/vps). What a VP's thread is doing, its requests, its
 * vLAPIC, SynIC and backend event state, for finding a VP that waits for
 * something that never comes.
 *
 * The VPs keep running while they are read: each value is read once, and
 * values of one VP may come from different instants. The partition's lock
 * keeps its VPs from being deleted meanwhile.
 */
#include <linux/seq_file.h>
#include <linux/xarray.h>

#include "../synic/synic.h"
#include "arch.h"
#include "hvcore.h"
#include "lapic.h"

static void hv_vp_dump(struct hv_vp *vp, struct seq_file *m)
{
	seq_printf(m, "partition %llu vp %u: claim %d mode %d cpu %d kick %d activity %d requests %#lx runtime_ns %llu\n",
		   vp->partition->id, vp->index, atomic_read(&vp->claim),
		   READ_ONCE(vp->mode), READ_ONCE(vp->cpu), READ_ONCE(vp->kick),
		   READ_ONCE(vp->activity), READ_ONCE(vp->requests),
		   READ_ONCE(vp->runtime_ns));
	hv_lapic_dump(vp, m);
	hv_synic_dump(vp, m);
	if (hv_arch->vp_dump)
		hv_arch->vp_dump(vp, m);
}

void hv_call_dump_vps(struct seq_file *m)
{
	struct hv_partition *p;
	unsigned long id = 0;
	struct hv_vp *vp;
	u32 i;

	while ((p = hv_partition_get_next(&id))) {
		mutex_lock(&p->lock);
		for (i = 0; !p->deleted && i < p->max_vp_count; i++) {
			vp = hv_vp_rcu(p, i);
			if (vp)
				hv_vp_dump(vp, m);
		}
		mutex_unlock(&p->lock);
		hv_partition_put(p);
		id++;
	}
}
