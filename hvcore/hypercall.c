// SPDX-License-Identifier: GPL-2.0
/*
 * Guest hypercalls: TLFS input decoding and the call table.
 */
#include "hvcore.h"

bool hv_hypercall(struct hv_vp *vp, struct hv_hypercall *hc)
{
	return false;
}
