// SPDX-License-Identifier: GPL-2.0
/*
 * Module-wide allocation accounting. Every object and page the VID takes
 * from the kernel goes through these helpers, so a test can check that
 * everything came back: /sys/kernel/debug/vid/stats shows one "key value"
 * per line:
 *   partitions  live partitions
 *   objects     live objects allocated with vid_kzalloc()
 *   bytes       their size
 *   pages       pages held from the page allocator (deposits included)
 *   pinned      guest RAM pages pinned in VMM memory
 *   virt_cpus   CPUs on which vid owns the virtualization hardware
 * /sys/kernel/debug/vid/vps is a snapshot of every VP (hvcore/dump.c).
 */
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "vid.h"

static atomic64_t vid_objects, vid_bytes, vid_pages, vid_partitions;
static atomic64_t vid_pinned;
static struct dentry *vid_debugfs;

void *vid_kzalloc(size_t size)
{
	void *obj = kzalloc(size, GFP_KERNEL_ACCOUNT);

	if (obj) {
		atomic64_inc(&vid_objects);
		atomic64_add(size, &vid_bytes);
	}
	return obj;
}

void vid_kfree(void *obj, size_t size)
{
	if (!obj)
		return;
	kfree(obj);
	atomic64_dec(&vid_objects);
	atomic64_sub(size, &vid_bytes);
}

void *vid_kvzalloc(size_t size)
{
	void *obj = kvzalloc(size, GFP_KERNEL_ACCOUNT);

	if (obj) {
		atomic64_inc(&vid_objects);
		atomic64_add(size, &vid_bytes);
	}
	return obj;
}

void vid_kvfree(void *obj, size_t size)
{
	if (!obj)
		return;
	kvfree(obj);
	atomic64_dec(&vid_objects);
	atomic64_sub(size, &vid_bytes);
}

void vid_stats_pinned(long delta)
{
	atomic64_add(delta, &vid_pinned);
}

/* Charged to the caller's memory cgroup. */
struct page *vid_page_alloc(void)
{
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT);

	if (page)
		atomic64_inc(&vid_pages);
	return page;
}

void vid_page_free(struct page *page)
{
	__free_page(page);
	atomic64_dec(&vid_pages);
}

void vid_stats_partition(int delta)
{
	atomic64_add(delta, &vid_partitions);
}

static int vid_stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "partitions %lld\n", atomic64_read(&vid_partitions));
	seq_printf(m, "objects %lld\n", atomic64_read(&vid_objects));
	seq_printf(m, "bytes %lld\n", atomic64_read(&vid_bytes));
	seq_printf(m, "pages %lld\n", atomic64_read(&vid_pages));
	seq_printf(m, "pinned %lld\n", atomic64_read(&vid_pinned));
	seq_printf(m, "virt_cpus %u\n", hv_core_virt_cpus());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vid_stats);

/*
 * "floor": reading it times 1000 bare world switches (needs a partition
 * to exist, so that virtualization is on) and prints the mean in ns.
 */
static int vid_floor_show(struct seq_file *m, void *unused)
{
	const u32 iterations = 1000;
	hv_status_t status;
	u64 ns;

	status = hv_call_measure_world_switch(iterations, &ns);
	if (status)
		return vid_status_to_errno(status);
	seq_printf(m, "world_switch_ns %llu\n", div_u64(ns, iterations));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vid_floor);

/* "vps": every VP's state (hv_call_dump_vps()), for finding a stuck one. */
static int vid_vps_show(struct seq_file *m, void *unused)
{
	hv_call_dump_vps(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vid_vps);

int vid_stats_init(void)
{
	/* debugfs is optional: failures are not fatal (debugfs API rule). */
	vid_debugfs = debugfs_create_dir("vid", NULL);
	debugfs_create_file("stats", 0400, vid_debugfs, NULL, &vid_stats_fops);
	debugfs_create_file("floor", 0400, vid_debugfs, NULL, &vid_floor_fops);
	debugfs_create_file("vps", 0400, vid_debugfs, NULL, &vid_vps_fops);
	return 0;
}

void vid_stats_exit(void)
{
	debugfs_remove_recursive(vid_debugfs);
	if (atomic64_read(&vid_objects) || atomic64_read(&vid_pages))
		pr_err("vid: leaked %lld objects and %lld pages\n",
		       atomic64_read(&vid_objects), atomic64_read(&vid_pages));
}
