// SPDX-License-Identifier: GPL-2.0
/*
 * Ports and connections.
 */
#include "synic.h"

hv_status_t hv_port_post_message(struct hv_vp *vp, u32 connection_id,
				 u32 message_type, const void *payload,
				 u32 payload_size)
{
	return HV_STATUS_INVALID_CONNECTION_ID;
}

hv_status_t hv_port_signal_event(struct hv_vp *vp, u32 connection_id,
				 u16 flag)
{
	return HV_STATUS_INVALID_CONNECTION_ID;
}

void hv_ports_destroy(struct hv_partition *p)
{
}
