// SPDX-License-Identifier: GPL-2.0
/*
 * Ownership of the virtualization hardware (EFER.SVME / VMXON).
 *
 * Hardware virtualization is on, on every online CPU, exactly while at
 * least one partition exists: the first hv_virt_get() turns it on, the
 * last hv_virt_put() turns it off, and a CPU that comes online in between
 * is turned on by the hotplug callback. A CPU found already owned by
 * another hypervisor makes the first get fail with
 * HV_STATUS_OPERATION_DENIED after undoing what this call did; state that
 * vid did not set is never touched.
 *
 * Emergency reboot/kexec: on 6.1 the kernel's emergency path disables SVM
 * for every user; on 6.12 the emergency "disable virtualization" hook is a
 * single slot that KVM claims (with a WARN if taken) whenever it enables
 * virtualization, so vid deliberately does not register it. A crash kernel
 * may then find EFER.SVME set; it is harmless for SVM. Kernels after 6.18
 * move this ownership into the core kernel: this file is the one place to
 * replace.
 *
 * Locking: cpu_hotplug_lock (cpus_read_lock) is taken before
 * hv_virt_lock, the same order the hotplug callbacks run in (they run
 * with the hotplug lock held for write and read hv_virt_on only).
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/smp.h>

#include "arch.h"
#include "hvcore.h"

static DEFINE_MUTEX(hv_virt_lock);
static unsigned int hv_virt_users;	/* partitions alive; hv_virt_lock */
static bool hv_virt_on;			/* both locks to write, either to read */
static enum cpuhp_state hv_virt_cpuhp;
static DEFINE_PER_CPU(void *, hv_virt_host_save);
static DEFINE_PER_CPU(bool, hv_virt_owned);
static atomic_t hv_virt_cpus_on = ATOMIC_INIT(0);

struct hv_virt_enable_result {
	atomic_t failed;
	int cpu;
};

static int hv_virt_enable_this_cpu(void)
{
	int r;

	if (__this_cpu_read(hv_virt_owned))
		return 0;
	r = hv_arch->hardware_enable_cpu(__this_cpu_read(hv_virt_host_save));
	if (!r) {
		__this_cpu_write(hv_virt_owned, true);
		atomic_inc(&hv_virt_cpus_on);
	}
	return r;
}

static void hv_virt_disable_this_cpu(void)
{
	if (!__this_cpu_read(hv_virt_owned))
		return;
	hv_arch->hardware_disable_cpu();
	__this_cpu_write(hv_virt_owned, false);
	atomic_dec(&hv_virt_cpus_on);
}

static void hv_virt_enable_ipi(void *data)
{
	struct hv_virt_enable_result *res = data;

	if (hv_virt_enable_this_cpu() && atomic_inc_return(&res->failed) == 1)
		res->cpu = smp_processor_id();
}

static void hv_virt_disable_ipi(void *unused)
{
	hv_virt_disable_this_cpu();
}

static void hv_virt_release_host_save(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		void *page = per_cpu(hv_virt_host_save, cpu);

		if (page)
			hv_pool_free(&hv_root_pool, page);
		per_cpu(hv_virt_host_save, cpu) = NULL;
	}
}

static hv_status_t hv_virt_take_host_save(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		void *page = hv_pool_alloc(&hv_root_pool);

		if (!page) {
			hv_virt_release_host_save();
			return HV_STATUS_INSUFFICIENT_MEMORY;
		}
		per_cpu(hv_virt_host_save, cpu) = page;
	}
	return HV_STATUS_SUCCESS;
}

static hv_status_t hv_virt_turn_on(void)
{
	struct hv_virt_enable_result res = { .failed = ATOMIC_INIT(0) };
	hv_status_t status;

	status = hv_virt_take_host_save();
	if (status)
		return status;

	on_each_cpu(hv_virt_enable_ipi, &res, 1);
	if (atomic_read(&res.failed)) {
		on_each_cpu(hv_virt_disable_ipi, NULL, 1);
		hv_virt_release_host_save();
		pr_warn_ratelimited("vid: %s is already in use on CPU %d by another hypervisor (kvm_amd turns it on at load on 6.12): unload kvm_amd, or load kvm with enable_virt_at_load=0\n",
				    hv_arch->name, res.cpu);
		return HV_STATUS_OPERATION_DENIED;
	}
	hv_virt_on = true;
	return HV_STATUS_SUCCESS;
}

static void hv_virt_turn_off(void)
{
	hv_virt_on = false;
	on_each_cpu(hv_virt_disable_ipi, NULL, 1);
	hv_virt_release_host_save();
}

hv_status_t hv_virt_get(void)
{
	hv_status_t status = HV_STATUS_SUCCESS;

	cpus_read_lock();
	mutex_lock(&hv_virt_lock);
	if (!hv_virt_users)
		status = hv_virt_turn_on();
	if (!status)
		hv_virt_users++;
	mutex_unlock(&hv_virt_lock);
	cpus_read_unlock();
	return status;
}

void hv_virt_put(void)
{
	cpus_read_lock();
	mutex_lock(&hv_virt_lock);
	if (!--hv_virt_users)
		hv_virt_turn_off();
	mutex_unlock(&hv_virt_lock);
	cpus_read_unlock();
}

u64 hv_virt_host_save_pa(void)
{
	return __pa(__this_cpu_read(hv_virt_host_save));
}

hv_status_t hv_call_measure_world_switch(u32 iterations, u64 *ns)
{
	hv_status_t status = HV_STATUS_SUCCESS;

	/* Holding the lock keeps virtualization on for the measurement. */
	mutex_lock(&hv_virt_lock);
	if (!hv_virt_users)
		status = HV_STATUS_INVALID_PARTITION_STATE;
	else if (hv_arch->measure_floor(iterations, ns))
		status = HV_STATUS_INSUFFICIENT_MEMORY;
	mutex_unlock(&hv_virt_lock);
	return status;
}

unsigned int hv_core_virt_cpus(void)
{
	return atomic_read(&hv_virt_cpus_on);
}

/* Hotplug callbacks: run on @cpu, preemptible, hotplug lock held. */
static int hv_virt_cpu_online(unsigned int cpu)
{
	int r = 0;

	if (!hv_virt_on)
		return 0;
	local_irq_disable();
	r = hv_virt_enable_this_cpu();
	local_irq_enable();
	if (r)
		pr_warn("vid: cannot enable %s on CPU %u: another hypervisor owns it\n",
			hv_arch->name, cpu);
	return r;
}

static int hv_virt_cpu_offline(unsigned int cpu)
{
	local_irq_disable();
	hv_virt_disable_this_cpu();
	local_irq_enable();
	return 0;
}

int hv_virt_init(void)
{
	int r;

	r = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "vid/virt:online",
				      hv_virt_cpu_online, hv_virt_cpu_offline);
	if (r < 0)
		return r;
	hv_virt_cpuhp = r;
	return 0;
}

void hv_virt_exit(void)
{
	cpuhp_remove_state_nocalls(hv_virt_cpuhp);
}
