// SPDX-License-Identifier: GPL-2.0
/*
 * SynIC: per-VP synthetic interrupt controller state.
 */
#include "synic.h"

hv_status_t hv_synic_create(struct hv_vp *vp)
{
	return HV_STATUS_SUCCESS;
}

void hv_synic_destroy(struct hv_vp *vp)
{
}

void hv_synic_init_reset(struct hv_vp *vp)
{
}

enum hv_msr_result hv_synic_msr_read(struct hv_vp *vp, u32 msr, u64 *value)
{
	return HV_MSR_ROOT;
}

enum hv_msr_result hv_synic_msr_write(struct hv_vp *vp, u32 msr, u64 value)
{
	return HV_MSR_ROOT;
}

void hv_synic_process(struct hv_vp *vp)
{
}

void hv_stimer_process(struct hv_vp *vp)
{
}

hv_status_t hv_synic_post_message(struct hv_vp *vp, u8 sint,
				  const struct hv_message *msg)
{
	return HV_STATUS_INVALID_VP_STATE;
}

hv_status_t hv_synic_signal_event(struct hv_vp *vp, u8 sint, u16 flag)
{
	return HV_STATUS_INVALID_VP_STATE;
}
